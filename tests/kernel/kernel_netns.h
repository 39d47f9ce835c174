// SPDX-License-Identifier: GPL-3.0-or-later
// The network namespace of one kernel test of issue 5 (the reader, the trace): made, entered by
// the test's thread for the lifetime of the object, and left and deleted on every path out.
#pragma once

#include <QProcess>
#include <QString>
#include <QStringList>
#include <QTest>

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

namespace portico::kerneltest {

inline QString run(const QString &program, const QStringList &args, int *exitCode = nullptr,
                   const QByteArray &input = {}) {
    QProcess p;
    p.start(program, args);
    p.waitForStarted();
    if (!input.isEmpty())
        p.write(input);
    p.closeWriteChannel();
    p.waitForFinished(60000);
    if (exitCode)
        *exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    return QString::fromUtf8(p.readAllStandardOutput() + p.readAllStandardError());
}

inline ino_t netnsInode(const char *path) {
    struct stat st {};
    return stat(path, &st) == 0 ? st.st_ino : 0;
}

// As in test_ruleset_kernel.cpp.
class Netns {
public:
    Netns() {
        static int counter = 0;
        m_name = QStringLiteral("portico-rr-%1-%2").arg(getpid()).arg(++counter);
        m_home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        int rc = -1;
        run(QStringLiteral("ip"), {QStringLiteral("netns"), QStringLiteral("add"), m_name}, &rc);
        if (rc != 0 || m_home < 0)
            return;
        m_added = true;
        const QByteArray path = "/run/netns/" + m_name.toLatin1();
        const int fd = open(path.constData(), O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return;
        const bool entered = setns(fd, CLONE_NEWNET) == 0;
        close(fd);
        m_entered = entered && netnsInode("/proc/thread-self/ns/net") == netnsInode(path) &&
                    netnsInode("/proc/thread-self/ns/net") != netnsInode("/proc/1/ns/net");
    }
    ~Netns() {
        if (m_home >= 0) {
            setns(m_home, CLONE_NEWNET);
            close(m_home);
        }
        if (m_added)
            run(QStringLiteral("ip"), {QStringLiteral("netns"), QStringLiteral("delete"), m_name});
    }
    bool ok() const { return m_entered; }
    int exec(const QString &program, const QStringList &args, const QByteArray &input = {},
             QString *output = nullptr) const {
        int rc = -1;
        const QString out = run(
            QStringLiteral("ip"),
            QStringList{QStringLiteral("netns"), QStringLiteral("exec"), m_name, program} + args,
            &rc, input);
        if (output)
            *output = out;
        return rc;
    }
    int load(const QByteArray &text, QString *output = nullptr) const {
        return exec(QStringLiteral("nft"), {QStringLiteral("-f"), QStringLiteral("-")}, text,
                    output);
    }

private:
    QString m_name;
    int m_home = -1;
    bool m_added = false;
    bool m_entered = false;
};

#define ENTER_NETNS(ns)                                                                            \
    Netns ns;                                                                                      \
    QVERIFY2(ns.ok(), "could not enter a network namespace of our own; refusing to go on")

} // namespace portico::kerneltest
