#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Flatpak manifest as flatpak-builder reads it (--show-manifest, offline): any warning fails
(an unknown key is only a warning to flatpak-builder), and the sandbox may hold only the display
sockets and the one system bus name of the helper.

  check_flatpak_manifest.py MANIFEST"""

import json
import os
import subprocess
import sys
import tempfile

ALLOWED = {"--socket=wayland", "--socket=fallback-x11", "--socket=x11", "--share=ipc",
           "--system-talk-name=io.github.portico.Helper1"}


def main():
    # flatpak-builder makes its state dir (.flatpak-builder) in the working directory even for
    # this: give it a throwaway one.
    with tempfile.TemporaryDirectory() as cwd:
        p = subprocess.run(["flatpak-builder", "--show-manifest", os.path.abspath(sys.argv[1])],
                           text=True, capture_output=True, cwd=cwd)
    problems = []
    if p.returncode != 0:
        problems.append(f"flatpak-builder --show-manifest failed ({p.returncode})")
    if p.stderr.strip():
        problems.append("flatpak-builder warned:\n" + p.stderr.strip())
    manifest = json.loads(p.stdout) if p.returncode == 0 else {}
    args = manifest.get("finish-args", [])
    for a in args:
        if a not in ALLOWED:
            problems.append(f"finish-arg {a} is more than the app needs")
    if "--system-talk-name=io.github.portico.Helper1" not in args:
        problems.append("the app cannot reach the host helper (--system-talk-name missing)")
    opts = [o for m in manifest.get("modules", []) if isinstance(m, dict)
            for o in m.get("config-opts", [])]
    if "-DPORTICO_GUI_ONLY=ON" not in opts:
        problems.append("the module does not build the GUI alone (-DPORTICO_GUI_ONLY=ON)")
    for key in ("rename-desktop-file", "rename-icon", "rename-appdata-file"):
        if key not in manifest:
            problems.append(f"{key} missing: Flatpak wants the files named after the app id")
    if problems:
        print("\n".join(problems))
        return 1
    print(f"{sys.argv[1]}: valid; finish-args {' '.join(args)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
