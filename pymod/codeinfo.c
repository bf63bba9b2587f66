/*
 * SPDX-License-Identifier: MIT
 *
 * Per-code-object cache of the event fields, so that the hot path neither
 * encodes names nor allocates. A table of its own rather than co_extra:
 * once pyust has requested an index, CPython sizes every code object's extra
 * array to all the indexes requested, and calls every registered free
 * function, with NULL, when such a code object dies; a free function that
 * cannot take that (test_code registers a ctypes callback) then crashes.
 *
 * The table is two-way set-associative, indexed by the code object's
 * address. An entry holds references to what it was made from (file name,
 * function name, line table), so an entry matches a code object only if
 * those are the very objects it has: a code object born at the address of a
 * dead one, with other names or lines, does not match. Entries are replaced
 * as others need their set; memory stays bounded. Under the GIL of the
 * interpreter whose hook calls it.
 */

#include "codeinfo.h"
#include "errors.h"
#include "pyust.h"

#include <string.h>

struct pyust_code pyust_code_table[1u << PYUST_CODE_SET_BITS][2];

/*
 * The interpreter ended (and freed what the entries held): forget them
 * without a reference count to drop.
 */
void pyust_code_forget(void)
{
	memset(pyust_code_table, 0, sizeof(pyust_code_table));
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

static void release(struct pyust_code *pc)
{
	Py_XDECREF(pc->file_src);
	Py_XDECREF(pc->name_src);
	Py_XDECREF(pc->lines_src);
	Py_XDECREF(pc->filename_obj);
	Py_XDECREF(pc->name_obj);
}

/* A new entry for co, first of its set; the set's least recent one goes. */
static struct pyust_code *fill(struct pyust_code *set, PyCodeObject *co)
{
	struct pyust_code pc = {0}, old;

	pc.filename_obj = utf8_of(co->co_filename, &pc.filename);
	pc.name_obj = utf8_of(co->co_name, &pc.name);
	if (!pc.filename_obj || !pc.name_obj) {
		release(&pc);
		return NULL;
	}
	pc.code = co;
	pc.firstlineno = co->co_firstlineno;
	pc.file_src = co->co_filename;
	pc.name_src = co->co_name;
	pc.lines_src = pyust_code_lines(co);
	Py_XINCREF(pc.file_src);
	Py_XINCREF(pc.name_src);
	Py_XINCREF(pc.lines_src);
	old = set[1];
	set[1] = set[0];
	set[0] = pc;
	/* Last: freeing what the old entry held must find the table consistent. */
	release(&old);
	return &set[0];
}

/* Called with the program's exception, if any, set: it is kept as it was. */
struct pyust_code *pyust_code_fill(struct pyust_code *set, PyCodeObject *co)
{
	struct pyust_err_state err;
	struct pyust_code *pc;

	pyust_err_save(&err);
	pc = fill(set, co);
	pyust_err_restore(&err);
	return pc;
}
