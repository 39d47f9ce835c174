// SPDX-License-Identifier: GPL-3.0-or-later
// The forwards table model: merging the helper's set with pending edits, row by row.
#include "forward_table_model.h"

#include <QFont>
#include <QLocale>
#include <QSet>

namespace portico {

namespace {

QString portsText(const PortRange &r) {
    return r.isNull() ? QString() : r.toString();
}

QString hostPort(const QHostAddress &a, const QString &port) {
    if (a.protocol() == QHostAddress::IPv6Protocol)
        return QStringLiteral("[%1]:%2").arg(a.toString(), port);
    return QStringLiteral("%1:%2").arg(a.toString(), port);
}

} // namespace

ForwardTableModel::ForwardTableModel(QObject *parent)
    : QAbstractTableModel(parent) {
    m_sampleClock.start();
}

int ForwardTableModel::rowCount(const QModelIndex &parent) const {
    return parent.isValid() ? 0 : int(m_rows.size());
}

int ForwardTableModel::columnCount(const QModelIndex &parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QString ForwardTableModel::statusText(Status s) {
    switch (s) {
    case Status::Applied:
        return tr("applied");
    case Status::Added:
        return tr("pending add");
    case Status::Edited:
        return tr("pending edit");
    case Status::Deleted:
        return tr("pending delete");
    }
    return {};
}

QString ForwardTableModel::externalText(const Forward &f) {
    const QString iface = f.interface.isEmpty() ? tr("any interface") : f.interface;
    const QString port = portsText(f.externalPort);
    if (f.externalAddress.isNull())
        return QStringLiteral("%1 : %2").arg(iface, port);
    return QStringLiteral("%1 / %2").arg(iface, hostPort(f.externalAddress, port));
}

QString ForwardTableModel::targetText(const Forward &f) {
    const PortRange target = f.targetPort.isNull() ? f.externalPort : f.targetPort;
    if (f.isLocalRedirect())
        return tr("this host : %1").arg(portsText(target));
    return hostPort(f.targetAddress, portsText(target));
}

QString ForwardTableModel::sourcesText(const Forward &f) {
    if (f.sources.isEmpty())
        return tr("anyone");
    QStringList parts;
    for (const Cidr &c : f.sources)
        parts << c.toString();
    return parts.join(QStringLiteral(", "));
}

QString ForwardTableModel::optionsText(const Forward &f) {
    QStringList parts;
    if (f.masquerade)
        parts << tr("masquerade");
    if (f.hairpin)
        parts << tr("hairpin");
    return parts.join(QStringLiteral(", "));
}

QString ForwardTableModel::formatBytes(quint64 bytes) {
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = double(bytes);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    if (u == 0)
        return QStringLiteral("%1 B").arg(bytes);
    return QStringLiteral("%1 %2").arg(v, 0, 'f', 1).arg(QLatin1StringView(units[u]));
}

QVariant ForwardTableModel::displayData(const Row &r, int column) const {
    const Forward &f = r.forward;
    switch (column) {
    case EnabledColumn:
        return {};
    case NameColumn:
        return f.name;
    case ProtocolColumn:
        return protocolToString(f.protocol);
    case ExternalColumn:
        return externalText(f);
    case TargetColumn:
        return targetText(f);
    case SourcesColumn:
        return sourcesText(f);
    case OptionsColumn:
        return optionsText(f);
    case HitsColumn:
        if (!r.hasCounters)
            return QStringLiteral("—");
        return tr("%1 pkts · %2 · %3/s")
            .arg(QLocale().toString(qulonglong(r.counters.packets)), formatBytes(r.counters.bytes),
                 formatBytes(quint64(r.byteRate)));
    case StatusColumn:
        return statusText(r.status);
    }
    return {};
}

QVariant ForwardTableModel::rawData(const Row &r, int column) const {
    const Forward &f = r.forward;
    switch (column) {
    case EnabledColumn:
        return int(f.enabled);
    case NameColumn:
        return f.name; // the proxy compares it without case
    case ProtocolColumn:
        return int(f.protocol);
    case ExternalColumn:
        return int(f.externalPort.first);
    case TargetColumn:
        return targetText(f);
    case SourcesColumn:
        return int(f.sources.size());
    case OptionsColumn:
        return int(f.masquerade) * 2 + int(f.hairpin);
    case HitsColumn:
        return r.hasCounters ? qlonglong(r.counters.packets) : qlonglong(-1);
    case StatusColumn:
        return int(r.status);
    }
    return {};
}

QVariant ForwardTableModel::data(const QModelIndex &index, int role) const {
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const Row &r = m_rows.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
        return displayData(r, index.column());
    case Qt::CheckStateRole:
        if (index.column() == EnabledColumn)
            return r.forward.enabled ? Qt::Checked : Qt::Unchecked;
        return {};
    case Qt::ToolTipRole:
        if (index.column() == NameColumn && !r.forward.comment.isEmpty())
            return r.forward.comment;
        if (index.column() == HitsColumn && r.hasCounters)
            return tr("%1 packets, %2 bytes; %3 packets/s")
                .arg(r.counters.packets)
                .arg(r.counters.bytes)
                .arg(r.packetRate, 0, 'f', 1);
        if (index.column() == StatusColumn && r.status != Status::Applied)
            return tr("Not in the kernel yet: press Apply to send it to the helper.");
        return {};
    case Qt::FontRole:
        if (r.status == Status::Applied)
            return {};
        {
            QFont font;
            font.setItalic(true);
            font.setStrikeOut(r.status == Status::Deleted);
            if (index.column() == StatusColumn)
                font.setBold(true);
            return font;
        }
    case Qt::TextAlignmentRole:
        if (index.column() == HitsColumn)
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    case RawValueRole:
        return rawData(r, index.column());
    case KeyRole:
        return r.key;
    }
    return {};
}

QVariant ForwardTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case EnabledColumn:
        return tr("On");
    case NameColumn:
        return tr("Name");
    case ProtocolColumn:
        return tr("Protocol");
    case ExternalColumn:
        return tr("External side");
    case TargetColumn:
        return tr("Target");
    case SourcesColumn:
        return tr("Sources");
    case OptionsColumn:
        return tr("Options");
    case HitsColumn:
        return tr("Hits");
    case StatusColumn:
        return tr("Status");
    }
    return {};
}

Qt::ItemFlags ForwardTableModel::flags(const QModelIndex &index) const {
    Qt::ItemFlags f = QAbstractTableModel::flags(index);
    if (index.isValid() && index.column() == EnabledColumn &&
        m_rows.at(index.row()).status != Status::Deleted)
        f |= Qt::ItemIsUserCheckable;
    return f;
}

bool ForwardTableModel::setData(const QModelIndex &index, const QVariant &value, int role) {
    if (!index.isValid() || index.column() != EnabledColumn || role != Qt::CheckStateRole)
        return false;
    setEnabledPending(m_rows.at(index.row()).key,
                      value.value<Qt::CheckState>() == Qt::Checked || value.toInt() == Qt::Checked);
    return true;
}

void ForwardTableModel::reindexFrom(int row) {
    for (int i = row; i < m_rows.size(); ++i)
        m_rowOfKey.insert(m_rows.at(i).key, i);
}

void ForwardTableModel::setRowKey(int row, const QString &key) {
    m_rowOfKey.remove(m_rows.at(row).key);
    m_rows[row].key = key;
    m_rowOfKey.insert(key, row);
}

void ForwardTableModel::removeRowsWhere(const std::function<bool(const Row &)> &pred) {
    // Contiguous blocks from the end, so that each remove signal names rows that still exist.
    int first = -1;
    int lowest = int(m_rows.size());
    for (int i = int(m_rows.size()) - 1; i >= -1; --i) {
        const bool remove = i >= 0 && pred(m_rows.at(i));
        if (remove) {
            if (first < 0)
                first = i;
            continue;
        }
        if (first >= 0) {
            const int begin = i + 1;
            beginRemoveRows({}, begin, first);
            for (int k = begin; k <= first; ++k)
                m_rowOfKey.remove(m_rows.at(k).key);
            m_rows.remove(begin, first - begin + 1);
            endRemoveRows();
            lowest = begin;
            first = -1;
        }
    }
    if (lowest < m_rows.size())
        reindexFrom(lowest);
}

void ForwardTableModel::appendRows(QList<Row> &&rows) {
    if (rows.isEmpty())
        return;
    const int first = int(m_rows.size());
    beginInsertRows({}, first, first + int(rows.size()) - 1);
    if (m_rows.isEmpty()) {
        m_rows = std::move(rows);
        m_rowOfKey.reserve(m_rows.size());
    } else {
        m_rows.append(std::move(rows));
    }
    reindexFrom(first);
    endInsertRows();
}

void ForwardTableModel::rowChanged(int row) {
    emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

void ForwardTableModel::setApplied(const QList<Forward> &forwards, bool keepPending) {
    QHash<QString, qsizetype> theirs;
    theirs.reserve(forwards.size());
    for (qsizetype i = 0; i < forwards.size(); ++i)
        theirs.insert(forwards.at(i).id, i);

    removeRowsWhere([&](const Row &r) {
        if (!r.applied)
            return !keepPending;
        if (theirs.contains(r.applied->id))
            return false;
        // Gone from the helper: only a pending edit survives, as a pending add.
        return !keepPending || r.status != Status::Edited;
    });

    QList<int> changed;
    for (int i = 0; i < m_rows.size(); ++i) {
        Row &r = m_rows[i];
        if (!r.applied)
            continue;
        const auto it = theirs.constFind(r.applied->id);
        if (it == theirs.constEnd()) { // a kept edit of a forward someone else removed
            r.applied.reset();
            r.forward.id.clear();
            r.status = Status::Added;
            r.hasCounters = false;
            setRowKey(i, QStringLiteral("new:%1").arg(m_nextNew++));
            changed << i;
            continue;
        }
        const Forward &f = forwards.at(*it);
        if (!keepPending || r.status == Status::Applied) {
            if (r.forward != f || r.status != Status::Applied || *r.applied != f) {
                r.forward = f;
                r.applied = f;
                r.status = Status::Applied;
                changed << i;
            }
        } else if (*r.applied != f) {
            r.applied = f;
            if (r.status == Status::Edited && r.forward == f)
                r.status = Status::Applied;
            changed << i;
        }
    }
    if (changed.size() > m_rows.size() / 2 && !m_rows.isEmpty()) {
        emit dataChanged(index(0, 0), index(int(m_rows.size()) - 1, ColumnCount - 1));
    } else {
        for (int i : std::as_const(changed))
            rowChanged(i);
    }

    QList<Row> added;
    added.reserve(forwards.size() - m_rows.size());
    for (const Forward &f : forwards) {
        if (m_rowOfKey.contains(f.id))
            continue;
        Row &r = added.emplace_back();
        r.key = f.id;
        r.forward = f;
        r.applied = f;
    }
    appendRows(std::move(added));
}

QString ForwardTableModel::addPending(const Forward &f) {
    Row r;
    r.key = QStringLiteral("new:%1").arg(m_nextNew++);
    r.forward = f;
    r.forward.id.clear();
    r.status = Status::Added;
    const QString key = r.key;
    appendRows({std::move(r)});
    return key;
}

void ForwardTableModel::editPending(const QString &key, const Forward &f) {
    const int row = rowForKey(key);
    if (row < 0)
        return;
    Row &r = m_rows[row];
    r.forward = f;
    if (r.applied) {
        r.forward.id = r.applied->id;
        r.status = (r.forward == *r.applied) ? Status::Applied : Status::Edited;
    } else {
        r.forward.id.clear();
    }
    rowChanged(row);
}

void ForwardTableModel::deletePending(const QString &key) {
    const int row = rowForKey(key);
    if (row < 0)
        return;
    if (!m_rows.at(row).applied) {
        removeRowsWhere([&](const Row &r) { return r.key == key; });
        return;
    }
    Row &r = m_rows[row];
    r.forward = *r.applied;
    r.status = Status::Deleted;
    rowChanged(row);
}

void ForwardTableModel::setEnabledPending(const QString &key, bool enabled) {
    const int row = rowForKey(key);
    if (row < 0 || m_rows.at(row).status == Status::Deleted)
        return;
    Forward f = m_rows.at(row).forward;
    f.enabled = enabled;
    editPending(key, f);
}

void ForwardTableModel::revertRow(const QString &key) {
    const int row = rowForKey(key);
    if (row < 0)
        return;
    if (!m_rows.at(row).applied) {
        removeRowsWhere([&](const Row &r) { return r.key == key; });
        return;
    }
    Row &r = m_rows[row];
    r.forward = *r.applied;
    r.status = Status::Applied;
    rowChanged(row);
}

void ForwardTableModel::setCounters(const CounterMap &counters) {
    const qint64 elapsedMs = m_sampleClock.restart();
    for (Row &r : m_rows) {
        const auto it = r.applied ? counters.constFind(r.applied->id) : counters.constEnd();
        if (it == counters.constEnd()) {
            r.hasCounters = false;
            r.packetRate = r.byteRate = 0;
            continue;
        }
        if (r.hasCounters && elapsedMs > 0 && it->packets >= r.counters.packets &&
            it->bytes >= r.counters.bytes) {
            r.packetRate = double(it->packets - r.counters.packets) * 1000.0 / double(elapsedMs);
            r.byteRate = double(it->bytes - r.counters.bytes) * 1000.0 / double(elapsedMs);
        } else {
            r.packetRate = r.byteRate = 0;
        }
        r.counters = *it;
        r.hasCounters = true;
    }
    if (!m_rows.isEmpty())
        emit dataChanged(index(0, HitsColumn), index(int(m_rows.size()) - 1, HitsColumn));
}

void ForwardTableModel::clearCounters() {
    for (Row &r : m_rows)
        r.hasCounters = false;
    if (!m_rows.isEmpty())
        emit dataChanged(index(0, HitsColumn), index(int(m_rows.size()) - 1, HitsColumn));
}

bool ForwardTableModel::hasPendingChanges() const {
    return pendingCount() > 0;
}

int ForwardTableModel::pendingCount() const {
    int n = 0;
    for (const Row &r : m_rows)
        n += r.status != Status::Applied;
    return n;
}

QList<Forward> ForwardTableModel::workingSet() const {
    QList<Forward> out;
    out.reserve(m_rows.size());
    for (const Row &r : m_rows)
        if (r.status != Status::Deleted)
            out << r.forward;
    return out;
}

QList<Forward> ForwardTableModel::appliedSet() const {
    QList<Forward> out;
    out.reserve(m_rows.size());
    for (const Row &r : m_rows)
        if (r.applied)
            out << *r.applied;
    return out;
}

QStringList ForwardTableModel::pendingSummary() const {
    QStringList out;
    for (const Row &r : m_rows) {
        switch (r.status) {
        case Status::Applied:
            break;
        case Status::Added:
            out << tr("add '%1'").arg(r.forward.name);
            break;
        case Status::Edited:
            out << tr("change '%1'").arg(r.forward.name);
            break;
        case Status::Deleted:
            out << tr("delete '%1'").arg(r.forward.name);
            break;
        }
    }
    return out;
}

} // namespace portico
