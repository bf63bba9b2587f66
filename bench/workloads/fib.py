# SPDX-License-Identifier: MIT
"""Call-heavy: recursive fib(22), 57 313 calls."""

from harness import run


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


run(lambda: fib(22))
