/*
 * SPDX-License-Identifier: MIT
 *
 * Native workload, built with -finstrument-functions: N calls of a small
 * function. Prints ns per call.
 */

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

__attribute__((noinline)) long step(long x)
{
	return x * 3 + 1;
}

__attribute__((no_instrument_function)) static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000, acc = 0;
	double t0 = now();

	for (long i = 0; i < n; i++)
		acc += step(i);
	printf("%.2f\n", (now() - t0) / n);
	return acc == 42; /* keeps acc alive */
}
