// SPDX-License-Identifier: GPL-3.0-or-later
// The calls the chain-flow view and the diagnosis make (RulesetSummary, StartTrace, StopTrace,
// Diagnose), decoded into plain values. Errors are turned into sentences by HelperClient. The
// trace pipe is read here too: one JSON object per line, handed on as it arrives.
#pragma once

#include "helper_client.h"

#include <QByteArray>
#include <QDBusConnection>
#include <QDBusPendingCall>
#include <QList>
#include <QObject>
#include <QVariantMap>

class QSocketNotifier;

namespace portico {

struct RulesetSummary {
    quint64 generation = 0;
    QList<QVariantMap> chains; // the a{sv} of each base chain, as docs/dbus-api.md lists them
};

struct DiagnosisFinding {
    QString check;    // ip_forward, foreign_drop, route, ...
    QString severity; // problem, warning, ok
    QString message;
    QString fix;
    QString chain; // "family table chain", or empty

    bool isProblem() const { return severity == QLatin1StringView("problem"); }
    bool isWarning() const { return severity == QLatin1StringView("warning"); }
};

// Reads a trace pipe's read end until the helper closes it.
class TracePipeReader : public QObject {
    Q_OBJECT
public:
    // Takes ownership of `fd` (non-blocking).
    explicit TracePipeReader(int fd, QObject *parent = nullptr);
    ~TracePipeReader() override;

signals:
    void line(const QByteArray &line);
    void closed();

private:
    void readSome();

    int m_fd;
    QSocketNotifier *m_notifier;
    QByteArray m_buffer;
};

class FlowBus : public QObject {
    Q_OBJECT
public:
    explicit FlowBus(HelperClient *client, QObject *parent = nullptr);
    ~FlowBus() override;

    HelperClient *client() const { return m_client; }

    QDBusPendingCall rulesetSummaryAsync();
    HelperResult<RulesetSummary> decodeRulesetSummary(const QDBusMessage &reply) const;

    // Makes the pipe and passes its write end; *readFd gets the read end (non-blocking, ours
    // to close) or -1 when no pipe could be made (the call then fails at once).
    QDBusPendingCall startTraceAsync(const QString &forwardId, uint seconds, int *readFd);
    HelperResult<quint64> decodeStartTrace(const QDBusMessage &reply) const;
    QDBusPendingCall stopTraceAsync(quint64 traceId);

    QDBusPendingCall diagnoseAsync(const QString &forwardId);
    HelperResult<QList<DiagnosisFinding>> decodeDiagnose(const QDBusMessage &reply) const;

private:
    QDBusPendingCall call(const QString &method, const QVariantList &args, int timeoutMs);
    HelperError protocolError(const QString &method, const QString &detail) const;

    HelperClient *m_client;
    QString m_connectionName;
    QDBusConnection m_connection;
};

} // namespace portico
