// SPDX-License-Identifier: GPL-3.0-or-later
// The Forward helpers: ids and marks, families, port mapping and the small value types.
#include "forward.h"

namespace portico {

namespace {
constexpr quint32 maxMark = 0xffffff;
}

QString PortRange::toString() const {
    if (isNull())
        return {};
    if (!isRange())
        return QString::number(first);
    return QString::number(first) + QLatin1Char('-') + QString::number(last);
}

QString Cidr::toString() const {
    return address.toString() + QLatin1Char('/') + QString::number(prefixLength);
}

bool Cidr::contains(const Cidr &other) const {
    if (address.protocol() != other.address.protocol() || prefixLength < 0 ||
        prefixLength > other.prefixLength)
        return false;
    return other.address.isInSubnet(address, prefixLength);
}

bool Forward::appliesToIPv4() const {
    using P = QHostAddress;
    if (!targetAddress.isNull() && targetAddress.protocol() != P::IPv4Protocol)
        return false;
    if (!externalAddress.isNull() && externalAddress.protocol() != P::IPv4Protocol)
        return false;
    if (sources.isEmpty())
        return true;
    for (const Cidr &c : sources) {
        if (c.address.protocol() == P::IPv4Protocol)
            return true;
    }
    return false;
}

bool Forward::appliesToIPv6() const {
    using P = QHostAddress;
    if (!targetAddress.isNull() && targetAddress.protocol() != P::IPv6Protocol)
        return false;
    if (!externalAddress.isNull() && externalAddress.protocol() != P::IPv6Protocol)
        return false;
    if (sources.isEmpty())
        return true;
    for (const Cidr &c : sources) {
        if (c.address.protocol() == P::IPv6Protocol)
            return true;
    }
    return false;
}

quint16 Forward::targetPortFor(quint16 p) const {
    if (targetPort.isNull())
        return p;
    if (targetPort.isRange() && externalPort.isRange() &&
        targetPort.length() == externalPort.length())
        return quint16(targetPort.first + (p - externalPort.first));
    return targetPort.first;
}

quint32 Forward::mark() const {
    // Strict: "f" then decimal digits, no leading zero, so that one mark has one id.
    if (id.size() < 2 || id.size() > 9 || id.at(0) != QLatin1Char('f') ||
        id.at(1) == QLatin1Char('0'))
        return 0;
    quint32 value = 0;
    for (qsizetype i = 1; i < id.size(); ++i) {
        const QChar c = id.at(i);
        if (c < QLatin1Char('0') || c > QLatin1Char('9'))
            return 0;
        value = value * 10 + quint32(c.unicode() - '0');
    }
    return value <= maxMark ? value : 0;
}

QString Forward::idForMark(quint32 mark) {
    if (mark == 0 || mark > maxMark)
        return {};
    return QLatin1Char('f') + QString::number(mark);
}

QString protocolToString(Protocol p) {
    switch (p) {
    case Protocol::Tcp:
        return QStringLiteral("tcp");
    case Protocol::Udp:
        return QStringLiteral("udp");
    case Protocol::TcpUdp:
        return QStringLiteral("tcp+udp");
    }
    return {};
}

bool protocolFromString(const QString &s, Protocol *out) {
    Protocol p;
    if (s == QLatin1String("tcp"))
        p = Protocol::Tcp;
    else if (s == QLatin1String("udp"))
        p = Protocol::Udp;
    else if (s == QLatin1String("tcp+udp"))
        p = Protocol::TcpUdp;
    else
        return false;
    if (out)
        *out = p;
    return true;
}

} // namespace portico
