# SPDX-License-Identifier: MIT
"""Reaction time: run under the preload with a session created but not
started; prints CLOCK_MONOTONIC when the hook appears and when it goes."""

import sys
import time

import pyust


def wait_for(state):
    deadline = time.monotonic() + 30
    while pyust.hook_installed() != state and time.monotonic() < deadline:
        time.sleep(0.0002)
    return time.monotonic()


print("ready", flush=True)
print(wait_for(True), flush=True)
print(wait_for(False), flush=True)
sys.stdin.read()
