# SPDX-License-Identifier: MIT
"""Logging-heavy workload: MODE (plain, lttngust) and REPEAT from the command
line; prints the best ns per record logged. The root logger has a
NullHandler, as a program with logging configured has a handler; with
"lttngust" its agent is imported first (its handler records when a session
wants Python events)."""

import logging
import sys
import time

N = 50000


def work(log):
    for i in range(N):
        log.warning("request %d served in %.1f ms", i, 1.5)


def main():
    mode, repeat = sys.argv[1], int(sys.argv[2])
    if mode == "lttngust":
        import lttngust  # noqa: F401
    logging.getLogger().addHandler(logging.NullHandler())
    log = logging.getLogger("bench.service")
    work(log)  # warm up
    best = min(_timed(work, log) for _ in range(repeat))
    print(best * 1e9 / N)


def _timed(fn, arg):
    t = time.perf_counter()
    fn(arg)
    return time.perf_counter() - t


main()
