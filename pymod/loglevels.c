/*
 * SPDX-License-Identifier: MIT
 *
 * Records below the program's levels, made for the sessions that ask for
 * them. lttngust sets the root logger's level to NOTSET, so a session gets
 * every record that the logger's own level (or a parent's, the root's
 * aside) lets through; pyust leaves the levels alone and gets the same
 * records another way: while a session's enable command asks for a logger
 * and level that the program's levels refuse, Logger's level methods
 * (debug ... critical, log, and LoggerAdapter.log) make the record anyway,
 * and callHandlers gives it to LTTng only, not to the program's handlers.
 *
 * The record is made by a function compiled under logging's own file name,
 * which stands in for the level method's frame: findCaller skips it as it
 * skips logging's frames, so that funcName and lineno are the caller's on
 * every version (3.9 and 3.10 count frames, later ones skip by file).
 */

#include "attrs.h"
#include "pyust.h"

#include <stdbool.h>
#include <string.h>

#define LEVEL_OF_ARG (-1)

typedef PyObject *(*fastcall)(PyObject *, PyObject *const *, size_t, PyObject *);

struct method {
	const char *name;
	int level; /* or LEVEL_OF_ARG: log(level, msg, ...) */
	bool adapter;
	fastcall fn;
	PyMethodDef def;
	PyObject *orig, *wrapper;
	bool in_class;
};

static PyObject *level_method(int i, PyObject *self, PyObject *const *args, size_t nargsf,
			      PyObject *kwnames);

#define WRAPPER(fn, i)                                                                             \
	static PyObject *fn(PyObject *self, PyObject *const *args, size_t n, PyObject *kw)         \
	{                                                                                          \
		return level_method(i, self, args, n, kw);                                         \
	}
WRAPPER(w_debug, 0)
WRAPPER(w_info, 1)
WRAPPER(w_warning, 2)
WRAPPER(w_error, 3)
WRAPPER(w_critical, 4)
WRAPPER(w_fatal, 5)
WRAPPER(w_log, 6)
WRAPPER(w_adapter_log, 7)

static struct method methods[] = {
	{.name = "debug", .level = 10, .fn = w_debug},
	{.name = "info", .level = 20, .fn = w_info},
	{.name = "warning", .level = 30, .fn = w_warning},
	{.name = "error", .level = 40, .fn = w_error},
	{.name = "critical", .level = 50, .fn = w_critical},
	{.name = "fatal", .level = 50, .fn = w_fatal},
	{.name = "log", .level = LEVEL_OF_ARG, .fn = w_log},
	{.name = "log", .level = LEVEL_OF_ARG, .adapter = true, .fn = w_adapter_log},
};
#define N_METHODS (sizeof(methods) / sizeof(methods[0]))

static const char shim_source[] = "def make(self, level, msg, args, kwargs):\n"
				  "    self._log(level, msg, args, **kwargs)\n"
				  "def make_adapted(self, level, msg, args, kwargs):\n"
				  "    msg, kwargs = self.process(msg, kwargs)\n"
				  "    self.logger.log(level, msg, *args, **kwargs)\n";

static PyObject *logger_cls, *adapter_cls, *root, *make, *make_adapted;
static PyObject *is_enabled_for; /* "isEnabledFor", interned */
static struct pyust_attrs attrs;
enum { A_PROPAGATE, A_PARENT, A_LEVEL, A_DISABLED, A_NAME, A_MANAGER, A_LOGGER };
static const char *const attr_names[] = {"propagate", "parent",	 "level", "disabled",
					 "name",      "manager", "logger"};
static bool active; /* the wrappers make records */

/* The logger whose record is being made for LTTng alone, on this thread. */
static __thread PyObject *forced;
/* Calls of callHandlers on this thread: whether a level method made a record. */
static __thread unsigned long handled;

bool pyust_logger_reaches_root(PyObject *logger)
{
	PyObject *c = logger;
	bool reached;
	int depth;

	Py_INCREF(c);
	for (depth = 0; depth < 1000 && c != root; depth++) {
		PyObject *p = pyust_attrs_get(&attrs, c, A_PROPAGATE);
		int propagate = p ? PyObject_IsTrue(p) : -1;

		Py_XDECREF(p);
		Py_SETREF(c, propagate == 1 ? pyust_attrs_get(&attrs, c, A_PARENT) : NULL);
		if (!c || c == Py_None)
			break;
	}
	PyErr_Clear();
	reached = c == root;
	Py_XDECREF(c);
	return reached;
}

static long long_attr(PyObject *o, int a, long dflt)
{
	PyObject *v = pyust_attrs_get(&attrs, o, a);
	long r = v && PyLong_Check(v) ? PyLong_AsLong(v) : dflt;

	Py_XDECREF(v);
	if (PyErr_Occurred()) {
		PyErr_Clear();
		r = dflt;
	}
	return r;
}

/*
 * Whether lttngust would see a record of this level from this logger: the
 * logger is enabled, logging.disable() lets the level through, and so does
 * the effective level with the root's taken as NOTSET.
 */
static bool lttngust_sees(PyObject *logger, long level)
{
	PyObject *c, *v;
	int depth, disabled;

	v = pyust_attrs_get(&attrs, logger, A_DISABLED);
	disabled = v ? PyObject_IsTrue(v) : -1;
	Py_XDECREF(v);
	if (disabled != 0)
		goto no;
	v = pyust_attrs_get(&attrs, logger, A_MANAGER);
	if (!v)
		goto no;
	Py_SETREF(v, PyObject_GetAttrString(v, "disable"));
	if (!v || !PyLong_Check(v) || PyLong_AsLong(v) >= level) {
		Py_XDECREF(v);
		goto no;
	}
	Py_DECREF(v);
	c = logger;
	Py_INCREF(c);
	for (depth = 0; depth < 1000 && c != root && c != Py_None; depth++) {
		long own = long_attr(c, A_LEVEL, 0);

		if (own) {
			Py_DECREF(c);
			return level >= own;
		}
		Py_SETREF(c, pyust_attrs_get(&attrs, c, A_PARENT));
		if (!c)
			goto no;
	}
	Py_DECREF(c);
	return depth < 1000;
no:
	PyErr_Clear();
	return false;
}

static bool session_asks(PyObject *logger, long level)
{
	PyObject *name = pyust_attrs_get(&attrs, logger, A_NAME);
	Py_ssize_t len;
	const char *utf8 =
		name && PyUnicode_Check(name) ? PyUnicode_AsUTF8AndSize(name, &len) : NULL;
	bool asks;

	/* A name LTTng cannot hold (a surrogate, not a str) matches its globs only: ask. */
	asks = utf8 ? pyust_agent_wants(utf8, (size_t)len, (int)level) : true;
	PyErr_Clear();
	Py_XDECREF(name);
	return asks;
}

/* orig(self, *args, **kw), with no record of this thread made for LTTng alone. */
static PyObject *call_orig(struct method *m, PyObject *self, PyObject *const *args, Py_ssize_t n,
			   PyObject *kwnames)
{
	PyObject *r, *prev = forced;

	forced = NULL;
	r = pyust_call_self(m->orig, self, args, n, kwnames);
	forced = prev;
	return r;
}

/*
 * The level and message of a call of a level method, by position or by
 * keyword as logging's methods take them. Borrowed references, or NULL
 * when absent.
 */
struct call {
	PyObject *level, *msg;
	Py_ssize_t first;	     /* the first positional argument after msg */
	Py_ssize_t level_kw, msg_kw; /* their index in kwnames, or -1 */
};

static void level_and_msg(struct method *m, PyObject *const *args, Py_ssize_t n, PyObject *kwnames,
			  struct call *c)
{
	Py_ssize_t i, at = 0;
	PyObject **level = &c->level, **msg = &c->msg;

	*level = *msg = NULL;
	c->level_kw = c->msg_kw = -1;
	if (m->level == LEVEL_OF_ARG && at < n)
		*level = args[at++];
	if (at < n)
		*msg = args[at++];
	c->first = at;
	for (i = 0; kwnames && i < PyTuple_GET_SIZE(kwnames); i++) {
		PyObject *k = PyTuple_GET_ITEM(kwnames, i);

		if (!*msg && PyUnicode_CompareWithASCIIString(k, "msg") == 0) {
			*msg = args[n + i];
			c->msg_kw = i;
		} else if (m->level == LEVEL_OF_ARG && !*level &&
			   PyUnicode_CompareWithASCIIString(k, "level") == 0) {
			*level = args[n + i];
			c->level_kw = i;
		}
	}
}

/* make(self, level, msg, args, kwargs): the arguments after msg as a tuple, the rest as a dict. */
static PyObject *call_make(struct method *m, PyObject *self, PyObject *level, const struct call *c,
			   PyObject *const *args, Py_ssize_t n, PyObject *kwnames)
{
	PyObject *rest = PyTuple_New(n - c->first), *kw = PyDict_New(), *r = NULL, *prev;
	Py_ssize_t i;

	if (!rest || !kw)
		goto out;
	for (i = c->first; i < n; i++) {
		Py_INCREF(args[i]);
		PyTuple_SET_ITEM(rest, i - c->first, args[i]);
	}
	for (i = 0; kwnames && i < PyTuple_GET_SIZE(kwnames); i++)
		if (i != c->msg_kw && i != c->level_kw &&
		    PyDict_SetItem(kw, PyTuple_GET_ITEM(kwnames, i), args[n + i]) < 0)
			goto out;
	prev = forced;
	/* An adapter's record is made by its logger's log, which marks it. */
	forced = m->adapter ? NULL : self;
	r = PyObject_CallFunctionObjArgs(m->adapter ? make_adapted : make, self, level, c->msg,
					 rest, kw, NULL);
	forced = prev;
out:
	Py_XDECREF(rest);
	Py_XDECREF(kw);
	return r;
}

/*
 * Logging's own method runs first, as without pyust. Only when no record
 * reached callHandlers, and the logger's level (not a filter) refused it, is
 * the record made for the sessions that ask for it. An error while making
 * it is not the program's (it made no record): dropped, but for
 * KeyboardInterrupt and the like.
 */
static PyObject *level_method(int i, PyObject *self, PyObject *const *args, size_t nargsf,
			      PyObject *kwnames)
{
	struct method *m = &methods[i];
	Py_ssize_t n = PyVectorcall_NARGS(nargsf);
	unsigned long before = handled;
	PyObject *level = NULL, *logger = NULL, *r, *made;
	struct call c;
	long value;
	int enabled;

	r = call_orig(m, self, args, n, kwnames);
	if (!r || handled != before || !__atomic_load_n(&active, __ATOMIC_RELAXED) ||
	    !pyust_agent_enabled() || !pyust_log_wanted())
		return r;
	level_and_msg(m, args, n, kwnames, &c);
	/* Missing, or not an int: logging's own method said what it says. */
	if (!c.msg || (m->level == LEVEL_OF_ARG && (!c.level || !PyLong_Check(c.level))))
		return r;
	value = c.level ? PyLong_AsLong(c.level) : m->level;
	level = c.level ? (Py_INCREF(c.level), c.level) : PyLong_FromLong(value);
	if (!level || (value == -1 && PyErr_Occurred()))
		goto out;
	logger = m->adapter ? pyust_attrs_get(&attrs, self, A_LOGGER) : (Py_INCREF(self), self);
	/* The cheapest question first: most refused records are asked for by no session. */
	if (!logger || !session_asks(logger, value))
		goto out;
	made = PyObject_CallMethodObjArgs(self, is_enabled_for, level, NULL);
	enabled = made ? PyObject_IsTrue(made) : -1;
	Py_XDECREF(made);
	/* Enabled: a filter or the disabled flag refused it, as lttngust's would be. */
	if (enabled == 0 && lttngust_sees(logger, value) && pyust_logger_reaches_root(logger)) {
		made = call_make(m, self, level, &c, args, n, kwnames);
		Py_XDECREF(made);
	}
out:
	Py_XDECREF(logger);
	Py_XDECREF(level);
	if (PyErr_Occurred() && !PyErr_ExceptionMatches(PyExc_Exception)) {
		Py_DECREF(r);
		return NULL;
	}
	PyErr_Clear();
	return r;
}

bool pyust_loglevels_forced(PyObject *logger)
{
	handled++;
	if (!forced || forced != logger)
		return false;
	forced = NULL;
	return true;
}

static int make_shims(PyObject *logging)
{
	PyObject *fn = PyObject_GetAttrString(logging, "addLevelName");
	PyObject *code = fn ? PyObject_GetAttrString(fn, "__code__") : NULL;
	PyObject *file = code ? PyObject_GetAttrString(code, "co_filename") : NULL;
	PyObject *ns = file ? PyDict_New() : NULL, *compiled = NULL, *r = NULL;
	const char *path = file && PyUnicode_Check(file) ? PyUnicode_AsUTF8(file) : NULL;

	if (path && ns && PyDict_SetItemString(ns, "__builtins__", PyEval_GetBuiltins()) == 0)
		compiled = Py_CompileString(shim_source, path, Py_file_input);
	if (compiled)
		r = PyEval_EvalCode(compiled, ns, ns);
	if (r) {
		make = PyDict_GetItemString(ns, "make");
		make_adapted = PyDict_GetItemString(ns, "make_adapted");
		Py_XINCREF(make);
		Py_XINCREF(make_adapted);
	}
	Py_XDECREF(r);
	Py_XDECREF(compiled);
	Py_XDECREF(ns);
	Py_XDECREF(file);
	Py_XDECREF(code);
	Py_XDECREF(fn);
	return make && make_adapted ? 0 : -1;
}

static int init(PyObject *logging, PyObject *logger, PyObject *root_logger)
{
	size_t i;

	if (pyust_attrs_init(&attrs, attr_names, sizeof(attr_names) / sizeof(attr_names[0])) < 0)
		return -1;
	is_enabled_for = PyUnicode_InternFromString("isEnabledFor");
	adapter_cls = is_enabled_for ? PyObject_GetAttrString(logging, "LoggerAdapter") : NULL;
	if (!adapter_cls || make_shims(logging) < 0)
		return -1;
	for (i = 0; i < N_METHODS; i++) {
		methods[i].def = (PyMethodDef){
			methods[i].name, (PyCFunction)(void (*)(void))methods[i].fn,
			METH_FASTCALL | METH_KEYWORDS,
			"Logging's own method; records below the level are made for the LTTng "
			"sessions that ask for them."};
		methods[i].wrapper = PyDescr_NewMethod(&PyBaseObject_Type, &methods[i].def);
		if (!methods[i].wrapper)
			return -1;
	}
	logger_cls = logger;
	root = root_logger;
	Py_INCREF(logger_cls);
	Py_INCREF(root);
	return 0;
}

static void clear(void)
{
	size_t i;

	for (i = 0; i < N_METHODS; i++)
		Py_CLEAR(methods[i].wrapper);
	Py_CLEAR(logger_cls);
	Py_CLEAR(adapter_cls);
	Py_CLEAR(root);
	Py_CLEAR(make);
	Py_CLEAR(make_adapted);
	Py_CLEAR(is_enabled_for);
}

/* With the GIL: the level methods wrapped, while a session asks for records. */
int pyust_loglevels_attach(PyObject *logging, PyObject *logger, PyObject *root_logger)
{
	size_t i;

	if (!logger_cls && init(logging, logger, root_logger) < 0) {
		clear();
		return -1;
	}
	for (i = 0; i < N_METHODS; i++) {
		struct method *m = &methods[i];
		PyObject *cls = m->adapter ? adapter_cls : logger_cls;
		PyObject *cur;

		if (m->in_class)
			continue;
		cur = PyObject_GetAttrString(cls, m->name);
		if (!cur)
			return -1;
		if (cur != m->wrapper) {
			Py_XSETREF(m->orig, cur);
			if (PyObject_SetAttrString(cls, m->name, m->wrapper) < 0)
				return -1;
		} else {
			Py_DECREF(cur);
		}
		m->in_class = true;
	}
	__atomic_store_n(&active, true, __ATOMIC_RELAXED);
	return 0;
}

void pyust_loglevels_detach(void)
{
	size_t i;

	__atomic_store_n(&active, false, __ATOMIC_RELAXED);
	for (i = 0; logger_cls && i < N_METHODS; i++) {
		struct method *m = &methods[i];
		PyObject *cls = m->adapter ? adapter_cls : logger_cls;
		PyObject *cur;

		if (!m->in_class)
			continue;
		cur = PyObject_GetAttrString(cls, m->name);
		/* Wrapped again since by someone else: stay in their chain, passing through. */
		if (cur == m->wrapper && PyObject_SetAttrString(cls, m->name, m->orig) == 0)
			m->in_class = false;
		Py_XDECREF(cur);
	}
	PyErr_Clear();
}

void pyust_loglevels_forget(void)
{
	size_t i;

	active = false;
	for (i = 0; i < N_METHODS; i++) {
		methods[i].orig = methods[i].wrapper = NULL;
		methods[i].in_class = false;
	}
	logger_cls = adapter_cls = root = make = make_adapted = is_enabled_for = NULL;
	pyust_attrs_forget(&attrs);
}
