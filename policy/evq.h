/*
 * evq - a bounded queue of sealed event datagrams and the one thread
 * that sends them, in batches, off the mail threads.
 *
 * A mail thread copies its datagram into a free slot (evq_put) under a
 * short mutex and never waits for anything else: a full queue, or one
 * stopped, refuses it and the caller counts a drop. The sender thread
 * waits until the queue holds EVQ_BATCH datagrams or EVQ_INTERVAL_MS
 * passed since the first one arrived, then hands up to EVQ_BATCH of them
 * to the send function (one sendmmsg) without holding the mutex.
 * evq_stop sends everything queued before it, then ends the thread.
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

#define EVQ_SLOTS 2048		/* per snapshot; ~1.6 MB */
#define EVQ_BATCH 64		/* datagrams per sendmmsg */
#define EVQ_INTERVAL_MS 5	/* the longest an event waits for a batch */

/* evq_send_fn - send n datagrams (msg[i]); how many went out. The rest
 * are the caller's drops. Called from the sender thread only. */
typedef size_t (*evq_send_fn)(void *ctx, struct iovec *msg, size_t n);

struct evq;

struct evq *evq_new(size_t slots, size_t slot_size, unsigned interval_ms,
		    evq_send_fn send, void *ctx);
bool evq_start(struct evq *q);
bool evq_put(struct evq *q, const uint8_t *d, size_t n);
void evq_stop(struct evq *q);
void evq_free(struct evq *q);

#endif
