// SPDX-License-Identifier: GPL-3.0-or-later
// The field parsers and the consistency rules for one forward and for a whole set of forwards.
#include "validation.h"

#include <QHash>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

namespace portico {

namespace {

constexpr int maxNameLength = 64;
constexpr int maxCommentLength = 256; // NFT_USERDATA_MAXLEN: the comment may go into the kernel
constexpr int maxInterfaceBytes = 15; // IFNAMSIZ - 1
constexpr int maxSources = 64;

QString quoted(const QString &s) {
    return QLatin1Char('\'') + s + QLatin1Char('\'');
}

bool isControl(char32_t c) {
    return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029;
}

// Walks the code points of s without allocating (this runs for every forward of a large set).
template <typename F> qsizetype forEachCodePoint(QStringView s, F f) {
    qsizetype count = 0;
    for (qsizetype i = 0; i < s.size(); ++i, ++count) {
        char32_t c = s.at(i).unicode();
        if (QChar::isHighSurrogate(c) && i + 1 < s.size() && s.at(i + 1).isLowSurrogate()) {
            c = QChar::surrogateToUcs4(s.at(i).unicode(), s.at(i + 1).unicode());
            ++i;
        }
        if (!f(c))
            return -1;
    }
    return count;
}

qsizetype codePointCount(QStringView s) {
    return forEachCodePoint(s, [](char32_t) { return true; });
}

qsizetype utf8Length(QStringView s) {
    qsizetype bytes = 0;
    forEachCodePoint(s, [&bytes](char32_t c) {
        bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
        return true;
    });
    return bytes;
}

// The first control character of s, if there is one.
std::optional<char32_t> firstControl(QStringView s) {
    std::optional<char32_t> found;
    forEachCodePoint(s, [&found](char32_t c) {
        if (isControl(c)) {
            found = c;
            return false;
        }
        return true;
    });
    return found;
}

bool isUnspecified(const QHostAddress &a) {
    if (a.protocol() == QHostAddress::IPv4Protocol)
        return a.toIPv4Address() == 0;
    const Q_IPV6ADDR bytes = a.toIPv6Address();
    for (int i = 0; i < 16; ++i) {
        if (bytes[i])
            return false;
    }
    return true;
}

bool allDigits(QStringView s) {
    if (s.isEmpty())
        return false;
    for (QChar c : s) {
        if (c < QLatin1Char('0') || c > QLatin1Char('9'))
            return false;
    }
    return true;
}

// Digits only; values too long to hold are reported as out of range, never wrapped.
qint64 digitsValue(QStringView s) {
    qint64 v = 0;
    for (QChar c : s) {
        v = v * 10 + (c.unicode() - '0');
        if (v > 1000000)
            return 1000000;
    }
    return v;
}

QString familyName(QHostAddress::NetworkLayerProtocol p) {
    return p == QHostAddress::IPv6Protocol ? QStringLiteral("IPv6") : QStringLiteral("IPv4");
}

// Qt accepts shortened and octal-looking IPv4 forms ("127.1", "010.0.0.1") that other tools read
// differently, so only a plain dotted quad is an IPv4 address here.
// Four decimal parts of 0-255 without leading zeros, nothing else: QHostAddress alone would
// also take "1.2.3" or "0x7f.1". Gives the address, so that it need not be parsed again.
std::optional<quint32> strictDottedQuad(QStringView s) {
    quint32 value = 0;
    qsizetype i = 0;
    for (int part = 0; part < 4; ++part) {
        if (part > 0) {
            if (i >= s.size() || s[i] != QLatin1Char('.'))
                return std::nullopt;
            ++i;
        }
        const qsizetype start = i;
        uint n = 0;
        while (i < s.size() && i - start < 4 && s[i] >= QLatin1Char('0') &&
               s[i] <= QLatin1Char('9'))
            n = n * 10 + uint(s[i++].unicode() - '0');
        const qsizetype digits = i - start;
        if (digits < 1 || digits > 3 || (digits > 1 && s[start] == QLatin1Char('0')) || n > 255)
            return std::nullopt;
        value = value << 8 | n;
    }
    if (i != s.size())
        return std::nullopt;
    return value;
}

// IPv4 only in the strict form above; IPv6 in any form QHostAddress reads, but only as IPv6.
bool readAddress(QStringView text, QHostAddress *out) {
    if (!text.contains(QLatin1Char(':'))) {
        const std::optional<quint32> v4 = strictDottedQuad(text);
        if (v4)
            *out = QHostAddress(*v4);
        return v4.has_value();
    }
    return out->setAddress(text.toString()) && out->protocol() == QHostAddress::IPv6Protocol;
}

// The unicast rule shared by the parser and by validateForward (which also sees forwards built
// in code, not parsed).
QString checkUnicast(const QHostAddress &a, const QString &what) {
    if (a.protocol() == QHostAddress::IPv4Protocol && !a.isMulticast() && !a.isBroadcast() &&
        a.toIPv4Address() != 0)
        return {}; // the common case, without building the address text
    const QString text = a.toString();
    if (!a.scopeId().isEmpty())
        return QStringLiteral("%1 %2 has a scope id; give the address without '%'").arg(what, text);
    if (a.protocol() != QHostAddress::IPv4Protocol && a.protocol() != QHostAddress::IPv6Protocol)
        return QStringLiteral("%1 %2 is not an IPv4 or IPv6 address").arg(what, text);
    if (a.isMulticast())
        return QStringLiteral("%1 %2 is a multicast address; give a unicast address")
            .arg(what, text);
    if (a.isBroadcast())
        return QStringLiteral("%1 %2 is the broadcast address; give a unicast address")
            .arg(what, text);
    if (isUnspecified(a))
        return QStringLiteral("%1 %2 is the unspecified address; leave the %1 empty instead")
            .arg(what, text);
    if (a.protocol() == QHostAddress::IPv6Protocol) {
        bool mapped = false;
        const quint32 v4 = a.toIPv4Address(&mapped);
        if (mapped)
            return QStringLiteral("%1 %2 is an IPv4-mapped IPv6 address; write it as %3")
                .arg(what, text, QHostAddress(v4).toString());
    }
    return {};
}

// Clears the host bits of `a` beyond `prefix`.
QHostAddress networkOf(const QHostAddress &a, int prefix) {
    if (a.protocol() == QHostAddress::IPv4Protocol) {
        const quint32 mask = prefix == 0 ? 0 : quint32(0xffffffffu << (32 - prefix));
        return QHostAddress(a.toIPv4Address() & mask);
    }
    Q_IPV6ADDR bytes = a.toIPv6Address();
    for (int i = 0; i < 16; ++i) {
        const int bits = std::clamp(prefix - i * 8, 0, 8);
        bytes[i] &= quint8(bits == 0 ? 0 : (0xff << (8 - bits)) & 0xff);
    }
    return QHostAddress(bytes);
}

int maxPrefix(const QHostAddress &a) {
    return a.protocol() == QHostAddress::IPv6Protocol ? 128 : 32;
}

QString checkCidr(const Cidr &c) {
    const QString text = c.toString();
    if (c.address.protocol() != QHostAddress::IPv4Protocol &&
        c.address.protocol() != QHostAddress::IPv6Protocol)
        return QStringLiteral("source %1 is not an IPv4 or IPv6 network").arg(text);
    if (!c.address.scopeId().isEmpty())
        return QStringLiteral("source %1 has a scope id; give the network without '%'").arg(text);
    if (c.prefixLength < 0 || c.prefixLength > maxPrefix(c.address))
        return QStringLiteral("source %1 has a prefix length out of range 0–%2")
            .arg(text)
            .arg(maxPrefix(c.address));
    const QHostAddress net = networkOf(c.address, c.prefixLength);
    if (net != c.address)
        return QStringLiteral("source %1 has host bits set; did you mean %2/%3?")
            .arg(text, net.toString())
            .arg(c.prefixLength);
    return {};
}

QString checkPortRange(const PortRange &r, const QString &what) {
    if (r.first == 0)
        return QStringLiteral("%1 %2 is out of range 1–65535")
            .arg(what, r.toString().isEmpty() ? QStringLiteral("0") : r.toString());
    if (r.last < r.first)
        return QStringLiteral("%1 range %2-%3 is reversed; write %3-%2")
            .arg(what)
            .arg(r.first)
            .arg(r.last);
    return {};
}

QString portsText(const PortRange &r) {
    return r.isRange() ? QStringLiteral("ports %1").arg(r.toString())
                       : QStringLiteral("port %1").arg(r.toString());
}

QString prefixFor(const Forward &f) {
    if (checkName(f.name).isEmpty())
        return QStringLiteral("forward %1: ").arg(quoted(f.name));
    return {};
}

ValidationError refuse(const Forward &f, const char *key, const QString &message) {
    return {QString::fromLatin1(key), prefixFor(f) + message};
}

} // namespace

QString parsePortRange(const QString &text, const QString &what, PortRange *out) {
    PortRange r;
    if (!text.isEmpty()) {
        const qsizetype dash = text.indexOf(QLatin1Char('-'));
        const QStringView firstText = dash < 0 ? QStringView(text) : QStringView(text).left(dash);
        const QStringView lastText = dash < 0 ? QStringView(text) : QStringView(text).mid(dash + 1);
        if (!allDigits(firstText) || !allDigits(lastText))
            return QStringLiteral("%1 %2 is not a port number; give a number like 80 or a range "
                                  "like 8000-8010")
                .arg(what, quoted(text));
        const qint64 first = digitsValue(firstText);
        const qint64 last = digitsValue(lastText);
        if (first < 1 || first > 65535 || last < 1 || last > 65535)
            return QStringLiteral("%1 %2 is out of range 1–65535").arg(what, text);
        if (last < first)
            return QStringLiteral("%1 range %2 is reversed; write %3-%4")
                .arg(what, text)
                .arg(last)
                .arg(first);
        r.first = quint16(first);
        r.last = quint16(last);
    }
    if (out)
        *out = r;
    return {};
}

QString parseAddress(const QString &text, const QString &what, QHostAddress *out) {
    QHostAddress a;
    if (!text.isEmpty()) {
        if (text.contains(QLatin1Char('%')))
            return QStringLiteral("%1 %2 has a scope id; give the address without '%'")
                .arg(what, text);
        if (!readAddress(text, &a))
            return QStringLiteral("%1 %2 is not an IPv4 or IPv6 address").arg(what, text);
        const QString unicast = checkUnicast(a, what);
        if (!unicast.isEmpty())
            return unicast;
    }
    if (out)
        *out = a;
    return {};
}

QString parseCidr(const QString &text, QHostAddress::NetworkLayerProtocol family, Cidr *out) {
    const qsizetype slash = text.indexOf(QLatin1Char('/'));
    const QString addressText = slash < 0 ? text : text.left(slash);
    QHostAddress a;
    if (text.isEmpty())
        return QStringLiteral("a source is empty; give an address or a network like "
                              "198.51.100.0/24");
    if (text.contains(QLatin1Char('%')))
        return QStringLiteral("source %1 has a scope id; give the network without '%'").arg(text);
    if (!readAddress(addressText, &a))
        return QStringLiteral("source %1 is not an IPv4 or IPv6 address or network").arg(text);
    if (a.protocol() == QHostAddress::IPv6Protocol) {
        bool mapped = false;
        const quint32 v4 = a.toIPv4Address(&mapped);
        if (mapped)
            return QStringLiteral("source %1 is IPv4-mapped; write it as %2")
                .arg(text, QHostAddress(v4).toString());
    }
    int prefix = maxPrefix(a);
    if (slash >= 0) {
        const QStringView prefixText = QStringView(text).mid(slash + 1);
        if (!allDigits(prefixText) ||
            (prefixText.size() > 1 && prefixText.at(0) == QLatin1Char('0')) ||
            digitsValue(prefixText) > maxPrefix(a))
            return QStringLiteral("source %1 has a bad prefix length; give 0–%2 after the '/'")
                .arg(text)
                .arg(maxPrefix(a));
        prefix = int(digitsValue(prefixText));
    }
    if (family == QHostAddress::IPv4Protocol || family == QHostAddress::IPv6Protocol) {
        if (a.protocol() != family)
            return QStringLiteral("source %1 is %2 but this forward is %3")
                .arg(text, familyName(a.protocol()), familyName(family));
    }
    const Cidr c{a, prefix};
    const QString bad = checkCidr(c);
    if (!bad.isEmpty())
        return bad;
    if (out)
        *out = c;
    return {};
}

QString checkName(const QString &name) {
    if (name.isEmpty())
        return QStringLiteral("a name is required");
    const qsizetype length = codePointCount(name);
    if (length > maxNameLength)
        return QStringLiteral("name %1 is %2 characters long; at most %3 are allowed")
            .arg(quoted(name.left(maxNameLength) + QStringLiteral("…")))
            .arg(length)
            .arg(maxNameLength);
    if (const auto c = firstControl(name))
        return QStringLiteral("name %1 contains a control character (U+%2); use printable "
                              "characters only")
            .arg(quoted(QString(name).replace(QChar(*c), QChar(u'\uFFFD'))))
            .arg(uint(*c), 4, 16, QLatin1Char('0'));
    if (name.front().isSpace() || name.back().isSpace())
        return QStringLiteral("name %1 starts or ends with a space; remove it").arg(quoted(name));
    return {};
}

QString checkInterfaceName(const QString &name) {
    if (name.isEmpty())
        return {};
    const qsizetype bytes = utf8Length(name);
    if (bytes > maxInterfaceBytes)
        return QStringLiteral("interface %1 is %2 bytes long; Linux allows at most %3")
            .arg(quoted(name))
            .arg(bytes)
            .arg(maxInterfaceBytes);
    if (name == QLatin1String(".") || name == QLatin1String(".."))
        return QStringLiteral("interface %1 is not a valid interface name").arg(quoted(name));
    for (QChar c : name) {
        if (isControl(c.unicode()) || c.isSpace())
            return QStringLiteral("interface %1 contains a space or control character; Linux "
                                  "interface names cannot")
                .arg(quoted(name));
        // '%' makes the kernel treat the name as a template ("eth%d"), so no device has it.
        if (c == QLatin1Char('/') || c == QLatin1Char(':') || c == QLatin1Char('%'))
            return QStringLiteral("interface %1 contains '%2'; Linux interface names cannot")
                .arg(quoted(name), c);
        // The kernel takes any bytes, but udev, systemd and iproute2 users stay within ASCII
        // (systemd's ifname_valid refuses the rest), and so does the ruleset's iifname key.
        if (c.unicode() > 0x7e)
            return QStringLiteral("interface %1 contains a non-ASCII character; interface names "
                                  "here are printable ASCII")
                .arg(quoted(name));
    }
    return {};
}

QString checkComment(const QString &comment) {
    if (comment.isEmpty())
        return {};
    const qsizetype length = codePointCount(comment);
    if (length > maxCommentLength)
        return QStringLiteral("comment is %1 characters long; at most %2 are allowed")
            .arg(length)
            .arg(maxCommentLength);
    const qsizetype bytes = utf8Length(comment);
    if (bytes > maxCommentLength)
        return QStringLiteral("comment is %1 bytes long in UTF-8; at most %2 are allowed")
            .arg(bytes)
            .arg(maxCommentLength);
    if (const auto c = firstControl(comment))
        return QStringLiteral("comment contains a control character (U+%1); use one line of "
                              "printable text")
            .arg(uint(*c), 4, 16, QLatin1Char('0'));
    return {};
}

ValidationError validateForward(const Forward &f) {
    if (const QString e = checkName(f.name); !e.isEmpty())
        return {QStringLiteral("name"), e};
    if (!f.id.isEmpty() && f.mark() == 0)
        return refuse(f, "id",
                      QStringLiteral("id %1 is not a forward id ('f' and a number 1–16777215)")
                          .arg(quoted(f.id)));
    if (const QString e = checkInterfaceName(f.interface); !e.isEmpty())
        return refuse(f, "interface", e);
    if (!f.externalAddress.isNull()) {
        if (const QString e = checkUnicast(f.externalAddress, QStringLiteral("external address"));
            !e.isEmpty())
            return refuse(f, "external_address", e);
    }
    if (f.externalPort.isNull())
        return refuse(f, "external_port",
                      QStringLiteral("an external port is required; give a port like 80 or a "
                                     "range like 8000-8010"));
    if (const QString e = checkPortRange(f.externalPort, QStringLiteral("external port"));
        !e.isEmpty())
        return refuse(f, "external_port", e);
    if (!f.targetAddress.isNull()) {
        if (const QString e = checkUnicast(f.targetAddress, QStringLiteral("target address"));
            !e.isEmpty())
            return refuse(f, "target_address", e);
        // DNAT to loopback from prerouting is dropped as martian (route_localnet is off), and a
        // local redirect is the way to reach this host anyway.
        if (f.targetAddress.isLoopback())
            return refuse(f, "target_address",
                          QStringLiteral("target address %1 is a loopback address, which "
                                         "forwarded traffic cannot reach; leave the target "
                                         "address empty to redirect to a port on this host")
                              .arg(f.targetAddress.toString()));
    }
    if (!f.targetPort.isNull()) {
        if (const QString e = checkPortRange(f.targetPort, QStringLiteral("target port"));
            !e.isEmpty())
            return refuse(f, "target_port", e);
        if (f.targetPort.isRange() && f.targetPort.length() != f.externalPort.length()) {
            const QString ext =
                f.externalPort.isRange()
                    ? QStringLiteral("external ports %1 (%2 ports)")
                          .arg(f.externalPort.toString())
                          .arg(f.externalPort.length())
                    : QStringLiteral("external port %1").arg(f.externalPort.toString());
            const QString give =
                f.externalPort.isRange()
                    ? QStringLiteral("give %1 ports or one").arg(f.externalPort.length())
                    : QStringLiteral("give one port");
            return refuse(f, "target_port",
                          QStringLiteral("%1 cannot map to target ports %2 (%3 ports); %4")
                              .arg(ext, f.targetPort.toString())
                              .arg(f.targetPort.length())
                              .arg(give));
        }
    }

    // Families: the addresses must agree with each other and with the sources.
    const auto extFamily = f.externalAddress.isNull() ? QHostAddress::UnknownNetworkLayerProtocol
                                                      : f.externalAddress.protocol();
    const auto targetFamily = f.targetAddress.isNull() ? QHostAddress::UnknownNetworkLayerProtocol
                                                       : f.targetAddress.protocol();
    if (extFamily != QHostAddress::UnknownNetworkLayerProtocol &&
        targetFamily != QHostAddress::UnknownNetworkLayerProtocol && extFamily != targetFamily)
        return refuse(f, "target_address",
                      QStringLiteral("target address %1 is %2 but external address %3 is %4")
                          .arg(f.targetAddress.toString(), familyName(targetFamily),
                               f.externalAddress.toString(), familyName(extFamily)));

    if (f.sources.size() > maxSources)
        return refuse(f, "sources",
                      QStringLiteral("%1 sources are listed; at most %2 are allowed")
                          .arg(f.sources.size())
                          .arg(maxSources));
    for (qsizetype i = 0; i < f.sources.size(); ++i) {
        const Cidr &c = f.sources.at(i);
        if (const QString e = checkCidr(c); !e.isEmpty())
            return refuse(f, "sources", e);
        const auto family = c.address.protocol();
        if (extFamily != QHostAddress::UnknownNetworkLayerProtocol && family != extFamily)
            return refuse(f, "sources",
                          QStringLiteral("source %1 is %2 but external address %3 is %4")
                              .arg(c.toString(), familyName(family), f.externalAddress.toString(),
                                   familyName(extFamily)));
        if (targetFamily != QHostAddress::UnknownNetworkLayerProtocol && family != targetFamily)
            return refuse(f, "sources",
                          QStringLiteral("source %1 is %2 but target address %3 is %4")
                              .arg(c.toString(), familyName(family), f.targetAddress.toString(),
                                   familyName(targetFamily)));
        for (qsizetype j = 0; j < i; ++j) {
            const Cidr &o = f.sources.at(j);
            if (o == c)
                return refuse(f, "sources",
                              QStringLiteral("source %1 is listed twice").arg(c.toString()));
            if (o.contains(c))
                return refuse(f, "sources",
                              QStringLiteral("source %1 lies inside source %2; keep only %2")
                                  .arg(c.toString(), o.toString()));
            if (c.contains(o))
                return refuse(f, "sources",
                              QStringLiteral("source %1 lies inside source %2; keep only %2")
                                  .arg(o.toString(), c.toString()));
        }
    }

    if (f.isLocalRedirect()) {
        if (f.targetPort.isNull() || f.targetPort == f.externalPort)
            return refuse(f, "target_port",
                          QStringLiteral("a local redirect (no target address) must send %1 to "
                                         "another port on this host; give a different target "
                                         "port or a target address")
                              .arg(portsText(f.externalPort)));
        if (f.masquerade)
            return refuse(f, "masquerade",
                          QStringLiteral("masquerade makes no sense for a local redirect (no "
                                         "target address): the traffic stays on this host; turn "
                                         "it off or give a target address"));
        if (f.hairpin)
            return refuse(f, "hairpin",
                          QStringLiteral("hairpin makes no sense for a local redirect (no target "
                                         "address): clients on any side already reach this host; "
                                         "turn it off or give a target address"));
    }

    if (const QString e = checkComment(f.comment); !e.isEmpty())
        return refuse(f, "comment", e);
    return ValidationError::none();
}

namespace {

// One claim of one forward on one protocol: what the kernel map key will be built from.
struct Claim {
    int group; // (interface, external address, protocol)
    int first;
    int last;
    int families;    // bit 0: IPv4, bit 1: IPv6
    bool viaHairpin; // the any-interface claim of a forward with an interface and hairpin
    int proto;       // 0: tcp, 1: udp
    int index;       // position in the list
};

// (interface, external address) as plain bytes, hashed without touching QString or QHostAddress.
struct PlaceKey {
    quint32 words[4];
    int interfaceId;
    int family; // 0: any address, 4 or 6
    friend bool operator==(const PlaceKey &, const PlaceKey &) = default;
};

PlaceKey placeKey(int interfaceId, const QHostAddress &a) {
    PlaceKey k{{0, 0, 0, 0}, interfaceId, 0};
    if (a.protocol() == QHostAddress::IPv4Protocol) {
        k.family = 4;
        k.words[0] = a.toIPv4Address();
    } else if (a.protocol() == QHostAddress::IPv6Protocol) {
        k.family = 6;
        const Q_IPV6ADDR bytes = a.toIPv6Address();
        memcpy(k.words, bytes.c, sizeof k.words);
    }
    return k;
}

size_t qHash(const PlaceKey &k, size_t seed = 0) {
    return qHashBits(&k, sizeof k, seed);
}

QString claimText(const Forward &f, const QString &proto, const PortRange &ports, bool anyIface) {
    const QString iface = anyIface || f.interface.isEmpty()
                              ? QStringLiteral("any interface")
                              : QStringLiteral("interface %1").arg(f.interface);
    const QString address = f.externalAddress.isNull()
                                ? QStringLiteral("any address")
                                : QStringLiteral("address %1").arg(f.externalAddress.toString());
    return QStringLiteral("%1 %2 on %3 and %4").arg(proto, portsText(ports), iface, address);
}

QString clashMessage(const Forward &later, const Forward &earlier, int proto,
                     const PortRange &overlap, bool laterViaHairpin, bool hairpinPath) {
    const QString protoText = proto == 0 ? QStringLiteral("tcp") : QStringLiteral("udp");
    QString message =
        QStringLiteral("forward %1 claims %2, which forward %3 already uses")
            .arg(quoted(later.name), claimText(later, protoText, overlap, laterViaHairpin),
                 quoted(earlier.name));
    if (hairpinPath)
        message += QStringLiteral(" (a forward with an interface and hairpin also claims its port "
                                  "on any interface)");
    return message;
}

bool usesProto(const Forward &f, int proto) {
    return f.protocol == Protocol::TcpUdp ||
           (proto == 0 ? f.protocol == Protocol::Tcp : f.protocol == Protocol::Udp);
}

// The pairwise form of the claim rule, for checking one forward against a set without sorting.
QString clash(const Forward &later, const Forward &earlier) {
    if (!later.externalPort.overlaps(earlier.externalPort) ||
        later.externalAddress != earlier.externalAddress)
        return {};
    if (!((later.appliesToIPv4() && earlier.appliesToIPv4()) ||
          (later.appliesToIPv6() && earlier.appliesToIPv6())))
        return {};
    const PortRange overlap{std::max(later.externalPort.first, earlier.externalPort.first),
                            std::min(later.externalPort.last, earlier.externalPort.last)};
    const bool laterHairpin = !later.interface.isEmpty() && later.hairpin;
    const bool earlierHairpin = !earlier.interface.isEmpty() && earlier.hairpin;
    for (int proto = 0; proto < 2; ++proto) {
        if (!usesProto(later, proto) || !usesProto(earlier, proto))
            continue;
        if (later.interface == earlier.interface)
            return clashMessage(later, earlier, proto, overlap, false, false);
        // Otherwise only the any-interface claims can meet: one side's hairpin path against the
        // other side's plain any-interface claim, or both hairpin paths.
        if (laterHairpin && (earlier.interface.isEmpty() || earlierHairpin))
            return clashMessage(later, earlier, proto, overlap, true, true);
        if (earlierHairpin && later.interface.isEmpty())
            return clashMessage(later, earlier, proto, overlap, false, true);
    }
    return {};
}

} // namespace

ValidationError validateAgainst(const Forward &f, const QList<Forward> &others,
                                qsizetype replacing) {
    if (ValidationError e = validateForward(f); !e.ok())
        return e;
    // One pass over the set (it is large and this runs on every AddForward); the refusal given
    // is the one validateForwards would give: a name clash first, then an id, then a claim.
    qsizetype idClash = -1;
    qsizetype claimClash = -1;
    for (qsizetype i = 0; i < others.size(); ++i) {
        if (i == replacing)
            continue;
        const Forward &o = others.at(i);
        if (o.name == f.name)
            return {
                QStringLiteral("name"),
                QStringLiteral("name %1 is already used by another forward").arg(quoted(f.name))};
        if (idClash < 0 && !f.id.isEmpty() && o.id == f.id)
            idClash = i;
        if (claimClash < 0 && o.externalPort.overlaps(f.externalPort) && !clash(f, o).isEmpty())
            claimClash = i;
    }
    if (idClash >= 0)
        return {QStringLiteral("id"),
                QStringLiteral("forward %1: id %2 is already used by forward %3")
                    .arg(quoted(f.name), quoted(f.id), quoted(others.at(idClash).name))};
    if (claimClash >= 0)
        return {QStringLiteral("external_port"), clash(f, others.at(claimClash))};
    return ValidationError::none();
}

ValidationError validateForwards(const QList<Forward> &forwards) {
    for (const Forward &f : forwards) {
        if (ValidationError e = validateForward(f); !e.ok())
            return e;
    }

    // names[name] holds index + 1; one lookup per forward finds a clash and records the name.
    QHash<QString, int> names;
    names.reserve(forwards.size());
    // Every id is "f" and a 24-bit mark by now (validateForward), so a bitmap of marks will do.
    // calloc: the kernel hands out zero pages lazily, so a small set touches few of the 2 MiB.
    const std::unique_ptr<quint64[], decltype(&std::free)> marks(
        static_cast<quint64 *>(std::calloc((1u << 24) / 64, sizeof(quint64))), &std::free);
    if (!marks)
        qFatal("out of memory");
    for (int i = 0; i < forwards.size(); ++i) {
        const Forward &f = forwards.at(i);
        int &slot = names[f.name];
        if (slot != 0)
            return {
                QStringLiteral("name"),
                QStringLiteral("name %1 is already used by another forward").arg(quoted(f.name))};
        slot = i + 1;
        if (const quint32 mark = f.mark()) {
            quint64 &word = marks[mark / 64];
            const quint64 bit = quint64(1) << (mark % 64);
            if (word & bit) {
                int other = 0;
                while (forwards.at(other).id != f.id)
                    ++other;
                return {QStringLiteral("id"),
                        QStringLiteral("forward %1: id %2 is already used by forward %3")
                            .arg(quoted(f.name), quoted(f.id), quoted(forwards.at(other).name))};
            }
            word |= bit;
        }
    }

    // Claims are grouped by (interface, address, protocol) and swept in port order, so the check
    // stays O(n log n) for the 100,000 forwards of the benchmarks.
    QHash<QString, int> interfaces{{QString(), 0}};
    QString lastInterface;
    int lastInterfaceId = 0;
    QHash<PlaceKey, int> places;
    std::vector<Claim> claims;
    claims.reserve(size_t(forwards.size()) * 2);
    // A place is (interface, address); its two groups are place * 2 + protocol.
    auto placeOf = [&places](int interfaceId, const QHostAddress &address) {
        const PlaceKey key = placeKey(interfaceId, address);
        const auto it = places.constFind(key);
        if (it != places.constEnd())
            return *it;
        const int id = int(places.size());
        places.insert(key, id);
        return id;
    };
    for (int i = 0; i < forwards.size(); ++i) {
        const Forward &f = forwards.at(i);
        if (f.interface != lastInterface) {
            lastInterface = f.interface;
            const auto it = interfaces.constFind(f.interface);
            lastInterfaceId = it != interfaces.constEnd() ? *it : int(interfaces.size());
            if (it == interfaces.constEnd())
                interfaces.insert(f.interface, lastInterfaceId);
        }
        const int place = placeOf(lastInterfaceId, f.externalAddress);
        const bool hairpinPath = !f.interface.isEmpty() && f.hairpin;
        const int anyPlace = hairpinPath ? placeOf(0, f.externalAddress) : -1;
        const int families = ((f.appliesToIPv4() ? 1 : 0) | (f.appliesToIPv6() ? 2 : 0));
        for (int proto = 0; proto < 2; ++proto) {
            if (!usesProto(f, proto))
                continue;
            claims.push_back({place * 2 + proto, f.externalPort.first, f.externalPort.last,
                              families, false, proto, i});
            if (hairpinPath)
                claims.push_back({anyPlace * 2 + proto, f.externalPort.first, f.externalPort.last,
                                  families, true, proto, i});
        }
    }
    std::sort(claims.begin(), claims.end(), [](const Claim &a, const Claim &b) {
        if (a.group != b.group)
            return a.group < b.group;
        if (a.first != b.first)
            return a.first < b.first;
        return a.index < b.index;
    });

    struct Reach {
        int last = -1;
        size_t claim = 0;
    };
    int currentGroup = -1;
    Reach reach[2];
    for (size_t k = 0; k < claims.size(); ++k) {
        const Claim &c = claims[k];
        if (c.group != currentGroup) {
            currentGroup = c.group;
            reach[0] = reach[1] = Reach{};
        }
        for (int fam = 0; fam < 2; ++fam) {
            if (!(c.families & (1 << fam)))
                continue;
            if (reach[fam].last >= c.first && claims[reach[fam].claim].index != c.index) {
                const Claim &o = claims[reach[fam].claim];
                // The later forward in the list is the one that claims what the earlier uses.
                const Claim &later = o.index > c.index ? o : c;
                const Claim &earlier = o.index > c.index ? c : o;
                const Forward &lf = forwards.at(later.index);
                const Forward &ef = forwards.at(earlier.index);
                const PortRange overlap{quint16(std::max(c.first, o.first)),
                                        quint16(std::min(c.last, o.last))};
                const QString message = clashMessage(lf, ef, c.proto, overlap, later.viaHairpin,
                                                     later.viaHairpin || earlier.viaHairpin);
                return {QStringLiteral("external_port"), message};
            }
            if (c.last > reach[fam].last)
                reach[fam] = Reach{c.last, k};
        }
    }
    return ValidationError::none();
}

} // namespace portico
