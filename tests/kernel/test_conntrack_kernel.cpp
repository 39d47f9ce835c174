// SPDX-License-Identifier: GPL-3.0-or-later
// The ctnetlink dump requests of helper/conntrack_netlink.cpp against the real kernel, in a
// network namespace of the test's own: a dump asked for one forward's mark (the counter
// refresh's CTA_MARK/CTA_MARK_MASK request) lists exactly that forward's entries, hairpin bit
// or not; one asked for DNATed entries (CTA_STATUS/CTA_STATUS_MASK) lists just those; and a
// plain dump lists them all. And KillConnections' killMatching, whose deletes copy each entry's
// tuple, zone and id from the dump: it deletes what its filter matches, of every family,
// protocol and zone, and nothing else.
#include "conntrack_netlink.h"

#include "kernel_netns.h"

#include <QTest>

#include <libmnl/libmnl.h>

#include <algorithm>
#include <linux/netfilter/nf_conntrack_common.h>
#include <poll.h>
#include <vector>

using namespace portico;
using portico::kerneltest::Netns;

namespace {

// Reads the dump `seq` to its end: the marks of the entries it listed (sorted), or -1 in the
// first element on an error.
std::vector<qint64> readMarks(mnl_socket *nl, quint32 seq) {
    std::vector<qint64> marks;
    std::vector<char> buf(1 << 16);
    for (;;) {
        pollfd p{mnl_socket_get_fd(nl), POLLIN, 0};
        if (poll(&p, 1, 5000) <= 0)
            return {-1};
        const ssize_t n = mnl_socket_recvfrom(nl, buf.data(), buf.size());
        if (n < 0)
            return {-1};
        int left = int(n);
        for (auto *h = reinterpret_cast<nlmsghdr *>(buf.data()); mnl_nlmsg_ok(h, left);
             h = mnl_nlmsg_next(h, &left)) {
            if (h->nlmsg_seq != seq)
                continue;
            if (h->nlmsg_type == NLMSG_DONE) {
                std::sort(marks.begin(), marks.end());
                return marks;
            }
            if (h->nlmsg_type == NLMSG_ERROR)
                return {-1};
            ctstream::EntryRecord r;
            if (conntrack::parseMessage(h, &r) != conntrack::MessageKind::Other)
                marks.push_back(r.mark);
        }
    }
}

// Inserts a conntrack entry in the namespace: conntrack -I with `args`, a timeout and a mark.
bool insert(Netns &ns, const QStringList &args, quint32 mark) {
    QString out;
    const int rc = ns.exec(QStringLiteral("conntrack"),
                           QStringList{QStringLiteral("-I")} + args +
                               QStringList{QStringLiteral("-t"), QStringLiteral("100"),
                                           QStringLiteral("-m"), QString::number(mark)},
                           {}, &out);
    if (rc != 0)
        qWarning("conntrack -I %s: %s", qPrintable(args.join(u' ')), qPrintable(out));
    return rc == 0;
}

std::vector<qint64> dumpMarks(const conntrack::DumpFilter &filter) {
    QString error;
    mnl_socket *nl = conntrack::openSocket(false, 0, &error);
    if (!nl)
        return {-1};
    const quint32 seq = conntrack::requestDump(nl, &error, filter);
    std::vector<qint64> marks = seq ? readMarks(nl, seq) : std::vector<qint64>{-1};
    mnl_socket_close(nl);
    return marks;
}

} // namespace

class TestConntrackKernel : public QObject {
    Q_OBJECT
private slots:
    void markFilteredDumpListsOneForward();
    void statusFilteredDumpListsTheDnatedOnes();
    void killDeletesWhatItsFilterMatchesInEveryFamilyAndZone();
};

void TestConntrackKernel::markFilteredDumpListsOneForward() {
    ENTER_NETNS(ns);
    // Forward 5's flows (one with the hairpin bit), forward 6's, forward 0x105 (whose low
    // byte is 5 too: the mask must cover all 24 bits), and one without a mark.
    const quint32 marks[] = {5, 5, 0x01000005, 6, 0x105, 0};
    int sport = 5000;
    for (const quint32 mark : marks) {
        QString out;
        const int rc = ns.exec(
            QStringLiteral("conntrack"),
            {QStringLiteral("-I"), QStringLiteral("-p"), QStringLiteral("udp"),
             QStringLiteral("-s"), QStringLiteral("203.0.113.10"), QStringLiteral("-d"),
             QStringLiteral("203.0.113.1"), QStringLiteral("--sport"), QString::number(sport++),
             QStringLiteral("--dport"), QStringLiteral("53"), QStringLiteral("-t"),
             QStringLiteral("100"), QStringLiteral("-m"), QString::number(mark)},
            {}, &out);
        QVERIFY2(rc == 0, qPrintable(out));
    }
    const auto byMark = [](quint32 mark) {
        return conntrack::DumpFilter{mark, conntrack::forwardMarkMask, 0, 0};
    };
    QCOMPARE(dumpMarks({}), (std::vector<qint64>{0, 5, 5, 6, 0x105, 0x01000005}));
    QCOMPARE(dumpMarks(byMark(5)), (std::vector<qint64>{5, 5, 0x01000005}));
    QCOMPARE(dumpMarks(byMark(6)), (std::vector<qint64>{6}));
    QCOMPARE(dumpMarks(byMark(7)), (std::vector<qint64>{}));
}

void TestConntrackKernel::statusFilteredDumpListsTheDnatedOnes() {
    ENTER_NETNS(ns);
    // Marks 1 and 2 DNATed (as our rules do), 3 not.
    int sport = 6000;
    for (const quint32 mark : {1u, 2u, 3u}) {
        QStringList args{
            QStringLiteral("-I"),          QStringLiteral("-p"),           QStringLiteral("udp"),
            QStringLiteral("-s"),          QStringLiteral("203.0.113.10"), QStringLiteral("-d"),
            QStringLiteral("203.0.113.1"), QStringLiteral("--sport"),      QString::number(sport++),
            QStringLiteral("--dport"),     QStringLiteral("53"),           QStringLiteral("-t"),
            QStringLiteral("100"),         QStringLiteral("-m"),           QString::number(mark)};
        if (mark != 3)
            args << QStringLiteral("--dst-nat") << QStringLiteral("198.51.100.10");
        QString out;
        QVERIFY2(ns.exec(QStringLiteral("conntrack"), args, {}, &out) == 0, qPrintable(out));
    }
    QCOMPARE(dumpMarks({}), (std::vector<qint64>{1, 2, 3}));
    QCOMPARE(dumpMarks({0, 0, IPS_DST_NAT, IPS_DST_NAT}), (std::vector<qint64>{1, 2}));
}

void TestConntrackKernel::killDeletesWhatItsFilterMatchesInEveryFamilyAndZone() {
    ENTER_NETNS(ns);
    const auto s = [](const char *text) {
        return QString::fromLatin1(text);
    };
    // Forward 5's flows: UDP, the same tuple in zone 7, ICMP (id, type and code in its tuple),
    // TCP over IPv6. Forward 6's: one UDP flow, which must survive.
    const QStringList udp{s("-p"),          s("udp"),     s("-s"),   s("203.0.113.10"), s("-d"),
                          s("203.0.113.1"), s("--sport"), s("5000"), s("--dport"),      s("53")};
    QVERIFY(insert(ns, udp, 5));
    QVERIFY(insert(ns, udp + QStringList{s("-w"), s("7")}, 5));
    QVERIFY(insert(ns,
                   {s("-p"), s("icmp"), s("-s"), s("203.0.113.10"), s("-d"), s("203.0.113.1"),
                    s("--icmp-type"), s("8"), s("--icmp-code"), s("0"), s("--icmp-id"), s("42")},
                   5));
    QVERIFY(
        insert(ns,
               {s("-p"), s("tcp"), s("-s"), s("2001:db8::10"), s("-d"), s("2001:db8::1"),
                s("--sport"), s("40000"), s("--dport"), s("443"), s("--state"), s("ESTABLISHED")},
               5));
    QVERIFY(insert(ns,
                   {s("-p"), s("udp"), s("-s"), s("203.0.113.11"), s("-d"), s("203.0.113.1"),
                    s("--sport"), s("5001"), s("--dport"), s("53")},
                   6));
    QCOMPARE(dumpMarks({}), (std::vector<qint64>{5, 5, 5, 5, 6}));
    const QSet<quint32> forwards{5, 6};
    const auto same = [](const ctstream::EntryRecord &r) {
        return r.id;
    };
    conntrack::Filter filter;
    filter.forwardMark = 5;
    quint32 killed = 0;
    QCOMPARE(conntrack::killMatching(filter, forwards, same, &killed), QString());
    QCOMPARE(killed, 4u);
    QCOMPARE(dumpMarks({}), (std::vector<qint64>{6}));
    // Nothing left to match: nothing killed, no error.
    QCOMPARE(conntrack::killMatching(filter, forwards, same, &killed), QString());
    QCOMPARE(killed, 0u);
    QCOMPARE(dumpMarks({}), (std::vector<qint64>{6}));
}

QTEST_GUILESS_MAIN(TestConntrackKernel)
#include "test_conntrack_kernel.moc"
