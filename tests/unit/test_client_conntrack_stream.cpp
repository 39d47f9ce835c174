// SPDX-License-Identifier: GPL-3.0-or-later
// The conntrack stream reader (issue 4) fed the helper's frames: through a real pipe and in
// every cut (a byte at a time, odd sizes, whole), records handed out in order and aligned, and
// each way a stream can be wrong (no Hello, another version, another record size, a torn
// frame, a frame too big) reported as an error rather than misread.
#include "conntrack_stream_reader.h"

#include <QTest>

#include <cstring>
#include <fcntl.h>
#include <unistd.h>

using namespace portico;
using namespace portico::ctstream;

namespace {

void frame(QByteArray *out, FrameType type, const void *data = nullptr, quint32 size = 0) {
    const FrameHeader h{type, size};
    out->append(reinterpret_cast<const char *>(&h), sizeof h);
    if (size)
        out->append(static_cast<const char *>(data), size);
}

QByteArray hello(quint32 version = ctstream::version, quint32 entrySize = sizeof(EntryRecord),
                 quint32 flags = helloAccounting) {
    const HelloPayload p{magic, version, entrySize, flags};
    QByteArray out;
    frame(&out, FrameType::Hello, &p, sizeof p);
    return out;
}

EntryRecord entry(quint32 id) {
    EntryRecord e{};
    e.id = id;
    e.family = 2;
    e.protocol = 6;
    e.origSport = quint16(1000 + id);
    e.origPackets = id * 10;
    return e;
}

// A whole stream: Hello, Forwards, a Notice of odd length (so that the frames after it are not
// 8-aligned and the reader must cope), Begin, two Entries frames, End, a delta batch.
QByteArray sampleStream() {
    QByteArray s = hello();
    const QByteArray fwd = R"([{"mark":3,"id":"f3","name":"web"}])";
    frame(&s, FrameType::Forwards, fwd.constData(), quint32(fwd.size()));
    const QByteArray note = "counters are off";
    frame(&s, FrameType::Notice, note.constData(), quint32(note.size()) - 1); // odd: 15 bytes
    frame(&s, FrameType::Begin);
    EntryRecord batch[3] = {entry(1), entry(2), entry(3)};
    frame(&s, FrameType::Entries, batch, sizeof batch);
    EntryRecord more[1] = {entry(4)};
    frame(&s, FrameType::Entries, more, sizeof more);
    frame(&s, FrameType::End);
    EntryRecord update[1] = {entry(2)};
    update[0].origPackets = 99;
    frame(&s, FrameType::Entries, update, sizeof update);
    const quint32 gone[2] = {1, 3};
    frame(&s, FrameType::Destroyed, gone, sizeof gone);
    frame(&s, FrameType::Tick);
    return s;
}

// What the reader emitted, as text, so that one comparison checks the order too.
struct Log {
    QStringList events;
    bool misaligned = false;
    QString error;
    bool finished = false;

    void attach(ConntrackStreamReader *r) {
        QObject::connect(r, &ConntrackStreamReader::helloReceived, r, [this](quint32 v, quint32 f) {
            events << QStringLiteral("hello %1 %2").arg(v).arg(f);
        });
        QObject::connect(
            r, &ConntrackStreamReader::forwardsReceived, r,
            [this](const QList<ConntrackForward> &l) {
                for (const auto &f : l)
                    events << QStringLiteral("forward %1 %2 %3").arg(f.mark).arg(f.id, f.name);
            });
        QObject::connect(r, &ConntrackStreamReader::noticeReceived, r,
                         [this](const QString &t) { events << QStringLiteral("notice ") + t; });
        QObject::connect(r, &ConntrackStreamReader::snapshotBegun, r,
                         [this]() { events << QStringLiteral("begin"); });
        QObject::connect(r, &ConntrackStreamReader::snapshotEnded, r,
                         [this]() { events << QStringLiteral("end"); });
        QObject::connect(r, &ConntrackStreamReader::tickReceived, r,
                         [this]() { events << QStringLiteral("tick"); });
        QObject::connect(
            r, &ConntrackStreamReader::entriesReceived, r,
            [this](const EntryRecord *rec, qsizetype n) {
                if (reinterpret_cast<quintptr>(rec) % alignof(EntryRecord))
                    misaligned = true;
                for (qsizetype i = 0; i < n; ++i)
                    events << QStringLiteral("entry %1 %2").arg(rec[i].id).arg(rec[i].origPackets);
            });
        QObject::connect(r, &ConntrackStreamReader::destroyedReceived, r,
                         [this](const quint32 *ids, qsizetype n) {
                             for (qsizetype i = 0; i < n; ++i)
                                 events << QStringLiteral("gone %1").arg(ids[i]);
                         });
        QObject::connect(r, &ConntrackStreamReader::finished, r, [this](const QString &e) {
            finished = true;
            error = e;
        });
    }
};

const QStringList expected = {
    QStringLiteral("hello 1 1"),
    QStringLiteral("forward 3 f3 web"),
    QStringLiteral("notice counters are of"),
    QStringLiteral("begin"),
    QStringLiteral("entry 1 10"),
    QStringLiteral("entry 2 20"),
    QStringLiteral("entry 3 30"),
    QStringLiteral("entry 4 40"),
    QStringLiteral("end"),
    QStringLiteral("entry 2 99"),
    QStringLiteral("gone 1"),
    QStringLiteral("gone 3"),
    QStringLiteral("tick"),
};

} // namespace

class TestClientConntrackStream : public QObject {
    Q_OBJECT
private slots:
    void cutAnywhere_data() {
        QTest::addColumn<int>("chunk");
        for (int c : {1, 3, 8, 136, 137, 4096, 1 << 20})
            QTest::newRow(qPrintable(QString::number(c))) << c;
    }
    void cutAnywhere() {
        QFETCH(int, chunk);
        const QByteArray s = sampleStream();
        ConntrackStreamReader reader(-1);
        Log log;
        log.attach(&reader);
        for (qsizetype at = 0; at < s.size(); at += chunk)
            QVERIFY(reader.feed(s.constData() + at, std::min<qsizetype>(chunk, s.size() - at)));
        QCOMPARE(log.events, expected);
        QVERIFY(!log.misaligned);
        QVERIFY(reader.accounting());
        QVERIFY(!reader.inSnapshot());
    }

    void throughAPipe() {
        int fds[2];
        QVERIFY(pipe2(fds, O_CLOEXEC) == 0);
        ConntrackStreamReader reader(fds[0]);
        Log log;
        log.attach(&reader);
        const QByteArray s = sampleStream();
        QCOMPARE(::write(fds[1], s.constData(), size_t(s.size())), ssize_t(s.size()));
        QVERIFY(reader.readAvailable());
        QCOMPARE(log.events, expected);
        QVERIFY(!log.finished);
        ::close(fds[1]); // the helper ends the stream
        QVERIFY(!reader.readAvailable());
        QVERIFY(log.finished);
        QCOMPARE(log.error, QString());
        QVERIFY(!reader.isOpen());
    }

    void aBigSnapshotThroughAPipe() {
        // More than the reader's buffer in one frame, read while it is written.
        int fds[2];
        QVERIFY(pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0);
        ConntrackStreamReader reader(fds[0]);
        qsizetype seen = 0;
        quint32 next = 0;
        bool inOrder = true;
        QObject::connect(&reader, &ConntrackStreamReader::entriesReceived, &reader,
                         [&](const EntryRecord *r, qsizetype n) {
                             for (qsizetype i = 0; i < n; ++i)
                                 inOrder = inOrder && r[i].id == next++;
                             seen += n;
                         });
        std::vector<EntryRecord> records(20000);
        for (quint32 i = 0; i < records.size(); ++i)
            records[i] = entry(i);
        QByteArray s = hello();
        frame(&s, FrameType::Begin);
        frame(&s, FrameType::Entries, records.data(),
              quint32(records.size() * sizeof(EntryRecord)));
        frame(&s, FrameType::End);
        qsizetype written = 0;
        while (written < s.size()) {
            const ssize_t n = ::write(fds[1], s.constData() + written, size_t(s.size() - written));
            if (n > 0)
                written += n;
            QVERIFY(reader.readAvailable());
        }
        QVERIFY(reader.readAvailable());
        QCOMPARE(seen, qsizetype(records.size()));
        QVERIFY(inOrder);
        ::close(fds[1]);
    }

    void wrongStreams_data() {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("error");
        QByteArray noHello;
        frame(&noHello, FrameType::Begin);
        QTest::newRow("no hello") << noHello << QStringLiteral("does not start with a Hello");
        QTest::newRow("version 2") << hello(2) << QStringLiteral("version 2");
        QTest::newRow("record size")
            << hello(ctstream::version, 128) << QStringLiteral("128 bytes");
        QByteArray badMagic = hello();
        badMagic[8] = 'X';
        QTest::newRow("magic") << badMagic << QStringLiteral("magic");
        QByteArray torn = hello();
        const char junk[100] = {};
        frame(&torn, FrameType::Entries, junk, sizeof junk);
        QTest::newRow("entries not whole") << torn << QStringLiteral("not a whole number");
        QByteArray huge = hello();
        frame(&huge, FrameType::Entries);
        const quint32 tooBig = ConntrackStreamReader::maxPayload + 8;
        std::memcpy(huge.data() + huge.size() - 4, &tooBig, 4);
        QTest::newRow("frame too big") << huge << QStringLiteral("more than this client accepts");
        QByteArray badJson = hello();
        frame(&badJson, FrameType::Forwards, "{", 1);
        QTest::newRow("forwards not json") << badJson << QStringLiteral("not a JSON array");
    }
    void wrongStreams() {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, error);
        ConntrackStreamReader reader(-1);
        Log log;
        log.attach(&reader);
        QVERIFY(!reader.feed(bytes.constData(), bytes.size()));
        QVERIFY(log.finished);
        QVERIFY2(log.error.contains(error), qPrintable(log.error));
        QVERIFY(!reader.feed(bytes.constData(), bytes.size())); // and it stays failed
    }

    void endInTheMiddleOfAFrame() {
        int fds[2];
        QVERIFY(pipe2(fds, O_CLOEXEC) == 0);
        ConntrackStreamReader reader(fds[0]);
        Log log;
        log.attach(&reader);
        const QByteArray s = sampleStream();
        QCOMPARE(::write(fds[1], s.constData(), 50), ssize_t(50));
        ::close(fds[1]);
        QVERIFY(!reader.readAvailable());
        QVERIFY(log.error.contains(QStringLiteral("middle of a frame")));
    }

    void unknownFrameTypesAreSkipped() {
        QByteArray s = hello();
        const char future[8] = {1, 2, 3, 4, 5, 6, 7, 8};
        frame(&s, FrameType(99), future, sizeof future);
        frame(&s, FrameType::Tick);
        ConntrackStreamReader reader(-1);
        Log log;
        log.attach(&reader);
        QVERIFY(reader.feed(s.constData(), s.size()));
        QCOMPARE(log.events, (QStringList{QStringLiteral("hello 1 1"), QStringLiteral("tick")}));
    }
};

QTEST_GUILESS_MAIN(TestClientConntrackStream)
#include "test_client_conntrack_stream.moc"
