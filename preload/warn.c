/*
 * SPDX-License-Identifier: MIT
 *
 * The library's only output: one line on stderr when something the user
 * asked for cannot be done, silenced by PYUST_QUIET.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "pyust-preload.h"

int pyust_preload_abi(void)
{
	return PYUST_PRELOAD_ABI;
}

static int quiet(void)
{
	const char *q = getenv("PYUST_QUIET");

	return q && *q && *q != '0';
}

void pyust_warn(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int len;

	if (quiet())
		return;
	len = snprintf(line, sizeof(line), "pyust: ");
	va_start(ap, fmt);
	len += vsnprintf(line + len, sizeof(line) - len - 1, fmt, ap);
	va_end(ap);
	if (len > (int)sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	/* One write(2): no stdio buffer shared with the host program. */
	if (write(STDERR_FILENO, line, len) < 0)
		return;
}
