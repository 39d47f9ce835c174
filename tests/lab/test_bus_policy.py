# SPDX-License-Identifier: GPL-3.0-or-later
"""The project's bus policy (packaging/dbus), loaded as it is into the lab's bus: only root may
own the helper's name, and only our interface and the standard ones reach the helper."""

import json

from lab import ADMIN_USER, PLAIN_USER, PYTHON

PROBE = r"""
import json, sys
import dbus
bus = dbus.bus.BusConnection(sys.argv[1])
out = {}
try:
    out["own"] = int(bus.request_name("io.github.portico.Helper1", dbus.bus.NAME_FLAG_DO_NOT_QUEUE))
except dbus.exceptions.DBusException as e:
    out["own"] = e.get_dbus_name()
for iface in ("org.example.Other", "org.freedesktop.DBus.Introspectable"):
    try:
        bus.call_blocking("io.github.portico.Helper1", "/io/github/portico/Helper1", iface,
                          "Introspect", "", [], timeout=10)
        out[iface] = "ok"
    except dbus.exceptions.DBusException as e:
        out[iface] = e.get_dbus_name()
print(json.dumps(out))
"""


def probe(lab, user):
    return json.loads(lab.run(None, [PYTHON, "-c", PROBE, lab.busAddress], user=user).stdout)


def test_only_root_owns_the_name_and_only_our_interfaces_get_through(lab):
    assert lab.busCall("ListForwards")["ok"]  # the helper is up and owns its name
    for user in (PLAIN_USER, ADMIN_USER):
        r = probe(lab, user)
        assert r["own"] == "org.freedesktop.DBus.Error.AccessDenied", f"{user}: {r}"
        assert r["org.example.Other"] == "org.freedesktop.DBus.Error.AccessDenied", f"{user}: {r}"
        assert r["org.freedesktop.DBus.Introspectable"] == "ok", f"{user}: {r}"
