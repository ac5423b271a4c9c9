/*
 * check_ctl_show - "relayguardctl show USER" says what the judgement of
 * a login rests on: whether it is still learning, its familiar networks
 * (AS or prefix, first and last day used, days seen, familiar or not
 * yet), its usual busiest hour and day (with a trip's allowance), its
 * usual hour on its carrier's pool and the day it last rose, the hubs
 * of its carriers' pools it was noted at, its usual recipients hour
 * before today, its messages through the site's webmail (the last
 * hour's, its busiest hour let through, what webmail-volume counts
 * past), the last mail from its home place,
 * the addresses the site vouched for, and
 * for each address whether it is familiar and why (own network,
 * learning, pinned, vouched) or not, in text and in JSON.
 *
 * The state is made here: nora, past her learning week, with a network
 * of her own, a new /24, an unfamiliar address, a vouched one and one in
 * a pinned network; newbie, still learning. Times are fixed (NOW).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_test.h"

#define DAY 86400u
#define HOUR 3600u
#define PINNED "100.64.0.0/10"

static char pconf[PATH_LEN];	/* the configuration with a pinned network */

/* see - one observation of a login and of its client address */
static void see(STORE *st, const char *login, const char *ip, const char *cc,
		uint32_t asn, uint32_t msgs, uint32_t rcpts, unsigned flags,
		uint32_t when)
{
    obs_flags(st, login, ip, cc, asn, msgs, rcpts, NULL, flags, when);
}

/* vouch - another login came from ip from a familiar place of its own */
static void vouch(STORE *st, const char *ip, uint32_t when)
{
    struct store_client_obs co;

    memset(&co, 0, sizeof(co));
    ck_assert_int_eq(addr_parse(ip, &co.ip), 0);
    co.login = "colleague@example.org";
    co.flags = STORE_OBS_VOUCH;
    ck_assert_int_eq(store_client_update(st, &co, when, NULL), STORE_OK);
}

/* places_make - nora and newbie beside state_make's logins */
static void places_make(void)
{
    const unsigned let = STORE_OBS_COUNT_ONLY | STORE_OBS_LEARN;
    struct store_user u;
    STORE *st;

    state_make();
    st = state_open();
    /* her first weeks: AS64501 on two days, 3 messages to 7 in an hour */
    see(st, "nora", "203.0.113.7", "DE", 64501, 0, 0, STORE_OBS_NO_LEARN,
	NOW - 20 * DAY);
    see(st, "nora", "203.0.113.7", "DE", 64501, 3, 7,
	let | STORE_OBS_LEARN_VOLUME, NOW - 20 * DAY + 60);
    see(st, "nora", "203.0.113.8", "DE", 64501, 0, 0, STORE_OBS_NO_LEARN,
	NOW - 19 * DAY);
    see(st, "nora", "203.0.113.8", "DE", 64501, 1, 1,
	let | STORE_OBS_LEARN_VOLUME, NOW - 19 * DAY + 60);
    /* a new /24 without AS data, let through once: not familiar yet */
    see(st, "nora", "198.51.100.20", "", 0, 0, 0, STORE_OBS_NO_LEARN,
	NOW - HOUR);
    see(st, "nora", "198.51.100.20", "", 0, 1, 1, let, NOW - HOUR + 60);
    /* MAIL only: a vouched address, a pinned one, an unfamiliar one */
    vouch(st, "198.18.9.9", NOW - 2 * HOUR);
    see(st, "nora", "198.18.9.9", "NL", 64777, 0, 0, STORE_OBS_NO_LEARN,
	NOW - 30 * MIN);
    see(st, "nora", "100.64.1.1", "DE", 64888, 0, 0, STORE_OBS_NO_LEARN,
	NOW - 20 * MIN);
    see(st, "nora", "192.0.2.50", "RU", 64999, 0, 0, STORE_OBS_NO_LEARN,
	NOW - 10 * MIN);
    ck_assert_int_eq(store_user_get(st, "nora", NOW, &u), STORE_OK);
    ck_assert_uint_eq(u.usual_msgs, 3);
    ck_assert_uint_eq(u.usual_rcpts, 7);
    /* a login in its first day */
    see(st, "newbie", "192.0.2.77", "FR", 64600, 0, 0, STORE_OBS_NO_LEARN,
	NOW - DAY);
    store_close(st);
}

/* has - the output line starting with prefix contains want */
static void has(const char *prefix, const char *want)
{
    const char *l = line_of(out, prefix);

    ck_assert_msg(l != NULL, "no line %s in:\n%s", prefix, out);
    ck_assert_msg(strstr(l, want) != NULL, "line '%s' lacks '%s'", l, want);
}

START_TEST(test_show_places_text)
{
    places_make();
    ck_assert_int_eq(run("-c", pconf, "show", "nora", NULL), 0);
    ck_assert(lines_fit(out, 80));
    has("learning", "no, ended ");
    has("networks", "2 learned, 1 familiar (after 2 days, or first used"
	" while learning)");
    has("usual hour", "3 messages, 7 recipients in an hour; last hour 1, 1");
    has("vouched", "198.18.9.9 (2h ago)");
    /* the networks: AS or /24, first and last day, days, familiar */
    has("AS64501 ", "DE  2023-11-19  2023-11-20     2  yes");
    has("198.51.100.0/24", "  1  not yet");
    /* each address: familiar or not, and why */
    has("203.0.113.7 ", " own");
    has("198.51.100.20 ", " no");
    has("198.18.9.9 ", " vouched");
    has("100.64.1.1 ", " pinned");
    has("192.0.2.50 ", " no");
    /* without the pin, that address is unfamiliar too */
    ck_assert_int_eq(run("-c", conf, "show", "nora", NULL), 0);
    has("100.64.1.1 ", " no");
    /* still learning: every address familiar for that reason */
    ck_assert_int_eq(run("-c", pconf, "show", "newbie", NULL), 0);
    has("learning", "yes, until ");
    has("networks", "0 learned, 0 familiar");
    has("usual hour", "none yet (learned only from familiar places)");
    ck_assert_ptr_null(line_of(out, "vouched"));
    has("192.0.2.77 ", " learning");
}
END_TEST

/* must - a member of a JSON object that has to be there */
static const struct jread_val *must(const struct jread_val *o, const char *k)
{
    const struct jread_val *v = o != NULL ? jread_get(o, k) : NULL;

    ck_assert_msg(v != NULL, "no key %s in:\n%s", k, out);
    return v;
}

/* ip_familiar - the "familiar" word of an address in show's JSON */
static const char *ip_familiar(const struct jread_val *v, const char *ip)
{
    for (const struct jread_val *e = must(v, "ips")->child; e;
	 e = e->next)
	if (strcmp(jread_str(e, "address"), ip) == 0)
	    return jread_str(e, "familiar");
    return "(absent)";
}

START_TEST(test_show_places_json)
{
    const struct jread_val *n;
    struct jread_val *v;
    int64_t x;

    places_make();
    ck_assert_int_eq(run("-c", pconf, "--json", "show", "nora", NULL), 0);
    v = parse_out();
    ck_assert(!must(must(v, "learning"), "active")->b);
    ck_assert_int_eq(jread_int(must(v, "learning"), "until", &x), 0);
    ck_assert_int_eq(x, NOW - 20 * DAY + 7 * DAY);
    ck_assert_int_eq(jread_int(must(v, "usual_hour"), "messages", &x),
		     0);
    ck_assert_int_eq(x, 3);
    ck_assert_int_eq(jread_int(must(v, "usual_hour"), "recipients",
			       &x), 0);
    ck_assert_int_eq(x, 7);
    n = must(v, "networks")->child;
    ck_assert_str_eq(jread_str(n, "network"), "AS64501");
    ck_assert_int_eq(jread_int(n, "asn", &x), 0);
    ck_assert_int_eq(x, 64501);
    ck_assert_int_eq(jread_int(n, "days", &x), 0);
    ck_assert_int_eq(x, 2);
    ck_assert_int_eq(jread_int(n, "first_day", &x), 0);
    ck_assert_int_eq(x, (NOW - 20 * DAY) / DAY);
    ck_assert(must(n, "familiar")->b);
    n = n->next;
    ck_assert_str_eq(jread_str(n, "network"), "198.51.100.0/24");
    ck_assert(!must(n, "familiar")->b);
    ck_assert_ptr_null(n->next);
    n = must(v, "vouched")->child;
    ck_assert_str_eq(jread_str(n, "address"), "198.18.9.9");
    ck_assert_int_eq(jread_int(n, "until", &x), 0);
    ck_assert_int_eq(x, NOW - 2 * HOUR + DAY);
    ck_assert_ptr_null(n->next);
    ck_assert_str_eq(ip_familiar(v, "203.0.113.8"), "own");
    ck_assert_str_eq(ip_familiar(v, "198.51.100.20"), "no");
    ck_assert_str_eq(ip_familiar(v, "198.18.9.9"), "vouched");
    ck_assert_str_eq(ip_familiar(v, "100.64.1.1"), "pinned");
    ck_assert_str_eq(ip_familiar(v, "192.0.2.50"), "no");
    jread_free(v);
    ck_assert_int_eq(run("-c", pconf, "--json", "show", "newbie", NULL), 0);
    v = parse_out();
    ck_assert(must(must(v, "learning"), "active")->b);
    ck_assert_ptr_null(must(v, "networks")->child);
    ck_assert_ptr_null(must(v, "vouched")->child);
    ck_assert_str_eq(ip_familiar(v, "192.0.2.77"), "learning");
    jread_free(v);
}
END_TEST

/* pinned_conf - the common configuration with PINNED familiar */
static void pinned_conf(void)
{
    snprintf(pconf, sizeof(pconf), "%s/pinned.conf", tdir);
    ctl_conf_policy(pconf, "familiar_networks = [ \"" PINNED "\" ];");
}

/* site_start - set the site's first judgement in the state file */
static void site_start(uint32_t t)
{
    STORE *st = state_open();

    store_site_start_keep(st, t);
    ck_assert_uint_eq(store_site_start(st, 0), t);
    store_close(st);
}

/* site_start_fresh - the state made again with a later site start (the
 * store keeps only an earlier one than it has) */
static void site_start_fresh(uint32_t t)
{
    places_make();
    site_start(t);
}

/* strangers_from - show newbie --json: learning.strangers_from, 0 null */
static int64_t strangers_from(void)
{
    const struct jread_val *s;
    struct jread_val *v;
    int64_t x = 0;

    ck_assert_int_eq(run("-c", pconf, "--json", "show", "newbie", NULL), 0);
    v = parse_out();
    s = must(must(v, "learning"), "strangers_from");
    if (s->type != JREAD_NULL)
	ck_assert_int_eq(jread_int(must(v, "learning"), "strangers_from",
				   &x), 0);
    jread_free(v);
    return x;
}

/* A learning login's strangers are judged only once the site is past
 * its own first learning period (store_site_start): show says which. */
START_TEST(test_show_site_strangers)
{
    char when[TEXT_TIME_MAX], want[160], off[PATH_LEN];

    places_make();
    /* nothing judged yet: no stranger is unfamiliar */
    ck_assert_int_eq(run("-c", pconf, "show", "newbie", NULL), 0);
    ck_assert_ptr_nonnull(strstr(row_of(out, "learning"), "counts as"
				 " familiar, new_country stays quiet"));
    ck_assert_ptr_null(strstr(out, "stranger"));
    ck_assert_int_eq(strangers_from(), 0);
    /* the site's first week: not yet, until its end */
    site_start(NOW - 2 * DAY);
    ck_assert_int_eq(run("-c", pconf, "show", "newbie", NULL), 0);
    ck_assert(lines_fit(out, 80));
    text_time(NOW + 5 * DAY, when, sizeof(when));
    snprintf(want, sizeof(want), "(a stranger's too until %s, the end of",
	     when);
    ck_assert_msg(strstr(row_of(out, "learning"), want) != NULL,
		  "no '%s' in:\n%s", want, out);
    ck_assert_int_eq(strangers_from(), NOW + 5 * DAY);
    /* the site started after the login: its learning ends first */
    site_start_fresh(NOW - HOUR);
    ck_assert_int_eq(run("-c", pconf, "show", "newbie", NULL), 0);
    ck_assert_ptr_nonnull(strstr(row_of(out, "learning"), "(a stranger's"
				 " too: the site is in its first learning"
				 " period)"));
    ck_assert_int_eq(strangers_from(), NOW - HOUR + 7 * DAY);
    site_start(NOW - 2 * DAY);
    /* past it: a stranger stays unfamiliar */
    site_start(NOW - 10 * DAY);
    ck_assert_int_eq(run("-c", pconf, "show", "newbie", NULL), 0);
    ck_assert_ptr_nonnull(strstr(row_of(out, "learning"), "(but a"
				 " stranger's: a network and country both new"
				 " today)"));
    ck_assert_int_eq(strangers_from(), NOW - 3 * DAY);
    /* policy.learning_strangers off: never */
    snprintf(off, sizeof(off), "%s/nostrangers.conf", tdir);
    ctl_conf_policy(off, "learning_strangers = false;");
    ck_assert_int_eq(run("-c", off, "show", "newbie", NULL), 0);
    ck_assert_ptr_null(strstr(out, "stranger"));
}
END_TEST

/* An address of nora's in one of the site's networks (two colleagues
 * vouched for 198.18.3.0/24 from familiar places of their own on two
 * days): the engine holds it familiar (rules.c site_note, v->site), and
 * show says why, "site", not "no" as when show read no site network. */
START_TEST(test_show_site_network)
{
    char sconf[PATH_LEN];
    struct addr a;
    STORE *st;

    places_make();
    st = state_open();
    ck_assert_int_eq(addr_parse("198.18.3.77", &a), 0);
    ck_assert_int_eq(store_site_vouch(st, &a, "c1@example.org",
				      NOW - 2 * DAY, NULL), STORE_OK);
    ck_assert_int_eq(store_site_vouch(st, &a, "c2@example.org",
				      NOW - DAY, NULL), STORE_OK);
    see(st, "nora", "198.18.3.77", "DE", 64498, 0, 0, STORE_OBS_NO_LEARN,
	NOW - 5 * MIN);
    store_close(st);
    snprintf(sconf, sizeof(sconf), "%s/site.conf", tdir);
    ctl_conf_policy(sconf, "site_logins = 2; site_days = 2;");
    ck_assert_int_eq(run("-c", sconf, "show", "nora", NULL), 0);
    has("198.18.3.77 ", " site");
    has("192.0.2.50 ", " no");
    /* without site networks: unfamiliar */
    ck_assert_int_eq(run("-c", conf, "show", "nora", NULL), 0);
    has("198.18.3.77 ", " no");
}
END_TEST

/* dora_make - a heavy sender past her learning: 10 messages every two
 * hours over a day from her own network (busiest hour 10, day 60) */
static void dora_make(void)
{
    const unsigned let = STORE_OBS_COUNT_ONLY | STORE_OBS_LEARN
	| STORE_OBS_LEARN_VOLUME;
    STORE *st = state_open();
    struct store_user u;

    see(st, "dora", "203.0.113.70", "DE", 64501, 0, 0, STORE_OBS_NO_LEARN,
	NOW - 20 * DAY);
    for (uint32_t h = 0; h < 12; h++)
	see(st, "dora", "203.0.113.70", "DE", 64501, 10, 10, let,
	    NOW - 10 * DAY + 2 * h * HOUR);
    ck_assert_int_eq(store_user_get(st, "dora", NOW, &u), STORE_OK);
    ck_assert_uint_eq(u.usual_msgs, 10);
    ck_assert_uint_eq(u.usual_day, 120);
    store_close(st);
}

/* usual_day_has - show's "usual day" row (wrapped lines joined) has want */
static void usual_day_has(const char *want)
{
    const char *r = row_of(out, "usual day");

    ck_assert_msg(r != NULL, "no usual day row in:\n%s", out);
    ck_assert_msg(strstr(r, want) != NULL, "'%s' lacks '%s'", r, want);
}

/* usual_day_json - show LOGIN --json: usual_day.messages and
 * .trip_allowance */
static void usual_day_json(const char *cf, const char *login,
			   int64_t *msgs, int64_t *trip)
{
    const struct jread_val *d;
    struct jread_val *v;

    ck_assert_int_eq(run("-c", cf, "--json", "show", login, NULL), 0);
    v = parse_out();
    d = must(v, "usual_day");
    ck_assert_int_eq(jread_int(d, "messages", msgs), 0);
    ck_assert_int_eq(jread_int(d, "trip_allowance", trip), 0);
    jread_free(v);
}

/* The busiest usual day (judge2's, in spare bytes of the login's
 * record) is shown beside the busiest hour, with the trip allowance the
 * engine makes of it: the smaller of that day and 3 busiest hours (a
 * learning login's hour raised to its floor). */
START_TEST(test_show_usual_day)
{
    char floor[PATH_LEN];
    int64_t msgs, trip;

    places_make();
    dora_make();
    /* nora: a light day (3: her two first days a day apart), under her
     * 3 busiest hours (9) */
    ck_assert_int_eq(run("-c", pconf, "show", "nora", NULL), 0);
    ck_assert(lines_fit(out, 80));
    usual_day_has("3 messages in a day; last day 1; a trip abroad may send"
		  " 3 a day (at most 3 busiest hours)");
    usual_day_json(pconf, "nora", &msgs, &trip);
    ck_assert_int_eq(msgs, 3);
    ck_assert_int_eq(trip, 3);
    /* dora: a long day (120) is capped at 3 busiest hours (30) */
    ck_assert_int_eq(run("-c", pconf, "show", "dora", NULL), 0);
    usual_day_has("120 messages in a day; last day 0; a trip abroad may"
		  " send 30 a day");
    usual_day_json(pconf, "dora", &msgs, &trip);
    ck_assert_int_eq(msgs, 120);
    ck_assert_int_eq(trip, 30);
    /* newbie learned none: 3 hours of the learning floor */
    snprintf(floor, sizeof(floor), "%s/floor.conf", tdir);
    ctl_conf_policy(floor, "learning_usual_messages = 20;");
    ck_assert_int_eq(run("-c", floor, "show", "newbie", NULL), 0);
    usual_day_has("none yet (learned only from familiar places); last day"
		  " 0; a trip abroad may send 60 a day (3 busiest hours)");
    usual_day_json(floor, "newbie", &msgs, &trip);
    ck_assert_int_eq(msgs, 0);
    ck_assert_int_eq(trip, 60);
}
END_TEST

/* row_has - show's row (wrapped lines joined) has want */
static void row_has(const char *row, const char *want)
{
    const char *r = row_of(out, row);

    ck_assert_msg(r != NULL, "no %s row in:\n%s", row, out);
    ck_assert_msg(strstr(r, want) != NULL, "'%s' lacks '%s'", r, want);
}

/* The usual hour on the login's own carrier's pool (what carrier-volume
 * counts past, at least its floor of 3) and the last mail from its home
 * place (what trip_home and second_home read), with both keys' state,
 * in text and JSON; a login that learned neither says so. */
START_TEST(test_show_home_coarse)
{
    char keys[PATH_LEN];
    const struct jread_val *d;
    struct jread_val *v;
    int64_t n;
    STORE *st;

    places_make();
    st = state_open();
    obs_flags(st, "nora", "203.0.113.7", "DE", 64501, 1, 1, NULL,
	      STORE_OBS_COUNT_ONLY | STORE_OBS_LEARN | STORE_OBS_HOME,
	      NOW - 2 * HOUR);
    ck_assert_int_eq(store_user_coarse_learn(st, "nora", 7, true, NOW - DAY),
		     STORE_OK);
    store_close(st);
    snprintf(keys, sizeof(keys), "%s/home.conf", tdir);
    ctl_conf_policy(keys, "trip_home = true; second_home = false;");
    ck_assert_int_eq(run("-c", keys, "show", "nora", NULL), 0);
    ck_assert(lines_fit(out, 80));
    row_has("carrier", "7 messages in an hour from its own networks'"
	    " coarse addresses; carrier-volume counts past 7");
    row_has("home place", "(2h ago); trip_home on, second_home off");
    ck_assert_int_eq(run("-c", keys, "--json", "show", "nora", NULL), 0);
    v = parse_out();
    d = must(v, "usual_coarse");
    ck_assert_int_eq(jread_int(d, "messages", &n), 0);
    ck_assert_int_eq(n, 7);
    ck_assert_int_eq(jread_int(d, "counts_past", &n), 0);
    ck_assert_int_eq(n, 7);
    d = must(v, "home");
    ck_assert_int_eq(jread_int(d, "seen", &n), 0);
    ck_assert_int_eq(n, NOW - 2 * HOUR);
    ck_assert_int_eq(must(d, "trip_home")->type, JREAD_BOOL);
    ck_assert(must(d, "trip_home")->b);
    ck_assert_int_eq(must(d, "second_home")->type, JREAD_BOOL);
    ck_assert(!must(d, "second_home")->b);
    jread_free(v);
    /* newbie: neither learned; the floor stands in */
    ck_assert_int_eq(run("-c", keys, "show", "newbie", NULL), 0);
    row_has("carrier", "none yet (learned from its own networks'"
	    " coarse addresses); carrier-volume counts past 3");
    row_has("home place", "no mail from it yet; trip_home on, second_home"
	    " off");
    ck_assert_int_eq(run("-c", keys, "--json", "show", "newbie", NULL), 0);
    v = parse_out();
    d = must(v, "home");
    ck_assert_int_eq(must(d, "seen")->type, JREAD_NULL);
    d = must(v, "usual_coarse");
    ck_assert_int_eq(jread_int(d, "counts_past", &n), 0);
    ck_assert_int_eq(n, 3);
    jread_free(v);
}
END_TEST

/* date_of - the UTC date of a time, as show prints days */
static void date_of(uint32_t t, char *buf, size_t len)
{
    time_t tt = (time_t) t;
    struct tm tm;

    ck_assert_ptr_nonnull(gmtime_r(&tt, &tm));
    ck_assert_uint_gt(strftime(buf, len, "%Y-%m-%d", &tm), 0);
}

/* nora_learned - places_make's logins, nora's usual coarse hour learned
 * (7) at t; the state left open */
static STORE *nora_learned(uint32_t t)
{
    STORE *st;

    places_make();
    st = state_open();
    ck_assert_int_eq(store_user_coarse_learn(st, "nora", 7, true, t),
		     STORE_OK);
    return st;
}

/* shown_raised - nora shown: the carrier row's usual hour (want), risen
 * today, and JSON raised_day day */
static void shown_raised(const char *want, uint32_t day)
{
    struct jread_val *v;
    int64_t n;

    ck_assert_int_eq(run("-c", pconf, "show", "nora", NULL), 0);
    row_has("carrier", want);
    row_has("carrier", "raised today");
    ck_assert_int_eq(run("-c", pconf, "--json", "show", "nora", NULL), 0);
    v = parse_out();
    ck_assert_msg(must(must(v, "usual_coarse"), "raised_day")->type
		  != JREAD_NULL, "a raise on day %u read as none", day);
    ck_assert_int_eq(jread_int(must(v, "usual_coarse"), "raised_day", &n), 0);
    ck_assert_int_eq(n, day);
    jread_free(v);
}

/* The per-login state of format 8 and the coarse hour's day: whether
 * the usual coarse hour rose today past learning (a raise yesterday is
 * not named: the day byte cannot tell it from one 256 days before, nor
 * its 0 from "never", test_show_coarse_day0), the hubs of its
 * carriers' pools the login was noted at (one on an earlier day, known
 * now; one today, not yet) and its usual recipients hour as it stood
 * before today (7, kept at today's first update, while the usual hour
 * rose to 41), in text and JSON. The old show had none of them. */
START_TEST(test_show_ext_state)
{
    const struct jread_val *d, *e;
    struct jread_val *v;
    char yesterday[16], today[16];
    int64_t n;
    STORE *st;

    st = nora_learned(NOW - 3 * DAY);
    ck_assert_int_eq(store_user_coarse_note(st, "nora", 0x1234, 9, false, NOW - DAY),
		     STORE_OK);
    ck_assert_int_eq(store_user_coarse_note(st, "nora", 0x0567, 0, false, NOW - HOUR),
		     STORE_OK);
    see(st, "nora", "203.0.113.7", "DE", 64501, 2, 40,
	STORE_OBS_COUNT_ONLY | STORE_OBS_LEARN | STORE_OBS_LEARN_VOLUME,
	NOW - 30 * MIN);
    store_close(st);
    date_of(NOW - DAY, yesterday, sizeof(yesterday));
    date_of(NOW, today, sizeof(today));
    ck_assert_int_eq(run("-c", pconf, "show", "nora", NULL), 0);
    ck_assert(lines_fit(out, 80));
    row_has("carrier", "8 messages in an hour");
    ck_assert_ptr_null(strstr(row_of(out, "carrier"), "raised"));
    ck_assert_ptr_null(strstr(row_of(out, "carrier"), yesterday));
    row_has("known hubs", "2 noted, 1 known (noted before today)");
    row_has("known hubs", today);
    row_has("prior hour", "7 recipients in an hour as it stood before today"
	    " (now 41)");
    ck_assert_int_eq(run("-c", pconf, "--json", "show", "nora", NULL), 0);
    v = parse_out();
    ck_assert_int_eq(must(must(v, "usual_coarse"), "raised_day")->type, JREAD_NULL);
    d = must(v, "hubs");
    ck_assert_int_eq(jread_int(d, "known", &n), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(jread_int(d, "last_day", &n), 0);
    ck_assert_int_eq(n, NOW / DAY);
    e = must(d, "noted")->child;	/* most recent first */
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->inum, 0x0567);
    ck_assert_ptr_nonnull(e->next);
    ck_assert_int_eq(e->next->inum, 0x1234);
    ck_assert_ptr_null(e->next->next);
    d = must(v, "prior_usual");
    ck_assert_int_eq(jread_int(d, "recipients", &n), 0);
    ck_assert_int_eq(n, 7);
    ck_assert(must(d, "kept_today")->b);
    jread_free(v);
    /* newbie: none of them yet */
    ck_assert_int_eq(run("-c", pconf, "show", "newbie", NULL), 0);
    row_has("known hubs", "none yet");
    row_has("prior hour", "0 recipients in an hour, the usual hour");
    ck_assert_int_eq(run("-c", pconf, "--json", "show", "newbie", NULL), 0);
    v = parse_out();
    ck_assert_int_eq(must(must(v, "usual_coarse"), "raised_day")->type, JREAD_NULL);
    ck_assert_int_eq(must(must(v, "hubs"), "last_day")->type, JREAD_NULL);
    ck_assert_ptr_null(must(must(v, "hubs"), "noted")->child);
    ck_assert(!must(must(v, "prior_usual"), "kept_today")->b);
    jread_free(v);
    /* nora's coarse hour rises again, today */
    st = state_open();
    ck_assert_int_eq(store_user_coarse_note(st, "nora", 0, 12, false, NOW - 20 * MIN),
		     STORE_OK);
    store_close(st);
    shown_raised("9 messages in an hour", NOW / DAY);
}
END_TEST

/* A raise on a day whose number ends in 0x00 (the byte kept is 0): show
 * read the byte 0 as "not since learning", so it said nothing of it (and
 * JSON raised_day null) on one day in 256. */
START_TEST(test_show_coarse_day0)
{
    const uint32_t d0 = (NOW / DAY + 255) / 256 * 256, t = d0 * DAY + 12 * HOUR;
    STORE *st;

    st = nora_learned(t - 3 * DAY);
    see(st, "nora", "203.0.113.7", "DE", 64501, 1, 1, STORE_OBS_NO_LEARN,
	t - 2 * HOUR);
    ck_assert_int_eq(store_user_coarse_note(st, "nora", 0, 9, false, t - 2 * HOUR),
		     STORE_OK);
    store_close(st);
    run_now = t;
    shown_raised("8 messages in an hour", d0);	/* d0: low byte 0 */
    run_now = 0;
}
END_TEST

/* webmail - a relayed message of wendy's at t, let through or not */
static void webmail(STORE *st, uint32_t t, bool let)
{
    const unsigned relayed = STORE_OBS_COUNT_ONLY | STORE_OBS_RELAYED;

    obs_flags(st, "wendy", "127.0.0.1", "", 0, 1, 1, NULL, relayed, t);
    if (let)
	obs_flags(st, "wendy", "127.0.0.1", "", 0, 0, 0, NULL, relayed, t);
}

/* wendy_make - places_make's logins, and wendy past learning with a
 * webmail hour of 3 let through yesterday and, today, 2 let through and
 * one refused (counted, not learned) ten minutes ago */
static void wendy_make(void)
{
    STORE *st;

    places_make();
    st = state_open();
    see(st, "wendy", "203.0.113.9", "DE", 64501, 0, 0, STORE_OBS_NO_LEARN,
	NOW - 20 * DAY);
    for (uint32_t i = 0; i < 3; i++)
	webmail(st, NOW - DAY + i * MIN, true);
    webmail(st, NOW - 10 * MIN, true);
    webmail(st, NOW - 9 * MIN, true);
    webmail(st, NOW - 8 * MIN, false);
    store_close(st);
}

/* int_is - d's key is the number want */
static void int_is(const struct jread_val *d, const char *key, int64_t want)
{
    int64_t n;

    ck_assert_int_eq(jread_int(d, key, &n), 0);
    ck_assert_int_eq(n, want);
}

/* The login's messages through the site's webmail (store_relay.c): the
 * last hour's (refused ones too), its busiest hour let through on the
 * days before (3, yesterday) and today (2), and what webmail-volume
 * counts past (the floor of 4), in text and JSON. The old show had
 * none of them. */
START_TEST(test_show_webmail)
{
    struct jread_val *v;

    wendy_make();
    ck_assert_int_eq(run("-c", pconf, "show", "wendy", NULL), 0);
    ck_assert(lines_fit(out, 80));
    row_has("webmail", "3 messages in the last hour; busiest hour let"
	    " through 3 on the days before, 2 today; webmail-volume counts"
	    " past 4");
    ck_assert_int_eq(run("-c", pconf, "--json", "show", "wendy", NULL), 0);
    v = parse_out();
    int_is(must(v, "webmail"), "last_hour", 3);
    int_is(must(v, "webmail"), "usual", 3);
    int_is(must(v, "webmail"), "today", 2);
    int_is(must(v, "webmail"), "counts_past", 4);
    jread_free(v);
    /* nora never used it */
    ck_assert_int_eq(run("-c", pconf, "show", "nora", NULL), 0);
    row_has("webmail", "0 messages in the last hour; busiest hour let"
	    " through 0 on the days before, 0 today");
}
END_TEST

static Suite *ctl_show_suite(void)
{
    Suite *s = suite_create("ctl_show");
    TCase *tc = tcase_create("places");

    tcase_add_test(tc, test_show_places_text);
    tcase_add_test(tc, test_show_places_json);
    tcase_add_test(tc, test_show_site_strangers);
    tcase_add_test(tc, test_show_site_network);
    tcase_add_test(tc, test_show_usual_day);
    tcase_add_test(tc, test_show_home_coarse);
    tcase_add_test(tc, test_show_ext_state);
    tcase_add_test(tc, test_show_coarse_day0);
    tcase_add_test(tc, test_show_webmail);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ctl_check_run_with(ctl_show_suite(), pinned_conf);
}
