// SPDX-License-Identifier: GPL-3.0-or-later
// The forwards table model without a helper: merging refreshes row by row (never a reset),
// pending edits and their statuses, the rebase that "keep mine" does, and the counter rates;
// plus the iptables equivalents and the ruleset excerpt that the dialog's preview shows.
// Test data reads better as plain literals; the app itself keeps QT_NO_CAST_FROM_ASCII.
#undef QT_NO_CAST_FROM_ASCII

#include "forward_dialog.h"
#include "forward_table_model.h"
#include "iptables_commands.h"
#include "ruleset_excerpt.h"
#include "ui_forward_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QLineEdit>
#include <QNetworkInterface>
#include <QPushButton>

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

using namespace portico;
using Status = ForwardTableModel::Status;

namespace {

Forward fwd(const QString &id, const QString &name, quint16 port, const QString &target = {}) {
    Forward f;
    f.id = id;
    f.name = name;
    f.externalPort = {port, port};
    if (!target.isEmpty())
        f.targetAddress = QHostAddress(target);
    f.targetPort = {8080, 8080};
    return f;
}

QStringList names(const ForwardTableModel &m) {
    QStringList out;
    for (const auto &r : m.rows())
        out << r.forward.name;
    return out;
}

} // namespace

class TestForwardTableModel : public QObject {
    Q_OBJECT
private slots:
    void refreshIsIncrementalNeverAReset();
    void pendingEditsAndStatuses();
    void editBackToAppliedIsNotPending();
    void keepPendingRebasesOnTheirSet();
    void dropPendingTakesTheirSet();
    void keyLookupFollowsRemovals();
    void checkboxIsAPendingEdit();
    void countersGiveRates();
    void iptables_data();
    void iptables();
    void iptablesHairpinNamesTheTargetsNetwork();
    void excerptPicksTheForwardsElements();
    void dialogPresetFillsProtocolAndPort();
    void dialogOffersTheHostsInterfaces();
    void dialogRoundTripsAForward();
};

void TestForwardTableModel::refreshIsIncrementalNeverAReset() {
    ForwardTableModel m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy reset(&m, &QAbstractItemModel::modelReset);
    QSignalSpy inserted(&m, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&m, &QAbstractItemModel::rowsRemoved);
    QSignalSpy changed(&m, &QAbstractItemModel::dataChanged);

    m.setApplied({fwd("f1", "a", 80), fwd("f2", "b", 81), fwd("f3", "c", 82)});
    QCOMPARE(m.rowCount(), 3);
    QCOMPARE(inserted.count(), 1);

    // Same set again: nothing moves, nothing is signalled.
    m.setApplied({fwd("f1", "a", 80), fwd("f2", "b", 81), fwd("f3", "c", 82)});
    QCOMPARE(changed.count(), 0);
    QCOMPARE(inserted.count(), 1);

    // b changed, c gone, d new: one change, one remove, one insert.
    m.setApplied({fwd("f1", "a", 80), fwd("f2", "b2", 81), fwd("f4", "d", 83)});
    QCOMPARE(names(m), (QStringList{"a", "b2", "d"}));
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.first().at(0).toModelIndex().row(), 1);
    QCOMPARE(removed.count(), 1);
    QCOMPARE(inserted.count(), 2);
    QCOMPARE(reset.count(), 0);
}

void TestForwardTableModel::pendingEditsAndStatuses() {
    ForwardTableModel m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    m.setApplied({fwd("f1", "a", 80), fwd("f2", "b", 81)});
    QVERIFY(!m.hasPendingChanges());

    const QString added = m.addPending(fwd("ignored", "c", 82));
    QVERIFY(added.startsWith(QStringLiteral("new:")));
    QVERIFY(m.rowAt(m.rowForKey(added)).forward.id.isEmpty()); // the helper chooses ids
    Forward a = m.rowAt(m.rowForKey("f1")).forward;
    a.targetPort = {9000, 9000};
    m.editPending("f1", a);
    m.deletePending("f2");

    QCOMPARE(m.rowAt(m.rowForKey("f1")).status, Status::Edited);
    QCOMPARE(m.rowAt(m.rowForKey("f2")).status, Status::Deleted);
    QCOMPARE(m.rowAt(m.rowForKey(added)).status, Status::Added);
    QCOMPARE(m.pendingCount(), 3);
    QCOMPARE(m.index(m.rowForKey("f2"), ForwardTableModel::StatusColumn).data().toString(),
             ForwardTableModel::statusText(Status::Deleted));
    QVERIFY(m.index(m.rowForKey("f2"), ForwardTableModel::NameColumn)
                .data(Qt::FontRole)
                .value<QFont>()
                .strikeOut());

    const QList<Forward> working = m.workingSet();
    QCOMPARE(working.size(), 2); // the delete is left out
    QCOMPARE(working.at(0).id, QStringLiteral("f1"));
    QCOMPARE(working.at(0).targetPort.first, quint16(9000));
    QCOMPARE(working.at(1).name, QStringLiteral("c"));
    QCOMPARE(m.appliedSet().size(), 2);
    QCOMPARE(m.pendingSummary(), (QStringList{"change 'a'", "delete 'b'", "add 'c'"}));

    m.deletePending(added); // a pending add just goes
    QCOMPARE(m.rowCount(), 2);
    m.revertRow("f1");
    m.revertRow("f2");
    QVERIFY(!m.hasPendingChanges());
}

void TestForwardTableModel::editBackToAppliedIsNotPending() {
    ForwardTableModel m;
    m.setApplied({fwd("f1", "a", 80)});
    Forward a = m.rowAt(0).forward;
    a.comment = QStringLiteral("x");
    m.editPending("f1", a);
    QCOMPARE(m.rowAt(0).status, Status::Edited);
    a.comment.clear();
    m.editPending("f1", a);
    QCOMPARE(m.rowAt(0).status, Status::Applied);
}

void TestForwardTableModel::keepPendingRebasesOnTheirSet() {
    ForwardTableModel m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    m.setApplied({fwd("f1", "a", 80), fwd("f2", "b", 81), fwd("f3", "c", 82)});
    Forward a = m.rowAt(0).forward;
    a.enabled = false;
    m.editPending("f1", a); // mine: a disabled
    m.deletePending("f2");  // mine: b deleted
    Forward c = m.rowAt(2).forward;
    c.comment = QStringLiteral("mine");
    m.editPending("f3", c); // mine: c edited
    m.addPending(fwd({}, "n", 90));

    // Theirs: a renamed, b removed, c removed, e added.
    m.setApplied({fwd("f1", "a-theirs", 80), fwd("f5", "e", 85)}, true);
    QCOMPARE(m.rowAt(m.rowForKey("f1")).forward.enabled, false); // my edit wins
    QCOMPARE(m.rowAt(m.rowForKey("f1")).forward.name, QStringLiteral("a"));
    QCOMPARE(m.rowAt(m.rowForKey("f1")).applied->name, QStringLiteral("a-theirs"));
    QCOMPARE(m.rowForKey("f2"), -1); // deleted on both sides: gone
    QCOMPARE(m.rowForKey("f3"), -1); // my edit of a removed forward...
    bool cAsAdd = false;
    for (const auto &r : m.rows())
        if (r.forward.name == QLatin1StringView("c"))
            cAsAdd = r.status == Status::Added && r.forward.id.isEmpty() && !r.applied;
    QVERIFY(cAsAdd); // ...comes back as a pending add
    QVERIFY(m.rowForKey("f5") >= 0);
    QCOMPARE(m.rowAt(m.rowForKey("f5")).status, Status::Applied);
    QCOMPARE(m.rowCount(), 4); // a, n, c, e
}

void TestForwardTableModel::dropPendingTakesTheirSet() {
    ForwardTableModel m;
    m.setApplied({fwd("f1", "a", 80)});
    m.addPending(fwd({}, "n", 90));
    m.deletePending("f1");
    m.setApplied({fwd("f1", "a", 80), fwd("f2", "b", 81)});
    QCOMPARE(names(m), (QStringList{"a", "b"}));
    QVERIFY(!m.hasPendingChanges());
}

void TestForwardTableModel::keyLookupFollowsRemovals() {
    ForwardTableModel m;
    QList<Forward> many;
    for (int i = 1; i <= 50; ++i)
        many << fwd(Forward::idForMark(quint32(i)), QStringLiteral("n%1").arg(i),
                    quint16(1000 + i));
    m.setApplied(many);
    QList<Forward> fewer;
    for (int i = 1; i <= 50; ++i)
        if (i % 3 != 0)
            fewer << many.at(i - 1);
    m.setApplied(fewer);
    QCOMPARE(m.rowCount(), int(fewer.size()));
    for (int row = 0; row < m.rowCount(); ++row)
        QCOMPARE(m.rowForKey(m.rowAt(row).key), row);
    QCOMPARE(m.rowForKey(Forward::idForMark(3)), -1);
}

void TestForwardTableModel::checkboxIsAPendingEdit() {
    ForwardTableModel m;
    m.setApplied({fwd("f1", "a", 80)});
    const QModelIndex box = m.index(0, ForwardTableModel::EnabledColumn);
    QVERIFY(m.flags(box) & Qt::ItemIsUserCheckable);
    QVERIFY(m.setData(box, Qt::Unchecked, Qt::CheckStateRole));
    QCOMPARE(m.rowAt(0).forward.enabled, false);
    QCOMPARE(m.rowAt(0).status, Status::Edited);
    QCOMPARE(box.data(Qt::CheckStateRole).toInt(), int(Qt::Unchecked));
}

void TestForwardTableModel::countersGiveRates() {
    ForwardTableModel m;
    m.setApplied({fwd("f1", "a", 80), fwd("f2", "b", 81)});
    QSignalSpy changed(&m, &QAbstractItemModel::dataChanged);
    m.setCounters({{QStringLiteral("f1"), {10, 1000}}});
    QCOMPARE(changed.count(), 1); // one signal for the whole hits column
    QCOMPARE(changed.first().at(0).toModelIndex().column(), int(ForwardTableModel::HitsColumn));
    QVERIFY(m.rowAt(0).hasCounters);
    QVERIFY(!m.rowAt(1).hasCounters); // disabled or not in the kernel: no counters
    QTest::qWait(200);
    m.setCounters({{QStringLiteral("f1"), {30, 3000}}});
    QVERIFY(m.rowAt(0).packetRate > 0);
    QVERIFY(m.rowAt(0).byteRate > 1000); // 2000 bytes in about 0.2 s
    QCOMPARE(m.index(0, ForwardTableModel::HitsColumn).data(ForwardTableModel::RawValueRole),
             QVariant(qlonglong(30)));
    QVERIFY(m.index(0, ForwardTableModel::HitsColumn).data().toString().contains("30 pkts"));
}

void TestForwardTableModel::iptables_data() {
    QTest::addColumn<Forward>("forward");
    QTest::addColumn<QStringList>("expected");
    QTest::addColumn<QStringList>("absent");

    Forward web = fwd({}, "web", 80, "198.51.100.10");
    QTest::newRow("dnat to another host")
        << web
        << QStringList{"iptables -t nat -A PREROUTING -m addrtype --dst-type LOCAL -p tcp --dport "
                       "80 "
                       "-j DNAT --to-destination 198.51.100.10:8080",
                       "iptables -A FORWARD -p tcp -d 198.51.100.10 --dport 8080 -m conntrack "
                       "--ctstate DNAT -j ACCEPT",
                       "sysctl -w net.ipv4.ip_forward=1"}
        << QStringList{"ip6tables", "MASQUERADE", "udp"};

    Forward local = fwd({}, "local", 4321);
    local.targetPort = {1234, 1234};
    local.protocol = Protocol::TcpUdp;
    QTest::newRow("local redirect, both protocols, both families")
        << local
        << QStringList{"iptables -t nat -A PREROUTING -m addrtype --dst-type LOCAL -p tcp --dport "
                       "4321 -j REDIRECT --to-ports 1234",
                       "ip6tables -t nat -A PREROUTING -m addrtype --dst-type LOCAL -p udp "
                       "--dport 4321 -j REDIRECT --to-ports 1234"}
        << QStringList{"FORWARD", "sysctl"};

    Forward range = fwd({}, "range", 9000, "2001:db8:2::10");
    range.externalPort = {9000, 9010};
    range.targetPort = {8000, 8010};
    range.interface = QStringLiteral("eth0");
    range.sources = {Cidr{QHostAddress(QStringLiteral("2001:db8:1::")), 64}};
    range.masquerade = true;
    QTest::newRow("ipv6 range on an interface, from a source, masqueraded")
        << range
        << QStringList{"ip6tables -t nat -A PREROUTING -i eth0 -s 2001:db8:1::/64 -m addrtype "
                       "--dst-type LOCAL -p tcp --dport 9000:9010 -j DNAT --to-destination "
                       "[2001:db8:2::10]:8000-8010/9000",
                       "ip6tables -t nat -A POSTROUTING -p tcp -d 2001:db8:2::10 --dport 8000:8010 "
                       "-m conntrack --ctstate DNAT -j MASQUERADE",
                       "sysctl -w net.ipv6.conf.all.forwarding=1"}
        << QStringList{"iptables -t", "ip_forward"};
}

void TestForwardTableModel::iptables() {
    QFETCH(Forward, forward);
    QFETCH(QStringList, expected);
    QFETCH(QStringList, absent);
    const QString text = iptablesCommands(forward).join(QLatin1Char('\n'));
    for (const QString &line : expected)
        QVERIFY2(iptablesCommands(forward).contains(line), qPrintable(text));
    for (const QString &word : absent)
        QVERIFY2(!text.contains(word), qPrintable(text));
}

void TestForwardTableModel::iptablesHairpinNamesTheTargetsNetwork() {
    Forward f = fwd({}, "web", 80, "198.51.100.10");
    f.hairpin = true;
    const QString rule = QStringLiteral("iptables -t nat -A POSTROUTING -s %1 -p tcp -d "
                                        "198.51.100.10 --dport 8080 -m conntrack --ctstate DNAT "
                                        "-j MASQUERADE");
    const QList<Cidr> host{Cidr{QHostAddress(QStringLiteral("203.0.113.0")), 24},
                           Cidr{QHostAddress(QStringLiteral("198.51.100.0")), 24},
                           Cidr{QHostAddress(QStringLiteral("2001:db8::")), 64}};
    QStringList lines = iptablesCommands(f, host);
    QVERIFY2(lines.contains(rule.arg(QStringLiteral("198.51.100.0/24"))),
             qPrintable(lines.join(QLatin1Char('\n'))));
    // No interface of this host holds the target: the placeholder, explained.
    lines = iptablesCommands(f, {host[0]});
    const QString text = lines.join(QLatin1Char('\n'));
    QVERIFY2(text.contains(QStringLiteral("-s LAN_SUBNET")) &&
                 text.contains(QStringLiteral("# LAN_SUBNET: the target's network")),
             qPrintable(text));
}

void TestForwardTableModel::excerptPicksTheForwardsElements() {
    // The shape of the helper's Ruleset() text (elements on one line or over several).
    const QString text = QStringLiteral(
        "table inet portico {\n"
        "\tcounter f1 {\n\t}\n"
        "\tcounter f2 {\n\t}\n"
        "\tmap counters {\n\t\ttype mark : counter\n"
        "\t\telements = { 0x00000001 : \"f1\", 0x00000002 : \"f2\" }\n\t}\n"
        "\tmap v4_dnat_mark {\n\t\ttype inet_proto . inet_service : mark\n"
        "\t\telements = { tcp . 80 : 0x00000001,\n\t\t\t     tcp . 81 : 0x00000002 }\n\t}\n"
        "\tmap v4_dnat_nat {\n\t\ttype inet_proto . inet_service : ipv4_addr . inet_service\n"
        "\t\telements = { tcp . 80 : 198.51.100.10 . 8080,\n"
        "\t\t\t     tcp . 81 : 198.51.100.20 . 8080 }\n\t}\n"
        "\tchain prerouting {\n\t\ttype nat hook prerouting priority -100; policy accept;\n\t}\n"
        "}\n");
    const Forward second = fwd(QStringLiteral("f2"), QStringLiteral("b"), 81);
    QCOMPARE(rulesetExcerpt(text, second),
             (QStringList{"counter f2", "map counters: 0x00000002 : \"f2\"",
                          "map v4_dnat_mark: tcp . 81 : 0x00000002",
                          "map v4_dnat_nat: tcp . 81 : 198.51.100.20 . 8080"}));
    QVERIFY(rulesetExcerpt(text, fwd(QString(), QStringLiteral("new"), 82)).isEmpty());
    QVERIFY(rulesetExcerpt(text, fwd(QStringLiteral("f9"), QStringLiteral("x"), 89)).isEmpty());
}

void TestForwardTableModel::dialogPresetFillsProtocolAndPort() {
    ForwardDialog d(nullptr, {}, -1);
    auto *preset = d.findChild<QComboBox *>("presetCombo");
    int wireguard = -1;
    for (int i = 0; i < preset->count(); ++i)
        if (preset->itemText(i).startsWith("WireGuard"))
            wireguard = i;
    QVERIFY(wireguard > 0);
    preset->setCurrentIndex(wireguard);
    emit preset->activated(wireguard);
    QCOMPARE(d.findChild<QLineEdit *>("externalPortEdit")->text(), QString("51820"));
    QCOMPARE(d.findChild<QLineEdit *>("nameEdit")->text(), QString("wireguard"));
    QCOMPARE(d.forward().protocol, Protocol::Udp);
    // 51820 to 51820 on this host would be no forward at all: the dialog says so.
    QVERIFY(!d.isValid());
    QVERIFY(d.firstError().contains("local redirect"));
    d.findChild<QLineEdit *>("targetAddressEdit")->setText("198.51.100.10");
    QVERIFY2(d.isValid(), qPrintable(d.firstError()));
    QVERIFY(
        d.findChild<QDialogButtonBox *>("buttonBox")->button(QDialogButtonBox::Ok)->isEnabled());
}

void TestForwardTableModel::dialogOffersTheHostsInterfaces() {
    ForwardDialog d(nullptr, {}, -1);
    auto *combo = d.findChild<QComboBox *>("interfaceCombo");
    QStringList offered;
    for (int i = 0; i < combo->count(); ++i)
        offered << combo->itemText(i);
    QCOMPARE(offered.first(), QString()); // "any interface"
    for (const QNetworkInterface &i : QNetworkInterface::allInterfaces())
        QCOMPARE(offered.contains(i.name()), !(i.flags() & QNetworkInterface::IsLoopBack));
}

void TestForwardTableModel::dialogRoundTripsAForward() {
    Forward f = fwd("f7", "nas", 443, "198.51.100.10");
    f.protocol = Protocol::TcpUdp;
    f.interface = "eth0";
    f.sources = {Cidr{QHostAddress("203.0.113.0"), 24}};
    f.externalAddress = QHostAddress("203.0.113.1");
    f.hairpin = true;
    f.masquerade = true;
    f.comment = "the NAS";
    f.enabled = false;
    ForwardDialog d(nullptr, {f}, 0);
    d.setForward(f);
    QVERIFY2(d.isValid(), qPrintable(d.firstError()));
    QCOMPARE(d.forward(), f);                                          // every field, the id too
    QVERIFY(d.findChild<QWidget *>("advancedGroup")->isVisibleTo(&d)); // set fields are shown
}

QTEST_MAIN(TestForwardTableModel)
#include "test_forward_table_model.moc"
