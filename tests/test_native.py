# SPDX-License-Identifier: MIT
"""Native function events, identical to liblttng-ust-cyg-profile-fast's."""

import subprocess
from collections import Counter

from pyusttest import PROGRAMS, libpyust

EVENTS = ("lttng_ust_cyg_profile_fast:*",)
CONTEXTS = ("vpid", "vtid", "ip")
CYG_FAST = "/usr/lib/x86_64-linux-gnu/liblttng-ust-cyg-profile-fast.so"
MIXED = str(PROGRAMS / "python_c_python.py")


def symbols(exe):
    out = subprocess.run(["nm", str(exe)], capture_output=True, text=True, check=True).stdout
    return {name: int(addr, 16) for addr, kind, name in
            (line.split() for line in out.splitlines() if len(line.split()) == 3)
            if kind in "tT"}


def check_native(trace, exe):
    entries = trace.named("lttng_ust_cyg_profile_fast:func_entry")
    exits = trace.named("lttng_ust_cyg_profile_fast:func_exit")
    by_addr = Counter(e["addr"] for e in entries)
    assert sorted(by_addr.values()) == [1, 5, 10]
    assert len(exits) == 16
    # The addresses are the functions': same distances as in the symbol table.
    sym = symbols(exe)
    main = next(a for a, n in by_addr.items() if n == 1)
    middle = next(a for a, n in by_addr.items() if n == 5)
    leaf = next(a for a, n in by_addr.items() if n == 10)
    assert middle - main == sym["middle"] - sym["main"]
    assert leaf - main == sym["leaf"] - sym["main"]
    # The ip context is the function address, as with cyg-profile-fast.
    assert all(e.ctx["ip"] == e["addr"] for e in entries)


def test_native_program(rec, helpers, first_py):
    exe = helpers("native")
    proc, trace = rec.run([str(exe)], first_py, events=EVENTS, contexts=CONTEXTS,
                          statedump=True)
    assert proc.stdout == b"35\n" and proc.stderr == b""
    check_native(trace, exe)
    # Babeltrace's debug-info filter names the functions.
    out = subprocess.run(["babeltrace2", "--debug-info", str(trace.path)], capture_output=True,
                         text=True, check=True).stdout
    for fn in ("main", "middle", "leaf"):
        assert f'func = "{fn}+0"' in out


def test_with_cyg_profile_fast_preloaded_too(rec, helpers, first_py):
    """Both libraries preloaded: no crash, each call recorded once."""
    exe = helpers("native")
    for order in ([libpyust(first_py), CYG_FAST], [CYG_FAST, libpyust(first_py)]):
        proc, trace = rec.run([str(exe)], first_py, events=EVENTS, contexts=CONTEXTS,
                              preload=":".join(order))
        assert proc.stdout == b"35\n"
        check_native(trace, exe)


def test_python_calls_c_calls_python(py, rec, helpers):
    """Python -> instrumented C extension -> Python nests in one trace."""
    ext = helpers("nativeext", py)
    proc, trace = rec.run([py["python"], MIXED], py,
                          events=("python:*", "lttng_ust_cyg_profile_fast:*"),
                          env={"PYTHONPATH": str(ext)})
    assert proc.stdout == b"42\n"
    seq = [e for e in trace.events
           if e.name.startswith("lttng_ust_cyg_profile_fast")
           or e.f.get("co_name") in ("outer", "callback")]
    kinds = [e.name.split(":")[1] + (":" + e["co_name"] if "co_name" in e.f else "")
             for e in seq]
    # PyInit runs at import; then outer -> call_twice -> callback, twice.
    assert kinds == ["func_entry", "func_exit",
                     "function__entry:outer", "func_entry",
                     "function__entry:callback", "function__return:callback",
                     "func_entry", "func_exit", "func_exit", "function__return:outer"]
