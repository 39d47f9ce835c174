// SPDX-License-Identifier: GPL-3.0-or-later
// IpForwardingSysctl against a stand-in for /proc/sys: the files it reads and writes, and its
// messages when they are missing or hold something else.
#include "ip_forwarding.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace portico;

namespace {

void put(const QString &path, const QByteArray &data) {
    QVERIFY(QDir().mkpath(path.left(path.lastIndexOf(QLatin1Char('/')))));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write(data);
}

QByteArray get(const QString &path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray("(missing)");
}

} // namespace

class TestIpForwarding : public QObject {
    Q_OBJECT

private slots:
    void readsBothFamilies_data() {
        QTest::addColumn<QByteArray>("v4");
        QTest::addColumn<QByteArray>("v6");
        QTest::addColumn<bool>("on4");
        QTest::addColumn<bool>("on6");
        QTest::newRow("both off") << QByteArray("0\n") << QByteArray("0\n") << false << false;
        QTest::newRow("v4 on") << QByteArray("1\n") << QByteArray("0\n") << true << false;
        QTest::newRow("v6 on") << QByteArray("0\n") << QByteArray("1\n") << false << true;
        QTest::newRow("no newline") << QByteArray("1") << QByteArray("1") << true << true;
    }

    void readsBothFamilies() {
        QFETCH(QByteArray, v4);
        QFETCH(QByteArray, v6);
        QFETCH(bool, on4);
        QFETCH(bool, on6);
        QTemporaryDir dir;
        const IpForwardingSysctl sysctl(dir.path());
        put(sysctl.v4Path(), v4);
        put(sysctl.v6Path(), v6);
        IpForwarding value{!on4, !on6};
        QCOMPARE(sysctl.read(&value), QString());
        QCOMPARE(value.v4, on4);
        QCOMPARE(value.v6, on6);
    }

    void writesOnlyWhatChanges() {
        QTemporaryDir dir;
        const IpForwardingSysctl sysctl(dir.path());
        put(sysctl.v4Path(), "0\n");
        put(sysctl.v6Path(), "1\n"); // no newline would be rewritten; this one must stay
        QCOMPARE(sysctl.write(IpForwarding{true, true}), QString());
        QCOMPARE(get(sysctl.v4Path()), QByteArray("1\n"));
        QCOMPARE(get(sysctl.v6Path()), QByteArray("1\n"));
        QCOMPARE(sysctl.write(IpForwarding{false, false}), QString());
        QCOMPARE(get(sysctl.v4Path()), QByteArray("0\n"));
        QCOMPARE(get(sysctl.v6Path()), QByteArray("0\n"));
    }

    void anUnexpectedValueIsAnError() {
        QTemporaryDir dir;
        const IpForwardingSysctl sysctl(dir.path());
        put(sysctl.v4Path(), "2\n");
        put(sysctl.v6Path(), "0\n");
        IpForwarding value;
        const QString error = sysctl.read(&value);
        QVERIFY2(error.contains(sysctl.v4Path()) && error.contains(QLatin1String("'2'")),
                 qPrintable(error));
    }

    void withoutIpv6ItReadsAsOff() {
        QTemporaryDir dir;
        const IpForwardingSysctl sysctl(dir.path());
        put(sysctl.v4Path(), "1\n");
        IpForwarding value{false, true};
        QCOMPARE(sysctl.read(&value), QString());
        QVERIFY(value.v4 && !value.v6);
        const QString error = sysctl.write(IpForwarding{true, true});
        QVERIFY2(error.contains(sysctl.v6Path()), qPrintable(error));
    }

    void withoutTheFilesItSaysWhichOne() {
        QTemporaryDir dir;
        const IpForwardingSysctl sysctl(dir.path() + QStringLiteral("/nothing"));
        IpForwarding value;
        const QString error = sysctl.read(&value);
        QVERIFY2(error.contains(sysctl.v4Path()), qPrintable(error));
    }
};

QTEST_GUILESS_MAIN(TestIpForwarding)
#include "test_helper_ip_forwarding.moc"
