/*
 * check_event_send - the milter's sending of its events to the
 * collector: the unix socket connected and followed when the collector's
 * is replaced, the snapshot's queue and its sender thread (every verdict
 * sent, in sequence, a batch per interval, flushed at exit), the record
 * the queue's path makes (the same as the direct path's), no
 * cryptography on a mail thread, a burst that waits for room, and a
 * collector that reads nothing (bounded waits, every event counted).
 * (The datagrams themselves: check_event.c.)
 */
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "event.h"
#include "event_test.h"
#include "evq.h"
#include "report.h"
#include "runtime.h"
#include "stats.h"

/* listener - a unix datagram socket bound at path (replacing what is there) */
static int listener(const char *path)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

    ck_assert_int_ge(fd, 0);
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
    unlink(path);
    ck_assert_int_eq(bind(fd, (struct sockaddr *) &a, sizeof(a)), 0);
    return fd;
}

/* take - the records of one datagram from fd (alone or a batch), the
 * verified ones into r[0..max); how many records it held, 0 when none
 * came or one failed to verify */
static size_t take(int fd, int flags, struct evrec *r, size_t max)
{
    static uint8_t buf[EVBATCH_MAX];
    struct event_span rec[EVBATCH_RECORDS_MAX];
    ssize_t n = recv(fd, buf, sizeof(buf), flags);
    struct evrec tmp;
    size_t k = 1, i;

    if (n <= 0)
	return 0;
    rec[0].p = buf, rec[0].len = (size_t) n;
    if (event_is_batch(buf, (size_t) n)
	&& event_batch_split(buf, (size_t) n, rec, EVBATCH_RECORDS_MAX, &k) != EVREC_OK)
	return 0;
    for (i = 0; i < k; i++)
	if (event_open(&key, rec[i].p, rec[i].len, i < max ? &r[i] : &tmp) != EVREC_OK)
	    return 0;
    return k;
}

/* got - how many verified records one datagram waiting on fd holds */
static size_t got(int fd)
{
    return take(fd, MSG_DONTWAIT, NULL, 0);
}

/* A runtime that sends events to a collector's unix socket, as rt_load
 * sets one up (the configuration: one rule). */
struct sender {
    struct cfg_rule rules[1];
    struct cfg cfg;
    struct runtime rt;
    char path[64];
};

/* sender_open - x's runtime sends to a socket of its own at x->path
 * (named after tag); the collector's end */
static int sender_open(struct sender *x, const char *tag)
{
    struct sockaddr_un *sun = (struct sockaddr_un *) &x->rt.evaddr;
    int fd;

    memset(x, 0, sizeof(*x));
    x->rules[0].name = (char *) "a";
    x->cfg.policy.rules = x->rules, x->cfg.policy.nrules = 1;
    x->rt.refs = 1, x->rt.cfg = &x->cfg, x->rt.key = key;
    snprintf(x->path, sizeof(x->path), "/tmp/rg-check-%s-%d.sock", tag,
	     (int) getpid());
    fd = listener(x->path);
    sun->sun_family = AF_UNIX;
    snprintf(sun->sun_path, sizeof(sun->sun_path), "%s", x->path);
    x->rt.evaddrlen = sizeof(*sun);
    x->rt.evfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    ck_assert_int_ge(x->rt.evfd, 0);
    return fd;
}

/* sender_close - the runtime's socket closed, the collector's path gone */
static void sender_close(struct sender *x)
{
    close(x->rt.evfd);
    unlink(x->path);
}

/* The milter's unix socket is connected after a send (no path lookup per
 * event), follows a collector socket replaced under the same path within
 * a second, and at once when the old one is closed. */
START_TEST(test_send_reconnect)
{
    struct sender x;
    struct sockaddr_storage peer;
    socklen_t plen = sizeof(peer);
    struct report_subject s = {.login = "alice", .phase = "eom"};
    struct rules_verdict v;
    int a, b, c;
    time_t t0;

    rules_verdict_init(&v);
    a = sender_open(&x, "event");
    report_verdict(&x.rt, &s, &v, false);
    ck_assert(got(a));
    ck_assert_int_eq(getpeername(x.rt.evfd, (struct sockaddr *) &peer, &plen), 0);
    b = listener(x.path);	/* a still open: the old peer is alive */
    t0 = time(NULL);
    while (time(NULL) == t0)
	usleep(10000);
    report_verdict(&x.rt, &s, &v, false);
    ck_assert(got(b));
    ck_assert(!got(a));
    close(b);		/* gone: the next send connects again at once */
    c = listener(x.path);
    report_verdict(&x.rt, &s, &v, false);
    ck_assert(got(c));
    close(a), close(c);
    sender_close(&x);
}
END_TEST

/* With the snapshot's queue (report_events_open, as rt_load makes it)
 * the verdicts go out from the sender thread: all of them, in sequence,
 * when the queue is closed at exit even though its timer had not run;
 * and the sender connects again at once to a collector socket replaced
 * after the old one closed. */
START_TEST(test_queue_flush_at_exit)
{
    struct sender x;
    struct report_subject s = {.login = "alice", .phase = "eom"};
    struct rules_verdict v;
    uint64_t last = 0;
    struct evrec r[10];
    size_t n;
    int a, b, i, t;

    rules_verdict_init(&v);
    a = sender_open(&x, "evq");
    ck_assert(report_events_open(&x.rt));
    ck_assert_ptr_nonnull(x.rt.evq);
    for (i = 0; i < 10; i++)
	report_verdict(&x.rt, &s, &v, false);
    report_events_close(&x.rt);
    ck_assert_ptr_null(x.rt.evq);
    for (i = 0; i < 10; i += (int) n) {	/* in batches, as they came */
	n = take(a, MSG_DONTWAIT, r + i, (size_t) (10 - i));
	ck_assert_uint_gt(n, 0);
    }
    ck_assert_int_eq(i, 10);
    for (i = 0; i < 10; i++) {
	ck_assert_uint_gt(r[i].seq, last);
	last = r[i].seq;
    }
    ck_assert(!got(a));
    ck_assert(report_events_open(&x.rt));
    close(a);		/* gone: the sender connects again at once */
    b = listener(x.path);
    report_verdict(&x.rt, &s, &v, false);
    for (t = 0; t < 300 && !got(b); t++)
	usleep(10000);
    ck_assert_int_lt(t, 300);
    report_events_close(&x.rt);
    close(b);
    sender_close(&x);
}
END_TEST

/* mono_ms - CLOCK_MONOTONIC in milliseconds */
static long long mono_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long) t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* A milter's steady trickle of verdicts (25 over ~100 ms) wakes the
 * sender thread once, not once per 20 ms (five sends, five wake-ups of
 * a thread on this VM), and still reaches the collector well within a
 * second (EVQ_INTERVAL_MS after the first, plus the send). The sends
 * come an interval apart: the first verdict wakes the sender, the timer
 * each interval after, so a trickle that a loaded machine stretched
 * over span ms is at most 2 + span / EVQ_INTERVAL_MS datagrams (2 when
 * it took the ~100 ms asked for), and its last record comes within
 * 1400 ms of the last verdict (the 1500 ms from the first it had), plus
 * what the machine's load added to the trickle itself (at a load of 20
 * the sender thread's wake-up lagged as the test's own sleeps did). */
START_TEST(test_queue_one_send_per_interval)
{
    struct sender x;
    struct report_subject s = {.login = "alice", .phase = "eom"};
    struct rules_verdict v;
    struct timeval tv = {0, 100000};
    long long t0, tend, last = 0;
    size_t records = 0, dgrams = 0, n;
    int a, i;

    rules_verdict_init(&v);
    a = sender_open(&x, "evi");
    ck_assert_int_eq(setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    ck_assert(report_events_open(&x.rt));
    t0 = mono_ms();
    for (i = 0; i < 25; i++) {
	if (i > 0)
	    usleep(4000);
	report_verdict(&x.rt, &s, &v, false);
    }
    tend = mono_ms();
    while (records < 25 && mono_ms() - tend < 3000)
	if ((n = take(a, 0, NULL, 0)) > 0)
	    records += n, dgrams++, last = mono_ms();
    ck_assert_uint_eq(records, 25);
    /* the old 20 ms timer: ~5 in 100 ms */
    ck_assert_msg(dgrams <= 2 + (size_t) ((tend - t0) / EVQ_INTERVAL_MS),
		  "%zu datagrams for 25 verdicts in %lld ms", dgrams, tend - t0);
    ck_assert_int_le(last - tend, 1400 + (tend - t0 > 100 ? tend - t0 - 100 : 0));
    report_events_close(&x.rt);
    close(a);
    sender_close(&x);
}
END_TEST

/* The queue's path (the mail thread's capture, the record made on the
 * sender thread) gives the record the direct path makes of the same
 * verdict, field for field, for every kind of input a capture handles
 * apart: a rule, a block, no rule, a rule index past the policy's,
 * a dry run, a rogue client, a country of one or three letters, no
 * login, a login too long of two-byte characters (cut before a whole
 * character: 127 of them) and of hostile three-byte ones (each one '?',
 * cut at 255), control bytes, no queue id. */
START_TEST(test_capture_same_record)
{
    static char long2[601], long3[901];
    const char *logins[] = {"alice", "j\xc3\xb6rg\xff\xc3", NULL, long2, long3, "a\r\nb"};
    const char *cc[] = {"DE", "D", "DEU", "de", NULL, "US"};
    const int rule[] = {0, -1, 7, 0, -1, 0};
    struct sender x;
    struct report_subject s = {.phase = "eom", .phase_id = RULES_PHASE_EOM, .asn = 64500};
    struct rules_verdict v;
    struct rules_facts f;
    struct evrec got_r[6], want;
    size_t n;
    int a, i;

    for (i = 0; i < 300; i++)
	memcpy(long2 + 2 * i, "\xc3\xa9", 2), memcpy(long3 + 3 * i, "\xe2\x80\xae", 3);
    a = sender_open(&x, "evc");
    ck_assert(report_events_open(&x.rt));
    for (i = 0; i < 6; i++) {
	rules_verdict_init(&v);
	v.rule = rule[i], v.from_block = i == 1, v.block_set = i == 3;
	v.action = (enum cfg_action) (i % CFG_ACTION_COUNT), v.block_until = 1000u * (unsigned) i;
	snprintf(v.reason, sizeof(v.reason), "reason %d \x01\x7f", i);
	s.login = logins[i], s.country = cc[i], s.qid = i == 2 ? NULL : "4XyZ1";
	s.rogue_listed = i == 4, s.rcpts = (uint32_t) i, s.bytes = 100u * (unsigned) i;
	report_verdict(&x.rt, &s, &v, i == 5);
    }
    report_events_close(&x.rt);
    for (i = 0; i < 6; i += (int) n)
	ck_assert_uint_gt(n = take(a, MSG_DONTWAIT, got_r + i, (size_t) (6 - i)), 0);
    for (i = 0; i < 6; i++) {	/* the direct path, from the same verdict */
	rules_verdict_init(&v);
	v.rule = rule[i], v.from_block = i == 1, v.block_set = i == 3;
	v.action = (enum cfg_action) (i % CFG_ACTION_COUNT), v.block_until = 1000u * (unsigned) i;
	snprintf(v.reason, sizeof(v.reason), "reason %d \x01\x7f", i);
	memset(&f, 0, sizeof(f));
	f.phase = RULES_PHASE_EOM, f.login = logins[i], f.qid = i == 2 ? NULL : "4XyZ1";
	if (cc[i])
	    snprintf(f.geo.cc, sizeof(f.geo.cc), "%s", cc[i]);
	f.geo.asn = 64500, f.rogue_listed = i == 4, f.rcpts = (uint32_t) i;
	f.bytes = 100u * (unsigned) i;
	evrec_from_verdict(&x.cfg, &f, &v, i == 5, &want);
	want.bootid = got_r[i].bootid, want.seq = got_r[i].seq, want.time_ms = got_r[i].time_ms;
	memcpy(want.node, got_r[i].node, sizeof(want.node));
	ck_assert_mem_eq(&got_r[i], &want, offsetof(struct evrec, cc));
	ck_assert_str_eq(got_r[i].cc, want.cc);
	ck_assert_uint_eq(got_r[i].rcpts, want.rcpts);
	ck_assert_uint_eq(got_r[i].bytes, want.bytes);
	ck_assert_uint_eq(got_r[i].block_until, want.block_until);
	ck_assert_str_eq(got_r[i].rule_name, want.rule_name);
	ck_assert_str_eq(got_r[i].login, want.login);
	ck_assert_str_eq(got_r[i].qid, want.qid);
	ck_assert_str_eq(got_r[i].reason, want.reason);
	ck_assert_uint_gt(got_r[i].seq, i ? got_r[i - 1].seq : 0);
    }
    ck_assert_str_eq(got_r[0].rule_name, "a");
    ck_assert_str_eq(got_r[1].rule_name, "block");
    ck_assert_str_eq(got_r[2].rule_name, "");	/* index 7 of a policy of 1 */
    ck_assert_uint_eq(got_r[2].rule, EVREC_NO_RULE);
    ck_assert_str_eq(got_r[1].cc, "");
    ck_assert_str_eq(got_r[2].cc, "DE");
    ck_assert_str_eq(got_r[3].cc, "");
    ck_assert_uint_eq(strlen(got_r[3].login), 254);	/* 127 whole characters */
    ck_assert_uint_eq(strspn(got_r[4].login, "?"), 255);
    ck_assert_str_eq(got_r[5].login, "a??b");
    ck_assert_uint_eq(got_r[5].flags, EVREC_F_DRY_RUN);
    ck_assert_uint_eq(got_r[4].flags, EVREC_F_ROGUE_LISTED);
    ck_assert_str_eq(got_r[2].qid, "");
    close(a);
    sender_close(&x);
}
END_TEST

static _Thread_local size_t ossl_allocs;	/* OpenSSL's allocations, this thread */

/* count_malloc, count_realloc, count_free - OpenSSL's memory functions,
 * counting the allocations of the thread that makes them */
static void *count_malloc(size_t n, const char *file, int line)
{
    (void) file, (void) line;
    ossl_allocs++;
    return malloc(n);
}

static void *count_realloc(void *p, size_t n, const char *file, int line)
{
    (void) file, (void) line;
    ossl_allocs++;
    return realloc(p, n);
}

static void count_free(void *p, const char *file, int line)
{
    (void) file, (void) line;
    free(p);
}

/* With the queue, a mail thread does no cryptography: it encodes the
 * record and the sender thread seals it (the seal's OpenSSL context and
 * copies, a page walk each on this VM, were the mail thread's per
 * message). Every event still goes out sealed, in sequence. The old
 * code sealed in report_verdict: OpenSSL allocated on the calling
 * thread (a keyed context, then copies per seal). */
START_TEST(test_mail_thread_no_crypto)
{
    struct sender x;
    struct report_subject s = {.login = "alice", .phase = "eom", .qid = "Q7"};
    struct rules_verdict v;
    struct evrec r[50];
    uint64_t last = 0;
    size_t n;
    int a, i;

    /* in its own process (CK_FORK), before OpenSSL allocated anything */
    ck_assert_msg(CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free) == 1,
		  "OpenSSL allocated before the test: run it forked (CK_FORK=yes)");
    rules_verdict_init(&v);
    a = sender_open(&x, "evc");
    ck_assert(report_events_open(&x.rt));
    ossl_allocs = 0;
    for (i = 0; i < 50; i++)
	report_verdict(&x.rt, &s, &v, false);
    ck_assert_uint_eq(ossl_allocs, 0);
    report_events_close(&x.rt);
    for (i = 0; i < 50; i += (int) n) {	/* each record's own MAC verified */
	n = take(a, MSG_DONTWAIT, r + i, (size_t) (50 - i));
	ck_assert_uint_gt(n, 0);
    }
    ck_assert_int_eq(i, 50);
    for (i = 0; i < 50; i++) {
	ck_assert_uint_gt(r[i].seq, last);
	ck_assert_str_eq(r[i].login, "alice");
	ck_assert_str_eq(r[i].qid, "Q7");
	last = r[i].seq;
    }
    close(a);
    sender_close(&x);
}
END_TEST

struct slow_reader {
    int fd, want, got;
};

/* slow_read - a collector that reads as the datagrams come (one
 * receive at a time) until it has want of them or waited 3 s for one */
static void *slow_read(void *arg)
{
    struct slow_reader *r = arg;
    struct timeval tv = {.tv_sec = 3};
    size_t n;

    setsockopt(r->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    while (r->got < r->want && (n = take(r->fd, 0, NULL, 0)) > 0)
	r->got += (int) n;
    return NULL;
}

/* A burst larger than the collector's socket queue (the kernel's
 * max_dgram_qlen: 10 by default, 512 as systemd sets it) is not dropped
 * while the collector reads: the sender waits for room (a short wait,
 * in its own thread) instead of dropping the rest of a batch. */
START_TEST(test_queue_burst_waits_for_room)
{
    struct sender x;
    struct report_subject s = {.login = "alice", .phase = "eom"};
    struct slow_reader r = {.want = 1000};
    struct rules_verdict v;
    pthread_t th;
    int i;

    rules_verdict_init(&v);
    r.fd = sender_open(&x, "evb");
    ck_assert(report_events_open(&x.rt));
    ck_assert_int_eq(pthread_create(&th, NULL, slow_read, &r), 0);
    for (i = 0; i < r.want; i++)
	report_verdict(&x.rt, &s, &v, false);
    pthread_join(th, NULL);
    report_events_close(&x.rt);
    ck_assert_int_eq(r.got, r.want);
    close(r.fd);
    sender_close(&x);
}
END_TEST

static atomic_int no_room;	/* sendmmsg fails with EAGAIN while set */
static atomic_long no_room_calls;	/* how often it did */

/* sendmmsg - libc's, unless no_room is set: then EAGAIN however
 * writable poll says the socket is (a peer whose queue fills again
 * between the poll and the send). The test program's definition comes
 * before libc's for report.c, which is linked in statically. */
int sendmmsg(int fd, struct mmsghdr *m, unsigned int n, int flags)
{
    static int (*real)(int, struct mmsghdr *, unsigned int, int);

    if (atomic_load(&no_room)) {
	atomic_fetch_add(&no_room_calls, 1);
	errno = EAGAIN;
	return -1;
    }
    if (real == NULL)
	*(void **) &real = dlsym(RTLD_NEXT, "sendmmsg");
    return real(fd, m, n, flags);
}

/* mono - CLOCK_MONOTONIC in seconds */
static double mono(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double) t.tv_sec + (double) t.tv_nsec / 1e9;
}

/* counters_store - a store for the sent and dropped counters */
static STORE *counters_store(const char *path)
{
    struct store_params p = {
	.path = path, .max_users = 64, .max_clients = 64, .ips_per_user = 4,
	.lock_timeout_ms = 1000, .flags = STORE_CREATE, .mode = 0600,
    };
    char err[256] = "";
    STORE *st = NULL;

    unlink(path);
    ck_assert_msg(store_open(&p, &st, err, sizeof(err)) == STORE_OK, "%s", err);
    return st;
}

/* give_room - after 2 s, let sendmmsg work again (so that the old,
 * unbounded wait ends and the test fails on its clock, not a timeout) */
static void *give_room(void *arg)
{
    (void) arg;
    sleep(2);
    atomic_store(&no_room, 0);
    return NULL;
}

/* Poll says the collector's socket is writable, the send still finds no
 * room: the sender's wait for room is a deadline, so it gives up after
 * EVQ_STALL_MS a batch and counts the drops; it retries about once a
 * millisecond, never in a busy loop; and the close (a reload's old
 * snapshot, the exit) returns within the drain's bound. The old wait
 * shrank by whole milliseconds per turn, so it spun until preemptions
 * had added up to 20 ms, a batch at a time. */
START_TEST(test_no_room_though_writable)
{
    struct sender x;
    struct report_subject s = {.login = "alice", .phase = "eom"};
    const int events = 3 * EVQ_SLOTS;
    struct rules_verdict v;
    char spath[64];
    double t0, t1, took;
    long calls;
    pthread_t th;
    int a, i;

    snprintf(spath, sizeof(spath), "/tmp/rg-check-evr-%d.state", (int) getpid());
    rules_verdict_init(&v);
    a = sender_open(&x, "evr");
    x.rt.st = counters_store(spath);		/* empty: poll says writable */
    ck_assert(report_events_open(&x.rt));
    atomic_store(&no_room, 1);
    ck_assert_int_eq(pthread_create(&th, NULL, give_room, NULL), 0);
    t0 = mono();
    for (i = 0; i < events; i++)
	report_verdict(&x.rt, &s, &v, false);
    t1 = mono();
    report_events_close(&x.rt);
    took = mono() - t1;
    calls = atomic_load(&no_room_calls);
    ck_assert_msg(took < (EVQ_DRAIN_MS + EVQ_STALL_MS + 200) / 1000.0,
		  "the close took %.2f s", took);
    ck_assert_msg(calls < 2 * events / EVQ_BATCH + 1500 * (mono() - t0),
		  "%ld sends in %.2f s: a busy loop", calls, mono() - t0);
    ck_assert(!got(a));
    ck_assert_uint_eq(store_counter_get(x.rt.st, STATS_EVENTS_SENT), 0);
    ck_assert_uint_eq(store_counter_get(x.rt.st, STATS_EVENTS_DROPPED), events);
    pthread_join(th, NULL);
    store_close(x.rt.st);
    close(a);
    sender_close(&x);
    unlink(spath);
}
END_TEST

/* A collector that reads nothing (SIGSTOPped): a burst fills its socket
 * and the queue. Every event is counted, sent or dropped, what was sent
 * is in the socket, and the close sends what it can within the drain's
 * bound: the batches left share one deadline, not 20 ms each (32 of
 * them took 0.6 s or more). */
START_TEST(test_stopped_collector_drain_bounded)
{
    struct sender x;
    struct report_subject s = {.login = "alice", .phase = "eom"};
    struct rules_verdict v;
    char spath[64];
    uint64_t sent, dropped;
    double t0, took;
    int a, i, inq = 0;
    size_t k;

    snprintf(spath, sizeof(spath), "/tmp/rg-check-evs-%d.state", (int) getpid());
    rules_verdict_init(&v);
    a = sender_open(&x, "evs");
    x.rt.st = counters_store(spath);
    ck_assert(report_events_open(&x.rt));
    for (i = 0; i < 3 * EVQ_SLOTS; i++)
	report_verdict(&x.rt, &s, &v, false);
    t0 = mono();
    report_events_close(&x.rt);
    took = mono() - t0;
    ck_assert_msg(took < (EVQ_DRAIN_MS + EVQ_STALL_MS + 200) / 1000.0,
		  "the close took %.2f s", took);
    while ((k = got(a)) > 0)
	inq += (int) k;
    sent = store_counter_get(x.rt.st, STATS_EVENTS_SENT);
    dropped = store_counter_get(x.rt.st, STATS_EVENTS_DROPPED);
    ck_assert_uint_eq(sent + dropped, 3 * EVQ_SLOTS);
    ck_assert_uint_eq(sent, (uint64_t) inq);
    ck_assert_uint_gt(dropped, EVQ_SLOTS);
    store_close(x.rt.st);
    close(a);
    sender_close(&x);
    unlink(spath);
}
END_TEST

/* event_send_suite - every case above */
static Suite *event_send_suite(void)
{
    Suite *s = suite_create("event_send");
    TCase *tc = tcase_create("event_send");

    /* Check's default is 4 s a test, and test_no_room_though_writable
     * alone waits 2 s for its helper thread: under ASan on a loaded
     * machine that is too close (the bounds under test are asserted
     * by each test on its own clock) */
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_send_reconnect);
    tcase_add_test(tc, test_queue_flush_at_exit);
    tcase_add_test(tc, test_queue_one_send_per_interval);
    tcase_add_test(tc, test_capture_same_record);
    tcase_add_test(tc, test_mail_thread_no_crypto);
    tcase_add_test(tc, test_queue_burst_waits_for_room);
    tcase_add_test(tc, test_no_room_though_writable);
    tcase_add_test(tc, test_stopped_collector_drain_bounded);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(event_send_suite());
}
