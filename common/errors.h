// SPDX-License-Identifier: GPL-3.0-or-later
// The D-Bus error names of the helper's API. Each error's message is a sentence a person can act
// on; the name lets programs tell the cases apart. docs/dbus-api.md lists when each is sent.
#pragma once

namespace portico::errors {

// Unknown keys, values of the wrong type, values out of range: the message names the value.
inline constexpr char InvalidArgs[] = "org.freedesktop.DBus.Error.InvalidArgs";
// polkit said no (or could not be asked): nothing was changed.
inline constexpr char NotAuthorized[] = "io.github.portico.Error.NotAuthorized";
// A name or a claim (interface, protocol, address, port) is already used by another forward.
inline constexpr char Duplicate[] = "io.github.portico.Error.Duplicate";
// No forward has this id.
inline constexpr char NotFound[] = "io.github.portico.Error.NotFound";
// ReplaceForwards with a generation that is no longer current: someone else changed the forwards.
inline constexpr char StaleGeneration[] = "io.github.portico.Error.StaleGeneration";
// The kernel refused the ruleset; the message names the forward and the field.
inline constexpr char Kernel[] = "io.github.portico.Error.Kernel";
// The saved state could not be written; the kernel was put back as it was.
inline constexpr char State[] = "io.github.portico.Error.State";
// Reading or writing the forwarding sysctls failed.
inline constexpr char Sysctl[] = "io.github.portico.Error.Sysctl";

} // namespace portico::errors
