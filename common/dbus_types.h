// SPDX-License-Identifier: GPL-3.0-or-later
// The D-Bus types of the API beyond a{sv}: the counters of GetCounters (a{s(tt)}) and the list
// of forwards (aa{sv}). Call registerDBusTypes() once before using them on a connection.
#pragma once

#include <QDBusArgument>
#include <QList>
#include <QMap>
#include <QMetaType>
#include <QString>
#include <QVariantMap>

namespace portico {

struct CounterPair {
    quint64 packets = 0;
    quint64 bytes = 0;

    friend bool operator==(const CounterPair &, const CounterPair &) = default;
};

using CounterMap = QMap<QString, CounterPair>;

QDBusArgument &operator<<(QDBusArgument &arg, const CounterPair &c);
const QDBusArgument &operator>>(const QDBusArgument &arg, CounterPair &c);

void registerDBusTypes();

} // namespace portico

Q_DECLARE_METATYPE(portico::CounterPair)
Q_DECLARE_METATYPE(portico::CounterMap)
