/*
 * SPDX-License-Identifier: MIT
 *
 * Reading a fixed set of attributes of instances for less than getattr (attrs.c).
 */

#ifndef PYUST_ATTRS_H
#define PYUST_ATTRS_H

#include "instance.h"

#include <Python.h>
#include <stdbool.h>

#define PYUST_ATTRS_MAX 16

struct pyust_attrs {
	int n;
	PyObject *names[PYUST_ATTRS_MAX]; /* interned */
	/* The class last checked: compared only (version tags are never reused). */
	PyTypeObject *type;
	unsigned int tag;
	bool own; /* generic getattr, and the class defines none of the names */
	/* When own, the class's shared keys (3.11+), and how many entries they had. */
	struct pyust_dictkeys *keys;
	Py_ssize_t nentries;
	Py_ssize_t index[PYUST_ATTRS_MAX];
};

int pyust_attrs_init(struct pyust_attrs *a, const char *const *names, int n);
PyObject *pyust_attrs_get_slow(struct pyust_attrs *a, PyObject *obj, int i);
void pyust_attrs_forget(struct pyust_attrs *a);

/*
 * obj.<names[i]>, a new reference, or NULL with getattr's exception. Inline:
 * the read from the values of an instance of the class last checked, when
 * nothing changed since. Checked at each read: code run since (a __str__ of
 * an argument) may have changed obj's class, the class, or moved the values.
 */
static inline PyObject *pyust_attrs_get(struct pyust_attrs *a, PyObject *obj, int i)
{
#ifdef PYUST_INLINE_VALUES
	PyTypeObject *tp = Py_TYPE(obj);
	struct pyust_dictkeys *keys = a->keys;
	Py_ssize_t ix = a->index[i];
	PyObject **values, *v;

	if (keys && tp == a->type && a->tag && pyust_type_version(tp) == a->tag &&
	    (void *)((PyHeapTypeObject *)tp)->ht_cached_keys == (void *)keys && ix >= 0 &&
	    ix < keys->dk_nentries && pyust_key_entries(keys)[ix].me_key == a->names[i] &&
	    (values = pyust_inline_values(obj)) && (v = values[ix])) {
		Py_INCREF(v);
		return v;
	}
#endif
	return pyust_attrs_get_slow(a, obj, i);
}

#endif /* PYUST_ATTRS_H */
