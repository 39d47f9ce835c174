// SPDX-License-Identifier: GPL-3.0-or-later
// porticoctl's argument parser. A small hand parser rather than QCommandLineParser: options
// depend on the command, --from repeats, and --bus may come before or after the command.
#include "command_line.h"

#include "validation.h"

#include <functional>

using namespace Qt::StringLiterals;

namespace portico::ctl {

namespace {

struct CommandInfo {
    Command command;
    const char *name;
};

constexpr CommandInfo commands[] = {
    {Command::List, "list"},
    {Command::Show, "show"},
    {Command::Counters, "counters"},
    {Command::Add, "add"},
    {Command::Update, "update"},
    {Command::Remove, "remove"},
    {Command::Enable, "enable"},
    {Command::Disable, "disable"},
    {Command::IpForward, "ip-forward"},
    {Command::Ruleset, "ruleset"},
    {Command::Export, "export"},
    {Command::Import, "import"},
    {Command::Watch, "watch"},
    {Command::Connections, "connections"},
    {Command::Kill, "kill"},
    {Command::Accounting, "accounting"},
    {Command::Diagnose, "diagnose"}, // issue 5
    // issue 5
    {Command::Chains, "chains"},
    {Command::Trace, "trace"},
};

std::optional<Command> commandFromName(const QString &name) {
    for (const CommandInfo &c : commands) {
        if (name == QLatin1StringView(c.name))
            return c.command;
    }
    if (name == "rm"_L1)
        return Command::Remove;
    return std::nullopt;
}

bool isForwardCommand(Command c) {
    return c == Command::Add || c == Command::Update;
}

bool takesJson(Command c) {
    return c == Command::List || c == Command::Show || c == Command::Counters ||
           c == Command::Connections || c == Command::Diagnose || c == Command::Chains ||
           c == Command::Trace;
}

// Issue 4: the options of connections and kill. Returns whether `name` is one of them; sets
// *error for a bad value.
bool applyConnectionOption(Invocation &inv, const QString &name,
                           const std::function<bool(QString *)> &takeValue, bool hasInline,
                           QString *error) {
    const bool connections = inv.command == Command::Connections;
    if (!connections && inv.command != Command::Kill)
        return false;
    ConnectionOptions &o = inv.connections;
    QString value;
    const auto need = [&](const char *what) {
        if (!takeValue(&value) || value.isEmpty()) {
            *error = u"--%1 needs %2"_s.arg(name, QLatin1StringView(what));
            return false;
        }
        return true;
    };
    if (name == "forward"_L1) {
        if (need("the NAME or ID of a forward"))
            o.forward = value;
    } else if (name == "proto"_L1 || name == "protocol"_L1) {
        static const QStringList known = {u"tcp"_s,  u"udp"_s,  u"icmp"_s,    u"icmpv6"_s,
                                          u"sctp"_s, u"dccp"_s, u"udplite"_s, u"gre"_s};
        if (need("a protocol such as tcp or udp")) {
            if (!known.contains(value))
                *error = u"--proto takes one of %1, not '%2'"_s.arg(known.join(u", "_s), value);
            o.protocol = value;
        }
    } else if (name == "address"_L1) {
        if (need("an IPv4 or IPv6 address")) {
            QHostAddress a;
            if (!a.setAddress(value) || value.contains(u'/'))
                *error = u"--address takes one IPv4 or IPv6 address, not '%1'"_s.arg(value);
            o.address = value;
        }
    } else if (name == "port"_L1) {
        if (need("a port number")) {
            bool ok = false;
            const uint port = value.toUInt(&ok);
            if (!ok || port == 0 || port > 65535)
                *error = u"--port takes a port from 1 to 65535, not '%1'"_s.arg(value);
            o.port = quint16(port);
        }
    } else if (name == "forwarded"_L1) {
        if (hasInline)
            *error = u"--forwarded takes no value"_s;
        o.forwarded = true;
    } else if (name == "follow"_L1 && connections) {
        if (hasInline)
            *error = u"--follow takes no value"_s;
        o.follow = true;
    } else if (name == "id"_L1 && !connections) {
        if (need("a conntrack id (see porticoctl connections)")) {
            for (const QString &part : value.split(u',', Qt::SkipEmptyParts)) {
                bool ok = false;
                const uint id = part.trimmed().toUInt(&ok);
                if (!ok) {
                    *error = u"--id takes conntrack ids (numbers), not '%1'"_s.arg(part);
                    break;
                }
                o.ids.append(id);
            }
        }
    } else {
        return false;
    }
    return true;
}

// One option of add/update: applies its value (or its presence) to the invocation.
struct ForwardOption {
    QStringList names;
    bool takesValue;
    QString key; // the bus key it sets
    std::function<QString(Invocation &, const QString &)> apply;
};

const QList<ForwardOption> &forwardOptions() {
    static const QList<ForwardOption> options = {
        {{u"name"_s},
         true,
         u"name"_s,
         [](Invocation &inv, const QString &v) {
             inv.forward.name = v;
             return checkName(v);
         }},
        {{u"proto"_s, u"protocol"_s},
         true,
         u"protocol"_s,
         [](Invocation &inv, const QString &v) {
             if (!protocolFromString(v, &inv.forward.protocol))
                 return u"protocol '%1' is not tcp, udp or tcp+udp"_s.arg(v);
             return QString();
         }},
        {{u"port"_s, u"external-port"_s},
         true,
         u"external_port"_s,
         [](Invocation &inv, const QString &v) {
             return parsePortRange(v, u"external port"_s, &inv.forward.externalPort);
         }},
        {{u"to"_s},
         true,
         u"target_address"_s,
         [](Invocation &inv, const QString &v) {
             inv.givenKeys.insert(u"target_port"_s);
             return parseTarget(v, &inv.forward.targetAddress, &inv.forward.targetPort);
         }},
        {{u"in"_s, u"interface"_s},
         true,
         u"interface"_s,
         [](Invocation &inv, const QString &v) {
             inv.forward.interface = v;
             return checkInterfaceName(v);
         }},
        {{u"on"_s, u"external-address"_s},
         true,
         u"external_address"_s,
         [](Invocation &inv, const QString &v) {
             if (v.isEmpty()) { // "--on ''" clears it in update
                 inv.forward.externalAddress = QHostAddress();
                 return QString();
             }
             return parseAddress(v, u"external address"_s, &inv.forward.externalAddress);
         }},
        {{u"from"_s, u"source"_s},
         true,
         u"sources"_s,
         [](Invocation &inv, const QString &v) {
             // Repeatable, and a comma-separated list works too.
             const QStringList parts = v.split(u',', Qt::SkipEmptyParts);
             if (parts.isEmpty())
                 return u"--from needs a CIDR such as 203.0.113.0/24 or an address"_s;
             for (const QString &part : parts) {
                 Cidr c;
                 const QString e = parseCidr(part.trimmed(), QHostAddress::AnyIPProtocol, &c);
                 if (!e.isEmpty())
                     return e;
                 inv.forward.sources.append(c);
             }
             return QString();
         }},
        {{u"anyone"_s, u"no-from"_s},
         false,
         u"sources"_s,
         [](Invocation &inv, const QString &) {
             inv.forward.sources.clear();
             return QString();
         }},
        {{u"masquerade"_s},
         false,
         u"masquerade"_s,
         [](Invocation &inv, const QString &) {
             inv.forward.masquerade = true;
             return QString();
         }},
        {{u"no-masquerade"_s},
         false,
         u"masquerade"_s,
         [](Invocation &inv, const QString &) {
             inv.forward.masquerade = false;
             return QString();
         }},
        {{u"hairpin"_s},
         false,
         u"hairpin"_s,
         [](Invocation &inv, const QString &) {
             inv.forward.hairpin = true;
             return QString();
         }},
        {{u"no-hairpin"_s},
         false,
         u"hairpin"_s,
         [](Invocation &inv, const QString &) {
             inv.forward.hairpin = false;
             return QString();
         }},
        {{u"disabled"_s},
         false,
         u"enabled"_s,
         [](Invocation &inv, const QString &) {
             inv.forward.enabled = false;
             return QString();
         }},
        {{u"enabled"_s},
         false,
         u"enabled"_s,
         [](Invocation &inv, const QString &) {
             inv.forward.enabled = true;
             return QString();
         }},
        {{u"comment"_s},
         true,
         u"comment"_s,
         [](Invocation &inv, const QString &v) {
             inv.forward.comment = v;
             return checkComment(v);
         }},
    };
    return options;
}

const ForwardOption *findForwardOption(const QString &name) {
    for (const ForwardOption &o : forwardOptions()) {
        if (o.names.contains(name))
            return &o;
    }
    return nullptr;
}

QString checkPositionals(Invocation &inv, const QStringList &pos) {
    const QString cmd = commandName(inv.command);
    const auto tooMany = [&](int allowed) {
        return u"%1 takes %2, not '%3'"_s.arg(cmd,
                                              allowed == 0   ? u"no arguments"_s
                                              : allowed == 1 ? u"one argument"_s
                                                             : u"%1 arguments"_s.arg(allowed),
                                              pos.mid(allowed).join(u' '));
    };
    switch (inv.command) {
    case Command::None:
        return {};
    case Command::List:
    case Command::Counters:
    case Command::Ruleset:
    case Command::Add:
    case Command::Watch:
    case Command::Connections:
    case Command::Kill:
        if (!pos.isEmpty())
            return tooMany(0);
        return {};
    case Command::Accounting:
        if (pos.size() > 1)
            return tooMany(1);
        if (pos.size() == 1) {
            if (pos.first() == "on"_L1)
                inv.accounting = true;
            else if (pos.first() == "off"_L1)
                inv.accounting = false;
            else
                return u"accounting takes 'on' or 'off', not '%1'"_s.arg(pos.first());
        }
        return {};
    case Command::Chains:
        if (!pos.isEmpty())
            return tooMany(0);
        return {};
    case Command::Trace:
    case Command::Show:
    case Command::Update:
    case Command::Remove:
    case Command::Enable:
    case Command::Disable:
    case Command::Diagnose:
        if (pos.isEmpty())
            return u"%1 needs the NAME or ID of a forward"_s.arg(cmd);
        if (pos.size() > 1)
            return tooMany(1);
        inv.ref = pos.first();
        return {};
    case Command::IpForward:
        if (pos.size() > 1)
            return tooMany(1);
        if (pos.size() == 1) {
            if (pos.first() == "on"_L1)
                inv.ipForward = true;
            else if (pos.first() == "off"_L1)
                inv.ipForward = false;
            else
                return u"ip-forward takes 'on' or 'off', not '%1'"_s.arg(pos.first());
        }
        return {};
    case Command::Export:
        if (pos.size() > 1)
            return tooMany(1);
        inv.file = pos.value(0);
        return {};
    case Command::Import:
        if (pos.isEmpty())
            return u"import needs a FILE (or - for standard input)"_s;
        if (pos.size() > 1)
            return tooMany(1);
        inv.file = pos.first();
        return {};
    }
    return {};
}

} // namespace

bool mayNeedAuthorization(const Invocation &inv) {
    switch (inv.command) {
    case Command::Add:
    case Command::Update:
    case Command::Remove:
    case Command::Enable:
    case Command::Disable:
    case Command::Import:
    case Command::Counters:
    case Command::Diagnose:
    case Command::Chains:
    case Command::Trace:
        return true;
    case Command::IpForward:
        return inv.ipForward.has_value();
    case Command::Connections:
    case Command::Kill:
        return true;
    case Command::Accounting:
        return inv.accounting.has_value();
    default:
        return false;
    }
}

QString commandName(Command c) {
    for (const CommandInfo &info : commands) {
        if (info.command == c)
            return QString::fromLatin1(info.name);
    }
    return u"porticoctl"_s;
}

ParseResult parseCommandLine(const QStringList &args) {
    ParseResult r;
    Invocation &inv = r.invocation;
    QStringList positionals;
    bool onlyPositionals = false;

    for (qsizetype i = 0; i < args.size(); ++i) {
        const QString &arg = args.at(i);
        if (onlyPositionals || !arg.startsWith(u'-') || arg == "-"_L1) {
            if (inv.command == Command::None && positionals.isEmpty()) {
                if (arg == "help"_L1 && !onlyPositionals) {
                    inv.help = true;
                    if (i + 1 < args.size()) {
                        const auto c = commandFromName(args.at(i + 1));
                        if (!c) {
                            r.error = u"unknown command '%1'"_s.arg(args.at(i + 1));
                            return r;
                        }
                        inv.command = *c;
                    }
                    return r;
                }
                const auto c = commandFromName(arg);
                if (!c) {
                    r.error = u"unknown command '%1'"_s.arg(arg);
                    return r;
                }
                inv.command = *c;
                continue;
            }
            positionals.append(arg);
            continue;
        }
        if (arg == "--"_L1) {
            onlyPositionals = true;
            continue;
        }
        if (arg == "-h"_L1 || arg == "--help"_L1) {
            inv.help = true;
            continue;
        }
        if (!arg.startsWith("--"_L1)) {
            r.error = u"unknown option '%1'"_s.arg(arg);
            return r;
        }

        QString name = arg.mid(2);
        std::optional<QString> inlineValue;
        if (const qsizetype eq = name.indexOf(u'='); eq >= 0) {
            inlineValue = name.mid(eq + 1);
            name.truncate(eq);
        }
        const auto takeValue = [&](QString *out) {
            if (inlineValue) {
                *out = *inlineValue;
                return true;
            }
            if (i + 1 >= args.size())
                return false;
            *out = args.at(++i);
            return true;
        };

        if (name == "bus"_L1) {
            if (!takeValue(&inv.busAddress) || inv.busAddress.isEmpty()) {
                r.error = u"--bus needs a D-Bus address, e.g. unix:path=/run/portico/bus"_s;
                return r;
            }
            continue;
        }
        if (name == "no-ask-password"_L1 && !inlineValue) {
            inv.askPassword = false;
            continue;
        }
        if (inv.command == Command::None) {
            r.error = u"unknown option '--%1' before the command"_s.arg(name);
            return r;
        }
        if (name == "json"_L1 && takesJson(inv.command)) {
            if (inlineValue) {
                r.error = u"--json takes no value"_s;
                return r;
            }
            inv.json = true;
            continue;
        }
        if (name == "count"_L1 && inv.command == Command::Watch) {
            QString value;
            bool ok = false;
            if (takeValue(&value))
                inv.count = value.toInt(&ok);
            if (!ok || inv.count < 1) {
                r.error = u"--count needs a number of changes, 1 or more"_s;
                return r;
            }
            continue;
        }
        {
            QString error;
            if (applyConnectionOption(inv, name, takeValue, inlineValue.has_value(), &error)) {
                if (!error.isEmpty()) {
                    r.error = error;
                    return r;
                }
                continue;
            }
        }
        if (name == "seconds"_L1 && inv.command == Command::Trace) {
            QString value;
            bool ok = false;
            if (takeValue(&value))
                inv.seconds = value.toInt(&ok);
            if (!ok || inv.seconds < 1 || inv.seconds > 60) {
                r.error = u"--seconds needs a number of seconds from 1 to 60"_s;
                return r;
            }
            continue;
        }
        if (name == "trace"_L1 && inv.command == Command::Diagnose) { // issue 5
            QString value;
            bool ok = false;
            if (takeValue(&value))
                inv.traceSeconds = value.toInt(&ok);
            if (!ok || inv.traceSeconds < 1 || inv.traceSeconds > 60) {
                r.error = u"--trace needs a number of seconds from 1 to 60"_s;
                return r;
            }
            continue;
        }
        const ForwardOption *opt =
            isForwardCommand(inv.command) ? findForwardOption(name) : nullptr;
        if (!opt) {
            r.error = u"unknown option '--%1' for %2"_s.arg(name, commandName(inv.command));
            return r;
        }
        QString value;
        if (opt->takesValue) {
            if (!takeValue(&value)) {
                r.error = u"--%1 needs a value"_s.arg(name);
                return r;
            }
        } else if (inlineValue) {
            r.error = u"--%1 takes no value"_s.arg(name);
            return r;
        }
        // Repeated --from accumulates; anything else given twice is probably a mistake.
        if (inv.givenKeys.contains(opt->key) && opt->key != "sources"_L1) {
            r.error = u"--%1 is given twice (or together with its opposite)"_s.arg(name);
            return r;
        }
        inv.givenKeys.insert(opt->key);
        if (const QString e = opt->apply(inv, value); !e.isEmpty()) {
            r.error = e;
            return r;
        }
    }

    if (inv.help)
        return r;
    if (const QString e = checkPositionals(inv, positionals); !e.isEmpty()) {
        r.error = e;
        return r;
    }
    if (inv.command == Command::Add) {
        if (!inv.givenKeys.contains(u"name"_s))
            r.error = u"add needs --name NAME"_s;
        else if (!inv.givenKeys.contains(u"external_port"_s))
            r.error = u"add needs --port PORT or --port FIRST-LAST"_s;
        else if (!inv.givenKeys.contains(u"target_address"_s))
            r.error = u"add needs --to: the target, e.g. --to 198.51.100.10:8080, or --to :1234 "
                      "for a port on this host"_s;
    } else if (inv.command == Command::Kill && inv.connections.isEmpty()) {
        r.error = u"kill needs a filter (--id, --forward, --proto, --address, --port or "
                  "--forwarded); it never kills every connection"_s;
    } else if (inv.command == Command::Update && inv.givenKeys.isEmpty()) {
        r.error = u"update needs at least one option to change, e.g. --port 8080"_s;
    }
    return r;
}

QString parseTarget(const QString &text, QHostAddress *address, PortRange *port) {
    const QString hint = u"give ADDRESS, ADDRESS:PORT, [IPv6-ADDRESS]:PORT, or :PORT for a port "
                         "on this host"_s;
    if (text.isEmpty())
        return u"the target is empty; %1"_s.arg(hint);

    QString addressText;
    QString portText;
    bool hasPort = false;
    if (text.startsWith(u'[')) {
        const qsizetype close = text.indexOf(u']');
        if (close < 0)
            return u"target '%1' opens '[' but does not close it"_s.arg(text);
        addressText = text.mid(1, close - 1);
        const QString rest = text.mid(close + 1);
        if (!rest.isEmpty()) {
            if (!rest.startsWith(u':'))
                return u"target '%1' has '%2' after ']'; write [ADDRESS]:PORT"_s.arg(text, rest);
            hasPort = true;
            portText = rest.mid(1);
        }
        if (addressText.isEmpty())
            return u"target '%1' has no address inside the brackets; for a port on this host "
                   "write :PORT"_s.arg(text);
    } else if (text.count(u':') > 1) {
        return u"target '%1' looks like an IPv6 address; put it in brackets: [%1] or "
               "[%1]:PORT"_s.arg(text);
    } else if (const qsizetype colon = text.indexOf(u':'); colon >= 0) {
        addressText = text.left(colon);
        portText = text.mid(colon + 1);
        hasPort = true;
    } else {
        addressText = text;
    }
    if (hasPort && portText.isEmpty())
        return u"target '%1' ends with ':' but gives no port"_s.arg(text);

    QHostAddress a;
    if (!addressText.isEmpty()) {
        if (const QString e = parseAddress(addressText, u"target address"_s, &a); !e.isEmpty())
            return e;
    }
    PortRange p;
    if (hasPort) {
        if (const QString e = parsePortRange(portText, u"target port"_s, &p); !e.isEmpty())
            return e;
    }
    *address = a;
    *port = p;
    return {};
}

QString formatTarget(const QHostAddress &address, const PortRange &port) {
    QString s;
    if (!address.isNull()) {
        s = address.protocol() == QHostAddress::IPv6Protocol ? u"[%1]"_s.arg(address.toString())
                                                             : address.toString();
    }
    if (!port.isNull())
        s += u':' + port.toString();
    return s;
}

QString usage(Command c) {
    switch (c) {
    case Command::None:
        return u"Usage: porticoctl [--bus ADDRESS] [--no-ask-password] COMMAND [OPTIONS]\n"
               "\n"
               "Manages Portico's port forwards through portico-helper on the D-Bus system bus\n"
               "(or the bus at --bus ADDRESS, or at $PORTICO_BUS_ADDRESS).\n"
               "\n"
               "Commands:\n"
               "  list [--json]              the forwards\n"
               "  show NAME|ID [--json]      one forward\n"
               "  counters [--json]          packets and bytes per forward\n"
               "  add --name NAME --port P[-P2] --to [ADDR][:PORT[-PORT2]] [OPTIONS]\n"
               "                             a new forward; prints its id\n"
               "  update NAME|ID [OPTIONS]   change only the options given\n"
               "  remove|enable|disable NAME|ID\n"
               "  ip-forward [on|off]        show or set IPv4 and IPv6 forwarding\n"
               "  ruleset                    the nftables table that the forwards make\n"
               "  export [FILE]              all forwards as JSON, to FILE or standard output\n"
               "  import FILE                replace all forwards with those in FILE, atomically\n"
               "  watch [--count N]          print the generation each time the forwards change\n"
               "  connections [--json] [--follow] [FILTER]\n"
               "                             the connections through this host (conntrack)\n"
               "  kill FILTER | --id N...    end the connections that match\n"
               "  accounting [on|off]        per-connection packet and byte counters\n"
               "  diagnose NAME|ID [--trace N] [--json]\n"
               "                             why a forward does not work, and how to fix it\n"
               "  chains [--json]            every table's base chains, by hook and priority\n"
               "  trace NAME|ID [--seconds N] [--json]\n"
               "                             the path of one forward's packets through the chains\n"
               "\n"
               "Changes need the polkit action io.github.portico.manage (counters, diagnose,\n"
               "chains and trace need io.github.portico.monitor). At a terminal, porticoctl "
               "starts pkttyagent so that\n"
               "polkit can ask for a password; --no-ask-password turns that off.\n"
               "\n"
               "Run 'porticoctl COMMAND --help' for the options of a command.\n"
               "Exit status: 0 success, 1 failure, 2 usage error, 3 not authorized.\n"_s;
    case Command::Add:
    case Command::Update: {
        QString head =
            c == Command::Add
                ? u"Usage: porticoctl add --name NAME --port P[-P2] --to [ADDR][:PORT[-PORT2]]\n"
                  "                      [--proto tcp|udp|tcp+udp] [--in IFACE] [--on ADDR]\n"
                  "                      [--from CIDR]... [--masquerade] [--hairpin]\n"
                  "                      [--disabled] [--comment TEXT]\n"
                  "\n"
                  "Adds a forward and prints its id.\n"_s
                : u"Usage: porticoctl update NAME|ID [OPTIONS]\n"
                  "\n"
                  "Changes only the options given; --from replaces all sources.\n"_s;
        return head +
               u"\n"
               "  --name NAME            a unique name\n"
               "  --proto PROTO          tcp (the default), udp or tcp+udp\n"
               "  --port P[-P2]          the external port or range\n"
               "  --to TARGET            where to send it:\n"
               "                           198.51.100.10           same port, other host\n"
               "                           198.51.100.10:8080      other port\n"
               "                           [2001:db8::10]:8080     IPv6 (in brackets)\n"
               "                           :1234                   a port on this host\n"
               "                         a range maps one to one onto a range of the same length\n"
               "  --in IFACE             only packets arriving on this interface\n"
               "  --on ADDR              only packets sent to this address of this host\n"
               "  --from CIDR            only these clients (repeat, or separate with commas)\n"
               "  --anyone               clear the sources (update)\n"
               "  --masquerade           make the target see this host as the client\n"
               "  --hairpin              let clients on the target's side use the external "
               "address\n"
               "  --no-masquerade, --no-hairpin\n"
               "  --disabled, --enabled  keep the forward but out of the kernel, or put it back\n"
               "  --comment TEXT         free text\n"_s;
    }
    case Command::List:
        return u"Usage: porticoctl list [--json]\n\nLists the forwards; --json prints "
               "{\"generation\": N, \"forwards\": [...]}.\n"_s;
    case Command::Show:
        return u"Usage: porticoctl show NAME|ID [--json]\n\nShows one forward.\n"_s;
    case Command::Counters:
        return u"Usage: porticoctl counters [--json]\n\nPackets and bytes that each forward "
               "carried since it was last applied.\n"_s;
    case Command::Remove:
        return u"Usage: porticoctl remove NAME|ID\n\nRemoves a forward.\n"_s;
    case Command::Enable:
        return u"Usage: porticoctl enable NAME|ID\n\nPuts a disabled forward back into the "
               "kernel.\n"_s;
    case Command::Disable:
        return u"Usage: porticoctl disable NAME|ID\n\nKeeps a forward but takes it out of the "
               "kernel: new connections stop.\n"_s;
    case Command::IpForward:
        return u"Usage: porticoctl ip-forward [on|off]\n\nShows IPv4 and IPv6 forwarding, or "
               "turns both on or off.\n"_s;
    case Command::Ruleset:
        return u"Usage: porticoctl ruleset\n\nPrints the nftables table (table inet portico) "
               "that the current forwards make.\n"_s;
    case Command::Export:
        return u"Usage: porticoctl export [FILE]\n\nWrites {\"schema\": 1, \"forwards\": [...]} "
               "to FILE (replaced atomically) or to standard output.\n"_s;
    case Command::Watch:
        return u"Usage: porticoctl watch [--count N]\n\nPrints \"generation N\" each time the "
               "forwards change (the helper's ForwardsChanged\nsignal), until interrupted or "
               "after N changes.\n"_s;
    case Command::Connections:
    case Command::Kill: {
        const QString filter =
            u"  --forward NAME|ID      flows of this forward\n"
            "  --forwarded            flows of any of our forwards\n"
            "  --proto PROTO          tcp, udp, icmp, icmpv6, sctp, dccp, udplite or gre\n"
            "  --address ADDR         either side of the flow has this address\n"
            "  --port N               either side of the flow has this port\n"_s;
        if (c == Command::Kill)
            return u"Usage: porticoctl kill [--id N]... [FILTER]\n\nEnds the connections that "
                   "match all options given (their conntrack entries are\ndeleted) and says how "
                   "many. Needs at least one option.\n\n"
                   "  --id N                 the entry with this id (repeat, or separate with "
                   "commas)\n"_s +
                   filter;
        return u"Usage: porticoctl connections [--json] [--follow] [FILTER]\n\nLists the "
               "connections through this host: protocol, state, original source and\n"
               "destination, where the forward sent it, the forward, the timeout, and packets\n"
               "and bytes (original/reply). --json prints one JSON object per line; --follow\n"
               "keeps printing changes as they happen (\"+\" new or changed, \"-\" gone).\n\n"_s +
               filter;
    }
    case Command::Accounting:
        return u"Usage: porticoctl accounting [on|off]\n\nShows or switches per-connection "
               "packet and byte counters (net.netfilter.\nnf_conntrack_acct). They count "
               "connections that start after they are on.\n"_s;
    case Command::Diagnose:
        return u"Usage: porticoctl diagnose NAME|ID [--trace N] [--json]\n\nChecks why a forward "
               "may not "
               "work: IP forwarding, routes, the return path, hairpin,\nrp_filter, loopback "
               "services, other tables' chains that drop or DNAT its traffic, and\nlocal "
               "services on its ports. Prints the problems first, then the warnings, then the\n"
               "checks that passed, each with how to fix it. --json prints {\"forward\": NAME, "
               "\"id\": ID,\n\"problems\": N, \"warnings\": N, \"findings\": [{\"check\", "
               "\"severity\", \"message\", \"fix\",\n\"chain\"}...]}.\n\n--trace N then traces the "
               "forward for N seconds (1-60): send traffic to it\nmeanwhile, and each packet's "
               "fate is reported: which chain dropped it, or that it\npassed (with --json as "
               "\"trace_result\").\n\nExit status: 0 when no problem was found (warnings "
               "allowed), 1 when one was\n(or when the trace saw a packet dropped).\n"_s;
    case Command::Chains:
        return u"Usage: porticoctl chains [--json]\n\nLists the base chains of every nftables "
               "table (Portico's, firewalld's, Docker's, ...)\nby hook, in the order the kernel "
               "runs them (lowest priority first), with their\npolicy, rules and counters. "
               "Portico's own are marked with *.\n"_s;
    case Command::Trace:
        return u"Usage: porticoctl trace NAME|ID [--seconds N] [--json]\n\nTraces the packets "
               "of one forward for N seconds (1-60, default 30): send\ntraffic to it meanwhile, "
               "and each packet's steps through the chains of every\ntable are printed as they "
               "happen, with the verdict of each. Ctrl-C stops it.\nThe trace leaves the "
               "ruleset as it was. --json prints the helper's JSON lines.\n"_s;
    case Command::Import:
        return u"Usage: porticoctl import FILE\n\nReplaces all forwards with those in FILE (the "
               "export or list --json format; - for\nstandard input). All or nothing: if any "
               "forward is refused, nothing changes.\n"_s;
    }
    return {};
}

} // namespace portico::ctl
