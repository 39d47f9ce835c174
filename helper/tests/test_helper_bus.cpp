// SPDX-License-Identifier: GPL-3.0-or-later
// The real portico-helper on a private dbus-daemon with no polkitd: its introspection data is
// the interface XML, every call's arguments are checked before polkit is asked, and with polkit
// out of reach every gated method is refused and nothing changes. (The lab tests do the same
// against a real polkitd, as allowed and refused users.) Run as root, the helper gets a network
// namespace of its own, so that not even a bug could touch the machine's ruleset.
#include "dbus_types.h"
#include "state_store.h"

#include <QDBusArgument>
#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QDBusMessage>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <QXmlStreamReader>

#include <unistd.h>

using namespace portico;

namespace {

const QString service = QStringLiteral("io.github.portico.Helper1");
const QString path = QStringLiteral("/io/github/portico/Helper1");
const QString notAuthorized = QStringLiteral("io.github.portico.Error.NotAuthorized");
const QString invalidArgs = QStringLiteral("org.freedesktop.DBus.Error.InvalidArgs");

// "Method(in)->(out)" and "signal Name(args)" for our interface, in document order.
QStringList members(const QString &xml) {
    QStringList out;
    QXmlStreamReader r(xml);
    bool ours = false;
    QString current, in, outArgs, kind;
    while (!r.atEnd()) {
        r.readNext();
        const auto name = r.name();
        if (r.isStartElement() && name == QLatin1String("interface"))
            ours = r.attributes().value(QLatin1String("name")) == service;
        if (!ours)
            continue;
        if (r.isStartElement() &&
            (name == QLatin1String("method") || name == QLatin1String("signal"))) {
            current = r.attributes().value(QLatin1String("name")).toString();
            kind = name.toString();
            in.clear();
            outArgs.clear();
        } else if (r.isStartElement() && name == QLatin1String("arg")) {
            const bool isOut =
                r.attributes().value(QLatin1String("direction")) == QLatin1String("out");
            (isOut ? outArgs : in) +=
                r.attributes().value(QLatin1String("name")).toString() + QLatin1Char(':') +
                r.attributes().value(QLatin1String("type")).toString() + QLatin1Char(' ');
        } else if (r.isEndElement() &&
                   (name == QLatin1String("method") || name == QLatin1String("signal"))) {
            out << QStringLiteral("%1 %2(%3)->(%4)").arg(kind, current, in, outArgs);
        } else if (r.isEndElement() && name == QLatin1String("interface")) {
            ours = false;
        }
    }
    return out;
}

QVariantMap forwardMap(const QString &name, const QString &port) {
    return {{QStringLiteral("name"), name},
            {QStringLiteral("external_port"), port},
            {QStringLiteral("target_address"), QStringLiteral("198.51.100.10")},
            {QStringLiteral("target_port"), QStringLiteral("8080")}};
}

QByteArray readAll(const QString &file) {
    QFile f(file);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

} // namespace

class TestHelperBus : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    QProcess m_bus;
    QProcess m_helper;
    QString m_address;
    QByteArray m_stateBefore;

    QString stateDir() const { return m_dir.filePath(QStringLiteral("state")); }

    void startHelper(QProcess *p, const QStringList &extra = {}) {
        QStringList args{QStringLiteral(PORTICO_HELPER_PATH), QStringLiteral("--bus"), m_address,
                         QStringLiteral("--state-dir"), stateDir()};
        args += extra;
        if (::geteuid() == 0) {
            p->setProgram(QStringLiteral("unshare"));
            p->setArguments(QStringList{QStringLiteral("--net")} + args);
        } else {
            p->setProgram(args.takeFirst());
            p->setArguments(args);
        }
        p->start();
    }

    QDBusConnection bus() { return QDBusConnection(QStringLiteral("test")); }

    QDBusMessage call(const QString &method, const QVariantList &args = {},
                      const QString &iface = service) {
        QDBusMessage m = QDBusMessage::createMethodCall(service, path, iface, method);
        m.setArguments(args);
        return bus().call(m, QDBus::Block, 30000);
    }

    quint64 generation() {
        return call(QStringLiteral("ListForwards")).arguments().value(1).toULongLong();
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        registerDBusTypes();
        // One saved forward, so that UpdateForward and RemoveForward have something to act on.
        SavedState seed;
        Forward f;
        f.id = QStringLiteral("f1");
        f.name = QStringLiteral("seed");
        f.externalPort = {80, 80};
        f.targetAddress = QHostAddress(QStringLiteral("198.51.100.10"));
        f.targetPort = {8080, 8080};
        seed.forwards = {f};
        seed.generation = 7;
        seed.nextMark = 2;
        StateStore store(stateDir());
        QCOMPARE(store.save(seed), QString());
        m_stateBefore = readAll(store.filePath());

        m_bus.setProgram(QStringLiteral("dbus-daemon"));
        m_bus.setArguments(
            {QStringLiteral("--session"), QStringLiteral("--nofork"), QStringLiteral("--nopidfile"),
             QStringLiteral("--print-address"),
             QStringLiteral("--address=unix:path=") + m_dir.filePath(QStringLiteral("bus"))});
        m_bus.start();
        QVERIFY2(m_bus.waitForReadyRead(10000), "dbus-daemon printed no address");
        m_address = QString::fromUtf8(m_bus.readLine()).trimmed();
        QVERIFY(!m_address.isEmpty());
        QVERIFY(QDBusConnection::connectToBus(m_address, QStringLiteral("test")).isConnected());

        m_helper.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        startHelper(&m_helper);
        QVERIFY(m_helper.waitForStarted());
        QTRY_VERIFY_WITH_TIMEOUT(bus().interface()->isServiceRegistered(service), 15000);
    }

    void cleanupTestCase() {
        m_helper.terminate(); // SIGTERM: the helper ends between two calls
        QVERIFY(m_helper.waitForFinished(10000));
        QCOMPARE(m_helper.exitCode(), 0);
        QDBusConnection::disconnectFromBus(QStringLiteral("test"));
        m_bus.terminate();
        m_bus.waitForFinished(5000);
    }

    void introspectionIsTheInterfaceXml() {
        const QDBusMessage r = call(QStringLiteral("Introspect"), {},
                                    QStringLiteral("org.freedesktop.DBus.Introspectable"));
        QCOMPARE(r.type(), QDBusMessage::ReplyMessage);
        const QString xml = QString::fromUtf8(readAll(QStringLiteral(PORTICO_DBUS_XML_PATH)));
        const QStringList expected = members(xml);
        QVERIFY(expected.size() >= 10);
        QCOMPARE(members(r.arguments().value(0).toString()), expected);
    }

    void argumentsAreCheckedBeforePolkitIsAsked_data() {
        QTest::addColumn<QString>("method");
        QTest::addColumn<QVariantList>("args");
        QTest::addColumn<QString>("error");
        QTest::addColumn<QString>("words");
        QVariantMap colour = forwardMap(QStringLiteral("new"), QStringLiteral("81"));
        colour.insert(QStringLiteral("colour"), QStringLiteral("red"));
        QVariantMap wrongType = forwardMap(QStringLiteral("new"), QStringLiteral("81"));
        wrongType.insert(QStringLiteral("enabled"), QStringLiteral("yes"));
        QVariantMap withId = forwardMap(QStringLiteral("new"), QStringLiteral("81"));
        withId.insert(QStringLiteral("id"), QStringLiteral("f9"));
        QTest::newRow("unknown key") << QStringLiteral("AddForward") << QVariantList{colour}
                                     << invalidArgs << QStringLiteral("colour");
        QTest::newRow("wrong type") << QStringLiteral("AddForward") << QVariantList{wrongType}
                                    << invalidArgs << QStringLiteral("enabled");
        QTest::newRow("port out of range")
            << QStringLiteral("AddForward")
            << QVariantList{forwardMap(QStringLiteral("new"), QStringLiteral("70000"))}
            << invalidArgs << QStringLiteral("70000");
        QTest::newRow("an id for a new forward")
            << QStringLiteral("AddForward") << QVariantList{withId} << invalidArgs
            << QStringLiteral("f9");
        QTest::newRow("wrong signature")
            << QStringLiteral("AddForward") << QVariantList{QStringLiteral("web")} << invalidArgs
            << QStringLiteral("a{sv}");
        QTest::newRow("name already used")
            << QStringLiteral("AddForward")
            << QVariantList{forwardMap(QStringLiteral("seed"), QStringLiteral("81"))}
            << QStringLiteral("io.github.portico.Error.Duplicate") << QStringLiteral("seed");
        QTest::newRow("port already claimed")
            << QStringLiteral("AddForward")
            << QVariantList{forwardMap(QStringLiteral("other"), QStringLiteral("80"))}
            << QStringLiteral("io.github.portico.Error.Duplicate") << QStringLiteral("80");
        QTest::newRow("no such forward")
            << QStringLiteral("RemoveForward") << QVariantList{QStringLiteral("f99")}
            << QStringLiteral("io.github.portico.Error.NotFound") << QStringLiteral("f99");
        QTest::newRow("id cannot change")
            << QStringLiteral("UpdateForward")
            << QVariantList{QStringLiteral("f1"),
                            QVariantMap{{QStringLiteral("id"), QStringLiteral("f2")}}}
            << invalidArgs << QStringLiteral("f2");
        QTest::newRow("stale generation")
            << QStringLiteral("ReplaceForwards")
            << QVariantList{QVariant::fromValue(QList<QVariantMap>{}),
                            QVariant::fromValue(quint64(3))}
            << QStringLiteral("io.github.portico.Error.StaleGeneration") << QStringLiteral("7");
        // issue 5
        QTest::newRow("diagnose: no such forward")
            << QStringLiteral("Diagnose") << QVariantList{QStringLiteral("f99")}
            << QStringLiteral("io.github.portico.Error.NotFound") << QStringLiteral("f99");
        QTest::newRow("diagnose: empty id") << QStringLiteral("Diagnose")
                                            << QVariantList{QString()} << invalidArgs
                                            << QStringLiteral("empty");
    }

    void argumentsAreCheckedBeforePolkitIsAsked() {
        QFETCH(QString, method);
        QFETCH(QVariantList, args);
        QFETCH(QString, error);
        QFETCH(QString, words);
        const QDBusMessage r = call(method, args);
        QCOMPARE(r.type(), QDBusMessage::ErrorMessage);
        QCOMPARE(r.errorName(), error);
        QVERIFY2(r.errorMessage().contains(words), qPrintable(r.errorMessage()));
        QCOMPARE(readAll(StateStore(stateDir()).filePath()), m_stateBefore);
    }

    void withoutPolkitEveryGatedMethodIsRefused_data() {
        QTest::addColumn<QString>("method");
        QTest::addColumn<QVariantList>("args");
        QTest::addColumn<QString>("action");
        const QString manage = QStringLiteral("io.github.portico.manage");
        QTest::newRow("AddForward")
            << QStringLiteral("AddForward")
            << QVariantList{forwardMap(QStringLiteral("new"), QStringLiteral("81"))} << manage;
        QTest::newRow("UpdateForward")
            << QStringLiteral("UpdateForward")
            << QVariantList{QStringLiteral("f1"),
                            QVariantMap{{QStringLiteral("comment"), QStringLiteral("changed")}}}
            << manage;
        QTest::newRow("RemoveForward")
            << QStringLiteral("RemoveForward") << QVariantList{QStringLiteral("f1")} << manage;
        QTest::newRow("ReplaceForwards") << QStringLiteral("ReplaceForwards")
                                         << QVariantList{QVariant::fromValue(QList<QVariantMap>{}),
                                                         QVariant::fromValue(quint64(7))}
                                         << manage;
        QTest::newRow("SetIpForwarding")
            << QStringLiteral("SetIpForwarding") << QVariantList{true, true} << manage;
        QTest::newRow("GetCounters") << QStringLiteral("GetCounters") << QVariantList{}
                                     << QStringLiteral("io.github.portico.monitor");
        QTest::newRow("Diagnose") << QStringLiteral("Diagnose")
                                  << QVariantList{QStringLiteral("f1")}
                                  << QStringLiteral("io.github.portico.monitor"); // issue 5
        // issue 5
        QTest::newRow("RulesetSummary") << QStringLiteral("RulesetSummary") << QVariantList{}
                                        << QStringLiteral("io.github.portico.monitor");
    }

    void withoutPolkitEveryGatedMethodIsRefused() {
        QFETCH(QString, method);
        QFETCH(QVariantList, args);
        QFETCH(QString, action);
        const QDBusMessage r = call(method, args);
        QCOMPARE(r.type(), QDBusMessage::ErrorMessage);
        QCOMPARE(r.errorName(), notAuthorized);
        QVERIFY2(r.errorMessage().contains(action) &&
                     r.errorMessage().contains(QLatin1String("administrator")),
                 qPrintable(r.errorMessage()));
        QCOMPARE(readAll(StateStore(stateDir()).filePath()), m_stateBefore);
        QCOMPARE(generation(), quint64(7));
    }

    void theOpenMethodsAnswerEveryone() {
        QDBusMessage r = call(QStringLiteral("ListForwards"));
        QCOMPARE(r.type(), QDBusMessage::ReplyMessage);
        QCOMPARE(r.signature(), QStringLiteral("aa{sv}t"));
        const auto forwards = qdbus_cast<QList<QVariantMap>>(r.arguments().at(0));
        QCOMPARE(forwards.size(), 1);
        QCOMPARE(forwards[0].value(QStringLiteral("name")).toString(), QStringLiteral("seed"));
        QCOMPARE(forwards[0].value(QStringLiteral("id")).toString(), QStringLiteral("f1"));
        QCOMPARE(r.arguments().at(1).toULongLong(), quint64(7));

        r = call(QStringLiteral("GetIpForwarding"));
        QCOMPARE(r.type(), QDBusMessage::ReplyMessage);
        QCOMPARE(r.signature(), QStringLiteral("bb"));

        r = call(QStringLiteral("Ruleset"));
        QCOMPARE(r.type(), QDBusMessage::ReplyMessage);
        QVERIFY(r.arguments().value(0).toString().contains(QLatin1String("table inet portico")));
    }

    void anUnknownMethodIsRefused() {
        const QDBusMessage r = call(QStringLiteral("Frobnicate"));
        QCOMPARE(r.type(), QDBusMessage::ErrorMessage);
        QCOMPARE(r.errorName(), QStringLiteral("org.freedesktop.DBus.Error.UnknownMethod"));
    }

    void aSecondHelperCannotTakeTheName() {
        QProcess second;
        startHelper(&second);
        QVERIFY(second.waitForFinished(15000));
        QCOMPARE(second.exitCode(), 1);
        QVERIFY2(second.readAllStandardError().contains("already owned"), "no reason given");
    }

    void unknownOptionsAreAUsageError() {
        QProcess p;
        p.start(QStringLiteral(PORTICO_HELPER_PATH), {QStringLiteral("--frobnicate")});
        QVERIFY(p.waitForFinished(10000));
        QCOMPARE(p.exitCode(), 2);
        QVERIFY(p.readAllStandardError().contains("frobnicate"));
    }
};

QTEST_GUILESS_MAIN(TestHelperBus)
#include "test_helper_bus.moc"
