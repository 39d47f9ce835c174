// SPDX-License-Identifier: GPL-3.0-or-later
// The classic iptables commands that would do what one forward does, for people who know
// iptables and for the preview. Portico itself never runs them: the helper writes nftables.
#pragma once

#include "forward.h"

#include <QStringList>

namespace portico {

QStringList iptablesCommands(const Forward &f);

} // namespace portico
