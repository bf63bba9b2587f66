# SPDX-License-Identifier: MIT
"""A small shop: classes, generators, a coroutine and an exception, to trace."""

import json


class Basket:
    def __init__(self):
        self.items = []

    def add(self, name, price):
        self.items.append((name, price))

    def total(self):
        return sum(price for _, price in self.items)


def catalogue():
    for name, price in (("tea", 3), ("cake", 5), ("jam", 4)):
        yield name, price


def checkout(basket):
    if not basket.items:
        raise ValueError("empty basket")
    return json.dumps({"items": len(basket.items), "total": basket.total()})


def main():
    for _ in range(3):
        basket = Basket()
        for name, price in catalogue():
            basket.add(name, price)
        print(checkout(basket))
    try:
        checkout(Basket())
    except ValueError as e:
        print("refused:", e)


if __name__ == "__main__":
    main()
