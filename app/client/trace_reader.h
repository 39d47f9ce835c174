// SPDX-License-Identifier: GPL-3.0-or-later
// Reads the JSON lines of a packet trace (StartTrace) from the read end of its pipe without
// blocking, and hands each step and the end to porticoctl or the GUI.
#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QMetaType>
#include <QObject>
#include <QString>

class QSocketNotifier;

namespace portico {

// One step of one traced packet through one chain, as the helper writes it.
struct TraceStep {
    int packet = 0;    // 1, 2, ... in the order the packets were first seen
    qint64 timeMs = 0; // since the trace started
    QString family;    // of the table: ip, ip6, inet, ...
    QString hook;      // prerouting, input, forward, output, postrouting, ... (may be empty)
    QString table;
    QString chain;
    quint64 handle = 0; // the rule's handle; 0 for a policy or return step
    QString type;       // rule, policy, return
    QString verdict;    // accept, drop, reject, continue, jump, goto, return, queue, ...
    QString target;     // jump/goto: the chain
    QString iif, oif;   // interface names, empty when none
    QString src, dst;   // "203.0.113.2:40000" as the packet looked at that step
    QJsonObject raw;    // the whole line, for keys added later

    static TraceStep fromJson(const QJsonObject &o);
    bool ours() const {
        return family == QLatin1String("inet") && table == QLatin1String("portico");
    }
    // The packet ends here: dropped (or rejected) by this chain's rule or policy.
    bool dropped() const {
        return verdict == QLatin1String("drop") || verdict == QLatin1String("reject");
    }
};

class TraceReader : public QObject {
    Q_OBJECT
public:
    // Takes ownership of `readFd` (closed in the destructor).
    explicit TraceReader(int readFd, QObject *parent = nullptr);
    ~TraceReader() override;

signals:
    void step(const portico::TraceStep &step);
    // reason: "timeout", "stopped", "error", or "closed" when the pipe ended without an end line.
    void ended(const QString &reason, const QString &message);

private:
    void onReadable();
    void line(const QByteArray &text);

    int m_fd;
    QSocketNotifier *m_notifier;
    QByteArray m_buffer;
    bool m_ended = false;
};

} // namespace portico

Q_DECLARE_METATYPE(portico::TraceStep)
