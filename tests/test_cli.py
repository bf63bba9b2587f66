# SPDX-License-Identifier: MIT
"""The pyust command: `pyust record` against the tests' own session daemon
(and one it starts itself), `pyust report` over the traces it writes. The
command is C that does not depend on the interpreter: one interpreter runs
these tests."""

import json
import os
import re
import xml.etree.ElementTree as ET
import signal
import subprocess
from pathlib import Path

import pytest

from pyusttest import PROGRAMS, Trace, apart

FIB = str(PROGRAMS / "fib.py")

LOGGING_APP = """
import logging
def f():
    logging.getLogger("app").warning("one %d", 1)
f()
f()
logging.getLogger("app.sub").error("two")
"""


def pyust(py):
    return str(Path(py["prefix"]) / "bin" / "pyust")


def run(py, daemon, *args, env=None, **kw):
    e = dict(daemon.env, PYUST_PLUGIN_PATH=str(Path(py["prefix"]) / "lib" / "babeltrace2"
                                                / "plugins"))
    e.update(env or {})
    return subprocess.run([pyust(py), *args], env=e, capture_output=True, text=True,
                          timeout=300, **kw)


def record_sessions(daemon):
    """The sessions pyust record made that still exist."""
    return re.findall(r"^\s*\d+\) (pyust-\S+)", daemon.lttng("list").stdout, re.MULTILINE)


def summary_counts(stderr):
    return {m.group(2): int(m.group(1))
            for m in re.finditer(r"^\s+(\d+)\s+(\S+)$", stderr, re.MULTILINE)}


def test_record_fib(first_py, daemon, tmp_path):
    out = tmp_path / "t"
    p = run(first_py, daemon, "record", "-o", str(out), "--", first_py["python"], FIB, "15")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "610\n"
    trace = Trace(out)
    assert trace.calls(FIB)["fib"] == 1973
    trace.check_nesting()
    counts = summary_counts(p.stderr)
    assert counts["python:function__entry"] == len(trace.python("entry"))
    assert counts["python:function__return"] == len(trace.python("return"))
    assert "no event lost" in p.stderr
    assert f"pyust report --calltime {out}" in p.stderr
    assert record_sessions(daemon) == []


def test_record_logging_filter_and_no_logging(first_py, daemon, tmp_path):
    prog = tmp_path / "app.py"
    prog.write_text(LOGGING_APP)
    out = tmp_path / "t"
    p = run(first_py, daemon, "record", "-o", str(out), "--filter", 'co_name == "f"',
            first_py["python"], str(prog))
    assert p.returncode == 0, p.stderr
    trace = Trace(out)
    assert trace.calls() == {"f": 2}
    assert [e["msg"] for e in trace.named("lttng_python:event")] == ["one 1", "one 1", "two"]
    assert all(e.ctx["vpid"] > 0 for e in trace.named("lttng_python:event"))
    out2 = tmp_path / "t2"
    p = run(first_py, daemon, "record", "-o", str(out2), "--no-logging", "--",
            first_py["python"], str(prog))
    assert p.returncode == 0, p.stderr
    trace = Trace(out2)
    assert trace.named("lttng_python:event") == []
    assert trace.calls(str(prog))["f"] == 2


def test_record_native(first_py, daemon, helpers, tmp_path):
    out = tmp_path / "t"
    p = run(first_py, daemon, "record", "-o", str(out), "--native", "--", str(helpers("native")))
    assert p.returncode == 0, p.stderr
    counts = summary_counts(p.stderr)
    assert counts["lttng_ust_cyg_profile_fast:func_entry"] == 16
    assert counts["lttng_ust_statedump:start"] >= 1
    # report adds debug-info itself: the functions have their names.
    r = run(first_py, daemon, "report", str(out), "--calltime")
    assert r.returncode == 0, r.stderr
    rows = {line.split()[-1]: int(line.split()[1]) for line in r.stdout.splitlines()
            if line.startswith("native")}
    assert rows == {"main": 1, "middle": 5, "leaf": 10}


def test_record_exit_status(first_py, daemon, tmp_path):
    p = run(first_py, daemon, "record", "-o", str(tmp_path / "a"), "--", first_py["python"],
            "-c", "import sys; sys.exit(3)")
    assert p.returncode == 3
    assert "exited with status 3" in p.stderr
    p = run(first_py, daemon, "record", "-o", str(tmp_path / "b"), "--", first_py["python"],
            "-c", "import os, signal; os.kill(os.getpid(), signal.SIGTERM)")
    assert p.returncode == 128 + signal.SIGTERM
    assert "killed by signal 15" in p.stderr
    p = run(first_py, daemon, "record", "-o", str(tmp_path / "c"), "--", "/nonexistent/cmd")
    assert p.returncode == 127
    assert "/nonexistent/cmd: No such file or directory" in p.stderr
    assert "nothing was recorded" in p.stderr


def test_record_forwards_signals(first_py, daemon, tmp_path):
    """A SIGINT sent to pyust goes to the command, which ends as it would;
    the session is stopped, destroyed, and what it recorded is read."""
    code = ("import time\n"
            "def wait():\n"
            "    print('ready', flush=True)\n"
            "    time.sleep(60)\n"
            "wait()\n")
    e = dict(daemon.env)
    proc = subprocess.Popen([pyust(first_py), "record", "-o", str(tmp_path / "t"), "--",
                             first_py["python"], "-c", code], env=e, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "ready\n"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGINT, err
    assert "KeyboardInterrupt" in err
    trace = Trace(tmp_path / "t")
    assert trace.calls("<string>")["wait"] == 1
    assert record_sessions(daemon) == []


def test_record_bad_usage(first_py, daemon, tmp_path):
    for args, want in ((["record"], "no command to run"),
                       (["record", "--bogus", "true"], "unknown option"),
                       (["record", "--subbuf-size", "3k", "true"], "not a power of 2"),
                       (["report"], "which trace"),
                       (["report", str(tmp_path)], "which view"),
                       (["report", str(tmp_path), "--calltime", "--top", "x"], "not an integer"),
                       (["frobnicate"], "unknown command")):
        p = run(first_py, daemon, *args)
        assert p.returncode == 2, (args, p.stderr)
        assert want in p.stderr, (args, p.stderr)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    p = run(first_py, daemon, "record", "-o", str(tmp_path / "full"), "true")
    assert p.returncode == 2 and "not an empty directory" in p.stderr
    assert run(first_py, daemon, "--version").stdout.startswith("pyust ")
    assert "pyust record" in run(first_py, daemon, "help", "record").stdout


def test_record_starts_and_stops_a_daemon(first_py, tmp_path):
    """With no session daemon, record starts one for the command and stops it after."""
    script = tmp_path / "run.sh"
    script.write_text(f"""
set -e
export LTTNG_HOME={tmp_path}/home
mkdir -p "$LTTNG_HOME"
{pyust(first_py)} record -o {tmp_path}/t -- {first_py["python"]} {FIB} 10
echo "status $?"
""")
    before = set(subprocess.run(["pgrep", "-x", "lttng-sessiond"], capture_output=True,
                                text=True).stdout.split())
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    cmd, env = apart(["bash", str(script)], env)
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.endswith("55\nstatus 0\n"), p.stdout
    assert Trace(tmp_path / "t").calls(FIB)["fib"] == 177
    after = set(subprocess.run(["pgrep", "-x", "lttng-sessiond"], capture_output=True,
                               text=True).stdout.split())
    assert after <= before


@pytest.fixture(scope="module")
def fib_trace(daemon, tmp_path_factory, first_py):
    out = tmp_path_factory.mktemp("cli") / "fib"
    p = run(first_py, daemon, "record", "-o", str(out), "--no-logging", "--",
            first_py["python"], FIB, "12")
    assert p.returncode == 0, p.stderr
    return out


def test_report_views(first_py, daemon, fib_trace):
    r = run(first_py, daemon, "report", str(fib_trace), "--calltime", "--name", "fib")
    assert r.returncode == 0, r.stderr
    rows = [line.split() for line in r.stdout.splitlines() if line.startswith("func")]
    assert [(row[1], row[4]) for row in rows] == [("465", "fib")]
    r = run(first_py, daemon, "report", str(fib_trace), "--flow", "--name", "fib")
    assert r.returncode == 0, r.stderr
    assert sum(1 for line in r.stdout.splitlines() if line.endswith("-> fib")) == 465
    assert sum(1 for line in r.stdout.splitlines() if line.endswith("<- fib")) == 465
    r = run(first_py, daemon, "report", str(fib_trace), "--folded", "--name", "fib")
    assert r.returncode == 0, r.stderr
    assert all(re.fullmatch(r"\S.*;?fib \(.*\) \d+", line) for line in r.stdout.splitlines())
    r = run(first_py, daemon, "report", str(fib_trace), "--calldist", "--name", "fib")
    assert r.returncode == 0 and "fib" in r.stdout, r.stderr
    r = run(first_py, daemon, "report", str(fib_trace), "--stack", env={"NO_COLOR": "1"})
    assert r.returncode == 0, r.stderr
    assert sum(1 for line in r.stdout.splitlines() if "-> fib" in line) == 465
    r = run(first_py, daemon, "report", str(fib_trace), "--calltime", "--sort", "bogus")
    assert r.returncode == 2 and "sort" in r.stderr
    r = run(first_py, daemon, "report", str(fib_trace.parent / "missing"), "--calltime")
    assert r.returncode == 1 and "No such file or directory" in r.stderr
    empty = fib_trace.parent / "empty"
    empty.mkdir(exist_ok=True)
    r = run(first_py, daemon, "report", str(empty), "--calltime")
    assert r.returncode == 1 and "no CTF trace" in r.stderr


def speedscope(py, daemon, trace, tmp_path, *extra):
    path = tmp_path / "profile.json"
    r = run(py, daemon, "report", str(trace), "--speedscope", str(path), *extra)
    assert r.returncode == 0, r.stderr
    doc = json.loads(path.read_text())
    assert doc["$schema"] == "https://www.speedscope.app/file-format-schema.json"
    frames = doc["shared"]["frames"]
    for prof in doc["profiles"]:
        assert prof["type"] == "evented" and prof["unit"] == "nanoseconds"
        stack, last = [], prof["startValue"]
        for ev in prof["events"]:
            assert ev["at"] >= last
            last = ev["at"]
            if ev["type"] == "O":
                stack.append(ev["frame"])
            else:
                assert stack.pop() == ev["frame"]
        assert stack == [] and last <= prof["endValue"]
    return doc, frames


def test_report_speedscope(first_py, daemon, fib_trace, tmp_path):
    doc, frames = speedscope(first_py, daemon, fib_trace, tmp_path)
    fib = [i for i, f in enumerate(frames) if f["name"] == "fib"]
    assert len(fib) == 1 and frames[fib[0]]["file"] == FIB
    opens = [ev for p in doc["profiles"] for ev in p["events"]
             if ev["type"] == "O" and ev["frame"] == fib[0]]
    assert len(opens) == 465
    assert len(doc["profiles"]) == 1


def flamegraph(py, daemon, trace, tmp_path, *extra):
    path = tmp_path / "flame.svg"
    r = run(py, daemon, "report", str(trace), "--flamegraph", str(path), *extra)
    assert r.returncode == 0, r.stderr
    svg = ET.parse(path).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    boxes = []
    for g in svg.iter(ns + "g"):
        rect = g.find(ns + "rect")
        boxes.append((g.find(ns + "title").text, float(rect.get("x")), float(rect.get("y")),
                      float(rect.get("width"))))
    return boxes


def test_report_flamegraph(first_py, daemon, fib_trace, tmp_path):
    boxes = flamegraph(first_py, daemon, fib_trace, tmp_path, "--name", "fib")
    assert boxes[0][0].startswith("all, ") and boxes[0][0].endswith(", 100.00%")
    assert boxes[0][3] == pytest.approx(1180, abs=0.01)
    fibs = [b for b in boxes if b[0].startswith(f"fib ({FIB}), ")]
    # fib(12) recurses 12 deep: one box per depth at least, none wider than the root.
    assert len({b[2] for b in fibs}) == 12
    assert all(0 < b[3] <= boxes[0][3] + 0.01 for b in boxes)
    # Stacks through fib only: every box is fib or one of its callers.
    (tmp_path / "folded").mkdir()
    r = run(first_py, daemon, "report", str(fib_trace), "--folded", "--name", "fib")
    frames = {f for line in r.stdout.splitlines() for f in line.rsplit(" ", 1)[0].split(";")}
    titles = {b[0].rsplit(", ", 2)[0] for b in boxes[1:]}
    assert titles == frames


ODD_NAMES = """
def f():
    pass
for name in ('q"uote\\\\', '<tag> & amp', 'ctl\\x01\\x1b[31m', 'sur\\udcffrogate', 'caf\\u00e9'):
    g = lambda: f()
    g.__code__ = g.__code__.replace(co_name=name, co_filename='odd"<&>.py')
    g()
"""


def test_report_files_with_odd_names(first_py, daemon, tmp_path):
    prog = tmp_path / "odd.py"
    prog.write_text(ODD_NAMES)
    out = tmp_path / "t"
    p = run(first_py, daemon, "record", "-o", str(out), "--no-logging", first_py["python"],
            str(prog))
    assert p.returncode == 0, p.stderr
    doc, frames = speedscope(first_py, daemon, out, tmp_path)
    names = {f["name"] for f in frames}
    assert {'q"uote\\', "<tag> & amp", "ctl\x01\x1b[31m", "sur?rogate", "caf\u00e9"} <= names
    assert {f["file"] for f in frames if f["name"] == "caf\u00e9"} == {'odd"<&>.py'}
    titles = {b[0].rsplit(", ", 2)[0] for b in flamegraph(first_py, daemon, out, tmp_path)}
    assert {'q"uote\\ (odd"<&>.py)', "<tag> & amp (odd\"<&>.py)", "ctl??[31m (odd\"<&>.py)",
            "caf\u00e9 (odd\"<&>.py)"} <= titles


def test_record_says_what_was_lost(first_py, daemon, tmp_path):
    """Buffers too small for the program: the loss is counted, and the option
    that avoids it named."""
    p = run(first_py, daemon, "record", "-o", str(tmp_path / "t"), "--subbuf-size", "4k",
            "--num-subbuf", "2", "--no-logging", first_py["python"], FIB, "20")
    assert p.returncode == 0, p.stderr
    m = re.search(r"(\d+) events lost.*--subbuf-size \(now 4k\) or --num-subbuf \(now 2\)",
                  p.stderr)
    assert m and int(m.group(1)) > 0, p.stderr
    assert Trace(tmp_path / "t").discarded == int(m.group(1))


def test_record_keeps_ignored_signals_ignored(first_py, daemon, tmp_path):
    """A command started with SIGINT ignored (nohup, a background job) gets it ignored."""
    code = ("import signal; print(signal.getsignal(signal.SIGINT) is signal.SIG_IGN,"
            " signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)")
    e = dict(daemon.env)
    p = subprocess.run([pyust(first_py), "record", "-o", str(tmp_path / "t"), "--no-logging",
                        first_py["python"], "-c", code], env=e, capture_output=True, text=True,
                       timeout=120, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert p.returncode == 0, p.stderr
    assert p.stdout == "True True\n"
