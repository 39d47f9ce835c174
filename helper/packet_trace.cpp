// SPDX-License-Identifier: GPL-3.0-or-later
// The packet trace: `meta nftrace set 1` for one forward's packets in two chains of our own
// table, the kernel's trace events (NFNLGRP_NFTRACE) read back and written to the client's pipe
// as JSON lines, and the chains removed again in one batch when the trace ends.
#include "packet_trace.h"

#include <arpa/inet.h>
#include <net/if.h>

#include <libmnl/libmnl.h>
#include <libnftnl/trace.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <QHostAddress>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSocketNotifier>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

namespace portico {

namespace {

constexpr char ourTable[] = "portico";
constexpr qsizetype maxPending = 1 << 20; // a client that reads nothing gets its trace ended

QString interfaceName(quint32 index) {
    char name[IF_NAMESIZE] = {};
    return if_indextoname(index, name) ? QString::fromLatin1(name) : QString::number(index);
}

QString verdictName(qint32 v) {
    switch (v) {
    case NF_ACCEPT:
        return QStringLiteral("accept");
    case NF_DROP:
        return QStringLiteral("drop");
    case NF_QUEUE:
        return QStringLiteral("queue");
    case NF_STOLEN:
        return QStringLiteral("stolen");
    case NFT_CONTINUE:
        return QStringLiteral("continue");
    case NFT_BREAK:
        return QStringLiteral("break");
    case NFT_JUMP:
        return QStringLiteral("jump");
    case NFT_GOTO:
        return QStringLiteral("goto");
    case NFT_RETURN:
        return QStringLiteral("return");
    default:
        // NF_QUEUE with a queue number in the upper bits, and the like.
        return (v & NF_VERDICT_MASK) == NF_QUEUE ? QStringLiteral("queue") : QString::number(v);
    }
}

QString typeName(quint32 t) {
    switch (t) {
    case NFT_TRACETYPE_RULE:
        return QStringLiteral("rule");
    case NFT_TRACETYPE_POLICY:
        return QStringLiteral("policy");
    case NFT_TRACETYPE_RETURN:
        return QStringLiteral("return");
    default:
        return QStringLiteral("unspec");
    }
}

// "203.0.113.2:40000" from the network and transport headers the kernel copied into the event.
void endpoints(const nftnl_trace *t, QJsonObject *out) {
    if (!nftnl_trace_is_set(t, NFTNL_TRACE_NETWORK_HEADER))
        return;
    uint32_t len = 0;
    const auto *nh =
        static_cast<const quint8 *>(nftnl_trace_get_data(t, NFTNL_TRACE_NETWORK_HEADER, &len));
    QHostAddress src, dst;
    quint8 proto = 0;
    if (len >= 20 && (nh[0] >> 4) == 4) {
        quint32 s, d;
        std::memcpy(&s, nh + 12, 4);
        std::memcpy(&d, nh + 16, 4);
        src.setAddress(ntohl(s));
        dst.setAddress(ntohl(d));
        proto = nh[9];
    } else if (len >= 40 && (nh[0] >> 4) == 6) {
        src.setAddress(nh + 8);
        dst.setAddress(nh + 24);
        proto = nh[6];
    } else {
        return;
    }
    QString sport, dport;
    if ((proto == IPPROTO_TCP || proto == IPPROTO_UDP) &&
        nftnl_trace_is_set(t, NFTNL_TRACE_TRANSPORT_HEADER)) {
        uint32_t tlen = 0;
        const auto *th = static_cast<const quint8 *>(
            nftnl_trace_get_data(t, NFTNL_TRACE_TRANSPORT_HEADER, &tlen));
        if (tlen >= 4) {
            sport = QString::number(th[0] << 8 | th[1]);
            dport = QString::number(th[2] << 8 | th[3]);
        }
    }
    const auto text = [](const QHostAddress &a, const QString &port) {
        const QString addr = a.protocol() == QHostAddress::IPv6Protocol
                                 ? QStringLiteral("[%1]").arg(a.toString())
                                 : a.toString();
        return port.isEmpty() ? a.toString() : addr + QLatin1Char(':') + port;
    };
    out->insert(QStringLiteral("src"), text(src, sport));
    out->insert(QStringLiteral("dst"), text(dst, dport));
    out->insert(QStringLiteral("protocol"), proto == IPPROTO_TCP   ? QStringLiteral("tcp")
                                            : proto == IPPROTO_UDP ? QStringLiteral("udp")
                                                                   : QString::number(proto));
}

} // namespace

bool PacketTrace::parseEvent(const nlmsghdr *nlh, QJsonObject *out, quint32 *traceId) {
    // (libnftnl aborts on a message of another kind)
    if (nlh->nlmsg_type != (NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_TRACE) ||
        nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(nfgenmsg))
        return false;
    nftnl_trace *t = nftnl_trace_alloc();
    const bool ok = nftnl_trace_nlmsg_parse(nlh, t) == 0 && nftnl_trace_is_set(t, NFTNL_TRACE_ID) &&
                    nftnl_trace_is_set(t, NFTNL_TRACE_TABLE) &&
                    nftnl_trace_is_set(t, NFTNL_TRACE_CHAIN);
    if (ok) {
        *traceId = nftnl_trace_get_u32(t, NFTNL_TRACE_ID);
        QJsonObject o;
        o.insert(QStringLiteral("family"),
                 familyName(int(nftnl_trace_get_u32(t, NFTNL_TRACE_FAMILY))));
        o.insert(QStringLiteral("table"),
                 QString::fromUtf8(nftnl_trace_get_str(t, NFTNL_TRACE_TABLE)));
        o.insert(QStringLiteral("chain"),
                 QString::fromUtf8(nftnl_trace_get_str(t, NFTNL_TRACE_CHAIN)));
        const quint32 type = nftnl_trace_get_u32(t, NFTNL_TRACE_TYPE);
        o.insert(QStringLiteral("type"), typeName(type));
        o.insert(QStringLiteral("handle"),
                 nftnl_trace_is_set(t, NFTNL_TRACE_RULE_HANDLE)
                     ? qint64(nftnl_trace_get_u64(t, NFTNL_TRACE_RULE_HANDLE))
                     : 0);
        qint32 verdict = NFT_CONTINUE;
        if (type == NFT_TRACETYPE_POLICY && nftnl_trace_is_set(t, NFTNL_TRACE_POLICY))
            verdict = qint32(nftnl_trace_get_u32(t, NFTNL_TRACE_POLICY));
        else if (nftnl_trace_is_set(t, NFTNL_TRACE_VERDICT))
            verdict = qint32(nftnl_trace_get_u32(t, NFTNL_TRACE_VERDICT));
        o.insert(QStringLiteral("verdict"), verdictName(verdict));
        if (nftnl_trace_is_set(t, NFTNL_TRACE_JUMP_TARGET))
            o.insert(QStringLiteral("target"),
                     QString::fromUtf8(nftnl_trace_get_str(t, NFTNL_TRACE_JUMP_TARGET)));
        o.insert(QStringLiteral("iif"), nftnl_trace_is_set(t, NFTNL_TRACE_IIF)
                                            ? interfaceName(nftnl_trace_get_u32(t, NFTNL_TRACE_IIF))
                                            : QString());
        o.insert(QStringLiteral("oif"), nftnl_trace_is_set(t, NFTNL_TRACE_OIF)
                                            ? interfaceName(nftnl_trace_get_u32(t, NFTNL_TRACE_OIF))
                                            : QString());
        if (nftnl_trace_is_set(t, NFTNL_TRACE_NFPROTO)) {
            const quint32 nf = nftnl_trace_get_u32(t, NFTNL_TRACE_NFPROTO);
            o.insert(QStringLiteral("nfproto"), nf == NFPROTO_IPV4   ? QStringLiteral("ipv4")
                                                : nf == NFPROTO_IPV6 ? QStringLiteral("ipv6")
                                                                     : QString::number(nf));
        }
        endpoints(t, &o);
        *out = o;
    }
    nftnl_trace_free(t);
    return ok;
}

PacketTrace::PacketTrace(RulesetWriter *writer, quint64 id, const QString &owner, int pipeFd,
                         const Forward &forward, int seconds, QObject *parent)
    : QObject(parent)
    , m_writer(writer)
    , m_id(id)
    , m_owner(owner)
    , m_pipe(pipeFd)
    , m_forward(forward)
    , m_seconds(seconds) {
    m_chains.prerouting = QStringLiteral("trace%1_pre").arg(id);
    m_chains.output = QStringLiteral("trace%1_out").arg(id);
    if (forward.protocol != Protocol::Udp)
        m_chains.protocols << IPPROTO_TCP;
    if (forward.protocol != Protocol::Tcp)
        m_chains.protocols << IPPROTO_UDP;
    m_chains.ports = forward.externalPort;
    m_chains.address = forward.externalAddress;
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, [this]() {
        stop(QStringLiteral("timeout"),
             QStringLiteral("the trace ended after %1 seconds").arg(m_seconds));
    });
}

PacketTrace::~PacketTrace() {
    stop(QStringLiteral("stopped"), QStringLiteral("the helper is exiting"));
}

int PacketTrace::removeLeftovers(RulesetWriter *writer, QString *error) {
    RulesetReader reader;
    RulesetSnapshot s;
    if (QString err = reader.read(&s); !err.isEmpty()) {
        *error = err;
        return -1;
    }
    static const QRegularExpression name(QStringLiteral("^trace[0-9]+_(pre|out)$"));
    int removed = 0;
    for (const ChainView &c : std::as_const(s.chains)) {
        if (!c.ours || !name.match(c.name).hasMatch())
            continue;
        RulesetWriter::TraceChains t;
        (c.name.endsWith(QLatin1String("_pre")) ? t.prerouting : t.output) = c.name;
        if (const ApplyError e = writer->removeTraceChains(t); !e.ok()) {
            *error = e.message;
            return -1;
        }
        ++removed;
    }
    return removed;
}

QString PacketTrace::start() {
    // A write to a pipe whose reader has gone must fail with EPIPE, not end the helper.
    ::signal(SIGPIPE, SIG_IGN);
    // A pipe the client stops reading must never block the helper.
    fcntl(m_pipe, F_SETFL, fcntl(m_pipe, F_GETFL) | O_NONBLOCK);
    if (const QString err = m_reader.read(&m_snapshot); !err.isEmpty())
        return err;

    // Listen before the chains exist, so that no event of the first packet is missed.
    m_nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (!m_nl || mnl_socket_bind(m_nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        const QString err = QStringLiteral("cannot open the netlink trace listener: %1")
                                .arg(QString::fromLocal8Bit(strerror(errno)));
        if (m_nl)
            mnl_socket_close(m_nl);
        m_nl = nullptr;
        return err;
    }
    int group = NFNLGRP_NFTRACE;
    if (mnl_socket_setsockopt(m_nl, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) < 0) {
        const QString err = QStringLiteral("cannot join the netlink trace group: %1")
                                .arg(QString::fromLocal8Bit(strerror(errno)));
        mnl_socket_close(m_nl);
        m_nl = nullptr;
        return err;
    }
    int rcvbuf = 8 << 20;
    setsockopt(mnl_socket_get_fd(m_nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);

    if (const ApplyError e = m_writer->addTraceChains(m_chains); !e.ok()) {
        mnl_socket_close(m_nl);
        m_nl = nullptr;
        return e.message;
    }
    m_installed = true;
    m_running = true;
    m_readNotifier = new QSocketNotifier(mnl_socket_get_fd(m_nl), QSocketNotifier::Read, this);
    connect(m_readNotifier, &QSocketNotifier::activated, this, &PacketTrace::onReadable);
    m_writeNotifier = new QSocketNotifier(m_pipe, QSocketNotifier::Write, this);
    m_writeNotifier->setEnabled(false);
    connect(m_writeNotifier, &QSocketNotifier::activated, this, &PacketTrace::onWritable);
    m_clock.start();
    m_timer.start(m_seconds * 1000);
    qInfo("trace %llu of forward '%s' started for %d seconds", m_id, qPrintable(m_forward.name),
          m_seconds);
    return {};
}

bool PacketTrace::chainsPresent() {
    RulesetSnapshot now;
    if (!m_reader.read(&now).isEmpty())
        return true; // unknown: assume the worst
    const QString inet = QStringLiteral("inet"), table = QLatin1String(ourTable);
    return now.find(inet, table, m_chains.prerouting) || now.find(inet, table, m_chains.output);
}

void PacketTrace::tableRewritten() {
    if (!m_running)
        return;
    // The chains are added only when they are gone: one that exists refuses the whole batch.
    const ApplyError e = m_writer->addTraceChains(m_chains);
    m_installed = true;
    // (refused with EEXIST when they are still there; the errno's words depend on the locale)
    if (!e.ok() && !chainsPresent())
        qWarning("trace %llu: %s", m_id, qPrintable(e.message));
}

void PacketTrace::stop(const QString &reason, const QString &message) {
    if (m_ending)
        return;
    m_ending = true;
    if (!m_running) { // never started: nothing was added
        if (m_pipe >= 0)
            close(m_pipe);
        m_pipe = -1;
        return;
    }
    m_timer.stop();
    // Stopped from inside their own signal, so deleted later, and quiet from now on.
    for (QSocketNotifier *n : {m_readNotifier, m_writeNotifier}) {
        if (n) {
            n->setEnabled(false);
            n->deleteLater();
        }
    }
    m_readNotifier = m_writeNotifier = nullptr;
    // Events already queued are written first, so that the list ends with the end line.
    drain();
    m_running = false;
    mnl_socket_close(m_nl);
    m_nl = nullptr;
    QString text = message;
    if (m_installed) {
        ApplyError e = m_writer->removeTraceChains(m_chains);
        if (!e.ok()) {
            // The table was replaced whole in the meantime and took one or both chains with it:
            // the batch was refused for the missing one, so the other goes on its own.
            RulesetSnapshot now;
            if (m_reader.read(&now).isEmpty()) {
                const QString inet = QStringLiteral("inet"), table = QLatin1String(ourTable);
                RulesetWriter::TraceChains left;
                if (now.find(inet, table, m_chains.prerouting))
                    left.prerouting = m_chains.prerouting;
                if (now.find(inet, table, m_chains.output))
                    left.output = m_chains.output;
                e = left.prerouting.isEmpty() && left.output.isEmpty()
                        ? ApplyError()
                        : m_writer->removeTraceChains(left);
            }
        }
        if (!e.ok()) {
            qWarning("trace %llu: %s", m_id, qPrintable(e.message));
            text += (text.isEmpty() ? QString() : QStringLiteral("; ")) + e.message;
        }
        m_installed = false;
    }
    if (m_lost)
        text += (text.isEmpty() ? QString() : QStringLiteral("; ")) +
                QStringLiteral("some trace events were lost (the kernel's buffer overran)");
    if (m_pipe >= 0) {
        QJsonObject end{{QStringLiteral("end"), reason}, {QStringLiteral("message"), text}};
        m_pending += QJsonDocument(end).toJson(QJsonDocument::Compact) + '\n';
        // One last try; the pipe is not waited for.
        while (!m_pending.isEmpty()) {
            const ssize_t n = ::write(m_pipe, m_pending.constData(), size_t(m_pending.size()));
            if (n <= 0)
                break;
            m_pending.remove(0, n);
        }
        close(m_pipe);
        m_pipe = -1;
    }
    qInfo("trace %llu of forward '%s' ended (%s): %d packets", m_id, qPrintable(m_forward.name),
          qPrintable(reason), m_packetCount);
    emit finished(m_id);
}

void PacketTrace::onReadable() {
    drain();
    if (m_limitReached)
        stop(
            QStringLiteral("stopped"),
            QStringLiteral("%1 packets were traced; start another trace for more").arg(maxPackets));
    else if (m_pipeGone)
        stop(QStringLiteral("stopped"), QStringLiteral("the client closed the pipe"));
    else if (m_pending.size() > maxPending)
        stop(QStringLiteral("error"), QStringLiteral("the client does not read the trace"));
}

void PacketTrace::drain() {
    static thread_local std::vector<char> buf(1u << 16);
    while (m_nl) {
        const ssize_t n = recv(mnl_socket_get_fd(m_nl), buf.data(), buf.size(), MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ENOBUFS) {
                m_lost = true;
                continue;
            }
            return; // EAGAIN: all read
        }
        int len = int(n);
        for (auto *nlh = reinterpret_cast<const nlmsghdr *>(buf.data()); mnl_nlmsg_ok(nlh, len);
             nlh = mnl_nlmsg_next(nlh, &len))
            handle(nlh);
    }
}

QString PacketTrace::hookOf(const QString &family, const QString &table, const QString &chain) {
    const ChainView *c = m_snapshot.find(family, table, chain);
    const QString label = family + QLatin1Char(' ') + table + QLatin1Char(' ') + chain;
    if (!c && !m_unknownChains.contains(label)) {
        // A chain made after the trace started: read the ruleset again, once per unknown chain.
        RulesetSnapshot fresh;
        if (m_reader.read(&fresh).isEmpty())
            m_snapshot = fresh;
        c = m_snapshot.find(family, table, chain);
        if (!c)
            m_unknownChains.insert(label);
    }
    return c && c->base ? c->hook : QString();
}

void PacketTrace::handle(const nlmsghdr *nlh) {
    QJsonObject o;
    quint32 traceId = 0;
    if (!parseEvent(nlh, &o, &traceId))
        return;
    const QString family = o.value(QLatin1String("family")).toString();
    const QString table = o.value(QLatin1String("table")).toString();
    const QString chain = o.value(QLatin1String("chain")).toString();
    const bool ours = family == QLatin1String("inet") && table == QLatin1String(ourTable);
    if (ours && (chain == m_chains.prerouting || chain == m_chains.output)) {
        // Our nftrace rule: a packet of this trace starts here. The kernel's id is a hash of the
        // packet buffer and comes back for later packets, so each pass through our chain that
        // follows other steps starts a new packet. The chain itself is not a step of the
        // packet's path and is not shown.
        auto it = m_packets.find(traceId);
        if (it != m_packets.end() && it->inTraceChain)
            return; // the rule's event, then the chain's policy: the same pass
        if (m_packetCount >= maxPackets) {
            m_limitReached = true;
            return;
        }
        m_packets.insert(traceId, Packet{++m_packetCount, QString(), true});
        return;
    }
    // Another client's trace of the same packets: its chain is no step of the path either.
    static const QRegularExpression traceChain(QStringLiteral("^trace[0-9]+_(pre|out)$"));
    if (ours && traceChain.match(chain).hasMatch())
        return;
    auto it = m_packets.find(traceId);
    if (it == m_packets.end() || m_limitReached)
        return; // traced by someone else's nftrace rule
    it->inTraceChain = false;
    QString hook = hookOf(family, table, chain);
    // The kernel marks the end of a chain's rules with a rule event without a handle: before
    // the policy of a base chain (which follows as its own event, so this one says nothing) and
    // when a jump target runs out of rules (a return to the caller).
    if (o.value(QLatin1String("type")) == QLatin1String("rule") &&
        o.value(QLatin1String("handle")).toInteger() == 0) {
        if (!hook.isEmpty())
            return;
        o.insert(QStringLiteral("type"), QStringLiteral("return"));
    }
    // A regular chain (a jump target) is at the hook of the base chain that jumped to it.
    if (hook.isEmpty())
        hook = it->lastHook;
    it->lastHook = hook;
    if (o.value(QLatin1String("verdict")) == QLatin1String("drop") &&
        o.value(QLatin1String("type")) == QLatin1String("rule")) {
        // reject ends in a drop; the rule says which.
        if (const ChainView *c = m_snapshot.find(family, table, chain)) {
            for (const RuleView &r : c->rules) {
                if (qint64(r.handle) == o.value(QLatin1String("handle")).toInteger() &&
                    r.verdict == QLatin1String("reject"))
                    o.insert(QStringLiteral("verdict"), QStringLiteral("reject"));
            }
        }
    }
    o.insert(QStringLiteral("packet"), it->number);
    o.insert(QStringLiteral("time_ms"), m_clock.elapsed());
    o.insert(QStringLiteral("hook"), hook);
    write(o);
}

void PacketTrace::write(const QJsonObject &line) {
    if (m_pipe < 0)
        return;
    m_pending += QJsonDocument(line).toJson(QJsonDocument::Compact) + '\n';
    onWritable();
}

void PacketTrace::onWritable() {
    while (!m_pending.isEmpty() && m_pipe >= 0) {
        const ssize_t n = ::write(m_pipe, m_pending.constData(), size_t(m_pending.size()));
        if (n > 0) {
            m_pending.remove(0, n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (m_writeNotifier)
                m_writeNotifier->setEnabled(true);
            return;
        }
        // EPIPE: the client closed its end; nobody is left to read the end line.
        m_pending.clear();
        close(m_pipe);
        m_pipe = -1;
        m_pipeGone = true;
        if (m_writeNotifier) // called from the notifier itself, not from drain()
            QTimer::singleShot(0, this, &PacketTrace::onReadable);
        return;
    }
    if (m_writeNotifier)
        m_writeNotifier->setEnabled(false);
}

} // namespace portico
