// SPDX-License-Identifier: GPL-3.0-or-later
// The forwards table: the helper's applied set plus the user's pending edits, one row per forward,
// with live counters. Updated in place (inserts, removes, dataChanged), never reset, so that the
// selection, the scroll position and the sort survive a refresh.
#pragma once

#include "dbus_types.h"
#include "forward.h"

#include <QAbstractTableModel>
#include <QElapsedTimer>
#include <QHash>
#include <QList>
#include <functional>
#include <optional>

namespace portico {

class ForwardTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column {
        EnabledColumn,
        NameColumn,
        ProtocolColumn,
        ExternalColumn,
        TargetColumn,
        SourcesColumn,
        OptionsColumn,
        HitsColumn,
        StatusColumn,
        ColumnCount
    };
    enum Role {
        RawValueRole = Qt::UserRole + 1, // a sortable value: numbers for ports and hits
        KeyRole,                         // the row's stable key (the id, or "new:N")
    };
    enum class Status { Applied, Added, Edited, Deleted };

    struct Row {
        QString key;
        Forward forward;                // what the user wants (the applied one if unchanged)
        std::optional<Forward> applied; // what the helper has; none for a pending add
        Status status = Status::Applied;
        bool hasCounters = false;
        CounterPair counters;
        double packetRate = 0;
        double byteRate = 0;
    };

    explicit ForwardTableModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;
    bool setData(const QModelIndex &index, const QVariant &value, int role) override;

    // The helper's set. keepPending=false drops every pending edit; true keeps them on top of the
    // new set (an edit of a forward that is gone becomes a pending add).
    void setApplied(const QList<Forward> &forwards, bool keepPending = false);

    // Pending edits. Keys come from KeyRole or addPending.
    QString addPending(const Forward &f);
    void editPending(const QString &key, const Forward &f);
    void deletePending(const QString &key); // a pending add goes; others are marked
    void setEnabledPending(const QString &key, bool enabled);
    void revertRow(const QString &key);

    // GetCounters result; rates are computed against the previous sample.
    void setCounters(const CounterMap &counters);
    void clearCounters();

    bool hasPendingChanges() const;
    int pendingCount() const;
    // The forwards that Apply sends: every row but the pending deletes, in row order.
    QList<Forward> workingSet() const;
    QList<Forward> appliedSet() const;
    // One line per pending change, for the conflict dialog and the status bar.
    QStringList pendingSummary() const;

    int rowForKey(const QString &key) const { return m_rowOfKey.value(key, -1); }
    const Row &rowAt(int row) const { return m_rows.at(row); }
    const QList<Row> &rows() const { return m_rows; }

    static QString statusText(Status s);
    static QString externalText(const Forward &f);
    static QString targetText(const Forward &f);
    static QString sourcesText(const Forward &f);
    static QString optionsText(const Forward &f);
    static QString formatBytes(quint64 bytes);

private:
    QVariant displayData(const Row &r, int column) const;
    QVariant rawData(const Row &r, int column) const;
    void removeRowsWhere(const std::function<bool(const Row &)> &pred);
    void appendRows(QList<Row> &&rows);
    void rowChanged(int row);
    void reindexFrom(int row);
    void setRowKey(int row, const QString &key);

    QList<Row> m_rows;
    QHash<QString, int> m_rowOfKey;
    quint64 m_nextNew = 1;
    QElapsedTimer m_sampleClock;
};

} // namespace portico
