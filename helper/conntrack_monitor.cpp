// SPDX-License-Identifier: GPL-3.0-or-later
// The live conntrack streams. How a stream stays right:
//
//   - The event socket is opened before any dump, so nothing that happens after a snapshot
//     starts is missed; events that arrive while a stream's snapshot is read wait in its
//     pending deltas and follow its End (a destroyed entry that the dump still listed is then
//     removed, one it no longer listed is a no-op for the client).
//   - An event overrun (ENOBUFS: the kernel dropped events for us) puts every stream through a
//     new snapshot (Begin ... End): a view with holes is never left standing.
//   - The helper never waits for a client. A dump reads on from the kernel only while little
//     waits for the client's pipe (the kernel holds the rest of the dump), and deltas for a
//     client that does not read pile up only to maxPending: then they are dropped and the
//     client gets a new snapshot once its pipe drains.
//   - Every id a client sees is unique among the live entries. The kernel's conntrack ids are
//     32-bit hashes, so in a large table some flows share one (about a hundred pairs at a
//     million entries): a flow whose kernel id a different live flow already has goes out with
//     a substitute id that no live entry has, the same on every stream for as long as the flow
//     lives; KillConnections takes it too.
//   - Counters stay live through a refresh: the kernel puts them in dumps and destroy events
//     only, not in new or update events. While a stream is open (and accounting is on), one
//     dump shared by all streams re-reads the table about every second, further apart for big
//     tables (at least refreshCostFactor times the CPU time the last one cost: ~10% of a core
//     at most), and every entry whose counters moved goes out as an ordinary Entries record in
//     the stream's deltas. A refresh never goes to a stream in a snapshot (Begin ... End), and
//     it never brings back an entry that is gone: it only updates ids the helper knows as live
//     (readRefresh()).
#include "conntrack_monitor.h"

#include "idle_guard.h"

#include <QDBusServiceWatcher>
#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QSocketNotifier>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

namespace portico {

namespace {

Q_LOGGING_CATEGORY(lcConntrack, "portico.helper.conntrack", QtInfoMsg)

using ctstream::EntryRecord;
using ctstream::FrameHeader;
using ctstream::FrameType;

// A destroyed entry in the pending deltas: only the id counts.
constexpr quint8 pendingDestroyed = 1;
// Records per Entries frame of deltas: a batch the reader handles in one go.
constexpr qsizetype maxRecordsPerFrame = 4096;
constexpr int pipeSize = 1 << 20;

quint64 nowMs() {
    return quint64(QDateTime::currentMSecsSinceEpoch());
}

// Which flow a record is: its original tuple (addresses, ports, protocol, family). FNV-1a over
// the bytes, 64 bits, so that two different live flows practically never share one.
quint64 tupleHash(const EntryRecord &e) {
    quint64 h = 1469598103934665603ull;
    const auto mix = [&h](const void *data, size_t size) {
        const auto *p = static_cast<const quint8 *>(data);
        for (size_t i = 0; i < size; ++i) {
            h ^= p[i];
            h *= 1099511628211ull;
        }
    };
    const size_t len = e.family == AF_INET6 ? 16 : 4;
    mix(&e.family, 1);
    mix(&e.protocol, 1);
    mix(&e.origSport, 2);
    mix(&e.origDport, 2);
    mix(e.origSrc, len);
    mix(e.origDst, len);
    return h;
}

// The counters of a record, hashed to the 21 bits that Seen keeps; 0 for no counters (a new
// or update event). A change is missed with odds of 1 in 2 million: then the next refresh
// catches up.
quint32 counterHash(const EntryRecord &e) {
    if (!(e.origPackets | e.replyPackets | e.origBytes | e.replyBytes))
        return 0;
    quint64 h = e.origPackets * 0x9e3779b97f4a7c15ull;
    h ^= (e.origBytes + (h >> 29)) * 0xbf58476d1ce4e5b9ull;
    h ^= (e.replyPackets + (h >> 31)) * 0x94d049bb133111ebull;
    h ^= (e.replyBytes + (h >> 27)) * 0x9e3779b97f4a7c15ull;
    const quint32 c = quint32(h >> 43);
    return c ? c : 1;
}

bool hasCounters(const EntryRecord &e) {
    return e.origPackets | e.replyPackets | e.origBytes | e.replyBytes;
}

qint64 threadCpuNs() {
    timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return qint64(t.tv_sec) * 1000000000 + t.tv_nsec;
}

// Past this many remembered entries (destroys lost in overruns leave some behind) the memory
// is given back and every stream starts again from a snapshot.
constexpr qsizetype maxSeen = 4 * 1024 * 1024;

} // namespace

struct ConntrackMonitor::Stream {
    quint64 serial = 0;
    int fd = -1;
    QString client;
    conntrack::Filter filter;
    bool dead = false;

    QByteArray out; // whole frames; out[outPos..] is not written yet
    qsizetype outPos = 0;
    QSocketNotifier *writable = nullptr;

    mnl_socket *dump = nullptr; // the snapshot being read
    quint32 dumpSeq = 0;
    QSocketNotifier *dumpNotifier = nullptr;
    bool resyncWanted = false; // a snapshot is due once `out` drains (and any dump has ended)

    std::vector<EntryRecord> pending; // deltas since the last Tick, in order

    // The counter refresh (readRefresh()): whether this stream gets the one running; whether
    // it gets every entry with counters rather than only those that moved; and how many
    // refreshes started while its snapshot was being read or waited for.
    bool inRefresh = false;
    bool refreshAll = false;
    int missedRefreshes = 0;

    qsizetype unwritten() const { return out.size() - outPos; }
};

namespace {

ConntrackMonitor::Options defaultOptions() {
    ConntrackMonitor::Options o;
    // For benchmarks and diagnosis only: a small buffer shows the overrun and resync path.
    bool ok = false;
    const int buffer = qEnvironmentVariableIntValue("PORTICO_CONNTRACK_EVENT_BUFFER", &ok);
    if (ok && buffer > 0)
        o.eventBuffer = buffer;
    return o;
}

} // namespace

ConntrackMonitor::ConntrackMonitor(const QDBusConnection &bus, IdleGuard *idle, QObject *parent)
    : ConntrackMonitor(bus, idle, defaultOptions(), parent) {}

ConntrackMonitor::ConntrackMonitor(const QDBusConnection &bus, IdleGuard *idle,
                                   const Options &options, QObject *parent)
    : QObject(parent)
    , m_bus(bus)
    , m_idle(idle)
    , m_options(options)
    , m_watcher(new QDBusServiceWatcher(this)) {
    // A client that closes its end makes write() fail with EPIPE; without this the signal
    // would end the helper instead.
    std::signal(SIGPIPE, SIG_IGN);
    m_watcher->setConnection(m_bus);
    m_watcher->setWatchMode(QDBusServiceWatcher::WatchForUnregistration);
    connect(m_watcher, &QDBusServiceWatcher::serviceUnregistered, this,
            [this](const QString &name) {
                for (auto &s : m_streams) {
                    if (!s->dead && s->client == name)
                        endStream(s.get(), "its client left the bus");
                }
            });
    m_tick.setInterval(m_options.tickMs);
    connect(&m_tick, &QTimer::timeout, this, &ConntrackMonitor::tick);
    m_refreshTimer.setSingleShot(true);
    connect(&m_refreshTimer, &QTimer::timeout, this, &ConntrackMonitor::startRefresh);
    m_refreshInterval = m_options.refreshMinMs;
}

ConntrackMonitor::~ConntrackMonitor() {
    // A kill under way ends on its own (its socket's reads time out); its caller gets no reply.
    for (QThread *t : std::as_const(m_kills)) {
        t->wait();
        delete t;
    }
    for (auto &s : m_streams) {
        if (!s->dead)
            endStream(s.get(), "the helper is exiting");
    }
    closeEvents();
}

void ConntrackMonitor::setForwards(const QList<Forward> *forwards) {
    m_forwards = forwards;
    m_forwardsStale = true;
}

void ConntrackMonitor::refreshForwards() const {
    if (!m_forwardsStale)
        return;
    m_forwardsStale = false;
    QJsonArray list;
    QSet<quint32> marks;
    static const QList<Forward> none;
    for (const Forward &f : m_forwards ? *m_forwards : none) {
        const quint32 mark = f.mark();
        if (!mark)
            continue;
        marks.insert(mark);
        list.append(QJsonObject{{QStringLiteral("mark"), qint64(mark)},
                                {QStringLiteral("id"), f.id},
                                {QStringLiteral("name"), f.name}});
    }
    m_forwardsJson = QJsonDocument(list).toJson(QJsonDocument::Compact);
    m_forwardMarks = marks;
}

void ConntrackMonitor::sendForwardsIfChanged() {
    refreshForwards();
    if (m_forwardsJson == m_sentForwardsJson)
        return;
    m_sentForwardsJson = m_forwardsJson;
    for (auto &s : m_streams) {
        if (s->dead)
            continue;
        appendForwards(s.get());
        writeOut(s.get());
    }
}

QString ConntrackMonitor::checkPipe(int fd) {
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode))
        return QStringLiteral("WatchConnections takes the write end of a pipe");
    const int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || (flags & O_ACCMODE) == O_RDONLY)
        return QStringLiteral("WatchConnections takes the write end of a pipe, not its read end");
    return {};
}

QString ConntrackMonitor::watch(int pipeFd, const QString &client,
                                const conntrack::Filter &filter) {
    if (QString e = checkPipe(pipeFd); !e.isEmpty())
        return e;
    if (!m_events) {
        openEvents();
        if (!m_events)
            return QStringLiteral("cannot listen to conntrack events (is nf_conntrack_netlink "
                                  "available?)");
    }
    const int fd = fcntl(pipeFd, F_DUPFD_CLOEXEC, 3);
    if (fd < 0)
        return QStringLiteral("cannot keep the pipe: %1")
            .arg(QString::fromLocal8Bit(std::strerror(errno)));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    // Fewer, larger writes; the default 64 KiB holds a few hundred records only.
    fcntl(fd, F_SETPIPE_SZ, pipeSize);

    sendForwardsIfChanged(); // to the streams already open, before this one joins them
    auto stream = std::make_unique<Stream>();
    Stream *s = stream.get();
    s->serial = m_nextSerial++;
    s->fd = fd;
    s->client = client;
    s->filter = filter;
    s->writable = new QSocketNotifier(fd, QSocketNotifier::Write, this);
    s->writable->setEnabled(false);
    connect(s->writable, &QSocketNotifier::activated, this, [this, s]() { onWritable(s); });
    m_streams.push_back(std::move(stream));
    if (!client.isEmpty() && !m_watcher->watchedServices().contains(client))
        m_watcher->addWatchedService(client);
    m_idle->hold();
    if (!m_tick.isActive())
        m_tick.start();
    if (!m_refreshTimer.isActive() && !m_refresh)
        m_refreshTimer.start(m_refreshInterval);

    appendHello(s);
    appendForwards(s);
    bool acct = true;
    if (conntrack::readAccounting(&acct).isEmpty() && !acct)
        appendText(s, FrameType::Notice,
                   "Per-connection packet and byte counters are off "
                   "(net.netfilter.nf_conntrack_acct = 0), so they show 0. Turn them on with "
                   "'porticoctl accounting on'; they count connections that start after that.");
    readEvents(); // what is queued predates the snapshot
    startDump(s);
    qCInfo(lcConntrack, "stream %llu to %s started (%d open)", s->serial, qPrintable(client),
           streamCount());
    return {};
}

void ConntrackMonitor::kill(const conntrack::Filter &filter,
                            std::function<void(const QString &, quint32)> done) {
    refreshForwards();
    // The thread gets copies: the streams go on changing the monitor's own meanwhile (Qt's
    // implicit sharing makes them cheap until then).
    struct Result {
        QString error;
        quint32 killed = 0;
    };
    auto result = std::make_shared<Result>();
    QThread *thread =
        QThread::create([filter, marks = m_forwardMarks, substitutes = m_substitutes, result]() {
            result->error = conntrack::killMatching(
                filter, marks,
                [&substitutes](const EntryRecord &r) { return streamIdIn(substitutes, r); },
                &result->killed);
        });
    m_kills.append(thread);
    m_idle->hold();
    connect(thread, &QThread::finished, this, [this, thread, result, done = std::move(done)]() {
        m_kills.removeOne(thread);
        thread->deleteLater();
        m_idle->release();
        done(result->error, result->killed);
    });
    thread->start();
}

QString ConntrackMonitor::accounting(bool *on) const {
    return conntrack::readAccounting(on);
}

QString ConntrackMonitor::setAccounting(bool on) {
    bool before = false;
    const QString readError = conntrack::readAccounting(&before);
    if (QString e = conntrack::writeAccounting(on); !e.isEmpty())
        return e;
    if (readError.isEmpty() && before == on)
        return {};
    const QByteArray text =
        on ? "Per-connection packet and byte counters are now on; they count connections that "
             "start from now on."
           : "Per-connection packet and byte counters are now off; new connections show 0.";
    for (auto &s : m_streams) {
        if (s->dead)
            continue;
        appendText(s.get(), FrameType::Notice, text);
        writeOut(s.get());
    }
    return {};
}

// --- events ---

void ConntrackMonitor::openEvents() {
    QString error;
    m_events = conntrack::openSocket(true, m_options.eventBuffer, &error);
    if (!m_events) {
        qCWarning(lcConntrack, "%s", qPrintable(error));
        return;
    }
    m_eventNotifier = new QSocketNotifier(mnl_socket_get_fd(m_events), QSocketNotifier::Read, this);
    connect(m_eventNotifier, &QSocketNotifier::activated, this, &ConntrackMonitor::readEvents);
}

void ConntrackMonitor::closeEvents() {
    if (m_eventNotifier) {
        m_eventNotifier->setEnabled(false);
        m_eventNotifier->deleteLater();
        m_eventNotifier = nullptr;
    }
    if (m_events) {
        mnl_socket_close(m_events);
        m_events = nullptr;
    }
    finishRefresh({});
    m_refreshTimer.stop();
    forgetIds();
    m_tick.stop();
}

void ConntrackMonitor::readEvents() {
    if (!m_events)
        return;
    // Many events per system call; and a bounded number per turn of the event loop, so that
    // bus calls are served in between even under a flood (the notifier fires again).
    constexpr int batch = 64;
    constexpr int bufSize = 4096;
    static thread_local std::vector<char> buffers(batch * bufSize);
    mmsghdr msgs[batch];
    iovec iov[batch];
    const int fd = mnl_socket_get_fd(m_events);
    for (int round = 0; round < 64; ++round) {
        for (int i = 0; i < batch; ++i) {
            iov[i] = {buffers.data() + i * bufSize, bufSize};
            std::memset(&msgs[i], 0, sizeof msgs[i]);
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        const int n = recvmmsg(fd, msgs, batch, MSG_DONTWAIT, nullptr);
        if (n < 0) {
            if (errno == ENOBUFS) {
                overrun();
                continue; // the socket works on; read what it still holds
            }
            if (errno != EAGAIN && errno != EINTR)
                qCWarning(lcConntrack, "reading conntrack events failed: %s", std::strerror(errno));
            return;
        }
        for (int i = 0; i < n; ++i) {
            int left = int(msgs[i].msg_len);
            for (auto *h = reinterpret_cast<nlmsghdr *>(iov[i].iov_base); mnl_nlmsg_ok(h, left);
                 h = mnl_nlmsg_next(h, &left)) {
                EntryRecord record;
                const conntrack::MessageKind kind = conntrack::parseMessage(h, &record);
                if (kind == conntrack::MessageKind::Other)
                    continue;
                const bool destroyed = kind == conntrack::MessageKind::Destroy;
                if (assignId(&record, destroyed))
                    dispatch(record, destroyed);
            }
        }
        if (n < batch)
            return;
    }
}

void ConntrackMonitor::overrun() {
    ++m_overruns;
    // Rare on purpose (the buffer is large): worth a line each time, but not a flood of them.
    if (m_overruns <= 10 || m_overruns % 100 == 0)
        qCInfo(lcConntrack,
               "conntrack events overran the socket buffer (%llu times so far); "
               "every stream gets a new snapshot",
               m_overruns);
    for (auto &s : m_streams) {
        if (s->dead)
            continue;
        s->pending.clear();
        s->resyncWanted = true;
        if (!s->dump && s->unwritten() == 0)
            startDump(s.get());
    }
}

void ConntrackMonitor::forgetIds() {
    m_seen = {};
    m_substitutes = {};
}

bool ConntrackMonitor::assignId(EntryRecord *record, bool destroyed) {
    const quint64 hash = tupleHash(*record);
    quint32 id = record->id;
    // A flow that already has a substitute keeps it, even once its kernel id is free again.
    const auto sub = m_substitutes.isEmpty() ? m_substitutes.end() : m_substitutes.find(hash);
    if (sub != m_substitutes.end()) {
        id = *sub;
    } else {
        const auto it = m_seen.constFind(id);
        if (it != m_seen.cend() && it->tupleHash != hash) {
            if (destroyed)
                return false; // a flow no client knows: its id is another's
            // Another live flow has this kernel id: find one that no entry has.
            quint32 candidate = id ^ 0x80000000u;
            while (candidate == 0 || m_seen.contains(candidate))
                candidate = candidate * 2654435761u + 1u;
            id = candidate;
            m_substitutes.insert(hash, id);
        }
    }
    record->id = id;
    if (destroyed) {
        const auto it = m_seen.find(id);
        if (it != m_seen.end()) {
            if (!record->startMs)
                record->startMs = it->firstSeenMs;
            m_seen.erase(it);
        }
        if (sub != m_substitutes.end())
            m_substitutes.erase(sub);
        return true;
    }
    auto it = m_seen.find(id);
    if (it == m_seen.end()) {
        if (m_seen.size() >= maxSeen) {
            // Lost destroys have piled up. Start again: new snapshots for everyone, so that no
            // client keeps an id that now means something else.
            forgetIds();
            overrun();
        }
        it = m_seen.insert(id, Seen{hash, nowMs(), 0, counterHash(*record)});
    }
    if (!record->startMs)
        record->startMs = it->firstSeenMs;
    return true;
}

quint32 ConntrackMonitor::streamIdOf(const EntryRecord &record) const {
    return streamIdIn(m_substitutes, record);
}

quint32 ConntrackMonitor::streamIdIn(const QHash<quint64, quint32> &substitutes,
                                     const EntryRecord &record) {
    if (!substitutes.isEmpty()) {
        const auto sub = substitutes.constFind(tupleHash(record));
        if (sub != substitutes.cend())
            return *sub;
    }
    return record.id;
}

void ConntrackMonitor::dispatch(const EntryRecord &record, bool destroyed) {
    refreshForwards(); // the marks the filters use (cheap when nothing changed)
    for (auto &sp : m_streams) {
        Stream *s = sp.get();
        // A stream waiting for its snapshot gets everything from that snapshot.
        if (s->dead || (s->resyncWanted && !s->dump))
            continue;
        if (!s->filter.matches(record, m_forwardMarks))
            continue;
        if (destroyed) {
            EntryRecord gone{};
            gone.id = record.id;
            gone.reserved = pendingDestroyed;
            s->pending.push_back(gone);
        } else {
            s->pending.push_back(record);
        }
    }
}

void ConntrackMonitor::tick() {
    sendForwardsIfChanged();
    for (auto &sp : m_streams) {
        Stream *s = sp.get();
        if (s->dead)
            continue;
        if (qsizetype(s->pending.size()) > m_options.maxPending) {
            // The client does not keep up (or a snapshot takes long): a new snapshot is
            // cheaper than holding on, and it cannot be silently wrong.
            s->pending.clear();
            s->pending.shrink_to_fit();
            s->resyncWanted = true;
            qCInfo(lcConntrack,
                   "stream %llu: more than %lld deltas wait for the client; it gets "
                   "a new snapshot once it has read what it has",
                   s->serial, qlonglong(m_options.maxPending));
        }
        if (s->dump)
            continue;
        if (s->unwritten() > 0) {
            writeOut(s); // also finds a closed pipe
            continue;
        }
        if (s->resyncWanted) {
            startDump(s);
            continue;
        }
        if (!s->pending.empty()) {
            flushPending(s);
            writeOut(s);
            continue;
        }
        // Nothing to say: still check that the client's end is open, so that a stream whose
        // client went quietly does not stay (POLLERR on a pipe's write end: no reader left).
        pollfd p{s->fd, 0, 0};
        if (poll(&p, 1, 0) > 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL)))
            endStream(s, "the client closed its end");
    }
    // A refresh that waited for its streams' deltas to go out reads on. A client that has not
    // read for a second does not hold up the others: its stream leaves this refresh and gets
    // every entry with counters in the next one (it missed the rest of this one).
    if (m_refreshNotifier && !m_refreshNotifier->isEnabled()) {
        if (!refreshHasRoom() && nowMs() - m_refreshPausedMs > 1000) {
            for (auto &sp : m_streams) {
                Stream *s = sp.get();
                if (!s->dead && s->inRefresh && !refreshHasRoom(s)) {
                    s->inRefresh = false;
                    s->missedRefreshes = 2;
                    qCInfo(lcConntrack,
                           "stream %llu: its client does not read; the counter "
                           "refresh goes on without it",
                           s->serial);
                }
            }
        }
        if (refreshHasRoom())
            m_refreshNotifier->setEnabled(true);
    }
}

// --- frames ---

void ConntrackMonitor::appendFrame(Stream *s, FrameType type, const void *data, qsizetype size) {
    const FrameHeader h{type, quint32(size)};
    s->out.append(reinterpret_cast<const char *>(&h), sizeof h);
    if (size)
        s->out.append(static_cast<const char *>(data), size);
}

void ConntrackMonitor::appendText(Stream *s, FrameType type, const QByteArray &text) {
    // Padded with spaces (harmless in JSON and in a notice) to a multiple of 8, so that the
    // frames after it stay aligned for the reader.
    QByteArray padded = text;
    padded.append((8 - padded.size() % 8) % 8, ' ');
    appendFrame(s, type, padded.constData(), padded.size());
}

void ConntrackMonitor::appendHello(Stream *s) {
    bool acct = false;
    conntrack::readAccounting(&acct);
    const ctstream::HelloPayload hello{ctstream::magic, ctstream::version, sizeof(EntryRecord),
                                       acct ? ctstream::helloAccounting : 0u};
    appendFrame(s, FrameType::Hello, &hello, sizeof hello);
}

void ConntrackMonitor::appendForwards(Stream *s) {
    appendText(s, FrameType::Forwards,
               m_forwardsJson.isEmpty() ? QByteArray("[]") : m_forwardsJson);
}

void ConntrackMonitor::flushPending(Stream *s) {
    // Runs of updates and of destroys in their order, so that an id destroyed and then reused
    // within one batch ends up right.
    const std::vector<EntryRecord> &p = s->pending;
    std::vector<quint32> ids;
    size_t i = 0;
    while (i < p.size()) {
        const bool destroyed = p[i].reserved == pendingDestroyed;
        size_t j = i;
        while (j < p.size() && (p[j].reserved == pendingDestroyed) == destroyed &&
               qsizetype(j - i) < maxRecordsPerFrame)
            ++j;
        if (destroyed) {
            ids.clear();
            for (size_t k = i; k < j; ++k)
                ids.push_back(p[k].id);
            if (ids.size() % 2)
                ids.push_back(ids.back()); // twice is the same; keeps the frames 8-aligned
            appendFrame(s, FrameType::Destroyed, ids.data(), qsizetype(ids.size() * 4));
        } else {
            appendFrame(s, FrameType::Entries, &p[i], qsizetype((j - i) * sizeof(EntryRecord)));
        }
        i = j;
    }
    appendFrame(s, FrameType::Tick, nullptr, 0);
    s->pending.clear();
    if (s->pending.capacity() > size_t(4 * maxRecordsPerFrame))
        s->pending.shrink_to_fit();
}

// --- snapshots ---

void ConntrackMonitor::startDump(Stream *s) {
    s->resyncWanted = false;
    s->pending.clear();
    // The snapshot has the counters as they are now; a refresh running meanwhile counts as
    // missed (see startRefresh()).
    s->inRefresh = false;
    s->missedRefreshes = m_refresh ? 1 : 0;
    // Room for the whole table at once: growing the id table step by step through a million
    // entries costs more than the dump's own parsing.
    QFile count(QStringLiteral("/proc/sys/net/netfilter/nf_conntrack_count"));
    if (count.open(QIODevice::ReadOnly)) {
        const qsizetype n = count.readAll().trimmed().toLongLong();
        if (n > 0 && n < maxSeen && m_seen.capacity() < n + n / 4)
            m_seen.reserve(n + n / 4);
    }
    QString error;
    s->dump = conntrack::openSocket(false, 0, &error);
    if (s->dump)
        s->dumpSeq = conntrack::requestDump(s->dump, &error);
    if (!s->dump || !s->dumpSeq) {
        if (s->dump)
            mnl_socket_close(s->dump);
        s->dump = nullptr;
        appendText(s, FrameType::Notice, error.toUtf8());
        s->resyncWanted = true; // tried again on the next tick
        writeOut(s);
        return;
    }
    appendFrame(s, FrameType::Begin, nullptr, 0);
    s->dumpNotifier = new QSocketNotifier(mnl_socket_get_fd(s->dump), QSocketNotifier::Read, this);
    connect(s->dumpNotifier, &QSocketNotifier::activated, this, [this, s]() { readDump(s); });
    writeOut(s);
}

namespace {

// What reading a part of a dump found.
struct DumpPart {
    bool done = false;        // the dump is over (NLMSG_DONE, or the kernel's error)
    bool interrupted = false; // NLM_F_DUMP_INTR: the table changed in a way the dump missed
    QString error;
};

// Reads the dump `seq` from the non-blocking `nl`: at most 32 receives, each only while
// `goOn()` says so, and not past what the socket holds now (the kernel keeps the rest). Every
// entry goes to `onRecord`. The snapshots and the counter refresh both read through here.
template <typename GoOn, typename OnRecord>
DumpPart readDumpPart(mnl_socket *nl, quint32 seq, GoOn goOn, OnRecord onRecord) {
    static thread_local std::vector<char> buf(1 << 17);
    const unsigned portid = mnl_socket_get_portid(nl);
    DumpPart part;
    for (int round = 0; round < 32 && !part.done && goOn(); ++round) {
        const ssize_t n = mnl_socket_recvfrom(nl, buf.data(), buf.size());
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                part.error = QStringLiteral("reading the conntrack table failed: %1")
                                 .arg(QString::fromLocal8Bit(std::strerror(errno)));
            break;
        }
        int left = int(n);
        for (auto *h = reinterpret_cast<nlmsghdr *>(buf.data()); mnl_nlmsg_ok(h, left);
             h = mnl_nlmsg_next(h, &left)) {
            if (h->nlmsg_seq != seq || h->nlmsg_pid != portid)
                continue;
            if (h->nlmsg_flags & NLM_F_DUMP_INTR)
                part.interrupted = true;
            if (h->nlmsg_type == NLMSG_DONE) {
                part.done = true;
                break;
            }
            if (h->nlmsg_type == NLMSG_ERROR) {
                const auto *e = static_cast<const nlmsgerr *>(mnl_nlmsg_get_payload(h));
                part.error = QStringLiteral("the kernel refused to list the conntrack table: %1")
                                 .arg(QString::fromLocal8Bit(std::strerror(-e->error)));
                part.done = true;
                break;
            }
            EntryRecord record;
            if (conntrack::parseMessage(h, &record) == conntrack::MessageKind::Other)
                continue;
            onRecord(record);
        }
        if (!part.error.isEmpty())
            break;
    }
    return part;
}

} // namespace

void ConntrackMonitor::readDump(Stream *s) {
    refreshForwards();
    if (s->dead || !s->dump)
        return;
    // One Entries frame for what this turn reads; its length is filled in at the end.
    const qsizetype frameAt = s->out.size();
    const FrameHeader open{FrameType::Entries, 0};
    s->out.append(reinterpret_cast<const char *>(&open), sizeof open);
    qsizetype records = 0;
    // Reads on while the client keeps up; a slow client leaves the rest in the kernel.
    const DumpPart part = readDumpPart(
        s->dump, s->dumpSeq, [&]() { return s->unwritten() < m_options.paceBytes; },
        [&](EntryRecord &record) {
            // The id first: a filter on ids (none for streams yet) and the client see that one.
            assignId(&record, false);
            if (!s->filter.matches(record, m_forwardMarks))
                return;
            s->out.append(reinterpret_cast<const char *>(&record), sizeof record);
            ++records;
        });
    const QString &error = part.error;
    const bool done = part.done;
    if (records) {
        const quint32 length = quint32(records * sizeof(EntryRecord));
        std::memcpy(s->out.data() + frameAt + offsetof(FrameHeader, length), &length,
                    sizeof length);
    } else {
        s->out.truncate(frameAt);
    }
    if (part.interrupted)
        s->resyncWanted = true; // the table changed under the dump in a way it could not follow
    if (done || !error.isEmpty())
        finishDump(s, error);
    else if (s->unwritten() >= m_options.paceBytes)
        s->dumpNotifier->setEnabled(false); // onWritable() reads on
    writeOut(s);
}

void ConntrackMonitor::finishDump(Stream *s, const QString &error) {
    if (s->dumpNotifier) {
        s->dumpNotifier->setEnabled(false);
        s->dumpNotifier->deleteLater();
        s->dumpNotifier = nullptr;
    }
    if (s->dump) {
        mnl_socket_close(s->dump);
        s->dump = nullptr;
    }
    if (!error.isEmpty()) {
        // The client's view would be incomplete: say so, and try again.
        appendText(s, FrameType::Notice, error.toUtf8());
        s->resyncWanted = true;
    }
    appendFrame(s, FrameType::End, nullptr, 0);
}

// --- the counter refresh ---

void ConntrackMonitor::startRefresh() {
    if (m_refresh || m_streams.empty())
        return;
    // Nothing to refresh with accounting off: the counters stay 0 (the Notice said so). Looked
    // at again each interval, so that turning it on brings the refresh back.
    bool acct = false;
    if (!conntrack::readAccounting(&acct).isEmpty() || !acct) {
        m_refreshTimer.start(m_refreshInterval);
        return;
    }
    refreshForwards();
    // Who joins: the streams past their snapshot. What they want decides the dump: when all of
    // them want the flows of one forward only, the kernel lists just those (a mark filter);
    // when all want flows of our forwards, just the DNATed ones (our rules DNAT every flow they
    // mark; the streams' own filters still check the mark).
    bool joinable = false;
    bool everything = false;
    QSet<quint32> marks;
    for (auto &s : m_streams) {
        if (s->dead || s->dump || s->resyncWanted)
            continue;
        joinable = true;
        if (s->filter.forwardMark)
            marks.insert(s->filter.forwardMark);
        else if (s->filter.forwarded)
            marks.unite(m_forwardMarks);
        else
            everything = true;
    }
    if (!joinable || (!everything && marks.isEmpty())) {
        // Every stream is in a snapshot (which has fresh counters), or no flow can match.
        m_refreshTimer.start(m_refreshInterval);
        return;
    }
    conntrack::DumpFilter only;
    m_refreshScope = "all";
    if (!everything && marks.size() == 1) {
        only.mark = *marks.cbegin();
        only.markMask = conntrack::forwardMarkMask;
        m_refreshScope = "one forward's";
    } else if (!everything) {
        only.status = only.statusMask = IPS_DST_NAT;
        m_refreshScope = "DNATed";
    }
    QString error;
    m_refresh = conntrack::openSocket(false, 0, &error);
    if (m_refresh)
        m_refreshSeq = conntrack::requestDump(m_refresh, &error, only);
    if (!m_refresh || !m_refreshSeq) {
        qCWarning(lcConntrack, "counter refresh: %s", qPrintable(error));
        finishRefresh(error);
        return;
    }
    for (auto &s : m_streams) {
        if (s->dead)
            continue;
        if (s->dump || s->resyncWanted) {
            ++s->missedRefreshes;
            continue;
        }
        // A stream whose snapshot overlapped one refresh gets what that one found moving
        // through the `moving` bit (readRefresh()). One that overlapped two or more may have
        // missed the last change of an entry: it gets every entry with counters, once.
        s->inRefresh = true;
        s->refreshAll = s->missedRefreshes >= 2;
        s->missedRefreshes = 0;
    }
    m_refreshCpuNs = 0;
    m_refreshNotifier =
        new QSocketNotifier(mnl_socket_get_fd(m_refresh), QSocketNotifier::Read, this);
    connect(m_refreshNotifier, &QSocketNotifier::activated, this, &ConntrackMonitor::readRefresh);
}

bool ConntrackMonitor::refreshHasRoom(const Stream *s) const {
    // Reads on while each stream's deltas can take a few thousand more records; the kernel
    // holds the rest of the dump meanwhile. Well below maxPending, so that a refresh never
    // sends a stream through a resync. A stream waiting for a resync gets nothing anyway.
    if (s->dead || !s->inRefresh || s->resyncWanted)
        return true;
    return qsizetype(s->pending.size()) < m_options.maxPending / 4 &&
           s->unwritten() < m_options.paceBytes;
}

bool ConntrackMonitor::refreshHasRoom() const {
    for (const auto &s : m_streams) {
        if (!refreshHasRoom(s.get()))
            return false;
    }
    return true;
}

void ConntrackMonitor::readRefresh() {
    if (!m_refresh)
        return;
    const qint64 cpuBefore = threadCpuNs();
    refreshForwards();
    bool anyone = false;
    for (const auto &s : m_streams)
        anyone = anyone || (!s->dead && s->inRefresh && !s->resyncWanted);
    if (!anyone) { // its streams ended, or wait for a snapshot
        finishRefresh({});
        return;
    }
    const DumpPart part = readDumpPart(
        m_refresh, m_refreshSeq, [this]() { return refreshHasRoom(); },
        [this](EntryRecord &record) {
            // Only flows the streams know as live right now. One whose destroy event was read
            // already is not in m_seen any more: the dump listed it before it went, and it
            // must not come back after its Destroyed. One not announced yet gets its new event
            // (still queued) first. A destroy still queued goes out after this record, in
            // order. So the ordering rules above hold without looking at the events. (Left: a
            // flow destroyed and made again with the same tuple and the same kernel id between
            // two reads of the dump may get its predecessor's counters once; the client keeps
            // the higher ones until the new flow passes them.)
            const quint64 hash = tupleHash(record);
            const quint32 id = streamIdOf(record);
            const auto it = m_seen.find(id);
            if (it == m_seen.end() || it->tupleHash != hash)
                return;
            // Per entry only a 21-bit hash of the counters last found and one bit (moved the
            // last time): a copy of the counters per entry and stream would cost 32 bytes each.
            // Sent: what moved since the last refresh, and once more what has just stopped
            // moving, so that the client's rate falls to 0. Counters only grow, so "moved
            // since the last refresh" covers "moved since it last went to this stream" for
            // every stream that took part in the last one.
            const quint32 c = counterHash(record);
            const bool changed = c != it->counters;
            const bool send = changed || it->moving;
            it->counters = c;
            it->moving = changed;
            if (!hasCounters(record))
                return;
            record.id = id;
            if (!record.startMs)
                record.startMs = it->firstSeenMs;
            for (auto &sp : m_streams) {
                Stream *s = sp.get();
                if (s->dead || !s->inRefresh || s->resyncWanted || !(send || s->refreshAll) ||
                    !s->filter.matches(record, m_forwardMarks))
                    continue;
                s->pending.push_back(record);
            }
        });
    m_refreshCpuNs += threadCpuNs() - cpuBefore;
    if (part.done || !part.error.isEmpty())
        finishRefresh(part.error);
    else if (!refreshHasRoom() && m_refreshNotifier) {
        m_refreshNotifier->setEnabled(false); // tick() reads on once the deltas went out
        m_refreshPausedMs = nowMs();
    }
}

void ConntrackMonitor::finishRefresh(const QString &error) {
    const bool ran = m_refresh && m_refreshSeq;
    if (m_refreshNotifier) {
        m_refreshNotifier->setEnabled(false);
        m_refreshNotifier->deleteLater();
        m_refreshNotifier = nullptr;
    }
    if (m_refresh) {
        mnl_socket_close(m_refresh);
        m_refresh = nullptr;
    }
    m_refreshSeq = 0;
    for (auto &s : m_streams) {
        s->inRefresh = false;
        s->refreshAll = false;
    }
    if (m_streams.empty())
        return;
    if (ran) {
        ++m_refreshCount;
        // The pause after a refresh is at least refreshCostFactor times what it cost, so that
        // it takes at most 1 / (factor + 1) of a core: about 1 s for small tables, tens of
        // seconds at a million entries.
        const qint64 costMs = m_refreshCpuNs / 1000000;
        m_refreshInterval = int(std::clamp<qint64>(costMs * m_options.refreshCostFactor,
                                                   m_options.refreshMinMs, 10 * 60 * 1000));
        qCDebug(lcConntrack,
                "counter refresh %llu took %lld ms of CPU; the next in %d ms (%s entries)%s%s",
                m_refreshCount, qlonglong(costMs), m_refreshInterval, m_refreshScope,
                error.isEmpty() ? "" : ": ", qPrintable(error));
    }
    m_refreshTimer.start(m_refreshInterval);
}

// --- the pipe ---

void ConntrackMonitor::writeOut(Stream *s) {
    if (s->dead)
        return;
    while (s->unwritten() > 0) {
        const ssize_t n = ::write(s->fd, s->out.constData() + s->outPos, size_t(s->unwritten()));
        if (n > 0) {
            s->outPos += n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            s->writable->setEnabled(true);
            break;
        }
        endStream(s, errno == EPIPE ? "the client closed its end" : "writing to it failed");
        return;
    }
    if (s->unwritten() == 0) {
        s->out.truncate(0);
        s->outPos = 0;
        s->writable->setEnabled(false);
    } else if (s->outPos >= (1 << 16)) {
        s->out.remove(0, s->outPos); // keeps `out` about as small as what waits
        s->outPos = 0;
    }
    if (s->dump && s->dumpNotifier && !s->dumpNotifier->isEnabled() &&
        s->unwritten() < m_options.paceBytes)
        s->dumpNotifier->setEnabled(true);
}

void ConntrackMonitor::onWritable(Stream *s) {
    writeOut(s);
    if (s->dead)
        return;
    if (s->dump && s->unwritten() < m_options.paceBytes)
        readDump(s); // the kernel holds the rest of the snapshot; go on
    else if (!s->dump && s->unwritten() == 0 && s->resyncWanted)
        startDump(s);
}

void ConntrackMonitor::endStream(Stream *s, const char *why) {
    if (s->dead)
        return;
    s->dead = true;
    qCInfo(lcConntrack, "stream %llu to %s ended: %s", s->serial, qPrintable(s->client), why);
    for (QSocketNotifier *n : {s->writable, s->dumpNotifier}) {
        if (n) {
            n->setEnabled(false);
            n->deleteLater();
        }
    }
    s->writable = s->dumpNotifier = nullptr;
    if (s->dump)
        mnl_socket_close(s->dump);
    s->dump = nullptr;
    ::close(s->fd);
    s->fd = -1;
    m_idle->release();
    // Freed later: this may run inside a loop over the streams, or a notifier of this stream.
    QMetaObject::invokeMethod(
        this,
        [this]() {
            std::erase_if(m_streams, [](const std::unique_ptr<Stream> &p) { return p->dead; });
            QSet<QString> clients;
            for (auto &p : m_streams)
                clients.insert(p->client);
            for (const QString &name : m_watcher->watchedServices()) {
                if (!clients.contains(name))
                    m_watcher->removeWatchedService(name);
            }
            if (m_streams.empty())
                closeEvents();
        },
        Qt::QueuedConnection);
}

} // namespace portico
