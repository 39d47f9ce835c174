// SPDX-License-Identifier: GPL-3.0-or-later
// The main window's behaviour. Every helper call is asynchronous, so a password prompt or a slow
// helper never freezes the window; pending edits live in the model until an Apply succeeds.
#include "main_window.h"
#include "ui_main_window.h"
#include "when_done.h"

#include "connections_view.h"
#include "diagnosis_dialog.h"
#include "errors.h"
#include "flow_model.h"
#include "flow_view.h"
#include "forward_dialog.h"
#include "forward_table_model.h"
#include "helper_install_hint.h"
#include "serialization.h"
#include "validation.h"

#include <QCloseEvent>
#include <QDBusConnection>
#include <QDBusServiceWatcher>
#include <QFileDialog>
#include <QHeaderView>
#include <QJsonDocument>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSaveFile>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QStyle>

namespace portico {

namespace {

QIcon icon(const char *theme, const char *resource) {
    return QIcon::fromTheme(
        QLatin1StringView(theme),
        QIcon(QStringLiteral(":/icons/%1.svg").arg(QLatin1StringView(resource))));
}

} // namespace

MainWindow::MainWindow(const QString &busAddress, QWidget *parent)
    : QMainWindow(parent)
    , m_ui(std::make_unique<Ui::MainWindow>())
    , m_client(new HelperClient(busAddress, this))
    , m_model(new ForwardTableModel(this))
    , m_proxy(new QSortFilterProxyModel(this))
    , m_statusLabel(new QLabel(this)) {
    m_ui->setupUi(this);
    setWindowIcon(QIcon(QStringLiteral(":/icons/portico.svg")));

    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(ForwardTableModel::RawValueRole);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_proxy->setSortCaseSensitivity(Qt::CaseInsensitive);
    m_proxy->setFilterKeyColumn(-1);
    m_ui->forwardView->setModel(m_proxy);
    m_ui->forwardView->sortByColumn(ForwardTableModel::NameColumn, Qt::AscendingOrder);
    QHeaderView *header = m_ui->forwardView->horizontalHeader();
    header->setSectionResizeMode(QHeaderView::Interactive);
    header->setSectionsMovable(true);
    // Fitting columns looks at this many rows, not at all 10,000.
    header->setResizeContentsPrecision(200);
    m_ui->forwardView->resizeColumnsToContents();
    header->resizeSection(ForwardTableModel::NameColumn, 140);
    header->resizeSection(ForwardTableModel::ExternalColumn, 200);
    header->resizeSection(ForwardTableModel::TargetColumn, 180);
    header->resizeSection(ForwardTableModel::HitsColumn, 200);
    connect(m_ui->filterEdit, &QLineEdit::textChanged, m_proxy,
            &QSortFilterProxyModel::setFilterFixedString);

    // The banner takes the tooltip colours of the theme: noticeable, and right in light and dark.
    m_ui->forwardingBanner->setBackgroundRole(QPalette::ToolTipBase);
    m_ui->forwardingBanner->setForegroundRole(QPalette::ToolTipText);
    m_ui->bannerLabel->setForegroundRole(QPalette::ToolTipText);
    const int iconSize = style()->pixelMetric(QStyle::PM_SmallIconSize);
    m_ui->bannerIcon->setPixmap(
        style()->standardIcon(QStyle::SP_MessageBoxWarning).pixmap(iconSize, iconSize));
    QFont titleFont = m_ui->messageTitle->font();
    titleFont.setBold(true);
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.4);
    m_ui->messageTitle->setFont(titleFont);

    statusBar()->addPermanentWidget(m_statusLabel);
    setupActions();
    setupFlow();

    // The Connections tab (issue 4): its stream opens when the tab is first shown. A forward's
    // "Show connections" filters it on that forward; a connection's double-click comes back.
    m_connections = new ConnectionsView(m_client, m_ui->views);
    m_connections->setObjectName(QStringLiteral("connectionsTab"));
    m_ui->views->addTab(m_connections, tr("&Connections"));
    auto *showConnections = new QAction(tr("Show &connections"), this);
    showConnections->setObjectName(QStringLiteral("actionShowConnections"));
    connect(showConnections, &QAction::triggered, this, [this] {
        QString key;
        if (singleSelectedRow(&key) < 0 || key.startsWith(QLatin1StringView("new:")))
            return;
        m_ui->views->setCurrentWidget(m_connections);
        m_connections->showForward(key);
    });
    m_ui->forwardView->addAction(showConnections);
    connect(m_connections, &ConnectionsView::forwardActivated, this, [this](const QString &id) {
        m_ui->views->setCurrentWidget(m_ui->forwardsTab);
        selectKey(id);
        m_ui->forwardView->setFocus();
    });

    connect(m_ui->turnOnButton, &QPushButton::clicked, this, &MainWindow::turnOnForwarding);
    connect(m_ui->retryButton, &QPushButton::clicked, this, [this] { load(true); });
    connect(m_ui->forwardView, &QAbstractItemView::doubleClicked, this, &MainWindow::editSelected);
    connect(m_ui->forwardView->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &MainWindow::updateActions);
    for (auto signal : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved})
        connect(m_model, signal, this, [this] {
            updateActions();
            updateStatus();
        });
    connect(m_model, &QAbstractItemModel::dataChanged, this,
            [this](const QModelIndex &tl, const QModelIndex &br) {
                // Counter ticks touch only the hits column: skip the rest of the work for them.
                if (tl.column() == ForwardTableModel::HitsColumn &&
                    br.column() == ForwardTableModel::HitsColumn)
                    return;
                updateActions();
                updateStatus();
            });

    connect(m_client, &HelperClient::forwardsChanged, this, &MainWindow::onForwardsChanged);
    m_counterTimer.setInterval(2000);
    connect(&m_counterTimer, &QTimer::timeout, this, &MainWindow::pollCounters);

    QSettings settings;
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
    m_headerRestored =
        header->restoreState(settings.value(QStringLiteral("window/header")).toByteArray());

    setupWatcher();
    updateActions();
    updateStatus();
    QTimer::singleShot(0, this, [this] { load(false); });
}

MainWindow::~MainWindow() = default;

void MainWindow::setupActions() {
    Ui::MainWindow *ui = m_ui.get();
    ui->actionAdd->setShortcuts({QKeySequence(Qt::CTRL | Qt::Key_N), QKeySequence(Qt::Key_Insert)});
    ui->actionApply->setShortcut(QKeySequence::Save);
    ui->actionReload->setShortcut(QKeySequence::Refresh);
    ui->actionQuit->setShortcut(QKeySequence::Quit);
    ui->actionAdd->setIcon(icon("list-add", "add"));
    ui->actionEdit->setIcon(icon("document-edit", "edit"));
    ui->actionDuplicate->setIcon(icon("edit-copy", "duplicate"));
    ui->actionDelete->setIcon(icon("edit-delete", "delete"));
    ui->actionApply->setIcon(icon("dialog-ok-apply", "apply"));
    ui->actionRevert->setIcon(icon("edit-undo", "revert"));
    ui->actionReload->setIcon(icon("view-refresh", "reload"));
    ui->actionImport->setIcon(icon("document-import", "import"));
    ui->actionExport->setIcon(icon("document-export", "export"));
    ui->actionAbout->setIcon(QIcon(QStringLiteral(":/icons/portico.svg")));

    // Return, Space and Delete belong to the table: in the filter box they keep their usual use.
    for (QAction *a : {ui->actionEdit, ui->actionDelete, ui->actionToggleEnabled}) {
        a->setShortcutContext(Qt::WidgetWithChildrenShortcut);
        ui->forwardView->addAction(a);
    }
    ui->actionEdit->setShortcuts({QKeySequence(Qt::Key_Return), QKeySequence(Qt::Key_Enter)});
    // The table's context menu: its own actions, plus undoing the pending change of one row.
    m_revertRowAction = new QAction(icon("edit-undo", "revert"), tr("Revert &this forward"), this);
    m_revertRowAction->setObjectName(QStringLiteral("actionRevertRow"));
    connect(m_revertRowAction, &QAction::triggered, this, [this] {
        for (const QString &k : selectedKeys())
            m_model->revertRow(k);
    });
    ui->forwardView->insertAction(ui->actionDelete, ui->actionDuplicate);
    ui->forwardView->addAction(m_revertRowAction);
    ui->forwardView->setContextMenuPolicy(Qt::ActionsContextMenu);

    connect(ui->actionAdd, &QAction::triggered, this, &MainWindow::addForward);
    connect(ui->actionEdit, &QAction::triggered, this, &MainWindow::editSelected);
    connect(ui->actionDuplicate, &QAction::triggered, this, &MainWindow::duplicateSelected);
    connect(ui->actionDelete, &QAction::triggered, this, &MainWindow::deleteSelected);
    connect(ui->actionToggleEnabled, &QAction::triggered, this, &MainWindow::toggleSelected);
    connect(ui->actionApply, &QAction::triggered, this, &MainWindow::apply);
    connect(ui->actionRevert, &QAction::triggered, this, &MainWindow::revert);
    connect(ui->actionReload, &QAction::triggered, this, &MainWindow::reload);
    connect(ui->actionImport, &QAction::triggered, this, &MainWindow::importForwards);
    connect(ui->actionExport, &QAction::triggered, this, &MainWindow::exportForwards);
    connect(ui->actionAbout, &QAction::triggered, this, &MainWindow::about);
    connect(ui->actionQuit, &QAction::triggered, this, &QWidget::close);
}

void MainWindow::setupWatcher() {
    // A connection of our own for the watcher: HelperClient keeps its connection private.
    const QString address = m_client->busAddress();
    QDBusConnection conn =
        address.isEmpty()
            ? QDBusConnection::systemBus()
            : QDBusConnection::connectToBus(address, QStringLiteral("portico-gui-watch"));
    if (!conn.isConnected())
        return;
    m_serviceWatcher = new QDBusServiceWatcher(QLatin1StringView(HelperClient::serviceName), conn,
                                               QDBusServiceWatcher::WatchForOwnerChange, this);
    connect(m_serviceWatcher, &QDBusServiceWatcher::serviceUnregistered, this, [this] {
        // On the system bus the helper exits when idle; the bus starts it again on the next call.
        statusBar()->showMessage(tr("The helper has exited; it starts again on the next call."),
                                 10000);
    });
    connect(m_serviceWatcher, &QDBusServiceWatcher::serviceRegistered, this, [this] {
        if (!showingTable())
            load(true);
    });
}

QString MainWindow::busText() const {
    const QString address = m_client->busAddress();
    return address.isEmpty() ? tr("the D-Bus system bus") : tr("the D-Bus bus at %1").arg(address);
}

bool MainWindow::showingTable() const {
    return m_ui->pages->currentWidget() == m_ui->tablePage;
}

QString MainWindow::pageMessage() const {
    return m_ui->messageTitle->text() + QLatin1Char('\n') + m_ui->messageText->text();
}

void MainWindow::reload() {
    load(true);
}

void MainWindow::load(bool keepPending) {
    if (m_loading) {
        // The read in flight may predate the change that asked for this one: read once more,
        // dropping pending edits if any of the requests wanted that (after an Apply).
        m_loadAgainKeep = m_loadAgain ? (m_loadAgainKeep && keepPending) : keepPending;
        m_loadAgain = true;
        return;
    }
    m_loading = true;
    if (!m_loaded)
        statusBar()->showMessage(tr("Connecting to the helper on %1…").arg(busText()));
    // Subscribing first means no change between the read and the subscription is missed.
    if (!m_subscribed)
        m_subscribed = m_client->watchForwardsChanged().ok();
    whenDone(this, m_client->listForwardsAsync(), [this, keepPending](const QDBusMessage &reply) {
        m_loading = false;
        if (m_loadAgain) {
            m_loadAgain = false;
            QTimer::singleShot(0, this, [this, keep = m_loadAgainKeep] { load(keep); });
        }
        const auto r = m_client->decodeListForwards(reply);
        if (!r.ok()) {
            showHelperError(r.error);
            emit reloaded(false);
            return;
        }
        m_model->setApplied(r.value.forwards, keepPending);
        m_generation = r.value.generation;
        if (!m_loaded && !m_headerRestored && m_model->rowCount() > 0) {
            // First run: fit the columns to what there is; later runs keep the user's layout.
            m_ui->forwardView->resizeColumnsToContents();
            QHeaderView *header = m_ui->forwardView->horizontalHeader();
            header->resizeSection(ForwardTableModel::HitsColumn,
                                  qMax(header->sectionSize(ForwardTableModel::HitsColumn),
                                       header->fontMetrics().horizontalAdvance(QStringLiteral(
                                           "000,000 pkts · 000.0 MiB · 000.0 KiB/s"))));
        }
        m_loaded = true;
        showTable();
        statusBar()->showMessage(
            tr("Forwards read from the helper: %1.").arg(r.value.forwards.size()), 5000);
        refreshForwarding();
        pollCounters();
        updateActions();
        updateStatus();
        emit reloaded(true);
    });
}

void MainWindow::showTable() {
    m_ui->pages->setCurrentWidget(m_ui->tablePage);
    if (!m_counterTimer.isActive() && !m_countersDenied)
        m_counterTimer.start();
}

void MainWindow::showHelperError(const HelperError &e) {
    QString title;
    QString text;
    switch (e.kind) {
    case HelperError::Kind::NotInstalled:
        if (e.name.startsWith(QLatin1StringView("org.freedesktop.DBus.Error.Spawn."))) {
            title = tr("The Portico helper could not be started");
            text = tr("The bus knows portico-helper but could not start it. Look at the system "
                      "log (journalctl) for portico-helper, or reinstall Portico.\n\nDetails: %1")
                       .arg(e.message);
        } else {
            title = tr("The Portico helper is not installed");
            text = tr("Portico changes the firewall through a small system service, "
                      "portico-helper, which runs as root. Nothing answers for it on %1.\n\n"
                      "Install the \"portico\" package of your distribution on this computer. "
                      "In a Flatpak, the helper must still be installed on the host: a sandboxed "
                      "app cannot bring a system service. Then press Try again.\n\nDetails: %2")
                       .arg(busText(), e.message);
            if (const QString hint = helperInstallHint(); !hint.isEmpty())
                text += QStringLiteral("\n\n") + hint;
        }
        break;
    case HelperError::Kind::NoBus:
        title = tr("Cannot reach the D-Bus bus");
        text = tr("Portico talks to its helper over %1, which cannot be reached. Is D-Bus "
                  "running?\n\nDetails: %2")
                   .arg(busText(), e.message);
        break;
    case HelperError::Kind::NotAuthorized:
        title = tr("Not allowed to read the forwards");
        text = tr("%1\n\nNothing was changed. Ask an administrator, then press Try again.")
                   .arg(e.message);
        break;
    case HelperError::Kind::TimedOut:
        title = tr("The helper did not answer");
        text = tr("%1\n\nIt may be busy or stuck. Press Try again.").arg(e.message);
        break;
    case HelperError::Kind::Protocol:
        title = tr("This Portico does not match its helper");
        text =
            tr("%1\n\nInstall the same version of the app and of portico-helper.").arg(e.message);
        break;
    case HelperError::Kind::Helper:
    case HelperError::Kind::None:
        title = tr("The helper reported an error");
        text = e.message;
        break;
    }
    m_counterTimer.stop();
    m_ui->messageIcon->setPixmap(
        style()->standardIcon(QStyle::SP_MessageBoxWarning).pixmap(48, 48));
    m_ui->messageTitle->setText(title);
    m_ui->messageText->setText(text);
    if (m_model->hasPendingChanges())
        m_ui->messageText->setText(
            text + tr("\n\nYour pending changes (%1) are kept.").arg(m_model->pendingCount()));
    m_ui->pages->setCurrentWidget(m_ui->messagePage);
    statusBar()->showMessage(title);
    updateActions();
}

void MainWindow::showMessage(const QString &objectName, const QString &title, const QString &text,
                             bool warning) {
    // Not modal-blocking: the event loop (counters, signals) keeps running behind it.
    auto *box = new QMessageBox(warning ? QMessageBox::Warning : QMessageBox::Information, title,
                                text, QMessageBox::Ok, this);
    box->setObjectName(objectName);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setTextInteractionFlags(Qt::TextSelectableByMouse);
    box->open();
}

void MainWindow::onForwardsChanged(quint64 generation) {
    if (m_applying || generation <= m_generation)
        return; // our own change, or one we have read already
    if (!m_model->hasPendingChanges()) {
        load(false);
        return;
    }
    fetchForConflict(Conflict::Signal);
}

void MainWindow::fetchForConflict(Conflict why) {
    if (m_conflictOpen)
        return;
    m_conflictOpen = true;
    whenDone(this, m_client->listForwardsAsync(), [this, why](const QDBusMessage &reply) {
        const auto r = m_client->decodeListForwards(reply);
        if (!r.ok()) {
            m_conflictOpen = false;
            showHelperError(r.error);
            return;
        }
        showConflict(r.value, why);
    });
}

void MainWindow::showConflict(const ForwardList &theirs, Conflict why) {
    // What they changed, against the set our pending edits started from.
    QHash<QString, Forward> base;
    for (const Forward &f : m_model->appliedSet())
        base.insert(f.id, f);
    QStringList changes;
    QSet<QString> seen;
    for (const Forward &f : theirs.forwards) {
        seen.insert(f.id);
        const auto it = base.constFind(f.id);
        if (it == base.constEnd())
            changes << tr("added '%1' (%2)").arg(f.name, ForwardTableModel::externalText(f));
        else if (*it != f)
            changes << tr("changed '%1'").arg(f.name);
    }
    for (const Forward &f : std::as_const(base))
        if (!seen.contains(f.id))
            changes << tr("removed '%1'").arg(f.name);
    if (changes.isEmpty())
        changes << tr("(nothing you can see: only the generation moved)");

    auto *box = new QMessageBox(this);
    box->setObjectName(QStringLiteral("conflictDialog"));
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setIcon(QMessageBox::Warning);
    box->setWindowTitle(tr("Forwards changed elsewhere"));
    box->setText(why == Conflict::StaleApply
                     ? tr("Your changes were not applied: someone else changed the forwards "
                          "since you read them (generation %1, now %2).")
                           .arg(m_generation)
                           .arg(theirs.generation)
                     : tr("Someone else changed the forwards while you have pending changes "
                          "(generation %1, now %2).")
                           .arg(m_generation)
                           .arg(theirs.generation));
    box->setInformativeText(tr("Their changes:\n• %1\n\nYours (pending):\n• %2")
                                .arg(changes.join(QStringLiteral("\n• ")),
                                     m_model->pendingSummary().join(QStringLiteral("\n• "))));
    QPushButton *reloadButton =
        box->addButton(tr("&Reload (drop my edits)"), QMessageBox::DestructiveRole);
    reloadButton->setObjectName(QStringLiteral("conflictReload"));
    QPushButton *keepButton =
        box->addButton(tr("&Keep mine (apply over theirs)"), QMessageBox::AcceptRole);
    keepButton->setObjectName(QStringLiteral("conflictKeep"));
    box->setDefaultButton(keepButton);
    box->setEscapeButton(keepButton); // closing the box must not drop anyone's edits

    const ForwardList copy = theirs;
    connect(box, &QMessageBox::buttonClicked, this, [this, reloadButton, copy, why](auto *b) {
        m_conflictOpen = false;
        const bool drop = b == reloadButton;
        m_model->setApplied(copy.forwards, !drop);
        m_generation = copy.generation;
        statusBar()->showMessage(drop ? tr("Reloaded: your edits were dropped.")
                                      : tr("Your edits are kept on top of theirs."),
                                 8000);
        updateActions();
        updateStatus();
        if (!drop && why == Conflict::StaleApply)
            QTimer::singleShot(0, this, &MainWindow::apply);
    });
    connect(box, &QMessageBox::rejected, this, [this] { m_conflictOpen = false; });
    box->open();
    emit conflictShown();
}

void MainWindow::apply() {
    if (m_applying || !m_model->hasPendingChanges())
        return;
    const QList<Forward> set = m_model->workingSet();
    if (const ValidationError v = validateForwards(set); !v.ok()) {
        showMessage(QStringLiteral("applyError"), tr("Cannot apply"),
                    tr("%1\n\nNothing was sent; your pending changes are kept.").arg(v.message));
        emit applyFinished(false);
        return;
    }
    m_applying = true;
    updateActions();
    statusBar()->showMessage(tr("Applying pending changes (%1)…").arg(m_model->pendingCount()));
    whenDone(this, m_client->replaceForwardsAsync(set, m_generation),
             [this](const QDBusMessage &reply) {
                 const auto r = m_client->decodeReplaceForwards(reply);
                 m_applying = false;
                 if (r.ok()) {
                     m_generation = r.value.generation;
                     // polkit may keep the authorization given for Apply (auth_admin_keep),
                     // which covers the counters too: ask for them again.
                     m_countersDenied = false;
                     statusBar()->showMessage(r.value.notices.isEmpty()
                                                  ? tr("Applied.")
                                                  : r.value.notices.join(QLatin1Char(' ')),
                                              15000);
                     // Read back: the helper chose the ids of the new forwards.
                     load(false);
                     emit applyFinished(true);
                     return;
                 }
                 updateActions();
                 if (r.error.name == QLatin1StringView(errors::StaleGeneration)) {
                     fetchForConflict(Conflict::StaleApply);
                 } else if (r.error.kind == HelperError::Kind::NotAuthorized) {
                     showMessage(QStringLiteral("applyError"), tr("Not authorized"),
                                 tr("%1\n\nNothing was changed. Your pending changes are kept: "
                                    "press Apply to try again.")
                                     .arg(r.error.message));
                 } else {
                     showMessage(QStringLiteral("applyError"), tr("The changes were not applied"),
                                 tr("%1\n\nNothing was changed. Your pending changes are kept.")
                                     .arg(r.error.message));
                 }
                 statusBar()->showMessage(tr("Apply failed: %1").arg(r.error.message), 15000);
                 emit applyFinished(false);
             });
}

void MainWindow::revert() {
    if (!m_model->hasPendingChanges())
        return;
    m_model->setApplied(m_model->appliedSet(), false);
    statusBar()->showMessage(tr("Pending changes dropped."), 5000);
}

void MainWindow::pollCounters() {
    if (m_countersInFlight || m_countersDenied || !m_loaded)
        return;
    m_countersInFlight = true;
    whenDone(this, m_client->countersAsync(), [this](const QDBusMessage &reply) {
        m_countersInFlight = false;
        const auto r = m_client->decodeCounters(reply);
        if (r.ok()) {
            m_model->setCounters(r.value);
            emit countersUpdated();
        } else if (r.error.kind == HelperError::Kind::NotAuthorized) {
            m_countersDenied = true;
            m_counterTimer.stop();
            m_model->clearCounters();
            statusBar()->showMessage(tr("Hits are not shown: %1").arg(r.error.message), 15000);
        } else if (r.error.kind == HelperError::Kind::NotInstalled ||
                   r.error.kind == HelperError::Kind::NoBus) {
            showHelperError(r.error);
        }
    });
    refreshForwarding();
}

void MainWindow::refreshForwarding() {
    whenDone(this, m_client->ipForwardingAsync(), [this](const QDBusMessage &reply) {
        const auto r = m_client->decodeIpForwarding(reply);
        if (r.ok())
            m_forwarding = r.value;
        updateBanner();
        emit forwardingUpdated();
    });
}

void MainWindow::updateBanner() {
    bool need4 = false;
    bool need6 = false;
    QString example4;
    QString example6;
    for (const auto &row : m_model->rows()) {
        if (!row.applied || !row.applied->enabled || row.applied->isLocalRedirect())
            continue;
        if (row.applied->appliesToIPv4() && !need4) {
            need4 = true;
            example4 = row.applied->name;
        }
        if (row.applied->appliesToIPv6() && !need6) {
            need6 = true;
            example6 = row.applied->name;
        }
    }
    const bool off4 = m_forwarding && need4 && !m_forwarding->v4;
    const bool off6 = m_forwarding && need6 && !m_forwarding->v6;
    QString text;
    if (off4 && off6)
        text = tr("IPv4 and IPv6 forwarding are off on this gateway, so forwards such as '%1' "
                  "cannot carry traffic to other hosts.")
                   .arg(example4);
    else if (off4)
        text = tr("IPv4 forwarding is off on this gateway, so forwards such as '%1' cannot carry "
                  "traffic to other hosts.")
                   .arg(example4);
    else if (off6)
        text = tr("IPv6 forwarding is off on this gateway, so forwards such as '%1' cannot carry "
                  "traffic to other hosts.")
                   .arg(example6);
    m_ui->bannerLabel->setText(text);
    m_ui->forwardingBanner->setVisible(!text.isEmpty() && showingTable());
}

void MainWindow::turnOnForwarding() {
    if (!m_forwarding)
        return;
    bool v4 = m_forwarding->v4;
    bool v6 = m_forwarding->v6;
    for (const auto &row : m_model->rows()) {
        if (!row.applied || !row.applied->enabled || row.applied->isLocalRedirect())
            continue;
        v4 = v4 || row.applied->appliesToIPv4();
        v6 = v6 || row.applied->appliesToIPv6();
    }
    m_ui->turnOnButton->setEnabled(false);
    whenDone(this, m_client->setIpForwardingAsync(v4, v6), [this](const QDBusMessage &reply) {
        m_ui->turnOnButton->setEnabled(true);
        const HelperError e = m_client->decodeEmpty(reply);
        if (!e.ok())
            showMessage(QStringLiteral("forwardingError"), tr("Forwarding was not turned on"),
                        e.message);
        else
            statusBar()->showMessage(tr("Forwarding turned on."), 5000);
        refreshForwarding();
    });
}

QStringList MainWindow::selectedKeys() const {
    QStringList keys;
    for (const QModelIndex &i : m_ui->forwardView->selectionModel()->selectedRows())
        keys << i.data(ForwardTableModel::KeyRole).toString();
    return keys;
}

void MainWindow::selectKey(const QString &key) {
    const int row = m_model->rowForKey(key);
    if (row < 0)
        return;
    const QModelIndex index = m_proxy->mapFromSource(m_model->index(row, 0));
    m_ui->forwardView->selectionModel()->setCurrentIndex(
        index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    m_ui->forwardView->scrollTo(index);
}

qsizetype MainWindow::workingIndexOf(const QString &key) const {
    qsizetype i = 0;
    for (const auto &row : m_model->rows()) {
        if (row.status == ForwardTableModel::Status::Deleted)
            continue;
        if (row.key == key)
            return i;
        ++i;
    }
    return -1;
}

void MainWindow::openDialog(const Forward &f, const QString &key, bool isNew) {
    auto *dialog =
        new ForwardDialog(m_client, m_model->workingSet(), isNew ? -1 : workingIndexOf(key), this);
    dialog->setObjectName(QStringLiteral("forwardDialog"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setForward(f);
    connect(dialog, &QDialog::accepted, this, [this, dialog, key, isNew] {
        const Forward result = dialog->forward();
        if (isNew) {
            selectKey(m_model->addPending(result));
        } else if (m_model->rowForKey(key) >= 0) {
            m_model->editPending(key, result);
            selectKey(key);
        } else {
            selectKey(m_model->addPending(result)); // its row went in a reload meanwhile
        }
        statusBar()->showMessage(tr("'%1' is pending: press Apply to send it.").arg(result.name),
                                 8000);
    });
    // Back to the table, where Return, Space and Delete act on the forward just edited.
    connect(dialog, &QDialog::finished, m_ui->forwardView, qOverload<>(&QWidget::setFocus));
    dialog->open();
}

void MainWindow::addForward() {
    if (!showingTable())
        return;
    openDialog(Forward{}, QString(), true);
}

int MainWindow::singleSelectedRow(QString *key) const {
    const QStringList keys = selectedKeys();
    if (keys.size() != 1)
        return -1;
    *key = keys.first();
    return m_model->rowForKey(*key);
}

void MainWindow::editSelected() {
    QString key;
    const int row = singleSelectedRow(&key);
    if (row < 0)
        return;
    openDialog(m_model->rowAt(row).forward, key, false);
}

void MainWindow::duplicateSelected() {
    QString key;
    const int row = singleSelectedRow(&key);
    if (row < 0)
        return;
    Forward copy = m_model->rowAt(row).forward;
    copy.id.clear();
    copy.name = tr("%1 copy").arg(copy.name);
    openDialog(copy, QString(), true);
}

void MainWindow::deleteSelected() {
    const QStringList keys = selectedKeys();
    if (keys.isEmpty())
        return;
    QStringList names;
    for (const QString &k : keys)
        names << QStringLiteral("'%1'").arg(m_model->rowAt(m_model->rowForKey(k)).forward.name);
    auto *box = new QMessageBox(
        QMessageBox::Question, tr("Delete forwards"),
        tr("Delete %1?\n\nThey stay until you press Apply.").arg(names.join(QStringLiteral(", "))),
        QMessageBox::Yes | QMessageBox::Cancel, this);
    box->setObjectName(QStringLiteral("confirmDelete"));
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setDefaultButton(QMessageBox::Cancel);
    connect(box, &QMessageBox::finished, this, [this, keys](int result) {
        if (result != QMessageBox::Yes)
            return;
        for (const QString &k : keys)
            m_model->deletePending(k);
    });
    box->open();
}

void MainWindow::toggleSelected() {
    const QStringList keys = selectedKeys();
    for (const QString &k : keys) {
        const int row = m_model->rowForKey(k);
        if (row >= 0)
            m_model->setEnabledPending(k, !m_model->rowAt(row).forward.enabled);
    }
}

void MainWindow::importForwards() {
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Import forwards"), QString(), tr("Portico forwards (*.json);;All files (*)"));
    if (!path.isEmpty())
        importFrom(path);
}

bool MainWindow::importFrom(const QString &path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        showMessage(QStringLiteral("importError"), tr("Import failed"),
                    tr("Cannot read %1: %2").arg(path, file.errorString()));
        return false;
    }
    // The reader of porticoctl import and of the helper's ImportForwards: the same shapes (an
    // export, a listing, a bare array), the same schema check, the same messages.
    QList<Forward> forwards;
    QString problem;
    if (const ValidationError v = forwardsFromDocument(file.readAll(), &forwards); !v.ok())
        problem = tr("Cannot import %1: %2").arg(path, v.message);
    else if (const ValidationError w = validateForwards(forwards); !w.ok())
        problem = w.message;
    if (!problem.isEmpty()) {
        showMessage(QStringLiteral("importError"), tr("Import failed"),
                    tr("%1\n\nNothing was changed.").arg(problem));
        return false;
    }
    // The file replaces the set, as pending changes: same id = an edit, the rest added/deleted.
    QSet<QString> kept;
    for (const Forward &f : std::as_const(forwards)) {
        if (!f.id.isEmpty() && m_model->rowForKey(f.id) >= 0) {
            m_model->editPending(f.id, f);
            kept.insert(f.id);
        } else {
            m_model->addPending(f);
        }
    }
    QStringList gone;
    for (const auto &row : m_model->rows())
        if (row.applied && !kept.contains(row.key))
            gone << row.key;
    for (const QString &k : std::as_const(gone))
        m_model->deletePending(k);
    statusBar()->showMessage(
        tr("Imported %1 forwards as pending changes: press Apply to send them.")
            .arg(forwards.size()),
        10000);
    return true;
}

void MainWindow::exportForwards() {
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Export forwards"), QStringLiteral("forwards.json"),
                                     tr("Portico forwards (*.json);;All files (*)"));
    if (!path.isEmpty())
        exportTo(path);
}

bool MainWindow::exportTo(const QString &path) {
    QJsonObject obj;
    obj.insert(QStringLiteral("schema"), 1);
    obj.insert(QStringLiteral("forwards"), forwardsToJson(m_model->workingSet()));
    QSaveFile file(path);
    const QByteArray data = QJsonDocument(obj).toJson(QJsonDocument::Indented);
    if (!file.open(QIODevice::WriteOnly) || file.write(data) != data.size() || !file.commit()) {
        showMessage(QStringLiteral("exportError"), tr("Export failed"),
                    tr("Cannot write %1: %2").arg(path, file.errorString()));
        return false;
    }
    statusBar()->showMessage(m_model->hasPendingChanges()
                                 ? tr("Exported to %1, with the pending changes.").arg(path)
                                 : tr("Exported to %1.").arg(path),
                             8000);
    return true;
}

void MainWindow::about() {
    QMessageBox::about(
        this, tr("About Portico"),
        tr("<h3>Portico %1</h3><p>Port forwarding for Linux gateways, with nftables.</p>"
           "<p>This window runs as you; a small helper, portico-helper, changes the firewall "
           "after polkit allows it.</p><p>Connected to %2.</p>"
           "<p>Licensed under the GNU GPL, version 3 or later.</p>")
            .arg(QCoreApplication::applicationVersion(), busText().toHtmlEscaped()));
}

void MainWindow::updateActions() {
    updateFlowSelection();
    const int selected = int(m_ui->forwardView->selectionModel()->selectedRows().size());
    const bool table = showingTable();
    const bool pending = m_model->hasPendingChanges();
    m_ui->actionAdd->setEnabled(table);
    m_ui->actionEdit->setEnabled(table && selected == 1);
    m_ui->actionDuplicate->setEnabled(table && selected == 1);
    m_ui->actionDelete->setEnabled(table && selected > 0);
    m_ui->actionToggleEnabled->setEnabled(table && selected > 0);
    bool selectionPending = false;
    for (const QString &k : selectedKeys())
        selectionPending = selectionPending || m_model->rowAt(m_model->rowForKey(k)).status !=
                                                   ForwardTableModel::Status::Applied;
    m_revertRowAction->setEnabled(selectionPending && !m_applying);
    m_ui->actionApply->setEnabled(table && pending && !m_applying);
    m_ui->actionRevert->setEnabled(pending && !m_applying);
    m_ui->actionImport->setEnabled(table);
    m_ui->actionExport->setEnabled(table);
    setWindowModified(pending);
}

void MainWindow::updateStatus() {
    m_ui->emptyHint->setVisible(m_loaded && m_model->rowCount() == 0);
    const int pending = m_model->pendingCount();
    QString text = tr("Forwards: %1").arg(m_model->rowCount());
    if (pending)
        text += tr(" · pending: %1").arg(pending);
    if (m_loaded)
        text += tr(" · generation %1").arg(m_generation);
    if (!m_client->busAddress().isEmpty())
        text += tr(" · lab bus");
    m_statusLabel->setText(text);
    // The platform appends " — Portico" (the display name) to any other title.
    setWindowTitle(pending ? tr("Pending changes: %1[*]").arg(pending) : tr("Portico[*]"));
}

void MainWindow::closeEvent(QCloseEvent *event) {
    if (m_model->hasPendingChanges()) {
        const auto answer = QMessageBox::question(
            this, tr("Quit Portico"),
            tr("You have pending changes (%1) that are not applied. Quit and drop them?")
                .arg(m_model->pendingCount()),
            QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Cancel);
        if (answer != QMessageBox::Discard) {
            event->ignore();
            return;
        }
    }
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    settings.setValue(QStringLiteral("window/header"),
                      m_ui->forwardView->horizontalHeader()->saveState());
    event->accept();
}

// --- the chain-flow tab and the diagnosis (issue 5) ----------------------------------------

void MainWindow::setupFlow() {
    m_flowView = new FlowView(m_client, this);
    m_ui->views->addTab(m_flowView, tr("Chain f&low"));
    m_diagnoseAction = new QAction(style()->standardIcon(QStyle::SP_MessageBoxQuestion),
                                   tr("&Why doesn't this work?"), this);
    m_diagnoseAction->setObjectName(QStringLiteral("actionDiagnose"));
    m_diagnoseAction->setToolTip(tr("Check the usual reasons why the selected forward carries no "
                                    "traffic"));
    m_ui->mainToolBar->addSeparator();
    m_ui->mainToolBar->addAction(m_diagnoseAction);
    m_ui->menuEdit->addAction(m_diagnoseAction);
    m_ui->forwardView->addAction(m_diagnoseAction);
    connect(m_diagnoseAction, &QAction::triggered, this, &MainWindow::diagnoseSelected);
    connect(m_flowView, &FlowView::diagnoseRequested, this, &MainWindow::diagnoseSelected);
    connect(this, &MainWindow::countersUpdated, this, &MainWindow::updateFlowSelection);
}

void MainWindow::updateFlowSelection() {
    if (!m_flowView)
        return;
    QString key;
    const int row = singleSelectedRow(&key);
    std::optional<Forward> f;
    if (row >= 0) {
        const auto &r = m_model->rowAt(row);
        // The kernel has the applied form; a pending add has no id yet, so it cannot be traced.
        f = r.applied ? *r.applied : r.forward;
    }
    if (f != m_flowView->forward())
        m_flowView->setForward(f);
    if (row >= 0) {
        const auto &r = m_model->rowAt(row);
        m_flowView->model()->setForwardCounters(r.hasCounters, r.counters.packets, r.counters.bytes,
                                                r.packetRate);
    }
    if (m_diagnoseAction)
        m_diagnoseAction->setEnabled(showingTable() && f && !f->id.isEmpty());
}

void MainWindow::diagnoseSelected() {
    const std::optional<Forward> f = m_flowView->forward();
    if (!f || f->id.isEmpty())
        return;
    auto *dialog = new DiagnosisDialog(m_flowView, *f, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &DiagnosisDialog::showDiagramRequested, this,
            [this] { m_ui->views->setCurrentWidget(m_flowView); });
    dialog->open();
}

} // namespace portico
