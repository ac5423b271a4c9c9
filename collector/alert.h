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
 * What was mailed is kept in the database (tables alert_item and
 * alert_mail), so a restart neither repeats nor loses a mail: a mail
 * whose sendmail failed is tried again after ALERT_RETRY_MS. Incidents
 * opened more than ALERT_LOOKBACK_MS ago and already closed are not
 * mailed any more.
 *
 * Contract: single-threaded per history handle, like incident; the tables
 * come from alert_init. alert_run returns HIST_* with err filled; a failed
 * sendmail is counted in the pass (and its message kept in pass->error),
 * not an error. Nothing is logged.
 */
#ifndef RG_ALERT_H
#define RG_ALERT_H

#include <stdint.h>

#include "cfg.h"
#include "history.h"

#define ALERT_RETRY_MS 60000LL
#define ALERT_LOOKBACK_MS 86400000LL
#define ALERT_HOUR_MS 3600000LL
#define ALERT_PASS_MAX 500	/* items looked at in one pass */

struct alert_state {
    int64_t retry_at_ms;	/* no sendmail before this (after a failure) */
};

struct alert_pass {
    unsigned mails, digests;	/* sent: single mails, digest mails */
    unsigned deferred;		/* items that now wait for a digest */
    unsigned failed;		/* sendmail runs that failed */
    char error[256];		/* the last failure */
};

enum hist_status alert_init(struct hist *h, char *err, size_t errlen);
enum hist_status alert_run(struct hist *h, const struct cfg *cfg, int64_t now_ms,
			   struct alert_state *st, struct alert_pass *p, char *err,
			   size_t errlen);

#endif
