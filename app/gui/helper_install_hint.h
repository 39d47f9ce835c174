// SPDX-License-Identifier: GPL-3.0-or-later
// What the "helper not installed" page adds for the way this app was installed: an AppImage
// carries the helper and names the command that installs it on the host.
#pragma once

#include <QString>

namespace portico {

// Empty unless there is something to add. The app itself never runs pkexec (DESIGN.md): the
// user runs the command in a terminal, where install-helper explains each file first.
QString helperInstallHint();

} // namespace portico
