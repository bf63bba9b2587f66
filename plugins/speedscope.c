/*
 * SPDX-License-Identifier: MIT
 *
 * sink.pyust.speedscope: speedscope's evented JSON profile
 * (https://www.speedscope.app/file-format-schema.json), one profile per
 * thread (pid and tid parameters), Python and native frames mixed, every
 * function shown (speedscope filters itself). Every frame opened is closed: a
 * frame whose return was lost closes when the call stack shows it gone, and
 * frames still open when the trace ends close at its last event. Times are
 * ns from the trace's first event, so that they stay exact as JSON numbers.
 */

#include <inttypes.h>
#include <stdlib.h>

#include "pyust-plugin.h"

struct ev {
	uint64_t at;
	uint32_t frame; /* the func's id */
	char type;	/* 'O' or 'C' */
};

struct thread_events {
	struct ev *v;
	size_t len, cap;
	uint32_t *open; /* ids of the frames opened and not closed, innermost last */
	uint32_t depth, open_cap;
	uint64_t last;
};

struct speedscope {
	struct pyust_sink base; /* first: the core frees it */
	struct pyust_func **frames;
	uint32_t nframes, frames_cap;
	uint64_t first, last;
	bool any;
};

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 64;

	if (need <= *cap)
		return p;
	while (n < need)
		n *= 2;
	p = realloc(p, n * size);
	if (!p) {
		fputs("babeltrace2 pyust plugin: out of memory\n", stderr);
		abort();
	}
	*cap = n;
	return p;
}

static struct thread_events *events_of(struct pyust_thread *th)
{
	if (!th->priv) {
		th->priv = calloc(1, sizeof(struct thread_events));
		if (!th->priv) {
			fputs("babeltrace2 pyust plugin: out of memory\n", stderr);
			abort();
		}
	}
	return th->priv;
}

static void add(struct speedscope *sp, struct thread_events *t, char type, uint32_t id, uint64_t at)
{
	if (!sp->any || at < sp->first)
		sp->first = at;
	if (at > sp->last)
		sp->last = at;
	sp->any = true;
	t->v = grow(t->v, &t->cap, t->len + 1, sizeof(*t->v));
	t->v[t->len++] = (struct ev){at, id, type};
	t->last = at;
}

/* Closes the frames the core no longer has: their returns were lost. */
static void close_to(struct speedscope *sp, struct thread_events *t, uint32_t depth, uint64_t at)
{
	while (t->depth > depth)
		add(sp, t, 'C', t->open[--t->depth], at);
}

static uint32_t id_of(struct speedscope *sp, struct pyust_func *f)
{
	size_t cap = sp->frames_cap;

	if (!f->id) {
		sp->frames = grow(sp->frames, &cap, sp->nframes + 1, sizeof(*sp->frames));
		sp->frames_cap = (uint32_t)cap;
		sp->frames[sp->nframes++] = f;
		f->id = sp->nframes;
	}
	return f->id;
}

/* The core's stack, mirrored: frames it dropped (lost returns, resyncs) close here. */
static void ss_entry(struct pyust_sink *s, struct pyust_thread *th, const struct pyust_event *e)
{
	struct speedscope *sp = (struct speedscope *)s;
	struct thread_events *t = events_of(th);
	size_t cap = t->open_cap;

	close_to(sp, t, th->depth - 1, e->ts);
	t->open = grow(t->open, &cap, t->depth + 1, sizeof(*t->open));
	t->open_cap = (uint32_t)cap;
	t->open[t->depth++] = id_of(sp, th->stack[th->depth - 1].func);
	add(sp, t, 'O', t->open[t->depth - 1], e->ts);
}

static void ss_exit(struct pyust_sink *s, struct pyust_thread *th, const struct pyust_frame *f,
		    uint64_t incl_ns, uint64_t excl_ns, const struct pyust_event *e)
{
	struct speedscope *sp = (struct speedscope *)s;
	struct thread_events *t = events_of(th);

	(void)f;
	(void)incl_ns;
	(void)excl_ns;
	close_to(sp, t, th->depth, e->ts);
}

static void put_profile(struct speedscope *sp, struct pyust_thread *th, bool *first)
{
	struct thread_events *t = th->priv;
	struct pyust_buf *out = &sp->base.ob;

	if (!t || !t->len)
		return;
	close_to(sp, t, 0, sp->last);
	pyust_w_printf(out,
		       "%s\n{\"type\":\"evented\",\"name\":\"pid %s tid %s\",\"unit\":"
		       "\"nanoseconds\",\"startValue\":%" PRIu64 ",\"endValue\":%" PRIu64
		       ",\"events\":[",
		       *first ? "" : ",", th->pid_str, th->tid_str, t->v[0].at - sp->first,
		       sp->last - sp->first);
	/* One object per event (a million here and there): no printf. */
	for (size_t i = 0; i < t->len; i++) {
		pyust_w_str(out, i ? ",{\"type\":\"" : "{\"type\":\"", 0);
		pyust_w_char(out, t->v[i].type);
		pyust_w_str(out, "\",\"frame\":", 0);
		pyust_w_u64(out, t->v[i].frame - 1, 0);
		pyust_w_str(out, ",\"at\":", 0);
		pyust_w_u64(out, t->v[i].at - sp->first, 0);
		pyust_w_char(out, '}');
	}
	pyust_w_str(out, "]}", 0);
	*first = false;
}

static void ss_end(struct pyust_sink *s)
{
	struct speedscope *sp = (struct speedscope *)s;
	struct pyust_buf *out = &s->ob;
	bool first = true;

	pyust_w_str(out,
		    "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\","
		    "\"exporter\":\"pyust\",\"name\":\"pyust trace\",\"shared\":{\"frames\":[",
		    0);
	for (uint32_t i = 0; i < sp->nframes; i++) {
		const struct pyust_func *f = sp->frames[i];

		pyust_w_str(out, i ? ",\n{\"name\":\"" : "\n{\"name\":\"", 0);
		pyust_w_json(out, f->name);
		if (f->kind == PYUST_FUNC_PY) {
			pyust_w_str(out, "\",\"file\":\"", 0);
			pyust_w_json(out, f->file);
		}
		pyust_w_str(out, "\"}", 0);
	}
	pyust_w_str(out, "]},\"profiles\":[", 0);
	for (uint32_t i = 0; i <= s->thread_mask; i++)
		for (struct pyust_thread *th = s->threads[i]; th; th = th->next)
			put_profile(sp, th, &first);
	pyust_w_str(out, "]}\n", 0);
	pyust_buf_flush(out);
	fflush(s->out);
	pyust_print_notes(s, stderr, "sink.pyust.speedscope: ");
}

static void ss_destroy(struct pyust_sink *s)
{
	struct speedscope *sp = (struct speedscope *)s;

	for (uint32_t i = 0; s->threads && i <= s->thread_mask; i++)
		for (struct pyust_thread *th = s->threads[i]; th; th = th->next) {
			struct thread_events *t = th->priv;

			if (t) {
				free(t->v);
				free(t->open);
				free(t);
				th->priv = NULL;
			}
		}
	free(sp->frames);
}

static const struct pyust_sink_ops speedscope_ops = {
	.entry = ss_entry,
	.exit = ss_exit,
	.end = ss_end,
	.destroy = ss_destroy,
};

bt_component_class_initialize_method_status
pyust_speedscope_init(bt_self_component_sink *self, bt_self_component_sink_configuration *config,
		      const bt_value *params, void *data)
{
	struct speedscope *sp = calloc(1, sizeof(*sp));

	(void)config;
	(void)data;
	if (!sp)
		return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_MEMORY_ERROR;
	return pyust_sink_init(self, params, "sink.pyust.speedscope", PYUST_P_PID | PYUST_P_TID,
			       &speedscope_ops, &sp->base);
}
