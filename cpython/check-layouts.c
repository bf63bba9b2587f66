/*
 * SPDX-License-Identifier: MIT
 *
 * Proves at build time that every struct and constant this folder mirrors
 * matches the CPython it is built for: compiled against that version's own
 * internal headers (installed with its headers by CPython's make install,
 * Debian's pythonX.Y-dev and pyenv), it fails to compile on any difference.
 * Never linked into anything; running it does nothing.
 */

#define Py_BUILD_CORE 1

#include <stddef.h>

#include "audit.h"
#include "capi.h"
#include "frame.h"
#include "instance.h"
#include "recursion.h"

#if PY_VERSION_HEX >= 0x030E0000
#include <internal/pycore_audit.h>
#else
#include <internal/pycore_runtime.h>
#endif
#if PY_VERSION_HEX >= 0x030B0000
#include <internal/pycore_dict.h>
#include <internal/pycore_frame.h>
#endif
#if PY_VERSION_HEX >= 0x030E0000
#include <internal/pycore_stackref.h>
#endif

#define SAME(what, mine, theirs) _Static_assert((mine) == (theirs), what)
#define SAME_OFFSET(mine, f, theirs, g)                                                            \
	SAME(#mine "." #f, offsetof(struct mine, f), offsetof(theirs, g))
#define SAME_FIELD(mine, f, theirs, g)                                                             \
	SAME_OFFSET(mine, f, theirs, g);                                                           \
	SAME(#mine "." #f " size", sizeof(((struct mine *)0)->f), sizeof(((theirs *)0)->g))

/* audit.h */
SAME_FIELD(pyust_audit_entry, next, _Py_AuditHookEntry, next);
SAME_FIELD(pyust_audit_entry, hook, _Py_AuditHookEntry, hookCFunction);
SAME_FIELD(pyust_audit_entry, data, _Py_AuditHookEntry, userData);
SAME("audit entry size", sizeof(struct pyust_audit_entry), sizeof(_Py_AuditHookEntry));

/* capi.h */
SAME_FIELD(py_allocator, ctx, PyMemAllocatorEx, ctx);
SAME_FIELD(py_allocator, malloc, PyMemAllocatorEx, malloc);
SAME_FIELD(py_allocator, calloc, PyMemAllocatorEx, calloc);
SAME_FIELD(py_allocator, realloc, PyMemAllocatorEx, realloc);
SAME_FIELD(py_allocator, free, PyMemAllocatorEx, free);
SAME("allocator size", sizeof(struct py_allocator), sizeof(PyMemAllocatorEx));
SAME("raw domain", PYUST_MEM_DOMAIN_RAW, PYMEM_DOMAIN_RAW);
SAME("file input", PYUST_FILE_INPUT, Py_file_input);
SAME_FIELD(py_status, type, PyStatus, _type);
SAME_FIELD(py_status, func, PyStatus, func);
SAME_FIELD(py_status, err_msg, PyStatus, err_msg);
SAME_FIELD(py_status, exitcode, PyStatus, exitcode);
SAME("status size", sizeof(struct py_status), sizeof(PyStatus));

#if PY_VERSION_HEX >= 0x030B0000
/* frame.h */
#if PY_VERSION_HEX >= 0x030D0000
SAME_FIELD(pyust_iframe, f_executable, _PyInterpreterFrame, f_executable);
SAME_FIELD(pyust_iframe, instr_ptr, _PyInterpreterFrame, instr_ptr);
#else
SAME_FIELD(pyust_iframe, f_code, _PyInterpreterFrame, f_code);
SAME_FIELD(pyust_iframe, prev_instr, _PyInterpreterFrame, prev_instr);
#endif
SAME_FIELD(pyust_iframe, previous, _PyInterpreterFrame, previous);
SAME_FIELD(pyust_iframe, owner, _PyInterpreterFrame, owner);
SAME("owned by thread", PYUST_OWNED_BY_THREAD, FRAME_OWNED_BY_THREAD);
SAME("owned by generator", PYUST_OWNED_BY_GENERATOR, FRAME_OWNED_BY_GENERATOR);
SAME("code unit", sizeof(pyust_codeunit), sizeof(_Py_CODEUNIT));
#if PY_VERSION_HEX >= 0x030E0000
/* pyust_frame_code() masks two bits: an object is at least 8-aligned. */
SAME("stack reference tag bits", Py_TAG_BITS | 3, 3);
#endif

/* instance.h */
SAME_FIELD(pyust_dictkeys, dk_log2_index_bytes, struct _dictkeysobject, dk_log2_index_bytes);
SAME_FIELD(pyust_dictkeys, dk_kind, struct _dictkeysobject, dk_kind);
SAME_FIELD(pyust_dictkeys, dk_nentries, struct _dictkeysobject, dk_nentries);
SAME_OFFSET(pyust_dictkeys, dk_indices, struct _dictkeysobject, dk_indices);
SAME("split keys", PYUST_DICT_KEYS_SPLIT, DICT_KEYS_SPLIT);
SAME_FIELD(pyust_keyentry, me_key, PyDictUnicodeEntry, me_key);
SAME_FIELD(pyust_keyentry, me_value, PyDictUnicodeEntry, me_value);
SAME("key entry size", sizeof(struct pyust_keyentry), sizeof(PyDictUnicodeEntry));
#if PY_VERSION_HEX >= 0x030D0000
SAME_FIELD(pyust_values, valid, PyDictValues, valid);
SAME_FIELD(pyust_values, values, PyDictValues, values);
#endif
#endif

int main(void)
{
	return 0;
}
