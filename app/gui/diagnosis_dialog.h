// SPDX-License-Identifier: GPL-3.0-or-later
// "Why doesn't this forward work?": asks the helper's Diagnose about one forward and shows its
// findings in plain words, problems first with their fix; then offers a trace (through the
// chain-flow view, so the diagram shows it too) and says where the traced packets went.
#pragma once

#include "forward.h"
#include "helper_client.h"

#include <QDialog>

class QLabel;
class QPushButton;
class QVBoxLayout;

namespace portico {

class FlowView;

class DiagnosisDialog : public QDialog {
    Q_OBJECT
public:
    DiagnosisDialog(FlowView *view, const Forward &forward, QWidget *parent = nullptr);

    bool finished() const { return m_done; }
    // The findings, problems first, then warnings, then what is fine.
    QList<DiagnosisFinding> findings() const { return m_findings; }
    // Everything the dialog says, as plain text (for tests and copying).
    QString text() const;
    QString traceResult() const;
    QPushButton *traceButton() const { return m_traceButton; }

signals:
    void diagnosed(bool ok);
    void traceResultShown();
    void showDiagramRequested();

private:
    void run();
    void showFindings();
    void onTraceChanged();

    FlowView *m_view;
    Forward m_forward;
    QLabel *m_headline;
    QVBoxLayout *m_list;
    QLabel *m_traceHint;
    QLabel *m_traceResult;
    QPushButton *m_traceButton;
    QPushButton *m_againButton;
    QList<DiagnosisFinding> m_findings;
    QStringList m_plain;
    bool m_done = false;
    bool m_ourTrace = false;
};

} // namespace portico
