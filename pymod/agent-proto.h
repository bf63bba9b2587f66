/*
 * SPDX-License-Identifier: MIT
 *
 * The LTTng agent protocol, as the session daemon speaks it to lttngust:
 * big-endian, a registration from the agent, then commands from the daemon
 * (a 16-byte header and a payload), each answered but "registration done".
 * No I/O and no Python here, so that it can be fuzzed alone.
 */

#ifndef PYUST_AGENT_PROTO_H
#define PYUST_AGENT_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define AGENT_DOMAIN_PYTHON 5 /* enum lttng_domain_type */
#define AGENT_PROTO_MAJOR 2
#define AGENT_PROTO_MINOR 0

#define AGENT_REGISTER_SIZE 16
#define AGENT_HEADER_SIZE 16
#define AGENT_NAME_LEN 256 /* LTTNG_SYMBOL_NAME_LEN */
/* An enable command with the longest filter expression the daemon accepts. */
#define AGENT_MAX_PAYLOAD (8 + AGENT_NAME_LEN + 4 + 65536)

enum agent_cmd {
	AGENT_CMD_LIST = 1,
	AGENT_CMD_ENABLE = 2,
	AGENT_CMD_DISABLE = 3,
	AGENT_CMD_REG_DONE = 4,
};

enum agent_reply {
	AGENT_REPLY_SUCCESS = 1,
	AGENT_REPLY_INVALID = 2,
};

struct agent_header {
	uint64_t size;
	uint32_t cmd;
	uint32_t version;
};

/* enum lttng_loglevel_type */
enum agent_level_type {
	AGENT_LEVEL_ALL = 0,
	AGENT_LEVEL_RANGE = 1,	/* this level and more severe (higher) */
	AGENT_LEVEL_SINGLE = 2, /* this level only */
};

/* An enable command: the loggers (a star glob) and levels a session asks for. */
struct agent_rule {
	int32_t level;
	uint32_t type;
	char name[AGENT_NAME_LEN];
};

/* What one connection has been told. */
struct agent_conn {
	unsigned int enabled; /* enable commands not yet disabled */
	int registered;	      /* "registration done" received */
	/*
	 * The rules of the enable commands in force. A disable command names
	 * the loggers only: the rules are then a superset of what the sessions
	 * ask for, never less. all: one could not be kept, everything is asked.
	 */
	struct agent_rule *rules;
	unsigned int nrules, cap;
	int all;
};

/* What the agent must do after a command. */
enum agent_action {
	AGENT_CLOSE = -1, /* malformed: close the connection */
	AGENT_NONE = 0,	  /* nothing to send */
	AGENT_SEND,	  /* send the reply made */
	AGENT_LIST,	  /* reply with agent_list_reply() */
};

void agent_register_msg(uint8_t out[AGENT_REGISTER_SIZE], uint32_t pid);

/* -1 when the payload announced is larger than any command. */
int agent_parse_header(const uint8_t in[AGENT_HEADER_SIZE], struct agent_header *h);

/*
 * Applies one command with its payload to the connection's state; the reply,
 * when AGENT_SEND, is written to reply (4 bytes). *why says what was wrong
 * when AGENT_CLOSE.
 */
enum agent_action agent_handle(struct agent_conn *c, const struct agent_header *h,
			       const uint8_t *payload, uint8_t reply[4], const char **why);

/* Whether the connection's sessions may ask for records of this logger and level. */
int agent_wants(const struct agent_conn *c, const char *name, size_t len, int level);

/* The lowest level any of its sessions may ask for: INT32_MIN for all, INT32_MAX for none. */
int32_t agent_lowest(const struct agent_conn *c);

/* Frees what the connection holds and forgets what it was told. */
void agent_conn_reset(struct agent_conn *c);

/*
 * The reply to "list": names is count NUL-terminated names, len bytes in
 * all. Returns a buffer of *size bytes to free(), or NULL.
 */
uint8_t *agent_list_reply(const char *names, uint32_t len, uint32_t count, size_t *size);

#endif /* PYUST_AGENT_PROTO_H */
