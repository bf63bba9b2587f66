# SPDX-License-Identifier: MIT
"""Python function events: exact counts, fields and nesting, on every interpreter."""

import json
import subprocess
from collections import Counter

import pytest

from pyusttest import PROGRAMS, module_dir

FIB = str(PROGRAMS / "fib.py")
CONSTRUCTS = str(PROGRAMS / "constructs.py")


def def_line(path, name):
    with open(path) as f:
        for no, line in enumerate(f, 1):
            if line.lstrip().startswith(f"def {name}("):
                return no
    raise LookupError(name)


def version(py):
    return tuple(int(x) for x in py["version"].split("."))


def test_fib_exact(py, rec):
    proc, trace = rec.run([py["python"], FIB], py)
    assert proc.stdout == b"610\n"
    assert proc.stderr == b""
    entries = trace.python("entry", "fib")
    returns = trace.python("return", "fib")
    assert len(entries) == 1973
    assert len(returns) == 1973
    line = def_line(FIB, "fib")
    assert {e["line_no"] for e in entries} == {line}
    assert {e["co_filename"] for e in entries + returns} == {FIB}
    # The line being executed when fib leaves.
    assert {e["line_no"] for e in returns} == {line + 1}
    trace.check_nesting()
    # The script's own module body, once.
    assert len(trace.python("entry", "<module>", FIB)) == 1


RETURN_SITES = """\
def f(n):
    if n == 0:
        return 0
    if n == 1:
        return 1
    return 2
for n in (0, 1, 2, 0, 2, 1, 1, 2, 0, 2):
    f(n)
"""


def test_return_lines(py, rec):
    """Three return sites, met in turn: the line of each return, every time (pyust
    keeps the last lines looked up per code object)."""
    proc, trace = rec.run([py["python"], "-c", RETURN_SITES], py)
    got = [e["line_no"] for e in trace.python("return", "f")]
    ns = (0, 1, 2, 0, 2, 1, 1, 2, 0, 2)
    assert got == [(3, 5, 6)[n] for n in ns]


DEEP = """\
import sys
sys.setrecursionlimit(5000)
def down(n):
    if n:
        down(n - 1)
    return n
down(3000)
"""


def test_return_lines_deep(py, rec):
    """Deep enough for CPython's data stack to take new chunks: on 3.12+ the
    frame that starts a chunk is freed with it before pyust regains control,
    and its return has the def line (at most one frame per 16 KiB chunk);
    every other return, on every version, has the line it left at."""
    proc, trace = rec.run([py["python"], "-c", DEEP], py)
    lines = Counter(e["line_no"] for e in trace.python("return", "down"))
    assert sum(lines.values()) == 3001
    assert set(lines) <= {3, 6}
    if version(py) >= (3, 12):
        assert 1 <= lines[3] <= 3001 // 50, lines
    else:
        assert lines[3] == 0, lines


TOO_DEEP = """\
import sys
sys.setrecursionlimit(300)
def outer():
    x = 1
    def down(n):
        return x + down(n + 1)
    try:
        down(0)
    except RecursionError:
        print("RecursionError")
outer()
"""


def test_return_lines_recursion_error(py, rec):
    """Returns by RecursionError have the line they left at; the call refused
    at entry (3.13 checks before the frame's first line) has the def line, never
    -1, like chunk-starting frames on 3.12+ (test_return_lines_deep)."""
    proc, trace = rec.run([py["python"], "-c", TOO_DEEP], py)
    assert proc.stdout == b"RecursionError\n"
    entries = trace.python("entry", "down")
    lines = Counter(e["line_no"] for e in trace.python("return", "down"))
    assert 250 <= len(entries) == sum(lines.values())
    assert set(lines) <= {5, 6}, lines
    assert lines[5] <= 1 + len(entries) // 50, lines
    trace.check_nesting()


def test_import_mode(py, rec):
    """import pyust from the application gives the same events, no preload."""
    code = f"import pyust, runpy; runpy.run_path({FIB!r}, run_name='__main__')"
    proc, trace = rec.run([py["python"], "-c", code], py, preload=False,
                          env={"PYTHONPATH": module_dir(py)})
    assert proc.stdout == b"610\n"
    assert len(trace.python("entry", "fib")) == 1973
    assert len(trace.python("return", "fib")) == 1973
    trace.check_nesting()


def test_constructs_match_setprofile(py, rec, tmp_path):
    """Counts per function equal sys.setprofile's "call" events, on every version."""
    counts = tmp_path / "counts.json"
    subprocess.run([py["python"], CONSTRUCTS, "--profile", str(counts)], check=True)
    expected = json.loads(counts.read_text())
    proc, trace = rec.run([py["python"], CONSTRUCTS], py)
    got = trace.calls(CONSTRUCTS)
    # The module body, class bodies and the decorator run at import, before
    # the profiler is set; the rest only under main().
    at_import = {name: got.pop(name) for name in ("<module>", "Shape", "Inner", "Pause", "decorate")}
    assert at_import == dict.fromkeys(at_import, 1)
    # Known by construction: 4 yields + the final return of list(countdown(4)),
    # 1 + close() and 1 + throw() for the two interrupted ones (3.13 closes a
    # generator paused outside any try block without resuming it; 3.14+ do
    # so too, but not while a tool watches PY_UNWIND, as sys.setprofile
    # does: test_generator_close_runs_frame_only_when_watched).
    closing = 0 if version(py) == (3, 13) else 1
    assert expected["countdown"] == 5 + (1 + closing) + 2
    if version(py) >= (3, 14):
        expected["countdown"] -= 1
    assert dict(got) == expected
    assert expected["fail"] == 4
    trace.check_nesting()


def test_threads(py, rec):
    code = (
        "import threading\n"
        "def fib(n):\n"
        "    return n if n < 2 else fib(n - 1) + fib(n - 2)\n"
        "ts = [threading.Thread(target=fib, args=(12,)) for _ in range(4)]\n"
        "[t.start() for t in ts]\n"
        "[t.join() for t in ts]\n"
    )
    proc, trace = rec.run([py["python"], "-c", code], py)
    per_thread = {}
    for e in trace.python("entry", "fib"):
        per_thread[e.ctx["vtid"]] = per_thread.get(e.ctx["vtid"], 0) + 1
    assert sorted(per_thread.values()) == [465] * 4
    trace.check_nesting()


def test_generator_close_runs_frame_only_when_watched(py):
    """Why pyust counts one call less than sys.setprofile on 3.14+: closing a
    generator paused outside any try block runs its frame only while a tool
    watches PY_UNWIND (which sys.setprofile's does), without pyust too. 3.12
    always runs it, 3.13 never."""
    if version(py) < (3, 12):
        pytest.skip("sys.monitoring is 3.12+")
    out = subprocess.run([py["python"], str(PROGRAMS / "gen_close.py")], check=True,
                         capture_output=True, text=True).stdout
    runs = json.loads(out)
    assert runs == {"alone": version(py) < (3, 13),
                    "unwind_watched": version(py) != (3, 13)}


def test_gc_events(py, rec):
    # The interpreter may collect on its own before gc.disable() (3.14 does
    # at start-up): only the collections after mark() are the program's.
    code = (
        "import gc\n"
        "gc.disable()\n"
        "def mark(): pass\n"
        "mark()\n"
        "for i in range(3):\n"
        "    a = []; a.append(a); del a\n"
        "    print(gc.collect(i % 3))\n"
    )
    proc, trace = rec.run([py["python"], "-c", code], py)
    collected = [int(x) for x in proc.stdout.split()]
    marked = next(i for i, e in enumerate(trace.events)
                  if e.name == "python:function__entry" and e["co_name"] == "mark")
    after = trace.events[marked:]
    starts = [e for e in after if e.name == "python:gc__start"]
    dones = [e for e in after if e.name == "python:gc__done"]
    assert [e["generation"] for e in starts] == [0, 1, 2]
    assert [e["collected"] for e in dones] == collected
    assert all(c >= 1 for c in collected)


def test_exceptions_balance(py, rec):
    code = (
        "def f(n):\n"
        "    if n == 0:\n"
        "        raise KeyError(n)\n"
        "    return f(n - 1)\n"
        "for i in range(10):\n"
        "    try:\n"
        "        f(i)\n"
        "    except KeyError:\n"
        "        pass\n"
        "f(3)\n"
    )
    proc, trace = rec.run([py["python"], "-c", code], py, check=False)
    assert proc.returncode == 1 and b"KeyError: 0" in proc.stderr
    assert len(trace.python("entry", "f")) == sum(i + 1 for i in range(10)) + 4
    assert len(trace.python("return", "f")) == len(trace.python("entry", "f"))
    trace.check_nesting()


def test_filter_expression(py, rec):
    """LTTng filters on the fields: our answer to DTrace predicates."""
    proc, trace = rec.run([py["python"], FIB, "10"], py, events=("python:function__entry",),
                          filter='co_name == "fib" && line_no > 0')
    assert {e.name for e in trace.events} == {"python:function__entry"}
    assert {e["co_name"] for e in trace.events} == {"fib"}
    assert len(trace.events) == 177
