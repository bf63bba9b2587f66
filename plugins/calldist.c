/*
 * SPDX-License-Identifier: MIT
 *
 * sink.pyust.calldist: per function, a power-of-two histogram of the
 * inclusive time of its calls, drawn like DTrace's quantize().
 */

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "pyust-plugin.h"

#define BUCKETS 65 /* 0, then [2^k, 2^(k+1)) for k in 0..63 */
#define BAR 40

struct calldist {
	struct pyust_sink base; /* first: the core frees it */
};

static unsigned int bucket_of(uint64_t ns)
{
	return ns ? 64 - (unsigned int)__builtin_clzll(ns) : 0;
}

static uint64_t bucket_value(unsigned int b)
{
	return b ? 1ULL << (b - 1) : 0;
}

static void calldist_exit(struct pyust_sink *s, struct pyust_thread *th,
			  const struct pyust_frame *f, uint64_t incl, uint64_t excl,
			  const struct pyust_event *e)
{
	struct pyust_func *func = f->func;

	(void)s;
	(void)th;
	(void)excl;
	(void)e;
	if (!func->match)
		return;
	if (!func->hist) {
		func->hist = calloc(BUCKETS, sizeof(*func->hist));
		if (!func->hist)
			return;
	}
	func->hist[bucket_of(incl)]++;
}

static void print_hist(FILE *out, const struct pyust_func *f)
{
	unsigned int lo = 0, hi = 0;
	uint64_t total = 0;
	char bar[BAR + 1];

	for (unsigned int b = 0; b < BUCKETS; b++)
		if (f->hist[b]) {
			if (!total)
				lo = b;
			hi = b;
			total += f->hist[b];
		}
	/* One empty row on each side, as quantize() draws them. */
	if (lo > 0)
		lo--;
	if (hi < BUCKETS - 1)
		hi++;
	fprintf(out, "%s %s", f->kind == PYUST_FUNC_PY ? "func" : "native", f->shown_name);
	if (f->kind == PYUST_FUNC_PY)
		fprintf(out, " (%s)", f->shown_file);
	fprintf(out, ", inclusive time (ns), %" PRIu64 " calls\n", f->count);
	fprintf(out, "%20s  ---------------- Distribution ---------------- %s\n", "value", "count");
	for (unsigned int b = lo; b <= hi; b++) {
		unsigned int n = total ? (unsigned int)((f->hist[b] * BAR + total / 2) / total) : 0;

		if (f->hist[b] && !n)
			n = 1;
		memset(bar, '@', n);
		memset(bar + n, ' ', BAR - n);
		bar[BAR] = 0;
		fprintf(out, "%20" PRIu64 " |%s %" PRIu64 "\n", bucket_value(b), bar, f->hist[b]);
	}
	putc('\n', out);
}

static void calldist_end(struct pyust_sink *s)
{
	uint32_t n, shown;
	struct pyust_func **v;

	/* The functions with the most time first. */
	if (s->params.sort == PYUST_SORT_EXCL)
		s->params.sort = PYUST_SORT_INCL;
	v = pyust_sorted_funcs(s, &n);
	shown = s->params.top && s->params.top < n ? (uint32_t)s->params.top : n;
	for (uint32_t i = 0; i < shown; i++)
		if (v[i]->hist)
			print_hist(s->out, v[i]);
	if (shown < n)
		fprintf(s->out, "(%" PRIu32 " more functions)\n", n - shown);
	pyust_print_notes(s, s->out, "# ");
	free(v);
}

static const struct pyust_sink_ops calldist_ops = {
	.exit = calldist_exit,
	.end = calldist_end,
};

bt_component_class_initialize_method_status
pyust_calldist_init(bt_self_component_sink *self, bt_self_component_sink_configuration *config,
		    const bt_value *params, void *data)
{
	struct calldist *cd = calloc(1, sizeof(*cd));

	(void)config;
	(void)data;
	if (!cd)
		return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_MEMORY_ERROR;
	return pyust_sink_init(self, params, "sink.pyust.calldist",
			       PYUST_P_NAME | PYUST_P_FILE | PYUST_P_PID | PYUST_P_TID |
				       PYUST_P_TOP,
			       &calldist_ops, &cd->base);
}
