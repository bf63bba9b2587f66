# SPDX-License-Identifier: MIT
"""The cat-video startup's server, as in the DTrace talk: go() serves
requests for personalised cat videos; find() searches the web to a random
depth ("*" each level) and new_cat_video() personalises one ("+"), which
takes a random while. No tracing code: pyust is preloaded.

Serves until its standard input closes (or REQUESTS requests)."""

import random
import select
import sys
import time


def new_cat_video(profile):
    """The hard work: personalising a cat video."""
    time.sleep(random.uniform(0.002, 0.03))
    print("+", end="", flush=True)
    return f"cat video for {profile}"


def find(depth, profile):
    """A search of the web, depth levels deep."""
    print("*", end="", flush=True)
    if depth:
        return find(depth - 1, profile)
    return new_cat_video(profile)


def stdin_closed():
    ready, _, _ = select.select([sys.stdin], [], [], 0)
    return bool(ready) and not sys.stdin.read(1)


def go(requests=10000):
    random.seed(42)
    served = 0
    while served < requests and not stdin_closed():
        find(random.randint(1, 6), f"user{served}")
        served += 1
    print(f"\nserved {served} cat videos", flush=True)


if __name__ == "__main__":
    go(int(sys.argv[1]) if len(sys.argv) > 1 else 10000)
