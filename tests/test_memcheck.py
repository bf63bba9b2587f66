# SPDX-License-Identifier: MIT
"""A traced program under valgrind's memcheck: no error in pyust's code, and
no memory lost per unit of work.

CPython has memcheck findings of its own, and abandons much of its memory at
exit by design (so does pyust: what its code cache holds when the interpreter
ends). The report is read as XML and each finding is charged to pyust when
pyust's code called, with no Python code run in between, the code where it
arose. Every error so charged fails. Lost blocks are charged the same way,
and compared between two runs doing one and four rounds of the same work
(calls, generators, threads, log records): none may grow."""

import os
import shutil
import xml.etree.ElementTree as ET
from collections import Counter

import pytest

from pyusttest import SANITIZER_RUNTIME

PROGRAM = """
import logging, sys, threading
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)
def gen():
    yield 1
    yield 2
ns = {}
exec(compile("def odd():\\n    pass\\n", "odd\\udcff name\\u00e9.py", "exec"), ns)
log = logging.getLogger("vg")
for i in range(int(sys.argv[1])):
    t = threading.Thread(target=fib, args=(10,))
    t.start()
    t.join()
    print(fib(12), sum(gen()))
    ns["odd"]()
    log.warning("under valgrind %s \\udcff", i)
"""

# pyust's functions that only pass a call on to CPython's (preload/boot.c).
PASS_THROUGH = ("Py_Main", "Py_BytesMain", "Py_Initialize", "Py_InitializeEx",
                "Py_InitializeFromConfig", "Py_FinalizeEx", "Py_Finalize")
# pyust's functions that call the evaluator (pymod/hook.c): below them the
# frame's Python code runs, even where valgrind cannot name the evaluator
# (Debian's 3.15: its frames are "?").
EVALUATOR_CALLS = ("eval_next", "eval_too_deep")


def charged(frames):
    """pyust's frame that called where the finding arose, or None."""
    for f in frames:
        fn = f.findtext("fn") or "?"
        if fn == "_PyEval_EvalFrameDefault" or fn in EVALUATOR_CALLS:
            return None  # Python code ran in between: the program's doing
        if "pyust" in os.path.basename(f.findtext("obj") or "") and fn not in PASS_THROUGH:
            return f"{fn}:{f.findtext('line')}"
    return None


def describe(error):
    frames = [f"{f.findtext('fn') or '?'} ({os.path.basename(f.findtext('obj') or '')}"
              f"{':' + f.findtext('line') if f.findtext('line') else ''})"
              for f in error.find("stack").iter("frame")]
    what = error.findtext("what") or error.find("xwhat").findtext("text")
    return f"{error.findtext('kind')}: {what}\n    " + "\n    ".join(frames[:16])


def memcheck(py, rec, tmp_path, valgrind, rounds):
    """Errors charged to pyust (descriptions) and bytes lost, by pyust's frame."""
    xml_file = tmp_path / f"memcheck-{rounds}.xml"
    cmd = [valgrind, "--tool=memcheck", "--leak-check=full", "--num-callers=40",
           "--xml=yes", f"--xml-file={xml_file}", py["python"], "-c", PROGRAM, str(rounds)]
    proc, trace = rec.run(cmd, py, events=("python:*",), logging=[["vg"]], timeout=900,
                          env={"PYTHONMALLOC": "malloc"})
    assert proc.stdout == b"144 3\n" * rounds, proc.stderr
    # Traced while under valgrind: every call and record is in the trace.
    assert trace.calls()["fib"] == rounds * (465 + 177)
    assert len(trace.python("entry", "odd")) == rounds
    assert {e["co_filename"] for e in trace.python("entry", "odd")} == {"odd? name\u00e9.py"}
    assert [e["msg"] for e in trace.events if e.name == "lttng_python:event"] == \
        [f"under valgrind {i} ?" for i in range(rounds)]  # surrogates replaced, as in names
    root = ET.parse(xml_file).getroot()
    assert [s.findtext("state") for s in root.iter("status")] == ["RUNNING", "FINISHED"], \
        f"memcheck's report in {xml_file} is not complete"
    errors, lost = [], Counter()
    for error in root.iter("error"):
        kind, site = error.findtext("kind"), charged(error.find("stack").iter("frame"))
        if not site:
            continue
        if not kind.startswith("Leak_"):
            errors.append(describe(error))
        elif kind == "Leak_DefinitelyLost":
            lost[site] += int(error.find("xwhat").findtext("leakedbytes"))
    return errors, lost


def test_memcheck_traced_program(py, rec, tmp_path):
    if SANITIZER_RUNTIME:
        pytest.skip("valgrind does not run programs built with ASan")
    valgrind = shutil.which("valgrind")
    if not valgrind:
        if os.environ.get("PYUST_REQUIRE_VALGRIND"):
            pytest.fail("valgrind is required (Debian: valgrind)")
        pytest.skip("valgrind is not installed")
    errors, once = memcheck(py, rec, tmp_path, valgrind, 1)
    more_errors, four = memcheck(py, rec, tmp_path, valgrind, 4)
    assert not errors + more_errors, "\n".join(errors + more_errors)
    grew = {site: (once[site], n) for site, n in four.items() if n > once[site]}
    assert not grew, f"bytes lost after 1 and 4 rounds, by pyust's frame: {grew}"
