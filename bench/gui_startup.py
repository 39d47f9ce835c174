#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Cold start of `portico` to the first painted table, and its peak RSS, with 1 and with 10,000
forwards held by the real helper in the lab. Not a test: it prints a Markdown table.

Each run starts a fresh process as portico-admin with PORTICO_STARTUP_PROBE=1, which makes the
app print the times from main() to its window's first paint (before the helper has answered), to
the forwards read (ExportForwards' file decoded and in the model) and to the first paint of the table
holding them, then quit. The wall time from fork to exit is measured here, and the peak RSS comes
from wait4(). The medians of --runs runs (after one warm-up) and the largest RSS are printed.
"""

import argparse
import os
import pwd
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SOURCE, "tools"))
sys.dont_write_bytecode = True
import lab as labmod  # noqa: E402


def forwards(n):
    return [{"name": f"fwd{i}", "enabled": True, "protocol": "tcp", "interface": "",
             "external_address": "", "external_port": str(10000 + i), "sources": [],
             "target_address": labmod.LAN_SERVER4, "target_port": "8080", "masquerade": False,
             "hairpin": False, "comment": ""} for i in range(n)]


def runOnce(binary, lab, platform):
    pw = pwd.getpwnam(labmod.ADMIN_USER)
    home = tempfile.mkdtemp(prefix="portico-bench-")
    os.chown(home, pw.pw_uid, pw.pw_gid)
    env = {"PATH": "/usr/bin:/bin", "HOME": home, "XDG_RUNTIME_DIR": home, "LANG": "C.UTF-8",
           "PORTICO_BUS_ADDRESS": lab.busAddress, "PORTICO_STARTUP_PROBE": "1",
           "QT_QPA_PLATFORM": platform}
    if "DISPLAY" in os.environ:
        env["DISPLAY"] = os.environ["DISPLAY"]
    start = time.monotonic()
    p = subprocess.Popen(["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}",
                          "--init-groups", "--", binary], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    wall = (time.monotonic() - start) * 1000
    shutil.rmtree(home, ignore_errors=True)
    fields = out.split()
    if os.waitstatus_to_exitcode(status) != 0 or "first-paint-ms" not in fields:
        raise RuntimeError(f"portico failed: {out!r}")
    value = lambda k: int(fields[fields.index(k) + 1])  # noqa: E731
    return (value("window-paint-ms"), value("forwards-read-ms"), value("first-paint-ms"), wall,
            usage.ru_maxrss / 1024, value("rss-kb") / 1024)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build-dir", default=os.environ.get("BUILD_DIR"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--platform", default="offscreen")
    ap.add_argument("--counts", default="1,10000")
    args = ap.parse_args()
    buildDir = os.path.abspath(args.build_dir or os.path.join(SOURCE, "build"))
    binary = os.path.join(buildDir, "app", "gui", "portico")
    with labmod.Lab(buildDir) as lab:
        print("| forwards | window painted (ms) | forwards read (ms) | table painted (ms) "
              "| wall to exit (ms) | peak RSS (MB) | RSS after load (MB) |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for n in (int(c) for c in args.counts.split(",")):
            r = lab.busCall("ListForwards")
            r = lab.busCall("ReplaceForwards", [forwards(n), r["result"][1]], timeout=300)
            if not r["ok"]:
                raise SystemExit(f"ReplaceForwards({n}) failed: {r}")
            runOnce(binary, lab, args.platform)  # warm the page cache: "cold" means a new process
            samples = [runOnce(binary, lab, args.platform) for _ in range(args.runs)]
            med = [statistics.median(s[i] for s in samples) for i in range(4)]
            print(f"| {n} | {med[0]:.0f} | {med[1]:.0f} | {med[2]:.0f} | {med[3]:.0f} "
                  f"| {max(s[4] for s in samples):.1f} | {max(s[5] for s in samples):.1f} |",
                  flush=True)
        lab.resetForwards(force=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
