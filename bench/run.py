#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs Portico's benchmarks in a throwaway lab and compares them, in the same run, with the
tools an admin would otherwise use: `nft -f` (the same map ruleset, and one rule per forward)
and `iptables-restore` (the seed posts' rules). Prints a Markdown report; `--write FILE`
replaces the generated section of docs/benchmarks.md. Needs root and a build (BUILD_DIR)."""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(BENCH)
sys.path.insert(0, os.path.join(SOURCE, "tools"))
import lab as labmod  # noqa: E402

MARK_BEGIN = "<!-- bench/run.py: begin -->"
MARK_END = "<!-- bench/run.py: end -->"
TIMER = ("import subprocess,sys,time\n"
         "t=time.perf_counter()\n"
         "p=subprocess.run(sys.argv[1:],stdin=subprocess.DEVNULL)\n"
         "print(f'{(time.perf_counter()-t)*1000:.3f}' if p.returncode==0 else 'FAIL')\n")


def timed(lab, ns, cmd, reps):
    """Median wall time in ms of cmd run inside ns; the clock runs inside the namespace, so
    `ip netns exec` itself is not counted, but the tool's own start-up is (it is part of it)."""
    out = []
    for _ in range(reps):
        r = lab.run(ns, [labmod.PYTHON, "-c", TIMER, *cmd], timeout=600).stdout.strip()
        if r == "FAIL":
            raise labmod.LabError(f"{' '.join(cmd)} failed in {ns}")
        out.append(float(r))
    return statistics.median(out)


def applyBench(lab, sizes, reps, work):
    bench = labmod.findBinary("bench_apply", "PORTICO_BENCH_APPLY", lab.buildDir)
    p = lab.run(None, [bench, "--bus", lab.busAddress, "--sizes", ",".join(map(str, sizes)),
                       "--reps", str(reps), "--out-dir", work], timeout=3600)
    ours = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]
    lab.resetForwards()
    scratch = f"{lab.prefix}bench"
    lab._addNamespace(scratch)
    rows = []
    for r in ours:
        n = r["forwards"]
        row = dict(r)
        row["nft_map_ms"] = timed(lab, scratch, ["nft", "-f", f"{work}/map-{n}.nft"], reps)
        row["nft_linear_ms"] = timed(lab, scratch, ["nft", "-f", f"{work}/linear-{n}.nft"], reps)
        lab.run(scratch, ["nft", "flush", "ruleset"])
        row["iptables_restore_ms"] = timed(lab, scratch,
                                           ["iptables-restore", f"{work}/iptables-{n}.rules"], reps)
        lab.run(scratch, ["nft", "flush", "ruleset"])
        rows.append(row)
    return rows


def importForwards(lab, forwards, work):
    path = lab.userFile("bench-forwards.json", json.dumps({"schema": 1, "forwards": forwards}))
    r = lab.ctl("import", path, timeout=600)
    if r.returncode != 0:
        raise labmod.LabError(f"porticoctl import failed: {r.stderr}")


def connectBench(lab, n, count, work):
    """New-connection latency from the WAN client to the last of n forwards, against 1."""
    connect = labmod.findBinary("connect_latency", "PORTICO_CONNECT_LATENCY", lab.buildDir)
    lab._spawn("bench-server", ["ip", "netns", "exec", lab.lan, connect, "serve", "7000"])
    time.sleep(0.5)

    def forwards(k):
        return [{"name": f"c{i}", "protocol": "tcp", "external_address": labmod.WAN_GW4,
                 "external_port": str(10000 + i), "target_address": labmod.LAN_SERVER4,
                 "target_port": "7000"} for i in range(k)]

    def probe(port):
        out = lab.run(lab.wan, [connect, "connect", labmod.WAN_GW4, str(port), str(count)],
                      timeout=600).stdout
        return json.loads(out)["median_us"]

    # Rounds alternate between the small and the large ruleset, so that a warm-up or a busy
    # moment of the machine does not land on one side only; each figure is the median of rounds.
    samples = {}
    rounds = 3
    for _ in range(rounds):
        for k in (1, n):
            importForwards(lab, forwards(k), work)
            probe(10000 + k - 1)  # warm up caches and neighbour entries
            samples.setdefault(f"portico_{k}_us", []).append(probe(10000 + k - 1))
    lab.resetForwards()
    for _ in range(rounds):
        for k in (1, n):
            rules = "".join(f"    ip daddr {labmod.WAN_GW4} tcp dport {10000 + i} dnat to "
                            f"{labmod.LAN_SERVER4}:7000\n" for i in range(k))
            path = os.path.join(work, f"connect-linear-{k}.nft")
            with open(path, "w") as f:
                f.write("table ip seedlinear {\n  chain prerouting { type nat hook prerouting "
                        "priority dstnat; policy accept;\n" + rules + "  }\n}\n")
            lab.nft(lab.gw, "-f", path)
            probe(10000 + k - 1)
            samples.setdefault(f"linear_{k}_us", []).append(probe(10000 + k - 1))
            lab.nft(lab.gw, "delete", "table", "ip", "seedlinear")
    result = {key: statistics.median(v) for key, v in samples.items()}
    lab._stopProc("bench-server")
    return result


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{model}, {os.cpu_count()} cores, {mem:.0f} GiB, Linux {platform.release()}"


def report(rows, conn, n):
    out = [f"Run on {datetime.date.today().isoformat()}: {machine()}.", ""]
    if rows:
        out += ["### Apply latency (ms, median)", "",
                "Portico: from the client's call to the reply, as `porticoctl import` and the "
                "GUI send it (`ImportForwards`, the list in a sealed memfd; the client's own "
                "writing of the file included), rules live, state saved with fsync; into an "
                "empty table (as `nft -f` loads), and over N other forwards (every mark changes, "
                "so most elements are deleted and added). The same list as `ReplaceForwards`' "
                "aa{sv} on the bus, into an empty table, for comparison. The ratio is the first "
                "against `nft -f` of the map ruleset. The others: the tool's whole run, loading "
                "the same forwards into an empty namespace.", "",
                "| forwards | Portico into empty | Portico over N others | ReplaceForwards "
                "(aa{sv}) into empty | nft -f (map, same ruleset) | ratio | nft -f (one rule "
                "each) | iptables-restore | Portico add one | Portico remove one |",
                "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in rows:
            out.append(f"| {r['forwards']:,} | {r['into_empty_ms']:.1f} | {r['replace_ms']:.1f} | "
                       f"{r['bus_list_into_empty_ms']:.1f} | {r['nft_map_ms']:.1f} | "
                       f"{r['into_empty_ms'] / r['nft_map_ms']:.2f} | {r['nft_linear_ms']:.1f} | "
                       f"{r['iptables_restore_ms']:.1f} | {r['add_one_ms']:.2f} | "
                       f"{r['remove_one_ms']:.2f} |")
        out.append("")
    if conn:
        out += ["### New-connection latency (µs: TCP connect() from the WAN client, median of "
                "each round, median of 3 rounds)", "",
                f"| ruleset | 1 forward | {n:,} forwards (the last one) | ratio |",
                "|---|---:|---:|---:|",
                f"| Portico (maps) | {conn['portico_1_us']:.1f} | {conn[f'portico_{n}_us']:.1f} | "
                f"{conn[f'portico_{n}_us'] / conn['portico_1_us']:.2f} |",
                f"| one nft rule per forward | {conn['linear_1_us']:.1f} | "
                f"{conn[f'linear_{n}_us']:.1f} | {conn[f'linear_{n}_us'] / conn['linear_1_us']:.2f} |",
                ""]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="1,1000,10000,100000")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--connect-forwards", type=int, default=10000)
    ap.add_argument("--connect-count", type=int, default=2000)
    ap.add_argument("--skip-apply", action="store_true")
    ap.add_argument("--skip-connect", action="store_true")
    ap.add_argument("--write", metavar="FILE", help="replace the generated section of FILE")
    a = ap.parse_args()
    with labmod.Lab(activation=False) as lab, \
            tempfile.TemporaryDirectory(dir=lab.rundir) as work:
        os.chmod(work, 0o755)
        rows = [] if a.skip_apply else applyBench(
            lab, [int(s) for s in a.sizes.split(",")], a.reps, work)
        conn = None if a.skip_connect else connectBench(lab, a.connect_forwards,
                                                        a.connect_count, work)
    text = report(rows, conn, a.connect_forwards)
    print(text)
    if a.write:
        with open(a.write) as f:
            doc = f.read()
        head, rest = doc.split(MARK_BEGIN, 1)
        tail = rest.split(MARK_END, 1)[1]
        with open(a.write, "w") as f:
            f.write(f"{head}{MARK_BEGIN}\n{text}\n{MARK_END}{tail}")


if __name__ == "__main__":
    main()
