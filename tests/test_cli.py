# SPDX-License-Identifier: MIT
"""pyust report over traces pyust record writes (test_record.py tests
record). The command is C that does not depend on the interpreter: one
interpreter runs these tests."""

import json
import os
import re
import shutil
import struct
import xml.etree.ElementTree as ET
import subprocess
import zlib
from pathlib import Path
from urllib.parse import quote

import pytest

from pyusttest import PROGRAMS

FIB = str(PROGRAMS / "fib.py")


def pyust(py):
    return str(Path(py["prefix"]) / "bin" / "pyust")


def run(py, daemon, *args, env=None, **kw):
    e = dict(daemon.env, PYUST_PLUGIN_PATH=str(Path(py["prefix"]) / "lib" / "babeltrace2"
                                                / "plugins"))
    e.update(env or {})
    return subprocess.run([pyust(py), *args], env=e, capture_output=True, text=True,
                          timeout=300, **kw)


@pytest.fixture(scope="module")
def fib_trace(daemon, tmp_path_factory, first_py):
    out = tmp_path_factory.mktemp("cli") / "fib"
    p = run(first_py, daemon, "record", "-o", str(out), "--no-logging", "--",
            first_py["python"], FIB, "12")
    assert p.returncode == 0, p.stderr
    return out


def test_report_bad_usage(first_py, daemon, tmp_path):
    for args, want in ((["report"], "which trace"),
                       (["report", str(tmp_path)], "which view"),
                       (["report", str(tmp_path), "--calltime", "--top", "x"], "not an integer")):
        p = run(first_py, daemon, *args)
        assert p.returncode == 2, (args, p.stderr)
        assert want in p.stderr, (args, p.stderr)


def test_report_views(first_py, daemon, fib_trace):
    r = run(first_py, daemon, "report", str(fib_trace), "--calltime", "--name", "fib")
    assert r.returncode == 0, r.stderr
    rows = [line.split() for line in r.stdout.splitlines() if line.startswith("func")]
    assert [(row[1], row[4]) for row in rows] == [("465", "fib")]
    r = run(first_py, daemon, "report", str(fib_trace), "--flow", "--name", "fib")
    assert r.returncode == 0, r.stderr
    assert sum(1 for line in r.stdout.splitlines() if line.endswith("-> fib")) == 465
    assert sum(1 for line in r.stdout.splitlines() if line.endswith("<- fib")) == 465
    r = run(first_py, daemon, "report", str(fib_trace), "--folded", "--name", "fib")
    assert r.returncode == 0, r.stderr
    assert all(re.fullmatch(r"\S.*;?fib \(.*\) \d+", line) for line in r.stdout.splitlines())
    r = run(first_py, daemon, "report", str(fib_trace), "--calldist", "--name", "fib")
    assert r.returncode == 0 and "fib" in r.stdout, r.stderr
    r = run(first_py, daemon, "report", str(fib_trace), "--stack", env={"NO_COLOR": "1"})
    assert r.returncode == 0, r.stderr
    assert sum(1 for line in r.stdout.splitlines() if "-> fib" in line) == 465
    r = run(first_py, daemon, "report", str(fib_trace), "--calltime", "--sort", "bogus")
    assert r.returncode == 2 and "sort" in r.stderr
    r = run(first_py, daemon, "report", str(fib_trace.parent / "missing"), "--calltime")
    assert r.returncode == 1 and "No such file or directory" in r.stderr
    empty = fib_trace.parent / "empty"
    empty.mkdir(exist_ok=True)
    r = run(first_py, daemon, "report", str(empty), "--calltime")
    assert r.returncode == 1 and "no CTF trace" in r.stderr


def test_report_native_names(first_py, daemon, helpers, tmp_path):
    """report adds debug-info itself: the native functions have their names."""
    out = tmp_path / "t"
    p = run(first_py, daemon, "record", "-o", str(out), "--native", "--", str(helpers("native")))
    assert p.returncode == 0, p.stderr
    r = run(first_py, daemon, "report", str(out), "--calltime")
    assert r.returncode == 0, r.stderr
    rows = {line.split()[-1]: int(line.split()[1]) for line in r.stdout.splitlines()
            if line.startswith("native")}
    assert rows == {"main": 1, "middle": 5, "leaf": 10}


def speedscope(py, daemon, trace, tmp_path, *extra):
    path = tmp_path / "profile.json"
    r = run(py, daemon, "report", str(trace), "--speedscope", str(path), *extra)
    assert r.returncode == 0, r.stderr
    doc = json.loads(path.read_text())
    assert doc["$schema"] == "https://www.speedscope.app/file-format-schema.json"
    frames = doc["shared"]["frames"]
    for prof in doc["profiles"]:
        assert prof["type"] == "evented" and prof["unit"] == "nanoseconds"
        stack, last = [], prof["startValue"]
        for ev in prof["events"]:
            assert ev["at"] >= last
            last = ev["at"]
            if ev["type"] == "O":
                stack.append(ev["frame"])
            else:
                assert stack.pop() == ev["frame"]
        assert stack == [] and last <= prof["endValue"]
    return doc, frames


def test_report_speedscope(first_py, daemon, fib_trace, tmp_path):
    doc, frames = speedscope(first_py, daemon, fib_trace, tmp_path)
    fib = [i for i, f in enumerate(frames) if f["name"] == "fib"]
    assert len(fib) == 1 and frames[fib[0]]["file"] == FIB
    opens = [ev for p in doc["profiles"] for ev in p["events"]
             if ev["type"] == "O" and ev["frame"] == fib[0]]
    assert len(opens) == 465
    assert len(doc["profiles"]) == 1


def flamegraph(py, daemon, trace, tmp_path, *extra):
    path = tmp_path / "flame.svg"
    r = run(py, daemon, "report", str(trace), "--flamegraph", str(path), *extra)
    assert r.returncode == 0, r.stderr
    svg = ET.parse(path).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    boxes = []
    for g in svg.iter(ns + "g"):
        rect = g.find(ns + "rect")
        boxes.append((g.find(ns + "title").text, float(rect.get("x")), float(rect.get("y")),
                      float(rect.get("width"))))
    return boxes


def test_report_flamegraph(first_py, daemon, fib_trace, tmp_path):
    boxes = flamegraph(first_py, daemon, fib_trace, tmp_path, "--name", "fib")
    assert boxes[0][0].startswith("all, ") and boxes[0][0].endswith(", 100.00%")
    assert boxes[0][3] == pytest.approx(1180, abs=0.01)
    fibs = [b for b in boxes if b[0].startswith(f"fib ({FIB}), ")]
    # fib(12) recurses 12 deep: one box per depth at least, none wider than the root.
    assert len({b[2] for b in fibs}) == 12
    assert all(0 < b[3] <= boxes[0][3] + 0.01 for b in boxes)
    # Stacks through fib only: every box is fib or one of its callers.
    (tmp_path / "folded").mkdir()
    r = run(first_py, daemon, "report", str(fib_trace), "--folded", "--name", "fib")
    frames = {f for line in r.stdout.splitlines() for f in line.rsplit(" ", 1)[0].split(";")}
    titles = {b[0].rsplit(", ", 2)[0] for b in boxes[1:]}
    assert titles == frames


def png_pixels(path):
    """(width, height, rows of (r, g, b)) of an 8-bit RGB or RGBA PNG, as
    Chromium writes screenshots."""
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and not interlace, (depth, colour)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    bpp = 3 if colour == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(w)])
        prev = line
    return w, h, rows


def chromium_env(tmp_path):
    """The environment without the sanitizer runtime and its options
    (tests/run-sanitized preloads ASan into pytest: Chromium hangs with it)."""
    env = {k: v for k, v in os.environ.items()
           if k != "LD_PRELOAD" and not k.endswith("SAN_OPTIONS")}
    env["HOME"] = str(tmp_path)
    return env


def chromium(tmp_path, url, *args):
    """Headless Chromium on a file URL: its stdout (the DOM with --dump-dom)."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        if os.environ.get("PYUST_REQUIRE_CHROMIUM"):
            pytest.fail("chromium is required (Debian: chromium)")
        pytest.skip("chromium is not installed")
    profile = tmp_path / "chromium-profile"
    r = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--force-device-scale-factor=1", "--no-first-run",
                        f"--user-data-dir={profile}", *args, url],
                       capture_output=True, text=True, errors="replace", timeout=180,
                       env=chromium_env(tmp_path))
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout


def svg_boxes(root):
    ns = "{http://www.w3.org/2000/svg}"
    out = []
    for g in root.iter(ns + "g"):
        r = g.find(ns + "rect")
        out.append({"title": g.find(ns + "title").text, "class": g.get("class"),
                    "style": g.get("style") or "", "fill": r.get("fill"),
                    "x": float(r.get("x")), "y": float(r.get("y")),
                    "w": float(r.get("width")), "text": g.find(ns + "text").text or ""})
    return out


def test_flamegraph_in_chromium(first_py, daemon, fib_trace, tmp_path):
    """The SVG renders as written, and its script zooms and searches."""
    path = tmp_path / "flame.svg"
    r = run(first_py, daemon, "report", str(fib_trace), "--flamegraph", str(path))
    assert r.returncode == 0, r.stderr
    svg = ET.parse(path).getroot()
    height = int(svg.get("height"))
    boxes = svg_boxes(svg)
    root = boxes[0]
    fibs = sorted((b for b in boxes if b["title"].startswith(f"fib ({FIB}), ")),
                  key=lambda b: -b["y"])
    assert root["title"].startswith("all, ") and len(fibs) >= 12

    # Rendered: the pixels inside the boxes have their colours.
    shot = tmp_path / "shot.png"
    chromium(tmp_path, path.as_uri(), f"--window-size=1200,{height}", f"--screenshot={shot}")
    width, h, px = png_pixels(shot)
    assert (width, h) == (1200, height)

    def colour(b, x=None):
        x = b["x"] + b["w"] / 2 if x is None else x
        return "rgb(%d,%d,%d)" % px[int(b["y"] + 7)][int(x)]

    assert colour(root) == root["fill"]
    assert colour(fibs[0], fibs[0]["x"] + 1) == fibs[0]["fill"]
    assert px[3][3] == (248, 248, 248)
    assert any(sum(p) < 300 for p in px[15][500:700]), "no title drawn"

    # Zoomed on the second fib from the bottom and searched for fib: the
    # script's result, serialized, then drawn.
    z = fibs[1]
    url = path.as_uri() + "?x=%.2f&y=%.1f&s=%s" % (z["x"], z["y"], quote("^fib "))
    after = svg_boxes(ET.fromstring(chromium(tmp_path, url, "--dump-dom")))
    assert [b["title"] for b in after] == [b["title"] for b in boxes]
    k = 1180 / z["w"]
    for old, new in zip(boxes, after):
        inside = (old["y"] <= z["y"] and old["x"] >= z["x"] - 0.02
                  and old["x"] + old["w"] <= z["x"] + z["w"] + 0.02)
        below = (old["y"] > z["y"] and old["x"] <= z["x"] + 0.02
                 and old["x"] + old["w"] >= z["x"] + z["w"] - 0.02)
        if inside:
            assert new["x"] == pytest.approx(10 + (old["x"] - z["x"]) * k, abs=0.02)
            assert new["w"] == pytest.approx(old["w"] * k, abs=0.02)
            assert new["class"] == "f" and "none" not in new["style"]
        elif below:
            assert (new["x"], new["w"], new["class"]) == (10, 1180, "f parent")
        else:
            assert "display: none" in new["style"], new
        hit = old["title"].startswith("fib ")
        assert new["fill"] == ("rgb(230,0,230)" if hit else old["fill"]), new
    assert {b["title"] for b, a in zip(boxes, after) if a["class"] == "f parent"} \
        == {root["title"], fibs[0]["title"]} | {b["title"] for b in boxes
                                              if b["title"].startswith(f"<module> ({FIB})")}
    # The share matched: the outermost fib holds every other.
    dom = chromium(tmp_path, url, "--dump-dom")
    share = float(fibs[0]["title"].rsplit(", ", 1)[1].rstrip("%"))
    m = re.search(r'id="matched"[^>]*>Matched: ([0-9.]+)%<', dom)
    assert m and float(m.group(1)) == pytest.approx(share, abs=0.02), dom[-2000:]
    chromium(tmp_path, url, f"--window-size=1200,{height}", f"--screenshot={shot}")
    _, _, px = png_pixels(shot)
    assert px[int(z["y"] + 7)][600] == (230, 0, 230)
    assert px[int(z["y"] + 7)][1185] == (230, 0, 230)
    # No call at all: the script still runs to its end.
    r = run(first_py, daemon, "report", str(fib_trace), "--flamegraph", str(path), "--name",
            "no-such-function")
    assert r.returncode == 0, r.stderr
    dom = chromium(tmp_path, path.as_uri() + "?s=fib&x=10.00&y=36.0", "--dump-dom")
    assert "no call in the trace" in dom and ">Matched: 0.00%<" in dom, dom[-2000:]


ODD_NAMES = """
def f():
    pass
for name in ('q"uote\\\\', '<tag> & amp', 'ctl\\x01\\x1b[31m', 'sur\\udcffrogate', 'caf\\u00e9'):
    g = lambda: f()
    g.__code__ = g.__code__.replace(co_name=name, co_filename='odd"<&>.py')
    g()
"""


def test_report_files_with_odd_names(first_py, daemon, tmp_path):
    prog = tmp_path / "odd.py"
    prog.write_text(ODD_NAMES)
    out = tmp_path / "t"
    p = run(first_py, daemon, "record", "-o", str(out), "--no-logging", first_py["python"],
            str(prog))
    assert p.returncode == 0, p.stderr
    doc, frames = speedscope(first_py, daemon, out, tmp_path)
    names = {f["name"] for f in frames}
    assert {'q"uote\\', "<tag> & amp", "ctl\x01\x1b[31m", "sur?rogate", "caf\u00e9"} <= names
    assert {f["file"] for f in frames if f["name"] == "caf\u00e9"} == {'odd"<&>.py'}
    titles = {b[0].rsplit(", ", 2)[0] for b in flamegraph(first_py, daemon, out, tmp_path)}
    assert {'q"uote\\ (odd"<&>.py)', "<tag> & amp (odd\"<&>.py)", "ctl??[31m (odd\"<&>.py)",
            "caf\u00e9 (odd\"<&>.py)"} <= titles
