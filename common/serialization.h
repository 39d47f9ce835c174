// SPDX-License-Identifier: GPL-3.0-or-later
// Forwards to and from JSON (state and export) and a{sv} (the bus). Both go through the same
// field parsers in validation.h, so a value refused on the bus is refused in a file too.
#pragma once

#include "forward.h"
#include "json_out.h"
#include "validation.h"

#include <QDBusArgument>
#include <QJsonArray>
#include <QJsonObject>
#include <QVariantMap>

namespace portico {

// Bus form: the a{sv} of DESIGN.md. Unknown keys and values of the wrong type are refused.
// Keys that are absent keep the value already in *out: pass a default Forward for a new one, or
// the existing forward for a partial UpdateForward. After merging, name and external_port must
// be set. "id" is optional (the helper sets it). Only types and field syntax are checked here;
// consistency across fields is validateForward's job, so callers run both. On error, *out is
// left unchanged and the error's key is the offending bus key.
// `sources` may be a QStringList or a QDBusArgument of signature "as" (as QtDBus delivers it).
ValidationError forwardFromVariantMap(const QVariantMap &map, Forward *out);
// All: every key, as ListForwards returns them. Request: only name, external_port and the keys
// whose value differs from the default, which is how clients send new and replaced forwards:
// about half the bytes for a typical forward, and a big ReplaceForwards is mostly bytes.
enum class BusKeys { All, Request };
QVariantMap forwardToVariantMap(const Forward &f, BusKeys keys = BusKeys::All);

// A list of forwards that QtDBus writes straight into a message as aa{sv}, key by key, without
// a QVariantMap per forward (at 10,000 forwards building those maps cost more than sending
// them): ListForwards' reply, and a ReplaceForwards list (Portico's own clients send the list
// as a file instead: ImportForwards, forwardsDocumentText below). Reading one back
// parses each entry with forwardFromVariantMap; the first bad entry empties `forwards` and
// sets `error`. Registered by registerDBusTypes().
struct BusForwardList {
    QList<Forward> forwards;
    BusKeys keys = BusKeys::All;
    QString error;
};
QDBusArgument &operator<<(QDBusArgument &arg, const BusForwardList &list);
const QDBusArgument &operator>>(const QDBusArgument &arg, BusForwardList &list);

// File form: the same keys, as JSON values of the matching types (sources: array of strings),
// with the same merge rule. forwardToJson writes every key.
ValidationError forwardFromJson(const QJsonObject &obj, Forward *out);
QJsonObject forwardToJson(const Forward &f);

// A list of forwards as a JSON array, each parsed onto a default Forward; errors name the
// position and, when known, the name ("forward 3 (web): ...").
ValidationError forwardsFromJson(const QJsonArray &array, QList<Forward> *out);
QJsonArray forwardsToJson(const QList<Forward> &forwards);

// The same JSON as text written by hand: the bytes QJsonDocument(forwardToJson(f)) gives in
// its compact form, at a tenth of the time. forwardsJsonText is a JSON array of them.
void appendForwardJson(JsonOut &out, const Forward &f);
QByteArray forwardJsonText(const Forward &f);
QByteArray forwardsJsonText(const QList<Forward> &forwards);

// A whole list as one document, as porticoctl export writes it: {"schema": 1, "forwards": [...]}.
// forwardsFromDocument reads that, the shape of `porticoctl list --json` ({"generation": N,
// "forwards": [...]}) or a bare array, with forwardsFromJson's messages; it is what import
// (the CLI's file and ImportForwards' sealed file) reads.
QByteArray forwardsDocumentText(const QList<Forward> &forwards);
ValidationError forwardsFromDocument(const QByteArray &data, QList<Forward> *out);
// forwardsFromDocument's fast path on its own, for the tests: true when it read the document
// (the result is then the general path's), false when it left it to the general path.
bool readForwardsDocumentFast(const QByteArray &data, QList<Forward> *out);

} // namespace portico

Q_DECLARE_METATYPE(portico::BusForwardList)
