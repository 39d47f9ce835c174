// SPDX-License-Identifier: GPL-3.0-or-later
// The parsers of the kernel's replies, fed with messages recorded from a real kernel (Linux
// 6.18, `strace -e read=3` of the writer): ACKs with and without an extended-ACK offset, and the
// counters set of a GETSETELEM dump.
#include "netlink_batch.h"
#include "ruleset_netlink.h"

#include <QTest>

#include <cerrno>
#include <linux/netlink.h>

using namespace portico;

namespace {

QByteArray hex(const char *text) {
    return QByteArray::fromHex(QByteArray(text).replace(' ', ""));
}

const nlmsghdr *asMessage(const QByteArray &bytes) {
    return reinterpret_cast<const nlmsghdr *>(bytes.constData());
}

// ACK of a NEWSETELEM that went in.
const char ackOk[] = "24000000 02000001 1804e10e bd410000 00000000 84000000 0c0a0506 1804e10e"
                     "00000000";
// The kernel's refusal of a NEWSETELEM holding an element that exists: EEXIST, capped, with
// NLMSGERR_ATTR_OFFS = 128 (the refused element's attribute).
const char ackExists[] = "2c000000 02000003 1904e10e bd410000 efffffff a0000000 0c0a0506"
                         "1904e10e 00000000 08000200 80000000";
// The counters set of table inet portico with marks 9 (7 packets, 420 bytes) and 42 (1, 60),
// as GETSETELEM dumps it; then the empty message that ends such a dump.
const char counters[] = "ac000000 0c0a0200 00c6e20e e9080000 01000002 0c000100 706f7274"
                        "69636f00 0d000200 636f756e 74657273 00000000 7c000300 3c000100"
                        "0c000100 08000100 09000000 2c000700 0c000100 636f756e 74657200"
                        "1c000200 0c000100 00000000 000001a4 0c000200 00000000 00000007"
                        "3c000100 0c000100 08000100 2a000000 2c000700 0c000100 636f756e"
                        "74657200 1c000200 0c000100 00000000 0000003c 0c000200 00000000"
                        "00000001";
const char countersEnd[] = "34000000 0c0a0200 00c6e20e e9080000 01000002 0c000100 706f7274"
                           "69636f00 0d000200 636f756e 74657273 00000000 04000300";

} // namespace

class TestRulesetNetlink : public QObject {
    Q_OBJECT

private slots:
    void plainAck() {
        const QByteArray m = hex(ackOk);
        QString extack = QStringLiteral("untouched");
        int64_t offset = -1;
        QCOMPARE(netlink::parseAck(asMessage(m), &extack, &offset), 0);
        QCOMPARE(offset, int64_t(-1));
    }

    void refusalWithOffset() {
        const QByteArray m = hex(ackExists);
        QString extack;
        int64_t offset = -1;
        QCOMPARE(netlink::parseAck(asMessage(m), &extack, &offset), EEXIST);
        QCOMPARE(offset, int64_t(128));
        QVERIFY(extack.isEmpty());
    }

    void truncatedAckIsBad() {
        QByteArray m = hex(ackExists).left(24);
        reinterpret_cast<nlmsghdr *>(m.data())->nlmsg_len = 24;
        QString extack;
        QCOMPARE(netlink::parseAck(asMessage(m), &extack), EBADMSG);
    }

    void counterElements() {
        const QByteArray m = hex(counters);
        QHash<QString, Counter> out;
        QVERIFY(ruleset::parseCounterElements(asMessage(m), &out));
        QCOMPARE(out.size(), 2);
        QCOMPARE(out.value(QStringLiteral("f9")).packets, quint64(7));
        QCOMPARE(out.value(QStringLiteral("f9")).bytes, quint64(420));
        QCOMPARE(out.value(QStringLiteral("f42")).packets, quint64(1));
        QCOMPARE(out.value(QStringLiteral("f42")).bytes, quint64(60));
    }

    void emptyElementsMessage() {
        const QByteArray m = hex(countersEnd);
        QHash<QString, Counter> out;
        QVERIFY(ruleset::parseCounterElements(asMessage(m), &out));
        QVERIFY(out.isEmpty());
    }

    // The same message with the table renamed (edited from the recording): not ours.
    void counterOfAnotherTableIsIgnored() {
        QByteArray m = hex(counters);
        const qsizetype at = m.indexOf("portico");
        QVERIFY(at > 0);
        m[at + 6] = 'x';
        QHash<QString, Counter> out;
        QVERIFY(!ruleset::parseCounterElements(asMessage(m), &out));
        QVERIFY(out.isEmpty());
    }

    void ackIsNotACounter() {
        const QByteArray m = hex(ackOk);
        QHash<QString, Counter> out;
        QVERIFY(!ruleset::parseCounterElements(asMessage(m), &out));
    }
};

QTEST_GUILESS_MAIN(TestRulesetNetlink)
#include "test_ruleset_netlink.moc"
