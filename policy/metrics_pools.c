/*
 * metrics_pools - carrier_networks: the carriers' pools a login came
 * from within the window, in its own country.
 *
 * A phone is on one carrier: behind its CGNAT a new address each
 * connection, located to one of the carrier's hub cities (now and then
 * another hub of the same carrier). Mobile proxies sold in the owner's
 * own country rotate over every carrier's pools: a new address every few
 * minutes, at another hub, on another carrier. network-hopping counts
 * only places unfamiliar to the login, and a carrier's /24 that the
 * site's own phones came from is the site's, familiar to every login
 * (metrics_site_known); the victim's own carrier is its own. So proxies
 * on the carriers the site's logins use got through until the victim's
 * usual hour was passed (tests/sim shuffle and stealth seed 7: 7 of 64,
 * harsh seed 5: 9 of 100, probe F28), and a victim's first unfamiliar
 * pool alone was one place.
 *
 * carrier_networks counts the networks (AS numbers) of the login's
 * coarse addresses seen in the window (located no finer than
 * policy.coarse_km: a carrier's pool) in the client's country, when that
 * is one of the login's usual countries (a trip's local SIM abroad is
 * new_countries' and unfamiliar_places' business), and is 0 unless
 * - those addresses are at METRICS_POOL_HUBS hubs or more (a network and
 *   a located place), or at two when their messages pass the login's
 *   usual pool hour (busy_pools), and
 * - one of the networks is not the login's own from an earlier day
 *   (metrics_net_own, learned from mail let through before today, not
 *   held at by this rule since: metrics_pool_own), the site's /24s
 *   notwithstanding.
 * One pool alone counts as two when it is new to a login past learning,
 * and its hour is past the login's usual pool hour and spread over its
 * hubs as carrier-volume judges the login's own (lone_spread): rotating
 * proxies that keep to one carrier the victim never used.
 * The client must itself be such an address. In the 120 kept sites of
 * tests/sim (sweep-m16) no honest login came from two carriers' pools
 * of its country within an hour, while every proxies attack on the
 * pools did from its 2nd-4th message on and then in almost every hour
 * of the attack: held from the 3rd-5th, the proxies deliver 1-3 where
 * they delivered up to 9 and 45 (harsh seed 5, wide seed 2). A person
 * with two phones on two carriers has both as its own networks; the
 * hubs keep the owner's phone beside one new coarse network (a friend's
 * line located to a region only) out.
 * Pinned networks, and a client address another login came from within
 * a day (a VPN exit, a NAT), are left out.
 *
 * Contract: a pure function of the context, like metrics.c.
 */
#include <stdio.h>
#include <string.h>

#include "metrics.h"

struct pool {
    const struct store_ip *ip;	/* the first address seen of it */
    uint64_t key;		/* store_net_key */
    bool own;			/* the login's own since an earlier day */
    uint64_t parts;		/* its messages in the window, and those of */
    uint64_t top;		/* its busiest hub (STORE_IP_PARTS each) */
    uint32_t surely;		/* its messages surely in the window: every
				 * one of an address first seen in it, one
				 * of an older one (busy_pools) */
};

/* pool_ip - an address of the window that counts: coarse, located, in
 * the client's country, not pinned, not a shared client */
static bool pool_ip(const struct metrics_ctx *c, const struct store_ip *ip,
		    uint32_t w)
{
    char cc[3];

    if (!metrics_in_window(ip->last_seen, c->now, w)
	|| ip->lat_c == STORE_NO_LOC
	|| store_ip_radius(ip) < c->cfg->policy.coarse_km)
	return false;
    store_ip_cc(ip, cc);
    if (cc[0] == 0 || memcmp(cc, c->f->geo.cc, 2) != 0
	|| addr_cidr_list_match(&c->cfg->policy.familiar_networks, &ip->ip))
	return false;
    return !metrics_shared_client(c, &ip->ip);
}

/* metrics_pool_own - a network (its country cc) the login learned as
 * its own on a day before today (a learning login's network of today is
 * its own already), and not one its learning grace alone makes its own
 * (fewer than familiar_days days) that carrier-hopping held the login
 * at on its last day let through or since (rules_hop.c): mobile proxies
 * on two carriers' pools, one the victim's, let through on a learning
 * login twice before the rule held them had the other carrier its own
 * after midnight, and nothing held the rest of the night (tests/sim
 * probe-hop hop-late) */
bool metrics_pool_own(const struct metrics_ctx *c, const struct addr *ip,
		      uint32_t asn, const char *cc)
{
    const struct store_net *n = metrics_learned_net(c, ip, asn);

    if (n == NULL || n->first_day >= c->now / STORE_DAY_S
	|| !metrics_net_own(c, n, cc))
	return false;
    return n->days >= c->cfg->policy.familiar_days
	|| !store_user_stopped_since(c->user, store_net_key(ip, asn),
				     n->last_day);
}

/* own_pool - metrics_pool_own of an address of the window */
static bool own_pool(const struct metrics_ctx *c, const struct store_ip *ip)
{
    char cc[3];

    store_ip_cc(ip, cc);
    return metrics_pool_own(c, &ip->ip, ip->asn, cc);
}

/* client_pool - is the client a coarse, located address of a country
 * usual to the login, or in one of the site's networks (a pool of the
 * carriers the site's phones use: mobile proxies sold in the site's
 * country against a login whose usual country is another, an
 * international user's or one whose only mail before was a trip;
 * tests/sim probe-hop hop 204, hop-late 200)? */
static bool client_pool(const struct metrics_ctx *c)
{
    const struct rules_facts *f = c->f;
    uint32_t k = c->cfg->policy.coarse_km;

    return k != 0 && f->geo.has_loc && f->geo.acc_km >= k
	&& f->geo.cc[0] != 0
	&& (metrics_usual_country(c, f->geo.cc)
	    || metrics_site_known(c, &f->client));
}

/* pools - the window's pools into p (at most STORE_IPS_MAX), their
 * number; in *hubs the distinct hubs. Each pool's messages in the
 * window, and its busiest hub's, are summed on the way (lone_spread). */
static size_t pools(const struct metrics_ctx *c, uint32_t w, struct pool *p,
		    size_t *hubs)
{
    const struct store_ip *hub[STORE_IPS_MAX];
    uint64_t hub_key[STORE_IPS_MAX], at[STORE_IPS_MAX];
    size_t n = 0, h = 0, j, k;

    for (uint32_t i = 0; i < c->user->nips && i < STORE_IPS_MAX; i++) {
	const struct store_ip *ip = &c->user->ips[i];
	uint64_t key, r;

	if (!pool_ip(c, ip, w))
	    continue;
	key = store_net_key(&ip->ip, ip->asn);
	for (k = 0; k < n && p[k].key != key; k++)
	    continue;
	if (k == n) {
	    p[n].ip = ip, p[n].key = key, p[n].own = own_pool(c, ip);
	    p[n].parts = p[n].top = 0, p[n].surely = 0;
	    n++;
	}
	for (j = 0; j < h && (hub_key[j] != key
			      || !metrics_same_hub(hub[j], ip)); j++)
	    ;
	if (j == h)
	    hub[h] = ip, hub_key[h] = key, at[h++] = 0;
	r = store_ip_recent(ip, c->now, w);
	p[k].parts += r;
	p[k].surely += metrics_ip_surely(ip, c->now, w);
	if ((at[j] += r) > p[k].top)
	    p[k].top = at[j];
    }
    *hubs = h;
    return n;
}

/* judged - is the login's hour on the pools judged by its usual pool
 * hour: past learning, and not within a day of an address abroad
 * (metrics_coarse_on_trip; lone_spread, busy_pools) */
static bool judged(const struct metrics_ctx *c)
{
    return c->now >= metrics_learning_end(c->cfg, c->user)
	&& !metrics_coarse_on_trip(c);
}

/* lone_spread - the window's one pool p, new to a login past learning:
 * its messages (pools() summed them, in *n) past the login's usual pool
 * hour (at least METRICS_COARSE_FLOOR), and spread over the pool's hubs
 * as carrier-volume judges its own pool's (METRICS_COARSE_ELSEWHERE away from the busiest
 * hub, one in METRICS_COARSE_SHARE; in *away)? Rotating proxies on one
 * carrier the login never used are one pool, so no second carrier ever
 * counted, and carrier-volume judges only the login's own (tests/sim T
 * harsh 109: six T-Mobile messages in 15 minutes at Frankfurt and
 * Nürnberg, half away, against a Vodafone phone; held at the 7th by
 * unusual-volume). A phone keeps to its hub (one connection in ten
 * elsewhere), a second phone or SIM new to the login as well. Not
 * within a day of an address abroad (metrics_coarse_on_trip): a
 * traveller whose learning week was abroad, back home on a phone the
 * login never used, sent 5 in 10 minutes at three hubs (T wide 101
 * u229). */
static bool lone_spread(const struct metrics_ctx *c, const struct pool *p,
			uint32_t *n, uint32_t *away)
{
    if (!judged(c))
	return false;
    *n = (uint32_t) ((p->parts + STORE_IP_PARTS / 2) / STORE_IP_PARTS);
    *away = (uint32_t) ((p->parts - p->top + STORE_IP_PARTS / 2)
			/ STORE_IP_PARTS);
    return *n > metrics_coarse_usual(c) && *away >= METRICS_COARSE_ELSEWHERE
	&& *away * METRICS_COARSE_SHARE >= *n;
}

/* busy_pools - the window's n pools at two hubs (fewer than
 * METRICS_POOL_HUBS), judged all the same when the login is past
 * learning, not within a day of an address abroad, and their messages
 * together (in *msgs) pass its usual pool hour (at least
 * METRICS_COARSE_FLOOR), as lone_spread's one pool must. Residential
 * proxies that draw the owner's own carrier for most of their addresses
 * and another carrier once (tests/sim F holdout 117: T-Mobile Stuttgart
 * five times, Congstar Karlsruhe once, six in 18 minutes against a
 * phone's usual 3) stay at two hubs until the 7th. A person's second
 * phone on another carrier is two hubs as well (its carrier's hub for
 * the same town is another city), at the pace of one person: the hour
 * it first turns up in (golden carrier_hopping.case joe, two messages)
 * is not judged; three hubs still are, whatever the pace. The
 * messages are those surely in the window (struct pool's surely), not
 * pools()' estimate: an address first seen before it has only its day's
 * count, and a phone that held one address all morning (a CGNAT
 * session, an IPv6 /64) lent the hour its morning, so that a second
 * phone's first message held the owner (golden
 * carrier_hop_sticky.case; EFFICACY.md round 24 - review7). */
static bool busy_pools(const struct metrics_ctx *c, const struct pool *p,
		       size_t n, uint32_t *msgs)
{
    if (!judged(c))
	return false;
    *msgs = 0;
    for (size_t i = 0; i < n; i++)
	*msgs += p[i].surely;
    return *msgs > metrics_coarse_usual(c);
}

/* metrics_carrier_networks - see above; evidence "3 carriers' pools in
 * 1h at 4 hubs of DE: AS65540 (DE),AS65548 (DE) new to the login,
 * AS65550 (DE)" */
uint64_t metrics_carrier_networks(const struct metrics_ctx *c, uint32_t w,
				  char *ev, size_t evlen)
{
    struct pool p[STORE_IPS_MAX];
    size_t n, hubs, fresh = 0, used, i;
    uint32_t msgs, away;
    char d[16], net[64], cc[3];

    if (!client_pool(c))
	return 0;
    n = pools(c, w, p, &hubs);
    for (i = 0; i < n; i++)
	fresh += !p[i].own;
    if (n == 1 && fresh == 1 && lone_spread(c, &p[0], &msgs, &away)) {
	if (ev != NULL && evlen > 0) {
	    rules_format_duration(w, d, sizeof(d));
	    store_ip_cc(p[0].ip, cc);
	    metrics_net_text(&p[0].ip->ip, p[0].ip->asn, cc, net,
			     sizeof(net));
	    snprintf(ev, evlen, "1 carrier's pool in %s at %zu hubs of %.2s: "
		     "%s new to the login, %u messages, %u of them away "
		     "from its busiest hub", d, hubs, c->f->geo.cc, net, msgs,
		     away);
	}
	return 2;		/* as a second carrier would have counted */
    }
    if (n < 2 || hubs < 2 || fresh == 0)
	return 0;
    msgs = 0;
    if (hubs < METRICS_POOL_HUBS && !busy_pools(c, p, n, &msgs))
	return 0;
    if (ev == NULL || evlen == 0)
	return n;
    rules_format_duration(w, d, sizeof(d));
    used = (size_t) snprintf(ev, evlen, "%zu carriers' pools in %s at %zu "
			     "hubs of %.2s:", n, d, hubs, c->f->geo.cc);
    for (i = 0; i < n && used < evlen; i++) {
	store_ip_cc(p[i].ip, cc);
	metrics_net_text(&p[i].ip->ip, p[i].ip->asn, cc, net, sizeof(net));
	used += (size_t) snprintf(ev + used, evlen - used, "%s %s%s",
				  i ? "," : "", net,
				  p[i].own ? "" : " new to the login");
    }
    if (msgs != 0 && used < evlen)
	snprintf(ev + used, evlen - used, "; %u messages, its usual pool "
		 "hour <= %u", msgs, metrics_coarse_usual(c));
    return n;
}
