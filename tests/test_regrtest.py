# SPDX-License-Identifier: MIT
"""CPython's own regression tests give the same result per test with and
without pyust recording every event (tests/regrtest.py, tests/RELIABILITY.md)."""

import subprocess

import pytest

import regrtest


def test_regrtest_outcomes_unchanged(py, daemon, tmp_path, helpers):
    has_tests = subprocess.run([py["python"], "-c", "import test.test_generators"],
                               capture_output=True)
    if has_tests.returncode != 0:
        pytest.skip(f"{py['python']} has no test suite (Debian: libpython3.11-testsuite)")
    rep = regrtest.check(py, regrtest.CI_MODULES, daemon, tmp_path, jobs=2,
                         peval_dir=lambda: helpers("peval", py), ignore=regrtest.CI_IGNORE)
    # The comparison means something: the test suite ran, and was traced in
    # every process (regrtest's workers and the programs they start).
    assert len(rep.base.tests) > 1000, rep.format()
    assert rep.events["python:function__entry"] > 0, rep.format()
    assert rep.events["lttng_python:event"] > 0, rep.format()
    assert len(rep.pids) > 2, rep.format()
    assert rep.unexpected == [], rep.format()
    assert rep.vanished == [], rep.format()
    assert all(proven for _, proven in rep.allowed.values()), rep.format()
    assert rep.ok(), rep.format()
