/*
 * metrics_carrier - mail from the login's own carrier's pool, against
 * the login's own history there (coarse_messages_over_usual).
 *
 * A phone behind a carrier's CGNAT gets a new address each connection,
 * located to one of the carrier's hub cities (an accuracy radius of
 * hundreds of km), so its places are as vague as its owner's phone and
 * its network is one the login knows: mobile proxies sold on the
 * victim's own carrier went through every rule (tests/sim harsh.mix
 * own-carrier: 100 of 100 in all seeds). Three things tell them from
 * the owner's phone, and the metric needs all three:
 * - rate: messages in the window from coarse addresses of the client's
 *   network, past the login's own busiest such hour (store_carrier.c,
 *   learned from mail let through; at least METRICS_COARSE_FLOOR). An
 *   address's messages are counted at MAIL and never given back, so an
 *   attacker's refused or held retries keep counting;
 * - place: proxies come from all of a carrier's pools about evenly, a
 *   phone mostly from its own hub's (CGNAT egress moves now and then:
 *   tests/sim mobile-heavy.mix, one connection in ten). So at least
 *   METRICS_COARSE_ELSEWHERE of the window's messages, and one in
 *   METRICS_COARSE_SHARE, came from other hubs than the busiest one, and
 *   one address is at a hub where the login had no address on an
 *   earlier day (a phone busy all day fills the login's address list
 *   with today's addresses, so by the list alone its own hub looks new;
 *   two hubs alone held 2-6 of 200 users of a mobile-heavy site; two
 *   messages elsewhere still held 1-2 users in 5 of 10 mobile-heavy
 *   seeds and 2-6 messages in 4 of 10 shuffle seeds, three hold 1 in
 *   one shuffle seed, and the proxies get 4-6 of 100 through, not 3-5);
 *   past METRICS_COARSE_BURST times the usual hour (a burst no phone's
 *   hour comes near: 10 and more against a usual 3) one message from
 *   another hub will do: proxies that cluster at the owner's own hub
 *   for a while (13 of 16 there) slipped between holds, 4-8 of 100 in
 *   harsh seeds 1, 5 and 10, while the owner's own busy hours at one
 *   hub, and a local SIM's abroad, have none elsewhere;
 * - pace: proxies send every few minutes, so twice the usual hour (of 3,
 *   every own-carrier victim's of the sets) comes within 20 minutes, a
 *   rate no phone of the sets kept up at a new hub (tests/sim T
 *   mobile-heavy 107 u029: 5 in 12 minutes, usual 3). At that pace one
 *   sign fewer of place or recipients will do (G harsh 152, 160: the
 *   proxies' 6th let through, held at the 7th);
 * - not on a trip: no address of another country in the last day (a
 *   traveller's roaming phone, home-routed, sends a day's backlog in
 *   bursts from the hotel).
 * Pinned and site networks (a VPN exit) are left out, and learning
 * logins but those metrics_coarse_learner judges and a new login's first
 * hours (new_login, pool_first_hour).
 */
#include <stdio.h>
#include <string.h>

#include "metrics.h"

#define TRIP_S STORE_DAY_S	/* another country this recently: a trip */

/* coarse - an address of the carrier's pool: the client's network, and
 * located no finer than policy.coarse_km */
static bool coarse(const struct metrics_ctx *c, const struct store_ip *ip,
		   uint64_t key)
{
    return store_net_key(&ip->ip, ip->asn) == key
	&& store_ip_radius(ip) >= c->cfg->policy.coarse_km;
}

/* metrics_same_hub - two addresses located at one place */
bool metrics_same_hub(const struct store_ip *a, const struct store_ip *b)
{
    return a->lat_c == b->lat_c && a->lon_c == b->lon_c
	&& a->lat_c != STORE_NO_LOC;
}

/* hub_known - had the login an address of the pool at ip's hub on a day
 * before today (in its address list, or among its known hubs)? */
static bool hub_known(const struct metrics_ctx *c, const struct store_ip *ip,
		      uint64_t key)
{
    const struct store_user *u = c->user;
    uint32_t today = c->now - c->now % STORE_DAY_S;

    if (ip->lat_c != STORE_NO_LOC
	&& store_user_hub_known(u, store_hub_tag(key, ip->lat_c, ip->lon_c),
				c->now))
	return true;
    for (uint32_t i = 0; i < u->nips; i++)
	if (u->ips[i].first_seen < today && coarse(c, &u->ips[i], key)
	    && metrics_same_hub(&u->ips[i], ip))
	    return true;
    return false;
}

/* sole_hub - the hub a phone kept to (store_user_sole_hub), when the
 * login had mail from the client's network on METRICS_COARSE_SOLE_DAYS
 * earlier days at least; 0 otherwise */
static uint16_t sole_hub(const struct metrics_ctx *c)
{
    const struct store_net *n = metrics_client_net(c);
    uint32_t today = c->now / STORE_DAY_S, days;

    if (n == NULL)
	return 0;
    days = n->days - (n->last_day == today ? 1u : 0u);
    return days >= METRICS_COARSE_SOLE_DAYS
	? store_user_sole_hub(c->user, c->now) : 0;
}

/* metrics_coarse_count - messages from coarse addresses of the client's
 * network within w: the pool's addresses in the login's list, and (for
 * w of an hour or more) those the list dropped in the last 30 to 60
 * minutes (store_user_coarse_gone: a phone, or a proxy pool, takes a new
 * address each connection, and a heavy phone user's list turns over
 * within the hour: its hour, and its usual hour, stopped at a dozen); in *t
 * (may be NULL) also how many of those addresses are at a hub new to the
 * login, how many of the messages came from other hubs than the
 * busiest one, and, for a phone that kept to one hub (sole_hub), from
 * other hubs than that one (the list's share of them, of all the
 * window's) */
uint32_t metrics_coarse_count(const struct metrics_ctx *c, uint32_t w,
			      struct metrics_coarse *t)
{
    const struct store_user *u = c->user;
    uint64_t key = store_net_key(&c->f->client, c->f->geo.asn), parts = 0;
    const struct store_ip *hub[STORE_IPS_MAX];
    uint64_t at[STORE_IPS_MAX], top = 0, r, more, off = 0;
    uint32_t fresh = 0, hubs = 0, i, j;
    uint16_t sole = t != NULL ? sole_hub(c) : 0;

    for (i = 0; i < u->nips; i++) {
	const struct store_ip *ip = &u->ips[i];

	if (!coarse(c, ip, key) || !metrics_in_window(ip->last_seen, c->now, w))
	    continue;
	parts += r = store_ip_recent(ip, c->now, w);
	if (t == NULL)
	    continue;
	if (!hub_known(c, ip, key))
	    fresh++;
	if (sole != 0 && (ip->lat_c == STORE_NO_LOC
			  || store_hub_tag(key, ip->lat_c, ip->lon_c) != sole))
	    off += r;
	for (j = 0; j < hubs && !metrics_same_hub(hub[j], ip); j++)
	    continue;
	if (j == hubs && hubs < STORE_IPS_MAX)
	    hub[hubs] = ip, at[hubs++] = 0;
	if (j < hubs && (at[j] += r) > top)
	    top = at[j];
    }
    more = w >= 3600 && parts != 0
	? (uint64_t) store_user_coarse_gone(u, c->now) * STORE_IP_PARTS : 0;
    if (t != NULL) {
	uint64_t away = parts - top;

	if (more != 0) {
	    away += away * more / parts;	/* at the list's share */
	    off += off * more / parts;
	}
	t->fresh = fresh;
	t->elsewhere = (uint32_t) ((away + STORE_IP_PARTS / 2) / STORE_IP_PARTS);
	t->off = (uint32_t) ((off + STORE_IP_PARTS / 2) / STORE_IP_PARTS);
	t->sole = sole != 0;
    }
    parts += more;
    return (uint32_t) ((parts + STORE_IP_PARTS / 2) / STORE_IP_PARTS);
}

/* surely_count - messages from coarse addresses of the client's network
 * surely within w: every one of an address first seen within it, one of
 * an older address last seen within it. metrics_coarse_count reads an
 * older address's whole day for any window within the day
 * (store_ip_recent), a fair guess for an hour of a phone that takes a
 * new address each connection, but a phone that held one address all
 * morning (a CGNAT session, an IPv6 /64) lent its morning to the pace's
 * 20 minutes (golden carrier_paced_sticky.case: 8 of them in 20m where
 * there were 3). Proxies take a new address each message: counted
 * whole. */
static uint32_t surely_count(const struct metrics_ctx *c, uint32_t w)
{
    const struct store_user *u = c->user;
    uint64_t key = store_net_key(&c->f->client, c->f->geo.asn);
    uint32_t n = 0;

    for (uint32_t i = 0; i < u->nips; i++) {
	const struct store_ip *ip = &u->ips[i];

	if (coarse(c, ip, key)
	    && metrics_in_window(ip->last_seen, c->now, w))
	    n += metrics_ip_surely(ip, c->now, w);
    }
    return n;
}

/* metrics_ip_surely - see metrics.h and surely_count */
uint32_t metrics_ip_surely(const struct store_ip *ip, uint32_t now,
			   uint32_t w)
{
    return metrics_in_window(ip->first_seen, now, w) ? ip->count : 1u;
}

/* metrics_coarse_usual - see metrics.h */
uint32_t metrics_coarse_usual(const struct metrics_ctx *c)
{
    return c->user->usual_coarse > METRICS_COARSE_FLOOR
	? c->user->usual_coarse : METRICS_COARSE_FLOOR;
}

/* metrics_coarse_on_trip - an address of another country than the
 * client's in the last TRIP_S */
bool metrics_coarse_on_trip(const struct metrics_ctx *c)
{
    const struct store_user *u = c->user;
    char cc[3];

    for (uint32_t i = 0; i < u->nips; i++) {
	store_ip_cc(&u->ips[i], cc);
	if (cc[0] != 0 && c->f->geo.cc[0] != 0
	    && memcmp(cc, c->f->geo.cc, 2) != 0
	    && metrics_in_window(u->ips[i].last_seen, c->now, TRIP_S))
	    return true;
    }
    return false;
}

/* metrics_coarse_learner - is the login still learning, judged by
 * carrier-volume all the same: the site past its own first learning
 * period, and one of the login's known hubs (an earlier day's) on the
 * client's network? A login stolen in its first week (tests/sim harsh
 * seed 8: 100 of 100 own-carrier proxies let through) has had its phone
 * for a day or two; a new phone user's first day is not judged. */
bool metrics_coarse_learner(const struct metrics_ctx *c)
{
    const struct store_user *u = c->user;
    uint64_t key;

    if (u == NULL || c->now >= metrics_learning_end(c->cfg, u)
	|| c->site_start == 0
	|| c->now < (uint64_t) c->site_start + c->cfg->policy.learning_s)
	return false;
    key = store_net_key(&c->f->client, c->f->geo.asn);
    for (uint32_t i = 0; i < u->nips; i++)
	if (coarse(c, &u->ips[i], key) && u->ips[i].lat_c != STORE_NO_LOC
	    && store_user_hub_known(u, store_hub_tag(key, u->ips[i].lat_c,
						     u->ips[i].lon_c), c->now))
	    return true;
    return false;
}

/* new_login - a login whose first message came less than
 * METRICS_COARSE_NEW_S ago, or today (its first day: pool_first_hour
 * decides which of its hours), on a
 * site past its own first learning period, judged by carrier-volume with
 * no hour of its own: proxies on a carrier the site knows with the
 * password of a login its owner has not used yet (tests/sim harsh seed
 * 105: the thief's message the login's first, 100 of 100 let through)
 * spread over the carrier's hubs from the start, a new phone keeps to its
 * hub (honest newcomers' first two hours on X, T and N: at most 2
 * messages away from the busiest hub, in 637 logins; 3 and more from the
 * fourth hour, phones whose egress moves). */
static bool new_login(const struct metrics_ctx *c)
{
    const struct store_user *u = c->user;

    return u != NULL && c->site_start != 0
	&& c->now >= (uint64_t) c->site_start + c->cfg->policy.learning_s
	&& (c->now < (uint64_t) u->first_seen + METRICS_COARSE_NEW_S
	    || u->first_seen / STORE_DAY_S == c->now / STORE_DAY_S);
}

/* pool_first_hour - past a new login's first METRICS_COARSE_NEW_S, on
 * its first day, is the window (n messages from the pool) its first hour
 * there: at most METRICS_COARSE_NEW_BEFORE messages from the pool
 * earlier today? A thief who sends one message and waits out the first
 * two hours (tests/sim/mix/probe-wait.mix wait: 100 of 100 let through)
 * comes back to a login whose pool mail is the thief's lead and this
 * hour; so does one that comes hours after the owner's first message
 * from home (pool-late), while an honest new phone whose egress moves
 * later in the day had sent from the pool before (T wide 102 u033, 106
 * u018: 8 and more). Not on a later day: two honest logins of T wide
 * (102 u041, 105 u127) first used their phone on their second day, its
 * first hour 3 of 5-6 messages away, 1 and 2 before. Earlier today
 * is what the login's address list still holds: once a busy pool hour
 * has pushed the earlier addresses out, the hour is judged again (the
 * proxies' held mail does; an honest phone only past 14 of a list of 16) */
static bool pool_first_hour(const struct metrics_ctx *c, uint32_t n)
{
    uint32_t today = c->now % STORE_DAY_S, all;

    if (c->now < (uint64_t) c->user->first_seen + METRICS_COARSE_NEW_S)
	return true;
    all = metrics_coarse_count(c, today != 0 ? today : 1, NULL);
    return all <= n + METRICS_COARSE_NEW_BEFORE;
}

/* metrics_coarse_client - is the client a coarse address of a network
 * the login learned as its own, the login past learning (or a judged
 * learner, or a new login), the network neither pinned nor the site's? */
bool metrics_coarse_client(const struct metrics_ctx *c)
{
    const struct rules_facts *f = c->f;
    uint32_t k = c->cfg->policy.coarse_km;

    return k != 0 && c->user != NULL && f->geo.has_loc && f->geo.acc_km >= k
	&& (c->now >= metrics_learning_end(c->cfg, c->user)
	    || metrics_coarse_learner(c) || new_login(c)) && !c->site
	&& !addr_cidr_list_match(&c->cfg->policy.familiar_networks, &f->client)
	&& metrics_own_network(c, &f->client, f->geo.asn);
}

/* spread - enough of the window's n messages away (from the busiest hub,
 * or from a one-hub phone's hub):
 * METRICS_COARSE_ELSEWHERE and one in METRICS_COARSE_SHARE, or past
 * METRICS_COARSE_BURST times the usual hour METRICS_COARSE_BURST_ELSEWHERE */
static bool spread(uint32_t away, uint32_t n, uint32_t usual)
{
    if (n > METRICS_COARSE_BURST * usual)
	return away >= METRICS_COARSE_BURST_ELSEWHERE;
    return away >= METRICS_COARSE_ELSEWHERE
	&& away * METRICS_COARSE_SHARE >= n;
}

/* near_spread - one message short of spread(): at least
 * METRICS_COARSE_ELSEWHERE - 1 of the window's n away, and one in
 * METRICS_COARSE_SHARE (for an hour at a proxy's pace only) */
static bool near_spread(uint32_t away, uint32_t n)
{
    return away + 1 >= METRICS_COARSE_ELSEWHERE
	&& away * METRICS_COARSE_SHARE >= n;
}

/* known_bar - the bar for an hour whose addresses are all at hubs the
 * login used before: METRICS_COARSE_KNOWN_NUM / METRICS_COARSE_KNOWN_DEN
 * of the usual hour, at least METRICS_COARSE_KNOWN_MIN */
static uint32_t known_bar(uint32_t usual)
{
    uint32_t b = usual * METRICS_COARSE_KNOWN_NUM / METRICS_COARSE_KNOWN_DEN;

    return b >= METRICS_COARSE_KNOWN_MIN ? b : METRICS_COARSE_KNOWN_MIN;
}

/* new_login_hour - a new login's (new_login) n messages in w from the
 * pool, t->elsewhere of them away from the busiest hub: over 1 when at
 * least METRICS_COARSE_ELSEWHERE and one in METRICS_COARSE_SHARE are,
 * whatever the usual hour (the thief's mail would make it); else 0 */
static uint64_t new_login_hour(const struct metrics_ctx *c, uint32_t w,
			       uint32_t n, const struct metrics_coarse *t,
			       char *ev, size_t evlen)
{
    char net[64], win[24];

    if (t->elsewhere < METRICS_COARSE_ELSEWHERE
	|| t->elsewhere * METRICS_COARSE_SHARE < n)
	return 0;
    if (ev != NULL && evlen > 0) {
	metrics_net_text(&c->f->client, c->f->geo.asn, c->f->geo.cc, net,
			 sizeof(net));
	rules_format_duration(w, win, sizeof(win));
	snprintf(ev, evlen, "%u messages in %s from the mobile/coarse "
		 "addresses of its own network %s in the login's first "
		 "hours; %u of them away from its busiest hub", n, win, net,
		 t->elsewhere);
    }
    return n;
}

/* stay_bar - the bar for one address of the pool: METRICS_COARSE_STAY_NUM
 * / METRICS_COARSE_STAY_DEN of the usual hour, at least
 * METRICS_COARSE_STAY_MIN (honest phones' addresses on T and X carried 1
 * or 2 messages; twice the usual hour let 13 through against a usual 6,
 * tests/sim/mix/probe-ownphone.mix seed 201 fast) */
static uint32_t stay_bar(uint32_t usual)
{
    uint32_t b = usual * METRICS_COARSE_STAY_NUM / METRICS_COARSE_STAY_DEN;

    return b >= METRICS_COARSE_STAY_MIN ? b : METRICS_COARSE_STAY_MIN;
}

/* rotating - did most of the login's other anchors on me's network and
 * of me's family carry at most METRICS_COARSE_ROTATE_MAX messages each
 * (its phone takes a new address each connection, as the sets' phones
 * do)? Of me's family only: a dual-stack carrier is one AS for both
 * (store_net_key), its CGNAT gives an IPv4 address a connection while
 * a phone's IPv6 privacy address lasts the day (golden
 * carrier_stay_dual.case xia: her seven IPv4 addresses of one message
 * outvoted her three IPv6 ones of three, and her IPv6 address of the
 * day was held at its tenth message). A
 * carrier whose NAT keeps a phone's address for a session or a day (an
 * owner's busy day from one address: nothing in tests/sim has it) shows
 * in the owner's own addresses there carrying more, and stayed() then
 * leaves the login alone. A majority, not every one: a thief's own
 * address let through on an earlier day does not turn it off. */
static bool rotating(const struct store_user *u, const struct store_ip *me)
{
    uint64_t key = store_net_key(&me->ip, me->asn);
    uint32_t few = 0, more = 0;

    for (uint32_t i = 0; i < u->nips && i < STORE_IPS_MAX; i++) {
	const struct store_ip *x = &u->ips[i];

	if (x == me || !store_ip_anchor(x)
	    || addr_is_v4(&x->ip) != addr_is_v4(&me->ip)
	    || store_net_key(&x->ip, x->asn) != key)
	    continue;
	if (x->count <= METRICS_COARSE_ROTATE_MAX)
	    few++;
	else
	    more++;
    }
    return few > more;
}

/* stayed - the hour not spread over the hubs: the client's own address,
 * on a network that is a carrier's pool for the login (store_ip_pool:
 * its anchors there in STORE_POOL_PREFIXES /24s or /48s, a phone that
 * took a new address each connection), past stay_bar of messages in w:
 * over 1 then, else 0. A thief on one address of the owner's own
 * carrier (tests/sim/mix/probe-ownphone.mix, a proxy kept for the whole
 * run) sends from one hub, so no message is away from the
 * busiest one, and where that hub is the owner's own nothing else judged
 * it: 120 of 120 let through in 3 of 6 seeds; an honest phone's
 * addresses carry one or two messages each. A privacy VPN's exit stays
 * as well, all day, and is no pool: a few exits of one /24 (T and X: 52
 * messages a day from one exit, usual 4-5; X default 10 u085 took four
 * exits on one day, so store_ip_phone's two anchors of a day would
 * have held it). store_ip_recent gives an address first seen before the window all of
 * today's: so for an address that stays the hour is its day */
static uint64_t stayed(const struct metrics_ctx *c, uint32_t w, uint32_t usual,
		       char *ev, size_t evlen)
{
    const struct store_user *u = c->user;
    const struct store_ip *me = metrics_user_ip(c, &c->f->client);
    uint32_t n, bar = stay_bar(usual);
    char net[64], win[24];

    if (me == NULL || !store_ip_pool(u->ips, u->nips, me) || !rotating(u, me))
	return 0;
    n = (uint32_t) ((store_ip_recent(me, c->now, w) + STORE_IP_PARTS / 2)
		    / STORE_IP_PARTS);
    if (n <= bar)
	return 0;
    if (ev != NULL && evlen > 0) {
	metrics_net_text(&c->f->client, c->f->geo.asn, c->f->geo.cc, net,
			 sizeof(net));
	/* store_ip_recent's count for an address first seen before the
	 * window is its day's: say so, not "in 1h" */
	if (me->first_seen < c->now && c->now - me->first_seen >= w)
	    snprintf(win, sizeof(win), "today");
	else {
	    char d[16];

	    rules_format_duration(w, d, sizeof(d));
	    snprintf(win, sizeof(win), "in %s", d);
	}
	snprintf(ev, evlen, "%u messages %s from one address of its own "
		 "carrier's pool %s, where it takes a new address each "
		 "connection; usual <= %u, past %u", n, win, net, usual,
		 bar);
    }
    return n - bar;
}

/* busy_rcpts - the login's recipients in w (every network's, the
 * messages before this one: at MAIL its own are not known yet) past its
 * busiest recipients hour as it stood before today (c->prior_rcpts: the
 * usual hour rises with the mail let through), and at least
 * METRICS_COARSE_RCPTS_PER a message on average; the count in *r.
 * Rotating proxies on the owner's own carrier that draw the owner's hub
 * for most of their first messages (tests/sim harsh.mix own-carrier, X
 * seeds 1 and 8, T 107 and 108: 1-2 of the first 5 away) never spread
 * until the 7th to 9th, and they send 1-5 recipients a message, 10-18
 * in the first 4-5 against a busiest hour of 7-11; a phone's messages
 * go to one mostly. Past the busiest hour alone held honest phones'
 * busy hours (X wide 2, 3, 4, mobile-heavy 6, T mobile-heavy 101, 107:
 * 9 messages, one recipient each against a busiest hour of 3, or a few
 * multi-recipient messages spread over the hour). When fast (the hour
 * at a proxy's pace, see metrics_coarse_messages_over_usual) the
 * recipients a message alone will do: G harsh 160's proxies sent 15 in
 * their first five, 3 a message, against a busiest hour of 17. */
static bool busy_rcpts(const struct metrics_ctx *c, uint32_t w, bool fast,
		       uint64_t *r)
{
    uint64_t m;

    if (c->win == NULL)
	return false;
    *r = store_win_sum(c->win, STORE_RCPTS, c->now, w);
    m = store_win_sum(c->win, STORE_MSGS, c->now, w);	/* this one's too */
    return c->prior_rcpts != 0 && (fast || *r > c->prior_rcpts)
	&& *r >= METRICS_COARSE_RCPTS_PER * (m > 0 ? m - 1 : 0);
}

/* metrics_coarse_messages_over_usual - messages from the pool in w past
 * the login's usual hour there, when one of its addresses is at a hub
 * new to the login and the login is not on a trip; else 0. A usual hour
 * past the floor gets 1 in METRICS_COARSE_SLACK of its excess on top: a
 * heavy phone user (usual 7) sends 9-12 in a busy hour at hubs its known
 * hubs (STORE_HUBS) no longer hold (tests/sim uni6 seed 6 u204, five
 * hubs on earlier days), while every own-carrier victim of harsh.mix has
 * a usual hour of 3 or 4, judged as before. With every address at a hub
 * the login used before, the hour must pass known_bar: proxies on the
 * owner's own carrier against a heavy phone user whose phone had used
 * every hub of the carrier (tests/sim heavy-carrier.mix: 100 of 100
 * delivered) add 20 an hour to the owner's own, while the owner's
 * busiest hours stayed within 1.22 times the busiest before */
uint64_t metrics_coarse_messages_over_usual(const struct metrics_ctx *c,
					    uint32_t w, char *ev, size_t evlen)
{
    struct metrics_coarse t;
    uint32_t n, usual, bar;
    uint64_t rcpts = 0;
    uint32_t sure = 0;
    bool sole = false, busy = false, fast = false;
    char net[64], win[16], why[96];

    if (!metrics_coarse_client(c) || metrics_coarse_on_trip(c))
	return 0;
    n = metrics_coarse_count(c, w, &t);
    if (c->now < metrics_learning_end(c->cfg, c->user)
	&& !metrics_coarse_learner(c))
	return pool_first_hour(c, n) ? new_login_hour(c, w, n, &t, ev, evlen)
	    : 0;
    usual = metrics_coarse_usual(c);
    bar = usual + (usual - METRICS_COARSE_FLOOR) / METRICS_COARSE_SLACK;
    if (t.fresh == 0 && known_bar(usual) > bar)
	bar = known_bar(usual);
    /* at a proxy's pace (fast: twice the usual hour within
     * METRICS_COARSE_PACE_S, the messages surely in it), one sign
     * fewer will do: a one-hub
     * phone's hour away from its hub by one message fewer, the
     * recipients at METRICS_COARSE_RCPTS_PER a message without passing
     * the busiest hour */
    if (t.fresh != 0)
	sure = surely_count(c, METRICS_COARSE_PACE_S);
    fast = t.fresh != 0 && sure >= METRICS_COARSE_PACE_TIMES * usual;
    /* a phone that kept to one hub on earlier days, the hour spread away
     * from it to hubs new to the login: past the usual hour itself (the
     * rule's limit of 1 then gives no slack of one more) */
    if (t.sole && t.fresh != 0
	&& (spread(t.off, n, usual) || (fast && near_spread(t.off, n))))
	bar = usual - 1, sole = true;
    else if (!spread(t.elsewhere, n, usual)) {
	/* not spread over the hubs, but at two or more, one new to the
	 * login, the hour's recipients past its busiest (busy_rcpts), and
	 * past the bar within METRICS_COARSE_PACE_S (proxies send every
	 * few minutes; the honest busy hours above came over 36-59
	 * minutes): judged as spread. Not an hour all at one new hub: a
	 * phone whose egress moved (T campus 103 u201, a student's carrier
	 * abroad: 10 at one new hub, 2-3 recipients each) */
	if (t.fresh == 0 || t.elsewhere == 0
	    || !busy_rcpts(c, w, fast, &rcpts)
	    || metrics_coarse_count(c, METRICS_COARSE_PACE_S, NULL) <= bar)
	    return stayed(c, w, usual, ev, evlen);
	busy = true;
    }
    if (n <= bar)
	return 0;
    if (ev != NULL && evlen > 0) {
	metrics_net_text(&c->f->client, c->f->geo.asn, c->f->geo.cc, net,
			 sizeof(net));
	rules_format_duration(w, win, sizeof(win));
	if (t.fresh != 0)
	    snprintf(why, sizeof(why), "%u addresses at a hub it had none "
		     "at before today", t.fresh);
	else
	    snprintf(why, sizeof(why), "every address at a hub it used "
		     "before, past %u", bar);
	if (fast) {
	    char pw[16];
	    size_t k = strlen(why);

	    rules_format_duration(METRICS_COARSE_PACE_S, pw, sizeof(pw));
	    snprintf(why + k, sizeof(why) - k, "; %u of them in %s", sure,
		     pw);
	}
	char slack[32] = "";

	if (t.fresh != 0 && bar != usual)
	    snprintf(slack, sizeof(slack), " (a heavy sender's: %u)", bar);
	if (sole)
	    snprintf(ev, evlen, "%u messages in %s from the mobile/coarse "
		     "addresses of its own network %s, usual <= %u; %u of them "
		     "away from the one hub it used on earlier days, %s", n,
		     win, net, usual, t.off, why);
	else if (busy && fast)
	    snprintf(ev, evlen, "%u messages in %s from the mobile/coarse "
		     "addresses of its own network %s, usual <= %u%s; %llu "
		     "recipients in %s, %u a message or more; %s", n, win,
		     net, usual, slack, (unsigned long long) rcpts, win,
		     METRICS_COARSE_RCPTS_PER, why);
	else if (busy)
	    snprintf(ev, evlen, "%u messages in %s from the mobile/coarse "
		     "addresses of its own network %s, usual <= %u%s; %llu "
		     "recipients in %s, its busiest hour %u; %s", n, win, net,
		     usual, slack, (unsigned long long) rcpts, win,
		     c->prior_rcpts, why);
	else
	    snprintf(ev, evlen, "%u messages in %s from the mobile/coarse "
		     "addresses of its own network %s, usual <= %u%s; %u of "
		     "them away from its busiest hub, %s", n, win, net, usual,
		     slack, t.elsewhere, why);
    }
    return n - bar;
}
