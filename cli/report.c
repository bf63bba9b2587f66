/*
 * SPDX-License-Identifier: MIT
 *
 * pyust report: one of the pyust plugin's sinks over a trace, in-process,
 * with debug-info in the graph when the trace has native function events.
 */

#include "pyust-cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"usage: pyust report TRACE VIEW [--name GLOB] [--file GLOB] [--pid N] [--tid N]\n"
	"                    [--top N] [--sort KEY]\n"
	"VIEW is one of:\n"
	"  --stack     merged timeline of Python and native calls and log records\n"
	"  --flow      calls and returns with time deltas and file:line (py_flowinfo)\n"
	"  --calltime  per function: calls, inclusive and exclusive time\n"
	"  --calldist  per function: power-of-two latency histograms\n"
	"  --folded    collapsed stacks weighted by exclusive time, for flame graphs\n"
	"  --speedscope FILE   speedscope's JSON profile (https://www.speedscope.app)\n"
	"  --flamegraph FILE   an SVG flame graph\n"
	"--name/--file keep the functions (or stacks through them) matching a glob,\n"
	"--pid/--tid one process or thread; --top N and --sort exclusive|inclusive|count|name\n"
	"for --calltime (--top also for --calldist).\n";

static const char *const views[] = {"stack", "flow", "calltime", "calldist", "folded"};
/* The views written to a file. */
static const char *const file_views[] = {"speedscope", "flamegraph"};

static const bt_plugin *pyust_plugin(void)
{
	const char *dir = getenv("PYUST_PLUGIN_PATH");
	const bt_plugin_set *set = NULL;
	const bt_plugin *p = NULL;
	uint64_t i;

	if (!dir)
		dir = PYUST_PLUGINDIR;
	if (bt_plugin_find_all_from_dir(dir, BT_FALSE, BT_FALSE, &set) !=
	    BT_PLUGIN_FIND_ALL_FROM_DIR_STATUS_OK) {
		bt_current_thread_clear_error();
		return NULL;
	}
	for (i = 0; i < bt_plugin_set_get_plugin_count(set); i++) {
		const bt_plugin *q = bt_plugin_set_borrow_plugin_by_index_const(set, i);

		if (strcmp(bt_plugin_get_name(q), "pyust") == 0) {
			p = q;
			bt_plugin_get_ref(p);
			break;
		}
	}
	bt_plugin_set_put_ref(set);
	return p;
}

static int int_arg(const char *opt, const char *s, int64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	if (errno || end == s || *end) {
		fprintf(stderr, "pyust report: %s %s: not an integer\n", opt, s);
		return -1;
	}
	return 0;
}

/* The sink's parameters from the options; the view's name in *view. */
static int parse(int argc, char **argv, const char **trace, const char **view, const char **file,
		 bt_value *params)
{
	int i;
	size_t k;
	int64_t n;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage, stdout);
			return 1;
		}
		if (a[0] != '-' || a[1] != '-') {
			if (*trace) {
				fprintf(stderr, "pyust report: one trace at a time (%s, %s)\n%s",
					*trace, a, usage);
				return -1;
			}
			*trace = a;
			continue;
		}
		for (k = 0; k < sizeof(views) / sizeof(views[0]); k++)
			if (strcmp(a + 2, views[k]) == 0)
				break;
		if (k < sizeof(views) / sizeof(views[0])) {
			if (*view) {
				fprintf(stderr, "pyust report: one view at a time\n%s", usage);
				return -1;
			}
			*view = views[k];
			continue;
		}
		if (!v) {
			fprintf(stderr, "pyust report: unknown option or missing value: %s\n%s", a,
				usage);
			return -1;
		}
		for (k = 0; k < sizeof(file_views) / sizeof(file_views[0]); k++)
			if (strcmp(a + 2, file_views[k]) == 0)
				break;
		if (k < sizeof(file_views) / sizeof(file_views[0])) {
			if (*view) {
				fprintf(stderr, "pyust report: one view at a time\n%s", usage);
				return -1;
			}
			*view = file_views[k];
			*file = v;
			i++;
			continue;
		}
		if (strcmp(a, "--name") == 0 || strcmp(a, "--file") == 0 ||
		    strcmp(a, "--sort") == 0) {
			if (bt_value_map_insert_string_entry(params, a + 2, v) < 0)
				return -1;
		} else if (strcmp(a, "--pid") == 0 || strcmp(a, "--tid") == 0 ||
			   strcmp(a, "--top") == 0) {
			if (int_arg(a, v, &n) < 0 ||
			    bt_value_map_insert_signed_integer_entry(params, a + 2, n) < 0)
				return -1;
		} else {
			fprintf(stderr, "pyust report: unknown option: %s\n%s", a, usage);
			return -1;
		}
		i++;
	}
	if (!*trace || !*view) {
		fprintf(stderr, "pyust report: %s\n%s", *trace ? "which view?" : "which trace?",
			usage);
		return -1;
	}
	return 0;
}

int pyust_graph_add_view(struct pyust_graph *g, const char *view, bt_value *params, const char *cmd)
{
	const bt_plugin *plugin = pyust_plugin();
	const bt_component_class_sink *cls;
	const bt_component_sink *sink;
	int ret = -1;

	if (!plugin) {
		fprintf(stderr,
			"pyust %s: pyust's Babeltrace 2 plugin is not in %s "
			"(PYUST_PLUGIN_PATH names another directory)\n",
			cmd,
			getenv("PYUST_PLUGIN_PATH") ? getenv("PYUST_PLUGIN_PATH")
						    : PYUST_PLUGINDIR);
		return -1;
	}
	cls = bt_plugin_borrow_sink_component_class_by_name_const(plugin, view);
	if (!cls) {
		fprintf(stderr,
			"pyust %s: the pyust plugin found has no %s view: is it from "
			"an older pyust? (PYUST_PLUGIN_PATH names another)\n",
			cmd, view);
		goto out;
	}
	if (bt_graph_add_sink_component(g->graph, cls, view, params, BT_LOGGING_LEVEL_NONE,
					&sink) != BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
		const bt_error *err = bt_current_thread_take_error();
		uint64_t i;

		fprintf(stderr, "pyust %s: the %s view refused its parameters\n", cmd, view);
		for (i = 0; err && i < bt_error_get_cause_count(err); i++)
			fprintf(stderr, "  %s\n",
				bt_error_cause_get_message(bt_error_borrow_cause_by_index(err, i)));
		if (err)
			bt_error_release(err);
		ret = 2;
		goto out;
	}
	if (bt_graph_connect_ports(g->graph, g->out,
				   bt_component_sink_borrow_input_port_by_index_const(sink, 0),
				   NULL) != BT_GRAPH_CONNECT_PORTS_STATUS_OK) {
		fprintf(stderr, "pyust %s: cannot connect the graph's components\n", cmd);
		goto out;
	}
	ret = 0;
out:
	bt_plugin_put_ref(plugin);
	return ret;
}

int pyust_report_main(int argc, char **argv)
{
	const char *trace = NULL, *view = NULL, *file = NULL;
	bt_value *params = bt_value_map_create();
	struct pyust_graph g = {0};
	int ret;

	if (!params)
		return 1;
	ret = parse(argc, argv, &trace, &view, &file, params);
	if (ret) {
		bt_value_put_ref(params);
		return ret > 0 ? 0 : 2;
	}
	ret = 1;
	if (pyust_graph_open(&g, trace, true, "report") < 0)
		goto out;
	ret = pyust_graph_add_view(&g, view, params, "report");
	if (ret) {
		ret = ret == 2 ? 2 : 1;
		goto out;
	}
	ret = 1;
	if (file && !freopen(file, "w", stdout)) {
		fprintf(stderr, "pyust report: %s: %s\n", file, strerror(errno));
		goto out;
	}
	ret = pyust_graph_run(&g, "report") < 0 ? 1 : 0;
	if (file && fflush(stdout) != 0) {
		fprintf(stderr, "pyust report: %s: %s\n", file, strerror(errno));
		ret = 1;
	}
	if (file && ret == 0)
		fprintf(stderr, "pyust report: %s written\n", file);
out:
	if (g.graph)
		pyust_graph_close(&g);
	bt_value_put_ref(params);
	fflush(stdout);
	return ret;
}
