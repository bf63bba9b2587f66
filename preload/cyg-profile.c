/*
 * SPDX-License-Identifier: MIT
 *
 * Native function entry and exit for code built with -finstrument-functions,
 * recorded exactly as liblttng-ust-cyg-profile-fast.so records them.
 */

#define LTTNG_UST_TRACEPOINT_DEFINE
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#define LTTNG_UST_TP_IP_PARAM func_addr
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
