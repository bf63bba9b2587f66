/*
 * SPDX-License-Identifier: MIT
 *
 * The start of every graph the command runs, in-process: source.ctf.fs on the
 * traces under a directory, utils.muxer to merge their streams in time
 * order and, when asked, lttng-utils.debug-info to name native functions.
 */

#include "pyust-cli.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Prints the causes of the current thread's libbabeltrace2 error, if any. */
static void print_error(const char *cmd, const char *what)
{
	const bt_error *err = bt_current_thread_take_error();
	uint64_t i, n;

	fprintf(stderr, "pyust %s: %s\n", cmd, what);
	if (!err)
		return;
	n = bt_error_get_cause_count(err);
	/* The first cause is the deepest one: what went wrong first. */
	for (i = 0; i < n; i++)
		fprintf(stderr, "  %s\n",
			bt_error_cause_get_message(bt_error_borrow_cause_by_index(err, i)));
	bt_error_release(err);
}

static const bt_plugin *find_plugin(const char *name, const char *cmd)
{
	const bt_plugin *p = NULL;

	if (bt_plugin_find(name, BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE, BT_FALSE, &p) !=
		    BT_PLUGIN_FIND_STATUS_OK ||
	    !p) {
		print_error(cmd, "a Babeltrace 2 plugin is missing (Debian: install babeltrace2)");
		fprintf(stderr, "  plugin: %s\n", name);
		return NULL;
	}
	return p;
}

/* What nftw() found under the directory: the traces (directories with a metadata file). */
static struct {
	char **dirs;
	size_t len;
	bool native;
	bool failed;
} seen;

static void forget_seen(void)
{
	size_t i;

	for (i = 0; i < seen.len; i++)
		free(seen.dirs[i]);
	free(seen.dirs);
	memset(&seen, 0, sizeof(seen));
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	static const char native[] = "lttng_ust_cyg_profile_fast:func_entry";
	char buf[65536], **dirs;
	size_t n, keep = 0;
	FILE *f;

	(void)st;
	if (type != FTW_F || strcmp(path + ftw->base, "metadata") != 0)
		return 0;
	dirs = realloc(seen.dirs, (seen.len + 1) * sizeof(*dirs));
	if (dirs)
		seen.dirs = dirs;
	if (!dirs || !(dirs[seen.len] = strndup(path, ftw->base > 0 ? ftw->base - 1 : 0))) {
		seen.failed = true;
		return 1;
	}
	seen.len++;
	f = fopen(path, "rb");
	if (!f)
		return 0;
	/* The event's name, possibly across two reads. */
	while (!seen.native && (n = fread(buf + keep, 1, sizeof(buf) - keep, f)) > 0) {
		n += keep;
		if (memmem(buf, n, native, sizeof(native) - 1))
			seen.native = true;
		keep = n < sizeof(native) ? n : sizeof(native) - 1;
		memmove(buf, buf + n - keep, keep);
	}
	fclose(f);
	return 0;
}

int pyust_trace_count(const char *dir)
{
	int n;

	forget_seen();
	nftw(dir, visit, 16, FTW_PHYS);
	n = (int)seen.len;
	forget_seen();
	return n;
}

/* {"inputs": [input]}: what a CTF source reads. NULL when out of memory. */
static bt_value *inputs_params(const char *input)
{
	bt_value *params = bt_value_map_create(), *inputs = NULL;

	if (params && (bt_value_map_insert_empty_array_entry(params, "inputs", &inputs) !=
			       BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK ||
		       bt_value_array_append_string_element(inputs, input) !=
			       BT_VALUE_ARRAY_APPEND_ELEMENT_STATUS_OK))
		BT_VALUE_PUT_REF_AND_RESET(params);
	return params;
}

/*
 * A graph of the greatest version of the message interchange protocol that
 * every source speaks with its parameters: Babeltrace 2.1 reads CTF 2 traces
 * (LTTng 2.16's default) only under version 1, 2.0 knows version 0 only.
 * The muxer, debug-info and pyust's sinks speak every version.
 */
static bt_graph *create_graph(const bt_component_class_source *cls, bt_value *const *params,
			      size_t n)
{
	bt_component_descriptor_set *set = bt_component_descriptor_set_create();
	uint64_t mip = 0;
	size_t i;

	for (i = 0; set && i < n; i++)
		if (bt_component_descriptor_set_add_descriptor(
			    set, bt_component_class_source_as_component_class_const(cls),
			    params[i]) != BT_COMPONENT_DESCRIPTOR_SET_ADD_DESCRIPTOR_STATUS_OK)
			break;
	/* None found: version 0, and adding the sources says why. */
	if (!set || i < n ||
	    bt_get_greatest_operative_mip_version(set, BT_LOGGING_LEVEL_NONE, &mip) !=
		    BT_GET_GREATEST_OPERATIVE_MIP_VERSION_STATUS_OK) {
		bt_current_thread_clear_error();
		mip = 0;
	}
	bt_component_descriptor_set_put_ref(set);
	return bt_graph_create(mip);
}

static int add_filter(struct pyust_graph *g, const char *plugin, const char *cls_name,
		      const char *name, const char *cmd)
{
	const bt_plugin *p = find_plugin(plugin, cmd);
	const bt_component_class_filter *cls;
	const bt_component_filter *comp;
	const bt_port_input *in;
	int ret = -1;

	if (!p)
		return -1;
	cls = bt_plugin_borrow_filter_component_class_by_name_const(p, cls_name);
	if (!cls || bt_graph_add_filter_component(g->graph, cls, name, NULL, BT_LOGGING_LEVEL_NONE,
						  &comp) != BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
		print_error(cmd, "cannot add a component to the graph");
		goto out;
	}
	in = bt_component_filter_borrow_input_port_by_index_const(comp, 0);
	if (bt_graph_connect_ports(g->graph, g->out, in, NULL) !=
	    BT_GRAPH_CONNECT_PORTS_STATUS_OK) {
		print_error(cmd, "cannot connect the graph's components");
		goto out;
	}
	g->out = bt_component_filter_borrow_output_port_by_index_const(comp, 0);
	ret = 0;
out:
	bt_plugin_put_ref(p);
	return ret;
}

/* One source.ctf.fs for the trace in dir, each of its streams to a new input port of mux. */
static int add_source(struct pyust_graph *g, const bt_component_class_source *cls,
		      const bt_component_filter *mux, const char *dir, const bt_value *params,
		      size_t index, const char *cmd)
{
	const bt_component_source *src;
	char name[32];
	uint64_t i;

	snprintf(name, sizeof(name), "source-%zu", index);
	if (bt_graph_add_source_component(g->graph, cls, name, params, BT_LOGGING_LEVEL_NONE,
					  &src) != BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
		fprintf(stderr, "pyust %s: Babeltrace cannot read the trace in %s\n", cmd, dir);
		print_error(cmd, "why:");
		return -1;
	}
	for (i = 0; i < bt_component_source_get_output_port_count(src); i++) {
		/* The muxer adds an input port each time one is connected. */
		const bt_port_input *in = bt_component_filter_borrow_input_port_by_index_const(
			mux, bt_component_filter_get_input_port_count(mux) - 1);

		if (bt_graph_connect_ports(
			    g->graph, bt_component_source_borrow_output_port_by_index_const(src, i),
			    in, NULL) != BT_GRAPH_CONNECT_PORTS_STATUS_OK) {
			print_error(cmd, "cannot connect the graph's components");
			return -1;
		}
	}
	return 0;
}

/*
 * The graph, with every trace under the directory (one source each: traces
 * of different UUIDs cannot share one) merged by utils.muxer.
 */
static int add_sources_and_muxer(struct pyust_graph *g, const char *cmd)
{
	const bt_plugin *ctf = find_plugin("ctf", cmd), *utils = NULL;
	const bt_component_class_source *src_cls = NULL;
	const bt_component_class_filter *mux_cls = NULL;
	const bt_component_filter *mux;
	bt_value **params = calloc(seen.len, sizeof(*params));
	size_t i;
	int ret = -1;

	utils = ctf ? find_plugin("utils", cmd) : NULL;
	if (!utils)
		goto out;
	for (i = 0; params && i < seen.len; i++)
		if (!(params[i] = inputs_params(seen.dirs[i])))
			break;
	if (!params || i < seen.len) {
		fprintf(stderr, "pyust %s: out of memory\n", cmd);
		goto out;
	}
	src_cls = bt_plugin_borrow_source_component_class_by_name_const(ctf, "fs");
	mux_cls = bt_plugin_borrow_filter_component_class_by_name_const(utils, "muxer");
	g->graph = src_cls ? create_graph(src_cls, params, seen.len) : NULL;
	if (!g->graph) {
		print_error(cmd, "cannot create a Babeltrace graph");
		goto out;
	}
	if (!mux_cls ||
	    bt_graph_add_filter_component(g->graph, mux_cls, "muxer", NULL, BT_LOGGING_LEVEL_NONE,
					  &mux) != BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
		print_error(cmd, "cannot add a component to the graph");
		goto out;
	}
	for (i = 0; i < seen.len; i++)
		if (add_source(g, src_cls, mux, seen.dirs[i], params[i], i, cmd) < 0)
			goto out;
	g->out = bt_component_filter_borrow_output_port_by_index_const(mux, 0);
	ret = 0;
out:
	for (i = 0; params && i < seen.len; i++)
		bt_value_put_ref(params[i]);
	free(params);
	bt_plugin_put_ref(ctf);
	bt_plugin_put_ref(utils);
	return ret;
}

int pyust_graph_open(struct pyust_graph *g, const char *trace, bool debug_info, const char *cmd)
{
	int ret = -1;

	memset(g, 0, sizeof(*g));
	forget_seen();
	if (access(trace, R_OK | X_OK) != 0) {
		fprintf(stderr, "pyust %s: %s: %s\n", cmd, trace, strerror(errno));
		return -1;
	}
	nftw(trace, visit, 16, FTW_PHYS);
	if (seen.failed || seen.len == 0) {
		fprintf(stderr, "pyust %s: %s: %s\n", cmd, trace,
			seen.failed ? "out of memory" : "no CTF trace there (no metadata file)");
		goto out;
	}
	g->native = seen.native;
	if (add_sources_and_muxer(g, cmd) < 0 ||
	    (debug_info && g->native &&
	     add_filter(g, "lttng-utils", "debug-info", "debug-info", cmd) < 0)) {
		pyust_graph_close(g);
		goto out;
	}
	ret = 0;
out:
	forget_seen();
	return ret;
}

int pyust_graph_open_live(struct pyust_graph *g, const char *url, bool debug_info, const char *cmd)
{
	const bt_plugin *ctf = find_plugin("ctf", cmd);
	const bt_component_class_source *cls;
	const bt_component_source *src;
	bt_value *params = inputs_params(url);
	int ret = -1;

	memset(g, 0, sizeof(*g));
	g->native = debug_info;
	if (!ctf || !params)
		goto out;
	cls = bt_plugin_borrow_source_component_class_by_name_const(ctf, "lttng-live");
	g->graph = cls ? create_graph(cls, &params, 1) : NULL;
	/* "end": once the session is destroyed and its data read, the graph ends. */
	if (!cls || !g->graph ||
	    bt_value_map_insert_string_entry(params, "session-not-found-action", "end") !=
		    BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK ||
	    bt_graph_add_source_component(g->graph, cls, "live", params, BT_LOGGING_LEVEL_NONE,
					  &src) != BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
		print_error(cmd, "cannot set up Babeltrace's live source");
		goto out;
	}
	g->out = bt_component_source_borrow_output_port_by_index_const(src, 0);
	if (debug_info && add_filter(g, "lttng-utils", "debug-info", "debug-info", cmd) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0)
		pyust_graph_close(g);
	bt_value_put_ref(params);
	bt_plugin_put_ref(ctf);
	return ret;
}

int pyust_graph_run(struct pyust_graph *g, const char *cmd)
{
	for (;;) {
		switch (bt_graph_run(g->graph)) {
		case BT_GRAPH_RUN_STATUS_OK:
			return 0;
		case BT_GRAPH_RUN_STATUS_AGAIN:
			usleep(1000);
			break;
		default:
			print_error(cmd, "reading the trace failed");
			return -1;
		}
	}
}

void pyust_graph_close(struct pyust_graph *g)
{
	bt_graph_put_ref(g->graph);
	g->graph = NULL;
}
