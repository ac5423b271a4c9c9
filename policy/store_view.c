/*
 * store_view - a login's spare state read for the admin (see
 * store_view.h): the bytes as store_carrier.c, store_prior.c and
 * store_relay.c keep them, decoded without judging.
 *
 * Contract: pure functions of a user copy; thread-safe.
 */
#include "store_int.h"
#include "store_view.h"

#define HUB_TAG_BITS 0x7fffu	/* store_hub_tag's bits of an entry; the top
				 * one marks a note of an earlier day */

/* store_view_hubs - the known hubs and the day of the latest note */
unsigned store_view_hubs(const struct store_user *u, uint16_t *tags, unsigned max,
			 uint16_t *day)
{
    unsigned n = 0;

    for (unsigned i = 0; i < STORE_HUBS && n < max; i++) {
	uint16_t e = store_le16(u->ext + STORE_HUBS_AT + 2 * i);

	if (e != 0)
	    tags[n++] = (uint16_t) (e & HUB_TAG_BITS);
    }
    *day = store_le16(u->ext + STORE_HUBS_DAY);
    return n;
}

/* store_view_prior - the kept usual recipients hour and its day's byte */
uint16_t store_view_prior(const struct store_user *u, uint8_t *day_lo)
{
    *day_lo = u->ext[STORE_EXT_PRIOR_DAY];
    return store_le16(u->ext + STORE_EXT_PRIOR_RCPTS);
}

/* store_view_day - the day a day byte of the login's names */
uint32_t store_view_day(const struct store_user *u, uint8_t lo)
{
    return store_day_of_byte(lo, u->last_seen);
}

/* store_view_relay - the webmail hour's counts at now */
void store_view_relay(const struct store_user *u, uint32_t now,
		      struct store_view_relay *out)
{
    out->hour = store_user_relayed_hour(u, now);
    out->usual = store_user_relayed_usual(u, now);
    out->today = store_user_relayed_today(u, now);
}
