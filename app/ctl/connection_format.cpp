// SPDX-License-Identifier: GPL-3.0-or-later
// Conntrack records as text and JSON for porticoctl: addresses from their raw bytes, states and
// flags by the kernel's numbers.
#include "connection_format.h"

#include <QHostAddress>
#include <QJsonArray>

#include <algorithm>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>

using namespace Qt::StringLiterals;

namespace portico::ctl {

namespace {

bool hasPorts(quint8 protocol) {
    return protocol == IPPROTO_TCP || protocol == IPPROTO_UDP || protocol == IPPROTO_SCTP ||
           protocol == IPPROTO_DCCP || protocol == IPPROTO_UDPLITE;
}

QString protocolText(quint8 p) {
    switch (p) {
    case IPPROTO_TCP:
        return u"tcp"_s;
    case IPPROTO_UDP:
        return u"udp"_s;
    case IPPROTO_ICMP:
        return u"icmp"_s;
    case IPPROTO_ICMPV6:
        return u"icmpv6"_s;
    case IPPROTO_SCTP:
        return u"sctp"_s;
    case IPPROTO_DCCP:
        return u"dccp"_s;
    case IPPROTO_UDPLITE:
        return u"udplite"_s;
    case IPPROTO_GRE:
        return u"gre"_s;
    }
    return QString::number(p);
}

QString forwardName(const ctstream::EntryRecord &e, const ForwardsByMark &forwards) {
    const auto it = forwards.constFind(e.mark & 0xffffff);
    return it == forwards.cend() ? QString() : it->name;
}

// The table's column layout, as `porticoctl list` does it: widths from the content.
QString formatRows(const QList<QStringList> &rows) {
    if (rows.isEmpty())
        return {};
    QList<qsizetype> widths(rows.first().size(), 0);
    for (const QStringList &r : rows)
        for (qsizetype i = 0; i < r.size(); ++i)
            widths[i] = std::max(widths[i], r[i].size());
    QString out;
    for (const QStringList &r : rows) {
        QString line;
        for (qsizetype i = 0; i < r.size(); ++i)
            line += i + 1 < r.size() ? r[i].leftJustified(widths[i] + 2) : r[i];
        out += line.trimmed() + u'\n';
    }
    return out;
}

} // namespace

QString formatAddress(quint8 family, const quint8 *address) {
    if (family == AF_INET6)
        return QHostAddress(address).toString();
    quint32 be;
    std::memcpy(&be, address, 4);
    return QHostAddress(ntohl(be)).toString();
}

QString formatEndpoint(const ctstream::EntryRecord &e, const quint8 *address, quint16 port) {
    const QString a = formatAddress(e.family, address);
    if (!hasPorts(e.protocol))
        return a;
    return e.family == AF_INET6 ? u"[%1]:%2"_s.arg(a).arg(port) : u"%1:%2"_s.arg(a).arg(port);
}

QString tcpStateName(quint8 state) {
    static const char *const names[] = {"NONE",     "SYN_SENT",   "SYN_RECV", "ESTABLISHED",
                                        "FIN_WAIT", "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT",
                                        "CLOSE",    "SYN_SENT2"};
    if (state == ctstream::noTcpState)
        return u"-"_s;
    if (state < std::size(names))
        return QLatin1StringView(names[state]);
    return QString::number(state);
}

QStringList statusFlags(quint32 status) {
    // IPS_* bit numbers of linux/netfilter/nf_conntrack_common.h.
    static const struct {
        int bit;
        const char *name;
    } flags[] = {{0, "EXPECTED"}, {1, "SEEN_REPLY"}, {2, "ASSURED"}, {4, "SNAT"},
                 {5, "DNAT"},     {9, "DYING"},      {13, "OFFLOAD"}};
    QStringList out;
    for (const auto &f : flags) {
        if (status & (1u << f.bit))
            out << QLatin1StringView(f.name);
    }
    return out;
}

QString translatedDestination(const ctstream::EntryRecord &e) {
    // The reply comes from where the flow really went; when that is not where the client sent
    // it, the flow was DNATed (our forward, or someone else's rule).
    const size_t len = e.family == AF_INET6 ? 16 : 4;
    if (std::memcmp(e.replySrc, e.origDst, len) == 0 && e.replySport == e.origDport)
        return {};
    return formatEndpoint(e, e.replySrc, e.replySport);
}

QString formatConnectionTable(const QList<ctstream::EntryRecord> &entries,
                              const ForwardsByMark &forwards) {
    QList<QStringList> rows;
    rows.append({u"ID"_s, u"PROTO"_s, u"STATE"_s, u"ORIGINAL"_s, u"TRANSLATED TO"_s, u"FORWARD"_s,
                 u"TIMEOUT"_s, u"PACKETS"_s, u"BYTES"_s});
    for (const ctstream::EntryRecord &e : entries) {
        const QString to = translatedDestination(e);
        const QString fwd = forwardName(e, forwards);
        rows.append({QString::number(e.id), protocolText(e.protocol),
                     tcpStateName(e.protocol == IPPROTO_TCP ? e.tcpState : ctstream::noTcpState),
                     formatEndpoint(e, e.origSrc, e.origSport) + u" -> "_s +
                         formatEndpoint(e, e.origDst, e.origDport),
                     to.isEmpty() ? u"-"_s : to, fwd.isEmpty() ? u"-"_s : fwd,
                     u"%1s"_s.arg(e.timeout), u"%1/%2"_s.arg(e.origPackets).arg(e.replyPackets),
                     u"%1/%2"_s.arg(e.origBytes).arg(e.replyBytes)});
    }
    return formatRows(rows);
}

QString formatConnectionLine(const ctstream::EntryRecord &e, const ForwardsByMark &forwards) {
    const QString to = translatedDestination(e);
    const QString fwd = forwardName(e, forwards);
    QString line = u"%1 %2 %3 %4 -> %5"_s.arg(
        QString::number(e.id), protocolText(e.protocol), tcpStateName(e.tcpState),
        formatEndpoint(e, e.origSrc, e.origSport), formatEndpoint(e, e.origDst, e.origDport));
    if (!to.isEmpty())
        line += u" to "_s + to;
    if (!fwd.isEmpty())
        line += u" forward "_s + fwd;
    line += u" timeout %1s packets %2/%3 bytes %4/%5"_s.arg(e.timeout)
                .arg(e.origPackets)
                .arg(e.replyPackets)
                .arg(e.origBytes)
                .arg(e.replyBytes);
    return line;
}

QJsonObject connectionToJson(const ctstream::EntryRecord &e, const ForwardsByMark &forwards) {
    const auto tuple = [&](const quint8 *src, quint16 sport, const quint8 *dst, quint16 dport) {
        QJsonObject t{{u"src"_s, formatAddress(e.family, src)},
                      {u"dst"_s, formatAddress(e.family, dst)}};
        if (hasPorts(e.protocol)) {
            t.insert(u"sport"_s, sport);
            t.insert(u"dport"_s, dport);
        }
        return t;
    };
    QJsonObject o{
        {u"id"_s, qint64(e.id)},
        {u"family"_s, e.family == AF_INET6 ? u"ipv6"_s : u"ipv4"_s},
        {u"protocol"_s, protocolText(e.protocol)},
        {u"original"_s, tuple(e.origSrc, e.origSport, e.origDst, e.origDport)},
        {u"reply"_s, tuple(e.replySrc, e.replySport, e.replyDst, e.replyDport)},
        {u"mark"_s, qint64(e.mark)},
        {u"timeout"_s, qint64(e.timeout)},
        {u"status"_s, QJsonArray::fromStringList(statusFlags(e.status))},
        {u"packets"_s,
         QJsonObject{{u"original"_s, qint64(e.origPackets)}, {u"reply"_s, qint64(e.replyPackets)}}},
        {u"bytes"_s,
         QJsonObject{{u"original"_s, qint64(e.origBytes)}, {u"reply"_s, qint64(e.replyBytes)}}},
        {u"start_ms"_s, qint64(e.startMs)},
    };
    if (e.protocol == IPPROTO_TCP)
        o.insert(u"state"_s, tcpStateName(e.tcpState));
    const QString to = translatedDestination(e);
    if (!to.isEmpty())
        o.insert(u"translated_to"_s, to);
    const auto it = forwards.constFind(e.mark & 0xffffff);
    if (it != forwards.cend()) {
        o.insert(u"forward"_s, it->name);
        o.insert(u"forward_id"_s, it->id);
    }
    return o;
}

} // namespace portico::ctl
