// SPDX-License-Identifier: GPL-3.0-or-later
// Writes `table inet portico` to the kernel through libnftnl + libmnl: one netlink batch per
// change, so the kernel takes all of it or none of it. Never touches another table.
#pragma once

#include "forward.h"

#include <QHash>
#include <QList>
#include <QString>

#include <memory>

namespace portico {

struct Counter {
    quint64 packets = 0;
    quint64 bytes = 0;
};

// Why the kernel refused a batch, mapped back to the forward and the field it came from
// (through NETLINK_EXT_ACK and the sequence number of the refused message).
struct ApplyError {
    QString forwardId; // empty if the refusal is not about one forward
    QString forwardName;
    QString field;   // bus key, e.g. "external_port"; may be empty
    QString message; // a whole sentence: "forward 'web': external port: File exists"

    bool ok() const { return message.isEmpty(); }
};

class RulesetWriter {
public:
    RulesetWriter();
    ~RulesetWriter();
    RulesetWriter(const RulesetWriter &) = delete;
    RulesetWriter &operator=(const RulesetWriter &) = delete;

    // Replaces our table with one that carries the enabled forwards (disabled ones are left
    // out). On any refusal the previous table stays exactly as it was.
    ApplyError apply(const QList<Forward> &forwards);

    // The incremental path. Each call changes what the last successful call on this writer
    // wrote for `before` (or, after a restart, the kernel's table when its sets are exactly
    // those of `before`) into the table for the new list, in ONE batch that deletes and adds
    // only the elements that differ, and creates or deletes the maps and rules of shapes that
    // come into use or go out of it. A forward that stays (changed or not) keeps its counters.
    // When the table is missing or does not match, a map would outgrow its size, or the kernel
    // refuses the small batch, the same as apply() of the new list (whose refusal is the one
    // reported), except that the counters of the table it replaces carry over to the forwards
    // of the same ids. On any refusal the previous table stays exactly as it was.
    ApplyError update(const QList<Forward> &before, const QList<Forward> &after);
    // The same for one forward, without comparing the lists (about a millisecond however many
    // forwards there are): `added` appended, or inserted at `index`; the one at `index` removed,
    // or replaced by `changed`.
    ApplyError add(const QList<Forward> &before, const Forward &added);
    ApplyError insert(const QList<Forward> &before, qsizetype index, const Forward &added);
    ApplyError remove(const QList<Forward> &before, qsizetype index);
    ApplyError change(const QList<Forward> &before, qsizetype index, const Forward &changed);

    // Removes our table, if it exists (used by tests and uninstall).
    ApplyError removeTable();

    // Per-forward packet and byte counters, keyed by forward id. Empty on error.
    QHash<QString, Counter> counters(QString *error = nullptr);

    // --- issue 5: the packet trace's chains (helper/packet_trace.*), apart from the forwards ---
    // Two base chains of our table, at prerouting and output with priority -350 (before raw,
    // conntrack and our DNAT), each with one rule per protocol:
    // `meta l4proto P th dport PORTS [ip|ip6 daddr A] meta nftrace set 1`.
    struct TraceChains {
        QString prerouting; // chain names
        QString output;
        QList<quint8> protocols; // IPPROTO_TCP, IPPROTO_UDP
        PortRange ports;
        QHostAddress address; // null: any
    };
    // One batch that creates both chains and their rules; refused (nothing changed) when the
    // table is missing or a chain of that name exists.
    ApplyError addTraceChains(const TraceChains &t);
    // One batch that deletes both chains with their rules (an empty name is skipped).
    ApplyError removeTraceChains(const TraceChains &t);

private:
    // apply() of the whole list for the incremental path's fallback: the counters of the
    // table it replaces (if any) carry over to the forwards of the same ids.
    ApplyError rebuild(const QList<Forward> &after);

    struct Private;
    std::unique_ptr<Private> d;
};

// The nft text of the table that apply() would write for these forwards: for preview, for
// `porticoctl ruleset`, and loadable by `nft -f` (the benchmarks load it that way).
QString renderRuleset(const QList<Forward> &forwards);

} // namespace portico
