/*
 * metrics_away - a trip whose first network became familiar is still a
 * trip.
 *
 * unfamiliar-volume allows a trip (one place, in a country that is not
 * one of the login's usual ones, of two networks or more: the family's
 * line and a local SIM, a hotel and a travel eSIM) a usual day on top of
 * its limit. A network becomes familiar by mail let through on
 * familiar_days days, so on the trip's second or third day the line
 * that was let through under the allowance is familiar, and the local
 * SIM (a new address each connection) is the only unfamiliar network
 * left: one network abroad, no trip, and the SIM's ordinary day was
 * refused past 8 messages (tests/sim uni6 seed 6: a heavy sender at the
 * family's home in Nigeria, 43 messages let through on the first day,
 * 37 refused on the second; wide seed 1, uni6 seeds 1-5: 2-15 a day of
 * international students on their family's line and a local SIM). The
 * login's own networks in the trip's country, with an address seen in
 * the window, now count as networks of the trip. One foreign address of
 * an attacker still has no network of the login beside it there.
 */
#include <string.h>

#include "metrics.h"

/* metrics_own_nets_in - the login's own networks (metrics_own_network)
 * with an address seen within w in the country cc, each added to the set
 * of n network keys unless in it; the set's size then */
size_t metrics_own_nets_in(const struct metrics_ctx *c, uint32_t w,
			   const char cc[3], uint64_t *set, size_t n)
{
    for (uint32_t i = 0; i < c->user->nips && i < STORE_IPS_MAX; i++) {
	const struct store_ip *ip = &c->user->ips[i];
	uint64_t key = store_net_key(&ip->ip, ip->asn);
	char k[3];
	size_t j;

	store_ip_cc(ip, k);
	if (memcmp(k, cc, 2) != 0
	    || !metrics_in_window(ip->last_seen, c->now, w))
	    continue;
	for (j = 0; j < n && set[j] != key; j++)
	    ;
	if (j == n && metrics_own_network(c, &ip->ip, ip->asn))
	    set[n++] = key;
    }
    return n;
}

/* metrics_trip_known_nets - the login's own networks other than at's,
 * with an address seen within w in at's country when that is not one of
 * its usual countries: 0 or more (distinct networks) */
size_t metrics_trip_known_nets(const struct metrics_ctx *c, uint32_t w,
			       const struct store_ip *at)
{
    uint64_t set[STORE_IPS_MAX + 1];
    char cc[3];

    store_ip_cc(at, cc);
    if (c->user == NULL || cc[0] == 0 || metrics_usual_country(c, cc))
	return 0;
    set[0] = store_net_key(&at->ip, at->asn);
    return metrics_own_nets_in(c, w, cc, set, 1) - 1;
}
