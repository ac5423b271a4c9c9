/*
 * pin - pins and drops of the rogue list (see pin.h), in the rogue_pin
 * table: one row per address and action ("pin" or "drop"); and the one
 * writer of the list (pin_write_list): hosts flagged from flows, hosts
 * of incidents, minus known mail servers and the admin's drops, plus
 * the admin's pins, each with its reason and expiry.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "output.h"
#include "pin.h"

#define LIST_LOCK_MS 5000	/* the longest wait for another writer */
#define LIST_LOCK_STEP_MS 10
#define LIST_LOCK_MODE 0644	/* opened read-only: root and the daemon's user share it */

/* run - one write statement with the change's values as ?1..?5 (those
 * the statement does not use are left unbound) */
static enum hist_status run(sqlite3 *db, const char *sql, const struct pin_change *c,
			    char *err, size_t errlen)
{
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
	return hist_db_fail(db, "rogue pin", err, errlen);
    sqlite3_bind_text(st, 1, c->address, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, c->who, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, c->now_ms);
    sqlite3_bind_int64(st, 4, c->expires_ms);
    sqlite3_bind_text(st, 5, c->reason, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? HIST_OK : hist_db_fail(db, "rogue pin", err, errlen);
}

/* pin_add - pin an address (a drop of it ends) */
enum hist_status pin_add(struct hist *h, const struct pin_change *c, char *err,
			 size_t errlen)
{
    sqlite3 *db = hist_sqlite(h);

    if (run(db, "DELETE FROM rogue_pin WHERE address = ?1 AND action = 'drop'", c, err,
	    errlen) != HIST_OK)
	return HIST_DB;
    return run(db, "INSERT OR REPLACE INTO rogue_pin VALUES (?1, 'pin', ?2, ?3, ?4, ?5)",
	       c, err, errlen);
}

/* pin_remove - unpin, and drop the address's flags seen until now */
enum hist_status pin_remove(struct hist *h, const struct pin_change *c, bool *was_pinned,
			    char *err, size_t errlen)
{
    sqlite3 *db = hist_sqlite(h);

    if (run(db, "DELETE FROM rogue_pin WHERE address = ?1 AND action = 'pin'", c, err,
	    errlen) != HIST_OK)
	return HIST_DB;
    *was_pinned = sqlite3_changes(db) > 0;
    return run(db, "INSERT OR REPLACE INTO rogue_pin VALUES (?1, 'drop', ?2, ?3, ?4, ?5)",
	       c, err, errlen);
}

/* dropped - is this flag hidden by a drop made after it was seen? */
static bool dropped(sqlite3_stmt *q, const struct hist_flag *f, int64_t now_ms)
{
    bool hit;

    sqlite3_reset(q);
    sqlite3_bind_text(q, 1, f->host, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, f->seen_ms);
    sqlite3_bind_int64(q, 3, now_ms);
    hit = sqlite3_step(q) == SQLITE_ROW;
    sqlite3_reset(q);
    return hit;
}

/* clean - a reason for the list's comment: no quote, no control byte */
static void clean(char *s)
{
    for (; *s; s++)
	if (*s == '"' || (unsigned char) *s < 0x20 || *s == 0x7f)
	    *s = '\'';
}

/* append - one entry more at the end of *v */
static int append(struct hist_flag **v, size_t *n, const char *host, const char *kind,
		  int64_t at_ms, int64_t expires_ms)
{
    struct hist_flag *p = realloc(*v, (*n + 1) * sizeof(**v));

    if (p == NULL)
	return -1;
    *v = p;
    p = &p[(*n)++];
    memset(p, 0, sizeof(*p));
    snprintf(p->host, sizeof(p->host), "%s", host);
    snprintf(p->kind, sizeof(p->kind), "%s", kind);
    p->seen_ms = at_ms;
    p->expires_ms = expires_ms;
    return 0;
}

/* pin_apply - flags minus the dropped ones, plus the pins in force */
enum hist_status pin_apply(struct hist *h, int64_t now_ms, struct hist_flag **v,
			   size_t *n, char *err, size_t errlen)
{
    sqlite3 *db = hist_sqlite(h);
    sqlite3_stmt *q, *p;
    size_t i, k = 0;
    int rc;

    if (sqlite3_prepare_v2(db, "SELECT 1 FROM rogue_pin WHERE address = ?1 AND action ="
			   " 'drop' AND at_ms >= ?2 AND (expires_ms = 0 OR expires_ms > ?3)",
			   -1, &q, NULL) != SQLITE_OK)
	return hist_db_fail(db, "rogue drops", err, errlen);
    for (i = 0; i < *n; i++)
	if (!dropped(q, &(*v)[i], now_ms))
	    (*v)[k++] = (*v)[i];
    *n = k;
    sqlite3_finalize(q);
    if (sqlite3_prepare_v2(db, "SELECT address, at_ms, expires_ms, added_by, reason FROM"
			   " rogue_pin WHERE action = 'pin' AND (expires_ms = 0 OR expires_ms > ?1)"
			   " ORDER BY address", -1, &p, NULL) != SQLITE_OK)
	return hist_db_fail(db, "rogue pins", err, errlen);
    sqlite3_bind_int64(p, 1, now_ms);
    while ((rc = sqlite3_step(p)) == SQLITE_ROW) {
	if (append(v, n, hist_col_text(p, 0), "pinned", sqlite3_column_int64(p, 1),
		   sqlite3_column_int64(p, 2)) != 0) {
	    sqlite3_finalize(p);
	    return HIST_NOMEM;
	}
	snprintf((*v)[*n - 1].reason, HIST_REASON_MAX, "pinned by %s: %s",
		 hist_col_text(p, 3), hist_col_text(p, 4));
	clean((*v)[*n - 1].reason);
    }
    sqlite3_finalize(p);
    return rc == SQLITE_DONE ? HIST_OK : hist_db_fail(db, "rogue pins", err, errlen);
}

/* whitelisted - configured or learned known mail server */
static bool whitelisted(const struct cfg *cfg, const struct hist_wl *wl, size_t nwl,
			const char *host)
{
    struct addr a;
    struct cidr c;
    char e[64];
    size_t i;

    if (addr_parse(host, &a) != 0)
	return false;
    if (addr_cidr_list_match(&cfg->collector.flows.mail_servers, &a))
	return true;
    for (i = 0; i < nwl; i++) {
	struct cidr_list one = {&c, 1};

	if (addr_cidr_parse(wl[i].network, &c, e, sizeof(e)) == 0
	    && addr_cidr_list_match(&one, &a))
	    return true;
    }
    return false;
}

/* incident_hosts - the hosts of incidents with evidence within
 * list_expiry, listed until list_expiry after their last evidence */
static enum hist_status incident_hosts(struct hist *h, const struct cfg *cfg,
				       int64_t now_ms, struct hist_flag **v, size_t *n,
				       char *err, size_t errlen)
{
    int64_t keep = (int64_t) cfg->collector.list_expiry_s * 1000;
    sqlite3 *db = hist_sqlite(h);
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(db, "SELECT j.value, max(i.last_ms), i.kind, i.id FROM incident i,"
			   " json_each(i.hosts) j WHERE i.last_ms >= ?1 AND i.kind IN"
			   " ('login_from_flagged', 'relay_and_direct', 'many_logins')"
			   " GROUP BY j.value ORDER BY j.value", -1, &st, NULL) != SQLITE_OK)
	return hist_db_fail(db, "incident hosts", err, errlen);
    sqlite3_bind_int64(st, 1, now_ms - keep);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
	int64_t last = sqlite3_column_int64(st, 1);

	if (append(v, n, hist_col_text(st, 0), "incident", last, last + keep) != 0) {
	    sqlite3_finalize(st);
	    return HIST_NOMEM;
	}
	snprintf((*v)[*n - 1].reason, HIST_REASON_MAX, "incident %s %s", hist_col_text(st, 2),
		 hist_col_text(st, 3));
	clean((*v)[*n - 1].reason);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? HIST_OK : hist_db_fail(db, "incident hosts", err, errlen);
}

/* build_list - the rogue list: hosts flagged within list_expiry and
 * hosts of recent incidents, not whitelisted nor dropped, and the pins */
static int build_list(struct hist *h, const struct cfg *cfg, int64_t now_ms,
		      struct hist_flag **v, size_t *n, char *err, size_t errlen)
{
    int64_t keep = (int64_t) cfg->collector.list_expiry_s * 1000;
    struct hist_wl *wl = NULL;
    size_t nwl = 0, i, k = 0;
    int rc = -1;

    *v = NULL, *n = 0;
    if (hist_recent_flags(h, now_ms - keep, v, n, err, errlen) != HIST_OK)
	goto out;
    for (i = 0; i < *n; i++) {
	(*v)[i].expires_ms = (*v)[i].flagged_ms + keep;
	snprintf((*v)[i].reason, HIST_REASON_MAX, "flagged from flows");
    }
    if (incident_hosts(h, cfg, now_ms, v, n, err, errlen) != HIST_OK
	|| hist_wl_list(h, &wl, &nwl, err, errlen) != HIST_OK)
	goto out;
    for (i = 0; i < *n; i++)
	if (!whitelisted(cfg, wl, nwl, (*v)[i].host))
	    (*v)[k++] = (*v)[i];
    *n = k;
    if (pin_apply(h, now_ms, v, n, err, errlen) == HIST_OK)
	rc = 0;
  out:
    free(wl);
    return rc;
}

/* list_lock - the writers' lock on rogue.list_path (a file beside it,
 * flock); the descriptor, or -1 with err filled when it is not had
 * within LIST_LOCK_MS */
static int list_lock(const char *path, char *err, size_t errlen)
{
    struct timespec step = {0, LIST_LOCK_STEP_MS * 1000000L};
    char lock[4096];
    int fd, i;

    if (snprintf(lock, sizeof(lock), "%s.lock", path) >= (int) sizeof(lock)) {
	snprintf(err, errlen, "%s: path too long", path);
	return -1;
    }
    if ((fd = open(lock, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, LIST_LOCK_MODE)) < 0) {
	snprintf(err, errlen, "%s: cannot open the writers' lock: %s; the list was not"
		 " rewritten", lock, strerror(errno));
	return -1;
    }
    for (i = 0; i * LIST_LOCK_STEP_MS < LIST_LOCK_MS; i++) {
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
	    return fd;
	if (errno != EWOULDBLOCK && errno != EINTR)
	    break;
	nanosleep(&step, NULL);
    }
    if (errno == EWOULDBLOCK)
	snprintf(err, errlen, "%s: held by another writer for %d s; the list was not"
		 " rewritten", lock, LIST_LOCK_MS / 1000);
    else
	snprintf(err, errlen, "%s: %s; the list was not rewritten", lock, strerror(errno));
    close(fd);
    return -1;
}

/* pin_write_list - rewrite rogue.list_path (atomically). The list is
 * built and renamed into place under the writers' lock: the daemon, an
 * analysis and "rogue add|remove" each commit their change first, so
 * whoever writes last built from every change before it (without the
 * lock, a list built before a pin and renamed after it undid the pin) */
int pin_write_list(struct hist *h, const struct cfg *cfg, int64_t now_ms, char *err,
		   size_t errlen)
{
    struct hist_flag *v = NULL;
    size_t n;
    int rc, fd;

    if (*cfg->rogue.list_path == 0)
	return 0;
    if ((fd = list_lock(cfg->rogue.list_path, err, errlen)) < 0)
	return -1;
    rc = build_list(h, cfg, now_ms, &v, &n, err, errlen);
    if (rc == 0)
	rc = out_rogue_list(cfg->rogue.list_path, v, n, now_ms, err, errlen);
    free(v);
    close(fd);			/* and the lock with it */
    return rc;
}

/* print_listed - what the list holds, after the pins and drops */
static int print_listed(struct hist *h, const struct cfg *cfg, int64_t now_ms,
			struct jb *j, bool json, char *err, size_t errlen)
{
    struct hist_flag *v;
    char t[32];
    size_t n, i;

    if (build_list(h, cfg, now_ms, &v, &n, err, errlen) != 0) {
	free(v);
	return -1;
    }
    jb_raw(j, json ? "\"listed\": [" : "");
    for (i = 0; i < n; i++) {
	if (!json) {
	    jb_fmt(j, "listed %-24s %-14s %s\n", v[i].host, v[i].kind,
		   out_time(v[i].seen_ms, t, sizeof(t)));
	    continue;
	}
	jb_raw(j, i ? ",\n  {\"address\": " : "\n  {\"address\": ");
	jb_str(j, v[i].host);
	jb_raw(j, ", \"kind\": ");
	jb_str(j, v[i].kind);
	jb_raw(j, ", \"since\": ");
	jb_time(j, v[i].seen_ms);
	jb_raw(j, "}");
    }
    jb_raw(j, json ? (n ? "\n ],\n \"entries\": [" : "],\n \"entries\": [") : "");
    free(v);
    return 0;
}

/* pin_print - pins and drops, then what the list holds now */
enum hist_status pin_print(struct hist *h, const struct cfg *cfg, int64_t now_ms,
			   FILE *out, bool json, char *err, size_t errlen)
{
    sqlite3 *db = hist_sqlite(h);
    sqlite3_stmt *st;
    struct jb j = {0};
    char t1[32], t2[32];
    bool first = true;
    int rc;

    jb_raw(&j, json ? "{" : "");
    if (print_listed(h, cfg, now_ms, &j, json, err, errlen) != 0) {
	jb_free(&j);
	return HIST_DB;
    }
    if (sqlite3_prepare_v2(db, "SELECT address, action, added_by, at_ms, expires_ms, reason"
			   " FROM rogue_pin WHERE expires_ms = 0 OR expires_ms > ?1"
			   " ORDER BY address, action", -1, &st, NULL) != SQLITE_OK) {
	jb_free(&j);
	return hist_db_fail(db, "rogue list", err, errlen);
    }
    sqlite3_bind_int64(st, 1, now_ms);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
	int64_t exp = sqlite3_column_int64(st, 4);

	if (!json) {
	    jb_fmt(&j, "%-6s %-24s by=%s at=%s expires=%s reason=\"%s\"\n", hist_col_text(st, 1),
		   hist_col_text(st, 0), hist_col_text(st, 2), out_time(sqlite3_column_int64(st, 3), t1,
		   sizeof(t1)), exp ? out_time(exp, t2, sizeof(t2)) : "never", hist_col_text(st, 5));
	    continue;
	}
	jb_raw(&j, first ? "\n  {\"address\": " : ",\n  {\"address\": ");
	jb_str(&j, hist_col_text(st, 0));
	jb_raw(&j, ", \"action\": ");
	jb_str(&j, hist_col_text(st, 1));
	jb_raw(&j, ", \"by\": ");
	jb_str(&j, hist_col_text(st, 2));
	jb_raw(&j, ", \"at\": ");
	jb_time(&j, sqlite3_column_int64(st, 3));
	jb_raw(&j, ", \"expires\": ");
	if (exp)
	    jb_time(&j, exp);
	else
	    jb_raw(&j, "null");
	jb_raw(&j, ", \"reason\": ");
	jb_str(&j, hist_col_text(st, 5));
	jb_raw(&j, "}");
	first = false;
    }
    sqlite3_finalize(st);
    return out_list_end(db, &j, json, first, rc, out, "rogue list", err, errlen);
}
