// SPDX-License-Identifier: GPL-3.0-or-later
// One running packet trace of one forward: the two nftrace chains it adds to our table, the
// NFNLGRP_NFTRACE listener, the JSON lines it writes to the client's pipe, and its end (time
// limit, StopTrace, the client leaving or not reading) after which the chains are gone again.
#pragma once

#include "forward.h"
#include "ruleset_reader.h"
#include "ruleset_writer.h"

#include <QElapsedTimer>
#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QSet>
#include <QTimer>

#include <memory>

struct mnl_socket;
struct nlmsghdr;
class QSocketNotifier;

namespace portico {

class PacketTrace : public QObject {
    Q_OBJECT
public:
    static constexpr int defaultSeconds = 30;
    static constexpr int maxSeconds = 60;
    // More packets than anyone reads in a list: the trace ends there rather than flood the pipe.
    static constexpr int maxPackets = 1000;
    // Running at once, over all clients (one each).
    static constexpr int maxTraces = 16;

    // `pipeFd` is the write end of the client's pipe; the trace owns it from here on.
    PacketTrace(RulesetWriter *writer, quint64 id, const QString &owner, int pipeFd,
                const Forward &forward, int seconds, QObject *parent = nullptr);
    ~PacketTrace() override;

    // Opens the listener, then adds the chains. Returns an empty string or the error (then
    // nothing was added).
    QString start();
    // Writes the end line, removes the chains, closes the pipe; emits finished() once.
    // reason: "timeout", "stopped" or "error".
    void stop(const QString &reason, const QString &message = {});
    // Our table was written anew (a change of the forwards that replaced it whole): the chains
    // went with it, so they are added again.
    void tableRewritten();

    quint64 id() const { return m_id; }
    QString owner() const { return m_owner; }
    bool running() const { return m_running; }
    // The names of this trace's chains, "trace<id>_pre" and "trace<id>_out".
    const RulesetWriter::TraceChains &chains() const { return m_chains; }

    // Chains of traces that a killed helper left in our table (a trace that ends removes its
    // own): deleted at start. Returns how many, or -1 with *error.
    static int removeLeftovers(RulesetWriter *writer, QString *error);

    // One NFT_MSG_TRACE event as a JSON object of the contract, without the packet number,
    // time and hook that only the running trace knows; *traceId is the kernel's packet id.
    static bool parseEvent(const nlmsghdr *nlh, QJsonObject *out, quint32 *traceId);

signals:
    void finished(quint64 id);

private:
    void onReadable();
    void drain();
    void onWritable();
    void handle(const nlmsghdr *nlh);
    void write(const QJsonObject &line);
    QString hookOf(const QString &family, const QString &table, const QString &chain);
    bool chainsPresent(); // either of this trace's chains is in the kernel

    RulesetWriter *m_writer;
    RulesetReader m_reader;
    RulesetSnapshot m_snapshot;
    quint64 m_id;
    QString m_owner;
    int m_pipe;
    Forward m_forward;
    int m_seconds;
    RulesetWriter::TraceChains m_chains;

    mnl_socket *m_nl = nullptr;
    QSocketNotifier *m_readNotifier = nullptr;
    QSocketNotifier *m_writeNotifier = nullptr;
    QTimer m_timer;
    QElapsedTimer m_clock;
    bool m_running = false;
    bool m_ending = false;
    bool m_installed = false;
    bool m_lost = false;         // the kernel dropped events (receive buffer overrun)
    bool m_limitReached = false; // maxPackets
    bool m_pipeGone = false;     // the client closed its end
    QByteArray m_pending;        // lines the pipe did not take yet

    struct Packet {
        int number = 0;
        QString lastHook;
        bool inTraceChain = false; // no step since our chain: its further events are the same pass
    };
    QHash<quint32, Packet> m_packets; // by the kernel's trace id
    QSet<QString> m_unknownChains;    // not in the ruleset even after reading it again
    int m_packetCount = 0;
};

} // namespace portico
