/*
 * alert - incident mail, its rate limit and digest (see alert.h).
 *
 * A pass: the items due (openings not mailed yet, escalations of mailed
 * openings) and the items waiting for a digest; the mails of the last
 * hour give the room left. With items waiting, or no room, nothing goes
 * out alone: one digest takes every item when there is room, else the new
 * items wait too. Otherwise each item is one mail while there is room.
 * A digest that keeps failing is halved until the item that makes it
 * fail goes alone, and that item then waits on its own (digests).
 *
 * A mail's life: its text and the evidence it names are read in one
 * statement (describe); the try is written down (alert_try for a single
 * mail, alert_retry for a digest: tries and the time of the next one, as
 * if this one failed) before sendmail runs; only when sendmail exits 0
 * are the items (their alert_try rows gone), the hour's log and the reset
 * of alert_retry committed, in one transaction, with the evidence as it
 * was mailed (what came in while sendmail ran is an escalation still to
 * mail). A commit that fails keeps the mail in the state (unrecorded)
 * and the next pass commits it before anything else is sent: sendmail's
 * success is never forgotten while the process lives. So a mail is
 * repeated only if the collector dies between sendmail's exit and that
 * commit (with the same Message-ID), and a failed or cut-short send is
 * tried again after the wait, across a restart too.
 */
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert.h"
#include "evdb.h"
#include "incident.h"
#include "mailout.h"
#include "output.h"

#define FLOWS_SHOWN 10		/* flow flags quoted per incident */
#define DIGEST_ID_BYTES 8	/* of a digest's Message-ID: 16 hex digits */
#define WHAT_LEN 10

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS alert_item (id TEXT NOT NULL, what TEXT NOT NULL,"
    " state TEXT NOT NULL, at_ms INTEGER NOT NULL, logins TEXT, hosts TEXT,"
    " countries TEXT, PRIMARY KEY (id, what));"
    "CREATE TABLE IF NOT EXISTS alert_mail (sent_ms INTEGER NOT NULL, kind TEXT NOT NULL,"
    " items INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS alert_mail_time ON alert_mail (sent_ms);"
    "CREATE TABLE IF NOT EXISTS alert_retry (k INTEGER PRIMARY KEY CHECK (k = 0),"
    " tries INTEGER NOT NULL, next_ms INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO alert_retry VALUES (0, 0, 0);"
    "CREATE TABLE IF NOT EXISTS alert_try (id TEXT NOT NULL, what TEXT NOT NULL,"
    " tries INTEGER NOT NULL, next_ms INTEGER NOT NULL, PRIMARY KEY (id, what));";

#define ARR(c) "coalesce(nullif(" c ", ''), '[]')"
#define NEW_IN(col) "EXISTS (SELECT 1 FROM json_each(" ARR("i." col) ") n WHERE n.value" \
    " NOT IN (SELECT value FROM json_each(" ARR("o." col) ")))"

/* ?1 lookback start, ?2 limit, ?3 now: the items to mail whose own retry
 * time (alert_try) has come, those never tried first */
static const char due_sql[] =
    "SELECT d.id, d.what, r.tries IS NOT NULL FROM (SELECT i.id, 'opened' AS what, i.opened_ms AS t FROM incident i"
    " WHERE NOT EXISTS (SELECT 1 FROM alert_item a WHERE a.id = i.id AND a.what = 'opened')"
    " AND (i.closed_ms = 0 OR i.opened_ms >= ?1) UNION ALL SELECT i.id, 'escalated',"
    " i.updated_ms FROM incident i JOIN alert_item o ON o.id = i.id AND o.what = 'opened'"
    " AND o.state != 'digest' WHERE NOT EXISTS (SELECT 1 FROM alert_item a WHERE a.id ="
    " i.id AND a.what = 'escalated') AND (" NEW_IN("logins") " OR " NEW_IN("hosts") " OR "
    NEW_IN("countries") ")) d LEFT JOIN alert_try r ON r.id = d.id AND r.what = d.what"
    " WHERE coalesce(r.next_ms, 0) <= ?3 ORDER BY r.tries IS NOT NULL, d.t LIMIT ?2";

/* ?3 now: the items waiting for a digest, but not those whose own
 * retry time (alert_try: a try of theirs failed) is still to come */
static const char waiting_sql[] =
    "SELECT a.id, a.what, t.tries IS NOT NULL FROM alert_item a LEFT JOIN alert_try t"
    " ON t.id = a.id AND t.what = a.what WHERE a.state = 'digest' AND ?1 = ?1"
    " AND coalesce(t.next_ms, 0) <= ?3 ORDER BY a.at_ms LIMIT ?2";

static const struct {
    const char *kind, *text;
} kind_text[] = {
    {"login_from_flagged", "a login used from a host flagged from flows (or pinned)"},
    {"relay_and_direct", "an internal host relaying through the MTA that also sends"
     " port-25 mail directly"},
    {"many_logins", "one address used for many logins"},
    {"accepted_before_refusal", "a login refused after some of its mail was accepted"},
};

struct item {
    char id[INC_ID_LEN + 1];
    char what[WHAT_LEN];	/* opened, escalated */
    bool waiting;		/* already waiting for a digest */
    bool suspect;		/* a try of its own failed (alert_try) */
    char *logins, *hosts, *countries;	/* the evidence mailed (describe), owned */
};

/* Mails sendmail took whose record is not committed yet. */
struct alert_done {
    struct item *v;		/* the items, with the evidence mailed */
    size_t n;
    const char *state;		/* sent, digested */
    char kind[WHAT_LEN];	/* the hour's log: opened, escalated, digest */
    int64_t now;
};

/* What became of one mail. */
enum sent {
    SENT_OK,			/* sendmail took it, and it is recorded */
    SENT_GONE,			/* the incident is gone: nothing to mail */
    SENT_FAILED,		/* sendmail failed: tried again after the wait */
    SENT_DBERR			/* a database error (a mail sent is kept unrecorded) */
};

/* One pass: what every step needs. */
struct run {
    struct hist *h;
    const struct cfg_alerts *a;
    struct alert_state *st;
    struct alert_pass *p;
    int64_t now;
    char *err;			/* a database error's text */
    size_t errlen;
};

struct items {
    struct item v[2 * ALERT_PASS_MAX];
    size_t n, ndue;
};

/* alert_init - create the tables once */
enum hist_status alert_init(struct hist *h, char *err, size_t errlen)
{
    sqlite3 *db = hist_sqlite(h);

    return sqlite3_exec(db, schema, NULL, NULL, NULL) == SQLITE_OK ? HIST_OK
	: hist_db_fail(db, "alert schema", err, errlen);
}

/* load - the rows of sql (id, what, suspect) into it; waiting marks them */
static int load(sqlite3 *db, const char *sql, int64_t since, int64_t now, struct items *it,
		bool waiting)
{
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
	return -1;
    sqlite3_bind_int64(st, 1, since);
    sqlite3_bind_int(st, 2, ALERT_PASS_MAX);
    if (sqlite3_bind_parameter_count(st) >= 3)
	sqlite3_bind_int64(st, 3, now);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && it->n < sizeof(it->v) / sizeof(it->v[0])) {
	struct item *e = &it->v[it->n++];

	snprintf(e->id, sizeof(e->id), "%s", hist_col_text(st, 0));
	snprintf(e->what, sizeof(e->what), "%s", hist_col_text(st, 1));
	e->waiting = waiting;
	e->suspect = sqlite3_column_int(st, 2) != 0;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

#define ITEM_UPSERT " ON CONFLICT (id, what) DO UPDATE SET state = excluded.state, at_ms =" \
    " excluded.at_ms, logins = excluded.logins, hosts = excluded.hosts, countries =" \
    " excluded.countries"

/* record - the item's state, with the evidence a mail named (mailed), or
 * the incident's now (an item that waits for a digest: no mail names it
 * yet) */
static int record(sqlite3 *db, const struct item *e, const char *state, int64_t now,
		  bool mailed)
{
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(db, mailed ? "INSERT INTO alert_item VALUES (?1, ?2, ?3, ?4, ?5,"
			   " ?6, ?7)" ITEM_UPSERT : "INSERT INTO alert_item SELECT id, ?2, ?3,"
			   " ?4, logins, hosts, countries FROM incident WHERE id = ?1"
			   ITEM_UPSERT, -1, &st, NULL) != SQLITE_OK)
	return -1;
    sqlite3_bind_text(st, 1, e->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, e->what, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now);
    if (mailed) {
	sqlite3_bind_text(st, 5, e->logins, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, e->hosts, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, e->countries, -1, SQLITE_STATIC);
    }
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* mailed - count a mail in the hour's log; -1 on a database error */
static int mailed(sqlite3 *db, const char *kind, size_t items, int64_t now)
{
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(db, "INSERT INTO alert_mail VALUES (?1, ?2, ?3)", -1, &st, NULL)
	!= SQLITE_OK)
	return -1;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64) items);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* retry_set - the try count and the time of the next try */
static int retry_set(sqlite3 *db, int64_t tries, int64_t next_ms)
{
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(db, "UPDATE alert_retry SET tries = ?1, next_ms = ?2 WHERE k = 0",
			   -1, &st, NULL) != SQLITE_OK)
	return -1;
    sqlite3_bind_int64(st, 1, tries);
    sqlite3_bind_int64(st, 2, next_ms);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* retry_get - the failed tries in a row and the time of the next try */
static int retry_get(sqlite3 *db, int64_t *tries, int64_t *next_ms)
{
    sqlite3_stmt *st;
    int rc;

    *tries = *next_ms = 0;
    if (sqlite3_prepare_v2(db, "SELECT tries, next_ms FROM alert_retry WHERE k = 0", -1, &st,
			   NULL) != SQLITE_OK)
	return -1;
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
	*tries = sqlite3_column_int64(st, 0);
	*next_ms = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* try_write - sql on an item's try row: ?1 id, ?2 what, ?3 tries, ?4 the
 * time of its next try */
static int try_write(sqlite3 *db, const char *sql, const char *id, const char *what,
		     int64_t tries, int64_t next_ms)
{
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
	return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, what, -1, SQLITE_STATIC);
    if (sqlite3_bind_parameter_count(st) >= 4) {
	sqlite3_bind_int64(st, 3, tries);
	sqlite3_bind_int64(st, 4, next_ms);
    }
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

#define TRY_SET "INSERT INTO alert_try VALUES (?1, ?2, ?3, ?4) ON CONFLICT (id, what)" \
    " DO UPDATE SET tries = excluded.tries, next_ms = excluded.next_ms"
#define TRY_CLEAR "DELETE FROM alert_try WHERE id = ?1 AND what = ?2"

/* try_get - an item's failed (or cut-short) tries so far */
static int try_get(sqlite3 *db, const char *id, const char *what, int64_t *tries)
{
    sqlite3_stmt *st;
    int rc;

    *tries = 0;
    if (sqlite3_prepare_v2(db, "SELECT tries FROM alert_try WHERE id = ?1 AND what = ?2", -1,
			   &st, NULL) != SQLITE_OK)
	return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, what, -1, SQLITE_STATIC);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW)
	*tries = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* next_due - when a retry is due after now: the sender's wait if it
 * runs, else the earliest item's; 0 when none */
static int64_t next_due(sqlite3 *db, int64_t now)
{
    sqlite3_stmt *st;
    int64_t tries, next = 0;

    if (retry_get(db, &tries, &next) == 0 && next > now)
	return next;
    next = 0;
    if (sqlite3_prepare_v2(db, "SELECT min(next_ms) FROM alert_try WHERE next_ms > ?1", -1,
			   &st, NULL) != SQLITE_OK)
	return 0;
    sqlite3_bind_int64(st, 1, now);
    if (sqlite3_step(st) == SQLITE_ROW)
	next = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return next;
}

/* backoff - the wait after the tries-th failure in a row: retry_ms,
 * doubled each time, at most ALERT_RETRY_MAX_MS */
static int64_t backoff(const struct cfg_alerts *a, int64_t tries)
{
    int64_t wait = a->retry_ms;

    while (--tries > 0 && wait < ALERT_RETRY_MAX_MS)
	wait *= 2;
    return wait < ALERT_RETRY_MAX_MS ? wait : ALERT_RETRY_MAX_MS;
}

/* items_free - the evidence strings of n items */
static void items_free(struct item *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
	free(v[i].logins), free(v[i].hosts), free(v[i].countries);
	v[i].logins = v[i].hosts = v[i].countries = NULL;
    }
}

/* done_free - a mail's record, not needed any more */
static void done_free(struct alert_done *d)
{
    if (d == NULL)
	return;
    items_free(d->v, d->n);
    free(d->v);
    free(d);
}

/* done_commit - the items as mailed, the hour's log and the end of the
 * failures in a row, in one transaction; -1 (rolled back, err filled) on
 * an error */
static int done_commit(sqlite3 *db, const struct alert_done *d, char *err, size_t errlen)
{
    size_t i;
    int rc;

    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
	return hist_db_fail(db, "alerts: record of a mail sent", err, errlen), -1;
    for (i = 0, rc = 0; i < d->n && rc == 0; i++)
	if (d->v[i].hosts != NULL	/* else gone before it was described: not mailed */
	    && (rc = record(db, &d->v[i], d->state, d->now, true)) == 0)
	    rc = try_write(db, TRY_CLEAR, d->v[i].id, d->v[i].what, 0, 0);
    if (rc == 0)
	rc = mailed(db, d->kind, d->n, d->now);
    if (rc == 0)
	rc = retry_set(db, 0, 0);
    if (rc == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
	return 0;
    hist_db_fail(db, "alerts: record of a mail sent", err, errlen);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

/* alert_settle - commit the record of a mail sent earlier, if any */
enum hist_status alert_settle(struct hist *h, struct alert_state *st, char *err,
			      size_t errlen)
{
    if (st->unrecorded == NULL)
	return HIST_OK;
    if (done_commit(hist_sqlite(h), st->unrecorded, err, errlen) != 0)
	return HIST_DB;
    done_free(st->unrecorded);
    st->unrecorded = NULL;
    return HIST_OK;
}

/* alert_state_free - what the state holds (a record not committed is
 * lost: its mail will be sent again) */
void alert_state_free(struct alert_state *st)
{
    done_free(st->unrecorded);
    st->unrecorded = NULL;
}

/* last_hour - mails sent in the hour before now; -1 on error */
static long long last_hour(sqlite3 *db, int64_t now)
{
    sqlite3_stmt *st;
    long long n = -1;

    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM alert_mail WHERE sent_ms > ?1", -1, &st,
			   NULL) != SQLITE_OK)
	return -1;
    sqlite3_bind_int64(st, 1, now - ALERT_HOUR_MS);
    if (sqlite3_step(st) == SQLITE_ROW)
	n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* kind_describe - the sentence for an incident kind */
static const char *kind_describe(const char *kind)
{
    size_t i;

    for (i = 0; i < sizeof(kind_text) / sizeof(kind_text[0]); i++)
	if (strcmp(kind_text[i].kind, kind) == 0)
	    return kind_text[i].text;
    return kind;
}

/* pair - one line "    key: text" of a flag's evidence */
static void pair(void *arg, const char *key, const char *text)
{
    jb_fmt(arg, "      %s: %.400s\n", key, text);
}

/* flows - the flow flags of the incident's hosts that matched */
static void flows(struct hist *h, struct jb *t, const char *hosts, const char *flags)
{
    sqlite3_stmt *st;
    char tm[32], err[256];
    bool any = false;

    if (sqlite3_prepare_v2(hist_sqlite(h), "SELECT host, kind, flagged_at, evidence FROM flag"
			   " WHERE host IN (SELECT value FROM json_each(" ARR("?1") ")) AND kind"
			   " IN (SELECT value FROM json_each(" ARR("?2") ")) ORDER BY flagged_at"
			   " DESC LIMIT ?3", -1, &st, NULL) != SQLITE_OK)
	return;
    sqlite3_bind_text(st, 1, hosts, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, flags, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, FLOWS_SHOWN);
    while (sqlite3_step(st) == SQLITE_ROW) {
	jb_raw(t, any ? "" : "  flows that matched:\n");
	jb_fmt(t, "    %s %s, flagged %s\n", hist_col_text(st, 0), hist_col_text(st, 1),
	       out_time(sqlite3_column_int64(st, 2), tm, sizeof(tm)));
	hist_json_pairs(h, hist_col_text(st, 3), pair, t, err, sizeof(err));
	any = true;
    }
    sqlite3_finalize(st);
}

#define JOINED(c) ", (SELECT group_concat(value, ', ') FROM json_each(" ARR(c) "))"

/* describe - an incident's evidence as text; its kind and subject into
 * kind/subject, the evidence named into e (one read: what the text
 * says is what is recorded); -1 when it is gone */
static int describe(struct hist *h, struct item *e, struct jb *t, char *kind,
		    size_t klen, char *subject, size_t slen)
{
    static const char *const label[] = {"logins", "hosts", "countries", "ASNs",
	"flow flags", "rules", "queue ids"};
    sqlite3_stmt *st;
    char t1[32], t2[32], cmd[INC_CONTAIN_MAX];
    int i;

    if (sqlite3_prepare_v2(hist_sqlite(h), "SELECT kind, subject, first_ms, last_ms,"
			   " closed_ms, events" JOINED("logins") JOINED("hosts")
			   JOINED("countries") JOINED("asns") JOINED("flags") JOINED("rules")
			   JOINED("qids") ", hosts, flags, logins, countries FROM incident"
			   " WHERE id = ?1", -1, &st,
			   NULL) != SQLITE_OK)
	return -1;
    sqlite3_bind_text(st, 1, e->id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
	sqlite3_finalize(st);
	return -1;
    }
    items_free(e, 1);
    e->hosts = strdup(hist_col_text(st, 13));
    e->logins = strdup(hist_col_text(st, 15));
    e->countries = strdup(hist_col_text(st, 16));
    if (e->hosts == NULL || e->logins == NULL || e->countries == NULL)
	t->oom = true;
    snprintf(kind, klen, "%s", hist_col_text(st, 0));
    snprintf(subject, slen, "%s", hist_col_text(st, 1));
    jb_fmt(t, "Incident %s %s:\n  %s\n", e->id, e->what, kind_describe(kind));
    jb_fmt(t, "  kind: %s\n  subject: ", kind);
    jb_raw(t, subject);
    jb_fmt(t, "\n  state: %s\n  first seen: %s\n  last seen: %s\n  events: %lld\n",
	   sqlite3_column_int64(st, 4) ? "closed" : "open",
	   out_time(sqlite3_column_int64(st, 2), t1, sizeof(t1)),
	   out_time(sqlite3_column_int64(st, 3), t2, sizeof(t2)),
	   (long long) sqlite3_column_int64(st, 5));
    for (i = 0; i < (int) (sizeof(label) / sizeof(label[0])); i++)
	if (*hist_col_text(st, 6 + i)) {
	    jb_fmt(t, "  %s: ", label[i]);
	    jb_raw(t, hist_col_text(st, 6 + i));
	    jb_raw(t, "\n");
	}
    if (inc_contain(kind, subject, cmd, sizeof(cmd))) {
	jb_raw(t, "  hold what was accepted: ");
	jb_raw(t, cmd);
	jb_raw(t, "\n");
    }
    flows(h, t, hist_col_text(st, 13), hist_col_text(st, 14));
    sqlite3_finalize(st);
    return 0;
}

/* headers - the message's header; reply_to the opening's Message-ID */
static void headers(struct jb *m, const struct cfg_alerts *a, const char *subject,
		    const char *msgid, const char *reply_to, int64_t now)
{
    const char *at = strrchr(a->from, '@');
    const char *domain = at && at[1] ? at + 1 : "relayguard.invalid";
    time_t sec = (time_t) (now / 1000);
    char date[64], id[600];
    struct tm tm;

    gmtime_r(&sec, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    if (*a->from)
	mailout_header(m, "From", a->from);
    mailout_header(m, "To", a->to);
    mailout_header(m, "Subject", subject);
    mailout_header(m, "Date", date);
    snprintf(id, sizeof(id), "<%s@%s>", msgid, domain);
    mailout_header(m, "Message-ID", id);
    if (reply_to) {
	snprintf(id, sizeof(id), "<%s@%s>", reply_to, domain);
	mailout_header(m, "In-Reply-To", id);
	mailout_header(m, "References", id);
    }
    jb_raw(m, "Auto-Submitted: auto-generated\nMIME-Version: 1.0\n"
	   "Content-Type: text/plain; charset=UTF-8\n"
	   "Content-Transfer-Encoding: quoted-printable\n");
}

/* post - headers, then the text as quoted-printable, to sendmail */
static enum mailout_status post(const struct cfg_alerts *a, struct jb *m, const struct jb *t,
				struct alert_pass *p)
{
    jb_raw(m, "\n");
    mailout_qp(m, t->p ? t->p : "");
    if (m->oom || t->oom)
	return snprintf(p->error, sizeof(p->error), "out of memory"), MAILOUT_FAILED;
    return mailout_send(a->sendmail, a->from, a->to, (int) a->timeout_ms, m->p, m->n,
			p->error, sizeof(p->error));
}

/* pre_write - the try written down before sendmail runs, as if it
 * failed: a single mail's on its item (alert_try), a digest's on the
 * sender's wait (alert_retry: it holds every item) */
static int pre_write(struct run *r, const struct item *v, bool single)
{
    sqlite3 *db = hist_sqlite(r->h);
    int64_t tries, next;

    if (single) {
	if (try_get(db, v->id, v->what, &tries) != 0
	    || try_write(db, TRY_SET, v->id, v->what, tries + 1,
			 r->now + backoff(r->a, tries + 1)) != 0)
	    return -1;
    } else if (retry_get(db, &tries, &next) != 0
	       || retry_set(db, tries + 1, r->now + backoff(r->a, tries + 1)) != 0)
	return -1;
    r->p->retry_in_ms = backoff(r->a, tries + 1);
    return 0;
}

/* send_mail - the try written down (single: on v[0]'s own wait, else on
 * the sender's), the message to sendmail, and on success the record of
 * items v[0..n) (their evidence taken over) committed, or kept in the
 * state when the commit fails */
static enum sent send_mail(struct run *r, struct jb *m, const struct jb *t, struct item *v,
			   size_t n, const char *state, const char *kind, bool single)
{
    sqlite3 *db = hist_sqlite(r->h);
    struct alert_done *d;

    if (pre_write(r, v, single) != 0)
	return hist_db_fail(db, "alerts", r->err, r->errlen), SENT_DBERR;	/* not sent */
    switch (post(r->a, m, t, r->p)) {
    case MAILOUT_OK:
	break;
    case MAILOUT_UNSURE:	/* the retry may deliver it twice: counted */
	r->p->unsure++;
	evdb_count(r->h, ALERT_MAYBE_TWICE, 1, r->err, r->errlen);	/* a count, no mail, lost */
	return SENT_FAILED;
    default:
	return SENT_FAILED;
    }
    if ((d = calloc(1, sizeof(*d))) == NULL || (d->v = calloc(n, sizeof(*v))) == NULL) {
	free(d);		/* sent, not recorded: sent again later */
	return snprintf(r->err, r->errlen, "alerts: out of memory"), SENT_DBERR;
    }
    memcpy(d->v, v, n * sizeof(*v));
    memset(v, 0, n * sizeof(*v));	/* the evidence is d's now */
    d->n = n, d->state = state, d->now = r->now;
    snprintf(d->kind, sizeof(d->kind), "%s", kind);
    if (done_commit(db, d, r->err, r->errlen) != 0) {
	r->st->unrecorded = d;
	return SENT_DBERR;
    }
    done_free(d);
    return SENT_OK;
}

/* one_mail - the mail of one item */
static enum sent one_mail(struct run *r, const struct item *e)
{
    struct jb t = {0}, m = {0};
    char kind[64], subject[600], subj[800], msgid[64], first[64];
    struct item copy = *e;
    enum sent rc = SENT_GONE;

    copy.logins = copy.hosts = copy.countries = NULL;
    if (describe(r->h, &copy, &t, kind, sizeof(kind), subject, sizeof(subject)) != 0)
	goto out;		/* gone (retention): nothing to say */
    snprintf(subj, sizeof(subj), "[relayguard] %s %s: %s %s", e->id, e->what, kind, subject);
    snprintf(msgid, sizeof(msgid), "%s.%s", e->id, e->what);
    snprintf(first, sizeof(first), "%s.opened", e->id);
    headers(&m, r->a, subj, msgid, strcmp(e->what, "opened") ? first : NULL, r->now);
    mailout_header(&m, "X-Relayguard-Incident", e->id);
    rc = send_mail(r, &m, &t, &copy, 1, "sent", e->what, true);
  out:
    items_free(&copy, 1);
    jb_free(&t);
    jb_free(&m);
    return rc;
}

/* digest_id - a digest's Message-ID: from the items it holds, in any
 * order, so a digest tried again has the same one (a receiver that
 * dedupes by Message-ID drops a second copy) */
static void digest_id(const struct item *v, size_t n, char *out, size_t cap)
{
    unsigned char acc[DIGEST_ID_BYTES] = {0}, h[EVP_MAX_MD_SIZE];
    char key[INC_ID_LEN + WHAT_LEN + 2];
    unsigned hl, k;
    size_t i, o;

    for (i = 0; i < n; i++) {
	snprintf(key, sizeof(key), "%s.%s", v[i].id, v[i].what);
	if (EVP_Digest(key, strlen(key), h, &hl, EVP_sha256(), NULL) != 1)
	    continue;
	for (k = 0; k < DIGEST_ID_BYTES && k < hl; k++)
	    acc[k] ^= h[k];
    }
    o = (size_t) snprintf(out, cap, "digest.");
    for (k = 0; k < DIGEST_ID_BYTES && o + 3 <= cap; k++, o += 2)
	snprintf(out + o, cap - o, "%02x", acc[k]);
}

/* digest - one mail of items v[0..n); alone: a suspect's, tried on its
 * own wait (alert_try), not the sender's */
static enum sent digest(struct run *r, struct item *v, size_t n, bool alone)
{
    struct jb t = {0}, m = {0};
    char kind[64], subject[600], subj[200], msgid[64];
    enum sent rc;
    size_t i;

    jb_fmt(&t, "More than %u incident alerts in an hour: these %zu come in one digest.\n",
	   r->a->max_per_hour, n);
    for (i = 0; i < n; i++) {
	jb_raw(&t, "\n");
	if (describe(r->h, &v[i], &t, kind, sizeof(kind), subject, sizeof(subject)) != 0)
	    jb_fmt(&t, "Incident %s %s: deleted since\n", v[i].id, v[i].what);
    }
    snprintf(subj, sizeof(subj), "[relayguard] digest: %zu incident alerts (limit %u an hour)",
	     n, r->a->max_per_hour);
    digest_id(v, n, msgid, sizeof(msgid));
    headers(&m, r->a, subj, msgid, NULL, r->now);
    rc = send_mail(r, &m, &t, v, n, "digested", "digest", alone);
    jb_free(&t);
    jb_free(&m);
    return rc;
}

/* defer - items v[0..n) wait for a digest */
static int defer(struct run *r, const struct item *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
	if (record(hist_sqlite(r->h), &v[i], "digest", r->now, false) != 0)
	    return hist_db_fail(hist_sqlite(r->h), "alerts", r->err, r->errlen), -1;
    r->p->deferred += (unsigned) n;
    return 0;
}

/* sender_wait - two mails failed in a row: the sender itself looks
 * broken, so no item is tried before the sender's wait (alert_retry),
 * doubling with each such pass until a mail goes out */
static int sender_wait(struct run *r)
{
    sqlite3 *db = hist_sqlite(r->h);
    int64_t tries, next;

    if (retry_get(db, &tries, &next) != 0
	|| retry_set(db, tries + 1, r->now + backoff(r->a, tries + 1)) != 0)
	return hist_db_fail(db, "alerts", r->err, r->errlen), -1;
    if (backoff(r->a, tries + 1) > r->p->retry_in_ms)
	r->p->retry_in_ms = backoff(r->a, tries + 1);
    return 0;
}

/* singles - one mail per due item while there is room, the rest wait.
 * A failed item waits on its own (alert_try) and the next item is tried:
 * one incident's mail that sendmail refuses holds up no other. Two
 * failures in a row end the pass, and everything waits (sender_wait) */
static int singles(struct run *r, const struct items *it, long long room)
{
    unsigned in_row = 0;
    size_t i;

    for (i = 0; i < it->n && in_row < ALERT_FAILS_IN_ROW; i++) {
	if (room <= 0)
	    return defer(r, &it->v[i], it->n - i);
	switch (one_mail(r, &it->v[i])) {
	case SENT_OK:
	    r->p->mails++;
	    room--;
	    in_row = 0;
	    break;
	case SENT_GONE:
	    break;
	case SENT_FAILED:
	    r->p->failed++;
	    in_row++;		/* this item is tried again after its own wait */
	    break;
	case SENT_DBERR:
	    return -1;
	}
    }
    return in_row >= ALERT_FAILS_IN_ROW ? sender_wait(r) : 0;
}

/* suspects_first - the suspects to the front, each part in its order;
 * how many there are */
static size_t suspects_first(struct items *it)
{
    struct item *tmp = malloc(it->n * sizeof(*tmp));
    size_t i, k = 0, ns;

    if (tmp == NULL)
	return 0;		/* no memory: the order as loaded */
    for (i = 0; i < it->n; i++)
	if (it->v[i].suspect)
	    tmp[k++] = it->v[i];
    ns = k;
    for (i = 0; i < it->n; i++)
	if (!it->v[i].suspect)
	    tmp[k++] = it->v[i];
    memcpy(it->v, tmp, it->n * sizeof(*tmp));
    free(tmp);
    return ns;
}

/* counted - a digest's outcome into the pass; -1 on a database error */
static int counted(struct run *r, enum sent s)
{
    if (s == SENT_OK)
	r->p->digests++;
    else if (s == SENT_FAILED)
	r->p->failed++;
    return s == SENT_DBERR ? -1 : 0;
}

/* digest_cap - how many of n items the next digest holds after tries
 * failures in a row: all of them once more (the same mail, the same
 * Message-ID: a receiver drops a copy an unsure try may have delivered),
 * then half as many after each further failure, at least one */
static size_t digest_cap(size_t n, int64_t tries)
{
    if (tries < ALERT_FAILS_IN_ROW)
	return n;
    tries -= ALERT_FAILS_IN_ROW - 1;
    return tries >= 32 || (n >> tries) == 0 ? 1 : n >> tries;
}

/* digests - the digest of a pass, with an escape for an item whose mail
 * always fails (its size, its text): from the second failed digest in a
 * row on, each holds half as many items as the one before (the oldest,
 * digest_cap), and an item that fails alone becomes a suspect, tried
 * alone on its own wait (alert_try) from then on, one a pass, so that it
 * holds up no other item. A broken sender fails them all alike: the
 * sender's wait doubles as before. Items due now and not tried in this
 * pass wait for a later digest. */
static int digests(struct run *r, struct items *it, long long room)
{
    sqlite3 *db = hist_sqlite(r->h);
    size_t ns = suspects_first(it), lo = ns > 0 ? 1 : 0, cap = it->n - ns, i;
    int64_t tries, next;
    enum sent s = SENT_OK;

    if (ns > 0 && (s = digest(r, &it->v[0], 1, true)) == SENT_OK)
	room--;			/* only a mail sent counts in the hour */
    if (ns > 0 && counted(r, s) != 0)
	return -1;
    if (room > 0 && cap > 0) {
	if (retry_get(db, &tries, &next) != 0)
	    return hist_db_fail(db, "alerts", r->err, r->errlen), -1;
	cap = digest_cap(cap, tries);
	s = digest(r, &it->v[ns], cap, false);
	if (s == SENT_FAILED && cap == 1
	    && try_write(db, TRY_SET, it->v[ns].id, it->v[ns].what, 1,
			 r->now + backoff(r->a, 1)) != 0)
	    return hist_db_fail(db, "alerts", r->err, r->errlen), -1;
	if (counted(r, s) != 0)
	    return -1;
	lo = ns + cap;
    }
    for (i = ns > 0 ? 1 : 0; i < it->n; i++)
	if ((i >= lo || (i > 0 && i < ns)) && !it->v[i].waiting && it->v[i].id[0]
	    && defer(r, &it->v[i], 1) != 0)
	    return -1;
    return 0;
}

/* dispatch - singles, or everything waits for (or goes in) digests */
static int dispatch(struct run *r, struct items *it, long long room)
{
    if (it->n == it->ndue && room > 0)
	return singles(r, it, room);
    if (room <= 0)
	return defer(r, it->v, it->ndue);
    return digests(r, it, room);
}

/* alert_run - one pass */
enum hist_status alert_run(struct hist *h, const struct cfg *cfg, int64_t now_ms,
			   struct alert_state *st, struct alert_pass *p, char *err,
			   size_t errlen)
{
    const struct cfg_alerts *a = &cfg->collector.alerts;
    sqlite3 *db = hist_sqlite(h);
    struct run r = {h, a, st, p, now_ms, err, errlen};
    struct items *it;
    int64_t tries, next;
    long long sent;
    enum hist_status hs;
    int rc;

    memset(p, 0, sizeof(*p));
    if (*a->to == 0)
	return HIST_OK;
    if ((hs = alert_settle(h, st, err, errlen)) != HIST_OK)
	return hs;		/* nothing more before sendmail's last success is kept */
    if (retry_get(db, &tries, &next) != 0)
	return hist_db_fail(db, "alerts", err, errlen);
    if (now_ms < next)
	return p->next_ms = next, HIST_OK;	/* after failures, or a digest cut short */
    if ((it = calloc(1, sizeof(*it))) == NULL)
	return snprintf(err, errlen, "alerts: out of memory"), HIST_NOMEM;
    /* what waits for a digest but was deleted since (retention) goes */
    rc = sqlite3_exec(db, "DELETE FROM alert_item WHERE id NOT IN (SELECT id FROM incident);"
		      "DELETE FROM alert_try WHERE id NOT IN (SELECT id FROM incident)",
		      NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
    if (rc == 0)
	rc = load(db, due_sql, now_ms - ALERT_LOOKBACK_MS, now_ms, it, false);
    it->ndue = it->n;
    if (rc == 0)
	rc = load(db, waiting_sql, 0, now_ms, it, true);
    sent = rc == 0 ? last_hour(db, now_ms) : -1;
    if (rc != 0 || sent < 0)
	hist_db_fail(db, "alerts", err, errlen);
    else if (it->n > 0)
	rc = dispatch(&r, it, (long long) a->max_per_hour - sent);	/* fills err */
    items_free(it->v, it->n);
    free(it);
    p->next_ms = next_due(db, now_ms);
    return rc != 0 || sent < 0 ? HIST_DB : HIST_OK;
}
