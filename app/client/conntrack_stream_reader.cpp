// SPDX-License-Identifier: GPL-3.0-or-later
// Frames out of the conntrack pipe: one buffer, read into at its end, parsed from its start,
// moved down only when the unparsed rest is small; records are emitted where they lie.
#include "conntrack_stream_reader.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSocketNotifier>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace portico {

using ctstream::EntryRecord;
using ctstream::FrameHeader;
using ctstream::FrameType;

ConntrackStreamReader::ConntrackStreamReader(int fd, QObject *parent)
    : QObject(parent)
    , m_fd(fd)
    // 128 KiB: every read still gets at least 64 KiB of room (see readAvailable()), and the
    // buffer grows only for a bigger frame. It used to be 1 MiB, held for the whole stream: 10 B
    // an entry at 100,000 entries, for no speed (a pipe read costs a few µs either way).
    , m_buf(128 << 10) {
    if (m_fd < 0)
        return;
    fcntl(m_fd, F_SETFL, fcntl(m_fd, F_GETFL) | O_NONBLOCK);
    m_notifier = new QSocketNotifier(m_fd, QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, [this]() { readAvailable(); });
}

ConntrackStreamReader::~ConntrackStreamReader() {
    close();
}

void ConntrackStreamReader::close() {
    if (m_notifier) {
        m_notifier->setEnabled(false);
        m_notifier->deleteLater();
        m_notifier = nullptr;
    }
    if (m_fd >= 0) {
        ::close(m_fd);
        m_fd = -1;
    }
}

void ConntrackStreamReader::setPaused(bool paused) {
    m_paused = paused;
    if (m_notifier)
        m_notifier->setEnabled(!paused);
}

bool ConntrackStreamReader::readAvailable() {
    if (m_fd < 0 || m_failed)
        return false;
    qsizetype budget = m_readLimit;
    bool any = false;
    while (budget > 0 && !m_paused) {
        // Room at the end: move the unparsed rest down when it is small, grow when a frame is
        // bigger than the buffer.
        if (m_start == m_end) {
            m_start = m_end = 0;
        } else if (m_buf.size() - m_end < (64u << 10)) {
            if (m_start > 0) {
                std::memmove(m_buf.data(), m_buf.data() + m_start, m_end - m_start);
                m_end -= m_start;
                m_start = 0;
            }
            if (m_buf.size() - m_end < (64u << 10))
                m_buf.resize(m_buf.size() * 2);
        }
        const size_t room = std::min(m_buf.size() - m_end, size_t(budget));
        const ssize_t n = ::read(m_fd, m_buf.data() + m_end, room);
        if (n > 0) {
            m_end += size_t(n);
            m_bytesRead += quint64(n);
            budget -= n;
            any = true;
            if (!parse())
                return false;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        // End of the stream, or an error.
        if (any)
            emit batchDone();
        if (n == 0) {
            if (m_end != m_start)
                finish(u"the stream ended in the middle of a frame"_s);
            else
                finish(QString());
        } else {
            finish(u"reading the connection stream failed: %1"_s.arg(
                QString::fromLocal8Bit(std::strerror(errno))));
        }
        return false;
    }
    if (any)
        emit batchDone();
    return true;
}

bool ConntrackStreamReader::feed(const char *data, qsizetype size) {
    if (m_failed)
        return false;
    if (m_start == m_end)
        m_start = m_end = 0;
    if (m_buf.size() - m_end < size_t(size)) {
        std::memmove(m_buf.data(), m_buf.data() + m_start, m_end - m_start);
        m_end -= m_start;
        m_start = 0;
        if (m_buf.size() - m_end < size_t(size))
            m_buf.resize(m_end + size_t(size));
    }
    std::memcpy(m_buf.data() + m_end, data, size_t(size));
    m_end += size_t(size);
    m_bytesRead += quint64(size);
    const bool ok = parse();
    if (ok)
        emit batchDone();
    return ok;
}

bool ConntrackStreamReader::parse() {
    while (m_end - m_start >= sizeof(FrameHeader)) {
        FrameHeader h;
        std::memcpy(&h, m_buf.data() + m_start, sizeof h);
        if (h.length > maxPayload)
            return fail(u"the helper sent a frame of %1 bytes, more than this client accepts "
                        "(%2): the helper and the client do not speak the same stream format"_s
                            .arg(h.length)
                            .arg(maxPayload));
        if (m_end - m_start < sizeof h + h.length) {
            // Incomplete: make sure it will fit.
            if (sizeof h + h.length > m_buf.size() - m_start) {
                std::memmove(m_buf.data(), m_buf.data() + m_start, m_end - m_start);
                m_end -= m_start;
                m_start = 0;
                if (sizeof h + h.length > m_buf.size())
                    m_buf.resize(sizeof h + h.length + (64u << 10));
            }
            return true;
        }
        const char *payload = m_buf.data() + m_start + sizeof h;
        m_start += sizeof h + h.length;
        if (!handleFrame(h.type, payload, h.length))
            return false;
        if (m_paused || m_failed)
            break;
    }
    return true;
}

bool ConntrackStreamReader::handleFrame(FrameType type, const char *payload, quint32 length) {
    if (!m_helloSeen && type != FrameType::Hello)
        return fail(u"the stream does not start with a Hello frame: it is not a Portico "
                    "connection stream"_s);
    switch (type) {
    case FrameType::Hello: {
        ctstream::HelloPayload hello;
        if (length < sizeof hello)
            return fail(u"the Hello frame is too short (%1 bytes)"_s.arg(length));
        std::memcpy(&hello, payload, sizeof hello);
        if (hello.magic != ctstream::magic)
            return fail(u"the stream does not start with Portico's magic number"_s);
        if (hello.version != ctstream::version)
            return fail(u"the helper speaks connection stream version %1 and this client "
                        "version %2: install matching versions of portico and its helper"_s
                            .arg(hello.version)
                            .arg(ctstream::version));
        if (hello.entrySize != sizeof(EntryRecord))
            return fail(u"the helper's connection records are %1 bytes and this client's %2: "
                        "install matching versions of portico and its helper"_s.arg(hello.entrySize)
                            .arg(sizeof(EntryRecord)));
        m_helloSeen = true;
        m_flags = hello.flags;
        emit helloReceived(hello.version, hello.flags);
        return true;
    }
    case FrameType::Begin:
        m_inSnapshot = true;
        emit snapshotBegun();
        return true;
    case FrameType::End:
        m_inSnapshot = false;
        emit snapshotEnded();
        return true;
    case FrameType::Tick:
        emit tickReceived();
        return true;
    case FrameType::Entries: {
        if (length % sizeof(EntryRecord))
            return fail(u"an Entries frame of %1 bytes is not a whole number of %2-byte "
                        "records"_s.arg(length)
                            .arg(sizeof(EntryRecord)));
        const qsizetype count = length / sizeof(EntryRecord);
        if (!count)
            return true;
        if (reinterpret_cast<quintptr>(payload) % alignof(EntryRecord)) {
            m_aligned.resize(size_t(count));
            std::memcpy(m_aligned.data(), payload, length);
            emit entriesReceived(m_aligned.data(), count);
        } else {
            emit entriesReceived(reinterpret_cast<const EntryRecord *>(payload), count);
        }
        return true;
    }
    case FrameType::Destroyed: {
        if (length % 4)
            return fail(
                u"a Destroyed frame of %1 bytes is not a whole number of ids"_s.arg(length));
        const qsizetype count = length / 4;
        if (!count)
            return true;
        if (reinterpret_cast<quintptr>(payload) % alignof(quint32)) {
            m_aligned.resize(size_t(length / sizeof(EntryRecord) + 1));
            std::memcpy(m_aligned.data(), payload, length);
            emit destroyedReceived(reinterpret_cast<const quint32 *>(m_aligned.data()), count);
        } else {
            emit destroyedReceived(reinterpret_cast<const quint32 *>(payload), count);
        }
        return true;
    }
    case FrameType::Forwards: {
        QJsonParseError error;
        const QJsonDocument doc =
            QJsonDocument::fromJson(QByteArray::fromRawData(payload, qsizetype(length)), &error);
        if (!doc.isArray())
            return fail(u"the Forwards frame is not a JSON array: %1"_s.arg(error.errorString()));
        QList<ConntrackForward> list;
        for (const QJsonValue &v : doc.array()) {
            const QJsonObject o = v.toObject();
            list.append({quint32(o.value("mark"_L1).toInteger()), o.value("id"_L1).toString(),
                         o.value("name"_L1).toString()});
        }
        emit forwardsReceived(list);
        return true;
    }
    case FrameType::Notice:
        emit noticeReceived(QString::fromUtf8(payload, qsizetype(length)).trimmed());
        return true;
    }
    // A frame type from a newer helper: its length says how to step over it.
    return true;
}

bool ConntrackStreamReader::fail(const QString &error) {
    m_failed = true;
    finish(error);
    return false;
}

void ConntrackStreamReader::finish(const QString &error) {
    if (m_finished)
        return;
    m_finished = true;
    m_error = error;
    close();
    emit finished(error);
}

} // namespace portico
