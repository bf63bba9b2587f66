# SPDX-License-Identifier: MIT
"""CPython's own regression tests, once without pyust and once traced.

Runs a set of CPython's test modules ("python -m test") with each
interpreter twice: without pyust, then with LD_PRELOAD=libpyust.so while a
session records every pyust event (python:*, lttng_ust_cyg_profile_fast:*,
and every Python logger) into discard-mode channels. Compares the outcome of
every test case (from regrtest's --junit-xml) and of every test module (from
its summary), and fails on any difference that is not in ALLOWED, or when an
allowed difference no longer happens. Each allowed difference names a proof:
a run that reproduces it without pyust (--prove runs them).

Use tests/regrtest, which builds pyust and gives the session daemon a private
/run/lttng as tests/run does; see tests/RELIABILITY.md. test_regrtest.py runs
CI_MODULES with every interpreter.
"""

import argparse
import fnmatch
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pyusttest import Daemon, build_helper, ld_preload, libpyust, trace_messages  # noqa: E402

# Fits CI: about 2 to 3 minutes per interpreter for both runs with -j2.
CI_MODULES = [
    "test_generators", "test_coroutines", "test_asyncgen", "test_sys_settrace",
    "test_sys_setprofile", "test_frame", "test_traceback", "test_exceptions", "test_raise",
    "test_threading", "test_logging", "test_gc", "test_sys", "test_inspect", "test_contextlib",
    "test_contextlib_async", "test_scope", "test_with", "test_subprocess", "test_signal",
]

# Left out of the CI runs: these two differ in some runs only (FORK_CLOSES),
# so that their proof, which needs the difference to show up again, cannot be
# counted on in CI.
CI_IGNORE = ["test_preexec", "test_close_fds_after_preexec",
             # 3.14+: fails under any PEP 523 hook, in a child started with -I
             # that regrtest's peval proof cannot reach; proven by
             # test_robustness.py::test_jit_is_entered_only_without_a_frame_hook.
             "test_jit_is_active"]

# The long list (--full): what a frame hook, a gc callback, a logging wrapper,
# an agent thread and a preloaded library could disturb.
FULL_MODULES = CI_MODULES + [
    "test_yield_from", "test_genexps", "test_listcomps", "test_funcattrs", "test_decorators",
    "test_class", "test_descr", "test_super", "test_property", "test_dynamic", "test_global",
    "test_call", "test_extcall", "test_keywordonlyarg", "test_positional_only_arg",
    "test_unpack_ex", "test_opcodes", "test_grammar", "test_compile", "test_code", "test_dis",
    "test_types", "test_functools", "test_itertools", "test_builtin", "test_richcmp",
    "test_exception_group", "test_exception_hierarchy", "test_baseexception", "test_patma",
    "test_context", "test_thread", "test_threading_local", "test_queue",
    "test_concurrent_futures", "test_asyncio", "test_pdb",
    "test_bdb", "test_trace", "test_profile", "test_cprofile", "test_weakref", "test_atexit",
    "test_faulthandler", "test_warnings", "test_os", "test_tracemalloc", "test_sched",
    "test_select", "test_selectors", "test_socketserver", "test_unittest", "test_doctest",
    "test_runpy", "test_importlib", "test_zipimport", "test_cmd_line", "test_cmd_line_script",
    "test_embed", "test_multiprocessing_fork", "test_multiprocessing_forkserver",
    "test_multiprocessing_spawn", "test__xxsubinterpreters", "test_interpreters",
    "test__interpreters",
]


def _since(version, v):
    """version is v's release of its X.Y or a later one, for v "X.Y.Z+"."""
    if not v.endswith("+"):
        return False
    want = tuple(int(x) for x in v[:-1].split("."))
    have = tuple(int(x) for x in version.split(".")[:3] if x.isdigit())
    return have[:2] == want[:2] and have >= want


def _applies(versions, version):
    """Whether an Allowed or Known entry of these versions holds for version."""
    return any(version == v or version.startswith(v + ".") or _since(version, v)
               for v in versions)


@dataclass
class Allowed:
    """A difference inherent to what pyust must load, and how to reproduce it
    without pyust (PROOFS)."""
    versions: tuple  # "3.12", "3.12.1", or "3.13.5+" (that release of 3.13 and later ones)
    test: str  # a test id (a glob), or a test module for a difference of the module only
    baseline: str
    traced: str
    proof: str
    reason: str
    sometimes: bool = False  # happens to some of the tests, in some runs only

    def applies(self, version):
        return _applies(self.versions, version)

    def matches(self, key, baseline, traced):
        return fnmatch.fnmatchcase(key, self.test) and (baseline, traced) == (self.baseline,
                                                                               self.traced)


# How an allowed difference is reproduced without pyust: the test is run as
# it is, then with only this cause, under the same recording session.
PROOFS = {
    "peval": "a pass-through PEP 523 hook (tests/helpers/peval.c), installed before regrtest runs",
    "lttng-ust": "LD_PRELOAD=liblttng-ust.so.1: LTTng-UST alone, its listener threads and "
                 "descriptors",
    "lttng-ust-fork": "LD_PRELOAD=liblttng-ust-fork.so.1: LTTng-UST's own support for tracing "
                      "children of fork() as themselves",
}

SETTRACE_ASYNC_FOR = ("With a PEP 523 hook, CPython 3.12+ reports each StopAsyncIteration of an "
                      "async for loop to sys.settrace twice")
FORK_WARNING = ("3.12+ warns (DeprecationWarning) that os.fork() in a multi-threaded process "
                "may deadlock: LTTng-UST's listener threads are there")
FORK_CLOSES = ("a child of fork() that LTTng-UST prepared to be traced as itself "
               "(subprocess with preexec_fn runs the at-fork handlers) and that closes "
               "descriptors before exec (a standard stream, or close_fds) sometimes fails "
               "LTTng-UST's assertion 'counter/shm.c:327: lttng_counter_shmp_object_destroy'")
ALLOWED = [
    Allowed(("3.12", "3.13", "3.14"), "test.test_sys_settrace.*.test_20_async_for_loop",
            "pass", "fail",
            "peval", SETTRACE_ASYNC_FOR),
    Allowed(("3.11", "3.12", "3.14", "3.15"), "test.test_dis.*.test_loop_quicken", "pass",
            "fail", "peval",
            "while a PEP 523 hook is set the specializer refuses Python-to-Python call "
            "specializations (SPEC_FAIL_CALL_PEP_523), and the test compares quickened bytecode"),
    Allowed(("3.12", "3.14", "3.15"), "test.test_call.TestRecursion.test_super_deep", "pass",
            "error", "peval", "with a PEP 523 hook every Python call recurses in C, and 90000 "
            "nested calls raise RecursionError (README: beyond about 12000 frames on 3.12, "
            "8000 on 3.14+)"),
    Allowed(("3.12", "3.13", "3.14", "3.15"),
            "test.test_threading.ThreadTests.test_main_thread_after_fork", "pass", "fail",
            "lttng-ust", FORK_WARNING),
    # The test came in a 3.13 bug-fix release (Debian 13's 3.13.5 has it, 3.13.0 has not).
    Allowed(("3.13.5+", "3.14", "3.15"),
            "test.test_threading.ThreadTests.test_native_id_after_fork", "pass", "fail",
            "lttng-ust", FORK_WARNING),
    Allowed(("3.9", "3.10", "3.11", "3.12", "3.13"), "test.test_cmd_line.CmdLineTest.test_no_std*",
            "pass", "fail", "lttng-ust-fork", FORK_CLOSES, sometimes=True),
    Allowed(("3.9", "3.10", "3.11", "3.12", "3.13"),
            "test.test_subprocess.POSIXProcessTestCase.test_close_fds_after_preexec", "pass",
            "error", "lttng-ust-fork", FORK_CLOSES, sometimes=True),
    Allowed(("3.9", "3.10", "3.11", "3.12", "3.13"),
            "test.test_subprocess.POSIXProcessTestCase.test_preexec", "pass", "fail",
            "lttng-ust-fork", FORK_CLOSES, sometimes=True),
    Allowed(("3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15"),
            "test.test_subprocess.POSIXProcessTestCase.test_pass_fds_redirected", "pass", "fail",
            "lttng-ust", "the child, a Python with LD_PRELOAD, opens LTTng-UST's descriptors, "
            "and the test expects no descriptor but the ones it passed"),
]


@dataclass
class Known:
    """A difference pyust makes that is not inherent and not fixed yet
    (tests/RELIABILITY.md). Reported, and fails the check with --strict; a
    known difference that no longer happens fails it always."""
    versions: tuple
    test: str  # a glob of test ids, or a module: all its tests
    reason: str

    def applies(self, version):
        return _applies(self.versions, version)

    def matches(self, key, baseline, traced):
        return (fnmatch.fnmatchcase(key, self.test) or key == "test." + self.test
                or key.startswith("test." + self.test + "."))


# Differences not fixed yet and not inherent (tests/RELIABILITY.md). An entry:
# Known(versions, test pattern, reason).
KNOWN = [
    Known(("3.14", "3.15"), "test.test_importlib.test_abc.*_SourceLoaderBytecodeTests.test_*",
          "the test marshals a code object again after running it, and 3.14+'s marshal "
          "marks an object it may meet again by its reference count: pyust's per-code cache "
          "holds references to the file name, name and line table of each code that ran"),
    Known(("3.15",), "test.test_faulthandler.FaultHandlerTests.test_dump_ext_modules",
          "a crash dump lists the extension modules outside the standard library, and pyust's "
          "module is in sys.modules in every traced process"),
]

CATEGORIES = [  # regrtest's summary headers, longest first
    ("altered the execution environment", "env changed"),
    ("skipped (resource denied)", "resource denied"),
    ("run no tests", "no tests"),
    ("failed", "failed"),
    ("skipped", "skipped"),
    ("omitted", "omitted"),
    ("re-run test", None),  # regrtest's own re-run: its final result is listed elsewhere
]
PROGRESS = re.compile(r"\[\s*\d+/\d+(?:/\d+)?\]\s+(test[\w.]*)")
HEADER = re.compile(r"^(?:All )?\d+ (?:tests?|re-run tests?) (.*?)[:.]?$")


@dataclass
class Outcomes:
    tests: dict  # test id -> pass, fail, error, skip, xfail, xpass (joined with "/" if repeated)
    modules: dict  # module -> ok, failed, env changed, skipped, ...
    returncode: int
    log: Path

    def get(self, key):
        return self.tests.get(key) or self.modules.get(key) or "absent"


def parse_junit(path):
    tests = {}
    if not path.exists():
        return tests
    for case in ET.parse(path).getroot().iter("testcase"):
        name = case.get("name")
        if not name:  # a test whose subtests failed: regrtest never completes its element
            continue
        if case.find("error") is not None:
            result = "error"
        elif case.find("failure") is not None:
            result = "fail"
        elif case.find("skipped") is not None:
            result = "skip"
        elif case.find("output") is not None:
            result = "xfail"
        elif case.find("outcome") is not None or case.get("outcome"):
            result = "xpass"
        else:
            result = "pass"
        old = tests.get(name)
        tests[name] = result if old in (None, result) else "/".join(sorted({*old.split("/"),
                                                                           result}))
    return tests


def parse_summary(text):
    """Module -> outcome, from regrtest's progress lines and final summary."""
    modules = {m: "ok" for m in PROGRESS.findall(text)}
    summary = text[text.rfind("== Tests result"):] if "== Tests result" in text else ""
    category = None
    for line in summary.splitlines():
        m = HEADER.match(line)
        if m:
            category = next((c for phrase, c in CATEGORIES if m.group(1).startswith(phrase)
                             or phrase in m.group(0)), None)
            continue
        if category and line.startswith("    "):
            for name in line.split():
                modules[name] = category
        elif not line.strip():
            category = None
    return modules


def regrtest_cmd(py, modules, xml, jobs, match=(), launcher=None, ignore=()):
    cmd = [py["python"]]
    cmd += ["-c", launcher] if launcher else ["-m", "test"]
    cmd += ["--junit-xml", str(xml), "--timeout", "900"]
    if jobs > 1:
        cmd += ["-j", str(jobs)]
    for m in match:
        cmd += ["-m", m]
    for i in ignore:
        cmd += ["-i", i]
    return cmd + list(modules)


def run_regrtest(py, modules, env, workdir, tag, jobs=2, match=(), launcher=None, ignore=(),
                 timeout=4 * 3600):
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    xml, log = workdir / f"{tag}.xml", workdir / f"{tag}.log"
    run_dir = workdir / f"{tag}.cwd"
    run_dir.mkdir(exist_ok=True)
    with open(log, "w") as out:
        proc = subprocess.run(regrtest_cmd(py, modules, xml, jobs, match, launcher, ignore), env=env,
                              cwd=run_dir, stdout=out, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, timeout=timeout)
    text = log.read_text(errors="replace")
    return Outcomes(parse_junit(xml), parse_summary(text), proc.returncode, log)


def count_events(path):
    """Events by name, discarded events, and the processes with function entries."""
    import bt2
    names, pids, discarded = Counter(), set(), 0
    if not any(Path(path).rglob("metadata")):
        return names, discarded, pids
    for msg in trace_messages(path):
        if type(msg) is bt2._EventMessageConst:
            ev = msg.event
            names[ev.name] += 1
            if ev.name == "python:function__entry":
                pids.add(int(ev.common_context_field["vpid"]))
        elif type(msg) is bt2._DiscardedEventsMessageConst:
            discarded += msg.count or 0
    return names, discarded, pids


class Session:
    """Every pyust event, in discard-mode channels: a full buffer loses events
    rather than slowing the tests. The trace files rotate, so that the disk
    keeps the last few megabytes of each stream, enough to count."""

    def __init__(self, daemon, out):
        self.daemon, self.out, self.name = daemon, Path(out), "r" + uuid.uuid4().hex[:12]

    def __enter__(self):
        lt, s = self.daemon.lttng, self.name
        if lt("create", s, "-o", str(self.out), check=False).returncode != 0:
            restart_if_gone(self.daemon)
            lt("create", s, "-o", str(self.out))
        for chan in ("chan", "lttng_python_channel"):
            lt("enable-channel", "-u", "-s", s, "--discard", "--subbuf-size=4M",
               "--num-subbuf=8", "--tracefile-size=4194304", "--tracefile-count=2", chan)
            lt("add-context", "-u", "-s", s, "-c", chan, "-t", "vpid", "-t", "vtid")
        lt("enable-event", "-u", "-s", s, "-c", "chan", "python:*")
        lt("enable-event", "-u", "-s", s, "-c", "chan", "lttng_ust_cyg_profile_fast:*")
        lt("enable-event", "--python", "-s", s, "-a")
        lt("start", s)
        return self

    def __exit__(self, *exc):
        self.daemon.lttng("stop", self.name, check=False)
        self.daemon.lttng("destroy", self.name, check=False)
        self.events, self.discarded, self.pids = count_events(self.out)


def restart_if_gone(daemon):
    """A long run outlives its daemon if someone stops it: start another."""
    try:
        os.kill(daemon.pid, 0)
        return
    except (ProcessLookupError, TypeError):
        pass
    print(f"   the session daemon {daemon.pid} is gone: starting another", flush=True)
    (daemon.rundir / "lttng-sessiond.pid").unlink(missing_ok=True)
    daemon.start()


def available(py, modules):
    code = ("import sys, importlib.util\n"
            "for m in sys.argv[1:]:\n"
            "    print(m, bool(importlib.util.find_spec('test.' + m)))")
    out = subprocess.run([py["python"], "-c", code, *modules], capture_output=True, text=True,
                         check=True).stdout.split()
    return [m for m, ok in zip(out[::2], out[1::2]) if ok == "True"]


def python_version(py):
    return subprocess.run([py["python"], "-c", "import platform; print(platform.python_version())"],
                          capture_output=True, text=True, check=True).stdout.strip()


def module_of(test_id, modules):
    """The module (as regrtest names it) a test id belongs to."""
    best = ""
    for m in modules:
        if (test_id == m or test_id.startswith("test." + m + ".")) and len(m) > len(best):
            best = m
    if not best and test_id.startswith("test."):
        best = test_id.split(".")[1]
    return best


# Runs "python -m test" with a pass-through PEP 523 hook installed first.
PEVAL_LAUNCHER = """\
import sys, runpy
sys.path.insert(0, {dir!r})
import peval
peval.install()
assert peval.installed()
sys.argv[0] = "regrtest"
runpy.run_module("test", run_name="__main__", alter_sys=True)
"""


@dataclass
class Report:
    py: dict
    version: str
    modules: list
    missing: list = field(default_factory=list)  # modules this version does not have
    base: Outcomes = None
    traced: Outcomes = None
    events: Counter = field(default_factory=Counter)
    discarded: int = 0
    pids: set = field(default_factory=set)
    allowed: dict = field(default_factory=dict)  # Allowed index -> [diffs, proven or None]
    known: list = field(default_factory=list)  # (Known, key, baseline, traced)
    unexpected: list = field(default_factory=list)  # (key, baseline, traced)
    flaky: list = field(default_factory=list)  # (key, baseline, traced, rerun b., rerun t.)
    vanished: list = field(default_factory=list)  # allowed or known, no longer happening

    def ok(self, strict=False):
        return (not self.unexpected and not self.vanished and not (strict and self.known)
                and all(p is not False for _, p in self.allowed.values())
                and self.events["python:function__entry"] != 0)

    def format(self):
        b, t = self.base, self.traced
        lines = [f"== {self.py['python']} (Python {self.version}): {len(self.modules)} modules"
                 + (f", not in this version: {' '.join(self.missing)}" if self.missing else ""),
                 f"   without pyust: {dict(Counter(b.tests.values()).most_common())}, modules "
                 f"{dict(Counter(b.modules.values()).most_common())} (exit {b.returncode})",
                 f"   with pyust:    {dict(Counter(t.tests.values()).most_common())}, modules "
                 f"{dict(Counter(t.modules.values()).most_common())} (exit {t.returncode})",
                 f"   recorded: {dict(self.events)}, {self.discarded} discarded, "
                 f"function entries from {len(self.pids)} processes",
                 f"   logs: {b.log} {t.log}"]
        for i, (diffs, proven) in self.allowed.items():
            a = ALLOWED[i]
            state = {True: "proven", False: "PROOF FAILED", None: "not proven here"}[proven]
            lines.append(f"   allowed, {state} with {a.proof}: {a.test}: {a.baseline} -> "
                         f"{a.traced} ({len(diffs)} tests): {a.reason}")
        for k in {id(k): k for k, *_ in self.known}.values():
            mine = [(key, bo, to) for k2, key, bo, to in self.known if k2 is k]
            shown = ", ".join(f"{key}: {bo} -> {to}" for key, bo, to in mine[:3])
            more = f" and {len(mine) - 3} more" if len(mine) > 3 else ""
            lines.append(f"   KNOWN DIFFERENCE ({len(mine)}): {shown}{more}: {k.reason}")
        for key, bo, to, rb, rt in self.flaky:
            lines.append(f"   flaky: {key}: {bo} -> {to}, run again: {rb} -> {rt}")
        for key, bo, to in self.unexpected:
            lines.append(f"   DIFFERENCE: {key}: {bo} without pyust, {to} with pyust")
        for a in self.vanished:
            lines.append(f"   NO LONGER HAPPENS (remove it from the list): {a.test}: {a.reason}")
        return "\n".join(lines)


def differences(base, traced):
    keys = sorted({*base.tests, *traced.tests})
    diffs = [(k, base.tests.get(k, "absent"), traced.tests.get(k, "absent")) for k in keys
             if base.tests.get(k) != traced.tests.get(k)]
    mods = sorted({*base.modules, *traced.modules})
    mdiffs = [(m, base.modules.get(m, "absent"), traced.modules.get(m, "absent")) for m in mods
              if base.modules.get(m) != traced.modules.get(m)]
    return diffs, mdiffs


def tag_of(key):
    return re.sub(r"[^\w.]", "_", key)[:100]


def check(py, modules, daemon, workdir, jobs=2, peval_dir=None, prove=True, rerun=True,
          ignore=(), log=print):
    """Runs the modules without and with pyust and compares; returns a Report.
    peval_dir: a callable returning the directory of the built peval helper;
    ignore: regrtest -i patterns, for both runs."""
    workdir = Path(workdir)
    version = python_version(py)
    present = available(py, modules)
    rep = Report(py, version, present, [m for m in modules if m not in present])
    env = dict(daemon.env)
    env.pop("LD_PRELOAD", None)
    traced_env = dict(env, LD_PRELOAD=ld_preload(libpyust(py)))
    log(f"== {py['python']} ({version}): {' '.join(present)}")
    rep.base = run_regrtest(py, present, env, workdir, "baseline", jobs, ignore=ignore)
    log(f"   without pyust: exit {rep.base.returncode}, {len(rep.base.tests)} test cases")
    with Session(daemon, workdir / "trace") as s:
        rep.traced = run_regrtest(py, present, traced_env, workdir, "traced", jobs,
                                  ignore=ignore)
    rep.events, rep.discarded, rep.pids = s.events, s.discarded, s.pids
    log(f"   with pyust: exit {rep.traced.returncode}, {len(rep.traced.tests)} test cases, "
        f"{s.events['python:function__entry']} function entries kept")
    compare(rep, env, traced_env, daemon, workdir, peval_dir, prove, rerun, ignore)
    log(rep.format())
    return rep


def compare(rep, env, traced_env, daemon, workdir, peval_dir=None, prove=True, rerun=True,
            ignore=()):
    """Sorts the differences of rep's two runs into allowed (and proves them),
    known, flaky (run again when rerun) and unexpected ones."""
    py, version, present = rep.py, rep.version, rep.modules
    diffs, mdiffs = differences(rep.base, rep.traced)
    allowed = [(i, a) for i, a in enumerate(ALLOWED) if a.applies(version)]
    known = [k for k in KNOWN if k.applies(version)]
    explained, rest, by_module = set(), [], {}
    for key, bo, to in diffs:
        by_module.setdefault(module_of(key, present), []).append(key)
        i = next((i for i, a in allowed if a.matches(key, bo, to)), None)
        k = next((k for k in known if k.matches(key, bo, to)), None) if i is None else None
        if i is not None:
            rep.allowed.setdefault(i, [[], None])[0].append((key, bo, to))
        elif k:
            rep.known.append((k, key, bo, to))
        else:
            rest.append((key, bo, to, False))
            continue
        explained.add(key)
    for key, bo, to in mdiffs:
        k = next((k for k in known if k.test == key), None)
        if k:
            rep.known.append((k, key, bo, to))
        elif not by_module.get(key):
            rest.append((key, bo, to, True))  # the module differs, none of its tests does
        # else: it follows from its tests' differences, reported (or allowed) one by one
    # Run again what differs, alone, to tell a flaky test from a difference.
    for key, bo, to, is_module in rest:
        if not rerun:
            rep.unexpected.append((key, bo, to))
            continue
        mod = key if is_module else module_of(key, present)
        match = () if is_module else (key.rsplit(".", 1)[-1],)
        rb = run_regrtest(py, [mod], env, workdir / "rerun", "baseline-" + tag_of(key), 1, match)
        with Session(daemon, workdir / "rerun" / ("trace-" + tag_of(key))):
            rt = run_regrtest(py, [mod], traced_env, workdir / "rerun", "traced-" + tag_of(key),
                              1, match)
        rbo, rto = rb.get(key), rt.get(key)
        if rbo == rto:
            rep.flaky.append((key, bo, to, rbo, rto))
        else:
            rep.unexpected.append((key, bo, to))
    ran = set(present)
    seen_known = {k.test for k, *_ in rep.known}
    for i, a in allowed:
        ignored = any(fnmatch.fnmatchcase(a.test, p)
                      or fnmatch.fnmatchcase(a.test.rsplit(".", 1)[-1], p) for p in ignore)
        if (i not in rep.allowed and module_of(a.test, present) in ran and not ignored
                and not a.sometimes):
            rep.vanished.append(a)
    for k in known:
        if k.test not in seen_known and (k.test in ran or module_of(k.test, present) in ran):
            rep.vanished.append(k)
    if prove:
        for i, entry in rep.allowed.items():
            entry[1] = prove_one(py, ALLOWED[i], entry[0], env, daemon,
                                 workdir / "proofs" / str(i), peval_dir, present, ignore)


def recheck(workdir, config, ignore=()):
    """The comparison of a kept --workdir again, with the lists as they are
    now: no run, no re-run, no proof."""
    reports = []
    for py in config:
        pdir = Path(workdir) / py["python"].strip("/").replace("/", "_")
        if not (pdir / "traced.log").exists():
            continue
        outs = [Outcomes(parse_junit(pdir / f"{t}.xml"),
                         parse_summary((pdir / f"{t}.log").read_text(errors="replace")), None,
                         pdir / f"{t}.log") for t in ("baseline", "traced")]
        modules = sorted({module_of(k, []) for k in outs[0].tests} | set(outs[0].modules))
        rep = Report(py, python_version(py), modules, [], *outs)
        rep.events["python:function__entry"] = -1  # not read again
        compare(rep, None, None, None, pdir, prove=False, rerun=False, ignore=ignore)
        reports.append(rep)
    return reports


def prove_one(py, a, diffs, env, daemon, workdir, peval_dir, modules, ignore=()):
    """Reproduces an allowed difference without pyust: each of its tests gives
    the baseline result as it is, and the traced result with the cause alone.
    The whole module runs: some tests give another result when run alone."""
    mod = module_of(a.test, modules)
    match = ()
    with Session(daemon, workdir / "trace-plain"):
        plain = run_regrtest(py, [mod], env, workdir, "plain", 1, match, ignore=ignore)
    launcher = None
    cause_env = dict(env)
    if a.proof == "peval":
        if peval_dir is None:
            return None
        launcher = PEVAL_LAUNCHER.format(dir=str(peval_dir()))
    elif a.proof == "lttng-ust":
        cause_env["LD_PRELOAD"] = "liblttng-ust.so.1"
    elif a.proof == "lttng-ust-fork":
        cause_env["LD_PRELOAD"] = "liblttng-ust-fork.so.1"
    else:
        raise ValueError(a.proof)
    if a.sometimes:  # the cause makes some of its tests differ, in some runs: 3 tries
        if not all(plain.get(key) == bo for key, bo, to in diffs):
            return False
        for attempt in range(3):
            with Session(daemon, workdir / f"trace-cause-{attempt}"):
                cause = run_regrtest(py, [mod], cause_env, workdir, f"{a.proof}-{attempt}", 1,
                                     match, launcher, ignore)
            if any(fnmatch.fnmatchcase(key, a.test) and result == a.traced
                   for key, result in cause.tests.items()):
                return True
        return False
    with Session(daemon, workdir / "trace-cause"):
        cause = run_regrtest(py, [mod], cause_env, workdir, a.proof, 1, match, launcher, ignore)
    return all(plain.get(key) == bo and cause.get(key) == to for key, bo, to in diffs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("modules", nargs="*", help="test modules (default: the CI set)")
    ap.add_argument("--full", action="store_true", help="the long list of modules")
    ap.add_argument("--python", action="append", default=[],
                    help="an interpreter of the test config (path or version); repeatable; "
                         "default: all")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="regrtest worker processes")
    ap.add_argument("--no-prove", action="store_true",
                    help="do not reproduce the allowed differences without pyust")
    ap.add_argument("--no-rerun", action="store_true",
                    help="do not run differing tests again to tell flaky ones apart")
    ap.add_argument("--strict", action="store_true",
                    help="fail on the known differences (KNOWN) too")
    ap.add_argument("-i", "--ignore", action="append", default=[], metavar="PAT",
                    help="regrtest -i: leave out the matching tests in both runs")
    ap.add_argument("--workdir", help="keep logs, junit files and traces here")
    ap.add_argument("--recheck", metavar="WORKDIR",
                    help="compare the runs kept in WORKDIR again with the current lists")
    ap.add_argument("--json", help="write the per-interpreter summary to this file")
    args = ap.parse_args()

    config = os.environ.get("PYUST_TEST_CONFIG")
    if not config:
        sys.exit("PYUST_TEST_CONFIG is not set: run tests/regrtest")
    pythons = json.loads(Path(config).read_text())
    if args.python:
        pythons = [p for p in pythons if p["python"] in args.python or p["version"] in args.python]
    if args.recheck:
        reports = recheck(args.recheck, pythons, args.ignore)
        print("\n".join(r.format() for r in reports))
        sys.exit(0 if all(r.ok(args.strict) for r in reports) else 1)
    modules = args.modules or (FULL_MODULES if args.full else CI_MODULES)
    if not args.modules and not args.full and not args.ignore:
        args.ignore = CI_IGNORE
    work = Path(args.workdir or tempfile.mkdtemp(prefix="pyust-regrtest-"))
    # Stopped by a signal: still stop the session daemon (finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    daemon = Daemon(work / "lttng-home")
    daemon.home.mkdir(parents=True, exist_ok=True)
    daemon.start()
    reports = []
    try:
        for py in pythons:
            tag = py["python"].strip("/").replace("/", "_")
            pdir = work / tag
            peval_cache = {}

            def peval_dir(py=py, pdir=pdir):
                if "d" not in peval_cache:
                    peval_cache["d"] = build_helper("peval", py, pdir / "helpers")
                return peval_cache["d"]

            reports.append(check(py, modules, daemon, pdir, args.jobs, peval_dir,
                                 not args.no_prove, not args.no_rerun, args.ignore))
    finally:
        daemon.stop()
    print("\n".join(r.format() for r in reports))
    if args.json:
        Path(args.json).write_text(json.dumps([{
            "python": r.py["python"], "version": r.version, "modules": len(r.modules),
            "baseline": dict(Counter(r.base.tests.values())),
            "traced": dict(Counter(r.traced.tests.values())),
            "events": dict(r.events), "discarded": r.discarded, "processes": len(r.pids),
            "allowed": [[ALLOWED[i].test, [d[0] for d in diffs], proven]
                        for i, (diffs, proven) in r.allowed.items()],
            "known": [[k.test, key, bo, to] for k, key, bo, to in r.known],
            "flaky": r.flaky, "unexpected": r.unexpected, "missing": r.missing,
            "vanished": [a.test for a in r.vanished]} for r in reports], indent=1))
    bad = [r for r in reports if not r.ok(args.strict)]
    print(f"work directory: {work}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
