/*
 * SPDX-License-Identifier: MIT
 *
 * The pyust command: record a program's Python, native and logging events
 * into an LTTng trace, and report on such traces.
 */

#include "pyust-cli.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
	"usage: pyust record [OPTIONS] [--] CMD [ARG...]   record CMD's events into a trace\n"
	"       pyust report TRACE VIEW [OPTIONS]          look at a trace\n"
	"       pyust help [record|report]\n"
	"       pyust --version\n";

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (strcmp(cmd, "record") == 0)
		return pyust_record_main(argc - 1, argv + 1);
	if (strcmp(cmd, "report") == 0)
		return pyust_report_main(argc - 1, argv + 1);
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
		char *help[] = {(char *)cmd, "--help", NULL};

		if (argc > 2 && strcmp(argv[2], "record") == 0)
			return pyust_record_main(2, help);
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
