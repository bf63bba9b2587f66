/*
 * SPDX-License-Identifier: MIT
 *
 * The PEP 523 frame-evaluation hook: one python:function__entry before each
 * execution of a frame and one python:function__return when it leaves, by
 * return, yield, await or exception. Entry and return are emitted by the same
 * call of the hook, so they balance on every thread, even when the hook is
 * installed while frames are running.
 */

#include "codeinfo.h"
#include "frame.h"
#include "recursion.h"
#include "pyust.h"

#include <pthread.h>

#include "tp-python.h"

/* The eval function pyust chains to: CPython's, or one installed before us. */
static pyust_eval_fn next_eval;
/* pyust_eval is in the interpreter's chain of eval functions. */
static bool in_chain;
/*
 * Stopped while a hook installed after ours still calls it: pyust_eval only
 * passes through. Reinstalling it would make it call itself.
 */
static bool paused;

#ifndef PYUST_CPYTHON_CHECKS_STACK
/*
 * With the hook in place every Python call recurses in C (3.11+ no longer
 * inlines them). Keep this much of the thread's stack (a quarter of a small
 * one) for the evaluator and the C code it calls, and fail the call with
 * RecursionError below it.
 */
#define STACK_RESERVE (256 * 1024)

static __thread __attribute__((tls_model("initial-exec"))) struct {
	char *lo; /* lowest usable address of this thread's stack */
	char *hi;
	size_t reserve;
	bool known;
} stack;

/*
 * Once per thread: where its stack is. Out of line, so that no stack object
 * is in pyust_eval's frame, which pthread_exit may unwind without returning
 * (a daemon thread at exit): ASan would find its redzones still set.
 */
static __attribute__((noinline, cold)) void stack_learn(void)
{
	pthread_attr_t attr;
	void *addr;
	size_t size;

	stack.known = true;
	if (pthread_getattr_np(pthread_self(), &attr) != 0)
		return;
	if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
		stack.lo = addr;
		stack.hi = (char *)addr + size;
		stack.reserve = size / 4 < STACK_RESERVE ? size / 4 : STACK_RESERVE;
	}
	pthread_attr_destroy(&attr);
}

/* Bytes of stack left below the caller, SIZE_MAX when unknown. */
static inline size_t stack_left(void)
{
	char *here = __builtin_frame_address(0);

	if (!stack.known)
		stack_learn();
	/* Not on the thread's own stack (a coroutine library's, say): unknown. */
	if (!stack.lo || here < stack.lo || here >= stack.hi)
		return SIZE_MAX;
	return (size_t)(here - stack.lo);
}

/*
 * Fail the call as CPython's own recursion check does. Up to 3.11 the
 * evaluator may simply not be entered; 3.12+ expects it to pop the frame, so
 * its own check is made to fail instead.
 */
static PyObject *eval_too_deep(PyThreadState *ts, pyust_frame f, int throwflag)
{
#ifdef PYUST_C_RECURSION_LIMIT
	int saved = pyust_c_budget(ts);
	PyObject *ret;

	pyust_c_budget_set(ts, 0);
	ret = next_eval(ts, PYUST_EVAL_FRAME(f), throwflag);
	pyust_c_budget_set(ts, saved);
	return ret;
#else
	(void)ts;
	(void)f;
	(void)throwflag;
	PyErr_SetString(PyExc_RecursionError,
			"maximum recursion depth exceeded (C stack nearly full)");
	return NULL;
#endif
}

#endif

#ifdef PYUST_C_RECURSION_LIMIT
/*
 * 3.12+ counts C recursion against a budget sized for an 8 MiB stack. A call
 * through the hook costs PYUST_C_UNITS_PER_CALL units that an inlined call
 * does not (a naive hook stops at 748 frames on 3.12.1). Give them back while
 * the stack really has room for them, so the budget follows the real stack.
 */
static int c_units_to_give(PyThreadState *ts, size_t left)
{
	const size_t unit = (8u << 20) / PYUST_C_RECURSION_LIMIT;

	if (left == SIZE_MAX || left < stack.reserve)
		return 0;
	if ((size_t)pyust_c_budget(ts) + PYUST_C_UNITS_PER_CALL > (left - stack.reserve) / unit)
		return 0;
	return PYUST_C_UNITS_PER_CALL;
}
#endif

static PyObject *eval_next(PyThreadState *ts, pyust_frame f, int throwflag, size_t left)
{
#ifdef PYUST_C_RECURSION_LIMIT
	int give = c_units_to_give(ts, left);
	PyObject *ret;

	pyust_c_budget_set(ts, pyust_c_budget(ts) + give);
	ret = next_eval(ts, PYUST_EVAL_FRAME(f), throwflag);
	pyust_c_budget_set(ts, pyust_c_budget(ts) - give);
	return ret;
#else
	(void)left;
	return next_eval(ts, PYUST_EVAL_FRAME(f), throwflag);
#endif
}

/*
 * The line the frame is at, without walking the line table when a value
 * cached in pc (NULL: none) serves.
 */
static int line_of(struct pyust_code *pc, pyust_frame f, PyCodeObject *co)
{
	int offset = pyust_frame_offset(f, co), line;
	uint64_t key, e;
	unsigned int i;

	if (offset < 0 || !pc)
		return pyust_frame_line(f, co, offset);
	key = (uint64_t)(offset + 1) << 32;
	for (i = 0; i < 2; i++) {
		e = __atomic_load_n(&pc->lines[i], __ATOMIC_RELAXED);
		if ((e & ~(uint64_t)0xffffffff) == key)
			return (int)(uint32_t)e;
	}
	line = pyust_frame_line(f, co, offset);
	i = pc->next_line++ & 1;
	__atomic_store_n(&pc->lines[i], key | (uint32_t)line, __ATOMIC_RELAXED);
	return line;
}

static PyObject *pyust_eval(PyThreadState *ts, pyust_frame f, int throwflag)
{
	PyCodeObject *co = pyust_frame_code(f);
	struct pyust_code *pc;
	const char *filename, *name;
	PyObject *ret, *owners[2];
	bool resumed, readable;
	int line;
#ifdef PYUST_CPYTHON_CHECKS_STACK
	size_t left = 0;
#else
	size_t left = stack_left();

	if (left < stack.reserve)
		return eval_too_deep(ts, f, throwflag);
#endif
	/* Stopped, or between a session's disable and the hook's removal. */
	if (paused || !(lttng_ust_tracepoint_enabled(python, function__entry) ||
			lttng_ust_tracepoint_enabled(python, function__return)))
		return eval_next(ts, f, throwflag, left);
	if (pyust_frame_creates_generator(f, co))
		return eval_next(ts, f, throwflag, left);
	pc = pyust_code_get(co);
	if (!pc)
		return eval_next(ts, f, throwflag, left);

	resumed = pyust_frame_is_resumption(f);
	readable = pyust_frame_outlives_eval(ts, f);
	line = resumed ? line_of(pc, f, co) : pc->firstlineno;
	filename = pc->filename;
	name = pc->name;
	lttng_ust_tracepoint(python, function__entry, filename, name, line);

	/*
	 * The frame may release co (3.12+), and the calls it makes may take
	 * pc's place in the cache: hold what the names are in until the return.
	 */
	Py_INCREF(co);
	owners[0] = pc->filename_obj;
	owners[1] = pc->name_obj;
	Py_INCREF(owners[0]);
	Py_INCREF(owners[1]);
	ret = eval_next(ts, f, throwflag, left);
	if (lttng_ust_tracepoint_enabled(python, function__return)) {
		/* -1: left where no line is (3.13 refusing a too deep call). */
		if (readable) {
			int left_at = line_of(pyust_code_holds(pc, co) ? pc : NULL, f, co);

			if (left_at >= 0)
				line = left_at;
		}
		lttng_ust_do_tracepoint(python, function__return, filename, name, line);
	}
	Py_DECREF(owners[0]);
	Py_DECREF(owners[1]);
	Py_DECREF(co);
	return ret;
}

int pyust_hook_installed(void)
{
	return in_chain && !paused;
}

int pyust_hook_install(void)
{
	PyInterpreterState *interp = PyInterpreterState_Get();

	if (in_chain) {
		paused = false;
		return 0;
	}
	next_eval = (pyust_eval_fn)_PyInterpreterState_GetEvalFrameFunc(interp);
	_PyInterpreterState_SetEvalFrameFunc(interp, (_PyFrameEvalFunction)pyust_eval);
	in_chain = true;
	return 0;
}

void pyust_hook_uninstall(void)
{
	PyInterpreterState *interp = PyInterpreterState_Get();

	if (!in_chain)
		return;
	if (_PyInterpreterState_GetEvalFrameFunc(interp) == (_PyFrameEvalFunction)pyust_eval) {
		_PyInterpreterState_SetEvalFrameFunc(interp, (_PyFrameEvalFunction)next_eval);
		in_chain = false;
		paused = false;
	} else {
		/* A hook installed after ours chains to it: stay, silent. */
		paused = true;
	}
}

void pyust_hook_forget(void)
{
	in_chain = false;
	paused = false;
	next_eval = NULL;
}
