# SPDX-License-Identifier: GPL-3.0-or-later
"""Real traffic through forwards made with porticoctl: TCP, UDP, sources, ranges, a local
redirect, hairpin, the gateway itself and IPv6 (issue 2, tests 1 to 8)."""

import json
import re

import pytest

from lab import (PLAIN_USER, LAN2_CLIENT4, LAN_GW4, LAN_SERVER4, LAN_SERVER6, WAN_CLIENT4, WAN_CLIENT6,
                 WAN_GW4, WAN_GW6, WAN_OTHER4, WAN_OTHER6)
from labutil import add, web


def test_tcp_forward_reaches_lan_server_and_conntrack_shows_the_translation(lab):
    assert web(lab) is None, "port 80 on the gateway answered before any forward existed"
    add(lab, "--name", "web", "--proto", "tcp", "--port", "80", "--to", f"{LAN_SERVER4}:8080")
    body = web(lab)
    assert body == f"lan-server port=8080 client={WAN_CLIENT4}\n"
    entries = lab.conntrack(lab.gw, "-L", "-p", "tcp", "--orig-port-dst", "80")
    # Original direction to the gateway's port 80, reply from the LAN server's port 8080.
    pattern = (rf"src={WAN_CLIENT4} dst={WAN_GW4} sport=\d+ dport=80 .*"
               rf"src={LAN_SERVER4} dst={WAN_CLIENT4} sport=8080 ")
    assert re.search(pattern, entries), f"no translated entry in conntrack -L:\n{entries}"


def test_first_forward_turns_ip_forwarding_on_and_says_so(lab):
    assert lab.forwarding() == (False, False)
    p = lab.ctl("add", "--name", "web", "--proto", "tcp", "--port", "80", "--to",
                f"{LAN_SERVER4}:8080")
    assert p.returncode == 0, p.stderr
    assert lab.forwarding()[0], "IPv4 forwarding is still off after a forward to another host"
    assert re.search(r"note: .*forwarding", p.stderr, re.I), f"no notice about forwarding: {p.stderr!r}"
    p = lab.ctl("ip-forward")
    assert p.returncode == 0 and "IPv4 forwarding: on" in p.stdout, p.stdout + p.stderr


@pytest.mark.parametrize("proto,tcp,udp", [("udp", False, True), ("tcp+udp", True, True)])
def test_udp_and_tcp_udp_forwards(lab, proto, tcp, udp):
    add(lab, "--name", "svc", "--proto", proto, "--port", "80", "--to", f"{LAN_SERVER4}:8080")
    reply = lab.udp_echo(lab.wan, WAN_GW4, 80, "hello", source=WAN_CLIENT4)
    expected = f"lan-server port=8080 client={WAN_CLIENT4} hello" if udp else None
    assert reply == expected
    body = web(lab)
    assert (body is not None) == tcp, f"TCP through a {proto} forward: {body!r}"
    if tcp:
        assert body.startswith("lan-server port=8080")


def test_source_restriction(lab):
    add(lab, "--name", "web", "--proto", "tcp+udp", "--port", "80", "--to", f"{LAN_SERVER4}:8080",
        "--from", f"{WAN_CLIENT4}/32")
    assert web(lab) == f"lan-server port=8080 client={WAN_CLIENT4}\n"
    assert lab.http_get(lab.wan, f"http://{WAN_GW4}/", source=WAN_OTHER4) is None
    assert lab.udp_echo(lab.wan, WAN_GW4, 80, "x", source=WAN_CLIENT4) is not None
    assert lab.udp_echo(lab.wan, WAN_GW4, 80, "x", source=WAN_OTHER4) is None


def test_port_range_maps_one_to_one(lab):
    add(lab, "--name", "range", "--proto", "tcp+udp", "--port", "8000-8010", "--to",
        f"{LAN_SERVER4}:9000-9010")
    for port in (8000, 8001, 8005, 8009, 8010):
        body = lab.http_get(lab.wan, f"http://{WAN_GW4}:{port}/", source=WAN_CLIENT4)
        assert body == f"lan-server port={port + 1000} client={WAN_CLIENT4}\n", f"port {port}"
    reply = lab.udp_echo(lab.wan, WAN_GW4, 8007, "r", source=WAN_CLIENT4)
    assert reply == f"lan-server port=9007 client={WAN_CLIENT4} r"
    assert lab.http_get(lab.wan, f"http://{WAN_GW4}:8011/", source=WAN_CLIENT4) is None
    assert lab.http_get(lab.wan, f"http://{WAN_GW4}:7999/", source=WAN_CLIENT4) is None


def test_local_redirect(lab):
    assert lab.http_get(lab.wan, f"http://{WAN_GW4}:4321/") is None
    add(lab, "--name", "redirect", "--proto", "tcp", "--port", "4321", "--to", ":1234")
    body = lab.http_get(lab.wan, f"http://{WAN_GW4}:4321/", source=WAN_CLIENT4)
    assert body == f"gw-server port=1234 client={WAN_CLIENT4}\n"


@pytest.mark.parametrize("hairpin", [False, True])
def test_hairpin(lab, hairpin):
    args = ["--name", "web", "--proto", "tcp", "--port", "80", "--to", f"{LAN_SERVER4}:8080"]
    add(lab, *args, *(["--hairpin"] if hairpin else []))
    assert web(lab) is not None, "the forward does not work from the WAN"
    body = lab.http_get(lab.lan2, f"http://{WAN_GW4}/", source=LAN2_CLIENT4)
    if hairpin:
        # Masqueraded to the gateway, so that the server's reply comes back through it.
        assert body == f"lan-server port=8080 client={LAN_GW4}\n"
    else:
        assert body is None, f"a LAN client reached the forward without hairpin: {body!r}"


def test_gateway_itself_uses_the_forward(lab):
    add(lab, "--name", "web", "--proto", "tcp", "--port", "80", "--to", f"{LAN_SERVER4}:8080")
    body = lab.http_get(lab.gw, f"http://{WAN_GW4}/")
    assert body is not None and body.startswith("lan-server port=8080 "), body


def test_ipv6_forward(lab):
    add(lab, "--name", "web6", "--proto", "tcp+udp", "--on", WAN_GW6, "--port", "80", "--to",
        f"[{LAN_SERVER6}]:8080")
    assert lab.forwarding()[1], "IPv6 forwarding is still off after an IPv6 forward"
    body = lab.http_get(lab.wan, f"http://[{WAN_GW6}]/", source=WAN_CLIENT6)
    assert body == f"lan-server port=8080 client={WAN_CLIENT6}\n"
    reply = lab.udp_echo(lab.wan, WAN_GW6, 80, "six", source=WAN_CLIENT6)
    assert reply == f"lan-server port=8080 client={WAN_CLIENT6} six"
    # An IPv6 forward does not capture IPv4 traffic.
    assert web(lab) is None


def test_masquerade_hides_the_client(lab):
    add(lab, "--name", "web", "--proto", "tcp", "--port", "80", "--to", f"{LAN_SERVER4}:8080",
        "--masquerade")
    assert web(lab) == f"lan-server port=8080 client={LAN_GW4}\n"


def test_inbound_interface(lab):
    add(lab, "--name", "wan-only", "--proto", "tcp", "--port", "80", "--to", f"{LAN_SERVER4}:8080",
        "--in", "wan0")
    add(lab, "--name", "lan-only", "--proto", "tcp", "--port", "81", "--to", f"{LAN_SERVER4}:8080",
        "--in", "br0")
    assert web(lab) == f"lan-server port=8080 client={WAN_CLIENT4}\n"
    assert lab.http_get(lab.wan, f"http://{WAN_GW4}:81/", source=WAN_CLIENT4) is None


def test_external_address(lab):
    # The gateway's LAN address is one of its own too; a forward on it leaves 203.0.113.1 alone.
    add(lab, "--name", "on-lan-addr", "--proto", "tcp", "--on", LAN_GW4, "--port", "80", "--to",
        f"{LAN_SERVER4}:8080")
    body = lab.http_get(lab.wan, f"http://{LAN_GW4}/", source=WAN_CLIENT4)
    assert body == f"lan-server port=8080 client={WAN_CLIENT4}\n"
    assert web(lab) is None


def test_ipv6_source_restriction(lab):
    add(lab, "--name", "web6", "--proto", "tcp", "--on", WAN_GW6, "--port", "80", "--to",
        f"[{LAN_SERVER6}]:8080", "--from", f"{WAN_CLIENT6}/128")
    assert lab.http_get(lab.wan, f"http://[{WAN_GW6}]/", source=WAN_CLIENT6) is not None
    assert lab.http_get(lab.wan, f"http://[{WAN_GW6}]/", source=WAN_OTHER6) is None


def test_counters_are_per_forward(lab):
    add(lab, "--name", "web", "--proto", "tcp", "--port", "80", "--to", f"{LAN_SERVER4}:8080")
    add(lab, "--name", "other", "--proto", "tcp", "--port", "81", "--to", f"{LAN_SERVER4}:8080")

    def counters():
        p = lab.ctl("counters", "--json")
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)

    assert {k: v["packets"] for k, v in counters().items()} == {"web": 0, "other": 0}
    for _ in range(3):
        assert web(lab) is not None
    c = counters()
    assert c["web"]["packets"] >= 3 * 4 and c["web"]["bytes"] > 0, c  # at least SYN, ACK, GET, FIN
    assert c["other"]["packets"] == 0, c
    assert lab.http_get(lab.wan, f"http://{WAN_GW4}:81/", source=WAN_CLIENT4) is not None
    c2 = counters()
    assert c2["other"]["packets"] > 0 and c2["web"] == c["web"], c2
    # Counters need io.github.portico.monitor: polkit refuses the ordinary user.
    assert lab.ctl("counters", user=PLAIN_USER).returncode == 3
