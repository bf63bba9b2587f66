/*
 * SPDX-License-Identifier: MIT
 *
 * Where instances keep their attributes and how a type says it changed, for
 * each supported version: what attrs.c reads without calling getattr.
 * check-layouts.c compares the mirrored structs with the version's own.
 */

#ifndef PYUST_CPYTHON_INSTANCE_H
#define PYUST_CPYTHON_INSTANCE_H

#include <Python.h>
#include <stdint.h>

#include "versions.h"

/*
 * A type's version tag, 0 when it changed since one was given. Tags are never
 * reused. 3.10+ zero the tag on a change; 3.9 only clears the flag and leaves
 * the old tag in place (3.13 no longer sets the flag).
 */
static inline unsigned int pyust_type_version(PyTypeObject *tp)
{
#if PY_VERSION_HEX >= 0x030A0000
	return tp->tp_version_tag;
#else
	return PyType_HasFeature(tp, Py_TPFLAGS_VALID_VERSION_TAG) ? tp->tp_version_tag : 0;
#endif
}

/*
 * 3.11+ keep an instance's attributes in a values array indexed like its
 * type's shared keys, until its __dict__ takes them over (3.11, 3.12) or they
 * stop being valid (3.13+). Reading them there is what getattr does once it has
 * found the index; attrs.c finds it once for the few attributes it reads from
 * many instances. The keys only ever gain entries.
 */
#if PY_VERSION_HEX >= 0x030B0000 && !defined(Py_GIL_DISABLED)
#define PYUST_INLINE_VALUES 1

/* struct _dictkeysobject, the same in 3.11 to 3.15 (GIL builds) */
struct pyust_dictkeys {
	Py_ssize_t dk_refcnt;
	uint8_t dk_log2_size;
	uint8_t dk_log2_index_bytes;
	uint8_t dk_kind;
	uint32_t dk_version;
	Py_ssize_t dk_usable;
	Py_ssize_t dk_nentries;
	char dk_indices[];
};

#define PYUST_DICT_KEYS_SPLIT 2

/* PyDictUnicodeEntry */
struct pyust_keyentry {
	PyObject *me_key;
	PyObject *me_value;
};

/* The type's shared keys, when its instances can have inline values. */
static inline struct pyust_dictkeys *pyust_shared_keys(PyTypeObject *tp)
{
	struct pyust_dictkeys *keys;

#if PY_VERSION_HEX >= 0x030D0000
	if (!(tp->tp_flags & Py_TPFLAGS_INLINE_VALUES) || tp->tp_basicsize != sizeof(PyObject))
		return NULL;
#endif
	if (!(tp->tp_flags & Py_TPFLAGS_HEAPTYPE) || !(tp->tp_flags & Py_TPFLAGS_MANAGED_DICT))
		return NULL;
	keys = (struct pyust_dictkeys *)((PyHeapTypeObject *)tp)->ht_cached_keys;
	return keys && keys->dk_kind == PYUST_DICT_KEYS_SPLIT ? keys : NULL;
}

static inline struct pyust_keyentry *pyust_key_entries(struct pyust_dictkeys *keys)
{
	return (struct pyust_keyentry *)(keys->dk_indices +
					 ((size_t)1 << keys->dk_log2_index_bytes));
}

/* The index of name (compared by identity: interned) in the keys, or -1. */
static inline Py_ssize_t pyust_shared_key_index(struct pyust_dictkeys *keys, PyObject *name)
{
	struct pyust_keyentry *e = pyust_key_entries(keys);
	Py_ssize_t i;

	for (i = 0; i < keys->dk_nentries; i++)
		if (e[i].me_key == name)
			return i;
	return -1;
}

#if PY_VERSION_HEX >= 0x030D0000
/* struct _dictvalues, right after the object's header (3.13+) */
struct pyust_values {
	uint8_t capacity;
	uint8_t size;
	uint8_t embedded;
	uint8_t valid;
	PyObject *values[1];
};
#endif

/* The values of an instance of a type with shared keys, NULL when not inline. */
static inline PyObject **pyust_inline_values(PyObject *obj)
{
#if PY_VERSION_HEX >= 0x030D0000
	struct pyust_values *v = (void *)((char *)obj + sizeof(PyObject));

	return v->valid ? v->values : NULL;
#elif PY_VERSION_HEX >= 0x030C0000
	uintptr_t dorv = ((uintptr_t *)obj)[-3]; /* tagged: values - 1, or the dict */

	return dorv & 1 ? (PyObject **)(dorv + 1) : NULL;
#else
	return ((PyObject ***)obj)[-4];
#endif
}
#endif

#endif /* PYUST_CPYTHON_INSTANCE_H */
