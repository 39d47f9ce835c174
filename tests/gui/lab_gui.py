#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Opens portico on a throwaway lab: the gateway with the real helper, a LAN server, a few
forwards and a WAN client sending traffic through one of them, so the hits column moves.

With a display (DISPLAY set), portico opens on it as the lab's admin user until you close it.
Without one, it runs the GUI suite's screenshot scenario under Xvfb and saves the screenshots
(default: docs/screenshots). Needs root, like the lab.
"""

import argparse
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE, "tools"))
sys.dont_write_bytecode = True
import lab as labmod  # noqa: E402


def openOnDisplay(lab, binary):
    pw = pwd.getpwnam(labmod.ADMIN_USER)
    home = tempfile.mkdtemp(prefix="portico-lab-gui-")
    os.chown(home, pw.pw_uid, pw.pw_gid)
    env = {"PATH": "/usr/bin:/bin", "HOME": home, "XDG_RUNTIME_DIR": home, "LANG": "C.UTF-8",
           "DISPLAY": os.environ["DISPLAY"], "PORTICO_BUS_ADDRESS": lab.busAddress}
    # The X server admits whoever holds the cookie: hand the admin user a copy of ours.
    xauth = os.environ.get("XAUTHORITY") or os.path.expanduser("~/.Xauthority")
    if os.path.exists(xauth):
        copy = os.path.join(home, "Xauthority")
        shutil.copy(xauth, copy)
        os.chown(copy, pw.pw_uid, pw.pw_gid)
        env["XAUTHORITY"] = copy
    for var in ("QT_SCALE_FACTOR", "QT_STYLE_OVERRIDE"):
        if var in os.environ:
            env[var] = os.environ[var]
    try:
        return subprocess.run(["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}",
                               "--init-groups", "--", binary], env=env).returncode
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build-dir", default=os.environ.get("BUILD_DIR"))
    ap.add_argument("--screenshots", metavar="DIR", default=None,
                    help="save screenshots under Xvfb even when there is a display")
    args = ap.parse_args()
    buildDir = os.path.abspath(args.build_dir or os.path.join(SOURCE, "build"))
    if os.geteuid() != 0:
        print("lab_gui: run me as root: the lab creates network namespaces", file=sys.stderr)
        return 1
    if args.screenshots or not os.environ.get("DISPLAY"):
        out = args.screenshots or os.path.join(SOURCE, "docs", "screenshots")
        print(f"lab_gui: no display; saving screenshots into {out}")
        return subprocess.run([sys.executable, os.path.join(HERE, "run_gui_tests.py"),
                               "--build-dir", buildDir, "--screenshots", out,
                               "screenshots"]).returncode
    binary = os.path.join(buildDir, "app", "gui", "portico")
    with labmod.Lab(buildDir) as lab:
        for add in (["--name", "web", "--port", "80", "--to", f"{labmod.LAN_SERVER4}:8080",
                     "--comment", "the LAN web server"],
                    ["--name", "game", "--proto", "tcp+udp", "--port", "25565", "--to",
                     f"{labmod.LAN_SERVER4}:8080", "--from", "203.0.113.0/24"],
                    ["--name", "local", "--port", "4321", "--to", ":1234"]):
            p = lab.ctl("add", *add)
            if p.returncode != 0:
                raise SystemExit(f"porticoctl add failed: {p.stderr}")
        stop = threading.Event()

        def traffic():
            while not stop.wait(0.5):
                lab.http_get(lab.wan, f"http://{labmod.WAN_GW4}/", source=labmod.WAN_CLIENT4)

        threading.Thread(target=traffic, daemon=True).start()
        print(f"lab_gui: portico on {lab.busAddress}; a WAN client fetches "
              f"http://{labmod.WAN_GW4}/ twice a second. Close the window to end the lab.")
        rc = openOnDisplay(lab, binary)
        stop.set()
        return rc


if __name__ == "__main__":
    sys.exit(main())
