/*
 * SPDX-License-Identifier: MIT
 *
 * The command pyust record runs: found as execvp would find it, started with
 * libpyust.so first in LD_PRELOAD, and sent the signals other processes send
 * to pyust while it runs.
 */

#include "pyust-cli.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

volatile sig_atomic_t pyust_interrupted;
static volatile sig_atomic_t child_pid;

/* A signal sent to pyust by a process goes to the command; one from the terminal reached it too. */
static void forward(int sig, siginfo_t *info, void *uctx)
{
	(void)uctx;
	if (!child_pid) {
		pyust_interrupted = sig;
		return;
	}
	if (info->si_code == SI_USER || info->si_code == SI_QUEUE || info->si_code == SI_TKILL)
		kill(child_pid, sig);
}

static const int caught[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define NCAUGHT (sizeof(caught) / sizeof(caught[0]))
/* What they did before, for the command: an ignored signal stays ignored. */
static struct sigaction before[NCAUGHT];

void pyust_catch_signals(void)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = forward;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < NCAUGHT; i++) {
		sigaction(caught[i], NULL, &before[i]);
		if (before[i].sa_handler != SIG_IGN)
			sigaction(caught[i], &sa, NULL);
	}
}

static void restore_signals(void)
{
	size_t i;

	for (i = 0; i < NCAUGHT; i++)
		sigaction(caught[i], &before[i], NULL);
}

/* path made absolute against the current directory; -1 after saying why. */
int pyust_absolute(const char *path, char *out, size_t size)
{
	char cwd[PATH_MAX];
	int n;

	if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		n = snprintf(out, size, "%s", path);
	else
		n = snprintf(out, size, "%s/%s", cwd, path);
	if (n < 0 || (size_t)n >= size) {
		pyust_err("%s: path too long\n", path);
		return -1;
	}
	return 0;
}

/* ASan's runtime must precede every library built with it, libpyust.so too. */
static bool sanitizer_runtime(const char *base)
{
	return strncmp(base, "libasan.so", 10) == 0 || strncmp(base, "libclang_rt.asan", 16) == 0;
}

/* Appends to v the entries of list (by LD_PRELOAD's separators) that pass keep. */
static void append(char *v, const char *list, bool (*keep)(const char *base))
{
	char *copy = strdup(list), *tok, *save = NULL;

	for (tok = copy ? strtok_r(copy, ": ", &save) : NULL; tok;
	     tok = strtok_r(NULL, ": ", &save)) {
		const char *base = strrchr(tok, '/') ? strrchr(tok, '/') + 1 : tok;

		if (!keep(base))
			continue;
		if (*v)
			strcat(v, ":");
		strcat(v, tok);
	}
	free(copy);
}

static bool first(const char *base)
{
	return sanitizer_runtime(base);
}

/* Two copies of libpyust.so would both register pyust's probes. */
static bool after(const char *base)
{
	return !sanitizer_runtime(base) && strcmp(base, "libpyust.so") != 0;
}

/*
 * The command's LD_PRELOAD: libpyust.so (absolute, as the command may change
 * directory) first, then what the environment preloads but another
 * libpyust.so; sanitizer runtimes stay before it. NULL after saying why.
 */
char *pyust_preload(void)
{
	const char *want = getenv("PYUST_LIBRARY"), *old = getenv("LD_PRELOAD");
	char lib[PATH_MAX], *v;

	if (!want || !*want)
		want = PYUST_LIBDIR "/libpyust.so";
	if (access(want, R_OK) != 0) {
		pyust_err("%s: %s (PYUST_LIBRARY names another libpyust.so)\n", want,
			  strerror(errno));
		return NULL;
	}
	if (pyust_absolute(want, lib, sizeof(lib)) < 0)
		return NULL;
	if (strpbrk(lib, ": ")) {
		pyust_err("%s: LD_PRELOAD cannot hold a path with ':' or ' '\n", lib);
		return NULL;
	}
	if (!old)
		old = "";
	v = calloc(1, strlen(lib) + strlen(old) + 2);
	if (!v)
		return NULL;
	append(v, old, first);
	if (*v)
		strcat(v, ":");
	strcat(v, lib);
	append(v, old, after);
	return v;
}

/* 0 if execvp would find cmd; otherwise the status a shell gives, after saying why. */
int pyust_find_command(const char *cmd)
{
	const char *path = getenv("PATH"), *p, *end;
	char full[PATH_MAX];
	struct stat st;
	bool denied = false;

	if (strchr(cmd, '/')) {
		if (stat(cmd, &st) != 0) {
			int err = errno;

			pyust_err("%s: %s\n", cmd, strerror(err));
			return err == ENOENT || err == ENOTDIR ? 127 : 126;
		}
		if (!S_ISDIR(st.st_mode) && access(cmd, X_OK) == 0)
			return 0;
		pyust_err("%s: %s\n", cmd,
			  S_ISDIR(st.st_mode) ? "Is a directory" : "Permission denied");
		return 126;
	}
	if (!path)
		path = "/bin:/usr/bin"; /* execvp's default */
	for (p = path;; p = end + 1) {
		end = strchrnul(p, ':');
		/* An empty entry is the current directory. */
		snprintf(full, sizeof(full), "%.*s%s%s", (int)(end - p), p, end > p ? "/" : "",
			 cmd);
		if (stat(full, &st) == 0 && !S_ISDIR(st.st_mode)) {
			if (access(full, X_OK) == 0)
				return 0;
			denied = true;
		}
		if (!*end)
			break;
	}
	pyust_err("%s: %s\n", cmd, denied ? "Permission denied" : "command not found");
	return denied ? 126 : 127;
}

/* The command started, or -1 when it did not (interrupted first, or fork failed). */
pid_t pyust_spawn(char **cmd, const char *preload, bool blocking)
{
	sigset_t mask, old;
	pid_t pid;
	size_t i;

	/* Held until child_pid is set, so that none is lost in between. */
	sigemptyset(&mask);
	for (i = 0; i < NCAUGHT; i++)
		sigaddset(&mask, caught[i]);
	sigprocmask(SIG_BLOCK, &mask, &old);
	if (pyust_interrupted) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		restore_signals();
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (setenv("LD_PRELOAD", preload, 1) < 0 ||
		    (blocking && setenv("LTTNG_UST_ALLOW_BLOCKING", "1", 1) < 0))
			_exit(126);
		execvp(cmd[0], cmd);
		pyust_err("%s: %s\n", cmd[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	if (pid > 0)
		child_pid = pid;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0)
		pyust_err("fork: %s\n", strerror(errno));
	return pid;
}

/* 1 with *status once the command ended, 0 while it runs (when !block), -1 on error. */
int pyust_reap(pid_t pid, bool block, int *status)
{
	pid_t w;

	while ((w = waitpid(pid, status, block ? 0 : WNOHANG)) < 0 && errno == EINTR)
		;
	if (w < 0) {
		pyust_err("waitpid: %s\n", strerror(errno));
		*status = -1;
	}
	if (w != 0 && pid == child_pid)
		child_pid = 0;
	return w < 0 ? -1 : w > 0;
}

/* The command's wait status, or -1 when it did not run (interrupted first, or fork failed). */
int pyust_run(char **cmd, const char *preload, bool blocking)
{
	pid_t pid = pyust_spawn(cmd, preload, blocking);
	int status;

	if (pid < 0)
		return -1;
	pyust_reap(pid, true, &status);
	return status;
}

/*
 * Starts the daemon $env names (default name) with arg (or none), out of the
 * terminal's session: a Ctrl-C for the program must not reach it. *bin is
 * what was run, for messages. When it cannot be run, the child says so after
 * missing, and exits 127.
 */
pid_t pyust_start_daemon(const char *env, const char *name, const char *arg, const char *missing,
			 const char **bin)
{
	pid_t pid;

	*bin = getenv(env);
	if (!*bin || !**bin)
		*bin = name;
	pid = fork();
	if (pid < 0)
		pyust_err("fork: %s\n", strerror(errno));
	if (pid != 0)
		return pid;
	setsid();
	execlp(*bin, name, arg, (char *)NULL);
	pyust_err("%s, and %s cannot be started: %s (on Debian, install lttng-tools; %s names "
		  "another)\n",
		  missing, *bin, strerror(errno), env);
	_exit(127);
}
