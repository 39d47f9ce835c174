// SPDX-License-Identifier: GPL-3.0-or-later
// The chain-flow diagram widget: netfilter's packet path (in, prerouting, routing decision,
// forward, postrouting, out; input, local process, output beside it) with every base chain of
// the FlowModel at its hook, live counters, one forward's path and a trace's packet animated
// along its steps. Painted from the palette only, so it is right in light and dark themes.
#pragma once

#include <QElapsedTimer>
#include <QHash>
#include <QRectF>
#include <QTimer>
#include <QWidget>

class QPainter;

namespace portico {

class FlowModel;
struct FlowChain;

class FlowDiagram : public QWidget {
    Q_OBJECT
public:
    explicit FlowDiagram(FlowModel *model, QWidget *parent = nullptr);

    FlowModel *model() const { return m_model; }
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

    // The chain with keyboard focus (a FlowChain::key()), or empty.
    QString focusedChain() const;
    void setFocusedChain(const QString &key);
    // Where a chain is drawn, for tests and tooltips; null if it is not drawn.
    QRectF chainRect(const QString &key) const;
    // All the text a tooltip shows for a chain.
    QString chainDetails(const QString &key) const;

    // Which packet of the trace is shown (index into FlowModel::tracePackets()), animated from
    // its first step to its last; -1 shows none.
    void showTracePacket(int index);
    int shownTracePacket() const { return m_tracePacket; }
    // The chain the shown packet stopped at after its animation, or empty while it moves.
    QString traceStoppedAt() const;
    bool traceAnimating() const { return m_traceTimer.isActive(); }

    bool exportPng(const QString &path) const;
    bool exportSvg(const QString &path) const;

    // Paints the whole diagram at its natural size (the widget and both exports use it).
    void paintDiagram(QPainter &p) const;

signals:
    void focusedChainChanged(const QString &key);

protected:
    void paintEvent(QPaintEvent *event) override;
    bool event(QEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    bool focusNextPrevChild(bool next) override;
    void changeEvent(QEvent *event) override;
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;

private:
    struct Item {
        QString key;
        QString hook;
        QRectF rect;
    };
    struct Station {
        QString id; // a hook name, or in / routing / local / out
        QString title;
        QRectF rect;   // the whole column
        QRectF anchor; // what edges attach to (the first chain, or the shape)
    };

    void relayout();
    void updateAnimation();
    void stepTrace();
    const Station *station(const QString &id) const;
    // The hooks drawn as the path: the traced packet's so far, else the selected forward's.
    QStringList shownPath() const;
    // The drawn chain a trace step belongs to: the chain itself, or the base chain of its table
    // at that hook that jumped to it.
    QString drawnChainForStep(int packetIndex, int stepIndex) const;
    void paintEdge(QPainter &p, const QList<QPointF> &points, const QString &toHook,
                   bool onPath) const;
    void paintChain(QPainter &p, const Item &item, const FlowChain &c) const;
    void moveFocus(int delta);

    FlowModel *m_model;
    QList<Item> m_items;
    QList<Station> m_stations;
    QSize m_size;
    qreal m_chainWidth = 220;
    qreal m_chainHeight = 60;
    int m_focus = -1;

    QTimer m_animation; // moving dashes on the edges, while traffic flows and we are shown
    QElapsedTimer m_clock;
    qreal m_phase = 0;

    QTimer m_traceTimer;
    int m_tracePacket = -1;
    int m_traceStep = -1;
};

} // namespace portico
