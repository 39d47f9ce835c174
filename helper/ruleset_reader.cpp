// SPDX-License-Identifier: GPL-3.0-or-later
// Dumps tables, chains, rules and anonymous sets of every family through libnftnl + libmnl and
// decodes each rule's expressions into the few matches, NAT statements and verdict that the
// summary, the trace and the diagnosis need. Only GET requests are ever sent.
#include "ruleset_reader.h"

#include "netlink_batch.h"

// glibc's in.h before the kernel headers, which then leave its definitions alone.
#include <arpa/inet.h>
#include <net/if.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/gen.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter_arp.h>

#include <QHostAddress>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

namespace portico {

QString RuleMatch::fieldName(Field f) {
    switch (f) {
    case Field::L4Proto:
        return QStringLiteral("l4proto");
    case Field::DPort:
        return QStringLiteral("dport");
    case Field::SPort:
        return QStringLiteral("sport");
    case Field::DAddr:
        return QStringLiteral("daddr");
    case Field::SAddr:
        return QStringLiteral("saddr");
    case Field::IifName:
        return QStringLiteral("iifname");
    case Field::OifName:
        return QStringLiteral("oifname");
    case Field::CtState:
        return QStringLiteral("ct state");
    case Field::CtStatus:
        return QStringLiteral("ct status");
    case Field::NfProto:
        return QStringLiteral("nfproto");
    }
    return {};
}

Counter ChainView::counters() const {
    Counter c;
    for (const RuleView &r : rules) {
        c.packets += r.counter.packets;
        c.bytes += r.counter.bytes;
    }
    return c;
}

bool ChainView::counted() const {
    return std::any_of(rules.begin(), rules.end(), [](const RuleView &r) { return r.hasCounter; });
}

quint32 ChainView::dropRules() const {
    quint32 n = 0;
    for (const RuleView &r : rules)
        n += r.dropsOrRejects() ? 1 : 0;
    return n;
}

quint32 ChainView::natRules() const {
    quint32 n = 0;
    for (const RuleView &r : rules)
        n += r.natsDestination() ? 1 : 0;
    return n;
}

QString ChainView::label() const {
    return family + QLatin1Char(' ') + table + QLatin1Char(' ') + name;
}

const ChainView *RulesetSnapshot::find(const QString &family, const QString &table,
                                       const QString &chain) const {
    for (const ChainView &c : chains) {
        if (c.family == family && c.table == table && c.name == chain)
            return &c;
    }
    return nullptr;
}

QList<const ChainView *> RulesetSnapshot::baseChainsAt(const QString &hook,
                                                       const QString &family) const {
    QList<const ChainView *> out;
    for (const ChainView &c : chains) {
        if (!c.base || c.hook != hook)
            continue;
        const bool sees = c.family == family ||
                          (c.family == QLatin1String("inet") &&
                           (family == QLatin1String("ip") || family == QLatin1String("ip6")));
        if (sees)
            out.append(&c);
    }
    std::stable_sort(out.begin(), out.end(), [](const ChainView *a, const ChainView *b) {
        return a->priority < b->priority;
    });
    return out;
}

QList<QVariantMap> RulesetSnapshot::summary() const {
    QList<QVariantMap> out;
    for (const ChainView &c : chains) {
        if (!c.base)
            continue;
        const Counter total = c.counters();
        out.append(QVariantMap{
            {QStringLiteral("family"), c.family},
            {QStringLiteral("table"), c.table},
            {QStringLiteral("chain"), c.name},
            {QStringLiteral("hook"), c.hook},
            {QStringLiteral("priority"), c.priority},
            {QStringLiteral("type"), c.type},
            {QStringLiteral("policy"), c.policy},
            {QStringLiteral("rules"), quint32(c.rules.size())},
            {QStringLiteral("drop_rules"), c.dropRules()},
            {QStringLiteral("nat_rules"), c.natRules()},
            {QStringLiteral("packets"), QVariant::fromValue<qulonglong>(total.packets)},
            {QStringLiteral("bytes"), QVariant::fromValue<qulonglong>(total.bytes)},
            {QStringLiteral("counted"), c.counted()},
            {QStringLiteral("ours"), c.ours},
        });
    }
    return out;
}

QString familyName(int nfproto) {
    switch (nfproto) {
    case NFPROTO_IPV4:
        return QStringLiteral("ip");
    case NFPROTO_IPV6:
        return QStringLiteral("ip6");
    case NFPROTO_INET:
        return QStringLiteral("inet");
    case NFPROTO_ARP:
        return QStringLiteral("arp");
    case NFPROTO_BRIDGE:
        return QStringLiteral("bridge");
    case NFPROTO_NETDEV:
        return QStringLiteral("netdev");
    default:
        return QString::number(nfproto);
    }
}

int familyNumber(const QString &name) {
    for (int f :
         {NFPROTO_IPV4, NFPROTO_IPV6, NFPROTO_INET, NFPROTO_ARP, NFPROTO_BRIDGE, NFPROTO_NETDEV}) {
        if (familyName(f) == name)
            return f;
    }
    return -1;
}

QString hookName(int nfproto, quint32 hooknum) {
    if (nfproto == NFPROTO_NETDEV) {
        return hooknum == 0   ? QStringLiteral("ingress")
               : hooknum == 1 ? QStringLiteral("egress")
                              : QString::number(hooknum);
    }
    if (nfproto == NFPROTO_ARP) {
        switch (hooknum) {
        case NF_ARP_IN:
            return QStringLiteral("input");
        case NF_ARP_OUT:
            return QStringLiteral("output");
        case NF_ARP_FORWARD:
            return QStringLiteral("forward");
        }
        return QString::number(hooknum);
    }
    // ip, ip6, inet and bridge number their hooks the same way.
    static const char *const names[] = {"prerouting", "input",       "forward",
                                        "output",     "postrouting", "ingress"};
    return hooknum < 6 ? QLatin1String(names[hooknum]) : QString::number(hooknum);
}

namespace {

constexpr char ourTable[] = "portico";

QString str(const char *s) {
    return s ? QString::fromUtf8(s) : QString();
}

QByteArray bytesOf(const nftnl_expr *e, uint16_t attr) {
    uint32_t len = 0;
    const void *p = nftnl_expr_get(e, attr, &len);
    return p ? QByteArray(static_cast<const char *>(p), int(len)) : QByteArray();
}

quint64 bigEndian(const QByteArray &b) {
    quint64 v = 0;
    for (char c : b)
        v = v << 8 | quint8(c);
    return v;
}

quint32 hostU32(const QByteArray &b) {
    quint32 v = 0;
    std::memcpy(&v, b.constData(), std::min<qsizetype>(b.size(), 4));
    return v;
}

QString protoName(quint8 p) {
    switch (p) {
    case 6:
        return QStringLiteral("tcp");
    case 17:
        return QStringLiteral("udp");
    case 1:
        return QStringLiteral("icmp");
    case 58:
        return QStringLiteral("icmpv6");
    case 132:
        return QStringLiteral("sctp");
    case 136:
        return QStringLiteral("udplite");
    default:
        return QString::number(p);
    }
}

QString ctStateNames(quint32 bits) {
    QStringList names;
    // NF_CT_STATE_BIT: IP_CT_ESTABLISHED 0 -> bit 1, RELATED 1 -> 2, NEW 2 -> 4... shifted by
    // one, with invalid as bit 0 and untracked as bit 6 (see nft's ct.c).
    static const std::pair<quint32, const char *> states[] = {
        {1u, "invalid"}, {2u, "established"}, {4u, "related"}, {8u, "new"}, {64u, "untracked"}};
    for (const auto &[bit, name] : states) {
        if (bits & bit)
            names << QLatin1String(name);
    }
    return names.join(QLatin1Char(','));
}

QString ctStatusNames(quint32 bits) {
    QStringList names;
    // IPS_* bits of linux/netfilter/nf_conntrack_common.h, with nft's names.
    static const std::pair<quint32, const char *> flags[] = {
        {1u << 0, "expected"},  {1u << 1, "seen-reply"}, {1u << 2, "assured"},
        {1u << 3, "confirmed"}, {1u << 4, "snat"},       {1u << 5, "dnat"},
        {1u << 9, "dying"}};
    for (const auto &[bit, name] : flags) {
        if (bits & bit)
            names << QLatin1String(name);
    }
    return names.join(QLatin1Char(','));
}

// What a register was loaded with.
struct Load {
    enum Kind { None, Meta, Payload, Ct, Other } kind = None;
    quint32 key = 0;    // meta or ct key
    quint32 base = 0;   // payload base
    quint32 offset = 0; // payload offset
    quint32 len = 0;
    QByteArray mask;        // after a bitwise mask-and-xor (xor zero), else empty
    bool maskedOdd = false; // a bitwise we cannot read as a mask (xor not zero, shifts)

    static Load of(Kind kind, quint32 key = 0) {
        Load l;
        l.kind = kind;
        l.key = key;
        return l;
    }
};

// The field a load stands for, given the network family in force (ipv4 or ipv6, 0 if unknown).
// Returns false for loads the reader does not understand.
bool fieldOf(const Load &l, int nf, RuleMatch::Field *field, int *prefixBits) {
    using F = RuleMatch::Field;
    *prefixBits = -1;
    if (l.maskedOdd)
        return false;
    if (l.kind == Load::Meta) {
        if (!l.mask.isEmpty())
            return false;
        switch (l.key) {
        case NFT_META_L4PROTO:
            *field = F::L4Proto;
            return true;
        case NFT_META_NFPROTO:
        case NFT_META_PROTOCOL:
            *field = F::NfProto;
            return true;
        case NFT_META_IIFNAME:
        case NFT_META_IIF:
            *field = F::IifName;
            return true;
        case NFT_META_OIFNAME:
        case NFT_META_OIF:
            *field = F::OifName;
            return true;
        default:
            return false;
        }
    }
    if (l.kind == Load::Ct) {
        if (l.key != NFT_CT_STATE && l.key != NFT_CT_STATUS)
            return false;
        *field = l.key == NFT_CT_STATE ? F::CtState : F::CtStatus;
        return true;
    }
    if (l.kind != Load::Payload)
        return false;
    if (l.base == NFT_PAYLOAD_TRANSPORT_HEADER && l.len == 2 && l.mask.isEmpty() &&
        (l.offset == 0 || l.offset == 2)) {
        *field = l.offset == 0 ? F::SPort : F::DPort;
        return true;
    }
    if (l.base != NFT_PAYLOAD_NETWORK_HEADER)
        return false;
    // Addresses: a prefix is either a shorter load (nft does that for whole bytes) or a mask.
    const auto address = [&](quint32 start, quint32 size, F f) {
        if (l.offset < start || l.offset != start || l.len == 0 || l.len > size)
            return false;
        int bits = int(l.len) * 8;
        if (!l.mask.isEmpty()) {
            bits = 0;
            bool ended = false;
            for (char c : l.mask) {
                for (int b = 7; b >= 0; --b) {
                    const bool one = (quint8(c) >> b) & 1;
                    if (one && ended)
                        return false; // not a prefix mask
                    if (one)
                        ++bits;
                    else
                        ended = true;
                }
            }
        }
        *field = f;
        *prefixBits = bits == int(size) * 8 ? -1 : bits;
        return true;
    };
    if (nf != 6) { // IPv4 header
        if (l.offset == 9 && l.len == 1 && l.mask.isEmpty()) {
            *field = F::L4Proto;
            return true;
        }
        if (address(12, 4, F::SAddr) || address(16, 4, F::DAddr))
            return true;
    }
    if (nf != 4) { // IPv6 header
        if (l.offset == 6 && l.len == 1 && l.mask.isEmpty()) {
            *field = F::L4Proto;
            return true;
        }
        if (address(8, 16, F::SAddr) || address(24, 16, F::DAddr))
            return true;
    }
    return false;
}

QString ifName(const QByteArray &data, quint32 key) {
    if (key == NFT_META_IIF || key == NFT_META_OIF) {
        char name[IF_NAMESIZE] = {};
        const quint32 index = hostU32(data);
        return if_indextoname(index, name) ? QString::fromLatin1(name)
                                           : QStringLiteral("#%1").arg(index);
    }
    // A name compared without its terminating zero is a prefix match: `iifname "veth*"`.
    const int nul = data.indexOf('\0');
    if (nul < 0)
        return QString::fromLatin1(data) + QLatin1Char('*');
    return QString::fromLatin1(data.left(nul));
}

QString addressText(const QByteArray &data, int prefixBits) {
    QByteArray full = data;
    const int size = full.size() <= 4 ? 4 : 16;
    full.resize(size, '\0');
    QHostAddress a;
    if (size == 4)
        a.setAddress(quint32(bigEndian(full)));
    else
        a.setAddress(reinterpret_cast<const quint8 *>(full.constData()));
    QString text = a.toString();
    if (prefixBits >= 0)
        text += QLatin1Char('/') + QString::number(prefixBits);
    return text;
}

// The value text of one datum for a field (the ports are not text).
QString valueText(RuleMatch::Field f, const Load &l, const QByteArray &data, int prefixBits) {
    using F = RuleMatch::Field;
    switch (f) {
    case F::L4Proto:
        return protoName(data.isEmpty() ? 0 : quint8(data.at(0)));
    case F::NfProto:
        if (l.key == NFT_META_PROTOCOL) {
            const quint64 eth = bigEndian(data.left(2));
            return eth == 0x0800   ? QStringLiteral("ipv4")
                   : eth == 0x86dd ? QStringLiteral("ipv6")
                                   : QString::number(eth);
        }
        return data.isEmpty()               ? QString()
               : data.at(0) == NFPROTO_IPV4 ? QStringLiteral("ipv4")
               : data.at(0) == NFPROTO_IPV6 ? QStringLiteral("ipv6")
                                            : QString::number(quint8(data.at(0)));
    case F::IifName:
    case F::OifName:
        return ifName(data, l.key);
    case F::DAddr:
    case F::SAddr:
        return addressText(data, prefixBits);
    case F::CtState:
        return ctStateNames(hostU32(data));
    case F::CtStatus:
        return ctStatusNames(hostU32(data));
    case F::DPort:
    case F::SPort:
        return QString::number(bigEndian(data));
    }
    return {};
}

// Decodes a rule's expressions, one at a time, keeping what each register holds.
class RuleDecoder {
public:
    RuleDecoder(int family, const QString &table, RuleView *out, const reader::SetElements *sets)
        : m_out(out)
        , m_sets(sets)
        , m_table(table) {
        m_familyName = familyName(family);
        m_nf = family == NFPROTO_IPV4 ? 4 : family == NFPROTO_IPV6 ? 6 : 0;
    }

    void expr(const nftnl_expr *e) {
        const QByteArray name(nftnl_expr_get_str(e, NFTNL_EXPR_NAME));
        if (name == "meta") {
            if (nftnl_expr_is_set(e, NFTNL_EXPR_META_DREG))
                load(nftnl_expr_get_u32(e, NFTNL_EXPR_META_DREG),
                     Load::of(Load::Meta, nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY)));
            // `meta ... set`: a statement, it does not decide whether the rule matches.
        } else if (name == "ct") {
            if (nftnl_expr_is_set(e, NFTNL_EXPR_CT_DREG)) {
                Load l = Load::of(Load::Ct, nftnl_expr_get_u32(e, NFTNL_EXPR_CT_KEY));
                // A key of one direction (`ct original ...`) is none we read.
                if (nftnl_expr_is_set(e, NFTNL_EXPR_CT_DIR))
                    l.kind = Load::Other;
                load(nftnl_expr_get_u32(e, NFTNL_EXPR_CT_DREG), l);
            }
        } else if (name == "payload") {
            if (nftnl_expr_is_set(e, NFTNL_EXPR_PAYLOAD_DREG)) {
                Load l = Load::of(Load::Payload);
                l.base = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE);
                l.offset = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET);
                l.len = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN);
                load(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_DREG), l);
            }
        } else if (name == "bitwise") {
            bitwise(e);
        } else if (name == "cmp") {
            cmp(e);
        } else if (name == "range") {
            range(e);
        } else if (name == "lookup") {
            lookup(e);
        } else if (name == "immediate") {
            immediate(e);
        } else if (name == "counter") {
            m_out->hasCounter = true;
            m_out->counter.packets += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
            m_out->counter.bytes += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
        } else if (name == "nat") {
            (nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_TYPE) == NFT_NAT_DNAT ? m_out->dnat
                                                                        : m_out->snat) = true;
            m_out->verdict = QStringLiteral("accept"); // NAT statements end the chain: accept
        } else if (name == "masq") {
            m_out->masquerade = true;
            m_out->verdict = QStringLiteral("accept");
        } else if (name == "redir") {
            m_out->redirect = true;
            m_out->verdict = QStringLiteral("accept");
        } else if (name == "reject") {
            m_out->verdict = QStringLiteral("reject");
        } else if (name == "queue") {
            m_out->verdict = QStringLiteral("queue");
        } else if (name == "target") {
            xtTarget(QByteArray(nftnl_expr_get_str(e, NFTNL_EXPR_TG_NAME)));
        } else if (name == "log" || name == "notrack" || name == "objref" || name == "dynset" ||
                   name == "dup" || name == "last" || name == "flow_offload" || name == "secmark") {
            // Statements that neither match nor end the rule.
        } else {
            // fib, socket, limit, quota, exthdr, rt, xt match/target, tproxy, ...: the rule
            // depends on something we do not decode.
            m_out->opaque = true;
            m_regs.clear();
        }
    }

private:
    void load(quint32 reg, const Load &l) { m_regs[reg] = l; }

    // An iptables-nft rule with an xtables target (-j REJECT, -j DNAT, ...) that nft has no
    // native form for.
    void xtTarget(const QByteArray &target) {
        if (target == "REJECT") {
            m_out->verdict = QStringLiteral("reject");
        } else if (target == "DNAT" || target == "SNAT" || target == "MASQUERADE" ||
                   target == "REDIRECT") {
            (target == "DNAT"         ? m_out->dnat
             : target == "SNAT"       ? m_out->snat
             : target == "MASQUERADE" ? m_out->masquerade
                                      : m_out->redirect) = true;
            m_out->verdict = QStringLiteral("accept");
        } else {
            m_out->opaque = true; // LOG, MARK, NFQUEUE, ...: whether it ends the chain is unknown
        }
    }

    const Load *reg(quint32 r) const {
        const auto it = m_regs.find(r);
        return it == m_regs.end() ? nullptr : &it->second;
    }

    void bitwise(const nftnl_expr *e) {
        const quint32 sreg = nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_SREG);
        const quint32 dreg = nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_DREG);
        Load l = reg(sreg) ? *reg(sreg) : Load::of(Load::Other);
        const bool boolOp = !nftnl_expr_is_set(e, NFTNL_EXPR_BITWISE_OP) ||
                            nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_OP) == NFT_BITWISE_BOOL;
        const QByteArray x = bytesOf(e, NFTNL_EXPR_BITWISE_XOR);
        if (!boolOp || x.count('\0') != x.size() || !l.mask.isEmpty())
            l.maskedOdd = true;
        else
            l.mask = bytesOf(e, NFTNL_EXPR_BITWISE_MASK);
        load(dreg, l);
    }

    // A match on a register: where the loaded field is known, added to the view; else the rule
    // is opaque.
    RuleMatch *matchFor(quint32 sreg, const Load **loaded, int *prefixBits) {
        const Load *l = reg(sreg);
        RuleMatch::Field f;
        if (!l || !fieldOf(*l, m_nf, &f, prefixBits)) {
            m_out->opaque = true;
            return nullptr;
        }
        *loaded = l;
        RuleMatch m;
        m.field = f;
        m_out->matches.append(m);
        return &m_out->matches.last();
    }

    void noteFamily(const RuleMatch &m) {
        if (m.field == RuleMatch::Field::NfProto && !m.negated && m.values.size() == 1)
            m_nf = m.values.first() == QLatin1String("ipv4")   ? 4
                   : m.values.first() == QLatin1String("ipv6") ? 6
                                                               : m_nf;
    }

    void cmp(const nftnl_expr *e) {
        const quint32 sreg = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_SREG);
        const quint32 op = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP);
        const QByteArray data = bytesOf(e, NFTNL_EXPR_CMP_DATA);
        const Load *l = reg(sreg);
        int prefix = -1;
        RuleMatch::Field f;
        const bool ports = l && fieldOf(*l, m_nf, &f, &prefix) &&
                           (f == RuleMatch::Field::DPort || f == RuleMatch::Field::SPort);
        if (ports && op != NFT_CMP_EQ && op != NFT_CMP_NEQ) {
            // A range written as two comparisons: `>= lo` then `<= hi` on the same register.
            const quint64 v = bigEndian(data);
            quint16 lo = 0, hi = 0xffff;
            if (op == NFT_CMP_GTE)
                lo = quint16(v);
            else if (op == NFT_CMP_GT)
                lo = quint16(v + 1);
            else if (op == NFT_CMP_LTE)
                hi = quint16(v);
            else if (op == NFT_CMP_LT)
                hi = quint16(v - 1);
            if (m_lastRangeReg == int(sreg) && !m_out->matches.isEmpty() &&
                m_out->matches.last().field == f && m_out->matches.last().ports.size() == 1) {
                auto &r = m_out->matches.last().ports.first();
                r.first = std::max(r.first, lo);
                r.second = std::min(r.second, hi);
            } else {
                RuleMatch m;
                m.field = f;
                m.ports = {{lo, hi}};
                m_out->matches.append(m);
            }
            m_lastRangeReg = int(sreg);
            return;
        }
        m_lastRangeReg = -1;
        const Load *loaded = nullptr;
        RuleMatch *m = matchFor(sreg, &loaded, &prefix);
        if (!m)
            return;
        const bool ctBits =
            m->field == RuleMatch::Field::CtState || m->field == RuleMatch::Field::CtStatus;
        if (ctBits && !loaded->mask.isEmpty()) {
            // `ct state established,related` or `ct status dnat`: (value & bits) != 0.
            if (data.count('\0') != data.size() || (op != NFT_CMP_EQ && op != NFT_CMP_NEQ)) {
                m_out->matches.removeLast();
                m_out->opaque = true;
                return;
            }
            const quint32 bits = hostU32(loaded->mask);
            m->values =
                (m->field == RuleMatch::Field::CtState ? ctStateNames(bits) : ctStatusNames(bits))
                    .split(QLatin1Char(','));
            m->negated = op == NFT_CMP_EQ;
            return;
        }
        if (op != NFT_CMP_EQ && op != NFT_CMP_NEQ) {
            m_out->matches.removeLast();
            m_out->opaque = true;
            return;
        }
        m->negated = op == NFT_CMP_NEQ;
        if (ports) {
            const quint16 v = quint16(bigEndian(data));
            m->ports = {{v, v}};
        } else {
            m->values = valueText(m->field, *loaded, data, prefix).split(QLatin1Char(','));
        }
        noteFamily(*m);
    }

    void range(const nftnl_expr *e) {
        m_lastRangeReg = -1;
        const Load *loaded = nullptr;
        int prefix = -1;
        RuleMatch *m = matchFor(nftnl_expr_get_u32(e, NFTNL_EXPR_RANGE_SREG), &loaded, &prefix);
        if (!m)
            return;
        m->negated = nftnl_expr_get_u32(e, NFTNL_EXPR_RANGE_OP) == NFT_RANGE_NEQ;
        const QByteArray from = bytesOf(e, NFTNL_EXPR_RANGE_FROM_DATA);
        const QByteArray to = bytesOf(e, NFTNL_EXPR_RANGE_TO_DATA);
        addRange(m, *loaded, from, to);
    }

    void addRange(RuleMatch *m, const Load &l, const QByteArray &from, const QByteArray &to) {
        using F = RuleMatch::Field;
        if (m->field == F::DPort || m->field == F::SPort) {
            m->ports.append({quint16(bigEndian(from)), quint16(bigEndian(to))});
        } else if (m->field == F::DAddr || m->field == F::SAddr) {
            const QString a = addressText(from, -1), b = addressText(to, -1);
            m->values << (a == b ? a : a + QLatin1Char('-') + b);
        } else {
            m->values << valueText(m->field, l, from, -1);
        }
    }

    void lookup(const nftnl_expr *e) {
        m_lastRangeReg = -1;
        const QString set = str(nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET));
        const bool map = nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG);
        if (map) {
            // A verdict map decides the verdict by the packet; a data map feeds a statement.
            if (nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_DREG) == NFT_REG_VERDICT)
                m_out->verdict = QStringLiteral("vmap");
            m_out->opaque = true;
            return;
        }
        const auto it = m_sets ? m_sets->constFind(m_familyName + QLatin1Char(' ') + m_table +
                                                   QLatin1Char(' ') + set)
                               : reader::SetElements::const_iterator();
        if (!m_sets || it == m_sets->constEnd()) {
            m_out->opaque = true;
            return;
        }
        const Load *loaded = nullptr;
        int prefix = -1;
        const quint32 sreg = nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SREG);
        const Load *l = reg(sreg);
        // Only a lookup of one whole field (no concatenation, no mask) is read.
        if (!l || !l->mask.isEmpty()) {
            m_out->opaque = true;
            return;
        }
        RuleMatch *m = matchFor(sreg, &loaded, &prefix);
        if (!m)
            return;
        m->negated = nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS) &&
                     (nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS) & NFT_LOOKUP_F_INV);
        for (const auto &[key, end] : *it) {
            if (m->field == RuleMatch::Field::CtState) {
                m->values << ctStateNames(hostU32(key)).split(QLatin1Char(','));
                continue;
            }
            if (m->field == RuleMatch::Field::CtStatus) {
                m->values << ctStatusNames(hostU32(key)).split(QLatin1Char(','));
                continue;
            }
            addRange(m, *loaded, key, end.isEmpty() ? key : end);
        }
        noteFamily(*m);
    }

    void immediate(const nftnl_expr *e) {
        const quint32 dreg = nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_DREG);
        if (dreg != NFT_REG_VERDICT) {
            load(dreg, Load::of(Load::Other));
            return;
        }
        const int v = int(nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT));
        switch (v) {
        case NF_ACCEPT:
            m_out->verdict = QStringLiteral("accept");
            break;
        case NF_DROP:
            m_out->verdict = QStringLiteral("drop");
            break;
        case NF_QUEUE:
            m_out->verdict = QStringLiteral("queue");
            break;
        case NFT_JUMP:
        case NFT_GOTO:
            m_out->verdict = v == NFT_JUMP ? QStringLiteral("jump") : QStringLiteral("goto");
            m_out->target = str(nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN));
            break;
        case NFT_RETURN:
            m_out->verdict = QStringLiteral("return");
            break;
        case NFT_CONTINUE:
            m_out->verdict = QStringLiteral("continue");
            break;
        default:
            m_out->verdict = QString::number(v);
            break;
        }
    }

    RuleView *m_out;
    const reader::SetElements *m_sets;
    QString m_table;
    QString m_familyName;
    int m_nf = 0;
    int m_lastRangeReg = -1;
    std::map<quint32, Load> m_regs;
};

QString ruleComment(const nftnl_rule *r) {
    if (!nftnl_rule_is_set(r, NFTNL_RULE_USERDATA))
        return {};
    uint32_t len = 0;
    const auto *p = static_cast<const quint8 *>(nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len));
    // Type-length-value records; NFTNL_UDATA_RULE_COMMENT is type 0, a NUL-terminated string.
    for (uint32_t i = 0; p && i + 2 <= len;) {
        const quint8 type = p[i], size = p[i + 1];
        if (i + 2 + size > len)
            break;
        if (type == 0 && size > 0)
            return QString::fromUtf8(reinterpret_cast<const char *>(p + i + 2),
                                     qstrnlen(reinterpret_cast<const char *>(p + i + 2), size));
        i += 2 + size;
    }
    return {};
}

} // namespace

// libnftnl reads a message as the object it is asked for, and aborts on attributes that do not
// fit; so the message type is checked first.
static bool isMessage(const nlmsghdr *nlh, uint16_t type) {
    return nlh->nlmsg_type == (NFNL_SUBSYS_NFTABLES << 8 | type) &&
           nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(nfgenmsg);
}

bool reader::parseTable(const nlmsghdr *nlh, TableView *out) {
    if (!isMessage(nlh, NFT_MSG_NEWTABLE))
        return false;
    *out = TableView();
    nftnl_table *t = nftnl_table_alloc();
    const bool ok = nftnl_table_nlmsg_parse(nlh, t) == 0 && nftnl_table_is_set(t, NFTNL_TABLE_NAME);
    if (ok) {
        out->family = familyName(int(nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY)));
        out->name = str(nftnl_table_get_str(t, NFTNL_TABLE_NAME));
        out->handle = nftnl_table_is_set(t, NFTNL_TABLE_HANDLE)
                          ? nftnl_table_get_u64(t, NFTNL_TABLE_HANDLE)
                          : 0;
        out->flags = nftnl_table_is_set(t, NFTNL_TABLE_FLAGS)
                         ? nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS)
                         : 0;
        out->ours = out->family == QLatin1String("inet") && out->name == QLatin1String(ourTable);
    }
    nftnl_table_free(t);
    return ok;
}

bool reader::parseChain(const nlmsghdr *nlh, ChainView *out) {
    if (!isMessage(nlh, NFT_MSG_NEWCHAIN))
        return false;
    *out = ChainView();
    nftnl_chain *c = nftnl_chain_alloc();
    const bool ok = nftnl_chain_nlmsg_parse(nlh, c) == 0 &&
                    nftnl_chain_is_set(c, NFTNL_CHAIN_NAME) &&
                    nftnl_chain_is_set(c, NFTNL_CHAIN_TABLE);
    if (ok) {
        const int family = int(nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY));
        out->family = familyName(family);
        out->table = str(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE));
        out->name = str(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME));
        out->handle = nftnl_chain_is_set(c, NFTNL_CHAIN_HANDLE)
                          ? nftnl_chain_get_u64(c, NFTNL_CHAIN_HANDLE)
                          : 0;
        out->base = nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM);
        if (out->base) {
            out->hook = hookName(family, nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM));
            out->priority = nftnl_chain_is_set(c, NFTNL_CHAIN_PRIO)
                                ? nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO)
                                : 0;
            out->type = nftnl_chain_is_set(c, NFTNL_CHAIN_TYPE)
                            ? str(nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE))
                            : QStringLiteral("filter");
            const bool drop = nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY) &&
                              nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY) == NF_DROP;
            out->policy = drop ? QStringLiteral("drop") : QStringLiteral("accept");
            if (nftnl_chain_is_set(c, NFTNL_CHAIN_DEV))
                out->devices << str(nftnl_chain_get_str(c, NFTNL_CHAIN_DEV));
            if (nftnl_chain_is_set(c, NFTNL_CHAIN_DEVICES)) {
                const char *const *devs = nftnl_chain_get_array(c, NFTNL_CHAIN_DEVICES);
                for (int i = 0; devs && devs[i]; ++i)
                    out->devices << str(devs[i]);
            }
        } else {
            out->policy.clear();
        }
        out->ours = out->family == QLatin1String("inet") && out->table == QLatin1String(ourTable);
    }
    nftnl_chain_free(c);
    return ok;
}

bool reader::parseRule(const nlmsghdr *nlh, QString *family, QString *table, QString *chain,
                       RuleView *out, const SetElements *sets) {
    if (!isMessage(nlh, NFT_MSG_NEWRULE))
        return false;
    nftnl_rule *r = nftnl_rule_alloc();
    const bool ok = nftnl_rule_nlmsg_parse(nlh, r) == 0 && nftnl_rule_is_set(r, NFTNL_RULE_TABLE) &&
                    nftnl_rule_is_set(r, NFTNL_RULE_CHAIN);
    if (ok) {
        const int fam = int(nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY));
        *family = familyName(fam);
        *table = str(nftnl_rule_get_str(r, NFTNL_RULE_TABLE));
        *chain = str(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
        *out = RuleView();
        out->handle =
            nftnl_rule_is_set(r, NFTNL_RULE_HANDLE) ? nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE) : 0;
        out->comment = ruleComment(r);
        RuleDecoder decoder(fam, *table, out, sets);
        nftnl_expr_foreach(
            r,
            [](nftnl_expr *e, void *data) {
                static_cast<RuleDecoder *>(data)->expr(e);
                return 0;
            },
            &decoder);
    }
    nftnl_rule_free(r);
    return ok;
}

bool reader::parseGeneration(const nlmsghdr *nlh, quint32 *out) {
    if (!isMessage(nlh, NFT_MSG_NEWGEN))
        return false;
    nftnl_gen *g = nftnl_gen_alloc();
    const bool ok = nftnl_gen_nlmsg_parse(nlh, g) == 0 && nftnl_gen_is_set(g, NFTNL_GEN_ID);
    if (ok)
        *out = nftnl_gen_get_u32(g, NFTNL_GEN_ID);
    nftnl_gen_free(g);
    return ok;
}

struct RulesetReader::Private {
    netlink::Socket socket;

    QString dump(uint16_t type, uint16_t family, const std::function<void(nlmsghdr *)> &fill,
                 const std::function<void(const nlmsghdr *)> &onMessage) {
        char buf[MNL_SOCKET_BUFFER_SIZE];
        nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, type, family, NLM_F_DUMP, socket.nextSeq());
        if (fill)
            fill(nlh);
        return socket.dump(nlh, onMessage);
    }

    // The elements of every anonymous set, which rules look up for `{ tcp, udp }` and the like.
    QString anonymousSets(reader::SetElements *out) {
        struct Named {
            int family;
            QByteArray table, name;
            bool interval;
        };
        QList<Named> anonymous;
        QString err = dump(NFT_MSG_GETSET, NFPROTO_UNSPEC, nullptr, [&](const nlmsghdr *nlh) {
            nftnl_set *s = nftnl_set_alloc();
            if (nftnl_set_nlmsg_parse(nlh, s) == 0 && nftnl_set_is_set(s, NFTNL_SET_FLAGS) &&
                (nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS) &&
                !(nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_MAP) &&
                !(nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_CONCAT))
                anonymous.append({int(nftnl_set_get_u32(s, NFTNL_SET_FAMILY)),
                                  nftnl_set_get_str(s, NFTNL_SET_TABLE),
                                  nftnl_set_get_str(s, NFTNL_SET_NAME),
                                  bool(nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_INTERVAL)});
            nftnl_set_free(s);
        });
        if (!err.isEmpty())
            return err;
        for (const Named &n : anonymous) {
            // Interval sets hold a start element and an end element (one past the interval,
            // flagged) per interval, in the backend's order: sorted here, an end before a start
            // of the same key, then paired up.
            struct Raw {
                QByteArray key, keyEnd;
                bool end = false;
            };
            std::vector<Raw> raw;
            err = dump(
                NFT_MSG_GETSETELEM, uint16_t(n.family),
                [&](nlmsghdr *nlh) {
                    mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, n.table.constData());
                    mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, n.name.constData());
                },
                [&](const nlmsghdr *nlh) {
                    nftnl_set *s = nftnl_set_alloc();
                    if (nftnl_set_elems_nlmsg_parse(nlh, s) == 0) {
                        nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
                        // _next() returns the element it stands on, then moves on.
                        for (nftnl_set_elem *e = nftnl_set_elems_iter_next(it); e;
                             e = nftnl_set_elems_iter_next(it)) {
                            Raw r;
                            uint32_t len = 0;
                            if (const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len))
                                r.key = QByteArray(static_cast<const char *>(key), int(len));
                            if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_KEY_END)) {
                                const void *k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY_END, &len);
                                r.keyEnd = QByteArray(static_cast<const char *>(k), int(len));
                            }
                            r.end = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) &&
                                    (nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) &
                                     NFT_SET_ELEM_INTERVAL_END);
                            raw.push_back(r);
                        }
                        nftnl_set_elems_iter_destroy(it);
                    }
                    nftnl_set_free(s);
                });
            if (!err.isEmpty() && errno != ENOENT)
                return err;
            std::stable_sort(raw.begin(), raw.end(), [](const Raw &a, const Raw &b) {
                const int c = std::memcmp(a.key.constData(), b.key.constData(),
                                          size_t(std::min(a.key.size(), b.key.size())));
                return c != 0 ? c < 0 : a.end && !b.end;
            });
            QList<QPair<QByteArray, QByteArray>> elements;
            for (size_t i = 0; i < raw.size(); ++i) {
                const Raw &r = raw[i];
                if (r.end)
                    continue; // an end without its start: the start was the previous element
                if (!r.keyEnd.isEmpty()) {
                    elements.append({r.key, r.keyEnd});
                } else if (i + 1 < raw.size() && raw[i + 1].end) {
                    QByteArray last = raw[i + 1].key; // one past the interval: step back
                    for (qsizetype b = last.size() - 1; b >= 0; --b) {
                        const bool borrow = quint8(last[b]) == 0;
                        last[b] = char(quint8(last[b]) - 1);
                        if (!borrow)
                            break;
                    }
                    elements.append({r.key, last});
                } else if (n.interval) {
                    elements.append({r.key, QByteArray(r.key.size(), char(0xff))});
                } else {
                    elements.append({r.key, QByteArray()});
                }
            }
            out->insert(familyName(n.family) + QLatin1Char(' ') + QString::fromUtf8(n.table) +
                            QLatin1Char(' ') + QString::fromUtf8(n.name),
                        elements);
        }
        return {};
    }

    QString readOnce(RulesetSnapshot *out) {
        *out = RulesetSnapshot();
        QString err = dump(NFT_MSG_GETTABLE, NFPROTO_UNSPEC, nullptr, [&](const nlmsghdr *nlh) {
            TableView t;
            if (reader::parseTable(nlh, &t))
                out->tables.append(t);
        });
        if (!err.isEmpty())
            return QStringLiteral("cannot list the tables: %1").arg(err);
        QHash<QString, qsizetype> index; // "family table chain" -> position in out->chains
        err = dump(NFT_MSG_GETCHAIN, NFPROTO_UNSPEC, nullptr, [&](const nlmsghdr *nlh) {
            ChainView c;
            if (reader::parseChain(nlh, &c)) {
                index.insert(c.label(), out->chains.size());
                out->chains.append(c);
            }
        });
        if (!err.isEmpty())
            return QStringLiteral("cannot list the chains: %1").arg(err);
        reader::SetElements sets;
        if (err = anonymousSets(&sets); !err.isEmpty())
            return QStringLiteral("cannot list the sets: %1").arg(err);
        err = dump(NFT_MSG_GETRULE, NFPROTO_UNSPEC, nullptr, [&](const nlmsghdr *nlh) {
            QString family, table, chain;
            RuleView r;
            if (!reader::parseRule(nlh, &family, &table, &chain, &r, &sets))
                return;
            const auto it =
                index.constFind(family + QLatin1Char(' ') + table + QLatin1Char(' ') + chain);
            if (it != index.constEnd())
                out->chains[*it].rules.append(r);
        });
        if (!err.isEmpty())
            return QStringLiteral("cannot list the rules: %1").arg(err);
        return {};
    }
};

RulesetReader::RulesetReader()
    : d(std::make_unique<Private>()) {
    // A large foreign ruleset (Docker with many containers) comes back in many pages.
    d->socket.growBuffers(0, 4u << 20);
}

RulesetReader::~RulesetReader() = default;

QString RulesetReader::generation(quint32 *out) {
    char buf[MNL_SOCKET_BUFFER_SIZE];
    nlmsghdr *nlh =
        nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, NFPROTO_UNSPEC, NLM_F_ACK, d->socket.nextSeq());
    bool found = false;
    const QString err = d->socket.dump(
        nlh, [&](const nlmsghdr *reply) { found = found || reader::parseGeneration(reply, out); });
    if (!err.isEmpty())
        return QStringLiteral("cannot read the ruleset generation: %1").arg(err);
    if (!found)
        return QStringLiteral("cannot read the ruleset generation: the kernel sent none");
    return {};
}

QString RulesetReader::read(RulesetSnapshot *out) {
    // The dumps are separate requests; a change between them would mix two rulesets, so the
    // read counts only when the generation is the same before and after.
    QString err;
    for (int attempt = 0; attempt < 5; ++attempt) {
        quint32 before = 0, after = 0;
        if (err = generation(&before); !err.isEmpty())
            return err;
        err = d->readOnce(out);
        if (QString e = generation(&after); !e.isEmpty())
            return e;
        if (before == after) {
            out->generation = after;
            return err;
        }
    }
    return err.isEmpty() ? QStringLiteral("the ruleset kept changing while it was read") : err;
}

} // namespace portico
