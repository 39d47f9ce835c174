// SPDX-License-Identifier: GPL-3.0-or-later
// The Connections tab against the real helper in the lab (tests/gui/run_gui_tests.py starts it,
// this binary is passed with --test-binary): real HTTP through a forward shows up in the model
// with the right tuples and the forward's name within a second, and goes when its conntrack
// entry is deleted with conntrack(8); kill asks first and removes the kernel's entry; the two
// tabs lead to each other; a user polkit refuses sees a clear page and no connections.
#include "connection_table_model.h"
#include "connections_view.h"
#include "forward_table_model.h"
#include "gui_driver.h"
#include "main_window.h"
#include "ui_main_window.h"

#include "dbus_types.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocalSocket>
#include <QMessageBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableView>
#include <QTest>

using namespace portico;
using namespace portico::guitest;
using Model = ConnectionTableModel;

class TestGuiConnections : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanup();

    void connectionAppearsThenGoesWithItsEntry();
    void killAsksThenRemovesTheEntry();
    void tabsLeadToEachOther();
    void accountingNoticeTurnsItOn();
    void countersAndRateMoveWithLiveTraffic();
    void refusedAuthorization();
    void screenshots();

private:
    bool isUser() const { return env("PORTICO_GUI_ROLE") == QLatin1StringView("user"); }
    MainWindow *openWindow();
    ConnectionsView *openConnections();
    bool ctl(const QStringList &args, QString *output = nullptr);
    bool addForward(const QString &name, int port, QString *output);
    QString http(int port);
    QString conntrack(const QStringList &args);
    // The row of the flow from the WAN client to the gateway's `port`, or -1.
    int rowOfFlow(int port) const;

    MainWindow *m_window = nullptr;
    QString m_gw;
    QString m_client;
    QString m_server;
};

void TestGuiConnections::initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    registerDBusTypes();
    QVERIFY2(!env("PORTICO_BUS_ADDRESS").isEmpty() && !env("PORTICO_GUI_DRIVER").isEmpty(),
             "run through tests/gui/run_gui_tests.py --test-binary, which starts the lab");
    m_gw = env("PORTICO_LAB_WAN_GW4");
    m_client = env("PORTICO_LAB_WAN_CLIENT4");
    m_server = env("PORTICO_LAB_LAN_SERVER4");
}

void TestGuiConnections::init() {
    DRIVE(reset, op("reset")); // no forwards, conntrack flushed
}

void TestGuiConnections::cleanup() {
    if (m_window) {
        m_window->revert();
        m_window->close();
        delete m_window;
        m_window = nullptr;
    }
}

MainWindow *TestGuiConnections::openWindow() {
    m_window = new MainWindow(env("PORTICO_BUS_ADDRESS"));
    QSignalSpy loaded(m_window, &MainWindow::reloaded);
    m_window->resize(1280, 560);
    m_window->show();
    if (!loaded.wait(30000))
        return nullptr;
    return m_window;
}

ConnectionsView *TestGuiConnections::openConnections() {
    ConnectionsView *view = m_window->connectionsView();
    m_window->ui()->views->setCurrentWidget(view); // the first show opens the stream
    return view;
}

bool TestGuiConnections::ctl(const QStringList &args, QString *output) {
    QJsonObject req = op("ctl");
    req.insert(QStringLiteral("args"), QJsonArray::fromStringList(args));
    const DriverReply r = drive(req);
    const QJsonObject o = r.result.toObject();
    if (output)
        *output = o.value(QStringLiteral("stdout")).toString() +
                  o.value(QStringLiteral("stderr")).toString() + r.error;
    return r.ok && o.value(QStringLiteral("rc")).toInt() == 0;
}

bool TestGuiConnections::addForward(const QString &name, int port, QString *output) {
    return ctl({QStringLiteral("add"), QStringLiteral("--name"), name, QStringLiteral("--proto"),
                QStringLiteral("tcp"), QStringLiteral("--port"), QString::number(port),
                QStringLiteral("--to"), m_server + QStringLiteral(":8080")},
               output);
}

QString TestGuiConnections::http(int port) {
    QJsonObject req = op("http");
    req.insert(QStringLiteral("url"), QStringLiteral("http://%1:%2/").arg(m_gw).arg(port));
    req.insert(QStringLiteral("source"), m_client);
    const DriverReply r = drive(req);
    return r.ok ? r.result.toString() : QString();
}

QString TestGuiConnections::conntrack(const QStringList &args) {
    QJsonObject req = op("conntrack");
    req.insert(QStringLiteral("args"), QJsonArray::fromStringList(args));
    const DriverReply r = drive(req);
    return r.ok ? r.result.toString() : QStringLiteral("driver error: ") + r.error;
}

int TestGuiConnections::rowOfFlow(int port) const {
    const Model *m = m_window->connectionsView()->model();
    const QString suffix = QStringLiteral(" → %1:%2").arg(m_gw).arg(port);
    for (int r = 0; r < m->rowCount(); ++r) {
        const QString original = m->index(r, Model::OriginalColumn).data().toString();
        if (original.startsWith(m_client + QLatin1Char(':')) && original.endsWith(suffix))
            return r;
    }
    return -1;
}

void TestGuiConnections::connectionAppearsThenGoesWithItsEntry() {
    if (isUser())
        QSKIP("runs as portico-admin");
    QString out;
    QVERIFY2(addForward(QStringLiteral("web"), 80, &out), qPrintable(out));
    QVERIFY(openWindow());
    ConnectionsView *view = openConnections();
    Model *m = view->model();
    QTRY_VERIFY_WITH_TIMEOUT(view->isStreaming() && !m->isLoading(), 15000);
    QVERIFY2(!view->showingMessage(), qPrintable(view->messageText()));
    QCOMPARE(rowOfFlow(80), -1);

    QVERIFY(!http(80).isEmpty()); // through the forward to the LAN server
    QElapsedTimer since;
    since.start();
    QTRY_VERIFY_WITH_TIMEOUT(rowOfFlow(80) >= 0, 1000);
    const qint64 shownAfter = since.elapsed();
    const int row = rowOfFlow(80);
    const QString original = m->index(row, Model::OriginalColumn).data().toString();
    QCOMPARE(m->index(row, Model::ProtocolColumn).data().toString(), QStringLiteral("tcp"));
    QCOMPARE(m->index(row, Model::TranslatedColumn).data().toString(),
             m_server + QStringLiteral(":8080"));
    QCOMPARE(m->index(row, Model::ForwardColumn).data().toString(), QStringLiteral("web"));
    QVERIFY2(m->index(row, Model::FlagsColumn).data().toString().contains(QStringLiteral("DNAT")),
             qPrintable(m->index(row, Model::FlagsColumn).data().toString()));
    const quint32 id = m->idAt(row);
    qInfo("shown %lld ms after the HTTP request returned: %s", shownAfter, qPrintable(original));

    // The same flow, as conntrack(8) on the gateway prints it: the client's port matches.
    const QString clientPort =
        original.section(QLatin1Char(' '), 0, 0).section(QLatin1Char(':'), 1);
    const QString listed = conntrack({QStringLiteral("-L"), QStringLiteral("-p"),
                                      QStringLiteral("tcp"), QStringLiteral("--orig-src"), m_client,
                                      QStringLiteral("--orig-port-dst"), QStringLiteral("80")});
    QVERIFY2(listed.contains(QStringLiteral("sport=%1 dport=80").arg(clientPort)),
             qPrintable(listed));
    QVERIFY2(listed.contains(QStringLiteral("src=%1 dst=%2 sport=8080").arg(m_server, m_client)),
             qPrintable(listed));

    // conntrack -D, not the app, removes it: the model follows the kernel's destroy event.
    const QString deleted =
        conntrack({QStringLiteral("-D"), QStringLiteral("-p"), QStringLiteral("tcp"),
                   QStringLiteral("--orig-src"), m_client, QStringLiteral("--orig-port-dst"),
                   QStringLiteral("80")});
    QVERIFY2(!deleted.startsWith(QStringLiteral("driver error")), qPrintable(deleted));
    QTRY_VERIFY_WITH_TIMEOUT(!m->containsId(id), 2000);
    QCOMPARE(rowOfFlow(80), -1);
    QVERIFY2(view->countText().contains(QStringLiteral(" shown of ")),
             qPrintable(view->countText()));
}

void TestGuiConnections::killAsksThenRemovesTheEntry() {
    if (isUser())
        QSKIP("runs as portico-admin");
    QString out;
    QVERIFY2(addForward(QStringLiteral("web"), 80, &out), qPrintable(out));
    QVERIFY(openWindow());
    ConnectionsView *view = openConnections();
    Model *m = view->model();
    QTRY_VERIFY_WITH_TIMEOUT(view->isStreaming() && !m->isLoading(), 15000);
    QVERIFY(!http(80).isEmpty());
    QTRY_VERIFY_WITH_TIMEOUT(rowOfFlow(80) >= 0, 2000);
    const quint32 id = m->idAt(rowOfFlow(80));
    view->table()->selectRow(rowOfFlow(80));
    QCOMPARE(view->selectedIds(), QList<quint32>{id});

    const auto confirm = [this]() -> QMessageBox * {
        for (auto *b : m_window->findChildren<QMessageBox *>(QStringLiteral("killConfirm")))
            if (b->isVisible())
                return b;
        return nullptr;
    };
    // Cancel: nothing happens.
    view->setFocus();
    view->killSelected();
    QMessageBox *box = nullptr;
    QTRY_VERIFY((box = confirm()));
    QVERIFY2(box->text().contains(QStringLiteral("connections (1)")), qPrintable(box->text()));
    box->reject();
    QTRY_VERIFY(!confirm());
    QTest::qWait(300);
    QVERIFY(m->containsId(id));

    // Confirmed: KillConnections with the id; the kernel's entry goes, and so does the row.
    QSignalSpy killed(view, &ConnectionsView::killFinished);
    view->killSelected();
    QTRY_VERIFY((box = confirm()));
    QTest::mouseClick(box->findChild<QPushButton *>(QStringLiteral("killConfirmButton")),
                      Qt::LeftButton);
    // Under way: said beside the count, and no second kill meanwhile.
    QCOMPARE(view->killStatusText(), QStringLiteral("Killing connections (1)…"));
    QVERIFY(!view->findChild<QAction *>(QStringLiteral("actionKillConnections"))->isEnabled());
    QVERIFY(killed.wait(15000));
    QCOMPARE(killed.first().at(0).toBool(), true);
    QCOMPARE(killed.first().at(1).toUInt(), 1u);
    QCOMPARE(view->killStatusText(), QStringLiteral("Connections killed: 1."));
    QTRY_VERIFY_WITH_TIMEOUT(!m->containsId(id), 2000);
    const QString listed = conntrack({QStringLiteral("-L"), QStringLiteral("-p"),
                                      QStringLiteral("tcp"), QStringLiteral("--orig-src"), m_client,
                                      QStringLiteral("--orig-port-dst"), QStringLiteral("80")});
    QVERIFY2(!listed.contains(QStringLiteral("dport=80")), qPrintable(listed));
}

void TestGuiConnections::tabsLeadToEachOther() {
    if (isUser())
        QSKIP("runs as portico-admin");
    QString out;
    QVERIFY2(addForward(QStringLiteral("web"), 80, &out), qPrintable(out));
    QVERIFY2(addForward(QStringLiteral("alt"), 81, &out), qPrintable(out));
    QVERIFY(openWindow());
    QVERIFY(!http(80).isEmpty());
    QVERIFY(!http(81).isEmpty());

    // "Show connections" on the forward "web": the tab opens filtered on it.
    ForwardTableModel *forwards = m_window->model();
    QString webKey;
    for (int r = 0; r < forwards->rowCount(); ++r)
        if (forwards->rowAt(r).forward.name == QLatin1StringView("web"))
            webKey = forwards->rowAt(r).key;
    QVERIFY(!webKey.isEmpty());
    m_window->selectKey(webKey);
    QAction *show = m_window->findChild<QAction *>(QStringLiteral("actionShowConnections"));
    QVERIFY(show);
    show->trigger();
    ConnectionsView *view = m_window->connectionsView();
    QCOMPARE(m_window->ui()->views->currentWidget(), view);
    Model *m = view->model();
    QTRY_VERIFY_WITH_TIMEOUT(view->isStreaming() && !m->isLoading() && m->totalCount() >= 2, 15000);
    QCOMPARE(m->filter().forwardId, webKey);
    QTRY_COMPARE(m->rowCount(), 1);
    QCOMPARE(m->index(0, Model::ForwardColumn).data().toString(), QStringLiteral("web"));
    QVERIFY(rowOfFlow(80) == 0 && rowOfFlow(81) < 0);

    // Double-clicking it leads back to the forward, selected.
    const QRect cell = view->table()->visualRect(m->index(0, Model::OriginalColumn));
    QTest::mouseClick(view->table()->viewport(), Qt::LeftButton, {}, cell.center());
    QTest::mouseDClick(view->table()->viewport(), Qt::LeftButton, {}, cell.center());
    QTRY_COMPARE(m_window->ui()->views->currentWidget(), m_window->ui()->forwardsTab);
    QCOMPARE(m_window->selectedKeys(), QStringList{webKey});
}

void TestGuiConnections::accountingNoticeTurnsItOn() {
    if (isUser())
        QSKIP("runs as portico-admin");
    QString out;
    QVERIFY2(ctl({QStringLiteral("accounting"), QStringLiteral("off")}, &out), qPrintable(out));
    QVERIFY2(addForward(QStringLiteral("web"), 80, &out), qPrintable(out));
    QVERIFY(openWindow());
    ConnectionsView *view = openConnections();
    auto *notice = view->findChild<QWidget *>(QStringLiteral("accountingNotice"));
    QVERIFY(notice);
    QTRY_VERIFY_WITH_TIMEOUT(view->isStreaming() && notice->isVisible(), 15000);
    QTest::mouseClick(view->findChild<QPushButton *>(QStringLiteral("accountingButton")),
                      Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!notice->isVisible(), 10000);
    QVERIFY2(ctl({QStringLiteral("accounting")}, &out), qPrintable(out));
    QVERIFY2(out.contains(QStringLiteral("on")), qPrintable(out));
    // New flows count their packets now. The kernel's events carry no counters (only its dumps
    // and destroy events do), so a new snapshot shows them: read the table again.
    QVERIFY(!http(80).isEmpty());
    Model *m = view->model();
    QTRY_VERIFY_WITH_TIMEOUT(rowOfFlow(80) >= 0, 2000);
    view->start();
    QTRY_VERIFY2_WITH_TIMEOUT(
        view->isStreaming() && !m->isLoading() && rowOfFlow(80) >= 0,
        qPrintable(view->messageText() + QLatin1Char(' ') + view->countText()), 15000);
    QVERIFY(!notice->isVisible());
    QVERIFY2(m->index(rowOfFlow(80), Model::PacketsColumn).data(Model::RawValueRole).toULongLong() >
                 0,
             qPrintable(m->index(rowOfFlow(80), Model::PacketsColumn).data().toString()));
    QVERIFY2(ctl({QStringLiteral("accounting"), QStringLiteral("off")}, &out), qPrintable(out));
}

// The kernel's events carry no counters; the helper's counter refresh (about every second)
// does: a live UDP flow's bytes keep rising in the view while it runs, with a non-zero rate.
void TestGuiConnections::countersAndRateMoveWithLiveTraffic() {
    if (isUser())
        QSKIP("runs as portico-admin");
    QString out;
    QVERIFY2(ctl({QStringLiteral("accounting"), QStringLiteral("on")}, &out), qPrintable(out));
    QVERIFY2(
        ctl({QStringLiteral("add"), QStringLiteral("--name"), QStringLiteral("dns"),
             QStringLiteral("--proto"), QStringLiteral("udp"), QStringLiteral("--port"),
             QStringLiteral("5300"), QStringLiteral("--to"), m_server + QStringLiteral(":8080")},
            &out),
        qPrintable(out));
    QVERIFY(openWindow());
    ConnectionsView *view = openConnections();
    Model *m = view->model();
    QTRY_VERIFY_WITH_TIMEOUT(view->isStreaming() && !m->isLoading(), 15000);
    QJsonObject req = op("udpStream");
    req.insert(QStringLiteral("port"), 5300);
    req.insert(QStringLiteral("seconds"), 5);
    DRIVE(started, req);
    const auto bytes = [&]() {
        const int r = rowOfFlow(5300);
        return r < 0 ? 0ull
                     : m->index(r, Model::BytesColumn).data(Model::RawValueRole).toULongLong();
    };
    const auto rate = [&]() {
        const int r = rowOfFlow(5300);
        return r < 0 ? 0.0 : m->index(r, Model::RateColumn).data(Model::RawValueRole).toDouble();
    };
    QTRY_VERIFY_WITH_TIMEOUT(bytes() > 0, 3000);
    const quint64 first = bytes();
    QTRY_VERIFY_WITH_TIMEOUT(bytes() > first, 2500);
    const quint64 second = bytes();
    QTRY_VERIFY_WITH_TIMEOUT(bytes() > second, 2500);
    // About 20 datagrams of 528 bytes a second each way: some kB/s, not 0 and not wild.
    const double r = rate();
    const QString shown = m->index(rowOfFlow(5300), Model::RateColumn).data().toString();
    QVERIFY2(r > 5000 && r < 100000, qPrintable(shown));
    QVERIFY2(shown != QStringLiteral("0 B/s"), qPrintable(shown));
    DRIVE(released, op("releaseConnections"));
    // Stopped: the next refresh brings the rate down to 0.
    QTRY_COMPARE_WITH_TIMEOUT(rate(), 0.0, 4000);
    QVERIFY2(ctl({QStringLiteral("accounting"), QStringLiteral("off")}, &out), qPrintable(out));
}

void TestGuiConnections::refusedAuthorization() {
    if (!isUser())
        QSKIP("runs as portico-user, whom polkit refuses (run_gui_tests.py does that)");
    QVERIFY(openWindow());
    ConnectionsView *view = openConnections();
    QTRY_VERIFY_WITH_TIMEOUT(view->showingMessage(), 15000);
    QVERIFY2(view->messageText().contains(QStringLiteral("Not allowed to watch connections")),
             qPrintable(view->messageText()));
    QVERIFY(!view->isStreaming());
    QCOMPARE(view->model()->rowCount(), 0);
}

void TestGuiConnections::screenshots() {
    const QString dir = env("PORTICO_SCREENSHOT_DIR");
    if (dir.isEmpty() || isUser())
        QSKIP("only with PORTICO_SCREENSHOT_DIR (run_gui_tests.py --screenshots)");
    QString out;
    QVERIFY2(ctl({QStringLiteral("accounting"), QStringLiteral("on")}, &out), qPrintable(out));
    QVERIFY2(addForward(QStringLiteral("web"), 80, &out), qPrintable(out));
    QVERIFY2(addForward(QStringLiteral("intranet"), 81, &out), qPrintable(out));
    QVERIFY(openWindow());
    QVERIFY(QTest::qWaitForWindowExposed(m_window));
    for (int i = 0; i < 6; ++i)
        http(i % 3 ? 80 : 81);
    ConnectionsView *view = openConnections();
    Model *m = view->model();
    QTRY_VERIFY_WITH_TIMEOUT(view->isStreaming() && !m->isLoading() && m->totalCount() >= 6, 15000);
    // Long-lived flows too, and a few more requests while the tab is open.
    DRIVE(held, op("holdConnections"));
    for (int i = 0; i < 3; ++i)
        http(80);
    // Past the helper's next counter refresh (about 1 s apart), so the new flows show theirs.
    QTest::qWait(2500);
    view->table()->selectRow(1);
    QTest::qWait(300);
    QVERIFY(m_window->grab().save(dir + QStringLiteral("/connections.png")));
    DRIVE(released, op("releaseConnections"));
}

QTEST_MAIN(TestGuiConnections)
#include "test_gui_connections.moc"
