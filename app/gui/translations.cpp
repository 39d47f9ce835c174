// SPDX-License-Identifier: GPL-3.0-or-later
// Where the translations come from: Portico's are compiled into the binary by lrelease (so an
// AppImage or Flatpak needs no data directory), Qt's come from the Qt install.
#include "translations.h"

#include <QCoreApplication>
#include <QLibraryInfo>
#include <QTranslator>

namespace portico {

LoadedTranslations installTranslations(QCoreApplication &app, const QLocale &locale) {
    LoadedTranslations loaded;
    // QTranslator::load(QLocale, ...) walks the locale's UI languages (de_DE, then de), so a
    // de_AT or de_CH user gets the German file too.
    auto *qt = new QTranslator(&app);
    if (qt->load(locale, QStringLiteral("qtbase"), QStringLiteral("_"),
                 QLibraryInfo::path(QLibraryInfo::TranslationsPath))) {
        QCoreApplication::installTranslator(qt);
        loaded.qtbase = true;
    } else {
        delete qt;
    }
    auto *own = new QTranslator(&app);
    if (own->load(locale, QStringLiteral("portico"), QStringLiteral("_"),
                  QStringLiteral(":/i18n"))) {
        QCoreApplication::installTranslator(own);
        loaded.portico = true;
    } else {
        delete own;
    }
    return loaded;
}

} // namespace portico
