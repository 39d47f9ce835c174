// SPDX-License-Identifier: GPL-3.0-or-later
// The claim index: buckets of marks per port, and the forwards themselves by mark (copies
// share their strings with the saved list, so each costs a few pointers).
#include "claim_index.h"

#include <algorithm>

namespace portico {

ClaimIndex::ClaimIndex() {
    m_external.buckets.resize(65536);
    m_target.buckets.resize(65536);
}

PortRange ClaimIndex::targetOf(const Forward &f) {
    return f.targetPort.isNull() ? f.externalPort : f.targetPort;
}

int ClaimIndex::remoteFamily(const Forward &f) {
    if (!f.enabled || f.targetAddress.isNull())
        return -1;
    return f.targetAddress.protocol() == QHostAddress::IPv6Protocol ? 1 : 0;
}

void ClaimIndex::Ports::add(PortRange r, quint32 mark) {
    if (r.length() > wideRange) {
        wide.append({mark, r});
        return;
    }
    for (int p = r.first; p <= r.last; ++p)
        buckets[p].append(mark);
}

void ClaimIndex::Ports::remove(PortRange r, quint32 mark) {
    if (r.length() > wideRange) {
        wide.removeOne(std::pair{mark, r});
        return;
    }
    for (int p = r.first; p <= r.last; ++p)
        buckets[p].removeOne(mark);
}

void ClaimIndex::Ports::collect(PortRange r, QList<quint32> *out) const {
    for (const auto &[mark, range] : wide) {
        if (range.overlaps(r))
            out->append(mark);
    }
    for (int p = r.first; p <= r.last; ++p)
        out->append(buckets[p]);
}

void ClaimIndex::rebuild(const QList<Forward> &forwards) {
    m_byMark.clear();
    m_byName.clear();
    for (auto *ports : {&m_external, &m_target}) {
        for (QList<quint32> &b : ports->buckets)
            b.clear();
        ports->wide.clear();
    }
    m_remote[0] = m_remote[1] = 0;
    m_byMark.reserve(forwards.size());
    m_byName.reserve(forwards.size());
    for (const Forward &f : forwards)
        insert(f);
}

void ClaimIndex::insert(const Forward &f) {
    const quint32 mark = f.mark();
    m_byMark.insert(mark, f);
    m_byName.insert(f.name, mark);
    m_external.add(f.externalPort, mark);
    m_target.add(targetOf(f), mark);
    if (const int family = remoteFamily(f); family >= 0)
        ++m_remote[family];
}

void ClaimIndex::erase(const Forward &f) {
    const quint32 mark = f.mark();
    if (m_byMark.remove(mark) == 0)
        return;
    m_byName.remove(f.name);
    m_external.remove(f.externalPort, mark);
    m_target.remove(targetOf(f), mark);
    if (const int family = remoteFamily(f); family >= 0)
        --m_remote[family];
}

QList<Forward> ClaimIndex::candidates(const Forward &f, quint32 replacing) const {
    // The same pairs as a scan would pick: the other's external ports meet f's external or
    // target ports, or its target ports meet f's external ports.
    QList<quint32> marks;
    const PortRange tgt = targetOf(f);
    m_external.collect(f.externalPort, &marks);
    if (tgt != f.externalPort)
        m_external.collect(tgt, &marks);
    m_target.collect(f.externalPort, &marks);
    if (const auto it = m_byName.constFind(f.name); it != m_byName.constEnd())
        marks.append(*it);
    if (const quint32 own = f.mark(); own != 0 && m_byMark.contains(own))
        marks.append(own);
    std::sort(marks.begin(), marks.end());
    marks.erase(std::unique(marks.begin(), marks.end()), marks.end());

    QList<Forward> out;
    out.reserve(marks.size());
    for (quint32 m : std::as_const(marks)) {
        if (m != replacing)
            out.append(m_byMark.value(m));
    }
    return out;
}

} // namespace portico
