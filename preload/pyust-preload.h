/*
 * SPDX-License-Identifier: MIT
 *
 * What libpyust.so offers the pyust module, and the internal interface
 * between the preload's own files.
 */

#ifndef PYUST_PRELOAD_H
#define PYUST_PRELOAD_H

#include <stddef.h>

#include "capi.h"

#define PYUST_EXPORT __attribute__((visibility("default")))

/*
 * Bumped whenever the module and the preload stop understanding each other;
 * the module refuses to start against a preload of another version.
 */
#define PYUST_PRELOAD_ABI 5

PYUST_EXPORT int pyust_preload_abi(void);

/* The directory libpyust.so was loaded from, or NULL. Not thread-safe on first call. */
const char *pyust_libdir(void);

/* Print one line on stderr, prefixed with "pyust: ", unless PYUST_QUIET is set. */
PYUST_EXPORT void pyust_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * The probes of lttng_python:event, in LIBDIR/pyust/libpyust-log.so. Loading
 * fails (-1) while lttngust's library, which has the same provider, is in
 * the process. Called with the GIL held.
 */
PYUST_EXPORT int pyust_log_probes_load(void);

/*
 * Armed (1) right before os.fork() and disarmed (0) after it, on the forking
 * thread: the child of that fork registers with the session daemon as itself.
 */
PYUST_EXPORT void pyust_fork_arm(int on);

/*
 * One line on stderr, prefixed with "pyust: ", only when PYUST_DEBUG is set.
 * The first call (fmt may be NULL) reads the environment: make it before
 * threads call it.
 */
PYUST_EXPORT void pyust_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * C audit hooks out of CPython's list while they have nothing to do
 * (audit.c). add is PySys_AddAuditHook that also gives the entry (NULL when
 * not known); unlink returns the entry, to link again later; NULL when it
 * cannot be found. Under the GIL.
 */
PYUST_EXPORT int pyust_audit_add(void *hook, void *data, void **entry);
PYUST_EXPORT void *pyust_audit_unlink(void *hook, void *data);
PYUST_EXPORT int pyust_audit_relink(void *entry);
PYUST_EXPORT int pyust_audit_count(void);

/*
 * pyust's own descriptors, kept open whatever the program closes (fds.c):
 * keep registers one and returns the number to use (moved above 2 if it was
 * a standard stream's, -1 if that failed); pyust_fd gives the number it has
 * now (a dup2 of the program's onto it moved it); pyust_fd_close closes it
 * for good.
 */
PYUST_EXPORT int pyust_fd_keep(int fd);
PYUST_EXPORT int pyust_fd(int fd);
PYUST_EXPORT int pyust_fd_close(int fd);

/* LTTng-UST was set up again in this child of fork(): protect its descriptors here. */
void pyust_fds_owner(void);

#endif /* PYUST_PRELOAD_H */
