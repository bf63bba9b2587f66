/*
 * SPDX-License-Identifier: MIT
 *
 * The agent: a thread that registers the process with the session daemons
 * (root's and the user's, through their agent.port files, as lttngust does),
 * answers their commands, and reconnects with a backoff when one goes away.
 * It takes the GIL only to list the loggers.
 *
 * The start waits for the daemons' "registration done", which comes after
 * the enable commands of the sessions in place, so that the first record
 * is made when a session asks for it: as LTTng-UST waits for its own
 * registration, and as long, LTTNG_UST_REGISTER_TIMEOUT milliseconds (3000;
 * 0 for no wait, -1 for no limit), and not at all when no daemon answers.
 */

#include "pyust.h"
#include "agent-proto.h"
#include "pyust-preload.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 2000
#define LIST_MAX_BYTES (1 << 20)

struct conn {
	const char *what; /* "root" or "user", for debug lines */
	char port_file[PATH_MAX];
	int fd;
	int spare; /* a socket made by the program's thread at the start, or -1 */
	int port;
	struct agent_conn state;
	uint8_t head[AGENT_HEADER_SIZE];
	struct agent_header h;
	uint8_t *payload; /* h.size bytes, once the header is in */
	uint64_t got;	  /* bytes of header then payload received */
	int backoff_ms;
	long long retry_at; /* ms, CLOCK_MONOTONIC */
	bool awaited;	    /* the start waits for its registration, under settle_lock */
};

static struct conn conns[2];
static int wake[2] = {-1, -1};
static unsigned int enabled; /* enable commands in force, all daemons */
/* Guards the connections' rules: the thread changes them, the program's threads read them. */
static pthread_mutex_t rules_lock = PTHREAD_MUTEX_INITIALIZER;
/* The lowest level the rules ask for (agent_lowest), read without the lock. */
static int32_t lowest_level = INT32_MAX;
/* The start waits on settled until no connection is awaited. */
static pthread_mutex_t settle_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t settled;
static unsigned int n_awaited;

/* Guards stopping and running, and is held while the thread uses Python. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bool stopping;
static bool running;
static bool started; /* pyust_agent_start was called (under the GIL) */

unsigned int pyust_agent_enabled(void)
{
	return __atomic_load_n(&enabled, __ATOMIC_RELAXED);
}

/* Under rules_lock, after a change of the rules. */
static void update_lowest(void)
{
	int32_t a = agent_lowest(&conns[0].state), b = agent_lowest(&conns[1].state);

	__atomic_store_n(&lowest_level, a < b ? a : b, __ATOMIC_RELAXED);
}

bool pyust_agent_wants(const char *name, size_t len, int level)
{
	bool wants;

	if (level < __atomic_load_n(&lowest_level, __ATOMIC_RELAXED))
		return false;
	pthread_mutex_lock(&rules_lock);
	wants = agent_wants(&conns[0].state, name, len, level) ||
		agent_wants(&conns[1].state, name, len, level);
	pthread_mutex_unlock(&rules_lock);
	return wants;
}

/* The connection registered, or cannot: the start need not wait for it. */
static void settle(struct conn *c)
{
	pthread_mutex_lock(&settle_lock);
	if (c->awaited) {
		c->awaited = false;
		if (--n_awaited == 0)
			pthread_cond_broadcast(&settled);
	}
	pthread_mutex_unlock(&settle_lock);
}

static void reset_state(struct conn *c)
{
	pthread_mutex_lock(&rules_lock);
	agent_conn_reset(&c->state);
	update_lowest();
	pthread_mutex_unlock(&rules_lock);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int read_port(const char *path)
{
	char buf[16] = {0};
	long port;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	port = strtol(buf, NULL, 10);
	return port > 0 && port <= 65535 ? (int)port : -1;
}

static void update_enabled(void)
{
	__atomic_store_n(&enabled, conns[0].state.enabled + conns[1].state.enabled,
			 __ATOMIC_RELAXED);
}

static void later(struct conn *c)
{
	c->retry_at = now_ms() + c->backoff_ms;
	c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
}

static void drop(struct conn *c, const char *why)
{
	if (why)
		pyust_debug("agent: closing the connection to the %s session daemon (port %d): %s",
			    c->what, c->port, why);
	/* A daemon that had taken us and went away: try again soon; others, less and less. */
	if (c->state.registered)
		c->backoff_ms = BACKOFF_MIN_MS;
	pyust_fd_close(c->fd);
	c->fd = -1;
	free(c->payload);
	c->payload = NULL;
	c->got = 0;
	reset_state(c);
	update_enabled();
	settle(c);
	later(c);
}

static int send_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = send(pyust_fd(fd), p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= w;
	}
	return 0;
}

static void drop_spare(struct conn *c)
{
	if (c->spare >= 0)
		pyust_fd_close(c->spare);
	c->spare = -1;
}

static void try_connect(struct conn *c, int other_port)
{
	const struct timeval send_timeout = {1, 0};
	struct sockaddr_in addr = {.sin_family = AF_INET};
	uint8_t msg[AGENT_REGISTER_SIZE];

	c->port = read_port(c->port_file);
	/* The user's daemon is root's: one connection is enough. */
	if (c->port < 0 || c->port == other_port) {
		drop_spare(c);
		settle(c);
		later(c);
		return;
	}
	c->fd = c->spare >= 0 ? c->spare
			      : pyust_fd_keep(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
	c->spare = -1;
	if (c->fd < 0) {
		settle(c);
		later(c);
		return;
	}
	addr.sin_port = htons(c->port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	agent_register_msg(msg, (uint32_t)getpid());
	setsockopt(pyust_fd(c->fd), SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof(send_timeout));
	if (connect(pyust_fd(c->fd), (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    send_all(c->fd, msg, sizeof(msg)) < 0) {
		pyust_fd_close(c->fd);
		c->fd = -1;
		settle(c);
		later(c);
		return;
	}
	pyust_debug("agent: registering with the %s session daemon (port %d)", c->what, c->port);
}

/* With the GIL: the names of the loggers, NUL-terminated one after the other. */
static char *logger_names(uint32_t *len, uint32_t *count)
{
	PyObject *name = PyUnicode_FromString("logging"), *logging = NULL, *dict = NULL;
	PyObject *key, *value;
	Py_ssize_t pos = 0;
	char *out = NULL;
	size_t used = 0, cap = 0;

	*count = 0;
	/* Only a program that uses logging has loggers: never import it. */
	logging = name ? PyImport_GetModule(name) : NULL;
	if (logging)
		dict = PyObject_GetAttrString(logging, "Logger");
	if (dict)
		Py_SETREF(dict, PyObject_GetAttrString(dict, "manager"));
	if (dict)
		Py_SETREF(dict, PyObject_GetAttrString(dict, "loggerDict"));
	while (dict && PyDict_Check(dict) && PyDict_Next(dict, &pos, &key, &value)) {
		PyObject *bytes = PyUnicode_Check(key)
					  ? PyUnicode_AsEncodedString(key, "utf-8", "replace")
					  : NULL;
		size_t n = bytes ? (size_t)PyBytes_GET_SIZE(bytes) : 0;

		/* The daemon's names are at most 255 bytes: leave longer ones out. */
		if (n && n < AGENT_NAME_LEN && used + n + 1 <= LIST_MAX_BYTES) {
			if (used + n + 1 > cap) {
				char *grown = realloc(out, cap ? cap * 2 + n + 1 : 4096);

				if (!grown) {
					Py_DECREF(bytes);
					break;
				}
				out = grown;
				cap = cap ? cap * 2 + n + 1 : 4096;
			}
			memcpy(out + used, PyBytes_AS_STRING(bytes), n + 1);
			used += n + 1;
			(*count)++;
		}
		Py_XDECREF(bytes);
	}
	PyErr_Clear();
	Py_XDECREF(dict);
	Py_XDECREF(logging);
	Py_XDECREF(name);
	*len = used;
	return out;
}

static uint8_t *list_reply(size_t *size)
{
	uint32_t len = 0, count = 0;
	char *names = NULL;
	uint8_t *reply;

	pthread_mutex_lock(&lock);
	/* Once stopping, the interpreter may be finalized: answer with no logger. */
	if (!stopping) {
		PyGILState_STATE g = PyGILState_Ensure();

		names = logger_names(&len, &count);
		PyGILState_Release(g);
	}
	pthread_mutex_unlock(&lock);
	reply = agent_list_reply(names, len, count, size);
	free(names);
	return reply;
}

static void command(struct conn *c)
{
	uint8_t small[4], *big = NULL;
	const char *why = NULL;
	size_t size = sizeof(small);
	enum agent_action a;

	pthread_mutex_lock(&rules_lock);
	a = agent_handle(&c->state, &c->h, c->payload, small, &why);
	update_lowest();
	pthread_mutex_unlock(&rules_lock);
	update_enabled();
	if (c->state.registered)
		settle(c);
	free(c->payload);
	c->payload = NULL;
	c->got = 0;
	if (a == AGENT_CLOSE) {
		drop(c, why);
		return;
	}
	if (a == AGENT_LIST) {
		big = list_reply(&size);
		if (!big) {
			drop(c, "out of memory for the list of loggers");
			return;
		}
	}
	if (a != AGENT_NONE && send_all(c->fd, big ? big : small, size) < 0)
		drop(c, "cannot send the reply");
	free(big);
}

/* Reads what is there of the current command; runs it once complete. */
static void readable(struct conn *c)
{
	for (;;) {
		uint64_t want = c->got < AGENT_HEADER_SIZE ? AGENT_HEADER_SIZE
							   : AGENT_HEADER_SIZE + c->h.size;
		uint8_t *dst = c->got < AGENT_HEADER_SIZE
				       ? c->head + c->got
				       : c->payload + (c->got - AGENT_HEADER_SIZE);
		ssize_t n = 0;

		if (c->got < want)
			n = recv(pyust_fd(c->fd), dst, want - c->got, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0 || (n == 0 && c->got < want)) {
			drop(c, n == 0 ? (c->got ? "connection closed in a command" : NULL)
				       : strerror(errno));
			return;
		}
		c->got += n;
		if (c->got == AGENT_HEADER_SIZE && !c->payload) {
			if (agent_parse_header(c->head, &c->h) < 0) {
				drop(c, "command larger than any the daemon sends");
				return;
			}
			/* One byte more, so that an empty payload has a buffer too. */
			c->payload = malloc(c->h.size + 1);
			if (!c->payload) {
				drop(c, "out of memory for a command");
				return;
			}
		}
		if (c->got == AGENT_HEADER_SIZE + c->h.size && c->payload) {
			command(c);
			if (c->fd < 0)
				return;
		}
	}
}

static void wake_up(void)
{
	/* Full pipe: a wake-up is already pending. */
	if (write(pyust_fd(wake[1]), "", 1) < 0)
		return;
}

static bool should_stop(void)
{
	bool stop;

	pthread_mutex_lock(&lock);
	stop = stopping;
	if (stop) {
		unsigned int i;

		for (i = 0; i < 2; i++) {
			if (conns[i].fd >= 0)
				drop(&conns[i], NULL);
			drop_spare(&conns[i]);
			settle(&conns[i]);
		}
		running = false;
	}
	pthread_mutex_unlock(&lock);
	return stop;
}

static void *agent(void *unused)
{
	(void)unused;
	pyust_orphan_own_thread();
	while (!should_stop()) {
		struct pollfd fds[3] = {{.fd = pyust_fd(wake[0]), .events = POLLIN}};
		struct conn *polled[3] = {NULL};
		long long now = now_ms(), timeout = -1;
		nfds_t n = 1, i;

		for (i = 0; i < 2; i++) {
			struct conn *c = &conns[i];

			if (c->fd < 0 && now >= c->retry_at)
				try_connect(c, conns[!i].fd >= 0 ? conns[!i].port : -1);
			if (c->fd >= 0) {
				fds[n].fd = pyust_fd(c->fd);
				fds[n].events = POLLIN;
				polled[n++] = c;
			} else if (timeout < 0 || c->retry_at - now < timeout) {
				timeout = c->retry_at > now ? c->retry_at - now : 0;
			}
		}
		if (poll(fds, n, (int)timeout) <= 0)
			continue;
		if (fds[0].revents) {
			char buf[64];

			while (read(pyust_fd(wake[0]), buf, sizeof(buf)) > 0)
				;
		}
		for (i = 1; i < n; i++)
			if (fds[i].revents)
				readable(polled[i]);
	}
	pyust_orphan_own_thread_ends();
	return NULL;
}

static int spawn(void)
{
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t thread;
	int ret;

	/* Signals are the application's: its threads take them, not ours. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ret = pthread_create(&thread, &attr, agent, NULL);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

static void init_conns(void)
{
	const char *home = getenv("LTTNG_HOME");
	unsigned int i;

	if (!home || !*home)
		home = getenv("HOME");
	conns[0].what = "root";
	snprintf(conns[0].port_file, sizeof(conns[0].port_file), "/var/run/lttng/agent.port");
	conns[1].what = "user";
	snprintf(conns[1].port_file, sizeof(conns[1].port_file), "%s/.lttng/agent.port",
		 home ? home : "");
	for (i = 0; i < 2; i++) {
		conns[i].fd = -1;
		conns[i].backoff_ms = BACKOFF_MIN_MS;
		conns[i].retry_at = 0;
		/*
		 * The socket is made here, in the program's thread, not by the agent
		 * thread while the program starts and opens files: its descriptor
		 * number is then the same in every run (and in a parent and its
		 * child), as a synchronous agent's would be.
		 */
		conns[i].spare =
			access(conns[i].port_file, R_OK) == 0
				? pyust_fd_keep(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0))
				: -1;
		/* No daemon there: nothing to wait for. */
		conns[i].awaited = conns[i].spare >= 0;
		n_awaited += conns[i].awaited;
	}
}

/* LTTng-UST's LTTNG_UST_REGISTER_TIMEOUT: ms, -1 for no limit; 3000 if unset or not a number. */
static long register_timeout_ms(void)
{
	const char *v = getenv("LTTNG_UST_REGISTER_TIMEOUT");
	char *end;
	long ms;

	if (!v || !*v)
		return 3000;
	errno = 0;
	ms = strtol(v, &end, 10);
	if (errno || *end || ms < -1)
		return 3000;
	return ms;
}

/* Without the GIL: until each daemon there registered the process, or the timeout. */
static void wait_registered(void)
{
	long ms = register_timeout_ms();
	struct timespec until;
	unsigned int i;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&settle_lock);
	while (n_awaited && ms != 0)
		if ((ms < 0 ? pthread_cond_wait(&settled, &settle_lock)
			    : pthread_cond_timedwait(&settled, &settle_lock, &until)) == ETIMEDOUT)
			break;
	/* Later registrations are waited for by nobody. */
	for (i = 0; i < 2; i++)
		conns[i].awaited = false;
	n_awaited = 0;
	pthread_mutex_unlock(&settle_lock);
}

static void init_settled(void)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&settled, &attr);
	pthread_condattr_destroy(&attr);
}

/* With the GIL, which is released while the lock is taken (see list_reply). */
static int start_thread(void)
{
	int ret = 0;

	Py_BEGIN_ALLOW_THREADS pthread_mutex_lock(&lock);
	stopping = false;
	if (!running) {
		ret = spawn();
		running = ret == 0;
	}
	pthread_mutex_unlock(&lock);
	Py_END_ALLOW_THREADS return ret;
}

int pyust_agent_start(void)
{
	bool first = !started;
	int ret;

	if (first) {
		pyust_debug(NULL);
		if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) < 0)
			return -1;
		/*
		 * The program may close every descriptor, or dup2 onto ours: the
		 * preload keeps ours open and moves them (fds.c), so each use asks
		 * pyust_fd() for the number.
		 */
		wake[0] = pyust_fd_keep(wake[0]);
		wake[1] = pyust_fd_keep(wake[1]);
		if (wake[0] < 0 || wake[1] < 0)
			return -1;
		init_settled();
		init_conns();
		started = true;
	}
	ret = start_thread();
	if (first && ret == 0) {
		Py_BEGIN_ALLOW_THREADS wait_registered();
		Py_END_ALLOW_THREADS
	}
	return ret;
}

/*
 * With the GIL (atexit, or lttngust taking over): once this returns the
 * thread never touches Python again, and it leaves the daemons soon after.
 */
void pyust_agent_stop(void)
{
	if (!started)
		return;
	Py_BEGIN_ALLOW_THREADS pthread_mutex_lock(&lock);
	stopping = true;
	pthread_mutex_unlock(&lock);
	Py_END_ALLOW_THREADS wake_up();
}

/*
 * In a child after fork: the thread did not follow, and the connections are
 * the parent's (closed here, not shut down, which would end them for the
 * parent too). The child registers on its own.
 */
int pyust_agent_after_fork(void)
{
	unsigned int i;

	if (!started)
		return 0;
	pthread_mutex_init(&lock, NULL);
	pthread_mutex_init(&rules_lock, NULL);
	pthread_mutex_init(&settle_lock, NULL);
	n_awaited = 0;
	running = false;
	for (i = 0; i < 2; i++) {
		if (conns[i].fd >= 0)
			pyust_fd_close(conns[i].fd);
		drop_spare(&conns[i]);
		free(conns[i].payload);
		agent_conn_reset(&conns[i].state);
		conns[i].payload = NULL;
		lowest_level = INT32_MAX;
		conns[i].got = 0;
	}
	update_enabled();
	pyust_fd_close(wake[0]);
	pyust_fd_close(wake[1]);
	started = false;
	return stopping ? 0 : pyust_agent_start();
}
