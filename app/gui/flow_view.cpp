// SPDX-License-Identifier: GPL-3.0-or-later
// The chain-flow tab's behaviour: polling, the trace's lifetime (pipe, StartTrace, StopTrace, the
// end line), and the list of traced packets with their steps.
#include "flow_view.h"
#include "when_done.h"

#include "flow_diagram.h"
#include "flow_model.h"
#include "trace_reader.h"

#include <QEvent>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QSplitter>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <utility>

namespace portico {

namespace {

QString stepText(int n, const TraceStep &s) {
    // The family is in the tooltip: the list stays narrow enough to read beside the diagram.
    QString text = FlowView::tr("%1. %2 · %3 %4").arg(n).arg(s.hook, s.table, s.chain);
    if (s.type == QLatin1StringView("policy"))
        text += FlowView::tr(" · policy %1").arg(s.verdict);
    else if (s.type == QLatin1StringView("return"))
        text += FlowView::tr(" · return");
    else
        text += FlowView::tr(" · rule %1: %2").arg(s.handle).arg(s.verdict);
    return text;
}

} // namespace

FlowView::FlowView(HelperClient *client, QWidget *parent)
    : QWidget(parent)
    , m_client(client)
    , m_model(new FlowModel(this))
    , m_diagram(new FlowDiagram(m_model))
    , m_forwardLabel(new QLabel(this))
    , m_traceButton(new QPushButton(tr("&Trace this forward"), this))
    , m_stopButton(new QPushButton(tr("&Stop trace"), this))
    , m_diagnoseButton(new QPushButton(tr("&Why doesn't this work?"), this))
    , m_exportButton(new QPushButton(tr("E&xport image…"), this))
    , m_statusLabel(new QLabel(this))
    , m_traceSummary(new QLabel(this))
    , m_traceList(new QTreeWidget(this)) {
    setObjectName(QStringLiteral("flowView"));
    m_diagram->setObjectName(QStringLiteral("flowDiagram"));
    m_traceButton->setObjectName(QStringLiteral("traceButton"));
    m_stopButton->setObjectName(QStringLiteral("stopTraceButton"));
    m_diagnoseButton->setObjectName(QStringLiteral("flowDiagnoseButton"));
    m_exportButton->setObjectName(QStringLiteral("exportDiagramButton"));
    m_traceList->setObjectName(QStringLiteral("traceList"));
    m_traceButton->setToolTip(
        tr("Follow this forward's packets through every chain for %1 seconds; then send traffic "
           "to it.")
            .arg(defaultTraceSeconds));
    m_diagnoseButton->setToolTip(tr("Check the usual reasons why a forward carries no traffic"));
    m_exportButton->setToolTip(tr("Save the diagram as a PNG or SVG image"));

    auto *controls = new QHBoxLayout;
    controls->addWidget(m_forwardLabel, 1);
    controls->addWidget(m_traceButton);
    controls->addWidget(m_stopButton);
    controls->addWidget(m_diagnoseButton);
    controls->addWidget(m_exportButton);

    auto *scroll = new QScrollArea;
    scroll->setWidget(m_diagram);
    scroll->setWidgetResizable(true);
    scroll->setBackgroundRole(QPalette::Base);
    scroll->setFocusProxy(m_diagram);

    auto *side = new QWidget;
    auto *sideLayout = new QVBoxLayout(side);
    sideLayout->setContentsMargins(0, 0, 0, 0);
    auto *traceTitle = new QLabel(tr("<b>Traced packets</b>"));
    sideLayout->addWidget(traceTitle);
    m_traceSummary->setWordWrap(true);
    m_traceSummary->setObjectName(QStringLiteral("traceSummary"));
    sideLayout->addWidget(m_traceSummary);
    m_traceList->setHeaderHidden(true);
    m_traceList->setColumnCount(1);
    m_traceList->setWordWrap(true);
    m_traceList->header()->setStretchLastSection(true);
    sideLayout->addWidget(m_traceList, 1);

    auto *splitter = new QSplitter(Qt::Horizontal);
    splitter->addWidget(scroll);
    splitter->addWidget(side);
    splitter->setStretchFactor(0, 4);
    splitter->setStretchFactor(1, 1);
    splitter->setChildrenCollapsible(false);
    // Wide enough for "Packet 12: dropped by inet firewalld filter_FORWARD" without eliding.
    side->setMinimumWidth(fontMetrics().averageCharWidth() * 58);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(controls);
    layout->addWidget(splitter, 1);
    layout->addWidget(m_statusLabel);

    m_clock.start();
    m_pollTimer.setInterval(1000);
    connect(&m_pollTimer, &QTimer::timeout, this, &FlowView::refresh);
    m_traceTimeout.setSingleShot(true);
    connect(&m_traceTimeout, &QTimer::timeout, this, [this] {
        m_model->endTrace(QStringLiteral("error"), tr("the helper did not end the trace in time"));
    });
    connect(m_traceButton, &QPushButton::clicked, this, [this] { startTrace(); });
    connect(m_stopButton, &QPushButton::clicked, this, &FlowView::stopTrace);
    connect(m_diagnoseButton, &QPushButton::clicked, this, &FlowView::diagnoseRequested);
    connect(m_exportButton, &QPushButton::clicked, this, &FlowView::exportDiagram);
    connect(m_model, &FlowModel::traceChanged, this, [this] {
        rebuildTraceList();
        updateControls();
        if (m_wasTracing && !m_model->tracing()) {
            m_traceTimeout.stop();
            emit traceEnded();
        }
        m_wasTracing = m_model->tracing();
    });
    connect(m_traceList, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem *item) {
        while (item && item->parent())
            item = item->parent();
        if (item)
            m_diagram->showTracePacket(m_traceList->indexOfTopLevelItem(item));
    });
    setForward(std::nullopt);
    rebuildTraceList();
}

FlowView::~FlowView() {
    if (tracing() && m_traceId && m_client)
        m_client->stopTraceAsync(m_traceId); // the helper also ends it when our name goes
}

QString FlowView::statusText() const {
    return m_statusLabel->text();
}

void FlowView::showEvent(QShowEvent *event) {
    QWidget::showEvent(event);
    updatePolling();
    refresh();
}

void FlowView::hideEvent(QHideEvent *event) {
    QWidget::hideEvent(event);
    updatePolling();
}

void FlowView::changeEvent(QEvent *event) {
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange)
        rebuildTraceList(); // the red of a drop is chosen for the palette
}

void FlowView::updatePolling() {
    const bool want = !m_denied && (isVisible() || tracing());
    if (want && !m_pollTimer.isActive())
        m_pollTimer.start();
    else if (!want)
        m_pollTimer.stop();
}

void FlowView::refresh() {
    if (m_inFlight || m_denied)
        return;
    m_inFlight = true;
    whenDone(this, m_client->rulesetSummaryAsync(), [this](const QDBusMessage &reply) {
        m_inFlight = false;
        const auto r = m_client->decodeRulesetSummary(reply);
        if (!r.ok()) {
            m_error = r.error.message;
            if (r.error.kind == HelperError::Kind::NotAuthorized ||
                r.error.kind == HelperError::Kind::Protocol) {
                // Asking again each second would only repeat the refusal (or the prompt).
                m_denied = true;
                updatePolling();
            }
            m_statusLabel->setText(tr("The chains cannot be shown: %1").arg(m_error));
            emit summaryUpdated(false);
            return;
        }
        m_error.clear();
        m_model->setSummary(r.value, m_clock.elapsed());
        int foreign = 0;
        for (const FlowChain &c : m_model->chains())
            foreign += c.ours ? 0 : 1;
        m_statusLabel->setText(tr("Base chains: %1, of other programs: %2 · ruleset generation %3")
                                   .arg(m_model->chains().size())
                                   .arg(foreign)
                                   .arg(r.value.generation));
        emit summaryUpdated(true);
    });
}

void FlowView::setForward(const std::optional<Forward> &forward) {
    m_forward = forward;
    if (forward)
        m_model->setHighlightedForward(*forward);
    else
        m_model->clearHighlight();
    updateControls();
}

bool FlowView::canTrace() const {
    return m_forward && !m_forward->id.isEmpty() && m_forward->enabled && !tracing();
}

bool FlowView::tracing() const {
    return m_traceStarting || m_model->tracing();
}

void FlowView::updateControls() {
    if (!m_forward)
        m_forwardLabel->setText(tr("Select one forward in the Forwards tab to see its path."));
    else if (m_forward->id.isEmpty())
        m_forwardLabel->setText(
            tr("'%1' is not applied yet: press Apply to trace it.").arg(m_forward->name));
    else if (!m_forward->enabled)
        m_forwardLabel->setText(
            tr("'%1' is disabled: enable it to trace it.").arg(m_forward->name));
    else
        m_forwardLabel->setText(tr("Forward '%1'").arg(m_forward->name));
    m_traceButton->setEnabled(canTrace());
    m_traceButton->setText(m_forward ? tr("&Trace '%1'").arg(m_forward->name)
                                     : tr("&Trace this forward"));
    m_stopButton->setEnabled(tracing() && m_traceId != 0);
    m_diagnoseButton->setEnabled(m_forward && !m_forward->id.isEmpty());
}

void FlowView::startTrace(uint seconds) {
    if (m_forward)
        startTraceOf(*m_forward, seconds);
}

void FlowView::startTraceOf(const Forward &forward, uint seconds) {
    if (tracing() || forward.id.isEmpty())
        return;
    delete m_reader;
    m_traceId = 0;
    m_shownPackets = 0;
    m_diagram->showTracePacket(-1);
    m_traceStarting = true;
    m_stopWhenStarted = false;
    m_model->beginTrace(forward.id, forward.name);
    int fd = -1;
    const QDBusPendingCall call = m_client->startTraceAsync(forward.id, seconds, &fd);
    if (fd >= 0) {
        m_reader = new TraceReader(fd, this);
        connect(m_reader, &TraceReader::step, this, [this](const TraceStep &step) {
            m_model->addTraceStep(step);
            if (m_model->tracePackets().size() > m_shownPackets)
                QTimer::singleShot(150, this, &FlowView::showLatestPacket);
        });
        connect(m_reader, &TraceReader::ended, this,
                [this](const QString &reason, const QString &message) {
                    m_reader->deleteLater();
                    m_reader = nullptr;
                    if (reason == QLatin1StringView("closed"))
                        m_model->endTrace(QStringLiteral("error"),
                                          tr("the helper closed the trace without saying why"));
                    else
                        m_model->endTrace(reason, message);
                    updatePolling();
                    updateControls();
                });
    }
    updatePolling();
    updateControls();
    m_traceSummary->setText(tr("Starting the trace of '%1'…").arg(forward.name));
    whenDone(this, call, [this, seconds](const QDBusMessage &reply) {
        m_traceStarting = false;
        const auto r = m_client->decodeStartTrace(reply);
        if (!r.ok())
            m_stopWhenStarted = false;
        if (!r.ok()) {
            delete m_reader;
            m_model->endTrace(QStringLiteral("error"), r.error.message);
            updatePolling();
            updateControls();
            emit traceStarted(false, r.error.message);
            return;
        }
        m_traceId = r.value;
        m_traceTimeout.start(int(seconds + 10) * 1000);
        updateControls();
        rebuildTraceList();
        emit traceStarted(true, QString());
        if (std::exchange(m_stopWhenStarted, false))
            stopTrace();
    });
}

void FlowView::stopTrace() {
    if (m_traceStarting) {
        // Packets may come before StartTrace's reply: stop as soon as the id is known.
        m_stopWhenStarted = true;
        return;
    }
    if (!m_traceId || !m_model->tracing())
        return;
    m_stopButton->setEnabled(false);
    whenDone(this, m_client->stopTraceAsync(m_traceId), [this](const QDBusMessage &reply) {
        const HelperError e = m_client->decodeEmpty(reply);
        if (!e.ok())
            m_statusLabel->setText(tr("The trace could not be stopped: %1").arg(e.message));
        updateControls();
    });
}

void FlowView::showLatestPacket() {
    const int n = int(m_model->tracePackets().size());
    if (n <= m_shownPackets || m_diagram->traceAnimating())
        return;
    m_shownPackets = n;
    if (QTreeWidgetItem *item = m_traceList->topLevelItem(n - 1)) {
        m_traceList->setCurrentItem(item);
        m_traceList->expandItem(item);
    } else
        m_diagram->showTracePacket(n - 1);
}

void FlowView::rebuildTraceList() {
    const int current =
        m_traceList->currentItem()
            ? m_traceList->indexOfTopLevelItem(m_traceList->currentItem()->parent()
                                                   ? m_traceList->currentItem()->parent()
                                                   : m_traceList->currentItem())
            : -1;
    const QSignalBlocker block(m_traceList);
    m_traceList->clear();
    const QColor red = palette().color(QPalette::Base).lightness() < 128 ? QColor(0xff, 0x7b, 0x72)
                                                                         : QColor(0xc0, 0x1c, 0x28);
    int dropped = 0;
    for (const TracePacket &p : m_model->tracePackets()) {
        auto *item = new QTreeWidgetItem(m_traceList);
        QString last;
        if (!p.steps.isEmpty())
            last = p.steps.last().oif.isEmpty() ? QString() : p.steps.last().oif;
        if (p.dropped) {
            ++dropped;
            item->setText(0, tr("Packet %1: dropped by %2").arg(p.id).arg(p.dropChain));
            item->setForeground(0, red);
        } else {
            item->setText(
                0, tr("Packet %1: not dropped (chains: %2)").arg(p.id).arg(p.chainPath().size()));
        }
        item->setToolTip(0, item->text(0));
        int n = 0;
        for (const TraceStep &s : p.steps) {
            auto *child = new QTreeWidgetItem(item);
            child->setText(0, stepText(++n, s));
            QString tip = traceChainKey(s) + QLatin1Char('\n') + child->text(0);
            if (!s.iif.isEmpty() || !s.oif.isEmpty())
                tip +=
                    tr("\nin: %1, out: %2")
                        .arg(s.iif.isEmpty() ? tr("-") : s.iif, s.oif.isEmpty() ? tr("-") : s.oif);
            child->setToolTip(0, tip);
            if (s.verdict == QLatin1StringView("drop") || s.verdict == QLatin1StringView("reject"))
                child->setForeground(0, red);
        }
    }
    if (current >= 0 && current < m_traceList->topLevelItemCount()) {
        m_traceList->setCurrentItem(m_traceList->topLevelItem(current));
        m_traceList->expandItem(m_traceList->topLevelItem(current)); // its steps
    }

    const int packets = int(m_model->tracePackets().size());
    QString text;
    if (!m_model->hasTrace())
        text = tr("No trace yet. Select a forward, press Trace, then send traffic to it.");
    else if (m_traceStarting)
        text = tr("Starting the trace of '%1'…").arg(m_model->traceForwardName());
    else if (m_model->tracing())
        text = tr("Tracing '%1': send traffic to it now. Packets so far: %2.")
                   .arg(m_model->traceForwardName())
                   .arg(packets);
    else if (m_model->traceEnd() == QLatin1StringView("error"))
        text = tr("The trace of '%1' failed: %2")
                   .arg(m_model->traceForwardName(), m_model->traceMessage());
    else
        text = tr("The trace of '%1' ended. Packets: %2.")
                   .arg(m_model->traceForwardName())
                   .arg(packets);
    if (dropped)
        text += QLatin1Char(' ') +
                tr("Dropped: %1, the last by %2.").arg(dropped).arg(m_model->lastDropChain());
    m_traceSummary->setText(text);
}

bool FlowView::exportTo(const QString &path) {
    const bool ok = path.endsWith(QLatin1StringView(".svg"), Qt::CaseInsensitive)
                        ? m_diagram->exportSvg(path)
                        : m_diagram->exportPng(path);
    m_statusLabel->setText(ok ? tr("Saved the diagram to %1.").arg(path)
                              : tr("Could not save the diagram to %1.").arg(path));
    return ok;
}

void FlowView::exportDiagram() {
    QString filter;
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export the diagram"), QStringLiteral("portico-chains.png"),
        tr("PNG image (*.png);;SVG image (*.svg)"), &filter);
    if (path.isEmpty())
        return;
    QString target = path;
    if (!target.endsWith(QLatin1StringView(".png"), Qt::CaseInsensitive) &&
        !target.endsWith(QLatin1StringView(".svg"), Qt::CaseInsensitive))
        target += filter.contains(QLatin1StringView("svg")) ? QStringLiteral(".svg")
                                                            : QStringLiteral(".png");
    exportTo(target);
}

} // namespace portico
