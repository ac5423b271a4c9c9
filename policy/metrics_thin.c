/*
 * metrics_thin - a usual hour learned on too few days is no usual hour.
 *
 * messages_over_usual judges an hour from an unfamiliar network against
 * the login's busiest hour from a familiar place; while the login
 * learns, against at least policy.learning_usual_messages (the learning
 * floor), since a week's first hours say little about its busy ones. A
 * login whose owner went away for its learning week (a vacation begun
 * the day after the first message, tests/sim default, harsh and retry
 * seed 5 u106: mail on day 0 only, back on day 8) leaves it with the
 * busiest hour of one day (3): the first busy hour on the phone back
 * home (5 in 20 minutes, the carrier new to the login) was refused, the
 * login blocked for the day, and the next morning's home line (a new
 * /24 of its ISP) refused by the block: 13 messages in each of the
 * three runs.
 *
 * A country becomes usual on METRICS_USUAL_MIN_DAYS days; so does the
 * usual hour here: until the login had mail let through on that many
 * days in some country (store_country days, counted from mail let
 * through, so an attacker's refused mail adds none), the learning floor
 * stands past the learning period as in it, for the owner's phone at
 * home: mail was let through from the login's home place (metrics_home.c,
 * store_user.home_seen) within the day, and the client is a coarse place
 * (a carrier's CGNAT pool, located to policy.coarse_km or worse) in one
 * of the login's usual countries. A fine place (a line: the thief on a
 * German line) and a place abroad (the owner is at home) keep the hour
 * the login has, as does a login whose owner has not mailed from home
 * within the day (tests/sim/mix/probe-thin.mix: with the floor for every
 * place, thieves on one foreign address or a German line got 2-5 more
 * of their messages through in 7 of 54 attacks). Only the hour's
 * measure moves: unfamiliar-volume still refuses past 8 a day from
 * unfamiliar places, network-hopping, carrier-hopping and carrier-volume
 * judge the phone's places and pools, and unusual-recipients keeps the
 * learned recipients hour.
 *
 * The cost: mobile proxies on a carrier of the login's country that the
 * login never used (its learning day had no phone), while the owner is
 * back home, are refused past the floor + 1 in an hour instead of the
 * usual + 1 and so escape that rule's day block: probe-thin carrier-own
 * 4 -> 34 and 6 -> 21 of 100 in 2 of 6 seeds. The owner's phone back
 * home is the same shape; nothing in one day of mail tells them apart.
 *
 * Contract: pure, like metrics.c.
 */
#include <stdio.h>
#include <string.h>

#include "metrics.h"

/* mail_days - the most days with mail let through in one country of
 * the login (a lower bound of its days with mail) */
static unsigned mail_days(const struct store_user *u)
{
    unsigned most = 0;

    for (size_t i = 0; i < STORE_COUNTRIES; i++)
	if (u->countries[i].cc[0] != 0 && u->countries[i].days > most)
	    most = u->countries[i].days;
    return most;
}

/* home_today - was mail let through from the login's home place within
 * the day (the owner is back)? */
static bool home_today(const struct metrics_ctx *c)
{
    uint32_t seen = c->user->home_seen;

    return seen != 0 && seen <= c->now && c->now - seen < STORE_DAY_S;
}

/* home_phone - is the client a coarse place (a carrier's pool) in one of
 * the login's usual countries? */
static bool home_phone(const struct metrics_ctx *c)
{
    const struct rules_facts *f = c->f;
    uint32_t k = c->cfg->policy.coarse_km;

    return k != 0 && !c->relayed && f->geo.has_loc && f->geo.acc_km >= k
	&& f->geo.cc[0] != 0 && metrics_usual_country(c, f->geo.cc);
}

/* metrics_thin_usual - the usual hour messages_over_usual judges by:
 * usual, or the learning floor when larger and the login, past its
 * learning period, had mail let through on fewer than
 * METRICS_USUAL_MIN_DAYS days in each of its countries, from its home
 * place within the day, and the client is a carrier's pool of a usual
 * country (home_phone); then ", a usual hour of N days: the learning
 * floor M" is appended to ev */
uint64_t metrics_thin_usual(const struct metrics_ctx *c, uint64_t usual,
			    char *ev, size_t evlen)
{
    uint64_t floor = c->cfg->policy.learning_msgs;
    unsigned days;
    size_t used;

    if (c->user == NULL || usual >= floor
	|| metrics_learning_end(c->cfg, c->user) > c->now
	|| (days = mail_days(c->user)) >= METRICS_USUAL_MIN_DAYS
	|| !home_today(c) || !home_phone(c))
	return usual;
    if (ev != NULL && evlen > 0 && (used = strlen(ev)) < evlen)
	snprintf(ev + used, evlen - used, ", a usual hour of %u day%s: "
		 "the learning floor %llu", days, days == 1 ? "" : "s",
		 (unsigned long long) floor);
    return floor;
}
