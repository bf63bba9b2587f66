/*
 * SPDX-License-Identifier: MIT
 *
 * libFuzzer target for the agent protocol parser: the input is what a
 * session daemon sends on one connection, command after command.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent-proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char names[] = "shop\0shop.cart\0caf\xc3\xa9";
	struct agent_conn conn = {0};
	uint8_t reg[AGENT_REGISTER_SIZE];

	agent_register_msg(reg, 1234);
	while (size >= AGENT_HEADER_SIZE) {
		struct agent_header h;
		enum agent_action a;
		const char *why = NULL;
		uint8_t reply[4], *payload, *list;
		size_t n;

		if (agent_parse_header(data, &h) < 0)
			break; /* the agent closes the connection */
		data += AGENT_HEADER_SIZE;
		size -= AGENT_HEADER_SIZE;
		if (h.size > size)
			break; /* truncated: the agent waits, then the daemon goes away */
		/* A copy of exactly the payload, so that the sanitizer sees overreads. */
		payload = malloc(h.size + 1);
		if (!payload)
			break;
		memcpy(payload, data, h.size);
		a = agent_handle(&conn, &h, payload, reply, &why);
		free(payload);
		data += h.size;
		size -= h.size;
		if (a == AGENT_CLOSE) {
			if (!why)
				abort();
			break;
		}
		/* No enable in force, no rule. */
		if (!conn.enabled && (conn.nrules || conn.all))
			abort();
		agent_wants(&conn, "shop.cart", 9, 20);
		agent_wants(&conn, names, sizeof(names) - 1, -1);
		/* What the lowest level says no to, no rule wants. */
		if (agent_lowest(&conn) > 20 && agent_wants(&conn, "shop.cart", 9, 20))
			abort();
		if (a == AGENT_LIST) {
			list = agent_list_reply(names, sizeof(names), 3, &n);
			if (!list || n != 12 + sizeof(names))
				abort();
			free(list);
		}
	}
	agent_conn_reset(&conn);
	return 0;
}
