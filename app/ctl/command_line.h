// SPDX-License-Identifier: GPL-3.0-or-later
// porticoctl's command line: words to a typed Invocation, with usage errors in plain words.
// Free of the bus, so that the unit tests can feed it argument lists directly.
#pragma once

#include "forward.h"

#include <QSet>
#include <QString>
#include <QStringList>
#include <optional>

namespace portico::ctl {

enum class Command {
    None, // no command given: print the usage
    List,
    Show,
    Counters,
    Add,
    Update,
    Remove,
    Enable,
    Disable,
    IpForward,
    Ruleset,
    Export,
    Import,
    Watch,
    // Issue 4: conntrack.
    Connections,
    Kill,
    Accounting,
    Diagnose, // issue 5
    // issue 5
    Chains,
    Trace,
};

// Issue 4: the filter of connections and kill, as given (the helper validates it again).
struct ConnectionOptions {
    QString forward;        // --forward NAME|ID
    QString protocol;       // --proto
    QString address;        // --address
    quint16 port = 0;       // --port
    bool forwarded = false; // --forwarded
    QList<quint32> ids;     // --id (kill)
    bool follow = false;    // --follow (connections)

    bool isEmpty() const {
        return forward.isEmpty() && protocol.isEmpty() && address.isEmpty() && !port &&
               !forwarded && ids.isEmpty();
    }
};

struct Invocation {
    Command command = Command::None;
    bool help = false;             // --help: print the usage of `command` (or the general usage)
    QString busAddress;            // --bus; empty = PORTICO_BUS_ADDRESS or the system bus
    bool askPassword = true;       // --no-ask-password: start no text polkit agent
    bool json = false;             // list, show, counters
    QString ref;                   // NAME|ID for show, update, remove, enable, disable
    Forward forward;               // add, update: the values given
    QSet<QString> givenKeys;       // add, update: the bus keys given on the command line
    std::optional<bool> ipForward; // ip-forward on|off; unset = print the state
    QString file;                  // export (empty = stdout), import ("-" = stdin)
    int count = 0;                 // watch --count N: stop after N changes; 0 = never
    ConnectionOptions connections; // connections, kill
    int seconds = 0;               // trace --seconds N (1-60); 0 = the helper's default (30)
    int traceSeconds = 0;          // diagnose --trace N (1-60): trace after diagnosing; 0 = no
    // accounting on|off; unset = print the state
    std::optional<bool> accounting;
};

struct ParseResult {
    Invocation invocation;
    QString error; // a usage error; empty on success

    bool ok() const { return error.isEmpty(); }
};

// `args` without the program name.
ParseResult parseCommandLine(const QStringList &args);

// The value of --to: "[ADDR][:PORT[-PORT2]]", IPv6 in brackets ("[2001:db8::10]:8080").
// An empty address is this host (a local redirect); a missing port keeps the external port.
// Returns the reason in plain words, or an empty string.
QString parseTarget(const QString &text, QHostAddress *address, PortRange *port);

// The inverse of parseTarget, for printing ("198.51.100.10:8080", "[2001:db8::10]", ":1234").
QString formatTarget(const QHostAddress &address, const PortRange &port);

// Whether the command makes a call that polkit may ask a password for.
bool mayNeedAuthorization(const Invocation &inv);

QString commandName(Command c);
QString usage(Command c); // the general usage for Command::None

} // namespace portico::ctl
