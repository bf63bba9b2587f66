/*
 * SPDX-License-Identifier: MIT
 *
 * A program that loads a plugin with RTLD_LOCAL and calls it.
 */

#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	void *h;
	int (*run)(void);

	if (argc != 2)
		return 2;
	h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "%s\n", dlerror());
		return 1;
	}
	*(void **)&run = dlsym(h, "plugin_run");
	if (!run)
		return 1;
	return run() < 0 ? 1 : 0;
}
