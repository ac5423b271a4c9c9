/*
 * bench_milter_events - what sending events costs the milter per
 * message, for bench_collector.sh.
 *
 *   bench_milter_events CONF_ON CONF_OFF [MESSAGES] [ROUNDS]
 *
 * Two runtimes loaded as the milter loads its own (rt_load): CONF_ON
 * names a collector (address, key), CONF_OFF is the same without one.
 * A message is what the milter does per message apart from libmilter:
 * the engine at MAIL, RCPT and end of message (txn_run, the phase
 * protocol the milter's callbacks follow) and the verdict report at end
 * of message (report_verdict: the log line, the counters and, with
 * events on, the signed datagram, sent without waiting). The same
 * MESSAGES (default 20,000: 2,000 logins, each from its own address)
 * run with events on and off in ROUNDS (default 7) interleaved rounds
 * (the order alternates). Prints the medians and the median of the
 * per-round ratios
 *   milter: per message events off A us, on B us; with/without = R
 * R is throughput with events over throughput without (>= 0.98 is the
 * target), in CPU time of this process (user and system). libmilter's own cost, the same both ways, is left out, so R
 * is lower than a whole milter's. The log goes to standard error: point
 * it at /dev/null. Not a test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"
#include "report.h"
#include "runtime.h"
#include "stats.h"
#include "txn.h"

#define LOGINS 2000
#define MAX_ROUNDS 64
#define NS 1e9

/* now_s - this process's CPU time, user and system (the sends' kernel
 * work included): the milter's own cost, whatever else the machine runs
 * (the collector receiving the events, other work) */
static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / NS;
}

/* one_message - message i through the engine and the report */
static void one_message(struct runtime *rt, unsigned i)
{
    struct rules_verdict v;
    struct report_subject s;
    struct txn t;
    char login[64], qid[32];
    uint32_t rcpt;
    enum txn_end e;

    memset(&t, 0, sizeof(t));
    snprintf(login, sizeof(login), "user%04u@example.org", i % LOGINS);
    snprintf(qid, sizeof(qid), "%010X", i);
    addr_parse("198.18.0.0", &t.client);
    t.client.b[14] = (uint8_t) ((i % LOGINS) >> 8), t.client.b[15] = (uint8_t) (i % LOGINS);
    t.login = login;
    t.rcpts = 1;
    t.bytes = 4000;
    t.qid = qid;
    e = txn_run(rt->cfg, rt->st, &t, (uint32_t) time(NULL), &v, &rcpt);
    memset(&s, 0, sizeof(s));
    s.qid = qid;
    s.login = login;
    s.client = &t.client;
    s.phase = txn_end_phase(e);
    s.phase_id = e == TXN_END_EOM ? RULES_PHASE_EOM : RULES_PHASE_MAIL;
    s.rcpts = rcpt;
    s.bytes = t.bytes;
    report_verdict(rt, &s, &v, false);
}

/* round - seconds for n messages */
static double round_s(struct runtime *rt, unsigned n, unsigned base)
{
    double t0 = now_s();
    unsigned i;

    for (i = 0; i < n; i++)
	one_message(rt, base + i);
    return now_s() - t0;
}

/* median - of n values (sorted in place) */
static double median(double *v, int n)
{
    int i, j;

    for (i = 0; i < n; i++)
	for (j = i + 1; j < n; j++)
	    if (v[j] < v[i]) {
		double x = v[i];

		v[i] = v[j], v[j] = x;
	    }
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    struct runtime *on, *off;
    double t_on[MAX_ROUNDS], t_off[MAX_ROUNDS], ratio[MAX_ROUNDS];
    unsigned msgs = argc > 3 ? (unsigned) atoi(argv[3]) : 20000;
    int rounds = argc > 4 ? atoi(argv[4]) : 7, r;
    char err[1024];

    if (argc < 3 || rounds < 1 || rounds > MAX_ROUNDS || msgs == 0) {
	fprintf(stderr, "usage: bench_milter_events CONF_ON CONF_OFF [MESSAGES] [ROUNDS]\n");
	return 64;
    }
    log_open("bench", LOG_MAIL, 1);
    report_init();
    if (rt_load(argv[1], &on, err, sizeof(err)) != 0
	|| rt_load(argv[2], &off, err, sizeof(err)) != 0) {
	fprintf(stdout, "bench_milter_events: %s\n", err);
	return 78;
    }
    if (on->evfd < 0 || off->evfd >= 0) {
	fprintf(stdout, "bench_milter_events: %s must name a collector, %s not\n", argv[1],
		argv[2]);
	return 78;
    }
    round_s(off, msgs, 0);	/* warm both: state entries exist */
    round_s(on, msgs, 0);
    for (r = 0; r < rounds; r++) {
	if (r % 2) {
	    t_on[r] = round_s(on, msgs, 0);
	    t_off[r] = round_s(off, msgs, 0);
	} else {
	    t_off[r] = round_s(off, msgs, 0);
	    t_on[r] = round_s(on, msgs, 0);
	}
	ratio[r] = t_off[r] / t_on[r];
    }
    printf("milter: CPU per message events off %.2f us, on %.2f us; with/without = %.3f"
	   " (median of %d interleaved rounds of %u messages; events sent %llu, dropped %llu)\n",
	   median(t_off, rounds) / msgs * 1e6, median(t_on, rounds) / msgs * 1e6,
	   median(ratio, rounds), rounds, msgs,
	   (unsigned long long) store_counter_get(on->st, STATS_EVENTS_SENT),
	   (unsigned long long) store_counter_get(on->st, STATS_EVENTS_DROPPED));
    rt_release(on);
    rt_release(off);
    return 0;
}
