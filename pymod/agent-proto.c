/*
 * SPDX-License-Identifier: MIT
 *
 * Encoding and decoding of the LTTng agent protocol (see agent-proto.h).
 * Everything the daemon sends is checked before it is used: a command that
 * does not hold together closes the connection.
 */

#include <stdlib.h>
#include <string.h>

#include "agent-proto.h"

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void agent_register_msg(uint8_t out[AGENT_REGISTER_SIZE], uint32_t pid)
{
	put32(out, AGENT_DOMAIN_PYTHON);
	put32(out + 4, pid);
	put32(out + 8, AGENT_PROTO_MAJOR);
	put32(out + 12, AGENT_PROTO_MINOR);
}

int agent_parse_header(const uint8_t in[AGENT_HEADER_SIZE], struct agent_header *h)
{
	h->size = (uint64_t)get32(in) << 32 | get32(in + 4);
	h->cmd = get32(in + 8);
	h->version = get32(in + 12);
	return h->size > AGENT_MAX_PAYLOAD ? -1 : 0;
}

static int has_nul(const uint8_t *p, size_t n)
{
	return memchr(p, 0, n) != NULL;
}

/* loglevel, loglevel type, name[256], then (2.8+) filter length and filter. */
static const char *check_enable(const uint8_t *p, uint64_t size)
{
	const uint64_t fixed = 8 + AGENT_NAME_LEN;

	if (size < fixed)
		return "enable command too short";
	if (!has_nul(p + 8, AGENT_NAME_LEN))
		return "enable command with an unterminated name";
	if (size == fixed)
		return NULL;
	if (size < fixed + 4 || size != fixed + 4 + get32(p + fixed))
		return "enable command whose filter length does not match its size";
	return NULL;
}

static void reply_code(uint8_t reply[4], uint32_t code)
{
	put32(reply, code);
}

enum agent_action agent_handle(struct agent_conn *c, const struct agent_header *h,
			       const uint8_t *payload, uint8_t reply[4], const char **why)
{
	switch (h->cmd) {
	case AGENT_CMD_LIST:
		return AGENT_LIST;
	case AGENT_CMD_ENABLE:
		*why = check_enable(payload, h->size);
		if (*why)
			return AGENT_CLOSE;
		/* More enables than a daemon has sessions times events is nonsense. */
		if (c->enabled >= 1u << 20) {
			*why = "too many enable commands";
			return AGENT_CLOSE;
		}
		c->enabled++;
		reply_code(reply, AGENT_REPLY_SUCCESS);
		return AGENT_SEND;
	case AGENT_CMD_DISABLE:
		if (h->size == 0 || h->size > AGENT_NAME_LEN || !has_nul(payload, h->size)) {
			*why = "malformed disable command";
			return AGENT_CLOSE;
		}
		/* Sent again when a session is destroyed: never below zero. */
		if (c->enabled)
			c->enabled--;
		reply_code(reply, AGENT_REPLY_SUCCESS);
		return AGENT_SEND;
	case AGENT_CMD_REG_DONE:
		c->registered = 1;
		return AGENT_NONE;
	default:
		/* A newer daemon's command (Java's application contexts): refuse it only. */
		reply_code(reply, AGENT_REPLY_INVALID);
		return AGENT_SEND;
	}
}

uint8_t *agent_list_reply(const char *names, uint32_t len, uint32_t count, size_t *size)
{
	uint8_t *out = malloc(12 + (size_t)len);

	if (!out)
		return NULL;
	put32(out, AGENT_REPLY_SUCCESS);
	put32(out + 4, len);
	put32(out + 8, count);
	if (len)
		memcpy(out + 12, names, len);
	*size = 12 + (size_t)len;
	return out;
}
