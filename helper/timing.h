// SPDX-License-Identifier: GPL-3.0-or-later
// The helper's timing log: QT_LOGGING_RULES="portico.helper.timing.debug=true" shows where the
// time of each call goes, and of the start-up (a stream opened while the helper is gone waits
// for all of it: bus activation).
#pragma once

#include <QElapsedTimer>
#include <QLoggingCategory>

namespace portico {

Q_DECLARE_LOGGING_CATEGORY(lcTiming)

// The milliseconds on `t` since *last, and *last moved on to now: one step of a breakdown.
inline double msSince(const QElapsedTimer &t, qint64 *last) {
    const qint64 now = t.nsecsElapsed();
    const double ms = double(now - *last) / 1e6;
    *last = now;
    return ms;
}

} // namespace portico
