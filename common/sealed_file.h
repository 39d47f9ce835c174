// SPDX-License-Identifier: GPL-3.0-or-later
// Bulk data beside a D-Bus call (ImportForwards, ExportForwards): a memfd whose maker sealed it
// against writing, shrinking and growing before passing it. The bus itself is slow for bulk
// data (every key and value a separate QString and QVariant on both sides, and dbus-daemon
// copying and checking the whole message), and the system bus caps a message at 128 MiB. The
// seals are what let the receiver trust the file: it is memory, so reading it never blocks (a
// pipe or a file on a hung mount would stall the helper), and it cannot change while it is read.
#pragma once

#include <QByteArray>
#include <QString>

namespace portico::sealed {

// The most a receiver reads: about a million forwards in the export format.
inline constexpr qint64 maxBytes = qint64(256) << 20;

// A sealed memfd holding `bytes`; -1 with *error set when the kernel refuses. The caller owns
// (and closes) the descriptor.
int create(const char *name, const QByteArray &bytes, QString *error);

// The whole content of a file that create() made, or an error in words: a descriptor that is
// not a sealed memfd, or one over `limit` bytes, is refused unread.
QString read(int fd, QByteArray *out, qint64 limit = maxBytes);

} // namespace portico::sealed
