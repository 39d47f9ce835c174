// SPDX-License-Identifier: GPL-3.0-or-later
// RulesetWriter against the real kernel: every test runs in a network namespace it creates and
// deletes itself, and checks the result with the nft binary inside that namespace.
#include "kernel_netns.h"
#include "ruleset_writer.h"

#include <QDir>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QProcess>
#include <QRegularExpression>
#include <QTest>

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

using namespace portico;
using namespace portico::kerneltest;

namespace {

// Loopback up with 192.0.2.1 on it: an address of the namespace's own that is not localhost, so
// connections to it pass our chains like the gateway's connections to its external address.
bool addLocalAddress(const QString &ns) {
    for (const QString &cmd :
         {QStringLiteral("link set lo up"), QStringLiteral("addr add 192.0.2.1/32 dev lo")}) {
        int rc = -1;
        run(QStringLiteral("ip"),
            QStringList{QStringLiteral("-n"), ns} + cmd.split(QLatin1Char(' ')), &rc);
        if (rc != 0)
            return false;
    }
    return true;
}

Forward fwd(int mark, const QString &name, Protocol proto, quint16 port, const char *target,
            quint16 targetPort = 0) {
    Forward f;
    f.id = Forward::idForMark(quint32(mark));
    f.name = name;
    f.protocol = proto;
    f.externalPort = {port, port};
    if (target && *target)
        f.targetAddress = QHostAddress(QString::fromLatin1(target));
    if (targetPort)
        f.targetPort = {targetPort, targetPort};
    return f;
}

// One forward of every kind the writer knows.
QList<Forward> everyKind() {
    QList<Forward> l;
    l << fwd(1, QStringLiteral("web"), Protocol::Tcp, 80, "198.51.100.10", 8080);
    Forward dns = fwd(2, QStringLiteral("dns"), Protocol::TcpUdp, 53, "198.51.100.11");
    dns.interface = QStringLiteral("eth0");
    dns.masquerade = true;
    l << dns;
    Forward range = fwd(3, QStringLiteral("range"), Protocol::Udp, 8000, "198.51.100.12");
    range.externalPort = {8000, 8004};
    range.targetPort = {9000, 9004};
    l << range;
    Forward src = fwd(4, QStringLiteral("ssh"), Protocol::Tcp, 2222, "198.51.100.13", 22);
    src.sources = {Cidr{QHostAddress(QStringLiteral("203.0.113.0")), 24},
                   Cidr{QHostAddress(QStringLiteral("192.0.2.7")), 32}};
    src.externalAddress = QHostAddress(QStringLiteral("203.0.113.1"));
    l << src;
    l << fwd(5, QStringLiteral("redirect"), Protocol::Tcp, 4321, "", 1234);
    Forward hp = fwd(6, QStringLiteral("hairpin"), Protocol::Tcp, 443, "198.51.100.14");
    hp.interface = QStringLiteral("wan0");
    hp.hairpin = true;
    hp.externalAddress = QHostAddress(QStringLiteral("203.0.113.1"));
    l << hp;
    Forward v6 = fwd(7, QStringLiteral("v6"), Protocol::Tcp, 80, "2001:db8:1::10", 8080);
    v6.externalAddress = QHostAddress(QStringLiteral("2001:db8::1"));
    v6.sources = {Cidr{QHostAddress(QStringLiteral("2001:db8:ff::")), 48}};
    l << v6;
    Forward off = fwd(8, QStringLiteral("disabled"), Protocol::Tcp, 81, "198.51.100.15");
    off.enabled = false;
    l << off;
    return l;
}

// Many forwards, all with distinct claims.
QList<Forward> many(int n) {
    QList<Forward> l;
    l.reserve(n);
    for (int i = 0; i < n; ++i) {
        Forward f =
            fwd(i + 1, QStringLiteral("fw%1").arg(i), i % 3 == 0 ? Protocol::Udp : Protocol::Tcp,
                quint16(1 + i % 60000), "198.51.100.20", 8080);
        f.externalAddress = QHostAddress(QStringLiteral("203.0.113.%1").arg(1 + (i / 60000) % 250));
        f.masquerade = i % 2 == 0;
        l << f;
    }
    return l;
}

// `nft list table` with the order the kernel happens to keep taken out: the sets and maps are
// sorted by name (an incremental change appends a new map to the table's list, where a fresh
// apply creates them in the compiler's order) and the elements of each are sorted. Chains are
// never recreated, and the order of rules inside a chain is kept: that order matters.
QString normalised(const QString &listing) {
    const QStringList lines = listing.split(QLatin1Char('\n'));
    QStringList head, chains, tail;
    QMap<QString, QString> sets;
    for (qsizetype i = 0; i < lines.size(); ++i) {
        const QString &line = lines.at(i);
        const bool set =
            line.startsWith(QLatin1String("\tset ")) || line.startsWith(QLatin1String("\tmap "));
        if (!set && !line.startsWith(QLatin1String("\tchain "))) {
            (chains.isEmpty() && sets.isEmpty() ? head : tail) << line;
            continue;
        }
        QStringList block{line};
        while (++i < lines.size() && lines.at(i) != QLatin1String("\t}"))
            block << lines.at(i);
        block << QStringLiteral("\t}");
        if (!set) {
            chains << block.join(QLatin1Char('\n'));
            continue;
        }
        // `elements = { a, b,\n\t\t\t     c }` -> one sorted list.
        QString text = block.join(QLatin1Char('\n'));
        const qsizetype open = text.indexOf(QLatin1String("elements = { "));
        if (open >= 0) {
            const qsizetype close = text.indexOf(QLatin1String(" }"), open);
            QStringList items =
                text.mid(open + 13, close - open - 13).split(QLatin1Char(','), Qt::SkipEmptyParts);
            for (QString &item : items)
                item = item.simplified();
            items.sort();
            text = text.left(open + 13) + items.join(QLatin1String(", ")) + text.mid(close);
        }
        sets.insert(line, text);
    }
    return (head + sets.values() + chains + tail).join(QLatin1Char('\n'));
}

// The counters element of each mark, from `nft -j list table inet portico` (`counters` is a
// keyword of nft's command line, so the set cannot be listed alone).
QHash<QString, quint64> counterPackets(const Netns &ns) {
    QHash<QString, quint64> out;
    const QJsonDocument doc = QJsonDocument::fromJson(
        ns.nft({QStringLiteral("-j"), QStringLiteral("list"), QStringLiteral("table"),
                QStringLiteral("inet"), QStringLiteral("portico")})
            .toUtf8());
    for (const QJsonValue &item : doc.object().value(QLatin1String("nftables")).toArray()) {
        const QJsonObject set = item.toObject().value(QLatin1String("set")).toObject();
        if (set.value(QLatin1String("name")).toString() != QLatin1String("counters"))
            continue;
        const QJsonArray elems = set.value(QLatin1String("elem")).toArray();
        for (const QJsonValue &e : elems) {
            const QJsonObject el = e.toObject().value(QLatin1String("elem")).toObject();
            out.insert(Forward::idForMark(quint32(el.value(QLatin1String("val")).toInteger())),
                       quint64(el.value(QLatin1String("counter"))
                                   .toObject()
                                   .value(QLatin1String("packets"))
                                   .toInteger()));
        }
    }
    return out;
}

const char dockerLike[] = R"(table ip nat {
	chain DOCKER {
		iifname "docker0" counter packets 0 bytes 0 return
		iifname != "docker0" meta l4proto tcp ip daddr 192.0.2.1 tcp dport 8080 counter packets 0 bytes 0 dnat to 172.17.0.2:80
	}
	chain POSTROUTING {
		type nat hook postrouting priority srcnat; policy accept;
		oifname != "docker0" ip saddr 172.17.0.0/16 counter packets 0 bytes 0 masquerade
	}
	chain PREROUTING {
		type nat hook prerouting priority dstnat; policy accept;
		fib daddr type local counter packets 0 bytes 0 jump DOCKER
	}
}
table inet firewalld {
	set allowed {
		type ipv4_addr
		flags interval
		elements = { 192.0.2.0/28, 198.51.100.0/24 }
	}
	chain filter_INPUT {
		type filter hook input priority filter + 10; policy accept;
		ct state established,related accept
		ip saddr @allowed tcp dport 22 accept
		iifname "lo" accept
		reject with icmpx admin-prohibited
	}
	chain filter_FORWARD {
		type filter hook forward priority filter + 10; policy accept;
		ct status dnat accept
		drop
	}
}
)";

} // namespace

class TestRulesetKernel : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        if (geteuid() != 0)
            QSKIP("needs root (network namespaces and nf_tables)");
        // Namespaces left by a run that crashed: ours by name, and their process is gone.
        const QStringList stale = QDir(QStringLiteral("/run/netns"))
                                      .entryList({QStringLiteral("portico-kt-*")}, QDir::Files);
        for (const QString &name : stale) {
            const qint64 pid = name.section(QLatin1Char('-'), 2, 2).toLongLong();
            if (pid > 0 && kill(pid_t(pid), 0) != 0 && errno == ESRCH)
                run(QStringLiteral("ip"),
                    {QStringLiteral("netns"), QStringLiteral("delete"), name});
        }
    }

    void forwardWithoutIdIsRefusedBeforeTheKernel() {
        ENTER_NETNS(ns);
        RulesetWriter w;
        QVERIFY(w.apply(everyKind()).ok());
        const QString before = ns.listTable();
        Forward noId = fwd(40, QStringLiteral("no-id"), Protocol::Tcp, 8443, "198.51.100.40");
        noId.id = QStringLiteral("x1");
        const ApplyError e = w.apply(everyKind() + QList<Forward>{noId});
        QCOMPARE(e.forwardName, QStringLiteral("no-id"));
        QCOMPARE(e.field, QStringLiteral("id"));
        QVERIFY2(e.message.startsWith(QLatin1String("forward 'no-id': id: 'x1'")),
                 qPrintable(e.message));
        QCOMPARE(ns.listTable(), before);
        QCOMPARE(w.add(everyKind(), noId).field, QStringLiteral("id"));
        QCOMPARE(ns.listTable(), before);
    }

    void emptyListGivesChainsOnly() {
        ENTER_NETNS(ns);
        RulesetWriter w;
        const ApplyError e = w.apply({});
        QVERIFY2(e.ok(), qPrintable(e.message));
        const QString t = ns.listTable();
        for (const char *chain : {"prerouting", "output", "hairpin", "forward", "input",
                                  "output_filter", "postrouting"})
            QVERIFY2(
                t.contains(QLatin1String("chain ") + QLatin1String(chain) + QLatin1String(" {")),
                qPrintable(t));
        QVERIFY2(!t.contains(QLatin1String("map ")) && !t.contains(QLatin1String("set ")) &&
                     !t.contains(QLatin1String("counter ")),
                 qPrintable(t));
    }

    void mapsAndElementsForEveryKind() {
        ENTER_NETNS(ns);
        RulesetWriter w;
        const ApplyError e = w.apply(everyKind());
        QVERIFY2(e.ok(), qPrintable(e.message));
        int rc = -1;
        const QString json =
            ns.nft({QStringLiteral("-j"), QStringLiteral("list"), QStringLiteral("table"),
                    QStringLiteral("inet"), QStringLiteral("portico")},
                   &rc);
        QCOMPARE(rc, 0);
        const QJsonArray items = QJsonDocument::fromJson(json.toUtf8())
                                     .object()
                                     .value(QLatin1String("nftables"))
                                     .toArray();
        QHash<QString, int> elementsPerSet;
        for (const QJsonValue &v : items) {
            const QJsonObject o = v.toObject();
            for (const char *kind : {"map", "set"}) {
                if (o.contains(QLatin1String(kind))) {
                    const QJsonObject s = o.value(QLatin1String(kind)).toObject();
                    elementsPerSet[s.value(QLatin1String("name")).toString()] =
                        int(s.value(QLatin1String("elem")).toArray().size());
                }
            }
            QVERIFY2(!o.contains(QLatin1String("counter")),
                     "our table has no named counter objects");
        }
        QCOMPARE(elementsPerSet.value(QStringLiteral("counters")), 7);
        QCOMPARE(elementsPerSet.value(QStringLiteral("masquerade_marks")), 1);
        QCOMPARE(elementsPerSet.value(QStringLiteral("hairpin_marks")), 1);
        // web (1) + range (5 ports) share the catch-all IPv4 shape.
        QCOMPARE(elementsPerSet.value(QStringLiteral("v4_dnat_mark")), 6);
        QCOMPARE(elementsPerSet.value(QStringLiteral("v4_dnat_nat")), 6);
        QCOMPARE(elementsPerSet.value(QStringLiteral("v4_if_dnat_nat")), 2); // dns: tcp+udp
        // The two CIDRs have their own prefix lengths, so their own maps.
        QCOMPARE(elementsPerSet.value(QStringLiteral("v4_src24_addr_dnat_nat")), 1);
        QCOMPARE(elementsPerSet.value(QStringLiteral("v4_src32_addr_dnat_nat")), 1);
        QCOMPARE(elementsPerSet.value(QStringLiteral("v4_if_addr_dnat_nat")), 1);
        QCOMPARE(elementsPerSet.value(QStringLiteral("v4_addr_dnat_nat")), 1); // hairpin copy
        QCOMPARE(elementsPerSet.value(QStringLiteral("v6_src48_addr_dnat_nat")), 1);
        QCOMPARE(elementsPerSet.value(QStringLiteral("v4_redir_nat")), 1);
        QCOMPARE(elementsPerSet.value(QStringLiteral("v6_redir_nat")), 1);
        QVERIFY(!elementsPerSet.contains(QStringLiteral("v6_dnat_mark")));

        const QString t = ns.listTable();
        QVERIFY2(t.contains(QLatin1String("\"eth0\" . udp . 53 : 198.51.100.11 . 53")),
                 qPrintable(t));
        QVERIFY2(t.contains(QLatin1String("udp . 8004 : 198.51.100.12 . 9004")), qPrintable(t));
        QVERIFY2(t.contains(
                     QLatin1String("203.0.113.0 . 203.0.113.1 . tcp . 2222 : 198.51.100.13 . 22")),
                 qPrintable(t));
        QVERIFY2(t.contains(QLatin1String("tcp . 4321 : 1234")), qPrintable(t));
        QVERIFY2(t.contains(QLatin1String(
                     "2001:db8:ff:: . 2001:db8::1 . tcp . 80 : 2001:db8:1::10 . 8080")),
                 qPrintable(t));
        QVERIFY2(!t.contains(QLatin1String("198.51.100.15")),
                 "a disabled forward reached the kernel");
        QVERIFY2(t.contains(QLatin1String("ct status dnat ct mark & 0x00ffffff == @counters "
                                          "counter packets 0 bytes 0 accept")),
                 qPrintable(t));
        QVERIFY2(t.contains(QLatin1String("0x00000007 counter packets 0 bytes 0")), qPrintable(t));
    }

    void renderedTextLoadsToTheSameTable_data() {
        QTest::addColumn<QList<Forward>>("forwards");
        QTest::newRow("empty") << QList<Forward>{};
        QTest::newRow("every kind") << everyKind();
        QTest::newRow("many") << many(300);
    }

    void renderedTextLoadsToTheSameTable() {
        QFETCH(QList<Forward>, forwards);
        ENTER_NETNS(ns);
        RulesetWriter w;
        const ApplyError e = w.apply(forwards);
        QVERIFY2(e.ok(), qPrintable(e.message));
        const QString fromWriter = ns.listTable();
        QVERIFY(w.removeTable().ok());
        QString out;
        QCOMPARE(ns.loadText(renderRuleset(forwards), &out), 0);
        const QString fromText = ns.listTable();
        QCOMPARE(fromText, fromWriter);
        // And loading the text again over the existing table replaces it (no "File exists").
        QCOMPARE(ns.loadText(renderRuleset(forwards), &out), 0);
        QCOMPARE(ns.listTable(), fromWriter);
    }

    void foreignTablesAreUntouched() {
        ENTER_NETNS(ns);
        QString out;
        QVERIFY2(ns.loadText(QString::fromLatin1(dockerLike), &out) == 0, qPrintable(out));
        const QString nat = ns.listTable(QStringLiteral("ip"), QStringLiteral("nat"));
        const QString fwd = ns.listTable(QStringLiteral("inet"), QStringLiteral("firewalld"));
        QVERIFY(nat.contains(QLatin1String("dnat to 172.17.0.2:80")));
        RulesetWriter w;
        QVERIFY(w.apply(everyKind()).ok());
        QVERIFY(w.apply(many(50)).ok());
        QVERIFY(!w.apply(everyKind() + everyKind()).ok()); // a refused batch, too
        QVERIFY(w.apply({}).ok());
        QCOMPARE(ns.listTable(QStringLiteral("ip"), QStringLiteral("nat")), nat);
        QCOMPARE(ns.listTable(QStringLiteral("inet"), QStringLiteral("firewalld")), fwd);
        QVERIFY(w.removeTable().ok());
        QCOMPARE(ns.listTable(QStringLiteral("ip"), QStringLiteral("nat")), nat);
        QCOMPARE(ns.listTable(QStringLiteral("inet"), QStringLiteral("firewalld")), fwd);
    }

    void refusedBatchLeavesPreviousTable_data() {
        QTest::addColumn<QList<Forward>>("refused");
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("message");
        const QList<Forward> good = everyKind();
        Forward clash = fwd(20, QStringLiteral("web-again"), Protocol::Tcp, 80, "198.51.100.99");
        QTest::newRow("same claim")
            << (good + QList<Forward>{clash}) << QStringLiteral("web-again")
            << QStringLiteral("external_port")
            << QStringLiteral("forward 'web-again': external port: File exists");
        Forward src = good.at(3);
        src.id = QStringLiteral("f21");
        src.name = QStringLiteral("ssh-again");
        QTest::newRow("same sources")
            << (good + QList<Forward>{src}) << QStringLiteral("ssh-again")
            << QStringLiteral("sources")
            << QStringLiteral("forward 'ssh-again': sources: File exists");
        Forward sameId = fwd(1, QStringLiteral("same-id"), Protocol::Tcp, 90, "198.51.100.98");
        QTest::newRow("same id") << (good + QList<Forward>{sameId}) << QStringLiteral("same-id")
                                 << QStringLiteral("id")
                                 << QStringLiteral("forward 'same-id': id: File exists");
    }

    void refusedBatchLeavesPreviousTable() {
        QFETCH(QList<Forward>, refused);
        QFETCH(QString, name);
        QFETCH(QString, field);
        QFETCH(QString, message);
        ENTER_NETNS(ns);
        RulesetWriter w;
        QVERIFY(w.apply(everyKind()).ok());
        const QString before = ns.listTable();
        const QHash<QString, Counter> countersBefore = w.counters();
        const ApplyError e = w.apply(refused);
        QVERIFY2(!e.ok(), "the kernel took a batch with two identical claims");
        QCOMPARE(e.forwardName, name);
        QCOMPARE(e.field, field);
        QCOMPARE(e.message, message);
        QCOMPARE(ns.listTable(), before);
        QCOMPARE(w.counters().keys().size(), countersBefore.size());
    }

    void countersAreOursById() {
        ENTER_NETNS(ns);
        QString out;
        // A foreign counters set in another table must not show up (0x63 would be "f99").
        QVERIFY2(ns.loadText(QStringLiteral("table inet other {\n\tset counters {\n\t\ttype mark\n"
                                            "\t\tcounter\n\t\telements = { 0x00000063 }\n\t}\n}\n"),
                             &out) == 0,
                 qPrintable(out));
        RulesetWriter w;
        QString error;
        QVERIFY(w.counters(&error).isEmpty());
        QVERIFY2(error.isEmpty(), qPrintable(error)); // no table yet is not an error
        QVERIFY(w.apply(everyKind()).ok());
        const QHash<QString, Counter> c = w.counters(&error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QStringList ids = c.keys();
        ids.sort();
        QCOMPARE(ids, (QStringList{QStringLiteral("f1"), QStringLiteral("f2"), QStringLiteral("f3"),
                                   QStringLiteral("f4"), QStringLiteral("f5"), QStringLiteral("f6"),
                                   QStringLiteral("f7")}));
        for (const Counter &v : c)
            QCOMPARE(v.packets, quint64(0));
        // Counts come from the kernel: the gateway itself connects to the redirect (f5) at an
        // address of its own, and those packets pass output_filter. Its talk to localhost is
        // left alone, so that connection is not counted.
        QVERIFY(addLocalAddress(ns.name()));
        auto knock = [](const char *address) {
            const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_in to{};
            to.sin_family = AF_INET;
            to.sin_port = htons(4321);
            inet_pton(AF_INET, address, &to.sin_addr);
            ::connect(fd, reinterpret_cast<sockaddr *>(&to), sizeof to); // refused: nobody there
            close(fd);
        };
        knock("127.0.0.1");
        QCOMPARE(w.counters(&error).value(QStringLiteral("f5")).packets, quint64(0));
        knock("192.0.2.1");
        const QHash<QString, Counter> after = w.counters(&error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QVERIFY2(after.value(QStringLiteral("f5")).packets >= 1,
                 "the redirect's counter did not move");
        QVERIFY(after.value(QStringLiteral("f5")).bytes >= 40);
        QCOMPARE(after.value(QStringLiteral("f1")).packets, quint64(0));
    }

    void removeTableIsIdempotent() {
        ENTER_NETNS(ns);
        RulesetWriter w;
        QVERIFY(w.removeTable().ok());
        QVERIFY(w.apply(everyKind()).ok());
        QVERIFY(w.removeTable().ok());
        int rc = -1;
        ns.nft({QStringLiteral("list"), QStringLiteral("table"), QStringLiteral("inet"),
                QStringLiteral("portico")},
               &rc);
        QVERIFY(rc != 0);
        QVERIFY(w.removeTable().ok());
    }

    void replaceIsWhole() {
        ENTER_NETNS(ns);
        RulesetWriter w;
        QVERIFY(w.apply(everyKind()).ok());
        const QList<Forward> second = many(20);
        QVERIFY(w.apply(second).ok());
        const QString replaced = ns.listTable();
        QVERIFY(w.removeTable().ok());
        QVERIFY(w.apply(second).ok());
        QCOMPARE(ns.listTable(), replaced);
        QVERIFY(!replaced.contains(QLatin1String("198.51.100.10")));
    }

    void addIntoExistingMaps() {
        ENTER_NETNS(ns);
        RulesetWriter w;
        const QList<Forward> before = many(10000);
        QElapsedTimer t;
        t.start();
        QVERIFY(w.apply(before).ok());
        const qint64 full = t.nsecsElapsed() / 1000;
        Forward added =
            fwd(10001, QStringLiteral("added"), Protocol::Tcp, 60001, "198.51.100.21", 8081);
        added.externalAddress = QHostAddress(QStringLiteral("203.0.113.1"));
        added.masquerade = true;
        t.restart();
        const ApplyError e = w.add(before, added);
        const qint64 incremental = t.nsecsElapsed() / 1000;
        QVERIFY2(e.ok(), qPrintable(e.message));
        qInfo("add 1 to 10000: %lld us (full apply: %lld us)", incremental, full);
        QVERIFY2(incremental * 5 < full, "add() was not incremental");
        const QString afterAdd = ns.listTable();
        QVERIFY(
            afterAdd.contains(QLatin1String("203.0.113.1 . tcp . 60001 : 198.51.100.21 . 8081")));
        QCOMPARE(w.counters().size(), 10001);
        // The same table as a full apply of everything.
        QList<Forward> all = before;
        all << added;
        QVERIFY(w.apply(all).ok());
        QCOMPARE(ns.listTable(), afterAdd);
        // And a second add builds on the first.
        Forward again = added;
        again.id = QStringLiteral("f10002");
        again.name = QStringLiteral("again");
        again.externalPort = {60002, 60002};
        QVERIFY(w.add(all, again).ok());
        QVERIFY(ns.listTable().contains(QLatin1String("tcp . 60002 : 198.51.100.21 . 8081")));
    }

    // As after a restart of the helper: a new writer takes over the table it finds when its sets
    // are those of `before`, and adds into it; otherwise it rebuilds.
    void addAfterRestartAdoptsTheTable() {
        ENTER_NETNS(ns);
        auto tableHandle = [&ns] {
            int rc = -1;
            const QString out =
                ns.nft({QStringLiteral("-a"), QStringLiteral("list"), QStringLiteral("table"),
                        QStringLiteral("inet"), QStringLiteral("portico")},
                       &rc);
            return rc == 0 ? out.section(QLatin1Char('\n'), 0, 0) : QString();
        };
        const QList<Forward> before = many(50);
        {
            RulesetWriter first;
            QVERIFY(first.apply(before).ok());
        }
        const QString handle = tableHandle();
        QVERIFY2(handle.contains(QLatin1String("# handle")), qPrintable(handle));
        Forward added = fwd(51, QStringLiteral("added"), Protocol::Tcp, 60001, "198.51.100.21");
        added.externalAddress = QHostAddress(QStringLiteral("203.0.113.1"));
        RulesetWriter second;
        QVERIFY(second.add(before, added).ok());
        QCOMPARE(tableHandle(), handle); // the same table, so its counters live on
        QVERIFY(ns.listTable().contains(QLatin1String("tcp . 60001 : 198.51.100.21 . 60001")));

        // A list the kernel's sets do not match (a shape the table lacks): rebuilt whole.
        QList<Forward> other = before + QList<Forward>{added};
        other.first().interface = QStringLiteral("eth9");
        Forward late = fwd(52, QStringLiteral("late"), Protocol::Udp, 60002, "198.51.100.22");
        late.externalAddress = QHostAddress(QStringLiteral("203.0.113.1"));
        RulesetWriter third;
        QVERIFY(third.add(other, late).ok());
        QVERIFY(tableHandle() != handle);
        const QString rebuilt = ns.listTable();
        QVERIFY(rebuilt.contains(QLatin1String("\"eth9\" . ")));
        QVERIFY(third.apply(other + QList<Forward>{late}).ok());
        QCOMPARE(ns.listTable(), rebuilt);
    }

    // A table written by an older version, whose rules did not count: its sets match, but a new
    // writer does not take it over; it rebuilds, so that every chain counts again.
    void addAfterRestartRebuildsRulesWithoutCounters() {
        ENTER_NETNS(ns);
        const QList<Forward> before = many(20);
        {
            RulesetWriter first;
            QVERIFY(first.apply(before).ok());
        }
        const QStringList list{QStringLiteral("-a"),      QStringLiteral("list"),
                               QStringLiteral("chain"),   QStringLiteral("inet"),
                               QStringLiteral("portico"), QStringLiteral("forward")};
        const QString chain = ns.nft(list);
        const QRegularExpression rule(QStringLiteral("@counters counter .* # handle (\\d+)"));
        const QRegularExpressionMatch m = rule.match(chain);
        QVERIFY2(m.hasMatch(), qPrintable(chain));
        int rc = -1;
        ns.nft({QStringLiteral("replace"), QStringLiteral("rule"), QStringLiteral("inet"),
                QStringLiteral("portico"), QStringLiteral("forward"), QStringLiteral("handle"),
                m.captured(1), QStringLiteral("ct status dnat ct mark & 0x00ffffff @counters"),
                QStringLiteral("accept")},
               &rc);
        QCOMPARE(rc, 0);
        QVERIFY(!ns.nft(list).contains(QLatin1String("counter packets")));

        RulesetWriter second;
        const Forward added =
            fwd(21, QStringLiteral("added"), Protocol::Tcp, 60001, "198.51.100.21");
        QVERIFY(second.add(before, added).ok());
        const QString after = ns.nft(list);
        QVERIFY2(after.contains(QLatin1String("@counters counter packets 0 bytes 0 accept")),
                 qPrintable(after));
        QVERIFY(ns.listTable().contains(QLatin1String("tcp . 60001 : 198.51.100.21 . 60001")));
    }

    void addWithNewShapeRebuilds() {
        ENTER_NETNS(ns);
        RulesetWriter w;
        const QList<Forward> before = {
            fwd(1, QStringLiteral("a"), Protocol::Tcp, 80, "198.51.100.10")};
        QVERIFY(w.apply(before).ok());
        Forward added = fwd(2, QStringLiteral("b"), Protocol::Udp, 53, "198.51.100.11");
        added.interface = QStringLiteral("wan0");
        added.hairpin = true;
        QVERIFY(w.add(before, added).ok());
        const QString afterAdd = ns.listTable();
        QVERIFY(afterAdd.contains(QLatin1String("map v4_if_dnat_nat")));
        QVERIFY(afterAdd.contains(QLatin1String("chain hairpin")));
        QVERIFY(w.apply(before + QList<Forward>{added}).ok());
        QCOMPARE(normalised(ns.listTable()), normalised(afterAdd));
    }

    void addClashIsRefusedAndChangesNothing() {
        ENTER_NETNS(ns);
        RulesetWriter w;
        const QList<Forward> before = everyKind();
        QVERIFY(w.apply(before).ok());
        const QString previous = ns.listTable();
        const Forward clash =
            fwd(30, QStringLiteral("web-too"), Protocol::Tcp, 80, "198.51.100.77");
        const ApplyError e = w.add(before, clash);
        QVERIFY(!e.ok());
        QCOMPARE(e.forwardName, QStringLiteral("web-too"));
        QCOMPARE(e.field, QStringLiteral("external_port"));
        QCOMPARE(e.message, QStringLiteral("forward 'web-too': external port: File exists"));
        QCOMPARE(ns.listTable(), previous);
    }

    void addAfterTableVanishedRebuilds() {
        ENTER_NETNS(ns);
        RulesetWriter w;
        const QList<Forward> before = many(10);
        QVERIFY(w.apply(before).ok());
        int rc = -1;
        ns.nft({QStringLiteral("delete"), QStringLiteral("table"), QStringLiteral("inet"),
                QStringLiteral("portico")},
               &rc);
        QCOMPARE(rc, 0);
        const Forward added = fwd(11, QStringLiteral("late"), Protocol::Tcp, 999, "198.51.100.30");
        const ApplyError e = w.add(before, added);
        QVERIFY2(e.ok(), qPrintable(e.message));
        const QString afterAdd = ns.listTable();
        QVERIFY(afterAdd.contains(QLatin1String("tcp . 999 : 198.51.100.30 . 999")));
        QVERIFY(afterAdd.contains(QLatin1String("0x00000001 counter packets 0 bytes 0")));
    }

    // The counters of forwards that stay are the kernel's own elements, left in place by every
    // incremental change: counted with real packets, then checked after a remove, an update of
    // another forward, an update of the counted forward itself and a replace of the list.
    void countersSurviveIncrementalChanges() {
        ENTER_NETNS(ns);
        QVERIFY(addLocalAddress(ns.name()));
        auto knock = [](quint16 port) {
            const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_in to{};
            to.sin_family = AF_INET;
            to.sin_port = htons(port);
            inet_pton(AF_INET, "192.0.2.1", &to.sin_addr);
            ::connect(fd, reinterpret_cast<sockaddr *>(&to), sizeof to); // refused: nobody there
            close(fd);
        };
        RulesetWriter w;
        QList<Forward> list = everyKind();
        QVERIFY(w.apply(list).ok());
        knock(4321); // f5, the redirect
        const quint64 counted = w.counters().value(QStringLiteral("f5")).packets;
        QVERIFY2(counted >= 1, "the redirect's counter did not move");
        QCOMPARE(counterPackets(ns).value(QStringLiteral("f5")), counted);

        auto check = [&](const char *step) {
            const QHash<QString, Counter> c = w.counters();
            QVERIFY2(c.value(QStringLiteral("f5")).packets == counted,
                     qPrintable(QStringLiteral("%1: f5 counted %2, not %3")
                                    .arg(QLatin1String(step))
                                    .arg(c.value(QStringLiteral("f5")).packets)
                                    .arg(counted)));
            QCOMPARE(counterPackets(ns).value(QStringLiteral("f5")), counted);
        };
        // Remove another forward (f1).
        QVERIFY(w.remove(list, 0).ok());
        list.removeAt(0);
        QVERIFY(!counterPackets(ns).contains(QStringLiteral("f1")));
        check("remove");
        // Change another forward (f2's target).
        Forward dns = list.at(0);
        dns.targetAddress = QHostAddress(QStringLiteral("198.51.100.99"));
        QVERIFY(w.change(list, 0, dns).ok());
        list[0] = dns;
        QVERIFY(ns.listTable().contains(QLatin1String("198.51.100.99")));
        check("update of another forward");
        // Change the counted forward itself: a new target port, new map elements, same counter.
        const qsizetype redirect = 3;
        QCOMPARE(list.at(redirect).id, QStringLiteral("f5"));
        Forward moved = list.at(redirect);
        moved.targetPort = {1235, 1235};
        QVERIFY(w.change(list, redirect, moved).ok());
        list[redirect] = moved;
        QVERIFY(ns.listTable().contains(QLatin1String("tcp . 4321 : 1235")));
        check("update of the forward itself");
        // Replace the list: one forward gone, one changed, one new, one with a new shape.
        QList<Forward> next = list;
        next.removeAt(1); // f3
        next[0].name = QStringLiteral("dns renamed");
        next << fwd(40, QStringLiteral("new"), Protocol::Tcp, 7000, "198.51.100.40");
        Forward src = fwd(41, QStringLiteral("new shape"), Protocol::Tcp, 7001, "198.51.100.41");
        src.sources = {Cidr{QHostAddress(QStringLiteral("192.0.2.0")), 25}};
        next << src;
        QVERIFY(w.update(list, next).ok());
        list = next;
        check("replace");
        QVERIFY(ns.listTable().contains(QLatin1String("map v4_src25_dnat_nat")));
        // And the kept forward still counts: one more connection adds to the old count.
        knock(4321);
        QVERIFY(w.counters().value(QStringLiteral("f5")).packets > counted);
        QCOMPARE(w.counters().value(QStringLiteral("f40")).packets, quint64(0));
    }

    // A change that outgrows a map's size rebuilds the table; the counters carry over.
    void rebuildKeepsTheCounters() {
        ENTER_NETNS(ns);
        QVERIFY(addLocalAddress(ns.name()));
        RulesetWriter w;
        const QList<Forward> before = everyKind();
        QVERIFY(w.apply(before).ok());
        const QString handle =
            ns.nft({QStringLiteral("-a"), QStringLiteral("list"), QStringLiteral("table"),
                    QStringLiteral("inet"), QStringLiteral("portico")})
                .section(QLatin1Char('\n'), 0, 0);
        const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(4321); // f5, the redirect
        inet_pton(AF_INET, "192.0.2.1", &to.sin_addr);
        ::connect(fd, reinterpret_cast<sockaddr *>(&to), sizeof to);
        close(fd);
        const Counter counted = w.counters().value(QStringLiteral("f5"));
        QVERIFY(counted.packets >= 1);
        // 1,100 more forwards: more than the counters set's 1,024.
        QList<Forward> after = before;
        for (Forward f : many(1100)) {
            f.id = Forward::idForMark(f.mark() + 100);
            f.externalAddress = QHostAddress(QStringLiteral("203.0.113.200"));
            after << f;
        }
        const ApplyError e = w.update(before, after);
        QVERIFY2(e.ok(), qPrintable(e.message));
        QVERIFY(ns.nft({QStringLiteral("-a"), QStringLiteral("list"), QStringLiteral("table"),
                        QStringLiteral("inet"), QStringLiteral("portico")})
                    .section(QLatin1Char('\n'), 0, 0) != handle); // rebuilt
        const QHash<QString, Counter> c = w.counters();
        QCOMPARE(c.size(), 7 + 1100);
        QCOMPARE(c.value(QStringLiteral("f5")).packets, counted.packets);
        QCOMPARE(c.value(QStringLiteral("f5")).bytes, counted.bytes);
        QCOMPARE(c.value(QStringLiteral("f1")).packets, quint64(0));
        QCOMPARE(counterPackets(ns).value(QStringLiteral("f5")), counted.packets);
    }

    // Past 20,000 the counters are read by the marks the writer keeps; incremental changes
    // keep that list right (many gone at once, one gone, some new).
    void countersByKeyAfterIncrementalChanges() {
        ENTER_NETNS(ns);
        RulesetWriter w;
        QList<Forward> list = many(21000);
        QVERIFY(w.apply(list).ok());
        QList<Forward> next = list;
        next.remove(100, 20);
        next << fwd(30001, QStringLiteral("late1"), Protocol::Tcp, 60001, "198.51.100.30");
        next << fwd(30002, QStringLiteral("late2"), Protocol::Tcp, 60002, "198.51.100.30");
        QVERIFY(w.update(list, next).ok());
        list = next;
        QVERIFY(w.remove(list, 5).ok());
        const QString goneId = list.at(5).id;
        list.removeAt(5);
        const QHash<QString, Counter> c = w.counters();
        QCOMPARE(c.size(), list.size());
        QVERIFY(c.contains(QStringLiteral("f30001")) && c.contains(QStringLiteral("f30002")));
        QVERIFY(!c.contains(goneId) && !c.contains(QStringLiteral("f101")));
    }

    // A sequence of incremental changes, in which shapes, side sets and hook rules come and go,
    // gives the table that a fresh apply() of the final list gives (in a second namespace).
    void incrementalSequenceMatchesFreshApply() {
        ENTER_NETNS(ns);
        RulesetWriter w;
        Netns *fresh = nullptr;
        std::unique_ptr<Netns> freshNs;
        std::unique_ptr<RulesetWriter> freshWriter;
        auto tableHandle = [&ns] {
            int rc = -1;
            const QString out =
                ns.nft({QStringLiteral("-a"), QStringLiteral("list"), QStringLiteral("table"),
                        QStringLiteral("inet"), QStringLiteral("portico")},
                       &rc);
            return rc == 0 ? out.section(QLatin1Char('\n'), 0, 0) : QString();
        };
        QList<Forward> list = everyKind();
        QVERIFY(w.apply(list).ok());
        const QString handle = tableHandle();
        QVERIFY2(handle.contains(QLatin1String("# handle")), qPrintable(handle));
        {
            freshNs = std::make_unique<Netns>(); // entered: the fresh writer's socket lives there
            QVERIFY(freshNs->ok());
            freshWriter = std::make_unique<RulesetWriter>();
            fresh = freshNs.get();
        }
        int step = 0;
        auto same = [&](const QList<Forward> &after) {
            ++step;
            QVERIFY(freshWriter->apply(after).ok());
            const QString got = normalised(ns.listTable());
            const QString want = normalised(fresh->listTable());
            if (got != want)
                qWarning("step %d:\nincremental:\n%s\nfresh:\n%s", step, qPrintable(got),
                         qPrintable(want));
            QVERIFY2(got == want, qPrintable(QStringLiteral("step %1 differs").arg(step)));
            // The sets are also in the same order (the writer makes later sets again for that).
            auto setOrder = [](const QString &listing) {
                QStringList heads;
                for (const QString &line : listing.split(QLatin1Char('\n'))) {
                    if (line.startsWith(QLatin1String("\tset ")) ||
                        line.startsWith(QLatin1String("\tmap ")))
                        heads << line;
                }
                return heads;
            };
            QCOMPARE(setOrder(ns.listTable()), setOrder(fresh->listTable()));
            QCOMPARE(tableHandle(), handle); // never rebuilt
        };
        auto updateTo = [&](const QList<Forward> &after) {
            const ApplyError e = w.update(list, after);
            QVERIFY2(e.ok(), qPrintable(e.message));
            list = after;
        };
        QList<Forward> next = list;
        // 1. The sources forward goes (its two shapes go), the v6 one is disabled (v6 shapes go).
        next.removeAt(3);
        next[5].enabled = false;
        updateTo(next);
        same(list);
        // 2. The hairpin forward goes: hairpin chain rule, hairpin set, postrouting rule go.
        QCOMPARE(list.at(4).id, QStringLiteral("f6"));
        QVERIFY(w.remove(list, 4).ok());
        list.removeAt(4);
        same(list);
        // 3. It comes back at its place, the v6 one is enabled again.
        Forward hp = everyKind().at(5);
        QVERIFY(w.insert(list, 4, hp).ok());
        list.insert(4, hp);
        Forward v6 = list.at(5);
        QCOMPARE(v6.id, QStringLiteral("f7"));
        v6.enabled = true;
        QVERIFY(w.change(list, 5, v6).ok());
        list[5] = v6;
        same(list);
        // 4. A forward moves to a new shape (an interface and a /16 source), the masquerade of
        // the only masquerading forward is turned off (masquerade set and rule go).
        Forward dns = list.at(1);
        QCOMPARE(dns.id, QStringLiteral("f2"));
        dns.masquerade = false;
        QVERIFY(w.change(list, 1, dns).ok());
        list[1] = dns;
        Forward web = list.at(0);
        web.interface = QStringLiteral("eth7");
        web.sources = {Cidr{QHostAddress(QStringLiteral("198.51.0.0")), 16}};
        QVERIFY(w.change(list, 0, web).ok());
        list[0] = web;
        same(list);
        // 5. Everything goes, then everything comes back.
        updateTo({});
        same(list);
        updateTo(everyKind());
        same(list);
        // 6. An edit of a disabled forward changes nothing in the kernel.
        Forward off = list.at(7);
        QVERIFY(!off.enabled);
        off.externalPort = {82, 82};
        QVERIFY(w.change(list, 7, off).ok());
        list[7] = off;
        same(list);
        freshWriter.reset();
        freshNs.reset();
    }

    // A refused incremental batch (a clash the validator would have caught), with deletions,
    // new maps and new rules in it, leaves the table byte-identical; the writer goes on from
    // the table as it is.
    void refusedUpdateLeavesTheTable() {
        ENTER_NETNS(ns);
        RulesetWriter w;
        const QList<Forward> before = everyKind();
        QVERIFY(w.apply(before).ok());
        const QString previous = ns.listTable();
        QList<Forward> after = before;
        after.removeAt(2);                  // elements deleted
        after[0].targetPort = {8081, 8081}; // elements replaced
        Forward src = fwd(41, QStringLiteral("new shape"), Protocol::Tcp, 7001, "198.51.100.41");
        src.sources = {Cidr{QHostAddress(QStringLiteral("192.0.2.0")), 25}};
        after << src; // a new shape: maps and rules
        after << fwd(42, QStringLiteral("web-too"), Protocol::Tcp, 80, "198.51.100.77");
        const ApplyError e = w.update(before, after);
        QVERIFY(!e.ok());
        QCOMPARE(e.forwardName, QStringLiteral("web-too"));
        QCOMPARE(e.field, QStringLiteral("external_port"));
        QCOMPARE(e.message, QStringLiteral("forward 'web-too': external port: File exists"));
        QCOMPARE(ns.listTable(), previous);
        // Also for one changed forward.
        Forward clash = before.at(1);
        clash.externalPort = {80, 80};
        clash.protocol = Protocol::Tcp;
        clash.interface.clear();
        const ApplyError e2 = w.change(before, 1, clash);
        QVERIFY(!e2.ok());
        QCOMPARE(e2.forwardName, QStringLiteral("dns"));
        QCOMPARE(ns.listTable(), previous);
        // The writer still knows the table: a good update goes through, incrementally (the
        // same table, and its counters with it).
        auto tableHandle = [&ns] {
            return ns
                .nft({QStringLiteral("-a"), QStringLiteral("list"), QStringLiteral("table"),
                      QStringLiteral("inet"), QStringLiteral("portico")})
                .section(QLatin1Char('\n'), 0, 0);
        };
        const QString handle = tableHandle();
        QVERIFY(handle.contains(QLatin1String("# handle")));
        after.removeLast();
        const ApplyError ok = w.update(before, after);
        QVERIFY2(ok.ok(), qPrintable(ok.message));
        QCOMPARE(tableHandle(), handle);
        QVERIFY(ns.listTable().contains(QLatin1String("map v4_src25_dnat_nat")));
    }

    // Timing of single changes (set PORTICO_BENCH_FORWARDS=100000 for the large case).
    void incrementalIsFast() {
        ENTER_NETNS(ns);
        const int n = qEnvironmentVariableIntValue("PORTICO_BENCH_FORWARDS") > 0
                          ? qEnvironmentVariableIntValue("PORTICO_BENCH_FORWARDS")
                          : 10000;
        RulesetWriter w;
        QList<Forward> list = many(n);
        QElapsedTimer t;
        t.start();
        QVERIFY(w.apply(list).ok());
        const qint64 full = t.nsecsElapsed() / 1000;
        t.restart();
        QVERIFY(w.remove(list, n / 2).ok());
        const qint64 removeUs = t.nsecsElapsed() / 1000;
        list.removeAt(n / 2);
        Forward changed = list.at(n / 3);
        changed.targetPort = {9090, 9090};
        t.restart();
        QVERIFY(w.change(list, n / 3, changed).ok());
        const qint64 changeUs = t.nsecsElapsed() / 1000;
        list[n / 3] = changed;
        QList<Forward> next = list;
        next[n / 4].targetAddress = QHostAddress(QStringLiteral("198.51.100.21"));
        t.restart();
        QVERIFY(w.update(list, next).ok());
        const qint64 replaceUs = t.nsecsElapsed() / 1000;
        qInfo("%d forwards: apply %lld us, remove one %lld us, update one %lld us, replace "
              "changing one %lld us",
              n, full, removeUs, changeUs, replaceUs);
        QVERIFY2(removeUs * 5 < full && changeUs * 5 < full, "not incremental");
        QCOMPARE(w.counters().size(), n - 1);
    }

    // Past 20,000 counters the writer asks for them by key instead of dumping the set; both
    // ways must read the kernel's values.
    void manyCountersAreReadByKey_data() {
        QTest::addColumn<int>("forwards");
        QTest::newRow("dump") << 1000;
        QTest::newRow("by key") << 25000;
    }

    void manyCountersAreReadByKey() {
        QFETCH(int, forwards);
        ENTER_NETNS(ns);
        RulesetWriter w;
        QVERIFY(w.apply(many(forwards)).ok());
        // Give two elements counts of their own (delete and add back with values).
        for (const char *element :
             {"0x00000005 counter packets 7 bytes 420", "0x000003e7 counter packets 1 bytes 60"}) {
            const QString key = QString::fromLatin1(element).section(QLatin1Char(' '), 0, 0);
            int rc = -1;
            ns.nft({QStringLiteral("delete"), QStringLiteral("element"), QStringLiteral("inet"),
                    QStringLiteral("portico"), QStringLiteral("counters"),
                    QStringLiteral("{ %1 }").arg(key)},
                   &rc);
            QCOMPARE(rc, 0);
            ns.nft({QStringLiteral("add"), QStringLiteral("element"), QStringLiteral("inet"),
                    QStringLiteral("portico"), QStringLiteral("counters"),
                    QStringLiteral("{ %1 }").arg(QString::fromLatin1(element))},
                   &rc);
            QCOMPARE(rc, 0);
        }
        QString error;
        const QHash<QString, Counter> c = w.counters(&error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(c.size(), forwards);
        QCOMPARE(c.value(QStringLiteral("f5")).packets, quint64(7));
        QCOMPARE(c.value(QStringLiteral("f5")).bytes, quint64(420));
        QCOMPARE(c.value(QStringLiteral("f999")).packets, quint64(1));
        QCOMPARE(c.value(QStringLiteral("f999")).bytes, quint64(60));
        QCOMPARE(c.value(QStringLiteral("f6")).packets, quint64(0));
        // An element gone behind the writer's back: the others are still read.
        int rc = -1;
        ns.nft({QStringLiteral("delete"), QStringLiteral("element"), QStringLiteral("inet"),
                QStringLiteral("portico"), QStringLiteral("counters"),
                QStringLiteral("{ 0x00000006 }")},
               &rc);
        QCOMPARE(rc, 0);
        const QHash<QString, Counter> fewer = w.counters(&error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(fewer.size(), forwards - 1);
        QVERIFY(!fewer.contains(QStringLiteral("f6")));
        QCOMPARE(fewer.value(QStringLiteral("f5")).packets, quint64(7));
    }

    void tenThousandForwards() {
        ENTER_NETNS(ns);
        RulesetWriter w;
        const QList<Forward> l = many(10000);
        QElapsedTimer t;
        t.start();
        const ApplyError e = w.apply(l);
        const qint64 first = t.nsecsElapsed() / 1000;
        QVERIFY2(e.ok(), qPrintable(e.message));
        t.restart();
        QVERIFY(w.apply(l).ok());
        const qint64 second = t.nsecsElapsed() / 1000;
        qInfo("apply of 10000 forwards: %lld us (empty table), %lld us (replacing)", first, second);
        QCOMPARE(w.counters().size(), 10000);
    }
};

QTEST_GUILESS_MAIN(TestRulesetKernel)
#include "test_ruleset_kernel.moc"
