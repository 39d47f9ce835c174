// SPDX-License-Identifier: GPL-3.0-or-later
// The helper's bus API as typed calls, and bus failures as sentences a person can act on.
#include "helper_client.h"

#include "errors.h"
#include "sealed_file.h"
#include "serialization.h"

#include <QAtomicInt>
#include <QDBusArgument>
#include <QDBusError>
#include <QDBusMetaType>
#include <QDBusPendingReply>
#include <QDBusUnixFileDescriptor>
#include <QtGlobal>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace portico {

namespace {

QAtomicInt connectionCounter;

QString qs(const char *s) {
    return QString::fromLatin1(s);
}

// A whole list goes in a sealed memory file beside the call (common/sealed_file.h), not as
// aa{sv}: at 10,000 forwards that takes a third of the time of ReplaceForwards' list, and it
// has no message size limit. An empty QVariant with *error when no file could be made.
QVariant forwardsFileArgument(const QList<Forward> &forwards, QString *error) {
    const int fd = sealed::create("portico-forwards", forwardsDocumentText(forwards), error);
    if (fd < 0)
        return {};
    QDBusUnixFileDescriptor file;
    file.giveFileDescriptor(fd);
    return QVariant::fromValue(file);
}

QDBusMessage localError(const QString &message) {
    return QDBusMessage::createError(u"org.freedesktop.DBus.Error.Failed"_s, message);
}

QStringList stringListArgument(const QVariant &v) {
    if (v.metaType() == QMetaType::fromType<QStringList>())
        return v.toStringList();
    if (v.metaType() == QMetaType::fromType<QDBusArgument>()) {
        QStringList list;
        qvariant_cast<QDBusArgument>(v) >> list;
        return list;
    }
    return {};
}

bool isStringList(const QVariant &v) {
    if (v.metaType() == QMetaType::fromType<QStringList>())
        return true;
    return v.metaType() == QMetaType::fromType<QDBusArgument>() &&
           qvariant_cast<QDBusArgument>(v).currentSignature() == "as"_L1;
}

} // namespace

HelperClient::HelperClient(const QString &busAddress, QObject *parent)
    : QObject(parent)
    , m_busAddress(busAddress)
    , m_connection(u"portico-client-unconnected"_s) {
    registerDBusTypes(); // the counters' a{s(tt)}
}

HelperClient::~HelperClient() {
    if (!m_connectionName.isEmpty())
        QDBusConnection::disconnectFromBus(m_connectionName);
}

QString HelperClient::busAddressFromEnvironment() {
    return qEnvironmentVariable("PORTICO_BUS_ADDRESS");
}

QString HelperClient::busDescription() const {
    if (m_busAddress.isEmpty())
        return u"the D-Bus system bus"_s;
    return u"the D-Bus bus at %1"_s.arg(m_busAddress);
}

bool HelperClient::ensureConnected() {
    if (m_triedConnect)
        return m_connectError.ok();
    m_triedConnect = true;
    if (m_busAddress.isEmpty()) {
        m_connection = QDBusConnection::systemBus();
    } else {
        m_connectionName = u"portico-client-%1"_s.arg(connectionCounter.fetchAndAddRelaxed(1));
        m_connection = QDBusConnection::connectToBus(m_busAddress, m_connectionName);
    }
    if (!m_connection.isConnected()) {
        const QDBusError e = m_connection.lastError();
        m_connectError.kind = HelperError::Kind::NoBus;
        m_connectError.name = e.isValid() ? e.name() : qs("org.freedesktop.DBus.Error.NoServer");
        m_connectError.message = u"cannot connect to %1%2. Is D-Bus running?"_s.arg(
            busDescription(), e.message().isEmpty() ? QString() : u" (%1)"_s.arg(e.message()));
        return false;
    }
    return true;
}

QDBusMessage HelperClient::makeCall(const QString &method, const QVariantList &args,
                                    bool mutating) const {
    QDBusMessage msg =
        QDBusMessage::createMethodCall(qs(serviceName), qs(objectPath), qs(interfaceName), method);
    msg.setArguments(args);
    // The helper asks polkit; allowing interaction lets polkit show a password prompt.
    msg.setInteractiveAuthorizationAllowed(mutating);
    return msg;
}

QDBusMessage HelperClient::callBlocking(const QString &method, const QVariantList &args,
                                        bool mutating) {
    if (!ensureConnected())
        return QDBusMessage::createError(m_connectError.name, m_connectError.message);
    return m_connection.call(makeCall(method, args, mutating), QDBus::Block,
                             mutating ? mutatingTimeoutMs : readTimeoutMs);
}

QDBusPendingCall HelperClient::callAsync(const QString &method, const QVariantList &args,
                                         bool mutating) {
    if (!ensureConnected())
        return QDBusPendingCall::fromError(
            QDBusMessage::createError(m_connectError.name, m_connectError.message));
    return m_connection.asyncCall(makeCall(method, args, mutating),
                                  mutating ? mutatingTimeoutMs : readTimeoutMs);
}

HelperError HelperClient::errorFromReply(const QDBusMessage &reply) const {
    HelperError e;
    if (reply.type() != QDBusMessage::ErrorMessage)
        return e;
    e.name = reply.errorName();
    const QString detail = reply.errorMessage();
    const auto withDetail = [&](const QString &sentence) {
        return detail.isEmpty() ? sentence : u"%1 (%2)"_s.arg(sentence, detail);
    };
    const auto is = [&](const char *name) {
        return e.name == QLatin1StringView(name);
    };

    if (!m_connectError.ok() && e.name == m_connectError.name && detail == m_connectError.message) {
        return m_connectError;
    }
    if (is(errors::NotAuthorized)) {
        e.kind = HelperError::Kind::NotAuthorized;
        e.message = detail.isEmpty() ? u"not authorized; an administrator must allow it"_s : detail;
    } else if (is("org.freedesktop.DBus.Error.ServiceUnknown") ||
               is("org.freedesktop.DBus.Error.NameHasNoOwner") ||
               e.name.startsWith("org.freedesktop.DBus.Error.Spawn."_L1) ||
               e.name.startsWith("org.freedesktop.systemd1."_L1)) {
        e.kind = HelperError::Kind::NotInstalled;
        e.message =
            withDetail(u"the Portico helper (%1) is not running on %2 and the bus cannot start it; "
                       "is Portico installed?"_s.arg(qs(serviceName), busDescription()));
    } else if (is("org.freedesktop.DBus.Error.NoReply") ||
               is("org.freedesktop.DBus.Error.Timeout") ||
               is("org.freedesktop.DBus.Error.TimedOut")) {
        e.kind = HelperError::Kind::TimedOut;
        e.message = withDetail(u"the Portico helper did not answer in time"_s);
    } else if (is("org.freedesktop.DBus.Error.Disconnected") ||
               is("org.freedesktop.DBus.Error.NoServer") ||
               is("org.freedesktop.DBus.Error.NoNetwork") ||
               is("org.freedesktop.DBus.Error.BadAddress") ||
               is("org.freedesktop.DBus.Error.FileNotFound")) {
        e.kind = HelperError::Kind::NoBus;
        e.message = withDetail(u"cannot reach %1"_s.arg(busDescription()));
    } else if (is("org.freedesktop.DBus.Error.UnknownMethod") ||
               is("org.freedesktop.DBus.Error.UnknownObject") ||
               is("org.freedesktop.DBus.Error.UnknownInterface")) {
        e.kind = HelperError::Kind::Protocol;
        e.message = withDetail(
            u"the Portico helper on %1 does not offer this call; the helper "
            "and this client are probably from different versions"_s.arg(busDescription()));
    } else if (is("org.freedesktop.DBus.Error.AccessDenied")) {
        e.kind = HelperError::Kind::Helper;
        e.message = withDetail(u"the bus refused the call; is Portico's D-Bus policy installed?"_s);
    } else {
        e.kind = HelperError::Kind::Helper;
        e.message = detail.isEmpty() ? e.name : detail;
    }
    return e;
}

HelperError HelperClient::protocolError(const QString &method, const QString &detail) const {
    HelperError e;
    e.kind = HelperError::Kind::Protocol;
    e.name = qs("org.freedesktop.DBus.Error.InvalidSignature");
    e.message = u"the Portico helper sent an unexpected reply to %1 (%2); the helper and this "
                "client are probably from different versions"_s.arg(method, detail);
    return e;
}

// --- decoding -------------------------------------------------------------------------------

HelperResult<ForwardList> HelperClient::decodeListForwards(const QDBusMessage &reply) const {
    HelperResult<ForwardList> r;
    r.error = errorFromReply(reply);
    if (!r.ok())
        return r;
    const QVariantList args = reply.arguments();
    if (args.size() != 2 || reply.signature() != "ht"_L1) {
        r.error = protocolError(u"ExportForwards"_s, u"signature '%1'"_s.arg(reply.signature()));
        return r;
    }
    QByteArray text;
    const QDBusUnixFileDescriptor file = qvariant_cast<QDBusUnixFileDescriptor>(args.at(0));
    if (QString e = sealed::read(file.fileDescriptor(), &text, sealed::maxTrustedBytes);
        !e.isEmpty()) {
        r.error = protocolError(u"ExportForwards"_s, e);
        return r;
    }
    if (ValidationError v = forwardsFromDocument(text, &r.value.forwards); !v.ok()) {
        r.error = protocolError(u"ExportForwards"_s, v.message);
        return r;
    }
    r.value.generation = args.at(1).toULongLong();
    return r;
}

HelperResult<AddedForward> HelperClient::decodeAddForward(const QDBusMessage &reply) const {
    HelperResult<AddedForward> r;
    r.error = errorFromReply(reply);
    if (!r.ok())
        return r;
    const QVariantList args = reply.arguments();
    if (args.size() != 2 || args.at(0).metaType() != QMetaType::fromType<QString>() ||
        !isStringList(args.at(1))) {
        r.error = protocolError(u"AddForward"_s, u"signature '%1'"_s.arg(reply.signature()));
        return r;
    }
    r.value.id = args.at(0).toString();
    r.value.notices = stringListArgument(args.at(1));
    return r;
}

HelperResult<QStringList> HelperClient::decodeUpdateForward(const QDBusMessage &reply) const {
    HelperResult<QStringList> r;
    r.error = errorFromReply(reply);
    if (!r.ok())
        return r;
    const QVariantList args = reply.arguments();
    if (args.size() != 1 || !isStringList(args.at(0))) {
        r.error = protocolError(u"UpdateForward"_s, u"signature '%1'"_s.arg(reply.signature()));
        return r;
    }
    r.value = stringListArgument(args.at(0));
    return r;
}

HelperError HelperClient::decodeEmpty(const QDBusMessage &reply) const {
    return errorFromReply(reply);
}

HelperResult<ReplacedForwards>
HelperClient::decodeReplaceForwards(const QDBusMessage &reply) const {
    HelperResult<ReplacedForwards> r;
    r.error = errorFromReply(reply);
    if (!r.ok())
        return r;
    const QVariantList args = reply.arguments();
    if (args.size() != 2 || args.at(0).metaType() != QMetaType::fromType<qulonglong>() ||
        !isStringList(args.at(1))) {
        r.error = protocolError(u"ImportForwards"_s, u"signature '%1'"_s.arg(reply.signature()));
        return r;
    }
    r.value.generation = args.at(0).toULongLong();
    r.value.notices = stringListArgument(args.at(1));
    return r;
}

HelperResult<IpForwarding> HelperClient::decodeIpForwarding(const QDBusMessage &reply) const {
    HelperResult<IpForwarding> r;
    r.error = errorFromReply(reply);
    if (!r.ok())
        return r;
    if (reply.signature() != "bb"_L1) {
        r.error = protocolError(u"GetIpForwarding"_s, u"signature '%1'"_s.arg(reply.signature()));
        return r;
    }
    r.value.v4 = reply.arguments().at(0).toBool();
    r.value.v6 = reply.arguments().at(1).toBool();
    return r;
}

HelperResult<ForwardCounters> HelperClient::decodeCounters(const QDBusMessage &reply) const {
    HelperResult<ForwardCounters> r;
    r.error = errorFromReply(reply);
    if (!r.ok())
        return r;
    if (reply.signature() != "a{s(tt)}"_L1) {
        r.error = protocolError(u"GetCounters"_s, u"signature '%1'"_s.arg(reply.signature()));
        return r;
    }
    // Read the map by hand so that it does not depend on which metatypes are registered.
    const QDBusArgument arg = qvariant_cast<QDBusArgument>(reply.arguments().at(0));
    arg.beginMap();
    while (!arg.atEnd()) {
        QString id;
        ForwardCounter c;
        arg.beginMapEntry();
        arg >> id;
        arg.beginStructure();
        arg >> c.packets >> c.bytes;
        arg.endStructure();
        arg.endMapEntry();
        r.value.insert(id, c);
    }
    arg.endMap();
    return r;
}

HelperResult<QString> HelperClient::decodeRuleset(const QDBusMessage &reply) const {
    HelperResult<QString> r;
    r.error = errorFromReply(reply);
    if (!r.ok())
        return r;
    if (reply.signature() != "s"_L1) {
        r.error = protocolError(u"Ruleset"_s, u"signature '%1'"_s.arg(reply.signature()));
        return r;
    }
    r.value = reply.arguments().at(0).toString();
    return r;
}

// --- asynchronous calls ---------------------------------------------------------------------

QDBusPendingCall HelperClient::listForwardsAsync() {
    return callAsync(u"ExportForwards"_s, {}, false);
}

QDBusPendingCall HelperClient::addForwardAsync(const Forward &forward) {
    Forward f = forward;
    f.id.clear(); // the helper assigns it
    return callAsync(u"AddForward"_s, {forwardToVariantMap(f, BusKeys::Request)}, true);
}

QDBusPendingCall HelperClient::updateForwardAsync(const QString &id, const QVariantMap &changes) {
    return callAsync(u"UpdateForward"_s, {id, changes}, true);
}

QDBusPendingCall HelperClient::removeForwardAsync(const QString &id) {
    return callAsync(u"RemoveForward"_s, {id}, true);
}

QDBusPendingCall HelperClient::replaceForwardsAsync(const QList<Forward> &forwards,
                                                    quint64 expectedGeneration) {
    QString error;
    const QVariant file = forwardsFileArgument(forwards, &error);
    if (!file.isValid())
        return QDBusPendingCall::fromError(localError(error));
    return callAsync(u"ImportForwards"_s,
                     {file, QVariant::fromValue<qulonglong>(expectedGeneration)}, true);
}

QDBusPendingCall HelperClient::ipForwardingAsync() {
    return callAsync(u"GetIpForwarding"_s, {}, false);
}

QDBusPendingCall HelperClient::setIpForwardingAsync(bool v4, bool v6) {
    return callAsync(u"SetIpForwarding"_s, {v4, v6}, true);
}

QDBusPendingCall HelperClient::countersAsync() {
    // Counters need the monitor action, which may prompt too.
    return callAsync(u"GetCounters"_s, {}, true);
}

QDBusPendingCall HelperClient::rulesetAsync() {
    return callAsync(u"Ruleset"_s, {}, false);
}

// --- blocking calls -------------------------------------------------------------------------

HelperResult<ForwardList> HelperClient::listForwards() {
    return decodeListForwards(callBlocking(u"ExportForwards"_s, {}, false));
}

HelperResult<AddedForward> HelperClient::addForward(const Forward &forward) {
    Forward f = forward;
    f.id.clear();
    return decodeAddForward(
        callBlocking(u"AddForward"_s, {forwardToVariantMap(f, BusKeys::Request)}, true));
}

HelperResult<QStringList> HelperClient::updateForward(const QString &id,
                                                      const QVariantMap &changes) {
    return decodeUpdateForward(callBlocking(u"UpdateForward"_s, {id, changes}, true));
}

HelperError HelperClient::removeForward(const QString &id) {
    return decodeEmpty(callBlocking(u"RemoveForward"_s, {id}, true));
}

HelperResult<ReplacedForwards> HelperClient::replaceForwards(const QList<Forward> &forwards,
                                                             quint64 expectedGeneration) {
    QString error;
    const QVariant file = forwardsFileArgument(forwards, &error);
    if (!file.isValid())
        return decodeReplaceForwards(localError(error));
    return decodeReplaceForwards(callBlocking(
        u"ImportForwards"_s, {file, QVariant::fromValue<qulonglong>(expectedGeneration)}, true));
}

HelperResult<IpForwarding> HelperClient::ipForwarding() {
    return decodeIpForwarding(callBlocking(u"GetIpForwarding"_s, {}, false));
}

HelperError HelperClient::setIpForwarding(bool v4, bool v6) {
    return decodeEmpty(callBlocking(u"SetIpForwarding"_s, {v4, v6}, true));
}

HelperResult<ForwardCounters> HelperClient::counters() {
    return decodeCounters(callBlocking(u"GetCounters"_s, {}, true));
}

HelperResult<QString> HelperClient::ruleset() {
    return decodeRuleset(callBlocking(u"Ruleset"_s, {}, false));
}

// --- issue 5: Diagnose ----------------------------------------------------------------------

HelperResult<QList<DiagnosisFinding>>
HelperClient::decodeDiagnose(const QDBusMessage &reply) const {
    HelperResult<QList<DiagnosisFinding>> r;
    r.error = errorFromReply(reply);
    if (!r.ok())
        return r;
    if (reply.signature() != "aa{sv}"_L1) {
        r.error = protocolError(u"Diagnose"_s, u"signature '%1'"_s.arg(reply.signature()));
        return r;
    }
    QList<QVariantMap> maps;
    qvariant_cast<QDBusArgument>(reply.arguments().at(0)) >> maps;
    for (const QVariantMap &m : std::as_const(maps)) {
        DiagnosisFinding f;
        f.check = m.value(u"check"_s).toString();
        f.severity = m.value(u"severity"_s).toString();
        f.message = m.value(u"message"_s).toString();
        f.fix = m.value(u"fix"_s).toString();
        f.chain = m.value(u"chain"_s).toString();
        if (f.check.isEmpty() ||
            (f.severity != "problem"_L1 && f.severity != "warning"_L1 && f.severity != "ok"_L1)) {
            r.error =
                protocolError(u"Diagnose"_s,
                              u"a finding without a check or with severity '%1'"_s.arg(f.severity));
            return r;
        }
        r.value.append(f);
    }
    return r;
}

QDBusPendingCall HelperClient::diagnoseAsync(const QString &id) {
    // The monitor action may prompt, like the counters.
    return callAsync(u"Diagnose"_s, {id}, true);
}

HelperResult<QList<DiagnosisFinding>> HelperClient::diagnose(const QString &id) {
    return decodeDiagnose(callBlocking(u"Diagnose"_s, {id}, true));
}

// --- signal ---------------------------------------------------------------------------------

HelperError HelperClient::watchForwardsChanged() {
    if (!ensureConnected())
        return m_connectError;
    if (!m_connection.connect(qs(serviceName), qs(objectPath), qs(interfaceName),
                              u"ForwardsChanged"_s, this, SLOT(onForwardsChanged(qulonglong)))) {
        HelperError e;
        e.kind = HelperError::Kind::NoBus;
        e.name = m_connection.lastError().name();
        e.message = u"cannot subscribe to the helper's ForwardsChanged signal on %1 (%2)"_s.arg(
            busDescription(), m_connection.lastError().message());
        return e;
    }
    return {};
}

void HelperClient::onForwardsChanged(qulonglong generation) {
    emit forwardsChanged(generation);
}

// --- Issue 4: conntrack ---------------------------------------------------------------------

bool HelperClient::makeWatchPipe(int *readFd, QVariant *writeEnd, HelperError *error) {
    *readFd = -1;
    if (!ensureConnected()) {
        *error = m_connectError;
        return false;
    }
    if (!(m_connection.connectionCapabilities() & QDBusConnection::UnixFileDescriptorPassing)) {
        error->kind = HelperError::Kind::NoBus;
        error->name = qs("org.freedesktop.DBus.Error.NotSupported");
        error->message = u"%1 cannot pass file descriptors, which the connection view needs"_s.arg(
            busDescription());
        return false;
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        error->kind = HelperError::Kind::Helper;
        error->name = qs("org.freedesktop.DBus.Error.Failed");
        error->message = u"cannot make a pipe for the connection stream: %1"_s.arg(
            QString::fromLocal8Bit(strerror(errno)));
        return false;
    }
    // QDBusUnixFileDescriptor keeps its own duplicate: ours goes as soon as the call is sent.
    *writeEnd = QVariant::fromValue(QDBusUnixFileDescriptor(fds[1]));
    ::close(fds[1]);
    *readFd = fds[0];
    return true;
}

HelperResult<int> HelperClient::watchConnections(const QVariantMap &filter) {
    HelperResult<int> r;
    QVariant writeEnd;
    int readFd = -1;
    if (!makeWatchPipe(&readFd, &writeEnd, &r.error))
        return r;
    const QDBusMessage reply =
        callBlocking(u"WatchConnections"_s, {writeEnd, QVariant::fromValue(filter)}, true);
    writeEnd = QVariant(); // the helper has its own copy now
    r.error = errorFromReply(reply);
    if (!r.ok()) {
        ::close(readFd);
        return r;
    }
    r.value = readFd;
    return r;
}

QDBusPendingCall HelperClient::watchConnectionsAsync(const QVariantMap &filter, int *readFd) {
    QVariant writeEnd;
    HelperError error;
    if (!makeWatchPipe(readFd, &writeEnd, &error))
        return QDBusPendingCall::fromError(QDBusMessage::createError(error.name, error.message));
    return callAsync(u"WatchConnections"_s, {writeEnd, QVariant::fromValue(filter)}, true);
}

HelperResult<quint32> HelperClient::killConnections(const QVariantMap &filter) {
    return decodeKillConnections(
        callBlocking(u"KillConnections"_s, {QVariant::fromValue(filter)}, true));
}

QDBusPendingCall HelperClient::killConnectionsAsync(const QVariantMap &filter) {
    return callAsync(u"KillConnections"_s, {QVariant::fromValue(filter)}, true);
}

HelperResult<quint32> HelperClient::decodeKillConnections(const QDBusMessage &reply) const {
    HelperResult<quint32> r;
    r.error = errorFromReply(reply);
    if (!r.ok())
        return r;
    const QVariantList args = reply.arguments();
    if (args.size() != 1 || args.at(0).metaType() != QMetaType::fromType<uint>()) {
        r.error = protocolError(u"KillConnections"_s, u"signature '%1'"_s.arg(reply.signature()));
        return r;
    }
    r.value = args.at(0).toUInt();
    return r;
}

HelperResult<bool> HelperClient::conntrackAccounting() {
    return decodeConntrackAccounting(callBlocking(u"GetConntrackAccounting"_s, {}, false));
}

QDBusPendingCall HelperClient::conntrackAccountingAsync() {
    return callAsync(u"GetConntrackAccounting"_s, {}, false);
}

HelperResult<bool> HelperClient::decodeConntrackAccounting(const QDBusMessage &reply) const {
    HelperResult<bool> r;
    r.error = errorFromReply(reply);
    if (!r.ok())
        return r;
    const QVariantList args = reply.arguments();
    if (args.size() != 1 || args.at(0).metaType() != QMetaType::fromType<bool>()) {
        r.error =
            protocolError(u"GetConntrackAccounting"_s, u"signature '%1'"_s.arg(reply.signature()));
        return r;
    }
    r.value = args.at(0).toBool();
    return r;
}

HelperError HelperClient::setConntrackAccounting(bool on) {
    return decodeEmpty(callBlocking(u"SetConntrackAccounting"_s, {on}, true));
}

QDBusPendingCall HelperClient::setConntrackAccountingAsync(bool on) {
    return callAsync(u"SetConntrackAccounting"_s, {on}, true);
}

// --- issue 5: the ruleset summary and the packet trace -------------------------------------

HelperResult<RulesetSummary> HelperClient::decodeRulesetSummary(const QDBusMessage &reply) const {
    HelperResult<RulesetSummary> r;
    r.error = errorFromReply(reply);
    if (!r.ok())
        return r;
    const QVariantList args = reply.arguments();
    if (args.size() != 2 || reply.signature() != "taa{sv}"_L1) {
        r.error = protocolError(u"RulesetSummary"_s, u"signature '%1'"_s.arg(reply.signature()));
        return r;
    }
    r.value.generation = args.at(0).toULongLong();
    QList<QVariantMap> maps;
    qvariant_cast<QDBusArgument>(args.at(1)) >> maps;
    r.value.chains.reserve(maps.size());
    for (const QVariantMap &m : std::as_const(maps)) {
        ChainSummary c;
        c.family = m.value(u"family"_s).toString();
        c.table = m.value(u"table"_s).toString();
        c.chain = m.value(u"chain"_s).toString();
        c.hook = m.value(u"hook"_s).toString();
        c.priority = m.value(u"priority"_s).toInt();
        c.type = m.value(u"type"_s).toString();
        c.policy = m.value(u"policy"_s).toString();
        c.rules = m.value(u"rules"_s).toUInt();
        c.dropRules = m.value(u"drop_rules"_s).toUInt();
        c.natRules = m.value(u"nat_rules"_s).toUInt();
        c.packets = m.value(u"packets"_s).toULongLong();
        c.bytes = m.value(u"bytes"_s).toULongLong();
        c.counted = m.value(u"counted"_s).toBool();
        c.ours = m.value(u"ours"_s).toBool();
        r.value.chains.append(c);
    }
    return r;
}

QDBusPendingCall HelperClient::rulesetSummaryAsync() {
    // The summary needs the monitor action, which may prompt.
    return callAsync(u"RulesetSummary"_s, {}, true);
}

HelperResult<RulesetSummary> HelperClient::rulesetSummary() {
    return decodeRulesetSummary(callBlocking(u"RulesetSummary"_s, {}, true));
}

QVariantList HelperClient::startTraceArguments(const QString &forwardId, quint32 seconds,
                                               int *readFd, QString *error) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        *readFd = -1;
        *error =
            u"cannot make a pipe for the trace: %1"_s.arg(QString::fromLocal8Bit(strerror(errno)));
        return {};
    }
    *readFd = fds[0];
    // The message carries its own duplicate of the write end; ours closes at once, so that the
    // read end sees the end of the file when the helper closes its copy.
    const QDBusUnixFileDescriptor writeEnd(fds[1]);
    close(fds[1]);
    return {forwardId, seconds, QVariant::fromValue(writeEnd)};
}

HelperResult<quint64> HelperClient::decodeStartTrace(const QDBusMessage &reply) const {
    HelperResult<quint64> r;
    r.error = errorFromReply(reply);
    if (!r.ok())
        return r;
    if (reply.signature() != "t"_L1) {
        r.error = protocolError(u"StartTrace"_s, u"signature '%1'"_s.arg(reply.signature()));
        return r;
    }
    r.value = reply.arguments().at(0).toULongLong();
    return r;
}

QDBusPendingCall HelperClient::startTraceAsync(const QString &forwardId, quint32 seconds,
                                               int *readFd) {
    QString error;
    const QVariantList args = startTraceArguments(forwardId, seconds, readFd, &error);
    if (args.isEmpty())
        return QDBusPendingCall::fromError(
            QDBusMessage::createError(u"org.freedesktop.DBus.Error.Failed"_s, error));
    return callAsync(u"StartTrace"_s, args, true);
}

HelperResult<TraceStart> HelperClient::startTrace(const QString &forwardId, quint32 seconds) {
    HelperResult<TraceStart> r;
    QString error;
    int readFd = -1;
    const QVariantList args = startTraceArguments(forwardId, seconds, &readFd, &error);
    if (args.isEmpty()) {
        r.error.kind = HelperError::Kind::Helper;
        r.error.name = u"org.freedesktop.DBus.Error.Failed"_s;
        r.error.message = error;
        return r;
    }
    const HelperResult<quint64> id = decodeStartTrace(callBlocking(u"StartTrace"_s, args, true));
    if (!id.ok()) {
        close(readFd);
        r.error = id.error;
        return r;
    }
    r.value.traceId = id.value;
    r.value.readFd = readFd;
    return r;
}

QDBusPendingCall HelperClient::stopTraceAsync(quint64 traceId) {
    return callAsync(u"StopTrace"_s, {QVariant::fromValue<qulonglong>(traceId)}, true);
}

HelperError HelperClient::stopTrace(quint64 traceId) {
    return decodeEmpty(
        callBlocking(u"StopTrace"_s, {QVariant::fromValue<qulonglong>(traceId)}, true));
}

} // namespace portico
