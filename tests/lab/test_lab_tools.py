# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab's own tools: which binaries it runs. After the packaging tests a build dir also holds
older copies of the programs (CPack's staged package, the packaging roots); the lab must run the
build's own, or a test run after them would test stale code."""

import os
import stat

import pytest

from lab import LabError, findBinary


def makeExecutable(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n")
    os.chmod(path, stat.S_IRWXU)


def test_find_binary_takes_the_builds_own_program_not_a_staged_copy(tmp_path):
    build = str(tmp_path)
    staged = os.path.join(build, "packaging-deb", "_CPack_Packages", "Linux", "DEB",
                          "portico-0.1.0-Linux", "usr", "libexec", "portico-helper")
    rooted = os.path.join(build, "packaging-root", "run-1-deb", "root", "usr", "libexec",
                          "portico-helper")
    own = os.path.join(build, "helper", "portico-helper")
    # The copies first, so that a walk in creation order would meet them before the real one.
    for p in (staged, rooted, own):
        makeExecutable(p)
    assert findBinary("portico-helper", "PORTICO_TEST_UNSET_VARIABLE", build) == own
    # Without the build's own there is nothing right to find: the lab says to build it.
    os.unlink(own)
    with pytest.raises(LabError, match="not found"):
        findBinary("portico-helper", "PORTICO_TEST_UNSET_VARIABLE", build)
