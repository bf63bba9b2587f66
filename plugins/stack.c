/*
 * SPDX-License-Identifier: MIT
 *
 * sink.pyust.stack: the merged timeline. One line per Python call, native
 * call, log record, garbage collection and (with a kernel trace in the same
 * graph) system call, indented by the thread's depth, with the time since
 * the previous line, coloured by magnitude on a terminal.
 */

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pyust-plugin.h"

struct stack {
	struct pyust_sink base; /* first: the core frees it */
	uint64_t last_ts;
	bool any_line, color;
};

static const char *level_name(int64_t level)
{
	if (level >= 50)
		return "CRITICAL";
	if (level >= 40)
		return "ERROR";
	if (level >= 30)
		return "WARNING";
	if (level >= 20)
		return "INFO";
	if (level >= 10)
		return "DEBUG";
	return "NOTSET";
}

static void line_start(struct stack *st, struct pyust_thread *th, const struct pyust_event *e,
		       uint32_t depth)
{
	FILE *out = st->base.out;
	uint64_t delta = st->any_line && e->ts > st->last_ts ? e->ts - st->last_ts : 0;
	const char *color = NULL;

	st->any_line = true;
	st->last_ts = e->ts;
	if (st->color) {
		/* The slow steps stand out: >= 1 ms red, >= 100 us yellow, >= 10 us green. */
		if (delta >= 1000000)
			color = "\033[31m";
		else if (delta >= 100000)
			color = "\033[33m";
		else if (delta >= 10000)
			color = "\033[32m";
	}
	fprintf(out, "%s+%8" PRIu64 ".%03" PRIu64 " us%s ", color ? color : "", delta / 1000,
		delta % 1000, color ? "\033[0m" : "");
	if (th->pid < INT32_MAX)
		fprintf(out, "%7" PRIu64 "/", th->pid);
	else
		fprintf(out, "%7s/", "-");
	if (th->tid < INT32_MAX)
		fprintf(out, "%-7" PRIu64, th->tid);
	else
		fprintf(out, "%-7s", "-");
	fprintf(out, " %*s", (int)(2 * depth), "");
}

static void stack_entry(struct pyust_sink *s, struct pyust_thread *th, const struct pyust_event *e)
{
	const struct pyust_func *f = th->stack[th->depth - 1].func;
	int64_t line = 0;

	if (!f->match)
		return;
	line_start((struct stack *)s, th, e, th->depth - 1);
	if (f->kind == PYUST_FUNC_PY) {
		pyust_event_int(e, PM_LINE, &line);
		fprintf(s->out, "-> %s (%s:%" PRId64 ")\n", f->shown_name, f->shown_file, line);
	} else {
		fprintf(s->out, "-> %s [native]\n", f->shown_name);
	}
}

static void stack_exit(struct pyust_sink *s, struct pyust_thread *th, const struct pyust_frame *f,
		       uint64_t incl, uint64_t excl, const struct pyust_event *e)
{
	(void)excl;
	if (!f->func->match)
		return;
	line_start((struct stack *)s, th, e, th->depth);
	fprintf(s->out, "<- %s%s  [%" PRIu64 ".%03" PRIu64 " us]\n", f->func->shown_name,
		f->func->kind == PYUST_FUNC_PY ? "" : " [native]", incl / 1000, incl % 1000);
}

static void stack_other(struct pyust_sink *s, struct pyust_thread *th, const struct pyust_event *e)
{
	const char *str;
	int64_t v = 0;

	if (s->params.name_glob || s->params.file_glob)
		return;
	switch (e->cls->kind) {
	case PYUST_EV_LOG:
		line_start((struct stack *)s, th, e, th->depth);
		pyust_event_int(e, PM_LEVEL, &v);
		fprintf(s->out, "LOG %s ", level_name(v));
		str = pyust_event_string(e, PM_LOGGER);
		pyust_put_clean(s->out, str ? str : "?", false);
		fputs(": ", s->out);
		str = pyust_event_string(e, PM_MSG);
		pyust_put_clean(s->out, str ? str : "", false);
		putc('\n', s->out);
		break;
	case PYUST_EV_SYSCALL_ENTRY:
		line_start((struct stack *)s, th, e, th->depth);
		fprintf(s->out, "=> syscall %s\n", e->cls->syscall);
		break;
	case PYUST_EV_SYSCALL_EXIT:
		line_start((struct stack *)s, th, e, th->depth);
		if (pyust_event_int(e, PM_RET, &v))
			fprintf(s->out, "<= syscall %s = %" PRId64 "\n", e->cls->syscall, v);
		else
			fprintf(s->out, "<= syscall %s\n", e->cls->syscall);
		break;
	case PYUST_EV_GC_START:
		line_start((struct stack *)s, th, e, th->depth);
		pyust_event_int(e, PM_GC_ARG, &v);
		fprintf(s->out, "gc start (generation %" PRId64 ")\n", v);
		break;
	case PYUST_EV_GC_DONE:
		line_start((struct stack *)s, th, e, th->depth);
		pyust_event_int(e, PM_GC_ARG, &v);
		fprintf(s->out, "gc done (%" PRId64 " collected)\n", v);
		break;
	default:
		break;
	}
}

static void stack_discarded(struct pyust_sink *s, const char *what, uint64_t count, bool known)
{
	if (known)
		fprintf(s->out, "# %" PRIu64 " %s discarded here: call stacks reset\n", count,
			what);
	else
		fprintf(s->out, "# %s discarded here: call stacks reset\n", what);
}

static void stack_end(struct pyust_sink *s)
{
	pyust_print_notes(s, s->out, "# ");
}

static const struct pyust_sink_ops stack_ops = {
	.entry = stack_entry,
	.exit = stack_exit,
	.other = stack_other,
	.discarded = stack_discarded,
	.end = stack_end,
};

bt_component_class_initialize_method_status
pyust_stack_init(bt_self_component_sink *self, bt_self_component_sink_configuration *config,
		 const bt_value *params, void *data)
{
	struct stack *st = calloc(1, sizeof(*st));
	const char *no_color = getenv("NO_COLOR");

	(void)config;
	(void)data;
	if (!st)
		return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_MEMORY_ERROR;
	st->color = isatty(STDOUT_FILENO) && !(no_color && no_color[0]);
	return pyust_sink_init(self, params, "sink.pyust.stack",
			       PYUST_P_NAME | PYUST_P_FILE | PYUST_P_PID | PYUST_P_TID, &stack_ops,
			       &st->base);
}
