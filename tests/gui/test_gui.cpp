// SPDX-License-Identifier: GPL-3.0-or-later
// The GUI against the real helper in the lab (tests/gui/run_gui_tests.py starts it): dialogs are
// filled in and buttons clicked as a person would, and the kernel ruleset, traffic and other
// clients are checked through the driver, which runs them as root in the lab's namespaces.
#include "forward_dialog.h"
#include "forward_table_model.h"
#include "gui_driver.h"
#include "main_window.h"
#include "ui_forward_dialog.h"
#include "ui_main_window.h"

#include "dbus_types.h"
#include "validation.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLineEdit>
#include <QLocalSocket>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>

using namespace portico;
using namespace portico::guitest;

class TestGui : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanup();

    void addThroughDialogCarriesTraffic();
    void validatorsRejectBadInput_data();
    void validatorsRejectBadInput();
    void claimOfAnotherForwardRejected();
    void editDisableDeleteChangeRuleset();
    void conflictingChangeOffered();
    void staleApplyOffered();
    void clashAfterKeepMineIsRefusedAndKept();
    void refusedAuthorization();
    void hitsRise();
    void bannerTurnsOnForwarding();
    void helperRestartIsFollowed();
    void notInstalledPage();
    void cannotStartPageRecovers();
    void helperGoneMidSessionKeepsEdits();
    void noBusPage();
    void duplicateFilterAndSort();
    void exportThenImport();
    void screenshots();

private:
    bool isUser() const { return env("PORTICO_GUI_ROLE") == QLatin1StringView("user"); }
    MainWindow *openWindow(const QString &bus = {});
    ForwardDialog *visibleDialog() const;
    template <typename T> T *visible(const QString &name) const;
    void setText(ForwardDialog *d, const char *field, const QString &text);
    QPushButton *okButton(ForwardDialog *d) const;
    QString ruleset();
    QString http(const QString &url);
    bool ctl(const QStringList &args, QString *output = nullptr);
    // The forward most tests start from, added with porticoctl: tcp 80 -> LAN server 8080.
    bool addWebForward(QString *output);

    MainWindow *m_window = nullptr;
    QString m_gw;
    QString m_client;
    QString m_server;
};

void TestGui::initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    registerDBusTypes();
    QVERIFY2(!env("PORTICO_BUS_ADDRESS").isEmpty() && !env("PORTICO_GUI_DRIVER").isEmpty(),
             "run through tests/gui/run_gui_tests.py, which starts the lab");
    m_gw = env("PORTICO_LAB_WAN_GW4");
    m_client = env("PORTICO_LAB_WAN_CLIENT4");
    m_server = env("PORTICO_LAB_LAN_SERVER4");
}

void TestGui::init() {
    DRIVE(reset, op("reset"));
}

void TestGui::cleanup() {
    if (m_window) {
        // Pending edits would ask before closing: drop them first.
        m_window->revert();
        m_window->close();
        delete m_window;
        m_window = nullptr;
    }
    // A test that broke the helper's activation and failed before repairing it must not break
    // the tests after it.
    const DriverReply fixed = drive(op("fixActivation"));
    QVERIFY2(fixed.ok, qPrintable(fixed.error));
}

MainWindow *TestGui::openWindow(const QString &bus) {
    m_window = new MainWindow(bus.isEmpty() ? env("PORTICO_BUS_ADDRESS") : bus);
    QSignalSpy loaded(m_window, &MainWindow::reloaded);
    m_window->resize(1200, 520);
    m_window->show();
    if (!loaded.wait(30000))
        return nullptr;
    return m_window;
}

template <typename T> T *TestGui::visible(const QString &name) const {
    for (T *w : m_window->findChildren<T *>(name))
        if (w->isVisible())
            return w;
    return nullptr;
}

ForwardDialog *TestGui::visibleDialog() const {
    return visible<ForwardDialog>(QStringLiteral("forwardDialog"));
}

void TestGui::setText(ForwardDialog *d, const char *field, const QString &text) {
    auto *edit = d->findChild<QLineEdit *>(QLatin1StringView(field));
    if (!edit) // an editable combo box
        edit = d->findChild<QComboBox *>(QLatin1StringView(field))->lineEdit();
    edit->selectAll();
    QTest::keyClick(edit, Qt::Key_Backspace);
    QTest::keyClicks(edit, text);
}

QPushButton *TestGui::okButton(ForwardDialog *d) const {
    return d->findChild<QDialogButtonBox *>(QStringLiteral("buttonBox"))
        ->button(QDialogButtonBox::Ok);
}

QString TestGui::ruleset() {
    const DriverReply r = drive(op("ruleset"));
    return r.ok ? r.result.toString() : QStringLiteral("driver error: ") + r.error;
}

QString TestGui::http(const QString &url) {
    QJsonObject req = op("http");
    req.insert(QStringLiteral("url"), url);
    req.insert(QStringLiteral("source"), m_client);
    const DriverReply r = drive(req);
    return r.ok ? r.result.toString() : QString();
}

bool TestGui::ctl(const QStringList &args, QString *output) {
    QJsonObject req = op("ctl");
    req.insert(QStringLiteral("args"), QJsonArray::fromStringList(args));
    const DriverReply r = drive(req);
    const QJsonObject o = r.result.toObject();
    if (output)
        *output = o.value(QStringLiteral("stdout")).toString() +
                  o.value(QStringLiteral("stderr")).toString() + r.error;
    return r.ok && o.value(QStringLiteral("rc")).toInt() == 0;
}

bool TestGui::addWebForward(QString *output) {
    return ctl({QStringLiteral("add"), QStringLiteral("--name"), QStringLiteral("web"),
                QStringLiteral("--proto"), QStringLiteral("tcp"), QStringLiteral("--port"),
                QStringLiteral("80"), QStringLiteral("--to"), m_server + QStringLiteral(":8080")},
               output);
}

// --- the tests ------------------------------------------------------------------------------

void TestGui::addThroughDialogCarriesTraffic() {
    if (isUser())
        QSKIP("runs as portico-admin");
    QVERIFY(openWindow());
    QCOMPARE(m_window->model()->rowCount(), 0);
    QVERIFY(http(QStringLiteral("http://%1:80/").arg(m_gw)).isEmpty()); // nothing forwards yet
    QVERIFY(m_window->ui()->emptyHint->isVisible()); // a first-time user is told what to do

    QTest::keyClick(m_window, Qt::Key_N, Qt::ControlModifier);
    ForwardDialog *d = nullptr;
    QTRY_VERIFY((d = visibleDialog()));
    QVERIFY(!okButton(d)->isEnabled()); // empty: name and port are missing
    setText(d, "nameEdit", QStringLiteral("web"));
    setText(d, "externalPortEdit", QStringLiteral("80"));
    setText(d, "targetAddressEdit", m_server);
    setText(d, "targetPortEdit", QStringLiteral("8080"));
    QVERIFY2(okButton(d)->isEnabled(), qPrintable(d->firstError()));
    QTest::mouseClick(okButton(d), Qt::LeftButton);
    QTRY_VERIFY(!visibleDialog());

    ForwardTableModel *model = m_window->model();
    QCOMPARE(model->rowCount(), 1);
    QCOMPARE(model->rowAt(0).status, ForwardTableModel::Status::Added);
    QVERIFY(!m_window->ui()->emptyHint->isVisible());
    QCOMPARE(model->index(0, ForwardTableModel::StatusColumn).data().toString(),
             ForwardTableModel::statusText(ForwardTableModel::Status::Added));
    QVERIFY(!ruleset().contains(m_server)); // pending: not in the kernel yet
    QVERIFY(m_window->ui()->actionApply->isEnabled());

    QSignalSpy applied(m_window, &MainWindow::applyFinished);
    QSignalSpy reloaded(m_window, &MainWindow::reloaded);
    QTest::keyClick(m_window, Qt::Key_S, Qt::ControlModifier);
    QVERIFY(applied.wait(30000));
    QCOMPARE(applied.first().first().toBool(), true);
    QTRY_VERIFY_WITH_TIMEOUT(reloaded.count() > 0, 10000);
    QCOMPARE(model->rowCount(), 1);
    QCOMPARE(model->rowAt(0).status, ForwardTableModel::Status::Applied);
    QVERIFY(!model->rowAt(0).forward.id.isEmpty());
    QVERIFY(!model->hasPendingChanges());

    const QString rules = ruleset();
    QVERIFY2(rules.contains(QStringLiteral("tcp . 80 : %1 . 8080").arg(m_server)),
             qPrintable(rules));
    const QString body = http(QStringLiteral("http://%1:80/").arg(m_gw));
    QVERIFY2(body.contains(QStringLiteral("lan-server port=8080")), qPrintable(body));
}

void TestGui::validatorsRejectBadInput_data() {
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("errorLabel");
    QTest::addColumn<QString>("expected");

    const auto port = [](const char *t, const QString &what) {
        return parsePortRange(QString::fromUtf8(t), what, nullptr);
    };
    QTest::newRow("external port above 65535")
        << "externalPortEdit"
        << "70000"
        << "externalPortError" << port("70000", ForwardDialog::tr("external port"));
    QTest::newRow("external port range reversed")
        << "externalPortEdit"
        << "8010-8000"
        << "externalPortError" << port("8010-8000", ForwardDialog::tr("external port"));
    QTest::newRow("external port not a number")
        << "externalPortEdit"
        << "http"
        << "externalPortError" << port("http", ForwardDialog::tr("external port"));
    QTest::newRow("target port zero")
        << "targetPortEdit"
        << "0"
        << "targetPortError" << port("0", ForwardDialog::tr("target port"));
    QTest::newRow("target address with an octet above 255")
        << "targetAddressEdit"
        << "198.51.100.300"
        << "targetAddressError"
        << parseAddress(QStringLiteral("198.51.100.300"), ForwardDialog::tr("target address"),
                        nullptr);
    QTest::newRow("source with host bits set")
        << "sourcesEdit"
        << "203.0.113.7/24"
        << "sourcesError"
        << parseCidr(QStringLiteral("203.0.113.7/24"), QHostAddress::AnyIPProtocol, nullptr);
    QTest::newRow("source prefix too long")
        << "sourcesEdit"
        << "203.0.113.0/33"
        << "sourcesError"
        << parseCidr(QStringLiteral("203.0.113.0/33"), QHostAddress::AnyIPProtocol, nullptr);
    QTest::newRow("interface with a slash")
        << "interfaceCombo"
        << "eth0/1"
        << "interfaceError" << checkInterfaceName(QStringLiteral("eth0/1"));
    QTest::newRow("name empty") << "nameEdit"
                                << ""
                                << "nameError" << checkName(QString());

    Forward loop;
    loop.name = QStringLiteral("t");
    loop.externalPort = {8081, 8081};
    loop.targetAddress = QHostAddress(QStringLiteral("127.0.0.1"));
    loop.targetPort = {8080, 8080};
    QTest::newRow("loopback target (a rule across fields)")
        << "targetAddressEdit"
        << "127.0.0.1" << QString() << validateForward(loop).message;
}

void TestGui::validatorsRejectBadInput() {
    QFETCH(QString, field);
    QFETCH(QString, input);
    QFETCH(QString, errorLabel);
    QFETCH(QString, expected);
    if (isUser())
        QSKIP("runs as portico-admin");
    QVERIFY2(!expected.isEmpty(), "the row's input must be one the validators refuse");
    QVERIFY(openWindow());
    m_window->ui()->actionAdd->trigger();
    ForwardDialog *d = nullptr;
    QTRY_VERIFY((d = visibleDialog()));
    setText(d, "nameEdit", QStringLiteral("t"));
    setText(d, "externalPortEdit", QStringLiteral("8081"));
    setText(d, "targetAddressEdit", m_server);
    setText(d, "targetPortEdit", QStringLiteral("8080"));
    QVERIFY2(okButton(d)->isEnabled(), qPrintable(d->firstError())); // valid before the bad input

    setText(d, field.toUtf8().constData(), input);
    QVERIFY(!okButton(d)->isEnabled());
    const QString shown = QStringLiteral("⚠ ") + expected;
    if (!errorLabel.isEmpty()) {
        auto *label = d->findChild<QLabel *>(errorLabel);
        QVERIFY(label);
        QCOMPARE(label->text(), shown);
        QVERIFY(label->isVisible()); // next to the field, even in the advanced section
    } else {
        QCOMPARE(d->firstError(), shown);
    }
    // Neither OK, nor Return, nor Apply gets the bad forward anywhere.
    QTest::mouseClick(okButton(d), Qt::LeftButton);
    QTest::keyClick(d, Qt::Key_Return);
    QVERIFY(visibleDialog());
    QCOMPARE(m_window->model()->rowCount(), 0);
    QVERIFY(!m_window->ui()->actionApply->isEnabled());
    d->reject();
    QTRY_VERIFY(!visibleDialog());
    QCOMPARE(m_window->model()->rowCount(), 0);
    QVERIFY(!m_window->ui()->actionApply->isEnabled());
}

void TestGui::claimOfAnotherForwardRejected() {
    if (isUser())
        QSKIP("runs as portico-admin");
    QString out;
    QVERIFY2(addWebForward(&out), qPrintable(out));
    QVERIFY(openWindow());
    QCOMPARE(m_window->model()->rowCount(), 1);
    m_window->ui()->actionAdd->trigger();
    ForwardDialog *d = nullptr;
    QTRY_VERIFY((d = visibleDialog()));
    setText(d, "nameEdit", QStringLiteral("web2"));
    setText(d, "externalPortEdit", QStringLiteral("81"));
    setText(d, "targetAddressEdit", m_server);
    QVERIFY2(okButton(d)->isEnabled(), qPrintable(d->firstError()));
    setText(d, "externalPortEdit", QStringLiteral("80"));
    QVERIFY(!okButton(d)->isEnabled());
    Forward f = d->forward();
    const QString expected = validateAgainst(f, m_window->model()->workingSet()).message;
    QVERIFY(!expected.isEmpty());
    QCOMPARE(d->findChild<QLabel *>(QStringLiteral("externalPortError"))->text(),
             QStringLiteral("⚠ ") + expected);
    setText(d, "nameEdit", QStringLiteral("web"));
    setText(d, "externalPortEdit", QStringLiteral("81"));
    QVERIFY(!okButton(d)->isEnabled()); // the name is taken too
    QVERIFY(!d->findChild<QLabel *>(QStringLiteral("nameError"))->text().isEmpty());
    d->reject();
}

void TestGui::editDisableDeleteChangeRuleset() {
    if (isUser())
        QSKIP("runs as portico-admin");
    QString out;
    QVERIFY2(addWebForward(&out), qPrintable(out));
    QVERIFY(openWindow());
    ForwardTableModel *model = m_window->model();
    QCOMPARE(model->rowCount(), 1);
    const QString id = model->rowAt(0).forward.id;
    QTableView *view = m_window->ui()->forwardView;
    const auto applyAndWait = [this] {
        QSignalSpy applied(m_window, &MainWindow::applyFinished);
        QSignalSpy reloaded(m_window, &MainWindow::reloaded);
        m_window->ui()->actionApply->trigger();
        return applied.wait(30000) && applied.first().first().toBool() &&
               (reloaded.count() > 0 || reloaded.wait(10000));
    };

    // Edit: double-click opens the dialog; the target port moves to 8001.
    view->setFocus();
    const QModelIndex nameCell = m_window->proxy()->index(0, ForwardTableModel::NameColumn);
    view->selectionModel()->setCurrentIndex(nameCell, QItemSelectionModel::ClearAndSelect |
                                                          QItemSelectionModel::Rows);
    // A real double click starts with a click: item views emit doubleClicked only after a press.
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, view->visualRect(nameCell).center());
    QTest::mouseDClick(view->viewport(), Qt::LeftButton, {}, view->visualRect(nameCell).center());
    ForwardDialog *d = nullptr;
    QTRY_VERIFY((d = visibleDialog()));
    QCOMPARE(d->findChild<QLineEdit *>(QStringLiteral("nameEdit"))->text(), QStringLiteral("web"));
    setText(d, "targetPortEdit", QStringLiteral("8001"));
    QVERIFY2(okButton(d)->isEnabled(), qPrintable(d->firstError()));
    QTest::mouseClick(okButton(d), Qt::LeftButton);
    QTRY_VERIFY(!visibleDialog());
    QCOMPARE(model->rowAt(0).status, ForwardTableModel::Status::Edited);
    QVERIFY(ruleset().contains(QStringLiteral("%1 . 8080").arg(m_server)));
    QVERIFY(applyAndWait());
    QCOMPARE(model->rowAt(0).forward.id, id); // an edit keeps the id
    QString rules = ruleset();
    QVERIFY2(rules.contains(QStringLiteral("tcp . 80 : %1 . 8001").arg(m_server)),
             qPrintable(rules));
    QVERIFY(!rules.contains(QStringLiteral("%1 . 8080").arg(m_server)));
    QVERIFY(http(QStringLiteral("http://%1:80/").arg(m_gw)).contains(QStringLiteral("port=8001")));

    // The preview of the applied forward: its own elements from the helper's Ruleset(), and the
    // iptables equivalent.
    m_window->selectKey(model->rowAt(0).key);
    m_window->editSelected();
    QTRY_VERIFY((d = visibleDialog()));
    d->findChild<QToolButton *>(QStringLiteral("previewToggle"))->setChecked(true);
    auto *nft = d->findChild<QPlainTextEdit *>(QStringLiteral("nftPreview"));
    const QString element = QStringLiteral("map v4_dnat_nat: tcp . 80 : %1 . 8001").arg(m_server);
    QTRY_VERIFY2(nft->toPlainText().contains(element), qPrintable(nft->toPlainText()));
    QVERIFY(nft->toPlainText().contains(QStringLiteral("table inet portico {")));
    QVERIFY2(
        d->findChild<QPlainTextEdit *>(QStringLiteral("iptablesPreview"))
            ->toPlainText()
            .contains(
                QStringLiteral("-p tcp --dport 80 -j DNAT --to-destination %1:8001").arg(m_server)),
        qPrintable(
            d->findChild<QPlainTextEdit *>(QStringLiteral("iptablesPreview"))->toPlainText()));
    d->reject();
    QTRY_VERIFY(!visibleDialog());

    // Disable: Space on the table, once (the shortcut, not also the checkbox's own toggle).
    QApplication::setActiveWindow(m_window); // see the Delete step below
    view->setFocus();
    view->selectionModel()->setCurrentIndex(m_window->proxy()->index(0, 0),
                                            QItemSelectionModel::ClearAndSelect |
                                                QItemSelectionModel::Rows);
    QSignalSpy toggled(m_window->ui()->actionToggleEnabled, &QAction::triggered);
    QTest::keyClick(view, Qt::Key_Space);
    QCOMPARE(toggled.count(), 1);
    QCOMPARE(model->rowAt(0).forward.enabled, false);
    QCOMPARE(model->index(0, 0).data(Qt::CheckStateRole).toInt(), int(Qt::Unchecked));
    QVERIFY(applyAndWait());
    rules = ruleset();
    QVERIFY2(!rules.contains(m_server), qPrintable(rules));
    QVERIFY(http(QStringLiteral("http://%1:80/").arg(m_gw)).isEmpty());
    QCOMPARE(model->rowCount(), 1); // kept, only out of the kernel

    // Delete: the Delete key asks first; Yes marks it, Apply removes it.
    view->setFocus();
    view->selectionModel()->setCurrentIndex(m_window->proxy()->index(0, 0),
                                            QItemSelectionModel::ClearAndSelect |
                                                QItemSelectionModel::Rows);
    // The offscreen platform leaves the closed dialog as the active window; a window manager
    // would give activation back to the main window.
    QApplication::setActiveWindow(m_window);
    view->setFocus();
    QVERIFY(m_window->ui()->actionDelete->isEnabled());
    QTest::keyClick(view, Qt::Key_Delete);
    QMessageBox *confirm = nullptr;
    QTRY_VERIFY((confirm = visible<QMessageBox>(QStringLiteral("confirmDelete"))));
    QVERIFY(confirm->text().contains(QStringLiteral("web")));
    QTest::mouseClick(confirm->button(QMessageBox::Yes), Qt::LeftButton);
    QTRY_COMPARE(model->rowAt(0).status, ForwardTableModel::Status::Deleted);
    QVERIFY(applyAndWait());
    QCOMPARE(model->rowCount(), 0);
    QString list;
    QVERIFY(ctl({QStringLiteral("list"), QStringLiteral("--json")}, &list));
    QVERIFY2(!list.contains(QStringLiteral("\"web\"")), qPrintable(list));
    QVERIFY(!ruleset().contains(m_server));
}

void TestGui::conflictingChangeOffered() {
    if (isUser())
        QSKIP("runs as portico-admin");
    QString out;
    QVERIFY2(addWebForward(&out), qPrintable(out));
    QVERIFY(openWindow());
    ForwardTableModel *model = m_window->model();
    QCOMPARE(model->rowCount(), 1);
    model->setEnabledPending(model->rowAt(0).key, false); // my pending edit

    QSignalSpy conflict(m_window, &MainWindow::conflictShown);
    QVERIFY2(ctl({QStringLiteral("add"), QStringLiteral("--name"), QStringLiteral("theirs"),
                  QStringLiteral("--port"), QStringLiteral("8443"), QStringLiteral("--to"),
                  m_server + QStringLiteral(":8080")},
                 &out),
             qPrintable(out));
    QVERIFY(conflict.wait(10000));
    QMessageBox *box = nullptr;
    QTRY_VERIFY((box = visible<QMessageBox>(QStringLiteral("conflictDialog"))));
    QVERIFY2(box->informativeText().contains(QStringLiteral("added 'theirs'")),
             qPrintable(box->informativeText()));
    QVERIFY(box->informativeText().contains(QStringLiteral("change 'web'")));
    QCOMPARE(model->rowAt(0).status, ForwardTableModel::Status::Edited); // nothing decided yet

    QTest::mouseClick(box->findChild<QPushButton *>(QStringLiteral("conflictKeep")),
                      Qt::LeftButton);
    QTRY_COMPARE(model->rowCount(), 2);
    QCOMPARE(model->rowAt(model->rowForKey(model->rowAt(0).key)).status,
             ForwardTableModel::Status::Edited);
    QSignalSpy applied(m_window, &MainWindow::applyFinished);
    m_window->apply();
    QVERIFY(applied.wait(30000));
    QCOMPARE(applied.first().first().toBool(), true);
    QVERIFY(ctl({QStringLiteral("list"), QStringLiteral("--json")}, &out));
    const QJsonArray list =
        QJsonDocument::fromJson(out.toUtf8()).object().value(QStringLiteral("forwards")).toArray();
    QCOMPARE(list.size(), 2); // theirs kept, mine applied over it
    for (const QJsonValue &v : list) {
        const QJsonObject o = v.toObject();
        if (o.value(QStringLiteral("name")).toString() == QLatin1StringView("web"))
            QCOMPARE(o.value(QStringLiteral("enabled")).toBool(), false);
        else
            QCOMPARE(o.value(QStringLiteral("name")).toString(), QStringLiteral("theirs"));
    }
    const QString rules = ruleset();
    QVERIFY2(rules.contains(QStringLiteral("tcp . 8443")) &&
                 !rules.contains(QStringLiteral("tcp . 80 :")),
             qPrintable(rules));
}

void TestGui::staleApplyOffered() {
    if (isUser())
        QSKIP("runs as portico-admin");
    QString out;
    QVERIFY2(addWebForward(&out), qPrintable(out));
    QVERIFY(openWindow());
    ForwardTableModel *model = m_window->model();
    model->setEnabledPending(model->rowAt(0).key, false);
    // Their change lands; Apply goes out before this window has read the signal, so the helper
    // itself refuses the stale generation.
    QVERIFY2(ctl({QStringLiteral("disable"), QStringLiteral("web")}, &out), qPrintable(out));
    QVERIFY2(ctl({QStringLiteral("add"), QStringLiteral("--name"), QStringLiteral("theirs"),
                  QStringLiteral("--port"), QStringLiteral("8443"), QStringLiteral("--to"),
                  m_server + QStringLiteral(":8080")},
                 &out),
             qPrintable(out));
    QSignalSpy applied(m_window, &MainWindow::applyFinished);
    QSignalSpy conflict(m_window, &MainWindow::conflictShown);
    m_window->apply();
    QVERIFY(applied.wait(30000));
    QCOMPARE(applied.first().first().toBool(), false);
    QVERIFY(conflict.count() > 0 || conflict.wait(10000));
    QMessageBox *box = nullptr;
    QTRY_VERIFY((box = visible<QMessageBox>(QStringLiteral("conflictDialog"))));
    QVERIFY2(box->text().contains(QStringLiteral("were not applied")), qPrintable(box->text()));
    QVERIFY(box->informativeText().contains(QStringLiteral("changed 'web'")));
    QVERIFY(box->informativeText().contains(QStringLiteral("added 'theirs'")));
    QCOMPARE(model->pendingCount(), 1); // my edit survived the refusal

    QTest::mouseClick(box->findChild<QPushButton *>(QStringLiteral("conflictReload")),
                      Qt::LeftButton);
    QTRY_COMPARE(model->rowCount(), 2);
    QVERIFY(!model->hasPendingChanges());
    QVERIFY(ruleset().contains(QStringLiteral("tcp . 8443")));
}

void TestGui::clashAfterKeepMineIsRefusedAndKept() {
    if (isUser())
        QSKIP("runs as portico-admin");
    QVERIFY(openWindow());
    ForwardTableModel *model = m_window->model();
    Forward mine;
    mine.name = QStringLiteral("mine");
    mine.externalPort = {8443, 8443};
    mine.targetAddress = QHostAddress(m_server);
    mine.targetPort = {8080, 8080};
    model->addPending(mine);
    QSignalSpy conflict(m_window, &MainWindow::conflictShown);
    QString out;
    QVERIFY2(ctl({QStringLiteral("add"), QStringLiteral("--name"), QStringLiteral("theirs"),
                  QStringLiteral("--port"), QStringLiteral("8443"), QStringLiteral("--to"),
                  m_server + QStringLiteral(":8000")},
                 &out),
             qPrintable(out));
    QVERIFY(conflict.wait(10000));
    QMessageBox *box = nullptr;
    QTRY_VERIFY((box = visible<QMessageBox>(QStringLiteral("conflictDialog"))));
    QTest::mouseClick(box->findChild<QPushButton *>(QStringLiteral("conflictKeep")),
                      Qt::LeftButton);
    QTRY_COMPARE(model->rowCount(), 2);

    // Both claim 8443/tcp now: Apply refuses, says which, and loses nothing.
    QSignalSpy applied(m_window, &MainWindow::applyFinished);
    m_window->apply();
    QTRY_COMPARE(applied.count(), 1);
    QCOMPARE(applied.first().first().toBool(), false);
    QMessageBox *error = nullptr;
    QTRY_VERIFY((error = visible<QMessageBox>(QStringLiteral("applyError"))));
    QVERIFY2(error->text().contains(QStringLiteral("'mine'")) ||
                 error->text().contains(QStringLiteral("'theirs'")),
             qPrintable(error->text()));
    QVERIFY(error->text().contains(QStringLiteral("pending changes are kept")));
    error->accept();
    QCOMPARE(model->pendingCount(), 1);
    QVERIFY(!ruleset().contains(QStringLiteral("%1 . 8080").arg(m_server)));
}

void TestGui::refusedAuthorization() {
    if (!isUser())
        QSKIP("runs as portico-user, whom polkit refuses (run_gui_tests.py does that)");
    const QString before = ruleset();
    QVERIFY(openWindow());
    m_window->ui()->actionAdd->trigger();
    ForwardDialog *d = nullptr;
    QTRY_VERIFY((d = visibleDialog()));
    setText(d, "nameEdit", QStringLiteral("web"));
    setText(d, "externalPortEdit", QStringLiteral("80"));
    setText(d, "targetAddressEdit", m_server);
    QVERIFY2(okButton(d)->isEnabled(), qPrintable(d->firstError()));
    QTest::mouseClick(okButton(d), Qt::LeftButton);
    QTRY_VERIFY(!visibleDialog());

    for (int attempt = 0; attempt < 2; ++attempt) { // refused, and may be tried again
        QSignalSpy applied(m_window, &MainWindow::applyFinished);
        m_window->ui()->actionApply->trigger();
        QVERIFY(applied.wait(60000));
        QCOMPARE(applied.first().first().toBool(), false);
        QMessageBox *box = nullptr;
        QTRY_VERIFY((box = visible<QMessageBox>(QStringLiteral("applyError"))));
        QCOMPARE(box->windowTitle(), MainWindow::tr("Not authorized"));
        QVERIFY2(box->text().contains(QStringLiteral("Nothing was changed")),
                 qPrintable(box->text()));
        QVERIFY2(box->text().contains(QStringLiteral("authoriz"), Qt::CaseInsensitive) ||
                     box->text().contains(QStringLiteral("not allowed"), Qt::CaseInsensitive),
                 qPrintable(box->text()));
        box->accept();
        QTRY_VERIFY(!visible<QMessageBox>(QStringLiteral("applyError")));
        QCOMPARE(m_window->model()->rowCount(), 1);
        QCOMPARE(m_window->model()->rowAt(0).status, ForwardTableModel::Status::Added);
        QVERIFY(m_window->ui()->actionApply->isEnabled());
    }
    QCOMPARE(ruleset(), before);
    QString list;
    QVERIFY(ctl({QStringLiteral("list"), QStringLiteral("--json")}, &list));
    QVERIFY2(!list.contains(QStringLiteral("\"web\"")), qPrintable(list));
}

void TestGui::hitsRise() {
    if (isUser())
        QSKIP("runs as portico-admin");
    QString out;
    QVERIFY2(addWebForward(&out), qPrintable(out));
    QVERIFY(openWindow());
    ForwardTableModel *model = m_window->model();
    QCOMPARE(model->rowCount(), 1);
    const QModelIndex hits = model->index(0, ForwardTableModel::HitsColumn);
    QTRY_VERIFY_WITH_TIMEOUT(model->rowAt(0).hasCounters, 10000);
    const quint64 start = model->rowAt(0).counters.packets;
    for (int i = 0; i < 3; ++i)
        QVERIFY(!http(QStringLiteral("http://%1:80/").arg(m_gw)).isEmpty());
    QTRY_VERIFY_WITH_TIMEOUT(model->rowAt(0).counters.packets > start, 10000);
    const quint64 first = model->rowAt(0).counters.packets;
    QVERIFY(hits.data().toString().contains(QString::number(first)));
    for (int i = 0; i < 3; ++i)
        QVERIFY(!http(QStringLiteral("http://%1:80/").arg(m_gw)).isEmpty());
    QTRY_VERIFY_WITH_TIMEOUT(model->rowAt(0).counters.packets > first, 10000);
    QVERIFY(model->rowAt(0).counters.bytes > 0);
    QVERIFY(hits.data(ForwardTableModel::RawValueRole).toLongLong() > qlonglong(first));
}

void TestGui::bannerTurnsOnForwarding() {
    if (isUser())
        QSKIP("runs as portico-admin");
    QString out;
    QVERIFY2(addWebForward(&out), qPrintable(out));
    QJsonObject off = op("setForwarding");
    off.insert(QStringLiteral("v4"), false);
    off.insert(QStringLiteral("v6"), false);
    DRIVE(turnedOff, off);
    QVERIFY(openWindow());
    QFrame *banner = m_window->ui()->forwardingBanner;
    QTRY_VERIFY_WITH_TIMEOUT(banner->isVisible(), 10000);
    QVERIFY(m_window->ui()->bannerLabel->text().contains(QStringLiteral("IPv4 forwarding is off")));
    QVERIFY(m_window->ui()->bannerLabel->text().contains(QStringLiteral("'web'")));
    QTest::mouseClick(m_window->ui()->turnOnButton, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!banner->isVisible(), 10000);
    DRIVE(state, op("forwarding"));
    QCOMPARE(state.result.toArray().at(0).toBool(), true);
    QVERIFY(http(QStringLiteral("http://%1:80/").arg(m_gw)).contains(QStringLiteral("lan-server")));
}

void TestGui::helperRestartIsFollowed() {
    if (isUser())
        QSKIP("runs as portico-admin");
    QVERIFY(openWindow());
    QCOMPARE(m_window->model()->rowCount(), 0);
    DRIVE(stopped, op("stopHelper"));
    // The bus starts a new helper for porticoctl; the window hears its signal and reads again.
    QString out;
    QVERIFY2(ctl({QStringLiteral("add"), QStringLiteral("--name"), QStringLiteral("late"),
                  QStringLiteral("--port"), QStringLiteral("80"), QStringLiteral("--to"),
                  m_server + QStringLiteral(":8080")},
                 &out),
             qPrintable(out));
    QTRY_COMPARE_WITH_TIMEOUT(m_window->model()->rowCount(), 1, 10000);
    QCOMPARE(m_window->model()->rowAt(0).forward.name, QStringLiteral("late"));
    // And the window's own calls go to the new helper.
    m_window->model()->setEnabledPending(m_window->model()->rowAt(0).key, false);
    QSignalSpy applied(m_window, &MainWindow::applyFinished);
    m_window->apply();
    QVERIFY(applied.wait(30000));
    QCOMPARE(applied.first().first().toBool(), true);
    QVERIFY(m_window->showingTable());
}

void TestGui::notInstalledPage() {
    if (isUser())
        QSKIP("runs as portico-admin");
    DRIVE(bus, op("emptyBus"));
    QVERIFY(openWindow(bus.result.toString()));
    QVERIFY(!m_window->showingTable());
    QVERIFY2(m_window->pageMessage().contains(QStringLiteral("not installed")),
             qPrintable(m_window->pageMessage()));
    QVERIFY(m_window->pageMessage().contains(QStringLiteral("Install")));
    QVERIFY(!m_window->ui()->actionAdd->isEnabled());
    QVERIFY(m_window->ui()->retryButton->isVisible());
}

void TestGui::cannotStartPageRecovers() {
    if (isUser())
        QSKIP("runs as portico-admin");
    DRIVE(broken, op("breakActivation"));
    MainWindow *w = openWindow();
    const DriverReply fixed = drive(op("fixActivation")); // whatever happened, repair the lab
    QVERIFY2(fixed.ok, qPrintable(fixed.error));
    QVERIFY(w);
    QVERIFY(!w->showingTable());
    QVERIFY2(w->pageMessage().contains(QStringLiteral("could not be started")),
             qPrintable(w->pageMessage()));
    QSignalSpy reloaded(w, &MainWindow::reloaded);
    QTest::mouseClick(w->ui()->retryButton, Qt::LeftButton);
    QVERIFY(reloaded.wait(30000));
    QCOMPARE(reloaded.first().first().toBool(), true);
    QVERIFY(w->showingTable());
    QVERIFY(w->ui()->actionAdd->isEnabled());
}

void TestGui::helperGoneMidSessionKeepsEdits() {
    if (isUser())
        QSKIP("runs as portico-admin");
    QString out;
    QVERIFY2(addWebForward(&out), qPrintable(out));
    QVERIFY(openWindow());
    ForwardTableModel *model = m_window->model();
    model->setEnabledPending(model->rowAt(0).key, false);
    // The helper goes away and cannot come back: the next counter poll finds out.
    DRIVE(broken, op("breakActivation"));
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->showingTable(), 15000);
    const QString page = m_window->pageMessage();
    DRIVE(fixed, op("fixActivation"));
    QVERIFY2(page.contains(QStringLiteral("could not be started")), qPrintable(page));
    QVERIFY2(page.contains(QStringLiteral("pending changes (1) are kept")), qPrintable(page));
    QSignalSpy reloaded(m_window, &MainWindow::reloaded);
    QTest::mouseClick(m_window->ui()->retryButton, Qt::LeftButton);
    QVERIFY(reloaded.wait(30000));
    QVERIFY(m_window->showingTable());
    QCOMPARE(model->pendingCount(), 1); // the edit made before the helper died
    QSignalSpy applied(m_window, &MainWindow::applyFinished);
    m_window->apply();
    QVERIFY(applied.wait(30000));
    QCOMPARE(applied.first().first().toBool(), true);
    QVERIFY(!ruleset().contains(m_server));
}

void TestGui::noBusPage() {
    if (isUser())
        QSKIP("runs as portico-admin");
    QVERIFY(openWindow(QStringLiteral("unix:path=/nonexistent/portico-test-bus")));
    QVERIFY(!m_window->showingTable());
    QVERIFY2(m_window->pageMessage().contains(QStringLiteral("Cannot reach the D-Bus bus")),
             qPrintable(m_window->pageMessage()));
}

void TestGui::duplicateFilterAndSort() {
    if (isUser())
        QSKIP("runs as portico-admin");
    QString out;
    QVERIFY2(addWebForward(&out), qPrintable(out));
    QVERIFY(openWindow());
    m_window->selectKey(m_window->model()->rowAt(0).key);
    QApplication::setActiveWindow(m_window);
    m_window->ui()->forwardView->setFocus();
    QTest::keyClick(m_window, Qt::Key_D, Qt::ControlModifier);
    ForwardDialog *d = nullptr;
    QTRY_VERIFY((d = visibleDialog()));
    QCOMPARE(d->findChild<QLineEdit *>(QStringLiteral("nameEdit"))->text(),
             QStringLiteral("web copy"));
    QVERIFY(!okButton(d)->isEnabled()); // the copy claims the same port
    QVERIFY(!d->findChild<QLabel *>(QStringLiteral("externalPortError"))->text().isEmpty());
    setText(d, "externalPortEdit", QStringLiteral("81"));
    QVERIFY2(okButton(d)->isEnabled(), qPrintable(d->firstError()));
    QTest::mouseClick(okButton(d), Qt::LeftButton);
    QTRY_VERIFY(!visibleDialog());
    QCOMPARE(m_window->model()->rowCount(), 2);

    QSortFilterProxyModel *proxy = m_window->proxy();
    m_window->ui()->forwardView->sortByColumn(ForwardTableModel::NameColumn, Qt::DescendingOrder);
    QCOMPARE(proxy->index(0, ForwardTableModel::NameColumn).data().toString(),
             QStringLiteral("web copy"));
    m_window->ui()->forwardView->sortByColumn(ForwardTableModel::ExternalColumn,
                                              Qt::AscendingOrder);
    QCOMPARE(proxy->index(0, ForwardTableModel::NameColumn).data().toString(),
             QStringLiteral("web"));
    QTest::keyClicks(m_window->ui()->filterEdit, QStringLiteral("COPY"));
    QCOMPARE(proxy->rowCount(), 1);
    QCOMPARE(proxy->index(0, ForwardTableModel::StatusColumn).data().toString(),
             ForwardTableModel::statusText(ForwardTableModel::Status::Added));
    m_window->ui()->filterEdit->clear();
    QCOMPARE(proxy->rowCount(), 2);

    // The context menu's "Revert this forward" drops just that pending add.
    auto *revertRow = m_window->findChild<QAction *>(QStringLiteral("actionRevertRow"));
    QVERIFY(revertRow);
    QVERIFY(m_window->ui()->forwardView->actions().contains(revertRow));
    m_window->selectKey(m_window->model()->rowAt(0).key); // web: applied, nothing to revert
    QVERIFY(!revertRow->isEnabled());
    m_window->selectKey(m_window->model()->rowAt(1).key);
    QVERIFY(revertRow->isEnabled());
    revertRow->trigger();
    QCOMPARE(m_window->model()->rowCount(), 1);
    QVERIFY(!m_window->model()->hasPendingChanges());
}

void TestGui::exportThenImport() {
    if (isUser())
        QSKIP("runs as portico-admin");
    QString out;
    QVERIFY2(addWebForward(&out), qPrintable(out));
    QVERIFY(openWindow());
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("forwards.json"));
    QVERIFY(m_window->exportTo(path));
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QJsonObject exported = QJsonDocument::fromJson(file.readAll()).object();
    file.close();
    QCOMPARE(exported.value(QStringLiteral("schema")).toInt(), 1);
    QJsonArray list = exported.value(QStringLiteral("forwards")).toArray();
    QCOMPARE(list.size(), 1);
    QCOMPARE(list.at(0).toObject().value(QStringLiteral("name")).toString(), QStringLiteral("web"));

    // Edit the file as a person would: a second forward, and web's target port moved.
    QJsonObject web = list.at(0).toObject();
    web.insert(QStringLiteral("target_port"), QStringLiteral("8001"));
    QJsonObject ssh = web;
    ssh.remove(QStringLiteral("id"));
    ssh.insert(QStringLiteral("name"), QStringLiteral("ssh"));
    ssh.insert(QStringLiteral("external_port"), QStringLiteral("2222"));
    list = {web, ssh};
    exported.insert(QStringLiteral("forwards"), list);
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
    file.write(QJsonDocument(exported).toJson());
    file.close();

    QVERIFY(m_window->importFrom(path));
    ForwardTableModel *model = m_window->model();
    QCOMPARE(model->rowCount(), 2);
    QCOMPARE(model->pendingCount(), 2); // web edited, ssh added: nothing sent yet
    QVERIFY(ruleset().contains(QStringLiteral("%1 . 8080").arg(m_server)));
    QSignalSpy applied(m_window, &MainWindow::applyFinished);
    m_window->apply();
    QVERIFY(applied.wait(30000));
    QCOMPARE(applied.first().first().toBool(), true);
    const QString rules = ruleset();
    QVERIFY2(rules.contains(QStringLiteral("tcp . 80 : %1 . 8001").arg(m_server)) &&
                 rules.contains(QStringLiteral("tcp . 2222 : %1 . 8001").arg(m_server)),
             qPrintable(rules));

    // A broken file changes nothing and says why.
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
    file.write("{\"forwards\": [{\"name\": \"x\"}]}");
    file.close();
    QTRY_VERIFY(!model->hasPendingChanges());
    QVERIFY(!m_window->importFrom(path));
    QMessageBox *box = nullptr;
    QTRY_VERIFY((box = visible<QMessageBox>(QStringLiteral("importError"))));
    QVERIFY(box->text().contains(QStringLiteral("Nothing was changed")));
    box->accept();
    QVERIFY(!model->hasPendingChanges());
    // A file of a later format is refused as porticoctl import refuses it, not half read.
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
    file.write("{\"schema\": 2, \"forwards\": []}");
    file.close();
    QVERIFY(!m_window->importFrom(path));
    QTRY_VERIFY((box = visible<QMessageBox>(QStringLiteral("importError"))));
    QVERIFY2(box->text().contains(QStringLiteral("schema 2 is not one this version reads")),
             qPrintable(box->text()));
    box->accept();
    QVERIFY(!model->hasPendingChanges());
}

void TestGui::screenshots() {
    const QString dir = env("PORTICO_SCREENSHOT_DIR");
    if (dir.isEmpty() || isUser())
        QSKIP("only with PORTICO_SCREENSHOT_DIR (run_gui_tests.py --screenshots)");
    QString out;
    const QList<QStringList> adds = {
        {QStringLiteral("--name"), QStringLiteral("web"), QStringLiteral("--proto"),
         QStringLiteral("tcp"), QStringLiteral("--port"), QStringLiteral("80"),
         QStringLiteral("--to"), m_server + QStringLiteral(":8080"), QStringLiteral("--comment"),
         QStringLiteral("the LAN web server")},
        {QStringLiteral("--name"), QStringLiteral("game"), QStringLiteral("--proto"),
         QStringLiteral("tcp+udp"), QStringLiteral("--port"), QStringLiteral("25565"),
         QStringLiteral("--to"), m_server + QStringLiteral(":8080"), QStringLiteral("--from"),
         QStringLiteral("203.0.113.0/24")},
        {QStringLiteral("--name"), QStringLiteral("range"), QStringLiteral("--port"),
         QStringLiteral("9000-9010"), QStringLiteral("--to"),
         m_server + QStringLiteral(":8000-8010"), QStringLiteral("--masquerade")},
        {QStringLiteral("--name"), QStringLiteral("local"), QStringLiteral("--port"),
         QStringLiteral("4321"), QStringLiteral("--to"), QStringLiteral(":1234")},
    };
    for (const QStringList &a : adds)
        QVERIFY2(ctl(QStringList{QStringLiteral("add")} + a, &out), qPrintable(out));
    QVERIFY(openWindow());
    QVERIFY(QTest::qWaitForWindowExposed(m_window));
    for (int i = 0; i < 4; ++i)
        http(QStringLiteral("http://%1:80/").arg(m_gw));
    ForwardTableModel *model = m_window->model();
    QTRY_VERIFY_WITH_TIMEOUT(model->rowAt(model->rowForKey(model->rows().first().key)).hasCounters,
                             10000);
    QTest::qWait(2500); // a second sample, for the rates
    // One pending edit and one pending add, to show how they are marked.
    const int game = [&] {
        for (int i = 0; i < model->rowCount(); ++i)
            if (model->rowAt(i).forward.name == QLatin1StringView("game"))
                return i;
        return -1;
    }();
    QVERIFY(game >= 0);
    model->setEnabledPending(model->rowAt(game).key, false);
    Forward ssh;
    ssh.name = QStringLiteral("ssh");
    ssh.externalPort = {2222, 2222};
    ssh.targetAddress = QHostAddress(m_server);
    ssh.targetPort = {22, 22};
    model->addPending(ssh);
    QTest::qWait(300);
    QVERIFY(m_window->grab().save(dir + QStringLiteral("/main-window.png")));

    // The same window with a dark palette: every colour comes from the palette.
    const QPalette light = QApplication::palette();
    QApplication::setPalette(darkPalette());
    QJsonObject off = op("setForwarding");
    off.insert(QStringLiteral("v4"), false);
    off.insert(QStringLiteral("v6"), false);
    DRIVE(turnedOff, off); // and the banner, which that brings up
    QTRY_VERIFY_WITH_TIMEOUT(m_window->ui()->forwardingBanner->isVisible(), 10000);
    QTest::qWait(300);
    QVERIFY(m_window->grab().save(dir + QStringLiteral("/main-window-dark.png")));
    QApplication::setPalette(light);

    m_window->ui()->actionAdd->trigger();
    ForwardDialog *d = nullptr;
    QTRY_VERIFY((d = visibleDialog()));
    QVERIFY(QTest::qWaitForWindowExposed(d));
    d->findChild<QComboBox *>(QStringLiteral("presetCombo"))->setCurrentIndex(2);
    QMetaObject::invokeMethod(d->findChild<QComboBox *>(QStringLiteral("presetCombo")), "activated",
                              Q_ARG(int, 2));
    setText(d, "nameEdit", QStringLiteral("nas"));
    setText(d, "targetAddressEdit", QStringLiteral("198.51.100.300"));
    setText(d, "sourcesEdit", QStringLiteral("203.0.113.7/24"));
    QTest::qWait(300);
    QVERIFY(!okButton(d)->isEnabled());
    QVERIFY(d->grab().save(dir + QStringLiteral("/dialog-validation.png")));
    d->reject();
    QTRY_VERIFY(!visibleDialog());

    m_window->selectKey(model->rowAt(0).key);
    m_window->editSelected();
    QTRY_VERIFY((d = visibleDialog()));
    QVERIFY(QTest::qWaitForWindowExposed(d));
    d->findChild<QToolButton *>(QStringLiteral("previewToggle"))->setChecked(true);
    auto *nft = d->findChild<QPlainTextEdit *>(QStringLiteral("nftPreview"));
    QTRY_VERIFY_WITH_TIMEOUT(nft->toPlainText().contains(QStringLiteral("table inet portico")),
                             10000);
    d->resize(760, d->height() + 200);
    QTest::qWait(300);
    QVERIFY(d->grab().save(dir + QStringLiteral("/dialog-preview-nft.png")));
    d->findChild<QTabWidget *>(QStringLiteral("previewTabs"))->setCurrentIndex(1);
    QTest::qWait(300);
    QVERIFY(d->grab().save(dir + QStringLiteral("/dialog-preview-iptables.png")));
    d->reject();
}

QTEST_MAIN(TestGui)
#include "test_gui.moc"
