/*
 * evdb - the event table, the intake counters and "events" (see evdb.h).
 *
 * Addresses are stored in the history's text form (addr_format), so an
 * event's client joins the flag table's host directly.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "evdb.h"
#include "output.h"
#include "txn.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS event (node TEXT NOT NULL, bootid INTEGER NOT NULL,"
    " seq INTEGER NOT NULL, time_ms INTEGER NOT NULL, received_ms INTEGER,"
    " phase TEXT, action TEXT, class TEXT, flags INTEGER, rule TEXT, login TEXT,"
    " client TEXT, country TEXT, asn INTEGER, qid TEXT, rcpts INTEGER, bytes INTEGER,"
    " reason TEXT, PRIMARY KEY (node, bootid, seq));"
    "CREATE INDEX IF NOT EXISTS event_time ON event (time_ms);"
    "CREATE INDEX IF NOT EXISTS event_client ON event (client, time_ms);"
    /* for accepted_before_refusal (incident.c): the refusals, then the
     * events of the logins refused */
    "CREATE INDEX IF NOT EXISTS event_refused ON event (login, time_ms) WHERE"
    " action IN ('tempfail', 'reject') AND flags & 1 = 0;"
    "CREATE INDEX IF NOT EXISTS event_login ON event (login, time_ms) WHERE login != '';"
    "CREATE TABLE IF NOT EXISTS counter (name TEXT PRIMARY KEY, value INTEGER);"
    "CREATE TABLE IF NOT EXISTS incident (id TEXT PRIMARY KEY, kind TEXT NOT NULL,"
    " subject TEXT NOT NULL, first_ms INTEGER, last_ms INTEGER, opened_ms INTEGER,"
    " updated_ms INTEGER, closed_ms INTEGER NOT NULL DEFAULT 0, events INTEGER,"
    " logins TEXT, hosts TEXT, countries TEXT, asns TEXT, flags TEXT, rules TEXT,"
    " qids TEXT);"
    "CREATE INDEX IF NOT EXISTS incident_subject ON incident (kind, subject, closed_ms);"
    "CREATE TABLE IF NOT EXISTS rogue_pin (address TEXT NOT NULL, action TEXT NOT NULL,"
    " added_by TEXT, at_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL, reason TEXT,"
    " PRIMARY KEY (address, action));";

/* evdb_init - create the tables once */
enum hist_status evdb_init(struct hist *h, char *err, size_t errlen)
{
    sqlite3 *db = hist_sqlite(h);

    return sqlite3_exec(db, schema, NULL, NULL, NULL) == SQLITE_OK ? HIST_OK
	: hist_db_fail(db, "event schema", err, errlen);
}

static const char insert_sql[] =
    "INSERT OR IGNORE INTO event VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
static const char count_sql[] =
    "INSERT INTO counter VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = value + ?2";

/* evdb_add - store a verified event; *dup when it was there already
 * (the statement stays prepared: the intake calls this per event) */
enum hist_status evdb_add(struct hist *h, const struct evrec *r, int64_t now_ms,
			  bool *dup, char *err, size_t errlen)
{
    sqlite3 *db = hist_sqlite(h);
    sqlite3_stmt *st;
    char client[ADDR_STRLEN];
    int rc, i = 1;

    if ((st = hist_stmt(h, insert_sql, err, errlen)) == NULL)
	return HIST_DB;
    sqlite3_bind_text(st, i++, r->node, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, i++, (sqlite3_int64) r->bootid);
    sqlite3_bind_int64(st, i++, (sqlite3_int64) r->seq);
    sqlite3_bind_int64(st, i++, (sqlite3_int64) r->time_ms);
    sqlite3_bind_int64(st, i++, now_ms);
    sqlite3_bind_text(st, i++, txn_phase_name(r->phase), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, cfg_action_name(r->action), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, rules_class_name(r->cls), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, i++, r->flags);
    sqlite3_bind_text(st, i++, r->rule_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, r->login, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, addr_format(&r->client, client, sizeof(client)), -1,
		      SQLITE_TRANSIENT);
    sqlite3_bind_text(st, i++, r->cc, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, i++, r->asn);
    sqlite3_bind_text(st, i++, r->qid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, i++, r->rcpts);
    sqlite3_bind_int64(st, i++, (sqlite3_int64) r->bytes);
    sqlite3_bind_text(st, i++, r->reason, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    *dup = rc == SQLITE_DONE && sqlite3_changes(db) == 0;
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? HIST_OK : hist_db_fail(db, "store event", err, errlen);
}

/* evdb_expire - drop events older than before_ms */
enum hist_status evdb_expire(struct hist *h, int64_t before_ms, char *err, size_t errlen)
{
    sqlite3 *db = hist_sqlite(h);
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(db, "DELETE FROM event WHERE time_ms < ?1", -1, &st, NULL)
	!= SQLITE_OK)
	return hist_db_fail(db, "prepare", err, errlen);
    sqlite3_bind_int64(st, 1, before_ms);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? HIST_OK : hist_db_fail(db, "expire events", err, errlen);
}

/* evdb_count - add n to a named intake counter */
enum hist_status evdb_count(struct hist *h, const char *name, uint64_t n,
			    char *err, size_t errlen)
{
    sqlite3 *db = hist_sqlite(h);
    sqlite3_stmt *st;
    int rc;

    if (n == 0)
	return HIST_OK;
    if ((st = hist_stmt(h, count_sql, err, errlen)) == NULL)
	return HIST_DB;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64) n);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? HIST_OK : hist_db_fail(db, "count", err, errlen);
}

/* print_counters - the intake counters, one object or one line */
static int print_counters(sqlite3 *db, struct jb *j, bool json)
{
    sqlite3_stmt *st;
    int rc, first = 1;

    if (sqlite3_prepare_v2(db, "SELECT name, value FROM counter ORDER BY name", -1, &st,
			   NULL) != SQLITE_OK)
	return SQLITE_ERROR;
    jb_raw(j, json ? "{\"counters\": {" : "counters:");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
	if (json) {
	    jb_raw(j, first ? "" : ", ");
	    jb_str(j, hist_col_text(st, 0));
	    jb_fmt(j, ": %lld", (long long) sqlite3_column_int64(st, 1));
	} else
	    jb_fmt(j, " %s=%lld", hist_col_text(st, 0), (long long) sqlite3_column_int64(st, 1));
	first = 0;
    }
    sqlite3_finalize(st);
    jb_raw(j, json ? "},\n \"events\": [" : "\n");
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* print_event - one row, JSON or a line */
static void print_event(sqlite3_stmt *st, struct jb *j, bool json, bool first)
{
    static const char *const keys[] = {"node", "phase", "action", "class", "rule",
	"login", "client", "country", "qid", "reason"};
    char t[32];
    size_t k;

    if (!json) {
	jb_fmt(j, "%s %s %s seq=%lld action=%s rule=%s login=\"%s\" client=%s country=%s"
	       " asn=%lld qid=%s class=%s\n", out_time(sqlite3_column_int64(st, 0), t,
	       sizeof(t)), hist_col_text(st, 1), hist_col_text(st, 2),
	       (long long) sqlite3_column_int64(st, 12), hist_col_text(st, 3),
	       hist_col_text(st, 5), hist_col_text(st, 6), hist_col_text(st, 7),
	       *hist_col_text(st, 8) ? hist_col_text(st, 8) : "-",
	       (long long) sqlite3_column_int64(st, 11),
	       *hist_col_text(st, 9) ? hist_col_text(st, 9) : "-", hist_col_text(st, 4));
	return;
    }
    jb_raw(j, first ? "\n  {\"time\": " : ",\n  {\"time\": ");
    jb_time(j, sqlite3_column_int64(st, 0));
    for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
	jb_fmt(j, ", \"%s\": ", keys[k]);
	jb_str(j, hist_col_text(st, (int) k + 1));
    }
    jb_fmt(j, ", \"asn\": %lld, \"seq\": %lld, \"rcpts\": %lld}",
	   (long long) sqlite3_column_int64(st, 11), (long long) sqlite3_column_int64(st, 12),
	   (long long) sqlite3_column_int64(st, 13));
}

/* evdb_print - the counters and the newest limit events, oldest first */
enum hist_status evdb_print(struct hist *h, FILE *out, bool json, unsigned limit,
			    char *err, size_t errlen)
{
    sqlite3 *db = hist_sqlite(h);
    sqlite3_stmt *st;
    struct jb j = {0};
    int rc;
    bool first = true;

    if (print_counters(db, &j, json) != SQLITE_OK
	|| sqlite3_prepare_v2(db, "SELECT * FROM (SELECT time_ms, node, phase, action, class,"
			      " rule, login, client, country, qid, reason, asn, seq, rcpts"
			      " FROM event ORDER BY time_ms DESC, seq DESC LIMIT ?1)"
			      " ORDER BY time_ms, seq", -1, &st, NULL) != SQLITE_OK) {
	jb_free(&j);
	return hist_db_fail(db, "list events", err, errlen);
    }
    sqlite3_bind_int(st, 1, (int) limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
	print_event(st, &j, json, first);
	first = false;
    }
    sqlite3_finalize(st);
    if (json)
	jb_raw(&j, first ? "]}\n" : "\n ]}\n");
    if (rc == SQLITE_DONE && !j.oom)
	fputs(j.p, out);
    jb_free(&j);
    return rc != SQLITE_DONE ? hist_db_fail(db, "list events", err, errlen)
	: j.oom ? HIST_NOMEM : HIST_OK;
}
