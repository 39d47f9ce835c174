// SPDX-License-Identifier: GPL-3.0-or-later
// Loading the app's own and Qt's translations for the system locale, shared by main() and the
// German UI test so that the test exercises exactly what the app does at startup.
#pragma once

#include <QLocale>

class QCoreApplication;

namespace portico {

struct LoadedTranslations {
    bool portico = false; // the app's strings (embedded under :/i18n)
    bool qtbase = false;  // Qt's own dialogs and buttons, from Qt's translations directory
};

// Installs the translators on app (they live as long as it does). Call before any window is
// built: the forms translate their strings once, when they are set up.
LoadedTranslations installTranslations(QCoreApplication &app,
                                       const QLocale &locale = QLocale::system());

} // namespace portico
