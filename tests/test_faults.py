# SPDX-License-Identifier: MIT
"""Faults around a traced program: no daemon, processes that fork, spawn,
exec or _exit, signals in the middle of calls, other tracers at the same
time, daemon threads at exit, garbage in the environment, and sessions
started and stopped while threads call. The program does what it does
without pyust; the trace is readable and nests."""

import json
import os
import subprocess
import time
from collections import Counter

import pytest

from pyusttest import TESTS, apart, clean_env, daemon_cycle, ld_preload, libpyust, module_dir

MULTI = """
import json, multiprocessing as mp, os, sys
def leaf():
    pass
def work(n):
    for _ in range(n):
        leaf()
if __name__ == "__main__":
    ctx = mp.get_context(sys.argv[1])
    procs = [ctx.Process(target=work, args=(n,)) for n in (10, 20, 30)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    print(json.dumps({str(p.pid): n for p, n in zip(procs, (10, 20, 30))}))
    print([p.exitcode for p in procs])
"""


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_multiprocessing(py, rec, tmp_path, method):
    """Each worker is traced as itself, with its own pid, whatever the start method."""
    prog = tmp_path / "multi.py"
    prog.write_text(MULTI)
    proc, trace = rec.run([py["python"], str(prog), method], py, timeout=600)
    out = proc.stdout.decode().splitlines()
    assert out[1] == "[0, 0, 0]", proc.stderr
    want = {int(pid): n for pid, n in json.loads(out[0]).items()}
    leaves = Counter(e.ctx["vpid"] for e in trace.python("entry", "leaf", str(prog)))
    assert leaves == want
    works = Counter(e.ctx["vpid"] for e in trace.python("entry", "work", str(prog)))
    assert works == {pid: 1 for pid in want}
    # Workers end in os._exit, inside multiprocessing's frames.
    trace.check_nesting(open_at_exit=True)


FORK_FROM_THREAD = """
import os, sys, threading, time

def late():
    time.sleep(0.3)
    print("child's second thread done", flush=True)

def leaf():
    pass

def worker():
    pid = os.fork()
    if pid == 0:
        leaf()
        if sys.argv[1] == "second":
            threading.Thread(target=late).start()
        return  # the child's only thread ends: so does the child, once late() is done
    _, status = os.waitpid(pid, 0)
    print("child status", status, flush=True)

t = threading.Thread(target=worker)
t.start()
t.join()
"""


@pytest.mark.parametrize("second", ["alone", "second"])
def test_child_forked_from_a_thread_ends(py, rec, tmp_path, second):
    """A child forked from a thread other than the main one ends when its last
    thread ends, as without pyust, though LTTng-UST's and pyust's threads were
    started again in it (they kept it alive, and the parent waited for ever);
    not before: a thread it started after the fork runs to its end."""
    prog = tmp_path / "fork_thread.py"
    prog.write_text(FORK_FROM_THREAD)
    # 3.12+ warns of a fork in a multi-threaded process, with the pid: the program is one.
    cmd = [py["python"], "-W", "ignore::DeprecationWarning", str(prog), second]
    plain = subprocess.run(cmd, capture_output=True, timeout=60, env=rec.env(py, preload=False))
    proc, trace = rec.run(cmd, py, timeout=60)
    assert (proc.stdout, proc.stderr) == (plain.stdout, plain.stderr)
    assert proc.stdout.decode().splitlines()[-1] == "child status 0"
    # The child was traced as itself.
    child = {e.ctx["vpid"] for e in trace.python("entry", "leaf", str(prog))}
    parent = {e.ctx["vpid"] for e in trace.python("entry", "worker", str(prog))}
    assert len(child) == len(parent) == 1 and child != parent


DAEMONIZE = """
import ctypes, logging, os, sys
how, path = sys.argv[1], sys.argv[2]

def work():
    pass

log = logging.getLogger("daemon")
work()
log.warning("before")
if how == "closerange":  # python-daemon's way; close_range(2) on 3.10+
    os.closerange(3, 65536)
elif how == "close":
    for fd in range(3, 1024):
        try:
            os.close(fd)
        except OSError:
            pass
else:
    ctypes.CDLL(None).closefrom(3)
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, b"mine\\n")
work()
log.warning("after")
os.write(fd, b"mine again\\n")
os.close(fd)
print(open(path).read(), end="")
"""


@pytest.mark.parametrize("how", ["closerange", "close", "closefrom"])
def test_program_closes_every_descriptor(py, rec, tmp_path, how):
    """A program that daemonizes closes every descriptor above 2, then opens its
    own file: it finds in it only what it wrote, ends as without pyust (with
    LTTng-UST alone it aborts at exit, its descriptors closed under it), and
    is still recorded: calls and logging records after the closing too."""
    prog = tmp_path / "daemonize.py"
    prog.write_text(DAEMONIZE)
    cmd = [py["python"], str(prog), how, str(tmp_path / "mine.txt")]
    plain = subprocess.run(cmd, capture_output=True, timeout=60, env=rec.env(py, preload=False))
    proc, trace = rec.run(cmd, py, events=("python:*",), logging=[["daemon"]], check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, plain.stdout, plain.stderr)
    assert (tmp_path / "mine.txt").read_bytes() == b"mine\nmine again\n"
    assert len(trace.python("entry", "work", str(prog))) == 2
    assert [e.f["msg"] for e in trace.named("lttng_python:event")] == ["before", "after"]


STDIN_CLOSED = """
import os
try:
    os.fstat(0)
    print("0 is open")
except OSError as e:
    print("0 is closed", e.errno)
"""


def test_started_with_standard_streams_closed(py, rec):
    """A program started with its stdin closed finds it closed: pyust's sockets
    and pipe, made at the start, never take the numbers 0 to 2 (as
    posix_spawn's POSIX_SPAWN_CLOSE tests do in CPython's test_posix)."""
    cmd = ["sh", "-c", 'exec 0<&- && exec "$0" -c "$1"', py["python"], STDIN_CLOSED]
    plain = subprocess.run(cmd, capture_output=True, timeout=60, env=rec.env(py, preload=False))
    proc, trace = rec.run(cmd, py, events=("python:*",), logging=[["-a"]])
    assert plain.stdout.startswith(b"0 is closed")
    assert (proc.stdout, proc.stderr) == (plain.stdout, plain.stderr)


OS_EXIT = """
import os
def inner():
    os._exit(3)
def outer():
    inner()
outer()
"""


def test_os_exit_inside_calls(py, rec):
    proc, trace = rec.run([py["python"], "-c", OS_EXIT], py, check=False)
    assert proc.returncode == 3 and proc.stderr == b""
    assert [e["co_name"] for e in trace.python("entry", co_filename="<string>")] == [
        "<module>", "outer", "inner"]
    assert trace.python("return", co_filename="<string>") == []
    trace.check_nesting(open_at_exit=True)


EXEC = """
import os, sys
def before():
    pass
before()
os.execv(sys.executable, [sys.executable, "-c", "def after():\\n    pass\\nafter()\\n"])
"""


def test_exec(py, rec):
    """The new image, which inherits LD_PRELOAD, is traced as itself, same pid."""
    proc, trace = rec.run([py["python"], "-c", EXEC], py)
    before = trace.python("entry", "before")
    after = trace.python("entry", "after")
    assert len(before) == 1 and len(after) == 1
    assert before[0].ctx["vpid"] == after[0].ctx["vpid"] == proc_pid(trace)
    trace.check_nesting(open_at_exit=True)


def proc_pid(trace):
    return trace.python("entry", "before")[0].ctx["vpid"]


SIGINT_APP = """
import os, signal, sys
def inner():
    os.kill(os.getpid(), signal.SIGINT)
    for i in range(10 ** 7):  # the KeyboardInterrupt lands in here
        pass
def outer():
    inner()
try:
    outer()
except KeyboardInterrupt:
    print("caught", flush=True)
if sys.argv[1:] == ["again"]:
    outer()
"""


@pytest.mark.parametrize("again", [False, True])
def test_keyboard_interrupt_mid_call(py, rec, again):
    args = [py["python"], "-c", SIGINT_APP] + (["again"] if again else [])
    base = subprocess.run(args, capture_output=True, env=rec.env(py, preload=False))
    proc, trace = rec.run(args, py, check=False, filter='co_name != "<module>"')
    assert (proc.returncode, proc.stdout) == (base.returncode, base.stdout)
    assert proc.stdout == b"caught\n"
    assert proc.returncode == (-2 if again else 0)
    # Traceback the same but for the line of the interrupted loop's instruction.
    assert proc.stderr.splitlines()[:1] == base.stderr.splitlines()[:1]
    n = 2 if again else 1
    for name in ("outer", "inner"):
        assert len(trace.python("entry", name)) == n
        assert len(trace.python("return", name)) == n  # the exception unwinds them
    trace.check_nesting()


TRACERS = """
import sys
calls = lines = 0
def prof(frame, event, arg):
    global calls
    if event == "call" and frame.f_code.co_name == "f":
        calls += 1
def tracer(frame, event, arg):
    global lines
    if event == "line" and frame.f_code.co_name == "f":
        lines += 1
    return tracer
def f(n):
    x = n
    return x
sys.setprofile(prof)
for i in range(100):
    f(i)
sys.setprofile(None)
sys.settrace(tracer)
for i in range(100):
    f(i)
sys.settrace(None)
print(calls, lines)
"""


def test_other_tracers_at_the_same_time(py, rec):
    """sys.setprofile and sys.settrace users (profilers, debuggers, coverage)
    see every call and line they see without pyust, and so does pyust."""
    base = subprocess.run([py["python"], "-c", TRACERS], capture_output=True,
                          env=rec.env(py, preload=False))
    proc, trace = rec.run([py["python"], "-c", TRACERS], py, filter='co_name == "f"')
    assert proc.stdout == base.stdout == b"100 200\n"
    assert len(trace.python("entry", "f")) == 200
    trace.check_nesting()


DAEMON_THREADS = """
import threading, time
def leaf():
    pass
def spin():
    while True:
        leaf()
        time.sleep(0.0005)
for _ in range(4):
    threading.Thread(target=spin, daemon=True).start()
time.sleep(0.3)
print("bye")
"""


def test_daemon_threads_running_at_exit(py, rec):
    proc, trace = rec.run([py["python"], "-c", DAEMON_THREADS], py, filter='co_name == "leaf"')
    assert proc.stdout == b"bye\n" and proc.stderr == b""
    assert len(trace.python("entry", "leaf")) > 0
    trace.check_nesting(open_at_exit=True)


GARBAGE = ["", "0", "1", "yes", "-1", "x" * 100000, "\udcff\udcfe", "/nonexistent/dir"]


@pytest.mark.parametrize("var", ["PYUST_QUIET", "PYUST_DEBUG", "LTTNG_HOME", "HOME"])
def test_garbage_environment(py, rec, var):
    """Odd values of the variables pyust reads: the program runs as without them."""
    for value in GARBAGE:
        env = {var: os.fsencode(value).decode("utf-8", "surrogateescape")}
        proc = subprocess.run([py["python"], str(TESTS / "programs" / "fib.py"), "10"],
                              env=rec.env(py, extra=env), capture_output=True, timeout=120)
        assert proc.returncode == 0 and proc.stdout == b"55\n", (value[:20], proc.stderr)
        if var != "PYUST_DEBUG":
            assert proc.stderr == b"", (value[:20], proc.stderr)


STRESS = """
import sys, threading, time
stop = False
def leaf(i):
    return i + 1
def mid(i):
    return leaf(i) + leaf(i)
def work():
    n = 0
    while not stop:
        n = mid(n) % 1000
        time.sleep(0.0005)
def watch():
    import pyust
    global changes
    state = pyust.hook_installed()
    while not stop:
        if pyust.hook_installed() != state:
            state = not state
            changes += 1
        time.sleep(0.001)
changes = 0
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads + [threading.Thread(target=watch)]:
    t.start()
print("ready", flush=True)
sys.stdin.readline()
stop = True
for t in threads:
    t.join()
print("done", changes, flush=True)
"""

CYCLES = 100


def test_sessions_start_and_stop_under_threads(py, rec):
    """8 threads call functions while the session starts and stops 100 times,
    so that the hook comes and goes under them: no crash, and returns close
    the innermost open call of their thread. LTTng-UST connects tracepoints
    before it marks a starting session active (and a stopping one inactive
    before it disconnects them): a call running across a start or stop can
    have only its return or only its entry recorded. Those are counted, and
    each start or stop leaves at most one per thread and depth."""
    proc = subprocess.Popen([py["python"], "-c", STRESS], env=rec.env(py),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        assert proc.stdout.readline() == b"ready\n"
        with rec.session(events=("python:function__*",)) as s:
            for _ in range(CYCLES):
                # Long enough for the hook to go and come back (the watcher
                # reacts within about 20 ms).
                time.sleep(0.03)
                rec.daemon.lttng("stop", "--no-wait", s.name)
                time.sleep(0.03)
                rec.daemon.lttng("start", s.name)
            proc.stdin.write(b"\n")
            proc.stdin.flush()
            done, changes = proc.stdout.readline().split()
        assert done == b"done"
        # The hook went and came back (a loaded machine may hide a few).
        assert int(changes) >= CYCLES, changes
        assert proc.wait(timeout=60) == 0
        assert proc.stderr.read() == b""
    finally:
        proc.kill()
    stacks, unopened, unclosed, matched = {}, 0, 0, 0
    for e in s.trace.events:
        st = stacks.setdefault(e.ctx["vtid"], [])
        key = (e["co_filename"], e["co_name"])
        if e.name.endswith("entry"):
            st.append(key)
            continue
        if key not in st:
            unopened += 1
            continue
        while st[-1] != key:
            st.pop()
            unclosed += 1
        st.pop()
        matched += 1
    unclosed += sum(map(len, stacks.values()))
    assert len({e.ctx["vtid"] for e in s.trace.python("entry", "leaf")}) == 8
    assert matched > 0
    # Two calls deep (mid, leaf), 8 threads, a start and a stop per cycle.
    assert unopened <= 8 * 2 * (CYCLES + 1), unopened
    assert unclosed <= 8 * 2 * (CYCLES + 1), unclosed
    print(f"{matched} calls, {unopened} returns and {unclosed} entries alone")


SUBINTERP = """
try:
    import _interpreters as interp
except ImportError:
    import _xxsubinterpreters as interp
def main_f():
    pass
main_f()
i = interp.create()
r = interp.run_string(i, "def sub_f():\\n    pass\\nfor _ in range(5):\\n    sub_f()\\n")
main_f()
# pyust itself in there: refused from 3.12 (single-phase init), a copy of the
# main interpreter's module before.
interp.run_string(i, "try:\\n    import pyust\\nexcept ImportError:\\n    pass\\n"
                     "else:\\n    pyust.hook_installed()\\n")
interp.destroy(i)
main_f()
print("ok", r)
"""


def test_sub_interpreters(py, rec):
    """Code run in a sub-interpreter (its own GIL from 3.12) runs as without
    pyust and is not traced: the hook is the main interpreter's. The main
    interpreter's calls before, during and after are."""
    proc, trace = rec.run([py["python"], "-c", SUBINTERP], py,
                          env={"PYTHONPATH": module_dir(py)})
    assert proc.stdout == b"ok None\n" and proc.stderr == b""
    assert len(trace.python("entry", "main_f")) == 3
    assert trace.python("entry", "sub_f") == []
    trace.check_nesting()


def test_daemon_late_killed_and_restarted(py, tmp_path):
    """Python function events from a program started before any daemon, then
    after its daemon was killed (SIGKILL) and another started: recorded by
    each daemon's session, and the program goes on unharmed."""
    proc = daemon_cycle(py, tmp_path, "calls")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("registered=True recorded=['probe']") == 2, proc.stdout


def test_no_session_daemon_at_all(py, tmp_path):
    """Nothing to talk to: the program runs as without pyust, silently."""
    prog = [py["python"], str(TESTS / "programs" / "fib.py"), "15"]
    env = clean_env()
    env.update(LTTNG_HOME=str(tmp_path), LD_PRELOAD=ld_preload(libpyust(py)))
    cmd, env = apart(prog, env)
    proc = subprocess.run(cmd, env=env, capture_output=True, timeout=120)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"610\n", b"")
