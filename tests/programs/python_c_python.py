# SPDX-License-Identifier: MIT
"""Python -> the instrumented C extension nativeext (on PYTHONPATH) -> Python."""

import nativeext


def callback():
    return 1


def outer():
    return nativeext.call_twice(callback)


print(outer())
