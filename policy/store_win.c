/*
 * store_win - sliding-window counters: a minute ring and an hour ring.
 *
 * Contract: pure arithmetic on a struct store_win (a live slot under its
 * stripe lock, or a caller's copy); no I/O, no clock, thread-safe on
 * distinct windows.
 *
 * The minute ring holds STORE_MIN_BUCKETS one-minute buckets of messages
 * and recipients; the hour ring STORE_HOUR_BUCKETS one-hour buckets of
 * messages, recipients and bytes (in STORE_BYTES_UNIT units, rounded up
 * per message so small messages are never free). Buckets saturate at
 * 65535. Adding at "now" first advances a ring to now's bucket, clearing
 * the buckets it skips; a gap longer than the ring clears it all. If
 * time goes backwards, a value is added to its own bucket while that is
 * still in the ring and dropped otherwise; a ring never moves back.
 *
 * Sums (store_win_sum) interpolate the window's old edge: every bucket
 * wholly inside [now - window, now] counts fully, and the oldest bucket,
 * only partly inside, counts for the fraction of its span that is inside
 * (rounded down). The newest bucket's span ends at now, so a burst in the
 * current minute always counts fully. Windows up to 15 minutes use the
 * minute ring (a 15-minute window needs 16 buckets when now is not on a
 * minute boundary; the missing, partly covered sixteenth is not counted),
 * longer ones and all byte sums the hour ring, up to a day; longer
 * windows are cut to a day.
 *
 * Give-backs (store_win_take) undo an add of a transaction that was
 * refused or aborted. They go into the bucket the add went into, found
 * from the add's time, and never move a ring: if the ring has rotated
 * past that bucket meanwhile (the minute ring after 15 minutes, the hour
 * ring after a day), the units have left every window that ring serves
 * and nothing is taken there; another bucket never pays for them. A
 * bucket never goes below zero (it may have saturated on the add).
 * store_held_note keeps, per transaction, the minutes its units went in.
 */
#include <string.h>

#include "store_int.h"

#define WIN_MIN_S	60
#define WIN_HOUR_S	3600
#define WIN_DAY_S	86400
#define WIN_MIN_WINDOW	(STORE_MIN_BUCKETS * WIN_MIN_S)

/* win_sat - saturating add to a 16-bit bucket */
static inline uint16_t win_sat(uint16_t a, uint64_t b)
{
    uint64_t s = (uint64_t) a + b;

    return s > UINT16_MAX ? UINT16_MAX : (uint16_t) s;
}

/* ring_slot - advance a ring of n buckets (a constant once inlined, so
 * the remainders are multiplications) to bucket e, clearing the buckets
 * it passes in each of its arrays (c may be NULL); the slot of e, or -1
 * if e has left the ring. Usually e is the newest bucket already. */
__attribute__((always_inline))
static inline int ring_slot(uint32_t *epoch, uint32_t e, unsigned n,
			    uint16_t *a, uint16_t *b, uint16_t *c)
{
    if (e > *epoch) {
	uint32_t d = e - *epoch;

	if (d >= n) {
	    memset(a, 0, n * sizeof(*a));
	    memset(b, 0, n * sizeof(*b));
	    if (c != NULL)
		memset(c, 0, n * sizeof(*c));
	} else {
	    for (uint32_t k = 1; k <= d; k++) {
		uint32_t i = (*epoch + k) % n;

		a[i] = b[i] = 0;
		if (c != NULL)
		    c[i] = 0;
	    }
	}
	*epoch = e;
    } else if (*epoch - e >= n) {
	return -1;
    }
    return (int) (e % n);
}

/* min_slot, hour_slot - the two rings of a window advanced to now */
static inline int min_slot(struct store_win *w, uint32_t now)
{
    return ring_slot(&w->min_epoch, now / WIN_MIN_S, STORE_MIN_BUCKETS,
		     w->m_msgs, w->m_rcpts, NULL);
}

static inline int hour_slot(struct store_win *w, uint32_t now)
{
    return ring_slot(&w->hour_epoch, now / WIN_HOUR_S, STORE_HOUR_BUCKETS,
		     w->h_msgs, w->h_rcpts, w->h_bytes);
}

/* store_win_roll - advance both rings to now without adding */
void store_win_roll(struct store_win *w, uint32_t now)
{
    (void) min_slot(w, now);
    (void) hour_slot(w, now);
}

/* win_units - bytes in STORE_BYTES_UNIT, rounded up */
static inline uint64_t win_units(uint64_t bytes)
{
    return bytes / STORE_BYTES_UNIT + (bytes % STORE_BYTES_UNIT != 0);
}

/* win_less - saturating subtraction from a 16-bit bucket */
static inline uint16_t win_less(uint16_t a, uint64_t b)
{
    return b >= a ? 0 : (uint16_t) (a - b);
}

/* store_win_add - count msgs, rcpts and bytes at now */
void store_win_add(struct store_win *w, uint32_t now, uint32_t msgs,
		   uint32_t rcpts, uint64_t bytes)
{
    uint64_t units = win_units(bytes);
    int slot;

    if (w == NULL)
	return;
    if ((slot = min_slot(w, now)) >= 0) {
	w->m_msgs[slot] = win_sat(w->m_msgs[slot], msgs);
	w->m_rcpts[slot] = win_sat(w->m_rcpts[slot], rcpts);
    }
    if ((slot = hour_slot(w, now)) >= 0) {
	w->h_msgs[slot] = win_sat(w->h_msgs[slot], msgs);
	w->h_rcpts[slot] = win_sat(w->h_rcpts[slot], rcpts);
	w->h_bytes[slot] = win_sat(w->h_bytes[slot], units);
    }
}

/* win_ring_sum - interpolated sum of one counter array over a window */
static uint64_t win_ring_sum(const uint16_t *v, unsigned n, uint32_t span,
			     uint32_t epoch, uint32_t now, uint32_t window_s)
{
    uint64_t newest = (uint64_t) epoch * span;
    uint64_t end = now > newest ? now : newest;	/* time went back: clamp */
    uint64_t t0 = end > window_s ? end - window_s : 0;
    uint64_t sum = 0;

    for (unsigned j = 0; j < n && j <= epoch; j++) {
	uint64_t s = (uint64_t) (epoch - j) * span;
	uint64_t e = s + span < end ? s + span : end;
	uint16_t c = v[(epoch - j) % n];

	if (e <= t0 && s < t0)
	    break;		/* this and every older bucket are outside */
	if (c == 0)
	    continue;
	if (s >= t0)
	    sum += c;
	else
	    sum += (uint64_t) c * (e - t0) / (e - s);
    }
    return sum;
}

/* store_win_sum - a counter over the window_s seconds up to now */
uint64_t store_win_sum(const struct store_win *w, enum store_counter c,
		       uint32_t now, uint32_t window_s)
{
    if (w == NULL || window_s == 0
	|| (c != STORE_MSGS && c != STORE_RCPTS && c != STORE_BYTES))
	return 0;
    if (window_s > WIN_DAY_S)
	window_s = WIN_DAY_S;
    if (c != STORE_BYTES && window_s <= WIN_MIN_WINDOW)
	return win_ring_sum(c == STORE_MSGS ? w->m_msgs : w->m_rcpts,
			    STORE_MIN_BUCKETS, WIN_MIN_S, w->min_epoch, now,
			    window_s);
    switch (c) {
    case STORE_MSGS:
	return win_ring_sum(w->h_msgs, STORE_HOUR_BUCKETS, WIN_HOUR_S,
			    w->hour_epoch, now, window_s);
    case STORE_RCPTS:
	return win_ring_sum(w->h_rcpts, STORE_HOUR_BUCKETS, WIN_HOUR_S,
			    w->hour_epoch, now, window_s);
    case STORE_BYTES:
	return STORE_BYTES_UNIT *
	    win_ring_sum(w->h_bytes, STORE_HOUR_BUCKETS, WIN_HOUR_S,
			 w->hour_epoch, now, window_s);
    }
    return 0;
}

/* held_slot - the slot of bucket e in a ring whose newest is epoch, or
 * -1 if e is newer (never added here) or has left the ring */
static inline int held_slot(uint32_t epoch, uint32_t e, unsigned n)
{
    if (e > epoch || epoch - e >= n)
	return -1;
    return (int) (e % n);
}

/* store_win_take - give back units added at t, where they went */
void store_win_take(struct store_win *w, uint32_t t, uint32_t msgs,
		    uint32_t rcpts, uint64_t bytes)
{
    int slot;

    if (w == NULL)
	return;
    if ((slot = held_slot(w->min_epoch, t / WIN_MIN_S, STORE_MIN_BUCKETS)) >= 0) {
	w->m_msgs[slot] = win_less(w->m_msgs[slot], msgs);
	w->m_rcpts[slot] = win_less(w->m_rcpts[slot], rcpts);
    }
    if ((slot = held_slot(w->hour_epoch, t / WIN_HOUR_S, STORE_HOUR_BUCKETS)) >= 0) {
	w->h_msgs[slot] = win_less(w->h_msgs[slot], msgs);
	w->h_rcpts[slot] = win_less(w->h_rcpts[slot], rcpts);
	w->h_bytes[slot] = win_less(w->h_bytes[slot], win_units(bytes));
    }
}

/* store_held_note - units counted at now in an entry born at born; an
 * entry made anew since the last note drops what the old one held */
void store_held_note(struct store_held *h, uint32_t born, uint32_t now,
		     uint32_t msgs, uint32_t rcpts, uint64_t bytes)
{
    struct store_span *sp;

    if (h == NULL || (msgs == 0 && rcpts == 0 && bytes == 0))
	return;
    if (h->born != born || h->n > STORE_HELD_SPANS) {
	memset(h, 0, sizeof(*h));
	h->born = born;
    }
    sp = h->n > 0 ? &h->span[h->n - 1] : NULL;
    if (sp == NULL || (sp->t / WIN_MIN_S != now / WIN_MIN_S
		       && h->n < STORE_HELD_SPANS)) {
	sp = &h->span[h->n++];
	sp->t = now;
    }
    sp->msgs += msgs;
    sp->rcpts += rcpts;
    sp->bytes += bytes;
}

/* store_held_take - give back every span of held from a live window */
void store_held_take(struct store_win *w, const struct store_held *h)
{
    uint32_t n = h->n < STORE_HELD_SPANS ? h->n : STORE_HELD_SPANS;

    for (uint32_t i = 0; i < n; i++)
	store_win_take(w, h->span[i].t, h->span[i].msgs, h->span[i].rcpts,
		       h->span[i].bytes);
}

/* store_give_back - take held back from the entry it was counted on:
 * only if that entry is still the one born then (not evicted and made
 * anew); an entry gone takes nothing back */
int store_give_back(STORE *st, struct store_tab *t, uint64_t h,
		    const void *key, size_t win_off, struct store_held *held,
		    uint32_t now)
{
    unsigned s = store_stripe_of(h);
    unsigned char *slot;
    uint32_t idx;
    int rc;

    if (st == NULL || held == NULL || (st->flags & STORE_READONLY))
	return STORE_EARG;
    if (held->n == 0)
	return STORE_OK;
    if (key == NULL)
	return STORE_EARG;
    if ((rc = store_entry_lock(st, t, h, key, 0, now, &idx)) != STORE_OK) {
	if (rc == STORE_NOTFOUND)
	    memset(held, 0, sizeof(*held));
	return rc;
    }
    slot = store_slot(t, s, idx);
    if (((const struct store_link *) (const void *) slot)->first_seen
	== held->born)
	store_held_take((struct store_win *) (void *) (slot + win_off), held);
    store_unlock(t, s);
    memset(held, 0, sizeof(*held));
    return STORE_OK;
}
