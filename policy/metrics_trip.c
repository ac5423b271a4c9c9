/*
 * metrics_trip - unfamiliar places, a trip abroad counted as one.
 *
 * A traveller abroad sends from the hotel's line and from a local SIM or
 * travel eSIM (a carrier of that country, a coarse place): two networks
 * the login never used, minutes apart, both in one country it was never
 * in. That is one place a person is at, not two; a botnet's addresses
 * are in many countries, rotating proxies in the login's own (usual)
 * country. So unfamiliar networks in a country that is not one of the
 * login's usual countries count as one place together; every other
 * unfamiliar network is a place of its own, as for unfamiliar_networks.
 * A network is never more than one place (a privacy VPN's exits in
 * several countries on one AS are one), so the count is not above
 * unfamiliar_networks', but for one case: fine places of one network in
 * one country too far apart for one town are places of their own
 * (metrics_place.c: residential proxies of one ISP in several cities;
 * a phone's coarse CGNAT addresses never are).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

/* The unfamiliar networks of the window, joined into places: a network
 * is a node; two are one place when they share a new country. */
struct places {
    size_t n;			/* networks */
    uint64_t net[STORE_IPS_MAX];
    const struct store_ip *ip[STORE_IPS_MAX];	/* an address of each */
    size_t up[STORE_IPS_MAX];	/* union-find parent */
    unsigned size[STORE_IPS_MAX];	/* networks of a root's place */
    char trip_cc[STORE_IPS_MAX][3];	/* new countries seen ... */
    size_t trip_net[STORE_IPS_MAX];	/* ... and a network of each */
    size_t ntrip;
    const struct store_ip *addr[STORE_IPS_MAX];	/* the addresses ... */
    size_t node[STORE_IPS_MAX];	/* ... and the network each was put in */
    size_t naddr;
};

/* root - the place a network belongs to */
static size_t root(struct places *p, size_t i)
{
    while (p->up[i] != i)
	i = p->up[i] = p->up[p->up[i]];
    return i;
}

/* join - networks i and j are one place */
static void join(struct places *p, size_t i, size_t j)
{
    i = root(p, i), j = root(p, j);
    if (i == j)
	return;
    if (p->size[i] < p->size[j]) {
	size_t t = i;

	i = j, j = t;
    }
    p->up[j] = i;
    p->size[i] += p->size[j];
}

/* add_net - the node of an address's network, added when new; two fine
 * places of one network too far apart for one town are two nodes
 * (metrics_places_apart: residential proxies of one ISP in several
 * cities), a coarse address joins its network's first */
static size_t add_net(const struct metrics_ctx *c, struct places *p,
		      const struct store_ip *ip)
{
    uint64_t net = store_net_key(&ip->ip, ip->asn);
    size_t i;

    for (i = 0; i < p->n && (p->net[i] != net
			     || metrics_places_apart(c, p->ip[i], ip)); i++)
	;
    if (i == p->n) {
	p->net[i] = net, p->ip[i] = ip, p->up[i] = i, p->size[i] = 1;
	p->n++;
    }
    return i;
}

/* add_trip - an address abroad joins the place of its new country */
static void add_trip(struct places *p, size_t node, const char cc[3])
{
    size_t k;

    for (k = 0; k < p->ntrip && memcmp(p->trip_cc[k], cc, 2) != 0; k++)
	;
    if (k < p->ntrip) {
	join(p, node, p->trip_net[k]);
	return;
    }
    memcpy(p->trip_cc[k], cc, 3);
    p->trip_net[k] = node;
    p->ntrip++;
}

/* pool_at_home - is an unfamiliar address a carrier's pool in one of
 * the login's usual countries (a coarse place, or a network where the
 * login has anchors in 3 /24s /48s: metrics_pool_network)? What a
 * roaming phone looks like: routed home, at its carrier's hub. */
static bool pool_at_home(const struct metrics_ctx *c,
			 const struct store_ip *ip, const char cc[3])
{
    return cc[0] != 0 && metrics_usual_country(c, cc)
	&& (store_ip_radius(ip) >= c->cfg->policy.coarse_km
	    || metrics_pool_network(c, ip));
}

/* join_phone - the trip's roaming phone: with one country new to the
 * login in the window (one trip) and exactly one carrier's pool at home
 * among its unfamiliar networks (phone: that network's node, or p->n
 * for none, or more than one), the pool joins the trip's place. A
 * traveller who never used the phone at home (a home line only, or a
 * student's learning week abroad) roams home-routed through its German
 * carrier between the hotel's messages: the hotel and the phone were two
 * unfamiliar places, network-hopping held the phone and blocked the
 * hour, and the blocked mail then ran into unusual-volume's day
 * (tests/sim X shuffle and stealth seed 7 u081: 46 messages; T travel
 * 105 u121: 20). A botnet is in many countries (its second one is a
 * second place as before); proxies at home have no trip beside them;
 * two carriers at home are mobile proxies, not one phone. */
static void join_phone(struct places *p, size_t phone)
{
    if (p->ntrip == 1 && phone < p->n)
	join(p, phone, p->trip_net[0]);
}

/* find_places - the unfamiliar places of the login's addresses in the
 * window (hop: a learning login's networks new today, metrics_hop.c;
 * roam: a trip's roaming phone joins it, join_phone); their count */
static size_t find_places(const struct metrics_ctx *c, uint32_t w,
			  struct places *p, bool hop, bool roam)
{
    size_t i = 0, n = 0, phone = SIZE_MAX;
    const struct store_ip *ip;

    p->n = p->ntrip = p->naddr = 0;
    while ((ip = hop ? metrics_hop_ip(c, w, &i)
	    : metrics_unfamiliar_ip(c, w, &i)) != NULL) {
	char cc[3];
	size_t node;

	node = add_net(c, p, ip);
	p->addr[p->naddr] = ip, p->node[p->naddr++] = node;
	store_ip_cc(ip, cc);
	if (cc[0] != 0 && !metrics_usual_country(c, cc))
	    add_trip(p, node, cc);
	else if (roam && pool_at_home(c, ip, cc) && phone != node)
	    phone = phone == SIZE_MAX ? node : STORE_IPS_MAX;
    }
    if (roam)
	join_phone(p, phone);
    for (i = 0; i < p->n; i++)
	n += root(p, i) == i;
    return n;
}

/* place_text - a place (a root network) as evidence: "AS64500 (RU)",
 * "JP: 2 networks" */
static void place_text(const struct places *p, size_t r, char *out,
		       size_t len)
{
    char cc[3];

    size_t i, n;

    store_ip_cc(p->ip[r], cc);
    if (p->size[r] != 1) {
	snprintf(out, len, "%s: %u networks", cc, p->size[r]);
	return;
    }
    metrics_net_text(&p->ip[r]->ip, p->ip[r]->asn, cc, out, len);
    for (i = 0; i < p->n && (i == r || p->net[i] != p->net[r]); i++)
	;
    n = strlen(out);
    if (i < p->n && n < len)	/* one network at several places: where */
	snprintf(out + n, len - n, " at %.1f%c %.1f%c",
		 abs(p->ip[r]->lat_c) / 100.0, p->ip[r]->lat_c < 0 ? 'S' : 'N',
		 abs(p->ip[r]->lon_c) / 100.0, p->ip[r]->lon_c < 0 ? 'W' : 'E');
}

/* cmp_text - qsort order for the evidence's items */
static int cmp_text(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* metrics_stranger_at_home - has the login used, in the last w seconds,
 * an unfamiliar network in one of its usual countries (or in no known
 * country)? Proxies in the owner's own country look so; a traveller's
 * hotel or local SIM abroad does not. */
bool metrics_stranger_at_home(const struct metrics_ctx *c, uint32_t w)
{
    size_t i = 0;
    const struct store_ip *ip;

    while ((ip = metrics_unfamiliar_ip(c, w, &i)) != NULL) {
	char cc[3];

	store_ip_cc(ip, cc);
	if (cc[0] == 0 || metrics_usual_country(c, cc))
	    return true;
    }
    return false;
}

/* metrics_stranger_line - has the login used, in the last w seconds, an
 * unfamiliar network at home (metrics_stranger_at_home), all of it one
 * subscriber's line: one IPv4 address or one IPv6 /64, a fine place?
 * A home line does not change its address within the day; residential
 * or mobile proxies, a carrier's pool, hand out one a connection. */
bool metrics_stranger_line(const struct metrics_ctx *c, uint32_t w)
{
    size_t i = 0;
    const struct store_ip *ip, *line = NULL;

    while ((ip = metrics_unfamiliar_ip(c, w, &i)) != NULL) {
	char cc[3];

	store_ip_cc(ip, cc);
	if (cc[0] != 0 && !metrics_usual_country(c, cc))
	    continue;
	if (!metrics_ip_fine(c, ip)
	    || (line != NULL && !addr_same_unit(&line->ip, &ip->ip)))
	    return false;
	line = ip;
    }
    return line != NULL;
}

/* places_metric - distinct unfamiliar places among the login's
 * addresses seen in the window (hop: a learning login's networks new
 * today): each network, except that those of one country new to the
 * login are one place (a trip) */
static uint64_t places_metric(const struct metrics_ctx *c, uint32_t w,
			      bool hop, bool roam, char *ev, size_t evlen)
{
    struct places p;
    char items[STORE_IPS_MAX][ADDR_STRLEN + 16], d[16];
    size_t i, k = 0, n = find_places(c, w, &p, hop, roam), used;

    if (ev == NULL || evlen == 0)
	return n;
    for (i = 0; i < p.n; i++)
	if (root(&p, i) == i)
	    place_text(&p, i, items[k++], sizeof(items[0]));
    qsort(items, k, sizeof(items[0]), cmp_text);
    rules_format_duration(w, d, sizeof(d));
    used = (size_t) snprintf(ev, evlen, "%zu unfamiliar places in %s:", n, d);
    for (i = 0; i < k && i < 12 && used < evlen; i++)
	used += (size_t) snprintf(ev + used, evlen - used, "%s%s",
				  i ? "," : " ", items[i]);
    if (k > 12 && used < evlen)
	used += (size_t) snprintf(ev + used, evlen - used, ",...");
    if (hop && used < evlen)
	snprintf(ev + used, evlen - used, " (networks new today to a"
		 " learning login)");
    return n;
}

/* metrics_unfamiliar_places - places_metric of the unfamiliar networks
 * (what a trip's allowance and new day go by) */
uint64_t metrics_unfamiliar_places(const struct metrics_ctx *c, uint32_t w,
				   char *ev, size_t evlen)
{
    return places_metric(c, w, false, false, ev, evlen);
}

/* metrics_network_hops - the unfamiliar_places metric: places_metric,
 * of a learning login's networks new today while metrics_hop_on */
uint64_t metrics_network_hops(const struct metrics_ctx *c, uint32_t w,
			      char *ev, size_t evlen)
{
    return places_metric(c, w, metrics_hop_on(c), true, ev, evlen);
}

/* moved_on - the place of the window's newest unfamiliar address when
 * the window holds other places too, all last seen before any address
 * of that place was first seen, and it is a trip's place (networks of a
 * country new to the login joined): a traveller who moved on from one
 * country to the next, the earlier stay's addresses still in the
 * rolling day. p->n otherwise: a botnet's countries alternate, and the
 * place of one foreign network is no trip. p is find_places' of the
 * unfamiliar addresses (their networks as it put them). */
static size_t moved_on(struct places *p)
{
    size_t i, r = p->n;
    uint32_t newest = 0, start = UINT32_MAX, before = 0;

    for (i = 0; i < p->naddr; i++)
	if (p->addr[i]->last_seen >= newest)
	    newest = p->addr[i]->last_seen, r = root(p, p->node[i]);
    if (r == p->n || p->size[r] < 2)
	return p->n;
    for (i = 0; i < p->naddr; i++) {
	const struct store_ip *ip = p->addr[i];

	if (root(p, p->node[i]) == r) {
	    if (ip->first_seen < start)
		start = ip->first_seen;
	} else if (ip->last_seen > before)
	    before = ip->last_seen;
    }
    return before < start ? r : p->n;
}

/* metrics_unfamiliar_messages_over_usual - unfamiliar_messages, less a
 * usual day (metrics_usual_day: the login's busiest usual day) when
 * the window's unfamiliar addresses are one trip: one place,
 * in a country new to the login, of two networks or more (a hotel's
 * line and a local carrier; the login's own networks in that country
 * seen in the window count too, metrics_away.c: the line let through on
 * the trip's first days), or a trip's place the login moved on to
 * (moved_on: the earlier places all last seen before it began), or one
 * line beside the login's own SIM on a settled stay (metrics_settled.c
 * metrics_settled_line: the country usual by the stay itself). One
 * address or one network with none of the login's beside it is never a
 * trip: a slow attacker from one foreign address gets no allowance. */
uint64_t metrics_unfamiliar_messages_over_usual(const struct metrics_ctx *c,
						uint32_t w, char *ev,
						size_t evlen)
{
    struct places p;
    size_t np = find_places(c, w, &p, false, false);
    size_t r = np > 1 ? moved_on(&p) : p.n;
    size_t nets = np == 1	/* the trip's own too */
	? p.n + metrics_trip_known_nets(c, w, p.ip[0])
	: r < p.n ? p.size[r] : 0;
    bool sim = false, line = false, trip = nets != 0
	&& (nets >= 2 || metrics_roaming_trip(c, w)
	    || (sim = metrics_sim_trip(c, w))
	    || (line = metrics_settled_line(c, w)))
	&& !metrics_home_during_trip(c, w);
    uint64_t usual = trip ? metrics_usual_day(c) : 0;
    uint64_t v = metrics_eval(CFG_METRIC_UNFAMILIAR_MESSAGES, c, w, ev, evlen);
    size_t used;

    if (ev != NULL && evlen > 0 && trip) {
	used = strlen(ev);
	if (r < p.n)
	    snprintf(ev + used, evlen - used, ", moved on to a place abroad"
		     " of %zu networks: usual day <= %llu", nets,
		     (unsigned long long) usual);
	else if (nets >= 2)
	    snprintf(ev + used, evlen - used, ", one place abroad of %zu "
		     "networks: usual day <= %llu", nets,
		     (unsigned long long) usual);
	else if (sim)
	    metrics_sim_text(ev + used, evlen - used, usual);
	else if (line)
	    metrics_settled_line_text(ev + used, evlen - used, usual);
	else
	    metrics_roaming_text(ev + used, evlen - used, usual);
    }
    return v > usual ? v - usual : 0;
}
