# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad input over the bus and on porticoctl's command line gets a clear error naming the bad
value, the documented exit code, and changes nothing (issue 2, test 13)."""

import pytest

from lab import LAN_SERVER4
from labutil import Snapshot, add, forwardMap

INVALID_ARGS = "org.freedesktop.DBus.Error.InvalidArgs"

BUS_CASES = [
    # (name, the a{sv}, what the message must mention)
    ("port out of range", forwardMap(external_port="70000"), "70000"),
    ("target port out of range", forwardMap(target_port="0"), "target port"),
    ("port not a number", forwardMap(external_port="http"), "http"),
    ("port of the wrong type", forwardMap(external_port=80), "external_port"),
    ("enabled of the wrong type", forwardMap(enabled="yes"), "enabled"),
    ("sources of the wrong type", forwardMap(sources="203.0.113.0/24"), "sources"),
    ("unknown key", forwardMap(colour="red"), "colour"),
    ("bad protocol", forwardMap(protocol="sctp"), "sctp"),
    ("overlong name", forwardMap(name="n" * 300), "name"),
    ("empty name", forwardMap(name=""), "name"),
    ("bad CIDR prefix", forwardMap(sources=["203.0.113.0/33"]), "203.0.113.0/33"),
    ("bad CIDR address", forwardMap(sources=["203.0.113.300/24"]), "203.0.113.300"),
    ("bad target address", forwardMap(target_address="198.51.100.999"), "198.51.100.999"),
    ("overlong interface", forwardMap(interface="eth0123456789abcdef"), "eth0123456789abcdef"),
    ("range onto a shorter range", forwardMap(external_port="8000-8010", target_port="9000-9001"),
     "9000-9001"),
    ("families disagree", forwardMap(external_address="2001:db8:1::1"), "IPv6"),
]


@pytest.fixture
def baseline(lab):
    add(lab, "--name", "base", "--proto", "tcp", "--port", "80", "--to", f"{LAN_SERVER4}:8080")
    return Snapshot(lab)


@pytest.mark.parametrize("name,forward,mentions", BUS_CASES, ids=[c[0] for c in BUS_CASES])
def test_bad_forward_over_the_bus(lab, baseline, name, forward, mentions):
    r = lab.busCall("AddForward", [forward])
    assert not r["ok"] and r["error"] == INVALID_ARGS, f"{name}: {r}"
    assert mentions.lower() in r["message"].lower(), f"{name}: the message does not name it: {r}"
    baseline.assertUnchanged(name)
    r = lab.busCall("ReplaceForwards", [[forward], baseline.generation])
    assert not r["ok"] and r["error"] == INVALID_ARGS, f"{name} in ReplaceForwards: {r}"
    baseline.assertUnchanged(f"{name} in ReplaceForwards")


def test_duplicates_over_the_bus(lab, baseline):
    r = lab.busCall("AddForward", [forwardMap(name="base", external_port="81")])
    assert not r["ok"] and r["error"] == "io.github.portico.Error.Duplicate", r
    assert "base" in r["message"]
    r = lab.busCall("AddForward", [forwardMap(name="other", external_port="80")])
    assert not r["ok"] and r["error"] == "io.github.portico.Error.Duplicate", r
    baseline.assertUnchanged("duplicates")


def test_wrong_signatures_and_unknown_ids_over_the_bus(lab, baseline):
    r = lab.busCall("AddForward", ["just a string"], signature="s")
    assert not r["ok"] and r["error"] in (INVALID_ARGS, "org.freedesktop.DBus.Error.UnknownMethod"), r
    r = lab.busCall("ReplaceForwards", [[], baseline.generation], signature="aa{sv}u")
    assert not r["ok"] and r["error"] in (INVALID_ARGS, "org.freedesktop.DBus.Error.UnknownMethod"), r
    r = lab.busCall("RemoveForward", ["f999999"])
    assert not r["ok"] and r["error"] == "io.github.portico.Error.NotFound", r
    r = lab.busCall("UpdateForward", [baseline.forwards[0]["id"], {"external_port": "99999"}])
    assert not r["ok"] and r["error"] == INVALID_ARGS and "99999" in r["message"], r
    r = lab.busCall("UpdateForward", [baseline.forwards[0]["id"], {"id": "f12345"}])
    assert not r["ok"] and r["error"] == INVALID_ARGS, f"changing the id: {r}"
    baseline.assertUnchanged("wrong signatures and ids")


ADD = ["add", "--proto", "tcp"]
CLI_CASES = [
    # (name, arguments, exit code, what stderr must mention)
    ("port out of range", ADD + ["--name", "x", "--port", "70000", "--to", f"{LAN_SERVER4}:8080"], 2,
     "70000"),
    ("overlong name", ADD + ["--name", "n" * 300, "--port", "81", "--to", f"{LAN_SERVER4}:8080"], 2,
     "name"),
    ("bad CIDR", ADD + ["--name", "x", "--port", "81", "--to", f"{LAN_SERVER4}:8080", "--from",
                        "203.0.113.0/33"], 2, "203.0.113.0/33"),
    ("bad target", ADD + ["--name", "x", "--port", "81", "--to", "198.51.100.999:8080"], 2,
     "198.51.100.999"),
    ("bad protocol", ["add", "--proto", "sctp", "--name", "x", "--port", "81", "--to",
                      f"{LAN_SERVER4}:8080"], 2, "sctp"),
    ("unknown option", ADD + ["--name", "x", "--port", "81", "--to", f"{LAN_SERVER4}:8080",
                              "--colour", "red"], 2, "colour"),
    ("missing port", ADD + ["--name", "x", "--to", f"{LAN_SERVER4}:8080"], 2, "port"),
    ("unknown command", ["frobnicate"], 2, "frobnicate"),
    ("duplicate name", ADD + ["--name", "base", "--port", "81", "--to", f"{LAN_SERVER4}:8080"], 1,
     "base"),
    ("duplicate claim", ADD + ["--name", "y", "--port", "80", "--to", f"{LAN_SERVER4}:9000"], 1,
     "base"),
    ("unknown forward", ["remove", "nosuch"], 1, "nosuch"),
]


@pytest.mark.parametrize("name,args,code,mentions", CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_bad_input_on_the_command_line(lab, baseline, name, args, code, mentions):
    p = lab.ctl(*args)
    assert p.returncode == code, f"{name}: exit {p.returncode}, wanted {code}: {p.stderr}"
    assert p.stderr.startswith("porticoctl: "), f"{name}: {p.stderr!r}"
    assert mentions in p.stderr, f"{name}: stderr does not name {mentions!r}: {p.stderr!r}"
    assert p.stdout == "", f"{name}: printed {p.stdout!r} on stdout"
    baseline.assertUnchanged(name)
