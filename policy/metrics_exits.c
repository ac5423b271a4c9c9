/*
 * metrics_exits - a network of exits in several countries (a privacy
 * VPN's, a hosting provider's) is no one's home.
 *
 * A privacy VPN gives its customers exits of one AS number in several
 * countries, each exit a /24 located finely to its city. A login whose
 * learning week went through such exits (tests/sim privacy users: an
 * exit country per session) had them for anchors on a network it
 * learned while learning: every exit country was a "home country"
 * (metrics_home_country), every exit a "home place" (metrics_home_place).
 * The owner's hotel in one of those countries on a trip was then a
 * "second home" (second_home: never made familiar, counted since first
 * seen) and was refused past unfamiliar-volume's 8 while its local SIM
 * beside it made the trip (tests/sim wide seed 8 of the set X, u002: 13
 * messages at a London hotel, the exits in GB and CH). metrics_place.c
 * already holds that such a network is no one's home for the far-place
 * test (anchor_km); the home place and the home country now say so too.
 *
 * Contract: pure functions of the context, like metrics.c.
 */
#include <string.h>

#include "metrics.h"

/* metrics_exit_network - does the login have an anchor (store_ip_anchor)
 * on the network of ip (store_net_key of ip and asn) in another country
 * than cc ("": never)? */
bool metrics_exit_network(const struct metrics_ctx *c, const struct addr *ip,
			  uint32_t asn, const char *cc)
{
    uint64_t key = store_net_key(ip, asn);

    if (c->user == NULL || cc[0] == 0)
	return false;
    for (uint32_t i = 0; i < c->user->nips && i < STORE_IPS_MAX; i++) {
	const struct store_ip *a = &c->user->ips[i];
	char acc[3];

	if (!store_ip_anchor(a) || store_net_key(&a->ip, a->asn) != key)
	    continue;
	store_ip_cc(a, acc);
	if (acc[0] != 0 && memcmp(acc, cc, 2) != 0)
	    return true;
    }
    return false;
}
