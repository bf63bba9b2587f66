# SPDX-License-Identifier: MIT
"""configure names the Debian package of a missing dependency."""

import os
import subprocess
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parent.parent


def configure(tmp_path, *args, env=None):
    r = subprocess.run([str(TOP / "configure"), f"--prefix={tmp_path}/p", *args],
                       cwd=tmp_path, capture_output=True, text=True, env=env)
    return r.returncode, r.stdout + r.stderr


@pytest.fixture(autouse=True)
def needs_configure():
    if not (TOP / "configure").exists():
        pytest.skip("run ./bootstrap first")


def test_missing_lttng_ust(tmp_path):
    env = dict(os.environ, PKG_CONFIG_LIBDIR=str(tmp_path / "none"), PKG_CONFIG_PATH="")
    rc, out = configure(tmp_path, env=env)
    assert rc != 0
    assert "install the package liblttng-ust-dev" in out


def test_not_a_python(tmp_path):
    rc, out = configure(tmp_path, "--with-python=/bin/true")
    assert rc != 0
    assert "pyust supports CPython 3.9 to 3.15" in out


def test_missing_python_headers(tmp_path):
    """An interpreter whose headers are not installed."""
    from conftest import INTERPRETERS

    fake = tmp_path / "python-without-headers"
    fake.write_text("#!/bin/sh\n"
                    f"case \"$2\" in *get_paths*) echo -I{tmp_path}/noinc ;;\n"
                    f"*) exec {INTERPRETERS[0]['python']} \"$@\" ;; esac\n")
    fake.chmod(0o755)
    rc, out = configure(tmp_path, f"--with-python={fake}")
    assert rc != 0
    assert "install the package python3-dev" in out
