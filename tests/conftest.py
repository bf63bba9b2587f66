# SPDX-License-Identifier: MIT
"""Fixtures: the interpreters pyust was built for, a private session daemon,
and a way to run a program under a recording session and read its trace."""

import json
import os
import signal

import pytest

from pyusttest import Daemon, Recorder, build_helper

CONFIG = os.environ.get("PYUST_TEST_CONFIG")

# A runner may start the suite with SIGINT and SIGQUIT ignored (a background
# job of a shell does); the programs under test must get them as a user's
# would: a handler here makes the children start with the default.
signal.signal(signal.SIGINT, signal.default_int_handler)
signal.signal(signal.SIGQUIT, signal.SIG_DFL)


def _interpreters():
    if not CONFIG:
        pytest.exit("PYUST_TEST_CONFIG is not set: run the tests with tests/run", 2)
    with open(CONFIG) as f:
        return json.load(f)


INTERPRETERS = _interpreters()


def pytest_generate_tests(metafunc):
    if "py" in metafunc.fixturenames:
        metafunc.parametrize(
            "py", INTERPRETERS, ids=[f"{i['version']}:{i['python']}" for i in INTERPRETERS]
        )


@pytest.fixture(scope="session")
def daemon(tmp_path_factory):
    d = Daemon(tmp_path_factory.mktemp("lttng-home"))
    d.start()
    yield d
    d.stop()


@pytest.fixture
def rec(daemon, tmp_path):
    return Recorder(daemon, tmp_path)


@pytest.fixture(scope="session")
def helpers(tmp_path_factory):
    """Build C helpers (per interpreter where they use Python) on demand."""
    cache = {}
    root = tmp_path_factory.mktemp("helpers")

    def get(name, py=None):
        key = (name, py["python"] if py else None)
        if key not in cache:
            cache[key] = build_helper(name, py, root)
        return cache[key]

    return get


@pytest.fixture(scope="session")
def first_py():
    """One interpreter, for what does not depend on which (C programs, the plugin)."""
    return INTERPRETERS[0]
