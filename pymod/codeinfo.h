/*
 * SPDX-License-Identifier: MIT
 *
 * The per-code-object cache of the event fields (codeinfo.c): its lookup is
 * inline, for the hook's hot path.
 */

#ifndef PYUST_CODEINFO_H
#define PYUST_CODEINFO_H

#include "frame.h"

#include <stdbool.h>
#include <stdint.h>

/* What the events say about a code object, in pyust's per-code cache. */
struct pyust_code {
	PyCodeObject *code; /* not a reference: the key */
	/* What the entry was made from (references): it matches only while they are co's. */
	PyObject *file_src, *name_src, *lines_src;
	int firstlineno;
	const char *filename; /* UTF-8, owned by filename_obj */
	const char *name;     /* UTF-8, owned by name_obj */
	PyObject *filename_obj;
	PyObject *name_obj;
	/*
	 * The last lines looked up by offset, (offset + 1) << 32 | line: a
	 * function returns and resumes at few places.
	 */
	uint64_t lines[2];
	unsigned int next_line;
};

#define PYUST_CODE_SET_BITS 11 /* 2048 sets of 2: more code objects than most programs run */

extern struct pyust_code pyust_code_table[1u << PYUST_CODE_SET_BITS][2];

struct pyust_code *pyust_code_fill(struct pyust_code *set, PyCodeObject *co);
void pyust_code_forget(void);

/* Whether pc was made from co, and from what co is made of now. */
static inline bool pyust_code_holds(const struct pyust_code *pc, PyCodeObject *co)
{
	return pc->code == co && pc->file_src == co->co_filename && pc->name_src == co->co_name &&
	       pc->lines_src == pyust_code_lines(co) && pc->firstlineno == co->co_firstlineno;
}

/* co's entry, made on its first execution (or after it was replaced); NULL on failure. */
static inline struct pyust_code *pyust_code_get(PyCodeObject *co)
{
	uint64_t h = (uint64_t)(uintptr_t)co * 0x9e3779b97f4a7c15ull;
	struct pyust_code *set = pyust_code_table[h >> (64 - PYUST_CODE_SET_BITS)];

	if (pyust_code_holds(&set[0], co))
		return &set[0];
	if (pyust_code_holds(&set[1], co))
		return &set[1];
	return pyust_code_fill(set, co);
}

#endif /* PYUST_CODEINFO_H */
