// SPDX-License-Identifier: GPL-3.0-or-later
// The GUI tests' side of run_gui_tests.py's driver: one JSON request per line over a local
// socket to the driver, which runs as root in the lab (porticoctl as the lab's users, nft and
// conntrack in the gateway, traffic from the WAN client).
#pragma once

#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonValue>
#include <QLocalSocket>
#include <QPalette>
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

// A dark palette for the screenshots that show the app reads every colour from the palette.
inline QPalette darkPalette() {
    QPalette dark;
    dark.setColor(QPalette::Window, QColor(0x2b, 0x2d, 0x30));
    dark.setColor(QPalette::WindowText, QColor(0xe6, 0xe6, 0xe6));
    dark.setColor(QPalette::Base, QColor(0x1e, 0x1f, 0x22));
    dark.setColor(QPalette::AlternateBase, QColor(0x26, 0x28, 0x2b));
    dark.setColor(QPalette::Text, QColor(0xe6, 0xe6, 0xe6));
    dark.setColor(QPalette::Button, QColor(0x35, 0x37, 0x3b));
    dark.setColor(QPalette::ButtonText, QColor(0xe6, 0xe6, 0xe6));
    dark.setColor(QPalette::Highlight, QColor(0x3d, 0x6e, 0xb4));
    dark.setColor(QPalette::HighlightedText, Qt::white);
    dark.setColor(QPalette::Link, QColor(0x6c, 0xa8, 0xf0));
    dark.setColor(QPalette::ToolTipBase, QColor(0x4a, 0x44, 0x2a));
    dark.setColor(QPalette::ToolTipText, QColor(0xf0, 0xe6, 0xc0));
    dark.setColor(QPalette::PlaceholderText, QColor(0x90, 0x90, 0x90));
    return dark;
}

} // namespace portico::guitest

// One request to the driver in a test function; fails the test when the driver says no.
#define DRIVE(var, request)                                                                        \
    const portico::guitest::DriverReply var = portico::guitest::drive(request);                    \
    QVERIFY2(var.ok, qPrintable(var.error))
