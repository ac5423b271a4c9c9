/*
 * intake - receive, verify and store the milter's events (see intake.h).
 *
 * The unix socket is created by the collector: a stale one (a socket
 * file, nothing else) is removed first, and its mode is 0660 with the
 * group of milter.group when that is set and we are root, else 0666 (the
 * datagrams are authenticated anyway; the mode only limits who can fill
 * the queue). UDP is bound to the configured address only, never to the
 * wildcard. Kernel drops come from SO_RXQ_OVFL and SO_MEMINFO (UDP; a full unix socket
 * refuses the send instead, which the milter counts as a drop); either
 * way a lost event leaves a gap in its source's sequence numbers, which
 * the replay window counts (seq_gaps: what was lost on the way, whatever
 * the reason, once a source was heard).
 *
 * A unix datagram socket queues at most net.unix.max_dgram_qlen
 * datagrams, whatever its buffer (systemd sets 512, the kernel's default
 * is 10): intake_open reads it so the caller can warn when a burst would
 * be refused to the milter.
 *
 * A datagram is one record or a batch of them (event_rec.h); every
 * record is verified and counted on its own, and *got counts records.
 *
 * Datagrams are read with recvmmsg, INTAKE_RECV_VEC a call, gathered in
 * memory for as long as they keep coming (up to INTAKE_BATCH_MS) and
 * then stored in one transaction: a burst is a few large commits, not
 * one per wake-up. Large commits matter because the indexes on client
 * and login take events in random order: a commit writes every index
 * page it touched to the WAL, and a batch of thousands touches most of
 * them, whether it holds 4,000 events or 50,000. A quiet socket
 * (INTAKE_IDLE_MS) ends a batch of single-record datagrams, so a lone
 * event is stored within milliseconds. The milter's sender sends batch
 * datagrams on its own timer (every EVQ_INTERVAL_MS, or per EVQ_BATCH
 * events), so the socket is quiet between its sends whatever the rate:
 * ended by the quiet, its batches were one send each (256 events at most
 * at any rate, a commit of as many random index pages every send, ~20 KB
 * written per event on a history of 200,000 events); they gather for
 * INTAKE_LINGER_MS instead. The write lock is taken only to store, so
 * the flow follower and the admin's commands are not locked out while a
 * batch gathers; the socket is read meanwhile too (INTAKE_STORE_READ), so
 * the milter's sends never wait for a commit. What is gathered and not
 * stored is lost if the collector is killed (SIGKILL; a stop stores it
 * and what waits in the socket: intake_flush), as the datagrams still in
 * the socket then are: at most INTAKE_LINGER_MS of events, which the
 * milter's sequence numbers show.
 * Incidents are stored by the correlation's own transactions.
 *
 * While a batch is open and the socket empty, the intake naps instead of
 * waiting in poll when the socket queues INTAKE_QLEN_MIN datagrams or
 * more: a send to a socket with a waiter pays for waking it, about as
 * much as the send itself, and that is the milter's cost of an event. A
 * nap lasts INTAKE_NAP_MS while single-record datagrams come (a burst
 * of them at 80,000 a second fills 512 in 6 ms); while batch datagrams
 * come (the milter's sender: dozens of records each), as long as a
 * quarter of the queue took to fill at the rate of the last nap, up to
 * INTAKE_NAP_MAX_MS, so the collector wakes about 100 times a second
 * rather than 500, and takes a CPU from the milter that much less often
 * (two empty naps still end a batch: INTAKE_IDLE_MS). A short queue (10) would overflow during a nap, so
 * then the intake waits in poll as before.
 */
#include <errno.h>
#include <grp.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "evdb.h"
#include "intake.h"

#define SOCK_MODE_GROUP 0660
#define SOCK_MODE_ALL 0666
#define PEND_HEAD 8		/* a pending datagram's length, padded */
#define PEND_PAD(len) (((size_t) (len) + 7) & ~(size_t) 7)
/* a pending batch's buffer: INTAKE_PEND_MAX and one recvmmsg more */
#define PEND_CAP (INTAKE_PEND_MAX + INTAKE_RECV_VEC * (PEND_HEAD + PEND_PAD(EVBATCH_MAX + 1)))

/* parse_udp - "udp:HOST:PORT" or "udp:[V6]:PORT" into a sockaddr */
static int parse_udp(const char *a, struct sockaddr_storage *ss, socklen_t *len,
		     char *err, size_t errlen)
{
    struct sockaddr_in *sin = (struct sockaddr_in *) ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ss;
    const char *colon = strrchr(a + 4, ':');
    char host[ADDR_STRLEN];
    struct addr ad;
    size_t n = colon ? (size_t) (colon - (a + 4)) : 0;

    if (colon == NULL || n >= sizeof(host)) {
	snprintf(err, errlen, "collector.address %s: expected udp:ADDRESS:PORT", a);
	return -1;
    }
    snprintf(host, sizeof(host), "%.*s", (int) n, a + 4);
    if (host[0] == '[' && n >= 2)
	memmove(host, host + 1, n), host[n - 2] = 0;
    if (addr_parse(host, &ad) != 0) {
	snprintf(err, errlen, "collector.address %s: bad address", a);
	return -1;
    }
    memset(ss, 0, sizeof(*ss));
    if (addr_is_v4(&ad)) {
	sin->sin_family = AF_INET;
	memcpy(&sin->sin_addr, ad.b + 12, 4);
	sin->sin_port = htons((uint16_t) atoi(colon + 1));
	*len = sizeof(*sin);
	if (sin->sin_addr.s_addr == htonl(INADDR_ANY))
	    goto wild;
    } else {
	sin6->sin6_family = AF_INET6;
	memcpy(&sin6->sin6_addr, ad.b, 16);
	sin6->sin6_port = htons((uint16_t) atoi(colon + 1));
	*len = sizeof(*sin6);
	if (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr))
	    goto wild;
    }
    return 0;
  wild:
    snprintf(err, errlen, "collector.address %s: name one address, not all of them", a);
    return -1;
}

/* bind_unix - create the unix datagram socket at path */
static int bind_unix(struct intake *in, const struct cfg *cfg, const char *path,
		     char *err, size_t errlen)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct group *gr;
    struct stat sb;

    if (strlen(path) >= sizeof(sun.sun_path)) {
	snprintf(err, errlen, "collector.address: %s: path too long", path);
	return -1;
    }
    if (lstat(path, &sb) == 0 && S_ISSOCK(sb.st_mode))
	unlink(path);
    strcpy(sun.sun_path, path);
    if (bind(in->fd, (struct sockaddr *) &sun, sizeof(sun)) != 0) {
	snprintf(err, errlen, "bind %s: %s", path, strerror(errno));
	return -1;
    }
    snprintf(in->path, sizeof(in->path), "%s", path);
    gr = geteuid() == 0 && cfg->milter.group && *cfg->milter.group
	? getgrnam(cfg->milter.group) : NULL;
    if (gr != NULL && chown(path, 0, gr->gr_gid) == 0)
	return chmod(path, SOCK_MODE_GROUP);
    return chmod(path, SOCK_MODE_ALL);
}

/* set_rcvbuf - ask for a burst-sized buffer (forced when root) */
static void set_rcvbuf(struct intake *in)
{
    int want = INTAKE_RCVBUF, one = 1;
    socklen_t l = sizeof(in->rcvbuf);

    if (setsockopt(in->fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)) != 0)
	setsockopt(in->fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
    setsockopt(in->fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
    if (getsockopt(in->fd, SOL_SOCKET, SO_RCVBUF, &in->rcvbuf, &l) != 0)
	in->rcvbuf = 0;
}

/* unix_qlen - net.unix.max_dgram_qlen, -1 if unknown */
static int unix_qlen(void)
{
    FILE *f = fopen("/proc/sys/net/unix/max_dgram_qlen", "r");
    int q = -1;

    if (f != NULL) {
	if (fscanf(f, "%d", &q) != 1)
	    q = -1;
	fclose(f);
    }
    return q;
}

/* intake_open - the socket, the key and the tables */
int intake_open(struct intake *in, const struct cfg *cfg, struct hist *h,
		char *err, size_t errlen)
{
    const char *a = cfg->collector.address;
    struct sockaddr_storage ss;
    socklen_t sl;
    int unix_sock = strncmp(a, "unix:", 5) == 0;

    memset(in, 0, sizeof(*in));
    in->fd = -1;
    in->hist = h;
    in->qlen = unix_sock ? unix_qlen() : -1;
    event_replay_init(&in->replay, (int64_t) cfg->collector.event_window_s * 1000);
    if (*a == 0) {
	snprintf(err, errlen, "collector.address is not set: no events to receive");
	return -1;
    }
    if (event_key_load(cfg->collector.key_file, &in->key, err, errlen) != EVENT_OK
	|| evdb_init(h, err, errlen) != HIST_OK
	|| (!unix_sock && parse_udp(a, &ss, &sl, err, errlen) != 0))
	return -1;
    in->fd = socket(unix_sock ? AF_UNIX : ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC
		    | SOCK_NONBLOCK, 0);
    if (in->fd < 0) {
	snprintf(err, errlen, "socket: %s", strerror(errno));
	return -1;
    }
    set_rcvbuf(in);
    if (unix_sock ? bind_unix(in, cfg, a + 5, err, errlen) != 0
	: bind(in->fd, (struct sockaddr *) &ss, sl) != 0) {
	if (!unix_sock)
	    snprintf(err, errlen, "bind %s: %s", a, strerror(errno));
	intake_close(in);
	return -1;
    }
    if ((in->rx = malloc(sizeof(*in->rx))) == NULL
	|| (in->pend[0].buf = malloc(PEND_CAP)) == NULL
	|| (in->pend[1].buf = malloc(PEND_CAP)) == NULL) {
	snprintf(err, errlen, "out of memory");
	intake_close(in);
	return -1;
    }
    return 0;
}

/* account_drops - the socket's drop counter at n (a sample of one
 * monotonic count, from a datagram or from SO_MEMINFO): what is new */
static void account_drops(struct intake *in, uint32_t n)
{
    if ((int32_t) (n - in->ovfl_seen) > 0) {
	in->unsaved.kernel_drops += (uint32_t) (n - in->ovfl_seen);
	in->ovfl_seen = n;
    }
}

/* overflow - the kernel's drop count from a datagram's control data */
static void overflow(struct intake *in, struct msghdr *m)
{
    struct cmsghdr *c;
    uint32_t n;

    for (c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c))
	if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
	    memcpy(&n, CMSG_DATA(c), sizeof(n));
	    account_drops(in, n);
	}
}

/* sync_drops - the drop counter now (SO_MEMINFO): a datagram carries the
 * count from when it was queued, so drops after the last one received
 * (the end of a burst) show only here */
static void sync_drops(struct intake *in)
{
    uint32_t mi[SK_MEMINFO_VARS];
    socklen_t l = sizeof(mi);

    if (getsockopt(in->fd, SOL_SOCKET, SO_MEMINFO, mi, &l) == 0
	&& l > SK_MEMINFO_DROPS * sizeof(mi[0]))
	account_drops(in, mi[SK_MEMINFO_DROPS]);
}

/* one - verify and store one record; counted either way */
static int one(struct intake *in, const uint8_t *buf, size_t len, int64_t now_ms,
	       char *err, size_t errlen)
{
    struct evrec r;
    enum evrec_status s = event_open(&in->key, buf, len, &r);
    bool dup = false;

    if (s == EVREC_OK)
	s = event_replay_check(&in->replay, &r, now_ms);
    if (s == EVREC_OK && evdb_add(in->hist, &r, now_ms, &dup, err, errlen) != HIST_OK)
	return -1;
    if (s == EVREC_OK && dup)
	s = EVREC_EREPLAY;	/* seen before a restart of the collector */
    if (s == EVREC_OK)
	in->unsaved.stored++;
    else
	in->unsaved.refused[s]++;
    return 0;
}

/* dgram - one datagram, a record or a batch of them: every record
 * stored or counted, a batch with bad framing counted once; *events
 * += records handled (1 for a datagram refused whole) */
static int dgram(struct intake *in, const uint8_t *buf, size_t len, int64_t now_ms,
		 size_t *events, char *err, size_t errlen)
{
    struct event_span rec[EVBATCH_RECORDS_MAX];
    enum evrec_status s;
    size_t n, i;

    if (!event_is_batch(buf, len)) {
	++*events;
	return one(in, buf, len > EVENT_MAX + 1 ? EVENT_MAX + 1 : len, now_ms, err, errlen);
    }
    if ((s = event_batch_split(buf, len, rec, EVBATCH_RECORDS_MAX, &n)) != EVREC_OK) {
	++*events;
	in->unsaved.refused[s]++;
	return 0;
    }
    for (i = 0; i < n; i++, ++*events)
	if (one(in, rec[i].p, rec[i].len, now_ms, err, errlen) != 0)
	    return -1;
    return 0;
}

/* save_counters - add the unsaved counts to the counter table */
static int save_counters(struct intake *in, char *err, size_t errlen)
{
    char name[64];
    int i;

    if (evdb_count(in->hist, "stored", in->unsaved.stored, err, errlen) != HIST_OK
	|| evdb_count(in->hist, "kernel_drops", in->unsaved.kernel_drops, err, errlen)
	|| evdb_count(in->hist, "seq_gaps", in->unsaved.seq_gaps, err, errlen))
	return -1;
    for (i = 1; i < EVREC_NSTATUS; i++) {
	snprintf(name, sizeof(name), "refused_%s", evrec_status_name((enum evrec_status) i));
	if (evdb_count(in->hist, name, in->unsaved.refused[i], err, errlen) != HIST_OK)
	    return -1;
    }
    return 0;
}

/* add_stats - total += unsaved; unsaved = 0 */
static void add_stats(struct intake *in)
{
    int i;

    in->total.stored += in->unsaved.stored;
    in->total.kernel_drops += in->unsaved.kernel_drops;
    in->total.seq_gaps += in->unsaved.seq_gaps;
    for (i = 0; i < EVREC_NSTATUS; i++)
	in->total.refused[i] += in->unsaved.refused[i];
    memset(&in->unsaved, 0, sizeof(in->unsaved));
}

/* mono_ms - a monotonic clock for the batch's length */
static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* nap_ms - the next nap of an open batch: the time a quarter of the
 * socket's queue took to fill at the rate datagrams came during the
 * last nap (got in last_ms), INTAKE_NAP_MS .. INTAKE_NAP_MAX_MS */
static long nap_ms(int qlen, size_t got, long last_ms)
{
    long ms = got == 0 ? INTAKE_NAP_MAX_MS : (long) qlen / 4 * last_ms / (long) got;

    return ms < INTAKE_NAP_MS ? INTAKE_NAP_MS : ms > INTAKE_NAP_MAX_MS ? INTAKE_NAP_MAX_MS : ms;
}

/* receive - up to max datagrams with one recvmmsg; how many, -1 none */
static int receive(struct intake *in, unsigned max)
{
    struct intake_rx *rx = in->rx;
    unsigned i;

    if (max > INTAKE_RECV_VEC)
	max = INTAKE_RECV_VEC;
    for (i = 0; i < max; i++) {
	rx->iov[i].iov_base = rx->buf[i];
	rx->iov[i].iov_len = EVBATCH_MAX + 1;
	memset(&rx->msg[i], 0, sizeof(rx->msg[i]));
	rx->msg[i].msg_hdr.msg_iov = &rx->iov[i];
	rx->msg[i].msg_hdr.msg_iovlen = 1;
	rx->msg[i].msg_hdr.msg_control = rx->ctl[i];
	rx->msg[i].msg_hdr.msg_controllen = sizeof(rx->ctl[i]);
    }
    return recvmmsg(in->fd, rx->msg, max, MSG_DONTWAIT | MSG_TRUNC, NULL);
}

/* pend_full - whether a pending batch takes no more datagrams */
static bool pend_full(const struct intake_pend *p)
{
    return p->used >= INTAKE_PEND_MAX || p->records >= INTAKE_BATCH;
}

/* pend_add - one datagram (len bytes, at most EVBATCH_MAX + 1) read at
 * t into a pending batch; room for it was made at intake_open */
static void pend_add(struct intake_pend *p, const uint8_t *buf, size_t len, int64_t t)
{
    uint32_t l = (uint32_t) len;
    size_t count = 1;

    memcpy(p->buf + p->used, &l, sizeof(l));
    memcpy(p->buf + p->used + PEND_HEAD, buf, len);
    p->used += PEND_HEAD + PEND_PAD(len);
    p->batches = event_is_batch(buf, len);
    if (p->batches && len >= EVBATCH_HEAD)	/* the header's word, unchecked yet: */
	count = (size_t) (buf[6] << 8 | buf[7]);
    if (count == 0 || count > EVBATCH_RECORDS_MAX)
	count = 1;		/* bad framing is refused as one */
    p->records += count;
    if (p->first_ms == 0)
	p->first_ms = t;
    p->heard_ms = t;
}

/* read_into - one recvmmsg into a pending batch; datagrams read, 0 none
 * (or the batch full) */
static int read_into(struct intake *in, struct intake_pend *p)
{
    int64_t t;
    int n, i;

    if (pend_full(p) || (n = receive(in, INTAKE_RECV_VEC)) <= 0)
	return 0;
    t = mono_ms();
    for (i = 0; i < n; i++) {
	size_t len = in->rx->msg[i].msg_len;

	overflow(in, &in->rx->msg[i].msg_hdr);
	pend_add(p, in->rx->buf[i], len > EVBATCH_MAX + 1 ? EVBATCH_MAX + 1 : len, t);
    }
    return n;
}

/* gather - read datagrams into the batch being gathered until it ends:
 * full, INTAKE_LINGER_MS after its first datagram when they are batch
 * datagrams, else INTAKE_BATCH_MS after it or INTAKE_IDLE_MS after the
 * last. While the socket is empty it naps (see above) or, on a short
 * queue, waits in poll. */
static void gather(struct intake *in)
{
    struct intake_pend *p = &in->pend[in->cur];
    struct pollfd pfd = {.fd = in->fd, .events = POLLIN};
    struct timespec nap = {0, INTAKE_NAP_MS * 1000000L};
    size_t since_nap = INTAKE_RECV_VEC;	/* the first nap is the shortest */
    int64_t t, left;
    int n;

    while (!pend_full(p)) {
	n = read_into(in, p);
	since_nap += (size_t) n;
	t = mono_ms();
	left = p->first_ms + (p->batches ? INTAKE_LINGER_MS : INTAKE_BATCH_MS) - t;
	if (left <= 0 || (!p->batches && t - p->heard_ms >= INTAKE_IDLE_MS))
	    break;
	if (n > 0)
	    continue;
	if (in->qlen >= INTAKE_QLEN_MIN) {	/* senders wake nobody meanwhile */
	    nap.tv_nsec = (p->batches ? nap_ms(in->qlen, since_nap, nap.tv_nsec / 1000000L)
			   : INTAKE_NAP_MS) * 1000000L;
	    nanosleep(&nap, NULL);
	    since_nap = 0;
	} else if (poll(&pfd, 1, (int) (p->batches || left < INTAKE_IDLE_MS ? left
					 : INTAKE_IDLE_MS)) <= 0 && !p->batches)
	    break;
    }
}

/* pend_clear - an empty pending batch */
static void pend_clear(struct intake_pend *p)
{
    p->used = p->records = 0;
    p->first_ms = p->heard_ms = 0;
    p->batches = false;
}

/* store - the batch being gathered verified and stored in one
 * transaction, the counters with it; the socket is read meanwhile
 * (every INTAKE_STORE_READ records) into the other batch, which becomes
 * the one gathered: a sender never waits for a commit */
static int store(struct intake *in, int64_t now_ms, size_t *got, char *err, size_t errlen)
{
    struct intake_pend *p = &in->pend[in->cur], *next = &in->pend[in->cur ^ 1];
    size_t o = 0, read_at = INTAKE_STORE_READ;
    uint32_t len;

    if (hist_begin(in->hist, err, errlen) != HIST_OK)
	return -1;		/* the batch waits for the next step */
    in->cur ^= 1;
    while (o < p->used) {
	memcpy(&len, p->buf + o, sizeof(len));
	if (dgram(in, p->buf + o + PEND_HEAD, len, now_ms, got, err, errlen) != 0)
	    goto fail;
	o += PEND_HEAD + PEND_PAD(len);
	if (*got >= read_at) {
	    while (read_into(in, next) > 0)
		;
	    read_at = *got + INTAKE_STORE_READ;
	}
    }
    sync_drops(in);
    in->unsaved.seq_gaps = in->replay.missing - in->total.seq_gaps;
    if (save_counters(in, err, errlen) != 0 || hist_commit(in->hist, err, errlen) != HIST_OK)
	goto fail;
    add_stats(in);
    pend_clear(p);
    return 0;
  fail:
    hist_rollback(in->hist);
    memset(&in->unsaved, 0, sizeof(in->unsaved));
    pend_clear(p);
    return -1;
}

/* intake_step - wait up to timeout_ms for a datagram (not when the last
 * store read some), gather the batch and store it (see intake.h) */
int intake_step(struct intake *in, int timeout_ms, int64_t now_ms, size_t *got,
		char *err, size_t errlen)
{
    struct pollfd p = {.fd = in->fd, .events = POLLIN};
    int64_t t0 = mono_ms();

    *got = 0;
    if (in->pend[in->cur].used == 0 && poll(&p, 1, timeout_ms) <= 0) {
	sync_drops(in);		/* drops may still be new */
	if (in->unsaved.kernel_drops == 0)
	    return 0;
    } else
	gather(in);
    return store(in, now_ms + (mono_ms() - t0), got, err, errlen);
}

/* intake_flush - at a stop: store what was read and not stored yet,
 * then what waits in the socket (a batch at most; the milter counted it
 * sent) */
int intake_flush(struct intake *in, int64_t now_ms, size_t *got, char *err, size_t errlen)
{
    size_t more = 0;
    int rc = 0;

    *got = 0;
    if (in->pend[in->cur].used > 0)
	rc = store(in, now_ms, got, err, errlen);
    while (rc == 0 && read_into(in, &in->pend[in->cur]) > 0)
	;			/* joins what was read while that was stored */
    if (rc == 0 && in->pend[in->cur].used > 0)
	rc = store(in, now_ms, &more, err, errlen);
    *got += more;
    return rc;
}

/* intake_close - the socket (and its file) */
void intake_close(struct intake *in)
{
    if (in->fd >= 0)
	close(in->fd);
    if (in->path[0])
	unlink(in->path);
    memset(&in->key, 0, sizeof(in->key));
    free(in->rx);
    free(in->pend[0].buf);
    free(in->pend[1].buf);
    memset(in->pend, 0, sizeof(in->pend));
    in->rx = NULL;
    in->fd = -1;
    in->path[0] = 0;
}
