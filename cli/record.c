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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHAN "chan"
#define PY_CHAN "lttng_python_channel" /* the channel the Python domain's events go to */
#define NAME_TRIES 100		       /* NAME, NAME-2, ... NAME-100 */
/*
 * Default buffers of the function events' channel: 8 sub-buffers of 4 MiB
 * per CPU, smaller when that would take more than 256 MiB in all. LTTng-UST
 * makes (and zero-fills) the buffers of every possible CPU at once.
 */
#define SUBBUF_MAX (4ULL << 20)
#define SUBBUF_MIN (64ULL << 10)
#define CHANNEL_BUDGET (256ULL << 20)

static const char usage[] =
	"usage: pyust record [-o DIR] [-s NAME] [--native] [--no-logging] [--filter EXPR]\n"
	"                    [--subbuf-size SIZE] [--num-subbuf N] [--blocking] [--] CMD [ARG...]\n"
	"Records CMD's Python function, gc and logging events (and with --native its\n"
	"native functions) with libpyust.so preloaded, then says what was recorded.\n"
	"  -o, --output DIR   where the trace goes, new or empty (default:\n"
	"                     ~/lttng-traces/NAME)\n"
	"  -s, --session NAME the session's name (default: pyust-CMD-DATE-TIME-PID);\n"
	"                     -2, -3... is added to a name already taken\n"
	"  --native           also lttng_ust_cyg_profile_fast:*, the statedump, the ip context\n"
	"  --no-logging       no lttng_python:event (logging records)\n"
	"  --filter EXPR      LTTng filter on the Python function events,\n"
	"                     e.g. 'co_name == \"handler\"'\n"
	"  --subbuf-size SIZE sub-buffer size per CPU of the function events, k/M/G\n"
	"                     suffixes (default 4M, less beyond 8 CPUs); log records\n"
	"                     get a quarter of it\n"
	"  --num-subbuf N     sub-buffers per CPU, a power of 2 (default 8)\n"
	"  --blocking         CMD waits for room in full buffers instead of losing events\n";

static const char live_usage[] =
	"usage: pyust live [-s NAME] [--flow] [--native] [--no-logging] [--filter EXPR]\n"
	"                  [--subbuf-size SIZE] [--num-subbuf N] [--blocking] [--] CMD [ARG...]\n"
	"Runs CMD with libpyust.so preloaded and shows its calls and log records as\n"
	"they happen (the stack view; --flow for calls and returns with file:line),\n"
	"through a live session of lttng-relayd on 127.0.0.1 (the one listening there,\n"
	"or one pyust starts and stops). The trace stays in the relay daemon's output\n"
	"directory. Other options as for pyust record.\n";

/* pyust live: a live session, read as it is written. */
static bool live;
/* The live session's period: how often data reaches the viewer. */
#define LIVE_TIMER_US 200000

struct opts {
	const char *out, *filter, *name;
	const char *view; /* pyust live's */
	bool native, logging, blocking;
	uint64_t subbuf, nsubbuf; /* subbuf 0: sized for the machine */
	char **cmd;
};

static int parse_size(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long n;
	int shift = 0;

	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -1;
	if (*end == 'k' || *end == 'K')
		shift = 10;
	else if (*end == 'm' || *end == 'M')
		shift = 20;
	else if (*end == 'g' || *end == 'G')
		shift = 30;
	if (shift)
		end++;
	if (*end || n == 0 || (n & (n - 1)) || n > (UINT64_MAX >> shift))
		return -1; /* LTTng takes powers of 2 */
	*v = (uint64_t)n << shift;
	return 0;
}

/* "4M", "512k": a power of 2 for the messages. */
static const char *size_text(uint64_t n, char *buf, size_t size)
{
	if (n >= (1 << 20) && !(n & ((1 << 20) - 1)))
		snprintf(buf, size, "%lluM", (unsigned long long)(n >> 20));
	else if (n >= (1 << 10) && !(n & ((1 << 10) - 1)))
		snprintf(buf, size, "%lluk", (unsigned long long)(n >> 10));
	else
		snprintf(buf, size, "%llu", (unsigned long long)n);
	return buf;
}

/* The length of LTTng-UST's per-CPU buffer array: the highest possible CPU + 1. */
static uint64_t possible_cpus(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/possible", "r");
	unsigned long n, top = 0;
	bool any = false;
	int c = ',';

	while (f && c != EOF && fscanf(f, "%lu", &n) == 1) {
		any = true;
		top = n > top ? n : top;
		c = fgetc(f); /* ',', '-' or the end */
	}
	if (f)
		fclose(f);
	if (!any) {
		long k = sysconf(_SC_NPROCESSORS_CONF);

		return k > 0 ? (uint64_t)k : 1;
	}
	return top + 1;
}

static uint64_t default_subbuf(uint64_t nsubbuf)
{
	uint64_t per_cpu = CHANNEL_BUDGET / possible_cpus() / nsubbuf, s = SUBBUF_MAX;

	while (s > per_cpu && s > SUBBUF_MIN)
		s >>= 1;
	return s;
}

/* Log records are far fewer than calls: their channel gets a quarter. */
static uint64_t logging_subbuf(const struct opts *o)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

	return o->subbuf / 4 > page ? o->subbuf / 4 : page;
}

/* 0, 1 to exit 0 (help), -1 to exit 2 (after saying why). */
static int parse(int argc, char **argv, struct opts *o)
{
	int i;

	*o = (struct opts){.logging = true, .nsubbuf = 8, .view = "stack"};
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] != '-')
			break;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(live ? live_usage : usage, stdout);
			return 1;
		} else if (live && (strcmp(a, "--flow") == 0 || strcmp(a, "--stack") == 0)) {
			o->view = a + 2;
		} else if (strcmp(a, "--native") == 0) {
			o->native = true;
		} else if (strcmp(a, "--no-logging") == 0) {
			o->logging = false;
		} else if (strcmp(a, "--blocking") == 0) {
			o->blocking = true;
		} else if (!live && (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) && v) {
			o->out = argv[++i];
		} else if ((strcmp(a, "-s") == 0 || strcmp(a, "--session") == 0) && v) {
			o->name = argv[++i];
			if (!*o->name || strchr(o->name, '/') || strlen(o->name) > 200) {
				pyust_err("%s %s: a session name has 1 to 200 "
					  "characters and no '/'\n",
					  a, o->name);
				return -1;
			}
		} else if (strcmp(a, "--filter") == 0 && v) {
			o->filter = argv[++i];
		} else if (strcmp(a, "--subbuf-size") == 0 && v) {
			if (parse_size(argv[++i], &o->subbuf) < 0)
				goto bad_value;
		} else if (strcmp(a, "--num-subbuf") == 0 && v) {
			if (parse_size(argv[++i], &o->nsubbuf) < 0)
				goto bad_value;
		} else {
			pyust_err("unknown option or missing value: %s\n%s", a,
				  live ? live_usage : usage);
			return -1;
		}
	}
	if (i >= argc) {
		pyust_err("no command to run\n%s", live ? live_usage : usage);
		return -1;
	}
	o->cmd = argv + i;
	if (!o->subbuf)
		o->subbuf = default_subbuf(o->nsubbuf);
	return 0;
bad_value:
	pyust_err("%s %s: not a power of 2 (k, M, G suffixes allowed)\n", argv[i - 1], argv[i]);
	return -1;
}

static int fail(const char *what, int err)
{
	pyust_err("%s: %s\n", what, lttng_strerror(err < 0 ? err : -err));
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
		pyust_err("cannot enable %s: %s\n", name, lttng_strerror(ret));
	return ret < 0 ? -1 : 0;
}

static int channel(struct lttng_handle *h, struct lttng_domain *dom, const char *name,
		   uint64_t subbuf, const struct opts *o)
{
	struct lttng_channel *c = lttng_channel_create(dom);
	int ret;

	if (!c)
		return -1;
	snprintf(c->name, sizeof(c->name), "%s", name);
	/* LTTng 2.16 creates the channel disabled otherwise. */
	c->enabled = 1;
	c->attr.overwrite = 0; /* discard: lose events rather than the program's time */
	c->attr.subbuf_size = subbuf;
	c->attr.num_subbuf = o->nsubbuf;
	ret = o->blocking ? lttng_channel_set_blocking_timeout(c, -1) : 0;
	if (ret == 0)
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

/* 1 if path is a directory with entries, or not a directory; 0 if new or empty. */
static int taken(const char *path)
{
	struct stat st;
	struct dirent *e;
	DIR *d;
	int entries = 0;

	if (stat(path, &st) != 0)
		return 0;
	d = opendir(path);
	if (!d)
		return 1;
	while ((e = readdir(d)))
		entries += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return entries > 0;
}

/*
 * Creates the session under the first free name of base, base-2, ...: one no
 * session has, and without -o one whose default directory is free too. 0 with
 * name and path set, or -1 after saying why.
 */
static int create(const struct opts *o, const char *base, char *name, size_t nsize, char *path,
		  size_t psize)
{
	const char *home = o->out || live ? NULL : pyust_lttng_home();
	struct lttng_session_descriptor *desc;
	enum lttng_error_code code;
	int i;

	if (!o->out && !live && !home) {
		pyust_err("no home directory for the trace: give -o DIR\n");
		return -1;
	}
	for (i = 1; i <= NAME_TRIES; i++) {
		if (i == 1)
			snprintf(name, nsize, "%s", base);
		else
			snprintf(name, nsize, "%s-%d", base, i);
		if (!o->out && !live) {
			snprintf(path, psize, "%s/lttng-traces/%s", home, name);
			if (taken(path))
				continue;
		}
		/* Live: the relay daemon on loopback's default ports, where the viewer reads. */
		desc = live ? lttng_session_descriptor_live_network_create(name, "net://127.0.0.1",
									   NULL, LIVE_TIMER_US)
			    : lttng_session_descriptor_local_create(name, path);
		if (!desc)
			return fail("cannot create the session", LTTNG_ERR_NOMEM);
		code = lttng_create_session_ext(desc);
		lttng_session_descriptor_destroy(desc);
		if (code == LTTNG_ERR_EXIST_SESS)
			continue;
		if (code != LTTNG_OK)
			return fail("cannot create the session", code);
		return 0;
	}
	pyust_err("the session names %s to %s-%d are all taken\n", base, base, NAME_TRIES);
	return -1;
}

static int setup(const char *name, const struct opts *o)
{
	struct lttng_domain ust = {.type = LTTNG_DOMAIN_UST, .buf_type = LTTNG_BUFFER_PER_UID};
	struct lttng_domain py = {.type = LTTNG_DOMAIN_PYTHON, .buf_type = LTTNG_BUFFER_PER_UID};
	struct lttng_handle *h = lttng_create_handle(name, &ust);
	struct lttng_handle *hp = lttng_create_handle(name, &py);
	int ret = -1;

	if (!h || !hp || channel(h, &ust, CHAN, o->subbuf, o) < 0 ||
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
	    (channel(h, &ust, PY_CHAN, logging_subbuf(o), o) < 0 ||
	     context(h, PY_CHAN, LTTNG_EVENT_CONTEXT_VPID) < 0 ||
	     context(h, PY_CHAN, LTTNG_EVENT_CONTEXT_VTID) < 0 || enable(hp, "*", NULL, NULL) < 0))
		goto out;
	if (pyust_interrupted) {
		ret = 0; /* the caller says so */
		goto out;
	}
	ret = lttng_start_tracing(name);
	ret = ret < 0 ? fail("cannot start the session", ret) : 0;
out:
	lttng_destroy_handle(h);
	lttng_destroy_handle(hp);
	return ret;
}

/* Stops (once the data is written) and destroys the session. */
static void finish(const char *name)
{
	int ret = lttng_stop_tracing(name);

	if (ret < 0 && ret != -LTTNG_ERR_TRACE_ALREADY_STOPPED)
		fail("cannot stop the session, the trace may lack its end", ret);
	ret = lttng_destroy_session(name);
	if (ret < 0)
		fail("cannot destroy the session", ret);
}

static void summary(const char *path, const struct opts *o)
{
	char sub[32], logsub[32];
	struct pyust_counts c;
	size_t i;

	if (pyust_trace_count(path) == 0) {
		pyust_err("nothing was recorded\n");
		return;
	}
	if (pyust_count_trace(path, &c, &pyust_interrupted) < 0) {
		pyust_err("the trace is in %s, but cannot be read\n", path);
		return;
	}
	if (c.stopped) {
		pyust_err("counting stopped; the trace is in %s\n", path);
		pyust_counts_free(&c);
		return;
	}
	pyust_err("%llu events in %s\n", (unsigned long long)c.events, path);
	for (i = 0; i < c.len; i++)
		fprintf(stderr, "  %12llu  %s\n", (unsigned long long)c.by_name[i].n,
			c.by_name[i].name);
	if (c.discarded || c.discarded_unknown)
		pyust_err("%s%llu events lost: the buffers were full; record again "
			  "with --blocking, or with larger buffers: --subbuf-size (now %s, %s for "
			  "log records) or --num-subbuf (now %llu)\n",
			  c.discarded_unknown ? "at least " : "", (unsigned long long)c.discarded,
			  size_text(o->subbuf, sub, sizeof(sub)),
			  size_text(logging_subbuf(o), logsub, sizeof(logsub)),
			  (unsigned long long)o->nsubbuf);
	else
		pyust_err("no event lost\n");
	pyust_err("look at it with\n  pyust report --calltime %s\n"
		  "  babeltrace2 %s\n",
		  path, path);
	pyust_counts_free(&c);
}

/* -o DIR made absolute; it must be new or empty, so that one trace is in it. */
static int out_dir(const char *want, char *path, size_t size)
{
	if (pyust_absolute(want, path, size) < 0)
		return -1;
	if (taken(path)) {
		pyust_err("%s is not an empty directory\n", path);
		return -1;
	}
	return 0;
}

/* pyust-CMD-DATE-TIME-PID, or --session's. */
static void base_name(const struct opts *o, char *name, size_t size)
{
	const char *cmd = strrchr(o->cmd[0], '/') ? strrchr(o->cmd[0], '/') + 1 : o->cmd[0];
	time_t now = time(NULL);
	char stamp[32];
	char *p;

	if (o->name) {
		snprintf(name, size, "%s", o->name);
		return;
	}
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime(&now));
	snprintf(name, size, "pyust-%.40s-%s-%ld", *cmd ? cmd : "cmd", stamp, (long)getpid());
	for (p = name; *p; p++)
		if (*p == '/' || *p == ' ')
			*p = '_';
}

static int interrupted_status(const char *what)
{
	pyust_err("interrupted (signal %d) %s\n", (int)pyust_interrupted, what);
	return 128 + pyust_interrupted;
}

/*
 * Runs CMD while the view shows what the relay daemon passes on; once CMD
 * ended, the session is stopped and destroyed, and the view shows the rest.
 * CMD's wait status, or -1 when it did not run.
 */
static int run_live(const char *name, const struct opts *o, const char *preload)
{
	char host[256], url[600];
	struct pyust_graph g = {0};
	bt_value *params = bt_value_map_create();
	bool ended = false, viewing = true;
	int status = -1, waited = 0; /* 10 ms naps since CMD ended */
	pid_t pid;

	if (!params || gethostname(host, sizeof(host)) != 0)
		goto out;
	host[sizeof(host) - 1] = '\0';
	snprintf(url, sizeof(url), "net://127.0.0.1:%d/host/%s/%s", PYUST_RELAYD_LIVE_PORT, host,
		 name);
	if (pyust_graph_open_live(&g, url, o->native, "live") < 0 ||
	    pyust_graph_add_view(&g, o->view, params, "live") != 0)
		goto out;
	pid = pyust_spawn(o->cmd, preload, o->blocking);
	if (pid < 0)
		goto out;
	while (!ended || viewing) {
		if (viewing) {
			switch (bt_graph_run_once(g.graph)) {
			case BT_GRAPH_RUN_ONCE_STATUS_OK:
				break;
			case BT_GRAPH_RUN_ONCE_STATUS_AGAIN:
				usleep(10000);
				/* The session is gone: the relay daemon should have said so. */
				if (ended && ++waited == 3000) {
					pyust_err(
						"the live view did not end 30 s after the session; "
						"the trace is whole in the relay daemon's "
						"output\n");
					viewing = false;
				}
				break;
			case BT_GRAPH_RUN_ONCE_STATUS_END:
				viewing = false;
				break;
			default:
				pyust_err("the live view failed; %s goes on\n", o->cmd[0]);
				bt_current_thread_clear_error();
				viewing = false;
			}
			fflush(stdout);
		}
		if (!ended && pyust_reap(pid, !viewing, &status) != 0) {
			ended = true;
			/* The viewer sees the session end once its last data is read. */
			finish(name);
		}
	}
out:
	if (!ended)
		finish(name);
	if (g.graph)
		pyust_graph_close(&g);
	bt_value_put_ref(params);
	return status;
}

int pyust_live_main(int argc, char **argv)
{
	live = true;
	return pyust_record_main(argc, argv);
}

int pyust_record_main(int argc, char **argv)
{
	char base[256], name[300], path[PATH_MAX];
	char *preload;
	struct opts o;
	int status, ret;

	ret = parse(argc, argv, &o);
	if (ret)
		return ret > 0 ? 0 : 2;
	if (o.out && out_dir(o.out, path, sizeof(path)) < 0)
		return 2;
	ret = pyust_find_command(o.cmd[0]);
	if (ret)
		return ret;
	preload = pyust_preload();
	if (!preload)
		return 1;
	base_name(&o, base, sizeof(base));
	pyust_catch_signals();
	ret = 1;
	if (pyust_sessiond_ensure() < 0)
		goto out;
	if (live && pyust_relayd_ensure() < 0)
		goto stop;
	if (pyust_interrupted) {
		ret = interrupted_status("before the session was made");
		goto stop;
	}
	if (create(&o, base, name, sizeof(name), path, sizeof(path)) < 0)
		goto stop;
	if (setup(name, &o) < 0) {
		lttng_destroy_session(name);
		goto stop;
	}
	if (live) {
		status = run_live(name, &o, preload);
	} else {
		status = pyust_run(o.cmd, preload, o.blocking);
		finish(name);
	}
	if (status == -1) {
		if (pyust_interrupted)
			ret = interrupted_status("before the command started: session destroyed");
		goto stop;
	}
	if (WIFSIGNALED(status))
		pyust_err("%s was killed by signal %d\n", o.cmd[0], WTERMSIG(status));
	else if (WEXITSTATUS(status))
		pyust_err("%s exited with status %d\n", o.cmd[0], WEXITSTATUS(status));
	if (live)
		pyust_err("the trace is kept by lttng-relayd, under its output directory "
			  "(default ~/lttng-traces)/HOST/%s-DATE-TIME\n",
			  name);
	else
		summary(path, &o);
	ret = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
stop:
	pyust_relayd_release();
	pyust_sessiond_release();
out:
	free(preload);
	return ret;
}
