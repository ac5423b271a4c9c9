/*
 * cmd_state - the users and clients tables, and the distinct counts and
 * the client kind that "show" shares with them.
 */
#ifndef RG_CTL_CMD_STATE_H
#define RG_CTL_CMD_STATE_H

#include <stdint.h>

#include "ctl.h"

/* What a user's remembered addresses add up to inside a window. */
struct cmd_distinct {
    uint32_t ips, prefixes, countries, asns;
    char ccs[STORE_IPS_MAX][3];	/* the countries, sorted */
};

void cmd_state_distinct(const struct store_user *u, uint32_t now,
			uint32_t w, struct cmd_distinct *d);

/* "trusted", "internal" or "external": where the configuration puts ip. */
const char *cmd_state_kind(const struct ctl *c, const struct addr *ip);

#endif
