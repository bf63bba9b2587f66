/*
 * SPDX-License-Identifier: MIT
 *
 * pyust record: a session around one command, through liblttng-ctl. Makes
 * sure a session daemon runs (starting one for the time of the command when
 * none does), records pyust's events with libpyust.so preloaded into the
 * command, then says what the trace holds and how to look at it.
 */

#include "pyust-cli.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <lttng/lttng.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHAN "chan"
#define PY_CHAN "lttng_python_channel" /* the channel the Python domain's events go to */

static const char usage[] =
	"usage: pyust record [-o DIR] [--native] [--no-logging] [--filter EXPR]\n"
	"                    [--subbuf-size SIZE] [--num-subbuf N] [--] CMD [ARG...]\n"
	"Records CMD's Python function, gc and logging events (and with --native its\n"
	"native functions) with libpyust.so preloaded, then says what was recorded.\n"
	"  -o, --output DIR   where the trace goes (default: ~/lttng-traces/NAME)\n"
	"  --native           also lttng_ust_cyg_profile_fast:*, the statedump, the ip context\n"
	"  --no-logging       no lttng_python:event (logging records)\n"
	"  --filter EXPR      LTTng filter on the Python function events,\n"
	"                     e.g. 'co_name == \"handler\"'\n"
	"  --subbuf-size SIZE sub-buffer size per CPU, k/M/G suffixes (default 4M)\n"
	"  --num-subbuf N     sub-buffers per CPU, a power of 2 (default 8)\n";

struct opts {
	const char *out, *filter;
	bool native, logging;
	uint64_t subbuf, nsubbuf;
	char **cmd;
};

static volatile sig_atomic_t child_pid, interrupted;

/* A signal sent to pyust by a process goes to the command; one from the terminal reached it too. */
static void forward(int sig, siginfo_t *info, void *uctx)
{
	(void)uctx;
	if (!child_pid) {
		interrupted = sig;
		return;
	}
	if (info->si_code == SI_USER || info->si_code == SI_QUEUE)
		kill(child_pid, sig);
}

static const int caught[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
/* What they did before, for the command: an ignored signal stays ignored. */
static struct sigaction before[sizeof(caught) / sizeof(caught[0])];

static void catch_signals(void)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = forward;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(caught) / sizeof(caught[0]); i++) {
		sigaction(caught[i], NULL, &before[i]);
		if (before[i].sa_handler != SIG_IGN)
			sigaction(caught[i], &sa, NULL);
	}
}

static void restore_signals(void)
{
	size_t i;

	for (i = 0; i < sizeof(caught) / sizeof(caught[0]); i++)
		sigaction(caught[i], &before[i], NULL);
}

static int parse_size(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k':
	case 'K':
		n <<= 10;
		end++;
		break;
	case 'm':
	case 'M':
		n <<= 20;
		end++;
		break;
	case 'g':
	case 'G':
		n <<= 30;
		end++;
		break;
	}
	if (*end || n == 0 || (n & (n - 1)))
		return -1; /* LTTng takes powers of 2 */
	*v = n;
	return 0;
}

/* 0, 1 to exit 0 (help), -1 to exit 2 (after saying why). */
static int parse(int argc, char **argv, struct opts *o)
{
	int i;

	*o = (struct opts){.logging = true, .subbuf = 4 << 20, .nsubbuf = 8};
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] != '-')
			break;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage, stdout);
			return 1;
		} else if (strcmp(a, "--native") == 0) {
			o->native = true;
		} else if (strcmp(a, "--no-logging") == 0) {
			o->logging = false;
		} else if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) && v) {
			o->out = argv[++i];
		} else if (strcmp(a, "--filter") == 0 && v) {
			o->filter = argv[++i];
		} else if (strcmp(a, "--subbuf-size") == 0 && v) {
			if (parse_size(argv[++i], &o->subbuf) < 0)
				goto bad_value;
		} else if (strcmp(a, "--num-subbuf") == 0 && v) {
			if (parse_size(argv[++i], &o->nsubbuf) < 0)
				goto bad_value;
		} else {
			fprintf(stderr, "pyust record: unknown option or missing value: %s\n%s", a,
				usage);
			return -1;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "pyust record: no command to run\n%s", usage);
		return -1;
	}
	o->cmd = argv + i;
	return 0;
bad_value:
	fprintf(stderr, "pyust record: %s %s: not a power of 2 (k, M, G suffixes allowed)\n",
		argv[i - 1], argv[i]);
	return -1;
}

/* The session daemon pyust started, to stop when done; 0 if one was running. */
static pid_t started_daemon;

static pid_t daemon_pid(void)
{
	char path[PATH_MAX];
	const char *home = getenv("LTTNG_HOME");
	FILE *f;
	long pid = 0;

	if (getuid() == 0)
		snprintf(path, sizeof(path), "/var/run/lttng/lttng-sessiond.pid");
	else
		snprintf(path, sizeof(path), "%s/.lttng/lttng-sessiond.pid",
			 home		  ? home
			 : getenv("HOME") ? getenv("HOME")
					  : "");
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return (pid_t)pid;
}

static int ensure_daemon(void)
{
	pid_t pid;
	int status, i;

	if (lttng_session_daemon_alive() == 1)
		return 0;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		/* --daemonize returns once the daemon is ready. */
		execlp("lttng-sessiond", "lttng-sessiond", "--daemonize", (char *)NULL);
		fprintf(stderr,
			"pyust record: cannot run lttng-sessiond: %s "
			"(Debian: install lttng-tools)\n",
			strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 127)
			fprintf(stderr, "pyust record: lttng-sessiond failed to start\n");
		return -1;
	}
	for (i = 0; i < 500 && lttng_session_daemon_alive() != 1; i++)
		usleep(10000);
	if (lttng_session_daemon_alive() != 1) {
		fprintf(stderr, "pyust record: the session daemon started but does not answer\n");
		return -1;
	}
	started_daemon = daemon_pid();
	return 0;
}

static void stop_daemon(void)
{
	int i;

	if (!started_daemon || kill(started_daemon, SIGTERM) != 0)
		return;
	for (i = 0; i < 1000 && kill(started_daemon, 0) == 0; i++)
		usleep(10000);
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "pyust record: %s: %s\n", what, lttng_strerror(err < 0 ? err : -err));
	return -1;
}

static int enable(struct lttng_handle *h, const char *name, const char *chan, const char *filter)
{
	struct lttng_event *ev = lttng_event_create();
	int ret;

	if (!ev)
		return -1;
	snprintf(ev->name, sizeof(ev->name), "%s", name);
	ev->type = LTTNG_EVENT_TRACEPOINT;
	ev->loglevel_type = LTTNG_EVENT_LOGLEVEL_ALL;
	ev->loglevel = -1;
	ret = lttng_enable_event_with_exclusions(h, ev, chan, filter, 0, NULL);
	lttng_event_destroy(ev);
	if (ret < 0)
		fprintf(stderr, "pyust record: cannot enable %s: %s\n", name, lttng_strerror(ret));
	return ret < 0 ? -1 : 0;
}

static int channel(struct lttng_handle *h, struct lttng_domain *dom, const char *name,
		   const struct opts *o)
{
	struct lttng_channel *c = lttng_channel_create(dom);
	int ret;

	if (!c)
		return -1;
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->attr.overwrite = 0; /* discard: lose events rather than the program's time */
	c->attr.subbuf_size = o->subbuf;
	c->attr.num_subbuf = o->nsubbuf;
	ret = lttng_enable_channel(h, c);
	lttng_channel_destroy(c);
	return ret < 0 ? fail("cannot create a channel", ret) : 0;
}

static int context(struct lttng_handle *h, const char *chan, enum lttng_event_context_type t)
{
	struct lttng_event_context ctx;
	int ret;

	memset(&ctx, 0, sizeof(ctx));
	ctx.ctx = t;
	ret = lttng_add_context(h, &ctx, NULL, chan);
	return ret < 0 ? fail("cannot add a context", ret) : 0;
}

static int setup(const char *name, const char *path, const struct opts *o)
{
	struct lttng_session_descriptor *desc = lttng_session_descriptor_local_create(name, path);
	struct lttng_domain ust = {.type = LTTNG_DOMAIN_UST, .buf_type = LTTNG_BUFFER_PER_UID};
	struct lttng_domain py = {.type = LTTNG_DOMAIN_PYTHON, .buf_type = LTTNG_BUFFER_PER_UID};
	struct lttng_handle *h = NULL, *hp = NULL;
	enum lttng_error_code code;
	int ret = -1;

	if (!desc)
		return -1;
	code = lttng_create_session_ext(desc);
	lttng_session_descriptor_destroy(desc);
	if (code != LTTNG_OK)
		return fail("cannot create the session", -(int)code);
	h = lttng_create_handle(name, &ust);
	hp = lttng_create_handle(name, &py);
	if (!h || !hp || channel(h, &ust, CHAN, o) < 0 ||
	    context(h, CHAN, LTTNG_EVENT_CONTEXT_VPID) ||
	    context(h, CHAN, LTTNG_EVENT_CONTEXT_VTID) ||
	    enable(h, "python:function__*", CHAN, o->filter) < 0 ||
	    enable(h, "python:gc__*", CHAN, NULL) < 0)
		goto out;
	if (o->native && (context(h, CHAN, LTTNG_EVENT_CONTEXT_IP) < 0 ||
			  enable(h, "lttng_ust_cyg_profile_fast:*", CHAN, NULL) < 0 ||
			  enable(h, "lttng_ust_statedump:*", CHAN, NULL) < 0))
		goto out;
	if (o->logging &&
	    (channel(h, &ust, PY_CHAN, o) < 0 ||
	     context(h, PY_CHAN, LTTNG_EVENT_CONTEXT_VPID) < 0 ||
	     context(h, PY_CHAN, LTTNG_EVENT_CONTEXT_VTID) < 0 || enable(hp, "*", NULL, NULL) < 0))
		goto out;
	code = lttng_start_tracing(name);
	ret = code < 0 ? fail("cannot start the session", code) : 0;
out:
	lttng_destroy_handle(h);
	lttng_destroy_handle(hp);
	return ret;
}

/* libpyust.so first in LD_PRELOAD, before what the environment already preloads. */
static int set_preload(void)
{
	const char *lib = getenv("PYUST_LIBRARY"), *old = getenv("LD_PRELOAD");
	char *v;
	int ret;

	if (!lib)
		lib = PYUST_LIBDIR "/libpyust.so";
	if (access(lib, R_OK) != 0) {
		fprintf(stderr, "pyust record: %s: %s (PYUST_LIBRARY names another)\n", lib,
			strerror(errno));
		return -1;
	}
	if (old && *old) {
		if (asprintf(&v, "%s:%s", lib, old) < 0)
			return -1;
		ret = setenv("LD_PRELOAD", v, 1);
		free(v);
		return ret;
	}
	return setenv("LD_PRELOAD", lib, 1);
}

/* The command's wait status. */
static int run(char **cmd)
{
	pid_t pid;
	int status;

	pid = fork();
	if (pid < 0) {
		perror("pyust record: fork");
		return -1;
	}
	if (pid == 0) {
		restore_signals();
		if (set_preload() < 0)
			_exit(126);
		execvp(cmd[0], cmd);
		fprintf(stderr, "pyust record: %s: %s\n", cmd[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	child_pid = pid;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			perror("pyust record: waitpid");
			return -1;
		}
	}
	child_pid = 0;
	return status;
}

static void summary(const char *path, const struct opts *o)
{
	struct pyust_counts c;
	size_t i;

	if (pyust_trace_count(path) == 0) {
		fprintf(stderr, "pyust record: nothing was recorded\n");
		return;
	}
	if (pyust_count_trace(path, &c) < 0) {
		fprintf(stderr, "pyust record: the trace is in %s, but cannot be read\n", path);
		return;
	}
	fprintf(stderr, "pyust record: %llu events in %s\n", (unsigned long long)c.events, path);
	for (i = 0; i < c.len; i++)
		fprintf(stderr, "  %12llu  %s\n", (unsigned long long)c.by_name[i].n,
			c.by_name[i].name);
	if (c.discarded || c.discarded_unknown)
		fprintf(stderr,
			"pyust record: %llu events lost%s: the buffers were full; record again "
			"with a larger --subbuf-size (now %lluk) or --num-subbuf (now %llu)\n",
			(unsigned long long)c.discarded, c.discarded_unknown ? " at least" : "",
			(unsigned long long)(o->subbuf >> 10), (unsigned long long)o->nsubbuf);
	else
		fprintf(stderr, "pyust record: no event lost\n");
	fprintf(stderr,
		"pyust record: look at it with\n  pyust report --calltime %s\n"
		"  babeltrace2 %s\n",
		path, path);
	pyust_counts_free(&c);
}

/* DIR made absolute; it must be new or empty, so that one trace is in it. */
static int out_dir(const char *want, const char *name, char *path, size_t size)
{
	const char *home = getenv("LTTNG_HOME");
	char cwd[PATH_MAX];
	struct stat st;

	if (!want) {
		if (!home)
			home = getenv("HOME");
		snprintf(path, size, "%s/lttng-traces/%s", home ? home : "/tmp", name);
		return 0;
	}
	if ((want[0] == '/' || !getcwd(cwd, sizeof(cwd))
		     ? snprintf(path, size, "%s", want)
		     : snprintf(path, size, "%s/%s", cwd, want)) >= (int)size) {
		fprintf(stderr, "pyust record: %s: path too long\n", want);
		return -1;
	}
	if (stat(path, &st) == 0) {
		DIR *d = opendir(path);
		struct dirent *e;
		int entries = 0;

		while (d && (e = readdir(d)))
			entries += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
		if (d)
			closedir(d);
		if (!d || entries) {
			fprintf(stderr, "pyust record: %s is not an empty directory\n", path);
			return -1;
		}
	}
	return 0;
}

int pyust_record_main(int argc, char **argv)
{
	char name[128], path[PATH_MAX], stamp[32];
	const char *base;
	struct opts o;
	time_t now = time(NULL);
	int status, ret;

	ret = parse(argc, argv, &o);
	if (ret)
		return ret > 0 ? 0 : 2;
	base = strrchr(o.cmd[0], '/') ? strrchr(o.cmd[0], '/') + 1 : o.cmd[0];
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime(&now));
	snprintf(name, sizeof(name), "pyust-%.40s-%s-%ld", base, stamp, (long)getpid());
	for (char *p = name; *p; p++)
		if (*p == '/' || *p == ' ')
			*p = '_';
	if (out_dir(o.out, name, path, sizeof(path)) < 0)
		return 2;
	catch_signals();
	if (ensure_daemon() < 0)
		return 1;
	if (setup(name, path, &o) < 0) {
		lttng_destroy_session(name);
		stop_daemon();
		return 1;
	}
	status = interrupted ? -1 : run(o.cmd);
	lttng_stop_tracing(name); /* waits for the data to be written */
	lttng_destroy_session(name);
	if (interrupted && status == -1) {
		stop_daemon();
		return 128 + interrupted;
	}
	if (status != -1 && WIFSIGNALED(status))
		fprintf(stderr, "pyust record: %s was killed by signal %d\n", o.cmd[0],
			WTERMSIG(status));
	else if (status != -1 && WEXITSTATUS(status))
		fprintf(stderr, "pyust record: %s exited with status %d\n", o.cmd[0],
			WEXITSTATUS(status));
	summary(path, &o);
	stop_daemon();
	if (status == -1)
		return 1;
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}
