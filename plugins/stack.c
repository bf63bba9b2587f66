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

static void put_3digits(struct pyust_buf *out, uint64_t v)
{
	pyust_w_char(out, (char)('0' + v / 100 % 10));
	pyust_w_char(out, (char)('0' + v / 10 % 10));
	pyust_w_char(out, (char)('0' + v % 10));
}

static void line_start(struct stack *st, struct pyust_thread *th, const struct pyust_event *e,
		       uint32_t depth)
{
	struct pyust_buf *out = &st->base.ob;
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
	if (color)
		pyust_w_str(out, color, 0);
	pyust_w_char(out, '+');
	pyust_w_u64(out, delta / 1000, 8);
	pyust_w_char(out, '.');
	put_3digits(out, delta % 1000);
	pyust_w_str(out, " us", 0);
	if (color)
		pyust_w_str(out, "\033[0m", 0);
	pyust_w_char(out, ' ');
	pyust_w_spaces(out, 7 - th->pid_len);
	pyust_w_mem(out, th->pid_str, th->pid_len);
	pyust_w_char(out, '/');
	pyust_w_mem(out, th->tid_str, th->tid_len);
	pyust_w_spaces(out, 7 - th->tid_len);
	pyust_w_spaces(out, 1 + 2 * (int)depth);
}

static void stack_entry(struct pyust_sink *s, struct pyust_thread *th, const struct pyust_event *e)
{
	const struct pyust_func *f = th->stack[th->depth - 1].func;
	int64_t line = 0;

	if (!f->match)
		return;
	line_start((struct stack *)s, th, e, th->depth - 1);
	pyust_w_str(&s->ob, "-> ", 0);
	pyust_w_str(&s->ob, f->shown_name, 0);
	if (f->kind == PYUST_FUNC_PY) {
		pyust_event_int(e, PM_LINE, &line);
		pyust_w_str(&s->ob, " (", 0);
		pyust_w_str(&s->ob, f->shown_file, 0);
		pyust_w_char(&s->ob, ':');
		pyust_w_i64(&s->ob, line, 0);
		pyust_w_str(&s->ob, ")\n", 0);
	} else {
		pyust_w_str(&s->ob, " [native]\n", 0);
	}
}

static void stack_exit(struct pyust_sink *s, struct pyust_thread *th, const struct pyust_frame *f,
		       uint64_t incl, uint64_t excl, const struct pyust_event *e)
{
	(void)excl;
	if (!f->func->match)
		return;
	line_start((struct stack *)s, th, e, th->depth);
	pyust_w_str(&s->ob, "<- ", 0);
	pyust_w_str(&s->ob, f->func->shown_name, 0);
	pyust_w_str(&s->ob, f->func->kind == PYUST_FUNC_PY ? "  [" : " [native]  [", 0);
	pyust_w_u64(&s->ob, incl / 1000, 0);
	pyust_w_char(&s->ob, '.');
	put_3digits(&s->ob, incl % 1000);
	pyust_w_str(&s->ob, " us]\n", 0);
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
		pyust_w_printf(&s->ob, "LOG %s ", level_name(v));
		str = pyust_event_string(e, PM_LOGGER);
		pyust_w_clean(&s->ob, str ? str : "?", false);
		pyust_w_str(&s->ob, ": ", 0);
		str = pyust_event_string(e, PM_MSG);
		pyust_w_clean(&s->ob, str ? str : "", false);
		pyust_w_char(&s->ob, '\n');
		break;
	case PYUST_EV_SYSCALL_ENTRY:
		line_start((struct stack *)s, th, e, th->depth);
		pyust_w_printf(&s->ob, "=> syscall %s\n", e->cls->syscall);
		break;
	case PYUST_EV_SYSCALL_EXIT:
		line_start((struct stack *)s, th, e, th->depth);
		if (pyust_event_int(e, PM_RET, &v))
			pyust_w_printf(&s->ob, "<= syscall %s = %" PRId64 "\n", e->cls->syscall, v);
		else
			pyust_w_printf(&s->ob, "<= syscall %s\n", e->cls->syscall);
		break;
	case PYUST_EV_GC_START:
		line_start((struct stack *)s, th, e, th->depth);
		pyust_event_int(e, PM_GC_ARG, &v);
		pyust_w_printf(&s->ob, "gc start (generation %" PRId64 ")\n", v);
		break;
	case PYUST_EV_GC_DONE:
		line_start((struct stack *)s, th, e, th->depth);
		pyust_event_int(e, PM_GC_ARG, &v);
		pyust_w_printf(&s->ob, "gc done (%" PRId64 " collected)\n", v);
		break;
	default:
		break;
	}
}

static void stack_discarded(struct pyust_sink *s, const char *what, uint64_t count, bool known)
{
	if (known)
		pyust_w_printf(&s->ob, "# %" PRIu64 " %s discarded here: call stacks reset\n",
			       count, what);
	else
		pyust_w_printf(&s->ob, "# %s discarded here: call stacks reset\n", what);
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
