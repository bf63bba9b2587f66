/*
 * SPDX-License-Identifier: MIT
 *
 * The demo server's ETag helper, built with -finstrument-functions so that
 * its calls are recorded (lttng_ust_cyg_profile_fast:*): etag(data, fmt)
 * checksums the page in C, then calls fmt(checksum), a Python function, for
 * the tag's text. Python -> C -> Python, in one trace.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* Fletcher-32 over bytes; not inlined, so that it shows as a call of its own. */
__attribute__((noinline)) static unsigned long page_checksum(const unsigned char *p, Py_ssize_t n)
{
	unsigned long a = 0, b = 0;
	Py_ssize_t i;

	for (i = 0; i < n; i++) {
		a = (a + p[i]) % 65535;
		b = (b + a) % 65535;
	}
	return b << 16 | a;
}

static PyObject *sitehash_etag(PyObject *self, PyObject *args)
{
	Py_buffer data;
	PyObject *fmt;
	unsigned long sum;

	(void)self;
	if (!PyArg_ParseTuple(args, "y*O:etag", &data, &fmt))
		return NULL;
	sum = page_checksum(data.buf, data.len);
	PyBuffer_Release(&data);
	return PyObject_CallFunction(fmt, "k", sum);
}

static PyMethodDef methods[] = {
	{"etag", sitehash_etag, METH_VARARGS, "etag(data, fmt): fmt(checksum of data)."},
	{NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
	.m_base = PyModuleDef_HEAD_INIT,
	.m_name = "sitehash",
	.m_doc = "The demo server's ETag helper.",
	.m_size = -1,
	.m_methods = methods,
};

PyMODINIT_FUNC PyInit_sitehash(void)
{
	return PyModule_Create(&module);
}
