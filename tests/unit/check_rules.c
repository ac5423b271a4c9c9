/*
 * check_rules - unit tests of the policy engine (policy/rules.c and
 * policy/metrics.c): travel speed, prefix grouping, override precedence,
 * classification and replies, metrics without data, hostile logins, the
 * action ladder and blocks.
 *
 * Each test loads a small libconfig text written to /tmp and opens a
 * private store there; both files are unlinked as soon as they are open,
 * so a failing (forked) test leaves nothing behind. Geography is built by
 * hand where the test is about the engine; main() also runs
 * tests/geoip/make-test-db.pl (under $RG_SRCDIR, default ".") into a
 * temporary directory for the tests that want real lookups.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cfg.h"
#include "geo.h"
#include "metrics.h"
#include "rules.h"
#include "store.h"
#include "check_main.h"

#define T0		1767600000u	/* 2026-01-05 08:00:00 UTC */
#define MIN		60u
#define HOUR		3600u
#define DAY		86400u
#define ERR_LEN		4096
#define PATH_LEN	1024
#define ALL_CAPS	(GEO_CAP_COUNTRY | GEO_CAP_ASN | GEO_CAP_LOCATION)
#define KMH_EPS		1e-6
#define HOSTILE_LEN	2000
#define SHARED_LEN	1000
#define DIRTY_BYTES	65536
#define ASCII_DEL	0x7f

/* The state section every configuration here shares. */
#define STATE "state: { max_users = 1000; max_clients = 1000; " \
    "ips_per_user = 16; lock_timeout = \"1s\"; };\n"

struct env {
    struct cfg *cfg;
    STORE *st;
};

/* One transaction: MAIL, RCPT per recipient, EOM. */
struct tx {
    const char *login;		/* NULL: none */
    const char *client;
    const char *sender;
    struct store_geo geo;
    unsigned caps;
    unsigned rcpts;
    uint64_t bytes;
};

static char geo_dir[PATH_LEN];
static int geo_ready;

/* Places, in the store's centidegrees (the plan's coordinates). */
static const struct store_place berlin = {T0, 5252, 1341, 20};
static const struct store_place potsdam = {T0, 5239, 1306, 20};
static const struct store_place brasilia = {T0, -1579, -4788, 50};

/* env_open - a configuration from text and a fresh store */
static void env_open(struct env *e, const char *text)
{
    char cpath[] = "/tmp/rg-check-rules-cfg-XXXXXX";
    char spath[] = "/tmp/rg-check-rules-st-XXXXXX";
    char err[ERR_LEN];
    struct store_params sp;
    FILE *f;
    int fd;

    fd = mkstemp(cpath);
    ck_assert_int_ge(fd, 0);
    f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    e->cfg = cfg_load(cpath, err, sizeof(err));
    unlink(cpath);
    ck_assert_msg(e->cfg != NULL, "configuration: %s", err);
    fd = mkstemp(spath);
    ck_assert_int_ge(fd, 0);
    close(fd);
    unlink(spath);
    store_params_from_cfg(&e->cfg->state, STORE_CREATE, 0600, &sp);
    sp.path = spath;
    ck_assert_msg(store_open(&sp, &e->st, err, sizeof(err)) == STORE_OK,
		  "store: %s", err);
    unlink(spath);
}

/* env_close - release the configuration and the store */
static void env_close(struct env *e)
{
    store_close(e->st);
    cfg_free(e->cfg);
}

/* facts_for - the facts of a transaction's MAIL phase */
static void facts_for(const struct tx *t, struct rules_facts *f)
{
    memset(f, 0, sizeof(*f));
    f->phase = RULES_PHASE_MAIL;
    f->login = t->login;
    f->sender = t->sender;
    ck_assert_msg(addr_parse(t->client, &f->client) == 0, "bad address %s",
		  t->client);
    f->geo = t->geo;
    f->geo_caps = t->caps;
}

/* run_tx - a whole transaction as an MTA drives it; the last phase run */
static enum rules_phase run_tx(const struct env *e, const struct tx *t,
			       uint32_t now, struct rules_verdict *v)
{
    struct rules_facts f;
    unsigned i;

    facts_for(t, &f);
    ck_assert_int_eq(rules_judge(e->cfg, e->st, &f, now, v), STORE_OK);
    if (rules_act_now(v, f.phase))
	return f.phase;
    for (i = 1; i <= t->rcpts; i++) {
	f.phase = RULES_PHASE_RCPT;
	f.rcpts = i;
	ck_assert_int_eq(rules_judge(e->cfg, e->st, &f, now, v), STORE_OK);
	if (rules_act_now(v, f.phase))
	    return f.phase;
    }
    f.phase = RULES_PHASE_EOM;
    f.bytes = t->bytes;
    f.qid = "CHECKQID";
    ck_assert_int_eq(rules_judge(e->cfg, e->st, &f, now, v), STORE_OK);
    return f.phase;
}

/* simple_tx - one recipient, no geography */
static void simple_tx(const struct env *e, const char *login,
		      const char *client, uint32_t now, struct rules_verdict *v)
{
    struct tx t = {login, client, NULL, {"", 0, 0, 0, 0, 0}, ALL_CAPS, 1,
	1000};

    run_tx(e, &t, now, v);
}

/* expect - a verdict's action, deciding rule (or NULL) and origin */
static void expect(const struct env *e, const struct rules_verdict *v,
		   enum cfg_action a, const char *rule, bool from_block)
{
    ck_assert_msg(v->action == a, "action %s, expected %s (%s)",
		  cfg_action_name(v->action), cfg_action_name(a), v->reason);
    if (rule == NULL)
	ck_assert_int_eq(v->rule, -1);
    else {
	ck_assert_int_ge(v->rule, 0);
	ck_assert_str_eq(e->cfg->policy.rules[v->rule].name, rule);
    }
    ck_assert_msg(v->from_block == from_block, "from_block %d (%s)",
		  v->from_block, v->reason);
}

/* geo_of - a hand-built GeoIP answer */
static struct store_geo geo_of(const char *cc, uint32_t asn,
			       const struct store_place *p)
{
    struct store_geo g;

    memset(&g, 0, sizeof(g));
    snprintf(g.cc, sizeof(g.cc), "%s", cc);
    g.asn = asn;
    if (p != NULL) {
	g.lat_c = p->lat_c, g.lon_c = p->lon_c, g.acc_km = p->acc_km;
	g.has_loc = 1;
    }
    return g;
}

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
    } cases[] = {
	{"u", "10.9.1.1", RULES_CLASS_TRUSTED},
	{NULL, "127.0.0.1", RULES_CLASS_TRUSTED},
	{"u", "10.1.1.1", RULES_CLASS_AUTHENTICATED},
	{"u", "198.51.100.1", RULES_CLASS_AUTHENTICATED},
	{"", "10.1.1.1", RULES_CLASS_INTERNAL},
	{NULL, "fd00::1", RULES_CLASS_INTERNAL},
	{NULL, "198.51.100.1", RULES_CLASS_EXTERNAL},
	{"", "2001:db8::1", RULES_CLASS_EXTERNAL},
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

/* --- metrics without data ------------------------------------------------- */

#define GEO_RULES STATE "policy: { learning_period = \"0s\"; rules = (\n" \
    " { name = \"many-countries\"; applies_to = \"authenticated\"; " \
    "metric = \"distinct_countries\"; window = \"1h\"; limit = 1; action = \"tempfail\"; },\n" \
    " { name = \"new-country\"; applies_to = \"authenticated\"; " \
    "metric = \"new_country\"; action = \"tag\"; },\n" \
    " { name = \"impossible-travel\"; applies_to = \"authenticated\"; " \
    "metric = \"travel_kmh\"; limit = 1000; action = \"quarantine\"; },\n" \
    " { name = \"many-providers\"; applies_to = \"authenticated\"; " \
    "metric = \"distinct_asns\"; window = \"1h\"; limit = 2; action = \"tag\"; }\n" \
    "); };\n"

/* trip - a login from each place in turn, a minute apart: the last
 * verdict, and the strongest action of all */
static enum cfg_action trip(const struct env *e, const char *login,
			    const struct store_geo *geo, size_t n,
			    unsigned caps, struct rules_verdict *v)
{
    static const char *const ips[] = {
	"198.18.1.1", "198.18.2.1", "198.18.3.1", "198.18.4.1",
    };
    enum cfg_action most = CFG_ACTION_ACCEPT;
    size_t i;

    ck_assert_uint_le(n, sizeof(ips) / sizeof(ips[0]));
    for (i = 0; i < n; i++) {
	struct tx t = {login, ips[i], NULL, geo[i], caps, 1, 1000};

	run_tx(e, &t, T0 + (uint32_t) i * MIN, v);
	most = v->action > most ? v->action : most;
    }
    return most;
}

START_TEST(test_no_country_caps)
{
    struct store_geo g[2] = {geo_of("BR", 0, NULL), geo_of("CN", 0, NULL)};
    struct rules_verdict v;
    struct env e;

    env_open(&e, GEO_RULES);
    /* the facts name countries, but no country database is loaded */
    ck_assert_int_eq(trip(&e, "ann", g, 2, GEO_CAP_ASN | GEO_CAP_LOCATION, &v),
		     CFG_ACTION_ACCEPT);
    /* the same trip with the data: both country rules fire */
    (void) trip(&e, "ben", g, 1, GEO_CAP_COUNTRY, &v);
    expect(&e, &v, CFG_ACTION_TAG, "new-country", false);
    (void) trip(&e, "cid", g, 2, GEO_CAP_COUNTRY, &v);
    expect(&e, &v, CFG_ACTION_TEMPFAIL, "many-countries", false);
    env_close(&e);
}
END_TEST

START_TEST(test_no_location)
{
    struct store_geo g[2] = {geo_of("", 0, &berlin), geo_of("", 0, &brasilia)};
    struct rules_verdict v;
    struct env e;

    env_open(&e, GEO_RULES);
    /* coordinates in the facts, but no city database */
    ck_assert_int_eq(trip(&e, "ann", g, 2, GEO_CAP_COUNTRY | GEO_CAP_ASN, &v),
		     CFG_ACTION_ACCEPT);
    /* a city database without a location for these addresses */
    g[0].has_loc = g[1].has_loc = 0;
    ck_assert_int_eq(trip(&e, "ben", g, 2, ALL_CAPS, &v), CFG_ACTION_ACCEPT);
    /* with a location: Berlin to Brasilia in a minute */
    g[0].has_loc = g[1].has_loc = 1;
    (void) trip(&e, "cid", g, 2, ALL_CAPS, &v);
    expect(&e, &v, CFG_ACTION_QUARANTINE, "impossible-travel", false);
    ck_assert_msg(strstr(v.reason, "km/h") != NULL, "%s", v.reason);
    env_close(&e);
}
END_TEST

/* open_geo - the generated databases, any subset */
static GEO *open_geo(bool city, bool country, bool asn)
{
    char c[PATH_LEN + 32], k[PATH_LEN + 32], a[PATH_LEN + 32], err[512];
    struct geo_paths p = {city ? c : NULL, country ? k : NULL, asn ? a : NULL};
    unsigned missing = 0;
    GEO *g = NULL;

    ck_assert_msg(geo_ready, "GeoIP test databases were not generated");
    snprintf(c, sizeof(c), "%s/GeoLite2-City.mmdb", geo_dir);
    snprintf(k, sizeof(k), "%s/GeoLite2-Country.mmdb", geo_dir);
    snprintf(a, sizeof(a), "%s/GeoLite2-ASN.mmdb", geo_dir);
    ck_assert_msg(geo_open(&p, &g, &missing, err, sizeof(err)) == GEO_OK,
		  "geo_open: %s", err);
    ck_assert_uint_eq(missing, 0);
    return g;
}

/* geo_tx - a transaction with the generated databases' answer */
static void geo_tx(const struct env *e, const GEO *g, const char *login,
		   const char *client, uint32_t now, struct rules_verdict *v)
{
    struct tx t = {login, client, NULL, {"", 0, 0, 0, 0, 0}, geo_caps(g), 1,
	1000};
    struct geo_info gi;
    struct addr a;

    ck_assert_int_eq(addr_parse(client, &a), 0);
    (void) geo_lookup(g, &a, &gi);
    rules_geo_facts(&gi, &t.geo);
    run_tx(e, &t, now, v);
}

START_TEST(test_real_geo_asn_only)
{
    static const char *const ips[] = {
	"198.18.3.9", "198.18.1.9", "198.18.2.9", "198.18.4.9",
    };
    GEO *g = open_geo(false, false, true);
    struct rules_verdict v;
    struct env e;
    uint32_t i;

    env_open(&e, GEO_RULES);
    ck_assert_uint_eq(geo_caps(g), GEO_CAP_ASN);
    for (i = 0; i < 3; i++) {
	geo_tx(&e, g, "ann", ips[i], T0 + i * MIN, &v);
	if (i < 2)
	    expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    }
    /* only the provider count has its data; it is the one that fires */
    expect(&e, &v, CFG_ACTION_TAG, "many-providers", false);
    ck_assert_str_eq(v.reason, "3 providers in 1h: AS64496,AS64497,AS64498 (limit 2)");
    geo_tx(&e, g, "ann", ips[3], T0 + 3 * MIN, &v);
    expect(&e, &v, CFG_ACTION_TAG, "many-providers", false);
    env_close(&e);
    geo_close(g);
}
END_TEST

START_TEST(test_real_geo_travel)
{
    GEO *g = open_geo(true, false, true);
    struct rules_verdict v;
    struct env e;

    env_open(&e, STATE "policy: { rules = ( { name = \"impossible-travel\"; "
	     "applies_to = \"authenticated\"; metric = \"travel_kmh\"; "
	     "limit = 1000; action = \"quarantine\"; } ); };\n");
    geo_tx(&e, g, "tom", "198.18.3.10", T0, &v);	/* Berlin */
    expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    geo_tx(&e, g, "tom", "198.18.13.10", T0 + 10, &v);	/* Potsdam */
    expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    geo_tx(&e, g, "tom", "198.18.3.11", T0 + 20, &v);	/* Berlin */
    expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    geo_tx(&e, g, "tom", "2001:db8:1::5", T0 + 40 * MIN, &v);	/* Brasilia */
    expect(&e, &v, CFG_ACTION_QUARANTINE, "impossible-travel", false);
    ck_assert_msg(strstr(v.reason, "km from the login 39m40s before")
		  != NULL, "%s", v.reason);
    env_close(&e);
    geo_close(g);
}
END_TEST

/* --- hostile logins -------------------------------------------------------- */

#define HOSTILE_RULES STATE "policy: { rules = (\n" \
    " { name = \"user-messages\"; applies_to = \"authenticated\"; " \
    "metric = \"messages\"; window = \"1h\"; limit = 3; action = \"tempfail\"; },\n" \
    " { name = \"many-addresses\"; applies_to = \"authenticated\"; " \
    "metric = \"distinct_ips\"; window = \"1h\"; limit = 10; action = \"quarantine\"; },\n" \
    " { name = \"one-ip-many-users\"; applies_to = \"any\"; " \
    "metric = \"users_per_ip\"; window = \"1h\"; limit = 5; action = \"reject\"; }\n" \
    ");\n overrides = ( { domain = \"example.org\"; rule = \"user-messages\"; " \
    "limit = 4; } ); };\n"

/* hostile - 2000 bytes of control and high bytes, no NUL, CR or LF */
static void hostile(char *buf, unsigned salt, size_t from)
{
    size_t i;

    for (i = from; i < HOSTILE_LEN; i++) {
	unsigned char c = (unsigned char) (1 + (i * 7 + salt) % 254);

	buf[i] = (char) (c == '\r' || c == '\n' ? ASCII_DEL : c);
    }
    buf[HOSTILE_LEN] = 0;
}

/* stored_login_sane - the user entry exists, bounded and printable */
static void stored_login_sane(const struct env *e, const char *login,
			      struct store_user *u)
{
    size_t i, n;

    ck_assert_int_eq(store_user_get(e->st, login, T0 + MIN, u), STORE_OK);
    n = strnlen(u->login, sizeof(u->login));
    ck_assert_uint_lt(n, STORE_LOGIN_MAX);
    ck_assert_uint_gt(n, 0);
    for (i = 0; i < n; i++)
	ck_assert_msg((unsigned char) u->login[i] >= ' '
		      && u->login[i] != ASCII_DEL, "byte %zu is 0x%02x", i,
		      (unsigned char) u->login[i]);
}

START_TEST(test_hostile_login)
{
    static char a[HOSTILE_LEN + 1];
    struct store_user u;
    struct rules_verdict v;
    struct env e;
    uint32_t i;

    hostile(a, 0, 0);
    ck_assert_uint_eq(strlen(a), HOSTILE_LEN);
    ck_assert_ptr_null(strpbrk(a, "\r\n"));
    env_open(&e, HOSTILE_RULES);
    for (i = 0; i < 3; i++) {
	struct tx t = {a, "198.51.100.20", a, geo_of("NL", 64510, NULL),
	    ALL_CAPS, 3, 2000};

	ck_assert_int_eq(run_tx(&e, &t, T0 + i, &v), RULES_PHASE_EOM);
	expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
	ck_assert_int_eq(v.cls, RULES_CLASS_AUTHENTICATED);
	ck_assert_int_eq(v.status, STORE_OK);
    }
    simple_tx(&e, a, "198.51.100.20", T0 + 3, &v);
    expect(&e, &v, CFG_ACTION_TEMPFAIL, "user-messages", false);
    ck_assert_uint_lt(strnlen(v.reason, sizeof(v.reason)), sizeof(v.reason));
    stored_login_sane(&e, a, &u);
    ck_assert_uint_eq(store_win_sum(&u.win, STORE_MSGS, T0 + 3, HOUR), 3);
    ck_assert_uint_eq(store_win_sum(&u.win, STORE_RCPTS, T0 + 3, HOUR), 9);
    env_close(&e);
}
END_TEST

START_TEST(test_long_logins_distinct)
{
    static char a[HOSTILE_LEN + 1], b[HOSTILE_LEN + 1];
    struct store_user ua, ub;
    struct rules_verdict v;
    struct env e;
    uint32_t i;

    hostile(a, 0, 0);
    memcpy(b, a, SHARED_LEN);
    hostile(b, 1, SHARED_LEN);
    ck_assert(memcmp(a, b, SHARED_LEN) == 0 && strcmp(a, b) != 0);
    env_open(&e, HOSTILE_RULES);
    for (i = 0; i < 3; i++) {
	simple_tx(&e, a, "198.51.100.21", T0 + i, &v);
	expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    }
    simple_tx(&e, b, "198.51.100.21", T0 + 3, &v);
    expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    simple_tx(&e, a, "198.51.100.21", T0 + 4, &v);
    expect(&e, &v, CFG_ACTION_TEMPFAIL, "user-messages", false);
    simple_tx(&e, b, "198.51.100.21", T0 + 5, &v);
    expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    stored_login_sane(&e, a, &ua);
    stored_login_sane(&e, b, &ub);
    ck_assert_str_ne(ua.login, ub.login);
    ck_assert_uint_eq(store_win_sum(&ua.win, STORE_MSGS, T0 + MIN, HOUR), 3);
    ck_assert_uint_eq(store_win_sum(&ub.win, STORE_MSGS, T0 + MIN, HOUR), 2);
    env_close(&e);
}
END_TEST

/* --- the ladder and blocks ------------------------------------------------- */

/* A rule on messages that fires on the first message. */
#define FIRES(name, action) " { name = \"" name "\"; applies_to = " \
    "\"authenticated\"; metric = \"messages\"; window = \"1h\"; limit = 0; " \
    "action = \"" action "\"; }"

START_TEST(test_strongest_wins)
{
    struct rules_verdict v;
    struct env e;

    env_open(&e, STATE "policy: { rules = (\n" FIRES("t", "tag") ",\n"
	     FIRES("tf", "tempfail") ",\n" FIRES("q", "quarantine") ",\n"
	     FIRES("a", "accept") ",\n" FIRES("t2", "tag") "\n); };\n");
    simple_tx(&e, "sam", "198.51.100.30", T0, &v);
    expect(&e, &v, CFG_ACTION_TEMPFAIL, "tf", false);
    ck_assert_str_eq(v.reason, "1 messages in 1h (limit 0)");
    env_close(&e);
}
END_TEST

START_TEST(test_tie_first_rule)
{
    struct rules_verdict v;
    struct env e;

    env_open(&e, STATE "policy: { rules = (\n" FIRES("t", "tag") ",\n"
	     FIRES("q-first", "quarantine") ",\n"
	     FIRES("q-second", "quarantine") "\n); };\n");
    ck_assert_int_eq(run_tx(&e, &(struct tx) {"sam", "198.51.100.30", NULL,
			    {"", 0, 0, 0, 0, 0}, ALL_CAPS, 2, 1000}, T0, &v),
		     RULES_PHASE_EOM);
    expect(&e, &v, CFG_ACTION_QUARANTINE, "q-first", false);
    ck_assert(rules_act_now(&v, RULES_PHASE_EOM));
    env_close(&e);
}
END_TEST

#define BLOCKS STATE "policy: { rules = (\n" \
    " { name = \"spread\"; applies_to = \"authenticated\"; metric = \"distinct_ips\"; " \
    "window = \"1m\"; limit = 1; action = \"tempfail\"; block_for = \"10m\"; },\n" \
    " { name = \"one-ip-many-users\"; applies_to = \"any\"; metric = \"users_per_ip\"; " \
    "window = \"1h\"; limit = 2; action = \"reject\"; block_for = \"1d\"; }\n); };\n"

START_TEST(test_block_next_tx)
{
    struct rules_verdict v;
    struct env e;
    uint32_t until = T0 + 10 + 10 * MIN;

    env_open(&e, BLOCKS);
    simple_tx(&e, "kim", "198.18.3.1", T0, &v);
    expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    simple_tx(&e, "kim", "198.18.4.1", T0 + 10, &v);
    expect(&e, &v, CFG_ACTION_TEMPFAIL, "spread", false);
    ck_assert(v.block_set);
    ck_assert_uint_eq(v.block_until, until);
    /* the next transaction, from the usual address, meets the block */
    simple_tx(&e, "kim", "198.18.3.1", T0 + 5 * MIN, &v);
    expect(&e, &v, CFG_ACTION_TEMPFAIL, "spread", true);
    ck_assert_str_eq(v.reason, "login blocked for 5m10s more by rule: spread");
    ck_assert(!v.block_set);
    simple_tx(&e, "kim", "198.18.3.1", until - 1, &v);
    expect(&e, &v, CFG_ACTION_TEMPFAIL, "spread", true);
    env_close(&e);
}
END_TEST

START_TEST(test_block_expires)
{
    struct store_user u;
    struct rules_verdict v;
    struct env e;
    uint32_t until = T0 + 10 + 10 * MIN;

    env_open(&e, BLOCKS);
    simple_tx(&e, "kim", "198.18.3.1", T0, &v);
    simple_tx(&e, "kim", "198.18.4.1", T0 + 10, &v);
    ck_assert(v.block_set);
    simple_tx(&e, "kim", "198.18.3.1", until, &v);
    expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    ck_assert_str_eq(v.reason, "");
    ck_assert_int_eq(store_user_get(e.st, "kim", until, &u), STORE_OK);
    ck_assert_uint_eq(u.block.until, 0);
    env_close(&e);
}
END_TEST

START_TEST(test_client_block)
{
    struct rules_verdict v;
    struct env e;

    env_open(&e, BLOCKS);
    simple_tx(&e, "u1", "198.51.100.7", T0, &v);
    simple_tx(&e, "u2", "198.51.100.7", T0 + 1, &v);
    expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    simple_tx(&e, "u3", "198.51.100.7", T0 + 2, &v);
    expect(&e, &v, CFG_ACTION_REJECT, "one-ip-many-users", false);
    ck_assert_uint_eq(v.block_until, T0 + 2 + DAY);
    /* the host is blocked for any login, and without one */
    simple_tx(&e, "u9", "198.51.100.7", T0 + HOUR + MIN, &v);
    expect(&e, &v, CFG_ACTION_REJECT, "one-ip-many-users", true);
    ck_assert_str_eq(v.reason, "client blocked for 22h59m2s more by rule: "
		     "one-ip-many-users");
    simple_tx(&e, NULL, "198.51.100.7", T0 + HOUR + MIN, &v);
    expect(&e, &v, CFG_ACTION_REJECT, "one-ip-many-users", true);
    /* the logins themselves are not */
    simple_tx(&e, "u1", "198.51.100.8", T0 + HOUR + MIN, &v);
    expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    env_close(&e);
}
END_TEST

START_TEST(test_rule_keeps_admin_block)
{
    struct store_block b = {T0 + DAY, CFG_ACTION_REJECT, STORE_BY_ADMIN, 0,
	"stolen"};
    struct store_user u;
    struct rules_verdict v;
    struct env e;

    env_open(&e, BLOCKS);
    ck_assert_int_eq(store_user_block(e.st, "max", &b, T0), STORE_OK);
    /* the thief keeps trying; the rule fires under the admin's block */
    simple_tx(&e, "max", "198.18.3.1", T0 + 1, &v);
    simple_tx(&e, "max", "198.18.4.1", T0 + 2, &v);
    expect(&e, &v, CFG_ACTION_REJECT, NULL, true);
    ck_assert_str_eq(v.reason, "login blocked for 23h59m58s more by admin: stolen");
    ck_assert_int_eq(store_user_get(e.st, "max", T0 + 3, &u), STORE_OK);
    ck_assert_uint_eq(u.block.setby, STORE_BY_ADMIN);
    ck_assert_uint_eq(u.block.until, T0 + DAY);
    ck_assert_uint_eq(u.block.action, CFG_ACTION_REJECT);
    /* past the rule's ten minutes the admin's block still holds */
    simple_tx(&e, "max", "198.18.3.1", T0 + HOUR, &v);
    expect(&e, &v, CFG_ACTION_REJECT, NULL, true);
    env_close(&e);
}
END_TEST

START_TEST(test_rule_keeps_longer_block)
{
    struct store_user u;
    struct rules_verdict v;
    struct env e;
    uint32_t t1 = T0 + 20 * MIN;

    env_open(&e, STATE "policy: { rules = (\n"
	     " { name = \"busy\"; applies_to = \"authenticated\"; metric = \"messages\"; "
	     "window = \"10m\"; limit = 2; action = \"tempfail\"; block_for = \"1d\"; },\n"
	     " { name = \"spread\"; applies_to = \"authenticated\"; metric = \"distinct_ips\"; "
	     "window = \"1m\"; limit = 1; action = \"tempfail\"; block_for = \"10m\"; }\n"
	     "); };\n");
    simple_tx(&e, "lou", "198.18.3.1", T0, &v);
    simple_tx(&e, "lou", "198.18.3.1", T0 + 1, &v);
    simple_tx(&e, "lou", "198.18.3.1", T0 + 2, &v);
    expect(&e, &v, CFG_ACTION_TEMPFAIL, "busy", false);
    ck_assert_uint_eq(v.block_until, T0 + 2 + DAY);
    /* later only the ten-minute rule fires: it must not cut the day short */
    simple_tx(&e, "lou", "198.18.4.1", t1, &v);
    simple_tx(&e, "lou", "198.18.5.1", t1 + 1, &v);
    expect(&e, &v, CFG_ACTION_TEMPFAIL, "busy", true);
    ck_assert(!v.block_set);
    ck_assert_int_eq(store_user_get(e.st, "lou", t1 + 2, &u), STORE_OK);
    ck_assert_uint_eq(u.block.until, T0 + 2 + DAY);
    ck_assert_uint_eq(u.block.rule, 0);
    simple_tx(&e, "lou", "198.18.3.1", T0 + 2 * HOUR, &v);
    expect(&e, &v, CFG_ACTION_TEMPFAIL, "busy", true);
    env_close(&e);
}
END_TEST

START_TEST(test_both_targets_blocked)
{
    struct rules_verdict v;
    struct env e;

    /* the client's block comes first and is the longer one */
    env_open(&e, STATE "policy: { rules = (\n"
	     " { name = \"one-ip-many-users\"; applies_to = \"any\"; metric = \"users_per_ip\"; "
	     "window = \"1h\"; limit = 1; action = \"reject\"; block_for = \"1d\"; },\n"
	     " { name = \"spread\"; applies_to = \"authenticated\"; metric = \"distinct_ips\"; "
	     "window = \"10m\"; limit = 1; action = \"tempfail\"; block_for = \"1h\"; }\n"
	     "); };\n");
    simple_tx(&e, "vic", "198.18.3.1", T0, &v);
    simple_tx(&e, "oth", "198.18.4.1", T0 + 1, &v);
    expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    simple_tx(&e, "vic", "198.18.4.1", T0 + 2, &v);
    expect(&e, &v, CFG_ACTION_REJECT, "one-ip-many-users", false);
    /* both fired: the host and the login are blocked */
    simple_tx(&e, "vic", "198.18.3.1", T0 + 30 * MIN, &v);
    expect(&e, &v, CFG_ACTION_TEMPFAIL, "spread", true);
    simple_tx(&e, "new", "198.18.4.1", T0 + 30 * MIN, &v);
    expect(&e, &v, CFG_ACTION_REJECT, "one-ip-many-users", true);
    env_close(&e);
}
END_TEST

/* dirty_stack - leave a recognisable pattern where the next call's frame
 * will be, so reading an unset local shows */
static void __attribute__((noinline)) dirty_stack(void)
{
    volatile unsigned char junk[DIRTY_BYTES];
    size_t i;

    for (i = 0; i < sizeof(junk); i++)
	junk[i] = 0xa5;
}

START_TEST(test_rcpt_after_reset)
{
    struct tx t = {"rita", "198.18.3.1", NULL, {"", 0, 0, 0, 0, 0}, ALL_CAPS,
	1, 1000};
    struct rules_facts f;
    struct rules_verdict v;
    struct env e;

    env_open(&e, HOSTILE_RULES);
    facts_for(&t, &f);
    ck_assert_int_eq(rules_judge(e.cfg, e.st, &f, T0, &v), STORE_OK);
    /* an admin resets both entries between MAIL and RCPT (or they are
     * evicted): the engine must judge from empty state, not stale stack */
    ck_assert_int_eq(store_user_reset(e.st, "rita", T0), STORE_OK);
    ck_assert_int_eq(store_client_reset(e.st, &f.client, T0), STORE_OK);
    f.phase = RULES_PHASE_RCPT;
    f.rcpts = 1;
    dirty_stack();
    ck_assert_int_eq(rules_judge(e.cfg, e.st, &f, T0, &v), STORE_OK);
    expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    ck_assert_str_eq(v.reason, "");
    /* the same with only the client gone */
    f.phase = RULES_PHASE_MAIL;
    ck_assert_int_eq(rules_judge(e.cfg, e.st, &f, T0, &v), STORE_OK);
    ck_assert_int_eq(store_client_reset(e.st, &f.client, T0), STORE_OK);
    f.phase = RULES_PHASE_RCPT;
    dirty_stack();
    ck_assert_int_eq(rules_judge(e.cfg, e.st, &f, T0, &v), STORE_OK);
    expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    env_close(&e);
}
END_TEST

/* --- main ------------------------------------------------------------------ */

/* build_geo - run the generator into a fresh temporary directory */
static int build_geo(void)
{
    const char *src = getenv("RG_SRCDIR"), *tmp = getenv("TMPDIR");
    char script[PATH_LEN + 64];
    pid_t pid;
    int status;

    snprintf(geo_dir, sizeof(geo_dir), "%s/rg-check-rules-XXXXXX",
	     tmp != NULL && *tmp ? tmp : "/tmp");
    if (mkdtemp(geo_dir) == NULL) {
	fprintf(stderr, "check_rules: mkdtemp: %s\n", strerror(errno));
	geo_dir[0] = 0;
	return -1;
    }
    snprintf(script, sizeof(script), "%s/tests/geoip/make-test-db.pl",
	     src != NULL && *src ? src : ".");
    if ((pid = fork()) < 0)
	return -1;
    if (pid == 0) {
	if (freopen("/dev/null", "w", stdout) == NULL)
	    _exit(127);
	execlp("perl", "perl", script, geo_dir, (char *) NULL);
	_exit(127);
    }
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status)
	|| WEXITSTATUS(status) != 0) {
	fprintf(stderr, "check_rules: %s failed\n", script);
	return -1;
    }
    return 0;
}

/* remove_geo - the generated files and their directory */
static void remove_geo(void)
{
    static const char *const names[] = {
	"GeoLite2-City.mmdb", "GeoLite2-Country.mmdb", "GeoLite2-ASN.mmdb",
    };
    char path[PATH_LEN + 32];
    size_t i;

    if (geo_dir[0] == 0)
	return;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
	snprintf(path, sizeof(path), "%s/%s", geo_dir, names[i]);
	unlink(path);
    }
    rmdir(geo_dir);
}

/* add - a TCase of tests */
static void add(Suite *s, const char *name, const TTest *const *t, size_t n)
{
    TCase *tc = tcase_create(name);
    size_t i;

    for (i = 0; i < n; i++)
	tcase_add_test(tc, t[i]);
    suite_add_tcase(s, tc);
}

static Suite *rules_suite(void)
{
    const TTest *const travel[] = {
	test_travel_radii_forgiven, test_travel_time_clamp,
	test_travel_far_fast, test_travel_same_place,
    };
    const TTest *const prefix[] = {test_prefix_metric, test_prefix_engine};
    const TTest *const override[] = {
	test_override_precedence, test_override_longest_network,
	test_override_sender_domain, test_override_other_rule,
	test_override_engine,
    };
    const TTest *const basics[] = {
	test_classify, test_act_now, test_reply_codes, test_format_duration,
    };
    const TTest *const nodata[] = {
	test_no_country_caps, test_no_location, test_real_geo_asn_only,
	test_real_geo_travel,
    };
    const TTest *const hostile_t[] = {
	test_hostile_login, test_long_logins_distinct, test_rcpt_after_reset,
    };
    const TTest *const ladder[] = {
	test_strongest_wins, test_tie_first_rule, test_block_next_tx,
	test_block_expires, test_client_block, test_rule_keeps_admin_block,
	test_rule_keeps_longer_block, test_both_targets_blocked,
    };
    Suite *s = suite_create("rules");

    add(s, "travel", travel, sizeof(travel) / sizeof(travel[0]));
    add(s, "prefix", prefix, sizeof(prefix) / sizeof(prefix[0]));
    add(s, "override", override, sizeof(override) / sizeof(override[0]));
    add(s, "basics", basics, sizeof(basics) / sizeof(basics[0]));
    add(s, "nodata", nodata, sizeof(nodata) / sizeof(nodata[0]));
    add(s, "hostile", hostile_t, sizeof(hostile_t) / sizeof(hostile_t[0]));
    add(s, "ladder", ladder, sizeof(ladder) / sizeof(ladder[0]));
    return s;
}

int main(void)
{
    int rc;

    geo_ready = build_geo() == 0;
    rc = check_run(rules_suite());
    remove_geo();
    return rc;
}
