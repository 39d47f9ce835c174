// SPDX-License-Identifier: GPL-3.0-or-later
// The chain-flow diagram as plain data: the base chains of every table at each hook in priority
// order, their counters and rates from successive RulesetSummary replies, the highlighted path
// of one forward, and the packets of a trace with their steps. No widgets: tests read it.
#pragma once

#include "forward.h"
#include "helper_client.h"
#include "trace_reader.h"

#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QVariantMap>

namespace portico {

// One base chain, as RulesetSummary reports it (HelperClient's ChainSummary), with rates
// worked out here.
struct FlowChain : ChainSummary {
    // Per second, between the last two summaries; hasRate is false until there are two.
    double packetRate = 0;
    double byteRate = 0;
    bool hasRate = false;

    // "inet firewalld filter_FORWARD": how the diagnosis and the trace name a chain.
    QString key() const;
    bool policyDrops() const { return policy == QLatin1StringView("drop"); }
    bool mayDrop() const { return policyDrops() || dropRules > 0; }
    // Chains of the ip/ip6/inet families sit on the IP packet path the diagram draws.
    bool onIpPath() const;
};

// "family table chain" of the chain a trace step was in.
QString traceChainKey(const TraceStep &s);

struct TracePacket {
    int id = 0;
    QList<TraceStep> steps;
    // Where it ended: dropped (by dropChain) or accepted by the last chain it passed.
    bool dropped = false;
    QString dropChain; // chain key
    // The chain keys it went through, in order, without repeats.
    QStringList chainPath() const;
};

class FlowModel : public QObject {
    Q_OBJECT
public:
    // The hooks of the IP path, in the order a forwarded packet meets them, then the local ones.
    static const QStringList &hooks();

    explicit FlowModel(QObject *parent = nullptr);

    // --- the summary ----------------------------------------------------------------------
    // One RulesetSummary reply taken at `msecs` (a monotonic clock). The chain list is rebuilt
    // when the generation changes; otherwise only counters move.
    void setSummary(const RulesetSummary &summary, qint64 msecs);
    void clear();
    quint64 generation() const { return m_generation; }
    bool hasSummary() const { return m_hasSummary; }
    int summaries() const { return m_summaries; }
    const QList<FlowChain> &chains() const { return m_chains; }
    // The chains at one hook, in priority order (ties by family, table, chain).
    QList<FlowChain> chainsAt(const QString &hook) const;
    // Chains not on the IP path (bridge, arp, netdev): listed apart.
    QList<FlowChain> otherChains() const;
    // nullptr if no such chain.
    const FlowChain *chain(const QString &key) const;
    // The fastest packet rate of the chains at a hook: the traffic through that station.
    double hookPacketRate(const QString &hook) const;
    bool hookHasCounters(const QString &hook) const;

    // --- one forward's path ---------------------------------------------------------------
    // Highlights where this forward's packets go: our DNAT at prerouting, then forward (or input
    // for a local redirect), then postrouting, where we masquerade with masquerade/hairpin.
    void setHighlightedForward(const Forward &f);
    void clearHighlight();
    bool hasHighlight() const { return !m_pathHooks.isEmpty(); }
    QString highlightedName() const { return m_highlightName; }
    // The hooks the forward's packets pass, in order.
    QStringList highlightedHooks() const { return m_pathHooks; }
    // Every chain those packets pass (all tables), and what our own chains do to them.
    QStringList highlightedChains() const;
    // key of one of our chains on the path -> "DNAT", "accept", "masquerade", ...
    QMap<QString, QString> ourRoles() const { return m_ourRoles; }
    bool isHighlighted(const QString &chainKey) const;
    // The highlighted forward's own counters (Portico counts per forward, not per chain), from
    // the forwards table's GetCounters polling.
    void setForwardCounters(bool has, quint64 packets, quint64 bytes, double packetRate);
    bool hasForwardCounters() const { return m_fwdCounters; }
    quint64 forwardPackets() const { return m_fwdPackets; }
    quint64 forwardBytes() const { return m_fwdBytes; }
    double forwardPacketRate() const { return m_fwdRate; }

    // --- trace ----------------------------------------------------------------------------
    void beginTrace(const QString &forwardId, const QString &forwardName);
    void addTraceStep(const TraceStep &step);
    // One line of the pipe as the helper writes it (for tests and recorded traces); false (and
    // the reason in *error) when it is not a trace object.
    bool addTraceLine(const QByteArray &line, QString *error = nullptr);
    void endTrace(const QString &reason, const QString &message);
    bool tracing() const { return m_tracing; }
    bool hasTrace() const { return !m_traceForwardId.isEmpty(); }
    QString traceForwardId() const { return m_traceForwardId; }
    QString traceForwardName() const { return m_traceForwardName; }
    QString traceEnd() const { return m_traceEnd; } // timeout, stopped, error; empty while on
    QString traceMessage() const { return m_traceMessage; }
    const QList<TracePacket> &tracePackets() const { return m_packets; }
    // The chain that dropped the most recent dropped packet, or empty.
    QString lastDropChain() const;

signals:
    void structureChanged(); // chains added, removed or reordered
    void countersChanged();
    void highlightChanged();
    void traceChanged();

private:
    void rebuildPath();

    QList<FlowChain> m_chains;
    quint64 m_generation = 0;
    bool m_hasSummary = false;
    int m_summaries = 0;
    qint64 m_lastMsecs = 0;

    bool m_highlightSet = false;
    Forward m_highlight;
    QString m_highlightName;
    QStringList m_pathHooks;
    QMap<QString, QString> m_ourRoles;
    bool m_fwdCounters = false;
    quint64 m_fwdPackets = 0;
    quint64 m_fwdBytes = 0;
    double m_fwdRate = 0;

    bool m_tracing = false;
    QString m_traceForwardId;
    QString m_traceForwardName;
    QString m_traceEnd;
    QString m_traceMessage;
    QList<TracePacket> m_packets;
};

} // namespace portico
