// SPDX-License-Identifier: GPL-3.0-or-later
// The GUI's one way to wait for an asynchronous helper call without blocking the event loop.
#pragma once

#include <QDBusMessage>
#include <QDBusPendingCall>
#include <QDBusPendingCallWatcher>
#include <QObject>

namespace portico {

// Calls `done(reply)` when the pending call finishes. The watcher belongs to `owner`, so a
// reply that comes after the owner is gone is dropped with it.
template <typename F> void whenDone(QObject *owner, const QDBusPendingCall &call, F done) {
    auto *w = new QDBusPendingCallWatcher(call, owner);
    QObject::connect(w, &QDBusPendingCallWatcher::finished, owner,
                     [w, done](QDBusPendingCallWatcher *) {
                         w->deleteLater();
                         done(w->reply());
                     });
}

} // namespace portico
