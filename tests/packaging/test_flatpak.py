#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Flatpak, built and run for real. The official KDE runtime cannot be fetched here, so a
runtime is made from Debian 12's own packages (Qt 6.4 and the tools to build with it) in a clean
debootstrapped root, exported into a local OSTree repo and installed into a private Flatpak
installation under the cache dir (FLATPAK_USER_DIR: the machine's own installations are not
touched). flatpak-builder builds packaging/flatpak/io.github.portico.Portico.yml against it with
only the runtime swapped. Then, against the lab's bus, helper and polkitd, the sandboxed app (as
an ordinary user, offscreen) loads the forwards from the host helper through Flatpak's bus proxy;
a call from inside the sandbox is refused for portico-user and allowed for portico-admin; and
the sandbox cannot reach any other system bus name.

  test_flatpak.py CACHE_DIR BUILD_DIR"""

import hashlib
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SOURCE, "tools"))
import debroot  # noqa: E402

APP = "io.github.portico.Portico"
RUNTIME = "org.portico.DebianQt6"
BRANCH = "12"
# What the SDK needs to build the GUI, and what the platform needs to run it (a runtime made
# this way serves as both). dbus-bin gives the test dbus-send inside the sandbox.
PACKAGES = ["cmake", "ninja-build", "g++", "pkg-config", "qt6-base-dev", "qt6-base-dev-tools",
            "qt6-tools-dev", "qt6-tools-dev-tools", "qt6-l10n-tools", "qt6-svg-dev", "dbus-bin",
            # flatpak-builder's own tools, as in the KDE SDK: appstream-compose (flatpak-builder
            # 1.2) for the app's AppStream data, with gdk-pixbuf's SVG loader for the icon.
            "appstream-util", "librsvg2-common"]
MANIFEST = os.path.join(SOURCE, "packaging/flatpak", f"{APP}.yml")
HELPER = ("io.github.portico.Helper1", "/io/github/portico/Helper1")


def sh(cmd, env=None, check=True, timeout=1800):
    p = subprocess.run(cmd, text=True, capture_output=True, env=env, timeout=timeout)
    if check and p.returncode != 0:
        raise debroot.Failure(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stdout[-3000:]}"
                              f"{p.stderr[-3000:]}")
    return p


def ensureRuntime(cacheDir, flatpakEnv):
    """The Debian runtime, exported and installed once, reused by later runs."""
    key = hashlib.sha256(" ".join(PACKAGES).encode()).hexdigest()[:12]
    stamp = os.path.join(cacheDir, "flatpak", f"runtime-{BRANCH}-{key}.installed")
    repo = os.path.join(cacheDir, "flatpak", "repo")
    if os.path.exists(stamp):
        return
    build = os.path.join(cacheDir, "flatpak", "runtime-build")
    started = time.monotonic()
    if not os.path.exists(os.path.join(build, ".complete")):
        shutil.rmtree(os.path.join(cacheDir, "flatpak"), ignore_errors=True)
        os.makedirs(repo)
        debroot.log(f"runtime {RUNTIME}//{BRANCH} from Debian's packages: " + " ".join(PACKAGES))
        root = debroot.Root(cacheDir, "flatpak-runtime")
        try:
            root.run(["apt-get", "update", "-q"])
            root.run(["apt-get", "install", "-y", "-q", "--no-install-recommends"] + PACKAGES)
            root.run(["apt-get", "clean"])
            os.makedirs(build)
            # A runtime is the root's /usr, with its /etc inside as usr/etc.
            sh(["cp", "-a", root.p("usr"), os.path.join(build, "usr")])
            sh(["cp", "-a", root.p("etc"), os.path.join(build, "usr", "etc")])
            for d in ("share/doc", "share/man", "share/info"):  # nobody reads them in a sandbox
                shutil.rmtree(os.path.join(build, "usr", d), ignore_errors=True)
            with open(os.path.join(build, "metadata"), "w") as f:
                f.write(f"[Runtime]\nname={RUNTIME}\nruntime={RUNTIME}/x86_64/{BRANCH}\n"
                        f"sdk={RUNTIME}/x86_64/{BRANCH}\n")
            open(os.path.join(build, ".complete"), "w").close()
        finally:
            root.close()
    shutil.rmtree(repo, ignore_errors=True)
    os.makedirs(repo)
    sh(["flatpak", "build-export", "--runtime", "--files=usr", repo, build, BRANCH], env=flatpakEnv)
    shutil.rmtree(build)
    sh(["flatpak", "--user", "remote-add", "--no-gpg-verify", "--if-not-exists", "portico-local",
        repo], env=flatpakEnv)
    sh(["flatpak", "--user", "install", "-y", "--noninteractive", "--reinstall", "portico-local",
        f"{RUNTIME}//{BRANCH}"], env=flatpakEnv)
    open(stamp, "w").close()
    debroot.log(f"runtime made and installed in {time.monotonic() - started:.0f} s")


def localManifest(buildDir):
    """The manifest as it is, but for the runtime and the source path (absolute)."""
    with open(MANIFEST) as f:
        m = yaml.safe_load(f)
    m["runtime"] = m["sdk"] = RUNTIME
    m["runtime-version"] = BRANCH
    for mod in m["modules"]:
        for s in mod.get("sources", []):
            if s.get("type") == "dir":
                s["path"] = os.path.normpath(os.path.join(os.path.dirname(MANIFEST), s["path"]))
                # The source tree may hold the build dir (CI: build/); never copy it.
                s.setdefault("skip", []).append(os.path.relpath(buildDir, s["path"]))
    out = os.path.join(buildDir, "flatpak", f"{APP}.local.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(m, f, indent=2)
    return out, m


def main():
    if os.geteuid() != 0:
        raise SystemExit("this test needs root")
    debroot.runPrivately()
    import lab as labmod  # after the re-exec: the lab's namespaces and users

    cacheDir, buildDir = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    expect = debroot.Expect()
    started = time.monotonic()
    userDir = os.path.join(cacheDir, "flatpak-installation")
    env = dict(debroot.ENV, FLATPAK_USER_DIR=userDir)
    os.makedirs(userDir, exist_ok=True)
    ensureRuntime(cacheDir, env)

    manifest, m = localManifest(buildDir)
    expect("the manifest keeps its sandbox: only the display and the helper's bus name",
           set(m["finish-args"]) <= {"--socket=wayland", "--socket=fallback-x11", "--share=ipc",
                                     "--system-talk-name=io.github.portico.Helper1"})
    debroot.log("flatpak-builder (the GUI alone, PORTICO_GUI_ONLY)")
    t = time.monotonic()
    p = sh(["flatpak-builder", "--user", "--force-clean", "--disable-rofiles-fuse", "--install",
            "--state-dir", os.path.join(buildDir, "flatpak", "state"),
            os.path.join(buildDir, "flatpak", "app"), manifest], env=env, check=False)
    expect(f"flatpak-builder builds and installs {APP} ({time.monotonic() - t:.0f} s)",
           p.returncode == 0, p.stdout[-4000:] + p.stderr[-3000:])
    if p.returncode:
        return expect.finish()
    info = sh(["flatpak", "--user", "info", "--show-metadata", APP], env=env).stdout
    expect("the installed app's metadata allows the helper's name and no other",
           "io.github.portico.Helper1=talk" in info and "filesystems" not in info
           and "devices" not in info, info)
    files = sh(["flatpak", "--user", "info", "--show-location", APP], env=env).stdout.strip()
    for rel in ("files/bin/portico", f"export/share/applications/{APP}.desktop",
                f"export/share/icons/hicolor/scalable/apps/{APP}.svg"):
        expect(f"the app exports {rel}", os.path.exists(os.path.join(files, rel)))
    expect("the app has no helper and no porticoctl",
           not os.path.exists(os.path.join(files, "files/bin/porticoctl"))
           and not os.path.exists(os.path.join(files, "files/libexec/portico-helper")))

    lab = labmod.Lab(buildDir)
    tmp = tempfile.mkdtemp(prefix="portico-flatpak-")
    os.chmod(tmp, 0o755)  # the users' homes and runtime dirs are inside
    try:
        lab.start()

        def sandboxed(user, *args, command=None, appEnv=()):
            pw = pwd.getpwnam(user)
            home = os.path.join(tmp, user)
            runtimeDir = os.path.join(tmp, user + "-run")
            for d in (home, runtimeDir):
                os.makedirs(d, mode=0o700, exist_ok=True)
                os.chown(d, pw.pw_uid, pw.pw_gid)
            runEnv = dict(env, HOME=home, XDG_RUNTIME_DIR=runtimeDir, USER=user, LOGNAME=user,
                          DBUS_SYSTEM_BUS_ADDRESS=lab.busAddress)
            cmd = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--init-groups",
                   "--", "flatpak", "run", "--env=QT_QPA_PLATFORM=offscreen"]
            cmd += [f"--env={e}" for e in appEnv]
            if command:
                cmd.append(f"--command={command}")
            return sh(cmd + [APP, *args], env=runEnv, check=False, timeout=120)

        def dbusSend(user, dest, path, method, *args):
            return sandboxed(user, "--system", "--print-reply", f"--dest={dest}", path, method,
                             *args, command="dbus-send")

        p = sandboxed(labmod.PLAIN_USER, "--version")
        expect("the sandboxed app runs (portico --version)", p.returncode == 0 and "0." in p.stdout,
               p.stdout + p.stderr)
        p = sandboxed(labmod.PLAIN_USER, appEnv=["PORTICO_STARTUP_PROBE=1"])
        expect("the sandboxed GUI loads the forwards from the host helper through the proxy",
               p.returncode == 0 and "loaded 1" in p.stdout, p.stdout + p.stderr)
        set_ = f"{HELPER[0]}.SetIpForwarding"
        p = dbusSend(labmod.PLAIN_USER, HELPER[0], HELPER[1], set_, "boolean:true", "boolean:false")
        expect("from the sandbox, portico-user's change is refused by polkit",
               p.returncode != 0 and "NotAuthorized" in p.stderr, p.stdout + p.stderr)
        expect("and nothing changed", lab.forwarding() == (False, False))
        p = dbusSend(labmod.ADMIN_USER, HELPER[0], HELPER[1], set_, "boolean:true", "boolean:false")
        expect("from the sandbox, portico-admin's change is allowed", p.returncode == 0,
               p.stdout + p.stderr)
        expect("and IPv4 forwarding is on in the lab's gateway", lab.forwarding() == (True, False))
        p = dbusSend(labmod.ADMIN_USER, HELPER[0], HELPER[1], "org.freedesktop.DBus.Peer.Ping")
        expect("from the sandbox, the helper answers a Ping", p.returncode == 0, p.stdout + p.stderr)
        p = dbusSend(labmod.ADMIN_USER, "org.freedesktop.PolicyKit1",
                     "/org/freedesktop/PolicyKit1/Authority", "org.freedesktop.DBus.Peer.Ping")
        expect("but polkit, on the same bus, is hidden from the sandbox by Flatpak's proxy",
               p.returncode != 0 and "org.freedesktop.DBus.Error." in p.stderr
               and lab.hasOwner("org.freedesktop.PolicyKit1"), p.stdout + p.stderr)
    except labmod.LabError as e:
        expect(f"the lab starts: {e}", False)
    finally:
        lab.close()
        shutil.rmtree(tmp, ignore_errors=True)
    debroot.log(f"took {time.monotonic() - started:.0f} s")
    return expect.finish()


if __name__ == "__main__":
    sys.exit(main())
