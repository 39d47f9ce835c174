// SPDX-License-Identifier: GPL-3.0-or-later
// The Connections tab's table on generated stream frames, without a helper (offscreen): the view
// keeps up with what the model tells it. The hidden row header is left out of the model's layout
// changes (connections_view.cpp says why), so its count and the table's row geometry must still
// follow the model through snapshots, sorts, filters and deltas of every size.
// Test data reads better as plain literals; the app itself keeps QT_NO_CAST_FROM_ASCII.
#undef QT_NO_CAST_FROM_ASCII

#include "connection_table_model.h"
#include "connections_view.h"
#include "helper_client.h"

#include <QHeaderView>
#include <QScrollBar>
#include <QTableView>
#include <QTest>
#include <QtEndian>

#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>

using namespace portico;
using namespace portico::ctstream;
using Model = ConnectionTableModel;

namespace {

EntryRecord record(quint32 id, quint32 n) {
    EntryRecord r{};
    r.id = id;
    r.family = AF_INET;
    r.protocol = n % 4 == 0 ? IPPROTO_UDP : IPPROTO_TCP;
    r.tcpState = r.protocol == IPPROTO_TCP ? 3 : noTcpState;
    r.status = (1u << 1) | (1u << 2);
    r.timeout = 300 + n % 1000;
    r.startMs = quint64(QDateTime::currentMSecsSinceEpoch()) - (n % 5000) * 1000ull;
    r.origBytes = (n * 7919) % 100000;
    const quint32 client = qToBigEndian(0xCB007100u + (n % 200)); // 203.0.113.x
    const quint32 gw = qToBigEndian(0xCB007101u);
    std::memcpy(r.origSrc, &client, 4);
    std::memcpy(r.origDst, &gw, 4);
    std::memcpy(r.replySrc, &gw, 4);
    std::memcpy(r.replyDst, &client, 4);
    r.origSport = quint16(1024 + n % 50000);
    r.origDport = 80;
    r.replySport = 80;
    r.replyDport = r.origSport;
    return r;
}

void feed(Model *m, FrameType type, const QByteArray &payload = {}) {
    QVERIFY(m->handleFrame(type, payload.constData(), payload.size()));
}

QByteArray records(quint32 from, quint32 to) {
    QByteArray out;
    for (quint32 n = from; n < to; ++n) {
        const EntryRecord r = record(n * 2654435761u + 1, n);
        out.append(reinterpret_cast<const char *>(&r), sizeof r);
    }
    return out;
}

QByteArray ids(quint32 from, quint32 to, quint32 step = 1) {
    QByteArray out;
    for (quint32 n = from; n < to; n += step) {
        const quint32 id = n * 2654435761u + 1;
        out.append(reinterpret_cast<const char *>(&id), 4);
    }
    return out;
}

} // namespace

class TestConnectionsView : public QObject {
    Q_OBJECT
private slots:
    void rowGeometryFollowsTheModel();
};

void TestConnectionsView::rowGeometryFollowsTheModel() {
    HelperClient client(QStringLiteral("unix:path=/nonexistent"));
    ConnectionsView view(&client);
    view.setAutoStart(false);
    view.resize(1000, 600);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    Model *m = view.model();
    QTableView *table = view.table();
    QHeaderView *rows = table->verticalHeader();

    // The view agrees with the model: as many row sections as rows, and the rows at the top and
    // the bottom of the scrolled table are the model's rows there.
    const auto check = [&](const char *step) {
        QCoreApplication::processEvents();
        QVERIFY2(rows->count() == m->rowCount(),
                 qPrintable(QStringLiteral("%1: header %2, model %3")
                                .arg(QLatin1StringView(step))
                                .arg(rows->count())
                                .arg(m->rowCount())));
        if (m->rowCount() == 0)
            return;
        table->scrollToTop();
        QCOMPARE(table->rowAt(1), 0);
        table->scrollToBottom();
        QCoreApplication::processEvents();
        const int last = m->rowCount() - 1;
        QCOMPARE(table->rowAt(table->rowViewportPosition(last) + 1), last);
        QCOMPARE(table->indexAt(QPoint(5, table->rowViewportPosition(last) + 1))
                     .data(Model::IdRole)
                     .toUInt(),
                 m->idAt(last));
    };

    const HelloPayload hello{magic, version, sizeof(EntryRecord), helloAccounting};
    feed(m, FrameType::Hello, QByteArray(reinterpret_cast<const char *>(&hello), sizeof hello));
    feed(m, FrameType::Begin);
    feed(m, FrameType::Entries, records(0, 6000));
    feed(m, FrameType::End);
    check("snapshot");
    QCOMPARE(m->rowCount(), 6000);

    table->horizontalHeader()->setSortIndicator(Model::OriginalColumn, Qt::AscendingOrder);
    check("sorted by source");
    table->selectRow(10);
    const quint32 selected = m->idAt(10);

    // Deltas of every size: one row, two, a few hundred (the layout change), with removals.
    feed(m, FrameType::Entries, records(6000, 6001));
    feed(m, FrameType::Tick);
    check("one new row");
    feed(m, FrameType::Destroyed, ids(100, 101));
    feed(m, FrameType::Entries, records(6001, 6002));
    feed(m, FrameType::Tick);
    check("one new, one gone");
    feed(m, FrameType::Entries, records(6002, 6400));
    feed(m, FrameType::Destroyed, ids(200, 900, 3));
    feed(m, FrameType::Tick);
    check("hundreds new and gone");
    QCOMPARE(m->rowCount(), 6400 - 1 - 234);
    // The selection stayed on its connection through all of it.
    const QModelIndexList sel = table->selectionModel()->selectedRows();
    QCOMPARE(sel.size(), 1);
    QCOMPARE(sel.first().data(Model::IdRole).toUInt(), selected);

    table->horizontalHeader()->setSortIndicator(Model::BytesColumn, Qt::DescendingOrder);
    check("sorted by bytes");
    ConnectionFilter f;
    f.protocol = IPPROTO_UDP;
    m->setFilter(f);
    check("udp only");
    QVERIFY(m->rowCount() > 0 && m->rowCount() < m->totalCount());
    feed(m, FrameType::Entries, records(6400, 6600));
    feed(m, FrameType::Destroyed, ids(1000, 2000, 2));
    feed(m, FrameType::Tick);
    check("deltas while filtered");
    m->setFilter({});
    check("filter cleared");
    QCOMPARE(m->rowCount(), m->totalCount());
    // A resync that drops most of the table, then a new stream.
    feed(m, FrameType::Begin);
    feed(m, FrameType::Entries, records(6000, 6600));
    feed(m, FrameType::End);
    check("resync");
    m->clear();
    check("cleared");
}

QTEST_MAIN(TestConnectionsView)
#include "test_connections_view.moc"
