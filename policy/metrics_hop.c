/*
 * metrics_hop - a learning login hopping between networks new today.
 *
 * While a login learns, every place it comes from is familiar (the
 * learning grace), so network-hopping, which counts unfamiliar places,
 * never fired for it. A login whose owner was away in the site's first
 * week, or joined late, is still learning days into the site's life, and
 * residential or mobile proxies in the owner's own country (a new
 * carrier's CGNAT address every few minutes) then went through whole
 * (tests/sim harsh seed 7: 100 of 100, wide seeds 2 and 7: 111 and 64,
 * probe F2, F16, F26): the learning stranger (metrics.c) needs a country
 * new today too, and the proxies are at home.
 *
 * So for a learning login past its first day of located mail (a webmail
 * message has no place; the first day's places are all new), once the
 * site is past its own first learning period, network-hopping counts
 * the networks of the window's coarse addresses (a carrier's CGNAT
 * pool, located to a hub city: radius of at least policy.coarse_km)
 * that are new today: not learned from mail let through on an earlier
 * day, not pinned, not the site's, not an address another login came
 * from within a day. Two such networks within the rule's hour are mobile
 * proxies; the owner has one carrier (one network whichever hub it is
 * at; a trip's local SIM abroad joins its hotel as one place,
 * metrics_trip.c). Fine places are left out: counting them held
 * learning owners on their second day at a new office and their phone
 * in one hour (tests/sim campus seeds 2 and 3, uni6 seed 1: 4 messages),
 * since the office NAT is the site's only when it is the client.
 *
 * Contract: pure functions of the context, like metrics.c.
 */
#include "metrics.h"


/* metrics_hop_on - is the login judged by its networks new today: still
 * learning, with mail from a located place on an earlier day (its first
 * day's places are all new; a webmail message has no place), on a site
 * past its first learning period (policy.learning_strangers)? */
bool metrics_hop_on(const struct metrics_ctx *c)
{
    return c->user != NULL && metrics_site_learned(c)
	&& c->now < metrics_learning_end(c->cfg, c->user)
	&& metrics_located_before_today(c);
}

/* metrics_hop_ip - the login's next address from *i on seen within w,
 * a coarse place on a network new today (see above); NULL when there is
 * none left. Start with *i = 0. */
const struct store_ip *metrics_hop_ip(const struct metrics_ctx *c, uint32_t w,
				      size_t *i)
{
    uint32_t today = c->now / STORE_DAY_S;

    while (c->user != NULL && *i < c->user->nips && *i < STORE_IPS_MAX) {
	const struct store_ip *ip = &c->user->ips[(*i)++];
	const struct store_net *n;

	if (!metrics_in_window(ip->last_seen, c->now, w)
	    || store_ip_radius(ip) < c->cfg->policy.coarse_km
	    || metrics_site_known(c, &ip->ip)
	    || metrics_shared_client(c, &ip->ip))
	    continue;
	n = metrics_learned_net(c, &ip->ip, ip->asn);
	if (n == NULL || n->first_day >= today)
	    return ip;
    }
    return NULL;
}

