/*
 * store_ro - read-only handles: lookups and walks that take no lock and
 * write nothing, for relayguardctl's reading commands.
 *
 * Why: a stripe lock is a robust process-shared mutex, and glibc keeps
 * the robust list's pointers inside the mutex, i.e. in the file. The
 * file's owner (the milter's unprivileged user) can rewrite them, and a
 * root process that unlocks then writes through pointers chosen by that
 * user. So a read-only handle maps the file PROT_READ from an O_RDONLY
 * descriptor (a user with read access only, e.g. group relayguard and
 * mode 0640, can use it) and never touches a lock word.
 *
 * Consistency: every lock holder makes its stripe's sequence word odd
 * when it takes the lock and even before it lets go (store_seq_begin,
 * store_seq_end). A reader notes an even sequence, copies, and reads the
 * sequence again: equal means no writer was in the stripe meanwhile, so
 * the copy is whole; else it tries again. A stripe that stays busy for
 * the handle's lock_timeout_ms (a writer stopped or killed while it held
 * the lock: its sequence stays odd until the next holder) is given up:
 * a get returns STORE_TIMEOUT, a walk skips the rest of that stripe and
 * counts the entries it could not copy (store_skipped).
 *
 * Everything read from the file is untrusted: a link is used only after
 * store_slot's range check against the geometry validated at attach, a
 * chain walk is bounded, and a copy is judged only once the sequence
 * confirmed it. A lookup that meets an impossible chain with a stable
 * sequence answers STORE_EFORMAT (a writer repairs the stripe, we may
 * not).
 *
 * Truncation: a file cut shorter while mapped faults (SIGBUS) on the
 * pages past its end. Every read of the mapping runs under a guard:
 * a SIGBUS handler installed once per process jumps back out of the
 * copy and the call returns STORE_ESHRUNK. A fault outside a guard is
 * handed to the disposition that was in place before. The size is also
 * checked (fstat) before every walk.
 *
 * Thread safety: the guard's jump buffer is per thread; a handle's
 * counters (ro_skipped) are not atomic: one thread per read-only handle.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "store_int.h"

#define RO_SPINS	16	/* sequence re-reads before the first pause */
#define RO_PAUSE_NS	50000L	/* then 50 us between tries */
#define NSEC_PER_MSEC	1000000L
#define NSEC_PER_SEC	1000000000L

_Static_assert(sizeof(struct store_urec) + STORE_IPS_MAX
	       * sizeof(struct store_ip) + STORE_LINE <= STORE_SLOT_MAX,
	       "a user slot fits a copy buffer");
_Static_assert(sizeof(struct store_crec) + STORE_LINE <= STORE_SLOT_MAX,
	       "a client slot fits a copy buffer");

static __thread sigjmp_buf *ro_env;	/* armed while a guard runs */
static struct sigaction ro_prev;	/* SIGBUS disposition before ours */
static pthread_once_t ro_once = PTHREAD_ONCE_INIT;
static int ro_installed;

/* ro_fault - SIGBUS: out of a guarded copy, or the previous disposition */
static void ro_fault(int sig, siginfo_t *si, void *uc)
{
    sigjmp_buf *env = ro_env;

    (void) sig;
    (void) si;
    (void) uc;
    if (env != NULL) {
	ro_env = NULL;
	siglongjmp(*env, 1);
    }
    /* not ours: returning re-runs the faulting access under the old one */
    sigaction(SIGBUS, &ro_prev, NULL);
}

/* ro_install - the SIGBUS handler, once per process; SA_NODEFER because
 * the jump out does not restore the signal mask */
static void ro_install(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = ro_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    ro_installed = sigaction(SIGBUS, &sa, &ro_prev) == 0;
}

/* ro_guarded - run fn(arg) reading the mapping; STORE_ESHRUNK if it
 * faulted (fn's own status otherwise) */
static int ro_guarded(int (*fn)(void *arg), void *arg)
{
    sigjmp_buf env;

    if (!ro_installed)
	return STORE_EIO;
    if (sigsetjmp(env, 0) != 0)
	return STORE_ESHRUNK;
    ro_env = &env;
    {
	int rc = fn(arg);

	ro_env = NULL;
	return rc;
    }
}

/* ro_shrunk - is the file now shorter than the mapping? */
static int ro_shrunk(const STORE *st)
{
    struct stat sb;

    return fstat(st->fd, &sb) != 0 || (uint64_t) sb.st_size < st->size;
}

/* A time budget for one stripe, from the handle's lock timeout. */
struct ro_wait {
    struct timespec until;
    unsigned spins;
    int started;
};

/* ro_wait_more - may we try again? pauses between tries; 0 when over */
static int ro_wait_more(const STORE *st, struct ro_wait *w)
{
    struct timespec now, pause = { 0, RO_PAUSE_NS };

    if (w->spins++ < RO_SPINS)
	return 1;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!w->started) {
	w->started = 1;
	w->until = now;
	w->until.tv_sec += st->lock_timeout_ms / 1000;
	w->until.tv_nsec += (long) (st->lock_timeout_ms % 1000)
	    * NSEC_PER_MSEC;
	if (w->until.tv_nsec >= NSEC_PER_SEC) {
	    w->until.tv_sec++;
	    w->until.tv_nsec -= NSEC_PER_SEC;
	}
    } else if (now.tv_sec > w->until.tv_sec
	       || (now.tv_sec == w->until.tv_sec
		   && now.tv_nsec >= w->until.tv_nsec)) {
	return 0;
    }
    nanosleep(&pause, NULL);
    return 1;
}

/* seq_read - the stripe's sequence, acquire */
static inline uint32_t seq_read(const struct store_stripe *sp)
{
    return __atomic_load_n(&sp->seq, __ATOMIC_ACQUIRE);
}

/* seq_same - after a copy: was the sequence still s1? */
static inline int seq_same(const struct store_stripe *sp, uint32_t s1)
{
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return __atomic_load_n(&sp->seq, __ATOMIC_RELAXED) == s1;
}

/* ro_high - a stripe's high mark, read once and capped */
static inline uint32_t ro_high(const struct store_tab *t, unsigned s)
{
    uint32_t high = __atomic_load_n(&t->stripes[s].high, __ATOMIC_RELAXED);

    return high < t->cap ? high : t->cap;
}

/* slot_has - does a (copied or live) slot hold this key? */
static inline int slot_has(const struct store_tab *t, const unsigned char *slot,
			   uint16_t tag, const void *key)
{
    const struct store_link *l = (const void *) slot;

    return (l->flags & STORE_F_USED) && l->tag == tag
	&& memcmp(slot + t->koff, key, t->klen) == 0;
}

/* One lookup: the key and where its copy goes. */
struct ro_find {
    const STORE *st;
    const struct store_tab *t;
    uint64_t h;
    const void *key;
    unsigned char *buf;		/* t->stride bytes */
};

/* ro_locate - follow the key's chain in the live map; its slot, 0 if
 * absent, or UINT32_MAX for a chain that cannot be (range, length) */
static uint32_t ro_locate(const struct ro_find *f, unsigned s)
{
    const struct store_tab *t = f->t;
    uint32_t home = store_home(t, f->h), high = ro_high(t, s), i, steps = 0;
    uint16_t tag = (uint16_t) (f->h >> 48);
    const unsigned char *hs;

    if (home > high)
	return 0;
    hs = store_slot(t, s, home);
    if (slot_has(t, hs, tag, f->key))
	return home;
    i = __atomic_load_n(&((const struct store_link *) (const void *) hs)
			->bhead, __ATOMIC_RELAXED);
    while (i != 0) {
	const unsigned char *slot = store_slot(t, s, i);

	if (slot == NULL || i > high || ++steps > t->cap)
	    return UINT32_MAX;
	if (i != home && slot_has(t, slot, tag, f->key))
	    return i;
	i = __atomic_load_n(&((const struct store_link *) (const void *) slot)
			    ->hnext, __ATOMIC_RELAXED);
    }
    return 0;
}

/* ro_find_once - one consistent lookup and copy (under the guard) */
static int ro_find_once(void *arg)
{
    const struct ro_find *f = arg;
    unsigned s = store_stripe_of(f->h);
    const struct store_stripe *sp = &f->t->stripes[s];
    struct ro_wait w = { .spins = 0 };
    uint16_t tag = (uint16_t) (f->h >> 48);

    for (;;) {
	uint32_t s1 = seq_read(sp), idx;

	if (!(s1 & 1)) {
	    idx = ro_locate(f, s);
	    if (idx != 0 && idx != UINT32_MAX)
		memcpy(f->buf, store_slot(f->t, s, idx), f->t->stride);
	    if (seq_same(sp, s1)) {
		if (idx == UINT32_MAX)
		    return STORE_EFORMAT;
		if (idx == 0)
		    return STORE_NOTFOUND;
		return slot_has(f->t, f->buf, tag, f->key) ? STORE_OK
		    : STORE_EFORMAT;
	    }
	}
	if (!ro_wait_more(f->st, &w))
	    return STORE_TIMEOUT;
    }
}

/* store_ro_get - a consistent copy of one entry, without its lock */
int store_ro_get(STORE *st, struct store_tab *t, uint64_t h, const void *key,
		 uint32_t now, store_copy_fn copy, void *out)
{
    _Alignas(STORE_LINE) unsigned char buf[STORE_SLOT_MAX];
    struct ro_find f = { st, t, h, key, buf };
    int rc;

    if (t->stride > sizeof(buf))
	return STORE_EFORMAT;
    if ((rc = ro_guarded(ro_find_once, &f)) == STORE_OK)
	copy(st, buf, now, out);
    return rc;
}

/* One stripe's walk: where it is and what it copied. */
struct ro_batch {
    STORE *st;
    const struct store_tab *t;
    unsigned s;
    uint32_t next;		/* the next slot; 0 when the stripe is done */
    unsigned char *buf;
    unsigned max, n;
    uint32_t copied;		/* live slots copied from this stripe */
};

/* ro_copy_slot - copy slot idx if live; 1 copied, 0 free, -1 busy */
static int ro_copy_slot(struct ro_batch *b, uint32_t idx, unsigned char *dst)
{
    const struct store_stripe *sp = &b->t->stripes[b->s];
    const unsigned char *slot = store_slot(b->t, b->s, idx);
    struct ro_wait w = { .spins = 0 };

    for (;;) {
	uint32_t s1 = seq_read(sp);

	if (!(s1 & 1)) {
	    int used = (__atomic_load_n(&((const struct store_link *)
					  (const void *) slot)->flags,
					__ATOMIC_RELAXED) & STORE_F_USED) != 0;

	    if (used)
		memcpy(dst, slot, b->t->stride);
	    if (seq_same(sp, s1))
		return used && (((const struct store_link *) (const void *)
				 dst)->flags & STORE_F_USED) ? 1 : 0;
	}
	if (!ro_wait_more(b->st, &w))
	    return -1;
    }
}

/* ro_skip - a stripe stayed busy: count what is left of it, move on */
static void ro_skip(struct ro_batch *b)
{
    uint32_t live = store_stripe_count(b->t, b->s);

    b->st->ro_skipped += live > b->copied ? live - b->copied : 1;
    b->next = 0;
}

/* ro_batch_fill - copy up to max live slots of the stripe from next on
 * (under the guard); a stripe that stays busy is skipped (ro_skip) */
static int ro_batch_fill(void *arg)
{
    struct ro_batch *b = arg;
    uint32_t high = ro_high(b->t, b->s);

    for (b->n = 0; b->next <= high && b->n < b->max; b->next++) {
	int r = ro_copy_slot(b, b->next,
			     b->buf + (size_t) b->n * b->t->stride);

	if (r < 0) {
	    ro_skip(b);
	    return STORE_OK;
	}
	b->n += (unsigned) r;
	b->copied += (uint32_t) r;
    }
    if (b->next > high)
	b->next = 0;
    return STORE_OK;
}

/* store_ro_each - hand a consistent copy of every live slot to visit();
 * batch slots are copied between visits; visit nonzero stops */
int store_ro_each(STORE *st, struct store_tab *t, unsigned batch,
		  int (*visit)(const void *slot, void *arg), void *arg)
{
    struct ro_batch b = { .st = st, .t = t, .max = batch };
    int rc = STORE_OK, stop = 0;

    if (ro_shrunk(st))
	return STORE_ESHRUNK;
    if ((b.buf = malloc((size_t) batch * t->stride)) == NULL)
	return STORE_EIO;
    for (unsigned s = 0; rc == STORE_OK && !stop && s < STORE_STRIPES; s++) {
	b.copied = 0;
	b.s = s;
	b.next = 1;
	while (rc == STORE_OK && !stop && b.next != 0) {
	    rc = ro_guarded(ro_batch_fill, &b);
	    for (unsigned i = 0; rc == STORE_OK && !stop && i < b.n; i++)
		stop = visit(b.buf + (size_t) i * t->stride, arg) != 0;
	    b.n = 0;
	}
    }
    free(b.buf);
    return rc;
}

/* hdr_copy - the header page's bytes into the handle's copy (guarded) */
static int hdr_copy(void *arg)
{
    STORE *st = arg;

    memcpy(st->ro_hdr, st->base, STORE_HDR_SIZE);
    return STORE_OK;
}

/* A fill count: both tables' live entries. */
struct ro_fill {
    const STORE *st;
    uint32_t users, clients;
};

/* fill_count - sum the stripes' counts (guarded) */
static int fill_count(void *arg)
{
    struct ro_fill *f = arg;

    for (unsigned s = 0; s < STORE_STRIPES; s++) {
	f->users += store_stripe_count(&f->st->users, s);
	f->clients += store_stripe_count(&f->st->clients, s);
    }
    return STORE_OK;
}

/* store_ro_fill - the tables' live entries, for store_get_stats */
int store_ro_fill(const STORE *st, uint32_t *users, uint32_t *clients)
{
    struct ro_fill f = { st, 0, 0 };
    int rc = ro_guarded(fill_count, &f);

    *users = f.users;
    *clients = f.clients;
    return rc;
}

/* store_ro_header - refresh the handle's copy of the header */
int store_ro_header(STORE *st)
{
    return ro_guarded(hdr_copy, st);
}

/* store_ro_attach - a read-only handle's own parts: the fault guard and
 * the header's copy */
int store_ro_attach(STORE *st)
{
    pthread_once(&ro_once, ro_install);
    if (!ro_installed)
	return STORE_EIO;
    if (st->ro_hdr == NULL) {	/* the page, aligned as the mapping is */
	if ((st->ro_hdr = aligned_alloc(STORE_PAGE, STORE_HDR_SIZE)) == NULL)
	    return STORE_EIO;
	memset(st->ro_hdr, 0, STORE_HDR_SIZE);
    }
    return store_ro_header(st);
}

/* store_ro_detach - free what store_ro_attach made */
void store_ro_detach(STORE *st)
{
    free(st->ro_hdr);
    st->ro_hdr = NULL;
}

/* store_skipped - entries read-only walks could not copy */
uint64_t store_skipped(const STORE *st)
{
    return st == NULL ? 0 : st->ro_skipped;
}
