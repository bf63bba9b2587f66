/*
 * SPDX-License-Identifier: MIT
 *
 * The descriptors of LTTng-UST and of pyust, kept open whatever the program
 * closes. A program that daemonizes closes every descriptor above 2
 * (os.closerange, close_range, closefrom, a loop of close), then opens its
 * own files: without this, the numbers of LTTng-UST's shared memory and
 * sockets become the program's files, LTTng-UST aborts at exit on the ones
 * it finds closed, and pyust's agent would read from and write to whatever
 * file took its numbers. As liblttng-ust-fd.so does for close and fclose,
 * a descriptor kept answers EBADF, as if it were not open, and is left as it
 * is; close_range and closefrom skip them too, which liblttng-ust-fd.so of
 * LTTng 2.13 does not do (CPython's os.closerange uses close_range).
 *
 * Only in the process LTTng-UST and pyust were set up for: a child of fork()
 * they were not told of (subprocess's, about to exec; vfork's, which shares
 * the parent's memory) closes what it closes, with no lock taken.
 *
 * dup2 and dup3 onto a descriptor of pyust's move pyust's elsewhere first;
 * onto one of LTTng-UST's they do what they do: LTTng-UST has no way to let
 * go of one.
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "pyust-preload.h"

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif

#define MAX_OWN 16
#define MAX_KEPT 256

typedef int (*close_fn)(int);
typedef int (*close_range_fn)(unsigned int, unsigned int, int);

/* LTTng-UST's tracker of its own descriptors, in liblttng-ust-common. */
static int (*ust_safe_close)(int fd, close_fn cb);
static int (*ust_safe_close_range)(unsigned int first, unsigned int last, int flags,
				   close_range_fn cb); /* 2.14+ */
static close_fn real_close;
static close_range_fn real_close_range;
static int (*real_dup2)(int, int);
static int (*real_dup3)(int, int, int);
static pid_t owner;

/* pyust's own: what number each has now (moved by dup2), by the one it had. */
static struct {
	int orig, cur; /* -1: free */
} own[MAX_OWN];

static int sys_close_range(unsigned int first, unsigned int last, int flags)
{
	return (int)syscall(SYS_close_range, first, last, flags);
}

static int close_now(int fd)
{
	return real_close ? real_close(fd) : (int)syscall(SYS_close, fd);
}

static __attribute__((constructor)) void fds_init(void)
{
	unsigned int i;

	for (i = 0; i < MAX_OWN; i++)
		own[i].orig = own[i].cur = -1;
	*(void **)&real_close = dlsym(RTLD_NEXT, "close");
	*(void **)&real_close_range = dlsym(RTLD_NEXT, "close_range");
	if (!real_close_range)
		real_close_range = sys_close_range; /* glibc before 2.34 */
	*(void **)&real_dup2 = dlsym(RTLD_NEXT, "dup2");
	*(void **)&real_dup3 = dlsym(RTLD_NEXT, "dup3");
	*(void **)&ust_safe_close = dlsym(RTLD_DEFAULT, "lttng_ust_safe_close_fd");
	*(void **)&ust_safe_close_range = dlsym(RTLD_DEFAULT, "lttng_ust_safe_close_range_fd");
	owner = getpid();
}

void pyust_fds_owner(void)
{
	owner = getpid();
}

static bool protecting(void)
{
	return real_close && owner == getpid();
}

static bool is_own(int fd)
{
	unsigned int i;

	for (i = 0; i < MAX_OWN; i++)
		if (__atomic_load_n(&own[i].cur, __ATOMIC_RELAXED) == fd)
			return true;
	return false;
}

int pyust_fd_keep(int fd)
{
	unsigned int i;

	if (fd < 0)
		return fd;
	/* 0 to 2 are the standard streams' numbers, even closed: as LTTng-UST, move away. */
	if (fd <= 2) {
		int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);

		if (moved < 0)
			return -1;
		close_now(fd);
		fd = moved;
	}
	for (i = 0; i < MAX_OWN; i++) {
		int free_slot = -1;

		if (__atomic_compare_exchange_n(&own[i].cur, &free_slot, fd, false,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
			__atomic_store_n(&own[i].orig, fd, __ATOMIC_RELAXED);
			return fd;
		}
	}
	return fd; /* not kept: the table is full */
}

int pyust_fd(int fd)
{
	unsigned int i;

	for (i = 0; i < MAX_OWN; i++)
		if (__atomic_load_n(&own[i].orig, __ATOMIC_RELAXED) == fd)
			return __atomic_load_n(&own[i].cur, __ATOMIC_RELAXED);
	return fd;
}

int pyust_fd_close(int fd)
{
	unsigned int i;

	for (i = 0; i < MAX_OWN; i++) {
		if (__atomic_load_n(&own[i].orig, __ATOMIC_RELAXED) != fd)
			continue;
		fd = __atomic_exchange_n(&own[i].cur, -1, __ATOMIC_RELAXED);
		__atomic_store_n(&own[i].orig, -1, __ATOMIC_RELAXED);
		break;
	}
	return close_now(fd);
}

static __thread bool probed;

static int probe(int fd)
{
	(void)fd;
	probed = true;
	return 0;
}

/* LTTng-UST's: its tracker refuses to close it. */
static bool is_ust(int fd)
{
	if (!ust_safe_close)
		return false;
	probed = false;
	return ust_safe_close(fd, probe) < 0 && !probed;
}

static bool kept(int fd)
{
	return is_own(fd) || is_ust(fd);
}

static void insert(int *set, unsigned int *n, int fd)
{
	unsigned int i = (*n)++;

	while (i > 0 && set[i - 1] > fd) {
		set[i] = set[i - 1];
		i--;
	}
	set[i] = fd;
}

/*
 * The open descriptors in [first, last] that keep() keeps, in order; -1 when
 * /proc is not there or they are too many. With a buffer on the stack: no
 * allocation, whatever thread calls.
 */
static int kept_in(unsigned int first, unsigned int last, bool (*keep)(int), int *set,
		   unsigned int *n)
{
	char buf[4096] __attribute__((aligned(8)));
	int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	long got, at;

	*n = 0;
	if (dir < 0)
		return -1;
	while ((got = syscall(SYS_getdents64, dir, buf, sizeof(buf))) > 0) {
		for (at = 0; at < got;) {
			struct dirent64 *d = (struct dirent64 *)(buf + at);
			char *end;
			long fd = strtol(d->d_name, &end, 10);

			at += d->d_reclen;
			if (*end || end == d->d_name || fd == dir || fd < (long)first ||
			    (unsigned long)fd > last || !keep((int)fd))
				continue;
			if (*n == MAX_KEPT) {
				real_close(dir);
				return -1;
			}
			insert(set, n, (int)fd);
		}
	}
	real_close(dir);
	return got < 0 ? -1 : 0;
}

/* close_range(first, last, flags) but for what keep() keeps. */
static int close_range_but(unsigned int first, unsigned int last, int flags, bool (*keep)(int))
{
	int set[MAX_KEPT], ret = 0;
	unsigned int n, i, from = first;

	if (flags & CLOSE_RANGE_UNSHARE) {
		if (unshare(CLONE_FILES) < 0)
			return -1;
		flags &= ~CLOSE_RANGE_UNSHARE;
	}
	if (kept_in(first, last, keep, set, &n) < 0) {
		/* No /proc: one at a time, up to the limit of open descriptors. */
		long max = sysconf(_SC_OPEN_MAX);
		unsigned long fd;

		if (max < 0)
			max = 1 << 20; /* the kernel's default nr_open */
		for (fd = first; fd <= last && fd < (unsigned long)max; fd++)
			if (!keep((int)fd))
				real_close_range((unsigned int)fd, (unsigned int)fd, flags);
		return 0;
	}
	for (i = 0; i < n && ret == 0; i++) {
		if ((unsigned int)set[i] > from)
			ret = real_close_range(from, (unsigned int)set[i] - 1, flags);
		from = (unsigned int)set[i] + 1;
	}
	if (ret == 0 && from <= last)
		ret = real_close_range(from, last, flags);
	return ret;
}

static int close_range_but_own(unsigned int first, unsigned int last, int flags)
{
	return close_range_but(first, last, flags, is_own);
}

PYUST_EXPORT int close(int fd)
{
	if (!protecting())
		return close_now(fd);
	if (is_own(fd)) {
		errno = EBADF;
		return -1;
	}
	return ust_safe_close ? ust_safe_close(fd, real_close) : real_close(fd);
}

PYUST_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	if (!protecting() || first > last)
		return real_close_range ? real_close_range(first, last, flags)
					: sys_close_range(first, last, flags);
	/* LTTng 2.14+ skips its own, and calls back for the runs between them. */
	if (ust_safe_close_range)
		return ust_safe_close_range(first, last, flags, close_range_but_own);
	return close_range_but(first, last, flags, kept);
}

PYUST_EXPORT void closefrom(int lowfd)
{
	if (lowfd < 0)
		lowfd = 0;
	close_range((unsigned int)lowfd, ~0U, 0);
}

/* The descriptor of pyust's that newfd is moves elsewhere: the program wants the number. */
static void make_room(int newfd)
{
	unsigned int i;

	if (!protecting())
		return;
	for (i = 0; i < MAX_OWN; i++) {
		int moved;

		if (__atomic_load_n(&own[i].cur, __ATOMIC_RELAXED) != newfd)
			continue;
		moved = fcntl(newfd, F_DUPFD_CLOEXEC, 3);
		if (moved >= 0)
			__atomic_store_n(&own[i].cur, moved, __ATOMIC_RELAXED);
	}
}

/* Before the constructor ran (another library's constructor): the system call. */
static int sys_dup3(int oldfd, int newfd, int flags)
{
	return (int)syscall(SYS_dup3, oldfd, newfd, flags);
}

PYUST_EXPORT int dup2(int oldfd, int newfd)
{
	if (oldfd == newfd && !real_dup2)
		return fcntl(oldfd, F_GETFD) < 0 ? -1 : newfd;
	if (oldfd != newfd)
		make_room(newfd);
	return real_dup2 ? real_dup2(oldfd, newfd) : sys_dup3(oldfd, newfd, 0);
}

PYUST_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	if (oldfd != newfd)
		make_room(newfd);
	return real_dup3 ? real_dup3(oldfd, newfd, flags) : sys_dup3(oldfd, newfd, flags);
}
