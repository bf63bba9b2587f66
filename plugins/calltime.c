/*
 * SPDX-License-Identifier: MIT
 *
 * sink.pyust.calltime: per function, the number of calls and their
 * inclusive and exclusive time, sorted by exclusive time, with totals, like
 * DTrace's py_calltime. Threads have their own stacks, so they do not mix.
 */

#include <inttypes.h>
#include <stdlib.h>

#include "pyust-plugin.h"

struct calltime {
	struct pyust_sink base; /* first: the core frees it */
};

static void calltime_end(struct pyust_sink *s)
{
	uint32_t n;
	struct pyust_func **v = pyust_sorted_funcs(s, &n);
	uint64_t calls = 0, excl = 0;
	uint32_t shown = s->params.top && s->params.top < n ? (uint32_t)s->params.top : n;

	for (uint32_t i = 0; i < n; i++) {
		calls += v[i]->count;
		excl += v[i]->excl_ns;
	}
	fprintf(s->out, "%-6s %10s %16s %16s  %s\n", "TYPE", "COUNT", "INCL(ns)", "EXCL(ns)",
		"FUNCTION");
	for (uint32_t i = 0; i < shown; i++) {
		const struct pyust_func *f = v[i];

		fprintf(s->out, "%-6s %10" PRIu64 " %16" PRIu64 " %16" PRIu64 "  %s",
			f->kind == PYUST_FUNC_PY ? "func" : "native", f->count, f->incl_ns,
			f->excl_ns, f->shown_name);
		if (f->kind == PYUST_FUNC_PY)
			fprintf(s->out, " (%s)", f->shown_file);
		putc('\n', s->out);
	}
	if (shown < n)
		fprintf(s->out, "%-6s %10s %16s %16s  (%" PRIu32 " more functions)\n", "...", "",
			"", "", n - shown);
	/* Exclusive times add up to the time spent in calls; inclusive ones do not. */
	fprintf(s->out, "%-6s %10" PRIu64 " %16s %16" PRIu64 "  (%" PRIu32 " functions)\n", "total",
		calls, "-", excl, n);
	pyust_print_notes(s, s->out, "# ");
	free(v);
}

static const struct pyust_sink_ops calltime_ops = {
	.end = calltime_end,
};

bt_component_class_initialize_method_status
pyust_calltime_init(bt_self_component_sink *self, bt_self_component_sink_configuration *config,
		    const bt_value *params, void *data)
{
	struct calltime *ct = calloc(1, sizeof(*ct));

	(void)config;
	(void)data;
	if (!ct)
		return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_MEMORY_ERROR;
	return pyust_sink_init(self, params, "sink.pyust.calltime",
			       PYUST_P_NAME | PYUST_P_FILE | PYUST_P_PID | PYUST_P_TID |
				       PYUST_P_TOP | PYUST_P_SORT,
			       &calltime_ops, &ct->base);
}
