// SPDX-License-Identifier: GPL-3.0-or-later
// The helper's saved state, forwards.json in the state dir (plus, for large sets, a journal of
// the changes since it was written): loaded at start, saved durably after every change, and set
// aside (never overwritten) when it cannot be read.
#pragma once

#include "forward.h"
#include "ip_forwarding.h"

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>

#include <future>
#include <optional>

namespace portico {

struct SavedState {
    quint64 generation = 0;
    quint32 nextMark = 1;                     // the next forward number to hand out
    std::optional<IpForwarding> ipForwarding; // absent: Portico never chose or was told
    QList<Forward> forwards;
};

// What a change did, so that a large set can be saved by appending just that to the journal.
struct StateDelta {
    QList<Forward> upserted; // new (appended) or changed (replaced in place, by id)
    QStringList removed;     // ids
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
    // From this many forwards on, a change with a delta is appended to the journal instead of
    // rewriting forwards.json; below it the file alone is always the whole truth.
    static constexpr int journalFromForwards = 2000;

    explicit StateStore(const QString &dir);
    // Moved only while no beginSave() is running: its thread writes through `this`.
    StateStore(StateStore &&) = default;

    QString dir() const { return m_dir; }
    QString filePath() const;
    QString journalPath() const;

    StateLoad load();
    // forwards.json: temp file in the same dir, write, fsync, rename, fsync of the dir; mode
    // 0600. With a delta and a large set: one line appended to the journal and fdatasync'ed,
    // until the journal is worth folding into a new forwards.json. Returns an empty string on
    // success (the state is durable), else a sentence naming the path and the reason (nothing
    // of this save is left on disk).
    QString save(const SavedState &state, const StateDelta *delta = nullptr);
    // A whole-set save (no delta) of `state`, started now on a thread of its own, so that the
    // file is encoded, written and synced into a temporary file while the kernel takes the
    // batch. save() of the same state then only renames it into place; save() of any other
    // state, or cancelSave(), removes it. Nothing of it is visible before that rename.
    void beginSave(const SavedState &state);
    void cancelSave();
    ~StateStore() { cancelSave(); }

private:
    QString setAside(const QString &reason, StateLoad *result) const;
    QString setJournalAside(const QString &reason, quint64 generation, StateLoad *result) const;
    // wholeSet: the save has no delta (ReplaceForwards), so few forwards are in the cache.
    QByteArray encode(const SavedState &state, quint64 snapshotId, bool wholeSet) const;
    // forwards.json in two steps: the temporary file written and synced (safe on another
    // thread: it touches only the encode cache), then renamed into place.
    struct Snapshot {
        QByteArray tempPath; // empty on error
        QString error;
        quint64 id = 0;
        qint64 bytes = 0;
    };
    Snapshot writeTemp(const SavedState &state, quint64 snapshotId, bool wholeSet) const;
    QString install(const Snapshot &snapshot);
    quint64 nextSnapshotId() const;
    QString writeSnapshot(const SavedState &state, bool wholeSet);
    bool takeEarlySave(const SavedState &state, Snapshot *out);
    QString appendJournal(const SavedState &state, const StateDelta &delta);

    struct EncodedForward {
        Forward forward;
        QByteArray json;
    };

    QString m_dir;
    // Each forward's JSON from the last save: a change re-encodes only the forwards it touched,
    // which keeps a save of 100,000 forwards to little more than writing the bytes.
    mutable QHash<QString, EncodedForward> m_encoded;

    // What is on disk: the generation of forwards.json, its size, and the journal on top.
    bool m_haveSnapshot = false;
    quint64 m_snapshotId = 0; // counts the rewrites of forwards.json; journal lines name it
    qint64 m_snapshotBytes = 0;
    qint64 m_journalBytes = 0;
    int m_journalEntries = 0;
    bool m_journalDirty = false; // stale or torn lines: the next save writes forwards.json
    struct {
        SavedState state;
        std::future<Snapshot> file;
    } m_early; // beginSave()
};

} // namespace portico
