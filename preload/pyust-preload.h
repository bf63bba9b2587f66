/*
 * SPDX-License-Identifier: MIT
 *
 * What libpyust.so offers the pyust module, and the internal interface
 * between the preload's own files.
 */

#ifndef PYUST_PRELOAD_H
#define PYUST_PRELOAD_H

#define PYUST_EXPORT __attribute__((visibility("default")))

/*
 * Bumped whenever the module and the preload stop understanding each other;
 * the module refuses to start against a preload of another version.
 */
#define PYUST_PRELOAD_ABI 1

PYUST_EXPORT int pyust_preload_abi(void);

/* The directory libpyust.so was loaded from, or NULL. Not thread-safe on first call. */
const char *pyust_libdir(void);

/* Print one line on stderr, prefixed with "pyust: ", unless PYUST_QUIET is set. */
PYUST_EXPORT void pyust_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* PYUST_PRELOAD_H */
