/*
 * SPDX-License-Identifier: MIT
 *
 * Provider "lttng_python": records of Python's logging module, with the
 * layout of LTTng-UST 2.13's Python agent, so that "lttng enable-event
 * --python" and existing viewers work. See docs/events.md; this header is the
 * only place it is written. The unsigned arguments differ from lttngust's
 * int ones on purpose: LTTng-UST never connects a call site to a probe of
 * another signature, so when lttngust's library arrives after pyust's probes
 * its records are not written a second time through them.
 */

#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER lttng_python

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "tp-lttng-python.h"

#if !defined(PYUST_TP_LTTNG_PYTHON_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define PYUST_TP_LTTNG_PYTHON_H

#include <lttng/tracepoint.h>

/* LTTng-UST's event macros keep their own layout. */
/* clang-format off */

LTTNG_UST_TRACEPOINT_EVENT(lttng_python, event,
	LTTNG_UST_TP_ARGS(
		const char *, asctime,
		const char *, msg,
		const char *, logger_name,
		const char *, funcName,
		unsigned int, lineno,
		unsigned int, int_loglevel,
		unsigned int, thread,
		const char *, threadName
	),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_string(asctime, asctime)
		lttng_ust_field_string(msg, msg)
		lttng_ust_field_string(logger_name, logger_name)
		lttng_ust_field_string(funcName, funcName)
		lttng_ust_field_integer(unsigned int, lineno, lineno)
		lttng_ust_field_integer(unsigned int, int_loglevel, int_loglevel)
		lttng_ust_field_integer(unsigned int, thread, thread)
		lttng_ust_field_string(threadName, threadName)
	)
)

/* clang-format on */

#endif /* PYUST_TP_LTTNG_PYTHON_H */

#include <lttng/tracepoint-event.h>
