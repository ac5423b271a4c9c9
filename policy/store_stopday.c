/*
 * store_stopday - the latest day a login had mail stopped at a place
 * not its own (h-pause's spare bytes of format 8, session 20: the day's
 * number, now / STORE_DAY_S, 16 bits little endian, in ext[29..30], as
 * a network's last_day is kept; 0 is none).
 *
 * A network becomes the login's own once mail was let through from it
 * on policy.familiar_days days (metrics_net_own). A day counts from its
 * first message let through, so an attacker abroad that sends a little
 * more a day than unfamiliar-volume lets through (its first 8 let
 * through, the rest refused) had its network familiar on the second
 * day, and from then on nothing that requires an unfamiliar network
 * judged it (tests/sim/mix/probe-pause.mix creep: 36-58 of 60
 * delivered). So a day on which the login had a message refused or
 * held at a place that is not a known one (rules.c note_stop: not its
 * own learned network, pinned or the site's) on or after a network's
 * last counted day, the network not yet familiar, makes that day not
 * count: the network's next day's first message let through takes its
 * place instead of adding to it (store_user.c user_net,
 * store_urec_stop_replaces). One note a login, the latest day: an
 * attacker refused on its address's first day and on the next (the
 * rolling day still full) noted the second, and the first then counted
 * when a third day let it through again. The login's own networks are
 * untouched, and so is a network first used while the login learned (it
 * is its own by that).
 *
 * An owner refused at a hotel (a backlog on the first evening) has the
 * hotel familiar a day later than before, if the next day is clean.
 *
 * Contract: store_user_stopped locks the login's stripe;
 * store_urec_stop_replaces is called with it locked (store_user.c),
 * like the other urec helpers; the reader works on a copy.
 */
#include "store_int.h"

_Static_assert(STORE_EXT_STOP_DAY == 29,
	       "h-pause's stop day stays in ext[29..30]");

/* store_user_stopped - a message of the login was refused or held at
 * now at a place not its own: note the day */
int store_user_stopped(STORE *st, const char *login, uint32_t now)
{
    struct store_urec *u;
    unsigned s;
    int rc;

    if ((rc = store_urec_lock(st, login, now, &u, &s)) != STORE_OK)
	return rc;
    store_le16_put(u->ext + STORE_EXT_STOP_DAY,
		   (uint16_t) (now / STORE_DAY_S));
    store_unlock(&st->users, s);
    return STORE_OK;
}

/* store_urec_stop_replaces - a message let through from a network of
 * the login (days days so far, the last last_day) on a later day: does
 * this day take the last one's place instead of counting (the network
 * not yet familiar, familiar_days > 0, and a stop on its last day or
 * since)? */
bool store_urec_stop_replaces(const struct store_urec *u, uint16_t days,
			      uint16_t last_day, uint32_t familiar_days)
{
    uint16_t stop = store_le16(u->ext + STORE_EXT_STOP_DAY);

    return days < familiar_days && stop != 0 && stop >= last_day;
}

/* store_user_stop_day - the latest day noted (0: none) */
uint16_t store_user_stop_day(const struct store_user *u)
{
    return store_le16(u->ext + STORE_EXT_STOP_DAY);
}
