/*
 * report - verdict lines, counters, collector events, header text.
 *
 * Contract: thread-safe. Every SMTP-supplied string is sanitised by the
 * log module before it reaches a log line, a datagram or a header. The
 * event send never blocks: the mail thread copies the verdict's capture
 * (evrec_capture) into the snapshot's queue (evq.h) and one sender
 * thread makes the records, seals them (HMAC) and sends them in
 * batches, several records a datagram (event_rec.h, "RGEB");
 * a full queue, a full or absent collector socket is a counted drop.
 * Without a queue (a snapshot not made by rt_load) the mail thread sends.
 */
#include <errno.h>
#include <openssl/rand.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "event_rec.h"
#include "evq.h"
#include "log.h"
#include "report.h"
#include "stats.h"

#define HEADER_MAX 400
#define ROOM_NAP_NS 1000000L	/* after a poll that said writable in vain */

_Static_assert(EVREC_CAPTURE_MAX <= EVBATCH_LEN_SIZE + EVENT_MAX, "a capture fits a queue slot");

static uint64_t bootid;
static char node[EVREC_NODE_MAX + 1];
static atomic_uint_fast64_t event_seq;

/* report_init - a random boot id so the collector can tell restarts
 * apart, and this host's name for the events */
void report_init(void)
{
    if (RAND_bytes((unsigned char *) &bootid, sizeof(bootid)) != 1)
	bootid = (uint64_t) time(NULL) ^ (uint64_t) getpid() << 32;
    if (gethostname(node, sizeof(node)) != 0)
	snprintf(node, sizeof(node), "localhost");
    node[EVREC_NODE_MAX] = 0;
}

/* verdict_fields - the key=value body shared by the log and the event */
static void verdict_fields(const struct runtime *rt, const struct report_subject *s,
			   const struct rules_verdict *v, struct log_line *l)
{
    char a[ADDR_STRLEN + 2], tmp[ADDR_STRLEN];

    log_kv_raw(l, "action", cfg_action_name(v->action));
    log_kv_raw(l, "rule", v->rule >= 0 && (size_t) v->rule < rt->cfg->policy.nrules
	       ? rt->cfg->policy.rules[v->rule].name : v->from_block ? "block" : "-");
    log_kv_str(l, "user", s->login ? s->login : "");
    snprintf(a, sizeof(a), "[%s]", s->client ? addr_format(s->client, tmp, sizeof(tmp)) : "");
    log_kv_raw(l, "client", a);
    log_kv_raw(l, "country", s->country && *s->country ? s->country : "-");
    log_kv_raw(l, "class", rules_class_name(v->cls));
    log_kv_str(l, "reason", v->reason);
}

/* unix_connect - (re)connect the unix socket to the collector's path;
 * false when nobody listens there */
static bool unix_connect(struct runtime *rt, time_t now)
{
    if (connect(rt->evfd, (struct sockaddr *) &rt->evaddr, rt->evaddrlen) != 0) {
	atomic_store(&rt->evconn, 0);
	return false;
    }
    atomic_store(&rt->evconn, (long long) now);
    return true;
}

/* peer_gone - an errno that says the unix peer went away */
static bool peer_gone(int e)
{
    return e == ECONNREFUSED || e == ENOTCONN || e == ECONNRESET || e == ENOENT;
}

/* stall_deadline - now + w's stall_ms, or w's until if that is earlier */
static struct timespec stall_deadline(const struct evq_wait *w)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_nsec += (long) (w->stall_ms % 1000) * 1000000L;
    t.tv_sec += w->stall_ms / 1000 + t.tv_nsec / 1000000000L;
    t.tv_nsec %= 1000000000L;
    if (w->until.tv_sec < t.tv_sec || (w->until.tv_sec == t.tv_sec
				       && w->until.tv_nsec < t.tv_nsec))
	t = w->until;
    return t;
}

/* ms_left - whole milliseconds from now to *until, rounded up; 0 when
 * it has passed */
static int ms_left(const struct timespec *until)
{
    struct timespec t;
    int64_t ns;

    clock_gettime(CLOCK_MONOTONIC, &t);
    ns = (int64_t) (until->tv_sec - t.tv_sec) * 1000000000LL + (until->tv_nsec - t.tv_nsec);
    return ns <= 0 ? 0 : (int) ((ns + 999999) / 1000000);
}

/* room - wait for room in the socket until *until (NULL: not at all);
 * false when there is no time left. A poll that said writable before a
 * send that still found no room (it happens: the peer's queue filled
 * again in between) is followed by a nap, not another poll, so this
 * never spins; and the deadline is a time, not a budget counted down in
 * whole milliseconds, so it passes however often poll returns early. */
static bool room(int fd, const struct timespec *until, bool *polled)
{
    const struct timespec nap = {0, ROOM_NAP_NS};
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    int left;

    if (until == NULL || (left = ms_left(until)) == 0)
	return false;
    if (*polled)
	nanosleep(&nap, NULL);
    *polled = poll(&p, 1, left) > 0;
    return *polled || ms_left(until) > 0;
}

/* send_many - n prepared datagrams (m[i]) with as few sendmmsg as they
 * take; how many went out. A unix socket is connected (no path lookup
 * per send) and connected again at most once a second, so a collector
 * socket replaced under the same path is found, and at once when the
 * peer is gone (ECONNREFUSED, ENOTCONN, ENOENT). EAGAIN (the collector is
 * behind) waits for room as w says (NULL: never waits), then drops the
 * rest: the sender thread's batch can outgrow a small socket queue. */
static size_t send_many(struct runtime *rt, struct mmsghdr *m, size_t n, time_t now,
			const struct evq_wait *w)
{
    const int fl = MSG_DONTWAIT | MSG_NOSIGNAL;
    struct timespec stall;
    size_t done = 0;
    bool retried = false, polled = false;
    int r;

    if (rt->evaddrlen != 0 && atomic_load(&rt->evconn) != (long long) now
	&& !unix_connect(rt, now))
	return 0;
    if (w != NULL)
	stall = stall_deadline(w);
    while (done < n) {
	if ((r = sendmmsg(rt->evfd, m + done, (unsigned) (n - done), fl)) > 0) {
	    done += (size_t) r, polled = false;
	    if (w != NULL)	/* progress: a new stall_ms */
		stall = stall_deadline(w);
	    continue;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
	    if (!room(rt->evfd, w != NULL ? &stall : NULL, &polled))
		break;
	    continue;
	}
	if (rt->evaddrlen == 0 || retried || !peer_gone(errno) || !unix_connect(rt, now))
	    break;
	retried = true;
    }
    return done;
}

/* frame - the queued records v[0..n) (each its 2-byte length, then the
 * sealed record) as batch datagrams of at most EVBATCH_MAX bytes: m[d]
 * gathers a header from head[d] and its records' iovecs (in iov, which
 * holds n + datagrams); first[d] is the record each datagram starts
 * with, first[datagrams] = n. How many datagrams. */
static size_t frame(struct iovec *v, size_t n, struct mmsghdr *m, struct iovec *iov,
		    uint8_t (*head)[EVBATCH_HEAD], size_t *first)
{
    size_t d = 0, i = 0, start, bytes;
    struct iovec *at;

    while (i < n) {
	start = i, bytes = EVBATCH_HEAD;
	do			/* a record always fits an empty batch */
	    bytes += v[i++].iov_len;
	while (i < n && i - start < EVBATCH_RECORDS_MAX
	       && bytes + v[i].iov_len <= EVBATCH_MAX);
	at = iov + start + d;
	event_batch_head(head[d], i - start);
	at[0].iov_base = head[d], at[0].iov_len = EVBATCH_HEAD;
	memcpy(at + 1, v + start, (i - start) * sizeof(*v));
	memset(&m[d], 0, sizeof(m[d]));
	m[d].msg_hdr.msg_iov = at, m[d].msg_hdr.msg_iovlen = i - start + 1;
	first[d++] = start;
    }
    first[d] = n;
    return d;
}

/* stamp - the boot id and node of this milter, into r */
static void stamp(struct evrec *r)
{
    r->bootid = bootid;
    memcpy(r->node, node, sizeof(r->node));
}

/* seal_all - each queued capture (evrec_capture) made into its record,
 * sealed, in its slot (a slot holds a record's length, the record and
 * its MAC), and its length set; the records that could not be made or
 * sealed are left out. On the sender thread, a batch at a time: the
 * encoder's and the HMAC's code and state stay warm across the batch,
 * where the mail thread met them cold every message (on this VM every
 * system call flushes the TLB: each page of code and data a mail thread
 * touches between two calls costs a page walk, every message). How many
 * records are left. */
static size_t seal_all(const struct runtime *rt, struct iovec *v, size_t n)
{
    struct evrec r;
    size_t i, k = 0, len;
    uint8_t *p;

    for (i = 0; i < n; i++) {
	p = v[i].iov_base;
	if (!evrec_from_capture(rt->cfg, p, v[i].iov_len, &r))
	    continue;
	stamp(&r);
	len = evrec_encode(&r, p + EVBATCH_LEN_SIZE, EVENT_MAX - EVREC_MAC_LEN);
	if (len == 0 || (len = event_seal(&rt->key, p + EVBATCH_LEN_SIZE, len, EVENT_MAX)) == 0)
	    continue;
	p[0] = (uint8_t) (len >> 8), p[1] = (uint8_t) len;
	v[k].iov_base = p, v[k++].iov_len = EVBATCH_LEN_SIZE + len;
    }
    return k;
}

/* send_batch - the queue's send function: a batch sealed and sent as
 * batch datagrams, and its counters (events, not datagrams) */
static size_t send_batch(void *ctx, struct iovec *v, size_t n, const struct evq_wait *w)
{
    struct runtime *rt = ctx;
    struct mmsghdr m[EVQ_BATCH];
    struct iovec iov[2 * EVQ_BATCH];
    uint8_t head[EVQ_BATCH][EVBATCH_HEAD];
    size_t first[EVQ_BATCH + 1], d, sent, all;

    if (n > EVQ_BATCH)		/* the queue hands over one batch at most */
	n = EVQ_BATCH;
    all = n;
    n = seal_all(rt, v, n);
    d = frame(v, n, m, iov, head, first);
    sent = first[send_many(rt, m, d, time(NULL), w)];
    store_counter_add(rt->st, STATS_EVENTS_SENT, sent);
    if (sent < all)
	store_counter_add(rt->st, STATS_EVENTS_DROPPED, all - sent);
    return sent;
}

/* report_events_open - the snapshot's event queue and its sender
 * thread; false when they cannot be made (events are then sent by the
 * mail threads, as without a queue) */
bool report_events_open(struct runtime *rt)
{
    const struct evq_params p = {
	.slots = EVQ_SLOTS, .slot_size = EVBATCH_LEN_SIZE + EVENT_MAX, .interval_ms = EVQ_INTERVAL_MS,
	.stall_ms = EVQ_STALL_MS, .batch_max_ms = EVQ_BATCH_MAX_MS, .drain_ms = EVQ_DRAIN_MS,
	.send = send_batch, .ctx = rt,
    };

    rt->evq = NULL;
    if (rt->evfd < 0)
	return true;
    if ((rt->evq = evq_new(&p)) == NULL)
	return false;
    if (!evq_start(rt->evq)) {
	evq_free(rt->evq);
	rt->evq = NULL;
	return false;
    }
    return true;
}

/* report_events_flush - send what is queued and stop queueing (exit):
 * later events are counted drops */
void report_events_flush(struct runtime *rt)
{
    evq_stop(rt->evq);
}

/* report_events_close - flush and free the queue, before the socket and
 * the store go */
void report_events_close(struct runtime *rt)
{
    evq_free(rt->evq);
    rt->evq = NULL;
}

/* send_dgram - one datagram from the mail thread (no queue) */
static bool send_dgram(struct runtime *rt, uint8_t *d, size_t n, time_t now)
{
    struct iovec v = { .iov_base = d, .iov_len = n };
    struct mmsghdr m = { .msg_hdr = { .msg_iov = &v, .msg_iovlen = 1 } };

    return send_many(rt, &m, 1, now, NULL) == 1;
}

/* facts_of - the facts of the report's subject that the record holds */
static void facts_of(const struct report_subject *s, struct rules_facts *f)
{
    memset(f, 0, sizeof(*f));
    f->phase = s->phase_id;
    f->login = s->login;
    if (s->client)
	f->client = *s->client;
    if (s->country && (f->geo.cc[0] = s->country[0]) != 0)	/* two letters at most */
	f->geo.cc[1] = s->country[1];
    f->geo.asn = s->asn;
    f->rogue_listed = s->rogue_listed;
    f->rcpts = s->rcpts;
    f->bytes = s->bytes;
    f->qid = s->qid;
}

/* send_now - without a queue: the record made, sealed and sent here */
static bool send_now(struct runtime *rt, const struct rules_facts *f,
		     const struct rules_verdict *v, bool dry_run, uint64_t seq,
		     const struct timespec *ts)
{
    uint8_t d[EVENT_MAX];
    struct evrec r;
    size_t n;

    evrec_from_verdict(rt->cfg, f, v, dry_run, &r);
    stamp(&r);
    r.seq = seq;
    r.time_ms = (uint64_t) ts->tv_sec * 1000 + (uint64_t) ts->tv_nsec / 1000000;
    n = evrec_encode(&r, d, EVENT_MAX - EVREC_MAC_LEN);	/* room for the MAC */
    return n > 0 && (n = event_seal(&rt->key, d, n, EVENT_MAX)) > 0
	&& send_dgram(rt, d, n, ts->tv_sec);
}

/* send_event - the verdict's event: with the snapshot's queue, its
 * capture (evrec_capture: the fields and the cleaned strings, ~150
 * bytes) queued for the sender thread, which makes, seals and sends the
 * records a batch at a time; without one, sent from here. Counted as
 * sent or dropped (a queued one by the sender). The sequence and time
 * are taken here, in the order of the verdicts. */
static void send_event(struct runtime *rt, const struct report_subject *s,
		       const struct rules_verdict *v, bool dry_run)
{
    uint8_t cap[EVREC_CAPTURE_MAX];
    struct rules_facts f;
    struct timespec ts;
    uint64_t seq;
    size_t n;
    bool ok;

    if (rt->evfd < 0)
	return;
    facts_of(s, &f);
    clock_gettime(CLOCK_REALTIME, &ts);
    seq = atomic_fetch_add(&event_seq, 1) + 1;
    if (rt->evq != NULL) {
	n = evrec_capture(rt->cfg, &f, v, dry_run, seq, (uint64_t) ts.tv_sec * 1000
			  + (uint64_t) ts.tv_nsec / 1000000, cap, sizeof(cap));
	if (n == 0 || !evq_put(rt->evq, cap, n))	/* else the sender counts it */
	    store_counter_add(rt->st, STATS_EVENTS_DROPPED, 1);
	return;
    }
    ok = send_now(rt, &f, v, dry_run, seq, &ts);
    store_counter_add(rt->st, ok ? STATS_EVENTS_SENT : STATS_EVENTS_DROPPED, 1);
}

/* report_verdict - log, count and send one verdict */
void report_verdict(struct runtime *rt, const struct report_subject *s,
		    const struct rules_verdict *v, bool dry_run)
{
    struct log_line l, body;
    char head[64];

    snprintf(head, sizeof(head), "%.40s:", s->qid && *s->qid ? s->qid : "NOQUEUE");
    log_line_init(&body, NULL);
    verdict_fields(rt, s, v, &body);
    log_line_init(&l, head);
    log_kv_raw(&l, NULL, body.buf);
    log_kv_raw(&l, "phase", s->phase);
    if (s->helo)
	log_kv_str(&l, "helo", s->helo);
    if (dry_run && v->action != CFG_ACTION_ACCEPT)
	log_kv_raw(&l, "dry_run", "would");
    log_msg(v->action == CFG_ACTION_ACCEPT ? LOG_INFO : LOG_NOTICE, "%s", l.buf);
    store_counter_add(rt->st, (dry_run ? STATS_WOULD_BASE : STATS_VERDICT_BASE)
		      + (unsigned) v->action, 1);
    if (v->rule >= 0 && v->rule < STATS_MAX_RULES && v->action != CFG_ACTION_ACCEPT)
	store_counter_add(rt->st, stats_rule_counter((unsigned) v->rule), 1);
    if (v->block_set && !dry_run)	/* a would-be block is not one */
	store_counter_add(rt->st, STATS_BLOCKS_SET, 1);
    if (v->status != 0)
	store_counter_add(rt->st, STATS_STATE_ERRORS, 1);
    send_event(rt, s, v, dry_run);
}

/* report_header - the X-Relayguard header value */
void report_header(const struct runtime *rt, const struct report_subject *s,
		   const struct rules_verdict *v, char *buf, size_t len)
{
    struct log_line l;
    size_t i;

    log_line_init(&l, NULL);
    verdict_fields(rt, s, v, &l);
    /* Header values must be 7-bit: replace what the sanitiser let through. */
    for (i = 0; i < l.len && i + 1 < len && i < HEADER_MAX; i++)
	buf[i] = (unsigned char) l.buf[i] < 0x80 ? l.buf[i] : '?';
    buf[i] = 0;
}
