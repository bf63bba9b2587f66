# SPDX-License-Identifier: MIT
"""Chaining to another PEP 523 user, recursion limits, odd names."""

import subprocess

import pytest

from pyusttest import Trace, clean_env, module_dir


def test_chains_to_previous_eval_function(py, rec, helpers):
    ext = helpers("peval", py)
    code = (
        "import peval\n"
        "peval.install()\n"
        "import pyust\n"
        "def probe():\n"
        "    pass\n"
        "a = peval.count()\n"
        "for i in range(5):\n"
        "    probe()\n"
        "b = peval.count()\n"
        "pyust.stop()\n"
        "print(b - a, peval.installed(), pyust.hook_installed())\n"
        "for i in range(2):\n"
        "    probe()\n"
        "print(peval.count() - b)\n"
    )
    proc, trace = rec.run([py["python"], "-c", code], py, preload=False,
                          env={"PYTHONPATH": f"{ext}:{module_dir(py)}"})
    # The other hook saw every frame while pyust ran, and got its place back.
    assert proc.stdout == b"5 True False\n2\n"
    assert len(trace.python("entry", "probe")) == 5
    assert len(trace.python("return", "probe")) == 5


JIT = """
import sys, _testinternalcapi
def f():
    pass
entered = False
for i in range(4 * _testinternalcapi.TIER2_THRESHOLD):
    f()
    entered = entered or sys._jit.is_active()
print(entered)
"""


def test_jit_is_entered_only_without_a_frame_hook(py, rec, helpers):
    """3.14+ JIT-compile a hot loop only while no PEP 523 hook is set: not under
    a pass-through hook (peval) either, so not while pyust records function
    events; preloaded without a session, pyust leaves the JIT alone."""
    if tuple(map(int, py["version"].split("."))) < (3, 14):
        pytest.skip("no JIT before 3.14")
    env = dict(clean_env(), PYTHON_JIT="1")
    ok = subprocess.run([py["python"], "-c", "import sys; print(sys._jit.is_available())"],
                        env=env, capture_output=True, text=True).stdout
    if ok != "True\n":
        pytest.skip(f"{py['python']} has no JIT")
    plain = subprocess.run([py["python"], "-c", JIT], env=env, capture_output=True, text=True)
    assert plain.stdout == "True\n", plain.stderr
    ext = helpers("peval", py)
    hooked = subprocess.run([py["python"], "-c", "import peval; peval.install()\n" + JIT],
                            env=dict(env, PYTHONPATH=str(ext)), capture_output=True, text=True)
    assert hooked.stdout == "False\n", hooked.stderr
    proc, trace = rec.run([py["python"], "-c", JIT], py, env={"PYTHON_JIT": "1"},
                          events=("python:function__entry",), filter='co_name == "f"')
    assert proc.stdout == b"False\n"
    assert len(trace.python("entry", "f")) > 0
    proc, trace = rec.run([py["python"], "-c", JIT], py, env={"PYTHON_JIT": "1"},
                          events=("python:gc__start",))
    assert proc.stdout == b"True\n"


def test_stop_and_start_under_a_later_hook(py, rec, helpers):
    """A hook installed after pyust calls it: stop() silences pyust in place
    and start() resumes it, without pyust calling itself."""
    ext = helpers("peval", py)
    code = (
        "import pyust, peval\n"
        "peval.install()\n"
        "def probe():\n"
        "    pass\n"
        "pyust.stop()\n"
        "print(pyust.hook_installed(), peval.installed())\n"
        "a = peval.count()\n"
        "probe(); probe()\n"
        "pyust.start()\n"
        "print(pyust.hook_installed())\n"
        "for i in range(3):\n"
        "    probe()\n"
        "print(peval.count() - a)\n"
    )
    proc, trace = rec.run([py["python"], "-c", code], py, preload=False,
                          env={"PYTHONPATH": f"{ext}:{module_dir(py)}"})
    assert proc.stdout == b"False True\nTrue\n5\n"
    assert len(trace.python("entry", "probe")) == 3
    assert len(trace.python("return", "probe")) == 3


RECURSION = """
import sys
def down(n):
    return 0 if n == 0 else 1 + down(n - 1)
print(down(sys.getrecursionlimit() - 50))
sys.setrecursionlimit(100000)
try:
    print(down(60000))
except RecursionError:
    print("RecursionError")
"""


def test_recursion(py, rec):
    """The default limit stays reachable; a raised one never crashes."""
    base = subprocess.run([py["python"], "-c", RECURSION], capture_output=True)
    proc, trace = rec.run([py["python"], "-c", RECURSION], py,
                          events=("python:function__entry",), filter='co_name == "down"',
                          check=False)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode().split()
    assert int(out[0]) == 950
    if base.returncode == 0:
        assert out[1] in ("60000", "RecursionError")
    entries = len(trace.python("entry", "down"))
    assert entries >= 951 + (60001 if out[1] == "60000" else 0)


def test_odd_names(py, rec):
    """Surrogates and non-ASCII in file and function names: replaced, never lost."""
    code = (
        "src = 'def f():\\n    pass\\nf()\\n'\n"
        "exec(compile(src, 'odd\\udcff name\\u00e9.py', 'exec'))\n"
        "g = lambda: None\n"
        "g.__code__ = g.__code__.replace(co_name='na\\udc80me\\u4e2d')\n"
        "g()\n"
        "h = lambda: None\n"
        "h.__code__ = h.__code__.replace(co_name='x' * 100000)\n"
        "h()\n"
    )
    proc, trace = rec.run([py["python"], "-c", code], py)
    assert proc.stderr == b""
    names = trace.calls()
    assert names["f"] == 1
    assert names["na?me\u4e2d"] == 1
    assert names["x" * 100000] == 1
    files = {e["co_filename"] for e in trace.python("entry", "f")}
    assert files == {"odd? name\u00e9.py"}
    trace.check_nesting()


CODE_CHURN = """
import sys
def make(name, lineno):
    ns = {}
    exec(compile("\\n" * lineno + f"def {name}():\\n    return 1\\n", "churn.py", "exec"), ns)
    return ns[name]
# Code objects that die, each followed by one likely born at its address.
for i in range(3000):
    f = make(f"f_{i}", i % 7)
    f(); f()
    del f
# More code objects alive at once than pyust's cache holds, called in rounds.
gs = [make(f"g_{i}", 0) for i in range(5000)]
for _ in range(2):
    for g in gs:
        g()
# Same name, file and first line as a dead one: line numbers of its own.
for lines in ("pass", "x = 1\\n    pass"):
    h = make("h", 0)
    h.__code__ = compile(f"def h():\\n    {lines}\\n    return 1\\n", "churn.py",
                         "exec").co_consts[0]
    h()
    del h
"""


def test_code_objects_come_and_go(py, rec):
    """Each event names the code object that ran: dead code objects, their
    successors at the same address and more live ones than the cache holds
    never get each other's names or lines."""
    proc, trace = rec.run([py["python"], "-c", CODE_CHURN], py,
                          filter='co_filename == "churn.py" && co_name != "<module>"')
    assert proc.stderr == b""
    calls = trace.calls("churn.py")
    want = {f"f_{i}": 2 for i in range(3000)}
    want.update({f"g_{i}": 2 for i in range(5000)})
    want["h"] = 2
    assert calls == want
    starts = {e["co_name"]: e["line_no"] for e in trace.python("entry", co_filename="churn.py")}
    assert all(starts[f"f_{i}"] == i % 7 + 1 for i in range(3000))
    if py["version"] not in ("3.12", "3.13"):  # 3.12+: return line = entry line
        assert [e["line_no"] for e in trace.python("return", "h")] == [3, 4]
    trace.check_nesting()


@pytest.mark.parametrize("limit", [None, 10 ** 6])
def test_deep_recursion_in_threads(py, rec, limit):
    """Threads have their own stacks: a small one fails cleanly, no crash."""
    code = (
        "import sys, threading\n"
        f"{'sys.setrecursionlimit(%d)' % limit if limit else ''}\n"
        "threading.stack_size(512 * 1024)\n"
        "def down(n):\n"
        "    return 0 if n == 0 else 1 + down(n - 1)\n"
        "res = []\n"
        "def run():\n"
        "    try:\n"
        "        res.append(down(200000))\n"
        "    except RecursionError:\n"
        "        res.append('RecursionError')\n"
        "t = threading.Thread(target=run); t.start(); t.join()\n"
        "print(res[0])\n"
    )
    # The hook is in place (the event is enabled), nothing is recorded.
    proc, trace = rec.run([py["python"], "-c", code], py, events=("python:function__entry",),
                          filter='co_name == "no such function"')
    assert proc.stdout == b"RecursionError\n"
    assert trace.events == []


def test_trace_with_an_undeclared_stream(py, rec):
    """A stream file whose stream class the metadata never declares (LTTng leaves
    one when an application is killed while registering a channel) is set
    aside, and the rest of the trace still reads in full."""
    prog = "def f(): pass\nfor i in range(10): f()\n"
    proc, trace = rec.run([py["python"], "-c", prog], py, events=("python:function__entry",),
                          filter='co_name == "f"')
    assert len(trace.python("entry", "f")) == 10
    streams = [p for p in trace.path.rglob("chan_*") if p.is_file()]
    assert streams
    data = bytearray(streams[0].read_bytes())
    data[20:24] = (77).to_bytes(4, "little")  # a stream class id the metadata lacks
    orphan = streams[0].with_name("chan_77_0")
    orphan.write_bytes(bytes(data))
    again = Trace(trace.path)
    assert len(again.python("entry", "f")) == 10
    assert not orphan.exists()
    assert (trace.path.parent / (trace.path.name + "-undeclared")
            / orphan.relative_to(trace.path)).exists()
