/*
 * SPDX-License-Identifier: MIT
 *
 * A native program built with -finstrument-functions: main calls middle 5
 * times, middle calls leaf twice.
 */

#include <stdio.h>

__attribute__((noinline)) int leaf(int x)
{
	return x + 1;
}

__attribute__((noinline)) int middle(int x)
{
	return leaf(x) + leaf(x + 1);
}

int main(void)
{
	int sum = 0;

	for (int i = 0; i < 5; i++)
		sum += middle(i);
	printf("%d\n", sum);
	return 0;
}
