/*
 * check_store - unit tests of the state store's tables: the keyed hash,
 * login normalisation, user and client entries (IPs, countries, places,
 * queue ids, count-only updates, their windows), LRU eviction, blocks,
 * resets and walks. What a login learns of its places (familiar
 * networks, the site's networks, an address's messages by day) is tested
 * by check_store_places.c.
 *
 * The shared file itself (header validation, recreation, read-only
 * handles, several processes, crash recovery, reboots) is tested by
 * check_store_shm.c, the window arithmetic by check_store_win.c; the
 * helpers the store's tests use are in store_test.h. Each TCase that
 * opens stores gets a private temporary directory; every test runs forked
 * and names its own file in it.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_debug.h"
#include "store_int.h"
#include "check_main.h"
#include "mountinfo_test.h"
#include "store_test.h"

START_TEST(test_siphash_vectors)
{
    uint8_t key[16], msg[64];
    static const struct {
	size_t len;
	uint64_t h;
    } v[] = {
	{0, UINT64_C(0x726fdb47dd0e0e31)}, {7, UINT64_C(0xab0200f58b01d137)},
	{8, UINT64_C(0x93f5f5799a932462)}, {15, UINT64_C(0xa129ca6149be45e5)},
	{63, UINT64_C(0x958a324ceb064572)},
    };
    static const uint8_t zero[16];

    for (int i = 0; i < 16; i++)
	key[i] = (uint8_t) i;
    for (int i = 0; i < 64; i++)
	msg[i] = (uint8_t) i;
    /* SipHash-2-4 reference vectors: the round function */
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
	ck_assert_msg(store_debug_siphash24(key, msg, v[i].len) == v[i].h,
		      "siphash24 of %zu bytes", v[i].len);
    /* SipHash-1-3, the store's: published values under the zero key */
    ck_assert_uint_eq(store_debug_siphash(zero, "", 0),
		      UINT64_C(0xd1fba762150c532c));
    ck_assert_uint_eq(store_debug_siphash(zero, "siphash", 7),
		      UINT64_C(0x8264ceeccb16bcbe));
}
END_TEST

/* ref_key - the login normalisation written the plain way, byte by
 * byte, for logins that fit: 1 and the key, or 0 if it does not fit */
static int ref_key(const char *in, char out[STORE_LOGIN_MAX])
{
    const unsigned char *p = (const unsigned char *) in, *e;

    while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
	p++;
    e = p + strlen((const char *) p);
    while (e > p && (e[-1] == ' ' || (e[-1] >= '\t' && e[-1] <= '\r')))
	e--;
    if (e - p >= STORE_LOGIN_MAX)
	return 0;
    memset(out, 0, STORE_LOGIN_MAX);
    for (size_t i = 0; p + i < e; i++) {
	unsigned char c = p[i];

	out[i] = (char) (c < ' ' || c == 0x7f ? '?'
			 : c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
    return 1;
}

/* The one-pass normalise-and-hash writes the key ref_key writes and
 * gives the hash of that key, for every length around the word edges,
 * upper case, control bytes, every kind of white space, high bytes, long
 * logins (their keys only against the hash) and nothing at all. */
START_TEST(test_login_ref)
{
    STORE *st = tnew("ref", 256, 4);
    char in[84], a[STORE_LOGIN_MAX], b[STORE_LOGIN_MAX];
    static const char fill[] = "Ab\001x\tZ\377q";

    for (size_t n = 0; n < sizeof(in) - 5; n++) {
	for (int variant = 0; variant < 6; variant++) {
	    size_t k = 0;

	    if (variant == 1)
		in[k++] = ' ';
	    if (variant == 4) {	/* every kind of white space, 9..13 */
		in[k++] = '\v';
		in[k++] = '\f';
	    }
	    if (variant == 5)	/* 8 and 14 are not white space */
		in[k++] = '\b';
	    for (size_t i = 0; i < n; i++)
		in[k++] = variant == 2 ? fill[i % (sizeof(fill) - 1)]
		    : (char) ('A' + (i * 7 + n) % 26 + (i % 3 ? 32 : 0));
	    if (variant == 3)
		in[k++] = '\t';
	    if (variant == 4) {
		in[k++] = '\r';
		in[k++] = '\n';
	    }
	    if (variant == 5)
		in[k++] = '\016';
	    in[k] = '\0';
	    memset(a, 'x', sizeof(a));
	    memset(b, 'y', sizeof(b));
	    ck_assert_uint_eq(store_debug_login_ref(st, in, a),
			      store_debug_login_hash(st, in, b));
	    ck_assert_msg(memcmp(a, b, sizeof(a)) == 0, "key of %zu bytes", n);
	    if (ref_key(in, b))
		ck_assert_msg(memcmp(a, b, sizeof(a)) == 0,
			      "key of %zu bytes, variant %d: not the plain "
			      "normalisation", n, variant);
	}
    }
    /* no login at all: the empty key and its hash */
    ck_assert_uint_eq(store_debug_login_ref(st, NULL, a),
		      store_debug_login_hash(st, NULL, b));
    ck_assert_uint_eq(store_debug_login_ref(st, NULL, a),
		      store_debug_siphash(st->key, "", 0));
    store_close(st);
}
END_TEST

START_TEST(test_normalize)
{
    STORE *st = tnew("norm", 256, 4);
    char a[STORE_LOGIN_MAX], b[STORE_LOGIN_MAX], c[STORE_LOGIN_MAX];
    char long1[200], long2[200];
    struct store_user_obs o = obs_make(" \t ", "192.0.2.1");

    store_normalize_login(st, "  Alice@Example.COM \t\r\n", a);
    ck_assert_str_eq(a, "alice@example.com");
    store_normalize_login(st, "a\001b\177c", a);
    ck_assert_str_eq(a, "a?b?c");
    store_normalize_login(st, "Élan", a);
    ck_assert_str_eq(a, "Élan");	/* only ASCII is folded */

    /* every ASCII byte, and the longest login kept as it is */
    for (int i = 1; i < 128; i++) {
	char in[2] = { (char) i, 0 }, want = (char) i;

	if (i < ' ' || i == 127)
	    want = '?';
	else if (i >= 'A' && i <= 'Z')
	    want = (char) (i + 32);
	store_normalize_login(st, (char[]) { 'x', in[0], 'y', 0 }, a);
	ck_assert_msg(a[1] == want && a[0] == 'x' && a[2] == 'y',
		      "byte %d gave %d", i, a[1]);
    }
    memset(long1, 'Q', STORE_LOGIN_MAX - 1);
    long1[STORE_LOGIN_MAX - 1] = '\0';
    long1[7] = '\t';
    long1[8] = 0x7f;
    store_normalize_login(st, long1, a);
    ck_assert_uint_eq(strlen(a), STORE_LOGIN_MAX - 1);
    ck_assert_int_eq(a[6], 'q');
    ck_assert_int_eq(a[7], '?');
    ck_assert_int_eq(a[8], '?');
    ck_assert_int_eq(a[STORE_LOGIN_MAX - 2], 'q');
    long1[STORE_LOGIN_MAX - 1] = 'Q';
    long1[STORE_LOGIN_MAX] = '\0';
    store_normalize_login(st, long1, a);
    ck_assert_int_eq(a[STORE_LOGIN_MAX - 1 - 17], '~');
    store_normalize_login(st, "\xc3\x89X", a);	/* high bytes kept */
    ck_assert_str_eq(a, "\xc3\x89x");

    memset(long1, 'X', sizeof(long1) - 1);
    long1[sizeof(long1) - 1] = '\0';
    memcpy(long2, long1, sizeof(long2));
    long2[150] = 'Y';
    store_normalize_login(st, long1, a);
    store_normalize_login(st, long2, b);
    ck_assert_uint_eq(strlen(a), STORE_LOGIN_MAX - 1);
    ck_assert_uint_eq(strlen(b), STORE_LOGIN_MAX - 1);
    ck_assert_str_ne(a, b);
    ck_assert_int_eq(strncmp(a, "xxxxxxxxxx", 10), 0);
    ck_assert_int_eq(a[STORE_LOGIN_MAX - 1 - 17], '~');
    ck_assert_uint_eq(strspn(a + STORE_LOGIN_MAX - 17, "0123456789abcdef"),
		      16);
    for (size_t i = 0; long1[i]; i++)
	long1[i] = 'x';
    store_normalize_login(st, long1, c);
    ck_assert_str_eq(a, c);		/* case does not matter, long or short */

    ck_assert_int_eq(store_user_update(st, &o, T0, NULL), STORE_EARG);
    o.login = NULL;
    ck_assert_int_eq(store_user_update(st, &o, T0, NULL), STORE_EARG);
    seen(st, long1, "192.0.2.1", T0);
    seen(st, long2, "192.0.2.1", T0);
    ck_assert_int_eq(store_user_get(st, long1, T0, &U), STORE_OK);
    ck_assert_str_eq(U.login, c);
    store_close(st);
}
END_TEST

START_TEST(test_insert_lookup)
{
    STORE *st = tnew("basic", 1024, 16);
    struct store_user_obs o = obs_make("Bob@Example.org", "203.0.113.9");
    struct store_stats s;
    char cc[3];

    obs_geo(&o, "DE", 3320, 5252, 1340, 20);
    o.msgs = 1;
    o.rcpts = 4;
    o.bytes = 5000;
    ck_assert_int_eq(store_user_get(st, "bob@example.org", T0, &U),
		     STORE_NOTFOUND);
    memset(&U, 0xee, sizeof(U));
    ck_assert_int_eq(store_user_update(st, &o, T0 + 5, &U), STORE_OK);
    ck_assert_str_eq(U.login, "bob@example.org");
    ck_assert_uint_eq(U.first_seen, T0 + 5);
    ck_assert_uint_eq(U.nips, 1);
    ck_assert_uint_eq(U.ips[0].count, 1);
    store_ip_cc(&U.ips[0], cc);
    ck_assert_str_eq(cc, "DE");
    ck_assert_uint_eq(store_ip_radius(&U.ips[0]), 20);	/* 20 km's class */
    ck_assert_uint_eq(U.ips[0].asn, 3320);
    ck_assert_int_eq(U.ips[0].lat_c, 5252);
    ck_assert_int_ne(U.ips[0].lon_c, STORE_NO_LOC);
    ck_assert_uint_eq(U.block.until, 0);
    ck_assert_uint_eq(store_win_sum(&U.win, STORE_RCPTS, T0 + 5, 60), 4);
    ck_assert_uint_eq(store_win_sum(&U.win, STORE_BYTES, T0 + 5, 3600),
		      2 * STORE_BYTES_UNIT);

    o.login = "  BOB@example.ORG";
    ck_assert_int_eq(store_user_update(st, &o, T0 + 65, NULL), STORE_OK);
    memset(&U, 0, sizeof(U));
    ck_assert_int_eq(store_user_get(st, "bob@EXAMPLE.org", T0 + 70, &U),
		     STORE_OK);
    ck_assert_uint_eq(U.first_seen, T0 + 5);
    ck_assert_uint_eq(U.last_seen, T0 + 65);
    ck_assert_uint_eq(U.ips[0].count, 2);
    ck_assert_uint_eq(store_win_sum(&U.win, STORE_MSGS, T0 + 70, 600), 2);
    store_get_stats(st, &s);
    ck_assert_uint_eq(s.users, 1);
    ck_assert_uint_eq(s.clients, 0);
    ck_assert_uint_eq(s.generation, 1);
    ck_assert_uint_eq(s.ips_per_user, 16);
    store_close(st);
}
END_TEST

START_TEST(test_distinct_ips)
{
    STORE *st = tnew("ips", 256, 4);
    static const char *ips[] = {
	"192.0.2.1", "2001:db8::1", "2001:db8::2", "198.51.100.7",
	"2001:db8:ffff::1", "192.0.2.2",
    };
    struct addr a;

    for (int i = 0; i < 6; i++)
	seen(st, "carol", ips[i], T0 + (uint32_t) i * MIN);
    ck_assert_int_eq(store_user_get(st, "carol", T0 + HOUR, &U), STORE_OK);
    ck_assert_uint_eq(U.nips, 4);
    for (int i = 0; i < 4; i++) {	/* newest first; two oldest gone */
	a = ip_of(ips[5 - i]);
	ck_assert(addr_equal(&U.ips[i].ip, &a));
	ck_assert_uint_eq(U.ips[i].last_seen, T0 + (uint32_t) (5 - i) * MIN);
    }
    seen(st, "carol", "2001:db8::2", T0 + HOUR);
    ck_assert_int_eq(store_user_get(st, "carol", T0 + HOUR, &U), STORE_OK);
    a = ip_of("2001:db8::2");
    ck_assert(addr_equal(&U.ips[0].ip, &a));
    ck_assert_uint_eq(U.ips[0].first_seen, T0 + 2 * MIN);
    ck_assert_uint_eq(U.ips[0].last_seen, T0 + HOUR);
    ck_assert_uint_eq(U.ips[0].count, 2);
    a = ip_of("192.0.2.2");
    ck_assert(addr_equal(&U.ips[1].ip, &a));
    a = ip_of("2001:db8::1");		/* v4 and v6 never mix up */
    for (uint32_t i = 0; i < U.nips; i++)
	ck_assert(!addr_equal(&U.ips[i].ip, &a));
    store_close(st);
}
END_TEST

START_TEST(test_countries)
{
    STORE *st = tnew("cc", 256, 8);
    static const char *cc[] = { "DE", "FR", "NL", "BE", "AT", "CH", "US" };
    struct store_user_obs o = obs_make("dave", "192.0.2.1");

    for (int i = 0; i < 7; i++) {
	memcpy(o.geo.cc, cc[i], 3);
	ck_assert_int_eq(store_user_update(st, &o, T0 + (uint32_t) i * DAY,
					   NULL), STORE_OK);
	if (i == 0) {			/* a day counts once */
	    ck_assert_int_eq(store_user_update(st, &o, T0 + 10, NULL), 0);
	    ck_assert_int_eq(store_user_update(st, &o, T0 + DAY / 2, NULL),
			     0);
	}
	if (i == 3) {			/* DE again: FR is now the oldest */
	    memcpy(o.geo.cc, "DE", 3);
	    ck_assert_int_eq(store_user_update(st, &o, T0 + 3 * DAY + 5,
					       NULL), 0);
	}
    }
    memcpy(o.geo.cc, "de", 3);		/* case folded */
    ck_assert_int_eq(store_user_update(st, &o, T0 + 7 * DAY, &U), STORE_OK);
    memcpy(o.geo.cc, "F1", 3);		/* not a country code: ignored */
    ck_assert_int_eq(store_user_update(st, &o, T0 + 8 * DAY, &U), STORE_OK);
    for (int i = 0; i < STORE_COUNTRIES; i++) {
	ck_assert_str_ne(U.countries[i].cc, "FR");	/* oldest replaced */
	if (strcmp(U.countries[i].cc, "DE") == 0) {
	    ck_assert_uint_eq(U.countries[i].days, 3);
	    ck_assert_uint_eq(U.countries[i].first_day, T0 / DAY);
	    ck_assert_uint_eq(U.countries[i].last_day, T0 / DAY + 7);
	}
    }
    int de = 0, us = 0;

    for (int i = 0; i < STORE_COUNTRIES; i++) {
	de += strcmp(U.countries[i].cc, "DE") == 0;
	us += strcmp(U.countries[i].cc, "US") == 0;
    }
    ck_assert_int_eq(de, 1);
    ck_assert_int_eq(us, 1);
    /* codes that share a letter are two countries, either letter */
    o = obs_make("frank", "192.0.2.2");
    for (int i = 0; i < 4; i++) {
	memcpy(o.geo.cc, (const char *[]) { "DE", "DK", "DE", "EE" }[i], 3);
	ck_assert_int_eq(store_user_update(st, &o, T0 + (uint32_t) i * DAY,
					   &U), STORE_OK);
    }
    for (int i = 0; i < STORE_COUNTRIES; i++)
	ck_assert_uint_eq(U.countries[i].days,
			  strcmp(U.countries[i].cc, "DE") == 0 ? 2
			  : U.countries[i].cc[0] != '\0' ? 1 : 0);
    ck_assert_str_eq(U.countries[0].cc, "DE");
    ck_assert_str_eq(U.countries[1].cc, "DK");
    ck_assert_str_eq(U.countries[2].cc, "EE");
    store_close(st);
}
END_TEST

START_TEST(test_places_qids)
{
    STORE *st = tnew("place", 256, 8);
    struct store_user_obs o = obs_make("erin", "192.0.2.1");

    o.geo.has_loc = 1;
    o.geo.lat_c = 5000;
    o.geo.lon_c = 800;
    o.qid = "Q1";
    ck_assert_int_eq(store_user_update(st, &o, T0, &U), STORE_OK);
    ck_assert_uint_eq(U.last_login.time, T0);
    ck_assert_uint_eq(U.prev_login.time, 0);
    o.geo.has_loc = 0;
    o.qid = "";
    ck_assert_int_eq(store_user_update(st, &o, T0 + 60, &U), STORE_OK);
    ck_assert_uint_eq(U.last_login.time, T0);
    ck_assert_uint_eq(U.prev_login.time, T0);
    o.geo.has_loc = 1;
    o.geo.lat_c = 4070;
    o.geo.lon_c = -7400;
    o.geo.acc_km = 5;
    o.qid = "Q2";
    ck_assert_int_eq(store_user_update(st, &o, T0 + 120, &U), STORE_OK);
    ck_assert_uint_eq(U.last_login.time, T0 + 120);
    ck_assert_int_eq(U.last_login.lon_c, -7400);
    ck_assert_uint_eq(U.last_login.acc_km, 5);
    ck_assert_uint_eq(U.prev_login.time, T0);
    ck_assert_int_eq(U.prev_login.lat_c, 5000);
    o.qid = NULL;
    ck_assert_int_eq(store_user_update(st, &o, T0 + 130, NULL), STORE_OK);
    o.qid = "Q3";
    ck_assert_int_eq(store_user_update(st, &o, T0 + 140, NULL), STORE_OK);
    o.qid = "Q4-\nVERY-LONG-QUEUE-ID";
    ck_assert_int_eq(store_user_update(st, &o, T0 + 150, NULL), STORE_OK);
    ck_assert_int_eq(store_user_get(st, "erin", T0 + 150, &U), STORE_OK);
    ck_assert_str_eq(U.qids[0], "Q4-?VERY-LONG-Q");
    ck_assert_str_eq(U.qids[1], "Q3");
    ck_assert_str_eq(U.qids[2], "Q2");
    o.qid = "Q3";
    ck_assert_int_eq(store_user_update(st, &o, T0 + 160, NULL), STORE_OK);
    ck_assert_int_eq(store_user_get(st, "erin", T0 + 160, &U), STORE_OK);
    ck_assert_str_eq(U.qids[0], "Q3");
    ck_assert_str_eq(U.qids[1], "Q4-?VERY-LONG-Q");
    ck_assert_str_eq(U.qids[2], "Q2");
    ck_assert_uint_eq(U.prev_login.time, T0 + 150);	/* get: stored pair */
    store_close(st);
}
END_TEST

START_TEST(test_store_windows)
{
    STORE *st = tnew("win", 256, 4);
    struct store_user_obs o = obs_make("frank", "192.0.2.1");

    o.msgs = 1;
    o.rcpts = 3;
    o.bytes = 1000;
    for (uint32_t i = 0; i < 24; i++)	/* every 5 minutes for 2 hours */
	ck_assert_int_eq(store_user_update(st, &o, T0 + i * 5 * MIN + 1,
					   &U), STORE_OK);
    ck_assert_uint_eq(store_win_sum(&U.win, STORE_MSGS, T0 + 115 * MIN + 1,
				    10 * MIN), 2);
    ck_assert_uint_eq(store_win_sum(&U.win, STORE_RCPTS, T0 + 115 * MIN + 1,
				    DAY), 72);
    ck_assert_uint_eq(store_win_sum(&U.win, STORE_BYTES, T0 + 115 * MIN + 1,
				    DAY), 24 * (uint64_t) STORE_BYTES_UNIT);
    store_close(st);
}
END_TEST

START_TEST(test_count_only)
{
    STORE *st = tnew("countonly", 256, 4);
    struct store_user_obs o = obs_make("olga", "192.0.2.1");
    struct store_client_obs co = { .ip = ip_of("192.0.2.1"), .login = "olga" };
    struct store_client c;

    o.geo.has_loc = 1;
    o.geo.lat_c = 100;
    memcpy(o.geo.cc, "SE", 3);
    o.qid = "A1";
    ck_assert_int_eq(store_user_update(st, &o, T0, NULL), STORE_OK);
    ck_assert_int_eq(store_client_update(st, &co, T0, NULL), STORE_OK);
    o.flags = co.flags = STORE_OBS_COUNT_ONLY;
    o.msgs = co.msgs = 1;
    o.rcpts = co.rcpts = 5;
    o.qid = "A2";
    o.ip = ip_of("192.0.2.99");		/* not recorded */
    co.login = "other";
    ck_assert_int_eq(store_user_update(st, &o, T0 + 30, &U), STORE_OK);
    ck_assert_uint_eq(U.nips, 1);
    ck_assert_uint_eq(U.ips[0].count, 1);
    ck_assert_uint_eq(U.last_login.time, T0);
    ck_assert_uint_eq(U.prev_login.time, T0);
    ck_assert_uint_eq(U.countries[0].days, 1);
    ck_assert_uint_eq(U.last_seen, T0 + 30);
    ck_assert_str_eq(U.qids[0], "A2");
    ck_assert_uint_eq(store_win_sum(&U.win, STORE_RCPTS, T0 + 30, 60), 5);
    ck_assert_int_eq(store_client_update(st, &co, T0 + 30, &c), STORE_OK);
    ck_assert_uint_eq(c.nlogins, 1);
    ck_assert_uint_eq(c.logins[0].last_seen, T0);
    ck_assert_uint_eq(store_win_sum(&c.win, STORE_MSGS, T0 + 30, 60), 1);
    store_close(st);
}
END_TEST

/* logins_in_stripe - n logins that share stripe s */
static void logins_in_stripe(STORE *st, unsigned s, char (*out)[16], int n)
{
    for (int i = 0, k = 0; i < n; k++) {
	snprintf(out[i], 16, "user%d", k);
	if (store_debug_user_stripe(st, out[i]) == s)
	    i++;
    }
}

/* logins_at_homes - n logins of stripe s, the first ones with homes 1, 2,
 * ... up to cap in order (so they fill the stripe's slots in insertion
 * order), the rest anywhere in the stripe */
static void logins_at_homes(STORE *st, unsigned s, uint32_t cap,
			    char (*out)[16], int n)
{
    for (int i = 0; i < n; i++)
	for (int k = 0;; k++) {
	    snprintf(out[i], 16, "h%d.%d", i, k);
	    if (store_debug_user_stripe(st, out[i]) == s
		&& ((uint32_t) i >= cap
		    || store_debug_user_home(st, out[i]) == (uint32_t) i + 1))
		break;
	}
}

START_TEST(test_eviction_lru)
{
    STORE *st = tnew("lru", 4 * 64, 2);	/* 4 slots per stripe */
    struct store_block b = { .until = T0 + DAY, .setby = STORE_BY_ADMIN };
    char l[8][16];
    struct store_stats s;

    logins_in_stripe(st, 5, l, 8);
    for (int i = 0; i < 4; i++)
	seen(st, l[i], "192.0.2.1", T0 + (uint32_t) i);
    seen(st, l[0], "192.0.2.1", T0 + 10);	/* l1 is now the oldest */
    seen(st, l[4], "192.0.2.1", T0 + 11);
    ck_assert_int_eq(store_user_get(st, l[1], T0, &U), STORE_NOTFOUND);
    ck_assert_int_eq(store_user_get(st, l[0], T0, &U), STORE_OK);
    store_get_stats(st, &s);
    ck_assert_uint_eq(s.evictions, 1);
    /* lookups do not refresh: l2 stays oldest, but it is blocked */
    ck_assert_int_eq(store_user_get(st, l[2], T0, &U), STORE_OK);
    ck_assert_int_eq(store_user_block(st, l[2], &b, T0 + 12), STORE_OK);
    seen(st, l[5], "192.0.2.1", T0 + 13);
    ck_assert_int_eq(store_user_get(st, l[2], T0 + 13, &U), STORE_OK);
    ck_assert_int_eq(store_user_get(st, l[3], T0 + 13, &U), STORE_NOTFOUND);
    /* every entry blocked: full */
    for (int i = 0; i < 6; i++)
	if (i != 1 && i != 3)
	    ck_assert_int_eq(store_user_block(st, l[i], &b, T0 + 14), 0);
    {
	struct store_user_obs o = obs_make(l[6], "192.0.2.1");

	ck_assert_int_eq(store_user_update(st, &o, T0 + 15, NULL),
			 STORE_FULL);
	/* blocks over: the least recently seen goes */
	ck_assert_int_eq(store_user_update(st, &o, T0 + DAY, NULL), STORE_OK);
    }
    ck_assert_int_eq(store_user_get(st, l[2], T0 + DAY, &U), STORE_NOTFOUND);
    ck_assert_int_eq(store_user_get(st, l[0], T0 + DAY, &U), STORE_OK);
    store_get_stats(st, &s);
    ck_assert_uint_eq(s.evictions, 3);
    ck_assert_uint_eq(s.users, 4);
    ck_assert_int_eq(store_debug_check_stripe(st, 0, 5), 0);
    store_close(st);
}
END_TEST

/* A stripe bigger than the sample: the eviction sweep examines
 * STORE_EVICT_SAMPLE slots from its hand on (the logins are picked so
 * that each one's home is the next slot, the hand starts at slot 1), evicts the least recently
 * seen of them, passes blocked ones over, goes on to the next batch when
 * all it examined were blocked, and counts every eviction. */
START_TEST(test_eviction_sample)
{
    enum { CAP = 40 };
    STORE *st = tnew("sample", CAP * 64, 2);	/* 40 slots per stripe */
    struct store_block b = { .until = T0 + DAY, .setby = STORE_BY_ADMIN };
    char l[CAP + 3][16];
    struct store_stats s;

    ck_assert_int_lt(STORE_EVICT_SAMPLE, CAP / 2);
    ck_assert_int_gt(STORE_EVICT_SAMPLE, 5);
    logins_at_homes(st, 5, CAP, l, CAP + 3);
    for (int i = 0; i < CAP; i++)
	seen(st, l[i], "192.0.2.1", T0 + (uint32_t) i);
    for (int i = 0; i < CAP; i++)	/* l5, l30: oldest; l0: next */
	if (i != 5 && i != 30)
	    seen(st, l[i], "192.0.2.1", T0 + 100);
    ck_assert_int_eq(store_user_block(st, l[5], &b, T0 + 100), STORE_OK);
    /* examined: the first batch from slot 1; l5 the oldest but blocked,
     * l0 the oldest of the rest (l30, older, is not examined) */
    seen(st, l[CAP], "192.0.2.1", T0 + 101);
    ck_assert_int_eq(store_user_get(st, l[0], T0 + 101, &U), STORE_NOTFOUND);
    for (int i = 1; i <= CAP; i++)
	ck_assert_int_eq(store_user_get(st, l[i], T0 + 101, &U), STORE_OK);
    /* all blocked but l35 and the newcomer: the sweep goes on to l35 */
    for (int i = 1; i < CAP; i++)
	if (i != 35)
	    ck_assert_int_eq(store_user_block(st, l[i], &b, T0 + 102), 0);
    seen(st, l[CAP + 1], "192.0.2.1", T0 + 103);
    ck_assert_int_eq(store_user_get(st, l[35], T0 + 103, &U), STORE_NOTFOUND);
    for (int i = 1; i <= CAP + 1; i++)
	if (i != 35)
	    ck_assert_int_eq(store_user_get(st, l[i], T0 + 103, &U),
			     STORE_OK);
    /* nothing left that may go: full, blocked entries all kept */
    ck_assert_int_eq(store_user_block(st, l[CAP], &b, T0 + 104), 0);
    ck_assert_int_eq(store_user_block(st, l[CAP + 1], &b, T0 + 104), 0);
    {
	struct store_user_obs o = obs_make(l[CAP + 2], "192.0.2.1");

	ck_assert_int_eq(store_user_update(st, &o, T0 + 105, NULL),
			 STORE_FULL);
    }
    store_get_stats(st, &s);
    ck_assert_uint_eq(s.evictions, 2);
    ck_assert_int_eq(store_debug_check_stripe(st, 0, 5), 0);
    store_close(st);
}
END_TEST

/* Keys that share a home: the first takes it, the others live elsewhere
 * and are chained from it. Removing the one at home, one in the middle
 * of the chain and the last, in a random order against a model, with
 * homes taken back out of the middle of the free list, must keep every
 * other key findable and the stripe whole. */
START_TEST(test_home_chains)
{
    enum { CAP = 12, POOL = 12, ROUNDS = 600 };
    STORE *st = tnew("chains", CAP * 64, 2);
    char l[POOL][16];
    int in[POOL] = { 0 }, same = 0;
    uint64_t r = 0x2545f4914f6cdd1du;

    /* the first 5 all have home 3; the rest anywhere in stripe 9 */
    for (int i = 0; i < POOL; i++)
	for (int k = 0;; k++) {
	    snprintf(l[i], 16, "c%d.%d", i, k);
	    if (store_debug_user_stripe(st, l[i]) == 9
		&& (i >= 5 || store_debug_user_home(st, l[i]) == 3))
		break;
	}
    for (int i = 0; i < POOL; i++)
	same += store_debug_user_home(st, l[i]) == 3;
    ck_assert_int_ge(same, 5);
    for (int i = 0; i < 5; i++) {
	seen(st, l[i], "192.0.2.1", T0);
	in[i] = 1;
    }
    for (int i = 0; i < 5; i++)
	ck_assert_int_eq(store_user_get(st, l[i], T0, &U), STORE_OK);
    ck_assert_int_eq(store_debug_check_stripe(st, 0, 9), 0);
    for (int step = 0; step < ROUNDS; step++) {
	int i;

	r ^= r << 13;
	r ^= r >> 7;
	r ^= r << 17;
	i = (int) (r % POOL);
	if (in[i]) {
	    ck_assert_int_eq(store_user_reset(st, l[i], T0), STORE_OK);
	    in[i] = 0;
	} else {
	    seen(st, l[i], "192.0.2.1", T0 + (uint32_t) step);
	    in[i] = 1;
	}
	for (int j = 0; j < POOL; j++)
	    ck_assert_int_eq(store_user_get(st, l[j], T0, &U),
			     in[j] ? STORE_OK : STORE_NOTFOUND);
	ck_assert_int_eq(store_debug_check_stripe(st, 0, 9), 0);
    }
    {
	struct store_stats s;

	store_get_stats(st, &s);
	ck_assert_uint_eq(s.evictions, 0);	/* POOL == CAP: never full */
    }
    store_close(st);
}
END_TEST

/* mountinfo_with - a mount table (mountinfo_write) in the test's
 * directory whose last line mounts fstype with opts on mp; its path */
static const char *mountinfo_with(const char *mp, const char *fstype,
				  const char *opts)
{
    static char path[256];

    snprintf(path, sizeof(path), "%s", tpath("mountinfo"));
    mountinfo_write(path, mp, fstype, opts);
    return path;
}

/* Whether the state file has 2 MiB pages is read off the mount it is on:
 * the deepest mount point above the file (a later one on the same point
 * wins), a tmpfs with huge=within_size, always or advise. */
START_TEST(test_huge_pages)
{
    STORE *st = tnew("pages", 256, 2);
    char dir[PATH_MAX], esc[PATH_MAX + 64];
    size_t k = 0;

    ck_assert_ptr_nonnull(realpath(tpath(""), dir));
    ck_assert_int_eq(store_huge_pages(st, mountinfo_with(dir, "tmpfs",
			 "rw,size=10g,huge=within_size")), 1);
    ck_assert_int_eq(store_huge_pages(st, mountinfo_with(dir, "tmpfs",
			 "rw,huge=advise")), 1);
    ck_assert_int_eq(store_huge_pages(st, mountinfo_with(dir, "tmpfs",
			 "rw,huge=never")), 0);
    ck_assert_int_eq(store_huge_pages(st, mountinfo_with(dir, "tmpfs",
			 "rw,nohuge=always")), 0);
    ck_assert_int_eq(store_huge_pages(st, mountinfo_with(dir, "ext4",
			 "rw,huge=always")), 0);
    /* a mount point that only shares a prefix with the file's directory
     * is not above it: the file is then on the deepest one that is */
    snprintf(esc, sizeof(esc), "%sX", dir);
    ck_assert_int_eq(store_huge_pages(st, mountinfo_with(esc, "tmpfs",
			 "rw,huge=never")),
		     strncmp(dir, "/tmp/", 5) == 0 ? 1 : 0);
    /* spaces in a mount point come escaped as \040 */
    for (const char *c = dir; *c && k + 5 < sizeof(esc); c++)
	k += (size_t) snprintf(esc + k, sizeof(esc) - k, *c == ' '
			       ? "\\040" : "%c", *c);
    ck_assert_int_eq(store_huge_pages(st, mountinfo_with(esc, "tmpfs",
			 "huge=always")), 1);
    ck_assert_int_eq(store_huge_pages(st, tpath("no-such-file")), -1);
    store_close(st);
}
END_TEST

START_TEST(test_block_expiry)
{
    STORE *st = tnew("block", 256, 2);
    struct store_block b = { .until = T0 + 100, .action = 3,
	.setby = STORE_BY_RULE, .rule_id = 7 };
    struct store_client c;
    struct addr ip = ip_of("2001:db8::25");

    snprintf(b.reason, sizeof(b.reason), "too\nmany countries");
    ck_assert_int_eq(store_user_unblock(st, "gina", T0), STORE_NOTFOUND);
    ck_assert_int_eq(store_user_block(st, "gina", &b, T0 + 100), STORE_EARG);
    ck_assert_int_eq(store_user_block(st, "gina", NULL, T0), STORE_EARG);
    ck_assert_int_eq(store_user_block(st, "Gina", &b, T0), STORE_OK);
    ck_assert_int_eq(store_user_get(st, "gina", T0 + 99, &U), STORE_OK);
    ck_assert_uint_eq(U.block.until, T0 + 100);
    ck_assert_uint_eq(U.block.rule_id, 7);
    ck_assert_uint_eq(U.block.setby, STORE_BY_RULE);
    ck_assert_str_eq(U.block.reason, "too?many countries");
    ck_assert_int_eq(store_user_get(st, "gina", T0 + 100, &U), STORE_OK);
    ck_assert_uint_eq(U.block.until, 0);
    ck_assert_uint_eq(U.block.setby, STORE_BY_NONE);
    ck_assert_int_eq(store_user_block(st, "gina", &b, T0 + 50), STORE_OK);
    ck_assert_int_eq(store_user_unblock(st, "gina", T0 + 51), STORE_OK);
    ck_assert_int_eq(store_user_get(st, "gina", T0 + 52, &U), STORE_OK);
    ck_assert_uint_eq(U.block.until, 0);

    ck_assert_int_eq(store_client_block(st, &ip, &b, T0), STORE_OK);
    ck_assert_int_eq(store_client_get(st, &ip, T0 + 1, &c), STORE_OK);
    ck_assert_uint_eq(c.block.until, T0 + 100);
    ck_assert_int_eq(store_client_get(st, &ip, T0 + 101, &c), STORE_OK);
    ck_assert_uint_eq(c.block.until, 0);
    ck_assert_int_eq(store_client_unblock(st, &ip, T0), STORE_OK);
    ck_assert_int_eq(store_client_get(st, &ip, T0 + 1, &c), STORE_OK);
    ck_assert_uint_eq(c.block.until, 0);
    store_close(st);
}
END_TEST

/* A login or address an admin blocked before it came is not seen yet:
 * first and last seen stay 0 (so its learning period starts with its
 * first message, metrics_learning_end, not at the block) until its first
 * observation or count; an entry seen before keeps its times; a
 * snapshot's unseen entry is restored unseen. */
START_TEST(test_block_before_seen)
{
    STORE *st = tnew("unseen", 256, 2);
    struct store_block b = { .until = T0 + 7 * 86400, .action = 3,
	.setby = STORE_BY_ADMIN };
    struct store_span one = { .msgs = 1, .rcpts = 1, .bytes = 10 };
    struct store_held held;
    struct store_client c;
    struct addr ip = ip_of("192.0.2.66");
    struct store_client_obs co = { .ip = ip, .msgs = 1 };
    STORE *st2;

    ck_assert_int_eq(store_user_block(st, "nina", &b, T0), STORE_OK);
    ck_assert_int_eq(store_user_get(st, "nina", T0 + 1, &U), STORE_OK);
    ck_assert_uint_eq(U.first_seen, 0);
    ck_assert_uint_eq(U.last_seen, 0);
    ck_assert_uint_eq(U.block.until, T0 + 7 * 86400);
    /* her first (refused) message: first seen then, and given back whole */
    memset(&held, 0, sizeof(held));
    ck_assert_int_eq(store_user_count(st, "nina", &one, T0 + 3600, &held,
				      NULL), STORE_OK);
    ck_assert_int_eq(store_user_get(st, "nina", T0 + 3600, &U), STORE_OK);
    ck_assert_uint_eq(U.first_seen, T0 + 3600);
    ck_assert_uint_eq(U.last_seen, T0 + 3600);
    ck_assert_int_eq(store_user_give_back(st, "nina", &held, T0 + 3600),
		     STORE_OK);
    ck_assert_int_eq(store_user_get(st, "nina", T0 + 3600, &U), STORE_OK);
    ck_assert_uint_eq(store_win_sum(&U.win, STORE_MSGS, T0 + 3600, 3600), 0);
    /* an observation of an unseen login: first seen then */
    ck_assert_int_eq(store_user_block(st, "omar", &b, T0), STORE_OK);
    seen(st, "omar", "192.0.2.5", T0 + 7200);
    ck_assert_int_eq(store_user_get(st, "omar", T0 + 7200, &U), STORE_OK);
    ck_assert_uint_eq(U.first_seen, T0 + 7200);
    /* blocking a login seen before keeps its times */
    ck_assert_int_eq(store_user_block(st, "omar", &b, T0 + 9000), STORE_OK);
    ck_assert_int_eq(store_user_get(st, "omar", T0 + 9000, &U), STORE_OK);
    ck_assert_uint_eq(U.first_seen, T0 + 7200);
    ck_assert_uint_eq(U.last_seen, T0 + 7200);
    /* an address likewise */
    ck_assert_int_eq(store_client_block(st, &ip, &b, T0), STORE_OK);
    ck_assert_int_eq(store_client_get(st, &ip, T0 + 1, &c), STORE_OK);
    ck_assert_uint_eq(c.first_seen, 0);
    ck_assert_uint_eq(c.last_seen, 0);
    ck_assert_int_eq(store_client_update(st, &co, T0 + 60, &c), STORE_OK);
    ck_assert_uint_eq(c.first_seen, T0 + 60);
    ck_assert_uint_eq(c.last_seen, T0 + 60);
    /* a snapshot's unseen login is restored unseen, blocked */
    ck_assert_int_eq(store_user_block(st, "pia", &b, T0), STORE_OK);
    ck_assert_int_eq(store_user_get(st, "pia", T0 + 1, &U), STORE_OK);
    st2 = tnew("unseen2", 256, 2);
    ck_assert_int_eq(store_user_restore(st2, &U, T0 + 2), STORE_OK);
    ck_assert_int_eq(store_user_get(st2, "pia", T0 + 2, &U), STORE_OK);
    ck_assert_uint_eq(U.first_seen, 0);
    ck_assert_uint_eq(U.last_seen, 0);
    ck_assert_uint_eq(U.block.until, T0 + 7 * 86400);
    store_close(st2);
    store_close(st);
}
END_TEST

START_TEST(test_reset)
{
    STORE *st = tnew("reset", 256, 2);
    struct store_stats s;
    struct addr ip = ip_of("192.0.2.77");
    struct store_client_obs co = { .ip = ip, .msgs = 1 };

    seen(st, "hank", "192.0.2.1", T0);
    seen(st, "ivan", "192.0.2.1", T0);
    ck_assert_int_eq(store_client_update(st, &co, T0, NULL), STORE_OK);
    ck_assert_int_eq(store_user_reset(st, "HANK", T0), STORE_OK);
    ck_assert_int_eq(store_user_reset(st, "hank", T0), STORE_NOTFOUND);
    ck_assert_int_eq(store_user_get(st, "hank", T0, &U), STORE_NOTFOUND);
    ck_assert_int_eq(store_user_get(st, "ivan", T0, &U), STORE_OK);
    ck_assert_int_eq(store_client_reset(st, &ip, T0), STORE_OK);
    ck_assert_int_eq(store_client_reset(st, &ip, T0), STORE_NOTFOUND);
    store_get_stats(st, &s);
    ck_assert_uint_eq(s.users, 1);
    ck_assert_uint_eq(s.clients, 0);
    seen(st, "hank", "192.0.2.9", T0 + 1);	/* the freed slot is reused */
    ck_assert_int_eq(store_user_get(st, "hank", T0 + 1, &U), STORE_OK);
    ck_assert_uint_eq(U.first_seen, T0 + 1);
    ck_assert_uint_eq(U.nips, 1);
    ck_assert_int_eq(store_debug_check_stripe(st, 0,
			 store_debug_user_stripe(st, "hank")), 0);
    store_close(st);
}
END_TEST

START_TEST(test_client)
{
    STORE *st = tnew("client", 256, 2);
    struct store_client_obs o = { .ip = ip_of("2001:db8::7"), .msgs = 1,
	.rcpts = 2, .bytes = 100 };
    struct store_client c;
    char name[32];

    ck_assert_int_eq(store_client_get(st, &o.ip, T0, &c), STORE_NOTFOUND);
    ck_assert_int_eq(store_client_update(st, &o, T0, &c), STORE_OK);
    ck_assert_uint_eq(c.nlogins, 0);
    o.login = "Joe";
    ck_assert_int_eq(store_client_update(st, &o, T0 + 1, NULL), STORE_OK);
    o.login = " joe ";
    ck_assert_int_eq(store_client_update(st, &o, T0 + 2, NULL), STORE_OK);
    o.login = "kim";
    ck_assert_int_eq(store_client_update(st, &o, T0 + 3, &c), STORE_OK);
    ck_assert_uint_eq(c.nlogins, 2);
    ck_assert(c.logins[0].hash == store_login_hash32(st, "JOE"));
    ck_assert_uint_eq(c.logins[0].last_seen, T0 + 2);
    ck_assert(c.logins[1].hash == store_login_hash32(st, "kim"));
    ck_assert_uint_eq(store_win_sum(&c.win, STORE_MSGS, T0 + 3, 60), 4);
    ck_assert(addr_equal(&c.ip, &o.ip));
    for (uint32_t i = 0; i < 40; i++) {
	snprintf(name, sizeof(name), "bot%u", i);
	o.login = name;
	ck_assert_int_eq(store_client_update(st, &o, T0 + 10 + i, &c), 0);
    }
    ck_assert_uint_eq(c.nlogins, STORE_CLIENT_LOGINS);
    for (uint32_t i = 0; i < c.nlogins; i++) {	/* the 10 oldest went */
	ck_assert(c.logins[i].hash != store_login_hash32(st, "kim"));
	ck_assert_uint_ge(c.logins[i].last_seen, T0 + 18);
    }
    ck_assert_uint_eq(c.first_seen, T0);
    ck_assert_uint_eq(c.last_seen, T0 + 49);
    store_close(st);
}
END_TEST

/* count_user - store_user_each callback */
static int count_user(const struct store_user *u, void *ctx)
{
    int *n = ctx;

    ck_assert_int_eq(strncmp(u->login, "walker", 6), 0);
    return ++n[0] == n[1];
}

/* count_client - store_client_each callback */
static int count_client(const struct store_client *c, void *ctx)
{
    (void) c;
    ++*(int *) ctx;
    return 0;
}

START_TEST(test_each)
{
    STORE *st = tnew("each", 4096, 2);
    struct store_client_obs co;
    int n[2] = { 0, -1 }, nc = 0;
    char name[32];

    memset(&co, 0, sizeof(co));
    for (int i = 0; i < 300; i++) {
	snprintf(name, sizeof(name), "walker%d", i);
	seen(st, name, "192.0.2.1", T0);
	co.ip = ip_of("2001:db8::");
	co.ip.b[15] = (uint8_t) i;
	co.ip.b[14] = (uint8_t) (i >> 8);
	ck_assert_int_eq(store_client_update(st, &co, T0, NULL), STORE_OK);
    }
    ck_assert_int_eq(store_user_reset(st, "walker7", T0), STORE_OK);
    ck_assert_int_eq(store_user_each(st, T0, count_user, n), STORE_OK);
    ck_assert_int_eq(n[0], 299);
    n[0] = 0;
    n[1] = 10;
    ck_assert_int_eq(store_user_each(st, T0, count_user, n), STORE_OK);
    ck_assert_int_eq(n[0], 10);
    ck_assert_int_eq(store_client_each(st, T0, count_client, &nc), STORE_OK);
    ck_assert_int_eq(nc, 300);
    ck_assert_int_eq(store_user_each(st, T0, NULL, NULL), STORE_EARG);
    store_close(st);
}
END_TEST

START_TEST(test_bytes_per_user)
{
    STORE *st = tnew("size", 100000, 16);
    struct store_stats s;

    store_get_stats(st, &s);
    ck_assert_uint_le(s.user_stride, 1280);	/* 16 addresses, 8 networks, ext */
    ck_assert_uint_le(s.user_bytes, 1280);
    ck_assert_uint_ge(s.max_users, 100000);
    ck_assert_uint_eq(s.file_size % STORE_PAGE, 0);
    store_close(st);
}
END_TEST

/* store_suite - entries, eviction, blocks */
static Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc;

    tc = tcase_create("table");
    tcase_add_unchecked_fixture(tc, tdir_make, tdir_rm);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_siphash_vectors);
    tcase_add_test(tc, test_normalize);
    tcase_add_test(tc, test_login_ref);
    tcase_add_test(tc, test_insert_lookup);
    tcase_add_test(tc, test_distinct_ips);
    tcase_add_test(tc, test_countries);
    tcase_add_test(tc, test_places_qids);
    tcase_add_test(tc, test_store_windows);
    tcase_add_test(tc, test_count_only);
    tcase_add_test(tc, test_eviction_lru);
    tcase_add_test(tc, test_eviction_sample);
    tcase_add_test(tc, test_home_chains);
    tcase_add_test(tc, test_huge_pages);
    tcase_add_test(tc, test_block_expiry);
    tcase_add_test(tc, test_block_before_seen);
    tcase_add_test(tc, test_reset);
    tcase_add_test(tc, test_client);
    tcase_add_test(tc, test_each);
    tcase_add_test(tc, test_bytes_per_user);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(store_suite());
}
