# SPDX-License-Identifier: MIT
"""Golden outputs: each view of the plugin over a trace of a small program
whose calls are known (programs/golden.py), compared line by line with the
files in golden/, on every interpreter. Timings, pids and paths are taken out
first, so what is compared is every function, count, nesting, file:line and
order that the views print.

Where CPython's own line numbers differ (3.9: a module starts at its first
statement, a loop's last line differs), golden/X.Y/ holds that version's
file. After a deliberate change of a view, PYUST_GOLDEN_UPDATE=1 rewrites the
files: golden/ from the first interpreter, golden/X.Y/ for the others where
they differ from it. Review the diff before committing it."""

import difflib
import json
import os
import re
from pathlib import Path

from pyusttest import PROGRAMS, bt

PROGRAM = PROGRAMS / "golden.py"
GOLDEN = Path(__file__).resolve().parent / "golden"
RECORD = "LOG WARNING shop: refused 2 items"
HEADER = "# SPDX-License-Identifier: MIT"


def local(text):
    """The program's path as its name."""
    return text.replace(str(PROGRAM), PROGRAM.name)


def flow(out):
    # Keep FILE:LINE, TYPE and the indented call; drop CPU, PID, TID, DELTA.
    lines = out.splitlines()
    cut = lines[0].index("FILE:LINE")
    return [line[cut:].rstrip() for line in lines]


def calltime(out):
    rows = []
    for line in out.splitlines()[1:]:
        kind, count, _, _, name = line.split(None, 4)
        rows.append(f"{kind} {count} {local(name)}")
    return rows


def calldist(out):
    """The title of each histogram, and its buckets' counts summed, which
    must be the title's count of calls; in name order, as the histograms
    come in order of time."""
    rows, title, total = [], None, 0
    for line in out.splitlines() + [""]:
        m = re.match(r"^\s+\d+ \|[@ ]{40} (\d+)$", line)
        if m:
            total += int(m.group(1))
        elif line and "Distribution" not in line:
            title, total = local(line), 0
        elif not line and title:
            assert title.endswith(f", {total} calls"), (title, total)
            rows.append(title)
            title = None
    return sorted(rows)


def folded(out):
    """The stacks, cut at the first frame outside the program (the logging
    module's frames differ between versions), once each."""
    stacks = set()
    for line in out.splitlines():
        frames, _, weight = line.rpartition(" ")
        assert int(weight) > 0, line
        kept = []
        for frame in frames.split(";"):
            if not frame.endswith(f" ({PROGRAM})"):
                break
            kept.append(local(frame))
        stacks.add(";".join(kept))
    return sorted(stacks)


def stack(out):
    # Drop "+ delta us  pid/tid" and the inclusive times of returns; keep the
    # indentation by depth (the tid is padded to 7 columns, one space, then
    # two per level: pids have fewer digits in a fresh root).
    rows = []
    for line in out.splitlines():
        m = re.match(r"^\+\s+[0-9.]+ us\s+\d+/(\d+)( +)(\S.*?)(  \[[0-9.]+ us\])?$", line)
        assert m, line
        indent = len(m.group(2)) - max(0, 7 - len(m.group(1))) - 1
        rows.append(" " * indent + local(m.group(3)))
    return rows


def speedscope(out):
    """Per profile, the opening and closing of the program's frames (the
    sink has no file filter: the interpreter's start is in the trace too)."""
    doc = json.loads(out)
    frames = doc["shared"]["frames"]
    rows = []
    for prof in doc["profiles"]:
        assert re.fullmatch(r"pid \d+ tid \d+", prof["name"]), prof["name"]
        rows.append(f"profile {prof['type']} {prof['unit']}")
        for ev in prof["events"]:
            f = frames[ev["frame"]]
            if f.get("file") == str(PROGRAM):
                rows.append(f"{ev['type']} {f['name']} ({local(f['file'])})")
    return rows


VIEWS = (
    ("flow", 'file="*golden.py"', flow),
    ("calltime", 'file="*golden.py",sort="name"', calltime),
    ("calldist", 'file="*golden.py"', calldist),
    ("folded", 'file="*golden.py"', folded),
    ("stack", 'file="*golden.py"', stack),
    ("speedscope", None, speedscope),
)


def test_golden_views(py, first_py, rec):
    proc, trace = rec.run([py["python"], str(PROGRAM)], py, logging=[["-a"]])
    assert proc.stdout == b"70\n"
    # The record is in the trace: the merged view shows it once.
    out, _, _ = bt(py, trace.path, "stack")
    assert sum(RECORD in line for line in out.splitlines()) == 1
    update = os.environ.get("PYUST_GOLDEN_UPDATE")
    wrong = []
    for sink, params, normalise in VIEWS:
        out, _, _ = bt(py, trace.path, sink, params)
        got = normalise(out)
        common, own = GOLDEN / f"{sink}.txt", GOLDEN / py["version"] / f"{sink}.txt"
        if update:
            text = "\n".join([HEADER] + got) + "\n"
            if py == first_py:
                common.write_text(text)
            elif text != common.read_text():
                own.parent.mkdir(exist_ok=True)
                own.write_text(text)
            elif own.exists():
                own.unlink()
            continue
        path = own if own.exists() else common
        want = path.read_text().splitlines()
        assert want[0] == HEADER, path
        want = want[1:]
        if got != want:
            wrong.append("\n".join(difflib.unified_diff(want, got, str(path), "trace",
                                                        lineterm="")))
    assert not wrong, "\n".join(wrong)
