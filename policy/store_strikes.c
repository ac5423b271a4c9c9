/*
 * store_strikes - the refusals a rule with block_after counts for a
 * login before its block (h-block's spare bytes of format 8,
 * ext[15..18], store_int.h).
 *
 * A rule's block (block_for) starts at the first message the rule
 * refuses unless the rule says block_after = N: then the login's first
 * N - 1 refusals by it within block_for block it for the rule's window
 * only, and the Nth for block_for (rules.c fire, escalate; an attempt
 * the window's block refuses is a refusal too). An attacker keeps trying
 * and reaches the Nth minutes later; an owner one message over the
 * usual hour who stops is let through when the window is over.
 *
 * One counter a login: the rule (the low byte of its cfg_rule_id), the
 * count, and the minute of the first refusal counted (now / 60, its low
 * 16 bits). It is current while the same rule counts within the span
 * the caller gives (window_s, to the minute) of that minute; a refusal
 * by another counting rule, or one after the span, starts it again at
 * 1, and reaching N clears it.
 * The minute wraps after 45.5 days (65536 minutes): a count left below
 * N by a rule and found again exactly a multiple of that later read as
 * current (the block came one refusal early). No count is current for
 * longer than STORE_STRIKE_SPAN_MAX (a rule's block_for is at most 30
 * days, cfg.c), so every observation of the login clears one older than
 * that (store_urec_strikes_roll, from store_wrap.c): its age then is its
 * age at the login's last observation, which no wrap has reached (the
 * count was younger than the span then, or counted since), plus the time
 * since. Judged by the gap alone, a login that went on mailing every few
 * weeks kept a count for ever and read it as current 65536 minutes on.
 * A login carried over from format 7 (zeros) has none.
 *
 * Contract: store_user_strike locks the login's stripe (concurrent
 * sessions of one login each get their own count); the reader works on
 * a copy.
 */
#include <string.h>

#include "store_int.h"

#define STRIKE_COUNT_MAX 255	/* one byte */

/* strike_current - the kept count, if it is rule_id's and within
 * window_s of its first refusal at now; else 0 */
static unsigned strike_current(const uint8_t *ext, uint32_t rule_id,
			       uint32_t window_s, uint32_t now)
{
    uint16_t first = store_le16(ext + STORE_EXT_STRIKE_MIN);
    uint16_t since = (uint16_t) ((now / STORE_STRIKE_MIN_S & 0xffff) - first);

    if (ext[STORE_EXT_STRIKE_COUNT] == 0
	|| ext[STORE_EXT_STRIKE_RULE] != (uint8_t) (rule_id & 0xff)
	|| (uint32_t) since >= window_s / STORE_STRIKE_MIN_S)
	return 0;
    return ext[STORE_EXT_STRIKE_COUNT];
}

/* store_user_strike - rule_id refused login at now: count it (see
 * above); the count, this refusal included, in *count, the start of
 * the first one's minute in *first */
int store_user_strike(STORE *st, const char *login, uint32_t rule_id,
		      uint32_t window_s, unsigned after, uint32_t now,
		      unsigned *count, uint32_t *first)
{
    uint16_t since;
    struct store_urec *u;
    unsigned n, s;
    int rc;

    if (count == NULL || first == NULL)
	return STORE_EARG;
    if ((rc = store_urec_lock(st, login, now, &u, &s)) != STORE_OK)
	return rc;
    n = strike_current(u->ext, rule_id, window_s, now);
    if (n == 0) {
	u->ext[STORE_EXT_STRIKE_RULE] = (uint8_t) (rule_id & 0xff);
	store_le16_put(u->ext + STORE_EXT_STRIKE_MIN,
		       (uint16_t) (now / STORE_STRIKE_MIN_S & 0xffff));
    }
    since = (uint16_t) ((now / STORE_STRIKE_MIN_S & 0xffff)
			- store_le16(u->ext + STORE_EXT_STRIKE_MIN));
    n += n < STRIKE_COUNT_MAX;
    u->ext[STORE_EXT_STRIKE_COUNT] = (uint8_t) n;
    if (n >= after)		/* the block is due: the next one counts anew */
	store_urec_strikes_clear(u);
    store_unlock(&st->users, s);
    *count = n;
    *first = (now / STORE_STRIKE_MIN_S - since) * STORE_STRIKE_MIN_S;
    return STORE_OK;
}

/* store_urec_strikes_clear - forget the count (the block it led to is
 * set, or an admin lifted the login's block: relayguardctl unblock
 * starts the owner afresh, not one refusal short of the day's block) */
void store_urec_strikes_clear(struct store_urec *u)
{
    memset(u->ext + STORE_EXT_STRIKE_RULE, 0,
	   STORE_EXT_STRIKE_MIN + 2 - STORE_EXT_STRIKE_RULE);
}

/* strikes_over - is the count in ext, of a login last seen at last, over
 * at now (older than STORE_STRIKE_SPAN_MAX)? Its age at last is read from
 * the minute's 16 bits (a count made up to a day after last, in the
 * session last observed, is of age 0 then), the time since added. */
static bool strikes_over(const uint8_t *ext, uint32_t last, uint32_t now)
{
    uint16_t first = store_le16(ext + STORE_EXT_STRIKE_MIN);
    uint32_t at_last = (uint16_t) ((last / STORE_STRIKE_MIN_S & 0xffff)
				   - first);

    if (now <= last)
	return false;
    if (at_last > 0xffffu - STORE_DAY_S / STORE_STRIKE_MIN_S)
	at_last = 0;		/* counted after last: a later minute */
    return (uint64_t) at_last * STORE_STRIKE_MIN_S + (now - last)
	> STORE_STRIKE_SPAN_MAX;
}

/* store_urec_strikes_roll - an observation at now of a login last seen
 * at last (or a snapshot's count put into an entry last seen at now):
 * a count that is over is cleared (see above) */
void store_urec_strikes_roll(struct store_urec *u, uint32_t last, uint32_t now)
{
    if (u->ext[STORE_EXT_STRIKE_COUNT] != 0
	&& strikes_over(u->ext, last, now))
	store_urec_strikes_clear(u);
}

/* store_user_strikes - rule_id's refusals of the login within window_s
 * at now, as counted so far (a copy; one that is over has none, though
 * its copy was taken before the roll) */
unsigned store_user_strikes(const struct store_user *u, uint32_t rule_id,
			    uint32_t window_s, uint32_t now)
{
    if (strikes_over(u->ext, u->last_seen, now))
	return 0;
    return strike_current(u->ext, rule_id, window_s, now);
}
