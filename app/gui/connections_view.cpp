// SPDX-License-Identifier: GPL-3.0-or-later
// The Connections tab's widgets and the stream's life: opened on the first show, read by the
// client's pipe reader straight into the model, reopened by Try again after an error.
#include "connections_view.h"
#include "when_done.h"

#include "connection_table_model.h"

#include "conntrack_stream_reader.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QFileDialog>
#include <QFrame>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMessageBox>
#include <QPainter>
#include <QPushButton>
#include <QSaveFile>
#include <QStackedWidget>
#include <QStyle>
#include <QStyledItemDelegate>
#include <QTableView>
#include <QToolButton>
#include <QVBoxLayout>

#include <netinet/in.h>
#include <unistd.h>

namespace portico {

namespace {

// Paints a cell as the style's item view does (background, selection, alternate rows, focus
// frame), but its one line of text directly: the style lays the text out three times per cell
// (to size it, to elide it, to draw it), which made a repaint of the table cost 10 ms and more,
// after every flush. Here it is measured once and drawn once.
class CellDelegate : public QStyledItemDelegate {
public:
    using QStyledItemDelegate::QStyledItemDelegate;
    void paint(QPainter *painter, const QStyleOptionViewItem &option,
               const QModelIndex &index) const override {
        QStyleOptionViewItem opt = option;
        initStyleOption(&opt, index);
        const QWidget *widget = opt.widget;
        QStyle *style = widget ? widget->style() : QApplication::style();
        style->drawPrimitive(QStyle::PE_PanelItemViewItem, &opt, painter, widget);
        QPalette::ColorGroup group =
            (opt.state & QStyle::State_Enabled) ? QPalette::Normal : QPalette::Disabled;
        if (group == QPalette::Normal && !(opt.state & QStyle::State_Active))
            group = QPalette::Inactive;
        // A connection that is gone, shown until the staged flush under way ends: greyed.
        if (index.data(ConnectionTableModel::GoneRole).toBool())
            group = QPalette::Disabled;
        const bool selected = opt.state & QStyle::State_Selected;
        if (!opt.text.isEmpty()) {
            const int margin =
                style->pixelMetric(QStyle::PM_FocusFrameHMargin, nullptr, widget) + 1;
            const QRect r = opt.rect.adjusted(margin, 0, -margin, 0);
            QString text = opt.text;
            if (opt.fontMetrics.horizontalAdvance(text) > r.width())
                text = opt.fontMetrics.elidedText(text, opt.textElideMode, r.width());
            painter->setFont(opt.font);
            painter->setPen(
                opt.palette.color(group, selected ? QPalette::HighlightedText : QPalette::Text));
            painter->drawText(r,
                              int(QStyle::visualAlignment(opt.direction, opt.displayAlignment)) |
                                  Qt::TextSingleLine,
                              text);
        }
        if (opt.state & QStyle::State_HasFocus) {
            QStyleOptionFocusRect focus;
            focus.QStyleOption::operator=(opt);
            focus.rect = style->subElementRect(QStyle::SE_ItemViewItemFocusRect, &opt, widget);
            focus.state |= QStyle::State_KeyboardFocusChange | QStyle::State_Item;
            focus.backgroundColor =
                opt.palette.color(group, selected ? QPalette::Highlight : QPalette::Window);
            style->drawPrimitive(QStyle::PE_FrameFocusRect, &focus, painter, widget);
        }
    }
};

} // namespace

ConnectionsView::ConnectionsView(HelperClient *client, QWidget *parent)
    : QWidget(parent)
    , m_client(client)
    , m_model(new ConnectionTableModel(this)) {
    buildUi();
    m_filterTimer.setSingleShot(true);
    m_filterTimer.setInterval(120);
    connect(&m_filterTimer, &QTimer::timeout, this, &ConnectionsView::applyFilter);

    connect(m_model, &ConnectionTableModel::countsChanged, this, &ConnectionsView::updateCount);
    connect(m_model, &ConnectionTableModel::snapshotProgress, this, &ConnectionsView::updateCount);
    connect(m_model, &ConnectionTableModel::snapshotFinished, this, &ConnectionsView::updateCount);
    connect(m_model, &ConnectionTableModel::forwardsChanged, this,
            &ConnectionsView::rebuildForwardCombo);
    connect(m_model, &ConnectionTableModel::noticeReceived, this,
            [this](const QString &text) { m_count->setToolTip(text); });
    updateCount();
    updateActions();
}

ConnectionsView::~ConnectionsView() {
    // The reader goes first, while this object is whole: its end must not reach onStreamEnded.
    m_stopping = true;
    if (m_reader) {
        disconnect(m_reader, nullptr, this, nullptr);
        delete m_reader;
    }
}

void ConnectionsView::buildUi() {
    auto *outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    m_pages = new QStackedWidget(this);
    outer->addWidget(m_pages);

    m_tablePage = new QWidget(m_pages);
    auto *layout = new QVBoxLayout(m_tablePage);

    // The accounting notice, in the tooltip colours like the forwarding banner.
    m_notice = new QFrame(m_tablePage);
    m_notice->setObjectName(QStringLiteral("accountingNotice"));
    m_notice->setAutoFillBackground(true);
    m_notice->setBackgroundRole(QPalette::ToolTipBase);
    m_notice->setForegroundRole(QPalette::ToolTipText);
    m_notice->setFrameShape(QFrame::StyledPanel);
    auto *noticeLayout = new QHBoxLayout(m_notice);
    auto *noticeIcon = new QLabel(m_notice);
    const int iconSize = style()->pixelMetric(QStyle::PM_SmallIconSize);
    noticeIcon->setPixmap(
        style()->standardIcon(QStyle::SP_MessageBoxInformation).pixmap(iconSize, iconSize));
    m_noticeText = new QLabel(m_notice);
    m_noticeText->setWordWrap(true);
    m_noticeText->setForegroundRole(QPalette::ToolTipText);
    m_noticeButton = new QPushButton(tr("Turn &on counting"), m_notice);
    m_noticeButton->setObjectName(QStringLiteral("accountingButton"));
    noticeLayout->addWidget(noticeIcon);
    noticeLayout->addWidget(m_noticeText, 1);
    noticeLayout->addWidget(m_noticeButton);
    m_notice->hide();
    connect(m_noticeButton, &QPushButton::clicked, this, &ConnectionsView::turnOnAccounting);
    layout->addWidget(m_notice);

    // The filter bar.
    auto *bar = new QHBoxLayout;
    m_filterEdit = new QLineEdit(m_tablePage);
    m_filterEdit->setObjectName(QStringLiteral("connectionFilter"));
    m_filterEdit->setPlaceholderText(
        tr("Filter connections (address, address:port, port, forward, tcp, established, …)"));
    m_filterEdit->setClearButtonEnabled(true);
    m_filterEdit->setToolTip(
        tr("Every word must match: an address or its start (198.51.100.), address:port, a "
           "port, a forward's name, a protocol, a state or a flag."));
    bar->addWidget(m_filterEdit, 1);
    m_forwardedOnly = new QCheckBox(tr("For&warded only"), m_tablePage);
    m_forwardedOnly->setObjectName(QStringLiteral("forwardedOnly"));
    bar->addWidget(m_forwardedOnly);
    m_establishedOnly = new QCheckBox(tr("&Established only"), m_tablePage);
    m_establishedOnly->setObjectName(QStringLiteral("establishedOnly"));
    bar->addWidget(m_establishedOnly);
    auto *protoLabel = new QLabel(tr("Pr&otocol:"), m_tablePage);
    m_protocol = new QComboBox(m_tablePage);
    m_protocol->setObjectName(QStringLiteral("protocolFilter"));
    m_protocol->addItem(tr("Any"), -1);
    for (int p : {int(IPPROTO_TCP), int(IPPROTO_UDP), int(IPPROTO_ICMP), int(IPPROTO_ICMPV6),
                  int(IPPROTO_SCTP)})
        m_protocol->addItem(ConnectionTableModel::protocolName(p), p);
    protoLabel->setBuddy(m_protocol);
    bar->addWidget(protoLabel);
    bar->addWidget(m_protocol);
    auto *forwardLabel = new QLabel(tr("Forwar&d:"), m_tablePage);
    m_forward = new QComboBox(m_tablePage);
    m_forward->setObjectName(QStringLiteral("forwardFilter"));
    m_forward->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_forward->addItem(tr("Any"), QString());
    forwardLabel->setBuddy(m_forward);
    bar->addWidget(forwardLabel);
    bar->addWidget(m_forward);
    layout->addLayout(bar);

    // The table: uniform fixed row heights and fixed starting widths, so that a million rows
    // cost the view nothing to lay out (ResizeToContents would measure every row).
    m_table = new QTableView(m_tablePage);
    m_table->setObjectName(QStringLiteral("connectionView"));
    m_table->setModel(m_model);
    m_table->setItemDelegate(new CellDelegate(m_table));
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    m_table->setCornerButtonEnabled(false);
    QHeaderView *rows = m_table->verticalHeader();
    rows->setSectionResizeMode(QHeaderView::Fixed);
    rows->setDefaultSectionSize(m_table->fontMetrics().height() + 6);
    rows->hide();
    // The hidden row header keeps a record per row, all of one fixed size, none hidden or
    // moved. The model's layout changes (a sort, a filter, a flush) keep the row count, so there
    // is nothing in them for it to redo; but Qt's header walks every one of its million records
    // on each to look for sections to keep. Inserts and removes still reach it, so its count
    // always follows the model's (tests/gui checks).
    disconnect(m_model, &QAbstractItemModel::layoutAboutToBeChanged, rows, nullptr);
    disconnect(m_model, &QAbstractItemModel::layoutChanged, rows, nullptr);
    QHeaderView *header = m_table->horizontalHeader();
    header->setSectionResizeMode(QHeaderView::Interactive);
    header->setSectionsMovable(true);
    header->setStretchLastSection(true);
    header->setSortIndicator(ConnectionTableModel::AgeColumn, Qt::AscendingOrder);
    const QFontMetrics fm = m_table->fontMetrics();
    const auto width = [&](const char *sample) {
        return fm.horizontalAdvance(QLatin1StringView(sample)) + 16;
    };
    using M = ConnectionTableModel;
    header->resizeSection(M::ProtocolColumn, width("icmpv6"));
    header->resizeSection(M::StateColumn, width("ESTABLISHED"));
    header->resizeSection(M::OriginalColumn, width("203.0.113.100:50000 → 203.0.113.100:50000"));
    header->resizeSection(M::TranslatedColumn, width("198.51.100.100:50000"));
    header->resizeSection(M::ForwardColumn, width("forward name"));
    header->resizeSection(M::TimeoutColumn, width("5 d 00:00:00"));
    header->resizeSection(M::AgeColumn, width("00:00:00"));
    header->resizeSection(M::PacketsColumn, width("00,000 / 00,000"));
    header->resizeSection(M::BytesColumn, width("000.0 KiB / 000.0 KiB"));
    header->resizeSection(M::RateColumn, width("000.0 KiB/s"));
    m_table->setSortingEnabled(true);
    layout->addWidget(m_table, 1);

    // Actions and the count.
    auto *bottom = new QHBoxLayout;
    m_count = new QLabel(m_tablePage);
    m_count->setObjectName(QStringLiteral("connectionCount"));
    bottom->addWidget(m_count, 1);
    m_killStatus = new QLabel(m_tablePage);
    m_killStatus->setObjectName(QStringLiteral("killStatus"));
    bottom->addWidget(m_killStatus);

    m_pauseAction = new QAction(tr("&Pause"), this);
    m_pauseAction->setObjectName(QStringLiteral("actionPauseConnections"));
    m_pauseAction->setCheckable(true);
    m_pauseAction->setShortcut(QKeySequence(Qt::Key_Pause));
    m_pauseAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_pauseAction->setToolTip(tr("Hold the table still; the changes are shown when you resume"));
    connect(m_pauseAction, &QAction::toggled, this, &ConnectionsView::setPaused);
    m_killAction = new QAction(tr("&Kill…"), this);
    m_killAction->setObjectName(QStringLiteral("actionKillConnections"));
    m_killAction->setShortcut(QKeySequence::Delete);
    m_killAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_killAction->setToolTip(tr("Remove the selected connections from the kernel's table"));
    connect(m_killAction, &QAction::triggered, this, &ConnectionsView::killSelected);
    m_copyAction = new QAction(tr("&Copy"), this);
    m_copyAction->setShortcut(QKeySequence::Copy);
    m_copyAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(m_copyAction, &QAction::triggered, this, &ConnectionsView::copySelected);
    m_showForwardAction = new QAction(tr("Show the &forward"), this);
    connect(m_showForwardAction, &QAction::triggered, this, [this] {
        const QModelIndex current = m_table->currentIndex();
        if (current.isValid() && !m_model->forwardIdAt(current.row()).isEmpty())
            emit forwardActivated(m_model->forwardIdAt(current.row()));
    });
    for (QAction *a : {m_copyAction, m_killAction, m_showForwardAction})
        m_table->addAction(a);
    m_table->setContextMenuPolicy(Qt::ActionsContextMenu);
    addAction(m_pauseAction);
    auto *find = new QAction(this);
    find->setShortcut(QKeySequence::Find);
    find->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(find, &QAction::triggered, this, [this] {
        m_filterEdit->setFocus();
        m_filterEdit->selectAll();
    });
    addAction(find);

    m_pauseButton = new QToolButton(m_tablePage);
    m_pauseButton->setObjectName(QStringLiteral("pauseButton"));
    m_pauseButton->setDefaultAction(m_pauseAction);
    m_pauseButton->setToolButtonStyle(Qt::ToolButtonTextOnly);
    m_killButton = new QToolButton(m_tablePage);
    m_killButton->setObjectName(QStringLiteral("killButton"));
    m_killButton->setDefaultAction(m_killAction);
    m_exportButton = new QToolButton(m_tablePage);
    m_exportButton->setObjectName(QStringLiteral("exportCsvButton"));
    auto *exportAction = new QAction(tr("E&xport CSV…"), this);
    connect(exportAction, &QAction::triggered, this, &ConnectionsView::exportCsvDialog);
    m_exportButton->setDefaultAction(exportAction);
    bottom->addWidget(m_pauseButton);
    bottom->addWidget(m_killButton);
    bottom->addWidget(m_exportButton);
    layout->addLayout(bottom);
    m_pages->addWidget(m_tablePage);

    // The message page: the stream could not be opened, or it ended.
    m_messagePage = new QWidget(m_pages);
    auto *msg = new QVBoxLayout(m_messagePage);
    msg->addStretch();
    m_messageTitle = new QLabel(m_messagePage);
    m_messageTitle->setObjectName(QStringLiteral("connectionsMessageTitle"));
    QFont titleFont = m_messageTitle->font();
    titleFont.setBold(true);
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.3);
    m_messageTitle->setFont(titleFont);
    m_messageTitle->setAlignment(Qt::AlignCenter);
    m_messageText = new QLabel(m_messagePage);
    m_messageText->setObjectName(QStringLiteral("connectionsMessageText"));
    m_messageText->setWordWrap(true);
    m_messageText->setAlignment(Qt::AlignCenter);
    m_messageText->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *retry = new QPushButton(tr("Try &again"), m_messagePage);
    retry->setObjectName(QStringLiteral("connectionsRetry"));
    connect(retry, &QPushButton::clicked, this, &ConnectionsView::start);
    msg->addWidget(m_messageTitle);
    msg->addWidget(m_messageText);
    msg->addWidget(retry, 0, Qt::AlignCenter);
    msg->addStretch();
    m_pages->addWidget(m_messagePage);

    connect(m_filterEdit, &QLineEdit::textChanged, this, [this] { m_filterTimer.start(); });
    for (QCheckBox *c : {m_forwardedOnly, m_establishedOnly})
        connect(c, &QCheckBox::toggled, this, &ConnectionsView::applyFilter);
    for (QComboBox *c : {m_protocol, m_forward})
        connect(c, &QComboBox::currentIndexChanged, this, &ConnectionsView::applyFilter);
    connect(m_table, &QAbstractItemView::doubleClicked, this, [this](const QModelIndex &index) {
        const QString id = m_model->forwardIdAt(index.row());
        if (!id.isEmpty())
            emit forwardActivated(id);
    });
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &ConnectionsView::updateActions);
    connect(m_model, &QAbstractItemModel::rowsRemoved, this, &ConnectionsView::updateActions);
}

void ConnectionsView::showEvent(QShowEvent *event) {
    QWidget::showEvent(event);
    if (!m_started && m_autoStart)
        QTimer::singleShot(0, this, &ConnectionsView::start);
    m_started = true;
}

bool ConnectionsView::showingMessage() const {
    return m_pages->currentWidget() == m_messagePage;
}

QString ConnectionsView::messageText() const {
    return m_messageTitle->text() + QLatin1Char('\n') + m_messageText->text();
}

QString ConnectionsView::countText() const {
    return m_count->text();
}

QString ConnectionsView::killStatusText() const {
    return m_killStatus->text();
}

void ConnectionsView::start() {
    m_started = true;
    stop();
    m_model->clear();
    m_pages->setCurrentWidget(m_tablePage);
    // The pipe holds what the helper writes until the reply is in and the reader starts.
    int fd = -1;
    const QDBusPendingCall call = m_client->watchConnectionsAsync({}, &fd);
    const quint64 attempt = ++m_attempt;
    updateCount();
    whenDone(this, call, [this, fd, attempt](const QDBusMessage &reply) {
        const HelperError e = m_client->decodeEmpty(reply);
        if (attempt != m_attempt || !e.ok()) {
            if (fd >= 0)
                ::close(fd);
            if (attempt == m_attempt)
                showError(e);
            return;
        }
        openReader(fd);
    });
}

void ConnectionsView::openReader(int fd) {
    auto *reader = new ConntrackStreamReader(fd, this);
    m_reader = reader;
    ConnectionTableModel *m = m_model;
    // Direct connections: the records live in the reader's buffer only during the emission.
    connect(reader, &ConntrackStreamReader::helloReceived, this, [this](quint32, quint32 flags) {
        const bool on = flags & ctstream::helloAccounting;
        m_model->setAccountingOn(on);
        m_noticeText->setText(
            tr("Per-connection byte and packet counting (conntrack accounting) is off, "
               "so packets, bytes and rates are not shown."));
        m_notice->setVisible(!on);
    });
    connect(reader, &ConntrackStreamReader::forwardsReceived, m,
            [m](const QList<ConntrackForward> &list) {
                QList<ConnectionTableModel::ForwardInfo> forwards;
                for (const ConntrackForward &f : list)
                    forwards.append({f.mark, f.id, f.name});
                m->setForwards(forwards);
            });
    connect(reader, &ConntrackStreamReader::snapshotBegun, m, &ConnectionTableModel::beginSnapshot);
    connect(reader, &ConntrackStreamReader::entriesReceived, m, &ConnectionTableModel::addRecords);
    connect(reader, &ConntrackStreamReader::destroyedReceived, m, &ConnectionTableModel::removeIds);
    connect(reader, &ConntrackStreamReader::snapshotEnded, m, &ConnectionTableModel::endSnapshot);
    connect(reader, &ConntrackStreamReader::tickReceived, m, &ConnectionTableModel::tick);
    connect(reader, &ConntrackStreamReader::noticeReceived, this,
            [this](const QString &text) { m_count->setToolTip(text); });
    connect(reader, &ConntrackStreamReader::finished, this,
            [this](const QString &why) { onStreamEnded(why); });
    m_streaming = true;
    updateCount();
    emit streamStarted();
}

void ConnectionsView::stop() {
    ++m_attempt; // a WatchConnections still on its way is dropped when it answers
    if (m_reader) {
        m_stopping = true;
        delete m_reader; // closes our end of the pipe: the helper sees EPIPE and stops
        m_reader = nullptr;
        m_stopping = false;
    }
    m_streaming = false;
}

void ConnectionsView::onStreamEnded(const QString &why) {
    if (m_stopping)
        return;
    if (m_reader) {
        m_reader->deleteLater();
        m_reader = nullptr;
    }
    m_streaming = false;
    showPage(tr("The connection list stopped"),
             tr("The helper's stream of connections ended: %1\n\nPress Try again to read the "
                "table again.")
                 .arg(why.isEmpty() ? tr("the helper closed it") : why));
    emit streamEnded(why);
}

void ConnectionsView::showError(const HelperError &e) {
    QString title;
    QString text;
    switch (e.kind) {
    case HelperError::Kind::NotAuthorized:
        title = tr("Not allowed to watch connections");
        text = tr("%1\n\nSeeing the connection table needs the \"monitor\" permission "
                  "(io.github.portico.monitor). Ask an administrator, then press Try again.")
                   .arg(e.message);
        break;
    case HelperError::Kind::NotInstalled:
        title = tr("The Portico helper is not installed");
        text = tr("The connection table comes from portico-helper, a small system service "
                  "that runs as root, and nothing answers for it.\n\nInstall the \"portico\" "
                  "package, then press Try again.\n\nDetails: %1")
                   .arg(e.message);
        break;
    case HelperError::Kind::NoBus:
        title = tr("Cannot reach the D-Bus bus");
        text = e.message;
        break;
    default:
        title = tr("The connection table cannot be read");
        text = e.message;
        break;
    }
    showPage(title, text);
}

void ConnectionsView::showPage(const QString &title, const QString &text) {
    m_messageTitle->setText(title);
    m_messageText->setText(text);
    m_pages->setCurrentWidget(m_messagePage);
}

void ConnectionsView::applyFilter() {
    m_filterTimer.stop();
    ConnectionFilter f;
    f.text = m_filterEdit->text();
    f.forwardedOnly = m_forwardedOnly->isChecked();
    f.establishedOnly = m_establishedOnly->isChecked();
    f.protocol = m_protocol->currentData().toInt();
    f.forwardId = m_forward->currentData().toString();
    m_model->setFilter(f);
    updateCount();
}

void ConnectionsView::rebuildForwardCombo() {
    const QString current =
        m_pendingForward.isEmpty() ? m_forward->currentData().toString() : m_pendingForward;
    const QSignalBlocker block(m_forward);
    while (m_forward->count() > 1)
        m_forward->removeItem(1);
    for (const ConnectionTableModel::ForwardInfo &f : m_model->forwards())
        m_forward->addItem(f.name, f.id);
    const int at = m_forward->findData(current);
    m_forward->setCurrentIndex(at < 0 ? 0 : at);
    if (at >= 0)
        m_pendingForward.clear();
    if (m_forward->currentData().toString() != m_model->filter().forwardId)
        applyFilter();
}

void ConnectionsView::showForward(const QString &forwardId) {
    if (!m_started)
        start();
    const int at = m_forward->findData(forwardId);
    if (at < 0) {
        // The stream has not named its forwards yet: select it when it does.
        m_pendingForward = forwardId;
        m_forward->addItem(forwardId, forwardId);
        m_forward->setCurrentIndex(m_forward->count() - 1);
    } else {
        m_forward->setCurrentIndex(at);
    }
    applyFilter();
}

void ConnectionsView::updateCount() {
    const QLocale locale;
    QString text;
    if (m_model->isLoading())
        text = tr("Loading %1 connections…").arg(locale.toString(m_model->loadedCount()));
    else if (!m_streaming && m_model->totalCount() == 0)
        text = tr("Not reading connections.");
    else
        text = tr("%1 shown of %2")
                   .arg(locale.toString(m_model->shownCount()),
                        locale.toString(m_model->totalCount()));
    if (m_model->isPaused())
        text = tr("Paused: %1 (changes are held until you resume)").arg(text);
    m_count->setText(text);
}

void ConnectionsView::updateActions() {
    const bool any = m_table->selectionModel()->hasSelection();
    m_killAction->setEnabled(any && !m_killing);
    m_copyAction->setEnabled(any);
}

void ConnectionsView::setPaused(bool paused) {
    if (m_pauseAction->isChecked() != paused) {
        m_pauseAction->setChecked(paused); // comes back here through toggled
        return;
    }
    m_pauseAction->setText(paused ? tr("&Resume") : tr("&Pause"));
    m_model->setPaused(paused);
    updateCount();
}

QList<quint32> ConnectionsView::selectedIds() const {
    QList<quint32> ids;
    for (const QModelIndex &i : m_table->selectionModel()->selectedRows())
        ids << m_model->idAt(i.row());
    return ids;
}

void ConnectionsView::killSelected() {
    const QList<quint32> ids = selectedIds();
    if (ids.isEmpty())
        return;
    auto *box = new QMessageBox(
        QMessageBox::Question, tr("Kill connections"),
        tr("Remove the selected connections (%1) from the kernel's table?").arg(ids.size()),
        QMessageBox::NoButton, this);
    box->setObjectName(QStringLiteral("killConfirm"));
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setInformativeText(
        tr("Their packets then go through the rules again as new connections; an established "
           "TCP connection usually breaks."));
    QPushButton *kill = box->addButton(tr("&Kill"), QMessageBox::DestructiveRole);
    kill->setObjectName(QStringLiteral("killConfirmButton"));
    QPushButton *cancel = box->addButton(QMessageBox::Cancel);
    box->setDefaultButton(cancel);
    box->setEscapeButton(cancel);
    connect(kill, &QPushButton::clicked, this, [this, ids] { killIds(ids); });
    box->open();
}

void ConnectionsView::killIds(const QList<quint32> &ids) {
    QVariantMap filter{{QStringLiteral("ids"), QVariant::fromValue(QList<uint>(ids))}};
    // A kill reads the helper's whole table (a second or two at a million connections): say so,
    // and take no second one meanwhile.
    const QLocale locale;
    m_killing = true;
    updateActions();
    m_killStatus->setText(tr("Killing connections (%1)…").arg(locale.toString(ids.size())));
    const qsizetype asked = ids.size();
    whenDone(this, m_client->killConnectionsAsync(filter),
             [this, asked](const QDBusMessage &reply) {
                 m_killing = false;
                 updateActions();
                 const auto r = m_client->decodeKillConnections(reply);
                 if (!r.ok()) {
                     m_killStatus->clear();
                     // The helper's message says how many went before an error, if any did.
                     auto *box = new QMessageBox(QMessageBox::Warning, tr("Not killed"),
                                                 r.error.message, QMessageBox::Ok, this);
                     box->setObjectName(QStringLiteral("killError"));
                     box->setAttribute(Qt::WA_DeleteOnClose);
                     box->open();
                     emit killFinished(false, 0);
                     return;
                 }
                 const QLocale locale;
                 m_killStatus->setText(
                     qsizetype(r.value) < asked
                         ? tr("Connections killed: %1 of %2; the others had ended already.")
                               .arg(locale.toString(r.value), locale.toString(asked))
                         : tr("Connections killed: %1.").arg(locale.toString(r.value)));
                 emit killFinished(true, r.value);
             });
}

void ConnectionsView::turnOnAccounting() {
    m_noticeButton->setEnabled(false);
    whenDone(this, m_client->setConntrackAccountingAsync(true), [this](const QDBusMessage &reply) {
        m_noticeButton->setEnabled(true);
        const HelperError e = m_client->decodeEmpty(reply);
        if (!e.ok()) {
            m_noticeText->setText(tr("Counting could not be turned on: %1").arg(e.message));
            return;
        }
        m_notice->hide();
        m_model->setAccountingOn(true);
    });
}

void ConnectionsView::copySelected() {
    QList<int> rows;
    for (const QModelIndex &i : m_table->selectionModel()->selectedRows())
        rows << i.row();
    std::sort(rows.begin(), rows.end());
    if (!rows.isEmpty())
        QApplication::clipboard()->setText(m_model->rowsText(rows, false));
}

bool ConnectionsView::exportCsv(const QString &path) {
    QList<int> rows;
    rows.reserve(m_model->rowCount());
    for (int r = 0; r < m_model->rowCount(); ++r)
        rows << r;
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return false;
    file.write(m_model->rowsText(rows, true).toUtf8());
    return file.commit();
}

void ConnectionsView::exportCsvDialog() {
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export connections"), QStringLiteral("connections.csv"), tr("CSV (*.csv)"));
    if (path.isEmpty())
        return;
    if (!exportCsv(path))
        QMessageBox::warning(this, tr("Export failed"), tr("Cannot write %1.").arg(path));
}

} // namespace portico
