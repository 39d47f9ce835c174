// SPDX-License-Identifier: GPL-3.0-or-later
// The client end of a conntrack stream (common/conntrack_stream.h): reads the pipe without
// blocking, cuts it into frames and emits each one. Shared by porticoctl and the GUI; kept cheap,
// since a snapshot of a million entries goes through it: records are handed out in place, by
// pointer and count, never copied into Qt containers.
#pragma once

#include "conntrack_stream.h"

#include <QList>
#include <QObject>
#include <QString>

#include <vector>

class QSocketNotifier;

namespace portico {

// One entry of the Forwards frame: the ct mark (its low 24 bits) that our rules give the
// flows of the forward `id`, named `name`.
struct ConntrackForward {
    quint32 mark = 0;
    QString id;
    QString name;
};

class ConntrackStreamReader : public QObject {
    Q_OBJECT
public:
    // The largest frame accepted; the helper sends far smaller ones. Anything larger means the
    // two ends do not speak the same format.
    static constexpr quint32 maxPayload = 64u << 20;

    // Takes the read end of the pipe (and closes it when done); -1 makes a reader for feed()
    // only (the unit tests).
    explicit ConntrackStreamReader(int fd, QObject *parent = nullptr);
    ~ConntrackStreamReader() override;

    bool isOpen() const { return m_fd >= 0; }
    // From the Hello frame.
    bool helloSeen() const { return m_helloSeen; }
    quint32 flags() const { return m_flags; }
    bool accounting() const { return m_flags & ctstream::helloAccounting; }
    // Between Begin and End.
    bool inSnapshot() const { return m_inSnapshot; }
    quint64 bytesRead() const { return m_bytesRead; }
    QString errorString() const { return m_error; }

    // Paused: the pipe is not read; the helper holds the deltas, and once too many wait it
    // sends a new snapshot when reading resumes. Nothing is lost either way.
    void setPaused(bool paused);
    bool isPaused() const { return m_paused; }

    // At most this much is read per turn of the event loop (default 4 MiB), so that a GUI stays
    // responsive while a big snapshot arrives.
    void setReadLimit(qsizetype bytes) { m_readLimit = bytes; }

    // Reads what the pipe holds now (up to the read limit) and emits its frames. False once the
    // stream has ended or failed. The notifier calls it; so may a client without an event loop.
    bool readAvailable();
    // Parses bytes as if read from the pipe (tests). False once the stream has failed.
    bool feed(const char *data, qsizetype size);
    // Closes the pipe: the helper sees it and ends the stream.
    void close();

signals:
    void helloReceived(quint32 version, quint32 flags);
    void forwardsReceived(const QList<portico::ConntrackForward> &forwards);
    // A full snapshot follows: drop every entry held.
    void snapshotBegun();
    // New or updated entries, keyed by id. The records live in the reader's buffer: valid only
    // during the emission, so connect directly (not queued) and copy what you keep.
    void entriesReceived(const portico::ctstream::EntryRecord *records, qsizetype count);
    void destroyedReceived(const quint32 *ids, qsizetype count);
    void snapshotEnded();
    // The end of one batch of deltas (about every 100 ms while anything changes).
    void tickReceived();
    void noticeReceived(const QString &text);
    // After the frames of one read: a good moment to update a view.
    void batchDone();
    // The stream is over: `error` is empty when the helper closed it, else what went wrong.
    void finished(const QString &error);

private:
    bool parse();
    bool handleFrame(ctstream::FrameType type, const char *payload, quint32 length);
    bool fail(const QString &error);
    void finish(const QString &error);

    int m_fd = -1;
    QSocketNotifier *m_notifier = nullptr;
    std::vector<char> m_buf;
    size_t m_start = 0;                           // parsed up to here
    size_t m_end = 0;                             // read up to here
    std::vector<ctstream::EntryRecord> m_aligned; // for a payload that is not 8-aligned
    qsizetype m_readLimit = 4 << 20;
    quint64 m_bytesRead = 0;
    quint32 m_flags = 0;
    bool m_helloSeen = false;
    bool m_inSnapshot = false;
    bool m_paused = false;
    bool m_failed = false;
    bool m_finished = false;
    QString m_error;
};

} // namespace portico
