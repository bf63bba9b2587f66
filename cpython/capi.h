/*
 * SPDX-License-Identifier: MIT
 *
 * The few C API structs and constants that the preload uses without
 * Python.h (it serves every CPython and looks the API up at run time), the
 * same in 3.8 to 3.15.
 */

#ifndef PYUST_CPYTHON_CAPI_H
#define PYUST_CPYTHON_CAPI_H

#include <stddef.h>

/* PyMemAllocatorEx */
struct py_allocator {
	void *ctx;
	void *(*malloc)(void *ctx, size_t size);
	void *(*calloc)(void *ctx, size_t nelem, size_t elsize);
	void *(*realloc)(void *ctx, void *ptr, size_t new_size);
	void (*free)(void *ctx, void *ptr);
};

/* PyStatus, returned by value by Py_InitializeFromConfig */
struct py_status {
	int type;
	const char *func;
	const char *err_msg;
	int exitcode;
};

#define PYUST_MEM_DOMAIN_RAW 0 /* PYMEM_DOMAIN_RAW */
#define PYUST_FILE_INPUT 257   /* Py_file_input */

#endif /* PYUST_CPYTHON_CAPI_H */
