# SPDX-License-Identifier: GPL-3.0-or-later
"""The live conntrack view (issue 4) against the real kernel: porticoctl connections / kill /
accounting through the helper's WatchConnections stream, cross-checked with `conntrack -L`, a
client that does not read while the table floods, and polkit's monitor action."""

import json
import os
import re
import select
import subprocess
import threading
import time

import pytest

from lab import (ADMIN_USER, LAN_SERVER4, PLAIN_USER, WAN_CLIENT4, WAN_GW4, LabError,
                 findBinary)
from labutil import add, web


@pytest.fixture(scope="module")
def ctFill(lab):
    try:
        return findBinary("ct_fill", "PORTICO_CT_FILL", lab.buildDir)
    except LabError as e:
        pytest.fail(str(e), pytrace=False)


def fill(lab, ctFill, *args):
    p = lab.run(lab.gw, [ctFill, "--quiet", *args], check=False, timeout=120)
    assert p.returncode == 0, f"ct_fill {' '.join(args)} failed: {p.stderr}"


class Follow:
    """`porticoctl connections --follow --json` as the admin, read line by line."""

    def __init__(self, lab, *args, user=ADMIN_USER):
        pw = __import__("pwd").getpwnam(user)
        cmd = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--init-groups", "--",
               lab.ctlPath, "--bus", lab.busAddress, "--no-ask-password", "connections",
               "--follow", "--json", *args]
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  stdin=subprocess.DEVNULL,
                                  env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/",
                                       "LANG": "C.UTF-8"})
        self.buf = b""
        self.view = {}
        self.resyncs = 0
        self.events = []  # every event read, in order

    def lines(self, timeout):
        """Yields events until `timeout` seconds pass without one."""
        fd = self.p.stdout.fileno()
        while True:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                event = json.loads(line)
                self.apply(event)
                yield event
            r, _, _ = select.select([fd], [], [], timeout)
            if not r:
                return
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return
            self.buf += chunk

    def apply(self, e):
        self.events.append(e)
        kind = e.get("event")
        if kind in ("begin", "resync"):
            self.view = {}
            self.resyncs += kind == "resync"
        elif kind in ("entry", "update"):
            self.view[e["id"]] = e
        elif kind == "destroy":
            self.view.pop(e["id"], None)

    def waitFor(self, predicate, timeout):
        """The first event matching predicate within timeout seconds (or None)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for e in self.lines(max(0.05, end - time.monotonic())):
                if predicate(e):
                    return e
                if time.monotonic() >= end:
                    break
            else:
                if self.p.poll() is not None:
                    return None
        return None

    def settle(self, quiet=1.5):
        """Reads until the stream is quiet for `quiet` seconds."""
        for _ in self.lines(quiet):
            pass

    def close(self):
        if self.p.stdout.closed:
            return ""
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.p.stdout.close()
        err = self.p.stderr.read().decode()
        self.p.stderr.close()
        return err


@pytest.fixture
def follow(lab):
    made = []

    def start(*args, user=ADMIN_USER):
        f = Follow(lab, *args, user=user)
        made.append(f)
        return f

    yield start
    for f in made:
        f.close()


def connections(lab, *args, user=ADMIN_USER):
    p = lab.ctl("connections", "--json", *args, user=user, timeout=120)
    assert p.returncode == 0, f"porticoctl connections failed ({p.returncode}): {p.stderr}"
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


def tupleOf(e):
    o, r = e["original"], e["reply"]
    return (e["protocol"], o["src"], o["dst"], o.get("sport"), o.get("dport"), r["src"], r["dst"],
            r.get("sport"), r.get("dport"))


def isWeb(e):
    o = e.get("original", {})
    return o.get("src") == WAN_CLIENT4 and o.get("dst") == WAN_GW4 and o.get("dport") == 80


CONNTRACK_LINE = re.compile(
    r"^(?P<proto>\w+)\s+\d+\s+\d+\s+(?:[A-Z_]+\s+)?"
    r"src=(?P<s1>\S+) dst=(?P<d1>\S+) sport=(?P<sp1>\d+) dport=(?P<dp1>\d+) .*?"
    r"src=(?P<s2>\S+) dst=(?P<d2>\S+) sport=(?P<sp2>\d+) dport=(?P<dp2>\d+)")


def conntrackTuples(lab):
    """The tuples `conntrack -L` prints in the gateway (TCP and UDP: what ct_fill makes)."""
    out = lab.run(lab.gw, ["conntrack", "-L"], timeout=120).stdout
    tuples = set()
    for line in out.splitlines():
        m = CONNTRACK_LINE.match(line)
        assert m, f"conntrack -L printed a line this test cannot read: {line}"
        g = m.groupdict()
        tuples.add((g["proto"], g["s1"], g["d1"], int(g["sp1"]), int(g["dp1"]), g["s2"], g["d2"],
                    int(g["sp2"]), int(g["dp2"])))
    return tuples


def test_a_connection_through_a_forward_appears_within_a_second_and_goes_when_destroyed(
        lab, follow):
    fid = add(lab, "--name", "web", "--proto", "tcp", "--port", "80", "--to",
              f"{LAN_SERVER4}:8080")
    f = follow("--forward", "web")
    assert f.waitFor(lambda e: e.get("event") == "end", 10) is not None, \
        f"no snapshot from porticoctl connections --follow: {f.close()}"
    assert web(lab) is not None, "the forward does not carry HTTP"
    done = time.monotonic()  # the connection was made (and closed) before this
    seen = f.waitFor(lambda e: e.get("event") == "update" and isWeb(e), 5)
    assert seen is not None, f"the connection never showed up: {f.close()}"
    assert time.monotonic() - done < 1.0, "the connection showed up more than a second later"
    assert seen["forward"] == "web" and seen["forward_id"] == fid
    assert seen["original"] == {"src": WAN_CLIENT4, "dst": WAN_GW4, "sport": seen["original"]["sport"],
                                "dport": 80}
    assert seen["reply"]["src"] == LAN_SERVER4 and seen["reply"]["sport"] == 8080
    assert seen["reply"]["dst"] == WAN_CLIENT4
    assert seen["translated_to"] == f"{LAN_SERVER4}:8080"
    assert "DNAT" in seen["status"]

    # The one-shot listing agrees, and so does the table form.
    listed = [e for e in connections(lab) if isWeb(e)]
    assert [e["id"] for e in listed] == [seen["id"]]
    assert listed[0]["forward"] == "web"
    table = lab.ctl("connections", "--forward", "web").stdout
    assert re.search(rf"{seen['id']}\s+tcp\s+\S+\s+{WAN_CLIENT4}:\d+ -> {WAN_GW4}:80\s+"
                     rf"{LAN_SERVER4}:8080\s+web\s", table), table

    # Destroyed behind the helper's back (conntrack -D): the stream says so within a second.
    sport = str(seen["original"]["sport"])
    lab.conntrack(lab.gw, "-D", "-p", "tcp", "--orig-src", WAN_CLIENT4, "--sport", sport)
    started = time.monotonic()
    gone = f.waitFor(lambda e: e.get("event") == "destroy" and e["id"] == seen["id"], 3)
    assert gone is not None, "the destroyed entry was never reported gone"
    assert time.monotonic() - started < 1.0
    assert not [e for e in connections(lab) if isWeb(e)]


def test_kill_by_id_and_by_filter(lab):
    add(lab, "--name", "web", "--proto", "tcp", "--port", "80", "--to", f"{LAN_SERVER4}:8080")
    for _ in range(3):
        assert web(lab) is not None
    flows = [e for e in connections(lab, "--forward", "web")]
    assert len(flows) == 3, flows
    victim = flows[0]["id"]
    p = lab.ctl("kill", "--id", str(victim))
    assert p.returncode == 0 and p.stdout.strip() == "killed 1 connection", p.stdout + p.stderr
    left = {e["id"] for e in connections(lab, "--forward", "web")}
    assert left == {e["id"] for e in flows[1:]}
    # The kernel agrees: two web entries remain.
    assert lab.conntrack(lab.gw, "-L", "-p", "tcp", "--orig-port-dst", "80").count("dport=80") == 2
    # An id that is gone kills nothing.
    p = lab.ctl("kill", "--id", str(victim))
    assert p.returncode == 0 and p.stdout.strip() == "killed 0 connections", p.stdout + p.stderr
    # A filter: every flow of the forward, and nothing else.
    fill_other = lab.run(lab.gw, ["conntrack", "-I", "-p", "udp", "-s", "203.0.113.50", "-d",
                                  WAN_GW4, "--sport", "5000", "--dport", "53", "-t", "100"],
                         check=False)
    assert fill_other.returncode == 0, fill_other.stderr
    p = lab.ctl("kill", "--forward", "web")
    assert p.returncode == 0 and p.stdout.strip() == "killed 2 connections", p.stdout + p.stderr
    assert not connections(lab, "--forward", "web")
    # The other entry survives. (The gateway's own traffic may have left entries of its own, so
    # the check is for this one, not for "only this one".)
    assert "203.0.113.50" in [e["original"]["src"] for e in connections(lab)]


def test_a_kill_in_a_big_table_leaves_the_helper_serving(lab, ctFill):
    """A kill dumps the whole table (seconds at a million entries); it runs on a thread of its
    own, so other calls are answered meanwhile. The forward's flows go, and only they."""
    fid = add(lab, "--name", "web", "--proto", "tcp", "--port", "80", "--to",
              f"{LAN_SERVER4}:8080")
    fill(lab, ctFill, "--count", "200000", "--mark", fid[1:], "--mark-every", "4")
    kill = {}

    def killer(*args):
        started = time.monotonic()
        kill["p"] = lab.ctl("kill", *args, timeout=120)
        kill["s"] = time.monotonic() - started

    # A filter that matches nothing still reads every entry: the longest kill there is.
    waits = []
    t = threading.Thread(target=killer, args=("--proto", "icmp"))
    t.start()
    while t.is_alive():
        started = time.monotonic()
        r = lab.busCall("GetIpForwarding")
        assert r["ok"], r
        waits.append(time.monotonic() - started)
    t.join()
    assert kill["p"].returncode == 0 and kill["p"].stdout.strip() == "killed 0 connections", \
        kill["p"].stdout + kill["p"].stderr
    # The kill must have lasted long enough to say something; a call that had to wait for it
    # would have waited most of it (a kill on the event loop: 0.8-0.9 of it; 0.3 s here).
    assert kill["s"] > 0.1, f"the kill of 200,000 entries took only {kill['s']:.2f} s"
    assert len(waits) >= 3 and max(waits) < kill["s"] / 2, (kill["s"], max(waits), len(waits))

    # One forward's flows: the kernel lists only its mark; 50,000 go, 150,000 stay.
    killer("--forward", "web")
    assert kill["p"].returncode == 0, kill["p"].stderr
    assert kill["p"].stdout.strip() == "killed 50000 connections", kill["p"].stdout
    assert int(lab.conntrack(lab.gw, "-C").strip()) >= 150000
    assert lab.conntrack(lab.gw, "-L", "-m", fid[1:]).count("dport=") == 0
    lab.conntrack(lab.gw, "-F", check=False)


def test_kill_refuses_an_empty_filter_and_bad_values(lab):
    p = lab.ctl("kill")
    assert p.returncode == 2 and "needs a filter" in p.stderr, p.stderr
    r = lab.busCall("KillConnections", [{}], signature="a{sv}")
    assert not r["ok"] and r["error"] == "org.freedesktop.DBus.Error.InvalidArgs", r
    r = lab.busCall("KillConnections", [{"colour": "red"}], signature="a{sv}")
    assert not r["ok"] and "no key 'colour'" in r["message"], r
    p = lab.ctl("connections", "--port", "70000")
    assert p.returncode == 2, p.stderr


def test_a_user_without_monitor_sees_nothing(lab):
    p = lab.ctl("connections", user=PLAIN_USER)
    assert p.returncode == 3, p.stdout + p.stderr
    assert "io.github.portico.monitor" in p.stderr
    assert p.stdout == ""
    p = lab.ctl("kill", "--proto", "udp", user=PLAIN_USER)
    assert p.returncode == 3, p.stdout + p.stderr
    p = lab.ctl("accounting", "on", user=PLAIN_USER)
    assert p.returncode == 3, p.stdout + p.stderr


def test_accounting_switch_and_notice(lab, follow):
    before = lab.sysctl(lab.gw, "net.netfilter.nf_conntrack_acct")
    try:
        p = lab.ctl("accounting", "off")
        assert p.returncode == 0 and "accounting: off" in p.stdout, p.stdout + p.stderr
        assert lab.sysctl(lab.gw, "net.netfilter.nf_conntrack_acct") == "0"
        p = lab.ctl("connections")
        assert p.returncode == 0 and "counters are off" in p.stderr, p.stderr
        p = lab.ctl("accounting", "on")
        assert p.returncode == 0 and "accounting: on" in p.stdout, p.stdout + p.stderr
        assert lab.sysctl(lab.gw, "net.netfilter.nf_conntrack_acct") == "1"
        p = lab.ctl("connections")
        assert p.returncode == 0 and "counters are off" not in p.stderr, p.stderr
        # With accounting on, a flow through a forward counts its packets both ways.
        add(lab, "--name", "web", "--proto", "tcp", "--port", "80", "--to", f"{LAN_SERVER4}:8080")
        assert web(lab) is not None
        flows = connections(lab, "--forward", "web")
        assert flows and flows[0]["packets"]["original"] > 0 and flows[0]["packets"]["reply"] > 0
    finally:
        lab.run(lab.gw, ["sysctl", "-q", "-w", f"net.netfilter.nf_conntrack_acct={before}"])


def test_listing_equals_conntrack_L_for_ten_thousand_entries(lab, ctFill):
    fid = add(lab, "--name", "web", "--proto", "tcp", "--port", "80", "--to",
              f"{LAN_SERVER4}:8080")
    # Every third entry carries the forward's mark (its id is "f" and the mark), as our rules
    # would set it; mark 999 is no forward's.
    fill(lab, ctFill, "--count", "12000", "--mark", f"{fid[1:]},999", "--mark-every", "3",
         "--family", "46")
    listed = connections(lab)
    mine = {tupleOf(e) for e in listed}
    assert len(listed) == len(mine) == 12000
    assert mine == conntrackTuples(lab)
    # The marked ones carry the forward's name.
    assert sum(1 for e in listed if e.get("forward") == "web") == 2000
    assert sum(1 for e in listed if e["mark"] == 999 and "forward" not in e) == 2000
    # Helper-side filters give the same subsets the kernel table has.
    udp = connections(lab, "--proto", "udp")
    assert len(udp) == 6000 and all(e["protocol"] == "udp" for e in udp)
    assert len(connections(lab, "--forwarded")) == 2000
    assert len(connections(lab, "--forward", "web")) == 2000
    port = connections(lab, "--port", "1024")
    assert port and all(1024 in (e["original"]["sport"], e["original"]["dport"],
                                 e["reply"]["sport"], e["reply"]["dport"]) for e in port)


def test_a_client_that_does_not_read_gets_a_resync_and_ends_equal_to_the_kernel(
        lab, ctFill, follow):
    fill(lab, ctFill, "--count", "2000")
    f = follow()
    assert f.waitFor(lambda e: e.get("event") == "end", 10) is not None, f.close()
    # Now the client reads nothing while the table grows by 150,000 entries as fast as
    # ct_fill can: the events pile up at the helper far faster than anyone reads them.
    filler = subprocess.Popen(["ip", "netns", "exec", lab.gw, ctFill, "--start", "2000",
                               "--count", "150000"], stderr=subprocess.PIPE)
    # Meanwhile the helper answers other calls.
    slowest = 0.0
    while filler.poll() is None:
        t = time.monotonic()
        r = lab.busCall("ListForwards", timeout=5)
        slowest = max(slowest, time.monotonic() - t)
        assert r["ok"], r
        time.sleep(0.1)
    assert filler.wait() == 0, filler.stderr.read().decode()
    assert slowest < 1.0, f"the helper took {slowest:.2f} s to answer ListForwards under load"
    # The client reads again: its view becomes the kernel's table.
    f.settle(quiet=2.0)
    assert f.resyncs >= 1, "the helper never resynchronized the client that did not read"
    assert {tupleOf(e) for e in f.view.values()} == conntrackTuples(lab)
    assert len(f.view) == 152000


def startIdleHelper(lab, env=None):
    """The helper started by hand with a one-second idle timeout, its log on a pipe; returns
    once it owns the bus name."""
    lab.stopHelper()
    helper = subprocess.Popen(["ip", "netns", "exec", lab.gw, lab.helperPath, "--bus",
                               lab.busAddress, "--state-dir", lab.stateDir, "--idle-timeout", "1"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 10
    while lab.helperPid() != helper.pid and time.monotonic() < deadline:
        time.sleep(0.05)
    if lab.helperPid() != helper.pid:
        helper.kill()
        helper.wait()
        raise AssertionError("the helper started by hand did not take the name")
    return helper


def test_an_open_stream_keeps_the_helper_from_exiting_idle(lab, follow):
    helper = startIdleHelper(lab)
    try:
        f = follow()
        assert f.waitFor(lambda e: e.get("event") == "end", 5) is not None, f.close()
        time.sleep(2.5)
        assert helper.poll() is None, "the helper exited idle with a stream open"
        f.close()  # the client goes: the stream ends, and the helper may go idle again
        assert helper.wait(timeout=10) == 0, helper.stderr.read()
        assert "ended" in helper.stderr.read()
    finally:
        if helper.poll() is None:
            helper.kill()
            helper.wait()
    lab.ensureHelper()


# A UDP client in the wan namespace: one datagram every 50 ms from a fixed source port, for
# `seconds`, to the forward; the lan server echoes each one, so both directions count.
UDP_SENDER = """
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
end = time.monotonic() + float(sys.argv[5])
while time.monotonic() < end:
    s.sendto(b"x" * 100, (sys.argv[3], int(sys.argv[4])))
    time.sleep(0.05)
"""

CONNTRACK_PACKETS = re.compile(r"packets=(\d+) bytes=(\d+) .*?packets=(\d+) bytes=(\d+)")


def kernelCounters(lab, sport):
    """(packets, bytes) both ways of the UDP flow from `sport`, as `conntrack -L` prints them."""
    out = lab.conntrack(lab.gw, "-L", "-p", "udp", "--orig-src", WAN_CLIENT4, "--sport",
                        str(sport))
    m = CONNTRACK_PACKETS.search(out)
    assert m, f"conntrack -L shows no counters for the flow: {out!r}"
    return tuple(int(x) for x in m.groups())


def streamCounters(e):
    return (e["packets"]["original"], e["bytes"]["original"], e["packets"]["reply"],
            e["bytes"]["reply"])


# The refresh asks the kernel for one forward's mark (CTA_MARK) when the streams want one
# forward, and for the DNATed entries (CTA_STATUS) when they want all of ours.
@pytest.mark.parametrize("streamFilter", [["--forward", "dns"], ["--forwarded"]],
                         ids=["one-forward", "forwarded"])
def test_counters_of_a_long_running_flow_rise_while_it_runs_and_match_the_kernel(
        lab, follow, streamFilter):
    before = lab.sysctl(lab.gw, "net.netfilter.nf_conntrack_acct")
    sport = 40123
    try:
        assert lab.ctl("accounting", "on").returncode == 0
        add(lab, "--name", "dns", "--proto", "udp", "--port", "5300", "--to",
            f"{LAN_SERVER4}:8080")
        add(lab, "--name", "web", "--proto", "tcp", "--port", "80", "--to",
            f"{LAN_SERVER4}:8080")
        f = follow(*streamFilter)
        assert f.waitFor(lambda e: e.get("event") == "end", 10) is not None, f.close()
        sender = subprocess.Popen(["ip", "netns", "exec", lab.wan, "/usr/bin/python3", "-c",
                                   UDP_SENDER, WAN_CLIENT4, str(sport), WAN_GW4, "5300", "4.5"])
        # Records with counters: those of new and update events carry none (zeros).
        mine = lambda e: (e.get("event") in ("entry", "update") and e["protocol"] == "udp" and
                          e["original"]["sport"] == sport and e["packets"]["original"] > 0)
        try:
            # While it runs: the counters the stream shows keep rising (the kernel sends them in
            # no new or update event, so these come from the helper's refresh), and each
            # `conntrack -L` reading shows up in the stream within a refresh (about 1 s).
            seen = []
            checked = 0
            while sender.poll() is None:
                e = f.waitFor(mine, 1.5)
                if e is None:
                    continue
                seen.append(streamCounters(e))
                if checked < 2 and len(seen) >= 2 and sender.poll() is None:
                    kernel = kernelCounters(lab, sport)
                    caught = f.waitFor(lambda x: mine(x) and streamCounters(x)[0] >= kernel[0],
                                       2.5)
                    assert caught is not None, \
                        f"the stream did not catch up with conntrack -L {kernel} in 2.5 s: {seen}"
                    assert all(a >= b for a, b in zip(streamCounters(caught), kernel))
                    seen.append(streamCounters(caught))
                    checked += 1
            assert sender.wait() == 0
        finally:
            if sender.poll() is None:
                sender.kill()
                sender.wait()
        packets = [s[0] for s in seen]
        assert len(set(packets)) >= 3, f"the counters did not move while the flow ran: {seen}"
        # porticoctl keeps a flow's counters through the events that carry none: no record of
        # the flow after its first counted one drops back to zero.
        shown = [streamCounters(e)[0] for e in f.events if e.get("event") in ("entry", "update")
                 and e.get("protocol") == "udp" and e["original"]["sport"] == sport]
        counted = shown[next((i for i, n in enumerate(shown) if n > 0), len(shown)):]
        assert counted and counted == sorted(counted), f"counters went back in the output: {shown}"
        assert packets == sorted(packets), f"counters went backwards: {seen}"
        assert all(s[2] > 0 for s in seen), f"the echoes were not counted: {seen}"
        assert checked == 2
        # Once it stops, the last refresh brings the stream to exactly the kernel's counters.
        kernel = kernelCounters(lab, sport)
        last = f.waitFor(lambda e: mine(e) and streamCounters(e) == kernel, 2.5)
        assert last is not None, f"the stream never reached the kernel's final {kernel}"
        flowId = last["id"]
        # Destroyed: no refresh brings it back afterwards (two refreshes' time).
        lab.conntrack(lab.gw, "-D", "-p", "udp", "--orig-src", WAN_CLIENT4, "--sport", str(sport))
        assert f.waitFor(lambda e: e.get("event") == "destroy" and e["id"] == flowId, 3)
        back = f.waitFor(lambda e: e.get("id") == flowId and e.get("event") != "destroy", 2.5)
        assert back is None, f"a destroyed entry came back: {back}"
    finally:
        lab.run(lab.gw, ["sysctl", "-q", "-w", f"net.netfilter.nf_conntrack_acct={before}"])


def test_the_counter_refresh_runs_only_while_a_stream_is_open(lab, follow):
    before = lab.sysctl(lab.gw, "net.netfilter.nf_conntrack_acct")
    lab.run(lab.gw, ["sysctl", "-q", "-w", "net.netfilter.nf_conntrack_acct=1"])
    helper = None
    try:
        helper = startIdleHelper(
            lab, dict(os.environ, QT_LOGGING_RULES="portico.helper.conntrack.debug=true"))
        # With a stream open, a refresh about once a second (none before it: see below).
        f = follow()
        assert f.waitFor(lambda e: e.get("event") == "end", 5) is not None, f.close()
        time.sleep(3.5)
        assert helper.poll() is None, "the helper exited idle with a stream open"
        f.close()
        # The stream gone, the refresh stops too and the helper idles out as before.
        assert helper.wait(timeout=10) == 0
        log = helper.stderr.read()
        refreshes = re.findall(r"counter refresh (\d+) took \d+ ms of CPU; the next in (\d+) ms",
                               log)
        assert 2 <= len(refreshes) <= 5, log
        assert all(int(ms) == 1000 for _, ms in refreshes), log  # a small table: every second
        assert "ms (all entries)" in log, log  # a stream of everything: an unfiltered dump
        assert log.index("counter refresh") > log.index("started"), log
    finally:
        if helper and helper.poll() is None:
            helper.kill()
            helper.wait()
        lab.run(lab.gw, ["sysctl", "-q", "-w", f"net.netfilter.nf_conntrack_acct={before}"])
    lab.ensureHelper()


def test_counters_of_tcp_flows_made_while_an_unfiltered_stream_is_open(lab, follow):
    """The GUI's stream wants every flow. HTTP connections made after its snapshot carry no
    counters in their events; the next refreshes bring them, within a few seconds."""
    before = lab.sysctl(lab.gw, "net.netfilter.nf_conntrack_acct")
    try:
        assert lab.ctl("accounting", "on").returncode == 0
        add(lab, "--name", "web", "--proto", "tcp", "--port", "80", "--to", f"{LAN_SERVER4}:8080")
        for _ in range(3):  # flows the snapshot lists with their counters
            assert web(lab) is not None
        f = follow()
        assert f.waitFor(lambda e: e.get("event") == "end", 10) is not None, f.close()
        for _ in range(3):
            assert web(lab) is not None
        ours = lambda e: (e.get("event") in ("entry", "update") and e["protocol"] == "tcp" and
                          e["original"]["dport"] == 80)
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            f.waitFor(lambda e: False, 0.3)
            flows = [e for e in f.view.values() if ours(e)]
            if len(flows) >= 6 and all(e["packets"]["original"] > 0 for e in flows):
                break
        flows = [e for e in f.view.values() if ours(e)]
        assert len(flows) >= 6, f.view
        assert all(e["packets"]["original"] >= 4 and e["packets"]["reply"] >= 3 for e in flows), \
            [streamCounters(e) for e in flows]
    finally:
        lab.run(lab.gw, ["sysctl", "-q", "-w", f"net.netfilter.nf_conntrack_acct={before}"])
