# SPDX-License-Identifier: GPL-3.0-or-later
"""Disable, enable and remove; the saved state: restore into a fresh gateway after the helper is
gone, and a corrupt state file set aside (issue 2, tests 9 and 14); and the idle exit."""

import glob
import json
import os
import re
import subprocess
import time

import lab_bus

from lab import LAN_SERVER4
from labutil import add, ctlOk, web


def ourTable(lab, ns=None):
    return lab.nft(ns or lab.gw, "list", "table", "inet", "portico")


def test_disable_stops_new_connections_and_remove_leaves_the_kernel(lab):
    add(lab, "--name", "web", "--proto", "tcp", "--port", "80", "--to", f"{LAN_SERVER4}:8080")
    assert web(lab) is not None
    assert LAN_SERVER4 in ourTable(lab)

    ctlOk(lab, "disable", "web")
    assert web(lab) is None, "a disabled forward still carries new connections"
    assert LAN_SERVER4 not in ourTable(lab), "a disabled forward is still in the kernel"
    forwards = json.loads(ctlOk(lab, "list", "--json").stdout)["forwards"]
    assert [(f["name"], f["enabled"]) for f in forwards] == [("web", False)]

    ctlOk(lab, "enable", "web")
    assert web(lab) is not None, "enabling the forward again did not bring it back"

    ctlOk(lab, "remove", "web")
    assert web(lab) is None
    table = ourTable(lab)
    assert LAN_SERVER4 not in table and "8080" not in table, f"removed forward still there:\n{table}"
    assert json.loads(ctlOk(lab, "list", "--json").stdout)["forwards"] == []


def zeroCounters(text):
    return re.sub(r"packets \d+ bytes \d+", "packets 0 bytes 0", text)


def test_restore_in_a_fresh_gateway(lab):
    add(lab, "--name", "web", "--proto", "tcp+udp", "--port", "80", "--to", f"{LAN_SERVER4}:8080")
    add(lab, "--name", "range", "--proto", "tcp", "--port", "8000-8010", "--to",
        f"{LAN_SERVER4}:9000-9010", "--from", "203.0.113.0/24")
    add(lab, "--name", "off", "--proto", "udp", "--port", "5353", "--to", f"{LAN_SERVER4}:9005",
        "--disabled")
    for _ in range(3):
        assert web(lab) is not None
    before = ourTable(lab)
    assert re.search(r"packets [1-9]", before), f"no counter moved after traffic:\n{before}"
    forwards = json.loads(ctlOk(lab, "list", "--json").stdout)["forwards"]
    assert os.path.isfile(os.path.join(lab.stateDir, "forwards.json"))

    lab.stopHelper()
    fresh = lab.freshGateway()
    assert lab.forwarding(fresh) == (False, False)
    assert lab.nft(fresh, "list", "tables") == ""
    p = lab.restore(fresh)
    assert p.returncode == 0, f"--restore failed ({p.returncode}): {p.stdout}{p.stderr}"

    after = ourTable(lab, fresh)
    assert after == zeroCounters(before), "the restored table differs from the one before"
    assert not re.search(r"packets [1-9]", after), "counters were not reset"
    assert lab.forwarding(fresh)[0], "IPv4 forwarding was not restored"
    # The helper comes back (by D-Bus activation, on the next call) with the same forwards.
    lab.ensureHelper()
    again = json.loads(ctlOk(lab, "list", "--json").stdout)["forwards"]
    assert again == forwards


def test_corrupt_state_is_reported_and_kept_aside(lab):
    add(lab, "--name", "web", "--proto", "tcp", "--port", "80", "--to", f"{LAN_SERVER4}:8080")
    lab.stopHelper()
    state = os.path.join(lab.stateDir, "forwards.json")
    garbage = b'{"schema": 1, "generation": 3, "forwards": [ {"name": "half'
    with open(state, "wb") as f:
        f.write(garbage)
    for old in glob.glob(state + ".corrupt-*"):
        os.remove(old)

    fresh = lab.freshGateway()
    p = lab.restore(fresh)
    assert p.returncode == 1, f"--restore of a corrupt file exited {p.returncode}"
    assert "forwards.json" in p.stdout + p.stderr, f"the report does not name the file: {p.stderr!r}"
    kept = glob.glob(state + ".corrupt-*")
    assert len(kept) == 1, f"corrupt state not kept aside: {os.listdir(lab.stateDir)}"
    with open(kept[0], "rb") as f:
        assert f.read() == garbage
    assert lab.nft(fresh, "list", "tables") == "", "a corrupt state put rules into the kernel"
    # The helper starts again with nothing, and does not lose the file it set aside.
    lab.ensureHelper()
    assert json.loads(ctlOk(lab, "list", "--json").stdout)["forwards"] == []
    assert glob.glob(state + ".corrupt-*") == kept
    os.remove(kept[0])


def test_idle_timeout_exits_and_activation_brings_it_back(lab):
    lab.stopHelper()
    helper = subprocess.Popen(["ip", "netns", "exec", lab.gw, lab.helperPath, "--bus",
                               lab.busAddress, "--state-dir", lab.stateDir, "--idle-timeout", "2"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while not lab.hasOwner(lab_bus.SERVICE) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lab.helperPid() == helper.pid, "the helper started by hand did not take the name"
        # A call keeps it alive for another idle period ...
        time.sleep(1.2)
        assert lab.busCall("ListForwards")["ok"]
        time.sleep(1.2)
        assert helper.poll() is None, "the helper exited less than --idle-timeout after a call"
        # ... and then it leaves on its own, cleanly.
        assert helper.wait(timeout=10) == 0, helper.stderr.read()
        assert not lab.hasOwner(lab_bus.SERVICE)
    finally:
        if helper.poll() is None:
            helper.kill()
            helper.wait()
    lab.ensureHelper()
    assert lab.busCall("ListForwards")["ok"], "the helper did not come back"
