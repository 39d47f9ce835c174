// SPDX-License-Identifier: GPL-3.0-or-later
// Forwards to and from a{sv} and JSON. Both forms share one table of keys and one set of field
// parsers, so the bus and the state file accept and refuse exactly the same values.
#include "serialization.h"
#include "serialization_bus.h"

#include <QDBusArgument>
#include <QDBusMetaType>
#include <QHash>
#include <QJsonDocument>
#include <QJsonValue>
#include <QStringList>
#include <QVarLengthArray>

#include <algorithm>
#include <array>
#include <string_view>
#include <utility>

namespace portico {

namespace {

enum class Kind { String, Bool, StringList };

struct KeyInfo {
    const char *key;
    Kind kind;
};

// The order of DESIGN.md's table, which is also the order of the "known keys" hint.
constexpr KeyInfo keyTable[] = {
    {"id", Kind::String},
    {"name", Kind::String},
    {"enabled", Kind::Bool},
    {"protocol", Kind::String},
    {"interface", Kind::String},
    {"external_address", Kind::String},
    {"external_port", Kind::String},
    {"sources", Kind::StringList},
    {"target_address", Kind::String},
    {"target_port", Kind::String},
    {"masquerade", Kind::Bool},
    {"hairpin", Kind::Bool},
    {"comment", Kind::String},
};

const KeyInfo *findKey(const QString &key) {
    for (const KeyInfo &k : keyTable) {
        if (key == QLatin1String(k.key))
            return &k;
    }
    return nullptr;
}

QString knownKeys() {
    QStringList keys;
    for (const KeyInfo &k : keyTable)
        keys << QString::fromLatin1(k.key);
    return keys.join(QStringLiteral(", "));
}

ValidationError unknownKey(const QString &key) {
    return {key, QStringLiteral("unknown key '%1'; known keys are: %2").arg(key, knownKeys())};
}

QString busKindText(Kind kind) {
    switch (kind) {
    case Kind::String:
        return QStringLiteral("a string (s)");
    case Kind::Bool:
        return QStringLiteral("a boolean (b)");
    case Kind::StringList:
        return QStringLiteral("an array of strings (as)");
    }
    return {};
}

QString jsonKindText(Kind kind) {
    switch (kind) {
    case Kind::String:
        return QStringLiteral("a string");
    case Kind::Bool:
        return QStringLiteral("a boolean");
    case Kind::StringList:
        return QStringLiteral("an array of strings");
    }
    return {};
}

QString signatureText(const QString &sig) {
    static const QHash<QString, QString> words{
        {QStringLiteral("s"), QStringLiteral("a string")},
        {QStringLiteral("b"), QStringLiteral("a boolean")},
        {QStringLiteral("y"), QStringLiteral("a byte")},
        {QStringLiteral("n"), QStringLiteral("a 16-bit integer")},
        {QStringLiteral("q"), QStringLiteral("an unsigned 16-bit integer")},
        {QStringLiteral("i"), QStringLiteral("a 32-bit integer")},
        {QStringLiteral("u"), QStringLiteral("an unsigned 32-bit integer")},
        {QStringLiteral("x"), QStringLiteral("a 64-bit integer")},
        {QStringLiteral("t"), QStringLiteral("an unsigned 64-bit integer")},
        {QStringLiteral("d"), QStringLiteral("a double")},
        {QStringLiteral("h"), QStringLiteral("a file descriptor")},
        {QStringLiteral("o"), QStringLiteral("an object path")},
        {QStringLiteral("g"), QStringLiteral("a signature")},
        {QStringLiteral("v"), QStringLiteral("a variant")},
        {QStringLiteral("ay"), QStringLiteral("a byte array")},
        {QStringLiteral("as"), QStringLiteral("an array of strings")},
        {QStringLiteral("av"), QStringLiteral("an array of variants")},
        {QStringLiteral("a{sv}"), QStringLiteral("a dictionary")},
    };
    const auto it = words.constFind(sig);
    if (it == words.constEnd())
        return QStringLiteral("a value of signature %1").arg(sig);
    return QStringLiteral("%1 (%2)").arg(*it, sig);
}

// What a value that arrived over the bus is, in D-Bus words, for the wrong-type message. The
// same value reads the same whether QtDBus delivered it or a caller built it in memory.
QString variantTypeText(const QVariant &v) {
    if (!v.isValid())
        return QStringLiteral("nothing");
    if (v.metaType() == QMetaType::fromType<QDBusArgument>())
        return signatureText(qvariant_cast<QDBusArgument>(v).currentSignature());
    const char *sig = QDBusMetaType::typeToSignature(v.metaType());
    if (!sig)
        return QStringLiteral("a value of type %1").arg(QString::fromLatin1(v.typeName()));
    return signatureText(QString::fromLatin1(sig));
}

QString jsonTypeText(const QJsonValue &v) {
    switch (v.type()) {
    case QJsonValue::Null:
        return QStringLiteral("null");
    case QJsonValue::Bool:
        return QStringLiteral("a boolean");
    case QJsonValue::Double:
        return QStringLiteral("a number");
    case QJsonValue::String:
        return QStringLiteral("a string");
    case QJsonValue::Array:
        return QStringLiteral("an array");
    case QJsonValue::Object:
        return QStringLiteral("an object");
    case QJsonValue::Undefined:
        break;
    }
    return QStringLiteral("undefined");
}

// A value of the right type for its key, before the field parser reads it.
struct Value {
    QString string;
    bool boolean = false;
    QStringList list;
};

// Parses one typed value into its field of *out: the one place where field syntax is checked.
ValidationError applyValue(const QString &key, const KeyInfo *info, const Value &v, Forward *out) {
    // The table's own spelling of the key: comparing it is cheaper than comparing key.
    const std::string_view k = info->key;
    auto fail = [&key](const QString &message) {
        return ValidationError{key, message};
    };
    if (k == "id") {
        Forward probe;
        probe.id = v.string;
        if (!v.string.isEmpty() && probe.mark() == 0)
            return fail(QStringLiteral("id '%1' is not a forward id ('f' and a number "
                                       "1–16777215)")
                            .arg(v.string));
        out->id = v.string;
    } else if (k == "name") {
        if (const QString e = checkName(v.string); !e.isEmpty())
            return fail(e);
        out->name = v.string;
    } else if (k == "enabled") {
        out->enabled = v.boolean;
    } else if (k == "protocol") {
        if (!protocolFromString(v.string, &out->protocol))
            return fail(
                QStringLiteral("protocol '%1' is not one of tcp, udp or tcp+udp").arg(v.string));
    } else if (k == "interface") {
        if (const QString e = checkInterfaceName(v.string); !e.isEmpty())
            return fail(e);
        out->interface = v.string;
    } else if (k == "external_address") {
        if (const QString e =
                parseAddress(v.string, QStringLiteral("external address"), &out->externalAddress);
            !e.isEmpty())
            return fail(e);
    } else if (k == "external_port") {
        if (const QString e =
                parsePortRange(v.string, QStringLiteral("external port"), &out->externalPort);
            !e.isEmpty())
            return fail(e);
    } else if (k == "sources") {
        QList<Cidr> sources;
        sources.reserve(v.list.size());
        for (const QString &s : v.list) {
            Cidr c;
            if (const QString e = parseCidr(s, QHostAddress::UnknownNetworkLayerProtocol, &c);
                !e.isEmpty())
                return fail(e);
            sources.append(c);
        }
        out->sources = sources;
    } else if (k == "target_address") {
        if (const QString e =
                parseAddress(v.string, QStringLiteral("target address"), &out->targetAddress);
            !e.isEmpty())
            return fail(e);
    } else if (k == "target_port") {
        if (const QString e =
                parsePortRange(v.string, QStringLiteral("target port"), &out->targetPort);
            !e.isEmpty())
            return fail(e);
    } else if (k == "masquerade") {
        out->masquerade = v.boolean;
    } else if (k == "hairpin") {
        out->hairpin = v.boolean;
    } else if (k == "comment") {
        if (const QString e = checkComment(v.string); !e.isEmpty())
            return fail(e);
        out->comment = v.string;
    }
    return ValidationError::none();
}

ValidationError checkRequired(const Forward &f) {
    if (f.name.isEmpty())
        return {QStringLiteral("name"), QStringLiteral("a name is required")};
    if (f.externalPort.isNull())
        return {QStringLiteral("external_port"),
                QStringLiteral("an external port is required; give a port like 80 or a range "
                               "like 8000-8010")};
    return ValidationError::none();
}

QStringList sourceStrings(const Forward &f) {
    QStringList list;
    list.reserve(f.sources.size());
    for (const Cidr &c : f.sources)
        list << c.toString();
    return list;
}

QString addressString(const QHostAddress &a) {
    return a.isNull() ? QString() : a.toString();
}

// One key of the bus form onto f.
ValidationError busEntry(const QString &key, const QVariant &raw, Forward *f) {
    const KeyInfo *info = findKey(key);
    if (!info)
        return unknownKey(key);
    Value v;
    bool typeOk = false;
    switch (info->kind) {
    case Kind::String:
        typeOk = raw.metaType().id() == QMetaType::QString;
        if (typeOk)
            v.string = raw.toString();
        break;
    case Kind::Bool:
        typeOk = raw.metaType().id() == QMetaType::Bool;
        if (typeOk)
            v.boolean = raw.toBool();
        break;
    case Kind::StringList:
        if (raw.metaType().id() == QMetaType::QStringList) {
            typeOk = true;
            v.list = raw.toStringList();
        } else if (raw.metaType() == QMetaType::fromType<QDBusArgument>()) {
            // QtDBus hands arrays inside a{sv} over unparsed.
            const QDBusArgument arg = qvariant_cast<QDBusArgument>(raw);
            if (arg.currentSignature() == QLatin1String("as")) {
                typeOk = true;
                arg >> v.list;
            }
        }
        break;
    }
    if (!typeOk)
        return {key, QStringLiteral("key '%1' must be %2, not %3")
                         .arg(key, busKindText(info->kind), variantTypeText(raw))};
    return applyValue(key, info, v, f);
}

} // namespace

ValidationError forwardFromBusArgument(const QDBusArgument &arg, Forward *out) {
    QVarLengthArray<std::pair<QString, QVariant>, 16> entries;
    arg.beginMap();
    while (!arg.atEnd()) {
        std::pair<QString, QVariant> entry;
        QDBusVariant value;
        arg.beginMapEntry();
        arg >> entry.first >> value;
        arg.endMapEntry();
        entry.second = value.variant();
        entries.append(std::move(entry));
    }
    arg.endMap();
    // The order and the choice among repeated keys of the QVariantMap that QtDBus would build.
    const auto less = [](const auto &a, const auto &b) {
        return a.first < b.first;
    };
    if (!std::is_sorted(entries.begin(), entries.end(), less) ||
        std::adjacent_find(entries.begin(), entries.end(), [](const auto &a, const auto &b) {
            return a.first == b.first;
        }) != entries.end()) {
        std::stable_sort(entries.begin(), entries.end(), less);
        qsizetype kept = 0;
        for (qsizetype i = 0; i < entries.size(); ++i) {
            if (i + 1 < entries.size() && entries[i + 1].first == entries[i].first)
                continue;
            if (kept != i)
                entries[kept] = std::move(entries[i]);
            ++kept;
        }
        entries.resize(kept);
    }
    Forward f = *out;
    for (const auto &entry : entries) {
        if (ValidationError e = busEntry(entry.first, entry.second, &f); !e.ok())
            return e;
    }
    if (ValidationError e = checkRequired(f); !e.ok())
        return e;
    *out = std::move(f);
    return ValidationError::none();
}

ValidationError forwardFromVariantMap(const QVariantMap &map, Forward *out) {
    Forward f = *out;
    for (auto it = map.constBegin(); it != map.constEnd(); ++it) {
        if (ValidationError e = busEntry(it.key(), it.value(), &f); !e.ok())
            return e;
    }
    if (ValidationError e = checkRequired(f); !e.ok())
        return e;
    *out = f;
    return ValidationError::none();
}

namespace {

// The keys of the bus form of f, in sorted order, as a QVariantMap holds them (so a reader
// like forwardFromBusArgument needs no sort). Request leaves out the keys whose value is the
// default; name and external_port are always there.
template <typename Emit> void forEachBusKey(const Forward &f, BusKeys keys, Emit &&put) {
    const bool all = keys == BusKeys::All;
    const Forward defaults;
    if (all || !f.comment.isEmpty())
        put(QStringLiteral("comment"), QVariant(f.comment));
    if (all || f.enabled != defaults.enabled)
        put(QStringLiteral("enabled"), QVariant(f.enabled));
    if (all || !f.externalAddress.isNull())
        put(QStringLiteral("external_address"), QVariant(addressString(f.externalAddress)));
    put(QStringLiteral("external_port"), QVariant(f.externalPort.toString()));
    if (all || f.hairpin)
        put(QStringLiteral("hairpin"), QVariant(f.hairpin));
    if (all || !f.id.isEmpty())
        put(QStringLiteral("id"), QVariant(f.id));
    if (all || !f.interface.isEmpty())
        put(QStringLiteral("interface"), QVariant(f.interface));
    if (all || f.masquerade)
        put(QStringLiteral("masquerade"), QVariant(f.masquerade));
    put(QStringLiteral("name"), QVariant(f.name));
    if (all || f.protocol != defaults.protocol)
        put(QStringLiteral("protocol"), QVariant(protocolToString(f.protocol)));
    if (all || !f.sources.isEmpty())
        put(QStringLiteral("sources"), QVariant(sourceStrings(f)));
    if (all || !f.targetAddress.isNull())
        put(QStringLiteral("target_address"), QVariant(addressString(f.targetAddress)));
    if (all || !f.targetPort.isNull())
        put(QStringLiteral("target_port"), QVariant(f.targetPort.toString()));
}

} // namespace

QVariantMap forwardToVariantMap(const Forward &f, BusKeys keys) {
    QVariantMap map;
    forEachBusKey(f, keys,
                  [&map](const QString &key, const QVariant &value) { map.insert(key, value); });
    return map;
}

QDBusArgument &operator<<(QDBusArgument &arg, const BusForwardList &list) {
    arg.beginArray(QMetaType::fromType<QVariantMap>());
    for (const Forward &f : list.forwards) {
        arg.beginMap(QMetaType::fromType<QString>(), QMetaType::fromType<QDBusVariant>());
        forEachBusKey(f, list.keys, [&arg](const QString &key, const QVariant &value) {
            arg.beginMapEntry();
            arg << key << QDBusVariant(value);
            arg.endMapEntry();
        });
        arg.endMap();
    }
    arg.endArray();
    return arg;
}

const QDBusArgument &operator>>(const QDBusArgument &arg, BusForwardList &list) {
    list.forwards.clear();
    list.error.clear();
    arg.beginArray();
    while (!arg.atEnd()) {
        QVariantMap map;
        arg >> map;
        Forward f;
        if (list.error.isEmpty()) {
            if (ValidationError e = forwardFromVariantMap(map, &f); !e.ok())
                list.error =
                    QStringLiteral("forward %1: %2").arg(list.forwards.size() + 1).arg(e.message);
            else
                list.forwards.append(f);
        }
    }
    arg.endArray();
    if (!list.error.isEmpty())
        list.forwards.clear();
    return arg;
}

ValidationError forwardFromJson(const QJsonObject &obj, Forward *out) {
    Forward f = *out;
    for (auto it = obj.constBegin(); it != obj.constEnd(); ++it) {
        const KeyInfo *info = findKey(it.key());
        if (!info)
            return unknownKey(it.key());
        const QJsonValue raw = it.value();
        Value v;
        bool typeOk = false;
        switch (info->kind) {
        case Kind::String:
            typeOk = raw.isString();
            v.string = raw.toString();
            break;
        case Kind::Bool:
            typeOk = raw.isBool();
            v.boolean = raw.toBool();
            break;
        case Kind::StringList:
            typeOk = raw.isArray();
            if (typeOk) {
                const QJsonArray array = raw.toArray();
                for (qsizetype i = 0; i < array.size(); ++i) {
                    if (!array.at(i).isString())
                        return {it.key(),
                                QStringLiteral("key '%1' must be an array of strings, but item %2 "
                                               "is %3")
                                    .arg(it.key())
                                    .arg(i + 1)
                                    .arg(jsonTypeText(array.at(i)))};
                    v.list << array.at(i).toString();
                }
            }
            break;
        }
        if (!typeOk)
            return {it.key(), QStringLiteral("key '%1' must be %2, not %3")
                                  .arg(it.key(), jsonKindText(info->kind), jsonTypeText(raw))};
        if (ValidationError e = applyValue(it.key(), info, v, &f); !e.ok())
            return e;
    }
    if (ValidationError e = checkRequired(f); !e.ok())
        return e;
    *out = f;
    return ValidationError::none();
}

QJsonObject forwardToJson(const Forward &f) {
    QJsonObject obj;
    obj.insert(QStringLiteral("id"), f.id);
    obj.insert(QStringLiteral("name"), f.name);
    obj.insert(QStringLiteral("enabled"), f.enabled);
    obj.insert(QStringLiteral("protocol"), protocolToString(f.protocol));
    obj.insert(QStringLiteral("interface"), f.interface);
    obj.insert(QStringLiteral("external_address"), addressString(f.externalAddress));
    obj.insert(QStringLiteral("external_port"), f.externalPort.toString());
    obj.insert(QStringLiteral("sources"), QJsonArray::fromStringList(sourceStrings(f)));
    obj.insert(QStringLiteral("target_address"), addressString(f.targetAddress));
    obj.insert(QStringLiteral("target_port"), f.targetPort.toString());
    obj.insert(QStringLiteral("masquerade"), f.masquerade);
    obj.insert(QStringLiteral("hairpin"), f.hairpin);
    obj.insert(QStringLiteral("comment"), f.comment);
    return obj;
}

ValidationError forwardsFromJson(const QJsonArray &array, QList<Forward> *out) {
    QList<Forward> list;
    list.reserve(array.size());
    for (qsizetype i = 0; i < array.size(); ++i) {
        const QJsonValue item = array.at(i);
        if (!item.isObject())
            return {QString(), QStringLiteral("forward %1: must be a JSON object, not %2")
                                   .arg(i + 1)
                                   .arg(jsonTypeText(item))};
        const QJsonObject obj = item.toObject();
        Forward f;
        if (ValidationError e = forwardFromJson(obj, &f); !e.ok()) {
            const QJsonValue name = obj.value(QStringLiteral("name"));
            // A name that is itself refused (control characters) is not repeated in the prefix.
            const QString where =
                name.isString() && checkName(name.toString()).isEmpty()
                    ? QStringLiteral("forward %1 (%2): ").arg(i + 1).arg(name.toString())
                    : QStringLiteral("forward %1: ").arg(i + 1);
            e.message.prepend(where);
            return e;
        }
        list.append(f);
    }
    if (out)
        *out = list;
    return ValidationError::none();
}

QJsonArray forwardsToJson(const QList<Forward> &forwards) {
    QJsonArray array;
    for (const Forward &f : forwards)
        array.append(forwardToJson(f));
    return array;
}

// The bytes QJsonDocument(forwardToJson(f)).toJson(Compact) gives: the same keys, sorted as
// QJsonObject sorts them, no spaces. Written by hand because QJsonDocument takes about 12 µs
// per forward, most of the time of a big save or a big ImportForwards.
void appendForwardJson(JsonOut &out, const Forward &f) {
    out.put("{\"comment\":");
    out.string(f.comment);
    out.put(",\"enabled\":");
    out.boolean(f.enabled);
    out.put(",\"external_address\":");
    out.address(f.externalAddress);
    out.put(",\"external_port\":");
    out.ports(f.externalPort);
    out.put(",\"hairpin\":");
    out.boolean(f.hairpin);
    out.put(",\"id\":");
    out.string(f.id);
    out.put(",\"interface\":");
    out.string(f.interface);
    out.put(",\"masquerade\":");
    out.boolean(f.masquerade);
    out.put(",\"name\":");
    out.string(f.name);
    out.put(",\"protocol\":");
    switch (f.protocol) {
    case Protocol::Tcp:
        out.put("\"tcp\"");
        break;
    case Protocol::Udp:
        out.put("\"udp\"");
        break;
    case Protocol::TcpUdp:
        out.put("\"tcp+udp\"");
        break;
    }
    out.put(",\"sources\":[");
    for (qsizetype i = 0; i < f.sources.size(); ++i) {
        if (i > 0)
            out.put(",");
        const Cidr &c = f.sources[i];
        if (c.address.protocol() == QHostAddress::IPv4Protocol && c.prefixLength >= 0) {
            out.put("\"");
            out.ipv4(c.address.toIPv4Address());
            out.put("/");
            out.number(uint(c.prefixLength));
            out.put("\"");
        } else {
            out.string(c.toString());
        }
    }
    out.put("],\"target_address\":");
    out.address(f.targetAddress);
    out.put(",\"target_port\":");
    out.ports(f.targetPort);
    out.put("}");
}

QByteArray forwardJsonText(const Forward &f) {
    QByteArray bytes;
    {
        JsonOut out(bytes, 320);
        appendForwardJson(out, f);
    }
    return bytes;
}

QByteArray forwardsJsonText(const QList<Forward> &forwards) {
    QByteArray bytes;
    {
        JsonOut out(bytes, 2 + forwards.size() * 320);
        out.put("[");
        for (qsizetype i = 0; i < forwards.size(); ++i) {
            if (i > 0)
                out.put(",");
            appendForwardJson(out, forwards[i]);
        }
        out.put("]");
    }
    return bytes;
}

QByteArray forwardsDocumentText(const QList<Forward> &forwards) {
    return "{\"schema\":1,\"forwards\":" + forwardsJsonText(forwards) + "}";
}

namespace {

// The common case of forwardsFromDocument, read straight off the bytes: at 10,000 forwards
// QJsonDocument and forwardFromJson take about 45 ms, a third of a whole ImportForwards, almost
// all of it in allocating and freeing the document's values. This reader takes only what it
// is sure of: plain strings (no escapes), booleans, arrays of strings, each known key at most
// once, and at the top the keys "schema": 1, "forwards" and "generation" (a plain integer).
// Anything else, and every error, says no, and the caller reads the document the general way,
// so the result and every message are those of QJsonDocument and forwardFromJson.
class FastDocumentReader {
public:
    explicit FastDocumentReader(const QByteArray &data)
        : m_p(data.constData())
        , m_end(data.constData() + data.size()) {}

    bool read(QList<Forward> *result) {
        QList<Forward> list;
        if (!document(&list))
            return false;
        *result = std::move(list);
        return true;
    }

private:
    bool document(QList<Forward> *out) {
        space();
        if (peek() == '[') {
            if (!forwards(out))
                return false;
        } else {
            if (!take('{'))
                return false;
            bool seenSchema = false, seenForwards = false, seenGeneration = false;
            for (bool first = true;; first = false) {
                space();
                if (take('}'))
                    break;
                if (!first) {
                    if (!take(','))
                        return false;
                    space();
                }
                std::string_view key;
                if (!plainString(&key) || !colon())
                    return false;
                if (key == "schema" && !seenSchema) {
                    seenSchema = true;
                    if (!take('1') || isDigit(peek()))
                        return false;
                } else if (key == "generation" && !seenGeneration) {
                    seenGeneration = true;
                    if (!isDigit(peek()))
                        return false;
                    while (isDigit(peek()))
                        ++m_p;
                } else if (key == "forwards" && !seenForwards) {
                    seenForwards = true;
                    if (!forwards(out))
                        return false;
                } else {
                    return false;
                }
            }
            if (!seenForwards)
                return false;
        }
        space();
        return m_p == m_end;
    }

    static bool isDigit(char c) { return c >= '0' && c <= '9'; }
    char peek() const { return m_p < m_end ? *m_p : '\0'; }
    bool take(char c) {
        if (peek() != c)
            return false;
        ++m_p;
        return true;
    }
    void space() {
        while (m_p < m_end && (*m_p == ' ' || *m_p == '\n' || *m_p == '\r' || *m_p == '\t'))
            ++m_p;
    }
    bool colon() {
        space();
        if (!take(':'))
            return false;
        space();
        return true;
    }
    bool literal(std::string_view word) {
        if (m_end - m_p < qsizetype(word.size()) || std::string_view(m_p, word.size()) != word)
            return false;
        m_p += word.size();
        return true;
    }

    // A string without escapes or control characters, whose bytes are well-formed UTF-8 (what
    // QJsonDocument accepts): the view is the raw bytes between the quotes.
    bool plainString(std::string_view *out) {
        if (!take('"'))
            return false;
        const char *start = m_p;
        bool ascii = true;
        while (m_p < m_end && *m_p != '"') {
            const uchar c = uchar(*m_p);
            if (c == '\\' || c < 0x20)
                return false;
            ascii = ascii && c < 0x80;
            ++m_p;
        }
        if (m_p == m_end)
            return false;
        *out = std::string_view(start, size_t(m_p - start));
        ++m_p;
        return ascii || wellFormedUtf8(*out);
    }
    bool qstring(QString *out) {
        std::string_view bytes;
        if (!plainString(&bytes))
            return false;
        *out = QString::fromUtf8(bytes.data(), qsizetype(bytes.size()));
        return true;
    }
    // RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF.
    static bool wellFormedUtf8(std::string_view s) {
        for (size_t i = 0; i < s.size();) {
            const uchar c = uchar(s[i]);
            int more = 0;
            char32_t cp = 0, min = 0;
            if (c < 0x80) {
                ++i;
                continue;
            } else if ((c & 0xe0) == 0xc0) {
                more = 1, cp = c & 0x1f, min = 0x80;
            } else if ((c & 0xf0) == 0xe0) {
                more = 2, cp = c & 0x0f, min = 0x800;
            } else if ((c & 0xf8) == 0xf0) {
                more = 3, cp = c & 0x07, min = 0x10000;
            } else {
                return false;
            }
            if (s.size() - i <= size_t(more))
                return false; // cut short
            for (int k = 1; k <= more; ++k) {
                const uchar d = uchar(s[i + k]);
                if ((d & 0xc0) != 0x80)
                    return false;
                cp = (cp << 6) | (d & 0x3f);
            }
            if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return false;
            i += size_t(more) + 1;
        }
        return true;
    }

    static const KeyInfo *keyInfo(std::string_view key) {
        static const auto names = [] {
            std::array<std::string_view, std::size(keyTable)> n;
            for (size_t i = 0; i < n.size(); ++i)
                n[i] = keyTable[i].key;
            return n;
        }();
        for (size_t i = 0; i < names.size(); ++i)
            if (names[i] == key)
                return &keyTable[i];
        return nullptr;
    }

    bool forwards(QList<Forward> *out) {
        if (!take('['))
            return false;
        QList<Forward> list;
        for (bool first = true;; first = false) {
            space();
            if (take(']'))
                break;
            if (!first) {
                if (!take(','))
                    return false;
                space();
            }
            Forward f;
            if (!forward(&f))
                return false;
            list.append(std::move(f));
        }
        *out = std::move(list);
        return true;
    }

    bool forward(Forward *out) {
        if (!take('{'))
            return false;
        Forward f;
        quint32 seen = 0; // a bit per key of keyTable
        for (bool first = true;; first = false) {
            space();
            if (take('}'))
                break;
            if (!first) {
                if (!take(','))
                    return false;
                space();
            }
            std::string_view key;
            if (!plainString(&key) || !colon())
                return false;
            const KeyInfo *info = keyInfo(key);
            if (!info)
                return false;
            const quint32 bit = 1u << (info - keyTable);
            if (seen & bit)
                return false;
            seen |= bit;
            Value v;
            switch (info->kind) {
            case Kind::String:
                if (!qstring(&v.string))
                    return false;
                break;
            case Kind::Bool:
                if (literal("true"))
                    v.boolean = true;
                else if (!literal("false"))
                    return false;
                break;
            case Kind::StringList:
                if (!take('['))
                    return false;
                for (bool firstItem = true;; firstItem = false) {
                    space();
                    if (take(']'))
                        break;
                    if (!firstItem) {
                        if (!take(','))
                            return false;
                        space();
                    }
                    QString item;
                    if (!qstring(&item))
                        return false;
                    v.list.append(item);
                }
                break;
            }
            if (!applyValue(QString(), info, v, &f).ok())
                return false;
        }
        if (!checkRequired(f).ok())
            return false;
        *out = std::move(f);
        return true;
    }

    const char *m_p;
    const char *m_end;
};

} // namespace

bool readForwardsDocumentFast(const QByteArray &data, QList<Forward> *out) {
    return FastDocumentReader(data).read(out);
}

ValidationError forwardsFromDocument(const QByteArray &data, QList<Forward> *out) {
    if (readForwardsDocumentFast(data, out))
        return ValidationError::none();
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(data, &parseError);
    if (doc.isNull())
        return {QString(), QStringLiteral("not valid JSON: %1 at offset %2")
                               .arg(parseError.errorString())
                               .arg(parseError.offset)};
    if (doc.isArray())
        return forwardsFromJson(doc.array(), out);
    const QJsonObject obj = doc.object();
    const QJsonValue schema = obj.value(QLatin1String("schema"));
    if (!schema.isUndefined() && schema.toInt(-1) != 1)
        return {QString(), QStringLiteral("schema %1 is not one this version reads (it reads 1)")
                               .arg(schema.toVariant().toString())};
    const QJsonValue forwards = obj.value(QLatin1String("forwards"));
    if (!forwards.isArray())
        return {QString(),
                QStringLiteral("no \"forwards\" array; expected the output of porticoctl export")};
    return forwardsFromJson(forwards.toArray(), out);
}

} // namespace portico
