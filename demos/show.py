#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Print a pyust trace as an indented call flow and per-function counts with
inclusive time. Usage: show.py TRACE_DIR [FILE_SUBSTRING]"""

import sys
from collections import defaultdict

import bt2


def main(path, only=None):
    stacks = defaultdict(list)
    calls = defaultdict(lambda: [0, 0])
    lines = 0
    for msg in bt2.TraceCollectionMessageIterator(path):
        if type(msg) is not bt2._EventMessageConst:
            continue
        ev = msg.event
        if not ev.name.startswith("python:function__"):
            continue
        ts = msg.default_clock_snapshot.ns_from_origin
        tid = int(ev.common_context_field["vtid"]) if ev.common_context_field else 0
        fname, name = str(ev.payload_field["co_filename"]), str(ev.payload_field["co_name"])
        line = int(ev.payload_field["line_no"])
        stack = stacks[tid]
        shown = only is None or only in fname
        if ev.name.endswith("entry"):
            if shown and lines < 60:
                print(f"{'  ' * len(stack)}-> {name}  ({fname.rsplit('/', 1)[-1]}:{line})")
                lines += 1
            stack.append((fname, name, ts))
        elif stack:
            f, n, t0 = stack.pop()
            if shown:
                calls[(f, n)][0] += 1
                calls[(f, n)][1] += ts - t0
    print(f"\n{'calls':>7} {'inclusive µs':>13}  function")
    for (f, n), (count, ns) in sorted(calls.items(), key=lambda kv: -kv[1][1])[:15]:
        print(f"{count:7d} {ns / 1000:13.1f}  {n} ({f.rsplit('/', 1)[-1]})")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
