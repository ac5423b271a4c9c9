/*
 * check_rules - unit tests of the policy engine (policy/rules.c and
 * policy/metrics.c), its building blocks: travel speed, prefix grouping,
 * override precedence, classification, when an action takes effect,
 * replies and durations.
 *
 * Metrics without data, hostile logins, the action ladder and blocks are
 * tested by check_rules_engine.c; the helpers both use are in
 * rules_test.h. Geography is built by hand; every test runs forked.
 */
#include <check.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "geo.h"
#include "metrics.h"
#include "rules.h"
#include "store.h"
#include "check_main.h"
#include "rules_test.h"

#define KMH_EPS		1e-6

/* place_km - great-circle distance between two places */
static double place_km(const struct store_place *a, const struct store_place *b)
{
    return geo_distance_km(a->lat_c / 100.0, a->lon_c / 100.0,
			   b->lat_c / 100.0, b->lon_c / 100.0);
}

/* at - a place at another time and with another accuracy radius */
static struct store_place at(const struct store_place *p, uint32_t t,
			     uint16_t acc)
{
    struct store_place q = *p;

    q.time = t;
    q.acc_km = acc;
    return q;
}

/* --- travel -------------------------------------------------------------- */

START_TEST(test_travel_radii_forgiven)
{
    struct store_place a = at(&berlin, T0, 20), b = at(&potsdam, T0 + 10, 20);
    double km = place_km(&a, &b);

    ck_assert_msg(km > 25 && km < 29, "Berlin-Potsdam %.1f km", km);
    ck_assert(rules_travel_kmh(&a, &b) == 0);
    /* radii that just cover the distance: still nothing */
    a.acc_km = 14, b.acc_km = (uint16_t) (ceil(km) - 14);
    ck_assert(rules_travel_kmh(&a, &b) == 0);
    b.acc_km--;
    ck_assert(rules_travel_kmh(&a, &b) > 0);
    /* smaller radii: the rest counts, over at least a minute */
    a.acc_km = b.acc_km = 10;
    ck_assert_double_eq_tol(rules_travel_kmh(&a, &b), (km - 20) * 60, KMH_EPS);
}
END_TEST

START_TEST(test_travel_time_clamp)
{
    struct store_place a = at(&berlin, T0, 0), b = at(&potsdam, T0, 0);
    double km = place_km(&a, &b), minute;

    minute = km * 60;
    ck_assert_double_eq_tol(rules_travel_kmh(&a, &b), minute, KMH_EPS);
    b.time = T0 + 5;
    ck_assert_double_eq_tol(rules_travel_kmh(&a, &b), minute, KMH_EPS);
    b.time = T0 + MIN;
    ck_assert_double_eq_tol(rules_travel_kmh(&a, &b), minute, KMH_EPS);
    b.time = T0 + 2 * MIN;
    ck_assert_double_eq_tol(rules_travel_kmh(&a, &b), minute / 2, KMH_EPS);
    b.time = T0 - HOUR;		/* clock went backwards: finite, a minute */
    ck_assert(isfinite(rules_travel_kmh(&a, &b)));
    ck_assert_double_eq_tol(rules_travel_kmh(&a, &b), minute, KMH_EPS);
}
END_TEST

START_TEST(test_travel_far_fast)
{
    struct store_place a = at(&berlin, T0, 20);
    struct store_place b = at(&brasilia, T0 + 40 * MIN, 50);
    double km = place_km(&a, &b), kmh = rules_travel_kmh(&a, &b);

    ck_assert_msg(km > 9400 && km < 9800, "Berlin-Brasilia %.0f km", km);
    ck_assert_double_eq_tol(kmh, (km - 70) * 1.5, KMH_EPS);
    ck_assert_msg(kmh > 10 * 1000, "%.0f km/h", kmh);
    /* the same trip over a day is a plane, not a thief */
    b.time = T0 + DAY;
    ck_assert_msg(rules_travel_kmh(&a, &b) < 1000, "%.0f km/h",
		  rules_travel_kmh(&a, &b));
}
END_TEST

START_TEST(test_travel_same_place)
{
    struct store_place a = at(&berlin, T0, 0), b = at(&berlin, T0, 0);

    ck_assert(rules_travel_kmh(&a, &b) == 0);
    b.time = T0 + HOUR;
    ck_assert(rules_travel_kmh(&a, &b) == 0);
    a.acc_km = b.acc_km = 100;
    ck_assert(rules_travel_kmh(&a, &b) == 0);
}
END_TEST

/* --- prefix grouping ------------------------------------------------------ */

/* user_with - a user entry holding these addresses, all seen at 'seen' */
static void user_with(struct store_user *u, const char *const *ips, size_t n,
		      uint32_t seen)
{
    size_t i;

    memset(u, 0, sizeof(*u));
    snprintf(u->login, sizeof(u->login), "pat");
    u->first_seen = T0;
    for (i = 0; i < n; i++) {
	ck_assert_int_eq(addr_parse(ips[i], &u->ips[i].ip), 0);
	u->ips[i].first_seen = u->ips[i].last_seen = seen;
	u->ips[i].count = 1;
    }
    u->nips = (uint32_t) n;
}

START_TEST(test_prefix_metric)
{
    static const char *const ips[] = {
	"198.18.3.1", "198.18.3.255", "198.18.4.0", "2001:db8:1:1::1",
	"2001:db8:1:ffff::2", "2001:db8:0:ffff::1", "2001:db8:2::1",
    };
    struct rules_facts f = {.phase = RULES_PHASE_MAIL, .geo_caps = 0};
    struct metrics_ctx mc = {.f = &f, .now = T0, .cls = RULES_CLASS_AUTHENTICATED};
    struct store_user u;
    struct env e;
    char ev[RULES_REASON_MAX];
    uint64_t n;

    env_open(&e, STATE);
    mc.cfg = e.cfg;
    mc.user = &u;
    user_with(&u, ips, sizeof(ips) / sizeof(ips[0]), T0);
    n = metrics_eval(CFG_METRIC_DISTINCT_PREFIXES, &mc, HOUR, ev, sizeof(ev));
    ck_assert_uint_eq(n, 5);
    ck_assert_str_eq(ev, "5 networks in 1h: 198.18.3.0/24,198.18.4.0/24,"
		     "2001:db8:1::/48,2001:db8:2::/48,2001:db8::/48");
    n = metrics_eval(CFG_METRIC_DISTINCT_IPS, &mc, HOUR, ev, sizeof(ev));
    ck_assert_uint_eq(n, 7);
    /* sightings older than the window do not count */
    u.ips[0].last_seen = u.ips[1].last_seen = T0 - HOUR;
    u.ips[2].last_seen = T0 - HOUR + 1;
    n = metrics_eval(CFG_METRIC_DISTINCT_PREFIXES, &mc, HOUR, ev, sizeof(ev));
    ck_assert_uint_eq(n, 4);
    ck_assert_ptr_null(strstr(ev, "198.18.3.0/24"));
    /* without a user entry the metric has nothing to count */
    mc.user = NULL;
    ck_assert_uint_eq(metrics_eval(CFG_METRIC_DISTINCT_PREFIXES, &mc, HOUR,
				   ev, sizeof(ev)), 0);
    ck_assert_str_eq(ev, "");
    env_close(&e);
}
END_TEST

START_TEST(test_prefix_engine)
{
    static const char *const same[] = {
	"198.18.3.1", "198.18.3.77", "198.18.3.255", "2001:db8:3:1::1",
	"2001:db8:3:ffff::9", "2001:db8:3::",
    };
    struct rules_verdict v;
    struct env e;
    size_t i;

    env_open(&e, STATE "policy: { rules = ( { name = \"many-networks\"; "
	     "applies_to = \"authenticated\"; metric = \"distinct_prefixes\"; "
	     "window = \"1h\"; limit = 2; action = \"quarantine\"; } ); };\n");
    for (i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
	simple_tx(&e, "pat", same[i], T0 + (uint32_t) i, &v);
	expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    }
    simple_tx(&e, "pat", "198.18.4.0", T0 + MIN, &v);
    expect(&e, &v, CFG_ACTION_QUARANTINE, "many-networks", false);
    ck_assert_str_eq(v.reason, "3 networks in 1h: 198.18.3.0/24,"
		     "198.18.4.0/24,2001:db8:3::/48 (limit 2)");
    env_close(&e);
}
END_TEST

/* The evaluation's memo (metrics_memo.c): with it metrics_familiar and
 * metrics_second_home answer, for each of the login's 16 addresses, what
 * they answer without it; an answer once kept is served (an evaluation's
 * context does not change), and a copy of the context is not served. */
START_TEST(test_familiar_memo)
{
    char text[STORE_IPS_MAX][32];
    const char *ips[STORE_IPS_MAX];
    struct rules_facts f = {.phase = RULES_PHASE_MAIL};
    const uint32_t now = T0 + 30 * DAY;
    struct metrics_ctx plain = {.f = &f, .now = now, .cls = RULES_CLASS_AUTHENTICATED};
    struct metrics_ctx mc, copy;
    struct metrics_memo memo = {0};
    struct store_user u;
    struct env e;
    unsigned fam = 0;
    size_t i;

    env_open(&e, STATE);
    for (i = 0; i < STORE_IPS_MAX; i++) {
	snprintf(text[i], sizeof(text[i]), "198.18.%zu.%zu", 3 + i % 4, i + 1);
	ips[i] = text[i];
    }
    user_with(&u, ips, STORE_IPS_MAX, now - HOUR);	/* first seen at T0 */
    u.nets[0].key = store_net_key(&u.ips[0].ip, 0);	/* 198.18.3.0/24: its own */
    u.nets[0].days = 20, u.nets[0].first_day = (uint16_t) (T0 / DAY);
    u.nets[0].last_day = (uint16_t) (now / DAY);
    plain.cfg = e.cfg, plain.user = &u;
    mc = plain;
    memo.ctx = &mc, mc.memo = &memo;
    for (i = 0; i < STORE_IPS_MAX; i++) {
	bool want = metrics_familiar(&plain, &u.ips[i].ip, u.ips[i].asn);

	ck_assert_int_eq(metrics_familiar(&mc, &u.ips[i].ip, u.ips[i].asn), want);
	ck_assert_int_eq(memo.familiar[i], want ? METRICS_MEMO_YES : METRICS_MEMO_NO);
	ck_assert_int_eq(metrics_second_home(&mc, &u.ips[i]),
			 metrics_second_home(&plain, &u.ips[i]));
	ck_assert_int_ne(memo.second_home[i], METRICS_MEMO_NONE);
	fam += want;
    }
    ck_assert_uint_eq(fam, STORE_IPS_MAX / 4);	/* those on its own /24 */
    /* the login learning again: the memo keeps the evaluation's answers,
     * a copy of the context (which may differ) works them out anew */
    u.first_seen = now - HOUR;
    copy = mc;
    ck_assert(metrics_familiar(&plain, &u.ips[1].ip, u.ips[1].asn));
    ck_assert(!metrics_familiar(&mc, &u.ips[1].ip, u.ips[1].asn));
    ck_assert(metrics_familiar(&copy, &u.ips[1].ip, u.ips[1].asn));
    /* an address outside the list, or another AS, has no slot */
    ck_assert_ptr_null(metrics_memo_familiar(&mc, &f.client, 0));
    ck_assert_ptr_null(metrics_memo_familiar(&mc, &u.ips[1].ip, 64500));
    env_close(&e);
}
END_TEST

/* The memo keeps metrics_roaming_phone's answer for one window (the
 * engine asks it at MAIL for unusual-recipients, unusual-volume again):
 * worked out once, then served to that context only, and worked out
 * anew for another window. */
START_TEST(test_roaming_phone_memo)
{
    const char *ips[] = {"198.18.3.1", "198.18.4.2"};
    struct rules_facts f = {.phase = RULES_PHASE_MAIL};
    const uint32_t now = T0 + 30 * DAY;
    struct metrics_ctx mc = {.f = &f, .now = now, .cls = RULES_CLASS_AUTHENTICATED};
    struct metrics_ctx copy;
    struct metrics_memo memo = {0};
    struct store_user u;
    struct env e;
    uint32_t n;

    env_open(&e, STATE);
    user_with(&u, ips, 2, now - HOUR);
    mc.cfg = e.cfg, mc.user = &u;
    memo.ctx = &mc, mc.memo = &memo;
    n = metrics_roaming_phone(&mc, HOUR);
    ck_assert_uint_eq(memo.roam_w, HOUR);
    ck_assert_uint_eq(memo.roam_phone, n);
    memo.roam_phone = n + 7;	/* kept: served, not worked out again */
    ck_assert_uint_eq(metrics_roaming_phone(&mc, HOUR), n + 7);
    copy = mc;			/* a copy is not served */
    ck_assert_uint_eq(metrics_roaming_phone(&copy, HOUR), n);
    ck_assert_uint_eq(metrics_roaming_phone(&mc, 2 * HOUR), 0);
    ck_assert_uint_eq(memo.roam_w, 2 * HOUR);
    env_close(&e);
}
END_TEST

/* --- overrides ------------------------------------------------------------ */

#define OVERRIDES STATE "policy: {\n rules = (\n" \
    "  { name = \"msgs\"; applies_to = \"authenticated\"; metric = \"messages\"; " \
    "window = \"1h\"; limit = 10; action = \"tempfail\"; },\n" \
    "  { name = \"rcpts\"; applies_to = \"authenticated\"; metric = \"recipients\"; " \
    "window = \"1h\"; limit = 100; action = \"tempfail\"; }\n );\n" \
    " overrides = (\n" \
    "  { domain = \"example.org\"; countries = [ \"FR\" ]; },\n" \
    "  { network = \"10.1.0.0/16\"; rule = \"msgs\"; limit = 30; },\n" \
    "  { network = \"10.1.2.0/24\"; rule = \"msgs\"; limit = 40; },\n" \
    "  { network = \"10.0.0.0/8\"; rule = \"msgs\"; limit = 20; },\n" \
    "  { network = \"2001:db8:5::/48\"; rule = \"msgs\"; limit = 35; },\n" \
    "  { network = \"2001:db8::/32\"; rule = \"msgs\"; limit = 25; },\n" \
    "  { domain = \"example.org\"; rule = \"msgs\"; limit = 50; },\n" \
    "  { domain = \"sender.example\"; rule = \"msgs\"; limit = 60; },\n" \
    "  { user = \"alice@example.org\"; rule = \"msgs\"; limit = 100; },\n" \
    "  { user = \"bob@example.org\"; rule = \"rcpts\"; limit = 999; }\n );\n};\n"

/* limit_of - rules_limit_for of a rule by name */
static uint64_t limit_of(const struct env *e, const char *rule,
			 const char *login, const char *sender,
			 const char *client)
{
    struct addr a;
    int i = cfg_rule_index(e->cfg, rule);

    ck_assert_int_ge(i, 0);
    ck_assert_int_eq(addr_parse(client, &a), 0);
    return rules_limit_for(e->cfg, (size_t) i, login, sender, &a);
}

START_TEST(test_override_precedence)
{
    struct env e;

    env_open(&e, OVERRIDES);
    /* user beats domain beats network */
    ck_assert_uint_eq(limit_of(&e, "msgs", "alice@example.org", NULL, "10.1.2.3"), 100);
    ck_assert_uint_eq(limit_of(&e, "msgs", "ALICE@Example.ORG", NULL, "10.1.2.3"), 100);
    ck_assert_uint_eq(limit_of(&e, "msgs", "carol@example.org", NULL, "10.1.2.3"), 50);
    ck_assert_uint_eq(limit_of(&e, "msgs", "carol@other.test", NULL, "10.1.2.3"), 40);
    ck_assert_uint_eq(limit_of(&e, "msgs", "carol@other.test", NULL, "198.51.100.1"), 10);
    ck_assert_uint_eq(limit_of(&e, "msgs", NULL, NULL, "198.51.100.1"), 10);
    env_close(&e);
}
END_TEST

START_TEST(test_override_longest_network)
{
    struct env e;

    env_open(&e, OVERRIDES);
    ck_assert_uint_eq(limit_of(&e, "msgs", "carol", NULL, "10.1.2.3"), 40);
    ck_assert_uint_eq(limit_of(&e, "msgs", "carol", NULL, "10.1.9.9"), 30);
    ck_assert_uint_eq(limit_of(&e, "msgs", "carol", NULL, "10.9.9.9"), 20);
    ck_assert_uint_eq(limit_of(&e, "msgs", "carol", NULL, "11.0.0.1"), 10);
    ck_assert_uint_eq(limit_of(&e, "msgs", "carol", NULL, "2001:db8:5::1"), 35);
    ck_assert_uint_eq(limit_of(&e, "msgs", "carol", NULL, "2001:db8:6::1"), 25);
    ck_assert_uint_eq(limit_of(&e, "msgs", NULL, NULL, "10.1.2.3"), 40);
    env_close(&e);
}
END_TEST

START_TEST(test_override_sender_domain)
{
    struct env e;

    env_open(&e, OVERRIDES);
    /* the MAIL FROM domain decides, not the login's */
    ck_assert_uint_eq(limit_of(&e, "msgs", "carol@example.org",
			       "news@sender.example", "11.0.0.1"), 60);
    ck_assert_uint_eq(limit_of(&e, "msgs", "carol@other.test",
			       "news@Sender.Example", "11.0.0.1"), 60);
    ck_assert_uint_eq(limit_of(&e, "msgs", "carol@other.test",
			       "carol@example.org", "11.0.0.1"), 50);
    /* no usable sender domain: the login's domain */
    ck_assert_uint_eq(limit_of(&e, "msgs", "carol@example.org", "", "11.0.0.1"), 50);
    ck_assert_uint_eq(limit_of(&e, "msgs", "carol@example.org", "postmaster",
			       "11.0.0.1"), 50);
    ck_assert_uint_eq(limit_of(&e, "msgs", "carol@example.org", "carol@",
			       "11.0.0.1"), 50);
    /* as the MTA hands it over, in angle brackets */
    ck_assert_uint_eq(limit_of(&e, "msgs", "carol@other.test",
			       "<news@sender.example>", "11.0.0.1"), 60);
    ck_assert_uint_eq(limit_of(&e, "msgs", "carol",
			       "<carol@example.org>", "11.0.0.1"), 50);
    ck_assert_uint_eq(limit_of(&e, "msgs", "carol@example.org", "<>",
			       "11.0.0.1"), 50);
    ck_assert_uint_eq(limit_of(&e, "msgs", "carol@example.org", "<carol@>",
			       "11.0.0.1"), 50);
    ck_assert_uint_eq(limit_of(&e, "msgs", "carol@example.org",
			       "<x@example.org.evil>", "11.0.0.1"), 10);
    /* a user override still beats the sender's domain */
    ck_assert_uint_eq(limit_of(&e, "msgs", "alice@example.org",
			       "news@sender.example", "11.0.0.1"), 100);
    env_close(&e);
}
END_TEST

START_TEST(test_override_other_rule)
{
    struct env e;

    env_open(&e, OVERRIDES);
    /* bob's override is for rcpts; for msgs his domain's applies */
    ck_assert_uint_eq(limit_of(&e, "msgs", "bob@example.org", NULL, "11.0.0.1"), 50);
    ck_assert_uint_eq(limit_of(&e, "rcpts", "bob@example.org", NULL, "11.0.0.1"), 999);
    /* no rcpts override for alice, her domain or her network */
    ck_assert_uint_eq(limit_of(&e, "rcpts", "alice@example.org", NULL, "10.1.2.3"), 100);
    env_close(&e);
}
END_TEST

START_TEST(test_override_engine)
{
    struct rules_verdict v;
    struct env e;
    uint32_t i;

    env_open(&e, OVERRIDES);
    for (i = 1; i <= 10; i++) {
	simple_tx(&e, "erin@other.test", "198.51.100.9", T0 + i, &v);
	expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
	simple_tx(&e, "alice@example.org", "198.51.100.9", T0 + i, &v);
	expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    }
    simple_tx(&e, "erin@other.test", "198.51.100.9", T0 + 11, &v);
    expect(&e, &v, CFG_ACTION_TEMPFAIL, "msgs", false);
    ck_assert_str_eq(v.reason, "11 messages in 1h (limit 10)");
    simple_tx(&e, "alice@example.org", "198.51.100.9", T0 + 11, &v);
    expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    /* a login without a domain gets its sender's, brackets and all */
    for (i = 1; i <= 11; i++) {
	struct tx t = {"news", "198.51.100.9", "<news@example.org>",
	    {"", 0, 0, 0, 0, 0}, ALL_CAPS, 1, 1000};

	run_tx(&e, &t, T0 + 20 + i, &v);
	expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    }
    env_close(&e);
}
END_TEST

/* --- classification, phases, replies, durations --------------------------- */

START_TEST(test_classify)
{
    static const struct {
	const char *login, *client;
	enum rules_class want;
	bool relayed;
    } cases[] = {
	/* a login through a trusted relay (webmail) is still judged */
	{"u", "10.9.1.1", RULES_CLASS_AUTHENTICATED, true},
	{NULL, "10.9.1.1", RULES_CLASS_TRUSTED, false},
	{"", "127.0.0.1", RULES_CLASS_TRUSTED, false},
	{"u", "10.1.1.1", RULES_CLASS_AUTHENTICATED, false},
	{"u", "198.51.100.1", RULES_CLASS_AUTHENTICATED, false},
	{"", "10.1.1.1", RULES_CLASS_INTERNAL, false},
	{NULL, "fd00::1", RULES_CLASS_INTERNAL, false},
	{NULL, "198.51.100.1", RULES_CLASS_EXTERNAL, false},
	{"", "2001:db8::1", RULES_CLASS_EXTERNAL, false},
    };
    struct env e;
    struct addr a;
    size_t i;

    env_open(&e, STATE "networks: { internal = [ \"10.0.0.0/8\", \"fd00::/8\" ]; "
	     "trusted = [ \"10.9.0.0/16\", \"127.0.0.0/8\" ]; };\n");
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	ck_assert_int_eq(addr_parse(cases[i].client, &a), 0);
	ck_assert_msg(rules_classify(e.cfg, cases[i].login, &a) == cases[i].want,
		      "case %zu: %s", i, rules_class_name(rules_classify(e.cfg,
						     cases[i].login, &a)));
	ck_assert_msg(rules_relayed(e.cfg, cases[i].login, &a)
		      == cases[i].relayed, "case %zu: relayed", i);
    }
    ck_assert_str_eq(rules_class_name(RULES_CLASS_TRUSTED), "trusted");
    ck_assert_str_eq(rules_class_name((enum rules_class) 99), "?");
    env_close(&e);
}
END_TEST

START_TEST(test_act_now)
{
    static const bool want[CFG_ACTION_COUNT][3] = {
	[CFG_ACTION_ACCEPT] = {false, false, false},
	[CFG_ACTION_TAG] = {false, false, true},
	[CFG_ACTION_QUARANTINE] = {false, false, true},
	[CFG_ACTION_TEMPFAIL] = {true, true, true},
	[CFG_ACTION_REJECT] = {true, true, true},
    };
    struct rules_verdict v;
    int a, p;

    for (a = 0; a < CFG_ACTION_COUNT; a++)
	for (p = RULES_PHASE_MAIL; p <= RULES_PHASE_EOM; p++) {
	    rules_verdict_init(&v);
	    v.action = (enum cfg_action) a;
	    ck_assert_msg(rules_act_now(&v, (enum rules_phase) p) == want[a][p],
			  "%s in phase %d", cfg_action_name(v.action), p);
	}
}
END_TEST

START_TEST(test_reply_codes)
{
    struct rules_verdict v;
    struct rules_reply r;
    struct env e;

    env_open(&e, STATE "milter: { reply_tempfail = \"Slow down\"; "
	     "reply_reject = \"Go away\"; };\n");
    rules_verdict_init(&v);
    v.action = CFG_ACTION_TEMPFAIL;
    rules_reply_for(e.cfg, &v, &r);
    ck_assert_str_eq(r.rcode, "451");
    ck_assert_str_eq(r.xcode, "4.7.1");
    ck_assert_str_eq(r.text, "Slow down");
    v.action = CFG_ACTION_REJECT;
    rules_reply_for(e.cfg, &v, &r);
    ck_assert_str_eq(r.rcode, "550");
    ck_assert_str_eq(r.xcode, "5.7.1");
    ck_assert_str_eq(r.text, "Go away");
    env_close(&e);
}
END_TEST

START_TEST(test_format_duration)
{
    static const struct {
	uint32_t s;
	const char *text;
    } cases[] = {
	{0, "0s"}, {1, "1s"}, {59, "59s"}, {60, "1m"}, {90, "1m30s"},
	{600, "10m"}, {3600, "1h"}, {5400, "1h30m"}, {86400, "1d"},
	{90061, "1d1h1m1s"}, {UINT32_MAX, "49710d6h28m15s"},
    };
    char buf[32], err[128];
    uint64_t ms;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	rules_format_duration(cases[i].s, buf, sizeof(buf));
	ck_assert_str_eq(buf, cases[i].text);
	/* what the engine writes, the configuration reads back */
	ck_assert_int_eq(cfg_parse_duration(buf, &ms, err, sizeof(err)), 0);
	ck_assert_uint_eq(ms, (uint64_t) cases[i].s * 1000);
    }
    /* a short buffer is cut, never overrun */
    memset(buf, 'x', sizeof(buf));
    rules_format_duration(90061, buf, 4);
    ck_assert_str_eq(buf, "1d1");
    ck_assert_int_eq(buf[4], 'x');
}
END_TEST

/* metrics_bulk_alone: the first bulk message of its hours on an hour
 * otherwise usual is judged without its own recipients; the smaller
 * messages of a bulk hour no further than the widened usual hour */
START_TEST(test_bulk_alone)
{
    struct rules_facts f = {.phase = RULES_PHASE_RCPT, .rcpts = 300};
    struct metrics_ctx mc = {.f = &f, .now = T0, .cls = RULES_CLASS_AUTHENTICATED};
    uint16_t noted = (uint16_t) (T0 / HOUR);

    ck_assert_uint_ne(noted, 0);
    /* within the widened hour: as it is */
    ck_assert_uint_eq(metrics_bulk_alone(&mc, 90, 75, 93, HOUR), 90);
    /* a newsletter of 300 on an hour of 10 before it */
    ck_assert_uint_eq(metrics_bulk_alone(&mc, 310, 75, 93, HOUR), 10);
    /* ... on an hour already past the usual one: a run, judged whole */
    ck_assert_uint_eq(metrics_bulk_alone(&mc, 400, 75, 93, HOUR), 400);
    /* ... the second bulk message of its hours: judged whole */
    mc.bulk_hour = noted;
    ck_assert_uint_eq(metrics_bulk_alone(&mc, 310, 75, 93, HOUR), 310);
    /* the owner's 8 after the newsletter let through: the widened hour */
    f.rcpts = 8;
    ck_assert_uint_eq(metrics_bulk_alone(&mc, 318, 75, 93, HOUR), 93);
    /* ... not once the newsletter's hour has left the window */
    mc.now = T0 + 3 * HOUR;
    ck_assert_uint_eq(metrics_bulk_alone(&mc, 318, 75, 93, HOUR), 318);
    /* a message of 50 or fewer with no bulk hour: as it is (a spam run) */
    mc.bulk_hour = 0, mc.now = T0, f.rcpts = 20;
    ck_assert_uint_eq(metrics_bulk_alone(&mc, 120, 75, 93, HOUR), 120);
}
END_TEST

/* test_bulk_messages - the bulk_messages metric: this message once past
 * 50 recipients, and the last one let through while its hour counts */
START_TEST(test_bulk_messages)
{
    struct rules_facts f = {.phase = RULES_PHASE_RCPT, .rcpts = 50};
    struct metrics_ctx mc = {.f = &f, .now = T0 + 30 * MIN,
			     .cls = RULES_CLASS_AUTHENTICATED};
    char ev[RULES_REASON_MAX];

    ck_assert(metrics_phase(CFG_METRIC_BULK_MESSAGES, RULES_PHASE_RCPT));
    ck_assert(!metrics_phase(CFG_METRIC_BULK_MESSAGES, RULES_PHASE_MAIL));
    /* 50 recipients so far: no bulk message yet, whatever was noted */
    mc.bulk_hour = (uint16_t) (T0 / HOUR - 3);
    ck_assert_uint_eq(metrics_eval(CFG_METRIC_BULK_MESSAGES, &mc, 12 * HOUR,
				   ev, sizeof(ev)), 0);
    /* the 51st: this one and the one let through three hours before */
    f.rcpts = 51;
    ck_assert_uint_eq(metrics_eval(CFG_METRIC_BULK_MESSAGES, &mc, 12 * HOUR,
				   ev, sizeof(ev)), 2);
    ck_assert_str_eq(ev, "2 bulk messages in 12h: 51 recipients so far, "
		     "and one let through in the hour from 05:00 UTC");
    /* ... its hour out of a 2-hour window: this one alone */
    ck_assert_uint_eq(metrics_eval(CFG_METRIC_BULK_MESSAGES, &mc, 2 * HOUR,
				   ev, sizeof(ev)), 1);
    ck_assert_str_eq(ev, "1 bulk message in 2h: 51 recipients so far");
    /* the hour from 20:00 the day before: its last half hour is in the
     * 12 hours to 08:30; the hour before it is not */
    mc.bulk_hour = (uint16_t) (T0 / HOUR - 12);
    ck_assert_uint_eq(metrics_eval(CFG_METRIC_BULK_MESSAGES, &mc, 12 * HOUR,
				   NULL, 0), 2);
    mc.bulk_hour = (uint16_t) (T0 / HOUR - 13);
    ck_assert_uint_eq(metrics_eval(CFG_METRIC_BULK_MESSAGES, &mc, 12 * HOUR,
				   NULL, 0), 1);
    /* none noted; and a client without a login counts none */
    mc.bulk_hour = 0;
    ck_assert_uint_eq(metrics_eval(CFG_METRIC_BULK_MESSAGES, &mc, 12 * HOUR,
				   NULL, 0), 1);
    mc.bulk_hour = (uint16_t) (T0 / HOUR), mc.cls = RULES_CLASS_EXTERNAL;
    ck_assert_uint_eq(metrics_eval(CFG_METRIC_BULK_MESSAGES, &mc, 12 * HOUR,
				   NULL, 0), 0);
}
END_TEST

/* test_newcomer_recipients_text - the evidence names the learning
 * period as configured (it said "first week" whatever learning_period
 * was), a newcomer's first day when that is shorter than a day; judged
 * at RCPT, where the login's record is not read (mc.user NULL) */
START_TEST(test_newcomer_recipients_text)
{
    static struct cfg cfg;
    static struct store_win win;
    struct rules_facts f = {.phase = RULES_PHASE_RCPT, .rcpts = 400};
    struct metrics_ctx mc = {.cfg = &cfg, .f = &f, .win = &win,
			     .now = T0, .cls = RULES_CLASS_AUTHENTICATED,
			     .unknown_place = true};
    char ev[RULES_REASON_MAX];

    ck_assert_int_eq(addr_parse("198.18.5.60", &f.client), 0);
    f.geo.asn = 64500, memcpy(f.geo.cc, "RU", 3);
    cfg.policy.learning_s = 14 * 86400, cfg.policy.learning_strangers = true;
    metrics_newcomer_recipients(&mc, 86400, ev, sizeof(ev));
    ck_assert_str_eq(ev, "0 recipients in 1d in the login's learning period"
		     " (its first 14d), from AS64500 (RU): neither network"
		     " nor country one of the site's");
    /* a learning period shorter than a day: the newcomer's first day */
    cfg.policy.learning_s = 12 * 3600;
    metrics_newcomer_recipients(&mc, 3600, ev, sizeof(ev));
    ck_assert_str_eq(ev, "0 recipients in 1h in the login's first day, from"
		     " AS64500 (RU): neither network nor country one of the"
		     " site's");
}
END_TEST

/* test_newcomer_line_text - newcomer_line_recipients counts the client
 * address's window (mc.client_win), not the login's (mc.win), only at a
 * line alone (mc.alone_line), and says so */
START_TEST(test_newcomer_line_text)
{
    static struct cfg cfg;
    static struct store_win win, cwin;
    struct rules_facts f = {.phase = RULES_PHASE_RCPT, .rcpts = 400};
    struct metrics_ctx mc = {.cfg = &cfg, .f = &f, .win = &win,
			     .client_win = &cwin, .now = T0,
			     .cls = RULES_CLASS_AUTHENTICATED,
			     .alone_line = true};
    char ev[RULES_REASON_MAX];

    ck_assert_int_eq(addr_parse("198.18.32.60", &f.client), 0);
    f.geo.asn = 65547, memcpy(f.geo.cc, "DE", 3);
    cfg.policy.learning_s = 7 * 86400, cfg.policy.learning_strangers = true;
    cwin.hour_epoch = win.hour_epoch = T0 / HOUR;
    cwin.h_rcpts[(T0 / HOUR) % STORE_HOUR_BUCKETS] = 2001;
    win.h_rcpts[(T0 / HOUR) % STORE_HOUR_BUCKETS] = 2500;
    ck_assert_uint_eq(metrics_newcomer_line_recipients(&mc, 86400, ev,
						       sizeof(ev)), 2001);
    ck_assert_str_eq(ev, "2001 recipients from the address in 1d in the"
		     " login's learning period (its first 7d), from AS65547"
		     " (DE): a line in a /24 (/48) fewer than 2 other logins"
		     " of the site vouched for in 30 days");
    /* not alone, or no address (relayed): 0 */
    mc.alone_line = false;
    ck_assert_uint_eq(metrics_newcomer_line_recipients(&mc, 86400, NULL, 0),
		      0);
    mc.alone_line = true, mc.client_win = NULL;
    ck_assert_uint_eq(metrics_newcomer_line_recipients(&mc, 86400, NULL, 0),
		      0);
}
END_TEST

/* rules_suite - the test cases */
static Suite *rules_suite(void)
{
    const TTest *const travel[] = {
	test_travel_radii_forgiven, test_travel_time_clamp,
	test_travel_far_fast, test_travel_same_place,
    };
    const TTest *const prefix[] = {
	test_prefix_metric, test_prefix_engine, test_familiar_memo,
	test_roaming_phone_memo,
    };
    const TTest *const override[] = {
	test_override_precedence, test_override_longest_network,
	test_override_sender_domain, test_override_other_rule,
	test_override_engine,
    };
    const TTest *const basics[] = {
	test_classify, test_act_now, test_reply_codes, test_format_duration,
	test_bulk_alone, test_bulk_messages, test_newcomer_recipients_text,
	test_newcomer_line_text,
    };
    Suite *s = suite_create("rules");

    add(s, "travel", travel, sizeof(travel) / sizeof(travel[0]));
    add(s, "prefix", prefix, sizeof(prefix) / sizeof(prefix[0]));
    add(s, "override", override, sizeof(override) / sizeof(override[0]));
    add(s, "basics", basics, sizeof(basics) / sizeof(basics[0]));
    return s;
}

int main(void)
{
    return check_run(rules_suite());
}
