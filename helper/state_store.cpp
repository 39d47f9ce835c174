// SPDX-License-Identifier: GPL-3.0-or-later
// forwards.json: {"schema": 1, "generation": N, "next_mark": M, "ip_forwarding": {...},
// "forwards": [...]}, read and written with plain POSIX calls so that every step of the atomic
// replace (and its failure) is visible.
#include "state_store.h"

#include "serialization.h"
#include "validation.h"

#include <QDateTime>
#include <QDebug>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
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

namespace {

Q_LOGGING_CATEGORY(lcTiming, "portico.helper.timing", QtWarningMsg)

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

QString parseState(const QByteArray &data, SavedState *out) {
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
    for (const Forward &f : std::as_const(state.forwards)) {
        if (f.mark() == 0)
            return QStringLiteral("forward '%1' has no valid id").arg(f.name);
        // Never hand out a mark that is in use, even if next_mark was edited by hand.
        if (f.mark() >= state.nextMark)
            state.nextMark = f.mark() + 1;
    }
    if (ValidationError e = validateForwards(state.forwards); !e.ok())
        return e.message;
    *out = state;
    return {};
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

StateLoad StateStore::load() const {
    StateLoad result;
    // A helper stopped in the middle of a save leaves its temp file behind.
    const QDir dir(m_dir);
    for (const QString &name :
         dir.entryList({QStringLiteral("forwards.json.tmp-*")}, QDir::Files | QDir::Hidden))
        QFile::remove(dir.filePath(name));

    const QByteArray path = QFile::encodeName(filePath());
    const int fd = ::open(path.constData(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT)
            setAside(systemError(errno), &result);
        return result;
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
            setAside(systemError(err), &result);
            return result;
        }
        if (n == 0)
            break;
        data.append(buf, n);
    }
    ::close(fd);
    if (QString reason = parseState(data, &result.state); !reason.isEmpty()) {
        result.state = SavedState();
        setAside(reason, &result);
    }
    return result;
}

QByteArray StateStore::encode(const SavedState &state) const {
    // One forward per line: still easy to read and to diff, and each line can be reused.
    QByteArray out;
    out.reserve(256 + state.forwards.size() * 320);
    out += "{\n    \"schema\": " + QByteArray::number(schemaVersion) + ",\n";
    out += "    \"generation\": " + QByteArray::number(state.generation) + ",\n";
    out += "    \"next_mark\": " + QByteArray::number(state.nextMark) + ",\n";
    if (state.ipForwarding) {
        out += QByteArray("    \"ip_forwarding\": {\"v4\": ") +
               (state.ipForwarding->v4 ? "true" : "false") +
               ", \"v6\": " + (state.ipForwarding->v6 ? "true" : "false") + "},\n";
    }
    out += "    \"forwards\": [";
    bool first = true;
    for (const Forward &f : state.forwards) {
        auto it = m_encoded.find(f.id);
        if (it == m_encoded.end())
            it = m_encoded.insert(f.id, EncodedForward{f, QByteArray()});
        if (it->json.isEmpty() || !(it->forward == f)) {
            it->forward = f;
            it->json = QJsonDocument(forwardToJson(f)).toJson(QJsonDocument::Compact);
        }
        out += first ? "\n        " : ",\n        ";
        out += it->json;
        first = false;
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

QString StateStore::save(const SavedState &state) const {
    if (QString error = makeDir(m_dir); !error.isEmpty())
        return error;

    QElapsedTimer timer;
    timer.start();
    const QByteArray data = encode(state);
    const qint64 encodedNs = timer.nsecsElapsed();

    const QString target = filePath();
    QByteArray temp = QFile::encodeName(target + QStringLiteral(".tmp-XXXXXX"));
    const int fd = ::mkostemp(temp.data(), O_CLOEXEC); // mode 0600
    if (fd < 0)
        return QStringLiteral("cannot create a temporary file in %1: %2")
            .arg(m_dir, systemError(errno));
    auto fail = [&](const QString &what) {
        const int err = errno;
        ::close(fd);
        ::unlink(temp.constData());
        return QStringLiteral("cannot save %1: %2: %3").arg(target, what, systemError(err));
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
        return QStringLiteral("cannot save %1: close: %2").arg(target, systemError(err));
    }
    if (::rename(temp.constData(), QFile::encodeName(target).constData()) != 0) {
        const int err = errno;
        ::unlink(temp.constData());
        return QStringLiteral("cannot save %1: rename: %2").arg(target, systemError(err));
    }
    // The rename is durable only once the directory entry is on disk. The new file is in place
    // already, so a failure here is only worth a warning: calling the save failed would make the
    // caller restore a kernel ruleset that no longer matches the file.
    const int dirFd =
        ::open(QFile::encodeName(m_dir).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirFd < 0 || ::fsync(dirFd) != 0)
        qWarning("cannot sync the directory %s: %s", qPrintable(m_dir), std::strerror(errno));
    if (dirFd >= 0)
        ::close(dirFd);
    qCDebug(lcTiming, "saved %lld bytes: encode %.2f ms, write %.2f ms, sync and rename %.2f ms",
            qlonglong(data.size()), encodedNs / 1e6, (writtenNs - encodedNs) / 1e6,
            (timer.nsecsElapsed() - writtenNs) / 1e6);
    return {};
}

} // namespace portico
