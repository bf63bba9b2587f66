/*
 * SPDX-License-Identifier: MIT
 *
 * sink.pyust.folded: collapsed stacks, "root;caller;callee weight", one
 * line per calling context, weighted by its exclusive time in ns, for
 * flamegraph.pl, speedscope or inferno. Python and native frames mix.
 */

#include <inttypes.h>
#include <stdlib.h>

#include "pyust-plugin.h"

struct folded {
	struct pyust_sink base; /* first: the core frees it */
};

static void put_frame(struct pyust_buf *out, const struct pyust_func *f)
{
	pyust_w_clean(out, f->name, true);
	if (f->kind == PYUST_FUNC_PY) {
		pyust_w_str(out, " (", 0);
		pyust_w_clean(out, f->file, true);
		pyust_w_char(out, ')');
	}
}

static void folded_end(struct pyust_sink *s)
{
	const struct pyust_node **path = NULL;
	size_t cap = 0;
	uint64_t total = 0, stacks = 0;

	for (const struct pyust_node *n = s->all_nodes; n; n = n->all_next) {
		size_t depth = 0;

		if (!n->match || !n->excl_ns)
			continue;
		for (const struct pyust_node *p = n; p; p = p->parent) {
			if (depth == cap) {
				cap = cap ? 2 * cap : 256;
				path = realloc(path, cap * sizeof(*path));
				if (!path)
					return;
			}
			path[depth++] = p;
		}
		while (depth--) {
			put_frame(&s->ob, path[depth]->func);
			if (depth)
				pyust_w_char(&s->ob, ';');
		}
		pyust_w_char(&s->ob, ' ');
		pyust_w_u64(&s->ob, n->excl_ns, 0);
		pyust_w_char(&s->ob, '\n');
		total += n->excl_ns;
		stacks++;
	}
	free(path);
	pyust_buf_flush(&s->ob);
	fflush(s->out);
	/* stdout stays pure folded format: the summary goes to stderr. */
	fprintf(stderr, "sink.pyust.folded: %" PRIu64 " stacks, total %" PRIu64 " ns\n", stacks,
		total);
	pyust_print_notes(s, stderr, "sink.pyust.folded: ");
}

static const struct pyust_sink_ops folded_ops = {
	.end = folded_end,
};

bt_component_class_initialize_method_status
pyust_folded_init(bt_self_component_sink *self, bt_self_component_sink_configuration *config,
		  const bt_value *params, void *data)
{
	struct folded *fo = calloc(1, sizeof(*fo));

	(void)config;
	(void)data;
	if (!fo)
		return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_MEMORY_ERROR;
	fo->base.want_tree = true;
	return pyust_sink_init(self, params, "sink.pyust.folded",
			       PYUST_P_NAME | PYUST_P_FILE | PYUST_P_PID | PYUST_P_TID, &folded_ops,
			       &fo->base);
}
