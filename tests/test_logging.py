# SPDX-License-Identifier: MIT
"""Records of the logging module as lttng_python:event, through the LTTng
agent protocol spoken to a real session daemon."""

import json
import subprocess
import time
from contextlib import ExitStack

import pytest

from conftest import INTERPRETERS
from pyusttest import PROGRAMS, daemon_cycle, module_dir

APP = str(PROGRAMS / "logging_app.py")
ALL = [["-a"]]


def records(trace):
    return [e.f for e in trace.named("lttng_python:event")]


def expected(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


@pytest.mark.parametrize("mode", ["preload", "import"])
def test_fields_match_lttngust(py, rec, tmp_path, mode):
    """Every record that reaches the root logger, once, with lttngust's values."""
    want = tmp_path / "want.json"
    env = {"PYTHONPATH": module_dir(py)} if mode == "import" else None
    proc, trace = rec.run([py["python"], APP, mode, str(want)], py, events=(),
                          logging=ALL, preload=mode == "preload", env=env)
    exp = expected(want)
    assert len(exp) == 32  # 16 records reach the root, from each of two threads
    assert records(trace) == exp
    # The program's own output is unchanged: the last resort handler spoke.
    assert proc.stderr.count(b"does not reach the root") == 1


def test_session_filters(py, rec, tmp_path):
    """Logger names and levels as the session daemon asks, one session per rule."""
    want = tmp_path / "want.json"
    rules = {
        "all": (["-a"], lambda r: True),
        "shop>=WARNING": (["shop", "--loglevel", "WARNING"],
                          lambda r: r["logger_name"] == "shop" and r["int_loglevel"] >= 30),
        "shop.cart==INFO": (["shop.cart", "--loglevel-only", "INFO"],
                            lambda r: r["logger_name"] == "shop.cart" and r["int_loglevel"] == 20),
        "shop*": (["shop*"], lambda r: r["logger_name"].startswith("shop")),
    }
    with ExitStack() as stack:
        sessions = {k: stack.enter_context(rec.session(events=(), logging=[args]))
                    for k, (args, _) in rules.items()}
        proc = subprocess.run([py["python"], APP, "preload", str(want)], env=rec.env(py),
                              capture_output=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
    exp = expected(want)
    assert len(exp) == 32
    for k, (_, keep) in rules.items():
        got = records(sessions[k].trace)
        assert got == [r for r in exp if keep(r)], k
        assert got, k


LIST_APP = """
import logging, sys
for name in ("shop", "shop.cart", "caf\\u00e9"):
    logging.getLogger(name)
print("ready", flush=True)
sys.stdin.readline()
"""


def test_lttng_list_python(py, rec):
    proc = subprocess.Popen([py["python"], "-c", LIST_APP], env=rec.env(py),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline() == b"ready\n"
        deadline = time.monotonic() + 30
        while True:
            listed = rec.daemon.listed("--python")
            if proc.pid in listed or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert sorted(listed.get(proc.pid, [])) == sorted(["shop", "shop.cart", "caf\u00e9"])
    finally:
        proc.communicate(b"\n", timeout=60)


def test_idle_without_logging_session(py, rec):
    """No session wants logging events: logging is not touched, nor imported."""
    code = ("import sys, logging; print(type(logging.Logger.callHandlers).__name__)")
    proc, trace = rec.run([py["python"], "-c", code], py, events=("python:gc__start",))
    assert proc.stdout == b"function\n"
    code = "import sys; print('logging' in sys.modules)"
    proc, trace = rec.run([py["python"], "-c", code], py, events=(), logging=ALL)
    assert proc.stdout == b"False\n"


ODD_CALLS_APP = """
import logging, sys
logging.getLogger().addHandler(logging.StreamHandler(sys.stdout))
log = logging.getLogger("odd")

class Duck:  # not a Logger, shaped like one
    handlers = []
    propagate = True
    parent = logging.getLogger()

def rec(text):
    return log.makeRecord("odd", logging.WARNING, "f.py", 1, text, (), None)

logging.Logger.callHandlers(log, rec("unbound"))
log.callHandlers(record=rec("keyword"))
logging.Logger.callHandlers(Duck(), rec("duck"))
try:
    log.callHandlers(rec("two"), 2)
except TypeError as e:
    print(str(e).split("(")[0].split(" takes")[-1])
log.warning("plain")
"""


def test_odd_calls_of_call_handlers(py, rec):
    """Logger.callHandlers called unbound, with a keyword, with something that
    is not a Logger or with too many arguments does what it does without pyust,
    and each record that reaches the root logger is recorded once."""
    base = subprocess.run([py["python"], "-c", ODD_CALLS_APP], capture_output=True,
                          env=rec.env(py, preload=False))
    proc, trace = rec.run([py["python"], "-c", ODD_CALLS_APP], py, events=(), logging=ALL)
    assert (proc.stdout, proc.stderr) == (base.stdout, base.stderr)
    assert base.stdout.decode().splitlines()[:3] == ["unbound", "keyword", "duck"]
    assert [r["msg"] for r in records(trace)] == ["unbound", "keyword", "duck", "plain"]


LATE_IMPORT_APP = """
import sys, pyust
waiting = pyust._audit_hooks()
import logging
logging.getLogger("late").warning("first record")
print(waiting, pyust._audit_hooks())
"""


def test_audit_hook_only_while_waiting_for_logging(py, rec):
    """CPython builds every audit event's arguments while any C audit hook is in
    place: after the start, pyust's is in CPython's list only while a session
    waits for the records of a program that has not imported logging yet."""
    proc, _ = rec.run([py["python"], "-c", "import pyust; print(pyust._audit_hooks())"], py,
                      events=("python:*",))
    assert proc.stdout == b"0\n"
    proc, trace = rec.run([py["python"], "-c", LATE_IMPORT_APP], py, events=(), logging=ALL)
    assert proc.stdout == b"1 0\n"
    assert [r["msg"] for r in records(trace)] == ["first record"]


HANDLER_APP = """
import logging, pyust
h = pyust.LoggingHandler()
alone = logging.getLogger("alone")
alone.propagate = False
alone.addHandler(h)
both = logging.getLogger("both")
both.addHandler(h)
alone.warning("explicit only")
both.warning("explicit and root")
logging.getLogger("other").warning("root only")
assert isinstance(h, logging.Handler)
"""


def test_explicit_handler(py, rec):
    """pyust.LoggingHandler records what it is given, once even when the record
    also reaches the root."""
    proc, trace = rec.run([py["python"], "-c", HANDLER_APP], py, events=(), logging=ALL,
                          preload=False, env={"PYTHONPATH": module_dir(py)})
    got = [(r["logger_name"], r["msg"]) for r in records(trace)]
    assert got == [("alone", "explicit only"), ("both", "explicit and root"),
                   ("other", "root only")]


FORK_APP = """
import logging, os, sys
log = logging.getLogger("fork")
log.warning("parent %d", os.getpid())
pid = os.fork()
if pid == 0:
    log.warning("child %d", os.getpid())
    logging.shutdown()
    os._exit(0)
os.waitpid(pid, 0)
log.warning("parent again %d", os.getpid())
print(os.getpid(), pid)
"""


def test_fork_child_is_itself(py, rec):
    proc, trace = rec.run([py["python"], "-c", FORK_APP], py, events=(), logging=ALL)
    parent, child = map(int, proc.stdout.split())
    got = [(e.f["msg"], e.ctx["vpid"]) for e in trace.named("lttng_python:event")]
    assert got == [(f"parent {parent}", parent), (f"child {child}", child),
                   (f"parent again {parent}", parent)]


def test_exclusions_refused(rec):
    """LTTng has no exclusions for Python loggers: it says so (2.13: "not yet
    implemented", 2.16: "not supported"), and a filter on logger_name does
    the job."""
    with pytest.raises(RuntimeError, match="exclusions are not (yet implemented|supported)"):
        with rec.session(events=(), logging=[["-a", "--exclude", "shop.cart"]]):
            pass


def test_huge_message(py, rec, tmp_path):
    want = tmp_path / "want.json"
    proc, trace = rec.run([py["python"], APP, "huge", str(want)], py, events=(), logging=ALL,
                          subbuf="16M", nsubbuf=2)
    got = records(trace)
    assert [len(r["msg"]) for r in got] == [10 * 1024 * 1024, 5]
    assert got == expected(want)


COEXIST_APP = """
import logging, sys
log = logging.getLogger("co")
log.warning("before lttngust")
import lttngust
log.warning("after lttngust")
log.warning("after lttngust again")
"""


COEXIST_FIRST_APP = """
import lttngust, logging, pyust
logging.getLogger("co").warning("recorded by lttngust")
print(type(logging.Logger.callHandlers).__name__)
"""


def test_coexists_with_lttngust(rec):
    """lttngust imported by the program after pyust started: pyust's probes came
    first, lttngust's records are not written through them; each record once."""
    py = next((i for i in INTERPRETERS if i["python"] == "/usr/bin/python3"), None)
    check = subprocess.run(["/usr/bin/python3", "-c", "import lttngust"], capture_output=True,
                           env={"LTTNG_UST_PYTHON_REGISTER_TIMEOUT": "0"})
    if py is None or check.returncode != 0:
        pytest.skip("Debian's python3 with python3-lttngust is not among the interpreters")
    proc, trace = rec.run([py["python"], "-c", COEXIST_APP], py, events=(), logging=ALL)
    got = [r["msg"] for r in records(trace)]
    assert got == ["before lttngust", "after lttngust", "after lttngust again"], proc.stderr
    # lttngust first (import mode): it records, pyust leaves logging alone.
    proc, trace = rec.run([py["python"], "-c", COEXIST_FIRST_APP], py, events=(), logging=ALL,
                          preload=False, env={"PYTHONPATH": module_dir(py)})
    assert proc.stdout == b"function\n"
    assert [r["msg"] for r in records(trace)] == ["recorded by lttngust"], proc.stderr


def test_daemon_late_and_restarted(py, tmp_path):
    """The agent registers with a daemon started after the program, and again
    with one started after the first was killed."""
    proc = daemon_cycle(py, tmp_path, "logging")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("registered=True") == 2, proc.stdout
