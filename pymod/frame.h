/*
 * SPDX-License-Identifier: MIT
 *
 * Everything pyust knows about CPython's internals (frames, code objects,
 * where instances keep their attributes), for each supported version.
 * Supporting a new CPython should touch this file only.
 *
 * 3.9, 3.10: the hook gets a PyFrameObject, alive until the caller drops it.
 * 3.11+: it gets a _PyInterpreterFrame, an internal struct whose first fields
 * are mirrored here. On 3.12+ the evaluator pops a thread-owned frame before
 * the hook regains control: only its instruction pointer is read after the
 * call, and only where the pop leaves it in place (pyust_frame_outlives_eval);
 * a generator's frame lives inside the generator, which its caller holds.
 */

#ifndef PYUST_FRAME_H
#define PYUST_FRAME_H

#include <Python.h>
#include <frameobject.h>
#include <stdbool.h>
#include <stdint.h>

#if PY_VERSION_HEX < 0x03090000 || PY_VERSION_HEX >= 0x030E0000
#error "pyust supports CPython 3.9 to 3.13"
#endif

/* The object a code object's line numbers come from. */
static inline PyObject *pyust_code_lines(PyCodeObject *co)
{
#if PY_VERSION_HEX >= 0x030A0000
	return co->co_linetable;
#else
	return co->co_lnotab;
#endif
}

/* 3.12+ budgets C recursion separately (PyThreadState.c_recursion_remaining). */
#if PY_VERSION_HEX >= 0x030D0000
#define PYUST_C_RECURSION_LIMIT Py_C_RECURSION_LIMIT
#elif PY_VERSION_HEX >= 0x030C0000
#define PYUST_C_RECURSION_LIMIT C_RECURSION_LIMIT
#endif
/* Units a Python call costs when it goes through the hook instead of being inlined. */
#define PYUST_C_UNITS_PER_CALL 2

#define PYUST_CO_GEN_FLAGS (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR)

#if PY_VERSION_HEX >= 0x030B0000

/* enum _frameowner, the same values in 3.11 to 3.13 */
#define PYUST_OWNED_BY_THREAD 0
#define PYUST_OWNED_BY_GENERATOR 1

/* A 16-bit code unit (_Py_CODEUNIT, internal in 3.13). */
typedef uint16_t pyust_codeunit;

struct pyust_iframe {
#if PY_VERSION_HEX >= 0x030D0000
	PyObject *f_executable;
	struct pyust_iframe *previous;
	PyObject *f_funcobj;
	PyObject *f_globals;
	PyObject *f_builtins;
	PyObject *f_locals;
	PyFrameObject *frame_obj;
	pyust_codeunit *instr_ptr;
	int stacktop;
	uint16_t return_offset;
	char owner;
#elif PY_VERSION_HEX >= 0x030C0000
	PyCodeObject *f_code;
	struct pyust_iframe *previous;
	PyObject *f_funcobj;
	PyObject *f_globals;
	PyObject *f_builtins;
	PyObject *f_locals;
	PyFrameObject *frame_obj;
	pyust_codeunit *prev_instr;
	int stacktop;
	uint16_t return_offset;
	char owner;
#else
	PyFunctionObject *f_func;
	PyObject *f_globals;
	PyObject *f_builtins;
	PyObject *f_locals;
	PyCodeObject *f_code;
	PyFrameObject *frame_obj;
	struct pyust_iframe *previous;
	pyust_codeunit *prev_instr;
	int stacktop;
	bool is_entry;
	char owner;
#endif
};

typedef struct pyust_iframe *pyust_frame;
typedef PyObject *(*pyust_eval_fn)(PyThreadState *, struct _PyInterpreterFrame *, int);
#define PYUST_EVAL_FRAME(f) ((struct _PyInterpreterFrame *)(f))

static inline PyCodeObject *pyust_frame_code(pyust_frame f)
{
#if PY_VERSION_HEX >= 0x030D0000
	return (PyCodeObject *)f->f_executable;
#else
	return f->f_code;
#endif
}

static inline bool pyust_frame_is_resumption(pyust_frame f)
{
	return f->owner == PYUST_OWNED_BY_GENERATOR;
}

/*
 * Creating a generator, coroutine or async generator runs its frame through
 * the hook for one RETURN_GENERATOR step: that is not an execution.
 */
static inline bool pyust_frame_creates_generator(pyust_frame f, PyCodeObject *co)
{
	return f->owner == PYUST_OWNED_BY_THREAD && (co->co_flags & PYUST_CO_GEN_FLAGS);
}

/*
 * Where the frame is in its code: the key of the line cache, -1 for none (a
 * pointer outside the code: see pyust_frame_outlives_eval()).
 */
static inline int pyust_frame_offset(pyust_frame f, PyCodeObject *co)
{
#if PY_VERSION_HEX >= 0x030D0000
	pyust_codeunit *at = f->instr_ptr;
#else
	pyust_codeunit *at = f->prev_instr;
#endif
	pyust_codeunit *start = (pyust_codeunit *)co->co_code_adaptive;

	if (at < start || at >= start + Py_SIZE(co))
		return -1;
	return (int)((at - start) * sizeof(pyust_codeunit));
}

/* The line at that offset: a walk of the line table. */
static inline int pyust_frame_line(pyust_frame f, PyCodeObject *co, int offset)
{
	(void)f;
	return PyCode_Addr2Line(co, offset);
}

/*
 * Whether the frame can be read once the evaluator has returned, for the line
 * it left at; asked before the call. 3.11 pops the frame after the hook
 * returns. 3.12+ pops a thread-owned frame inside the evaluator, after it has
 * run the frame's last instruction and cleared its locals, and nothing uses
 * the thread's data stack between that pop and the hook: the slot keeps the
 * instruction pointer, unless the frame was the first of a chunk of the data
 * stack, which the pop frees. (A PEP 523 hook chained after pyust's that ran
 * Python code after its call could overwrite the slot, never unmap it: the
 * offset is bounds-checked.) A generator's frame lives in the generator.
 */
static inline bool pyust_frame_outlives_eval(PyThreadState *ts, pyust_frame f)
{
#if PY_VERSION_HEX >= 0x030C0000
	return f->owner == PYUST_OWNED_BY_GENERATOR ||
	       (PyObject **)f != &ts->datastack_chunk->data[0];
#else
	(void)ts;
	(void)f;
	return true;
#endif
}

#else /* 3.9, 3.10 */

typedef PyFrameObject *pyust_frame;
typedef PyObject *(*pyust_eval_fn)(PyThreadState *, PyFrameObject *, int);
#define PYUST_EVAL_FRAME(f) (f)

static inline PyCodeObject *pyust_frame_code(pyust_frame f)
{
	return f->f_code;
}

static inline bool pyust_frame_is_resumption(pyust_frame f)
{
	return f->f_lasti >= 0;
}

static inline bool pyust_frame_creates_generator(pyust_frame f, PyCodeObject *co)
{
	(void)f;
	(void)co;
	return false;
}

/* f_lasti, unless a tracer may have moved f_lineno: then no caching. */
static inline int pyust_frame_offset(pyust_frame f, PyCodeObject *co)
{
	(void)co;
	return f->f_trace ? -1 : f->f_lasti;
}

static inline int pyust_frame_line(pyust_frame f, PyCodeObject *co, int offset)
{
	(void)co;
	(void)offset;
	return PyFrame_GetLineNumber(f);
}

static inline bool pyust_frame_outlives_eval(PyThreadState *ts, pyust_frame f)
{
	(void)ts;
	(void)f;
	return true;
}

#endif

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
 * stop being valid (3.13). Reading them there is what getattr does once it has
 * found the index; attrs.c finds it once for the few attributes it reads from
 * many instances. The keys only ever gain entries.
 */
#if PY_VERSION_HEX >= 0x030B0000 && !defined(Py_GIL_DISABLED)
#define PYUST_INLINE_VALUES 1

/* struct _dictkeysobject, the same in 3.11 to 3.13 */
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

/* The values of an instance of a type with shared keys, NULL when not inline. */
static inline PyObject **pyust_inline_values(PyObject *obj)
{
#if PY_VERSION_HEX >= 0x030D0000
	struct {
		uint8_t capacity, size, embedded, valid;
		PyObject *values[1];
	} *v = (void *)((char *)obj + sizeof(PyObject));

	return v->valid ? v->values : NULL;
#elif PY_VERSION_HEX >= 0x030C0000
	uintptr_t dorv = ((uintptr_t *)obj)[-3]; /* tagged: values - 1, or the dict */

	return dorv & 1 ? (PyObject **)(dorv + 1) : NULL;
#else
	return ((PyObject ***)obj)[-4];
#endif
}
#endif

#endif /* PYUST_FRAME_H */
