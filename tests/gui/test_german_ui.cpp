// SPDX-License-Identifier: GPL-3.0-or-later
// The German UI: run under LANG/LC_ALL=de_DE.UTF-8 (set by ctest), it loads the translations the
// way main() does and opens the main window without a helper (a bus that does not exist), then
// checks that the menus, the actions and the "cannot reach" page speak German and no English
// source string is left on screen. It also checks that the compiled catalogue answers every
// message of translations/portico_de.ts with its German text.
// Test data reads better as plain literals; the app itself keeps QT_NO_CAST_FROM_ASCII.
#undef QT_NO_CAST_FROM_ASCII

#include "forward_table_model.h"
#include "main_window.h"
#include "translations.h"
#include "ui_main_window.h"

#include <QAbstractButton>
#include <QAction>
#include <QFile>
#include <QLabel>
#include <QLibraryInfo>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QStatusBar>
#include <QTest>
#include <QXmlStreamReader>

using namespace portico;

namespace {

struct Message {
    QString context;
    QString source;
    QString translation;
};

QList<Message> readTs(const QString &path) {
    QList<Message> out;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return out;
    QXmlStreamReader xml(&file);
    QString context;
    Message m;
    while (!xml.atEnd()) {
        if (xml.readNext() != QXmlStreamReader::StartElement)
            continue;
        if (xml.name() == u"name")
            context = xml.readElementText();
        else if (xml.name() == u"message")
            m = {context, {}, {}};
        else if (xml.name() == u"source")
            m.source = xml.readElementText();
        else if (xml.name() == u"translation") {
            m.translation = xml.readElementText();
            out << m;
        }
    }
    return out;
}

// Every text a user can see in the window: menu titles, actions, labels, buttons, placeholders.
QStringList visibleTexts(const QMainWindow &w) {
    QStringList out;
    for (const QAction *a : w.findChildren<QAction *>())
        out << a->text() << a->toolTip();
    for (const QMenu *m : w.findChildren<QMenu *>())
        out << m->title();
    for (const QLabel *l : w.findChildren<QLabel *>())
        out << l->text();
    for (const QAbstractButton *b : w.findChildren<QAbstractButton *>())
        out << b->text();
    for (const QLineEdit *e : w.findChildren<QLineEdit *>())
        out << e->placeholderText();
    out << w.windowTitle() << w.statusBar()->currentMessage();
    out.removeAll(QString());
    return out;
}

} // namespace

class TestGermanUi : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        // What ctest sets; without it the test would prove nothing.
        QCOMPARE(qEnvironmentVariable("LANG"), u"de_DE.UTF-8"_qs);
        m_loaded = installTranslations(*QCoreApplication::instance());
        m_messages = readTs(QStringLiteral(PORTICO_TS_DE));
        QVERIFY(m_messages.size() > 100);
    }

    void systemLocaleIsGerman() {
        // QLocale reads LANG/LC_ALL itself: this holds even where de_DE is not generated.
        QCOMPARE(QLocale::system().language(), QLocale::German);
        QCOMPARE(QLocale::system().name(), u"de_DE"_qs);
        QVERIFY(m_loaded.portico);
    }

    void qtTranslationsLoaded() {
        const QString qm = QLibraryInfo::path(QLibraryInfo::TranslationsPath) + u"/qtbase_de.qm"_qs;
        // A missing prerequisite fails, as everywhere in the suite; tools/install-deps has it.
        QVERIFY2(QFile::exists(qm),
                 qPrintable(qm + u" is missing: install qt6-translations-l10n"_qs));
        QVERIFY(m_loaded.qtbase);
        QCOMPARE(QCoreApplication::translate("QPlatformTheme", "Cancel"), u"Abbrechen"_qs);
    }

    void catalogueIsComplete() {
        for (const Message &m : std::as_const(m_messages)) {
            QVERIFY2(!m.translation.isEmpty(), qPrintable(m.source));
            QCOMPARE(QCoreApplication::translate(m.context.toUtf8().constData(),
                                                 m.source.toUtf8().constData()),
                     m.translation);
        }
    }

    void mainWindowIsGerman() {
        MainWindow window(u"unix:path=/nonexistent/portico-test-german-ui"_qs);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QTRY_VERIFY_WITH_TIMEOUT(!window.showingTable(), 10000);
        Ui::MainWindow *ui = window.ui();

        QStringList menus;
        for (const QAction *a : window.menuBar()->actions())
            menus << a->text();
        QCOMPARE(menus, (QStringList{"&Datei", "&Weiterleitungen", "&Hilfe"}));
        QCOMPARE(ui->actionAdd->text(), u"Weiterleitung &hinzufügen…"_qs);
        QCOMPARE(ui->actionApply->text(), u"&Anwenden"_qs);
        QCOMPARE(ui->actionRevert->text(), u"&Verwerfen"_qs);
        QCOMPARE(ui->actionQuit->text(), u"&Beenden"_qs);
        QCOMPARE(ui->actionAbout->text(), u"&Über Portico"_qs);
        QCOMPARE(ui->messageTitle->text(), u"Der D-Bus ist nicht erreichbar"_qs);
        QVERIFY2(ui->messageText->text().startsWith(
                     u"Portico spricht mit seinem Hilfsdienst über den D-Bus unter "
                     "unix:path=/nonexistent/portico-test-german-ui, der nicht erreichbar ist."_qs),
                 qPrintable(ui->messageText->text()));
        QCOMPARE(ui->retryButton->text(), u"&Erneut versuchen"_qs);
        QCOMPARE(window.model()->headerData(1, Qt::Horizontal, Qt::DisplayRole).toString(),
                 u"Bezeichnung"_qs);
        QCOMPARE(window.model()->headerData(2, Qt::Horizontal, Qt::DisplayRole).toString(),
                 u"Protokoll"_qs);

        // No English source string is on screen, whole or as the start of a longer text
        // (the page texts end in the untranslated details from the bus).
        QStringList english;
        for (const Message &m : std::as_const(m_messages))
            if (m.translation != m.source && !m.source.startsWith(u'%'))
                english << m.source.section(u'%', 0, 0);
        const QStringList shown = visibleTexts(window);
        QVERIFY(shown.size() > 20);
        for (const QString &text : shown)
            for (const QString &e : std::as_const(english))
                QVERIFY2(!(text == e || (e.size() > 12 && text.startsWith(e))),
                         qPrintable(u"English on screen: "_qs + text));
    }

private:
    LoadedTranslations m_loaded;
    QList<Message> m_messages;
};

QTEST_MAIN(TestGermanUi)
#include "test_german_ui.moc"
