/*
 * receive - the event loop (see receive.h).
 *
 * Every STEP_MS: read and store what the socket holds. Every
 * CORRELATE_MS after new events, and every IDLE_CORRELATE_MS anyway (a
 * flow analysis may have flagged a host since, and quiet incidents must
 * close): one correlation pass, incremental (inc_correlate_new: the
 * subjects of the new events; all of them when the flags changed). The
 * rogue list (pin_write_list) is rewritten after a pass that opened,
 * updated or closed an incident, so their hosts reach the milter within
 * seconds, and every LIST_MS anyway, so entries expire on time. A pass
 * kicks the alert thread (notify.c), which mails what is due: sendmail
 * never holds up the reading of events. Every
 * EXPIRE_MS: events older than
 * event_retention go, and closed incidents older than incident_retention.
 * The counters are logged when they changed, at most every STATS_MS, and
 * at the end.
 */
#include <sysexits.h>
#include <time.h>

#include "alert.h"
#include "evdb.h"
#include "incident.h"
#include "intake.h"
#include "log.h"
#include "notify.h"
#include "pin.h"
#include "receive.h"

#define STEP_MS 200
#define CORRELATE_MS 1000
#define IDLE_CORRELATE_MS 10000
#define EXPIRE_MS 3600000
#define STATS_MS 60000
#define LIST_MS 60000
#define ERR_LEN 1024

/* now_ms - the wall clock */
static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* log_gaps - the sources with sequence numbers missing, one line each */
static void log_gaps(const struct intake *in)
{
    const struct event_replay *w = &in->replay;
    size_t i;

    for (i = 0; i < w->n; i++)
	if (w->src[i].missing)
	    log_msg(LOG_WARNING, "events from node %s boot %016llx: %llu sequence numbers"
		    " missing after %llu (lost on the way; see kernel_drops and the"
		    " milter's events_dropped)", w->src[i].node,
		    (unsigned long long) w->src[i].bootid,
		    (unsigned long long) w->src[i].missing,
		    (unsigned long long) w->src[i].first);
}

/* log_stats - the intake counters, one line */
static void log_stats(const struct intake *in)
{
    const struct intake_stats *s = &in->total;
    uint64_t refused = 0;
    int i;

    for (i = 1; i < EVREC_NSTATUS; i++)
	refused += s->refused[i];
    /* a batch refused is one datagram of up to EVBATCH_RECORDS_MAX
     * records: shown on its own, not among the malformed records */
    log_msg(LOG_INFO, "events stored=%llu refused=%llu (signature=%llu replay=%llu "
	    "stale=%llu version=%llu batch=%llu malformed=%llu) kernel_drops=%llu"
	    " seq_gaps=%llu", (unsigned long long) s->stored, (unsigned long long) refused,
	    (unsigned long long) s->refused[EVREC_ESIG],
	    (unsigned long long) s->refused[EVREC_EREPLAY],
	    (unsigned long long) s->refused[EVREC_ESTALE],
	    (unsigned long long) s->refused[EVREC_EVERSION],
	    (unsigned long long) s->refused[EVREC_EBATCH],
	    (unsigned long long) (refused - s->refused[EVREC_ESIG] - s->refused[EVREC_EREPLAY]
				  - s->refused[EVREC_ESTALE] - s->refused[EVREC_EVERSION]
				  - s->refused[EVREC_EBATCH]),
	    (unsigned long long) s->kernel_drops, (unsigned long long) s->seq_gaps);
    log_gaps(in);
}

/* alerts - an alert pass's outcome, logged (called on the alert thread) */
static void alerts(void *arg, const struct cfg *cfg, enum hist_status rc,
		   const struct alert_pass *a, const char *err)
{
    (void) arg;
    if (rc != HIST_OK)
	log_msg(LOG_ERR, "alerts: %s", err);
    if (a->mails || a->digests || a->deferred)
	log_msg(LOG_NOTICE, "alerts to=%s mails=%u digests=%u waiting_for_digest=%u",
		cfg->collector.alerts.to, a->mails, a->digests, a->deferred);
    if (a->failed)
	log_msg(LOG_WARNING, "alert mail %s (tried again in %lld s): %s",
		a->unsure ? "perhaps sent" : "not sent", (long long) (a->retry_in_ms / 1000),
		a->error);
}

/* write_list - rewrite the rogue list the milter reads */
static void write_list(struct hist *h, const struct cfg *cfg, int64_t now)
{
    char err[ERR_LEN];

    if (pin_write_list(h, cfg, now, err, sizeof(err)) != 0)
	log_msg(LOG_ERR, "rogue list not written (tried again): %s", err);
}

/* correlate - one pass over what is new, logged when it changed
 * something; then a kick for the alert thread. 1 when incidents changed
 * (the rogue list then too) */
static int correlate(struct hist *h, const struct cfg *cfg, int64_t now,
		     struct inc_cursor *cur, struct notify *nt)
{
    struct inc_pass p;
    char err[ERR_LEN];

    if (inc_correlate_new(h, cfg, now, cur, &p, err, sizeof(err)) != HIST_OK) {
	log_msg(LOG_ERR, "correlation failed (tried again): %s", err);
	return 0;
    }
    if (p.opened || p.updated || p.closed)
	log_msg(LOG_NOTICE, "incidents opened=%u updated=%u closed=%u", p.opened, p.updated,
		p.closed);
    if (p.write_errors)
	log_msg(LOG_WARNING, "incidents_file %s: %u lines not written",
		cfg->collector.incidents_file, p.write_errors);
    notify_kick(nt);
    return p.opened || p.updated || p.closed;
}

/* expire_incidents - closed incidents past incident_retention go */
static void expire_incidents(struct hist *h, const struct cfg *cfg, int64_t now)
{
    char err[ERR_LEN];
    unsigned n;

    if (inc_expire(h, now - (int64_t) cfg->collector.incident_retention_s * 1000, &n, err,
		   sizeof(err)) != HIST_OK)
	log_msg(LOG_WARNING, "incident retention: %s", err);
    else if (n)
	log_msg(LOG_INFO, "incident retention: %u closed incidents deleted", n);
}

/* receive_run - the loop */
int receive_run(const struct cfg *cfg, atomic_int *stop,
		const struct receive_opts *o)
{
    int64_t start = now_ms(), last_corr = 0, last_exp = 0, last_stats = start, now;
    int64_t last_list = start;
    uint64_t seen = 0, logged = 0, fresh = 0;
    char err[ERR_LEN];
    struct notify *nt;
    struct inc_cursor cur = {0};
    struct intake in;
    struct hist *h;
    size_t got;

    if (hist_open(cfg->collector.database, &h, err, sizeof(err)) != HIST_OK) {
	log_msg(LOG_ERR, "%s", err);
	return EX_IOERR;
    }
    if (intake_open(&in, cfg, h, err, sizeof(err)) != 0) {
	log_msg(LOG_ERR, "events: %s", err);
	hist_close(h);
	return EX_CONFIG;
    }
    if (notify_start(&nt, cfg, alerts, NULL, err, sizeof(err)) != 0)
	log_msg(LOG_ERR, "alerts: %s", err);	/* events are taken all the same */
    log_msg(LOG_INFO, "receiving events on %s (receive buffer %d bytes)",
	    cfg->collector.address, in.rcvbuf);
    if (in.qlen >= 0 && in.qlen < INTAKE_QLEN_MIN)
	log_msg(LOG_WARNING, "net.unix.max_dgram_qlen is %d: the socket queues only that many"
		" events, and the milter drops what comes in a burst; set it to %d or more"
		" (sysctl)", in.qlen, INTAKE_QLEN_MIN);
    while (!atomic_load(stop)) {
	if (intake_step(&in, STEP_MS, now_ms(), &got, err, sizeof(err)) != 0)
	    log_msg(LOG_ERR, "events not stored: %s", err);
	seen += got, fresh += got;
	now = now_ms();
	if ((fresh && now - last_corr >= CORRELATE_MS) || now - last_corr >= IDLE_CORRELATE_MS) {
	    if (correlate(h, cfg, now, &cur, nt) || now - last_list >= LIST_MS)
		write_list(h, cfg, now), last_list = now;
	    last_corr = now, fresh = 0;
	}
	if (now - last_exp >= EXPIRE_MS) {
	    if (evdb_expire(h, now - (int64_t) cfg->collector.event_retention_s * 1000, err,
			    sizeof(err)) != HIST_OK)
		log_msg(LOG_WARNING, "event retention: %s", err);
	    expire_incidents(h, cfg, now);
	    last_exp = now;
	}
	if (seen != logged && now - last_stats >= STATS_MS)
	    log_stats(&in), logged = seen, last_stats = now;
	if ((o->max_events && seen >= o->max_events)
	    || (o->max_seconds && now - start >= (int64_t) o->max_seconds * 1000))
	    break;
    }
    if (intake_flush(&in, now_ms(), &got, err, sizeof(err)) != 0)	/* read, not stored */
	log_msg(LOG_ERR, "events not stored: %s", err);
    correlate(h, cfg, now_ms(), &cur, nt);
    notify_stop(nt);		/* after that last pass's alerts */
    log_stats(&in);
    intake_close(&in);
    hist_close(h);
    return EX_OK;
}
