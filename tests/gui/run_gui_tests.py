#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs the Qt Test GUI suite (test_gui) against the real helper in the lab.

The lab (tools/lab.py) brings up namespaces, a dbus-daemon, polkitd and the helper. test_gui runs
unprivileged, as the lab's users, exactly as the app would: as portico-admin (whom the lab's
polkit rule allows) for most tests, and as portico-user (whom polkit refuses) for the denial test.
Whatever needs root (nft in the gateway, traffic from the WAN namespace, porticoctl as another
client, stopping the helper) the test asks of this driver over a Unix socket, one JSON request
per line. With --screenshots, test_gui also saves screenshots under Xvfb.
"""

import argparse
import json
import os
import pwd
import shutil
import socketserver
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE, "tools"))
sys.dont_write_bytecode = True
import lab as labmod  # noqa: E402


class Driver:
    def __init__(self, lab):
        self.lab = lab
        self.extraBuses = []
        self.savedService = None
        self.held = []

    def handle(self, req):
        op = req.get("op")
        lab = self.lab
        if op == "reset":
            if "polkitd" not in lab.procs:
                lab.startPolkit()
            lab.ensureHelper()
            lab.resetForwards(force=True)
            r = lab.busCall("SetIpForwarding", [False, False])
            if not r["ok"]:
                raise labmod.LabError(f"SetIpForwarding failed: {r}")
            lab.conntrack(lab.gw, "-F", check=False)
            return True
        if op == "ruleset":
            return lab.nft(lab.gw, "list", "table", "inet", "portico", check=False)
        if op == "http":
            ns = lab.ns[req.get("ns", "wan")]
            return lab.http_get(ns, req["url"], source=req.get("source"))
        if op == "nft":
            # nft in the gateway, for tables of "other programs" (test_flow_gui): a script
            # (nft -f) or one command's arguments.
            if "script" in req:
                path = os.path.join(lab.rundir, "gui-nft.nft")
                with open(path, "w") as f:
                    f.write(req["script"])
                return lab.nft(lab.gw, "-f", path, check=req.get("check", True))
            return lab.nft(lab.gw, *req["args"], check=req.get("check", True))
        if op == "ctl":
            p = lab.ctl(*req["args"])
            return {"rc": p.returncode, "stdout": p.stdout, "stderr": p.stderr}
        if op == "forwarding":
            return list(lab.forwarding())
        if op == "setForwarding":
            r = lab.busCall("SetIpForwarding", [bool(req["v4"]), bool(req["v6"])])
            return r["ok"]
        if op == "stopHelper":
            lab.stopHelper()
            return True
        if op in ("breakActivation", "fixActivation"):
            # The bus's service file for the helper, pointed at a program that fails at once:
            # "installed but cannot be started". dbus-daemon rereads the directory by itself.
            path = os.path.join(lab.rundir, "services", f"{labmod.HELPER_NAME}.service")
            if op == "fixActivation" and self.savedService is None:
                return True  # nothing broken (every test's cleanup asks)
            if op == "breakActivation":
                lab.stopHelper()
                with open(path) as f:
                    self.savedService = f.read()
                text = "\n".join("Exec=/bin/false" if line.startswith("Exec=") else line
                                 for line in self.savedService.splitlines()) + "\n"
            else:
                text, self.savedService = self.savedService, None
            with open(path + ".tmp", "w") as f:
                f.write(text)
            os.rename(path + ".tmp", path)
            lab.bus().call_blocking("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                    "org.freedesktop.DBus", "ReloadConfig", "", [])
            return True
        # Connections view (issue 4): conntrack(8) on the gateway, and a few TCP connections
        # from the WAN client held open (for the screenshot), released again.
        if op == "conntrack":
            p = lab.run(lab.gw, ["conntrack", *req["args"]], check=False)
            return p.stdout + p.stderr
        if op == "holdConnections":
            code = ("import socket, sys, time\n"
                    f"s = [socket.create_connection(('{labmod.WAN_GW4}', 80), timeout=5) "
                    "for _ in range(3)]\n"
                    "print('up', flush=True)\n"
                    "time.sleep(120)\n")
            p = subprocess.Popen(["ip", "netns", "exec", lab.ns["wan"], "/usr/bin/python3", "-c",
                                  code], stdout=subprocess.PIPE, text=True)
            self.held.append(p)
            return p.stdout.readline().strip() == "up"
        if op == "udpStream":
            # A live UDP flow from the WAN client (fixed source port, a datagram every 50 ms,
            # for req["seconds"]) to the gateway's req["port"], for the counters and the rate.
            code = ("import socket, time\n"
                    "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                    f"s.bind(('{labmod.WAN_CLIENT4}', {int(req.get('sport', 40123))}))\n"
                    f"end = time.monotonic() + {float(req.get('seconds', 5))}\n"
                    "while time.monotonic() < end:\n"
                    f"    s.sendto(b'x' * 500, ('{labmod.WAN_GW4}', {int(req['port'])}))\n"
                    "    time.sleep(0.05)\n")
            self.held.append(subprocess.Popen(["ip", "netns", "exec", lab.ns["wan"],
                                               "/usr/bin/python3", "-c", code]))
            return True
        if op == "releaseConnections":
            for p in self.held:
                p.terminate()
                p.wait(timeout=5)
            self.held = []
            return True
        if op == "emptyBus":
            # A bus with no helper on it and nothing to start one: "not installed".
            # Run by the test's own user: a session bus lets in only the user who started it.
            pw = pwd.getpwnam(req.get("user", labmod.ADMIN_USER))
            p = subprocess.Popen(["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}",
                                  "--init-groups", "--", "dbus-daemon", "--session", "--nofork",
                                  "--print-address"],
                                 stdout=subprocess.PIPE, text=True, env={"PATH": "/usr/bin:/bin"})
            self.extraBuses.append(p)
            return p.stdout.readline().strip()
        raise ValueError(f"unknown op {op!r}")

    def close(self):
        for p in self.held:
            p.terminate()
            p.wait(timeout=5)
        for p in self.extraBuses:
            p.terminate()
            p.wait(timeout=5)


def serve(driver, path):
    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            for line in self.rfile:
                try:
                    reply = {"ok": True, "result": driver.handle(json.loads(line))}
                except Exception as e:  # the test shows the reason
                    reply = {"ok": False, "error": f"{type(e).__name__}: {e}"}
                self.wfile.write((json.dumps(reply) + "\n").encode())
                self.wfile.flush()

    server = socketserver.ThreadingUnixStreamServer(path, Handler)
    os.chmod(path, 0o666)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def runAs(user, cmd, env, timeout):
    pw = pwd.getpwnam(user)
    home = tempfile.mkdtemp(prefix=f"portico-gui-{user}-")
    os.chown(home, pw.pw_uid, pw.pw_gid)
    runtime = os.path.join(home, "runtime")
    os.mkdir(runtime, 0o700)
    os.chown(runtime, pw.pw_uid, pw.pw_gid)
    full = dict(env, HOME=home, XDG_RUNTIME_DIR=runtime, USER=user, LOGNAME=user,
                PATH="/usr/sbin:/usr/bin:/sbin:/bin", LANG="C.UTF-8")
    try:
        return subprocess.run(["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}",
                               "--init-groups", "--"] + cmd, env=full, timeout=timeout,
                              stdin=subprocess.DEVNULL).returncode
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build-dir", default=os.environ.get("BUILD_DIR"))
    ap.add_argument("--test-binary", default=None)
    ap.add_argument("--screenshots", metavar="DIR", default=None,
                    help="also save screenshots into DIR, under Xvfb")
    ap.add_argument("functions", nargs="*", help="test functions to run (default: all)")
    args = ap.parse_args()
    buildDir = os.path.abspath(args.build_dir or os.path.join(SOURCE, "build"))
    binary = args.test_binary or os.path.join(buildDir, "tests", "gui", "test_gui")
    if os.geteuid() != 0:
        print("run_gui_tests: the lab needs root", file=sys.stderr)
        return 2

    lab = labmod.Lab(buildDir)
    xvfb = None
    driver = None
    rc = 1
    try:
        lab.start()
        driver = Driver(lab)
        sock = os.path.join(lab.rundir, "gui-driver.sock")
        server = serve(driver, sock)
        env = {
            "PORTICO_BUS_ADDRESS": lab.busAddress,
            "PORTICO_GUI_DRIVER": sock,
            "PORTICO_LAB_WAN_GW4": labmod.WAN_GW4,
            "PORTICO_LAB_WAN_CLIENT4": labmod.WAN_CLIENT4,
            "PORTICO_LAB_LAN_SERVER4": labmod.LAN_SERVER4,
            "QT_QPA_PLATFORM": "offscreen",
        }
        selected = args.functions
        adminFunctions = [f for f in selected if f != "refusedAuthorization"]
        results = []
        if not selected or adminFunctions:
            results.append(runAs(labmod.ADMIN_USER, [binary, "-maxwarnings", "0"] + adminFunctions,
                                 dict(env, PORTICO_GUI_ROLE="admin"), timeout=600))
        if not selected or "refusedAuthorization" in selected:
            results.append(runAs(labmod.PLAIN_USER, [binary, "refusedAuthorization"],
                                 dict(env, PORTICO_GUI_ROLE="user"), timeout=300))
        if args.screenshots:
            outDir = os.path.abspath(args.screenshots)
            os.makedirs(outDir, exist_ok=True)
            shotDir = tempfile.mkdtemp(prefix="portico-shots-")
            os.chmod(shotDir, 0o777)
            display = f":{100 + os.getpid() % 800}"
            xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten",
                                     "tcp", "-ac"], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            time.sleep(1.5)
            results.append(runAs(labmod.ADMIN_USER, [binary, "screenshots"],
                                 dict(env, PORTICO_GUI_ROLE="admin", QT_QPA_PLATFORM="xcb",
                                      DISPLAY=display, PORTICO_SCREENSHOT_DIR=shotDir),
                                 timeout=300))
            for f in sorted(os.listdir(shotDir)):
                shutil.copy(os.path.join(shotDir, f), os.path.join(outDir, f))
                print(f"run_gui_tests: saved {os.path.join(outDir, f)}")
            shutil.rmtree(shotDir, ignore_errors=True)
        rc = 0 if all(r == 0 for r in results) else 1
        server.shutdown()
    except labmod.LabError as e:
        print(f"run_gui_tests: the lab failed: {e}", file=sys.stderr)
    except subprocess.TimeoutExpired as e:
        print(f"run_gui_tests: timed out: {e}", file=sys.stderr)
    finally:
        if driver is not None:
            driver.close()
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(timeout=5)
        lab.close()
    return rc


if __name__ == "__main__":
    sys.exit(main())
