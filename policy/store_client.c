/*
 * store_client - per client IP state: observe, read, block, reset, walk.
 *
 * Contract: thread-safe; each call locks one stripe of the client table
 * for the time of a short copy. The address and any login are hashed
 * before the lock is taken. Results are copies; in a struct store_client
 * only logins[0..nlogins-1] are written.
 *
 * One observation (store_client_update) moves the client to the head of
 * the LRU, never moves last_seen back, counts messages, recipients and
 * bytes in the windows, and, with a login, records the login's 32-bit
 * keyed hash (store_login_hash32) and when it was last seen from this
 * client: up to STORE_CLIENT_LOGINS distinct logins, a new one replacing
 * the one seen longest ago (not with STORE_OBS_COUNT_ONLY). An expired
 * block is cleared on the way.
 */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

#define EACH_BATCH	64	/* slots copied per lock hold in a walk */

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

/* client_login - note a login hash seen from this client */
static void client_login(struct store_crec *c, uint32_t hash, uint32_t now)
{
    uint32_t n = c->l.n < STORE_CLIENT_LOGINS ? c->l.n : STORE_CLIENT_LOGINS;
    struct store_flogin *pick;

    for (uint32_t i = 0; i < n; i++)
	if (c->logins[i].hash == hash) {
	    if (now > c->logins[i].last_seen)
		c->logins[i].last_seen = now;
	    return;
	}
    if (n < STORE_CLIENT_LOGINS) {
	pick = &c->logins[n++];
    } else {
	pick = &c->logins[0];
	for (uint32_t i = 1; i < n; i++)
	    if (c->logins[i].last_seen < pick->last_seen)
		pick = &c->logins[i];
    }
    pick->hash = hash;
    pick->last_seen = now;
    c->l.n = (uint8_t) n;
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
    store_prefetch(&st->clients, r.h);
    if ((rc = store_lock(st, &st->clients, r.s)) != STORE_OK)
	return rc;
    rc = store_find(st, &st->clients, r.s, r.h, r.ip.b, &idx);
    if (rc == STORE_OK)
	rc = idx == 0 ? store_insert(st, &st->clients, r.s, r.h, r.ip.b, now,
				     &idx)
	    : store_touch(st, &st->clients, r.s, idx);
    if (rc == STORE_OK) {
	c = store_slot(&st->clients, r.s, idx);
	if (now > c->l.last_seen)
	    c->l.last_seen = now;
	if (c->block.until != 0 && !store_block_active(&c->block, now))
	    memset(&c->block, 0, sizeof(c->block));
	store_win_add(&c->win, now, obs->msgs, obs->rcpts, obs->bytes);
	if (has_login && !(obs->flags & STORE_OBS_COUNT_ONLY))
	    client_login(c, lh, now);
	if (out != NULL)
	    store_client_copy(c, now, out);
    }
    store_unlock(&st->clients, r.s);
    return rc;
}

enum client_act { CLIENT_GET, CLIENT_BLOCK, CLIENT_UNBLOCK, CLIENT_RESET };

/* client_op - find a client under its stripe lock and apply one action */
static int client_op(STORE *st, const struct addr *ip, enum client_act act,
		     const struct store_block *b, uint32_t now,
		     struct store_client *out)
{
    struct client_ref r;
    uint32_t idx;
    int rc;

    if ((rc = client_ref(st, ip, &r)) != STORE_OK)
	return rc;
    if (act != CLIENT_GET && (st->flags & STORE_READONLY))
	return STORE_EARG;
    store_prefetch(&st->clients, r.h);
    if ((rc = store_lock(st, &st->clients, r.s)) != STORE_OK)
	return rc;
    rc = store_find(st, &st->clients, r.s, r.h, r.ip.b, &idx);
    if (rc == STORE_OK && idx == 0 && act == CLIENT_BLOCK)
	rc = store_insert(st, &st->clients, r.s, r.h, r.ip.b, now, &idx);
    if (rc == STORE_OK && idx == 0)
	rc = STORE_NOTFOUND;
    if (rc == STORE_OK) {
	struct store_crec *c = store_slot(&st->clients, r.s, idx);

	if (act == CLIENT_GET)
	    store_client_copy(c, now, out);
	else if (act == CLIENT_BLOCK)
	    c->block = *b;
	else if (act == CLIENT_UNBLOCK)
	    memset(&c->block, 0, sizeof(c->block));
	else
	    rc = store_remove(st, &st->clients, r.s, idx);
    }
    store_unlock(&st->clients, r.s);
    return rc;
}

/* store_client_get - a copy of one client */
int store_client_get(STORE *st, const struct addr *ip, uint32_t now,
		     struct store_client *out)
{
    if (out == NULL)
	return STORE_EARG;
    return client_op(st, ip, CLIENT_GET, NULL, now, out);
}

/* store_client_block - block a client until b->until (created if unknown) */
int store_client_block(STORE *st, const struct addr *ip,
		       const struct store_block *b, uint32_t now)
{
    struct store_block blk;

    memset(&blk, 0, sizeof(blk));
    if (store_block_set(&blk, b, now) != STORE_OK)
	return STORE_EARG;
    return client_op(st, ip, CLIENT_BLOCK, &blk, now, NULL);
}

/* store_client_unblock - lift a client's block */
int store_client_unblock(STORE *st, const struct addr *ip, uint32_t now)
{
    return client_op(st, ip, CLIENT_UNBLOCK, NULL, now, NULL);
}

/* store_client_reset - forget a client entirely */
int store_client_reset(STORE *st, const struct addr *ip, uint32_t now)
{
    return client_op(st, ip, CLIENT_RESET, NULL, now, NULL);
}

/* client_batch - copy up to EACH_BATCH live slots from *next on */
static int client_batch(STORE *st, unsigned s, uint32_t *next,
			struct store_crec *buf, unsigned *n)
{
    struct store_tab *t = &st->clients;
    uint32_t high;
    int rc;

    *n = 0;
    if ((rc = store_lock(st, t, s)) != STORE_OK)
	return rc;
    high = t->stripes[s].high < t->cap ? t->stripes[s].high : t->cap;
    for (; *next <= high && *n < EACH_BATCH; (*next)++) {
	const struct store_crec *c = store_slot(t, s, *next);

	if (c->l.flags & STORE_F_USED)
	    buf[(*n)++] = *c;
    }
    if (*next > high)
	*next = 0;
    store_unlock(t, s);
    return STORE_OK;
}

/* store_client_each - call fn on a copy of every client; fn nonzero stops */
int store_client_each(STORE *st, uint32_t now, store_client_fn fn, void *ctx)
{
    struct store_crec *buf;
    struct store_client *c;
    int rc = STORE_OK, stop = 0;

    if (st == NULL || fn == NULL)
	return STORE_EARG;
    buf = malloc(EACH_BATCH * sizeof(*buf));
    c = malloc(sizeof(*c));
    if (buf == NULL || c == NULL)
	rc = STORE_EIO;
    for (unsigned s = 0; rc == STORE_OK && !stop && s < STORE_STRIPES; s++) {
	uint32_t next = 1;
	unsigned n;

	while (rc == STORE_OK && !stop && next != 0) {
	    rc = client_batch(st, s, &next, buf, &n);
	    for (unsigned i = 0; rc == STORE_OK && !stop && i < n; i++) {
		store_client_copy(&buf[i], now, c);
		stop = fn(c, ctx) != 0;
	    }
	}
    }
    free(c);
    free(buf);
    return rc;
}
