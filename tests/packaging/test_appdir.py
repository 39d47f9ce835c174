#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The AppDir in a clean Debian 12 root without Qt: packaging/appimage/build-appdir makes it from
the build dir; in the root, an ordinary user runs portico and porticoctl from it; the AppDir's
install-helper puts the helper on the "host" (the root, which gets a system bus and polkitd but
still no Qt); then porticoctl and the GUI (offscreen) from the AppDir reach that helper by D-Bus
activation, refused without a polkit rule and allowed with one; --uninstall takes it all away.

  test_appdir.py CACHE_DIR BUILD_DIR"""

import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import debroot  # noqa: E402

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
USER = "portico-tester"
APPDIR = "/opt/Portico.AppDir"
RULE = "etc/polkit-1/rules.d/60-portico-test.rules"
HELPER_FILES = ("usr/local/lib/portico-helper/portico-helper",
                "usr/local/share/dbus-1/system-services/io.github.portico.Helper1.service",
                "etc/dbus-1/system.d/io.github.portico.Helper1.conf",
                "usr/share/polkit-1/actions/io.github.portico.policy",
                "etc/systemd/system/portico-helper.service",
                "etc/systemd/system/portico-restore.service")


def hasQt(root):
    return any(n.startswith("libQt6") for d in ("usr/lib/x86_64-linux-gnu", "usr/local/lib")
               if os.path.isdir(root.p(d)) for n in os.listdir(root.p(d)))


def main():
    debroot.runPrivately()
    cacheDir, build = sys.argv[1], os.path.abspath(sys.argv[2])
    expect = debroot.Expect()
    started = time.monotonic()
    root = debroot.Root(cacheDir, "appdir")
    try:
        debroot.log("build-appdir")
        p = subprocess.run([os.path.join(SOURCE, "packaging/appimage/build-appdir"), build,
                            root.p(APPDIR)], text=True, capture_output=True)
        expect("build-appdir makes the AppDir", p.returncode == 0, p.stdout + p.stderr)
        if p.returncode:
            return expect.finish()
        for f in ("AppRun", "io.github.portico.desktop", "io.github.portico.svg", ".DirIcon",
                  "usr/bin/portico", "usr/bin/porticoctl", "usr/bin/qt.conf",
                  "usr/plugins/platforms/libqxcb.so", "usr/plugins/platforms/libqoffscreen.so",
                  "usr/plugins/imageformats/libqsvg.so", "usr/lib/libQt6Widgets.so.6",
                  "usr/share/portico/install-helper", "usr/share/portico/helper/portico-helper"):
            expect(f"the AppDir has {f}", os.path.lexists(root.p(f"{APPDIR}/{f}")))
        expect("the AppDir leaves glibc to the host",
               not os.path.exists(root.p(f"{APPDIR}/usr/lib/libc.so.6")))
        root.run(["useradd", "--system", "--no-create-home", "--shell", "/bin/sh", USER])
        expect("the clean root has no Qt", not hasQt(root))

        asUser = ["runuser", "-u", USER, "--", "env", "QT_QPA_PLATFORM=offscreen"]
        p = root.run(asUser + [f"{APPDIR}/AppRun", "--version"], check=False)
        expect("portico --version runs from the AppDir", p.returncode == 0 and "0." in p.stdout,
               p.stdout + p.stderr)
        p = root.run(asUser + [f"{APPDIR}/AppRun", "porticoctl", "--version"], check=False)
        expect("porticoctl --version runs from the AppDir", p.returncode == 0, p.stdout + p.stderr)
        p = root.run(["sh", "-c", f"for f in {APPDIR}/usr/bin/portico {APPDIR}/usr/bin/porticoctl "
                      f"{APPDIR}/usr/plugins/*/*.so; do ldd $f; done"], check=False)
        expect("every library the programs and plugins load is found", "not found" not in p.stdout,
               p.stdout)

        debroot.log("apt-get install dbus polkitd (the host's system bus and polkit; no Qt)")
        root.run(["apt-get", "update", "-q"])
        root.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "dbus", "polkitd"])
        expect("the root still has no Qt", not hasQt(root))
        p = root.run([f"{APPDIR}/AppRun", "install-helper"], check=False, input="")
        expect("install-helper does nothing without a terminal or --yes",
               p.returncode != 0 and not os.path.exists(root.p(HELPER_FILES[0])), p.stdout + p.stderr)
        p = root.run([f"{APPDIR}/AppRun", "install-helper", "--yes"], check=False)
        expect("install-helper explains what it copies", "/usr/share/polkit-1/actions" in p.stdout
               and "pkexec" in p.stdout, p.stdout)
        expect("install-helper --yes installs the helper's files", p.returncode == 0
               and all(os.path.exists(root.p(f)) for f in HELPER_FILES), p.stdout + p.stderr)

        run = f"runuser -u {USER} -- env QT_QPA_PLATFORM=offscreen {APPDIR}/AppRun"
        script = debroot.DAEMONS + f"""
check list {run} porticoctl --no-ask-password list
echo "CHECK helper-uid 0"; echo "  | $(helperUid /usr/local/lib/portico-helper/portico-helper)"
check refused {run} porticoctl --no-ask-password add --name web --port 80 --to 198.51.100.10:8080
mkdir -p /etc/polkit-1/rules.d
cat > /{RULE} <<'RULE'
polkit.addRule(function(action, subject) {{
    if (action.id.indexOf("io.github.portico.") == 0 && subject.user == "{USER}")
        return polkit.Result.YES;
}});
RULE
n=0; until {run} porticoctl --no-ask-password ip-forward on >/dev/null 2>&1; do n=$((n+1)); [ $n -lt 50 ] || break; sleep 0.2; done
check allowed {run} porticoctl --no-ask-password add --name web --port 80 --to 198.51.100.10:8080
check gui sh -c 'PORTICO_STARTUP_PROBE=1 timeout 60 {run}'
rm -f /{RULE}
"""
        p = root.isolated(script)
        c = debroot.checks(p.stdout)
        detail = p.stdout[-4000:] + p.stderr[-2000:]
        get = lambda k: c.get(k, (None, ""))  # noqa: E731
        expect("porticoctl from the AppDir activates the installed helper", get("list")[0] == 0, detail)
        expect("the bus started that helper as root", get("helper-uid")[1].strip() == "0", detail)
        expect("without a polkit rule the change is refused (exit 3)", get("refused")[0] == 3, detail)
        expect("with the rule it is made", get("allowed")[0] == 0, detail)
        expect("the GUI from the AppDir starts offscreen and loads the forwards from the helper",
               get("gui")[0] == 0 and "loaded 1" in get("gui")[1], get("gui")[1])

        p = root.run([f"{APPDIR}/AppRun", "install-helper", "--uninstall", "--yes"], check=False)
        expect("install-helper --uninstall removes the helper's files", p.returncode == 0
               and not any(os.path.lexists(root.p(f)) for f in HELPER_FILES)
               and not os.path.exists(root.p("usr/local/lib/portico-helper")), p.stdout + p.stderr)
        expect("and keeps the saved forwards", os.path.exists(root.p("etc/portico/forwards.json")))
    finally:
        root.close()
    debroot.log(f"took {time.monotonic() - started:.0f} s")
    return expect.finish()


if __name__ == "__main__":
    sys.exit(main())
