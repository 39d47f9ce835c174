// SPDX-License-Identifier: GPL-3.0-or-later
// The parsers of the kernel's replies, fed with messages recorded from a real kernel (Linux
// 6.18, `strace -e read=3` of the writer): ACKs with and without an extended-ACK offset, and one
// counter object of a GETOBJ dump.
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
// `counter f9 { packets 7 bytes 420 }` in table inet portico, as GETOBJ dumps it.
const char counterF9[] = "60000000 120a0208 000fe10e 27440000 01000002 0c000100 706f7274"
                         "69636f00 07000200 66390000 08000300 00000001 0c000600 00000000"
                         "00000001 08000500 00000000 1c000400 0c000100 00000000 000001a4"
                         "0c000200 00000000 00000007";

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

    void counterObject() {
        const QByteArray m = hex(counterF9);
        QString name;
        Counter c;
        QVERIFY(ruleset::parseCounterObject(asMessage(m), &name, &c));
        QCOMPARE(name, QStringLiteral("f9"));
        QCOMPARE(c.packets, quint64(7));
        QCOMPARE(c.bytes, quint64(420));
    }

    // The same message with the table renamed (edited from the recording): not ours.
    void counterOfAnotherTableIsIgnored() {
        QByteArray m = hex(counterF9);
        const qsizetype at = m.indexOf("portico");
        QVERIFY(at > 0);
        m[at + 6] = 'x';
        QString name;
        Counter c;
        QVERIFY(!ruleset::parseCounterObject(asMessage(m), &name, &c));
    }

    void ackIsNotACounter() {
        const QByteArray m = hex(ackOk);
        QString name;
        Counter c;
        QVERIFY(!ruleset::parseCounterObject(asMessage(m), &name, &c));
    }
};

QTEST_GUILESS_MAIN(TestRulesetNetlink)
#include "test_ruleset_netlink.moc"
