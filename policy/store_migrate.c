/*
 * store_migrate - carry the entries of an old state file into a new one:
 * when the configured capacities changed (a resize) and when the old
 * file's header is invalid but its layout can still be read (a salvage).
 *
 * Contract: store_migrate fills a new, unpublished file (nobody else can
 * see it yet) from a source handle mapped on the old file, and counts
 * what it kept and lost in the caller's struct store_open_info. Blocks
 * go first: entries with a block in force at "now", and the site's
 * networks and places (t->kept, which eviction keeps too), are carried
 * in a pass of their own before all others, so a smaller file keeps
 * every block and site entry it can hold; an entry that finds its new
 * stripe full is lost, never evicting one carried before it. Nothing
 * here logs.
 *
 * A valid source (a resize) is walked under its stripe locks
 * (store_entry_each), as other processes of this host may still write
 * it. A salvaged source is walked without locks and every slot up to
 * the capacity, whatever the damaged stripe headers say; each slot is
 * copied out first and then checked as untrusted input: exactly "in
 * use", a key that can be one (a login of printable bytes, NUL padded;
 * an address that is not all zeros), its counts bounded and a block of
 * an unknown kind dropped. A key found twice is carried once.
 *
 * A file of format 7 (the one before ext) is salvaged the same way: its
 * header says a version this build does not attach, and each user slot
 * is widened to format 8 before it is checked (widen7): every
 * byte kept, the ext bytes zero ("not learned").
 *
 * A site entry's times ahead of "now" (its logins', its vouched time
 * and day: written with the clock ahead, or damaged) are carried as
 * "now", as a snapshot's are restored (site_ahead).
 *
 * The new file keeps the old one's hash key, so the keyed login hashes
 * kept per client stay comparable; every entry is placed anew by its
 * key's hash under the new capacities.
 *
 * store_user_restore and store_client_restore put back what a snapshot
 * kept of an entry (policy/snapshot.c): its first-seen time (the earlier
 * one wins; an entry the snapshot kept unseen, first seen 0, blocked
 * before it came, is created unseen), the learned countries, networks and usual volume (only
 * into an entry that has none)
 * and a block still in force (only where none is). Windows and
 * addresses are not kept by a snapshot. store_client_restore of a site
 * network or place (a site key) puts back its first/last seen as a
 * client's, and its vouching logins (their keyed hashes and times) and
 * vouch days only into an entry that has none yet, a login once. A
 * snapshot of format 6 hands over each login the snapshot has a user
 * record of hashed with this file's key (snapshot.c), so a login that
 * vouched before the loss and vouches again after it finds its slot.
 * Any other keeps the lost file's hash, which no login of the new file
 * has: it counts toward site_logins until it leaves the window
 * (METRICS_SITE_WINDOW_S) or is replaced, as every hash of a format 5
 * snapshot does; a login among them that vouches again holds a second
 * slot meanwhile.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

#define MIGRATE_BATCH 32	/* slots copied per lock hold */
#define PASS_BLOCKED 0
#define PASS_REST 1

struct carry {
    STORE *dst;
    struct store_tab *dt;
    const struct store_tab *srct;
    uint32_t now, src_ips;
    int pass;
    struct store_carry *count;
    int from7;			/* user slots of format 7: widened first */
    size_t len;			/* bytes of a slot in buf, widened */
    unsigned char *buf;		/* one source slot, checked in place */
};

/* block_live - a block that still counts (now 0: any block) */
static int block_live(const struct store_block *b, uint32_t now)
{
    return b->until != 0 && (now == 0 || now < b->until);
}

/* login_ok - a NUL padded login of printable bytes; pads it anew */
static int login_ok(unsigned char *key)
{
    size_t n = 0;

    while (n < STORE_LOGIN_MAX && key[n] != 0) {
	if (key[n] < 0x20 || key[n] == 0x7f)
	    return 0;
	n++;
    }
    if (n == 0 || n == STORE_LOGIN_MAX)
	return 0;
    memset(key + n, 0, STORE_LOGIN_MAX - n);
    return 1;
}

/* slot_ok - is a copied slot a plausible live entry? 1 yes (its counts
 * bounded), 0 not an entry, -1 an entry whose key cannot be one */
static int slot_ok(const struct carry *c, unsigned char *slot)
{
    struct store_link *l = (struct store_link *) (void *) slot;
    const struct store_tab *t = c->srct;
    struct store_block *b = (struct store_block *) (void *)
	(slot + t->block_off);
    static const unsigned char zero[16];

    if (l->flags != STORE_F_USED)
	return 0;
    if (t->is_user ? !login_ok(slot + t->koff)
	: memcmp(slot + t->koff, zero, sizeof(zero)) == 0)
	return -1;
    if (b->setby > STORE_BY_ADMIN || b->setby == STORE_BY_NONE)
	memset(b, 0, sizeof(*b));
    if (t->is_user && l->n > c->src_ips)
	l->n = (uint8_t) c->src_ips;
    if (!t->is_user && l->n > STORE_CLIENT_LOGINS)
	l->n = STORE_CLIENT_LOGINS;
    return 1;
}

/* site_ahead - a carried site entry's times ahead of now (written with
 * the clock ahead, or damaged) at now, as store_client_restore puts a
 * snapshot's: kept, a login vouched until that time came */
static void site_ahead(struct store_crec *r, uint32_t now)
{
    uint16_t today = (uint16_t) (now / STORE_DAY_S);

    for (uint32_t i = 0; i < r->l.n && i < STORE_CLIENT_LOGINS; i++)
	if (r->logins[i].last_seen > now)
	    r->logins[i].last_seen = now;
    if (r->vouched > now)
	r->vouched = now;
    if (r->vouch_day > today)
	r->vouch_day = today;
}

/* place - insert the checked slot's key into the new file and copy the
 * entry; 1 kept, 0 lost (stripe full), -1 already there */
static int place(struct carry *c, const unsigned char *slot)
{
    const struct store_link *sl = (const void *) slot;
    struct store_tab *t = c->dt;
    const void *key = slot + t->koff;
    uint64_t h = t->is_user
	? store_siphash(c->dst->key, key, strnlen((const char *) key, t->klen))
	: store_siphash(c->dst->key, key, t->klen);
    unsigned s = store_stripe_of(h);
    uint32_t idx, before = t->stripes[s].count, ips = c->dst->ips_per_user;
    size_t body = sizeof(struct store_link);
    size_t len = (c->len < t->stride ? c->len : t->stride);
    struct store_link *dl;

    if (before >= t->cap)
	return 0;
    if (store_entry_lock(c->dst, t, h, key, STORE_ENTRY_ADD, c->now, &idx)
	!= STORE_OK)
	return 0;
    if (t->stripes[s].count == before) {
	store_unlock(t, s);
	return -1;
    }
    dl = store_slot(t, s, idx);
    memcpy((unsigned char *) dl + body, slot + body, len - body);
    dl->first_seen = sl->first_seen;
    dl->last_seen = sl->last_seen;
    dl->n = t->is_user && sl->n > ips ? (uint8_t) ips : sl->n;
    if (t->kept != NULL && t->kept(dl) && c->now != 0)
	site_ahead((struct store_crec *) dl, c->now);
    store_unlock(t, s);
    return 1;
}

/* widen7 - a format-7 user slot of stride7 bytes in buf made
 * the format-8 one: the bytes from ext on move up by STORE_EXT_LEN, ext
 * is zeros (store_int.h: nothing else moves); buf holds stride7 +
 * STORE_EXT_LEN bytes */
static void widen7(unsigned char *buf, size_t stride7)
{
    size_t at = offsetof(struct store_urec, ext);

    memmove(buf + at + STORE_EXT_LEN, buf + at, stride7 - at);
    memset(buf + at, 0, STORE_EXT_LEN);
}

/* visit - one source slot, in the pass its block (or its being one of
 * the site's entries) puts it in */
static int visit(const void *slot, void *arg)
{
    struct carry *c = arg;
    const struct store_block *b;
    int live, first, rc;

    memcpy(c->buf, slot, c->srct->stride);
    if (c->from7)
	widen7(c->buf, c->srct->stride);
    if ((rc = slot_ok(c, c->buf)) <= 0) {
	c->count->lost += rc < 0 && c->pass == PASS_REST;
	return 0;
    }
    b = (const void *) (c->buf + c->srct->block_off);
    live = block_live(b, c->now);
    first = live || (c->dt->kept != NULL && c->dt->kept(c->buf));
    if (first != (c->pass == PASS_BLOCKED))
	return 0;
    if ((rc = place(c, c->buf)) < 0)
	return 0;
    if (rc > 0) {
	c->count->kept++;
	c->count->blocks_kept += live;
    } else {
	c->count->lost++;
	c->count->blocks_lost += live;
    }
    return 0;
}

/* raw_each - every slot of a salvaged table that lies inside the file
 * (one cut short maps less), no locks, no stripe data */
static void raw_each(const STORE *src, const struct store_tab *t,
		     struct carry *c)
{
    for (unsigned s = 0; s < STORE_STRIPES; s++)
	for (uint32_t i = 1; i <= t->cap; i++) {
	    const unsigned char *slot = store_slot(t, s, i);

	    if ((size_t) (slot - src->base) + t->stride > src->size)
		return;
	    visit(slot, c);
	}
}

/* carry_tab - both passes over one table */
static int carry_tab(STORE *dst, struct store_tab *dt, STORE *src,
		     struct store_tab *srct, int valid, uint32_t now,
		     struct store_carry *count)
{
    int from7 = srct->is_user && src->version == STORE_VERSION_7;
    size_t len = srct->stride + (from7 ? STORE_EXT_LEN : 0);
    struct carry c = { dst, dt, srct, now, src->ips_per_user, 0, count,
	from7, len, malloc(len) };
    int rc = c.buf == NULL ? STORE_EIO : STORE_OK;

    for (c.pass = PASS_BLOCKED; rc == STORE_OK && c.pass <= PASS_REST;
	 c.pass++) {
	if (valid)
	    rc = store_entry_each(src, srct, MIGRATE_BATCH, visit, &c);
	else
	    raw_each(src, srct, &c);
    }
    free(c.buf);
    return rc;
}

/* store_migrate - carry src's entries into the unpublished dst */
int store_migrate(STORE *dst, STORE *src, int valid, uint32_t now,
		  struct store_open_info *info)
{
    int rc;

    memset(&info->users, 0, sizeof(info->users));
    memset(&info->clients, 0, sizeof(info->clients));
    rc = carry_tab(dst, &dst->users, src, &src->users, valid, now,
		   &info->users);
    if (rc == STORE_OK)
	rc = carry_tab(dst, &dst->clients, src, &src->clients, valid, now,
		       &info->clients);
    return rc;
}

/* restore_common - first/last seen and the block, as described above */
static void restore_common(struct store_link *l, struct store_block *blk,
			   uint32_t first, uint32_t last,
			   const struct store_block *b, uint32_t now)
{
    if (first != 0 && (l->first_seen == 0 || first < l->first_seen))
	l->first_seen = first;
    if (last > l->last_seen && last <= now)
	l->last_seen = last;
    if (!store_block_active(blk, now) && store_block_active(b, now))
	(void) store_block_set(blk, b, now);
}

/* cc_ok - two upper-case ASCII letters */
static int cc_ok(const char *cc)
{
    return cc[0] >= 'A' && cc[0] <= 'Z' && cc[1] >= 'A' && cc[1] <= 'Z';
}

/* restore_nets - a snapshot's networks and usual volume, into an entry
 * that has learned none yet */
static void restore_nets(struct store_urec *r, const struct store_user *u)
{
    int have = r->usual_msgs != 0 || r->usual_rcpts != 0;

    for (int i = 0; i < STORE_NETS; i++)
	have |= r->nets[i].days != 0;
    store_urec_restore_spare(r, u);
    if (have)
	return;
    r->usual_msgs = u->usual_msgs;
    r->usual_rcpts = u->usual_rcpts;
    for (int i = 0, k = 0; i < STORE_NETS; i++) {
	const struct store_net *n = &u->nets[i];

	if (n->key == 0 || n->days == 0)
	    continue;
	r->nets[k].key = (uint32_t) n->key;
	r->nets[k].prefix = (n->key & STORE_NET_PREFIX) != 0;
	r->nets[k].days = n->days;
	r->nets[k].first_day = n->first_day;
	r->nets[k].last_day = n->last_day;
	k++;
    }
}

/* store_user_restore - put a snapshot's user back (created if unknown) */
int store_user_restore(STORE *st, const struct store_user *u, uint32_t now)
{
    char key[STORE_LOGIN_MAX];
    struct store_urec *r;
    size_t len;
    uint64_t h;
    uint32_t idx;
    int rc, have = 0;

    if (st == NULL || u == NULL || (st->flags & STORE_READONLY))
	return STORE_EARG;
    h = store_login_ref(st, u->login, key, &len);
    if (len == 0)
	return STORE_EARG;
    if ((rc = store_entry_lock(st, &st->users, h, key, STORE_ENTRY_ADD
			       | (u->first_seen == 0 ? STORE_ENTRY_UNSEEN : 0),
			       now, &idx)) != STORE_OK)
	return rc;
    r = store_slot(&st->users, store_stripe_of(h), idx);
    if (r->l.last_seen != 0 && u->last_seen > r->l.last_seen
	&& u->last_seen <= now) {	/* its last_seen moves on */
	store_urec_relay_roll(r, u->last_seen);
	store_urec_wrap_roll(r, u->last_seen);
    }
    restore_common(&r->l, &r->block, u->first_seen, u->last_seen, &u->block,
		   now);
    for (int i = 0; i < STORE_COUNTRIES; i++)
	have |= r->countries[i].cc[0] != 0;
    for (int i = 0, k = 0; !have && i < STORE_COUNTRIES; i++) {
	const struct store_country *c = &u->countries[i];

	if (!cc_ok(c->cc) || c->days == 0)
	    continue;
	memcpy(r->countries[k].cc, c->cc, 2);
	r->countries[k].days = c->days;
	r->countries[k].first_day = c->first_day;
	r->countries[k].last_day = c->last_day;
	k++;
    }
    restore_nets(r, u);
    store_unlock(&st->users, store_stripe_of(h));
    return STORE_OK;
}

/* site_has - does the entry hold login hash h among its first n? */
static bool site_has(const struct store_crec *r, uint32_t n, uint32_t h)
{
    for (uint32_t i = 0; i < n; i++)
	if (r->logins[i].hash == h)
	    return true;
    return false;
}

/* restore_site - a snapshot's site network or place (its logins, each
 * once, vouched time and days), into an entry that has learned none live */
static void restore_site(struct store_crec *r, const struct store_client *c,
			 uint32_t now)
{
    uint32_t n = 0, of = c->nlogins < STORE_CLIENT_LOGINS ? c->nlogins
	: STORE_CLIENT_LOGINS;

    if (r->vouch_days != 0 || r->l.n != 0)
	return;
    r->vouched = c->vouched <= now ? c->vouched : now;
    r->vouch_days = c->vouch_days;
    r->vouch_day = c->vouch_day <= now / STORE_DAY_S ? c->vouch_day
	: (uint16_t) (now / STORE_DAY_S);
    for (uint32_t i = 0; i < of; i++) {
	if (site_has(r, n, c->logins[i].hash))
	    continue;		/* two slots named one login */
	r->logins[n].hash = c->logins[i].hash;
	r->logins[n].last_seen = c->logins[i].last_seen <= now
	    ? c->logins[i].last_seen : now;
	n++;
    }
    r->l.n = (uint8_t) n;
}

/* store_client_restore - put a snapshot's client (or site entry) back */
int store_client_restore(STORE *st, const struct store_client *c,
			 uint32_t now)
{
    uint64_t h;
    uint32_t idx;
    struct store_crec *r;
    int rc;

    if (st == NULL || c == NULL || (st->flags & STORE_READONLY))
	return STORE_EARG;
    h = store_hash_addr(st, &c->ip);
    if ((rc = store_entry_lock(st, &st->clients, h, c->ip.b, STORE_ENTRY_ADD
			       | (c->first_seen == 0 ? STORE_ENTRY_UNSEEN : 0),
			       now, &idx)) != STORE_OK)
	return rc;
    r = store_slot(&st->clients, store_stripe_of(h), idx);
    restore_common(&r->l, &r->block, c->first_seen, c->last_seen, &c->block,
		   now);
    if (store_site_is_key(&c->ip))
	restore_site(r, c, now);
    store_unlock(&st->clients, store_stripe_of(h));
    return STORE_OK;
}
