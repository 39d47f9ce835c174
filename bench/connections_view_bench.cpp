// SPDX-License-Identifier: GPL-3.0-or-later
// The Connections view at 100,000 and 1,000,000 entries, on generated records (no helper, no
// kernel): the frames of common/conntrack_stream.h are made here and fed to the very view and
// model the app runs, one pipe-sized chunk per event-loop turn, as the pipe reader would. Times
// the first rows painted after the stream opens (the view shown empty first: the memory
// baseline), the whole snapshot in the model, memory per entry, re-sorts, filters, a repaint,
// the longest event-loop stall while 20,000 events per second arrive, the flushes' cost, the
// longest stall during a counter refresh of every entry sorted by bytes and by rate (with and
// without the staged flush), and exact row signals against the layout change for small flushes.
// Not a test: it prints Markdown for docs/benchmarks.md. Run offscreen:
//   QT_QPA_PLATFORM=offscreen build/bench/connections_view_bench [N...]
// With --bus ADDRESS it opens the view on the real helper instead (bench/connections_gui.py
// runs it in the lab) and prints one JSON line: the first rows painted and the whole table.
#include "connection_table_model.h"
#include "connections_view.h"
#include "helper_client.h"

#include <QApplication>
#include <QDateTime>
#include <QElapsedTimer>
#include <QHeaderView>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTableView>
#include <QTimer>
#include <QtEndian>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <malloc.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <vector>

using namespace portico;
using namespace portico::ctstream;

namespace {

size_t heapBytes() {
    const struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

EntryRecord record(quint32 id, quint32 n) {
    EntryRecord r{};
    r.id = id;
    r.family = AF_INET;
    r.protocol = n % 10 == 0 ? IPPROTO_UDP : IPPROTO_TCP;
    r.tcpState = r.protocol == IPPROTO_TCP ? quint8(n % 7 == 0 ? 7 : 3) : noTcpState;
    r.status = (1u << 1) | (1u << 2) | (n % 3 ? (1u << 5) : 0);
    r.mark = n % 3 ? 1 + n % 10 : 0;
    r.timeout = 300 + n % 431000;
    r.startMs = quint64(QDateTime::currentMSecsSinceEpoch()) - (n % 86400) * 1000ull;
    r.origPackets = n % 1000;
    r.origBytes = (n % 1000) * 1400ull;
    r.replyPackets = n % 900;
    r.replyBytes = (n % 900) * 600ull;
    const quint32 client = qToBigEndian(0xCB007100u + (n % 250)); // 203.0.113.x
    const quint32 gw = qToBigEndian(0xCB007101u);
    const quint32 server = qToBigEndian(0xC6336400u + (n % 200)); // 198.51.100.x
    std::memcpy(r.origSrc, &client, 4);
    std::memcpy(r.origDst, &gw, 4);
    std::memcpy(r.replySrc, n % 3 ? &server : &gw, 4);
    std::memcpy(r.replyDst, &client, 4);
    r.origSport = quint16(1024 + (n / 250) % 60000);
    r.origDport = quint16(80 + n % 10);
    r.replySport = n % 3 ? 8080 : r.origDport;
    r.replyDport = r.origSport;
    return r;
}

quint32 idOf(quint32 n) {
    return n * 2654435761u + 1; // distinct and scattered, like the kernel's ids
}

QByteArray forwardsJson() {
    QByteArray j = "[";
    for (int i = 1; i <= 10; ++i)
        j += QStringLiteral("%1{\"mark\":%2,\"id\":\"f%2\",\"name\":\"forward %2\"}")
                 .arg(i > 1 ? QStringLiteral(",") : QString())
                 .arg(i)
                 .toUtf8();
    return j + "]";
}

void feed(ConnectionTableModel *m, FrameType type, const QByteArray &payload = {}) {
    m->handleFrame(type, payload.constData(), payload.size());
}

// 64 KiB of the pipe: 481 records.
constexpr int perChunk = 65536 / int(sizeof(EntryRecord));

struct Result {
    int n = 0;
    double firstPaintMs = 0;
    double fullMs = 0;
    double bytesPerEntry = 0;        // above the shown, empty table
    double bytesPerEntryUnshown = 0; // above the view before it was first shown
    double modelBytesPerEntry = 0;
    double sortMs[3] = {};
    double filterMs[3] = {};
    double clearMs = 0;
    double repaintMs = 0;   // the whole table, median of 11
    double loadStallMs = 0; // while the snapshot comes in
    double loadStallP99Ms = 0;
    double stallMaxMs[2] = {}; // a Tick every 100 ms, every 10 ms
    double idleMaxMs = 0;
    double stallP99Ms[2] = {};
    double flushMedianMs = 0; // one interval's changes: the model and the view's handling
    double flushMaxMs = 0;
    // A counter refresh of every entry, sorted by bytes and by rate: [column][one flush, staged]
    double refreshStallMs[2][2] = {};
    double refreshP99Ms[2][2] = {};
    double refreshShownMs[2][2] = {};
    double signalMs[4][2] = {};      // 1, 2, 4, 8 rows: [one layout change, exact signals]
    double signalFlushMs[4][2] = {}; // the same without the repaint
    int events = 0;
};

class PaintProbe : public QObject {
public:
    QElapsedTimer *clock = nullptr;
    ConnectionTableModel *model = nullptr;
    double firstRows = -1;
    int paints = 0;
    bool eventFilter(QObject *, QEvent *e) override {
        if (e->type() == QEvent::Paint)
            ++paints;
        if (e->type() == QEvent::Paint && firstRows < 0 && model->rowCount() > 0) {
            // The paint event is delivered before it is painted: stop the clock just after.
            QTimer::singleShot(0, [this] {
                if (firstRows < 0)
                    firstRows = double(clock->nsecsElapsed()) / 1e6;
            });
        }
        return false;
    }
};

// A 1 ms timer that keeps how late the event loop gets to it: its longest gaps are the stalls.
class GapProbe {
public:
    GapProbe() {
        m_timer.setTimerType(Qt::PreciseTimer);
        m_timer.setInterval(1);
        QObject::connect(&m_timer, &QTimer::timeout, [this] {
            const qint64 now = m_clock.nsecsElapsed();
            m_gaps.push_back(double(now - m_last) / 1e6);
            m_last = now;
        });
        m_clock.start();
    }
    void start() {
        m_gaps.clear();
        m_last = m_clock.nsecsElapsed();
        m_timer.start();
    }
    // Lets the probe fire once more first: a stall is recorded when the timer gets its turn
    // after it, so the last turn of what was measured would otherwise go unseen.
    void stop() {
        const size_t seen = m_gaps.size();
        QElapsedTimer wait;
        wait.start();
        while (m_gaps.size() == seen && wait.elapsed() < 1000)
            QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
        m_timer.stop();
        std::sort(m_gaps.begin(), m_gaps.end());
    }
    double longest() const { return m_gaps.empty() ? 0 : m_gaps.back(); }
    double p99() const { return m_gaps.empty() ? 0 : m_gaps[size_t(double(m_gaps.size()) * 0.99)]; }

private:
    QElapsedTimer m_clock;
    qint64 m_last = 0;
    std::vector<double> m_gaps;
    QTimer m_timer;
};

// Shows the view with its table still empty and lets it paint: the baseline the memory per entry
// is counted from (the window's backing store, fonts and style are not per entry).
size_t shownEmptyBaseline(ConnectionsView *view, const PaintProbe &probe) {
    view->show();
    QElapsedTimer t;
    t.start();
    while ((probe.paints == 0 || t.elapsed() < 100) && t.elapsed() < 5000)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
    malloc_trim(0);
    return heapBytes();
}

double timeIt(const std::function<void()> &f) {
    QElapsedTimer t;
    t.start();
    f();
    QCoreApplication::processEvents(); // the view's part of the signals, and its repaint
    return double(t.nsecsElapsed()) / 1e6;
}

Result run(int n) {
    Result res;
    res.n = n;
    HelperClient client(QStringLiteral("unix:path=/nonexistent"));
    auto *view = new ConnectionsView(&client);
    view->setAutoStart(false);
    view->resize(1200, 700);
    ConnectionTableModel *m = view->model();
    QCoreApplication::processEvents();
    malloc_trim(0);
    const size_t unshown = heapBytes();

    QElapsedTimer clock;
    PaintProbe probe;
    probe.clock = &clock;
    probe.model = m;
    view->table()->viewport()->installEventFilter(&probe);
    const size_t base = shownEmptyBaseline(view, probe);

    // Frames as they come out of the pipe: one 64 KiB chunk per event-loop turn.
    std::vector<QByteArray> chunks;
    for (int at = 0; at < n; at += perChunk) {
        const int k = std::min(perChunk, n - at);
        QByteArray c(k * int(sizeof(EntryRecord)), Qt::Uninitialized);
        auto *r = reinterpret_cast<EntryRecord *>(c.data());
        for (int i = 0; i < k; ++i)
            r[i] = record(idOf(quint32(at + i)), quint32(at + i));
        chunks.push_back(std::move(c));
    }
    // The clock starts with the stream, the view already shown (as the tab's first show does:
    // it opens the stream, and the WatchConnections call takes longer than the empty paint).
    clock.start();
    HelloPayload hello{magic, version, sizeof(EntryRecord), helloAccounting};
    feed(m, FrameType::Hello, QByteArray(reinterpret_cast<const char *>(&hello), sizeof hello));
    feed(m, FrameType::Forwards, forwardsJson());
    feed(m, FrameType::Begin);
    size_t next = 0;
    bool done = false;
    QTimer pump;
    pump.setInterval(0);
    QObject::connect(&pump, &QTimer::timeout, [&] {
        if (next < chunks.size()) {
            feed(m, FrameType::Entries, chunks[next++]);
            return;
        }
        feed(m, FrameType::End);
        pump.stop();
        done = true;
    });
    bool finished = false; // the End's flush may be staged: the snapshot is in at this signal
    QObject::connect(m, &ConnectionTableModel::snapshotFinished, [&] { finished = true; });
    GapProbe gaps;
    gaps.start();
    pump.start();
    while (!done || !finished || probe.firstRows < 0)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    res.fullMs = double(clock.nsecsElapsed()) / 1e6;
    gaps.stop();
    res.loadStallMs = gaps.longest();
    res.loadStallP99Ms = gaps.p99();
    res.firstPaintMs = probe.firstRows;
    chunks.clear();
    chunks.shrink_to_fit();
    QCoreApplication::processEvents();
    malloc_trim(0);
    const size_t heap = heapBytes();
    res.bytesPerEntry = double(heap - base) / n;
    res.bytesPerEntryUnshown = double(heap - unshown) / n;
    res.modelBytesPerEntry = double(m->bytesUsed()) / n;

    // One repaint of the whole table (what follows every flush that changed what is shown).
    std::vector<double> paints;
    for (int i = 0; i < 11; ++i) {
        QElapsedTimer t;
        t.start();
        view->table()->viewport()->repaint();
        paints.push_back(double(t.nsecsElapsed()) / 1e6);
    }
    std::sort(paints.begin(), paints.end());
    res.repaintMs = paints[paints.size() / 2];

    using M = ConnectionTableModel;
    QHeaderView *h = view->table()->horizontalHeader();
    const int columns[3] = {M::OriginalColumn, M::BytesColumn, M::ForwardColumn};
    for (int i = 0; i < 3; ++i)
        res.sortMs[i] = timeIt([&] { h->setSortIndicator(columns[i], Qt::DescendingOrder); });
    ConnectionFilter f;
    f.text = QStringLiteral("198.51.100.7");
    res.filterMs[0] = timeIt([&] { m->setFilter(f); });
    f = {};
    f.forwardId = QStringLiteral("f4");
    res.filterMs[1] = timeIt([&] { m->setFilter(f); });
    f = {};
    f.text = QStringLiteral("forward 2 established");
    res.filterMs[2] = timeIt([&] { m->setFilter(f); });
    res.clearMs = timeIt([&] { m->setFilter({}); });

    // 20,000 events a second for 3 s, sorted by source: 100 new, 50 updates and 50 destroys
    // every 10 ms, closed by a Tick every `tickEvery` batches (the helper sends one about every
    // 100 ms; between them the model flushes on its own interval). A 1 ms probe timer measures
    // how late the event loop gets to it.
    h->setSortIndicator(M::OriginalColumn, Qt::AscendingOrder);
    QCoreApplication::processEvents();
    quint32 born = quint32(n);
    quint32 oldest = 0;
    std::vector<double> flushes;
    int tickEvery = 1;
    int batch = 0;
    QTimer events;
    events.setTimerType(Qt::PreciseTimer);
    events.setInterval(10);
    QObject::connect(&events, &QTimer::timeout, [&] {
        QByteArray c(150 * int(sizeof(EntryRecord)), Qt::Uninitialized);
        auto *r = reinterpret_cast<EntryRecord *>(c.data());
        for (int i = 0; i < 100; ++i, ++born)
            r[i] = record(idOf(born), born);
        for (int i = 0; i < 50; ++i) {
            const quint32 k = oldest + 50 + quint32(i) * 97 % quint32(n / 2);
            r[100 + i] = record(idOf(k), k);
            r[100 + i].origBytes += 5000;
        }
        feed(m, FrameType::Entries, c);
        QByteArray gone(50 * 4, Qt::Uninitialized);
        for (int i = 0; i < 50; ++i, ++oldest) {
            const quint32 id = idOf(oldest);
            std::memcpy(gone.data() + 4 * i, &id, 4);
        }
        feed(m, FrameType::Destroyed, gone);
        res.events += 200;
        if (++batch % tickEvery != 0)
            return;
        QElapsedTimer flushClock;
        flushClock.start();
        feed(m, FrameType::Tick); // the flush, and the view's handling of its signals
        if (tickEvery == 1)
            flushes.push_back(double(flushClock.nsecsElapsed()) / 1e6);
    });
    // The same probe with no events first: what the machine's own scheduling costs.
    gaps.start();
    QElapsedTimer idle;
    idle.start();
    while (idle.elapsed() < 1500)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
    gaps.stop();
    res.idleMaxMs = gaps.longest();
    for (int pass = 0; pass < 2; ++pass) {
        tickEvery = pass == 0 ? 10 : 1;
        gaps.start();
        events.start();
        QElapsedTimer span;
        span.start();
        while (span.elapsed() < 3000)
            QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
        events.stop();
        gaps.stop();
        res.stallMaxMs[pass] = gaps.longest();
        res.stallP99Ms[pass] = gaps.p99();
    }
    std::sort(flushes.begin(), flushes.end());
    res.flushMedianMs = flushes.empty() ? 0 : flushes[flushes.size() / 2];
    res.flushMaxMs = flushes.empty() ? 0 : flushes.back();

    // A counter refresh of every entry (the helper's, which sends each entry's counters again),
    // in a view sorted by bytes, then by rate, descending: it moves every row. The records come
    // one 64 KiB chunk per event-loop turn, a Tick every 100 ms as the helper sends them, and one
    // at the end. The probe timer's longest gap from the first chunk until the last of it is on
    // screen; once with the model's staged flush, once with it off (one flush of everything
    // that came since the last).
    quint32 round = 1;
    for (int col = 0; col < 2; ++col) {
        h->setSortIndicator(col == 0 ? M::BytesColumn : M::RateColumn, Qt::DescendingOrder);
        QCoreApplication::processEvents();
        for (int staged = 0; staged < 2; ++staged) {
            if (staged)
                m->setStagedFlush(65536, 262144); // the defaults
            else
                m->setStagedFlush(0, 0);
            // The held entries: n - 1 ... oldest were destroyed, born - 1 the newest.
            quint32 at = oldest;
            const quint32 end = born;
            ++round;
            bool fed = false;
            QTimer pump;
            pump.setInterval(0);
            QObject::connect(&pump, &QTimer::timeout, [&] {
                QByteArray c(perChunk * int(sizeof(EntryRecord)), Qt::Uninitialized);
                auto *r = reinterpret_cast<EntryRecord *>(c.data());
                int k = 0;
                for (; k < perChunk && at < end; ++k, ++at) {
                    r[k] = record(idOf(at), at);
                    // Every entry grows by its own amount: the order by bytes and by rate
                    // changes throughout.
                    const quint64 grow = quint64((at * 2654435761u + round * 40503u) % 100000u);
                    r[k].origBytes = 4000000ull * round + grow * 37;
                    r[k].origPackets = r[k].origBytes / 1000;
                }
                c.resize(k * int(sizeof(EntryRecord)));
                if (k > 0)
                    feed(m, FrameType::Entries, c);
                if (at >= end) {
                    pump.stop();
                    feed(m, FrameType::Tick);
                    fed = true;
                }
            });
            QTimer ticks;
            ticks.setInterval(100);
            QObject::connect(&ticks, &QTimer::timeout, [&] { feed(m, FrameType::Tick); });
            QCoreApplication::processEvents();
            gaps.start();
            QElapsedTimer span;
            span.start();
            pump.start();
            ticks.start();
            while (!fed || m->isStaging() || m->hasUnflushed())
                QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
            ticks.stop();
            QCoreApplication::processEvents(); // the last repaint
            res.refreshShownMs[col][staged] = double(span.nsecsElapsed()) / 1e6;
            gaps.stop();
            res.refreshStallMs[col][staged] = gaps.longest();
            res.refreshP99Ms[col][staged] = gaps.p99();
        }
    }
    h->setSortIndicator(M::OriginalColumn, Qt::AscendingOrder);
    QCoreApplication::processEvents();

    // Exact row signals against the one layout change, for flushes of k rows (half new, half
    // destroyed, scattered over the sorted rows): the flush with the view's handling of its
    // signals, then the repaint. The median of 5 each.
    for (int k : {1, 2, 4, 8}) {
        for (int exact = 1; exact >= 0; --exact) {
            m->setExactSignalRows(exact ? k : 0);
            std::vector<double> t;
            std::vector<double> flushOnly;
            for (int rep = 0; rep < 5; ++rep) {
                QByteArray c;
                QByteArray gone;
                for (int i = 0; i < k; ++i) {
                    if (i % 2 == 0 || k == 1) {
                        const EntryRecord r = record(idOf(born), born);
                        ++born;
                        c.append(reinterpret_cast<const char *>(&r), sizeof r);
                    } else {
                        const quint32 id = idOf(oldest++);
                        gone.append(reinterpret_cast<const char *>(&id), 4);
                    }
                }
                QElapsedTimer one;
                one.start();
                feed(m, FrameType::Entries, c);
                if (!gone.isEmpty())
                    feed(m, FrameType::Destroyed, gone);
                feed(m, FrameType::Tick);
                flushOnly.push_back(double(one.nsecsElapsed()) / 1e6);
                QCoreApplication::processEvents();
                t.push_back(double(one.nsecsElapsed()) / 1e6);
            }
            std::sort(t.begin(), t.end());
            std::sort(flushOnly.begin(), flushOnly.end());
            const int row = k == 1 ? 0 : k == 2 ? 1 : k == 4 ? 2 : 3;
            res.signalMs[row][exact] = t[t.size() / 2];
            res.signalFlushMs[row][exact] = flushOnly[flushOnly.size() / 2];
        }
    }
    m->setExactSignalRows(2);
    delete view;
    return res;
}

// The view on the real helper's stream: shown empty first (the memory baseline), then the clock
// starts as the stream is opened (what the tab's first show does); the first paint with rows and
// the end of the snapshot stop it.
int runLive(const QString &bus) {
    HelperClient client(bus);
    // The app's window subscribes to ForwardsChanged at start, so its bus connection is open
    // long before the tab is: so it is here, before the baselines (no helper call, so a stopped
    // helper stays stopped for the cold open).
    if (const HelperError e = client.watchForwardsChanged(); !e.ok()) {
        const QJsonObject o{{QStringLiteral("error"), e.message}};
        std::printf("%s\n", QJsonDocument(o).toJson(QJsonDocument::Compact).constData());
        return 1;
    }
    auto *view = new ConnectionsView(&client);
    view->setAutoStart(false);
    view->resize(1200, 700);
    ConnectionTableModel *m = view->model();
    QCoreApplication::processEvents();
    malloc_trim(0);
    const size_t unshown = heapBytes();
    QElapsedTimer clock;
    PaintProbe probe;
    probe.clock = &clock;
    probe.model = m;
    view->table()->viewport()->installEventFilter(&probe);
    const size_t base = shownEmptyBaseline(view, probe);
    double fullMs = -1;
    double replyMs = -1;
    QObject::connect(view, &ConnectionsView::streamStarted,
                     [&] { replyMs = double(clock.nsecsElapsed()) / 1e6; });
    QObject::connect(m, &ConnectionTableModel::snapshotFinished,
                     [&] { fullMs = double(clock.nsecsElapsed()) / 1e6; });
    QString failed;
    QObject::connect(view, &ConnectionsView::streamEnded, [&](const QString &why) {
        failed = why.isEmpty() ? QStringLiteral("stream ended") : why;
    });
    GapProbe gaps;
    clock.start();
    gaps.start();
    view->start(); // what the tab's first show does
    QElapsedTimer limit;
    limit.start();
    while ((fullMs < 0 || probe.firstRows < 0) && failed.isEmpty() && !view->showingMessage() &&
           limit.elapsed() < 600000)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    gaps.stop();
    if (view->showingMessage())
        failed = view->messageText();
    QCoreApplication::processEvents();
    malloc_trim(0);
    const int n = m->totalCount();
    QJsonObject o{
        {QStringLiteral("first_rows_ms"), probe.firstRows},
        {QStringLiteral("full_ms"), fullMs},
        {QStringLiteral("reply_ms"), replyMs},
        {QStringLiteral("entries"), n},
        {QStringLiteral("heap_per_entry"), n ? double(heapBytes() - base) / n : 0.0},
        {QStringLiteral("heap_per_entry_unshown"), n ? double(heapBytes() - unshown) / n : 0.0},
        {QStringLiteral("model_per_entry"), n ? double(m->bytesUsed()) / n : 0.0},
        {QStringLiteral("load_stall_ms"), gaps.longest()},
        {QStringLiteral("load_stall_p99_ms"), gaps.p99()},
        {QStringLiteral("error"), failed}};
    std::printf("%s\n", QJsonDocument(o).toJson(QJsonDocument::Compact).constData());
    delete view;
    return failed.isEmpty() && fullMs >= 0 ? 0 : 1;
}

} // namespace

int main(int argc, char **argv) {
    QApplication app(argc, argv);
    if (argc == 3 && QByteArray(argv[1]) == "--bus")
        return runLive(QString::fromLocal8Bit(argv[2]));
    std::vector<int> sizes;
    for (int i = 1; i < argc; ++i)
        sizes.push_back(atoi(argv[i]));
    if (sizes.empty())
        sizes = {100000, 1000000};
    std::vector<Result> results;
    for (int n : sizes) {
        results.push_back(run(n));
        std::fprintf(stderr, "connections_view_bench: %d done\n", n);
    }
    std::printf(
        "| entries | first rows painted (ms) | whole snapshot in the model (ms) | heap per "
        "entry (B, above the shown empty table; above the unshown view) | model per entry "
        "(B) | sort by source / bytes / forward (ms) | "
        "filter address / one forward / two words (ms) | filter cleared (ms) | repaint (ms) | "
        "longest stall while the snapshot comes in (ms, p99) | "
        "longest stall at 20,000 events/s, a Tick every 100 ms (ms, p99) | the same, a "
        "Tick every 10 ms (ms, p99) | flush at a Tick every 10 ms, median / max (ms) | "
        "longest stall, no events (ms) |\n");
    std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (const Result &r : results)
        std::printf(
            "| %s | %.1f | %.0f | %.1f; %.1f | %.1f | %.0f / %.0f / %.0f | %.1f / %.1f / %.1f | "
            "%.1f | %.1f | %.1f (%.1f) | %.1f (%.1f) | %.1f (%.1f) | %.1f / %.1f | %.1f |\n",
            QLocale(QLocale::English).toString(r.n).toUtf8().constData(), r.firstPaintMs, r.fullMs,
            r.bytesPerEntry, r.bytesPerEntryUnshown, r.modelBytesPerEntry, r.sortMs[0], r.sortMs[1],
            r.sortMs[2], r.filterMs[0], r.filterMs[1], r.filterMs[2], r.clearMs, r.repaintMs,
            r.loadStallMs, r.loadStallP99Ms, r.stallMaxMs[0], r.stallP99Ms[0], r.stallMaxMs[1],
            r.stallP99Ms[1], r.flushMedianMs, r.flushMaxMs, r.idleMaxMs);
    std::printf("\nA counter refresh of every entry (each entry's counters sent again, every row "
                "moving), in the view sorted by bytes or by rate, descending: one 64 KiB chunk of "
                "records per event-loop turn, a Tick every 100 ms; the longest event-loop stall "
                "(p99) from the first chunk until the new order is on screen, and how long that "
                "took. One flush of all that came since the last, against the model's staged "
                "flush (a re-sort in steps of at most about 8 ms).\n\n");
    std::printf("| entries | sorted by | longest stall, one flush (ms, p99) | longest stall, "
                "staged (ms, p99) | refresh on screen after, one flush / staged (ms) |\n");
    std::printf("|---:|---|---:|---:|---:|\n");
    for (const Result &r : results)
        for (int c = 0; c < 2; ++c)
            std::printf("| %s | %s | %.1f (%.1f) | %.1f (%.1f) | %.0f / %.0f |\n",
                        QLocale(QLocale::English).toString(r.n).toUtf8().constData(),
                        c == 0 ? "bytes" : "rate", r.refreshStallMs[c][0], r.refreshP99Ms[c][0],
                        r.refreshStallMs[c][1], r.refreshP99Ms[c][1], r.refreshShownMs[c][0],
                        r.refreshShownMs[c][1]);
    std::printf("\nOne flush that changes a few rows (half new, half destroyed, scattered over the "
                "rows sorted by source): the flush with the view's handling of its signals, and "
                "with the repaint after it; median of 5 (ms). A signal per block of rows against "
                "one insert, one layout change and one remove.\n\n");
    std::printf("| entries | rows changed | exact signals: flush / with repaint | layout change: "
                "flush / with repaint |\n");
    std::printf("|---:|---:|---:|---:|\n");
    for (const Result &r : results)
        for (int i = 0; i < 4; ++i)
            std::printf("| %s | %d | %.1f / %.1f | %.1f / %.1f |\n",
                        QLocale(QLocale::English).toString(r.n).toUtf8().constData(), 1 << i,
                        r.signalFlushMs[i][1], r.signalMs[i][1], r.signalFlushMs[i][0],
                        r.signalMs[i][0]);
    return 0;
}
