/*
 * cmd_places - what "show USER" says the judgement of a login rests on:
 * its familiar networks, its usual busiest hour and day, whether it is still
 * learning, and which of its addresses count as familiar and why.
 */
#ifndef RG_CTL_CMD_PLACES_H
#define RG_CTL_CMD_PLACES_H

#include <stdint.h>

#include "ctl.h"
#include "json.h"
#include "table.h"

/* Why an address counts as familiar to a login (CMD_PLACE_NO: it does
 * not); the engine's metrics_familiar decides, cmd_places_why names it. */
enum cmd_place_why {
    CMD_PLACE_NO,		/* unfamiliar: the volume rules watch it */
    CMD_PLACE_OWN,		/* a network the login learned as its own */
    CMD_PLACE_LEARNING,		/* the login is still learning */
    CMD_PLACE_PINNED,		/* in policy.familiar_networks */
    CMD_PLACE_VOUCHED,		/* another login vouched for the address */
    CMD_PLACE_SITE,		/* in one of the site's networks, or known
				 * to the site some other way */
    CMD_PLACE_NEIGHBOUR,	/* a first home line in a neighbour's
				 * network (policy.first_home) */
    CMD_PLACE_BUSY,		/* not familiar to the login; whether the
				 * site vouched is unknown (entry busy) */
};

/* One login's places: the user entry and, per remembered address, when
 * the site last vouched for it (from the client entries). */
struct cmd_places {
    const struct ctl *c;
    const struct store_user *u;
    uint32_t vouched[STORE_IPS_MAX];	/* 0: never, or unknown */
    bool busy[STORE_IPS_MAX];	/* the client entry could not be read */
    bool site[STORE_IPS_MAX];	/* its /24 (/48) is one of the site's
				 * networks (metrics_site_network) */
    bool neighbour[STORE_IPS_MAX];	/* ... another login vouched for it
					 * (metrics_neighbour_network) */
};

/* Read the client entries of the login's addresses; a store status. */
int cmd_places_load(struct ctl *c, const struct store_user *u,
		    struct cmd_places *p);
/* Why address i of the login is (or is not) familiar. */
enum cmd_place_why cmd_places_why(const struct cmd_places *p, uint32_t i);
/* "own network", "vouched", ..., "no": the reason as a word. */
const char *cmd_places_word(enum cmd_place_why why);
/* The key/value lines: learning, usual hour and day, carrier, home
 * place, vouched addresses. */
int cmd_places_rows(const struct cmd_places *p, struct table *kv);
/* The familiar-networks table, after a blank line. */
int cmd_places_nets_table(const struct cmd_places *p);
/* "learning", "usual_hour", "usual_day", "usual_coarse", "home",
 * "networks", "vouched" of the JSON document. */
void cmd_places_json(const struct cmd_places *p, struct json *j);

#endif
