/*
 * incident - correlation of the milter's events with the flow flags and
 * the admin's rogue pins into incidents:
 *
 *   login_from_flagged  a login used from a host flagged from flows
 *                       (rogue_server, direct_sender, fan_out) or pinned
 *                       on the rogue list; one per login
 *   relay_and_direct    an internal host that relays through the MTA
 *                       (events of class internal) and is flagged
 *                       direct_sender from flows (seed 000); one per host
 *   many_logins         one IP with more than incident_logins distinct
 *                       logins within incident_window; one per IP
 *   accepted_before_refusal
 *                       a login whose mail was refused (tempfail or
 *                       reject, not in dry run) after messages of the
 *                       same window had been accepted: their queue ids,
 *                       and the "relayguardctl contain" command that
 *                       holds what is still queued; one per login
 *
 * An incident has a stable id (from its kind, subject and first event),
 * is updated while evidence grows, and closes after incident_quiet
 * without new evidence; later evidence opens a new one. Each opening,
 * update and closing is one JSON line in collector.incidents_file,
 * opened for each line (so a file logrotate moved away is created anew).
 * Closed incidents older than incident_retention are deleted (inc_expire).
 *
 * inc_correlate looks at every subject with events in incident_window.
 * inc_correlate_new (the collector's loop, every second) looks only at
 * the subjects of events stored since its cursor's last pass, unless
 * the flagged set (flags in list_expiry, pins, drops) changed: a subject
 * without new events and with the same flags cannot open or grow an
 * incident (its evidence only shrinks as the window moves), so both give
 * the same incidents; the incremental pass costs what is new, not what
 * the window holds. accepted_before_refusal is looked at whole each pass.
 *
 * Contract: single-threaded per history handle, tables from evdb_init,
 * in no transaction (each pass is its own). Returns HIST_* with err filled. Nothing is logged.
 */
#ifndef RG_INCIDENT_H
#define RG_INCIDENT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cfg.h"
#include "history.h"

#define INC_ID_LEN 16		/* "INC-" and 12 hex digits */
#define INC_CONTAIN_CMD "relayguardctl contain --scan -- "
#define INC_CONTAIN_MAX 1024	/* the command with a quoted login */

struct inc_pass {
    unsigned opened, updated, closed;
    unsigned write_errors;	/* lines incidents_file did not take */
    bool full;			/* every subject was looked at */
};

/* Where the last incremental pass stopped (zeroed: the next is full). */
struct inc_cursor {
    bool valid;
    int64_t seen_rowid;		/* events up to this rowid were correlated */
    uint64_t flag_sig;		/* the flagged set then */
    int64_t pruned_ms;		/* when its many_logins summary was pruned */
};

enum hist_status inc_correlate(struct hist *h, const struct cfg *cfg, int64_t now_ms,
			       struct inc_pass *p, char *err, size_t errlen);
enum hist_status inc_expire(struct hist *h, int64_t before_ms, unsigned *n,
			    char *err, size_t errlen);
bool inc_contain(const char *kind, const char *login, char *buf, size_t len);
enum hist_status inc_correlate_new(struct hist *h, const struct cfg *cfg, int64_t now_ms,
				   struct inc_cursor *cur, struct inc_pass *p, char *err,
				   size_t errlen);
enum hist_status inc_print(struct hist *h, FILE *out, bool json, bool open_only,
			   char *err, size_t errlen);

#endif
