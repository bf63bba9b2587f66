/*
 * SPDX-License-Identifier: MIT
 *
 * The plugin's entry points: the only symbols the shared object exports.
 * Each sink's behaviour is in its own file; callstack.c is shared.
 */

#include "pyust-plugin.h"

/* Babeltrace finds the descriptors through these getters: export them. */
#pragma GCC visibility push(default)
BT_PLUGIN_MODULE();
#pragma GCC visibility pop

BT_PLUGIN(pyust);
BT_PLUGIN_DESCRIPTION("Call analyses of pyust traces: Python, native and logging events");
BT_PLUGIN_AUTHOR("The pyust authors");
BT_PLUGIN_LICENSE("MIT");

/*
 * The sinks read what both versions of the message interchange protocol
 * carry alike (names, integers, strings, clock snapshots): every version this
 * Babeltrace knows, 1 included, which CTF 2 traces (LTTng 2.16's default)
 * need.
 */
static bt_component_class_get_supported_mip_versions_method_status
mip_versions(bt_self_component_class_sink *cls, const bt_value *params, void *data,
	     bt_logging_level level, bt_integer_range_set_unsigned *versions)
{
	(void)cls;
	(void)params;
	(void)data;
	(void)level;
	if (bt_integer_range_set_unsigned_add_range(versions, 0, bt_get_maximal_mip_version()) !=
	    BT_INTEGER_RANGE_SET_ADD_RANGE_STATUS_OK)
		return BT_COMPONENT_CLASS_GET_SUPPORTED_MIP_VERSIONS_METHOD_STATUS_MEMORY_ERROR;
	return BT_COMPONENT_CLASS_GET_SUPPORTED_MIP_VERSIONS_METHOD_STATUS_OK;
}

#define PYUST_SINK(_name, _description, _help)                                                     \
	BT_PLUGIN_SINK_COMPONENT_CLASS(_name, pyust_sink_consume);                                 \
	BT_PLUGIN_SINK_COMPONENT_CLASS_DESCRIPTION(_name, _description);                           \
	BT_PLUGIN_SINK_COMPONENT_CLASS_HELP(_name, _help);                                         \
	BT_PLUGIN_SINK_COMPONENT_CLASS_INITIALIZE_METHOD(_name, pyust_##_name##_init);             \
	BT_PLUGIN_SINK_COMPONENT_CLASS_FINALIZE_METHOD(_name, pyust_sink_finalize);                \
	BT_PLUGIN_SINK_COMPONENT_CLASS_GRAPH_IS_CONFIGURED_METHOD(_name,                           \
								  pyust_sink_graph_is_configured); \
	BT_PLUGIN_SINK_COMPONENT_CLASS_GET_SUPPORTED_MIP_VERSIONS_METHOD(_name, mip_versions)

PYUST_SINK(flow, "Flow of calls like DTrace's py_flowinfo: CPU, PID, TID, delta, file:line",
	   "Parameters: name, file (globs), pid, tid (integers).");
PYUST_SINK(calltime, "Per function: calls, inclusive and exclusive time, with totals",
	   "Parameters: name, file (globs), pid, tid, top (integers), "
	   "sort (\"exclusive\", \"inclusive\", \"count\", \"name\").");
PYUST_SINK(calldist, "Per function: power-of-two histograms of the inclusive time",
	   "Parameters: name, file (globs), pid, tid, top (integers).");
PYUST_SINK(folded, "Collapsed stacks weighted by exclusive time (ns), for flame graphs",
	   "Parameters: name, file (globs: keep stacks through a matching frame), pid, tid.");
PYUST_SINK(speedscope, "speedscope's evented JSON profile, one profile per thread",
	   "Parameters: pid, tid (integers). Write it to a file and open it at "
	   "https://www.speedscope.app.");
PYUST_SINK(flamegraph, "An SVG flame graph of the call tree, widths by time",
	   "Parameters: name, file (globs: keep stacks through a matching frame), pid, tid.");
PYUST_SINK(stack, "Merged timeline of Python and native calls, log records and system calls",
	   "Parameters: name, file (globs), pid, tid (integers). NO_COLOR disables colours.");
