# SPDX-License-Identifier: MIT
"""Every kind of code execution pyust must report. Run with --profile FILE to
count the executions the way sys.setprofile sees them ("call" events of the
code in this file), which the trace must match exactly."""

import json
import sys


class Shape:
    sides = 0

    def area(self):
        return 0

    @staticmethod
    def unit():
        return Shape()

    @property
    def name(self):
        return type(self).__name__

    class Inner:
        pass


def countdown(n):
    while n:
        yield n
        n -= 1


def with_result():
    yield 1
    return 5


def delegating():
    result = yield from with_result()
    yield result


class Pause:
    def __await__(self):
        yield "paused"


async def job(x):
    await Pause()
    return x * 2


async def ticker(n):
    for i in range(n):
        await Pause()
        yield i


async def main_async():
    total = await job(1)
    async for i in ticker(3):
        total += i
    return total


def run_coroutine(coro):
    try:
        while True:
            coro.send(None)
    except StopIteration as stop:
        return stop.value


def fail(depth):
    if depth == 0:
        raise ValueError("bottom")
    fail(depth - 1)


def catch():
    try:
        fail(3)
    except ValueError:
        return "caught"


def outer():
    def inner(v):
        return v + 1

    return inner(1)


def decorate(fn):
    def wrapper(*args):
        return fn(*args)

    return wrapper


@decorate
def decorated(x):
    return x


def main():
    s = Shape.unit()
    s.area()
    s.name
    list(countdown(4))
    g = countdown(10)
    next(g)
    g.close()
    g = countdown(10)
    next(g)
    try:
        g.throw(KeyError("k"))
    except KeyError:
        pass
    list(delegating())
    sum(x for x in range(3))
    [x for x in range(3)]
    sorted([3, 1, 2], key=lambda v: -v)
    run_coroutine(main_async())
    catch()
    outer()
    decorated(1)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--profile":
        counts = {}

        def profile(frame, event, arg):
            if event == "call" and frame.f_code.co_filename == __file__:
                key = frame.f_code.co_name
                counts[key] = counts.get(key, 0) + 1

        sys.setprofile(profile)
        main()
        sys.setprofile(None)
        with open(sys.argv[2], "w") as f:
            json.dump(counts, f)
    else:
        main()
