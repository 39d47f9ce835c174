// SPDX-License-Identifier: GPL-3.0-or-later
// Reading a forward straight from the a{sv} of a received message, for the big calls: the same
// keys, types, checks and messages as forwardFromVariantMap, without building a QVariantMap.
#pragma once

#include "forward.h"
#include "validation.h"

class QDBusArgument;

namespace portico {

// arg must be positioned at an a{sv}; reads all of it (on success) and parses it like
// forwardFromVariantMap(map, out) would parse the QVariantMap QtDBus makes of it: the keys in
// sorted order, the last of repeated keys winning.
ValidationError forwardFromBusArgument(const QDBusArgument &arg, Forward *out);

} // namespace portico
