/*
 * SPDX-License-Identifier: MIT
 *
 * One logging.LogRecord to one lttng_python:event, with the values lttngust
 * writes: asctime as logging.Formatter('%(asctime)s') formats the record (with
 * the exception and stack text it appends), msg = record.getMessage(), thread
 * truncated to 32 bits. Unlike lttngust's Formatter, nothing is stored in the
 * record: other handlers would reuse a cached exc_text.
 */

#include "pyust.h"
#include "tp-lttng-python.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

static struct {
	PyObject *created, *msecs, *name, *funcName, *lineno, *levelno, *thread, *threadName;
	PyObject *exc_info, *exc_text, *stack_info, *getMessage, *formatException;
	PyObject *formatStack, *formatTime, *converter, *default_time_format;
	PyObject *default_msec_format, *msg, *args;
} s;

/* LogRecord.getMessage, done in C while a record's class still uses it. */
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
	if (I(created) || I(msecs) || I(name) || I(funcName) || I(lineno) || I(levelno) ||
	    I(thread) || I(threadName) || I(exc_info) || I(exc_text) || I(stack_info) ||
	    I(getMessage) || I(formatException) || I(formatStack) || I(formatTime) ||
	    I(converter) || I(default_time_format) || I(default_msec_format) || I(msg) || I(args))
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
}

static bool equal_str(PyObject *o, const char *want)
{
	const char *u = o && PyUnicode_Check(o) ? PyUnicode_AsUTF8(o) : NULL;

	return u && strcmp(u, want) == 0;
}

/*
 * Whether Formatter.formatTime still does what format_time() does: the
 * default converter, formats and method. Checked again only when the class
 * changed (its version tag moves then).
 */
static bool time_is_standard(void)
{
	PyTypeObject *cls = Py_TYPE(formatter);
	PyObject *conv, *tf, *mf, *ft;

	if (cls->tp_version_tag && cls->tp_version_tag == checked_tag)
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
	checked_tag = cls->tp_version_tag;
	return standard_time;
}

/*
 * "%Y-%m-%d %H:%M:%S,mmm" of the record, as Formatter.formatTime: into buf,
 * or as a str in *text when Formatter's time formatting was changed.
 */
static int format_time(PyObject *record, char buf[32], PyObject **text)
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
	o = PyObject_GetAttr(record, s.created);
	created = o ? PyFloat_AsDouble(o) : -1;
	Py_XDECREF(o);
	o = created == -1 && PyErr_Occurred() ? NULL : PyObject_GetAttr(record, s.msecs);
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
	*text = PyObject_CallMethodObjArgs(formatter, s.formatTime, record, NULL);
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
static int append_exc(PyObject **str, const char *buf, PyObject *record)
{
	PyObject *info = PyObject_GetAttr(record, s.exc_info), *text = NULL, *stack = NULL;
	int ret = -1, t;

	text = info ? PyObject_GetAttr(record, s.exc_text) : NULL;
	if ((t = truth(info)) < 0)
		goto out;
	if (t && (t = truth(text)) == 0)
		Py_SETREF(text,
			  PyObject_CallMethodObjArgs(formatter, s.formatException, info, NULL));
	if (t < 0 || (t = truth(text)) < 0)
		goto out;
	if (t && (!PyUnicode_Check(text) || append_line(str, buf, text) < 0))
		goto out;
	stack = PyObject_GetAttr(record, s.stack_info);
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

static int attr_text(PyObject *record, PyObject *name, struct text *t)
{
	return text_of(PyObject_GetAttr(record, name), t);
}

/* The low 32 bits of an integer attribute; None (logThreads off) is 0. */
static int attr_u32(PyObject *record, PyObject *name, unsigned int *v)
{
	PyObject *o = PyObject_GetAttr(record, name);

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

/* Whether the record's class still has LogRecord's getMessage (its version tag moves if not). */
static bool message_is_standard(PyTypeObject *type)
{
	PyObject *m;

	if (type == checked_record_type && type->tp_version_tag &&
	    type->tp_version_tag == checked_record_tag)
		return standard_message;
	m = PyObject_GetAttr((PyObject *)type, s.getMessage);
	PyErr_Clear();
	standard_message = m == std_get_message;
	Py_XDECREF(m);
	checked_record_type = type;
	checked_record_tag = type->tp_version_tag;
	return standard_message;
}

/* record.getMessage(): str(msg) % args when args, in C for LogRecord's own method. */
static PyObject *get_message(PyObject *record)
{
	PyObject *msg, *str, *args, *r;
	int t;

	if (!message_is_standard(Py_TYPE(record)))
		return PyObject_CallMethodObjArgs(record, s.getMessage, NULL);
	msg = PyObject_GetAttr(record, s.msg);
	if (!msg)
		return NULL;
	str = PyObject_Str(msg);
	Py_DECREF(msg);
	args = str ? PyObject_GetAttr(record, s.args) : NULL;
	if (!args) {
		Py_XDECREF(str);
		return NULL;
	}
	t = PyObject_IsTrue(args);
	r = t > 0 ? PyNumber_Remainder(str, args) : t == 0 ? (Py_INCREF(str), str) : NULL;
	Py_DECREF(args);
	Py_DECREF(str);
	return r;
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
	if (format_time(record, buf, &when) < 0 || append_exc(&when, buf, record) < 0) {
		Py_XDECREF(when);
		return -1;
	}
	if (when) {
		if (text_of(when, &asctime) < 0)
			return -1;
	} else {
		asctime.utf8 = buf;
	}
	if (text_of(get_message(record), &msg) < 0 || attr_text(record, s.name, &name) < 0 ||
	    attr_text(record, s.funcName, &func) < 0 || attr_u32(record, s.lineno, &lineno) < 0 ||
	    attr_u32(record, s.levelno, &level) < 0 || attr_u32(record, s.thread, &thread) < 0 ||
	    attr_text(record, s.threadName, &tname) < 0)
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
