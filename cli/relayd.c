/*
 * SPDX-License-Identifier: MIT
 *
 * A relay daemon for pyust live: the one listening on loopback's default
 * ports when there is one, otherwise one started for the time of the
 * command, as a child, and stopped afterwards.
 */

#include "pyust-cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t started_relayd;

static bool listening(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

static bool all_listening(void)
{
	return listening(PYUST_RELAYD_CONTROL_PORT) && listening(PYUST_RELAYD_DATA_PORT) &&
	       listening(PYUST_RELAYD_LIVE_PORT);
}

int pyust_relayd_ensure(void)
{
	char missing[64];
	const char *bin;
	int status, i;
	pid_t pid;

	if (all_listening())
		return 0;
	snprintf(missing, sizeof(missing), "no relay daemon listens on 127.0.0.1:%d",
		 PYUST_RELAYD_LIVE_PORT);
	pid = pyust_start_daemon("LTTNG_RELAYD_PATH", "lttng-relayd", NULL, missing, &bin);
	if (pid < 0)
		return -1;
	for (i = 0; i < 1000; i++) {
		if (all_listening()) {
			started_relayd = pid;
			return 0;
		}
		if (pyust_reap(pid, false, &status) != 0) {
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 127)
				pyust_err("%s stopped as it started (%s %d): are ports %d to %d "
					  "taken by another program?\n",
					  bin, WIFEXITED(status) ? "exit status" : "signal",
					  WIFEXITED(status) ? WEXITSTATUS(status)
							    : WTERMSIG(status),
					  PYUST_RELAYD_CONTROL_PORT, PYUST_RELAYD_LIVE_PORT);
			return -1;
		}
		usleep(10000);
	}
	pyust_err("%s does not listen on 127.0.0.1:%d after 10 s\n", bin, PYUST_RELAYD_LIVE_PORT);
	kill(pid, SIGKILL);
	pyust_reap(pid, true, &status);
	return -1;
}

void pyust_relayd_release(void)
{
	int status, i;

	if (!started_relayd)
		return;
	kill(started_relayd, SIGTERM);
	for (i = 0; i < 1000; i++) {
		if (pyust_reap(started_relayd, false, &status) != 0)
			goto out;
		usleep(10000);
	}
	pyust_err("the relay daemon pyust started (pid %d) did not stop in 10 s: killed\n",
		  (int)started_relayd);
	kill(started_relayd, SIGKILL);
	pyust_reap(started_relayd, true, &status);
out:
	started_relayd = 0;
}
