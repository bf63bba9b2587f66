/*
 * SPDX-License-Identifier: MIT
 *
 * An entry of the runtime's list of C audit hooks (_Py_AuditHookEntry), the
 * same in 3.8 to 3.15: what preload/audit.c unlinks and links again. Where
 * the list's head sits in _PyRuntime changes with every version; audit.c
 * finds it at run time. For the preload, which has no Python.h.
 */

#ifndef PYUST_CPYTHON_AUDIT_H
#define PYUST_CPYTHON_AUDIT_H

struct pyust_audit_entry {
	struct pyust_audit_entry *next;
	void *hook;
	void *data;
};

#endif /* PYUST_CPYTHON_AUDIT_H */
