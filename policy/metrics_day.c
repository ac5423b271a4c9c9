/*
 * metrics_day - the login's usual day, and an honest trip's new day.
 *
 * The usual day is the busiest rolling day of messages the login sent
 * while on familiar places (store_user.usual_day, learned like the
 * usual hour); a login whose state predates it has 0 there, and then
 * METRICS_TRIP_DAY_HOURS times its busiest usual hour stands in. The
 * trip allowance takes the smaller of the two (metrics_usual_day).
 *
 * A new day at a trip's place: unfamiliar_messages sums each unfamiliar
 * address's messages over a rolling day, the refused ones too (an
 * attacker's retries must keep counting). A traveller whose first day
 * at a hotel was busier than the day's limit was then refused on every
 * later day of the trip: its own refused mail kept the rolling day above
 * the limit, and a network only becomes familiar by mail let through on
 * familiar_days days, which then never came (tests/sim, probe F12). So
 * when the login's unfamiliar addresses are all one place abroad (one
 * network, or a trip of networks, in a country that is not one of its
 * usual ones), an address of a
 * network that had mail let through on an earlier day, itself first
 * seen METRICS_NEW_DAY_AFTER_S ago or more, counts only today's
 * messages (UTC), provided the unfamiliar messages of the day before
 * were no more than the login's busiest day. An attacker in the
 * owner's own country sending at the owner's pace for days gets no new
 * day (tests/sim stealth.mix mimic: 8 -> 33 of 36 when it did). A
 * retrying or busy
 * attacker sends far more than its victim's usual day, and a botnet is
 * many places; both keep the rolling count. An attacker sending across
 * midnight is not given a new day at midnight: its address is younger
 * than METRICS_NEW_DAY_AFTER_S then, and once it is older, today's own
 * refused messages count (tests/sim shuffle seed 7: 8 let through at
 * 23:00, 8 more after midnight, then the network was familiar).
 */
#include <string.h>

#include "metrics.h"

#define METRICS_NEW_DAY_AFTER_S (12 * 3600u)	/* a night between two days */

/* metrics_login_day - the login's busiest day as learned, else
 * METRICS_TRIP_DAY_HOURS busiest usual hours */
uint64_t metrics_login_day(const struct metrics_ctx *c)
{
    uint64_t day = c->user != NULL ? c->user->usual_day : 0;

    return day != 0 ? day
	: METRICS_TRIP_DAY_HOURS * (uint64_t) c->usual_msgs;
}

/* metrics_usual_day - a usual day for the trip allowance: the login's
 * busiest day as learned, but never more than METRICS_TRIP_DAY_HOURS
 * busiest usual hours (what it was before the day was kept: a steady
 * heavy sender's day is long, and an attacker rotating over a foreign
 * country's networks got all of it, tests/sim stealth.mix trip-slow);
 * a learning login's floor (usual_floor) gives the hours' */
uint64_t metrics_usual_day(const struct metrics_ctx *c)
{
    uint64_t est = METRICS_TRIP_DAY_HOURS * (uint64_t) c->usual_msgs;
    uint64_t day = metrics_login_day(c);

    return c->usual_floor || day > est ? est : day;
}

/* metrics_ip_day_count - an address's observations on day d
 * (now / STORE_DAY_S) */
uint64_t metrics_ip_day_count(const struct store_ip *ip, uint32_t d)
{
    uint32_t last = ip->last_seen / STORE_DAY_S;

    if (last == d)
	return ip->day_msgs[0];
    if (last == d + 1)
	return ip->day_msgs[1];
    return 0;
}

/* net_let_through_before - did the login have mail let through from
 * the address's network on a day before today? */
static bool net_let_through_before(const struct metrics_ctx *c,
				   const struct store_ip *ip)
{
    const struct store_net *n = metrics_learned_net(c, &ip->ip, ip->asn);

    return n != NULL && n->first_day < c->now / STORE_DAY_S;
}

/* metrics_trip_new_day - may the window's unfamiliar addresses in a
 * network known since an earlier day count today's messages only? One
 * place, and yesterday's unfamiliar messages within a usual day */
bool metrics_trip_new_day(const struct metrics_ctx *c, uint32_t w)
{
    uint32_t today = c->now / STORE_DAY_S;
    uint64_t before = 0;

    if (!c->cfg->policy.trip_new_day || c->user == NULL || today == 0
	|| w > STORE_DAY_S
	|| metrics_unfamiliar_places(c, w, NULL, 0) != 1
	|| metrics_home_during_trip(c, w))
	return false;
    size_t i = 0;
    const struct store_ip *ip;

    while ((ip = metrics_unfamiliar_ip(c, 2 * STORE_DAY_S, &i)) != NULL) {
	char cc[3];

	store_ip_cc(ip, cc);
	if (cc[0] == 0 || metrics_usual_country(c, cc))
	    return false;	/* at home: no trip (an attacker on a line there) */
	before += metrics_ip_day_count(ip, today - 1);
    }
    return before <= metrics_login_day(c);
}

/* metrics_address_recent - an unfamiliar address's messages within w,
 * in STORE_IP_PARTS (store_ip_recent), today's only when new_day, the
 * address was first seen METRICS_NEW_DAY_AFTER_S ago or more and its
 * network had mail let through on an earlier day (then *today true) */
uint64_t metrics_address_recent(const struct metrics_ctx *c,
				const struct store_ip *ip, uint32_t w,
				bool new_day, bool *today)
{
    if (metrics_second_home(c, ip))	/* every one since it was first seen */
	return (uint64_t) ip->count * STORE_IP_PARTS;
    if (!new_day || ip->first_seen > c->now
	|| c->now - ip->first_seen < METRICS_NEW_DAY_AFTER_S
	|| !net_let_through_before(c, ip))
	return store_ip_recent(ip, c->now, w);
    *today = true;
    return metrics_ip_day_count(ip, c->now / STORE_DAY_S) * STORE_IP_PARTS;
}
