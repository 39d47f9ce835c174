# SPDX-License-Identifier: GPL-3.0-or-later
"""One lab for the whole session (namespaces, servers, dbus-daemon, polkitd, the helper by D-Bus
activation) and a clean start for every test: no forwards, forwarding off, no conntrack entries."""

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import lab as labmod  # noqa: E402



@pytest.fixture(scope="session")
def lab():
    if os.geteuid() != 0:
        pytest.fail("the lab tests need root: run them as root (tools/test does)", pytrace=False)
    activation = os.environ.get("PORTICO_LAB_ACTIVATION", "1") != "0"
    instance = labmod.Lab(os.environ.get("BUILD_DIR"), activation=activation)
    try:
        instance.start()
    except labmod.LabError as e:
        pytest.fail(f"the lab did not start: {e}", pytrace=False)
    yield instance
    instance.close()


@pytest.fixture(autouse=True)
def clean(lab, request):
    """Every test starts from an empty forward set, with forwarding off and polkitd running."""
    if "polkitd" not in lab.procs:
        lab.startPolkit()
    lab.ensureHelper()
    lab.resetForwards(force=True)
    r = lab.busCall("SetIpForwarding", [False, False])
    assert r["ok"], f"SetIpForwarding(false, false) as root failed: {r}"
    assert lab.forwarding() == (False, False)
    lab.conntrack(lab.gw, "-F", check=False)
    yield
    if "polkitd" not in lab.procs:
        lab.startPolkit()


def listForwards(lab):
    p = lab.ctl("list", "--json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing test's report carries the daemons' logs (the activated helper logs into
    dbus-daemon's), so that a CI failure can be read without rerunning it."""
    outcome = yield
    report = outcome.get_result()
    instance = item.funcargs.get("lab") if hasattr(item, "funcargs") else None
    if report.failed and instance is not None:
        for name in ("dbus-daemon", "helper", "polkitd"):
            tail = instance.logTail(name, lines=40)
            if tail:
                report.sections.append((f"lab {name}.log (last lines)", tail))
