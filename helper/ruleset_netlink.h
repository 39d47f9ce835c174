// SPDX-License-Identifier: GPL-3.0-or-later
// Parsers of the kernel's nf_tables replies that the writer reads back, kept apart so that unit
// tests can feed them recorded messages.
#pragma once

#include "ruleset_writer.h"

#include <QHash>
#include <QString>

struct nlmsghdr;

namespace portico::ruleset {

// One NEWSETELEM message of a GETSETELEM dump of our `counters` set: adds each element's
// counter to *out under the forward id its mark stands for. False if the message is not about
// that set of `table inet portico`.
bool parseCounterElements(const nlmsghdr *nlh, QHash<QString, Counter> *out);

} // namespace portico::ruleset
