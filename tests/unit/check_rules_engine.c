/*
 * check_rules_engine - unit tests of the policy engine (policy/rules.c and
 * policy/metrics.c) judging whole transactions: metrics without data
 * (hand-built and real GeoIP answers), hostile logins, a reset between
 * MAIL and RCPT, the action ladder and blocks.
 *
 * The building blocks (travel speed, prefixes, overrides, classification)
 * are tested by check_rules.c; the helpers both use are in rules_test.h.
 * main() runs tests/geoip/make-test-db.pl (under $RG_SRCDIR, default ".")
 * into a temporary directory for the tests that want real lookups; every
 * test runs forked.
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cfg.h"
#include "geo.h"
#include "rules.h"
#include "store.h"
#include "check_main.h"
#include "rules_test.h"

#define HOSTILE_LEN	2000
#define SHARED_LEN	1000
#define DIRTY_BYTES	65536
#define ASCII_DEL	0x7f

static char geo_dir[PATH_LEN];
static int geo_ready;

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

/* carrier_networks: hand-built carrier hubs (200 km, as MaxMind's
 * CGNAT ranges) of two German carriers; coarse_km is off by default */
#define POOL_RULES STATE "policy: { coarse_km = 100; rules = (\n" \
    " { name = \"carrier-hopping\"; applies_to = \"authenticated\"; " \
    "metric = \"carrier_networks\"; window = \"1h\"; limit = 1; action = \"quarantine\"; }\n" \
    "); };\n"
#define POOL_RULES_TEMPFAIL STATE "policy: { coarse_km = 100; rules = (\n" \
    " { name = \"carrier-hopping\"; applies_to = \"authenticated\"; " \
    "metric = \"carrier_networks\"; window = \"1h\"; limit = 1; action = \"tempfail\"; }\n" \
    "); };\n"

START_TEST(test_carrier_pools_need_location)
{
    static const struct store_place fra = {T0, 5011, 868, 200};
    static const struct store_place muc = {T0, 4814, 1158, 200};
    static const struct store_place ham = {T0, 5355, 999, 200};
    struct store_geo g[3] = {geo_of("DE", 65540, &fra),
	geo_of("DE", 65548, &ham), geo_of("DE", 65540, &muc)};
    struct rules_verdict v;
    struct env e;

    env_open(&e, POOL_RULES);
    /* two carriers at two hubs: a phone and one other network */
    ck_assert_int_eq(trip(&e, "ann", g, 2, ALL_CAPS, &v), CFG_ACTION_ACCEPT);
    /* the third hub: held */
    (void) trip(&e, "ben", g, 3, ALL_CAPS, &v);
    expect(&e, &v, CFG_ACTION_QUARANTINE, "carrier-hopping", false);
    ck_assert_msg(strstr(v.reason, "2 carriers' pools in 1h at 3 hubs of DE")
		  != NULL, "%s", v.reason);
    /* the same without a city database (no hubs) or without countries */
    ck_assert_int_eq(trip(&e, "cid", g, 3, GEO_CAP_COUNTRY | GEO_CAP_ASN, &v),
		     CFG_ACTION_ACCEPT);
    ck_assert_int_eq(trip(&e, "dan", g, 3, GEO_CAP_LOCATION | GEO_CAP_ASN, &v),
		     CFG_ACTION_ACCEPT);
    /* fine places (home lines, 20 km) are no carrier's pool */
    g[0].acc_km = g[1].acc_km = g[2].acc_km = 20;
    ck_assert_int_eq(trip(&e, "eve", g, 3, ALL_CAPS, &v), CFG_ACTION_ACCEPT);
    env_close(&e);
    /* coarse_km = 0: no place is coarse, so no carrier's pool */
    env_open(&e, STATE "policy: { rules = ( { name = \"carrier-hopping\"; "
	     "applies_to = \"authenticated\"; metric = \"carrier_networks\"; "
	     "window = \"1h\"; limit = 1; action = \"quarantine\"; } ); };\n");
    g[0].acc_km = g[1].acc_km = g[2].acc_km = 200;
    ck_assert_int_eq(trip(&e, "fay", g, 3, ALL_CAPS, &v), CFG_ACTION_ACCEPT);
    env_close(&e);
}
END_TEST

/* pool_tx - one message of login from client at a hub of network asn */
static void pool_tx(const struct env *e, const char *login,
		    const char *client, uint32_t asn,
		    const struct store_place *hub, uint32_t now,
		    struct rules_verdict *v)
{
    struct tx t = {login, client, NULL, geo_of("DE", asn, hub), ALL_CAPS, 1,
	1000};

    run_tx(e, &t, now, v);
}

/* Three hubs of two German carriers' pools, and Tuesday 23:00 */
static const struct store_place hop_fra = {T0, 5011, 868, 200};
static const struct store_place hop_muc = {T0, 4814, 1158, 200};
static const struct store_place hop_ham = {T0, 5355, 999, 200};
#define HOP_LATE (T0 + DAY + 15 * HOUR)

/* hop_night - ann, learning, on carrier-hopping of action act (conf):
 * her phone on the first carrier on Monday; on Tuesday night the second
 * carrier's pool, then hers, let through (two hubs); the third hub, on
 * her own carrier, stopped and not noted; the second carrier again,
 * stopped and noted on its day; after midnight the second carrier is
 * still new to her, and she is stopped (e left open) */
static void hop_night(struct env *e, const char *conf, enum cfg_action act)
{
    const uint32_t late = HOP_LATE;
    struct rules_verdict v;
    struct store_user u;
    struct addr a;

    env_open(e, conf);
    ck_assert_int_eq(addr_parse("100.65.0.1", &a), 0);
    pool_tx(e, "ann", "100.64.0.1", 65540, &hop_fra, T0, &v);
    pool_tx(e, "ann", "100.65.0.1", 65548, &hop_ham, late, &v);
    ck_assert_int_eq(v.action, CFG_ACTION_ACCEPT);
    pool_tx(e, "ann", "100.64.0.2", 65540, &hop_fra, late + 5 * MIN, &v);
    ck_assert_int_eq(v.action, CFG_ACTION_ACCEPT);
    pool_tx(e, "ann", "100.64.0.3", 65540, &hop_muc, late + 10 * MIN, &v);
    expect(e, &v, act, "carrier-hopping", false);
    ck_assert_int_eq(store_user_get(e->st, "ann", late + 10 * MIN, &u),
		     STORE_OK);
    ck_assert(!store_user_stopped_since(&u, store_net_key(&a, 65548),
					(T0 + DAY) / DAY));
    pool_tx(e, "ann", "100.65.0.2", 65548, &hop_ham, late + 15 * MIN, &v);
    expect(e, &v, act, "carrier-hopping", false);
    ck_assert_int_eq(store_user_get(e->st, "ann", late + 15 * MIN, &u),
		     STORE_OK);
    ck_assert(store_user_stopped_since(&u, store_net_key(&a, 65548),
				       (T0 + DAY) / DAY));
    pool_tx(e, "ann", "100.64.0.4", 65540, &hop_fra, late + 65 * MIN, &v);
    expect(e, &v, act, "carrier-hopping", false);
    ck_assert_msg(strstr(v.reason, "AS65548 (DE) new to the login") != NULL,
		  "%s", v.reason);
}

/* A learning login's carrier let through on a day it was held for
 * carrier-hopping is no own pool the next day (rules_hop.c): the hold
 * from it is noted (store_stopday.c's note), the one from the login's
 * own carrier is not. A carrier let through and never held is its own
 * the next day, as before. */
START_TEST(test_carrier_hold_noted)
{
    const uint32_t late = HOP_LATE;
    struct rules_verdict v;
    struct env e;

    hop_night(&e, POOL_RULES, CFG_ACTION_QUARANTINE);
    /* ben: the second carrier let through on Tuesday, never held: his
     * own on Wednesday, three hubs or not */
    pool_tx(&e, "ben", "100.64.1.1", 65540, &hop_fra, T0, &v);
    pool_tx(&e, "ben", "100.65.1.1", 65548, &hop_ham, late, &v);
    pool_tx(&e, "ben", "100.64.1.2", 65540, &hop_fra, late + 65 * MIN, &v);
    pool_tx(&e, "ben", "100.64.1.3", 65540, &hop_muc, late + 70 * MIN, &v);
    pool_tx(&e, "ben", "100.65.1.2", 65548, &hop_ham, late + 75 * MIN, &v);
    ck_assert_int_eq(v.action, CFG_ACTION_ACCEPT);
    env_close(&e);
}
END_TEST

/* The same with an admin's carrier-hopping that refuses (tempfail): the
 * refusal from the second carrier is noted too (rules_hop.c noted holds
 * only, and note_stop skips a place the learning grace made known), so
 * after midnight that carrier is still new to her and refused. */
START_TEST(test_carrier_refusal_noted)
{
    struct env e;

    hop_night(&e, POOL_RULES_TEMPFAIL, CFG_ACTION_TEMPFAIL);
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
    ck_assert_str_eq(v.reason, "1 message in 1h (limit 0)");
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
    struct store_block b = {.until = T0 + DAY, .action = CFG_ACTION_REJECT,
	.setby = STORE_BY_ADMIN, .reason = "stolen"};
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
    ck_assert_uint_eq(u.block.rule_id, cfg_rule_id("busy"));
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

    snprintf(geo_dir, sizeof(geo_dir), "%s/rg-check-rules-engine-XXXXXX",
	     tmp != NULL && *tmp ? tmp : "/tmp");
    if (mkdtemp(geo_dir) == NULL) {
	fprintf(stderr, "check_rules_engine: mkdtemp: %s\n", strerror(errno));
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
	fprintf(stderr, "check_rules_engine: %s failed\n", script);
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

/* rules_engine_suite - the test cases */
static Suite *rules_engine_suite(void)
{
    const TTest *const nodata[] = {
	test_no_country_caps, test_no_location, test_real_geo_asn_only,
	test_real_geo_travel, test_carrier_pools_need_location,
	test_carrier_hold_noted, test_carrier_refusal_noted,
    };
    const TTest *const hostile_t[] = {
	test_hostile_login, test_long_logins_distinct, test_rcpt_after_reset,
    };
    const TTest *const ladder[] = {
	test_strongest_wins, test_tie_first_rule, test_block_next_tx,
	test_block_expires, test_client_block, test_rule_keeps_admin_block,
	test_rule_keeps_longer_block, test_both_targets_blocked,
    };
    Suite *s = suite_create("rules_engine");

    add(s, "nodata", nodata, sizeof(nodata) / sizeof(nodata[0]));
    add(s, "hostile", hostile_t, sizeof(hostile_t) / sizeof(hostile_t[0]));
    add(s, "ladder", ladder, sizeof(ladder) / sizeof(ladder[0]));
    return s;
}

int main(void)
{
    int rc;

    geo_ready = build_geo() == 0;
    rc = check_run(rules_engine_suite());
    remove_geo();
    return rc;
}
