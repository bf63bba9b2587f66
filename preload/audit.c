/*
 * SPDX-License-Identifier: MIT
 *
 * Taking pyust's audit hooks out of CPython's list while they have nothing to
 * do. As long as any C audit hook is installed, CPython builds the arguments
 * of every audit event, and logging.Logger.findCaller raises five per record
 * (sys._getframe, frame attribute reads): 7% of a logging-heavy program. The
 * C API cannot remove a hook, so the entry is found in the list that
 * _PyRuntime heads and unlinked. The entry's layout, {next, hook, data}, is
 * the same from 3.8 to 3.13; where the head sits in _PyRuntime changes, so
 * it is searched for: the one word of _PyRuntime from which the list leads
 * to our entry, reading only memory that /proc/self/maps says is readable.
 * Unlinked entries are kept, never freed: a thread walking the list at that
 * moment still reads valid memory, and the entry can be linked again.
 * Callers hold the GIL.
 */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pyust-preload.h"

struct hook_entry {
	struct hook_entry *next;
	void *hook;
	void *data;
};

struct range {
	uintptr_t lo, hi;
};

static struct range *ranges;
static size_t nranges;

/* The readable mappings, in address order as the kernel lists them. */
static int load_maps(void)
{
	size_t size = 0, cap = 1 << 16, n = 0, cap_r = 64;
	char *buf = malloc(cap), *line, *end;
	struct range *r = malloc(cap_r * sizeof(*r));
	ssize_t got;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || !buf || !r)
		goto fail;
	while ((got = read(fd, buf + size, cap - size - 1)) > 0) {
		size += (size_t)got;
		if (cap - size < 2) {
			char *bigger = realloc(buf, cap * 2);

			if (!bigger)
				goto fail;
			buf = bigger;
			cap *= 2;
		}
	}
	buf[size] = '\0';
	for (line = buf; *line; line = *end ? end + 1 : end) {
		unsigned long lo, hi;
		char *p;

		end = strchrnul(line, '\n');
		lo = strtoul(line, &p, 16);
		if (*p != '-')
			continue;
		hi = strtoul(p + 1, &p, 16);
		if (*p != ' ' || p[1] != 'r')
			continue;
		if (n == cap_r) {
			struct range *more = realloc(r, cap_r * 2 * sizeof(*r));

			if (!more)
				goto fail;
			r = more;
			cap_r *= 2;
		}
		r[n].lo = lo;
		r[n].hi = hi;
		n++;
	}
	close(fd);
	free(buf);
	free(ranges);
	ranges = r;
	nranges = n;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(r);
	return -1;
}

static int readable(uintptr_t p, size_t len)
{
	size_t lo = 0, hi = nranges;

	if (!p || p % sizeof(void *) || p + len < p)
		return 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (p >= ranges[mid].hi)
			lo = mid + 1;
		else if (p < ranges[mid].lo)
			hi = mid;
		else
			return p + len <= ranges[mid].hi;
	}
	return 0;
}

/* The word of _PyRuntime that heads the runtime's list of C audit hooks. */
static struct hook_entry **head;

/* Finds our entry in the list, and the head once. NULL: not linked. */
static struct hook_entry *find(void *hook, void *data, struct hook_entry **prev)
{
	struct hook_entry **found = NULL, *entry = NULL, *before = NULL;
	uintptr_t *w, *w_end;
	const ElfW(Sym) * sym;
	Dl_info info;
	void *rt;

	if (head) {
		struct hook_entry *e, *p = NULL;
		int depth = 0;

		for (e = *head; e && depth < 1024; p = e, e = e->next, depth++)
			if (e->hook == hook && e->data == data) {
				*prev = p;
				return e;
			}
		return NULL;
	}
	rt = dlsym(RTLD_DEFAULT, "_PyRuntime");
	if (!rt || !dladdr1(rt, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym ||
	    sym->st_size < sizeof(void *) || load_maps() < 0)
		return NULL;
	w_end = (uintptr_t *)((char *)rt + sym->st_size);
	for (w = rt; w < w_end; w++) {
		struct hook_entry *e = (struct hook_entry *)*w, *p = NULL;
		int depth;

		for (depth = 0; depth < 64 && readable((uintptr_t)e, sizeof(*e));
		     depth++, p = e, e = e->next) {
			if (e->hook != hook || e->data != data)
				continue;
			if (found)
				entry = NULL; /* two ways in: not sure which is the head */
			else
				entry = e;
			found = (struct hook_entry **)w;
			before = p;
			break;
		}
		if (found && !entry)
			break;
	}
	/* Needed only for this scan: later look-ups walk the list from the head. */
	free(ranges);
	ranges = NULL;
	nranges = 0;
	if (!entry)
		return NULL;
	head = found;
	*prev = before;
	return entry;
}

void *pyust_audit_unlink(void *hook, void *data)
{
	struct hook_entry *prev = NULL, *e = find(hook, data, &prev);

	if (!e)
		return NULL;
	if (prev)
		__atomic_store_n(&prev->next, e->next, __ATOMIC_RELEASE);
	else
		__atomic_store_n(head, e->next, __ATOMIC_RELEASE);
	return e;
}

int pyust_audit_relink(void *entry)
{
	struct hook_entry *e = entry, *prev;

	if (!head || !e || find(e->hook, e->data, &prev))
		return -1;
	e->next = *head;
	__atomic_store_n(head, e, __ATOMIC_RELEASE);
	return 0;
}

/* How many C hooks CPython's list holds; -1 before the head was found. */
int pyust_audit_count(void)
{
	struct hook_entry *e;
	int n = 0;

	if (!head)
		return -1;
	for (e = *head; e && n < 1024; e = e->next)
		n++;
	return n;
}
