/*
 * SPDX-License-Identifier: MIT
 *
 * What a trace holds: events by name and discarded events, counted by a
 * simple sink at the end of the graph.
 */

#include "pyust-cli.h"

#include <stdlib.h>
#include <string.h>

static int add(struct pyust_counts *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->len; i++) {
		if (strcmp(c->by_name[i].name, name) == 0) {
			c->by_name[i].n++;
			return 0;
		}
	}
	if (c->len == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		struct pyust_count *p = realloc(c->by_name, cap * sizeof(*p));

		if (!p)
			return -1;
		c->by_name = p;
		c->cap = cap;
	}
	c->by_name[c->len].name = strdup(name);
	if (!c->by_name[c->len].name)
		return -1;
	c->by_name[c->len++].n = 1;
	return 0;
}

static int take(struct pyust_counts *c, const bt_message *msg)
{
	const bt_event_class *ec;
	const char *name;
	uint64_t n;

	switch (bt_message_get_type(msg)) {
	case BT_MESSAGE_TYPE_EVENT:
		ec = bt_event_borrow_class_const(bt_message_event_borrow_event_const(msg));
		name = bt_event_class_get_name(ec);
		c->events++;
		return add(c, name ? name : "(unnamed)");
	case BT_MESSAGE_TYPE_DISCARDED_EVENTS:
		if (bt_message_discarded_events_get_count(msg, &n) ==
		    BT_PROPERTY_AVAILABILITY_AVAILABLE)
			c->discarded += n;
		else
			c->discarded_unknown++;
		return 0;
	default:
		return 0;
	}
}

static bt_graph_simple_sink_component_consume_func_status consume(bt_message_iterator *it,
								  void *data)
{
	struct pyust_counts *c = data;
	bt_message_array_const msgs;
	uint64_t i, n;
	int failed = 0;

	if (*c->stop) {
		c->stopped = true;
		return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_END;
	}
	switch (bt_message_iterator_next(it, &msgs, &n)) {
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_OK:
		break;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_END:
		return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_END;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_AGAIN:
		return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_AGAIN;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_MEMORY_ERROR:
		return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_MEMORY_ERROR;
	default:
		return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_ERROR;
	}
	for (i = 0; i < n; i++) {
		failed |= take(c, msgs[i]);
		bt_message_put_ref(msgs[i]);
	}
	return failed ? BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_MEMORY_ERROR
		      : BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_OK;
}

static int by_count(const void *a, const void *b)
{
	const struct pyust_count *x = a, *y = b;

	return x->n != y->n ? (x->n < y->n ? 1 : -1) : strcmp(x->name, y->name);
}

int pyust_count_trace(const char *trace, struct pyust_counts *c, const volatile sig_atomic_t *stop)
{
	const bt_component_sink *sink;
	struct pyust_graph g;
	int ret = -1;

	memset(c, 0, sizeof(*c));
	c->stop = stop;
	if (pyust_graph_open(&g, trace, false, "record") < 0)
		return -1;
	if (bt_graph_add_simple_sink_component(g.graph, "count", NULL, consume, NULL, c, &sink) !=
		    BT_GRAPH_ADD_COMPONENT_STATUS_OK ||
	    bt_graph_connect_ports(g.graph, g.out,
				   bt_component_sink_borrow_input_port_by_index_const(sink, 0),
				   NULL) != BT_GRAPH_CONNECT_PORTS_STATUS_OK)
		goto out;
	ret = pyust_graph_run(&g, "record");
	if (c->len)
		qsort(c->by_name, c->len, sizeof(*c->by_name), by_count);
out:
	pyust_graph_close(&g);
	return ret;
}

void pyust_counts_free(struct pyust_counts *c)
{
	size_t i;

	for (i = 0; i < c->len; i++)
		free(c->by_name[i].name);
	free(c->by_name);
	memset(c, 0, sizeof(*c));
}
