/*
 * SPDX-License-Identifier: MIT
 *
 * An application embedding CPython that says what a free-threaded build
 * (3.13t and later) says: Debian packages none, and its mirror serves no
 * source to build one, so this is how the tests reach the preload's refusal.
 * This Py_GetVersion is exported (-rdynamic) and so is the one the preload
 * finds, worded as CPython's Python/getversion.c words it; with
 * PYUST_TEST_PY_VERSION set, it says that instead (an unsupported version).
 * The instrumented leaf() gives native events.
 */

#include <Python.h>
#include <stdlib.h>

__attribute__((no_instrument_function)) const char *Py_GetVersion(void)
{
	const char *v = getenv("PYUST_TEST_PY_VERSION");

	return v ? v : PY_VERSION " free-threading build (main, Dec 7 2026, 00:00:00) [GCC]";
}

__attribute__((noinline)) static int leaf(int x)
{
	return x + 1;
}

__attribute__((no_instrument_function)) int main(void)
{
	int i, n = 0;

	for (i = 0; i < 7; i++)
		n = leaf(n);
	Py_Initialize();
	if (PyRun_SimpleString("def probe():\n"
			       "    pass\n"
			       "for i in range(3):\n"
			       "    probe()\n"
			       "import logging\n"
			       "logging.getLogger('ft').warning('logged')\n") < 0)
		return 1;
	printf("leaf %d times\n", n);
	return Py_FinalizeEx() < 0 ? 1 : 0;
}
