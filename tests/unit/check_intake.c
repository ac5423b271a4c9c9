/*
 * check_intake - the collector's event intake over a real unix datagram
 * socket: good, forged, replayed, stale, truncated, oversized and
 * other-version events, storage and counters; a lone event stored soon,
 * a burst in one commit, the batch's naps, the milter's batch datagrams
 * gathered for INTAKE_LINGER_MS into one commit, no write lock while a
 * batch is gathered, nothing lost at a stop (intake_flush), drops over
 * UDP counted, a key file others may read
 * refused. (Correlation: check_incident.c.)
 */
#include <check.h>
#include <sqlite3.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../../collector/intake.h"
#include "check_main.h"
#include "collector_test.h"

/* setup - the fixture with incidents_file, quiet and logins settings */
static void setup(void)
{
    ct_setup("check_intake", "incidents_file = \"$D/inc.jsonl\"; incident_quiet = \"10m\";"
	     " incident_logins = 2; incident_window = \"1h\";");
}

START_TEST(test_intake)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    uint8_t buf[EVENT_MAX + 100];
    struct intake in;
    struct evrec r;
    char err[1024];
    size_t n, got, total = 0;
    int fd, i;
    int64_t now = now_ms();

    FILE *q = fopen("/proc/sys/net/unix/max_dgram_qlen", "r");
    int qlen = -1;

    if (q != NULL) {
	ck_assert_int_eq(fscanf(q, "%d", &qlen), 1);
	fclose(q);
    }
    ck_assert_msg(intake_open(&in, cfg, hist, err, sizeof(err)) == 0, "%s", err);
    if (geteuid() == 0)		/* root may pass net.core.rmem_max */
	ck_assert_int_ge(in.rcvbuf, INTAKE_RCVBUF);	/* sized for bursts */
    ck_assert_int_eq(in.qlen, qlen);	/* what limits a burst: for the warning */
    fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/ev.sock", dir);
#define SEND(b, l) ck_assert_int_eq(sendto(fd, (b), (l), 0, (struct sockaddr *) &sun, \
					    sizeof(sun)), (ssize_t) (l))
    for (i = 1; i <= 3; i++) {		/* three good ones */
	record(&r, (uint64_t) i, now, "usr1", "198.18.1.1", RULES_CLASS_AUTHENTICATED);
	n = sealed(&r, buf, sizeof(buf));
	SEND(buf, n);
    }
    SEND(buf, n);			/* a replay of the third */
    buf[n - 1] ^= 1;
    SEND(buf, n);			/* forged */
    SEND(buf, 20);			/* truncated */
    memset(buf + n, 'x', 80);
    SEND(buf, EVENT_MAX + 50);		/* oversized */
    record(&r, 9, now - 3600000, "usr1", "198.18.1.1", RULES_CLASS_AUTHENTICATED);
    n = sealed(&r, buf, sizeof(buf));
    SEND(buf, n);			/* stale */
    record(&r, 10, now, "usr1", "198.18.1.1", RULES_CLASS_AUTHENTICATED);
    n = sealed(&r, buf, sizeof(buf));
    buf[4] = 2;
    SEND(buf, n);			/* another version */
    while (total < 9) {
	ck_assert_msg(intake_step(&in, 1000, now, &got, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_gt(got, 0);
	total += got;
    }
    ck_assert_uint_eq(in.total.stored, 3);
    ck_assert_uint_eq(in.total.refused[EVREC_EREPLAY], 1);
    ck_assert_uint_eq(in.total.refused[EVREC_ESIG], 1);
    ck_assert_uint_eq(in.total.refused[EVREC_ESHORT], 1);
    ck_assert_uint_eq(in.total.refused[EVREC_ELONG], 1);
    ck_assert_uint_eq(in.total.refused[EVREC_ESTALE], 1);
    ck_assert_uint_eq(in.total.refused[EVREC_EVERSION], 1);
    ck_assert_int_eq(scalar("SELECT count(*) FROM event WHERE login = 'usr1'"
			    " AND client = '198.18.1.1' AND country = 'BR'"), 3);
    ck_assert_int_eq(scalar("SELECT value FROM counter WHERE name = 'stored'"), 3);
    ck_assert_int_eq(scalar("SELECT value FROM counter WHERE name = 'refused_signature'"), 1);
    intake_close(&in);
    /* a restarted collector (fresh replay window) still refuses it: the
     * database has it */
    ck_assert_msg(intake_open(&in, cfg, hist, err, sizeof(err)) == 0, "%s", err);
    record(&r, 2, now, "usr1", "198.18.1.1", RULES_CLASS_AUTHENTICATED);
    n = sealed(&r, buf, sizeof(buf));
    SEND(buf, n);
    ck_assert_int_eq(intake_step(&in, 1000, now, &got, err, sizeof(err)), 0);
    ck_assert_uint_eq(got, 1);
    ck_assert_uint_eq(in.total.refused[EVREC_EREPLAY], 1);
    ck_assert_uint_eq(in.total.stored, 0);
    intake_close(&in);
    close(fd);
#undef SEND
}
END_TEST

/* mono_ms - a monotonic clock */
static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* send_to_intake - a socket connected to the intake's */
static int send_to_intake(void)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/ev.sock", dir);
    ck_assert_int_eq(connect(fd, (struct sockaddr *) &sun, sizeof(sun)), 0);
    return fd;
}

#define TRIES 3			/* a loaded machine may stall one try; not all */
#define LONE_MS 80		/* a lone event's step, at most */

/* A quiet socket ends the batch: not a fixed linger (it was 100 ms),
 * which would make every try take 100 ms or more. A try's step may
 * stall on a loaded machine (the commit's write waits for the disk):
 * the fastest of TRIES counts. */
START_TEST(test_intake_lone_event_soon)
{
    uint8_t buf[EVENT_MAX];
    struct intake in;
    struct evrec r;
    char err[1024];
    size_t n, got;
    int64_t t, best = INT64_MAX;
    int fd, i;

    ck_assert_msg(intake_open(&in, cfg, hist, err, sizeof(err)) == 0, "%s", err);
    fd = send_to_intake();
    for (i = 1; i <= TRIES && best >= LONE_MS; i++) {
	record(&r, (uint64_t) i, now_ms(), "usr1", "198.18.1.1", RULES_CLASS_AUTHENTICATED);
	n = sealed(&r, buf, sizeof(buf));
	ck_assert_int_eq(send(fd, buf, n, 0), (ssize_t) n);
	t = mono_ms();
	ck_assert_msg(intake_step(&in, 1000, now_ms(), &got, err, sizeof(err)) == 0, "%s", err);
	t = mono_ms() - t;
	ck_assert_uint_eq(got, 1);
	ck_assert_int_eq(scalar("SELECT count(*) FROM event"), i);
	best = t < best ? t : best;
    }
    ck_assert_msg(best < LONE_MS, "one event took %lld ms to be stored (the fastest of %d)",
		  (long long) best, TRIES);
    intake_close(&in);
    close(fd);
}
END_TEST

#define SENDERS 3		/* one may stall on a loaded machine; not all */

/* A sender that keeps the intake busy until told to stop */
struct sender {
    int fd, stop, done;
    uint64_t bootid;
};

/* keep_sending - events as fast as the socket takes them, until stop */
static void *keep_sending(void *arg)
{
    struct sender *s = arg;
    uint8_t buf[EVENT_MAX];
    struct evrec r;
    uint64_t seq = 0;
    size_t n;

    while (!__atomic_load_n(&s->stop, __ATOMIC_SEQ_CST)) {
	record(&r, ++seq, now_ms(), "usr1", "198.18.1.1", RULES_CLASS_AUTHENTICATED);
	r.bootid = s->bootid;
	n = sealed(&r, buf, sizeof(buf));
	if (send(s->fd, buf, n, 0) != (ssize_t) n)
	    break;
    }
    __atomic_store_n(&s->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

START_TEST(test_intake_burst_one_commit)
{
    struct sender snd[SENDERS];
    pthread_t th[SENDERS];
    struct intake in;
    char err[1024];
    size_t got, first;
    int64_t t;
    int i, left, tries = 0;

    ck_assert_msg(intake_open(&in, cfg, hist, err, sizeof(err)) == 0, "%s", err);
again:
    for (i = 0; i < SENDERS; i++) {
	/* a boot id of its own each try: a retry's senders count their
	 * sequence from 1 again, which under the first try's boot ids the
	 * intake rightly refuses as replays */
	snd[i] = (struct sender) {.fd = send_to_intake(),
	    .bootid = 100 + (uint64_t) (tries * SENDERS + i)};
	ck_assert_int_eq(pthread_create(&th[i], NULL, keep_sending, &snd[i]), 0);
    }
    t = mono_ms();
    ck_assert_msg(intake_step(&in, 5000, now_ms(), &first, err, sizeof(err)) == 0, "%s", err);
    t = mono_ms() - t;
    for (i = 0; i < SENDERS; i++)
	__atomic_store_n(&snd[i].stop, 1, __ATOMIC_SEQ_CST);
    do {			/* drain, so that blocked senders see stop */
	intake_step(&in, 100, now_ms(), &got, err, sizeof(err));
	for (i = 0, left = 0; i < SENDERS; i++)
	    left += !__atomic_load_n(&snd[i].done, __ATOMIC_SEQ_CST);
    } while (left > 0 || got > 0);
    for (i = 0; i < SENDERS; i++) {
	pthread_join(th[i], NULL);
	close(snd[i].fd);
    }
    /* events that keep coming are one transaction up to INTAKE_BATCH_MS
     * or INTAKE_BATCH events (it used to end 100 ms after its first event
     * or at 8,192); senders starved for INTAKE_IDLE_MS on a loaded machine
     * end it early, rightly: three tries */
    ck_assert_uint_gt(first, 0);
    if (t < INTAKE_BATCH_MS / 2 && first < INTAKE_BATCH && ++tries < 3)
	goto again;
    ck_assert_msg(t >= INTAKE_BATCH_MS / 2 || first == INTAKE_BATCH,
		  "the first batch ended after %lld ms and %zu events", (long long) t, first);
    ck_assert_int_eq(scalar("SELECT count(*) FROM event"), (long long) in.total.stored);
    ck_assert_uint_eq(in.total.refused[EVREC_EREPLAY], 0);
    intake_close(&in);
}
END_TEST

/* A batch on a long queue: the intake step in a thread of its own */
struct step_arg {
    struct intake *in;
    pid_t tid;
    int done;
    size_t got;
};

/* step_thread - one intake step; its thread id first */
static void *step_thread(void *p)
{
    struct step_arg *a = p;
    char err[1024];

    __atomic_store_n(&a->tid, gettid(), __ATOMIC_SEQ_CST);
    intake_step(a->in, 2000, now_ms(), &a->got, err, sizeof(err));
    __atomic_store_n(&a->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

/* in_poll - is thread tid waiting in poll (its wchan)? */
static bool in_poll(pid_t tid)
{
    char path[64], w[128] = "";
    FILE *f;

    snprintf(path, sizeof(path), "/proc/self/task/%d/wchan", (int) tid);
    if ((f = fopen(path, "r")) != NULL) {
	if (fgets(w, sizeof(w), f) == NULL)
	    w[0] = 0;
	fclose(f);
    }
    return strstr(w, "poll") != NULL;
}

START_TEST(test_intake_batch_naps)
{
    struct timespec ms = {0, 1000000};
    struct step_arg a = {0};
    uint8_t buf[EVENT_MAX];
    struct intake in;
    struct evrec r;
    pthread_t th;
    char err[1024];
    bool woke = false, polled_after = false;
    size_t n;
    int fd;

    ck_assert_msg(intake_open(&in, cfg, hist, err, sizeof(err)) == 0, "%s", err);
    in.qlen = INTAKE_QLEN_MIN;		/* as with systemd's sysctl */
    fd = send_to_intake();
    a.in = &in;
    ck_assert_int_eq(pthread_create(&th, NULL, step_thread, &a), 0);
    while (__atomic_load_n(&a.tid, __ATOMIC_SEQ_CST) == 0 || !in_poll(a.tid))
	nanosleep(&ms, NULL);		/* waiting for the first event */
    record(&r, 1, now_ms(), "usr1", "198.18.1.1", RULES_CLASS_AUTHENTICATED);
    n = sealed(&r, buf, sizeof(buf));
    ck_assert_int_eq(send(fd, buf, n, 0), (ssize_t) n);
    /* once it has woken, the open batch never waits in poll again: a
     * sender then finds no waiter to wake */
    while (!__atomic_load_n(&a.done, __ATOMIC_SEQ_CST)) {
	bool p = in_poll(a.tid);

	if (!p)
	    woke = true;
	else if (woke)
	    polled_after = true;
	nanosleep(&ms, NULL);
    }
    pthread_join(th, NULL);
    ck_assert_uint_eq(a.got, 1);
    ck_assert(woke);
    ck_assert_msg(!polled_after, "the open batch waited in poll");
    intake_close(&in);
    close(fd);
}
END_TEST

/* A sender of datagrams at a pace: every gap_ms, count of them, each a
 * batch datagram of per records (the milter's framing) or, per == 0, a
 * single record; how many it sent, when its first and last send were
 * (mono_ms) and whether it is done, for the test's thread to read */
struct paced {
    int fd;
    unsigned count, per;
    long gap_ms;
    uint64_t seq;
    unsigned sent;
    int64_t first_ms, last_ms;
    int done;
};

/* send_paced - the paced datagrams, then return */
static void *send_paced(void *arg)
{
    struct paced *p = arg;
    uint8_t buf[EVBATCH_MAX], rec[EVENT_MAX];
    struct evrec r;
    size_t o, n;
    unsigned i, k;

    for (i = 0; i < p->count; i++) {
	o = p->per ? event_batch_head(buf, p->per) : 0;
	for (k = 0; k < (p->per ? p->per : 1); k++) {
	    record(&r, ++p->seq, now_ms(), "usr1", "198.18.1.1", RULES_CLASS_AUTHENTICATED);
	    n = sealed(&r, rec, sizeof(rec));
	    if (p->per)
		buf[o++] = (uint8_t) (n >> 8), buf[o++] = (uint8_t) n;
	    memcpy(buf + o, rec, n);
	    o += n;
	}
	ck_assert_int_eq(send(p->fd, buf, o, 0), (ssize_t) o);
	__atomic_store_n(&p->last_ms, mono_ms(), __ATOMIC_SEQ_CST);
	if (i == 0)
	    __atomic_store_n(&p->first_ms, p->last_ms, __ATOMIC_SEQ_CST);
	__atomic_store_n(&p->sent, i + 1, __ATOMIC_SEQ_CST);
	nap(p->gap_ms);
    }
    __atomic_store_n(&p->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

/* paced_start - a paced sender of count datagrams of per records every
 * gap_ms on fd, its sequence going on from seq, in thread *th */
static void paced_start(struct paced *p, int fd, unsigned count, unsigned per,
			long gap_ms, uint64_t seq, pthread_t *th)
{
    *p = (struct paced) {.fd = fd, .count = count, .per = per,
	.gap_ms = gap_ms, .seq = seq};
    ck_assert_int_eq(pthread_create(th, NULL, send_paced, p), 0);
}

/* paced_drain - steps until the sender is done and joined: once a step
 * ended, nobody reads the socket, and a sender that a loaded machine
 * slowed past it blocks on the full queue (max_dgram_qlen: 10 by
 * default) for ever */
static void paced_drain(struct intake *in, struct paced *p, pthread_t th)
{
    char err[1024];
    size_t got;

    while (!__atomic_load_n(&p->done, __ATOMIC_SEQ_CST))
	(void) intake_step(in, 100, now_ms(), &got, err, sizeof(err));
    pthread_join(th, NULL);
}

/* linger_try - one try of test_intake_batches_linger, the sequence
 * going on from *seq: 1 when its five sends came within
 * INTAKE_LINGER_MS of the first and the step ended as asked, 0 when
 * the machine stalled the sender past the gathering or the step's
 * commit (then the try says nothing); a batch split while the sends
 * came in time fails the test */
static int linger_try(struct intake *in, uint64_t *seq)
{
    struct paced p;
    pthread_t th;
    char err[1024];
    size_t got;
    int64_t t, before = scalar("SELECT count(*) FROM event");
    int fd = send_to_intake();

    paced_start(&p, fd, 5, 3, 100, *seq, &th);
    /* the milter's sender sends a batch datagram every EVQ_INTERVAL_MS
     * (or per EVQ_BATCH events): the pauses between its sends do not end
     * the batch (they did after INTAKE_IDLE_MS, a commit per send); all
     * five sends within INTAKE_LINGER_MS of the first are one commit */
    t = mono_ms();
    ck_assert_msg(intake_step(in, 2000, now_ms(), &got, err, sizeof(err)) == 0, "%s", err);
    t = mono_ms() - t;
    paced_drain(in, &p, th);
    close(fd);
    *seq = p.seq;
    if (p.last_ms - p.first_ms >= INTAKE_LINGER_MS - 50)
	return 0;		/* the sender stalled: split rightly */
    ck_assert_msg(got == 15, "one step stored %zu of 15 records", got);
    ck_assert_int_eq(scalar("SELECT count(*) FROM event") - before, 15);
    /* and is stored INTAKE_LINGER_MS after the first, not sooner */
    ck_assert_msg(t >= INTAKE_LINGER_MS - 50, "the batch took %lld ms", (long long) t);
    return t < INTAKE_LINGER_MS + 1000;	/* nor later, unless stalled */
}

/* tries - a test of TRIES tries on one intake: one must say something
 * (a try returns 1; 0 when the machine stalled it), why saying what
 * every one stalled on */
static void tries(int (*one)(struct intake *in, uint64_t *seq), const char *why)
{
    struct intake in;
    char err[1024];
    uint64_t seq = 0;
    int i;

    ck_assert_msg(intake_open(&in, cfg, hist, err, sizeof(err)) == 0, "%s", err);
    for (i = 0; i < TRIES && !one(&in, &seq); i++)
	continue;
    ck_assert_msg(i < TRIES, "%d tries %s", TRIES, why);
    intake_close(&in);
}

START_TEST(test_intake_batches_linger)
{
    tries(linger_try, "stalled or took past INTAKE_LINGER_MS + 1 s");
}
END_TEST

/* send_late - the paced datagrams, after 100 ms */
static void *send_late(void *arg)
{
    nap(100);
    return send_paced(arg);
}

START_TEST(test_intake_forged_count)
{
    pthread_t th;
    struct paced p = {.count = 1, .per = 1, .gap_ms = 0};
    uint8_t bad[64] = {0};
    struct intake in;
    char err[1024];
    size_t got;

    ck_assert_msg(intake_open(&in, cfg, hist, err, sizeof(err)) == 0, "%s", err);
    p.fd = send_to_intake();
    /* batch headers that claim 65,535 records each (the framing is not
     * signed: anyone who may write to the socket can send them) count as
     * one datagram refused each, not as a full batch: they must not end
     * the gathering at once (a commit per two such datagrams) */
    event_batch_head(bad, 1);
    bad[6] = 0xff, bad[7] = 0xff;
    ck_assert_int_eq(send(p.fd, bad, sizeof(bad), 0), (ssize_t) sizeof(bad));
    ck_assert_int_eq(send(p.fd, bad, sizeof(bad), 0), (ssize_t) sizeof(bad));
    /* one good batch datagram, 100 ms later, while the step gathers */
    ck_assert_int_eq(pthread_create(&th, NULL, send_late, &p), 0);
    ck_assert_msg(intake_step(&in, 2000, now_ms(), &got, err, sizeof(err)) == 0, "%s", err);
    pthread_join(th, NULL);
    ck_assert_msg(got == 3, "one step handled %zu of 3 datagrams' records", got);
    ck_assert_uint_eq(in.total.refused[EVREC_EBATCH], 2);
    ck_assert_uint_eq(in.total.stored, 1);
    intake_close(&in);
    close(p.fd);
}
END_TEST

/* gather_try - one try of test_intake_gather_unlocked, the sequence
 * going on from *seq: 1 when another writer's BEGIN IMMEDIATE came while
 * the step gathered the batch datagrams (before INTAKE_LINGER_MS from
 * the step's start, a datagram sent), 0 when the machine stalled this
 * thread past that (then the try says nothing) */
static int gather_try(struct intake *in, uint64_t *seq)
{
    struct paced p;
    struct step_arg a = {0};
    sqlite3 *other;
    pthread_t th, ts;
    char msg[256] = "";
    bool early;
    int64_t t0 = mono_ms();
    int rc, fd = send_to_intake();

    a.in = in;
    ck_assert_int_eq(pthread_create(&th, NULL, step_thread, &a), 0);
    paced_start(&p, fd, 60, 1, 5, *seq, &ts);
    nap(150);			/* the step gathers the batch datagrams (for INTAKE_LINGER_MS) */
    early = !__atomic_load_n(&a.done, __ATOMIC_SEQ_CST)
	&& __atomic_load_n(&p.sent, __ATOMIC_SEQ_CST) > 0;
    /* another writer (the flow follower, "rogue add") is not locked out
     * while a batch is gathered: the step takes the write lock only to
     * store (it held it from the first datagram to the commit) */
    ck_assert_int_eq(sqlite3_open(cfg->collector.database, &other), SQLITE_OK);
    rc = sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    snprintf(msg, sizeof(msg), "%s", sqlite3_errmsg(other));
    if (rc == SQLITE_OK)
	ck_assert_int_eq(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    early = early && mono_ms() - t0 < INTAKE_LINGER_MS;
    sqlite3_close(other);
    pthread_join(th, NULL);
    paced_drain(in, &p, ts);
    close(fd);
    *seq = p.seq;
    ck_assert_uint_gt(a.got, 0);
    if (!early)
	return 0;		/* past the gathering: its commit may hold the lock */
    ck_assert_msg(rc == SQLITE_OK, "BEGIN IMMEDIATE beside a gathering intake: %s", msg);
    return 1;
}

START_TEST(test_intake_gather_unlocked)
{
    tries(gather_try, "stalled past the gathering");
}
END_TEST

/* send_records - records first..last of usr1, one datagram each */
static void send_records(int fd, uint64_t first, uint64_t last)
{
    uint8_t buf[EVENT_MAX];
    struct evrec r;
    size_t n;

    for (uint64_t i = first; i <= last; i++) {
	record(&r, i, now_ms(), "usr1", "198.18.1.1", RULES_CLASS_AUTHENTICATED);
	n = sealed(&r, buf, sizeof(buf));
	ck_assert_int_eq(send(fd, buf, n, 0), (ssize_t) n);
    }
}

/* At a stop, intake_flush stores the batch a step gathered and could not
 * store (another writer held the database), and the datagrams still
 * waiting in the socket: none of the five events the milter counted as
 * sent is lost, none stored twice. The old flush stored only what had
 * been read (3 of 5): the rest went with the socket. */
START_TEST(test_intake_flush_at_stop)
{
    struct intake in;
    sqlite3 *other;
    char err[1024];
    size_t got = 99;
    int fd;

    ck_assert_msg(intake_open(&in, cfg, hist, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(sqlite3_busy_timeout(hist_sqlite(hist), 50), SQLITE_OK);
    fd = send_to_intake();
    send_records(fd, 1, 3);
    ck_assert_int_eq(sqlite3_open(cfg->collector.database, &other), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_ne(intake_step(&in, 1000, now_ms(), &got, err, sizeof(err)), 0);
    ck_assert_uint_eq(got, 0);		/* gathered, kept for the next store */
    ck_assert_uint_eq(in.total.stored, 0);
    send_records(fd, 4, 5);		/* still in the socket at the stop */
    ck_assert_int_eq(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    ck_assert_msg(intake_flush(&in, now_ms(), &got, err, sizeof(err)) == 0, "%s", err);
    ck_assert_msg(got == 5, "the flush stored %zu of 5 events", got);
    ck_assert_uint_eq(in.total.stored, 5);
    ck_assert_uint_eq(in.total.refused[EVREC_EREPLAY], 0);
    ck_assert_uint_eq(in.total.seq_gaps, 0);
    ck_assert_int_eq(scalar("SELECT count(*) FROM event"), 5);
    ck_assert_int_eq(scalar("SELECT value FROM counter WHERE name = 'stored'"), 5);
    ck_assert_msg(intake_flush(&in, now_ms(), &got, err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(got, 0);		/* nothing left, nothing twice */
    intake_close(&in);
    close(fd);
}
END_TEST

#define FLOOD 3000		/* more than a 64 KiB receive buffer holds */

START_TEST(test_udp_tail_drops_counted)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t sl = sizeof(sin);
    char path[128], err[1024];
    uint8_t buf[EVENT_MAX];
    struct intake in;
    struct cfg *ucfg;
    struct evrec r;
    size_t n, got;
    int fd, i, port;
    FILE *f;

    fd = socket(AF_INET, SOCK_DGRAM, 0);	/* a free port */
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *) &sin, sizeof(sin)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *) &sin, &sl), 0);
    port = ntohs(sin.sin_port);
    close(fd);
    snprintf(path, sizeof(path), "%s/udp.conf", dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "collector: { address = \"udp:127.0.0.1:%d\"; key_file = \"%s/key\";"
	    " database = \"%s/c.db\"; };\n", port, dir, dir);
    fclose(f);
    ucfg = cfg_load(path, err, sizeof(err));
    ck_assert_msg(ucfg != NULL, "%s", err);
    ck_assert_msg(intake_open(&in, ucfg, hist, err, sizeof(err)) == 0, "%s", err);
    i = 64 * 1024;		/* a small buffer fills sooner */
    ck_assert_int_eq(setsockopt(in.fd, SOL_SOCKET, SO_RCVBUF, &i, sizeof(i)), 0);
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    ck_assert_int_eq(connect(fd, (struct sockaddr *) &sin, sizeof(sin)), 0);
    /* nobody reads meanwhile: the buffer fills and the rest is dropped,
     * after the last datagram that will be received */
    for (i = 1; i <= FLOOD; i++) {
	record(&r, (uint64_t) i, now_ms(), "usr1", "198.18.1.1", RULES_CLASS_AUTHENTICATED);
	n = sealed(&r, buf, sizeof(buf));
	ck_assert_int_eq(send(fd, buf, n, 0), (ssize_t) n);
    }
    do
	ck_assert_msg(intake_step(&in, 100, now_ms(), &got, err, sizeof(err)) == 0, "%s", err);
    while (got > 0);
    ck_assert_uint_gt(in.total.kernel_drops, 0);
    ck_assert_uint_eq(in.total.stored + in.total.kernel_drops, FLOOD);
    ck_assert_int_eq(scalar("SELECT value FROM counter WHERE name = 'kernel_drops'"),
		     (long long) in.total.kernel_drops);
    intake_close(&in);
    close(fd);
    cfg_free(ucfg);
}
END_TEST

START_TEST(test_key_refused)
{
    struct intake in;
    char path[128], err[1024];

    snprintf(path, sizeof(path), "%s/key", dir);
    chmod(path, 0640);
    ck_assert_int_ne(intake_open(&in, cfg, hist, err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(strstr(err, "chmod 0600"));
}
END_TEST

/* intake_suite - every case above */
static Suite *intake_suite(void)
{
    Suite *s = suite_create("intake");
    TCase *tc = tcase_create("intake");

    tcase_add_checked_fixture(tc, setup, ct_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_intake);
    tcase_add_test(tc, test_intake_lone_event_soon);
    tcase_add_test(tc, test_intake_burst_one_commit);
    tcase_add_test(tc, test_intake_batch_naps);
    tcase_add_test(tc, test_intake_batches_linger);
    tcase_add_test(tc, test_intake_gather_unlocked);
    tcase_add_test(tc, test_intake_forged_count);
    tcase_add_test(tc, test_intake_flush_at_stop);
    tcase_add_test(tc, test_udp_tail_drops_counted);
    tcase_add_test(tc, test_key_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(intake_suite());
}
