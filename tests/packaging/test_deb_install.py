#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The .deb in a clean Debian 12 root: apt installs it with its dependencies; a system bus and
polkitd start there (new PID, network and mount namespaces: nothing reaches the host); an
ordinary user's calls activate the helper through the installed D-Bus service file and are
refused without a polkit rule and allowed with one; then remove keeps only the configuration
and purge leaves nothing of Portico (the dependencies apt brought stay: they are not ours).

  test_deb_install.py CACHE_DIR PACKAGE.deb"""

import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import debroot  # noqa: E402

USER = "portico-tester"
RULE = "etc/polkit-1/rules.d/60-portico-test.rules"


def main():
    debroot.runPrivately()
    cacheDir, deb = sys.argv[1], os.path.abspath(sys.argv[2])
    expect = debroot.Expect()
    started = time.monotonic()
    root = debroot.Root(cacheDir, "deb")
    try:
        root.run(["useradd", "--system", "--no-create-home", "--shell", "/bin/sh", USER])
        expect("a maintainer script in the root cannot stop the host's daemons",
               *debroot.hostProcessesAreOutOfReach(root))
        before = root.files()
        debroot.log("apt-get update; apt-get install ./portico.deb")
        root.run(["apt-get", "update", "-q"])
        shutil.copy(deb, root.p("tmp/portico.deb"))
        p = root.run(["apt-get", "install", "-y", "-q", "--no-install-recommends",
                      "/tmp/portico.deb"], check=False)
        expect("apt installs the package and its dependencies", p.returncode == 0,
               p.stdout[-3000:] + p.stderr)
        if p.returncode:
            return expect.finish()
        expect("Qt came in as a dependency", root.run(["dpkg", "-s", "libqt6widgets6"],
                                                      check=False).returncode == 0)
        owned = root.run(["dpkg", "-L", "portico"]).stdout.split()
        installed = root.files()
        ownedFiles = [f for f in owned if not os.path.isdir(root.p(f))]
        for f in ("/usr/libexec/portico-helper", "/usr/bin/portico", "/usr/bin/porticoctl",
                  "/usr/share/dbus-1/system-services/io.github.portico.Helper1.service",
                  "/usr/share/polkit-1/actions/io.github.portico.policy",
                  "/usr/share/man/man8/portico-helper.8.gz"):
            expect(f"the package installs {f}", f in owned)
        p = root.run(["porticoctl", "--version"], check=False)
        expect("porticoctl --version runs", p.returncode == 0 and "0." in p.stdout, p.stdout + p.stderr)
        p = root.run(["env", "QT_QPA_PLATFORM=offscreen", "portico", "--version"], check=False)
        expect("portico --version runs (offscreen)", p.returncode == 0, p.stdout + p.stderr)

        script = debroot.DAEMONS + f"""
check list runuser -u {USER} -- porticoctl --no-ask-password list
echo "CHECK helper-uid 0"; echo "  | $(helperUid /usr/libexec/portico-helper)"
check refused runuser -u {USER} -- porticoctl --no-ask-password add --name web --port 80 --to 198.51.100.10:8080
check state-after-refusal sh -c 'cat /etc/portico/forwards.json 2>/dev/null || echo no-state'
mkdir -p /etc/polkit-1/rules.d
cat > /{RULE} <<'RULE'
polkit.addRule(function(action, subject) {{
    if (action.id.indexOf("io.github.portico.") == 0 && subject.user == "{USER}")
        return polkit.Result.YES;
}});
RULE
# polkitd rereads its rules when the directory changes; wait until it answers yes.
n=0; until runuser -u {USER} -- porticoctl --no-ask-password ip-forward on >/dev/null 2>&1; do n=$((n+1)); [ $n -lt 50 ] || break; sleep 0.2; done
check allowed runuser -u {USER} -- porticoctl --no-ask-password add --name web --port 80 --to 198.51.100.10:8080
check listed runuser -u {USER} -- porticoctl --no-ask-password list
check ruleset runuser -u {USER} -- porticoctl --no-ask-password ruleset
check state cat /etc/portico/forwards.json
rm -f /{RULE}
"""
        p = root.isolated(script)
        c = debroot.checks(p.stdout)
        detail = p.stdout[-4000:] + p.stderr[-2000:]
        expect("the system bus and polkitd start in the root", p.returncode == 0 and "list" in c,
               detail)
        get = lambda k: c.get(k, (None, ""))  # noqa: E731
        expect("an ordinary user's call activates the installed helper", get("list")[0] == 0, detail)
        expect("the bus started the helper as root", get("helper-uid")[1].strip() == "0", detail)
        expect("without a polkit rule the change is refused (exit 3)", get("refused")[0] == 3, detail)
        expect("the refusal says so", "not authorized" in get("refused")[1].lower()
               or "nicht" in get("refused")[1].lower(), get("refused")[1])
        expect("a refused call saves nothing", '"web"' not in get("state-after-refusal")[1], detail)
        expect("with the polkit rule the change is made", get("allowed")[0] == 0, detail)
        expect("the forward is listed", get("listed")[0] == 0 and "web" in get("listed")[1], detail)
        expect("the helper wrote its table", "table inet portico" in get("ruleset")[1]
               and "198.51.100.10" in get("ruleset")[1], get("ruleset")[1])
        expect("the state is saved in /etc/portico", '"web"' in get("state")[1], detail)

        # Compared with the root right after the install: dependencies stay installed, so what
        # changes is ours alone.
        debroot.log("apt-get remove portico")
        root.run(["apt-get", "remove", "-y", "-q", "portico"])
        removed = root.files()
        gone = installed - removed
        new = sorted(removed - installed)
        expect("remove takes every file of the package",
               ownedFiles and not [f for f in ownedFiles if os.path.lexists(root.p(f))],
               "\n".join(f for f in ownedFiles if os.path.lexists(root.p(f))))
        expect("remove keeps the saved forwards", "etc/portico/forwards.json" in removed)
        expect("remove keeps the restore unit enabled (it is configuration)",
               "etc/systemd/system/multi-user.target.wants/portico-restore.service" in removed)
        expect("remove adds nothing but the saved forwards and the unit's mask",
               set(new) <= {"etc/portico", "etc/portico/forwards.json",
                            "etc/systemd/system/portico-restore.service",
                            "var/lib/systemd/deb-systemd-helper-masked",
                            "var/lib/systemd/deb-systemd-helper-masked/portico-restore.service"},
               "\n".join(new))
        expect("remove took the package's files", {"usr/bin/portico", "usr/libexec/portico-helper"} <= gone)

        debroot.log("dpkg --purge portico")
        root.run(["dpkg", "--purge", "portico"])
        purged = root.files()
        ours = sorted(f for f in purged - before if "portico" in f)
        expect("purge leaves nothing of Portico behind", not ours, "\n".join(ours))
        expect("purge adds nothing", purged <= installed, "\n".join(sorted(purged - installed)))
    finally:
        root.close()
    debroot.log(f"took {time.monotonic() - started:.0f} s")
    return expect.finish()


if __name__ == "__main__":
    sys.exit(main())
