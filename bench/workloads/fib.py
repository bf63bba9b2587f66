# SPDX-License-Identifier: MIT
"""Call-heavy workload. Usage: fib.py MODE REPEAT; MODE is plain, cprofile,
setprofile or monitoring (3.12+). Prints the best ns per Python call."""

import sys
import time

N = 22
CALLS = 57313  # calls made by fib(22)


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def profiled(mode):
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
        events = mon.events.PY_START | mon.events.PY_RETURN

        def callback(*args):
            pass

        def on():
            mon.use_tool_id(tool, "bench")
            mon.register_callback(tool, mon.events.PY_START, callback)
            mon.register_callback(tool, mon.events.PY_RETURN, callback)
            mon.set_events(tool, events)

        def off():
            mon.set_events(tool, 0)
            mon.free_tool_id(tool)

        return on, off
    return (lambda: None), (lambda: None)


def main():
    mode, repeat = sys.argv[1], int(sys.argv[2])
    on, off = profiled(mode)
    fib(N)  # warm up
    best = float("inf")
    for _ in range(repeat):
        on()
        t0 = time.perf_counter_ns()
        fib(N)
        t = time.perf_counter_ns() - t0
        off()
        best = min(best, t)
    print(f"{best / CALLS:.2f}")


main()
