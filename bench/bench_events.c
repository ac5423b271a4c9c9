/*
 * bench_events - a milter stand-in for bench_collector.sh: sends COUNT
 * signed events (policy/event_rec.h, sealed with the key file as the
 * milter seals them) to the collector's address as fast as the socket
 * takes them. Every event is made and sealed before the clock starts and
 * then sent with sendmmsg, SEND_VEC a call, so that the run measures the
 * collector and the sender takes as little of a shared machine as it can.
 *
 *   bench_events KEY_FILE unix:/PATH|udp:ADDRESS:PORT COUNT [SKIP [RATE]]
 *
 * On the unix socket a full receive queue makes the send wait (nothing
 * is lost, the collector sets the pace); on UDP the kernel drops what
 * does not fit, which the collector counts as sequence gaps. SKIP > 0
 * leaves out every SKIP-th sequence number (a known number of gaps, for
 * the drop counting). The events are a mix like a site's: 5,000 logins
 * over 20,000 client addresses, one per message at end of data.
 * Prints "sent N in T s (R/s), sender CPU C s, start_ns=S" (S: the wall
 * clock at the first send, in ns since the epoch). Not a test.
 *
 * RATE > 0 sends as the milter's sender thread does (evq.h, report.c)
 * at RATE events a second: batch datagrams ("RGEB", up to EVQ_BATCH
 * records a send), one send when EVQ_BATCH events are due or
 * EVQ_INTERVAL_MS after the last, so a run shows what the collector
 * costs at a milter's pace rather than in a flood.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "evq.h"

#define LOGINS 5000
#define CLIENTS 20000
#define SEND_VEC 64		/* datagrams per sendmmsg */

/* now_ms - the wall clock */
static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* open_to - a socket connected to the collector's address */
static int open_to(const char *a)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct sockaddr_in sin = {.sin_family = AF_INET};
    const char *colon;
    char host[64];
    int fd;

    if (strncmp(a, "unix:", 5) == 0) {
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", a + 5);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	return fd >= 0 && connect(fd, (struct sockaddr *) &sun, sizeof(sun)) == 0 ? fd : -1;
    }
    if (strncmp(a, "udp:", 4) != 0 || (colon = strrchr(a + 4, ':')) == NULL
	|| (size_t) (colon - a - 4) >= sizeof(host))
	return -1;
    snprintf(host, sizeof(host), "%.*s", (int) (colon - a - 4), a + 4);
    sin.sin_port = htons((uint16_t) atoi(colon + 1));
    if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
	return -1;
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    return fd >= 0 && connect(fd, (struct sockaddr *) &sin, sizeof(sin)) == 0 ? fd : -1;
}

/* fill - event number i */
static void fill(struct evrec *r, uint64_t i, uint64_t t)
{
    uint32_t c = (uint32_t) ((i * 2654435761u) % CLIENTS);

    memset(r, 0, sizeof(*r));
    r->version = EVREC_VERSION;
    r->phase = 2;		/* eom */
    r->action = 0;		/* accept */
    r->cls = 0;			/* authenticated */
    r->rule = EVREC_NO_RULE;
    r->time_ms = t;
    addr_parse("198.18.0.0", &r->client);
    r->client.b[14] = (uint8_t) (c >> 8), r->client.b[15] = (uint8_t) c;
    r->asn = 64500 + c % 100;
    memcpy(r->cc, "DE", 3);
    r->rcpts = 1 + (uint32_t) (i % 3);
    r->bytes = 2000 + i % 50000;
    snprintf(r->node, sizeof(r->node), "bench");
    snprintf(r->login, sizeof(r->login), "user%05u@example.org",
	     (unsigned) (c % LOGINS));	/* a client uses one login */
    snprintf(r->qid, sizeof(r->qid), "%010llX", (unsigned long long) i);
    snprintf(r->reason, sizeof(r->reason), "accepted");
}

/* seal_all - count events sealed into one buffer, EVENT_MAX apart;
 * their lengths in len[] */
static uint8_t *seal_all(const struct event_key *key, unsigned long long count,
			 unsigned long long skip, size_t *len)
{
    uint8_t *all = malloc(count * EVENT_MAX);
    uint64_t boot, t = now_ms();
    unsigned long long i, k;
    struct evrec r;

    if (all == NULL)
	return NULL;
    boot = ((uint64_t) getpid() << 32) ^ t;
    for (i = 1, k = 0; k < count; i++) {
	if (skip && i % skip == 0)
	    continue;		/* a gap the collector should count */
	fill(&r, i, t);
	r.bootid = boot;
	r.seq = i;
	len[k] = event_seal(key, all + k * EVENT_MAX,
			    evrec_encode(&r, all + k * EVENT_MAX, EVENT_MAX), EVENT_MAX);
	if (len[k++] == 0) {
	    free(all);
	    return NULL;
	}
    }
    return all;
}

/* send_all - the sealed events, SEND_VEC a call; how many went (on UDP
 * the kernel may drop some later: the collector counts those) */
static unsigned long long send_all(int fd, uint8_t *all, const size_t *len,
				   unsigned long long count)
{
    struct mmsghdr m[SEND_VEC];
    struct iovec v[SEND_VEC];
    unsigned long long k = 0;
    unsigned j, n;
    int r;

    while (k < count) {
	n = count - k < SEND_VEC ? (unsigned) (count - k) : SEND_VEC;
	memset(m, 0, sizeof(m));
	for (j = 0; j < n; j++) {
	    v[j].iov_base = all + (k + j) * EVENT_MAX;
	    v[j].iov_len = len[k + j];
	    m[j].msg_hdr.msg_iov = &v[j];
	    m[j].msg_hdr.msg_iovlen = 1;
	}
	if ((r = sendmmsg(fd, m, n, 0)) > 0)
	    k += (unsigned) r;
	else if (errno == ENOBUFS || errno == EAGAIN)
	    k++;		/* UDP: lost here, a gap there */
	else
	    break;
    }
    return k;
}

/* send_batch - records k .. k+n of all as batch datagrams in one
 * sendmmsg (as the milter frames them); how many records went */
static unsigned long long send_batch(int fd, uint8_t *all, const size_t *len,
				     unsigned long long k, unsigned n)
{
    static uint8_t head[EVQ_BATCH][EVBATCH_HEAD], lens[EVQ_BATCH][EVBATCH_LEN_SIZE];
    static struct iovec v[3 * EVQ_BATCH];
    static struct mmsghdr m[EVQ_BATCH];
    unsigned d = 0, i = 0, start, o = 0, bytes;
    int r;

    while (i < n) {
	start = i, bytes = EVBATCH_HEAD;
	m[d] = (struct mmsghdr) {0};
	m[d].msg_hdr.msg_iov = v + o;
	v[o].iov_base = head[d], v[o++].iov_len = EVBATCH_HEAD;
	do {
	    lens[i][0] = (uint8_t) (len[k + i] >> 8), lens[i][1] = (uint8_t) len[k + i];
	    v[o].iov_base = lens[i], v[o++].iov_len = EVBATCH_LEN_SIZE;
	    v[o].iov_base = all + (k + i) * EVENT_MAX, v[o++].iov_len = len[k + i];
	    bytes += EVBATCH_LEN_SIZE + (unsigned) len[k + i++];
	} while (i < n && i - start < EVBATCH_RECORDS_MAX
		 && bytes + EVBATCH_LEN_SIZE + len[k + i] <= EVBATCH_MAX);
	event_batch_head(head[d], i - start);
	m[d].msg_hdr.msg_iovlen = (size_t) (v + o - m[d].msg_hdr.msg_iov);
	d++;
    }
    r = sendmmsg(fd, m, d, 0);
    return r == (int) d ? n : 0;
}

/* mono_ns - a monotonic clock in ns */
static int64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* send_paced - the sealed events at rate a second, the milter's way:
 * a send when EVQ_BATCH events are due, or EVQ_INTERVAL_MS after the
 * last send, of what is due (EVQ_BATCH a sendmmsg); how many went */
static unsigned long long send_paced(int fd, uint8_t *all, const size_t *len,
				     unsigned long long count, double rate)
{
    int64_t t0 = mono_ns(), last = t0, next, now;
    unsigned long long k = 0, due;
    struct timespec ts;

    while (k < count) {
	/* the (k + EVQ_BATCH)-th event is due then; the timer fires then */
	next = t0 + (int64_t) ((double) (k + EVQ_BATCH) / rate * 1e9);
	if (next > last + EVQ_INTERVAL_MS * 1000000LL)
	    next = last + EVQ_INTERVAL_MS * 1000000LL;
	ts.tv_sec = next / 1000000000, ts.tv_nsec = next % 1000000000;
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	now = last = mono_ns();
	due = (unsigned long long) ((double) (now - t0) / 1e9 * rate);
	if (due > count)
	    due = count;
	while (k < due) {
	    unsigned n = due - k > EVQ_BATCH ? EVQ_BATCH : (unsigned) (due - k);

	    if (send_batch(fd, all, len, k, n) != n)
		return k;
	    k += n;
	}
    }
    return k;
}

/* cpu_s - this process's CPU time, user and system */
static double cpu_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    struct event_key key;
    char err[256];
    unsigned long long count, skip = 0, sent;
    double rate = 0;
    struct timespec t0, t1, w0;
    double secs, c0;
    uint8_t *all;
    size_t *len;
    int fd;

    if (argc < 4 || argc > 6) {
	fprintf(stderr, "usage: bench_events KEY_FILE ADDRESS COUNT [SKIP [RATE]]\n");
	return 64;
    }
    count = strtoull(argv[3], NULL, 10);
    if (argc >= 5)
	skip = strtoull(argv[4], NULL, 10);
    if (argc == 6)
	rate = strtod(argv[5], NULL);
    if (event_key_load(argv[1], &key, err, sizeof(err)) != EVENT_OK) {
	fprintf(stderr, "bench_events: %s\n", err);
	return 66;
    }
    if ((fd = open_to(argv[2])) < 0) {
	fprintf(stderr, "bench_events: %s: %s\n", argv[2], strerror(errno));
	return 69;
    }
    if ((len = calloc(count + 1, sizeof(*len))) == NULL
	|| (all = seal_all(&key, count, skip, len)) == NULL) {
	fprintf(stderr, "bench_events: out of memory\n");
	return 71;
    }
    c0 = cpu_s();
    clock_gettime(CLOCK_REALTIME, &w0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sent = rate > 0 ? send_paced(fd, all, len, count, rate) : send_all(fd, all, len, count);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (sent < count) {
	fprintf(stderr, "bench_events: send: %s\n", strerror(errno));
	return 74;
    }
    printf("sent %llu in %.3f s (%.0f/s), sender CPU %.3f s, start_ns=%lld%09ld\n", sent,
	   secs, (double) sent / secs, cpu_s() - c0, (long long) w0.tv_sec, w0.tv_nsec);
    close(fd);
    free(all);
    free(len);
    return 0;
}
