// SPDX-License-Identifier: GPL-3.0-or-later
// The nft text of a compiled model: what `porticoctl ruleset` shows and `nft -f` can load.
#include "ruleset_model.h"
#include "ruleset_writer.h"

#include <QtEndian>

#include <arpa/inet.h>

#include <cstring>

namespace portico::ruleset {

namespace {

QString keyFieldType(KeyField f) {
    switch (f) {
    case KeyField::SrcAddr4:
    case KeyField::DstAddr4:
        return QStringLiteral("ipv4_addr");
    case KeyField::SrcAddr6:
    case KeyField::DstAddr6:
        return QStringLiteral("ipv6_addr");
    case KeyField::IifName:
        return QStringLiteral("ifname");
    case KeyField::L4Proto:
        return QStringLiteral("inet_proto");
    case KeyField::DstPort:
        return QStringLiteral("inet_service");
    }
    return {};
}

QString keyFieldExpr(KeyField f) {
    switch (f) {
    case KeyField::SrcAddr4:
        return QStringLiteral("ip saddr");
    case KeyField::SrcAddr6:
        return QStringLiteral("ip6 saddr");
    case KeyField::DstAddr4:
        return QStringLiteral("ip daddr");
    case KeyField::DstAddr6:
        return QStringLiteral("ip6 daddr");
    case KeyField::IifName:
        return QStringLiteral("iifname");
    case KeyField::L4Proto:
        return QStringLiteral("meta l4proto");
    case KeyField::DstPort:
        return QStringLiteral("th dport");
    }
    return {};
}

QString dataTypeName(DataType d) {
    switch (d) {
    case DataType::None:
        return {};
    case DataType::Mark:
        return QStringLiteral("mark");
    case DataType::Addr4Port:
        return QStringLiteral("ipv4_addr . inet_service");
    case DataType::Addr6Port:
        return QStringLiteral("ipv6_addr . inet_service");
    case DataType::Port:
        return QStringLiteral("inet_service");
    }
    return {};
}

QString joinKey(const QList<KeyField> &key, QString (*fn)(KeyField)) {
    QStringList parts;
    for (KeyField f : key)
        parts << fn(f);
    return parts.join(QLatin1String(" . "));
}

QString address(const char *p, bool v6) {
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(v6 ? AF_INET6 : AF_INET, p, buf, sizeof buf);
    return QString::fromLatin1(buf);
}

quint16 port(const char *p) {
    return quint16(uchar(p[0]) << 8 | uchar(p[1]));
}

QString proto(uchar p) {
    if (p == 6)
        return QStringLiteral("tcp");
    if (p == 17)
        return QStringLiteral("udp");
    return QString::number(p);
}

QString mark(const char *p) {
    quint32 v;
    std::memcpy(&v, p, 4);
    return QStringLiteral("0x%1").arg(v, 8, 16, QLatin1Char('0'));
}

QString elementKey(const Set &s, qsizetype i) {
    QStringList parts;
    const char *p = s.keyAt(i);
    for (KeyField f : s.key) {
        switch (f) {
        case KeyField::SrcAddr4:
        case KeyField::DstAddr4:
            parts << address(p, false);
            break;
        case KeyField::SrcAddr6:
        case KeyField::DstAddr6:
            parts << address(p, true);
            break;
        case KeyField::IifName:
            parts << QLatin1Char('"') + QString::fromLatin1(p, qstrnlen(p, 16)) + QLatin1Char('"');
            break;
        case KeyField::L4Proto:
            parts << proto(uchar(p[0]));
            break;
        case KeyField::DstPort:
            parts << QString::number(port(p));
            break;
        }
        p += keyFieldLength(f);
    }
    if (s.key.isEmpty()) // a plain mark
        parts << mark(p);
    return parts.join(QLatin1String(" . "));
}

QString elementValue(const Set &s, qsizetype i) {
    const char *v = s.valueAt(i);
    switch (s.data) {
    case DataType::None:
        return {};
    case DataType::Mark:
        return mark(v);
    case DataType::Addr4Port:
        return address(v, false) + QLatin1String(" . ") + QString::number(port(v + 4));
    case DataType::Addr6Port:
        return address(v, true) + QLatin1String(" . ") + QString::number(port(v + 16));
    case DataType::Port:
        return QString::number(port(v));
    }
    return {};
}

QString anonymousSet(const Set &s) {
    QStringList items;
    for (qsizetype i = 0; i < s.size(); ++i)
        items << proto(uchar(s.keyAt(i)[0]));
    return QLatin1String("{ ") + items.join(QLatin1String(", ")) + QLatin1String(" }");
}

// A prefix length as the mask nft writes after `&`: 255.255.255.0, ffff:ffff:ffff::.
QString maskText(int prefix, bool v6) {
    QByteArray bytes(v6 ? 16 : 4, '\0');
    for (int bit = 0; bit < prefix; ++bit)
        bytes[bit / 8] = char(uchar(bytes[bit / 8]) | (0x80 >> (bit % 8)));
    return address(bytes.constData(), v6);
}

QString keyExpr(const Statement &st) {
    QStringList parts;
    for (KeyField f : st.key) {
        QString part = keyFieldExpr(f);
        if (st.sourceMask >= 0 && (f == KeyField::SrcAddr4 || f == KeyField::SrcAddr6))
            part += QLatin1String(" & ") + maskText(st.sourceMask, f == KeyField::SrcAddr6);
        parts << part;
    }
    return parts.join(QLatin1String(" . "));
}

QString statement(const Model &m, const Statement &st) {
    const QString setRef = st.set >= 0 ? QLatin1Char('@') + m.sets.at(st.set).name : QString();
    const QString key = keyExpr(st);
    switch (st.kind) {
    case StmtKind::Nfproto:
        return QLatin1String(st.ipv6 ? "meta nfproto ipv6" : "meta nfproto ipv4");
    case StmtKind::L4ProtoInSet:
        return QLatin1String("meta l4proto ") + anonymousSet(m.sets.at(st.set));
    case StmtKind::FibDaddrLocal:
        return QStringLiteral("fib daddr type local");
    case StmtKind::NotLoopback:
        return QLatin1String(st.ipv6 ? "ip6 daddr != ::1" : "ip daddr != 127.0.0.0/8");
    case StmtKind::CtMarkSetMap:
        return QLatin1String("ct mark set ") + key + QLatin1String(" map ") + setRef;
    case StmtKind::DnatMap:
        return QLatin1String(st.ipv6 ? "dnat ip6 to " : "dnat ip to ") + key +
               QLatin1String(" map ") + setRef;
    case StmtKind::RedirectMap:
        return QLatin1String("redirect to : ") + key + QLatin1String(" map ") + setRef;
    case StmtKind::CtStateNew:
        return QStringLiteral("ct state new");
    case StmtKind::CtStatusDnat:
        return QStringLiteral("ct status dnat");
    case StmtKind::CtMarkInSet:
        return QLatin1String("ct mark ") + setRef;
    case StmtKind::FibHairpin:
        return QStringLiteral("fib daddr . iif oif != 0");
    case StmtKind::CtMarkSetHairpin:
        return QStringLiteral("ct mark set ct mark | 0x01000000");
    case StmtKind::MaskedMarkInSet:
        return QLatin1String("ct mark & 0x00ffffff ") + setRef;
    case StmtKind::HairpinBitSet:
        return QStringLiteral("ct mark & 0x01000000 == 0x01000000");
    case StmtKind::Masquerade:
        return QStringLiteral("masquerade");
    case StmtKind::Accept:
        return QStringLiteral("accept");
    case StmtKind::Counter:
        return QStringLiteral("counter");
    }
    return {};
}

QString hookName(Hook h) {
    switch (h) {
    case Hook::Prerouting:
        return QStringLiteral("prerouting");
    case Hook::Input:
        return QStringLiteral("input");
    case Hook::Forward:
        return QStringLiteral("forward");
    case Hook::Output:
        return QStringLiteral("output");
    case Hook::Postrouting:
        return QStringLiteral("postrouting");
    }
    return {};
}

} // namespace

QString renderText(const Model &m) {
    QString out;
    out.reserve(256 + m.sets.size() * 256);
    // Declaring the table first makes the delete succeed whether or not it existed, so the
    // file replaces our table whole, as apply() does.
    out += QLatin1String("table inet portico\ndelete table inet portico\ntable inet portico {\n");
    for (const Set &s : m.sets) {
        if (s.anonymous)
            continue;
        const bool isMap = s.data != DataType::None;
        out += QLatin1String(isMap ? "\tmap " : "\tset ") + s.name + QLatin1String(" {\n");
        out += QLatin1String("\t\ttype ") +
               (s.key.isEmpty() ? QStringLiteral("mark") : joinKey(s.key, keyFieldType));
        if (isMap)
            out += QLatin1String(" : ") + dataTypeName(s.data);
        out += QLatin1Char('\n');
        if (s.capacity > 0)
            out += QLatin1String("\t\tsize ") + QString::number(s.capacity) + QLatin1Char('\n');
        if (s.counter)
            out += QLatin1String("\t\tcounter\n");
        if (s.size() > 0) {
            out += QLatin1String("\t\telements = { ");
            for (qsizetype i = 0; i < s.size(); ++i) {
                if (i > 0)
                    out += QLatin1String(",\n\t\t\t     ");
                out += elementKey(s, i);
                if (isMap)
                    out += QLatin1String(" : ") + elementValue(s, i);
            }
            out += QLatin1String(" }\n");
        }
        out += QLatin1String("\t}\n");
    }
    for (const Chain &c : m.chains) {
        out += QLatin1String("\tchain ") + c.name + QLatin1String(" {\n\t\ttype ") +
               QLatin1String(c.nat ? "nat" : "filter") + QLatin1String(" hook ") +
               hookName(c.hook) + QLatin1String(" priority ") + QString::number(c.priority) +
               QLatin1String("; policy accept;\n");
        for (const Rule &r : c.rules) {
            QStringList parts;
            for (const Statement &st : r.statements)
                parts << statement(m, st);
            out += QLatin1String("\t\t") + parts.join(QLatin1Char(' ')) + QLatin1Char('\n');
        }
        out += QLatin1String("\t}\n");
    }
    out += QLatin1String("}\n");
    return out;
}

} // namespace portico::ruleset

namespace portico {

QString renderRuleset(const QList<Forward> &forwards) {
    return ruleset::renderText(ruleset::compile(forwards));
}

} // namespace portico
