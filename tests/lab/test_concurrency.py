# SPDX-License-Identifier: GPL-3.0-or-later
"""Two clients replace the forwards at once from the same generation: exactly one wins, the other
gets StaleGeneration, and the kernel carries the winner's set (issue 2, test 15)."""

import json
import os
import subprocess

from lab import ADMIN_USER, LAN_SERVER4, PYTHON, TOOLS, WAN_CLIENT4, WAN_GW4
from labutil import add, forwardMap


def test_replace_with_the_same_generation_one_wins(lab):
    add(lab, "--name", "start", "--proto", "tcp", "--port", "80", "--to", f"{LAN_SERVER4}:8080")
    r = lab.busCall("ListForwards")
    generation = r["result"][1]
    sets = {
        "a": [forwardMap(name="from-a", external_port="8001", target_port="9001")],
        "b": [forwardMap(name="from-b", external_port="8002", target_port="9002")],
    }
    cmd = ["ip", "netns", "exec", lab.gw, "setpriv", f"--reuid={lab.admin.pw_uid}",
           f"--regid={lab.admin.pw_gid}", "--init-groups", "--", PYTHON,
           os.path.join(TOOLS, "lab_bus.py"), "--bus", lab.busAddress, "call", "ReplaceForwards"]
    procs = {k: subprocess.Popen(cmd + [json.dumps([v, generation])], stdout=subprocess.PIPE,
                                 text=True, stdin=subprocess.DEVNULL) for k, v in sets.items()}
    results = {k: json.loads(p.communicate(timeout=60)[0]) for k, p in procs.items()}
    winners = [k for k, r in results.items() if r["ok"]]
    assert len(winners) == 1, f"as {ADMIN_USER}, wanted one winner: {results}"
    loser = "b" if winners == ["a"] else "a"
    assert results[loser]["error"] == "io.github.portico.Error.StaleGeneration", results
    assert results[loser]["message"], "StaleGeneration without a message"

    forwards, now = lab.busCall("ListForwards")["result"]
    assert now > generation
    assert [f["name"] for f in forwards] == [f"from-{winners[0]}"]
    port = 8001 if winners == ["a"] else 8002
    body = lab.http_get(lab.wan, f"http://{WAN_GW4}:{port}/", source=WAN_CLIENT4)
    assert body == f"lan-server port={port + 1000} client={WAN_CLIENT4}\n"
    other = 8002 if port == 8001 else 8001
    assert lab.http_get(lab.wan, f"http://{WAN_GW4}:{other}/", source=WAN_CLIENT4) is None
    assert lab.http_get(lab.wan, f"http://{WAN_GW4}/", source=WAN_CLIENT4) is None
