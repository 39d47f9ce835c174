#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Clean Debian 12 roots for the packaging tests: one minbase root made by debootstrap and cached
under the build dir, and for each test a throwaway overlay on top of it, so the cached root is
never changed. The tests run in a private mount namespace of their own (runPrivately), so every
mount they make disappears with them, even after kill -9; programs that must not touch the
host's network or processes run in new network and PID namespaces too (Root.isolated)."""

import contextlib
import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import time

SUITE = "bookworm"
ENV = {
    "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "HOME": "/root",
    "DEBIAN_FRONTEND": "noninteractive",
}
# Not part of what a package leaves behind: caches, logs, the package manager's own records.
BOOKKEEPING = ("var/cache/", "var/lib/apt/", "var/lib/dpkg/", "var/log/", "var/lib/polkit-1/",
               "tmp/", "run/", "proc/", "sys/", "dev/", "root/")


class Failure(Exception):
    pass


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def mirrors():
    """The Debian and security mirrors this machine's apt uses (so the root matches the host)."""
    main, security = "http://deb.debian.org/debian", "http://deb.debian.org/debian-security"
    texts = []
    for path in ["/etc/apt/sources.list"] + sorted(
            os.path.join("/etc/apt/sources.list.d", f) for f in os.listdir("/etc/apt/sources.list.d")
            if f.endswith((".list", ".sources"))):
        with contextlib.suppress(OSError):
            texts.append(open(path).read())
    for text in texts:
        for uri in re.findall(r"(?:URIs:|^deb)\s+(?:\[[^]]*\]\s+)?(\S+)", text, re.M):
            if uri.rstrip("/").endswith("debian-security"):
                security = uri.rstrip("/")
            elif uri.rstrip("/").endswith("/debian"):
                main = uri.rstrip("/")
    return main, security


def runPrivately():
    """Re-executes this script in a private mount namespace (once)."""
    if os.geteuid() != 0:
        raise SystemExit("this test needs root: it runs debootstrap, chroot and namespaces")
    if os.environ.get("PORTICO_PRIVATE_MOUNTS") != "1":
        env = dict(os.environ, PORTICO_PRIVATE_MOUNTS="1")
        os.execvpe("unshare", ["unshare", "--mount", "--propagation", "private", sys.executable]
                   + sys.argv, env)


def sh(cmd, check=True, **kw):
    p = subprocess.run(cmd, text=True, capture_output=True, **kw)
    if check and p.returncode != 0:
        raise Failure(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stdout}{p.stderr}")
    return p


def ensureBase(cacheDir):
    """The cached minbase root: made once (about 1.5 minutes), reused by every later run."""
    os.makedirs(cacheDir, exist_ok=True)
    base = os.path.join(cacheDir, f"{SUITE}-minbase")
    with open(os.path.join(cacheDir, "lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(os.path.join(base, ".portico-base-complete")):
            return base
        main, security = mirrors()
        tmp = base + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(base, ignore_errors=True)
        log(f"debootstrap --variant=minbase {SUITE} from {main} (cached for later runs)")
        started = time.monotonic()
        sh(["debootstrap", "--variant=minbase", SUITE, tmp, main])
        with open(os.path.join(tmp, "etc/apt/sources.list"), "w") as f:
            f.write(f"deb {main} {SUITE} main\ndeb {main} {SUITE}-updates main\n"
                    f"deb {security} {SUITE}-security main\n")
        # As in any build chroot: packages must not start daemons here (dbus's init script would).
        with open(os.path.join(tmp, "usr/sbin/policy-rc.d"), "w") as f:
            f.write("#!/bin/sh\nexit 101\n")
        os.chmod(os.path.join(tmp, "usr/sbin/policy-rc.d"), 0o755)
        sh(["chroot", tmp, "apt-get", "clean"], env=ENV)
        open(os.path.join(tmp, ".portico-base-complete"), "w").close()
        os.rename(tmp, base)
        log(f"base root made in {time.monotonic() - started:.0f} s")
        return base


def removeStale(cacheDir):
    """Overlays of runs whose process is gone (kill -9)."""
    for name in os.listdir(cacheDir):
        m = re.fullmatch(r"run-(\d+)-\w+", name)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            shutil.rmtree(os.path.join(cacheDir, name), ignore_errors=True)


class Root:
    """A throwaway copy-on-write root over the cached base."""

    def __init__(self, cacheDir, name):
        base = ensureBase(cacheDir)
        removeStale(cacheDir)
        self.dir = os.path.join(cacheDir, f"run-{os.getpid()}-{name}")
        shutil.rmtree(self.dir, ignore_errors=True)
        for d in ("upper", "work", "root"):
            os.makedirs(os.path.join(self.dir, d))
        self.path = os.path.join(self.dir, "root")
        sh(["mount", "-t", "overlay", "overlay", "-o",
            f"lowerdir={base},upperdir={self.dir}/upper,workdir={self.dir}/work", self.path])
        sh(["mount", "--rbind", "/dev", self.p("dev")])
        sh(["mount", "-t", "tmpfs", "tmpfs", self.p("run")])
        sh(["mount", "-t", "tmpfs", "tmpfs", self.p("tmp")])
        shutil.copy("/etc/resolv.conf", self.p("etc/resolv.conf"))

    def p(self, rel):
        return os.path.join(self.path, rel.lstrip("/"))

    def close(self):
        sh(["umount", "-R", self.path], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    def run(self, cmd, check=True, input=None, timeout=600):
        """A command in the root, as root, in the host's network (for apt) but nothing else: in new
        PID and mount namespaces with a /proc of their own. With the host's processes in its
        /proc, a maintainer script stops more than the root's daemons: polkitd's postinst runs
        `start-stop-daemon --stop --exec /usr/lib/polkit-1/polkitd`, which matched (and killed)
        every polkitd on the machine, the host's and other test runs' alike."""
        p = subprocess.run(["unshare", "--pid", "--fork", "--kill-child", "--mount",
                            "--propagation", "private", "chroot", self.path, "/bin/sh", "-c",
                            'mount -t proc proc /proc && exec "$@"', "sh"] + cmd,
                           text=True, capture_output=True, env=ENV, input=input, timeout=timeout)
        if check and p.returncode != 0:
            raise Failure(f"in the root: {' '.join(cmd)} failed ({p.returncode}):\n"
                          f"{p.stdout}{p.stderr}")
        return p

    def isolated(self, script, timeout=300):
        """A shell script in the root, in new PID, network and mount namespaces: daemons it starts
        see only the root, reach no network and die with it."""
        with open(self.p("tmp/portico-isolated.sh"), "w") as f:
            f.write(script)
        return subprocess.run(["unshare", "--pid", "--fork", "--kill-child", "--net", "--mount",
                               "--propagation", "private", "chroot", self.path, "/bin/sh", "-e",
                               "/tmp/portico-isolated.sh"],
                              text=True, capture_output=True, env=ENV, timeout=timeout)

    def files(self):
        """Every path in the root except bookkeeping, as a set of relative paths."""
        out = set()
        for top, dirs, names in os.walk(self.path):
            rel = os.path.relpath(top, self.path)
            rel = "" if rel == "." else rel + "/"
            dirs[:] = [d for d in dirs if not (rel + d + "/").startswith(BOOKKEEPING)]
            for n in names + dirs:
                if not (rel + n).startswith(BOOKKEEPING):
                    out.add(rel + n)
        return out


def hostProcessesAreOutOfReach(root):
    """Whether `start-stop-daemon --stop --exec X` run in the root (as polkitd's postinst does)
    spares a host process running a program of the same path. The program is a copy of sleep
    under a name of this run's own, so that a failure kills nothing but this sentinel.
    Returns (ok, detail) for Expect."""
    name = f"/tmp/portico-sentinel-{os.getpid()}"
    shutil.copy("/bin/sleep", name)
    shutil.copy("/bin/sleep", root.p(name))
    sentinel = subprocess.Popen([name, "300"])
    try:
        p = root.run(["start-stop-daemon", "--stop", "--oknodo", "--exec", name], check=False)
        time.sleep(0.3)
        alive = sentinel.poll() is None
        return alive, f"the host's {name} was stopped from the root: {p.stdout}{p.stderr}"
    finally:
        sentinel.kill()
        sentinel.wait()
        os.unlink(name)
        os.unlink(root.p(name))


# The start of a script for Root.isolated: the root's own /proc and /run, a system bus as Debian
# starts it (classic activation through dbus-daemon-launch-helper: no systemd runs here) and the
# real polkitd, which drops to its own user.
DAEMONS = r"""
mount -t proc proc /proc
mount -t tmpfs tmpfs /run
mkdir -p /run/dbus
dbus-daemon --system --fork
n=0; until [ -S /run/dbus/system_bus_socket ]; do n=$((n+1)); [ $n -lt 100 ] || { echo "no system bus"; exit 1; }; sleep 0.1; done
/usr/lib/polkit-1/polkitd --no-debug >/tmp/polkitd.log 2>&1 &
hasOwner() { dbus-send --system --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner "string:$1" 2>/dev/null | grep -q 'boolean true'; }
n=0; until hasOwner org.freedesktop.PolicyKit1; do n=$((n+1)); [ $n -lt 100 ] || { echo "polkitd did not start"; cat /tmp/polkitd.log; exit 1; }; sleep 0.1; done
# check NAME COMMAND...: runs it, prints "CHECK NAME RC" and its output.
check() { name=$1; shift; set +e; out=$("$@" 2>&1); rc=$?; set -e; echo "CHECK $name $rc"; printf '%s\n' "$out" | sed 's/^/  | /'; }
helperUid() { for d in /proc/[0-9]*; do if [ "$(readlink $d/exe 2>/dev/null)" = "$1" ]; then awk '/^Uid:/ {print $2}' $d/status; return; fi; done; echo none; }
"""


def checks(output):
    """{name: (rc, text)} from the CHECK lines of an isolated script."""
    out, name = {}, None
    for line in output.splitlines():
        m = re.fullmatch(r"CHECK (\S+) (\d+)", line)
        if m:
            name = m.group(1)
            out[name] = [int(m.group(2)), ""]
        elif name and line.startswith("  | "):
            out[name][1] += line[4:] + "\n"
    return {k: tuple(v) for k, v in out.items()}


class Expect:
    def __init__(self):
        self.failed = []

    def __call__(self, what, ok, detail=""):
        log(f"{'ok  ' if ok else 'FAIL'} {what}")
        if not ok:
            self.failed.append(what)
            if detail:
                print("     " + detail.strip().replace("\n", "\n     "), flush=True)

    def finish(self):
        if self.failed:
            print(f"{len(self.failed)} failed:", *self.failed, sep="\n  ", flush=True)
            return 1
        return 0
