// SPDX-License-Identifier: GPL-3.0-or-later
// The ctnetlink side of the conntrack view: the filter a client asks for, one ctnetlink message
// turned into a stream record (libnetfilter_conntrack parses it), netlink sockets for dumps and
// events, deleting entries by tuple and id, and the accounting sysctl.
#pragma once

#include "conntrack_stream.h"

#include <QList>
#include <QSet>
#include <QString>
#include <QVariantMap>

#include <functional>

struct mnl_socket;
struct nlmsghdr;
struct nf_conntrack;

namespace portico::conntrack {

// What a client wants to see (WatchConnections) or kill (KillConnections). Every key is
// optional; entries must match all keys given.
struct Filter {
    bool forwarded = false;  // only flows of our forwards
    quint32 forwardMark = 0; // one forward (its mark), 0: any
    QString forwardId;       // as given, for messages
    bool hasAddress = false;
    quint8 addressFamily = 0; // AF_INET / AF_INET6
    quint8 address[16] = {};
    quint16 port = 0;    // 0: any
    quint8 protocol = 0; // 0: any
    QList<quint32> ids;  // KillConnections only; empty: any

    bool isEmpty() const {
        return !forwarded && !forwardMark && !hasAddress && !port && !protocol && ids.isEmpty();
    }
    // `forwardMarks`: the marks of the forwards that exist now.
    bool matches(const ctstream::EntryRecord &e, const QSet<quint32> &forwardMarks) const;
};

// The bits of the conntrack mark that carry the forward's number (the hairpin bit is above).
constexpr quint32 forwardMarkMask = 0x00ffffff;

// Parses and validates a filter a{sv}. Returns an empty string, or the sentence for InvalidArgs.
QString parseFilter(const QVariantMap &map, bool allowIds, Filter *out);
// "tcp" -> IPPROTO_TCP, ...; 0 if unknown. And back ("proto 132" for ones without a name).
quint8 protocolNumber(const QString &name);
QString protocolName(quint8 number);

enum class MessageKind { Other, New, Update, Destroy };

// One ctnetlink conntrack message (dump part or event) into `out`. Returns what the message is,
// Other for anything that is not a conntrack entry (or does not parse). A direct libmnl parser:
// the hot path, a million times per snapshot.
MessageKind parseMessage(const nlmsghdr *nlh, ctstream::EntryRecord *out);
// The same through libnetfilter_conntrack's parser (three times slower here); the unit tests
// hold the two to the same answer.
MessageKind parseMessageNfct(const nlmsghdr *nlh, ctstream::EntryRecord *out);
// The same from an nf_conntrack object the caller has parsed already.
void recordFromConntrack(const nf_conntrack *ct, ctstream::EntryRecord *out);

// A netlink socket: for events (bound to the NEW, UPDATE and DESTROY groups, with a receive
// buffer of `receiveBuffer` bytes forced past rmem_max) or for requests (groups = false).
// Non-blocking. Returns nullptr and sets *error on failure.
mnl_socket *openSocket(bool events, int receiveBuffer, QString *error);
// What a dump asks the kernel to leave out: with a `markMask`, it lists only entries whose
// (ct mark & markMask) == mark (CTA_MARK, CTA_MARK_MASK); with a `statusMask`, only those whose
// (status & statusMask) == status (CTA_STATUS, CTA_STATUS_MASK; a kernel without that filter
// ignores it and lists everything). It skips the others before building their messages.
struct DumpFilter {
    quint32 mark = 0;
    quint32 markMask = 0;
    quint32 status = 0;
    quint32 statusMask = 0;
};

// Sends a dump request for every family; returns its sequence number, or 0 and sets *error.
quint32 requestDump(mnl_socket *nl, QString *error, const DumpFilter &filter = {});

// Dumps the table (blocking), deletes every entry that `filter` matches by its tuple and kernel
// id (so a tuple reused by a newer flow survives), and says how many went. `streamId` gives the
// id the streams show for an entry, which `filter.ids` are. An entry that is gone before its
// delete arrives is not counted. Returns an empty string or an error sentence. It blocks for
// as long as the dump takes (seconds at a million entries) on a socket of its own and touches
// nothing else, so it can run on a thread of its own (ConntrackMonitor::kill does).
QString killMatching(const Filter &filter, const QSet<quint32> &forwardMarks,
                     const std::function<quint32(const ctstream::EntryRecord &)> &streamId,
                     quint32 *killed);

// net.netfilter.nf_conntrack_acct of the helper's namespace. Empty string or an error sentence.
QString readAccounting(bool *on, const QString &procSys = QStringLiteral("/proc/sys"));
QString writeAccounting(bool on, const QString &procSys = QStringLiteral("/proc/sys"));

} // namespace portico::conntrack
