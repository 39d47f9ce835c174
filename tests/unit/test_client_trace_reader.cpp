// SPDX-License-Identifier: GPL-3.0-or-later
// TraceReader on a real pipe: lines split across writes, a step's fields, the end line, and a
// pipe closed without one.
#include "trace_reader.h"

#include <QSignalSpy>
#include <QTest>

#include <fcntl.h>
#include <unistd.h>

using namespace portico;

class TestClientTraceReader : public QObject {
    Q_OBJECT
private slots:
    void stepsAndTheEnd();
    void closedWithoutAnEndLine();
};

namespace {

void put(int fd, const QByteArray &bytes) {
    QCOMPARE(write(fd, bytes.constData(), size_t(bytes.size())), ssize_t(bytes.size()));
}

} // namespace

void TestClientTraceReader::stepsAndTheEnd() {
    int fds[2];
    QCOMPARE(pipe2(fds, O_CLOEXEC), 0);
    TraceReader reader(fds[0]);
    QSignalSpy steps(&reader, &TraceReader::step);
    QSignalSpy ended(&reader, &TraceReader::ended);
    const QByteArray step =
        R"({"packet":2,"time_ms":16,"family":"inet","hook":"forward","table":"firewalld",)"
        R"("chain":"filter_FORWARD","handle":0,"type":"policy","verdict":"drop","iif":"wan0",)"
        R"("oif":"br0","src":"203.0.113.10:40000","dst":"198.51.100.10:8080"})"
        "\n";
    put(fds[1], step.left(40)); // half a line: nothing yet
    QTest::qWait(50);
    QCOMPARE(steps.size(), 0);
    put(fds[1], step.mid(40) + R"({"end":"timeout","message":"after 5 seconds"})"
                               "\n");
    QTRY_COMPARE(ended.size(), 1);
    QCOMPARE(steps.size(), 1);
    const TraceStep s = steps.at(0).at(0).value<TraceStep>();
    QCOMPARE(s.packet, 2);
    QCOMPARE(s.timeMs, 16);
    QCOMPARE(s.hook, QStringLiteral("forward"));
    QCOMPARE(s.table, QStringLiteral("firewalld"));
    QCOMPARE(s.chain, QStringLiteral("filter_FORWARD"));
    QCOMPARE(s.type, QStringLiteral("policy"));
    QVERIFY(s.dropped());
    QVERIFY(!s.ours());
    QCOMPARE(s.iif, QStringLiteral("wan0"));
    QCOMPARE(s.dst, QStringLiteral("198.51.100.10:8080"));
    QCOMPARE(ended.at(0).at(0).toString(), QStringLiteral("timeout"));
    QCOMPARE(ended.at(0).at(1).toString(), QStringLiteral("after 5 seconds"));
    close(fds[1]);
    QTest::qWait(50);
    QCOMPARE(ended.size(), 1); // the end of the file after the end line says nothing more
}

void TestClientTraceReader::closedWithoutAnEndLine() {
    int fds[2];
    QCOMPARE(pipe2(fds, O_CLOEXEC), 0);
    TraceReader reader(fds[0]);
    QSignalSpy ended(&reader, &TraceReader::ended);
    close(fds[1]);
    QTRY_COMPARE(ended.size(), 1);
    QCOMPARE(ended.at(0).at(0).toString(), QStringLiteral("closed"));
}

QTEST_GUILESS_MAIN(TestClientTraceReader)
#include "test_client_trace_reader.moc"
