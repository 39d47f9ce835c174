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

// Keyed by forward id; the types of common/dbus_types.h, so that the GUI shares them.
using ForwardCounter = CounterPair;
using ForwardCounters = CounterMap;

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

    HelperResult<ForwardList> decodeListForwards(const QDBusMessage &reply) const;
    HelperResult<AddedForward> decodeAddForward(const QDBusMessage &reply) const;
    HelperResult<QStringList> decodeUpdateForward(const QDBusMessage &reply) const;
    HelperError decodeEmpty(const QDBusMessage &reply) const;
    HelperResult<ReplacedForwards> decodeReplaceForwards(const QDBusMessage &reply) const;
    HelperResult<IpForwarding> decodeIpForwarding(const QDBusMessage &reply) const;
    HelperResult<ForwardCounters> decodeCounters(const QDBusMessage &reply) const;
    HelperResult<QString> decodeRuleset(const QDBusMessage &reply) const;

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
    HelperError protocolError(const QString &method, const QString &detail) const;

    QString m_busAddress;
    QString m_connectionName;
    QDBusConnection m_connection;
    HelperError m_connectError;
    bool m_triedConnect = false;
};

} // namespace portico
