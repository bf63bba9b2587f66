/*
 * SPDX-License-Identifier: MIT
 *
 * The frame hook is in place only while some session enables
 * python:function__entry or python:function__return: an installed hook
 * disables 3.11+'s inlined calls, which costs even when nothing is recorded.
 * The gc callback and the logging wrapper follow their events the same way.
 * LTTng-UST does not tell the application when a session enables an event, so
 * a thread looks every POLL_MS and takes the GIL only to change the hook.
 */

#include "pyust.h"
#include "tp-python.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <time.h>

#define POLL_MS 20

/* The hook follows the sessions (pyust.stop() turns this off). Under the GIL. */
static bool following;
/* What the hook was last set to, read by the watcher without the GIL. */
static int hooked;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bool stopping; /* under lock */
static bool running;  /* a watcher thread exists; under lock */

static bool wanted(void)
{
	return lttng_ust_tracepoint_enabled(python, function__entry) ||
	       lttng_ust_tracepoint_enabled(python, function__return);
}

/* With the GIL: put the hook and the logging wrapper in place or take them away. */
static void apply(void)
{
	pyust_log_apply();
	pyust_gc_apply(following);
	if (!following)
		return;
	if (wanted()) {
		if (pyust_hook_install() < 0)
			PyErr_Clear();
	} else {
		pyust_hook_uninstall();
	}
	__atomic_store_n(&hooked, pyust_hook_installed(), __ATOMIC_RELAXED);
}

static bool out_of_step(void)
{
	bool follow = __atomic_load_n(&following, __ATOMIC_RELAXED);

	return pyust_log_out_of_step() || pyust_gc_out_of_step(follow) ||
	       (follow && wanted() != (bool)__atomic_load_n(&hooked, __ATOMIC_RELAXED));
}

static void *watch(void *unused)
{
	const struct timespec period = {0, POLL_MS * 1000000L};

	(void)unused;
	pyust_orphan_own_thread();
	for (;;) {
		nanosleep(&period, NULL);
		pyust_orphan_check();
		pthread_mutex_lock(&lock);
		if (stopping) {
			running = false;
			pthread_mutex_unlock(&lock);
			pyust_orphan_own_thread_ends();
			return NULL;
		}
		/* The interpreter cannot be finalized meanwhile: see pyust_watch_stop. */
		if (out_of_step()) {
			PyGILState_STATE g = PyGILState_Ensure();

			apply();
			PyGILState_Release(g);
		}
		pthread_mutex_unlock(&lock);
	}
}

/*
 * With the GIL, which is released while the lock is taken: the watcher holds
 * the lock while it waits for the GIL.
 */
static int start_thread(void)
{
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t thread;
	int ret = 0;

	Py_BEGIN_ALLOW_THREADS pthread_mutex_lock(&lock);
	stopping = false;
	if (!running) {
		/* Signals are the application's: its threads take them, not ours. */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		ret = pthread_create(&thread, &attr, watch, NULL);
		pthread_attr_destroy(&attr);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		running = ret == 0;
	}
	pthread_mutex_unlock(&lock);
	Py_END_ALLOW_THREADS return ret;
}

int pyust_watch_follow(void)
{
	__atomic_store_n(&following, true, __ATOMIC_RELAXED);
	apply();
	if (start_thread() != 0) {
		PyErr_SetString(PyExc_RuntimeError, "pyust: cannot start the session watcher");
		return -1;
	}
	return 0;
}

void pyust_watch_unfollow(void)
{
	__atomic_store_n(&following, false, __ATOMIC_RELAXED);
	pyust_hook_uninstall();
	pyust_gc_apply(false);
	__atomic_store_n(&hooked, pyust_hook_installed(), __ATOMIC_RELAXED);
}

/*
 * Run by atexit with the GIL: once it returns the watcher never touches Python
 * again. The GIL is released meanwhile, as the watcher may hold the lock
 * while it waits for the GIL.
 */
void pyust_watch_stop(void)
{
	Py_BEGIN_ALLOW_THREADS pthread_mutex_lock(&lock);
	stopping = true;
	pthread_mutex_unlock(&lock);
	Py_END_ALLOW_THREADS
}

void pyust_watch_forget(void)
{
	__atomic_store_n(&following, false, __ATOMIC_RELAXED);
	__atomic_store_n(&hooked, 0, __ATOMIC_RELAXED);
}

/* In a child after fork: the watcher thread did not follow. */
int pyust_watch_after_fork(void)
{
	pthread_mutex_init(&lock, NULL);
	running = false;
	return following ? start_thread() : 0;
}
