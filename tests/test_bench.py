# SPDX-License-Identifier: MIT
"""The benchmark suite still runs end to end (one round, one interpreter):
every workload and configuration gives a number and nothing is lost while
recording. It asserts no timing: numbers are bench/'s business."""

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import INTERPRETERS
from pyusttest import apart

TOP = Path(__file__).resolve().parent.parent


def test_bench_runs_every_configuration(tmp_path):
    py = next((p for p in INTERPRETERS if p["python"] == "/usr/bin/python3"), INTERPRETERS[0])
    config = tmp_path / "config.json"
    config.write_text(json.dumps([py]))
    env = dict(os.environ, PYUST_TEST_CONFIG=str(config), PYUST_BENCH_OUT=str(tmp_path / "out"),
               PYUST_BENCH_ROUNDS="1", PYUST_BENCH_REPEAT="1")
    # bench.py starts its own session daemon, apart from the suite's.
    cmd, env = apart([sys.executable, str(TOP / "bench" / "bench.py")], env)
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    rows = {r["workload"]: r for r in results["runs"]}
    assert set(rows) == {"fib", "objects", "service", "logging", "native", "reaction", "startup"}
    version = tuple(map(int, py["version"].split(".")))
    calls = {"plain", "idle", "traced", "cprofile", "setprofile", "floor"}
    if version >= (3, 12):
        calls.add("monitoring")
    for w in ("fib", "objects", "service"):
        assert set(rows[w]["ns_per_call"]) == calls, w
    logging_configs = {"plain", "idle", "pyust", "floor"}
    if Path("/usr/lib/python3/dist-packages/lttngust").is_dir():
        logging_configs.add("lttngust")
    assert set(rows["logging"]["ns_per_call"]) == logging_configs
    assert set(rows["native"]["ns_per_call"]) == {"plain", "cyg-profile-fast", "pyust"}
    for w in ("fib", "objects", "service", "logging", "native"):
        assert all(v > 0 for v in rows[w]["ns_per_call"].values()), rows[w]
        assert rows[w]["discarded_events"] == 0, rows[w]
    assert all(v >= 0 for v in rows["reaction"]["ms"].values())
    startup = {"plain", "lttng-ust", "lttng-ust-session", "pyust-no-daemon", "pyust",
               "pyust-session"}
    if Path("/usr/lib/python3/dist-packages/lttngust").is_dir():
        startup.add("lttngust")
    assert set(rows["startup"]["ms"]) == startup
    assert all(v > 0 for v in rows["startup"]["ms"].values())
    assert rows["startup"]["discarded_events"] == 0
    csv = (tmp_path / "out" / "results.csv").read_text().splitlines()
    assert csv[0] == "python,version,workload,config,ns_per_call"
    assert len(csv) == 1 + sum(len(r["ns_per_call"]) for r in results["runs"] if "ns_per_call" in r)
