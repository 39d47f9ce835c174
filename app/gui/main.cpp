// SPDX-License-Identifier: GPL-3.0-or-later
// portico: the desktop app. Parses --bus (or PORTICO_BUS_ADDRESS) and opens the main window.
#include "dbus_types.h"
#include "helper_client.h"
#include "main_window.h"
#include "translations.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QFile>
#include <QTableView>
#include <cstdio>

namespace {

// VmRSS now (the peak comes from the parent's wait4): what stays once the load is over.
long currentRssKb() {
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : status.readAll().split('\n'))
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').value(0).toLong();
    return -1;
}

// PORTICO_STARTUP_PROBE=1: print the times from main() to the window's first paint, to the
// forwards read, and to the first paint of the table holding them, then quit. For the startup
// benchmark (bench/gui_startup.py).
class StartupProbe : public QObject {
public:
    StartupProbe(portico::MainWindow *window, const QElapsedTimer &clock)
        : QObject(window)
        , m_clock(clock)
        , m_viewport(window->findChild<QTableView *>(QStringLiteral("forwardView"))->viewport()) {
        m_viewport->installEventFilter(this);
        connect(window, &portico::MainWindow::reloaded, this, [this](bool ok) {
            m_loaded = ok;
            m_readMs = m_clock.elapsed();
            m_viewport->update();
        });
    }

protected:
    bool eventFilter(QObject *watched, QEvent *event) override {
        if (event->type() != QEvent::Paint || m_done)
            return QObject::eventFilter(watched, event);
        if (m_firstPaintMs < 0)
            m_firstPaintMs = m_clock.elapsed();
        if (m_readMs >= 0) {
            m_done = true;
            const qint64 first = m_firstPaintMs;
            const qint64 read = m_readMs;
            const qint64 loaded = m_clock.elapsed();
            const bool ok = m_loaded;
            QMetaObject::invokeMethod(
                this,
                [first, read, loaded, ok] {
                    std::printf("window-paint-ms %lld forwards-read-ms %lld first-paint-ms %lld "
                                "loaded %d rss-kb %ld\n",
                                static_cast<long long>(first), static_cast<long long>(read),
                                static_cast<long long>(loaded), ok ? 1 : 0, currentRssKb());
                    std::fflush(stdout);
                    QCoreApplication::exit(ok ? 0 : 1);
                },
                Qt::QueuedConnection);
        }
        return QObject::eventFilter(watched, event);
    }

private:
    QElapsedTimer m_clock;
    QWidget *m_viewport;
    qint64 m_firstPaintMs = -1;
    qint64 m_readMs = -1;
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
    // Before the parser and the window: --help and the forms are translated when they are built.
    portico::installTranslations(app);

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
