/*
 * SPDX-License-Identifier: MIT
 *
 * Process bootstrap: when the preload finds itself in a CPython process, it
 * arranges for the pyust module of that interpreter's version to be imported
 * once the interpreter is initialized, just before the main program runs.
 *
 * The library does not link libpython: the Python C API is looked up at run
 * time, so that one build serves every CPython, and processes that are not
 * Python (sh, make, curl inheriting LD_PRELOAD) are left alone.
 *
 * Two triggers, because CPython's main() is usually linked into the
 * executable and cannot be interposed:
 * - an audit hook (PySys_AddAuditHook is safe before Py_Initialize), whose
 *   cpython.run_* events fire right before a script, -c, -m, stdin or the
 *   REPL runs;
 * - interposed Py_Initialize*, for programs that embed a shared libpython.
 */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyust-preload.h"
#include "versions.h"

typedef void PyObj;

/* The part of the C API the bootstrap uses; all of it exists in 3.8 to 3.15. */
static struct {
	int (*IsInitialized)(void);
	const char *(*GetVersion)(void);
	void (*GetAllocator)(int domain, struct py_allocator *a);
	void (*SetAllocator)(int domain, struct py_allocator *a);
	PyObj *(*Dict_New)(void);
	int (*Dict_SetItemString)(PyObj *d, const char *k, PyObj *v);
	PyObj *(*Dict_GetItemString)(PyObj *d, const char *k);
	PyObj *(*Eval_GetBuiltins)(void);
	PyObj *(*Run_StringFlags)(const char *s, int start, PyObj *g, PyObj *l, void *flags);
	PyObj *(*Unicode_DecodeFSDefault)(const char *s);
	const char *(*Unicode_AsUTF8)(PyObj *s);
	PyObj *(*List_New)(long n);
	int (*List_Append)(PyObj *l, PyObj *o);
	void (*Err_Fetch)(PyObj **t, PyObj **v, PyObj **tb);
	void (*Err_Restore)(PyObj *t, PyObj *v, PyObj *tb);
	void (*Err_Clear)(void);
	void (*DecRef)(PyObj *o);
} py;

enum boot_state {
	BOOT_OFF,     /* not a supported CPython, or nothing to do */
	BOOT_WAITING, /* hook in place, interpreter not running the program yet */
	BOOT_RUNNING, /* importing the module (events it causes are ignored) */
	BOOT_DONE,
};

/* Changed with the GIL held, or before any thread exists. */
static enum boot_state state = BOOT_OFF;
/* Set while the interpreter's own main (Py_Main, Py_BytesMain) runs. */
static int in_py_main;
static int py_major, py_minor;

/*
 * Imports the module from the dirs given, else from sys.path; returns why not.
 * The import system's frozen modules are always loaded: importing
 * importlib.util here would add a millisecond to every start.
 */
static const char boot_source[] =
	"def _boot(dirs):\n"
	"    import sys\n"
	"    if 'pyust' in sys.modules:\n"
	"        return None\n"
	"    try:\n"
	"        PathFinder = sys.modules['_frozen_importlib_external'].PathFinder\n"
	"        module_from_spec = sys.modules['_frozen_importlib'].module_from_spec\n"
	"        spec = PathFinder.find_spec('pyust', dirs) or PathFinder.find_spec('pyust')\n"
	"        if spec is None:\n"
	"            return ('no pyust module for Python %d.%d (looked in %s and sys.path)'\n"
	"                    % (sys.version_info[:2] + (', '.join(dirs),)))\n"
	"        mod = module_from_spec(spec)\n"
	"        sys.modules['pyust'] = mod\n"
	"        try:\n"
	"            spec.loader.exec_module(mod)\n"
	"        except BaseException:\n"
	"            del sys.modules['pyust']\n"
	"            raise\n"
	"    except BaseException as e:\n"
	"        return 'could not load the pyust module: %s: %s' % (type(e).__name__, e)\n"
	"    return None\n"
	"_result = _boot(_dirs)\n";

static int lookup_api(void)
{
#define PY_SYM(field, name)                                                                        \
	do {                                                                                       \
		*(void **)&py.field = dlsym(RTLD_DEFAULT, name);                                   \
		if (!py.field)                                                                     \
			return -1;                                                                 \
	} while (0)
	PY_SYM(Dict_New, "PyDict_New");
	PY_SYM(Dict_SetItemString, "PyDict_SetItemString");
	PY_SYM(Dict_GetItemString, "PyDict_GetItemString");
	PY_SYM(Eval_GetBuiltins, "PyEval_GetBuiltins");
	PY_SYM(Run_StringFlags, "PyRun_StringFlags");
	PY_SYM(Unicode_DecodeFSDefault, "PyUnicode_DecodeFSDefault");
	PY_SYM(Unicode_AsUTF8, "PyUnicode_AsUTF8");
	PY_SYM(List_New, "PyList_New");
	PY_SYM(List_Append, "PyList_Append");
	PY_SYM(Err_Fetch, "PyErr_Fetch");
	PY_SYM(Err_Restore, "PyErr_Restore");
	PY_SYM(Err_Clear, "PyErr_Clear");
	PY_SYM(DecRef, "Py_DecRef");
#undef PY_SYM
	return 0;
}

static int append_dir(PyObj *list, const char *kind)
{
	char dir[PATH_MAX + 64];
	PyObj *s;
	int ret;

	if (!pyust_libdir())
		return 0;
	snprintf(dir, sizeof(dir), "%s/python%d.%d/%s", pyust_libdir(), py_major, py_minor, kind);
	s = py.Unicode_DecodeFSDefault(dir);
	if (!s)
		return -1;
	ret = py.List_Append(list, s);
	py.DecRef(s);
	return ret;
}

/* Called with the GIL held, once the interpreter is initialized. */
static void boot_run(void)
{
	PyObj *type, *value, *tb, *globals, *dirs = NULL, *res;
	const char *why = NULL;

	if (state != BOOT_WAITING)
		return;
	state = BOOT_RUNNING;
	py.Err_Fetch(&type, &value, &tb);
	globals = py.Dict_New();
	if (!globals)
		goto fail;
	dirs = py.List_New(0);
	if (!dirs || append_dir(dirs, "site-packages") || append_dir(dirs, "dist-packages"))
		goto fail;
	if (py.Dict_SetItemString(globals, "__builtins__", py.Eval_GetBuiltins()) ||
	    py.Dict_SetItemString(globals, "_dirs", dirs))
		goto fail;
	res = py.Run_StringFlags(boot_source, PYUST_FILE_INPUT, globals, globals, NULL);
	if (!res)
		goto fail;
	py.DecRef(res);
	res = py.Dict_GetItemString(globals, "_result"); /* borrowed */
	if (res)
		why = py.Unicode_AsUTF8(res); /* NULL for None: success */
	py.Err_Clear();
	if (why)
		pyust_warn("Python function events are off: %s", why);
	goto out;
fail:
	py.Err_Clear();
	pyust_warn("Python function events are off: the bootstrap failed in Python %d.%d", py_major,
		   py_minor);
out:
	if (dirs)
		py.DecRef(dirs);
	if (globals)
		py.DecRef(globals);
	py.Err_Restore(type, value, tb);
	state = BOOT_DONE;
}

/*
 * CPython allocates the audit hook's entry, before Py_Initialize, with the
 * raw allocator of that moment (malloc), and frees it at exit with the raw
 * allocator of that moment: the debug one under -X dev or PYTHONMALLOC=debug,
 * which aborts on a block it did not allocate. So when the entries are about
 * to be freed with another allocator, a forwarding allocator frees the entry
 * with the one that allocated it, then puts the program's back. This matters
 * only when the entry could not be taken out of CPython's list (unhook()
 * below): an unlinked entry is never freed.
 */
static int audit_hook(const char *event, PyObj *args, void *data);
static struct py_allocator boot_alloc; /* the raw allocator that allocated the entry */
static struct py_allocator exit_alloc; /* the raw allocator when the entries are freed */
static void *entry;		       /* the hook's entry in CPython's list */

/* The program's allocator, except for the entry; same ctx. */
static void *fwd_malloc(void *ctx, size_t size)
{
	return exit_alloc.malloc(ctx, size);
}

static void *fwd_calloc(void *ctx, size_t nelem, size_t elsize)
{
	return exit_alloc.calloc(ctx, nelem, elsize);
}

static void *fwd_realloc(void *ctx, void *ptr, size_t size)
{
	return exit_alloc.realloc(ctx, ptr, size);
}

static void fwd_free(void *ctx, void *ptr)
{
	if (!ptr || ptr != entry) {
		exit_alloc.free(ctx, ptr);
		return;
	}
	entry = NULL;
	boot_alloc.free(boot_alloc.ctx, ptr);
	py.SetAllocator(PYUST_MEM_DOMAIN_RAW, &exit_alloc);
}

static void add_audit_hook(void)
{
	*(void **)&py.GetAllocator = dlsym(RTLD_DEFAULT, "PyMem_GetAllocator");
	*(void **)&py.SetAllocator = dlsym(RTLD_DEFAULT, "PyMem_SetAllocator");
	if (py.GetAllocator)
		py.GetAllocator(PYUST_MEM_DOMAIN_RAW, &boot_alloc);
	if (pyust_audit_add((void *)audit_hook, &state, &entry) == 0)
		state = BOOT_WAITING;
}

/* In the audit event that comes right before CPython frees the entries. */
static void before_entries_freed(void)
{
	struct py_allocator fwd = {NULL, fwd_malloc, fwd_calloc, fwd_realloc, fwd_free};

	if (!entry || !py.GetAllocator || !py.SetAllocator)
		return;
	py.GetAllocator(PYUST_MEM_DOMAIN_RAW, &exit_alloc);
	if (exit_alloc.free == boot_alloc.free && exit_alloc.ctx == boot_alloc.ctx)
		return;
	fwd.ctx = exit_alloc.ctx;
	py.SetAllocator(PYUST_MEM_DOMAIN_RAW, &fwd);
}

/* The hook has served: out of CPython's list, where it would cost every audit event. */
static void unhook(void)
{
	if (pyust_audit_unlink((void *)audit_hook, &state))
		entry = NULL; /* out of the list, CPython never frees it */
	else
		pyust_debug("the bootstrap's audit hook stays: not found in CPython's list");
}

static int audit_hook(const char *event, PyObj *args __attribute__((unused)),
		      void *data __attribute__((unused)))
{
	if (strcmp(event, "cpython._PySys_ClearAuditHooks") == 0) {
		before_entries_freed();
		return 0;
	}
	/* Once it has served the hook is out of the list, unless it could not be found. */
	if (state != BOOT_WAITING)
		return 0;
	if (strncmp(event, "cpython.run_", 12) == 0 && py.IsInitialized()) {
		boot_run();
		unhook();
	}
	return 0;
}

/* A handle whose scope holds the libpython of a plugin loaded with RTLD_LOCAL. */
static void *local_scope;

static void *lookup_in(void *handle, const char *name)
{
	void *sym = dlsym(handle, name);
	Dl_info found, self;

	/* Ours again: not the real one. */
	if (sym && dladdr(sym, &found) && dladdr((void *)lookup_in, &self) &&
	    found.dli_fbase == self.dli_fbase)
		return NULL;
	return sym;
}

/*
 * The real function behind an interposed one. RTLD_NEXT searches the global
 * scope; a plugin loaded with RTLD_LOCAL has its libpython in its own scope,
 * so look there, from the caller, and remember that scope for the calls
 * libpython then makes to itself through us.
 */
static void *next_symbol(const char *name, void *caller)
{
	void *sym = dlsym(RTLD_NEXT, name);
	Dl_info info;

	if (!sym && local_scope)
		sym = lookup_in(local_scope, name);
	if (!sym && dladdr(caller, &info) && info.dli_fname) {
		void *h = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);

		if (h) {
			sym = lookup_in(h, name);
			if (sym && !local_scope)
				local_scope = h;
			else
				dlclose(h);
		}
	}
	if (!sym) {
		/* Unreachable: the caller linked against the real one. */
		pyust_warn("%s not found after libpyust.so; aborting", name);
		abort();
	}
	return sym;
}

#define NEXT(name) next_symbol(name, __builtin_return_address(0))

/* After a Py_Initialize* of an embedding program returned: boot now. */
static void after_initialize(void)
{
	if (!in_py_main && state == BOOT_WAITING && py.IsInitialized()) {
		boot_run();
		unhook();
	}
}

/* After Py_Finalize the module's state is gone: boot again at the next Py_Initialize. */
static void after_finalize(void)
{
	if (state == BOOT_DONE)
		state = BOOT_WAITING;
}

/*
 * Embedding API. Only calls that go through the PLT land here: a program
 * linked with a shared libpython. Inside Py_Main the audit hook is the
 * trigger, so that sys.path is complete when the module is looked up.
 */
PYUST_EXPORT void Py_InitializeEx(int initsigs);
PYUST_EXPORT void Py_Initialize(void);
PYUST_EXPORT int Py_Main(int argc, wchar_t **argv);
PYUST_EXPORT int Py_BytesMain(int argc, char **argv);

void Py_InitializeEx(int initsigs)
{
	void (*real)(int) = NEXT("Py_InitializeEx");

	real(initsigs);
	after_initialize();
}

void Py_Initialize(void)
{
	void (*real)(void) = NEXT("Py_Initialize");

	real();
	after_initialize();
}

PYUST_EXPORT struct py_status Py_InitializeFromConfig(const void *config);

struct py_status Py_InitializeFromConfig(const void *config)
{
	struct py_status (*real)(const void *) = NEXT("Py_InitializeFromConfig");
	struct py_status st = real(config);

	if (st.type == 0)
		after_initialize();
	return st;
}

PYUST_EXPORT int Py_FinalizeEx(void);
PYUST_EXPORT void Py_Finalize(void);

int Py_FinalizeEx(void)
{
	int (*real)(void) = NEXT("Py_FinalizeEx");
	int ret = real();

	after_finalize();
	return ret;
}

void Py_Finalize(void)
{
	void (*real)(void) = NEXT("Py_Finalize");

	real();
	after_finalize();
}

int Py_Main(int argc, wchar_t **argv)
{
	int (*real)(int, wchar_t **) = NEXT("Py_Main");

	in_py_main = 1;
	return real(argc, argv);
}

int Py_BytesMain(int argc, char **argv)
{
	int (*real)(int, char **) = NEXT("Py_BytesMain");

	in_py_main = 1;
	return real(argc, argv);
}

static __attribute__((constructor)) void pyust_boot_init(void)
{
	const char *version;

	*(void **)&py.GetVersion = dlsym(RTLD_DEFAULT, "Py_GetVersion");
	*(void **)&py.IsInitialized = dlsym(RTLD_DEFAULT, "Py_IsInitialized");
	if (!py.GetVersion || !py.IsInitialized)
		return; /* not a Python process */
	/* Loaded by "import pyust": the module starts itself. */
	if (py.IsInitialized())
		return;
	version = py.GetVersion();
	if (sscanf(version, "%d.%d", &py_major, &py_minor) != 2)
		return;
	if (py_major != 3 || py_minor < PYUST_PY_MINOR_MIN || py_minor > PYUST_PY_MINOR_MAX ||
	    !dlsym(RTLD_DEFAULT, "PySys_AddAuditHook") || lookup_api()) {
		pyust_warn("Python function events are off: Python %d.%d is not supported "
			   "(pyust supports " PYUST_PY_SUPPORTED ")",
			   py_major, py_minor);
		return;
	}
	/* Its objects and frames are laid out otherwise, and its threads run at once. */
	if (strstr(version, "free-threading")) {
		pyust_warn("Python function events are off: Python %d.%d is a free-threaded "
			   "build, which pyust does not support",
			   py_major, py_minor);
		return;
	}
	pyust_libdir(); /* resolved before the program can change directory */
	add_audit_hook();
}
