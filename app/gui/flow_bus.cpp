// SPDX-License-Identifier: GPL-3.0-or-later
// The flow and diagnosis calls. They go over a connection of their own to the helper's bus, so
// that a trace started here is stopped (and, should the window go, ended) from the same name.
#include "flow_bus.h"

#include <QAtomicInt>
#include <QDBusArgument>
#include <QDBusMessage>
#include <QDBusUnixFileDescriptor>
#include <QSocketNotifier>

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace portico {

namespace {

QAtomicInt flowConnections;

} // namespace

// --- the trace pipe -----------------------------------------------------------------------

TracePipeReader::TracePipeReader(int fd, QObject *parent)
    : QObject(parent)
    , m_fd(fd)
    , m_notifier(new QSocketNotifier(fd, QSocketNotifier::Read, this)) {
    connect(m_notifier, &QSocketNotifier::activated, this, &TracePipeReader::readSome);
}

TracePipeReader::~TracePipeReader() {
    if (m_fd >= 0)
        ::close(m_fd);
}

void TracePipeReader::readSome() {
    char buffer[8192];
    for (;;) {
        const ssize_t n = ::read(m_fd, buffer, sizeof buffer);
        if (n > 0) {
            m_buffer.append(buffer, n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        const bool eof = n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
        qsizetype start = 0;
        for (qsizetype nl; (nl = m_buffer.indexOf('\n', start)) >= 0; start = nl + 1) {
            const QByteArray one = m_buffer.mid(start, nl - start).trimmed();
            if (!one.isEmpty())
                emit line(one);
        }
        m_buffer.remove(0, start);
        if (eof) {
            m_notifier->setEnabled(false);
            ::close(m_fd);
            m_fd = -1;
            if (!m_buffer.trimmed().isEmpty())
                emit line(m_buffer.trimmed());
            m_buffer.clear();
            emit closed();
        }
        return;
    }
}

// --- the calls ----------------------------------------------------------------------------

FlowBus::FlowBus(HelperClient *client, QObject *parent)
    : QObject(parent)
    , m_client(client)
    , m_connection(QStringLiteral("portico-flow-unconnected")) {
    const QString address = client->busAddress();
    if (address.isEmpty()) {
        m_connection = QDBusConnection::systemBus();
    } else {
        m_connectionName =
            QStringLiteral("portico-flow-%1").arg(flowConnections.fetchAndAddRelaxed(1));
        m_connection = QDBusConnection::connectToBus(address, m_connectionName);
    }
}

FlowBus::~FlowBus() {
    if (!m_connectionName.isEmpty())
        QDBusConnection::disconnectFromBus(m_connectionName);
}

QDBusPendingCall FlowBus::call(const QString &method, const QVariantList &args, int timeoutMs) {
    if (!m_connection.isConnected())
        return QDBusPendingCall::fromError(QDBusMessage::createError(
            QStringLiteral("org.freedesktop.DBus.Error.NoServer"),
            QStringLiteral("cannot connect to %1").arg(m_client->busDescription())));
    QDBusMessage msg = QDBusMessage::createMethodCall(
        QLatin1StringView(HelperClient::serviceName), QLatin1StringView(HelperClient::objectPath),
        QLatin1StringView(HelperClient::interfaceName), method);
    msg.setArguments(args);
    // The monitor action may ask for a password; polkit keeps the answer for a while.
    msg.setInteractiveAuthorizationAllowed(true);
    return m_connection.asyncCall(msg, timeoutMs);
}

HelperError FlowBus::protocolError(const QString &method, const QString &detail) const {
    HelperError e;
    e.kind = HelperError::Kind::Protocol;
    e.name = QStringLiteral("org.freedesktop.DBus.Error.InvalidSignature");
    e.message = QStringLiteral("the Portico helper sent an unexpected reply to %1 (%2); the helper "
                               "and this client are probably from different versions")
                    .arg(method, detail);
    return e;
}

QDBusPendingCall FlowBus::rulesetSummaryAsync() {
    return call(QStringLiteral("RulesetSummary"), {}, HelperClient::mutatingTimeoutMs);
}

HelperResult<RulesetSummary> FlowBus::decodeRulesetSummary(const QDBusMessage &reply) const {
    HelperResult<RulesetSummary> r;
    r.error = m_client->errorFromReply(reply);
    if (!r.ok())
        return r;
    if (reply.signature() != QLatin1StringView("taa{sv}")) {
        r.error = protocolError(QStringLiteral("RulesetSummary"),
                                QStringLiteral("signature '%1'").arg(reply.signature()));
        return r;
    }
    r.value.generation = reply.arguments().at(0).toULongLong();
    qvariant_cast<QDBusArgument>(reply.arguments().at(1)) >> r.value.chains;
    return r;
}

QDBusPendingCall FlowBus::startTraceAsync(const QString &forwardId, uint seconds, int *readFd) {
    int fds[2];
    *readFd = -1;
    if (::pipe2(fds, O_CLOEXEC) != 0)
        return QDBusPendingCall::fromError(
            QDBusMessage::createError(QStringLiteral("org.freedesktop.DBus.Error.LimitsExceeded"),
                                      QStringLiteral("cannot make a pipe for the trace: %1")
                                          .arg(QString::fromLocal8Bit(strerror(errno)))));
    ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    // The message carries its own copy of the write end; ours goes at once, so the pipe ends
    // when the helper closes its copy.
    const QDBusUnixFileDescriptor writeEnd(fds[1]);
    ::close(fds[1]);
    *readFd = fds[0];
    return call(QStringLiteral("StartTrace"),
                {forwardId, QVariant::fromValue(seconds), QVariant::fromValue(writeEnd)},
                HelperClient::mutatingTimeoutMs);
}

HelperResult<quint64> FlowBus::decodeStartTrace(const QDBusMessage &reply) const {
    HelperResult<quint64> r;
    r.error = m_client->errorFromReply(reply);
    if (!r.ok())
        return r;
    if (reply.signature() != QLatin1StringView("t")) {
        r.error = protocolError(QStringLiteral("StartTrace"),
                                QStringLiteral("signature '%1'").arg(reply.signature()));
        return r;
    }
    r.value = reply.arguments().at(0).toULongLong();
    return r;
}

QDBusPendingCall FlowBus::stopTraceAsync(quint64 traceId) {
    return call(QStringLiteral("StopTrace"), {QVariant::fromValue<qulonglong>(traceId)},
                HelperClient::readTimeoutMs);
}

QDBusPendingCall FlowBus::diagnoseAsync(const QString &forwardId) {
    return call(QStringLiteral("Diagnose"), {forwardId}, HelperClient::mutatingTimeoutMs);
}

HelperResult<QList<DiagnosisFinding>> FlowBus::decodeDiagnose(const QDBusMessage &reply) const {
    HelperResult<QList<DiagnosisFinding>> r;
    r.error = m_client->errorFromReply(reply);
    if (!r.ok())
        return r;
    if (reply.signature() != QLatin1StringView("aa{sv}")) {
        r.error = protocolError(QStringLiteral("Diagnose"),
                                QStringLiteral("signature '%1'").arg(reply.signature()));
        return r;
    }
    QList<QVariantMap> maps;
    qvariant_cast<QDBusArgument>(reply.arguments().at(0)) >> maps;
    for (const QVariantMap &m : std::as_const(maps)) {
        DiagnosisFinding f;
        f.check = m.value(QStringLiteral("check")).toString();
        f.severity = m.value(QStringLiteral("severity")).toString();
        f.message = m.value(QStringLiteral("message")).toString();
        f.fix = m.value(QStringLiteral("fix")).toString();
        f.chain = m.value(QStringLiteral("chain")).toString();
        r.value << f;
    }
    return r;
}

} // namespace portico
