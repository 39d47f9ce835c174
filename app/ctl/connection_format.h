// SPDX-License-Identifier: GPL-3.0-or-later
// How porticoctl prints conntrack records (issue 4): the readable table of `connections`, one
// line per event of --follow, and the JSON object per entry.
#pragma once

#include "conntrack_stream.h"
#include "conntrack_stream_reader.h"

#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QString>

namespace portico::ctl {

// Mark (its low 24 bits) -> forward, from the stream's Forwards frame.
using ForwardsByMark = QHash<quint32, ConntrackForward>;

QString formatAddress(quint8 family, const quint8 *address);
// "203.0.113.10:51234", "[2001:db8::10]:80"; no port for protocols without ports.
QString formatEndpoint(const ctstream::EntryRecord &e, const quint8 *address, quint16 port);
QString tcpStateName(quint8 state);      // "ESTABLISHED", ...; "-" when not TCP
QStringList statusFlags(quint32 status); // "ASSURED", "SEEN_REPLY", "DNAT", ...
// Where the forward sent the flow ("198.51.100.10:8080"), or empty when not translated.
QString translatedDestination(const ctstream::EntryRecord &e);

QString formatConnectionTable(const QList<ctstream::EntryRecord> &entries,
                              const ForwardsByMark &forwards);
QString formatConnectionLine(const ctstream::EntryRecord &e, const ForwardsByMark &forwards);
QJsonObject connectionToJson(const ctstream::EntryRecord &e, const ForwardsByMark &forwards);

} // namespace portico::ctl
