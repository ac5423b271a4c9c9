/*
 * alert - incident mail to collector.alerts.to through the local
 * sendmail (mailout).
 *
 * One mail when an incident opens, and one update when it escalates: its
 * evidence names a login, host or country that the first mail did not.
 * Each mail carries the evidence (login, hosts, countries, ASNs, first
 * and last seen, rules, queue ids, the contain command where there is
 * one, and the flow flags that matched with their evidence).
 *
 * Rate limit: at most alerts.max_per_hour mails in any hour (digests
 * included). Past it, further openings and escalations wait; the next
 * pass with room sends them all in one digest mail.
 *
 * At least once: an item counts as mailed only when sendmail exited 0,
 * and what was mailed (with the evidence it named) is kept in the
 * database (tables alert_item, alert_mail), so a restart loses no mail.
 * Each try is written down before sendmail runs: a failed try, or one
 * cut short by the collector's death, is tried again after alerts.retry,
 * doubling with each failure in a row up to ALERT_RETRY_MAX_MS, across
 * restarts too. The wait is the mail's own (table alert_try, per incident
 * and what): the next item is tried at once, so a mail that sendmail
 * refuses holds up no other. ALERT_FAILS_IN_ROW failures in a row in a
 * pass (the sender looks broken), or a failed digest, set the sender's
 * wait (table alert_retry, doubling the same way) before which nothing is
 * tried; a mail that goes out ends it. alert_pass.next_ms says when the
 * next retry is due, so the caller can wake then. A mail whose record could not
 * be committed stays in struct alert_state and is committed before the
 * next mail goes out, so it is not sent twice; only a death between
 * sendmail's exit and that commit repeats a mail (same Message-ID). A
 * sendmail killed at alerts.timeout after it had read the whole message
 * may have queued it: its retry may deliver it twice (same Message-ID,
 * a digest's too); such tries are counted in the pass (unsure) and in
 * the intake counters (ALERT_MAYBE_TWICE, shown by "events").
 * Incidents opened more than ALERT_LOOKBACK_MS ago and already closed
 * are not mailed any more.
 *
 * Contract: single-threaded per history handle, like incident; the tables
 * come from alert_init. alert_run returns HIST_* with err filled; a failed
 * sendmail is counted in the pass (and its message kept in pass->error),
 * not an error. alert_settle commits a kept record (alert_run does so
 * first); alert_state_free frees the state. Nothing is logged.
 */
#ifndef RG_ALERT_H
#define RG_ALERT_H

#include <stdint.h>

#include "cfg.h"
#include "history.h"

#define ALERT_RETRY_MAX_MS 3600000LL	/* the longest wait between tries */
#define ALERT_LOOKBACK_MS 86400000LL
#define ALERT_HOUR_MS 3600000LL
#define ALERT_PASS_MAX 500	/* items looked at in one pass */
#define ALERT_FAILS_IN_ROW 2	/* failed mails in a row that end a pass */
#define ALERT_MAYBE_TWICE "alerts_maybe_twice"	/* the counter of unsure sends */

struct alert_done;

struct alert_state {
    struct alert_done *unrecorded;	/* sent; its record not committed yet */
};

struct alert_pass {
    unsigned mails, digests;	/* sent: single mails, digest mails */
    unsigned deferred;		/* items that now wait for a digest */
    unsigned failed;		/* sendmail runs that failed */
    unsigned unsure;		/* of them: killed after reading it all (maybe sent) */
    int64_t retry_in_ms;	/* after a failure: the wait before the next try */
    int64_t next_ms;		/* when a retry is due (wall clock ms); 0: none */
    char error[256];		/* the last failure */
};

enum hist_status alert_init(struct hist *h, char *err, size_t errlen);
enum hist_status alert_run(struct hist *h, const struct cfg *cfg, int64_t now_ms,
			   struct alert_state *st, struct alert_pass *p, char *err,
			   size_t errlen);
enum hist_status alert_settle(struct hist *h, struct alert_state *st, char *err,
			      size_t errlen);
void alert_state_free(struct alert_state *st);

#endif
