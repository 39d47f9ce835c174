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

// The most the helper reads from a caller: about 250,000 forwards in the export format (2.5
// times the largest benchmark). The file is read and parsed before polkit is asked, so this
// bounds what a caller who is then refused can make the helper hold while it waits, as the
// bus's own message limit does for ReplaceForwards.
inline constexpr qint64 maxBytes = qint64(64) << 20;
// What a client reads from the helper, whose files it trusts.
inline constexpr qint64 maxTrustedBytes = qint64(1) << 30;

// A sealed memfd holding `bytes`; -1 with *error set when the kernel refuses. The caller owns
// (and closes) the descriptor.
int create(const char *name, const QByteArray &bytes, QString *error);

// The whole content of a file that create() made, or an error in words: a descriptor that is
// not a sealed memfd, or one over `limit` bytes, is refused unread.
QString read(int fd, QByteArray *out, qint64 limit = maxBytes);

} // namespace portico::sealed
