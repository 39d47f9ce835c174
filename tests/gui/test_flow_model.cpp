// SPDX-License-Identifier: GPL-3.0-or-later
// The chain-flow model and diagram without a helper: summaries shaped like the helper's
// RulesetSummary replies (our table beside firewalld-, Docker- and bridge-shaped ones) and trace
// lines as the StartTrace pipe carries them go in; what the diagram would show comes out. The
// lab's own check against the real helper and kernel is in test_flow_gui.cpp.
#include "flow_diagram.h"
#include "flow_model.h"

#include <QApplication>
#include <QFile>
#include <QKeyEvent>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace portico;

namespace {

ChainSummary chain(const char *family, const char *table, const char *name, const char *hook,
                   int priority, const char *type, const char *policy, uint rules = 1,
                   uint dropRules = 0, quint64 packets = 0, quint64 bytes = 0, bool ours = false) {
    ChainSummary c;
    c.family = QLatin1StringView(family);
    c.table = QLatin1StringView(table);
    c.chain = QLatin1StringView(name);
    c.hook = QLatin1StringView(hook);
    c.priority = priority;
    c.type = QLatin1StringView(type);
    c.policy = QLatin1StringView(policy);
    c.rules = rules;
    c.dropRules = dropRules;
    c.packets = packets;
    c.bytes = bytes;
    c.ours = ours;
    return c;
}

RulesetSummary summary(quint64 generation, const QList<ChainSummary> &chains) {
    return {generation, chains};
}

// A gateway with Portico, a firewalld-shaped table (policy drop at forward) and a bridge table.
QList<ChainSummary> gateway(quint64 forwardPackets) {
    return {
        chain("inet", "portico", "prerouting", "prerouting", -100, "nat", "accept", 2, 0, 0, 0,
              true),
        chain("inet", "portico", "hairpin", "prerouting", -90, "filter", "accept", 0, 0, 0, 0,
              true),
        chain("inet", "portico", "forward", "forward", 0, "filter", "accept", 1, 0, 0, 0, true),
        chain("inet", "portico", "input", "input", 0, "filter", "accept", 1, 0, 0, 0, true),
        chain("inet", "portico", "output", "output", -100, "nat", "accept", 1, 0, 0, 0, true),
        chain("inet", "portico", "output_filter", "output", 0, "filter", "accept", 1, 0, 0, 0,
              true),
        chain("inet", "portico", "postrouting", "postrouting", 100, "nat", "accept", 1, 0, 0, 0,
              true),
        chain("inet", "firewalld", "filter_FORWARD", "forward", 10, "filter", "drop", 6, 1,
              forwardPackets, forwardPackets * 60),
        chain("inet", "firewalld", "mangle_PREROUTING", "prerouting", -150, "filter", "accept"),
        chain("ip", "nat", "DOCKER_POSTROUTING", "postrouting", 100, "nat", "accept"),
        chain("bridge", "filter", "br_forward", "forward", 0, "filter", "accept"),
    };
}

Forward webForward(bool masquerade) {
    Forward f;
    f.id = QStringLiteral("f1");
    f.name = QStringLiteral("web");
    f.externalPort = {80, 80};
    f.targetAddress = QHostAddress(QStringLiteral("198.51.100.10"));
    f.targetPort = {8080, 8080};
    f.masquerade = masquerade;
    return f;
}

QByteArray step(int packet, const char *hook, const char *table, const char *chainName,
                const char *type, const char *verdict) {
    return QStringLiteral(R"({"packet":%1,"time_ms":5,"family":"inet","hook":"%2","table":"%3",)"
                          R"("chain":"%4","handle":7,"type":"%5","verdict":"%6","iif":"wan0",)"
                          R"("oif":""})")
        .arg(packet)
        .arg(QLatin1StringView(hook), QLatin1StringView(table), QLatin1StringView(chainName),
             QLatin1StringView(type), QLatin1StringView(verdict))
        .toUtf8();
}

} // namespace

class TestFlowModel : public QObject {
    Q_OBJECT

private slots:
    void chainsInPriorityOrderPerHook();
    void marksOursAndDrops();
    void ratesFromSuccessiveSummaries();
    void structureOnlyOnNewGeneration();
    void forwardPathHighlighted_data();
    void forwardPathHighlighted();
    void traceEndsAtTheDroppingChain();
    void traceOfJumpedChainDrawnAtItsBaseChain();
    void badTraceLinesRefused();
    void diagramTabWalksChains();
    void exportsPngAndSvg();
};

void TestFlowModel::chainsInPriorityOrderPerHook() {
    FlowModel m;
    m.setSummary(summary(1, gateway(0)), 0);
    QStringList pre;
    for (const FlowChain &c : m.chainsAt(QStringLiteral("prerouting")))
        pre << c.key();
    QCOMPARE(pre, (QStringList{QStringLiteral("inet firewalld mangle_PREROUTING"),
                               QStringLiteral("inet portico prerouting"),
                               QStringLiteral("inet portico hairpin")}));
    QStringList fwd;
    for (const FlowChain &c : m.chainsAt(QStringLiteral("forward")))
        fwd << c.key();
    // The bridge family's forward hook is another path: not drawn here, listed apart.
    QCOMPARE(fwd, (QStringList{QStringLiteral("inet portico forward"),
                               QStringLiteral("inet firewalld filter_FORWARD")}));
    QCOMPARE(m.otherChains().size(), 1);
    QCOMPARE(m.otherChains().first().key(), QStringLiteral("bridge filter br_forward"));
}

void TestFlowModel::marksOursAndDrops() {
    FlowModel m;
    m.setSummary(summary(1, gateway(0)), 0);
    const FlowChain *fw = m.chain(QStringLiteral("inet firewalld filter_FORWARD"));
    QVERIFY(fw);
    QVERIFY(!fw->ours);
    QVERIFY(fw->policyDrops());
    QVERIFY(fw->mayDrop());
    const FlowChain *ours = m.chain(QStringLiteral("inet portico forward"));
    QVERIFY(ours && ours->ours && !ours->mayDrop());
}

void TestFlowModel::ratesFromSuccessiveSummaries() {
    FlowModel m;
    m.setSummary(summary(1, gateway(100)), 1000);
    QVERIFY(!m.chain(QStringLiteral("inet firewalld filter_FORWARD"))->hasRate);
    m.setSummary(summary(1, gateway(300)), 3000);
    const FlowChain *fw = m.chain(QStringLiteral("inet firewalld filter_FORWARD"));
    QVERIFY(fw->hasRate);
    QCOMPARE(fw->packetRate, 100.0);
    QCOMPARE(fw->byteRate, 6000.0);
    QCOMPARE(m.hookPacketRate(QStringLiteral("forward")), 100.0);
    // Counters that went down belong to a chain made anew: no rate, rather than a wild one.
    m.setSummary(summary(2, gateway(10)), 4000);
    QVERIFY(!m.chain(QStringLiteral("inet firewalld filter_FORWARD"))->hasRate);
}

void TestFlowModel::structureOnlyOnNewGeneration() {
    FlowModel m;
    QSignalSpy structure(&m, &FlowModel::structureChanged);
    QSignalSpy counters(&m, &FlowModel::countersChanged);
    m.setSummary(summary(5, gateway(1)), 0);
    m.setSummary(summary(5, gateway(2)), 1000);
    m.setSummary(summary(5, gateway(3)), 2000);
    QCOMPARE(structure.count(), 1);
    QCOMPARE(counters.count(), 3);
    QList<ChainSummary> more = gateway(3);
    more << chain("ip", "docker", "DOCKER-USER", "forward", -1, "filter", "accept");
    m.setSummary(summary(6, more), 3000);
    QCOMPARE(structure.count(), 2);
    QCOMPARE(m.chainsAt(QStringLiteral("forward")).first().key(),
             QStringLiteral("ip docker DOCKER-USER"));
}

void TestFlowModel::forwardPathHighlighted_data() {
    QTest::addColumn<bool>("masquerade");
    QTest::addColumn<bool>("local");
    QTest::addColumn<QStringList>("hooks");
    QTest::addColumn<QString>("postroutingRole");
    QTest::newRow("plain DNAT: no masquerade at postrouting")
        << false << false
        << QStringList{QStringLiteral("prerouting"), QStringLiteral("forward"),
                       QStringLiteral("postrouting")}
        << QString();
    QTest::newRow("masquerade") << true << false
                                << QStringList{QStringLiteral("prerouting"),
                                               QStringLiteral("forward"),
                                               QStringLiteral("postrouting")}
                                << QStringLiteral("masquerade");
    QTest::newRow("local redirect goes to input")
        << false << true << QStringList{QStringLiteral("prerouting"), QStringLiteral("input")}
        << QString();
}

void TestFlowModel::forwardPathHighlighted() {
    QFETCH(bool, masquerade);
    QFETCH(bool, local);
    QFETCH(QStringList, hooks);
    QFETCH(QString, postroutingRole);
    FlowModel m;
    m.setSummary(summary(1, gateway(0)), 0);
    Forward f = webForward(masquerade);
    if (local)
        f.targetAddress = QHostAddress();
    m.setHighlightedForward(f);
    QCOMPARE(m.highlightedHooks(), hooks);
    const auto roles = m.ourRoles();
    QCOMPARE(roles.value(QStringLiteral("inet portico prerouting")),
             local ? FlowModel::tr("redirect") : FlowModel::tr("DNAT"));
    QCOMPARE(roles.value(QStringLiteral("inet portico postrouting")), postroutingRole);
    if (!local) {
        QCOMPARE(roles.value(QStringLiteral("inet portico forward")), FlowModel::tr("accept"));
        // The foreign chain at forward is on the path too: the packet must pass it.
        QVERIFY(m.isHighlighted(QStringLiteral("inet firewalld filter_FORWARD")));
        // An IPv4 forward passes ip tables, not ip6 ones.
        QVERIFY(m.isHighlighted(QStringLiteral("ip nat DOCKER_POSTROUTING")));
    }
    QVERIFY(!m.isHighlighted(QStringLiteral("inet portico output")));
    m.clearHighlight();
    QVERIFY(!m.hasHighlight());
}

void TestFlowModel::traceEndsAtTheDroppingChain() {
    FlowModel m;
    m.setSummary(summary(1, gateway(0)), 0);
    FlowDiagram d(&m);
    m.beginTrace(QStringLiteral("f1"), QStringLiteral("web"));
    QVERIFY(m.tracing());
    QVERIFY(m.addTraceLine(step(1, "prerouting", "portico", "prerouting", "rule", "accept")));
    QVERIFY(m.addTraceLine(step(1, "forward", "portico", "forward", "rule", "accept")));
    QVERIFY(m.addTraceLine(step(1, "forward", "firewalld", "filter_FORWARD", "policy", "drop")));
    QVERIFY(m.addTraceLine(step(2, "prerouting", "portico", "prerouting", "rule", "accept")));
    QCOMPARE(m.tracePackets().size(), 2);
    QVERIFY(m.tracePackets().at(0).dropped);
    QCOMPARE(m.tracePackets().at(0).dropChain, QStringLiteral("inet firewalld filter_FORWARD"));
    QCOMPARE(m.tracePackets().at(0).chainPath().size(), 3);
    QVERIFY(!m.tracePackets().at(1).dropped);
    QCOMPARE(m.lastDropChain(), QStringLiteral("inet firewalld filter_FORWARD"));

    d.showTracePacket(0);
    QVERIFY(d.traceAnimating());
    QTRY_VERIFY_WITH_TIMEOUT(!d.traceAnimating(), 5000);
    QCOMPARE(d.traceStoppedAt(), QStringLiteral("inet firewalld filter_FORWARD"));
    if (const QString out = qEnvironmentVariable("PORTICO_FLOW_PREVIEW"); !out.isEmpty())
        d.exportPng(out + QStringLiteral(".trace.png"));

    QVERIFY(m.addTraceLine(R"({"end":"timeout","message":""})"));
    QVERIFY(!m.tracing());
    QCOMPARE(m.traceEnd(), QStringLiteral("timeout"));
}

void TestFlowModel::traceOfJumpedChainDrawnAtItsBaseChain() {
    FlowModel m;
    m.setSummary(summary(1, gateway(0)), 0);
    FlowDiagram d(&m);
    m.beginTrace(QStringLiteral("f1"), QStringLiteral("web"));
    // firewalld jumps from its base chain to a zone chain, which drops.
    QVERIFY(m.addTraceLine(step(1, "forward", "firewalld", "filter_FORWARD", "rule", "jump")));
    QVERIFY(m.addTraceLine(step(1, "forward", "firewalld", "filter_FWD_public", "rule", "drop")));
    QCOMPARE(m.lastDropChain(), QStringLiteral("inet firewalld filter_FWD_public"));
    d.showTracePacket(0);
    QTRY_VERIFY_WITH_TIMEOUT(!d.traceAnimating(), 5000);
    QCOMPARE(d.traceStoppedAt(), QStringLiteral("inet firewalld filter_FORWARD"));
}

void TestFlowModel::badTraceLinesRefused() {
    FlowModel m;
    m.beginTrace(QStringLiteral("f1"), QStringLiteral("web"));
    QString error;
    QVERIFY(!m.addTraceLine("not json", &error));
    QVERIFY(!error.isEmpty());
    QVERIFY(!m.addTraceLine(R"({"packet":1})", &error));
    QVERIFY(m.tracePackets().isEmpty());
}

void TestFlowModel::diagramTabWalksChains() {
    FlowModel m;
    m.setSummary(summary(1, gateway(0)), 0);
    QWidget window;
    auto *before = new QWidget(&window);
    before->setFocusPolicy(Qt::StrongFocus);
    auto *d = new FlowDiagram(&m, &window);
    auto *after = new QWidget(&window);
    after->setFocusPolicy(Qt::StrongFocus);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    before->setFocus();
    QTest::keyClick(before, Qt::Key_Tab);
    QTRY_VERIFY(d->hasFocus());
    // Every chain drawn on the IP path gets focus in turn, then the focus moves on.
    QStringList seen{d->focusedChain()};
    for (int i = 0; i < 20 && d->hasFocus(); ++i) {
        QTest::keyClick(d, Qt::Key_Tab);
        if (d->hasFocus())
            seen << d->focusedChain();
    }
    QCOMPARE(seen.size(), 10); // 11 chains, one on the bridge path
    QVERIFY(seen.contains(QStringLiteral("inet firewalld filter_FORWARD")));
    QVERIFY(after->hasFocus());
    QVERIFY(d->chainDetails(QStringLiteral("inet firewalld filter_FORWARD"))
                .contains(QStringLiteral("drop")));
}

void TestFlowModel::exportsPngAndSvg() {
    FlowModel m;
    m.setSummary(summary(1, gateway(100)), 0);
    m.setSummary(summary(1, gateway(400)), 1000);
    m.setHighlightedForward(webForward(true));
    FlowDiagram d(&m);
    QTemporaryDir dir;
    const QString png = dir.filePath(QStringLiteral("flow.png"));
    const QString svg = dir.filePath(QStringLiteral("flow.svg"));
    QVERIFY(d.exportPng(png));
    QVERIFY(d.exportSvg(svg));
    QImage image(png);
    QCOMPARE(image.width(), d.sizeHint().width() * 2);
    QFile f(svg);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray text = f.readAll();
    QVERIFY(text.startsWith("<?xml"));
    QVERIFY(text.contains("filter_FORWARD"));
    if (const QString out = qEnvironmentVariable("PORTICO_FLOW_PREVIEW"); !out.isEmpty())
        d.exportPng(out); // for a developer to look at
}

QTEST_MAIN(TestFlowModel)
#include "test_flow_model.moc"
