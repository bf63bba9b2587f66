/*
 * SPDX-License-Identifier: MIT
 *
 * Keeping the exception being raised aside while pyust runs code of its own:
 * one object from 3.12 on (PyErr_Fetch is deprecated there), a triple before.
 */

#ifndef PYUST_CPYTHON_ERRORS_H
#define PYUST_CPYTHON_ERRORS_H

#include <Python.h>

#include "versions.h"

struct pyust_err_state {
#if PY_VERSION_HEX >= 0x030C0000
	PyObject *exc;
#else
	PyObject *type, *value, *tb;
#endif
};

static inline void pyust_err_save(struct pyust_err_state *s)
{
#if PY_VERSION_HEX >= 0x030C0000
	s->exc = PyErr_GetRaisedException();
#else
	PyErr_Fetch(&s->type, &s->value, &s->tb);
#endif
}

/* Puts it back, in place of any exception raised meanwhile. */
static inline void pyust_err_restore(struct pyust_err_state *s)
{
	PyErr_Clear();
#if PY_VERSION_HEX >= 0x030C0000
	PyErr_SetRaisedException(s->exc);
#else
	PyErr_Restore(s->type, s->value, s->tb);
#endif
}

#endif /* PYUST_CPYTHON_ERRORS_H */
