// SPDX-License-Identifier: GPL-3.0-or-later
// ctnetlink through libmnl, with libnetfilter_conntrack doing the attribute parsing and
// building; the filter a client may ask for; the accounting sysctl.
#include "conntrack_netlink.h"

#include <QDBusArgument>
#include <QDBusMetaType>
#include <QFile>
#include <QHostAddress>

#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <endian.h>
#include <netinet/in.h>
#include <poll.h>
#include <vector>

namespace portico::conntrack {

namespace {

struct ProtocolName {
    const char *name;
    quint8 number;
};
constexpr ProtocolName protocols[] = {
    {"tcp", IPPROTO_TCP},         {"udp", IPPROTO_UDP},   {"icmp", IPPROTO_ICMP},
    {"icmpv6", IPPROTO_ICMPV6},   {"sctp", IPPROTO_SCTP}, {"dccp", IPPROTO_DCCP},
    {"udplite", IPPROTO_UDPLITE}, {"gre", IPPROTO_GRE},
};

bool sameAddress(const quint8 *a, const Filter &f) {
    return std::memcmp(a, f.address, f.addressFamily == AF_INET ? 4 : 16) == 0;
}

QString typeName(const QVariant &v) {
    return QString::fromLatin1(v.metaType().name());
}

} // namespace

bool Filter::matches(const ctstream::EntryRecord &e, const QSet<quint32> &forwardMarks) const {
    if (protocol && e.protocol != protocol)
        return false;
    const quint32 fm = e.mark & forwardMarkMask;
    if (forwardMark && fm != forwardMark)
        return false;
    if (forwarded && (fm == 0 || !forwardMarks.contains(fm)))
        return false;
    if (port && e.origSport != port && e.origDport != port && e.replySport != port &&
        e.replyDport != port)
        return false;
    if (hasAddress && (e.family != addressFamily ||
                       (!sameAddress(e.origSrc, *this) && !sameAddress(e.origDst, *this) &&
                        !sameAddress(e.replySrc, *this) && !sameAddress(e.replyDst, *this))))
        return false;
    if (!ids.isEmpty() && !ids.contains(e.id))
        return false;
    return true;
}

quint8 protocolNumber(const QString &name) {
    for (const ProtocolName &p : protocols) {
        if (name == QLatin1String(p.name))
            return p.number;
    }
    return 0;
}

QString protocolName(quint8 number) {
    for (const ProtocolName &p : protocols) {
        if (number == p.number)
            return QLatin1String(p.name);
    }
    return QStringLiteral("proto %1").arg(number);
}

QString parseFilter(const QVariantMap &map, bool allowIds, Filter *out) {
    Filter f;
    const auto wrongType = [](const QString &key, const char *want, const QVariant &v) {
        return QStringLiteral("the filter key '%1' takes %2, not %3")
            .arg(key, QLatin1String(want), typeName(v));
    };
    for (auto it = map.cbegin(); it != map.cend(); ++it) {
        const QString &key = it.key();
        const QVariant &v = it.value();
        const QMetaType type = v.metaType();
        if (key == QLatin1String("forwarded")) {
            if (type.id() != QMetaType::Bool)
                return wrongType(key, "a boolean (b)", v);
            f.forwarded = v.toBool();
        } else if (key == QLatin1String("forward")) {
            if (type.id() != QMetaType::QString)
                return wrongType(key, "a forward id (s)", v);
            f.forwardId = v.toString();
            // Strict: "f" and the mark, the form the helper gives every forward.
            bool ok = false;
            const quint32 mark =
                f.forwardId.startsWith(QLatin1Char('f')) ? f.forwardId.mid(1).toUInt(&ok) : 0;
            if (!ok || mark == 0 || mark > forwardMarkMask ||
                QStringLiteral("f%1").arg(mark) != f.forwardId)
                return QStringLiteral("the filter key 'forward' takes a forward id like 'f3', "
                                      "not '%1'")
                    .arg(f.forwardId);
            f.forwardMark = mark;
        } else if (key == QLatin1String("address")) {
            if (type.id() != QMetaType::QString)
                return wrongType(key, "an address (s)", v);
            QHostAddress a;
            const QString text = v.toString();
            if (text.contains(QLatin1Char('/')) || text.contains(QLatin1Char('%')) ||
                !a.setAddress(text))
                return QStringLiteral("the filter key 'address' takes one IPv4 or IPv6 address, "
                                      "not '%1'")
                    .arg(text);
            bool isV4 = false;
            const quint32 v4 = a.toIPv4Address(&isV4);
            if (isV4 && a.protocol() == QHostAddress::IPv4Protocol) {
                f.addressFamily = AF_INET;
                const quint32 be = htonl(v4);
                std::memcpy(f.address, &be, 4);
            } else {
                f.addressFamily = AF_INET6;
                const Q_IPV6ADDR v6 = a.toIPv6Address();
                std::memcpy(f.address, v6.c, 16);
            }
            f.hasAddress = true;
        } else if (key == QLatin1String("port")) {
            if (type.id() != QMetaType::UInt)
                return wrongType(key, "a port number (u)", v);
            const uint port = v.toUInt();
            if (port == 0 || port > 65535)
                return QStringLiteral("the filter key 'port' takes a port from 1 to 65535, not %1")
                    .arg(port);
            f.port = quint16(port);
        } else if (key == QLatin1String("protocol")) {
            if (type.id() != QMetaType::QString)
                return wrongType(key, "a protocol name (s)", v);
            f.protocol = protocolNumber(v.toString());
            if (!f.protocol) {
                QStringList names;
                for (const ProtocolName &p : protocols)
                    names << QLatin1String(p.name);
                return QStringLiteral("the filter key 'protocol' takes one of %1, not '%2'")
                    .arg(names.join(QLatin1String(", ")), v.toString());
            }
        } else if (key == QLatin1String("ids") && allowIds) {
            QList<quint32> ids;
            if (type == QMetaType::fromType<QList<uint>>()) {
                ids = v.value<QList<uint>>();
            } else if (type == QMetaType::fromType<QDBusArgument>()) {
                // Inside an a{sv} QtDBus leaves arrays to be read by type.
                const QDBusArgument arg = v.value<QDBusArgument>();
                if (arg.currentSignature() != QLatin1String("au"))
                    return QStringLiteral("the filter key 'ids' takes a list of conntrack ids "
                                          "(au), not (%1)")
                        .arg(arg.currentSignature());
                QList<uint> list;
                arg >> list;
                ids = list;
            } else if (type.id() == QMetaType::QVariantList) {
                for (const QVariant &item : v.toList()) {
                    if (item.metaType().id() != QMetaType::UInt)
                        return wrongType(key, "a list of conntrack ids (au)", v);
                    ids.append(item.toUInt());
                }
            } else {
                return wrongType(key, "a list of conntrack ids (au)", v);
            }
            if (ids.isEmpty())
                return QStringLiteral("the filter key 'ids' needs at least one conntrack id");
            if (ids.size() > 1000000)
                return QStringLiteral("the filter key 'ids' takes at most 1000000 ids, not %1")
                    .arg(ids.size());
            f.ids = ids;
        } else {
            return QStringLiteral("the filter has no key '%1'; it takes forwarded, forward, "
                                  "address, port, protocol%2")
                .arg(key, allowIds ? QStringLiteral(" and ids") : QString());
        }
    }
    *out = f;
    return {};
}

void recordFromConntrack(const nf_conntrack *ct, ctstream::EntryRecord *out) {
    ctstream::EntryRecord &e = *out;
    std::memset(&e, 0, sizeof e);
    e.family = nfct_get_attr_u8(ct, ATTR_ORIG_L3PROTO);
    e.protocol = nfct_get_attr_u8(ct, ATTR_ORIG_L4PROTO);
    e.id = nfct_get_attr_u32(ct, ATTR_ID);
    e.status = nfct_get_attr_u32(ct, ATTR_STATUS);
    e.mark = nfct_get_attr_u32(ct, ATTR_MARK);
    e.timeout = nfct_get_attr_u32(ct, ATTR_TIMEOUT);
    e.tcpState = e.protocol == IPPROTO_TCP && nfct_attr_is_set(ct, ATTR_TCP_STATE) > 0
                     ? nfct_get_attr_u8(ct, ATTR_TCP_STATE)
                     : ctstream::noTcpState;
    // Ports in host order; for ICMP the id and type << 8 | code, as the kernel keeps them.
    e.origSport = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_SRC));
    e.origDport = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST));
    e.replySport = ntohs(nfct_get_attr_u16(ct, ATTR_REPL_PORT_SRC));
    e.replyDport = ntohs(nfct_get_attr_u16(ct, ATTR_REPL_PORT_DST));
    if (e.protocol == IPPROTO_ICMP || e.protocol == IPPROTO_ICMPV6) {
        e.origSport = ntohs(nfct_get_attr_u16(ct, ATTR_ICMP_ID));
        e.origDport = quint16((nfct_get_attr_u8(ct, ATTR_ICMP_TYPE) << 8) |
                              nfct_get_attr_u8(ct, ATTR_ICMP_CODE));
    }
    if (e.family == AF_INET6) {
        std::memcpy(e.origSrc, nfct_get_attr(ct, ATTR_ORIG_IPV6_SRC), 16);
        std::memcpy(e.origDst, nfct_get_attr(ct, ATTR_ORIG_IPV6_DST), 16);
        std::memcpy(e.replySrc, nfct_get_attr(ct, ATTR_REPL_IPV6_SRC), 16);
        std::memcpy(e.replyDst, nfct_get_attr(ct, ATTR_REPL_IPV6_DST), 16);
    } else {
        const quint32 a[4] = {
            nfct_get_attr_u32(ct, ATTR_ORIG_IPV4_SRC), nfct_get_attr_u32(ct, ATTR_ORIG_IPV4_DST),
            nfct_get_attr_u32(ct, ATTR_REPL_IPV4_SRC), nfct_get_attr_u32(ct, ATTR_REPL_IPV4_DST)};
        std::memcpy(e.origSrc, &a[0], 4);
        std::memcpy(e.origDst, &a[1], 4);
        std::memcpy(e.replySrc, &a[2], 4);
        std::memcpy(e.replyDst, &a[3], 4);
    }
    if (nfct_attr_is_set(ct, ATTR_ORIG_COUNTER_PACKETS) > 0) {
        e.origPackets = nfct_get_attr_u64(ct, ATTR_ORIG_COUNTER_PACKETS);
        e.origBytes = nfct_get_attr_u64(ct, ATTR_ORIG_COUNTER_BYTES);
        e.replyPackets = nfct_get_attr_u64(ct, ATTR_REPL_COUNTER_PACKETS);
        e.replyBytes = nfct_get_attr_u64(ct, ATTR_REPL_COUNTER_BYTES);
    }
    // The kernel stamps the start only with nf_conntrack_timestamp on (wall-clock ns); the
    // monitor fills in when it first saw the entry otherwise.
    if (nfct_attr_is_set(ct, ATTR_TIMESTAMP_START) > 0)
        e.startMs = nfct_get_attr_u64(ct, ATTR_TIMESTAMP_START) / 1000000u;
}

namespace {

// The direct parser of the hot path: one callback per nesting level, every attribute's type
// checked before it is read, straight into the record. libnetfilter_conntrack's parser (kept
// for parseMessageNfct and the kill path) costs about as much again as the kernel's dump.
struct TupleOut {
    quint8 *src;
    quint8 *dst;
    quint16 *sport;
    quint16 *dport;
    quint8 protocol = 0;
    quint8 icmpType = 0;
    quint8 icmpCode = 0;
    bool icmp = false;
    bool haveAddress = false;
};

struct Parse {
    ctstream::EntryRecord *e;
    bool haveId = false;
    bool haveOrig = false;
};

int ipCb(const nlattr *a, void *data) {
    auto *t = static_cast<TupleOut *>(data);
    switch (mnl_attr_get_type(a)) {
    case CTA_IP_V4_SRC:
    case CTA_IP_V4_DST:
        if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
            return MNL_CB_ERROR;
        std::memcpy(mnl_attr_get_type(a) == CTA_IP_V4_SRC ? t->src : t->dst,
                    mnl_attr_get_payload(a), 4);
        t->haveAddress = true;
        break;
    case CTA_IP_V6_SRC:
    case CTA_IP_V6_DST:
        if (mnl_attr_validate2(a, MNL_TYPE_BINARY, 16) < 0)
            return MNL_CB_ERROR;
        std::memcpy(mnl_attr_get_type(a) == CTA_IP_V6_SRC ? t->src : t->dst,
                    mnl_attr_get_payload(a), 16);
        t->haveAddress = true;
        break;
    }
    return MNL_CB_OK;
}

int protoCb(const nlattr *a, void *data) {
    auto *t = static_cast<TupleOut *>(data);
    switch (mnl_attr_get_type(a)) {
    case CTA_PROTO_NUM:
        if (mnl_attr_validate(a, MNL_TYPE_U8) < 0)
            return MNL_CB_ERROR;
        t->protocol = mnl_attr_get_u8(a);
        break;
    case CTA_PROTO_SRC_PORT:
    case CTA_PROTO_DST_PORT:
    case CTA_PROTO_ICMP_ID:
    case CTA_PROTO_ICMPV6_ID:
        if (mnl_attr_validate(a, MNL_TYPE_U16) < 0)
            return MNL_CB_ERROR;
        *(mnl_attr_get_type(a) == CTA_PROTO_DST_PORT ? t->dport : t->sport) =
            ntohs(mnl_attr_get_u16(a));
        break;
    case CTA_PROTO_ICMP_TYPE:
    case CTA_PROTO_ICMPV6_TYPE:
    case CTA_PROTO_ICMP_CODE:
    case CTA_PROTO_ICMPV6_CODE: {
        if (mnl_attr_validate(a, MNL_TYPE_U8) < 0)
            return MNL_CB_ERROR;
        const int type = mnl_attr_get_type(a);
        (type == CTA_PROTO_ICMP_TYPE || type == CTA_PROTO_ICMPV6_TYPE ? t->icmpType : t->icmpCode) =
            mnl_attr_get_u8(a);
        t->icmp = true;
        break;
    }
    }
    return MNL_CB_OK;
}

int tupleCb(const nlattr *a, void *data) {
    switch (mnl_attr_get_type(a)) {
    case CTA_TUPLE_IP:
        if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
            return MNL_CB_ERROR;
        return mnl_attr_parse_nested(a, ipCb, data);
    case CTA_TUPLE_PROTO:
        if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
            return MNL_CB_ERROR;
        return mnl_attr_parse_nested(a, protoCb, data);
    }
    return MNL_CB_OK;
}

int countersCb(const nlattr *a, void *data) {
    auto *c = static_cast<quint64 *>(data); // [packets, bytes]
    switch (mnl_attr_get_type(a)) {
    case CTA_COUNTERS_PACKETS:
    case CTA_COUNTERS_BYTES:
        if (mnl_attr_validate(a, MNL_TYPE_U64) < 0)
            return MNL_CB_ERROR;
        c[mnl_attr_get_type(a) == CTA_COUNTERS_BYTES] = be64toh(mnl_attr_get_u64(a));
        break;
    case CTA_COUNTERS32_PACKETS:
    case CTA_COUNTERS32_BYTES:
        if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
            return MNL_CB_ERROR;
        c[mnl_attr_get_type(a) == CTA_COUNTERS32_BYTES] = ntohl(mnl_attr_get_u32(a));
        break;
    }
    return MNL_CB_OK;
}

int tcpCb(const nlattr *a, void *data) {
    if (mnl_attr_get_type(a) == CTA_PROTOINFO_TCP_STATE) {
        if (mnl_attr_validate(a, MNL_TYPE_U8) < 0)
            return MNL_CB_ERROR;
        *static_cast<quint8 *>(data) = mnl_attr_get_u8(a);
    }
    return MNL_CB_OK;
}

int protoinfoCb(const nlattr *a, void *data) {
    if (mnl_attr_get_type(a) == CTA_PROTOINFO_TCP) {
        if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
            return MNL_CB_ERROR;
        return mnl_attr_parse_nested(a, tcpCb, data);
    }
    return MNL_CB_OK;
}

int timestampCb(const nlattr *a, void *data) {
    if (mnl_attr_get_type(a) == CTA_TIMESTAMP_START) {
        if (mnl_attr_validate(a, MNL_TYPE_U64) < 0)
            return MNL_CB_ERROR;
        *static_cast<quint64 *>(data) = be64toh(mnl_attr_get_u64(a)) / 1000000u;
    }
    return MNL_CB_OK;
}

int parseTuple(const nlattr *a, TupleOut *t) {
    if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
        return MNL_CB_ERROR;
    if (mnl_attr_parse_nested(a, tupleCb, t) < 0)
        return MNL_CB_ERROR;
    if (t->icmp)
        *t->dport = quint16((t->icmpType << 8) | t->icmpCode); // as the kernel's union keeps it
    return MNL_CB_OK;
}

int topCb(const nlattr *a, void *data) {
    auto *p = static_cast<Parse *>(data);
    ctstream::EntryRecord &e = *p->e;
    switch (mnl_attr_get_type(a)) {
    case CTA_TUPLE_ORIG: {
        TupleOut t{e.origSrc, e.origDst, &e.origSport, &e.origDport};
        if (parseTuple(a, &t) < 0)
            return MNL_CB_ERROR;
        e.protocol = t.protocol;
        p->haveOrig = t.haveAddress;
        break;
    }
    case CTA_TUPLE_REPLY: {
        TupleOut t{e.replySrc, e.replyDst, &e.replySport, &e.replyDport};
        if (parseTuple(a, &t) < 0)
            return MNL_CB_ERROR;
        break;
    }
    case CTA_STATUS:
    case CTA_TIMEOUT:
    case CTA_MARK:
    case CTA_ID: {
        if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
            return MNL_CB_ERROR;
        const quint32 v = ntohl(mnl_attr_get_u32(a));
        switch (mnl_attr_get_type(a)) {
        case CTA_STATUS:
            e.status = v;
            break;
        case CTA_TIMEOUT:
            e.timeout = v;
            break;
        case CTA_MARK:
            e.mark = v;
            break;
        default:
            e.id = v;
            p->haveId = true;
        }
        break;
    }
    case CTA_COUNTERS_ORIG:
    case CTA_COUNTERS_REPLY: {
        if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
            return MNL_CB_ERROR;
        quint64 c[2] = {0, 0};
        if (mnl_attr_parse_nested(a, countersCb, c) < 0)
            return MNL_CB_ERROR;
        if (mnl_attr_get_type(a) == CTA_COUNTERS_ORIG) {
            e.origPackets = c[0];
            e.origBytes = c[1];
        } else {
            e.replyPackets = c[0];
            e.replyBytes = c[1];
        }
        break;
    }
    case CTA_PROTOINFO:
        if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
            return MNL_CB_ERROR;
        return mnl_attr_parse_nested(a, protoinfoCb, &e.tcpState);
    case CTA_TIMESTAMP:
        if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
            return MNL_CB_ERROR;
        return mnl_attr_parse_nested(a, timestampCb, &e.startMs);
    }
    return MNL_CB_OK;
}

MessageKind kindOf(const nlmsghdr *nlh) {
    if ((nlh->nlmsg_type >> 8) != NFNL_SUBSYS_CTNETLINK)
        return MessageKind::Other;
    const int type = nlh->nlmsg_type & 0xff;
    if (type == IPCTNL_MSG_CT_NEW)
        return nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL) ? MessageKind::New
                                                              : MessageKind::Update;
    if (type == IPCTNL_MSG_CT_DELETE)
        return MessageKind::Destroy;
    return MessageKind::Other;
}

} // namespace

MessageKind parseMessage(const nlmsghdr *nlh, ctstream::EntryRecord *out) {
    const MessageKind kind = kindOf(nlh);
    if (kind == MessageKind::Other || nlh->nlmsg_len < NLMSG_LENGTH(sizeof(nfgenmsg)))
        return MessageKind::Other;
    std::memset(out, 0, sizeof *out);
    const auto *nfg = static_cast<const nfgenmsg *>(mnl_nlmsg_get_payload(nlh));
    out->family = nfg->nfgen_family;
    out->tcpState = ctstream::noTcpState;
    Parse p{out};
    if (mnl_attr_parse(nlh, sizeof(nfgenmsg), topCb, &p) < 0 || !p.haveId || !p.haveOrig ||
        (out->family != AF_INET && out->family != AF_INET6))
        return MessageKind::Other;
    if (out->protocol != IPPROTO_TCP)
        out->tcpState = ctstream::noTcpState;
    return kind;
}

MessageKind parseMessageNfct(const nlmsghdr *nlh, ctstream::EntryRecord *out) {
    const MessageKind kind = kindOf(nlh);
    if (kind == MessageKind::Other)
        return kind;
    nf_conntrack *ct = nfct_new();
    if (!ct)
        return MessageKind::Other;
    const bool parsed = nfct_nlmsg_parse(nlh, ct) >= 0 && nfct_attr_is_set(ct, ATTR_ID) > 0 &&
                        nfct_attr_is_set(ct, ATTR_ORIG_L3PROTO) > 0;
    if (parsed)
        recordFromConntrack(ct, out);
    nfct_destroy(ct);
    return parsed ? kind : MessageKind::Other;
}

mnl_socket *openSocket(bool events, int receiveBuffer, QString *error) {
    mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (!nl) {
        *error = QStringLiteral("cannot open a ctnetlink socket: %1")
                     .arg(QString::fromLocal8Bit(std::strerror(errno)));
        return nullptr;
    }
    const unsigned groups = events ? NF_NETLINK_CONNTRACK_NEW | NF_NETLINK_CONNTRACK_UPDATE |
                                         NF_NETLINK_CONNTRACK_DESTROY
                                   : 0;
    if (mnl_socket_bind(nl, groups, MNL_SOCKET_AUTOPID) < 0) {
        *error = QStringLiteral("cannot bind a ctnetlink socket%1: %2")
                     .arg(events ? QStringLiteral(" to the conntrack events") : QString(),
                          QString::fromLocal8Bit(std::strerror(errno)));
        mnl_socket_close(nl);
        return nullptr;
    }
    if (receiveBuffer > 0) {
        // FORCE: past net.core.rmem_max, which is often far below what a burst needs. As root
        // this works; should it fail, the plain size (capped by rmem_max) is the fallback.
        const int fd = mnl_socket_get_fd(nl);
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &receiveBuffer, sizeof receiveBuffer) < 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
    }
    return nl;
}

quint32 requestDump(mnl_socket *nl, QString *error, const DumpFilter &filter) {
    // Atomic: the kills' threads ask for dumps too.
    static std::atomic<quint32> sequence{quint32(std::time(nullptr))};
    char buf[MNL_SOCKET_BUFFER_SIZE];
    nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    quint32 seq = ++sequence;
    if (seq == 0)
        seq = ++sequence;
    nlh->nlmsg_seq = seq;
    auto *nfh = static_cast<nfgenmsg *>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfh->nfgen_family = AF_UNSPEC;
    nfh->version = NFNETLINK_V0;
    nfh->res_id = 0;
    if (filter.markMask) {
        mnl_attr_put_u32(nlh, CTA_MARK, htonl(filter.mark));
        mnl_attr_put_u32(nlh, CTA_MARK_MASK, htonl(filter.markMask));
    }
    if (filter.statusMask) {
        mnl_attr_put_u32(nlh, CTA_STATUS, htonl(filter.status));
        mnl_attr_put_u32(nlh, CTA_STATUS_MASK, htonl(filter.statusMask));
    }
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
        *error = QStringLiteral("cannot ask the kernel for the conntrack table: %1")
                     .arg(QString::fromLocal8Bit(std::strerror(errno)));
        return 0;
    }
    return nlh->nlmsg_seq;
}

namespace {

// A blocking read of the (non-blocking) socket, for a kill: waits up to 10 s for data. The
// bytes read, or -1 with errno set.
ssize_t recvWaiting(mnl_socket *nl, std::vector<char> &buf) {
    for (;;) {
        const ssize_t n = mnl_socket_recvfrom(nl, buf.data(), buf.size());
        if (n >= 0 || errno != EAGAIN)
            return n;
        pollfd p{mnl_socket_get_fd(nl), POLLIN, 0};
        int r;
        do
            r = poll(&p, 1, 10000);
        while (r < 0 && errno == EINTR);
        if (r == 0)
            errno = ETIMEDOUT;
        if (r <= 0)
            return -1;
    }
}

} // namespace

QString killMatching(const Filter &filter, const QSet<quint32> &forwardMarks,
                     const std::function<quint32(const ctstream::EntryRecord &)> &streamId,
                     quint32 *killed) {
    *killed = 0;
    QString error;
    mnl_socket *nl = openSocket(false, 4 << 20, &error);
    if (!nl)
        return error;
    const unsigned portid = mnl_socket_get_portid(nl);
    // One forward: the kernel lists only its mark, and skips the rest of a big table before
    // building their messages (as the counter refresh does).
    DumpFilter only;
    if (filter.forwardMark) {
        only.mark = filter.forwardMark;
        only.markMask = forwardMarkMask;
    }
    const quint32 seq = requestDump(nl, &error, only);
    if (!seq) {
        mnl_socket_close(nl);
        return error;
    }
    // The selected ids, sorted: a kill of a thousand rows must not search a list of a thousand
    // for each of a million entries.
    Filter rest = filter;
    std::vector<quint32> ids(filter.ids.cbegin(), filter.ids.cend());
    std::sort(ids.begin(), ids.end());
    rest.ids.clear();

    // The deletes go out on a socket of their own while the dump is read, 64 KiB at a time, each
    // acknowledged so that every one is counted; the dump waits in the kernel meanwhile (it is
    // read on demand). So the kill holds one batch, not the whole list of its victims. A delete
    // carries the entry's original tuple, zone and id as the dump gave them, copied verbatim:
    // with the id the kernel deletes the entry only if it is still the one the dump showed, not
    // a newer flow with the same tuple.
    mnl_socket *del = openSocket(false, 1 << 20, &error);
    if (!del) {
        mnl_socket_close(nl);
        return error;
    }
    const unsigned delPortid = mnl_socket_get_portid(del);
    constexpr size_t sendSize = 64 * 1024;
    std::vector<char> out(sendSize + MNL_SOCKET_BUFFER_SIZE);
    std::vector<char> acks(1 << 16);
    size_t used = 0;
    quint32 deleteSeq = seq + 1;
    quint32 firstSeq = deleteSeq;
    const auto sendDeletes = [&]() {
        if (used == 0 || !error.isEmpty())
            return;
        if (mnl_socket_sendto(del, out.data(), used) < 0) {
            error = QStringLiteral("cannot send the deletes to the kernel: %1")
                        .arg(QString::fromLocal8Bit(std::strerror(errno)));
            return;
        }
        quint32 acked = 0;
        const quint32 expected = deleteSeq - firstSeq;
        while (acked < expected) {
            const ssize_t n = recvWaiting(del, acks);
            if (n < 0) {
                error = QStringLiteral("reading the kernel's answers to the deletes failed: %1")
                            .arg(QString::fromLocal8Bit(std::strerror(errno)));
                return;
            }
            int left = int(n);
            for (auto *h = reinterpret_cast<nlmsghdr *>(acks.data()); mnl_nlmsg_ok(h, left);
                 h = mnl_nlmsg_next(h, &left)) {
                if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_pid != delPortid ||
                    h->nlmsg_seq < firstSeq || h->nlmsg_seq >= deleteSeq)
                    continue;
                ++acked;
                const auto *e = static_cast<const nlmsgerr *>(mnl_nlmsg_get_payload(h));
                if (e->error == 0)
                    ++*killed;
                else if (e->error != -ENOENT && error.isEmpty()) // gone already: not ours to count
                    error = QStringLiteral("the kernel refused to delete a conntrack entry: %1")
                                .arg(QString::fromLocal8Bit(std::strerror(-e->error)));
            }
        }
        used = 0;
        firstSeq = deleteSeq;
    };
    // The delete of the entry that dump message `h` shows.
    const auto addDelete = [&](const nlmsghdr *h) {
        nlmsghdr *nlh = mnl_nlmsg_put_header(out.data() + used);
        nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
        nlh->nlmsg_seq = deleteSeq++;
        auto *nfh = static_cast<nfgenmsg *>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
        *nfh = *static_cast<const nfgenmsg *>(mnl_nlmsg_get_payload(h));
        const char *tail = static_cast<const char *>(mnl_nlmsg_get_payload_tail(h));
        for (auto *attr =
                 static_cast<const nlattr *>(mnl_nlmsg_get_payload_offset(h, sizeof(nfgenmsg)));
             mnl_attr_ok(attr, int(tail - reinterpret_cast<const char *>(attr)));
             attr = mnl_attr_next(attr)) {
            const int type = mnl_attr_get_type(attr);
            if (type != CTA_TUPLE_ORIG && type != CTA_ZONE && type != CTA_ID)
                continue;
            const size_t size = MNL_ALIGN(attr->nla_len);
            if (nlh->nlmsg_len + size > size_t(MNL_SOCKET_BUFFER_SIZE))
                break; // cannot be: a tuple is a few dozen bytes
            std::memcpy(mnl_nlmsg_get_payload_tail(nlh), attr, size);
            nlh->nlmsg_len += uint32_t(size);
        }
        used += NLMSG_ALIGN(nlh->nlmsg_len);
        if (used + MNL_SOCKET_BUFFER_SIZE > out.size())
            sendDeletes();
    };

    // Every entry is read by the direct parser, which checks every attribute.
    std::vector<char> buf(1 << 16);
    bool done = false;
    while (!done && error.isEmpty()) {
        const ssize_t n = recvWaiting(nl, buf);
        if (n < 0) {
            error = QStringLiteral("reading the conntrack table failed: %1")
                        .arg(QString::fromLocal8Bit(std::strerror(errno)));
            break;
        }
        int left = int(n);
        for (auto *h = reinterpret_cast<nlmsghdr *>(buf.data());
             mnl_nlmsg_ok(h, left) && error.isEmpty(); h = mnl_nlmsg_next(h, &left)) {
            if (h->nlmsg_seq != seq || h->nlmsg_pid != portid)
                continue;
            if (h->nlmsg_type == NLMSG_DONE) {
                done = true;
                break;
            }
            if (h->nlmsg_type == NLMSG_ERROR) {
                const auto *e = static_cast<const nlmsgerr *>(mnl_nlmsg_get_payload(h));
                error = QStringLiteral("the kernel refused to list the conntrack table: %1")
                            .arg(QString::fromLocal8Bit(std::strerror(-e->error)));
                break;
            }
            ctstream::EntryRecord record;
            if (parseMessage(h, &record) == MessageKind::Other)
                continue;
            record.id = streamId(record);
            if (!rest.matches(record, forwardMarks) ||
                (!ids.empty() && !std::binary_search(ids.begin(), ids.end(), record.id)))
                continue;
            addDelete(h);
        }
    }
    sendDeletes();
    mnl_socket_close(del);
    mnl_socket_close(nl);
    if (!error.isEmpty() && *killed)
        error += QStringLiteral(" (%1 entries were deleted before that)").arg(*killed);
    return error;
}

namespace {

QString acctPath(const QString &procSys) {
    return procSys + QStringLiteral("/net/netfilter/nf_conntrack_acct");
}

} // namespace

QString readAccounting(bool *on, const QString &procSys) {
    QFile file(acctPath(procSys));
    if (!file.open(QIODevice::ReadOnly))
        return QStringLiteral("cannot read %1: %2").arg(file.fileName(), file.errorString());
    const QByteArray text = file.readAll().trimmed();
    if (text != "0" && text != "1")
        return QStringLiteral("%1 holds '%2', not 0 or 1")
            .arg(file.fileName(), QString::fromLatin1(text));
    *on = text == "1";
    return {};
}

QString writeAccounting(bool on, const QString &procSys) {
    QFile file(acctPath(procSys));
    if (!file.open(QIODevice::WriteOnly) || file.write(on ? "1\n" : "0\n") != 2 || !file.flush())
        return QStringLiteral("cannot write %1: %2").arg(file.fileName(), file.errorString());
    return {};
}

} // namespace portico::conntrack
