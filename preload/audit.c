/*
 * SPDX-License-Identifier: MIT
 *
 * Taking pyust's audit hooks out of CPython's list while they have nothing to
 * do. As long as any C audit hook is installed, CPython builds the arguments
 * of every audit event, and logging.Logger.findCaller raises five per record
 * (sys._getframe, frame attribute reads): 7% of a logging-heavy program. The
 * C API cannot remove a hook, so the entry is found in the list that
 * _PyRuntime heads and unlinked. The entry's layout (cpython/audit.h) is
 * the same in every version; where the head sits in _PyRuntime changes. So
 * hooks are added through a raw allocator that sees the one block
 * PySys_AddAuditHook allocates, the entry; when it is first in the list, the
 * head is the one word of _PyRuntime that holds its address. Only _PyRuntime
 * and entries are read: nothing that might not be one (valgrind and ASan
 * check this). Unlinked entries are kept, never freed: a thread walking the
 * list at that moment still reads valid memory, and the entry can be linked
 * again. Callers hold the GIL, or are alone before Py_Initialize.
 */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>

#include "audit.h"
#include "pyust-preload.h"

/* The word of _PyRuntime that heads the runtime's list of C audit hooks. */
static struct pyust_audit_entry **head;

/* While a hook is added: the allocator wrapped, and what was allocated. */
static struct py_allocator wrapped;
static void *block;
static int blocks;

static void *rec_malloc(void *ctx, size_t size)
{
	void *p = wrapped.malloc(ctx, size);

	if (p && !blocks++)
		block = p;
	return p;
}

static void *rec_calloc(void *ctx, size_t nelem, size_t elsize)
{
	void *p = wrapped.calloc(ctx, nelem, elsize);

	if (p && !blocks++)
		block = p;
	return p;
}

static void *rec_realloc(void *ctx, void *ptr, size_t size)
{
	void *p = wrapped.realloc(ctx, ptr, size);

	blocks += 2; /* not what PySys_AddAuditHook does: trust nothing */
	return p;
}

static void rec_free(void *ctx, void *ptr)
{
	if (ptr && ptr == block)
		blocks += 2;
	wrapped.free(ctx, ptr);
}

/* The one word of _PyRuntime holding entry's address, or NULL. */
static struct pyust_audit_entry **head_of(struct pyust_audit_entry *entry)
{
	struct pyust_audit_entry **found = NULL, **w, **end;
	const ElfW(Sym) * sym;
	Dl_info info;
	void *rt = dlsym(RTLD_DEFAULT, "_PyRuntime");

	if (!rt || !dladdr1(rt, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym)
		return NULL;
	end = (struct pyust_audit_entry **)rt + sym->st_size / sizeof(*w);
	for (w = rt; w < end; w++) {
		if (*w != entry)
			continue;
		if (found)
			return NULL; /* two: not sure which is the head */
		found = w;
	}
	return found;
}

int pyust_audit_add(void *hook, void *data, void **entry)
{
	int (*add)(void *hook, void *data) = dlsym(RTLD_DEFAULT, "PySys_AddAuditHook");
	void (*get)(int domain, struct py_allocator *a) = dlsym(RTLD_DEFAULT, "PyMem_GetAllocator");
	void (*set)(int domain, struct py_allocator *a) = dlsym(RTLD_DEFAULT, "PyMem_SetAllocator");
	struct py_allocator rec = {NULL, rec_malloc, rec_calloc, rec_realloc, rec_free};
	struct pyust_audit_entry *e;
	int ret;

	*entry = NULL;
	if (!add)
		return -1;
	if (!get || !set)
		return add(hook, data);
	get(PYUST_MEM_DOMAIN_RAW, &wrapped);
	rec.ctx = wrapped.ctx;
	block = NULL;
	blocks = 0;
	set(PYUST_MEM_DOMAIN_RAW, &rec);
	ret = add(hook, data);
	set(PYUST_MEM_DOMAIN_RAW, &wrapped);
	if (ret != 0 || blocks != 1)
		return ret;
	e = block;
	if (e->hook != hook || e->data != data)
		return 0;
	*entry = e;
	if (!head)
		head = head_of(e);
	return 0;
}

/* Finds our entry in the list. NULL: not linked, or the head is unknown. */
static struct pyust_audit_entry *find(void *hook, void *data, struct pyust_audit_entry **prev)
{
	struct pyust_audit_entry *e, *p = NULL;
	int depth = 0;

	if (!head)
		return NULL;
	for (e = *head; e && depth < 1024; p = e, e = e->next, depth++)
		if (e->hook == hook && e->data == data) {
			*prev = p;
			return e;
		}
	return NULL;
}

void *pyust_audit_unlink(void *hook, void *data)
{
	struct pyust_audit_entry *prev = NULL, *e = find(hook, data, &prev);

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
	struct pyust_audit_entry *e = entry, *prev;

	if (!head || !e || find(e->hook, e->data, &prev))
		return -1;
	e->next = *head;
	__atomic_store_n(head, e, __ATOMIC_RELEASE);
	return 0;
}

/* How many C hooks CPython's list holds; -1 when its head is unknown. */
int pyust_audit_count(void)
{
	struct pyust_audit_entry *e;
	int n = 0;

	if (!head)
		return -1;
	for (e = *head; e && n < 1024; e = e->next)
		n++;
	return n;
}
