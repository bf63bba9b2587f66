# SPDX-License-Identifier: MIT
"""The tree's own rules: an SPDX header on every file, C in the repository's
clang-format style."""

import shutil
import subprocess
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parent.parent


def tracked():
    out = subprocess.run(["git", "ls-files"], cwd=TOP, capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip("not a git checkout")
    return [TOP / p for p in out.stdout.splitlines()]


def test_spdx_headers():
    exempt = {".gitignore", "debian-packages", "debian-packages-ci", ".gitkeep", "README.md"}
    missing = [str(p.relative_to(TOP)) for p in tracked()
               if p.name not in exempt and "SPDX-License-Identifier" not in p.read_text()[:400]]
    assert missing == []


@pytest.mark.skipif(not shutil.which("clang-format"), reason="clang-format is not installed")
def test_clang_format():
    sources = [str(p) for p in tracked() if p.suffix in (".c", ".h")]
    r = subprocess.run(["clang-format", "--dry-run", "--Werror", *sources], cwd=TOP,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[:3000]
