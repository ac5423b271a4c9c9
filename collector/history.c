/*
 * history - SQLite storage of the collector (see history.h).
 *
 * Counts of a host's day are added to (the daemon counts file after file;
 * hist_file_seen keeps a file from being counted twice). Times are UTC
 * milliseconds, days are days since 1970-01-01; hosts are stored in their
 * text form so the admin's sqlite3 queries read naturally.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"

#define BUSY_TIMEOUT_MS 5000
#define STMT_CACHE 16		/* statements kept prepared per handle */

struct hist {
    sqlite3 *db;
    struct {
	const char *sql;	/* the caller's static text: the key */
	sqlite3_stmt *st;
    } cache[STMT_CACHE];
};

/* WAL with synchronous=NORMAL: a commit is in the WAL file when COMMIT
 * returns, so a killed collector loses nothing it committed (only a
 * power cut may lose the last commits; the database stays consistent);
 * and a commit costs no fsync, which the event intake needs. A 64 MiB
 * page cache and reads through mmap keep the event table's indexes in
 * memory instead of a pread per page. */
static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "PRAGMA cache_size=-65536;"
    "PRAGMA mmap_size=268435456;"
    "CREATE TABLE IF NOT EXISTS host_day (host TEXT NOT NULL, day INTEGER NOT NULL,"
    " conns INTEGER, served INTEGER, sent INTEGER, bytes INTEGER, packets INTEGER,"
    " peers INTEGER, ports INTEGER, PRIMARY KEY (host, day));"
    "CREATE TABLE IF NOT EXISTS host (host TEXT PRIMARY KEY, first_seen INTEGER,"
    " last_seen INTEGER);"
    "CREATE TABLE IF NOT EXISTS flag (host TEXT NOT NULL, kind TEXT NOT NULL,"
    " seen INTEGER NOT NULL, flagged_at INTEGER, evidence TEXT,"
    " PRIMARY KEY (host, kind, seen));"
    "CREATE TABLE IF NOT EXISTS whitelist (network TEXT PRIMARY KEY, added_by TEXT,"
    " added_at INTEGER, reason TEXT);"
    "CREATE TABLE IF NOT EXISTS imported (path TEXT, size INTEGER, mtime INTEGER,"
    " at INTEGER, PRIMARY KEY (path, size, mtime));";

/* hist_db_fail - SQLite's message on db into err, for every collector
 * module that talks to the database */
enum hist_status hist_db_fail(sqlite3 *db, const char *what, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
    return HIST_DB;
}

/* hist_col_text - a result column as a string, "" for NULL */
const char *hist_col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);

    return s ? (const char *) s : "";
}

/* fail - SQLite's message on this history's database into err */
static enum hist_status fail(struct hist *h, const char *what, char *err,
			     size_t errlen)
{
    return hist_db_fail(h->db, what, err, errlen);
}

/* hist_open - open or create the database */
enum hist_status hist_open(const char *path, struct hist **out, char *err,
			   size_t errlen)
{
    struct hist *h = calloc(1, sizeof(*h));

    *out = NULL;
    if (h == NULL) {
	snprintf(err, errlen, "out of memory");
	return HIST_NOMEM;
    }
    if (sqlite3_open_v2(path, &h->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			NULL) != SQLITE_OK
	|| sqlite3_busy_timeout(h->db, BUSY_TIMEOUT_MS) != SQLITE_OK
	|| sqlite3_exec(h->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
	snprintf(err, errlen, "%s: %s", path, h->db ? sqlite3_errmsg(h->db) : "cannot open");
	hist_close(h);
	return HIST_DB;
    }
    *out = h;
    return HIST_OK;
}

/* hist_sqlite_version - the SQLite library's version */
const char *hist_sqlite_version(void)
{
    return sqlite3_libversion();
}

/* hist_close - close the database */
void hist_close(struct hist *h)
{
    int i;

    if (h == NULL)
	return;
    for (i = 0; i < STMT_CACHE; i++)
	sqlite3_finalize(h->cache[i].st);
    sqlite3_close(h->db);
    free(h);
}

/* hist_sqlite - the connection, for the tables of evdb.c */
sqlite3 *hist_sqlite(struct hist *h)
{
    return h->db;
}

/* hist_stmt - a statement kept prepared for this handle, reset and its
 * bindings cleared; sql must be a string that lives as long as the
 * handle (a literal: its address is the key). Not to be finalized by
 * the caller. NULL after an error (in err). */
sqlite3_stmt *hist_stmt(struct hist *h, const char *sql, char *err, size_t errlen)
{
    int i;

    for (i = 0; i < STMT_CACHE && h->cache[i].sql != NULL; i++)
	if (h->cache[i].sql == sql) {
	    sqlite3_reset(h->cache[i].st);
	    sqlite3_clear_bindings(h->cache[i].st);
	    return h->cache[i].st;
	}
    if (i == STMT_CACHE) {	/* full: callers use few; drop the last */
	sqlite3_finalize(h->cache[--i].st);
	h->cache[i].sql = NULL;
    }
    if (sqlite3_prepare_v3(h->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &h->cache[i].st,
			   NULL) != SQLITE_OK) {
	h->cache[i].st = NULL;
	fail(h, "prepare", err, errlen);
	return NULL;
    }
    h->cache[i].sql = sql;
    return h->cache[i].st;
}

/* exec - one statement without results */
static enum hist_status exec(struct hist *h, const char *sql, char *err,
			     size_t errlen)
{
    return sqlite3_exec(h->db, sql, NULL, NULL, NULL) == SQLITE_OK ? HIST_OK
	: fail(h, sql, err, errlen);
}

/* hist_begin - start a write transaction */
enum hist_status hist_begin(struct hist *h, char *err, size_t errlen)
{
    return exec(h, "BEGIN IMMEDIATE", err, errlen);
}

/* hist_commit - commit it */
enum hist_status hist_commit(struct hist *h, char *err, size_t errlen)
{
    return exec(h, "COMMIT", err, errlen);
}

/* hist_rollback - abandon it */
void hist_rollback(struct hist *h)
{
    sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
}

/* prep - a statement; NULL after an error */
static sqlite3_stmt *prep(struct hist *h, const char *sql, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK) {
	fail(h, "prepare", err, errlen);
	return NULL;
    }
    return st;
}

/* finish - step a write statement to its end */
static enum hist_status finish(struct hist *h, sqlite3_stmt *st, char *err,
			       size_t errlen)
{
    int rc = sqlite3_step(st);
    enum hist_status s = rc == SQLITE_DONE ? HIST_OK : fail(h, "write", err, errlen);

    sqlite3_finalize(st);
    return s;
}

/* bind_host - the host's text form as parameter i */
static void bind_host(sqlite3_stmt *st, int i, const struct addr *a)
{
    char buf[ADDR_STRLEN];

    sqlite3_bind_text(st, i, addr_format(a, buf, sizeof(buf)), -1, SQLITE_TRANSIENT);
}

/* hist_file_seen - was this file counted before? marks it counted */
enum hist_status hist_file_seen(struct hist *h, const char *path, int64_t size,
				int64_t mtime, bool *seen, char *err, size_t errlen)
{
    sqlite3_stmt *st = prep(h, "INSERT OR IGNORE INTO imported VALUES (?1, ?2, ?3,"
			    " CAST(strftime('%s','now') AS INTEGER) * 1000)", err, errlen);

    if (st == NULL)
	return HIST_DB;
    sqlite3_bind_text(st, 1, path, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, size);
    sqlite3_bind_int64(st, 3, mtime);
    if (finish(h, st, err, errlen) != HIST_OK)
	return HIST_DB;
    *seen = sqlite3_changes(h->db) == 0;
    return HIST_OK;
}

/* hist_file_known - was this file counted before? (read only) */
enum hist_status hist_file_known(struct hist *h, const char *path, int64_t size,
				 int64_t mtime, bool *known, char *err, size_t errlen)
{
    sqlite3_stmt *st = prep(h, "SELECT 1 FROM imported WHERE path = ?1 AND size = ?2"
			    " AND mtime = ?3", err, errlen);
    int rc;

    if (st == NULL)
	return HIST_DB;
    sqlite3_bind_text(st, 1, path, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, size);
    sqlite3_bind_int64(st, 3, mtime);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    *known = rc == SQLITE_ROW;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? HIST_OK : fail(h, "read", err, errlen);
}

/* hist_add_day - add a day's counts to the host's row */
enum hist_status hist_add_day(struct hist *h, const struct addr *host,
			      const struct det_day *d, char *err, size_t errlen)
{
    sqlite3_stmt *st = prep(h, "INSERT INTO host_day VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)"
			    " ON CONFLICT (host, day) DO UPDATE SET"
			    " conns = conns + excluded.conns, served = served + excluded.served,"
			    " sent = sent + excluded.sent, bytes = bytes + excluded.bytes,"
			    " packets = packets + excluded.packets,"
			    " peers = max(peers, excluded.peers), ports = max(ports, excluded.ports)",
			    err, errlen);

    if (st == NULL)
	return HIST_DB;
    bind_host(st, 1, host);
    sqlite3_bind_int64(st, 2, d->day);
    sqlite3_bind_int64(st, 3, (sqlite3_int64) d->conns);
    sqlite3_bind_int64(st, 4, (sqlite3_int64) d->served);
    sqlite3_bind_int64(st, 5, (sqlite3_int64) d->sent);
    sqlite3_bind_int64(st, 6, (sqlite3_int64) d->bytes);
    sqlite3_bind_int64(st, 7, (sqlite3_int64) d->pkts);
    sqlite3_bind_int64(st, 8, d->peers);
    sqlite3_bind_int64(st, 9, d->ports);
    return finish(h, st, err, errlen);
}

/* hist_touch - widen the host's first/last seen */
enum hist_status hist_touch(struct hist *h, const struct addr *host,
			    int64_t first_ms, int64_t last_ms, char *err,
			    size_t errlen)
{
    sqlite3_stmt *st = prep(h, "INSERT INTO host VALUES (?1, ?2, ?3) ON CONFLICT (host)"
			    " DO UPDATE SET first_seen = min(first_seen, excluded.first_seen),"
			    " last_seen = max(last_seen, excluded.last_seen)", err, errlen);

    if (st == NULL)
	return HIST_DB;
    bind_host(st, 1, host);
    sqlite3_bind_int64(st, 2, first_ms);
    sqlite3_bind_int64(st, 3, last_ms);
    return finish(h, st, err, errlen);
}

/* grow_rows - room for one more row in the day, conns (and bytes) arrays */
static int grow_rows(size_t n, size_t *cap, int64_t **day, uint64_t **conns,
		     uint64_t **bytes)
{
    int64_t *nd;
    uint64_t *nc, *nb = NULL;

    if (n < *cap)
	return 0;
    *cap = *cap ? *cap * 2 : 32;
    if ((nd = realloc(*day, *cap * sizeof(**day))) != NULL)
	*day = nd;
    if ((nc = realloc(*conns, *cap * sizeof(**conns))) != NULL)
	*conns = nc;
    if (bytes != NULL && (nb = realloc(*bytes, *cap * sizeof(**bytes))) != NULL)
	*bytes = nb;
    return nd == NULL || nc == NULL || (bytes != NULL && nb == NULL) ? -1 : 0;
}

/* hist_days - the host's days in [from_day, before_day): connections and
 * bytes (bytes may be NULL), and on how many days before served_before it
 * served SMTP */
enum hist_status hist_days(struct hist *h, const struct addr *host,
			   int64_t from_day, int64_t before_day, int64_t served_before,
			   int64_t **day, uint64_t **conns, uint64_t **bytes, size_t *n,
			   uint32_t *served_days, char *err, size_t errlen)
{
    sqlite3_stmt *st = prep(h, "SELECT day, conns, served, bytes FROM host_day WHERE"
			    " host = ?1 AND day < ?2 ORDER BY day", err, errlen);
    size_t cap = 0;
    int rc;

    *day = NULL, *conns = NULL, *n = 0, *served_days = 0;
    if (bytes != NULL)
	*bytes = NULL;
    if (st == NULL)
	return HIST_DB;
    bind_host(st, 1, host);
    sqlite3_bind_int64(st, 2, before_day);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
	int64_t d = sqlite3_column_int64(st, 0);

	*served_days += d < served_before && sqlite3_column_int64(st, 2) > 0;
	if (d < from_day)
	    continue;
	if (grow_rows(*n, &cap, day, conns, bytes) != 0) {
	    sqlite3_finalize(st);
	    snprintf(err, errlen, "out of memory");
	    return HIST_NOMEM;
	}
	if (bytes != NULL)
	    (*bytes)[*n] = (uint64_t) sqlite3_column_int64(st, 3);
	(*day)[*n] = d;
	(*conns)[(*n)++] = (uint64_t) sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? HIST_OK : fail(h, "read", err, errlen);
}

/* hist_add_flag - record a flag (once per host, kind and time) */
enum hist_status hist_add_flag(struct hist *h, const struct det_flag *f,
			       int64_t now_ms, const char *evidence, char *err,
			       size_t errlen)
{
    sqlite3_stmt *st = prep(h, "INSERT OR REPLACE INTO flag VALUES (?1, ?2, ?3, ?4, ?5)",
			    err, errlen);

    if (st == NULL)
	return HIST_DB;
    bind_host(st, 1, &f->host);
    sqlite3_bind_text(st, 2, det_kind_name(f->kind), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, f->t_ms);
    sqlite3_bind_int64(st, 4, now_ms);
    sqlite3_bind_text(st, 5, evidence, -1, SQLITE_TRANSIENT);
    return finish(h, st, err, errlen);
}

/* hist_recent_flags - the newest flag of each host flagged since since_ms */
enum hist_status hist_recent_flags(struct hist *h, int64_t since_ms,
				   struct hist_flag **out, size_t *n, char *err,
				   size_t errlen)
{
    sqlite3_stmt *st = prep(h, "SELECT host, kind, max(seen), max(flagged_at) FROM flag"
			    " WHERE flagged_at >= ?1 AND kind IN ('rogue_server', 'direct_sender',"
			    " 'fan_out') GROUP BY host ORDER BY host", err, errlen);
    size_t cap = 0;
    int rc;

    *out = NULL, *n = 0;
    if (st == NULL)
	return HIST_DB;
    sqlite3_bind_int64(st, 1, since_ms);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
	struct hist_flag *p;

	if (*n == cap) {
	    cap = cap ? cap * 2 : 32;
	    if ((p = realloc(*out, cap * sizeof(*p))) == NULL) {
		sqlite3_finalize(st);
		return HIST_NOMEM;
	    }
	    *out = p;
	}
	p = &(*out)[(*n)++];
	memset(p, 0, sizeof(*p));
	snprintf(p->host, sizeof(p->host), "%s", (const char *) sqlite3_column_text(st, 0));
	snprintf(p->kind, sizeof(p->kind), "%s", (const char *) sqlite3_column_text(st, 1));
	p->seen_ms = sqlite3_column_int64(st, 2);
	p->flagged_ms = sqlite3_column_int64(st, 3);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? HIST_OK : fail(h, "read", err, errlen);
}

/* hist_expire - delete history, flags and file marks older than before_day */
enum hist_status hist_expire(struct hist *h, int64_t before_day, char *err,
			     size_t errlen)
{
    sqlite3_stmt *st = prep(h, "DELETE FROM host_day WHERE day < ?1", err, errlen);

    if (st == NULL)
	return HIST_DB;
    sqlite3_bind_int64(st, 1, before_day);
    if (finish(h, st, err, errlen) != HIST_OK)
	return HIST_DB;
    if ((st = prep(h, "DELETE FROM flag WHERE seen < ?1", err, errlen)) == NULL)
	return HIST_DB;
    sqlite3_bind_int64(st, 1, before_day * DET_MS_PER_DAY);
    if (finish(h, st, err, errlen) != HIST_OK)
	return HIST_DB;
    if ((st = prep(h, "DELETE FROM imported WHERE at < ?1", err, errlen)) == NULL)
	return HIST_DB;
    sqlite3_bind_int64(st, 1, before_day * DET_MS_PER_DAY);
    return finish(h, st, err, errlen);
}

/* hist_wl_add - learn (or re-learn) a whitelisted network */
enum hist_status hist_wl_add(struct hist *h, const char *network, const char *who,
			     int64_t now_ms, const char *reason, char *err,
			     size_t errlen)
{
    sqlite3_stmt *st = prep(h, "INSERT OR REPLACE INTO whitelist VALUES (?1, ?2, ?3, ?4)",
			    err, errlen);

    if (st == NULL)
	return HIST_DB;
    sqlite3_bind_text(st, 1, network, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, who, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, now_ms);
    sqlite3_bind_text(st, 4, reason, -1, SQLITE_TRANSIENT);
    return finish(h, st, err, errlen);
}

/* hist_wl_remove - forget a learned network; removed says whether it was there */
enum hist_status hist_wl_remove(struct hist *h, const char *network, int *removed,
				char *err, size_t errlen)
{
    sqlite3_stmt *st = prep(h, "DELETE FROM whitelist WHERE network = ?1", err, errlen);

    if (st == NULL)
	return HIST_DB;
    sqlite3_bind_text(st, 1, network, -1, SQLITE_TRANSIENT);
    if (finish(h, st, err, errlen) != HIST_OK)
	return HIST_DB;
    *removed = sqlite3_changes(h->db);
    return HIST_OK;
}

/* hist_wl_list - every learned network */
enum hist_status hist_wl_list(struct hist *h, struct hist_wl **out, size_t *n,
			      char *err, size_t errlen)
{
    sqlite3_stmt *st = prep(h, "SELECT network, added_by, added_at, reason FROM whitelist"
			    " ORDER BY network", err, errlen);
    size_t cap = 0;
    int rc;

    *out = NULL, *n = 0;
    if (st == NULL)
	return HIST_DB;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
	struct hist_wl *p;

	if (*n == cap) {
	    cap = cap ? cap * 2 : 16;
	    if ((p = realloc(*out, cap * sizeof(*p))) == NULL) {
		sqlite3_finalize(st);
		return HIST_NOMEM;
	    }
	    *out = p;
	}
	p = &(*out)[(*n)++];
	snprintf(p->network, sizeof(p->network), "%s", hist_col_text(st, 0));
	snprintf(p->who, sizeof(p->who), "%s", hist_col_text(st, 1));
	p->at_ms = sqlite3_column_int64(st, 2);
	snprintf(p->reason, sizeof(p->reason), "%s", hist_col_text(st, 3));
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? HIST_OK : fail(h, "read", err, errlen);
}

/* hist_json_pairs - a JSON object's members for people: fn(arg, key,
 * text) per member; an array's elements joined by ", " (an object
 * element's values by " "), an object as key=value pairs. Text that is no
 * JSON object gives no pairs. */
enum hist_status hist_json_pairs(struct hist *h, const char *json,
				 void (*fn)(void *arg, const char *key, const char *text),
				 void *arg, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(h->db, "SELECT e.key, CASE e.type WHEN 'array' THEN (SELECT"
			   " group_concat(CASE a.type WHEN 'object' THEN (SELECT group_concat("
			   "o.value, ' ') FROM json_each(a.value) o) ELSE a.value END, ', ')"
			   " FROM json_each(e.value) a) WHEN 'object' THEN (SELECT group_concat("
			   "o.key || '=' || o.value, ' ') FROM json_each(e.value) o) ELSE"
			   " e.value END FROM json_each(CASE WHEN json_valid(?1) AND"
			   " json_type(?1) = 'object' THEN ?1 ELSE '{}' END) e", -1, &st, NULL)
	!= SQLITE_OK)
	return fail(h, "json", err, errlen);
    sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
	fn(arg, hist_col_text(st, 0), hist_col_text(st, 1));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? HIST_OK : fail(h, "json", err, errlen);
}
