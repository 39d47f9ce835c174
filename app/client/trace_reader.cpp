// SPDX-License-Identifier: GPL-3.0-or-later
// The trace pipe's reader: whole lines out of a non-blocking read end, parsed as JSON.
#include "trace_reader.h"

#include <QJsonDocument>
#include <QSocketNotifier>

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace portico {

TraceStep TraceStep::fromJson(const QJsonObject &o) {
    TraceStep s;
    s.packet = o.value(QLatin1String("packet")).toInt();
    s.timeMs = o.value(QLatin1String("time_ms")).toInteger();
    s.family = o.value(QLatin1String("family")).toString();
    s.hook = o.value(QLatin1String("hook")).toString();
    s.table = o.value(QLatin1String("table")).toString();
    s.chain = o.value(QLatin1String("chain")).toString();
    s.handle = quint64(o.value(QLatin1String("handle")).toInteger());
    s.type = o.value(QLatin1String("type")).toString();
    s.verdict = o.value(QLatin1String("verdict")).toString();
    s.target = o.value(QLatin1String("target")).toString();
    s.iif = o.value(QLatin1String("iif")).toString();
    s.oif = o.value(QLatin1String("oif")).toString();
    s.src = o.value(QLatin1String("src")).toString();
    s.dst = o.value(QLatin1String("dst")).toString();
    s.raw = o;
    return s;
}

TraceReader::TraceReader(int readFd, QObject *parent)
    : QObject(parent)
    , m_fd(readFd) {
    fcntl(m_fd, F_SETFL, fcntl(m_fd, F_GETFL) | O_NONBLOCK);
    m_notifier = new QSocketNotifier(m_fd, QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &TraceReader::onReadable);
}

TraceReader::~TraceReader() {
    if (m_fd >= 0)
        close(m_fd);
}

void TraceReader::onReadable() {
    char buf[16384];
    while (true) {
        const ssize_t n = read(m_fd, buf, sizeof buf);
        if (n > 0) {
            m_buffer.append(buf, n);
            qsizetype nl;
            while ((nl = m_buffer.indexOf('\n')) >= 0) {
                const QByteArray text = m_buffer.left(nl);
                m_buffer.remove(0, nl + 1);
                line(text);
            }
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        // End of file (or an error): the helper closed its end.
        m_notifier->setEnabled(false);
        if (!m_ended) {
            m_ended = true;
            emit ended(QStringLiteral("closed"),
                       QStringLiteral("the helper closed the trace without saying why"));
        }
        return;
    }
}

void TraceReader::line(const QByteArray &text) {
    if (m_ended || text.trimmed().isEmpty())
        return;
    const QJsonObject o = QJsonDocument::fromJson(text).object();
    if (o.contains(QLatin1String("end"))) {
        m_ended = true;
        emit ended(o.value(QLatin1String("end")).toString(),
                   o.value(QLatin1String("message")).toString());
        return;
    }
    if (o.contains(QLatin1String("packet")))
        emit step(TraceStep::fromJson(o));
}

} // namespace portico
