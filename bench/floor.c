/*
 * SPDX-License-Identifier: MIT
 *
 * The floors: what the LTTng events alone cost, from a C loop.
 *   floor calls N FILE  python:function__entry + function__return with the
 *                       strings pyust would pass (libpyust.so preloaded);
 *                       prints ns per pair.
 *   floor log N         lttng_python:event with the values of the logging
 *                       workload's records (LIBDIR/pyust/libpyust-log.so
 *                       preloaded); prints ns per event.
 */

#define LTTNG_UST_TRACEPOINT_DEFINE
#define LTTNG_UST_TRACEPOINT_PROBE_DYNAMIC_LINKAGE
#include "tp-lttng-python.h"
#include "tp-python.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void calls(long n, const char *file)
{
	for (long i = 0; i < n; i++) {
		lttng_ust_tracepoint(python, function__entry, file, "fib", 4);
		lttng_ust_tracepoint(python, function__return, file, "fib", 4);
	}
}

static void records(long n)
{
	char msg[64];

	for (long i = 0; i < n; i++) {
		/* The message differs per record, as the workload's do. */
		snprintf(msg, sizeof(msg), "request %ld served in 1.5 ms", i);
		lttng_ust_tracepoint(lttng_python, event, "2026-11-22 06:25:01,123", msg,
				     "bench.service", "work", 17, 30, 0x12345678u, "MainThread");
	}
}

int main(int argc, char **argv)
{
	long n = argc > 2 ? atol(argv[2]) : 100000;
	double t0;

	if (argc < 2 || (strcmp(argv[1], "calls") && strcmp(argv[1], "log"))) {
		fprintf(stderr, "usage: floor calls N FILE | floor log N\n");
		return 2;
	}
	t0 = now();
	if (strcmp(argv[1], "calls") == 0)
		calls(n, argc > 3 ? argv[3] : "/bench/workloads/fib.py");
	else
		records(n);
	printf("%.2f\n", (now() - t0) / n);
	return 0;
}
