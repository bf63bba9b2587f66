/*
 * SPDX-License-Identifier: MIT
 *
 * sink.pyust.flow: one line per call and return, like DTrace's py_flowinfo.
 *
 *   C    PID    TID  DELTA(us) FILE:LINE                 TYPE   -- FUNC
 *   0   4242   4242          3 fib.py:5                  func   -> fib
 */

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "pyust-plugin.h"

struct flow {
	struct pyust_sink base; /* first: the core frees it */
	uint64_t last_ts;
	bool header_done, any_line;
};

static void put_id(struct pyust_buf *out, const char *id, uint8_t len)
{
	pyust_w_spaces(out, 7 - len);
	pyust_w_mem(out, id, len);
}

static void line_start(struct flow *fl, struct pyust_thread *th, const struct pyust_event *e)
{
	struct pyust_buf *out = &fl->base.ob;
	int64_t cpu = pyust_event_cpu(e);
	uint64_t delta = fl->any_line && e->ts > fl->last_ts ? e->ts - fl->last_ts : 0;

	if (!fl->header_done) {
		pyust_w_printf(out, "%3s %6s %6s %10s %-25s %-6s -- %s\n", "C", "PID", "TID",
			       "DELTA(us)", "FILE:LINE", "TYPE", "FUNC");
		fl->header_done = true;
	}
	fl->any_line = true;
	fl->last_ts = e->ts;
	if (cpu >= 0)
		pyust_w_i64(out, cpu, 3);
	else
		pyust_w_str(out, "  -", 0);
	put_id(out, th->pid_str, th->pid_len);
	put_id(out, th->tid_str, th->tid_len);
	pyust_w_char(out, ' ');
	pyust_w_u64(out, delta / 1000, 10);
	pyust_w_char(out, ' ');
}

/* "FILE:LINE TYPE   " then the indented arrow and name */
static void call_line(struct flow *fl, struct pyust_thread *th, const struct pyust_event *e,
		      const struct pyust_func *f, uint32_t depth, const char *arrow)
{
	struct pyust_buf *out = &fl->base.ob;
	int64_t line;

	line_start(fl, th, e);
	if (f->kind == PYUST_FUNC_PY) {
		int n = (int)strlen(f->shown_base) + 1;

		if (!pyust_event_int(e, PM_LINE, &line))
			line = 0;
		pyust_w_mem(out, f->shown_base, (size_t)n - 1);
		pyust_w_char(out, ':');
		n += pyust_w_i64(out, line, 0);
		pyust_w_spaces(out, 25 - n);
		pyust_w_str(out, " func  ", 0);
	} else {
		pyust_w_str(out, "-", 25);
		pyust_w_str(out, " native", 0);
	}
	pyust_w_spaces(out, 1 + 2 * (int)depth);
	pyust_w_str(out, arrow, 0);
	pyust_w_char(out, ' ');
	pyust_w_str(out, f->shown_name, 0);
	pyust_w_char(out, '\n');
}

static void flow_entry(struct pyust_sink *s, struct pyust_thread *th, const struct pyust_event *e)
{
	const struct pyust_func *f = th->stack[th->depth - 1].func;

	if (f->match)
		call_line((struct flow *)s, th, e, f, th->depth - 1, "->");
}

static void flow_exit(struct pyust_sink *s, struct pyust_thread *th, const struct pyust_frame *f,
		      uint64_t incl, uint64_t excl, const struct pyust_event *e)
{
	(void)incl;
	(void)excl;
	if (f->func->match)
		call_line((struct flow *)s, th, e, f->func, th->depth, "<-");
}

static void flow_other(struct pyust_sink *s, struct pyust_thread *th, const struct pyust_event *e)
{
	struct flow *fl = (struct flow *)s;
	const char *msg, *logger;
	int64_t level = 0;

	if (e->cls->kind != PYUST_EV_LOG || s->params.name_glob || s->params.file_glob)
		return;
	msg = pyust_event_string(e, PM_MSG);
	logger = pyust_event_string(e, PM_LOGGER);
	pyust_event_int(e, PM_LEVEL, &level);
	line_start(fl, th, e);
	pyust_w_printf(&s->ob, "%-25s %-6s %*s-- [%" PRId64 "] ", "-", "log", (int)(2 * th->depth),
		       "", level);
	pyust_w_clean(&s->ob, logger ? logger : "", false);
	pyust_w_str(&s->ob, ": ", 0);
	pyust_w_clean(&s->ob, msg ? msg : "", false);
	pyust_w_char(&s->ob, '\n');
}

static void flow_discarded(struct pyust_sink *s, const char *what, uint64_t count, bool known)
{
	if (known)
		pyust_w_printf(&s->ob, "# %" PRIu64 " %s discarded here: call stacks reset\n",
			       count, what);
	else
		pyust_w_printf(&s->ob, "# %s discarded here: call stacks reset\n", what);
}

static void flow_end(struct pyust_sink *s)
{
	pyust_print_notes(s, s->out, "# ");
}

static const struct pyust_sink_ops flow_ops = {
	.entry = flow_entry,
	.exit = flow_exit,
	.other = flow_other,
	.discarded = flow_discarded,
	.end = flow_end,
};

bt_component_class_initialize_method_status
pyust_flow_init(bt_self_component_sink *self, bt_self_component_sink_configuration *config,
		const bt_value *params, void *data)
{
	struct flow *fl = calloc(1, sizeof(*fl));

	(void)config;
	(void)data;
	if (!fl)
		return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_MEMORY_ERROR;
	return pyust_sink_init(self, params, "sink.pyust.flow",
			       PYUST_P_NAME | PYUST_P_FILE | PYUST_P_PID | PYUST_P_TID, &flow_ops,
			       &fl->base);
}
