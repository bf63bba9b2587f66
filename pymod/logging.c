/*
 * SPDX-License-Identifier: MIT
 *
 * Where the records come from. While a session wants Python logging events
 * (lttng_python:event enabled, or enabled through the agent), every record
 * that reaches the root logger's handlers is recorded, as by lttngust's
 * handler on the root logger. Logger.callHandlers is wrapped rather than
 * root.handlers changed, so that logging.basicConfig() and the last-resort
 * handler behave as without pyust; the root logger's level is left alone,
 * and the records a session asks for below the program's levels are made
 * for LTTng alone (loglevels.c). pyust.LoggingHandler is the same recording
 * as a handler to add by hand.
 *
 * While a session waits for records of a program that has not imported
 * logging yet, an audit hook catches that import, to be in place before the
 * first record; it is out of CPython's list the rest of the time (audit
 * events cost more with any hook in place).
 *
 * lttngust: imported before pyust starts, it records and pyust does not
 * (its library registered the provider first). Imported later, its library
 * finds the provider taken and its call site of another signature is not
 * connected to pyust's probes: pyust goes on recording, each record once.
 */

#include "pyust.h"
#include "pyust-preload.h"

#include <stdbool.h>
#include <string.h>

enum attach { ATTACH_NO, ATTACH_YES, ATTACH_WAIT /* for the import of logging */ };

/* Under the GIL; read by the watcher without it. */
static int attached;
static bool following;
static bool yielded; /* to lttngust */

static PyObject *logger_cls, *root, *orig, *wrapper;
static bool in_class; /* the wrapper is in Logger.callHandlers' chain */
static bool importing;
static bool hooked;  /* the audit hook is in CPython's list */
static void *parked; /* its entry while out of the list */
static bool exiting; /* atexit ran: no more imports from the audit hook */
static PyObject *handler_type;

/* The record the wrapper recorded, while the handlers it wraps run. */
static __thread PyObject *recorded;

bool pyust_log_wanted(void)
{
	return __atomic_load_n(&following, __ATOMIC_RELAXED) &&
	       !__atomic_load_n(&yielded, __ATOMIC_RELAXED) &&
	       (pyust_logemit_enabled() || pyust_agent_enabled() > 0);
}

bool pyust_log_out_of_step(void)
{
	return pyust_log_wanted() != (__atomic_load_n(&attached, __ATOMIC_RELAXED) != ATTACH_NO);
}

static int audit(const char *event, PyObject *args, void *unused);

/* The audit hook in CPython's list only while waiting for the import of logging. */
static void hook(bool on)
{
	void *e;

	if (on == hooked)
		return;
	if (!on) {
		e = pyust_audit_unlink((void *)audit, &hooked);
		if (e) {
			parked = e;
			hooked = false;
		}
	} else if (parked ? pyust_audit_relink(parked) == 0
			  : pyust_audit_add((void *)audit, &hooked, &e) == 0) {
		hooked = true;
	} else {
		PyErr_Clear();
	}
}

static void set_attached(int v)
{
	__atomic_store_n(&attached, v, __ATOMIC_RELAXED);
	hook(v == ATTACH_WAIT && !exiting);
}

/*
 * fn(self, *args, **kw), args and keyword values as vectorcall passes them.
 * Not under ASan: CPython ends a daemon thread that logs at exit with
 * pthread_exit, whose unwinding leaves small's redzones set for the thread's
 * last functions to trip on.
 */
__attribute__((no_sanitize("address"))) PyObject *pyust_call_self(PyObject *fn, PyObject *self,
								  PyObject *const *args,
								  Py_ssize_t n, PyObject *kwnames)
{
	Py_ssize_t all = n + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0);
	PyObject *small[8], **v = small, *r;

	if (all + 2 > (Py_ssize_t)(sizeof(small) / sizeof(small[0])) &&
	    !(v = PyMem_Malloc((size_t)(all + 2) * sizeof(*v))))
		return PyErr_NoMemory();
	v[1] = self;
	memcpy(v + 2, args, (size_t)all * sizeof(*v));
	r = PyObject_Vectorcall(fn, v + 1, (size_t)(n + 1) | PY_VECTORCALL_ARGUMENTS_OFFSET,
				kwnames);
	if (v != small)
		PyMem_Free(v);
	return r;
}

static PyObject *call_handlers(PyObject *logger, PyObject *const *args, size_t nargsf,
			       PyObject *kwnames)
{
	Py_ssize_t n = PyVectorcall_NARGS(nargsf);
	PyObject *prev = recorded, *r;
	/* callHandlers(record), or callHandlers(record=record): args[0] either way. */
	bool one = n + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0) == 1 &&
		   (n == 1 ||
		    PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), "record") == 0);
	bool forced = one && pyust_loglevels_forced(logger);

	if (one && __atomic_load_n(&attached, __ATOMIC_RELAXED) == ATTACH_YES && !yielded &&
	    pyust_logemit_enabled() && (forced || pyust_logger_reaches_root(logger))) {
		if (pyust_log_emit(args[0]) == 0) {
			recorded = args[0];
		} else if (PyErr_ExceptionMatches(PyExc_Exception)) {
			/* The program's own handlers meet the same error and report it. */
			PyErr_Clear();
		} else {
			return NULL; /* KeyboardInterrupt and the like are the program's */
		}
	}
	/* Made for LTTng alone: the program's handlers never see it. */
	if (forced) {
		recorded = prev;
		Py_RETURN_NONE;
	}
	r = pyust_call_self(orig, logger, args, n, kwnames);
	recorded = prev;
	return r;
}

/*
 * A method descriptor: called from a method call with no bound method nor
 * argument tuple made. Its class is object, so that it takes any first
 * argument, as the function it wraps does.
 */
static PyMethodDef wrapper_def = {
	"callHandlers", (PyCFunction)(void (*)(void))call_handlers, METH_FASTCALL | METH_KEYWORDS,
	"Logger.callHandlers, with pyust recording what reaches the root logger."};

static int attach_to(PyObject *logging)
{
	PyObject *cur;

	if (!logger_cls) {
		logger_cls = PyObject_GetAttrString(logging, "Logger");
		root = logger_cls ? PyObject_GetAttrString(logging, "root") : NULL;
		wrapper = root ? PyDescr_NewMethod(&PyBaseObject_Type, &wrapper_def) : NULL;
		if (!wrapper || pyust_logemit_init(logging) < 0) {
			Py_CLEAR(logger_cls);
			Py_CLEAR(root);
			Py_CLEAR(wrapper);
			return -1;
		}
	}
	if (!in_class) {
		cur = PyObject_GetAttrString(logger_cls, "callHandlers");
		if (!cur)
			return -1;
		if (cur != wrapper) {
			Py_XSETREF(orig, cur);
			if (PyObject_SetAttrString(logger_cls, "callHandlers", wrapper) < 0)
				return -1;
		} else {
			Py_DECREF(cur);
		}
		in_class = true;
	}
	if (pyust_loglevels_attach(logging, logger_cls, root) < 0)
		return -1;
	set_attached(ATTACH_YES);
	return 0;
}

static void attach(void)
{
	PyObject *name = PyUnicode_FromString("logging");
	PyObject *logging = name ? PyImport_GetModule(name) : NULL;

	Py_XDECREF(name);
	if (!logging) {
		/* Not imported (yet): the audit hook attaches when it is. */
		PyErr_Clear();
		set_attached(ATTACH_WAIT);
		return;
	}
	if (attach_to(logging) < 0) {
		PyErr_Clear();
		pyust_warn("logging events are off: cannot wrap the methods of logging.Logger");
		set_attached(ATTACH_NO);
		__atomic_store_n(&yielded, true, __ATOMIC_RELAXED);
	}
	Py_DECREF(logging);
}

static void detach(void)
{
	PyObject *cur;

	set_attached(ATTACH_NO);
	pyust_loglevels_detach();
	if (!in_class)
		return;
	cur = PyObject_GetAttrString(logger_cls, "callHandlers");
	/* Wrapped again since by someone else: stay in their chain, passing through. */
	if (cur == wrapper && PyObject_SetAttrString(logger_cls, "callHandlers", orig) == 0)
		in_class = false;
	Py_XDECREF(cur);
	PyErr_Clear();
}

void pyust_log_apply(void)
{
	if (pyust_log_wanted()) {
		if (attached == ATTACH_NO)
			attach();
	} else if (attached != ATTACH_NO) {
		detach();
	}
}

/* The program imports logging while a session waits for its records. */
static void import_logging(void)
{
	PyObject *logging;

	importing = true;
	logging = PyImport_ImportModule("logging");
	importing = false;
	if (!logging) {
		/* The program's own import fails the same way and says why. */
		PyErr_Clear();
		return;
	}
	if (attached == ATTACH_WAIT && pyust_log_wanted() && attach_to(logging) < 0) {
		PyErr_Clear();
		set_attached(ATTACH_NO);
	}
	Py_DECREF(logging);
}

static int audit(const char *event, PyObject *args, void *unused)
{
	PyObject *name;

	(void)unused;
	if (event[0] != 'i' || exiting || strcmp(event, "import") != 0)
		return 0;
	if (PyInterpreterState_Get() != PyInterpreterState_Main() || !PyTuple_Check(args) ||
	    PyTuple_GET_SIZE(args) < 1)
		return 0;
	name = PyTuple_GET_ITEM(args, 0);
	if (!importing && attached == ATTACH_WAIT && PyUnicode_Check(name) &&
	    PyUnicode_CompareWithASCIIString(name, "logging") == 0)
		import_logging();
	return 0;
}

int pyust_log_follow(void)
{
	PyObject *lttngust = PyUnicode_FromString("lttngust"), *m;

	if (!lttngust)
		return -1;
	m = PyImport_GetModule(lttngust);
	Py_DECREF(lttngust);
	if (m || pyust_log_probes_load() < 0) {
		Py_XDECREF(m);
		__atomic_store_n(&yielded, true, __ATOMIC_RELAXED);
	}
	PyErr_Clear();
	__atomic_store_n(&following, true, __ATOMIC_RELAXED);
	if (!yielded && pyust_agent_start() != 0)
		pyust_warn("the LTTng agent is off: cannot start its thread");
	pyust_log_apply();
	return 0;
}

void pyust_log_at_exit(void)
{
	exiting = true;
	hook(false);
}

void pyust_log_unfollow(void)
{
	__atomic_store_n(&following, false, __ATOMIC_RELAXED);
	pyust_log_apply();
}

void pyust_log_forget(void)
{
	set_attached(ATTACH_NO);
	following = false;
	yielded = false;
	in_class = false;
	hooked = false; /* CPython freed its hooks */
	parked = NULL;
	exiting = false;
	logger_cls = root = orig = wrapper = handler_type = NULL;
	pyust_loglevels_forget();
	pyust_logemit_forget();
}

/* pyust.LoggingHandler.emit: also a record already recorded from the root is skipped. */
static PyObject *handler_emit(PyObject *self, PyObject *record)
{
	PyObject *t, *v, *tb, *st, *sv, *stb, *r;

	if (record == recorded || yielded || pyust_log_emit(record) == 0)
		Py_RETURN_NONE;
	if (!PyErr_ExceptionMatches(PyExc_Exception))
		return NULL;
	/* What a handler does with an error: handleError() reports the current exception. */
	PyErr_Fetch(&t, &v, &tb);
	PyErr_NormalizeException(&t, &v, &tb);
	if (tb && v)
		PyException_SetTraceback(v, tb);
	PyErr_GetExcInfo(&st, &sv, &stb);
	PyErr_SetExcInfo(t, v, tb);
	r = PyObject_CallMethod(self, "handleError", "O", record);
	PyErr_SetExcInfo(st, sv, stb);
	if (!r)
		return NULL;
	Py_DECREF(r);
	Py_RETURN_NONE;
}

static PyMethodDef handler_methods[] = {
	{"emit", handler_emit, METH_O,
	 "emit(record)\n--\n\nRecord the record as an lttng_python:event, if a session wants it."},
	{NULL, NULL, 0, NULL},
};

PyObject *pyust_log_handler_type(void)
{
	PyType_Slot slots[] = {
		{Py_tp_methods, handler_methods},
		{Py_tp_doc, "A logging.Handler that records each record as an lttng_python:event, "
			    "with the fields of LTTng's lttngust agent."},
		{0, NULL},
	};
	PyType_Spec spec = {"pyust.LoggingHandler", 0, 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
			    slots};
	PyObject *logging, *base, *bases;

	if (handler_type) {
		Py_INCREF(handler_type);
		return handler_type;
	}
	logging = PyImport_ImportModule("logging");
	if (!logging)
		return NULL;
	base = PyObject_GetAttrString(logging, "Handler");
	if (!base || pyust_logemit_init(logging) < 0) {
		Py_XDECREF(base);
		Py_DECREF(logging);
		return NULL;
	}
	Py_DECREF(logging);
	bases = PyTuple_Pack(1, base);
	Py_DECREF(base);
	if (!bases)
		return NULL;
	handler_type = PyType_FromSpecWithBases(&spec, bases);
	Py_DECREF(bases);
	Py_XINCREF(handler_type);
	return handler_type;
}
