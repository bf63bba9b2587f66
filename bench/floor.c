/*
 * SPDX-License-Identifier: MIT
 *
 * The floor: the cost of emitting python:function__entry and
 * python:function__return from a C loop, with the strings pyust would pass.
 * Run with libpyust.so preloaded (it holds the probes). Prints ns per pair.
 */

#define LTTNG_UST_TRACEPOINT_DEFINE
#define LTTNG_UST_TRACEPOINT_PROBE_DYNAMIC_LINKAGE
#include "tp-python.h"

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
	const char *file = argc > 2 ? argv[2] : "/bench/workloads/fib.py";
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	double t0 = now();

	for (long i = 0; i < n; i++) {
		lttng_ust_tracepoint(python, function__entry, file, "fib", 4);
		lttng_ust_tracepoint(python, function__return, file, "fib", 4);
	}
	printf("%.2f\n", (now() - t0) / n);
	return 0;
}
