/*
 * store_view - the admin's reading of a login's spare state (format 8's
 * ext bytes): its known hubs (store_carrier.c), its usual recipients
 * hour as it stood before today (store_prior.c) and its webmail hour
 * (store_relay.c), for "relayguardctl show". The engine reads them
 * through those modules.
 */
#ifndef RG_STORE_VIEW_H
#define RG_STORE_VIEW_H

#include <stdint.h>

#include "store.h"

/* The login's known hubs, most recent first: up to max tags
 * (store_hub_tag; store_user_hub_known says whether each counts as
 * known now) into tags, the day number of the latest note (0: none)
 * into *day; how many. */
unsigned store_view_hubs(const struct store_user *u, uint16_t *tags, unsigned max,
			 uint16_t *day);
/* The usual recipients hour kept at a day's first raise, and the low
 * byte of that day's number (store_user_prior_rcpts reads it only on
 * that day). */
uint16_t store_view_prior(const struct store_user *u, uint8_t *day_lo);
/* The day number a day byte of the login's names (such as day_lo, or
 * its coarse_day): the latest day up to its last_seen with that low
 * byte (store_wrap.c). */
uint32_t store_view_day(const struct store_user *u, uint8_t lo);

/* The login's messages through a trusted relay (the site's webmail), as
 * the engine reads them at now. */
struct store_view_relay {
    uint32_t hour;		/* the last hour's (current and previous
				 * half hour), refused ones too */
    uint32_t usual;		/* busiest hour let through, days before */
    uint32_t today;		/* ... and today's so far */
};
void store_view_relay(const struct store_user *u, uint32_t now,
		      struct store_view_relay *out);

#endif
