/*
 * SPDX-License-Identifier: MIT
 *
 * Per-code-object cache of the event fields, kept in co_extra (like
 * _lsprof keeps its per-code state), so that the hot path neither encodes
 * names nor allocates.
 */

#include "frame.h"
#include "pyust.h"

static Py_ssize_t extra_index = -1;

static void code_free(void *p)
{
	struct pyust_code *pc = p;

	if (!pc)
		return;
	Py_XDECREF(pc->filename_obj);
	Py_XDECREF(pc->name_obj);
	PyMem_Free(pc);
}

int pyust_code_init(void)
{
	if (extra_index >= 0)
		return 0;
	extra_index = pyust_request_code_extra(code_free);
	return extra_index < 0 ? -1 : 0;
}

/* The index belongs to the interpreter: a new one asks again. */
void pyust_code_forget(void)
{
	extra_index = -1;
}

/*
 * UTF-8 of a str; characters UTF-8 cannot encode (lone surrogates) are
 * replaced, so that a name is never dropped. Returns a new reference to the
 * object that owns *utf8.
 */
static PyObject *utf8_of(PyObject *s, const char **utf8)
{
	PyObject *b;

	if (PyUnicode_Check(s)) {
		*utf8 = PyUnicode_AsUTF8(s);
		if (*utf8) {
			Py_INCREF(s);
			return s;
		}
		PyErr_Clear();
		b = PyUnicode_AsEncodedString(s, "utf-8", "replace");
		if (b) {
			*utf8 = PyBytes_AS_STRING(b);
			return b;
		}
		PyErr_Clear();
	}
	b = PyBytes_FromString("?");
	if (b)
		*utf8 = PyBytes_AS_STRING(b);
	return b;
}

static struct pyust_code *code_new(PyCodeObject *co)
{
	struct pyust_code *pc = PyMem_Calloc(1, sizeof(*pc));

	if (!pc)
		return NULL;
	pc->firstlineno = co->co_firstlineno;
	pc->filename_obj = utf8_of(co->co_filename, &pc->filename);
	pc->name_obj = utf8_of(co->co_name, &pc->name);
	if (!pc->filename_obj || !pc->name_obj ||
	    pyust_code_set_extra((PyObject *)co, extra_index, pc) < 0) {
		code_free(pc);
		return NULL;
	}
	return pc;
}

/* Called with the program's exception, if any, set: it is kept as it was. */
static struct pyust_code *code_new_keep_error(PyCodeObject *co)
{
	struct pyust_code *pc;
#if PY_VERSION_HEX >= 0x030C0000
	PyObject *exc = PyErr_GetRaisedException();

	pc = code_new(co);
	PyErr_Clear();
	PyErr_SetRaisedException(exc);
#else
	PyObject *type, *value, *tb;

	PyErr_Fetch(&type, &value, &tb);
	pc = code_new(co);
	PyErr_Clear();
	PyErr_Restore(type, value, tb);
#endif
	return pc;
}

struct pyust_code *pyust_code_get(PyCodeObject *co)
{
	struct pyust_code *pc = NULL;

	if (pyust_code_get_extra((PyObject *)co, extra_index, (void **)&pc) == 0 && pc)
		return pc;
	/* First execution of this code object. */
	return code_new_keep_error(co);
}
