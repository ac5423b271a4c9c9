/*
 * store_user - per SASL user state: observe, read, block, reset, walk.
 *
 * Contract: thread-safe; each call locks one stripe of the user table for
 * the time of a few hundred bytes of copying. The login is normalised and
 * hashed before the lock is taken. Results are copies; in a struct
 * store_user only ips[0..nips-1] are written.
 *
 * What one observation does (store_user_update):
 * - the user's last_seen (never moved back) and its recency (eviction order);
 * - the IP list, most recently observed first: a known IP moves to the
 *   front, a new one is put there and, with ips_per_user IPs held, the
 *   least recently observed one drops off, unless it is one of the
 *   login's places kept (ip_victim: a fine anchor seen on two days in
 *   its home country, on another network than the new address's, up to
 *   half the list; obs->line_km); first/last seen, count
 *   (saturating at 65535) and the GeoIP facts of the latest
 *   observation that had any (the accuracy radius as a class);
 * - with STORE_OBS_ANCHOR (at the end of a message let through from a
 *   familiar place) the address becomes an anchor; with STORE_OBS_HOME
 *   (from the login's home place) home_seen becomes now;
 * - messages, recipients and bytes in the windows (store_win.c);
 * - with STORE_OBS_LEARN (a message let through): the country and the
 *   network baselines; with STORE_OBS_LEARN_VOLUME the usual busiest hour;
 * - the country baseline: up to STORE_COUNTRIES countries with the number
 *   of distinct days seen; a new country replaces the one last seen
 *   longest ago;
 * - the login places: a located observation becomes last_login, the one
 *   it replaces prev_login. In the update's result prev_login is always
 *   the latest located login before this observation, so for a located
 *   observation (last_login, prev_login) is the pair to judge travel by;
 * - recent queue ids, newest first, without repeats;
 * - the webmail hour's counters move on to now's half hour (store_relay.c),
 *   and the day bytes of the login's spare state roll, so that none kept
 *   256 days (or a multiple) before reads as today's (store_wrap.c); a
 *   new login is created unseen for that (its zeros on a day ...00);
 * - with obs->coarse (the end of a message from the login's carrier's
 *   pool, rules_carrier.c) the note it decides on the copy out: the usual
 *   coarse hour and a known hub (store_carrier.c), under the same lock.
 * An expired block is cleared on the way. With STORE_OBS_COUNT_ONLY (the
 * end of a message whose login was observed at MAIL FROM) only last_seen,
 * the recency, the windows and the queue ids change.
 *
 * Counting for a transaction in flight: an observation or a count
 * (store_user_count) notes the units it added in the caller's struct
 * store_held; store_user_give_back takes them back out of the buckets
 * they went into (store_win.c) when the transaction is refused or
 * aborted, unless the entry has been reset or evicted since (its
 * first_seen differs): a new entry never pays for an old one's units.
 */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

#define EACH_BATCH	32	/* slots copied per lock hold in a walk */
#define USUAL_WINDOW_S	3600	/* the usual volume is per hour */
#define USUAL_DAY_S	STORE_DAY_S	/* ... and per rolling day */

_Static_assert(STORE_IP_PARTS % STORE_DAY_S == 0, "an address's day parts");

/* A normalised login, its hash and stripe. */
struct user_ref {
    char key[STORE_LOGIN_MAX];
    size_t len;
    uint64_t h;
    unsigned s;
};

/* user_ref - normalise and hash a login; STORE_EARG if nothing is left */
static int user_ref(const STORE *st, const char *login, struct user_ref *r)
{
    if (st == NULL || login == NULL)
	return STORE_EARG;
    r->h = store_login_ref(st, login, r->key, &r->len);
    if (r->len == 0)
	return STORE_EARG;
    r->s = store_stripe_of(r->h);
    return STORE_OK;
}

/* store_urec_lock - a known login's entry, its stripe locked (the
 * caller unlocks &st->users, *stripe): STORE_EARG for a read-only handle
 * or an empty login, STORE_NOTFOUND for an unknown one */
int store_urec_lock(STORE *st, const char *login, uint32_t now,
		    struct store_urec **u, unsigned *stripe)
{
    struct user_ref r;
    uint32_t idx;
    int rc;

    if (st != NULL && (st->flags & STORE_READONLY))
	return STORE_EARG;
    if ((rc = user_ref(st, login, &r)) != STORE_OK)
	return rc;
    if ((rc = store_entry_lock(st, &st->users, r.h, r.key, 0, now, &idx))
	!= STORE_OK)
	return rc;
    *u = store_slot(&st->users, r.s, idx);
    *stripe = r.s;
    return STORE_OK;
}

/* cc_upper - a country code as two upper-case letters, or 0 if it is
 * not two ASCII letters; packed as first << 8 | second */
static inline unsigned cc_upper(const char *cc)
{
    unsigned a = (unsigned char) cc[0] & ~0x20u, b = (unsigned char) cc[1] & ~0x20u;

    if ((a - 'A' >= 26u) | (b - 'A' >= 26u))	/* one branch, not two */
	return 0;
    return a << 8 | b;
}

/* The flag bits of store_ip.cc (store.h): 0x20 and 0x80 of each byte,
 * which two capital letters (or two zeros) never have. */
#define CC_ANCHOR	0x20u	/* cc[0]: an anchor */
#define CC_LETTERS	0x5fu	/* what is left of a letter */
#define RADIUS_CLASSES	8
/* A radius class's upper end (km; MaxMind's usual radii, and 99 so that
 * the shipped coarse_km of 100 is a class's edge); class 0 is unknown. */
static const uint16_t radius_top[RADIUS_CLASSES] = {
    0, 10, 20, 50, 99, 200, 500, 1000
};

/* radius_class - the class of an accuracy radius (km; 0 unknown) */
static unsigned radius_class(unsigned acc_km)
{
    unsigned k = 1;

    if (acc_km == 0)
	return 0;
    while (k < RADIUS_CLASSES - 1 && acc_km > radius_top[k])
	k++;
    return k;
}

/* ip_set_radius - keep a radius class in cc's spare bits: bit 0 in
 * cc[1]'s 0x20, bits 1 and 2 in cc[0]'s and cc[1]'s 0x80 */
static void ip_set_radius(struct store_ip *ip, unsigned k)
{
    unsigned a = (unsigned char) ip->cc[0] & (CC_LETTERS | CC_ANCHOR);
    unsigned b = (unsigned char) ip->cc[1] & CC_LETTERS;

    b |= (k & 1u) ? 0x20u : 0, a |= (k & 2u) ? 0x80u : 0;
    b |= (k & 4u) ? 0x80u : 0;
    ip->cc[0] = (char) a, ip->cc[1] = (char) b;
}

/* store_ip_radius - the stored radius class's upper end, 0 unknown */
uint32_t store_ip_radius(const struct store_ip *ip)
{
    unsigned a = (unsigned char) ip->cc[0], b = (unsigned char) ip->cc[1];
    unsigned k = (b & 0x20u ? 1u : 0) | (a & 0x80u ? 2u : 0)
	| (b & 0x80u ? 4u : 0);

    return radius_top[k];
}

/* store_ip_anchor - is the address an anchor of its login? */
int store_ip_anchor(const struct store_ip *ip)
{
    return ((unsigned char) ip->cc[0] & CC_ANCHOR) != 0;
}

/* pool_walk - one walk of the list for a's network's anchors: in
 * STORE_POOL_PREFIXES /24s (/48s) of a's family; or, with one_day, two
 * of them (any family) first seen on one day */
static bool pool_walk(const struct store_ip *ips, uint32_t n,
		      const struct store_ip *a, bool one_day)
{
    uint64_t key = store_net_key(&a->ip, a->asn);
    struct addr seen[STORE_POOL_PREFIXES], p;
    uint32_t days[STORE_IPS_MAX], k = 0, nd = 0;

    for (uint32_t i = 0; i < n && i < STORE_IPS_MAX; i++) {
	const struct store_ip *x = &ips[i];
	uint32_t j, d = x->first_seen / STORE_DAY_S;

	if (!store_ip_anchor(x) || store_net_key(&x->ip, x->asn) != key)
	    continue;
	if (one_day) {
	    for (j = 0; j < nd && days[j] != d; j++)
		;
	    if (j < nd)
		return true;	/* two first seen on one day */
	    days[nd++] = d;
	}
	if (addr_is_v4(&x->ip) != addr_is_v4(&a->ip))
	    continue;
	addr_prefix(&x->ip, &p);
	for (j = 0; j < k && !addr_equal(&seen[j], &p); j++)
	    ;
	if (j < k)
	    continue;
	seen[k++] = p;
	if (k >= STORE_POOL_PREFIXES)
	    return true;
    }
    return false;
}

/* store_ip_pool - anchors of a's network and family in the list, in
 * STORE_POOL_PREFIXES /24s (/48s)? (not a stranger's address on it: no
 * anchor) */
bool store_ip_pool(const struct store_ip *ips, uint32_t n,
		   const struct store_ip *a)
{
    return pool_walk(ips, n, a, false);
}

/* store_ip_phone - is a's network a phone's carrier for the login:
 * store_ip_pool, or two anchors of it first seen on one day (a phone gets
 * a new address a connection, an IPv6 one a new /64 in one /48; a home
 * line one a day; store_stopday.c home_elsewhere)? One walk answers both */
bool store_ip_phone(const struct store_ip *ips, uint32_t n,
		    const struct store_ip *a)
{
    return pool_walk(ips, n, a, true);
}

/* ip_geo - record what GeoIP said about an IP, if it said anything (an
 * anchor stays one) */
static inline void ip_geo(struct store_ip *ip, const struct store_geo *g)
{
    unsigned cc = cc_upper(g->cc);
    unsigned anchor = (unsigned char) ip->cc[0] & CC_ANCHOR;

    if (cc == 0 && g->asn == 0 && !g->has_loc)
	return;
    ip->cc[0] = (char) ((cc >> 8) | anchor);
    ip->cc[1] = (char) (cc & 0xff);
    ip_set_radius(ip, g->has_loc ? radius_class(g->acc_km) : 0);
    ip->asn = g->asn;
    ip->lat_c = g->has_loc ? g->lat_c : STORE_NO_LOC;
    ip->lon_c = g->has_loc ? g->lon_c : STORE_NO_LOC;
}

/* ip_day - count an observation in the address's day (before last_seen
 * moves): a new day shifts the counts, a gap of days clears them; a
 * clock behind last_seen counts in its day */
static inline void ip_day(struct store_ip *ip, uint32_t now)
{
    uint32_t d = now / STORE_DAY_S, last = ip->last_seen / STORE_DAY_S;

    if (d == last + 1) {
	ip->day_msgs[1] = ip->day_msgs[0];
	ip->day_msgs[0] = 0;
    } else if (d > last + 1) {
	ip->day_msgs[0] = ip->day_msgs[1] = 0;
    }
    if (ip->day_msgs[0] < UINT16_MAX)
	ip->day_msgs[0]++;
}

/* store_ip_recent - observations within w: all of them for an address
 * first seen within w, else from the per-day counts; in STORE_IP_PARTS
 * parts (a day's seconds) */
uint64_t store_ip_recent(const struct store_ip *ip, uint32_t now, uint32_t w)
{
    uint32_t d = now / STORE_DAY_S, last = ip->last_seen / STORE_DAY_S;
    uint32_t into = now % STORE_DAY_S;
    uint64_t today, before;

    if (ip->first_seen >= now || now - ip->first_seen < w)
	return (uint64_t) ip->count * STORE_IP_PARTS;	/* all of it, exactly */
    if (last >= d) {
	today = ip->day_msgs[0];
	before = ip->day_msgs[1];
    } else if (last + 1 == d) {
	today = 0;
	before = ip->day_msgs[0];
    } else {
	return 0;
    }
    if (w <= into)
	return today * STORE_IP_PARTS;
    w = w - into < STORE_DAY_S ? w - into : STORE_DAY_S;
    return today * STORE_IP_PARTS + before * w * (STORE_IP_PARTS / STORE_DAY_S);
}

/* kept_place - is a listed address one of the login's places, kept in
 * a full list before a passing one: an anchor (mail let through from it
 * while familiar), located finer than line_km (policy.coarse_km: a line,
 * not a carrier's hub), seen on two days or more, in the login's home
 * country (home: the country of its baseline with the most days; a
 * trip's hotel is not kept) and on another network than the new
 * address's (new_net, store_net_key: a network in use keeps its own
 * addresses coming and going as before) */
static inline bool kept_place(const struct store_ip *a, uint32_t line_km,
			      const char home[2], uint64_t new_net)
{
    uint32_t r = store_ip_radius(a);

    return store_ip_anchor(a) && r != 0 && r < line_km
	&& a->last_seen / STORE_DAY_S > a->first_seen / STORE_DAY_S
	&& ((unsigned char) a->cc[0] & CC_LETTERS) == (unsigned char) home[0]
	&& ((unsigned char) a->cc[1] & CC_LETTERS) == (unsigned char) home[1]
	&& store_net_key(&a->ip, a->asn) != new_net;
}

/* ip_victim - the entry the observed address replaces in a full list
 * of n: the least recently observed one that is not a kept place
 * (kept_place) of the n / 2 most recently observed ones. A phone on
 * IPv6 brings a new /64 (or a new privacy address) per connection:
 * dropping the least recently observed entry let a few days of those
 * push the login's home line and its other fine places off the list,
 * and with them all that looks for them (uni6 seed 8, u021: 16 of the
 * local SIM's /64s by day 10). At most half the list is kept so, so the
 * rest still holds what the login does now; with obs->line_km 0, or no
 * country learned, none is. */
static uint32_t ip_victim(const struct store_urec *u, uint32_t n,
			  const struct store_user_obs *obs)
{
    uint64_t net = store_net_key(&obs->ip, obs->geo.asn);
    const struct store_fcountry *home = &u->countries[0];
    uint32_t kept = 0, victim = n - 1;

    for (int i = 1; i < STORE_COUNTRIES; i++)
	if (u->countries[i].cc[0] != '\0' && u->countries[i].days > home->days)
	    home = &u->countries[i];
    for (uint32_t i = 0; i < n; i++)
	if (obs->line_km != 0 && home->cc[0] != '\0' && kept < n / 2
	    && kept_place(&u->ips[i], obs->line_km, home->cc, net))
	    kept++;
	else
	    victim = i;
    return victim;
}

/* user_ip - the observed IP to the front of the list */
static void user_ip(const STORE *st, struct store_urec *u,
		    const struct store_user_obs *obs, uint32_t now)
{
    uint32_t n = u->l.n < st->ips_per_user ? u->l.n : st->ips_per_user;
    struct store_ip *ips = u->ips, cur;
    uint32_t i;

    for (i = 0; i < n && !addr_equal(&ips[i].ip, &obs->ip); i++)
	;
    if (i < n) {
	cur = ips[i];
    } else {
	memset(&cur, 0, sizeof(cur));
	cur.ip = obs->ip;
	cur.first_seen = cur.last_seen = now;
	cur.lat_c = cur.lon_c = STORE_NO_LOC;
	if (n < st->ips_per_user) {
	    i = n++;
	} else {
	    i = ip_victim(u, n, obs);
	    store_urec_gone_note(u, &ips[i], obs->line_km, now);
	}
    }
    if (i > 0)
	memmove(&ips[1], &ips[0], i * sizeof(ips[0]));
    ip_day(&cur, now);
    if (now > cur.last_seen)
	cur.last_seen = now;
    if (cur.count < STORE_COUNT_MAX)
	cur.count++;
    ip_geo(&cur, &obs->geo);
    ips[0] = cur;
    u->l.n = (uint8_t) n;
}

/* user_anchor - mark a listed address an anchor */
static void user_anchor(const STORE *st, struct store_urec *u,
			const struct addr *ip)
{
    uint32_t n = u->l.n < st->ips_per_user ? u->l.n : st->ips_per_user;

    for (uint32_t i = 0; i < n; i++)
	if (addr_equal(&u->ips[i].ip, ip)) {
	    u->ips[i].cc[0] = (char) ((unsigned char) u->ips[i].cc[0]
				      | CC_ANCHOR);
	    return;
	}
}

/* user_country - count a day in a country of the baseline; stored codes
 * are written by cc_upper only, so they are compared as they are */
static void user_country(struct store_urec *u, const char *cc, uint32_t now)
{
    uint16_t day = (uint16_t) (now / STORE_DAY_S);
    struct store_fcountry *c = u->countries, *pick = &c[0];
    unsigned code = cc_upper(cc);
    char want[2];

    if (code == 0)
	return;
    want[0] = (char) (code >> 8);
    want[1] = (char) (code & 0xff);
    for (int i = 0; i < STORE_COUNTRIES; i++) {
	if (memcmp(c[i].cc, want, 2) == 0) {
	    if (day > c[i].last_day) {
		if (c[i].days < UINT16_MAX)
		    c[i].days++;
		c[i].last_day = day;
	    }
	    return;
	}
	if (pick->cc[0] != '\0' && (c[i].cc[0] == '\0'
				    || c[i].last_day < pick->last_day))
	    pick = &c[i];
    }
    memcpy(pick->cc, want, 2);
    pick->days = 1;
    pick->first_day = pick->last_day = day;
}

/* store_net_key - a network's key: its AS, else its /24 or /48 */
uint64_t store_net_key(const struct addr *ip, uint32_t asn)
{
    uint32_t k;

    if (asn != 0)
	return asn;
    if (addr_is_v4(ip))
	return STORE_NET_PREFIX | (uint32_t) ip->b[12] << 16
	    | (uint32_t) ip->b[13] << 8 | ip->b[14];
    k = 2166136261u;		/* FNV-1a over the /48 */
    for (int i = 0; i < 6; i++)
	k = (k ^ ip->b[i]) * 16777619u;
    return STORE_NET_PREFIX | k;
}

/* net_key - a stored network's key as store_net_key gives it */
static inline uint64_t net_key(const struct store_fnet *n)
{
    return n->prefix ? STORE_NET_PREFIX | n->key : n->key;
}

static uint32_t urec_home_seen(const struct store_urec *u);

/* user_net - count a day on a network of this login, like a country */
static void user_net(const STORE *st, struct store_urec *u,
		     const struct store_user_obs *obs, uint32_t now)
{
    uint16_t day = (uint16_t) (now / STORE_DAY_S);
    uint64_t key = store_net_key(&obs->ip, obs->geo.asn);
    struct store_fnet *n = u->nets, *pick = &n[0];

    for (int i = 0; i < STORE_NETS; i++) {
	if (n[i].days != 0 && net_key(&n[i]) == key) {
	    if (day > n[i].last_day) {
		store_urec_revisit_note(st, u, obs, key, n[i].last_day, now);
		/* a day of refusals at this strange place is no day of
		 * familiarity: this one takes its place (store_stopday.c) */
		if (n[i].days < UINT16_MAX
		    && !store_urec_stop_replaces(st, u, key, n[i].days,
						 n[i].last_day,
						 urec_home_seen(u),
						 obs->familiar_days))
		    n[i].days++;
		n[i].last_day = day;
	    }
	    return;
	}
	if (pick->days != 0 && (n[i].days == 0 || n[i].last_day < pick->last_day))
	    pick = &n[i];
    }
    pick->key = (uint32_t) key;
    pick->prefix = (key & STORE_NET_PREFIX) != 0;
    pick->days = 1;
    pick->first_day = pick->last_day = day;
}

/* user_home_nets - a home message at now: a network made familiar today
 * by its first message let through loses that day again if it is a
 * warmed one (store_stopday.c store_urec_warm_unseats) */
static void user_home_nets(const STORE *st, struct store_urec *u,
			   uint32_t familiar_days, uint32_t now)
{
    uint16_t day = (uint16_t) (now / STORE_DAY_S);
    struct store_fnet *n = u->nets;

    for (int i = 0; i < STORE_NETS; i++)
	if (n[i].days > 1 && n[i].days == familiar_days
	    && n[i].last_day == day
	    && store_urec_warm_unseats(st, u, net_key(&n[i]), day, now))
	    n[i].days--;
}

/* urec_usual_day - the busiest usual day, kept in the aux bytes of
 * nets[STORE_USUAL_DAY_LO] and [STORE_USUAL_DAY_HI] (store_int.h) */
static uint16_t urec_usual_day(const struct store_urec *u)
{
    return (uint16_t) (u->nets[STORE_USUAL_DAY_LO].aux
		       | u->nets[STORE_USUAL_DAY_HI].aux << 8);
}

/* urec_set_usual_day - store the busiest usual day */
static void urec_set_usual_day(struct store_urec *u, uint16_t d)
{
    u->nets[STORE_USUAL_DAY_LO].aux = (uint8_t) (d & 0xff);
    u->nets[STORE_USUAL_DAY_HI].aux = (uint8_t) (d >> 8);
}

/* home_seen_moves - does a home message at now replace the kept time h?
 * Forward only, except from a time over a day ahead of now (a clock
 * stepped back after it, or a damaged file): the readers take a future
 * time as "never", so it would switch trip_home and second_home off
 * until the clock came round to it. */
static bool home_seen_moves(uint32_t h, uint32_t now)
{
    return now > h || h - now > STORE_DAY_S;
}

/* urec_home_seen - the last message from the home place, kept in the
 * aux bytes of nets[STORE_HOME_SEEN_AUX] on (store_int.h) */
static uint32_t urec_home_seen(const struct store_urec *u)
{
    uint32_t t = 0;

    for (int i = 3; i >= 0; i--)
	t = t << 8 | u->nets[STORE_HOME_SEEN_AUX + i].aux;
    return t;
}

/* urec_set_home_seen - store the last message from the home place */
static void urec_set_home_seen(struct store_urec *u, uint32_t t)
{
    for (int i = 0; i < 4; i++, t >>= 8)
	u->nets[STORE_HOME_SEEN_AUX + i].aux = (uint8_t) (t & 0xff);
}

/* user_at_home - the owner at home at now: home_seen moves forward only,
 * and a warmed network made familiar today loses that day
 * (user_home_nets) */
static void user_at_home(const STORE *st, struct store_urec *u,
			 uint32_t familiar_days, uint32_t now)
{
    if (home_seen_moves(urec_home_seen(u), now)) {
	urec_set_home_seen(u, now);
	user_home_nets(st, u, familiar_days, now);
    }
}

/* user_volume - the last hour's counts raise the usual busiest hour, the
 * last day's the usual busiest day */
static void user_volume(struct store_urec *u, uint32_t now)
{
    uint64_t m = store_win_sum(&u->win, STORE_MSGS, now, USUAL_WINDOW_S);
    uint64_t r = store_win_sum(&u->win, STORE_RCPTS, now, USUAL_WINDOW_S);
    uint64_t d = store_win_sum(&u->win, STORE_MSGS, now, USUAL_DAY_S);

    store_urec_prior_usual(u, now);
    store_urec_prior_day(u, urec_usual_day(u), now);
    if (m > u->usual_msgs)
	u->usual_msgs = m > UINT16_MAX ? UINT16_MAX : (uint16_t) m;
    if (r > u->usual_rcpts)
	u->usual_rcpts = r > UINT16_MAX ? UINT16_MAX : (uint16_t) r;
    if (d > urec_usual_day(u))
	urec_set_usual_day(u, d > UINT16_MAX ? UINT16_MAX : (uint16_t) d);
}

/* ext_range_empty - are ext[at..at+n) all zero ("not learned")? */
static bool ext_range_empty(const struct store_urec *u, size_t at, size_t n)
{
    for (size_t i = at; i < at + n; i++)
	if (u->ext[i] != 0)
	    return false;
    return true;
}

/* The ext bytes by owner (store.h), each range restored on its own: the
 * known hubs, the prior usual recipients hour and the webmail hour as
 * their modules lay them out, and each range assigned but not in use
 * here yet (session 18: ext[10..12], [13..14], [15..18], [27..28],
 * [29..31]) as assigned. One block per old owner (ext[22..31] whole)
 * kept a snapshot's bytes of one owner out of an entry that had
 * learned those of another in the same block, and restored unowned
 * bytes with them. */
static const struct {
    uint8_t at, len;
} ext_owners[] = {
    {STORE_HUBS_AT, STORE_HUBS_DAY + 2 - STORE_HUBS_AT},
    {STORE_EXT_PRIOR_DAY_MSGS, STORE_EXT_PRIOR_DAY_NO + 1 - STORE_EXT_PRIOR_DAY_MSGS},
    {STORE_EXT_REVISIT_DAY, 2},
    {STORE_EXT_STRIKE_RULE, STORE_EXT_STRIKE_MIN + 2 - STORE_EXT_STRIKE_RULE},
    {STORE_EXT_PRIOR_RCPTS, STORE_EXT_PRIOR_DAY + 1 - STORE_EXT_PRIOR_RCPTS},
    {STORE_EXT_RELAY_SLOT, STORE_EXT_RELAY_USUAL + 1 - STORE_EXT_RELAY_SLOT},
    {STORE_EXT_BULK_HOUR, 2}, {STORE_EXT_STOP_DAY, 2},
    {STORE_EXT_COARSE_GONE, 1},
};

/* The rows tile ext[0..31] in order: every byte has one owner. */
_Static_assert(STORE_HUBS_AT == 0 && STORE_HUBS_DAY + 2 == 10
	       && STORE_EXT_PRIOR_RCPTS == 19 && STORE_EXT_PRIOR_DAY + 1 == 22
	       && STORE_EXT_PRIOR_DAY_MSGS == 10 && STORE_EXT_PRIOR_DAY_NO + 1 == 13
	       && STORE_EXT_REVISIT_NET + 1 == STORE_EXT_STRIKE_RULE
	       && STORE_EXT_STRIKE_MIN + 2 == STORE_EXT_PRIOR_RCPTS
	       && STORE_EXT_RELAY_SLOT == 22 && STORE_EXT_RELAY_USUAL + 1 == 27
	       && STORE_EXT_BULK_HOUR == 27 && STORE_EXT_STOP_DAY == 29
	       && STORE_EXT_COARSE_GONE == 31 && STORE_EXT_LEN == 32,
	       "ext_owners tiles ext");

/* store_urec_restore_spare - a snapshot's usual day, usual coarse hour
 * (with its day), home place's time and ext bytes, each into an entry
 * that has none of it yet (store_migrate.c); ext by owner's range
 * (ext_owners), so one owner's learned bytes never mix with another's */
void store_urec_restore_spare(struct store_urec *u,
			      const struct store_user *from)
{
    if (urec_usual_day(u) == 0)
	urec_set_usual_day(u, from->usual_day);
    if (u->nets[STORE_COARSE_HOUR].aux == 0) {
	u->nets[STORE_COARSE_HOUR].aux = from->usual_coarse;
	u->nets[STORE_COARSE_DAY].aux = from->coarse_day;
	store_urec_wrap_restored(u, 0, 0, true, from->last_seen);
    }
    if (urec_home_seen(u) == 0)
	urec_set_home_seen(u, from->home_seen);
    for (size_t r = 0; r < sizeof(ext_owners) / sizeof(ext_owners[0]); r++)
	if (ext_range_empty(u, ext_owners[r].at, ext_owners[r].len)) {
	    memcpy(u->ext + ext_owners[r].at, from->ext + ext_owners[r].at,
		   ext_owners[r].len);
	    store_urec_wrap_restored(u, ext_owners[r].at, ext_owners[r].len,
				     false, from->last_seen);
	}
}

/* user_place - a located login becomes the latest, the latest the one before */
static void user_place(struct store_urec *u, const struct store_geo *g,
		       uint32_t now)
{
    struct store_fplace *p = &u->place;

    p->time[1] = p->time[0];
    p->lat_c[1] = p->lat_c[0];
    p->lon_c[1] = p->lon_c[0];
    p->acc_km[1] = p->acc_km[0];
    p->time[0] = now;
    p->lat_c[0] = g->lat_c;
    p->lon_c[0] = g->lon_c;
    p->acc_km[0] = g->acc_km;
}

/* user_qid - remember a queue id, newest first, no repeats */
static void user_qid(struct store_urec *u, const char *qid)
{
    char q[STORE_QID_MAX];
    int i;

    store_copy_text(q, sizeof(q), qid);
    for (i = 0; i < STORE_QIDS - 1; i++)
	if (memcmp(u->qids[i], q, sizeof(q)) == 0)
	    break;
    memmove(u->qids[1], u->qids[0], (size_t) i * sizeof(q));
    memcpy(u->qids[0], q, sizeof(q));
}

/* user_apply - one observation on a live slot */
static void user_apply(const STORE *st, struct store_urec *u,
		       const struct store_user_obs *obs, uint32_t now)
{
    store_urec_relay_roll(u, now);	/* by last_seen as it was */
    store_urec_wrap_roll(u, now);	/* store_wrap.c, likewise */
    store_link_seen(&u->l, now);
    if (u->block.until != 0 && !store_block_active(&u->block, now))
	memset(&u->block, 0, sizeof(u->block));
    store_win_add(&u->win, now, obs->msgs, obs->rcpts, obs->bytes);
    store_held_note(obs->held, u->l.first_seen, now, obs->msgs, obs->rcpts,
		    obs->bytes);
    if (obs->qid != NULL && obs->qid[0] != '\0')
	user_qid(u, obs->qid);
    if (obs->flags & STORE_OBS_RELAYED)
	store_urec_relay_note(u, obs->msgs, now);	/* store_relay.c */
    if (obs->flags & STORE_OBS_COUNT_ONLY) {
	/* the login itself was seen already; maybe learn its country now */
	if ((obs->flags & STORE_OBS_LEARN) && obs->geo.cc[0] != '\0')
	    user_country(u, obs->geo.cc, now);
	if (obs->flags & STORE_OBS_LEARN)
	    user_net(st, u, obs, now);
	if (obs->flags & STORE_OBS_LEARN_VOLUME)
	    user_volume(u, now);
	if ((obs->flags & (STORE_OBS_LEARN | STORE_OBS_ANCHOR))
	    == (STORE_OBS_LEARN | STORE_OBS_ANCHOR))
	    user_anchor(st, u, &obs->ip);
	if ((obs->flags & (STORE_OBS_LEARN | STORE_OBS_HOME))
	    == (STORE_OBS_LEARN | STORE_OBS_HOME))
	    user_at_home(st, u, obs->familiar_days, now);
	if ((obs->flags & (STORE_OBS_LEARN | STORE_OBS_BULK))
	    == (STORE_OBS_LEARN | STORE_OBS_BULK))
	    store_urec_bulk_note(u, now);	/* store_bulk.c */
	return;
    }
    user_ip(st, u, obs, now);
    if (obs->geo.cc[0] != '\0' && !(obs->flags & STORE_OBS_NO_LEARN))
	user_country(u, obs->geo.cc, now);
    if (obs->flags & STORE_OBS_LEARN)
	user_net(st, u, obs, now);
    if (obs->flags & STORE_OBS_LEARN_VOLUME)
	user_volume(u, now);
    if (obs->geo.has_loc)
	user_place(u, &obs->geo, now);
}

/* place_copy - one stored place out */
static void place_copy(const struct store_fplace *p, int i,
		       struct store_place *out)
{
    out->time = p->time[i];
    out->lat_c = p->lat_c[i];
    out->lon_c = p->lon_c[i];
    out->acc_km = p->acc_km[i];
}

/* cc_text - a stored country code as text: "" unless two letters (an
 * address's flag bits taken off) */
static inline void cc_text(const char in[2], char out[3])
{
    char l[2] = {(char) ((unsigned char) in[0] & CC_LETTERS),
	(char) ((unsigned char) in[1] & CC_LETTERS)};
    int ok = cc_upper(l) != 0;

    out[0] = ok ? l[0] : '\0';
    out[1] = ok ? l[1] : '\0';
    out[2] = '\0';
}

/* store_ip_cc - an address's country as text */
void store_ip_cc(const struct store_ip *ip, char out[3])
{
    cc_text(ip->cc, out);
}

/* store_user_ip - the entry of an address in a copy's list, or NULL */
const struct store_ip *store_user_ip(const struct store_user *u,
				     const struct addr *ip)
{
    for (uint32_t i = 0; i < u->nips && i < STORE_IPS_MAX; i++)
	if (addr_equal(&u->ips[i].ip, ip))
	    return &u->ips[i];
    return NULL;
}

/* store_user_copy - a slot (live or copied) to the caller's form; the
 * address list is stored as it is handed out, one memcpy */
void store_user_copy(const STORE *st, const struct store_urec *r,
		     uint32_t now, struct store_user *out)
{
    uint32_t n = r->l.n < st->ips_per_user ? r->l.n : st->ips_per_user;

    memcpy(out->login, r->login, STORE_LOGIN_MAX - 1);
    out->login[STORE_LOGIN_MAX - 1] = '\0';
    out->first_seen = r->l.first_seen;
    out->last_seen = r->l.last_seen;
    store_block_copy(&out->block, &r->block, now);
    place_copy(&r->place, 0, &out->last_login);
    place_copy(&r->place, 1, &out->prev_login);
    for (int i = 0; i < STORE_COUNTRIES; i++) {
	cc_text(r->countries[i].cc, out->countries[i].cc);
	out->countries[i].days = r->countries[i].days;
	out->countries[i].first_day = r->countries[i].first_day;
	out->countries[i].last_day = r->countries[i].last_day;
    }
    for (int i = 0; i < STORE_NETS; i++) {
	out->nets[i].key = r->nets[i].days ? net_key(&r->nets[i]) : 0;
	out->nets[i].days = r->nets[i].days;
	out->nets[i].first_day = r->nets[i].first_day;
	out->nets[i].last_day = r->nets[i].last_day;
    }
    out->usual_msgs = r->usual_msgs;
    out->usual_rcpts = r->usual_rcpts;
    out->usual_day = urec_usual_day(r);
    out->usual_coarse = store_urec_coarse_hour(r);
    out->home_seen = urec_home_seen(r);
    out->coarse_day = r->nets[STORE_COARSE_DAY].aux;
    memcpy(out->ext, r->ext, STORE_EXT_LEN);
    for (int i = 0; i < STORE_QIDS; i++) {
	memcpy(out->qids[i], r->qids[i], STORE_QID_MAX - 1);
	out->qids[i][STORE_QID_MAX - 1] = '\0';
    }
    out->win = r->win;
    out->nips = n;
    memcpy(out->ips, r->ips, n * sizeof(out->ips[0]));
}

/* user_coarse - the observation's carrier note (obs->coarse), decided
 * on the copy out, applied to the slot and the copy */
static void user_coarse(struct store_urec *u, const struct store_user_obs *obs,
			uint32_t now, struct store_user *out)
{
    struct store_coarse_note n;

    if (obs->coarse == NULL || !obs->coarse(out, obs->coarse_arg, &n))
	return;
    store_urec_coarse_note(u, &n, now);
    out->usual_coarse = store_urec_coarse_hour(u);
    out->coarse_day = u->nets[STORE_COARSE_DAY].aux;
    memcpy(out->ext, u->ext, STORE_EXT_LEN);
}

/* store_user_update - apply an observation and copy the result out */
int store_user_update(STORE *st, const struct store_user_obs *obs,
		      uint32_t now, struct store_user *out)
{
    struct store_place prev;
    struct store_urec *u;
    struct user_ref r;
    uint32_t idx;
    int rc;

    if (st == NULL || obs == NULL || (st->flags & STORE_READONLY))
	return STORE_EARG;
    if ((rc = user_ref(st, obs->login, &r)) != STORE_OK
	|| (rc = store_entry_lock(st, &st->users, r.h, r.key,
				  STORE_ENTRY_ADD | STORE_ENTRY_TOUCH
				  | STORE_ENTRY_UNSEEN, now, &idx)) != STORE_OK)
	return rc;
    u = store_slot(&st->users, r.s, idx);	/* new: seen in user_apply */
    place_copy(&u->place, 0, &prev);
    user_apply(st, u, obs, now);
    if (out != NULL) {
	store_user_copy(st, u, now, out);
	out->prev_login = prev;
	user_coarse(u, obs, now, out);
    }
    store_unlock(&st->users, r.s);
    return STORE_OK;
}

/* store_user_count - count units at now, note them, copy the windows */
int store_user_count(STORE *st, const char *login, const struct store_span *d,
		     uint32_t now, struct store_held *held,
		     struct store_win *out)
{
    struct store_urec *u;
    struct user_ref r;
    uint32_t idx;
    int rc;

    if (st == NULL || d == NULL || (st->flags & STORE_READONLY))
	return STORE_EARG;
    if ((rc = user_ref(st, login, &r)) != STORE_OK
	|| (rc = store_entry_lock(st, &st->users, r.h, r.key,
				  STORE_ENTRY_ADD | STORE_ENTRY_TOUCH
				  | STORE_ENTRY_UNSEEN, now, &idx)) != STORE_OK)
	return rc;
    u = store_slot(&st->users, r.s, idx);	/* new: seen below */
    store_urec_wrap_roll(u, now);	/* before last_seen moves */
    store_count_locked(&u->l, &u->win, d, now, held, out);
    store_unlock(&st->users, r.s);
    return STORE_OK;
}

/* store_user_give_back - take back what a transaction counted */
int store_user_give_back(STORE *st, const char *login,
			 struct store_held *held, uint32_t now)
{
    struct user_ref r = { .h = 0 };
    int ok = st != NULL && user_ref(st, login, &r) == STORE_OK;

    return store_give_back(st, ok ? &st->users : NULL, r.h,
			   ok ? r.key : NULL, offsetof(struct store_urec, win),
			   held, now);
}

/* user_copy - store_copy_fn for the user table */
static void user_copy(const STORE *st, const void *slot, uint32_t now,
		      void *out)
{
    store_user_copy(st, slot, now, out);
}

/* user_op - one action on one user (store_entry_op) */
static int user_op(STORE *st, const char *login, enum store_act act,
		   const struct store_block *b, uint32_t now,
		   struct store_user *out)
{
    struct user_ref r;
    int rc;

    if ((rc = user_ref(st, login, &r)) != STORE_OK)
	return rc;
    return store_entry_op(st, &st->users, r.h, r.key, act, b, now,
			  user_copy, out);
}

/* store_user_get - a copy of one user */
int store_user_get(STORE *st, const char *login, uint32_t now,
		   struct store_user *out)
{
    if (out == NULL)
	return STORE_EARG;
    return user_op(st, login, STORE_ACT_GET, NULL, now, out);
}

/* store_user_block - block a user until b->until (created if unknown) */
int store_user_block(STORE *st, const char *login, const struct store_block *b,
		     uint32_t now)
{
    struct store_block blk;

    memset(&blk, 0, sizeof(blk));
    if (store_block_set(&blk, b, now) != STORE_OK)
	return STORE_EARG;
    return user_op(st, login, STORE_ACT_BLOCK, &blk, now, NULL);
}

/* store_user_unblock - lift a user's block */
int store_user_unblock(STORE *st, const char *login, uint32_t now)
{
    return user_op(st, login, STORE_ACT_UNBLOCK, NULL, now, NULL);
}

/* store_user_unblock_if - lift a user's block if it is still *was */
int store_user_unblock_if(STORE *st, const char *login,
			  const struct store_block *was, uint32_t now)
{
    if (was == NULL)
	return STORE_EARG;
    return user_op(st, login, STORE_ACT_UNBLOCK, was, now, NULL);
}

/* store_user_home_refused - a message of the login from its home place
 * was refused at now by the login's block: the owner at home all the
 * same, as one let through from there says (home_seen; rules.c
 * note_home). Forward only, as there, and as there a warmed network
 * made familiar today loses that day (user_home_nets, familiar_days:
 * policy.familiar_days). */
int store_user_home_refused(STORE *st, const char *login,
			    uint32_t familiar_days, uint32_t now)
{
    struct store_urec *u;
    unsigned s;
    int rc;

    if ((rc = store_urec_lock(st, login, now, &u, &s)) != STORE_OK)
	return rc;
    user_at_home(st, u, familiar_days, now);
    store_unlock(&st->users, s);
    return STORE_OK;
}

/* store_user_reset - forget a user entirely */
int store_user_reset(STORE *st, const char *login, uint32_t now)
{
    return user_op(st, login, STORE_ACT_RESET, NULL, now, NULL);
}

/* A walk over the users: the caller's callback and the view it gets. */
struct user_walk {
    const STORE *st;
    uint32_t now;
    store_user_fn fn;
    void *ctx;
    struct store_user *u;
};

/* user_visit - one copied slot to the caller, as a struct store_user */
static int user_visit(const void *slot, void *arg)
{
    struct user_walk *w = arg;

    store_user_copy(w->st, slot, w->now, w->u);
    return w->fn(w->u, w->ctx);
}

/* store_user_each - call fn on a copy of every user; fn nonzero stops */
int store_user_each(STORE *st, uint32_t now, store_user_fn fn, void *ctx)
{
    struct user_walk w = { st, now, fn, ctx, NULL };
    int rc;

    if (st == NULL || fn == NULL)
	return STORE_EARG;
    if ((w.u = malloc(sizeof(*w.u))) == NULL)
	return STORE_EIO;
    rc = store_entry_each(st, &st->users, EACH_BATCH, user_visit, &w);
    free(w.u);
    return rc;
}
