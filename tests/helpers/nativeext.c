/*
 * SPDX-License-Identifier: MIT
 *
 * A C extension built with -finstrument-functions whose function calls back
 * into Python: Python -> C -> Python nesting.
 */

#include <Python.h>

__attribute__((noinline)) static long twice(long x)
{
	return 2 * x;
}

static PyObject *call_twice(PyObject *self, PyObject *args)
{
	PyObject *fn, *r;

	(void)self;
	if (!PyArg_ParseTuple(args, "O", &fn))
		return NULL;
	r = PyObject_CallNoArgs(fn);
	if (!r)
		return NULL;
	Py_DECREF(r);
	return PyLong_FromLong(twice(21));
}

static PyMethodDef methods[] = {
	{"call_twice", call_twice, METH_VARARGS, "Call fn(), return twice(21)."},
	{NULL, NULL, 0, NULL},
};

static struct PyModuleDef def = {
	PyModuleDef_HEAD_INIT, "nativeext", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit_nativeext(void)
{
	return PyModule_Create(&def);
}
