// SPDX-License-Identifier: GPL-3.0-or-later
// What each porticoctl command does, in terms of HelperClient calls.
#include "command_runner.h"

#include "errors.h"
#include "serialization.h"
#include "trace_reader.h"
#include "validation.h"

#include <QCoreApplication>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QSocketNotifier>

#include <csignal>
#include <sys/socket.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace portico::ctl {

namespace {

QString yesNo(bool b) {
    return b ? u"yes"_s : u"no"_s;
}

QString sourcesText(const Forward &f) {
    if (f.sources.isEmpty())
        return u"anyone"_s;
    QStringList parts;
    for (const Cidr &c : f.sources)
        parts.append(c.toString());
    return parts.join(u',');
}

QString optionsText(const Forward &f) {
    QStringList opts;
    if (f.masquerade)
        opts.append(u"masquerade"_s);
    if (f.hairpin)
        opts.append(u"hairpin"_s);
    return opts.isEmpty() ? u"-"_s : opts.join(u',');
}

QString formatTable(const QList<QStringList> &rows) {
    QList<qsizetype> widths;
    for (const QStringList &row : rows) {
        for (qsizetype i = 0; i < row.size(); ++i) {
            if (widths.size() <= i)
                widths.append(0);
            widths[i] = std::max(widths[i], row.at(i).size());
        }
    }
    QString text;
    for (const QStringList &row : rows) {
        QString line;
        for (qsizetype i = 0; i < row.size(); ++i) {
            if (i + 1 < row.size())
                line += row.at(i).leftJustified(widths.at(i)) + u"  "_s;
            else
                line += row.at(i);
        }
        text += line.trimmed() + u'\n';
    }
    return text;
}

QByteArray toJson(const QJsonObject &obj) {
    return QJsonDocument(obj).toJson(QJsonDocument::Indented);
}

} // namespace

QString formatExternal(const Forward &f) {
    QString addr = f.externalAddress.isNull() ? u"*"_s
                   : f.externalAddress.protocol() == QHostAddress::IPv6Protocol
                       ? u"[%1]"_s.arg(f.externalAddress.toString())
                       : f.externalAddress.toString();
    QString s = addr + u':' + f.externalPort.toString();
    if (!f.interface.isEmpty())
        s += u" in "_s + f.interface;
    return s;
}

QString formatTargetColumn(const Forward &f) {
    const PortRange port = f.targetPort.isNull() ? f.externalPort : f.targetPort;
    if (f.isLocalRedirect())
        return u"this host :%1"_s.arg(port.toString());
    return formatTarget(f.targetAddress, port);
}

QString formatForwardTable(const QList<Forward> &forwards) {
    QList<QStringList> rows;
    rows.append({u"ID"_s, u"NAME"_s, u"ENABLED"_s, u"PROTO"_s, u"EXTERNAL"_s, u"TARGET"_s,
                 u"SOURCES"_s, u"OPTIONS"_s, u"COMMENT"_s});
    for (const Forward &f : forwards) {
        rows.append({f.id, f.name, yesNo(f.enabled), protocolToString(f.protocol),
                     formatExternal(f), formatTargetColumn(f), sourcesText(f), optionsText(f),
                     f.comment});
    }
    return formatTable(rows);
}

CommandRunner::CommandRunner(HelperClient &client, QTextStream &out, QTextStream &err)
    : m_client(client)
    , m_out(out)
    , m_err(err) {}

int CommandRunner::run(const Invocation &inv) {
    switch (inv.command) {
    case Command::None:
        m_out << usage(Command::None);
        return ExitOk;
    case Command::List:
        return list(inv);
    case Command::Show:
        return show(inv);
    case Command::Counters:
        return counters(inv);
    case Command::Add:
        return add(inv);
    case Command::Update:
        return update(inv);
    case Command::Remove:
        return remove(inv);
    case Command::Enable:
        return setEnabled(inv, true);
    case Command::Disable:
        return setEnabled(inv, false);
    case Command::IpForward:
        return ipForward(inv);
    case Command::Ruleset:
        return ruleset();
    case Command::Export:
        return exportForwards(inv);
    case Command::Import:
        return importForwards(inv);
    case Command::Watch:
        return watch(inv);
    case Command::Chains:
        return chains(inv);
    case Command::Trace:
        return trace(inv);
    }
    return ExitFailure;
}

int CommandRunner::fail(const HelperError &e) {
    m_err << "porticoctl: " << e.message << Qt::endl;
    return e.kind == HelperError::Kind::NotAuthorized ? ExitNotAuthorized : ExitFailure;
}

int CommandRunner::failUsage(const QString &message) {
    m_err << "porticoctl: " << message << Qt::endl;
    return ExitUsage;
}

int CommandRunner::failOther(const QString &message) {
    m_err << "porticoctl: " << message << Qt::endl;
    return ExitFailure;
}

void CommandRunner::printNotices(const QStringList &notices) {
    for (const QString &n : notices)
        m_err << "note: " << n << Qt::endl;
}

bool CommandRunner::resolve(const QString &ref, Forward *out, int *exitCode) {
    const auto list = m_client.listForwards();
    if (!list.ok()) {
        *exitCode = fail(list.error);
        return false;
    }
    // A name is what people type; an id is the fallback (and what scripts use).
    for (const Forward &f : list.value.forwards) {
        if (f.name == ref) {
            *out = f;
            return true;
        }
    }
    for (const Forward &f : list.value.forwards) {
        if (f.id == ref) {
            *out = f;
            return true;
        }
    }
    QStringList names;
    for (const Forward &f : list.value.forwards)
        names.append(u"'%1' (%2)"_s.arg(f.name, f.id));
    *exitCode = failOther(
        names.isEmpty() ? u"no forward is named '%1': there are no forwards"_s.arg(ref)
                        : u"no forward is named '%1' or has that id; the forwards are: %2"_s.arg(
                              ref, names.join(u", "_s)));
    return false;
}

int CommandRunner::list(const Invocation &inv) {
    const auto r = m_client.listForwards();
    if (!r.ok())
        return fail(r.error);
    if (inv.json) {
        QJsonObject obj;
        obj.insert(u"generation"_s, qint64(r.value.generation));
        obj.insert(u"forwards"_s, forwardsToJson(r.value.forwards));
        m_out << toJson(obj);
        return ExitOk;
    }
    if (r.value.forwards.isEmpty()) {
        m_out << "No forwards." << Qt::endl;
        return ExitOk;
    }
    m_out << formatForwardTable(r.value.forwards);
    return ExitOk;
}

int CommandRunner::show(const Invocation &inv) {
    Forward f;
    int code = ExitOk;
    if (!resolve(inv.ref, &f, &code))
        return code;
    if (inv.json) {
        m_out << toJson(forwardToJson(f));
        return ExitOk;
    }
    const QList<QStringList> rows = {
        {u"id:"_s, f.id},
        {u"name:"_s, f.name},
        {u"enabled:"_s, yesNo(f.enabled)},
        {u"protocol:"_s, protocolToString(f.protocol)},
        {u"interface:"_s, f.interface.isEmpty() ? u"any"_s : f.interface},
        {u"external:"_s, formatExternal(f)},
        {u"target:"_s, formatTargetColumn(f)},
        {u"sources:"_s, sourcesText(f)},
        {u"masquerade:"_s, yesNo(f.masquerade)},
        {u"hairpin:"_s, yesNo(f.hairpin)},
        {u"comment:"_s, f.comment},
    };
    m_out << formatTable(rows);
    return ExitOk;
}

int CommandRunner::counters(const Invocation &inv) {
    const auto list = m_client.listForwards();
    if (!list.ok())
        return fail(list.error);
    const auto c = m_client.counters();
    if (!c.ok())
        return fail(c.error);

    if (inv.json) {
        QJsonObject obj;
        for (const Forward &f : list.value.forwards) {
            const auto it = c.value.constFind(f.id);
            if (it == c.value.constEnd())
                continue;
            obj.insert(f.name, QJsonObject{{u"id"_s, f.id},
                                           {u"packets"_s, qint64(it->packets)},
                                           {u"bytes"_s, qint64(it->bytes)}});
        }
        m_out << toJson(obj);
        return ExitOk;
    }
    if (list.value.forwards.isEmpty()) {
        m_out << "No forwards." << Qt::endl;
        return ExitOk;
    }
    QList<QStringList> rows = {{u"ID"_s, u"NAME"_s, u"PACKETS"_s, u"BYTES"_s}};
    for (const Forward &f : list.value.forwards) {
        const auto it = c.value.constFind(f.id);
        if (it == c.value.constEnd())
            rows.append({f.id, f.name, u"-"_s, f.enabled ? u"-"_s : u"(disabled)"_s});
        else
            rows.append({f.id, f.name, QString::number(it->packets), QString::number(it->bytes)});
    }
    m_out << formatTable(rows);
    return ExitOk;
}

int CommandRunner::add(const Invocation &inv) {
    // Catch usage errors before the bus (and before a password prompt); the helper checks again.
    if (const ValidationError v = validateForward(inv.forward); !v.ok())
        return failUsage(v.message);
    const auto r = m_client.addForward(inv.forward);
    if (!r.ok())
        return fail(r.error);
    printNotices(r.value.notices);
    m_out << r.value.id << Qt::endl;
    return ExitOk;
}

int CommandRunner::update(const Invocation &inv) {
    Forward existing;
    int code = ExitOk;
    if (!resolve(inv.ref, &existing, &code))
        return code;

    const QVariantMap given = forwardToVariantMap(inv.forward);
    QVariantMap changes;
    for (const QString &key : inv.givenKeys)
        changes.insert(key, given.value(key));

    Forward merged = existing;
    if (const ValidationError v = forwardFromVariantMap(changes, &merged); !v.ok())
        return failUsage(v.message);
    if (const ValidationError v = validateForward(merged); !v.ok())
        return failUsage(v.message);

    const auto r = m_client.updateForward(existing.id, changes);
    if (!r.ok())
        return fail(r.error);
    printNotices(r.value);
    return ExitOk;
}

int CommandRunner::remove(const Invocation &inv) {
    Forward f;
    int code = ExitOk;
    if (!resolve(inv.ref, &f, &code))
        return code;
    if (const HelperError e = m_client.removeForward(f.id); !e.ok())
        return fail(e);
    return ExitOk;
}

int CommandRunner::setEnabled(const Invocation &inv, bool enabled) {
    Forward f;
    int code = ExitOk;
    if (!resolve(inv.ref, &f, &code))
        return code;
    const auto r = m_client.updateForward(f.id, {{u"enabled"_s, enabled}});
    if (!r.ok())
        return fail(r.error);
    printNotices(r.value);
    return ExitOk;
}

int CommandRunner::ipForward(const Invocation &inv) {
    if (inv.ipForward) {
        if (const HelperError e = m_client.setIpForwarding(*inv.ipForward, *inv.ipForward); !e.ok())
            return fail(e);
    }
    const auto r = m_client.ipForwarding();
    if (!r.ok())
        return fail(r.error);
    const auto onOff = [](bool b) {
        return b ? "on" : "off";
    };
    m_out << "IPv4 forwarding: " << onOff(r.value.v4) << "\nIPv6 forwarding: " << onOff(r.value.v6)
          << Qt::endl;
    return ExitOk;
}

int CommandRunner::ruleset() {
    const auto r = m_client.ruleset();
    if (!r.ok())
        return fail(r.error);
    m_out << r.value;
    if (!r.value.endsWith(u'\n'))
        m_out << '\n';
    m_out.flush();
    return ExitOk;
}

int CommandRunner::exportForwards(const Invocation &inv) {
    const auto r = m_client.listForwards();
    if (!r.ok())
        return fail(r.error);
    QJsonObject obj;
    obj.insert(u"schema"_s, 1);
    obj.insert(u"forwards"_s, forwardsToJson(r.value.forwards));
    const QByteArray data = toJson(obj);

    if (inv.file.isEmpty() || inv.file == "-"_L1) {
        m_out << data;
        m_out.flush();
        return ExitOk;
    }
    // QSaveFile writes a temporary file and renames it: a reader never sees half an export.
    QSaveFile file(inv.file);
    if (!file.open(QIODevice::WriteOnly))
        return failOther(u"cannot write %1: %2"_s.arg(inv.file, file.errorString()));
    if (file.write(data) != data.size() || !file.commit())
        return failOther(u"cannot write %1: %2"_s.arg(inv.file, file.errorString()));
    m_err << "Exported " << r.value.forwards.size() << " forwards to " << inv.file << Qt::endl;
    return ExitOk;
}

int CommandRunner::importForwards(const Invocation &inv) {
    QFile file;
    bool opened = false;
    if (inv.file == "-"_L1)
        opened = file.open(stdin, QIODevice::ReadOnly);
    else {
        file.setFileName(inv.file);
        opened = file.open(QIODevice::ReadOnly);
    }
    if (!opened)
        return failOther(u"cannot read %1: %2"_s.arg(inv.file, file.errorString()));
    const QByteArray data = file.readAll();
    const QString where = inv.file == "-"_L1 ? u"standard input"_s : inv.file;

    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(data, &parseError);
    if (doc.isNull())
        return failUsage(u"%1 is not valid JSON: %2 at offset %3"_s.arg(
            where, parseError.errorString(), QString::number(parseError.offset)));

    // The export shape {"schema": 1, "forwards": [...]}, the list --json shape
    // {"generation": N, "forwards": [...]}, or a bare array.
    QJsonArray array;
    if (doc.isArray()) {
        array = doc.array();
    } else {
        const QJsonObject obj = doc.object();
        if (obj.contains(u"schema"_s) && obj.value(u"schema"_s).toInt(-1) != 1)
            return failUsage(u"%1 has schema %2; this porticoctl reads schema 1"_s.arg(
                where, obj.value(u"schema"_s).toVariant().toString()));
        if (!obj.value(u"forwards"_s).isArray())
            return failUsage(
                u"%1 has no \"forwards\" array; expected the output of porticoctl export"_s.arg(
                    where));
        array = obj.value(u"forwards"_s).toArray();
    }

    QList<Forward> forwards;
    if (const ValidationError v = forwardsFromJson(array, &forwards); !v.ok())
        return failUsage(u"%1: %2"_s.arg(where, v.message));
    if (const ValidationError v = validateForwards(forwards); !v.ok())
        return failUsage(u"%1: %2"_s.arg(where, v.message));

    const auto current = m_client.listForwards();
    if (!current.ok())
        return fail(current.error);
    auto r = m_client.replaceForwards(forwards, current.value.generation);
    if (r.error.name == QLatin1StringView(errors::StaleGeneration))
        r.error.message += u" Nothing was imported; run the import again."_s;
    if (!r.ok())
        return fail(r.error);
    printNotices(r.value.notices);
    m_err << "Imported " << forwards.size() << " forwards from " << where << " (generation "
          << r.value.generation << ")." << Qt::endl;
    return ExitOk;
}

int CommandRunner::watch(const Invocation &inv) {
    if (const HelperError e = m_client.watchForwardsChanged(); !e.ok())
        return fail(e);
    int seen = 0;
    QObject::connect(&m_client, &HelperClient::forwardsChanged, &m_client,
                     [this, &seen, count = inv.count](quint64 generation) {
                         m_out << "generation " << generation << Qt::endl;
                         if (count > 0 && ++seen >= count)
                             QCoreApplication::exit(ExitOk);
                     });
    // Say when we are listening, so that a script can make a change only after that.
    m_err << "watching " << m_client.busDescription() << Qt::endl;
    return QCoreApplication::exec();
}

// --- issue 5: chains and trace ---------------------------------------------------------------

namespace {

// The order a packet meets the hooks; anything else (arp, netdev egress) after them.
int hookRank(const QString &hook) {
    static const QStringList order = {u"ingress"_s, u"prerouting"_s,  u"input"_s, u"forward"_s,
                                      u"output"_s,  u"postrouting"_s, u"egress"_s};
    const qsizetype i = order.indexOf(hook);
    return i < 0 ? int(order.size()) : int(i);
}

int interruptPipe[2] = {-1, -1};

void onInterrupt(int) {
    const char c = 1;
    [[maybe_unused]] const ssize_t n = ::write(interruptPipe[1], &c, 1);
}

} // namespace

QString formatChainTable(const RulesetSummary &summary) {
    QList<ChainSummary> chains = summary.chains;
    std::stable_sort(chains.begin(), chains.end(),
                     [](const ChainSummary &a, const ChainSummary &b) {
                         if (hookRank(a.hook) != hookRank(b.hook))
                             return hookRank(a.hook) < hookRank(b.hook);
                         if (a.hook != b.hook)
                             return a.hook < b.hook;
                         return a.priority < b.priority;
                     });
    QList<QStringList> rows;
    rows.append({u"HOOK"_s, u"PRIORITY"_s, u"FAMILY"_s, u"TABLE"_s, u"CHAIN"_s, u"TYPE"_s,
                 u"POLICY"_s, u"RULES"_s, u"DROP"_s, u"NAT"_s, u"PACKETS"_s, u"BYTES"_s});
    for (const ChainSummary &c : chains) {
        rows.append(
            {c.hook, QString::number(c.priority), c.family, c.ours ? c.table + u'*' : c.table,
             c.chain, c.type, c.policy, QString::number(c.rules), QString::number(c.dropRules),
             QString::number(c.natRules), QString::number(c.packets), QString::number(c.bytes)});
    }
    return formatTable(rows);
}

int CommandRunner::chains(const Invocation &inv) {
    const auto r = m_client.rulesetSummary();
    if (!r.ok())
        return fail(r.error);
    if (inv.json) {
        QJsonArray array;
        for (const ChainSummary &c : r.value.chains) {
            array.append(QJsonObject{
                {u"family"_s, c.family},
                {u"table"_s, c.table},
                {u"chain"_s, c.chain},
                {u"hook"_s, c.hook},
                {u"priority"_s, c.priority},
                {u"type"_s, c.type},
                {u"policy"_s, c.policy},
                {u"rules"_s, qint64(c.rules)},
                {u"drop_rules"_s, qint64(c.dropRules)},
                {u"nat_rules"_s, qint64(c.natRules)},
                {u"packets"_s, qint64(c.packets)},
                {u"bytes"_s, qint64(c.bytes)},
                {u"ours"_s, c.ours},
            });
        }
        m_out << toJson(
            QJsonObject{{u"generation"_s, qint64(r.value.generation)}, {u"chains"_s, array}});
        return ExitOk;
    }
    if (r.value.chains.isEmpty()) {
        m_out << "No base chains: the ruleset is empty." << Qt::endl;
        return ExitOk;
    }
    m_out << formatChainTable(r.value) << "\n* Portico's own table. Ruleset generation "
          << r.value.generation << "." << Qt::endl;
    return ExitOk;
}

int CommandRunner::trace(const Invocation &inv) {
    Forward f;
    int code = ExitFailure;
    if (!resolve(inv.ref, &f, &code))
        return code;
    const auto started = m_client.startTrace(f.id, quint32(inv.seconds));
    if (!started.ok())
        return fail(started.error);
    const quint64 id = started.value.traceId;
    TraceReader reader(started.value.readFd);

    // Ctrl-C asks the helper to stop, and the trace ends with its end line as usual.
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, interruptPipe) == 0) {
        std::signal(SIGINT, onInterrupt);
        std::signal(SIGTERM, onInterrupt);
    }
    QSocketNotifier interrupt(interruptPipe[0], QSocketNotifier::Read);
    bool stopping = false;
    QObject::connect(&interrupt, &QSocketNotifier::activated, &reader, [&]() {
        char c;
        [[maybe_unused]] const ssize_t n = ::read(interruptPipe[0], &c, 1);
        if (stopping)
            return;
        stopping = true;
        if (const HelperError e = m_client.stopTrace(id); !e.ok())
            QCoreApplication::exit(fail(e));
    });

    int lastPacket = 0;
    QObject::connect(&reader, &TraceReader::step, &reader, [&](const TraceStep &s) {
        if (inv.json) {
            m_out << QJsonDocument(s.raw).toJson(QJsonDocument::Compact) << Qt::endl;
            return;
        }
        if (s.packet != lastPacket) {
            lastPacket = s.packet;
            m_out << "packet " << s.packet << "  " << s.src << " -> " << s.dst << Qt::endl;
        }
        QString what = s.type == "rule"_L1 ? u"rule %1"_s.arg(s.handle) : s.type;
        QString verdict = s.verdict;
        if (!s.target.isEmpty())
            verdict += u' ' + s.target;
        QStringList where;
        if (!s.iif.isEmpty())
            where << u"in "_s + s.iif;
        if (!s.oif.isEmpty())
            where << u"out "_s + s.oif;
        QString line = u"  "_s + QString::number(s.timeMs).rightJustified(6) + u" ms  "_s +
                       s.hook.leftJustified(11) + u' ' +
                       (s.family + u' ' + s.table + u' ' + s.chain).leftJustified(32) + u' ' +
                       what.leftJustified(9) + u' ' + verdict.leftJustified(8);
        if (!where.isEmpty())
            line += u"  "_s + where.join(u", "_s);
        if (!s.dst.isEmpty() && s.type != "policy"_L1)
            line += u"  "_s + s.dst;
        // Trailing blanks of the padding are no use to anyone.
        while (line.endsWith(u' '))
            line.chop(1);
        m_out << line << Qt::endl;
        if (s.dropped())
            m_out << "  DROPPED by " << s.family << ' ' << s.table << ' ' << s.chain
                  << (s.type == "policy"_L1 ? u" (its policy)"_s : u" (rule %1)"_s.arg(s.handle))
                  << Qt::endl;
    });
    int result = ExitOk;
    QObject::connect(
        &reader, &TraceReader::ended, &reader, [&](const QString &reason, const QString &message) {
            if (!inv.json || reason != "closed"_L1)
                m_err << "trace ended (" << reason << ")"
                      << (message.isEmpty() ? QString() : u": "_s + message) << Qt::endl;
            result = reason == "error"_L1 || reason == "closed"_L1 ? ExitFailure : ExitOk;
            QCoreApplication::exit(result);
        });
    m_err << "tracing forward '" << f.name << "' (trace " << id << ") for "
          << (inv.seconds > 0 ? inv.seconds : 30)
          << " seconds; send traffic to it now (Ctrl-C stops)" << Qt::endl;
    const int exitCode = QCoreApplication::exec();
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    close(interruptPipe[0]);
    close(interruptPipe[1]);
    return exitCode;
}

} // namespace portico::ctl
