/*
 * session - Postfix policy requests through the rule engine: transactions
 * correlated by Postfix's "instance", one action line per request.
 */
#ifndef RG_POLICYD_SESSION_H
#define RG_POLICYD_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "request.h"
#include "runtime.h"

#define SESSION_ACTION_MAX 1024	/* "action=...\n\n" */

struct session_table;

struct session_table *session_table_new(unsigned slots);
void session_table_free(struct session_table *t, struct runtime *rt,
			uint32_t now);
void session_answer(struct session_table *t, struct runtime *rt,
		    const struct request *r, uint32_t now, char *out,
		    size_t outlen);
unsigned session_expire(struct session_table *t, struct runtime *rt,
			uint32_t now);
unsigned session_count(const struct session_table *t);
/* Non-NULL when the instance is open (for tests and the EOM stage). */
const void *session_lookup(const struct session_table *t, const char *instance);
/* The engine reads the milter section's dry_run: policyd's process runs
 * it with policyd.dry_run in its place (call after each cfg_load). */
void session_cfg_view(struct cfg *c);

#endif
