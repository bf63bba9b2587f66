/*
 * SPDX-License-Identifier: MIT
 *
 * The library's only output: one line on stderr when something the user
 * asked for cannot be done, silenced by PYUST_QUIET; and, when PYUST_DEBUG
 * is set, what the agent saw going wrong with the session daemon.
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

static int flag(const char *name)
{
	const char *q = getenv(name);

	return q && *q && *q != '0';
}

static void say(const char *fmt, va_list ap)
{
	char line[1024];
	int len;

	len = snprintf(line, sizeof(line), "pyust: ");
	len += vsnprintf(line + len, sizeof(line) - len - 1, fmt, ap);
	if (len > (int)sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	/* One write(2): no stdio buffer shared with the host program. */
	if (write(STDERR_FILENO, line, len) < 0)
		return;
}

void pyust_warn(const char *fmt, ...)
{
	va_list ap;

	if (flag("PYUST_QUIET"))
		return;
	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
}

void pyust_debug(const char *fmt, ...)
{
	static int on = -1;
	va_list ap;

	if (on < 0)
		on = flag("PYUST_DEBUG");
	if (!on || !fmt)
		return;
	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
}
