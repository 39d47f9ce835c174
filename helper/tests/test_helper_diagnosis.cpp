// SPDX-License-Identifier: GPL-3.0-or-later
// The diagnosis's reasoning without root: Diagnosis::evaluate() fed with facts written down
// here (the routes, sysctls, sockets and chains a real gateway would show), and the parser of
// /proc/net/tcp fed with text recorded from a real one. The lab (tests/lab/test_diagnose.py)
// checks the same checks against the real kernel and real traffic.
#include "diagnosis.h"
#include "socket_lookup.h"

#include <QTest>

#include <linux/rtnetlink.h>
#include <netinet/in.h>

#include <cerrno>

using namespace Qt::StringLiterals;
using namespace portico;

namespace {

Forward web() {
    Forward f;
    f.id = u"f1"_s;
    f.name = u"web"_s;
    f.externalPort = {80, 80};
    f.targetAddress = QHostAddress(u"198.51.100.10"_s);
    f.targetPort = {8080, 8080};
    return f;
}

Forward redirect(quint16 to) {
    Forward f = web();
    f.name = u"local"_s;
    f.externalPort = {4321, 4321};
    f.targetAddress = QHostAddress();
    f.targetPort = {to, to};
    return f;
}

Route connected(const QString &net, int len, const QString &dev) {
    Route r;
    r.found = true;
    r.type = RTN_UNICAST;
    r.network = QHostAddress(net);
    r.prefixLength = len;
    r.oifName = dev;
    r.table = RT_TABLE_MAIN;
    return r;
}

Route local(const QString &address) {
    Route r = connected(address, 32, u"lo"_s);
    r.type = RTN_LOCAL;
    return r;
}

// A gateway like the lab's: wan0 203.0.113.1/24, br0 198.51.100.1/24, forwarding on.
DiagnosisFacts gateway() {
    DiagnosisFacts facts;
    facts.forwarding = IpForwarding{true, true};
    facts.target = connected(u"198.51.100.0"_s, 24, u"br0"_s);
    facts.haveRuleset = true;
    return facts;
}

diag::Condition cond(diag::Condition::Kind kind) {
    diag::Condition c;
    c.kind = kind;
    return c;
}

diag::Condition dport(quint16 p) {
    diag::Condition c = cond(diag::Condition::DPort);
    c.ports = {{p, p}};
    c.text = u"dport %1"_s.arg(p);
    return c;
}

diag::Condition net(diag::Condition::Kind kind, const QString &address, int len,
                    bool negate = false) {
    diag::Condition c = cond(kind);
    c.nets = {Cidr{QHostAddress(address), len}};
    c.negate = negate;
    return c;
}

diag::Condition ctState(quint32 bits) {
    diag::Condition c = cond(diag::Condition::CtState);
    c.bits = bits;
    return c;
}

diag::Rule rule(diag::Rule::Verdict v, QList<diag::Condition> conds, quint64 handle = 2,
                const QString &target = {}) {
    diag::Rule r;
    r.verdict = v;
    r.conditions = conds;
    r.handle = handle;
    r.target = target;
    QStringList words;
    for (const diag::Condition &c : conds)
        words.append(c.text);
    r.text = words.join(u' ');
    return r;
}

diag::Chain chain(const QString &family, const QString &table, const QString &name,
                  const QString &hook, int priority, bool policyDrop, QList<diag::Rule> rules,
                  const QString &type = u"filter"_s) {
    diag::Chain c;
    c.family = family;
    c.table = table;
    c.name = name;
    c.hook = hook;
    c.type = hook.isEmpty() ? QString() : type;
    c.priority = priority;
    c.policyDrop = policyDrop;
    c.rules = rules;
    return c;
}

QList<Finding> of(const QList<Finding> &all, const QString &check) {
    QList<Finding> out;
    for (const Finding &f : all) {
        if (f.check == check)
            out.append(f);
    }
    return out;
}

} // namespace

Q_DECLARE_METATYPE(DiagnosisFacts)
Q_DECLARE_METATYPE(Forward)

class TestHelperDiagnosis : public QObject {
    Q_OBJECT
private slots:
    void findings_data();
    void findings();
    void problemsComeFirst();
    void everyCheckAnswers();
    void procNetTcpIsParsed();
};

void TestHelperDiagnosis::findings_data() {
    QTest::addColumn<Forward>("forward");
    QTest::addColumn<DiagnosisFacts>("facts");
    QTest::addColumn<QString>("check");
    QTest::addColumn<QString>("severity");
    QTest::addColumn<QString>("words"); // a part of the first finding's message (or chain)

    using K = diag::Condition;
    using R = diag::Rule;
    const Forward w = web();

    QTest::newRow("a plain working forward") << w << gateway() << u"foreign_drop"_s << u"ok"_s
                                             << u"no other table has a base chain there"_s;
    {
        DiagnosisFacts f = gateway();
        f.forwarding = IpForwarding{false, true};
        QTest::newRow("ip_forward off")
            << w << f << u"ip_forward"_s << u"problem"_s << u"net.ipv4.ip_forward = 0"_s;
        QTest::newRow("ip_forward does not matter for a redirect")
            << redirect(1234) << f << u"ip_forward"_s << u"ok"_s << u"not needed"_s;
    }
    {
        DiagnosisFacts f = gateway();
        Forward in = w;
        in.interface = u"wan0"_s;
        f.sysctls.insert(u"net/ipv4/conf/wan0/forwarding"_s, 0);
        QTest::newRow("forwarding off on the inbound interface")
            << in << f << u"ip_forward"_s << u"problem"_s << u"net.ipv4.conf.wan0.forwarding"_s;
    }
    {
        DiagnosisFacts f = gateway();
        f.chains = {chain(u"inet"_s, u"firewalld"_s, u"filter_FORWARD"_s, u"forward"_s, 10, true,
                          {rule(R::Drop, {ctState(1)})})};
        QTest::newRow("a forward chain with policy drop")
            << w << f << u"foreign_drop"_s << u"problem"_s << u"inet firewalld filter_FORWARD"_s;
        f.chains[0].rules.prepend(rule(R::Accept, {ctState(2 | 4)}, 3));
        f.chains[0].rules.prepend(
            rule(R::Accept, {net(K::DAddr, u"198.51.100.10"_s, 32), dport(8080)}, 4));
        QTest::newRow("... that accepts the forward's packets and replies")
            << w << f << u"foreign_drop"_s << u"ok"_s << u"1 chain of 1 table checked"_s;
        f.chains[0].rules.removeFirst();
        QTest::newRow("... that accepts only the replies")
            << w << f << u"foreign_drop"_s << u"problem"_s << u"new connections"_s;
    }
    {
        DiagnosisFacts f = gateway();
        f.chains = {chain(u"ip"_s, u"filter"_s, u"FORWARD"_s, u"forward"_s, 0, true,
                          {rule(R::Jump, {}, 5, u"DOCKER-USER"_s)}),
                    chain(u"ip"_s, u"filter"_s, u"DOCKER-USER"_s, {}, 0, false,
                          {rule(R::Accept, {net(K::DAddr, u"198.51.100.0"_s, 24)}, 6),
                           rule(R::Accept, {net(K::SAddr, u"198.51.100.0"_s, 24)}, 7)})};
        QTest::newRow("a jump to a chain that accepts")
            << w << f << u"foreign_drop"_s << u"ok"_s << u"checked"_s;
        f.chains[1].rules = {rule(R::Drop, {dport(8080)}, 8)};
        QTest::newRow("a jump to a chain that drops")
            << w << f << u"foreign_drop"_s << u"problem"_s << u"rule handle 8 (dport 8080)"_s;
        f.chains[1].rules = {rule(R::Jump, {}, 9, u"DOCKER-USER"_s)};
        QTest::newRow("a chain that jumps to itself ends, as a maybe")
            << w << f << u"foreign_drop"_s << u"warning"_s << u"policy is drop"_s;
    }
    {
        DiagnosisFacts f = gateway();
        f.chains = {chain(u"inet"_s, u"x"_s, u"fwd"_s, u"forward"_s, 0, false,
                          {rule(R::Drop, {cond(K::Unknown)})})};
        QTest::newRow("a drop rule it cannot decode")
            << w << f << u"foreign_drop"_s << u"warning"_s << u"may drop"_s;
        f.chains[0].rules = {rule(R::Drop, {net(K::SAddr, u"192.0.2.0"_s, 24)})};
        QTest::newRow("a block list of other clients")
            << w << f << u"foreign_drop"_s << u"ok"_s << u"checked"_s;
        f.chains[0].rules = {rule(R::Drop, {net(K::SAddr, u"192.0.2.0"_s, 24, true),
                                            net(K::DAddr, u"198.51.100.10"_s, 32)})};
        QTest::newRow("an allow list of other clients")
            << w << f << u"foreign_drop"_s << u"warning"_s << u"may drop"_s;
        Forward sourced = w;
        sourced.sources = {Cidr{QHostAddress(u"203.0.113.0"_s), 24}};
        QTest::newRow("an allow list the forward's sources are outside of")
            << sourced << f << u"foreign_drop"_s << u"problem"_s << u"new connections"_s;
    }
    {
        DiagnosisFacts f = gateway();
        f.chains = {chain(u"ip"_s, u"raw"_s, u"PREROUTING"_s, u"prerouting"_s, -300, false,
                          {rule(R::Drop, {ctState(1)})})};
        QTest::newRow("ct state invalid drop before conntrack drops everything")
            << w << f << u"foreign_drop"_s << u"problem"_s << u"ip raw PREROUTING"_s;
        f.chains[0].priority = -150;
        QTest::newRow("... after conntrack only invalid packets")
            << w << f << u"foreign_drop"_s << u"ok"_s << u"checked"_s;
    }
    {
        DiagnosisFacts f = gateway();
        f.chains = {chain(u"ip6"_s, u"filter"_s, u"FORWARD"_s, u"forward"_s, 0, true, {})};
        QTest::newRow("an IPv6 chain does not see an IPv4 forward")
            << w << f << u"foreign_drop"_s << u"ok"_s << u"no other table"_s;
        f.chains = {chain(u"inet"_s, u"fw"_s, u"input"_s, u"input"_s, 0, true, {})};
        QTest::newRow("an input chain does not see a forward to another host")
            << w << f << u"foreign_drop"_s << u"ok"_s << u"no other table"_s;
        QTest::newRow("but it does see a redirect")
            << redirect(1234) << f << u"foreign_drop"_s << u"problem"_s << u"inet fw input"_s;
    }
    {
        DiagnosisFacts f = gateway();
        diag::Rule dnat = rule(R::Nat, {dport(80)}, 9);
        dnat.dnat = true;
        f.chains = {chain(u"ip"_s, u"nat"_s, u"PREROUTING"_s, u"prerouting"_s, -110, false, {dnat},
                          u"nat"_s)};
        QTest::newRow("an earlier DNAT of the same port")
            << w << f << u"foreign_dnat"_s << u"problem"_s << u"ip nat PREROUTING"_s;
        f.chains[0].priority = -100;
        QTest::newRow("a DNAT at the same priority")
            << w << f << u"foreign_dnat"_s << u"warning"_s << u"same priority"_s;
        f.chains[0].priority = -90;
        QTest::newRow("a later DNAT") << w << f << u"foreign_dnat"_s << u"ok"_s << u"port 80"_s;
        f.chains[0].priority = -110;
        f.chains[0].rules[0].conditions = {dport(443)};
        QTest::newRow("an earlier DNAT of another port")
            << w << f << u"foreign_dnat"_s << u"ok"_s << u"port 80"_s;
    }
    {
        DiagnosisFacts f = gateway();
        f.target = Route();
        f.target.error = ENETUNREACH;
        QTest::newRow("no route") << w << f << u"route"_s << u"problem"_s << u"no route to"_s;
        f.target.error = EINVAL;
        QTest::newRow("a blackhole route")
            << w << f << u"route"_s << u"problem"_s << u"blackhole"_s;
    }
    {
        DiagnosisFacts f = gateway();
        f.target = connected(u"203.0.113.0"_s, 24, u"wan0"_s);
        Forward in = w;
        in.interface = u"wan0"_s;
        QTest::newRow("the route leaves by the inbound interface")
            << in << f << u"route"_s << u"problem"_s << u"leaves by wan0"_s;
        in.masquerade = true;
        QTest::newRow("... with masquerade") << in << f << u"route"_s << u"ok"_s << u"masquerade"_s;
    }
    {
        DiagnosisFacts f = gateway();
        f.target = connected(u"192.0.2.0"_s, 24, u"br0"_s);
        f.target.gateway = QHostAddress(u"198.51.100.20"_s);
        QTest::newRow("a target behind another router")
            << w << f << u"return_path"_s << u"warning"_s << u"router 198.51.100.20"_s;
        Forward m = w;
        m.masquerade = true;
        QTest::newRow("... with masquerade")
            << m << f << u"return_path"_s << u"ok"_s << u"Masquerade is on"_s;
        QTest::newRow("hairpin is not needed for it")
            << w << f << u"hairpin"_s << u"ok"_s << u"not on a network"_s;
    }
    {
        QTest::newRow("LAN clients without hairpin")
            << w << gateway() << u"hairpin"_s << u"warning"_s << u"198.51.100.0/24 on br0"_s;
        Forward h = w;
        h.hairpin = true;
        QTest::newRow("with hairpin")
            << h << gateway() << u"hairpin"_s << u"ok"_s << u"Hairpin is on"_s;
        DiagnosisFacts f = gateway();
        f.external = connected(u"192.0.2.0"_s, 24, u"wan0"_s);
        Forward on = w;
        on.externalAddress = QHostAddress(u"192.0.2.1"_s);
        QTest::newRow("an external address that is not ours")
            << on << f << u"route"_s << u"warning"_s << u"not an address of this host"_s;
        f.external = local(u"203.0.113.1"_s);
        on.externalAddress = QHostAddress(u"203.0.113.1"_s);
        QTest::newRow("an external address of ours")
            << on << f << u"hairpin"_s << u"warning"_s << u"203.0.113.1 port 80"_s;
    }
    {
        DiagnosisFacts f = gateway();
        Forward in = w;
        in.interface = u"wan0"_s;
        in.sources = {Cidr{QHostAddress(u"192.0.2.0"_s), 24}};
        f.sysctls.insert(u"net/ipv4/conf/wan0/rp_filter"_s, 1);
        f.sources = {{in.sources[0], connected(u"192.0.2.0"_s, 24, u"br0"_s)}};
        QTest::newRow("strict rp_filter, clients routed elsewhere")
            << in << f << u"rp_filter"_s << u"problem"_s << u"192.0.2.0/24 (back by br0)"_s;
        f.sources = {{in.sources[0], connected(u"192.0.2.0"_s, 24, u"wan0"_s)}};
        QTest::newRow("strict rp_filter, clients routed back the same way")
            << in << f << u"rp_filter"_s << u"ok"_s << u"strict on wan0"_s;
        f.sources = {{in.sources[0], connected(u"192.0.2.0"_s, 24, u"br0"_s)}};
        f.sysctls.insert(u"net/ipv4/conf/wan0/rp_filter"_s, 2);
        QTest::newRow("loose rp_filter") << in << f << u"rp_filter"_s << u"ok"_s << u"loose"_s;
        f.sysctls.insert(u"net/ipv4/conf/wan0/rp_filter"_s, 0);
        f.sysctls.insert(u"net/ipv4/conf/all/rp_filter"_s, 1);
        QTest::newRow("all wins when larger")
            << in << f << u"rp_filter"_s << u"problem"_s << u"net.ipv4.conf.all.rp_filter = 1"_s;
        Forward anyone = in;
        anyone.sources.clear();
        f.sources.clear();
        QTest::newRow("strict, anyone, no default route by wan0")
            << anyone << f << u"rp_filter"_s << u"warning"_s << u"default route"_s;
    }
    {
        DiagnosisFacts f = gateway();
        QTest::newRow("a redirect to a port nothing listens on")
            << redirect(1250) << f << u"local_listener"_s << u"problem"_s << u"tcp port 1250"_s;
        f.listeners = {{u"tcp"_s, QHostAddress(u"127.0.0.1"_s), 1240, false}};
        QTest::newRow("a redirect to a loopback-only service")
            << redirect(1240) << f << u"route_localnet"_s << u"problem"_s << u"127.0.0.1:1240"_s;
        f.listeners = {{u"tcp"_s, QHostAddress(QHostAddress::AnyIPv6), 1234, true}};
        QTest::newRow("a redirect to a dual-stack service")
            << redirect(1234) << f << u"local_listener"_s << u"ok"_s << u"tcp [::]:1234"_s;
        f.listeners = {{u"udp"_s, QHostAddress(u"0.0.0.0"_s), 1234, false}};
        QTest::newRow("a udp socket does not serve tcp")
            << redirect(1234) << f << u"local_listener"_s << u"problem"_s << u"tcp port 1234"_s;
        f.listeners = {{u"tcp"_s, QHostAddress(u"0.0.0.0"_s), 80, false}};
        QTest::newRow("a service of the gateway on the external port")
            << w << f << u"local_listener"_s << u"warning"_s << u"tcp 0.0.0.0:80"_s;
        f.listeners = {{u"tcp"_s, QHostAddress(u"127.0.0.1"_s), 80, false}};
        QTest::newRow("a loopback service on the external port is not shadowed")
            << w << f << u"local_listener"_s << u"ok"_s << u"No service"_s;
    }
    {
        Forward off = w;
        off.enabled = false;
        QTest::newRow("disabled") << off << gateway() << u"enabled"_s << u"problem"_s
                                  << u"disabled"_s;
    }
}

void TestHelperDiagnosis::findings() {
    QFETCH(Forward, forward);
    QFETCH(DiagnosisFacts, facts);
    QFETCH(QString, check);
    QFETCH(QString, severity);
    QFETCH(QString, words);
    const QList<Finding> all = Diagnosis::evaluate(forward, facts);
    const QList<Finding> found = of(all, check);
    QVERIFY2(!found.isEmpty(), qPrintable(check));
    const Finding &first = found.first();
    const QString text = first.message + u" | "_s + first.chain;
    QVERIFY2(first.severity == severity, qPrintable(first.severity + u": "_s + text));
    QVERIFY2(text.contains(words, Qt::CaseInsensitive), qPrintable(text));
    if (severity != "ok"_L1)
        QVERIFY2(!first.fix.isEmpty(), qPrintable(text));
    else
        QVERIFY(first.fix.isEmpty());
}

void TestHelperDiagnosis::problemsComeFirst() {
    DiagnosisFacts f = gateway();
    f.forwarding = IpForwarding{false, false};
    const QList<Finding> all = Diagnosis::evaluate(web(), f);
    QCOMPARE(all.first().check, u"ip_forward"_s);
    QCOMPARE(all.first().severity, u"problem"_s);
    QCOMPARE(all.at(1).check, u"hairpin"_s); // the one warning
    for (qsizetype i = 2; i < all.size(); ++i)
        QCOMPARE(all.at(i).severity, u"ok"_s);
    const QVariantMap m = all.first().toVariantMap();
    QCOMPARE(m.keys(), (QStringList{u"check"_s, u"fix"_s, u"message"_s, u"severity"_s}));
}

void TestHelperDiagnosis::everyCheckAnswers() {
    const QStringList checks = {u"enabled"_s,       u"ip_forward"_s,   u"route"_s,
                                u"return_path"_s,   u"hairpin"_s,      u"route_localnet"_s,
                                u"rp_filter"_s,     u"foreign_drop"_s, u"foreign_dnat"_s,
                                u"local_listener"_s};
    for (const Forward &f : {web(), redirect(1234)}) {
        const QList<Finding> all = Diagnosis::evaluate(f, gateway());
        for (const QString &c : checks)
            QVERIFY2(!of(all, c).isEmpty(), qPrintable(f.name + u": "_s + c));
    }
}

void TestHelperDiagnosis::procNetTcpIsParsed() {
    // Recorded from a gateway: a listener on 0.0.0.0:1234, one on 127.0.0.1:631, and an
    // established connection (not a listener).
    const QByteArray tcp =
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
        "timeout inode\n"
        "   0: 00000000:04D2 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        "
        "0 12345 1 0000000000000000 100 0 0 10 0\n"
        "   1: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        "
        "0 12346 1 0000000000000000 100 0 0 10 0\n"
        "   2: 0A6433C6:0050 0A7100CB:D431 01 00000000:00000000 00:00000000 00000000     0        "
        "0 12347 1 0000000000000000 100 0 0 10 0\n";
    const QList<Listener> l = SocketLookup::parse(tcp, u"tcp"_s, false);
    QCOMPARE(l.size(), 2);
    QCOMPARE(l[0].describe(), u"tcp 0.0.0.0:1234"_s);
    QCOMPARE(l[1].describe(), u"tcp 127.0.0.1:631"_s);
    QVERIFY(l[1].isLoopback());
    const QByteArray tcp6 =
        "  sl  local_address                         remote_address                        st\n"
        "   0: 00000000000000000000000000000000:04D2 00000000000000000000000000000000:0000 0A "
        "00000000:00000000 00:00000000 00000000     0        0 1 1\n"
        "   1: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A "
        "00000000:00000000 00:00000000 00000000     0        0 1 1\n";
    const QList<Listener> l6 = SocketLookup::parse(tcp6, u"tcp"_s, true);
    QCOMPARE(l6.size(), 2);
    QCOMPARE(l6[0].describe(), u"tcp [::]:1234"_s);
    QCOMPARE(l6[1].describe(), u"tcp [::1]:22"_s);
    const QByteArray udp = "  sl  local_address rem_address   st\n"
                           "  10: 00000000:04D2 00000000:0000 07 00000000:00000000\n"
                           "  11: 0A6433C6:A000 0A7100CB:0035 01 00000000:00000000\n";
    const QList<Listener> u = SocketLookup::parse(udp, u"udp"_s, false);
    QCOMPARE(u.size(), 1);
    QCOMPARE(u[0].describe(), u"udp 0.0.0.0:1234"_s);
}

QTEST_APPLESS_MAIN(TestHelperDiagnosis)
#include "test_helper_diagnosis.moc"
