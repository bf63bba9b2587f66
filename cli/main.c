/*
 * SPDX-License-Identifier: MIT
 *
 * The pyust command: record a program's Python, native and logging events
 * into an LTTng trace, and report on such traces.
 */

#include "pyust-cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
	"usage: pyust record [OPTIONS] [--] CMD [ARG...]   record CMD's events into a trace\n"
	"       pyust live [OPTIONS] [--] CMD [ARG...]     show CMD's calls as they happen\n"
	"       pyust report TRACE VIEW [OPTIONS]          look at a trace\n"
	"       pyust help [record|live|report]\n"
	"       pyust --version\n";

const char *pyust_subcommand = "record";

void pyust_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pyust %s: ", pyust_subcommand);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (strcmp(cmd, "record") == 0)
		return pyust_record_main(argc - 1, argv + 1);
	if (strcmp(cmd, "live") == 0) {
		pyust_subcommand = "live";
		return pyust_live_main(argc - 1, argv + 1);
	}
	if (strcmp(cmd, "report") == 0)
		return pyust_report_main(argc - 1, argv + 1);
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
		char *help[] = {(char *)cmd, "--help", NULL};

		if (argc > 2 && strcmp(argv[2], "record") == 0)
			return pyust_record_main(2, help);
		if (argc > 2 && strcmp(argv[2], "live") == 0)
			return pyust_live_main(2, help);
		if (argc > 2 && strcmp(argv[2], "report") == 0)
			return pyust_report_main(2, help);
		if (argc > 2) {
			fprintf(stderr, "pyust: no help on %s: not a command\n%s", argv[2], usage);
			return 2;
		}
		fputs(usage, stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("pyust %s\n", PYUST_VERSION);
		return 0;
	}
	fprintf(stderr, argc > 1 ? "pyust: unknown command: %s\n%s" : "%s%s", argc > 1 ? cmd : "",
		usage);
	return 2;
}
