/*
 * SPDX-License-Identifier: MIT
 *
 * Where libpyust.so was loaded from: the rest of the installation (the
 * modules for each Python, libpyust-cyg.so) is found relative to it, so that
 * a staged or moved prefix works.
 */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "pyust-preload.h"

static char libdir[PATH_MAX];

const char *pyust_libdir(void)
{
	Dl_info info;
	char *slash;

	if (libdir[0])
		return libdir;
	/* realpath: LD_PRELOAD may be relative to a directory the program leaves. */
	if (!dladdr((void *)pyust_libdir, &info) || !info.dli_fname ||
	    !realpath(info.dli_fname, libdir))
		return NULL;
	slash = strrchr(libdir, '/');
	if (!slash) {
		libdir[0] = '\0';
		return NULL;
	}
	*slash = '\0';
	return libdir;
}
