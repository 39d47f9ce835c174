// SPDX-License-Identifier: GPL-3.0-or-later
// The diagram's data. Rates need two summaries of the same chain; a chain whose counters went
// down was made anew (a reload of that table), so its rate starts again instead of going wild.
#include "flow_model.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <algorithm>

namespace portico {

namespace {

bool chainOrder(const FlowChain &a, const FlowChain &b) {
    if (a.priority != b.priority)
        return a.priority < b.priority;
    if (a.family != b.family)
        return a.family < b.family;
    if (a.table != b.table)
        return a.table < b.table;
    return a.chain < b.chain;
}

bool familyMatches(const QString &family, bool v4, bool v6) {
    if (family == QLatin1StringView("inet"))
        return true;
    if (family == QLatin1StringView("ip"))
        return v4;
    if (family == QLatin1StringView("ip6"))
        return v6;
    return false;
}

} // namespace

QString FlowChain::key() const {
    return label();
}

bool FlowChain::onIpPath() const {
    return family == QLatin1StringView("ip") || family == QLatin1StringView("ip6") ||
           family == QLatin1StringView("inet");
}

QString traceChainKey(const TraceStep &s) {
    return s.family + QLatin1Char(' ') + s.table + QLatin1Char(' ') + s.chain;
}

QStringList TracePacket::chainPath() const {
    QStringList path;
    for (const TraceStep &s : steps)
        if (path.isEmpty() || path.last() != traceChainKey(s))
            path << traceChainKey(s);
    return path;
}

const QStringList &FlowModel::hooks() {
    static const QStringList list = {
        QStringLiteral("prerouting"), QStringLiteral("forward"), QStringLiteral("postrouting"),
        QStringLiteral("input"),      QStringLiteral("output"),
    };
    return list;
}

FlowModel::FlowModel(QObject *parent)
    : QObject(parent) {}

void FlowModel::setSummary(const RulesetSummary &summary, qint64 msecs) {
    const quint64 generation = summary.generation;
    QList<FlowChain> fresh;
    fresh.reserve(summary.chains.size());
    for (const ChainSummary &c : summary.chains) {
        FlowChain f;
        static_cast<ChainSummary &>(f) = c;
        fresh << f;
    }
    std::sort(fresh.begin(), fresh.end(), [](const FlowChain &a, const FlowChain &b) {
        if (a.hook != b.hook)
            return a.hook < b.hook;
        return chainOrder(a, b);
    });

    const double seconds = m_hasSummary ? double(msecs - m_lastMsecs) / 1000.0 : 0.0;
    QHash<QString, const FlowChain *> old;
    for (const FlowChain &c : std::as_const(m_chains))
        old.insert(c.key(), &c);
    for (FlowChain &c : fresh) {
        const FlowChain *before = old.value(c.key());
        if (!before || seconds <= 0.05)
            continue;
        if (c.packets >= before->packets && c.bytes >= before->bytes) {
            c.packetRate = double(c.packets - before->packets) / seconds;
            c.byteRate = double(c.bytes - before->bytes) / seconds;
            c.hasRate = true;
        }
    }

    // The structure is the list of chains and what the diagram draws of them; a new generation
    // may change it, the same generation cannot.
    bool structure = !m_hasSummary || generation != m_generation || fresh.size() != m_chains.size();
    if (!structure)
        for (qsizetype i = 0; i < fresh.size(); ++i) {
            const FlowChain &a = fresh.at(i);
            const FlowChain &b = m_chains.at(i);
            if (a.key() != b.key() || a.hook != b.hook || a.priority != b.priority ||
                a.policy != b.policy || a.rules != b.rules || a.dropRules != b.dropRules) {
                structure = true;
                break;
            }
        }
    m_chains = fresh;
    m_generation = generation;
    m_hasSummary = true;
    m_lastMsecs = msecs;
    ++m_summaries;
    if (structure) {
        rebuildPath();
        emit structureChanged();
    }
    emit countersChanged();
}

void FlowModel::clear() {
    m_chains.clear();
    m_hasSummary = false;
    m_summaries = 0;
    rebuildPath();
    emit structureChanged();
}

QList<FlowChain> FlowModel::chainsAt(const QString &hook) const {
    QList<FlowChain> list;
    for (const FlowChain &c : m_chains)
        if (c.hook == hook && c.onIpPath())
            list << c;
    std::sort(list.begin(), list.end(), chainOrder);
    return list;
}

QList<FlowChain> FlowModel::otherChains() const {
    QList<FlowChain> list;
    for (const FlowChain &c : m_chains)
        if (!c.onIpPath() || !hooks().contains(c.hook))
            list << c;
    return list;
}

const FlowChain *FlowModel::chain(const QString &key) const {
    for (const FlowChain &c : m_chains)
        if (c.key() == key)
            return &c;
    return nullptr;
}

double FlowModel::hookPacketRate(const QString &hook) const {
    double rate = 0;
    for (const FlowChain &c : m_chains)
        if (c.hook == hook && c.onIpPath() && c.hasRate)
            rate = qMax(rate, c.packetRate);
    return rate;
}

bool FlowModel::hookHasCounters(const QString &hook) const {
    for (const FlowChain &c : m_chains)
        if (c.hook == hook && c.onIpPath() && c.packets > 0)
            return true;
    return false;
}

// --- one forward's path -------------------------------------------------------------------

void FlowModel::setHighlightedForward(const Forward &f) {
    m_highlightSet = true;
    m_highlight = f;
    m_highlightName = f.name;
    rebuildPath();
    emit highlightChanged();
}

void FlowModel::setForwardCounters(bool has, quint64 packets, quint64 bytes, double packetRate) {
    if (has == m_fwdCounters && packets == m_fwdPackets && bytes == m_fwdBytes &&
        packetRate == m_fwdRate)
        return;
    m_fwdCounters = has;
    m_fwdPackets = packets;
    m_fwdBytes = bytes;
    m_fwdRate = packetRate;
    emit countersChanged();
}

void FlowModel::clearHighlight() {
    m_fwdCounters = false;
    m_highlightSet = false;
    m_highlightName.clear();
    rebuildPath();
    emit highlightChanged();
}

void FlowModel::rebuildPath() {
    m_pathHooks.clear();
    m_ourRoles.clear();
    if (!m_highlightSet)
        return;
    const Forward &f = m_highlight;
    const bool local = f.isLocalRedirect();
    m_pathHooks = local ? QStringList{QStringLiteral("prerouting"), QStringLiteral("input")}
                        : QStringList{QStringLiteral("prerouting"), QStringLiteral("forward"),
                                      QStringLiteral("postrouting")};
    for (const FlowChain &c : std::as_const(m_chains)) {
        if (!c.ours || !m_pathHooks.contains(c.hook))
            continue;
        // Our chains by what they do (helper/ruleset_compiler.cpp names them).
        if (c.hook == QLatin1StringView("prerouting") && c.type == QLatin1StringView("nat"))
            m_ourRoles.insert(c.key(), local ? tr("redirect") : tr("DNAT"));
        else if (c.chain == QLatin1StringView("hairpin") && f.hairpin)
            m_ourRoles.insert(c.key(), tr("hairpin mark"));
        else if (c.hook == QLatin1StringView("forward"))
            m_ourRoles.insert(c.key(), tr("accept"));
        else if (c.hook == QLatin1StringView("input"))
            m_ourRoles.insert(c.key(), tr("count"));
        else if (c.hook == QLatin1StringView("postrouting") && (f.masquerade || f.hairpin))
            m_ourRoles.insert(c.key(),
                              f.masquerade ? tr("masquerade") : tr("masquerade (hairpin)"));
    }
}

QStringList FlowModel::highlightedChains() const {
    QStringList keys;
    if (m_pathHooks.isEmpty())
        return keys;
    const bool v4 = m_highlight.appliesToIPv4();
    const bool v6 = m_highlight.appliesToIPv6();
    for (const QString &hook : m_pathHooks)
        for (const FlowChain &c : chainsAt(hook))
            if (familyMatches(c.family, v4, v6))
                keys << c.key();
    return keys;
}

bool FlowModel::isHighlighted(const QString &chainKey) const {
    return highlightedChains().contains(chainKey);
}

// --- trace --------------------------------------------------------------------------------

void FlowModel::beginTrace(const QString &forwardId, const QString &forwardName) {
    m_tracing = true;
    m_traceForwardId = forwardId;
    m_traceForwardName = forwardName;
    m_traceEnd.clear();
    m_traceMessage.clear();
    m_packets.clear();
    emit traceChanged();
}

bool FlowModel::addTraceLine(const QByteArray &line, QString *error) {
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(line, &parseError);
    if (!doc.isObject()) {
        if (error)
            *error = tr("not a JSON object: %1").arg(parseError.errorString());
        return false;
    }
    const QJsonObject o = doc.object();
    if (o.contains(QStringLiteral("end"))) {
        endTrace(o.value(QStringLiteral("end")).toString(),
                 o.value(QStringLiteral("message")).toString());
        return true;
    }
    if (!o.contains(QStringLiteral("packet")) || !o.contains(QStringLiteral("chain"))) {
        if (error)
            *error = tr("a trace line without packet or chain");
        return false;
    }
    addTraceStep(TraceStep::fromJson(o));
    return true;
}

void FlowModel::addTraceStep(const TraceStep &s) {
    auto it = std::find_if(m_packets.begin(), m_packets.end(),
                           [&](const TracePacket &p) { return p.id == s.packet; });
    if (it == m_packets.end()) {
        TracePacket p;
        p.id = s.packet;
        m_packets << p;
        it = m_packets.end() - 1;
    }
    it->steps << s;
    // A drop (or reject) ends the packet's way through netfilter wherever it comes.
    if (s.dropped()) {
        it->dropped = true;
        it->dropChain = traceChainKey(s);
    }
    emit traceChanged();
}

void FlowModel::endTrace(const QString &reason, const QString &message) {
    if (!m_tracing)
        return;
    m_tracing = false;
    m_traceEnd = reason.isEmpty() ? QStringLiteral("stopped") : reason;
    m_traceMessage = message;
    emit traceChanged();
}

QString FlowModel::lastDropChain() const {
    for (auto it = m_packets.crbegin(); it != m_packets.crend(); ++it)
        if (it->dropped)
            return it->dropChain;
    return {};
}

} // namespace portico
