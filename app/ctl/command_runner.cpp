// SPDX-License-Identifier: GPL-3.0-or-later
// What each porticoctl command does, in terms of HelperClient calls.
#include "command_runner.h"

#include "connection_format.h"
#include "conntrack_stream_reader.h"
#include "errors.h"
#include "serialization.h"
#include "trace_reader.h"
#include "validation.h"

#include <QCoreApplication>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QSaveFile>
#include <QSocketNotifier>

#include <algorithm>
#include <csignal>
#include <optional>
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
    case Command::Connections:
        return connections(inv);
    case Command::Kill:
        return kill(inv);
    case Command::Accounting:
        return accounting(inv);
    case Command::Diagnose:
        return diagnose(inv);
    case Command::Chains:
        return chains(inv);
    case Command::Trace:
        return trace(inv);
    }
    return ExitFailure;
}

// --- issue 5: diagnose ----------------------------------------------------------------------

namespace {

// Words wrapped to `width` columns, every line after the first indented by `indent`; the first
// line starts at column `first`.
QString wrapped(const QString &text, int indent, int first = -1, int width = 100) {
    QString out, line;
    int start = first < 0 ? indent : first;
    for (const QString &word : text.split(u' ', Qt::SkipEmptyParts)) {
        if (!line.isEmpty() && start + line.size() + 1 + word.size() > width) {
            start = indent;
            out += line + u'\n' + QString(indent, u' ');
            line.clear();
        }
        line += (line.isEmpty() ? QString() : u" "_s) + word;
    }
    return out + line;
}

} // namespace

int CommandRunner::diagnose(const Invocation &inv) {
    Forward f;
    int code = ExitOk;
    if (!resolve(inv.ref, &f, &code))
        return code;
    const auto r = m_client.diagnose(f.id);
    if (!r.ok())
        return fail(r.error);
    int problems = 0, warnings = 0, passed = 0;
    for (const DiagnosisFinding &d : r.value) {
        problems += d.isProblem();
        warnings += d.isWarning();
        passed += !d.isProblem() && !d.isWarning();
    }
    const int status = problems ? ExitFailure : ExitOk;
    // A trace shows each packet's way through every chain; it needs the forward in the kernel.
    const bool traceHint = f.enabled && (problems || warnings);
    if (inv.json) {
        QJsonArray findings;
        for (const DiagnosisFinding &d : r.value) {
            QJsonObject o{{u"check"_s, d.check},
                          {u"severity"_s, d.severity},
                          {u"message"_s, d.message},
                          {u"fix"_s, d.fix}};
            if (!d.chain.isEmpty())
                o.insert(u"chain"_s, d.chain);
            findings.append(o);
        }
        QJsonObject obj{{u"forward"_s, f.name},
                        {u"id"_s, f.id},
                        {u"problems"_s, problems},
                        {u"warnings"_s, warnings},
                        {u"findings"_s, findings}};
        if (traceHint && !inv.traceSeconds)
            obj.insert(u"trace"_s, u"porticoctl trace %1"_s.arg(f.name));
        int traceStatus = ExitOk;
        if (inv.traceSeconds) {
            QJsonObject result;
            if (!traceForDiagnosis(f, inv.traceSeconds, true, &result, &traceStatus))
                return traceStatus;
            obj.insert(u"trace_result"_s, result);
        }
        m_out << toJson(obj);
        m_out.flush();
        return std::max(status, traceStatus);
    }
    const auto count = [](int n, const char *one, const char *many) {
        return u"%1 %2"_s.arg(n).arg(QLatin1StringView(n == 1 ? one : many));
    };
    m_out << "Forward '" << f.name << "' (" << f.id
          << "): " << count(problems, "problem", "problems") << ", "
          << count(warnings, "warning", "warnings") << ", "
          << count(passed, "check passed", "checks passed") << ".\n";
    for (const DiagnosisFinding &d : r.value) {
        if (!d.isProblem() && !d.isWarning())
            continue;
        m_out << '\n' << (d.isProblem() ? "PROBLEM  " : "WARNING  ") << d.check;
        if (!d.chain.isEmpty())
            m_out << " (" << d.chain << ')';
        m_out << "\n  " << wrapped(d.message, 2) << '\n';
        if (!d.fix.isEmpty())
            m_out << "  Fix: " << wrapped(d.fix, 7) << '\n';
    }
    if (passed) {
        m_out << "\nPassed:\n";
        for (const DiagnosisFinding &d : r.value) {
            if (!d.isProblem() && !d.isWarning())
                m_out << "  ok  " << d.check << ": "
                      << wrapped(d.message, 6, 6 + int(d.check.size()) + 2) << '\n';
        }
    }
    if (inv.traceSeconds) {
        QJsonObject result;
        int traceStatus = ExitOk;
        m_out.flush();
        if (!traceForDiagnosis(f, inv.traceSeconds, false, &result, &traceStatus))
            return traceStatus;
        return std::max(status, traceStatus);
    }
    if (traceHint)
        m_out << "\nTo see where its packets go, trace the forward while you send traffic: "
                 "porticoctl trace "
              << f.name << " (or porticoctl diagnose " << f.name << " --trace 10)\n";
    m_out.flush();
    return status;
}

bool CommandRunner::traceForDiagnosis(const Forward &f, int seconds, bool json, QJsonObject *result,
                                      int *exitCode) {
    if (!f.enabled) {
        m_err << "porticoctl: forward '" << f.name << "' is disabled, so it cannot be traced"
              << Qt::endl;
        *exitCode = ExitFailure;
        return false;
    }
    const auto started = m_client.startTrace(f.id, quint32(seconds));
    if (!started.ok()) {
        *exitCode = fail(started.error);
        return false;
    }
    TraceReader reader(started.value.readFd);
    // Per packet: where it was first seen and the step that ended it, if one did.
    struct Fate {
        TraceStep first;
        std::optional<TraceStep> drop;
        TraceStep last;
    };
    QMap<int, Fate> packets;
    QString endReason, endMessage;
    QObject::connect(&reader, &TraceReader::step, &reader, [&](const TraceStep &s) {
        auto it = packets.find(s.packet);
        if (it == packets.end())
            it = packets.insert(s.packet, Fate{s, std::nullopt, s});
        it->last = s;
        if (s.dropped() && !it->drop)
            it->drop = s;
    });
    QObject::connect(&reader, &TraceReader::ended, &reader,
                     [&](const QString &reason, const QString &message) {
                         endReason = reason;
                         endMessage = message;
                         QCoreApplication::exit(0);
                     });
    m_err << "tracing forward '" << f.name << "' for " << seconds << " seconds: send traffic to "
          << formatExternal(f) << " now" << Qt::endl;
    QCoreApplication::exec();

    int dropped = 0;
    QJsonArray list;
    QStringList lines;
    for (auto it = packets.cbegin(); it != packets.cend(); ++it) {
        const Fate &p = *it;
        QJsonObject o{{u"packet"_s, it.key()}, {u"src"_s, p.first.src}, {u"dst"_s, p.first.dst}};
        QString line = u"packet %1 (%2 -> %3): "_s.arg(it.key()).arg(p.first.src, p.first.dst);
        if (p.drop) {
            ++dropped;
            const QString chain = p.drop->family + u' ' + p.drop->table + u' ' + p.drop->chain;
            o.insert(u"dropped_by"_s, chain);
            o.insert(u"hook"_s, p.drop->hook);
            o.insert(u"policy"_s, p.drop->type == "policy"_L1);
            o.insert(u"handle"_s, qint64(p.drop->handle));
            line += u"DROPPED at %1 by %2 (%3)%4"_s.arg(
                p.drop->hook, chain,
                p.drop->type == "policy"_L1 ? u"its policy"_s : u"rule %1"_s.arg(p.drop->handle),
                p.drop->ours() ? QString() : u", a chain of another table"_s);
        } else {
            o.insert(u"last_hook"_s, p.last.hook);
            line += u"passed; last seen at %1 in %2 %3 %4"_s.arg(p.last.hook, p.last.family,
                                                                 p.last.table, p.last.chain);
        }
        list.append(o);
        lines.append(line);
    }
    result->insert(u"seconds"_s, seconds);
    result->insert(u"packets"_s, list);
    result->insert(u"dropped"_s, dropped);
    result->insert(u"end"_s, endReason);
    if (!json) {
        m_out << "\nTrace (" << seconds << " s): " << packets.size()
              << (packets.size() == 1 ? " packet" : " packets") << " seen, " << dropped
              << " dropped.\n";
        for (const QString &l : std::as_const(lines))
            m_out << "  " << l << '\n';
        if (packets.isEmpty())
            m_out << "  "
                  << wrapped(u"No packet of this forward reached this gateway during the trace: "
                             "check that the clients send to %1, and any firewall or router in "
                             "front of this gateway."_s.arg(formatExternal(f)),
                             2)
                  << '\n';
        if (endReason == "error"_L1)
            m_out << "  The trace ended early: " << endMessage << '\n';
        m_out.flush();
    }
    *exitCode = dropped ? ExitFailure : ExitOk;
    return true;
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

    // The export shape {"schema": 1, "forwards": [...]}, the list --json shape
    // {"generation": N, "forwards": [...]}, or a bare array.
    QList<Forward> forwards;
    if (const ValidationError v = forwardsFromDocument(data, &forwards); !v.ok())
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

// --- Issue 4: conntrack ----------------------------------------------------------------------

bool CommandRunner::connectionFilter(const Invocation &inv, QVariantMap *filter, int *exitCode) {
    const ConnectionOptions &o = inv.connections;
    if (!o.forward.isEmpty()) {
        Forward f;
        if (!resolve(o.forward, &f, exitCode))
            return false;
        filter->insert(u"forward"_s, f.id);
    }
    if (o.forwarded)
        filter->insert(u"forwarded"_s, true);
    if (!o.protocol.isEmpty())
        filter->insert(u"protocol"_s, o.protocol);
    if (!o.address.isEmpty())
        filter->insert(u"address"_s, o.address);
    if (o.port)
        filter->insert(u"port"_s, uint(o.port));
    if (!o.ids.isEmpty())
        filter->insert(u"ids"_s, QVariant::fromValue(QList<uint>(o.ids.cbegin(), o.ids.cend())));
    return true;
}

int CommandRunner::connections(const Invocation &inv) {
    QVariantMap filter;
    int code = ExitOk;
    if (!connectionFilter(inv, &filter, &code))
        return code;
    const HelperResult<int> fd = m_client.watchConnections(filter);
    if (!fd.ok())
        return fail(fd.error);

    ConntrackStreamReader reader(fd.value);
    ForwardsByMark forwards;
    // The snapshot, by id; printed at its End (without --follow, that is the end).
    QHash<quint32, ctstream::EntryRecord> table;
    const bool follow = inv.connections.follow;
    const bool json = inv.json;
    bool snapshotDone = false;
    int result = ExitOk;
    const auto printJson = [this](QJsonObject o, const char *event) {
        if (event)
            o.insert(u"event"_s, QLatin1StringView(event));
        m_out << QJsonDocument(o).toJson(QJsonDocument::Compact) << '\n';
    };

    QObject::connect(&reader, &ConntrackStreamReader::forwardsReceived, &reader,
                     [&](const QList<ConntrackForward> &list) {
                         forwards.clear();
                         for (const ConntrackForward &f : list)
                             forwards.insert(f.mark, f);
                     });
    QObject::connect(&reader, &ConntrackStreamReader::noticeReceived, &reader,
                     [this](const QString &text) { m_err << "note: " << text << Qt::endl; });
    QObject::connect(&reader, &ConntrackStreamReader::snapshotBegun, &reader, [&]() {
        table.clear();
        if (follow && snapshotDone)
            json ? printJson({}, "resync") : void(m_out << "* resync: a new snapshot follows\n");
        if (follow && json)
            printJson({}, "begin");
    });
    QObject::connect(&reader, &ConntrackStreamReader::entriesReceived, &reader,
                     [&](const ctstream::EntryRecord *records, qsizetype count) {
                         const bool delta = !reader.inSnapshot();
                         for (qsizetype i = 0; i < count; ++i) {
                             ctstream::EntryRecord e = records[i];
                             // New and update events carry no counters (zeros); counters
                             // only grow, so a flow keeps the ones it was last shown with.
                             if (const auto was = table.constFind(e.id); was != table.cend()) {
                                 e.origPackets = std::max(e.origPackets, was->origPackets);
                                 e.origBytes = std::max(e.origBytes, was->origBytes);
                                 e.replyPackets = std::max(e.replyPackets, was->replyPackets);
                                 e.replyBytes = std::max(e.replyBytes, was->replyBytes);
                             }
                             if (delta || follow) {
                                 if (json)
                                     printJson(connectionToJson(e, forwards),
                                               delta ? "update" : "entry");
                                 else if (delta)
                                     m_out << "+ " << formatConnectionLine(e, forwards) << '\n';
                             }
                             table.insert(e.id, e);
                         }
                     });
    QObject::connect(&reader, &ConntrackStreamReader::destroyedReceived, &reader,
                     [&](const quint32 *ids, qsizetype count) {
                         for (qsizetype i = 0; i < count; ++i) {
                             const auto it = table.constFind(ids[i]);
                             if (it == table.cend())
                                 continue; // a repeated id, or one the filter never showed
                             if (json)
                                 printJson({{u"id"_s, qint64(ids[i])}}, "destroy");
                             else
                                 m_out << "- " << formatConnectionLine(*it, forwards) << '\n';
                             table.erase(it);
                         }
                     });
    QObject::connect(&reader, &ConntrackStreamReader::snapshotEnded, &reader, [&]() {
        snapshotDone = true;
        if (follow) {
            if (json) {
                printJson({}, "end");
            } else {
                QList<ctstream::EntryRecord> list = table.values();
                std::sort(list.begin(), list.end(),
                          [](const auto &a, const auto &b) { return a.id < b.id; });
                m_out << formatConnectionTable(list, forwards);
                m_out << "* following; \"+\" new or changed, \"-\" gone\n";
            }
            m_out.flush();
            return;
        }
        QList<ctstream::EntryRecord> list = table.values();
        std::sort(list.begin(), list.end(),
                  [](const auto &a, const auto &b) { return a.id < b.id; });
        if (json) {
            for (const ctstream::EntryRecord &e : list)
                printJson(connectionToJson(e, forwards), nullptr);
        } else {
            m_out << formatConnectionTable(list, forwards);
        }
        reader.setPaused(true);
        QCoreApplication::exit(ExitOk);
    });
    QObject::connect(&reader, &ConntrackStreamReader::batchDone, &reader,
                     [this]() { m_out.flush(); });
    QObject::connect(&reader, &ConntrackStreamReader::finished, &reader, [&](const QString &error) {
        if (!error.isEmpty()) {
            m_err << "porticoctl: " << error << Qt::endl;
            result = ExitFailure;
        } else if (!snapshotDone || follow) {
            m_err << "porticoctl: the helper ended the connection stream" << Qt::endl;
            result = ExitFailure;
        }
        QCoreApplication::exit(result);
    });
    const int loop = QCoreApplication::exec();
    reader.close();
    return result != ExitOk ? result : loop;
}

int CommandRunner::kill(const Invocation &inv) {
    QVariantMap filter;
    int code = ExitOk;
    if (!connectionFilter(inv, &filter, &code))
        return code;
    const HelperResult<quint32> r = m_client.killConnections(filter);
    if (!r.ok())
        return fail(r.error);
    m_out << "killed " << r.value << (r.value == 1 ? " connection" : " connections") << Qt::endl;
    return ExitOk;
}

int CommandRunner::accounting(const Invocation &inv) {
    if (inv.accounting) {
        if (const HelperError e = m_client.setConntrackAccounting(*inv.accounting); !e.ok())
            return fail(e);
    }
    const HelperResult<bool> r = m_client.conntrackAccounting();
    if (!r.ok())
        return fail(r.error);
    m_out << "per-connection accounting: " << (r.value ? "on" : "off") << Qt::endl;
    return ExitOk;
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
        rows.append({c.hook, QString::number(c.priority), c.family,
                     c.ours ? c.table + u'*' : c.table, c.chain, c.type, c.policy,
                     QString::number(c.rules), QString::number(c.dropRules),
                     QString::number(c.natRules), c.counted ? QString::number(c.packets) : u"-"_s,
                     c.counted ? QString::number(c.bytes) : u"-"_s});
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
                {u"counted"_s, c.counted},
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
