# SPDX-License-Identifier: MIT
"""Records of the logging module as lttng_python:event, through the LTTng
agent protocol spoken to a real session daemon."""

import json
import subprocess
import time
from contextlib import ExitStack

import pytest

from conftest import INTERPRETERS
from pyusttest import LTTNGUST, PROGRAMS, daemon_cycle, lttngust_path, module_dir

APP = str(PROGRAMS / "logging_app.py")
LEVELS_APP = str(PROGRAMS / "levels_app.py")
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
    # 16 records reach the root, one more is below its level, from each of two threads.
    assert len(exp) == 34
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
    assert len(exp) == 34
    for k, (_, keep) in rules.items():
        got = records(sessions[k].trace)
        assert got == [r for r in exp if keep(r)], k
        assert got, k


def reference_path(tmp_path):
    assert LTTNGUST.is_dir(), "python3-lttngust is not installed (.ci/debian-packages)"
    return lttngust_path(tmp_path)


def record_key(r):
    return (r["logger_name"], r["msg"], r["funcName"], r["lineno"], r["int_loglevel"],
            r["threadName"])


def under_sessions(rec, rules, cmd, env):
    """cmd run once under one session per rule (enable-event --python arguments);
    the records of each, in order."""
    with ExitStack() as stack:
        sessions = [stack.enter_context(rec.session(events=(), logging=[args]))
                    for args in rules]
        proc = subprocess.run(cmd, env=env, capture_output=True, timeout=120)
    return proc, [[record_key(r) for r in records(s.trace)] for s in sessions]


LEVEL_RULES = [
    ["-a"],
    ["app", "--loglevel", "INFO"],
    ["app", "--loglevel-only", "DEBUG"],
    ["app*"],
    ["app.s*", "--loglevel", "ERROR"],
    ["app", "--filter", 'msg == "warning"'],
    ["lone"],
    ["root", "--loglevel-only", "INFO"],
]


def test_records_as_lttngust(py, rec, tmp_path):
    """A program that leaves the root logger at WARNING: every session gets the
    records lttngust gives it (whose root logger is at NOTSET), below the
    program's levels too, and the program prints what it prints untraced."""
    plain = subprocess.run([py["python"], LEVELS_APP], capture_output=True, timeout=120,
                           env=rec.env(py, preload=False))
    proc, got = under_sessions(rec, LEVEL_RULES, [py["python"], LEVELS_APP], rec.env(py))
    _, want = under_sessions(rec, LEVEL_RULES, [py["python"], LEVELS_APP, "lttngust"],
                             rec.env(py, preload=False,
                                     extra={"PYTHONPATH": reference_path(tmp_path)}))
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, plain.stdout, plain.stderr)
    assert b"debug" not in plain.stdout + plain.stderr
    for rule, g, w in zip(LEVEL_RULES, got, want):
        assert g == w, rule
    # What lttngust gives: below the program's levels too, not below the loggers' own.
    msgs = [r[1] for r in want[0]]
    assert msgs == [
        "info, below the root's level", "debug, below the root's level", "warning",
        "custom level 25", "msg as a keyword", "through an adapter", "exception, at ERROR",
        "error, let through", "keep this one", "below the level: never printed",
        "printed by the program's handler", "root info", "after basicConfig"]
    assert [len(w) for w in want[1:]] == [5, 2, 12, 2, 1, 0, 1]


STEPS_APP = """
import logging, sys
for line in sys.stdin:
    i = int(line)
    for name in ("app", "other"):
        log = logging.getLogger(name)
        log.debug("debug %d", i)
        log.info("info %d", i)
        log.warning("warning %d", i)
        log.error("error %d", i)
    print("ok", i, flush=True)
"""


def sessions_over_time(rec, cmd, env):
    """A program started before any session, then sessions created, destroyed
    and disabled while it runs; a batch of records after each change. The
    records of each session, in order, and the program's output."""
    lt = rec.daemon.lttng
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    out = []

    def batch(i):
        proc.stdin.write(b"%d\n" % i)
        proc.stdin.flush()
        out.append(proc.stdout.readline())

    with ExitStack() as stack:
        batch(0)
        a = stack.enter_context(rec.session(events=(), logging=[["-a"]]))
        batch(1)
        b = stack.enter_context(rec.session(events=(), logging=[["app", "--loglevel-only",
                                                                  "DEBUG"]]))
        batch(2)
        c = stack.enter_context(rec.session(events=(), logging=[["app", "--loglevel",
                                                                  "ERROR"]]))
        batch(3)
        # "app" disabled for c only: the daemon's command names the logger, not the level.
        lt("destroy", c.name)
        batch(4)
        lt("destroy", a.name)
        batch(5)
        lt("disable-event", "--python", "-s", b.name, "app")
        batch(6)
        rest, err = proc.communicate(timeout=60)
    keys = [[(r["logger_name"], r["msg"]) for r in records(s.trace)] for s in (a, b, c)]
    return keys, b"".join(out) + rest, err


def test_sessions_over_time_as_lttngust(py, rec, tmp_path):
    """Sessions come and go while the program runs: each gets what lttngust
    gives it, and the program's output is its own."""
    cmd = [py["python"], "-c", STEPS_APP]
    plain = subprocess.run(cmd, input=b"".join(b"%d\n" % i for i in range(7)),
                           capture_output=True, env=rec.env(py, preload=False), timeout=60)
    got, out, err = sessions_over_time(rec, cmd, rec.env(py))
    ref = [py["python"], "-c", "import lttngust\n" + STEPS_APP]
    want, _, _ = sessions_over_time(rec, ref, rec.env(py, preload=False, extra={
        "PYTHONPATH": reference_path(tmp_path)}))
    assert (out, err) == (plain.stdout, plain.stderr)
    assert got == want
    # Every level of both loggers while a lived (1 to 4), debug of app while b's
    # event was enabled (2 to 5), error and above of app while c lived (3).
    a, b, c = want
    assert a == [(n, f"{k} {i}") for i in range(1, 5) for n in ("app", "other")
                 for k in ("debug", "info", "warning", "error")]
    assert b == [("app", f"debug {i}") for i in range(2, 6)]
    assert c == [("app", "error 3")]


FIRST_LINE = {
    "preload": 'import logging; logging.getLogger("first").info("on the first line")',
    "import": 'import pyust, logging; logging.getLogger("first").info("on the first line")',
}


@pytest.mark.parametrize("mode", ["preload", "import"])
def test_first_line(py, rec, mode):
    """A session in place at the start gets the program's first record, below
    the root's level: the start waits for the agent's registration, as
    LTTng-UST's for its own."""
    env = {"PYTHONPATH": module_dir(py)} if mode == "import" else None
    runs = 10

    def run():
        for _ in range(runs):
            subprocess.run([py["python"], "-c", FIRST_LINE[mode]], check=True, timeout=60,
                           env=rec.env(py, preload=mode == "preload", extra=env))

    _, trace = rec.run_fn(run, events=(), logging=[["first", "--loglevel", "INFO"]])
    assert [r["msg"] for r in records(trace)] == ["on the first line"] * runs


LIST_APP = """
import logging, sys
for name in ("shop", "shop.cart", "caf\\u00e9", "deep.a.b"):
    logging.getLogger(name)
print("ready", flush=True)
sys.stdin.readline()
"""


def listed_loggers(rec, cmd, env):
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline() == b"ready\n"
        deadline = time.monotonic() + 30
        while True:
            listed = rec.daemon.listed("--python")
            if proc.pid in listed or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        return sorted(listed.get(proc.pid, []))
    finally:
        proc.communicate(b"\n", timeout=60)


def test_lttng_list_python(py, rec, tmp_path):
    """`lttng list --python` shows the loggers as with lttngust: every name
    logging knows, those of the loggers logging made for a dotted name too."""
    got = listed_loggers(rec, [py["python"], "-c", LIST_APP], rec.env(py))
    want = listed_loggers(rec, [py["python"], "-c", "import lttngust\n" + LIST_APP],
                          rec.env(py, preload=False,
                                  extra={"PYTHONPATH": reference_path(tmp_path)}))
    assert got == want == sorted(["shop", "shop.cart", "caf\u00e9", "deep", "deep.a",
                                  "deep.a.b"])


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
