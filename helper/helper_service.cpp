// SPDX-License-Identifier: GPL-3.0-or-later
// The helper's bus object. Every incoming call takes the same path through handleMessage():
//
//   1. look the member up in methodTable() and check the argument signature against the XML;
//   2. prepare: parse and validate the arguments against the current state (InvalidArgs,
//      Duplicate, NotFound, StaleGeneration), and name what is acted on for polkit;
//   3. if the method needs a polkit action: mark the reply as delayed, ask polkit
//      asynchronously and go back to the event loop, so other callers are served while a
//      password prompt is open; a denial, an error or an odd reply ends the call here;
//   4. act: run against the state as it is NOW (another call may have changed it while polkit
//      was asked, so everything is rebuilt and validated again), then reply.
//
// Acting is synchronous on the one event-loop thread, so changes run one at a time, in the
// order their authorizations arrive. A failed change leaves the kernel and the file as before.
#include "helper_service.h"

#include "conntrack_monitor.h"
#include "dbus_types.h"
#include "diagnosis.h"
#include "errors.h"
#include "idle_guard.h"
#include "packet_trace.h"
#include "polkit_authority.h"
#include "ruleset_reader.h"
#include "ruleset_writer.h"
#include "sealed_file.h"
#include "serialization.h"
#include "serialization_bus.h"
#include "timing.h"
#include "validation.h"

#include <QDBusArgument>
#include <QDBusError>
#include <QDBusMetaType>
#include <QDBusServiceWatcher>
#include <QDBusUnixFileDescriptor>
#include <QDebug>
#include <QElapsedTimer>
#include <QFile>
#include <QLoggingCategory>
#include <QSet>
#include <QXmlStreamReader>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace portico {

const QString HelperService::serviceName = QStringLiteral("io.github.portico.Helper1");
const QString HelperService::objectPath = QStringLiteral("/io/github/portico/Helper1");
const QString HelperService::interfaceName = QStringLiteral("io.github.portico.Helper1");

namespace {

const char manageAction[] = "io.github.portico.manage";
const char monitorAction[] = "io.github.portico.monitor";
constexpr quint32 maxMark = 0xffffff;

QString onOff(bool v) {
    return v ? QStringLiteral("on") : QStringLiteral("off");
}

} // namespace

struct HelperService::Outcome {
    QString errorName;
    QString errorMessage;
    QVariantList values;
    bool later = false; // the act replies itself when its work is done (deferred())

    bool ok() const { return errorName.isEmpty(); }
    static Outcome fail(const char *name, const QString &message) {
        return {QLatin1String(name), message, {}};
    }
    static Outcome success(const QVariantList &values = {}) { return {{}, {}, values}; }
    static Outcome deferred() { return {{}, {}, {}, true}; }
};

struct HelperService::Call {
    QDBusMessage message;
    QDBusConnection connection{QString()};
    const Method *method = nullptr;
    QMap<QString, QString> details; // for polkit: what the call acts on
    QString id;
    QVariantMap map;
    Forward forward;
    QList<Forward> forwards;
    quint64 generation = 0;
    // ReplaceForwards: the new set with its ids as prepare built and checked it, against the
    // state of generation `generation`.
    QList<Forward> prepared;
    quint32 preparedNextMark = 0;
    IpForwarding ipForwarding;
    QElapsedTimer timer;
    // Issue 4: conntrack (WatchConnections takes `pipe` below too).
    conntrack::Filter ctFilter;
    bool on = false;
    // issue 5: StartTrace, StopTrace
    QDBusUnixFileDescriptor pipe;
    int seconds = 0;
    quint64 traceId = 0;
};

struct HelperService::Method {
    QString name;
    const char *action; // polkit action, or nullptr: open to anyone
    const char *what;   // for the denial: "<what> needs the polkit action ..."
    Step prepare;
    Step act;
};

const QList<HelperService::Method> &HelperService::methodTable() {
    static const QList<Method> table = {
        {QStringLiteral("ListForwards"), nullptr, nullptr, &HelperService::prepareNone,
         &HelperService::actListForwards},
        {QStringLiteral("AddForward"), manageAction, "changing port forwards",
         &HelperService::prepareAddForward, &HelperService::actAddForward},
        {QStringLiteral("UpdateForward"), manageAction, "changing port forwards",
         &HelperService::prepareUpdateForward, &HelperService::actUpdateForward},
        {QStringLiteral("RemoveForward"), manageAction, "changing port forwards",
         &HelperService::prepareRemoveForward, &HelperService::actRemoveForward},
        {QStringLiteral("ReplaceForwards"), manageAction, "changing port forwards",
         &HelperService::prepareReplaceForwards, &HelperService::actReplaceForwards},
        {QStringLiteral("ImportForwards"), manageAction, "changing port forwards",
         &HelperService::prepareImportForwards, &HelperService::actReplaceForwards},
        {QStringLiteral("ExportForwards"), nullptr, nullptr, &HelperService::prepareNone,
         &HelperService::actExportForwards},
        {QStringLiteral("GetIpForwarding"), nullptr, nullptr, &HelperService::prepareNone,
         &HelperService::actGetIpForwarding},
        {QStringLiteral("SetIpForwarding"), manageAction, "changing IP forwarding",
         &HelperService::prepareSetIpForwarding, &HelperService::actSetIpForwarding},
        {QStringLiteral("GetCounters"), monitorAction, "reading traffic counters",
         &HelperService::prepareNone, &HelperService::actGetCounters},
        {QStringLiteral("Ruleset"), nullptr, nullptr, &HelperService::prepareNone,
         &HelperService::actRuleset},
        // Issue 4: conntrack.
        {QStringLiteral("WatchConnections"), monitorAction, "watching connections",
         &HelperService::prepareWatchConnections, &HelperService::actWatchConnections},
        {QStringLiteral("KillConnections"), manageAction, "killing connections",
         &HelperService::prepareKillConnections, &HelperService::actKillConnections},
        {QStringLiteral("GetConntrackAccounting"), nullptr, nullptr, &HelperService::prepareNone,
         &HelperService::actGetConntrackAccounting},
        {QStringLiteral("SetConntrackAccounting"), manageAction,
         "switching per-connection counters", &HelperService::prepareSetConntrackAccounting,
         &HelperService::actSetConntrackAccounting},
        // issue 5
        {QStringLiteral("Diagnose"), monitorAction, "diagnosing a forward",
         &HelperService::prepareDiagnose, &HelperService::actDiagnose},
        {QStringLiteral("RulesetSummary"), monitorAction, "reading the ruleset summary",
         &HelperService::prepareNone, &HelperService::actRulesetSummary},
        {QStringLiteral("StartTrace"), monitorAction, "tracing packets",
         &HelperService::prepareStartTrace, &HelperService::actStartTrace},
        {QStringLiteral("StopTrace"), monitorAction, "tracing packets",
         &HelperService::prepareStopTrace, &HelperService::actStopTrace},
    };
    return table;
}

HelperService::HelperService(const QDBusConnection &bus, StateStore &&store, RulesetWriter *writer,
                             const IpForwardingSysctl &sysctl, IdleGuard *idle, QObject *parent)
    : QDBusVirtualObject(parent)
    , m_bus(bus)
    , m_store(std::move(store))
    , m_writer(writer)
    , m_sysctl(sysctl)
    , m_idle(idle)
    , m_polkit(new PolkitAuthority(bus, this))
    , m_conntrack(new ConntrackMonitor(bus, idle, this))
    , m_reader(std::make_unique<RulesetReader>()) {
    m_traceOwners = new QDBusServiceWatcher(this);
    m_traceOwners->setConnection(m_bus);
    m_traceOwners->setWatchMode(QDBusServiceWatcher::WatchForUnregistration);
    connect(m_traceOwners, &QDBusServiceWatcher::serviceUnregistered, this,
            &HelperService::callerLeft);
}

HelperService::~HelperService() {
    // Each trace takes its chains out of our table while the writer is still there.
    for (PacketTrace *t : std::as_const(m_traces)) {
        disconnect(t, nullptr, this, nullptr);
        delete t;
    }
}

bool HelperService::init(const SavedState &state, const QString &loadReport, QString *error) {
    m_state = state;
    m_claims.rebuild(m_state.forwards);
    m_pendingReport = loadReport;
    m_conntrack->setForwards(&m_state.forwards);

    QFile file(QStringLiteral(":/portico/io.github.portico.Helper1.xml"));
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("the interface description is missing from the executable");
        return false;
    }
    const QString xml = QString::fromUtf8(file.readAll());
    const int start = xml.indexOf(QLatin1String("<interface name=\"") + interfaceName);
    const int end = xml.indexOf(QLatin1String("</interface>"), start);
    if (start < 0 || end < 0) {
        *error = QStringLiteral("the interface description has no %1").arg(interfaceName);
        return false;
    }
    m_interfaceXml =
        QStringLiteral("  ") + xml.mid(start, end - start) + QStringLiteral("</interface>\n");

    // The signatures come from the XML, so the checks below and the introspection data can
    // never disagree.
    QXmlStreamReader reader(m_interfaceXml);
    QString method;
    while (!reader.atEnd()) {
        reader.readNext();
        if (reader.isStartElement() && reader.name() == QLatin1String("method")) {
            method = reader.attributes().value(QLatin1String("name")).toString();
            m_inSignature.insert(method, QString());
            m_outSignature.insert(method, QString());
        } else if (reader.isEndElement() && reader.name() == QLatin1String("method")) {
            method.clear();
        } else if (reader.isStartElement() && reader.name() == QLatin1String("arg") &&
                   !method.isEmpty()) {
            const auto attrs = reader.attributes();
            const bool out = attrs.value(QLatin1String("direction")) == QLatin1String("out");
            (out ? m_outSignature : m_inSignature)[method] +=
                attrs.value(QLatin1String("type")).toString();
        }
    }
    if (reader.hasError()) {
        *error = QStringLiteral("the interface description is not valid XML: %1")
                     .arg(reader.errorString());
        return false;
    }
    const QList<Method> &table = methodTable();
    for (int i = 0; i < table.size(); ++i) {
        if (!m_inSignature.contains(table[i].name)) {
            *error =
                QStringLiteral("method %1 is not in the interface description").arg(table[i].name);
            return false;
        }
        m_methodIndex.insert(table[i].name, i);
    }
    for (auto it = m_inSignature.cbegin(); it != m_inSignature.cend(); ++it) {
        if (!m_methodIndex.contains(it.key())) {
            *error = QStringLiteral("method %1 of the interface has no handler").arg(it.key());
            return false;
        }
    }
    // issue 5: a helper that was killed during a trace could not take its chains out.
    QString leftover;
    if (const int n = PacketTrace::removeLeftovers(m_writer, &leftover); n > 0)
        qInfo("removed %d trace chains that an earlier run left in table inet portico", n);
    else if (n < 0)
        qWarning("could not look for leftover trace chains: %s", qPrintable(leftover));
    return true;
}

QString HelperService::introspect(const QString &path) const {
    return path == objectPath ? m_interfaceXml : QString();
}

bool HelperService::handleMessage(const QDBusMessage &message, const QDBusConnection &connection) {
    if (!message.interface().isEmpty() && message.interface() != interfaceName)
        return false; // Introspectable, Properties, Peer: QtDBus answers those.
    const auto index = m_methodIndex.constFind(message.member());
    if (index == m_methodIndex.cend()) {
        if (message.interface().isEmpty())
            return false;
        connection.send(message.createErrorReply(
            QDBusError::UnknownMethod,
            QStringLiteral("%1 has no method %2").arg(interfaceName, message.member())));
        return true;
    }
    m_idle->touch();

    auto call = std::make_shared<Call>();
    call->timer.start();
    call->message = message;
    call->connection = connection;
    call->method = &methodTable().at(*index);
    const Method &method = *call->method;

    const QString expected = m_inSignature.value(method.name);
    if (message.signature() != expected) {
        reply(*call, Outcome::fail(errors::InvalidArgs,
                                   QStringLiteral("%1 takes the arguments (%2), not (%3)")
                                       .arg(method.name, expected, message.signature())));
        return true;
    }

    const Outcome prepared = (this->*method.prepare)(*call);
    if (!prepared.ok()) {
        reply(*call, prepared);
        return true;
    }
    if (!method.action) {
        reply(*call, (this->*method.act)(*call));
        return true;
    }

    call->message.setDelayedReply(true);
    const double prepareMs = call->timer.nsecsElapsed() / 1e6;
    m_idle->hold();
    m_polkit->check(call->message, QLatin1String(method.action), call->details,
                    [this, call, prepareMs](const Authorization &auth) {
                        m_idle->release();
                        if (auth.authorized) {
                            const double polkitMs = call->timer.nsecsElapsed() / 1e6 - prepareMs;
                            m_commitTiming.clear();
                            authorized(call);
                            qCDebug(lcTiming, "%s: prepare %.2f ms, polkit %.2f ms, act %.2f ms%s",
                                    qPrintable(call->method->name), prepareMs, polkitMs,
                                    call->timer.nsecsElapsed() / 1e6 - prepareMs - polkitMs,
                                    qPrintable(m_commitTiming));
                            return;
                        }
                        const Method &m = *call->method;
                        QString text = QStringLiteral("Not authorized: %1 needs the polkit action "
                                                      "%2; an administrator must allow it")
                                           .arg(QLatin1String(m.what), QLatin1String(m.action));
                        if (!auth.reason.isEmpty())
                            text += QStringLiteral(" (%1)").arg(auth.reason);
                        text += QLatin1Char('.');
                        qInfo("%s from %s refused: %s", qPrintable(m.name),
                              qPrintable(call->message.service()), qPrintable(text));
                        reply(*call, Outcome::fail(errors::NotAuthorized, text));
                    });
    return true;
}

void HelperService::authorized(const std::shared_ptr<Call> &call) {
    reply(*call, (this->*call->method->act)(*call));
}

void HelperService::reply(const Call &call, const Outcome &outcome) {
    if (outcome.later)
        return;
    if (outcome.ok()) {
        // A reply that does not match the XML would be a bug here, not the caller's fault; say
        // so rather than send a reply that clients cannot read.
        QString signature;
        for (const QVariant &v : outcome.values)
            signature += QLatin1String(QDBusMetaType::typeToSignature(v.metaType()));
        const QString expected = m_outSignature.value(call.method->name);
        if (signature != expected) {
            qCritical("%s: the reply has the signature (%s), not (%s)",
                      qPrintable(call.method->name), qPrintable(signature), qPrintable(expected));
            call.connection.send(call.message.createErrorReply(
                QDBusError::InternalError,
                QStringLiteral("portico-helper could not build the reply of %1")
                    .arg(call.method->name)));
            return;
        }
        call.connection.send(call.message.createReply(outcome.values));
    } else
        call.connection.send(
            call.message.createErrorReply(outcome.errorName, outcome.errorMessage));
}

// --- preparing: parse and validate, before anyone is asked ---

HelperService::Outcome HelperService::prepareNone(Call &) {
    return Outcome::success();
}

HelperService::Outcome HelperService::parseNewForward(const QVariantMap &map, Forward *out) const {
    Forward f;
    if (ValidationError e = forwardFromVariantMap(map, &f); !e.ok())
        return Outcome::fail(errors::InvalidArgs, e.message);
    if (!f.id.isEmpty())
        return Outcome::fail(errors::InvalidArgs,
                             QStringLiteral("the helper chooses the id of a new forward; leave "
                                            "out the key 'id' (it was '%1')")
                                 .arg(f.id));
    if (ValidationError e = validateForward(f); !e.ok())
        return Outcome::fail(errors::InvalidArgs, e.message);
    *out = f;
    return Outcome::success();
}

HelperService::Outcome HelperService::checkSet(const QList<Forward> &forwards) const {
    // Each new or changed forward has passed validateForward already, and the others were
    // valid before; so what the whole-set check finds is a clash between forwards.
    if (ValidationError e = validateForwards(forwards); !e.ok())
        return Outcome::fail(errors::Duplicate, e.message);
    return Outcome::success();
}

HelperService::Outcome HelperService::checkOne(const QList<Forward> &base, int index,
                                               const Forward &changed) const {
    const quint32 replacing = index >= 0 && index < base.size() ? base[index].mark() : 0;
    QList<Forward> subset = m_claims.candidates(changed, replacing);
    subset.append(changed);
    if (checkSet(subset).ok())
        return Outcome::success();
    return checkOneByScan(base, index, changed);
}

HelperService::Outcome HelperService::checkOneByScan(const QList<Forward> &base, int index,
                                                     const Forward &changed) const {
    // The set without the changed forward is valid (it is the current state, or was checked
    // at load), and every rule of validateForwards is about a pair of forwards. So only the
    // pairs with the changed one can fail, and of those only the forwards that share its name
    // or id or whose ports meet its ports. Checking that small set gives the same answer as
    // the whole set, in time that hardly grows with the number of forwards.
    const auto targetOf = [](const Forward &f) {
        return f.targetPort.isNull() ? f.externalPort : f.targetPort;
    };
    const PortRange ext = changed.externalPort;
    const PortRange tgt = targetOf(changed);
    QList<Forward> subset;
    for (int i = 0; i < base.size(); ++i) {
        if (i == index) {
            subset.append(changed);
            continue;
        }
        const Forward &f = base[i];
        const PortRange fTgt = targetOf(f);
        if (f.externalPort.overlaps(ext) || f.externalPort.overlaps(tgt) || fTgt.overlaps(ext) ||
            f.name == changed.name || (!changed.id.isEmpty() && f.id == changed.id))
            subset.append(f);
    }
    if (index < 0 || index >= base.size())
        subset.append(changed);
    return checkSet(subset);
}

int HelperService::indexOfId(const QString &id) const {
    for (int i = 0; i < m_state.forwards.size(); ++i) {
        if (m_state.forwards[i].id == id)
            return i;
    }
    return -1;
}

HelperService::Outcome HelperService::prepareAddForward(Call &call) {
    call.map = qdbus_cast<QVariantMap>(call.message.arguments().at(0));
    if (Outcome o = parseNewForward(call.map, &call.forward); !o.ok())
        return o;
    if (Outcome o = checkOne(m_state.forwards, -1, call.forward); !o.ok())
        return o;
    call.details.insert(QStringLiteral("forward"), call.forward.name);
    return Outcome::success();
}

HelperService::Outcome HelperService::mergeUpdate(Call &call, Forward *out) const {
    const int index = indexOfId(call.id);
    if (index < 0)
        return Outcome::fail(errors::NotFound,
                             QStringLiteral("no forward has the id '%1'").arg(call.id));
    Forward f = m_state.forwards.at(index);
    if (ValidationError e = forwardFromVariantMap(call.map, &f); !e.ok())
        return Outcome::fail(errors::InvalidArgs, e.message);
    if (f.id != call.id)
        return Outcome::fail(errors::InvalidArgs,
                             QStringLiteral("the key 'id' is '%1' but the forward being updated "
                                            "is '%2'; an id cannot be changed")
                                 .arg(f.id, call.id));
    if (ValidationError e = validateForward(f); !e.ok())
        return Outcome::fail(errors::InvalidArgs, e.message);
    *out = f;
    return Outcome::success();
}

HelperService::Outcome HelperService::prepareUpdateForward(Call &call) {
    const QVariantList args = call.message.arguments();
    call.id = args.at(0).toString();
    call.map = qdbus_cast<QVariantMap>(args.at(1));
    Forward updated;
    if (Outcome o = mergeUpdate(call, &updated); !o.ok())
        return o;
    const int index = indexOfId(call.id);
    call.details.insert(QStringLiteral("forward"), m_state.forwards.at(index).name);
    call.details.insert(QStringLiteral("id"), call.id);
    return checkOne(m_state.forwards, index, updated);
}

HelperService::Outcome HelperService::prepareRemoveForward(Call &call) {
    call.id = call.message.arguments().at(0).toString();
    const int index = indexOfId(call.id);
    if (index < 0)
        return Outcome::fail(errors::NotFound,
                             QStringLiteral("no forward has the id '%1'").arg(call.id));
    call.details.insert(QStringLiteral("forward"), m_state.forwards.at(index).name);
    call.details.insert(QStringLiteral("id"), call.id);
    return Outcome::success();
}

HelperService::Outcome HelperService::staleCheck(const Call &call) const {
    if (call.generation == m_state.generation)
        return Outcome::success();
    return Outcome::fail(errors::StaleGeneration,
                         QStringLiteral("the forwards have changed since they were read: the "
                                        "replacement is based on generation %1, but the current "
                                        "generation is %2; read them again and retry")
                             .arg(call.generation)
                             .arg(m_state.generation));
}

quint32 HelperService::allocateMark(quint32 *nextMark, const QList<Forward> &forwards) const {
    if (*nextMark <= maxMark)
        return (*nextMark)++;
    // The counter ran out: only now may a number of a removed forward come back.
    QSet<quint32> used;
    for (const Forward &f : m_state.forwards)
        used.insert(f.mark());
    for (const Forward &f : forwards)
        used.insert(f.mark());
    for (quint32 m = 1; m <= maxMark; ++m) {
        if (!used.contains(m))
            return m;
    }
    return 0;
}

HelperService::Outcome HelperService::buildReplacement(const Call &call, QList<Forward> *out,
                                                       quint32 *nextMark) const {
    QSet<QString> existing;
    for (const Forward &f : m_state.forwards)
        existing.insert(f.id);
    QList<Forward> result;
    // Room to grow: this list becomes the state, and without spare capacity the first
    // AddForward after a large replace would move every forward into a new block (about 20 ms
    // at 100,000 forwards).
    result.reserve(call.forwards.size() + call.forwards.size() / 2 + 16);
    for (Forward f : call.forwards) {
        if (f.id.isEmpty() || !existing.contains(f.id)) {
            const quint32 mark = allocateMark(nextMark, result);
            if (mark == 0)
                return Outcome::fail(errors::State,
                                     QStringLiteral("all forward numbers are in use"));
            f.id = Forward::idForMark(mark);
        }
        result.append(f);
    }
    *out = result;
    return Outcome::success();
}

HelperService::Outcome HelperService::prepareReplaceForwards(Call &call) {
    QElapsedTimer timer;
    timer.start();
    qint64 last = 0;
    const QVariantList args = call.message.arguments();
    const double argsMs = msSince(timer, &last);
    call.generation = args.at(1).toULongLong();
    call.forwards.clear();
    // Each forward read straight from the message, without a QVariantMap per forward (building
    // and freeing those was most of the time of a big call). A caller in this process may have
    // put a QList<QVariantMap> in the message; that takes the general way.
    int i = 0;
    auto parsed = [&](const ValidationError &e, Forward &f) {
        if (!e.ok())
            return Outcome::fail(errors::InvalidArgs,
                                 QStringLiteral("forward %1: %2").arg(i + 1).arg(e.message));
        if (ValidationError v = validateForward(f); !v.ok())
            return Outcome::fail(errors::InvalidArgs, v.message);
        call.forwards.append(std::move(f));
        return Outcome::success();
    };
    if (args.at(0).metaType() == QMetaType::fromType<QDBusArgument>()) {
        const QDBusArgument arg = qvariant_cast<QDBusArgument>(args.at(0));
        arg.beginArray();
        for (; !arg.atEnd(); ++i) {
            Forward f;
            const ValidationError e = forwardFromBusArgument(arg, &f);
            if (Outcome o = parsed(e, f); !o.ok())
                return o;
        }
        arg.endArray();
    } else {
        const QList<QVariantMap> maps = qdbus_cast<QList<QVariantMap>>(args.at(0));
        call.forwards.reserve(maps.size());
        for (; i < maps.size(); ++i) {
            Forward f;
            const ValidationError e = forwardFromVariantMap(maps[i], &f);
            if (Outcome o = parsed(e, f); !o.ok())
                return o;
        }
    }
    qCDebug(lcTiming, "ReplaceForwards: arguments %.2f ms, read and parse %.2f ms", argsMs,
            msSince(timer, &last));
    return prepareReplacement(call);
}

HelperService::Outcome HelperService::prepareImportForwards(Call &call) {
    QElapsedTimer timer;
    timer.start();
    qint64 last = 0;
    const QVariantList args = call.message.arguments();
    const QDBusUnixFileDescriptor file = qvariant_cast<QDBusUnixFileDescriptor>(args.at(0));
    call.generation = args.at(1).toULongLong();
    QByteArray text;
    if (QString e = sealed::read(file.fileDescriptor(), &text); !e.isEmpty())
        return Outcome::fail(errors::InvalidArgs, e);
    const double readMs = msSince(timer, &last);
    call.forwards.clear();
    if (ValidationError e = forwardsFromDocument(text, &call.forwards); !e.ok())
        return Outcome::fail(errors::InvalidArgs,
                             QStringLiteral("the forwards file: %1").arg(e.message));
    text = QByteArray(); // the parsed forwards hold all of it now
    for (const Forward &f : std::as_const(call.forwards))
        if (ValidationError v = validateForward(f); !v.ok())
            return Outcome::fail(errors::InvalidArgs, v.message);
    qCDebug(lcTiming, "ImportForwards: read %.2f ms, parse %.2f ms", readMs, msSince(timer, &last));
    return prepareReplacement(call);
}

HelperService::Outcome HelperService::prepareReplacement(Call &call) {
    QElapsedTimer timer;
    timer.start();
    qint64 last = 0;
    if (Outcome o = staleCheck(call); !o.ok())
        return o;
    QList<Forward> next;
    quint32 nextMark = m_state.nextMark;
    if (Outcome o = buildReplacement(call, &next, &nextMark); !o.ok())
        return o;
    const double buildMs = msSince(timer, &last);
    if (Outcome o = checkSet(next); !o.ok())
        return o;
    call.prepared = std::move(next);
    call.preparedNextMark = nextMark;
    qCDebug(lcTiming, "%s: prepared: ids %.2f ms, check %.2f ms", qPrintable(call.method->name),
            buildMs, msSince(timer, &last));
    call.details.insert(QStringLiteral("forwards"), QString::number(call.prepared.size()));
    return Outcome::success();
}

HelperService::Outcome HelperService::prepareSetIpForwarding(Call &call) {
    const QVariantList args = call.message.arguments();
    call.ipForwarding = IpForwarding{args.at(0).toBool(), args.at(1).toBool()};
    call.details.insert(QStringLiteral("ipv4"), onOff(call.ipForwarding.v4));
    call.details.insert(QStringLiteral("ipv6"), onOff(call.ipForwarding.v6));
    return Outcome::success();
}

// --- acting: after authorization, against the state as it is now ---

HelperService::Outcome HelperService::actListForwards(Call &) {
    return Outcome::success(
        {QVariant::fromValue(BusForwardList{m_state.forwards, BusKeys::All, {}}),
         QVariant::fromValue<qulonglong>(m_state.generation)});
}

HelperService::Outcome HelperService::actExportForwards(Call &) {
    QString error;
    const int fd =
        sealed::create("portico-forwards", forwardsDocumentText(m_state.forwards), &error);
    if (fd < 0)
        return Outcome::fail(errors::State, error);
    QDBusUnixFileDescriptor file;
    file.giveFileDescriptor(fd); // the reply holds it until it is sent
    return Outcome::success(
        {QVariant::fromValue(file), QVariant::fromValue<qulonglong>(m_state.generation)});
}

HelperService::Outcome HelperService::actAddForward(Call &call) {
    Edit edit;
    edit.kind = Edit::Append;
    edit.forward = call.forward;
    edit.nextMark = m_state.nextMark;
    const quint32 mark = allocateMark(&edit.nextMark, {});
    if (mark == 0)
        return Outcome::fail(errors::State, QStringLiteral("all forward numbers are in use"));
    edit.forward.id = Forward::idForMark(mark);
    const Forward added = edit.forward;
    QStringList notices;
    Outcome o = commit(edit, &notices);
    if (!o.ok())
        return o;
    qInfo("AddForward from %s: added forward '%s' (%s)", qPrintable(call.message.service()),
          qPrintable(added.name), qPrintable(added.id));
    return Outcome::success({added.id, notices});
}

HelperService::Outcome HelperService::actUpdateForward(Call &call) {
    Edit edit;
    edit.kind = Edit::Change;
    if (Outcome o = mergeUpdate(call, &edit.forward); !o.ok())
        return o;
    edit.index = indexOfId(call.id);
    // Nothing to change: rewriting the table would only reset every counter.
    if (edit.forward == m_state.forwards.at(edit.index))
        return Outcome::success({QStringList()});
    edit.nextMark = m_state.nextMark;
    const QString name = edit.forward.name;
    QStringList notices;
    Outcome o = commit(edit, &notices);
    if (!o.ok())
        return o;
    qInfo("UpdateForward from %s: updated forward '%s' (%s)", qPrintable(call.message.service()),
          qPrintable(name), qPrintable(call.id));
    return Outcome::success({notices});
}

HelperService::Outcome HelperService::actRemoveForward(Call &call) {
    Edit edit;
    edit.kind = Edit::Remove;
    edit.index = indexOfId(call.id);
    if (edit.index < 0)
        return Outcome::fail(errors::NotFound,
                             QStringLiteral("no forward has the id '%1'").arg(call.id));
    edit.nextMark = m_state.nextMark;
    const QString name = m_state.forwards.at(edit.index).name;
    Outcome o = commit(edit, nullptr);
    if (!o.ok())
        return o;
    qInfo("RemoveForward from %s: removed forward '%s' (%s)", qPrintable(call.message.service()),
          qPrintable(name), qPrintable(call.id));
    return Outcome::success();
}

HelperService::Outcome HelperService::actReplaceForwards(Call &call) {
    if (Outcome o = staleCheck(call); !o.ok())
        return o;
    Edit edit;
    edit.kind = Edit::ReplaceAll;
    // The generation is the one prepare saw, and every change of the forwards moves it on: so
    // the state is as it was then, and the replacement prepare built from it is the same.
    edit.all = std::move(call.prepared);
    edit.nextMark = call.preparedNextMark;
    edit.checked = true;
    QStringList notices;
    Outcome o = commit(edit, &notices);
    if (!o.ok())
        return o;
    qInfo("%s from %s: now %lld forwards, generation %llu", qPrintable(call.method->name),
          qPrintable(call.message.service()), qlonglong(m_state.forwards.size()),
          m_state.generation);
    return Outcome::success({QVariant::fromValue<qulonglong>(m_state.generation), notices});
}

HelperService::Outcome HelperService::actGetIpForwarding(Call &) {
    IpForwarding current;
    if (QString error = m_sysctl.read(&current); !error.isEmpty())
        return Outcome::fail(errors::Sysctl, error);
    return Outcome::success({current.v4, current.v6});
}

HelperService::Outcome HelperService::actSetIpForwarding(Call &call) {
    IpForwarding before;
    if (QString error = m_sysctl.read(&before); !error.isEmpty())
        return Outcome::fail(errors::Sysctl, error);
    if (QString error = m_sysctl.write(call.ipForwarding); !error.isEmpty()) {
        m_sysctl.write(before);
        return Outcome::fail(errors::Sysctl, error);
    }
    SavedState next = m_state;
    next.ipForwarding = call.ipForwarding;
    const StateDelta nothing;
    if (QString error = m_store.save(next, &nothing); !error.isEmpty()) {
        m_sysctl.write(before);
        return Outcome::fail(errors::State,
                             QStringLiteral("IP forwarding was left as it was because the state "
                                            "could not be saved: %1")
                                 .arg(error));
    }
    m_state = next;
    qInfo("SetIpForwarding from %s: IPv4 forwarding %s, IPv6 forwarding %s",
          qPrintable(call.message.service()), qPrintable(onOff(call.ipForwarding.v4)),
          qPrintable(onOff(call.ipForwarding.v6)));
    return Outcome::success();
}

HelperService::Outcome HelperService::actGetCounters(Call &) {
    QString error;
    const QHash<QString, Counter> counters = m_writer->counters(&error);
    if (!error.isEmpty())
        return Outcome::fail(errors::Kernel, error);
    CounterMap map;
    for (auto it = counters.cbegin(); it != counters.cend(); ++it)
        map.insert(it.key(), CounterPair{it->packets, it->bytes});
    return Outcome::success({QVariant::fromValue(map)});
}

HelperService::Outcome HelperService::actRuleset(Call &) {
    return Outcome::success({renderRuleset(m_state.forwards)});
}

// --- issue 4: conntrack ---

HelperService::Outcome HelperService::prepareWatchConnections(Call &call) {
    const QVariantList args = call.message.arguments();
    call.pipe = qvariant_cast<QDBusUnixFileDescriptor>(args.at(0));
    if (QString e = ConntrackMonitor::checkPipe(call.pipe.fileDescriptor()); !e.isEmpty())
        return Outcome::fail(errors::InvalidArgs, e);
    if (QString e =
            conntrack::parseFilter(qdbus_cast<QVariantMap>(args.at(1)), false, &call.ctFilter);
        !e.isEmpty())
        return Outcome::fail(errors::InvalidArgs, e);
    return Outcome::success();
}

HelperService::Outcome HelperService::actWatchConnections(Call &call) {
    if (QString e =
            m_conntrack->watch(call.pipe.fileDescriptor(), call.message.service(), call.ctFilter);
        !e.isEmpty())
        return Outcome::fail(errors::Kernel, e);
    return Outcome::success();
}

HelperService::Outcome HelperService::prepareKillConnections(Call &call) {
    if (QString e = conntrack::parseFilter(qdbus_cast<QVariantMap>(call.message.arguments().at(0)),
                                           true, &call.ctFilter);
        !e.isEmpty())
        return Outcome::fail(errors::InvalidArgs, e);
    if (call.ctFilter.isEmpty())
        return Outcome::fail(errors::InvalidArgs,
                             QStringLiteral("KillConnections needs a filter: an empty one would "
                                            "kill every connection"));
    if (!call.ctFilter.ids.isEmpty())
        call.details.insert(QStringLiteral("connections"),
                            QString::number(call.ctFilter.ids.size()));
    if (!call.ctFilter.forwardId.isEmpty())
        call.details.insert(QStringLiteral("forward"), call.ctFilter.forwardId);
    return Outcome::success();
}

HelperService::Outcome HelperService::actKillConnections(Call &call) {
    // The reply comes when the kill's thread is done; the event loop serves on meanwhile.
    auto later = std::make_shared<Call>();
    later->message = call.message;
    later->connection = call.connection;
    later->method = call.method;
    m_conntrack->kill(call.ctFilter, [this, later](const QString &error, quint32 killed) {
        if (!error.isEmpty()) {
            reply(*later, Outcome::fail(errors::Kernel, error));
            return;
        }
        qInfo("KillConnections from %s: %u connections killed",
              qPrintable(later->message.service()), killed);
        reply(*later, Outcome::success({QVariant::fromValue(killed)}));
    });
    return Outcome::deferred();
}

HelperService::Outcome HelperService::actGetConntrackAccounting(Call &) {
    bool on = false;
    if (QString e = m_conntrack->accounting(&on); !e.isEmpty())
        return Outcome::fail(errors::Sysctl, e);
    return Outcome::success({on});
}

HelperService::Outcome HelperService::prepareSetConntrackAccounting(Call &call) {
    call.on = call.message.arguments().at(0).toBool();
    call.details.insert(QStringLiteral("accounting"), onOff(call.on));
    return Outcome::success();
}

HelperService::Outcome HelperService::actSetConntrackAccounting(Call &call) {
    if (QString e = m_conntrack->setAccounting(call.on); !e.isEmpty())
        return Outcome::fail(errors::Sysctl, e);
    qInfo("SetConntrackAccounting from %s: per-connection counters %s",
          qPrintable(call.message.service()), qPrintable(onOff(call.on)));
    return Outcome::success();
}

// --- issue 5: Diagnose ---

HelperService::Outcome HelperService::prepareDiagnose(Call &call) {
    call.id = call.message.arguments().at(0).toString();
    if (call.id.isEmpty())
        return Outcome::fail(errors::InvalidArgs,
                             QStringLiteral("Diagnose needs the id of a forward, not an empty "
                                            "string"));
    const int index = indexOfId(call.id);
    if (index < 0)
        return Outcome::fail(errors::NotFound,
                             QStringLiteral("no forward has the id '%1'").arg(call.id.left(64)));
    call.details.insert(QStringLiteral("forward"), m_state.forwards.at(index).name);
    call.details.insert(QStringLiteral("id"), call.id);
    return Outcome::success();
}

HelperService::Outcome HelperService::actDiagnose(Call &call) {
    // The forward may have gone while polkit was asked.
    const int index = indexOfId(call.id);
    if (index < 0)
        return Outcome::fail(errors::NotFound,
                             QStringLiteral("no forward has the id '%1'").arg(call.id));
    const QList<Finding> findings = Diagnosis().run(m_state.forwards.at(index));
    QList<QVariantMap> list;
    list.reserve(findings.size());
    for (const Finding &f : findings)
        list.append(f.toVariantMap());
    return Outcome::success({QVariant::fromValue(list)});
}

// --- the one way a change is made ---

QStringList HelperService::enableForwarding(const QList<Forward> &forwards,
                                            const QStringList &touchedIds,
                                            std::optional<IpForwarding> *chosen,
                                            IpForwarding *before, bool *changed) {
    // The forward to name in the notice: one this call touched if it needs the family, else the
    // first that does.
    const Forward *needs[2] = {nullptr, nullptr};
    const auto consider = [&needs](const Forward &f) {
        if (!f.enabled || f.targetAddress.isNull())
            return;
        const int family = f.targetAddress.protocol() == QHostAddress::IPv6Protocol ? 1 : 0;
        if (!needs[family])
            needs[family] = &f;
    };
    // Ids are unique, so one touched id is one forward: found from the end, where an added one
    // is, instead of comparing every id of a large set.
    if (touchedIds.size() == 1) {
        for (qsizetype i = forwards.size() - 1; i >= 0; --i) {
            if (forwards[i].id == touchedIds.constFirst()) {
                consider(forwards[i]);
                break;
            }
        }
    } else if (!touchedIds.isEmpty()) {
        for (const Forward &f : forwards) {
            if (touchedIds.contains(f.id))
                consider(f);
        }
    }
    // m_claims counts, per family, the forwards of the edited set that need it; a scan for
    // one to name happens only when none touched does, and stops at the first.
    for (int family = 0; family < 2; ++family) {
        if (needs[family] || m_claims.remoteTargets(family) == 0)
            continue;
        for (const Forward &f : forwards) {
            consider(f);
            if (needs[family])
                break;
        }
    }
    if (!needs[0] && !needs[1])
        return {};

    QStringList notices;
    if (QString error = m_sysctl.read(before); !error.isEmpty()) {
        notices << QStringLiteral("Portico could not check whether IP forwarding is on (%1); "
                                  "forwards to other hosts need it.")
                       .arg(error);
        return notices;
    }
    IpForwarding want = *before;
    if (needs[0])
        want.v4 = true;
    if (needs[1])
        want.v6 = true;
    if (want == *before)
        return {};
    const QString error = m_sysctl.write(want);
    for (int family = 0; family < 2; ++family) {
        const bool wasOff = family == 0 ? !before->v4 : !before->v6;
        if (!needs[family] || !wasOff)
            continue;
        const QString label = family == 0 ? QStringLiteral("IPv4") : QStringLiteral("IPv6");
        const QString target = needs[family]->targetAddress.toString();
        if (error.isEmpty())
            notices << QStringLiteral("%1 forwarding was off; Portico turned it on so that forward "
                                      "'%2' can reach %3.")
                           .arg(label, needs[family]->name, target);
        else
            notices << QStringLiteral("%1 forwarding is off and Portico could not turn it on (%2); "
                                      "forward '%3' cannot reach %4 until it is on.")
                           .arg(label, error, needs[family]->name, target);
    }
    if (error.isEmpty()) {
        *changed = true;
        *chosen = want;
    } else {
        m_sysctl.write(*before); // a half-written pair is no one's choice
    }
    return notices;
}

void HelperService::indexEdit(const Edit &edit, bool apply) {
    // Called with m_state.forwards holding the edit: after a Change, edit.forward is the old
    // forward; after a ReplaceAll, edit.all is the old set.
    const QList<Forward> &forwards = m_state.forwards;
    switch (edit.kind) {
    case Edit::Append:
        apply ? m_claims.insert(forwards.constLast()) : m_claims.erase(forwards.constLast());
        break;
    case Edit::Change:
        m_claims.erase(apply ? edit.forward : forwards.at(edit.index));
        m_claims.insert(apply ? forwards.at(edit.index) : edit.forward);
        break;
    case Edit::Remove:
        apply ? m_claims.erase(edit.forward) : m_claims.insert(edit.forward);
        break;
    case Edit::ReplaceAll:
        m_claims.rebuild(apply ? forwards : edit.all);
        break;
    }
}

void HelperService::undo(Edit &edit) {
    switch (edit.kind) {
    case Edit::Append:
        m_state.forwards.removeLast();
        break;
    case Edit::Change:
        std::swap(m_state.forwards[edit.index], edit.forward);
        break;
    case Edit::Remove:
        m_state.forwards.insert(edit.index, edit.forward);
        break;
    case Edit::ReplaceAll:
        m_state.forwards.swap(edit.all);
        break;
    }
}

HelperService::Outcome HelperService::commit(Edit &edit, QStringList *notices) {
    QElapsedTimer timer;
    timer.start();
    qint64 last = 0;
    QList<Forward> &forwards = m_state.forwards;

    // Validate. A removal cannot create a clash.
    Outcome checked = Outcome::success();
    if (edit.kind == Edit::Append)
        checked = checkOne(forwards, -1, edit.forward);
    else if (edit.kind == Edit::Change)
        checked = checkOne(forwards, edit.index, edit.forward);
    else if (edit.kind == Edit::ReplaceAll && !edit.checked)
        checked = checkSet(edit.all);
    if (!checked.ok())
        return checked;
    const double validateMs = msSince(timer, &last);

    // The kernel, in one batch that changes only what differs, so every forward that stays
    // keeps its counters. The edit is made in place on m_state (and undone on failure), so a
    // change of one forward does not copy all of them.
    StateDelta delta;
    ApplyError refused;
    switch (edit.kind) {
    case Edit::Append:
        delta.upserted = {edit.forward};
        // When the small batch is refused, the writer tries the whole table (keeping the
        // counters); its refusal is the one reported.
        refused = m_writer->add(forwards, edit.forward);
        forwards.append(edit.forward);
        break;
    case Edit::Change:
        delta.upserted = {edit.forward};
        refused = m_writer->change(forwards, edit.index, edit.forward);
        std::swap(forwards[edit.index], edit.forward);
        break;
    case Edit::Remove:
        delta.removed = {forwards.at(edit.index).id};
        refused = m_writer->remove(forwards, edit.index);
        edit.forward = forwards.takeAt(edit.index);
        break;
    case Edit::ReplaceAll:
        // The new forwards.json is written and synced while the kernel takes the batch; the
        // save below only renames it into place (unless forwarding changes what it holds).
        m_store.beginSave({m_state.generation + 1, edit.nextMark, m_state.ipForwarding, edit.all});
        refused = m_writer->update(forwards, edit.all);
        forwards.swap(edit.all);
        break;
    }
    if (!refused.ok()) {
        m_store.cancelSave();
        undo(edit);
        return Outcome::fail(errors::Kernel, refused.message);
    }
    const double kernelMs = msSince(timer, &last);
    indexEdit(edit, true);

    const std::optional<IpForwarding> chosenBefore = m_state.ipForwarding;
    IpForwarding before;
    bool changed = false;
    const QStringList touched = edit.kind == Edit::Append || edit.kind == Edit::Change
                                    ? QStringList{delta.upserted.constFirst().id}
                                    : QStringList{};
    const QStringList forwardingNotices =
        enableForwarding(forwards, touched, &m_state.ipForwarding, &before, &changed);

    const quint64 generationBefore = m_state.generation;
    const quint32 nextMarkBefore = m_state.nextMark;
    m_state.generation += 1;
    m_state.nextMark = edit.nextMark;
    if (QString error = m_store.save(m_state, edit.kind == Edit::ReplaceAll ? nullptr : &delta);
        !error.isEmpty()) {
        m_state.generation = generationBefore;
        m_state.nextMark = nextMarkBefore;
        m_state.ipForwarding = chosenBefore;
        // The kernel back the same incremental way (the forwards still hold the edit), so the
        // counters survive this too.
        ApplyError back;
        switch (edit.kind) {
        case Edit::Append:
            back = m_writer->remove(forwards, forwards.size() - 1);
            break;
        case Edit::Change:
            back = m_writer->change(forwards, edit.index, edit.forward);
            break;
        case Edit::Remove:
            back = m_writer->insert(forwards, edit.index, edit.forward);
            break;
        case Edit::ReplaceAll:
            back = m_writer->update(forwards, edit.all);
            break;
        }
        indexEdit(edit, false);
        undo(edit);
        QString text =
            QStringLiteral("nothing was changed because the state could not be saved: %1")
                .arg(error);
        if (!back.ok())
            text += QStringLiteral("; putting the previous ruleset back failed too: %1")
                        .arg(back.message);
        if (changed)
            m_sysctl.write(before);
        // issue 5: putting the ruleset back may have written our table whole.
        for (PacketTrace *t : std::as_const(m_traces))
            t->tableRewritten();
        qWarning("%s", qPrintable(text));
        return Outcome::fail(errors::State, text);
    }
    const double saveMs = msSince(timer, &last);
    m_commitTiming = QStringLiteral(" (validate %1 ms, kernel %2 ms, save %3 ms)")
                         .arg(validateMs, 0, 'f', 2)
                         .arg(kernelMs, 0, 'f', 2)
                         .arg(saveMs, 0, 'f', 2);
    for (const QString &n : forwardingNotices)
        qInfo("%s", qPrintable(n));

    if (notices) {
        if (!m_pendingReport.isEmpty())
            notices->append(m_pendingReport);
        m_pendingReport.clear();
        notices->append(forwardingNotices);
    }
    m_conntrack->forwardsChanged();
    // issue 5: a change that wrote our table whole took the trace chains with it.
    for (PacketTrace *t : std::as_const(m_traces))
        t->tableRewritten();
    QDBusMessage signal =
        QDBusMessage::createSignal(objectPath, interfaceName, QStringLiteral("ForwardsChanged"));
    signal << QVariant::fromValue<qulonglong>(m_state.generation);
    m_bus.send(signal);
    return Outcome::success();
}

// --- issue 5: the ruleset summary and the packet trace ---

HelperService::Outcome HelperService::actRulesetSummary(Call &) {
    RulesetSnapshot snapshot;
    if (QString error = m_reader->read(&snapshot); !error.isEmpty())
        return Outcome::fail(errors::Kernel, error);
    return Outcome::success({QVariant::fromValue<qulonglong>(snapshot.generation),
                             QVariant::fromValue(snapshot.summary())});
}

HelperService::Outcome HelperService::prepareStartTrace(Call &call) {
    const QVariantList args = call.message.arguments();
    call.id = args.at(0).toString();
    const uint seconds = args.at(1).toUInt();
    call.pipe = qvariant_cast<QDBusUnixFileDescriptor>(args.at(2));
    const int index = indexOfId(call.id);
    if (index < 0)
        return Outcome::fail(errors::NotFound,
                             QStringLiteral("no forward has the id '%1'").arg(call.id));
    const Forward &f = m_state.forwards.at(index);
    if (!f.enabled)
        return Outcome::fail(errors::InvalidArgs,
                             QStringLiteral("forward '%1' is disabled, so it is not in the kernel "
                                            "and none of its packets can be traced; enable it "
                                            "first")
                                 .arg(f.name));
    if (seconds > uint(PacketTrace::maxSeconds))
        return Outcome::fail(errors::InvalidArgs,
                             QStringLiteral("a trace lasts 1 to %1 seconds (0 for %2), not %3")
                                 .arg(PacketTrace::maxSeconds)
                                 .arg(PacketTrace::defaultSeconds)
                                 .arg(seconds));
    call.seconds = seconds == 0 ? PacketTrace::defaultSeconds : int(seconds);
    // The write end of a pipe (or a socket): anything else is no place for the trace to go.
    struct stat st {};
    const int fd = call.pipe.isValid() ? call.pipe.fileDescriptor() : -1;
    const int mode = fd >= 0 ? fcntl(fd, F_GETFL) : -1;
    if (fd < 0 || fstat(fd, &st) != 0 || !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) ||
        mode < 0 || (mode & O_ACCMODE) == O_RDONLY)
        return Outcome::fail(errors::InvalidArgs,
                             QStringLiteral("the trace needs the write end of a pipe"));
    call.details.insert(QStringLiteral("forward"), f.name);
    call.details.insert(QStringLiteral("id"), f.id);
    return Outcome::success();
}

HelperService::Outcome HelperService::actStartTrace(Call &call) {
    // The forward may have gone or been disabled while polkit was asked.
    const int index = indexOfId(call.id);
    if (index < 0)
        return Outcome::fail(errors::NotFound,
                             QStringLiteral("no forward has the id '%1'").arg(call.id));
    const Forward f = m_state.forwards.at(index);
    if (!f.enabled)
        return Outcome::fail(
            errors::InvalidArgs,
            QStringLiteral("forward '%1' is disabled; enable it first").arg(f.name));
    const QString owner = call.message.service();
    // One trace per client: a new one ends the one it had.
    // (stop() takes the trace out of m_traces, so not while iterating over it)
    const QList<PacketTrace *> running = m_traces.values();
    for (PacketTrace *t : running) {
        if (t->owner() == owner)
            t->stop(QStringLiteral("stopped"),
                    QStringLiteral("the same client started another trace"));
    }
    // Each trace is a listener and two chains; a few are plenty for the few people who watch.
    if (m_traces.size() >= PacketTrace::maxTraces)
        return Outcome::fail("org.freedesktop.DBus.Error.LimitsExceeded",
                             QStringLiteral("%1 traces are running already; wait until one ends")
                                 .arg(PacketTrace::maxTraces));
    const int fd = fcntl(call.pipe.fileDescriptor(), F_DUPFD_CLOEXEC, 3);
    if (fd < 0)
        return Outcome::fail(errors::InvalidArgs,
                             QStringLiteral("cannot take over the pipe: %1")
                                 .arg(QString::fromLocal8Bit(strerror(errno))));
    const quint64 id = m_nextTraceId++;
    auto *trace = new PacketTrace(m_writer, id, owner, fd, f, call.seconds, this);
    if (const QString error = trace->start(); !error.isEmpty()) {
        delete trace; // closes the pipe; nothing was added
        return Outcome::fail(errors::Kernel,
                             QStringLiteral("cannot trace forward '%1': %2").arg(f.name, error));
    }
    m_traces.insert(id, trace);
    m_traceOwners->addWatchedService(owner);
    connect(trace, &PacketTrace::finished, this, &HelperService::traceFinished);
    m_idle->hold(); // a running trace keeps the helper from exiting idle
    qInfo("StartTrace from %s: trace %llu of forward '%s' (%s)", qPrintable(owner), id,
          qPrintable(f.name), qPrintable(f.id));
    return Outcome::success({QVariant::fromValue<qulonglong>(id)});
}

HelperService::Outcome HelperService::prepareStopTrace(Call &call) {
    call.traceId = call.message.arguments().at(0).toULongLong();
    const PacketTrace *t = m_traces.value(call.traceId);
    // Someone else's trace is as good as none: ids are easy to guess.
    if (!t || t->owner() != call.message.service())
        return Outcome::fail(
            errors::NotFound,
            QStringLiteral("no trace %1 of this client is running").arg(call.traceId));
    return Outcome::success();
}

HelperService::Outcome HelperService::actStopTrace(Call &call) {
    PacketTrace *t = m_traces.value(call.traceId);
    if (!t || t->owner() != call.message.service())
        return Outcome::fail(errors::NotFound,
                             QStringLiteral("no trace %1 of this client is running (it may have "
                                            "ended meanwhile)")
                                 .arg(call.traceId));
    t->stop(QStringLiteral("stopped"), QStringLiteral("stopped by the client"));
    return Outcome::success();
}

void HelperService::traceFinished(quint64 id) {
    PacketTrace *t = m_traces.take(id);
    if (!t)
        return;
    const QString owner = t->owner();
    t->deleteLater();
    m_idle->release();
    for (const PacketTrace *other : std::as_const(m_traces)) {
        if (other->owner() == owner)
            return;
    }
    m_traceOwners->removeWatchedService(owner);
}

void HelperService::callerLeft(const QString &name) {
    const QList<PacketTrace *> traces = m_traces.values();
    for (PacketTrace *t : traces) {
        if (t->owner() == name)
            t->stop(QStringLiteral("stopped"), QStringLiteral("the client left the bus"));
    }
}

} // namespace portico
