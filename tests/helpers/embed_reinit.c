/*
 * SPDX-License-Identifier: MIT
 *
 * An application that finalizes Python and initializes it again.
 */

#include <Python.h>

static int run(int calls)
{
	char src[256];

	snprintf(src, sizeof(src), "def probe():\n    pass\nfor i in range(%d):\n    probe()\n",
		 calls);
	Py_Initialize();
	if (PyRun_SimpleString(src) < 0)
		return -1;
	return Py_FinalizeEx();
}

int main(void)
{
	if (run(3) < 0 || run(2) < 0)
		return 1;
	puts("reinit done");
	return 0;
}
