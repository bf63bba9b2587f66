/*
 * SPDX-License-Identifier: MIT
 *
 * The floor of the logging benchmark: the cost of emitting lttng_python:event
 * from a C loop with the values of the workload's records, the tracepoint's
 * share of any handler's cost. Run with LIBDIR/pyust/libpyust-log.so
 * preloaded (it holds the probes). Prints ns per event.
 */

#define LTTNG_UST_TRACEPOINT_DEFINE
#define LTTNG_UST_TRACEPOINT_PROBE_DYNAMIC_LINKAGE
#include "tp-lttng-python.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	char msg[64];
	double t0 = now();

	for (long i = 0; i < n; i++) {
		/* The message differs per record, as the workload's do. */
		snprintf(msg, sizeof(msg), "request %ld served in 1.5 ms", i);
		lttng_ust_tracepoint(lttng_python, event, "2026-11-22 06:25:01,123", msg,
				     "bench.service", "work", 17, 30, 0x12345678u, "MainThread");
	}
	printf("%.2f\n", (now() - t0) / n);
	return 0;
}
