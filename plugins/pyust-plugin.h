/*
 * SPDX-License-Identifier: MIT
 *
 * The Babeltrace 2 plugin "pyust": what every sink shares. callstack.c
 * turns the messages into per-thread call stacks once; each sink file only
 * says what to do with an entry, a return, a log record, a system call.
 */

#ifndef PYUST_PLUGIN_H
#define PYUST_PLUGIN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <babeltrace2/babeltrace.h>

enum pyust_kind {
	PYUST_EV_OTHER = 0,
	PYUST_EV_PY_ENTRY,
	PYUST_EV_PY_RETURN,
	PYUST_EV_NATIVE_ENTRY,
	PYUST_EV_NATIVE_EXIT,
	PYUST_EV_LOG,
	PYUST_EV_SYSCALL_ENTRY,
	PYUST_EV_SYSCALL_EXIT,
	PYUST_EV_GC_START,
	PYUST_EV_GC_DONE,
};

/* Payload members looked up once per event class (-1: absent or wrong type). */
enum pyust_member {
	PM_FILE, /* co_filename */
	PM_NAME, /* co_name */
	PM_LINE, /* line_no */
	PM_ADDR, /* addr */
	PM_MSG,
	PM_LOGGER,
	PM_FUNCNAME,
	PM_LINENO,
	PM_LEVEL,
	PM_THREADNAME,
	PM_RET,	   /* syscall_exit_*: ret */
	PM_GC_ARG, /* generation or collected */
	PM_COUNT,
};

/* What callstack.c knows of one event class, found once. */
struct pyust_class {
	const bt_event_class *ec;
	enum pyust_kind kind;
	const char *syscall; /* the system call's name, for syscall_* events */
	bool has_clock;
	int64_t member[PM_COUNT];
	uint8_t member_signed[PM_COUNT];
	/* common context: the thread's identity */
	int64_t ctx_pid, ctx_tid, ctx_debug_info, debug_info_func;
	uint8_t pid_signed, tid_signed;
	int64_t packet_cpu; /* packet context cpu_id */
	uint8_t cpu_signed;
};

enum pyust_func_kind {
	PYUST_FUNC_PY,
	PYUST_FUNC_NATIVE,
};

/* An interned function: one per (file, name) or native symbol. */
struct pyust_func {
	struct pyust_func *next; /* hash chain */
	uint64_t hash;
	enum pyust_func_kind kind;
	bool match; /* passes the name/file filters */
	char *name, *file;
	const char *shown_name, *shown_file; /* control bytes replaced */
	const char *shown_base;		     /* shown_file without its directory */
	uint64_t count, incl_ns, excl_ns;
	uint64_t *hist; /* calldist's buckets, allocated when first used */
	uint32_t id;	/* a sink's number for it, from 1; 0: none yet */
};

/* A node of the call tree (calling context), for the folded sink. */
struct pyust_node {
	struct pyust_node *parent, *next; /* next: hash chain */
	struct pyust_func *func;
	bool match; /* this or an ancestor passes the filters */
	uint64_t excl_ns;
	uint32_t index;		     /* a sink's number for it */
	struct pyust_node *all_next; /* every node, newest first, for the final walk */
};

struct pyust_frame {
	struct pyust_func *func;
	struct pyust_node *node;
	uint64_t start_ns, child_ns;
};

struct pyust_thread {
	struct pyust_thread *next; /* hash chain */
	uint64_t pid, tid;
	char pid_str[12], tid_str[12]; /* formatted once; "-" when unknown */
	uint8_t pid_len, tid_len;
	bool match; /* passes the pid/tid filters */
	struct pyust_frame *stack;
	uint32_t depth, cap;
	void *priv; /* the sink's own, freed by its destroy */
};

/* The event being handled, as the sinks see it. */
struct pyust_event {
	const bt_message *msg;
	const bt_event *ev;
	const bt_field *payload;
	const struct pyust_class *cls;
	uint64_t ts; /* ns from the clock's origin, 0 without a clock */
};

/*
 * The sinks' output buffer: a line per event through stdio costs more than
 * reading the event, so lines are built here and written in large blocks.
 */
struct pyust_buf {
	FILE *f;
	size_t len;
	char data[1 << 16];
};

void pyust_buf_flush(struct pyust_buf *b);

static inline void pyust_w_mem(struct pyust_buf *b, const char *p, size_t n)
{
	if (b->len + n > sizeof(b->data)) {
		pyust_buf_flush(b);
		if (n > sizeof(b->data)) {
			fwrite(p, 1, n, b->f);
			return;
		}
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static inline void pyust_w_char(struct pyust_buf *b, char c)
{
	if (b->len == sizeof(b->data))
		pyust_buf_flush(b);
	b->data[b->len++] = c;
}

void pyust_w_spaces(struct pyust_buf *b, int n);

/* Left-aligned in width. */
static inline void pyust_w_str(struct pyust_buf *b, const char *s, int width)
{
	size_t n = strlen(s);

	pyust_w_mem(b, s, n);
	if ((int)n < width)
		pyust_w_spaces(b, width - (int)n);
}

/* Right-aligned in width; return the characters written. */
int pyust_w_u64(struct pyust_buf *b, uint64_t v, int width);
int pyust_w_i64(struct pyust_buf *b, int64_t v, int width);
void pyust_w_printf(struct pyust_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Control bytes (and ';' in folded stacks) replaced: one record stays one line. */
void pyust_w_clean(struct pyust_buf *b, const char *str, bool folded);
/* A JSON string's contents: escapes, and U+FFFD for what is not UTF-8. */
void pyust_w_json(struct pyust_buf *b, const char *str);

struct pyust_sink;

/* What a sink does; any of these may be NULL. */
struct pyust_sink_ops {
	/* after the frame was pushed: th->stack[th->depth - 1] */
	void (*entry)(struct pyust_sink *s, struct pyust_thread *th, const struct pyust_event *e);
	/* the frame being popped (th->depth is already decremented) */
	void (*exit)(struct pyust_sink *s, struct pyust_thread *th, const struct pyust_frame *f,
		     uint64_t incl_ns, uint64_t excl_ns, const struct pyust_event *e);
	void (*other)(struct pyust_sink *s, struct pyust_thread *th, const struct pyust_event *e);
	void (*discarded)(struct pyust_sink *s, const char *what, uint64_t count, bool known);
	void (*end)(struct pyust_sink *s); /* the trace ended: print the report */
	void (*destroy)(struct pyust_sink *s);
};

/* Accepted parameters; each sink lists the ones it takes. */
enum {
	PYUST_P_NAME = 1 << 0,
	PYUST_P_FILE = 1 << 1,
	PYUST_P_PID = 1 << 2,
	PYUST_P_TID = 1 << 3,
	PYUST_P_TOP = 1 << 4,
	PYUST_P_SORT = 1 << 5,
};

enum pyust_sort {
	PYUST_SORT_EXCL,
	PYUST_SORT_INCL,
	PYUST_SORT_COUNT,
	PYUST_SORT_NAME,
};

struct pyust_params {
	char *name_glob, *file_glob;
	bool has_pid, has_tid;
	int64_t pid, tid;
	uint64_t top; /* 0: all */
	enum pyust_sort sort;
};

struct pyust_sink {
	const char *sink_name; /* "sink.pyust.flow" */
	const struct pyust_sink_ops *ops;
	bt_self_component *self;
	bt_message_iterator *iter;
	struct pyust_params params;
	bool want_tree;
	FILE *out;	     /* for reports: flush ob first */
	struct pyust_buf ob; /* for lines */

	/* event classes, open addressing on the pointer */
	struct pyust_class *classes;
	uint32_t class_mask, class_count;
	struct pyust_class *last_class;

	/* threads */
	struct pyust_thread **threads;
	uint32_t thread_mask, thread_count;
	struct pyust_thread *last_thread;

	/* interned functions */
	struct pyust_func **funcs;
	uint32_t func_mask, func_count;
	/* native function by (pid, address), direct-mapped; an address
	 * debug-info could not name yet is looked up again (see native_func) */
	struct {
		uint64_t pid, addr;
		struct pyust_func *func;
		bool named;
	} native_cache[1024];

	/* call-tree nodes */
	struct pyust_node **nodes;
	uint32_t node_mask, node_count;
	struct pyust_node *all_nodes;

	/* what the report says about the trace */
	uint64_t events, discarded_events, discarded_packets, resyncs;
	uint64_t unmatched_returns, lost_frames, open_at_end;
	bool discarded_unknown;
	bool no_tid_warned, no_pid_warned;
};

/* Component plumbing shared by every sink (callstack.c). */
bt_component_class_initialize_method_status
pyust_sink_init(bt_self_component_sink *self, const bt_value *params, const char *sink_name,
		unsigned int accepted, const struct pyust_sink_ops *ops, struct pyust_sink *s);
bt_component_class_sink_graph_is_configured_method_status
pyust_sink_graph_is_configured(bt_self_component_sink *self);
bt_component_class_sink_consume_method_status pyust_sink_consume(bt_self_component_sink *self);
void pyust_sink_finalize(bt_self_component_sink *self);

/* Helpers for the sinks. */
const char *pyust_event_string(const struct pyust_event *e, enum pyust_member m);
bool pyust_event_int(const struct pyust_event *e, enum pyust_member m, int64_t *v);
int64_t pyust_event_cpu(const struct pyust_event *e);
void pyust_print_notes(struct pyust_sink *s, FILE *f, const char *prefix);
struct pyust_func **pyust_sorted_funcs(struct pyust_sink *s, uint32_t *n);

/* The sinks' initialize methods (one file each). */
bt_component_class_initialize_method_status
pyust_flow_init(bt_self_component_sink *self, bt_self_component_sink_configuration *config,
		const bt_value *params, void *data);
bt_component_class_initialize_method_status
pyust_calltime_init(bt_self_component_sink *self, bt_self_component_sink_configuration *config,
		    const bt_value *params, void *data);
bt_component_class_initialize_method_status
pyust_calldist_init(bt_self_component_sink *self, bt_self_component_sink_configuration *config,
		    const bt_value *params, void *data);
bt_component_class_initialize_method_status
pyust_folded_init(bt_self_component_sink *self, bt_self_component_sink_configuration *config,
		  const bt_value *params, void *data);
bt_component_class_initialize_method_status
pyust_speedscope_init(bt_self_component_sink *self, bt_self_component_sink_configuration *config,
		      const bt_value *params, void *data);
bt_component_class_initialize_method_status
pyust_flamegraph_init(bt_self_component_sink *self, bt_self_component_sink_configuration *config,
		      const bt_value *params, void *data);
bt_component_class_initialize_method_status
pyust_stack_init(bt_self_component_sink *self, bt_self_component_sink_configuration *config,
		 const bt_value *params, void *data);

#endif /* PYUST_PLUGIN_H */
