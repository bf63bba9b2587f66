/*
 * SPDX-License-Identifier: MIT
 *
 * python:gc__start and python:gc__done, from a callback in gc.callbacks.
 * While the list holds a callback, CPython builds an info dict for each
 * collection, so the callback is in it only while a session enables one of
 * the two events (the watcher puts it there and takes it away).
 */

#include "pyust.h"
#include "tp-python.h"

static PyObject *callback; /* the callback object, while pyust has one */
static int in_list;	   /* read by the watcher without the GIL */

/* A key's text made each time: a collection is rare, and nothing outlives the interpreter. */
static long info_long(PyObject *info, const char *key)
{
	PyObject *k = PyUnicode_FromString(key);
	PyObject *v = k && PyDict_Check(info) ? PyDict_GetItemWithError(info, k) : NULL;
	long n = v ? PyLong_AsLong(v) : -1;

	Py_XDECREF(k);
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
		lttng_ust_do_tracepoint(python, gc__start, (int)info_long(info, "generation"));
	else if (lttng_ust_tracepoint_enabled(python, gc__done) &&
		 PyUnicode_CompareWithASCIIString(phase, "stop") == 0)
		lttng_ust_do_tracepoint(python, gc__done, info_long(info, "collected"));
	Py_RETURN_NONE;
}

static PyMethodDef gc_callback_def = {
	"_gc_callback", gc_callback, METH_VARARGS,
	"Emit python:gc__start and python:gc__done (installed in gc.callbacks by pyust)."};

void pyust_gc_forget(void)
{
	/* Freed with the interpreter. */
	callback = NULL;
	__atomic_store_n(&in_list, 0, __ATOMIC_RELAXED);
}

static bool wanted(void)
{
	return lttng_ust_tracepoint_enabled(python, gc__start) ||
	       lttng_ust_tracepoint_enabled(python, gc__done);
}

bool pyust_gc_out_of_step(bool follow)
{
	return (follow && wanted()) != (bool)__atomic_load_n(&in_list, __ATOMIC_RELAXED);
}

/* With the GIL: the callback in gc.callbacks while a session wants gc events. */
void pyust_gc_apply(bool follow)
{
	PyObject *gc, *list;
	bool want = follow && wanted() && callback;
	Py_ssize_t i;

	if (want == (bool)in_list)
		return;
	gc = PyImport_ImportModule("gc");
	list = gc ? PyObject_GetAttrString(gc, "callbacks") : NULL;
	if (list && PyList_Check(list)) {
		if (want) {
			if (PyList_Append(list, callback) == 0)
				__atomic_store_n(&in_list, 1, __ATOMIC_RELAXED);
		} else {
			/* The program may have removed it, or moved it. */
			for (i = PyList_GET_SIZE(list) - 1; i >= 0; i--)
				if (PyList_GET_ITEM(list, i) == callback &&
				    PySequence_DelItem(list, i) < 0)
					break;
			__atomic_store_n(&in_list, 0, __ATOMIC_RELAXED);
		}
	}
	PyErr_Clear();
	Py_XDECREF(list);
	Py_XDECREF(gc);
}

int pyust_gc_init(PyObject *module)
{
	callback = PyCFunction_NewEx(&gc_callback_def, NULL, NULL);
	if (!callback)
		return -1;
	/* The module holds the reference. */
	if (PyModule_AddObject(module, "_gc_callback", callback) < 0) {
		Py_CLEAR(callback);
		return -1;
	}
	return 0;
}
