// SPDX-License-Identifier: GPL-3.0-or-later
// StateStore as the helper uses it: forwards.json and its journal, saved and loaded back, and
// what happens to a file that cannot be read.
#include "state_store.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <sys/stat.h>

using namespace portico;

namespace {

// Enough forwards that a change goes to the journal, even after a removal.
constexpr int large = StateStore::journalFromForwards + 10;

Forward forward(int i) {
    Forward f;
    f.id = Forward::idForMark(quint32(i));
    f.name = QStringLiteral("fwd-%1").arg(i);
    f.externalPort = {quint16(10000 + i), quint16(10000 + i)};
    f.targetAddress = QHostAddress(QStringLiteral("198.51.100.10"));
    f.targetPort = {8080, 8080};
    return f;
}

SavedState stateWith(int n) {
    SavedState s;
    s.generation = 1;
    s.nextMark = quint32(n + 1);
    for (int i = 1; i <= n; ++i)
        s.forwards.append(forward(i));
    return s;
}

QByteArray readAll(const QString &path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

void writeAll(const QString &path, const QByteArray &data, QIODevice::OpenMode mode = {}) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly | mode));
    f.write(data);
}

void compareStates(const SavedState &a, const SavedState &b) {
    QCOMPARE(a.generation, b.generation);
    QCOMPARE(a.nextMark, b.nextMark);
    QCOMPARE(a.ipForwarding.has_value(), b.ipForwarding.has_value());
    if (a.ipForwarding)
        QVERIFY(*a.ipForwarding == *b.ipForwarding);
    QCOMPARE(a.forwards.size(), b.forwards.size());
    for (int i = 0; i < a.forwards.size(); ++i)
        QVERIFY2(a.forwards[i] == b.forwards[i], qPrintable(a.forwards[i].name));
}

QStringList corruptFiles(const QString &dir, const QString &prefix) {
    return QDir(dir).entryList({prefix + QStringLiteral(".corrupt-*")}, QDir::Files);
}

} // namespace

class TestStateStore : public QObject {
    Q_OBJECT

private slots:
    void missingFileIsAnEmptyState() {
        QTemporaryDir dir;
        StateStore store(dir.path() + QStringLiteral("/none"));
        const StateLoad loaded = store.load();
        QVERIFY(loaded.report.isEmpty() && loaded.fatal.isEmpty());
        QCOMPARE(loaded.state.generation, quint64(0));
        QCOMPARE(loaded.state.nextMark, quint32(1));
        QVERIFY(!loaded.state.ipForwarding);
        QVERIFY(loaded.state.forwards.isEmpty());
    }

    void whatIsSavedIsLoadedBack() {
        QTemporaryDir dir;
        SavedState state = stateWith(3);
        state.generation = 42;
        state.nextMark = 17;
        state.ipForwarding = IpForwarding{true, false};
        state.forwards[1].enabled = false;
        state.forwards[2].comment = QStringLiteral("a \"quoted\" comment");
        StateStore store(dir.path());
        QCOMPARE(store.save(state), QString());
        StateStore again(dir.path());
        const StateLoad loaded = again.load();
        QVERIFY(loaded.report.isEmpty());
        compareStates(loaded.state, state);
    }

    void theFileIsPrivateAndTheDirIsCreated() {
        QTemporaryDir dir;
        const QString stateDir = dir.path() + QStringLiteral("/a/b");
        StateStore store(stateDir);
        QCOMPARE(store.save(stateWith(1)), QString());
        struct stat st;
        QCOMPARE(::stat(QFile::encodeName(store.filePath()).constData(), &st), 0);
        QCOMPARE(int(st.st_mode & 0777), 0600);
        QCOMPARE(::stat(QFile::encodeName(stateDir).constData(), &st), 0);
        QCOMPARE(int(st.st_mode & 0777), 0700);
        QCOMPARE(QDir(stateDir).entryList(QDir::Files),
                 QStringList{QStringLiteral("forwards.json")});
    }

    void aFileThatCannotBeReadIsSetAside_data() {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("reason");
        QTest::newRow("not JSON") << QByteArray("{\"schema\": 1, \"forwards\": [ {\"name\": \"half")
                                  << QStringLiteral("not valid JSON");
        QTest::newRow("not an object")
            << QByteArray("[1, 2]") << QStringLiteral("not a JSON object");
        QTest::newRow("another schema")
            << QByteArray("{\"schema\": 2, \"forwards\": []}") << QStringLiteral("schema is not 1");
        QTest::newRow("no schema")
            << QByteArray("{\"forwards\": []}") << QStringLiteral("schema is not 1");
        QTest::newRow("a forward without a port")
            << QByteArray("{\"schema\": 1, \"forwards\": [{\"id\": \"f1\", \"name\": \"x\"}]}")
            << QStringLiteral("external port");
        QTest::newRow("a forward without an id")
            << QByteArray("{\"schema\": 1, \"forwards\": [{\"name\": \"x\", \"external_port\": "
                          "\"80\", \"target_address\": \"198.51.100.1\"}]}")
            << QStringLiteral("no valid id");
        QTest::newRow("two forwards with one name")
            << QByteArray("{\"schema\": 1, \"forwards\": [{\"id\": \"f1\", \"name\": \"x\", "
                          "\"external_port\": \"80\", \"target_address\": \"198.51.100.1\"}, "
                          "{\"id\": \"f2\", \"name\": \"x\", \"external_port\": \"81\", "
                          "\"target_address\": \"198.51.100.1\"}]}")
            << QStringLiteral("'x'");
    }

    void aFileThatCannotBeReadIsSetAside() {
        QFETCH(QByteArray, content);
        QFETCH(QString, reason);
        QTemporaryDir dir;
        StateStore store(dir.path());
        writeAll(store.filePath(), content);
        const StateLoad loaded = store.load();
        QVERIFY(loaded.fatal.isEmpty());
        QVERIFY(loaded.state.forwards.isEmpty());
        const QStringList kept = corruptFiles(dir.path(), QStringLiteral("forwards.json"));
        QCOMPARE(kept.size(), 1);
        QCOMPARE(readAll(dir.filePath(kept.first())), content);
        QVERIFY(!QFile::exists(store.filePath()));
        QVERIFY2(loaded.report.contains(store.filePath()), qPrintable(loaded.report));
        QVERIFY2(loaded.report.contains(dir.filePath(kept.first())), qPrintable(loaded.report));
        QVERIFY2(loaded.report.contains(reason), qPrintable(loaded.report));
        // The next save writes a new file and leaves the one set aside alone.
        QCOMPARE(store.save(stateWith(1)), QString());
        QCOMPARE(readAll(dir.filePath(kept.first())), content);
    }

    void aTempFileLeftByACrashIsRemoved() {
        QTemporaryDir dir;
        StateStore store(dir.path());
        QCOMPARE(store.save(stateWith(1)), QString());
        writeAll(store.filePath() + QStringLiteral(".tmp-AbC123"), "half a file");
        QVERIFY(store.load().report.isEmpty());
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files),
                 QStringList{QStringLiteral("forwards.json")});
    }

    void aSmallSetIsAlwaysOneWholeFile() {
        QTemporaryDir dir;
        StateStore store(dir.path());
        SavedState state = stateWith(10);
        QCOMPARE(store.save(state), QString());
        state.forwards.append(forward(11));
        state.generation = 2;
        state.nextMark = 12;
        const StateDelta delta{{forward(11)}, {}};
        QCOMPARE(store.save(state, &delta), QString());
        QVERIFY(!QFile::exists(store.journalPath()));
        StateStore again(dir.path());
        compareStates(again.load().state, state);
    }

    void aLargeSetAppendsChangesToTheJournal() {
        QTemporaryDir dir;
        StateStore store(dir.path());
        SavedState state = stateWith(large);
        QCOMPARE(store.save(state), QString());
        const QByteArray snapshot = readAll(store.filePath());

        Forward changed = state.forwards[5];
        changed.comment = QStringLiteral("changed");
        state.forwards[5] = changed;
        state.generation = 2;
        StateDelta delta{{changed}, {}};
        QCOMPARE(store.save(state, &delta), QString());

        const QString removed = state.forwards[7].id;
        state.forwards.removeAt(7);
        state.generation = 3;
        delta = {{}, {removed}};
        QCOMPARE(store.save(state, &delta), QString());

        const Forward added = forward(large + 1);
        state.forwards.append(added);
        state.generation = 4;
        state.nextMark = quint32(large + 2);
        state.ipForwarding = IpForwarding{true, true};
        delta = {{added}, {}};
        QCOMPARE(store.save(state, &delta), QString());

        QCOMPARE(readAll(store.filePath()), snapshot);
        QCOMPARE(readAll(store.journalPath()).count('\n'), 3);
        StateStore again(dir.path());
        const StateLoad loaded = again.load();
        QVERIFY(loaded.report.isEmpty());
        compareStates(loaded.state, state);
    }

    void aTornLastLineWasNeverSavedAndIsIgnored() {
        QTemporaryDir dir;
        StateStore store(dir.path());
        SavedState state = stateWith(large);
        QCOMPARE(store.save(state), QString());
        state.forwards.append(forward(large + 1));
        state.generation = 2;
        state.nextMark = quint32(large + 2);
        const StateDelta delta{{state.forwards.last()}, {}};
        QCOMPARE(store.save(state, &delta), QString());
        writeAll(store.journalPath(), "{\"base\": 1, \"generation\": 3, \"upsert\": [{\"na",
                 QIODevice::Append);
        StateStore again(dir.path());
        const StateLoad loaded = again.load();
        QVERIFY(loaded.report.isEmpty());
        compareStates(loaded.state, state);
        // The next change rewrites the file, so that nothing is appended after the torn line.
        state.generation = 3;
        const StateDelta nothing;
        QCOMPARE(again.save(state, &nothing), QString());
        QCOMPARE(readAll(again.journalPath()), QByteArray());
        StateStore third(dir.path());
        compareStates(third.load().state, state);
    }

    void linesFromBeforeTheFileWasRewrittenAreSkipped() {
        QTemporaryDir dir;
        StateStore store(dir.path());
        SavedState state = stateWith(large);
        QCOMPARE(store.save(state), QString());
        const QByteArray stale =
            "{\"base\": 1, \"generation\": 9, \"next_mark\": 5, \"remove\": [\"f1\"]}\n";
        writeAll(store.journalPath(), stale);
        StateStore again(dir.path());
        const StateLoad loaded = again.load();
        QVERIFY(loaded.report.isEmpty());
        compareStates(loaded.state, state);
    }

    void aJournalThatCannotBeAppliedIsSetAside() {
        QTemporaryDir dir;
        StateStore store(dir.path());
        SavedState state = stateWith(large);
        state.generation = 5;
        QCOMPARE(store.save(state), QString());
        const QByteArray line("this is not JSON\n");
        writeAll(store.journalPath(), line);
        StateStore again(dir.path());
        const StateLoad loaded = again.load();
        QVERIFY(loaded.fatal.isEmpty());
        compareStates(loaded.state, state);
        const QStringList kept = corruptFiles(dir.path(), QStringLiteral("forwards.journal"));
        QCOMPARE(kept.size(), 1);
        QCOMPARE(readAll(dir.filePath(kept.first())), line);
        QVERIFY2(loaded.report.contains(QStringLiteral("generation 5")), qPrintable(loaded.report));
        QVERIFY(corruptFiles(dir.path(), QStringLiteral("forwards.json")).isEmpty());
    }

    void aWholeSaveFoldsTheJournalIn() {
        QTemporaryDir dir;
        StateStore store(dir.path());
        SavedState state = stateWith(large);
        QCOMPARE(store.save(state), QString());
        state.forwards.removeFirst();
        state.generation = 2;
        const StateDelta delta{{}, {QStringLiteral("f1")}};
        QCOMPARE(store.save(state, &delta), QString());
        QVERIFY(!readAll(store.journalPath()).isEmpty());
        state.forwards.removeFirst();
        state.generation = 3;
        QCOMPARE(store.save(state), QString()); // as ReplaceForwards does
        QCOMPARE(readAll(store.journalPath()), QByteArray());
        StateStore again(dir.path());
        compareStates(again.load().state, state);
    }

    // beginSave(): the file is written beside the kernel batch, and only the save of the same
    // state puts it in place; anything else leaves the old file and no temporary file.
    void anEarlySaveOfTheSameStateIsTheSave() {
        QTemporaryDir dir;
        StateStore store(dir.path());
        QCOMPARE(store.save(stateWith(2)), QString());
        SavedState next = stateWith(5);
        next.generation = 2;
        store.beginSave(next);
        QCOMPARE(store.save(next), QString());
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files),
                 QStringList{QStringLiteral("forwards.json")});
        compareStates(StateStore(dir.path()).load().state, next);
    }

    void aCancelledEarlySaveLeavesTheOldFile() {
        QTemporaryDir dir;
        StateStore store(dir.path());
        QCOMPARE(store.save(stateWith(2)), QString());
        const QByteArray before = readAll(store.filePath());
        SavedState next = stateWith(5);
        next.generation = 2;
        store.beginSave(next);
        store.cancelSave(); // the kernel refused the batch
        QCOMPARE(readAll(store.filePath()), before);
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files),
                 QStringList{QStringLiteral("forwards.json")});
    }

    void anEarlySaveOfAnotherStateIsNotUsed() {
        QTemporaryDir dir;
        StateStore store(dir.path());
        SavedState next = stateWith(5);
        next.generation = 2;
        store.beginSave(next);
        // Forwarding was switched on after the batch: the file must hold that too.
        SavedState actual = next;
        actual.ipForwarding = IpForwarding{true, false};
        QCOMPARE(store.save(actual), QString());
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files),
                 QStringList{QStringLiteral("forwards.json")});
        compareStates(StateStore(dir.path()).load().state, actual);
        // The same header with another list (a copy that was edited) is not the same state.
        store.beginSave(next);
        SavedState edited = next;
        edited.forwards[0].comment = QStringLiteral("edited");
        QCOMPARE(store.save(edited), QString());
        compareStates(StateStore(dir.path()).load().state, edited);
    }
};

QTEST_GUILESS_MAIN(TestStateStore)
#include "test_helper_state_store.moc"
