/*
 * SPDX-License-Identifier: MIT
 *
 * The pyust command: shared declarations of its subcommands.
 */

#ifndef PYUST_CLI_H
#define PYUST_CLI_H

#include <babeltrace2/babeltrace.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

int pyust_record_main(int argc, char **argv);
int pyust_live_main(int argc, char **argv);

/* The subcommand running ("record", "live"), for pyust_err's prefix. */
extern const char *pyust_subcommand;
/* On stderr, after "pyust SUBCOMMAND: ". */
void pyust_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int pyust_report_main(int argc, char **argv);

/* sessiond.c: where LTTng keeps the user's files ($LTTNG_HOME, $HOME, ...). */
const char *pyust_lttng_home(void);
/* 0 once a session daemon answers (one is started if none did); -1 after saying why. */
int pyust_sessiond_ensure(void);
/* Stops the session daemon pyust_sessiond_ensure started, if any and if unused. */
void pyust_sessiond_release(void);

/* command.c: the signal (INT, TERM, HUP, QUIT) pyust got while no command ran, or 0. */
extern volatile sig_atomic_t pyust_interrupted;
/* From now on, such signals are sent on to the command while it runs. */
void pyust_catch_signals(void);
/* 0 if execvp finds cmd; otherwise a shell's status for it (126, 127), after saying why. */
int pyust_find_command(const char *cmd);
/* The command's LD_PRELOAD (malloc'd), or NULL after saying why. */
char *pyust_preload(void);
/* path made absolute in out; -1 after saying why. */
int pyust_absolute(const char *path, char *out, size_t size);
/* The command's wait status, or -1 if it did not run (pyust_interrupted first, or no fork). */
int pyust_run(char **cmd, const char *preload, bool blocking);
/* pyust_run in two steps: the command started (or -1), then its end waited for. */
pid_t pyust_spawn(char **cmd, const char *preload, bool blocking);
/* 1 with *status once pid ended, 0 while it runs (block false), -1 on error. */
int pyust_reap(pid_t pid, bool block, int *status);
/* Starts $env (default name) with arg, out of the terminal's session; -1 after saying why. */
pid_t pyust_start_daemon(const char *env, const char *name, const char *arg, const char *missing,
			 const char **bin);

/* relayd.c: lttng-relayd's default ports on loopback, where pyust live sends and reads. */
#define PYUST_RELAYD_CONTROL_PORT 5342
#define PYUST_RELAYD_DATA_PORT 5343
#define PYUST_RELAYD_LIVE_PORT 5344
/* 0 once a relay daemon listens there (one is started if none did); -1 after saying why. */
int pyust_relayd_ensure(void);
/* Stops the relay daemon pyust_relayd_ensure started, if any. */
void pyust_relayd_release(void);

/* A graph reading TRACE's CTF traces, merged in time order. */
struct pyust_graph {
	bt_graph *graph;
	const bt_port_output *out; /* the merged messages' port */
	bool native;		   /* native function events are in the trace */
};

/* 0 on success; otherwise prints why (prefixed by "pyust <cmd>: ") and returns -1. */
int pyust_graph_open(struct pyust_graph *g, const char *trace, bool debug_info, const char *cmd);
/* A graph reading a live session from the relay daemon: url is net://HOST:PORT/host/H/SESSION. */
int pyust_graph_open_live(struct pyust_graph *g, const char *url, bool debug_info, const char *cmd);
/* Adds pyust's sink VIEW with params after g->out; 0, or -1 (2: bad params) after saying why. */
int pyust_graph_add_view(struct pyust_graph *g, const char *view, bt_value *params,
			 const char *cmd);
/* How many CTF traces are under dir. */
int pyust_trace_count(const char *dir);
/* Runs the graph to its end; -1 (after printing why) on error. */
int pyust_graph_run(struct pyust_graph *g, const char *cmd);
void pyust_graph_close(struct pyust_graph *g);

/* What a trace holds, by event name. */
struct pyust_count {
	char *name;
	uint64_t n;
};

struct pyust_counts {
	struct pyust_count *by_name;
	size_t len, cap;
	uint64_t events, discarded, discarded_unknown;
	bool stopped; /* *stop became non-zero: the counts are partial */
	const volatile sig_atomic_t *stop;
};

/* Counts the events of the traces under trace; stops early when *stop is set. */
int pyust_count_trace(const char *trace, struct pyust_counts *c, const volatile sig_atomic_t *stop);
void pyust_counts_free(struct pyust_counts *c);

#endif /* PYUST_CLI_H */
