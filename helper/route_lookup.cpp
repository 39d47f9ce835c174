// SPDX-License-Identifier: GPL-3.0-or-later
// RTM_GETROUTE over a NETLINK_ROUTE socket of the helper's namespace: one lookup with
// RTM_F_FIB_MATCH (the matching route, as `ip route get fibmatch` shows it) or one dump of the
// main table. Attributes are parsed with one callback and their types checked.
#include "route_lookup.h"

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <vector>

namespace portico {

namespace {

struct RouteAttrs {
    const nlattr *tb[RTA_MAX + 1] = {};
};

int routeAttr(const nlattr *attr, void *data) {
    auto *a = static_cast<RouteAttrs *>(data);
    const int type = mnl_attr_get_type(attr);
    if (mnl_attr_type_valid(attr, RTA_MAX) < 0)
        return MNL_CB_OK;
    switch (type) {
    case RTA_OIF:
    case RTA_TABLE:
    case RTA_PRIORITY:
        if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
            return MNL_CB_OK;
        break;
    case RTA_DST:
    case RTA_GATEWAY:
    case RTA_PREFSRC:
        if (mnl_attr_validate(attr, MNL_TYPE_BINARY) < 0)
            return MNL_CB_OK;
        break;
    default:
        break;
    }
    a->tb[type] = attr;
    return MNL_CB_OK;
}

QHostAddress addressAttr(const nlattr *attr, int family) {
    if (!attr)
        return {};
    const auto *p = static_cast<const quint8 *>(mnl_attr_get_payload(attr));
    const unsigned len = mnl_attr_get_payload_len(attr);
    if (family == AF_INET && len == 4) {
        return QHostAddress(quint32(p[0]) << 24 | quint32(p[1]) << 16 | quint32(p[2]) << 8 |
                            quint32(p[3]));
    }
    if (family == AF_INET6 && len == 16)
        return QHostAddress(p);
    return {};
}

// The gateway and interface of the first next hop of a multipath route.
void firstNextHop(const nlattr *multipath, int family, Route *r) {
    const auto *nh = static_cast<const rtnexthop *>(mnl_attr_get_payload(multipath));
    const unsigned len = mnl_attr_get_payload_len(multipath);
    if (len < sizeof(rtnexthop) || nh->rtnh_len < sizeof(rtnexthop) || nh->rtnh_len > len)
        return;
    r->oif = nh->rtnh_ifindex;
    const int attrLen = nh->rtnh_len - int(RTNH_LENGTH(0));
    const auto *attr = reinterpret_cast<const nlattr *>(RTNH_DATA(nh));
    for (int left = attrLen; mnl_attr_ok(attr, left); attr = mnl_attr_next(attr)) {
        left -= int(NLMSG_ALIGN(attr->nla_len));
        if (mnl_attr_get_type(attr) == RTA_GATEWAY)
            r->gateway = addressAttr(attr, family);
    }
}

Route routeFromMessage(const nlmsghdr *nlh) {
    Route r;
    const auto *rtm = static_cast<const rtmsg *>(mnl_nlmsg_get_payload(nlh));
    RouteAttrs attrs;
    mnl_attr_parse(nlh, sizeof(*rtm), routeAttr, &attrs);
    r.found = true;
    r.type = rtm->rtm_type;
    r.prefixLength = rtm->rtm_dst_len;
    r.table = attrs.tb[RTA_TABLE] ? mnl_attr_get_u32(attrs.tb[RTA_TABLE]) : rtm->rtm_table;
    r.network = addressAttr(attrs.tb[RTA_DST], rtm->rtm_family);
    if (r.network.isNull())
        r.network = rtm->rtm_family == AF_INET6 ? QHostAddress(QHostAddress::AnyIPv6)
                                                : QHostAddress(QHostAddress::AnyIPv4);
    r.gateway = addressAttr(attrs.tb[RTA_GATEWAY], rtm->rtm_family);
    if (attrs.tb[RTA_OIF])
        r.oif = int(mnl_attr_get_u32(attrs.tb[RTA_OIF]));
    if (attrs.tb[RTA_MULTIPATH] && !r.oif)
        firstNextHop(attrs.tb[RTA_MULTIPATH], rtm->rtm_family, &r);
    r.oifName = RouteLookup::interfaceName(r.oif);
    return r;
}

} // namespace

bool Route::isLocal() const {
    return found && type == RTN_LOCAL;
}

bool Route::isUnicast() const {
    return found && type == RTN_UNICAST;
}

bool Route::isConnected() const {
    return isUnicast() && gateway.isNull();
}

QString Route::describe() const {
    if (!found)
        return QStringLiteral("no route");
    QString prefix;
    switch (type) {
    case RTN_LOCAL:
        prefix = QStringLiteral("local ");
        break;
    case RTN_BLACKHOLE:
        prefix = QStringLiteral("blackhole ");
        break;
    case RTN_UNREACHABLE:
        prefix = QStringLiteral("unreachable ");
        break;
    case RTN_PROHIBIT:
        prefix = QStringLiteral("prohibit ");
        break;
    default:
        break;
    }
    QString s = prefix + QStringLiteral("%1/%2").arg(network.toString()).arg(prefixLength);
    if (prefixLength == 0)
        s = prefix + QStringLiteral("default");
    if (!gateway.isNull())
        s += QStringLiteral(" via ") + gateway.toString();
    if (!oifName.isEmpty())
        s += QStringLiteral(" dev ") + oifName;
    return s;
}

QString Route::failure(const QHostAddress &destination) const {
    const QString d = destination.toString();
    switch (error) {
    case EINVAL:
        // What the kernel answers for a blackhole route.
        return QStringLiteral("the route to %1 is a blackhole route: packets to it are "
                              "silently discarded")
            .arg(d);
    case EHOSTUNREACH:
        return QStringLiteral("the route to %1 is an 'unreachable' route").arg(d);
    case EACCES:
        return QStringLiteral("the route to %1 is a 'prohibit' route").arg(d);
    case ENETUNREACH:
        return QStringLiteral("there is no route to %1 (no connected network contains it and "
                              "there is no default route)")
            .arg(d);
    default:
        return QStringLiteral("the kernel finds no route to %1 (%2)")
            .arg(d, QString::fromLocal8Bit(std::strerror(error)));
    }
}

RouteLookup::RouteLookup() {
    m_nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (!m_nl) {
        m_openError = QStringLiteral("cannot open a routing netlink socket: %1")
                          .arg(QString::fromLocal8Bit(std::strerror(errno)));
        return;
    }
    if (mnl_socket_bind(m_nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        m_openError = QStringLiteral("cannot bind a routing netlink socket: %1")
                          .arg(QString::fromLocal8Bit(std::strerror(errno)));
        mnl_socket_close(m_nl);
        m_nl = nullptr;
        return;
    }
    m_portId = mnl_socket_get_portid(m_nl);
    m_seq = unsigned(time(nullptr));
}

RouteLookup::~RouteLookup() {
    if (m_nl)
        mnl_socket_close(m_nl);
}

QString RouteLookup::interfaceName(int index) {
    if (index <= 0)
        return {};
    char name[IF_NAMESIZE] = {};
    if (!if_indextoname(unsigned(index), name))
        return QStringLiteral("#%1").arg(index);
    return QString::fromLocal8Bit(name);
}

bool RouteLookup::request(void *buf, const std::function<void(const void *)> &onRoute,
                          int *kernelError, QString *error) {
    auto *nlh = static_cast<nlmsghdr *>(buf);
    if (!m_nl) {
        *error = m_openError;
        return false;
    }
    if (mnl_socket_sendto(m_nl, nlh, nlh->nlmsg_len) < 0) {
        *error = QStringLiteral("cannot ask the kernel for a route: %1")
                     .arg(QString::fromLocal8Bit(std::strerror(errno)));
        return false;
    }
    const unsigned seq = nlh->nlmsg_seq;
    std::vector<char> reply(MNL_SOCKET_BUFFER_SIZE * 4);
    while (true) {
        const ssize_t n = mnl_socket_recvfrom(m_nl, reply.data(), reply.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            *error = QStringLiteral("cannot read the kernel's route: %1")
                         .arg(QString::fromLocal8Bit(std::strerror(errno)));
            return false;
        }
        int len = int(n);
        for (auto *m = reinterpret_cast<const nlmsghdr *>(reply.data()); mnl_nlmsg_ok(m, len);
             m = mnl_nlmsg_next(m, &len)) {
            if (m->nlmsg_seq != seq || m->nlmsg_pid != m_portId)
                continue;
            if (m->nlmsg_type == NLMSG_DONE)
                return true;
            if (m->nlmsg_type == NLMSG_ERROR) {
                const auto *err = static_cast<const nlmsgerr *>(mnl_nlmsg_get_payload(m));
                *kernelError = -err->error;
                return true;
            }
            if (m->nlmsg_type == RTM_NEWROUTE) {
                onRoute(m);
                // A lookup answers with exactly one route and no DONE.
                if (!(nlh->nlmsg_flags & NLM_F_DUMP))
                    return true;
            }
        }
    }
}

Route RouteLookup::lookup(const QHostAddress &destination, QString *error) {
    alignas(nlmsghdr) char buf[MNL_SOCKET_BUFFER_SIZE];
    nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_GETROUTE;
    nlh->nlmsg_flags = NLM_F_REQUEST;
    nlh->nlmsg_seq = ++m_seq;
    auto *rtm = static_cast<rtmsg *>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
    const bool v6 = destination.protocol() == QHostAddress::IPv6Protocol;
    rtm->rtm_family = v6 ? AF_INET6 : AF_INET;
    rtm->rtm_dst_len = v6 ? 128 : 32;
    rtm->rtm_flags = RTM_F_FIB_MATCH;
    if (v6) {
        const Q_IPV6ADDR a = destination.toIPv6Address();
        mnl_attr_put(nlh, RTA_DST, 16, a.c);
    } else {
        const quint32 v = destination.toIPv4Address();
        const quint8 a[4] = {quint8(v >> 24), quint8(v >> 16), quint8(v >> 8), quint8(v)};
        mnl_attr_put(nlh, RTA_DST, 4, a);
    }
    Route route;
    int kernelError = 0;
    if (!request(
            buf, [&](const void *m) { route = routeFromMessage(static_cast<const nlmsghdr *>(m)); },
            &kernelError, error))
        return route;
    if (kernelError) {
        route = Route();
        route.error = kernelError;
    }
    return route;
}

QList<Route> RouteLookup::defaultRoutes(int family, QString *error) {
    alignas(nlmsghdr) char buf[MNL_SOCKET_BUFFER_SIZE];
    nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_GETROUTE;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_seq = ++m_seq;
    auto *rtm = static_cast<rtmsg *>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
    rtm->rtm_family = quint8(family);
    QList<Route> routes;
    int kernelError = 0;
    const bool ok = request(
        buf,
        [&](const void *m) {
            const Route r = routeFromMessage(static_cast<const nlmsghdr *>(m));
            if (r.prefixLength == 0 && r.table == RT_TABLE_MAIN && r.type == RTN_UNICAST)
                routes.append(r);
        },
        &kernelError, error);
    if (ok && kernelError)
        *error = QStringLiteral("cannot list the routes: %1")
                     .arg(QString::fromLocal8Bit(std::strerror(kernelError)));
    return routes;
}

} // namespace portico
