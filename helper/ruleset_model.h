// SPDX-License-Identifier: GPL-3.0-or-later
// The compiled form of `table inet portico`: chains, statements, sets and their elements as
// plain data. Both the netlink batch (ruleset_writer.cpp) and the nft text (ruleset_text.cpp)
// are produced from this one model, so the preview can never disagree with the kernel.
#pragma once

#include "forward.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

#include <vector>

namespace portico::ruleset {

inline constexpr quint32 markMask = 0x00ffffff;
inline constexpr quint32 hairpinBit = 0x01000000;

// One field of a concatenated set key, in the order nft concatenates them.
enum class KeyField : quint8 { SrcAddr4, SrcAddr6, IifName, DstAddr4, DstAddr6, L4Proto, DstPort };

// What a map yields: a conntrack mark, a NAT target or a redirect port (None: a plain set).
enum class DataType : quint8 { None, Mark, Addr4Port, Addr6Port, Port };

// The bus key that a set's elements come from, so a kernel refusal can name the field.
enum class Blame : quint8 { None, Id, ExternalPort, Sources, Masquerade, Hairpin };

int keyFieldLength(KeyField f); // bytes in a concatenation (padded to 4)
int dataTypeLength(DataType d);
QString blameKey(Blame b);   // "external_port"
QString blameLabel(Blame b); // "external port"

struct Set {
    QString name;
    QList<KeyField> key;
    DataType data = DataType::None;
    bool anonymous = false; // the constant `{ tcp, udp }` of one rule
    bool counter = false;   // every element carries a counter, bumped by each lookup that hits
    Blame blame = Blame::None;
    quint32 id = 0;       // NFTA_SET_ID within the batch
    quint32 capacity = 0; // `size`: the most elements the kernel will take; 0 = unbounded
    int shape = -1;       // the shape code of a shape's map (Layout::shapes), -1 for others

    int keyLength = 0;
    int dataLength = 0;
    // Elements, flat to avoid one allocation per element: element i has its key at
    // keys[i * keyLength] and its value at values[i * dataLength].
    QByteArray keys;
    QByteArray values;
    std::vector<int> owners; // index of the forward each element belongs to, -1 for none

    qsizetype size() const { return qsizetype(owners.size()); }
    const char *keyAt(qsizetype i) const { return keys.constData() + i * keyLength; }
    const char *valueAt(qsizetype i) const { return values.constData() + i * dataLength; }
};

enum class StmtKind : quint8 {
    Nfproto,          // meta nfproto ipv4|ipv6
    L4ProtoInSet,     // meta l4proto { tcp, udp } (nft wants a transport match before NAT)
    FibDaddrLocal,    // fib daddr type local
    NotLoopback,      // ip daddr != 127.0.0.0/8 | ip6 daddr != ::1
    CtMarkSetMap,     // ct mark set KEY map @set
    DnatMap,          // dnat ip|ip6 to KEY map @set
    RedirectMap,      // redirect to : KEY map @set
    CtStateNew,       // ct state new
    CtStatusDnat,     // ct status dnat
    CtMarkInSet,      // ct mark @set
    FibHairpin,       // fib daddr . iif oif != 0
    CtMarkSetHairpin, // ct mark set ct mark | 0x01000000
    MaskedMarkInSet,  // ct mark & 0x00ffffff @set
    HairpinBitSet,    // ct mark & 0x01000000 == 0x01000000
    Masquerade,       // masquerade
    Accept,           // accept
    Counter,          // counter: the rule's packets and bytes, which the chain summary adds up
};

struct Statement {
    Statement(StmtKind k, int s = -1, bool v6 = false, QList<KeyField> fields = {}, int mask = -1)
        : kind(k)
        , set(s)
        , ipv6(v6)
        , key(std::move(fields))
        , sourceMask(mask) {}

    StmtKind kind;
    int set = -1;        // index into Model::sets
    bool ipv6 = false;   // Nfproto, NotLoopback, DnatMap
    QList<KeyField> key; // CtMarkSetMap, DnatMap, RedirectMap
    int sourceMask = -1; // the key's source address is masked to this prefix; -1: not masked
};

struct Rule {
    QList<Statement> statements;
};

enum class Hook : quint8 { Prerouting, Input, Forward, Output, Postrouting };

struct Chain {
    QString name;
    bool nat = false; // type nat, else type filter
    Hook hook = Hook::Prerouting;
    int priority = 0;
    QList<Rule> rules;
};

struct Model {
    QList<Chain> chains;
    QList<Set> sets;
    // Who the elements belong to, for error messages: forward index -> id and name.
    QStringList forwardIds;
    QStringList forwardNames;
};

// What decides the table's chains, rules and sets, without their elements: the shapes in use
// and the side sets. A named set exists exactly when it has elements, so the layout of a table
// follows from the sizes of its sets.
struct Layout {
    // Shape code (Set::shape) and the elements of each of its two maps, which size them.
    std::vector<std::pair<int, qsizetype>> shapes;
    qsizetype enabled = 0; // enabled forwards: the counters set's elements (0: no set)
    bool masquerade = false;
    bool hairpin = false;
};

// The chains with their rules and the sets (all without elements) of a layout; set ids are
// numbered from 1 in order, as compile() does.
Model compileLayout(const Layout &layout);

// Turns the enabled forwards into the table. Forwards are taken as already validated; a clash
// the validator missed is left for the kernel to refuse (and the writer to report).
Model compile(const QList<Forward> &forwards);

// The nft text of the model, loadable by `nft -f` whether the table exists or not.
QString renderText(const Model &model);

} // namespace portico::ruleset
