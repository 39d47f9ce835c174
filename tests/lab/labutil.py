# SPDX-License-Identifier: GPL-3.0-or-later
"""Small helpers shared by the lab tests: adding forwards as the admin user, and snapshots of
everything a refused call must leave alone (the whole ruleset, the state file, the generation)."""

import glob
import os

from lab import ADMIN_USER, LAN_SERVER4, WAN_CLIENT4, WAN_GW4


def add(lab, *args, user=ADMIN_USER):
    """porticoctl add as the admin; returns the new id, and the notices in p.stderr."""
    p = lab.ctl("add", *args, user=user)
    assert p.returncode == 0, f"porticoctl add {' '.join(args)} failed ({p.returncode}): {p.stderr}"
    fid = p.stdout.strip()
    assert fid, "porticoctl add printed no id"
    return fid


def ctlOk(lab, *args, user=ADMIN_USER):
    p = lab.ctl(*args, user=user)
    assert p.returncode == 0, f"porticoctl {' '.join(args)} failed ({p.returncode}): {p.stderr}"
    return p


def forwardMap(**changes):
    """A valid forward in its bus form (a{sv}), as JSON-able values for lab_bus."""
    f = {"name": "web", "enabled": True, "protocol": "tcp", "interface": "",
         "external_address": "", "external_port": "80", "sources": [],
         "target_address": LAN_SERVER4, "target_port": "8080", "masquerade": False,
         "hairpin": False, "comment": ""}
    f.update(changes)
    return f


def web(lab):
    return lab.http_get(lab.wan, f"http://{WAN_GW4}/", source=WAN_CLIENT4)


class Snapshot:
    """What a refused or failed call must not change."""

    def __init__(self, lab):
        self.lab = lab
        self.ruleset = lab.nft(lab.gw, "list", "ruleset")
        self.state = self._state()
        r = lab.busCall("ListForwards")
        assert r["ok"], r
        self.forwards, self.generation = r["result"]
        self.forwarding = lab.forwarding()

    def _state(self):
        path = os.path.join(self.lab.stateDir, "forwards.json")
        try:
            with open(path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def assertUnchanged(self, what):
        now = Snapshot(self.lab)
        assert now.ruleset == self.ruleset, f"{what}: the ruleset changed"
        assert now.state == self.state, f"{what}: forwards.json changed"
        assert now.generation == self.generation, f"{what}: the generation moved"
        assert now.forwards == self.forwards, f"{what}: the forwards changed"
        assert now.forwarding == self.forwarding, f"{what}: ip forwarding changed"
        # A save begun beside the kernel batch (StateStore::beginSave) leaves nothing behind.
        temps = glob.glob(os.path.join(self.lab.stateDir, "forwards.json.tmp-*"))
        assert not temps, f"{what}: temporary state files were left: {temps}"
