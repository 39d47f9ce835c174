// SPDX-License-Identifier: GPL-3.0-or-later
// Parses /proc/net/{tcp,udp}{,6}: "sl local_address rem_address st ...", addresses as hex words.
#include "socket_lookup.h"

#include <QFile>
#include <QtEndian>

namespace portico {

namespace {

constexpr int tcpListen = 0x0A;      // TCP_LISTEN
constexpr int udpUnconnected = 0x07; // TCP_CLOSE: a bound UDP socket with no peer

// The kernel prints each 32-bit word of the address with "%08X" of the word as it sits in
// memory (network order) read as a host integer; so the host-order bytes of the parsed value
// are the address bytes, whatever this host's byte order.
bool parseAddress(const QByteArray &hex, bool v6, QHostAddress *out) {
    const int words = v6 ? 4 : 1;
    if (hex.size() != words * 8)
        return false;
    quint8 bytes[16];
    for (int w = 0; w < words; ++w) {
        bool ok = false;
        const quint32 value = hex.mid(w * 8, 8).toUInt(&ok, 16);
        if (!ok)
            return false;
        qToUnaligned(value, bytes + w * 4);
    }
    if (v6)
        *out = QHostAddress(bytes);
    else
        *out = QHostAddress(qFromBigEndian<quint32>(bytes));
    return true;
}

} // namespace

bool Listener::isWildcard() const {
    return address == QHostAddress(QHostAddress::AnyIPv4) ||
           address == QHostAddress(QHostAddress::AnyIPv6);
}

bool Listener::isLoopback() const {
    return address.isLoopback();
}

QString Listener::describe() const {
    const QString a = address.protocol() == QHostAddress::IPv6Protocol
                          ? QStringLiteral("[%1]").arg(address.toString())
                          : address.toString();
    return QStringLiteral("%1 %2:%3").arg(protocol, a).arg(port);
}

SocketLookup::SocketLookup(const QString &procNet)
    : m_procNet(procNet) {}

QList<Listener> SocketLookup::parse(const QByteArray &text, const QString &protocol, bool v6) {
    QList<Listener> out;
    const int wanted = protocol == QLatin1String("tcp") ? tcpListen : udpUnconnected;
    const QList<QByteArray> lines = text.split('\n');
    for (qsizetype i = 1; i < lines.size(); ++i) { // the first line is the heading
        const QList<QByteArray> fields = lines[i].simplified().split(' ');
        if (fields.size() < 4)
            continue;
        const QByteArray &local = fields[1];
        const qsizetype colon = local.indexOf(':');
        if (colon < 0)
            continue;
        bool ok = false;
        const int state = fields[3].toInt(&ok, 16);
        if (!ok || state != wanted)
            continue;
        Listener l;
        l.protocol = protocol;
        l.v6Only = v6;
        if (!parseAddress(local.left(colon), v6, &l.address))
            continue;
        const uint port = local.mid(colon + 1).toUInt(&ok, 16);
        if (!ok || port == 0 || port > 65535)
            continue;
        l.port = quint16(port);
        // A UDP socket connected to a peer is no server; its remote port is set.
        if (state == udpUnconnected && !fields[2].endsWith(":0000"))
            continue;
        out.append(l);
    }
    return out;
}

QList<Listener> SocketLookup::listeners(QString *error) const {
    QList<Listener> out;
    const struct {
        const char *file;
        const char *protocol;
        bool v6;
    } files[] = {
        {"tcp", "tcp", false}, {"tcp6", "tcp", true}, {"udp", "udp", false}, {"udp6", "udp", true}};
    for (const auto &f : files) {
        QFile file(m_procNet + QLatin1Char('/') + QLatin1String(f.file));
        if (!file.open(QIODevice::ReadOnly)) {
            if (!f.v6 && error && error->isEmpty())
                *error =
                    QStringLiteral("cannot read %1: %2").arg(file.fileName(), file.errorString());
            continue;
        }
        out += parse(file.readAll(), QLatin1String(f.protocol), f.v6);
    }
    return out;
}

} // namespace portico
