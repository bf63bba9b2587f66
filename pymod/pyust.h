/*
 * SPDX-License-Identifier: MIT
 *
 * Interface between the files of the pyust module.
 */

#ifndef PYUST_MODULE_H
#define PYUST_MODULE_H

#include <Python.h>

/* What the events say about a code object, cached in its co_extra. */
struct pyust_code {
	const char *filename; /* UTF-8, owned by filename_obj */
	const char *name;     /* UTF-8, owned by name_obj */
	PyObject *filename_obj;
	PyObject *name_obj;
	int firstlineno;
};

int pyust_code_init(void);
struct pyust_code *pyust_code_get(PyCodeObject *co);

int pyust_hook_install(void);
void pyust_hook_uninstall(void);
int pyust_hook_installed(void);

int pyust_gc_install(PyObject *module);

#endif /* PYUST_MODULE_H */
