// SPDX-License-Identifier: GPL-3.0-or-later
// portico-helper: the command line (fixed: --bus, --state-dir, --restore, --idle-timeout), the
// bus connection and name, and the boot-time restore.
#include "dbus_types.h"
#include "helper_service.h"
#include "idle_guard.h"
#include "ip_forwarding.h"
#include "ruleset_writer.h"
#include "state_store.h"
#include "timing.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QSocketNotifier>
#include <QTimer>

#include <csignal>
#include <cstdio>
#include <sys/signalfd.h>
#include <unistd.h>

using namespace portico;

namespace {

void printError(const QString &text) {
    std::fprintf(stderr, "portico-helper: %s\n", qPrintable(text));
}

int restore(const QString &stateDir) {
    StateStore store(stateDir);
    const StateLoad loaded = store.load();
    if (!loaded.fatal.isEmpty()) {
        printError(loaded.fatal);
        return 1;
    }
    if (!loaded.report.isEmpty()) {
        printError(loaded.report);
        return 1;
    }
    RulesetWriter writer;
    if (ApplyError e = writer.apply(loaded.state.forwards); !e.ok()) {
        printError(QStringLiteral("cannot restore the forwards of %1: %2")
                       .arg(store.filePath(), e.message));
        return 1;
    }
    QString forwarding = QStringLiteral("IP forwarding left as it is");
    if (loaded.state.ipForwarding) {
        const IpForwardingSysctl sysctl;
        if (QString error = sysctl.write(*loaded.state.ipForwarding); !error.isEmpty()) {
            printError(
                QStringLiteral("restored the forwards, but not IP forwarding: %1").arg(error));
            return 1;
        }
        forwarding =
            QStringLiteral("IPv4 forwarding %1, IPv6 forwarding %2")
                .arg(loaded.state.ipForwarding->v4 ? QLatin1String("on") : QLatin1String("off"),
                     loaded.state.ipForwarding->v6 ? QLatin1String("on") : QLatin1String("off"));
    }
    std::fprintf(stderr, "portico-helper: restored %lld forwards from %s; %s\n",
                 qlonglong(loaded.state.forwards.size()), qPrintable(store.filePath()),
                 qPrintable(forwarding));
    return 0;
}

} // namespace

int main(int argc, char **argv) {
    // SIGTERM and SIGINT are read from a signalfd by the event loop, so they end the helper
    // between two calls, never in the middle of a change (after the kernel, before the file).
    // Blocked before any thread exists, so that no thread takes them.
    sigset_t stopSignals;
    sigemptyset(&stopSignals);
    sigaddset(&stopSignals, SIGTERM);
    sigaddset(&stopSignals, SIGINT);
    sigaddset(&stopSignals, SIGHUP);
    sigprocmask(SIG_BLOCK, &stopSignals, nullptr);

    QElapsedTimer startup;
    startup.start();
    qint64 lastStep = 0;
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("portico-helper"));
    QCoreApplication::setApplicationVersion(QStringLiteral(PORTICO_VERSION));
    qSetMessagePattern(QStringLiteral("portico-helper: %{if-warning}warning: %{endif}"
                                      "%{if-critical}error: %{endif}%{message}"));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("The privileged helper of Portico: serves io.github.portico.Helper1 on the "
                       "system bus and writes the nftables table inet portico."));
    const QCommandLineOption helpOption = parser.addHelpOption();
    const QCommandLineOption versionOption = parser.addVersionOption();
    const QCommandLineOption busOption(QStringLiteral("bus"),
                                       QStringLiteral("Serve on the bus at ADDRESS instead of the "
                                                      "system bus."),
                                       QStringLiteral("ADDRESS"));
    const QCommandLineOption stateDirOption(QStringLiteral("state-dir"),
                                            QStringLiteral("Keep the state in DIR (default "
                                                           "/etc/portico)."),
                                            QStringLiteral("DIR"), QStringLiteral("/etc/portico"));
    const QCommandLineOption restoreOption(QStringLiteral("restore"),
                                           QStringLiteral("Apply the saved forwards and IP "
                                                          "forwarding, then exit."));
    const QCommandLineOption idleOption(QStringLiteral("idle-timeout"),
                                        QStringLiteral("Exit after SECONDS without calls (default "
                                                       "60 on the system bus, never with --bus; 0 "
                                                       "= never)."),
                                        QStringLiteral("SECONDS"));
    parser.addOptions({busOption, stateDirOption, restoreOption, idleOption});

    if (!parser.parse(QCoreApplication::arguments())) {
        printError(parser.errorText() + QStringLiteral("\nTry 'portico-helper --help'."));
        return 2;
    }
    if (parser.isSet(helpOption)) {
        std::fputs(qPrintable(parser.helpText()), stdout);
        return 0;
    }
    if (parser.isSet(versionOption)) {
        std::printf("portico-helper %s\n", PORTICO_VERSION);
        return 0;
    }
    if (!parser.positionalArguments().isEmpty()) {
        printError(QStringLiteral("unexpected argument '%1'\nTry 'portico-helper --help'.")
                       .arg(parser.positionalArguments().constFirst()));
        return 2;
    }
    const QString stateDir = parser.value(stateDirOption);
    if (stateDir.isEmpty()) {
        printError(QStringLiteral("--state-dir needs a directory"));
        return 2;
    }
    const QString busAddress = parser.value(busOption);
    int idleSeconds = busAddress.isEmpty() && !parser.isSet(busOption) ? 60 : 0;
    if (parser.isSet(idleOption)) {
        bool ok = false;
        const uint value = parser.value(idleOption).toUInt(&ok);
        if (!ok || value > 24u * 3600u) {
            printError(QStringLiteral("--idle-timeout takes a number of seconds from 0 to 86400, "
                                      "not '%1'")
                           .arg(parser.value(idleOption)));
            return 2;
        }
        idleSeconds = int(value);
    }
    if (parser.isSet(busOption) && busAddress.isEmpty()) {
        printError(QStringLiteral("--bus needs an address, like unix:path=/run/portico/bus"));
        return 2;
    }

    if (parser.isSet(restoreOption))
        return restore(stateDir);

    const double appMs = msSince(startup, &lastStep);
    registerDBusTypes();
    QDBusConnection bus =
        busAddress.isEmpty() ? QDBusConnection::systemBus()
                             : QDBusConnection::connectToBus(busAddress, QStringLiteral("portico"));
    const QString busLabel = busAddress.isEmpty() ? QStringLiteral("the system bus") : busAddress;
    if (!bus.isConnected()) {
        printError(
            QStringLiteral("cannot connect to %1: %2").arg(busLabel, bus.lastError().message()));
        return 1;
    }

    const double busMs = msSince(startup, &lastStep);
    StateStore store(stateDir);
    const StateLoad loaded = store.load();
    if (!loaded.fatal.isEmpty()) {
        printError(loaded.fatal);
        return 1;
    }
    const double stateMs = msSince(startup, &lastStep);
    if (!loaded.report.isEmpty())
        qWarning("%s", qPrintable(loaded.report));

    RulesetWriter writer;
    IdleGuard idle(idleSeconds);
    HelperService service(bus, std::move(store), &writer, IpForwardingSysctl(), &idle);
    QString error;
    if (!service.init(loaded.state, loaded.report, &error)) {
        printError(error);
        return 1;
    }
    const double initMs = msSince(startup, &lastStep);
    // The object first, then the name: a call that arrives as soon as the name is ours must find
    // the object.
    if (!bus.registerVirtualObject(HelperService::objectPath, &service)) {
        printError(QStringLiteral("cannot register %1 on %2: %3")
                       .arg(HelperService::objectPath, busLabel, bus.lastError().message()));
        return 1;
    }
    const QDBusReply<QDBusConnectionInterface::RegisterServiceReply> name =
        bus.interface()->registerService(HelperService::serviceName,
                                         QDBusConnectionInterface::DontQueueService,
                                         QDBusConnectionInterface::DontAllowReplacement);
    if (!name.isValid()) {
        printError(QStringLiteral("cannot own the name %1 on %2: %3")
                       .arg(HelperService::serviceName, busLabel, name.error().message()));
        return 1;
    }
    if (name.value() != QDBusConnectionInterface::ServiceRegistered) {
        printError(QStringLiteral("the name %1 is already owned on %2: is another portico-helper "
                                  "running?")
                       .arg(HelperService::serviceName, busLabel));
        return 1;
    }
    qCDebug(lcTiming,
            "start-up: application %.2f ms, bus %.2f ms, state %.2f ms, service %.2f ms, "
            "name %.2f ms",
            appMs, busMs, stateMs, initMs, msSince(startup, &lastStep));

    QObject::connect(&idle, &IdleGuard::idle, &app, [&]() {
        qInfo("no calls for %d seconds; exiting", idleSeconds);
        app.quit();
    });
    // Without a bus there is nothing to serve; QtDBus has no signal for this, so look.
    QTimer busWatch;
    QObject::connect(&busWatch, &QTimer::timeout, &app, [&]() {
        if (!bus.isConnected()) {
            qWarning("lost the connection to %s; exiting", qPrintable(busLabel));
            app.exit(1);
        }
    });
    busWatch.start(2000);

    const int signalFd = signalfd(-1, &stopSignals, SFD_CLOEXEC | SFD_NONBLOCK);
    if (signalFd < 0) {
        printError(QStringLiteral("cannot create a signalfd"));
        return 1;
    }
    QSocketNotifier signalNotifier(signalFd, QSocketNotifier::Read);
    QObject::connect(&signalNotifier, &QSocketNotifier::activated, &app, [&]() {
        signalfd_siginfo info;
        if (::read(signalFd, &info, sizeof info) != ssize_t(sizeof info))
            return;
        qInfo("%s; exiting", strsignal(int(info.ssi_signo)));
        app.quit();
    });

    qInfo("serving %s on %s; %lld forwards, state in %s", qPrintable(HelperService::serviceName),
          qPrintable(busLabel), qlonglong(loaded.state.forwards.size()),
          qPrintable(store.filePath()));
    return app.exec();
}
