#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmarks of the live conntrack view (issue 4), in a throwaway lab, side by side with
`conntrack -L` in the same run:

  - the full table through WatchConnections and the client library (bench/conntrack_read) at
    100,000 and 1,000,000 entries, against `conntrack -L > /dev/null` on the same table;
  - events under load: NEW events counted on a socket with the default receive buffer and with
    the helper's 8 MiB while ct_fill makes new entries as fast as it can;
  - an overrun for real: the helper with a small event buffer under the same flood, a client
    following it, the resyncs it got and how long each took, and whether its view ended equal
    to the kernel's table;
  - the counter refresh (--parts refresh): the helper's CPU share while one stream is open on
    an idle table of 100,000 and 1,000,000 entries, the interval it chose and what each refresh
    cost, for a stream of everything and for one of one forward (a mark-filtered dump);
  - kills (--parts kill): `porticoctl kill --forward` of one forward's entries (1 in 7) and a
    kill whose filter matches nothing (it still reads every entry), against `conntrack -D` with
    the same filter on the same table, and the longest wait of another call to the helper
    while its kill runs.

The global net.netfilter.nf_conntrack_max is raised for the run (the table of 1M entries needs
it; it can only be set in the initial namespace) and put back afterwards, even on failure: the
one change outside the lab's namespaces. Prints Markdown; --write FILE replaces this
benchmark's section of docs/benchmarks.md. Needs root and a build (BUILD_DIR)."""

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(BENCH)
sys.path.insert(0, os.path.join(SOURCE, "tools"))
import lab as labmod  # noqa: E402

MARK_BEGIN = "<!-- bench/conntrack_bench.py: begin -->"
MARK_END = "<!-- bench/conntrack_bench.py: end -->"
REFRESH_BEGIN = "<!-- bench/conntrack_bench.py refresh: begin -->"
REFRESH_END = "<!-- bench/conntrack_bench.py refresh: end -->"
KILL_BEGIN = "<!-- bench/conntrack_bench.py kill: begin -->"
KILL_END = "<!-- bench/conntrack_bench.py kill: end -->"
CT_MAX = "/proc/sys/net/netfilter/nf_conntrack_max"
TIMER = ("import subprocess,sys,time\n"
         "t=time.perf_counter()\n"
         "p=subprocess.run(sys.argv[1:],stdin=subprocess.DEVNULL,stdout=subprocess.DEVNULL)\n"
         "print(f'{(time.perf_counter()-t)*1000:.1f}' if p.returncode==0 else 'FAIL')\n")


def timedMs(lab, ns, cmd, user=None):
    r = lab.run(ns, [labmod.PYTHON, "-c", TIMER, *cmd], user=user, timeout=900).stdout.strip()
    if r == "FAIL":
        raise labmod.LabError(f"{' '.join(cmd)} failed")
    return float(r)


def fill(lab, tool, n, start=0):
    t = time.perf_counter()
    lab.run(lab.gw, [tool, "--quiet", "--count", str(n), "--start", str(start), "--mark", "1",
                     "--mark-every", "7"], timeout=900)
    return time.perf_counter() - t


def ensurePolkit(lab):
    """polkitd has been seen to leave the bus during a long run on a busy machine: start it
    again (and say so) rather than lose the run."""
    if not lab.hasOwner(labmod.POLKIT_NAME):
        print("note: polkitd had left the bus; starting it again:\n" + lab.logTail("polkitd"),
              file=sys.stderr)
        lab._stopProc("polkitd")
        lab.startPolkit()


def readTable(lab, reader, follow=0):
    ensurePolkit(lab)
    cmd = [reader, "--bus", lab.busAddress]
    if follow:
        cmd += ["--follow", str(follow)]
    p = lab.run(None, cmd, user=labmod.ADMIN_USER, timeout=900)
    return json.loads(p.stdout.strip().splitlines()[-1])


def tableBench(lab, tools, sizes, reps):
    rows = []
    for n in sizes:
        lab.conntrack(lab.gw, "-F", check=False)
        fillS = fill(lab, tools["ct_fill"], n)
        count = int(lab.run(lab.gw, ["conntrack", "-C"]).stdout.strip())
        ours, theirs = [], []
        for _ in range(reps):
            # Alternated, so that neither gets the warmer cache.
            theirs.append(timedMs(lab, lab.gw, ["conntrack", "-L"]))
            ours.append(readTable(lab, tools["conntrack_read"]))
        ensurePolkit(lab)
        ctl = timedMs(lab, None, [lab.ctlPath, "--bus", lab.busAddress, "connections"],
                      user=labmod.ADMIN_USER)
        best = min(ours, key=lambda r: r["snapshot_ms"])
        rows.append({
            "entries": count, "fill_s": fillS,
            "first_ms": statistics.median(r["first_entries_ms"] for r in ours),
            "reply_ms": statistics.median(r["reply_ms"] for r in ours),
            "snapshot_ms": statistics.median(r["snapshot_ms"] for r in ours),
            "snapshot_entries": best["snapshot_entries"],
            "conntrack_L_ms": statistics.median(theirs),
            "porticoctl_ms": ctl,
        })
        assert best["snapshot_entries"] == count, (best, count)
    lab.conntrack(lab.gw, "-F", check=False)
    return rows


def killBench(lab, tools, sizes, reps):
    """Each kill on a table filled afresh (flushed, then ct_fill), ours and conntrack -D
    alternated; while ours runs, GetIpForwarding is called over and over from another
    connection, and its longest wait is kept."""
    import threading
    rows = []
    p = lab.ctl("add", "--name", "web", "--proto", "tcp", "--port", "80", "--to",
                "198.51.100.10:8080")
    assert p.returncode == 0, p.stderr
    mark = p.stdout.strip()[1:]  # the forward's id is "f" and its mark

    def refill(n):
        lab.conntrack(lab.gw, "-F", check=False)
        lab.run(lab.gw, [tools["ct_fill"], "--quiet", "--count", str(n), "--mark", mark,
                         "--mark-every", "7"], timeout=900)
        return int(lab.run(lab.gw, ["conntrack", "-C"]).stdout.strip())

    def timed(run, ok=(0,)):
        t = time.perf_counter()
        p = run()
        assert p.returncode in ok, p.stderr
        return (time.perf_counter() - t) * 1000, p

    def ours(args, expectGone):
        before = refill(n)
        ensurePolkit(lab)
        done = threading.Event()
        waits = []

        def caller():
            while not done.is_set():
                t = time.perf_counter()
                r = lab.busCall("GetIpForwarding")
                assert r["ok"], r
                waits.append((time.perf_counter() - t) * 1000)

        th = threading.Thread(target=caller)
        th.start()
        try:
            ms, p = timed(lambda: lab.ctl("kill", *args, timeout=900))
        finally:
            done.set()
            th.join()
        gone = before - int(lab.run(lab.gw, ["conntrack", "-C"]).stdout.strip())
        assert gone == expectGone and p.stdout.strip() == f"killed {gone} connections", \
            (p.stdout, gone, expectGone)
        return ms, max(waits)

    def theirs(args, expectGone):
        before = refill(n)
        # It prints every entry it deletes (to /dev/null here, as ours prints a count), and
        # exits 1 when it deleted none.
        ms, _ = timed(lambda: lab.run(lab.gw, ["sh", "-c", 'exec conntrack -D "$@" >/dev/null',
                                               "sh", *args], check=False), ok=(0, 1))
        gone = before - int(lab.run(lab.gw, ["conntrack", "-C"]).stdout.strip())
        assert gone == expectGone, (gone, expectGone)
        return ms

    for n in sizes:
        marked = (n + 6) // 7
        r = {"entries": n, "marked": marked}
        for key, mine, tool, gone in (("forward", ["--forward", "web"], ["-m", mark], marked),
                                      ("nothing", ["--proto", "icmp"], ["-p", "icmp"], 0)):
            o, t, w = [], [], []
            for _ in range(reps):
                t.append(theirs(tool, gone))
                ms, wait = ours(mine, gone)
                o.append(ms)
                w.append(wait)
            r[key] = {"ours": statistics.median(o), "theirs": statistics.median(t),
                      "wait": max(w)}
        rows.append(r)
    lab.conntrack(lab.gw, "-F", check=False)
    return rows


def killReport(rows):
    day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    out = [KILL_BEGIN, "", f"Measured {day} on {machine()} (cores shared with other work), by "
           "`bench/conntrack_bench.py --parts kill`: each kill on a table filled afresh "
           "(ct_fill, one entry in seven with the forward's mark), ours (`porticoctl kill`, as "
           "the lab's admin user, through the real helper) and `conntrack -D` alternated, "
           "median of the runs; the kernel's count before and after checked against what each "
           "said it killed.", "",
           "| entries | kill one forward (1 in 7): ours / `conntrack -D -m MARK` | ratio | "
           "filter that matches nothing: ours / `conntrack -D -p icmp` | ratio | longest wait "
           "of another call while ours runs |",
           "|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        f, z = r["forward"], r["nothing"]
        out.append(f"| {r['entries']:,} | {f['ours']:.0f} / {f['theirs']:.0f} ms | "
                   f"{f['ours'] / f['theirs']:.2f} | {z['ours']:.0f} / {z['theirs']:.0f} ms | "
                   f"{z['ours'] / z['theirs']:.2f} | {max(f['wait'], z['wait']):.1f} ms |")
    out += ["", "The other call is `GetIpForwarding` from a connection of its own, called over "
            "and over while the kill runs; before 2026-12-02 the kill ran on the helper's event "
            "loop, and such a call waited for most of it.", "", KILL_END]
    return "\n".join(out) + "\n"


def eventBench(lab, tools, flood):
    rows = []
    for label, buffer in (("default", 0), ("8 MiB (the helper's)", 8 << 20)):
        lab.conntrack(lab.gw, "-F", check=False)
        p = subprocess.Popen(["ip", "netns", "exec", lab.gw, tools["conntrack_events"],
                              "--buffer", str(buffer)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        assert "listening" in p.stderr.readline()
        t = time.perf_counter()
        fill(lab, tools["ct_fill"], flood)
        rate = flood / (time.perf_counter() - t)
        out, _ = p.communicate(timeout=120)
        r = json.loads(out)
        rows.append({"buffer": label, "bytes": r["buffer"], "rate": rate, "made": flood,
                     "seen": r["events"], "lost": flood - r["events"],
                     "overruns": r["overruns"]})
    lab.conntrack(lab.gw, "-F", check=False)
    return rows


def overrunBench(buildDir, tools, base, flood):
    """A lab whose helper has a small event buffer: the flood overruns it for real."""
    os.environ["PORTICO_CONNTRACK_EVENT_BUFFER"] = str(256 << 10)
    try:
        with labmod.Lab(buildDir) as lab:
            fill(lab, tools["ct_fill"], base)
            follower = subprocess.Popen(
                ["setpriv", f"--reuid={lab.admin.pw_uid}", f"--regid={lab.admin.pw_gid}",
                 "--init-groups", "--", tools["conntrack_read"], "--bus", lab.busAddress,
                 "--follow", "3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(2)  # its snapshot is in
            fill(lab, tools["ct_fill"], flood, start=base)
            out, err = follower.communicate(timeout=300)
            r = json.loads(out.strip().splitlines()[-1])
            r["kernel_entries"] = int(lab.run(lab.gw, ["conntrack", "-C"]).stdout.strip())
            r["overrun_lines"] = sum("overran" in line for line in
                                     lab.logTail("dbus-daemon", 100000).splitlines())
            return r
    finally:
        del os.environ["PORTICO_CONNTRACK_EVENT_BUFFER"]


def helperCpuS(pid):
    """(utime, stime) of a process, in seconds: its own code, and the kernel's on its behalf
    (a dump's messages are built in the recvmsg() that reads them)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


REFRESH_LINE = re.compile(r"counter refresh (\d+) took (\d+) ms of CPU; the next in (\d+) ms")


def refreshBench(buildDir, tools, sizes, window):
    """A lab whose helper logs its refreshes: per table size and filter, one stream open on an
    idle table (ct_fill's entries carry no traffic), the helper's CPU over `window` seconds
    from its first refresh (after the snapshot), and what its log says each refresh cost."""
    rows = []
    os.environ["QT_LOGGING_RULES"] = "portico.helper.conntrack.debug=true"
    try:
        with labmod.Lab(buildDir) as lab:
            lab.run(lab.gw, ["sysctl", "-q", "-w", "net.netfilter.nf_conntrack_acct=1"])
            fid = lab.ctl("add", "--name", "web", "--proto", "tcp", "--port", "80", "--to",
                          f"{labmod.LAN_SERVER4}:8080").stdout.strip()
            assert fid == "f1", fid  # ct_fill --mark 1 marks every 7th entry as its flow
            for n in sizes:
                lab.conntrack(lab.gw, "-F", check=False)
                fill(lab, tools["ct_fill"], n)
                count = int(lab.run(lab.gw, ["conntrack", "-C"]).stdout.strip())
                dumpMs = timedMs(lab, lab.gw, ["conntrack", "-L"])
                for label, extra in (("everything", []), ("one forward", ["--forward", fid])):
                    ensurePolkit(lab)
                    logBefore = len(lab.logTail("dbus-daemon", 1000000).splitlines())
                    follower = subprocess.Popen(
                        ["setpriv", f"--reuid={lab.admin.pw_uid}", f"--regid={lab.admin.pw_gid}",
                         "--init-groups", "--", tools["conntrack_read"], "--bus", lab.busAddress,
                         "--follow", str(window + 30), *extra],
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

                    def newLog():
                        return "\n".join(
                            lab.logTail("dbus-daemon", 1000000).splitlines()[logBefore:])

                    deadline = time.monotonic() + 120
                    while not REFRESH_LINE.search(newLog()) and time.monotonic() < deadline:
                        time.sleep(0.05)
                    assert REFRESH_LINE.search(newLog()), "no counter refresh within 120 s"
                    pid = lab.helperPid()
                    cpu0, t0 = helperCpuS(pid), time.monotonic()
                    time.sleep(window)
                    cpu1, t1 = helperCpuS(pid), time.monotonic()
                    refreshes = [tuple(int(x) for x in m) for m in REFRESH_LINE.findall(newLog())]
                    follower.kill()
                    follower.wait()
                    rows.append({"entries": count, "stream": label, "conntrack_L_ms": dumpMs,
                                 "share": (sum(cpu1) - sum(cpu0)) / (t1 - t0),
                                 "kernel": (cpu1[1] - cpu0[1]) / max(1e-9, sum(cpu1) - sum(cpu0)),
                                 "window_s": t1 - t0,
                                 "refreshes": len(refreshes),
                                 "cost_ms": statistics.median(r[1] for r in refreshes),
                                 "interval_ms": refreshes[-1][2]})
                    # The stream is gone before the next one opens.
                    deadline = time.monotonic() + 10
                    while "ended" not in newLog() and time.monotonic() < deadline:
                        time.sleep(0.1)
            lab.conntrack(lab.gw, "-F", check=False)
    finally:
        del os.environ["QT_LOGGING_RULES"]
    return rows


def refreshReport(rows, window):
    day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    out = [REFRESH_BEGIN, "", f"Measured {day} on {machine()} (cores shared with other work, so "
           "the CPU figures carry their noise), by `bench/conntrack_bench.py --parts refresh`: "
           "one stream open (`bench/conntrack_read --follow`) on an idle table, accounting on; "
           f"the helper's CPU time (user + system, /proc) over {window:.0f} s from its first "
           "refresh, and per refresh what its log says (`portico.helper.conntrack.debug`).", "",
           "| entries | stream | `conntrack -L > /dev/null` | CPU per refresh (median) | "
           "interval chosen | refreshes logged | helper's CPU share (in the kernel) |",
           "|---:|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        out.append(f"| {r['entries']:,} | {r['stream']} | {r['conntrack_L_ms']:.0f} ms | "
                   f"{r['cost_ms']:.0f} ms | {r['interval_ms'] / 1000:.1f} s | "
                   f"{r['refreshes']} | {r['share'] * 100:.1f}% of a core "
                   f"({r['kernel'] * 100:.0f}%) |")
    out += ["", "\"one forward\" is a stream filtered to one forward (1 in 7 entries): the "
            "refresh then asks the kernel for that mark only (CTA_MARK), and the kernel skips "
            "the other entries before building their messages.", "", REFRESH_END]
    return "\n".join(out) + "\n"


def writeSection(path, begin, end, text, heading):
    with open(path) as f:
        doc = f.read()
    if begin in doc:
        head, rest = doc.split(begin, 1)
        doc = head + text.rstrip("\n") + rest.split(end, 1)[1]
    else:
        doc = doc.rstrip("\n") + f"\n\n{heading}\n\n" + text
    with open(path, "w") as f:
        f.write(doc)


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Linux {platform.release()}"


def report(table, events, overrun):
    day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    out = [MARK_BEGIN, "", f"Measured {day} on {machine()} (cores shared with other work), by "
           "`bench/conntrack_bench.py`; the client is `bench/conntrack_read` (HelperClient and "
           "ConntrackStreamReader, keeping a set of ids), run as the lab's admin user, through "
           "the real helper on the lab's bus.", "",
           "| entries | first records | full table (ours) | `conntrack -L > /dev/null` | ratio |"
           " `porticoctl connections > /dev/null` | ct_fill |",
           "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in table:
        out.append(f"| {r['entries']:,} | {r['first_ms']:.0f} ms | {r['snapshot_ms']:.0f} ms | "
                   f"{r['conntrack_L_ms']:.0f} ms | "
                   f"{r['conntrack_L_ms'] / r['snapshot_ms']:.2f}x faster | "
                   f"{r['porticoctl_ms']:.0f} ms | {r['fill_s']:.1f} s "
                   f"({r['entries'] / r['fill_s']:,.0f}/s) |")
    out += ["", "The full table is timed from the WatchConnections call (polkit included) to the "
            "snapshot's End; \"first records\" is when the first Entries frame arrived. "
            "`porticoctl connections` also sorts and prints the table.", "",
            "Events under load (NEW events on one socket, read as fast as possible, while "
            "ct_fill inserts):", "",
            "| receive buffer | inserted | at | events seen | lost | overruns (ENOBUFS) |",
            "|---|---:|---:|---:|---:|---:|"]
    for r in events:
        out.append(f"| {r['buffer']} ({r['bytes']:,} bytes) | {r['made']:,} | "
                   f"{r['rate']:,.0f}/s | {r['seen']:,} | {r['lost']:,} | {r['overruns']} |")
    resync = overrun["resync_ms"]
    out += ["", "An overrun for real: the helper started with a 256 KiB event buffer "
            "(PORTICO_CONNTRACK_EVENT_BUFFER), a client following, and the same flood on top of "
            f"a table of {overrun['snapshot_entries']:,} entries: the helper's log has "
            f"{overrun['overrun_lines']} overrun lines (it logs the first ten and every "
            f"hundredth), the client got {overrun['resyncs']} new "
            f"snapshots (each from Begin to End: "
            f"{', '.join(f'{v:.0f}' for v in resync) or '-'} ms), and its view ended with "
            f"{overrun['final_entries']:,} entries against {overrun['kernel_entries']:,} in the "
            "kernel.", "", MARK_END]
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.environ.get("BUILD_DIR"))
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--flood", type=int, default=200000)
    ap.add_argument("--write", metavar="FILE")
    ap.add_argument("--parts", default="table,refresh,kill",
                    help="table (the full table, events and the overrun), refresh and/or kill")
    ap.add_argument("--refresh-window", type=float, default=60.0,
                    help="seconds of the helper's CPU time measured per refresh row")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    sizes = [int(s) for s in args.sizes.split(",")]
    buildDir = os.path.abspath(args.build_dir or os.path.join(SOURCE, "build"))
    tools = {name: labmod.findBinary(name, "PORTICO_" + name.upper(), buildDir)
             for name in ("ct_fill", "conntrack_read", "conntrack_events")}

    with open(CT_MAX) as f:
        before = f.read().strip()
    try:
        need = max(sizes + [args.flood]) + 100000
        if int(before) < need:
            with open(CT_MAX, "w") as f:
                f.write(str(need))
        text = refreshText = killText = None
        if "table" in parts:
            with labmod.Lab(buildDir) as lab:
                table = tableBench(lab, tools, sizes, args.reps)
                events = eventBench(lab, tools, args.flood)
            overrun = overrunBench(buildDir, tools, 50000, args.flood)
            text = report(table, events, overrun)
        if "refresh" in parts:
            refreshText = refreshReport(refreshBench(buildDir, tools, sizes, args.refresh_window),
                                        args.refresh_window)
        if "kill" in parts:
            with labmod.Lab(buildDir) as lab:
                killText = killReport(killBench(lab, tools, sizes, args.reps))
    finally:
        with open(CT_MAX, "w") as f:
            f.write(before)
    for t in (text, refreshText, killText):
        if t:
            print(t)
    if args.write and text:
        writeSection(args.write, MARK_BEGIN, MARK_END, text, "## Connections (issue 4)")
    if args.write and refreshText:
        writeSection(args.write, REFRESH_BEGIN, REFRESH_END, refreshText,
                     "### Live counters: the refresh")
    if args.write and killText:
        writeSection(args.write, KILL_BEGIN, KILL_END, killText, "### Kills")
    return 0


if __name__ == "__main__":
    sys.exit(main())
