/*
 * metrics_sim - a local SIM abroad, alone, as a trip.
 *
 * unfamiliar-volume allows a trip (one place abroad of two networks or
 * more: a hotel's line and a local SIM, the family's line and a local
 * SIM; or one network abroad beside the owner's roaming phone,
 * metrics_roam.c) a usual day on top of its limit; one network abroad
 * alone is none, so a slow attacker from one foreign address is refused
 * past 8 a day. A person abroad whose day starts on the local SIM alone
 * (an international student landed at home, on the phone all morning
 * before the family's line) sent from that one network only, and was
 * refused past 8 (tests/sim: campus seed 3, uni6 seeds 1 and 2, wide
 * seed 1: "9 messages from 9 unfamiliar addresses in 1d").
 *
 * What such a day has that the simulator's attackers from abroad do not
 * is the carrier's pool: a mobile carrier's addresses are located only
 * to a hub or a country (coarse, policy.coarse_km), and a phone gets a
 * new address (IPv4 CGNAT) or a new /64 (IPv6) from it every connection
 * or so. An attacker on one foreign address or one /64 (spam run,
 * native-slow6, one-ip6) has one; a botnet's are in many countries; a
 * line or a hotel abroad is a fine place. So: the window's unfamiliar
 * addresses all of one network, in a country that is not one of the
 * login's usual ones, every one of them coarse, from
 * METRICS_SIM_UNITS subscriber units or more (an IPv4 address, an IPv6
 * /64) with no unit carrying more than one message in
 * METRICS_SIM_SHARE of the window's, at the owner's pace since the
 * first of them (metrics_at_owners_pace, as a roaming trip), and alone:
 * nothing since then from a familiar place in a usual country, nor from
 * the home place (metrics_home_since, as a stay abroad: a victim's own
 * phone or line at home says the owner did not leave). Off unless
 * policy.trip_roaming (one network abroad as a trip).
 *
 * On such a day, at any pace, unusual-volume judges the hour against
 * the usual day (metrics_sim_usual), as for a stay abroad
 * (metrics_settled.c): the first hours on the SIM are often a backlog.
 *
 * The cost: a stranger on a mobile carrier abroad that rotates its
 * addresses (a phone with a stolen password, mobile proxies of one
 * foreign carrier) at the owner's pace gets the trip's usual day on top
 * of 8 a day, as one with a hotel line and a SIM already did; at a
 * faster pace, 8 a day with no hour's block.
 */
#include <stdio.h>
#include <string.h>

#include "metrics.h"

#define METRICS_SIM_UNITS 3	/* a carrier's pool: this many units at least */
#define METRICS_SIM_SHARE 2	/* no unit more than 1 in this many messages */

/* sim_alone - is the window's unfamiliar mail a local SIM abroad alone:
 * one coarse network in a country not usual (metrics_roam.c
 * metrics_abroad: a carrier), from METRICS_SIM_UNITS units or more, none
 * with more than one message in METRICS_SIM_SHARE, nothing from home
 * since its first (s: its units)? */
static bool sim_alone(const struct metrics_ctx *c, uint32_t w,
		      struct metrics_abroad *s)
{
    if (!c->cfg->policy.trip_roaming || c->cfg->policy.coarse_km == 0
	|| c->user == NULL || !metrics_abroad(c, w, s) || !s->carrier
	|| s->n < METRICS_SIM_UNITS)
	return false;
    for (size_t j = 0; j < s->n; j++)
	if (s->per[j] * METRICS_SIM_SHARE > s->sent)
	    return false;	/* one unit carries the day */
    return !metrics_home_since(c, s->since, s->cc);	/* not at home */
}

/* metrics_sim_trip - is the window's unfamiliar mail a local SIM abroad
 * alone (sim_alone) at the owner's pace? */
bool metrics_sim_trip(const struct metrics_ctx *c, uint32_t w)
{
    struct metrics_abroad s;

    return sim_alone(c, w, &s)
	&& metrics_at_owners_pace(c, (s.sent + STORE_IP_PARTS / 2)
				  / STORE_IP_PARTS, s.since);
}

/* metrics_sim_usual - the usual hour messages_over_usual judges by:
 * usual, or the login's usual day (metrics_usual_day) when larger and
 * the rolling day's unfamiliar mail is a local SIM abroad alone
 * (sim_alone; at any pace: unfamiliar-volume still counts the day, and
 * allows the usual day on top of its 8 only at the owner's pace); then
 * ", a carrier abroad alone: usual day <= N" is appended to ev. A
 * student's first hours at home on the phone, a backlog of 4-6 in an
 * hour against a usual 2-4, were refused and the login blocked for the
 * day (tests/sim uni6 seeds 6, 102: 8 messages each). A stranger
 * rotating over a foreign carrier's addresses then gets unfamiliar-
 * volume's 8 a day, not the usual hour + 1 and a day's block. */
uint64_t metrics_sim_usual(const struct metrics_ctx *c, uint64_t usual,
			   char *ev, size_t evlen)
{
    struct metrics_abroad s;
    uint64_t day;
    size_t used;

    if ((day = metrics_usual_day(c)) <= usual
	|| !sim_alone(c, STORE_DAY_S, &s)
	|| metrics_home_during_trip(c, STORE_DAY_S))
	return usual;
    if (ev != NULL && evlen > 0 && (used = strlen(ev)) < evlen)
	snprintf(ev + used, evlen - used, ", a carrier abroad alone: "
		 "usual day <= %llu", (unsigned long long) day);
    return day;
}

/* metrics_sim_text - the allowance's evidence */
void metrics_sim_text(char *ev, size_t evlen, uint64_t usual)
{
    snprintf(ev, evlen, ", a carrier abroad alone, a new address a"
	     " connection: usual day <= %llu", (unsigned long long) usual);
}
