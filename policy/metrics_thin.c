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
 * stands past the learning period as in it. Only the hour's measure
 * moves: unfamiliar-volume still refuses past 8 a day from unfamiliar
 * places, network-hopping and the travel rules judge the places, and
 * unusual-recipients keeps the learned recipients hour.
 *
 * The cost: against such a login (mail on one or two days in all), an
 * attacker from one unfamiliar place is refused past the floor + 1 in
 * an hour instead of its usual + 1, and by unfamiliar-volume's 8 a day
 * in any case.
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

/* metrics_thin_usual - the usual hour messages_over_usual judges by:
 * usual, or the learning floor when larger and the login, past its
 * learning period, had mail let through on fewer than
 * METRICS_USUAL_MIN_DAYS days in each of its countries; then ", a usual
 * hour of N days: the learning floor M" is appended to ev */
uint64_t metrics_thin_usual(const struct metrics_ctx *c, uint64_t usual,
			    char *ev, size_t evlen)
{
    uint64_t floor = c->cfg->policy.learning_msgs;
    unsigned days;
    size_t used;

    if (c->user == NULL || usual >= floor
	|| metrics_learning_end(c->cfg, c->user) > c->now
	|| (days = mail_days(c->user)) >= METRICS_USUAL_MIN_DAYS)
	return usual;
    if (ev != NULL && evlen > 0 && (used = strlen(ev)) < evlen)
	snprintf(ev + used, evlen - used, ", a usual hour of %u day%s: "
		 "the learning floor %llu", days, days == 1 ? "" : "s",
		 (unsigned long long) floor);
    return floor;
}
