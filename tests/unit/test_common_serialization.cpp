// SPDX-License-Identifier: GPL-3.0-or-later
// Specification of the two wire forms of a forward: a{sv} (checked after a real trip through
// libdbus, over a peer-to-peer connection) and JSON (state and export), plus the counter type.
#include "dbus_types.h"
#include "forward.h"
#include "serialization.h"

#include <QDBusConnection>
#include <QDBusMessage>
#include <QDBusMetaType>
#include <QDBusPendingCall>
#include <QDBusServer>
#include <QDir>
#include <QJsonDocument>
#include <QTest>

#include <functional>
#include <optional>

using namespace portico;

using Mutator = std::function<void(Forward &)>;
Q_DECLARE_METATYPE(Mutator)

namespace {

QString s(const char *text) {
    return QString::fromUtf8(text);
}

QHostAddress addr(const char *text) {
    return QHostAddress(QString::fromLatin1(text));
}

Forward baseForward() {
    Forward f;
    f.name = s("web");
    f.externalPort = {80, 80};
    f.targetAddress = addr("198.51.100.10");
    f.targetPort = {8080, 8080};
    return f;
}

const char *const allKeys[] = {"id",
                               "name",
                               "enabled",
                               "protocol",
                               "interface",
                               "external_address",
                               "external_port",
                               "sources",
                               "target_address",
                               "target_port",
                               "masquerade",
                               "hairpin",
                               "comment"};

} // namespace

// The far end of the peer connection: it keeps what it was sent, exactly as QtDBus delivered it.
class Receiver : public QObject {
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "io.github.portico.Test")
public:
    QVariantMap lastMap;
    QList<QVariantMap> lastList;
    CounterMap counters;

public slots:
    Q_SCRIPTABLE void Take(const QVariantMap &forward) { lastMap = forward; }
    Q_SCRIPTABLE void TakeList(const QList<QVariantMap> &forwards) { lastList = forwards; }
    Q_SCRIPTABLE portico::CounterMap Counters() { return counters; }
};

class TestCommonSerialization : public QObject {
    Q_OBJECT

private:
    QDBusServer *m_server = nullptr;
    std::optional<QDBusConnection> m_serverSide;
    std::optional<QDBusConnection> m_client;
    Receiver m_receiver;

    QDBusMessage call(const QString &method, const QVariantList &args);
    QVariantMap throughBus(const QVariantMap &map);

private slots:
    void initTestCase();
    void cleanupTestCase();
    void roundTrip_data();
    void roundTrip();
    void mapWritesEveryKeyWithItsBusType();
    void requestLeavesOutDefaults();
    void busDeliversSourcesAsStringList();
    void listThroughBus();
    void countersThroughBus();
    void fromVariantMap_data();
    void fromVariantMap();
    void wrongContainerTypesFromBus_data();
    void wrongContainerTypesFromBus();
    void absentKeysKeepExistingValues();
    void errorLeavesTargetUnchanged();
    void fromJson_data();
    void fromJson();
    void forwardsFromJson_data();
    void forwardsFromJson();
    void handWrittenJsonIsQtsCompactJson_data() { roundTrip_data(); }
    void handWrittenJsonIsQtsCompactJson();
    void documentFastPathAgreesWithQtJson_data();
    void documentFastPathAgreesWithQtJson();
};

void TestCommonSerialization::initTestCase() {
    registerDBusTypes();
    m_server = new QDBusServer(QStringLiteral("unix:tmpdir=") + QDir::tempPath(), this);
    QVERIFY2(m_server->isConnected(), qPrintable(m_server->lastError().message()));
    connect(m_server, &QDBusServer::newConnection, this, [this](const QDBusConnection &c) {
        m_serverSide = c;
        m_serverSide->registerObject(QStringLiteral("/test"), &m_receiver,
                                     QDBusConnection::ExportScriptableSlots);
    });
    m_client = QDBusConnection::connectToPeer(m_server->address(), QStringLiteral("test-client"));
    QVERIFY2(m_client->isConnected(), qPrintable(m_client->lastError().message()));
    QTRY_VERIFY(m_serverSide.has_value());
}

void TestCommonSerialization::cleanupTestCase() {
    QDBusConnection::disconnectFromPeer(QStringLiteral("test-client"));
}

QDBusMessage TestCommonSerialization::call(const QString &method, const QVariantList &args) {
    QDBusMessage msg = QDBusMessage::createMethodCall(
        QString(), QStringLiteral("/test"), QStringLiteral("io.github.portico.Test"), method);
    msg.setArguments(args);
    QDBusPendingCall pending = m_client->asyncCall(msg, 5000);
    // The receiver runs on this thread, so wait by spinning the event loop, not by blocking.
    if (!QTest::qWaitFor([&] { return pending.isFinished(); }, 5000))
        return {};
    return pending.reply();
}

QVariantMap TestCommonSerialization::throughBus(const QVariantMap &map) {
    m_receiver.lastMap.clear();
    const QDBusMessage reply = call(QStringLiteral("Take"), {QVariant::fromValue(map)});
    if (reply.type() != QDBusMessage::ReplyMessage)
        qWarning("Take failed: %s", qPrintable(reply.errorMessage()));
    return m_receiver.lastMap;
}

void TestCommonSerialization::roundTrip_data() {
    QTest::addColumn<Mutator>("change");
    QTest::newRow("the base forward") << Mutator([](Forward &) {});
    QTest::newRow("a new forward without id") << Mutator([](Forward &f) { f.id.clear(); });
    QTest::newRow("every field set") << Mutator([](Forward &f) {
        f.id = s("f4711");
        f.name = s("Büro: web (LAN) 🖥");
        f.enabled = false;
        f.protocol = Protocol::TcpUdp;
        f.interface = s("eth0.100");
        f.externalAddress = addr("203.0.113.1");
        f.externalPort = {8000, 8010};
        f.sources = {Cidr{addr("203.0.113.0"), 25}, Cidr{addr("192.0.2.7"), 32}};
        f.targetPort = {9000, 9010};
        f.masquerade = true;
        f.hairpin = true;
        f.comment = s("ask Sam — \"quotes\", 'apostrophes' and \\backslashes");
    });
    QTest::newRow("IPv6") << Mutator([](Forward &f) {
        f.externalAddress = addr("2001:db8::1");
        f.targetAddress = addr("2001:db8:1::10");
        f.sources = {Cidr{addr("2001:db8:2::"), 48}, Cidr{addr("2001:db8:3::5"), 128}};
    });
    QTest::newRow("local redirect") << Mutator([](Forward &f) {
        f.targetAddress = {};
        f.externalPort = {4321, 4321};
        f.targetPort = {1234, 1234};
        f.protocol = Protocol::Udp;
    });
    QTest::newRow("target port same as external") << Mutator([](Forward &f) { f.targetPort = {}; });
    QTest::newRow("everything IPv4 as a source") << Mutator([](Forward &f) {
        f.sources = {Cidr{addr("0.0.0.0"), 0}};
    });
}

void TestCommonSerialization::roundTrip() {
    QFETCH(Mutator, change);
    Forward original = baseForward();
    change(original);
    QVERIFY2(validateForward(original).ok(), qPrintable(validateForward(original).message));

    // a{sv} in memory.
    Forward fromMap;
    ValidationError e = forwardFromVariantMap(forwardToVariantMap(original), &fromMap);
    QVERIFY2(e.ok(), qPrintable(e.message));
    QCOMPARE(fromMap, original);

    // a{sv} after libdbus marshalled and demarshalled it.
    const QVariantMap received = throughBus(forwardToVariantMap(original));
    QCOMPARE(received.size(), std::size(allKeys));
    Forward fromBus;
    e = forwardFromVariantMap(received, &fromBus);
    QVERIFY2(e.ok(), qPrintable(e.message));
    QCOMPARE(fromBus, original);

    // The request form, through the bus, parsed onto a default forward as the helper does.
    const QVariantMap request = throughBus(forwardToVariantMap(original, BusKeys::Request));
    Forward fromRequest;
    e = forwardFromVariantMap(request, &fromRequest);
    QVERIFY2(e.ok(), qPrintable(e.message));
    QCOMPARE(fromRequest, original);

    // JSON as an object and as text.
    Forward fromJson;
    e = forwardFromJson(forwardToJson(original), &fromJson);
    QVERIFY2(e.ok(), qPrintable(e.message));
    QCOMPARE(fromJson, original);
    const QByteArray text = QJsonDocument(forwardToJson(original)).toJson();
    Forward fromText;
    e = forwardFromJson(QJsonDocument::fromJson(text).object(), &fromText);
    QVERIFY2(e.ok(), qPrintable(e.message));
    QCOMPARE(fromText, original);
}

void TestCommonSerialization::mapWritesEveryKeyWithItsBusType() {
    Forward f = baseForward();
    f.sources = {Cidr{addr("198.51.100.0"), 24}};
    const QVariantMap map = forwardToVariantMap(f);
    QCOMPARE(map.size(), std::size(allKeys));
    for (const char *key : allKeys) {
        const QVariant v = map.value(QString::fromLatin1(key));
        QVERIFY2(v.isValid(), key);
        const QByteArray sig = QDBusMetaType::typeToSignature(v.metaType());
        const QByteArray expected =
            QByteArrayView(key) == "sources" ? "as"
            : (QByteArrayView(key) == "enabled" || QByteArrayView(key) == "masquerade" ||
               QByteArrayView(key) == "hairpin")
                ? "b"
                : "s";
        QCOMPARE(sig, expected);
    }
    QCOMPARE(map.value(s("protocol")).toString(), s("tcp"));
    QCOMPARE(map.value(s("external_port")).toString(), s("80"));
    QCOMPARE(map.value(s("external_address")).toString(), QString());
    QCOMPARE(map.value(s("target_address")).toString(), s("198.51.100.10"));
    QCOMPARE(map.value(s("sources")).toStringList(), QStringList{s("198.51.100.0/24")});
}

void TestCommonSerialization::requestLeavesOutDefaults() {
    Forward f = baseForward();
    f.id.clear();
    f.targetPort = {};
    QStringList keys = forwardToVariantMap(f, BusKeys::Request).keys();
    keys.sort();
    QCOMPARE(keys, (QStringList{s("external_port"), s("name"), s("target_address")}));
    f.enabled = false;
    f.hairpin = true;
    f.protocol = Protocol::Udp;
    QCOMPARE(forwardToVariantMap(f, BusKeys::Request).value(s("enabled")), QVariant(false));
    QCOMPARE(forwardToVariantMap(f, BusKeys::Request).value(s("hairpin")), QVariant(true));
    QCOMPARE(forwardToVariantMap(f, BusKeys::Request).value(s("protocol")), QVariant(s("udp")));
}

void TestCommonSerialization::busDeliversSourcesAsStringList() {
    // What Qt 6.4's demarshaller really hands the helper for `as` inside a{sv}, alone and inside
    // aa{sv}: a QStringList (other arrays arrive as QDBusArgument, see
    // wrongContainerTypesFromBus). forwardFromVariantMap also takes a QDBusArgument of `as`.
    Forward f = baseForward();
    f.sources = {Cidr{addr("198.51.100.0"), 24}};
    const QVariantMap received = throughBus(forwardToVariantMap(f));
    QCOMPARE(received.value(s("sources")).metaType(), QMetaType::fromType<QStringList>());
    Forward back;
    QVERIFY(forwardFromVariantMap(received, &back).ok());
    QCOMPARE(back.sources, f.sources);

    m_receiver.lastList.clear();
    call(s("TakeList"), {QVariant::fromValue(QList<QVariantMap>{forwardToVariantMap(f)})});
    QCOMPARE(m_receiver.lastList.size(), 1);
    QCOMPARE(m_receiver.lastList.at(0).value(s("sources")).metaType(),
             QMetaType::fromType<QStringList>());
}

void TestCommonSerialization::listThroughBus() {
    Forward a = baseForward();
    a.id = s("f1");
    Forward b = baseForward();
    b.id = s("f2");
    b.name = s("dns");
    b.protocol = Protocol::Udp;
    b.externalPort = {53, 53};
    b.sources = {Cidr{addr("203.0.113.0"), 24}};
    m_receiver.lastList.clear();
    const QDBusMessage reply = call(
        s("TakeList"),
        {QVariant::fromValue(QList<QVariantMap>{forwardToVariantMap(a), forwardToVariantMap(b)})});
    QCOMPARE(reply.type(), QDBusMessage::ReplyMessage);
    QCOMPARE(m_receiver.lastList.size(), 2);
    Forward a2, b2;
    QVERIFY(forwardFromVariantMap(m_receiver.lastList.at(0), &a2).ok());
    QVERIFY(forwardFromVariantMap(m_receiver.lastList.at(1), &b2).ok());
    QCOMPARE(a2, a);
    QCOMPARE(b2, b);

    // The streamed list: the same maps as forwardToVariantMap writes (every key), and in the
    // request form the same forwards once parsed onto defaults.
    for (BusKeys keys : {BusKeys::All, BusKeys::Request}) {
        m_receiver.lastList.clear();
        const QDBusMessage streamed =
            call(s("TakeList"), {QVariant::fromValue(BusForwardList{{a, b}, keys, {}})});
        QCOMPARE(streamed.type(), QDBusMessage::ReplyMessage);
        QCOMPARE(m_receiver.lastList.size(), 2);
        if (keys == BusKeys::All) {
            QCOMPARE(m_receiver.lastList.at(0).keys(), forwardToVariantMap(a).keys());
            QCOMPARE(m_receiver.lastList.at(1).value(s("sources")).toStringList(),
                     QStringList{s("203.0.113.0/24")});
        }
        Forward a3, b3;
        QVERIFY(forwardFromVariantMap(m_receiver.lastList.at(0), &a3).ok());
        QVERIFY(forwardFromVariantMap(m_receiver.lastList.at(1), &b3).ok());
        QCOMPARE(a3, a);
        QCOMPARE(b3, b);
    }
}

void TestCommonSerialization::countersThroughBus() {
    m_receiver.counters = {{s("f1"), {3, 180}}, {s("f16777215"), {~quint64(0), quint64(1) << 40}}};
    const QDBusMessage reply = call(s("Counters"), {});
    QCOMPARE(reply.type(), QDBusMessage::ReplyMessage);
    QCOMPARE(reply.signature(), s("a{s(tt)}")); // the type in the XML
    QCOMPARE(reply.arguments().size(), 1);
    const CounterMap back = qdbus_cast<CounterMap>(reply.arguments().at(0));
    QCOMPARE(back, m_receiver.counters);
}

void TestCommonSerialization::fromVariantMap_data() {
    QTest::addColumn<QVariantMap>("map");
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("error");

    const QVariantMap ok{{s("name"), s("web")}, {s("external_port"), s("80")}};
    auto with = [&ok](const char *key, const QVariant &v) {
        QVariantMap m = ok;
        m.insert(s(key), v);
        return m;
    };

    QTest::newRow("name and port are enough") << ok << QString() << QString();
    QTest::newRow("sources as a string list")
        << with("sources", QStringList{s("203.0.113.0/24")}) << QString() << QString();
    QTest::newRow("empty strings mean not set")
        << with("target_address", QString()) << QString() << QString();
    QTest::newRow("empty id means not set") << with("id", QString()) << QString() << QString();

    QTest::newRow("unknown key names the known ones")
        << with("colour", s("red")) << s("colour")
        << s("unknown key 'colour'; known keys are: id, name, enabled, protocol, interface, "
             "external_address, external_port, sources, target_address, target_port, masquerade, "
             "hairpin, comment");
    QTest::newRow("keys are case-sensitive")
        << with("Name", s("x")) << s("Name") << s("unknown key 'Name'");
    QTest::newRow("string for a boolean")
        << with("enabled", s("true")) << s("enabled")
        << s("key 'enabled' must be a boolean (b), not a string (s)");
    QTest::newRow("integer for a boolean")
        << with("hairpin", 1) << s("hairpin")
        << s("key 'hairpin' must be a boolean (b), not a 32-bit integer (i)");
    QTest::newRow("integer for a port")
        << with("external_port", 80) << s("external_port")
        << s("key 'external_port' must be a string (s), not a 32-bit integer (i)");
    QTest::newRow("unsigned 16-bit for a port")
        << with("target_port", QVariant::fromValue(quint16(80))) << s("target_port")
        << s("not an unsigned 16-bit integer (q)");
    QTest::newRow("booleans where they belong")
        << with("masquerade", true) << QString() << QString();
    QTest::newRow("boolean for the name")
        << with("name", true) << s("name")
        << s("key 'name' must be a string (s), not a boolean (b)");
    QTest::newRow("byte array for a string")
        << with("comment", QByteArray("x")) << s("comment") << s("not a byte array (ay)");
    QTest::newRow("string for sources")
        << with("sources", s("203.0.113.0/24")) << s("sources")
        << s("key 'sources' must be an array of strings (as), not a string (s)");
    QTest::newRow("variant list for sources")
        << with("sources", QVariantList{s("203.0.113.0/24")}) << s("sources")
        << s("key 'sources' must be an array of strings (as), not an array of variants (av)");
    QTest::newRow("nested variant") << with("name", QVariant::fromValue(QDBusVariant(s("web"))))
                                    << s("name") << s("not a variant (v)");
    QTest::newRow("invalid variant")
        << with("name", QVariant()) << s("name") << s("must be a string (s), not nothing");

    QTest::newRow("bad protocol") << with("protocol", s("icmp")) << s("protocol")
                                  << s("protocol 'icmp' is not one of tcp, udp or tcp+udp");
    QTest::newRow("protocol is case-sensitive")
        << with("protocol", s("TCP")) << s("protocol") << s("protocol 'TCP'");
    QTest::newRow("port out of range") << with("external_port", s("70000")) << s("external_port")
                                       << s("external port 70000 is out of range 1–65535");
    QTest::newRow("bad target port") << with("target_port", s("80-")) << s("target_port")
                                     << s("target port '80-' is not a port number");
    QTest::newRow("bad target address")
        << with("target_address", s("198.51.100.999")) << s("target_address")
        << s("target address 198.51.100.999 is not an IPv4 or IPv6 address");
    QTest::newRow("bad external address")
        << with("external_address", s("224.0.0.1")) << s("external_address")
        << s("external address 224.0.0.1 is a multicast address");
    QTest::newRow("bad source")
        << with("sources", QStringList{s("203.0.113.0/24"), s("198.51.100.7/24")}) << s("sources")
        << s("source 198.51.100.7/24 has host bits set; did you mean 198.51.100.0/24?");
    QTest::newRow("overlong name")
        << with("name", QString(65, QLatin1Char('n'))) << s("name") << s("is 65 characters long");
    QTest::newRow("bad interface")
        << with("interface", s("a-very-long-interface")) << s("interface")
        << s("interface 'a-very-long-interface' is 21 bytes long");
    QTest::newRow("bad comment") << with("comment", s("a\nb")) << s("comment")
                                 << s("comment contains a control character");
    QTest::newRow("bad id") << with("id", s("web")) << s("id") << s("id 'web' is not a forward id");

    QVariantMap noName = ok;
    noName.remove(s("name"));
    QTest::newRow("name is required") << noName << s("name") << s("a name is required");
    QVariantMap noPort = ok;
    noPort.remove(s("external_port"));
    QTest::newRow("external port is required")
        << noPort << s("external_port") << s("an external port is required");
    QTest::newRow("empty external port counts as absent")
        << with("external_port", QString()) << s("external_port")
        << s("an external port is required");
}

void TestCommonSerialization::fromVariantMap() {
    QFETCH(QVariantMap, map);
    QFETCH(QString, key);
    QFETCH(QString, error);
    bool busCarries = true; // libdbus aborts on an invalid variant, so that row stays in memory
    for (const QVariant &v : map)
        busCarries = busCarries && v.isValid();
    for (bool viaBus : {false, true}) {
        if (viaBus && !busCarries)
            continue;
        const QVariantMap input = viaBus ? throughBus(map) : map;
        QVERIFY(!input.isEmpty());
        Forward f;
        const ValidationError e = forwardFromVariantMap(input, &f);
        if (error.isEmpty()) {
            QVERIFY2(e.ok(), qPrintable(e.message));
        } else {
            QVERIFY2(!e.ok(), viaBus ? "via bus" : "in memory");
            QCOMPARE(e.key, key);
            QVERIFY2(e.message.contains(error), qPrintable(e.message));
        }
    }
}

void TestCommonSerialization::wrongContainerTypesFromBus_data() {
    QTest::addColumn<QVariant>("sources");
    QTest::addColumn<QString>("error");
    QTest::newRow("array of integers")
        << QVariant::fromValue(QList<int>{1, 2})
        << s("key 'sources' must be an array of strings (as), not a value of signature ai");
    QTest::newRow("dictionary")
        << QVariant::fromValue(QVariantMap{{s("a"), 1}})
        << s("key 'sources' must be an array of strings (as), not a dictionary (a{sv})");
    QTest::newRow("array of variants") << QVariant::fromValue(QVariantList{s("203.0.113.0/24")})
                                       << s("not an array of variants (av)");
}

void TestCommonSerialization::wrongContainerTypesFromBus() {
    QFETCH(QVariant, sources);
    QFETCH(QString, error);
    const QVariantMap received =
        throughBus({{s("name"), s("web")}, {s("external_port"), s("80")}, {s("sources"), sources}});
    QVERIFY(!received.isEmpty());
    Forward f;
    const ValidationError e = forwardFromVariantMap(received, &f);
    QCOMPARE(e.key, s("sources"));
    QVERIFY2(e.message.contains(error), qPrintable(e.message));
}

void TestCommonSerialization::absentKeysKeepExistingValues() {
    // A partial UpdateForward: the helper passes the existing forward.
    Forward existing = baseForward();
    existing.id = s("f3");
    existing.sources = {Cidr{addr("203.0.113.0"), 24}};
    existing.comment = s("keep me");
    Forward updated = existing;
    const ValidationError e = forwardFromVariantMap(
        {{s("enabled"), false}, {s("external_port"), s("8000-8001")}, {s("target_port"), s("")}},
        &updated);
    QVERIFY2(e.ok(), qPrintable(e.message));
    Forward expected = existing;
    expected.enabled = false;
    expected.externalPort = {8000, 8001};
    expected.targetPort = {};
    QCOMPARE(updated, expected);

    Forward fromJson = existing;
    QVERIFY(forwardFromJson(QJsonObject{{s("comment"), s("new")}}, &fromJson).ok());
    expected = existing;
    expected.comment = s("new");
    QCOMPARE(fromJson, expected);

    // An empty map changes nothing, and a default forward takes the defaults.
    Forward same = existing;
    QVERIFY(forwardFromVariantMap({}, &same).ok());
    QCOMPARE(same, existing);
    Forward fresh;
    QVERIFY(
        forwardFromVariantMap({{s("name"), s("n")}, {s("external_port"), s("1")}}, &fresh).ok());
    QCOMPARE(fresh.enabled, true);
    QCOMPARE(fresh.protocol, Protocol::Tcp);
    QVERIFY(fresh.isLocalRedirect());
}

void TestCommonSerialization::errorLeavesTargetUnchanged() {
    const Forward existing = baseForward();
    Forward f = existing;
    // "name" parses before "target_port" in key order, so a half-applied map would show here.
    ValidationError e =
        forwardFromVariantMap({{s("name"), s("changed")}, {s("target_port"), s("99999")}}, &f);
    QCOMPARE(e.key, s("target_port"));
    QCOMPARE(f, existing);
    e = forwardFromJson(QJsonObject{{s("name"), s("changed")}, {s("target_port"), 5}}, &f);
    QCOMPARE(e.key, s("target_port"));
    QCOMPARE(f, existing);
}

void TestCommonSerialization::fromJson_data() {
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("error");
    QTest::newRow("minimal") << QByteArray(R"({"name":"web","external_port":"80"})") << QString()
                             << QString();
    QTest::newRow("all types")
        << QByteArray(
               R"({"name":"web","external_port":"80","enabled":false,"sources":["203.0.113.0/24"],
                       "masquerade":true,"target_address":"198.51.100.10"})")
        << QString() << QString();
    QTest::newRow("unknown key") << QByteArray(
                                        R"({"name":"web","external_port":"80","colour":"red"})")
                                 << s("colour")
                                 << s("unknown key 'colour'; known keys are: id, name");
    QTest::newRow("number for a port")
        << QByteArray(R"({"name":"web","external_port":80})") << s("external_port")
        << s("key 'external_port' must be a string, not a number");
    QTest::newRow("string for a boolean")
        << QByteArray(R"({"name":"web","external_port":"80","enabled":"yes"})") << s("enabled")
        << s("key 'enabled' must be a boolean, not a string");
    QTest::newRow("null for a string") << QByteArray(R"({"name":null,"external_port":"80"})")
                                       << s("name") << s("key 'name' must be a string, not null");
    QTest::newRow("string for sources")
        << QByteArray(R"({"name":"web","external_port":"80","sources":"203.0.113.0/24"})")
        << s("sources") << s("key 'sources' must be an array of strings, not a string");
    QTest::newRow("number inside sources")
        << QByteArray(R"({"name":"web","external_port":"80","sources":["203.0.113.0/24",7]})")
        << s("sources") << s("key 'sources' must be an array of strings, but item 2 is a number");
    QTest::newRow("object for a string")
        << QByteArray(R"({"name":{},"external_port":"80"})") << s("name") << s("not an object");
    QTest::newRow("bad value") << QByteArray(R"({"name":"web","external_port":"0"})")
                               << s("external_port")
                               << s("external port 0 is out of range 1–65535");
    QTest::newRow("bad source")
        << QByteArray(R"({"name":"web","external_port":"80","sources":["2001:db8::1/64"]})")
        << s("sources") << s("did you mean 2001:db8::/64?");
    QTest::newRow("missing name") << QByteArray(R"({"external_port":"80"})") << s("name")
                                  << s("a name is required");
}

void TestCommonSerialization::fromJson() {
    QFETCH(QByteArray, json);
    QFETCH(QString, key);
    QFETCH(QString, error);
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &parseError);
    QCOMPARE(parseError.error, QJsonParseError::NoError);
    Forward f;
    const ValidationError e = forwardFromJson(doc.object(), &f);
    if (error.isEmpty()) {
        QVERIFY2(e.ok(), qPrintable(e.message));
    } else {
        QCOMPARE(e.key, key);
        QVERIFY2(e.message.contains(error), qPrintable(e.message));
    }
}

void TestCommonSerialization::forwardsFromJson_data() {
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<int>("count");
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("error");
    QTest::newRow("empty list") << QByteArray("[]") << 0 << QString() << QString();
    QTest::newRow("two forwards")
        << QByteArray(
               R"([{"name":"a","external_port":"80"},{"name":"b","external_port":"81","protocol":"udp"}])")
        << 2 << QString() << QString();
    QTest::newRow("error names position and name")
        << QByteArray(R"([{"name":"a","external_port":"80"},{"name":"b","external_port":"99999"}])")
        << 0 << s("external_port")
        << s("forward 2 (b): external port 99999 is out of range 1–65535");
    QTest::newRow("error without a name names the position")
        << QByteArray(R"([{"external_port":"80"}])") << 0 << s("name")
        << s("forward 1: a name is required");
    QTest::newRow("a refused name is not repeated in the prefix")
        << QByteArray(R"([{"name":"a\nb","external_port":"80"}])") << 0 << s("name")
        << s("forward 1: name 'a\uFFFDb' contains a control character (U+000a)");
    QTest::newRow("not an object")
        << QByteArray(R"([{"name":"a","external_port":"80"}, 42])") << 0 << QString()
        << s("forward 2: must be a JSON object, not a number");
    QTest::newRow("each item starts from the defaults")
        << QByteArray(R"([{"name":"a","external_port":"80","enabled":false},{"name":"b"}])") << 0
        << s("external_port") << s("forward 2 (b): an external port is required");
}

void TestCommonSerialization::forwardsFromJson() {
    QFETCH(QByteArray, json);
    QFETCH(int, count);
    QFETCH(QString, key);
    QFETCH(QString, error);
    QList<Forward> list{baseForward()};
    const QList<Forward> before = list;
    const ValidationError e =
        portico::forwardsFromJson(QJsonDocument::fromJson(json).array(), &list);
    if (error.isEmpty()) {
        QVERIFY2(e.ok(), qPrintable(e.message));
        QCOMPARE(list.size(), count);
        QList<Forward> again;
        QVERIFY(portico::forwardsFromJson(forwardsToJson(list), &again).ok());
        QCOMPARE(again, list);
    } else {
        QCOMPARE(e.key, key);
        QVERIFY2(e.message.contains(error), qPrintable(e.message));
        QCOMPARE(list, before);
    }
}

// forwardJsonText is written by hand for speed; it must be byte for byte what QJsonDocument
// makes of forwardToJson, and read back (both ways) as the same forward.
void TestCommonSerialization::handWrittenJsonIsQtsCompactJson() {
    QFETCH(Mutator, change);
    Forward f = baseForward();
    change(f);
    QCOMPARE(forwardJsonText(f), QJsonDocument(forwardToJson(f)).toJson(QJsonDocument::Compact));
    QList<Forward> back;
    const ValidationError e = forwardsFromDocument(forwardsDocumentText({f, f}), &back);
    QVERIFY2(e.ok(), qPrintable(e.message));
    QCOMPARE(back, (QList<Forward>{f, f}));
}

// The general way of reading a document: Qt's parser and forwardFromJson.
static ValidationError qtDocument(const QByteArray &json, QList<Forward> *out) {
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &pe);
    if (doc.isNull())
        return {QString(), QStringLiteral("not valid JSON")};
    if (doc.isArray())
        return portico::forwardsFromJson(doc.array(), out);
    const QJsonValue schema = doc.object().value(QStringLiteral("schema"));
    if (!schema.isUndefined() && schema.toInt(-1) != 1)
        return {QString(), QStringLiteral("schema")};
    if (!doc.object().value(QStringLiteral("forwards")).isArray())
        return {QString(), QStringLiteral("no \"forwards\" array")};
    return portico::forwardsFromJson(doc.object().value(QStringLiteral("forwards")).toArray(), out);
}

void TestCommonSerialization::documentFastPathAgreesWithQtJson_data() {
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<bool>("fast");     // the fast path reads it itself
    QTest::addColumn<QString>("error"); // part of forwardsFromDocument's error, or empty
    const QByteArray one = R"({"name":"a","external_port":"80"})";
    QTest::newRow("export") << "{\"schema\":1,\"forwards\":[" + one + "]}" << true << QString();
    QTest::newRow("list --json") << "{\"generation\": 7, \"forwards\": [" + one + "]}" << true
                                 << QString();
    QTest::newRow("bare array") << "[" + one + "," +
                                       R"({"name":"b","external_port":"81","protocol":"udp"})" + "]"
                                << true << QString();
    QTest::newRow("empty") << QByteArray(R"({"forwards":[]})") << true << QString();
    QTest::newRow("whitespace everywhere")
        << QByteArray("\n { \"schema\" : 1 ,\r\n\t\"forwards\" : [ { \"name\" : \"a\" , "
                      "\"external_port\" : \"80\" , \"sources\" : [ \"192.0.2.0/24\" , "
                      "\"198.51.100.7\" ] , \"enabled\" : false , \"hairpin\" : true } ] } \n")
        << true << QString();
    QTest::newRow("every key")
        << QByteArray(R"([{"id":"f9","name":"Büro 🖥","enabled":true,"protocol":"tcp+udp",)"
                      R"("interface":"eth0","external_address":"2001:db8::1",)"
                      R"("external_port":"8000-8010","sources":["2001:db8:2::/48"],)"
                      R"("target_address":"2001:db8:1::10","target_port":"9000-9010",)"
                      R"("masquerade":true,"hairpin":false,"comment":"naïve"}])")
        << true << QString();
    // Left to Qt: escapes, repeated keys, other keys and types, and every error.
    QTest::newRow("escaped quote")
        << QByteArray(R"([{"name":"a","external_port":"80","comment":"say \"hi\" \u00e9"}])")
        << false << QString();
    QTest::newRow("repeated key") << QByteArray(R"([{"name":"a","name":"b","external_port":"80"}])")
                                  << false << QString();
    QTest::newRow("another top-level key")
        << QByteArray(R"({"schema":1,"forwards":[],"note":"x"})") << false << QString();
    QTest::newRow("schema 1.0") << QByteArray(R"({"schema":1.0,"forwards":[]})") << false
                                << QString();
    QTest::newRow("schema 2") << QByteArray(R"({"schema":2,"forwards":[]})") << false
                              << QStringLiteral("schema 2");
    QTest::newRow("garbage after")
        << "[" + one + "] x" << false << QStringLiteral("not valid JSON");
    QTest::newRow("cut short") << QByteArray(R"([{"name":"a","external_po)") << false
                               << QStringLiteral("not valid JSON");
    QTest::newRow("invalid UTF-8") << QByteArray("[{\"name\":\"a\xff\",\"external_port\":\"80\"}]")
                                   << false << QStringLiteral("not valid JSON");
    QTest::newRow("overlong UTF-8")
        << QByteArray("[{\"name\":\"a\xc0\xaf\",\"external_port\":\"80\"}]") << false
        << QStringLiteral("not valid JSON");
    QTest::newRow("UTF-8 surrogate")
        << QByteArray("[{\"name\":\"a\xed\xa0\x80\",\"external_port\":\"80\"}]") << false
        << QStringLiteral("not valid JSON");
    QTest::newRow("unknown key") << QByteArray(R"([{"name":"a","external_port":"80","x":1}])")
                                 << false << QStringLiteral("forward 1 (a): unknown key 'x'");
    QTest::newRow("a number for a string")
        << QByteArray(R"([{"name":"a","external_port":80}])") << false
        << QStringLiteral("key 'external_port' must be a string, not a number");
    QTest::newRow("null") << QByteArray(R"([{"name":"a","external_port":"80","comment":null}])")
                          << false << QStringLiteral("not null");
    QTest::newRow("bad port") << QByteArray(R"([{"name":"a","external_port":"70000"}])") << false
                              << QStringLiteral("external port 70000 is out of range");
    QTest::newRow("no name") << QByteArray(R"([{"external_port":"80"}])") << false
                             << QStringLiteral("forward 1: a name is required");
    QTest::newRow("no forwards") << QByteArray(R"({"schema":1})") << false
                                 << QStringLiteral("no \"forwards\" array");
}

void TestCommonSerialization::documentFastPathAgreesWithQtJson() {
    QFETCH(QByteArray, json);
    QFETCH(bool, fast);
    QFETCH(QString, error);
    QList<Forward> viaQt, viaFast, viaDocument;
    const ValidationError qt = qtDocument(json, &viaQt);
    QCOMPARE(readForwardsDocumentFast(json, &viaFast), fast);
    const ValidationError e = forwardsFromDocument(json, &viaDocument);
    if (error.isEmpty()) {
        QVERIFY2(qt.ok(), qPrintable(qt.message));
        QVERIFY2(e.ok(), qPrintable(e.message));
        QCOMPARE(viaDocument, viaQt);
        if (fast)
            QCOMPARE(viaFast, viaQt);
    } else {
        QVERIFY(!qt.ok());
        QVERIFY2(e.message.contains(error), qPrintable(e.message));
        QVERIFY(viaDocument.isEmpty());
    }
}

QTEST_GUILESS_MAIN(TestCommonSerialization)
#include "test_common_serialization.moc"
