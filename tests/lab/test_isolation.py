# SPDX-License-Identifier: GPL-3.0-or-later
"""Other tables survive every apply byte for byte, and a change refused by validation or by the
kernel leaves the whole ruleset and the state file as they were (issue 2, tests 10 and 11)."""

import json
import subprocess
import time

import pytest

from lab import LAN_SERVER4, WAN_CLIENT4, WAN_GW4
from labutil import Snapshot, add, ctlOk, forwardMap, web

# Shaped like Docker's iptables-nft table and firewalld's, on documentation addresses. The test
# sends no traffic while it compares, so even a counter that moved would be the helper's doing.
FOREIGN = """
table ip nat {
	chain DOCKER {
		iifname "docker0" counter packets 0 bytes 0 return
		iifname != "docker0" meta l4proto tcp ip daddr 192.0.2.1 tcp dport 8443 counter packets 0 bytes 0 dnat to 192.0.2.2:443
	}
	chain PREROUTING {
		type nat hook prerouting priority dstnat; policy accept;
		fib daddr type local counter packets 0 bytes 0 jump DOCKER
	}
	chain POSTROUTING {
		type nat hook postrouting priority srcnat; policy accept;
		oifname != "docker0" ip saddr 192.0.2.0/24 counter packets 0 bytes 0 masquerade
	}
}
table inet firewalld {
	set allowed {
		type ipv4_addr
		flags interval
		elements = { 198.51.100.0/24, 203.0.113.0/24 }
	}
	chain filter_INPUT {
		type filter hook input priority filter + 10; policy accept;
		ct state established,related accept
		ip saddr @allowed accept
	}
	chain filter_FORWARD {
		type filter hook forward priority filter + 10; policy accept;
		ct state established,related accept
	}
}
"""


@pytest.fixture
def foreign(lab, tmp_path):
    path = tmp_path / "foreign.nft"
    path.write_text(FOREIGN)
    p = lab.run(lab.gw, ["nft", "-f", str(path)], check=False)
    assert p.returncode == 0, f"could not load the foreign tables: {p.stderr}"
    yield
    lab.run(lab.gw, ["nft", "delete", "table", "ip", "nat"], check=False)
    lab.run(lab.gw, ["nft", "delete", "table", "inet", "firewalld"], check=False)


def foreignTables(lab):
    return {t: lab.nft(lab.gw, "list", "table", *t.split()) for t in ("ip nat", "inet firewalld")}


def test_foreign_tables_survive_every_apply(lab, foreign):
    before = foreignTables(lab)
    assert "DOCKER" in before["ip nat"] and "filter_INPUT" in before["inet firewalld"]
    steps = [
        ("add", ["add", "--name", "web", "--proto", "tcp+udp", "--port", "80", "--to",
                 f"{LAN_SERVER4}:8080", "--hairpin", "--masquerade"]),
        ("add range", ["add", "--name", "range", "--proto", "tcp", "--port", "8000-8010", "--to",
                       f"{LAN_SERVER4}:9000-9010"]),
        ("disable", ["disable", "web"]),
        ("enable", ["enable", "web"]),
        ("remove", ["remove", "range"]),
        ("remove last", ["remove", "web"]),
    ]
    for what, args in steps:
        ctlOk(lab, *args)
        assert foreignTables(lab) == before, f"a foreign table changed after {what}"
    # A refused apply, too.
    assert lab.ctl("add", "--name", "web2", "--proto", "tcp", "--port", "80", "--to",
                   f"{LAN_SERVER4}:8080").returncode == 0
    assert lab.ctl("add", "--name", "web2", "--proto", "tcp", "--port", "81", "--to",
                   f"{LAN_SERVER4}:8080").returncode == 1
    assert foreignTables(lab) == before


def test_refused_changes_leave_ruleset_and_state_untouched(lab):
    add(lab, "--name", "web", "--proto", "tcp", "--port", "80", "--to", f"{LAN_SERVER4}:8080")
    snap = Snapshot(lab)
    assert snap.state is not None, "no forwards.json after a successful add"

    p = lab.ctl("add", "--name", "web", "--proto", "tcp", "--port", "81", "--to",
                f"{LAN_SERVER4}:8080")
    assert p.returncode == 1 and "web" in p.stderr, f"duplicate name: {p.returncode} {p.stderr}"
    snap.assertUnchanged("a duplicate name")

    p = lab.ctl("add", "--name", "other", "--proto", "tcp", "--port", "80", "--to",
                f"{LAN_SERVER4}:9000")
    assert p.returncode == 1 and "web" in p.stderr, f"duplicate claim: {p.returncode} {p.stderr}"
    snap.assertUnchanged("a duplicate claim")

    # import replaces everything at once: one bad forward refuses the whole file.
    bad = lab.userFile("bad.json", json.dumps({"schema": 1, "forwards": [
        {"name": "good", "protocol": "tcp", "external_port": "82", "target_address": LAN_SERVER4,
         "target_port": "8080"},
        {"name": "broken", "protocol": "tcp", "external_port": "83-85",
         "target_address": LAN_SERVER4, "target_port": "9000-9001"}]}))
    p = lab.ctl("import", bad)
    assert p.returncode in (1, 2) and "broken" in p.stderr, f"bad import: {p.returncode} {p.stderr}"
    snap.assertUnchanged("a refused import")

    # The same set sent straight to the helper, past porticoctl's own checks.
    forwards = [forwardMap(name="good", external_port="82"),
                forwardMap(name="broken", external_port="83-85", target_port="9000-9001")]
    r = lab.busCall("ReplaceForwards", [forwards, snap.generation])
    assert not r["ok"] and r["error"] == "org.freedesktop.DBus.Error.InvalidArgs", r
    assert "broken" in r["message"], r
    snap.assertUnchanged("a refused ReplaceForwards")


def test_kernel_refusal_changes_nothing(lab):
    """Another process owns `table inet portico` (nft's owner flag, held by a live `nft -i`), so
    the kernel itself refuses every batch the helper sends: a real kernel refusal, end to end."""
    fid = add(lab, "--name", "web", "--proto", "tcp", "--port", "80", "--to", f"{LAN_SERVER4}:8080")
    lab.nft(lab.gw, "delete", "table", "inet", "portico")
    owner = subprocess.Popen(["ip", "netns", "exec", lab.gw, "nft", "-i"], stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    try:
        owner.stdin.write("add table inet portico { flags owner; }\n")
        owner.stdin.flush()
        deadline = time.monotonic() + 5
        while "portico" not in lab.nft(lab.gw, "list", "tables") and time.monotonic() < deadline:
            time.sleep(0.05)
        snap = Snapshot(lab)
        assert "table inet portico" in snap.ruleset
        calls = [
            ("AddForward", [forwardMap(name="new", external_port="81")]),
            ("UpdateForward", [fid, {"enabled": False}]),
            ("RemoveForward", [fid]),
            ("ReplaceForwards", [[forwardMap(name="new", external_port="81")], snap.generation]),
        ]
        for method, args in calls:
            r = lab.busCall(method, args)
            assert not r["ok"] and r["error"] == "io.github.portico.Error.Kernel", f"{method}: {r}"
            assert "portico" in r["message"] and "not permitted" in r["message"], r
            snap.assertUnchanged(f"{method} refused by the kernel")
        p = lab.ctl("add", "--name", "new", "--proto", "tcp", "--port", "81", "--to",
                    f"{LAN_SERVER4}:8080")
        assert p.returncode == 1 and "kernel" in p.stderr, f"{p.returncode} {p.stderr}"
        snap.assertUnchanged("porticoctl add refused by the kernel")
    finally:
        owner.stdin.close()
        owner.wait(10)
    # Once the other owner is gone, the same change goes through and carries traffic.
    add(lab, "--name", "new", "--proto", "tcp", "--port", "81", "--to", f"{LAN_SERVER4}:8080")
    assert lab.http_get(lab.wan, f"http://{WAN_GW4}:81/", source=WAN_CLIENT4) is not None
    assert web(lab) is not None
