// SPDX-License-Identifier: GPL-3.0-or-later
// The Connections table: every conntrack entry of the helper's record stream, one row each,
// keyed by the conntrack id. Built for a million rows: compact raw storage (text is made only in
// data()), an id → entry hash, sorting and filtering on raw values inside the model with a
// sorted index merged incrementally, and the changes of one interval applied as one batch of
// signals (never a reset, except when the stream begins a new snapshot); a batch that moves
// most of a big table (a counter refresh sorted by a counter) re-sorts it over several
// event-loop turns instead.
#pragma once

#include "conntrack_stream.h"

#include <QAbstractTableModel>
#include <QElapsedTimer>
#include <QHash>
#include <QList>
#include <QTimer>
#include <memory>
#include <vector>

namespace portico {

// What the table shows. Text is a list of words that must all match (see matchesText in the
// .cpp for the grammar); the rest are the quick filters of the filter bar.
struct ConnectionFilter {
    QString text;
    bool forwardedOnly = false;   // only flows of our forwards
    int protocol = -1;            // an IPPROTO_* number, -1 for any
    QString forwardId;            // one forward, empty for any
    bool establishedOnly = false; // TCP ESTABLISHED, or another protocol that has seen a reply

    bool isEmpty() const {
        return text.trimmed().isEmpty() && !forwardedOnly && protocol < 0 && forwardId.isEmpty() &&
               !establishedOnly;
    }
    friend bool operator==(const ConnectionFilter &, const ConnectionFilter &) = default;
};

class ConnectionTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column {
        ProtocolColumn,
        StateColumn,
        OriginalColumn,   // original source → destination
        TranslatedColumn, // where the forward sent it (the reply tuple's source)
        ForwardColumn,
        TimeoutColumn,
        AgeColumn,
        PacketsColumn, // original / reply
        BytesColumn,   // original / reply
        RateColumn,
        FlagsColumn,
        ColumnCount
    };
    enum Role {
        RawValueRole = Qt::UserRole + 1, // the value the column sorts by
        IdRole,                          // the conntrack id (quint32)
        ForwardIdRole,                   // the forward's id, empty when none
        GoneRole, // true: destroyed, still shown until the flush under way is (a staged one)
    };

    // One forward of the stream's Forwards frame.
    struct ForwardInfo {
        quint32 mark = 0;
        QString id;
        QString name;
    };

    explicit ConnectionTableModel(QObject *parent = nullptr);
    ~ConnectionTableModel() override;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;
    void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;

    // One frame of the stream (common/conntrack_stream.h). Returns false, with errorString(),
    // for a frame that does not parse; the caller should then close the stream.
    bool handleFrame(ctstream::FrameType type, const char *payload, qsizetype length);
    // The same steps as typed calls: the pipe reader's signals go here. While paused they are
    // held (the latest record per id) and applied on resume.
    // clear() forgets everything (a model reset): for a new stream, not for a resync.
    void clear();
    void setForwards(const QList<ForwardInfo> &forwards);
    void beginSnapshot();
    void addRecords(const ctstream::EntryRecord *records, qsizetype count);
    void removeIds(const quint32 *ids, qsizetype count);
    void endSnapshot();
    // The end of a batch of deltas: its changes are shown now rather than at the next interval.
    void tick();

    // Shows every change received so far, now, in one go (finishing a staged flush first). The
    // interval timer and tick() take the staged path instead (see setStagedFlush()).
    void flush();
    // The interval (16–100 ms); while a big snapshot streams, flushes are spaced wider.
    void setFlushInterval(int ms) { m_flushInterval = ms; }
    // A flush that changes at most this many rows (none moving) signals each row's block
    // exactly; a bigger one sends one insert, one layout change and one remove. For the
    // benchmarks, which measure where one gets cheaper than the other.
    void setExactSignalRows(int rows) { m_exactSignalRows = rows; }
    // A flush from the timer or a Tick that would move or add at least `rows` rows of a sorted
    // view (a counter refresh of a view sorted by a counter moves them all) is done as a re-sort
    // in steps instead, at most `rowsPerTurn` entries of work per event-loop turn (and about
    // 8 ms), and shown by one layout change at its end; changes that arrive meanwhile wait for
    // the flush after it. The defaults keep each turn well under the 50 ms at 1M rows;
    // the tests lower them.
    void setStagedFlush(int rows, int rowsPerTurn) {
        m_stagedRows = rows;
        m_stepRows = rowsPerTurn;
    }
    // A staged flush is under way: the rows shown are the order before it, untouched.
    bool isStaging() const { return m_reorder != nullptr; }
    // Changes received and not yet shown (for the benchmarks).
    bool hasUnflushed() const {
        return !m_fresh.empty() || !m_moved.empty() || !m_dead.empty() || m_changed;
    }
    // The most entries held (the index addresses 2^25); past it new entries are dropped with a
    // notice. Lower only for the tests.
    void setEntryLimit(quint32 entries);

    // While paused the stream is still read, but nothing changes on screen; resuming shows
    // everything received meanwhile at once.
    void setPaused(bool paused);
    bool isPaused() const { return m_paused; }

    void setFilter(const ConnectionFilter &filter);
    const ConnectionFilter &filter() const { return m_filter; }

    int totalCount() const { return int(m_count); } // entries held (shown or not)
    int shownCount() const { return int(m_rows.size()); }
    // From a snapshot's Begin until all of it is shown (snapshotFinished): its End's flush may
    // be staged.
    bool isLoading() const { return m_loading || m_endPending; }
    int loadedCount() const { return m_snapshotCount; }
    bool accountingOn() const { return m_accounting; }
    // After the user turned accounting on: counters are shown again (new ones count from now).
    void setAccountingOn(bool on);
    int sortColumn() const { return m_sortColumn; }
    Qt::SortOrder sortOrder() const { return m_sortOrder; }

    // O(1): the row showing conntrack id `id`, or -1 (not held, or filtered out).
    int rowForId(quint32 id) const;
    bool containsId(quint32 id) const { return findEntry(id) >= 0; }
    quint32 idAt(int row) const;
    QString forwardIdAt(int row) const;
    QList<ForwardInfo> forwards() const;
    // The forward's name by id, for the filter bar.
    QString forwardName(const QString &forwardId) const;

    // The rows as text, a header line first: tab-separated for the clipboard, or CSV.
    QString rowsText(const QList<int> &rows, bool csv) const;
    // Memory the model holds for its entries and indexes, for the benchmarks.
    qsizetype bytesUsed() const;

    QString errorString() const { return m_error; }

    static QString protocolName(int protocol);
    static QString tcpStateName(int state);
    static QString flagsText(quint32 status);
    static QString formatBytes(quint64 bytes);
    static QString formatDuration(qint64 seconds);

signals:
    void helloReceived(bool accounting);
    void noticeReceived(const QString &text);
    void snapshotStarted();
    void snapshotProgress(int loaded);
    void snapshotFinished(int count);
    // After each flush that changed anything, and after a filter or sort change.
    void countsChanged(int shown, int total);
    // The stream's list of forwards changed (names for the Forward column and filter).
    void forwardsChanged();

private:
    struct Entry;
    struct EntryStore;
    struct IdIndex;
    struct CompiledFilter;
    struct Pending;
    struct Reorder;
    struct RadixSort;
    // A bit per entry slot: membership without reading the entries.
    struct Bits {
        std::vector<quint64> words;
        void resize(quint32 count) { words.resize((size_t(count) + 63) / 64); }
        void set(quint32 i) { words[i >> 6] |= quint64(1) << (i & 63); }
        void clear(quint32 i) { words[i >> 6] &= ~(quint64(1) << (i & 63)); }
        bool test(quint32 i) const {
            return (i >> 6) < words.size() && (words[i >> 6] >> (i & 63)) & 1;
        }
    };
    struct SortKeyData {
        quint64 primary;
        quint64 secondary;
        quint32 slot;
    };

    qint64 findEntry(quint32 id) const;
    // The stream's steps, applied now (the public forms hold them while paused).
    void applyForwards(const QList<ForwardInfo> &forwards);
    void applyBegin();
    void applyEnd();
    void applyRecord(const ctstream::EntryRecord &r);
    void applyDestroy(quint32 id);
    quint16 slotForMark(quint32 mark);
    void recompileFilter();
    bool passes(const Entry &e) const;
    bool less(quint32 a, quint32 b) const;
    quint64 primaryKey(const Entry &e) const;
    SortKeyData sortKey(const Entry &e, quint32 slot) const;
    void sortKeys(std::vector<SortKeyData> &keys) const;
    // Sorts the runs of equal keys from `from` on, until one ends at or after `stop`; returns
    // where it stopped (a run's start).
    size_t sortTies(std::vector<SortKeyData> &keys, size_t from, size_t stop) const;
    void sortIndex(std::vector<quint32> &index) const;
    // Every held entry in sort order.
    std::vector<quint32> sortedStore() const;
    // Removes the entries whose bit is set (at most `most` of them), in place, keeping the order.
    static void dropMarked(std::vector<quint32> &v, const Bits &marks, size_t most);
    // Merges `add` (in sort order) into the sorted `v`, in place.
    void mergeSorted(std::vector<quint32> &v, const std::vector<quint32> &add) const;
    // The persistent indexes (the current cell, the selection) and the entries they show,
    // taken before the rows are reordered and put back on the same entries after.
    struct PersistentRows {
        QModelIndexList from;
        std::vector<quint32> entries;
    };
    PersistentRows savePersistent() const;
    void restorePersistent(const PersistentRows &persistent);
    void rebuildForwardRanks();
    // Moves the visible rows to `finalRows` with the fewest legal signals: one insert at the end,
    // one layout change, one remove at the end.
    void publish(std::vector<quint32> &&finalRows);
    // The same for one flush, from what it changed (m_leaving, m_rowsAdd, m_mark) instead of a
    // whole new row index: exact signals for a few rows, else the three signals above.
    void publishDelta(size_t moving);
    void scheduleFlush();
    // The interval timer's and a Tick's flush: staged when it is big, see setStagedFlush().
    void flushSome();
    void startReorder();
    // One turn's work of the staged flush (all of it with `all`); true once it is shown.
    bool reorderStep(bool all);
    void finishSnapshot();
    void trimWorkBuffers();
    void clearAll();
    QString cellText(const Entry &e, int column) const;
    QVariant rawValue(const Entry &e, int column) const;
    quint32 nowSeconds() const;
    qint32 wallSeconds(quint64 wallMs) const;

    std::unique_ptr<EntryStore> m_store;
    std::unique_ptr<IdIndex> m_index;
    std::unique_ptr<CompiledFilter> m_compiled;
    std::unique_ptr<Pending> m_pending; // what came while paused
    std::unique_ptr<Reorder> m_reorder; // the staged flush under way, if any
    QTimer m_reorderTimer;
    int m_stagedRows = 65536;
    int m_stepRows = 262144;
    // The visible rows (entry indexes), in display order.
    std::vector<quint32> m_rows;
    // Every held entry in sort order, kept only while a filter hides some (otherwise m_rows is
    // that order): clearing the filter then needs no sort.
    std::vector<quint32> m_sorted;
    // Entries received since the last flush, not yet in the index.
    std::vector<quint32> m_fresh;
    // Entries whose sort key or filter result changed since the last flush.
    std::vector<quint32> m_moved;
    // Entries destroyed since the last flush, still in the index until it.
    std::vector<quint32> m_dead;
    bool m_changed = false; // some shown value changed since the last flush
    Bits m_shown;           // the entries in m_rows
    // A flush's working sets, kept between flushes so that none allocates: a bit per entry
    // (clear between uses), the entries going into the order, and the rows leaving and coming.
    Bits m_mark;
    std::vector<quint32> m_add;
    std::vector<quint32> m_leaving;
    std::vector<quint32> m_rowsAdd;
    int m_flushInterval = 50;
    int m_exactSignalRows = 2;
    quint32 m_entryLimit;
    bool m_overLimit = false;
    int m_lastFlushMs = 0;

    struct Slot {
        quint32 mark = 0;
        QString id;
        QString name;
        bool ours = false;
    };
    std::vector<Slot> m_slots; // slot 0: no mark
    QHash<quint32, quint16> m_slotOfMark;
    std::vector<quint32> m_slotRank; // slot → position in name order

    ConnectionFilter m_filter;
    int m_sortColumn = -1; // -1: the order of arrival
    Qt::SortOrder m_sortOrder = Qt::AscendingOrder;
    qsizetype m_count = 0;
    bool m_paused = false;
    bool m_loading = false;
    bool m_endPending = false; // the snapshot's End came; snapshotFinished once all is shown
    bool m_accounting = true;
    int m_snapshotCount = 0;
    QString m_error;
    QTimer m_flushTimer;
    QTimer m_clockTimer; // timeouts and ages move on every second
    QElapsedTimer m_clock;
    qint64 m_epochWallMs = 0; // wall clock at m_clock's start
};

} // namespace portico
