/*
 * store_table - striped hash tables in the mapped file: locking, lookup,
 * insertion with eviction of the least recently seen, removal, and crash
 * recovery.
 *
 * Contract: every function but store_lock, store_stripe_check and the
 * store_entry_* operations expects the stripe's lock held by the caller;
 * the store_entry_* operations (find-or-insert, get/block/unblock/reset,
 * walk) take and release it themselves, so that store_user.c and
 * store_client.c share one locking and lookup sequence. Nothing here
 * makes a system call, allocates or logs while a lock is held
 * (store_lock reads the monotonic clock before it waits, never after it
 * holds the lock; a walk allocates its buffer before it locks).
 *
 * Each stripe is an independent table of cap slots behind a robust
 * process-shared mutex. Every key has a home slot (store_home: hash bits
 * apart from the stripe's and the tag's) and goes there when that slot
 * is free; otherwise into any free slot. Either way it is chained from
 * its home: the home slot's bhead word heads the chain of every key with
 * that home (bhead belongs to the position and survives the slot's own
 * entry). So a lookup loads one slot, its home, and usually finds the
 * key in it: the home's lines are fetched before the lock is taken, and
 * no separate index has to arrive first. When the key lives elsewhere
 * the chain from the home leads to it.
 *
 * Free slots: the freed ones are on a doubly linked list (hnext, fprev;
 * flag STORE_F_LISTED), so a home can be taken out of the middle; the
 * ones never used are found by the fresh cursor, which only moves
 * forward over slots that are in use or listed. high is the highest
 * slot whose head was ever written: walks, checks and clears stop
 * there, so they never read the untouched rest of a sparse file.
 *
 * Recency: every insert or touch stamps the slot with the stripe's next
 * tick, so an update writes its own slot only. A full stripe evicts by a
 * clock sweep: from the stripe's hand on, the next STORE_EVICT_SAMPLE
 * slots are examined (all of them in a stripe that small) and the least
 * recently seen among them that is not blocked goes; if all of them are
 * blocked the sweep examines the next batch, at most once round the
 * stripe. A table may keep some entries (t->kept: the site's networks
 * and places in the client table, which a flood of new clients must
 * not wash out): they are passed over like blocked ones while a plain
 * entry can go, for at most STORE_EVICT_KEPT_BATCHES batches, then the
 * oldest of them examined goes (counted apart). The newcomer takes the
 * evicted slot.
 *
 * Every link read from the file is range checked before use and every
 * walk is bounded; a link that fails the check means the stripe is
 * damaged: it is rebuilt from its slots (store_stripe_repair: the
 * entries that check out stay, the rest is lost) and counted, and the
 * call returns STORE_EFORMAT.
 *
 * Readers without the lock (store_ro.c): every lock holder makes the
 * stripe's sequence word odd when it takes the lock and even again just
 * before it lets go, so a copy taken between two equal even readings is
 * whole.
 *
 * Recovery: when a process dies holding a stripe lock, the next locker
 * gets EOWNERDEAD, checks the stripe (store_stripe_check: ranges, chains,
 * homes, tags, the free list both ways, counts, the cursors), rebuilds
 * it if anything is wrong, marks the mutex consistent and counts the
 * recovery. The locks themselves, and their repair, are store_lock.c.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_int.h"

/* No stripe counts this many inserts and touches (a billion a second
 * for over a century); a tick past it is noise, and would wrap. */
#define STORE_TICK_MAX	(UINT64_C(1) << 62)


/* stripe_of - the stripe header */
static inline struct store_stripe *stripe_of(const struct store_tab *t,
					     unsigned s)
{
    return &t->stripes[s];
}

/* link_of - a slot's head, or NULL for a link out of range */
static inline struct store_link *link_of(const struct store_tab *t,
					 unsigned s, uint32_t idx)
{
    return store_slot(t, s, idx);
}

/* hash_tag - the 16 hash bits kept in a slot */
static inline uint16_t hash_tag(uint64_t h)
{
    return (uint16_t) (h >> 48);
}

/* store_stat_add - bump a shared statistics counter */
void store_stat_add(uint64_t *ctr, uint64_t n)
{
    __atomic_fetch_add(ctr, n, __ATOMIC_RELAXED);
}

/* slot_hash - recompute the hash of a live slot's key */
static uint64_t slot_hash(const STORE *st, const struct store_tab *t,
			  const unsigned char *slot)
{
    const char *key = (const char *) slot + t->koff;

    if (t->is_user)
	return store_siphash(st->key, key, strnlen(key, t->klen));
    return store_siphash(st->key, key, t->klen);
}

/* high_of - the stripe's high mark, capped: how far walks go */
static inline uint32_t high_of(const struct store_tab *t, unsigned s)
{
    uint32_t high = stripe_of(t, s)->high;

    return high < t->cap ? high : t->cap;
}

/* raise_high - slot idx's head is about to be written: the heads up to
 * it that were never written are cleared first, so what lies past the
 * mark in a damaged file never becomes a link (a file made here has
 * zeros there already; this writes each head once in the file's life) */
static void raise_high(struct store_tab *t, unsigned s, uint32_t idx)
{
    struct store_stripe *sp = stripe_of(t, s);

    if (idx > t->cap)
	return;
    while (sp->high < idx)
	memset(link_of(t, s, ++sp->high), 0, sizeof(struct store_link));
}

/* slot_home - the home of the entry in slot idx if it belongs in this
 * stripe: exactly in use, a key that can be one (a login NUL padded),
 * hashing to this stripe with the tag it carries; 0 if not */
static uint32_t slot_home(const STORE *st, const struct store_tab *t,
			  unsigned s, uint32_t idx)
{
    const unsigned char *slot = store_slot(t, s, idx);
    const struct store_link *l = (const void *) slot;
    const char *key = (const char *) slot + t->koff;
    uint64_t h;

    if (l->flags != STORE_F_USED)
	return 0;
    if (t->is_user) {
	size_t n = strnlen(key, t->klen);

	if (n == 0 || n == t->klen)
	    return 0;
	while (n < t->klen)
	    if (key[n++] != 0)
		return 0;
    }
    h = slot_hash(st, t, slot);
    if (store_stripe_of(h) != s || l->tag != hash_tag(h))
	return 0;
    return store_home(t, h);
}

/* free_push - put a slot no longer used on the free list */
static void free_push(struct store_tab *t, unsigned s, uint32_t idx);

/* store_stripe_repair - rebuild a damaged stripe from its slots: every
 * entry that checks out (slot_home) stays, chained from its home anew;
 * every other slot goes on the free list; the cursors and counts are
 * made from what was found, whatever the stripe header said. Costs a
 * pass over the stripe's slots (each one's head is written). Counted. */
void store_stripe_repair(STORE *st, struct store_tab *t, unsigned s)
{
    struct store_stripe *sp = stripe_of(t, s);
    uint32_t live = 0;
    uint64_t tick = 0;

    for (uint32_t i = 1; i <= t->cap; i++)
	link_of(t, s, i)->bhead = 0;
    sp->free_head = 0;
    for (uint32_t i = t->cap; i >= 1; i--) {
	struct store_link *l = link_of(t, s, i), *hl;
	uint32_t home = slot_home(st, t, s, i);

	if (home == 0) {
	    free_push(t, s, i);
	    continue;
	}
	hl = link_of(t, s, home);
	l->hnext = hl->bhead;
	l->fprev = 0;
	hl->bhead = i;
	live++;
	if (l->seen >= STORE_TICK_MAX)
	    l->seen = 0;	/* noise: the oldest, not a tick to wrap */
	tick = l->seen > tick ? l->seen : tick;
    }
    __atomic_store_n(&sp->count, live, __ATOMIC_RELAXED);
    sp->high = t->cap;
    sp->fresh = t->cap + 1;	/* every free slot is on the list */
    sp->hand = 1;
    sp->tick = tick;
    store_stat_add(&st->hdr->stripe_resets, 1);
}

/* check_slots - flags, stamps and the untouched tail; the number of live
 * slots, or -1 (listed ones are counted into *listed) */
static long check_slots(const struct store_tab *t, unsigned s, long *listed)
{
    const struct store_stripe *sp = stripe_of(t, s);
    long n = 0;

    *listed = 0;
    for (uint32_t idx = 1; idx <= sp->high; idx++) {
	const struct store_link *l = link_of(t, s, idx);
	unsigned f = l->flags & (STORE_F_USED | STORE_F_LISTED);

	if (f == (STORE_F_USED | STORE_F_LISTED) || l->flags != f
	    || (idx < sp->fresh && f == 0))	/* fresh 0 reads as 1 */
	    return -1;
	if (f == STORE_F_USED && l->seen > sp->tick)
	    return -1;
	n += f == STORE_F_USED;
	*listed += f == STORE_F_LISTED;
    }
    return n;
}

/* check_chains - walk every home's chain; number of entries or -1 */
static long check_chains(const STORE *st, const struct store_tab *t,
			 unsigned s)
{
    const struct store_stripe *sp = stripe_of(t, s);
    long n = 0;

    for (uint32_t home = 1; home <= sp->high; home++) {
	uint32_t idx = link_of(t, s, home)->bhead;

	while (idx != 0) {
	    const unsigned char *slot = store_slot(t, s, idx);
	    const struct store_link *l = (const void *) slot;
	    uint64_t h;

	    if (slot == NULL || idx > sp->high || !(l->flags & STORE_F_USED)
		|| ++n > (long) sp->count)
		return -1;
	    h = slot_hash(st, t, slot);
	    if (store_stripe_of(h) != s || store_home(t, h) != home
		|| l->tag != hash_tag(h))
		return -1;
	    idx = l->hnext;
	}
    }
    return n;
}

/* check_free - walk the free list both ways; number of slots or -1 */
static long check_free(const struct store_tab *t, unsigned s, long listed)
{
    const struct store_stripe *sp = stripe_of(t, s);
    uint32_t idx = sp->free_head, prev = 0;
    long n = 0;

    while (idx != 0) {
	const struct store_link *l = link_of(t, s, idx);

	if (l == NULL || idx > sp->high || l->flags != STORE_F_LISTED
	    || l->fprev != prev || ++n > listed)
	    return -1;
	prev = idx;
	idx = l->hnext;
    }
    return n;
}

/* store_stripe_check - are a stripe's lists whole? 0 if so, -1 if not */
int store_stripe_check(const STORE *st, const struct store_tab *t,
		       unsigned s)
{
    const struct store_stripe *sp = stripe_of(t, s);
    long live, listed;

    if (sp->high > t->cap || sp->count > sp->high || sp->hand > t->cap
	|| sp->fresh > sp->high + 1 || sp->tick >= STORE_TICK_MAX)
	return -1;
    if ((live = check_slots(t, s, &listed)) != (long) sp->count
	|| check_chains(st, t, s) != live
	|| check_free(t, s, listed) != listed)
	return -1;
    return 0;
}

/* store_stripe_count - live entries in a stripe (racy read, for stats) */
uint32_t store_stripe_count(const struct store_tab *t, unsigned s)
{
    return __atomic_load_n(&stripe_of(t, s)->count, __ATOMIC_RELAXED);
}

/* damaged - repair a stripe found broken mid-operation */
static int damaged(STORE *st, struct store_tab *t, unsigned s)
{
    store_stripe_repair(st, t, s);
    return STORE_EFORMAT;
}

/* store_prefetch - start loading every line of a key's home slot at
 * once, before the lock is taken, so the misses overlap one another, the
 * locking and any wait for the lock; four lines a step, as a slot is a
 * whole number of lines, usually 16. Without it an update is about a
 * seventh slower (bench-store). */
static void store_prefetch(const struct store_tab *t, uint64_t h)
{
    const unsigned char *slot = store_slot(t, store_stripe_of(h),
					   store_home(t, h));
    uint32_t off = 0;

    for (; off + 4 * STORE_LINE <= t->stride; off += 4 * STORE_LINE) {
	__builtin_prefetch(slot + off, 1);
	__builtin_prefetch(slot + off + STORE_LINE, 1);
	__builtin_prefetch(slot + off + 2 * STORE_LINE, 1);
	__builtin_prefetch(slot + off + 3 * STORE_LINE, 1);
    }
    for (; off < t->stride; off += STORE_LINE)
	__builtin_prefetch(slot + off, 1);
}

/* key_eq - are two keys equal? Keys are whole 8-byte words (48 bytes
 * of login, 16 of address), compared without a library call */
static inline int key_eq(const unsigned char *a, const void *key, size_t len)
{
    const unsigned char *b = key;
    uint64_t diff = 0;

    for (size_t o = 0; o < len; o += 8) {
	uint64_t x, y;

	memcpy(&x, a + o, 8);
	memcpy(&y, b + o, 8);
	diff |= x ^ y;
    }
    return diff == 0;
}

_Static_assert(STORE_LOGIN_MAX % 8 == 0, "login keys are whole words");

/* key_at - does slot l hold key (tag first)? */
static inline int key_at(const struct store_tab *t,
			 const struct store_link *l, uint16_t tag,
			 const void *key)
{
    return l->tag == tag && (l->flags & STORE_F_USED)
	&& key_eq((const unsigned char *) l + t->koff, key, t->klen);
}

/* store_find - look a key up; *idx = slot or 0 */
int store_find(STORE *st, struct store_tab *t, unsigned s, uint64_t h,
	       const void *key, uint32_t *idx)
{
    uint32_t home = store_home(t, h), high = high_of(t, s), i, steps = 0;
    const struct store_link *hl = link_of(t, s, home);
    uint16_t tag = hash_tag(h);

    *idx = 0;
    if (home > high)
	return STORE_OK;	/* never written: no chain, no entry */
    if (hl->bhead > high)
	return damaged(st, t, s);
    if (key_at(t, hl, tag, key)) {	/* the usual case */
	*idx = home;
	return STORE_OK;
    }
    for (i = hl->bhead; i != 0;) {
	const struct store_link *l = link_of(t, s, i);

	if (l == NULL || i > high || !(l->flags & STORE_F_USED)
	    || ++steps > t->cap)
	    return damaged(st, t, s);
	if (i != home && key_at(t, l, tag, key)) {
	    *idx = i;
	    return STORE_OK;
	}
	i = l->hnext;
    }
    return STORE_OK;
}

/* store_touch - stamp a slot most recently seen */
int store_touch(STORE *st, struct store_tab *t, unsigned s, uint32_t idx)
{
    struct store_link *l = link_of(t, s, idx);

    if (l == NULL)
	return damaged(st, t, s);
    l->seen = ++stripe_of(t, s)->tick;
    return STORE_OK;
}

/* chain_unlink - take a slot out of its home's chain */
static int chain_unlink(const STORE *st, struct store_tab *t, unsigned s,
			uint32_t idx)
{
    unsigned char *slot = store_slot(t, s, idx);
    uint32_t home = store_home(t, slot_hash(st, t, slot)), steps = 0;
    uint32_t *pp = &link_of(t, s, home)->bhead;

    while (*pp != idx) {
	struct store_link *l = link_of(t, s, *pp);

	if (l == NULL || *pp > high_of(t, s) || ++steps > t->cap)
	    return -1;
	pp = &l->hnext;
    }
    *pp = ((struct store_link *) (void *) slot)->hnext;
    return 0;
}

/* free_push - put a slot no longer used on the free list */
static void free_push(struct store_tab *t, unsigned s, uint32_t idx)
{
    struct store_stripe *sp = stripe_of(t, s);
    struct store_link *l = link_of(t, s, idx), *next;

    l->flags = STORE_F_LISTED;
    l->fprev = 0;
    l->hnext = sp->free_head;
    if ((next = link_of(t, s, sp->free_head)) != NULL)
	next->fprev = idx;
    sp->free_head = idx;
}

/* free_take - take a listed slot off the free list; -1 if damaged */
static int free_take(struct store_tab *t, unsigned s, uint32_t idx)
{
    struct store_stripe *sp = stripe_of(t, s);
    struct store_link *l = link_of(t, s, idx), *prev, *next = NULL;

    if (l == NULL || idx > sp->high || l->flags != STORE_F_LISTED
	|| l->hnext > sp->high || l->fprev > sp->high)
	return -1;
    if (l->hnext != 0 && ((next = link_of(t, s, l->hnext)) == NULL
			  || next->fprev != idx))
	return -1;
    if (l->fprev == 0) {
	if (sp->free_head != idx)
	    return -1;
	sp->free_head = l->hnext;
    } else {
	if ((prev = link_of(t, s, l->fprev)) == NULL || prev->hnext != idx)
	    return -1;
	prev->hnext = l->hnext;
    }
    if (next != NULL)
	next->fprev = l->fprev;
    l->flags = 0;
    return 0;
}

/* store_remove - delete a slot's entry and put the slot on the free list */
int store_remove(STORE *st, struct store_tab *t, unsigned s, uint32_t idx)
{
    struct store_stripe *sp = stripe_of(t, s);
    struct store_link *l = link_of(t, s, idx);

    if (l == NULL || !(l->flags & STORE_F_USED) || sp->count == 0)
	return damaged(st, t, s);
    if (chain_unlink(st, t, s, idx) != 0)
	return damaged(st, t, s);
    free_push(t, s, idx);
    __atomic_store_n(&sp->count, sp->count - 1, __ATOMIC_RELAXED);
    return STORE_OK;
}

/* The sweep's state across its batches: the stripe's tick, and the
 * site entry it would take if no plain one can go (oldest seen). */
struct evict_sweep {
    uint64_t tick;
    uint32_t kept;		/* slot of the oldest free kept entry, or 0 */
    uint64_t kept_age;
};

/* batch_victim - the least recently seen of a batch's live slots cand
 * (k of them) that may go at now: a plain one, or 0; the kept entries
 * (t->kept: the site's) are passed over, the oldest of them that is
 * not blocked noted in w. Reads the blocks of the oldest first. */
static uint32_t batch_victim(const struct store_tab *t, unsigned s,
			     uint32_t *cand, unsigned k, struct evict_sweep *w,
			     uint32_t now)
{
    uint64_t age[STORE_EVICT_SAMPLE];
    unsigned char keep[STORE_EVICT_SAMPLE];

    for (unsigned i = 0; i < k; i++) {
	const unsigned char *slot = store_slot(t, s, cand[i]);

	age[i] = w->tick - ((const struct store_link *) (const void *) slot)->seen;
	keep[i] = t->kept != NULL && t->kept(slot);
    }
    while (k > 0) {		/* oldest first, passing blocked ones */
	unsigned best = 0;
	const unsigned char *slot;

	for (unsigned i = 1; i < k; i++)
	    if (age[i] > age[best])
		best = i;
	slot = store_slot(t, s, cand[best]);
	if ((!keep[best] || w->kept == 0 || age[best] > w->kept_age)
	    && !store_block_enforced((const void *) (slot + t->block_off),
				     now)) {
	    if (!keep[best])
		return cand[best];
	    w->kept = cand[best];
	    w->kept_age = age[best];
	}
	k--;
	cand[best] = cand[k], age[best] = age[k], keep[best] = keep[k];
    }
    return 0;
}

/* evict_victim - the least recently seen slot not blocked at now among
 * those the sweep examines (see the top), or 0 if every one is blocked;
 * called with the stripe full (every slot in use). The sweep reads the
 * heads of a batch of slots (one line each, fetched at once), then the
 * blocks of the oldest first until one is not in force, so usually one
 * more line. A kept entry (the site's networks and places, whose key
 * lies in the line read already) goes only when no plain one can: after
 * STORE_EVICT_KEPT_BATCHES batches in which only kept ones could, the
 * oldest of those examined goes, so the cost stays bounded. */
static uint32_t evict_victim(struct store_tab *t, unsigned s, uint32_t now,
			     int *kept)
{
    struct store_stripe *sp = stripe_of(t, s);
    uint32_t n = high_of(t, s), hand = sp->hand, steps = 0, victim = 0;
    uint32_t cand[STORE_EVICT_SAMPLE];
    struct evict_sweep w = { .tick = sp->tick };
    unsigned spent = 0;

    if (hand == 0 || hand > n)
	hand = 1;
    while (victim == 0 && steps < n) {
	unsigned k = 0, m = 0;

	for (uint32_t j = hand; m < STORE_EVICT_SAMPLE && steps + m < n; m++) {
	    cand[m] = j;
	    __builtin_prefetch(store_slot(t, s, j));
	    j = j == n ? 1 : j + 1;
	}
	for (unsigned i = 0; i < m; i++) {
	    const struct store_link *l = link_of(t, s, cand[i]);

	    if (l != NULL && (l->flags & STORE_F_USED))
		cand[k++] = cand[i];
	}
	steps += m;
	hand = (uint32_t) ((hand - 1 + (uint64_t) m) % n) + 1;
	victim = batch_victim(t, s, cand, k, &w, now);
	if (victim == 0 && w.kept != 0
	    && ++spent >= STORE_EVICT_KEPT_BATCHES)
	    break;
    }
    sp->hand = hand;
    *kept = victim == 0 && w.kept != 0;
    return victim != 0 ? victim : w.kept;
}

/* take_fresh - the next slot never used, or 0; the cursor moves past
 * slots taken as homes meanwhile */
static uint32_t take_fresh(struct store_tab *t, unsigned s)
{
    struct store_stripe *sp = stripe_of(t, s);

    if (sp->fresh == 0)
	sp->fresh = 1;
    while (sp->fresh <= t->cap) {
	uint32_t idx = sp->fresh++;

	if (idx > sp->high || !(link_of(t, s, idx)->flags
				& (STORE_F_USED | STORE_F_LISTED)))
	    return idx;
    }
    return 0;
}

/* take_slot - the key's home if free, else any free slot: listed, never
 * used, or evicted; STORE_FULL if every slot holds a block in force */
static int take_slot(STORE *st, struct store_tab *t, unsigned s,
		     uint32_t home, uint32_t now, uint32_t *idx)
{
    struct store_stripe *sp = stripe_of(t, s);
    struct store_link *hl = link_of(t, s, home);
    int rc, kept;

    if (home > sp->high || hl->flags == 0) {	/* never used */
	*idx = home;
	return STORE_OK;
    }
    if (hl->flags == STORE_F_LISTED) {
	*idx = home;
	return free_take(t, s, home) == 0 ? STORE_OK : damaged(st, t, s);
    }
    if (sp->free_head != 0) {
	*idx = sp->free_head;
	return free_take(t, s, *idx) == 0 ? STORE_OK : damaged(st, t, s);
    }
    if ((*idx = take_fresh(t, s)) != 0)
	return STORE_OK;
    if ((*idx = evict_victim(t, s, now, &kept)) == 0)
	return sp->count < t->cap ? damaged(st, t, s) : STORE_FULL;
    if ((rc = store_remove(st, t, s, *idx)) != STORE_OK)
	return rc;
    store_stat_add(&st->hdr->evictions, 1);
    if (kept)
	__atomic_fetch_add(&st->hdr->site_evictions, 1, __ATOMIC_RELAXED);
    return free_take(t, s, *idx) == 0 ? STORE_OK : damaged(st, t, s);
}

/* store_insert - create an entry for a key known to be absent */
int store_insert(STORE *st, struct store_tab *t, unsigned s, uint64_t h,
		 const void *key, uint32_t now, uint32_t *idx)
{
    struct store_stripe *sp = stripe_of(t, s);
    uint32_t home = store_home(t, h), bhead;
    struct store_link *l, *hl;
    unsigned char *slot;
    int rc;

    if ((rc = take_slot(st, t, s, home, now, idx)) != STORE_OK)
	return rc;
    raise_high(t, s, *idx > home ? *idx : home);
    slot = store_slot(t, s, *idx);
    l = (struct store_link *) (void *) slot;
    bhead = l->bhead;		/* the position's, not the entry's */
    memset(slot, 0, t->stride);
    l->bhead = bhead;
    memcpy(slot + t->koff, key, t->klen);
    l->tag = hash_tag(h);
    l->flags = STORE_F_USED;
    l->first_seen = l->last_seen = now;
    l->seen = ++sp->tick;
    hl = link_of(t, s, home);
    l->hnext = hl->bhead;
    hl->bhead = *idx;
    __atomic_store_n(&sp->count, sp->count + 1, __ATOMIC_RELAXED);
    return STORE_OK;
}

/* store_block_active - is a block in force at now? */
int store_block_active(const struct store_block *b, uint32_t now)
{
    return b->until != 0 && now < b->until;
}

/* store_block_enforced - in force and not a would-be block of dry run
 * (which neither refuses mail nor keeps an entry from eviction) */
int store_block_enforced(const struct store_block *b, uint32_t now)
{
    return store_block_active(b, now) && !(b->flags & STORE_BLOCK_WOULD);
}

/* store_block_copy - copy a block out; an expired one reads as none */
void store_block_copy(struct store_block *dst, const struct store_block *src,
		      uint32_t now)
{
    if (store_block_active(src, now)) {
	*dst = *src;
	dst->reason[STORE_REASON_MAX - 1] = '\0';
    } else {
	memset(dst, 0, sizeof(*dst));
    }
}

/* store_block_set - install a caller's block; STORE_EARG if already over */
int store_block_set(struct store_block *dst, const struct store_block *src,
		    uint32_t now)
{
    if (src == NULL || !store_block_active(src, now)
	|| src->setby > STORE_BY_ADMIN || (src->flags & ~STORE_BLOCK_FLAGS))
	return STORE_EARG;
    dst->until = src->until;
    dst->action = src->action;
    dst->setby = src->setby;
    dst->flags = src->flags;
    dst->rule_id = src->rule_id;
    store_copy_text(dst->reason, sizeof(dst->reason), src->reason);
    return STORE_OK;
}

/* unseen - a new entry not seen yet (STORE_ENTRY_UNSEEN): learning and
 * "first seen" start with its first observation (store_link_seen) */
static void unseen(void *slot)
{
    struct store_link *l = slot;

    l->first_seen = l->last_seen = 0;
}

/* store_entry_lock - lock the stripe of h and find key's entry; with
 * STORE_ENTRY_ADD an unknown key is inserted, with STORE_ENTRY_TOUCH a
 * known one is stamped most recently seen, with STORE_ENTRY_UNSEEN an
 * inserted one is not seen yet. On STORE_OK the stripe stays locked
 * and *idx is the slot; on anything else (STORE_NOTFOUND: unknown key
 * without ADD) it is unlocked again. */
int store_entry_lock(STORE *st, struct store_tab *t, uint64_t h,
		     const void *key, unsigned how, uint32_t now,
		     uint32_t *idx)
{
    unsigned s = store_stripe_of(h);
    int rc;

    store_prefetch(t, h);
    if ((rc = store_lock(st, t, s)) != STORE_OK)
	return rc;
    rc = store_find(st, t, s, h, key, idx);
    if (rc == STORE_OK && *idx == 0) {
	rc = (how & STORE_ENTRY_ADD) ? store_insert(st, t, s, h, key, now, idx)
	    : STORE_NOTFOUND;
	if (rc == STORE_OK && (how & STORE_ENTRY_UNSEEN))
	    unseen(store_slot(t, s, *idx));
    } else if (rc == STORE_OK && (how & STORE_ENTRY_TOUCH))
	rc = store_touch(st, t, s, *idx);
    if (rc != STORE_OK)
	store_unlock(t, s);
    return rc;
}

/* same_block - is the stored block still the one a caller saw? */
static int same_block(const struct store_block *blk,
		      const struct store_block *was)
{
    return blk->until == was->until && blk->setby == was->setby
	&& blk->flags == was->flags
	&& blk->rule_id == was->rule_id;
}

/* store_entry_op - one entry: copy it out (GET), set or lift its block
 * (BLOCK creates an unknown entry; UNBLOCK with b lifts only that block),
 * or forget it (RESET) */
int store_entry_op(STORE *st, struct store_tab *t, uint64_t h,
		   const void *key, enum store_act act,
		   const struct store_block *b, uint32_t now,
		   store_copy_fn copy, void *out)
{
    unsigned s = store_stripe_of(h);
    struct store_block *blk;
    unsigned char *slot;
    uint32_t idx;
    int rc;

    if (st->flags & STORE_READONLY)
	return act == STORE_ACT_GET ? store_ro_get(st, t, h, key, now, copy,
						   out) : STORE_EARG;
    if ((rc = store_entry_lock(st, t, h, key, act == STORE_ACT_BLOCK
			       ? STORE_ENTRY_ADD | STORE_ENTRY_UNSEEN : 0, now,
			       &idx)) != STORE_OK)
	return rc;
    slot = store_slot(t, s, idx);
    blk = (struct store_block *) (void *) (slot + t->block_off);
    if (act == STORE_ACT_GET)
	copy(st, slot, now, out);
    else if (act == STORE_ACT_BLOCK)
	*blk = *b;
    else if (act == STORE_ACT_UNBLOCK && b != NULL && !same_block(blk, b))
	rc = STORE_NOTFOUND;
    else if (act == STORE_ACT_UNBLOCK) {
	memset(blk, 0, sizeof(*blk));
	if (t->is_user)		/* and the refusals counted towards one */
	    store_urec_strikes_clear((struct store_urec *) (void *) slot);
    }
    else
	rc = store_remove(st, t, s, idx);
    store_unlock(t, s);
    return rc;
}

/* entry_batch - copy up to max live slots of stripe s from *next on into
 * buf; *next becomes 0 when the stripe is done */
static int entry_batch(STORE *st, struct store_tab *t, unsigned s,
		       uint32_t *next, unsigned char *buf, unsigned max,
		       unsigned *n)
{
    uint32_t high;
    int rc;

    *n = 0;
    if ((rc = store_lock(st, t, s)) != STORE_OK)
	return rc;
    high = t->stripes[s].high < t->cap ? t->stripes[s].high : t->cap;
    for (; *next <= high && *n < max; (*next)++) {
	const struct store_link *l = store_slot(t, s, *next);

	if (l->flags & STORE_F_USED)
	    memcpy(buf + (size_t) (*n)++ * t->stride, l, t->stride);
    }
    if (*next > high)
	*next = 0;
    store_unlock(t, s);
    return STORE_OK;
}

/* store_entry_each - hand a copy of every live slot to visit(), batch
 * slots copied per lock hold; visit nonzero stops the walk */
int store_entry_each(STORE *st, struct store_tab *t, unsigned batch,
		     int (*visit)(const void *slot, void *arg), void *arg)
{
    unsigned char *buf;
    int rc, stop = 0;

    if (st->flags & STORE_READONLY)
	return store_ro_each(st, t, batch, visit, arg);
    buf = malloc((size_t) batch * t->stride);
    rc = buf == NULL ? STORE_EIO : STORE_OK;
    for (unsigned s = 0; rc == STORE_OK && !stop && s < STORE_STRIPES; s++) {
	uint32_t next = 1;
	unsigned n;

	while (rc == STORE_OK && !stop && next != 0) {
	    rc = entry_batch(st, t, s, &next, buf, batch, &n);
	    for (unsigned i = 0; rc == STORE_OK && !stop && i < n; i++)
		stop = visit(buf + (size_t) i * t->stride, arg) != 0;
	}
    }
    free(buf);
    return rc;
}
