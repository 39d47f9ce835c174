// SPDX-License-Identifier: GPL-3.0-or-later
// The ctnetlink side of the conntrack view without a kernel: the filter a{sv} a client sends
// (every key, every wrong type, the values out of range), what a filter matches, and a
// ctnetlink message (built with libnetfilter_conntrack as the kernel's dump would carry it)
// parsed into a stream record.
#include "conntrack_netlink.h"

#include <QDBusArgument>
#include <QDir>
#include <QTemporaryDir>
#include <QTest>

#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack_tcp.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include <arpa/inet.h>
#include <cstring>
#include <endian.h>

using namespace portico;
using portico::ctstream::EntryRecord;

namespace {

EntryRecord record(const char *src, const char *dst, quint16 sport, quint16 dport,
                   const char *replySrc, quint16 replySport, quint8 proto, quint32 mark) {
    EntryRecord e{};
    e.family = AF_INET;
    e.protocol = proto;
    inet_pton(AF_INET, src, e.origSrc);
    inet_pton(AF_INET, dst, e.origDst);
    inet_pton(AF_INET, replySrc, e.replySrc);
    inet_pton(AF_INET, src, e.replyDst);
    e.origSport = sport;
    e.origDport = dport;
    e.replySport = replySport;
    e.replyDport = sport;
    e.mark = mark;
    e.id = 42;
    return e;
}

} // namespace

class TestHelperConntrack : public QObject {
    Q_OBJECT
private slots:
    void parseFilter_data() {
        QTest::addColumn<QVariantMap>("map");
        QTest::addColumn<bool>("allowIds");
        QTest::addColumn<QString>("error"); // a part of the message, or empty for success
        const auto s = [](const char *t) {
            return QString::fromLatin1(t);
        };
        QTest::newRow("empty") << QVariantMap{} << false << QString();
        QTest::newRow("all keys") << QVariantMap{{s("forwarded"), true},
                                                 {s("forward"), s("f3")},
                                                 {s("address"), s("198.51.100.10")},
                                                 {s("port"), 8080u},
                                                 {s("protocol"), s("udp")}}
                                  << false << QString();
        QTest::newRow("ipv6 address")
            << QVariantMap{{s("address"), s("2001:db8::10")}} << false << QString();
        QTest::newRow("unknown key")
            << QVariantMap{{s("colour"), s("red")}} << false << s("no key 'colour'");
        QTest::newRow("ids not for watch")
            << QVariantMap{{s("ids"), QVariant::fromValue(QList<uint>{1})}} << false
            << s("no key 'ids'");
        QTest::newRow("ids for kill")
            << QVariantMap{{s("ids"), QVariant::fromValue(QList<uint>{1, 2})}} << true << QString();
        QTest::newRow("empty ids") << QVariantMap{{s("ids"), QVariant::fromValue(QList<uint>{})}}
                                   << true << s("at least one");
        QTest::newRow("port zero") << QVariantMap{{s("port"), 0u}} << false << s("1 to 65535");
        QTest::newRow("port too big")
            << QVariantMap{{s("port"), 70000u}} << false << s("not 70000");
        QTest::newRow("port as string")
            << QVariantMap{{s("port"), s("80")}} << false << s("a port number (u)");
        QTest::newRow("forwarded as int")
            << QVariantMap{{s("forwarded"), 1}} << false << s("a boolean (b)");
        QTest::newRow("forward not an id")
            << QVariantMap{{s("forward"), s("web")}} << false << s("like 'f3'");
        QTest::newRow("forward leading zero")
            << QVariantMap{{s("forward"), s("f03")}} << false << s("like 'f3'");
        QTest::newRow("address with prefix") << QVariantMap{{s("address"), s("198.51.100.0/24")}}
                                             << false << s("one IPv4 or IPv6 address");
        QTest::newRow("address garbage")
            << QVariantMap{{s("address"), s("gateway")}} << false << s("not 'gateway'");
        QTest::newRow("protocol unknown")
            << QVariantMap{{s("protocol"), s("tcp+udp")}} << false << s("not 'tcp+udp'");
    }
    void parseFilter() {
        QFETCH(QVariantMap, map);
        QFETCH(bool, allowIds);
        QFETCH(QString, error);
        conntrack::Filter f;
        const QString got = conntrack::parseFilter(map, allowIds, &f);
        if (error.isEmpty())
            QVERIFY2(got.isEmpty(), qPrintable(got));
        else
            QVERIFY2(got.contains(error), qPrintable(got));
    }

    void matches_data() {
        QTest::addColumn<QVariantMap>("map");
        QTest::addColumn<bool>("web");   // a DNATed TCP flow of forward f3
        QTest::addColumn<bool>("other"); // an unmarked UDP flow
        const auto s = [](const char *t) {
            return QString::fromLatin1(t);
        };
        QTest::newRow("nothing") << QVariantMap{} << true << true;
        QTest::newRow("forwarded") << QVariantMap{{s("forwarded"), true}} << true << false;
        QTest::newRow("forward f3") << QVariantMap{{s("forward"), s("f3")}} << true << false;
        QTest::newRow("forward f4") << QVariantMap{{s("forward"), s("f4")}} << false << false;
        QTest::newRow("reply address")
            << QVariantMap{{s("address"), s("198.51.100.10")}} << true << false;
        QTest::newRow("client address")
            << QVariantMap{{s("address"), s("203.0.113.10")}} << true << true;
        QTest::newRow("ipv6 address")
            << QVariantMap{{s("address"), s("2001:db8::10")}} << false << false;
        QTest::newRow("reply port") << QVariantMap{{s("port"), 8080u}} << true << false;
        QTest::newRow("udp") << QVariantMap{{s("protocol"), s("udp")}} << false << true;
        QTest::newRow("tcp and port")
            << QVariantMap{{s("protocol"), s("tcp")}, {s("port"), 53u}} << false << false;
    }
    void matches() {
        QFETCH(QVariantMap, map);
        QFETCH(bool, web);
        QFETCH(bool, other);
        conntrack::Filter f;
        QVERIFY(conntrack::parseFilter(map, false, &f).isEmpty());
        // The hairpin bit above the forward's number does not change which forward it is.
        const EntryRecord w = record("203.0.113.10", "203.0.113.1", 40000, 80, "198.51.100.10",
                                     8080, IPPROTO_TCP, 3 | 0x01000000);
        const EntryRecord o =
            record("203.0.113.10", "203.0.113.1", 40001, 53, "203.0.113.1", 53, IPPROTO_UDP, 0);
        const QSet<quint32> marks{3, 4};
        QCOMPARE(f.matches(w, marks), web);
        QCOMPARE(f.matches(o, marks), other);
    }

    void forwardedNeedsAnExistingForward() {
        conntrack::Filter f;
        f.forwarded = true;
        const EntryRecord w =
            record("203.0.113.10", "203.0.113.1", 40000, 80, "198.51.100.10", 8080, IPPROTO_TCP, 7);
        QVERIFY(!f.matches(w, {3}));
        QVERIFY(f.matches(w, {3, 7}));
    }

    void parseMessage() {
        // The message as a dump or a NEW event carries it.
        nf_conntrack *ct = nfct_new();
        nfct_set_attr_u8(ct, ATTR_L3PROTO, AF_INET);
        nfct_set_attr_u8(ct, ATTR_L4PROTO, IPPROTO_TCP);
        nfct_set_attr_u8(ct, ATTR_REPL_L3PROTO, AF_INET);
        nfct_set_attr_u8(ct, ATTR_REPL_L4PROTO, IPPROTO_TCP);
        nfct_set_attr_u32(ct, ATTR_ORIG_IPV4_SRC, inet_addr("203.0.113.10"));
        nfct_set_attr_u32(ct, ATTR_ORIG_IPV4_DST, inet_addr("203.0.113.1"));
        nfct_set_attr_u32(ct, ATTR_REPL_IPV4_SRC, inet_addr("198.51.100.10"));
        nfct_set_attr_u32(ct, ATTR_REPL_IPV4_DST, inet_addr("203.0.113.10"));
        nfct_set_attr_u16(ct, ATTR_ORIG_PORT_SRC, htons(40000));
        nfct_set_attr_u16(ct, ATTR_ORIG_PORT_DST, htons(80));
        nfct_set_attr_u16(ct, ATTR_REPL_PORT_SRC, htons(8080));
        nfct_set_attr_u16(ct, ATTR_REPL_PORT_DST, htons(40000));
        nfct_set_attr_u8(ct, ATTR_TCP_STATE, TCP_CONNTRACK_ESTABLISHED);
        nfct_set_attr_u32(ct, ATTR_STATUS, IPS_SEEN_REPLY | IPS_ASSURED | IPS_DST_NAT);
        nfct_set_attr_u32(ct, ATTR_TIMEOUT, 431);
        nfct_set_attr_u32(ct, ATTR_MARK, 3);
        nfct_set_attr_u32(ct, ATTR_ID, 0xdeadbeef);
        char buf[MNL_SOCKET_BUFFER_SIZE];
        nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
        nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
        auto *nfh = static_cast<nfgenmsg *>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
        nfh->nfgen_family = AF_INET;
        nfh->version = NFNETLINK_V0;
        QVERIFY(nfct_nlmsg_build(nlh, ct) == 0);
        nfct_destroy(ct);
        // libnetfilter_conntrack leaves the id out of what it builds; the kernel sends it.
        mnl_attr_put_u32(nlh, CTA_ID, htonl(0xdeadbeef));

        EntryRecord e;
        QCOMPARE(conntrack::parseMessage(nlh, &e), conntrack::MessageKind::New);
        EntryRecord viaNfct;
        QCOMPARE(conntrack::parseMessageNfct(nlh, &viaNfct), conntrack::MessageKind::New);
        QVERIFY(std::memcmp(&e, &viaNfct, sizeof e) == 0);
        QCOMPARE(e.id, 0xdeadbeefu);
        QCOMPARE(int(e.family), AF_INET);
        QCOMPARE(int(e.protocol), IPPROTO_TCP);
        QCOMPARE(int(e.tcpState), int(TCP_CONNTRACK_ESTABLISHED));
        QCOMPARE(e.timeout, 431u);
        QCOMPARE(e.mark, 3u);
        QVERIFY(e.status & IPS_DST_NAT);
        QCOMPARE(e.origSport, quint16(40000));
        QCOMPARE(e.origDport, quint16(80));
        QCOMPARE(e.replySport, quint16(8080));
        quint32 a;
        std::memcpy(&a, e.replySrc, 4);
        QCOMPARE(a, quint32(inet_addr("198.51.100.10")));
        QCOMPARE(e.origPackets, 0u); // no counters in the message: accounting off

        // Without NLM_F_CREATE it is an update; as IPCTNL_MSG_CT_DELETE a destroy; another
        // subsystem's message is none of ours.
        nlh->nlmsg_flags = 0;
        QCOMPARE(conntrack::parseMessage(nlh, &e), conntrack::MessageKind::Update);
        nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
        QCOMPARE(conntrack::parseMessage(nlh, &e), conntrack::MessageKind::Destroy);
        nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK_EXP << 8) | IPCTNL_MSG_CT_NEW;
        QCOMPARE(conntrack::parseMessage(nlh, &e), conntrack::MessageKind::Other);
    }

    // The direct parser and libnetfilter_conntrack's agree on every kind of entry.
    void parsersAgree_data() {
        QTest::addColumn<int>("family");
        QTest::addColumn<int>("protocol");
        QTest::addColumn<bool>("counters");
        QTest::newRow("tcp4") << AF_INET << int(IPPROTO_TCP) << false;
        QTest::newRow("udp4 counters") << AF_INET << int(IPPROTO_UDP) << true;
        QTest::newRow("tcp6 counters") << AF_INET6 << int(IPPROTO_TCP) << true;
        QTest::newRow("udp6") << AF_INET6 << int(IPPROTO_UDP) << false;
        QTest::newRow("icmp") << AF_INET << int(IPPROTO_ICMP) << false;
        QTest::newRow("icmpv6") << AF_INET6 << int(IPPROTO_ICMPV6) << true;
    }
    void parsersAgree() {
        QFETCH(int, family);
        QFETCH(int, protocol);
        QFETCH(bool, counters);
        nf_conntrack *ct = nfct_new();
        nfct_set_attr_u8(ct, ATTR_L3PROTO, family);
        nfct_set_attr_u8(ct, ATTR_L4PROTO, protocol);
        nfct_set_attr_u8(ct, ATTR_REPL_L3PROTO, family);
        nfct_set_attr_u8(ct, ATTR_REPL_L4PROTO, protocol);
        if (family == AF_INET) {
            nfct_set_attr_u32(ct, ATTR_ORIG_IPV4_SRC, inet_addr("203.0.113.10"));
            nfct_set_attr_u32(ct, ATTR_ORIG_IPV4_DST, inet_addr("203.0.113.1"));
            nfct_set_attr_u32(ct, ATTR_REPL_IPV4_SRC, inet_addr("198.51.100.10"));
            nfct_set_attr_u32(ct, ATTR_REPL_IPV4_DST, inet_addr("203.0.113.10"));
        } else {
            in6_addr a, b, c;
            inet_pton(AF_INET6, "2001:db8:1::10", &a);
            inet_pton(AF_INET6, "2001:db8:1::1", &b);
            inet_pton(AF_INET6, "2001:db8:2::10", &c);
            nfct_set_attr(ct, ATTR_ORIG_IPV6_SRC, &a);
            nfct_set_attr(ct, ATTR_ORIG_IPV6_DST, &b);
            nfct_set_attr(ct, ATTR_REPL_IPV6_SRC, &c);
            nfct_set_attr(ct, ATTR_REPL_IPV6_DST, &a);
        }
        if (protocol == IPPROTO_ICMP || protocol == IPPROTO_ICMPV6) {
            nfct_set_attr_u8(ct, ATTR_ICMP_TYPE, protocol == IPPROTO_ICMP ? 8 : 128);
            nfct_set_attr_u8(ct, ATTR_ICMP_CODE, 0);
            nfct_set_attr_u16(ct, ATTR_ICMP_ID, htons(777));
        } else {
            nfct_set_attr_u16(ct, ATTR_ORIG_PORT_SRC, htons(40000));
            nfct_set_attr_u16(ct, ATTR_ORIG_PORT_DST, htons(443));
            nfct_set_attr_u16(ct, ATTR_REPL_PORT_SRC, htons(8443));
            nfct_set_attr_u16(ct, ATTR_REPL_PORT_DST, htons(40000));
        }
        if (protocol == IPPROTO_TCP)
            nfct_set_attr_u8(ct, ATTR_TCP_STATE, TCP_CONNTRACK_SYN_SENT);
        nfct_set_attr_u32(ct, ATTR_STATUS, IPS_CONFIRMED);
        nfct_set_attr_u32(ct, ATTR_TIMEOUT, 30);
        nfct_set_attr_u32(ct, ATTR_MARK, 0x01000005);
        char buf[MNL_SOCKET_BUFFER_SIZE];
        nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
        auto *nfh = static_cast<nfgenmsg *>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
        nfh->nfgen_family = quint8(family);
        nfh->version = NFNETLINK_V0;
        QVERIFY(nfct_nlmsg_build(nlh, ct) == 0);
        nfct_destroy(ct);
        mnl_attr_put_u32(nlh, CTA_ID, htonl(12345));
        if (counters) {
            // As the kernel sends them with accounting on (libnetfilter_conntrack builds none).
            for (int dir : {CTA_COUNTERS_ORIG, CTA_COUNTERS_REPLY}) {
                nlattr *nest = mnl_attr_nest_start(nlh, dir);
                mnl_attr_put_u64(nlh, CTA_COUNTERS_PACKETS,
                                 htobe64(dir == CTA_COUNTERS_ORIG ? 5 : 4));
                mnl_attr_put_u64(nlh, CTA_COUNTERS_BYTES,
                                 htobe64(dir == CTA_COUNTERS_ORIG ? 400 : 3000));
                mnl_attr_nest_end(nlh, nest);
            }
        }
        EntryRecord direct, viaNfct;
        QCOMPARE(conntrack::parseMessage(nlh, &direct), conntrack::MessageKind::Destroy);
        QCOMPARE(conntrack::parseMessageNfct(nlh, &viaNfct), conntrack::MessageKind::Destroy);
        QCOMPARE(direct.id, 12345u);
        QCOMPARE(direct.mark, 0x01000005u);
        QCOMPARE(direct.origPackets, counters ? 5u : 0u);
        QCOMPARE(direct.replyBytes, counters ? 3000u : 0u);
        QCOMPARE(direct.origSport, viaNfct.origSport);
        QCOMPARE(direct.origDport, viaNfct.origDport);
        if (protocol == IPPROTO_ICMP || protocol == IPPROTO_ICMPV6) {
            QCOMPARE(direct.origSport, quint16(777)); // the ICMP id, and type << 8 | code
            QCOMPARE(direct.origDport, quint16(protocol == IPPROTO_ICMP ? 8 << 8 : 128 << 8));
            // libnetfilter_conntrack keeps no ICMP fields of the reply tuple: compare the rest.
            direct.replySport = viaNfct.replySport;
            direct.replyDport = viaNfct.replyDport;
        }
        QVERIFY(std::memcmp(&direct, &viaNfct, sizeof direct) == 0);

        // An attribute of the wrong size (the id in 2 bytes) is refused, not misread.
        nlattr *last = nullptr;
        auto *at = static_cast<char *>(mnl_nlmsg_get_payload_offset(nlh, sizeof(nfgenmsg)));
        const char *end = reinterpret_cast<char *>(nlh) + nlh->nlmsg_len;
        while (at < end) {
            auto *attr = reinterpret_cast<nlattr *>(at);
            if (mnl_attr_get_type(attr) == CTA_ID)
                last = attr;
            at += MNL_ALIGN(attr->nla_len);
        }
        QVERIFY(last);
        last->nla_len = MNL_ATTR_HDRLEN + 2;
        QCOMPARE(conntrack::parseMessage(nlh, &direct), conntrack::MessageKind::Other);
    }

    void accountingFile() {
        QTemporaryDir dir;
        QVERIFY(QDir(dir.path()).mkpath(QStringLiteral("net/netfilter")));
        bool on = true;
        QVERIFY(!conntrack::readAccounting(&on, dir.path()).isEmpty()); // missing: an error
        QVERIFY(conntrack::writeAccounting(false, dir.path()).isEmpty());
        QVERIFY(conntrack::readAccounting(&on, dir.path()).isEmpty());
        QVERIFY(!on);
        QVERIFY(conntrack::writeAccounting(true, dir.path()).isEmpty());
        QVERIFY(conntrack::readAccounting(&on, dir.path()).isEmpty());
        QVERIFY(on);
    }
};

QTEST_GUILESS_MAIN(TestHelperConntrack)
#include "test_helper_conntrack.moc"
