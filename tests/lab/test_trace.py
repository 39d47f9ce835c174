# SPDX-License-Identifier: GPL-3.0-or-later
"""StartTrace/StopTrace and `porticoctl trace` (issue 5): a trace of a forward with real HTTP
traffic shows each packet's steps through our chains and a foreign chain shaped like
firewalld's, with the right verdicts, and the drop where the foreign chain drops it; afterwards
the ruleset is as it was; the time limit, StopTrace and the client leaving end it; bad arguments
and portico-user are refused. The foreign table is built with nft in the lab's gateway namespace
by the test and deleted again; the helper only reads it."""

import json
import os
import pwd
import re
import signal
import subprocess
import time

import dbus
import pytest

import lab_bus
from lab import ADMIN_USER, LAN_SERVER4, LAN_SERVER6, PLAIN_USER, WAN_CLIENT4, WAN_CLIENT6, WAN_GW4, WAN_GW6
from labutil import add, web

FIREWALLD = """table inet firewalld {
	chain filter_FORWARD {
		type filter hook forward priority filter + 10; policy drop;
		ct state { established, related } accept
		ct state invalid drop
		%s
		jump filter_FORWARD_ZONES
	}
	chain filter_FORWARD_ZONES {
		return
	}
}
"""
ACCEPT_WEB = "ip daddr 198.51.100.10 tcp dport 8080 accept"


@pytest.fixture
def firewalld(lab):
    """Loads the firewalld-shaped table; the test says whether it lets the web forward through.
    Deleted afterwards, whatever happens."""
    def load(accepting):
        text = FIREWALLD % (ACCEPT_WEB if accepting else "")
        lab.run(lab.gw, ["nft", "-f", lab.userFile("firewalld.nft", text)])
    yield load
    lab.run(lab.gw, ["nft", "delete", "table", "inet", "firewalld"], check=False)


def addWeb(lab):
    """The forward most tests trace: TCP port 80 of the gateway to the LAN server's 8080."""
    return add(lab, "--name", "web", "--proto", "tcp", "--port", "80", "--to", f"{LAN_SERVER4}:8080")


def ruleset(lab, counters=True):
    text = lab.nft(lab.gw, "list", "ruleset")
    # Traffic moves the counters of rules and of our per-forward elements; nothing else may move.
    return text if counters else re.sub(r"counter packets \d+ bytes \d+", "counter", text)


def startTrace(lab, ref, seconds, user=ADMIN_USER):
    """porticoctl trace REF --json in the background; returns once the trace is on."""
    pw = pwd.getpwnam(user)
    cmd = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--init-groups", "--",
           lab.ctlPath, "--bus", lab.busAddress, "--no-ask-password", "trace", ref, "--seconds",
           str(seconds), "--json"]
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/", "LANG": "C.UTF-8", "USER": user}
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    first = p.stderr.readline()
    if "tracing forward" not in first:
        out, err = p.communicate(timeout=10)
        return p, first + err
    return p, first


def traceWebThroughFirewalld(lab, firewalld, accepting, seconds):
    """The web forward behind the firewalld-shaped table, traced; returns the ruleset before the
    trace (counters aside) and the running porticoctl."""
    addWeb(lab)
    firewalld(accepting)
    before = ruleset(lab, counters=False)
    p, said = startTrace(lab, "web", seconds)
    assert p.poll() is None, said
    return before, p


def finish(p, timeout):
    out, err = p.communicate(timeout=timeout)
    steps = [json.loads(l) for l in out.splitlines() if l.strip()]
    return steps, err


def packets(steps):
    by = {}
    for s in steps:
        by.setdefault(s["packet"], []).append(s)
    return by


def where(step):
    return (step["hook"], step["family"], step["table"], step["chain"], step["type"], step["verdict"])


def test_trace_of_real_http_shows_our_chains_and_the_accepting_foreign_chain(lab, firewalld):
    before, p = traceWebThroughFirewalld(lab, firewalld, True, 4)
    assert web(lab) == f"lan-server port=8080 client={WAN_CLIENT4}\n"
    steps, err = finish(p, 15)
    assert p.returncode == 0, err
    assert "trace ended (timeout)" in err, err
    assert steps, f"no trace steps for real traffic: {err}"
    first = packets(steps)[1]
    path = [where(s) for s in first]
    # The SYN: our DNAT at prerouting, our accept and firewalld's accept rule at forward (in
    # priority order), then postrouting.
    assert ("prerouting", "inet", "portico", "prerouting", "rule", "accept") in path, path
    fw = [s for s in first if s["table"] == "firewalld"]
    assert fw and where(fw[-1]) == ("forward", "inet", "firewalld", "filter_FORWARD", "rule", "accept"), path
    assert fw[-1]["dst"] == f"{LAN_SERVER4}:8080", fw[-1]  # after our DNAT
    assert fw[-1]["iif"] == "wan0" and fw[-1]["oif"] == "br0", fw[-1]
    hooks = [s["hook"] for s in first]
    assert hooks.index("prerouting") < hooks.index("forward") < hooks.index("postrouting"), path
    ours = [i for i, s in enumerate(first) if s["hook"] == "forward" and s["table"] == "portico"]
    assert ours and ours[0] < first.index(fw[0]), "our forward chain (priority 0) runs before firewalld's (10)"
    assert not any(s["chain"].startswith("trace") for s in steps), "the trace's own chain is not a step"
    # Later packets of the connection: established, accepted by firewalld's first rule.
    later = [s for n, ss in packets(steps).items() if n > 1 for s in ss if s["table"] == "firewalld"]
    assert later and all(s["verdict"] == "accept" for s in later), later
    assert ruleset(lab, counters=False) == before, "the ruleset is not as it was before the trace"


def test_trace_shows_the_drop_by_the_foreign_policy_and_stop_ends_it(lab, firewalld):
    before, p = traceWebThroughFirewalld(lab, firewalld, False, 30)
    started = time.monotonic()
    assert lab.http_get(lab.wan, f"http://{WAN_GW4}/", source=WAN_CLIENT4, timeout=2) is None
    p.send_signal(signal.SIGINT)  # porticoctl calls StopTrace
    steps, err = finish(p, 10)
    assert time.monotonic() - started < 15
    assert "trace ended (stopped)" in err, err
    first = packets(steps)[1]
    last = first[-1]
    assert where(last) == ("forward", "inet", "firewalld", "filter_FORWARD", "policy", "drop"), first
    # Nothing after the drop; our DNAT and accept before it.
    assert ("prerouting", "inet", "portico", "prerouting", "rule", "accept") in [where(s) for s in first]
    assert not any(s["hook"] == "postrouting" for s in first), first
    assert ruleset(lab, counters=False) == before


def test_timeout_ends_the_trace_and_the_ruleset_is_byte_identical(lab):
    add(lab, "--name", "web", "--proto", "tcp+udp", "--port", "8000-8010", "--to", f"{LAN_SERVER4}")
    before = ruleset(lab)
    p, said = startTrace(lab, "web", 1)
    assert p.poll() is None, said
    during = lab.nft(lab.gw, "list", "table", "inet", "portico")
    assert "meta nftrace set 1" in during and "hook prerouting priority -350" in during, during
    assert "tcp dport 8000-8010 meta nftrace set 1" in during, during
    assert "udp dport 8000-8010 meta nftrace set 1" in during and "hook output priority -350" in during
    started = time.monotonic()
    steps, err = finish(p, 10)
    assert time.monotonic() - started < 5, "the one-second trace did not end in time"
    assert p.returncode == 0 and "trace ended (timeout)" in err, err
    assert steps == []
    assert ruleset(lab) == before, "the ruleset is not byte-identical after the trace"


def test_portico_user_is_refused_and_nothing_changes(lab):
    addWeb(lab)
    before = ruleset(lab)
    p = lab.ctl("trace", "web", "--seconds", "1", user=PLAIN_USER)
    assert p.returncode == 3, (p.returncode, p.stderr)
    assert "io.github.portico.monitor" in p.stderr, p.stderr
    assert ruleset(lab) == before


def startTraceCall(bus, fid, seconds, fd):
    try:
        return bus.call_blocking(lab_bus.SERVICE, lab_bus.PATH, lab_bus.INTERFACE, "StartTrace",
                                 "suh", [fid, dbus.UInt32(seconds), dbus.types.UnixFd(fd)],
                                 timeout=30)
    except dbus.exceptions.DBusException as e:
        return e.get_dbus_name()


def test_bad_arguments_are_refused_before_anything_changes(lab):
    fid = addWeb(lab)
    off = add(lab, "--name", "off", "--proto", "tcp", "--port", "81", "--to", f"{LAN_SERVER4}:8080",
              "--disabled")
    before = ruleset(lab)
    r, w = os.pipe()
    regular = os.open(lab.userFile("not-a-pipe", ""), os.O_WRONLY)
    try:
        bus = lab.bus()
        invalid = "org.freedesktop.DBus.Error.InvalidArgs"
        assert startTraceCall(bus, "f999", 5, w) == "io.github.portico.Error.NotFound"
        assert startTraceCall(bus, fid, 61, w) == invalid
        assert startTraceCall(bus, fid, 5, r) == invalid  # the read end
        assert startTraceCall(bus, fid, 5, regular) == invalid
        assert startTraceCall(bus, off, 5, w) == invalid  # disabled: not in the kernel
        assert lab.busCall("StopTrace", [12345])["error"] == "io.github.portico.Error.NotFound"
    finally:
        for fd in (r, w, regular):
            os.close(fd)
    assert ruleset(lab) == before


def test_the_trace_ends_when_its_client_leaves_the_bus(lab):
    fid = addWeb(lab)
    before = ruleset(lab)
    r, w = os.pipe()
    own = lab_bus.connect(lab.busAddress)
    try:
        traceId = startTraceCall(own, fid, 60, w)
        assert isinstance(traceId, int) and traceId > 0, traceId
        assert "nftrace" in lab.nft(lab.gw, "list", "table", "inet", "portico")
        # Someone else cannot stop it.
        assert lab.busCall("StopTrace", [int(traceId)])["error"] == "io.github.portico.Error.NotFound"
    finally:
        os.close(w)
        own.close()
    deadline = time.monotonic() + 10
    while "nftrace" in ruleset(lab) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ruleset(lab) == before, "the trace chains stayed after the client left"
    with os.fdopen(r) as f:
        end = json.loads(f.read().splitlines()[-1])
    assert end["end"] == "stopped" and "left" in end["message"], end


def test_an_exiting_helper_takes_its_trace_out_and_leftovers_go_at_start(lab):
    fid = addWeb(lab)
    before = ruleset(lab)
    r, w = os.pipe()
    own = lab_bus.connect(lab.busAddress)
    try:
        assert isinstance(startTraceCall(own, fid, 60, w), int)
        os.close(w)
        assert "nftrace" in ruleset(lab)
        lab.stopHelper()  # SIGTERM
        assert ruleset(lab) == before, "the trace chains stayed after the helper exited"
        with os.fdopen(r) as f:
            end = json.loads(f.read().splitlines()[-1])
        assert end["end"] == "stopped" and "exiting" in end["message"], end
    finally:
        own.close()
    # A helper killed during a trace cannot clean up; the next one removes what it left.
    lab.nft(lab.gw, "add", "chain", "inet", "portico", "trace7_pre",
            "{ type filter hook prerouting priority -350; policy accept; }")
    lab.nft(lab.gw, "add", "rule", "inet", "portico", "trace7_pre", "tcp", "dport", "80", "meta",
            "nftrace", "set", "1")
    lab.ensureHelper()
    assert lab.busCall("ListForwards")["ok"]  # activates it
    assert ruleset(lab) == before, "the leftover trace chain is still there"


def test_a_change_that_rewrites_our_table_during_a_trace_keeps_it_on(lab):
    fid = addWeb(lab)
    # A set the helper did not make: after a restart the helper does not take the table over as
    # its own, so its next change writes the table whole, and the trace chains go with it.
    lab.stopHelper()
    lab.nft(lab.gw, "add", "set", "inet", "portico", "stranger", "{ type ipv4_addr; }")
    lab.ensureHelper()
    r, w = os.pipe()
    own = lab_bus.connect(lab.busAddress)
    try:
        assert isinstance(startTraceCall(own, fid, 60, w), int)
        os.close(w)
        add(lab, "--name", "other", "--proto", "udp", "--port", "53", "--to", LAN_SERVER4)
        table = lab.nft(lab.gw, "list", "table", "inet", "portico")
        assert "stranger" not in table, "the table was not written whole; the test proves nothing"
        assert table.count("meta nftrace set 1") == 2, table  # prerouting and output, once each
        assert web(lab) is not None
    finally:
        own.close()
    with os.fdopen(r) as f:
        lines = [json.loads(l) for l in f.read().splitlines()]
    assert any(l.get("table") == "portico" and l.get("hook") == "prerouting" for l in lines), lines
    assert lines[-1]["end"] == "stopped", lines[-1]
    deadline = time.monotonic() + 10
    while "nftrace" in ruleset(lab) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "nftrace" not in ruleset(lab)


def test_a_running_trace_keeps_the_helper_from_its_idle_exit(lab):
    fid = addWeb(lab)
    lab.stopHelper()
    helper = subprocess.Popen(["ip", "netns", "exec", lab.gw, lab.helperPath, "--bus",
                               lab.busAddress, "--state-dir", lab.stateDir, "--idle-timeout", "1"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    r, w = os.pipe()
    own = lab_bus.connect(lab.busAddress)
    try:
        deadline = time.monotonic() + 10
        while not lab.hasOwner(lab_bus.SERVICE) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lab.helperPid() == helper.pid
        started = time.monotonic()
        assert isinstance(startTraceCall(own, fid, 3, w), int)
        os.close(w)
        time.sleep(2.2)
        assert helper.poll() is None, "the helper went idle during a trace"
        # The trace ends after its 3 seconds; then the helper may leave, after one idle second.
        with os.fdopen(r) as f:
            end = json.loads(f.read().splitlines()[-1])
        assert end["end"] == "timeout", end
        assert helper.wait(timeout=10) == 0, helper.stderr.read()
        assert time.monotonic() - started >= 3.5
        assert "nftrace" not in ruleset(lab)
    finally:
        own.close()
        if helper.poll() is None:
            helper.kill()
            helper.wait()
    lab.ensureHelper()
    assert lab.busCall("ListForwards")["ok"], "the helper did not come back"


def readTrace(fd):
    with os.fdopen(fd) as f:
        return [json.loads(l) for l in f.read().splitlines()]


def test_two_clients_trace_at_once_and_a_second_trace_of_one_client_ends_its_first(lab):
    fid = addWeb(lab)
    before = ruleset(lab, counters=False)
    a, b = lab_bus.connect(lab.busAddress), lab_bus.connect(lab.busAddress)
    pipes = [os.pipe() for _ in range(3)]
    try:
        assert isinstance(startTraceCall(a, fid, 60, pipes[0][1]), int)
        assert isinstance(startTraceCall(b, fid, 60, pipes[1][1]), int)
        for _, w in pipes[:2]:
            os.close(w)
        assert web(lab) is not None
        # Client a starts again: its first trace ends, its second goes on.
        assert isinstance(startTraceCall(a, fid, 60, pipes[2][1]), int)
        os.close(pipes[2][1])
        assert ruleset(lab).count("meta nftrace set 1") == 4  # two traces, two chains each
    finally:
        a.close()
        b.close()
    first, other, second = (readTrace(r) for r, _ in pipes)
    assert first[-1]["end"] == "stopped" and "another trace" in first[-1]["message"], first[-1]
    for lines in (first, other):
        steps = lines[:-1]
        assert any(s["hook"] == "forward" and s["table"] == "portico" for s in steps), steps
        assert not any(s["chain"].startswith("trace") for s in steps), steps
    assert second[-1]["end"] == "stopped"
    deadline = time.monotonic() + 10
    while ruleset(lab, counters=False) != before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ruleset(lab, counters=False) == before


def test_an_ipv6_forward_on_one_address_traces_only_its_packets(lab):
    add(lab, "--name", "web6", "--proto", "tcp", "--on", WAN_GW6, "--port", "80", "--to",
        f"[{LAN_SERVER6}]:8080")
    before = ruleset(lab, counters=False)
    p, said = startTrace(lab, "web6", 3)
    assert p.poll() is None, said
    during = lab.nft(lab.gw, "list", "table", "inet", "portico")
    assert f"ip6 daddr {WAN_GW6} tcp dport 80 meta nftrace set 1" in during, during
    assert lab.http_get(lab.wan, f"http://[{WAN_GW6}]/", source=WAN_CLIENT6) is not None
    # IPv4 to port 80 is not this forward's traffic: not traced.
    lab.http_get(lab.wan, f"http://{WAN_GW4}/", source=WAN_CLIENT4, timeout=1)
    steps, err = finish(p, 15)
    assert "trace ended (timeout)" in err, err
    assert steps and all(s["nfproto"] == "ipv6" for s in steps), steps
    first = packets(steps)[1]
    assert first[0]["src"].startswith(f"[{WAN_CLIENT6}]:"), first[0]
    fwd = [s for s in first if s["hook"] == "forward"]
    assert fwd and fwd[0]["dst"] == f"[{LAN_SERVER6}]:8080", first
    assert ruleset(lab, counters=False) == before
