// SPDX-License-Identifier: GPL-3.0-or-later
// The Connections tab: the live conntrack table of the helper's stream, its filter bar, pause,
// kill with confirmation, copy and CSV export, the live count, the notice when accounting is off,
// and the pages shown when the stream cannot be opened.
#pragma once

#include "helper_client.h"

#include <QPointer>
#include <QTimer>
#include <QWidget>

class QAction;
class QCheckBox;
class QComboBox;
class QFrame;
class QLabel;
class QLineEdit;
class QPushButton;
class QStackedWidget;
class QTableView;
class QToolButton;

namespace portico {

class ConnectionTableModel;

class ConnectionsView : public QWidget {
    Q_OBJECT
public:
    explicit ConnectionsView(HelperClient *client, QWidget *parent = nullptr);
    ~ConnectionsView() override;

    ConnectionTableModel *model() const { return m_model; }
    QTableView *table() const { return m_table; }
    QLineEdit *filterEdit() const { return m_filterEdit; }
    bool isStreaming() const { return m_streaming; }
    bool showingMessage() const;
    QString messageText() const;
    QString countText() const;
    // What the last kill did, or is doing ("Killing connections (3)…"), beside the count.
    QString killStatusText() const;
    // The ids of the selected rows.
    QList<quint32> selectedIds() const;
    bool exportCsv(const QString &path);
    // Off: showing the tab does not open the stream (the benchmarks feed the model themselves).
    void setAutoStart(bool on) { m_autoStart = on; }

public slots:
    // Opens the stream; the first time the tab is shown does it.
    void start();
    void stop();
    // Shows only the live connections of one forward (empty: of all).
    void showForward(const QString &forwardId);
    void killSelected(); // asks first
    void copySelected();
    void exportCsvDialog();
    void setPaused(bool paused);

signals:
    // A connection of this forward was double-clicked.
    void forwardActivated(const QString &forwardId);
    void streamStarted();
    void streamEnded(const QString &why);
    void killFinished(bool ok, uint killed);

protected:
    void showEvent(QShowEvent *event) override;

private:
    void buildUi();
    void applyFilter();
    void updateCount();
    void updateActions();
    void rebuildForwardCombo();
    void showError(const HelperError &e);
    void showPage(const QString &title, const QString &text);
    void onStreamEnded(const QString &why);
    void killIds(const QList<quint32> &ids);
    void openReader(int fd);
    void turnOnAccounting();

    HelperClient *m_client;
    ConnectionTableModel *m_model;
    QObject *m_reader = nullptr; // the pipe reader of the open stream
    bool m_streaming = false;
    bool m_killing = false; // a KillConnections call is under way
    bool m_started = false;
    bool m_autoStart = true;
    bool m_stopping = false;
    quint64 m_attempt = 0;    // which WatchConnections call is the current one
    QString m_pendingForward; // asked for before the stream named its forwards

    QStackedWidget *m_pages = nullptr;
    QWidget *m_tablePage = nullptr;
    QWidget *m_messagePage = nullptr;
    QLabel *m_messageTitle = nullptr;
    QLabel *m_messageText = nullptr;
    QFrame *m_notice = nullptr;
    QLabel *m_noticeText = nullptr;
    QPushButton *m_noticeButton = nullptr;
    QLineEdit *m_filterEdit = nullptr;
    QCheckBox *m_forwardedOnly = nullptr;
    QComboBox *m_protocol = nullptr;
    QComboBox *m_forward = nullptr;
    QCheckBox *m_establishedOnly = nullptr;
    QToolButton *m_pauseButton = nullptr;
    QToolButton *m_killButton = nullptr;
    QToolButton *m_exportButton = nullptr;
    QTableView *m_table = nullptr;
    QLabel *m_count = nullptr;
    QLabel *m_killStatus = nullptr;
    QAction *m_killAction = nullptr;
    QAction *m_copyAction = nullptr;
    QAction *m_pauseAction = nullptr;
    QAction *m_showForwardAction = nullptr;
    QTimer m_filterTimer;
};

} // namespace portico
