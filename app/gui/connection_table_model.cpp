// SPDX-License-Identifier: GPL-3.0-or-later
// The Connections table model: raw entries in fixed-size chunks, a Robin Hood id index, the
// sorted index and its per-interval merge in place, the filter compiled to raw comparisons, and
// the signal plan that turns one interval's changes into exact signals for a row or two, else
// into at most one insert, one layout change and one remove; the staged flush (a re-sort in
// steps) for a batch that moves too many rows for one event-loop turn.
#include "connection_table_model.h"

#include "forward_table_model.h"

#include <QBitArray>
#include <QDateTime>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QtEndian>

#include <algorithm>
#include <array>
#include <bitset>
#include <cstring>
#include <netinet/in.h>

namespace portico {

using ctstream::EntryRecord;
using ctstream::FrameType;

namespace {

// The kernel's IPS_* bits (linux/netfilter/nf_conntrack_common.h), by name, as conntrack prints
// them.
struct FlagName {
    quint16 bit;
    const char *name;
};
constexpr FlagName flagNames[] = {
    {1u << 2, "ASSURED"},  {1u << 1, "SEEN_REPLY"},     {1u << 5, "DNAT"},
    {1u << 4, "SNAT"},     {1u << 0, "EXPECTED"},       {1u << 6, "SEQ_ADJUST"},
    {1u << 9, "DYING"},    {1u << 10, "FIXED_TIMEOUT"}, {1u << 13, "HELPER"},
    {1u << 14, "OFFLOAD"}, {1u << 15, "HW_OFFLOAD"},
};
constexpr quint16 seenReplyBit = 1u << 1;
constexpr quint16 assuredBit = 1u << 2;
constexpr quint16 dstNatBit = 1u << 5;

// TCP_CONNTRACK_* names, then the pseudo states of protocols without a state machine.
constexpr const char *stateNames[] = {
    "NONE",        "SYN_SENT", "SYN_RECV",  "ESTABLISHED", "FIN_WAIT", "CLOSE_WAIT", "LAST_ACK",
    "TIME_WAIT",   "CLOSE",    "SYN_SENT2", "MAX",         "IGNORE",   "RETRANS",    "UNACK",
    "TIMEOUT_MAX", "?",        "UNREPLIED", "REPLIED",     "ASSURED",
};
constexpr int tcpEstablished = 3;
constexpr int stateCount = int(std::size(stateNames));

constexpr quint64 counterMax = (quint64(1) << 48) - 1;

// Empties a vector and gives its memory back (`v = {}` would keep the capacity).
template <typename T> void freeVector(std::vector<T> &v) {
    std::vector<T>().swap(v);
}

bool hasPorts(int protocol) {
    return protocol == IPPROTO_TCP || protocol == IPPROTO_UDP || protocol == IPPROTO_SCTP ||
           protocol == IPPROTO_UDPLITE || protocol == IPPROTO_DCCP;
}

} // namespace

// 72 bytes per connection. Counters are kept in 48 bits each (256 TiB, 2^48 packets), IPv4
// addresses in place, IPv6 addresses in a side table that addr[0] points into. The rate keeps
// 9 significant bits (within 0.2%, about the jitter of the sampling itself), and the time of its
// sample 24 bits of milliseconds (4.6 hours), plenty for the 2 minutes after which a rate counts
// as stale; together 4 bytes less, 5% of an entry.
struct ConnectionTableModel::Entry {
    quint32 c[6]; // per direction: bytes (48 bits) and packets (48 bits)
    quint32 id;
    quint32 addr[4];        // origSrc, origDst, replySrc, replyDst (network order), or the v6 slot
    quint16 port[4];        // origSport, origDport, replySport, replyDport (host order)
    quint32 expiresAt;      // model clock, seconds
    qint32 startAt;         // wall clock, seconds after the model's epoch (negative: before it)
    quint32 sampledAt : 24; // model clock, ms, modulo 2^24: when the counters were last taken
    quint32 protocol : 8;
    quint16 rateBits; // bytes per second, both directions: the top 16 of a float's 31 bits
    quint16 status;   // IPS_* bits
    quint16 slot;     // the forward slot of the mark
    quint8 bits;      // bit 7: IPv6; bits 0–3: TCP state, 15 when none
    quint8 flags;     // Flag bits

    enum Flag : quint8 {
        Fresh = 1, // received since the last flush, not yet in the index
        Moved = 2, // its sort key or filter result changed since the last flush
        Dead = 4,  // destroyed; leaves the index at the next flush
        Seen = 32, // in the snapshot being loaded (a resync drops the unseen)
        Free = 64, // an unused slot of the store
    };

    static constexpr quint32 sampleMask = (1u << 24) - 1;

    bool isV6() const { return bits & 0x80; }
    // Milliseconds from the last sample to `nowMs` (the model clock), modulo 2^24.
    quint32 sinceSample(quint32 nowMs) const { return (nowMs - sampledAt) & sampleMask; }
    float rate() const {
        const quint32 b = quint32(rateBits) << 15;
        float f;
        std::memcpy(&f, &b, 4);
        return f;
    }
    void setRate(float f) {
        quint32 b;
        std::memcpy(&b, &f, 4);
        // Rounded to the nearest; a carry into the exponent is right, one into infinity is
        // kept at the largest finite value.
        rateBits = quint16(std::min<quint32>((b + (1u << 14)) >> 15, 0xfeff));
    }
    int tcpState() const { return bits & 0x0f; }
    bool isTcp() const { return (bits & 0x0f) != 0x0f; }
    quint64 bytes(int d) const { return c[3 * d] | (quint64(c[3 * d + 1] & 0xffff) << 32); }
    quint64 packets(int d) const { return (c[3 * d + 1] >> 16) | (quint64(c[3 * d + 2]) << 16); }
    void setCounters(int d, quint64 b, quint64 p) {
        b = std::min(b, counterMax);
        p = std::min(p, counterMax);
        c[3 * d] = quint32(b);
        c[3 * d + 1] = quint32((b >> 32) & 0xffff) | quint32((p & 0xffff) << 16);
        c[3 * d + 2] = quint32(p >> 16);
    }
    int stateCode() const {
        if (isTcp())
            return tcpState();
        return (status & assuredBit) ? 18 : (status & seenReplyBit) ? 17 : 16;
    }
    bool established() const {
        return isTcp() ? tcpState() == tcpEstablished : (status & seenReplyBit) != 0;
    }
};

// Entries in chunks of 1024, so that growing never copies and never doubles the memory, and the
// last chunk's unused part stays under 72 KiB (0.7 bytes an entry at 100,000); slots of destroyed
// entries are reused.
struct ConnectionTableModel::EntryStore {
    static constexpr int shift = 10;
    static constexpr quint32 chunkSize = 1u << shift;
    std::vector<std::unique_ptr<Entry[]>> chunks;
    quint32 used = 0; // high-water mark of slots
    std::vector<quint32> freeSlots;
    std::vector<std::array<quint8, 64>> v6; // four addresses of one IPv6 entry
    std::vector<quint32> v6Free;

    Entry &at(quint32 i) { return chunks[i >> shift][i & (chunkSize - 1)]; }
    const Entry &at(quint32 i) const { return chunks[i >> shift][i & (chunkSize - 1)]; }
    quint32 allocate() {
        if (!freeSlots.empty()) {
            const quint32 i = freeSlots.back();
            freeSlots.pop_back();
            return i;
        }
        if ((used >> shift) >= chunks.size())
            chunks.emplace_back(new Entry[chunkSize]);
        return used++;
    }
    void release(quint32 i) {
        Entry &e = at(i);
        if (e.isV6()) {
            v6Free.push_back(e.addr[0]);
        }
        e.flags = Entry::Free;
        freeSlots.push_back(i);
    }
    quint32 allocateV6() {
        if (!v6Free.empty()) {
            const quint32 i = v6Free.back();
            v6Free.pop_back();
            return i;
        }
        v6.emplace_back();
        return quint32(v6.size() - 1);
    }
    // Address `which` (0–3) of `e` as bytes: 4 for IPv4, 16 for IPv6.
    const quint8 *address(const Entry &e, int which) const {
        if (e.isV6())
            return v6[e.addr[0]].data() + 16 * which;
        return reinterpret_cast<const quint8 *>(&e.addr[which]);
    }
    void clear() {
        chunks.clear();
        used = 0;
        freeVector(freeSlots);
        freeVector(v6);
        freeVector(v6Free);
    }
    qsizetype bytes() const {
        return qsizetype(chunks.size()) * chunkSize * sizeof(Entry) +
               qsizetype(freeSlots.capacity()) * 4 + qsizetype(v6.capacity()) * 64 +
               qsizetype(v6Free.capacity()) * 4 + qsizetype(chunks.capacity()) * 8;
    }
};

// id → entry slot: Robin Hood linear probing. A bucket holds the slot + 1 (0: empty) in its low
// 25 bits and its distance from its home bucket in the 7 above, so that inserting and erasing
// move buckets without reading the entries, and a lookup reads only the entries that share its
// home. That keeps the table up to 7/8 full, and its size is not a power of two (the home is the
// hash scaled to the size): it grows by half, 4.6–6.9 bytes per entry instead of the 5.3–10.7 of
// a doubling table at most 3/4 full. Growing rebuilds it from the store in storage order.
struct ConnectionTableModel::IdIndex {
    static constexpr int slotBits = 25;
    static constexpr quint32 slotMask = (1u << slotBits) - 1;
    static constexpr quint32 maxDistance = (1u << (32 - slotBits)) - 1;
    static constexpr quint32 maxSlots = slotMask - 1; // slot + 1 must fit
    std::vector<quint32> buckets;
    qsizetype count = 0;

    quint32 home(quint32 id) const {
        const quint32 h = quint32((quint64(id) * 0x9E3779B97F4A7C15ull) >> 32);
        return quint32((quint64(h) * buckets.size()) >> 32);
    }
    quint32 next(quint32 b) const { return b + 1 == buckets.size() ? 0 : b + 1; }

    // The bucket holding `id`, or -1.
    qint64 bucketOf(const EntryStore &store, quint32 id) const {
        if (count == 0)
            return -1;
        quint32 b = home(id);
        for (quint32 d = 0;; ++d, b = next(b)) {
            const quint32 v = buckets[b];
            if (v == 0 || (v >> slotBits) < d)
                return -1; // a Robin Hood table would have put it here
            if ((v >> slotBits) == d && store.at((v & slotMask) - 1).id == id)
                return b;
        }
    }
    qint64 find(const EntryStore &store, quint32 id) const {
        const qint64 b = bucketOf(store, id);
        return b < 0 ? -1 : qint64(buckets[size_t(b)] & slotMask) - 1;
    }
    // Adds `slot`, whose entry holds `id` and is not in the index yet.
    void insert(const EntryStore &store, quint32 id, quint32 slot) {
        if ((count + 1) * 8 > qsizetype(buckets.size()) * 7) {
            rebuild(store, buckets.size() * 3 / 2, count + 1); // takes in the new entry too
            return;
        }
        quint32 cur = slot + 1;
        quint32 d = 0;
        for (quint32 b = home(id);; b = next(b), ++d) {
            if (d > maxDistance) {
                // Too far from home: a bigger table, rebuilt from the store, holds everything
                // (the entry being carried along included).
                rebuild(store, buckets.size() * 3 / 2, count + 1);
                return;
            }
            const quint32 v = buckets[b];
            if (v == 0) {
                buckets[b] = (d << slotBits) | cur;
                ++count;
                return;
            }
            if ((v >> slotBits) < d) {
                buckets[b] = (d << slotBits) | cur;
                cur = v & slotMask;
                d = v >> slotBits;
            }
        }
    }
    void erase(const EntryStore &store, quint32 id) {
        const qint64 found = bucketOf(store, id);
        if (found < 0)
            return;
        // Backward shift: the run after it moves one closer to home.
        quint32 b = quint32(found);
        for (quint32 j = next(b); buckets[j] != 0 && (buckets[j] >> slotBits) > 0;
             b = j, j = next(j))
            buckets[b] = buckets[j] - (1u << slotBits);
        buckets[b] = 0;
        --count;
    }
    // Every indexed entry of the store (not free, not destroyed), in storage order: sequential
    // reads, and writes into a table that fits the cache far better than the entries do.
    // `live`: how many entries that is.
    void rebuild(const EntryStore &store, size_t size, qsizetype live);
    void clear() {
        freeVector(buckets);
        count = 0;
    }
};

// The filter as raw comparisons. Each word of the text must match something of the entry: an
// address (IPv4 by dotted prefix, "198.51.100." or "198.51.1"; IPv6 by substring), "addr:port",
// a port or a conntrack id (a number), a protocol, state or flag by the start of its name, or a
// forward by part of its name.
struct ConnectionTableModel::CompiledFilter {
    struct Word {
        QString text;           // lower case
        QBitArray forwardMatch; // forwards whose name contains it
        std::bitset<256> protocols;
        quint32 states = 0; // bit per state code
        quint16 flagMask = 0;
        // IPv4 dotted prefix: `full` whole octets, then optionally a partial one.
        bool v4 = false;
        int full = 0;
        quint8 octets[4] = {};
        bool partial = false;
        std::bitset<256> partialOctets;
        qint64 number = -1; // a port (≤ 65535) or an id
        bool addrPort = false;
        quint32 address = 0; // network order
        quint16 port = 0;
        bool v6 = false;
        // The same, ready for the loop over a million entries: no bounds checks, and the
        // checks that cannot match skipped.
        std::vector<quint8> slotHit;
        bool anySlot = false;
        bool anyProtocol = false;
        quint32 v4Mask = 0; // the whole octets, as a mask and a value in network order
        quint32 v4Value = 0;
        int partialIndex = -1;
    };
    std::vector<Word> words;
    bool forwardedOnly = false;
    int protocol = -1;
    bool oneForward = false;
    QBitArray forwardSlots;
    bool establishedOnly = false;
    bool empty = true;
};

// What came while paused, in order; the latest record per id replaces earlier ones.
struct ConnectionTableModel::Pending {
    bool begin = false;
    bool end = false;
    bool hasForwards = false;
    QList<ForwardInfo> forwards;
    std::vector<EntryRecord> records; // a destroyed id has destroyed[i] set
    std::vector<quint8> destroyed;
    QHash<quint32, quint32> positionOf;

    void put(const EntryRecord &r, bool gone) {
        const auto it = positionOf.constFind(r.id);
        if (it != positionOf.constEnd()) {
            records[*it] = r;
            destroyed[*it] = gone;
            return;
        }
        positionOf.insert(r.id, quint32(records.size()));
        records.push_back(r);
        destroyed.push_back(gone);
    }
    void clearRecords() {
        freeVector(records);
        freeVector(destroyed);
        positionOf = {};
    }
};

// The LSD radix sort of sortKeys(), 11 bits a digit, in steps: a scatter pass can stop after
// any key and go on later, since the bucket offsets it has reached are all it needs. The keys of
// a descending sort come in inverted.
struct ConnectionTableModel::RadixSort {
    static constexpr int bits = 11;
    static constexpr int digits = (64 + bits - 1) / bits; // per key
    static constexpr size_t radix = size_t(1) << bits;
    std::vector<SortKeyData> keys;
    std::vector<SortKeyData> other;
    std::vector<quint32> histogram = std::vector<quint32>(2 * digits * radix, 0);
    int pass = 0;         // the scatter pass under way: the secondary's digits, then the primary's
    size_t at = 0;        // its next key
    bool started = false; // its offsets are in the histogram

    void count(const SortKeyData &k) {
        for (int d = 0; d < digits; ++d) {
            ++histogram[(size_t(d) * radix) + ((k.secondary >> (d * bits)) & (radix - 1))];
            ++histogram[(size_t(digits + d) * radix) + ((k.primary >> (d * bits)) & (radix - 1))];
        }
    }
    bool done() const { return pass >= 2 * digits; }
    // Scatters at most `budget` keys (less when passes that change nothing are skipped); returns
    // how many.
    size_t scatter(size_t budget) {
        const size_t n = keys.size();
        while (!done()) {
            quint32 *h = histogram.data() + size_t(pass) * radix;
            const bool primary = pass >= digits;
            const int shift = (pass % digits) * bits;
            const auto digit = [&](const SortKeyData &k) {
                return ((primary ? k.primary : k.secondary) >> shift) & (radix - 1);
            };
            if (!started) {
                if (n == 0 || h[digit(keys[0])] == n) {
                    ++pass; // every key has this digit: the pass would change nothing
                    continue;
                }
                quint32 sum = 0;
                for (size_t b = 0; b < radix; ++b) {
                    const quint32 c = h[b];
                    h[b] = sum;
                    sum += c;
                }
                other.resize(n);
                started = true;
            }
            const size_t end = std::min(n, at + budget);
            for (size_t i = at; i < end; ++i)
                other[h[digit(keys[i])]++] = keys[i];
            const size_t did = end - at;
            at = end;
            if (at == n) {
                keys.swap(other);
                ++pass;
                at = 0;
                started = false;
            }
            return did;
        }
        return 0;
    }
};

// A staged flush (setStagedFlush()): every held entry re-sorted by its key as it was when the
// entry was read, in steps, then shown in one go. The rows shown stay untouched meanwhile, and
// flushes wait, so nothing needs the order being built to be a valid one before its end. An
// entry that changes after it was read is marked moved again as usual (its flags were cleared
// when the staged flush took over the changes), and the flush after this one puts it right; one
// that arrives meanwhile is fresh and waits for that flush too.
struct ConnectionTableModel::Reorder {
    enum Phase { Read, Sort, Ties, Build, Show } phase = Read;
    RadixSort radix;
    bool filtered = false;
    Bits passed;      // the filter's verdict on each entry read, when filtered
    quint32 next = 0; // Read: the next store slot; Ties, Build: the next key
    Bits gone;        // Build: entries destroyed since the start, left out of the order
    std::vector<quint32> all;
    std::vector<quint32> rows;
};

void ConnectionTableModel::IdIndex::rebuild(const EntryStore &store, size_t size, qsizetype live) {
    for (size = std::max<size_t>({size, 1024, size_t(live) * 8 / 7 + 1});; size = size * 3 / 2) {
        freeVector(buckets);
        buckets.assign(size, 0);
        count = 0;
        bool fits = true;
        for (quint32 i = 0; i < store.used && fits; ++i) {
            const Entry &e = store.at(i);
            if (e.flags & (Entry::Free | Entry::Dead))
                continue;
            quint32 cur = i + 1;
            quint32 d = 0;
            for (quint32 b = home(e.id);; b = next(b), ++d) {
                if (d > maxDistance) {
                    fits = false;
                    break;
                }
                const quint32 v = buckets[b];
                if (v == 0) {
                    buckets[b] = (d << slotBits) | cur;
                    ++count;
                    break;
                }
                if ((v >> slotBits) < d) {
                    buckets[b] = (d << slotBits) | cur;
                    cur = v & slotMask;
                    d = v >> slotBits;
                }
            }
        }
        if (fits)
            return;
    }
}

ConnectionTableModel::ConnectionTableModel(QObject *parent)
    : QAbstractTableModel(parent)
    , m_store(std::make_unique<EntryStore>())
    , m_index(std::make_unique<IdIndex>())
    , m_compiled(std::make_unique<CompiledFilter>())
    , m_pending(std::make_unique<Pending>())
    , m_entryLimit(IdIndex::maxSlots) {
    static_assert(sizeof(Entry) == 72);
    m_slots.push_back({});
    m_slotRank.push_back(0);
    m_clock.start();
    m_epochWallMs = QDateTime::currentMSecsSinceEpoch();
    m_flushTimer.setSingleShot(true);
    connect(&m_flushTimer, &QTimer::timeout, this, &ConnectionTableModel::flushSome);
    m_reorderTimer.setSingleShot(true);
    connect(&m_reorderTimer, &QTimer::timeout, this, [this] {
        if (m_reorder && !reorderStep(false))
            m_reorderTimer.start(0);
    });
    m_clockTimer.setInterval(1000);
    connect(&m_clockTimer, &QTimer::timeout, this, [this] {
        if (!m_rows.empty())
            emit dataChanged(index(0, TimeoutColumn), index(int(m_rows.size()) - 1, RateColumn));
    });
    m_clockTimer.start();
}

ConnectionTableModel::~ConnectionTableModel() = default;

int ConnectionTableModel::rowCount(const QModelIndex &parent) const {
    return parent.isValid() ? 0 : int(m_rows.size());
}

int ConnectionTableModel::columnCount(const QModelIndex &parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

quint32 ConnectionTableModel::nowSeconds() const {
    return quint32(m_clock.elapsed() / 1000);
}

qint32 ConnectionTableModel::wallSeconds(quint64 wallMs) const {
    if (wallMs == 0)
        wallMs = quint64(QDateTime::currentMSecsSinceEpoch());
    // Rounded down, also before the epoch, so that an age is never a second short.
    const qint64 ms = qint64(wallMs) - m_epochWallMs;
    const qint64 s = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    return qint32(std::clamp<qint64>(s, INT32_MIN + 1, INT32_MAX - 1));
}

QString ConnectionTableModel::protocolName(int protocol) {
    switch (protocol) {
    case IPPROTO_TCP:
        return QStringLiteral("tcp");
    case IPPROTO_UDP:
        return QStringLiteral("udp");
    case IPPROTO_ICMP:
        return QStringLiteral("icmp");
    case IPPROTO_ICMPV6:
        return QStringLiteral("icmpv6");
    case IPPROTO_SCTP:
        return QStringLiteral("sctp");
    case IPPROTO_UDPLITE:
        return QStringLiteral("udplite");
    case IPPROTO_DCCP:
        return QStringLiteral("dccp");
    case IPPROTO_GRE:
        return QStringLiteral("gre");
    case IPPROTO_ESP:
        return QStringLiteral("esp");
    }
    return QString::number(protocol);
}

QString ConnectionTableModel::tcpStateName(int state) {
    return state >= 0 && state < stateCount ? QLatin1StringView(stateNames[state]) : QString();
}

QString ConnectionTableModel::flagsText(quint32 status) {
    QStringList out;
    for (const FlagName &f : flagNames)
        if (status & f.bit)
            out << QLatin1StringView(f.name);
    return out.join(QLatin1Char(' '));
}

QString ConnectionTableModel::formatBytes(quint64 bytes) {
    return ForwardTableModel::formatBytes(bytes); // one way to write a size in the app
}

QString ConnectionTableModel::formatDuration(qint64 s) {
    if (s < 0)
        s = 0;
    const qint64 days = s / 86400;
    const int h = int(s / 3600 % 24);
    const int m = int(s / 60 % 60);
    const int sec = int(s % 60);
    const auto two = [](int v) {
        return QStringLiteral("%1").arg(v, 2, 10, QLatin1Char('0'));
    };
    if (days > 0)
        return tr("%1 d %2:%3:%4").arg(days).arg(two(h), two(m), two(sec));
    if (h > 0)
        return QStringLiteral("%1:%2:%3").arg(h).arg(two(m), two(sec));
    return QStringLiteral("%1:%2").arg(m).arg(two(sec));
}

namespace {

QString addressText(const quint8 *a, bool v6) {
    if (!v6)
        return QStringLiteral("%1.%2.%3.%4").arg(a[0]).arg(a[1]).arg(a[2]).arg(a[3]);
    Q_IPV6ADDR raw;
    std::memcpy(raw.c, a, 16);
    return QHostAddress(raw).toString();
}

QString endpointText(const quint8 *a, bool v6, quint16 port, bool ports) {
    const QString addr = addressText(a, v6);
    if (!ports)
        return addr;
    if (v6)
        return QStringLiteral("[%1]:%2").arg(addr).arg(port);
    return QStringLiteral("%1:%2").arg(addr).arg(port);
}

QString csvField(const QString &s) {
    if (!s.contains(QLatin1Char(',')) && !s.contains(QLatin1Char('"')) &&
        !s.contains(QLatin1Char('\n')))
        return s;
    QString q = s;
    q.replace(QLatin1Char('"'), QStringLiteral("\"\""));
    return QLatin1Char('"') + q + QLatin1Char('"');
}

} // namespace

QString ConnectionTableModel::cellText(const Entry &e, int column) const {
    const bool ports = hasPorts(e.protocol);
    switch (column) {
    case ProtocolColumn:
        return protocolName(e.protocol);
    case StateColumn:
        return tcpStateName(e.stateCode());
    case OriginalColumn:
        return endpointText(m_store->address(e, 0), e.isV6(), e.port[0], ports) +
               QStringLiteral(" → ") +
               endpointText(m_store->address(e, 1), e.isV6(), e.port[1], ports);
    case TranslatedColumn:
        if (!(e.status & dstNatBit))
            return {};
        return endpointText(m_store->address(e, 2), e.isV6(), e.port[2], ports);
    case ForwardColumn: {
        const Slot &s = m_slots[e.slot];
        if (s.mark == 0)
            return {};
        if (!s.ours)
            return tr("mark %1").arg(s.mark);
        return s.name;
    }
    case TimeoutColumn:
        return formatDuration(qint64(e.expiresAt) - qint64(nowSeconds()));
    case AgeColumn:
        return formatDuration(wallSeconds(0) - qint64(e.startAt));
    case PacketsColumn:
        if (!m_accounting)
            return QStringLiteral("–");
        return QStringLiteral("%1 / %2").arg(QLocale().toString(qulonglong(e.packets(0))),
                                             QLocale().toString(qulonglong(e.packets(1))));
    case BytesColumn:
        if (!m_accounting)
            return QStringLiteral("–");
        return QStringLiteral("%1 / %2").arg(formatBytes(e.bytes(0)), formatBytes(e.bytes(1)));
    case RateColumn: {
        if (!m_accounting)
            return QStringLiteral("–");
        // A rate not sampled for long says nothing about now. The helper's refresh comes every
        // second for small tables, but further apart for big ones (tens of seconds at a
        // million entries), and a stopped flow gets a last sample that shows 0 anyway.
        const bool stale = e.sinceSample(quint32(m_clock.elapsed())) > 120000;
        return tr("%1/s").arg(formatBytes(stale ? 0 : quint64(e.rate())));
    }
    case FlagsColumn:
        return flagsText(e.status);
    }
    return {};
}

QVariant ConnectionTableModel::rawValue(const Entry &e, int column) const {
    switch (column) {
    case OriginalColumn:
    case TranslatedColumn: {
        if (column == TranslatedColumn && !(e.status & dstNatBit))
            return QString();
        const int which = column == OriginalColumn ? 0 : 2;
        return addressText(m_store->address(e, which), e.isV6());
    }
    case ForwardColumn:
        return m_slots[e.slot].id;
    case TimeoutColumn:
        return qint64(e.expiresAt) - qint64(nowSeconds());
    case AgeColumn:
        return qint64(wallSeconds(0)) - e.startAt;
    case PacketsColumn:
        return qulonglong(e.packets(0) + e.packets(1));
    case BytesColumn:
        return qulonglong(e.bytes(0) + e.bytes(1));
    case RateColumn:
        return double(e.rate());
    case ProtocolColumn:
        return int(e.protocol);
    case StateColumn:
        return e.stateCode();
    case FlagsColumn:
        return uint(e.status);
    }
    return {};
}

QVariant ConnectionTableModel::data(const QModelIndex &index, int role) const {
    if (!index.isValid() || index.row() >= int(m_rows.size()))
        return {};
    const Entry &e = m_store->at(m_rows[size_t(index.row())]);
    switch (role) {
    case Qt::DisplayRole:
        return cellText(e, index.column());
    case Qt::TextAlignmentRole:
        switch (index.column()) {
        case TimeoutColumn:
        case AgeColumn:
        case PacketsColumn:
        case BytesColumn:
        case RateColumn:
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        }
        return {};
    case RawValueRole:
        return rawValue(e, index.column());
    case IdRole:
        return uint(e.id);
    case ForwardIdRole:
        return m_slots[e.slot].id;
    case GoneRole:
        return bool(e.flags & Entry::Dead);
    }
    return {};
}

QVariant ConnectionTableModel::headerData(int section, Qt::Orientation orientation,
                                          int role) const {
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::DisplayRole) {
        switch (section) {
        case ProtocolColumn:
            return tr("Protocol");
        case StateColumn:
            return tr("State");
        case OriginalColumn:
            return tr("Source → destination");
        case TranslatedColumn:
            return tr("Sent to");
        case ForwardColumn:
            return tr("Forward");
        case TimeoutColumn:
            return tr("Timeout");
        case AgeColumn:
            return tr("Age");
        case PacketsColumn:
            return tr("Packets →/←");
        case BytesColumn:
            return tr("Bytes →/←");
        case RateColumn:
            return tr("Rate");
        case FlagsColumn:
            return tr("Flags");
        }
    } else if (role == Qt::ToolTipRole) {
        switch (section) {
        case OriginalColumn:
            return tr("The connection as the client opened it");
        case TranslatedColumn:
            return tr("Where the forward sent it (the translated destination)");
        case TimeoutColumn:
            return tr("Time until the kernel forgets the connection, unless more packets come");
        case PacketsColumn:
        case BytesColumn:
            return tr("From the client (→) and back to it (←)");
        case RateColumn:
            return tr("Bytes per second in both directions, since the last update");
        }
    }
    return {};
}

// ---- the stream ------------------------------------------------------------------------------

bool ConnectionTableModel::handleFrame(FrameType type, const char *payload, qsizetype length) {
    switch (type) {
    case FrameType::Hello: {
        ctstream::HelloPayload h;
        if (length != sizeof h) {
            m_error = tr("The helper's stream does not start with a valid greeting.");
            return false;
        }
        std::memcpy(&h, payload, sizeof h);
        if (h.magic != ctstream::magic || h.version != ctstream::version ||
            h.entrySize != sizeof(EntryRecord)) {
            m_error = tr("The helper speaks another version of the connection stream (version "
                         "%1, records of %2 bytes; this app expects version %3, %4 bytes).")
                          .arg(h.version)
                          .arg(h.entrySize)
                          .arg(ctstream::version)
                          .arg(sizeof(EntryRecord));
            return false;
        }
        m_accounting = h.flags & ctstream::helloAccounting;
        emit helloReceived(m_accounting);
        return true;
    }
    case FrameType::Forwards: {
        QJsonParseError err;
        const QJsonDocument doc =
            QJsonDocument::fromJson(QByteArray::fromRawData(payload, length), &err);
        if (err.error != QJsonParseError::NoError || !doc.isArray()) {
            m_error = tr("The helper sent an unreadable list of forwards.");
            return false;
        }
        QList<ForwardInfo> list;
        for (const QJsonValue &v : doc.array()) {
            const QJsonObject o = v.toObject();
            list.append({quint32(o.value(QLatin1StringView("mark")).toInteger()),
                         o.value(QLatin1StringView("id")).toString(),
                         o.value(QLatin1StringView("name")).toString()});
        }
        setForwards(list);
        return true;
    }
    case FrameType::Begin:
        beginSnapshot();
        return true;
    case FrameType::Entries: {
        if (length % qsizetype(sizeof(EntryRecord)) != 0) {
            m_error = tr("The helper sent a truncated connection record.");
            return false;
        }
        const qsizetype n = length / qsizetype(sizeof(EntryRecord));
        if (quintptr(payload) % alignof(EntryRecord) == 0) {
            addRecords(reinterpret_cast<const EntryRecord *>(payload), n);
        } else {
            EntryRecord r;
            for (qsizetype i = 0; i < n; ++i) {
                std::memcpy(&r, payload + i * qsizetype(sizeof r), sizeof r);
                addRecords(&r, 1);
            }
        }
        return true;
    }
    case FrameType::Destroyed: {
        if (length % 4 != 0) {
            m_error = tr("The helper sent a truncated list of closed connections.");
            return false;
        }
        for (qsizetype i = 0; i < length / 4; ++i) {
            quint32 id;
            std::memcpy(&id, payload + 4 * i, 4);
            removeIds(&id, 1);
        }
        return true;
    }
    case FrameType::End:
        endSnapshot();
        return true;
    case FrameType::Tick:
        tick();
        return true;
    case FrameType::Notice:
        emit noticeReceived(QString::fromUtf8(payload, length));
        return true;
    }
    // Frames of a later version that this one does not know are skipped.
    return true;
}

quint16 ConnectionTableModel::slotForMark(quint32 mark) {
    if (mark == 0)
        return 0;
    const auto it = m_slotOfMark.constFind(mark);
    if (it != m_slotOfMark.constEnd())
        return *it;
    if (m_slots.size() >= 0xffff)
        return 0xffff - 1; // more distinct marks than slots: the last one stands for the rest
    Slot s;
    s.mark = mark;
    m_slots.push_back(s);
    const quint16 slot = quint16(m_slots.size() - 1);
    m_slotOfMark.insert(mark, slot);
    rebuildForwardRanks();
    return slot;
}

void ConnectionTableModel::setForwards(const QList<ForwardInfo> &forwards) {
    if (m_paused) {
        m_pending->forwards = forwards;
        m_pending->hasForwards = true;
        return;
    }
    applyForwards(forwards);
}

void ConnectionTableModel::applyForwards(const QList<ForwardInfo> &forwards) {
    if (m_reorder)
        flush(); // its keys and filter verdicts were taken under the old forwards
    // Slots are never reused within a stream, so entries keep pointing at the right one.
    for (Slot &s : m_slots)
        s.ours = false;
    for (const ForwardInfo &f : forwards) {
        if (f.mark == 0)
            continue;
        Slot &s = m_slots[slotForMark(f.mark)];
        s.id = f.id;
        s.name = f.name;
        s.ours = true;
    }
    rebuildForwardRanks();
    recompileFilter();
    emit forwardsChanged();
    if (m_sortColumn == ForwardColumn && !m_paused)
        sort(m_sortColumn, m_sortOrder);
    if (!m_rows.empty())
        emit dataChanged(index(0, ForwardColumn), index(int(m_rows.size()) - 1, ForwardColumn));
}

void ConnectionTableModel::rebuildForwardRanks() {
    std::vector<quint16> order(m_slots.size());
    for (size_t i = 0; i < order.size(); ++i)
        order[i] = quint16(i);
    std::sort(order.begin(), order.end(), [this](quint16 a, quint16 b) {
        const Slot &x = m_slots[a];
        const Slot &y = m_slots[b];
        // No forward first, then ours by name, then foreign marks by number.
        const int cx = x.mark == 0 ? 0 : x.ours ? 1 : 2;
        const int cy = y.mark == 0 ? 0 : y.ours ? 1 : 2;
        if (cx != cy)
            return cx < cy;
        if (cx == 1) {
            const int c = x.name.compare(y.name, Qt::CaseInsensitive);
            if (c != 0)
                return c < 0;
        }
        return x.mark < y.mark;
    });
    m_slotRank.assign(m_slots.size(), 0);
    for (size_t i = 0; i < order.size(); ++i)
        m_slotRank[order[i]] = quint32(i);
}

void ConnectionTableModel::setAccountingOn(bool on) {
    if (on == m_accounting)
        return;
    m_accounting = on;
    if (!m_rows.empty())
        emit dataChanged(index(0, PacketsColumn), index(int(m_rows.size()) - 1, RateColumn));
}

QList<ConnectionTableModel::ForwardInfo> ConnectionTableModel::forwards() const {
    QList<ForwardInfo> out;
    for (const Slot &s : m_slots)
        if (s.ours)
            out.append({s.mark, s.id, s.name});
    std::sort(out.begin(), out.end(), [](const ForwardInfo &a, const ForwardInfo &b) {
        return a.name.compare(b.name, Qt::CaseInsensitive) < 0;
    });
    return out;
}

QString ConnectionTableModel::forwardName(const QString &forwardId) const {
    for (const Slot &s : m_slots)
        if (s.ours && s.id == forwardId)
            return s.name;
    return {};
}

void ConnectionTableModel::clear() {
    beginResetModel();
    m_reorder.reset();
    m_reorderTimer.stop();
    m_store->clear();
    m_index->clear();
    for (std::vector<quint32> *v :
         {&m_rows, &m_sorted, &m_fresh, &m_moved, &m_dead, &m_add, &m_leaving, &m_rowsAdd})
        freeVector(*v);
    m_shown = {};
    m_mark = {};
    m_lastFlushMs = 0;
    m_overLimit = false;
    m_count = 0;
    m_changed = false;
    m_loading = false;
    m_endPending = false;
    m_snapshotCount = 0;
    m_pending = std::make_unique<Pending>();
    endResetModel();
    emit countsChanged(0, 0);
}

void ConnectionTableModel::beginSnapshot() {
    if (m_paused) {
        m_pending->clearRecords();
        m_pending->begin = true;
        m_pending->end = false;
        return;
    }
    applyBegin();
}

void ConnectionTableModel::applyBegin() {
    // A resync (a new snapshot over a table we hold) is merged in: entries the new snapshot
    // does not bring are destroyed at its end. So even an overrun never resets the view.
    for (quint32 i = 0; i < m_store->used; ++i)
        m_store->at(i).flags &= quint8(~Entry::Seen);
    m_loading = true;
    m_snapshotCount = 0;
    emit snapshotStarted();
}

void ConnectionTableModel::endSnapshot() {
    if (m_paused)
        m_pending->end = true;
    else
        applyEnd();
}

void ConnectionTableModel::applyEnd() {
    if (!m_loading)
        return;
    std::vector<quint32> gone;
    for (quint32 i = 0; i < m_store->used; ++i) {
        const Entry &e = m_store->at(i);
        if (!(e.flags & (Entry::Free | Entry::Dead | Entry::Seen)))
            gone.push_back(e.id);
    }
    m_loading = false;
    for (quint32 id : gone)
        applyDestroy(id);
    // The last of a big snapshot may be most of it: staged like any big flush, and the
    // snapshot is finished when its entries are all shown (finishSnapshot()).
    m_endPending = true;
    flushSome();
    finishSnapshot();
}

void ConnectionTableModel::trimWorkBuffers() {
    // Only empty ones: a staged flush ends with the changes that came meanwhile in m_fresh and
    // m_moved. A snapshot's big batches (up to 4 MiB of records a turn, 55,000 entries) and a
    // counter refresh's moves: their buffers are not kept for the live flushes, which take a few
    // thousand entries (2,000 at 20,000 events a second). Kept, six of them held 1.5 MB after a
    // 100,000-entry snapshot; kept up to 16,384 entries, three still held 192 KiB (2 bytes an
    // entry at 100,000).
    for (std::vector<quint32> *v : {&m_fresh, &m_moved, &m_dead, &m_add, &m_leaving, &m_rowsAdd})
        if (v->empty() && v->capacity() > 4096)
            freeVector(*v);
}

void ConnectionTableModel::finishSnapshot() {
    if (!m_endPending || m_reorder || !m_fresh.empty() || !m_moved.empty() || !m_dead.empty())
        return;
    m_endPending = false;
    emit snapshotFinished(int(m_count));
}

void ConnectionTableModel::tick() {
    if (!m_loading && !m_paused)
        flushSome();
}

qint64 ConnectionTableModel::findEntry(quint32 id) const {
    return m_index->find(*m_store, id);
}

void ConnectionTableModel::addRecords(const EntryRecord *records, qsizetype count) {
    if (m_paused) {
        for (qsizetype i = 0; i < count; ++i)
            m_pending->put(records[i], false);
        return;
    }
    for (qsizetype i = 0; i < count; ++i)
        applyRecord(records[i]);
    if (count > 0)
        scheduleFlush();
}

void ConnectionTableModel::removeIds(const quint32 *ids, qsizetype count) {
    if (m_paused) {
        for (qsizetype i = 0; i < count; ++i) {
            EntryRecord r{};
            r.id = ids[i];
            m_pending->put(r, true);
        }
        return;
    }
    for (qsizetype i = 0; i < count; ++i)
        applyDestroy(ids[i]);
    if (count > 0)
        scheduleFlush();
}

void ConnectionTableModel::applyRecord(const EntryRecord &r) {
    const quint32 nowMs = quint32(m_clock.elapsed());
    const qint64 found = findEntry(r.id);
    if (m_loading)
        ++m_snapshotCount;
    if (found < 0) {
        if (m_store->freeSlots.empty() && m_store->used >= m_entryLimit) {
            // The index addresses 2^25 entries (about 3 GB of them); past that, new ones are
            // not held, and the view says so once.
            if (!m_overLimit) {
                m_overLimit = true;
                emit noticeReceived(tr("This view holds at most %L1 connections; newer ones are "
                                       "not shown.")
                                        .arg(m_entryLimit));
            }
            return;
        }
        const quint32 slot = m_store->allocate();
        Entry &e = m_store->at(slot);
        std::memset(&e, 0, sizeof e);
        e.id = r.id;
        e.protocol = r.protocol;
        if (r.family == AF_INET6) {
            e.bits = 0x80;
            const quint32 v6 = m_store->allocateV6();
            auto &a = m_store->v6[v6];
            std::memcpy(a.data(), r.origSrc, 16);
            std::memcpy(a.data() + 16, r.origDst, 16);
            std::memcpy(a.data() + 32, r.replySrc, 16);
            std::memcpy(a.data() + 48, r.replyDst, 16);
            e.addr[0] = v6;
        } else {
            std::memcpy(&e.addr[0], r.origSrc, 4);
            std::memcpy(&e.addr[1], r.origDst, 4);
            std::memcpy(&e.addr[2], r.replySrc, 4);
            std::memcpy(&e.addr[3], r.replyDst, 4);
        }
        e.port[0] = r.origSport;
        e.port[1] = r.origDport;
        e.port[2] = r.replySport;
        e.port[3] = r.replyDport;
        e.startAt = wallSeconds(r.startMs);
        e.sampledAt = nowMs & Entry::sampleMask;
        e.bits |= r.tcpState == ctstream::noTcpState ? 0x0f : (r.tcpState & 0x0f);
        e.status = quint16(r.status);
        e.slot = slotForMark(r.mark);
        e.expiresAt = nowSeconds() + r.timeout;
        e.setCounters(0, r.origBytes, r.origPackets);
        e.setCounters(1, r.replyBytes, r.replyPackets);
        e.flags = Entry::Fresh | (m_loading ? Entry::Seen : 0);
        m_index->insert(*m_store, r.id, slot);
        m_fresh.push_back(slot);
        ++m_count;
        return;
    }
    const quint32 slot = quint32(found);
    Entry &e = m_store->at(slot);
    const bool track = !(e.flags & (Entry::Fresh | Entry::Moved));
    const quint64 keyBefore = track ? primaryKey(e) : 0;
    const bool passedBefore = track && passes(e);
    // A conntrack entry's counters only grow; an event that carries none (the kernel puts them
    // in destroy events and dumps, not in every update) says nothing about them.
    const quint64 ob = std::max(e.bytes(0), std::min(r.origBytes, counterMax));
    const quint64 op = std::max(e.packets(0), std::min(r.origPackets, counterMax));
    const quint64 rb = std::max(e.bytes(1), std::min(r.replyBytes, counterMax));
    const quint64 rp = std::max(e.packets(1), std::min(r.replyPackets, counterMax));
    // The rate: bytes moved between two samples of the counters (the helper's counter refresh
    // sends them about every second, and once more when a flow stops moving). A record without
    // counters (an update event) is no sample: taking it as one would shorten the next
    // interval and inflate the rate.
    if (r.origPackets | r.replyPackets | r.origBytes | r.replyBytes) {
        const quint64 before = e.bytes(0) + e.bytes(1);
        const quint64 after = ob + rb;
        const quint32 dt = std::max<quint32>(e.sinceSample(nowMs), 100);
        e.setRate(after >= before ? float(double(after - before) * 1000.0 / dt) : 0.0f);
        e.sampledAt = nowMs & Entry::sampleMask;
    }
    e.bits =
        quint8((e.bits & 0x80) | (r.tcpState == ctstream::noTcpState ? 0x0f : (r.tcpState & 0x0f)));
    e.status = quint16(r.status);
    e.slot = slotForMark(r.mark);
    e.expiresAt = nowSeconds() + r.timeout;
    e.setCounters(0, ob, op);
    e.setCounters(1, rb, rp);
    if (m_loading)
        e.flags |= Entry::Seen;
    if (track && (primaryKey(e) != keyBefore || passes(e) != passedBefore)) {
        e.flags |= Entry::Moved;
        m_moved.push_back(slot);
    }
    m_changed = true;
}

void ConnectionTableModel::applyDestroy(quint32 id) {
    const qint64 found = findEntry(id);
    if (found < 0)
        return;
    Entry &e = m_store->at(quint32(found));
    m_index->erase(*m_store, id);
    e.flags |= Entry::Dead;
    m_dead.push_back(quint32(found));
    --m_count;
}

void ConnectionTableModel::scheduleFlush() {
    if (m_paused || m_flushTimer.isActive())
        return;
    // The first rows go on screen at once; after that, once per interval.
    if (m_rows.empty())
        m_flushTimer.start(0);
    else
        m_flushTimer.start(std::max(m_flushInterval, m_lastFlushMs * 4));
}

// ---- sorting ---------------------------------------------------------------------------------

quint64 ConnectionTableModel::primaryKey(const Entry &e) const {
    const auto v4key = [&](int which, int port) {
        return (quint64(qFromBigEndian(e.addr[which])) << 16) | e.port[port];
    };
    const auto v6key = [&](int which) {
        quint64 hi;
        std::memcpy(&hi, m_store->address(e, which), 8);
        return (quint64(1) << 62) | (qFromBigEndian(hi) >> 2);
    };
    switch (m_sortColumn) {
    case ProtocolColumn:
        return e.protocol;
    case StateColumn:
        return quint64(e.stateCode());
    case OriginalColumn:
        return e.isV6() ? v6key(0) : v4key(0, 0);
    case TranslatedColumn:
        if (!(e.status & dstNatBit))
            return 0;
        return e.isV6() ? v6key(2) : v4key(2, 2);
    case ForwardColumn:
        return m_slotRank[e.slot];
    case TimeoutColumn:
        return e.expiresAt;
    case AgeColumn:
        return quint64(qint64(INT32_MAX) - e.startAt);
    case PacketsColumn:
        return e.packets(0) + e.packets(1);
    case BytesColumn:
        return e.bytes(0) + e.bytes(1);
    case RateColumn:
        return e.rateBits; // a non-negative float's bits sort as the float does
    case FlagsColumn:
        return e.status;
    }
    return 0;
}

// The order of two entries under the current sort: the column's raw value, then the rest of the
// tuple for the address columns, then the id, so that the order is total and a merge of new rows
// into the sorted index lands where a full sort would put them.
bool ConnectionTableModel::less(quint32 a, quint32 b) const {
    const Entry &x = m_store->at(a);
    const Entry &y = m_store->at(b);
    const quint64 kx = primaryKey(x);
    const quint64 ky = primaryKey(y);
    int c = kx < ky ? -1 : kx > ky ? 1 : 0;
    const bool untranslated =
        m_sortColumn == TranslatedColumn && !((x.status & y.status) & dstNatBit);
    if (c == 0 && !untranslated &&
        (m_sortColumn == OriginalColumn || m_sortColumn == TranslatedColumn)) {
        const int which = m_sortColumn == OriginalColumn ? 0 : 2;
        const int len = x.isV6() ? 16 : 4;
        if (x.isV6() == y.isV6()) {
            c = std::memcmp(m_store->address(x, which), m_store->address(y, which), size_t(len));
            if (c == 0)
                c = x.port[which] < y.port[which] ? -1 : x.port[which] > y.port[which] ? 1 : 0;
            if (c == 0)
                c = std::memcmp(m_store->address(x, which + 1), m_store->address(y, which + 1),
                                size_t(len));
            if (c == 0)
                c = x.port[which + 1] < y.port[which + 1]   ? -1
                    : x.port[which + 1] > y.port[which + 1] ? 1
                                                            : 0;
        }
    }
    if (c == 0)
        c = x.id < y.id ? -1 : x.id > y.id ? 1 : 0;
    return m_sortOrder == Qt::AscendingOrder ? c < 0 : c > 0;
}

ConnectionTableModel::SortKeyData ConnectionTableModel::sortKey(const Entry &e,
                                                                quint32 slot) const {
    // The same order as less(): for the address columns the other end of the tuple (IPv4 only;
    // IPv6 and untranslated rows leave the tie to less()), else the id.
    quint64 second = e.id;
    if (m_sortColumn == OriginalColumn || m_sortColumn == TranslatedColumn) {
        const bool translated = m_sortColumn == TranslatedColumn;
        const int which = translated ? 3 : 1;
        if (e.isV6() || (translated && !(e.status & dstNatBit)))
            second = 0;
        else
            second = quint64(qFromBigEndian(e.addr[which])) << 16 | e.port[which];
    }
    return {primaryKey(e), second, slot};
}

void ConnectionTableModel::sortKeys(std::vector<SortKeyData> &keys) const {
    // An LSD radix sort on (primary, secondary), 11 bits a pass, skipping the digits that all
    // keys share (the high bits of a port, a /24 of addresses): a few linear passes instead of
    // n·log n comparisons. It is stable, so the runs it leaves equal are sorted by less() after.
    const size_t n = keys.size();
    if (n < 2)
        return;
    const bool asc = m_sortOrder == Qt::AscendingOrder;
    if (n < 4096) {
        std::sort(keys.begin(), keys.end(),
                  [this, asc](const SortKeyData &a, const SortKeyData &b) {
                      if (a.primary != b.primary)
                          return asc ? a.primary < b.primary : a.primary > b.primary;
                      if (a.secondary != b.secondary)
                          return asc ? a.secondary < b.secondary : a.secondary > b.secondary;
                      return less(a.slot, b.slot);
                  });
        return;
    }
    if (!asc)
        for (SortKeyData &k : keys) {
            k.primary = ~k.primary;
            k.secondary = ~k.secondary;
        }
    RadixSort r;
    for (const SortKeyData &k : keys)
        r.count(k);
    r.keys.swap(keys);
    while (!r.done())
        r.scatter(n);
    keys.swap(r.keys);
    if (!asc)
        for (SortKeyData &k : keys) {
            k.primary = ~k.primary;
            k.secondary = ~k.secondary;
        }
    sortTies(keys, 0, n);
}

size_t ConnectionTableModel::sortTies(std::vector<SortKeyData> &keys, size_t from,
                                      size_t stop) const {
    // Equal keys (the same 4-tuple in two protocols, IPv6 prefixes): less() decides. Whole runs
    // only, so the position returned is a run's start.
    const size_t n = keys.size();
    size_t i = from;
    while (i < n && i < stop) {
        size_t j = i + 1;
        while (j < n && keys[j].primary == keys[i].primary &&
               keys[j].secondary == keys[i].secondary)
            ++j;
        if (j - i > 1)
            std::sort(keys.begin() + qsizetype(i), keys.begin() + qsizetype(j),
                      [this](const SortKeyData &a, const SortKeyData &b) {
                          return less(a.slot, b.slot);
                      });
        i = j;
    }
    return i;
}

void ConnectionTableModel::sortIndex(std::vector<quint32> &index) const {
    if (m_sortColumn < 0 || index.size() < 2)
        return;
    std::vector<SortKeyData> keys(index.size());
    for (size_t i = 0; i < index.size(); ++i)
        keys[i] = sortKey(m_store->at(index[i]), index[i]);
    sortKeys(keys);
    for (size_t i = 0; i < index.size(); ++i)
        index[i] = keys[i].slot;
}

std::vector<quint32> ConnectionTableModel::sortedStore() const {
    // Every held entry, read in storage order (sequential memory, not a gather by index).
    std::vector<SortKeyData> keys;
    keys.reserve(size_t(m_count));
    for (quint32 i = 0; i < m_store->used; ++i) {
        const Entry &e = m_store->at(i);
        if (!(e.flags & (Entry::Free | Entry::Dead)))
            keys.push_back(sortKey(e, i));
    }
    sortKeys(keys);
    std::vector<quint32> out(keys.size());
    for (size_t i = 0; i < keys.size(); ++i)
        out[i] = keys[i].slot;
    return out;
}

void ConnectionTableModel::sort(int column, Qt::SortOrder order) {
    if (column >= ColumnCount)
        return;
    if (!m_paused)
        flush();
    m_sortColumn = column;
    m_sortOrder = order;
    if (column < 0)
        return; // the order stays as it is
    // After a flush (or while paused) the store holds exactly the indexed entries.
    std::vector<quint32> all = sortedStore();
    if (m_compiled->empty) {
        publish(std::move(all));
        return;
    }
    std::vector<quint32> rows;
    rows.reserve(m_rows.size());
    for (quint32 i : all)
        if (m_shown.test(i))
            rows.push_back(i);
    m_sorted = std::move(all);
    publish(std::move(rows));
}

// ---- filtering -------------------------------------------------------------------------------

void ConnectionTableModel::recompileFilter() {
    CompiledFilter &f = *m_compiled;
    f = CompiledFilter();
    f.forwardedOnly = m_filter.forwardedOnly;
    f.protocol = m_filter.protocol;
    f.establishedOnly = m_filter.establishedOnly;
    const qsizetype slotCount = qsizetype(m_slots.size());
    if (!m_filter.forwardId.isEmpty()) {
        f.oneForward = true;
        f.forwardSlots.resize(slotCount);
        for (qsizetype i = 0; i < slotCount; ++i)
            if (m_slots[size_t(i)].ours && m_slots[size_t(i)].id == m_filter.forwardId)
                f.forwardSlots.setBit(i);
    }
    const QStringList words = m_filter.text.toLower().split(QLatin1Char(' '), Qt::SkipEmptyParts);
    for (const QString &text : words) {
        CompiledFilter::Word w;
        w.text = text;
        w.forwardMatch.resize(slotCount);
        for (qsizetype i = 0; i < slotCount; ++i) {
            const Slot &s = m_slots[size_t(i)];
            if ((s.ours && s.name.contains(text, Qt::CaseInsensitive)) ||
                (s.mark != 0 && !s.ours && tr("mark %1").arg(s.mark).contains(text)))
                w.forwardMatch.setBit(i);
        }
        for (int p = 0; p < 256; ++p)
            if (protocolName(p).startsWith(text))
                w.protocols.set(size_t(p));
        for (int s = 0; s < stateCount; ++s)
            if (QString::fromLatin1(stateNames[s]).toLower().startsWith(text))
                w.states |= 1u << s;
        for (const FlagName &fl : flagNames)
            if (QString::fromLatin1(fl.name).toLower().startsWith(text))
                w.flagMask |= fl.bit;
        bool ok = false;
        const qulonglong n = text.toULongLong(&ok);
        if (ok && n <= 0xffffffffull)
            w.number = qint64(n);
        // IPv4, whole or a dotted prefix; "a.b.c.d:port".
        const qsizetype colon = text.indexOf(QLatin1Char(':'));
        if (colon > 0 && text.count(QLatin1Char(':')) == 1 && text.contains(QLatin1Char('.'))) {
            QHostAddress a;
            const uint port = text.mid(colon + 1).toUInt(&ok);
            if (ok && port <= 0xffff && a.setAddress(text.left(colon)) &&
                a.protocol() == QHostAddress::IPv4Protocol) {
                w.addrPort = true;
                w.address = qToBigEndian(a.toIPv4Address());
                w.port = quint16(port);
            }
        } else if (text.contains(QLatin1Char(':'))) {
            w.v6 = true;
        } else if (!text.isEmpty() && text.size() <= 15 &&
                   std::all_of(text.begin(), text.end(),
                               [](QChar c) { return c.isDigit() || c == QLatin1Char('.'); })) {
            const QStringList parts = text.split(QLatin1Char('.'));
            bool valid = parts.size() <= 4;
            int full = 0;
            for (qsizetype i = 0; valid && i < parts.size(); ++i) {
                const bool last = i == parts.size() - 1;
                if (last) {
                    if (parts[i].isEmpty())
                        break; // "198.51." : the prefix ends with a whole octet
                    w.partial = true;
                    for (int o = 0; o < 256; ++o)
                        if (QString::number(o).startsWith(parts[i]))
                            w.partialOctets.set(size_t(o));
                    if (parts.size() == 4) {
                        // A whole address: the last octet must equal, not start with.
                        w.partialOctets.reset();
                        const uint o = parts[i].toUInt(&ok);
                        if (ok && o < 256)
                            w.partialOctets.set(o);
                    }
                } else {
                    const uint o = parts[i].toUInt(&ok);
                    valid = ok && o < 256;
                    if (valid)
                        w.octets[full++] = quint8(o);
                }
            }
            w.v4 = valid;
            w.full = full;
        }
        w.slotHit.assign(size_t(slotCount), 0);
        for (qsizetype i = 0; i < slotCount; ++i)
            if (w.forwardMatch.testBit(i)) {
                w.slotHit[size_t(i)] = 1;
                w.anySlot = true;
            }
        w.anyProtocol = w.protocols.any();
        if (w.v4) {
            quint8 mask[4] = {};
            for (int i = 0; i < w.full; ++i)
                mask[i] = 0xff;
            std::memcpy(&w.v4Mask, mask, 4);
            std::memcpy(&w.v4Value, w.octets, 4);
            w.partialIndex = w.partial ? w.full : -1;
        }
        f.words.push_back(std::move(w));
    }
    f.empty = words.isEmpty() && !f.forwardedOnly && f.protocol < 0 && !f.oneForward &&
              !f.establishedOnly;
}

bool ConnectionTableModel::passes(const Entry &e) const {
    const CompiledFilter &f = *m_compiled;
    if (f.empty)
        return true;
    if (f.forwardedOnly && !m_slots[e.slot].ours)
        return false;
    if (f.protocol >= 0 && e.protocol != f.protocol)
        return false;
    if (f.oneForward && !f.forwardSlots.testBit(e.slot))
        return false;
    if (f.establishedOnly && !e.established())
        return false;
    for (const CompiledFilter::Word &w : f.words) {
        if (w.anySlot && e.slot < w.slotHit.size() && w.slotHit[e.slot])
            continue;
        if (w.anyProtocol && w.protocols[e.protocol])
            continue;
        if (w.states & (1u << e.stateCode()))
            continue;
        if (w.flagMask & e.status)
            continue;
        if (w.number >= 0) {
            if (e.id == quint32(w.number))
                continue;
            const quint16 p = quint16(w.number);
            if (w.number <= 0xffff && hasPorts(e.protocol) &&
                (e.port[0] == p || e.port[1] == p || e.port[2] == p || e.port[3] == p))
                continue;
        }
        bool hit = false;
        if (w.addrPort && !e.isV6()) {
            for (int i = 0; i < 4 && !hit; ++i)
                hit = e.addr[i] == w.address && e.port[i] == w.port;
        } else if (w.v4 && !e.isV6()) {
            for (int i = 0; i < 4 && !hit; ++i) {
                const quint32 a = e.addr[i];
                hit = (a & w.v4Mask) == w.v4Value &&
                      (w.partialIndex < 0 ||
                       w.partialOctets[reinterpret_cast<const quint8 *>(&a)[w.partialIndex]]);
            }
        } else if (w.v6 && e.isV6()) {
            for (int i = 0; i < 4 && !hit; ++i)
                hit = addressText(m_store->address(e, i), true).contains(w.text);
        }
        if (!hit)
            return false;
    }
    return true;
}

void ConnectionTableModel::setFilter(const ConnectionFilter &filter) {
    if (filter == m_filter)
        return;
    if (!m_paused)
        flush();
    const bool wasActive = !m_compiled->empty;
    m_filter = filter;
    recompileFilter();
    const bool active = !m_compiled->empty;
    if (!wasActive && !active) {
        emit countsChanged(shownCount(), totalCount());
        return;
    }
    if (!wasActive)
        m_sorted = m_rows; // the whole sorted order, kept while the filter hides rows
    if (active) {
        // The filter runs over the store in storage order, then the sorted index is walked
        // against the result: no entry is read out of order.
        // A word of bits at a time, a chunk of entries at a time: no lookup per entry.
        Bits pass;
        pass.resize(m_store->used);
        const quint32 used = m_store->used;
        for (quint32 base = 0; base < used; base += 64) {
            const Entry *e = &m_store->at(base); // 64 entries never cross a chunk
            const quint32 n = std::min<quint32>(64, used - base);
            quint64 word = 0;
            for (quint32 j = 0; j < n; ++j)
                if (!(e[j].flags & (Entry::Free | Entry::Dead)) && passes(e[j]))
                    word |= quint64(1) << j;
            pass.words[base >> 6] = word;
        }
        std::vector<quint32> rows;
        rows.reserve(m_sorted.size());
        for (quint32 i : m_sorted)
            if (pass.test(i))
                rows.push_back(i);
        publish(std::move(rows));
    } else {
        publish(std::move(m_sorted));
        freeVector(m_sorted);
    }
    emit countsChanged(shownCount(), totalCount());
}

// ---- applying a batch ------------------------------------------------------------------------

void ConnectionTableModel::setPaused(bool paused) {
    if (paused == m_paused)
        return;
    if (paused) {
        flush();
        m_paused = true;
        return;
    }
    m_paused = false;
    Pending &p = *m_pending;
    if (p.hasForwards)
        applyForwards(p.forwards);
    if (p.begin)
        applyBegin();
    for (size_t i = 0; i < p.records.size(); ++i) {
        if (p.destroyed[i])
            applyDestroy(p.records[i].id);
        else
            applyRecord(p.records[i]);
    }
    const bool end = p.end;
    m_pending = std::make_unique<Pending>();
    if (end)
        applyEnd();
    flush();
}

namespace {

// A vector about to hold `need` entries: grown with some room, so that the next flushes, which
// add a few hundred rows each, neither reallocate nor copy 4 MB (nor fault in fresh pages).
void reserveFor(std::vector<quint32> &v, size_t need) {
    if (v.capacity() < need)
        v.reserve(need + need / 32 + 1024);
}

} // namespace

void ConnectionTableModel::dropMarked(std::vector<quint32> &v, const Bits &marks, size_t most) {
    // The runs between marked entries move down by memmove; once the last of them (at most
    // `most`) is found, the rest moves as one block without testing its bits.
    if (most == 0)
        return;
    quint32 *d = v.data();
    const size_t n = v.size();
    size_t read = 0;
    while (read < n && !marks.test(d[read]))
        ++read;
    size_t write = read;
    size_t found = 0;
    while (read < n) {
        ++read; // d[read - 1] is marked
        size_t end = n;
        if (++found < most) {
            end = read;
            while (end < n && !marks.test(d[end]))
                ++end;
        }
        std::memmove(d + write, d + read, (end - read) * sizeof(quint32));
        write += end - read;
        read = end;
    }
    v.resize(write);
}

void ConnectionTableModel::mergeSorted(std::vector<quint32> &v,
                                       const std::vector<quint32> &add) const {
    if (add.empty())
        return;
    reserveFor(v, v.size() + add.size());
    if (m_sortColumn < 0) {
        v.insert(v.end(), add.begin(), add.end());
        return;
    }
    // In place from the back: each new entry (the largest first) finds its place among the
    // entries not yet moved, by a search that gallops back from the last place found, and the
    // run after it moves up once. k·log(n/k) comparisons (a few hundred new rows, or a counter
    // refresh that moves every row alike), n entries moved at most once, no second buffer.
    size_t end = v.size();
    v.resize(end + add.size());
    size_t write = v.size();
    const auto lessFn = [this](quint32 x, quint32 y) {
        return less(x, y);
    };
    for (size_t j = add.size(); j-- > 0;) {
        const quint32 a = add[j];
        // Everything from `hi` to `end` is not less than `a`; its place is in [lo, hi].
        size_t hi = end;
        size_t lo = 0;
        for (size_t step = 1; step <= hi; step *= 2) {
            const size_t probe = hi - step;
            if (less(v[probe], a)) {
                lo = probe + 1;
                break;
            }
            hi = probe;
        }
        const size_t at = size_t(
            std::lower_bound(v.begin() + qsizetype(lo), v.begin() + qsizetype(hi), a, lessFn) -
            v.begin());
        const size_t count = end - at;
        write -= count;
        if (count)
            std::memmove(v.data() + write, v.data() + at, count * sizeof(quint32));
        v[--write] = a;
        end = at;
    }
}

ConnectionTableModel::PersistentRows ConnectionTableModel::savePersistent() const {
    PersistentRows p;
    p.from = persistentIndexList();
    p.entries.reserve(size_t(p.from.size()));
    for (const QModelIndex &ix : std::as_const(p.from))
        p.entries.push_back(m_rows[size_t(ix.row())]);
    return p;
}

void ConnectionTableModel::restorePersistent(const PersistentRows &p) {
    if (p.from.isEmpty())
        return;
    // The entries of the persistent indexes (the current cell, the selection's corners) are
    // found in one pass over the rows by a bit each, not by a hash lookup per row.
    qsizetype distinct = 0;
    for (quint32 s : p.entries)
        if (!m_mark.test(s)) {
            m_mark.set(s);
            ++distinct;
        }
    QHash<quint32, int> rowOf;
    rowOf.reserve(distinct);
    for (size_t r = 0; r < m_rows.size() && rowOf.size() < distinct; ++r)
        if (m_mark.test(m_rows[r]))
            rowOf.insert(m_rows[r], int(r));
    for (quint32 s : p.entries)
        m_mark.clear(s);
    QModelIndexList to;
    to.reserve(p.from.size());
    for (qsizetype i = 0; i < p.from.size(); ++i) {
        const auto it = rowOf.constFind(p.entries[size_t(i)]);
        to.append(it == rowOf.constEnd() ? QModelIndex() : createIndex(*it, p.from[i].column()));
    }
    changePersistentIndexList(p.from, to);
}

void ConnectionTableModel::flushSome() {
    if (m_reorder) {
        m_flushTimer.stop(); // the staged flush's end flushes what came meanwhile
        // Rows destroyed meanwhile stay until its end (up to a second at a million rows): the
        // view shows them as gone (GoneRole) once it repaints.
        if (!m_dead.empty() && !m_rows.empty())
            emit dataChanged(index(0, 0), index(int(m_rows.size()) - 1, ColumnCount - 1),
                             {GoneRole});
        return;
    }
    const size_t rows = m_fresh.size() + m_moved.size();
    if (m_sortColumn >= 0 && !m_paused && m_stagedRows > 0 && rows >= size_t(m_stagedRows)) {
        m_flushTimer.stop();
        startReorder();
        if (!reorderStep(false))
            m_reorderTimer.start(0);
        return;
    }
    flush();
}

void ConnectionTableModel::startReorder() {
    m_reorder = std::make_unique<Reorder>();
    Reorder &r = *m_reorder;
    r.filtered = !m_compiled->empty;
    r.radix.keys.reserve(size_t(m_count));
    // The staged flush places these by their keys as read; a change after that marks them again.
    for (quint32 i : m_fresh)
        m_store->at(i).flags &= quint8(~Entry::Fresh);
    for (quint32 i : m_moved)
        m_store->at(i).flags &= quint8(~Entry::Moved);
    m_fresh.clear();
    m_moved.clear();
}

bool ConnectionTableModel::reorderStep(bool all) {
    Reorder &r = *m_reorder;
    EntryStore &store = *m_store;
    QElapsedTimer clock;
    clock.start();
    // Work in units of 4096 entries until the turn's share is used: `m_stepRows` entries, or
    // 8 ms, whichever comes first (a loaded machine gets fewer entries per turn, not longer
    // turns).
    constexpr size_t unit = 4096;
    size_t budget = all ? SIZE_MAX : size_t(std::max(m_stepRows, 1));
    const auto more = [&](size_t did) {
        budget -= std::min(budget, std::max<size_t>(did, 1));
        return all || (budget > 0 && clock.nsecsElapsed() < 8'000'000);
    };
    const bool asc = m_sortOrder == Qt::AscendingOrder;
    for (;;) {
        switch (r.phase) {
        case Reorder::Read: {
            // In storage order, sequential reads; the new since the start wait (Fresh).
            const quint32 used = store.used;
            if (r.filtered)
                r.passed.resize(used);
            const quint32 end = quint32(std::min<size_t>(used, r.next + std::min(unit, budget)));
            const size_t did = end - r.next;
            for (; r.next < end; ++r.next) {
                const Entry &e = store.at(r.next);
                if (e.flags & (Entry::Free | Entry::Dead | Entry::Fresh))
                    continue;
                SortKeyData k = sortKey(e, r.next);
                if (!asc) {
                    k.primary = ~k.primary;
                    k.secondary = ~k.secondary;
                }
                r.radix.count(k);
                r.radix.keys.push_back(k);
                if (r.filtered && passes(e))
                    r.passed.set(r.next);
            }
            if (r.next >= used)
                r.phase = Reorder::Sort;
            if (!more(did))
                return false;
            break;
        }
        case Reorder::Sort: {
            const size_t did = r.radix.scatter(std::min(budget, size_t(1) << 18));
            if (r.radix.done()) {
                freeVector(r.radix.other);
                freeVector(r.radix.histogram);
                r.phase = Reorder::Ties;
                r.next = 0;
            }
            if (!more(did))
                return false;
            break;
        }
        case Reorder::Ties: {
            // Equal keys (the same 4-tuple in two protocols, IPv6 prefixes): less() decides, on
            // the entries as they are now (a valid order; an entry that changed is moved again).
            std::vector<SortKeyData> &keys = r.radix.keys;
            const size_t n = keys.size();
            const size_t i =
                sortTies(keys, r.next, std::min(n, r.next + std::min(unit * 16, budget)));
            const size_t did = i - r.next;
            r.next = quint32(i);
            if (i >= n) {
                r.phase = Reorder::Build;
                r.next = 0;
                r.all.reserve(n);
                if (r.filtered)
                    r.rows.reserve(m_rows.size() + m_rows.size() / 8 + 1024);
            }
            if (!more(did))
                return false;
            break;
        }
        case Reorder::Build: {
            // The destroyed since the start are left out: shown ones go with the layout change's
            // remove, and their slots are given back after it.
            r.gone.resize(store.used); // the new since the start may die too
            for (quint32 d : m_dead)
                r.gone.set(d);
            const std::vector<SortKeyData> &keys = r.radix.keys;
            const size_t n = keys.size();
            const size_t end = std::min(n, size_t(r.next) + std::min(unit * 16, budget));
            for (size_t i = r.next; i < end; ++i) {
                const quint32 slot = keys[i].slot;
                if (r.gone.test(slot))
                    continue;
                r.all.push_back(slot);
                if (r.filtered && r.passed.test(slot))
                    r.rows.push_back(slot);
            }
            const size_t did = end - r.next;
            r.next = quint32(end);
            if (end >= n) {
                freeVector(r.radix.keys);
                r.phase = Reorder::Show;
            }
            if (!more(did))
                return false;
            break;
        }
        case Reorder::Show: {
            // Only entries destroyed in this very turn can still be in the order: take them out.
            r.gone.resize(store.used);
            for (quint32 d : m_dead)
                r.gone.set(d);
            const auto dead = [&r](quint32 i) {
                return r.gone.test(i);
            };
            r.all.erase(std::remove_if(r.all.begin(), r.all.end(), dead), r.all.end());
            if (r.filtered) {
                r.rows.erase(std::remove_if(r.rows.begin(), r.rows.end(), dead), r.rows.end());
                m_sorted = std::move(r.all);
                publish(std::move(r.rows));
            } else {
                freeVector(m_sorted);
                publish(std::move(r.all));
            }
            // The destroyed are in neither order now: their slots go back to the store, and out
            // of the lists of the flush to come.
            m_fresh.erase(std::remove_if(m_fresh.begin(), m_fresh.end(), dead), m_fresh.end());
            m_moved.erase(std::remove_if(m_moved.begin(), m_moved.end(), dead), m_moved.end());
            for (quint32 d : m_dead)
                store.release(d);
            m_dead.clear();
            m_reorder.reset();
            trimWorkBuffers();
            emit countsChanged(shownCount(), totalCount());
            if (!m_fresh.empty() || !m_moved.empty() || m_changed)
                m_flushTimer.start(0);
            finishSnapshot();
            return true;
        }
        }
    }
}

void ConnectionTableModel::flush() {
    m_flushTimer.stop();
    if (m_reorder) {
        m_reorderTimer.stop();
        reorderStep(true);
    }
    if (m_paused)
        return;
    if (m_fresh.empty() && m_moved.empty() && m_dead.empty()) {
        if (m_changed && !m_rows.empty())
            emit dataChanged(index(0, 0), index(int(m_rows.size()) - 1, ColumnCount - 1));
        m_changed = false;
        return;
    }
    QElapsedTimer cost;
    cost.start();
    EntryStore &store = *m_store;
    const bool filtered = !m_compiled->empty;
    const bool sorted = m_sortColumn >= 0;
    const auto alive = [&store](quint32 i) {
        return !(store.at(i).flags & Entry::Dead);
    };
    m_shown.resize(store.used);
    m_mark.resize(store.used);

    // Into the held order: the new, and (when sorted) the moved, at their new place.
    std::vector<quint32> &add = m_add;
    add.clear();
    for (quint32 i : m_fresh)
        if (alive(i))
            add.push_back(i);
    if (sorted)
        for (quint32 i : m_moved)
            if (alive(i))
                add.push_back(i);
    sortIndex(add);

    // While a filter hides rows, the held order is kept apart from the rows: out with the
    // destroyed and (sorted) the moved, in with `add`. Otherwise the rows are that order.
    if (filtered) {
        for (quint32 i : m_dead)
            m_mark.set(i);
        if (sorted)
            for (quint32 i : m_moved)
                m_mark.set(i);
        dropMarked(m_sorted, m_mark, m_dead.size() + (sorted ? m_moved.size() : 0));
        for (quint32 i : m_dead)
            m_mark.clear(i);
        for (quint32 i : m_moved)
            m_mark.clear(i);
        mergeSorted(m_sorted, add);
    }

    // The rows: which leave the view, which move (sorted: out of their place, back in at the new
    // one), which come in. `m_mark` holds the leaving and the moving until the rows are redone.
    std::vector<quint32> &leaving = m_leaving;
    leaving.clear();
    std::vector<quint32> &rowsAdd = m_rowsAdd; // sorted like `add`: the moving and the new
    rowsAdd.clear();
    size_t moving = 0;
    bool arrivalPlace = false; // unsorted: a row comes back in at its place in m_sorted
    for (quint32 i : m_dead)
        if (m_shown.test(i)) {
            leaving.push_back(i);
            m_mark.set(i);
        }
    for (quint32 i : m_moved) {
        if (!alive(i))
            continue;
        const bool passes = !filtered || this->passes(store.at(i));
        if (m_shown.test(i)) {
            if (!passes) {
                leaving.push_back(i);
                m_mark.set(i);
            } else if (sorted) {
                m_mark.set(i);
                ++moving;
            }
        } else if (passes && !sorted) {
            arrivalPlace = true;
        }
    }
    for (quint32 i : add)
        if (!filtered || passes(store.at(i)))
            rowsAdd.push_back(i);

    if (arrivalPlace) {
        // Unsorted and filtered, an entry that now passes goes back where it arrived: the rows
        // are rebuilt from the held order by a bit per entry (rare: the app always sorts).
        Bits enter;
        enter.resize(store.used);
        for (quint32 i : m_moved)
            if (alive(i) && !m_shown.test(i) && passes(store.at(i)))
                enter.set(i);
        for (quint32 i : rowsAdd)
            enter.set(i);
        std::vector<quint32> finalRows;
        finalRows.reserve(m_rows.size() + rowsAdd.size() + 64);
        for (quint32 i : m_sorted)
            if ((m_shown.test(i) && !m_mark.test(i)) || enter.test(i))
                finalRows.push_back(i);
        for (quint32 i : m_dead)
            m_mark.clear(i);
        for (quint32 i : m_moved)
            m_mark.clear(i);
        publish(std::move(finalRows));
    } else {
        publishDelta(moving);
    }

    for (quint32 i : m_fresh)
        store.at(i).flags &= quint8(~Entry::Fresh);
    for (quint32 i : m_moved)
        store.at(i).flags &= quint8(~Entry::Moved);
    for (quint32 i : m_dead)
        store.release(i);
    m_fresh.clear();
    m_moved.clear();
    m_dead.clear();
    add.clear(); // scratch, like the two below
    leaving.clear();
    rowsAdd.clear();
    trimWorkBuffers();
    if (m_changed && !m_rows.empty())
        emit dataChanged(index(0, 0), index(int(m_rows.size()) - 1, ColumnCount - 1));
    m_changed = false;
    if (m_loading)
        emit snapshotProgress(m_snapshotCount);
    emit countsChanged(shownCount(), totalCount());
    // A flush costs O(rows): while a big snapshot streams in, flush less often, so that the
    // merges take a bounded share of the time (about a fifth) instead of growing with it.
    m_lastFlushMs = int(cost.elapsed());
    finishSnapshot();
}

void ConnectionTableModel::publishDelta(size_t moving) {
    // m_leaving: shown rows that go; m_rowsAdd (sorted): rows that come in, and `moving` of them
    // are shown rows whose place changed; m_mark: the leaving and the moving.
    std::vector<quint32> &leaving = m_leaving;
    std::vector<quint32> &rowsAdd = m_rowsAdd;
    const auto clearMarks = [&] {
        for (quint32 i : leaving)
            m_mark.clear(i);
        if (moving)
            for (quint32 i : rowsAdd)
                m_mark.clear(i);
    };
    if (leaving.empty() && rowsAdd.empty())
        return;

    // A few rows: exact signals. Each costs Qt's view a pass over its rows (its vertical header
    // keeps a record per row), about what the one layout change below costs; past a couple of
    // blocks the layout change is cheaper (docs/benchmarks.md).
    if (moving == 0 && leaving.size() + rowsAdd.size() <= size_t(std::max(m_exactSignalRows, 0))) {
        if (!leaving.empty()) {
            std::vector<int> at;
            for (size_t r = 0; r < m_rows.size() && at.size() < leaving.size(); ++r)
                if (m_mark.test(m_rows[r]))
                    at.push_back(int(r));
            clearMarks();
            for (size_t k = at.size(); k > 0;) {
                // One signal per run of adjacent rows, the last run first.
                size_t first = k - 1;
                while (first > 0 && at[first - 1] == at[first] - 1)
                    --first;
                const int from = at[first];
                const int to = at[k - 1];
                beginRemoveRows({}, from, to);
                for (int r = from; r <= to; ++r)
                    m_shown.clear(m_rows[size_t(r)]);
                m_rows.erase(m_rows.begin() + from, m_rows.begin() + to + 1);
                endRemoveRows();
                k = first;
            }
        }
        const auto lessFn = [this](quint32 x, quint32 y) {
            return less(x, y);
        };
        for (size_t k = rowsAdd.size(); k > 0;) {
            // The rows that land at the same place go in as one block, the last block first.
            const auto place = [&](quint32 i) {
                return m_sortColumn < 0
                           ? m_rows.size()
                           : size_t(std::lower_bound(m_rows.begin(), m_rows.end(), i, lessFn) -
                                    m_rows.begin());
            };
            const size_t at = place(rowsAdd[k - 1]);
            size_t first = k - 1;
            while (first > 0 && place(rowsAdd[first - 1]) == at)
                --first;
            const int n = int(k - first);
            beginInsertRows({}, int(at), int(at) + n - 1);
            reserveFor(m_rows, m_rows.size() + size_t(n));
            m_rows.insert(m_rows.begin() + qsizetype(at), rowsAdd.begin() + qsizetype(first),
                          rowsAdd.begin() + qsizetype(k));
            for (size_t j = first; j < k; ++j)
                m_shown.set(rowsAdd[j]);
            endInsertRows();
            k = first;
        }
        return;
    }

    // Otherwise three signals: the new rows appended (one insert), everything moved to its place
    // with the leaving ones last (one layout change), and those cut off (one remove). The row
    // index is redone in place: the marked out, the new merged in, no second index built.
    const size_t oldCount = m_rows.size();
    const size_t entering = rowsAdd.size() - moving;
    if (entering > 0) {
        beginInsertRows({}, int(oldCount), int(oldCount + entering) - 1);
        reserveFor(m_rows, oldCount + entering + leaving.size());
        for (quint32 i : rowsAdd)
            if (!m_shown.test(i)) {
                m_rows.push_back(i);
                m_shown.set(i);
            }
        endInsertRows();
    }
    emit layoutAboutToBeChanged({}, QAbstractItemModel::VerticalSortHint);
    const PersistentRows persistent = savePersistent();
    m_rows.resize(oldCount);
    dropMarked(m_rows, m_mark, leaving.size() + moving);
    clearMarks();
    mergeSorted(m_rows, rowsAdd);
    const size_t finalCount = m_rows.size();
    m_rows.insert(m_rows.end(), leaving.begin(), leaving.end());
    restorePersistent(persistent);
    emit layoutChanged({}, QAbstractItemModel::VerticalSortHint);
    if (!leaving.empty()) {
        beginRemoveRows({}, int(finalCount), int(m_rows.size()) - 1);
        for (quint32 i : leaving)
            m_shown.clear(i);
        m_rows.resize(finalCount);
        endRemoveRows();
    }
}

void ConnectionTableModel::publish(std::vector<quint32> &&finalRows) {
    // Added: in the final rows, not shown. Removed: shown, not in the final rows. Both found
    // with bitmaps over the entry slots (a bit each), not by reading the entries. The removed go
    // straight after the final rows, in their old order: the order the layout change below
    // moves to, built without a second index.
    m_shown.resize(m_store->used);
    m_mark.resize(m_store->used);
    std::vector<quint32> added;
    for (quint32 i : finalRows) {
        m_mark.set(i);
        if (!m_shown.test(i))
            added.push_back(i);
    }
    const int oldCount = int(m_rows.size());
    const int finalCount = int(finalRows.size());
    const int removedCount = oldCount - (finalCount - int(added.size()));
    std::vector<quint32> &target = finalRows;
    target.reserve(size_t(finalCount + removedCount));
    for (quint32 i : m_rows)
        if (!m_mark.test(i))
            target.push_back(i);
    for (int r = 0; r < finalCount; ++r)
        m_mark.clear(target[size_t(r)]);
    const auto removedBegin = target.begin() + finalCount;

    // The common live cases get exact signals: rows only added as one block, or only removed.
    if (removedCount == 0) {
        // Is the target the old rows with one block inserted?
        int first = 0;
        while (first < oldCount && m_rows[size_t(first)] == target[size_t(first)])
            ++first;
        const int n = int(added.size());
        if (n == 0 && first == oldCount)
            return; // nothing moved
        const bool oneBlock =
            n > 0 && std::equal(m_rows.begin() + first, m_rows.end(), target.begin() + first + n) &&
            std::all_of(target.begin() + first, target.begin() + first + n,
                        [this](quint32 i) { return !m_shown.test(i); });
        if (oneBlock) {
            beginInsertRows({}, first, first + n - 1);
            for (quint32 i : added)
                m_shown.set(i);
            m_rows = std::move(target);
            endInsertRows();
            return;
        }
    } else if (added.empty()) {
        int first = 0;
        while (first < finalCount && m_rows[size_t(first)] == target[size_t(first)])
            ++first;
        if (std::equal(target.begin() + first, removedBegin,
                       m_rows.begin() + first + removedCount)) {
            beginRemoveRows({}, first, first + removedCount - 1);
            for (auto it = removedBegin; it != target.end(); ++it)
                m_shown.clear(*it);
            target.resize(size_t(finalCount));
            m_rows = std::move(target);
            endRemoveRows();
            return;
        }
    }

    // Otherwise: the new rows appended (one insert), everything moved to its place with the
    // removed ones last (one layout change), and those cut off (one remove). A signal per row
    // would cost the view O(rows) each; these cost it O(rows) once.
    if (!added.empty()) {
        beginInsertRows({}, oldCount, oldCount + int(added.size()) - 1);
        for (quint32 i : added)
            m_shown.set(i);
        m_rows.insert(m_rows.end(), added.begin(), added.end());
        endInsertRows();
    }
    if (target != m_rows) {
        emit layoutAboutToBeChanged({}, QAbstractItemModel::VerticalSortHint);
        const PersistentRows persistent = savePersistent();
        m_rows = std::move(target);
        restorePersistent(persistent);
        emit layoutChanged({}, QAbstractItemModel::VerticalSortHint);
    }
    if (removedCount > 0) {
        beginRemoveRows({}, finalCount, int(m_rows.size()) - 1);
        for (size_t r = size_t(finalCount); r < m_rows.size(); ++r)
            m_shown.clear(m_rows[r]);
        m_rows.resize(size_t(finalCount));
        endRemoveRows();
    }
}

void ConnectionTableModel::setEntryLimit(quint32 entries) {
    m_entryLimit = std::min(entries, IdIndex::maxSlots);
}

// ---- lookups ---------------------------------------------------------------------------------

int ConnectionTableModel::rowForId(quint32 id) const {
    const qint64 e = findEntry(id);
    if (e < 0 || !m_shown.test(quint32(e)))
        return -1;
    // Entry → row is not kept (4 more bytes per entry); a shown entry is found by a scan of
    // the row index, about 1 ms per million rows.
    const auto it = std::find(m_rows.begin(), m_rows.end(), quint32(e));
    return it == m_rows.end() ? -1 : int(it - m_rows.begin());
}

quint32 ConnectionTableModel::idAt(int row) const {
    if (row < 0 || row >= int(m_rows.size()))
        return 0;
    return m_store->at(m_rows[size_t(row)]).id;
}

QString ConnectionTableModel::forwardIdAt(int row) const {
    if (row < 0 || row >= int(m_rows.size()))
        return {};
    return m_slots[m_store->at(m_rows[size_t(row)]).slot].id;
}

QString ConnectionTableModel::rowsText(const QList<int> &rows, bool csv) const {
    const QString sep = csv ? QStringLiteral(",") : QStringLiteral("\t");
    QString out;
    QStringList cells;
    cells << (csv ? QStringLiteral("id") : tr("Id"));
    for (int c = 0; c < ColumnCount; ++c)
        cells << headerData(c, Qt::Horizontal).toString();
    const auto line = [&](QStringList &cs) {
        if (csv)
            for (QString &s : cs)
                s = csvField(s);
        out += cs.join(sep) + QLatin1Char('\n');
    };
    line(cells);
    for (int r : rows) {
        if (r < 0 || r >= int(m_rows.size()))
            continue;
        const Entry &e = m_store->at(m_rows[size_t(r)]);
        cells.clear();
        cells << QString::number(e.id);
        for (int c = 0; c < ColumnCount; ++c)
            cells << cellText(e, c);
        line(cells);
    }
    return out;
}

qsizetype ConnectionTableModel::bytesUsed() const {
    return m_store->bytes() + qsizetype(m_index->buckets.capacity()) * 4 +
           qsizetype(m_shown.words.capacity() + m_mark.words.capacity()) * 8 +
           qsizetype(m_rows.capacity() + m_sorted.capacity() + m_fresh.capacity() +
                     m_moved.capacity() + m_dead.capacity() + m_add.capacity() +
                     m_leaving.capacity() + m_rowsAdd.capacity()) *
               4;
}

} // namespace portico
