// SPDX-License-Identifier: GPL-3.0-or-later
// The install hint of the "helper not installed" page (see helper_install_hint.h).
#include "helper_install_hint.h"

#include <QCoreApplication>

namespace portico {

QString helperInstallHint() {
    // The AppImage runtime sets APPIMAGE to the file the user started.
    const QString appImage = qEnvironmentVariable("APPIMAGE");
    if (appImage.isEmpty())
        return {};
    return QCoreApplication::translate(
               "HelperInstallHint",
               "This AppImage carries the helper. To install it on this computer, run in a "
               "terminal:\n\n    \"%1\" install-helper\n\nIt lists the files it copies, then "
               "pkexec asks for an administrator's password.")
        .arg(appImage);
}

} // namespace portico
