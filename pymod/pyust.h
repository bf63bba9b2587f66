/*
 * SPDX-License-Identifier: MIT
 *
 * Interface between the files of the pyust module.
 */

#ifndef PYUST_MODULE_H
#define PYUST_MODULE_H

#include <Python.h>
#include <stdbool.h>
#include <stdint.h>

int pyust_hook_install(void);
void pyust_hook_uninstall(void);
int pyust_hook_installed(void);
void pyust_hook_forget(void);

int pyust_gc_init(PyObject *module);
bool pyust_gc_out_of_step(bool follow);
void pyust_gc_apply(bool follow);
void pyust_gc_forget(void);

/* The hook follows the sessions that enable python function events. */
int pyust_watch_follow(void);
void pyust_watch_unfollow(void);
void pyust_watch_stop(void);
int pyust_watch_after_fork(void);
void pyust_watch_forget(void);

/* A child whose program threads all ended ends (orphan.c). */
void pyust_orphan_arm(void);
void pyust_orphan_own_thread(void);
void pyust_orphan_own_thread_ends(void);
void pyust_orphan_check(void);

/* Records of the logging module (logging.c, logemit.c). */
int pyust_log_follow(void);
void pyust_log_unfollow(void);
void pyust_log_at_exit(void);
bool pyust_log_out_of_step(void);
bool pyust_log_wanted(void);
void pyust_log_apply(void);
void pyust_log_forget(void);
PyObject *pyust_log_handler_type(void);
PyObject *pyust_call_self(PyObject *fn, PyObject *self, PyObject *const *args, Py_ssize_t n,
			  PyObject *kwnames);
int pyust_loglevels_attach(PyObject *logging, PyObject *logger_cls, PyObject *root);
void pyust_loglevels_detach(void);
bool pyust_loglevels_forced(PyObject *logger);
bool pyust_logger_reaches_root(PyObject *logger);
void pyust_loglevels_forget(void);
int pyust_logemit_init(PyObject *logging);
bool pyust_logemit_enabled(void);
int pyust_log_emit(PyObject *record);
void pyust_logemit_forget(void);

/* The LTTng agent thread (agent.c). */
int pyust_agent_start(void);
void pyust_agent_stop(void);
int pyust_agent_after_fork(void);
unsigned int pyust_agent_enabled(void);
bool pyust_agent_wants(const char *name, size_t len, int level);

/*
 * The *_forget functions run when the interpreter is finalized: the state
 * they drop belonged to it, and a later Py_Initialize starts afresh.
 */

#endif /* PYUST_MODULE_H */
