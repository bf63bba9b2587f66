# SPDX-License-Identifier: MIT
"""pyust record against the tests' own session daemon, and against daemons it
starts itself: what it records, what it says, how it ends. The command is C
whose behaviour does not depend on the interpreter it runs, and the traced
programs' events are tested on every interpreter elsewhere: one interpreter
runs these tests."""

import json
import os
import re
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

from pyusttest import PROGRAMS, Trace, apart, clean_env, ld_preload, libpyust

FIB = str(PROGRAMS / "fib.py")
APP = str(PROGRAMS / "logging_app.py")


def pyust(py):
    return str(Path(py["prefix"]) / "bin" / "pyust")


def record(py, daemon, *args, env=None, **kw):
    e = dict(daemon.env)
    e.update(env or {})
    return subprocess.run([pyust(py), "record", *args], env={k: v for k, v in e.items() if v},
                          capture_output=True, text=True, timeout=300, **kw)


def sessions(daemon):
    return daemon.sessions()


def summary_counts(stderr):
    return {m.group(2): int(m.group(1))
            for m in re.finditer(r"^\s+(\d+)\s+(\S+)$", stderr, re.MULTILINE)}


def gone(pid):
    """The process has exited (a zombie not yet reaped has)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat[stat.rindex(")") + 2] == "Z"


def wait_for(cond, what):
    for _ in range(6000):
        if cond():
            return
        time.sleep(0.01)
    raise AssertionError(f"never: {what}")


def test_record_fib(first_py, daemon, tmp_path):
    out = tmp_path / "t"
    out.mkdir()  # an empty directory will do
    p = record(first_py, daemon, "-o", str(out), "--", first_py["python"], FIB, "15")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "610\n"
    trace = Trace(out)
    assert trace.calls(FIB)["fib"] == 1973
    trace.check_nesting()
    assert all(e.ctx["vpid"] > 0 and e.ctx["vtid"] > 0 for e in trace.events)
    # The summary is what the trace holds.
    assert summary_counts(p.stderr) == Counter(e.name for e in trace.events)
    assert f"pyust record: {len(trace.events)} events in {out}\n" in p.stderr
    assert "no event lost" in p.stderr and trace.discarded == 0
    assert f"  pyust report --calltime {out}\n  babeltrace2 {out}\n" in p.stderr
    assert not [s for s in sessions(daemon)
                if s.startswith("pyust-" + Path(first_py["python"]).name + "-")]


def test_record_logging_filter_no_logging(first_py, daemon, tmp_path):
    """Log records with lttngust's fields; --filter on the function events
    only; --no-logging."""
    want = tmp_path / "want.json"
    out = tmp_path / "t"
    p = record(first_py, daemon, "-o", str(out), "--filter", 'co_name == "work"', "--",
               first_py["python"], APP, "preload", str(want))
    assert p.returncode == 0, p.stderr
    trace = Trace(out)
    exp = [json.loads(line) for line in want.read_text().splitlines()]
    # 16 records reach the root, one more is below its level, from each of two threads.
    assert len(exp) == 34
    assert [e.f for e in trace.named("lttng_python:event")] == exp
    assert all(e.ctx["vpid"] > 0 for e in trace.named("lttng_python:event"))
    assert trace.calls() == {"work": 2}
    assert summary_counts(p.stderr)["lttng_python:event"] == 34
    out = tmp_path / "t2"
    p = record(first_py, daemon, "-o", str(out), "--no-logging", "--", first_py["python"], APP,
               "preload", str(want))
    assert p.returncode == 0, p.stderr
    trace = Trace(out)
    assert trace.named("lttng_python:event") == []
    assert trace.calls(APP)["work"] == 2


def test_record_native(first_py, daemon, helpers, tmp_path):
    out = tmp_path / "t"
    p = record(first_py, daemon, "-o", str(out), "--native", "--", str(helpers("native")))
    assert p.returncode == 0, p.stderr
    trace = Trace(out)
    entries = trace.named("lttng_ust_cyg_profile_fast:func_entry")
    assert len(entries) == 16  # main, 5 middle, 10 leaf
    assert len({e.ctx["ip"] for e in entries}) == 3
    assert len(trace.named("lttng_ust_statedump:start")) == 1
    assert summary_counts(p.stderr) == Counter(e.name for e in trace.events)


def test_record_exit_status(first_py, daemon, tmp_path):
    p = record(first_py, daemon, "-o", str(tmp_path / "a"), "--", first_py["python"], "-c",
               "import sys; sys.exit(3)")
    assert p.returncode == 3
    assert "exited with status 3" in p.stderr
    p = record(first_py, daemon, "-o", str(tmp_path / "b"), "--", first_py["python"], "-c",
               "import os, signal; os.kill(os.getpid(), signal.SIGTERM)")
    assert p.returncode == 128 + signal.SIGTERM
    assert "killed by signal 15" in p.stderr
    # What a shell says and returns, before any session is made.
    script = tmp_path / "script"
    script.write_text("#!/bin/sh\n")
    for cmd, status, why in (("no-such-command-here", 127, "command not found"),
                             ("/nonexistent/cmd", 127, "No such file or directory"),
                             (str(script), 126, "Permission denied"),
                             (str(tmp_path), 126, "Is a directory")):
        p = record(first_py, daemon, "-o", str(tmp_path / "c"), "--", cmd)
        assert p.returncode == status, (cmd, p.stderr)
        assert p.stderr == f"pyust record: {cmd}: {why}\n"
        assert not (tmp_path / "c").exists()


def test_record_forwards_signals(first_py, daemon, tmp_path):
    """A SIGINT sent to pyust goes to the command, which ends as it would;
    the session is stopped, destroyed, and what it recorded is read."""
    code = ("import time\n"
            "def wait():\n"
            "    print('ready', flush=True)\n"
            "    time.sleep(60)\n"
            "wait()\n")
    proc = subprocess.Popen([pyust(first_py), "record", "-s", "fwd", "-o", str(tmp_path / "t"),
                             "--", first_py["python"], "-c", code], env=daemon.env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "ready\n"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGINT, err
    assert "KeyboardInterrupt" in err
    trace = Trace(tmp_path / "t")
    assert trace.calls("<string>")["wait"] == 1
    assert "fwd" not in sessions(daemon)


def test_record_keeps_ignored_signals_ignored(first_py, daemon, tmp_path):
    """A command started with SIGINT ignored (nohup, a background job) gets it ignored."""
    code = ("import signal; print(signal.getsignal(signal.SIGINT) is signal.SIG_IGN,"
            " signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)")
    p = record(first_py, daemon, "-o", str(tmp_path / "t"), "--no-logging", first_py["python"],
               "-c", code, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert p.returncode == 0, p.stderr
    assert p.stdout == "True True\n"


def test_record_interrupted_during_setup(first_py, daemon, tmp_path):
    """Ctrl-C while pyust sets the session up: the command never starts and
    the session is destroyed. The daemon is stopped (SIGSTOP) so that pyust
    is waiting for its answer when the signal comes."""
    ran = tmp_path / "ran"
    os.kill(daemon.pid, signal.SIGSTOP)
    try:
        proc = subprocess.Popen([pyust(first_py), "record", "-s", "setup-int", "-o",
                                 str(tmp_path / "t"), "--", "touch", str(ran)],
                                env=daemon.env, stderr=subprocess.PIPE, text=True)

        def waits_for_daemon():
            return "unix_stream_read" in Path(f"/proc/{proc.pid}/wchan").read_text()

        # Its first wait is for the answer to the session's creation.
        wait_for(waits_for_daemon, "pyust waits for the session daemon")
        proc.send_signal(signal.SIGINT)
    finally:
        os.kill(daemon.pid, signal.SIGCONT)
    err = proc.communicate(timeout=120)[1]
    assert proc.returncode == 128 + signal.SIGINT, err
    assert err == ("pyust record: interrupted (signal 2) before the command started: "
                   "session destroyed\n")
    assert not ran.exists()
    assert "setup-int" not in sessions(daemon)


def test_record_loss_and_blocking(first_py, daemon, tmp_path):
    """Buffers too small for the program: the loss is counted and the options
    that avoid it named; --blocking avoids it. (64k x 2 loses about half of
    fib(20)'s events without --blocking here; 4k x 2, which surely loses,
    takes 40 s with it.)"""
    p = record(first_py, daemon, "-o", str(tmp_path / "t"), "--subbuf-size", "4k",
               "--num-subbuf", "2", "--no-logging", first_py["python"], FIB, "20")
    assert p.returncode == 0, p.stderr
    m = re.search(r"(\d+) events lost: the buffers were full; record again with --blocking, or "
                  r"with larger buffers: --subbuf-size \(now 4k, 4k for log records\) or "
                  r"--num-subbuf \(now 2\)", p.stderr)
    assert m and int(m.group(1)) > 0, p.stderr
    assert Trace(tmp_path / "t").discarded == int(m.group(1))
    p = record(first_py, daemon, "-o", str(tmp_path / "b"), "--blocking", "--subbuf-size", "64k",
               "--num-subbuf", "2", "--no-logging", first_py["python"], FIB, "20")
    assert p.returncode == 0, p.stderr
    assert "no event lost" in p.stderr
    trace = Trace(tmp_path / "b")
    assert trace.discarded == 0 and trace.calls(FIB)["fib"] == 21891


def test_record_session_names(first_py, daemon, tmp_path):
    """A name already taken, by a session or by its default directory, gets
    -2, -3...; the session that had it is left alone."""
    daemon.lttng("create", "mine", "-o", str(tmp_path / "theirs"))
    try:
        taken = Path(daemon.env["LTTNG_HOME"]) / "lttng-traces" / "mine-2"
        taken.mkdir(parents=True)
        (taken / "x").write_text("")
        p = record(first_py, daemon, "-s", "mine", "--no-logging", first_py["python"], FIB, "3")
        assert p.returncode == 0, p.stderr
        out = taken.parent / "mine-3"
        assert f"events in {out}\n" in p.stderr
        assert Trace(out).calls(FIB)["fib"] == 5
        assert "mine" in sessions(daemon) and "mine-3" not in sessions(daemon)
    finally:
        daemon.lttng("destroy", "mine")


def test_record_preload(first_py, daemon, tmp_path):
    """libpyust.so first but for ASan's runtime, then what LD_PRELOAD held but
    another libpyust.so; PYUST_LIBRARY names the library, relative to the
    current directory."""
    code = "import os; print(os.environ['LD_PRELOAD'])"
    lib = Path(libpyust(first_py))
    asan = "/nonexistent/libasan.so.8"  # ld.so says it cannot load it, and goes on
    p = record(first_py, daemon, "-o", str(tmp_path / "t"), "--no-logging", first_py["python"],
               "-c", code, env={"LD_PRELOAD": ld_preload(f"libm.so.6 /elsewhere/libpyust.so {asan}"),
                                "PYUST_LIBRARY": lib.name}, cwd=lib.parent)
    assert p.returncode == 0, p.stderr
    assert p.stdout == ld_preload(asan, lib, "libm.so.6") + "\n"
    assert Trace(tmp_path / "t").python("entry")
    p = record(first_py, daemon, "-o", str(tmp_path / "u"), first_py["python"], "-c", "pass",
               env={"PYUST_LIBRARY": "/nonexistent/libpyust.so"})
    assert p.returncode == 1
    assert p.stderr.startswith("pyust record: /nonexistent/libpyust.so: No such file")
    assert not (tmp_path / "u").exists()


def test_record_bad_usage(first_py, daemon, tmp_path):
    for args, want in (([], "no command to run"),
                       (["--bogus", "true"], "unknown option"),
                       (["-o"], "unknown option or missing value: -o"),
                       (["--subbuf-size", "3k", "true"], "not a power of 2"),
                       (["--num-subbuf", "-2", "true"], "not a power of 2"),
                       (["--session", "a/b", "true"], "no '/'")):
        p = record(first_py, daemon, *args)
        assert p.returncode == 2, (args, p.stderr)
        assert want in p.stderr, (args, p.stderr)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    p = record(first_py, daemon, "-o", str(tmp_path / "full"), "true")
    assert p.returncode == 2 and "not an empty directory" in p.stderr
    assert "--blocking" in record(first_py, daemon, "--help").stdout


def test_command_dispatch(first_py, daemon):
    def run(*args):
        return subprocess.run([pyust(first_py), *args], env=daemon.env, capture_output=True,
                              text=True, timeout=60)

    assert run("--version").stdout.startswith("pyust ")
    assert "pyust record" in run("--help").stdout
    assert "--blocking" in run("help", "record").stdout
    assert "VIEW" in run("help", "report").stdout
    for args, want in ((["frobnicate"], "pyust: unknown command: frobnicate"),
                       (["help", "frobnicate"], "pyust: no help on frobnicate"),
                       ([], "usage: pyust record")):
        p = run(*args)
        assert p.returncode == 2 and p.stderr.startswith(want), (args, p.stderr)


def test_record_starts_and_stops_a_daemon(first_py, tmp_path):
    """With no session daemon, record starts one for the command and stops
    it after; it leaves it running when the command made a session of its
    own there; it says so when there is no session daemon to start."""
    rundir = "/run/lttng" if os.getuid() == 0 else "$LTTNG_HOME/.lttng"
    script = tmp_path / "run.sh"
    script.write_text(f"""
export LTTNG_HOME={tmp_path}/home
mkdir -p "$LTTNG_HOME"
LTTNG_SESSIOND_PATH={tmp_path}/none {pyust(first_py)} record -o {tmp_path}/v -- true
echo "status $?"
{pyust(first_py)} record -o {tmp_path}/t -- sh -c 'cat {rundir}/lttng-sessiond.pid; \
    exec {first_py["python"]} {FIB} 10'
echo "status $?"
{pyust(first_py)} record -o {tmp_path}/u -- sh -c 'cat {rundir}/lttng-sessiond.pid; \
    lttng create other --no-output >/dev/null'
echo "status $?"
""")
    env = clean_env()
    cmd, env = apart(["bash", str(script)], env)
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    lines = p.stdout.splitlines()
    assert len(lines) == 6, p.stdout + p.stderr
    first, second = int(lines[1]), int(lines[4])
    try:
        assert lines[0] == "status 1"
        assert (f"no session daemon runs, and {tmp_path}/none cannot be started: No such file "
                "or directory (on Debian, install lttng-tools; LTTNG_SESSIOND_PATH names "
                "another)") in p.stderr
        assert not (tmp_path / "v").exists()
        assert lines[2:4] == ["55", "status 0"], p.stdout + p.stderr
        assert Trace(tmp_path / "t").calls(FIB)["fib"] == 177
        assert gone(first)
        assert lines[5] == "status 0", p.stderr
        assert (f"the session daemon pyust started (pid {second}) stays running: "
                "1 other session uses it") in p.stderr
        assert not gone(second)
    finally:
        if not gone(second):
            os.kill(second, signal.SIGTERM)
            wait_for(lambda: gone(second), f"session daemon {second} exits")
