# SPDX-License-Identifier: MIT
"""Costs in instructions, which a shared machine's noise cannot blur: each
workload runs under valgrind's cachegrind (no cache simulation) once with
REPEAT 1 and once with REPEAT 3; the difference is two timed runs of the
workload alone, start-up excluded.

- idle: without pyust, and with libpyust.so preloaded and no session;
- traced (fib, objects, service): recording python:* into a session, against
  the floor, bench/floor.c emitting the same entry+return pair from C;
- logging: pyust and lttngust each recording every record, as handler costs
  over the plain run.

Run through bench/instructions, which builds first and gives the session
daemon a private /run/lttng. PYUST_BENCH_WORKLOADS narrows the workloads,
PYUST_BENCH_TRACED=0 leaves out the recording configurations."""

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "tests"))
sys.path.insert(0, str(BENCH))
from bench import LTTNGUST, Recording, build  # noqa: E402
from pyusttest import Daemon, libpyust  # noqa: E402

WORKLOADS = [w for w in os.environ.get("PYUST_BENCH_WORKLOADS",
                                       "fib objects service logging").split()
             if w in ("fib", "objects", "service", "logging")]
TRACED = os.environ.get("PYUST_BENCH_TRACED", "1") != "0"
RECORDS = 50000  # per run of logging_records.py
FLOOR_PAIRS = 100000


def instructions(cmd, env):
    r = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no",
                        "--cachegrind-out-file=/dev/null", *cmd],
                       capture_output=True, text=True, env=env, timeout=1800)
    m = re.search(r"I\s+refs:\s+([\d,]+)", r.stderr)
    if r.returncode != 0 or not m:
        raise RuntimeError(f"{cmd}: exit {r.returncode}\n{r.stderr[-2000:]}")
    return int(m.group(1).replace(",", ""))


class Runner:
    def __init__(self, daemon, out):
        self.daemon, self.out = daemon, out

    def env(self, py, config):
        if config in ("plain", "idle"):
            # No session daemon is reachable: what a preloaded program with no session does.
            env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
            env["LTTNG_HOME"] = "/nonexistent"
        else:
            env = dict(self.daemon.env)
            # Registered before main() runs, however slow valgrind makes it.
            env["LTTNG_UST_REGISTER_TIMEOUT"] = "-1"
        env["PYTHONHASHSEED"] = "0"  # string hashes, hence dict probes, the same in every run
        if config in ("idle", "traced", "pyust", "floor"):
            env["LD_PRELOAD"] = libpyust(py)
        if config == "lttngust":
            # lttngust is pure Python over liblttng-ust-python-agent: any CPython loads it.
            path = self.out / "lttngust-path"
            path.mkdir(exist_ok=True)
            if not (path / "lttngust").exists():
                (path / "lttngust").symlink_to(LTTNGUST)
            env["PYTHONPATH"] = str(path)
        return env

    def counted(self, cmd, env, events):
        """Instructions of cmd, recording events when given; and what was lost."""
        if not events:
            return instructions(cmd, env), 0
        with Recording(self.daemon, self.out, events) as rec:
            n = instructions(cmd, env)
        return n, rec.discarded

    def per_run(self, py, workload, config):
        """Instructions of one timed run of the workload (REPEAT 3 minus REPEAT 1, halved)."""
        env = self.env(py, config)
        script = BENCH / "workloads" / ("logging_records.py" if workload == "logging"
                                        else f"{workload}.py")
        mode = "lttngust" if config == "lttngust" else "plain"
        events = {"traced": "python:*", "pyust": "--python", "lttngust": "--python"}.get(config)
        one, lost1 = self.counted([py["python"], str(script), mode, "1"], env, events)
        three, lost3 = self.counted([py["python"], str(script), mode, "3"], env, events)
        return (three - one) / 2, lost1 + lost3

    def floor_pair(self, py, floor):
        """Instructions of one entry+return pair emitted from C into a session."""
        env = self.env(py, "floor")
        fib = str(BENCH / "workloads" / "fib.py")
        one, lost1 = self.counted([str(floor), "calls", str(FLOOR_PAIRS), fib], env, "python:*")
        three, lost3 = self.counted([str(floor), "calls", str(3 * FLOOR_PAIRS), fib], env,
                                    "python:*")
        return (three - one) / (2 * FLOOR_PAIRS), lost1 + lost3


def calls_per_run(py, workload):
    script = BENCH / "workloads" / f"{workload}.py"
    return int(subprocess.run([py["python"], str(script), "count", "1"], capture_output=True,
                              text=True, check=True).stdout)


def main():
    interpreters = json.load(open(os.environ["PYUST_TEST_CONFIG"]))
    out = Path(tempfile.mkdtemp(prefix="pyust-instructions-"))
    (out / "home").mkdir()
    daemon = Daemon(out / "home")
    rows = []
    lost = 0
    if TRACED:
        daemon.start()
    try:
        run = Runner(daemon, out)
        floor = build(out)["floor"] if TRACED else None
        print("instructions per timed run of the workload (cachegrind); traced: per call, "
              "over plain, against the floor's pair; logging: per record, over plain")
        print(f"{'interpreter':44s} {'workload':9s} {'plain':>14s} {'idle':>14s} "
              f"{'idle/plain':>10s} {'traced':>8s} {'floor':>8s} {'ratio':>6s}")
        for py in interpreters:
            pair = None
            for w in WORKLOADS:
                plain, _ = run.per_run(py, w, "plain")
                idle, _ = run.per_run(py, w, "idle")
                row = {"python": py["python"], "workload": w, "plain": plain, "idle": idle}
                extra = ""
                if TRACED and w != "logging":
                    if pair is None:
                        pair, n = run.floor_pair(py, floor)
                        lost += n
                    traced, n = run.per_run(py, w, "traced")
                    lost += n
                    calls = calls_per_run(py, w)
                    cost = (traced - plain) / calls
                    row.update(calls=calls, traced=traced, floor_pair=pair,
                               traced_minus_plain_per_call=cost)
                    extra = f" {cost:8.0f} {pair:8.0f} {cost / pair:6.3f}"
                elif TRACED and w == "logging":
                    costs = {}
                    for cfg in ("pyust", "lttngust") if os.path.isdir(LTTNGUST) else ("pyust",):
                        n_ins, n = run.per_run(py, w, cfg)
                        lost += n
                        costs[cfg] = (n_ins - plain) / RECORDS
                    row.update({f"{c}_minus_plain_per_record": v for c, v in costs.items()})
                    if "lttngust" in costs:
                        extra = (f" {costs['pyust']:8.0f} {costs['lttngust']:8.0f}"
                                 f" {costs['pyust'] / costs['lttngust']:6.3f}")
                rows.append(row)
                print(f"{py['python']:44s} {w:9s} {plain:14.0f} {idle:14.0f} "
                      f"{idle / plain:10.4f}{extra}", flush=True)
    finally:
        daemon.stop()
    if TRACED:
        print(f"(logging columns: pyust, lttngust, pyust/lttngust) discarded events: {lost}")
    dest = Path(os.environ.get("PYUST_BENCH_OUT", BENCH.parent / "build" / "bench"))
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "instructions.json").write_text(json.dumps({"rows": rows, "discarded": lost},
                                                       indent=1))


main()
