# SPDX-License-Identifier: MIT
"""Method- and generator-heavy: small objects, properties, a generator pipeline."""

from harness import run


class Point:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y

    @property
    def norm1(self):
        return abs(self.x) + abs(self.y)

    def moved(self, dx):
        return Point(self.x + dx, self.y)


def points(n):
    for i in range(n):
        yield Point(i, -i)


def shifted(ps):
    for p in ps:
        yield p.moved(1)


def work():
    return sum(p.norm1 for p in shifted(points(5000)))


run(work)
