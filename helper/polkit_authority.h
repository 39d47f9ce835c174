// SPDX-License-Identifier: GPL-3.0-or-later
// Asks polkit whether the sender of a bus message may perform an action, without blocking.
#pragma once

#include <QDBusConnection>
#include <QDBusMessage>
#include <QMap>
#include <QObject>
#include <QString>

#include <functional>

namespace portico {

struct Authorization {
    bool authorized = false;
    // Why not, in words, when polkit could not be asked or said no in a particular way.
    QString reason;
};

class PolkitAuthority : public QObject {
    Q_OBJECT
public:
    explicit PolkitAuthority(const QDBusConnection &bus, QObject *parent = nullptr);

    // Calls done exactly once, later, from the event loop. Any error or unexpected reply is a
    // denial.
    void check(const QDBusMessage &call, const QString &actionId,
               const QMap<QString, QString> &details, std::function<void(Authorization)> done);

private:
    QDBusConnection m_bus;
};

} // namespace portico
