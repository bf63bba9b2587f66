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
void pyust_code_forget(void);

int pyust_hook_install(void);
void pyust_hook_uninstall(void);
int pyust_hook_installed(void);
void pyust_hook_forget(void);

int pyust_gc_install(PyObject *module);
void pyust_gc_forget(void);

/* The hook follows the sessions that enable python function events. */
int pyust_watch_follow(void);
void pyust_watch_unfollow(void);
void pyust_watch_stop(void);
int pyust_watch_after_fork(void);
void pyust_watch_forget(void);

/*
 * The *_forget functions run when the interpreter is finalized: the state
 * they drop belonged to it, and a later Py_Initialize starts afresh.
 */

#endif /* PYUST_MODULE_H */
