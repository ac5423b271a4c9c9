/*
 * store_carrier - a login's usual hour on its carriers' coarse addresses.
 *
 * A phone on a carrier's CGNAT pool gets a new address each connection,
 * located to a hub city only; mobile proxies on the same carrier look
 * the same, and only their rate tells them apart (tests/sim harsh.mix
 * own-carrier). The login's busiest hour of messages from such addresses
 * (metrics_carrier.c counts them) lives in spare bytes of format 7: the
 * aux byte of nets[STORE_COARSE_HOUR] (the hour, saturating at 255) and
 * of nets[STORE_COARSE_DAY] (the low byte of the day number it last rose
 * on). Files written before read 0 there: not learned yet, the metric's
 * floor stands in. While the login learns the usual hour rises at once;
 * afterwards by one a day at most, so an attacker whose messages are let
 * through does not carry the baseline up with him.
 *
 * The pool's messages are counted from the login's address list
 * (store_coarse_count): by metrics_carrier.c on a copy, and here on the
 * live slot at the end of a message let through (STORE_OBS_COARSE), in
 * the same locked update that learns its country and usual day, and
 * only while none of the hour's addresses is at a hub new to the login
 * (an attacker's mail let through must not teach) unless it learns.
 */
#include "store_int.h"


_Static_assert(STORE_COARSE_HOUR < STORE_NETS && STORE_COARSE_DAY < STORE_NETS
	       && STORE_COARSE_HOUR != STORE_USUAL_DAY_LO
	       && STORE_COARSE_HOUR != STORE_USUAL_DAY_HI
	       && STORE_COARSE_DAY != STORE_USUAL_DAY_LO
	       && STORE_COARSE_DAY != STORE_USUAL_DAY_HI
	       && STORE_COARSE_HOUR != STORE_COARSE_DAY, "spare bytes in use");

/* store_urec_coarse_hour - the login's usual coarse hour (0: none yet) */
uint8_t store_urec_coarse_hour(const struct store_urec *u)
{
    return u->nets[STORE_COARSE_HOUR].aux;
}

/* coarse_raise - count raises the usual coarse hour: to count while
 * learning, else by one on a day it has not risen yet */
static void coarse_raise(struct store_urec *u, uint32_t count, bool learning,
			 uint32_t now)
{
    uint8_t *hour = &u->nets[STORE_COARSE_HOUR].aux;
    uint8_t *day = &u->nets[STORE_COARSE_DAY].aux;
    uint8_t today = (uint8_t) (now / STORE_DAY_S & 0xff);

    if (count > UINT8_MAX)
	count = UINT8_MAX;
    if (count <= *hour)
	return;
    if (learning) {
	*hour = (uint8_t) count;
	return;
    }
    if (*day == today && *hour != 0)
	return;
    *hour = (uint8_t) (*hour + 1);
    *day = today;
}

/* in_window - a sighting at t inside the last w seconds before now (as
 * metrics_in_window) */
static bool in_window(uint32_t t, uint32_t now, uint32_t w)
{
    return t >= now || now - t < w;
}

/* coarse_ip - an address of the pool: network key, and located no finer
 * than km */
static bool coarse_ip(const struct store_ip *ip, uint64_t key, uint32_t km)
{
    return store_net_key(&ip->ip, ip->asn) == key
	&& store_ip_radius(ip) >= km;
}

/* same_hub - two addresses located at one place */
static bool same_hub(const struct store_ip *a, const struct store_ip *b)
{
    return a->lat_c == b->lat_c && a->lon_c == b->lon_c
	&& a->lat_c != STORE_NO_LOC;
}

/* hub_known - had the list an address of the pool at ip's hub on a day
 * before now's? */
static bool hub_known(const struct store_ip *ips, uint32_t n,
		      const struct store_ip *ip, uint64_t key, uint32_t km,
		      uint32_t now)
{
    uint32_t today = now - now % STORE_DAY_S;

    for (uint32_t i = 0; i < n; i++)
	if (ips[i].first_seen < today && coarse_ip(&ips[i], key, km)
	    && same_hub(&ips[i], ip))
	    return true;
    return false;
}

/* store_coarse_count - the pool's messages within w in an address list
 * (store.h) */
uint32_t store_coarse_count(const struct store_ip *ips, uint32_t n,
			    uint64_t key, uint32_t km, uint32_t now,
			    uint32_t w, struct store_coarse *t)
{
    const struct store_ip *hub[STORE_IPS_MAX];
    uint64_t at[STORE_IPS_MAX], top = 0, parts = 0, r;
    uint32_t fresh = 0, hubs = 0, i, j;

    for (i = 0; i < n; i++) {
	const struct store_ip *ip = &ips[i];

	if (!coarse_ip(ip, key, km) || !in_window(ip->last_seen, now, w))
	    continue;
	parts += r = store_ip_recent(ip, now, w);
	if (t == NULL)
	    continue;
	if (!hub_known(ips, n, ip, key, km, now))
	    fresh++;
	for (j = 0; j < hubs && !same_hub(hub[j], ip); j++)
	    continue;
	if (j == hubs && hubs < STORE_IPS_MAX)
	    hub[hubs] = ip, at[hubs++] = 0;
	if (j < hubs && (at[j] += r) > top)
	    top = at[j];
    }
    if (t != NULL) {
	t->fresh = fresh;
	t->elsewhere = (uint32_t) ((parts - top + STORE_IP_PARTS / 2)
				   / STORE_IP_PARTS);
    }
    return (uint32_t) ((parts + STORE_IP_PARTS / 2) / STORE_IP_PARTS);
}

/* store_urec_coarse_learn - STORE_OBS_COARSE on the live slot: the
 * pool's messages in the window (this one included) may raise the usual
 * coarse hour; past learning only while no address of them is at a new
 * hub */
void store_urec_coarse_learn(const STORE *st, struct store_urec *u,
			     const struct store_user_obs *obs, uint32_t now)
{
    const struct store_coarse_learn *k = &obs->coarse;
    uint32_t n = u->l.n < st->ips_per_user ? u->l.n : st->ips_per_user;
    struct store_coarse t;
    uint32_t count = store_coarse_count(u->ips, n,
					store_net_key(&obs->ip, obs->geo.asn),
					k->km, now, k->window_s, &t);
    bool learning = now < (uint64_t) u->l.first_seen + k->learning_s;

    if (learning || t.fresh == 0)
	coarse_raise(u, count, learning, now);
}

/* store_user_coarse_learn - an accepted message from a coarse address of
 * the login's own network: count (messages from such addresses in the
 * last hour, this one included) may raise its usual coarse hour */
int store_user_coarse_learn(STORE *st, const char *login, uint32_t count,
			    bool learning, uint32_t now)
{
    char key[STORE_LOGIN_MAX];
    size_t len;
    uint64_t h;
    uint32_t idx;
    unsigned s;
    int rc;

    if (st == NULL || login == NULL || (st->flags & STORE_READONLY))
	return STORE_EARG;
    h = store_login_ref(st, login, key, &len);
    if (len == 0)
	return STORE_EARG;
    s = store_stripe_of(h);
    if ((rc = store_entry_lock(st, &st->users, h, key, 0, now, &idx))
	!= STORE_OK)
	return rc;
    coarse_raise(store_slot(&st->users, s, idx), count, learning, now);
    store_unlock(&st->users, s);
    return STORE_OK;
}
