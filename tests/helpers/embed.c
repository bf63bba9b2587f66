/*
 * SPDX-License-Identifier: MIT
 *
 * An application embedding CPython: pyust must trace it when preloaded.
 */

#include <Python.h>

int main(void)
{
	Py_Initialize();
	if (PyRun_SimpleString("def probe():\n"
			       "    pass\n"
			       "for i in range(3):\n"
			       "    probe()\n"
			       "print('embedded done')\n") < 0)
		return 1;
	return Py_FinalizeEx() < 0 ? 1 : 0;
}
