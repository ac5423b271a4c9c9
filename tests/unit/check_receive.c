/*
 * check_receive - the collector's event loop (receive_run) on a thread,
 * with a real unix datagram socket: a sendmail that hangs while it sends
 * an incident's alert does not hold up the reading and storing of the
 * events that come meanwhile, and the alert still goes out and is
 * recorded; the milter's batch datagrams are stored per record; the
 * logged counters show refused batches on their own.
 */
#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../../collector/intake.h"
#include "../../collector/receive.h"
#include "check_main.h"
#include "collector_test.h"
#include "evq.h"
#include "log.h"
#include "report.h"
#include "runtime.h"

#define SLEEP_S 6		/* the hung sendmail's sleep */
#define BURST 2000		/* events sent while it sleeps */
#define STORED_WITHIN_MS 3000

static atomic_int stop;	/* the loop thread reads it */

/* exists - dir/name is there */
static int exists(const char *name)
{
    char path[128];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

/* setup - the fixture with alerts on, a sendmail that marks its start
 * and sleeps, a flagged host in the database */
static void setup(void)
{
    char text[1024];

    ct_setup("check_receive", "incidents_file = \"\"; alerts: { to = \"sec@example.org\";"
	     " from = \"rg@mx.example.org\"; sendmail = \"$D/sendmail\"; max_per_hour = 5;"
	     " timeout = \"30s\"; };");
    snprintf(text, sizeof(text), "#!/bin/sh\ntouch %s/started\ncat >%s/mail\nsleep %d\n"
	     "touch %s/done\n", dir, dir, SLEEP_S, dir);
    ct_put("sendmail", text, 0755);
    snprintf(text, sizeof(text), "INSERT INTO flag VALUES ('198.18.9.9', 'rogue_server',"
	     " %lld, %lld, '{}')", (long long) now_ms(), (long long) now_ms());
    sql(text);
}

/* send_event - a signed event of login from client; -1 when not sent */
static int send_event(int fd, const struct sockaddr_un *sun, uint64_t seq,
		      const char *login, const char *client)
{
    uint8_t buf[EVENT_MAX];
    struct evrec r;
    size_t n;

    record(&r, seq, now_ms(), login, client, RULES_CLASS_AUTHENTICATED);
    n = sealed(&r, buf, sizeof(buf));
    return sendto(fd, buf, n, 0, (const struct sockaddr *) sun, sizeof(*sun))
	== (ssize_t) n ? 0 : -1;
}

/* loop - receive_run until stop */
static void *loop(void *arg)
{
    struct receive_opts o = {0, 0};

    *(int *) arg = receive_run(cfg, &stop, &o);
    return NULL;
}

/* While sendmail hangs over an incident's alert, a burst of events is
 * read and stored at once (old: the event loop itself waited for
 * sendmail, so nothing was read until it returned); the alert is then
 * mailed and recorded all the same. */
START_TEST(test_hung_sendmail_does_not_stop_intake)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct timeval tv = {2, 0};	/* a blocked send fails, not hangs */
    pthread_t tid;
    int64_t t;
    int rc = -1, fd, i, unsent = 0;

    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/ev.sock", dir);
    atomic_store(&stop, 0);
    ck_assert_int_eq(pthread_create(&tid, NULL, loop, &rc), 0);
    for (i = 0; i < 100 && !exists("ev.sock"); i++)
	nap(100);
    fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    ck_assert_int_ge(fd, 0);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    ck_assert_int_eq(send_event(fd, &sun, 1, "usr1", "198.18.9.9"), 0);
    for (i = 0; i < 150 && !exists("started"); i++)
	nap(100);
    ck_assert_msg(exists("started"), "no alert for the incident");
    t = now_ms();
    for (i = 0; i < BURST; i++)
	unsent += send_event(fd, &sun, (uint64_t) i + 2, "usr2", "198.18.1.1") != 0;
    while (scalar("SELECT count(*) FROM event WHERE login = 'usr2'") < BURST - unsent
	   && now_ms() - t < STORED_WITHIN_MS)
	nap(50);
    ck_assert_int_eq(unsent, 0);
    ck_assert_int_eq(scalar("SELECT count(*) FROM event WHERE login = 'usr2'"), BURST);
    ck_assert_msg(!exists("done"), "the check came too late: sendmail is done");
    for (i = 0; i < 150 && scalar("SELECT count(*) FROM alert_item WHERE state = 'sent'") < 1;
	 i++)
	nap(100);
    ck_assert(exists("done"));
    ck_assert_int_eq(scalar("SELECT count(*) FROM alert_item WHERE state = 'sent'"), 1);
    atomic_store(&stop, 1);
    pthread_join(tid, NULL);
    ck_assert_int_eq(rc, 0);
    close(fd);
}
END_TEST

/* step_until - intake steps until want events were handled (2 s at most) */
static size_t step_until(struct intake *in, size_t want)
{
    char err[1024];
    size_t got, total = 0;
    int64_t t = now_ms();

    while (total < want && now_ms() - t < 2000) {
	ck_assert_msg(intake_step(in, 100, now_ms(), &got, err, sizeof(err)) == 0, "%s", err);
	total += got;
    }
    return total;
}

/* The milter's sender thread sends batch datagrams (several records
 * each) and the collector stores every record of them; a batch sent
 * again is a replay of each record; a batch with bad framing is refused
 * whole and counted once as "batch"; a tampered record in a batch is
 * refused alone. */
START_TEST(test_batches_stored_per_record)
{
    struct cfg_rule rules[1] = {{.name = (char *) "a"}};
    struct cfg rcfg = {.policy = {.rules = rules, .nrules = 1}};
    struct runtime rt = {.refs = 1, .cfg = &rcfg};
    struct sockaddr_un *sun = (struct sockaddr_un *) &rt.evaddr;
    struct report_subject subj = {.login = "usr3", .phase = "eom"};
    static uint8_t copy[EVBATCH_MAX], buf[EVBATCH_MAX];
    struct rules_verdict v;
    struct intake in;
    char err[1024];
    ssize_t clen;
    int i, tap;

    memcpy(rt.key.k, CT_KEY, strlen(CT_KEY));
    rt.key.len = strlen(CT_KEY);
    ck_assert_msg(intake_open(&in, cfg, hist, err, sizeof(err)) == 0, "%s", err);
    sun->sun_family = AF_UNIX;
    snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/ev.sock", dir);
    rt.evaddrlen = sizeof(*sun);
    rt.evfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    rules_verdict_init(&v);
    ck_assert(report_events_open(&rt));
    for (i = 0; i < 3 * EVQ_BATCH; i++)
	report_verdict(&rt, &subj, &v, false);
    report_events_close(&rt);
    ck_assert_uint_eq(step_until(&in, 3 * EVQ_BATCH), 3 * EVQ_BATCH);
    ck_assert_uint_eq(in.total.stored, 3 * EVQ_BATCH);
    ck_assert_int_eq(scalar("SELECT count(*) FROM event WHERE login = 'usr3'"), 3 * EVQ_BATCH);
    /* one more batch of 3, caught on its way (a socket of our own) */
    tap = socket(AF_UNIX, SOCK_DGRAM, 0);
    snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/tap.sock", dir);
    ck_assert_int_eq(bind(tap, (struct sockaddr *) sun, sizeof(*sun)), 0);
    atomic_store(&rt.evconn, 0);	/* connect to it at the next send */
    ck_assert(report_events_open(&rt));
    for (i = 0; i < 3; i++)
	report_verdict(&rt, &subj, &v, false);
    report_events_close(&rt);
    clen = recv(tap, copy, sizeof(copy), MSG_DONTWAIT);
    ck_assert_int_gt(clen, 0);
    ck_assert(event_is_batch(copy, (size_t) clen));
    snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/ev.sock", dir);
    ck_assert_int_eq(sendto(rt.evfd, copy, (size_t) clen, 0, (struct sockaddr *) sun,
			    sizeof(*sun)), clen);	/* 3 fresh records */
    ck_assert_int_eq(sendto(rt.evfd, copy, (size_t) clen, 0, (struct sockaddr *) sun,
			    sizeof(*sun)), clen);	/* 3 replays */
    memcpy(buf, copy, (size_t) clen);
    buf[7] = 4;			/* says 4 records, holds 3 */
    ck_assert_int_eq(sendto(rt.evfd, buf, (size_t) clen, 0, (struct sockaddr *) sun,
			    sizeof(*sun)), clen);
    ck_assert_int_eq(sendto(rt.evfd, copy, (size_t) clen - 1, 0, (struct sockaddr *) sun,
			    sizeof(*sun)), clen - 1);	/* truncated */
    ck_assert_uint_eq(step_until(&in, 3 + 3 + 1 + 1), 8);
    ck_assert_uint_eq(in.total.stored, 3 * EVQ_BATCH + 3);
    ck_assert_uint_eq(in.total.refused[EVREC_EREPLAY], 3);
    ck_assert_uint_eq(in.total.refused[EVREC_EBATCH], 2);
    ck_assert_int_eq(scalar("SELECT value FROM counter WHERE name = 'refused_batch'"), 2);
    intake_close(&in);
    close(tap), close(rt.evfd);
}
END_TEST

/* log_line - the last line of dir/log that holds what, or "" */
static const char *log_line(const char *what)
{
    static char line[1024], found[1024];
    char path[128];
    FILE *f;

    snprintf(path, sizeof(path), "%s/log", dir);
    found[0] = 0;
    if ((f = fopen(path, "r")) == NULL)
	return found;
    while (fgets(line, sizeof(line), f))
	if (strstr(line, what))
	    snprintf(found, sizeof(found), "%s", line);
    fclose(f);
    return found;
}

/* The counters the loop logs at its end name refused batch datagrams on
 * their own (old: a bad batch was counted among "malformed") */
START_TEST(test_stats_line_batch)
{
    static const uint8_t bad_batch[] = {'R', 'G', 'E', 'B', 1, 0, 0, 0};	/* 0 records */
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    char path[128];
    const char *l;
    pthread_t tid;
    int rc = -1, fd, i, err_fd;

    snprintf(path, sizeof(path), "%s/log", dir);
    err_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(err_fd, 0);
    ck_assert_int_eq(dup2(err_fd, 2), 2);	/* the log goes to stderr */
    log_open("check_receive", LOG_DAEMON, 1);
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/ev.sock", dir);
    atomic_store(&stop, 0);
    ck_assert_int_eq(pthread_create(&tid, NULL, loop, &rc), 0);
    for (i = 0; i < 100 && !exists("ev.sock"); i++)
	nap(100);
    fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    ck_assert_int_ge(fd, 0);
    for (i = 0; i < 2; i++)
	ck_assert_int_eq(sendto(fd, bad_batch, sizeof(bad_batch), 0,
				(const struct sockaddr *) &sun, sizeof(sun)),
			 (ssize_t) sizeof(bad_batch));
    ck_assert_int_eq(sendto(fd, "xx", 2, 0, (const struct sockaddr *) &sun, sizeof(sun)), 2);
    for (i = 0; i < 100 && scalar("SELECT coalesce(sum(value), 0) FROM counter WHERE name"
				   " LIKE 'refused_%'") < 3; i++)
	nap(100);
    atomic_store(&stop, 1);
    pthread_join(tid, NULL);
    ck_assert_int_eq(rc, 0);
    close(fd), close(err_fd);
    l = log_line("events stored=");
    ck_assert_msg(strstr(l, " refused=3 ") != NULL, "%s", l);
    ck_assert_msg(strstr(l, " batch=2 ") != NULL, "%s", l);
    ck_assert_msg(strstr(l, " malformed=1)") != NULL, "%s", l);
}
END_TEST

/* receive_suite - the event loop */
static Suite *receive_suite(void)
{
    Suite *s = suite_create("receive");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, ct_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_hung_sendmail_does_not_stop_intake);
    tcase_add_test(tc, test_batches_stored_per_record);
    tcase_add_test(tc, test_stats_line_batch);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(receive_suite());
}
