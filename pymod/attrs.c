/*
 * SPDX-License-Identifier: MIT
 *
 * A few attributes of each of many instances of one class (the 13 of a
 * LogRecord the handler records, a Logger's parent and propagate), read for
 * less than getattr costs and giving what getattr gives. When the class
 * defines none of the names and looks attributes up generically, an
 * attribute is the instance's own: read from its inline values on 3.11+ at
 * an index found once, from its __dict__ before. Anything else is getattr.
 */

#include "attrs.h"

#include <string.h>

int pyust_attrs_init(struct pyust_attrs *a, const char *const *names, int n)
{
	int i;

	if (a->n)
		return 0;
	if (n > PYUST_ATTRS_MAX)
		return -1;
	for (i = 0; i < n; i++)
		if (!(a->names[i] = PyUnicode_InternFromString(names[i])))
			return -1;
	a->n = n;
	return 0;
}

void pyust_attrs_forget(struct pyust_attrs *a)
{
	memset(a, 0, sizeof(*a));
}

/* Where the names are in the class's shared keys, found again when they grew. */
static void find_keys(struct pyust_attrs *a, PyTypeObject *tp)
{
#ifdef PYUST_INLINE_VALUES
	struct pyust_dictkeys *keys = a->own ? pyust_shared_keys(tp) : NULL;
	int i;

	if (keys == a->keys && (!keys || keys->dk_nentries == a->nentries))
		return;
	a->keys = keys;
	a->nentries = keys ? keys->dk_nentries : 0;
	for (i = 0; i < a->n; i++)
		a->index[i] = keys ? pyust_shared_key_index(keys, a->names[i]) : -1;
#else
	(void)a;
	(void)tp;
#endif
}

/*
 * The class of obj, checked again when it is not the last one checked or was
 * changed since (its version tag moved).
 */
static void check_class(struct pyust_attrs *a, PyTypeObject *tp)
{
	unsigned int tag = pyust_type_version(tp);
	int i;

	if (tp != a->type || !tag || tag != a->tag) {
		a->own = tp->tp_getattro == PyObject_GenericGetAttr;
		for (i = 0; a->own && i < a->n; i++)
			a->own = !_PyType_Lookup(tp, a->names[i]);
		a->type = tp;
		a->tag = pyust_type_version(tp); /* the lookups may have given one */
#ifdef PYUST_INLINE_VALUES
		a->keys = NULL;
		a->nentries = -1;
#endif
	}
	find_keys(a, tp);
}

/* obj's own attribute i, borrowed; NULL when not there (or the dict lookup failed). */
static PyObject *own_value(struct pyust_attrs *a, PyObject *obj, int i)
{
#ifdef PYUST_INLINE_VALUES
	struct pyust_dictkeys *keys = a->keys;
	Py_ssize_t ix = a->index[i];
	PyObject **values;

	if (!keys || ix < 0 || ix >= keys->dk_nentries ||
	    pyust_key_entries(keys)[ix].me_key != a->names[i])
		return NULL;
	values = pyust_inline_values(obj);
	return values ? values[ix] : NULL;
#else
	Py_ssize_t off = Py_TYPE(obj)->tp_dictoffset;
	PyObject **dictp = off > 0 ? (PyObject **)((char *)obj + off) : _PyObject_GetDictPtr(obj);

	return dictp && *dictp ? PyDict_GetItemWithError(*dictp, a->names[i]) : NULL;
#endif
}

PyObject *pyust_attrs_get_slow(struct pyust_attrs *a, PyObject *obj, int i)
{
	PyObject *v = NULL;

	check_class(a, Py_TYPE(obj));
	if (a->own)
		v = own_value(a, obj, i);
	if (v) {
		Py_INCREF(v);
		return v;
	}
	if (PyErr_Occurred())
		return NULL;
	return PyObject_GetAttr(obj, a->names[i]); /* and its AttributeError */
}
