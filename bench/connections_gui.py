#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Connections view (issue 4) on the real helper, in a throwaway lab, side by side with
`conntrack -L > /dev/null` on the same table in the same run: at 100,000 and 1,000,000 entries
made by bench/ct_fill in the gateway namespace, the app's view (bench/connections_view_bench
--bus, as portico-admin, offscreen) is shown empty, then its stream opened and timed to its first
rows painted and to the whole snapshot in its model; its heap growth per entry above the shown
empty table is reported too. Then the same binary's
model-only measures on generated records (sort, filter, event-loop stall) are run and printed.

The global net.netfilter.nf_conntrack_max is raised for the run (a table of 1M entries needs
it, and it can only be set in the initial namespace) and put back afterwards, even on failure:
the one change outside the lab's namespaces. Prints Markdown; --write FILE replaces this
benchmark's section of docs/benchmarks.md. Needs root and a build (BUILD_DIR, Release)."""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(BENCH)
sys.path.insert(0, os.path.join(SOURCE, "tools"))
sys.dont_write_bytecode = True
import lab as labmod  # noqa: E402

MARK_BEGIN = "<!-- bench/connections_gui.py: begin -->"
MARK_END = "<!-- bench/connections_gui.py: end -->"
CT_MAX = "/proc/sys/net/netfilter/nf_conntrack_max"
TIMER = ("import subprocess,sys,time\n"
         "t=time.perf_counter()\n"
         "p=subprocess.run(sys.argv[1:],stdin=subprocess.DEVNULL,stdout=subprocess.DEVNULL)\n"
         "print(f'{(time.perf_counter()-t)*1000:.1f}' if p.returncode==0 else 'FAIL')\n")


def timedMs(lab, ns, cmd):
    r = lab.run(ns, [labmod.PYTHON, "-c", TIMER, *cmd], timeout=900).stdout.strip()
    if r == "FAIL":
        raise labmod.LabError(f"{' '.join(cmd)} failed")
    return float(r)


def openView(lab, binary):
    env = {"QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": "/tmp"}
    p = lab.run(None, [binary, "--bus", lab.busAddress], user=labmod.ADMIN_USER, env=env,
                check=False, timeout=900)
    lines = p.stdout.strip().splitlines()
    if not lines:
        raise labmod.LabError(f"connections_view_bench --bus failed: {p.stderr}")
    r = json.loads(lines[-1])
    if r.get("error"):
        raise labmod.LabError(f"the view did not load: {r['error']}")
    return r


def machine():
    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{cpu}, {os.cpu_count()} cores, Linux {platform.release()}"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build-dir", default=os.environ.get("BUILD_DIR", os.path.join(SOURCE,
                                                                                    "build")))
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--write", metavar="FILE")
    args = ap.parse_args()
    buildDir = os.path.abspath(args.build_dir)
    viewBench = os.path.join(buildDir, "bench", "connections_view_bench")
    ctFill = os.path.join(buildDir, "bench", "ct_fill")
    sizes = [int(s) for s in args.sizes.split(",")]

    with open(CT_MAX) as f:
        savedMax = f.read().strip()
    rows = []
    load = os.getloadavg()
    try:
        with open(CT_MAX, "w") as f:
            f.write(str(max(sizes) + 200000))
        with labmod.Lab(buildDir) as lab:
            for n in sizes:
                lab.conntrack(lab.gw, "-F", check=False)
                lab.run(lab.gw, [ctFill, "--quiet", "--count", str(n), "--mark", "1",
                                 "--mark-every", "7"], timeout=900)
                count = int(lab.run(lab.gw, ["conntrack", "-C"]).stdout.strip())
                views, theirs = [], []
                # The helper exits when idle; a stream opened while it is gone starts it (bus
                # activation) inside the WatchConnections call. That first open is measured on
                # its own, the helper stopped before it; the reps below find it running, as the
                # app does once it has listed the forwards.
                lab.stopHelper()
                theirs.append(timedMs(lab, lab.gw, ["conntrack", "-L"]))
                cold = openView(lab, viewBench)
                for _ in range(args.reps):
                    # Alternated, so that neither gets the warmer cache.
                    theirs.append(timedMs(lab, lab.gw, ["conntrack", "-L"]))
                    views.append(openView(lab, viewBench))
                for v in views:
                    assert v["entries"] == count, (v, count)
                rows.append({
                    "entries": count,
                    "cold_reply_ms": cold["reply_ms"],
                    "cold_first_ms": cold["first_rows_ms"],
                    "reply_ms": statistics.median(v["reply_ms"] for v in views),
                    "first_ms": statistics.median(v["first_rows_ms"] for v in views),
                    "full_ms": statistics.median(v["full_ms"] for v in views),
                    "heap": statistics.median(v["heap_per_entry"] for v in views),
                    "heapUnshown": statistics.median(v["heap_per_entry_unshown"] for v in views),
                    "model": statistics.median(v["model_per_entry"] for v in views),
                    "load_stall": max(v["load_stall_ms"] for v in views),
                    "load_stall_p99": max(v["load_stall_p99_ms"] for v in views),
                    "conntrack_L_ms": statistics.median(theirs),
                })
            lab.conntrack(lab.gw, "-F", check=False)
    finally:
        with open(CT_MAX, "w") as f:
            f.write(savedMax)
    with open(CT_MAX) as f:
        assert f.read().strip() == savedMax
    generated = subprocess.run([viewBench, *map(str, sizes)], capture_output=True, text=True,
                               env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
                               timeout=1800, check=True).stdout.strip()

    day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    out = [MARK_BEGIN, "",
           f"Measured {day} on {machine()}, load average {load[0]:.1f} at the start (the cores "
           "are shared with other work, so the times are upper bounds).", "",
           "**On the real helper** (lab, `bench/ct_fill` entries, the view opened as "
           f"portico-admin, offscreen; median of {args.reps}):", "",
           "| entries | WatchConnections answered (ms) | first rows painted (ms) | "
           "the same, the helper started by the call (ms) | "
           "whole table in the model (ms) | "
           "`conntrack -L > /dev/null` (ms) | ratio | app heap per entry (B, above the shown "
           "empty table; above the unshown view) | model per entry (B) | longest stall while "
           "the table comes in (ms, p99; the worst of the runs) |",
           "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        out.append(f"| {r['entries']:,} | {r['reply_ms']:.1f} | {r['first_ms']:.1f} | "
                   f"{r['cold_reply_ms']:.1f} / {r['cold_first_ms']:.1f} | "
                   f"{r['full_ms']:.0f} | "
                   f"{r['conntrack_L_ms']:.0f} | {r['full_ms'] / r['conntrack_L_ms']:.2f} | "
                   f"{r['heap']:.1f}; {r['heapUnshown']:.1f} | {r['model']:.1f} | "
                   f"{r['load_stall']:.1f} ({r['load_stall_p99']:.1f}) |")
    out += ["", "**On generated records** (`bench/connections_view_bench`: no helper, the same "
            "view and model, the stream's frames fed one 64 KiB chunk per event-loop turn):", "",
            generated, "", MARK_END]
    text = "\n".join(out) + "\n"
    print(text)
    if args.write:
        with open(args.write) as f:
            doc = f.read()
        if MARK_BEGIN in doc:
            a = doc.index(MARK_BEGIN)
            b = doc.index(MARK_END) + len(MARK_END) + 1
            doc = doc[:a] + text + doc[b:]
        else:
            doc += "\n" + text
        with open(args.write, "w") as f:
            f.write(doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
