// SPDX-License-Identifier: GPL-3.0-or-later
// The helper's idle exit: fires once no call has arrived for the timeout and none is pending.
#pragma once

#include <QObject>
#include <QTimer>

namespace portico {

class IdleGuard : public QObject {
    Q_OBJECT
public:
    // seconds == 0: never idle.
    explicit IdleGuard(int seconds, QObject *parent = nullptr);

    // A call arrived: start the wait again.
    void touch();
    // A call is pending (waiting for polkit); the guard stays quiet until each hold is released.
    void hold();
    void release();

    int pending() const { return m_pending; }

signals:
    void idle();

private:
    void onTimeout();

    QTimer m_timer;
    int m_pending = 0;
};

} // namespace portico
