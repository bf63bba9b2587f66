/*
 * SPDX-License-Identifier: MIT
 *
 * A session daemon for pyust record: the user's own when one answers,
 * otherwise one started as lttng create would, and stopped once done unless
 * others made sessions in it meanwhile.
 */

#include "pyust-cli.h"

#include <errno.h>
#include <limits.h>
#include <lttng/lttng.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Where LTTng keeps a user's daemon files and traces: as liblttng-ctl finds it. */
const char *pyust_lttng_home(void)
{
	const char *home = getenv("LTTNG_HOME");
	struct passwd *pw;

	if (home)
		return home;
	home = getenv("HOME");
	if (home)
		return home;
	pw = getpwuid(getuid());
	return pw ? pw->pw_dir : NULL;
}

/* The session daemon pyust started, to stop when done; 0 if one was running. */
static pid_t started_daemon;

static pid_t daemon_pid(char *path, size_t size)
{
	const char *home = pyust_lttng_home();
	FILE *f;
	long pid = 0;

	if (getuid() == 0)
		snprintf(path, size, "/var/run/lttng/lttng-sessiond.pid");
	else
		snprintf(path, size, "%s/.lttng/lttng-sessiond.pid", home ? home : "");
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return (pid_t)pid;
}

/* 0 once a session daemon answers; -1 after saying why none does. */
int pyust_sessiond_ensure(void)
{
	const char *bin;
	char pidfile[PATH_MAX];
	pid_t pid, w;
	int status, i;

	if (lttng_session_daemon_alive() == 1)
		return 0;
	/* --daemonize returns once the daemon is ready, as for lttng create. */
	pid = pyust_start_daemon("LTTNG_SESSIOND_PATH", "lttng-sessiond", "--daemonize",
				 "no session daemon runs", &bin);
	if (pid < 0)
		return -1;
	while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	if (w < 0) {
		pyust_err("waitpid: %s\n", strerror(errno));
		return -1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		/* Another process may have started one meanwhile: then it is theirs. */
		if (lttng_session_daemon_alive() == 1)
			return 0;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 127)
			pyust_err("%s failed to start (%s %d)\n", bin,
				  WIFEXITED(status) ? "exit status" : "signal",
				  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return -1;
	}
	for (i = 0; i < 500 && lttng_session_daemon_alive() != 1; i++)
		usleep(10000);
	if (lttng_session_daemon_alive() != 1) {
		pyust_err("the session daemon started but does not answer\n");
		return -1;
	}
	started_daemon = daemon_pid(pidfile, sizeof(pidfile));
	if (!started_daemon)
		pyust_err("%s has no pid: the session daemon pyust started will "
			  "stay running\n",
			  pidfile);
	return 0;
}

/* Still running: a zombie waiting for its new parent to reap it is not. */
static bool running(pid_t pid)
{
	char path[64], line[512], *end;
	FILE *f;
	bool zombie = false;

	if (kill(pid, 0) != 0 && errno == ESRCH)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return errno != ENOENT;
	/* "PID (COMM) STATE ...", where COMM may hold parentheses. */
	if (fgets(line, sizeof(line), f) && (end = strrchr(line, ')')))
		zombie = end[1] == ' ' && end[2] == 'Z';
	fclose(f);
	return !zombie;
}

/* Stops the daemon pyust started, unless sessions others made use it. */
void pyust_sessiond_release(void)
{
	struct lttng_session *sessions = NULL;
	int n, i;

	if (!started_daemon)
		return;
	n = lttng_list_sessions(&sessions);
	free(sessions);
	if (n > 0) {
		pyust_err("the session daemon pyust started (pid %d) stays running: "
			  "%d other session%s use%s it\n",
			  (int)started_daemon, n, n > 1 ? "s" : "", n > 1 ? "" : "s");
		return;
	}
	if (kill(started_daemon, SIGTERM) != 0)
		return;
	for (i = 0; i < 3000 && running(started_daemon); i++)
		usleep(10000);
	if (running(started_daemon))
		pyust_err("the session daemon pyust started (pid %d) is still "
			  "running 30 s after SIGTERM\n",
			  (int)started_daemon);
}
