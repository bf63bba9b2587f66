# SPDX-License-Identifier: MIT
"""Speed of the Babeltrace 2 plugin pyust: each sink against sink.utils.dummy
(which only reads the trace) on the same ~1M-event trace, recorded once.
Rounds interleave the configurations; medians and ratios are reported.
Run through bench/run-plugin."""

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
from pyusttest import Daemon, Trace, libpyust  # noqa: E402

ROUNDS = int(os.environ.get("PYUST_BENCH_ROUNDS", "5"))
# fib(20) makes 21891 calls: 23 of them are 1,006,986 entry and return events.
LOOPS = int(os.environ.get("PYUST_BENCH_PLUGIN_LOOPS", "23"))
SINKS = ["sink.utils.dummy", "sink.pyust.flow", "sink.pyust.calltime", "sink.pyust.calldist",
         "sink.pyust.folded", "sink.pyust.stack", "sink.pyust.speedscope",
         "sink.pyust.flamegraph"]
PROGRAM = ("import sys\n"
           "def fib(n):\n"
           "    return n if n < 2 else fib(n - 1) + fib(n - 2)\n"
           "for _ in range(int(sys.argv[1])):\n"
           "    fib(20)\n")


def sh(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def environment():
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
            "lttng_ust": sh(["pkg-config", "--modversion", "lttng-ust"]).strip(),
            "babeltrace2": sh(["babeltrace2", "--version"]).splitlines()[0]}


def record(daemon, py, out):
    name = "plug" + uuid.uuid4().hex[:8]
    lt = daemon.lttng
    lt("create", name, "-o", str(out / name))
    try:
        lt("enable-channel", "-u", "-s", name, "--blocking-timeout=inf", "--subbuf-size=8M",
           "--num-subbuf=8", "chan")
        lt("enable-event", "-u", "-s", name, "-c", "chan", "python:*")
        for c in ("vpid", "vtid"):
            lt("add-context", "-u", "-s", name, "-c", "chan", "-t", c)
        lt("start", name)
        env = dict(daemon.env, LD_PRELOAD=libpyust(py), LTTNG_UST_ALLOW_BLOCKING="1")
        subprocess.run([py["python"], "-c", PROGRAM, str(LOOPS)], env=env, check=True)
        lt("stop", name)
    finally:
        lt("destroy", name, check=False)
    return out / name


def run_sink(plugins, trace, sink):
    start = time.perf_counter()
    subprocess.run(["babeltrace2", "--plugin-path", str(plugins), str(trace), "-c", sink],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main():
    with open(os.environ["PYUST_TEST_CONFIG"]) as f:
        py = json.load(f)[0]
    plugins = Path(py["prefix"]) / "lib" / "babeltrace2" / "plugins"
    with tempfile.TemporaryDirectory(prefix="pyust-bench-plugin-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        daemon = Daemon(home)
        daemon.start()
        try:
            trace = record(daemon, py, Path(tmp))
        finally:
            daemon.stop()
        t = Trace(trace)
        events, lost = len(t.events), t.discarded
        del t
        size = sum(p.stat().st_size for p in trace.rglob("*") if p.is_file())
        samples = {s: [] for s in SINKS}
        run_sink(plugins, trace, SINKS[0])  # warm the page cache
        for r in range(ROUNDS):
            order = SINKS[r % len(SINKS):] + SINKS[:r % len(SINKS)]
            for sink in order:
                samples[sink].append(run_sink(plugins, trace, sink))
    print(json.dumps(environment()))
    print(f"trace: {events} events ({lost} discarded), {size / 1e6:.1f} MB; "
          f"medians of {ROUNDS} rounds, output to /dev/null")
    base = statistics.median(samples[SINKS[0]])
    print("| sink | median (s) | ns per event | ratio to dummy |")
    print("|---|---|---|---|")
    for sink in SINKS:
        m = statistics.median(samples[sink])
        print(f"| `{sink}` | {m:.2f} | {m / events * 1e9:.0f} | {m / base:.2f} |")


if __name__ == "__main__":
    main()
