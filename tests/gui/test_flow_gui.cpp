// SPDX-License-Identifier: GPL-3.0-or-later
// The chain-flow tab and the diagnosis against the real helper in the lab (run by
// run_gui_tests.py --test-binary test_flow_gui): tables of "other programs" are loaded with nft
// in the gateway, real traffic comes from the WAN namespace, and what the window shows is read
// from its FlowModel, its diagram and its dialogs.
#include "diagnosis_dialog.h"
#include "flow_diagram.h"
#include "flow_model.h"
#include "flow_view.h"
#include "forward_table_model.h"
#include "gui_driver.h"
#include "main_window.h"
#include "ui_main_window.h"

#include "dbus_types.h"

#include <QApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocalSocket>
#include <QPushButton>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableView>
#include <QTest>
#include <QTreeWidget>

using namespace portico;
using namespace portico::guitest;

namespace {

// Shaped like firewalld's forward chain: only replies of known flows pass, the rest is dropped
// by the policy, so a new connection of a forward dies here although Portico accepts it.
const char *firewalldDrop = R"(table inet firewalld {
    chain filter_FORWARD {
        type filter hook forward priority filter + 10; policy drop;
        ct state established,related accept
        iifname "lo" accept
    }
}
)";

// The same chain accepting, with a counter (Docker's and firewalld's rules count like this).
const char *firewalldCount = R"(table inet firewalld {
    chain filter_FORWARD {
        type filter hook forward priority filter + 10; policy accept;
        counter accept
    }
}
)";

const QString foreignChain = QStringLiteral("inet firewalld filter_FORWARD");

} // namespace

class TestFlowGui : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanup();

    void countersRiseWithTraffic();
    void foreignDropChainMarked();
    void selectingForwardHighlightsPath();
    void traceStopsRedAtForeignDrop();
    void diagnosisNamesForeignChain();
    void refusedAuthorization();
    void screenshots();

private:
    bool isUser() const { return env("PORTICO_GUI_ROLE") == QLatin1StringView("user"); }
    bool openWindow();
    bool loadTable(const char *script);
    bool addWeb(bool masquerade, QString *out);
    QString http();
    QString ruleset();
    FlowView *showFlow();
    bool selectForward(const QString &name);

    MainWindow *m_window = nullptr;
};

void TestFlowGui::initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    registerDBusTypes();
    QVERIFY2(!env("PORTICO_BUS_ADDRESS").isEmpty() && !env("PORTICO_GUI_DRIVER").isEmpty(),
             "run through tests/gui/run_gui_tests.py --test-binary test_flow_gui");
}

void TestFlowGui::init() {
    DRIVE(reset, op("reset"));
    QJsonObject del = op("nft");
    del.insert(QStringLiteral("args"),
               QJsonArray{QStringLiteral("delete"), QStringLiteral("table"), QStringLiteral("inet"),
                          QStringLiteral("firewalld")});
    del.insert(QStringLiteral("check"), false);
    DRIVE(deleted, del);
}

void TestFlowGui::cleanup() {
    if (m_window) {
        m_window->revert();
        m_window->close();
        delete m_window;
        m_window = nullptr;
    }
    init(); // no foreign table leaks into the GUI suite's other tests
}

bool TestFlowGui::openWindow() {
    m_window = new MainWindow(env("PORTICO_BUS_ADDRESS"));
    QSignalSpy loaded(m_window, &MainWindow::reloaded);
    m_window->resize(1280, 760);
    m_window->show();
    return loaded.wait(30000);
}

bool TestFlowGui::loadTable(const char *script) {
    QJsonObject req = op("nft");
    req.insert(QStringLiteral("script"), QLatin1StringView(script));
    const DriverReply r = drive(req);
    if (!r.ok)
        qWarning("nft failed: %s", qPrintable(r.error));
    return r.ok;
}

bool TestFlowGui::addWeb(bool masquerade, QString *out) {
    QJsonObject req = op("ctl");
    QJsonArray args{QStringLiteral("add"),
                    QStringLiteral("--name"),
                    QStringLiteral("web"),
                    QStringLiteral("--port"),
                    QStringLiteral("80"),
                    QStringLiteral("--to"),
                    env("PORTICO_LAB_LAN_SERVER4") + QStringLiteral(":8080")};
    if (masquerade)
        args.append(QStringLiteral("--masquerade"));
    req.insert(QStringLiteral("args"), args);
    const DriverReply r = drive(req);
    const QJsonObject o = r.result.toObject();
    *out = o.value(QStringLiteral("stdout")).toString() +
           o.value(QStringLiteral("stderr")).toString() + r.error;
    return r.ok && o.value(QStringLiteral("rc")).toInt() == 0;
}

QString TestFlowGui::http() {
    QJsonObject req = op("http");
    req.insert(QStringLiteral("url"),
               QStringLiteral("http://%1:80/").arg(env("PORTICO_LAB_WAN_GW4")));
    req.insert(QStringLiteral("source"), env("PORTICO_LAB_WAN_CLIENT4"));
    const DriverReply r = drive(req);
    return r.ok ? r.result.toString() : QString();
}

QString TestFlowGui::ruleset() {
    const DriverReply r = drive(op("ruleset"));
    // Our table as text without its counter values: traffic moves those, a trace must not
    // change anything else.
    static const QRegularExpression counts(QStringLiteral("packets \\d+ bytes \\d+"));
    return r.ok ? r.result.toString().replace(counts, QStringLiteral("packets N bytes N"))
                : QStringLiteral("driver error: ") + r.error;
}

FlowView *TestFlowGui::showFlow() {
    FlowView *view = m_window->flowView();
    QSignalSpy updated(view, &FlowView::summaryUpdated);
    m_window->ui()->views->setCurrentWidget(view);
    if (!updated.wait(15000) || !updated.first().first().toBool()) {
        qWarning("no summary: %s", qPrintable(view->statusText()));
        return nullptr;
    }
    return view;
}

bool TestFlowGui::selectForward(const QString &name) {
    ForwardTableModel *model = m_window->model();
    for (int i = 0; i < model->rowCount(); ++i)
        if (model->rowAt(i).forward.name == name) {
            m_window->selectKey(model->rowAt(i).key);
            return true;
        }
    return false;
}

// --- the tests ----------------------------------------------------------------------------

void TestFlowGui::countersRiseWithTraffic() {
    if (isUser())
        QSKIP("runs as portico-admin");
    QString out;
    QVERIFY2(addWeb(false, &out), qPrintable(out));
    QVERIFY(loadTable(firewalldCount));
    QVERIFY(openWindow());
    FlowView *view = showFlow();
    QVERIFY(view);
    FlowModel *model = view->model();
    QVERIFY(model->chain(foreignChain));
    const quint64 start = model->chain(foreignChain)->packets;
    for (int i = 0; i < 3; ++i)
        QVERIFY(http().contains(QStringLiteral("lan-server")));
    QTRY_VERIFY_WITH_TIMEOUT(model->chain(foreignChain)->packets >= start + 6, 10000);
    const quint64 first = model->chain(foreignChain)->packets;
    QVERIFY(model->chain(foreignChain)->bytes > 0);
    for (int i = 0; i < 3; ++i)
        QVERIFY(http().contains(QStringLiteral("lan-server")));
    QTRY_VERIFY_WITH_TIMEOUT(model->chain(foreignChain)->packets > first, 10000);
    // Rates come from two summaries a second apart; the forward edge then carries traffic.
    QTRY_VERIFY_WITH_TIMEOUT(model->chain(foreignChain)->hasRate, 5000);
    // Our own chains are in the summary too, marked as ours, at their hooks.
    const FlowChain *ours = model->chain(QStringLiteral("inet portico forward"));
    QVERIFY(ours && ours->ours && ours->hook == QLatin1StringView("forward"));
}

void TestFlowGui::foreignDropChainMarked() {
    if (isUser())
        QSKIP("runs as portico-admin");
    QString out;
    QVERIFY2(addWeb(false, &out), qPrintable(out));
    QVERIFY(openWindow());
    FlowView *view = showFlow();
    QVERIFY(view);
    QVERIFY(!view->model()->chain(foreignChain));
    const quint64 before = view->model()->generation();
    QVERIFY(loadTable(firewalldDrop));
    // A new ruleset generation: the structure is read again and the chain appears.
    QTRY_VERIFY_WITH_TIMEOUT(view->model()->chain(foreignChain), 10000);
    QVERIFY(view->model()->generation() != before);
    const FlowChain *c = view->model()->chain(foreignChain);
    QVERIFY(!c->ours);
    QVERIFY(c->policyDrops());
    QVERIFY(c->mayDrop());
    QCOMPARE(c->priority, 10);
    QCOMPARE(c->hook, QStringLiteral("forward"));
    QStringList order;
    for (const FlowChain &f : view->model()->chainsAt(QStringLiteral("forward")))
        order << f.key();
    QCOMPARE(order.indexOf(foreignChain),
             order.indexOf(QStringLiteral("inet portico forward")) + 1);
    QVERIFY(!view->diagram()->chainRect(foreignChain).isNull());
    QVERIFY(view->diagram()->chainDetails(foreignChain).contains(QStringLiteral("drop")));
}

void TestFlowGui::selectingForwardHighlightsPath() {
    if (isUser())
        QSKIP("runs as portico-admin");
    QString out;
    QVERIFY2(addWeb(true, &out), qPrintable(out));
    QVERIFY(openWindow());
    FlowView *view = showFlow();
    QVERIFY(view);
    QVERIFY(!view->model()->hasHighlight());
    QVERIFY(selectForward(QStringLiteral("web")));
    QTRY_VERIFY(view->model()->hasHighlight());
    FlowModel *model = view->model();
    QCOMPARE(model->highlightedName(), QStringLiteral("web"));
    QCOMPARE(model->highlightedHooks(),
             (QStringList{QStringLiteral("prerouting"), QStringLiteral("forward"),
                          QStringLiteral("postrouting")}));
    const auto roles = model->ourRoles();
    QCOMPARE(roles.value(QStringLiteral("inet portico prerouting")), FlowModel::tr("DNAT"));
    QCOMPARE(roles.value(QStringLiteral("inet portico forward")), FlowModel::tr("accept"));
    QCOMPARE(roles.value(QStringLiteral("inet portico postrouting")), FlowModel::tr("masquerade"));
    QVERIFY(!model->isHighlighted(QStringLiteral("inet portico input")));
    // Our chains count per forward: the diagram carries the selected forward's own counters.
    for (int i = 0; i < 2; ++i)
        QVERIFY(http().contains(QStringLiteral("lan-server")));
    QTRY_VERIFY_WITH_TIMEOUT(model->hasForwardCounters() && model->forwardPackets() > 0, 10000);
    // And per chain: our forward chain's rule counts every packet of the two connections, both
    // ways, and the diagram draws its numbers, not "no rule counters".
    const QString ourForward = QStringLiteral("inet portico forward");
    QTRY_VERIFY_WITH_TIMEOUT(model->chain(ourForward) && model->chain(ourForward)->counted &&
                                 model->chain(ourForward)->packets >= 8,
                             10000);
    QVERIFY(view->diagram()->chainDetails(ourForward).contains(QStringLiteral("Counters: ")));
    QVERIFY(!view->diagram()->chainDetails(ourForward).contains(QStringLiteral("none")));
    m_window->ui()->forwardView->clearSelection();
    QTRY_VERIFY(!model->hasHighlight());
}

void TestFlowGui::traceStopsRedAtForeignDrop() {
    if (isUser())
        QSKIP("runs as portico-admin");
    QString out;
    QVERIFY2(addWeb(false, &out), qPrintable(out));
    QVERIFY(loadTable(firewalldDrop));
    const QString before = ruleset();
    QVERIFY(openWindow());
    FlowView *view = showFlow();
    QVERIFY(view);
    QVERIFY(selectForward(QStringLiteral("web")));
    QTRY_VERIFY(view->traceButton()->isEnabled());
    QSignalSpy started(view, &FlowView::traceStarted);
    QTest::mouseClick(view->traceButton(), Qt::LeftButton);
    QVERIFY(started.wait(15000));
    QVERIFY2(started.first().first().toBool(), qPrintable(started.first().at(1).toString()));
    QVERIFY(view->tracing());
    QVERIFY(http().isEmpty()); // firewalld's policy drops the new connection
    FlowModel *model = view->model();
    QTRY_COMPARE_WITH_TIMEOUT(model->lastDropChain(), foreignChain, 10000);
    const TracePacket &p = model->tracePackets().first();
    // The packet went through our DNAT at prerouting and our accept at forward before it died.
    QVERIFY2(p.chainPath().contains(QStringLiteral("inet portico prerouting")),
             qPrintable(p.chainPath().join(QStringLiteral(", "))));
    QVERIFY(p.chainPath().contains(QStringLiteral("inet portico forward")));
    QCOMPARE(p.steps.last().verdict, QStringLiteral("drop"));
    // The diagram animates the packet, which stops at the foreign chain (in red).
    QTRY_VERIFY_WITH_TIMEOUT(!view->diagram()->traceStoppedAt().isEmpty(), 10000);
    QCOMPARE(view->diagram()->traceStoppedAt(), foreignChain);
    QVERIFY(view->traceList()->topLevelItemCount() >= 1);
    QVERIFY(view->traceList()->topLevelItem(0)->text(0).contains(foreignChain));

    QSignalSpy ended(view, &FlowView::traceEnded);
    view->stopTrace();
    QVERIFY(ended.wait(10000));
    QCOMPARE(model->traceEnd(), QStringLiteral("stopped"));
    QCOMPARE(ruleset(), before); // the trace's own chains are gone again
}

void TestFlowGui::diagnosisNamesForeignChain() {
    if (isUser())
        QSKIP("runs as portico-admin");
    QString out;
    QVERIFY2(addWeb(false, &out), qPrintable(out));
    QVERIFY(loadTable(firewalldDrop));
    QVERIFY(openWindow());
    QVERIFY(selectForward(QStringLiteral("web")));
    QTRY_VERIFY(m_window->diagnoseAction()->isEnabled());
    m_window->diagnoseAction()->trigger();
    DiagnosisDialog *d = nullptr;
    QTRY_VERIFY((d = m_window->findChild<DiagnosisDialog *>(QStringLiteral("diagnosisDialog"))));
    QTRY_VERIFY_WITH_TIMEOUT(d->finished(), 15000);
    const QList<DiagnosisFinding> findings = d->findings();
    QVERIFY2(!findings.isEmpty(), qPrintable(d->text()));
    // Problems come first, and the first names the foreign chain as the cause.
    QVERIFY2(findings.first().isProblem(), qPrintable(d->text()));
    const auto cause = std::find_if(findings.cbegin(), findings.cend(), [](const auto &f) {
        return f.isProblem() && f.chain == foreignChain;
    });
    QVERIFY2(cause != findings.cend(), qPrintable(d->text()));
    QCOMPARE(cause->check, QStringLiteral("foreign_drop"));
    QVERIFY(!cause->fix.isEmpty());
    QVERIFY(d->text().contains(foreignChain));

    // The dialog's trace confirms it with a real packet.
    QVERIFY(d->traceButton()->isEnabled());
    QSignalSpy started(m_window->flowView(), &FlowView::traceStarted);
    QTest::mouseClick(d->traceButton(), Qt::LeftButton);
    QVERIFY(started.wait(15000));
    QVERIFY2(started.first().first().toBool(), qPrintable(started.first().at(1).toString()));
    QVERIFY(http().isEmpty());
    QTRY_VERIFY_WITH_TIMEOUT(d->traceResult().contains(foreignChain), 10000);
    QVERIFY(d->traceResult().contains(QStringLiteral("dropped")));
    QSignalSpy ended(m_window->flowView(), &FlowView::traceEnded);
    m_window->flowView()->stopTrace();
    QVERIFY(ended.wait(10000));
    d->close();

    // With the foreign chain accepting, nothing is wrong any more.
    QVERIFY(loadTable("delete table inet firewalld\n"));
    QVERIFY(loadTable(firewalldCount));
    m_window->diagnoseAction()->trigger();
    DiagnosisDialog *again = nullptr;
    QTRY_VERIFY([&] {
        for (auto *c : m_window->findChildren<DiagnosisDialog *>(QStringLiteral("diagnosisDialog")))
            if (c != d && c->isVisible())
                again = c;
        return again != nullptr;
    }());
    QTRY_VERIFY_WITH_TIMEOUT(again->finished(), 15000);
    for (const DiagnosisFinding &f : again->findings())
        QVERIFY2(!f.isProblem(), qPrintable(again->text()));
    QVERIFY(http().contains(QStringLiteral("lan-server")));
}

void TestFlowGui::refusedAuthorization() {
    if (!isUser())
        QSKIP("runs as portico-user, whom polkit refuses");
    QVERIFY(openWindow());
    FlowView *view = m_window->flowView();
    QSignalSpy updated(view, &FlowView::summaryUpdated);
    m_window->ui()->views->setCurrentWidget(view);
    QVERIFY(updated.wait(15000));
    QCOMPARE(updated.first().first().toBool(), false);
    QVERIFY(!view->model()->hasSummary());
    QVERIFY2(view->statusText().contains(QStringLiteral("not authorized"), Qt::CaseInsensitive) ||
                 view->statusText().contains(QStringLiteral("monitor")),
             qPrintable(view->statusText()));
    // One refusal is enough: the view does not ask polkit again every second.
    QVERIFY(!updated.wait(2500));
}

void TestFlowGui::screenshots() {
    const QString dir = env("PORTICO_SCREENSHOT_DIR");
    if (dir.isEmpty() || isUser())
        QSKIP("only with PORTICO_SCREENSHOT_DIR (run_gui_tests.py --screenshots)");
    QString out;
    QVERIFY2(addWeb(true, &out), qPrintable(out));
    QVERIFY(loadTable(firewalldCount));
    QVERIFY(openWindow());
    m_window->resize(1520, 820); // the diagram and the trace list side by side
    QVERIFY(QTest::qWaitForWindowExposed(m_window));
    FlowView *view = showFlow();
    QVERIFY(view);
    // Live traffic: two samples with requests between them, for the rates.
    for (int round = 0; round < 3; ++round) {
        for (int i = 0; i < 4; ++i)
            http();
        QSignalSpy updated(view, &FlowView::summaryUpdated);
        QVERIFY(updated.wait(5000));
    }
    QTest::qWait(200);
    QVERIFY(m_window->grab().save(dir + QStringLiteral("/chain-flow-live.png")));

    QVERIFY(selectForward(QStringLiteral("web")));
    QTRY_VERIFY(view->model()->hasHighlight());
    for (int i = 0; i < 3; ++i)
        http();
    QTest::qWait(1500);
    QVERIFY(m_window->grab().save(dir + QStringLiteral("/chain-flow-path.png")));

    QVERIFY(loadTable("delete table inet firewalld\n"));
    QVERIFY(loadTable(firewalldDrop));
    QTRY_VERIFY_WITH_TIMEOUT(view->model()->chain(foreignChain) &&
                                 view->model()->chain(foreignChain)->policyDrops(),
                             10000);
    QSignalSpy started(view, &FlowView::traceStarted);
    view->startTrace();
    QVERIFY(started.wait(15000));
    QVERIFY(started.first().first().toBool());
    http();
    QTRY_VERIFY_WITH_TIMEOUT(view->diagram()->traceStoppedAt() == foreignChain, 15000);
    QTest::qWait(300);
    QVERIFY(m_window->grab().save(dir + QStringLiteral("/chain-flow-trace.png")));
    view->exportTo(dir + QStringLiteral("/chain-flow-trace.svg"));

    // The same with a dark palette: every colour but the drop's red comes from the palette.
    const QPalette light = QApplication::palette();
    QApplication::setPalette(darkPalette());
    QTest::qWait(300);
    QVERIFY(m_window->grab().save(dir + QStringLiteral("/chain-flow-trace-dark.png")));
    QApplication::setPalette(light);

    QSignalSpy ended(view, &FlowView::traceEnded);
    view->stopTrace();
    QVERIFY(ended.wait(10000));

    // The diagnosis, with the result of its own trace.
    m_window->diagnoseAction()->trigger();
    DiagnosisDialog *d = nullptr;
    QTRY_VERIFY((d = m_window->findChild<DiagnosisDialog *>(QStringLiteral("diagnosisDialog"))));
    QTRY_VERIFY_WITH_TIMEOUT(d->finished(), 15000);
    QVERIFY(QTest::qWaitForWindowExposed(d));
    QTRY_VERIFY(d->traceButton()->isEnabled());
    QSignalSpy started2(view, &FlowView::traceStarted);
    QTest::mouseClick(d->traceButton(), Qt::LeftButton);
    QVERIFY(started2.wait(15000));
    http();
    QTRY_VERIFY_WITH_TIMEOUT(d->traceResult().contains(foreignChain), 10000);
    QTest::qWait(300);
    QVERIFY(d->grab().save(dir + QStringLiteral("/diagnosis.png")));
    QSignalSpy ended2(view, &FlowView::traceEnded);
    view->stopTrace();
    QVERIFY(ended2.wait(10000));
    d->close();
}

QTEST_MAIN(TestFlowGui)
#include "test_flow_gui.moc"
