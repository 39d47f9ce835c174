// SPDX-License-Identifier: GPL-3.0-or-later
// The diagnosis dialog. The helper's findings already say what is wrong and how to fix it in
// plain words; the dialog orders them, marks their weight, and ties a trace's drop to them.
#include "diagnosis_dialog.h"
#include "when_done.h"

#include "flow_model.h"
#include "flow_view.h"

#include <QDialogButtonBox>
#include <QFrame>
#include <QGridLayout>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QStyle>
#include <QVBoxLayout>
#include <algorithm>

namespace portico {

namespace {

int weight(const DiagnosisFinding &f) {
    return f.isProblem() ? 0 : f.isWarning() ? 1 : 2;
}

QString portText(const Forward &f) {
    return f.externalPort.toString();
}

} // namespace

DiagnosisDialog::DiagnosisDialog(FlowView *view, const Forward &forward, QWidget *parent)
    : QDialog(parent)
    , m_view(view)
    , m_forward(forward)
    , m_headline(new QLabel(this))
    , m_list(new QVBoxLayout)
    , m_traceHint(new QLabel(this))
    , m_traceResult(new QLabel(this))
    , m_traceButton(new QPushButton(tr("&Run a trace"), this))
    , m_againButton(new QPushButton(tr("Check &again"), this)) {
    setObjectName(QStringLiteral("diagnosisDialog"));
    setWindowTitle(tr("Why doesn't '%1' work?").arg(forward.name));
    m_headline->setObjectName(QStringLiteral("diagnosisHeadline"));
    m_headline->setWordWrap(true);
    QFont big = m_headline->font();
    big.setBold(true);
    big.setPointSizeF(big.pointSizeF() * 1.2);
    m_headline->setFont(big);
    m_traceButton->setObjectName(QStringLiteral("diagnosisTraceButton"));
    m_traceResult->setObjectName(QStringLiteral("diagnosisTraceResult"));
    m_traceHint->setWordWrap(true);
    m_traceResult->setWordWrap(true);
    m_traceResult->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto *listWidget = new QWidget;
    auto *listOuter = new QVBoxLayout(listWidget);
    listOuter->addLayout(m_list);
    listOuter->addStretch(1);
    auto *scroll = new QScrollArea;
    scroll->setWidget(listWidget);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);

    auto *traceBox = new QFrame;
    traceBox->setFrameShape(QFrame::StyledPanel);
    auto *traceLayout = new QGridLayout(traceBox);
    traceLayout->addWidget(m_traceHint, 0, 0);
    traceLayout->addWidget(m_traceButton, 0, 1, Qt::AlignTop);
    traceLayout->addWidget(m_traceResult, 1, 0, 1, 2);
    traceLayout->setColumnStretch(0, 1);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    buttons->addButton(m_againButton, QDialogButtonBox::ActionRole);
    QPushButton *show =
        buttons->addButton(tr("Show in the &diagram"), QDialogButtonBox::ActionRole);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(show, &QPushButton::clicked, this, &DiagnosisDialog::showDiagramRequested);
    connect(m_againButton, &QPushButton::clicked, this, &DiagnosisDialog::run);
    connect(m_traceButton, &QPushButton::clicked, this, [this] {
        m_ourTrace = true;
        m_view->startTraceOf(m_forward);
        onTraceChanged();
    });
    connect(m_view->model(), &FlowModel::traceChanged, this, &DiagnosisDialog::onTraceChanged);
    connect(m_view, &FlowView::traceStarted, this, [this](bool ok, const QString &error) {
        if (m_ourTrace && !ok)
            m_traceResult->setText(tr("The trace could not start: %1").arg(error));
    });

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_headline);
    layout->addWidget(scroll, 1);
    layout->addWidget(traceBox);
    layout->addWidget(buttons);
    resize(700, 600);

    const bool traceable = !forward.id.isEmpty() && forward.enabled;
    m_traceButton->setEnabled(traceable && !m_view->tracing());
    m_traceHint->setText(
        traceable
            ? tr("A trace follows the packets of '%1' through every chain of every table for %2 "
                 "seconds. Start it, then send traffic to port %3 of this gateway from where "
                 "the clients are.")
                  .arg(forward.name)
                  .arg(FlowView::defaultTraceSeconds)
                  .arg(portText(forward))
            : tr("A trace needs the forward applied and enabled."));
    run();
}

void DiagnosisDialog::run() {
    m_done = false;
    m_againButton->setEnabled(false);
    m_headline->setText(tr("Checking '%1'…").arg(m_forward.name));
    whenDone(this, m_view->client()->diagnoseAsync(m_forward.id),
             [this](const QDBusMessage &reply) {
                 m_againButton->setEnabled(true);
                 const auto r = m_view->client()->decodeDiagnose(reply);
                 m_done = true;
                 if (!r.ok()) {
                     m_findings.clear();
                     showFindings();
                     m_headline->setText(tr("The checks could not run: %1").arg(r.error.message));
                     m_plain.prepend(m_headline->text());
                     emit diagnosed(false);
                     return;
                 }
                 m_findings = r.value;
                 std::stable_sort(m_findings.begin(), m_findings.end(),
                                  [](const DiagnosisFinding &a, const DiagnosisFinding &b) {
                                      return weight(a) < weight(b);
                                  });
                 showFindings();
                 emit diagnosed(true);
             });
}

void DiagnosisDialog::showFindings() {
    while (QLayoutItem *item = m_list->takeAt(0)) {
        delete item->widget();
        delete item;
    }
    m_plain.clear();
    const int problems = int(std::count_if(m_findings.cbegin(), m_findings.cend(),
                                           [](const auto &f) { return f.isProblem(); }));
    const int warnings = int(std::count_if(m_findings.cbegin(), m_findings.cend(),
                                           [](const auto &f) { return f.isWarning(); }));
    if (problems)
        m_headline->setText(
            tr("Problems that stop '%1' from working: %2.").arg(m_forward.name).arg(problems));
    else if (warnings)
        m_headline->setText(tr("No problem found; warnings: %1.").arg(warnings));
    else
        m_headline->setText(
            tr("Nothing wrong found with '%1'. If it still does not work, run a trace.")
                .arg(m_forward.name));
    m_plain << m_headline->text();

    const int iconSize = style()->pixelMetric(QStyle::PM_MessageBoxIconSize) * 2 / 3;
    for (const DiagnosisFinding &f : std::as_const(m_findings)) {
        auto *frame = new QFrame;
        frame->setObjectName(QStringLiteral("finding_%1").arg(f.check));
        auto *grid = new QGridLayout(frame);
        auto *icon = new QLabel;
        const QStyle::StandardPixmap pixmap = f.isProblem()   ? QStyle::SP_MessageBoxCritical
                                              : f.isWarning() ? QStyle::SP_MessageBoxWarning
                                                              : QStyle::SP_DialogApplyButton;
        icon->setPixmap(style()->standardIcon(pixmap).pixmap(iconSize, iconSize));
        grid->addWidget(icon, 0, 0, 3, 1, Qt::AlignTop);
        const QString kind = f.isProblem()   ? tr("Problem")
                             : f.isWarning() ? tr("Warning")
                                             : tr("Fine");
        auto *message =
            new QLabel(QStringLiteral("<b>%1:</b> %2").arg(kind, f.message.toHtmlEscaped()));
        message->setWordWrap(true);
        message->setTextInteractionFlags(Qt::TextSelectableByMouse);
        grid->addWidget(message, 0, 1);
        m_plain << kind + QStringLiteral(": ") + f.message;
        int row = 1;
        if (!f.fix.isEmpty() && f.severity != QLatin1StringView("ok")) {
            auto *fix = new QLabel(tr("<i>Fix:</i> %1").arg(f.fix.toHtmlEscaped()));
            fix->setWordWrap(true);
            fix->setTextInteractionFlags(Qt::TextSelectableByMouse);
            grid->addWidget(fix, row++, 1);
            m_plain << tr("Fix: %1").arg(f.fix);
        }
        if (!f.chain.isEmpty()) {
            auto *chain = new QLabel(tr("Chain: %1").arg(f.chain));
            chain->setForegroundRole(QPalette::PlaceholderText);
            grid->addWidget(chain, row++, 1);
            m_plain << tr("Chain: %1").arg(f.chain);
        }
        grid->setColumnStretch(1, 1);
        m_list->addWidget(frame);
    }
    onTraceChanged();
}

void DiagnosisDialog::onTraceChanged() {
    const FlowModel *model = m_view->model();
    m_traceButton->setEnabled(!m_forward.id.isEmpty() && m_forward.enabled && !m_view->tracing());
    if (!m_ourTrace || model->traceForwardId() != m_forward.id)
        return;
    const QString drop = model->lastDropChain();
    const int packets = int(model->tracePackets().size());
    QString text;
    if (!drop.isEmpty()) {
        text = tr("The trace shows it: the packet was dropped by %1.").arg(drop);
        m_traceResult->setFont([this] {
            QFont f = font();
            f.setBold(true);
            return f;
        }());
        const auto named = std::find_if(m_findings.cbegin(), m_findings.cend(),
                                        [&](const auto &f) { return f.chain == drop; });
        if (named != m_findings.cend() && !named->fix.isEmpty())
            text += QLatin1Char(' ') + tr("That is the chain named above: %1").arg(named->fix);
    } else if (model->tracing()) {
        text = packets ? tr("Tracing: no packet dropped so far (seen: %1).").arg(packets)
                       : tr("Tracing for %1 seconds: send traffic to port %2 of this gateway now.")
                             .arg(FlowView::defaultTraceSeconds)
                             .arg(portText(m_forward));
    } else if (model->traceEnd() == QLatin1StringView("error")) {
        text = tr("The trace failed: %1").arg(model->traceMessage());
    } else if (packets) {
        text = tr("No traced packet was dropped (seen: %1): netfilter lets this forward's "
                  "traffic through. Look at the target host and its answers.")
                   .arg(packets);
    } else {
        text = tr("No packet of '%1' arrived during the trace: the traffic does not reach this "
                  "gateway, or comes to another address, port or interface than the forward's.")
                   .arg(m_forward.name);
    }
    if (text != m_traceResult->text()) {
        m_traceResult->setText(text);
        emit traceResultShown();
    }
}

QString DiagnosisDialog::text() const {
    return m_plain.join(QLatin1Char('\n')) + QLatin1Char('\n') + m_traceResult->text();
}

QString DiagnosisDialog::traceResult() const {
    return m_traceResult->text();
}

} // namespace portico
