// SPDX-License-Identifier: GPL-3.0-or-later
// ClaimIndex: for random sets of forwards, and after inserts and erases, its candidates are
// exactly the forwards a full scan picks (same name, same id, or meeting ports), and its
// per-family counts match a count of the set.
#include "claim_index.h"

#include <QRandomGenerator>
#include <QSet>
#include <QTest>

using namespace portico;

namespace {

PortRange range(quint16 first, quint16 last) {
    return PortRange{first, last};
}

Forward randomForward(QRandomGenerator &rng, quint32 mark) {
    Forward f;
    f.id = Forward::idForMark(mark);
    f.name = QStringLiteral("n%1").arg(rng.bounded(400)); // names repeat on purpose
    f.enabled = rng.bounded(4) != 0;
    const quint16 first = quint16(1 + rng.bounded(2000));
    // Mostly single ports, some short ranges, a few wider than a bucket run.
    const int kind = rng.bounded(20);
    const int len = kind == 0 ? 300 + rng.bounded(3000) : kind < 4 ? rng.bounded(20) : 0;
    f.externalPort = range(first, quint16(std::min(65535, first + len)));
    if (rng.bounded(2)) {
        const quint16 t = quint16(1 + rng.bounded(2000));
        f.targetPort = f.externalPort.isRange() && rng.bounded(2)
                           ? range(t, quint16(std::min(65535, t + f.externalPort.length() - 1)))
                           : range(t, t);
    }
    const int target = rng.bounded(3);
    if (target == 1)
        f.targetAddress = QHostAddress(QStringLiteral("198.51.100.10"));
    else if (target == 2)
        f.targetAddress = QHostAddress(QStringLiteral("2001:db8::10"));
    return f;
}

QSet<quint32> byScan(const QList<Forward> &all, const Forward &f, quint32 replacing) {
    const auto targetOf = [](const Forward &x) {
        return x.targetPort.isNull() ? x.externalPort : x.targetPort;
    };
    QSet<quint32> out;
    for (const Forward &o : all) {
        if (o.mark() == replacing)
            continue;
        if (o.externalPort.overlaps(f.externalPort) || o.externalPort.overlaps(targetOf(f)) ||
            targetOf(o).overlaps(f.externalPort) || o.name == f.name || o.id == f.id)
            out.insert(o.mark());
    }
    return out;
}

QSet<quint32> marksOf(const QList<Forward> &list) {
    QSet<quint32> out;
    for (const Forward &f : list)
        out.insert(f.mark());
    return out;
}

int remoteCount(const QList<Forward> &all, int family) {
    int n = 0;
    for (const Forward &f : all) {
        if (f.enabled && !f.targetAddress.isNull() &&
            (f.targetAddress.protocol() == QHostAddress::IPv6Protocol) == (family == 1))
            ++n;
    }
    return n;
}

} // namespace

class TestClaimIndex : public QObject {
    Q_OBJECT

private slots:
    void candidatesEqualAScan() {
        QRandomGenerator rng(20261201);
        QList<Forward> all;
        // Names must be unique in a saved set: keep the first forward of each name.
        QSet<QString> names;
        for (quint32 m = 1; all.size() < 600; ++m) {
            Forward f = randomForward(rng, m);
            if (names.contains(f.name))
                f.name += QStringLiteral("-%1").arg(m);
            names.insert(f.name);
            all.append(f);
        }
        ClaimIndex index;
        index.rebuild(all);
        QCOMPARE(index.size(), all.size());

        for (int round = 0; round < 300; ++round) {
            // A new forward, and an update of an existing one.
            const Forward fresh = randomForward(rng, 100000 + round);
            QCOMPARE(marksOf(index.candidates(fresh, 0)), byScan(all, fresh, 0));
            const int i = rng.bounded(int(all.size()));
            Forward changed = randomForward(rng, all[i].mark());
            QCOMPARE(marksOf(index.candidates(changed, all[i].mark())),
                     byScan(all, changed, all[i].mark()));

            // Then change the set, the way commit() does, and keep comparing.
            if (round % 3 == 0) {
                index.erase(all[i]);
                all.removeAt(i);
            } else {
                Forward added = randomForward(rng, 200000 + round);
                added.name = QStringLiteral("added-%1").arg(round);
                index.insert(added);
                all.append(added);
            }
            QCOMPARE(index.size(), all.size());
            QCOMPARE(index.remoteTargets(0), remoteCount(all, 0));
            QCOMPARE(index.remoteTargets(1), remoteCount(all, 1));
        }
    }

    void wideRangesAreFoundFromEveryPort() {
        Forward wide;
        wide.id = Forward::idForMark(7);
        wide.name = QStringLiteral("all-ports");
        wide.externalPort = range(1, 65535);
        ClaimIndex index;
        index.rebuild({wide});
        Forward probe;
        probe.name = QStringLiteral("probe");
        probe.externalPort = range(65535, 65535);
        QCOMPARE(index.candidates(probe, 0).size(), 1);
        index.erase(wide);
        QCOMPARE(index.candidates(probe, 0).size(), 0);
        QCOMPARE(index.size(), 0);
    }
};

QTEST_APPLESS_MAIN(TestClaimIndex)
#include "test_helper_claim_index.moc"
