// SPDX-License-Identifier: GPL-3.0-or-later
// The ruleset compiler: groups enabled forwards by shape and turns each shape into one rule and
// two maps, so that the per-packet cost stays one map lookup however many forwards there are.
//
// The table it describes:
//   v4|v6 [_srcN][_if][_addr] _dnat|_redir  _mark and _nat maps, keyed by
//       [saddr & prefix] . [iifname] . [daddr] . l4proto . dport; one rule per shape in
//       `prerouting`, and in `output` for the interface-less shapes (same maps), most specific
//       first: ct mark set KEY map @S_mark, then dnat/redirect to KEY map @S_nat.
//   counters         marks of enabled forwards, a counter per element, looked up (and so
//                    counted) in `forward` (with accept), `input` and `output_filter`.
//   masquerade_marks / hairpin_marks, with `postrouting` masquerading both, `hairpin` setting
//                    bit 0x01000000 on flows whose DNATed route goes back out the way they came.
// Every rule counts what it matched (a `counter` after its matches), so that each of our chains
// has packet and byte counts for the chain-flow diagram; the per-forward counts are the
// counters set's elements.
#include "ruleset_model.h"

#include <QtEndian>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

namespace portico::ruleset {

int keyFieldLength(KeyField f) {
    switch (f) {
    case KeyField::SrcAddr6:
    case KeyField::DstAddr6:
    case KeyField::IifName:
        return 16;
    default:
        return 4;
    }
}

int dataTypeLength(DataType d) {
    switch (d) {
    case DataType::None:
        return 0;
    case DataType::Mark:
        return 4;
    case DataType::Addr4Port:
        return 8;
    case DataType::Addr6Port:
        return 20;
    case DataType::Port:
        return 2;
    }
    return 0;
}

QString blameKey(Blame b) {
    switch (b) {
    case Blame::None:
        return {};
    case Blame::Id:
        return QStringLiteral("id");
    case Blame::ExternalPort:
        return QStringLiteral("external_port");
    case Blame::Sources:
        return QStringLiteral("sources");
    case Blame::Masquerade:
        return QStringLiteral("masquerade");
    case Blame::Hairpin:
        return QStringLiteral("hairpin");
    }
    return {};
}

QString blameLabel(Blame b) {
    return blameKey(b).replace(QLatin1Char('_'), QLatin1Char(' '));
}

namespace {

// A shape: the part of a forward that decides which key its lookup needs. Source CIDRs go into
// the key masked to their prefix length, one shape per length: a hash lookup per length in use,
// where an interval (pipapo) map would cost the kernel time that grows with the square of its
// size on every apply (measured: 3 s for 10,000 forwards with sources).
struct Shape {
    bool ipv6 = false;
    bool iface = false;
    bool address = false;
    bool redirect = false;
    int prefix = -1; // source prefix length, -1 for a shape without sources

    bool sources() const { return prefix >= 0; }
    int code() const {
        return int(ipv6) | int(iface) << 1 | int(address) << 2 | int(redirect) << 3 |
               (prefix + 1) << 4;
    }
    static Shape fromCode(int c) {
        return {bool(c & 1), bool(c & 2), bool(c & 4), bool(c & 8), (c >> 4) - 1};
    }
    int specificity() const { return int(sources()) * 4 + int(iface) * 2 + int(address); }
    QString name() const {
        QString n = QLatin1String(ipv6 ? "v6" : "v4");
        if (sources())
            n += QLatin1String("_src") + QString::number(prefix);
        if (iface)
            n += QLatin1String("_if");
        if (address)
            n += QLatin1String("_addr");
        n += QLatin1String(redirect ? "_redir" : "_dnat");
        return n;
    }
    QList<KeyField> key() const {
        QList<KeyField> k;
        if (sources())
            k << (ipv6 ? KeyField::SrcAddr6 : KeyField::SrcAddr4);
        if (iface)
            k << KeyField::IifName;
        if (address)
            k << (ipv6 ? KeyField::DstAddr6 : KeyField::DstAddr4);
        k << KeyField::L4Proto << KeyField::DstPort;
        return k;
    }
    // The prefix that the key's source address is masked to; -1 for none (no sources, or a
    // whole address).
    int keyMask() const { return prefix == (ipv6 ? 128 : 32) ? -1 : prefix; }
};

constexpr int shapeCount = 16 * 130;

// Where one forward goes for one family and source prefix length.
struct Placement {
    int forward;
    Shape shape;
};

bool isApplied(const Forward &f, quint32 mark) {
    return f.enabled && mark != 0 && !f.externalPort.isNull();
}

bool isFamily(const Cidr &c, bool v6) {
    return (c.address.protocol() == QHostAddress::IPv6Protocol) == v6;
}

void forEachPlacement(const QList<Forward> &forwards, const std::vector<quint32> &marks,
                      auto &&fn) {
    for (int i = 0; i < forwards.size(); ++i) {
        const Forward &f = forwards.at(i);
        if (!isApplied(f, marks[size_t(i)]))
            continue;
        for (bool v6 : {false, true}) {
            if (v6 ? !f.appliesToIPv6() : !f.appliesToIPv4())
                continue;
            Shape s;
            s.ipv6 = v6;
            s.address = !f.externalAddress.isNull();
            s.redirect = f.isLocalRedirect();
            s.iface = !f.interface.isEmpty();
            // One placement per distinct prefix length of the sources in this family.
            QList<int> prefixes;
            for (const Cidr &c : f.sources) {
                if (isFamily(c, v6) && !prefixes.contains(c.prefixLength))
                    prefixes << c.prefixLength;
            }
            if (f.sources.isEmpty())
                prefixes << -1;
            for (int prefix : prefixes) {
                s.prefix = prefix;
                fn(Placement{i, s});
                // LAN clients arrive on another interface, so a hairpin forward is also looked
                // up without its interface. The output hook (traffic the gateway sends itself)
                // uses exactly these interface-less shapes, so it shares their maps.
                if (s.iface && f.hairpin && !s.redirect) {
                    Shape any = s;
                    any.iface = false;
                    fn(Placement{i, any});
                }
            }
        }
    }
}

void appendU32Host(QByteArray &b, quint32 v) {
    b.append(reinterpret_cast<const char *>(&v), 4);
}

void appendPort(QByteArray &b, quint16 port, int padded) {
    const char bytes[4] = {char(port >> 8), char(port & 0xff), 0, 0};
    b.append(bytes, padded);
}

void appendAddress(QByteArray &b, const QHostAddress &a, bool v6) {
    if (v6) {
        const Q_IPV6ADDR raw = a.toIPv6Address();
        b.append(reinterpret_cast<const char *>(raw.c), 16);
    } else {
        quint32 be = qToBigEndian(a.toIPv4Address());
        b.append(reinterpret_cast<const char *>(&be), 4);
    }
}

// First and last address of a CIDR, in network byte order.
void cidrBounds(const Cidr &c, bool v6, QByteArray &first, QByteArray &last) {
    first.clear();
    appendAddress(first, c.address, v6);
    last = first;
    const int bits = v6 ? 128 : 32;
    for (int bit = std::max(c.prefixLength, 0); bit < bits; ++bit) {
        first[bit / 8] = char(uchar(first[bit / 8]) & ~(0x80 >> (bit % 8)));
        last[bit / 8] = char(uchar(last[bit / 8]) | (0x80 >> (bit % 8)));
    }
}

QList<quint8> protocolNumbers(Protocol p) {
    switch (p) {
    case Protocol::Tcp:
        return {6};
    case Protocol::Udp:
        return {17};
    case Protocol::TcpUdp:
        return {6, 17};
    }
    return {};
}

// Hash sets are sized up front: the kernel then picks its fixed-size hash, whose inserts never
// wait for a resize. Twice the need leaves room for adding forwards one at a time.
quint32 capacityFor(qsizetype n) {
    return std::max<quint32>(1024, std::bit_ceil(quint32(n) * 2));
}

Set makeSet(const QString &name, QList<KeyField> key, DataType data, Blame blame) {
    Set s;
    s.name = name;
    s.key = std::move(key);
    s.data = data;
    s.blame = blame;
    for (KeyField f : s.key)
        s.keyLength += keyFieldLength(f);
    s.dataLength = dataTypeLength(data);
    return s;
}

} // namespace

Model compileLayout(const Layout &layout) {
    Model m;
    if (layout.enabled > 0) {
        // Per-element counters rather than named counter objects: a counter object costs the
        // kernel several times what an element does (measured: 10,000 of them tripled the
        // apply time), and reading them back is one dump either way.
        m.sets << makeSet(QStringLiteral("counters"), {}, DataType::None, Blame::Id);
        m.sets.last().keyLength = 4; // a mark
        m.sets.last().counter = true;
        m.sets.last().capacity = capacityFor(layout.enabled);
    }
    const int countersSet = layout.enabled > 0 ? 0 : -1;
    int masqueradeSet = -1, hairpinSet = -1;
    if (layout.masquerade) {
        masqueradeSet = int(m.sets.size());
        m.sets << makeSet(QStringLiteral("masquerade_marks"), {}, DataType::None,
                          Blame::Masquerade);
        m.sets.last().keyLength = 4;
        m.sets.last().capacity = capacityFor(layout.enabled);
    }
    if (layout.hairpin) {
        hairpinSet = int(m.sets.size());
        m.sets << makeSet(QStringLiteral("hairpin_marks"), {}, DataType::None, Blame::Hairpin);
        m.sets.last().keyLength = 4;
        m.sets.last().capacity = capacityFor(layout.enabled);
    }

    // Most specific shape first: a lookup that hits ends the chain (NAT accepts), so a forward
    // restricted to some sources must be tried before the catch-all on the same port.
    std::vector<qsizetype> shapeElements(shapeCount);
    QList<Shape> shapes;
    for (const auto &[code, n] : layout.shapes) {
        if (code >= 0 && code < shapeCount && n > 0 && shapeElements[size_t(code)] == 0) {
            shapeElements[size_t(code)] = n;
            shapes << Shape::fromCode(code);
        }
    }
    std::sort(shapes.begin(), shapes.end(), [](const Shape &a, const Shape &b) {
        if (a.specificity() != b.specificity())
            return a.specificity() > b.specificity();
        if (a.prefix != b.prefix)
            return a.prefix > b.prefix;
        if (a.ipv6 != b.ipv6)
            return !a.ipv6;
        if (a.redirect != b.redirect)
            return a.redirect < b.redirect;
        return a.code() < b.code();
    });

    Chain prerouting{QStringLiteral("prerouting"), true, Hook::Prerouting, -100, {}};
    Chain output{QStringLiteral("output"), true, Hook::Output, -100, {}};
    // One rule per shape and hook; the anonymous `{ tcp, udp }` belongs to its rule, as in nft.
    auto shapeRule = [&m](const Shape &s, int markSet, int natSet, bool output) {
        const QList<KeyField> key = s.key();
        Rule rule;
        rule.statements << Statement{StmtKind::Nfproto, -1, s.ipv6};
        // The gateway's own talk to localhost (its DNS stub on 127.0.0.53, say) is not aimed at
        // a forward; only traffic to its real addresses is.
        if (output && !s.address)
            rule.statements << Statement{StmtKind::NotLoopback, -1, s.ipv6};
        if (!s.address)
            rule.statements << Statement{StmtKind::FibDaddrLocal};
        // nft refuses a port mapping without a transport match unless the map's value is a
        // concatenation; a redirect needs it spelled out.
        if (s.redirect) {
            Set any = makeSet(QStringLiteral("__set%d"), {KeyField::L4Proto}, DataType::None,
                              Blame::None);
            any.anonymous = true;
            any.keyLength = 1;
            for (char proto : {char(6), char(17)}) {
                any.keys.append(proto);
                any.owners.push_back(-1);
            }
            rule.statements << Statement{StmtKind::L4ProtoInSet, int(m.sets.size())};
            m.sets << any;
        }
        rule.statements << Statement{StmtKind::CtMarkSetMap, markSet, false, key, s.keyMask()};
        // After the mark map's lookup, which ends the rule on a miss: only hits are counted.
        rule.statements << Statement{StmtKind::Counter};
        rule.statements << Statement{s.redirect ? StmtKind::RedirectMap : StmtKind::DnatMap, natSet,
                                     s.ipv6, key, s.keyMask()};
        return rule;
    };
    for (const Shape &s : shapes) {
        const QList<KeyField> key = s.key();
        const Blame blame = s.sources() ? Blame::Sources : Blame::ExternalPort;
        const DataType natType = s.redirect ? DataType::Port
                                 : s.ipv6   ? DataType::Addr6Port
                                            : DataType::Addr4Port;
        Set markSet = makeSet(s.name() + QLatin1String("_mark"), key, DataType::Mark, blame);
        Set natSet = makeSet(s.name() + QLatin1String("_nat"), key, natType, blame);
        const qsizetype n = shapeElements[size_t(s.code())];
        for (Set *set : {&markSet, &natSet}) {
            set->capacity = capacityFor(n);
            set->shape = s.code();
        }
        const int markIndex = int(m.sets.size());
        m.sets << markSet;
        const int natIndex = int(m.sets.size());
        m.sets << natSet;
        prerouting.rules << shapeRule(s, markIndex, natIndex, false);
        if (!s.iface)
            output.rules << shapeRule(s, markIndex, natIndex, true);
    }

    Chain hairpin{QStringLiteral("hairpin"), false, Hook::Prerouting, -90, {}};
    if (hairpinSet >= 0) {
        // After DNAT: the route to the new destination leaves through the interface the packet
        // came in on exactly when client and target share a side, which needs masquerading.
        hairpin.rules << Rule{{{StmtKind::CtStateNew},
                               {StmtKind::CtStatusDnat},
                               {StmtKind::CtMarkInSet, hairpinSet},
                               {StmtKind::FibHairpin},
                               {StmtKind::Counter},
                               {StmtKind::CtMarkSetHairpin}}};
    }
    Chain forward{QStringLiteral("forward"), false, Hook::Forward, 0, {}};
    Chain input{QStringLiteral("input"), false, Hook::Input, 0, {}};
    Chain outputFilter{QStringLiteral("output_filter"), false, Hook::Output, 0, {}};
    if (countersSet >= 0) {
        const Rule count{{{StmtKind::CtStatusDnat},
                          {StmtKind::MaskedMarkInSet, countersSet},
                          {StmtKind::Counter}}};
        Rule countAccept = count;
        countAccept.statements << Statement{StmtKind::Accept};
        forward.rules << countAccept;
        input.rules << count;
        outputFilter.rules << count;
    }
    Chain postrouting{QStringLiteral("postrouting"), true, Hook::Postrouting, 100, {}};
    if (masqueradeSet >= 0) {
        postrouting.rules << Rule{{{StmtKind::CtStatusDnat},
                                   {StmtKind::MaskedMarkInSet, masqueradeSet},
                                   {StmtKind::Counter},
                                   {StmtKind::Masquerade}}};
    }
    if (hairpinSet >= 0) {
        postrouting.rules << Rule{{{StmtKind::CtStatusDnat},
                                   {StmtKind::HairpinBitSet},
                                   {StmtKind::Counter},
                                   {StmtKind::Masquerade}}};
    }

    m.chains = {prerouting, output, hairpin, forward, input, outputFilter, postrouting};
    quint32 id = 1;
    for (Set &s : m.sets)
        s.id = id++;
    return m;
}

Model compile(const QList<Forward> &forwards) {
    std::vector<quint32> marks;
    marks.reserve(size_t(forwards.size()));
    for (const Forward &f : forwards)
        marks.push_back(f.mark());

    // Pass 1: which shapes and side sets are used, so that only those are created.
    std::vector<qsizetype> shapeElements(shapeCount);
    forEachPlacement(forwards, marks, [&](const Placement &p) {
        const Forward &f = forwards.at(p.forward);
        qsizetype n = f.externalPort.length() * protocolNumbers(f.protocol).size();
        if (p.shape.sources())
            n *= f.sources.size();
        shapeElements[size_t(p.shape.code())] += n;
    });
    Layout layout;
    for (int i = 0; i < forwards.size(); ++i) {
        const Forward &f = forwards.at(i);
        if (!isApplied(f, marks[size_t(i)]))
            continue;
        ++layout.enabled;
        layout.masquerade |= f.masquerade && !f.isLocalRedirect();
        layout.hairpin |= f.hairpin && !f.isLocalRedirect();
    }
    for (int c = 0; c < shapeCount; ++c) {
        if (shapeElements[size_t(c)] > 0)
            layout.shapes.emplace_back(c, shapeElements[size_t(c)]);
    }

    Model m = compileLayout(layout);
    m.forwardIds.reserve(forwards.size());
    m.forwardNames.reserve(forwards.size());
    for (const Forward &f : forwards) {
        m.forwardIds << f.id;
        m.forwardNames << f.name;
    }
    std::vector<int> markSetOf(shapeCount, -1), natSetOf(shapeCount, -1);
    int countersSet = -1, masqueradeSet = -1, hairpinSet = -1;
    for (int i = 0; i < m.sets.size(); ++i) {
        Set &set = m.sets[i];
        if (set.shape >= 0) {
            (set.data == DataType::Mark ? markSetOf : natSetOf)[size_t(set.shape)] = i;
            const qsizetype n = shapeElements[size_t(set.shape)];
            set.keys.reserve(n * set.keyLength);
            set.values.reserve(n * set.dataLength);
            set.owners.reserve(size_t(n));
        } else if (set.name == QLatin1String("counters")) {
            countersSet = i;
        } else if (set.name == QLatin1String("masquerade_marks")) {
            masqueradeSet = i;
        } else if (set.name == QLatin1String("hairpin_marks")) {
            hairpinSet = i;
        }
    }

    // Pass 2: the elements, appended forward by forward so each forward's run is contiguous.
    QByteArray keyBuf, first, last;
    forEachPlacement(forwards, marks, [&](const Placement &p) {
        const Forward &f = forwards.at(p.forward);
        const Shape &s = p.shape;
        Set &markSet = m.sets[markSetOf[size_t(s.code())]];
        Set &natSet = m.sets[natSetOf[size_t(s.code())]];
        const quint32 mark = marks[size_t(p.forward)];
        // The forward's sources of this family and prefix length, as masked network addresses
        // (a duplicate would be refused by the kernel as an existing element).
        QList<QByteArray> sources;
        if (s.sources()) {
            for (const Cidr &c : f.sources) {
                if (isFamily(c, s.ipv6) && c.prefixLength == s.prefix) {
                    cidrBounds(c, s.ipv6, first, last);
                    if (!sources.contains(first))
                        sources << first;
                }
            }
        } else {
            sources << QByteArray();
        }
        QByteArray ifname(16, '\0');
        if (s.iface) {
            const QByteArray name = f.interface.toLatin1().left(15);
            std::memcpy(ifname.data(), name.constData(), size_t(name.size()));
        }
        const QList<quint8> protos = protocolNumbers(f.protocol);
        for (const QByteArray &src : sources) {
            for (quint8 proto : protos) {
                for (int port = f.externalPort.first; port <= f.externalPort.last; ++port) {
                    keyBuf.resize(0); // keeps the capacity
                    keyBuf.append(src);
                    if (s.iface)
                        keyBuf.append(ifname);
                    if (s.address)
                        appendAddress(keyBuf, f.externalAddress, s.ipv6);
                    const char protoBytes[4] = {char(proto), 0, 0, 0};
                    keyBuf.append(protoBytes, 4);
                    appendPort(keyBuf, quint16(port), 4);
                    for (Set *set : {&markSet, &natSet}) {
                        set->keys.append(keyBuf);
                        set->owners.push_back(p.forward);
                    }
                    appendU32Host(markSet.values, mark);
                    const quint16 target = f.targetPortFor(quint16(port));
                    if (s.redirect) {
                        appendPort(natSet.values, target, 2);
                    } else {
                        appendAddress(natSet.values, f.targetAddress, s.ipv6);
                        appendPort(natSet.values, target, 4);
                    }
                }
            }
        }
    });

    // Counters, masquerade and hairpin marks: one element per enabled forward.
    for (int i = 0; i < forwards.size(); ++i) {
        const Forward &f = forwards.at(i);
        const quint32 mark = marks[size_t(i)];
        if (!isApplied(f, mark))
            continue;
        Set &counters = m.sets[countersSet];
        appendU32Host(counters.keys, mark);
        counters.owners.push_back(i);
        if (f.masquerade && !f.isLocalRedirect()) {
            appendU32Host(m.sets[masqueradeSet].keys, mark);
            m.sets[masqueradeSet].owners.push_back(i);
        }
        if (f.hairpin && !f.isLocalRedirect()) {
            appendU32Host(m.sets[hairpinSet].keys, mark);
            m.sets[hairpinSet].owners.push_back(i);
        }
    }

    return m;
}

} // namespace portico::ruleset
