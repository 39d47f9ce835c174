// SPDX-License-Identifier: GPL-3.0-or-later
// The sockets of the helper's own network namespace that accept traffic: TCP listeners and bound
// UDP sockets, read from /proc/net/{tcp,tcp6,udp,udp6} (which show the reading process's
// namespace). For the diagnosis's listener checks; read-only.
#pragma once

#include <QHostAddress>
#include <QList>
#include <QString>

namespace portico {

struct Listener {
    QString protocol;     // "tcp" or "udp"
    QHostAddress address; // 0.0.0.0 or :: for every address
    quint16 port = 0;
    bool v6Only = false; // an IPv6 socket; it may take IPv4 too, /proc does not say

    bool isWildcard() const;
    bool isLoopback() const;
    // "tcp 0.0.0.0:80", "udp [::]:53"
    QString describe() const;
};

class SocketLookup {
public:
    // procNet is "/proc/net"; tests may point it elsewhere.
    explicit SocketLookup(const QString &procNet = QStringLiteral("/proc/net"));

    // Every listener; `error` names the first file that could not be read (IPv6 files may be
    // missing when IPv6 is off, which is not an error).
    QList<Listener> listeners(QString *error) const;

    // Parses one file's text (the format of /proc/net/tcp); exposed for the unit tests.
    static QList<Listener> parse(const QByteArray &text, const QString &protocol, bool v6);

private:
    QString m_procNet;
};

} // namespace portico
