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

    // Adds one forward to what the last apply() or add() on this writer wrote for `before`: a
    // small batch into the existing maps (about a millisecond however many forwards there are)
    // when every map the forward needs exists and has room; otherwise, or when the table was
    // changed behind our back, the same as apply(before + added).
    ApplyError add(const QList<Forward> &before, const Forward &added);

    // Removes our table, if it exists (used by tests and uninstall).
    ApplyError removeTable();

    // Per-forward packet and byte counters, keyed by forward id. Empty on error.
    QHash<QString, Counter> counters(QString *error = nullptr);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

// The nft text of the table that apply() would write for these forwards: for preview, for
// `porticoctl ruleset`, and loadable by `nft -f` (the benchmarks load it that way).
QString renderRuleset(const QList<Forward> &forwards);

} // namespace portico
