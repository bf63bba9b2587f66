/*
 * SPDX-License-Identifier: MIT
 *
 * A plugin linked with libpython, loaded by plugin_host with RTLD_LOCAL: its
 * libpython is not in the global scope.
 */

#include <Python.h>

__attribute__((visibility("default"))) int plugin_run(void);

int plugin_run(void)
{
	Py_Initialize();
	if (PyRun_SimpleString("print('plugin ran')\n") < 0)
		return -1;
	return Py_FinalizeEx();
}
