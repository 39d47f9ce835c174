// SPDX-License-Identifier: GPL-3.0-or-later
// The diagnosis checks. evaluate() is pure: it reasons about one forward and the facts that
// gather() read, so that every sentence can be tested without root.
//
// How another table's chain is judged: the forward's packets are modelled per hook and
// direction (the first packet of a connection, the later ones, the target's replies), with what
// is known about them at that hook (before or after our DNAT, which interfaces). Each rule's
// decoded conditions match those packets yes, no or maybe; the chain is walked with its jumps
// and gotos. A definite drop is a problem, a possible one (a condition we cannot decide, a rule
// we could not decode) a warning.
#include "diagnosis.h"

#include "ruleset_reader.h"

#include <QFile>
#include <QSet>

#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>

using namespace Qt::StringLiterals;

namespace portico {

QVariantMap Finding::toVariantMap() const {
    QVariantMap m{
        {u"check"_s, check}, {u"severity"_s, severity}, {u"message"_s, message}, {u"fix"_s, fix}};
    if (!chain.isEmpty())
        m.insert(u"chain"_s, chain);
    return m;
}

namespace {

const QString problem = u"problem"_s;
const QString warning = u"warning"_s;
const QString ok = u"ok"_s;

// Our own base chains' priorities (helper/ruleset_compiler.cpp): DNAT at -100, masquerade 100.
constexpr int ourDnatPriority = -100;
constexpr int ourSnatPriority = 100;

constexpr quint32 ctNew = 8;
constexpr quint32 ctEstablished = 2;
constexpr quint32 ctInvalid = 1;

Finding make(const QString &check, const QString &severity, const QString &message,
             const QString &fix = {}, const QString &chain = {}) {
    return Finding{check, severity, message, fix, chain};
}

QString familyLabel(bool v6) {
    return v6 ? u"IPv6"_s : u"IPv4"_s;
}

QString addressText(const QHostAddress &a) {
    return a.protocol() == QHostAddress::IPv6Protocol ? u"[%1]"_s.arg(a.toString()) : a.toString();
}

QString protocolWords(const Forward &f) {
    switch (f.protocol) {
    case Protocol::Tcp:
        return u"tcp"_s;
    case Protocol::Udp:
        return u"udp"_s;
    case Protocol::TcpUdp:
        return u"tcp and udp"_s;
    }
    return {};
}

QList<int> protocolsOf(const Forward &f) {
    switch (f.protocol) {
    case Protocol::Tcp:
        return {IPPROTO_TCP};
    case Protocol::Udp:
        return {IPPROTO_UDP};
    case Protocol::TcpUdp:
        return {IPPROTO_TCP, IPPROTO_UDP};
    }
    return {};
}

PortRange targetPorts(const Forward &f) {
    return f.targetPort.isNull() ? f.externalPort : f.targetPort;
}

QString externalText(const Forward &f) {
    const QString addr =
        f.externalAddress.isNull() ? u"this gateway's addresses"_s : addressText(f.externalAddress);
    return u"%1 port %2"_s.arg(addr, f.externalPort.toString());
}

QString targetText(const Forward &f) {
    if (f.isLocalRedirect())
        return u"port %1 of this host"_s.arg(targetPorts(f).toString());
    return u"%1 port %2"_s.arg(addressText(f.targetAddress), targetPorts(f).toString());
}

std::optional<int> sysctl(const DiagnosisFacts &facts, const QString &path) {
    const auto it = facts.sysctls.constFind(path);
    if (it == facts.sysctls.cend())
        return std::nullopt;
    return *it;
}

Cidr hostCidr(const QHostAddress &a) {
    return Cidr{a, a.protocol() == QHostAddress::IPv6Protocol ? 128 : 32};
}

// The families a forward's packets have (a local redirect without addresses takes both).
QList<bool> familiesOf(const Forward &f) {
    QList<bool> out;
    if (f.appliesToIPv4())
        out.append(false);
    if (f.appliesToIPv6())
        out.append(true);
    return out;
}

// --- the packet model and the chain walk --------------------------------------------------

enum class Tri { No, Yes, Maybe };

struct Packet {
    bool v6 = false;
    int protocol = IPPROTO_TCP;
    QList<Cidr> saddr; // empty: not known (anyone, or an address of ours)
    QList<Cidr> daddr;
    PortRange sport; // null: any
    PortRange dport;
    QString iif; // empty: not known
    QString oif;
    quint32 ctState = ctNew;
    bool dnat = false;
    // Which address is the client's: a condition on it, when the clients are not known, is a
    // block list (or an allow list when negated), not a fault of the forward.
    bool clientIsSource = true;
    QString what; // "new connections", "the target's replies", ...
};

Tri matchNets(const QList<Cidr> &nets, const QList<Cidr> &packet) {
    if (packet.isEmpty())
        return Tri::Maybe;
    bool allIn = true, allOut = true;
    for (const Cidr &p : packet) {
        bool in = false, overlaps = false;
        for (const Cidr &n : nets) {
            if (n.contains(p))
                in = true;
            if (n.contains(p) || p.contains(n))
                overlaps = true;
        }
        allIn = allIn && in;
        allOut = allOut && !overlaps;
    }
    return allIn ? Tri::Yes : allOut ? Tri::No : Tri::Maybe;
}

Tri matchPorts(const QList<PortRange> &ports, const PortRange &packet) {
    if (packet.isNull())
        return Tri::Maybe;
    bool overlaps = false;
    for (const PortRange &r : ports) {
        if (r.first <= packet.first && packet.last <= r.last)
            return Tri::Yes;
        if (r.overlaps(packet))
            overlaps = true;
    }
    return overlaps ? Tri::Maybe : Tri::No;
}

Tri matchNames(const QStringList &names, const QString &packet) {
    if (packet.isEmpty()) {
        // An interface we do not know is still not loopback: the forward's clients come from
        // outside.
        const bool onlyLoopback = std::all_of(names.cbegin(), names.cend(),
                                              [](const QString &n) { return n == "lo"_L1; });
        return onlyLoopback && !names.isEmpty() ? Tri::No : Tri::Maybe;
    }
    for (const QString &n : names) {
        if (n.endsWith(u'*') ? packet.startsWith(n.chopped(1)) : packet == n)
            return Tri::Yes;
    }
    return Tri::No;
}

Tri matchCondition(const diag::Condition &c, const Packet &p) {
    using K = diag::Condition;
    Tri t = Tri::Maybe;
    switch (c.kind) {
    case K::L4Proto:
        t = c.protocols.contains(p.protocol) ? Tri::Yes : Tri::No;
        break;
    case K::DPort:
        t = matchPorts(c.ports, p.dport);
        break;
    case K::SPort:
        t = matchPorts(c.ports, p.sport);
        break;
    case K::DAddr:
        t = matchNets(c.nets, p.daddr);
        break;
    case K::SAddr:
        t = matchNets(c.nets, p.saddr);
        break;
    case K::Iif:
        t = matchNames(c.names, p.iif);
        break;
    case K::Oif:
        t = matchNames(c.names, p.oif);
        break;
    case K::CtState:
        t = (c.bits & p.ctState) ? Tri::Yes : Tri::No;
        break;
    case K::CtStatusDnat:
        t = p.dnat ? Tri::Yes : Tri::No;
        break;
    case K::NfProto:
        t = (c.family == 6) == p.v6 ? Tri::Yes : Tri::No;
        break;
    case K::Unknown:
        return Tri::Maybe;
    }
    if (c.negate && t != Tri::Maybe)
        t = t == Tri::Yes ? Tri::No : Tri::Yes;
    return t;
}

// `blockList`: every "maybe" came from a plain (not negated) condition on the address of
// clients we do not know; such a rule drops some clients' traffic by the firewall's choice.
Tri matchRule(const diag::Rule &r, const Packet &p, bool *blockList = nullptr) {
    Tri result = Tri::Yes;
    bool onlyClients = true;
    for (const diag::Condition &c : r.conditions) {
        const Tri t = matchCondition(c, p);
        if (t == Tri::No)
            return Tri::No;
        if (t == Tri::Maybe) {
            result = Tri::Maybe;
            using K = diag::Condition;
            const bool clientField = c.kind == (p.clientIsSource ? K::SAddr : K::DAddr) &&
                                     (p.clientIsSource ? p.saddr : p.daddr).isEmpty();
            onlyClients = onlyClients && clientField && !c.negate;
        }
    }
    if (blockList)
        *blockList = result == Tri::Maybe && onlyClients;
    return result;
}

// What ended (or may have ended) the packet's way through a chain.
struct Hit {
    QString chain; // the chain of the rule, or of the policy
    const diag::Rule *rule = nullptr;
    bool policy = false;
};

// The outcomes the packet's possible paths through a chain can have: a packet whose conditions
// are only "maybe" matched takes both ways at that rule.
struct Walk {
    bool accepted = false; // some path ends without a hit (accept, or a NAT that is no DNAT)
    bool caught = false;   // some path ends at a hit (a drop; in Dnat mode a DNAT)
    bool through = false;  // some path reaches the end of the chain (or a return)
    std::optional<struct Hit> hit; // the first hit

    void note(const struct Hit &h) {
        caught = true;
        if (!hit)
            hit = h;
    }
    bool definite() const { return caught && !accepted && !through; }
};

enum class Mode { Drop, Dnat };

using ChainIndex = QHash<QString, const diag::Chain *>; // "family table chain" -> chain

bool isHit(const diag::Rule &r, Mode mode) {
    return mode == Mode::Drop ? r.verdict == diag::Rule::Drop
                              : r.verdict == diag::Rule::Nat && r.dnat;
}

// A verdict that ends the walk without a hit: accept, and in a nat chain any NAT statement.
bool endsWithoutHit(const diag::Rule &r, Mode mode) {
    switch (r.verdict) {
    case diag::Rule::Accept:
    case diag::Rule::Other: // queue and the like: the packet leaves here, not by a drop we see
        return true;
    case diag::Rule::Nat:
        return mode == Mode::Drop || !r.dnat;
    case diag::Rule::Drop:
        return mode == Mode::Dnat;
    default:
        return false;
    }
}

// `budget` bounds the rules looked at per packet, so that many jumps into long chains cannot make
// a diagnosis slow; past it (or 16 jumps deep) anything may happen.
Walk walkChain(const diag::Chain &chain, const Packet &p, Mode mode, const ChainIndex &index,
               int depth, int *budget) {
    Walk w;
    if (depth > 16 || *budget <= 0) {
        w.accepted = w.through = true;
        return w;
    }
    for (const diag::Rule &rule : chain.rules) {
        if (--*budget < 0) {
            w.accepted = w.through = true;
            return w;
        }
        bool blockList = false;
        const Tri m = matchRule(rule, p, &blockList);
        if (m == Tri::No)
            continue;
        const bool all = m == Tri::Yes; // every path takes this rule
        if (isHit(rule, mode)) {
            if (blockList && mode == Mode::Drop)
                continue;
            w.note({chain.label(), &rule, false});
            if (all)
                return w;
            continue;
        }
        if (endsWithoutHit(rule, mode)) {
            w.accepted = true;
            if (all)
                return w;
            continue;
        }
        if (rule.verdict == diag::Rule::Jump || rule.verdict == diag::Rule::Goto) {
            const diag::Chain *target =
                index.value(chain.family + u' ' + chain.table + u' ' + rule.target);
            if (!target) {
                w.accepted = true; // a chain we cannot see
                continue;
            }
            const Walk sub = walkChain(*target, p, mode, index, depth + 1, budget);
            w.accepted = w.accepted || sub.accepted;
            if (sub.hit)
                w.note(*sub.hit);
            if (!sub.through) {
                if (all)
                    return w; // every path ended in there
                continue;
            }
            if (rule.verdict == diag::Rule::Goto) {
                // After a goto the packet does not come back to this chain.
                w.through = true;
                if (all)
                    return w;
            }
            continue;
        }
        if (rule.verdict == diag::Rule::Return) {
            w.through = true;
            if (all)
                return w;
        }
    }
    w.through = true;
    return w;
}

// A base chain: the walk, then its policy for the paths that reach the end.
Walk walkBase(const diag::Chain &chain, const Packet &p, Mode mode, const ChainIndex &index) {
    int budget = 200000;
    Walk w = walkChain(chain, p, mode, index, 0, &budget);
    if (w.through) {
        w.through = false;
        if (mode == Mode::Drop && chain.policyDrop)
            w.note(Hit{chain.label(), nullptr, true});
        else
            w.accepted = true;
    }
    return w;
}

bool chainSeesFamily(const diag::Chain &c, bool v6) {
    if (c.family == "inet"_L1)
        return true;
    return c.family == (v6 ? "ip6"_L1 : "ip"_L1);
}

// The packets of a forward at one hook, as that chain sees them.
QList<Packet> packetsAt(const Forward &f, const DiagnosisFacts &facts, const diag::Chain &c,
                        bool v6, int protocol) {
    QList<Packet> out;
    QList<Cidr> clients;
    for (const Cidr &s : f.sources) {
        if ((s.address.protocol() == QHostAddress::IPv6Protocol) == v6)
            clients.append(s);
    }
    const QList<Cidr> external =
        f.externalAddress.isNull() ? QList<Cidr>{} : QList<Cidr>{hostCidr(f.externalAddress)};
    const QList<Cidr> target =
        f.isLocalRedirect() ? QList<Cidr>{} : QList<Cidr>{hostCidr(f.targetAddress)};
    const PortRange tport = targetPorts(f);
    const QString targetIf = f.isLocalRedirect() ? QString() : facts.target.oifName;
    const bool nat = c.type == "nat"_L1;

    // The clients' own ports: from 1024 up, as every common system picks them.
    const PortRange clientPorts{1024, 65535};
    Packet base;
    base.v6 = v6;
    base.protocol = protocol;
    base.sport = clientPorts;
    // Before conntrack (priority -200, the raw chains) a packet has no connection yet, which
    // `ct state` sees as invalid.
    const bool beforeConntrack =
        (c.hook == "prerouting"_L1 || c.hook == "output"_L1) && c.priority < -200;
    const auto add = [&](Packet p, quint32 state, const QString &what) {
        p.ctState = beforeConntrack ? ctInvalid : state;
        p.what = what;
        out.append(p);
    };
    // nat chains see only the first packet of a connection.
    const auto both = [&](Packet p, const QString &newWhat, const QString &laterWhat) {
        add(p, ctNew, newWhat);
        if (!nat) {
            p.dnat = true;
            add(p, ctEstablished, laterWhat);
        }
    };

    if (c.hook == "prerouting"_L1) {
        Packet o = base;
        o.saddr = clients;
        o.iif = f.interface;
        if (c.priority < ourDnatPriority) {
            o.daddr = external;
            o.dport = f.externalPort;
        } else {
            o.daddr = target;
            o.dport = tport;
            o.dnat = true;
        }
        both(o, u"new connections"_s, u"the connections' later packets"_s);
        if (!nat) {
            Packet r = base;
            r.saddr = target;
            r.sport = tport;
            r.dport = clientPorts;
            r.clientIsSource = false;
            r.daddr = f.masquerade && c.priority < ourDnatPriority ? QList<Cidr>{} : clients;
            r.iif = targetIf;
            r.dnat = true;
            if (!f.isLocalRedirect())
                add(r, ctEstablished, u"the target's replies"_s);
        }
    } else if (c.hook == "forward"_L1) {
        if (f.isLocalRedirect())
            return out;
        Packet o = base;
        o.saddr = clients;
        o.daddr = target;
        o.dport = tport;
        o.iif = f.interface;
        o.oif = targetIf;
        o.dnat = true;
        both(o, u"new connections"_s, u"the connections' later packets"_s);
        Packet r = base;
        r.saddr = target;
        r.sport = tport;
        r.dport = clientPorts;
        r.clientIsSource = false;
        r.daddr = f.masquerade ? QList<Cidr>{} : clients;
        r.iif = targetIf;
        r.oif = f.interface;
        r.dnat = true;
        add(r, ctEstablished, u"the target's replies"_s);
    } else if (c.hook == "postrouting"_L1) {
        if (f.isLocalRedirect())
            return out;
        Packet o = base;
        o.saddr = f.masquerade && c.priority > ourSnatPriority ? QList<Cidr>{} : clients;
        o.daddr = target;
        o.dport = tport;
        o.oif = targetIf;
        o.dnat = true;
        both(o, u"new connections"_s, u"the connections' later packets"_s);
        if (!nat) {
            Packet r = base;
            r.saddr = c.priority > ourSnatPriority ? external : target;
            r.sport = c.priority > ourSnatPriority ? f.externalPort : tport;
            r.dport = clientPorts;
            r.clientIsSource = false;
            r.daddr = f.masquerade ? QList<Cidr>{} : clients;
            r.oif = f.interface;
            r.dnat = true;
            add(r, ctEstablished, u"the target's replies"_s);
        }
    } else if (c.hook == "input"_L1) {
        if (!f.isLocalRedirect())
            return out;
        Packet o = base;
        o.saddr = clients;
        o.dport = tport;
        o.iif = f.interface;
        o.dnat = true;
        both(o, u"new connections"_s, u"the connections' later packets"_s);
    } else if (c.hook == "output"_L1) {
        if (!f.isLocalRedirect() || nat)
            return out;
        Packet r = base;
        r.sport = tport;
        r.dport = clientPorts;
        r.clientIsSource = false;
        r.daddr = clients;
        r.oif = f.interface;
        r.dnat = true;
        add(r, ctEstablished, u"the service's replies"_s);
    }
    return out;
}

QString ruleWords(const Hit &h) {
    if (h.policy)
        return u"its policy is drop"_s;
    QString s = u"rule handle %1"_s.arg(h.rule->handle);
    if (!h.rule->text.isEmpty())
        s += u" (%1)"_s.arg(h.rule->text);
    return s;
}

QString hooksWords(const Forward &f) {
    return f.isLocalRedirect() ? u"prerouting, input and output"_s
                               : u"prerouting, forward and postrouting"_s;
}

// --- the checks -----------------------------------------------------------------------------

void checkEnabled(const Forward &f, QList<Finding> *out) {
    if (f.enabled) {
        out->append(make(u"enabled"_s, ok, u"The forward is enabled."_s));
        return;
    }
    out->append(make(u"enabled"_s, problem,
                     u"The forward is disabled, so it is not in the kernel and catches nothing."_s,
                     u"Enable it: porticoctl enable '%1'."_s.arg(f.name)));
}

void checkIpForward(const Forward &f, const DiagnosisFacts &facts, QList<Finding> *out) {
    const QString key = u"ip_forward"_s;
    if (f.isLocalRedirect()) {
        out->append(make(key, ok,
                         u"IP forwarding is not needed: the forward redirects to a port on this "
                         "host."_s));
        return;
    }
    const bool v6 = f.targetAddress.protocol() == QHostAddress::IPv6Protocol;
    if (!facts.forwarding) {
        out->append(make(key, warning,
                         u"Portico could not read whether %1 forwarding is on: %2"_s.arg(
                             familyLabel(v6), facts.forwardingError),
                         u"Check net.ipv4.ip_forward and net.ipv6.conf.all.forwarding."_s));
        return;
    }
    const bool on = v6 ? facts.forwarding->v6 : facts.forwarding->v4;
    const QString sysctlName = v6 ? u"net.ipv6.conf.all.forwarding"_s : u"net.ipv4.ip_forward"_s;
    if (!on) {
        out->append(make(key, problem,
                         u"%1 forwarding is off (%2 = 0), so this gateway drops the packets for "
                         "%3 instead of passing them on."_s.arg(familyLabel(v6), sysctlName,
                                                                addressText(f.targetAddress)),
                         u"Turn it on: porticoctl ip-forward on. Portico turns it on when it "
                         "applies a forward, so something turned it off since."_s));
        return;
    }
    if (!v6 && !f.interface.isEmpty()) {
        const auto perIf = sysctl(facts, u"net/ipv4/conf/%1/forwarding"_s.arg(f.interface));
        if (perIf && *perIf == 0) {
            out->append(make(key, problem,
                             u"IPv4 forwarding is on, but off on the inbound interface %1 "
                             "(net.ipv4.conf.%1.forwarding = 0): packets arriving there are "
                             "not passed on."_s.arg(f.interface),
                             u"Turn it on for that interface: sysctl -w "
                             "net.ipv4.conf.%1.forwarding=1 (or porticoctl ip-forward off and "
                             "on again, which sets every interface)."_s.arg(f.interface)));
            return;
        }
    }
    out->append(make(key, ok, u"%1 forwarding is on."_s.arg(familyLabel(v6))));
}

void checkRoute(const Forward &f, const DiagnosisFacts &facts, QList<Finding> *out) {
    const QString key = u"route"_s;
    QList<Finding> found;
    if (!facts.routeError.isEmpty()) {
        out->append(make(key, warning,
                         u"Portico could not ask the kernel for routes: %1"_s.arg(facts.routeError),
                         u"Check the route with ip route get."_s));
        return;
    }
    if (!f.interface.isEmpty() && !facts.inboundExists) {
        found.append(make(key, warning,
                          u"The inbound interface %1 does not exist, so the forward catches "
                          "nothing until it does."_s.arg(f.interface),
                          u"Check the name (ip link), or change the forward's interface: "
                          "porticoctl update '%1' --in IFACE."_s.arg(f.name)));
    }
    if (!f.externalAddress.isNull() && facts.external.found && !facts.external.isLocal()) {
        found.append(make(key, warning,
                          u"The external address %1 is not an address of this host, so clients "
                          "reaching this host do not use it; only traffic passing through to "
                          "%1 is caught."_s.arg(addressText(f.externalAddress)),
                          u"Give one of this host's addresses (ip address), or leave the "
                          "external address empty: porticoctl update '%1' --on ''."_s.arg(f.name)));
    }
    if (f.isLocalRedirect()) {
        if (found.isEmpty())
            found.append(make(key, ok,
                              u"No route is needed: the forward redirects to a port on this "
                              "host."_s));
        out->append(found);
        return;
    }
    const Route &r = facts.target;
    const QString target = addressText(f.targetAddress);
    if (!r.found) {
        found.append(make(key, problem,
                          r.failure(f.targetAddress) + u", so the forwarded packets are dropped."_s,
                          u"Add a route to %1 (or a default route), or correct the target "
                          "address: porticoctl update '%2' --to ADDRESS."_s.arg(target, f.name)));
    } else if (r.isLocal()) {
        found.append(make(key, warning,
                          u"The target %1 is an address of this host: the packets are delivered "
                          "here, not forwarded."_s.arg(target),
                          u"For a port on this host, leave the target address empty: "
                          "porticoctl update '%1' --to :PORT."_s.arg(f.name)));
    } else if (!r.isUnicast()) {
        found.append(make(key, problem,
                          u"The route to %1 (%2) does not lead to another host, so the forwarded "
                          "packets are dropped."_s.arg(target, r.describe()),
                          u"Fix the route to %1 (ip route)."_s.arg(target)));
    } else if (!f.interface.isEmpty() && r.oifName == f.interface) {
        if (f.masquerade || f.hairpin)
            found.append(make(key, ok,
                              u"The route to %1 (%2) leaves by %3, where the traffic comes in; "
                              "%4 brings the replies back through this gateway."_s.arg(
                                  target, r.describe(), f.interface,
                                  f.masquerade ? u"masquerade"_s : u"hairpin"_s)));
        else
            found.append(make(
                key, problem,
                u"The route to %1 (%2) leaves by %3, the interface the traffic comes in on. The "
                "target answers the clients directly, not through this gateway, so they drop "
                "its answers."_s.arg(target, r.describe(), f.interface),
                u"Turn masquerade on (porticoctl update '%1' --masquerade) so that the replies "
                "come back through this gateway, or correct the route or the inbound "
                "interface."_s.arg(f.name)));
    } else {
        found.append(make(
            key, ok, u"The target %1 is reached by the route %2."_s.arg(target, r.describe())));
    }
    out->append(found);
}

void checkReturnPath(const Forward &f, const DiagnosisFacts &facts, QList<Finding> *out) {
    const QString key = u"return_path"_s;
    if (f.isLocalRedirect()) {
        out->append(make(key, ok, u"The replies come from this host itself."_s));
        return;
    }
    const Route &r = facts.target;
    if (!r.isUnicast()) {
        out->append(make(key, ok, u"Not checked: there is no usable route to the target."_s));
        return;
    }
    if (f.masquerade) {
        out->append(make(key, ok,
                         u"Masquerade is on: the target sees this gateway as the client and "
                         "answers it."_s));
        return;
    }
    if (!r.isConnected()) {
        // We cannot see the target's routes. A target behind another router answers the clients
        // by that network's routes, which rarely lead back through this gateway.
        out->append(
            make(key, warning,
                 u"The target %1 is not on a network connected to this gateway: it is reached via "
                 "the router %2 (%3). Its replies to the clients follow its own network's routes; "
                 "unless those lead back through this gateway, the clients drop them."_s.arg(
                     addressText(f.targetAddress), r.gateway.toString(), r.describe()),
                 u"Turn masquerade on (porticoctl update '%1' --masquerade), so that the target "
                 "answers this gateway; or route the clients' addresses back through this gateway "
                 "on the target's network."_s.arg(f.name)));
        return;
    }
    out->append(make(key, ok,
                     u"The target is on a network connected to this gateway (%1). Its replies "
                     "come back here if this gateway is its default gateway (Portico cannot see "
                     "the target's routes; if it uses another router, turn masquerade "
                     "on)."_s.arg(r.describe())));
}

void checkHairpin(const Forward &f, const DiagnosisFacts &facts, QList<Finding> *out) {
    const QString key = u"hairpin"_s;
    if (f.isLocalRedirect()) {
        out->append(make(key, ok, u"Not needed: the forward redirects to a port on this host."_s));
        return;
    }
    if (f.hairpin) {
        out->append(make(key, ok,
                         u"Hairpin is on: clients next to the target can use the external "
                         "address too."_s));
        return;
    }
    const Route &r = facts.target;
    if (!r.isConnected()) {
        out->append(make(key, ok,
                         u"Not needed: the target is not on a network connected to this "
                         "gateway, so its neighbours do not pass through here."_s));
        return;
    }
    if (!f.externalAddress.isNull() && !facts.external.isLocal()) {
        out->append(
            make(key, ok, u"Not checked: the external address is not one of this host's."_s));
        return;
    }
    if (f.masquerade && f.interface.isEmpty()) {
        out->append(make(key, ok,
                         u"Masquerade is on and the forward takes any interface, so clients "
                         "next to the target can use the external address too."_s));
        return;
    }
    const QString net = u"%1/%2"_s.arg(r.network.toString()).arg(r.prefixLength);
    const QString why =
        f.interface.isEmpty()
            ? u"without hairpin the target answers them directly, so they drop its answers"_s
            : u"the forward only takes packets arriving on %1, so theirs reach this gateway "
              "itself instead"_s.arg(f.interface);
    out->append(make(
        key, warning,
        u"Clients on the target's own network (%1 on %2) cannot use the external address (%3): "
        "%4."_s.arg(net, r.oifName, externalText(f), why),
        u"If clients on %1 use the external address (or a name that resolves to it), turn "
        "hairpin on: porticoctl update '%2' --hairpin. Otherwise they can use %3 "
        "directly."_s.arg(net, f.name, targetText(f))));
}

QList<Listener> listenersOn(const DiagnosisFacts &facts, const Forward &f, const PortRange &ports,
                            bool v6) {
    QList<Listener> out;
    const QList<int> protos = protocolsOf(f);
    for (const Listener &l : facts.listeners) {
        const int proto = l.protocol == "tcp"_L1 ? IPPROTO_TCP : IPPROTO_UDP;
        if (!protos.contains(proto) || l.port < ports.first || l.port > ports.last)
            continue;
        const bool lv6 = l.address.protocol() == QHostAddress::IPv6Protocol;
        // An IPv6 wildcard socket takes IPv4 too unless it is v6-only, which /proc does not show.
        const bool family = lv6 == v6 || (l.address == QHostAddress(QHostAddress::AnyIPv6) && !v6);
        if (family)
            out.append(l);
    }
    return out;
}

QStringList describeAll(const QList<Listener> &ls) {
    QStringList out;
    for (const Listener &l : ls)
        out.append(l.describe());
    out.removeDuplicates();
    return out;
}

void checkRouteLocalnet(const Forward &f, const DiagnosisFacts &facts, QList<Finding> *out) {
    const QString key = u"route_localnet"_s;
    if (!f.isLocalRedirect()) {
        if (f.targetAddress.isLoopback()) {
            // Validation refuses these; a state from elsewhere could still hold one.
            const auto all = sysctl(facts, u"net/ipv4/conf/all/route_localnet"_s).value_or(0);
            if (!all)
                out->append(make(
                    key, problem,
                    u"The target %1 is a loopback address: the kernel drops "
                    "forwarded packets to it as martians "
                    "(net.ipv4.conf.*.route_localnet = 0)."_s.arg(addressText(f.targetAddress)),
                    u"Redirect to the port on this host instead: porticoctl update "
                    "'%1' --to :PORT."_s.arg(f.name)));
            return;
        }
        out->append(make(key, ok, u"The target is not a loopback address."_s));
        return;
    }
    QList<Listener> any;
    for (bool v6 : familiesOf(f))
        any += listenersOn(facts, f, targetPorts(f), v6);
    if (any.isEmpty()) {
        out->append(make(key, ok, u"Not checked: nothing listens on the target port."_s));
        return;
    }
    const bool allLoopback =
        std::all_of(any.cbegin(), any.cend(), [](const Listener &l) { return l.isLoopback(); });
    if (!allLoopback) {
        out->append(
            make(key, ok,
                 u"The service on the target port listens on more than loopback (%1)."_s.arg(
                     describeAll(any).join(u", "_s))));
        return;
    }
    out->append(make(
        key, problem,
        u"The service on port %1 listens only on loopback (%2). A redirect delivers the packets "
        "to the address of the interface they arrived on, so they never reach it; only "
        "connections from this host itself do. Reaching 127.0.0.1 from outside would take a "
        "DNAT to it and net.ipv4.conf.IFACE.route_localnet = 1, which Portico does not do "
        "because it exposes every loopback-only service."_s.arg(targetPorts(f).toString(),
                                                                describeAll(any).join(u", "_s)),
        u"Make the service listen on 0.0.0.0 or :: (or on the address the clients use)."_s));
}

void checkRpFilter(const Forward &f, const DiagnosisFacts &facts, QList<Finding> *out) {
    const QString key = u"rp_filter"_s;
    if (!f.appliesToIPv4()) {
        out->append(make(key, ok, u"Not applicable: IPv6 has no rp_filter."_s));
        return;
    }
    const int all = sysctl(facts, u"net/ipv4/conf/all/rp_filter"_s).value_or(0);
    if (f.interface.isEmpty()) {
        // Which interface the clients come in on is not known; with strict filtering each must
        // come in where the route back to it leaves, which holds for symmetric routes.
        out->append(make(
            key, ok,
            all == 1 ? u"rp_filter is strict (net.ipv4.conf.all.rp_filter = 1): clients must "
                       "arrive on the interface that the route back to them leaves by, as they "
                       "do with symmetric routes."_s
                     : u"rp_filter is %1 for all interfaces (net.ipv4.conf.all.rp_filter = %2), "
                       "and the forward takes packets from any interface."_s
                           .arg(all == 0 ? u"off"_s : u"loose"_s)
                           .arg(all)));
        return;
    }
    const int own = sysctl(facts, u"net/ipv4/conf/%1/rp_filter"_s.arg(f.interface)).value_or(0);
    const int effective = std::max(all, own); // the kernel uses the larger of the two
    const QString setting =
        u"net.ipv4.conf.%1.rp_filter = %2%3"_s.arg(f.interface)
            .arg(own)
            .arg(all > own ? u", net.ipv4.conf.all.rp_filter = %1"_s.arg(all) : QString());
    if (effective != 1) {
        out->append(make(key, ok,
                         u"rp_filter is %1 on %2 (%3)."_s.arg(
                             effective == 0 ? u"off"_s : u"loose"_s, f.interface, setting)));
        return;
    }
    const QString fix =
        u"Make it loose: sysctl -w net.ipv4.conf.%1.rp_filter=2 (and "
        "net.ipv4.conf.all.rp_filter=2 if that is 1), or route those clients back through %1."_s
            .arg(f.interface);
    QStringList wrong;
    bool anyV4 = false;
    for (const auto &[cidr, route] : facts.sources) {
        if (cidr.address.protocol() != QHostAddress::IPv4Protocol)
            continue;
        anyV4 = true;
        if (!route.found || route.oifName != f.interface)
            wrong.append(u"%1 (%2)"_s.arg(cidr.toString(), route.found
                                                               ? u"back by %1"_s.arg(route.oifName)
                                                               : u"no route back"_s));
    }
    if (anyV4) {
        if (wrong.isEmpty()) {
            out->append(make(key, ok,
                             u"rp_filter is strict on %1 (%2), and the routes back to the "
                             "forward's sources leave by %1."_s.arg(f.interface, setting)));
        } else {
            out->append(make(key, problem,
                             u"rp_filter is strict on %1 (%2): the kernel drops packets from "
                             "clients whose route back does not leave by %1, and that is so for "
                             "%3."_s.arg(f.interface, setting, wrong.join(u", "_s)),
                             fix));
        }
        return;
    }
    const bool defaultHere = std::any_of(facts.defaultRoutes4.cbegin(), facts.defaultRoutes4.cend(),
                                         [&](const Route &r) { return r.oifName == f.interface; });
    if (defaultHere) {
        out->append(
            make(key, ok,
                 u"rp_filter is strict on %1 (%2), and the default route leaves by %1."_s.arg(
                     f.interface, setting)));
        return;
    }
    out->append(make(key, warning,
                     u"rp_filter is strict on %1 (%2) and the default route does not leave by "
                     "%1: the kernel drops packets from any client whose route back leaves by "
                     "another interface; only clients on %1's own networks get through."_s.arg(
                         f.interface, setting),
                     fix));
}

void checkForeignChains(const Forward &f, const DiagnosisFacts &facts, QList<Finding> *out) {
    const QString dropKey = u"foreign_drop"_s;
    const QString dnatKey = u"foreign_dnat"_s;
    if (!facts.haveRuleset) {
        const QString why =
            u"Portico could not read the other tables' chains: %1"_s.arg(facts.rulesetError);
        out->append(make(dropKey, warning, why, u"List them with nft list ruleset."_s));
        out->append(make(dnatKey, warning, why, u"List them with nft list ruleset."_s));
        return;
    }
    ChainIndex index;
    for (const diag::Chain &c : facts.chains)
        index.insert(c.label(), &c);

    const QList<int> protos = protocolsOf(f);
    const QList<bool> families = familiesOf(f);
    int checkedChains = 0;
    QSet<QString> tables;
    QList<Finding> drops, dnats;
    for (const diag::Chain &c : facts.chains) {
        if (c.ours || c.hook.isEmpty())
            continue;
        if (c.family != "ip"_L1 && c.family != "ip6"_L1 && c.family != "inet"_L1)
            continue;
        bool relevant = false;
        // Drops: the worst over the forward's packets at this hook.
        std::optional<Hit> sureHit, maybeHit;
        QString sureWhat, maybeWhat;
        for (bool v6 : families) {
            if (!chainSeesFamily(c, v6))
                continue;
            for (int proto : protos) {
                for (const Packet &p : packetsAt(f, facts, c, v6, proto)) {
                    relevant = true;
                    const Walk w = walkBase(c, p, Mode::Drop, index);
                    if (w.definite()) {
                        if (!sureHit) {
                            sureHit = w.hit;
                            sureWhat = p.what;
                        }
                    } else if (w.hit && !maybeHit) {
                        maybeHit = w.hit;
                        maybeWhat = p.what;
                    }
                }
            }
        }
        if (relevant) {
            ++checkedChains;
            tables.insert(c.family + u' ' + c.table);
        }
        const QString where = u"%1 (hook %2, priority %3)"_s.arg(c.label(), c.hook).arg(c.priority);
        if (sureHit) {
            const QString by = sureHit->chain == c.label()
                                   ? ruleWords(*sureHit)
                                   : u"%1 in %2"_s.arg(ruleWords(*sureHit), sureHit->chain);
            drops.append(make(
                dropKey, problem,
                u"The chain %1 of another table drops this forward's traffic (%2): %3. An accept "
                u"in "
                "Portico's own table does not stop another table's chain from dropping a "
                "packet."_s.arg(where, sureWhat, by),
                u"Allow the forward's traffic in that table (for example a rule 'ct status dnat "
                "accept' early in %1), or change the firewall that owns the table "
                "(firewalld, Docker, ...) to allow it."_s.arg(c.label()),
                c.label()));
        } else if (maybeHit) {
            const QString by = maybeHit->chain == c.label()
                                   ? ruleWords(*maybeHit)
                                   : u"%1 in %2"_s.arg(ruleWords(*maybeHit), maybeHit->chain);
            drops.append(
                make(dropKey, warning,
                     u"The chain %1 of another table may drop this forward's traffic (%2): %3, "
                     u"depending on "
                     "matches Portico cannot decide for these packets."_s.arg(where, maybeWhat, by),
                     u"Check that chain (nft list chain %1), or trace the forward to see what "
                     "happens."_s.arg(c.label()),
                     c.label()));
        }

        // DNAT: a foreign nat chain at prerouting that runs before ours takes the connection.
        if (c.type != "nat"_L1 || (c.hook != "prerouting"_L1 && c.hook != "output"_L1))
            continue;
        if (c.hook == "output"_L1)
            continue; // the gateway's own connections: not the forward's clients
        if (c.priority > ourDnatPriority)
            continue;
        std::optional<Hit> sure, maybe;
        for (bool v6 : families) {
            if (!chainSeesFamily(c, v6))
                continue;
            for (int proto : protos) {
                Packet p;
                p.v6 = v6;
                p.protocol = proto;
                p.sport = PortRange{1024, 65535}; // as packetsAt()
                for (const Cidr &s : f.sources) {
                    if ((s.address.protocol() == QHostAddress::IPv6Protocol) == v6)
                        p.saddr.append(s);
                }
                if (!f.externalAddress.isNull())
                    p.daddr = {hostCidr(f.externalAddress)};
                p.dport = f.externalPort;
                p.iif = f.interface;
                const Walk w = walkBase(c, p, Mode::Dnat, index);
                if (w.definite() && c.priority < ourDnatPriority)
                    sure = sure ? sure : w.hit;
                else if (w.hit)
                    maybe = maybe ? maybe : w.hit;
            }
        }
        if (sure) {
            dnats.append(make(
                dnatKey, problem,
                u"The nat chain %1 of another table runs before Portico's (priority %2) and "
                "redirects the same port with %3, so the connections never reach Portico's "
                "DNAT."_s.arg(where)
                    .arg(ourDnatPriority)
                    .arg(ruleWords(*sure)),
                u"Remove that rule, or use another external port for this forward."_s, c.label()));
        } else if (maybe) {
            const QString order =
                c.priority == ourDnatPriority
                    ? u"runs at the same priority as Portico's (%1), in an order the kernel "
                      "does not promise,"_s.arg(ourDnatPriority)
                    : u"runs before Portico's (priority %1)"_s.arg(ourDnatPriority);
            dnats.append(
                make(dnatKey, warning,
                     u"The nat chain %1 of another table %2 and may redirect this "
                     "forward's connections with %3."_s.arg(where, order, ruleWords(*maybe)),
                     u"Check that chain (nft list chain %1); if it takes the port, "
                     "remove its rule or use another external port."_s.arg(c.label()),
                     c.label()));
        }
    }
    if (drops.isEmpty()) {
        const QString checked = checkedChains == 0
                                    ? u"no other table has a base chain there"_s
                                    : u"%1 %2 of %3 %4 checked"_s.arg(checkedChains)
                                          .arg(checkedChains == 1 ? u"chain"_s : u"chains"_s)
                                          .arg(tables.size())
                                          .arg(tables.size() == 1 ? u"table"_s : u"tables"_s);
        drops.append(make(dropKey, ok,
                          u"No other table's chain at %1 drops this forward's traffic (%2)."_s.arg(
                              hooksWords(f), checked)));
    }
    if (dnats.isEmpty())
        dnats.append(make(dnatKey, ok,
                          u"No other table's nat chain takes port %1 before Portico does."_s.arg(
                              f.externalPort.toString())));
    out->append(drops);
    out->append(dnats);
}

void checkLocalListener(const Forward &f, const DiagnosisFacts &facts, QList<Finding> *out) {
    const QString key = u"local_listener"_s;
    if (!facts.listenersError.isEmpty()) {
        out->append(
            make(key, warning,
                 u"Portico could not list the listening sockets: %1"_s.arg(facts.listenersError),
                 u"Check with ss -ltnu."_s));
        return;
    }
    QList<Finding> found;
    const QList<bool> families = familiesOf(f);
    if (f.isLocalRedirect()) {
        QList<Listener> target;
        for (bool v6 : families)
            target += listenersOn(facts, f, targetPorts(f), v6);
        if (target.isEmpty())
            found.append(make(key, problem,
                              u"Nothing on this host listens on %1 port %2, the target of the "
                              "redirect, so the connections are refused."_s.arg(
                                  protocolWords(f), targetPorts(f).toString()),
                              u"Start the service, or correct the target port: porticoctl "
                              "update '%1' --to :PORT."_s.arg(f.name)));
        else
            found.append(make(key, ok,
                              u"A service listens on the target port (%1)."_s.arg(
                                  describeAll(target).join(u", "_s))));
    }
    // A service of the gateway on the external port: the forward takes its connections.
    if (!(f.isLocalRedirect() && targetPorts(f) == f.externalPort)) {
        QList<Listener> shadowed;
        for (bool v6 : families) {
            for (const Listener &l : listenersOn(facts, f, f.externalPort, v6)) {
                if (l.isLoopback())
                    continue; // the forward skips loopback destinations
                if (!f.externalAddress.isNull() && !l.isWildcard() &&
                    l.address != f.externalAddress)
                    continue;
                shadowed.append(l);
            }
        }
        if (!shadowed.isEmpty())
            found.append(make(key, warning,
                              u"A service on this host listens on the forward's external port "
                              "(%1). The forward takes the connections to %2 that it matches, "
                              "so those clients cannot reach that service."_s.arg(
                                  describeAll(shadowed).join(u", "_s), externalText(f)),
                              u"Move the service or the forward to another port, or narrow the "
                              "forward with --in, --on or --from."_s));
        else if (!f.isLocalRedirect())
            found.append(make(key, ok, u"No service on this host listens on the external port."_s));
    }
    out->append(found);
}

// --- the reader's view of a rule, as conditions ------------------------------------------

int protocolNumber(const QString &v) {
    if (v == "tcp"_L1)
        return IPPROTO_TCP;
    if (v == "udp"_L1)
        return IPPROTO_UDP;
    if (v == "icmp"_L1)
        return IPPROTO_ICMP;
    if (v == "icmpv6"_L1 || v == "ipv6-icmp"_L1)
        return IPPROTO_ICMPV6;
    if (v == "sctp"_L1)
        return IPPROTO_SCTP;
    bool ok = false;
    const int n = v.toInt(&ok);
    return ok ? n : -1;
}

// "198.51.100.10" or "198.51.100.0/24"; false for a range "a-b" or anything else.
bool parseNet(const QString &v, Cidr *out) {
    const qsizetype slash = v.indexOf(u'/');
    QHostAddress a(slash < 0 ? v : v.left(slash));
    if (a.isNull())
        return false;
    int len = a.protocol() == QHostAddress::IPv6Protocol ? 128 : 32;
    if (slash >= 0) {
        bool ok = false;
        len = v.mid(slash + 1).toInt(&ok);
        if (!ok)
            return false;
    }
    *out = Cidr{QHostAddress(a), len};
    // Host bits cleared, as Cidr::contains expects.
    if (a.protocol() == QHostAddress::IPv4Protocol) {
        const quint32 mask = len == 0 ? 0 : ~quint32(0) << (32 - len);
        out->address = QHostAddress(a.toIPv4Address() & mask);
    } else {
        Q_IPV6ADDR b = a.toIPv6Address();
        for (int i = 0; i < 16; ++i) {
            const int bits = std::clamp(len - i * 8, 0, 8);
            b.c[i] &= quint8(0xff00 >> bits);
        }
        out->address = QHostAddress(b);
    }
    return true;
}

diag::Condition conditionOf(const RuleMatch &m) {
    using F = RuleMatch::Field;
    using K = diag::Condition;
    diag::Condition c;
    c.negate = m.negated;
    c.text = RuleMatch::fieldName(m.field) + (m.negated ? u" != "_s : u" "_s);
    if (!m.values.isEmpty())
        c.text += m.values.join(u',');
    for (const auto &[lo, hi] : m.ports)
        c.text += (c.text.endsWith(u' ') ? QString() : u","_s) +
                  (lo == hi ? QString::number(lo) : u"%1-%2"_s.arg(lo).arg(hi));
    switch (m.field) {
    case F::L4Proto:
        c.kind = K::L4Proto;
        for (const QString &v : m.values) {
            const int n = protocolNumber(v);
            if (n < 0)
                c.kind = K::Unknown;
            c.protocols.append(n);
        }
        break;
    case F::DPort:
    case F::SPort:
        c.kind = m.field == F::DPort ? K::DPort : K::SPort;
        for (const auto &[lo, hi] : m.ports)
            c.ports.append(PortRange{lo, hi});
        break;
    case F::DAddr:
    case F::SAddr:
        c.kind = m.field == F::DAddr ? K::DAddr : K::SAddr;
        for (const QString &v : m.values) {
            Cidr net;
            if (!parseNet(v, &net)) {
                c.kind = K::Unknown;
                break;
            }
            c.nets.append(net);
        }
        break;
    case F::IifName:
    case F::OifName:
        c.kind = m.field == F::IifName ? K::Iif : K::Oif;
        c.names = m.values;
        break;
    case F::CtState: {
        c.kind = K::CtState;
        static const QHash<QString, quint32> bits = {{u"invalid"_s, 1},
                                                     {u"established"_s, 2},
                                                     {u"related"_s, 4},
                                                     {u"new"_s, 8},
                                                     {u"untracked"_s, 64}};
        for (const QString &v : m.values)
            c.bits |= bits.value(v);
        break;
    }
    case F::CtStatus:
        // Only `ct status dnat` says something about our flows: every one of them is DNATed.
        c.kind = m.values == QStringList{u"dnat"_s} ? K::CtStatusDnat : K::Unknown;
        break;
    case F::NfProto:
        c.kind = K::NfProto;
        if (m.values.size() != 1)
            c.kind = K::Unknown;
        else
            c.family = m.values.first() == "ipv6"_L1 ? 6 : 4;
        break;
    }
    return c;
}

diag::Rule ruleOf(const RuleView &v) {
    diag::Rule r;
    r.handle = v.handle;
    QStringList words;
    for (const RuleMatch &m : v.matches) {
        r.conditions.append(conditionOf(m));
        words.append(r.conditions.last().text);
    }
    if (v.opaque) {
        diag::Condition unknown;
        unknown.text = u"..."_s;
        r.conditions.append(unknown);
        words.append(unknown.text);
    }
    if (v.natsDestination() || v.snat || v.masquerade) {
        r.verdict = diag::Rule::Nat;
        r.dnat = v.natsDestination();
        words.append(v.dnat       ? u"dnat"_s
                     : v.redirect ? u"redirect"_s
                     : v.snat     ? u"snat"_s
                                  : u"masquerade"_s);
    } else if (v.verdict == "accept"_L1) {
        r.verdict = diag::Rule::Accept;
    } else if (v.dropsOrRejects()) {
        r.verdict = diag::Rule::Drop;
    } else if (v.verdict == "jump"_L1 || v.verdict == "goto"_L1) {
        r.verdict = v.verdict == "jump"_L1 ? diag::Rule::Jump : diag::Rule::Goto;
        r.target = v.target;
    } else if (v.verdict == "return"_L1) {
        r.verdict = diag::Rule::Return;
    } else if (v.verdict == "continue"_L1) {
        r.verdict = diag::Rule::Continue;
    } else {
        r.verdict = diag::Rule::Other;
    }
    if (r.verdict != diag::Rule::Nat && r.verdict != diag::Rule::Continue)
        words.append(v.target.isEmpty() ? v.verdict : v.verdict + u' ' + v.target);
    r.text = words.join(u' ');
    return r;
}

} // namespace

QList<diag::Chain> diagnosisChains(const RulesetSnapshot &snapshot) {
    QList<diag::Chain> out;
    out.reserve(snapshot.chains.size());
    for (const ChainView &v : snapshot.chains) {
        diag::Chain c;
        c.family = v.family;
        c.table = v.table;
        c.name = v.name;
        if (v.base) {
            c.hook = v.hook;
            c.type = v.type;
            c.priority = v.priority;
            c.policyDrop = v.policy == "drop"_L1;
        }
        c.ours = v.ours;
        for (const RuleView &r : v.rules)
            c.rules.append(ruleOf(r));
        out.append(c);
    }
    return out;
}

namespace {

int rank(const QString &severity) {
    return severity == problem ? 0 : severity == warning ? 1 : 2;
}

int readInt(const QString &path, bool *ok) {
    QFile file(path);
    *ok = false;
    if (!file.open(QIODevice::ReadOnly))
        return 0;
    return file.readAll().trimmed().toInt(ok);
}

} // namespace

Diagnosis::Diagnosis(const QString &procSys, const QString &procNet)
    : m_procSys(procSys)
    , m_procNet(procNet) {}

QList<Finding> Diagnosis::evaluate(const Forward &f, const DiagnosisFacts &facts) {
    QList<Finding> out;
    checkEnabled(f, &out);
    checkIpForward(f, facts, &out);
    checkRoute(f, facts, &out);
    checkReturnPath(f, facts, &out);
    checkHairpin(f, facts, &out);
    checkRouteLocalnet(f, facts, &out);
    checkRpFilter(f, facts, &out);
    checkForeignChains(f, facts, &out);
    checkLocalListener(f, facts, &out);
    std::stable_sort(out.begin(), out.end(), [](const Finding &a, const Finding &b) {
        return rank(a.severity) < rank(b.severity);
    });
    return out;
}

DiagnosisFacts Diagnosis::gather(const Forward &f) const {
    DiagnosisFacts facts;
    IpForwarding fwd;
    if (QString e = IpForwardingSysctl(m_procSys).read(&fwd); e.isEmpty())
        facts.forwarding = fwd;
    else
        facts.forwardingError = e;

    // Interface names come from our own validation (checkInterfaceName), so they are safe in a
    // path; still, only names that exist are read.
    QStringList ifaces{u"all"_s};
    if (!f.interface.isEmpty()) {
        facts.inboundExists = if_nametoindex(f.interface.toLocal8Bit().constData()) != 0;
        if (facts.inboundExists && !f.interface.contains(u'/') && f.interface != ".."_L1 &&
            f.interface != "."_L1)
            ifaces.append(f.interface);
    }
    for (const QString &i : ifaces) {
        for (const char *name : {"rp_filter", "forwarding", "route_localnet"}) {
            const QString key = u"net/ipv4/conf/%1/%2"_s.arg(i, QLatin1StringView(name));
            bool ok = false;
            const int v = readInt(m_procSys + u'/' + key, &ok);
            if (ok)
                facts.sysctls.insert(key, v);
        }
    }

    RouteLookup routes;
    if (!routes.openError().isEmpty()) {
        facts.routeError = routes.openError();
    } else {
        QString error;
        if (!f.isLocalRedirect())
            facts.target = routes.lookup(f.targetAddress, &error);
        if (!f.externalAddress.isNull())
            facts.external = routes.lookup(f.externalAddress, &error);
        for (const Cidr &s : f.sources)
            facts.sources.append({s, routes.lookup(s.address, &error)});
        facts.defaultRoutes4 = routes.defaultRoutes(AF_INET, &error);
        facts.routeError = error;
    }

    QString listenError;
    facts.listeners = SocketLookup(m_procNet).listeners(&listenError);
    facts.listenersError = listenError;

    RulesetReader reader;
    RulesetSnapshot snapshot;
    if (QString e = reader.read(&snapshot); e.isEmpty()) {
        facts.chains = diagnosisChains(snapshot);
        facts.haveRuleset = true;
    } else {
        facts.rulesetError = e;
    }
    return facts;
}

} // namespace portico
