/*
 * SPDX-License-Identifier: MIT
 *
 * The pyust extension module. Importing it starts recording, whether the
 * import comes from the application or from libpyust.so preloaded: the gc
 * callback is installed, the frame hook and the logging wrapper follow the
 * sessions, and the LTTng agent registers the process with the daemons.
 */

#include "codeinfo.h"
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
	if (pyust_log_follow() < 0 || pyust_watch_follow() < 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyObject *stop(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	pyust_watch_unfollow();
	pyust_log_unfollow();
	Py_RETURN_NONE;
}

static PyObject *at_exit(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	pyust_watch_stop();
	pyust_agent_stop();
	pyust_log_at_exit();
	Py_RETURN_NONE;
}

static PyObject *before_fork(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	pyust_fork_arm(1);
	Py_RETURN_NONE;
}

static PyObject *after_fork_in_parent(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	pyust_fork_arm(0);
	Py_RETURN_NONE;
}

static PyObject *after_fork_in_child(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	pyust_fork_arm(0);
	pyust_orphan_arm();
	if (pyust_watch_after_fork() != 0 || pyust_agent_after_fork() != 0) {
		PyErr_SetString(PyExc_RuntimeError, "pyust: cannot start its threads in the child");
		return NULL;
	}
	Py_RETURN_NONE;
}

/* For the tests: the C audit hooks in CPython's list, None when pyust never looked. */
static PyObject *audit_hooks(PyObject *self, PyObject *unused)
{
	int n = pyust_audit_count();

	(void)self;
	(void)unused;
	if (n < 0)
		Py_RETURN_NONE;
	return PyLong_FromLong(n);
}

/* PEP 562: the handler class is made on first use, as it needs logging imported. */
static PyObject *getattr(PyObject *self, PyObject *name)
{
	PyObject *type;

	if (!PyUnicode_Check(name) || PyUnicode_CompareWithASCIIString(name, "LoggingHandler")) {
		PyErr_Format(PyExc_AttributeError, "module 'pyust' has no attribute %R", name);
		return NULL;
	}
	type = pyust_log_handler_type();
	if (type && PyObject_SetAttr(self, name, type) < 0)
		Py_CLEAR(type);
	return type;
}

static PyMethodDef methods[] = {
	{"start", start, METH_NOARGS,
	 "start()\n--\n\nFollow the sessions again (done on import): the frame hook is in "
	 "place while one enables python function events, the logging wrapper while one "
	 "enables Python logging events."},
	{"stop", stop, METH_NOARGS,
	 "stop()\n--\n\nRemove the frame hook and the logging wrapper, and stop following "
	 "the sessions."},
	{"_at_exit", at_exit, METH_NOARGS, NULL},
	{"_before_fork", before_fork, METH_NOARGS, NULL},
	{"_after_fork_in_parent", after_fork_in_parent, METH_NOARGS, NULL},
	{"_after_fork_in_child", after_fork_in_child, METH_NOARGS, NULL},
	{"__getattr__", getattr, METH_O, NULL},
	{"_audit_hooks", audit_hooks, METH_NOARGS, NULL},
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

/*
 * Stop the threads before finalization; around os.fork(), have the child
 * registered as itself and restart the threads there.
 */
static int register_hooks(PyObject *m)
{
	PyObject *r = NULL, *cb, *kw, *atexit = PyImport_ImportModule("atexit");

	cb = PyObject_GetAttrString(m, "_at_exit");
	if (atexit && cb)
		r = PyObject_CallMethod(atexit, "register", "O", cb);
	Py_XDECREF(cb);
	Py_XDECREF(atexit);
	if (!r)
		return -1;
	Py_DECREF(r);
	kw = Py_BuildValue("{sNsNsN}", "before", PyObject_GetAttrString(m, "_before_fork"),
			   "after_in_parent", PyObject_GetAttrString(m, "_after_fork_in_parent"),
			   "after_in_child", PyObject_GetAttrString(m, "_after_fork_in_child"));
	r = NULL;
	if (kw) {
		/* posix, built in, not os: a program started with -S has not imported os. */
		PyObject *os = PyImport_ImportModule("posix");
		PyObject *reg = os ? PyObject_GetAttrString(os, "register_at_fork") : NULL;
		PyObject *args = PyTuple_New(0);

		if (reg && args)
			r = PyObject_Call(reg, args, kw);
		Py_XDECREF(args);
		Py_XDECREF(reg);
		Py_XDECREF(os);
	}
	Py_XDECREF(kw);
	if (!r)
		return -1;
	Py_DECREF(r);
	return 0;
}

static void forget_interpreter(void)
{
	pyust_watch_forget();
	pyust_hook_forget();
	pyust_code_forget();
	pyust_gc_forget();
	pyust_log_forget();
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
	    pyust_gc_init(m) < 0 || register_hooks(m) < 0 || pyust_log_follow() < 0 ||
	    pyust_watch_follow() < 0) {
		Py_DECREF(m);
		return NULL;
	}
	return m;
}
