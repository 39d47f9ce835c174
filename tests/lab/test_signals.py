# SPDX-License-Identifier: GPL-3.0-or-later
"""ForwardsChanged reaches listeners on the bus with the generation that the change produced."""

import queue
import subprocess
import threading
import time

import pytest

from lab import LAN_SERVER4
from labutil import add, ctlOk


def test_forwards_changed_carries_the_new_generation(lab):
    rule = ("type='signal',interface='io.github.portico.Helper1',member='ForwardsChanged',"
            "path='/io/github/portico/Helper1'")
    monitor = subprocess.Popen(["dbus-monitor", "--address", lab.busAddress, rule],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               stdin=subprocess.DEVNULL)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(l) for l in monitor.stdout], daemon=True).start()
    try:
        # dbus-monitor loses its own name when it becomes a monitor: from then on it sees all.
        try:
            while "member=NameLost" not in lines.get(timeout=10):
                pass
        except queue.Empty:
            pytest.fail("dbus-monitor did not become a monitor on the lab bus within 10 s")
        add(lab, "--name", "web", "--proto", "tcp", "--port", "80", "--to", f"{LAN_SERVER4}:8080")
        ctlOk(lab, "disable", "web")
        generation = lab.busCall("ListForwards")["result"][1]
        seen, deadline = [], time.monotonic() + 10
        while time.monotonic() < deadline and generation not in seen:
            try:
                line = lines.get(timeout=0.2).strip()
            except queue.Empty:
                continue
            if line.startswith("uint64 "):
                seen.append(int(line.split()[1]))
        # One signal per change, the last one with the generation the helper now reports.
        assert len(seen) == 2 and seen[0] < seen[1] == generation, f"ForwardsChanged carried {seen}"
    finally:
        monitor.kill()
        monitor.wait()


def test_porticoctl_watch_prints_each_generation(lab):
    pw = lab.user
    cmd = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--init-groups", "--",
           lab.ctlPath, "--bus", lab.busAddress, "watch", "--count", "2"]
    # An ordinary user without any polkit rule may watch: signals carry no secrets.
    watch = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             stdin=subprocess.DEVNULL)
    try:
        first = watch.stderr.readline()
        assert first.startswith("watching"), f"porticoctl watch said {first!r}"
        add(lab, "--name", "web", "--proto", "tcp", "--port", "80", "--to", f"{LAN_SERVER4}:8080")
        ctlOk(lab, "disable", "web")
        out, err = watch.communicate(timeout=10)
        generation = lab.busCall("ListForwards")["result"][1]
        assert watch.returncode == 0, err
        assert out.splitlines()[-1] == f"generation {generation}", out
        assert len(out.splitlines()) == 2, out
    finally:
        watch.kill()
        watch.wait()
