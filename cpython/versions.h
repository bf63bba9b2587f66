/*
 * SPDX-License-Identifier: MIT
 *
 * The CPython versions pyust supports. This folder holds everything pyust
 * knows of CPython's internal layouts and of how versions differ, one file a
 * concern; supporting a new CPython is this folder, the table below and the
 * list in configure.ac. check-layouts.c compiles every mirrored struct
 * against the internal headers of the version being built for.
 *
 * What differs, by concern:
 * - the frame the hook gets (frame.h): PyFrameObject on 3.9, 3.10; then
 *   _PyInterpreterFrame, whose code is f_code (3.11, 3.12), f_executable
 *   (3.13), a tagged _PyStackRef f_executable (3.14+);
 * - the line at an offset (frame.h): PyFrame_GetLineNumber on 3.9, 3.10;
 *   PyCode_Addr2Line on the instruction pointer from 3.11 on;
 * - the C stack (recursion.h): the hook's own reserve on 3.9 to 3.11; a
 *   budget of units on 3.12, 3.13; CPython's own check of the real stack on
 *   3.14+;
 * - instance attributes (instance.h): a __dict__ on 3.9, 3.10; values
 *   beside the shared keys until a __dict__ takes them (3.11, 3.12); inline
 *   values while they are valid (3.13+); type version tags cleared by flag
 *   on 3.9, zeroed from 3.10 on;
 * - keeping an exception aside (errors.h): one object from 3.12 on;
 * - the audit-hook entry (audit.h) and the raw allocator (capi.h): the same
 *   in every version.
 *
 * Free-threaded builds (3.13t+) are not supported: configure refuses them,
 * and the preload says so at run time and gives native events only. Debian
 * packages no such build and its mirror serves no source to make one, so
 * tests/helpers/embed_freethreaded.c reaches that refusal with a real
 * libpython that reports itself as one.
 */

#ifndef PYUST_CPYTHON_VERSIONS_H
#define PYUST_CPYTHON_VERSIONS_H

#define PYUST_PY_MINOR_MIN 9
#define PYUST_PY_MINOR_MAX 15
#define PYUST_PY_SUPPORTED "CPython 3.9 to 3.15"

#ifdef PY_VERSION_HEX
#if PY_VERSION_HEX < 0x03090000 || PY_VERSION_HEX >= 0x03100000
#error "pyust supports CPython 3.9 to 3.15"
#endif
#endif

#endif /* PYUST_CPYTHON_VERSIONS_H */
