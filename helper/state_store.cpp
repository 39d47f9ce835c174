// SPDX-License-Identifier: GPL-3.0-or-later
// forwards.json: {"schema": 1, "generation": N, "next_mark": M, "ip_forwarding": {...},
// "snapshot": S, "forwards": [...]}, and forwards.journal: one JSON object per line, {"base": S,
// "generation": N, "next_mark": M, "ip_forwarding": {...}, "upsert": [...],
// "remove": [ids]}. Read and written with plain POSIX calls so that every step of the atomic
// replace and of the append (and its failure) is visible.
//
// Why a journal: rewriting and syncing forwards.json costs time in proportion to the number of
// forwards (about 0.5 s at 100,000), an appended line does not. S counts the rewrites of
// forwards.json; lines whose base is not its S are left over from before the last rewrite and
// are skipped; a
// torn last line (no newline: the helper died while writing it) was never acknowledged.
#include "state_store.h"

#include "serialization.h"
#include "timing.h"
#include "validation.h"

#include <QDateTime>
#include <QDebug>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QSet>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace portico {

Q_LOGGING_CATEGORY(lcTiming, "portico.helper.timing", QtWarningMsg)

namespace {

constexpr quint32 maxMark = 0xffffff;

QString systemError(int err) {
    return QString::fromLocal8Bit(std::strerror(err));
}

// Creates dir and its missing parents, the ones we create with mode 0700.
QString makeDir(const QString &dir) {
    struct stat st;
    const QByteArray path = QFile::encodeName(dir);
    if (::stat(path.constData(), &st) == 0)
        return S_ISDIR(st.st_mode) ? QString() : QStringLiteral("%1 is not a directory").arg(dir);
    const int slash = dir.lastIndexOf(QLatin1Char('/'));
    if (slash > 0) {
        if (QString error = makeDir(dir.left(slash)); !error.isEmpty())
            return error;
    }
    if (::mkdir(path.constData(), 0700) != 0 && errno != EEXIST)
        return QStringLiteral("cannot create the state directory %1: %2")
            .arg(dir, systemError(errno));
    return {};
}

bool writeAll(int fd, const QByteArray &data) {
    const char *p = data.constData();
    qsizetype left = data.size();
    while (left > 0) {
        const ssize_t n = ::write(fd, p, size_t(left));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        p += n;
        left -= n;
    }
    return true;
}

QString parseState(const QByteArray &data, SavedState *out, quint64 *snapshotId) {
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(data, &parseError);
    if (parseError.error != QJsonParseError::NoError)
        return QStringLiteral("it is not valid JSON (%1 at offset %2)")
            .arg(parseError.errorString())
            .arg(parseError.offset);
    if (!doc.isObject())
        return QStringLiteral("it is not a JSON object");
    const QJsonObject root = doc.object();
    const QJsonValue schema = root.value(QLatin1String("schema"));
    if (!schema.isDouble() || schema.toDouble() != StateStore::schemaVersion)
        return QStringLiteral("its schema is not %1").arg(StateStore::schemaVersion);

    SavedState state;
    *snapshotId = quint64(root.value(QLatin1String("snapshot")).toDouble(0));
    const QJsonValue generation = root.value(QLatin1String("generation"));
    if (!generation.isUndefined()) {
        if (!generation.isDouble() || generation.toDouble() < 0)
            return QStringLiteral("'generation' is not a non-negative number");
        state.generation = quint64(generation.toDouble());
    }
    const QJsonValue nextMark = root.value(QLatin1String("next_mark"));
    if (!nextMark.isUndefined()) {
        if (!nextMark.isDouble() || nextMark.toDouble() < 1 || nextMark.toDouble() > maxMark + 1.0)
            return QStringLiteral("'next_mark' is not a number from 1 to %1").arg(maxMark + 1);
        state.nextMark = quint32(nextMark.toDouble());
    }
    const QJsonValue ipForwarding = root.value(QLatin1String("ip_forwarding"));
    if (!ipForwarding.isUndefined() && !ipForwarding.isNull()) {
        const QJsonObject o = ipForwarding.toObject();
        if (!ipForwarding.isObject() || !o.value(QLatin1String("v4")).isBool() ||
            !o.value(QLatin1String("v6")).isBool())
            return QStringLiteral("'ip_forwarding' is not {\"v4\": bool, \"v6\": bool}");
        state.ipForwarding = IpForwarding{o.value(QLatin1String("v4")).toBool(),
                                          o.value(QLatin1String("v6")).toBool()};
    }
    const QJsonValue forwards = root.value(QLatin1String("forwards"));
    if (!forwards.isUndefined()) {
        if (!forwards.isArray())
            return QStringLiteral("'forwards' is not an array");
        if (ValidationError e = forwardsFromJson(forwards.toArray(), &state.forwards); !e.ok())
            return e.message;
    }
    *out = state;
    return {};
}

// What every loaded state must be, whether it came from forwards.json alone or with the journal.
QString checkState(SavedState *state) {
    for (const Forward &f : std::as_const(state->forwards)) {
        if (f.mark() == 0)
            return QStringLiteral("forward '%1' has no valid id").arg(f.name);
        // Never hand out a mark that is in use, even if next_mark was edited by hand.
        if (f.mark() >= state->nextMark)
            state->nextMark = f.mark() + 1;
    }
    if (ValidationError e = validateForwards(state->forwards); !e.ok())
        return e.message;
    return {};
}

QString readFile(const QString &path, QByteArray *out, bool *missing) {
    *missing = false;
    const int fd = ::open(QFile::encodeName(path).constData(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *missing = errno == ENOENT;
        return systemError(errno);
    }
    QByteArray data;
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            const int err = errno;
            ::close(fd);
            return systemError(err);
        }
        if (n == 0)
            break;
        data.append(buf, n);
    }
    ::close(fd);
    *out = data;
    return {};
}

struct Replay {
    int applied = 0;
    bool dirty = false; // stale or torn lines seen
};

// Applies the journal lines that belong to `state` (the contents of forwards.json).
QString replayJournal(const QByteArray &data, quint64 base, SavedState *state, Replay *replay) {
    QHash<QString, qsizetype> index;
    index.reserve(state->forwards.size());
    for (qsizetype i = 0; i < state->forwards.size(); ++i)
        index.insert(state->forwards[i].id, i);
    QList<bool> removed(state->forwards.size(), false);

    qsizetype pos = 0;
    int lineNumber = 0;
    while (pos < data.size()) {
        const qsizetype end = data.indexOf('\n', pos);
        ++lineNumber;
        if (end < 0) { // torn: never acknowledged
            replay->dirty = true;
            break;
        }
        const QByteArray line = data.mid(pos, end - pos);
        pos = end + 1;
        QJsonParseError parseError;
        const QJsonDocument doc = QJsonDocument::fromJson(line, &parseError);
        const QJsonObject o = doc.object();
        if (parseError.error != QJsonParseError::NoError || !doc.isObject() ||
            !o.value(QLatin1String("base")).isDouble() ||
            !o.value(QLatin1String("generation")).isDouble() ||
            !o.value(QLatin1String("next_mark")).isDouble())
            return QStringLiteral("line %1 is not a journal entry").arg(lineNumber);
        if (quint64(o.value(QLatin1String("base")).toDouble()) != base) {
            replay->dirty = true; // from before forwards.json was last written
            continue;
        }
        const quint64 generation = quint64(o.value(QLatin1String("generation")).toDouble());
        if (generation < state->generation)
            return QStringLiteral("line %1 goes back to generation %2")
                .arg(lineNumber)
                .arg(generation);
        state->generation = generation;
        const double nextMark = o.value(QLatin1String("next_mark")).toDouble();
        if (nextMark < 1 || nextMark > maxMark + 1.0)
            return QStringLiteral("line %1 has a bad next_mark").arg(lineNumber);
        state->nextMark = quint32(nextMark);
        const QJsonValue ip = o.value(QLatin1String("ip_forwarding"));
        if (ip.isObject()) {
            const QJsonObject io = ip.toObject();
            if (!io.value(QLatin1String("v4")).isBool() || !io.value(QLatin1String("v6")).isBool())
                return QStringLiteral("line %1 has a bad ip_forwarding").arg(lineNumber);
            state->ipForwarding = IpForwarding{io.value(QLatin1String("v4")).toBool(),
                                               io.value(QLatin1String("v6")).toBool()};
        }
        for (const QJsonValue &id : o.value(QLatin1String("remove")).toArray()) {
            const auto it = index.constFind(id.toString());
            if (it == index.cend())
                return QStringLiteral("line %1 removes the unknown forward '%2'")
                    .arg(lineNumber)
                    .arg(id.toString());
            removed[*it] = true;
            index.erase(it);
        }
        QList<Forward> upserted;
        if (ValidationError e =
                forwardsFromJson(o.value(QLatin1String("upsert")).toArray(), &upserted);
            !e.ok())
            return QStringLiteral("line %1: %2").arg(lineNumber).arg(e.message);
        for (const Forward &f : std::as_const(upserted)) {
            const auto it = index.constFind(f.id);
            if (it != index.cend()) {
                state->forwards[*it] = f;
            } else {
                index.insert(f.id, state->forwards.size());
                state->forwards.append(f);
                removed.append(false);
            }
        }
        ++replay->applied;
    }
    if (removed.contains(true)) {
        QList<Forward> kept;
        kept.reserve(index.size());
        for (qsizetype i = 0; i < state->forwards.size(); ++i) {
            if (!removed[i])
                kept.append(state->forwards[i]);
        }
        state->forwards = kept;
    }
    return {};
}

QByteArray stringsJson(const QStringList &strings) {
    QByteArray bytes;
    {
        JsonOut out(bytes, 2 + strings.size() * 16);
        out.put("[");
        for (qsizetype i = 0; i < strings.size(); ++i) {
            if (i > 0)
                out.put(",");
            out.string(strings[i]);
        }
        out.put("]");
    }
    return bytes;
}

QByteArray ipForwardingJson(const std::optional<IpForwarding> &ip) {
    return QByteArray("{\"v4\": ") + (ip->v4 ? "true" : "false") +
           ", \"v6\": " + (ip->v6 ? "true" : "false") + "}";
}

void syncDir(const QString &dir) {
    const int dirFd =
        ::open(QFile::encodeName(dir).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirFd < 0 || ::fsync(dirFd) != 0)
        qWarning("cannot sync the directory %s: %s", qPrintable(dir), std::strerror(errno));
    if (dirFd >= 0)
        ::close(dirFd);
}

} // namespace

StateStore::StateStore(const QString &dir)
    : m_dir(dir) {
    while (m_dir.size() > 1 && m_dir.endsWith(QLatin1Char('/')))
        m_dir.chop(1);
}

QString StateStore::filePath() const {
    return m_dir + QStringLiteral("/forwards.json");
}

QString StateStore::journalPath() const {
    return m_dir + QStringLiteral("/forwards.journal");
}

QString StateStore::setJournalAside(const QString &reason, quint64 generation,
                                    StateLoad *result) const {
    const QString stamp =
        QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMddTHHmmss"));
    QString aside = journalPath() + QStringLiteral(".corrupt-") + stamp;
    for (int i = 1; QFile::exists(aside); ++i)
        aside = journalPath() + QStringLiteral(".corrupt-") + stamp + QLatin1Char('-') +
                QString::number(i);
    if (::rename(QFile::encodeName(journalPath()).constData(),
                 QFile::encodeName(aside).constData()) != 0) {
        result->fatal =
            QStringLiteral("The journal of saved changes %1 could not be read (%2), and it could "
                           "not be set aside as %3: %4. Fix or move it by hand.")
                .arg(journalPath(), reason, aside, systemError(errno));
        return result->fatal;
    }
    result->report =
        QStringLiteral("The journal of saved changes %1 could not be read (%2); it was kept as %3 "
                       "and Portico continues with the forwards of %4 (generation %5).")
            .arg(journalPath(), reason, aside, filePath())
            .arg(generation);
    return result->report;
}

QString StateStore::setAside(const QString &reason, StateLoad *result) const {
    const QString stamp =
        QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMddTHHmmss"));
    QString aside = filePath() + QStringLiteral(".corrupt-") + stamp;
    for (int i = 1; QFile::exists(aside); ++i)
        aside = filePath() + QStringLiteral(".corrupt-") + stamp + QLatin1Char('-') +
                QString::number(i);
    if (::rename(QFile::encodeName(filePath()).constData(), QFile::encodeName(aside).constData()) !=
        0) {
        result->fatal =
            QStringLiteral("The saved state %1 could not be read (%2), and it could not "
                           "be set aside as %3: %4. Fix or move it by hand.")
                .arg(filePath(), reason, aside, systemError(errno));
        return result->fatal;
    }
    result->report = QStringLiteral("The saved state %1 could not be read (%2); it was kept as %3 "
                                    "and Portico continues with no forwards.")
                         .arg(filePath(), reason, aside);
    return result->report;
}

StateLoad StateStore::load() {
    StateLoad result;
    m_haveSnapshot = false;
    m_snapshotId = 0;
    m_snapshotBytes = m_journalBytes = 0;
    m_journalEntries = 0;
    m_journalDirty = false;
    m_encoded.clear();
    // A helper stopped in the middle of a save leaves its temp file behind.
    const QDir dir(m_dir);
    for (const QString &name :
         dir.entryList({QStringLiteral("forwards.json.tmp-*")}, QDir::Files | QDir::Hidden))
        QFile::remove(dir.filePath(name));

    QByteArray data;
    bool missing = false;
    if (QString error = readFile(filePath(), &data, &missing); !error.isEmpty()) {
        if (!missing)
            setAside(error, &result);
        // A journal without the file it applies to is meaningless; keep it for a person.
        if (QFile::exists(journalPath())) {
            StateLoad journal;
            setJournalAside(QStringLiteral("there is no forwards.json it belongs to"), 0, &journal);
            if (!journal.fatal.isEmpty())
                result.fatal = journal.fatal;
            else if (result.report.isEmpty())
                result.report = journal.report;
        }
        return result;
    }
    SavedState snapshot;
    quint64 snapshotId = 0;
    QString reason = parseState(data, &snapshot, &snapshotId);
    SavedState state = snapshot;
    bool checked = false;
    if (reason.isEmpty() && QFile::exists(journalPath())) {
        QByteArray journal;
        Replay replay;
        QString journalError = readFile(journalPath(), &journal, &missing);
        if (journalError.isEmpty())
            journalError = replayJournal(journal, snapshotId, &state, &replay);
        if (journalError.isEmpty())
            journalError = checkState(&state);
        if (!journalError.isEmpty()) {
            // forwards.json itself may be fine: go on from it, without the journal.
            state = snapshot;
            setJournalAside(journalError, snapshot.generation, &result);
            if (!result.fatal.isEmpty())
                return result;
            m_journalDirty = true;
        } else {
            checked = true;
            m_journalBytes = journal.size();
            m_journalEntries = replay.applied;
            m_journalDirty = replay.dirty;
        }
    }
    if (reason.isEmpty() && !checked)
        reason = checkState(&state);
    if (!reason.isEmpty()) {
        setAside(reason, &result);
        // Its journal goes with it: its lines mean nothing without it.
        if (result.fatal.isEmpty() && QFile::exists(journalPath())) {
            StateLoad journal;
            setJournalAside(QStringLiteral("the forwards.json it belongs to was set aside"), 0,
                            &journal);
            result.fatal = journal.fatal;
        }
        return result;
    }
    result.state = state;
    m_haveSnapshot = true;
    m_snapshotId = snapshotId;
    m_snapshotBytes = data.size();
    return result;
}

QByteArray StateStore::encode(const SavedState &state, quint64 snapshotId, bool wholeSet) const {
    // One forward per line: still easy to read and to diff, and each line can be reused.
    QByteArray out;
    out.reserve(256 + state.forwards.size() * 320);
    out += "{\n    \"schema\": " + QByteArray::number(schemaVersion) + ",\n";
    out += "    \"generation\": " + QByteArray::number(state.generation) + ",\n";
    out += "    \"next_mark\": " + QByteArray::number(state.nextMark) + ",\n";
    out += "    \"snapshot\": " + QByteArray::number(snapshotId) + ",\n";
    if (state.ipForwarding) {
        out += QByteArray("    \"ip_forwarding\": {\"v4\": ") +
               (state.ipForwarding->v4 ? "true" : "false") +
               ", \"v6\": " + (state.ipForwarding->v6 ? "true" : "false") + "},\n";
    }
    out += "    \"forwards\": [";
    // The cache pays off when a set is written again with few changes (a fold of the journal, a
    // small set). A whole new set (ReplaceForwards hands out new ids) is written straight out,
    // which costs a third of filling the cache, and empties it; the next write fills it.
    const bool direct = wholeSet;
    bool first = true;
    if (direct) {
        m_encoded.clear();
        JsonOut json(out, state.forwards.size() * 320);
        for (const Forward &f : state.forwards) {
            if (!first)
                json.put(",");
            json.put("\n        ");
            appendForwardJson(json, f);
            first = false;
        }
    } else {
        for (const Forward &f : state.forwards) {
            auto it = m_encoded.find(f.id);
            if (it == m_encoded.end())
                it = m_encoded.insert(f.id, EncodedForward{f, QByteArray()});
            if (it->json.isEmpty() || !(it->forward == f)) {
                it->forward = f;
                it->json = forwardJsonText(f);
            }
            out += first ? "\n        " : ",\n        ";
            out += it->json;
            first = false;
        }
    }
    out += first ? "]\n}\n" : "\n    ]\n}\n";
    // Drop the entries of removed forwards now and then, not on every save.
    if (m_encoded.size() > 2 * state.forwards.size() + 64) {
        QSet<QString> live;
        for (const Forward &f : state.forwards)
            live.insert(f.id);
        m_encoded.removeIf([&](const auto &entry) { return !live.contains(entry.key()); });
    }
    return out;
}

QString StateStore::save(const SavedState &state, const StateDelta *delta) {
    if (QString error = makeDir(m_dir); !error.isEmpty())
        return error;
    const bool journal = delta && m_haveSnapshot && !m_journalDirty &&
                         state.forwards.size() >= journalFromForwards && m_journalEntries < 4096 &&
                         m_journalBytes < m_snapshotBytes / 2;
    if (Snapshot early; !delta && takeEarlySave(state, &early))
        return install(early);
    return journal ? appendJournal(state, *delta) : writeSnapshot(state, delta == nullptr);
}

QString StateStore::appendJournal(const SavedState &state, const StateDelta &delta) {
    QElapsedTimer timer;
    timer.start();
    QByteArray line = "{\"base\": " + QByteArray::number(m_snapshotId) +
                      ", \"generation\": " + QByteArray::number(state.generation) +
                      ", \"next_mark\": " + QByteArray::number(state.nextMark);
    if (state.ipForwarding)
        line += ", \"ip_forwarding\": " + ipForwardingJson(state.ipForwarding);
    if (!delta.removed.isEmpty())
        line += ", \"remove\": " + stringsJson(delta.removed);
    if (!delta.upserted.isEmpty())
        line += ", \"upsert\": " + forwardsJsonText(delta.upserted);
    line += "}\n";

    const QString path = journalPath();
    const bool created = !QFile::exists(path);
    const int fd = ::open(QFile::encodeName(path).constData(),
                          O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return QStringLiteral("cannot save %1: %2").arg(path, systemError(errno));
    struct stat st;
    const off_t before = ::fstat(fd, &st) == 0 ? st.st_size : -1;
    if (before < 0 || !writeAll(fd, line) || ::fdatasync(fd) != 0) {
        const int err = errno;
        // Take the line back, so that the caller's "not saved" stays true. If even that fails,
        // the next save rewrites forwards.json, which makes the journal stale.
        if (before < 0 || ::ftruncate(fd, before) != 0 || ::fdatasync(fd) != 0)
            m_journalDirty = true;
        ::close(fd);
        return QStringLiteral("cannot save %1: %2").arg(path, systemError(err));
    }
    ::close(fd);
    if (created)
        syncDir(m_dir);
    m_journalBytes = before + line.size();
    ++m_journalEntries;
    qCDebug(lcTiming, "journal: appended %lld bytes in %.2f ms", qlonglong(line.size()),
            timer.nsecsElapsed() / 1e6);
    return {};
}

StateStore::Snapshot StateStore::writeTemp(const SavedState &state, quint64 snapshotId,
                                           bool wholeSet) const {
    Snapshot out;
    out.id = snapshotId;
    QElapsedTimer timer;
    timer.start();
    const QByteArray data = encode(state, snapshotId, wholeSet);
    out.bytes = data.size();
    const qint64 encodedNs = timer.nsecsElapsed();

    const QString target = filePath();
    QByteArray temp = QFile::encodeName(target + QStringLiteral(".tmp-XXXXXX"));
    const int fd = ::mkostemp(temp.data(), O_CLOEXEC); // mode 0600
    if (fd < 0) {
        out.error = QStringLiteral("cannot create a temporary file in %1: %2")
                        .arg(m_dir, systemError(errno));
        return out;
    }
    auto fail = [&](const QString &what) {
        const int err = errno;
        ::close(fd);
        ::unlink(temp.constData());
        out.error = QStringLiteral("cannot save %1: %2: %3").arg(target, what, systemError(err));
        return out;
    };
    if (::fchmod(fd, 0600) != 0)
        return fail(QStringLiteral("chmod"));
    if (!writeAll(fd, data))
        return fail(QStringLiteral("write"));
    const qint64 writtenNs = timer.nsecsElapsed();
    if (::fsync(fd) != 0)
        return fail(QStringLiteral("fsync"));
    if (::close(fd) != 0) {
        const int err = errno;
        ::unlink(temp.constData());
        out.error = QStringLiteral("cannot save %1: close: %2").arg(target, systemError(err));
        return out;
    }
    out.tempPath = temp;
    qCDebug(lcTiming, "wrote %lld bytes: encode %.2f ms, write %.2f ms, sync %.2f ms",
            qlonglong(data.size()), encodedNs / 1e6, (writtenNs - encodedNs) / 1e6,
            (timer.nsecsElapsed() - writtenNs) / 1e6);
    return out;
}

QString StateStore::install(const Snapshot &snapshot) {
    if (!snapshot.error.isEmpty())
        return snapshot.error;
    const QString target = filePath();
    if (::rename(snapshot.tempPath.constData(), QFile::encodeName(target).constData()) != 0) {
        const int err = errno;
        ::unlink(snapshot.tempPath.constData());
        return QStringLiteral("cannot save %1: rename: %2").arg(target, systemError(err));
    }
    // The journal's lines are about the old forwards.json now (their base says so): drop them.
    // The rename is durable only once the directory entry is on disk. The new file is in place
    // already, so a failure here is only worth a warning: calling the save failed would make the
    // caller restore a kernel ruleset that no longer matches the file.
    // Truncated rather than removed, so that the next append need not create it (and sync the
    // dir); if this fails, the stale lines are skipped anyway.
    if (const int jfd = ::open(QFile::encodeName(journalPath()).constData(), O_WRONLY | O_CLOEXEC);
        jfd >= 0) {
        if (::ftruncate(jfd, 0) != 0)
            qWarning("cannot empty %s: %s", qPrintable(journalPath()), std::strerror(errno));
        ::close(jfd);
    }
    syncDir(m_dir);
    m_haveSnapshot = true;
    m_snapshotId = snapshot.id;
    m_snapshotBytes = snapshot.bytes;
    m_journalBytes = 0;
    m_journalEntries = 0;
    m_journalDirty = false;
    return {};
}

quint64 StateStore::nextSnapshotId() const {
    // Ids from the clock, so that lines of a journal from an older chain (a forwards.json set
    // aside, a state dir copied around) can never match a new forwards.json.
    return qMax(m_snapshotId + 1, quint64(QDateTime::currentMSecsSinceEpoch()));
}

QString StateStore::writeSnapshot(const SavedState &state, bool wholeSet) {
    return install(writeTemp(state, nextSnapshotId(), wholeSet));
}

void StateStore::beginSave(const SavedState &state) {
    cancelSave();
    m_early.state = state; // shares the forwards' data: no copy
    const quint64 id = nextSnapshotId();
    m_early.file =
        std::async(std::launch::async, [this, state, id] { return writeTemp(state, id, true); });
}

void StateStore::cancelSave() {
    if (!m_early.file.valid())
        return;
    const Snapshot snapshot = m_early.file.get();
    if (!snapshot.tempPath.isEmpty())
        ::unlink(snapshot.tempPath.constData());
    m_early.state = SavedState();
}

bool StateStore::takeEarlySave(const SavedState &state, Snapshot *out) {
    if (!m_early.file.valid())
        return false;
    const SavedState &e = m_early.state;
    // The same list object (the forwards were swapped in, not copied) and the same header.
    const bool same = e.generation == state.generation && e.nextMark == state.nextMark &&
                      e.ipForwarding == state.ipForwarding &&
                      e.forwards.size() == state.forwards.size() &&
                      e.forwards.constData() == state.forwards.constData();
    if (!same) {
        cancelSave();
        return false;
    }
    *out = m_early.file.get();
    m_early.state = SavedState();
    return true;
}

} // namespace portico
