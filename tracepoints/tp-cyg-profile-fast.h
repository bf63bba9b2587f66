/*
 * SPDX-License-Identifier: MIT
 *
 * Provider "lttng_ust_cyg_profile_fast": entry and exit of native functions
 * built with -finstrument-functions. Same layout, log level and instruction
 * pointer context as LTTng-UST's liblttng-ust-cyg-profile-fast.so, so that
 * flt.lttng-utils.debug-info resolves the names.
 */

#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER lttng_ust_cyg_profile_fast

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "tp-cyg-profile-fast.h"

#if !defined(PYUST_TP_CYG_PROFILE_FAST_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define PYUST_TP_CYG_PROFILE_FAST_H

#include <lttng/tracepoint.h>

/* LTTng-UST's event macros keep their own layout. */
/* clang-format off */

LTTNG_UST_TRACEPOINT_EVENT(lttng_ust_cyg_profile_fast, func_entry,
	LTTNG_UST_TP_ARGS(void *, func_addr),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer_hex(unsigned long, addr, (unsigned long)func_addr)
	)
)

LTTNG_UST_TRACEPOINT_LOGLEVEL(lttng_ust_cyg_profile_fast, func_entry,
	LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_FUNCTION)

LTTNG_UST_TRACEPOINT_EVENT(lttng_ust_cyg_profile_fast, func_exit,
	LTTNG_UST_TP_ARGS(void *, func_addr),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_unused(func_addr)
	)
)

LTTNG_UST_TRACEPOINT_LOGLEVEL(lttng_ust_cyg_profile_fast, func_exit,
	LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_FUNCTION)

/* clang-format on */

#endif /* PYUST_TP_CYG_PROFILE_FAST_H */

#include <lttng/tracepoint-event.h>
