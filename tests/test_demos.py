# SPDX-License-Identifier: MIT
"""The demos run to the end by themselves, against the suite's session
daemon and the in-tree build, and show what they say they show. They are
shell and Python over the pyust command: one interpreter runs them."""

import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

DEMOS = Path(__file__).resolve().parent.parent / "demos"


def run_demo(path, py, daemon, tmp_path):
    env = dict(daemon.env, PYUST_PREFIX=py["prefix"], PYTHON=py["python"], OUT=str(tmp_path))
    proc = subprocess.run([str(path)], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def sections(out):
    """Output by "== N." heading."""
    parts, key = {}, None
    for line in out.splitlines():
        m = re.match(r"== (\d)\. ", line)
        if m:
            key = int(m.group(1))
        elif key:
            parts.setdefault(key, []).append(line)
    return parts


def test_catvideo(first_py, daemon, tmp_path):
    out = run_demo(DEMOS / "catvideo" / "run", first_py, daemon, tmp_path)
    part = sections(out)
    # 1: the whole flow, with find's recursion indented under it.
    assert any(re.search(r"demo\.py:\d+ +func +-> find$", line) for line in part[1])
    assert any(re.search(r"func {5,}-> (find|new_cat_video)$", line) for line in part[1])
    # 2: only new_cat_video, entries and returns.
    calls = [line for line in part[2] if " func " in line]
    assert calls and all(line.endswith("new_cat_video") for line in calls)
    # 3: counts and times of the demo's functions only.
    rows = {line.split()[4]: int(line.split()[1]) for line in part[3] if line.startswith("func")}
    assert set(rows) == {"new_cat_video", "find", "stdin_closed"}
    assert rows["find"] >= rows["new_cat_video"] > 0
    # 4: the histogram of new_cat_video, 2 to 30 ms.
    assert any(line.startswith("func new_cat_video") for line in part[4])
    assert any(re.match(r" +\d+ \|@+ +\d+$", line) for line in part[4])
    # 5: the flame graph and the speedscope profile.
    svg = ET.parse(tmp_path / "catvideo.svg").getroot()
    titles = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}title")]
    assert any(t.startswith("new_cat_video (") for t in titles)
    assert (tmp_path / "catvideo.speedscope.json").stat().st_size > 0
    assert re.search(r"== the server: served \d+ cat videos", out)
