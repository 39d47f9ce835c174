// SPDX-License-Identifier: GPL-3.0-or-later
// IdleGuard: the helper exits after the timeout without calls, never while a call is pending,
// and never with a timeout of 0.
#include "idle_guard.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTest>

using namespace portico;

class TestIdleGuard : public QObject {
    Q_OBJECT

private slots:
    void firesAfterTheTimeout() {
        IdleGuard guard(1);
        QSignalSpy idle(&guard, &IdleGuard::idle);
        QElapsedTimer t;
        t.start();
        QVERIFY(idle.wait(3000));
        QVERIFY(t.elapsed() >= 900);
    }

    void aCallStartsTheWaitAgain() {
        IdleGuard guard(1);
        QSignalSpy idle(&guard, &IdleGuard::idle);
        QTest::qWait(700);
        guard.touch();
        QTest::qWait(700);
        QCOMPARE(idle.count(), 0);
        QVERIFY(idle.wait(2000));
    }

    void neverWhileACallIsPending() {
        IdleGuard guard(1);
        QSignalSpy idle(&guard, &IdleGuard::idle);
        guard.hold();
        QTest::qWait(1600);
        QCOMPARE(idle.count(), 0);
        QCOMPARE(guard.pending(), 1);
        guard.release();
        QVERIFY(idle.wait(2000));
    }

    void zeroMeansNever() {
        IdleGuard guard(0);
        QSignalSpy idle(&guard, &IdleGuard::idle);
        guard.touch();
        guard.hold();
        guard.release();
        QTest::qWait(1200);
        QCOMPARE(idle.count(), 0);
    }
};

QTEST_GUILESS_MAIN(TestIdleGuard)
#include "test_helper_idle_guard.moc"
