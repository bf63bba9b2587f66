/*
 * SPDX-License-Identifier: MIT
 *
 * python:gc__start and python:gc__done, from a callback in gc.callbacks.
 * The callback reads the info dict only when the event is enabled.
 */

#include "pyust.h"
#include "tp-python.h"

static PyObject *str_generation, *str_collected;

static long info_long(PyObject *info, PyObject *key)
{
	PyObject *v = PyDict_Check(info) ? PyDict_GetItemWithError(info, key) : NULL;
	long n = v ? PyLong_AsLong(v) : -1;

	if (PyErr_Occurred())
		PyErr_Clear();
	return n;
}

static PyObject *gc_callback(PyObject *self, PyObject *args)
{
	PyObject *phase, *info;

	(void)self;
	if (!PyArg_UnpackTuple(args, "gc_callback", 2, 2, &phase, &info))
		return NULL;
	if (!PyUnicode_Check(phase))
		Py_RETURN_NONE;
	if (lttng_ust_tracepoint_enabled(python, gc__start) &&
	    PyUnicode_CompareWithASCIIString(phase, "start") == 0)
		lttng_ust_do_tracepoint(python, gc__start, (int)info_long(info, str_generation));
	else if (lttng_ust_tracepoint_enabled(python, gc__done) &&
		 PyUnicode_CompareWithASCIIString(phase, "stop") == 0)
		lttng_ust_do_tracepoint(python, gc__done, info_long(info, str_collected));
	Py_RETURN_NONE;
}

static PyMethodDef gc_callback_def = {
	"_gc_callback", gc_callback, METH_VARARGS,
	"Emit python:gc__start and python:gc__done (installed in gc.callbacks by pyust)."};

void pyust_gc_forget(void)
{
	/* Freed with the interpreter (3.12+ frees interned strings). */
	str_generation = NULL;
	str_collected = NULL;
}

int pyust_gc_install(PyObject *module)
{
	PyObject *gc, *callbacks, *cb;
	int ret = -1;

	if (!str_generation) {
		str_generation = PyUnicode_InternFromString("generation");
		str_collected = PyUnicode_InternFromString("collected");
		if (!str_generation || !str_collected)
			return -1;
	}
	gc = PyImport_ImportModule("gc");
	if (!gc)
		return -1;
	callbacks = PyObject_GetAttrString(gc, "callbacks");
	cb = PyCFunction_NewEx(&gc_callback_def, NULL, NULL);
	if (callbacks && cb && PyList_Check(callbacks)) {
		ret = PyList_Append(callbacks, cb);
		if (ret == 0)
			ret = PyModule_AddObject(module, "_gc_callback", cb) == 0 ? 0 : -1;
		if (ret == 0)
			cb = NULL; /* reference stolen */
	}
	Py_XDECREF(cb);
	Py_XDECREF(callbacks);
	Py_DECREF(gc);
	return ret;
}
