/*
 * store_client - per client IP state: observe, read, block, reset, walk.
 *
 * Contract: thread-safe; each call locks one stripe of the client table
 * for the time of a short copy. The address and any login are hashed
 * before the lock is taken. Results are copies; in a struct store_client
 * only logins[0..nlogins-1] are written.
 *
 * One observation (store_client_update) marks the client most recently
 * seen, never moves last_seen back, counts messages, recipients and
 * bytes in the windows, and, with a login, records the login's 32-bit
 * keyed hash (store_login_hash32) and when it was last seen from this
 * client: up to STORE_CLIENT_LOGINS distinct logins, a new one replacing
 * the one seen longest ago (not with STORE_OBS_COUNT_ONLY). An expired
 * block is cleared on the way. Units counted for a transaction in flight
 * are noted and given back as for users (store_user.c). With
 * STORE_OBS_VOUCH the client's vouched time becomes now and each day it
 * happens on is counted (vouch_days).
 *
 * The site's networks (store_site_*) are entries of this table under
 * keys in 100::/64 (RFC 6666: discard-only, never a client): 100:: then
 * 'S', the family (4 or 6) and the network's /24 or /48. They are
 * evicted only when no plain client can be (store_table.c evict_victim:
 * then the least recently vouched first) and skipped by
 * store_client_each (store_site_each walks them).
 */
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "store_int.h"

_Static_assert(CFG_SITE_LOGINS_MAX <= STORE_CLIENT_LOGINS,
	       "a site network keeps as many logins as site_logins asks for");

#define EACH_BATCH	64	/* slots copied per lock hold in a walk */
#define SITE_TAG	0x53	/* 'S': byte 8 of a site network's key */
#define SITE_V4		4
#define SITE_V6		6
#define SITE_AS		0x41	/* 'A': an AS number the site's logins use */
#define SITE_CC		0x43	/* 'C': a country the site's logins use */
#define PREFIX_TAG	0x64	/* byte 7 of an IPv6 /64's key */
#define HUB_TAG		0x68	/* byte 7 of a shared egress's key */

/* A client address, its hash and stripe. */
struct client_ref {
    struct addr ip;
    uint64_t h;
    unsigned s;
};

/* client_ref - hash an address */
static int client_ref(const STORE *st, const struct addr *ip,
		      struct client_ref *r)
{
    if (st == NULL || ip == NULL)
	return STORE_EARG;
    r->ip = *ip;
    r->h = store_hash_addr(st, ip);
    r->s = store_stripe_of(r->h);
    return STORE_OK;
}

/* logins_note - note a login hash seen at now in a client's list of n
 * (the entry's or a copy's): its time moved on, or a slot taken (the
 * one seen longest ago when full); the list's new length */
static uint32_t logins_note(struct store_flogin *l, uint32_t n,
			    uint32_t hash, uint32_t now)
{
    struct store_flogin *pick;

    for (uint32_t i = 0; i < n; i++)
	if (l[i].hash == hash) {
	    if (now > l[i].last_seen)
		l[i].last_seen = now;
	    return n;
	}
    if (n < STORE_CLIENT_LOGINS) {
	pick = &l[n++];
    } else {
	pick = &l[0];
	for (uint32_t i = 1; i < n; i++)
	    if (l[i].last_seen < pick->last_seen)
		pick = &l[i];
    }
    pick->hash = hash;
    pick->last_seen = now;
    return n;
}

/* client_login - note a login hash seen from this client */
static void client_login(struct store_crec *c, uint32_t hash, uint32_t now)
{
    uint32_t n = c->l.n < STORE_CLIENT_LOGINS ? c->l.n : STORE_CLIENT_LOGINS;

    c->l.n = (uint8_t) logins_note(c->logins, n, hash, now);
}

/* vouch_time - a vouch at now: the vouched time, and the day counted
 * if it is a new one (an entry's fields or a copy's) */
static void vouch_time(uint32_t *vouched, uint16_t *days, uint16_t *last,
		       uint32_t now)
{
    uint16_t day = (uint16_t) (now / STORE_DAY_S);

    if (now > *vouched)
	*vouched = now;
    if (*days == 0 || day > *last) {
	if (*days < UINT16_MAX)
	    (*days)++;
	*last = day;
    }
}

/* client_vouch - a login from a familiar place of its own came from
 * here: the time, and the day if it is a new one */
static void client_vouch(struct store_crec *c, uint32_t now)
{
    vouch_time(&c->vouched, &c->vouch_days, &c->vouch_day, now);
}

/* store_client_vouch_copy - what a vouch of login (NULL: none, as for
 * a client address, whose update noted the login already) makes of the
 * copy c, as client_login and client_vouch make of the entry; the
 * entry is not touched */
void store_client_vouch_copy(STORE *st, const char *login, uint32_t now,
			     struct store_client *c)
{
    uint32_t n = c->nlogins < STORE_CLIENT_LOGINS ? c->nlogins
	: STORE_CLIENT_LOGINS;

    if (login != NULL && login[0] != '\0')
	c->nlogins = logins_note(c->logins, n,
				 store_login_hash32(st, login), now);
    vouch_time(&c->vouched, &c->vouch_days, &c->vouch_day, now);
}

/* store_client_copy - a slot (live or copied) to the caller's form */
void store_client_copy(const struct store_crec *r, uint32_t now,
		       struct store_client *out)
{
    uint32_t n = r->l.n < STORE_CLIENT_LOGINS ? r->l.n : STORE_CLIENT_LOGINS;

    memset(out, 0, offsetof(struct store_client, logins));
    memcpy(out->ip.b, r->ip, sizeof(out->ip.b));
    out->first_seen = r->l.first_seen;
    out->last_seen = r->l.last_seen;
    store_block_copy(&out->block, &r->block, now);
    out->win = r->win;
    out->vouched = r->vouched;
    out->vouch_days = r->vouch_days;
    out->vouch_day = r->vouch_day;
    out->nlogins = n;
    for (uint32_t i = 0; i < n; i++) {
	out->logins[i].hash = r->logins[i].hash;
	out->logins[i].last_seen = r->logins[i].last_seen;
    }
}

/* store_client_update - apply an observation and copy the result out */
int store_client_update(STORE *st, const struct store_client_obs *obs,
			uint32_t now, struct store_client *out)
{
    struct client_ref r;
    struct store_crec *c;
    uint32_t idx, lh = 0;
    int rc, has_login;

    if (st == NULL || obs == NULL || (st->flags & STORE_READONLY))
	return STORE_EARG;
    if ((rc = client_ref(st, &obs->ip, &r)) != STORE_OK)
	return rc;
    if ((has_login = obs->login != NULL && obs->login[0] != '\0'))
	lh = store_login_hash32(st, obs->login);
    if ((rc = store_entry_lock(st, &st->clients, r.h, r.ip.b,
			       STORE_ENTRY_ADD | STORE_ENTRY_TOUCH, now,
			       &idx)) != STORE_OK)
	return rc;
    c = store_slot(&st->clients, r.s, idx);
    store_link_seen(&c->l, now);
    if (c->block.until != 0 && !store_block_active(&c->block, now))
	memset(&c->block, 0, sizeof(c->block));
    store_win_add(&c->win, now, obs->msgs, obs->rcpts, obs->bytes);
    store_held_note(obs->held, c->l.first_seen, now, obs->msgs, obs->rcpts,
		    obs->bytes);
    if (has_login && !(obs->flags & STORE_OBS_COUNT_ONLY))
	client_login(c, lh, now);
    if (obs->flags & STORE_OBS_VOUCH)
	client_vouch(c, now);
    if (out != NULL)
	store_client_copy(c, now, out);
    store_unlock(&st->clients, r.s);
    return STORE_OK;
}

/* store_client_count - count units at now, note them, copy the windows */
int store_client_count(STORE *st, const struct addr *ip,
		       const struct store_span *d, uint32_t now,
		       struct store_held *held, struct store_win *out)
{
    struct client_ref r;
    struct store_crec *c;
    uint32_t idx;
    int rc;

    if (st == NULL || d == NULL || (st->flags & STORE_READONLY))
	return STORE_EARG;
    if ((rc = client_ref(st, ip, &r)) != STORE_OK
	|| (rc = store_entry_lock(st, &st->clients, r.h, r.ip.b,
				  STORE_ENTRY_ADD | STORE_ENTRY_TOUCH, now,
				  &idx)) != STORE_OK)
	return rc;
    c = store_slot(&st->clients, r.s, idx);
    store_count_locked(&c->l, &c->win, d, now, held, out);
    store_unlock(&st->clients, r.s);
    return STORE_OK;
}

/* store_client_give_back - take back what a transaction counted */
int store_client_give_back(STORE *st, const struct addr *ip,
			   struct store_held *held, uint32_t now)
{
    struct client_ref r = { .h = 0 };
    int ok = st != NULL && client_ref(st, ip, &r) == STORE_OK;

    return store_give_back(st, ok ? &st->clients : NULL, r.h,
			   ok ? r.ip.b : NULL, offsetof(struct store_crec, win),
			   held, now);
}

/* client_copy - store_copy_fn for the client table */
static void client_copy(const STORE *st, const void *slot, uint32_t now,
			void *out)
{
    (void) st;
    store_client_copy(slot, now, out);
}

/* client_op - one action on one client (store_entry_op) */
static int client_op(STORE *st, const struct addr *ip, enum store_act act,
		     const struct store_block *b, uint32_t now,
		     struct store_client *out)
{
    struct client_ref r;
    int rc;

    if ((rc = client_ref(st, ip, &r)) != STORE_OK)
	return rc;
    return store_entry_op(st, &st->clients, r.h, r.ip.b, act, b, now,
			  client_copy, out);
}

/* store_client_get - a copy of one client */
int store_client_get(STORE *st, const struct addr *ip, uint32_t now,
		     struct store_client *out)
{
    if (out == NULL)
	return STORE_EARG;
    return client_op(st, ip, STORE_ACT_GET, NULL, now, out);
}

/* store_client_block - block a client until b->until (created if unknown) */
int store_client_block(STORE *st, const struct addr *ip,
		       const struct store_block *b, uint32_t now)
{
    struct store_block blk;

    memset(&blk, 0, sizeof(blk));
    if (store_block_set(&blk, b, now) != STORE_OK)
	return STORE_EARG;
    return client_op(st, ip, STORE_ACT_BLOCK, &blk, now, NULL);
}

/* store_client_unblock - lift a client's block */
int store_client_unblock(STORE *st, const struct addr *ip, uint32_t now)
{
    return client_op(st, ip, STORE_ACT_UNBLOCK, NULL, now, NULL);
}

/* store_client_unblock_if - lift a client's block if it is still *was */
int store_client_unblock_if(STORE *st, const struct addr *ip,
			    const struct store_block *was, uint32_t now)
{
    if (was == NULL)
	return STORE_EARG;
    return client_op(st, ip, STORE_ACT_UNBLOCK, was, now, NULL);
}

/* store_client_reset - forget a client entirely */
int store_client_reset(STORE *st, const struct addr *ip, uint32_t now)
{
    return client_op(st, ip, STORE_ACT_RESET, NULL, now, NULL);
}

/* A walk over the clients: the caller's callback and the view it gets. */
struct client_walk {
    uint32_t now;
    store_client_fn fn;
    void *ctx;
    struct store_client *c;
    bool site;			/* the site's entries, not the clients */
};

/* client_visit - one copied slot to the caller, as a struct store_client */
static int client_visit(const void *slot, void *arg)
{
    struct client_walk *w = arg;
    struct addr k;

    memcpy(k.b, ((const struct store_crec *) slot)->ip, sizeof(k.b));
    if (w->site ? !store_site_is_key(&k)
	: store_site_is_key(&k) || store_prefix_is_key(&k)
	|| store_hub_is_key(&k))
	return 0;		/* a site entry, a /64 or a hub is no client */

    store_client_copy(slot, w->now, w->c);
    return w->fn(w->c, w->ctx);
}

/* client_walk_run - a walk of the client table's entries of one kind */
static int client_walk_run(STORE *st, struct client_walk *w)
{
    int rc;

    if (st == NULL || w->fn == NULL)
	return STORE_EARG;
    if ((w->c = malloc(sizeof(*w->c))) == NULL)
	return STORE_EIO;
    rc = store_entry_each(st, &st->clients, EACH_BATCH, client_visit, w);
    free(w->c);
    return rc;
}

/* store_client_each - call fn on a copy of every client; fn nonzero stops */
int store_client_each(STORE *st, uint32_t now, store_client_fn fn, void *ctx)
{
    struct client_walk w = { now, fn, ctx, NULL, false };

    return client_walk_run(st, &w);
}

/* store_site_each - call fn on a copy of every site network and place */
int store_site_each(STORE *st, uint32_t now, store_client_fn fn, void *ctx)
{
    struct client_walk w = { now, fn, ctx, NULL, true };

    return client_walk_run(st, &w);
}

/* store_site_key - the key of an address's network in the client table */
void store_site_key(const struct addr *ip, struct addr *key)
{
    memset(key, 0, sizeof(*key));
    key->b[0] = 0x01;		/* 100::/64 */
    key->b[8] = SITE_TAG;
    if (addr_is_v4(ip)) {
	key->b[9] = SITE_V4;
	memcpy(&key->b[10], &ip->b[12], 3);	/* the /24 */
    } else {
	key->b[9] = SITE_V6;
	memcpy(&key->b[10], ip->b, 6);	/* the /48 */
    }
}

/* zeros - are p[0..n) all zero? */
static bool zeros(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
	if (p[i] != 0)
	    return false;
    return true;
}

/* capital - an ASCII capital letter (a country code's) */
static bool capital(uint8_t c)
{
    return c >= 'A' && c <= 'Z';
}

/* store_site_is_key - is a client key one of a site network or place:
 * exactly what store_site_key or store_site_place_key make (a damaged
 * or forged snapshot's or state file's key with bytes after the /24 or
 * the place's id, a country not of two capitals or an AS number 0 names
 * no entry: taken for one, it stayed for ever, kept by eviction, and
 * relayguardctl sites listed it as another's twin) */
int store_site_is_key(const struct addr *key)
{
    const uint8_t *b = key->b;

    if (b[0] != 0x01 || !zeros(b + 1, 7) || b[8] != SITE_TAG)
	return 0;
    switch (b[9]) {
    case SITE_V4:
	return zeros(b + 13, 3);	/* the /24 in 10..12 */
    case SITE_V6:
	return 1;		/* the /48 fills 10..15 */
    case SITE_AS:
	return zeros(b + 14, 2) && !zeros(b + 10, 4);
    case SITE_CC:
	return zeros(b + 10, 2) && capital(b[12]) && capital(b[13])
	    && zeros(b + 14, 2);
    default:
	return 0;
    }
}

/* store_client_kept - is a live client slot one of the site's entries? */
int store_client_kept(const void *slot)
{
    struct addr k;

    memcpy(k.b, ((const struct store_crec *) slot)->ip, sizeof(k.b));
    return store_site_is_key(&k);
}

/* store_site_place_key - the key of a site place (an AS number or a
 * country, kind STORE_SITE_AS or STORE_SITE_CC) in the client table: the
 * site networks' key with the kind in the family's byte, the id big
 * endian after it */
void store_site_place_key(enum store_site_kind kind, uint32_t id,
			  struct addr *key)
{
    memset(key, 0, sizeof(*key));
    key->b[0] = 0x01;		/* 100::/64 */
    key->b[8] = SITE_TAG;
    key->b[9] = kind == STORE_SITE_AS ? SITE_AS : SITE_CC;
    key->b[10] = (uint8_t) (id >> 24), key->b[11] = (uint8_t) (id >> 16);
    key->b[12] = (uint8_t) (id >> 8), key->b[13] = (uint8_t) id;
}

/* store_site_ref - what a site entry's key names: a network (its first
 * address and prefix length) or a place (its kind and id) */
int store_site_ref(const struct addr *key, struct store_site_ref *out)
{
    static const uint8_t v4_head[12] = {[10] = 0xff, [11] = 0xff};

    if (key == NULL || out == NULL || !store_site_is_key(key))
	return STORE_EARG;
    memset(out, 0, sizeof(*out));
    switch (key->b[9]) {
    case SITE_V4:
	out->net = true;
	out->bits = ADDR_V4_PREFIX;
	memcpy(out->ip.b, v4_head, sizeof(v4_head));
	memcpy(&out->ip.b[12], &key->b[10], 3);
	break;
    case SITE_V6:
	out->net = true;
	out->bits = ADDR_V6_PREFIX;
	memcpy(out->ip.b, &key->b[10], 6);
	break;
    default:
	out->kind = key->b[9] == SITE_AS ? STORE_SITE_AS : STORE_SITE_CC;
	out->id = (uint32_t) key->b[10] << 24 | (uint32_t) key->b[11] << 16
	    | (uint32_t) key->b[12] << 8 | key->b[13];
    }
    return STORE_OK;
}

/* store_site_place - a login vouches for a site place (vouch) or only
 * reads it; copied out when out is not NULL */
int store_site_place(STORE *st, enum store_site_kind kind, uint32_t id,
		     const char *login, bool vouch, uint32_t now,
		     struct store_client *out)
{
    struct store_client_obs o;

    if (id == 0 || (vouch && (login == NULL || login[0] == '\0')))
	return STORE_EARG;
    memset(&o, 0, sizeof(o));
    store_site_place_key(kind, id, &o.ip);
    if (!store_site_is_key(&o.ip))
	return STORE_EARG;	/* no place: a country not two capitals */
    if (!vouch)
	return store_client_get(st, &o.ip, now, out);
    o.login = login;
    o.flags = STORE_OBS_VOUCH;
    return store_client_update(st, &o, now, out);
}

/* store_prefix_key - the key of an IPv6 address's /64 in the client
 * table: 100:0:0:64::/64 (IETF reserved, never a client) with the /64's
 * 64 bits in the low half */
void store_prefix_key(const struct addr *ip, struct addr *key)
{
    memset(key, 0, sizeof(*key));
    key->b[0] = 0x01;
    key->b[7] = PREFIX_TAG;
    memcpy(&key->b[8], ip->b, 8);
}

/* store_prefix_is_key - is a client key one of an IPv6 /64? */
int store_prefix_is_key(const struct addr *key)
{
    static const uint8_t head[8] = {0x01, 0, 0, 0, 0, 0, 0, PREFIX_TAG};

    return memcmp(key->b, head, sizeof(head)) == 0;
}

/* store_prefix_note - login came from an address of ip's /64 (IPv6);
 * copied out when out is not NULL */
int store_prefix_note(STORE *st, const struct addr *ip, const char *login,
		      uint32_t now, struct store_client *out)
{
    struct store_client_obs o;

    if (ip == NULL || login == NULL || login[0] == '\0' || addr_is_v4(ip))
	return STORE_EARG;
    memset(&o, 0, sizeof(o));
    store_prefix_key(ip, &o.ip);
    o.login = login;
    return store_client_update(st, &o, now, out);
}

/* store_site_vouch - a login vouches for the network of ip */
int store_site_vouch(STORE *st, const struct addr *ip, const char *login,
		     uint32_t now, struct store_client *out)
{
    struct store_client_obs o;

    if (ip == NULL || login == NULL || login[0] == '\0')
	return STORE_EARG;
    memset(&o, 0, sizeof(o));
    store_site_key(ip, &o.ip);
    o.login = login;
    o.flags = STORE_OBS_VOUCH;
    return store_client_update(st, &o, now, out);
}

/* store_site_get - a copy of the entry of ip's network */
int store_site_get(STORE *st, const struct addr *ip, uint32_t now,
		   struct store_client *out)
{
    struct addr key;

    if (ip == NULL)
	return STORE_EARG;
    store_site_key(ip, &key);
    return store_client_get(st, &key, now, out);
}

/* store_hub_key - the key of a shared egress (AS number and located
 * place) in the client table: 100:0:0:68::/64 (IETF reserved, never a
 * client) with the AS number, latitude and longitude big endian in the
 * low half */
void store_hub_key(uint32_t asn, int16_t lat_c, int16_t lon_c,
		   struct addr *key)
{
    uint16_t la = (uint16_t) lat_c, lo = (uint16_t) lon_c;

    memset(key, 0, sizeof(*key));
    key->b[0] = 0x01;
    key->b[7] = HUB_TAG;
    key->b[8] = (uint8_t) (asn >> 24), key->b[9] = (uint8_t) (asn >> 16);
    key->b[10] = (uint8_t) (asn >> 8), key->b[11] = (uint8_t) asn;
    key->b[12] = (uint8_t) (la >> 8), key->b[13] = (uint8_t) la;
    key->b[14] = (uint8_t) (lo >> 8), key->b[15] = (uint8_t) lo;
}

/* store_hub_is_key - is a client key one of a shared egress? */
int store_hub_is_key(const struct addr *key)
{
    static const uint8_t head[8] = {0x01, 0, 0, 0, 0, 0, 0, HUB_TAG};

    return memcmp(key->b, head, sizeof(head)) == 0;
}

/* store_hub_note - login came from a shared egress's place; copied out
 * when out is not NULL */
int store_hub_note(STORE *st, uint32_t asn, int16_t lat_c, int16_t lon_c,
		   const char *login, uint32_t now, struct store_client *out)
{
    struct store_client_obs o;

    if (asn == 0 || login == NULL || login[0] == '\0')
	return STORE_EARG;
    memset(&o, 0, sizeof(o));
    store_hub_key(asn, lat_c, lon_c, &o.ip);
    o.login = login;
    return store_client_update(st, &o, now, out);
}

/* store_hub_get - a copy of a shared egress's entry */
int store_hub_get(STORE *st, uint32_t asn, int16_t lat_c, int16_t lon_c,
		  uint32_t now, struct store_client *out)
{
    struct addr key;

    if (asn == 0)
	return STORE_EARG;
    store_hub_key(asn, lat_c, lon_c, &key);
    return store_client_get(st, &key, now, out);
}
