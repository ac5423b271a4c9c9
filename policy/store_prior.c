/*
 * store_prior - a login's usual recipients hour as it stood before
 * today (h-judge2's spare bytes of format 8: ext[19..20], the day's low
 * byte in ext[21]).
 *
 * The usual busiest hour rises at once with mail let through from a
 * familiar place, so a limit scaled by it would follow an attacker on the
 * owner's own network up. What the hour was at the start of the day does
 * not move today: recipients_over_prior_usual (metrics_prior.c) lets a
 * heavy sender's newsletter hour count as his own while an attacker
 * still meets the site-wide limit on top of the owner's usual. Saved at
 * the first raise of a day; a login whose bytes are not of today (a file
 * from before, no raise yet today) reads its current usual hour, which
 * then is still the day's first. The day is kept by its low byte, round
 * every 256 days: it names the latest such day up to the login's
 * last_seen, and every observation rolls it (store_wrap.c), so a login
 * back after exactly 256 days reads its usual hour as it stands, not
 * the one kept then (nor do the zeros of a new login or of one from a
 * file from before read as kept on a day ...00).
 */
#include "store_int.h"

_Static_assert(STORE_EXT_PRIOR_RCPTS >= STORE_EXT_JUDGE2
	       && STORE_EXT_PRIOR_DAY == STORE_EXT_PRIOR_RCPTS + 2
	       && STORE_EXT_PRIOR_DAY < STORE_EXT_JUDGE3,
	       "h-judge2's prior-usual bytes stay in ext[19..21]");

/* store_urec_prior_usual - before the usual hour may rise at now: keep
 * what it was when today's first raise comes */
void store_urec_prior_usual(struct store_urec *u, uint32_t now)
{
    store_le16_keep(u->ext + STORE_EXT_PRIOR_RCPTS, u->usual_rcpts,
		    u->l.last_seen, now);
}

/* store_user_prior_rcpts - the login's usual recipients hour as it stood
 * before today (see above) */
uint16_t store_user_prior_rcpts(const struct store_user *u, uint32_t now)
{
    return store_le16_kept(u->ext + STORE_EXT_PRIOR_RCPTS, u->usual_rcpts,
			   u->last_seen, now);
}
