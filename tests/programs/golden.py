# SPDX-License-Identifier: MIT
"""A small program whose calls are known exactly: the plugin's golden-output
tests (test_golden.py) record it and compare each view, timings left out."""

import logging


class Basket:
    def __init__(self):
        self.items = []

    def add(self, item):
        self.items.append(item)
        return len(self.items)

    def total(self):
        return sum(price(item) for item in self.items)


def price(item):
    return len(item) * 10


def countdown(n):
    while n:
        yield n
        n -= 1


def checkout(basket):
    try:
        refuse(basket)
    except ValueError:
        logging.getLogger("shop").warning("refused %d items", len(basket.items))
    return basket.total()


def refuse(basket):
    raise ValueError(basket)


def main():
    basket = Basket()
    for name in ("tea", "milk"):
        basket.add(name)
    for _ in countdown(2):
        pass
    print(checkout(basket))


main()
