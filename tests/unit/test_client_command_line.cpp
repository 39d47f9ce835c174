// SPDX-License-Identifier: GPL-3.0-or-later
// porticoctl's command line: the --to syntax, the options of each command and the usage errors.
#include "command_line.h"
#include "command_runner.h"

#include <QTest>

using namespace Qt::StringLiterals;
using portico::Cidr;
using portico::Forward;
using portico::PortRange;
using portico::Protocol;
using namespace portico::ctl;

Q_DECLARE_METATYPE(portico::ctl::Command)

class TestClientCommandLine : public QObject {
    Q_OBJECT
private slots:
    void parseTarget_data();
    void parseTarget();
    void formatTargetRoundTrip_data();
    void formatTargetRoundTrip();
    void commands_data();
    void commands();
    void busBeforeOrAfterCommand_data();
    void busBeforeOrAfterCommand();
    void addSetsEveryField();
    void repeatedFromAccumulates();
    void updateRecordsOnlyGivenKeys();
    void ipForwardArgument_data();
    void ipForwardArgument();
    void helpForCommand_data();
    void helpForCommand();
    void doubleDashEndsOptions();
    void chainTableInHookOrderThenPriority();
    void tableColumns_data();
    void tableColumns();
};

void TestClientCommandLine::parseTarget_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("address"); // empty = this host
    QTest::addColumn<QString>("port");    // empty = the external port
    QTest::addColumn<QString>("error");   // a part of the message; empty = accepted

    QTest::newRow("local redirect") << u":1234"_s << QString() << u"1234"_s << QString();
    QTest::newRow("local redirect range")
        << u":8000-8010"_s << QString() << u"8000-8010"_s << QString();
    QTest::newRow("ipv4 keeps the port")
        << u"198.51.100.10"_s << u"198.51.100.10"_s << QString() << QString();
    QTest::newRow("ipv4 with port")
        << u"198.51.100.10:8080"_s << u"198.51.100.10"_s << u"8080"_s << QString();
    QTest::newRow("ipv4 with range")
        << u"198.51.100.10:9000-9010"_s << u"198.51.100.10"_s << u"9000-9010"_s << QString();
    QTest::newRow("ipv6 in brackets with port")
        << u"[2001:db8::10]:8080"_s << u"2001:db8::10"_s << u"8080"_s << QString();
    QTest::newRow("ipv6 in brackets keeps the port")
        << u"[2001:db8::10]"_s << u"2001:db8::10"_s << QString() << QString();

    QTest::newRow("empty") << QString() << QString() << QString() << u"target is empty"_s;
    QTest::newRow("colon without port") << u":"_s << QString() << QString() << u"no port"_s;
    QTest::newRow("address and colon without port")
        << u"198.51.100.10:"_s << QString() << QString() << u"no port"_s;
    QTest::newRow("ipv6 without brackets")
        << u"2001:db8::10"_s << QString() << QString() << u"put it in brackets"_s;
    QTest::newRow("ipv6 with port but no brackets")
        << u"2001:db8::10:8080"_s << QString() << QString() << u"put it in brackets"_s;
    QTest::newRow("unclosed bracket")
        << u"[2001:db8::10:8080"_s << QString() << QString() << u"does not close"_s;
    QTest::newRow("empty brackets") << u"[]:80"_s << QString() << QString() << u":PORT"_s;
    QTest::newRow("junk after bracket")
        << u"[2001:db8::10]8080"_s << QString() << QString() << u"after ']'"_s;
    QTest::newRow("bad ipv4 names the address")
        << u"198.51.100.999:80"_s << QString() << QString()
        << u"target address 198.51.100.999 is not an IPv4 or IPv6 address"_s;
    QTest::newRow("port out of range names the port")
        << u"198.51.100.10:70000"_s << QString() << QString()
        << u"target port 70000 is out of range 1–65535"_s;
    QTest::newRow("port not a number") << u":http"_s << QString() << QString() << u"target port"_s;
    QTest::newRow("reversed range")
        << u":9010-9000"_s << QString() << QString() << u"target port"_s;
}

void TestClientCommandLine::parseTarget() {
    QFETCH(QString, text);
    QFETCH(QString, address);
    QFETCH(QString, port);
    QFETCH(QString, error);

    QHostAddress a(u"192.0.2.1"_s); // must be overwritten on success, kept on failure
    PortRange p{1, 1};
    const QString e = portico::ctl::parseTarget(text, &a, &p);
    if (!error.isEmpty()) {
        QVERIFY2(e.contains(error), qPrintable(u"got: '%1'"_s.arg(e)));
        QCOMPARE(a, QHostAddress(u"192.0.2.1"_s));
        return;
    }
    QVERIFY2(e.isEmpty(), qPrintable(e));
    QCOMPARE(a.isNull(), address.isEmpty());
    if (!address.isEmpty())
        QCOMPARE(a, QHostAddress(address));
    QCOMPARE(p.isNull(), port.isEmpty());
    if (!port.isEmpty())
        QCOMPARE(p.toString(), port);
}

void TestClientCommandLine::formatTargetRoundTrip_data() {
    QTest::addColumn<QString>("text");
    QTest::newRow("local") << u":1234"_s;
    QTest::newRow("ipv4") << u"198.51.100.10"_s;
    QTest::newRow("ipv4 port") << u"198.51.100.10:8080"_s;
    QTest::newRow("ipv6") << u"[2001:db8::10]"_s;
    QTest::newRow("ipv6 range") << u"[2001:db8::10]:9000-9010"_s;
}

void TestClientCommandLine::formatTargetRoundTrip() {
    QFETCH(QString, text);
    QHostAddress a;
    PortRange p;
    QCOMPARE(portico::ctl::parseTarget(text, &a, &p), QString());
    QCOMPARE(formatTarget(a, p), text);
}

void TestClientCommandLine::commands_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<Command>("command");
    QTest::addColumn<QString>("error"); // a part of the usage error; empty = accepted

    const QStringList add = {
        u"add"_s, u"--name"_s, u"web"_s, u"--port"_s, u"80"_s, u"--to"_s, u"198.51.100.10:8080"_s};
    QTest::newRow("nothing") << QStringList() << Command::None << QString();
    QTest::newRow("list") << QStringList{u"list"_s} << Command::List << QString();
    QTest::newRow("list json") << QStringList{u"list"_s, u"--json"_s} << Command::List << QString();
    QTest::newRow("counters json")
        << QStringList{u"counters"_s, u"--json"_s} << Command::Counters << QString();
    QTest::newRow("show") << QStringList{u"show"_s, u"web"_s} << Command::Show << QString();
    QTest::newRow("add") << add << Command::Add << QString();
    QTest::newRow("add with = values")
        << QStringList{u"add"_s, u"--name=web"_s, u"--port=80"_s, u"--to=:8080"_s} << Command::Add
        << QString();
    QTest::newRow("remove") << QStringList{u"remove"_s, u"f3"_s} << Command::Remove << QString();
    QTest::newRow("rm is remove") << QStringList{u"rm"_s, u"web"_s} << Command::Remove << QString();
    QTest::newRow("enable") << QStringList{u"enable"_s, u"web"_s} << Command::Enable << QString();
    QTest::newRow("disable") << QStringList{u"disable"_s, u"web"_s} << Command::Disable
                             << QString();
    QTest::newRow("update") << QStringList{u"update"_s, u"web"_s, u"--port"_s, u"81"_s}
                            << Command::Update << QString();
    QTest::newRow("ip-forward") << QStringList{u"ip-forward"_s} << Command::IpForward << QString();
    QTest::newRow("ruleset") << QStringList{u"ruleset"_s} << Command::Ruleset << QString();
    QTest::newRow("export to stdout") << QStringList{u"export"_s} << Command::Export << QString();
    QTest::newRow("export to file")
        << QStringList{u"export"_s, u"/tmp/x.json"_s} << Command::Export << QString();
    QTest::newRow("import") << QStringList{u"import"_s, u"x.json"_s} << Command::Import
                            << QString();
    QTest::newRow("import stdin") << QStringList{u"import"_s, u"-"_s} << Command::Import
                                  << QString();

    QTest::newRow("watch") << QStringList{u"watch"_s} << Command::Watch << QString();
    QTest::newRow("watch count") << QStringList{u"watch"_s, u"--count"_s, u"2"_s} << Command::Watch
                                 << QString();
    QTest::newRow("watch count zero")
        << QStringList{u"watch"_s, u"--count=0"_s} << Command::Watch << u"--count needs"_s;
    QTest::newRow("watch count word")
        << QStringList{u"watch"_s, u"--count"_s, u"many"_s} << Command::Watch << u"--count needs"_s;
    // issue 5
    QTest::newRow("diagnose") << QStringList{u"diagnose"_s, u"web"_s} << Command::Diagnose
                              << QString();
    QTest::newRow("diagnose json")
        << QStringList{u"diagnose"_s, u"web"_s, u"--json"_s} << Command::Diagnose << QString();
    QTest::newRow("diagnose with a trace")
        << QStringList{u"diagnose"_s, u"web"_s, u"--trace"_s, u"10"_s} << Command::Diagnose
        << QString();
    QTest::newRow("diagnose trace too long")
        << QStringList{u"diagnose"_s, u"web"_s, u"--trace=61"_s} << Command::Diagnose
        << u"--trace needs"_s;
    QTest::newRow("diagnose needs a name")
        << QStringList{u"diagnose"_s} << Command::Diagnose << u"NAME or ID"_s;
    QTest::newRow("count is only for watch")
        << QStringList{u"list"_s, u"--count"_s, u"2"_s} << Command::List << u"'--count'"_s;
    QTest::newRow("unknown command")
        << QStringList{u"frobnicate"_s} << Command::None << u"unknown command 'frobnicate'"_s;
    QTest::newRow("unknown option for add") << (QStringList(add) << u"--colour"_s) << Command::Add
                                            << u"unknown option '--colour' for add"_s;
    QTest::newRow("json is not an option of add")
        << (QStringList(add) << u"--json"_s) << Command::Add << u"'--json'"_s;
    QTest::newRow("option before the command")
        << QStringList{u"--json"_s, u"list"_s} << Command::None << u"before the command"_s;
    QTest::newRow("short option") << QStringList{u"list"_s, u"-x"_s} << Command::List
                                  << u"unknown option '-x'"_s;
    QTest::newRow("list takes no argument")
        << QStringList{u"list"_s, u"web"_s} << Command::List << u"no arguments"_s;
    QTest::newRow("remove needs a name")
        << QStringList{u"remove"_s} << Command::Remove << u"NAME or ID"_s;
    QTest::newRow("remove takes one name")
        << QStringList{u"remove"_s, u"a"_s, u"b"_s} << Command::Remove << u"one argument"_s;
    QTest::newRow("import needs a file")
        << QStringList{u"import"_s} << Command::Import << u"needs a FILE"_s;
    QTest::newRow("add needs a name")
        << QStringList{u"add"_s, u"--port"_s, u"80"_s, u"--to"_s, u":81"_s} << Command::Add
        << u"--name"_s;
    QTest::newRow("add needs a port")
        << QStringList{u"add"_s, u"--name"_s, u"w"_s, u"--to"_s, u":81"_s} << Command::Add
        << u"--port"_s;
    QTest::newRow("add needs a target")
        << QStringList{u"add"_s, u"--name"_s, u"w"_s, u"--port"_s, u"80"_s} << Command::Add
        << u"--to"_s;
    QTest::newRow("value missing at the end")
        << QStringList{u"add"_s, u"--name"_s} << Command::Add << u"--name needs a value"_s;
    QTest::newRow("flag with a value")
        << (QStringList(add) << u"--hairpin=yes"_s) << Command::Add << u"takes no value"_s;
    QTest::newRow("name given twice")
        << (QStringList(add) << u"--name"_s << u"other"_s) << Command::Add << u"twice"_s;
    QTest::newRow("masquerade and its opposite")
        << (QStringList(add) << u"--masquerade"_s << u"--no-masquerade"_s) << Command::Add
        << u"twice"_s;
    QTest::newRow("port out of range")
        << QStringList{u"add"_s, u"--name"_s, u"w"_s, u"--port"_s, u"70000"_s, u"--to"_s, u":81"_s}
        << Command::Add << u"external port 70000 is out of range 1–65535"_s;
    QTest::newRow("bad protocol") << (QStringList(add) << u"--proto"_s << u"sctp"_s) << Command::Add
                                  << u"protocol 'sctp' is not tcp, udp or tcp+udp"_s;
    QTest::newRow("bad source names it")
        << (QStringList(add) << u"--from"_s << u"198.51.100.7/24"_s) << Command::Add
        << u"source 198.51.100.7/24 has host bits set"_s;
    QTest::newRow("overlong interface") << (QStringList(add) << u"--in"_s << u"abcdefghijklmnopq"_s)
                                        << Command::Add << u"abcdefghijklmnopq"_s;
    QTest::newRow("bad external address") << (QStringList(add) << u"--on"_s << u"203.0.113.300"_s)
                                          << Command::Add << u"external address 203.0.113.300"_s;
    QTest::newRow("overlong name")
        << QStringList{u"add"_s, u"--name"_s, QString(65, u'n'), u"--port"_s,
                       u"80"_s,  u"--to"_s,   u":81"_s}
        << Command::Add << u"name"_s;
    QTest::newRow("update needs a change")
        << QStringList{u"update"_s, u"web"_s} << Command::Update << u"at least one option"_s;
    QTest::newRow("bus without address")
        << QStringList{u"list"_s, u"--bus"_s} << Command::List << u"--bus needs"_s;
    // issue 5
    QTest::newRow("chains") << QStringList{u"chains"_s, u"--json"_s} << Command::Chains
                            << QString();
    QTest::newRow("chains takes no argument")
        << QStringList{u"chains"_s, u"web"_s} << Command::Chains << u"no arguments"_s;
    QTest::newRow("trace") << QStringList{u"trace"_s, u"web"_s, u"--seconds"_s, u"60"_s}
                           << Command::Trace << QString();
    QTest::newRow("trace needs a forward")
        << QStringList{u"trace"_s} << Command::Trace << u"NAME or ID"_s;
    QTest::newRow("trace seconds over 60")
        << QStringList{u"trace"_s, u"web"_s, u"--seconds=61"_s} << Command::Trace
        << u"--seconds needs a number of seconds from 1 to 60"_s;
    QTest::newRow("trace seconds zero") << QStringList{u"trace"_s, u"web"_s, u"--seconds"_s, u"0"_s}
                                        << Command::Trace << u"from 1 to 60"_s;
    QTest::newRow("seconds is only for trace")
        << QStringList{u"list"_s, u"--seconds"_s, u"5"_s} << Command::List << u"'--seconds'"_s;
}

void TestClientCommandLine::commands() {
    QFETCH(QStringList, args);
    QFETCH(Command, command);
    QFETCH(QString, error);

    const ParseResult r = parseCommandLine(args);
    QCOMPARE(r.invocation.command, command);
    if (error.isEmpty()) {
        QVERIFY2(r.ok(), qPrintable(r.error));
    } else {
        QVERIFY2(!r.ok(), "accepted, but should be a usage error");
        QVERIFY2(r.error.contains(error), qPrintable(u"got: '%1'"_s.arg(r.error)));
    }
}

void TestClientCommandLine::busBeforeOrAfterCommand_data() {
    QTest::addColumn<QStringList>("args");
    const QString bus = u"unix:path=/tmp/portico-test/bus"_s;
    QTest::newRow("before") << QStringList{u"--bus"_s, bus, u"list"_s};
    QTest::newRow("before with =") << QStringList{u"--bus="_s + bus, u"list"_s};
    QTest::newRow("after") << QStringList{u"list"_s, u"--bus"_s, bus};
    QTest::newRow("between options") << QStringList{u"list"_s, u"--bus"_s, bus, u"--json"_s};
}

void TestClientCommandLine::busBeforeOrAfterCommand() {
    QFETCH(QStringList, args);
    const ParseResult r = parseCommandLine(args);
    QVERIFY2(r.ok(), qPrintable(r.error));
    QCOMPARE(r.invocation.command, Command::List);
    QCOMPARE(r.invocation.busAddress, u"unix:path=/tmp/portico-test/bus"_s);
}

void TestClientCommandLine::addSetsEveryField() {
    const ParseResult r =
        parseCommandLine({u"add"_s,          u"--name"_s,        u"web"_s,
                          u"--proto"_s,      u"tcp+udp"_s,       u"--port"_s,
                          u"8000-8010"_s,    u"--to"_s,          u"198.51.100.10:9000-9010"_s,
                          u"--in"_s,         u"eth0"_s,          u"--on"_s,
                          u"203.0.113.1"_s,  u"--from"_s,        u"203.0.113.0/24"_s,
                          u"--masquerade"_s, u"--hairpin"_s,     u"--disabled"_s,
                          u"--comment"_s,    u"the web server"_s});
    QVERIFY2(r.ok(), qPrintable(r.error));
    const Forward &f = r.invocation.forward;
    QCOMPARE(f.name, u"web"_s);
    QCOMPARE(f.protocol, Protocol::TcpUdp);
    QCOMPARE(f.externalPort, (PortRange{8000, 8010}));
    QCOMPARE(f.targetAddress, QHostAddress(u"198.51.100.10"_s));
    QCOMPARE(f.targetPort, (PortRange{9000, 9010}));
    QCOMPARE(f.interface, u"eth0"_s);
    QCOMPARE(f.externalAddress, QHostAddress(u"203.0.113.1"_s));
    QCOMPARE(f.sources.size(), 1);
    QCOMPARE(f.sources.first().toString(), u"203.0.113.0/24"_s);
    QVERIFY(f.masquerade);
    QVERIFY(f.hairpin);
    QVERIFY(!f.enabled);
    QCOMPARE(f.comment, u"the web server"_s);
    QVERIFY(f.id.isEmpty());
}

void TestClientCommandLine::repeatedFromAccumulates() {
    const ParseResult r = parseCommandLine(
        {u"add"_s, u"--name"_s, u"web"_s, u"--port"_s, u"80"_s, u"--to"_s, u"198.51.100.10"_s,
         u"--from"_s, u"203.0.113.10"_s, u"--from"_s, u"203.0.113.64/26,203.0.113.128/25"_s});
    QVERIFY2(r.ok(), qPrintable(r.error));
    QStringList got;
    for (const Cidr &c : r.invocation.forward.sources)
        got.append(c.toString());
    QCOMPARE(got, (QStringList{u"203.0.113.10/32"_s, u"203.0.113.64/26"_s, u"203.0.113.128/25"_s}));
}

void TestClientCommandLine::updateRecordsOnlyGivenKeys() {
    ParseResult r = parseCommandLine({u"update"_s, u"web"_s, u"--port"_s, u"81"_s});
    QVERIFY2(r.ok(), qPrintable(r.error));
    QCOMPARE(r.invocation.ref, u"web"_s);
    QCOMPARE(r.invocation.givenKeys, QSet<QString>{u"external_port"_s});

    r = parseCommandLine({u"update"_s, u"web"_s, u"--to"_s, u":1234"_s, u"--no-hairpin"_s});
    QVERIFY2(r.ok(), qPrintable(r.error));
    QCOMPARE(r.invocation.givenKeys,
             (QSet<QString>{u"target_address"_s, u"target_port"_s, u"hairpin"_s}));
    QVERIFY(r.invocation.forward.targetAddress.isNull());
}

void TestClientCommandLine::ipForwardArgument_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("expected"); // -1 unset, 0 off, 1 on, 2 error
    QTest::newRow("show") << QStringList{u"ip-forward"_s} << -1;
    QTest::newRow("on") << QStringList{u"ip-forward"_s, u"on"_s} << 1;
    QTest::newRow("off") << QStringList{u"ip-forward"_s, u"off"_s} << 0;
    QTest::newRow("other word") << QStringList{u"ip-forward"_s, u"yes"_s} << 2;
    QTest::newRow("two words") << QStringList{u"ip-forward"_s, u"on"_s, u"off"_s} << 2;
}

void TestClientCommandLine::ipForwardArgument() {
    QFETCH(QStringList, args);
    QFETCH(int, expected);
    const ParseResult r = parseCommandLine(args);
    if (expected == 2) {
        QVERIFY(!r.ok());
        return;
    }
    QVERIFY2(r.ok(), qPrintable(r.error));
    QCOMPARE(r.invocation.ipForward.has_value(), expected >= 0);
    if (expected >= 0)
        QCOMPARE(*r.invocation.ipForward, expected == 1);
}

void TestClientCommandLine::helpForCommand_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<Command>("command");
    QTest::newRow("--help") << QStringList{u"--help"_s} << Command::None;
    QTest::newRow("-h") << QStringList{u"-h"_s} << Command::None;
    QTest::newRow("add --help") << QStringList{u"add"_s, u"--help"_s} << Command::Add;
    QTest::newRow("help add") << QStringList{u"help"_s, u"add"_s} << Command::Add;
    QTest::newRow("import --help without a file")
        << QStringList{u"import"_s, u"--help"_s} << Command::Import;
}

void TestClientCommandLine::helpForCommand() {
    QFETCH(QStringList, args);
    QFETCH(Command, command);
    const ParseResult r = parseCommandLine(args);
    QVERIFY2(r.ok(), qPrintable(r.error));
    QVERIFY(r.invocation.help);
    QCOMPARE(r.invocation.command, command);
    QVERIFY(usage(command).startsWith(u"Usage: porticoctl"_s));
}

void TestClientCommandLine::doubleDashEndsOptions() {
    const ParseResult r = parseCommandLine({u"remove"_s, u"--"_s, u"--odd-name"_s});
    QVERIFY2(r.ok(), qPrintable(r.error));
    QCOMPARE(r.invocation.ref, u"--odd-name"_s);
}

void TestClientCommandLine::tableColumns_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("external");
    QTest::addColumn<QString>("target");

    QTest::newRow("any address, other host keeps the port")
        << QStringList{u"--port"_s, u"80"_s, u"--to"_s, u"198.51.100.10"_s} << u"*:80"_s
        << u"198.51.100.10:80"_s;
    QTest::newRow("local redirect") << QStringList{u"--port"_s, u"4321"_s, u"--to"_s, u":1234"_s}
                                    << u"*:4321"_s << u"this host :1234"_s;
    QTest::newRow("interface and address")
        << QStringList{u"--port"_s, u"80"_s,   u"--to"_s, u"198.51.100.10:8080"_s,
                       u"--in"_s,   u"wan0"_s, u"--on"_s, u"203.0.113.1"_s}
        << u"203.0.113.1:80 in wan0"_s << u"198.51.100.10:8080"_s;
    QTest::newRow("ipv6") << QStringList{u"--port"_s, u"80"_s,
                                         u"--to"_s,   u"[2001:db8:1::10]:8080"_s,
                                         u"--on"_s,   u"2001:db8::1"_s}
                          << u"[2001:db8::1]:80"_s << u"[2001:db8:1::10]:8080"_s;
}

void TestClientCommandLine::chainTableInHookOrderThenPriority() {
    portico::RulesetSummary s;
    const auto chain = [](const char *hook, int priority, const char *table, bool ours) {
        portico::ChainSummary c;
        c.family = u"inet"_s;
        c.hook = QLatin1String(hook);
        c.priority = priority;
        c.table = QLatin1String(table);
        c.chain = c.hook + u'_' + QString::number(priority);
        c.type = u"filter"_s;
        c.policy = u"accept"_s;
        c.ours = ours;
        return c;
    };
    s.chains = {chain("postrouting", 100, "portico", true),
                chain("forward", 10, "firewalld", false), chain("forward", 0, "portico", true),
                chain("prerouting", -100, "portico", true), chain("forward", -5, "filter", false)};
    const QStringList lines = formatChainTable(s).split(u'\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 6);
    QStringList order;
    for (const QString &l : lines.mid(1))
        order << l.section(u' ', 0, 0, QString::SectionSkipEmpty) + u' ' +
                     l.section(u' ', 1, 1, QString::SectionSkipEmpty) + u' ' +
                     l.section(u' ', 3, 3, QString::SectionSkipEmpty);
    QCOMPARE(order, (QStringList{u"prerouting -100 portico*"_s, u"forward -5 filter"_s,
                                 u"forward 0 portico*"_s, u"forward 10 firewalld"_s,
                                 u"postrouting 100 portico*"_s}));
}

void TestClientCommandLine::tableColumns() {
    QFETCH(QStringList, args);
    QFETCH(QString, external);
    QFETCH(QString, target);
    const ParseResult r = parseCommandLine(QStringList{u"add"_s, u"--name"_s, u"web"_s} + args);
    QVERIFY2(r.ok(), qPrintable(r.error));
    QCOMPARE(formatExternal(r.invocation.forward), external);
    QCOMPARE(formatTargetColumn(r.invocation.forward), target);

    Forward f = r.invocation.forward;
    f.id = u"f7"_s;
    const QStringList lines = formatForwardTable({f}).split(u'\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 2);
    QVERIFY(lines.at(0).startsWith(u"ID"_s));
    QVERIFY2(lines.at(1).contains(target), qPrintable(lines.at(1)));
    QVERIFY2(lines.at(1).startsWith(u"f7  web"_s), qPrintable(lines.at(1)));
}

QTEST_APPLESS_MAIN(TestClientCommandLine)
#include "test_client_command_line.moc"
