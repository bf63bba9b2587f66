/*
 * SPDX-License-Identifier: MIT
 *
 * One logging.LogRecord to one lttng_python:event, with the values lttngust
 * writes: asctime as logging.Formatter('%(asctime)s') formats the record (with
 * the exception and stack text it appends), msg = record.getMessage(), thread
 * truncated to 32 bits. Unlike lttngust's Formatter, nothing is stored in the
 * record: other handlers would reuse a cached exc_text.
 */

#include "attrs.h"
#include "instance.h"
#include "pyust.h"
#include "tp-lttng-python.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

static struct {
	PyObject *getMessage, *formatException, *formatStack, *formatTime, *converter;
	PyObject *default_time_format, *default_msec_format;
} s;

/* The record's attributes read here. */
enum attr {
	A_CREATED,
	A_MSECS,
	A_NAME,
	A_FUNCNAME,
	A_LINENO,
	A_LEVELNO,
	A_THREAD,
	A_THREADNAME,
	A_EXC_INFO,
	A_EXC_TEXT,
	A_STACK_INFO,
	A_MSG,
	A_ARGS,
	N_ATTRS
};

static const char *const attr_names[N_ATTRS] = {
	"created",    "msecs",	  "name",     "funcName",   "lineno", "levelno", "thread",
	"threadName", "exc_info", "exc_text", "stack_info", "msg",    "args",
};
static struct pyust_attrs attrs;

/*
 * Whether the record's class has LogRecord's own getMessage (then done in
 * C), checked again when its version tag moves.
 */
static PyObject *std_get_message;
static PyTypeObject *checked_record_type;
static unsigned int checked_record_tag;
static bool standard_message;

/* logging.Formatter('%(asctime)s'), for the rare parts done in Python. */
static PyObject *formatter;
static PyObject *py_localtime; /* time.localtime */
/* logging.Formatter's version tag when its time formatting was last checked. */
static unsigned int checked_tag;
static bool standard_time;

static int intern(PyObject **p, const char *name)
{
	*p = PyUnicode_InternFromString(name);
	return *p ? 0 : -1;
}

int pyust_logemit_init(PyObject *logging)
{
	PyObject *cls, *time_mod;

	if (formatter)
		return 0;
#define I(f) intern(&s.f, #f)
	if (I(getMessage) || I(formatException) || I(formatStack) || I(formatTime) ||
	    I(converter) || I(default_time_format) || I(default_msec_format) ||
	    pyust_attrs_init(&attrs, attr_names, N_ATTRS) < 0)
		return -1;
#undef I
	time_mod = PyImport_ImportModule("time");
	if (!time_mod)
		return -1;
	py_localtime = PyObject_GetAttrString(time_mod, "localtime");
	Py_DECREF(time_mod);
	cls = PyObject_GetAttrString(logging, "LogRecord");
	std_get_message = cls ? PyObject_GetAttr(cls, s.getMessage) : NULL;
	Py_XDECREF(cls);
	cls = PyObject_GetAttrString(logging, "Formatter");
	if (!cls || !py_localtime || !std_get_message) {
		Py_XDECREF(cls);
		return -1;
	}
	formatter = PyObject_CallFunction(cls, "s", "%(asctime)s");
	Py_DECREF(cls);
	return formatter ? 0 : -1;
}

void pyust_logemit_forget(void)
{
	formatter = NULL;
	py_localtime = NULL;
	std_get_message = NULL;
	checked_record_type = NULL;
	checked_tag = 0;
	memset(&s, 0, sizeof(s));
	pyust_attrs_forget(&attrs);
}

static bool equal_str(PyObject *o, const char *want)
{
	const char *u = o && PyUnicode_Check(o) ? PyUnicode_AsUTF8(o) : NULL;

	return u && strcmp(u, want) == 0;
}

static void check_record_type(PyTypeObject *type)
{
	unsigned int tag = pyust_type_version(type);
	PyObject *m;

	if (type == checked_record_type && tag && tag == checked_record_tag)
		return;
	m = PyObject_GetAttr((PyObject *)type, s.getMessage);
	PyErr_Clear();
	standard_message = m == std_get_message;
	Py_XDECREF(m);
	checked_record_type = type;
	checked_record_tag = pyust_type_version(type);
}

/* record.<attribute a> */
static PyObject *get(PyObject *record, enum attr a)
{
	return pyust_attrs_get(&attrs, record, a);
}

/*
 * Whether Formatter.formatTime still does what format_time() does: the
 * default converter, formats and method. Checked again only when the class
 * changed (its version tag moves then).
 */
static bool time_is_standard(void)
{
	PyTypeObject *cls = Py_TYPE(formatter);
	unsigned int tag = pyust_type_version(cls);
	PyObject *conv, *tf, *mf, *ft;

	if (tag && tag == checked_tag)
		return standard_time;
	conv = PyObject_GetAttr((PyObject *)cls, s.converter);
	tf = PyObject_GetAttr((PyObject *)cls, s.default_time_format);
	mf = PyObject_GetAttr((PyObject *)cls, s.default_msec_format);
	ft = PyObject_GetAttr((PyObject *)cls, s.formatTime);
	standard_time = conv == py_localtime && equal_str(tf, "%Y-%m-%d %H:%M:%S") &&
			equal_str(mf, "%s,%03d") && ft && PyFunction_Check(ft) &&
			equal_str(((PyFunctionObject *)ft)->func_module, "logging");
	Py_XDECREF(conv);
	Py_XDECREF(tf);
	Py_XDECREF(mf);
	Py_XDECREF(ft);
	PyErr_Clear();
	checked_tag = pyust_type_version(cls);
	return standard_time;
}

/*
 * "%Y-%m-%d %H:%M:%S,mmm" of the record, as Formatter.formatTime: into buf,
 * or as a str in *text when Formatter's time formatting was changed.
 */
static int format_time(PyObject *r, char buf[32], PyObject **text)
{
	static time_t last_sec = (time_t)-1;
	static long last_tz;
	static char last[24];
	PyObject *o;
	double created, msecs;
	time_t sec;
	struct tm tm;
	int ms;

	*text = NULL;
	if (!time_is_standard())
		goto python;
	o = get(r, A_CREATED);
	created = o ? PyFloat_AsDouble(o) : -1;
	Py_XDECREF(o);
	o = created == -1 && PyErr_Occurred() ? NULL : get(r, A_MSECS);
	msecs = o ? PyFloat_AsDouble(o) : -1;
	Py_XDECREF(o);
	if (msecs == -1 && PyErr_Occurred())
		return -1;
	/* Odd values (set by the program) take Python's path and its "%03d". */
	if (!isfinite(created) || fabs(created) > 1e15 || !(msecs >= 0 && msecs < 1000))
		goto python;
	/* time.localtime() rounds the float down. */
	sec = (time_t)floor(created);
	if (sec != last_sec || timezone != last_tz) {
		if (!localtime_r(&sec, &tm) ||
		    strftime(last, sizeof(last), "%Y-%m-%d %H:%M:%S", &tm) != 19)
			goto python;
		last_sec = sec;
		last_tz = timezone;
	}
	ms = (int)msecs;
	memcpy(buf, last, 19);
	buf[19] = ',';
	buf[20] = (char)('0' + ms / 100);
	buf[21] = (char)('0' + ms / 10 % 10);
	buf[22] = (char)('0' + ms % 10);
	buf[23] = '\0';
	return 0;
python:
	*text = PyObject_CallMethodObjArgs(formatter, s.formatTime, r, NULL);
	return *text ? 0 : -1;
}

/*
 * Appends "\n" (unless already there) and text to *str, as Formatter.format;
 * a NULL *str is the time text in buf.
 */
static int append_line(PyObject **str, const char *buf, PyObject *text)
{
	Py_ssize_t n;
	PyObject *joined;

	if (!*str && !(*str = PyUnicode_FromString(buf)))
		return -1;
	n = PyUnicode_GET_LENGTH(*str);
	if (n == 0 || PyUnicode_READ_CHAR(*str, n - 1) != '\n') {
		joined = PyUnicode_FromFormat("%U\n", *str);
		if (!joined)
			return -1;
		Py_SETREF(*str, joined);
	}
	joined = PyUnicode_Concat(*str, text);
	if (!joined)
		return -1;
	Py_SETREF(*str, joined);
	return 0;
}

static int truth(PyObject *o)
{
	return o ? PyObject_IsTrue(o) : -1;
}

/* Appends to *str what Formatter.format appends: exception, then stack text. */
static int append_exc(PyObject **str, const char *buf, PyObject *r)
{
	PyObject *info = get(r, A_EXC_INFO), *text = NULL, *stack = NULL;
	int ret = -1, t;

	text = info ? get(r, A_EXC_TEXT) : NULL;
	if ((t = truth(info)) < 0)
		goto out;
	if (t && (t = truth(text)) == 0)
		Py_SETREF(text,
			  PyObject_CallMethodObjArgs(formatter, s.formatException, info, NULL));
	if (t < 0 || (t = truth(text)) < 0)
		goto out;
	if (t && (!PyUnicode_Check(text) || append_line(str, buf, text) < 0))
		goto out;
	stack = get(r, A_STACK_INFO);
	if ((t = truth(stack)) < 0)
		goto out;
	if (t) {
		PyObject *st = PyObject_CallMethodObjArgs(formatter, s.formatStack, stack, NULL);

		t = st && PyUnicode_Check(st) ? append_line(str, buf, st) : -1;
		Py_XDECREF(st);
		if (t < 0)
			goto out;
	}
	ret = 0;
out:
	if (ret < 0 && !PyErr_Occurred())
		PyErr_SetString(PyExc_TypeError, "exc_text or stack text is not a str");
	Py_XDECREF(stack);
	Py_XDECREF(text);
	Py_XDECREF(info);
	return ret;
}

/* A field's text, with what is not UTF-8 (lone surrogates) replaced by '?'. */
struct text {
	PyObject *obj; /* owns the bytes below */
	const char *utf8;
};

static int text_of(PyObject *o, struct text *t)
{
	PyObject *str;

	if (!o)
		return -1;
	str = PyUnicode_Check(o) ? (Py_INCREF(o), o) : PyObject_Str(o);
	Py_DECREF(o);
	if (!str)
		return -1;
	t->utf8 = PyUnicode_AsUTF8(str);
	if (t->utf8) {
		t->obj = str;
		return 0;
	}
	PyErr_Clear();
	t->obj = PyUnicode_AsEncodedString(str, "utf-8", "replace");
	Py_DECREF(str);
	if (!t->obj)
		return -1;
	t->utf8 = PyBytes_AS_STRING(t->obj);
	return 0;
}

static int attr_text(PyObject *r, enum attr name, struct text *t)
{
	return text_of(get(r, name), t);
}

/* The low 32 bits of an integer attribute; None (logThreads off) is 0. */
static int attr_u32(PyObject *r, enum attr name, unsigned int *v)
{
	PyObject *o = get(r, name);

	if (!o)
		return -1;
	*v = 0;
	if (PyLong_Check(o))
		*v = (unsigned int)PyLong_AsUnsignedLongLongMask(o);
	else if (o != Py_None)
		*v = (unsigned int)PyLong_AsUnsignedLongLongMask(o);
	Py_DECREF(o);
	return PyErr_Occurred() ? -1 : 0;
}

bool pyust_logemit_enabled(void)
{
	return lttng_ust_tracepoint_enabled(lttng_python, event);
}

/* record.getMessage(): str(msg) % args when args, in C for LogRecord's own method. */
static PyObject *get_message(PyObject *r)
{
	PyObject *msg, *str, *args, *m;
	int t;

	if (!standard_message)
		return PyObject_CallMethodObjArgs(r, s.getMessage, NULL);
	msg = get(r, A_MSG);
	if (!msg)
		return NULL;
	str = PyObject_Str(msg);
	Py_DECREF(msg);
	args = str ? get(r, A_ARGS) : NULL;
	if (!args) {
		Py_XDECREF(str);
		return NULL;
	}
	t = PyObject_IsTrue(args);
	if (t > 0 && PyUnicode_CheckExact(str) && !PyUnicode_Check(args))
		m = PyUnicode_Format(str, args); /* what str % args comes to */
	else
		m = t > 0 ? PyNumber_Remainder(str, args) : t == 0 ? (Py_INCREF(str), str) : NULL;
	Py_DECREF(args);
	Py_DECREF(str);
	return m;
}

int pyust_log_emit(PyObject *record)
{
	struct text asctime = {0}, msg = {0}, name = {0}, func = {0}, tname = {0};
	unsigned int lineno, level, thread;
	PyObject *when;
	char buf[32];
	int ret = -1;

	if (!lttng_ust_tracepoint_enabled(lttng_python, event) || !formatter)
		return 0;
	check_record_type(Py_TYPE(record));
	if (format_time(record, buf, &when) < 0 || append_exc(&when, buf, record) < 0) {
		Py_XDECREF(when);
		goto out;
	}
	if (!when)
		asctime.utf8 = buf;
	else if (text_of(when, &asctime) < 0) /* takes when */
		goto out;
	if (text_of(get_message(record), &msg) < 0 || attr_text(record, A_NAME, &name) < 0 ||
	    attr_text(record, A_FUNCNAME, &func) < 0 || attr_u32(record, A_LINENO, &lineno) < 0 ||
	    attr_u32(record, A_LEVELNO, &level) < 0 || attr_u32(record, A_THREAD, &thread) < 0 ||
	    attr_text(record, A_THREADNAME, &tname) < 0)
		goto out;
	lttng_ust_tracepoint(lttng_python, event, asctime.utf8, msg.utf8, name.utf8, func.utf8,
			     lineno, level, thread, tname.utf8);
	ret = 0;
out:
	Py_XDECREF(asctime.obj);
	Py_XDECREF(msg.obj);
	Py_XDECREF(name.obj);
	Py_XDECREF(func.obj);
	Py_XDECREF(tname.obj);
	return ret;
}
