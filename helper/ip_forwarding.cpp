// SPDX-License-Identifier: GPL-3.0-or-later
// Reads and writes the forwarding sysctls with plain open/read/write: no shell, no sysctl(8).
#include "ip_forwarding.h"

#include <QFile>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace portico {

namespace {

QString systemError(int err) {
    return QString::fromLocal8Bit(std::strerror(err));
}

QString readFlag(const QString &path, bool *out) {
    const QByteArray p = path.toLocal8Bit();
    const int fd = ::open(p.constData(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return QStringLiteral("cannot read %1: %2").arg(path, systemError(errno));
    char buf[16] = {};
    ssize_t n;
    do {
        n = ::read(fd, buf, sizeof buf - 1);
    } while (n < 0 && errno == EINTR);
    const int err = errno;
    ::close(fd);
    if (n < 0)
        return QStringLiteral("cannot read %1: %2").arg(path, systemError(err));
    const QByteArray text = QByteArray(buf, int(n)).trimmed();
    if (text == "0") {
        *out = false;
        return {};
    }
    if (text == "1") {
        *out = true;
        return {};
    }
    return QStringLiteral("unexpected value '%1' in %2").arg(QString::fromLatin1(text), path);
}

QString writeFlag(const QString &path, bool value) {
    const QByteArray p = path.toLocal8Bit();
    const int fd = ::open(p.constData(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return QStringLiteral("cannot write %1: %2").arg(path, systemError(errno));
    const char *text = value ? "1\n" : "0\n";
    ssize_t n;
    do {
        n = ::write(fd, text, 2);
    } while (n < 0 && errno == EINTR);
    const int err = errno;
    ::close(fd);
    if (n != 2)
        return QStringLiteral("cannot write %1: %2").arg(path, systemError(n < 0 ? err : EIO));
    return {};
}

} // namespace

IpForwardingSysctl::IpForwardingSysctl(const QString &procSys)
    : m_procSys(procSys) {}

QString IpForwardingSysctl::v4Path() const {
    return m_procSys + QStringLiteral("/net/ipv4/ip_forward");
}

QString IpForwardingSysctl::v6Path() const {
    return m_procSys + QStringLiteral("/net/ipv6/conf/all/forwarding");
}

QString IpForwardingSysctl::read(IpForwarding *out) const {
    IpForwarding value;
    QString error = readFlag(v4Path(), &value.v4);
    // A kernel without IPv6 (or booted with ipv6.disable=1) has no such file: it forwards no
    // IPv6, which is what "off" says. Turning it on then fails with a message naming the file.
    if (error.isEmpty() && ::access(QFile::encodeName(v6Path()).constData(), F_OK) == 0)
        error = readFlag(v6Path(), &value.v6);
    if (error.isEmpty())
        *out = value;
    return error;
}

QString IpForwardingSysctl::write(const IpForwarding &value) const {
    // Read first so that a setting that is already right is not rewritten: writing
    // conf/all/forwarding also resets per-interface settings in the kernel.
    IpForwarding current;
    const bool known = read(&current).isEmpty();
    if (!known || current.v4 != value.v4) {
        if (QString error = writeFlag(v4Path(), value.v4); !error.isEmpty())
            return error;
    }
    if (!known || current.v6 != value.v6) {
        if (QString error = writeFlag(v6Path(), value.v6); !error.isEmpty())
            return error;
    }
    return {};
}

} // namespace portico
