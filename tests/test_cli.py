# SPDX-License-Identifier: MIT
"""pyust report over traces pyust record writes (test_record.py tests
record). The command is C that does not depend on the interpreter: one
interpreter runs these tests."""

import json
import re
import xml.etree.ElementTree as ET
import subprocess
from pathlib import Path

import pytest

from pyusttest import PROGRAMS

FIB = str(PROGRAMS / "fib.py")


def pyust(py):
    return str(Path(py["prefix"]) / "bin" / "pyust")


def run(py, daemon, *args, env=None, **kw):
    e = dict(daemon.env, PYUST_PLUGIN_PATH=str(Path(py["prefix"]) / "lib" / "babeltrace2"
                                                / "plugins"))
    e.update(env or {})
    return subprocess.run([pyust(py), *args], env=e, capture_output=True, text=True,
                          timeout=300, **kw)


@pytest.fixture(scope="module")
def fib_trace(daemon, tmp_path_factory, first_py):
    out = tmp_path_factory.mktemp("cli") / "fib"
    p = run(first_py, daemon, "record", "-o", str(out), "--no-logging", "--",
            first_py["python"], FIB, "12")
    assert p.returncode == 0, p.stderr
    return out


def test_report_bad_usage(first_py, daemon, tmp_path):
    for args, want in ((["report"], "which trace"),
                       (["report", str(tmp_path)], "which view"),
                       (["report", str(tmp_path), "--calltime", "--top", "x"], "not an integer")):
        p = run(first_py, daemon, *args)
        assert p.returncode == 2, (args, p.stderr)
        assert want in p.stderr, (args, p.stderr)


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


def test_report_native_names(first_py, daemon, helpers, tmp_path):
    """report adds debug-info itself: the native functions have their names."""
    out = tmp_path / "t"
    p = run(first_py, daemon, "record", "-o", str(out), "--native", "--", str(helpers("native")))
    assert p.returncode == 0, p.stderr
    r = run(first_py, daemon, "report", str(out), "--calltime")
    assert r.returncode == 0, r.stderr
    rows = {line.split()[-1]: int(line.split()[1]) for line in r.stdout.splitlines()
            if line.startswith("native")}
    assert rows == {"main": 1, "middle": 5, "leaf": 10}


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
