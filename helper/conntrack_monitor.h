// SPDX-License-Identifier: GPL-3.0-or-later
// The live conntrack streams (WatchConnections): one ctnetlink event socket shared by all
// streams, a paced dump per stream for its snapshot, and per stream the deltas batched into a
// Tick about every 100 ms, written to the client's pipe without ever blocking the helper; and
// a periodic counter refresh (one shared dump) that keeps the streams' counters live.
#pragma once

#include "conntrack_netlink.h"
#include "forward.h"

#include <QDBusConnection>
#include <QHash>
#include <QObject>
#include <QSet>
#include <QThread>
#include <QTimer>

#include <functional>
#include <memory>
#include <vector>

struct mnl_socket;
class QDBusServiceWatcher;
class QSocketNotifier;

namespace portico {

class IdleGuard;

class ConntrackMonitor : public QObject {
    Q_OBJECT
public:
    struct Options {
        int eventBuffer = 8 << 20;       // SO_RCVBUFFORCE of the event socket
        int tickMs = 100;                // batches of deltas
        qsizetype maxPending = 1 << 16;  // deltas held for a client that does not read: then resync
        qsizetype paceBytes = 256 << 10; // a dump reads on while less than this waits for the pipe
        int refreshMinMs = 1000;         // the counter refresh: at most this often
        int refreshCostFactor = 9;       // and at least this many times its own CPU time apart
    };

    ConntrackMonitor(const QDBusConnection &bus, IdleGuard *idle, QObject *parent = nullptr);
    ConntrackMonitor(const QDBusConnection &bus, IdleGuard *idle, const Options &options,
                     QObject *parent = nullptr);
    ~ConntrackMonitor() override;

    // The forwards that marks belong to, sent to every stream as a Forwards frame when changed.
    // Where they are read from: the helper's own state, which outlives the monitor.
    // The monitor keeps a pointer, not a copy: a shared copy would make the helper's next
    // in-place edit of the list copy all of it (milliseconds at 100,000 forwards).
    void setForwards(const QList<Forward> *forwards);
    // The forwards changed: the mark set and the Forwards frame are made again when needed.
    void forwardsChanged() { m_forwardsStale = true; }

    // Starts a stream to the write end of a pipe (the monitor keeps its own duplicate) for the
    // bus name `client`. Returns an empty string or an error sentence.
    QString watch(int pipeFd, const QString &client, const conntrack::Filter &filter);
    // The check WatchConnections makes before polkit: is this the write end of a pipe?
    static QString checkPipe(int fd);

    // Deletes the entries that `filter` matches, on a thread of its own: the dump it needs takes
    // seconds at a million entries, and the streams and the other calls go on meanwhile. `done`
    // runs later on the monitor's thread with an empty string or an error sentence, and how many
    // went. The helper does not go idle while a kill runs.
    void kill(const conntrack::Filter &filter,
              std::function<void(const QString &error, quint32 killed)> done);
    // How many live entries had to get a substitute id (for the log and the tests).
    qsizetype substituteCount() const { return m_substitutes.size(); }
    QString accounting(bool *on) const;
    // Changes the sysctl and tells every stream in a Notice.
    QString setAccounting(bool on);

    int streamCount() const { return int(m_streams.size()); }
    // How many event overruns (ENOBUFS) were seen, for the log and the tests' log checks.
    quint64 overruns() const { return m_overruns; }
    // The counter refresh: how many ran, and the pause it chose after the last one (ms).
    quint64 refreshCount() const { return m_refreshCount; }
    int refreshIntervalMs() const { return m_refreshInterval; }

private:
    struct Stream;

    void openEvents();
    void closeEvents();
    void readEvents();
    void overrun();
    void dispatch(const ctstream::EntryRecord &record, bool destroyed);
    void tick();

    void startDump(Stream *s);
    void readDump(Stream *s);
    void finishDump(Stream *s, const QString &error);
    void appendFrame(Stream *s, ctstream::FrameType type, const void *data, qsizetype size);
    void appendText(Stream *s, ctstream::FrameType type, const QByteArray &text);
    void appendHello(Stream *s);
    void appendForwards(Stream *s);
    void refreshForwards() const;
    void sendForwardsIfChanged();
    void flushPending(Stream *s);
    void startRefresh();
    void readRefresh();
    void finishRefresh(const QString &error);
    bool refreshHasRoom() const;
    bool refreshHasRoom(const Stream *s) const;
    void writeOut(Stream *s);
    void onWritable(Stream *s);
    void endStream(Stream *s, const char *why);
    // The id a record goes out with (see the header comment of the .cpp), and when the helper
    // first saw it for kernels that do not stamp the start. `destroyed`: forget it afterwards.
    // False for the destroy of a flow that no client can know (its kernel id is another's).
    bool assignId(ctstream::EntryRecord *record, bool destroyed);
    // The same look-up without changing anything: for KillConnections' ids.
    quint32 streamIdOf(const ctstream::EntryRecord &record) const;
    static quint32 streamIdIn(const QHash<quint64, quint32> &substitutes,
                              const ctstream::EntryRecord &record);
    void forgetIds();

    QDBusConnection m_bus;
    IdleGuard *m_idle;
    Options m_options;
    QDBusServiceWatcher *m_watcher;
    std::vector<std::unique_ptr<Stream>> m_streams;
    quint64 m_nextSerial = 1;

    mnl_socket *m_events = nullptr;
    QSocketNotifier *m_eventNotifier = nullptr;
    quint64 m_overruns = 0;
    QTimer m_tick;

    // The forwards (see setForwards()); the JSON of the Forwards frame and the marks of our
    // forwards are derived from them on demand (refreshForwards()).
    const QList<Forward> *m_forwards = nullptr;
    mutable bool m_forwardsStale = false;
    mutable QByteArray m_forwardsJson;
    mutable QSet<quint32> m_forwardMarks;
    QByteArray m_sentForwardsJson; // what the open streams last got
    // Every entry a stream was told about, by the id it went out with: which flow has that id
    // (a hash of its original tuple) and when the helper first saw it. Kept while a stream is
    // open. And the few flows whose kernel id another live flow had first: tuple hash -> the
    // substitute id they go out with.
    // `counters`/`moving`: the counter refresh's memory of the flow (see readRefresh()); bit
    // fields, so that it costs no byte more per entry than the id table already did.
    struct Seen {
        quint64 tupleHash;
        quint64 firstSeenMs : 42; // ms since 1970: enough until 2109
        quint64 moving : 1;       // the last refresh found the counters changed
        quint64 counters : 21;    // a hash of the counters the last refresh found
    };
    QHash<quint32, Seen> m_seen;
    QHash<quint64, quint32> m_substitutes;
    // The kills running (kill()); waited for when the monitor goes.
    QList<QThread *> m_kills;

    // The counter refresh: one dump shared by the streams that join it.
    QTimer m_refreshTimer;
    mnl_socket *m_refresh = nullptr;
    quint32 m_refreshSeq = 0;
    QSocketNotifier *m_refreshNotifier = nullptr;
    qint64 m_refreshCpuNs = 0;       // CPU time the running refresh has cost so far
    quint64 m_refreshPausedMs = 0;   // when it last waited for a stream's client
    const char *m_refreshScope = ""; // what the running one asked the kernel for, for the log
    int m_refreshInterval = 0;
    quint64 m_refreshCount = 0;
};

} // namespace portico
