// SPDX-License-Identifier: GPL-3.0-or-later
// The "Chain flow" tab: the diagram in a scroll area, the trace list beside it, and the controls
// for the selected forward (trace, diagnosis, export). It polls RulesetSummary about once a
// second while it is shown or a trace runs, and owns the one trace the window can run.
// The calls go through the window's HelperClient; the trace pipe is read by TraceReader.
#pragma once

#include "forward.h"
#include "helper_client.h"

#include <QElapsedTimer>
#include <QPointer>
#include <QTimer>
#include <QWidget>
#include <optional>

class QLabel;
class QPushButton;
class QTreeWidget;

namespace portico {

class FlowDiagram;
class FlowModel;
class TraceReader;

class FlowView : public QWidget {
    Q_OBJECT
public:
    static constexpr uint defaultTraceSeconds = 30;

    explicit FlowView(HelperClient *client, QWidget *parent = nullptr);
    ~FlowView() override;

    FlowModel *model() const { return m_model; }
    FlowDiagram *diagram() const { return m_diagram; }
    HelperClient *client() const { return m_client; }
    QTreeWidget *traceList() const { return m_traceList; }
    QPushButton *traceButton() const { return m_traceButton; }
    QPushButton *diagnoseButton() const { return m_diagnoseButton; }
    QString statusText() const;

    // The forward selected in the forwards table (its applied form: the kernel has that one);
    // nullopt when none or several are selected.
    void setForward(const std::optional<Forward> &forward);
    std::optional<Forward> forward() const { return m_forward; }
    bool canTrace() const;
    bool tracing() const;

    // Export by the file's suffix, .png or .svg.
    bool exportTo(const QString &path);

public slots:
    void refresh();
    // Traces the selected forward (or the given one) for `seconds`.
    void startTrace(uint seconds = defaultTraceSeconds);
    void startTraceOf(const Forward &forward, uint seconds = defaultTraceSeconds);
    void stopTrace();
    void exportDiagram();

signals:
    void summaryUpdated(bool ok);
    void traceStarted(bool ok, const QString &error);
    void traceEnded();
    void diagnoseRequested();

protected:
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;
    void changeEvent(QEvent *event) override;

private:
    void updatePolling();
    void updateControls();
    void rebuildTraceList();
    void showLatestPacket();

    // The window's client; it may go first when the window closes (it is an older child).
    QPointer<HelperClient> m_client;
    FlowModel *m_model;
    FlowDiagram *m_diagram;
    QLabel *m_forwardLabel;
    QPushButton *m_traceButton;
    QPushButton *m_stopButton;
    QPushButton *m_diagnoseButton;
    QPushButton *m_exportButton;
    QLabel *m_statusLabel;
    QLabel *m_traceSummary;
    QTreeWidget *m_traceList;

    QTimer m_pollTimer;
    QElapsedTimer m_clock;
    bool m_inFlight = false;
    bool m_denied = false;
    QString m_error;
    std::optional<Forward> m_forward;

    QPointer<TraceReader> m_reader;
    quint64 m_traceId = 0;
    bool m_traceStarting = false;
    bool m_wasTracing = false;
    bool m_stopWhenStarted = false;
    int m_shownPackets = 0;
    QTimer m_traceTimeout; // if the helper never says the trace ended
};

} // namespace portico
