// SPDX-License-Identifier: GPL-3.0-or-later
// The main window: the forwards table with its pending edits, the Apply/Revert cycle against the
// helper's generation, conflict handling, the forwarding banner, and the pages shown when the
// helper cannot be reached.
#pragma once

#include "helper_client.h"

#include <QMainWindow>
#include <QTimer>
#include <memory>
#include <optional>

class QAction;
class QDBusServiceWatcher;
class QLabel;
class QMessageBox;
class QSortFilterProxyModel;

namespace Ui {
class MainWindow;
}

namespace portico {

class ForwardTableModel;
class ForwardDialog;
class ConnectionsView;
class FlowView;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(const QString &busAddress, QWidget *parent = nullptr);
    ~MainWindow() override;

    ForwardTableModel *model() const { return m_model; }
    QSortFilterProxyModel *proxy() const { return m_proxy; }
    HelperClient *client() const { return m_client; }
    quint64 generation() const { return m_generation; }
    bool isApplying() const { return m_applying; }
    // Which page is up: the table, or a message about the helper.
    bool showingTable() const;
    QString pageMessage() const;
    Ui::MainWindow *ui() const { return m_ui.get(); }
    // Rows of the model, by key, selected in the view.
    QStringList selectedKeys() const;
    // The model row of the one selected forward and its key; -1 unless exactly one is selected.
    int singleSelectedRow(QString *key) const;
    void selectKey(const QString &key);
    // Import and export without the file dialogs: the JSON of porticoctl export. An import
    // becomes pending changes that replace the whole set; an export writes the working set.
    bool importFrom(const QString &path);
    bool exportTo(const QString &path);
    // The Connections tab (issue 4).
    ConnectionsView *connectionsView() const { return m_connections; }

    // The chain-flow tab and the diagnosis of the selected forward (issue 5).
    FlowView *flowView() const { return m_flowView; }
    QAction *diagnoseAction() const { return m_diagnoseAction; }

public slots:
    void reload();
    void apply();
    void revert();
    void addForward();
    void editSelected();
    void duplicateSelected();
    void deleteSelected();
    void toggleSelected();
    void importForwards();
    void exportForwards();
    void about();
    void diagnoseSelected();

signals:
    // For tests and the status bar: each finished round trip.
    void reloaded(bool ok);
    void applyFinished(bool ok);
    void conflictShown();
    void countersUpdated();
    void forwardingUpdated();

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    enum class Conflict { Signal, StaleApply };

    void setupActions();
    // HelperClient::busDescription() in the user's language (the client's own stays English:
    // porticoctl and the error details use it).
    QString busText() const;
    void setupWatcher();
    void load(bool keepPending);
    void showTable();
    void showHelperError(const HelperError &e);
    void showMessage(const QString &objectName, const QString &title, const QString &text,
                     bool warning = true);
    void onForwardsChanged(quint64 generation);
    void fetchForConflict(Conflict why);
    void showConflict(const ForwardList &theirs, Conflict why);
    void pollCounters();
    void refreshForwarding();
    void updateBanner();
    void turnOnForwarding();
    void updateActions();
    void updateStatus();
    void openDialog(const Forward &f, const QString &key, bool isNew);
    qsizetype workingIndexOf(const QString &key) const;
    void setupFlow();
    void updateFlowSelection();

    std::unique_ptr<Ui::MainWindow> m_ui;
    HelperClient *m_client;
    ForwardTableModel *m_model;
    QSortFilterProxyModel *m_proxy;
    QDBusServiceWatcher *m_serviceWatcher = nullptr;
    QLabel *m_statusLabel;
    QAction *m_revertRowAction = nullptr;
    QTimer m_counterTimer;
    quint64 m_generation = 0;
    bool m_loaded = false;
    bool m_loading = false;
    bool m_loadAgain = false;
    bool m_loadAgainKeep = true;
    bool m_subscribed = false;
    bool m_headerRestored = false;
    bool m_applying = false;
    bool m_conflictOpen = false;
    bool m_countersInFlight = false;
    bool m_countersDenied = false;
    std::optional<IpForwarding> m_forwarding;
    ConnectionsView *m_connections = nullptr;
    FlowView *m_flowView = nullptr;
    QAction *m_diagnoseAction = nullptr;
};

} // namespace portico
