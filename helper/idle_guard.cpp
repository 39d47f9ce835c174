// SPDX-License-Identifier: GPL-3.0-or-later
// Idle exit for a bus-activated service: the bus starts the helper again on the next call.
#include "idle_guard.h"

namespace portico {

IdleGuard::IdleGuard(int seconds, QObject *parent)
    : QObject(parent) {
    m_timer.setSingleShot(true);
    m_timer.setInterval(seconds * 1000);
    connect(&m_timer, &QTimer::timeout, this, &IdleGuard::onTimeout);
    if (seconds > 0)
        m_timer.start();
}

void IdleGuard::touch() {
    if (m_timer.interval() > 0)
        m_timer.start();
}

void IdleGuard::hold() {
    ++m_pending;
    touch();
}

void IdleGuard::release() {
    if (m_pending > 0)
        --m_pending;
    touch();
}

void IdleGuard::onTimeout() {
    if (m_pending > 0)
        return; // release() starts the wait again
    emit idle();
}

} // namespace portico
