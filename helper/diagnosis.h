// SPDX-License-Identifier: GPL-3.0-or-later
// "Why doesn't this forward work?": the checks of one forward against the helper's own network
// namespace (sysctls, routes, listening sockets, every table's base chains), each finding in
// plain words with a fix. Reading only: nothing here changes the kernel or the state.
//
// Two halves, so that the reasoning can be tested without root: gather() reads the facts from
// the kernel, evaluate() turns a forward and its facts into findings.
#pragma once

#include "forward.h"
#include "ip_forwarding.h"
#include "route_lookup.h"
#include "socket_lookup.h"

#include <QHash>
#include <QList>
#include <QString>
#include <QVariantMap>

#include <optional>

namespace portico {

struct Finding {
    QString check;    // ip_forward, enabled, foreign_drop, route, return_path, hairpin,
                      // route_localnet, rp_filter, foreign_dnat, local_listener
    QString severity; // problem, warning, ok
    QString message;  // what is wrong (or what was checked), in plain words
    QString fix;      // how to fix it; empty for ok
    QString chain;    // "family table chain" when a chain of another table is the cause

    QVariantMap toVariantMap() const; // the a{sv} of the Diagnose reply
    friend bool operator==(const Finding &, const Finding &) = default;
};

namespace diag {

// The other tables' rules as the diagnosis reasons about them: each rule is a list of conditions
// it could decode and a verdict. A condition it could not decode is Unknown, so a rule that has
// one only "may" match.
struct Condition {
    enum Kind {
        L4Proto,      // protocols (IPPROTO_TCP, IPPROTO_UDP, ...)
        DPort,        // ports
        SPort,        // ports
        DAddr,        // nets
        SAddr,        // nets
        Iif,          // names (a trailing * is a prefix)
        Oif,          // names
        CtState,      // bits: invalid 1, established 2, related 4, new 8, untracked 64
        CtStatusDnat, // ct status dnat (bits ignored)
        NfProto,      // family: 4 or 6
        Unknown,
    };
    Kind kind = Unknown;
    bool negate = false;
    QList<int> protocols;
    QList<PortRange> ports;
    QList<Cidr> nets;
    QStringList names;
    quint32 bits = 0;
    int family = 0;
    QString text; // how the reader showed it, for messages
};

struct Rule {
    enum Verdict { Continue, Accept, Drop, Jump, Goto, Return, Nat, Other };
    QList<Condition> conditions;
    Verdict verdict = Continue;
    QString target;    // Jump, Goto: the chain
    bool dnat = false; // Nat: a dnat or redirect (not snat/masquerade)
    quint64 handle = 0;
    QString text; // optional: the rule in nft words
};

struct Chain {
    QString family; // ip, ip6, inet, arp, bridge, netdev
    QString table;
    QString name;
    QString hook; // empty for a regular chain
    QString type; // filter, nat, route
    int priority = 0;
    bool policyDrop = false;
    bool ours = false;
    QList<Rule> rules;

    QString label() const { return family + QLatin1Char(' ') + table + QLatin1Char(' ') + name; }
};

} // namespace diag

// Everything the checks look at, read once per diagnosis.
struct DiagnosisFacts {
    std::optional<IpForwarding> forwarding;
    QString forwardingError;
    // Sysctl values by their /proc/sys path ("net/ipv4/conf/wan0/rp_filter"); absent = unread.
    QHash<QString, int> sysctls;
    bool inboundExists = true;         // the forward's interface (if it names one) exists
    Route target;                      // the route to the target address
    Route external;                    // to the external address, when the forward names one
    QList<QPair<Cidr, Route>> sources; // the route to each source network
    QList<Route> defaultRoutes4;
    QList<Listener> listeners;
    QString listenersError;
    bool haveRuleset = false;
    QString rulesetError;
    QList<diag::Chain> chains; // every chain of every table, ours included (marked)
    QString routeError;        // trouble with rtnetlink itself
};

struct RulesetSnapshot;
// The reader's chains (helper/ruleset_reader.h) as the diagnosis reasons about them.
QList<diag::Chain> diagnosisChains(const RulesetSnapshot &snapshot);

class Diagnosis {
public:
    explicit Diagnosis(const QString &procSys = QStringLiteral("/proc/sys"),
                       const QString &procNet = QStringLiteral("/proc/net"));

    // Reads the facts for `forward` from the helper's namespace; the chains from RulesetReader.
    DiagnosisFacts gather(const Forward &forward) const;

    // The findings, problems first, then warnings, then the checks that passed.
    static QList<Finding> evaluate(const Forward &forward, const DiagnosisFacts &facts);

    QList<Finding> run(const Forward &forward) const { return evaluate(forward, gather(forward)); }

private:
    QString m_procSys;
    QString m_procNet;
};

} // namespace portico
