# SPDX-License-Identifier: MIT
"""A bounded load on the demo server: REQUESTS GETs, one after the other,
cycling through the site's pages, a page that does not exist, and a
conditional GET that the server answers 304 (Not Modified). Stops by itself.

Usage: load.py PORT [REQUESTS]"""

import sys
import urllib.error
import urllib.request
from collections import Counter

PATHS = ("/", "/cats.html", "/style.css", "/about.html", "/missing.html", "/cats.html")


def get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            r.read()
            return r.status, r.headers.get("ETag")
    except urllib.error.HTTPError as e:
        return e.code, None


def main(port, requests=24):
    base = f"http://127.0.0.1:{port}"
    codes = Counter()
    tags = {}
    for i in range(requests):
        path = PATHS[i % len(PATHS)]
        # The second time a page comes round, ask only whether it changed.
        cond = {"If-None-Match": tags[path]} if i % len(PATHS) == 5 and path in tags else {}
        status, tag = get(base + path, cond)
        if tag:
            tags[path] = tag
        codes[status] += 1
    print(f"load: {requests} requests to {base}:",
          ", ".join(f"{n} x {code}" for code, n in sorted(codes.items())))


if __name__ == "__main__":
    main(int(sys.argv[1]), *(int(a) for a in sys.argv[2:3]))
