/*
 * evq - the event queue and its sender thread (see evq.h).
 *
 * Contract: evq_put is safe from any number of threads and never
 * blocks on I/O; evq_new, evq_start, evq_stop and evq_free belong to
 * one owner (the snapshot that holds the collector socket). The sender
 * thread runs with every signal blocked, so a process-directed signal
 * never lands on it.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "evq.h"

struct evq {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    size_t slots, slot_size;
    size_t head;		/* the oldest queued slot */
    size_t count;		/* queued slots, those being sent included */
    size_t busy;		/* of those, handed to send (the oldest ones) */
    unsigned interval_ms, stall_ms, batch_max_ms, drain_ms;
    struct timespec drain_until;	/* set by evq_stop */
    bool started, stopping;
    bool idle;			/* the sender sleeps until signalled */
    pthread_t thread;
    evq_send_fn send;
    void *ctx;
    size_t *len;		/* per slot */
    uint8_t *data;		/* slots * slot_size */
};

/* evq_new - an empty queue; NULL when out of memory */
struct evq *evq_new(const struct evq_params *p)
{
    struct evq *q = calloc(1, sizeof(*q));
    pthread_condattr_t ca;

    if (q == NULL || p->slots == 0 || p->slot_size > SIZE_MAX / p->slots)
	return free(q), NULL;
    q->slots = p->slots, q->slot_size = p->slot_size;
    q->interval_ms = p->interval_ms, q->stall_ms = p->stall_ms;
    q->batch_max_ms = p->batch_max_ms;
    q->send = p->send, q->ctx = p->ctx;
    q->drain_ms = p->drain_ms;
    q->idle = true;
    q->len = calloc(q->slots, sizeof(*q->len));
    q->data = malloc(q->slots * q->slot_size);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (q->len == NULL || q->data == NULL || pthread_mutex_init(&q->lock, NULL) != 0) {
	free(q->len), free(q->data), free(q);
	pthread_condattr_destroy(&ca);
	return NULL;
    }
    pthread_cond_init(&q->wake, &ca);
    pthread_condattr_destroy(&ca);
    /* touch every page now (the reload's thread), so that the mail
     * threads' evq_put never takes the first-touch page fault of a
     * fresh slot: the slots are ~1.6 MB of new memory per snapshot */
    memset(q->data, 0, q->slots * q->slot_size);
    return q;
}

/* evq_put - queue a copy of one datagram; false (a drop) when it is too
 * long, the queue full or stopped */
bool evq_put(struct evq *q, const uint8_t *d, size_t n)
{
    size_t i;
    bool ok = false;

    if (n > q->slot_size)
	return false;
    pthread_mutex_lock(&q->lock);
    if (!q->stopping && q->count < q->slots) {
	i = (q->head + q->count) % q->slots;
	memcpy(q->data + i * q->slot_size, d, n);
	q->len[i] = n;
	q->count++;
	ok = true;
	/* wake the sender when it sleeps without a timer (idle) and
	 * when a batch is full; else its timer brings it soon enough */
	if ((q->idle && q->count == 1) || q->count - q->busy == EVQ_BATCH)
	    pthread_cond_signal(&q->wake);
    }
    pthread_mutex_unlock(&q->lock);
    return ok;
}

/* deadline - now + ms on the condition's clock */
static struct timespec deadline(unsigned ms)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_nsec += (long) (ms % 1000) * 1000000L;
    t.tv_sec += ms / 1000 + t.tv_nsec / 1000000000L;
    t.tv_nsec %= 1000000000L;
    return t;
}

/* earlier - the earlier of two times */
static struct timespec earlier(struct timespec a, struct timespec b)
{
    return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec) ? a : b;
}

/* next_batch - wait for a batch, mark it busy and set *w, its wait for
 * room in the socket; 0 when stopping with nothing left. Called with
 * the lock held. Under traffic the sender runs on a timer: every
 * interval_ms it takes what came meanwhile (sooner when a batch is
 * full), and nobody has to wake it. Only after a whole interval with
 * nothing does it sleep (idle) until a producer's first datagram
 * signals it: a wake-up, and the switch it costs on this VM, per
 * interval rather than per batch and event. */
static size_t next_batch(struct evq *q, struct evq_wait *w)
{
    struct timespec t;
    size_t n;

    while (q->count < EVQ_BATCH && !q->stopping) {
	if (q->idle) {
	    if (q->count == 0) {
		pthread_cond_wait(&q->wake, &q->lock);
		continue;
	    }
	    q->idle = false;
	}
	t = deadline(q->interval_ms);
	while (q->count < EVQ_BATCH && !q->stopping
	       && pthread_cond_timedwait(&q->wake, &q->lock, &t) != ETIMEDOUT)
	    ;
	if (q->count > 0)
	    break;
	q->idle = true;		/* a quiet interval: sleep until signalled */
    }
    n = q->count < EVQ_BATCH ? q->count : EVQ_BATCH;
    q->busy = n;
    w->stall_ms = q->stall_ms;
    w->until = deadline(q->batch_max_ms);
    if (q->stopping)		/* the stop's batches share one deadline */
	w->until = earlier(w->until, q->drain_until);
    return n;
}

/* to_front - with the lock held and no slot busy: start the queue at
 * slot 0 again when it holds few datagrams (none, or those that came
 * during the last send; at most EVQ_FRONT_MAX are moved). The mail
 * threads then write the same few slots over and over, warm in the
 * cache, instead of walking the whole ring (~1.6 MB, more than the L2
 * of a core) one cold slot a message. */
static void to_front(struct evq *q)
{
    size_t k, from;

    /* a run that wraps round the end is left alone: its part at the
     * start would be overwritten before it is read */
    if (q->head == 0 || q->count > EVQ_FRONT_MAX || q->head + q->count > q->slots)
	return;
    for (k = 0; k < q->count; k++) {	/* upwards: slot k < from */
	from = q->head + k;
	memcpy(q->data + k * q->slot_size, q->data + from * q->slot_size, q->len[from]);
	q->len[k] = q->len[from];
    }
    q->head = 0;
}

/* send_busy - hand the busy slots to send, then free them */
static void send_busy(struct evq *q, size_t n, const struct evq_wait *w)
{
    struct iovec v[EVQ_BATCH];
    size_t k, i;

    for (k = 0; k < n; k++) {	/* slots the producers leave alone */
	i = (q->head + k) % q->slots;
	v[k].iov_base = q->data + i * q->slot_size;
	v[k].iov_len = q->len[i];
    }
    q->send(q->ctx, v, n, w);
    pthread_mutex_lock(&q->lock);
    q->head = (q->head + n) % q->slots;
    q->count -= n;
    q->busy = 0;
    to_front(q);
    pthread_mutex_unlock(&q->lock);
}

/* drain - send batches until stopped and empty */
static void drain(struct evq *q)
{
    struct evq_wait w;
    size_t n;

    for (;;) {
	pthread_mutex_lock(&q->lock);
	n = next_batch(q, &w);
	pthread_mutex_unlock(&q->lock);
	if (n == 0)
	    return;
	send_busy(q, n, &w);
    }
}

/* sender - the thread */
static void *sender(void *arg)
{
    drain(arg);
    return NULL;
}

/* evq_start - the sender thread, with every signal blocked */
bool evq_start(struct evq *q)
{
    sigset_t all, old;
    bool ok;

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    ok = pthread_create(&q->thread, NULL, sender, q) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (ok)			/* for top -H and perf --per-thread */
	pthread_setname_np(q->thread, EVQ_THREAD_NAME);
    q->started = ok;
    return ok;
}

/* evq_stop - refuse new datagrams, send every queued one within
 * drain_ms, end the thread (or send them here when it never started);
 * idempotent */
void evq_stop(struct evq *q)
{
    if (q == NULL)
	return;
    pthread_mutex_lock(&q->lock);
    if (!q->stopping)
	q->drain_until = deadline(q->drain_ms);
    q->stopping = true;
    pthread_cond_signal(&q->wake);
    pthread_mutex_unlock(&q->lock);
    if (q->started) {
	pthread_join(q->thread, NULL);
	q->started = false;
	return;
    }
    drain(q);
}

/* evq_free - stop and release */
void evq_free(struct evq *q)
{
    if (q == NULL)
	return;
    evq_stop(q);
    pthread_cond_destroy(&q->wake);
    pthread_mutex_destroy(&q->lock);
    free(q->len);
    free(q->data);
    free(q);
}
