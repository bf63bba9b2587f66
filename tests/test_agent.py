# SPDX-License-Identifier: MIT
"""The agent protocol: registration, commands, bad input, reconnection.
Here the other end is a stand-in daemon of the test's, which sends what a
real one never would; test_logging.py talks to the real lttng-sessiond."""

import os
import shutil
import socket
import struct
import subprocess
from pathlib import Path

import pytest

from pyusttest import TESTS, clean_env, ld_preload, libpyust

APP = """
import logging, sys
logging.getLogger("shop.cart")
print("ready", flush=True)
sys.stdin.readline()
"""


class StandIn:
    """Listens where $LTTNG_HOME/.lttng/agent.port says."""

    def __init__(self, home):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(30)
        (Path(home) / ".lttng").mkdir(parents=True, exist_ok=True)
        (Path(home) / ".lttng" / "agent.port").write_text(f"{self.sock.getsockname()[1]}\n")

    def accept(self):
        conn, _ = self.sock.accept()
        conn.settimeout(30)
        domain, pid, major, minor = struct.unpack(">IIII", recv_exactly(conn, 16))
        return conn, (domain, pid, major, minor)


def recv_exactly(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError(f"closed after {len(data)} of {n} bytes")
        data += chunk
    return data


def command(cmd, payload=b"", size=None):
    return struct.pack(">QII", len(payload) if size is None else size, cmd, 0) + payload


def enable(name=b"shop", filt=b""):
    return command(2, struct.pack(">II", 30, 1) + name.ljust(256, b"\0")
                   + struct.pack(">I", len(filt)) + filt)


def closed(conn):
    try:
        return conn.recv(1) == b""
    except ConnectionResetError:
        return True


def test_protocol_and_bad_commands(py, rec, tmp_path):
    standin = StandIn(tmp_path)
    env = rec.env(py, extra={"LTTNG_HOME": str(tmp_path), "PYUST_DEBUG": "1"})
    proc = subprocess.Popen([py["python"], "-c", APP], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout.readline() == b"ready\n"
        conn, reg = standin.accept()
        assert reg == (5, proc.pid, 2, 0)
        # Commands a daemon sends, and one it does not know: answered, connection kept.
        conn.sendall(enable() + command(4) + command(99) + command(1))
        assert recv_exactly(conn, 4) == struct.pack(">I", 1)
        assert recv_exactly(conn, 4) == struct.pack(">I", 2)
        status, size, count = struct.unpack(">III", recv_exactly(conn, 12))
        names = recv_exactly(conn, size).split(b"\0")[:-1]
        assert (status, count) == (1, len(names)) and set(names) == {b"shop", b"shop.cart"}
        conn.sendall(command(3, b"shop".ljust(256, b"\0")))
        assert recv_exactly(conn, 4) == struct.pack(">I", 1)
        # Each malformed command closes its connection; the agent comes back.
        bad = [
            command(2, b"\0" * 10),  # enable, too short
            command(2, b"\1" * 268),  # unterminated name
            command(2, struct.pack(">II", 30, 1) + b"shop".ljust(256, b"\0")
                    + struct.pack(">I", 50) + b"x"),  # filter length beyond the payload
            command(3, b"x" * 300),  # disable, too long
            command(1, size=1 << 40),  # larger than any command
        ]
        for msg in bad:
            conn.sendall(msg)
            assert closed(conn), msg[:24]
            conn.close()
            conn, reg = standin.accept()
            assert reg[1] == proc.pid
        # A command cut short by the daemon going away.
        conn.sendall(command(2, b"\0" * 100, size=268)[:40])
        conn.close()
        conn, _ = standin.accept()
        conn.sendall(command(1))
        assert struct.unpack(">I", recv_exactly(conn, 4))[0] == 1
        out, err = proc.communicate(b"\n", timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0
    err = err.decode()
    lines = [line for line in err.splitlines() if "closing the connection" in line]
    assert len(lines) == 6, err  # once per bad command, once for the cut one
    assert "malformed disable command" in err and "larger than any" in err


def test_no_daemon_does_not_delay_start(py, tmp_path):
    """Nothing listens: the program starts and exits as it would, silently."""
    env = clean_env()
    env.update(LTTNG_HOME=str(tmp_path), HOME=str(tmp_path))
    (tmp_path / ".lttng").mkdir()
    (tmp_path / ".lttng" / "agent.port").write_text("1\n")  # nobody there
    env["LD_PRELOAD"] = ld_preload(libpyust(py))
    proc = subprocess.run([py["python"], "-c", "import logging; logging.warning('x')"],
                          env=env, capture_output=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr == b"WARNING:root:x\n"


def test_fuzz_agent_parser(tmp_path):
    """The command parser under libFuzzer with ASan and UBSan, 2M inputs."""
    clang = shutil.which("clang")
    if not clang:
        if os.environ.get("PYUST_REQUIRE_FUZZ"):
            pytest.fail("clang with libFuzzer is required (Debian: clang libclang-rt-dev)")
        pytest.skip("clang is not installed")
    top = TESTS.parent
    exe = tmp_path / "agent-fuzz"
    subprocess.run([clang, "-g", "-O1", "-fsanitize=fuzzer,address,undefined",
                    "-fno-sanitize-recover=all", "-Wall", "-Wextra", "-Werror",
                    "-I", str(top / "pymod"), str(top / "tests/fuzz/agent-fuzz.c"),
                    str(top / "pymod/agent-proto.c"), "-o", str(exe)], check=True)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    seeds = [enable() + command(4) + command(1) + command(3, b"shop".ljust(256, b"\0")),
             enable(filt=b"logger_name == 'x'\0") + command(99, b"abc")]
    for i, seed in enumerate(seeds):
        (corpus / f"seed{i}").write_bytes(seed)
    # Under tests/run-sanitized, gcc's ASan runtime is preloaded: not clang's.
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    r = subprocess.run([str(exe), "-runs=2000000", str(corpus)], capture_output=True,
                       text=True, timeout=1200, cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Done 2000000 runs" in r.stderr


def test_daemon_never_fails_to_send(py, rec, tmp_path):
    """Short programs under a session that wants their records: the daemon's
    agent thread sends them the enable commands and "registration done"
    without a "sendmsg inet: Broken pipe" (it did when the program ended
    before the daemon was done with it: the start now waits for it)."""
    since = rec.daemon.log_path.stat().st_size
    env = rec.env(py)

    def run():
        for _ in range(20):
            subprocess.run([py["python"], "-c", "pass"], env=env, check=True, timeout=60)

    rec.run_fn(run, events=(), logging=[["-a"]])
    log = rec.daemon.log(since)
    assert "Broken pipe" not in log and "[Agent" not in log, log

