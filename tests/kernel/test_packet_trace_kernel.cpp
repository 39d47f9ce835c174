// SPDX-License-Identifier: GPL-3.0-or-later
// PacketTrace against the real kernel, without the bus: in a network namespace of the test's
// own, a trace of a forward sees the gateway's own datagrams at the output hook, through our
// DNAT and then a foreign chain that drops them, and leaves the ruleset as it found it.
#include "packet_trace.h"
#include "ruleset_writer.h"

#include "kernel_netns.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTest>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace portico;
using portico::kerneltest::Netns;

namespace {

// Datagrams from the namespace to 192.0.2.1, its own address: the output hook first.
int sendDatagrams(quint16 port, int count) {
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    inet_pton(AF_INET, "192.0.2.1", &to.sin_addr);
    int sent = 0;
    for (int i = 0; i < count; ++i)
        sent += sendto(fd, "ping", 4, 0, reinterpret_cast<sockaddr *>(&to), sizeof to) == 4;
    close(fd);
    return sent;
}

QList<QJsonObject> readLines(int fd, const std::function<bool(const QList<QJsonObject> &)> &done) {
    QList<QJsonObject> lines;
    QByteArray buf;
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < 5000 && !done(lines)) {
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
        char chunk[4096];
        const ssize_t n = read(fd, chunk, sizeof chunk);
        if (n > 0)
            buf.append(chunk, n);
        qsizetype nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
            lines << QJsonDocument::fromJson(buf.left(nl)).object();
            buf.remove(0, nl + 1);
        }
    }
    return lines;
}

} // namespace

class TestPacketTraceKernel : public QObject {
    Q_OBJECT
private slots:
    void localTrafficThroughOurChainsAndAForeignDrop();
    void aChainGoneMeanwhileStillLeavesNoTrace();
};

void TestPacketTraceKernel::localTrafficThroughOurChainsAndAForeignDrop() {
    ENTER_NETNS(ns);
    QCOMPARE(ns.exec(QStringLiteral("ip"), {QStringLiteral("link"), QStringLiteral("set"),
                                            QStringLiteral("lo"), QStringLiteral("up")}),
             0);
    QCOMPARE(ns.exec(QStringLiteral("ip"),
                     {QStringLiteral("addr"), QStringLiteral("add"), QStringLiteral("192.0.2.1/32"),
                      QStringLiteral("dev"), QStringLiteral("lo")}),
             0);
    // Somewhere for our output DNAT (to 198.51.100.10:53) to route the datagrams.
    for (const QString &cmd :
         {QStringLiteral("link add d0 type veth peer name d1"), QStringLiteral("link set d1 up"),
          QStringLiteral("link set d0 up"), QStringLiteral("addr add 198.51.100.1/24 dev d0")})
        QCOMPARE(ns.exec(QStringLiteral("ip"), cmd.split(QLatin1Char(' '))), 0);
    QString out;
    QVERIFY2(ns.load("table ip guard {\n"
                     "\tchain out {\n"
                     "\t\ttype filter hook output priority 10; policy accept;\n"
                     "\t\tip daddr 198.51.100.10 udp dport 53 drop\n"
                     "\t}\n"
                     "}\n",
                     &out) == 0,
             qPrintable(out));
    RulesetWriter writer;
    Forward dns;
    dns.id = QStringLiteral("f1");
    dns.name = QStringLiteral("dns");
    dns.protocol = Protocol::Udp;
    dns.externalPort = {5353, 5353};
    dns.targetAddress = QHostAddress(QStringLiteral("198.51.100.10"));
    dns.targetPort = {53, 53};
    QVERIFY(writer.apply({dns}).ok());
    QString before;
    ns.exec(QStringLiteral("nft"), {QStringLiteral("list"), QStringLiteral("ruleset")}, {},
            &before);

    int fds[2];
    QCOMPARE(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
    PacketTrace trace(&writer, 42, QStringLiteral(":1.1"), fds[1], dns, 5);
    QSignalSpy finished(&trace, &PacketTrace::finished);
    QCOMPARE(trace.start(), QString());
    QString during;
    ns.exec(QStringLiteral("nft"),
            {QStringLiteral("list"), QStringLiteral("table"), QStringLiteral("inet"),
             QStringLiteral("portico")},
            {}, &during);
    QVERIFY2(during.contains(QLatin1String("chain trace42_out")), qPrintable(during));

    sendDatagrams(5353, 2); // DNATed by us, then dropped by ip guard out (sendto says EPERM)
    const QList<QJsonObject> lines = readLines(fds[0], [](const QList<QJsonObject> &l) {
        int drops = 0;
        for (const QJsonObject &o : l)
            drops += o.value(QLatin1String("verdict")) == QLatin1String("drop");
        return drops >= 2;
    });
    QVERIFY2(!lines.isEmpty(), "no trace events for the gateway's own datagrams");
    QSet<int> packets;
    for (const QJsonObject &o : lines) {
        packets << o.value(QLatin1String("packet")).toInt();
        QCOMPARE(o.value(QLatin1String("hook")).toString(), QStringLiteral("output"));
        QVERIFY(!o.value(QLatin1String("chain")).toString().startsWith(QLatin1String("trace")));
    }
    QCOMPARE(packets, (QSet<int>{1, 2}));
    // Our output chain (priority -100) first, then the foreign drop at 10.
    const QJsonObject &first = lines.first();
    QCOMPARE(first.value(QLatin1String("table")).toString(), QStringLiteral("portico"));
    QCOMPARE(first.value(QLatin1String("family")).toString(), QStringLiteral("inet"));
    QVERIFY(first.value(QLatin1String("src")).toString().startsWith(QLatin1String("192.0.2.1:")));
    QCOMPARE(first.value(QLatin1String("dst")).toString(), QStringLiteral("192.0.2.1:5353"));
    QJsonObject drop;
    for (const QJsonObject &o : lines) {
        if (o.value(QLatin1String("packet")).toInt() == 1 &&
            o.value(QLatin1String("verdict")) == QLatin1String("drop"))
            drop = o;
    }
    QCOMPARE(drop.value(QLatin1String("table")).toString(), QStringLiteral("guard"));
    QCOMPARE(drop.value(QLatin1String("family")).toString(), QStringLiteral("ip"));
    QCOMPARE(drop.value(QLatin1String("chain")).toString(), QStringLiteral("out"));
    QCOMPARE(drop.value(QLatin1String("type")).toString(), QStringLiteral("rule"));
    QVERIFY(drop.value(QLatin1String("handle")).toInteger() > 0);
    // The foreign chain sees the packet after our DNAT.
    QCOMPARE(drop.value(QLatin1String("dst")).toString(), QStringLiteral("198.51.100.10:53"));

    // Other traffic is not traced.
    sendDatagrams(5354, 1);
    trace.stop(QStringLiteral("stopped"), QStringLiteral("test"));
    QCOMPARE(finished.size(), 1);
    const QList<QJsonObject> rest = readLines(fds[0], [](const QList<QJsonObject> &l) {
        return !l.isEmpty() && l.last().contains(QLatin1String("end"));
    });
    QVERIFY(!rest.isEmpty());
    QCOMPARE(rest.size(), 1);
    QCOMPARE(rest.last().value(QLatin1String("end")).toString(), QStringLiteral("stopped"));
    close(fds[0]);

    QString after;
    ns.exec(QStringLiteral("nft"), {QStringLiteral("list"), QStringLiteral("ruleset")}, {}, &after);
    // Only the counters of our forward's element and of the rules may have moved.
    const QRegularExpression counters(QStringLiteral("counter packets \\d+ bytes \\d+"));
    QCOMPARE(QString(after).replace(counters, QStringLiteral("counter")),
             QString(before).replace(counters, QStringLiteral("counter")));
}

// Someone deleted one of the two chains while the trace ran (our table written whole does the
// same to both): the end removes what is left and says nothing went wrong.
void TestPacketTraceKernel::aChainGoneMeanwhileStillLeavesNoTrace() {
    ENTER_NETNS(ns);
    RulesetWriter writer;
    Forward web;
    web.id = QStringLiteral("f1");
    web.name = QStringLiteral("web");
    web.externalPort = {80, 80};
    web.targetAddress = QHostAddress(QStringLiteral("198.51.100.10"));
    QVERIFY(writer.apply({web}).ok());
    QString before, after, out;
    ns.exec(QStringLiteral("nft"), {QStringLiteral("list"), QStringLiteral("ruleset")}, {},
            &before);
    int fds[2];
    QCOMPARE(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
    PacketTrace trace(&writer, 7, QStringLiteral(":1.1"), fds[1], web, 5);
    QCOMPARE(trace.start(), QString());
    QVERIFY2(ns.exec(QStringLiteral("nft"),
                     {QStringLiteral("delete"), QStringLiteral("chain"), QStringLiteral("inet"),
                      QStringLiteral("portico"), QStringLiteral("trace7_out")},
                     {}, &out) == 0,
             qPrintable(out));
    trace.stop(QStringLiteral("stopped"), QString());
    const QList<QJsonObject> lines = readLines(fds[0], [](const QList<QJsonObject> &l) {
        return !l.isEmpty() && l.last().contains(QLatin1String("end"));
    });
    close(fds[0]);
    QCOMPARE(lines.size(), 1);
    QCOMPARE(lines.last().value(QLatin1String("message")).toString(), QString());
    ns.exec(QStringLiteral("nft"), {QStringLiteral("list"), QStringLiteral("ruleset")}, {}, &after);
    QCOMPARE(after, before);
}

QTEST_GUILESS_MAIN(TestPacketTraceKernel)
#include "test_packet_trace_kernel.moc"
