// SPDX-License-Identifier: GPL-3.0-or-later
// Runs one parsed porticoctl Invocation against the helper: prints results to `out`, notices and
// errors to `err`, and returns the exit status.
#pragma once

#include "command_line.h"
#include "helper_client.h"

#include <QJsonObject>
#include <QTextStream>

namespace portico::ctl {

enum ExitCode { ExitOk = 0, ExitFailure = 1, ExitUsage = 2, ExitNotAuthorized = 3 };

class CommandRunner {
public:
    CommandRunner(HelperClient &client, QTextStream &out, QTextStream &err);

    int run(const Invocation &inv);

private:
    int list(const Invocation &inv);
    int show(const Invocation &inv);
    int counters(const Invocation &inv);
    int add(const Invocation &inv);
    int update(const Invocation &inv);
    int remove(const Invocation &inv);
    int setEnabled(const Invocation &inv, bool enabled);
    int ipForward(const Invocation &inv);
    int ruleset();
    int exportForwards(const Invocation &inv);
    int importForwards(const Invocation &inv);
    int watch(const Invocation &inv);
    // Issue 4: conntrack.
    int connections(const Invocation &inv);
    int kill(const Invocation &inv);
    int accounting(const Invocation &inv);
    // The bus filter of connections/kill; resolves --forward by name. False: printed, *exitCode.
    bool connectionFilter(const Invocation &inv, QVariantMap *filter, int *exitCode);
    int diagnose(const Invocation &inv); // issue 5
    // diagnose --trace: traces the forward and reports each packet's fate; false on a drop.
    bool traceForDiagnosis(const Forward &f, int seconds, bool json, QJsonObject *result,
                           int *exitCode);
    // issue 5
    int chains(const Invocation &inv);
    int trace(const Invocation &inv);

    // Finds a forward by name, else by id. On failure prints the error and returns false.
    bool resolve(const QString &ref, Forward *out, int *exitCode);

    int fail(const HelperError &e);
    int failUsage(const QString &message);
    int failOther(const QString &message);
    void printNotices(const QStringList &notices);

    HelperClient &m_client;
    QTextStream &m_out;
    QTextStream &m_err;
};

// The readable table of `porticoctl list`.
QString formatForwardTable(const QList<Forward> &forwards);
// "eth0 203.0.113.1:80", "*:80", ...
QString formatExternal(const Forward &f);
// "198.51.100.10:8080", "this host :1234", ...
QString formatTargetColumn(const Forward &f);
// issue 5: `porticoctl chains`: the base chains by hook in packet-path order, then priority.
QString formatChainTable(const RulesetSummary &summary);

} // namespace portico::ctl
