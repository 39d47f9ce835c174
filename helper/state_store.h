// SPDX-License-Identifier: GPL-3.0-or-later
// The helper's saved state, forwards.json in the state dir: loaded at start, written atomically
// after every change, and set aside (never overwritten) when it cannot be read.
#pragma once

#include "forward.h"
#include "ip_forwarding.h"

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QString>

#include <optional>

namespace portico {

struct SavedState {
    quint64 generation = 0;
    quint32 nextMark = 1;                     // the next forward number to hand out
    std::optional<IpForwarding> ipForwarding; // absent: Portico never chose or was told
    QList<Forward> forwards;
};

struct StateLoad {
    SavedState state;
    // Set when a corrupt or unreadable file was set aside: a sentence naming both paths.
    QString report;
    // Set when the file could not even be set aside; the helper must not run then, since a save
    // would replace the file.
    QString fatal;
};

class StateStore {
public:
    static constexpr int schemaVersion = 1;

    explicit StateStore(const QString &dir);

    QString dir() const { return m_dir; }
    QString filePath() const;

    StateLoad load() const;
    // Temp file in the same dir, write, fsync, rename, fsync of the dir; mode 0600. Returns an
    // empty string on success, else a sentence naming the path and the reason.
    QString save(const SavedState &state) const;

private:
    QString setAside(const QString &reason, StateLoad *result) const;
    QByteArray encode(const SavedState &state) const;

    struct EncodedForward {
        Forward forward;
        QByteArray json;
    };

    QString m_dir;
    // Each forward's JSON from the last save: a change re-encodes only the forwards it touched,
    // which keeps a save of 100,000 forwards to little more than writing the bytes.
    mutable QHash<QString, EncodedForward> m_encoded;
};

} // namespace portico
