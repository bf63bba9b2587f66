/*
 * SPDX-License-Identifier: MIT
 *
 * The pyust extension module. Importing it starts recording: the frame hook
 * and the gc callback are installed (the callback first, so that its import of
 * gc is not recorded), whether the import comes from the
 * application or from libpyust.so preloaded.
 */

#include "pyust.h"
#include "pyust-preload.h"

static PyObject *hook_installed(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	return PyBool_FromLong(pyust_hook_installed());
}

static PyObject *start(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	if (pyust_hook_install() < 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyObject *stop(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	pyust_hook_uninstall();
	Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
	{"start", start, METH_NOARGS, "start()\n--\n\nInstall the frame hook (done on import)."},
	{"stop", stop, METH_NOARGS,
	 "stop()\n--\n\nRemove the frame hook; a hook installed after it stays."},
	{"hook_installed", hook_installed, METH_NOARGS,
	 "hook_installed()\n--\n\nWhether pyust's frame hook is the interpreter's eval function."},
	{NULL, NULL, 0, NULL},
};

static struct PyModuleDef pyust_module = {
	PyModuleDef_HEAD_INIT,
	.m_name = "pyust",
	.m_doc = "Python function, gc and native events into LTTng.",
	.m_size = -1,
	.m_methods = methods,
};

static void forget_interpreter(void)
{
	pyust_hook_forget();
	pyust_code_forget();
	pyust_gc_forget();
}

PYUST_EXPORT PyMODINIT_FUNC PyInit_pyust(void);

PyMODINIT_FUNC PyInit_pyust(void)
{
	PyObject *m;

	if (pyust_preload_abi() != PYUST_PRELOAD_ABI) {
		PyErr_Format(PyExc_ImportError,
			     "pyust: libpyust.so speaks version %d, this module version %d; "
			     "install both from the same pyust",
			     pyust_preload_abi(), PYUST_PRELOAD_ABI);
		return NULL;
	}
	m = PyModule_Create(&pyust_module);
	if (!m)
		return NULL;
	/* Run by Py_Finalize; an embedding program may initialize Python again. */
	if (Py_AtExit(forget_interpreter) < 0) {
		Py_DECREF(m);
		PyErr_SetString(PyExc_ImportError, "pyust: no room left for a Py_AtExit function");
		return NULL;
	}
	if (PyModule_AddStringConstant(m, "__version__", PYUST_VERSION) < 0 ||
	    pyust_gc_install(m) < 0 || pyust_hook_install() < 0) {
		Py_DECREF(m);
		return NULL;
	}
	return m;
}
