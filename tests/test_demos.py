# SPDX-License-Identifier: MIT
"""The demos run to the end by themselves, against the suite's session
daemon and the in-tree build, and show what they say they show: the
function names, the log records, the nesting, in their printed output and
in the views they leave in OUT.

They are shell scripts around `lttng` and `babeltrace2`: what they exercise
of the interpreter (Python calls, logging, a C extension) is tested on every
version elsewhere, so one interpreter, the first (Debian's python3, which the
quick start uses), runs them. About 15 s in all."""

import json
import re
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

DEMOS = Path(__file__).resolve().parent.parent / "demos"
HTTP = DEMOS / "httpserver"

# The load (demos/httpserver/load.py, 24 requests): each round of 6 asks for
# /, /cats.html, /style.css, /about.html, /missing.html, then /cats.html
# again with the ETag it got (304).
REQUESTS = 24
ACCESS = Counter({("/", 200): 4, ("/cats.html", 200): 4, ("/style.css", 200): 4,
                  ("/about.html", 200): 4, ("/missing.html", 404): 4, ("/cats.html", 304): 4})
ETAGS = 20  # the pages found: 200 and 304


def run_demo(path, py, daemon, tmp_path, **env):
    env = dict(daemon.env, PYUST_PREFIX=py["prefix"], PYTHON=py["python"], OUT=str(tmp_path),
               **env)
    proc = subprocess.run([str(path)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    # The suite's daemon runs: the demo must use it, not start its own.
    assert "no session daemon runs" not in proc.stdout
    return proc.stdout


def sections(out):
    """Output by "== N." heading, without blank lines."""
    parts, key = {}, None
    for line in out.splitlines():
        m = re.match(r"== (\d)\. ", line)
        if m:
            key = int(m.group(1))
        elif line.startswith("== "):
            key = None
        elif key and line:
            parts.setdefault(key, []).append(line)
    return parts


def access_log(stack):
    """(path, status) of the server's access records in a stack view."""
    return Counter((m.group(1), int(m.group(2))) for m in re.finditer(
        r' LOG INFO httpserver: 127\.0\.0\.1 "GET (\S+) HTTP/1\.1" (\d+) -$', stack, re.M))


def warnings(stack):
    return re.findall(r" LOG WARNING httpserver: 127\.0\.0\.1 code 404, message no such page$",
                      stack, re.M)


def depths(lines):
    """{name: depth} of the calls in lines of a stack view (first call of each)."""
    found = {}
    for line in lines:
        m = re.search(r"\d+/\d+( +)-> (\S+)", line)
        if m:
            found.setdefault(m.group(2), len(m.group(1)))
    return found


def calls(table):
    """{function: count} of the rows of a calltime table."""
    rows = {}
    for line in table[1:]:
        m = re.match(r"^(?:func|native) +(\d+) +\d+ +\d+  (\S+)", line)
        assert m, line
        rows[m.group(2)] = int(m.group(1))
    return rows


def check_logging_only(out, tmp_path):
    stack = (tmp_path / "stack.txt").read_text()
    assert access_log(stack) == ACCESS
    assert len(warnings(stack)) == 4
    # Records only: no call was recorded.
    assert " -> " not in stack and " <- " not in stack
    assert f"load: {REQUESTS} requests" in out


def test_httpserver_1_logging(first_py, daemon, tmp_path):
    out = run_demo(HTTP / "1-logging", first_py, daemon, tmp_path)
    check_logging_only(out, tmp_path)
    part = sections(out)
    assert any('msg = "127.0.0.1 \\"GET / HTTP/1.1\\" 200 -"' in line for line in part[1])
    assert any("LOG WARNING httpserver: 127.0.0.1 code 404" in line for line in part[2])


def test_httpserver_2_syscalls(first_py, daemon, tmp_path):
    """The suite's daemon has no kernel tracer: the step says why and goes on."""
    out = run_demo(HTTP / "2-syscalls", first_py, daemon, tmp_path)
    check_logging_only(out, tmp_path)
    assert len(re.findall(r"^  \(no kernel system calls: .+\)$", out, re.M)) == 1
    assert "lttng enable-event -k" not in out
    assert not (tmp_path / "trace" / "kernel").exists()


def test_httpserver_3_functions(first_py, daemon, tmp_path):
    out = run_demo(HTTP / "3-functions", first_py, daemon, tmp_path)
    stack = (tmp_path / "stack.txt").read_text()
    assert access_log(stack) == ACCESS
    assert len(re.findall(r"/\d+ +-> do_GET \(\S+/server\.py:\d+\)$", stack, re.M)) == REQUESTS
    assert len(re.findall(r"/\d+ +-> format_etag \(", stack, re.M)) == ETAGS
    assert " [native]" not in stack
    # One request, the second (/cats.html): do_GET -> page -> etag -> format_etag,
    # and its access record in the middle.
    request = sections(out)[1]
    assert any(line.endswith(' LOG INFO httpserver: 127.0.0.1 "GET /cats.html HTTP/1.1" 200 -')
               for line in request)
    d = depths(request)
    assert d["page"] == d["do_GET"] + 2 and d["etag"] == d["page"] + 2
    assert d["format_etag"] == d["etag"] + 2
    assert re.search(r"<- do_GET  \[\d+\.\d{3} us\]$", request[-1])
    # Time per function: the calltime table, and its rows for server.py.
    assert sections(out)[2][0].split() == ["TYPE", "COUNT", "INCL(ns)", "EXCL(ns)", "FUNCTION"]
    assert len(sections(out)[2]) == 13
    assert calls(sections(out)[3]) == {"do_GET": REQUESTS, "page": REQUESTS, "etag": ETAGS,
                                       "format_etag": ETAGS, "log_message": REQUESTS,
                                       "log_error": 4}


def test_httpserver_4_native(first_py, daemon, tmp_path):
    out = run_demo(HTTP / "4-native", first_py, daemon, tmp_path)
    stack = (tmp_path / "stack.txt").read_text()
    # The warm-up request, then the load.
    access = access_log(stack)
    assert access - ACCESS == Counter({("/", 200): 1}) and not ACCESS - access
    assert re.search(r" LOG INFO httpserver: ETags from the C extension \S+/sitehash\.\S+\.so$",
                     stack, re.M)
    # After `lttng regenerate statedump`, debug-info names every C call.
    assert len(re.findall(r" -> sitehash_etag \[native\]$", stack, re.M)) == ETAGS
    assert len(re.findall(r" -> page_checksum \[native\]$", stack, re.M)) == ETAGS
    # Before it, the warm-up request's calls (PyInit_sitehash, then the
    # etag and its checksum) have only their addresses.
    assert len(re.findall(r" -> 0x[0-9a-f]+ \[native\]$", stack, re.M)) == 3
    before = sections(out)[2]
    assert len(before) == 4 and all(re.search(r" 0x[0-9a-f]+ \[native\]", ln) for ln in before)
    # Python -> C -> Python in one request.
    request = sections(out)[1]
    d = depths(request)
    assert d["sitehash_etag"] == d["etag"] + 2
    assert d["page_checksum"] == d["sitehash_etag"] + 2
    assert d["format_etag"] == d["sitehash_etag"] + 2
    # Time per function, for server.py and the C functions: the warm-up
    # request imported the extension, so one more call of etag, by address.
    rows = calls(sections(out)[4])
    hex_rows = {k: v for k, v in rows.items() if k.startswith("0x")}
    assert sorted(hex_rows.values()) == [1, 1, 1]
    assert {k: v for k, v in rows.items() if k not in hex_rows} == {
        "do_GET": REQUESTS + 1, "page": REQUESTS + 1, "etag": ETAGS + 1,
        "format_etag": ETAGS + 1, "log_message": REQUESTS + 1, "log_error": 4,
        "sitehash_etag": ETAGS, "page_checksum": ETAGS}
    order = [m.group(1) for line in request
             for m in [re.search(r"-> (etag|sitehash_etag|page_checksum|format_etag) ", line)] if m]
    assert order == ["etag", "sitehash_etag", "page_checksum", "format_etag"]


def test_catvideo(first_py, daemon, tmp_path):
    out = run_demo(DEMOS / "catvideo" / "run", first_py, daemon, tmp_path)
    part = sections(out)
    # 1: the whole flow, with find's recursion indented under it.
    assert any(re.search(r"demo\.py:\d+ +func +-> find$", line) for line in part[1])
    assert any(re.search(r"func {5,}-> (find|new_cat_video)$", line) for line in part[1])
    # 2: only new_cat_video, entries and returns.
    calls = [line for line in part[2] if " func " in line]
    assert calls and all(line.endswith("new_cat_video") for line in calls)
    assert not any(" func " in line and not line.endswith("new_cat_video")
                   for line in (tmp_path / "flow-new_cat_video.txt").read_text().splitlines())
    # 3: counts and times of the demo's functions only.
    rows = {line.split()[4]: int(line.split()[1]) for line in part[3] if line.startswith("func")}
    assert set(rows) == {"new_cat_video", "find", "stdin_closed"}
    assert rows["find"] >= rows["new_cat_video"] > 0
    # 4: the histogram of new_cat_video, 2 to 30 ms.
    assert any(line.startswith("func new_cat_video") for line in part[4])
    assert any(re.match(r" +\d+ \|@+ +\d+$", line) for line in part[4])
    # 5: the folded stacks (flame graph input), the SVG and the speedscope profile.
    folded = (tmp_path / "catvideo.folded").read_text().splitlines()
    assert folded and all(re.match(r"^\S.* \d+$", line) for line in folded)
    assert any(re.search(r"^(find \(\S+demo\.py\);)+new_cat_video \(\S+demo\.py\) \d+$", line)
               for line in folded)
    svg = ET.parse(tmp_path / "catvideo.svg").getroot()
    titles = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}title")]
    assert any(t.startswith("new_cat_video (") for t in titles)
    assert json.loads((tmp_path / "catvideo.speedscope.json").read_text())["profiles"]
    assert re.search(r"== the server: served \d+ cat videos", out)


@pytest.mark.parametrize("demo", ["1-logging", "catvideo"])
def test_demo_without_pyust(demo, first_py, daemon, tmp_path):
    """A prefix where pyust is not installed: one clear line, no trace."""
    path = HTTP / demo if demo != "catvideo" else DEMOS / "catvideo" / "run"
    env = dict(daemon.env, PYUST_PREFIX=str(tmp_path / "nowhere"), OUT=str(tmp_path / "out"))
    proc = subprocess.run([str(path)], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert re.fullmatch(r"\S+: \S+/nowhere/lib/libpyust\.so is missing: install pyust "
                        r"\(demos/quickstart\), or set PYUST_PREFIX to where it is installed\n",
                        proc.stderr)
