/*
 * SPDX-License-Identifier: MIT
 *
 * CPython's frames as the hook sees them, for each supported version.
 *
 * 3.9, 3.10: the hook gets a PyFrameObject, alive until the caller drops it.
 * 3.11+: it gets a _PyInterpreterFrame, an internal struct whose first fields
 * are mirrored here (check-layouts.c compares them with the version's own).
 * On 3.12+ the evaluator pops a thread-owned frame before the hook regains
 * control: only its instruction pointer is read after the call, and only
 * where the pop leaves it in place (pyust_frame_outlives_eval); a generator's
 * frame lives inside the generator, which its caller holds.
 */

#ifndef PYUST_CPYTHON_FRAME_H
#define PYUST_CPYTHON_FRAME_H

#include <Python.h>
#include <frameobject.h>
#include <stdbool.h>
#include <stdint.h>

#include "versions.h"

/* The object a code object's line numbers come from. */
static inline PyObject *pyust_code_lines(PyCodeObject *co)
{
#if PY_VERSION_HEX >= 0x030A0000
	return co->co_linetable;
#else
	return co->co_lnotab;
#endif
}

#define PYUST_CO_GEN_FLAGS (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR)

#if PY_VERSION_HEX >= 0x030B0000

/* enum _frameowner: these two keep their values from 3.11 to 3.15 */
#define PYUST_OWNED_BY_THREAD 0
#define PYUST_OWNED_BY_GENERATOR 1

/* A 16-bit code unit (_Py_CODEUNIT, internal from 3.13 on). */
typedef uint16_t pyust_codeunit;

struct pyust_iframe {
#if PY_VERSION_HEX >= 0x030E0000
	uintptr_t f_executable; /* _PyStackRef: the code object, tagged in the low bits */
	struct pyust_iframe *previous;
	uintptr_t f_funcobj;
	PyObject *f_globals;
	PyObject *f_builtins;
	PyObject *f_locals;
	PyFrameObject *frame_obj;
	pyust_codeunit *instr_ptr;
	void *stackpointer;
	uint16_t return_offset;
	char owner;
#elif PY_VERSION_HEX >= 0x030D0000
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
#if PY_VERSION_HEX >= 0x030E0000
	return (PyCodeObject *)(f->f_executable & ~(uintptr_t)3);
#elif PY_VERSION_HEX >= 0x030D0000
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

#endif /* PYUST_CPYTHON_FRAME_H */
