// SPDX-License-Identifier: GPL-3.0-or-later
// portico: the desktop app. Parses --bus (or PORTICO_BUS_ADDRESS) and opens the main window.
#include "dbus_types.h"
#include "helper_client.h"
#include "main_window.h"

#include <QApplication>
#include <QCommandLineParser>

int main(int argc, char **argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("portico"));
    QApplication::setOrganizationName(QStringLiteral("portico"));
    QApplication::setApplicationDisplayName(QStringLiteral("Portico"));
    QApplication::setApplicationVersion(QStringLiteral(PORTICO_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("io.github.portico"));
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/icons/portico.svg")));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QApplication::translate("main", "Manage port forwards through portico-helper."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption busOption(
        QStringLiteral("bus"),
        QApplication::translate("main", "Talk to the helper on the D-Bus bus at ADDRESS instead "
                                        "of the system bus (also PORTICO_BUS_ADDRESS)."),
        QStringLiteral("ADDRESS"));
    parser.addOption(busOption);
    parser.process(app);

    portico::registerDBusTypes();
    const QString bus = parser.isSet(busOption)
                            ? parser.value(busOption)
                            : portico::HelperClient::busAddressFromEnvironment();
    portico::MainWindow window(bus);
    window.show();
    return app.exec();
}
