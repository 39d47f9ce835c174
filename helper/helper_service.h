// SPDX-License-Identifier: GPL-3.0-or-later
// The io.github.portico.Helper1 object: one table of methods, one path for every call
// (parse and validate, authorize with polkit, act, reply), and the state it acts on.
#pragma once

#include "claim_index.h"
#include "forward.h"
#include "ip_forwarding.h"
#include "state_store.h"

#include <QDBusConnection>
#include <QDBusMessage>
#include <QDBusServiceWatcher>
#include <QDBusVirtualObject>
#include <QHash>
#include <QMap>
#include <QStringList>
#include <QVariantList>

#include <memory>
#include <optional>

namespace portico {

class ConntrackMonitor;
class IdleGuard;
class PacketTrace;
class PolkitAuthority;
class RulesetReader;
class RulesetWriter;

class HelperService : public QDBusVirtualObject {
    Q_OBJECT
public:
    static const QString serviceName;
    static const QString objectPath;
    static const QString interfaceName;

    HelperService(const QDBusConnection &bus, StateStore &&store, RulesetWriter *writer,
                  const IpForwardingSysctl &sysctl, IdleGuard *idle, QObject *parent = nullptr);
    ~HelperService() override;

    // Reads the interface XML and checks that the method table covers it exactly. The report of
    // a state file set aside at load goes into the notices of the next successful change.
    bool init(const SavedState &state, const QString &loadReport, QString *error);

    QString introspect(const QString &path) const override;
    bool handleMessage(const QDBusMessage &message, const QDBusConnection &connection) override;

private:
    struct Call;
    struct Method;
    struct Outcome;

    using Step = Outcome (HelperService::*)(Call &);

    static const QList<Method> &methodTable();
    void authorized(const std::shared_ptr<Call> &call);
    void reply(const Call &call, const Outcome &outcome);

    // Per method: prepare (parse + validate against the current state, fill polkit details)
    // and act (run after authorization, against the state as it is then).
    Outcome prepareNone(Call &call);
    Outcome actListForwards(Call &call);
    Outcome prepareAddForward(Call &call);
    Outcome actAddForward(Call &call);
    Outcome prepareUpdateForward(Call &call);
    Outcome actUpdateForward(Call &call);
    Outcome prepareRemoveForward(Call &call);
    Outcome actRemoveForward(Call &call);
    Outcome prepareReplaceForwards(Call &call);
    Outcome actReplaceForwards(Call &call);
    Outcome prepareImportForwards(Call &call); // acts as ReplaceForwards
    Outcome actExportForwards(Call &call);
    // ReplaceForwards and ImportForwards, once the forwards are read: the stale check, the ids
    // and the whole set's check, against the state as it is now.
    Outcome prepareReplacement(Call &call);
    Outcome actGetIpForwarding(Call &call);
    Outcome prepareSetIpForwarding(Call &call);
    Outcome actSetIpForwarding(Call &call);
    Outcome actGetCounters(Call &call);
    Outcome actRuleset(Call &call);
    // Issue 4: conntrack.
    Outcome prepareWatchConnections(Call &call);
    Outcome actWatchConnections(Call &call);
    Outcome prepareKillConnections(Call &call);
    Outcome actKillConnections(Call &call);
    Outcome actGetConntrackAccounting(Call &call);
    Outcome prepareSetConntrackAccounting(Call &call);
    Outcome actSetConntrackAccounting(Call &call);
    // issue 5: Diagnose
    Outcome prepareDiagnose(Call &call);
    Outcome actDiagnose(Call &call);
    // issue 5: the ruleset summary and the packet trace (helper/packet_trace.*)
    Outcome actRulesetSummary(Call &call);
    Outcome prepareStartTrace(Call &call);
    Outcome actStartTrace(Call &call);
    Outcome prepareStopTrace(Call &call);
    Outcome actStopTrace(Call &call);
    void traceFinished(quint64 id);
    void callerLeft(const QString &name);

    // Shared by the mutating methods.
    Outcome parseNewForward(const QVariantMap &map, Forward *out) const;
    Outcome mergeUpdate(Call &call, Forward *out) const;
    Outcome buildReplacement(const Call &call, QList<Forward> *out, quint32 *nextMark) const;
    Outcome checkSet(const QList<Forward> &forwards) const;
    // As checkSet(base with `changed` at index, or appended if index < 0), for the valid base
    // m_state.forwards: against the forwards m_claims names, and by a scan only when that
    // finds a clash (so the message names the forwards in list order, as checkSet would).
    Outcome checkOne(const QList<Forward> &base, int index, const Forward &changed) const;
    Outcome checkOneByScan(const QList<Forward> &base, int index, const Forward &changed) const;
    Outcome staleCheck(const Call &call) const;
    quint32 allocateMark(quint32 *nextMark, const QList<Forward> &forwards) const;
    // One change of the forwards. commit() makes it in place on m_state (validate, kernel,
    // ip_forward, save) and undoes it on any failure, so that changing one forward costs the
    // same however many there are.
    struct Edit {
        enum Kind { Append, Change, Remove, ReplaceAll } kind = Append;
        int index = -1;     // Change, Remove
        Forward forward;    // Append, Change: the new one; Change, Remove: then the old one
        QList<Forward> all; // ReplaceAll: the new set; after the edit, the old one
        quint32 nextMark = 0;
        bool checked = false; // ReplaceAll: `all` has passed checkSet against this state
    };
    Outcome commit(Edit &edit, QStringList *notices);
    void undo(Edit &edit);
    // Brings m_claims in step with an edit made to m_state.forwards, or back (apply false).
    void indexEdit(const Edit &edit, bool apply);
    QStringList enableForwarding(const QList<Forward> &forwards, const QStringList &touchedIds,
                                 std::optional<IpForwarding> *chosen, IpForwarding *before,
                                 bool *changed);
    int indexOfId(const QString &id) const;

    QDBusConnection m_bus;
    StateStore m_store;
    RulesetWriter *m_writer;
    IpForwardingSysctl m_sysctl;
    IdleGuard *m_idle;
    PolkitAuthority *m_polkit;
    ConntrackMonitor *m_conntrack;
    SavedState m_state;
    ClaimIndex m_claims; // of m_state.forwards, kept in step by init() and commit()
    QString m_pendingReport;
    QString m_interfaceXml;
    QString m_commitTiming; // of the last change, for the timing log
    // issue 5
    std::unique_ptr<RulesetReader> m_reader;
    QHash<quint64, PacketTrace *> m_traces;
    quint64 m_nextTraceId = 1;
    QDBusServiceWatcher *m_traceOwners = nullptr;
    QHash<QString, int> m_methodIndex;
    QHash<QString, QString> m_inSignature;
    QHash<QString, QString> m_outSignature;
};

} // namespace portico
