// SPDX-License-Identifier: GPL-3.0-or-later
// Turns a compiled model into one nf_tables batch (libnftnl for the objects, libmnl for the bulk
// of set elements), sends it, and maps any refusal back to the forward and field it came from.
#include "ruleset_writer.h"

#include "netlink_batch.h"
#include "ruleset_model.h"
#include "ruleset_netlink.h"

#include <QSet>

// glibc's in.h before the kernel headers, which then leave its definitions alone.
#include <arpa/inet.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <climits>
#include <cstring>
#include <endian.h>
#include <functional>

namespace portico {

using namespace ruleset;

namespace {

constexpr char tableName[] = "portico";
constexpr size_t elementMessageBudget = 48u << 10; // well under the u16 limit of one nest

enum class What : quint8 { Table, Chain, Set, Elements, Rule };

// What one message of the batch was about, so that a refusal can be put in words.
struct SeqInfo {
    What what = What::Table;
    Blame blame = Blame::None;
    int forward = -1;
    int index = -1; // chain or set index in the model
    // Elements: the runs of this message in BatchMap::runs, [runsBegin, runsEnd).
    uint32_t runsBegin = 0;
    uint32_t runsEnd = 0;
};

// Where a run of one forward's elements starts inside a NEWSETELEM message. The kernel points
// its extended ACK at the refused element, so the offset finds the forward.
struct Run {
    uint32_t offset;
    int forward;
};

struct BatchMap {
    std::vector<SeqInfo> info; // by sequence number - first
    std::vector<Run> runs;
};

// nft's register numbering: 16-byte registers where they line up, 4-byte ones elsewhere.
uint32_t reg32(int word) {
    return word % 4 == 0 ? uint32_t(NFT_REG_1 + word / 4) : uint32_t(NFT_REG32_00 + word);
}

// nft's datatype numbers (datatype.h), which `nft list` needs to print our keys.
uint32_t keyFieldTypeId(KeyField f) {
    switch (f) {
    case KeyField::SrcAddr4:
    case KeyField::DstAddr4:
        return 7;
    case KeyField::SrcAddr6:
    case KeyField::DstAddr6:
        return 8;
    case KeyField::IifName:
        return 41;
    case KeyField::L4Proto:
        return 12;
    case KeyField::DstPort:
        return 13;
    }
    return 0;
}

constexpr uint32_t typeBits = 6;
constexpr uint32_t markType = 19;

// The set userdata nft writes for these declarations (byte orders and "typeof" hints), copied
// from `nft --debug=mnl` so that `nft list` prints our sets exactly as it prints its own.
QByteArray setUserdata(const Set &s) {
    auto hex = [](const char *h) {
        return QByteArray::fromHex(h);
    };
    // Byte orders (0 key, 1 data), "typeof" hints (3 key, 4 data), data interval (6).
    if (s.anonymous)
        return hex("000401000000"
                   "030e"
                   "000409000000"
                   "0106"
                   "000410000000");
    if (s.key.isEmpty())
        return hex("000401000000");
    switch (s.data) {
    case DataType::Mark:
        return hex("000400000000"
                   "010401000000"
                   "03080004"
                   "0d0000000100"
                   "060400000000");
    case DataType::Port:
        return hex("000400000000"
                   "010402000000"
                   "03080004"
                   "0d0000000100"
                   "060400000000");
    case DataType::Addr4Port:
    case DataType::Addr6Port:
        return hex("000400000000"
                   "010400000000"
                   "03080004"
                   "0d0000000100"
                   "04080004"
                   "0d0000000100"
                   "060400000000");
    default:
        return {};
    }
}

// The numbers a set is declared with, as the kernel reports them back.
struct SetAttrs {
    uint32_t flags = 0;
    uint32_t keyType = 0;
    uint32_t keyLength = 0;
    uint32_t dataType = 0;
    uint32_t dataLength = 0;
    uint32_t size = 0;
    friend bool operator==(const SetAttrs &, const SetAttrs &) = default;
};

SetAttrs setAttrs(const Set &s) {
    SetAttrs a;
    if (s.anonymous)
        a.flags |= NFT_SET_ANONYMOUS | NFT_SET_CONSTANT;
    if (s.data != DataType::None)
        a.flags |= NFT_SET_MAP;
    for (KeyField f : s.key)
        a.keyType = a.keyType << typeBits | keyFieldTypeId(f);
    if (s.key.isEmpty())
        a.keyType = markType;
    a.keyLength = uint32_t(s.keyLength);
    switch (s.data) {
    case DataType::None:
        break;
    case DataType::Mark:
        a.dataType = markType;
        break;
    case DataType::Addr4Port:
        a.dataType = 7 << typeBits | 13;
        break;
    case DataType::Addr6Port:
        a.dataType = 8 << typeBits | 13;
        break;
    case DataType::Port:
        a.dataType = 13;
        break;
    }
    a.dataLength = uint32_t(s.dataLength);
    a.size = s.anonymous ? uint32_t(s.size()) : s.capacity;
    return a;
}

class Builder {
public:
    // `carry`: counter values by mark that the counters set's elements start from.
    Builder(netlink::Batch &batch, BatchMap &map, const Model &m,
            const QHash<quint32, Counter> *carry = nullptr)
        : m_batch(batch)
        , m_map(map)
        , m_model(m)
        , m_carry(carry && !carry->isEmpty() ? carry : nullptr) {}

    void table(uint16_t type, uint16_t flags) {
        nftnl_table *t = nftnl_table_alloc();
        nftnl_table_set_str(t, NFTNL_TABLE_NAME, tableName);
        nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, 0);
        nlmsghdr *nlh = header(type, flags);
        nftnl_table_nlmsg_build_payload(nlh, t);
        nftnl_table_free(t);
        commit(nlh, {What::Table});
    }

    void chain(int index) {
        const Chain &c = m_model.chains.at(index);
        nftnl_chain *ch = nftnl_chain_alloc();
        nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, tableName);
        const QByteArray name = c.name.toLatin1();
        nftnl_chain_set_str(ch, NFTNL_CHAIN_NAME, name.constData());
        nftnl_chain_set_str(ch, NFTNL_CHAIN_TYPE, c.nat ? "nat" : "filter");
        nftnl_chain_set_u32(ch, NFTNL_CHAIN_HOOKNUM, hookNumber(c.hook));
        nftnl_chain_set_s32(ch, NFTNL_CHAIN_PRIO, c.priority);
        nftnl_chain_set_u32(ch, NFTNL_CHAIN_POLICY, NF_ACCEPT);
        nlmsghdr *nlh = header(NFT_MSG_NEWCHAIN, NLM_F_CREATE);
        nftnl_chain_nlmsg_build_payload(nlh, ch);
        nftnl_chain_free(ch);
        commit(nlh, {What::Chain, Blame::None, -1, index});
    }

    void set(int index) {
        const Set &s = m_model.sets.at(index);
        nftnl_set *ns = nftnl_set_alloc();
        nftnl_set_set_str(ns, NFTNL_SET_TABLE, tableName);
        const QByteArray name = s.name.toLatin1();
        nftnl_set_set_str(ns, NFTNL_SET_NAME, name.constData());
        nftnl_set_set_u32(ns, NFTNL_SET_FAMILY, NFPROTO_INET);
        const SetAttrs a = setAttrs(s);
        nftnl_set_set_u32(ns, NFTNL_SET_FLAGS, a.flags);
        nftnl_set_set_u32(ns, NFTNL_SET_KEY_TYPE, a.keyType);
        nftnl_set_set_u32(ns, NFTNL_SET_KEY_LEN, a.keyLength);
        if (a.dataType != 0)
            nftnl_set_set_u32(ns, NFTNL_SET_DATA_TYPE, a.dataType);
        if (a.dataLength > 0)
            nftnl_set_set_u32(ns, NFTNL_SET_DATA_LEN, a.dataLength);
        nftnl_set_set_u32(ns, NFTNL_SET_ID, s.id);
        if (a.size > 0)
            nftnl_set_set_u32(ns, NFTNL_SET_DESC_SIZE, a.size);
        if (s.counter)
            nftnl_set_add_expr(ns, nftnl_expr_alloc("counter"));
        const QByteArray udata = setUserdata(s);
        if (!udata.isEmpty())
            nftnl_set_set_data(ns, NFTNL_SET_USERDATA, udata.constData(), uint32_t(udata.size()));
        nlmsghdr *nlh = header(NFT_MSG_NEWSET, NLM_F_CREATE);
        nftnl_set_nlmsg_build_payload(nlh, ns);
        nftnl_set_free(ns);
        commit(nlh, {What::Set, s.blame, -1, index});
    }

    // The elements of one set, packed into as few messages as fit: one message per element
    // batch keeps the kernel's per-message cost out of the way, and the runs recorded here map
    // a refused element back to its forward.
    // With `remove`, the same elements (by key) are deleted instead.
    void elements(int index, bool remove = false) {
        const Set &s = m_model.sets.at(index);
        const QByteArray name = s.name.toLatin1();
        qsizetype i = 0;
        while (i < s.size()) {
            nlmsghdr *nlh = remove ? header(NFT_MSG_DELSETELEM, 0)
                                   : header(NFT_MSG_NEWSETELEM, NLM_F_CREATE | NLM_F_EXCL);
            mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, tableName);
            mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, name.constData());
            if (s.id != 0)
                mnl_attr_put_u32(nlh, NFTA_SET_ELEM_LIST_SET_ID, htonl(s.id));
            nlattr *list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
            const size_t start = nlh->nlmsg_len;
            SeqInfo si{What::Elements, s.blame, -1, index};
            si.runsBegin = uint32_t(m_map.runs.size());
            int owner = INT_MIN;
            while (i < s.size() && nlh->nlmsg_len - start < elementMessageBudget) {
                nlattr *elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
                if (s.owners[size_t(i)] != owner) {
                    owner = s.owners[size_t(i)];
                    m_map.runs.push_back(
                        {uint32_t(reinterpret_cast<char *>(elem) - reinterpret_cast<char *>(nlh)),
                         owner});
                }
                putData(nlh, NFTA_SET_ELEM_KEY, s.keyAt(i), s.keyLength);
                if (s.dataLength > 0 && !remove)
                    putData(nlh, NFTA_SET_ELEM_DATA, s.valueAt(i), s.dataLength);
                if (s.counter && m_carry && !remove)
                    carryCounter(nlh, s.keyAt(i));
                mnl_attr_nest_end(nlh, elem);
                ++i;
            }
            mnl_attr_nest_end(nlh, list);
            si.runsEnd = uint32_t(m_map.runs.size());
            if (si.runsEnd - si.runsBegin == 1)
                si.forward = m_map.runs.back().forward;
            commit(nlh, si);
        }
    }

    // Appended to its chain, or inserted just before the rule with handle `before`.
    void rule(int chainIndex, const Rule &r, uint64_t before = 0) {
        const Chain &c = m_model.chains.at(chainIndex);
        nftnl_rule *nr = nftnl_rule_alloc();
        nftnl_rule_set_str(nr, NFTNL_RULE_TABLE, tableName);
        const QByteArray chain = c.name.toLatin1();
        nftnl_rule_set_str(nr, NFTNL_RULE_CHAIN, chain.constData());
        nftnl_rule_set_u32(nr, NFTNL_RULE_FAMILY, NFPROTO_INET);
        if (before != 0)
            nftnl_rule_set_u64(nr, NFTNL_RULE_POSITION, before);
        for (const Statement &st : r.statements)
            statement(nr, st);
        nlmsghdr *nlh =
            header(NFT_MSG_NEWRULE, before != 0 ? NLM_F_CREATE : NLM_F_CREATE | NLM_F_APPEND);
        nftnl_rule_nlmsg_build_payload(nlh, nr);
        nftnl_rule_free(nr);
        commit(nlh, {What::Rule, Blame::None, -1, chainIndex});
    }

    void deleteRule(int chainIndex, uint64_t handle) {
        nftnl_rule *nr = nftnl_rule_alloc();
        nftnl_rule_set_str(nr, NFTNL_RULE_TABLE, tableName);
        const QByteArray chain = m_model.chains.at(chainIndex).name.toLatin1();
        nftnl_rule_set_str(nr, NFTNL_RULE_CHAIN, chain.constData());
        nftnl_rule_set_u32(nr, NFTNL_RULE_FAMILY, NFPROTO_INET);
        nftnl_rule_set_u64(nr, NFTNL_RULE_HANDLE, handle);
        nlmsghdr *nlh = header(NFT_MSG_DELRULE, 0);
        nftnl_rule_nlmsg_build_payload(nlh, nr);
        nftnl_rule_free(nr);
        commit(nlh, {What::Rule, Blame::None, -1, chainIndex});
    }

    void deleteSet(int index) {
        nftnl_set *ns = nftnl_set_alloc();
        nftnl_set_set_str(ns, NFTNL_SET_TABLE, tableName);
        const QByteArray name = m_model.sets.at(index).name.toLatin1();
        nftnl_set_set_str(ns, NFTNL_SET_NAME, name.constData());
        nftnl_set_set_u32(ns, NFTNL_SET_FAMILY, NFPROTO_INET);
        nlmsghdr *nlh = header(NFT_MSG_DELSET, 0);
        nftnl_set_nlmsg_build_payload(nlh, ns);
        nftnl_set_free(ns);
        commit(nlh, {What::Set, Blame::None, -1, index});
    }

private:
    // Every message asks for an ACK, so the reply count tells when the kernel is done.
    nlmsghdr *header(uint16_t type, uint16_t flags) {
        return nftnl_nlmsg_build_hdr(m_batch.reserve(), type, NFPROTO_INET, flags | NLM_F_ACK,
                                     m_batch.nextSeq());
    }

    void commit(nlmsghdr *nlh, SeqInfo info) {
        m_batch.commit(nlh);
        m_map.info.push_back(info);
    }

    static void putData(nlmsghdr *nlh, uint16_t type, const char *data, int len) {
        nlattr *nest = mnl_attr_nest_start(nlh, type);
        mnl_attr_put(nlh, NFTA_DATA_VALUE, size_t(len), data);
        mnl_attr_nest_end(nlh, nest);
    }

    static uint32_t hookNumber(Hook h) {
        switch (h) {
        case Hook::Prerouting:
            return NF_INET_PRE_ROUTING;
        case Hook::Input:
            return NF_INET_LOCAL_IN;
        case Hook::Forward:
            return NF_INET_FORWARD;
        case Hook::Output:
            return NF_INET_LOCAL_OUT;
        case Hook::Postrouting:
            return NF_INET_POST_ROUTING;
        }
        return 0;
    }

    static nftnl_expr *add(nftnl_rule *r, const char *name) {
        nftnl_expr *e = nftnl_expr_alloc(name);
        nftnl_rule_add_expr(r, e);
        return e;
    }
    static void meta(nftnl_rule *r, uint32_t key, uint32_t dreg) {
        nftnl_expr *e = add(r, "meta");
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
    }
    static void payload(nftnl_rule *r, uint32_t base, uint32_t offset, uint32_t len,
                        uint32_t dreg) {
        nftnl_expr *e = add(r, "payload");
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
    }
    static void cmp(nftnl_rule *r, uint32_t op, const void *data, uint32_t len) {
        nftnl_expr *e = add(r, "cmp");
        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
        nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
    }
    static void cmp32(nftnl_rule *r, uint32_t op, uint32_t value) { cmp(r, op, &value, 4); }
    static void bitwise(nftnl_rule *r, uint32_t mask, uint32_t xorValue) {
        nftnl_expr *e = add(r, "bitwise");
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 4);
        nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, 4);
        nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &xorValue, 4);
    }
    static void ctLoad(nftnl_rule *r, uint32_t key) {
        nftnl_expr *e = add(r, "ct");
        nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
        nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
    }
    static void ctSetMark(nftnl_rule *r) {
        nftnl_expr *e = add(r, "ct");
        nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_MARK);
        nftnl_expr_set_u32(e, NFTNL_EXPR_CT_SREG, NFT_REG_1);
    }
    static void fib(nftnl_rule *r, uint32_t flags, uint32_t result) {
        nftnl_expr *e = add(r, "fib");
        nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, flags);
        nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, result);
        nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
    }
    void lookup(nftnl_rule *r, int setIndex, bool map) const {
        const Set &s = m_model.sets.at(setIndex);
        nftnl_expr *e = add(r, "lookup");
        nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
        if (map)
            nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_1);
        const QByteArray name = s.name.toLatin1();
        nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, name.constData());
        nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, s.id);
    }
    void loadKey(nftnl_rule *r, const QList<KeyField> &key, int sourceMask) const {
        int word = 0;
        for (KeyField f : key) {
            const uint32_t reg = reg32(word);
            switch (f) {
            case KeyField::SrcAddr4:
            case KeyField::SrcAddr6: {
                const bool v6 = f == KeyField::SrcAddr6;
                const uint32_t len = v6 ? 16 : 4;
                payload(r, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 : 12, len, reg);
                if (sourceMask >= 0) {
                    uint8_t mask[16] = {}, zero[16] = {};
                    for (int bit = 0; bit < sourceMask; ++bit)
                        mask[bit / 8] |= uint8_t(0x80 >> (bit % 8));
                    nftnl_expr *e = add(r, "bitwise");
                    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, reg);
                    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, reg);
                    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
                    nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
                    nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
                }
                break;
            }
            case KeyField::DstAddr4:
                payload(r, NFT_PAYLOAD_NETWORK_HEADER, 16, 4, reg);
                break;
            case KeyField::DstAddr6:
                payload(r, NFT_PAYLOAD_NETWORK_HEADER, 24, 16, reg);
                break;
            case KeyField::IifName:
                meta(r, NFT_META_IIFNAME, reg);
                break;
            case KeyField::L4Proto:
                meta(r, NFT_META_L4PROTO, reg);
                break;
            case KeyField::DstPort:
                payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, reg);
                break;
            }
            word += keyFieldLength(f) / 4;
        }
    }

    void statement(nftnl_rule *r, const Statement &st) const {
        switch (st.kind) {
        case StmtKind::Nfproto: {
            meta(r, NFT_META_NFPROTO, NFT_REG_1);
            const uint8_t proto = st.ipv6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
            cmp(r, NFT_CMP_EQ, &proto, 1);
            break;
        }
        case StmtKind::L4ProtoInSet:
            meta(r, NFT_META_L4PROTO, NFT_REG_1);
            lookup(r, st.set, false);
            break;
        case StmtKind::FibDaddrLocal:
            fib(r, NFTA_FIB_F_DADDR, NFT_FIB_RESULT_ADDRTYPE);
            cmp32(r, NFT_CMP_EQ, 2 /* RTN_LOCAL */);
            break;
        case StmtKind::NotLoopback:
            if (st.ipv6) {
                payload(r, NFT_PAYLOAD_NETWORK_HEADER, 24, 16, NFT_REG_1);
                const struct in6_addr loopback = IN6ADDR_LOOPBACK_INIT;
                cmp(r, NFT_CMP_NEQ, &loopback, 16);
            } else {
                payload(r, NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG_1);
                bitwise(r, htonl(0xff000000), 0);
                cmp32(r, NFT_CMP_NEQ, htonl(0x7f000000));
            }
            break;
        case StmtKind::CtMarkSetMap:
            loadKey(r, st.key, st.sourceMask);
            lookup(r, st.set, true);
            ctSetMark(r);
            break;
        case StmtKind::DnatMap: {
            loadKey(r, st.key, st.sourceMask);
            lookup(r, st.set, true);
            nftnl_expr *e = add(r, "nat");
            nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
            nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, st.ipv6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
            nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
            // The port follows the address: 32-bit register 1 after IPv4, 4 after IPv6.
            nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, reg32(st.ipv6 ? 4 : 1));
            break;
        }
        case StmtKind::RedirectMap: {
            loadKey(r, st.key, st.sourceMask);
            lookup(r, st.set, true);
            nftnl_expr *e = add(r, "redir");
            nftnl_expr_set_u32(e, NFTNL_EXPR_REDIR_REG_PROTO_MIN, NFT_REG_1);
            nftnl_expr_set_u32(e, NFTNL_EXPR_REDIR_FLAGS, NF_NAT_RANGE_PROTO_SPECIFIED);
            break;
        }
        case StmtKind::CtStateNew:
            ctLoad(r, NFT_CT_STATE);
            bitwise(r, NF_CT_STATE_BIT(IP_CT_NEW), 0);
            cmp32(r, NFT_CMP_NEQ, 0);
            break;
        case StmtKind::CtStatusDnat:
            ctLoad(r, NFT_CT_STATUS);
            bitwise(r, 1u << 5 /* IPS_DST_NAT */, 0);
            cmp32(r, NFT_CMP_NEQ, 0);
            break;
        case StmtKind::CtMarkInSet:
            ctLoad(r, NFT_CT_MARK);
            lookup(r, st.set, false);
            break;
        case StmtKind::FibHairpin:
            fib(r, NFTA_FIB_F_DADDR | NFTA_FIB_F_IIF, NFT_FIB_RESULT_OIF);
            cmp32(r, NFT_CMP_NEQ, 0);
            break;
        case StmtKind::CtMarkSetHairpin:
            ctLoad(r, NFT_CT_MARK);
            bitwise(r, ~hairpinBit, hairpinBit);
            ctSetMark(r);
            break;
        case StmtKind::MaskedMarkInSet:
            ctLoad(r, NFT_CT_MARK);
            bitwise(r, markMask, 0);
            lookup(r, st.set, false);
            break;
        case StmtKind::HairpinBitSet:
            ctLoad(r, NFT_CT_MARK);
            bitwise(r, hairpinBit, 0);
            cmp32(r, NFT_CMP_EQ, hairpinBit);
            break;
        case StmtKind::Masquerade:
            add(r, "masq");
            break;
        case StmtKind::Counter:
            add(r, "counter");
            break;
        case StmtKind::Accept: {
            nftnl_expr *e = add(r, "immediate");
            nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
            nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_ACCEPT);
            break;
        }
        }
    }

    // The element's counter starts from the value it had in the table being replaced.
    void carryCounter(nlmsghdr *nlh, const char *key) {
        quint32 mark;
        std::memcpy(&mark, key, 4);
        const auto it = m_carry->constFind(mark);
        if (it == m_carry->constEnd() || (it->packets == 0 && it->bytes == 0))
            return;
        nlattr *exprs = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_EXPRESSIONS);
        nlattr *item = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
        mnl_attr_put_strz(nlh, NFTA_EXPR_NAME, "counter");
        nlattr *data = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
        mnl_attr_put_u64(nlh, NFTA_COUNTER_BYTES, htobe64(it->bytes));
        mnl_attr_put_u64(nlh, NFTA_COUNTER_PACKETS, htobe64(it->packets));
        mnl_attr_nest_end(nlh, data);
        mnl_attr_nest_end(nlh, item);
        mnl_attr_nest_end(nlh, exprs);
    }

    netlink::Batch &m_batch;
    BatchMap &m_map;
    const Model &m_model;
    const QHash<quint32, Counter> *m_carry;
};

QString errorText(const netlink::Refusal &r) {
    return r.extack.isEmpty() ? QString::fromLocal8Bit(strerror(r.error)) : r.extack;
}

ApplyError describe(const Model &m, const BatchMap &map, uint32_t firstSeq,
                    const netlink::BatchResult &result) {
    ApplyError e;
    if (!result.transportError.isEmpty()) {
        e.message = result.transportError;
        return e;
    }
    // The first refusal is the cause; later ones are often its consequences.
    const netlink::Refusal &r = result.refusals.front();
    const size_t at = r.seq - firstSeq;
    SeqInfo si = at < map.info.size() ? map.info[at] : SeqInfo{};
    if (si.what == What::Elements && r.badAttrOffset >= 0) {
        for (uint32_t k = si.runsBegin; k < si.runsEnd && map.runs[k].offset <= r.badAttrOffset;
             ++k)
            si.forward = map.runs[k].forward;
    }
    const QString why = errorText(r);
    if (si.forward >= 0 && si.forward < m.forwardIds.size()) {
        e.forwardId = m.forwardIds.at(si.forward);
        e.forwardName = m.forwardNames.at(si.forward);
        e.field = blameKey(si.blame);
        e.message = QStringLiteral("forward '%1': ").arg(e.forwardName);
        if (!e.field.isEmpty())
            e.message += blameLabel(si.blame) + QLatin1String(": ");
        e.message += why;
        return e;
    }
    QString what;
    switch (si.what) {
    case What::Table:
        what = QStringLiteral("table inet portico");
        break;
    case What::Chain:
        what = QStringLiteral("chain %1").arg(m.chains.value(si.index).name);
        break;
    case What::Rule:
        what = QStringLiteral("a rule in chain %1").arg(m.chains.value(si.index).name);
        break;
    case What::Set:
    case What::Elements:
        what = QStringLiteral("set %1").arg(m.sets.value(si.index).name);
        break;
    }
    e.message = QStringLiteral("the kernel refused %1: %2").arg(what, why);
    return e;
}

} // namespace

// What the last successful apply() wrote, so that add() can tell without asking the kernel
// whether a new forward fits into the maps that exist.
struct WrittenSet {
    QList<KeyField> key;
    DataType data = DataType::None;
    quint32 capacity = 0;
    qsizetype size = 0;
    int shape = -1; // Set::shape
};

struct Written {
    bool valid = false;
    qsizetype forwardCount = 0;
    QString lastId; // of the last forward, a cheap check that `before` is what we wrote
    QHash<QString, WrittenSet> sets;
    QByteArray counterKeys; // the marks in the counters set, 4 bytes each
};

// Above this many counters, counters() asks for the elements by key: a dump of a large set
// restarts its walk from the first bucket for every 32 KiB of reply, which grows with the
// square of the set (about a second at 100,000).
constexpr qsizetype countersByKeyFrom = 20000;
constexpr qsizetype countersPerGet = 1000;

namespace {

// Calls fn for each attribute of a nest (or of a message from `offset`); libmnl's iteration
// macros do not compile as C++.
template <typename Fn> int attrTrampoline(const nlattr *a, void *data) {
    (*static_cast<Fn *>(data))(a);
    return MNL_CB_OK;
}
template <typename Fn> void forEachAttr(const nlattr *nest, Fn fn) {
    mnl_attr_parse_nested(nest, attrTrampoline<Fn>, &fn);
}
template <typename Fn> void forEachAttr(const nlmsghdr *nlh, unsigned offset, Fn fn) {
    mnl_attr_parse(nlh, offset, attrTrampoline<Fn>, &fn);
}

using AttrSpec = std::initializer_list<std::pair<int, mnl_attr_data_type>>;

// One level of a netlink message: each attribute checked for its type and kept by number.
template <int Max> struct Attrs {
    const nlattr *at[Max + 1] = {};

    Attrs(const nlattr *nest, AttrSpec want) {
        forEachAttr(nest, [&](const nlattr *a) { take(a, want); });
    }
    Attrs(const nlmsghdr *nlh, unsigned offset, AttrSpec want) {
        forEachAttr(nlh, offset, [&](const nlattr *a) { take(a, want); });
    }
    void take(const nlattr *a, AttrSpec want) {
        const int type = mnl_attr_get_type(a);
        for (const auto &[t, dataType] : want) {
            if (t == type && type <= Max && mnl_attr_validate(a, dataType) >= 0)
                at[type] = a;
        }
    }
    const nlattr *operator[](int type) const { return at[type]; }
};

// A counter expression (NFTA_EXPR_NAME "counter", NFTA_EXPR_DATA) into *out.
bool parseCounterExpr(const nlattr *expr, Counter *out) {
    const Attrs<NFTA_EXPR_MAX> e(
        expr, {{NFTA_EXPR_NAME, MNL_TYPE_NUL_STRING}, {NFTA_EXPR_DATA, MNL_TYPE_NESTED}});
    if (!e[NFTA_EXPR_NAME] || !e[NFTA_EXPR_DATA] ||
        qstrcmp(mnl_attr_get_str(e[NFTA_EXPR_NAME]), "counter") != 0)
        return false;
    const Attrs<NFTA_COUNTER_MAX> c(e[NFTA_EXPR_DATA], {{NFTA_COUNTER_BYTES, MNL_TYPE_U64},
                                                        {NFTA_COUNTER_PACKETS, MNL_TYPE_U64}});
    if (!c[NFTA_COUNTER_BYTES] || !c[NFTA_COUNTER_PACKETS])
        return false;
    out->bytes = be64toh(mnl_attr_get_u64(c[NFTA_COUNTER_BYTES]));
    out->packets = be64toh(mnl_attr_get_u64(c[NFTA_COUNTER_PACKETS]));
    return true;
}

} // namespace

bool ruleset::parseCounterElements(const nlmsghdr *nlh, QHash<QString, Counter> *out) {
    if (nlh->nlmsg_type != (NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWSETELEM) ||
        mnl_nlmsg_get_payload_len(nlh) < sizeof(nfgenmsg))
        return false;
    const auto *gen = static_cast<const nfgenmsg *>(mnl_nlmsg_get_payload(nlh));
    const Attrs<NFTA_SET_ELEM_LIST_MAX> list(nlh, sizeof(nfgenmsg),
                                             {{NFTA_SET_ELEM_LIST_TABLE, MNL_TYPE_NUL_STRING},
                                              {NFTA_SET_ELEM_LIST_SET, MNL_TYPE_NUL_STRING},
                                              {NFTA_SET_ELEM_LIST_ELEMENTS, MNL_TYPE_NESTED}});
    if (gen->nfgen_family != NFPROTO_INET || !list[NFTA_SET_ELEM_LIST_TABLE] ||
        !list[NFTA_SET_ELEM_LIST_SET] || !list[NFTA_SET_ELEM_LIST_ELEMENTS] ||
        qstrcmp(mnl_attr_get_str(list[NFTA_SET_ELEM_LIST_TABLE]), tableName) != 0 ||
        qstrcmp(mnl_attr_get_str(list[NFTA_SET_ELEM_LIST_SET]), "counters") != 0)
        return false;
    forEachAttr(list[NFTA_SET_ELEM_LIST_ELEMENTS], [&](const nlattr *item) {
        if (mnl_attr_get_type(item) != NFTA_LIST_ELEM)
            return;
        const Attrs<NFTA_SET_ELEM_MAX> elem(item, {{NFTA_SET_ELEM_KEY, MNL_TYPE_NESTED},
                                                   {NFTA_SET_ELEM_EXPR, MNL_TYPE_NESTED},
                                                   {NFTA_SET_ELEM_EXPRESSIONS, MNL_TYPE_NESTED}});
        if (!elem[NFTA_SET_ELEM_KEY])
            return;
        const Attrs<NFTA_DATA_MAX> key(elem[NFTA_SET_ELEM_KEY],
                                       {{NFTA_DATA_VALUE, MNL_TYPE_BINARY}});
        if (!key[NFTA_DATA_VALUE] || mnl_attr_get_payload_len(key[NFTA_DATA_VALUE]) != 4)
            return;
        quint32 mark;
        std::memcpy(&mark, mnl_attr_get_payload(key[NFTA_DATA_VALUE]), 4);
        const QString id = Forward::idForMark(mark);
        Counter c;
        bool found = elem[NFTA_SET_ELEM_EXPR] && parseCounterExpr(elem[NFTA_SET_ELEM_EXPR], &c);
        if (!found && elem[NFTA_SET_ELEM_EXPRESSIONS]) {
            forEachAttr(elem[NFTA_SET_ELEM_EXPRESSIONS], [&](const nlattr *e) {
                if (!found && mnl_attr_get_type(e) == NFTA_LIST_ELEM)
                    found = parseCounterExpr(e, &c);
            });
        }
        if (found && !id.isEmpty())
            out->insert(id, c);
    });
    return true;
}

static ApplyError checkIds(const QList<Forward> &forwards);

namespace {

// One rule told apart from the others of its chain by the named sets it looks up (each shape
// has its own maps; the hairpin-bit masquerade rule is the only one of postrouting without).
QString ruleSignature(const Model &m, int chain, const Rule &r) {
    QString sig = m.chains.at(chain).name + QLatin1Char('|');
    for (const Statement &st : r.statements) {
        if (st.set >= 0 && !m.sets.at(st.set).anonymous)
            sig += m.sets.at(st.set).name + QLatin1Char(',');
    }
    return sig;
}

QStringList chainSignatures(const Model &m, int chain) {
    QStringList out;
    for (const Rule &r : m.chains.at(chain).rules)
        out << ruleSignature(m, chain, r);
    return out;
}

} // namespace

struct RulesetWriter::Private {
    netlink::Socket socket;
    Written written;
    // Counters for the next apply() to start from; set only for a rebuild of the incremental
    // path, so that even then every forward that stays keeps its counts.
    QHash<quint32, Counter> carry;

    // *refused: the kernel answered no, so it changed nothing (a socket error leaves that open).
    ApplyError run(const Model &m, netlink::Batch &batch, const BatchMap &map,
                   bool *refused = nullptr) {
        if (!socket.isOpen()) {
            ApplyError e;
            e.message = socket.openError();
            return e;
        }
        const netlink::BatchResult result = socket.send(batch);
        if (result.ok())
            return {};
        if (refused)
            *refused = !result.refusals.empty() && result.transportError.isEmpty();
        return describe(m, map, batch.firstSeq(), result);
    }

    // Our table's rules as the kernel has them: chain, signature (as ruleSignature() makes
    // it), handle, and whether the rule counts.
    QString dumpRules(const std::function<void(const QString &chain, const QString &sig,
                                               uint64_t handle, bool counts)> &fn) {
        char buf[MNL_SOCKET_BUFFER_SIZE];
        nlmsghdr *nlh =
            nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_INET, NLM_F_DUMP, socket.nextSeq());
        nftnl_rule *req = nftnl_rule_alloc();
        nftnl_rule_set_str(req, NFTNL_RULE_TABLE, tableName);
        nftnl_rule_nlmsg_build_payload(nlh, req);
        nftnl_rule_free(req);
        return socket.dump(nlh, [&](const nlmsghdr *reply) {
            nftnl_rule *r = nftnl_rule_alloc();
            if (nftnl_rule_nlmsg_parse(reply, r) == 0 &&
                nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY) == NFPROTO_INET &&
                qstrcmp(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), tableName) == 0) {
                const QString chain = QString::fromLatin1(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
                QString sig = chain + QLatin1Char('|');
                bool counts = false;
                nftnl_expr_iter *iter = nftnl_expr_iter_create(r);
                for (nftnl_expr *e = nftnl_expr_iter_next(iter); e;
                     e = nftnl_expr_iter_next(iter)) {
                    const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
                    counts |= qstrcmp(name, "counter") == 0;
                    if (qstrcmp(name, "lookup") != 0)
                        continue;
                    const char *set = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
                    if (set && qstrncmp(set, "__set", 5) != 0)
                        sig += QString::fromLatin1(set) + QLatin1Char(',');
                }
                nftnl_expr_iter_destroy(iter);
                fn(chain, sig, nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE), counts);
            }
            nftnl_rule_free(r);
        });
    }

    // A writer that did not write the table itself (the helper restarted) takes it over as it
    // stands when the kernel's sets are exactly those `before` compiles to, and its chains'
    // rules those the compiler makes now (a table written by an older version, without rule
    // counters say, is made again), so that adding a forward after a restart neither rebuilds
    // the table nor resets every counter.
    bool adopt(const QList<Forward> &before) {
        const Model m = compile(before);
        QHash<QString, SetAttrs> kernel;
        char buf[MNL_SOCKET_BUFFER_SIZE];
        nlmsghdr *nlh =
            nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSET, NFPROTO_INET, NLM_F_DUMP, socket.nextSeq());
        mnl_attr_put_strz(nlh, NFTA_SET_TABLE, tableName);
        const QString err = socket.dump(nlh, [&](const nlmsghdr *reply) {
            nftnl_set *ks = nftnl_set_alloc();
            if (nftnl_set_nlmsg_parse(reply, ks) == 0 &&
                nftnl_set_get_u32(ks, NFTNL_SET_FAMILY) == NFPROTO_INET &&
                qstrcmp(nftnl_set_get_str(ks, NFTNL_SET_TABLE), tableName) == 0) {
                auto get = [ks](uint16_t attr) {
                    return nftnl_set_is_set(ks, attr) ? nftnl_set_get_u32(ks, attr) : 0u;
                };
                SetAttrs a;
                a.flags = get(NFTNL_SET_FLAGS);
                a.keyType = get(NFTNL_SET_KEY_TYPE);
                a.keyLength = get(NFTNL_SET_KEY_LEN);
                a.dataType = get(NFTNL_SET_DATA_TYPE);
                a.dataLength = get(NFTNL_SET_DATA_LEN);
                a.size = get(NFTNL_SET_DESC_SIZE);
                if (!(a.flags & NFT_SET_ANONYMOUS))
                    kernel.insert(QString::fromLatin1(nftnl_set_get_str(ks, NFTNL_SET_NAME)), a);
            }
            nftnl_set_free(ks);
        });
        if (!err.isEmpty())
            return false;
        qsizetype named = 0;
        for (const Set &s : m.sets) {
            if (s.anonymous)
                continue;
            ++named;
            const auto it = kernel.constFind(s.name);
            if (it == kernel.constEnd() || !(*it == setAttrs(s)))
                return false;
        }
        if (kernel.size() != named)
            return false;
        QSet<QString> chains;
        QStringList want, have;
        for (int ch = 0; ch < m.chains.size(); ++ch) {
            chains.insert(m.chains.at(ch).name);
            want << chainSignatures(m, ch);
        }
        bool allCount = true;
        const QString ruleErr =
            dumpRules([&](const QString &chain, const QString &sig, uint64_t, bool counts) {
                if (!chains.contains(chain))
                    return; // a trace's chains come and go on their own
                have << sig;
                allCount &= counts;
            });
        if (!ruleErr.isEmpty() || !allCount || have != want)
            return false;
        remember(m, before);
        return true;
    }

    ApplyError change(const QList<Forward> &before, const QList<Forward> &gone,
                      const QList<Forward> &come, qsizetype afterCount, const QString &afterLastId,
                      const std::function<QList<Forward>()> &afterList,
                      const std::function<ApplyError()> &rebuild);

    void remember(const Model &m, const QList<Forward> &forwards) {
        written = {};
        written.valid = true;
        written.forwardCount = forwards.size();
        written.lastId = forwards.isEmpty() ? QString() : forwards.last().id;
        for (const Set &s : m.sets) {
            if (!s.anonymous)
                written.sets.insert(s.name, {s.key, s.data, s.capacity, s.size(), s.shape});
            if (s.counter)
                written.counterKeys = s.keys;
        }
    }
};

RulesetWriter::RulesetWriter()
    : d(std::make_unique<Private>()) {}

RulesetWriter::~RulesetWriter() = default;

// The compiler skips what it cannot place; an enabled forward without a usable id would vanish
// from the kernel silently, so it is refused here instead.
static ApplyError checkIds(const QList<Forward> &forwards) {
    for (const Forward &f : forwards) {
        if (f.enabled && f.mark() == 0) {
            ApplyError e;
            e.forwardId = f.id;
            e.forwardName = f.name;
            e.field = QStringLiteral("id");
            e.message = QStringLiteral("forward '%1': id: '%2' is not an id the helper gives "
                                       "(\"f\" and a number from 1 to 16777215)")
                            .arg(f.name, f.id);
            return e;
        }
    }
    return {};
}

ApplyError RulesetWriter::apply(const QList<Forward> &forwards) {
    if (ApplyError e = checkIds(forwards); !e.ok())
        return e;
    // Forgotten until the kernel says how it went: after a refusal it is still true.
    Written previous = std::move(d->written);
    d->written = {};
    const Model m = compile(forwards);
    netlink::Batch batch(d->socket.nextSeq());
    BatchMap map;
    map.info.reserve(256);
    map.info.push_back({}); // the batch begin message
    batch.begin();
    Builder b(batch, map, m, &d->carry);
    // Add, delete, add: the batch replaces the table whole whether or not it existed.
    b.table(NFT_MSG_NEWTABLE, NLM_F_CREATE);
    b.table(NFT_MSG_DELTABLE, 0);
    b.table(NFT_MSG_NEWTABLE, NLM_F_CREATE);
    for (int i = 0; i < m.chains.size(); ++i)
        b.chain(i);
    // Sets and the anonymous sets' elements come before the rules that look them up by id, and
    // the bulk of elements after, so the kernel's id lookups walk a short transaction list.
    for (int i = 0; i < m.sets.size(); ++i) {
        b.set(i);
        if (m.sets.at(i).anonymous)
            b.elements(i);
    }
    for (int c = 0; c < m.chains.size(); ++c) {
        for (const Rule &r : m.chains.at(c).rules)
            b.rule(c, r);
    }
    for (int i = 0; i < m.sets.size(); ++i) {
        if (!m.sets.at(i).anonymous)
            b.elements(i);
    }
    batch.end();
    map.info.push_back({});
    bool refused = false;
    const ApplyError e = d->run(m, batch, map, &refused);
    if (e.ok())
        d->remember(m, forwards);
    else if (refused)
        d->written = std::move(previous);
    return e;
}

namespace {

Layout layoutOf(const QHash<QString, WrittenSet> &sets) {
    Layout l;
    for (auto it = sets.constBegin(); it != sets.constEnd(); ++it) {
        if (it->size <= 0)
            continue;
        if (it->shape >= 0) {
            if (it->data == DataType::Mark)
                l.shapes.emplace_back(it->shape, it->size);
        } else if (it.key() == QLatin1String("counters")) {
            l.enabled = it->size;
        } else if (it.key() == QLatin1String("masquerade_marks")) {
            l.masquerade = true;
        } else if (it.key() == QLatin1String("hairpin_marks")) {
            l.hairpin = true;
        }
    }
    return l;
}

// The elements of `from` at the given indices, keys and values, owners kept.
Set pick(const Set &from, const std::vector<qsizetype> &which, bool withValues) {
    Set s = from;
    s.keys.clear();
    s.values.clear();
    s.owners.clear();
    if (!withValues)
        s.dataLength = 0;
    s.keys.reserve(qsizetype(which.size()) * s.keyLength);
    for (qsizetype i : which) {
        s.keys.append(from.keyAt(i), from.keyLength);
        if (withValues)
            s.values.append(from.valueAt(i), from.dataLength);
        s.owners.push_back(withValues ? from.owners[size_t(i)] : -1);
    }
    return s;
}

} // namespace

// The incremental path under add/remove/change/insert/update: `gone` are the old versions of
// the forwards that leave or change, `come` the new versions of those that arrive or change.
// Their elements are compared map by map, so only what differs is deleted or added, and a
// forward that stays keeps its counters element (and so its counts); maps and rules of shapes
// that become used or unused are created or deleted in the same batch.
ApplyError RulesetWriter::Private::change(const QList<Forward> &before, const QList<Forward> &gone,
                                          const QList<Forward> &come, qsizetype afterCount,
                                          const QString &afterLastId,
                                          const std::function<QList<Forward>()> &afterList,
                                          const std::function<ApplyError()> &rebuild) {
    if (ApplyError e = checkIds(come); !e.ok())
        return e;
    if ((!written.valid || written.forwardCount != before.size() ||
         written.lastId != (before.isEmpty() ? QString() : before.last().id)) &&
        !adopt(before))
        return rebuild();

    const Model g = compile(gone);
    const Model c = compile(come);
    struct Diff {
        int goneSet = -1, comeSet = -1;
        std::vector<qsizetype> dels, adds;
    };
    QHash<QString, Diff> diffs;
    for (int i = 0; i < g.sets.size(); ++i) {
        if (!g.sets.at(i).anonymous)
            diffs[g.sets.at(i).name].goneSet = i;
    }
    for (int i = 0; i < c.sets.size(); ++i) {
        if (!c.sets.at(i).anonymous)
            diffs[c.sets.at(i).name].comeSet = i;
    }
    QHash<QString, qsizetype> newSize;
    for (auto it = diffs.begin(); it != diffs.end(); ++it) {
        Diff &df = *it;
        const Set *gs = df.goneSet >= 0 ? &g.sets.at(df.goneSet) : nullptr;
        const Set *cs = df.comeSet >= 0 ? &c.sets.at(df.comeSet) : nullptr;
        // An element that is the same before and after (key and value) stays as it is.
        QHash<QByteArray, qsizetype> old;
        std::vector<bool> kept(gs ? size_t(gs->size()) : 0);
        if (gs) {
            for (qsizetype i = 0; i < gs->size(); ++i)
                old.insert(QByteArray(gs->keyAt(i), gs->keyLength) +
                               QByteArray(gs->valueAt(i), gs->dataLength),
                           i);
        }
        if (cs) {
            for (qsizetype i = 0; i < cs->size(); ++i) {
                const auto o = old.constFind(QByteArray(cs->keyAt(i), cs->keyLength) +
                                             QByteArray(cs->valueAt(i), cs->dataLength));
                if (o != old.constEnd() && !kept[size_t(*o)])
                    kept[size_t(*o)] = true;
                else
                    df.adds.push_back(i);
            }
        }
        for (size_t i = 0; i < kept.size(); ++i) {
            if (!kept[i])
                df.dels.push_back(qsizetype(i));
        }
        const auto w = written.sets.constFind(it.key());
        const qsizetype size = (w == written.sets.constEnd() ? 0 : w->size) -
                               qsizetype(df.dels.size()) + qsizetype(df.adds.size());
        if (size < 0)
            return rebuild(); // deleting what we never wrote: the table is not ours as we think
        if (w != written.sets.constEnd() && w->capacity > 0 && size > qsizetype(w->capacity))
            return rebuild(); // a full map cannot grow in place
        newSize.insert(it.key(), size);
    }

    // The sets after the change, and so the layout of the table.
    QHash<QString, WrittenSet> afterSets = written.sets;
    for (auto it = newSize.constBegin(); it != newSize.constEnd(); ++it) {
        if (it.value() == 0) {
            afterSets.remove(it.key());
            continue;
        }
        auto w = afterSets.find(it.key());
        if (w == afterSets.end()) {
            const Set &s = c.sets.at(diffs.value(it.key()).comeSet);
            w = afterSets.insert(it.key(), {s.key, s.data, 0, 0, s.shape});
        }
        w->size = it.value();
    }
    const Model mb = compileLayout(layoutOf(written.sets));
    Model m = compileLayout(layoutOf(afterSets));
    m.forwardIds = c.forwardIds;
    m.forwardNames = c.forwardNames;

    // The kernel keeps sets in the order they were made, and `nft list` shows them so: a set
    // that comes in the middle of the compiler's order is made with every set after it made
    // again (whole, from the full list), so that the table lists as a fresh apply() would.
    // `counters` comes first, so it is never made again and no counter is lost.
    QSet<QString> remade;
    bool seenNew = false;
    for (const Set &s : m.sets) {
        if (s.anonymous)
            continue;
        const auto w = written.sets.constFind(s.name);
        if (w == written.sets.constEnd() || w->size <= 0)
            seenNew = true;
        else if (seenNew)
            remade.insert(s.name);
    }
    Model full;
    if (!remade.isEmpty()) {
        full = compile(afterList());
        m.forwardIds += full.forwardIds;
        m.forwardNames += full.forwardNames;
    }
    auto touchesRemade = [&remade](const QString &sig) {
        if (remade.isEmpty())
            return false;
        const QStringList sets =
            sig.section(QLatin1Char('|'), 1).split(QLatin1Char(','), Qt::SkipEmptyParts);
        for (const QString &set : sets) {
            if (remade.contains(set))
                return true;
        }
        return false;
    };
    auto keptSignatures = [&](int ch) {
        QStringList kept;
        for (const QString &sig : chainSignatures(mb, ch)) {
            if (!touchesRemade(sig))
                kept << sig;
        }
        return kept;
    };

    // Rules of shapes that come or go; only then are the kernel's rule handles needed.
    QHash<QString, uint64_t> handles;
    bool rulesChange = !remade.isEmpty();
    for (int ch = 0; ch < m.chains.size() && !rulesChange; ++ch)
        rulesChange = chainSignatures(m, ch) != chainSignatures(mb, ch);
    if (rulesChange) {
        const QString err = dumpRules([&](const QString &, const QString &sig, uint64_t handle,
                                          bool) { handles.insert(sig, handle); });
        if (!err.isEmpty())
            return rebuild();
    }

    // Sets that exist already are found by name; the others are created with their ids.
    for (Set &s : m.sets) {
        if (s.anonymous)
            continue;
        if (remade.contains(s.name)) {
            for (const Set &f : full.sets) {
                if (f.name != s.name)
                    continue;
                Set whole = f;
                for (int &owner : whole.owners) {
                    if (owner >= 0)
                        owner += int(c.forwardIds.size());
                }
                whole.id = s.id;
                whole.capacity = s.capacity;
                s = whole;
                break;
            }
            continue;
        }
        const auto w = written.sets.constFind(s.name);
        if (w != written.sets.constEnd() && w->size > 0) {
            s.id = 0;
            s.capacity = w->capacity;
        }
        const auto df = diffs.constFind(s.name);
        if (df != diffs.constEnd() && df->comeSet >= 0)
            s = [&] {
                Set added = pick(c.sets.at(df->comeSet), df->adds, true);
                added.id = s.id;
                added.capacity = s.capacity;
                return added;
            }();
    }
    std::vector<int> deletions, goneSets;
    const int modelSets = int(m.sets.size());
    for (int i = 0; i < modelSets; ++i) {
        if (remade.contains(m.sets.at(i).name))
            goneSets.push_back(i);
    }
    for (auto it = diffs.constBegin(); it != diffs.constEnd(); ++it) {
        if (remade.contains(it.key()))
            continue;
        if (newSize.value(it.key()) == 0) {
            if (written.sets.contains(it.key())) {
                goneSets.push_back(int(m.sets.size()));
                Set s;
                s.name = it.key();
                m.sets << s;
            }
        } else if (!it->dels.empty()) {
            deletions.push_back(int(m.sets.size()));
            Set s = pick(g.sets.at(it->goneSet), it->dels, false);
            s.id = 0;
            m.sets << s;
        }
    }

    netlink::Batch batch(socket.nextSeq());
    BatchMap map;
    map.info.push_back({});
    batch.begin();
    Builder b(batch, map, m);
    const size_t emptyBatch = batch.messages();
    if (rulesChange) {
        for (int ch = 0; ch < mb.chains.size(); ++ch) {
            const QStringList now = chainSignatures(m, ch);
            for (const QString &sig : chainSignatures(mb, ch)) {
                if (now.contains(sig) && !touchesRemade(sig))
                    continue;
                const auto h = handles.constFind(sig);
                if (h == handles.constEnd())
                    return rebuild(); // a rule we wrote is missing
                b.deleteRule(ch, *h);
            }
        }
    }
    for (int i : deletions)
        b.elements(i, true);
    for (int i : goneSets)
        b.deleteSet(i);
    for (int i = 0; i < modelSets; ++i) {
        if (!m.sets.at(i).anonymous && m.sets.at(i).id != 0)
            b.set(i);
    }
    if (rulesChange) {
        for (int ch = 0; ch < m.chains.size(); ++ch) {
            const QStringList old = keptSignatures(ch);
            const QStringList now = chainSignatures(m, ch);
            for (int r = 0; r < now.size(); ++r) {
                if (old.contains(now.at(r)))
                    continue;
                // Before the next rule that stays, so the chain keeps compile()'s order.
                uint64_t position = 0;
                for (int next = r + 1; next < now.size() && position == 0; ++next) {
                    if (old.contains(now.at(next))) {
                        const auto h = handles.constFind(now.at(next));
                        if (h == handles.constEnd())
                            return rebuild();
                        position = *h;
                    }
                }
                const Rule &rule = m.chains.at(ch).rules.at(r);
                for (const Statement &st : rule.statements) {
                    if (st.set >= 0 && m.sets.at(st.set).anonymous) {
                        b.set(st.set);
                        b.elements(st.set);
                    }
                }
                b.rule(ch, rule, position);
            }
        }
    }
    for (int i = 0; i < modelSets; ++i) {
        if (!m.sets.at(i).anonymous)
            b.elements(i);
    }
    if (batch.messages() == emptyBatch) {
        // Nothing to change in the kernel (an edit of a disabled forward, say).
        written.forwardCount = afterCount;
        written.lastId = afterLastId;
        return {};
    }
    batch.end();
    map.info.push_back({});
    // The batch assumes the table is as we left it. When the kernel says no (a map or element
    // is gone or was added behind our back), the whole table decides: the rebuild goes through,
    // or is refused too (a true clash, named by its refusal) and changes nothing either.
    if (!run(m, batch, map).ok())
        return rebuild();

    written.forwardCount = afterCount;
    written.lastId = afterLastId;
    for (const Set &s : m.sets) {
        const auto it = afterSets.find(s.name);
        if (!s.anonymous && s.id != 0 && it != afterSets.end())
            it->capacity = s.capacity; // made in this batch
    }
    written.sets = afterSets;
    const auto counters = diffs.constFind(QStringLiteral("counters"));
    if (counters != diffs.constEnd()) {
        QByteArray &keys = written.counterKeys;
        if (counters->dels.size() > 16) {
            // Many gone: one pass over the marks rather than one per gone forward.
            QSet<quint32> gone;
            for (qsizetype i : counters->dels) {
                quint32 mark;
                std::memcpy(&mark, g.sets.at(counters->goneSet).keyAt(i), 4);
                gone.insert(mark);
            }
            QByteArray kept;
            kept.reserve(keys.size());
            for (qsizetype k = 0; k + 4 <= keys.size(); k += 4) {
                quint32 mark;
                std::memcpy(&mark, keys.constData() + k, 4);
                if (!gone.contains(mark))
                    kept.append(keys.constData() + k, 4);
            }
            keys = kept;
        }
        for (qsizetype i : counters->dels.size() > 16 ? std::vector<qsizetype>{} : counters->dels) {
            const char *mark = g.sets.at(counters->goneSet).keyAt(i);
            for (qsizetype k = 0; k + 4 <= keys.size(); k += 4) {
                if (std::memcmp(keys.constData() + k, mark, 4) == 0) {
                    // Order does not matter: the last mark fills the hole.
                    std::memcpy(keys.data() + k, keys.constData() + keys.size() - 4, 4);
                    keys.chop(4);
                    break;
                }
            }
        }
        for (qsizetype i : counters->adds)
            keys.append(c.sets.at(counters->comeSet).keyAt(i), 4);
    }
    return {};
}

ApplyError RulesetWriter::add(const QList<Forward> &before, const Forward &added) {
    // Copying `before` costs more than the whole incremental batch at 100,000 forwards, so the
    // full list is only built for a rebuild.
    auto all = [&] {
        QList<Forward> all = before;
        all << added;
        return all;
    };
    return d->change(before, {}, {added}, before.size() + 1, added.id, all,
                     [&] { return rebuild(all()); });
}

ApplyError RulesetWriter::insert(const QList<Forward> &before, qsizetype index,
                                 const Forward &added) {
    if (index < 0 || index > before.size())
        index = before.size();
    const QString last = index == before.size() ? added.id : before.last().id;
    auto all = [&] {
        QList<Forward> all = before;
        all.insert(index, added);
        return all;
    };
    return d->change(before, {}, {added}, before.size() + 1, last, all,
                     [&] { return rebuild(all()); });
}

ApplyError RulesetWriter::remove(const QList<Forward> &before, qsizetype index) {
    if (index < 0 || index >= before.size())
        return update(before, before);
    QString last;
    if (before.size() > 1)
        last = index == before.size() - 1 ? before.at(index - 1).id : before.last().id;
    auto all = [&] {
        QList<Forward> all = before;
        all.removeAt(index);
        return all;
    };
    return d->change(before, {before.at(index)}, {}, before.size() - 1, last, all,
                     [&] { return rebuild(all()); });
}

ApplyError RulesetWriter::change(const QList<Forward> &before, qsizetype index,
                                 const Forward &changed) {
    if (index < 0 || index >= before.size())
        return update(before, before);
    const QString last = index == before.size() - 1 ? changed.id : before.last().id;
    auto all = [&] {
        QList<Forward> all = before;
        all[index] = changed;
        return all;
    };
    return d->change(before, {before.at(index)}, {changed}, before.size(), last, all,
                     [&] { return rebuild(all()); });
}

ApplyError RulesetWriter::update(const QList<Forward> &before, const QList<Forward> &after) {
    QList<Forward> gone, come;
    // A list edited in place (the GUI's Apply) keeps its forwards where they were: those are
    // paired by position, which costs a tenth of pairing by id at 100,000.
    qsizetype common = 0;
    const qsizetype both = std::min(before.size(), after.size());
    for (; common < both && before.at(common).id == after.at(common).id; ++common) {
        const Forward &was = before.at(common);
        const Forward &is = after.at(common);
        if (&was != &is && !(was == is)) {
            gone << was;
            come << is;
        }
    }
    // The rest by id. A duplicate id among them would make the pairing guesswork, so then the
    // whole table is written (the kernel refuses duplicate marks, if it comes to that).
    QHash<QString, qsizetype> index;
    index.reserve(before.size() - common);
    for (qsizetype i = common; i < before.size(); ++i)
        index.insert(before.at(i).id, i);
    bool unique = index.size() == before.size() - common;
    std::vector<bool> seen(size_t(before.size() - common));
    QSet<QString> afterIds;
    for (qsizetype k = common; k < after.size(); ++k) {
        const Forward &f = after.at(k);
        if (afterIds.contains(f.id))
            unique = false;
        afterIds.insert(f.id);
        const auto it = index.constFind(f.id);
        if (it == index.constEnd()) {
            come << f;
            continue;
        }
        seen[size_t(*it - common)] = true;
        if (!(before.at(*it) == f)) {
            gone << before.at(*it);
            come << f;
        }
    }
    if (!unique)
        return rebuild(after);
    for (qsizetype i = common; i < before.size(); ++i) {
        if (!seen[size_t(i - common)])
            gone << before.at(i);
    }
    return d->change(
        before, gone, come, after.size(), after.isEmpty() ? QString() : after.last().id,
        [&] { return after; }, [&] { return rebuild(after); });
}

ApplyError RulesetWriter::rebuild(const QList<Forward> &after) {
    // Ids are never given twice, so a counter of the old table belongs to the forward of the
    // same id in the new one. Packets counted between the read and the write are lost.
    const QHash<QString, Counter> now = counters();
    d->carry.reserve(now.size());
    for (auto it = now.constBegin(); it != now.constEnd(); ++it) {
        Forward f;
        f.id = it.key();
        if (const quint32 mark = f.mark())
            d->carry.insert(mark, *it);
    }
    const ApplyError e = apply(after);
    d->carry.clear();
    return e;
}

ApplyError RulesetWriter::removeTable() {
    d->written.valid = false;
    const Model m;
    netlink::Batch batch(d->socket.nextSeq());
    BatchMap map;
    map.info.push_back({});
    batch.begin();
    Builder b(batch, map, m);
    // Creating it first makes the delete succeed when there was no table.
    b.table(NFT_MSG_NEWTABLE, NLM_F_CREATE);
    b.table(NFT_MSG_DELTABLE, 0);
    batch.end();
    map.info.push_back({});
    return d->run(m, batch, map);
}

QHash<QString, Counter> RulesetWriter::counters(QString *error) {
    QHash<QString, Counter> out;
    auto parse = [&out](const nlmsghdr *reply) {
        parseCounterElements(reply, &out);
    };
    const QByteArray &keys = d->written.counterKeys;
    if (d->written.valid && keys.size() / 4 >= countersByKeyFrom) {
        // Each element comes back as its own message of up to a page.
        d->socket.growBuffers(0, size_t(countersPerGet) * 8192);
        std::vector<char> buf(size_t(countersPerGet) * 48 + 4096);
        out.reserve(keys.size() / 4);
        QString err;
        for (qsizetype first = 0; first < keys.size() / 4 && err.isEmpty();
             first += countersPerGet) {
            const qsizetype n = std::min(countersPerGet, keys.size() / 4 - first);
            nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETSETELEM, NFPROTO_INET,
                                                  NLM_F_ACK, d->socket.nextSeq());
            mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, tableName);
            mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, "counters");
            nlattr *list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
            for (qsizetype i = first; i < first + n; ++i) {
                nlattr *elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
                nlattr *key = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
                mnl_attr_put(nlh, NFTA_DATA_VALUE, 4, keys.constData() + 4 * i);
                mnl_attr_nest_end(nlh, key);
                mnl_attr_nest_end(nlh, elem);
            }
            mnl_attr_nest_end(nlh, list);
            err = d->socket.dump(nlh, parse);
        }
        if (err.isEmpty())
            return out;
        // A key the kernel does not have (the table was changed behind our back): dump.
        out.clear();
    }
    char buf[MNL_SOCKET_BUFFER_SIZE];
    nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_DUMP,
                                          d->socket.nextSeq());
    // Only our table's counters set is dumped; the parser checks the names again.
    mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, tableName);
    mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, "counters");
    if (const QString err = d->socket.dump(nlh, parse); !err.isEmpty()) {
        out.clear();
        // No table, or no forwards yet (so no counters set): not an error.
        if (errno != ENOENT && error)
            *error = QStringLiteral("cannot read the counters: %1").arg(err);
    }
    return out;
}

// --- issue 5: the packet trace's chains ---------------------------------------------------
// Built here, beside the forwards' batches but apart from their model: the trace adds two
// chains of its own to our table and deletes them again, and nothing else of the table moves.

namespace {

nlmsghdr *traceHeader(netlink::Batch &batch, uint16_t type, uint16_t flags) {
    return nftnl_nlmsg_build_hdr(batch.reserve(), type, NFPROTO_INET, flags | NLM_F_ACK,
                                 batch.nextSeq());
}

void traceChain(netlink::Batch &batch, const QString &name, uint32_t hook, bool create) {
    nftnl_chain *ch = nftnl_chain_alloc();
    nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, tableName);
    const QByteArray n = name.toLatin1();
    nftnl_chain_set_str(ch, NFTNL_CHAIN_NAME, n.constData());
    if (create) {
        nftnl_chain_set_str(ch, NFTNL_CHAIN_TYPE, "filter");
        nftnl_chain_set_u32(ch, NFTNL_CHAIN_HOOKNUM, hook);
        nftnl_chain_set_s32(ch, NFTNL_CHAIN_PRIO, -350);
        nftnl_chain_set_u32(ch, NFTNL_CHAIN_POLICY, NF_ACCEPT);
    }
    nlmsghdr *nlh = create ? traceHeader(batch, NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_EXCL)
                           : traceHeader(batch, NFT_MSG_DELCHAIN, 0);
    nftnl_chain_nlmsg_build_payload(nlh, ch);
    nftnl_chain_free(ch);
    batch.commit(nlh);
}

nftnl_expr *traceExpr(nftnl_rule *r, const char *name) {
    nftnl_expr *e = nftnl_expr_alloc(name);
    nftnl_rule_add_expr(r, e);
    return e;
}

void traceLoad(nftnl_rule *r, uint32_t metaKey) {
    nftnl_expr *e = traceExpr(r, "meta");
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, metaKey);
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
}

void traceCmp(nftnl_rule *r, const void *data, uint32_t len) {
    nftnl_expr *e = traceExpr(r, "cmp");
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
    nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
}

void tracePayload(nftnl_rule *r, uint32_t base, uint32_t offset, uint32_t len) {
    nftnl_expr *e = traceExpr(r, "payload");
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
}

void traceRule(netlink::Batch &batch, const QString &chain, quint8 protocol,
               const RulesetWriter::TraceChains &t) {
    nftnl_rule *r = nftnl_rule_alloc();
    nftnl_rule_set_str(r, NFTNL_RULE_TABLE, tableName);
    const QByteArray c = chain.toLatin1();
    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, c.constData());
    nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
    if (!t.address.isNull()) {
        const bool v6 = t.address.protocol() == QHostAddress::IPv6Protocol;
        const quint8 nf = v6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
        traceLoad(r, NFT_META_NFPROTO);
        traceCmp(r, &nf, 1);
        if (v6) {
            const Q_IPV6ADDR a = t.address.toIPv6Address();
            tracePayload(r, NFT_PAYLOAD_NETWORK_HEADER, 24, 16);
            traceCmp(r, a.c, 16);
        } else {
            const quint32 a = htonl(t.address.toIPv4Address());
            tracePayload(r, NFT_PAYLOAD_NETWORK_HEADER, 16, 4);
            traceCmp(r, &a, 4);
        }
    }
    traceLoad(r, NFT_META_L4PROTO);
    traceCmp(r, &protocol, 1);
    tracePayload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
    const quint16 first = htons(t.ports.first), last = htons(t.ports.last);
    if (t.ports.isRange()) {
        nftnl_expr *e = traceExpr(r, "range");
        nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_OP, NFT_RANGE_EQ);
        nftnl_expr_set(e, NFTNL_EXPR_RANGE_FROM_DATA, &first, 2);
        nftnl_expr_set(e, NFTNL_EXPR_RANGE_TO_DATA, &last, 2);
    } else {
        traceCmp(r, &first, 2);
    }
    // meta nftrace set 1
    const quint8 one = 1;
    nftnl_expr *imm = traceExpr(r, "immediate");
    nftnl_expr_set_u32(imm, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
    nftnl_expr_set(imm, NFTNL_EXPR_IMM_DATA, &one, 1);
    nftnl_expr *set = traceExpr(r, "meta");
    nftnl_expr_set_u32(set, NFTNL_EXPR_META_KEY, NFT_META_NFTRACE);
    nftnl_expr_set_u32(set, NFTNL_EXPR_META_SREG, NFT_REG_1);
    nlmsghdr *nlh = traceHeader(batch, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
    nftnl_rule_nlmsg_build_payload(nlh, r);
    nftnl_rule_free(r);
    batch.commit(nlh);
}

ApplyError traceBatchError(const netlink::BatchResult &result, const char *what) {
    ApplyError e;
    if (!result.transportError.isEmpty()) {
        e.message = QStringLiteral("%1: %2").arg(QLatin1String(what), result.transportError);
        return e;
    }
    const netlink::Refusal &r = result.refusals.front();
    QString reason = QString::fromLocal8Bit(strerror(r.error));
    if (!r.extack.isEmpty())
        reason += QStringLiteral(" (%1)").arg(r.extack);
    e.message = QStringLiteral("%1: %2").arg(QLatin1String(what), reason);
    return e;
}

} // namespace

ApplyError RulesetWriter::addTraceChains(const TraceChains &t) {
    if (!d->socket.isOpen())
        return ApplyError{{}, {}, {}, d->socket.openError()};
    netlink::Batch batch(d->socket.nextSeq());
    batch.begin();
    // No NEWTABLE: a missing table refuses the chains instead of being created for them.
    traceChain(batch, t.prerouting, NF_INET_PRE_ROUTING, true);
    traceChain(batch, t.output, NF_INET_LOCAL_OUT, true);
    for (const quint8 p : t.protocols) {
        traceRule(batch, t.prerouting, p, t);
        traceRule(batch, t.output, p, t);
    }
    batch.end();
    const netlink::BatchResult result = d->socket.send(batch);
    if (result.ok())
        return {};
    return traceBatchError(result, "cannot add the trace chains to table inet portico");
}

ApplyError RulesetWriter::removeTraceChains(const TraceChains &t) {
    if (!d->socket.isOpen())
        return ApplyError{{}, {}, {}, d->socket.openError()};
    netlink::Batch batch(d->socket.nextSeq());
    batch.begin();
    for (const QString &name : {t.prerouting, t.output}) {
        if (!name.isEmpty())
            traceChain(batch, name, 0, false);
    }
    batch.end();
    const netlink::BatchResult result = d->socket.send(batch);
    if (result.ok())
        return {};
    return traceBatchError(result, "cannot remove the trace chains from table inet portico");
}

} // namespace portico
