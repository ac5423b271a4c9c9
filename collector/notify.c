/*
 * notify - the alert thread (see notify.h).
 *
 * State under one mutex: kicked (a pass is wanted) and stopping. The
 * thread sleeps on the condition until either is set, or until the time
 * a retry is due (the last pass's next_ms: a failed mail goes again when
 * its wait is over, not at the next kick, which may be 10 s later); a
 * pass runs with the mutex released, so notify_kick never waits for
 * sendmail.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "notify.h"

#define NOTIFY_ERR_LEN 1024

struct notify {
    const struct cfg *cfg;
    struct hist *hist;		/* the thread's own handle */
    struct alert_state st;
    notify_report_fn *report;
    void *arg;
    pthread_t tid;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool kicked, stopping;
    int64_t due_ms;		/* a retry's time (wall clock, as the condition's); 0: none */
};

/* wall_ms - the wall clock, as the incidents' times */
static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* one_pass - an alert pass now, reported; when a retry is due (0: none) */
static int64_t one_pass(struct notify *n)
{
    struct alert_pass p;
    char err[NOTIFY_ERR_LEN] = "";
    enum hist_status rc;

    rc = alert_run(n->hist, n->cfg, wall_ms(), &n->st, &p, err, sizeof(err));
    n->report(n->arg, n->cfg, rc, &p, err);
    return p.next_ms;
}

/* wait_kick - sleep (mutex held) until a kick, the stop, or the retry's
 * time, which counts as a kick */
static void wait_kick(struct notify *n)
{
    while (!n->kicked && !n->stopping) {
	struct timespec at = {(time_t) (n->due_ms / 1000), (long) (n->due_ms % 1000) * 1000000L};

	if (n->due_ms <= 0)
	    pthread_cond_wait(&n->cv, &n->mu);
	else if (pthread_cond_timedwait(&n->cv, &n->mu, &at) == ETIMEDOUT)
	    n->kicked = true, n->due_ms = 0;
    }
}

/* notify_main - a pass per kick, and per retry due, until stopped */
static void *notify_main(void *arg)
{
    struct notify *n = arg;
    int64_t due;

    pthread_mutex_lock(&n->mu);
    for (;;) {
	wait_kick(n);
	if (!n->kicked)
	    break;		/* stopping, and no pass wanted */
	n->kicked = false;
	pthread_mutex_unlock(&n->mu);
	due = one_pass(n);
	pthread_mutex_lock(&n->mu);
	n->due_ms = due;
    }
    pthread_mutex_unlock(&n->mu);
    return NULL;
}

/* notify_start - the thread with its own history handle */
int notify_start(struct notify **out, const struct cfg *cfg, notify_report_fn *report,
		 void *arg, char *err, size_t errlen)
{
    struct notify *n;

    *out = NULL;
    if (*cfg->collector.alerts.to == 0)
	return 0;
    if ((n = calloc(1, sizeof(*n))) == NULL)
	return snprintf(err, errlen, "out of memory"), -1;
    n->cfg = cfg, n->report = report, n->arg = arg;
    if (hist_open(cfg->collector.database, &n->hist, err, errlen) != HIST_OK)
	goto fail;
    if (alert_init(n->hist, err, errlen) != HIST_OK)
	goto fail;
    pthread_mutex_init(&n->mu, NULL);
    pthread_cond_init(&n->cv, NULL);
    if (pthread_create(&n->tid, NULL, notify_main, n) != 0) {
	snprintf(err, errlen, "cannot start the alert thread");
	pthread_cond_destroy(&n->cv);
	pthread_mutex_destroy(&n->mu);
	goto fail;
    }
    *out = n;
    return 0;
  fail:
    hist_close(n->hist);
    free(n);
    return -1;
}

/* set - one flag under the mutex, and wake the thread */
static void set(struct notify *n, bool *flag)
{
    pthread_mutex_lock(&n->mu);
    *flag = true;
    pthread_cond_signal(&n->cv);
    pthread_mutex_unlock(&n->mu);
}

/* notify_kick - one more pass is wanted */
void notify_kick(struct notify *n)
{
    if (n != NULL)
	set(n, &n->kicked);
}

/* notify_stop - the last kick's pass, then the thread is gone */
void notify_stop(struct notify *n)
{
    struct alert_pass none = {0};
    char err[NOTIFY_ERR_LEN] = "";

    if (n == NULL)
	return;
    set(n, &n->stopping);
    pthread_join(n->tid, NULL);
    if (alert_settle(n->hist, &n->st, err, sizeof(err)) != HIST_OK)
	n->report(n->arg, n->cfg, HIST_DB, &none, err);	/* that mail goes again */
    alert_state_free(&n->st);
    pthread_cond_destroy(&n->cv);
    pthread_mutex_destroy(&n->mu);
    hist_close(n->hist);
    free(n);
}
