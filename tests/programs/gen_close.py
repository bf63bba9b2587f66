# SPDX-License-Identifier: MIT
"""Whether closing a generator paused at a yield outside any try block runs
its frame again (to raise GeneratorExit in it), with no tool watching
PY_UNWIND and with one: prints the two answers as JSON. 3.14+ run the frame
only in the second case, which is sys.setprofile's. Needs 3.12+
(sys.monitoring), no pyust."""

import json
import sys

mon = sys.monitoring
TOOL = 3


def countdown(n):
    while n:
        yield n
        n -= 1


def frame_runs(events):
    thrown = []
    mon.use_tool_id(TOOL, "gen_close")
    mon.register_callback(TOOL, mon.events.PY_THROW, lambda *a: thrown.append(a[0].co_name))
    mon.register_callback(TOOL, mon.events.PY_UNWIND, lambda *a: None)
    mon.set_events(TOOL, events)
    g = countdown(10)
    next(g)
    g.close()
    mon.set_events(TOOL, 0)
    mon.free_tool_id(TOOL)
    return thrown == ["countdown"]


print(json.dumps({"alone": frame_runs(mon.events.PY_THROW),
                  "unwind_watched": frame_runs(mon.events.PY_THROW | mon.events.PY_UNWIND)}))
