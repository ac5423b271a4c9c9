/*
 * check_evq - the event queue: a full queue refuses (a counted drop),
 * what is queued before the stop is sent, batches go out when full, and
 * many producers lose nothing they were told was queued, and the slots
 * in use stay at the front of the ring.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "evq.h"

#define SLOT 16

struct sink {
    atomic_size_t n, calls;
    uint32_t seen[4096];	/* the first numbers sent, in order */
};

/* take - the send function: record every datagram's number */
static size_t take(void *ctx, struct iovec *msg, size_t n, const struct evq_wait *w)
{
    struct sink *s = ctx;
    size_t i, at = atomic_load(&s->n);
    uint32_t v;

    for (i = 0; i < n; i++, at++) {
	ck_assert_uint_eq(msg[i].iov_len, sizeof(v));
	memcpy(&v, msg[i].iov_base, sizeof(v));
	if (at < 4096)
	    s->seen[at] = v;
    }
    ck_assert_ptr_nonnull(w);
    atomic_fetch_add(&s->calls, 1);
    atomic_store(&s->n, at);
    return n;
}

/* params - a queue of slots for take, to s */
static const struct evq_params *params(size_t slots, size_t size, unsigned interval_ms,
				       struct sink *s)
{
    static struct evq_params p;

    p = (struct evq_params) {
	.slots = slots, .slot_size = size, .interval_ms = interval_ms,
	.stall_ms = EVQ_STALL_MS, .batch_max_ms = EVQ_BATCH_MAX_MS, .drain_ms = EVQ_DRAIN_MS, .send = take, .ctx = s,
    };
    return &p;
}

/* put - queue the number v */
static bool put(struct evq *q, uint32_t v)
{
    return evq_put(q, (const uint8_t *) &v, sizeof(v));
}

/* A full queue refuses the datagram (the caller counts the drop); the
 * stop sends what was queued, in order, and refuses what comes later. */
START_TEST(test_full_and_stop)
{
    static struct sink s;
    struct evq *q = evq_new(params(4, SLOT, 10000, &s));
    uint8_t big[SLOT + 1] = {0};
    uint32_t i;

    ck_assert_ptr_nonnull(q);
    for (i = 1; i <= 4; i++)
	ck_assert(put(q, i));
    ck_assert(!put(q, 5));
    ck_assert(!evq_put(q, big, sizeof(big)));	/* too long for a slot */
    ck_assert_uint_eq(atomic_load(&s.n), 0);
    evq_stop(q);
    ck_assert_uint_eq(atomic_load(&s.n), 4);
    for (i = 0; i < 4; i++)
	ck_assert_uint_eq(s.seen[i], i + 1);
    ck_assert(!put(q, 6));
    evq_free(q);
    ck_assert_uint_eq(atomic_load(&s.n), 4);
}
END_TEST

/* With the sender running, a part batch waits for its timer, a full
 * batch goes at once, and the stop flushes the rest. */
START_TEST(test_batch_and_flush)
{
    static struct sink s;
    struct evq *q = evq_new(params(1024, SLOT, 60000, &s));
    uint32_t i;
    int t;

    ck_assert(evq_start(q));
    for (i = 0; i < 3; i++)
	ck_assert(put(q, i));
    usleep(100000);
    ck_assert_uint_eq(atomic_load(&s.n), 0);	/* a minute's timer */
    for (; i < EVQ_BATCH; i++)
	ck_assert(put(q, i));
    for (t = 0; t < 500 && atomic_load(&s.n) < EVQ_BATCH; t++)
	usleep(10000);
    ck_assert_uint_eq(atomic_load(&s.n), EVQ_BATCH);
    ck_assert_uint_eq(atomic_load(&s.calls), 1);	/* one sendmmsg */
    for (; i < EVQ_BATCH + 5; i++)
	ck_assert(put(q, i));
    evq_free(q);	/* the exit: sealed before it, so sent */
    ck_assert_uint_eq(atomic_load(&s.n), EVQ_BATCH + 5);
    for (i = 0; i < EVQ_BATCH + 5; i++)
	ck_assert_uint_eq(s.seen[i], i);
}
END_TEST

/* A short timer sends a part batch without a stop. */
START_TEST(test_timer)
{
    static struct sink s;
    struct evq *q = evq_new(params(64, SLOT, 5, &s));
    int t;

    ck_assert(evq_start(q));
    ck_assert(put(q, 7));
    for (t = 0; t < 500 && atomic_load(&s.n) < 1; t++)
	usleep(10000);
    ck_assert_uint_eq(atomic_load(&s.n), 1);
    evq_free(q);
}
END_TEST

static atomic_size_t stalled_calls;

/* stall - a send function for a collector that reads nothing: waits
 * for room as long as w allows, then sends nothing */
static size_t stall(void *ctx, struct iovec *msg, size_t n, const struct evq_wait *w)
{
    struct timespec t;

    (void) ctx, (void) msg, (void) n;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_nsec += (long) w->stall_ms * 1000000L;
    t.tv_sec += t.tv_nsec / 1000000000L, t.tv_nsec %= 1000000000L;
    if (w->until.tv_sec < t.tv_sec || (w->until.tv_sec == t.tv_sec && w->until.tv_nsec < t.tv_nsec))
	t = w->until;
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
    atomic_fetch_add(&stalled_calls, 1);
    return 0;
}

/* A stop with a queue full of batches that find no room takes the
 * drain's time, not a stall per batch. The stall here is DRAIN_STALL_MS,
 * not EVQ_STALL_MS (20 ms: 32 batches 640 ms, too near the drain's 200
 * ms plus a loaded machine's delays under ASan): a stall per batch takes
 * 3.2 s, the drain about 200 ms, and the bound between them leaves a
 * second for the machine. */
#define DRAIN_STALL_MS 100
#define DRAIN_SLACK_MS 1000

START_TEST(test_stop_drain_bounded)
{
    const struct evq_params p = {
	.slots = 32 * EVQ_BATCH, .slot_size = SLOT, .interval_ms = 60000,
	.stall_ms = DRAIN_STALL_MS, .batch_max_ms = EVQ_BATCH_MAX_MS,
	.drain_ms = EVQ_DRAIN_MS, .send = stall,
    };
    struct evq *q = evq_new(&p);
    struct timespec a, b;
    double took;
    uint32_t i;

    ck_assert(evq_start(q));
    for (i = 0; i < 32 * EVQ_BATCH; i++)
	ck_assert(put(q, i));
    clock_gettime(CLOCK_MONOTONIC, &a);
    evq_stop(q);
    clock_gettime(CLOCK_MONOTONIC, &b);
    took = (double) (b.tv_sec - a.tv_sec) + (double) (b.tv_nsec - a.tv_nsec) / 1e9;
    ck_assert_msg(took < (EVQ_DRAIN_MS + DRAIN_STALL_MS + DRAIN_SLACK_MS) / 1000.0,
		  "stop took %.3f s", took);
    ck_assert_uint_eq(atomic_load(&stalled_calls), 32);	/* each batch offered */
    evq_free(q);
}
END_TEST

#define PRODUCERS 4
#define EACH 20000

static struct evq *shared;
static atomic_size_t accepted, refused;

/* producer - EACH puts, counting what the queue took and refused */
static void *producer(void *arg)
{
    uint32_t i, base = (uint32_t) (uintptr_t) arg * EACH;

    for (i = 0; i < EACH; i++)
	atomic_fetch_add(put(shared, base + i) ? &accepted : &refused, 1);
    return NULL;
}

/* Many mail threads at once: every datagram accepted is sent, the rest
 * were refused (drops), none lost or doubled. */
START_TEST(test_many_producers)
{
    static struct sink s;
    pthread_t th[PRODUCERS];
    uintptr_t i;

    shared = evq_new(params(256, SLOT, 1, &s));
    ck_assert(evq_start(shared));
    for (i = 0; i < PRODUCERS; i++)
	ck_assert_int_eq(pthread_create(&th[i], NULL, producer, (void *) i), 0);
    for (i = 0; i < PRODUCERS; i++)
	pthread_join(th[i], NULL);
    evq_free(shared);
    ck_assert_uint_eq(atomic_load(&accepted) + atomic_load(&refused), PRODUCERS * EACH);
    ck_assert_uint_eq(atomic_load(&s.n), atomic_load(&accepted));
}
END_TEST

/* evq_suite - every case above */
/* minor_faults - this thread's minor page faults so far */
static long minor_faults(void)
{
    struct rusage u;

    ck_assert_int_eq(getrusage(RUSAGE_THREAD, &u), 0);
    return u.ru_minflt;
}

/* count - a send function that takes any datagram */
static size_t count(void *ctx, struct iovec *msg, size_t n, const struct evq_wait *w)
{
    struct sink *s = ctx;

    (void) msg, (void) w;
    atomic_fetch_add(&s->n, n);
    return n;
}

/* fresh_faults - this thread's page faults writing n datagrams of len
 * bytes, one after the other, into memory never touched (what the puts
 * cost when evq_new left the slots untouched; no huge pages, as a
 * malloc of that size gets here), a sanitizer's shadow memory included */
static long fresh_faults(const uint8_t *d, size_t len, size_t n)
{
    uint8_t *m = mmap(NULL, n * len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    long before;

    ck_assert_ptr_ne(m, MAP_FAILED);
    madvise(m, n * len, MADV_NOHUGEPAGE);
    before = minor_faults();
    for (size_t i = 0; i < n; i++)
	memcpy(m + i * len, d, len);
    before = minor_faults() - before;
    munmap(m, n * len);
    return before;
}

/* A new queue's slots are resident from evq_new on: filling all of
 * them with full-size datagrams takes no page fault in the putting
 * thread (the mail thread's share of the events' cost; before, every
 * ~5th event after a start or reload faulted a fresh page in). The
 * bound is a share of what the same writes into fresh memory cost, so
 * that a sanitizer's shadow memory (ASan ~120 faults, TSan ~270, on
 * the slots' pages resident or not) does not decide it. */
START_TEST(test_put_no_page_faults)
{
    static struct sink s;
    static uint8_t d[1200];
    struct evq_params p = *params(2048, sizeof(d), 10000, &s);
    struct evq *q;
    long before, warm, cold;
    uint32_t i;

    p.send = count;
    q = evq_new(&p);
    ck_assert_ptr_nonnull(q);
    memset(d, 0x5a, sizeof(d));
    cold = fresh_faults(d, sizeof(d), 2048);
    before = minor_faults();
    for (i = 0; i < 2048; i++)
	ck_assert(evq_put(q, d, sizeof(d)));
    warm = minor_faults() - before;
    /* before: a fault per 3.4 puts (600, as into fresh memory); now
     * none, but for a sanitizer's shadow memory */
    ck_assert_msg(warm * 4 <= cold, "%ld page faults in 2048 puts, %ld into fresh memory",
		  warm, cold);
    ck_assert(!evq_put(q, d, sizeof(d)));	/* full */
    evq_free(q);
    ck_assert_uint_eq(atomic_load(&s.n), 2048);	/* all sent at the stop */
}
END_TEST

struct gated {
    atomic_int calls, hold;
    const void *base[8];	/* each call's first slot */
    size_t n[8];
    uint32_t first[8];		/* each call's first number */
};

/* gated_take - a send function that records where each batch starts
 * and, while hold is set, keeps the first batch (the producers go on) */
static size_t gated_take(void *ctx, struct iovec *msg, size_t n, const struct evq_wait *w)
{
    struct gated *g = ctx;
    int i = atomic_load(&g->calls);

    (void) w;
    if (i < 8) {
	g->base[i] = msg[0].iov_base, g->n[i] = n;
	memcpy(&g->first[i], msg[0].iov_base, sizeof(g->first[i]));
    }
    atomic_store(&g->calls, i + 1);
    while (i == 0 && atomic_load(&g->hold))
	usleep(1000);
    return n;
}

/* wait_calls - until g saw k sends (5 s at most) */
static void wait_calls(struct gated *g, int k)
{
    int t;

    for (t = 0; t < 500 && atomic_load(&g->calls) < k; t++)
	usleep(10000);
    ck_assert_int_ge(atomic_load(&g->calls), k);
}

/* After a send the datagrams that came meanwhile move to the first
 * slots, and an empty queue starts at slot 0 again: every batch starts
 * at the same slot (before, each began where the last ended, a walk
 * round the whole ring, one cold slot a message), in order. */
START_TEST(test_slots_to_front)
{
    static struct sink s;
    static struct gated g;
    struct evq_params p = *params(64, SLOT, 5, &s);
    struct evq *q;

    p.send = gated_take, p.ctx = &g;
    atomic_store(&g.hold, 1);
    q = evq_new(&p);
    ck_assert(evq_start(q));
    ck_assert(put(q, 1));
    wait_calls(&g, 1);		/* the sender holds the first batch */
    ck_assert(put(q, 2));
    ck_assert(put(q, 3));
    atomic_store(&g.hold, 0);
    wait_calls(&g, 2);
    ck_assert_uint_eq(g.n[0], 1);
    ck_assert_uint_eq(g.n[1], 2);
    ck_assert_uint_eq(g.first[1], 2);	/* 2 and 3, moved to slots 0 and 1 */
    ck_assert_ptr_eq(g.base[1], g.base[0]);
    ck_assert(put(q, 4));
    wait_calls(&g, 3);
    ck_assert_uint_eq(g.n[2], 1);
    ck_assert_uint_eq(g.first[2], 4);
    ck_assert_ptr_eq(g.base[2], g.base[0]);	/* empty: slot 0 again */
    evq_free(q);
}
END_TEST

static Suite *evq_suite(void)
{
    Suite *s = suite_create("evq");
    TCase *tc = tcase_create("evq");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_full_and_stop);
    tcase_add_test(tc, test_batch_and_flush);
    tcase_add_test(tc, test_timer);
    tcase_add_test(tc, test_many_producers);
    tcase_add_test(tc, test_stop_drain_bounded);
    tcase_add_test(tc, test_put_no_page_faults);
    tcase_add_test(tc, test_slots_to_front);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(evq_suite());
}
