// SPDX-License-Identifier: GPL-3.0-or-later
#include "sealed_file.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace portico::sealed {

namespace {

constexpr int requiredSeals = F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW;

QString systemError(int err) {
    return QString::fromLocal8Bit(std::strerror(err));
}

} // namespace

int create(const char *name, const QByteArray &bytes, QString *error) {
    const int fd = ::memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) {
        *error = QStringLiteral("cannot make a memory file: %1").arg(systemError(errno));
        return -1;
    }
    const char *p = bytes.constData();
    qsizetype left = bytes.size();
    while (left > 0) {
        const ssize_t n = ::write(fd, p, size_t(left));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            *error = QStringLiteral("cannot fill a memory file: %1").arg(systemError(errno));
            ::close(fd);
            return -1;
        }
        p += n;
        left -= n;
    }
    if (::fcntl(fd, F_ADD_SEALS, requiredSeals | F_SEAL_SEAL) != 0) {
        *error = QStringLiteral("cannot seal a memory file: %1").arg(systemError(errno));
        ::close(fd);
        return -1;
    }
    return fd;
}

QString read(int fd, QByteArray *out, qint64 limit) {
    // Seals exist only on memory files (memfd, shmem), so this one test refuses pipes, sockets,
    // devices and files on disk alike, before anything could block on them.
    const int seals = ::fcntl(fd, F_GET_SEALS);
    if (seals < 0 || (seals & requiredSeals) != requiredSeals)
        return QStringLiteral("the file descriptor must be a memfd sealed against writing, "
                              "shrinking and growing (F_SEAL_WRITE, F_SEAL_SHRINK, F_SEAL_GROW)");
    struct stat st;
    if (::fstat(fd, &st) != 0)
        return QStringLiteral("cannot read the passed file: %1").arg(systemError(errno));
    if (st.st_size > limit)
        return QStringLiteral("the passed file holds %1 bytes, more than the limit of %2")
            .arg(st.st_size)
            .arg(limit >= (1 << 20) ? QStringLiteral("%1 MiB").arg(limit >> 20)
                                    : QStringLiteral("%1 bytes").arg(limit));
    QByteArray bytes(qsizetype(st.st_size), Qt::Uninitialized);
    qint64 done = 0;
    while (done < st.st_size) {
        // pread: the descriptor's offset is shared with the sender's copy of it.
        const ssize_t n = ::pread(fd, bytes.data() + done, size_t(st.st_size - done), done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return QStringLiteral("cannot read the passed file: %1").arg(systemError(errno));
        if (n == 0)
            break; // cannot happen with F_SEAL_SHRINK; stop rather than spin
        done += n;
    }
    bytes.truncate(qsizetype(done));
    *out = std::move(bytes);
    return {};
}

} // namespace portico::sealed
