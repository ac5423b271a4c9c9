/*
 * metrics_roamshare - a roaming traveller's phone carries a share of the
 * trip's mail.
 *
 * policy.trip_roaming takes one network abroad (a hotel line) with the
 * owner's phone roaming home-routed (a familiar coarse place: its own
 * carrier's CGNAT pool) for a trip, and allows it a usual day
 * (metrics_roam.c). A traveller's sessions alternate between the hotel
 * and the phone within minutes: in tests/sim 20-70 % of a trip day's
 * messages are the phone's. An owner at home who sends one message from
 * the phone while an attacker abroad sends all day looked the same to
 * the trip test (tests/sim holdout.mix seed 4: a low-and-slow from a
 * bordering country, one address, a message every 7 minutes, 58 of 200
 * through instead of 8). So the phone must carry at least one message
 * in METRICS_ROAM_SHARE of those from the unfamiliar addresses since
 * the trip's first one: the attacker's pace is its own, the victim's
 * phone keeps the victim's.
 */
#include "metrics.h"

#define METRICS_ROAM_SHARE 4	/* a phone message in this many abroad */

/* metrics_roaming_share - since since (the first sighting of the
 * window's unfamiliar addresses), has the login sent from familiar coarse
 * places (radius coarse_km or more) at least one message for every
 * METRICS_ROAM_SHARE from the window's unfamiliar addresses? An address
 * first seen before since counts one (it was seen since); one first seen
 * after, every observation. */
bool metrics_roaming_share(const struct metrics_ctx *c, uint32_t w,
			   uint32_t since)
{
    uint64_t phone = 0, away = 0;
    uint32_t k = c->cfg->policy.coarse_km;
    size_t i = 0;
    const struct store_ip *ip;

    for (uint32_t j = 0; j < c->user->nips && j < STORE_IPS_MAX; j++) {
	ip = &c->user->ips[j];
	if (ip->last_seen < since || !metrics_in_window(ip->last_seen, c->now, w)
	    || store_ip_radius(ip) < k || store_ip_radius(ip) == 0
	    || !metrics_familiar(c, &ip->ip, ip->asn))
	    continue;
	phone += ip->first_seen >= since ? ip->count : 1;
    }
    while ((ip = metrics_unfamiliar_ip(c, w, &i)) != NULL)
	away += store_ip_recent(ip, c->now, w);
    away = (away + STORE_IP_PARTS / 2) / STORE_IP_PARTS;
    return phone * METRICS_ROAM_SHARE >= away;
}
