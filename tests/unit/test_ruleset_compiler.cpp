// SPDX-License-Identifier: GPL-3.0-or-later
// The ruleset compiler and renderer: which shapes, maps, elements and rules each kind of forward
// turns into, checked on the model and on the nft text.
#include "ruleset_model.h"
#include "ruleset_writer.h"

#include <QTest>

using namespace portico;
using namespace portico::ruleset;

namespace {

Forward fwd(int mark, Protocol proto, quint16 port, const char *target, quint16 targetPort = 0) {
    Forward f;
    f.id = Forward::idForMark(quint32(mark));
    f.name = QStringLiteral("fw%1").arg(mark);
    f.protocol = proto;
    f.externalPort = {port, port};
    if (*target)
        f.targetAddress = QHostAddress(QString::fromLatin1(target));
    if (targetPort)
        f.targetPort = {targetPort, targetPort};
    return f;
}

Cidr cidr(const char *addr, int len) {
    return Cidr{QHostAddress(QString::fromLatin1(addr)), len};
}

// "name:elements" for every named set, in model order.
QString setSummary(const Model &m) {
    QStringList parts;
    for (const Set &s : m.sets) {
        if (!s.anonymous)
            parts << s.name + QLatin1Char(':') + QString::number(s.size());
    }
    return parts.join(QLatin1Char(' '));
}

int ruleCount(const Model &m, const QString &chain) {
    for (const Chain &c : m.chains) {
        if (c.name == chain)
            return int(c.rules.size());
    }
    return -1;
}

} // namespace

class TestRulesetCompiler : public QObject {
    Q_OBJECT

private slots:
    void shapes_data() {
        QTest::addColumn<QList<Forward>>("forwards");
        QTest::addColumn<QString>("sets");
        QTest::addColumn<int>("prerouting");
        QTest::addColumn<int>("output");
        QTest::addColumn<QStringList>("lines"); // in the nft text

        QTest::newRow("tcp") << QList<Forward>{fwd(1, Protocol::Tcp, 80, "198.51.100.10", 8080)}
                             << QStringLiteral("counters:1 v4_dnat_mark:1 v4_dnat_nat:1") << 1 << 1
                             << QStringList{QStringLiteral("tcp . 80 : 198.51.100.10 . 8080"),
                                            QStringLiteral("tcp . 80 : 0x00000001"),
                                            QStringLiteral("meta nfproto ipv4 ip daddr != "
                                                           "127.0.0.0/8 fib daddr type local")};
        QTest::newRow("udp") << QList<Forward>{fwd(2, Protocol::Udp, 53, "198.51.100.10")}
                             << QStringLiteral("counters:1 v4_dnat_mark:1 v4_dnat_nat:1") << 1 << 1
                             << QStringList{QStringLiteral("udp . 53 : 198.51.100.10 . 53")};
        QTest::newRow("tcp+udp") << QList<Forward>{fwd(3, Protocol::TcpUdp, 53, "198.51.100.10")}
                                 << QStringLiteral("counters:1 v4_dnat_mark:2 v4_dnat_nat:2") << 1
                                 << 1
                                 << QStringList{QStringLiteral("tcp . 53 : 198.51.100.10 . 53"),
                                                QStringLiteral("udp . 53 : 198.51.100.10 . 53")};
        Forward range = fwd(4, Protocol::Tcp, 8000, "198.51.100.10");
        range.externalPort = {8000, 8002};
        range.targetPort = {9000, 9002};
        QTest::newRow("range one to one")
            << QList<Forward>{range} << QStringLiteral("counters:1 v4_dnat_mark:3 v4_dnat_nat:3")
            << 1 << 1
            << QStringList{QStringLiteral("tcp . 8000 : 198.51.100.10 . 9000"),
                           QStringLiteral("tcp . 8002 : 198.51.100.10 . 9002")};
        Forward toOne = range;
        toOne.targetPort = {8080, 8080};
        QTest::newRow("range to one port")
            << QList<Forward>{toOne} << QStringLiteral("counters:1 v4_dnat_mark:3 v4_dnat_nat:3")
            << 1 << 1
            << QStringList{QStringLiteral("tcp . 8000 : 198.51.100.10 . 8080"),
                           QStringLiteral("tcp . 8002 : 198.51.100.10 . 8080")};
        Forward iface = fwd(5, Protocol::Tcp, 80, "198.51.100.10");
        iface.interface = QStringLiteral("wan0");
        QTest::newRow("interface, not in the output hook")
            << QList<Forward>{iface}
            << QStringLiteral("counters:1 v4_if_dnat_mark:1 v4_if_dnat_nat:1") << 1 << 0
            << QStringList{QStringLiteral("\"wan0\" . tcp . 80 : 198.51.100.10 . 80"),
                           QStringLiteral("type ifname . inet_proto . inet_service : ipv4_addr . "
                                          "inet_service")};
        Forward addr = fwd(6, Protocol::Tcp, 80, "198.51.100.10");
        addr.externalAddress = QHostAddress(QStringLiteral("203.0.113.1"));
        QTest::newRow("external address, no fib check")
            << QList<Forward>{addr}
            << QStringLiteral("counters:1 v4_addr_dnat_mark:1 v4_addr_dnat_nat:1") << 1 << 1
            << QStringList{QStringLiteral("203.0.113.1 . tcp . 80 : 198.51.100.10 . 80"),
                           QStringLiteral("meta nfproto ipv4 ct mark set ip daddr . meta l4proto "
                                          ". th dport map @v4_addr_dnat_mark counter dnat ip to ip "
                                          "daddr . meta l4proto . th dport map @v4_addr_dnat_nat")};
        Forward src = fwd(7, Protocol::Tcp, 22, "198.51.100.10");
        src.sources = {cidr("203.0.113.0", 24), cidr("192.0.2.7", 32)};
        QTest::newRow("sources, one hash map per prefix length")
            << QList<Forward>{src}
            << QStringLiteral("counters:1 v4_src32_dnat_mark:1 v4_src32_dnat_nat:1 "
                              "v4_src24_dnat_mark:1 v4_src24_dnat_nat:1")
            << 2 << 2
            << QStringList{QStringLiteral("203.0.113.0 . tcp . 22 : 198.51.100.10 . 22"),
                           QStringLiteral("192.0.2.7 . tcp . 22 : 198.51.100.10 . 22"),
                           QStringLiteral("ct mark set ip saddr & 255.255.255.0 . meta l4proto . "
                                          "th dport map @v4_src24_dnat_mark"),
                           QStringLiteral("ct mark set ip saddr . meta l4proto . th dport map "
                                          "@v4_src32_dnat_mark")};
        QTest::newRow("local redirect, both families")
            << QList<Forward>{fwd(8, Protocol::Tcp, 4321, "", 1234)}
            << QStringLiteral("counters:1 v4_redir_mark:1 v4_redir_nat:1 v6_redir_mark:1 "
                              "v6_redir_nat:1")
            << 2 << 2
            << QStringList{
                   QStringLiteral("tcp . 4321 : 1234"),
                   QStringLiteral("redirect to : meta l4proto . th dport map @v6_redir_nat"),
                   QStringLiteral("type inet_proto . inet_service : inet_service")};
        Forward masq = fwd(9, Protocol::Tcp, 80, "198.51.100.10");
        masq.masquerade = true;
        QTest::newRow("masquerade")
            << QList<Forward>{masq}
            << QStringLiteral("counters:1 masquerade_marks:1 v4_dnat_mark:1 v4_dnat_nat:1") << 1
            << 1
            << QStringList{QStringLiteral("ct status dnat ct mark & 0x00ffffff @masquerade_marks "
                                          "counter masquerade")};
        Forward hp = fwd(10, Protocol::Tcp, 443, "198.51.100.10");
        hp.interface = QStringLiteral("wan0");
        hp.hairpin = true;
        QTest::newRow("hairpin: also without interface")
            << QList<Forward>{hp}
            << QStringLiteral("counters:1 hairpin_marks:1 v4_if_dnat_mark:1 v4_if_dnat_nat:1 "
                              "v4_dnat_mark:1 v4_dnat_nat:1")
            << 2 << 1
            << QStringList{
                   QStringLiteral("ct state new ct status dnat ct mark @hairpin_marks fib "
                                  "daddr . iif oif != 0 counter ct mark set ct mark | 0x01000000"),
                   QStringLiteral("ct status dnat ct mark & 0x01000000 == 0x01000000 "
                                  "counter masquerade")};
        Forward off = fwd(11, Protocol::Tcp, 80, "198.51.100.10");
        off.enabled = false;
        QTest::newRow("disabled is left out")
            << QList<Forward>{off} << QString() << 0 << 0 << QStringList{};
        Forward v6 = fwd(12, Protocol::Tcp, 80, "2001:db8::10", 8080);
        QTest::newRow("IPv6")
            << QList<Forward>{v6} << QStringLiteral("counters:1 v6_dnat_mark:1 v6_dnat_nat:1") << 1
            << 1
            << QStringList{QStringLiteral("tcp . 80 : 2001:db8::10 . 8080"),
                           QStringLiteral("meta nfproto ipv6 fib daddr type local"),
                           QStringLiteral("dnat ip6 to meta l4proto . th dport map @v6_dnat_nat")};
        Forward v6src = fwd(13, Protocol::Udp, 500, "2001:db8::10");
        v6src.sources = {cidr("2001:db8:ff::", 48)};
        v6src.externalAddress = QHostAddress(QStringLiteral("2001:db8::1"));
        QTest::newRow("IPv6 sources and address")
            << QList<Forward>{v6src}
            << QStringLiteral("counters:1 v6_src48_addr_dnat_mark:1 v6_src48_addr_dnat_nat:1") << 1
            << 1
            << QStringList{QStringLiteral("2001:db8:ff:: . 2001:db8::1 . udp . 500 : "
                                          "2001:db8::10 . 500"),
                           QStringLiteral("dnat ip6 to ip6 saddr & ffff:ffff:ffff:: . ip6 daddr")};
    }

    void shapes() {
        QFETCH(QList<Forward>, forwards);
        QFETCH(QString, sets);
        QFETCH(int, prerouting);
        QFETCH(int, output);
        QFETCH(QStringList, lines);
        const Model m = compile(forwards);
        QCOMPARE(setSummary(m), sets);
        QCOMPARE(ruleCount(m, QStringLiteral("prerouting")), prerouting);
        QCOMPARE(ruleCount(m, QStringLiteral("output")), output);
        const QString text = renderText(m);
        for (const QString &line : lines)
            QVERIFY2(text.contains(line), qPrintable(line + QLatin1String("\nnot in:\n") + text));
    }

    void emptyListHasChainsOnly() {
        const Model m = compile({});
        QVERIFY(m.sets.isEmpty());
        QCOMPARE(m.chains.size(), 7);
        for (const Chain &c : m.chains)
            QVERIFY2(c.rules.isEmpty(), qPrintable(c.name));
        QVERIFY(renderRuleset({}).startsWith(QLatin1String(
            "table inet portico\ndelete table inet portico\ntable inet portico {\n")));
    }

    void countersForEnabledForwardsOnly() {
        Forward off = fwd(2, Protocol::Tcp, 81, "198.51.100.10");
        off.enabled = false;
        const Model m = compile({fwd(1, Protocol::Tcp, 80, "198.51.100.10"), off,
                                 fwd(3, Protocol::Udp, 80, "198.51.100.10")});
        QCOMPARE(m.sets.first().name, QStringLiteral("counters"));
        QVERIFY(m.sets.first().counter);
        QCOMPARE(m.sets.first().owners, (std::vector<int>{0, 2}));
        QCOMPARE(ruleCount(m, QStringLiteral("forward")), 1);
        QCOMPARE(ruleCount(m, QStringLiteral("input")), 1);
        QCOMPARE(ruleCount(m, QStringLiteral("output_filter")), 1);
        const QString text = renderText(m);
        QVERIFY(text.contains(QLatin1String("\tset counters {\n\t\ttype mark\n\t\tsize 1024\n"
                                            "\t\tcounter\n\t\telements = { 0x00000001,\n")));
        QVERIFY(text.contains(QLatin1String("0x00000003 }")));
        QVERIFY(!text.contains(QLatin1String("0x00000002")));
        QVERIFY(text.contains(
            QLatin1String("ct status dnat ct mark & 0x00ffffff @counters counter accept\n")));
    }

    // A hit ends the chain, so a restricted forward must come before a catch-all on its port.
    void specificShapesFirst() {
        Forward any = fwd(1, Protocol::Tcp, 80, "198.51.100.10");
        Forward src = fwd(2, Protocol::Tcp, 80, "198.51.100.11");
        src.sources = {cidr("203.0.113.0", 24)};
        Forward iface = fwd(3, Protocol::Tcp, 80, "198.51.100.12");
        iface.interface = QStringLiteral("wan0");
        const Model m = compile({any, iface, src});
        const QString text = renderText(m);
        const qsizetype s = text.indexOf(QLatin1String("map @v4_src24_dnat_nat"));
        const qsizetype i = text.indexOf(QLatin1String("map @v4_if_dnat_nat"));
        const qsizetype a = text.indexOf(QLatin1String("map @v4_dnat_nat"));
        QVERIFY(s > 0 && i > 0 && a > 0);
        QVERIFY(s < i);
        QVERIFY(i < a);
    }

    // Each forward's elements are contiguous in every set, as the writer's error mapping needs.
    void elementsGroupedByForward() {
        QList<Forward> l;
        for (int i = 1; i <= 20; ++i) {
            Forward f = fwd(i, Protocol::TcpUdp, quint16(1000 + 10 * i), "198.51.100.10");
            f.externalPort.last = quint16(f.externalPort.first + 3);
            l << f;
        }
        const Model m = compile(l);
        for (const Set &s : m.sets) {
            QSet<int> seen;
            int last = -2;
            for (int owner : s.owners) {
                if (owner != last) {
                    QVERIFY2(!seen.contains(owner), qPrintable(s.name));
                    seen.insert(owner);
                    last = owner;
                }
            }
        }
        QCOMPARE(setSummary(m), QStringLiteral("counters:20 v4_dnat_mark:160 v4_dnat_nat:160"));
    }

    void hashSetsAreSizedWithRoom() {
        QList<Forward> l;
        for (int i = 1; i <= 3000; ++i)
            l << fwd(i, Protocol::Tcp, quint16(i), "198.51.100.10");
        const Model m = compile(l);
        for (const Set &s : m.sets) {
            if (s.anonymous)
                continue;
            QVERIFY2(s.capacity >= 2 * quint32(s.size()), qPrintable(s.name));
        }
        QVERIFY(renderText(m).contains(QLatin1String("size 8192")));
    }

    void blameNamesBusKeys() {
        QCOMPARE(blameKey(Blame::ExternalPort), QStringLiteral("external_port"));
        QCOMPARE(blameLabel(Blame::ExternalPort), QStringLiteral("external port"));
        QCOMPARE(blameKey(Blame::Sources), QStringLiteral("sources"));
        QCOMPARE(blameKey(Blame::Id), QStringLiteral("id"));
    }
};

QTEST_GUILESS_MAIN(TestRulesetCompiler)
#include "test_ruleset_compiler.moc"
