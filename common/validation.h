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

// Field parsers. Each returns an empty string on success, or the reason in plain words.
// `what` names the field in the message ("external port", "target address").
QString parsePortRange(const QString &text, const QString &what, PortRange *out);
QString parseAddress(const QString &text, const QString &what, QHostAddress *out);
QString parseCidr(const QString &text, QHostAddress::NetworkLayerProtocol family, Cidr *out);
QString checkName(const QString &name);
QString checkInterfaceName(const QString &name);
QString checkComment(const QString &comment);

// Consistency of one forward (range lengths, families, source overlap). Messages name the forward.
ValidationError validateForward(const Forward &f);

// The whole set: each forward, unique names, unique ids and no two forwards claiming the same
// interface, protocol, address and port.
ValidationError validateForwards(const QList<Forward> &forwards);

} // namespace portico
