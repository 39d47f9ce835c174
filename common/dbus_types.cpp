// SPDX-License-Identifier: GPL-3.0-or-later
// Marshalling of the counter struct (tt) and registration of the API's compound types.
#include "dbus_types.h"

#include "serialization.h"

#include <QDBusMetaType>

namespace portico {

QDBusArgument &operator<<(QDBusArgument &arg, const CounterPair &c) {
    arg.beginStructure();
    arg << c.packets << c.bytes;
    arg.endStructure();
    return arg;
}

const QDBusArgument &operator>>(const QDBusArgument &arg, CounterPair &c) {
    arg.beginStructure();
    arg >> c.packets >> c.bytes;
    arg.endStructure();
    return arg;
}

void registerDBusTypes() {
    qDBusRegisterMetaType<CounterPair>();
    qDBusRegisterMetaType<CounterMap>();
    qDBusRegisterMetaType<QList<QVariantMap>>();
    qDBusRegisterMetaType<BusForwardList>();
}

} // namespace portico
