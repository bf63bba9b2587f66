# SPDX-License-Identifier: MIT
"""Realistic: JSON round trips, regular expressions and small helpers, as a
request handler does."""

import json
import re

from harness import run

WORD = re.compile(r"[a-z]+")


def parse(body):
    return json.loads(body)


def words(text):
    return WORD.findall(text.lower())


def handle(body):
    req = parse(body)
    counts = {}
    for w in words(req["text"]):
        counts[w] = counts.get(w, 0) + 1
    return json.dumps({"id": req["id"], "top": sorted(counts.items())[:5]})


REQUESTS = [json.dumps({"id": i, "text": "The cat video server serves cat videos " * 3})
            for i in range(300)]


def work():
    for body in REQUESTS:
        handle(body)


run(work)
