# SPDX-License-Identifier: GPL-3.0-or-later
"""The bulk list beside the call (docs/dbus-api.md, "Bulk lists"): ImportForwards takes the whole
set in a sealed memfd and applies it like ReplaceForwards, refuses any other kind of descriptor
before reading from it, and changes nothing when it refuses; ExportForwards hands out the set the
same way. Descriptors are made by lab_bus.py in the calling user's own process."""

import json
import os
import time

from lab import ADMIN_USER, PLAIN_USER, WAN_GW4
from labutil import Snapshot, forwardMap, web

INVALID_ARGS = "org.freedesktop.DBus.Error.InvalidArgs"


def document(*forwards):
    return json.dumps({"schema": 1, "forwards": list(forwards)})


def generation(lab):
    r = lab.busCall("ListForwards")
    assert r["ok"], r
    return r["result"][1]


def test_import_forwards_applies_the_file_for_real(lab):
    text = document(forwardMap(name="bulk-web", external_address=WAN_GW4),
                    forwardMap(name="bulk-udp", protocol="udp", external_port="5353",
                               target_port="5353"))
    r = lab.busCall("ImportForwards", [{"text": text}, generation(lab)], user=ADMIN_USER)
    assert r["ok"], r
    listed = lab.busCall("ListForwards")["result"][0]
    assert sorted(f["name"] for f in listed) == ["bulk-udp", "bulk-web"], listed
    assert r["result"][0] == generation(lab)
    assert web(lab) is not None, "the imported forward does not carry HTTP"


def test_export_forwards_is_the_list_in_a_sealed_file(lab):
    text = document(*[forwardMap(name=f"exp-{i}", external_port=str(2000 + i),
                                 comment="naïve \"quoted\" \\ text") for i in range(50)])
    assert lab.busCall("ImportForwards", [{"text": text}, generation(lab)], user=ADMIN_USER)["ok"]
    r = lab.busCall("ExportForwards", [], user=PLAIN_USER)
    assert r["ok"], r
    file, gen = r["result"]
    assert file["sealed"], "ExportForwards' file is not sealed"
    exported = json.loads(file["text"])
    assert exported["schema"] == 1
    listed, listedGen = lab.busCall("ListForwards")["result"]
    assert gen == listedGen
    assert exported["forwards"] == listed, "ExportForwards and ListForwards disagree"


def test_the_helper_keeps_no_descriptor_of_a_bulk_call(lab):
    def openFiles():
        return len(os.listdir(f"/proc/{lab.helperPid()}/fd"))
    text = document(forwardMap(name="fd-web"))
    assert lab.busCall("ImportForwards", [{"text": text}, generation(lab)], user=ADMIN_USER)["ok"]
    before = openFiles()
    for _ in range(20):
        assert lab.busCall("ExportForwards")["ok"]
        r = lab.busCall("ImportForwards", [{"text": text}, generation(lab)], user=ADMIN_USER)
        assert r["ok"], r
        assert not lab.busCall("ImportForwards", [{"pipe": True}, generation(lab)],
                               user=ADMIN_USER)["ok"]
    assert openFiles() == before, "the helper holds on to passed or made files"


def refused(lab, spec, message, error=INVALID_ARGS):
    """ImportForwards with this descriptor is refused with `error` and changes nothing."""
    snap = Snapshot(lab)
    start = time.monotonic()
    r = lab.busCall("ImportForwards", [spec, snap.generation], user=ADMIN_USER, timeout=20)
    assert not r["ok"] and r["error"] == error, f"{spec}: {r}"
    assert message in r["message"], r["message"]
    # Refused before reading: a pipe must not hold the helper up.
    assert time.monotonic() - start < 10, "the refusal took as long as a timeout"
    snap.assertUnchanged(f"ImportForwards refused ({message})")
    return r["message"]


def test_only_a_sealed_memfd_is_taken(lab):
    lab.busCall("ImportForwards", [{"text": document(forwardMap(name="keep"))}, generation(lab)],
                user=ADMIN_USER)
    good = document(forwardMap(name="other", external_port="81"))
    refused(lab, {"text": good, "sealed": False}, "sealed against writing")
    refused(lab, {"pipe": True}, "sealed against writing")
    path = lab.userFile("bulk.json", good)
    refused(lab, {"path": path}, "sealed against writing")
    # Too big to hold for a caller polkit has not yet said yes to: refused unread.
    refused(lab, {"spaces": 65 << 20}, "more than the limit of 64 MiB")
    # The helper is still there and answers.
    assert lab.busCall("ListForwards")["ok"]


def test_bad_content_is_refused_with_the_forward_named(lab):
    lab.busCall("ImportForwards", [{"text": document(forwardMap(name="keep"))}, generation(lab)],
                user=ADMIN_USER)
    refused(lab, {"text": "{\"schema\": 1, \"forwards\": [ {\"name\": "}, "not valid JSON")
    refused(lab, {"text": json.dumps({"schema": 2, "forwards": []})}, "schema 2")
    msg = refused(lab, {"text": document(forwardMap(name="a", external_port="81"),
                                         forwardMap(name="big", external_port="70000"))},
                  "external port 70000 is out of range")
    assert "forward 2 (big)" in msg, msg
    msg = refused(lab, {"text": document(forwardMap(name="a", external_port="81"),
                                         forwardMap(name="a", external_port="82"))},
                  "'a' is already used", error="io.github.portico.Error.Duplicate")
    refused(lab, {"text": document(dict(forwardMap(name="x"), colour="red"))},
            "unknown key 'colour'")


def test_a_stale_generation_is_refused(lab):
    gen = generation(lab)
    lab.busCall("ImportForwards", [{"text": document(forwardMap(name="first"))}, gen],
                user=ADMIN_USER)
    snap = Snapshot(lab)
    r = lab.busCall("ImportForwards", [{"text": document(forwardMap(name="second"))}, gen],
                    user=ADMIN_USER)
    assert not r["ok"] and r["error"] == "io.github.portico.Error.StaleGeneration", r
    snap.assertUnchanged("ImportForwards with a stale generation")
