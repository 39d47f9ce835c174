// SPDX-License-Identifier: GPL-3.0-or-later
// A typed QtDBus client of portico-helper, shared by porticoctl and the GUI: it knows the bus
// names, the call timeouts and the error names, and turns bus failures into plain sentences.
#pragma once

#include "dbus_types.h"
#include "forward.h"

#include <QDBusConnection>
#include <QDBusMessage>
#include <QDBusPendingCall>
#include <QMap>
#include <QObject>
#include <QStringList>
#include <QVariantMap>

namespace portico {

// Why a call failed. `name` is the D-Bus error name (io.github.portico.Error.*, or one of
// org.freedesktop.DBus.Error.*); `message` is a whole sentence a person can act on.
struct HelperError {
    enum class Kind {
        None,
        NotAuthorized, // polkit refused; the helper's message names the action
        NotInstalled,  // nobody owns the helper's name and it cannot be activated
        NoBus,         // the bus itself cannot be reached
        TimedOut,      // no reply in time
        Helper,        // any other error the helper sent (invalid input, kernel, state, ...)
        Protocol,      // a reply of the wrong shape: helper and client do not match
    };

    Kind kind = Kind::None;
    QString name;
    QString message;

    bool ok() const { return kind == Kind::None; }
};

template <typename T> struct HelperResult {
    T value{};
    HelperError error;

    bool ok() const { return error.ok(); }
};

struct ForwardList {
    QList<Forward> forwards;
    quint64 generation = 0;
};

struct AddedForward {
    QString id;
    QStringList notices;
};

struct ReplacedForwards {
    quint64 generation = 0;
    QStringList notices;
};

struct IpForwarding {
    bool v4 = false;
    bool v6 = false;
};

// issue 5: one finding of Diagnose (docs/dbus-api.md). The helper sends problems first, then
// warnings, then the checks that passed.
struct DiagnosisFinding {
    QString check;    // stable key: ip_forward, foreign_drop, route, ...
    QString severity; // problem, warning or ok
    QString message;
    QString fix;
    QString chain; // "family table chain" when another table's chain is the cause, else empty

    bool isProblem() const { return severity == QLatin1String("problem"); }
    bool isWarning() const { return severity == QLatin1String("warning"); }
};

// Keyed by forward id; the types of common/dbus_types.h, so that the GUI shares them.
using ForwardCounter = CounterPair;
using ForwardCounters = CounterMap;

// --- issue 5: RulesetSummary ---
// One base chain of any table of any family, as RulesetSummary reports it.
struct ChainSummary {
    QString family; // ip, ip6, inet, arp, bridge, netdev
    QString table;
    QString chain;
    QString hook; // prerouting, input, forward, output, postrouting, ingress
    int priority = 0;
    QString type;   // filter, nat, route
    QString policy; // accept, drop
    quint32 rules = 0;
    quint32 dropRules = 0; // rules whose verdict is drop or reject
    quint32 natRules = 0;  // dnat or redirect rules
    quint64 packets = 0;   // sum of the chain's rule counters
    quint64 bytes = 0;
    bool counted = false; // some rule of the chain has a counter (else packets say nothing)
    bool ours = false;    // table inet portico

    QString label() const { return family + u' ' + table + u' ' + chain; }
};

struct RulesetSummary {
    quint64 generation = 0; // the kernel's ruleset generation: refresh when it changes
    QList<ChainSummary> chains;
};

// StartTrace: the helper's trace id and the read end of the pipe it writes JSON lines to (the
// caller owns it; app/client/trace_reader.h reads it).
struct TraceStart {
    quint64 traceId = 0;
    int readFd = -1;
};

class HelperClient : public QObject {
    Q_OBJECT
public:
    static constexpr const char *serviceName = "io.github.portico.Helper1";
    static constexpr const char *objectPath = "/io/github/portico/Helper1";
    static constexpr const char *interfaceName = "io.github.portico.Helper1";
    // A mutating call may wait for a password prompt: give the person time to answer it.
    static constexpr int mutatingTimeoutMs = 10 * 60 * 1000;
    static constexpr int readTimeoutMs = 60 * 1000;

    // An empty address means the system bus. The connection is made on the first call.
    explicit HelperClient(const QString &busAddress = {}, QObject *parent = nullptr);
    ~HelperClient() override;

    // PORTICO_BUS_ADDRESS, or empty (the system bus).
    static QString busAddressFromEnvironment();

    QString busAddress() const { return m_busAddress; }
    // "the D-Bus system bus" or "the D-Bus bus at ADDRESS", for messages.
    QString busDescription() const;

    // Blocking calls, for the CLI. The GUI uses the asynchronous forms below.
    HelperResult<ForwardList> listForwards();
    HelperResult<AddedForward> addForward(const Forward &forward);
    // `changes` holds only the bus keys to change (a partial a{sv}).
    HelperResult<QStringList> updateForward(const QString &id, const QVariantMap &changes);
    HelperError removeForward(const QString &id);
    HelperResult<ReplacedForwards> replaceForwards(const QList<Forward> &forwards,
                                                   quint64 expectedGeneration);
    HelperResult<IpForwarding> ipForwarding();
    HelperError setIpForwarding(bool v4, bool v6);
    HelperResult<ForwardCounters> counters();
    HelperResult<QString> ruleset();
    // issue 5: the diagnosis of one forward (needs io.github.portico.monitor).
    HelperResult<QList<DiagnosisFinding>> diagnose(const QString &id);

    // Asynchronous forms: start the call, then decode the finished reply with decode*().
    // An empty `QDBusPendingCall` error means the connection could not be made.
    QDBusPendingCall listForwardsAsync();
    QDBusPendingCall addForwardAsync(const Forward &forward);
    QDBusPendingCall updateForwardAsync(const QString &id, const QVariantMap &changes);
    QDBusPendingCall removeForwardAsync(const QString &id);
    QDBusPendingCall replaceForwardsAsync(const QList<Forward> &forwards,
                                          quint64 expectedGeneration);
    QDBusPendingCall ipForwardingAsync();
    QDBusPendingCall setIpForwardingAsync(bool v4, bool v6);
    QDBusPendingCall countersAsync();
    QDBusPendingCall rulesetAsync();
    QDBusPendingCall diagnoseAsync(const QString &id); // issue 5

    HelperResult<ForwardList> decodeListForwards(const QDBusMessage &reply) const;
    HelperResult<AddedForward> decodeAddForward(const QDBusMessage &reply) const;
    HelperResult<QStringList> decodeUpdateForward(const QDBusMessage &reply) const;
    HelperError decodeEmpty(const QDBusMessage &reply) const;
    HelperResult<ReplacedForwards> decodeReplaceForwards(const QDBusMessage &reply) const;
    HelperResult<IpForwarding> decodeIpForwarding(const QDBusMessage &reply) const;
    HelperResult<ForwardCounters> decodeCounters(const QDBusMessage &reply) const;
    HelperResult<QString> decodeRuleset(const QDBusMessage &reply) const;
    HelperResult<QList<DiagnosisFinding>> decodeDiagnose(const QDBusMessage &reply) const;

    // --- issue 5: the ruleset summary and the packet trace ---
    HelperResult<RulesetSummary> rulesetSummary();
    QDBusPendingCall rulesetSummaryAsync();
    HelperResult<RulesetSummary> decodeRulesetSummary(const QDBusMessage &reply) const;
    // seconds 0: the helper's default (30); at most 60. On success the caller owns readFd.
    HelperResult<TraceStart> startTrace(const QString &forwardId, quint32 seconds);
    // Makes the pipe and starts the call; *readFd is its read end (the caller owns it, also on
    // failure), or -1 if no pipe could be made. decodeStartTrace gives the trace id.
    QDBusPendingCall startTraceAsync(const QString &forwardId, quint32 seconds, int *readFd);
    HelperResult<quint64> decodeStartTrace(const QDBusMessage &reply) const;
    HelperError stopTrace(quint64 traceId);
    QDBusPendingCall stopTraceAsync(quint64 traceId);

    // Turns an error reply into a HelperError with a plain sentence.
    HelperError errorFromReply(const QDBusMessage &reply) const;

    // Subscribes to the helper's ForwardsChanged signal (emitted as forwardsChanged()).
    HelperError watchForwardsChanged();

    // --- Issue 4: conntrack ---
    // WatchConnections: makes a pipe, hands the helper its write end and returns the read end
    // (the caller owns it; give it to a ConntrackStreamReader), or the error. `filter` takes
    // the keys of docs/dbus-api.md (forwarded b, forward s, address s, port u, protocol s).
    HelperResult<int> watchConnections(const QVariantMap &filter);
    // KillConnections: the same filter keys plus ids (au); returns how many were killed.
    HelperResult<quint32> killConnections(const QVariantMap &filter);
    HelperResult<bool> conntrackAccounting();
    HelperError setConntrackAccounting(bool on);
    // Asynchronous forms. watchConnectionsAsync sets *readFd to the read end (or -1); on an
    // error reply the caller closes it.
    QDBusPendingCall watchConnectionsAsync(const QVariantMap &filter, int *readFd);
    QDBusPendingCall killConnectionsAsync(const QVariantMap &filter);
    QDBusPendingCall conntrackAccountingAsync();
    QDBusPendingCall setConntrackAccountingAsync(bool on);
    HelperResult<quint32> decodeKillConnections(const QDBusMessage &reply) const;
    HelperResult<bool> decodeConntrackAccounting(const QDBusMessage &reply) const;

signals:
    void forwardsChanged(quint64 generation);

private slots:
    void onForwardsChanged(qulonglong generation); // QtDBus matches the slot by type name

private:
    // Issue 4: the pipe for WatchConnections and the call's arguments; false and *error if the
    // pipe cannot be made or the bus cannot pass it.
    bool makeWatchPipe(int *readFd, QVariant *writeEnd, HelperError *error);

    bool ensureConnected();
    QDBusMessage makeCall(const QString &method, const QVariantList &args, bool mutating) const;
    QDBusMessage callBlocking(const QString &method, const QVariantList &args, bool mutating);
    QDBusPendingCall callAsync(const QString &method, const QVariantList &args, bool mutating);
    QVariantList startTraceArguments(const QString &forwardId, quint32 seconds, int *readFd,
                                     QString *error);
    HelperError protocolError(const QString &method, const QString &detail) const;

    QString m_busAddress;
    QString m_connectionName;
    QDBusConnection m_connection;
    HelperError m_connectError;
    bool m_triedConnect = false;
};

} // namespace portico
