/*
 * SPDX-License-Identifier: MIT
 *
 * The PEP 523 frame-evaluation hook: one python:function__entry before each
 * execution of a frame and one python:function__return when it leaves, by
 * return, yield, await or exception. Entry and return are emitted by the same
 * call of the hook, so they balance on every thread, even when the hook is
 * installed while frames are running.
 */

#include "frame.h"
#include "pyust.h"

#include <pthread.h>

#include "tp-python.h"

/* The eval function pyust chains to: CPython's, or one installed before us. */
static pyust_eval_fn next_eval;

/*
 * With the hook in place, every Python call recurses in C (3.11+ no longer
 * inlines them). Keep this much of the thread's stack for the evaluator and
 * the C code it calls, and fail the call with RecursionError below it.
 */
#define STACK_RESERVE (256 * 1024)

static __thread __attribute__((tls_model("initial-exec"))) char *stack_floor;

static int stack_is_low(void)
{
	char here;

	if (!stack_floor) {
		pthread_attr_t attr;
		void *addr;
		size_t size;

		stack_floor = (char *)1; /* unknown: never low */
		if (pthread_getattr_np(pthread_self(), &attr) == 0) {
			if (pthread_attr_getstack(&attr, &addr, &size) == 0 && size > 2 * STACK_RESERVE)
				stack_floor = (char *)addr + STACK_RESERVE;
			pthread_attr_destroy(&attr);
		}
	}
	return &here < stack_floor;
}

/*
 * Fail the call as CPython's own recursion check does. Up to 3.11 the
 * evaluator may simply not be entered; 3.12+ expects it to pop the frame, so
 * its own check is made to fail instead.
 */
static PyObject *eval_too_deep(PyThreadState *ts, pyust_frame f, int throwflag)
{
#if PY_VERSION_HEX >= 0x030C0000
	int saved = ts->c_recursion_remaining;
	PyObject *ret;

	ts->c_recursion_remaining = 0;
	ret = next_eval(ts, PYUST_EVAL_FRAME(f), throwflag);
	ts->c_recursion_remaining = saved;
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

static PyObject *pyust_eval(PyThreadState *ts, pyust_frame f, int throwflag)
{
	PyCodeObject *co = pyust_frame_code(f);
	struct pyust_code *pc;
	PyObject *ret;
	bool resumed;
	int line;

	if (stack_is_low())
		return eval_too_deep(ts, f, throwflag);
	if (pyust_frame_creates_generator(f, co))
		return next_eval(ts, PYUST_EVAL_FRAME(f), throwflag);
	pc = pyust_code_get(co);
	if (!pc)
		return next_eval(ts, PYUST_EVAL_FRAME(f), throwflag);

	resumed = pyust_frame_is_resumption(f);
	line = resumed ? pyust_frame_line(f, co) : pc->firstlineno;
	lttng_ust_tracepoint(python, function__entry, pc->filename, pc->name, line);

	/* pc lives as long as co, which the frame may release (3.12+). */
	Py_INCREF(co);
	ret = next_eval(ts, PYUST_EVAL_FRAME(f), throwflag);
	if (lttng_ust_tracepoint_enabled(python, function__return)) {
		line = pyust_frame_return_line(f, co, resumed, line);
		lttng_ust_do_tracepoint(python, function__return, pc->filename, pc->name, line);
	}
	Py_DECREF(co);
	return ret;
}

int pyust_hook_installed(void)
{
	PyInterpreterState *interp = PyInterpreterState_Get();

	return _PyInterpreterState_GetEvalFrameFunc(interp) == (_PyFrameEvalFunction)pyust_eval;
}

int pyust_hook_install(void)
{
	PyInterpreterState *interp = PyInterpreterState_Get();
	_PyFrameEvalFunction cur = _PyInterpreterState_GetEvalFrameFunc(interp);

	if (cur == (_PyFrameEvalFunction)pyust_eval)
		return 0;
	if (pyust_code_init() < 0)
		return -1;
	next_eval = (pyust_eval_fn)cur;
	_PyInterpreterState_SetEvalFrameFunc(interp, (_PyFrameEvalFunction)pyust_eval);
	return 0;
}

void pyust_hook_uninstall(void)
{
	PyInterpreterState *interp = PyInterpreterState_Get();

	/* Leave a hook installed after ours in place: it chains to us. */
	if (_PyInterpreterState_GetEvalFrameFunc(interp) == (_PyFrameEvalFunction)pyust_eval)
		_PyInterpreterState_SetEvalFrameFunc(interp, (_PyFrameEvalFunction)next_eval);
}
