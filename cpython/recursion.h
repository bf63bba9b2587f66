/*
 * SPDX-License-Identifier: MIT
 *
 * How each CPython bounds the C stack that Python calls use, which the hook
 * changes: with it in place every Python call recurses in C (3.11+ inline
 * them otherwise).
 *
 * 3.9 to 3.11: no C bound but the stack itself; the hook keeps a reserve.
 * 3.12, 3.13: a budget of units per thread (c_recursion_remaining), sized
 * for an 8 MiB stack; the hook gives back what its calls cost while the real
 * stack has room.
 * 3.14+: the evaluator compares the stack pointer with limits computed from
 * the thread's real stack at every entry, clears and pops the frame when it
 * is too deep: the hook's own frames are counted, nothing to do.
 */

#ifndef PYUST_CPYTHON_RECURSION_H
#define PYUST_CPYTHON_RECURSION_H

#include <Python.h>

#include "versions.h"

#if PY_VERSION_HEX >= 0x030E0000
#define PYUST_CPYTHON_CHECKS_STACK 1
#elif PY_VERSION_HEX >= 0x030D0000
#define PYUST_C_RECURSION_LIMIT Py_C_RECURSION_LIMIT
#elif PY_VERSION_HEX >= 0x030C0000
#define PYUST_C_RECURSION_LIMIT C_RECURSION_LIMIT
#endif

#ifdef PYUST_C_RECURSION_LIMIT
/* Units a Python call costs when it goes through the hook instead of being inlined. */
#define PYUST_C_UNITS_PER_CALL 2

/* The units of C recursion the thread has left. */
static inline int pyust_c_budget(PyThreadState *ts)
{
	return ts->c_recursion_remaining;
}

static inline void pyust_c_budget_set(PyThreadState *ts, int units)
{
	ts->c_recursion_remaining = units;
}
#endif

#endif /* PYUST_CPYTHON_RECURSION_H */
