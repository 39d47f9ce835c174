#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The network-namespace lab: a WAN client, a gateway running the real helper on a private
dbus-daemon with a real polkitd, and LAN servers, all in namespaces made and removed by this run.
Importable (tests/lab/conftest.py) and a CLI: `lab.py up|demo|selftest|cleanup`."""

import argparse
import atexit
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import time

TOOLS = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(TOOLS)
sys.dont_write_bytecode = True  # the lab runs from the source tree
sys.path.insert(0, TOOLS)
import lab_bus  # noqa: E402

PYTHON = "/usr/bin/python3"
RUN_ROOT = "/run/portico-lab"
NS_PATTERN = re.compile(r"^ptc(\d+)-")
ADMIN_USER = "portico-admin"  # allowed by the lab's polkit rule
PLAIN_USER = "portico-user"  # no rule: polkit says no
POLKIT_NAME = "org.freedesktop.PolicyKit1"
HELPER_NAME = lab_bus.SERVICE

# The addresses of DESIGN.md's lab; documentation ranges only.
WAN_GW4, WAN_GW6 = "203.0.113.1", "2001:db8:1::1"
WAN_CLIENT4, WAN_OTHER4 = "203.0.113.10", "203.0.113.11"
WAN_CLIENT6, WAN_OTHER6 = "2001:db8:1::10", "2001:db8:1::11"
LAN_GW4, LAN_GW6 = "198.51.100.1", "2001:db8:2::1"
LAN_SERVER4, LAN_SERVER6 = "198.51.100.10", "2001:db8:2::10"
LAN2_CLIENT4, LAN2_CLIENT6 = "198.51.100.20", "2001:db8:2::20"


class LabError(Exception):
    pass


def sh(cmd, check=True, timeout=60, env=None, input=None):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                           input=input, stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise LabError(f"timed out after {timeout}s: {' '.join(cmd)}") from e
    if check and p.returncode != 0:
        raise LabError(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stdout}{p.stderr}")
    return p


def pidAlive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            # A zombie nobody reaps (a killed run whose parent is gone) is dead for our purposes.
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def findBinary(name, envVar, buildDir):
    path = os.environ.get(envVar)
    if path:
        if not os.access(path, os.X_OK):
            raise LabError(f"{envVar}={path} is not an executable file")
        return path
    # The build's own binary, never a copy: after the packaging tests the build dir also holds
    # CPack's staged package (_CPack_Packages) and the packaging roots, with older builds of
    # the same programs, which os.walk may reach first.
    found = []
    for root, dirs, files in os.walk(buildDir):
        dirs[:] = [d for d in dirs if not d.startswith((".", "_")) and
                   not d.endswith("_autogen") and d not in ("packaging-root", "packaging-deb")]
        if name in files and os.access(os.path.join(root, name), os.X_OK):
            found.append(os.path.join(root, name))
    if found:
        return min(found, key=lambda p: (p.count(os.sep), p))
    raise LabError(f"{name} not found under {buildDir}: build it first (cmake --build "
                   f"{buildDir} --target {name}), or point {envVar} at it")


def killNamespace(ns):
    """Ends every process still in namespace ns and deletes it."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = sh(["ip", "netns", "pids", ns], check=False).stdout.split()
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(int(pid), sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and sh(["ip", "netns", "pids", ns], check=False).stdout.split():
            time.sleep(0.05)
    sh(["ip", "netns", "delete", ns], check=False)


def cleanupDeadRuns(verbose=True):
    """Removes namespaces and run dirs of lab runs whose owner process is gone."""
    removed = []
    for line in sh(["ip", "netns", "list"]).stdout.splitlines():
        ns = line.split()[0] if line.split() else ""
        m = NS_PATTERN.match(ns)
        if m and not pidAlive(int(m.group(1))):
            killNamespace(ns)
            removed.append(ns)
    if os.path.isdir(RUN_ROOT):
        for d in os.listdir(RUN_ROOT):
            m = re.match(r"^ptc(\d+)$", d)
            if m and not pidAlive(int(m.group(1))):
                shutil.rmtree(os.path.join(RUN_ROOT, d), ignore_errors=True)
                removed.append(os.path.join(RUN_ROOT, d))
    if verbose:
        print("removed: " + (", ".join(removed) if removed else "nothing"))
    return removed


def ensureUser(name):
    try:
        return pwd.getpwnam(name)
    except KeyError:
        sh(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name])
        return pwd.getpwnam(name)


class Lab:
    def __init__(self, buildDir=None, sourceDir=SOURCE, activation=True, requireProduct=True):
        self.buildDir = os.path.abspath(buildDir or os.environ.get("BUILD_DIR") or
                                        os.path.join(sourceDir, "build"))
        self.sourceDir = sourceDir
        self.activation = activation
        # False only for `lab.py selftest`, which proves the lab before the product is built.
        self.requireProduct = requireProduct
        self.standIns = []
        self.pid = os.getpid()
        self.prefix = f"ptc{self.pid}-"
        self.ns = {role: self.prefix + role for role in ("wan", "gw", "lan", "lan2")}
        self.wan, self.gw, self.lan, self.lan2 = (self.ns[r] for r in ("wan", "gw", "lan", "lan2"))
        self.rundir = os.path.join(RUN_ROOT, f"ptc{self.pid}")
        self.busAddress = f"unix:path={self.rundir}/bus"
        self.stateDir = os.path.join(self.rundir, "state")
        self.procs = {}
        self.madeNamespaces = []
        self.closed = False
        self._bus = None
        self._freshCount = 0

    # --- life cycle -------------------------------------------------------------------------

    def start(self):
        if os.geteuid() != 0:
            raise LabError("the lab needs root (network namespaces, nftables, polkitd)")
        for tool in ("ip", "nft", "conntrack", "curl", "dbus-daemon", "setpriv", "unshare",
                     "/usr/lib/polkit-1/polkitd"):
            if not shutil.which(tool):
                raise LabError(f"{tool} is missing: run tools/install-deps")
        self.busPolicy = os.path.join(self.sourceDir, "packaging/dbus/io.github.portico.Helper1.conf")
        self.polkitPolicy = os.path.join(self.sourceDir, "packaging/polkit/io.github.portico.policy")
        try:
            self.helperPath = findBinary("portico-helper", "PORTICO_HELPER", self.buildDir)
            self.ctlPath = findBinary("porticoctl", "PORTICOCTL", self.buildDir)
        except LabError:
            if self.requireProduct:
                raise
            self.helperPath = self.ctlPath = "/nonexistent"
            self.standIns.append("portico-helper and porticoctl (not built)")
        for f in (self.busPolicy, self.polkitPolicy):
            if not os.path.isfile(f) and self.requireProduct:
                raise LabError(f"{f} is missing: the lab tests the project's real packaging files")
        atexit.register(self.close)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            try:
                # As Ctrl-C: pytest stops the session and runs its teardown, `with` blocks unwind.
                signal.signal(sig, signal.default_int_handler)
            except ValueError:
                pass  # not the main thread; atexit still cleans up
        cleanupDeadRuns(verbose=False)
        try:
            os.makedirs(self.rundir, mode=0o755)
            os.chmod(self.rundir, 0o755)
            os.makedirs(self.stateDir, mode=0o700)
            self._standInPackaging()
            self.admin = ensureUser(ADMIN_USER)
            self.user = ensureUser(PLAIN_USER)
            self._topology()
            self._servers()
            self._startBus()
            self.startPolkit()
            if not self.activation:
                self.startHelper()
        except BaseException:
            self.close()
            raise
        return self

    def _standInPackaging(self):
        if not os.path.isfile(self.busPolicy):
            self.busPolicy = os.path.join(self.rundir, "stand-in-bus-policy.conf")
            with open(self.busPolicy, "w") as f:
                f.write('<busconfig><policy user="root"><allow own="io.github.portico.Helper1"/>'
                        '</policy></busconfig>\n')
            self.standIns.append("the bus policy")
        if not os.path.isfile(self.polkitPolicy):
            self.polkitPolicy = os.path.join(self.rundir, "io.github.portico.policy")
            with open(self.polkitPolicy, "w") as f:
                f.write(STAND_IN_ACTIONS)
            self.standIns.append("the polkit actions")

    def close(self):
        if self.closed:
            return
        self.closed = True
        self._bus = None
        for name in reversed(list(self.procs)):
            self._stopProc(name)
        for ns in reversed(self.madeNamespaces):
            killNamespace(ns)
        shutil.rmtree(self.rundir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    def _stopProc(self, name, timeout=5):
        p = self.procs.pop(name, None)
        if p is None or p.poll() is not None:
            return
        p.terminate()
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)

    def _spawn(self, name, cmd, env=None):
        logf = open(os.path.join(self.rundir, f"{name}.log"), "ab")
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                             env=env, start_new_session=True)
        logf.close()
        self.procs[name] = p
        return p

    def logTail(self, name, lines=30):
        try:
            with open(os.path.join(self.rundir, f"{name}.log"), errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def _waitFor(self, what, predicate, timeout=15, proc=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            if proc is not None and self.procs.get(proc) and self.procs[proc].poll() is not None:
                raise LabError(f"{proc} exited while waiting for {what}:\n{self.logTail(proc)}")
            time.sleep(0.05)
        raise LabError(f"timed out waiting for {what}" +
                       (f":\n{self.logTail(proc)}" if proc else ""))

    # --- topology ---------------------------------------------------------------------------

    def _addNamespace(self, ns):
        sh(["ip", "netns", "add", ns])
        self.madeNamespaces.append(ns)
        self.run(ns, ["ip", "link", "set", "lo", "up"])
        # Addresses must be usable at once: no duplicate address detection anywhere.
        for key in ("net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0",
                    "net.ipv6.conf.all.disable_ipv6=0", "net.ipv6.conf.default.disable_ipv6=0"):
            self.run(ns, ["sysctl", "-q", "-w", key])

    def _topology(self):
        for ns in self.ns.values():
            self._addNamespace(ns)
        gw = self.gw
        # A new namespace may inherit forwarding from the host; the helper must turn it on.
        self.setForwarding(gw, False, False)
        # Like a plain router: LAN-to-LAN frames on br0 are bridged, not seen by netfilter. With
        # br_netfilter on (the host may have loaded it, for Docker say), conntrack would undo
        # the DNAT on the bridged reply and hairpin would work without the forward's flag.
        if self.run(gw, ["test", "-e", "/proc/sys/net/bridge"], check=False).returncode == 0:
            self.run(gw, ["sysctl", "-q", "-w", "net.bridge.bridge-nf-call-iptables=0",
                          "net.bridge.bridge-nf-call-ip6tables=0",
                          "net.bridge.bridge-nf-call-arptables=0"])
        ipgw = ["ip", "-n", gw]
        sh(ipgw + ["link", "add", "wan0", "type", "veth", "peer", "name", "eth0", "netns", self.wan])
        sh(ipgw + ["link", "add", "br0", "type", "bridge", "forward_delay", "0", "stp_state", "0"])
        for port, ns in (("lan0", self.lan), ("lan1", self.lan2)):
            sh(ipgw + ["link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns])
            sh(ipgw + ["link", "set", port, "master", "br0", "up"])
        for link in ("wan0", "br0"):
            sh(ipgw + ["link", "set", link, "up"])
        sh(ipgw + ["addr", "add", f"{WAN_GW4}/24", "dev", "wan0"])
        sh(ipgw + ["addr", "add", f"{WAN_GW6}/64", "dev", "wan0", "nodad"])
        sh(ipgw + ["addr", "add", f"{LAN_GW4}/24", "dev", "br0"])
        sh(ipgw + ["addr", "add", f"{LAN_GW6}/64", "dev", "br0", "nodad"])
        hosts = (
            (self.wan, [WAN_CLIENT4, WAN_OTHER4], [WAN_CLIENT6, WAN_OTHER6], WAN_GW4, WAN_GW6),
            (self.lan, [LAN_SERVER4], [LAN_SERVER6], LAN_GW4, LAN_GW6),
            (self.lan2, [LAN2_CLIENT4], [LAN2_CLIENT6], LAN_GW4, LAN_GW6),
        )
        for ns, v4s, v6s, gw4, gw6 in hosts:
            ip = ["ip", "-n", ns]
            sh(ip + ["link", "set", "eth0", "up"])
            for a in v4s:
                sh(ip + ["addr", "add", f"{a}/24", "dev", "eth0"])
            for a in v6s:
                sh(ip + ["addr", "add", f"{a}/64", "dev", "eth0", "nodad"])
            sh(ip + ["route", "add", "default", "via", gw4])
            sh(ip + ["-6", "route", "add", "default", "via", gw6])

    def _servers(self):
        servers = (
            ("lan-server", self.lan, ["8080", "8000-8010", "9000-9010"], ["8080", "8000-8010", "9000-9010"]),
            ("lan2-server", self.lan2, ["8080"], ["9000"]),
            ("gw-server", self.gw, ["1234"], ["1234"]),
        )
        for name, ns, httpPorts, udpPorts in servers:
            ready = os.path.join(self.rundir, f"{name}.ready")
            self._spawn(name, ["ip", "netns", "exec", ns, PYTHON, os.path.join(TOOLS, "lab_servers.py"),
                               "serve", "--name", name, "--http", *httpPorts, "--udp", *udpPorts,
                               "--ready", ready])
        for name, *_ in servers:
            ready = os.path.join(self.rundir, f"{name}.ready")
            self._waitFor(f"{name} to listen", lambda: os.path.exists(ready), proc=name)

    # --- the bus, polkitd and the helper ----------------------------------------------------

    def _startBus(self):
        services = os.path.join(self.rundir, "services")
        os.makedirs(services)
        if self.activation:
            with open(os.path.join(services, f"{HELPER_NAME}.service"), "w") as f:
                f.write("[D-BUS Service]\n"
                        f"Name={HELPER_NAME}\n"
                        f"Exec={self.helperPath} --bus {self.busAddress} --state-dir {self.stateDir}\n"
                        "User=root\n")
        conf = os.path.join(self.rundir, "bus.conf")
        with open(conf, "w") as f:
            f.write(BUS_CONFIG.format(rundir=self.rundir, services=services,
                                      helperPolicy=self.busPolicy))
        self._spawn("dbus-daemon", ["ip", "netns", "exec", self.gw, "dbus-daemon", "--nofork",
                                    "--nopidfile", f"--config-file={conf}"])
        self._waitFor("dbus-daemon", lambda: os.path.exists(os.path.join(self.rundir, "bus")),
                      proc="dbus-daemon")

    def bus(self):
        """A root connection to the lab bus (cached)."""
        if self._bus is None:
            self._bus = lab_bus.connect(self.busAddress)
        return self._bus

    def hasOwner(self, name):
        return bool(self.bus().name_has_owner(name))

    def startPolkit(self):
        pk = os.path.join(self.rundir, "polkit")
        dirs = {d: os.path.join(pk, d) for d in ("actions", "etc-rules", "share-rules")}
        if not os.path.isdir(pk):
            for d in dirs.values():
                os.makedirs(d)
            for f in os.listdir("/usr/share/polkit-1/actions"):
                shutil.copy(os.path.join("/usr/share/polkit-1/actions", f), dirs["actions"])
            shutil.copy(self.polkitPolicy, dirs["actions"])
            if os.path.exists("/usr/share/polkit-1/rules.d/50-default.rules"):
                shutil.copy("/usr/share/polkit-1/rules.d/50-default.rules", dirs["share-rules"])
            with open(os.path.join(dirs["etc-rules"], "50-portico-lab.rules"), "w") as f:
                f.write(POLKIT_RULE)
            for d in (dirs["etc-rules"], dirs["share-rules"]):
                os.chown(d, pwd.getpwnam("polkitd").pw_uid, 0)
                os.chmod(d, 0o700)
            with open(os.path.join(pk, "start.sh"), "w") as f:
                f.write("set -e\n"
                        f"mount --bind {dirs['actions']} /usr/share/polkit-1/actions\n"
                        f"mount --bind {dirs['etc-rules']} /etc/polkit-1/rules.d\n"
                        f"mount --bind {dirs['share-rules']} /usr/share/polkit-1/rules.d\n"
                        "exec /usr/lib/polkit-1/polkitd --no-debug\n")
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.busAddress)
        # A private mount namespace: polkitd sees our action and rule files, the host keeps its own.
        self._spawn("polkitd", ["ip", "netns", "exec", self.gw, "unshare", "--mount",
                                "--propagation", "private", "/bin/sh", os.path.join(pk, "start.sh")],
                    env=env)
        self._waitFor("polkitd on the bus", lambda: self.hasOwner(POLKIT_NAME), proc="polkitd")

    def stopPolkit(self):
        self._stopProc("polkitd")
        self._waitFor("polkitd to leave the bus", lambda: not self.hasOwner(POLKIT_NAME))

    def helperPid(self):
        if not self.hasOwner(HELPER_NAME):
            return None
        return int(self.bus().call_blocking("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                            "org.freedesktop.DBus", "GetConnectionUnixProcessID",
                                            "s", [HELPER_NAME]))

    def startHelper(self):
        if self.activation:
            self.bus().call_blocking("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                     "org.freedesktop.DBus", "StartServiceByName", "su",
                                     [HELPER_NAME, 0], timeout=30)
        else:
            self._spawn("helper", ["ip", "netns", "exec", self.gw, self.helperPath, "--bus",
                                   self.busAddress, "--state-dir", self.stateDir])
        self._waitFor("the helper on the bus", lambda: self.hasOwner(HELPER_NAME), timeout=30)

    def ensureHelper(self):
        """With activation the next call starts the helper; without, start it here."""
        if not self.activation and not self.hasOwner(HELPER_NAME):
            self.startHelper()

    def stopHelper(self):
        pid = self.helperPid()
        if pid is None:
            return
        if "helper" in self.procs:
            self._stopProc("helper")  # our own child: reap it too
        else:
            os.kill(pid, signal.SIGTERM)
            self._waitFor("the helper to exit", lambda: not pidAlive(pid), timeout=10)
        self._waitFor("the helper to leave the bus", lambda: not self.hasOwner(HELPER_NAME))

    # --- running things ---------------------------------------------------------------------

    def run(self, ns, cmd, check=True, timeout=60, user=None, env=None):
        """Runs cmd in namespace ns (None: the lab's own), as root or as a lab user."""
        if user is not None:
            pw = pwd.getpwnam(user)
            cmd = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--init-groups",
                   "--"] + cmd
            env = dict(env or {}, PATH="/usr/sbin:/usr/bin:/sbin:/bin", HOME="/",
                       LANG="C.UTF-8", USER=user, LOGNAME=user)
        if ns is not None:
            cmd = ["ip", "netns", "exec", ns] + cmd
        return sh(cmd, check=check, timeout=timeout, env=env)

    def nft(self, ns, *args, check=True):
        return self.run(ns, ["nft", *args], check=check).stdout

    def conntrack(self, ns, *args, check=True):
        # conntrack prints its summary line on stderr; callers want the entries.
        return self.run(ns, ["conntrack", *args], check=check).stdout

    def sysctl(self, ns, key):
        return self.run(ns, ["cat", "/proc/sys/" + key.replace(".", "/")]).stdout.strip()

    def setForwarding(self, ns, v4, v6):
        self.run(ns, ["sysctl", "-q", "-w", f"net.ipv4.ip_forward={int(v4)}",
                      f"net.ipv6.conf.all.forwarding={int(v6)}"])

    def forwarding(self, ns=None):
        ns = ns or self.gw
        return (self.sysctl(ns, "net.ipv4.ip_forward") == "1",
                self.sysctl(ns, "net.ipv6.conf.all.forwarding") == "1")

    def ctl(self, *args, user=ADMIN_USER, check=False, timeout=60):
        """porticoctl on the lab bus, as a lab user (default: the one polkit allows)."""
        return self.run(None, [self.ctlPath, "--bus", self.busAddress, *args], user=user,
                        check=check, timeout=timeout)

    def busCall(self, method, args=(), user=None, signature=None, timeout=60):
        """A raw call to the helper: as root in-process, or as a lab user in a child process."""
        if user is None:
            return lab_bus.call(self.bus(), method, list(args), signature, timeout=timeout)
        cmd = [PYTHON, os.path.join(TOOLS, "lab_bus.py"), "--bus", self.busAddress, "call", method,
               json.dumps(list(args))]
        if signature is not None:
            cmd += ["--signature", signature]
        return json.loads(self.run(None, cmd, user=user, timeout=timeout).stdout)

    def http_get(self, ns, url, source=None, timeout=5):
        """The body, or None when the connection fails (refused or timed out)."""
        cmd = ["curl", "-sS", "-g", "--max-time", str(timeout), "--connect-timeout", str(timeout)]
        if source:
            cmd += ["--interface", source]
        p = self.run(ns, cmd + [url], check=False, timeout=timeout + 10)
        return p.stdout if p.returncode == 0 else None

    def udp_echo(self, ns, addr, port, payload, source=None, timeout=1.0, tries=3):
        """The reply, or None after `tries` unanswered datagrams."""
        cmd = [PYTHON, os.path.join(TOOLS, "lab_servers.py"), "udp", addr, str(port), payload,
               "--timeout", str(timeout), "--tries", str(tries)]
        if source:
            cmd += ["--source", source]
        p = self.run(ns, cmd, check=False, timeout=timeout * tries + 10)
        return p.stdout if p.returncode == 0 else None

    def userFile(self, name, text):
        """A file the lab users can read (pytest's tmp_path is root's alone)."""
        d = os.path.join(self.rundir, "files")
        os.makedirs(d, mode=0o755, exist_ok=True)
        path = os.path.join(d, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
        return path

    def freshGateway(self):
        """An empty namespace standing in for the gateway after a reboot."""
        self._freshCount += 1
        ns = f"{self.prefix}gwfresh{self._freshCount}"
        self._addNamespace(ns)
        self.setForwarding(ns, False, False)
        return ns

    def restore(self, ns, check=False):
        return self.run(ns, [self.helperPath, "--restore", "--state-dir", self.stateDir],
                        check=check, timeout=60)

    def resetForwards(self, force=False):
        """Back to an empty forward set through the helper itself (as root); `force` applies even
        an empty set, so the kernel matches the state after a restart."""
        r = self.busCall("ListForwards")
        if not r["ok"]:
            raise LabError(f"ListForwards failed: {r}")
        forwards, generation = r["result"]
        if forwards or force:
            r = self.busCall("ReplaceForwards", [[], generation])
            if not r["ok"]:
                raise LabError(f"ReplaceForwards([]) failed: {r}")


BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<!-- Written by tools/lab.py: the system bus policy of Debian's system.conf, on a private socket,
     with the project's own policy for the helper included as it will be installed. -->
<busconfig>
  <type>system</type>
  <listen>unix:path={rundir}/bus</listen>
  <auth>EXTERNAL</auth>
  <!-- Debian's system bus allows 32 MiB messages; the benchmark's ReplaceForwards of 100,000
       forwards is larger, so the lab allows 128 MiB. -->
  <limit name="max_message_size">134217728</limit>
  <servicedir>{services}</servicedir>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"
          send_member="UpdateActivationEnvironment"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Debug.Stats"/>
    <deny send_destination="org.freedesktop.DBus"
          send_interface="org.freedesktop.systemd1.Activator"/>
  </policy>
  <policy user="root">
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>
  <!-- as /usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf -->
  <policy user="polkitd">
    <allow own="org.freedesktop.PolicyKit1"/>
    <allow send_interface="org.freedesktop.PolicyKit1.AuthenticationAgent"/>
  </policy>
  <policy context="default">
    <allow send_destination="org.freedesktop.PolicyKit1"/>
  </policy>
  <include>{helperPolicy}</include>
</busconfig>
"""

STAND_IN_ACTIONS = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE policyconfig PUBLIC "-//freedesktop//DTD PolicyKit Policy Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/PolicyKit/1/policyconfig.dtd">
<policyconfig>
  <action id="io.github.portico.manage">
    <description>stand-in</description><message>stand-in</message>
    <defaults><allow_any>auth_admin</allow_any><allow_inactive>auth_admin</allow_inactive>
    <allow_active>auth_admin_keep</allow_active></defaults>
  </action>
</policyconfig>
"""

POLKIT_RULE = """// Written by tools/lab.py: only the lab's admin user may manage and monitor forwards.
polkit.addRule(function(action, subject) {
    if ((action.id == "io.github.portico.manage" || action.id == "io.github.portico.monitor") &&
        subject.user == "portico-admin") {
        return polkit.Result.YES;
    }
});
"""


# --- CLI ------------------------------------------------------------------------------------


def say(msg=""):
    print(msg, flush=True)


def checkAuthorization(lab, user, action):
    """Asks the lab's polkitd directly about a bus name owned by `user`: proves the lab's polkit."""
    probe = subprocess.Popen(
        ["setpriv", f"--reuid={pwd.getpwnam(user).pw_uid}", f"--regid={pwd.getpwnam(user).pw_gid}",
         "--init-groups", "--", PYTHON, "-c",
         "import dbus,sys,time; b=dbus.bus.BusConnection(sys.argv[1]); print(b.get_unique_name(),"
         " flush=True); time.sleep(30)", lab.busAddress],
        stdout=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        name = probe.stdout.readline().strip()
        import dbus
        subject = dbus.Struct(("system-bus-name", dbus.Dictionary({"name": dbus.String(name)},
                                                                   signature="sv")))
        result = lab.bus().call_blocking(
            POLKIT_NAME, "/org/freedesktop/PolicyKit1/Authority", "org.freedesktop.PolicyKit1.Authority",
            "CheckAuthorization", "(sa{sv})sa{ss}us",
            [subject, action, dbus.Dictionary({}, signature="ss"), 0, ""], timeout=30)
        return bool(result[0])
    finally:
        probe.kill()
        probe.wait()


def selftest(lab):
    """Proves the lab by itself: routing, servers, the bus and polkitd's answers."""
    failures = []

    def expect(what, ok):
        say(f"  {'ok  ' if ok else 'FAIL'} {what}")
        if not ok:
            failures.append(what)

    body = lab.http_get(lab.wan, f"http://{WAN_GW4}:1234/", source=WAN_OTHER4)
    expect(f"wan -> gw http: {body!r}", body is not None and f"client={WAN_OTHER4}" in body)
    body = lab.http_get(lab.wan, f"http://[{WAN_GW6}]:1234/", source=WAN_CLIENT6)
    expect(f"wan -> gw http over IPv6: {body!r}", body is not None and f"client={WAN_CLIENT6}" in body)
    body = lab.http_get(lab.gw, f"http://{LAN_SERVER4}:8080/")
    expect(f"gw -> lan http: {body!r}", body is not None and "lan-server" in body and LAN_GW4 in body)
    body = lab.http_get(lab.gw, f"http://[{LAN_SERVER6}]:8080/")
    expect(f"gw -> lan http over IPv6: {body!r}", body is not None and LAN_GW6 in body)
    reply = lab.udp_echo(lab.lan2, LAN_SERVER4, 9000, "hello")
    expect(f"lan2 -> lan udp: {reply!r}", reply is not None and LAN2_CLIENT4 in reply and "hello" in reply)
    body = lab.http_get(lab.wan, f"http://{LAN_SERVER4}:8080/")
    expect("wan cannot reach lan while ip_forward is off", body is None)
    expect("ip_forward is off in gw", lab.forwarding() == (False, False))
    expect("polkitd runs as polkitd", sh(["ps", "-o", "user=", "-p", str(lab.procs["polkitd"].pid)]).stdout.strip() == "polkitd")
    expect("polkit allows portico-admin", checkAuthorization(lab, ADMIN_USER, "io.github.portico.manage"))
    expect("polkit refuses portico-user", not checkAuthorization(lab, PLAIN_USER, "io.github.portico.manage"))
    expect("the host's rules dir is untouched", not os.path.exists("/etc/polkit-1/rules.d/50-portico-lab.rules"))
    return failures


def demo(lab):
    def show(title, text):
        say(f"\n== {title}")
        say(text.rstrip())

    def ctl(*args):
        p = lab.ctl(*args)
        show(f"porticoctl {' '.join(args)}   (as {ADMIN_USER}, exit {p.returncode})", p.stdout + p.stderr)
        if p.returncode != 0:
            raise LabError(f"porticoctl {' '.join(args)} failed")
        return p

    say(f"lab {lab.prefix}*: wan {WAN_CLIENT4} -- gw {WAN_GW4} | {LAN_GW4} -- lan {LAN_SERVER4}")
    say(f"bus {lab.busAddress}; helper {lab.helperPath} (D-Bus activated inside gw)")
    def forwarding():
        v4, v6 = lab.forwarding()
        return f"IPv4 {'on' if v4 else 'off'}, IPv6 {'on' if v6 else 'off'}"

    show("IP forwarding in gw before", forwarding())
    ctl("add", "--name", "web", "--proto", "tcp+udp", "--port", "80", "--to", f"{LAN_SERVER4}:8080",
        "--comment", "demo forward")
    ctl("list")
    show("IP forwarding in gw after", forwarding())
    body = lab.http_get(lab.wan, f"http://{WAN_GW4}/", source=WAN_CLIENT4)
    show(f"curl http://{WAN_GW4}/ from wan", str(body))
    reply = lab.udp_echo(lab.wan, WAN_GW4, 80, "ping over udp", source=WAN_CLIENT4)
    show(f"udp to {WAN_GW4}:80 from wan", str(reply))
    show("conntrack -L in gw", lab.conntrack(lab.gw, "-L"))
    ctl("counters")
    show("nft list table inet portico in gw", lab.nft(lab.gw, "list", "table", "inet", "portico"))
    ctl("remove", "web")
    if body is None or reply is None:
        raise LabError("traffic did not cross the forward")
    say("\ndemo done: cleaning up the lab")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build-dir", default=None, help="default: $BUILD_DIR or ./build")
    parser.add_argument("--no-activation", action="store_true",
                        help="start the helper directly instead of by D-Bus activation")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start the lab and keep it until Ctrl-C")
    sub.add_parser("demo", help="add a forward as portico-admin and show traffic crossing it")
    sub.add_parser("selftest", help="prove the lab itself works")
    sub.add_parser("cleanup", help="remove leftovers of lab runs whose process is gone")
    args = parser.parse_args()
    if args.command == "cleanup":
        cleanupDeadRuns()
        return 0
    try:
        with Lab(args.build_dir, activation=not args.no_activation,
                 requireProduct=args.command != "selftest") as lab:
            if lab.standIns:
                say("note: stand-ins used for " + ", ".join(lab.standIns))
            if args.command == "up":
                say(json.dumps({"namespaces": lab.ns, "bus": lab.busAddress,
                                "state_dir": lab.stateDir, "rundir": lab.rundir}, indent=2))
                say(f"try: {lab.ctlPath} --bus {lab.busAddress} list   (Ctrl-C ends the lab)")
                signal.pause()
            elif args.command == "selftest":
                failures = selftest(lab)
                say("selftest: " + ("FAILED: " + "; ".join(failures) if failures else "all ok"))
                return 1 if failures else 0
            else:
                demo(lab)
    except LabError as e:
        print(f"lab: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
