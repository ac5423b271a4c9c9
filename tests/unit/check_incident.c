/*
 * check_incident - the collector's correlation of stored events into
 * incidents (dedup, growth, quiet close, a new episode, many logins from
 * one address, mail accepted before a refusal, retention, incremental
 * passes agreeing with full ones); the admin's rogue pins and the hosts
 * incidents put on the rogue list. (Intake: check_intake.c.)
 */
#include <check.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../collector/evdb.h"
#include "../../collector/incident.h"
#include "../../collector/pin.h"
#include "check_main.h"
#include "collector_test.h"
#include "roguelist.h"

#define MIN_MS 60000LL
#define T0 1800000000000LL	/* a fixed "now" for correlation */

/* setup - the fixture: incidents_file, quiet after 10 min, two logins
 * an hour from one address */
static void setup(void)
{
    ct_setup("check_incident", "incidents_file = \"$D/inc.jsonl\"; incident_quiet = \"10m\";"
	     " incident_logins = 2; incident_window = \"1h\";");
}

/* add - store an event directly */
static void add(uint64_t seq, int64_t t, const char *login, const char *client,
		enum rules_class cls)
{
    struct evrec r;
    char err[512];
    bool dup;

    record(&r, seq, t, login, client, cls);
    ck_assert_int_eq(evdb_add(hist, &r, t, &dup, err, sizeof(err)), HIST_OK);
    ck_assert(!dup);
}

/* flag - a flow flag as an analysis stores it */
static void flag(const char *host, const char *kind, int64_t t)
{
    char s[256];

    snprintf(s, sizeof(s), "INSERT INTO flag VALUES ('%s', '%s', %lld, %lld, '{}')", host,
	     kind, (long long) t, (long long) t);
    sql(s);
}

/* Loop tests run once with full passes (_i 0), once with incremental
 * ones (_i 1, the collector's loop): both must find the same. */
static int incremental;
static struct inc_cursor cursor;

/* pass - one correlation at t, full or incremental */
static struct inc_pass pass(int64_t t)
{
    struct inc_pass p;
    char err[1024];

    if (incremental)
	ck_assert_msg(inc_correlate_new(hist, cfg, t, &cursor, &p, err, sizeof(err))
		      == HIST_OK, "%s", err);
    else
	ck_assert_msg(inc_correlate(hist, cfg, t, &p, err, sizeof(err)) == HIST_OK, "%s", err);
    return p;
}

/* mode - the loop index as the pass mode, a fresh cursor */
static void mode(int i)
{
    incremental = i;
    memset(&cursor, 0, sizeof(cursor));
}

START_TEST(test_login_from_flagged)
{
    struct inc_pass p;
    char id[32];
    sqlite3_stmt *st;
    FILE *f;
    char path[128], line[2048];
    int lines = 0;

    mode(_i);
    add(1, T0, "usr1", "198.18.1.1", RULES_CLASS_AUTHENTICATED);	/* not flagged */
    p = pass(T0);
    ck_assert_uint_eq(p.opened, 0);
    flag("198.18.9.9", "rogue_server", T0 - MIN_MS);
    add(2, T0 + 1000, "usr1", "198.18.9.9", RULES_CLASS_AUTHENTICATED);
    p = pass(T0 + 2000);
    ck_assert_uint_eq(p.opened, 1);
    ck_assert_int_eq(scalar("SELECT count(*) FROM incident WHERE kind = 'login_from_flagged'"
			    " AND subject = 'usr1' AND hosts = '[\"198.18.9.9\"]'"
			    " AND flags = '[\"rogue_server\"]' AND qids = '[\"Q2\"]'"
			    " AND countries = '[\"BR\"]' AND asns = '[64501]'"), 1);
    ck_assert_int_eq(sqlite3_prepare_v2(hist_sqlite(hist), "SELECT id FROM incident", -1, &st,
					NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    snprintf(id, sizeof(id), "%s", sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    ck_assert_uint_eq(strlen(id), INC_ID_LEN);
    p = pass(T0 + 3000);			/* nothing new: no change */
    ck_assert_uint_eq(p.opened + p.updated + p.closed, 0);
    flag("198.18.8.8", "direct_sender", T0);
    add(3, T0 + 4000, "usr1", "198.18.8.8", RULES_CLASS_AUTHENTICATED);
    p = pass(T0 + 5000);			/* more evidence: the same incident */
    ck_assert_uint_eq(p.opened, 0);
    ck_assert_uint_eq(p.updated, 1);
    ck_assert_int_eq(scalar("SELECT count(*) FROM incident"), 1);
    ck_assert_int_eq(scalar("SELECT events FROM incident"), 2);
    p = pass(T0 + 4000 + 10 * MIN_MS + 1);	/* quiet for incident_quiet */
    ck_assert_uint_eq(p.closed, 1);
    ck_assert_int_eq(scalar("SELECT count(*) FROM incident WHERE closed_ms = 0"), 0);
    p = pass(T0 + 4000 + 11 * MIN_MS);	/* the old evidence reopens nothing */
    ck_assert_uint_eq(p.opened + p.updated, 0);
    add(4, T0 + 12 * MIN_MS, "usr1", "198.18.9.9", RULES_CLASS_AUTHENTICATED);
    p = pass(T0 + 12 * MIN_MS + 1000);	/* a new episode, a new id */
    ck_assert_uint_eq(p.opened, 1);
    ck_assert_int_eq(scalar("SELECT count(*) FROM incident"), 2);
    ck_assert_int_eq(scalar("SELECT count(DISTINCT id) FROM incident"), 2);
    /* each change is one JSON line */
    snprintf(path, sizeof(path), "%s/inc.jsonl", dir);
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof(line), f) != NULL) {
	lines++;
	ck_assert_msg(line[0] == '{' && strstr(line, "\"kind\": \"login_from_flagged\""), "%s", line);
    }
    fclose(f);
    ck_assert_int_eq(lines, 4);		/* opened, updated, closed, opened */
}
END_TEST

START_TEST(test_relay_and_direct)
{
    struct inc_pass p;

    mode(_i);
    add(1, T0, "", "10.20.133.16", RULES_CLASS_INTERNAL);
    add(2, T0, "", "10.20.133.17", RULES_CLASS_INTERNAL);
    flag("10.20.133.16", "direct_sender", T0 - MIN_MS);
    flag("10.20.133.17", "rogue_server", T0 - MIN_MS);	/* not a direct sender */
    p = pass(T0 + 1000);
    ck_assert_uint_eq(p.opened, 1);
    ck_assert_int_eq(scalar("SELECT count(*) FROM incident WHERE kind = 'relay_and_direct'"
			    " AND subject = '10.20.133.16'"), 1);
}
END_TEST

/* Evidence already quiet for incident_quiet (a collector that was down,
 * or flags that came late) opens nothing: that episode is over. */
START_TEST(test_old_evidence)
{
    struct inc_pass p;

    mode(_i);
    add(1, T0, "", "10.20.133.16", RULES_CLASS_INTERNAL);
    flag("10.20.133.16", "direct_sender", T0 + 15 * MIN_MS);
    p = pass(T0 + 15 * MIN_MS);
    ck_assert_uint_eq(p.opened, 0);
    add(2, T0 + 15 * MIN_MS, "", "10.20.133.16", RULES_CLASS_INTERNAL);
    p = pass(T0 + 15 * MIN_MS + 1000);
    ck_assert_uint_eq(p.opened, 1);
}
END_TEST

START_TEST(test_many_logins)
{
    struct inc_pass p;

    mode(_i);
    add(1, T0, "a", "203.0.113.5", RULES_CLASS_AUTHENTICATED);
    add(2, T0, "b", "203.0.113.5", RULES_CLASS_AUTHENTICATED);
    add(3, T0, "b", "203.0.113.5", RULES_CLASS_AUTHENTICATED);
    p = pass(T0 + 1000);			/* 2 logins: not more than 2 */
    ck_assert_uint_eq(p.opened, 0);
    add(4, T0 + 2000, "c", "203.0.113.5", RULES_CLASS_AUTHENTICATED);
    p = pass(T0 + 3000);
    ck_assert_uint_eq(p.opened, 1);
    ck_assert_int_eq(scalar("SELECT count(*) FROM incident WHERE kind = 'many_logins'"
			    " AND subject = '203.0.113.5' AND logins = '[\"a\",\"b\",\"c\"]'"), 1);
}
END_TEST

/* Logins of one client spread over passes and over the window: one that
 * left the window no longer counts, a login seen again counts again, and
 * an incremental pass (its per-client summary pruned once a minute)
 * finds exactly what a full one finds. */
START_TEST(test_many_logins_window)
{
    const int64_t H = 60 * MIN_MS;
    struct inc_pass p;

    mode(_i);
    add(1, T0, "a", "203.0.113.7", RULES_CLASS_AUTHENTICATED);
    p = pass(T0 + 1000);
    add(2, T0 + 30 * MIN_MS, "b", "203.0.113.7", RULES_CLASS_AUTHENTICATED);
    p = pass(T0 + 30 * MIN_MS + 1000);
    add(3, T0 + H + 1000, "c", "203.0.113.7", RULES_CLASS_AUTHENTICATED);
    p = pass(T0 + H + 2000);		/* a left the window: b and c only */
    ck_assert_uint_eq(p.opened, 0);
    add(4, T0 + H + 3000, "a", "203.0.113.7", RULES_CLASS_AUTHENTICATED);
    add(5, T0 + H + 3000, "x", "203.0.113.8", RULES_CLASS_AUTHENTICATED);
    p = pass(T0 + H + 4000);		/* a again: three logins */
    ck_assert_uint_eq(p.opened, 1);
    ck_assert_int_eq(scalar("SELECT count(*) FROM incident WHERE kind = 'many_logins'"
			    " AND subject = '203.0.113.7' AND logins = '[\"b\",\"c\",\"a\"]'"
			    " AND events = 3"), 1);
    add(6, T0 + H + 5000, "d", "203.0.113.7", RULES_CLASS_AUTHENTICATED);
    p = pass(T0 + H + 6000);		/* more evidence: the same incident */
    ck_assert_uint_eq(p.opened, 0);
    ck_assert_uint_eq(p.updated, 1);
    ck_assert_int_eq(scalar("SELECT events FROM incident"), 4);
}
END_TEST

/* listed - is host on the rogue list file, as the milter reads it? */
static bool listed(const char *host)
{
    struct roguelist l;
    struct addr a;
    char err[256];
    bool hit;

    ck_assert_int_eq(roguelist_load(cfg->rogue.list_path, &l, err, sizeof(err)), 0);
    ck_assert_int_eq(addr_parse(host, &a), 0);
    hit = addr_cidr_list_match(&l.nets, &a);
    roguelist_free(&l);
    return hit;
}

START_TEST(test_pins)
{
    int64_t now = now_ms();
    struct pin_change c = {.who = "admin", .reason = "seen spamming", .now_ms = now};
    char err[1024];
    bool was;

    flag("10.20.1.7", "rogue_server", now - MIN_MS);
    c.address = "192.0.2.0/24";
    ck_assert_int_eq(pin_add(hist, &c, err, sizeof(err)), HIST_OK);
    c.address = "192.0.2.200";
    c.expires_ms = now - 1;			/* already expired */
    ck_assert_int_eq(pin_add(hist, &c, err, sizeof(err)), HIST_OK);
    ck_assert_int_eq(pin_write_list(hist, cfg, now, err, sizeof(err)), 0);
    ck_assert(listed("10.20.1.7"));
    ck_assert(listed("192.0.2.55"));
    ck_assert_int_eq(scalar("SELECT count(*) FROM rogue_pin WHERE added_by = 'admin'"
			    " AND reason = 'seen spamming'"), 2);
    /* drop the flagged host: gone until a newer flag */
    c.address = "10.20.1.7", c.expires_ms = 0;
    ck_assert_int_eq(pin_remove(hist, &c, &was, err, sizeof(err)), HIST_OK);
    ck_assert(!was);
    ck_assert_int_eq(pin_write_list(hist, cfg, now, err, sizeof(err)), 0);
    ck_assert(!listed("10.20.1.7"));
    ck_assert(listed("192.0.2.55"));
    flag("10.20.1.7", "rogue_server", now + 1000);
    ck_assert_int_eq(pin_write_list(hist, cfg, now + 2000, err, sizeof(err)), 0);
    ck_assert(listed("10.20.1.7"));
    /* unpin */
    c.address = "192.0.2.0/24";
    ck_assert_int_eq(pin_remove(hist, &c, &was, err, sizeof(err)), HIST_OK);
    ck_assert(was);
    ck_assert_int_eq(pin_write_list(hist, cfg, now, err, sizeof(err)), 0);
    ck_assert(!listed("192.0.2.55"));
}
END_TEST

/* list_line - the rogue list's line for host, "" when not there */
static const char *list_line(const char *host)
{
    static char line[512];
    char path[128];
    size_t n = strlen(host);
    FILE *f;

    snprintf(path, sizeof(path), "%s/rogue.list", dir);
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof(line), f) != NULL)
	if (strncmp(line, host, n) == 0 && line[n] == ' ') {
	    fclose(f);
	    return line;
	}
    fclose(f);
    return "";
}

/* Incidents put their hosts on the rogue list with a reason and an
 * expiry (list_expiry after the last evidence); a pin keeps its who and
 * why across rewrites; an admin's drop takes an incident host off. */
START_TEST(test_incident_hosts_listed)
{
    int64_t now = now_ms();
    struct pin_change c = {.who = "admin", .reason = "phish \"kit\"", .now_ms = now,
	.address = "192.0.2.9"};
    struct inc_pass p;
    char err[1024];
    bool was;

    ck_assert_int_eq(pin_add(hist, &c, err, sizeof(err)), HIST_OK);
    add(1, now, "a", "203.0.113.5", RULES_CLASS_AUTHENTICATED);
    add(2, now, "b", "203.0.113.5", RULES_CLASS_AUTHENTICATED);
    add(3, now, "c", "203.0.113.5", RULES_CLASS_AUTHENTICATED);
    add(4, now, "a", "203.0.113.6", RULES_CLASS_AUTHENTICATED);	/* one login */
    ck_assert_msg(inc_correlate(hist, cfg, now + 1000, &p, err, sizeof(err)) == HIST_OK,
		  "%s", err);
    ck_assert_uint_eq(p.opened, 1);
    ck_assert_int_eq(pin_write_list(hist, cfg, now + 1000, err, sizeof(err)), 0);
    ck_assert(listed("203.0.113.5"));
    ck_assert(!listed("203.0.113.6"));
    ck_assert_msg(strstr(list_line("203.0.113.5"), " # incident ") != NULL
		  && strstr(list_line("203.0.113.5"), " reason=\"incident many_logins INC-")
		  && strstr(list_line("203.0.113.5"), " expires="), "%s",
		  list_line("203.0.113.5"));
    ck_assert_msg(strstr(list_line("192.0.2.9"), "reason=\"pinned by admin: phish 'kit'\""),
		  "%s", list_line("192.0.2.9"));
    /* a list_expiry (7d by default) later: the incident host is gone,
     * the pin (no expiry) stays */
    ck_assert_int_eq(pin_write_list(hist, cfg, now + 8 * 86400000LL, err, sizeof(err)), 0);
    ck_assert(!listed("203.0.113.5"));
    ck_assert(listed("192.0.2.9"));
    /* the admin drops the incident host */
    ck_assert_int_eq(pin_write_list(hist, cfg, now + 2000, err, sizeof(err)), 0);
    ck_assert(listed("203.0.113.5"));
    c.address = "203.0.113.5", c.now_ms = now + 3000;
    ck_assert_int_eq(pin_remove(hist, &c, &was, err, sizeof(err)), HIST_OK);
    ck_assert_int_eq(pin_write_list(hist, cfg, now + 4000, err, sizeof(err)), 0);
    ck_assert(!listed("203.0.113.5"));
    ck_assert(listed("192.0.2.9"));
}
END_TEST

/* A host the admin pinned counts as flagged for correlation. */
START_TEST(test_pinned_host_correlates)
{
    struct pin_change c = {.who = "admin", .reason = "", .now_ms = T0 - MIN_MS,
	.address = "198.18.7.7"};
    struct inc_pass p;
    char err[512];

    mode(_i);
    ck_assert_int_eq(pin_add(hist, &c, err, sizeof(err)), HIST_OK);
    add(1, T0, "bob", "198.18.7.7", RULES_CLASS_AUTHENTICATED);
    p = pass(T0 + 1000);
    ck_assert_uint_eq(p.opened, 1);
    ck_assert_int_eq(scalar("SELECT count(*) FROM incident WHERE subject = 'bob'"
			    " AND flags = '[\"pinned\"]'"), 1);
}
END_TEST

/* add_act - an event with an action (and the dry-run flag) */
static void add_act(uint64_t seq, int64_t t, const char *login, enum cfg_action a,
		    bool dry_run)
{
    struct evrec r;
    char err[512], client[32];
    bool dup;


    /* one client per login: no many_logins incident */
    snprintf(client, sizeof(client), "198.18.4.%u", (unsigned char) login[0]);
    record(&r, seq, t, login, client, RULES_CLASS_AUTHENTICATED);
    r.action = (uint8_t) a;
    r.flags = dry_run ? EVREC_F_DRY_RUN : 0;
    if (a >= CFG_ACTION_TEMPFAIL)
	snprintf(r.rule_name, sizeof(r.rule_name), "many-rcpts");
    ck_assert_int_eq(evdb_add(hist, &r, t, &dup, err, sizeof(err)), HIST_OK);
    ck_assert(!dup);
}

/* A login refused after some of its mail was accepted: the accepted
 * queue ids (not those after the refusal, not quarantined ones) and the
 * command that holds them; a refusal only in dry run, or one with nothing
 * accepted before it, is no such incident. */
START_TEST(test_accepted_before_refusal)
{
    struct inc_pass p;
    char out[8192], path[128];
    FILE *f;
    size_t n;

    add_act(1, T0, "eve", CFG_ACTION_ACCEPT, false);
    add_act(2, T0 + 1000, "eve", CFG_ACTION_TAG, false);
    add_act(3, T0 + 2000, "eve", CFG_ACTION_QUARANTINE, false);
    add_act(4, T0 + 3000, "eve", CFG_ACTION_TEMPFAIL, false);
    add_act(5, T0 + 4000, "eve", CFG_ACTION_ACCEPT, false);	/* after the refusal */
    add_act(6, T0, "dry", CFG_ACTION_ACCEPT, false);
    add_act(7, T0 + 1000, "dry", CFG_ACTION_REJECT, true);	/* dry run: not refused */
    add_act(8, T0, "first", CFG_ACTION_REJECT, false);	/* refused at once */
    add_act(9, T0 + 1000, "first", CFG_ACTION_ACCEPT, false);
    p = pass(T0 + 5000);
    ck_assert_uint_eq(p.opened, 1);
    ck_assert_int_eq(scalar("SELECT count(*) FROM incident WHERE kind ="
			    " 'accepted_before_refusal' AND subject = 'eve'"
			    " AND qids = '[\"Q1\",\"Q2\"]' AND rules = '[\"many-rcpts\"]'"
			    " AND events = 5"), 1);
    /* the JSON line carries the command */
    snprintf(path, sizeof(path), "%s/inc.jsonl", dir);
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    n = fread(out, 1, sizeof(out) - 1, f);
    out[n] = 0;
    fclose(f);
    ck_assert_msg(strstr(out, "\"contain\": \"relayguardctl contain --scan -- 'eve'\"")
		  != NULL, "%s", out);
    /* dedup: the same evidence again changes nothing, more of it updates */
    p = pass(T0 + 6000);
    ck_assert_uint_eq(p.opened + p.updated, 0);
    add_act(10, T0 + 7000, "eve", CFG_ACTION_REJECT, false);
    p = pass(T0 + 8000);
    ck_assert_uint_eq(p.opened, 0);
    ck_assert_uint_eq(p.updated, 1);
    ck_assert_int_eq(scalar("SELECT count(*) FROM incident WHERE kind ="
			    " 'accepted_before_refusal' AND events = 6"
			    " AND qids = '[\"Q1\",\"Q2\"]'"), 1);
}
END_TEST

/* The command quotes a hostile login for the shell. */
START_TEST(test_contain_quoting)
{
    char buf[INC_CONTAIN_MAX];

    ck_assert(!inc_contain("login_from_flagged", "eve", buf, sizeof(buf)));
    ck_assert(inc_contain("accepted_before_refusal", "o'neil;rm -rf /", buf, sizeof(buf)));
    ck_assert_str_eq(buf, "relayguardctl contain --scan -- 'o'\\''neil;rm -rf /'");
    ck_assert(inc_contain("accepted_before_refusal", "-x$(id)", buf, sizeof(buf)));
    ck_assert_str_eq(buf, "relayguardctl contain --scan -- '-x$(id)'");
    ck_assert(!inc_contain("accepted_before_refusal", "eve", buf, 20));	/* too small */
}
END_TEST

/* Closed incidents older than the retention go; open ones stay. */
START_TEST(test_retention)
{
    unsigned n;
    char err[512];

    sql("INSERT INTO incident (id, kind, subject, closed_ms) VALUES"
	" ('INC-000000000001', 'many_logins', 'a', 1000),"
	" ('INC-000000000002', 'many_logins', 'b', 5000),"
	" ('INC-000000000003', 'many_logins', 'c', 0)");
    ck_assert_int_eq(inc_expire(hist, 4000, &n, err, sizeof(err)), HIST_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(scalar("SELECT count(*) FROM incident WHERE id = 'INC-000000000001'"), 0);
    ck_assert_int_eq(scalar("SELECT count(*) FROM incident"), 2);
    ck_assert_int_eq(inc_expire(hist, 1LL << 50, &n, err, sizeof(err)), HIST_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(scalar("SELECT count(*) FROM incident WHERE closed_ms = 0"
			    " AND subject = 'c'"), 1);
}
END_TEST

/* snapshot - the incident table as text */
static void snapshot(char *buf, size_t len)
{
    sqlite3_stmt *st;
    size_t used = 0;

    buf[0] = 0;
    ck_assert_int_eq(sqlite3_prepare_v2(hist_sqlite(hist), "SELECT id, kind, subject, first_ms,"
					" last_ms, closed_ms, events, logins, hosts, flags, qids"
					" FROM incident ORDER BY id", -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW && used < len)
	for (int i = 0; i < 11 && used < len; i++)
	    used += (size_t) snprintf(buf + used, len - used, "%s%c",
				      (const char *) sqlite3_column_text(st, i), i < 10 ? ' ' : '\n');
    sqlite3_finalize(st);
    ck_assert_uint_lt(used, len);
}

/* A stream of events and flags, some flags arriving after their host's
 * mail: after each incremental pass, a full pass at the same time finds
 * nothing more, and most incremental passes were not full ones. */
START_TEST(test_incremental_agrees)
{
    static const char *const hosts[] = {"198.18.1.1", "198.18.1.2", "198.18.1.3",
	"10.20.1.4", "10.20.1.5", "203.0.113.9"};
    static const char *const logins[] = {"", "ann", "bob", "cat", "dan"};
    static char before[1 << 16], after[1 << 16];
    uint64_t r = 12345, seq = 1;
    unsigned partial = 0;
    int64_t t = T0;
    struct inc_pass p;
    int step, i;

    mode(1);
    for (step = 0; step < 60; step++) {
	for (i = 0; i < 5; i++) {
	    r = r * 6364136223846793005ull + 1442695040888963407ull;
	    add(seq++, t, logins[(r >> 33) % 5], hosts[(r >> 40) % 6],
		(r >> 50) % 3 ? RULES_CLASS_AUTHENTICATED : RULES_CLASS_INTERNAL);
	}
	if (step == 20)
	    flag("198.18.1.2", "rogue_server", t);	/* after its mail */
	if (step == 35)
	    flag("10.20.1.4", "direct_sender", t);
	t += 40 * 1000;
	p = pass(t);
	partial += !p.full;
	snapshot(before, sizeof(before));
	incremental = 0;
	p = pass(t);
	incremental = 1;
	ck_assert_msg(p.opened + p.updated + p.closed == 0, "step %d: the full pass found"
		      " %u opened, %u updated", step, p.opened, p.updated);
	snapshot(after, sizeof(after));
	ck_assert_str_eq(before, after);
    }
    ck_assert_uint_ge(partial, 50);
    ck_assert_int_gt(scalar("SELECT count(*) FROM incident WHERE kind = 'login_from_flagged'"), 0);
    ck_assert_int_gt(scalar("SELECT count(*) FROM incident WHERE kind = 'relay_and_direct'"), 0);
    ck_assert_int_gt(scalar("SELECT count(*) FROM incident WHERE kind = 'many_logins'"), 0);
}
END_TEST

/* incident_suite - every case above */
static Suite *incident_suite(void)
{
    Suite *s = suite_create("incident");
    TCase *tc = tcase_create("incident");

    tcase_add_checked_fixture(tc, setup, ct_teardown);
    /* test_incremental_agrees runs 120 passes: ~11 s under ASan at load 10 */
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_login_from_flagged, 0, 2);
    tcase_add_loop_test(tc, test_relay_and_direct, 0, 2);
    tcase_add_loop_test(tc, test_old_evidence, 0, 2);
    tcase_add_loop_test(tc, test_many_logins, 0, 2);
    tcase_add_loop_test(tc, test_many_logins_window, 0, 2);
    tcase_add_test(tc, test_pins);
    tcase_add_loop_test(tc, test_pinned_host_correlates, 0, 2);
    tcase_add_test(tc, test_accepted_before_refusal);
    tcase_add_test(tc, test_contain_quoting);
    tcase_add_test(tc, test_retention);
    tcase_add_test(tc, test_incremental_agrees);
    tcase_add_test(tc, test_incident_hosts_listed);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(incident_suite());
}
