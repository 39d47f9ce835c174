# SPDX-License-Identifier: GPL-3.0-or-later
"""Diagnose / porticoctl diagnose (issue 5): each check has a case where real lab state makes it
speak and one where it stays quiet, and where traffic can show it, real traffic agrees with the
diagnosis. Everything the tests change (sysctls, routes, other tables, listeners) is in the lab's
gw namespace and is put back afterwards, even when a test fails. Diagnosing changes nothing."""

import contextlib
import json
import subprocess

import pytest

from lab import (ADMIN_USER, LAN2_CLIENT4, LAN_SERVER4, LAN_SERVER6, PLAIN_USER, PYTHON,
                 WAN_CLIENT4, WAN_CLIENT6, WAN_GW4, WAN_GW6, WAN_OTHER4)
from labutil import Snapshot, add, web

NOT_AUTHORIZED = "io.github.portico.Error.NotAuthorized"
CHECKS = {"enabled", "ip_forward", "route", "return_path", "hairpin", "route_localnet",
          "rp_filter", "foreign_drop", "foreign_dnat", "local_listener"}
RANK = {"problem": 0, "warning": 1, "ok": 2}


def diagnose(lab, name, expect=None):
    """porticoctl diagnose NAME --json as the admin: (exit status, the JSON)."""
    p = lab.ctl("diagnose", name, "--json")
    assert p.returncode in (0, 1), f"porticoctl diagnose {name}: {p.returncode} {p.stderr}"
    d = json.loads(p.stdout)
    assert {f["check"] for f in d["findings"]} >= CHECKS, d
    ranks = [RANK[f["severity"]] for f in d["findings"]]
    assert ranks == sorted(ranks), f"problems, then warnings, then ok: {d['findings']}"
    problems = [f for f in d["findings"] if f["severity"] == "problem"]
    assert d["problems"] == len(problems)
    assert p.returncode == (1 if problems else 0), (p.returncode, d)
    if expect is not None:
        assert p.returncode == expect, json.dumps(d, indent=1)
    return d


def finding(d, check, severity=None):
    """The findings of one check (asserting the severity of the first, if given)."""
    found = [f for f in d["findings"] if f["check"] == check]
    assert found, f"no finding for {check}: {d}"
    if severity is not None:
        assert found[0]["severity"] == severity, json.dumps(d, indent=1)
    for f in found:
        assert f["message"], f
        if f["severity"] != "ok":
            assert f["fix"], f"a {f['severity']} without a fix: {f}"
    return found


def quiet(d, *checks):
    for c in checks:
        assert all(f["severity"] == "ok" for f in finding(d, c)), json.dumps(d, indent=1)


def gw(lab, *cmd):
    return lab.run(lab.gw, list(cmd))


@pytest.fixture
def undo(lab):
    """Commands to run in the gw namespace after the test, last first."""
    steps = []
    yield steps
    for cmd in reversed(steps):
        lab.run(lab.gw, cmd, check=False)


def sysctl(lab, undo, key, value):
    old = lab.sysctl(lab.gw, key)
    undo.append(["sysctl", "-q", "-w", f"{key}={old}"])
    gw(lab, "sysctl", "-q", "-w", f"{key}={value}")


def route(lab, undo, *spec):
    gw(lab, "ip", "route", "add", *spec)
    undo.append(["ip", "route", "del", *spec])


def table(lab, undo, family, name, text):
    """A foreign table in the gw namespace (the shape of firewalld's, Docker's, ...)."""
    undo.append(["nft", "delete", "table", family, name])
    p = subprocess.run(["ip", "netns", "exec", lab.gw, "nft", "-f", "-"], input=text, text=True,
                       capture_output=True)
    assert p.returncode == 0, f"nft -f:\n{text}\n{p.stderr}"


@contextlib.contextmanager
def listener(lab, address, port):
    """A TCP listener in the gw namespace that accepts and answers 'local'."""
    code = ("import socket,sys\n"
            "s=socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET)\n"
            "s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
            "s.bind((sys.argv[1],int(sys.argv[2])));s.listen(8);print('ready',flush=True)\n"
            "while True:\n"
            " c,_=s.accept();c.recv(4096)\n"
            " c.sendall(b'HTTP/1.0 200 OK\\r\\n\\r\\nlocal\\n');c.close()\n")
    proc = subprocess.Popen(["ip", "netns", "exec", lab.gw, PYTHON, "-c", code, address,
                             str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        yield proc
    finally:
        proc.kill()
        proc.wait()


def webForward(lab, *extra, name="web", port="80", to=f"{LAN_SERVER4}:8080"):
    return add(lab, "--name", name, "--proto", "tcp", "--port", port, "--to", to, *extra)


def get(lab, ns, url, source):
    return lab.http_get(ns, url, source=source, timeout=2)


# --- a forward that works, and what diagnosing leaves alone ---------------------------------

def test_a_working_forward_has_no_problem_and_diagnosing_changes_nothing(lab):
    webForward(lab)
    assert web(lab) == f"lan-server port=8080 client={WAN_CLIENT4}\n"
    snap = Snapshot(lab)
    d = diagnose(lab, "web", expect=0)
    snap.assertUnchanged("Diagnose")
    assert d["forward"] == "web" and d["problems"] == 0
    quiet(d, "enabled", "ip_forward", "route", "foreign_drop", "foreign_dnat", "rp_filter",
          "route_localnet", "local_listener", "return_path")
    assert "IPv4 forwarding is on" in finding(d, "ip_forward")[0]["message"]
    assert "198.51.100.0/24 dev br0" in finding(d, "route")[0]["message"]
    # The text form: the verdict line first, then the passed checks.
    p = lab.ctl("diagnose", "web")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("Forward 'web' (") and "0 problems" in p.stdout, p.stdout
    assert "ok  ip_forward" in p.stdout, p.stdout


def test_diagnose_is_refused_without_the_monitor_action_and_checks_the_id_first(lab):
    fid = webForward(lab)
    r = lab.busCall("Diagnose", [fid], user=PLAIN_USER)
    assert not r["ok"] and r["error"] == NOT_AUTHORIZED, r
    assert "io.github.portico.monitor" in r["message"], r
    p = lab.ctl("diagnose", "web", user=PLAIN_USER)
    assert p.returncode == 3, (p.returncode, p.stderr)
    # The id is checked before polkit is asked, so even the denied user learns it is unknown.
    r = lab.busCall("Diagnose", ["f999999"], user=PLAIN_USER)
    assert not r["ok"] and r["error"] == "io.github.portico.Error.NotFound", r
    r = lab.busCall("Diagnose", [""], user=ADMIN_USER)
    assert not r["ok"] and r["error"] == "org.freedesktop.DBus.Error.InvalidArgs", r
    r = lab.busCall("Diagnose", [fid], user=ADMIN_USER)
    assert r["ok"], r


def test_a_disabled_forward_is_a_problem(lab):
    webForward(lab, "--disabled")
    d = diagnose(lab, "web", expect=1)
    assert "disabled" in finding(d, "enabled", "problem")[0]["message"]
    assert "trace" not in d, "a disabled forward cannot be traced"


# --- ip_forward ---------------------------------------------------------------------------

def test_ip_forward_off_is_found_and_traffic_agrees(lab):
    webForward(lab)
    lab.setForwarding(lab.gw, False, False)  # behind the helper's back
    assert get(lab, lab.wan, f"http://{WAN_GW4}/", WAN_CLIENT4) is None
    d = diagnose(lab, "web", expect=1)
    f = finding(d, "ip_forward", "problem")[0]
    assert "net.ipv4.ip_forward = 0" in f["message"] and "ip-forward on" in f["fix"], f
    assert d["findings"][0]["check"] == "ip_forward"
    assert d.get("trace") == "porticoctl trace web"
    p = lab.ctl("diagnose", "web")
    assert p.returncode == 1 and "PROBLEM  ip_forward" in p.stdout, p.stdout
    assert "porticoctl trace web" in p.stdout, p.stdout


# --- foreign_drop: the key case ------------------------------------------------------

FIREWALLD_DROP = """table inet firewalld {
    chain filter_FORWARD {
        type filter hook forward priority filter + 10; policy drop;
        ct state invalid drop
    }
}
"""

FIREWALLD_ACCEPT = """table inet firewalld {
    chain filter_FORWARD {
        type filter hook forward priority filter + 10; policy drop;
        ct state established,related accept
        ct state invalid drop
        jump filter_FORWARD_zones
    }
    chain filter_FORWARD_zones {
        iifname "wan0" ip daddr 198.51.100.10 tcp dport 8080 ct state new accept
        return
    }
}
"""


def test_a_firewalld_forward_chain_with_policy_drop_is_named_and_really_drops(lab, undo):
    webForward(lab)
    table(lab, undo, "inet", "firewalld", FIREWALLD_DROP)
    assert get(lab, lab.wan, f"http://{WAN_GW4}/", WAN_CLIENT4) is None, \
        "traffic passed a forward chain with policy drop"
    snap = Snapshot(lab)
    d = diagnose(lab, "web", expect=1)
    snap.assertUnchanged("Diagnose")
    f = finding(d, "foreign_drop", "problem")[0]
    assert f["chain"] == "inet firewalld filter_FORWARD", f
    assert "policy is drop" in f["message"] and "priority 10" in f["message"], f
    assert d["findings"][0]["check"] == "foreign_drop"


def test_a_firewalld_chain_that_accepts_the_forward_reports_nothing_wrong(lab, undo):
    webForward(lab, "--in", "wan0")
    table(lab, undo, "inet", "firewalld", FIREWALLD_ACCEPT)
    assert web(lab) == f"lan-server port=8080 client={WAN_CLIENT4}\n"
    d = diagnose(lab, "web", expect=0)
    quiet(d, "foreign_drop")
    assert "checked" in finding(d, "foreign_drop")[0]["message"]
    # Only the hairpin warning (the target is on the LAN), nothing about the foreign chain.
    assert [f["check"] for f in d["findings"] if f["severity"] != "ok"] == ["hairpin"], d


def test_firewalld_accepting_dnat_flows_by_ct_status_reports_nothing_wrong(lab, undo):
    # firewalld's own way to let port forwards through: `ct status dnat accept`, then drop.
    webForward(lab, "--in", "wan0")
    table(lab, undo, "inet", "firewalld", """table inet firewalld {
    chain filter_FORWARD {
        type filter hook forward priority filter + 10; policy drop;
        ct state established,related accept
        ct status dnat accept
        ct state invalid drop
    }
}
""")
    assert web(lab) == f"lan-server port=8080 client={WAN_CLIENT4}\n"
    d = diagnose(lab, "web", expect=0)
    quiet(d, "foreign_drop")
    assert [f["check"] for f in d["findings"] if f["severity"] != "ok"] == ["hairpin"], d


def test_a_drop_rule_that_matches_the_forward_is_named_with_its_rule(lab, undo):
    webForward(lab)
    table(lab, undo, "ip", "filter", """table ip filter {
        chain FORWARD {
            type filter hook forward priority 0; policy accept;
            ip daddr 198.51.100.10 tcp dport 8080 drop
        }
    }
    """)
    assert get(lab, lab.wan, f"http://{WAN_GW4}/", WAN_CLIENT4) is None
    f = finding(diagnose(lab, "web", expect=1), "foreign_drop", "problem")[0]
    assert f["chain"] == "ip filter FORWARD" and "rule handle" in f["message"], f
    assert "dport 8080" in f["message"], f


def test_a_drop_rule_for_other_traffic_stays_quiet(lab, undo):
    webForward(lab)
    table(lab, undo, "ip", "filter", """table ip filter {
        chain FORWARD {
            type filter hook forward priority 0; policy accept;
            tcp dport 22 drop
            ip daddr 192.0.2.0/24 drop
            ip saddr 192.0.2.0/24 drop
        }
    }
    """)
    assert web(lab) is not None
    quiet(diagnose(lab, "web", expect=0), "foreign_drop")


def test_a_rule_portico_cannot_decide_is_a_warning(lab, undo):
    webForward(lab)
    table(lab, undo, "inet", "other", """table inet other {
        chain filter_fwd {
            type filter hook forward priority 0; policy accept;
            meta mark 0x2a drop
        }
    }
    """)
    d = diagnose(lab, "web", expect=0)
    f = finding(d, "foreign_drop", "warning")[0]
    assert f["chain"] == "inet other filter_fwd" and "may drop" in f["message"], f


DOCKER = """table ip filter {{
    chain DOCKER {{
    }}
    chain DOCKER-USER {{
        {user}
        return
    }}
    chain FORWARD {{
        type filter hook forward priority filter; policy drop;
        jump DOCKER-USER
        oifname "docker0" ct state related,established accept
        oifname "docker0" jump DOCKER
        iifname "docker0" oifname != "docker0" accept
        iifname "docker0" oifname "docker0" accept
    }}
}}
"""


def test_dockers_forward_chain_drops_the_forward_until_docker_user_allows_it(lab, undo):
    webForward(lab, "--in", "wan0")
    table(lab, undo, "ip", "filter", DOCKER.format(user=""))
    assert get(lab, lab.wan, f"http://{WAN_GW4}/", WAN_CLIENT4) is None
    f = finding(diagnose(lab, "web", expect=1), "foreign_drop", "problem")[0]
    assert f["chain"] == "ip filter FORWARD" and "policy is drop" in f["message"], f
    # Without --in, Portico cannot tell whether the packets come from docker0 (accepted there).
    assert lab.ctl("update", "web", "--in", "", user=ADMIN_USER).returncode == 0
    f = finding(diagnose(lab, "web", expect=0), "foreign_drop", "warning")[0]
    assert f["chain"] == "ip filter FORWARD", f
    # Docker's place for the user's own rules lets it through.
    lab.nft(lab.gw, "delete", "table", "ip", "filter")
    table(lab, undo, "ip", "filter", DOCKER.format(
        user="ct state established,related accept\n"
             f"        ip daddr {LAN_SERVER4} tcp dport 8080 accept"))
    assert web(lab) == f"lan-server port=8080 client={WAN_CLIENT4}\n"
    quiet(diagnose(lab, "web", expect=0), "foreign_drop")


# --- route -----------------------------------------------------------------------------------

def test_no_route_to_the_target(lab, undo):
    webForward(lab, to="192.0.2.50:8080")
    f = finding(diagnose(lab, "web", expect=1), "route", "problem")[0]
    assert "no route to 192.0.2.50" in f["message"], f
    route(lab, undo, "blackhole", "192.0.2.0/24")
    f = finding(diagnose(lab, "web", expect=1), "route", "problem")[0]
    assert "blackhole" in f["message"], f


def test_a_route_out_of_the_inbound_interface(lab):
    # The target is on the WAN side, where the clients are: it answers them directly.
    webForward(lab, "--in", "wan0", to=f"{WAN_OTHER4}:8080")
    f = finding(diagnose(lab, "web", expect=1), "route", "problem")[0]
    assert "leaves by wan0" in f["message"] and "--masquerade" in f["fix"], f
    assert lab.ctl("update", "web", "--masquerade", user=ADMIN_USER).returncode == 0
    quiet(diagnose(lab, "web"), "route")


# --- return_path -----------------------------------------------------------------------------

def test_a_target_behind_another_router_needs_masquerade(lab, undo):
    route(lab, undo, "192.0.2.0/24", "via", LAN2_CLIENT4)
    webForward(lab, to="192.0.2.10:8080")
    f = finding(diagnose(lab, "web", expect=0), "return_path", "warning")[0]
    assert f"via the router {LAN2_CLIENT4}" in f["message"] and "--masquerade" in f["fix"], f
    assert lab.ctl("update", "web", "--masquerade", user=ADMIN_USER).returncode == 0
    quiet(diagnose(lab, "web"), "return_path")


# --- hairpin ---------------------------------------------------------------------------------

def test_lan_clients_without_hairpin_are_warned_about_and_really_fail(lab):
    webForward(lab)
    lanUrl = f"http://{WAN_GW4}/"
    assert get(lab, lab.lan2, lanUrl, LAN2_CLIENT4) is None
    f = finding(diagnose(lab, "web", expect=0), "hairpin", "warning")[0]
    assert "198.51.100.0/24 on br0" in f["message"] and "--hairpin" in f["fix"], f
    assert lab.ctl("update", "web", "--hairpin", user=ADMIN_USER).returncode == 0
    assert get(lab, lab.lan2, lanUrl, LAN2_CLIENT4) is not None
    quiet(diagnose(lab, "web", expect=0), "hairpin")


# --- route_localnet and local_listener: local redirects ----------------------------------------

def test_a_redirect_to_a_loopback_only_service(lab):
    with listener(lab, "127.0.0.1", 1240):
        add(lab, "--name", "local", "--proto", "tcp", "--port", "4321", "--to", ":1240")
        assert get(lab, lab.wan, f"http://{WAN_GW4}:4321/", WAN_CLIENT4) is None
        d = diagnose(lab, "local", expect=1)
        f = finding(d, "route_localnet", "problem")[0]
        assert "127.0.0.1:1240" in f["message"] and "route_localnet" in f["message"], f
        quiet(d, "local_listener", "ip_forward")


def test_a_redirect_to_a_service_on_every_address_works(lab):
    with listener(lab, "0.0.0.0", 1241):
        add(lab, "--name", "local", "--proto", "tcp", "--port", "4321", "--to", ":1241")
        assert get(lab, lab.wan, f"http://{WAN_GW4}:4321/", WAN_CLIENT4) == "local\n"
        d = diagnose(lab, "local", expect=0)
        quiet(d, "route_localnet", "local_listener", "foreign_drop")
        assert "tcp 0.0.0.0:1241" in finding(d, "local_listener")[0]["message"]


def test_a_redirect_to_a_port_nothing_listens_on(lab):
    add(lab, "--name", "local", "--proto", "tcp", "--port", "4321", "--to", ":1250")
    assert get(lab, lab.wan, f"http://{WAN_GW4}:4321/", WAN_CLIENT4) is None
    f = finding(diagnose(lab, "local", expect=1), "local_listener", "problem")[0]
    assert "tcp port 1250" in f["message"], f


def test_a_service_of_the_gateway_on_the_external_port_is_shadowed(lab):
    with listener(lab, "0.0.0.0", 1242):
        webForward(lab, port="1242")
        f = finding(diagnose(lab, "web", expect=0), "local_listener", "warning")[0]
        assert "tcp 0.0.0.0:1242" in f["message"], f
        # The forward wins: the WAN client gets the LAN server, not the local service.
        body = get(lab, lab.wan, f"http://{WAN_GW4}:1242/", WAN_CLIENT4)
        assert body is not None and body.startswith("lan-server"), body


def test_an_input_chain_with_policy_drop_blocks_a_redirect(lab, undo):
    with listener(lab, "0.0.0.0", 1243):
        add(lab, "--name", "local", "--proto", "tcp", "--port", "4321", "--to", ":1243")
        table(lab, undo, "inet", "firewalld", """table inet firewalld {
            chain filter_INPUT {
                type filter hook input priority filter + 10; policy drop;
                ct state established,related accept
                iifname "lo" accept
            }
        }
        """)
        assert get(lab, lab.wan, f"http://{WAN_GW4}:4321/", WAN_CLIENT4) is None
        f = finding(diagnose(lab, "local", expect=1), "foreign_drop", "problem")[0]
        assert f["chain"] == "inet firewalld filter_INPUT", f


# --- rp_filter -------------------------------------------------------------------------------

def test_strict_rp_filter_against_clients_routed_elsewhere(lab, undo):
    route(lab, undo, "192.0.2.0/24", "via", LAN2_CLIENT4)
    sysctl(lab, undo, "net.ipv4.conf.wan0.rp_filter", 1)
    webForward(lab, "--in", "wan0", "--from", "192.0.2.0/24", name="far")
    f = finding(diagnose(lab, "far", expect=1), "rp_filter", "problem")[0]
    assert "strict on wan0" in f["message"] and "192.0.2.0/24" in f["message"], f
    # Clients whose route back leaves by wan0 are fine.
    webForward(lab, "--in", "wan0", "--from", "203.0.113.0/24", name="near", port="81")
    quiet(diagnose(lab, "near", expect=0), "rp_filter")
    # Loose mode accepts both.
    sysctl(lab, undo, "net.ipv4.conf.wan0.rp_filter", 2)
    sysctl(lab, undo, "net.ipv4.conf.all.rp_filter", 0)
    quiet(diagnose(lab, "far"), "rp_filter")


# --- foreign_dnat ----------------------------------------------------------------------------

def test_another_tables_earlier_dnat_takes_the_port_and_really_does(lab, undo):
    webForward(lab)
    table(lab, undo, "ip", "nat", f"""table ip nat {{
        chain PREROUTING {{
            type nat hook prerouting priority dstnat - 10; policy accept;
            tcp dport 80 dnat to {LAN2_CLIENT4}:8080
        }}
    }}
    """)
    body = get(lab, lab.wan, f"http://{WAN_GW4}/", WAN_CLIENT4)
    assert body is not None and body.startswith("lan2-server"), body
    f = finding(diagnose(lab, "web", expect=1), "foreign_dnat", "problem")[0]
    assert f["chain"] == "ip nat PREROUTING" and "priority -110" in f["message"], f


def test_another_tables_later_dnat_stays_quiet(lab, undo):
    webForward(lab)
    table(lab, undo, "ip", "nat", f"""table ip nat {{
        chain PREROUTING {{
            type nat hook prerouting priority dstnat + 10; policy accept;
            tcp dport 80 dnat to {LAN2_CLIENT4}:8080
        }}
    }}
    """)
    assert web(lab) == f"lan-server port=8080 client={WAN_CLIENT4}\n"
    quiet(diagnose(lab, "web", expect=0), "foreign_dnat")


# --- IPv6 ------------------------------------------------------------------------------------

def test_ipv6_forward_and_an_ip6_table_that_drops_it(lab, undo):
    add(lab, "--name", "web6", "--proto", "tcp", "--port", "80", "--to", f"[{LAN_SERVER6}]:8080")
    webForward(lab)  # an IPv4 one beside it
    url = f"http://[{WAN_GW6}]/"
    assert get(lab, lab.wan, url, WAN_CLIENT6) is not None
    d = diagnose(lab, "web6", expect=0)
    assert "2001:db8:2::/64 dev br0" in finding(d, "route", "ok")[0]["message"], d
    assert "IPv6 forwarding is on" in finding(d, "ip_forward", "ok")[0]["message"], d
    table(lab, undo, "ip6", "filter", """table ip6 filter {
        chain FORWARD { type filter hook forward priority 0; policy drop; }
    }
    """)
    assert get(lab, lab.wan, url, WAN_CLIENT6) is None
    f = finding(diagnose(lab, "web6", expect=1), "foreign_drop", "problem")[0]
    assert f["chain"] == "ip6 filter FORWARD", f
    # The ip6 table does not see the IPv4 forward's packets, and the IPv4 traffic flows.
    assert web(lab) is not None
    quiet(diagnose(lab, "web", expect=0), "foreign_drop")


# --- diagnose --trace: the trace's verdict joins the diagnosis ---------------------------------

def diagnoseWithTrace(lab, name, seconds=3, traffic=None):
    """porticoctl diagnose NAME --trace SECONDS --json (as root), with `traffic` sent once the
    trace runs: (exit status, the JSON)."""
    p = subprocess.Popen([lab.ctlPath, "--bus", lab.busAddress, "--no-ask-password", "diagnose",
                          name, "--trace", str(seconds), "--json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stderr.readline()
        assert "send traffic" in line, line
        if traffic:
            traffic()
        out, err = p.communicate(timeout=seconds + 30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return p.returncode, json.loads(out)


def test_diagnose_with_a_trace_names_the_chain_that_dropped_the_packets(lab, undo):
    webForward(lab)
    table(lab, undo, "inet", "firewalld", FIREWALLD_DROP)
    rc, d = diagnoseWithTrace(lab, "web", traffic=lambda: get(lab, lab.wan, f"http://{WAN_GW4}/",
                                                               WAN_CLIENT4))
    assert rc == 1, d
    t = d["trace_result"]
    assert t["dropped"] >= 1 and t["packets"], t
    drop = next(p for p in t["packets"] if "dropped_by" in p)
    assert drop["dropped_by"] == "inet firewalld filter_FORWARD" and drop["policy"], drop
    assert drop["hook"] == "forward", drop


def test_diagnose_with_a_trace_of_traffic_that_passes(lab, undo):
    webForward(lab, "--in", "wan0")
    table(lab, undo, "inet", "firewalld", FIREWALLD_ACCEPT)
    bodies = []
    rc, d = diagnoseWithTrace(lab, "web", traffic=lambda: bodies.append(web(lab)))
    assert bodies == [f"lan-server port=8080 client={WAN_CLIENT4}\n"]
    t = d["trace_result"]
    assert rc == 0 and t["dropped"] == 0 and t["packets"], d
    assert all("dropped_by" not in p for p in t["packets"]), t
