// SPDX-License-Identifier: GPL-3.0-or-later
// porticoctl: parses the command line, connects to the helper's bus and runs one command.
#include "command_line.h"
#include "command_runner.h"
#include "helper_client.h"
#include "polkit_agent.h"

#include <QCoreApplication>
#include <QTextStream>

#include <cstdio>

using namespace Qt::StringLiterals;

int main(int argc, char **argv) {
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(u"porticoctl"_s);
    QCoreApplication::setApplicationVersion(QStringLiteral(PORTICO_VERSION));

    QTextStream out(stdout);
    QTextStream err(stderr);

    const QStringList args = QCoreApplication::arguments().mid(1);
    if (args == QStringList{u"--version"_s}) {
        out << "porticoctl " << QCoreApplication::applicationVersion() << Qt::endl;
        return portico::ctl::ExitOk;
    }
    const portico::ctl::ParseResult parsed = portico::ctl::parseCommandLine(args);
    if (!parsed.ok()) {
        const auto c = parsed.invocation.command;
        err << "porticoctl: " << parsed.error << '\n'
            << "Try 'porticoctl "
            << (c == portico::ctl::Command::None ? QString() : portico::ctl::commandName(c) + u' ')
            << "--help'." << Qt::endl;
        return portico::ctl::ExitUsage;
    }
    const portico::ctl::Invocation &inv = parsed.invocation;
    if (inv.help) {
        out << portico::ctl::usage(inv.command);
        out.flush();
        return portico::ctl::ExitOk;
    }
    if (inv.command == portico::ctl::Command::None) {
        // No command is a usage error: the usage goes where errors go.
        err << portico::ctl::usage(inv.command);
        err.flush();
        return portico::ctl::ExitUsage;
    }

    const QString bus = inv.busAddress.isEmpty()
                            ? portico::HelperClient::busAddressFromEnvironment()
                            : inv.busAddress;
    portico::HelperClient client(bus);
    portico::ctl::TtyAgent agent;
    if (inv.askPassword && portico::ctl::mayNeedAuthorization(inv))
        agent.start(bus.toLocal8Bit().constData());
    portico::ctl::CommandRunner runner(client, out, err);
    const int code = runner.run(inv);
    out.flush();
    err.flush();
    return code;
}
