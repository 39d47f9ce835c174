# SPDX-License-Identifier: GPL-3.0-or-later
"""RulesetSummary and `porticoctl chains` (issue 5): with foreign tables in the gateway shaped like
firewalld's and Docker's (iptables-nft), the summary reports their base chains with table,
priority and policy next to ours (marked), counters rise with real traffic, and the generation
moves when a foreign table changes. The tests build the foreign tables with nft in the lab's own
gateway namespace and delete them again; the helper only reads them."""

import json

import pytest

from lab import LAN_SERVER4, PLAIN_USER
from labutil import add, ctlOk, web

FIREWALLD = """table inet firewalld {
	chain filter_FORWARD {
		type filter hook forward priority filter + 10; policy drop;
		ct state { established, related } counter accept
		ct state invalid drop
		iifname "lo" accept
		ip daddr 198.51.100.10 tcp dport 8080 counter accept
		jump filter_FORWARD_ZONES
	}
	chain filter_FORWARD_ZONES {
		return
	}
	chain nat_PREROUTING {
		type nat hook prerouting priority dstnat + 10; policy accept;
	}
}
"""

DOCKER = """table ip filter {
	chain FORWARD {
		type filter hook forward priority filter; policy drop;
		counter jump DOCKER-USER
		ct state related,established counter accept
		ip daddr 198.51.100.10 tcp dport 8080 counter accept
		iifname "docker0" oifname != "docker0" accept
	}
	chain DOCKER-USER {
		counter return
	}
}
table ip nat {
	chain PREROUTING {
		type nat hook prerouting priority dstnat; policy accept;
		fib daddr type local counter jump DOCKER
	}
	chain DOCKER {
		iifname "docker0" return
		iifname != "docker0" tcp dport 5000 dnat to 172.17.0.2:5000
	}
}
"""

FOREIGN = {"firewalld": (FIREWALLD, [("inet", "firewalld")], ("inet", "firewalld", "filter_FORWARD", 10)),
           "docker": (DOCKER, [("ip", "filter"), ("ip", "nat")], ("ip", "filter", "FORWARD", 0))}


@pytest.fixture
def foreign(lab, request):
    """Loads one foreign ruleset into the gateway and deletes its tables afterwards, whatever
    happens, so that the other tests find the gateway as the lab made it."""
    text, tables, chain = FOREIGN[request.param]
    lab.run(lab.gw, ["nft", "-f", lab.userFile(f"{request.param}.nft", text)])
    try:
        yield chain
    finally:
        for family, name in tables:
            lab.run(lab.gw, ["nft", "delete", "table", family, name], check=False)


def summary(lab, user=None):
    p = ctlOk(lab, "chains", "--json") if user is None else lab.ctl("chains", "--json", user=user)
    return json.loads(p.stdout)


def find(chains, family, table, chain):
    found = [c for c in chains if (c["family"], c["table"], c["chain"]) == (family, table, chain)]
    assert len(found) == 1, f"{family} {table} {chain} in the summary: {found} of {chains}"
    return found[0]


@pytest.mark.parametrize("foreign", ["firewalld", "docker"], indirect=True)
def test_summary_reports_the_foreign_forward_chain_next_to_ours(lab, foreign):
    add(lab, "--name", "web", "--proto", "tcp", "--port", "80", "--to", f"{LAN_SERVER4}:8080")
    family, table, chain, priority = foreign
    s = summary(lab)
    c = find(s["chains"], family, table, chain)
    assert (c["hook"], c["priority"], c["policy"], c["type"], c["ours"]) == \
        ("forward", priority, "drop", "filter", False), c
    assert c["rules"] >= 4 and c["drop_rules"] >= (1 if table == "firewalld" else 0), c
    ours = [x for x in s["chains"] if x["ours"]]
    assert {(x["hook"], x["type"]) for x in ours} >= {("prerouting", "nat"), ("forward", "filter"),
                                                      ("postrouting", "nat")}, ours
    assert all((x["family"], x["table"]) == ("inet", "portico") for x in ours), ours
    assert all(not x["ours"] for x in s["chains"] if x["table"] != "portico"), s
    # Only base chains: the jump targets are not in it.
    assert not [x for x in s["chains"] if x["chain"] in ("filter_FORWARD_ZONES", "DOCKER", "DOCKER-USER")]
    nat = [x for x in s["chains"] if x["table"] == "nat" and x["chain"] == "PREROUTING"]
    if table == "filter":
        assert nat and nat[0]["nat_rules"] == 0 and nat[0]["priority"] == -100, nat

    # The readable table: by hook, lowest priority first, ours marked.
    p = ctlOk(lab, "chains")
    lines = [l.split() for l in p.stdout.splitlines() if l.startswith("forward ")]
    priorities = [int(l[1]) for l in lines]
    assert priorities == sorted(priorities), p.stdout
    assert any(l[3] == "portico*" for l in lines), p.stdout
    assert any(l[3] == table and l[4] == chain and l[6] == "drop" for l in lines), p.stdout


@pytest.mark.parametrize("foreign", ["firewalld"], indirect=True)
def test_counters_rise_with_real_traffic(lab, foreign):
    add(lab, "--name", "web", "--proto", "tcp", "--port", "80", "--to", f"{LAN_SERVER4}:8080")
    family, table, chain, _ = foreign
    first = summary(lab)["chains"]
    before = find(first, family, table, chain)
    oursBefore = {c["chain"]: c for c in first if c["ours"]}
    for _ in range(3):
        assert web(lab) is not None, "the forward does not work through the accepting foreign chain"
    last = summary(lab)["chains"]
    after = find(last, family, table, chain)
    # Three connections: each at least SYN, ACK, request and FIN through forward, both ways.
    assert after["packets"] >= before["packets"] + 12, (before, after)
    assert after["bytes"] > before["bytes"], (before, after)
    # Our own chains count too: forward sees every packet of the three connections, the NAT
    # chain prerouting only the first of each; postrouting (no masquerade here) nothing.
    ours = {c["chain"]: c for c in last if c["ours"]}
    assert all(c["counted"] == (c["rules"] > 0) for c in ours.values()), ours
    assert ours["forward"]["packets"] >= oursBefore["forward"]["packets"] + 12, (oursBefore, ours)
    assert ours["forward"]["bytes"] > oursBefore["forward"]["bytes"], (oursBefore, ours)
    assert ours["prerouting"]["packets"] >= oursBefore["prerouting"]["packets"] + 3, (oursBefore, ours)
    # A chain without a counting rule says so, rather than showing a zero that means nothing.
    assert not find(last, "inet", "firewalld", "nat_PREROUTING")["counted"]
    assert after["counted"]


def test_generation_moves_only_when_the_ruleset_changes(lab):
    g1 = summary(lab)["generation"]
    assert summary(lab)["generation"] == g1, "reading the summary changed the generation"
    lab.nft(lab.gw, "add", "table", "ip", "extra")
    try:
        g2 = summary(lab)["generation"]
        assert g2 != g1
        lab.nft(lab.gw, "add", "chain", "ip", "extra", "input",
                "{ type filter hook input priority 0; policy accept; }")
        s = summary(lab)
        assert s["generation"] != g2
        assert find(s["chains"], "ip", "extra", "input")["hook"] == "input"
    finally:
        lab.run(lab.gw, ["nft", "delete", "table", "ip", "extra"], check=False)


def test_summary_needs_the_monitor_action(lab):
    p = lab.ctl("chains", user=PLAIN_USER)
    assert p.returncode == 3, (p.returncode, p.stderr)
    assert "io.github.portico.monitor" in p.stderr, p.stderr
    r = lab.busCall("RulesetSummary", [], user=PLAIN_USER)
    assert not r["ok"] and r["error"] == "io.github.portico.Error.NotAuthorized", r
