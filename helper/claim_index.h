// SPDX-License-Identifier: GPL-3.0-or-later
// An index of the saved forwards by what one new or changed forward can clash with: its name,
// its id and the ports it claims. Checking a change against the few forwards the index names,
// instead of scanning all of them, keeps AddForward and UpdateForward flat up to 100,000
// forwards. It also counts the forwards that need IP forwarding, per family.
#pragma once

#include "forward.h"

#include <QHash>
#include <QList>

#include <utility>
#include <vector>

namespace portico {

class ClaimIndex {
public:
    ClaimIndex();

    void rebuild(const QList<Forward> &forwards);
    void insert(const Forward &f);
    void erase(const Forward &f);

    // The indexed forwards that share the name or id of `f`, or whose external or target ports
    // meet its ports (the pairs validateForwards can refuse), except the one with mark
    // `replacing` (the old version of `f` in an update). In no particular order.
    QList<Forward> candidates(const Forward &f, quint32 replacing) const;

    // How many enabled forwards send traffic to another host over IPv4 (0) or IPv6 (1).
    int remoteTargets(int family) const { return m_remote[family]; }

    qsizetype size() const { return m_byMark.size(); }

private:
    // A range wider than this is kept in one list that every lookup reads, instead of in a
    // bucket per port: a forward of 1-65535 would otherwise fill 65,535 buckets.
    static constexpr int wideRange = 256;

    struct Ports {
        std::vector<QList<quint32>> buckets; // port → marks
        QList<std::pair<quint32, PortRange>> wide;
        void add(PortRange r, quint32 mark);
        void remove(PortRange r, quint32 mark);
        void collect(PortRange r, QList<quint32> *out) const;
    };

    static PortRange targetOf(const Forward &f);
    static int remoteFamily(const Forward &f); // -1 when it needs no forwarding

    QHash<quint32, Forward> m_byMark;
    QHash<QString, quint32> m_byName;
    Ports m_external;
    Ports m_target;
    int m_remote[2] = {0, 0};
};

} // namespace portico
