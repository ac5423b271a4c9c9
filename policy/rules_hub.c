/*
 * rules_hub - the site's shared egresses: a carrier's CGNAT hub that
 * GeoIP locates finer than policy.coarse_km (a radius of 50 km at a hub
 * city hundreds of km from the phone's owner) is no place a person is,
 * so travel to or from it is not measured, as for a coarse place.
 *
 * What tells such a hub, learned from the site and not from the radius:
 * a pool hands its phones a new address per connection, so one login
 * comes from two networks (/24s; IPv6 /64s) of one located place (AS
 * number and location) within an hour; a home line gives one address a
 * day, a dual-stack home one of each family. A place where
 * policy.site_logins logins did so within a day is the site's shared
 * egress (shared_egress).
 *
 * At MAIL, after the login's update, a login at a new address notes the
 * place when its list holds an anchor (mail let through while familiar)
 * at the same place, of the same family, in another network, seen
 * within the hour: a thief's proxies are anchors of nobody's, and one
 * login is not enough. The entries are keyed by place in the client
 * table (store_hub_note), bounded and evicted as clients are, not kept
 * by snapshots (after a restore the site learns its hubs again within
 * hours). A store failure leaves a place no hub.
 *
 * An address that site_logins logins came from within a day (an
 * office's or a campus's NAT, the VPN's exit: tests/sim office and
 * campus end the VPN there) says where the site is, not where the
 * person is: travel from it is not measured either (shared_addr). A
 * student who leaves the campus VPN for the home line 94-489 km away
 * minutes later was quarantined as impossible travel and blocked for
 * the hour (tests/sim uni6 T seeds 107, 108, 110, X seed 4: 1-8
 * messages a login, on its first days). Only in the login's learning
 * week, when the owner's home line is still new to it: later a thief
 * on a German line while the victim is at the office is impossible
 * travel from the office (tests/sim office seeds 201, 206, 209 of
 * session 23's own: office-hours 0 -> 4-8 of 96 without the week's
 * bound). Only the previous place: a client address shared by many is
 * the one-ip attacker's too, and travel into it stays measured.
 */
#include <string.h>

#include "metrics.h"
#include "rules.h"

/* How close the two networks' addresses of one login (a phone's
 * connections minutes apart; a home line's address changes overnight,
 * and its ISP's two /24s of a town within a day were four logins' in
 * tests/sim default seed 104: its residential proxies escaped), and how
 * recent the logins that make a hub (several within a day). */
#define HUB_PAIR_S	3600u
#define HUB_LOGINS_S	STORE_DAY_S

/* other_net - a and b of one family, in different /24s (IPv4) or /64s
 * (IPv6) */
static bool other_net(const struct addr *a, const struct addr *b)
{
    bool v4 = addr_is_v4(a);

    if (v4 != (bool) addr_is_v4(b))
	return false;
    return v4 ? memcmp(a->b + 12, b->b + 12, 3) != 0
	: memcmp(a->b, b->b, 8) != 0;
}

/* same_place - a remembered address at the place (AS number, location) */
static bool same_place(const struct store_ip *ip, uint32_t asn, int16_t lat_c,
		       int16_t lon_c)
{
    return ip->asn == asn && ip->lat_c == lat_c && ip->lon_c == lon_c;
}

/* rules_hub_note - at MAIL, after the login's update (u): a new address
 * at a fine located place where the login has an anchor in another
 * network of the family seen within the hour notes the place */
void rules_hub_note(const struct cfg *cfg, STORE *st,
		    const struct rules_facts *f, uint32_t now,
		    const struct store_user *u)
{
    const struct store_geo *g = &f->geo;
    const struct store_ip *self;

    if (cfg->policy.site_logins == 0 || cfg->policy.coarse_km == 0
	|| u == NULL || !g->has_loc || g->asn == 0
	|| g->acc_km >= cfg->policy.coarse_km)
	return;
    self = store_user_ip(u, &f->client);
    if (self == NULL || self->count > 1)
	return;			/* noted when the address was new */
    for (uint32_t i = 0; i < u->nips && i < STORE_IPS_MAX; i++) {
	const struct store_ip *a = &u->ips[i];

	if (store_ip_anchor(a) && same_place(a, g->asn, g->lat_c, g->lon_c)
	    && other_net(&a->ip, &f->client)
	    && metrics_in_window(a->last_seen, now, HUB_PAIR_S)) {
	    (void) store_hub_note(st, g->asn, g->lat_c, g->lon_c, f->login,
				  now, NULL);
	    return;
	}
    }
}

/* shared_egress - enough logins noted the place within the window */
static bool shared_egress(const struct cfg *cfg, const struct store_client *e,
			  uint32_t now)
{
    return metrics_client_logins(e, now, HUB_LOGINS_S)
	>= cfg->policy.site_logins;
}

/* hub - is the place the site's shared egress? */
static bool hub(const struct cfg *cfg, STORE *st, uint32_t asn, int16_t lat_c,
		int16_t lon_c, uint32_t now)
{
    struct store_client e;

    return asn != 0
	&& store_hub_get(st, asn, lat_c, lon_c, now, &e) == STORE_OK
	&& shared_egress(cfg, &e, now);
}

/* shared_addr - did policy.site_logins logins come from the address
 * within the window (an office's or a campus's NAT, the VPN's exit)? */
static bool shared_addr(const struct cfg *cfg, STORE *st,
			const struct addr *ip, uint32_t now)
{
    struct store_client e;

    return store_client_get(st, ip, now, &e) == STORE_OK
	&& shared_egress(cfg, &e, now);
}

/* prev_ip - the login's address at its previous located place: the
 * one at that place seen last at its time (NULL: none remembered) */
static const struct store_ip *prev_ip(const struct metrics_ctx *mc)
{
    const struct store_place *p = &mc->user->prev_login;
    const struct store_ip *best = NULL;

    for (uint32_t i = 0; i < mc->user->nips && i < STORE_IPS_MAX; i++) {
	const struct store_ip *a = &mc->user->ips[i];

	if (a->lat_c != p->lat_c || a->lon_c != p->lon_c
	    || a->last_seen > p->time
	    || addr_equal(&a->ip, &mc->f->client))
	    continue;
	if (best == NULL || a->last_seen > best->last_seen)
	    best = a;
    }
    return best;
}

/* rules_hub_travel - at MAIL: is the login's previous located place or
 * the client's fine place the site's shared egress, or the previous
 * address one the site's people share (shared_addr), the other place in
 * the same country (mc->hub)? A hub says where its phone is to its
 * country only: from a hub to another country (a botnet's first
 * address abroad) the speed is measured as before. Into the site's
 * hub from another country it is not: a roaming phone is routed home,
 * at its carrier's gateway while its owner sits in the hotel abroad
 * (tests/sim shuffle seed 108 of the set T, carriers located to 50 km:
 * u209 on the site's first day, before its pool was learned, the phone
 * "in Frankfurt" minutes after an Italian hotel, 13 messages
 * quarantined, each renewing the hour's block; hub_from_abroad.case);
 * a thief at the hub is one of the carrier's phones, judged by the
 * carrier's rules as after the owner's home line. The client on a
 * carrier's pool of the login's own (anchors in 3 /24s of its network,
 * metrics_pool_network) is no place either, in any country, nor is the
 * previous place on it when the client is an address the login came
 * from before: a roaming phone is routed home, located to its hub while
 * its owner is abroad, and the hotel beside it was "impossible travel"
 * at every message (tests/sim shuffle seed 108 of the set T, carriers
 * located to 50 km: 72 honest messages of 10 travellers held; a blocked
 * message that fires again renews the block, and the hotel stayed a new
 * network). From the pool to an address new to the login (a thief's
 * first address abroad right after the owner's phone, T shuffle 102's
 * botnet) the speed is measured as before (trip_fine_carrier.case).
 * Only places finer than coarse_km are looked up (a coarse one is not
 * measured anyway), and only when the two are apart by more than their
 * radii forgive (no speed, nothing for the flag to change: a home
 * line's every MAIL): a store read each (three at most). The pool needs
 * no site network: with site_logins 0 (no hubs, no shared addresses) it
 * is still no place (pool_travel_no_site.case). */
void rules_hub_travel(const struct cfg *cfg, STORE *st, struct metrics_ctx *mc)
{
    const struct store_place *p;
    const struct store_geo *g;
    const struct store_ip *prev, *self;
    struct store_ip here;
    struct store_place to;
    uint32_t k = cfg->policy.coarse_km;
    char cc[3];

    mc->hub = false;
    if (k == 0 || mc->user == NULL || mc->cls != RULES_CLASS_AUTHENTICATED)
	return;
    p = &mc->user->prev_login, g = &mc->f->geo;
    if (!g->has_loc || p->time == 0 || g->acc_km >= k || p->acc_km >= k
	|| g->cc[0] == 0)
	return;
    to = (struct store_place) {mc->now, g->lat_c, g->lon_c, g->acc_km};
    if (!(rules_travel_kmh(p, &to) > 0))
	return;			/* no speed to judge: no read needed */
    if ((prev = prev_ip(mc)) == NULL)
	return;
    here = (struct store_ip) {.ip = mc->f->client, .asn = g->asn};
    self = metrics_user_ip(mc, &mc->f->client);
    if (metrics_pool_network(mc, &here)
	|| (self != NULL && self->count > 1 && metrics_pool_network(mc, prev))) {
	mc->hub = true;
	return;
    }
    store_ip_cc(prev, cc);
    if (cfg->policy.site_logins == 0)
	return;			/* no hubs nor shared addresses: the pool only */
    mc->hub = hub(cfg, st, g->asn, g->lat_c, g->lon_c, mc->now)
	|| (strcmp(cc, g->cc) == 0	/* from abroad: into a hub only */
	    && (hub(cfg, st, prev->asn, p->lat_c, p->lon_c, mc->now)
		|| (mc->now < metrics_learning_end(cfg, mc->user)
		    && shared_addr(cfg, st, &prev->ip, mc->now))));
}
