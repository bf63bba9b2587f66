/*
 * SPDX-License-Identifier: MIT
 *
 * Native function entry and exit for code built with -finstrument-functions,
 * recorded exactly as liblttng-ust-cyg-profile-fast.so records them.
 */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>

#define LTTNG_UST_TRACEPOINT_DEFINE
#define LTTNG_UST_TRACEPOINT_PROBE_DYNAMIC_LINKAGE
#include "tp-cyg-profile-fast.h"

#include "pyust-preload.h"

#define PYUST_NO_INSTRUMENT __attribute__((no_instrument_function))

PYUST_EXPORT PYUST_NO_INSTRUMENT void __cyg_profile_func_enter(void *this_fn, void *call_site);
PYUST_EXPORT PYUST_NO_INSTRUMENT void __cyg_profile_func_exit(void *this_fn, void *call_site);

void __cyg_profile_func_enter(void *this_fn, void *call_site __attribute__((unused)))
{
	lttng_ust_tracepoint(lttng_ust_cyg_profile_fast, func_entry, this_fn);
}

void __cyg_profile_func_exit(void *this_fn, void *call_site __attribute__((unused)))
{
	lttng_ust_tracepoint(lttng_ust_cyg_profile_fast, func_exit, this_fn);
}

/* Register the provider's probes unless LTTng-UST's own library does. */
static PYUST_NO_INSTRUMENT __attribute__((constructor)) void cyg_probes_init(void)
{
	char path[PATH_MAX];
	void *h = dlopen("liblttng-ust-cyg-profile-fast.so.1", RTLD_NOW | RTLD_NOLOAD);

	if (h) {
		dlclose(h);
		return;
	}
	if (!pyust_libdir())
		return;
	snprintf(path, sizeof(path), "%s/pyust/libpyust-cyg.so", pyust_libdir());
	if (!dlopen(path, RTLD_NOW | RTLD_GLOBAL))
		pyust_warn("native function events are off: %s", dlerror());
}
