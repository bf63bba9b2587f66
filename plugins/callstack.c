/*
 * SPDX-License-Identifier: MIT
 *
 * Call-stack reconstruction shared by every pyust sink: classify each event
 * class once (field indices cached, no lookup by name per event), keep one
 * stack per (vpid, vtid), intern functions, and cope with what real traces
 * contain: sessions started mid-call, discarded events, missing contexts.
 */

#define _GNU_SOURCE
#include <fnmatch.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pyust-plugin.h"

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint64_t hash_bytes(uint64_t h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p) {
		fputs("babeltrace2 pyust plugin: out of memory\n", stderr);
		abort();
	}
	return p;
}

/* Event classes */

/* Index of a structure member of the wanted type, or -1. */
static int64_t member_index(const bt_field_class *fc, const char *name, bt_field_class_type want,
			    uint8_t *is_signed)
{
	uint64_t n;

	if (!fc || bt_field_class_get_type(fc) != BT_FIELD_CLASS_TYPE_STRUCTURE)
		return -1;
	n = bt_field_class_structure_get_member_count(fc);
	for (uint64_t i = 0; i < n; i++) {
		const bt_field_class_structure_member *m =
			bt_field_class_structure_borrow_member_by_index_const(fc, i);
		const bt_field_class *mfc;
		bt_field_class_type t;

		if (strcmp(bt_field_class_structure_member_get_name(m), name) != 0)
			continue;
		mfc = bt_field_class_structure_member_borrow_field_class_const(m);
		t = bt_field_class_get_type(mfc);
		if (!bt_field_class_type_is(t, want))
			return -1;
		if (is_signed)
			*is_signed = bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_SIGNED_INTEGER);
		return (int64_t)i;
	}
	return -1;
}

static const bt_field_class *member_class(const bt_field_class *fc, int64_t i)
{
	return bt_field_class_structure_member_borrow_field_class_const(
		bt_field_class_structure_borrow_member_by_index_const(fc, (uint64_t)i));
}

static enum pyust_kind kind_of(const char *name, const char **syscall)
{
	if (!name)
		return PYUST_EV_OTHER;
	if (strncmp(name, "python:", 7) == 0) {
		name += 7;
		if (strcmp(name, "function__entry") == 0)
			return PYUST_EV_PY_ENTRY;
		if (strcmp(name, "function__return") == 0)
			return PYUST_EV_PY_RETURN;
		if (strcmp(name, "gc__start") == 0)
			return PYUST_EV_GC_START;
		if (strcmp(name, "gc__done") == 0)
			return PYUST_EV_GC_DONE;
		return PYUST_EV_OTHER;
	}
	if (strcmp(name, "lttng_ust_cyg_profile_fast:func_entry") == 0 ||
	    strcmp(name, "lttng_ust_cyg_profile:func_entry") == 0)
		return PYUST_EV_NATIVE_ENTRY;
	if (strcmp(name, "lttng_ust_cyg_profile_fast:func_exit") == 0 ||
	    strcmp(name, "lttng_ust_cyg_profile:func_exit") == 0)
		return PYUST_EV_NATIVE_EXIT;
	if (strcmp(name, "lttng_python:event") == 0)
		return PYUST_EV_LOG;
	if (strncmp(name, "compat_", 7) == 0)
		name += 7;
	if (strncmp(name, "syscall_entry_", 14) == 0) {
		*syscall = name + 14;
		return PYUST_EV_SYSCALL_ENTRY;
	}
	if (strncmp(name, "syscall_exit_", 13) == 0) {
		*syscall = name + 13;
		return PYUST_EV_SYSCALL_EXIT;
	}
	return PYUST_EV_OTHER;
}

static void analyse_class(struct pyust_class *c, const bt_event_class *ec)
{
	const bt_stream_class *sc = bt_event_class_borrow_stream_class_const(ec);
	const bt_field_class *payload = bt_event_class_borrow_payload_field_class_const(ec);
	const bt_field_class *ctx =
		bt_stream_class_borrow_event_common_context_field_class_const(sc);
	const bt_field_class *pkt = bt_stream_class_borrow_packet_context_field_class_const(sc);
	static const struct {
		const char *name;
		bt_field_class_type type;
	} members[PM_COUNT] = {
		[PM_FILE] = {"co_filename", BT_FIELD_CLASS_TYPE_STRING},
		[PM_NAME] = {"co_name", BT_FIELD_CLASS_TYPE_STRING},
		[PM_LINE] = {"line_no", BT_FIELD_CLASS_TYPE_INTEGER},
		[PM_ADDR] = {"addr", BT_FIELD_CLASS_TYPE_INTEGER},
		[PM_MSG] = {"msg", BT_FIELD_CLASS_TYPE_STRING},
		[PM_LOGGER] = {"logger_name", BT_FIELD_CLASS_TYPE_STRING},
		[PM_FUNCNAME] = {"funcName", BT_FIELD_CLASS_TYPE_STRING},
		[PM_LINENO] = {"lineno", BT_FIELD_CLASS_TYPE_INTEGER},
		[PM_LEVEL] = {"int_loglevel", BT_FIELD_CLASS_TYPE_INTEGER},
		[PM_THREADNAME] = {"threadName", BT_FIELD_CLASS_TYPE_STRING},
		[PM_RET] = {"ret", BT_FIELD_CLASS_TYPE_INTEGER},
		[PM_GC_ARG] = {"generation", BT_FIELD_CLASS_TYPE_INTEGER},
	};

	c->ec = ec;
	c->kind = kind_of(bt_event_class_get_name(ec), &c->syscall);
	c->has_clock = bt_stream_class_borrow_default_clock_class_const(sc) != NULL;
	for (int i = 0; i < PM_COUNT; i++)
		c->member[i] = member_index(payload, members[i].name, members[i].type,
					    &c->member_signed[i]);
	if (c->kind == PYUST_EV_GC_DONE)
		c->member[PM_GC_ARG] =
			member_index(payload, "collected", BT_FIELD_CLASS_TYPE_INTEGER,
				     &c->member_signed[PM_GC_ARG]);
	/* LTTng-UST names them vpid/vtid, the kernel tracer pid/tid. */
	c->ctx_pid = member_index(ctx, "vpid", BT_FIELD_CLASS_TYPE_INTEGER, &c->pid_signed);
	if (c->ctx_pid < 0)
		c->ctx_pid = member_index(ctx, "pid", BT_FIELD_CLASS_TYPE_INTEGER, &c->pid_signed);
	c->ctx_tid = member_index(ctx, "vtid", BT_FIELD_CLASS_TYPE_INTEGER, &c->tid_signed);
	if (c->ctx_tid < 0)
		c->ctx_tid = member_index(ctx, "tid", BT_FIELD_CLASS_TYPE_INTEGER, &c->tid_signed);
	c->ctx_debug_info = member_index(ctx, "debug_info", BT_FIELD_CLASS_TYPE_STRUCTURE, NULL);
	c->debug_info_func = -1;
	if (c->ctx_debug_info >= 0)
		c->debug_info_func = member_index(member_class(ctx, c->ctx_debug_info), "func",
						  BT_FIELD_CLASS_TYPE_STRING, NULL);
	c->packet_cpu = member_index(pkt, "cpu_id", BT_FIELD_CLASS_TYPE_INTEGER, &c->cpu_signed);
}

static struct pyust_class *class_of(struct pyust_sink *s, const bt_event_class *ec)
{
	uint32_t i;

	if (s->last_class && s->last_class->ec == ec)
		return s->last_class;
	for (i = (uint32_t)mix64((uintptr_t)ec) & s->class_mask; s->classes[i].ec;
	     i = (i + 1) & s->class_mask)
		if (s->classes[i].ec == ec)
			return s->last_class = &s->classes[i];
	if (2 * (s->class_count + 1) > s->class_mask) {
		/* grow, then find the free slot again */
		struct pyust_class *old = s->classes;
		uint32_t old_size = s->class_mask + 1;

		s->class_mask = 2 * old_size - 1;
		s->classes = xcalloc(old_size * 2, sizeof(*s->classes));
		for (uint32_t j = 0; j < old_size; j++) {
			uint32_t k;

			if (!old[j].ec)
				continue;
			for (k = (uint32_t)mix64((uintptr_t)old[j].ec) & s->class_mask;
			     s->classes[k].ec; k = (k + 1) & s->class_mask)
				;
			s->classes[k] = old[j];
		}
		free(old);
		for (i = (uint32_t)mix64((uintptr_t)ec) & s->class_mask; s->classes[i].ec;
		     i = (i + 1) & s->class_mask)
			;
	}
	/* Keep the class alive so that its address stays its identity. */
	bt_event_class_get_ref(ec);
	analyse_class(&s->classes[i], ec);
	s->class_count++;
	return s->last_class = &s->classes[i];
}

/* Field access */

static const bt_field *member(const bt_field *st, int64_t i)
{
	return bt_field_structure_borrow_member_field_by_index_const(st, (uint64_t)i);
}

static uint64_t int_value(const bt_field *f, bool is_signed)
{
	return is_signed ? (uint64_t)bt_field_integer_signed_get_value(f)
			 : bt_field_integer_unsigned_get_value(f);
}

const char *pyust_event_string(const struct pyust_event *e, enum pyust_member m)
{
	if (!e->payload || e->cls->member[m] < 0)
		return NULL;
	return bt_field_string_get_value(member(e->payload, e->cls->member[m]));
}

bool pyust_event_int(const struct pyust_event *e, enum pyust_member m, int64_t *v)
{
	if (!e->payload || e->cls->member[m] < 0)
		return false;
	*v = (int64_t)int_value(member(e->payload, e->cls->member[m]), e->cls->member_signed[m]);
	return true;
}

int64_t pyust_event_cpu(const struct pyust_event *e)
{
	const bt_packet *p;
	const bt_field *ctx;

	if (e->cls->packet_cpu < 0)
		return -1;
	p = bt_event_borrow_packet_const(e->ev);
	ctx = p ? bt_packet_borrow_context_field_const(p) : NULL;
	if (!ctx)
		return -1;
	return (int64_t)int_value(member(ctx, e->cls->packet_cpu), e->cls->cpu_signed);
}

/* Replace control bytes (and ';' in folded stacks) so that one record stays one line. */
static bool clean_char(unsigned char c, bool folded)
{
	return c >= 0x20 && c != 0x7f && !(folded && c == ';');
}

void pyust_w_clean(struct pyust_buf *b, const char *str, bool folded)
{
	for (const unsigned char *p = (const unsigned char *)str; *p; p++)
		pyust_w_char(b, clean_char(*p, folded) ? (char)*p : (*p == ';' ? ':' : '?'));
}

/* Length of the valid UTF-8 sequence at p (1 to 4), 0 if none. */
static int utf8_len(const unsigned char *p)
{
	int n, i;
	uint32_t c;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, c = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, c = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, c = p[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return n;
}

void pyust_w_json(struct pyust_buf *b, const char *str)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)str;
	int n;

	while (*p) {
		if (*p == '"' || *p == '\\') {
			pyust_w_char(b, '\\');
			pyust_w_char(b, (char)*p++);
		} else if (*p < 0x20 || *p == 0x7f) {
			char u[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};

			pyust_w_mem(b, u, sizeof(u));
			p++;
		} else if ((n = utf8_len(p)) > 0) {
			pyust_w_mem(b, (const char *)p, (size_t)n);
			p += n;
		} else {
			pyust_w_mem(b, "\xef\xbf\xbd", 3); /* U+FFFD */
			p++;
		}
	}
}

void pyust_buf_flush(struct pyust_buf *b)
{
	if (b->len)
		fwrite(b->data, 1, b->len, b->f);
	b->len = 0;
}

void pyust_w_spaces(struct pyust_buf *b, int n)
{
	while (n > 0) {
		size_t k = (size_t)n < sizeof(b->data) / 2 ? (size_t)n : sizeof(b->data) / 2;

		if (b->len + k > sizeof(b->data))
			pyust_buf_flush(b);
		memset(b->data + b->len, ' ', k);
		b->len += k;
		n -= (int)k;
	}
}

void pyust_w_printf(struct pyust_buf *b, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(line)) {
		pyust_w_mem(b, line, (size_t)n);
		return;
	}
	pyust_buf_flush(b);
	va_start(ap, fmt);
	vfprintf(b->f, fmt, ap);
	va_end(ap);
}

/* Digits straight into the buffer: this runs several times per line. */
static int put_int(struct pyust_buf *b, uint64_t v, bool negative, int width)
{
	char tmp[24], *end = tmp + sizeof(tmp), *p = end;
	int n, pad;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (negative)
		*--p = '-';
	n = (int)(end - p);
	pad = width > n ? width - n : 0;
	if (pad > 64) {
		pyust_w_spaces(b, pad);
		pad = 0;
	}
	if (b->len + (size_t)(pad + n) > sizeof(b->data))
		pyust_buf_flush(b);
	memset(b->data + b->len, ' ', (size_t)pad);
	memcpy(b->data + b->len + pad, p, (size_t)n);
	b->len += (size_t)(pad + n);
	return n + pad;
}

int pyust_w_u64(struct pyust_buf *b, uint64_t v, int width)
{
	return put_int(b, v, false, width);
}

int pyust_w_i64(struct pyust_buf *b, int64_t v, int width)
{
	return put_int(b, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0, width);
}

static const char *clean_copy(char *raw)
{
	char *copy;

	for (const char *p = raw; *p; p++)
		if (!clean_char((unsigned char)*p, false))
			goto dirty;
	return raw;
dirty:
	copy = strdup(raw);
	for (char *p = copy; *p; p++)
		if (!clean_char((unsigned char)*p, false))
			*p = '?';
	return copy;
}

/* Functions */

static bool glob_match(const char *glob, const char *str)
{
	return !glob || fnmatch(glob, str, 0) == 0;
}

static struct pyust_func *intern(struct pyust_sink *s, enum pyust_func_kind kind, const char *file,
				 size_t flen, const char *name, size_t nlen)
{
	uint64_t h = hash_bytes(0xcbf29ce484222325ULL ^ kind, file, flen);
	struct pyust_func *f;
	uint32_t b;

	h = hash_bytes(h * 31, name, nlen);
	b = (uint32_t)h & s->func_mask;
	for (f = s->funcs[b]; f; f = f->next)
		if (f->hash == h && f->kind == kind && strncmp(f->name, name, nlen) == 0 &&
		    !f->name[nlen] && strncmp(f->file, file, flen) == 0 && !f->file[flen])
			return f;
	f = xcalloc(1, sizeof(*f));
	f->hash = h;
	f->kind = kind;
	f->name = strndup(name, nlen);
	f->file = strndup(file, flen);
	f->shown_name = clean_copy(f->name);
	f->shown_file = clean_copy(f->file);
	f->shown_base =
		strrchr(f->shown_file, '/') ? strrchr(f->shown_file, '/') + 1 : f->shown_file;
	f->match = glob_match(s->params.name_glob, f->name) &&
		   glob_match(s->params.file_glob, f->file);
	f->next = s->funcs[b];
	s->funcs[b] = f;
	if (++s->func_count > s->func_mask) {
		uint32_t size = 2 * (s->func_mask + 1);
		struct pyust_func **t = xcalloc(size, sizeof(*t));

		for (uint32_t i = 0; i <= s->func_mask; i++) {
			struct pyust_func *next;

			for (struct pyust_func *g = s->funcs[i]; g; g = next) {
				next = g->next;
				g->next = t[g->hash & (size - 1)];
				t[g->hash & (size - 1)] = g;
			}
		}
		free(s->funcs);
		s->funcs = t;
		s->func_mask = size - 1;
	}
	return f;
}

static struct pyust_func *native_func(struct pyust_sink *s, const struct pyust_event *e,
				      const bt_field *ctx, uint64_t pid)
{
	const struct pyust_class *c = e->cls;
	uint64_t addr = 0;
	uint32_t slot;
	const char *sym = NULL;
	size_t len = 0;
	char hex[24];
	struct pyust_func *f;

	if (e->payload && c->member[PM_ADDR] >= 0)
		addr = int_value(member(e->payload, c->member[PM_ADDR]), false);
	slot = (uint32_t)mix64(addr ^ (pid << 48)) & 1023;
	/* A library loaded after the statedump has no name until the next one
	 * (lttng regenerate statedump): until then, look again at each call. */
	if (s->native_cache[slot].func && s->native_cache[slot].addr == addr &&
	    s->native_cache[slot].pid == pid &&
	    (s->native_cache[slot].named || !ctx || c->debug_info_func < 0))
		return s->native_cache[slot].func;
	if (ctx && c->debug_info_func >= 0) {
		/* "fn+0x12": the function is what precedes the offset */
		sym = bt_field_string_get_value(
			member(member(ctx, c->ctx_debug_info), c->debug_info_func));
		const char *plus = strrchr(sym, '+');

		len = plus ? (size_t)(plus - sym) : strlen(sym);
	}
	if (!len) {
		len = (size_t)snprintf(hex, sizeof(hex), "0x%" PRIx64, addr);
		sym = hex;
	}
	f = intern(s, PYUST_FUNC_NATIVE, "", 0, sym, len);
	s->native_cache[slot].addr = addr;
	s->native_cache[slot].pid = pid;
	s->native_cache[slot].func = f;
	s->native_cache[slot].named = sym != hex;
	return f;
}

/* Call tree */

static uint32_t node_hash(const struct pyust_node *parent, const struct pyust_func *func)
{
	return (uint32_t)mix64((uintptr_t)parent * 31 + (uintptr_t)func);
}

static struct pyust_node *node_of(struct pyust_sink *s, struct pyust_node *parent,
				  struct pyust_func *func)
{
	uint32_t b = node_hash(parent, func) & s->node_mask;
	struct pyust_node *n;

	for (n = s->nodes[b]; n; n = n->next)
		if (n->parent == parent && n->func == func)
			return n;
	n = xcalloc(1, sizeof(*n));
	n->parent = parent;
	n->func = func;
	n->match = func->match || (parent && parent->match);
	n->next = s->nodes[b];
	s->nodes[b] = n;
	n->all_next = s->all_nodes;
	s->all_nodes = n;
	if (++s->node_count > s->node_mask) {
		uint32_t size = 2 * (s->node_mask + 1);
		struct pyust_node **t = xcalloc(size, sizeof(*t));

		for (struct pyust_node *m = s->all_nodes; m; m = m->all_next) {
			uint32_t k = node_hash(m->parent, m->func) & (size - 1);

			m->next = t[k];
			t[k] = m;
		}
		free(s->nodes);
		s->nodes = t;
		s->node_mask = size - 1;
	}
	return n;
}

/* Threads */

static uint32_t thread_hash(uint64_t pid, uint64_t tid)
{
	return (uint32_t)mix64(pid * 0x9e3779b97f4a7c15ULL + tid);
}

static struct pyust_thread *thread_of(struct pyust_sink *s, const struct pyust_event *e,
				      const bt_field *ctx)
{
	const struct pyust_class *c = e->cls;
	uint64_t pid, tid;
	struct pyust_thread *th;
	uint32_t b;

	if (c->ctx_tid >= 0 && c->ctx_pid >= 0) {
		pid = int_value(member(ctx, c->ctx_pid), c->pid_signed);
		tid = int_value(member(ctx, c->ctx_tid), c->tid_signed);
	} else if (c->ctx_tid >= 0) {
		tid = int_value(member(ctx, c->ctx_tid), c->tid_signed);
		pid = UINT64_MAX;
	} else if (c->ctx_pid >= 0) {
		/* Without the thread, one stack per process: right for one thread. */
		pid = int_value(member(ctx, c->ctx_pid), c->pid_signed);
		tid = UINT64_MAX;
		s->no_tid_warned = true;
	} else {
		/*
		 * Nothing: one stack per trace. Not per stream: LTTng's streams
		 * are per CPU, and a thread moving to another CPU would split
		 * its calls across two stacks.
		 */
		pid = UINT64_MAX;
		tid = (uintptr_t)bt_stream_borrow_trace_const(bt_event_borrow_stream_const(e->ev)) |
		      (1ULL << 63);
		s->no_pid_warned = true;
	}
	if (s->last_thread && s->last_thread->tid == tid && s->last_thread->pid == pid)
		return s->last_thread;
	b = thread_hash(pid, tid) & s->thread_mask;
	for (th = s->threads[b]; th; th = th->next)
		if (th->tid == tid && th->pid == pid)
			return s->last_thread = th;
	th = xcalloc(1, sizeof(*th));
	th->pid = pid;
	th->tid = tid;
	th->pid_len = (uint8_t)(pid < INT32_MAX ? snprintf(th->pid_str, sizeof(th->pid_str),
							   "%" PRIu64, pid)
						: snprintf(th->pid_str, sizeof(th->pid_str), "-"));
	th->tid_len = (uint8_t)(tid < INT32_MAX ? snprintf(th->tid_str, sizeof(th->tid_str),
							   "%" PRIu64, tid)
						: snprintf(th->tid_str, sizeof(th->tid_str), "-"));
	th->match = (!s->params.has_pid || (int64_t)pid == s->params.pid) &&
		    (!s->params.has_tid || (int64_t)tid == s->params.tid);
	th->next = s->threads[b];
	s->threads[b] = th;
	if (++s->thread_count > s->thread_mask) {
		uint32_t size = 2 * (s->thread_mask + 1);
		struct pyust_thread **t = xcalloc(size, sizeof(*t));

		for (uint32_t i = 0; i <= s->thread_mask; i++) {
			struct pyust_thread *next;

			for (struct pyust_thread *u = s->threads[i]; u; u = next) {
				next = u->next;
				uint32_t k = thread_hash(u->pid, u->tid) & (size - 1);
				u->next = t[k];
				t[k] = u;
			}
		}
		free(s->threads);
		s->threads = t;
		s->thread_mask = size - 1;
	}
	return s->last_thread = th;
}

/* Stacks */

static void push(struct pyust_sink *s, struct pyust_thread *th, struct pyust_func *func,
		 const struct pyust_event *e)
{
	struct pyust_frame *f;

	if (th->depth == th->cap) {
		th->cap = th->cap ? 2 * th->cap : 64;
		th->stack = realloc(th->stack, th->cap * sizeof(*th->stack));
		if (!th->stack) {
			fputs("babeltrace2 pyust plugin: out of memory\n", stderr);
			abort();
		}
	}
	f = &th->stack[th->depth++];
	f->func = func;
	f->start_ns = e->ts;
	f->child_ns = 0;
	f->node = s->want_tree ? node_of(s, th->depth > 1 ? f[-1].node : NULL, func) : NULL;
	if (s->ops->entry)
		s->ops->entry(s, th, e);
}

static void pop(struct pyust_sink *s, struct pyust_thread *th, const struct pyust_event *e)
{
	struct pyust_frame *f = &th->stack[--th->depth];
	uint64_t incl = e->ts > f->start_ns ? e->ts - f->start_ns : 0;
	uint64_t excl = incl > f->child_ns ? incl - f->child_ns : 0;

	if (th->depth)
		f[-1].child_ns += incl;
	f->func->count++;
	f->func->incl_ns += incl;
	f->func->excl_ns += excl;
	if (f->node)
		f->node->excl_ns += excl;
	if (s->ops->exit)
		s->ops->exit(s, th, f, incl, excl, e);
}

static bool same_py(const struct pyust_func *f, const char *file, const char *name)
{
	return f->kind == PYUST_FUNC_PY && strcmp(f->name, name) == 0 && strcmp(f->file, file) == 0;
}

/*
 * A Python return closes the innermost frame of that function: any frame
 * above it lost its return (discarded, filtered out); a return with no such
 * frame belongs to a call made before the session started.
 */
static void py_return(struct pyust_sink *s, struct pyust_thread *th, const struct pyust_event *e)
{
	const char *file = pyust_event_string(e, PM_FILE);
	const char *name = pyust_event_string(e, PM_NAME);
	uint32_t i;

	if (!file)
		file = "";
	if (!name)
		name = "";
	if (th->depth && same_py(th->stack[th->depth - 1].func, file, name)) {
		pop(s, th, e);
		return;
	}
	for (i = th->depth; i > 0; i--)
		if (same_py(th->stack[i - 1].func, file, name))
			break;
	if (!i) {
		s->unmatched_returns++;
		return;
	}
	s->lost_frames += th->depth - i;
	th->depth = i;
	pop(s, th, e);
}

static void native_exit(struct pyust_sink *s, struct pyust_thread *th, const struct pyust_event *e)
{
	if (th->depth && th->stack[th->depth - 1].func->kind == PYUST_FUNC_NATIVE)
		pop(s, th, e);
	else
		s->unmatched_returns++;
}

static void reset_stacks(struct pyust_sink *s)
{
	for (uint32_t i = 0; i <= s->thread_mask; i++)
		for (struct pyust_thread *th = s->threads[i]; th; th = th->next) {
			s->lost_frames += th->depth;
			th->depth = 0;
		}
	s->resyncs++;
}

static void handle_event(struct pyust_sink *s, const bt_message *msg)
{
	struct pyust_event e;
	const bt_field *ctx = NULL;
	struct pyust_thread *th;

	e.msg = msg;
	e.ev = bt_message_event_borrow_event_const(msg);
	e.cls = class_of(s, bt_event_borrow_class_const(e.ev));
	if (e.cls->kind == PYUST_EV_OTHER)
		return;
	s->events++;
	e.payload = bt_event_borrow_payload_field_const(e.ev);
	e.ts = 0;
	if (e.cls->has_clock) {
		int64_t ns;

		if (bt_clock_snapshot_get_ns_from_origin(
			    bt_message_event_borrow_default_clock_snapshot_const(msg), &ns) ==
		    BT_CLOCK_SNAPSHOT_GET_NS_FROM_ORIGIN_STATUS_OK)
			e.ts = (uint64_t)ns;
	}
	if (e.cls->ctx_pid >= 0 || e.cls->ctx_tid >= 0)
		ctx = bt_event_borrow_common_context_field_const(e.ev);
	th = thread_of(s, &e, ctx);
	if (!th->match)
		return;
	switch (e.cls->kind) {
	case PYUST_EV_PY_ENTRY: {
		const char *file = pyust_event_string(&e, PM_FILE);
		const char *name = pyust_event_string(&e, PM_NAME);

		if (!file)
			file = "";
		if (!name)
			name = "";
		push(s, th, intern(s, PYUST_FUNC_PY, file, strlen(file), name, strlen(name)), &e);
		break;
	}
	case PYUST_EV_PY_RETURN:
		py_return(s, th, &e);
		break;
	case PYUST_EV_NATIVE_ENTRY:
		push(s, th, native_func(s, &e, ctx, th->pid), &e);
		break;
	case PYUST_EV_NATIVE_EXIT:
		native_exit(s, th, &e);
		break;
	default:
		if (s->ops->other)
			s->ops->other(s, th, &e);
		break;
	}
}

static void handle_message(struct pyust_sink *s, const bt_message *msg)
{
	uint64_t count = 0;
	bool known;

	switch (bt_message_get_type(msg)) {
	case BT_MESSAGE_TYPE_EVENT:
		handle_event(s, msg);
		break;
	case BT_MESSAGE_TYPE_DISCARDED_EVENTS:
		known = bt_message_discarded_events_get_count(msg, &count) ==
			BT_PROPERTY_AVAILABILITY_AVAILABLE;
		s->discarded_events += count;
		s->discarded_unknown |= !known;
		reset_stacks(s);
		if (s->ops->discarded)
			s->ops->discarded(s, "events", count, known);
		break;
	case BT_MESSAGE_TYPE_DISCARDED_PACKETS:
		known = bt_message_discarded_packets_get_count(msg, &count) ==
			BT_PROPERTY_AVAILABILITY_AVAILABLE;
		s->discarded_packets += count;
		s->discarded_unknown |= !known;
		reset_stacks(s);
		if (s->ops->discarded)
			s->ops->discarded(s, "packets", count, known);
		break;
	default:
		break;
	}
}

void pyust_print_notes(struct pyust_sink *s, FILE *f, const char *prefix)
{
	pyust_buf_flush(&s->ob);
	if (s->discarded_events || s->discarded_packets || s->discarded_unknown)
		fprintf(f,
			"%sthe trace lost %" PRIu64 " events%s and %" PRIu64
			" packets: call stacks were reset %" PRIu64 " times, %" PRIu64
			" open frames dropped; figures are incomplete\n",
			prefix, s->discarded_events, s->discarded_unknown ? " (or more)" : "",
			s->discarded_packets, s->resyncs, s->lost_frames);
	else if (s->lost_frames)
		fprintf(f, "%s%" PRIu64 " frames never returned (their returns are missing)\n",
			prefix, s->lost_frames);
	if (s->unmatched_returns)
		fprintf(f,
			"%s%" PRIu64 " returns without an entry ignored (calls made before the "
			"session started)\n",
			prefix, s->unmatched_returns);
	if (s->open_at_end)
		fprintf(f,
			"%s%" PRIu64 " calls still running at the end of the trace, not counted\n",
			prefix, s->open_at_end);
	if (s->no_tid_warned)
		fprintf(f,
			"%sno vtid context: one call stack per process (add it with "
			"`lttng add-context -u -t vtid`)\n",
			prefix);
	if (s->no_pid_warned)
		fprintf(f,
			"%sno vpid/vtid contexts: one call stack per trace (add them with "
			"`lttng add-context -u -t vpid -t vtid`)\n",
			prefix);
}

static int cmp_funcs(const void *a, const void *b, void *arg)
{
	const struct pyust_func *x = *(struct pyust_func *const *)a;
	const struct pyust_func *y = *(struct pyust_func *const *)b;
	uint64_t u, v;
	int r;

	switch (*(enum pyust_sort *)arg) {
	case PYUST_SORT_INCL:
		u = x->incl_ns, v = y->incl_ns;
		break;
	case PYUST_SORT_COUNT:
		u = x->count, v = y->count;
		break;
	case PYUST_SORT_NAME:
		u = v = 0;
		break;
	default:
		u = x->excl_ns, v = y->excl_ns;
		break;
	}
	if (u != v)
		return u < v ? 1 : -1;
	r = strcmp(x->name, y->name);
	return r ? r : strcmp(x->file, y->file);
}

/* The called functions passing the filters, sorted as asked. */
struct pyust_func **pyust_sorted_funcs(struct pyust_sink *s, uint32_t *n)
{
	struct pyust_func **v = xcalloc(s->func_count + 1, sizeof(*v));
	uint32_t k = 0;

	for (uint32_t i = 0; i <= s->func_mask; i++)
		for (struct pyust_func *f = s->funcs[i]; f; f = f->next)
			if (f->match && f->count)
				v[k++] = f;
	qsort_r(v, k, sizeof(*v), cmp_funcs, &s->params.sort);
	*n = k;
	return v;
}

/* Component plumbing */

struct param_ctx {
	struct pyust_sink *s;
	unsigned int accepted;
	bool failed;
	char error[256];
};

static const char *const param_names[] = {"name", "file", "pid", "tid", "top", "sort"};

/* Kept until the iteration ends: a cause appended inside it breaks its contract. */
static void param_error(struct param_ctx *pc, const char *what, const char *key)
{
	if (pc->failed)
		return;
	snprintf(pc->error, sizeof(pc->error), "parameter `%s` %s", key, what);
	pc->failed = true;
}

static void report_param_error(struct param_ctx *pc)
{
	char accepted[128] = "";

	for (unsigned int i = 0; i < sizeof(param_names) / sizeof(param_names[0]); i++)
		if (pc->accepted & (1U << i)) {
			if (accepted[0])
				strcat(accepted, ", ");
			strcat(accepted, param_names[i]);
		}
	BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(
		pc->s->self, "%s: %s (accepted parameters: %s)", pc->s->sink_name, pc->error,
		accepted[0] ? accepted : "none");
}

static bool int_param(const bt_value *v, int64_t *out)
{
	if (bt_value_get_type(v) == BT_VALUE_TYPE_SIGNED_INTEGER) {
		*out = bt_value_integer_signed_get(v);
		return true;
	}
	if (bt_value_get_type(v) == BT_VALUE_TYPE_UNSIGNED_INTEGER &&
	    bt_value_integer_unsigned_get(v) <= INT64_MAX) {
		*out = (int64_t)bt_value_integer_unsigned_get(v);
		return true;
	}
	return false;
}

static bt_value_map_foreach_entry_const_func_status one_param(const char *key, const bt_value *v,
							      void *data)
{
	struct param_ctx *pc = data;
	struct pyust_params *p = &pc->s->params;
	unsigned int i;
	int64_t n;

	for (i = 0; i < sizeof(param_names) / sizeof(param_names[0]); i++)
		if (strcmp(key, param_names[i]) == 0)
			break;
	if (i == sizeof(param_names) / sizeof(param_names[0]) || !(pc->accepted & (1U << i))) {
		param_error(pc, "is unknown", key);
		return BT_VALUE_MAP_FOREACH_ENTRY_CONST_FUNC_STATUS_INTERRUPT;
	}
	switch (1U << i) {
	case PYUST_P_NAME:
	case PYUST_P_FILE:
		if (bt_value_get_type(v) != BT_VALUE_TYPE_STRING) {
			param_error(pc, "must be a string (a glob, e.g. name=\"fib*\")", key);
			break;
		}
		if (i == 0)
			p->name_glob = strdup(bt_value_string_get(v));
		else
			p->file_glob = strdup(bt_value_string_get(v));
		break;
	case PYUST_P_PID:
	case PYUST_P_TID:
		if (!int_param(v, &n)) {
			param_error(pc, "must be an integer", key);
			break;
		}
		if (i == 2)
			p->has_pid = true, p->pid = n;
		else
			p->has_tid = true, p->tid = n;
		break;
	case PYUST_P_TOP:
		if (!int_param(v, &n) || n < 0) {
			param_error(pc, "must be an integer >= 0 (0: all)", key);
			break;
		}
		p->top = (uint64_t)n;
		break;
	case PYUST_P_SORT: {
		const char *w =
			bt_value_get_type(v) == BT_VALUE_TYPE_STRING ? bt_value_string_get(v) : "";

		if (strcmp(w, "exclusive") == 0)
			p->sort = PYUST_SORT_EXCL;
		else if (strcmp(w, "inclusive") == 0)
			p->sort = PYUST_SORT_INCL;
		else if (strcmp(w, "count") == 0)
			p->sort = PYUST_SORT_COUNT;
		else if (strcmp(w, "name") == 0)
			p->sort = PYUST_SORT_NAME;
		else
			param_error(pc,
				    "must be \"exclusive\", \"inclusive\", \"count\" or \"name\"",
				    key);
		break;
	}
	}
	return pc->failed ? BT_VALUE_MAP_FOREACH_ENTRY_CONST_FUNC_STATUS_INTERRUPT
			  : BT_VALUE_MAP_FOREACH_ENTRY_CONST_FUNC_STATUS_OK;
}

static void free_sink(struct pyust_sink *s)
{
	struct pyust_node *n, *next_node;

	if (s->ops->destroy)
		s->ops->destroy(s);
	bt_message_iterator_put_ref(s->iter);
	for (uint32_t i = 0; s->classes && i <= s->class_mask; i++)
		if (s->classes[i].ec)
			bt_event_class_put_ref(s->classes[i].ec);
	free(s->classes);
	for (uint32_t i = 0; s->threads && i <= s->thread_mask; i++) {
		struct pyust_thread *next;

		for (struct pyust_thread *th = s->threads[i]; th; th = next) {
			next = th->next;
			free(th->stack);
			free(th);
		}
	}
	free(s->threads);
	for (uint32_t i = 0; s->funcs && i <= s->func_mask; i++) {
		struct pyust_func *next;

		for (struct pyust_func *f = s->funcs[i]; f; f = next) {
			next = f->next;
			if (f->shown_name != f->name)
				free((char *)f->shown_name);
			if (f->shown_file != f->file)
				free((char *)f->shown_file);
			free(f->name);
			free(f->file);
			free(f->hist);
			free(f);
		}
	}
	free(s->funcs);
	for (n = s->all_nodes; n; n = next_node) {
		next_node = n->all_next;
		free(n);
	}
	free(s->nodes);
	free(s->params.name_glob);
	free(s->params.file_glob);
	free(s);
}

bt_component_class_initialize_method_status
pyust_sink_init(bt_self_component_sink *self, const bt_value *params, const char *sink_name,
		unsigned int accepted, const struct pyust_sink_ops *ops, struct pyust_sink *s)
{
	struct param_ctx pc = {.s = s, .accepted = accepted};

	s->sink_name = sink_name;
	s->ops = ops;
	s->self = bt_self_component_sink_as_self_component(self);
	s->out = stdout;
	s->ob.f = stdout;
	s->class_mask = 63;
	s->classes = xcalloc(64, sizeof(*s->classes));
	s->thread_mask = 63;
	s->threads = xcalloc(64, sizeof(*s->threads));
	s->func_mask = 1023;
	s->funcs = xcalloc(1024, sizeof(*s->funcs));
	s->node_mask = 1023;
	s->nodes = xcalloc(1024, sizeof(*s->nodes));
	if (params && bt_value_is_map(params))
		bt_value_map_foreach_entry_const(params, one_param, &pc);
	if (pc.failed) {
		report_param_error(&pc);
		free_sink(s);
		return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_ERROR;
	}
	if (bt_self_component_sink_add_input_port(self, "in", NULL, NULL) !=
	    BT_SELF_COMPONENT_ADD_PORT_STATUS_OK) {
		free_sink(s);
		return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_MEMORY_ERROR;
	}
	bt_self_component_set_data(s->self, s);
	return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_OK;
}

static struct pyust_sink *sink_of(bt_self_component_sink *self)
{
	return bt_self_component_get_data(bt_self_component_sink_as_self_component(self));
}

bt_component_class_sink_graph_is_configured_method_status
pyust_sink_graph_is_configured(bt_self_component_sink *self)
{
	struct pyust_sink *s = sink_of(self);

	if (bt_message_iterator_create_from_sink_component(
		    self, bt_self_component_sink_borrow_input_port_by_index(self, 0), &s->iter) !=
	    BT_MESSAGE_ITERATOR_CREATE_FROM_SINK_COMPONENT_STATUS_OK)
		return BT_COMPONENT_CLASS_SINK_GRAPH_IS_CONFIGURED_METHOD_STATUS_ERROR;
	return BT_COMPONENT_CLASS_SINK_GRAPH_IS_CONFIGURED_METHOD_STATUS_OK;
}

bt_component_class_sink_consume_method_status pyust_sink_consume(bt_self_component_sink *self)
{
	struct pyust_sink *s = sink_of(self);
	bt_message_array_const msgs;
	uint64_t count;

	switch (bt_message_iterator_next(s->iter, &msgs, &count)) {
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_OK:
		break;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_END:
		for (uint32_t i = 0; i <= s->thread_mask; i++)
			for (struct pyust_thread *th = s->threads[i]; th; th = th->next)
				s->open_at_end += th->depth;
		if (s->ops->end)
			s->ops->end(s);
		pyust_buf_flush(&s->ob);
		fflush(s->out);
		BT_MESSAGE_ITERATOR_PUT_REF_AND_RESET(s->iter);
		return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_END;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_AGAIN:
		return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_AGAIN;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_MEMORY_ERROR:
		return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_MEMORY_ERROR;
	default:
		return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_ERROR;
	}
	for (uint64_t i = 0; i < count; i++) {
		handle_message(s, msgs[i]);
		bt_message_put_ref(msgs[i]);
	}
	return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_OK;
}

void pyust_sink_finalize(bt_self_component_sink *self)
{
	struct pyust_sink *s = sink_of(self);

	if (s)
		free_sink(s);
}
