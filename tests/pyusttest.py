# SPDX-License-Identifier: MIT
"""Test support: a private lttng-sessiond, recording sessions around real
programs, traces read back with the Babeltrace 2 Python bindings."""

import json
import os
import re
import signal
import socket
import subprocess
import time
import uuid
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from types import SimpleNamespace
from collections import Counter, defaultdict
from pathlib import Path

import bt2

TESTS = Path(__file__).resolve().parent
HELPERS = TESTS / "helpers"
PROGRAMS = TESTS / "programs"

# Variables of the runner's environment that must not leak into traced programs.
_SCRUB = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONNOUSERSITE", "LD_PRELOAD",
          "PYUST_QUIET", "PYENV_VERSION")


# Set by tests/run-sanitized: the ASan runtime, which must come first in
# LD_PRELOAD of every process that loads pyust's code (the interpreters are not
# built with ASan).
SANITIZER_RUNTIME = os.environ.get("PYUST_SANITIZER_RUNTIME", "")


def ld_preload(*libs):
    """An LD_PRELOAD value holding libs, after the sanitizer runtime if any."""
    return ":".join([SANITIZER_RUNTIME] * bool(SANITIZER_RUNTIME) + [str(lib) for lib in libs])


def clean_env(base=None):
    """base (os.environ by default) without what must not leak into a traced
    program, keeping the sanitizer runtime."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in _SCRUB}
    if SANITIZER_RUNTIME:
        env["LD_PRELOAD"] = SANITIZER_RUNTIME
    return env


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    """A session daemon of our own, with a private LTTNG_HOME, stopped by pid."""

    def __init__(self, home):
        self.home = Path(home)
        self.pid = None
        self.env = dict(clean_env(), LTTNG_HOME=str(self.home))

    @property
    def rundir(self):
        return Path("/run/lttng") if os.getuid() == 0 else self.home / ".lttng"

    def start(self):
        pidfile = self.rundir / "lttng-sessiond.pid"
        if os.getuid() == 0:
            if not os.environ.get("PYUST_TEST_ISOLATED"):
                raise RuntimeError("as root, run the tests through tests/run, which gives them "
                                   "a private /run/lttng; the system's daemon is not used")
        if pidfile.exists():
            raise RuntimeError(f"a session daemon already runs with {pidfile}")
        env = {k: v for k, v in self.env.items() if k != "LD_PRELOAD"}
        # --background: a daemon that keeps its stderr, the log tests read.
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            subprocess.run(["lttng-sessiond", "--no-kernel", "--background",
                            f"--agent-tcp-port={_free_port()}"],
                           env=env, check=True, timeout=60, stdin=subprocess.DEVNULL,
                           stdout=log, stderr=log)
        self.pid = int(pidfile.read_text().split()[0])

    @property
    def log_path(self):
        return self.home / "sessiond.log"

    def log(self, since=0):
        """What the daemon wrote to its stderr, from byte offset since."""
        with open(self.log_path, "rb") as f:
            f.seek(since)
            return f.read().decode(errors="replace")

    def stop(self):
        if not self.pid:
            return
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        for _ in range(200):
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        os.kill(self.pid, signal.SIGKILL)

    def lttng(self, *args, check=True):
        r = subprocess.run(["lttng", *args], env=self.env, capture_output=True, text=True,
                           timeout=120)
        if check and r.returncode != 0:
            raise RuntimeError(f"lttng {' '.join(args)} failed: {r.stdout}{r.stderr}")
        return r

    def sessions(self):
        """The names of the daemon's sessions, from `lttng list`'s machine
        interface."""
        root = ET.fromstring(self.lttng("--mi", "xml", "list").stdout)
        return [s.findtext("{*}name") for s in root.findall(".//{*}session")]

    def listed(self, domain):
        """What `lttng list DOMAIN` (-u, --python) shows, as {pid: [event or
        logger names]}, read from the machine interface: its text changed
        in LTTng 2.16, its XML did not."""
        root = ET.fromstring(self.lttng("--mi", "xml", "list", domain).stdout)
        found = {}
        for pid in root.findall(".//{*}pid"):
            ident = pid.find("{*}id")
            if ident is not None:
                found[int(ident.text)] = [e.findtext("{*}name")
                                          for e in pid.findall(".//{*}event")]
        return found


class Event:
    __slots__ = ("name", "f", "ctx")

    def __init__(self, name, f, ctx):
        self.name, self.f, self.ctx = name, f, ctx

    def __getitem__(self, k):
        return self.f[k]

    def __repr__(self):
        return f"Event({self.name}, {self.f}, {self.ctx})"


def _value(field):
    if isinstance(field, bt2._StringFieldConst):
        return str(field)
    if isinstance(field, (bt2._IntegerFieldConst,)):
        return int(field)
    if isinstance(field, bt2._StructureFieldConst):
        return {k: _value(v) for k, v in field.items()}
    return field


_PACKET_MAGIC, _METADATA_MAGIC = 0xC1FC1FC1, 0x75D11D57


def _metadata_text(path):
    """The TSDL text of a metadata file, packetized (as LTTng writes it) or not."""
    data, out, off = path.read_bytes(), [], 0
    while off + 37 <= len(data) and int.from_bytes(data[off:off + 4], "little") == _METADATA_MAGIC:
        content = int.from_bytes(data[off + 24:off + 28], "little") // 8
        size = int.from_bytes(data[off + 28:off + 32], "little") // 8
        if content < 37 or size < content:
            break
        out.append(data[off + 37:off + content])
        off += size
    if not out:
        out.append(data)
    return b"".join(out).decode("utf-8", "replace")


def _declared_stream_classes(text):
    """The ids of the stream classes a metadata text declares: CTF 1.8's TSDL
    (stream { id = N; }) or CTF 2's JSON fragments, each after a record
    separator (LTTng 2.16's default), where the id defaults to 0."""
    if not text.startswith("\x1e"):
        return {int(m) for m in re.findall(r"\bstream\s*\{\s*id\s*=\s*(\d+)\s*;", text)}
    fragments = (json.loads(f) for f in text.split("\x1e") if f.strip())
    return {f.get("id", 0) for f in fragments if f.get("type") == "data-stream-class"}


def set_aside_undeclared_streams(root):
    """Move away the stream files whose stream class the metadata never
    declares, so that Babeltrace can read the rest of the trace.

    LTTng leaves such files behind when an application is killed between the
    moment the consumer made a channel's buffers (files included) and the
    moment the application registered that channel, which is when the session
    daemon declares its stream class. Such a file holds only empty packets:
    events are written only once the channel is registered. Returns the
    files moved (into ROOT-undeclared/)."""
    root = Path(root)
    moved = []
    for meta in root.rglob("metadata"):
        declared = _declared_stream_classes(_metadata_text(meta))
        for f in sorted(meta.parent.iterdir()):
            if not f.is_file() or f.name == "metadata":
                continue
            with open(f, "rb") as fd:
                head = fd.read(24)
            if len(head) < 24 or int.from_bytes(head[:4], "little") != _PACKET_MAGIC:
                continue
            if int.from_bytes(head[20:24], "little") in declared:
                continue
            dest = root.parent / (root.name + "-undeclared") / f.relative_to(root)
            dest.parent.mkdir(parents=True, exist_ok=True)
            f.rename(dest)
            moved.append(dest)
    return moved


def trace_messages(root):
    """The messages of the trace under ROOT, once its undeclared streams (see
    set_aside_undeclared_streams) are out of the way."""
    try:
        it = bt2.TraceCollectionMessageIterator(str(root))
    except bt2._Error as e:
        # Babeltrace 2.0's words, then 2.1's.
        undeclared = ("No stream class with ID", "no data stream class exists with ID")
        if not any(u in str(e) for u in undeclared) or not set_aside_undeclared_streams(root):
            raise
        it = bt2.TraceCollectionMessageIterator(str(root))
    return it


class Trace:
    def __init__(self, path):
        self.path = Path(path)
        self.events = []
        self.discarded = 0
        if not any(self.path.rglob("metadata")):
            return  # nothing was recorded
        for msg in trace_messages(self.path):
            if type(msg) is bt2._EventMessageConst:
                ev = msg.event
                ctx = ev.common_context_field
                self.events.append(Event(ev.name, _value(ev.payload_field) or {},
                                         _value(ctx) if ctx is not None else {}))
            elif type(msg) is bt2._DiscardedEventsMessageConst:
                self.discarded += msg.count or 0

    def named(self, name):
        return [e for e in self.events if e.name == name]

    def python(self, kind, co_name=None, co_filename=None):
        """python:function__<kind> events, optionally for one function or file."""
        return [e for e in self.named("python:function__" + kind)
                if (co_name is None or e["co_name"] == co_name)
                and (co_filename is None or e["co_filename"] == co_filename)]

    def calls(self, co_filename=None):
        """Counter of entries by function name (for one file)."""
        return Counter(e["co_name"] for e in self.python("entry", co_filename=co_filename))

    def check_nesting(self, key=lambda e: e.ctx.get("vtid", 0), open_at_exit=False):
        """Entries and returns nest and balance per thread; returns the max depth.
        With open_at_exit, frames still running when the process ended (it
        exited from inside them) may stay open."""
        stacks = defaultdict(list)
        deepest = 0
        for e in self.events:
            if e.name == "python:function__entry":
                stacks[key(e)].append((e["co_filename"], e["co_name"]))
                deepest = max(deepest, len(stacks[key(e)]))
            elif e.name == "python:function__return":
                st = stacks[key(e)]
                assert st, f"return without entry: {e}"
                top = st.pop()
                assert top == (e["co_filename"], e["co_name"]), f"{e} closes {top}"
        for tid, st in stacks.items():
            assert open_at_exit or not st, f"thread {tid}: {len(st)} entries never returned: {st[-3:]}"
        return deepest


def libpyust(py):
    return str(Path(py["prefix"]) / "lib" / "libpyust.so")


def module_dir(py):
    """Where 'make install' put the pyust module for this interpreter."""
    lib = Path(py["prefix"]) / "lib" / f"python{py['version']}"
    found = [p.parent for p in lib.glob("*-packages/pyust*.so")]
    assert len(found) == 1, f"pyust module for {py['python']}: {found}"
    return str(found[0])


class Recorder:
    """Runs a program under a recording session of the test's daemon."""

    def __init__(self, daemon, tmp_path):
        self.daemon = daemon
        self.tmp = Path(tmp_path)

    def env(self, py, preload=True, extra=None):
        env = dict(self.daemon.env, LTTNG_UST_ALLOW_BLOCKING="1")
        if preload:
            env["LD_PRELOAD"] = ld_preload(preload if isinstance(preload, str) else libpyust(py))
        env.update(extra or {})
        return {k: v for k, v in env.items() if v is not None}

    @contextmanager
    def session(self, *, events=("python:*",), contexts=("vpid", "vtid"), filter=None,
                statedump=False, logging=(), subbuf="1M", nsubbuf=8):
        """A started session around the block; .trace is set when it ends.
        logging: "lttng enable-event --python" argument lists."""
        name = "t" + uuid.uuid4().hex[:12]
        out = self.tmp / name
        lt = self.daemon.lttng
        result = SimpleNamespace(trace=None, name=name)
        lt("create", name, "-o", str(out))
        try:
            # Blocking channel: the program waits rather than lose an event.
            lt("enable-channel", "-u", "-s", name, "--blocking-timeout=inf",
               f"--subbuf-size={subbuf}", f"--num-subbuf={nsubbuf}", "chan")
            if logging:
                # The Python domain's events go to this channel: make it blocking too.
                lt("enable-channel", "-u", "-s", name, "--blocking-timeout=inf",
                   f"--subbuf-size={subbuf}", f"--num-subbuf={nsubbuf}", "lttng_python_channel")
                for c in contexts:
                    lt("add-context", "-u", "-s", name, "-c", "lttng_python_channel", "-t", c)
            for args in logging:
                lt("enable-event", "--python", "-s", name, *args)
            for ev in events:
                args = ["enable-event", "-u", "-s", name, "-c", "chan", ev]
                if filter:
                    args += ["--filter", filter]
                lt(*args)
            for c in contexts:
                lt("add-context", "-u", "-s", name, "-c", "chan", "-t", c)
            if statedump:
                lt("enable-event", "-u", "-s", name, "-c", "chan", "lttng_ust_statedump:*")
            lt("start", name)
            yield result
            lt("stop", name, check=False)  # the block may have stopped it
        finally:
            lt("destroy", name, check=False)
        result.trace = Trace(out)
        assert result.trace.discarded == 0, f"{result.trace.discarded} events discarded"

    def run(self, cmd, py, *, preload=True, env=None, input=None, cwd=None, timeout=300,
            check=True, **session):
        with self.session(**session) as s:
            proc = subprocess.run(cmd, env=self.env(py, preload, env), input=input,
                                  capture_output=True, cwd=cwd, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"{cmd} exited {proc.returncode}\nstdout: {proc.stdout!r}\n"
                                 f"stderr: {proc.stderr!r}")
        return proc, s.trace

    def run_fn(self, fn, **session):
        with self.session(**session) as s:
            result = fn()
        return result, s.trace


def _run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))}: {r.stdout}{r.stderr}")
    return r.stdout


def _python_build_vars(py):
    code = ("import sysconfig as s; v = s.get_config_vars(); "
            "print(s.get_paths()['include']); print(v['EXT_SUFFIX']); print(v['LIBDIR']); "
            "print(v.get('LDVERSION') or v['VERSION'])")
    include, suffix, libdir, ldversion = _run([py["python"], "-c", code]).split("\n")[:4]
    return include, suffix, libdir, ldversion


def build_helper(name, py, root):
    """Compile tests/helpers/NAME.c: a program (native*: instrumented,
    plugin_host), an embedding program (embed*), a shared library linked with
    libpython (*_plugin), or an extension module (returns the directory to
    put on PYTHONPATH)."""
    src = HELPERS / f"{name}.c"
    cc = os.environ.get("CC", "cc")
    flags = ["-O1", "-g", "-Wall", "-Wextra", "-Werror"]
    tag = f"-{py['version']}-{abs(hash(py['python']))}" if py else ""
    out_dir = root / (name + tag)
    out_dir.mkdir(parents=True, exist_ok=True)
    if py is None:
        exe = out_dir / name
        extra = ["-finstrument-functions"] if name.startswith("native") else ["-ldl"]
        _run([cc, *flags, "-o", str(exe), str(src), *extra])
        return exe
    include, suffix, libdir, ldversion = _python_build_vars(py)
    libpython = ["-L", libdir, f"-Wl,-rpath,{libdir}", f"-lpython{ldversion}", "-lm", "-ldl"]
    if name.startswith("embed") and not name.endswith("_plugin"):
        exe = out_dir / name
        extra = (["-finstrument-functions", "-rdynamic"] if name == "embed_freethreaded"
                 else [])
        _run([cc, *flags, *extra, "-I", include, "-o", str(exe), str(src), *libpython])
        return exe
    if name.endswith("_plugin"):
        lib = out_dir / (name + ".so")
        _run([cc, *flags, "-shared", "-fPIC", "-fvisibility=hidden", "-I", include, "-o",
              str(lib), str(src), *libpython])
        return lib
    # Instrument the extension's own functions, not Python's inline ones.
    extra = (["-finstrument-functions", f"-finstrument-functions-exclude-file-list={include}"]
             if name.startswith("native") else [])
    _run([cc, *flags, *extra, "-shared", "-fPIC", "-I", include, "-o",
          str(out_dir / (name + suffix)), str(src)])
    return out_dir


LTTNGUST = Path("/usr/lib/python3/dist-packages/lttngust")


def lttngust_path(where):
    """A directory under where with LTTng's lttngust alone, for PYTHONPATH: pure
    Python over liblttng-ust-python-agent, so that every interpreter runs it."""
    path = Path(where) / "lttngust-path"
    link = path / "lttngust"
    if not link.exists():
        path.mkdir(exist_ok=True)
        link.symlink_to(LTTNGUST)
    return str(path)


def apart(cmd, env):
    """cmd and env for a run with a /run/lttng of its own (as root): no session
    daemon there, and none it starts meets the suite's."""
    env = {k: v for k, v in env.items() if k != "PYUST_TEST_ISOLATED"}
    if os.getuid() == 0:
        cmd = ["unshare", "--mount", "--propagation", "private", str(TESTS / "isolate"),
               "--inside", *cmd]
    return cmd, env


def daemon_cycle(py, tmp_path, mode):
    """Runs programs/daemon_cycle.py (MODE "logging" or "calls") with a
    /run/lttng of its own: a daemon started after the program, then killed
    and started again. Returns its completed process."""
    import sys

    cmd, env = apart([sys.executable, str(PROGRAMS / "daemon_cycle.py"), py["python"],
                      ld_preload(libpyust(py)), str(tmp_path), mode], os.environ)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)


def plugin_dir(py):
    return Path(py["prefix"]) / "lib" / "babeltrace2" / "plugins"


def bt(py, trace, sink, params=None, debug_info=False, check=True, env=None):
    """Runs one pyust sink on a trace: (stdout, stderr, exit status)."""
    cmd = ["babeltrace2", "--plugin-path", str(plugin_dir(py)), str(trace)]
    if debug_info:
        cmd.append("--debug-info")
    cmd += ["-c", f"sink.pyust.{sink}"]
    if params:
        cmd += ["-p", params]
    full_env = dict(os.environ)
    full_env.pop("NO_COLOR", None)
    full_env.update(env or {})
    r = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=300,
                       env=full_env)
    if check and r.returncode != 0:
        raise AssertionError(f"{cmd} exited {r.returncode}: {r.stderr[-3000:]}")
    return r.stdout, r.stderr, r.returncode
