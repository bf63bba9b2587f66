# SPDX-License-Identifier: MIT
"""Every way of starting Python gets traced; everything else is left alone."""

import os
import pty
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from pyusttest import libpyust, module_dir

PROBE = "def probe():\n    pass\nfor i in range(3):\n    probe()\nprint('ran')\n"


def probes(trace, open_at_exit=False):
    entries = trace.python("entry", "probe")
    assert len(trace.python("return", "probe")) == len(entries)
    trace.check_nesting(open_at_exit=open_at_exit)
    return len(entries)


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "probe_mod.py"
    path.write_text(PROBE)
    return path


@pytest.mark.parametrize("mode", ["script", "-c", "-m", "stdin", "-I", "-S", "-E"])
def test_modes(py, rec, script, mode):
    cmd, inp = {
        "script": ([py["python"], str(script)], None),
        "-c": ([py["python"], "-c", PROBE], None),
        "-m": ([py["python"], "-m", "probe_mod"], None),
        "stdin": ([py["python"], "-"], PROBE.encode()),
        "-I": ([py["python"], "-I", str(script)], None),
        "-S": ([py["python"], "-S", str(script)], None),
        "-E": ([py["python"], "-E", str(script)], None),
    }[mode]
    proc, trace = rec.run(cmd, py, input=inp, cwd=script.parent)
    assert proc.stdout == b"ran\n"
    assert proc.stderr == b""
    assert probes(trace) == 3


@pytest.mark.parametrize("debug", [["-X", "dev"], ["-X", "dev", "-E"], "PYTHONMALLOC=debug",
                                   "PYTHONMALLOC=malloc_debug", "PYTHONDEVMODE=1"])
def test_debug_allocator(py, rec, script, debug):
    """The audit hook's entry, allocated before the debug allocator is in
    place, is freed at exit by the allocator that allocated it."""
    flags, env = (debug, {}) if isinstance(debug, list) else ([], dict([debug.split("=")]))
    proc, trace = rec.run([py["python"], *flags, str(script)], py, env=env, check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"ran\n", b"")
    assert probes(trace) == 3


def test_repl(py, rec):
    """The interactive interpreter on a terminal."""

    def repl():
        pid, fd = pty.fork()
        if pid == 0:
            os.execve(py["python"], [py["python"], "-q"], rec.env(py, extra={"TERM": "dumb"}))
        out = b""
        lines = [b"def probe(): pass\n", b"\n", b"for i in range(4): probe()\n", b"\n",
                 b"print('repl' + 'done')\n", b"exit()\n"]
        deadline = time.time() + 60
        while time.time() < deadline:
            r, _, _ = select.select([fd], [], [], 0.5)
            if r:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            if lines and out.rstrip().endswith((b">>>", b"...")):
                os.write(fd, lines.pop(0))
        os.waitpid(pid, 0)
        return out

    out, trace = rec.run_fn(repl)
    assert b"repldone" in out
    # 3.13's REPL exits from inside its own frames.
    assert probes(trace, open_at_exit=True) == 4


def test_embedded(py, rec, helpers):
    exe = helpers("embed", py)
    proc, trace = rec.run([str(exe)], py)
    assert proc.stdout == b"embedded done\n"
    assert proc.stderr == b""
    assert probes(trace) == 3


def test_embedded_initialized_twice(py, rec, helpers):
    """Py_Finalize then Py_Initialize again: both lives are traced."""
    exe = helpers("embed_reinit", py)
    proc, trace = rec.run([str(exe)], py)
    assert proc.stdout == b"reinit done\n"
    assert proc.stderr == b""
    assert probes(trace) == 5


def test_plugin_loaded_locally(py, rec, helpers):
    """A plugin with its own libpython (RTLD_LOCAL) runs normally under the preload."""
    host = helpers("plugin_host")
    plugin = helpers("embed_plugin", py)
    proc, trace = rec.run([str(host), str(plugin)], py)
    assert proc.stdout == b"plugin ran\n"
    assert proc.stderr == b""


MODULES = "import sys, json; print(json.dumps([sorted(sys.modules), sys.builtin_module_names]))"


def test_imports_nothing_of_the_program(py, rec):
    """pyust imports no module of the standard library that the program did not
    (CPython's ensure_lazy_imports tests look, with -S): only its own and built-in
    ones (atexit, gc, posix)."""
    import json

    cmd = [py["python"], "-S", "-c", MODULES]
    plain = subprocess.run(cmd, capture_output=True, timeout=60, env=rec.env(py, preload=False))
    proc, _ = rec.run(cmd, py, events=("python:*",), logging=[["-a"]])
    before, builtin = json.loads(plain.stdout)
    after, _ = json.loads(proc.stdout)
    extra = set(after) - set(before) - {"pyust"}
    assert extra <= set(builtin), extra


@pytest.mark.parametrize("cmd", [["sh", "-c", "echo hello; echo err >&2"],
                                 ["env", "-u", "X", "printf", "%s\\n", "hello"],
                                 ["cat", "/proc/self/comm"]])
def test_non_python_unaffected(py, rec, cmd):
    proc, trace = rec.run(cmd, py)
    assert proc.stdout.strip() in (b"hello", b"cat")
    assert proc.stderr == (b"err\n" if cmd[0] == "sh" else b"")
    assert trace.events == []


def test_missing_module(py, rec, tmp_path, helpers):
    """No module for this interpreter: the program runs, native events still
    work, and one line on stderr says why Python events are missing."""
    # An installation with the libraries and no module for any Python.
    lib = tmp_path / "lib"
    (lib / "pyust").mkdir(parents=True)
    lone = lib / "libpyust.so"
    shutil.copy(os.path.realpath(libpyust(py)), lone)
    cyg = Path(libpyust(py)).parent / "pyust" / "libpyust-cyg.so"
    shutil.copy(cyg, lib / "pyust")
    ext = helpers("nativeext", py)
    code = "import nativeext\nprint(nativeext.call_twice(lambda: None))\n"
    events = ("python:*", "lttng_ust_cyg_profile_fast:*")
    # -S: no site-packages, where an installed pyust could be found on sys.path.
    proc, trace = rec.run([py["python"], "-S", "-c", code], py, preload=str(lone), events=events,
                          env={"PYTHONPATH": str(ext)})
    assert proc.stdout == b"42\n"
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(
        f"pyust: Python function events are off: no pyust module for Python {py['version']}")
    assert not trace.python("entry")
    # PyInit_nativeext, call_twice and twice, each once.
    assert len(trace.named("lttng_ust_cyg_profile_fast:func_entry")) == 3
    assert len(trace.named("lttng_ust_cyg_profile_fast:func_exit")) == 3

    proc, _ = rec.run([py["python"], "-S", "-c", code], py, preload=str(lone), events=events,
                      env={"PYTHONPATH": str(ext), "PYUST_QUIET": "1"})
    assert proc.stdout == b"42\n" and proc.stderr == b""


def refused(py, rec, helpers, env=None):
    """Runs the embedding helper, which reports the Python version it is told:
    the program's own output and native events (leaf(), 7 calls), no Python
    event. Returns its stderr's lines."""
    exe = helpers("embed_freethreaded", py)
    proc, trace = rec.run([str(exe)], py, events=("python:*", "lttng_ust_cyg_profile_fast:*"),
                          env=env)
    assert proc.stdout == b"leaf 7 times\n"
    assert not [e for e in trace.events if not e.name.startswith("lttng_ust_cyg_profile_fast")]
    entries = trace.named("lttng_ust_cyg_profile_fast:func_entry")
    assert len(entries) == 7 and len({e["addr"] for e in entries}) == 1
    assert len(trace.named("lttng_ust_cyg_profile_fast:func_exit")) == 7
    return proc.stderr.decode().splitlines()


def test_free_threaded(py, rec, helpers):
    """A free-threaded CPython: native events, no Python events, one line on
    stderr saying why, and the program's own output (the logging record
    goes to logging's last resort, as without pyust)."""
    lines = refused(py, rec, helpers)
    assert lines == [f"pyust: Python function events are off: Python {py['version']} is a "
                     "free-threaded build, which pyust does not support", "logged"], lines
    assert refused(py, rec, helpers, env={"PYUST_QUIET": "1"}) == ["logged"]


def old_pythons():
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    return sorted(str(p) for p in root.glob("3.[5-8].*/bin/python3"))[-1:]


@pytest.mark.parametrize("version", ["3.8.18", "3.16.0", "4.0.0"])
def test_unsupported_python(py, rec, helpers, version):
    """A CPython older or newer than the range runs as without pyust: native
    events, no Python events, one line on stderr that says why. Reached with
    a real libpython reporting that version, and with the older CPython
    installed here, if any."""
    lines = refused(py, rec, helpers, env={
        "PYUST_TEST_PY_VERSION": f"{version} (main, Dec 7 2026, 00:00:00) [GCC]"})
    major, minor = version.split(".")[:2]
    assert lines == [
        f"pyust: Python function events are off: Python {major}.{minor} is not supported "
        "(pyust supports CPython 3.9 to 3.15)", "logged"]
    for old in old_pythons():
        proc, trace = rec.run([old, "-c", "print('ok')"], dict(py, python=old))
        assert proc.stdout == b"ok\n"
        lines = proc.stderr.decode().splitlines()
        assert len(lines) == 1 and lines[0].startswith("pyust: Python function events are off:")
        assert trace.events == []


def test_module_found_on_sys_path(py, rec, tmp_path):
    """A libpyust.so with no module beside it uses a pyust module on sys.path."""
    lib = tmp_path / "lib"
    (lib / "pyust").mkdir(parents=True)
    shutil.copy(os.path.realpath(libpyust(py)), lib / "libpyust.so")
    for probes_lib in ("libpyust-cyg.so", "libpyust-log.so"):
        shutil.copy(Path(libpyust(py)).parent / "pyust" / probes_lib, lib / "pyust")
    proc, trace = rec.run([py["python"], "-c", PROBE], py, preload=str(lib / "libpyust.so"),
                          env={"PYTHONPATH": module_dir(py)})
    assert proc.stdout == b"ran\n" and proc.stderr == b""
    assert probes(trace) == 3
