/*
 * incident - correlate events, flags and pins into incidents (see
 * incident.h).
 *
 * Each kind is one SQL query over the events of the last
 * incident_window, giving per subject: first and last event, the number
 * of events, and JSON arrays (SQLite's json_group_array) of logins,
 * hosts, countries, ASNs, the flags that matched, rules and queue ids.
 * The event decoder admits only valid UTF-8 without control bytes, so
 * those arrays are valid JSON as they are.
 */
#include <fcntl.h>
#include <openssl/sha.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "incident.h"
#include "output.h"

#define NCOLS 11
#define INC_SQL_MAX 4096
#define LISTS_FROM 4		/* columns 4..10 are JSON arrays */
#define INC_FILE_MODE 0640

/* Hosts flagged from flows within list_expiry and not dropped by the
 * admin since, and hosts the admin pinned. ?2 flag_since, ?4 now. */
#define FLAGGED \
    "WITH fl AS (SELECT host, kind FROM flag f WHERE flagged_at >= ?2 AND kind IN" \
    " ('rogue_server', 'direct_sender', 'fan_out') AND NOT EXISTS (SELECT 1 FROM" \
    " rogue_pin d WHERE d.address = f.host AND d.action = 'drop' AND d.at_ms >=" \
    " f.seen AND (d.expires_ms = 0 OR d.expires_ms > ?4)) UNION SELECT address," \
    " 'pinned' FROM rogue_pin WHERE action = 'pin' AND (expires_ms = 0 OR" \
    " expires_ms > ?4)) "
#define LISTS(flags) \
    " min(e.time_ms), max(e.time_ms), count(DISTINCT e.rowid)," \
    " json_group_array(DISTINCT e.login) FILTER (WHERE e.login != '')," \
    " json_group_array(DISTINCT e.client)," \
    " json_group_array(DISTINCT e.country) FILTER (WHERE e.country != '')," \
    " json_group_array(DISTINCT e.asn) FILTER (WHERE e.asn != 0), " flags "," \
    " json_group_array(DISTINCT e.rule) FILTER (WHERE e.rule != '')," \
    " json_group_array(DISTINCT e.qid) FILTER (WHERE e.qid != '')"

/* A refusal the MTA acted on (not in dry run); a message that left the
 * milter for delivery (accepted, tagged, or refused only in dry run) with
 * a queue id, before the login's first refusal r.t. */
#define REFUSED "action IN ('tempfail', 'reject') AND flags & 1 = 0"
#define LEFT_BEFORE "e.qid != '' AND e.time_ms < r.t AND (e.action IN ('accept', 'tag')" \
    " OR e.flags & 1 != 0)"

/* Each kind: its query up to the WHERE terms, the term that keeps only
 * subjects of events newer than rowid ?5 (an incremental pass), the
 * grouping, and whether it needs an event from a flagged host (then an
 * incremental pass without such a new event skips it). The terms only
 * filter: the query plan and so the order inside the evidence arrays
 * stay those of a full pass. */
static const struct {
    const char *kind, *sql, *touched, *group;
    bool flagged_only;
} kinds[] = {
    {"login_from_flagged", FLAGGED "SELECT e.login," LISTS("json_group_array(DISTINCT fl.kind)")
     " FROM event e JOIN fl ON fl.host = e.client WHERE e.time_ms >= ?1"
     " AND e.login != ''", " AND e.login IN (SELECT login FROM event WHERE rowid > ?5)",
     " GROUP BY e.login", true},
    {"relay_and_direct", FLAGGED "SELECT e.client," LISTS("json_group_array(DISTINCT fl.kind)")
     " FROM event e JOIN fl ON fl.host = e.client AND fl.kind = 'direct_sender'"
     " WHERE e.time_ms >= ?1 AND e.class = 'internal'",
     " AND e.client IN (SELECT client FROM event WHERE rowid > ?5)", " GROUP BY e.client",
     true},
    /* incremental: only clients that the summary (below) shows with more
     * than ?3 logins in the window, a superset of those the query finds */
    {"many_logins", "SELECT e.client," LISTS("'[]'") " FROM event e WHERE e.time_ms >= ?1"
     " AND e.login != '' AND ?2 >= 0 AND ?4 >= 0",
     " AND e.client IN (SELECT s.client FROM temp.client_login s WHERE s.client IN"
     " (SELECT client FROM event WHERE rowid > ?5) AND s.last_ms >= ?1"
     " GROUP BY s.client HAVING count(*) > ?3)",
     " GROUP BY e.client HAVING count(DISTINCT e.login) > ?3", false},
    /* always a full pass: as the window moves, the first refusal in it
     * moves too, and earlier accepted mail may count without new events;
     * driven by the refusals (a partial index) and then each refused
     * login's events (evdb.c's indexes), not by a scan of the window */
    {"accepted_before_refusal", "WITH r AS (SELECT login, min(time_ms) AS t FROM event"
     " INDEXED BY event_refused WHERE time_ms >= ?1 AND login != '' AND " REFUSED
     " GROUP BY login)"
     " SELECT e.login, min(e.time_ms), max(e.time_ms), count(DISTINCT e.rowid),"
     " json_group_array(DISTINCT e.login), json_group_array(DISTINCT e.client),"
     " json_group_array(DISTINCT e.country) FILTER (WHERE e.country != ''),"
     " json_group_array(DISTINCT e.asn) FILTER (WHERE e.asn != 0), '[]',"
     " json_group_array(DISTINCT e.rule) FILTER (WHERE e.rule != ''),"
     " json_group_array(DISTINCT e.qid) FILTER (WHERE " LEFT_BEFORE ")"
     " FROM r CROSS JOIN event e ON e.login = r.login AND e.login != ''"
     " WHERE e.time_ms >= ?1", NULL,
     " GROUP BY e.login HAVING sum(" LEFT_BEFORE ") > 0", false},
};

/* For incremental passes: per (client, login) the time of the newest
 * event, brought up to date with the new events of each pass (a
 * temporary table of this connection; a full pass with a cursor rebuilds
 * it). Without it many_logins re-aggregated every second the window's
 * events of each client that sent in that second. Events gone by
 * retention leave rows behind: a superset, which only filters. */
static const char summary_sql[] =
    "CREATE TEMP TABLE IF NOT EXISTS client_login (client TEXT NOT NULL,"
    " login TEXT NOT NULL, last_ms INTEGER NOT NULL, PRIMARY KEY (client, login))"
    " WITHOUT ROWID";
static const char summary_add_sql[] =
    "INSERT INTO temp.client_login SELECT client, login, max(time_ms) FROM event"
    " WHERE rowid > ?1 AND login != '' GROUP BY client, login ON CONFLICT (client, login)"
    " DO UPDATE SET last_ms = max(last_ms, excluded.last_ms)";
#define SUMMARY_PRUNE_MS (60 * 1000)

/* The flagged set, to see whether it changed since the last pass; and
 * whether a new event came from a flagged host. */
static const char flagged_sql[] = FLAGGED "SELECT host, kind FROM fl ORDER BY 1, 2";
static const char new_flagged_sql[] = FLAGGED "SELECT 1 FROM event e JOIN fl ON"
    " fl.host = e.client WHERE e.rowid > ?5 LIMIT 1";

static const char *const list_cols[] = {"logins", "hosts", "countries", "asns", "flags",
    "rules", "queue_ids"};

/* make_id - "INC-" and 12 hex digits of SHA-256(kind, subject, first) */
static void make_id(const char *kind, const char *subject, int64_t first,
		    char id[INC_ID_LEN + 1])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    char buf[512];
    int n = snprintf(buf, sizeof(buf), "%s\n%s\n%lld", kind, subject, (long long) first);
    int i;

    SHA256((const unsigned char *) buf, n > 0 && (size_t) n < sizeof(buf) ? (size_t) n
	   : sizeof(buf) - 1, md);
    memcpy(id, "INC-", 4);
    for (i = 0; i < 6; i++)
	snprintf(id + 4 + 2 * i, 3, "%02x", md[i]);
}

/* inc_contain - the relayguardctl command that holds what an incident's
 * login got accepted (accepted_before_refusal): the login in single
 * quotes for a POSIX shell, after "--" so that a leading '-' is no
 * option; false for other kinds or when buf is too small */
bool inc_contain(const char *kind, const char *login, char *buf, size_t len)
{
    size_t o;

    if (strcmp(kind, "accepted_before_refusal") != 0 || len < sizeof(INC_CONTAIN_CMD) + 3)
	return false;
    o = (size_t) snprintf(buf, len, "%s'", INC_CONTAIN_CMD);
    for (; *login; login++) {
	const char *piece = *login == '\'' ? "'\\''" : NULL;
	size_t n = piece ? strlen(piece) : 1;

	if (o + n + 2 > len)
	    return false;
	memcpy(buf + o, piece ? piece : login, n);
	o += n;
    }
    memcpy(buf + o, "'", 2);
    return true;
}

/* json_line - one incident row (SELECT * FROM incident) as a JSON object */
static void json_line(struct jb *j, sqlite3_stmt *st, const char *change)
{
    char cmd[INC_CONTAIN_MAX];
    int i;

    jb_raw(j, "{");
    if (change) {
	jb_raw(j, "\"change\": ");
	jb_str(j, change);
	jb_raw(j, ", ");
    }
    jb_raw(j, "\"id\": ");
    jb_str(j, hist_col_text(st, 0));
    jb_raw(j, ", \"kind\": ");
    jb_str(j, hist_col_text(st, 1));
    jb_raw(j, ", \"subject\": ");
    jb_str(j, hist_col_text(st, 2));
    if (inc_contain(hist_col_text(st, 1), hist_col_text(st, 2), cmd, sizeof(cmd))) {
	jb_raw(j, ", \"contain\": ");
	jb_str(j, cmd);
    }
    jb_raw(j, ", \"first_seen\": ");
    jb_time(j, sqlite3_column_int64(st, 3));
    jb_raw(j, ", \"last_seen\": ");
    jb_time(j, sqlite3_column_int64(st, 4));
    jb_fmt(j, ", \"open\": %s, \"events\": %lld", sqlite3_column_int64(st, 7) ? "false"
	   : "true", (long long) sqlite3_column_int64(st, 8));
    for (i = 0; i < (int) (sizeof(list_cols) / sizeof(list_cols[0])); i++) {
	jb_fmt(j, ", \"%s\": ", list_cols[i]);
	jb_raw(j, *hist_col_text(st, 9 + i) ? hist_col_text(st, 9 + i) : "[]");
    }
    jb_raw(j, "}");
}

/* open_append - incidents_file for one line, created INC_FILE_MODE (it
 * names logins); opened anew each time, so rotation needs no signal */
static FILE *open_append(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, INC_FILE_MODE);
    FILE *f;

    if (fd < 0)
	return NULL;
    if ((f = fdopen(fd, "a")) == NULL)
	close(fd);
    return f;
}

/* append_line - the incident id's row as one line of incidents_file;
 * -1 when it could not be written */
static int append_line(sqlite3 *db, const struct cfg *cfg, const char *id,
			const char *change)
{
    const char *path = cfg->collector.incidents_file;
    sqlite3_stmt *st;
    struct jb j = {0};
    FILE *f;
    int rc = -1;

    if (*path == 0)
	return 0;
    if (sqlite3_prepare_v2(db, "SELECT id, kind, subject, first_ms, last_ms, opened_ms,"
			   " updated_ms, closed_ms, events, logins, hosts, countries, asns,"
			   " flags, rules, qids FROM incident WHERE id = ?1", -1, &st, NULL)
	!= SQLITE_OK)
	return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
	json_line(&j, st, change);
	jb_raw(&j, "\n");
	if (!j.oom && (f = open_append(path)) != NULL) {
	    rc = fputs(j.p, f) < 0 ? -1 : 0;
	    rc = fclose(f) != 0 ? -1 : rc;
	}
    }
    sqlite3_finalize(st);
    jb_free(&j);
    return rc;
}

/* bind_finding - the finding's values as ?1..?11 of an INSERT or UPDATE */
static void bind_finding(sqlite3_stmt *w, sqlite3_stmt *f, int64_t now_ms)
{
    int i;

    sqlite3_bind_int64(w, 1, sqlite3_column_int64(f, 1));
    sqlite3_bind_int64(w, 2, sqlite3_column_int64(f, 2));
    sqlite3_bind_int64(w, 3, sqlite3_column_int64(f, 3));
    for (i = 0; i < NCOLS - LISTS_FROM; i++)
	sqlite3_bind_text(w, 4 + i, hist_col_text(f, LISTS_FROM + i), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(w, 11, now_ms);
}

/* write_finding - update the open incident or open a new one; the
 * change made ("opened", "updated") or NULL */
static const char *write_finding(sqlite3 *db, const char *kind, sqlite3_stmt *f,
				 int64_t now_ms, int64_t quiet_ms, char id[INC_ID_LEN + 1],
				 char *err, size_t errlen, enum hist_status *s)
{
    const char *subject = hist_col_text(f, 0), *change = NULL;
    int64_t last = sqlite3_column_int64(f, 2), events = sqlite3_column_int64(f, 3);
    sqlite3_stmt *q = NULL, *w = NULL;
    int rc;

    *s = HIST_OK;
    if (sqlite3_prepare_v2(db, "SELECT id, last_ms, events, closed_ms FROM incident"
			   " WHERE kind = ?1 AND subject = ?2 ORDER BY closed_ms = 0 DESC,"
			   " last_ms DESC LIMIT 1", -1, &q, NULL) != SQLITE_OK)
	goto db;
    sqlite3_bind_text(q, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, subject, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW && sqlite3_column_int64(q, 3) == 0) {	/* open */
	if (last <= sqlite3_column_int64(q, 1) && events <= sqlite3_column_int64(q, 2))
	    goto out;		/* nothing new */
	snprintf(id, INC_ID_LEN + 1, "%s", hist_col_text(q, 0));
	if (sqlite3_prepare_v2(db, "UPDATE incident SET last_ms = max(last_ms, ?2),"
			       " events = max(events, ?3), logins = ?4, hosts = ?5,"
			       " countries = ?6, asns = ?7, flags = ?8, rules = ?9, qids = ?10,"
			       " updated_ms = ?11 WHERE id = ?12", -1, &w, NULL) != SQLITE_OK)
	    goto db;
	change = "updated";
    } else {
	if ((rc == SQLITE_ROW && last <= sqlite3_column_int64(q, 1))
	    || last < now_ms - quiet_ms)
	    goto out;		/* evidence of a closed episode, or too old */
	/* an episode after a closed one gets an id of its own */
	make_id(kind, subject, rc == SQLITE_ROW ? sqlite3_column_int64(q, 1) + 1
		: sqlite3_column_int64(f, 1), id);
	if (sqlite3_prepare_v2(db, "INSERT INTO incident (first_ms, last_ms,"
			       " events, logins, hosts, countries, asns, flags, rules, qids,"
			       " opened_ms, updated_ms, id, kind, subject, closed_ms) VALUES"
			       " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12, ?13,"
			       " ?14, 0)", -1, &w, NULL) != SQLITE_OK)
	    goto db;
	sqlite3_bind_text(w, 13, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(w, 14, subject, -1, SQLITE_TRANSIENT);
	change = "opened";
    }
    bind_finding(w, f, now_ms);
    sqlite3_bind_text(w, 12, id, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(w) != SQLITE_DONE)
	goto db;
    goto out;
  db:
    *s = hist_db_fail(db, "incident", err, errlen);
    change = NULL;
  out:
    sqlite3_finalize(q);
    sqlite3_finalize(w);
    return change;
}

/* one_kind - run a kind's query (over subjects of events after rowid
 * since; all when since < 0) and write what it finds */
static enum hist_status one_kind(sqlite3 *db, const struct cfg *cfg, size_t k,
				 int64_t now_ms, int64_t since, struct inc_pass *p,
				 char *err, size_t errlen)
{
    const struct cfg_collector *c = &cfg->collector;
    int64_t quiet = (int64_t) c->incident_quiet_s * 1000;
    enum hist_status s = HIST_OK;
    char id[INC_ID_LEN + 1];
    const char *change;
    sqlite3_stmt *f;
    int rc;

    char sql[INC_SQL_MAX];

    if ((size_t) snprintf(sql, sizeof(sql), "%s%s%s", kinds[k].sql,
			  since >= 0 && kinds[k].touched ? kinds[k].touched : "", kinds[k].group)
	>= sizeof(sql)) {
	snprintf(err, errlen, "%s: query too long", kinds[k].kind);
	return HIST_DB;
    }
    if (sqlite3_prepare_v2(db, sql, -1, &f, NULL) != SQLITE_OK)
	return hist_db_fail(db, kinds[k].kind, err, errlen);
    sqlite3_bind_int64(f, 1, now_ms - (int64_t) c->incident_window_s * 1000);
    sqlite3_bind_int64(f, 2, now_ms - (int64_t) c->list_expiry_s * 1000);
    sqlite3_bind_int64(f, 3, c->incident_logins);
    sqlite3_bind_int64(f, 4, now_ms);
    if (since >= 0 && kinds[k].touched)
	sqlite3_bind_int64(f, 5, since);
    while (s == HIST_OK && (rc = sqlite3_step(f)) == SQLITE_ROW) {
	change = write_finding(db, kinds[k].kind, f, now_ms, quiet, id, err, errlen, &s);
	if (change == NULL)
	    continue;
	*(change[0] == 'o' ? &p->opened : &p->updated) += 1;
	if (append_line(db, cfg, id, change) != 0)
	    p->write_errors++;
    }
    if (s == HIST_OK && rc != SQLITE_DONE)
	s = hist_db_fail(db, kinds[k].kind, err, errlen);
    sqlite3_finalize(f);
    return s;
}

/* close_quiet - close open incidents without evidence for incident_quiet */
static enum hist_status close_quiet(sqlite3 *db, const struct cfg *cfg, int64_t now_ms,
				    struct inc_pass *p, char *err, size_t errlen)
{
    sqlite3_stmt *q, *w;
    int rc;

    if (sqlite3_prepare_v2(db, "SELECT id FROM incident WHERE closed_ms = 0 AND last_ms < ?1",
			   -1, &q, NULL) != SQLITE_OK)
	return hist_db_fail(db, "close", err, errlen);
    if (sqlite3_prepare_v2(db, "UPDATE incident SET closed_ms = ?2 WHERE id = ?1", -1, &w,
			   NULL) != SQLITE_OK) {
	sqlite3_finalize(q);
	return hist_db_fail(db, "close", err, errlen);
    }
    sqlite3_bind_int64(q, 1, now_ms - (int64_t) cfg->collector.incident_quiet_s * 1000);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
	sqlite3_bind_text(w, 1, hist_col_text(q, 0), -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(w, 2, now_ms);
	if (sqlite3_step(w) != SQLITE_DONE)
	    break;
	sqlite3_reset(w);
	p->closed++;
	if (append_line(db, cfg, hist_col_text(q, 0), "closed") != 0)
	    p->write_errors++;
    }
    sqlite3_finalize(w);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? HIST_OK : hist_db_fail(db, "close", err, errlen);
}

/* flag_sig - a hash (FNV-1a) of the flagged set as correlation sees it */
static enum hist_status flag_sig(sqlite3 *db, const struct cfg *cfg, int64_t now_ms,
				 uint64_t *sig, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    const unsigned char *t;
    uint64_t h = 14695981039346656037ull;
    int rc, i;

    if (sqlite3_prepare_v2(db, flagged_sql, -1, &st, NULL) != SQLITE_OK)
	return hist_db_fail(db, "flagged set", err, errlen);
    sqlite3_bind_int64(st, 2, now_ms - (int64_t) cfg->collector.list_expiry_s * 1000);
    sqlite3_bind_int64(st, 4, now_ms);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
	for (i = 0; i < 2; i++)
	    for (t = (const unsigned char *) hist_col_text(st, i);; t++) {
		h = (h ^ *t) * 1099511628211ull;	/* the NUL separates */
		if (*t == 0)
		    break;
	    }
    sqlite3_finalize(st);
    *sig = h;
    return rc == SQLITE_DONE ? HIST_OK : hist_db_fail(db, "flagged set", err, errlen);
}

/* top_rowid - the newest event's rowid, 0 with none */
static int64_t top_rowid(sqlite3 *db)
{
    sqlite3_stmt *st;
    int64_t top = -1;

    if (sqlite3_prepare_v2(db, "SELECT coalesce(max(rowid), 0) FROM event", -1, &st, NULL)
	!= SQLITE_OK)
	return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
	top = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return top;
}

/* new_flagged - 1 if an event after rowid since came from a flagged
 * host, 0 if not, -1 on error */
static int new_flagged(sqlite3 *db, const struct cfg *cfg, int64_t now_ms, int64_t since)
{
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(db, new_flagged_sql, -1, &st, NULL) != SQLITE_OK)
	return -1;
    sqlite3_bind_int64(st, 2, now_ms - (int64_t) cfg->collector.list_expiry_s * 1000);
    sqlite3_bind_int64(st, 4, now_ms);
    sqlite3_bind_int64(st, 5, since);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* summary_update - the client_login summary brought up to the events
 * after rowid since (rebuilt when since < 0); rows older than the window
 * dropped at most once a minute */
static enum hist_status summary_update(sqlite3 *db, const struct cfg *cfg, int64_t now_ms,
				       int64_t since, struct inc_cursor *cur, char *err,
				       size_t errlen)
{
    int64_t from = now_ms - (int64_t) cfg->collector.incident_window_s * 1000;
    sqlite3_stmt *st = NULL;
    bool prune = since < 0 || now_ms - cur->pruned_ms >= SUMMARY_PRUNE_MS;

    if (sqlite3_exec(db, summary_sql, NULL, NULL, NULL) != SQLITE_OK
	|| (since < 0 && sqlite3_exec(db, "DELETE FROM temp.client_login", NULL, NULL, NULL)
	    != SQLITE_OK)
	|| sqlite3_prepare_v2(db, summary_add_sql, -1, &st, NULL) != SQLITE_OK
	|| sqlite3_bind_int64(st, 1, since < 0 ? -1 : since) != SQLITE_OK
	|| sqlite3_step(st) != SQLITE_DONE) {
	sqlite3_finalize(st);
	return hist_db_fail(db, "event summary", err, errlen);
    }
    sqlite3_finalize(st);
    if (!prune)
	return HIST_OK;
    if (sqlite3_prepare_v2(db, "DELETE FROM temp.client_login WHERE last_ms < ?1", -1, &st,
			   NULL) != SQLITE_OK
	|| sqlite3_bind_int64(st, 1, from) != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE) {
	sqlite3_finalize(st);
	return hist_db_fail(db, "event summary", err, errlen);
    }
    sqlite3_finalize(st);
    cur->pruned_ms = now_ms;
    return HIST_OK;
}

/* summary_exists - whether this connection has the client_login summary */
static bool summary_exists(sqlite3 *db)
{
    return sqlite3_table_column_metadata(db, "temp", "client_login", "last_ms", NULL, NULL,
					 NULL, NULL, NULL) == SQLITE_OK;
}

/* pass - every kind (over subjects of events after since, or all when
 * since < 0), then the closings; in a transaction */
static enum hist_status pass(struct hist *h, const struct cfg *cfg, int64_t now_ms,
			     struct inc_cursor *cur, struct inc_pass *p, char *err,
			     size_t errlen)
{
    sqlite3 *db = hist_sqlite(h);
    enum hist_status s = HIST_OK;
    int64_t since = -1, top = 0;
    uint64_t sig = 0;
    int flagged = 1;
    size_t k;

    memset(p, 0, sizeof(*p));
    if (hist_begin(h, err, errlen) != HIST_OK)
	return HIST_DB;
    if (cur != NULL) {
	s = flag_sig(db, cfg, now_ms, &sig, err, errlen);
	if (s == HIST_OK && (top = top_rowid(db)) < 0)
	    s = hist_db_fail(db, "events", err, errlen);
	if (s == HIST_OK && cur->valid && cur->flag_sig == sig && top >= cur->seen_rowid
	    && summary_exists(db))
	    since = cur->seen_rowid;	/* else: a full pass */
	if (since >= 0 && (flagged = new_flagged(db, cfg, now_ms, since)) < 0)
	    s = hist_db_fail(db, "events", err, errlen);
	if (s == HIST_OK)
	    s = summary_update(db, cfg, now_ms, since, cur, err, errlen);
    }
    for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]) && s == HIST_OK; k++)
	if (flagged || !kinds[k].flagged_only)
	    s = one_kind(db, cfg, k, now_ms, since, p, err, errlen);
    if (s == HIST_OK)
	s = close_quiet(db, cfg, now_ms, p, err, errlen);
    if (s == HIST_OK && (s = hist_commit(h, err, errlen)) == HIST_OK) {
	if (cur != NULL)
	    cur->valid = true, cur->seen_rowid = top, cur->flag_sig = sig;
	p->full = since < 0;
	return HIST_OK;
    }
    hist_rollback(h);
    if (cur != NULL)
	cur->valid = false;
    return s;
}

/* inc_correlate - one full pass: every kind, then the closings */
enum hist_status inc_correlate(struct hist *h, const struct cfg *cfg, int64_t now_ms,
			       struct inc_pass *p, char *err, size_t errlen)
{
    return pass(h, cfg, now_ms, NULL, p, err, errlen);
}

/* inc_correlate_new - a pass over what changed since the cursor's pass:
 * the subjects of newer events, unless the flagged set changed (then
 * all of them); the same incidents as inc_correlate at the same time */
enum hist_status inc_correlate_new(struct hist *h, const struct cfg *cfg, int64_t now_ms,
				   struct inc_cursor *cur, struct inc_pass *p, char *err,
				   size_t errlen)
{
    return pass(h, cfg, now_ms, cur, p, err, errlen);
}

/* print_text - one incident as a line for people */
static void print_text(struct jb *j, sqlite3_stmt *st)
{
    char t1[32], t2[32], cmd[INC_CONTAIN_MAX];
    int i;

    jb_fmt(j, "%s %-18s %-6s %s", hist_col_text(st, 0), hist_col_text(st, 1),
	   sqlite3_column_int64(st, 7) ? "closed" : "open", hist_col_text(st, 2));
    jb_fmt(j, " first=%s last=%s events=%lld",
	   out_time(sqlite3_column_int64(st, 3), t1, sizeof(t1)),
	   out_time(sqlite3_column_int64(st, 4), t2, sizeof(t2)),
	   (long long) sqlite3_column_int64(st, 8));
    for (i = 0; i < (int) (sizeof(list_cols) / sizeof(list_cols[0])); i++)
	if (strcmp(hist_col_text(st, 9 + i), "[]") != 0 && *hist_col_text(st, 9 + i))
	    jb_fmt(j, " %s=%s", list_cols[i], hist_col_text(st, 9 + i));
    if (inc_contain(hist_col_text(st, 1), hist_col_text(st, 2), cmd, sizeof(cmd))) {
	jb_raw(j, " contain=");
	jb_str(j, cmd);
    }
    jb_raw(j, "\n");
}

/* inc_print - the incidents, newest first */
enum hist_status inc_print(struct hist *h, FILE *out, bool json, bool open_only,
			   char *err, size_t errlen)
{
    sqlite3 *db = hist_sqlite(h);
    sqlite3_stmt *st;
    struct jb j = {0};
    bool first = true;
    int rc;

    if (sqlite3_prepare_v2(db, "SELECT id, kind, subject, first_ms, last_ms, opened_ms,"
			   " updated_ms, closed_ms, events, logins, hosts, countries, asns,"
			   " flags, rules, qids FROM incident WHERE closed_ms = 0 OR ?1 = 0"
			   " ORDER BY last_ms DESC", -1, &st, NULL) != SQLITE_OK)
	return hist_db_fail(db, "incidents", err, errlen);
    sqlite3_bind_int(st, 1, open_only);
    jb_raw(&j, json ? "{\"incidents\": [" : "");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
	if (json) {
	    jb_raw(&j, first ? "\n  " : ",\n  ");
	    json_line(&j, st, NULL);
	} else
	    print_text(&j, st);
	first = false;
    }
    sqlite3_finalize(st);
    return out_list_end(db, &j, json, first, rc, out, "incidents", err, errlen);
}

/* inc_expire - delete incidents closed before before_ms; *n how many */
enum hist_status inc_expire(struct hist *h, int64_t before_ms, unsigned *n,
			    char *err, size_t errlen)
{
    sqlite3 *db = hist_sqlite(h);
    sqlite3_stmt *st;
    int rc;

    *n = 0;
    if (sqlite3_prepare_v2(db, "DELETE FROM incident WHERE closed_ms != 0 AND closed_ms < ?1",
			   -1, &st, NULL) != SQLITE_OK)
	return hist_db_fail(db, "expire incidents", err, errlen);
    sqlite3_bind_int64(st, 1, before_ms);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
	return hist_db_fail(db, "expire incidents", err, errlen);
    *n = (unsigned) sqlite3_changes(db);
    return HIST_OK;
}
