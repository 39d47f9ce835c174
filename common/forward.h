// SPDX-License-Identifier: GPL-3.0-or-later
// The Forward value type: one port forward as the helper, the GUI and the CLI all see it.
#pragma once

#include <QHostAddress>
#include <QList>
#include <QString>
#include <QtGlobal>

namespace portico {

enum class Protocol { Tcp, Udp, TcpUdp };

struct PortRange {
    quint16 first = 0;
    quint16 last = 0;

    bool isNull() const { return first == 0; }
    bool isRange() const { return last != first; }
    int length() const { return int(last) - int(first) + 1; }
    bool overlaps(const PortRange &o) const { return first <= o.last && o.first <= last; }
    QString toString() const; // "80" or "8000-8010"
    friend bool operator==(const PortRange &, const PortRange &) = default;
};

struct Cidr {
    QHostAddress address; // network address, host bits cleared
    int prefixLength = -1;

    QString toString() const; // "198.51.100.0/24"
    bool contains(const Cidr &other) const;
    friend bool operator==(const Cidr &, const Cidr &) = default;
};

struct Forward {
    QString id; // set by the helper: "f" followed by the mark number
    QString name;
    bool enabled = true;
    Protocol protocol = Protocol::Tcp;
    QString interface;            // inbound interface; empty = any
    QHostAddress externalAddress; // null = any address of this host
    PortRange externalPort;
    QList<Cidr> sources;        // empty = anyone
    QHostAddress targetAddress; // null = this host (a local redirect)
    PortRange targetPort;       // null = same as externalPort
    bool masquerade = false;
    bool hairpin = false;
    QString comment;

    bool isLocalRedirect() const { return targetAddress.isNull(); }
    // Which families the forward applies to: decided by its addresses, both when it has none.
    bool appliesToIPv4() const;
    bool appliesToIPv6() const;
    // The target port that external port p maps to (one to one for ranges, else the single port).
    quint16 targetPortFor(quint16 p) const;
    // The number kept in the conntrack mark of flows this forward carries; 0 if the id is unset.
    quint32 mark() const;
    static QString idForMark(quint32 mark);

    friend bool operator==(const Forward &, const Forward &) = default;
};

QString protocolToString(Protocol p);
bool protocolFromString(const QString &s, Protocol *out);

} // namespace portico
