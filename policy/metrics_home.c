/*
 * metrics_home - the owner at home: a trip abroad that is not one.
 *
 * The trip allowance of unfamiliar_messages_over_usual and a trip's new
 * day (metrics_trip.c, metrics_day.c) exist for a traveller, whose mail
 * during a trip comes from the hotel, a local SIM and a roaming phone;
 * the roaming phone is routed home, so it is familiar, but it is a
 * carrier's CGNAT address, located only to a hub city (a coarse place).
 * The owner's home line is a fine place only he sends from. Mail let
 * through from it after the "trip" began says the owner never left:
 * the foreign networks are a stranger imitating a trip (tests/sim
 * stealth.mix trip-slow: one foreign country, a line there and its
 * carrier, a message every ~15 minutes for days, while the victim
 * keeps mailing from home; 185 of 185 delivered with the allowance and
 * the new day, probe F14, R3).
 *
 * The home place: a network the login learned as its own (not its
 * learning grace, not the site's) while learning or a learning period
 * ago or more (a hotel let through for days is no home), a fine place (radius below
 * policy.coarse_km), in one of the login's usual countries, and an
 * address no other login came from within a day (an office NAT or a VPN
 * exit is the site's people's, not a home). The last message let
 * through from it is kept per login (store_user.home_seen).
 */
#include <stdio.h>
#include <string.h>

#include "metrics.h"

/* metrics_home_place - is the client (at MAIL) the login's home place? */
bool metrics_home_place(const struct metrics_ctx *c)
{
    const struct rules_facts *f = c->f;
    uint32_t k = c->cfg->policy.coarse_km;

    if (c->user == NULL || c->relayed || k == 0 || !f->geo.has_loc
	|| f->geo.acc_km == 0 || f->geo.acc_km >= k || f->geo.cc[0] == 0
	|| !metrics_usual_country(c, f->geo.cc))
	return false;
    return metrics_own_place(c, &f->client, f->geo.asn)
	&& metrics_site_voucher(c, &f->client, f->geo.asn)
	&& !metrics_learning_stranger(c, &f->client, f->geo.asn, f->geo.cc)
	&& !metrics_shared_client(c, &f->client);
}

/* trip_start - the first sighting of the window's unfamiliar addresses
 * in countries that are not the login's usual ones (0: none) */
static uint32_t trip_start(const struct metrics_ctx *c, uint32_t w)
{
    uint32_t start = 0;
    size_t i = 0;
    const struct store_ip *ip;

    while ((ip = metrics_unfamiliar_ip(c, w, &i)) != NULL) {
	char cc[3];

	store_ip_cc(ip, cc);
	if (cc[0] != 0 && !metrics_usual_country(c, cc)
	    && (start == 0 || ip->first_seen < start))
	    start = ip->first_seen;
    }
    return start;
}

/* metrics_home_during_trip - was mail let through from the login's home
 * place after the window's unfamiliar addresses abroad were first seen
 * (the owner did not leave)? Never with policy.trip_home off. */
bool metrics_home_during_trip(const struct metrics_ctx *c, uint32_t w)
{
    uint32_t start;

    if (!c->cfg->policy.trip_home || c->user == NULL
	|| c->user->home_seen == 0 || c->user->home_seen > c->now)
	return false;
    start = trip_start(c, w);
    return start != 0 && c->user->home_seen >= start;
}

/* metrics_home_country - is the country (two letters) one of the login's
 * home places': an anchor it remembers there (store_ip_anchor), a fine
 * place on a network that may vouch for it (metrics_site_voucher)? A usual
 * country abroad (a trip's, by three days there; a family's home) has
 * the login's hotel or local SIM, not its home. */
bool metrics_home_country(const struct metrics_ctx *c, const char *cc)
{
    for (uint32_t i = 0; i < c->user->nips && i < STORE_IPS_MAX; i++) {
	const struct store_ip *a = &c->user->ips[i];
	char acc[3];

	store_ip_cc(a, acc);
	if (store_ip_anchor(a) && memcmp(acc, cc, 2) == 0
	    && metrics_ip_fine(c, a)
	    && metrics_site_voucher(c, &a->ip, a->asn))
	    return true;
    }
    return false;
}

/* second_home - is a remembered address of the login a second
 * home beside its home place (policy.second_home): a fine place in one
 * of its usual countries that has a home place of the login
 * (home_country), an address no other login came from, either
 * on a network it did not learn while learning nor a learning period
 * ago, or a far place of one it did (a line of the owner's own ISP in
 * another town, metrics_place.c), while the login's last message from
 * its home place was within policy.second_home_for? The owner who
 * mails from home while a new line in his own country sends at his
 * pace is two places at once: the line is a stranger imitating him
 * (tests/sim stealth.mix mimic, probe F15), not the owner's new place,
 * however many days it was let through. A new home replaces the old
 * one: once the old one has been silent second_home_for, the new line
 * is judged as before. */
static bool second_home(const struct metrics_ctx *c, const struct store_ip *ip)
{
    uint32_t k = c->cfg->policy.coarse_km, r = store_ip_radius(ip);
    uint32_t home = c->user != NULL ? c->user->home_seen : 0;
    char cc[3];

    if (!c->cfg->policy.second_home || home == 0 || home > c->now
	|| c->now - home > c->cfg->policy.second_home_s
	|| k == 0 || r == 0 || r >= k || ip->lat_c == STORE_NO_LOC)
	return false;
    store_ip_cc(ip, cc);
    if (cc[0] == 0 || !metrics_usual_country(c, cc)
	|| !metrics_home_country(c, cc)
	|| (metrics_site_voucher(c, &ip->ip, ip->asn)
	    && !metrics_far_place(c, &ip->ip, ip->asn, NULL)))
	return false;
    return !metrics_shared_client(c, &ip->ip);
}

/* metrics_second_home - second_home, once per address an evaluation
 * (metrics_memo.c) */
bool metrics_second_home(const struct metrics_ctx *c, const struct store_ip *ip)
{
    uint8_t *m = metrics_memo_second_home(c, ip);

    if (m != NULL && *m != METRICS_MEMO_NONE)
	return *m == METRICS_MEMO_YES;
    return metrics_memo_put(m, second_home(c, ip));
}

/* metrics_second_home_text - ", a second home (counted since first
 * seen)" after unfamiliar_messages' evidence */
void metrics_second_home_text(bool second, char *ev, size_t evlen)
{
    size_t used = ev != NULL ? strlen(ev) : evlen;

    if (second && used < evlen)
	snprintf(ev + used, evlen - used,
		 ", a second home (counted since first seen)");
}

/* metrics_home_line_alone - is the client the one new line of its AS
 * number since since: no other fine address of that AS (another IPv4
 * address, another IPv6 /64) first seen at or after since? A home line
 * the ISP moved keeps its new address for the day; residential proxies
 * of the owner's ISP take a new one a connection (rules.c
 * phone_block_home, golden phone_block_thief.case). */
bool metrics_home_line_alone(const struct metrics_ctx *c, uint32_t since)
{
    const struct addr *me = &c->f->client;
    uint32_t k = c->cfg->policy.coarse_km;

    if (c->user == NULL)
	return false;
    for (size_t i = 0; i < c->user->nips && i < STORE_IPS_MAX; i++) {
	const struct store_ip *ip = &c->user->ips[i];

	if (ip->first_seen < since || ip->asn != c->f->geo.asn
	    || store_ip_radius(ip) >= k)
	    continue;
	if (!addr_same_unit(&ip->ip, me))
	    return false;
    }
    return true;
}
