# SPDX-License-Identifier: MIT
"""The Babeltrace 2 plugin pyust: its sinks read real traces recorded from
the test programs; exact counts, nesting and totals, never timings."""

import os
import re
import subprocess
import uuid
from collections import Counter
from pathlib import Path

import pytest

from pyusttest import PROGRAMS, Trace, bt, ld_preload, libpyust, plugin_dir

FIB = str(PROGRAMS / "fib.py")
LOGGING_APP = str(PROGRAMS / "logging_app.py")
MIXED = str(PROGRAMS / "python_c_python.py")
SINKS = ("flow", "calltime", "calldist", "folded", "stack")
FIB15_CALLS = 1973
NATIVE_EVENTS = ("lttng_ust_cyg_profile_fast:*",)
NATIVE_CONTEXTS = ("vpid", "vtid", "ip")


# Parsers of the sinks' outputs

def calltime_rows(out):
    """{(type, function): (count, incl, excl)} and the total row."""
    rows, total = {}, None
    for line in out.splitlines()[1:]:
        m = re.match(r"^(func|native|total)\s+(\d+)\s+(\d+|-)\s+(\d+)  (.*)$", line)
        if not m:
            continue
        kind, count, incl, excl, name = m.groups()
        if kind == "total":
            total = (int(count), int(excl))
        else:
            rows[(kind, name)] = (int(count), int(incl), int(excl))
    return rows, total


def flow_lines(out):
    """(tid, type, indent, arrow, name) per call line of the flow sink."""
    lines = []
    for line in out.splitlines()[1:]:
        if line.startswith("#"):
            continue
        m = re.match(r"^\s*(\S+)\s+(\S+)\s+(\S+)\s+(\d+) .*? (func  |native) ( *)(->|<-) (.*)$",
                     line)
        assert m, f"malformed flow line: {line!r}"
        lines.append((m.group(3), m.group(5).strip(), len(m.group(6)), m.group(7),
                      m.group(8)))
    return lines


def check_flow_nesting(lines):
    """Each thread's lines nest: an entry is indented by its depth, a return
    closes the innermost open call at that same indentation."""
    stacks = {}
    for tid, _, indent, arrow, name in lines:
        st = stacks.setdefault(tid, [])
        if arrow == "->":
            assert indent == 2 * len(st), (tid, name, indent, len(st))
            st.append(name)
        else:
            assert st and st.pop() == name, (tid, name)
            assert indent == 2 * len(st), (tid, name, indent, len(st))
    return stacks


def calldist_counts(out, title):
    """The bucket counts of one function's histogram."""
    counts, inside = [], False
    for line in out.splitlines():
        if line.startswith(title):
            inside = True
            continue
        if inside:
            m = re.match(r"^\s+(\d+) \|([@ ]{40}) (\d+)$", line)
            if m:
                counts.append(int(m.group(3)))
            elif "Distribution" not in line:
                break
    return counts


def folded_stacks(out):
    stacks = Counter()
    for line in out.splitlines():
        frames, _, weight = line.rpartition(" ")
        assert frames and weight.isdigit(), f"malformed folded line: {line!r}"
        stacks[frames] += int(weight)
    return stacks


# Recording

def record(daemon, tmp, py, cmd, *, entry_filter=None, discard=False, env=None):
    """A session of our own: an optional filter on function__entry only (the
    returns stay), or tiny discard-mode buffers that lose events."""
    name = "p" + uuid.uuid4().hex[:12]
    out = Path(tmp) / name
    lt = daemon.lttng
    lt("create", name, "-o", str(out))
    try:
        if discard:
            lt("enable-channel", "-u", "-s", name, "--discard", "--subbuf-size=4096",
               "--num-subbuf=2", "chan")
        else:
            lt("enable-channel", "-u", "-s", name, "--blocking-timeout=inf",
               "--subbuf-size=1M", "--num-subbuf=8", "chan")
        entry = ["enable-event", "-u", "-s", name, "-c", "chan", "python:function__entry"]
        if entry_filter:
            entry += ["--filter", entry_filter]
        lt(*entry)
        lt("enable-event", "-u", "-s", name, "-c", "chan", "python:function__return")
        for c in ("vpid", "vtid"):
            lt("add-context", "-u", "-s", name, "-c", "chan", "-t", c)
        lt("start", name)
        run_env = dict(daemon.env, LD_PRELOAD=ld_preload(libpyust(py)), **(env or {}))
        if not discard:
            run_env["LTTNG_UST_ALLOW_BLOCKING"] = "1"
        subprocess.run(cmd, env=run_env, check=True, capture_output=True, timeout=300)
        lt("stop", name)
    finally:
        lt("destroy", name, check=False)
    return out


@pytest.fixture(scope="module")
def fib_trace(daemon, tmp_path_factory, first_py):
    from pyusttest import Recorder

    rec = Recorder(daemon, tmp_path_factory.mktemp("fib"))
    proc, trace = rec.run([first_py["python"], FIB], first_py)
    assert proc.stdout == b"610\n"
    return trace.path


# Tests

def test_installed_plugin(first_py):
    d = plugin_dir(first_py)
    assert sorted(p.name for p in d.iterdir()) == ["babeltrace-plugin-pyust.so"]
    r = subprocess.run(["babeltrace2", "--plugin-path", str(d), "list-plugins"],
                       capture_output=True, text=True, check=True)
    for sink in SINKS:
        assert f"sink.pyust.{sink}" in r.stdout
    # Only the plugin's entry points are exported.
    nm = subprocess.run(["nm", "-D", "--defined-only", str(d / "babeltrace-plugin-pyust.so")],
                        capture_output=True, text=True, check=True).stdout
    exported = {line.split()[-1] for line in nm.splitlines()}
    assert exported and all(s.startswith(("__bt_", "__start___bt", "__stop___bt"))
                            for s in exported), exported


def test_calltime_counts(fib_trace, first_py):
    out, _, _ = bt(first_py, fib_trace, "calltime")
    rows, total = calltime_rows(out)
    count, incl, excl = rows[("func", f"fib ({FIB})")]
    assert count == FIB15_CALLS
    assert rows[("func", f"<module> ({FIB})")][0] == 1
    assert 0 < excl <= incl
    # The rows are sorted by exclusive time; the total adds them all up.
    excls = [r[2] for r in rows.values()]
    assert excls == sorted(excls, reverse=True)
    assert total == (sum(r[0] for r in rows.values()), sum(excls))
    assert "#" not in out  # nothing to warn about


def test_folded_sums_to_total(fib_trace, first_py):
    out, err, _ = bt(first_py, fib_trace, "folded")
    stacks = folded_stacks(out)
    _, total = calltime_rows(bt(first_py, fib_trace, "calltime")[0])
    assert sum(stacks.values()) == total[1]
    assert f"total {total[1]} ns" in err
    # fib(15) recurses 15 deep under the module body.
    frame = f"fib ({FIB})"
    deepest = max(s.split(";").count(frame) for s in stacks)
    assert deepest == 15
    assert all(s.startswith(f"<module> ({FIB})") for s in stacks if frame in s)


def test_flow_two_lines_per_call(fib_trace, first_py):
    out, _, _ = bt(first_py, fib_trace, "flow")
    assert out.splitlines()[0].split() == ["C", "PID", "TID", "DELTA(us)", "FILE:LINE", "TYPE",
                                           "--", "FUNC"]
    lines = flow_lines(out)
    calls = Counter((arrow, name) for _, _, _, arrow, name in lines)
    assert calls[("->", "fib")] == calls[("<-", "fib")] == FIB15_CALLS
    stacks = check_flow_nesting(lines)
    assert all(not st for st in stacks.values())
    # FILE:LINE is the base name and the event's line.
    assert re.search(r" fib\.py:\d+ +func +-> fib$", out, re.M)
    # Filtered to fib, exactly two lines per call remain.
    out, _, _ = bt(first_py, fib_trace, "flow", 'name="fib"')
    assert len(flow_lines(out)) == 2 * FIB15_CALLS


def test_calldist_histogram(fib_trace, first_py):
    out, _, _ = bt(first_py, fib_trace, "calldist", 'name="fib"')
    counts = calldist_counts(out, f"func fib ({FIB})")
    assert sum(counts) == FIB15_CALLS
    assert counts[0] == 0 and counts[-1] == 0  # quantize's empty rows at both ends
    assert "1973 calls" in out


def test_stack_timeline(fib_trace, first_py):
    out, _, _ = bt(first_py, fib_trace, "stack", 'name="fib"')
    lines = out.splitlines()
    assert len(lines) == 2 * FIB15_CALLS
    assert "\033[" not in out  # not a terminal: no colour
    assert sum(1 for line in lines if re.search(r"-> fib \(.*fib\.py:\d+\)$", line)) == \
        FIB15_CALLS
    assert sum(1 for line in lines if re.search(r"<- fib  \[\d+\.\d{3} us\]$", line)) == \
        FIB15_CALLS


def test_parameters(fib_trace, first_py):
    out, _, _ = bt(first_py, fib_trace, "calltime", 'name="fi*"')
    rows, _ = calltime_rows(out)
    assert list(rows) == [("func", f"fib ({FIB})")]
    out, _, _ = bt(first_py, fib_trace, "calltime", 'file="*bootstrap*"')
    rows, _ = calltime_rows(out)
    assert rows and all("bootstrap" in name for _, name in rows)
    # Sorted by count, not by time: which function took longest depends on the machine.
    out, _, _ = bt(first_py, fib_trace, "calltime", 'sort="count",top=1')
    rows, total = calltime_rows(out)
    assert list(rows) == [("func", f"fib ({FIB})")] and total[0] > FIB15_CALLS
    assert re.search(r"\(\d+ more functions\)", out)
    out, _, _ = bt(first_py, fib_trace, "calltime", 'sort="name"')
    names = [name for _, name in calltime_rows(out)[0]]
    assert len(names) > 2 and names == sorted(names)
    pid = int(flow_lines(bt(first_py, fib_trace, "flow")[0])[0][0])
    assert calltime_rows(bt(first_py, fib_trace, "calltime", f"pid={pid}")[0])[0]
    assert not calltime_rows(bt(first_py, fib_trace, "calltime", f"pid={pid + 1}")[0])[0]


@pytest.mark.parametrize("sink,params,message", [
    ("calltime", "bogus=1", "parameter `bogus` is unknown"),
    ("flow", "top=3", "parameter `top` is unknown"),
    ("calltime", 'top="ten"', "parameter `top` must be an integer"),
    ("calldist", "top=-1", "parameter `top` must be an integer >= 0"),
    ("folded", "name=3", "parameter `name` must be a string"),
    ("stack", 'pid="x"', "parameter `pid` must be an integer"),
    ("calltime", 'sort="fast"', "parameter `sort` must be"),
])
def test_bad_parameters(fib_trace, first_py, sink, params, message):
    out, err, status = bt(first_py, fib_trace, sink, params, check=False)
    assert status != 0
    err = " ".join(err.split())  # the CLI wraps long lines
    assert message in err and f"sink.pyust.{sink}" in err
    assert "accepted parameters: name, file, pid, tid" in err


def test_threads_do_not_mix(rec, first_py):
    code = ("import threading\n"
            "def fib(n):\n"
            "    return n if n < 2 else fib(n - 1) + fib(n - 2)\n"
            "ts = [threading.Thread(target=fib, args=(12,)) for _ in range(2)]\n"
            "[t.start() for t in ts]\n"
            "[t.join() for t in ts]\n")
    _, trace = rec.run([first_py["python"], "-c", code], first_py)
    out, _, _ = bt(first_py, trace.path, "calltime", 'name="fib"')
    rows, _ = calltime_rows(out)
    assert rows[("func", "fib (<string>)")][0] == 2 * 465
    assert "#" not in out  # no return lost its entry: the stacks did not mix
    lines = flow_lines(bt(first_py, trace.path, "flow")[0])
    check_flow_nesting(lines)
    tids = Counter(tid for tid, _, _, arrow, name in lines if name == "fib" and arrow == "->")
    assert sorted(tids.values()) == [465, 465]
    # One thread alone.
    tid = next(iter(tids))
    out, _, _ = bt(first_py, trace.path, "calltime", f'name="fib",tid={tid}')
    assert calltime_rows(out)[0][("func", "fib (<string>)")][0] == 465


def test_returns_without_entries(daemon, tmp_path, first_py):
    """As in a session started inside <module>: its returns have no entry."""
    path = record(daemon, tmp_path, first_py, [first_py["python"], FIB],
                  entry_filter='co_name != "<module>"')
    trace = Trace(path)
    assert trace.python("entry", "<module>") == []
    assert trace.python("return", "<module>")
    for sink in SINKS:
        bt(first_py, path, sink)
    out, _, _ = bt(first_py, path, "calltime")
    rows, _ = calltime_rows(out)
    assert rows[("func", f"fib ({FIB})")][0] == FIB15_CALLS
    assert not any(name.startswith("<module>") for _, name in rows)
    m = re.search(r"^# (\d+) returns without an entry ignored", out, re.M)
    assert m and int(m.group(1)) >= 1
    lines = flow_lines(bt(first_py, path, "flow", 'name="fib"')[0])
    assert len(lines) == 2 * FIB15_CALLS
    check_flow_nesting(lines)


@pytest.mark.parametrize("contexts,note", [
    (("vpid",), "no vtid context: one call stack per process"),
    ((), "no vpid/vtid contexts: one call stack per trace"),
])
def test_missing_contexts(rec, first_py, contexts, note):
    """Without the thread's identity the stacks fall back, and say so once."""
    _, trace = rec.run([first_py["python"], FIB], first_py, contexts=contexts)
    out, _, _ = bt(first_py, trace.path, "calltime")
    assert calltime_rows(out)[0][("func", f"fib ({FIB})")][0] == FIB15_CALLS
    assert out.count(note) == 1
    out, _, _ = bt(first_py, trace.path, "flow")
    lines = flow_lines(out)
    assert sum(1 for line in lines if line[4] == "fib") == 2 * FIB15_CALLS
    check_flow_nesting(lines)
    assert out.count(note) == 1
    _, err, _ = bt(first_py, trace.path, "folded")
    assert err.count(note) == 1


def test_discarded_events(daemon, tmp_path, first_py):
    path = record(daemon, tmp_path, first_py, [first_py["python"], FIB, "20"], discard=True)
    trace = Trace(path)
    assert trace.discarded > 0, "the tiny buffers lost nothing: make the program larger"
    for sink in SINKS:
        out, err, _ = bt(first_py, path, sink)
        text = out + err
        assert re.search(r"the trace lost \d+ events", text), sink
    out, _, _ = bt(first_py, path, "flow")
    assert re.search(r"^# \d+ events discarded here: call stacks reset$", out, re.M)
    # Counts cannot exceed what was recorded.
    rows, _ = calltime_rows(bt(first_py, path, "calltime")[0])
    assert rows[("func", f"fib ({FIB})")][0] <= len(trace.python("entry", "fib"))


def test_logging_only(rec, first_py):
    _, trace = rec.run([first_py["python"], LOGGING_APP, "preload", os.devnull], first_py,
                       events=(), logging=(["-a"],))
    records = trace.named("lttng_python:event")
    assert records
    out, _, _ = bt(first_py, trace.path, "stack")
    lines = out.splitlines()
    assert len(lines) == len(records)
    for line, e in zip(lines, records):
        level = e["int_loglevel"]
        name = next(n for lo, n in ((50, "CRITICAL"), (40, "ERROR"), (30, "WARNING"),
                                    (20, "INFO"), (10, "DEBUG"), (0, "NOTSET")) if level >= lo)
        logger, msg = (re.sub(r"[\x00-\x1f\x7f]", "?", e[k]) for k in ("logger_name", "msg"))
        assert line.endswith(f" LOG {name} {logger}: {msg}"), (line, e)
    # No calls in the trace: the other sinks report nothing, without failing.
    rows, total = calltime_rows(bt(first_py, trace.path, "calltime")[0])
    assert rows == {} and total == (0, 0)
    assert bt(first_py, trace.path, "folded")[0] == ""


def native_counts(out):
    rows, _ = calltime_rows(out)
    return {name: r[0] for (kind, name), r in rows.items() if kind == "native"}


def test_native_with_and_without_debug_info(rec, helpers, first_py):
    exe = helpers("native")
    _, trace = rec.run([str(exe)], first_py, events=NATIVE_EVENTS, contexts=NATIVE_CONTEXTS,
                       statedump=True)
    counts = native_counts(bt(first_py, trace.path, "calltime")[0])
    assert sorted(counts.values()) == [1, 5, 10]
    assert all(re.fullmatch(r"0x[0-9a-f]+", name) for name in counts)
    out, _, _ = bt(first_py, trace.path, "calltime", debug_info=True)
    assert native_counts(out) == {"main": 1, "middle": 5, "leaf": 10}
    stacks = folded_stacks(bt(first_py, trace.path, "folded", debug_info=True)[0])
    assert set(stacks) == {"main", "main;middle", "main;middle;leaf"}
    out, _, _ = bt(first_py, trace.path, "stack", debug_info=True)
    assert sum(1 for line in out.splitlines() if line.endswith("-> leaf [native]")) == 10
    lines = flow_lines(bt(first_py, trace.path, "flow", debug_info=True)[0])
    assert Counter(n for _, t, _, a, n in lines if a == "->") == {"main": 1, "middle": 5,
                                                                   "leaf": 10}
    check_flow_nesting(lines)


def test_native_names_after_regenerated_statedump(rec, helpers, first_py):
    """An extension imported after the statedump has addresses until `lttng
    regenerate statedump` (its events are written before the command
    returns), and its names from then on."""
    ext = helpers("nativeext", first_py)
    code = ("import sys\n"
            "import nativeext\n"
            "nativeext.call_twice(int)\n"
            "print('imported', flush=True)\n"
            "sys.stdin.readline()\n"
            "nativeext.call_twice(int)\n")
    with rec.session(events=NATIVE_EVENTS, contexts=NATIVE_CONTEXTS, statedump=True) as s:
        proc = subprocess.Popen([first_py["python"], "-c", code], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True,
                                env=rec.env(first_py, extra={"PYTHONPATH": str(ext)}))
        assert proc.stdout.readline() == "imported\n"
        rec.daemon.lttng("regenerate", "statedump", "-s", s.name)
        proc.communicate("go\n", timeout=60)
        assert proc.returncode == 0
    counts = native_counts(bt(first_py, s.trace.path, "calltime", debug_info=True)[0])
    named = {n: c for n, c in counts.items() if not n.startswith("0x")}
    # Before: PyInit_nativeext, call_twice and twice by address; after: by name.
    assert named == {"call_twice": 1, "twice": 1}
    assert sorted(c for n, c in counts.items() if n.startswith("0x")) == [1, 1, 1]


def test_python_and_native_frames_mix(rec, helpers, first_py):
    ext = helpers("nativeext", first_py)
    _, trace = rec.run([first_py["python"], MIXED], first_py,
                       events=("python:*", "lttng_ust_cyg_profile_fast:*"),
                       env={"PYTHONPATH": str(ext)})
    stacks = folded_stacks(bt(first_py, trace.path, "folded")[0])
    mixed = [s for s in stacks
             if re.search(rf"outer \({re.escape(MIXED)}\);0x[0-9a-f]+;callback \({re.escape(MIXED)}\)$",
                          s)]
    assert len(mixed) == 1
    out, _, _ = bt(first_py, trace.path, "calltime", 'name="callback"')
    assert calltime_rows(out)[0][("func", f"callback ({MIXED})")][0] == 1


def test_odd_names(rec, first_py):
    """Control bytes in names never break a line or reach the terminal."""
    code = ("def f():\n"
            "    pass\n"
            "f.__code__ = f.__code__.replace(co_name='bad\\n\\x1b[31mname;x',\n"
            "                                co_filename='odd\\tfile\\r.py')\n"
            "for i in range(3):\n"
            "    f()\n")
    _, trace = rec.run([first_py["python"], "-c", code], first_py)
    assert len(trace.python("entry", "bad\n\x1b[31mname;x")) == 3
    for sink in SINKS:
        out, _, _ = bt(first_py, trace.path, sink)
        assert "\x1b" not in out and "\r" not in out, sink
    lines = flow_lines(bt(first_py, trace.path, "flow")[0])
    assert Counter(n for _, _, _, a, n in lines if a == "->")["bad??[31mname;x"] == 3
    stacks = folded_stacks(bt(first_py, trace.path, "folded")[0])
    assert any(s.endswith("bad??[31mname:x (odd?file?.py)") for s in stacks)


def test_stack_colours(fib_trace, first_py):
    """Colour only on a terminal, never with NO_COLOR."""
    # Babeltrace itself writes resets (ESC [0m) to a terminal: count colours only.
    script = ("import os, pty, re, sys\n"
              "pid, fd = pty.fork()\n"
              "if pid == 0:\n"
              "    os.execvp(sys.argv[1], sys.argv[1:])\n"
              "data = b''\n"
              "while True:\n"
              "    try:\n"
              "        chunk = os.read(fd, 65536)\n"
              "    except OSError:\n"
              "        break\n"
              "    if not chunk:\n"
              "        break\n"
              "    data += chunk\n"
              "os.waitpid(pid, 0)\n"
              "sys.stdout.write(str(len(re.findall(rb'\\x1b\\[3[123]m', data))))\n")
    cmd = ["/usr/bin/python3", "-c", script, "babeltrace2", "--plugin-path",
           str(plugin_dir(first_py)), str(fib_trace), "-c", "sink.pyust.stack"]
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    coloured = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    assert int(coloured.stdout) > 0
    plain = subprocess.run(cmd, capture_output=True, text=True, env=dict(env, NO_COLOR="1"),
                           check=True)
    assert int(plain.stdout) == 0
