// SPDX-License-Identifier: GPL-3.0-or-later
// Field parsers and consistency checks for forwards: the one validator that the helper, the GUI
// and the CLI all use, so that each side refuses exactly the same input with the same words.
#pragma once

#include "forward.h"

#include <QList>
#include <QString>

namespace portico {

// A refusal: which bus key it is about (empty for the forward as a whole) and a sentence a person
// can act on. An empty message means the input was accepted.
struct ValidationError {
    QString key;
    QString message;

    bool ok() const { return message.isEmpty(); }
    static ValidationError none() { return {}; }
};

// Field parsers. Each returns an empty string on success, or the reason in plain words, and
// writes *out (may be null) only on success.
// `what` names the field in the message ("external port", "target address").
// parsePortRange and parseAddress accept "" as "not set" (a null range or address); whether a
// field is required is validateForward's call. parseAddress takes only plain unicast literals
// (dotted-quad IPv4 or IPv6, no scope id, not IPv4-mapped). parseCidr takes "ADDR" (a host) or
// "ADDR/N" with no host bits set; `family` restricts it to IPv4 or IPv6, any other value allows
// both. checkInterfaceName: empty (any) or at most 15 bytes of printable ASCII, not "." or "..",
// without '/', ':', '%' or spaces. checkComment: at most 256 characters and 256 UTF-8 bytes, no
// control characters (newlines and tabs included).
QString parsePortRange(const QString &text, const QString &what, PortRange *out);
QString parseAddress(const QString &text, const QString &what, QHostAddress *out);
QString parseCidr(const QString &text, QHostAddress::NetworkLayerProtocol family, Cidr *out);
QString checkName(const QString &name);
QString checkInterfaceName(const QString &name);
QString checkComment(const QString &comment);

// One forward on its own: every field rule again (a Forward may be built in code) plus the
// consistency rules (range lengths, families, source overlap, local redirects, no loopback
// target: a local redirect is the way to reach this host). Messages start
// "forward 'NAME': ". Sources of both families are allowed only when neither address is set
// (then the forward applies to both families).
ValidationError validateForward(const Forward &f);

// The whole set: each forward, unique names (key "name"), unique ids (key "id") and no two
// forwards, enabled or not, claiming the same interface, protocol, address, port and family
// (key "external_port"). A forward with an interface and hairpin also claims its ports on any
// interface. The later forward in the list is named as the one that claims. O(n log n).
ValidationError validateForwards(const QList<Forward> &forwards);

// One forward joining a set that is already valid: the checks of validateForwards that involve
// f, in one pass without sorting or allocating, so that AddForward and UpdateForward stay fast
// at 100,000 forwards. `replacing` is the index in `others` of the forward that f replaces (an
// update), or -1. Messages and keys are those of validateForwards, with f as the claimant.
ValidationError validateAgainst(const Forward &f, const QList<Forward> &others,
                                qsizetype replacing = -1);

} // namespace portico
