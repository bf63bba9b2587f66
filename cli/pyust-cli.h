/*
 * SPDX-License-Identifier: MIT
 *
 * The pyust command: shared declarations of its subcommands.
 */

#ifndef PYUST_CLI_H
#define PYUST_CLI_H

#include <babeltrace2/babeltrace.h>
#include <stdbool.h>
#include <stdint.h>

int pyust_record_main(int argc, char **argv);
int pyust_report_main(int argc, char **argv);

/* A graph reading TRACE's CTF traces, merged in time order. */
struct pyust_graph {
	bt_graph *graph;
	const bt_port_output *out; /* the merged messages' port */
	bool native;		   /* native function events are in the trace */
};

/* 0 on success; otherwise prints why (prefixed by "pyust <cmd>: ") and returns -1. */
int pyust_graph_open(struct pyust_graph *g, const char *trace, bool debug_info, const char *cmd);
/* How many CTF traces are under dir. */
int pyust_trace_count(const char *dir);
/* Runs the graph to its end; -1 (after printing why) on error. */
int pyust_graph_run(struct pyust_graph *g, const char *cmd);
void pyust_graph_close(struct pyust_graph *g);

/* What a trace holds, by event name. */
struct pyust_count {
	char *name;
	uint64_t n;
};

struct pyust_counts {
	struct pyust_count *by_name;
	size_t len, cap;
	uint64_t events, discarded, discarded_unknown;
};

int pyust_count_trace(const char *trace, struct pyust_counts *c);
void pyust_counts_free(struct pyust_counts *c);

#endif /* PYUST_CLI_H */
