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
import uuid
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "tests"))
from pyusttest import Daemon, libpyust  # noqa: E402

ROUNDS = int(os.environ.get("PYUST_BENCH_ROUNDS", "7"))
REPEAT = int(os.environ.get("PYUST_BENCH_REPEAT", "3"))
FIB = str(BENCH / "workloads" / "fib.py")


def sh(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, check=True, **kw).stdout


class Recording:
    """A session recording python:* with buffers sized to lose nothing."""

    def __init__(self, daemon, out):
        self.daemon, self.out = daemon, out
        self.name = "bench" + uuid.uuid4().hex[:8]

    def __enter__(self):
        lt = self.daemon.lttng
        lt("create", self.name, "-o", str(self.out / self.name))
        lt("enable-channel", "-u", "-s", self.name, "--subbuf-size=8M", "--num-subbuf=8", "chan")
        lt("enable-event", "-u", "-s", self.name, "-c", "chan", "python:*")
        lt("start", self.name)
        return self

    def __exit__(self, *exc):
        lt = self.daemon.lttng
        lt("stop", self.name)
        listing = lt("list", self.name).stdout
        self.discarded = sum(int(line.split(":")[1]) for line in listing.splitlines()
                             if "Discarded events" in line)
        lt("destroy", self.name)


def run_config(cfg, py, daemon, out, floor_exe):
    env = dict(daemon.env)
    if cfg in ("idle", "traced", "floor"):
        env["LD_PRELOAD"] = libpyust(py)
    if cfg == "floor":
        cmd = [str(floor_exe), "200000", FIB]
    else:
        mode = cfg if cfg in ("cprofile", "setprofile", "monitoring") else "plain"
        cmd = [py["python"], FIB, mode, str(REPEAT)]
    if cfg in ("traced", "floor"):
        with Recording(daemon, out) as rec:
            value = float(sh(cmd, env=env))
        return value, rec.discarded
    return float(sh(cmd, env=env)), 0


def build_floor(out):
    exe = out / "floor"
    cflags = sh(["pkg-config", "--cflags", "lttng-ust"]).split()
    sh([os.environ.get("CC", "cc"), "-O2", "-I", str(BENCH.parent / "tracepoints"), *cflags,
        "-o", str(exe), str(BENCH / "floor.c"), "-ldl"])
    return exe


def environment():
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    ust = sh(["pkg-config", "--modversion", "lttng-ust"]).strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(), "lttng_ust": ust}


def main():
    interpreters = json.load(open(os.environ["PYUST_TEST_CONFIG"]))
    out = Path(tempfile.mkdtemp(prefix="pyust-bench-"))
    (out / "home").mkdir()
    daemon = Daemon(out / "home")
    daemon.start()
    results = {"environment": environment(), "rounds": ROUNDS, "repeat": REPEAT, "runs": []}
    print("environment:", results["environment"], flush=True)
    try:
        floor_exe = build_floor(out)
        for py in interpreters:
            version = tuple(map(int, py["version"].split(".")))
            configs = ["plain", "idle", "traced", "cprofile", "setprofile", "floor"]
            if version >= (3, 12):
                configs.insert(5, "monitoring")
            samples = {c: [] for c in configs}
            discarded = 0
            for r in range(ROUNDS):
                # Rotate the order so that no configuration always runs first.
                for cfg in configs[r % len(configs):] + configs[:r % len(configs)]:
                    value, lost = run_config(cfg, py, daemon, out, floor_exe)
                    samples[cfg].append(value)
                    discarded += lost
            med = {c: statistics.median(v) for c, v in samples.items()}
            row = {"python": py["python"], "version": py["version"], "workload": "fib",
                   "ns_per_call": med, "discarded_events": discarded,
                   "ratios": {
                       "idle/plain": med["idle"] / med["plain"],
                       "traced/plain": med["traced"] / med["plain"],
                       "traced/cprofile": med["traced"] / med["cprofile"],
                       "(traced-plain)/floor": (med["traced"] - med["plain"]) / med["floor"],
                   }}
            results["runs"].append(row)
            print(f"\n{py['python']} (Python {py['version']}), fib, median of {ROUNDS} rounds,"
                  f" ns per call (floor: ns per entry+return pair from C)")
            for c in configs:
                print(f"  {c:11s} {med[c]:9.1f}")
            for k, v in row["ratios"].items():
                print(f"  {k:21s} {v:6.2f}")
            print(f"  discarded events while traced: {discarded}", flush=True)
    finally:
        daemon.stop()
    dest = Path(os.environ.get("PYUST_BENCH_OUT", BENCH.parent / "build" / "bench"))
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "results.json").write_text(json.dumps(results, indent=1))
    with open(dest / "results.csv", "w") as f:
        f.write("python,version,workload,config,ns_per_call\n")
        for row in results["runs"]:
            for c, v in row["ns_per_call"].items():
                f.write(f"{row['python']},{row['version']},{row['workload']},{c},{v:.2f}\n")
    print(f"\nwritten: {dest}/results.json, {dest}/results.csv")


main()
