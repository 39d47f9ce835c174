// SPDX-License-Identifier: GPL-3.0-or-later
// How the diagram is laid out and painted. Everything is measured from the font, so it scales
// with the user's font size; everything is coloured from the palette, except the red of a drop,
// for which Qt 6.4's palette has no role: it is chosen light or dark to stand out on Base.
#include "flow_diagram.h"

#include "flow_model.h"

#include <QApplication>
#include <QHelpEvent>
#include <QImage>
#include <QKeyEvent>
#include <QLocale>
#include <QPainter>
#include <QPainterPath>
#include <QStyleOptionFocusRect>
#include <QStylePainter>
#include <QSvgGenerator>
#include <QToolTip>
#include <QtMath>

namespace portico {

namespace {

constexpr qreal margin = 16;
constexpr qreal columnGap = 36;
constexpr qreal chainGap = 16;
constexpr int stepMs = 450;

QColor mix(const QColor &a, const QColor &b, qreal t) {
    return QColor::fromRgbF(float(a.redF() * (1 - t) + b.redF() * t),
                            float(a.greenF() * (1 - t) + b.greenF() * t),
                            float(a.blueF() * (1 - t) + b.blueF() * t));
}

bool darkPalette(const QPalette &pal) {
    return pal.color(QPalette::Base).lightness() < 128;
}

QColor dropColor(const QPalette &pal) {
    return darkPalette(pal) ? QColor(0xff, 0x7b, 0x72) : QColor(0xc0, 0x1c, 0x28);
}

QString hookTitle(const QString &hook) {
    if (hook == QLatin1StringView("prerouting"))
        return FlowDiagram::tr("prerouting");
    if (hook == QLatin1StringView("forward"))
        return FlowDiagram::tr("forward");
    if (hook == QLatin1StringView("postrouting"))
        return FlowDiagram::tr("postrouting");
    if (hook == QLatin1StringView("input"))
        return FlowDiagram::tr("input");
    if (hook == QLatin1StringView("output"))
        return FlowDiagram::tr("output");
    return hook;
}

QString packets(quint64 n) {
    return FlowDiagram::tr("%1 pkts").arg(QLocale().toString(n));
}

QString bytes(quint64 n) {
    return QLocale().formattedDataSize(qint64(n), 1, QLocale::DataSizeTraditionalFormat);
}

QString rate(double perSecond) {
    return FlowDiagram::tr("%1 pkt/s")
        .arg(QLocale().toString(perSecond, 'f', perSecond < 10 ? 1 : 0));
}

} // namespace

FlowDiagram::FlowDiagram(FlowModel *model, QWidget *parent)
    : QWidget(parent)
    , m_model(model) {
    setFocusPolicy(Qt::StrongFocus);
    setAccessibleName(tr("Chain flow diagram"));
    setAttribute(Qt::WA_OpaquePaintEvent);
    m_animation.setInterval(60);
    connect(&m_animation, &QTimer::timeout, this, [this] {
        m_phase = qreal(m_clock.elapsed()) / 1000.0;
        update();
    });
    m_traceTimer.setInterval(stepMs);
    connect(&m_traceTimer, &QTimer::timeout, this, &FlowDiagram::stepTrace);
    m_clock.start();
    connect(m_model, &FlowModel::structureChanged, this, [this] {
        const QString focused = focusedChain();
        relayout();
        if (!focused.isEmpty())
            setFocusedChain(focused);
    });
    connect(m_model, &FlowModel::countersChanged, this, [this] {
        updateAnimation();
        update();
    });
    connect(m_model, &FlowModel::highlightChanged, this, qOverload<>(&QWidget::update));
    connect(m_model, &FlowModel::traceChanged, this, [this] {
        if (m_model->tracePackets().isEmpty())
            showTracePacket(-1);
        update();
    });
    relayout();
}

QSize FlowDiagram::sizeHint() const {
    return m_size;
}

QSize FlowDiagram::minimumSizeHint() const {
    return m_size;
}

void FlowDiagram::changeEvent(QEvent *event) {
    if (event->type() == QEvent::FontChange || event->type() == QEvent::StyleChange)
        relayout();
    QWidget::changeEvent(event);
}

void FlowDiagram::showEvent(QShowEvent *event) {
    updateAnimation();
    QWidget::showEvent(event);
}

void FlowDiagram::hideEvent(QHideEvent *event) {
    m_animation.stop();
    QWidget::hideEvent(event);
}

void FlowDiagram::updateAnimation() {
    bool moving = false;
    for (const QString &hook : FlowModel::hooks())
        moving = moving || m_model->hookPacketRate(hook) > 0;
    if (moving && isVisible() && !m_animation.isActive())
        m_animation.start();
    else if (!moving)
        m_animation.stop();
}

// --- layout -------------------------------------------------------------------------------

void FlowDiagram::relayout() {
    const QFontMetricsF fm(font());
    const qreal line = fm.height();
    m_chainWidth = qMax<qreal>(210, fm.averageCharWidth() * 32);
    m_chainHeight = line * 3 + 12;
    const qreal header = line + 8;
    const qreal caption = line * 2 + 8;
    const qreal pillWidth =
        qMax(fm.horizontalAdvance(tr("out")), fm.horizontalAdvance(tr("in"))) + line * 1.4;

    m_items.clear();
    m_stations.clear();
    const qreal top = margin + caption;
    const qreal centre = top + header + m_chainHeight / 2;

    auto hookStation = [&](const QString &hook, qreal x, qreal y) {
        Station s;
        s.id = hook;
        s.title = hookTitle(hook);
        qreal cy = y + header;
        const QList<FlowChain> chains = m_model->chainsAt(hook);
        for (const FlowChain &c : chains) {
            m_items << Item{c.key(), hook, QRectF(x, cy, m_chainWidth, m_chainHeight)};
            cy += m_chainHeight + chainGap;
        }
        if (chains.isEmpty())
            cy += m_chainHeight * 0.6 + chainGap;
        s.rect = QRectF(x, y, m_chainWidth, cy - chainGap - y);
        s.anchor = chains.isEmpty() ? QRectF(x, y + header, m_chainWidth, m_chainHeight * 0.6)
                                    : QRectF(x, y + header, m_chainWidth, m_chainHeight);
        m_stations << s;
    };
    auto shapeStation = [&](const QString &id, const QString &title, qreal x, qreal width, qreal cy,
                            qreal height) {
        Station s;
        s.id = id;
        s.title = title;
        s.anchor = QRectF(x, cy - height / 2, width, height);
        s.rect = s.anchor;
        m_stations << s;
    };

    qreal x = margin;
    shapeStation(QStringLiteral("in"), tr("in"), x, pillWidth, centre, line * 2);
    x += pillWidth + columnGap;
    hookStation(QStringLiteral("prerouting"), x, top);
    x += m_chainWidth + columnGap;
    // The routing decision is narrower than a chain column; input hangs below it, centred.
    const qreal routingWidth = qMax(m_chainWidth * 0.6, fm.horizontalAdvance(tr("local process")));
    const qreal routingX = x;
    shapeStation(QStringLiteral("routing"), tr("routing\ndecision"), x, routingWidth, centre,
                 m_chainHeight);
    x += routingWidth + columnGap;
    hookStation(QStringLiteral("forward"), x, top);
    x += m_chainWidth + columnGap;
    const qreal postX = x;
    hookStation(QStringLiteral("postrouting"), x, top);
    x += m_chainWidth + columnGap;
    shapeStation(QStringLiteral("out"), tr("out"), x, pillWidth, centre, line * 2);
    const qreal right = x + pillWidth + margin;

    qreal topBottom = 0;
    for (const Station &s : std::as_const(m_stations))
        topBottom = qMax(topBottom, s.rect.bottom());
    const qreal bottomTop = topBottom + columnGap;
    const qreal inputX = routingX + routingWidth / 2 - m_chainWidth / 2;
    hookStation(QStringLiteral("input"), inputX, bottomTop);
    const qreal localX = inputX + m_chainWidth + columnGap;
    shapeStation(QStringLiteral("local"), tr("local process"), localX, postX - columnGap - localX,
                 bottomTop + header + m_chainHeight / 2, m_chainHeight);
    hookStation(QStringLiteral("output"), postX, bottomTop);

    qreal bottom = 0;
    for (const Station &s : std::as_const(m_stations))
        bottom = qMax(bottom, s.rect.bottom());
    // The legend, and chains off the IP path, one line each.
    // (the legend may take two lines when the diagram is narrow)
    bottom += line * 1.2 + line * 1.3 * (2 + (m_model->otherChains().isEmpty() ? 0 : 1));
    m_size = QSize(int(qCeil(right)), int(qCeil(bottom + margin)));
    if (m_focus >= m_items.size())
        m_focus = m_items.isEmpty() ? -1 : int(m_items.size()) - 1;
    updateGeometry();
    update();
}

const FlowDiagram::Station *FlowDiagram::station(const QString &id) const {
    for (const Station &s : m_stations)
        if (s.id == id)
            return &s;
    return nullptr;
}

QRectF FlowDiagram::chainRect(const QString &key) const {
    for (const Item &i : m_items)
        if (i.key == key)
            return i.rect;
    return {};
}

// --- focus and keys -----------------------------------------------------------------------

QString FlowDiagram::focusedChain() const {
    return m_focus >= 0 && m_focus < m_items.size() ? m_items.at(m_focus).key : QString();
}

void FlowDiagram::setFocusedChain(const QString &key) {
    for (int i = 0; i < m_items.size(); ++i)
        if (m_items.at(i).key == key) {
            m_focus = i;
            setAccessibleDescription(chainDetails(key));
            emit focusedChainChanged(key);
            update();
            return;
        }
}

void FlowDiagram::moveFocus(int delta) {
    if (m_items.isEmpty())
        return;
    const int n = int(m_items.size());
    m_focus = m_focus < 0 ? (delta > 0 ? 0 : n - 1) : (m_focus + delta + n) % n;
    setFocusedChain(m_items.at(m_focus).key);
}

bool FlowDiagram::focusNextPrevChild(bool next) {
    // Tab walks the chains; past the last (or before the first) it leaves the diagram.
    if (hasFocus() && !m_items.isEmpty()) {
        const int target = m_focus + (next ? 1 : -1);
        if (m_focus >= 0 && target >= 0 && target < m_items.size()) {
            setFocusedChain(m_items.at(target).key);
            return true;
        }
    }
    return QWidget::focusNextPrevChild(next);
}

void FlowDiagram::keyPressEvent(QKeyEvent *event) {
    switch (event->key()) {
    case Qt::Key_Right:
    case Qt::Key_Down:
        moveFocus(1);
        return;
    case Qt::Key_Left:
    case Qt::Key_Up:
        moveFocus(-1);
        return;
    case Qt::Key_Return:
    case Qt::Key_Enter:
    case Qt::Key_Space:
        if (m_focus >= 0) {
            const QRectF r = m_items.at(m_focus).rect;
            QToolTip::showText(mapToGlobal(r.bottomLeft().toPoint()),
                               chainDetails(m_items.at(m_focus).key), this);
        }
        return;
    default:
        QWidget::keyPressEvent(event);
    }
}

void FlowDiagram::mousePressEvent(QMouseEvent *event) {
    for (const Item &i : std::as_const(m_items))
        if (i.rect.contains(event->position())) {
            setFocus(Qt::MouseFocusReason);
            setFocusedChain(i.key);
            return;
        }
    QWidget::mousePressEvent(event);
}

bool FlowDiagram::event(QEvent *event) {
    if (event->type() == QEvent::FocusIn && m_focus < 0 && !m_items.isEmpty()) {
        auto *fe = static_cast<QFocusEvent *>(event);
        m_focus = fe->reason() == Qt::BacktabFocusReason ? int(m_items.size()) - 1 : 0;
        setFocusedChain(m_items.at(m_focus).key);
    }
    if (event->type() == QEvent::ToolTip) {
        auto *help = static_cast<QHelpEvent *>(event);
        for (const Item &i : std::as_const(m_items))
            if (i.rect.contains(help->pos())) {
                QToolTip::showText(help->globalPos(), chainDetails(i.key), this, i.rect.toRect());
                return true;
            }
        QToolTip::hideText();
        event->ignore();
        return true;
    }
    return QWidget::event(event);
}

QString FlowDiagram::chainDetails(const QString &key) const {
    const FlowChain *c = m_model->chain(key);
    if (!c)
        return {};
    QStringList lines;
    lines << tr("<b>%1</b> (table %2 %3)")
                 .arg(c->chain.toHtmlEscaped(), c->family.toHtmlEscaped(),
                      c->table.toHtmlEscaped());
    lines << tr("Hook %1, priority %2, type %3")
                 .arg(hookTitle(c->hook), QString::number(c->priority), c->type.toHtmlEscaped());
    lines << (c->policyDrops() ? tr("Policy: <b>drop</b>: a packet no rule accepts is dropped")
                               : tr("Policy: accept"));
    lines << tr("%1 rules, %2 of them drop or reject, %3 translate addresses")
                 .arg(c->rules)
                 .arg(c->dropRules)
                 .arg(c->natRules);
    if (c->counted)
        lines << tr("Counters: %1, %2").arg(packets(c->packets), bytes(c->bytes));
    else
        lines << tr("Counters: none (no rule of this chain counts)");
    if (c->hasRate)
        lines
            << tr("Now: %1, %2/s").arg(rate(c->packetRate), bytes(quint64(qMax(0.0, c->byteRate))));
    lines << (c->ours ? tr("This chain is Portico's own; its rules count the packets of "
                           "Portico's forwards (a NAT chain sees only the first packet of each "
                           "connection). Per forward: the Hits column.")
                      : tr("This chain belongs to another program; Portico only reads it."));
    if (m_model->ourRoles().contains(key))
        lines << tr("For '%1': %2")
                     .arg(m_model->highlightedName().toHtmlEscaped(),
                          m_model->ourRoles().value(key));
    return lines.join(QStringLiteral("<br>"));
}

// --- trace animation ----------------------------------------------------------------------

void FlowDiagram::showTracePacket(int index) {
    m_traceTimer.stop();
    m_tracePacket = index;
    m_traceStep = -1;
    if (index >= 0 && index < m_model->tracePackets().size()) {
        m_traceStep = 0;
        m_traceTimer.start();
    } else {
        m_tracePacket = -1;
    }
    update();
}

void FlowDiagram::stepTrace() {
    if (m_tracePacket < 0 || m_tracePacket >= m_model->tracePackets().size()) {
        m_traceTimer.stop();
        return;
    }
    const auto &steps = m_model->tracePackets().at(m_tracePacket).steps;
    if (m_traceStep + 1 < steps.size())
        ++m_traceStep;
    else
        m_traceTimer.stop(); // it stays where it ended
    update();
}

QStringList FlowDiagram::shownPath() const {
    if (m_tracePacket < 0 || m_tracePacket >= m_model->tracePackets().size())
        return m_model->highlightedHooks();
    // While a traced packet is shown, the path is where it really went, not where it should.
    QStringList hooks;
    const TracePacket &p = m_model->tracePackets().at(m_tracePacket);
    for (int i = 0; i <= m_traceStep && i < p.steps.size(); ++i)
        if (!hooks.contains(p.steps.at(i).hook))
            hooks << p.steps.at(i).hook;
    return hooks;
}

QString FlowDiagram::traceStoppedAt() const {
    if (m_tracePacket < 0 || m_traceTimer.isActive() ||
        m_tracePacket >= m_model->tracePackets().size())
        return {};
    const TracePacket &p = m_model->tracePackets().at(m_tracePacket);
    if (p.steps.isEmpty())
        return {};
    return drawnChainForStep(m_tracePacket, int(p.steps.size()) - 1);
}

QString FlowDiagram::drawnChainForStep(int packetIndex, int stepIndex) const {
    const TracePacket &p = m_model->tracePackets().at(packetIndex);
    const TraceStep &s = p.steps.at(stepIndex);
    if (!chainRect(traceChainKey(s)).isNull())
        return traceChainKey(s);
    // A regular chain reached by a jump: drawn at the base chain of its table that jumped.
    for (int i = stepIndex - 1; i >= 0; --i) {
        const TraceStep &before = p.steps.at(i);
        if (before.table == s.table && before.family == s.family && before.hook == s.hook &&
            !chainRect(traceChainKey(before)).isNull())
            return traceChainKey(before);
    }
    for (const FlowChain &c : m_model->chainsAt(s.hook))
        if (c.table == s.table && c.family == s.family)
            return c.key();
    return {};
}

// --- painting -----------------------------------------------------------------------------

void FlowDiagram::paintEvent(QPaintEvent *) {
    QPainter p(this);
    p.fillRect(rect(), palette().color(QPalette::Base));
    paintDiagram(p);
    if (hasFocus() && m_focus >= 0 && m_focus < m_items.size()) {
        QStyleOptionFocusRect option;
        option.initFrom(this);
        option.rect = m_items.at(m_focus).rect.toRect().adjusted(-4, -4, 4, 4);
        option.backgroundColor = palette().color(QPalette::Base);
        style()->drawPrimitive(QStyle::PE_FrameFocusRect, &option, &p, this);
        // Some styles draw a faint focus frame: a clear one in the highlight colour as well.
        p.setPen(QPen(palette().color(QPalette::Highlight), 1.5, Qt::DashLine));
        p.setBrush(Qt::NoBrush);
        p.drawRoundedRect(m_items.at(m_focus).rect.adjusted(-3, -3, 3, 3), 6, 6);
    }
}

void FlowDiagram::paintEdge(QPainter &p, const QList<QPointF> &points, const QString &toHook,
                            bool onPath) const {
    const QPalette &pal = palette();
    const double r = toHook.isEmpty() ? 0 : m_model->hookPacketRate(toHook);
    // Wider with more traffic, on a log scale: 1 pkt/s and 10,000 pkt/s both stay readable.
    const qreal width = 1.5 + qMin(7.0, std::log10(1.0 + r) * 2.0);
    QColor colour = onPath ? pal.color(QPalette::Highlight)
                           : mix(pal.color(QPalette::Base), pal.color(QPalette::Text), 0.55);
    QPen pen(colour, onPath ? qMax<qreal>(width, 3) : width);
    pen.setCapStyle(Qt::FlatCap);
    QPainterPath path(points.first());
    for (qsizetype i = 1; i < points.size(); ++i)
        path.lineTo(points.at(i));
    p.setBrush(Qt::NoBrush);
    p.setPen(pen);
    p.drawPath(path);
    if (r > 0) {
        // Light stripes that move along the edge, faster with more traffic: packets flowing.
        QPen stripes(mix(colour, pal.color(QPalette::Base), 0.55), pen.widthF() * 0.6);
        stripes.setCapStyle(Qt::FlatCap);
        stripes.setDashPattern({2, 4});
        stripes.setDashOffset(-m_phase * (2.0 + std::log10(1.0 + r) * 3.0) * 5.0 /
                              stripes.widthF());
        p.setPen(stripes);
        p.drawPath(path);
    }
    // The arrow head.
    const QPointF tip = points.last();
    const QPointF from = points.at(points.size() - 2);
    const qreal angle = std::atan2(tip.y() - from.y(), tip.x() - from.x());
    const qreal len = 7 + pen.widthF();
    QPolygonF head;
    head << tip << tip - QPointF(len * std::cos(angle - 0.45), len * std::sin(angle - 0.45))
         << tip - QPointF(len * std::cos(angle + 0.45), len * std::sin(angle + 0.45));
    p.setPen(Qt::NoPen);
    p.setBrush(colour);
    p.drawPolygon(head);
}

void FlowDiagram::paintChain(QPainter &p, const Item &item, const FlowChain &c) const {
    const QPalette &pal = palette();
    const QColor text = pal.color(QPalette::Text);
    const QColor quiet = mix(pal.color(QPalette::Base), text, 0.65);
    const QColor red = dropColor(pal);
    const QColor highlight = pal.color(QPalette::Highlight);
    const bool showingTrace = m_tracePacket >= 0 && m_tracePacket < m_model->tracePackets().size();
    const bool onPath = !showingTrace && m_model->isHighlighted(c.key());
    const bool dim = (showingTrace || m_model->hasHighlight()) && !onPath;
    const QRectF r = item.rect;

    // Where the shown trace packet has been, and whether it was dropped here.
    bool traced = false;
    bool tracedHere = false;
    bool droppedHere = false;
    if (m_tracePacket >= 0 && m_tracePacket < m_model->tracePackets().size()) {
        const TracePacket &tp = m_model->tracePackets().at(m_tracePacket);
        for (int i = 0; i <= m_traceStep && i < tp.steps.size(); ++i)
            if (drawnChainForStep(m_tracePacket, i) == c.key()) {
                traced = true;
                if (i == m_traceStep)
                    tracedHere = true;
            }
        droppedHere = tracedHere && tp.dropped && !m_traceTimer.isActive() &&
                      drawnChainForStep(m_tracePacket, int(tp.steps.size()) - 1) == c.key();
    }

    p.save();
    if (dim && !traced)
        p.setOpacity(0.45);
    QColor fill = pal.color(QPalette::Window);
    if (c.ours)
        fill = mix(pal.color(QPalette::Base), highlight, 0.16);
    if (droppedHere)
        fill = mix(pal.color(QPalette::Base), red, 0.22);
    QColor border = mix(pal.color(QPalette::Base), text, 0.35);
    qreal borderWidth = 1;
    if (c.mayDrop()) {
        border = red;
        borderWidth = c.policyDrops() ? 2.5 : 1.5;
    }
    if (droppedHere) {
        border = red;
        borderWidth = 3;
    }
    if (onPath || traced) {
        // On the path: a ring around the box, so that a drop mark on the box itself stays seen.
        p.setPen(QPen(droppedHere ? red : highlight, 3));
        p.setBrush(Qt::NoBrush);
        p.drawRoundedRect(r.adjusted(-3.5, -3.5, 3.5, 3.5), 8, 8);
    }
    QPen pen(border, borderWidth);
    if (c.mayDrop() && !c.policyDrops() && !traced)
        pen.setStyle(Qt::DashLine);
    p.setPen(pen);
    p.setBrush(fill);
    p.drawRoundedRect(r, 6, 6);
    if (c.ours) {
        // A bar down the left side: ours at a glance, without reading.
        p.setPen(Qt::NoPen);
        p.setBrush(highlight);
        p.drawRoundedRect(QRectF(r.left() + 1, r.top() + 1, 6, r.height() - 2), 3, 3);
    }

    const QFontMetricsF fm(font());
    const qreal pad = c.ours ? 12 : 8;
    const qreal line = fm.height();
    QRectF row(r.left() + pad, r.top() + 5, r.width() - pad - 8, line);
    QFont bold = font();
    bold.setBold(true);
    p.setFont(bold);
    p.setPen(text);
    QString tag;
    if (c.ours)
        tag = c.chain.startsWith(QLatin1StringView("trace")) ? tr("trace") : tr("ours");
    if (m_model->ourRoles().contains(c.key()))
        tag = m_model->ourRoles().value(c.key());
    const QString name = c.table + QLatin1Char(' ') + c.chain;
    p.drawText(row, Qt::AlignLeft | Qt::AlignVCenter,
               QFontMetricsF(bold).elidedText(name, Qt::ElideRight, row.width()));
    if (!tag.isEmpty()) {
        // A badge on the top border, so that it never takes room from the chain's name.
        QFont small = bold;
        small.setPointSizeF(bold.pointSizeF() * 0.85);
        const QFontMetricsF sfm(small);
        const qreal tagWidth = sfm.horizontalAdvance(tag) + 10;
        const QRectF tagRect(r.right() - tagWidth - 8, r.top() - sfm.height() / 2 - 1, tagWidth,
                             sfm.height() + 2);
        p.setPen(Qt::NoPen);
        p.setBrush(highlight);
        p.drawRoundedRect(tagRect, 4, 4);
        p.setFont(small);
        p.setPen(pal.color(QPalette::HighlightedText));
        p.drawText(tagRect, Qt::AlignCenter, tag);
    }
    p.setFont(font());

    row.translate(0, line);
    QString second = tr("%1 · %2 · prio %3").arg(c.family, c.type, QString::number(c.priority));
    QString mark;
    if (c.policyDrops())
        mark = tr("policy drop");
    else if (c.dropRules > 0)
        mark = tr("drop rules: %1").arg(c.dropRules);
    const qreal markWidth = mark.isEmpty() ? 0 : fm.horizontalAdvance(mark) + 6;
    p.setPen(quiet);
    p.drawText(row.adjusted(0, 0, -markWidth, 0), Qt::AlignLeft | Qt::AlignVCenter,
               fm.elidedText(second, Qt::ElideRight, row.width() - markWidth));
    if (!mark.isEmpty()) {
        QFont f = font();
        f.setBold(c.policyDrops());
        p.setFont(f);
        p.setPen(red);
        p.drawText(row, Qt::AlignRight | Qt::AlignVCenter, mark);
        p.setFont(font());
    }

    row.translate(0, line);
    QString third;
    if (droppedHere) {
        const TracePacket &tp = m_model->tracePackets().at(m_tracePacket);
        const QString who = tp.dropChain.section(QLatin1Char(' '), 2);
        third = who == c.chain ? tr("✕ packet dropped here") : tr("✕ dropped in %1").arg(who);
        QFont f = font();
        f.setBold(true);
        p.setFont(f);
        p.setPen(red);
    } else {
        bool live = c.hasRate && c.packetRate > 0;
        if (c.packets || c.bytes) {
            third = packets(c.packets) + QStringLiteral(" · ") + bytes(c.bytes);
            if (live)
                third += QStringLiteral(" · ") + rate(c.packetRate);
        } else if (c.ours && m_model->hasForwardCounters() &&
                   m_model->ourRoles().contains(c.key())) {
            // Our chains count per forward: show the selected forward's own numbers.
            third =
                tr("'%1': %2").arg(m_model->highlightedName(), packets(m_model->forwardPackets()));
            if (m_model->forwardPacketRate() > 0)
                third += QStringLiteral(" · ") + rate(m_model->forwardPacketRate());
            live = m_model->forwardPacketRate() > 0;
        } else if (c.counted) {
            third = packets(0);
        } else if (c.rules == 0) {
            third = tr("no rules, nothing to count");
        } else {
            third = tr("no rule counters");
        }
        p.setPen(live ? text : quiet);
    }
    p.drawText(row, Qt::AlignLeft | Qt::AlignVCenter,
               p.fontMetrics().elidedText(third, Qt::ElideRight, int(row.width())));
    p.restore();

    if (tracedHere) {
        // The packet itself: a dot just left of the box, where it came in.
        p.save();
        p.setRenderHint(QPainter::Antialiasing);
        p.setPen(QPen(pal.color(QPalette::Base), 2));
        p.setBrush(droppedHere ? red : pal.color(QPalette::Link));
        p.drawEllipse(QPointF(r.left() - 13, r.center().y()), 8, 8);
        p.restore();
    }
}

void FlowDiagram::paintDiagram(QPainter &p) const {
    const QPalette &pal = palette();
    const QColor text = pal.color(QPalette::Text);
    const QColor quiet = mix(pal.color(QPalette::Base), text, 0.65);
    const QColor red = dropColor(pal);
    const QFontMetricsF fm(font());
    const qreal line = fm.height();
    p.setRenderHint(QPainter::Antialiasing);
    p.setRenderHint(QPainter::TextAntialiasing);
    p.setFont(font());

    // The caption: what the diagram shows right now.
    QString caption;
    QColor captionColour = text;
    if (m_tracePacket >= 0 && m_tracePacket < m_model->tracePackets().size()) {
        const TracePacket &tp = m_model->tracePackets().at(m_tracePacket);
        if (tp.dropped && !m_traceTimer.isActive()) {
            caption = tr("Traced packet %1 of '%2' was dropped by %3.")
                          .arg(tp.id)
                          .arg(m_model->traceForwardName(), tp.dropChain);
            captionColour = red;
        } else {
            caption = tr("Traced packet %1 of '%2', on its way through the chains.")
                          .arg(tp.id)
                          .arg(m_model->traceForwardName());
        }
    } else if (m_model->hasHighlight()) {
        QStringList parts;
        for (const QString &hook : m_model->highlightedHooks()) {
            QString part = hookTitle(hook);
            for (auto it = m_model->ourRoles().cbegin(); it != m_model->ourRoles().cend(); ++it)
                if (const FlowChain *c = m_model->chain(it.key()); c && c->hook == hook)
                    part += QLatin1Char(' ') + it.value();
            parts << part;
        }
        caption = tr("Path of '%1': %2")
                      .arg(m_model->highlightedName(), parts.join(QStringLiteral(" → ")));
        if (m_model->hasForwardCounters())
            caption += QStringLiteral("  (%1, %2)")
                           .arg(packets(m_model->forwardPackets()), bytes(m_model->forwardBytes()));
    } else if (!m_model->hasSummary()) {
        caption = tr("Waiting for the ruleset summary from the helper…");
    } else {
        caption = tr("Every base chain of every table, in the order a packet meets them. "
                     "Select a forward to see its path.");
    }
    QFont captionFont = font();
    captionFont.setBold(true);
    captionFont.setPointSizeF(captionFont.pointSizeF() * 1.15);
    p.setFont(captionFont);
    p.setPen(captionColour);
    p.drawText(QRectF(margin, margin, m_size.width() - 2 * margin, line * 2),
               Qt::AlignLeft | Qt::AlignVCenter, caption);
    p.setFont(font());

    // Station titles and shapes.
    QFont titleFont = font();
    titleFont.setBold(true);
    titleFont.setCapitalization(QFont::AllUppercase);
    titleFont.setLetterSpacing(QFont::PercentageSpacing, 105);
    for (const Station &s : m_stations) {
        const bool hook = FlowModel::hooks().contains(s.id);
        const bool onPath = shownPath().contains(s.id);
        if (hook) {
            p.setFont(titleFont);
            p.setPen(onPath ? pal.color(QPalette::Highlight) : text);
            p.drawText(QRectF(s.rect.left(), s.rect.top(), s.rect.width(), line + 4),
                       Qt::AlignLeft | Qt::AlignVCenter, s.title);
            p.setFont(font());
            if (m_model->chainsAt(s.id).isEmpty()) {
                p.setPen(QPen(quiet, 1, Qt::DashLine));
                p.setBrush(Qt::NoBrush);
                p.drawRoundedRect(s.anchor, 6, 6);
                p.drawText(s.anchor, Qt::AlignCenter, tr("no chain: accepted"));
            }
            continue;
        }
        const QColor fill = mix(pal.color(QPalette::Base), pal.color(QPalette::Button), 0.9);
        p.setPen(QPen(mix(pal.color(QPalette::Base), text, 0.5), 1.2));
        p.setBrush(fill);
        if (s.id == QLatin1StringView("routing")) {
            QPolygonF diamond;
            diamond << QPointF(s.anchor.center().x(), s.anchor.top())
                    << QPointF(s.anchor.right(), s.anchor.center().y())
                    << QPointF(s.anchor.center().x(), s.anchor.bottom())
                    << QPointF(s.anchor.left(), s.anchor.center().y());
            p.drawPolygon(diamond);
        } else if (s.id == QLatin1StringView("local")) {
            p.drawRoundedRect(s.anchor, 10, 10);
        } else {
            p.drawRoundedRect(s.anchor, s.anchor.height() / 2, s.anchor.height() / 2);
        }
        p.setPen(pal.color(QPalette::ButtonText));
        p.drawText(s.anchor, Qt::AlignCenter, s.title);
    }

    // Edges between stations, each following the traffic of the hook it leads to.
    const auto *in = station(QStringLiteral("in"));
    const auto *pre = station(QStringLiteral("prerouting"));
    const auto *routing = station(QStringLiteral("routing"));
    const auto *fwd = station(QStringLiteral("forward"));
    const auto *post = station(QStringLiteral("postrouting"));
    const auto *out = station(QStringLiteral("out"));
    const auto *input = station(QStringLiteral("input"));
    const auto *local = station(QStringLiteral("local"));
    const auto *output = station(QStringLiteral("output"));
    const QStringList path = shownPath();
    const bool viaForward = path.contains(QStringLiteral("forward"));
    const bool viaInput = path.contains(QStringLiteral("input"));
    const auto across = [](const Station *a, const Station *b) {
        return QList<QPointF>{QPointF(a->anchor.right(), a->anchor.center().y()),
                              QPointF(b->anchor.left() - 2, b->anchor.center().y())};
    };
    paintEdge(p, across(in, pre), QStringLiteral("prerouting"), !path.isEmpty());
    paintEdge(p, across(pre, routing), QStringLiteral("prerouting"), !path.isEmpty());
    paintEdge(p, across(routing, fwd), QStringLiteral("forward"), viaForward);
    const bool viaPost = viaForward && path.contains(QStringLiteral("postrouting"));
    paintEdge(p, across(fwd, post), QStringLiteral("forward"), viaPost);
    paintEdge(p, across(post, out), QStringLiteral("postrouting"), viaPost);
    paintEdge(p,
              {QPointF(routing->anchor.center().x(), routing->anchor.bottom()),
               QPointF(routing->anchor.center().x(), input->rect.top() - 2)},
              QStringLiteral("input"), viaInput);
    paintEdge(p, across(input, local), QStringLiteral("input"), viaInput);
    paintEdge(p, across(local, output), QStringLiteral("output"), false);
    paintEdge(p,
              {QPointF(output->rect.center().x(), output->rect.top()),
               QPointF(output->rect.center().x(), post->rect.bottom() + 2)},
              QStringLiteral("output"), false);

    // The chains, with a short arrow between chains of one hook: a packet meets them in turn.
    for (const Item &item : m_items) {
        const FlowChain *c = m_model->chain(item.key);
        if (!c)
            continue;
        paintChain(p, item, *c);
    }
    p.setPen(QPen(quiet, 1.2));
    for (qsizetype i = 1; i < m_items.size(); ++i) {
        const Item &a = m_items.at(i - 1);
        const Item &b = m_items.at(i);
        if (a.hook != b.hook)
            continue;
        const qreal x = a.rect.center().x();
        p.drawLine(QPointF(x, a.rect.bottom() + 2), QPointF(x, b.rect.top() - 3));
        p.drawLine(QPointF(x - 4, b.rect.top() - 7), QPointF(x, b.rect.top() - 3));
        p.drawLine(QPointF(x + 4, b.rect.top() - 7), QPointF(x, b.rect.top() - 3));
    }

    // The legend, then what is not on this path.
    qreal y = 0;
    for (const Station &s : m_stations)
        y = qMax(y, s.rect.bottom());
    y += line * 1.2;
    qreal x = margin;
    const auto wrap = [&](qreal needed) {
        if (x > margin && x + needed > m_size.width() - margin) {
            x = margin;
            y += line * 1.3;
        }
    };
    const auto swatch = [&](const QColor &border, const QColor &fill, qreal width,
                            Qt::PenStyle style, const QString &label) {
        wrap(28 + fm.horizontalAdvance(label));
        p.setPen(QPen(border, width, style));
        p.setBrush(fill);
        p.drawRoundedRect(QRectF(x, y + 2, 22, line - 4), 3, 3);
        x += 28;
        p.setPen(text);
        p.drawText(QPointF(x, y + fm.ascent()), label);
        x += fm.horizontalAdvance(label) + 22;
    };
    const QColor highlight = pal.color(QPalette::Highlight);
    swatch(highlight, mix(pal.color(QPalette::Base), highlight, 0.16), 1, Qt::SolidLine,
           tr("Portico's own chain"));
    swatch(red, pal.color(QPalette::Window), 2.5, Qt::SolidLine, tr("policy drop"));
    swatch(red, pal.color(QPalette::Window), 1.5, Qt::DashLine, tr("has drop or reject rules"));
    swatch(highlight, pal.color(QPalette::Window), 3, Qt::SolidLine,
           tr("on the forward's path, or where the traced packet went"));
    const QString edges = tr("Edges widen and move with the packet rate.");
    wrap(fm.horizontalAdvance(edges));
    p.setPen(quiet);
    p.drawText(QPointF(x, y + fm.ascent()), edges);
    const QList<FlowChain> others = m_model->otherChains();
    if (!others.isEmpty()) {
        QStringList names;
        for (const FlowChain &c : others)
            names << QStringLiteral("%1 (%2)").arg(c.key(), c.hook);
        p.setPen(quiet);
        p.drawText(QRectF(margin, y + line * 1.3, m_size.width() - 2 * margin, line),
                   Qt::AlignLeft | Qt::AlignVCenter,
                   fm.elidedText(tr("Not on the IP path: %1").arg(names.join(QStringLiteral(", "))),
                                 Qt::ElideRight, m_size.width() - 2 * margin));
    }
}

// --- export -------------------------------------------------------------------------------

bool FlowDiagram::exportPng(const QString &path) const {
    const qreal scale = 2; // sharp on high-density screens and in documents
    QImage image(m_size * scale, QImage::Format_ARGB32_Premultiplied);
    image.setDevicePixelRatio(scale);
    image.fill(palette().color(QPalette::Base));
    QPainter p(&image);
    paintDiagram(p);
    p.end();
    return image.save(path, "PNG");
}

bool FlowDiagram::exportSvg(const QString &path) const {
    QSvgGenerator svg;
    svg.setFileName(path);
    svg.setSize(m_size);
    svg.setViewBox(QRect(QPoint(0, 0), m_size));
    svg.setTitle(tr("Portico chain flow"));
    svg.setDescription(m_model->hasHighlight() ? m_model->highlightedName() : QString());
    QPainter p;
    if (!p.begin(&svg))
        return false;
    p.fillRect(QRect(QPoint(0, 0), m_size), palette().color(QPalette::Base));
    paintDiagram(p);
    return p.end();
}

} // namespace portico
