// SPDX-License-Identifier: GPL-3.0-or-later
// A read-only view of the kernel's whole nf_tables ruleset (every table of every family, ours
// and everyone else's): tables, chains, rules with their counters and a small decoded view of
// each rule, and the ruleset generation. Reads only; it never sends a change.
#pragma once

#include "ruleset_writer.h" // Counter

#include <QHash>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>
#include <QVariantMap>

#include <memory>

struct nlmsghdr;

namespace portico {

// One simple match of a rule that the reader understood, e.g. `tcp dport 80-90`,
// `iifname != "docker0"` or `ct state established,related`.
struct RuleMatch {
    enum class Field : quint8 {
        L4Proto,  // meta l4proto, ip protocol, ip6 nexthdr: values "tcp", "udp", "icmp", or numbers
        DPort,    // th/tcp/udp dport: ports
        SPort,    // th/tcp/udp sport: ports
        DAddr,    // ip/ip6 daddr: values "198.51.100.10", "198.51.100.0/24", "a-b"
        SAddr,    // ip/ip6 saddr: as DAddr
        IifName,  // iifname or iif: values "eth0", "veth*" (a prefix match)
        OifName,  // oifname or oif: as IifName
        CtState,  // ct state: values among "invalid", "established", "related", "new", "untracked"
        CtStatus, // ct status: values among "expected", "seen-reply", "assured", "confirmed",
                  // "snat", "dnat", "dying" (firewalld's `ct status dnat accept`)
        NfProto,  // meta nfproto (the family inside an inet table): values "ipv4", "ipv6"
    };
    Field field = Field::L4Proto;
    bool negated = false;                 // `!=` (or, for ct state/status, none of the values)
    QStringList values;                   // all fields but the ports
    QList<QPair<quint16, quint16>> ports; // DPort, SPort: closed ranges (a single port: lo == hi)

    static QString fieldName(Field f); // "l4proto", "dport", ...
};

struct RuleView {
    quint64 handle = 0;
    bool hasCounter = false;
    Counter counter; // the sum of the rule's counter expressions

    // The verdict the rule ends with: "accept", "drop", "reject", "jump", "goto", "return",
    // "queue", "continue" (no verdict: evaluation goes on to the next rule).
    QString verdict = QStringLiteral("continue");
    QString target; // jump/goto: the chain

    bool dnat = false;       // nat type dnat
    bool snat = false;       // nat type snat
    bool redirect = false;   // redir
    bool masquerade = false; // masq

    QList<RuleMatch> matches;
    // The rule has matches the reader does not understand (a named set lookup, an xtables
    // match, a mark, a limit, ...): it may match less than `matches` say.
    bool opaque = false;
    QString comment; // the rule's userdata comment, when nft put one there

    bool dropsOrRejects() const {
        return verdict == QLatin1String("drop") || verdict == QLatin1String("reject");
    }
    bool natsDestination() const { return dnat || redirect; }
};

struct ChainView {
    QString family; // ip, ip6, inet, arp, bridge, netdev
    QString table;
    QString name;
    quint64 handle = 0;
    bool base = false; // a base chain: hook, priority, type and policy are set
    QString hook;      // prerouting, input, forward, output, postrouting, ingress, egress
    int priority = 0;
    QString type;                              // filter, nat, route
    QString policy = QStringLiteral("accept"); // accept or drop
    QStringList devices; // netdev/inet ingress: the device(s) the chain is bound to
    bool ours = false;   // in `table inet portico`
    QList<RuleView> rules;

    Counter counters() const;  // sum over rules with a counter
    bool counted() const;      // some rule has a counter
    quint32 dropRules() const; // rules whose verdict is drop or reject
    quint32 natRules() const;  // rules that dnat or redirect
    QString label() const;     // "inet firewalld filter_FORWARD"
};

struct TableView {
    QString family;
    QString name;
    quint64 handle = 0;
    quint32 flags = 0; // NFT_TABLE_F_DORMANT, ...
    bool ours = false;
};

struct RulesetSnapshot {
    quint32 generation = 0;
    QList<TableView> tables;
    QList<ChainView> chains; // in the kernel's order: by table, then chain

    const ChainView *find(const QString &family, const QString &table, const QString &chain) const;
    // The base chains at one hook of the packet path (all families that see it: for an IPv4
    // packet ip and inet; ip6 and inet for IPv6), lowest priority first.
    QList<const ChainView *> baseChainsAt(const QString &hook, const QString &family) const;
    // The contract's RulesetSummary shape: one a{sv} per base chain.
    QList<QVariantMap> summary() const;
};

// The names the kernel's numbers stand for.
QString familyName(int nfproto);                // "ip", "inet", ... or the number
int familyNumber(const QString &name);          // NFPROTO_*, or -1
QString hookName(int nfproto, quint32 hooknum); // depends on the family (arp, netdev differ)

class RulesetReader {
public:
    RulesetReader();
    ~RulesetReader();
    RulesetReader(const RulesetReader &) = delete;
    RulesetReader &operator=(const RulesetReader &) = delete;

    // The whole ruleset, consistent: dumped again (up to a few times) when the generation
    // changed while it was read. Returns an empty string or the error.
    QString read(RulesetSnapshot *out);
    // NFT_MSG_GETGEN: the kernel's ruleset generation, cheap to ask.
    QString generation(quint32 *out);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

// Parsers of single dump messages, apart so that tests can feed them recorded messages.
namespace reader {
bool parseTable(const nlmsghdr *nlh, TableView *out);
bool parseChain(const nlmsghdr *nlh, ChainView *out);
// The elements of anonymous sets (`{ tcp, udp }`, `{ 80, 443 }`), keyed "family table set":
// each element's key and, for an interval, its last value (else empty).
using SetElements = QHash<QString, QList<QPair<QByteArray, QByteArray>>>;
// A NEWRULE message: the family, table and chain it belongs to, and the decoded rule. A lookup
// of a set in `sets` is decoded into values; any other lookup makes the rule opaque.
bool parseRule(const nlmsghdr *nlh, QString *family, QString *table, QString *chain, RuleView *out,
               const SetElements *sets = nullptr);
bool parseGeneration(const nlmsghdr *nlh, quint32 *out);
} // namespace reader

} // namespace portico
