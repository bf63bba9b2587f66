# SPDX-License-Identifier: MIT
"""Side-by-side benchmark of pyust against its peers: every configuration runs
once per round, rounds interleave, medians and ratios are reported.
Run through bench/run."""

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "tests"))
from pyusttest import LTTNGUST, Daemon, apart, libpyust, lttngust_path  # noqa: E402

CYG_FAST = "/usr/lib/x86_64-linux-gnu/liblttng-ust-cyg-profile-fast.so"
ROUNDS = int(os.environ.get("PYUST_BENCH_ROUNDS", "7"))
REPEAT = int(os.environ.get("PYUST_BENCH_REPEAT", "3"))
# PYUST_BENCH_WORKLOADS narrows the run, e.g. "logging native".
SELECTED = os.environ.get("PYUST_BENCH_WORKLOADS",
                          "fib objects service logging native reaction startup").split()
WORKLOADS = [w for w in ("fib", "objects", "service") if w in SELECTED]
NATIVE_CALLS = 500000


def sh(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, check=True, **kw).stdout


class Recording:
    """A session recording EVENTS with buffers sized to lose nothing."""

    def __init__(self, daemon, out, events="python:*", start=True):
        """events: a user-space event rule, or "--python" for all Python loggers."""
        self.daemon, self.out, self.events, self.start = daemon, out, events, start
        self.name = "bench" + uuid.uuid4().hex[:8]

    def __enter__(self):
        lt = self.daemon.lttng
        lt("create", self.name, "-o", str(self.out / self.name))
        chan = "lttng_python_channel" if self.events == "--python" else "chan"
        lt("enable-channel", "-u", "-s", self.name, "--subbuf-size=8M", "--num-subbuf=8", chan)
        if self.events == "--python":
            lt("enable-event", "--python", "-s", self.name, "-a")
        else:
            lt("enable-event", "-u", "-s", self.name, "-c", "chan", self.events)
        if self.start:
            lt("start", self.name)
        return self

    def __exit__(self, *exc):
        lt = self.daemon.lttng
        lt("stop", self.name, check=False)
        listing = lt("list", self.name).stdout
        self.discarded = sum(int(line.split(":")[1]) for line in listing.splitlines()
                             if "Discarded events" in line)
        lt("destroy", self.name)


def run_config(cfg, py, workload, daemon, out, exes):
    env = dict(daemon.env)
    if cfg in ("idle", "traced", "floor"):
        env["LD_PRELOAD"] = libpyust(py)
    if cfg == "floor":
        cmd = [str(exes["floor"]), "calls", "200000", str(BENCH / "workloads" / "fib.py")]
    else:
        mode = cfg if cfg in ("cprofile", "setprofile", "monitoring") else "plain"
        cmd = [py["python"], str(BENCH / "workloads" / f"{workload}.py"), mode, str(REPEAT)]
    if cfg in ("traced", "floor"):
        with Recording(daemon, out) as rec:
            value = float(sh(cmd, env=env))
        return value, rec.discarded
    return float(sh(cmd, env=env)), 0


def run_native(cfg, py, daemon, out, exes):
    """The instrumented C program: no preload, cyg-profile-fast, or pyust."""
    env = dict(daemon.env)
    cmd = [str(exes["native"]), str(NATIVE_CALLS)]
    if cfg == "plain":
        return float(sh(cmd, env=env)), 0
    env["LD_PRELOAD"] = CYG_FAST if cfg == "cyg-profile-fast" else libpyust(py)
    with Recording(daemon, out, "lttng_ust_cyg_profile_fast:*") as rec:
        value = float(sh(cmd, env=env))
    return value, rec.discarded


def run_logging(cfg, py, daemon, out, exes):
    """Records logged with a NullHandler on the root logger: without pyust (plain),
    preloaded with no session (idle), recording (pyust), and lttngust recording."""
    env = dict(daemon.env)
    mode = "plain"
    if cfg == "floor":
        env["LD_PRELOAD"] = str(Path(libpyust(py)).parent / "pyust" / "libpyust-log.so")
        with Recording(daemon, out, "--python") as rec:
            value = float(sh([str(exes["floor"]), "log", "200000"], env=env))
        return value, rec.discarded
    if cfg in ("idle", "pyust"):
        env["LD_PRELOAD"] = libpyust(py)
    if cfg == "lttngust":
        env["PYTHONPATH"] = lttngust_path(out)
        mode = "lttngust"
    cmd = [py["python"], str(BENCH / "workloads" / "logging_records.py"), mode, str(REPEAT)]
    if cfg in ("pyust", "lttngust"):
        with Recording(daemon, out, "--python") as rec:
            value = float(sh(cmd, env=env))
        return value, rec.discarded
    return float(sh(cmd, env=env)), 0


# A program whose first line logs below the root's level.
STARTUP_PROGRAM = "import logging; logging.getLogger('start').info('first line')"
STARTUP_RUNS = 20


def run_startup(cfg, py, daemon, out, exes):
    """ms from exec to exit of a one-line program: without pyust (plain), with
    LTTng-UST alone preloaded (lttng-ust: its own registration), with pyust and
    no session daemon at all, with pyust and a daemon, and with lttngust
    imported. "-session": under a session that wants every Python logger."""
    env = dict(daemon.env)
    cmd = [py["python"], "-c", STARTUP_PROGRAM]
    if cfg.startswith("lttng-ust"):
        env["LD_PRELOAD"] = "liblttng-ust.so.1"
    elif cfg.startswith("pyust"):
        env["LD_PRELOAD"] = libpyust(py)
    elif cfg == "lttngust":
        env["PYTHONPATH"] = lttngust_path(out)
        cmd = [py["python"], "-c", "import lttngust; " + STARTUP_PROGRAM]
    harness = [sys.executable, str(BENCH / "workloads" / "startup.py"), str(STARTUP_RUNS),
               "--", *cmd]
    if cfg == "pyust-no-daemon":
        harness, env = apart(harness, env)
    if cfg.endswith("-session"):
        with Recording(daemon, out, "--python") as rec:
            value = float(sh(harness, env=env))
        return value, rec.discarded
    return float(sh(harness, env=env)), 0


def bench_startup(py, daemon, out, exes, results):
    configs = ["plain", "lttng-ust", "lttng-ust-session", "pyust-no-daemon", "pyust",
               "pyust-session"] + (["lttngust"] if os.path.isdir(LTTNGUST) else [])
    med, lost = interleaved(configs, lambda c: run_startup(c, py, daemon, out, exes))
    ratios = {"pyust-no-daemon/plain": med["pyust-no-daemon"] / med["plain"],
              "pyust/lttng-ust": med["pyust"] / med["lttng-ust"],
              "pyust-session/lttng-ust-session": med["pyust-session"] / med["lttng-ust-session"]}
    if "lttngust" in med:
        ratios["pyust/lttngust"] = med["pyust"] / med["lttngust"]
    row = {"python": py["python"], "version": py["version"], "workload": "startup",
           "ms": med, "discarded_events": lost, "ratios": ratios}
    results["runs"].append(row)
    print(f"\n{py['python']} (Python {py['version']}), startup, median of {ROUNDS} rounds of"
          f" the median of {STARTUP_RUNS} runs, ms from exec to exit")
    for c in configs:
        print(f"  {c:16s} {med[c]:9.2f}")
    for k, v in ratios.items():
        print(f"  {k:32s} {v:6.2f}", flush=True)


def reaction(py, daemon, out):
    """ms from running "lttng start" to the hook in place, from running "lttng stop" to its
    removal, and what the "lttng start" command itself took (the session daemon creates
    the buffers and tells the application before it returns)."""
    env = dict(daemon.env, LD_PRELOAD=libpyust(py))
    with Recording(daemon, out, start=False) as rec:
        proc = subprocess.Popen([py["python"], str(BENCH / "workloads" / "reaction.py")],
                                env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline() == "ready\n"
        t0 = time.monotonic()
        daemon.lttng("start", rec.name)
        t_cmd = time.monotonic() - t0
        on = float(proc.stdout.readline()) - t0
        t1 = time.monotonic()
        daemon.lttng("stop", rec.name)
        off = float(proc.stdout.readline()) - t1
        proc.communicate("")
    return on * 1000, off * 1000, t_cmd * 1000


def build(out):
    cc = os.environ.get("CC", "cc")
    cflags = sh(["pkg-config", "--cflags", "lttng-ust"]).split()
    exes = {"floor": out / "floor", "native": out / "native"}
    sh([cc, "-O2", "-I", str(BENCH.parent / "tracepoints"), *cflags, "-o", str(exes["floor"]),
        str(BENCH / "floor.c"), "-ldl"])
    sh([cc, "-O2", "-finstrument-functions", "-o", str(exes["native"]), str(BENCH / "native.c")])
    return exes


def interleaved(configs, measure):
    """Medians over ROUNDS rounds, the order rotated each round; and the events lost."""
    samples = {c: [] for c in configs}
    lost = 0
    for r in range(ROUNDS):
        for cfg in configs[r % len(configs):] + configs[:r % len(configs)]:
            value, discarded = measure(cfg)
            samples[cfg].append(value)
            lost += discarded
    return {c: statistics.median(v) for c, v in samples.items()}, lost


def environment():
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    ust = sh(["pkg-config", "--modversion", "lttng-ust"]).strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(), "lttng_ust": ust}


def report(py, row, configs):
    unit = ("ns per record (floor: ns per lttng_python:event from C)"
            if row["workload"] == "logging" else
            "ns per call (floor: ns per entry+return pair from C)")
    print(f"\n{py['python']} (Python {py['version']}), {row['workload']}, median of {ROUNDS}"
          f" rounds, {unit}")
    for c in configs:
        print(f"  {c:16s} {row['ns_per_call'][c]:9.1f}")
    for k, v in row["ratios"].items():
        print(f"  {k:24s} {v:6.2f}")
    print(f"  discarded events while recording: {row['discarded_events']}", flush=True)


def bench_logging(py, daemon, out, exes, results):
    configs = ["plain", "idle", "pyust", "floor"] + (
        ["lttngust"] if os.path.isdir(LTTNGUST) else [])
    med, lost = interleaved(configs, lambda c: run_logging(c, py, daemon, out, exes))
    ratios = {"idle/plain": med["idle"] / med["plain"], "pyust/plain": med["pyust"] / med["plain"],
              "floor/(pyust-plain)": med["floor"] / (med["pyust"] - med["plain"])}
    if "lttngust" in med:
        ratios["(pyust-plain)/(lttngust-plain)"] = (
            (med["pyust"] - med["plain"]) / (med["lttngust"] - med["plain"]))
    row = {"python": py["python"], "version": py["version"], "workload": "logging",
           "ns_per_call": med, "discarded_events": lost, "ratios": ratios}
    results["runs"].append(row)
    report(py, row, configs)


def bench_native(py, daemon, out, exes, results):
    med, lost = interleaved(["plain", "cyg-profile-fast", "pyust"],
                            lambda c: run_native(c, py, daemon, out, exes))
    row = {"python": py["python"], "version": py["version"], "workload": "native",
           "ns_per_call": med, "discarded_events": lost, "ratios": {
               "pyust/cyg-profile-fast": med["pyust"] / med["cyg-profile-fast"]}}
    results["runs"].append(row)
    report(py, row, list(med))


def bench_reaction(py, daemon, out, results):
    times = [reaction(py, daemon, out) for _ in range(ROUNDS)]
    row = {"python": py["python"], "version": py["version"], "workload": "reaction",
           "ms": {"start_to_hook": statistics.median(t[0] for t in times),
                  "stop_to_unhook": statistics.median(t[1] for t in times),
                  "lttng_start_command": statistics.median(t[2] for t in times)}}
    results["runs"].append(row)
    ms = row["ms"]
    print(f"  reaction, median ms: lttng start -> hook {ms['start_to_hook']:.1f} (the"
          f" command itself: {ms['lttng_start_command']:.1f}), lttng stop -> no hook"
          f" {ms['stop_to_unhook']:.1f}", flush=True)


def main():
    interpreters = json.load(open(os.environ["PYUST_TEST_CONFIG"]))
    out = Path(tempfile.mkdtemp(prefix="pyust-bench-"))
    (out / "home").mkdir()
    daemon = Daemon(out / "home")
    daemon.start()
    results = {"environment": environment(), "rounds": ROUNDS, "repeat": REPEAT, "runs": []}
    print("environment:", results["environment"], flush=True)
    try:
        exes = build(out)
        for py in interpreters:
            version = tuple(map(int, py["version"].split(".")))
            configs = ["plain", "idle", "traced", "cprofile", "setprofile", "floor"]
            if version >= (3, 12):
                configs.insert(5, "monitoring")
            for workload in WORKLOADS:
                med, lost = interleaved(
                    configs, lambda c: run_config(c, py, workload, daemon, out, exes))
                row = {"python": py["python"], "version": py["version"], "workload": workload,
                       "ns_per_call": med, "discarded_events": lost, "ratios": {
                           "idle/plain": med["idle"] / med["plain"],
                           "traced/plain": med["traced"] / med["plain"],
                           "traced/cprofile": med["traced"] / med["cprofile"],
                           "(traced-plain)/floor": (med["traced"] - med["plain"]) / med["floor"],
                       }}
                results["runs"].append(row)
                report(py, row, configs)
            if "logging" in SELECTED:
                bench_logging(py, daemon, out, exes, results)
            if "native" in SELECTED:
                bench_native(py, daemon, out, exes, results)
            if "reaction" in SELECTED:
                bench_reaction(py, daemon, out, results)
            if "startup" in SELECTED:
                bench_startup(py, daemon, out, exes, results)
    finally:
        daemon.stop()
    dest = Path(os.environ.get("PYUST_BENCH_OUT", BENCH.parent / "build" / "bench"))
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "results.json").write_text(json.dumps(results, indent=1))
    with open(dest / "results.csv", "w") as f:
        f.write("python,version,workload,config,ns_per_call\n")
        for row in results["runs"]:
            for c, v in row.get("ns_per_call", {}).items():
                f.write(f"{row['python']},{row['version']},{row['workload']},{c},{v:.2f}\n")
    print(f"\nwritten: {dest}/results.json, {dest}/results.csv")


if __name__ == "__main__":
    main()
