/*
 * SPDX-License-Identifier: MIT
 *
 * os.fork() without exec: the child must register with the session daemon
 * as itself (its own vpid, its own enablement), which LTTng-UST does only
 * when told around the fork. liblttng-ust-fork.so does it for every fork()
 * by wrapping it; here only the forks the pyust module arms (os.fork, through
 * os.register_at_fork) are handled, so subprocess's fork-and-exec children
 * do not pay for a registration. The work is done from pthread_atfork
 * handlers, inside fork(): after CPython took its own locks, as with the
 * wrapper.
 */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>

#include "pyust-preload.h"

/* From LTTng-UST's <lttng/ust-fork.h>, which Debian does not ship. */
void lttng_ust_before_fork(sigset_t *save_sigset);
void lttng_ust_after_fork_parent(sigset_t *restore_sigset);
void lttng_ust_after_fork_child(sigset_t *restore_sigset);

static __thread int armed;
static __thread int active;
static __thread sigset_t saved;
static int wrapped; /* liblttng-ust-fork.so's fork() does it all */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void prepare(void)
{
	active = armed && !wrapped;
	if (active)
		lttng_ust_before_fork(&saved);
}

static void parent(void)
{
	if (active)
		lttng_ust_after_fork_parent(&saved);
	active = 0;
}

static void child(void)
{
	if (active) {
		lttng_ust_after_fork_child(&saved);
		pyust_fds_owner();
	}
	active = 0;
}

static void setup(void)
{
	void *h = dlopen("liblttng-ust-fork.so.1", RTLD_LAZY | RTLD_NOLOAD);

	wrapped = h != NULL;
	if (h)
		dlclose(h);
	if (pthread_atfork(prepare, parent, child) != 0)
		wrapped = 1;
}

void pyust_fork_arm(int on)
{
	pthread_once(&once, setup);
	armed = on;
}
