// SPDX-License-Identifier: GPL-3.0-or-later
// org.freedesktop.PolicyKit1.Authority.CheckAuthorization over QtDBus, on the helper's own bus
// connection (so a private lab bus with its own polkitd works exactly like the system bus).
#include "polkit_authority.h"

#include <QDBusArgument>
#include <QDBusMetaType>
#include <QDBusPendingCallWatcher>
#include <QDBusVariant>

namespace portico {

namespace {

struct PolkitSubject {
    QString kind;
    QVariantMap details;
};

struct PolkitResult {
    bool isAuthorized = false;
    bool isChallenge = false;
    QMap<QString, QString> details;
};

QDBusArgument &operator<<(QDBusArgument &arg, const PolkitSubject &s) {
    arg.beginStructure();
    arg << s.kind << s.details;
    arg.endStructure();
    return arg;
}

const QDBusArgument &operator>>(const QDBusArgument &arg, PolkitSubject &s) {
    arg.beginStructure();
    arg >> s.kind >> s.details;
    arg.endStructure();
    return arg;
}

QDBusArgument &operator<<(QDBusArgument &arg, const PolkitResult &r) {
    arg.beginStructure();
    arg << r.isAuthorized << r.isChallenge << r.details;
    arg.endStructure();
    return arg;
}

const QDBusArgument &operator>>(const QDBusArgument &arg, PolkitResult &r) {
    arg.beginStructure();
    arg >> r.isAuthorized >> r.isChallenge >> r.details;
    arg.endStructure();
    return arg;
}

// Interactive authentication may keep a password dialog open for minutes.
constexpr int checkTimeoutMs = 10 * 60 * 1000;
// CheckAuthorizationFlags: AllowUserInteraction.
constexpr uint allowUserInteraction = 1;

} // namespace

} // namespace portico

Q_DECLARE_METATYPE(portico::PolkitSubject)
Q_DECLARE_METATYPE(portico::PolkitResult)

namespace portico {

PolkitAuthority::PolkitAuthority(const QDBusConnection &bus, QObject *parent)
    : QObject(parent)
    , m_bus(bus) {
    qDBusRegisterMetaType<PolkitSubject>();
    qDBusRegisterMetaType<PolkitResult>();
    qDBusRegisterMetaType<QMap<QString, QString>>();
}

void PolkitAuthority::check(const QDBusMessage &call, const QString &actionId,
                            const QMap<QString, QString> &details,
                            std::function<void(Authorization)> done) {
    // The subject is the caller's unique bus name: polkitd asks the bus for its uid and pid
    // itself, so nothing the caller claims about itself is trusted.
    const PolkitSubject subject{QStringLiteral("system-bus-name"),
                                {{QStringLiteral("name"), QVariant::fromValue(call.service())}}};
    QDBusMessage request =
        QDBusMessage::createMethodCall(QStringLiteral("org.freedesktop.PolicyKit1"),
                                       QStringLiteral("/org/freedesktop/PolicyKit1/Authority"),
                                       QStringLiteral("org.freedesktop.PolicyKit1.Authority"),
                                       QStringLiteral("CheckAuthorization"));
    const uint flags = call.isInteractiveAuthorizationAllowed() ? allowUserInteraction : 0;
    request << QVariant::fromValue(subject) << actionId << QVariant::fromValue(details) << flags
            << QString();
    // polkitd itself may need to show a prompt through an agent: let it, when our caller let us.
    request.setInteractiveAuthorizationAllowed(call.isInteractiveAuthorizationAllowed());

    auto *watcher = new QDBusPendingCallWatcher(m_bus.asyncCall(request, checkTimeoutMs), this);
    connect(
        watcher, &QDBusPendingCallWatcher::finished, this,
        [watcher, interactive = call.isInteractiveAuthorizationAllowed(),
         done = std::move(done)]() {
            watcher->deleteLater();
            const QDBusMessage reply = watcher->reply();
            Authorization result;
            if (reply.type() != QDBusMessage::ReplyMessage) {
                result.reason = QStringLiteral("polkit could not be asked: %1")
                                    .arg(reply.errorMessage().isEmpty() ? reply.errorName()
                                                                        : reply.errorMessage());
            } else if (reply.signature() != QLatin1String("(bba{ss})")) {
                result.reason =
                    QStringLiteral("polkit sent an unexpected reply (%1)").arg(reply.signature());
            } else {
                const PolkitResult r = qdbus_cast<PolkitResult>(reply.arguments().constFirst());
                result.authorized = r.isAuthorized;
                if (!r.isAuthorized) {
                    if (r.details.value(QStringLiteral("polkit.dismissed")) ==
                        QLatin1String("true"))
                        result.reason = QStringLiteral("the authentication dialog was dismissed");
                    else if (r.isChallenge && interactive)
                        result.reason =
                            QStringLiteral("authentication is required, and no polkit "
                                           "authentication agent could ask for a password");
                    else if (r.isChallenge)
                        result.reason = QStringLiteral(
                            "authentication is required, but the call did not allow an "
                            "interactive password prompt");
                }
            }
            done(result);
        });
}

} // namespace portico
