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

/* The rule an enable command carries; a copy kept fails only for want of memory. */
static int add_rule(struct agent_conn *c, const uint8_t *p)
{
	struct agent_rule *r;

	if (c->nrules == c->cap) {
		unsigned int cap = c->cap ? c->cap * 2 : 8;
		struct agent_rule *grown = realloc(c->rules, cap * sizeof(*grown));

		if (!grown)
			return -1;
		c->rules = grown;
		c->cap = cap;
	}
	r = &c->rules[c->nrules++];
	r->level = (int32_t)get32(p);
	r->type = get32(p + 4);
	memcpy(r->name, p + 8, AGENT_NAME_LEN);
	return 0;
}

/* The lowest level a rule takes, INT32_MIN for all. */
static int32_t lowest(const struct agent_rule *r)
{
	return r->type == AGENT_LEVEL_RANGE || r->type == AGENT_LEVEL_SINGLE ? r->level : INT32_MIN;
}

/*
 * A disable command names the loggers only. The rule dropped is one of
 * those of that name; when they differ, the others widen to take every
 * level any of them took, so that what remains asks for no less than the
 * sessions still do.
 */
static void drop_rule(struct agent_conn *c, const char *name)
{
	unsigned int i, found = c->nrules, same = 1;
	int32_t low = INT32_MAX;

	for (i = 0; i < c->nrules; i++) {
		if (strcmp(c->rules[i].name, name) != 0)
			continue;
		if (found < c->nrules && (c->rules[i].type != c->rules[found].type ||
					  c->rules[i].level != c->rules[found].level))
			same = 0;
		if (lowest(&c->rules[i]) < low)
			low = lowest(&c->rules[i]);
		found = i;
	}
	if (found == c->nrules)
		return;
	c->rules[found] = c->rules[--c->nrules];
	for (i = 0; !same && i < c->nrules; i++) {
		if (strcmp(c->rules[i].name, name) != 0)
			continue;
		c->rules[i].type = low == INT32_MIN ? AGENT_LEVEL_ALL : AGENT_LEVEL_RANGE;
		c->rules[i].level = low;
	}
}

/* LTTng's star globs: '*' matches any run of bytes, '\' takes the next byte as it is. */
static int glob_match(const char *p, const char *s, size_t len)
{
	const char *star = NULL, *resume = NULL;
	const char *end = s + len;

	while (s < end) {
		if (*p == '*') {
			star = ++p;
			resume = s;
			continue;
		}
		if (*p == '\\' && p[1])
			p++;
		if (*p && *p == *s) {
			p++;
			s++;
			continue;
		}
		if (!star)
			return 0;
		p = star;
		s = ++resume;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

int agent_wants(const struct agent_conn *c, const char *name, size_t len, int level)
{
	unsigned int i;

	if (c->all)
		return 1;
	for (i = 0; i < c->nrules; i++) {
		const struct agent_rule *r = &c->rules[i];

		if ((r->type == AGENT_LEVEL_RANGE && level < r->level) ||
		    (r->type == AGENT_LEVEL_SINGLE && level != r->level))
			continue;
		if (glob_match(r->name, name, len))
			return 1;
	}
	return 0;
}

int32_t agent_lowest(const struct agent_conn *c)
{
	int32_t low = INT32_MAX;
	unsigned int i;

	if (c->all)
		return INT32_MIN;
	for (i = 0; i < c->nrules; i++)
		if (lowest(&c->rules[i]) < low)
			low = lowest(&c->rules[i]);
	return low;
}

void agent_conn_reset(struct agent_conn *c)
{
	free(c->rules);
	memset(c, 0, sizeof(*c));
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
		if (add_rule(c, payload) < 0)
			c->all = 1;
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
		drop_rule(c, (const char *)payload);
		if (!c->enabled) {
			c->nrules = 0;
			c->all = 0;
		}
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
