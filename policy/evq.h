/*
 * evq - a bounded queue of event records and the one thread that
 * (seals and) sends them, in batches, off the mail threads.
 *
 * A mail thread copies its datagram into a free slot (evq_put) under a
 * short mutex and never waits for anything else: a full queue, or one
 * stopped, refuses it and the caller counts a drop. Under traffic the
 * sender thread wakes on its own timer every EVQ_INTERVAL_MS (sooner
 * when EVQ_BATCH datagrams wait) and hands up to EVQ_BATCH of them to
 * the send function (one sendmmsg) without holding the mutex; a mail
 * thread signals it only when it went idle (a whole interval without
 * an event) or a batch is full, so a busy milter pays one wake-up per
 * interval or per EVQ_BATCH events, whichever comes first, not one per
 * event. An event reaches the socket within EVQ_INTERVAL_MS (plus the
 * send's wait for room, batch_max_ms at most). After a send the few
 * datagrams that came meanwhile move to the first slots, so the slots
 * in use stay the same few (warm in the cache) rather than a walk
 * round the whole ring.
 * evq_stop sends everything queued before it, then ends the thread.
 *
 * Bounded waits: a batch may wait for room in the socket stall_ms at a
 * time without progress (a collector that reads slowly but reads gets
 * its burst; a stopped one costs a batch stall_ms), batch_max_ms in all;
 * after evq_stop every batch left shares one deadline (drain_ms after
 * the stop), so a stop (exit, the end of a reload's old snapshot) takes
 * about drain_ms at most even when the collector is stopped and the
 * queue full; what finds no room by then is dropped (counted by the
 * send function).
 *
 * Memory ordering: every access to head, count, busy and stopping is
 * under the mutex. A producer writes a slot and then, under the mutex,
 * counts it; the sender reads the count under the mutex and only then
 * the slots, so the mutex's release/acquire orders the slot's bytes
 * before the sender's reads. Slots being sent stay counted (the sender
 * frees them under the mutex after the send), so no producer reuses a
 * slot the sender is still reading.
 */
#ifndef RG_EVQ_H
#define RG_EVQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <time.h>

#define EVQ_SLOTS 2048		/* per snapshot; ~1.6 MB */
#define EVQ_BATCH 256		/* records per send (a few batch datagrams) */
#define EVQ_INTERVAL_MS 250	/* the longest an event waits for a batch */
#define EVQ_FRONT_MAX 32	/* datagrams moved to slot 0 after a send, at most */
#define EVQ_STALL_MS 20		/* a batch's wait for room without progress */
#define EVQ_BATCH_MAX_MS 1000	/* a batch's wait for room in all */
#define EVQ_THREAD_NAME "rg-events"	/* the sender thread, as ps -L shows it */
#define EVQ_DRAIN_MS 200	/* the stop's wait for room, all batches together */

/* How long a send may wait for room in the socket: stall_ms at a time
 * without a datagram going out, and never past until (CLOCK_MONOTONIC). */
struct evq_wait {
    unsigned stall_ms;
    struct timespec until;
};

/* evq_send_fn - send n datagrams (msg[i]), waiting for room as w says;
 * how many went out. The rest are the caller's drops. Called from the
 * sender thread (or, when it never started, from evq_stop) only. The
 * slots it is handed are its own until it returns: it may rewrite them
 * within slot_size (the milter seals its records there) and change
 * msg[i]. */
typedef size_t (*evq_send_fn)(void *ctx, struct iovec *msg, size_t n,
			      const struct evq_wait *w);

struct evq_params {
    size_t slots, slot_size;
    unsigned interval_ms;	/* the longest a datagram waits for its batch */
    unsigned stall_ms;		/* a batch's wait for room without progress */
    unsigned batch_max_ms;	/* a batch's wait for room in all, from its start */
    unsigned drain_ms;		/* evq_stop's wait for every batch left */
    evq_send_fn send;
    void *ctx;
};

struct evq;

struct evq *evq_new(const struct evq_params *p);
bool evq_start(struct evq *q);
bool evq_put(struct evq *q, const uint8_t *d, size_t n);
void evq_stop(struct evq *q);
void evq_free(struct evq *q);

#endif
