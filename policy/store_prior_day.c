/*
 * store_prior_day - a login's usual busiest day as it stood before today
 * (h-vpn's spare bytes of format 8: ext[10..11], the day's low byte in
 * ext[12]).
 *
 * The usual day (store_user.usual_day) rises at once with mail let
 * through from a familiar place, and the site's shared exits (a VPN, an
 * office NAT) are familiar to every login: a limit scaled by it would
 * follow an attacker on the VPN up (tests/sim nearby.mix vpn-slow: the
 * day rose with each of its 160 messages). What the day was at the start
 * of today does not move today (shared_messages_over_usual,
 * metrics_shared.c). Saved at the first raise of a day, as
 * store_prior.c saves the recipients hour; a login whose bytes are not of
 * today reads its current usual day, which then is still the day's
 * first. The day's low byte names the latest such day up to the login's
 * last_seen, and every observation rolls it (store_wrap.c): a login back
 * after exactly 256 days (or a multiple) reads its day as it stands. A
 * saved 0 (nothing learned before today) reads as "not kept": the
 * caller falls back to the current day, the lenient side.
 */
#include "store_int.h"

_Static_assert(STORE_EXT_PRIOR_DAY_MSGS >= STORE_EXT_JUDGE + 10
	       && STORE_EXT_PRIOR_DAY_NO == STORE_EXT_PRIOR_DAY_MSGS + 2
	       && STORE_EXT_PRIOR_DAY_NO <= STORE_EXT_JUDGE + 12,
	       "h-vpn's prior-day bytes stay in ext[10..12]");

/* store_urec_prior_day - before the usual day may rise at now from day
 * (its value now): keep it when today's first raise comes */
void store_urec_prior_day(struct store_urec *u, uint16_t day, uint32_t now)
{
    store_le16_keep(u->ext + STORE_EXT_PRIOR_DAY_MSGS, day, u->l.last_seen,
		    now);
}

/* store_user_prior_day - the login's usual day as it stood before today
 * (see above); 0: not kept */
uint16_t store_user_prior_day(const struct store_user *u, uint32_t now)
{
    return store_le16_kept(u->ext + STORE_EXT_PRIOR_DAY_MSGS, u->usual_day,
			   u->last_seen, now);
}
