// SPDX-License-Identifier: GPL-3.0-or-later
// conntrack_read: one client of WatchConnections through the client library (HelperClient +
// ConntrackStreamReader), for bench/conntrack_bench.py. Prints one JSON line: when the first
// records arrived and when the snapshot was complete (ms after the call), how many, and with
// --follow SECONDS (it then ends once the stream has been quiet that long) how many snapshots
// (resyncs) came after the first, how long each took, and the size of the view at the end.
// --forward ID watches only that forward's flows.
#include "conntrack_stream_reader.h"
#include "helper_client.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <QTimer>

#include <cstdio>

using namespace portico;

int main(int argc, char **argv) {
    QCoreApplication app(argc, argv);
    QString bus;
    double follow = 0;
    QVariantMap filter; // --forward ID: only that forward's flows (the refresh benchmark)
    const QStringList args = app.arguments();
    for (qsizetype i = 1; i + 1 < args.size(); ++i) {
        if (args[i] == QLatin1String("--bus"))
            bus = args[++i];
        else if (args[i] == QLatin1String("--follow"))
            follow = args[++i].toDouble();
        else if (args[i] == QLatin1String("--forward"))
            filter.insert(QStringLiteral("forward"), args[++i]);
    }
    HelperClient client(bus);
    QElapsedTimer clock;
    clock.start();
    const HelperResult<int> fd = client.watchConnections(filter);
    if (!fd.ok()) {
        std::fprintf(stderr, "conntrack_read: %s\n", qPrintable(fd.error.message));
        return 1;
    }
    const double replyMs = clock.nsecsElapsed() / 1e6;
    ConntrackStreamReader reader(fd.value);
    // The view, as a client would keep it: keyed by id.
    QSet<quint32> view;
    view.reserve(1 << 20);
    double firstMs = -1, endMs = -1, beginMs = 0;
    qsizetype snapshotEntries = 0;
    int snapshots = 0;
    QJsonArray resyncMs;
    QTimer quiet;
    quiet.setSingleShot(true);
    quiet.setInterval(int(follow * 1000));
    QObject::connect(&quiet, &QTimer::timeout, &app, &QCoreApplication::quit);
    QObject::connect(&reader, &ConntrackStreamReader::batchDone, &app, [&]() {
        if (endMs >= 0 && follow > 0)
            quiet.start();
    });
    QObject::connect(&reader, &ConntrackStreamReader::snapshotBegun, &app, [&]() {
        view.clear();
        beginMs = clock.nsecsElapsed() / 1e6;
        ++snapshots;
    });
    QObject::connect(&reader, &ConntrackStreamReader::entriesReceived, &app,
                     [&](const ctstream::EntryRecord *r, qsizetype n) {
                         if (firstMs < 0)
                             firstMs = clock.nsecsElapsed() / 1e6;
                         for (qsizetype i = 0; i < n; ++i)
                             view.insert(r[i].id);
                     });
    QObject::connect(&reader, &ConntrackStreamReader::destroyedReceived, &app,
                     [&](const quint32 *ids, qsizetype n) {
                         for (qsizetype i = 0; i < n; ++i)
                             view.remove(ids[i]);
                     });
    QObject::connect(&reader, &ConntrackStreamReader::snapshotEnded, &app, [&]() {
        const double now = clock.nsecsElapsed() / 1e6;
        if (snapshots == 1) {
            endMs = now;
            snapshotEntries = view.size();
            if (follow <= 0)
                app.quit();
            else
                quiet.start();
        } else {
            resyncMs.append(now - beginMs);
        }
    });
    QObject::connect(&reader, &ConntrackStreamReader::finished, &app, [&](const QString &e) {
        std::fprintf(stderr, "conntrack_read: the stream ended: %s\n", qPrintable(e));
        app.exit(1);
    });
    const int rc = app.exec();
    const QJsonObject out{{QStringLiteral("reply_ms"), replyMs},
                          {QStringLiteral("first_entries_ms"), firstMs},
                          {QStringLiteral("snapshot_ms"), endMs},
                          {QStringLiteral("snapshot_entries"), qint64(snapshotEntries)},
                          {QStringLiteral("resyncs"), snapshots - 1},
                          {QStringLiteral("resync_ms"), resyncMs},
                          {QStringLiteral("final_entries"), qint64(view.size())},
                          {QStringLiteral("bytes"), qint64(reader.bytesRead())}};
    std::printf("%s\n", QJsonDocument(out).toJson(QJsonDocument::Compact).constData());
    return rc;
}
