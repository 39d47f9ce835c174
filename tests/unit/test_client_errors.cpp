// SPDX-License-Identifier: GPL-3.0-or-later
// How the client names failures: D-Bus error replies become plain sentences and kinds, a real
// private dbus-daemon without the helper gives "not installed", a dead socket gives "no bus", and
// porticoctl turns them into the documented exit codes.
#include "command_runner.h"
#include "errors.h"
#include "helper_client.h"

#include <QDBusMessage>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;
using portico::HelperClient;
using portico::HelperError;

Q_DECLARE_METATYPE(portico::HelperError::Kind)

class TestClientErrors : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void errorReplies_data();
    void errorReplies();
    void helperNotOnBus();
    void noBus();
    void porticoctlExitCodes_data();
    void porticoctlExitCodes();

private:
    QTemporaryDir m_dir;
    QProcess m_daemon;
    QString m_address;
};

void TestClientErrors::initTestCase() {
    QVERIFY(m_dir.isValid());
    // A real, private dbus-daemon on which nobody owns io.github.portico.Helper1.
    const QString socket = m_dir.filePath(u"bus"_s);
    m_daemon.start(u"dbus-daemon"_s, {u"--session"_s, u"--nofork"_s, u"--print-address"_s,
                                      u"--address=unix:path="_s + socket});
    QVERIFY2(m_daemon.waitForStarted(5000),
             "dbus-daemon did not start: install it (tools/install-deps)");
    QVERIFY(m_daemon.waitForReadyRead(5000));
    m_address = QString::fromUtf8(m_daemon.readLine()).trimmed();
    QVERIFY2(m_address.startsWith(u"unix:"_s), qPrintable(m_address));
}

void TestClientErrors::cleanupTestCase() {
    m_daemon.terminate();
    m_daemon.waitForFinished(5000);
}

void TestClientErrors::errorReplies_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("message");
    QTest::addColumn<HelperError::Kind>("kind");
    QTest::addColumn<QString>("says"); // a part of the sentence shown to the person

    const QString refused = u"Not authorized: changing port forwards needs the polkit action "
                            "io.github.portico.manage; an administrator must allow it."_s;
    QTest::newRow("not authorized keeps the helper's sentence")
        << QString::fromLatin1(portico::errors::NotAuthorized) << refused
        << HelperError::Kind::NotAuthorized << refused;
    QTest::newRow("service unknown is not installed")
        << u"org.freedesktop.DBus.Error.ServiceUnknown"_s << u"The name is not activatable"_s
        << HelperError::Kind::NotInstalled << u"is Portico installed?"_s;
    QTest::newRow("no owner is not installed")
        << u"org.freedesktop.DBus.Error.NameHasNoOwner"_s << QString()
        << HelperError::Kind::NotInstalled << u"not running"_s;
    QTest::newRow("activation failure is not installed")
        << u"org.freedesktop.DBus.Error.Spawn.ChildExited"_s << u"exited with status 1"_s
        << HelperError::Kind::NotInstalled << u"exited with status 1"_s;
    QTest::newRow("no reply is a timeout")
        << u"org.freedesktop.DBus.Error.NoReply"_s << u"Did not receive a reply."_s
        << HelperError::Kind::TimedOut << u"did not answer in time"_s;
    QTest::newRow("disconnected is no bus")
        << u"org.freedesktop.DBus.Error.Disconnected"_s << u"Not connected"_s
        << HelperError::Kind::NoBus << u"the D-Bus system bus"_s;
    QTest::newRow("unknown method is a version mismatch")
        << u"org.freedesktop.DBus.Error.UnknownMethod"_s << u"No such method"_s
        << HelperError::Kind::Protocol << u"different versions"_s;
    QTest::newRow("stale generation keeps the helper's sentence")
        << QString::fromLatin1(portico::errors::StaleGeneration)
        << u"the forwards changed: generation 4 expected, 5 is current"_s
        << HelperError::Kind::Helper << u"generation 4 expected, 5 is current"_s;
    QTest::newRow("invalid args keeps the helper's sentence")
        << QString::fromLatin1(portico::errors::InvalidArgs)
        << u"external port 70000 is out of range 1–65535"_s << HelperError::Kind::Helper
        << u"external port 70000 is out of range 1–65535"_s;
}

void TestClientErrors::errorReplies() {
    QFETCH(QString, name);
    QFETCH(QString, message);
    QFETCH(HelperError::Kind, kind);
    QFETCH(QString, says);

    HelperClient client; // the system bus, never contacted here
    const HelperError e = client.errorFromReply(QDBusMessage::createError(name, message));
    QCOMPARE(e.kind, kind);
    QCOMPARE(e.name, name);
    QVERIFY2(e.message.contains(says), qPrintable(e.message));
    QVERIFY(!e.ok());

    const HelperError none = client.errorFromReply(
        QDBusMessage::createMethodCall(u"a.b"_s, u"/"_s, u"a.b"_s, u"C"_s).createReply());
    QVERIFY(none.ok());
}

void TestClientErrors::helperNotOnBus() {
    HelperClient client(m_address);
    const auto r = client.listForwards();
    QCOMPARE(r.error.kind, HelperError::Kind::NotInstalled);
    QCOMPARE(r.error.name, u"org.freedesktop.DBus.Error.ServiceUnknown"_s);
    QVERIFY2(r.error.message.contains(m_address), qPrintable(r.error.message));

    const HelperError e = client.setIpForwarding(true, true);
    QCOMPARE(e.kind, HelperError::Kind::NotInstalled);
}

void TestClientErrors::noBus() {
    const QString address = u"unix:path="_s + m_dir.filePath(u"no-such-bus"_s);
    HelperClient client(address);
    const auto r = client.ruleset();
    QCOMPARE(r.error.kind, HelperError::Kind::NoBus);
    QVERIFY2(r.error.message.contains(u"cannot connect to the D-Bus bus at "_s + address),
             qPrintable(r.error.message));
    // The asynchronous form fails the same way, without a crash or a hang.
    QDBusPendingCall call = client.listForwardsAsync();
    call.waitForFinished();
    QCOMPARE(client.decodeListForwards(call.reply()).error.kind, HelperError::Kind::NoBus);
}

void TestClientErrors::porticoctlExitCodes_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<bool>("useEnvironment"); // PORTICO_BUS_ADDRESS instead of --bus
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("stderrHas");

    QTest::newRow("help") << QStringList{u"--help"_s} << false << 0 << QString();
    QTest::newRow("command help") << QStringList{u"add"_s, u"--help"_s} << false << 0 << QString();
    QTest::newRow("no command is usage") << QStringList() << false << 2 << u"Usage: porticoctl"_s;
    QTest::newRow("unknown command is usage")
        << QStringList{u"frob"_s} << false << 2 << u"porticoctl: unknown command 'frob'"_s;
    QTest::newRow("bad port is usage, before any bus call")
        << QStringList{u"add"_s,   u"--name"_s, u"web"_s, u"--port"_s,
                       u"70000"_s, u"--to"_s,   u":80"_s}
        << false << 2 << u"porticoctl: external port 70000 is out of range 1–65535"_s;
    QTest::newRow("inconsistent forward is usage")
        << QStringList{u"add"_s,  u"--name"_s,         u"web"_s,  u"--port"_s,     u"80"_s,
                       u"--to"_s, u"[2001:db8::10]"_s, u"--on"_s, u"203.0.113.1"_s}
        << false << 2 << u"forward 'web': target address 2001:db8::10 is IPv6"_s;
    QTest::newRow("helper missing is failure")
        << QStringList{u"list"_s} << false << 1 << u"is Portico installed?"_s;
    QTest::newRow("bus from the environment")
        << QStringList{u"list"_s} << true << 1 << u"is Portico installed?"_s;
    QTest::newRow("import of a missing file is failure")
        << QStringList{u"import"_s, u"/nonexistent/portico.json"_s} << false << 1
        << u"cannot read /nonexistent/portico.json"_s;
}

void TestClientErrors::porticoctlExitCodes() {
    QFETCH(QStringList, args);
    QFETCH(bool, useEnvironment);
    QFETCH(int, exitCode);
    QFETCH(QString, stderrHas);

    QProcess ctl;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(u"PORTICO_BUS_ADDRESS"_s);
    if (useEnvironment)
        env.insert(u"PORTICO_BUS_ADDRESS"_s, m_address);
    else
        args = QStringList{u"--bus"_s, m_address} + args;
    ctl.setProcessEnvironment(env);
    ctl.start(QStringLiteral(PORTICOCTL_PATH), args);
    QVERIFY(ctl.waitForFinished(30000));
    const QString err = QString::fromUtf8(ctl.readAllStandardError());
    QCOMPARE(ctl.exitStatus(), QProcess::NormalExit);
    QVERIFY2(ctl.exitCode() == exitCode,
             qPrintable(u"exit %1, stderr: %2"_s.arg(ctl.exitCode()).arg(err)));
    if (!stderrHas.isEmpty())
        QVERIFY2(err.contains(stderrHas), qPrintable(err));
    if (exitCode == 0)
        QVERIFY(QString::fromUtf8(ctl.readAllStandardOutput()).startsWith(u"Usage: "_s));
}

QTEST_GUILESS_MAIN(TestClientErrors)
#include "test_client_errors.moc"
