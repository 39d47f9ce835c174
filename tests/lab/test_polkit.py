# SPDX-License-Identifier: GPL-3.0-or-later
"""polkit: every mutating method, found in the helper's own introspection data, is refused to a
user without authorization and nothing changes; the lab's rule lets portico-admin through; and it
is the real polkitd deciding: without it even portico-admin is refused (issue 2, test 12)."""

import json
import re

import lab_bus
from lab import ADMIN_USER, LAN_SERVER4, PLAIN_USER
from labutil import Snapshot, add, forwardMap

# Methods that change nothing. Everything else the helper offers counts as mutating, so a new
# method is tested for denial until someone lists it here on purpose.
READ_ONLY = {"ListForwards", "GetIpForwarding", "Ruleset", "GetCounters"}
# Issue 4: read-only too. WatchConnections takes a pipe, which lab_bus cannot pass: its denial
# (monitor) is tested through porticoctl in test_conntrack.py.
READ_ONLY |= {"GetConntrackAccounting", "WatchConnections"}
# Read-only, but gated by io.github.portico.monitor.
MONITORED = {"GetCounters"}
# issue 5: Diagnose reads only; its denial (it needs an id) is tested in test_diagnose.py.
READ_ONLY |= {"Diagnose"}
# issue 5: the summary, and the trace (its denial is in test_trace.py: it needs a pipe)
READ_ONLY |= {"RulesetSummary", "StartTrace", "StopTrace"}
# The bulk list (docs/dbus-api.md): ExportForwards reads, open like ListForwards.
READ_ONLY |= {"ExportForwards"}
MONITORED |= {"RulesetSummary"}
NOT_AUTHORIZED = "io.github.portico.Error.NotAuthorized"


def validArguments(method, existingId, generation, forwarding):
    table = {
        "AddForward": [forwardMap(name="pk-new", external_port="81")],
        "UpdateForward": [existingId, {"comment": "changed", "external_port": "82"}],
        "RemoveForward": [existingId],
        "ReplaceForwards": [[forwardMap(name="pk-replaced", external_port="83")], generation],
        "ImportForwards": [{"text": json.dumps({"schema": 1, "forwards": [
            forwardMap(name="pk-imported", external_port="84")]})}, generation],
        "SetIpForwarding": [not forwarding[0], not forwarding[1]],
        # Issue 4.
        "KillConnections": [{"protocol": "udp"}],
        "SetConntrackAccounting": [True],
    }
    assert method in table, (f"the helper has a new method {method}: give it valid arguments in "
                             "test_polkit.py, or list it in READ_ONLY if it changes nothing")
    return table[method]


def setUp(lab):
    fid = add(lab, "--name", "pk-base", "--proto", "tcp", "--port", "80", "--to",
              f"{LAN_SERVER4}:8080")
    methods = lab_bus.methods(lab.bus())
    assert {"AddForward", "RemoveForward", "ReplaceForwards"} <= set(methods), methods
    return fid, sorted(set(methods) - READ_ONLY)


def test_unauthorized_user_is_refused_every_mutating_method(lab):
    fid, mutating = setUp(lab)
    snap = Snapshot(lab)
    for method in mutating:
        args = validArguments(method, fid, snap.generation, snap.forwarding)
        r = lab.busCall(method, args, user=PLAIN_USER)
        assert not r["ok"] and r["error"] == NOT_AUTHORIZED, f"{method} as {PLAIN_USER}: {r}"
        assert "io.github.portico.manage" in r["message"] or "authori" in r["message"].lower(), r
        snap.assertUnchanged(f"{method} refused to {PLAIN_USER}")
    for method in MONITORED:
        r = lab.busCall(method, [], user=PLAIN_USER)
        assert not r["ok"] and r["error"] == NOT_AUTHORIZED, f"{method} as {PLAIN_USER}: {r}"
    # Listing stays open, in both forms.
    r = lab.busCall("ListForwards", [], user=PLAIN_USER)
    assert r["ok"], r
    r = lab.busCall("ExportForwards", [], user=PLAIN_USER)
    assert r["ok"] and r["result"][0]["sealed"], r


def test_porticoctl_exits_3_for_an_unauthorized_user(lab):
    add(lab, "--name", "pk-base", "--proto", "tcp", "--port", "80", "--to", f"{LAN_SERVER4}:8080")
    snap = Snapshot(lab)
    empty = lab.userFile("empty.json", json.dumps({"schema": 1, "forwards": []}))
    commands = [
        ["add", "--name", "x", "--proto", "tcp", "--port", "81", "--to", f"{LAN_SERVER4}:8080"],
        ["disable", "pk-base"], ["enable", "pk-base"], ["remove", "pk-base"],
        ["update", "pk-base", "--comment", "no"], ["ip-forward", "on"], ["import", empty],
        ["counters"],
    ]
    for args in commands:
        p = lab.ctl(*args, user=PLAIN_USER)
        assert p.returncode == 3, f"porticoctl {' '.join(args)} as {PLAIN_USER}: {p.returncode} {p.stderr}"
        assert re.search(r"administrator|not authori[sz]ed", p.stderr, re.I), p.stderr
        snap.assertUnchanged(f"porticoctl {' '.join(args)} as {PLAIN_USER}")


def test_admin_allowed_by_the_rule_succeeds_at_every_mutating_method(lab):
    fid, mutating = setUp(lab)
    for method in mutating:
        current = add(lab, "--name", "pk-victim", "--proto", "tcp", "--port", "90", "--to",
                      f"{LAN_SERVER4}:8080") if method == "RemoveForward" else fid
        snap = Snapshot(lab)
        args = validArguments(method, current, snap.generation, snap.forwarding)
        r = lab.busCall(method, args, user=ADMIN_USER)
        assert r["ok"], f"{method} as {ADMIN_USER}: {r}"
        if method in ("ReplaceForwards", "ImportForwards"):
            fid = add(lab, "--name", "pk-base", "--proto", "tcp", "--port", "80", "--to",
                      f"{LAN_SERVER4}:8080")
    r = lab.busCall("GetCounters", [], user=ADMIN_USER)
    assert r["ok"], r


def test_the_real_polkitd_decides(lab):
    add(lab, "--name", "pk-base", "--proto", "tcp", "--port", "80", "--to", f"{LAN_SERVER4}:8080")
    lab.stopPolkit()
    snap = Snapshot(lab)
    r = lab.busCall("AddForward", [forwardMap(name="pk-new", external_port="81")], user=ADMIN_USER)
    assert not r["ok"] and r["error"] == NOT_AUTHORIZED, f"with polkitd gone: {r}"
    p = lab.ctl("disable", "pk-base", user=ADMIN_USER)
    assert p.returncode == 3, f"porticoctl with polkitd gone: {p.returncode} {p.stderr}"
    snap.assertUnchanged("calls while polkitd is gone")
    lab.startPolkit()
    r = lab.busCall("AddForward", [forwardMap(name="pk-new", external_port="81")], user=ADMIN_USER)
    assert r["ok"], f"after polkitd is back: {r}"
