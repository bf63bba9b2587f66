# SPDX-License-Identifier: MIT
"""The idle cost in instructions, which a shared machine's noise cannot blur:
each workload runs under valgrind's cachegrind (no cache simulation) without
pyust and with libpyust.so preloaded and no session, once with REPEAT 1 and
once with REPEAT 3; the difference is two timed runs of the workload alone,
start-up excluded. Prints instructions per run and idle/plain per
interpreter and workload. Run through bench/instructions, which builds first.
PYUST_BENCH_WORKLOADS narrows the workloads."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "tests"))
from pyusttest import libpyust  # noqa: E402

WORKLOADS = [w for w in os.environ.get("PYUST_BENCH_WORKLOADS",
                                       "fib objects service logging").split()
             if w in ("fib", "objects", "service", "logging")]


def instructions(cmd, env):
    r = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no",
                        "--cachegrind-out-file=/dev/null", *cmd],
                       capture_output=True, text=True, env=env, timeout=1800)
    m = re.search(r"I\s+refs:\s+([\d,]+)", r.stderr)
    if r.returncode != 0 or not m:
        raise RuntimeError(f"{cmd}: exit {r.returncode}\n{r.stderr[-2000:]}")
    return int(m.group(1).replace(",", ""))


def per_run(py, workload, preload):
    # No session daemon is reachable: what a preloaded program with no session does.
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    env["LTTNG_HOME"] = "/nonexistent"
    env["PYTHONHASHSEED"] = "0"  # string hashes, hence dict probes, the same in every run
    if preload:
        env["LD_PRELOAD"] = libpyust(py)
    script = str(BENCH / "workloads" / ("logging_records.py" if workload == "logging"
                                        else f"{workload}.py"))
    one = instructions([py["python"], script, "plain", "1"], env)
    three = instructions([py["python"], script, "plain", "3"], env)
    return (three - one) / 2


def main():
    interpreters = json.load(open(os.environ["PYUST_TEST_CONFIG"]))
    print("instructions per timed run of the workload (cachegrind), no session")
    print(f"{'interpreter':44s} {'workload':9s} {'plain':>14s} {'idle':>14s} {'idle/plain':>10s}")
    rows = []
    for py in interpreters:
        for w in WORKLOADS:
            plain, idle = per_run(py, w, False), per_run(py, w, True)
            rows.append({"python": py["python"], "workload": w, "plain": plain, "idle": idle})
            print(f"{py['python']:44s} {w:9s} {plain:14.0f} {idle:14.0f} {idle / plain:10.4f}",
                  flush=True)
    dest = Path(os.environ.get("PYUST_BENCH_OUT", BENCH.parent / "build" / "bench"))
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "instructions.json").write_text(json.dumps(rows, indent=1))


main()
