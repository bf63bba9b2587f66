/*
 * SPDX-License-Identifier: MIT
 *
 * A process ends when its last thread ends. A child forked from a thread
 * other than the main one has that thread alone; when it returns, the child
 * ends, unless other threads live: LTTng-UST's listener threads, which it
 * starts again in a child it is told of, and pyust's own. The child then
 * stays, a zombie leader with those threads, and its parent's waitpid waits
 * for ever. Here, once the child's first thread is gone, the watcher looks
 * at the threads left every period and, when only those internal ones are,
 * ends the process as its last thread would have: exit(0).
 */

#include "pyust.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_OWN 4

static pthread_key_t key;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool key_ok;
static bool leader_gone;
/* pyust's own threads in this process. */
static pid_t own[MAX_OWN];

static void leader_ends(void *unused)
{
	(void)unused;
	__atomic_store_n(&leader_gone, true, __ATOMIC_RELAXED);
}

static void make_key(void)
{
	key_ok = pthread_key_create(&key, leader_ends) == 0;
}

void pyust_orphan_arm(void)
{
	unsigned int i;

	for (i = 0; i < MAX_OWN; i++)
		__atomic_store_n(&own[i], 0, __ATOMIC_RELAXED);
	leader_gone = false;
	pthread_once(&once, make_key);
	/* Any value but NULL: its destructor runs when this thread ends. */
	if (key_ok)
		pthread_setspecific(key, &key);
}

void pyust_orphan_own_thread(void)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);
	unsigned int i;

	for (i = 0; i < MAX_OWN; i++) {
		pid_t free_slot = 0;

		if (__atomic_compare_exchange_n(&own[i], &free_slot, tid, false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			return;
	}
}

void pyust_orphan_own_thread_ends(void)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);
	unsigned int i;

	for (i = 0; i < MAX_OWN; i++) {
		pid_t mine = tid; /* overwritten when the slot holds another */

		__atomic_compare_exchange_n(&own[i], &mine, 0, false, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED);
	}
}

static bool is_own(pid_t tid)
{
	unsigned int i;

	for (i = 0; i < MAX_OWN; i++)
		if (__atomic_load_n(&own[i], __ATOMIC_RELAXED) == tid)
			return true;
	return false;
}

/* Whether the task runs code of the program: alive, neither pyust's nor LTTng-UST's. */
static bool program_thread(const char *tid)
{
	char path[64], buf[512], *name, *end;
	int fd;
	ssize_t n;

	if (is_own((pid_t)atoi(tid)))
		return false;
	snprintf(path, sizeof(path), "/proc/self/task/%s/stat", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false; /* gone meanwhile */
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true; /* cannot tell: keep the process */
	buf[n] = '\0';
	/* "tid (comm) S ...": comm may hold spaces and parentheses. */
	name = strchr(buf, '(');
	end = strrchr(buf, ')');
	if (!name || !end || end[1] != ' ')
		return true;
	if (end[2] == 'Z' || end[2] == 'X')
		return false;
	*end = '\0';
	/* LTTng-UST names its listener threads after the process, "-ust" appended. */
	return !(end - name - 1 >= 4 && strcmp(end - 4, "-ust") == 0);
}

void pyust_orphan_check(void)
{
	struct dirent *d;
	bool alone = true;
	DIR *dir;

	if (!__atomic_load_n(&leader_gone, __ATOMIC_RELAXED))
		return;
	dir = opendir("/proc/self/task");
	if (!dir)
		return;
	while (alone && (d = readdir(dir)))
		if (d->d_name[0] != '.' && program_thread(d->d_name))
			alone = false;
	closedir(dir);
	if (alone)
		exit(0);
}
