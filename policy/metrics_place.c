/*
 * metrics_place - places finer than a network: where on its network a
 * login's address is.
 *
 * Familiarity is learned per network (an AS), and a big home ISP or a
 * carrier is one AS for a whole country: an attacker on a line of the
 * victim's own ISP in another city, or a proxy on it, is as familiar as
 * the victim's own line. A home line is located to its town (a small
 * accuracy radius, a "fine" place: below policy.coarse_km), and the same
 * town every day, even though its address changes daily; a phone's
 * CGNAT address is located only to a carrier hub (coarse) and moves
 * between hubs. So a fine place of an own network counts as familiar
 * only near one of the login's anchors on that network (addresses a
 * message was let through from while they were familiar places,
 * store_ip_anchor). Coarse places stay familiar by their network, and a
 * network without a fine anchor in the login's list (a phone-only login,
 * a state file from before anchors, an anchor fallen off the list) is
 * judged by its AS as before.
 *
 * The same test splits an unfamiliar network into places (metrics_trip):
 * two fine addresses of one AS too far apart for one town are two places
 * (residential proxies of one ISP in five cities), never two coarse ones.
 *
 * Contract: pure functions of the context, like metrics.c.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "geo.h"
#include "metrics.h"

/* PLACE_MARGIN_KM - beyond both radii: not one town's lines (a line's
 * location moves between its ISP's nearby points of presence; the radii
 * already say by how much). 50 made a line of the owner's ISP 120 km
 * away one town with the owner's (radii 43 and the 50 class: tests/sim
 * harsh.mix own-isp seed 10, 96 of 96 let through; 5 at 25). Measured on
 * the kept sites (EFFICACY.md round 11 - near): no honest message more
 * held; the simulator puts every home line at its city's point, so what
 * it shows is that no honest move between towns is near the edge, not
 * how far a real line's location wanders. */
#define PLACE_MARGIN_KM 25

/* A located place with its radius (km). */
struct fine {
    double lat, lon;
    uint32_t r;
};

/* is_fine - a radius known and below policy.coarse_km */
static bool is_fine(const struct metrics_ctx *c, uint32_t r)
{
    uint32_t k = c->cfg->policy.coarse_km;

    return k != 0 && r != 0 && r < k;
}

/* metrics_ip_fine - is a remembered address located, finer than
 * policy.coarse_km (a line, not a carrier's hub or a country)? */
bool metrics_ip_fine(const struct metrics_ctx *c, const struct store_ip *ip)
{
    return ip->lat_c != STORE_NO_LOC && is_fine(c, store_ip_radius(ip));
}

/* stored_fine - a remembered address's fine place, if it has one */
static bool stored_fine(const struct metrics_ctx *c, const struct store_ip *ip,
			struct fine *out)
{
    out->r = store_ip_radius(ip);
    if (!metrics_ip_fine(c, ip))
	return false;
    out->lat = ip->lat_c / 100.0, out->lon = ip->lon_c / 100.0;
    return true;
}

/* fine_of - an address's fine place: the client's from GeoIP, another's
 * from self, its entry in the login's list (NULL: looked up) */
static bool fine_of(const struct metrics_ctx *c, const struct addr *ip,
		    const struct store_ip *self, struct fine *out)
{
    if (addr_equal(ip, &c->f->client)) {
	if (!c->f->geo.has_loc || !is_fine(c, c->f->geo.acc_km))
	    return false;
	out->lat = c->f->geo.lat_c / 100.0, out->lon = c->f->geo.lon_c / 100.0;
	out->r = c->f->geo.acc_km;
	return true;
    }
    if (self == NULL)
	self = metrics_user_ip(c, ip);
    return self != NULL && stored_fine(c, self, out);
}

/* metrics_fine_place - is the address a fine place (fine_of)? */
bool metrics_fine_place(const struct metrics_ctx *c, const struct addr *ip,
			const struct store_ip *self)
{
    struct fine f;

    return fine_of(c, ip, self, &f);
}

/* apart_km - how far two fine places are beyond both radii and the
 * margin (<= 0: they may be one town) */
static double apart_km(const struct fine *a, const struct fine *b)
{
    double d = geo_distance_km(a->lat, a->lon, b->lat, b->lon);

    if (!(d >= 0))		/* NaN: no place */
	return 0;
    return d - (double) a->r - (double) b->r - PLACE_MARGIN_KM;
}

/* metrics_pool_network - is a remembered address on a network from
 * which the login's list holds anchors in STORE_POOL_PREFIXES /24s
 * (/48s) of the address's family (store_ip_pool)? A carrier whose pool
 * GeoIP locates to its hub finer than coarse_km (tests/sim shuffle seed
 * 102 of the set T: 50 km) is no home place for metrics_far_line nor for
 * metrics_first_home (metrics_neighbour.c). A home line whose addresses
 * spread over more /24s is taken for a pool too: no home place, as
 * before. */
bool metrics_pool_network(const struct metrics_ctx *c, const struct store_ip *a)
{
    uint32_t n = c->user->nips < STORE_IPS_MAX ? c->user->nips : STORE_IPS_MAX;

    return store_ip_pool(c->user->ips, n, a);
}

/* What a walk of the login's anchors answers (far_from_anchors): far
 * from every fine anchor in the address's country whatever its network
 * (FAR_LINE), and from every fine anchor on its network (FAR_PLACE). */
enum { FAR_LINE, FAR_PLACE, FAR_KINDS };
#define FAR_NEAR (-1.0)		/* an anchor near it: never far */

/* nearest - keep d as a question's nearest anchor, unless one was near */
static void nearest(double *best, double d)
{
    if (*best != FAR_NEAR && d < *best)
	*best = d;
}

/* anchor_km - one anchor a against the address (here, in country cc,
 * its network key): into best[] per question asked (want) its distance
 * or FAR_NEAR. An anchor of the network in another country than the
 * address's (a privacy VPN's exits, a hosting provider: no one's home)
 * makes the address never far from the network's; for the line,
 * anchors of other countries and of a carrier's pool
 * (metrics_pool_network) are not counted. */
static void anchor_km(const struct metrics_ctx *c, const struct store_ip *a,
		      const struct fine *here, const char cc[3], uint64_t key,
		      unsigned want, double best[FAR_KINDS])
{
    bool net = (want & 1u << FAR_PLACE) && store_net_key(&a->ip, a->asn) == key;
    bool line = (want & 1u << FAR_LINE) != 0;
    struct fine there;
    double d;
    char acc[3];

    if (!net && !line)
	return;
    store_ip_cc(a, acc);
    if (memcmp(acc, cc, 2) != 0) {
	if (net)
	    best[FAR_PLACE] = FAR_NEAR;
	return;
    }
    if (!stored_fine(c, a, &there))
	return;
    line = line && !metrics_pool_network(c, a);
    d = apart_km(here, &there) <= 0 ? FAR_NEAR
	: geo_distance_km(here->lat, here->lon, there.lat, there.lon);
    if (net)
	nearest(&best[FAR_PLACE], d);
    if (line)
	nearest(&best[FAR_LINE], d);
}

/* far_from_anchors - is the address a fine place, no anchor itself, far
 * from every fine anchor of the login that each question asked (want:
 * bits of FAR_LINE, FAR_PLACE) counts, with one at least? One walk of
 * the list answers both; it stops once a question asked has an anchor
 * near (the answer is then no). km[] (may be NULL): each question's
 * nearest distance. */
static bool far_from_anchors(const struct metrics_ctx *c,
			     const struct addr *ip, uint32_t asn,
			     unsigned want, uint32_t km[FAR_KINDS])
{
    const struct store_ip *self;
    struct fine here;
    double best[FAR_KINDS] = {INFINITY, INFINITY};
    uint64_t key = store_net_key(ip, asn);
    char cc[3];

    if (c->user == NULL)
	return false;
    self = metrics_user_ip(c, ip);
    if (!fine_of(c, ip, self, &here))
	return false;
    if (self != NULL && store_ip_anchor(self))
	return false;
    metrics_ip_cc(c, ip, self, cc);
    for (uint32_t i = 0; i < c->user->nips && i < STORE_IPS_MAX; i++) {
	const struct store_ip *a = &c->user->ips[i];

	if (!store_ip_anchor(a))
	    continue;
	anchor_km(c, a, &here, cc, key, want, best);
	for (int k = 0; k < FAR_KINDS; k++)
	    if ((want & 1u << k) && best[k] == FAR_NEAR)
		return false;
    }
    for (int k = 0; k < FAR_KINDS; k++) {
	if (!(want & 1u << k))
	    continue;
	if (isinf(best[k]))
	    return false;
	if (km != NULL)
	    km[k] = (uint32_t) lround(best[k]);
    }
    return true;
}

/* metrics_far_place - is the address a fine place of its network far
 * from every fine anchor the login has on that network (and it has
 * one)? *km (may be NULL): the distance to the nearest of them. A
 * network the login has anchors of in another country than the
 * address's (a privacy VPN's exits, a hosting provider) is no one's
 * home: never far. */
bool metrics_far_place(const struct metrics_ctx *c, const struct addr *ip,
		       uint32_t asn, uint32_t *km)
{
    uint32_t d[FAR_KINDS];

    if (!far_from_anchors(c, ip, asn, 1u << FAR_PLACE, d))
	return false;
    if (km != NULL)
	*km = d[FAR_PLACE];
    return true;
}

/* metrics_far_line - is the address a fine place far from every fine
 * anchor the login has in its country, whatever their networks (and it
 * has one)? *km as metrics_far_place. */
bool metrics_far_line(const struct metrics_ctx *c, const struct addr *ip,
		      uint32_t *km)
{
    uint32_t d[FAR_KINDS];

    if (!far_from_anchors(c, ip, 0, 1u << FAR_LINE, d))
	return false;
    if (km != NULL)
	*km = d[FAR_LINE];
    return true;
}

/* metrics_places_apart - two remembered addresses of one country, both
 * fine places, too far apart to be one town (two places of one network;
 * exits of one network in two countries are a VPN's, one place) */
bool metrics_places_apart(const struct metrics_ctx *c,
			  const struct store_ip *a, const struct store_ip *b)
{
    struct fine x, y;
    char ca[3], cb[3];

    store_ip_cc(a, ca);
    store_ip_cc(b, cb);
    return ca[0] != 0 && memcmp(ca, cb, 2) == 0 && stored_fine(c, a, &x)
	&& stored_fine(c, b, &y) && apart_km(&x, &y) > 0;
}

/* metrics_far_text - evidence for a far place of a known network,
 * appended to ev: ", 480 km from the login's places on it" */
void metrics_far_text(const struct metrics_ctx *c, const struct addr *ip,
		      uint32_t asn, char *ev, size_t evlen)
{
    uint32_t km;
    size_t n;

    if (ev == NULL || !metrics_far_place(c, ip, asn, &km)
	|| (n = strlen(ev)) >= evlen)
	return;
    snprintf(ev + n, evlen - n, ": known network, but %u km from the"
	     " login's places on it", km);
}

/* metrics_new_line - is the address a fine place in a /24 (/48) where the
 * login has no anchor (no address it had mail let through from while
 * familiar)? Its network may be the login's own by its AS, but the line
 * is not yet: such an address must not vouch for the site (rules.c
 * own_place). uni6 seed 5 (probe F25): a stolen student's login, whose
 * family's line abroad is of the attacker's ISP, vouched for the
 * attacker's address and made its /24 the site's, and the one address
 * then drove ten logins, 20 of 20 delivered. A phone's CGNAT address
 * and a VPN's exits are coarse or anchored: unchanged. */
bool metrics_new_line(const struct metrics_ctx *c, const struct addr *ip)
{
    if (c->user == NULL || !metrics_fine_place(c, ip, NULL))
	return false;
    for (uint32_t i = 0; i < c->user->nips && i < STORE_IPS_MAX; i++) {
	const struct store_ip *a = &c->user->ips[i];

	if (store_ip_anchor(a) && metrics_same_network(&a->ip, ip))
	    return false;
    }
    return true;
}

/* STRAY_LINE_ANCHORS, STRAY_LINE_UNITS - the home line's anchors on its
 * network (one a reconnection: the ISP moves a line's address daily)
 * and the /24s (/48s) they fell in before those say where its next
 * address will be: four addresses in two /24s (below
 * STORE_POOL_PREFIXES: a wider spread is a pool) is a line that moved
 * between its pool's /24s and came back. One /24 alone says nothing of
 * the pool's width: the line's first move to another is its pool's
 * second /24 (tests/sim G seed 150 u123, 31 messages from one /24 of
 * its two, then the other). */
#define STRAY_LINE_ANCHORS 4
#define STRAY_LINE_UNITS 2

/* The login's anchors of one network and family near a place (line_walk). */
struct line_seen {
    uint32_t anchors;		/* fine anchors of the network near it */
    uint32_t units;		/* their distinct /24s (/48s), up to
				 * STORE_POOL_PREFIXES */
    uint32_t last;		/* the latest last_seen among them */
    bool mine;			/* one of them in the address's /24 (/48) */
};

/* line_walk - the fine anchors of the address's network and family near
 * its place (here) into *out */
static void line_walk(const struct metrics_ctx *c, const struct addr *ip,
		      uint64_t key, const struct fine *here,
		      struct line_seen *out)
{
    struct addr seen[STORE_POOL_PREFIXES], p;
    struct fine there;

    memset(out, 0, sizeof(*out));
    for (uint32_t i = 0; i < c->user->nips && i < STORE_IPS_MAX; i++) {
	const struct store_ip *a = &c->user->ips[i];
	uint32_t j;

	if (!store_ip_anchor(a) || store_net_key(&a->ip, a->asn) != key
	    || addr_is_v4(&a->ip) != addr_is_v4(ip)
	    || !stored_fine(c, a, &there) || apart_km(here, &there) > 0)
	    continue;
	out->anchors++;
	if (a->last_seen > out->last)
	    out->last = a->last_seen;
	if (metrics_same_network(&a->ip, ip))
	    out->mine = true;
	addr_prefix(&a->ip, &p);
	for (j = 0; j < out->units && !addr_equal(&seen[j], &p); j++)
	    ;
	if (j == out->units && out->units < STORE_POOL_PREFIXES)
	    seen[out->units++] = p;
    }
}

/* unit_first_seen - when the login's first address in the /24 (/48) of
 * ip was first seen (ip's own entry included; 0: none) */
static uint32_t unit_first_seen(const struct metrics_ctx *c,
				const struct addr *ip)
{
    uint32_t first = 0;

    for (uint32_t i = 0; i < c->user->nips && i < STORE_IPS_MAX; i++) {
	const struct store_ip *a = &c->user->ips[i];

	if (metrics_same_network(&a->ip, ip)
	    && (first == 0 || a->first_seen < first))
	    first = a->first_seen;
    }
    return first;
}

/* metrics_stray_line - a fine place of the login's own network near its
 * home line, in a /24 (/48) where the line never was, while that line
 * keeps to its few: STRAY_LINE_ANCHORS anchors or more there, in
 * STRAY_LINE_UNITS /24s up to STORE_POOL_PREFIXES - 1 (a wider spread
 * is a pool: judged as before). A home line the ISP reconnects lands in its pool's /24s; a
 * new one in town is another customer of the ISP, which is what
 * residential proxies sold by ASN are (tests/sim harsh own-isp, a thief
 * in the victim's town: 96 of 96 let through, G seed 153). Not when
 * other logins came from the address today (a NAT of the site's
 * people), nor once the line moved: the login's first address there
 * first seen on an earlier day, and no anchor of the line seen since
 * (the old one went silent; a thief's is beside the owner's). */
bool metrics_stray_line(const struct metrics_ctx *c, const struct addr *ip,
			uint32_t asn)
{
    const struct store_ip *self;
    struct line_seen line;
    struct fine here;
    uint32_t first;

    if (!c->cfg->policy.stray_line || c->user == NULL)
	return false;
    self = metrics_user_ip(c, ip);
    if ((self != NULL && store_ip_anchor(self)) || !fine_of(c, ip, self, &here))
	return false;
    line_walk(c, ip, store_net_key(ip, asn), &here, &line);
    if (line.mine || line.anchors < STRAY_LINE_ANCHORS
	|| line.units < STRAY_LINE_UNITS || line.units >= STORE_POOL_PREFIXES
	|| metrics_shared_client(c, ip))
	return false;
    first = unit_first_seen(c, ip);
    return first == 0 || first / STORE_DAY_S == c->now / STORE_DAY_S
	|| line.last >= first;
}

/* metrics_far_line_stranger - a learning login's line far from its
 * home places (metrics.c metrics_learning_stranger): a fine place far from every fine anchor the login has in its country
 * (metrics_far_line), on a network not yet its own by use on
 * familiar_days days, or a far place of one that is (metrics_far_place:
 * a line of its own ISP in another town). A login that had mail from its
 * home line is in that town; a stolen one is used from a line of
 * another customer anywhere in the country (tests/sim harsh seed 105 of
 * the set T: the low-and-slow's victim had joined 6 days before, 240 of
 * 240 let through from a line 400 km from its home). A login with no fine
 * anchor (phone only) has no town: never far. */
bool metrics_far_line_stranger(const struct metrics_ctx *c,
			       const struct addr *ip, uint32_t asn,
			       const struct store_net *n)
{
    bool own = n != NULL && n->days >= c->cfg->policy.familiar_days;

    /* one walk: the far place asked only of an own network */
    return far_from_anchors(c, ip, asn, 1u << FAR_LINE
			    | (own ? 1u << FAR_PLACE : 0), NULL);
}

/* TWO_LINES_MIN_OBS - the other line's messages before it counts: a
 * heavy sender's newsletter leaves once from the home server's own
 * address (tests/sim heavy newsletter: one message beside the day's
 * line); a line in use sends again. */
#define TWO_LINES_MIN_OBS 2

/* unit_came - when the login first came from the /24 (/48) of an
 * address first seen at first (unit_first_seen; none: first) */
static uint32_t unit_came(const struct metrics_ctx *c, const struct addr *ip,
			  uint32_t first)
{
    uint32_t u = unit_first_seen(c, ip);

    return u != 0 && u < first ? u : first;
}

/* metrics_two_lines - is the address one of two lines of one network in
 * use at once near each other, and the later come of the two? A home
 * line holds one address at a time (a reconnection hands it a new one,
 * and the old one does not send again), so when the login's fine
 * addresses of one network and town interleave (the other sent after
 * this one's first message, and this one after the other's first: now,
 * for the client; a remembered address asked by the volume rules by its
 * last message, so that yesterday's line and today's are not two),
 * two subscribers' lines are in use. The one whose /24 (/48) the login came from later
 * is another customer's: a
 * residential proxy of the owner's own ISP in the owner's town (tests/sim
 * harsh own-isp, G seed 153: 96 of 96 let through as a familiar place);
 * the owner's line, whatever the pool's width, keeps its place. Only a
 * /24 first come from within a day can be the stranger's (an office's
 * NAT pool, a campus's: their addresses interleave every day), only
 * beside another /24 (addresses of one /24 interleaving are a NAT pool's:
 * a hotel's on the first day there, tests/sim probe-widepool seed 203),
 * and not an address other logins came from today
 * (metrics_shared_client). An IPv4 and an IPv6 address are never
 * compared (a dual-stack line is one).
 * policy.two_lines. */
bool metrics_two_lines(const struct metrics_ctx *c, const struct addr *ip,
		       uint32_t asn)
{
    const struct store_ip *self;
    struct fine here, there;
    uint32_t first, last, mine;
    uint64_t key = store_net_key(ip, asn);

    if (!c->cfg->policy.two_lines || c->user == NULL)
	return false;
    self = metrics_user_ip(c, ip);
    if (!fine_of(c, ip, self, &here))
	return false;
    first = self != NULL ? self->first_seen : c->now;
    last = self != NULL && !addr_equal(ip, &c->f->client) ? self->last_seen
	: c->now;
    mine = unit_came(c, ip, first);
    if (c->now - mine > STORE_DAY_S || metrics_shared_client(c, ip))
	return false;
    for (uint32_t i = 0; i < c->user->nips && i < STORE_IPS_MAX; i++) {
	const struct store_ip *a = &c->user->ips[i];

	if (a->last_seen <= first || last <= a->first_seen
	    || a->count < TWO_LINES_MIN_OBS
	    || metrics_same_network(&a->ip, ip)
	    || addr_is_v4(&a->ip) != addr_is_v4(ip)
	    || store_net_key(&a->ip, a->asn) != key
	    || !stored_fine(c, a, &there) || apart_km(&here, &there) > 0)
	    continue;
	if (unit_came(c, &a->ip, a->first_seen) < mine)
	    return true;
    }
    return false;
}
