// SPDX-License-Identifier: GPL-3.0-or-later
// Picks one forward's own objects out of the helper's Ruleset() text: its counter and the map
// and set elements that carry its mark or its keys, so that the preview can show them first.
#pragma once

#include "forward.h"

#include <QStringList>

namespace portico {

// Lines like "map v4_dnat_nat: tcp . 80 : 198.51.100.10 . 8080"; empty when the forward has no
// id or is not in the text (disabled forwards are not in the kernel).
QStringList rulesetExcerpt(const QString &ruleset, const Forward &f);

} // namespace portico
