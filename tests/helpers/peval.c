/*
 * SPDX-License-Identifier: MIT
 *
 * Another PEP 523 user (a debugger, a JIT): installs its own eval function,
 * which counts the frames it evaluates and chains to the one it replaced.
 */

#include <Python.h>

#if PY_VERSION_HEX >= 0x030B0000
typedef struct _PyInterpreterFrame frame_t;
#else
typedef PyFrameObject frame_t;
#endif

typedef PyObject *(*eval_fn)(PyThreadState *, frame_t *, int);

static long frames;
static eval_fn previous;

static PyObject *counting_eval(PyThreadState *ts, frame_t *f, int throwflag)
{
	frames++;
	return previous(ts, f, throwflag);
}

static PyObject *install(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	previous = (eval_fn)_PyInterpreterState_GetEvalFrameFunc(PyInterpreterState_Get());
	_PyInterpreterState_SetEvalFrameFunc(PyInterpreterState_Get(), counting_eval);
	Py_RETURN_NONE;
}

static PyObject *installed(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	return PyBool_FromLong(_PyInterpreterState_GetEvalFrameFunc(PyInterpreterState_Get()) ==
			       counting_eval);
}

static PyObject *count(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	return PyLong_FromLong(frames);
}

static PyMethodDef methods[] = {
	{"install", install, METH_NOARGS, NULL},
	{"installed", installed, METH_NOARGS, NULL},
	{"count", count, METH_NOARGS, NULL},
	{NULL, NULL, 0, NULL},
};

static struct PyModuleDef def = {
	PyModuleDef_HEAD_INIT, "peval", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit_peval(void)
{
	return PyModule_Create(&def);
}
