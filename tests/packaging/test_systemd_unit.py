#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The helper inside its hardened systemd unit. The .deb goes into a clean Debian 12 root, which
then boots systemd as its PID 1, like a container: new PID, mount, network, UTS and IPC
namespaces, a private /dev with only the basic device nodes, and a cgroup of its own (one
directory in the host's controller-less name=systemd hierarchy, removed afterwards). There the
system bus activates the helper through SystemdService=portico-helper.service, and the test
checks that the unit's restrictions are in force (bounding set CAP_NET_ADMIN only, no new
privileges, a seccomp filter) and that the helper still does its work under them: a refused and
an allowed change, forwards.json written under ProtectSystem=strict, IP forwarding on, and
portico-restore.service applying the saved state.

  test_systemd_unit.py CACHE_DIR PACKAGE.deb"""

import contextlib
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import debroot  # noqa: E402

USER = "portico-tester"
CGROUP_ROOT = "/sys/fs/cgroup/systemd"
CAP_NET_ADMIN = 1 << 12

BOOT = r"""
set -e
r={root}
umount -R $r/dev $r/run $r/tmp
mount -t tmpfs -o mode=755 tmpfs $r/dev
for n in null zero full random urandom tty; do touch $r/dev/$n; mount --bind /dev/$n $r/dev/$n; done
mkdir $r/dev/pts $r/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts $r/dev/pts
ln -s pts/ptmx $r/dev/ptmx
mount -t proc proc $r/proc
mount -t sysfs -o ro sysfs $r/sys
mount -t tmpfs tmpfs $r/sys/fs/cgroup
mkdir $r/sys/fs/cgroup/systemd
echo $$ > {cgroup}/cgroup.procs
mount --bind {cgroup} $r/sys/fs/cgroup/systemd
exec chroot $r /usr/bin/env container=portico-test /lib/systemd/systemd
"""


def removeCgroup(path):
    """Removes the booted root's cgroup tree once its processes are gone (they die with the PID
    namespace, a moment after its init)."""
    for _ in range(100):
        if not os.path.isdir(path):
            return
        for top, dirs, _ in os.walk(path, topdown=False):
            for d in dirs:
                with contextlib.suppress(OSError):
                    os.rmdir(os.path.join(top, d))
        with contextlib.suppress(OSError):
            os.rmdir(path)
        time.sleep(0.1)
    print(f"could not remove the cgroup {path}")


def main():
    debroot.runPrivately()
    cacheDir, deb = sys.argv[1], os.path.abspath(sys.argv[2])
    if not os.path.isdir(CGROUP_ROOT):
        print(f"{CGROUP_ROOT} is missing: this test boots systemd on the name=systemd cgroup hierarchy")
        return 1
    for name in os.listdir(CGROUP_ROOT):  # leftovers of a run killed with -9
        m = re.fullmatch(r"portico-test-(\d+)", name)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            removeCgroup(os.path.join(CGROUP_ROOT, name))
    expect = debroot.Expect()
    started = time.monotonic()
    root = debroot.Root(cacheDir, "systemd")
    cgroup = os.path.join(CGROUP_ROOT, f"portico-test-{os.getpid()}")
    boot = None
    try:
        root.run(["useradd", "--system", "--no-create-home", "--shell", "/bin/sh", USER])
        root.run(["apt-get", "update", "-q"])
        shutil.copy(deb, root.p("tmp/portico.deb"))
        root.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "/tmp/portico.deb"])
        expect("systemd came with the package's dependencies", os.path.exists(root.p("lib/systemd/systemd")))
        expect("the package enabled portico-restore.service", os.path.lexists(
            root.p("etc/systemd/system/multi-user.target.wants/portico-restore.service")))
        os.remove(root.p("usr/sbin/policy-rc.d"))  # this root boots: its services may start
        os.makedirs(cgroup)
        debroot.log("booting systemd in the root")
        boot = subprocess.Popen(
            ["unshare", "--pid", "--fork", "--kill-child", "--mount", "--propagation", "private",
             "--net", "--uts", "--ipc", "sh", "-c", BOOT.format(root=root.path, cgroup=cgroup)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pid = None
        for _ in range(100):
            kids = subprocess.run(["pgrep", "-P", str(boot.pid)], capture_output=True,
                                  text=True).stdout.split()
            if kids:
                pid = kids[0]
                break
            time.sleep(0.1)
        if pid is None:
            expect("systemd starts", False)
            return expect.finish()

        def inside(*cmd, timeout=60):
            return subprocess.run(["nsenter", "-t", pid, "-a", "-r", "-w", *cmd],
                                  capture_output=True, text=True, timeout=timeout,
                                  env=debroot.ENV)

        state = ""
        for _ in range(120):
            state = inside("systemctl", "is-system-running").stdout.strip()
            if state in ("running", "degraded"):
                break
            time.sleep(0.5)
        expect(f"systemd boots the root ({state})", state in ("running", "degraded"),
               inside("systemctl", "--failed", "--no-pager").stdout)
        ctl = ["runuser", "-u", USER, "--", "porticoctl", "--no-ask-password"]
        p = inside(*ctl, "list")
        expect("an ordinary user's call activates the helper", p.returncode == 0, p.stdout + p.stderr)
        p = inside("systemctl", "show", "-p", "ActiveState", "-p", "MainPID", "portico-helper.service")
        props = dict(line.split("=", 1) for line in p.stdout.split())
        expect("the bus started it as portico-helper.service (SystemdService=)",
               props.get("ActiveState") == "active" and props.get("MainPID", "0") != "0", p.stdout)
        status = inside("cat", f"/proc/{props.get('MainPID', '0')}/status").stdout
        fields = dict(re.findall(r"^(\w+):\s*(.*)$", status, re.M))
        expect("it runs as root", fields.get("Uid", "").split()[:1] == ["0"], status)
        expect("its bounding set is CAP_NET_ADMIN alone",
               int(fields.get("CapBnd", "0"), 16) == CAP_NET_ADMIN, status)
        expect("no new privileges", fields.get("NoNewPrivs") == "1", status)
        expect("a seccomp filter (RestrictAddressFamilies, SystemCallArchitectures)",
               fields.get("Seccomp") == "2", status)

        p = inside(*ctl, "add", "--name", "web", "--port", "80", "--to", "198.51.100.10:8080")
        expect("without a polkit rule the change is refused (exit 3)", p.returncode == 3, p.stdout + p.stderr)
        expect("the bus and polkitd are systemd's services",
               inside("systemctl", "is-active", "dbus.service", "polkit.service").stdout.split()
               == ["active", "active"])
        with open(root.p("etc/polkit-1/rules.d/60-portico-test.rules"), "w") as f:
            f.write('polkit.addRule(function(action, subject) {\n'
                    f'    if (action.id.indexOf("io.github.portico.") == 0 && subject.user == "{USER}")\n'
                    '        return polkit.Result.YES;\n});\n')
        for _ in range(50):
            p = inside(*ctl, "add", "--name", "web", "--port", "80", "--to", "198.51.100.10:8080")
            if p.returncode != 3:
                break
            time.sleep(0.2)
        expect("with the rule the change is made inside the unit's sandbox", p.returncode == 0,
               p.stdout + p.stderr + inside("journalctl", "-u", "portico-helper", "--no-pager").stdout)
        p = inside(*ctl, "ip-forward", "on")
        expect("the helper turns IP forwarding on", p.returncode == 0 and
               inside("cat", "/proc/sys/net/ipv4/ip_forward").stdout.strip() == "1", p.stdout + p.stderr)
        expect("ProtectSystem=strict still lets it save /etc/portico/forwards.json",
               '"web"' in open(root.p("etc/portico/forwards.json")).read())
        expect("/etc/portico is its ConfigurationDirectory, mode 0700",
               oct(os.stat(root.p("etc/portico")).st_mode & 0o777) == "0o700")
        p = inside(*ctl, "ruleset")
        expect("its table is in the kernel", "198.51.100.10" in p.stdout, p.stdout + p.stderr)

        inside("systemctl", "stop", "portico-helper.service")
        p = inside("systemctl", "restart", "portico-restore.service")
        res = inside("systemctl", "show", "-p", "Result", "-p", "ActiveState", "portico-restore.service").stdout
        expect("portico-restore.service applies the saved state under its own restrictions",
               p.returncode == 0 and "Result=success" in res and "ActiveState=active" in res,
               res + p.stderr + inside("journalctl", "-u", "portico-restore", "--no-pager").stdout)
        failed = inside("systemctl", "--failed", "--no-legend", "--plain").stdout
        expect("no portico unit failed", "portico" not in failed, failed)
    finally:
        if boot is not None:
            boot.kill()
            boot.wait()
        removeCgroup(cgroup)
        root.close()
    debroot.log(f"took {time.monotonic() - started:.0f} s")
    return expect.finish()


if __name__ == "__main__":
    sys.exit(main())
