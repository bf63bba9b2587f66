# SPDX-License-Identifier: MIT
"""A program started before any session daemon, which then comes, is killed
and comes back: the agent registers each time, and records logged while a
session wants them are recorded (MODE logging), or LTTng-UST registers each
time and the calls made while a session wants them are recorded (MODE
calls). Runs with a /run/lttng of its own (root) or a private LTTNG_HOME;
prints what it checked, exits 1 on a failure.
Usage: daemon_cycle.py PYTHON LIBPYUST WORKDIR [MODE]"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pyusttest import Daemon, Recorder  # noqa: E402

APPS = {"logging": """
import logging, sys
log = logging.getLogger("cycle")
print("ready", flush=True)
for line in sys.stdin:
    log.warning(line.strip())
    print("logged", flush=True)
""", "calls": """
import sys
def probe(what):
    pass
print("ready", flush=True)
for line in sys.stdin:
    probe(line.strip())
    print("logged", flush=True)
"""}

python, lib, work = sys.argv[1], sys.argv[2], Path(sys.argv[3])
mode = sys.argv[4] if len(sys.argv) > 4 else "logging"
APP = APPS[mode]
(work / "home").mkdir(parents=True, exist_ok=True)
daemon = Daemon(work / "home")
rec = Recorder(daemon, work)
py = {"python": python}
env = rec.env(py, preload=lib)
app = subprocess.Popen([python, "-c", APP], env=env, stdin=subprocess.PIPE,
                       stdout=subprocess.PIPE, text=True)


def say(msg):
    app.stdin.write(msg + "\n")
    app.stdin.flush()
    assert app.stdout.readline() == "logged\n"


def registered():
    """The agent is registered, and LTTng-UST itself (which may take seconds to
    notice a new daemon after a kill: that is its own timing)."""
    deadline = time.monotonic() + 60
    agent = False
    while time.monotonic() < deadline:
        agent = agent or mode != "logging" or app.pid in daemon.listed("--python")
        if agent and app.pid in daemon.listed("-u"):
            return True
        time.sleep(0.05)
    return False


results = []
try:
    assert app.stdout.readline() == "ready\n"
    say("no daemon yet")
    for round in ("started after the program", "restarted after a kill"):
        daemon.start()
        ok = registered()
        if mode == "logging":
            with rec.session(events=(), logging=[["-a"]]) as s:
                say(round)
            got = [e.f["msg"] for e in s.trace.named("lttng_python:event")]
        else:
            with rec.session(events=("python:function__*",)) as s:
                # The hook comes within ~20 ms of the session's start.
                time.sleep(0.5)
                say(round)
            got = [e.f["co_name"] for e in s.trace.python("entry", "probe")]
        results.append((round, ok, got))
        print(f"{round}: registered={ok} recorded={got}", flush=True)
        if round == "started after the program":
            os.kill(daemon.pid, signal.SIGKILL)
            for f in ("lttng-sessiond.pid", "agent.port"):
                (daemon.rundir / f).unlink(missing_ok=True)
            time.sleep(0.5)
finally:
    app.stdin.close()
    app.wait(timeout=60)
    daemon.stop()

good = all(ok and got == ([r] if mode == "logging" else ["probe"]) for r, ok, got in results)
good = good and len(results) == 2 and app.returncode == 0
sys.exit(0 if good else 1)
