// SPDX-License-Identifier: GPL-3.0-or-later
// Apply latency of the helper, from the D-Bus call to its reply, with the rules live in the
// kernel. For each size N it times the replace of the whole set as Portico's clients send it
// (HelperClient::replaceForwards: ImportForwards with the list in a sealed memory file) into an
// empty table and over N others, the same list as ReplaceForwards' aa{sv} into an empty table,
// then AddForward of one more and its RemoveForward, a few times over. It also writes the
// equivalent rulesets for the other tools (nft map, nft linear, iptables-restore), so that
// bench/run.py can time those in the same run. Prints one JSON object per line.
#include "dbus_types.h"
#include "forward.h"
#include "helper_client.h"
#include "ruleset_writer.h"
#include "serialization.h"

#include <QCoreApplication>
#include <QDBusConnection>
#include <QDBusMessage>
#include <QDBusMetaType>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTextStream>

#include <algorithm>
#include <cstdio>

using namespace portico;

namespace {

const QString service = QStringLiteral("io.github.portico.Helper1");
const QString path = QStringLiteral("/io/github/portico/Helper1");

// Forward i of a benchmark set: distinct claims (address . port), all to the one LAN server.
Forward benchForward(int i) {
    Forward f;
    f.name = QStringLiteral("bench-%1").arg(i);
    f.protocol = Protocol::Tcp;
    f.externalAddress = QHostAddress(QStringLiteral("203.0.113.%1").arg(1 + i / 50000));
    f.externalPort.first = f.externalPort.last = quint16(10000 + i % 50000);
    f.targetAddress = QHostAddress(QStringLiteral("198.51.100.10"));
    f.targetPort.first = f.targetPort.last = 8080;
    return f;
}

QDBusMessage call(QDBusConnection &bus, const QString &method, const QVariantList &args) {
    QDBusMessage m = QDBusMessage::createMethodCall(service, path, service, method);
    m.setArguments(args);
    return bus.call(m, QDBus::Block, 600000);
}

quint64 generation(QDBusConnection &bus) {
    QDBusMessage r = call(bus, QStringLiteral("ListForwards"), {});
    return r.arguments().value(1).toULongLong();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

void writeFile(const QString &name, const QString &text) {
    QFile f(name);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
        std::fprintf(stderr, "cannot write %s\n", qPrintable(name));
        std::exit(1);
    }
    f.write(text.toUtf8());
}

// The same forwards the way the seed posts write them: one DNAT rule and one ACCEPT rule each.
void writeEquivalents(const QString &dir, int n, const QList<Forward> &forwards) {
    QList<Forward> withIds = forwards;
    for (int i = 0; i < withIds.size(); ++i)
        withIds[i].id = Forward::idForMark(quint32(i + 1));
    writeFile(QStringLiteral("%1/map-%2.nft").arg(dir).arg(n), renderRuleset(withIds));

    QString linear;
    QTextStream l(&linear);
    l << "table ip seedlinear\ndelete table ip seedlinear\ntable ip seedlinear {\n"
      << "  chain prerouting { type nat hook prerouting priority dstnat; policy accept;\n";
    for (const Forward &f : forwards)
        l << "    ip daddr " << f.externalAddress.toString() << " tcp dport "
          << f.externalPort.first << " dnat to " << f.targetAddress.toString() << ":"
          << f.targetPort.first << "\n";
    l << "  }\n  chain forward { type filter hook forward priority filter; policy accept;\n";
    for (const Forward &f : forwards)
        l << "    ip daddr " << f.targetAddress.toString() << " tcp dport " << f.targetPort.first
          << " ct original proto-dst " << f.externalPort.first << " accept\n";
    l << "  }\n}\n";
    l.flush();
    writeFile(QStringLiteral("%1/linear-%2.nft").arg(dir).arg(n), linear);

    QString ipt;
    QTextStream t(&ipt);
    t << "*nat\n:PREROUTING ACCEPT [0:0]\n";
    for (const Forward &f : forwards)
        t << "-A PREROUTING -d " << f.externalAddress.toString() << "/32 -p tcp --dport "
          << f.externalPort.first << " -j DNAT --to-destination " << f.targetAddress.toString()
          << ":" << f.targetPort.first << "\n";
    t << "COMMIT\n*filter\n:FORWARD ACCEPT [0:0]\n";
    for (const Forward &f : forwards)
        t << "-A FORWARD -d " << f.targetAddress.toString() << "/32 -p tcp --dport "
          << f.targetPort.first << " -j ACCEPT\n";
    t << "COMMIT\n";
    t.flush();
    writeFile(QStringLiteral("%1/iptables-%2.rules").arg(dir).arg(n), ipt);
}

} // namespace

int main(int argc, char **argv) {
    QCoreApplication app(argc, argv);
    const QStringList a = app.arguments();
    auto opt = [&](const QString &name, const QString &def) {
        int i = a.indexOf(name);
        return i > 0 && i + 1 < a.size() ? a[i + 1] : def;
    };
    const QString address = opt(QStringLiteral("--bus"), QString());
    const QString dir = opt(QStringLiteral("--out-dir"), QStringLiteral("."));
    const int reps = opt(QStringLiteral("--reps"), QStringLiteral("3")).toInt();
    const int addCycles = opt(QStringLiteral("--add-cycles"), QStringLiteral("5")).toInt();
    registerDBusTypes();

    HelperClient client(address);
    QDBusConnection bus = QDBusConnection::connectToBus(address, QStringLiteral("bench"));
    if (!bus.isConnected()) {
        std::fprintf(stderr, "cannot connect to %s\n", qPrintable(address));
        return 1;
    }
    for (const QString &s : opt(QStringLiteral("--sizes"), QStringLiteral("1,1000")).split(u',')) {
        const int n = s.toInt();
        QList<Forward> forwards;
        for (int i = 0; i < n; ++i)
            forwards.append(benchForward(i));
        // As a caller without file descriptors would send it.
        const QVariant list = QVariant::fromValue(BusForwardList{forwards, BusKeys::Request, {}});
        writeEquivalents(dir, n, forwards);

        std::vector<double> emptyMs, replaceMs, busListMs, addMs, removeMs;
        QElapsedTimer t;
        // Timed from before the client builds its file to the reply, as a user waits for it.
        auto replace = [&](const QList<Forward> &with, std::vector<double> *ms) {
            const quint64 gen = generation(bus);
            t.restart();
            const auto r = client.replaceForwards(with, gen);
            if (ms)
                ms->push_back(t.nsecsElapsed() / 1e6);
            if (!r.ok())
                std::fprintf(stderr, "replace with %lld: %s\n", qlonglong(with.size()),
                             qPrintable(r.error.message));
            return r.ok();
        };
        auto replaceOnBus = [&](std::vector<double> *ms) {
            const quint64 gen = generation(bus);
            t.restart();
            const QDBusMessage reply =
                call(bus, QStringLiteral("ReplaceForwards"), {list, QVariant::fromValue(gen)});
            ms->push_back(t.nsecsElapsed() / 1e6);
            if (reply.type() == QDBusMessage::ErrorMessage)
                std::fprintf(stderr, "ReplaceForwards(%d): %s\n", n,
                             qPrintable(reply.errorMessage()));
            return reply.type() != QDBusMessage::ErrorMessage;
        };
        for (int r = 0; r < reps; ++r) {
            // Into an empty table, as `nft -f` loads into an empty namespace; then the same list
            // again over it, which the helper takes as all new forwards (new ids): every mark
            // changes, so most of the table's elements are deleted and added.
            if (!replace({}, nullptr) || !replace(forwards, &emptyMs) ||
                !replace(forwards, &replaceMs) || !replace({}, nullptr) ||
                !replaceOnBus(&busListMs))
                return 1;
            QDBusMessage reply;
            // Several adds and removes after each replace: the first one after a replace of
            // 100,000 also pays for the file system settling the 26 MB just written.
            for (int c = 0; c < addCycles; ++c) {
                Forward extra = benchForward(n + 1 + c);
                extra.name = QStringLiteral("bench-extra-%1").arg(c);
                t.restart();
                reply = call(bus, QStringLiteral("AddForward"),
                             {forwardToVariantMap(extra, BusKeys::Request)});
                addMs.push_back(t.nsecsElapsed() / 1e6);
                if (reply.type() == QDBusMessage::ErrorMessage) {
                    std::fprintf(stderr, "AddForward: %s\n", qPrintable(reply.errorMessage()));
                    return 1;
                }
                const QString id = reply.arguments().value(0).toString();
                t.restart();
                reply = call(bus, QStringLiteral("RemoveForward"), {id});
                removeMs.push_back(t.nsecsElapsed() / 1e6);
            }
        }
        QJsonObject o{{QStringLiteral("forwards"), n},
                      {QStringLiteral("replace_ms"), median(replaceMs)},
                      {QStringLiteral("into_empty_ms"), median(emptyMs)},
                      {QStringLiteral("bus_list_into_empty_ms"), median(busListMs)},
                      {QStringLiteral("add_one_ms"), median(addMs)},
                      {QStringLiteral("remove_one_ms"), median(removeMs)}};
        std::printf("%s\n", QJsonDocument(o).toJson(QJsonDocument::Compact).constData());
        std::fflush(stdout);
    }
    return 0;
}
