# SPDX-License-Identifier: MIT
"""Run a workload as bench.py asks: MODE (plain, cprofile, setprofile,
monitoring) and REPEAT from the command line. Prints the best ns per Python
call; the calls are counted once, with sys.setprofile, before timing. MODE
count prints the number of calls of one run instead."""

import sys
import time


def _count_calls(work):
    calls = 0

    def count(frame, event, arg):
        nonlocal calls
        if event == "call":
            calls += 1

    sys.setprofile(count)
    work()
    sys.setprofile(None)
    return calls


def _profiler(mode):
    if mode == "cprofile":
        import cProfile

        prof = cProfile.Profile()
        return prof.enable, prof.disable
    if mode == "setprofile":
        def callback(frame, event, arg):
            pass

        return (lambda: sys.setprofile(callback)), (lambda: sys.setprofile(None))
    if mode == "monitoring":
        mon = sys.monitoring
        tool = mon.PROFILER_ID

        def callback(*args):
            pass

        def on():
            mon.use_tool_id(tool, "bench")
            mon.register_callback(tool, mon.events.PY_START, callback)
            mon.register_callback(tool, mon.events.PY_RETURN, callback)
            mon.set_events(tool, mon.events.PY_START | mon.events.PY_RETURN)

        def off():
            mon.set_events(tool, 0)
            mon.free_tool_id(tool)

        return on, off
    return (lambda: None), (lambda: None)


def run(work):
    mode, repeat = sys.argv[1], int(sys.argv[2])
    calls = _count_calls(work)  # also the warm-up
    if mode == "count":
        print(calls)
        return
    on, off = _profiler(mode)
    best = float("inf")
    for _ in range(repeat):
        on()
        t0 = time.perf_counter_ns()
        work()
        t = time.perf_counter_ns() - t0
        off()
        best = min(best, t)
    print(f"{best / calls:.2f}")
