# SPDX-License-Identifier: MIT
"""pyust live: a live session through lttng-relayd on loopback, viewed while
the program runs. Each test runs in network and mount namespaces of its own
(as root), so that the relay daemon's fixed ports and the session daemon are
its alone."""

import os
import re
import shutil
from pathlib import Path

import pytest

from pyusttest import PROGRAMS, TESTS, clean_env

pytestmark = pytest.mark.skipif(os.getuid() != 0 or not shutil.which("ip"),
                                reason="needs root and ip (iproute2) for a network namespace")

# Runs pyust live in the namespaces, then says whether a relay daemon still listens.
SCRIPT = r"""
ip link set lo up
"$@"
echo "status $?"
python3 -c '
import socket
s = socket.socket()
print("relayd left" if s.connect_ex(("127.0.0.1", 5344)) == 0 else "relayd gone")'
"""


def live(py, tmp_path, *args, env=None):
    import subprocess

    script = tmp_path / "live.sh"
    script.write_text(SCRIPT)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    e = dict(clean_env(), HOME=str(home), **(env or {}))
    e.pop("PYUST_TEST_ISOLATED", None)
    cmd = ["unshare", "--net", "--mount", "--propagation", "private", str(TESTS / "isolate"),
           "--inside", "bash", str(script), str(Path(py["prefix"]) / "bin" / "pyust"), "live",
           *args]
    p = subprocess.run(cmd, env=e, capture_output=True, text=True, errors="replace",
                       timeout=300)
    lines = p.stdout.splitlines()
    assert len(lines) >= 2 and lines[-2].startswith("status "), p.stdout + p.stderr
    return int(lines[-2].split()[1]), lines[:-2], lines[-1], p.stderr, home


def test_live_stack_view(py, tmp_path):
    """Every call of the program is in the live stack view, nested, and the
    trace stays in the relay daemon's output directory; pyust stops the relay
    and session daemons it started."""
    status, out, relayd, err, home = live(py, tmp_path, "--", py["python"],
                                          str(PROGRAMS / "fib.py"), "15")
    assert status == 0, err
    assert "610" in out
    entries = [line for line in out if re.search(r"-> fib \(.*fib\.py:\d+\)$", line)]
    returns = [line for line in out if re.search(r"<- fib  \[", line)]
    assert len(entries) == len(returns) == 1973, err
    # Depth shows as indentation: fib(15) nests 15 deep under the module.
    depths = {len(re.match(r"^.*?\d+/\d+ (\s*)->", line).group(1)) for line in entries}
    assert len(depths) == 15
    assert relayd == "relayd gone"
    assert "the trace is kept by lttng-relayd" in err
    traces = list((home / "lttng-traces").glob("*/pyust-*/**/metadata"))
    assert traces, f"no trace under {home}/lttng-traces"


def test_live_flow_and_status(py, tmp_path):
    """--flow shows calls and returns; the program's exit status is pyust's."""
    code = "import sys\ndef work():\n    return 1\nfor i in range(7):\n    work()\nsys.exit(3)\n"
    status, out, relayd, err, _ = live(py, tmp_path, "--flow", "--no-logging", "--",
                                       py["python"], "-c", code)
    assert status == 3, err
    assert "exited with status 3" in err
    assert sum(1 for line in out if re.search(r"-> work\b", line)) == 7
    assert sum(1 for line in out if re.search(r"<- work\b", line)) == 7
    assert relayd == "relayd gone"


def test_live_without_relayd(first_py, tmp_path):
    """No relay daemon and none can be started: one clear message, the
    program is not run, no session is left behind."""
    status, out, relayd, err, _ = live(first_py, tmp_path, "--", first_py["python"], "-c",
                                       "print('ran')",
                                       env={"LTTNG_RELAYD_PATH": str(tmp_path / "none")})
    assert status == 1
    assert "ran" not in out
    assert (f"pyust live: no relay daemon listens on 127.0.0.1:5344, and {tmp_path}/none "
            "cannot be started: No such file or directory") in err, err
    assert relayd == "relayd gone"
