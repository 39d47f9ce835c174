// SPDX-License-Identifier: GPL-3.0-or-later
// common/sealed_file.h: what ImportForwards and ExportForwards take beside the call. Only a
// memfd sealed against writing, shrinking and growing is read; every other descriptor is
// refused at once, without reading (a pipe would block the reader).
#include "sealed_file.h"

#include <QElapsedTimer>
#include <QTemporaryFile>
#include <QTest>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

using namespace portico;

class TestSealedFile : public QObject {
    Q_OBJECT

private slots:
    void whatIsWrittenIsRead_data() {
        QTest::addColumn<QByteArray>("bytes");
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("text") << QByteArray(R"({"schema":1,"forwards":[]})");
        QTest::newRow("3 MiB") << QByteArray(3 << 20, 'x');
    }
    void whatIsWrittenIsRead() {
        QFETCH(QByteArray, bytes);
        QString error;
        const int fd = sealed::create("test", bytes, &error);
        QVERIFY2(fd >= 0, qPrintable(error));
        QByteArray back;
        QCOMPARE(sealed::read(fd, &back), QString());
        QCOMPARE(back, bytes);
        // Sealed for real: the maker cannot change it afterwards either.
        QCOMPARE(::write(fd, "y", 1), ssize_t(-1));
        QCOMPARE(::ftruncate(fd, bytes.size() + 1), -1);
        if (!bytes.isEmpty())
            QCOMPARE(::ftruncate(fd, 0), -1);
        ::close(fd);
    }

    void anUnsealedOrHalfSealedMemfdIsRefused_data() {
        QTest::addColumn<int>("seals");
        QTest::newRow("no seals") << 0;
        QTest::newRow("write only") << int(F_SEAL_WRITE);
        QTest::newRow("no grow seal") << int(F_SEAL_WRITE | F_SEAL_SHRINK);
    }
    void anUnsealedOrHalfSealedMemfdIsRefused() {
        QFETCH(int, seals);
        const int fd = ::memfd_create("test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        QVERIFY(fd >= 0);
        QCOMPARE(::write(fd, "[]", 2), ssize_t(2));
        if (seals)
            QCOMPARE(::fcntl(fd, F_ADD_SEALS, seals), 0);
        QByteArray out("untouched");
        QVERIFY(sealed::read(fd, &out).contains(QLatin1String("sealed against writing")));
        QCOMPARE(out, QByteArray("untouched"));
        ::close(fd);
    }

    void aPipeIsRefusedWithoutWaiting() {
        int fds[2];
        QCOMPARE(::pipe2(fds, O_CLOEXEC), 0);
        QElapsedTimer timer;
        timer.start();
        QByteArray out;
        // Nobody writes: a read would wait forever.
        QVERIFY(sealed::read(fds[0], &out).contains(QLatin1String("memfd")));
        QVERIFY(timer.elapsed() < 1000);
        ::close(fds[0]);
        ::close(fds[1]);
    }

    void aFileOnDiskIsRefused() {
        QTemporaryFile file;
        QVERIFY(file.open());
        file.write("[]");
        file.flush();
        QByteArray out;
        QVERIFY(sealed::read(file.handle(), &out).contains(QLatin1String("memfd")));
    }

    void aFileOverTheLimitIsRefusedUnread() {
        QString error;
        const int fd = sealed::create("test", QByteArray(4096, 'x'), &error);
        QVERIFY(fd >= 0);
        QByteArray out;
        const QString e = sealed::read(fd, &out, 4095);
        QVERIFY2(e.contains(QLatin1String("4096 bytes")), qPrintable(e));
        QVERIFY(out.isEmpty());
        ::close(fd);
    }
};

QTEST_GUILESS_MAIN(TestSealedFile)
#include "test_common_sealed_file.moc"
