/*
 * notify - the alert passes (alert.c) on a thread of their own, so that a
 * slow or hung sendmail never holds up the reading of events: the event
 * loop only kicks this thread after a correlation pass and goes on.
 *
 * The thread has its own history handle (SQLite in WAL mode: its reads
 * do not wait for the event loop's writes, and its few writes wait at
 * most the handle's busy timeout). It runs one alert pass per kick;
 * kicks that come while a pass runs make one pass more, not one each.
 * All the guarantees are alert.c's, unchanged: one thread sends, the
 * rate limit and digest come from the database, what was mailed is
 * recorded there, and mailout_send kills and reaps a sendmail that
 * overstays alerts.timeout. Besides the kicks, the thread wakes by
 * itself when a pass said a retry is due (alert_pass.next_ms), so a
 * failed mail goes again when its wait is over.
 *
 * Contract: notify_start with alerts configured (alerts.to not empty;
 * otherwise it starts nothing and *out is NULL, which the other
 * functions accept). notify_kick may be called from any thread.
 * notify_stop runs the pass of a last kick, joins the thread (so it can
 * take up to alerts.timeout), tries once more to commit the record of a
 * mail sent whose commit failed (reported if it fails again: that mail
 * will be sent again) and frees everything. report is called on
 * the alert thread after each pass, with the pass's status, counts and
 * error text; nothing is logged here.
 */
#ifndef RG_NOTIFY_H
#define RG_NOTIFY_H

#include <stddef.h>

#include "alert.h"
#include "cfg.h"

struct notify;

typedef void notify_report_fn(void *arg, const struct cfg *cfg, enum hist_status rc,
			      const struct alert_pass *p, const char *err);

int notify_start(struct notify **out, const struct cfg *cfg, notify_report_fn *report,
		 void *arg, char *err, size_t errlen);
void notify_kick(struct notify *n);
void notify_stop(struct notify *n);

#endif
