// SPDX-License-Identifier: GPL-3.0-or-later
// portico: the desktop app. Parses --bus (or PORTICO_BUS_ADDRESS) and opens the main window.
#include "dbus_types.h"
#include "helper_client.h"
#include "main_window.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QTableView>
#include <cstdio>

namespace {

// PORTICO_STARTUP_PROBE=1: print the time to the first paint of the table after the forwards
// have been read, then quit. For the startup benchmark (tests/gui/startup_bench.py).
class StartupProbe : public QObject {
public:
    StartupProbe(portico::MainWindow *window, const QElapsedTimer &clock)
        : QObject(window)
        , m_clock(clock) {
        connect(window, &portico::MainWindow::reloaded, this, [this, window](bool ok) {
            m_loaded = ok;
            auto *view = window->findChild<QTableView *>(QStringLiteral("forwardView"));
            view->viewport()->installEventFilter(this);
            view->viewport()->update();
        });
    }

protected:
    bool eventFilter(QObject *watched, QEvent *event) override {
        if (event->type() == QEvent::Paint && !m_done) {
            m_done = true;
            const bool loaded = m_loaded;
            const qint64 ms = m_clock.elapsed();
            QMetaObject::invokeMethod(
                this,
                [ms, loaded] {
                    std::printf("first-paint-ms %lld loaded %d\n", static_cast<long long>(ms),
                                loaded ? 1 : 0);
                    std::fflush(stdout);
                    QCoreApplication::exit(loaded ? 0 : 1);
                },
                Qt::QueuedConnection);
        }
        return QObject::eventFilter(watched, event);
    }

private:
    QElapsedTimer m_clock;
    bool m_loaded = false;
    bool m_done = false;
};

} // namespace

int main(int argc, char **argv) {
    QElapsedTimer clock;
    clock.start();
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
    if (qEnvironmentVariableIsSet("PORTICO_STARTUP_PROBE"))
        new StartupProbe(&window, clock);
    window.show();
    return app.exec();
}
