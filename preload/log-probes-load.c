/*
 * SPDX-License-Identifier: MIT
 *
 * Loads libpyust-log.so, the probes of lttng_python:event, for the pyust
 * module, unless lttngust's own library, which registers the same provider,
 * is already in the process. They stay until the process ends.
 */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>

#include "pyust-preload.h"

static void *probes;

/* lttngust's library, with the same provider, is in the process. */
static int lttngust_loaded(void)
{
	static const char *const names[] = {"liblttng-ust-python-agent.so.1",
					    "liblttng-ust-python-agent.so.0"};
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		void *h = dlopen(names[i], RTLD_LAZY | RTLD_NOLOAD);

		if (h) {
			dlclose(h);
			return 1;
		}
	}
	return 0;
}

int pyust_log_probes_load(void)
{
	char path[PATH_MAX];

	if (probes)
		return 0;
	if (lttngust_loaded())
		return -1;
	if (!pyust_libdir()) {
		pyust_warn("logging events are off: cannot find the directory of libpyust.so");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/pyust/libpyust-log.so", pyust_libdir());
	probes = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!probes) {
		pyust_warn("logging events are off: %s", dlerror());
		return -1;
	}
	return 0;
}
