// SPDX-License-Identifier: GPL-3.0-or-later
// The Connections table model without a helper: real frames of common/conntrack_stream.h, built
// with the contract's own structs, go through handleFrame() as the pipe reader delivers them.
// Inserts, updates, destroys, a resync, sort orders on raw values, the incremental merge against
// a full sort, the filters, pause/resume and the id lookup; QAbstractItemModelTester watches
// every signal the model sends.
// Test data reads better as plain literals; the app itself keeps QT_NO_CAST_FROM_ASCII.
#undef QT_NO_CAST_FROM_ASCII

#include "connection_table_model.h"

#include <QAbstractItemModelTester>
#include <QElapsedTimer>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTest>
#include <QtEndian>

#include <algorithm>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>

using namespace portico;
using namespace portico::ctstream;
using Model = ConnectionTableModel;

namespace {

constexpr quint32 dnat = 1u << 5;
constexpr quint32 assured = 1u << 2;
constexpr quint32 seenReply = 1u << 1;

void setAddress(quint8 *out, const QString &text) {
    const QHostAddress a(text);
    if (a.protocol() == QHostAddress::IPv4Protocol) {
        const quint32 be = qToBigEndian(a.toIPv4Address());
        std::memcpy(out, &be, 4);
    } else {
        const Q_IPV6ADDR v6 = a.toIPv6Address();
        std::memcpy(out, v6.c, 16);
    }
}

// A forwarded TCP flow: client → gateway:dport, sent on to server:sport.
EntryRecord flow(quint32 id, const QString &client, quint16 cport, const QString &gw, quint16 gport,
                 const QString &server, quint16 sport, quint32 mark = 0) {
    EntryRecord r{};
    r.id = id;
    r.family = QHostAddress(client).protocol() == QHostAddress::IPv6Protocol ? AF_INET6 : AF_INET;
    r.protocol = IPPROTO_TCP;
    r.tcpState = 3; // ESTABLISHED
    r.status = assured | seenReply | (server != gw ? dnat : 0);
    r.mark = mark;
    r.timeout = 432000;
    r.startMs = quint64(QDateTime::currentMSecsSinceEpoch()) - 65000;
    setAddress(r.origSrc, client);
    setAddress(r.origDst, gw);
    setAddress(r.replySrc, server);
    setAddress(r.replyDst, client);
    r.origSport = cport;
    r.origDport = gport;
    r.replySport = sport;
    r.replyDport = cport;
    return r;
}

EntryRecord simple(quint32 id, quint32 addr, quint16 port, quint8 protocol = IPPROTO_TCP) {
    const QString a = QHostAddress(addr).toString();
    EntryRecord r = flow(id, a, port, "203.0.113.1", 80, "203.0.113.1", 80);
    r.protocol = protocol;
    if (protocol != IPPROTO_TCP)
        r.tcpState = noTcpState;
    return r;
}

QByteArray frame(FrameType type, const QByteArray &payload) {
    FrameHeader h{type, quint32(payload.size())};
    return QByteArray(reinterpret_cast<const char *>(&h), sizeof h) + payload;
}

// Feeds a byte stream of frames to the model, as the pipe reader does after parsing headers.
bool feed(Model &m, const QByteArray &bytes) {
    qsizetype at = 0;
    while (at < bytes.size()) {
        FrameHeader h;
        std::memcpy(&h, bytes.constData() + at, sizeof h);
        at += sizeof h;
        if (!m.handleFrame(h.type, bytes.constData() + at, h.length))
            return false;
        at += h.length;
    }
    return true;
}

QByteArray hello(bool accounting = true, quint32 entrySize = sizeof(EntryRecord)) {
    HelloPayload p{magic, version, entrySize, accounting ? helloAccounting : 0u};
    return frame(FrameType::Hello, QByteArray(reinterpret_cast<const char *>(&p), sizeof p));
}

QByteArray entries(const QList<EntryRecord> &records) {
    return frame(FrameType::Entries, QByteArray(reinterpret_cast<const char *>(records.constData()),
                                                records.size() * qsizetype(sizeof(EntryRecord))));
}

QByteArray closedIds(const QList<quint32> &ids) {
    return frame(FrameType::Destroyed,
                 QByteArray(reinterpret_cast<const char *>(ids.constData()), ids.size() * 4));
}

QByteArray forwards(const QList<std::tuple<quint32, QString, QString>> &list) {
    QJsonArray a;
    for (const auto &[mark, id, name] : list)
        a.append(QJsonObject{{"mark", qint64(mark)}, {"id", id}, {"name", name}});
    return frame(FrameType::Forwards, QJsonDocument(a).toJson(QJsonDocument::Compact));
}

QByteArray bare(FrameType t) {
    return frame(t, {});
}

QString cell(const Model &m, int row, int column) {
    return m.index(row, column).data().toString();
}

QList<quint32> ids(const Model &m) {
    QList<quint32> out;
    for (int r = 0; r < m.rowCount(); ++r)
        out << m.idAt(r);
    return out;
}

} // namespace

class TestConnectionModel : public QObject {
    Q_OBJECT
private slots:
    void snapshotThenDeltas();
    void updatesAreDataChangedNotReset();
    void resyncDropsWhatIsGoneWithoutReset();
    void badStreamIsRefused_data();
    void badStreamIsRefused();
    void sortOnRawValues_data();
    void sortOnRawValues();
    void incrementalMergeEqualsFullSort();
    void largeSortsMatchAReferenceSort();
    void stagedFlushEndsInTheFullSortsOrder_data();
    void stagedFlushEndsInTheFullSortsOrder();
    void filters_data();
    void filters();
    void filterKeepsSortAndClears();
    void pauseHoldsThenAppliesAtOnce();
    void idLookupFollowsSortAndRemoval();
    void selectionFollowsItsRow();
    void ipv6AndCsv();
    void fewRowsGetExactSignals();
    void unsortedFilteredRowComesBackInPlace();
    void entriesPastTheLimitAreDroppedWithANotice();
    void rateFromCounterSamples();
    void rateKeepsItsPrecisionAndOrder();
    void bigSnapshotEndIsStagedAndFinishesWhenShown();
    void rowsDestroyedDuringAStagedFlushShowAsGone();
};

void TestConnectionModel::snapshotThenDeltas() {
    Model m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy hellos(&m, &Model::helloReceived);
    QSignalSpy finished(&m, &Model::snapshotFinished);
    QVERIFY(feed(m, hello(true) + forwards({{7, "f7", "web"}, {9, "f9", "ssh"}}) +
                        bare(FrameType::Begin)));
    QCOMPARE(hellos.count(), 1);
    QVERIFY(m.isLoading());
    QVERIFY(feed(
        m, entries({flow(101, "203.0.113.10", 40000, "203.0.113.1", 80, "198.51.100.20", 8080, 7),
                    flow(102, "203.0.113.11", 40001, "203.0.113.1", 22, "198.51.100.21", 22, 9)})));
    QVERIFY(feed(m, bare(FrameType::End)));
    QCOMPARE(finished.count(), 1);
    QVERIFY(!m.isLoading());
    QCOMPARE(m.rowCount(), 2);
    QCOMPARE(m.totalCount(), 2);
    const int r = m.rowForId(101);
    QVERIFY(r >= 0);
    QCOMPARE(cell(m, r, Model::ProtocolColumn), "tcp");
    QCOMPARE(cell(m, r, Model::StateColumn), "ESTABLISHED");
    QCOMPARE(cell(m, r, Model::OriginalColumn), "203.0.113.10:40000 → 203.0.113.1:80");
    QCOMPARE(cell(m, r, Model::TranslatedColumn), "198.51.100.20:8080");
    QCOMPARE(cell(m, r, Model::ForwardColumn), "web");
    QCOMPARE(m.index(r, 0).data(Model::ForwardIdRole).toString(), "f7");
    QCOMPARE(cell(m, r, Model::FlagsColumn), "ASSURED SEEN_REPLY DNAT");
    QCOMPARE(cell(m, r, Model::AgeColumn), "1:05");
    QCOMPARE(cell(m, r, Model::TimeoutColumn), "5 d 00:00:00");
    QCOMPARE(cell(m, m.rowForId(102), Model::ForwardColumn), "ssh");

    // Deltas: one new, one destroyed, applied at the next flush (the interval timer's job).
    QVERIFY(feed(m, entries({flow(103, "203.0.113.12", 40002, "203.0.113.1", 80, "198.51.100.20",
                                  8080, 7)}) +
                        closedIds({102}) + bare(FrameType::Tick)));
    QCOMPARE(m.rowCount(), 2);
    QCOMPARE(m.rowForId(102), -1);
    QVERIFY(m.rowForId(103) >= 0);
    QVERIFY(!m.containsId(102));
    // A flow without a mark and without DNAT: no forward, no translation.
    QVERIFY(feed(
        m, entries({flow(104, "198.51.100.30", 5000, "203.0.113.50", 443, "203.0.113.50", 443)})));
    m.flush();
    const int r4 = m.rowForId(104);
    QCOMPARE(cell(m, r4, Model::ForwardColumn), "");
    QCOMPARE(cell(m, r4, Model::TranslatedColumn), "");
    QCOMPARE(cell(m, r4, Model::FlagsColumn), "ASSURED SEEN_REPLY");
}

void TestConnectionModel::updatesAreDataChangedNotReset() {
    Model m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QVERIFY(feed(m, hello() + bare(FrameType::Begin) +
                        entries({simple(1, 0xCB007101, 1000), simple(2, 0xCB007102, 1001)}) +
                        bare(FrameType::End)));
    QSignalSpy reset(&m, &QAbstractItemModel::modelReset);
    QSignalSpy inserted(&m, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&m, &QAbstractItemModel::rowsRemoved);
    QSignalSpy layout(&m, &QAbstractItemModel::layoutChanged);
    QSignalSpy changed(&m, &QAbstractItemModel::dataChanged);

    EntryRecord up = simple(1, 0xCB007101, 1000);
    up.origPackets = 10;
    up.origBytes = 1500;
    up.replyPackets = 8;
    up.replyBytes = 3 * 1024 * 1024;
    up.tcpState = 7; // TIME_WAIT
    up.timeout = 119;
    QVERIFY(feed(m, entries({up}) + bare(FrameType::Tick)));
    QCOMPARE(reset.count(), 0);
    QCOMPARE(inserted.count(), 0);
    QCOMPARE(removed.count(), 0);
    QCOMPARE(layout.count(), 0); // not sorted: an update moves nothing
    QVERIFY(changed.count() >= 1);
    const int r = m.rowForId(1);
    QCOMPARE(cell(m, r, Model::StateColumn), "TIME_WAIT");
    QCOMPARE(cell(m, r, Model::PacketsColumn), "10 / 8");
    QCOMPARE(cell(m, r, Model::BytesColumn), "1.5 KiB / 3.0 MiB");
    QCOMPARE(cell(m, r, Model::TimeoutColumn), "1:59");
    // Bytes went from 0 to about 3 MiB within well under a second: the rate is high, not zero.
    QVERIFY2(m.index(r, Model::RateColumn).data(Model::RawValueRole).toDouble() > 1e6,
             qPrintable(cell(m, r, Model::RateColumn)));

    // An update without counters (the kernel's update events carry none) keeps them.
    EntryRecord noCounters = up;
    noCounters.origPackets = noCounters.origBytes = 0;
    noCounters.replyPackets = noCounters.replyBytes = 0;
    QVERIFY(feed(m, entries({noCounters}) + bare(FrameType::Tick)));
    QCOMPARE(cell(m, r, Model::BytesColumn), "1.5 KiB / 3.0 MiB");

    // A batch of new rows arrives in one insert signal, never a reset.
    QList<EntryRecord> batch;
    for (quint32 i = 10; i < 60; ++i)
        batch << simple(i, 0xC6336400 + i, quint16(2000 + i));
    QVERIFY(feed(m, entries(batch) + bare(FrameType::Tick)));
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(m.rowCount(), 52);
    QCOMPARE(reset.count(), 0);

    // Accounting off: counters are not shown as zeros that look real.
    Model off;
    QVERIFY(
        feed(off, hello(false) + bare(FrameType::Begin) + entries({up}) + bare(FrameType::End)));
    QVERIFY(!off.accountingOn());
    QCOMPARE(cell(off, 0, Model::BytesColumn), "–");
}

void TestConnectionModel::resyncDropsWhatIsGoneWithoutReset() {
    Model m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QVERIFY(feed(m, hello() + bare(FrameType::Begin) +
                        entries({simple(1, 0xCB007101, 1), simple(2, 0xCB007102, 2),
                                 simple(3, 0xCB007103, 3)}) +
                        bare(FrameType::End)));
    QSignalSpy reset(&m, &QAbstractItemModel::modelReset);
    QSignalSpy started(&m, &Model::snapshotStarted);
    // An overrun: the helper starts over; 2 is gone, 4 is new, 1 and 3 are still there.
    QVERIFY(feed(m, bare(FrameType::Begin) +
                        entries({simple(1, 0xCB007101, 1), simple(3, 0xCB007103, 3),
                                 simple(4, 0xCB007104, 4)}) +
                        bare(FrameType::End)));
    QCOMPARE(started.count(), 1);
    QCOMPARE(reset.count(), 0);
    QCOMPARE(m.rowCount(), 3);
    QCOMPARE(m.totalCount(), 3);
    QCOMPARE(m.rowForId(2), -1);
    QVERIFY(m.rowForId(4) >= 0);
    QList<quint32> got = ids(m);
    std::sort(got.begin(), got.end());
    QCOMPARE(got, (QList<quint32>{1, 3, 4}));
    // Only a new stream resets.
    m.clear();
    QCOMPARE(reset.count(), 1);
    QCOMPARE(m.rowCount(), 0);
    // And the new stream's rows show, in slots the old ones had.
    QVERIFY(feed(m, hello() + bare(FrameType::Begin) +
                        entries({simple(7, 0xCB007107, 7), simple(8, 0xCB007108, 8)}) +
                        bare(FrameType::End)));
    QCOMPARE(m.rowCount(), 2);
    QCOMPARE(m.shownCount(), 2);
    QVERIFY(m.rowForId(7) >= 0 && m.rowForId(8) >= 0);
}

void TestConnectionModel::badStreamIsRefused_data() {
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("message");
    QTest::newRow("other record size") << hello(true, 120) << "records of 120 bytes";
    HelloPayload p{0x12345678, version, sizeof(EntryRecord), 0};
    QTest::newRow("wrong magic") << frame(FrameType::Hello,
                                          QByteArray(reinterpret_cast<const char *>(&p), sizeof p))
                                 << "another version";
    QTest::newRow("truncated record")
        << hello() + bare(FrameType::Begin) + frame(FrameType::Entries, QByteArray(100, 0))
        << "truncated";
    QTest::newRow("truncated ids") << hello() + frame(FrameType::Destroyed, "abc") << "truncated";
    QTest::newRow("bad forwards json") << hello() + frame(FrameType::Forwards, "[{") << "forwards";
}

void TestConnectionModel::badStreamIsRefused() {
    QFETCH(QByteArray, bytes);
    QFETCH(QString, message);
    Model m;
    QVERIFY(!feed(m, bytes));
    QVERIFY2(m.errorString().contains(message), qPrintable(m.errorString()));
    QCOMPARE(m.rowCount(), 0);
}

void TestConnectionModel::sortOnRawValues_data() {
    QTest::addColumn<int>("column");
    QTest::addColumn<int>("order");
    QTest::addColumn<QList<quint32>>("expected");
    // Addresses as numbers: 9.x before 10.x before 198.x (as text, "10." < "198" < "9.").
    QTest::newRow("source ascending")
        << int(Model::OriginalColumn) << int(Qt::AscendingOrder) << QList<quint32>{3, 1, 4, 2};
    QTest::newRow("source descending")
        << int(Model::OriginalColumn) << int(Qt::DescendingOrder) << QList<quint32>{2, 4, 1, 3};
    // Bytes as numbers: 900 < 1,000 < 20,000 (as text "1,000" < "20,000" < "900").
    QTest::newRow("bytes ascending")
        << int(Model::BytesColumn) << int(Qt::AscendingOrder) << QList<quint32>{4, 1, 3, 2};
    QTest::newRow("protocol, then id")
        << int(Model::ProtocolColumn) << int(Qt::AscendingOrder) << QList<quint32>{1, 3, 4, 2};
    QTest::newRow("forward by name")
        << int(Model::ForwardColumn) << int(Qt::AscendingOrder) << QList<quint32>{4, 2, 3, 1};
    QTest::newRow("age: youngest first")
        << int(Model::AgeColumn) << int(Qt::AscendingOrder) << QList<quint32>{2, 1, 4, 3};
}

void TestConnectionModel::sortOnRawValues() {
    QFETCH(int, column);
    QFETCH(int, order);
    QFETCH(QList<quint32>, expected);
    Model m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    const quint64 now = quint64(QDateTime::currentMSecsSinceEpoch());
    // id, source address, source port, bytes, protocol, mark, age (s)
    struct Row {
        quint32 id;
        const char *src;
        quint16 port;
        quint64 bytes;
        quint8 proto;
        quint32 mark;
        int age;
    };
    const Row rows[] = {
        {1, "10.0.0.5", 9, 1000, IPPROTO_TCP, 3, 20},
        {2, "198.51.100.7", 80, 20000, IPPROTO_UDP, 1, 10},
        {3, "9.1.1.1", 443, 10000, IPPROTO_TCP, 2, 40},
        {4, "10.0.0.5", 10, 900, IPPROTO_TCP, 0, 30},
    };
    QList<EntryRecord> recs;
    for (const Row &r : rows) {
        EntryRecord e = flow(r.id, r.src, r.port, "203.0.113.1", 80, "198.51.100.9", 80, r.mark);
        e.origBytes = r.bytes;
        e.protocol = r.proto;
        e.startMs = now - quint64(r.age) * 1000;
        recs << e;
    }
    QVERIFY(feed(m, hello() +
                        forwards({{1, "f1", "alpha"}, {2, "f2", "beta"}, {3, "f3", "gamma"}}) +
                        bare(FrameType::Begin) + entries(recs) + bare(FrameType::End)));
    m.sort(column, Qt::SortOrder(order));
    QCOMPARE(ids(m), expected);
}

void TestConnectionModel::incrementalMergeEqualsFullSort() {
    // Batches of inserts, updates that move rows and destroys go into a sorted, filtered model;
    // after every flush its rows must equal what a full sort and filter of the same entries give.
    auto *rng = QRandomGenerator::global();
    for (int column :
         {int(Model::OriginalColumn), int(Model::BytesColumn), int(Model::StateColumn)}) {
        Model live;
        QAbstractItemModelTester tester(&live,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        live.sort(column, Qt::DescendingOrder);
        QMap<quint32, EntryRecord> truth;
        QVERIFY(feed(live, hello() + bare(FrameType::Begin) + bare(FrameType::End)));
        quint32 nextId = 1;
        for (int round = 0; round < 30; ++round) {
            QList<EntryRecord> batch;
            QList<quint32> gone;
            for (int i = 0; i < 40; ++i) {
                EntryRecord r =
                    simple(nextId++, 0xC6336400 + rng->bounded(64), quint16(rng->bounded(20)));
                r.origBytes = rng->bounded(5) * 100;
                r.tcpState = quint8(rng->bounded(2) ? 3 : 1);
                batch << r;
            }
            const QList<quint32> keys = truth.keys();
            for (int i = 0; i < 15 && !keys.isEmpty(); ++i) {
                EntryRecord r = truth.value(keys.at(rng->bounded(int(keys.size()))));
                r.origBytes += rng->bounded(3) * 100;
                r.tcpState = quint8(rng->bounded(2) ? 3 : 7);
                batch << r;
                truth.insert(r.id, r); // counters only grow, as the kernel's do
            }
            for (int i = 0; i < 10 && !keys.isEmpty(); ++i)
                gone << keys.at(rng->bounded(int(keys.size())));
            for (const EntryRecord &r : batch)
                truth.insert(r.id, r);
            for (quint32 id : gone)
                truth.remove(id);
            if (round == 10)
                live.setFilter({QString(), false, -1, QString(), true}); // established only
            if (round == 20)
                live.setFilter({"198.51.100.1", false, -1, QString(), false});
            QVERIFY(feed(live, entries(batch) + closedIds(gone) + bare(FrameType::Tick)));

            Model full;
            QList<EntryRecord> all = truth.values();
            QVERIFY(
                feed(full, hello() + bare(FrameType::Begin) + entries(all) + bare(FrameType::End)));
            full.setFilter(live.filter());
            full.sort(column, Qt::DescendingOrder);
            QCOMPARE(live.totalCount(), int(truth.size()));
            QCOMPARE(ids(live), ids(full));
        }
    }
}

void TestConnectionModel::stagedFlushEndsInTheFullSortsOrder_data() {
    QTest::addColumn<bool>("filtered");
    QTest::newRow("all rows") << false;
    QTest::newRow("filtered") << true;
}

void TestConnectionModel::stagedFlushEndsInTheFullSortsOrder() {
    // A counter refresh that moves every row of a view sorted by bytes is applied in several
    // event-loop turns. Meanwhile the rows must stay a consistent table (every row a distinct
    // id, found at its row) while more events arrive; at its end the rows must be exactly what
    // a full sort (and filter) of the same entries gives, the current cell on the same entry,
    // and never a reset.
    QFETCH(bool, filtered);
    auto *rng = QRandomGenerator::global();
    Model live;
    QAbstractItemModelTester tester(&live, QAbstractItemModelTester::FailureReportingMode::QtTest);
    // The refresh (20,000 rows) is staged; what arrives meanwhile (under 5,000) is not.
    live.setStagedFlush(5000, 1500);
    live.sort(Model::BytesColumn, Qt::DescendingOrder);
    if (filtered)
        live.setFilter({QString(), false, -1, QString(), true}); // established only
    QMap<quint32, EntryRecord> truth;
    QList<EntryRecord> snapshot;
    for (quint32 id = 1; id <= 20000; ++id) {
        EntryRecord r = simple(id, 0xC6336400 + rng->bounded(200), quint16(rng->bounded(60000)));
        r.origBytes = rng->bounded(1000000);
        r.tcpState = quint8(rng->bounded(4) ? 3 : 7);
        snapshot << r;
        truth.insert(id, r);
    }
    QVERIFY(
        feed(live, hello() + bare(FrameType::Begin) + entries(snapshot) + bare(FrameType::End)));
    const quint32 watched = live.idAt(live.rowCount() / 2);
    const QPersistentModelIndex current = live.index(live.rowCount() / 2, Model::BytesColumn);
    QSignalSpy resets(&live, &QAbstractItemModel::modelAboutToBeReset);

    QList<EntryRecord> refresh;
    for (EntryRecord r : std::as_const(truth)) {
        r.origBytes += rng->bounded(2000000); // counters only grow
        refresh << r;
        truth.insert(r.id, r);
    }
    QVERIFY(feed(live, entries(refresh) + bare(FrameType::Tick)));
    QVERIFY(live.isStaging());
    int turns = 0;
    quint32 nextId = 30000;
    while (live.isStaging() || live.hasUnflushed()) {
        QVERIFY(++turns < 1000);
        const int rows = live.rowCount();
        const QList<quint32> shown = ids(live);
        QCOMPARE(QSet<quint32>(shown.begin(), shown.end()).size(), rows);
        for (int k = 0; k < 20 && rows > 0; ++k) {
            // A destroyed row stays until the next flush, as between any two flushes.
            const int r = rng->bounded(rows);
            if (live.containsId(live.idAt(r)))
                QCOMPARE(live.rowForId(live.idAt(r)), r);
        }
        if (live.isStaging() && turns % 2 == 0) {
            // Events meanwhile: new flows, destroyed ones, and updates that move rows again.
            QList<EntryRecord> batch;
            QList<quint32> gone;
            for (int i = 0; i < 30; ++i) {
                EntryRecord r =
                    simple(nextId++, 0xC6336400 + rng->bounded(200), quint16(rng->bounded(60000)));
                r.origBytes = rng->bounded(3000000);
                batch << r;
            }
            const QList<quint32> keys = truth.keys();
            for (int i = 0; i < 30; ++i) {
                EntryRecord r = truth.value(keys.at(rng->bounded(int(keys.size()))));
                r.origBytes += rng->bounded(500000);
                r.tcpState = quint8(rng->bounded(2) ? 3 : 7);
                batch << r;
                truth.insert(r.id, r);
            }
            for (int i = 0; i < 10; ++i) {
                const quint32 id = keys.at(rng->bounded(int(keys.size())));
                if (id != watched)
                    gone << id;
            }
            for (const EntryRecord &r : std::as_const(batch))
                truth.insert(r.id, r);
            for (quint32 id : std::as_const(gone))
                truth.remove(id);
            QVERIFY(feed(live, entries(batch) + closedIds(gone)));
            if (turns % 6 == 0)
                QVERIFY(feed(live, bare(FrameType::Tick))); // waits for the staged flush
        }
        if (live.isStaging())
            QCoreApplication::processEvents(); // one turn
        else
            QTest::qWait(10); // the flush of what came meanwhile, on the model's timer
    }
    QVERIFY2(turns >= 4, qPrintable(QString::number(turns)));
    QCOMPARE(resets.size(), 0);

    Model full;
    QVERIFY(feed(full, hello() + bare(FrameType::Begin) + entries(truth.values()) +
                           bare(FrameType::End)));
    full.setFilter(live.filter());
    full.sort(Model::BytesColumn, Qt::DescendingOrder);
    QCOMPARE(live.totalCount(), int(truth.size()));
    QCOMPARE(ids(live), ids(full));
    if (live.rowForId(watched) >= 0) {
        QVERIFY(current.isValid());
        QCOMPARE(live.idAt(current.row()), watched);
    }
}

void TestConnectionModel::largeSortsMatchAReferenceSort() {
    // Above 4096 rows the model sorts by radix: the order must be the one a plain comparison
    // sort of the raw values gives (addresses as numbers, then ports, then the id).
    auto *rng = QRandomGenerator::global();
    QList<EntryRecord> recs;
    for (quint32 i = 1; i <= 12000; ++i) {
        EntryRecord r = simple(i * 2654435761u, 0xC6336400 + rng->bounded(300),
                               quint16(rng->bounded(70000)), rng->bounded(4) ? 6 : 17);
        r.origBytes = rng->bounded(2) ? rng->bounded(1000) : quint64(rng->bounded(1 << 30)) << 12;
        const quint32 dst = qToBigEndian(0xCB007101u + rng->bounded(3));
        std::memcpy(r.origDst, &dst, 4);
        r.origDport = quint16(rng->bounded(3));
        recs << r;
    }
    Model m;
    QVERIFY(feed(m, hello() + bare(FrameType::Begin) + entries(recs) + bare(FrameType::End)));
    const auto be = [](const quint8 *a) {
        quint32 v;
        std::memcpy(&v, a, 4);
        return qFromBigEndian(v);
    };
    using Key = std::tuple<quint64, quint64, quint64, quint64, quint32>;
    const auto check = [&](int column, Qt::SortOrder order, auto keyOf) {
        QList<EntryRecord> ref = recs;
        std::sort(ref.begin(), ref.end(), [&](const EntryRecord &a, const EntryRecord &b) {
            return order == Qt::AscendingOrder ? keyOf(a) < keyOf(b) : keyOf(b) < keyOf(a);
        });
        QList<quint32> want;
        for (const EntryRecord &r : ref)
            want << r.id;
        m.sort(column, order);
        return ids(m) == want;
    };
    const auto source = [&](const EntryRecord &r) {
        return Key{be(r.origSrc), r.origSport, be(r.origDst), r.origDport, r.id};
    };
    const auto bytes = [&](const EntryRecord &r) {
        return Key{r.origBytes, 0, 0, 0, r.id};
    };
    const auto proto = [&](const EntryRecord &r) {
        return Key{r.protocol, 0, 0, 0, r.id};
    };
    QVERIFY(check(Model::OriginalColumn, Qt::AscendingOrder, source));
    QVERIFY(check(Model::OriginalColumn, Qt::DescendingOrder, source));
    QVERIFY(check(Model::BytesColumn, Qt::AscendingOrder, bytes));
    QVERIFY(check(Model::BytesColumn, Qt::DescendingOrder, bytes));
    QVERIFY(check(Model::ProtocolColumn, Qt::DescendingOrder, proto));
}

void TestConnectionModel::filters_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("forwarded");
    QTest::addColumn<int>("protocol");
    QTest::addColumn<QString>("forward");
    QTest::addColumn<bool>("established");
    QTest::addColumn<QList<quint32>>("expected");
    const QList<quint32> all{1, 2, 3, 4, 5};
    QTest::newRow("nothing") << "" << false << -1 << "" << false << all;
    QTest::newRow("whole address")
        << "198.51.100.21" << false << -1 << "" << false << QList<quint32>{2};
    QTest::newRow("dotted prefix")
        << "198.51.100." << false << -1 << "" << false << QList<quint32>{1, 2, 3};
    QTest::newRow("partial octet")
        << "198.51.1" << false << -1 << "" << false << QList<quint32>{1, 2, 3};
    QTest::newRow("partial octet, no match")
        << "198.51.2" << false << -1 << "" << false << QList<quint32>{};
    QTest::newRow("whole address is exact")
        << "203.0.113.11" << false << -1 << "" << false << QList<quint32>{2};
    QTest::newRow("address:port") << "198.51.100.20:8080" << false << -1 << "" << false
                                  << QList<quint32>{1, 3};
    QTest::newRow("address:other port")
        << "198.51.100.20:80" << false << -1 << "" << false << QList<quint32>{};
    QTest::newRow("port") << "22" << false << -1 << "" << false << QList<quint32>{2};
    QTest::newRow("id") << "4" << false << -1 << "" << false << QList<quint32>{4};
    QTest::newRow("forward name part")
        << "WE" << false << -1 << "" << false << QList<quint32>{1, 3};
    QTest::newRow("two words: both must match")
        << "web 40002" << false << -1 << "" << false << QList<quint32>{3};
    QTest::newRow("protocol word") << "udp" << false << -1 << "" << false << QList<quint32>{4, 5};
    QTest::newRow("state word") << "time_w" << false << -1 << "" << false << QList<quint32>{3};
    QTest::newRow("flag word") << "dnat" << false << -1 << "" << false << QList<quint32>{1, 2, 3};
    QTest::newRow("no match") << "nothing-like-this" << false << -1 << "" << false
                              << QList<quint32>{};
    QTest::newRow("forwarded only") << "" << true << -1 << "" << false << QList<quint32>{1, 2, 3};
    QTest::newRow("udp only") << "" << false << int(IPPROTO_UDP) << "" << false
                              << QList<quint32>{4, 5};
    QTest::newRow("one forward") << "" << false << -1 << "f7" << false << QList<quint32>{1, 3};
    QTest::newRow("established only") << "" << false << -1 << "" << true << QList<quint32>{1, 2, 4};
    QTest::newRow("quick and text")
        << "203.0.113.10" << false << -1 << "f7" << true << QList<quint32>{1};
}

void TestConnectionModel::filters() {
    QFETCH(QString, text);
    QFETCH(bool, forwarded);
    QFETCH(int, protocol);
    QFETCH(QString, forward);
    QFETCH(bool, established);
    QFETCH(QList<quint32>, expected);
    Model m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    EntryRecord closing =
        flow(3, "203.0.113.12", 40002, "203.0.113.1", 80, "198.51.100.20", 8080, 7);
    closing.tcpState = 7;
    EntryRecord udp = flow(4, "203.0.113.13", 5353, "203.0.113.1", 53, "203.0.113.1", 53);
    udp.protocol = IPPROTO_UDP;
    udp.tcpState = noTcpState;
    EntryRecord unreplied = flow(5, "203.0.113.15", 1234, "203.0.113.1", 99, "203.0.113.1", 99);
    unreplied.protocol = IPPROTO_UDP;
    unreplied.tcpState = noTcpState;
    unreplied.status = 0;
    QVERIFY(feed(
        m, hello() + forwards({{7, "f7", "web"}, {9, "f9", "ssh"}}) + bare(FrameType::Begin) +
               entries({flow(1, "203.0.113.10", 40000, "203.0.113.1", 80, "198.51.100.20", 8080, 7),
                        flow(2, "203.0.113.11", 40001, "203.0.113.1", 22, "198.51.100.21", 22, 9),
                        closing, udp, unreplied}) +
               bare(FrameType::End)));
    QSignalSpy counts(&m, &Model::countsChanged);
    m.setFilter({text, forwarded, protocol, forward, established});
    QList<quint32> got = ids(m);
    QCOMPARE(got, expected);
    QCOMPARE(m.shownCount(), int(expected.size()));
    QCOMPARE(m.totalCount(), 5);
    if (counts.isEmpty()) {
        QVERIFY(text.isEmpty() && !forwarded && protocol < 0 && forward.isEmpty() && !established);
        return; // the same (empty) filter again: nothing to tell
    }
    QCOMPARE(counts.last().at(0).toInt(), int(expected.size()));
    QCOMPARE(counts.last().at(1).toInt(), 5);
}

void TestConnectionModel::filterKeepsSortAndClears() {
    Model m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QList<EntryRecord> recs;
    for (quint32 i = 1; i <= 20; ++i)
        recs << simple(i, 0xC6336400 + (i * 7) % 20, quint16(i), i % 3 ? IPPROTO_TCP : IPPROTO_UDP);
    QVERIFY(feed(m, hello() + bare(FrameType::Begin) + entries(recs) + bare(FrameType::End)));
    m.sort(Model::OriginalColumn, Qt::AscendingOrder);
    const QList<quint32> sortedAll = ids(m);
    m.setFilter({QString(), false, IPPROTO_UDP, QString(), false});
    QCOMPARE(m.rowCount(), 6);
    QList<quint32> expect;
    for (quint32 id : sortedAll)
        if (id % 3 == 0)
            expect << id;
    QCOMPARE(ids(m), expect);
    // New rows while filtered land in order; clearing the filter gives the full order back.
    QVERIFY(feed(m, entries({simple(21, 0xC6336400, 1, IPPROTO_UDP),
                             simple(22, 0xC6336400, 2, IPPROTO_TCP)}) +
                        bare(FrameType::Tick)));
    QCOMPARE(m.rowCount(), 7);
    QCOMPARE(m.idAt(0), 21u);
    m.setFilter({});
    QCOMPARE(m.rowCount(), 22);
    QCOMPARE(m.idAt(0), 21u);
    QCOMPARE(m.idAt(1), 22u);
}

void TestConnectionModel::pauseHoldsThenAppliesAtOnce() {
    Model m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QVERIFY(feed(m, hello() + bare(FrameType::Begin) +
                        entries({simple(1, 0xCB007101, 1), simple(2, 0xCB007102, 2)}) +
                        bare(FrameType::End)));
    m.setPaused(true);
    QSignalSpy inserted(&m, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&m, &QAbstractItemModel::rowsRemoved);
    EntryRecord up = simple(1, 0xCB007101, 1);
    up.origBytes = 4096;
    QVERIFY(
        feed(m, entries({simple(3, 0xCB007103, 3), up}) + closedIds({2}) + bare(FrameType::Tick)));
    m.flush();
    QCOMPARE(m.rowCount(), 2);
    QVERIFY(m.rowForId(2) >= 0);
    QCOMPARE(m.rowForId(3), -1);
    QCOMPARE(cell(m, m.rowForId(1), Model::BytesColumn), "0 B / 0 B");
    QCOMPARE(inserted.count() + removed.count(), 0);
    // A resync while paused is held too, and merged on resume.
    QVERIFY(feed(m, bare(FrameType::Begin) +
                        entries({up, simple(3, 0xCB007103, 3), simple(5, 0xCB007105, 5)}) +
                        bare(FrameType::End)));
    QCOMPARE(m.rowCount(), 2);
    m.setPaused(false);
    QList<quint32> got = ids(m);
    std::sort(got.begin(), got.end());
    QCOMPARE(got, (QList<quint32>{1, 3, 5}));
    QCOMPARE(cell(m, m.rowForId(1), Model::BytesColumn), "4.0 KiB / 0 B");
    QVERIFY(!m.isLoading());
}

void TestConnectionModel::idLookupFollowsSortAndRemoval() {
    Model m;
    QList<EntryRecord> recs;
    for (quint32 i = 1; i <= 2000; ++i)
        recs << simple(i * 2654435761u, 0xC6330000 + (i * 37) % 4096, quint16(i));
    QVERIFY(feed(m, hello() + bare(FrameType::Begin) + entries(recs) + bare(FrameType::End)));
    m.sort(Model::OriginalColumn, Qt::DescendingOrder);
    for (int r = 0; r < m.rowCount(); r += 97)
        QCOMPARE(m.rowForId(m.idAt(r)), r);
    QList<quint32> gone;
    for (quint32 i = 1; i <= 2000; i += 2)
        gone << i * 2654435761u;
    QVERIFY(feed(m, closedIds(gone) + bare(FrameType::Tick)));
    QCOMPARE(m.rowCount(), 1000);
    for (quint32 id : gone)
        QVERIFY(!m.containsId(id));
    for (quint32 i = 2; i <= 2000; i += 2) {
        const int r = m.rowForId(i * 2654435761u);
        QVERIFY(r >= 0);
        QCOMPARE(m.idAt(r), i * 2654435761u);
    }
}

void TestConnectionModel::selectionFollowsItsRow() {
    Model m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QVERIFY(feed(m, hello() + bare(FrameType::Begin) +
                        entries({simple(1, 0xC6336405, 1), simple(2, 0xC6336409, 2)}) +
                        bare(FrameType::End)));
    m.sort(Model::OriginalColumn, Qt::AscendingOrder);
    QPersistentModelIndex kept(m.index(m.rowForId(2), Model::ProtocolColumn));
    QCOMPARE(kept.row(), 1);
    // Rows before it, and the removal of another, move it: the persistent index goes along.
    QVERIFY(feed(
        m, entries({simple(3, 0xC6336401, 3), simple(4, 0xC6336402, 4), simple(5, 0xC633640A, 5)}) +
               closedIds({1}) + bare(FrameType::Tick)));
    QVERIFY(kept.isValid());
    QCOMPARE(kept.row(), m.rowForId(2));
    QCOMPARE(kept.data(Model::IdRole).toUInt(), 2u);
    QPersistentModelIndex doomed(m.index(m.rowForId(3), 0));
    QVERIFY(feed(m, closedIds({3}) + entries({simple(6, 0xC6336400, 6)}) + bare(FrameType::Tick)));
    QVERIFY(!doomed.isValid());
    QCOMPARE(kept.data(Model::IdRole).toUInt(), 2u);
}

void TestConnectionModel::ipv6AndCsv() {
    Model m;
    EntryRecord v6 = flow(7, "2001:db8::10", 50000, "2001:db8::1", 443, "2001:db8:1::20", 8443, 3);
    QVERIFY(feed(m, hello() + forwards({{3, "f3", "web, \"new\""}}) + bare(FrameType::Begin) +
                        entries({v6, simple(8, 0xCB00710A, 1)}) + bare(FrameType::End)));
    const int r = m.rowForId(7);
    QCOMPARE(cell(m, r, Model::OriginalColumn), "[2001:db8::10]:50000 → [2001:db8::1]:443");
    QCOMPARE(cell(m, r, Model::TranslatedColumn), "[2001:db8:1::20]:8443");
    m.setFilter({"db8:1::", false, -1, QString(), false});
    QCOMPARE(ids(m), QList<quint32>{7});
    m.sort(Model::OriginalColumn, Qt::AscendingOrder); // IPv4 sorts before IPv6
    m.setFilter({});
    QCOMPARE(ids(m), (QList<quint32>{8, 7}));
    const QStringList csv = m.rowsText({1}, true).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(csv.size(), 2);
    QVERIFY2(csv[0].startsWith("id,Protocol,State,"), qPrintable(csv[0]));
    QVERIFY2(csv[1].startsWith("7,tcp,ESTABLISHED,[2001:db8::10]:50000 → [2001:db8::1]:443,"
                               "[2001:db8:1::20]:8443,\"web, \"\"new\"\"\","),
             qPrintable(csv[1]));
    const QString tsv = m.rowsText({0}, false);
    QVERIFY(tsv.contains("\t203.0.113.10:1 → 203.0.113.1:80\t"));
}

void TestConnectionModel::fewRowsGetExactSignals() {
    // A flush that changes a row or two signals exactly those rows (what a quiet gateway sends);
    // a bigger one sends at most one insert, one layout change and one remove. Either way the
    // rows end in the order a full sort gives.
    Model m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QMap<quint32, EntryRecord> truth;
    for (quint32 i = 1; i <= 100; ++i)
        truth.insert(i, simple(i, 0xC6336400 + i, quint16(1000 + i)));
    QVERIFY(
        feed(m, hello() + bare(FrameType::Begin) + entries(truth.values()) + bare(FrameType::End)));
    m.sort(Model::OriginalColumn, Qt::AscendingOrder);
    const auto fullSort = [&] {
        Model full;
        feed(full,
             hello() + bare(FrameType::Begin) + entries(truth.values()) + bare(FrameType::End));
        full.sort(Model::OriginalColumn, Qt::AscendingOrder);
        return ids(full);
    };
    QSignalSpy inserted(&m, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&m, &QAbstractItemModel::rowsRemoved);
    QSignalSpy layout(&m, &QAbstractItemModel::layoutChanged);

    // One new row right after id 50 (its address, a higher port), id 10 destroyed: two signals,
    // at their rows, and the rows around them keep their persistent indexes.
    QPersistentModelIndex before(m.index(m.rowForId(50), 0));
    QPersistentModelIndex after(m.index(m.rowForId(51), 0));
    QCOMPARE(m.rowForId(10), 9);
    truth.insert(500, simple(500, 0xC6336400 + 50, 2000));
    truth.remove(10);
    QVERIFY(feed(m, entries({truth.value(500)}) + closedIds({10}) + bare(FrameType::Tick)));
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(removed.count(), 1);
    QCOMPARE(layout.count(), 0);
    QCOMPARE(removed.at(0).at(1).toInt(), 9);
    QCOMPARE(m.rowForId(500), m.rowForId(50) + 1);
    QCOMPARE(inserted.at(0).at(1).toInt(), m.rowForId(500));
    QCOMPARE(before.row(), m.rowForId(50));
    QCOMPARE(after.row(), m.rowForId(51));
    QCOMPARE(ids(m), fullSort());

    // Two rows gone from two places, then two new ones landing in two places: a signal each.
    inserted.clear();
    removed.clear();
    truth.remove(5);
    truth.remove(90);
    QVERIFY(feed(m, closedIds({90, 5}) + bare(FrameType::Tick)));
    QCOMPARE(removed.count(), 2);
    QCOMPARE(layout.count(), 0);
    QCOMPARE(ids(m), fullSort());
    truth.insert(501, simple(501, 0xC6336400 + 20, 3000));
    truth.insert(502, simple(502, 0xC6336400 + 70, 3000));
    QVERIFY(feed(m, entries({truth.value(502), truth.value(501)}) + bare(FrameType::Tick)));
    QCOMPARE(inserted.count(), 2);
    QCOMPARE(layout.count(), 0);
    QCOMPARE(ids(m), fullSort());
    QCOMPARE(before.row(), m.rowForId(50));

    // Many rows at once: one of each signal, and the order is the full sort's.
    inserted.clear();
    removed.clear();
    layout.clear();
    QList<EntryRecord> batch;
    for (quint32 i = 0; i < 30; ++i)
        batch << simple(1000 + i, 0xC6336400 + (i * 7) % 100, quint16(3000 + i));
    QList<quint32> gone;
    for (quint32 i = 20; i < 40; ++i)
        gone << i;
    for (const EntryRecord &r : batch)
        truth.insert(r.id, r);
    for (quint32 id : gone)
        truth.remove(id);
    QVERIFY(feed(m, entries(batch) + closedIds(gone) + bare(FrameType::Tick)));
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(removed.count(), 1);
    QCOMPARE(layout.count(), 1);
    QCOMPARE(m.rowCount(), 110);
    QCOMPARE(ids(m), fullSort());
    QCOMPARE(before.row(), m.rowForId(50));
    QCOMPARE(before.data(Model::IdRole).toUInt(), 50u);
}

void TestConnectionModel::unsortedFilteredRowComesBackInPlace() {
    // Unsorted (the order of arrival) with a filter: a row that starts to pass goes back between
    // the rows that arrived before and after it, not to the end.
    Model m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QList<EntryRecord> recs;
    for (quint32 i = 1; i <= 6; ++i) {
        EntryRecord r = simple(i, 0xC6336400 + i, quint16(i));
        r.tcpState = i % 2 ? 3 : 1; // odd ones ESTABLISHED, even ones SYN_SENT
        recs << r;
    }
    QVERIFY(feed(m, hello() + bare(FrameType::Begin) + entries(recs) + bare(FrameType::End)));
    QCOMPARE(m.sortColumn(), -1);
    m.setFilter({QString(), false, -1, QString(), true});
    QCOMPARE(ids(m), (QList<quint32>{1, 3, 5}));
    EntryRecord up = recs[3]; // id 4
    up.tcpState = 3;
    EntryRecord down = recs[4]; // id 5
    down.tcpState = 7;
    QVERIFY(feed(m, entries({up, down, simple(7, 0xC6336407, 7)}) + bare(FrameType::Tick)));
    QCOMPARE(ids(m), (QList<quint32>{1, 3, 4, 7}));
    m.setFilter({});
    QCOMPARE(ids(m), (QList<quint32>{1, 2, 3, 4, 5, 6, 7}));
}

void TestConnectionModel::entriesPastTheLimitAreDroppedWithANotice() {
    // The id index addresses 2^25 entries; the tests lower the limit to see what happens past
    // it: new entries are not held, the view says so once, and a slot freed makes room again.
    Model m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    m.setEntryLimit(3);
    QSignalSpy notices(&m, &Model::noticeReceived);
    QVERIFY(feed(m, hello() + bare(FrameType::Begin) +
                        entries({simple(1, 0xC6336401, 1), simple(2, 0xC6336402, 2),
                                 simple(3, 0xC6336403, 3), simple(4, 0xC6336404, 4),
                                 simple(5, 0xC6336405, 5)}) +
                        bare(FrameType::End)));
    QCOMPARE(m.totalCount(), 3);
    QVERIFY(!m.containsId(4) && !m.containsId(5));
    QCOMPARE(notices.count(), 1);
    QVERIFY(notices.at(0).at(0).toString().contains(QLatin1StringView("3")));
    // Updates of held entries still apply.
    EntryRecord up = simple(2, 0xC6336402, 2);
    up.origBytes = 2048;
    QVERIFY(feed(m, entries({up, simple(6, 0xC6336406, 6)}) + bare(FrameType::Tick)));
    QCOMPARE(cell(m, m.rowForId(2), Model::BytesColumn), "2.0 KiB / 0 B");
    QVERIFY(!m.containsId(6));
    QCOMPARE(notices.count(), 1);
    QVERIFY(feed(m, closedIds({1}) + bare(FrameType::Tick)));
    QVERIFY(feed(m, entries({simple(7, 0xC6336407, 7)}) + bare(FrameType::Tick)));
    QVERIFY(m.containsId(7));
    QCOMPARE(m.totalCount(), 3);
}

// The helper's counter refresh sends an entry's counters about every second; the rate is
// bytes moved between two such samples over the time between them. An update event between
// them (no counters) is no sample, and a refresh whose counters did not move (a stopped flow)
// brings the rate to 0.
void TestConnectionModel::rateFromCounterSamples() {
    Model m;
    EntryRecord r = simple(1, 0xCB007101, 1000);
    r.origPackets = r.replyPackets = 10;
    r.origBytes = r.replyBytes = 500;
    QElapsedTimer clock;
    clock.start();
    QVERIFY(feed(m, hello() + bare(FrameType::Begin) + entries({r}) + bare(FrameType::End)));
    const qint64 firstSampled = clock.elapsed();
    QTest::qWait(200);
    EntryRecord event = r;
    event.origPackets = event.replyPackets = event.origBytes = event.replyBytes = 0;
    event.timeout = 100;
    QVERIFY(feed(m, entries({event}) + bare(FrameType::Tick)));
    QTest::qWait(300);
    r.origBytes += 30000;
    r.replyBytes += 20000;
    r.origPackets = r.replyPackets = 40;
    const qint64 beforeSecond = clock.elapsed();
    QVERIFY(feed(m, entries({r}) + bare(FrameType::Tick)));
    const qint64 afterSecond = clock.elapsed();
    const int row = m.rowForId(1);
    const double rate = m.index(row, Model::RateColumn).data(Model::RawValueRole).toDouble();
    // 50,000 bytes over the time between the two samples (not since the update event).
    QVERIFY2(rate >= 50000.0 * 1000 / (afterSecond + 5) &&
                 rate <= 50000.0 * 1000 / (beforeSecond - firstSampled - 5),
             qPrintable(QString::number(rate)));
    QVERIFY(cell(m, row, Model::RateColumn) != "0 B/s");
    // The flow stopped: the refresh sends it once more with the same counters.
    QTest::qWait(100);
    QVERIFY(feed(m, entries({r}) + bare(FrameType::Tick)));
    QCOMPARE(m.index(row, Model::RateColumn).data(Model::RawValueRole).toDouble(), 0.0);
}

// The model keeps a rate in 16 bits (9 significant bits: within 0.2%, docs/benchmarks.md): two
// flows sampled in the same batch (the same interval) whose byte counts differ by 2% keep that
// ratio to within the two roundings (0.4%) and their order; a rate far beyond any link's stays
// the highest.
void TestConnectionModel::rateKeepsItsPrecisionAndOrder() {
    Model m;
    QList<EntryRecord> recs;
    for (quint32 id = 1; id <= 3; ++id) {
        EntryRecord r = simple(id, 0xCB007100 + id, quint16(1000 + id));
        r.origPackets = r.replyPackets = 1;
        r.origBytes = r.replyBytes = 100;
        recs << r;
    }
    QVERIFY(feed(m, hello() + bare(FrameType::Begin) + entries(recs) + bare(FrameType::End)));
    QTest::qWait(150);
    // id 1 moves the most bytes, so that an order decided by the id alone (a tie) would fail.
    const quint64 moved[] = {quint64(1) << 47, 100000, 102000};
    for (int i = 0; i < 3; ++i) {
        recs[i].origBytes += moved[i];
        recs[i].origPackets += 100;
    }
    QVERIFY(feed(m, entries(recs) + bare(FrameType::Tick)));
    m.sort(Model::RateColumn, Qt::DescendingOrder);
    QCOMPARE(ids(m), QList<quint32>({1, 3, 2}));
    const auto rate = [&](quint32 id) {
        return m.index(m.rowForId(id), Model::RateColumn).data(Model::RawValueRole).toDouble();
    };
    const double ratio = rate(3) / rate(2);
    QVERIFY2(std::abs(ratio / 1.02 - 1) < 0.004, qPrintable(QString::number(ratio, 'f', 6)));
    QVERIFY2(rate(1) > 1e12, qPrintable(QString::number(rate(1))));
}

// The End of a big snapshot leaves most of it to show: that flush is staged like any big one
// (no turn over the 50 ms at a million), and snapshotFinished comes when every entry is
// shown, in the full sort's order; a resync's End destroys what it did not bring, staged too.
void TestConnectionModel::bigSnapshotEndIsStagedAndFinishesWhenShown() {
    Model m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    m.setStagedFlush(5000, 1500);
    m.sort(Model::OriginalColumn, Qt::AscendingOrder);
    QList<int> shownAtFinish;
    connect(&m, &Model::snapshotFinished, &m, [&](int count) {
        QCOMPARE(m.rowCount(), count);
        shownAtFinish << m.rowCount();
    });
    QSignalSpy resets(&m, &QAbstractItemModel::modelReset);
    const auto snapshot = [&](quint32 first, quint32 last) {
        QList<EntryRecord> recs;
        for (quint32 id = last; id >= first; --id) // the reverse of the sorted order
            recs << simple(id, 0xC6336400 + id % 200, quint16(id));
        return bare(FrameType::Begin) + entries(recs) + bare(FrameType::End);
    };
    QVERIFY(feed(m, hello() + snapshot(1, 20000)));
    QVERIFY(m.isStaging());
    QVERIFY(shownAtFinish.isEmpty());
    QVERIFY(m.isLoading()); // the view still says "Loading…"
    QTRY_COMPARE(shownAtFinish, QList<int>({20000}));
    QVERIFY(!m.isLoading());
    // The order by source: the address, then the port (which is the id here).
    const auto bySource = [](quint32 a, quint32 b) {
        return std::pair(a % 200, a) < std::pair(b % 200, b);
    };
    QList<quint32> expected;
    for (quint32 id = 1; id <= 20000; ++id)
        expected << id;
    std::sort(expected.begin(), expected.end(), bySource);
    QCOMPARE(ids(m), expected);
    // A resync that brings half of them back, and 10,000 new.
    QVERIFY(feed(m, snapshot(10001, 30000)));
    QTRY_COMPARE(shownAtFinish, QList<int>({20000, 20000}));
    expected.removeIf([](quint32 id) { return id <= 10000; });
    for (quint32 id = 20001; id <= 30000; ++id)
        expected << id;
    std::sort(expected.begin(), expected.end(), bySource);
    QCOMPARE(ids(m), expected);
    QCOMPARE(resets.count(), 0);
}

// A staged flush leaves the rows as they are until its end; one destroyed meanwhile says so
// (GoneRole, which the view greys), with a dataChanged at the next Tick, and goes at the end.
void TestConnectionModel::rowsDestroyedDuringAStagedFlushShowAsGone() {
    Model m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    m.setStagedFlush(5000, 1500);
    m.sort(Model::BytesColumn, Qt::DescendingOrder);
    QList<EntryRecord> recs;
    for (quint32 id = 1; id <= 20000; ++id)
        recs << simple(id, 0xC6336400 + id % 200, quint16(id));
    QVERIFY(feed(m, hello() + bare(FrameType::Begin) + entries(recs) + bare(FrameType::End)));
    QTRY_VERIFY(!m.isStaging() && m.rowCount() == 20000);
    // A counter refresh that moves every row: staged.
    for (EntryRecord &r : recs) {
        r.origBytes = 1000 + r.id * 7 % 20000;
        r.origPackets = 1;
    }
    QVERIFY(feed(m, entries(recs) + bare(FrameType::Tick)));
    QVERIFY(m.isStaging());
    const int row = m.rowForId(777);
    QVERIFY(row >= 0);
    QVERIFY(!m.index(row, 0).data(Model::GoneRole).toBool());
    QSignalSpy changed(&m, &QAbstractItemModel::dataChanged);
    QVERIFY(feed(m, closedIds({777}) + bare(FrameType::Tick)));
    QVERIFY(m.isStaging());
    QCOMPARE(m.index(row, 0).data(Model::IdRole).toUInt(), 777u);
    QVERIFY(m.index(row, 0).data(Model::GoneRole).toBool());
    QVERIFY(!changed.isEmpty());
    const QModelIndex from = changed.last().at(0).value<QModelIndex>();
    const QModelIndex to = changed.last().at(1).value<QModelIndex>();
    QVERIFY(from.row() <= row && row <= to.row());
    QTRY_VERIFY(!m.isStaging() && !m.hasUnflushed());
    QCOMPARE(m.rowCount(), 19999);
    QCOMPARE(m.rowForId(777), -1);
    for (int r = 0; r < m.rowCount(); ++r)
        QVERIFY(!m.index(r, 0).data(Model::GoneRole).toBool());
}

QTEST_GUILESS_MAIN(TestConnectionModel)
#include "test_connection_model.moc"
