# SPDX-License-Identifier: MIT
"""The frame hook is in place only while a session enables python function events."""

import subprocess

FOLLOW = """
import gc, sys, time, pyust
def probe():
    pass
def wait_for(state):
    deadline = time.monotonic() + 30
    while pyust.hook_installed() != state and time.monotonic() < deadline:
        time.sleep(0.001)
    return pyust.hook_installed() == state
def gc_callback():
    return pyust._gc_callback in gc.callbacks
print("idle", pyust.hook_installed(), gc_callback(), flush=True)
sys.stdin.readline()
print("hooked", wait_for(True), gc_callback(), flush=True)
for i in range(7):
    probe()
print("probed", flush=True)
sys.stdin.readline()
print("unhooked", wait_for(False), gc_callback(), flush=True)
for i in range(5):
    probe()
print("done", flush=True)
"""


def test_idle_without_session(py, rec):
    code = ("import gc, sys, pyust\n"
            "print('pyust' in sys.modules, pyust.hook_installed(),"
            " pyust._gc_callback in gc.callbacks)")
    # A session recording other events only, then none at all.
    proc, trace = rec.run([py["python"], "-c", code], py, events=("python:gc__start",))
    assert proc.stdout == b"True False True\n"
    proc, trace = rec.run([py["python"], "-c", code], py, events=("python:function__entry",))
    assert proc.stdout == b"True True False\n"
    proc = subprocess.run([py["python"], "-c", code], env=rec.env(py), capture_output=True)
    assert proc.stdout == b"True False False\n" and proc.stderr == b""


def test_follows_sessions(py, rec):
    """Started after the program: the hook (and the gc callback) appears, events
    balance across the switch, and the hook goes at "lttng stop"."""
    proc = subprocess.Popen([py["python"], "-c", FOLLOW], env=rec.env(py),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline() == b"idle False False\n"
        with rec.session(events=("python:*",)) as s:
            proc.stdin.write(b"go\n")
            proc.stdin.flush()
            assert proc.stdout.readline() == b"hooked True True\n"
            assert proc.stdout.readline() == b"probed\n"
            rec.daemon.lttng("stop", s.name)
            proc.stdin.write(b"go\n")
            proc.stdin.flush()
            assert proc.stdout.readline() == b"unhooked True False\n"
        assert proc.stdout.readline() == b"done\n"
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
    # The frames running when the hook came (the module, wait_for) have no
    # events; the seven calls made while it was there have theirs.
    assert len(s.trace.python("entry", "probe")) == 7
    assert len(s.trace.python("return", "probe")) == 7
    s.trace.check_nesting()
