/*
 * SPDX-License-Identifier: MIT
 *
 * Provider "python": Python interpreter events. The layout is the one of the
 * LTTng-UST patch for CPython (PyCon Canada 2017), so that viewers written for
 * it work unchanged. See docs/events.md; this header is the only place it is
 * written.
 */

#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER python

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "tp-python.h"

#if !defined(PYUST_TP_PYTHON_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define PYUST_TP_PYTHON_H

#include <lttng/tracepoint.h>

/* LTTng-UST's event macros keep their own layout. */
/* clang-format off */

LTTNG_UST_TRACEPOINT_EVENT_CLASS(python, function_class,
	LTTNG_UST_TP_ARGS(const char *, co_filename, const char *, co_name, int, line_no),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_string(co_filename, co_filename)
		lttng_ust_field_string(co_name, co_name)
		lttng_ust_field_integer(int, line_no, line_no)
	)
)

LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(python, function_class, python, function__entry,
	LTTNG_UST_TP_ARGS(const char *, co_filename, const char *, co_name, int, line_no)
)

LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(python, function_class, python, function__return,
	LTTNG_UST_TP_ARGS(const char *, co_filename, const char *, co_name, int, line_no)
)

LTTNG_UST_TRACEPOINT_EVENT(python, gc__start,
	LTTNG_UST_TP_ARGS(int, generation),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(int, generation, generation)
	)
)

LTTNG_UST_TRACEPOINT_EVENT(python, gc__done,
	LTTNG_UST_TP_ARGS(long, collected),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(long, collected, collected)
	)
)

/* clang-format on */

#endif /* PYUST_TP_PYTHON_H */

#include <lttng/tracepoint-event.h>
