// SPDX-License-Identifier: GPL-3.0-or-later
// Parsers of the kernel's nf_tables replies that the writer reads back, kept apart so that unit
// tests can feed them recorded messages.
#pragma once

#include "ruleset_writer.h"

#include <QString>

struct nlmsghdr;

namespace portico::ruleset {

// One NEWOBJ message of a GETOBJ dump: true (and the counter's name and values) only for a
// counter in our own `table inet portico`.
bool parseCounterObject(const nlmsghdr *nlh, QString *name, Counter *out);

} // namespace portico::ruleset
