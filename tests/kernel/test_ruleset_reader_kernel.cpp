// SPDX-License-Identifier: GPL-3.0-or-later
// RulesetReader against the real kernel: foreign tables shaped like firewalld's, Docker's and
// iptables-nft's are loaded with nft in a network namespace of the test's own, next to our
// table as RulesetWriter writes it, and the reader's view is checked against what was loaded.
#include "ruleset_reader.h"
#include "ruleset_writer.h"

#include "kernel_netns.h"

#include <QProcess>
#include <QTest>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace portico;
using portico::kerneltest::Netns;

namespace {

// Shaped like firewalld's table (a zone dispatch, a policy drop at forward) and Docker's
// iptables-nft tables, with one rule of each kind of match the reader decodes.
const char foreign[] = R"(table inet firewalld {
	chain filter_FORWARD {
		type filter hook forward priority filter + 10; policy drop;
		ct state { established, related } accept
		ct state invalid drop
		iifname "lo" accept
		ip daddr 198.51.100.0/24 tcp dport { 80, 443, 8000-8010 } counter accept
		meta l4proto udp th dport 53 reject
		ip6 daddr 2001:db8::10 tcp dport 22 accept
		iifname "wan*" oifname != "lan0" ct state new drop
		tcp dport 1024-2048 accept
		meta mark 0x1 accept
		jump filter_FORWARD_ZONES
	}
	chain filter_FORWARD_ZONES {
		iifname "wan0" return
		oifname "lan0" goto filter_FORWARD_public
	}
	chain filter_FORWARD_public {
		accept
	}
}
table ip filter {
	chain FORWARD {
		type filter hook forward priority filter; policy accept;
		counter jump DOCKER-USER
		ip saddr 203.0.113.0/25 ip protocol udp drop
	}
	chain DOCKER-USER {
		return
	}
	chain OUTPUT {
		type filter hook output priority filter; policy accept;
		ip daddr 192.0.2.1 udp dport 9 counter
	}
}
table ip nat {
	chain PREROUTING {
		type nat hook prerouting priority dstnat; policy accept;
		tcp dport 8080 dnat to 198.51.100.20:80
		udp dport 5353 redirect to :53
	}
	chain POSTROUTING {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan0" masquerade
	}
}
table arp guard {
	chain in {
		type filter hook input priority 0; policy accept;
	}
}
)";

const ChainView *chainOf(const RulesetSnapshot &s, const char *family, const char *table,
                         const char *chain) {
    return s.find(QLatin1String(family), QLatin1String(table), QLatin1String(chain));
}

const RuleMatch *matchOf(const RuleView &r, RuleMatch::Field f) {
    for (const RuleMatch &m : r.matches) {
        if (m.field == f)
            return &m;
    }
    return nullptr;
}

using Ports = QList<QPair<quint16, quint16>>;

} // namespace

class TestRulesetReaderKernel : public QObject {
    Q_OBJECT
private slots:
    void chainsOfEveryFamily();
    void rulesDecoded();
    void countersAndGeneration();
    void iptablesNftTargets();
    void ctStatus();
};

void TestRulesetReaderKernel::chainsOfEveryFamily() {
    ENTER_NETNS(ns);
    QString out;
    QVERIFY2(ns.load(foreign, &out) == 0, qPrintable(out));
    RulesetWriter writer;
    Forward web;
    web.id = QStringLiteral("f1");
    web.name = QStringLiteral("web");
    web.externalPort = {80, 80};
    web.targetAddress = QHostAddress(QStringLiteral("198.51.100.10"));
    QVERIFY(writer.apply({web}).ok());

    RulesetReader reader;
    RulesetSnapshot s;
    QCOMPARE(reader.read(&s), QString());
    QVERIFY(s.generation > 0);

    const ChainView *fw = chainOf(s, "inet", "firewalld", "filter_FORWARD");
    QVERIFY(fw);
    QVERIFY(fw->base);
    QCOMPARE(fw->hook, QStringLiteral("forward"));
    QCOMPARE(fw->priority, 10);
    QCOMPARE(fw->type, QStringLiteral("filter"));
    QCOMPARE(fw->policy, QStringLiteral("drop"));
    QCOMPARE(fw->rules.size(), 10);
    QVERIFY(!fw->ours);
    const ChainView *zones = chainOf(s, "inet", "firewalld", "filter_FORWARD_ZONES");
    QVERIFY(zones);
    QVERIFY(!zones->base);

    const ChainView *pre = chainOf(s, "ip", "nat", "PREROUTING");
    QVERIFY(pre);
    QCOMPARE(pre->type, QStringLiteral("nat"));
    QCOMPARE(pre->priority, -100);
    QCOMPARE(pre->natRules(), 2u);
    const ChainView *arp = chainOf(s, "arp", "guard", "in");
    QVERIFY(arp);
    QCOMPARE(arp->hook, QStringLiteral("input"));

    // Our table: marked, and its prerouting chain among the others in priority order.
    bool oursSeen = false;
    for (const ChainView &c : s.chains) {
        QCOMPARE(c.ours, c.family == QLatin1String("inet") && c.table == QLatin1String("portico"));
        oursSeen = oursSeen || c.ours;
    }
    QVERIFY(oursSeen);
    const QList<const ChainView *> at =
        s.baseChainsAt(QStringLiteral("forward"), QStringLiteral("ip"));
    // Ours and Docker's share priority 0; firewalld's at 10 comes last.
    QStringList order;
    for (const ChainView *c : at)
        order << c->label();
    QCOMPARE(order.size(), 3);
    QCOMPARE(order.last(), QStringLiteral("inet firewalld filter_FORWARD"));
    QVERIFY(order.contains(QStringLiteral("inet portico forward")));
    QVERIFY(order.contains(QStringLiteral("ip filter FORWARD")));
    // The ip6 path does not see the ip table.
    QCOMPARE(s.baseChainsAt(QStringLiteral("forward"), QStringLiteral("ip6")).size(), 2);

    // The contract's shape.
    const QList<QVariantMap> summary = s.summary();
    QVariantMap row;
    for (const QVariantMap &m : summary) {
        if (m.value(QStringLiteral("chain")) == QLatin1String("filter_FORWARD"))
            row = m;
    }
    QCOMPARE(row.value(QStringLiteral("family")).toString(), QStringLiteral("inet"));
    QCOMPARE(row.value(QStringLiteral("table")).toString(), QStringLiteral("firewalld"));
    QCOMPARE(row.value(QStringLiteral("hook")).toString(), QStringLiteral("forward"));
    QCOMPARE(row.value(QStringLiteral("priority")).toInt(), 10);
    QCOMPARE(row.value(QStringLiteral("policy")).toString(), QStringLiteral("drop"));
    QCOMPARE(row.value(QStringLiteral("rules")).toUInt(), 10u);
    QCOMPARE(row.value(QStringLiteral("drop_rules")).toUInt(), 3u); // drop, reject, drop
    QCOMPARE(row.value(QStringLiteral("ours")).toBool(), false);
    QCOMPARE(row.value(QStringLiteral("counted")).toBool(), true); // one of its rules counts
    for (const QVariantMap &m : summary) {
        if (m.value(QStringLiteral("table")) == QLatin1String("nat"))
            QVERIFY(!m.value(QStringLiteral("counted")).toBool()); // no rule of ip nat counts
    }
    for (const QVariantMap &m : summary)
        QVERIFY2(m.size() == 14, qPrintable(m.keys().join(QLatin1Char(' '))));
}

void TestRulesetReaderKernel::rulesDecoded() {
    ENTER_NETNS(ns);
    QString out;
    QVERIFY2(ns.load(foreign, &out) == 0, qPrintable(out));
    ns.exec(QStringLiteral("ip"), {QStringLiteral("link"), QStringLiteral("set"),
                                   QStringLiteral("lo"), QStringLiteral("up")});
    RulesetReader reader;
    RulesetSnapshot s;
    QCOMPARE(reader.read(&s), QString());
    const ChainView *fw = chainOf(s, "inet", "firewalld", "filter_FORWARD");
    QVERIFY(fw && fw->rules.size() == 10);
    using F = RuleMatch::Field;

    const RuleView &established = fw->rules[0];
    QCOMPARE(established.verdict, QStringLiteral("accept"));
    QVERIFY(!established.opaque);
    QCOMPARE(matchOf(established, F::CtState)->values,
             (QStringList{QStringLiteral("established"), QStringLiteral("related")}));

    const RuleView &invalid = fw->rules[1];
    QCOMPARE(invalid.verdict, QStringLiteral("drop"));
    QCOMPARE(matchOf(invalid, F::CtState)->values, QStringList{QStringLiteral("invalid")});
    QVERIFY(!matchOf(invalid, F::CtState)->negated);

    QCOMPARE(matchOf(fw->rules[2], F::IifName)->values, QStringList{QStringLiteral("lo")});

    const RuleView &web = fw->rules[3];
    QVERIFY(!web.opaque);
    QVERIFY(web.hasCounter);
    QCOMPARE(matchOf(web, F::DAddr)->values, QStringList{QStringLiteral("198.51.100.0/24")});
    QCOMPARE(matchOf(web, F::L4Proto)->values, QStringList{QStringLiteral("tcp")});
    QCOMPARE(matchOf(web, F::DPort)->ports, (Ports{{80, 80}, {443, 443}, {8000, 8010}}));
    QCOMPARE(matchOf(web, F::NfProto)->values, QStringList{QStringLiteral("ipv4")});

    const RuleView &dns = fw->rules[4];
    QCOMPARE(dns.verdict, QStringLiteral("reject"));
    QVERIFY(dns.dropsOrRejects());
    QCOMPARE(matchOf(dns, F::L4Proto)->values, QStringList{QStringLiteral("udp")});
    QCOMPARE(matchOf(dns, F::DPort)->ports, (Ports{{53, 53}}));

    const RuleView &ssh6 = fw->rules[5];
    QCOMPARE(matchOf(ssh6, F::DAddr)->values, QStringList{QStringLiteral("2001:db8::10")});
    QCOMPARE(matchOf(ssh6, F::NfProto)->values, QStringList{QStringLiteral("ipv6")});

    const RuleView &wan = fw->rules[6];
    QCOMPARE(matchOf(wan, F::IifName)->values, QStringList{QStringLiteral("wan*")});
    QVERIFY(matchOf(wan, F::OifName)->negated);
    QCOMPARE(matchOf(wan, F::OifName)->values, QStringList{QStringLiteral("lan0")});
    QCOMPARE(matchOf(wan, F::CtState)->values, QStringList{QStringLiteral("new")});
    QVERIFY(!wan.opaque);

    QCOMPARE(matchOf(fw->rules[7], F::DPort)->ports, (Ports{{1024, 2048}}));
    QVERIFY(!fw->rules[7].opaque);

    QVERIFY(fw->rules[8].opaque); // meta mark: not decoded
    QCOMPARE(fw->rules[8].verdict, QStringLiteral("accept"));

    QCOMPARE(fw->rules[9].verdict, QStringLiteral("jump"));
    QCOMPARE(fw->rules[9].target, QStringLiteral("filter_FORWARD_ZONES"));
    const ChainView *zones = chainOf(s, "inet", "firewalld", "filter_FORWARD_ZONES");
    QCOMPARE(zones->rules[0].verdict, QStringLiteral("return"));
    QCOMPARE(zones->rules[1].verdict, QStringLiteral("goto"));

    const ChainView *docker = chainOf(s, "ip", "filter", "FORWARD");
    QCOMPARE(docker->rules[1].verdict, QStringLiteral("drop"));
    QCOMPARE(matchOf(docker->rules[1], F::SAddr)->values,
             QStringList{QStringLiteral("203.0.113.0/25")});
    QCOMPARE(matchOf(docker->rules[1], F::L4Proto)->values, QStringList{QStringLiteral("udp")});

    const ChainView *pre = chainOf(s, "ip", "nat", "PREROUTING");
    QVERIFY(pre->rules[0].dnat);
    QCOMPARE(matchOf(pre->rules[0], F::DPort)->ports, (Ports{{8080, 8080}}));
    QVERIFY(pre->rules[1].redirect);
    QVERIFY(chainOf(s, "ip", "nat", "POSTROUTING")->rules[0].masquerade);
    QVERIFY(!chainOf(s, "ip", "nat", "POSTROUTING")->rules[0].natsDestination());
}

void TestRulesetReaderKernel::countersAndGeneration() {
    ENTER_NETNS(ns);
    QString out;
    QVERIFY2(ns.load(foreign, &out) == 0, qPrintable(out));
    ns.exec(QStringLiteral("ip"), {QStringLiteral("link"), QStringLiteral("set"),
                                   QStringLiteral("lo"), QStringLiteral("up")});
    ns.exec(QStringLiteral("ip"),
            {QStringLiteral("addr"), QStringLiteral("add"), QStringLiteral("192.0.2.1/32"),
             QStringLiteral("dev"), QStringLiteral("lo")});
    RulesetReader reader;
    quint32 g1 = 0, g2 = 0, g3 = 0;
    QCOMPARE(reader.generation(&g1), QString());
    QCOMPARE(reader.generation(&g2), QString());
    QCOMPARE(g1, g2); // reading changes nothing

    // Three datagrams to the discard port through the output chain's counter rule.
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    QVERIFY(fd >= 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(9);
    inet_pton(AF_INET, "192.0.2.1", &to.sin_addr);
    for (int i = 0; i < 3; ++i)
        QCOMPARE(sendto(fd, "abcd", 4, 0, reinterpret_cast<sockaddr *>(&to), sizeof to), 4);
    close(fd);
    RulesetSnapshot s;
    QCOMPARE(reader.read(&s), QString());
    const ChainView *output = chainOf(s, "ip", "filter", "OUTPUT");
    QVERIFY(output);
    QCOMPARE(output->counters().packets, quint64(3));
    QCOMPARE(output->counters().bytes, quint64(3 * (20 + 8 + 4)));
    QCOMPARE(s.generation, g2);

    QCOMPARE(ns.load("add table ip extra\n", &out), 0);
    QCOMPARE(reader.generation(&g3), QString());
    QVERIFY(g3 != g2);
}

// iptables-nft writes -j REJECT and -j DNAT as xtables targets inside nft rules.
void TestRulesetReaderKernel::iptablesNftTargets() {
    ENTER_NETNS(ns);
    QString out;
    const QStringList reject{QStringLiteral("-A"),  QStringLiteral("FORWARD"), QStringLiteral("-p"),
                             QStringLiteral("tcp"), QStringLiteral("--dport"), QStringLiteral("25"),
                             QStringLiteral("-j"),  QStringLiteral("REJECT")};
    QVERIFY2(
        ns.exec(QStringLiteral("iptables-nft"), reject, {}, &out) == 0,
        qPrintable(QStringLiteral("iptables-nft (Debian package iptables) is needed: ") + out));
    const QStringList dnat{QStringLiteral("-t"),
                           QStringLiteral("nat"),
                           QStringLiteral("-A"),
                           QStringLiteral("PREROUTING"),
                           QStringLiteral("-p"),
                           QStringLiteral("tcp"),
                           QStringLiteral("--dport"),
                           QStringLiteral("2222"),
                           QStringLiteral("-j"),
                           QStringLiteral("DNAT"),
                           QStringLiteral("--to-destination"),
                           QStringLiteral("198.51.100.10:22")};
    QVERIFY2(ns.exec(QStringLiteral("iptables-nft"), dnat, {}, &out) == 0, qPrintable(out));
    RulesetReader reader;
    RulesetSnapshot s;
    QCOMPARE(reader.read(&s), QString());
    const ChainView *forward = chainOf(s, "ip", "filter", "FORWARD");
    QVERIFY(forward && forward->rules.size() == 1);
    QCOMPARE(forward->rules[0].verdict, QStringLiteral("reject"));
    QCOMPARE(forward->dropRules(), 1u);
    QCOMPARE(matchOf(forward->rules[0], RuleMatch::Field::DPort)->ports, (Ports{{25, 25}}));
    const ChainView *pre = chainOf(s, "ip", "nat", "PREROUTING");
    QVERIFY(pre && pre->rules.size() == 1);
    QVERIFY(pre->rules[0].dnat);
    QCOMPARE(pre->natRules(), 1u);
}

// firewalld accepts DNATed flows with `ct status dnat accept`; the reader must see that rule as
// a plain match, or the diagnosis would warn that firewalld may drop every forward.
void TestRulesetReaderKernel::ctStatus() {
    ENTER_NETNS(ns);
    QString out;
    QVERIFY2(ns.load(R"(table inet fw {
	chain forward {
		type filter hook forward priority filter + 10; policy drop;
		ct status dnat accept
		ct status != assured,snat drop
	}
}
)",
                     &out) == 0,
             qPrintable(out));
    RulesetReader reader;
    RulesetSnapshot s;
    QCOMPARE(reader.read(&s), QString());
    const ChainView *fw = chainOf(s, "inet", "fw", "forward");
    QVERIFY(fw && fw->rules.size() == 2);
    using F = RuleMatch::Field;
    const RuleView &dnat = fw->rules[0];
    QVERIFY(!dnat.opaque);
    QCOMPARE(dnat.verdict, QStringLiteral("accept"));
    QVERIFY(matchOf(dnat, F::CtStatus));
    QCOMPARE(matchOf(dnat, F::CtStatus)->values, QStringList{QStringLiteral("dnat")});
    QVERIFY(!matchOf(dnat, F::CtStatus)->negated);
    const RuleView &other = fw->rules[1];
    QVERIFY(!other.opaque);
    QCOMPARE(matchOf(other, F::CtStatus)->values,
             (QStringList{QStringLiteral("assured"), QStringLiteral("snat")}));
    QVERIFY(matchOf(other, F::CtStatus)->negated);
}

QTEST_GUILESS_MAIN(TestRulesetReaderKernel)
#include "test_ruleset_reader_kernel.moc"
