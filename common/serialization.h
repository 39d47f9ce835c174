// SPDX-License-Identifier: GPL-3.0-or-later
// Forwards to and from JSON (state and export) and a{sv} (the bus). Both go through the same
// field parsers in validation.h, so a value refused on the bus is refused in a file too.
#pragma once

#include "forward.h"
#include "validation.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QVariantMap>

namespace portico {

// Bus form: the a{sv} of DESIGN.md. Unknown keys and values of the wrong type are refused.
// Keys that are absent take their defaults; "id" is optional (the helper sets it).
ValidationError forwardFromVariantMap(const QVariantMap &map, Forward *out);
QVariantMap forwardToVariantMap(const Forward &f);

// File form: the same keys, as JSON values of the matching types.
ValidationError forwardFromJson(const QJsonObject &obj, Forward *out);
QJsonObject forwardToJson(const Forward &f);

// A list of forwards as a JSON array; errors name the position ("forward 3: ...").
ValidationError forwardsFromJson(const QJsonArray &array, QList<Forward> *out);
QJsonArray forwardsToJson(const QList<Forward> &forwards);

} // namespace portico
