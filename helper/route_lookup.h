// SPDX-License-Identifier: GPL-3.0-or-later
// Read-only routing questions for the diagnosis, asked of the kernel of the helper's own network
// namespace over rtnetlink (RTM_GETROUTE through libmnl): which route a destination takes, and
// which default route there is. Nothing is changed, and no packet is sent.
#pragma once

#include <QHostAddress>
#include <QList>
#include <QString>

#include <functional>

struct mnl_socket;

namespace portico {

struct Route {
    bool found = false;
    int error = 0;        // the kernel's errno when !found (ENETUNREACH, EHOSTUNREACH, ...)
    int type = 0;         // RTN_UNICAST, RTN_LOCAL, RTN_BLACKHOLE, ...
    QHostAddress network; // the matching route's destination
    int prefixLength = 0; //   and its length
    QHostAddress gateway; // null: directly connected
    int oif = 0;          // outgoing interface index
    QString oifName;      // its name, or empty
    unsigned table = 0;

    bool isLocal() const;     // an address of this host
    bool isUnicast() const;   // a usable route to another host
    bool isConnected() const; // a unicast route without a gateway: the target's own link
    // "198.51.100.0/24 dev br0", "192.0.2.0/24 via 198.51.100.20 dev br0", "local 203.0.113.1"
    QString describe() const;
    // Why there is no route, in plain words ("there is no route to 192.0.2.50", "the route to
    // 192.0.2.50 is a blackhole route").
    QString failure(const QHostAddress &destination) const;
};

class RouteLookup {
public:
    RouteLookup();
    ~RouteLookup();
    RouteLookup(const RouteLookup &) = delete;
    RouteLookup &operator=(const RouteLookup &) = delete;

    // Empty when the socket is open, else why it is not.
    QString openError() const { return m_openError; }

    // The route the kernel would pick for a packet to `destination` (`ip route get fibmatch`).
    // `error` is set only for trouble with netlink itself; "no route" is a Route with !found.
    Route lookup(const QHostAddress &destination, QString *error);
    // The default routes (prefix length 0) of the main table of one family (AF_INET, AF_INET6).
    QList<Route> defaultRoutes(int family, QString *error);

    static QString interfaceName(int index);

private:
    bool request(void *buf, const std::function<void(const void *)> &onRoute, int *kernelError,
                 QString *error);

    mnl_socket *m_nl = nullptr;
    unsigned m_portId = 0;
    unsigned m_seq = 1;
    QString m_openError;
};

} // namespace portico
