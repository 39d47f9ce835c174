// SPDX-License-Identifier: GPL-3.0-or-later
// The GUI tests' side of run_gui_tests.py's driver: one JSON request per line over a local
// socket to the driver, which runs as root in the lab (porticoctl as the lab's users, nft and
// conntrack in the gateway, traffic from the WAN client).
#pragma once

#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonValue>
#include <QLocalSocket>
#include <QString>
#include <QTest>

namespace portico::guitest {

inline QString env(const char *name) {
    return qEnvironmentVariable(name);
}

struct DriverReply {
    bool ok = false;
    QJsonValue result;
    QString error;
};

inline DriverReply drive(const QJsonObject &request) {
    DriverReply r;
    QLocalSocket socket;
    socket.connectToServer(env("PORTICO_GUI_DRIVER"));
    if (!socket.waitForConnected(5000)) {
        r.error = QStringLiteral("cannot reach the driver: ") + socket.errorString();
        return r;
    }
    socket.write(QJsonDocument(request).toJson(QJsonDocument::Compact) + '\n');
    socket.flush();
    while (!socket.canReadLine())
        if (!socket.waitForReadyRead(90000)) {
            r.error = QStringLiteral("the driver did not answer ") +
                      QString::fromUtf8(QJsonDocument(request).toJson(QJsonDocument::Compact));
            return r;
        }
    const QJsonObject reply = QJsonDocument::fromJson(socket.readLine()).object();
    r.ok = reply.value(QStringLiteral("ok")).toBool();
    r.result = reply.value(QStringLiteral("result"));
    r.error = reply.value(QStringLiteral("error")).toString();
    return r;
}

inline QJsonObject op(const char *name) {
    return {{QStringLiteral("op"), QLatin1StringView(name)}};
}

} // namespace portico::guitest

// One request to the driver in a test function; fails the test when the driver says no.
#define DRIVE(var, request)                                                                        \
    const portico::guitest::DriverReply var = portico::guitest::drive(request);                    \
    QVERIFY2(var.ok, qPrintable(var.error))
