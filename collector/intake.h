/*
 * intake - the collector's receiving end of the milter's events: a unix
 * datagram socket (collector.address "unix:/PATH", the default) or UDP
 * on a given address, a receive buffer sized for bursts, verification
 * (event_open), the replay and clock windows, storage in batches, and
 * counters: events stored, refused per reason, dropped by the kernel.
 *
 * Contract: one struct intake per thread, with its own history handle.
 * intake_step waits up to timeout_ms for datagrams, then gathers them in
 * memory while they keep coming and stores them in one short
 * transaction. A batch of single-record datagrams ends after
 * INTAKE_IDLE_MS without one or INTAKE_BATCH_MS after the first; batch
 * datagrams (the milter's sender, which sends on its own timer) gather
 * for INTAKE_LINGER_MS from the first, whatever the pauses between
 * sends; either way at INTAKE_BATCH records or INTAKE_PEND_MAX bytes. A datagram holds one record or a batch of them (event_rec.h);
 * each record is verified, checked and stored on its own. Datagrams that
 * come while a batch is stored are read meanwhile and begin the next
 * step's batch, which then does not wait; intake_flush stores them (at a
 * stop), and what still waits in the socket. A bad datagram or record is counted, never fatal. Nothing is
 * logged here: the caller logs the counters.
 */
#ifndef RG_INTAKE_H
#define RG_INTAKE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cfg.h"
#include "event.h"
#include "history.h"

#define INTAKE_BATCH 65536	/* events per transaction, at most (a batch's last datagram may pass it) */
#define INTAKE_IDLE_MS 20	/* a batch ends when the socket was idle this long */
#define INTAKE_BATCH_MS 1000	/* and is committed after this long at most */
#define INTAKE_LINGER_MS 1000	/* batch datagrams gather this long from the first */
#define INTAKE_NAP_MS 2		/* a batch's nap on an empty socket (long queue), */
#define INTAKE_NAP_MAX_MS 10	/* longer when datagrams come slowly (batches); < INTAKE_IDLE_MS */
#define INTAKE_RECV_VEC 64	/* datagrams per recvmmsg */
#define INTAKE_RCVBUF (8 << 20)	/* bytes asked for the receive buffer */
#define INTAKE_QLEN_MIN 512	/* unix queue below which bursts are lost */
#define INTAKE_PEND_MAX (16 << 20)	/* bytes of datagrams gathered, at most */
#define INTAKE_STORE_READ 64	/* datagrams stored between reads of the socket */

struct intake_stats {
    uint64_t stored;
    uint64_t refused[EVREC_NSTATUS];	/* by reason; [EVREC_OK] unused */
    uint64_t kernel_drops;	/* datagrams the socket's buffer lost (UDP) */
    uint64_t seq_gaps;		/* sequence numbers never received */
};

/* A receive buffer holds a batch (EVBATCH_MAX) and one byte more (to
 * tell an oversized datagram); buffers lie an odd number of cache lines
 * past a power of two apart, so that the first bytes of 64 datagrams do
 * not all fall into the same cache sets. */
#define INTAKE_RX_STRIDE (EVBATCH_MAX + 13 * 64)

/* recvmmsg's vectors and buffers, allocated once */
struct intake_rx {
    struct mmsghdr msg[INTAKE_RECV_VEC];
    struct iovec iov[INTAKE_RECV_VEC];
    uint8_t buf[INTAKE_RECV_VEC][INTAKE_RX_STRIDE];	/* a batch or one record */
    char ctl[INTAKE_RECV_VEC][CMSG_SPACE(sizeof(uint32_t))];
};

/* Datagrams read and not yet stored: each a 4-byte length, then its
 * bytes, padded to 8 */
struct intake_pend {
    uint8_t *buf;
    size_t used, cap;
    size_t records;		/* records the datagrams hold (a bad batch: 1) */
    int64_t first_ms;		/* CLOCK_MONOTONIC when the first was read */
    int64_t heard_ms;		/* and the last */
    bool batches;		/* the last was a batch datagram */
};

struct intake {
    int fd;
    char path[108];		/* unix socket to remove at close, "" none */
    struct event_key key;
    struct event_replay replay;
    struct hist *hist;
    struct intake_rx *rx;
    struct intake_pend pend[2];	/* [cur]: being gathered; the other, stored */
    int cur;
    int rcvbuf;			/* the buffer the kernel granted */
    int qlen;			/* unix: datagrams the socket queues at most, -1 unknown */
    uint32_t ovfl_seen;		/* last SO_RXQ_OVFL count */
    struct intake_stats total, unsaved;	/* unsaved: not yet in the counters */
};

int intake_open(struct intake *in, const struct cfg *cfg, struct hist *h,
		char *err, size_t errlen);
int intake_step(struct intake *in, int timeout_ms, int64_t now_ms, size_t *got,
		char *err, size_t errlen);
int intake_flush(struct intake *in, int64_t now_ms, size_t *got, char *err,
		 size_t errlen);
void intake_close(struct intake *in);

#endif
