// SPDX-License-Identifier: GPL-3.0-or-later
// The classic iptables commands that would do what one forward does, for people who know
// iptables and for the preview. Portico itself never runs them: the helper writes nftables.
#pragma once

#include "forward.h"

#include <QStringList>

namespace portico {

// localNetworks: the networks of this host's interfaces. The hairpin rule names the one that
// holds the target (iptables cannot compare the in and out interfaces, so it needs the target's
// network), or a placeholder with a comment when none does.
QStringList iptablesCommands(const Forward &f, const QList<Cidr> &localNetworks = {});

} // namespace portico
