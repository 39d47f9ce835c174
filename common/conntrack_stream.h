// SPDX-License-Identifier: GPL-3.0-or-later
// The binary record stream that carries conntrack entries from the helper to a client, through
// a pipe whose write end the client passed over D-Bus (WatchConnections). The bus is too slow
// for hundreds of thousands of entries; a pipe of fixed-size records is not, and it hands the
// client no netlink socket (no CAP_NET_ADMIN). Both ends run on one machine, so integers are
// in host byte order; addresses are in network byte order, as the kernel gives them.
#pragma once

#include <QtGlobal>

namespace portico::ctstream {

// The first frame of every stream is Hello, whose payload is this magic and the version.
constexpr quint32 magic = 0x31544350; // "PCT1"
constexpr quint32 version = 1;

enum class FrameType : quint32 {
    Hello = 1,     // payload: HelloPayload
    Begin = 2,     // a full snapshot follows: the client drops every entry it holds
    Entries = 3,   // payload: N × EntryRecord, each new or updated (keyed by id); also the
                   // counter refresh's records (docs/dbus-api.md, "Live counters")
    Destroyed = 4, // payload: N × quint32 conntrack ids that are gone
    End = 5,       // the snapshot begun by Begin is complete
    Tick = 6,      // the end of one batch of deltas (sent about every 100 ms when there were any)
    Forwards = 7,  // payload: UTF-8 JSON array [{"mark": n, "id": "...", "name": "..."}]
    Notice = 8,    // payload: UTF-8 text for the person, e.g. that accounting is off
};

struct FrameHeader {
    FrameType type;
    quint32 length; // payload bytes after this header; the helper keeps it a multiple of 8 (text
                    // padded with spaces, an odd Destroyed count repeats its last id)
};
static_assert(sizeof(FrameHeader) == 8);

struct HelloPayload {
    quint32 magic;
    quint32 version;
    quint32 entrySize; // sizeof(EntryRecord), so that a mismatch is detected, not misread
    quint32 flags;     // bit 0: per-flow accounting (nf_conntrack_acct) is on
};
static_assert(sizeof(HelloPayload) == 16);

constexpr quint32 helloAccounting = 1u << 0;

// One conntrack entry. "orig" is the tuple as the client sent it; "reply" is the tuple the
// answer comes back with, so for a DNATed flow replySrc:replySport is where the forward sent it.
// Counters are 0 in records of the kernel's new and update events, which carry none: a reader
// keeps what it has (they only grow); the snapshot and the helper's counter refresh carry them.
struct EntryRecord {
    quint64 origPackets;
    quint64 origBytes;
    quint64 replyPackets;
    quint64 replyBytes;
    quint64 startMs; // wall-clock ms: the kernel's start stamp, or when the helper first saw it
    quint32 id;      // the kernel's conntrack id; unique among the stream's live entries (the
                     // kernel's 32-bit ids collide in big tables: then the helper gives the later
                     // flow a substitute, which KillConnections takes too; docs/dbus-api.md)
    quint32 status;  // IPS_* bits (ASSURED, SEEN_REPLY, DST_NAT, ...)
    quint32 mark;    // the conntrack mark; our rules set it to the forward's number
    quint32 timeout; // seconds left when the record was sent
    quint8 family;   // AF_INET or AF_INET6
    quint8 protocol; // IPPROTO_TCP, IPPROTO_UDP, ...
    quint8 tcpState; // the kernel's TCP_CONNTRACK_* value; 0xff when not TCP
    quint8 reserved;
    quint16 origSport;
    quint16 origDport;
    quint16 replySport;
    quint16 replyDport;
    quint8 origSrc[16]; // IPv4 in the first 4 bytes
    quint8 origDst[16];
    quint8 replySrc[16];
    quint8 replyDst[16];
    quint32 padding; // keeps the size a multiple of 8, so records in a frame stay aligned
};
static_assert(sizeof(EntryRecord) == 136);

constexpr quint8 noTcpState = 0xff;

} // namespace portico::ctstream
