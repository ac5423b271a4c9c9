/*
 * check_store_places - unit tests of what the store learns of a login's
 * places: its familiar networks and usual busiest hour, the site's own
 * networks vouched for by several logins, and an address's messages by
 * day. The rest of the store's tables are tested by check_store.c, with
 * the helpers of store_test.h.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "store.h"
#include "store_int.h"
#include "store_debug.h"
#include "check_main.h"
#include "store_test.h"

/* Familiar places: a network is learned only from messages let through
 * (STORE_OBS_LEARN), counted once a day, by its AS (any 32-bit one) or
 * its /24 without one; the oldest gives way when all slots are taken.
 * The usual busiest hour rises only with STORE_OBS_LEARN_VOLUME; a
 * client's vouched time with STORE_OBS_VOUCH. */
START_TEST(test_familiar_places)
{
    STORE *st = tnew("nets", 1000, 16);
    struct store_user_obs o = obs_make("nora", "198.51.100.7");
    struct store_client_obs co = { .ip = ip_of("198.51.100.7"), .login = "nora" };
    struct store_client c;

    o.geo.asn = 4200000001u;	/* private 32-bit: still an AS */
    o.msgs = 1;
    o.flags = STORE_OBS_NO_LEARN;	/* at MAIL: nothing learned */
    ck_assert_int_eq(store_user_update(st, &o, T0, &U), STORE_OK);
    ck_assert_uint_eq(U.nets[0].days, 0);
    o.flags = STORE_OBS_COUNT_ONLY | STORE_OBS_LEARN;	/* let through */
    ck_assert_int_eq(store_user_update(st, &o, T0 + 60, &U), STORE_OK);
    ck_assert_int_eq(store_user_update(st, &o, T0 + HOUR, &U), STORE_OK);
    ck_assert_uint_eq(U.nets[0].key, 4200000001u);
    ck_assert_uint_eq(U.nets[0].days, 1);	/* once a day */
    ck_assert_uint_eq(U.usual_msgs, 0);	/* no volume learned */
    ck_assert_int_eq(store_user_update(st, &o, T0 + DAY, &U), STORE_OK);
    ck_assert_uint_eq(U.nets[0].days, 2);
    ck_assert_uint_eq(U.nets[0].first_day, T0 / DAY);
    /* the busiest hour: three messages in the last hour */
    o.flags |= STORE_OBS_LEARN_VOLUME;
    ck_assert_int_eq(store_user_update(st, &o, T0 + DAY + 60, &U), STORE_OK);
    ck_assert_uint_eq(U.usual_msgs, 2);
    ck_assert_int_eq(store_user_update(st, &o, T0 + DAY + 120, &U), STORE_OK);
    ck_assert_uint_eq(U.usual_msgs, 3);
    /* without an AS: the /24; nine networks in eight slots */
    o.geo.asn = 0;
    for (unsigned i = 0; i < STORE_NETS; i++) {
	char ip[32];

	snprintf(ip, sizeof(ip), "203.0.%u.9", i);
	o.ip = ip_of(ip);
	ck_assert_int_eq(store_user_update(st, &o, T0 + 2 * DAY + i, &U),
			 STORE_OK);
    }
    for (unsigned i = 0; i < STORE_NETS; i++)
	ck_assert_uint_ne(U.nets[i].key, 4200000001u);	/* the oldest went */
    ck_assert_uint_eq(store_net_key(&o.ip, 0), STORE_NET_PREFIX | 203u << 16 | 7u);
    /* a client is vouched for only when asked */
    ck_assert_int_eq(store_client_update(st, &co, T0, &c), STORE_OK);
    ck_assert_uint_eq(c.vouched, 0);
    co.flags = STORE_OBS_VOUCH;
    ck_assert_int_eq(store_client_update(st, &co, T0 + 5, &c), STORE_OK);
    ck_assert_uint_eq(c.vouched, T0 + 5);
    ck_assert_uint_eq(c.vouch_days, 1);
    ck_assert_int_eq(store_client_update(st, &co, T0 + 9, &c), STORE_OK);
    ck_assert_uint_eq(c.vouch_days, 1);	/* days, not vouches */
    store_close(st);
}
END_TEST

/* count_site_client - store_client_each callback: count, note a site key */
static int count_site_client(const struct store_client *c, void *ctx)
{
    unsigned *n = ctx;

    n[0]++;
    if (store_site_is_key(&c->ip))
	n[1]++;
    return 0;
}

/* The site's networks: one entry per /24 (/48) under a key in 100::/64
 * that no client has; the logins that vouched (one each, however often)
 * and the days they did, counted once a day; walks of the clients do
 * not see them. */
START_TEST(test_site_networks)
{
    STORE *st = tnew("site", 1000, 16);
    struct addr a = ip_of("198.51.100.7"), b = ip_of("198.51.100.200");
    struct addr c6 = ip_of("2001:db8:1:2::5"), d6 = ip_of("2001:db8:1:3::9");
    struct addr k, k2;
    struct store_client c;
    struct store_client_obs co = { .ip = a, .login = "nora" };
    unsigned n[2] = {0, 0};

    store_site_key(&a, &k);
    store_site_key(&b, &k2);
    ck_assert(addr_equal(&k, &k2));	/* one /24 */
    ck_assert(store_site_is_key(&k));
    ck_assert(!store_site_is_key(&a));
    store_site_key(&c6, &k);
    store_site_key(&d6, &k2);
    ck_assert(addr_equal(&k, &k2));	/* one /48 */
    store_site_key(&a, &k2);
    ck_assert(!addr_equal(&k, &k2));
    ck_assert_int_eq(store_site_get(st, &a, T0, &c), STORE_NOTFOUND);
    ck_assert_int_eq(store_site_vouch(st, &a, "nora", T0, &c), STORE_OK);
    ck_assert_int_eq(store_site_vouch(st, &b, "nora", T0 + HOUR, &c), STORE_OK);
    ck_assert_uint_eq(c.nlogins, 1);
    ck_assert_uint_eq(c.vouch_days, 1);	/* once a day */
    ck_assert_int_eq(store_site_vouch(st, &b, "otto", T0 + DAY, &c), STORE_OK);
    ck_assert_int_eq(store_site_get(st, &a, T0 + DAY, &c), STORE_OK);
    ck_assert_uint_eq(c.nlogins, 2);
    ck_assert_uint_eq(c.vouch_days, 2);
    ck_assert_uint_eq(c.vouch_day, (T0 + DAY) / DAY);
    ck_assert_int_eq(store_site_vouch(st, &a, "", T0, NULL), STORE_EARG);
    /* a client of the same network is its own entry; the walk sees it only */
    ck_assert_int_eq(store_client_update(st, &co, T0, NULL), STORE_OK);
    ck_assert_int_eq(store_client_each(st, T0 + DAY, count_site_client, n), STORE_OK);
    ck_assert_uint_eq(n[0], 1);
    ck_assert_uint_eq(n[1], 0);
    store_close(st);
}
END_TEST

/* The site's places (store_site_place): an AS number and a country each
 * an entry of their own, apart from each other and from any network's;
 * a read never creates one, a vouch counts the login and the day as for
 * a network; walks of the clients do not see them. */
START_TEST(test_site_places)
{
    STORE *st = tnew("places", 1000, 16);
    struct addr k, k2, net;
    struct store_client c;
    struct addr a = ip_of("198.51.100.7");
    unsigned n[2] = {0, 0};

    store_site_place_key(STORE_SITE_AS, 64500, &k);
    store_site_place_key(STORE_SITE_CC, store_site_cc("RU"), &k2);
    store_site_key(&a, &net);
    ck_assert(store_site_is_key(&k) && store_site_is_key(&k2));
    ck_assert(!addr_equal(&k, &k2) && !addr_equal(&k, &net));
    store_site_place_key(STORE_SITE_AS, 64501, &k2);
    ck_assert(!addr_equal(&k, &k2));
    ck_assert_int_eq(store_site_place(st, STORE_SITE_AS, 64500, NULL, false,
				      T0, &c), STORE_NOTFOUND);
    ck_assert_int_eq(store_site_place(st, STORE_SITE_AS, 0, "nora", true,
				      T0, &c), STORE_EARG);
    ck_assert_int_eq(store_site_place(st, STORE_SITE_AS, 64500, "", true,
				      T0, &c), STORE_EARG);
    ck_assert_int_eq(store_site_place(st, STORE_SITE_AS, 64500, "nora", true,
				      T0, NULL), STORE_OK);
    ck_assert_int_eq(store_site_place(st, STORE_SITE_AS, 64500, "otto", true,
				      T0 + DAY, &c), STORE_OK);
    ck_assert_uint_eq(c.nlogins, 2);
    ck_assert_uint_eq(c.vouch_days, 2);
    /* the country is another entry, and the network another still */
    ck_assert_int_eq(store_site_place(st, STORE_SITE_CC, store_site_cc("RU"),
				      NULL, false, T0 + DAY, &c),
		     STORE_NOTFOUND);
    ck_assert_int_eq(store_site_get(st, &a, T0 + DAY, &c), STORE_NOTFOUND);
    ck_assert_int_eq(store_site_place(st, STORE_SITE_CC, store_site_cc("RU"),
				      "nora", true, T0 + DAY, &c), STORE_OK);
    ck_assert_uint_eq(c.nlogins, 1);
    ck_assert_int_eq(store_site_place(st, STORE_SITE_AS, 64500, NULL, false,
				      T0 + DAY, &c), STORE_OK);
    ck_assert_uint_eq(c.nlogins, 2);	/* a read changes nothing */
    ck_assert_int_eq(store_client_each(st, T0 + DAY, count_site_client, n),
		     STORE_OK);
    ck_assert_uint_eq(n[0], 0);
    store_close(st);
}
END_TEST

/* The site's shared egresses (a carrier's hub located finer than
 * coarse_km, rules_hub.c): one entry per AS number and located place
 * under a key in 100:0:0:68::/64 that no client, site network or place
 * has; each login noted once however often; walks of the clients and
 * of the site's entries skip them (snapshots keep none). */
START_TEST(test_shared_egress)
{
    STORE *st = tnew("hubs", 1000, 16);
    struct addr k, k2, a = ip_of("198.51.100.7");
    struct store_client c;
    unsigned n[2] = {0, 0}, m[2] = {0, 0};
    static const char *logins[] = {"ann", "ben", "cid", "dan"};

    store_hub_key(64500, 5094, 696, &k);
    ck_assert(store_hub_is_key(&k));
    ck_assert(!store_site_is_key(&k) && !store_prefix_is_key(&k));
    store_hub_key(64500, 5094, 697, &k2);	/* another place */
    ck_assert(!addr_equal(&k, &k2));
    store_hub_key(64501, 5094, 696, &k2);	/* another AS */
    ck_assert(!addr_equal(&k, &k2));
    store_hub_key(64500, -5094, 696, &k2);	/* south */
    ck_assert(!addr_equal(&k, &k2) && store_hub_is_key(&k2));
    store_site_place_key(STORE_SITE_AS, 64500, &k2);
    ck_assert(!store_hub_is_key(&k2));
    store_prefix_key(&a, &k2);
    ck_assert(!store_hub_is_key(&k2));
    ck_assert(!store_hub_is_key(&a));

    ck_assert_int_eq(store_hub_get(st, 64500, 5094, 696, T0, &c),
		     STORE_NOTFOUND);
    ck_assert_int_eq(store_hub_note(st, 0, 5094, 696, "ann", T0, NULL),
		     STORE_EARG);
    ck_assert_int_eq(store_hub_note(st, 64500, 5094, 696, "", T0, NULL),
		     STORE_EARG);
    for (int i = 0; i < 4; i++) {
	ck_assert_int_eq(store_hub_note(st, 64500, 5094, 696, logins[i],
					T0 + i * HOUR, NULL), STORE_OK);
	ck_assert_int_eq(store_hub_note(st, 64500, 5094, 696, logins[i],
					T0 + i * HOUR + 60, &c), STORE_OK);
	ck_assert_uint_eq(c.nlogins, (unsigned) i + 1);
    }
    ck_assert_int_eq(store_hub_get(st, 64500, 5094, 696, T0 + DAY, &c),
		     STORE_OK);
    ck_assert_uint_eq(c.nlogins, 4);	/* a read changes nothing */
    ck_assert_uint_eq(c.vouch_days, 0);	/* no vouch: a note */
    ck_assert_int_eq(store_hub_get(st, 64500, 5094, 697, T0 + DAY, &c),
		     STORE_NOTFOUND);
    ck_assert_int_eq(store_client_each(st, T0 + DAY, count_site_client, n),
		     STORE_OK);
    ck_assert_uint_eq(n[0], 0);
    ck_assert_int_eq(store_site_each(st, T0 + DAY, count_site_client, m),
		     STORE_OK);
    ck_assert_uint_eq(m[0], 0);
    store_close(st);
}
END_TEST

/* An address's per-day counts: a new day shifts them, a gap clears
 * them; store_ip_recent takes the day's whole and the day before's
 * share of the window (refused messages count: they are observations). */
START_TEST(test_ip_days)
{
    STORE *st = tnew("days", 1000, 16);
    struct store_user_obs o = obs_make("hana", "198.51.100.9");
    uint32_t d0 = (T0 / DAY + 1) * DAY;	/* a midnight */

    o.msgs = 1;
    o.flags = STORE_OBS_NO_LEARN;
    for (int i = 0; i < 12; i++)
	ck_assert_int_eq(store_user_update(st, &o, d0 + 9 * HOUR + i * 60, &U),
			 STORE_OK);
    ck_assert_uint_eq(U.ips[0].count, 12);
    ck_assert_uint_eq(U.ips[0].day_msgs[0], 12);
    ck_assert_uint_eq(store_ip_recent(&U.ips[0], d0 + 10 * HOUR, DAY), 12 * STORE_IP_PARTS);
    ck_assert_uint_eq(store_ip_recent(&U.ips[0], d0 + 10 * HOUR, HOUR), 12 * STORE_IP_PARTS);
    /* the next day at 18:00: a quarter of yesterday's 12 */
    ck_assert_uint_eq(store_ip_recent(&U.ips[0], d0 + DAY + 18 * HOUR, DAY), 3 * STORE_IP_PARTS);
    ck_assert_int_eq(store_user_update(st, &o, d0 + DAY + 18 * HOUR, &U),
		     STORE_OK);
    ck_assert_uint_eq(U.ips[0].day_msgs[0], 1);
    ck_assert_uint_eq(U.ips[0].day_msgs[1], 12);
    ck_assert_uint_eq(store_ip_recent(&U.ips[0], d0 + DAY + 18 * HOUR, DAY), 4 * STORE_IP_PARTS);
    ck_assert_uint_eq(U.ips[0].count, 13);	/* since first seen */
    /* two days on nothing of it is recent; the next sighting clears */
    ck_assert_uint_eq(store_ip_recent(&U.ips[0], d0 + 3 * DAY, DAY), 0);
    ck_assert_int_eq(store_user_update(st, &o, d0 + 3 * DAY + 1, &U), STORE_OK);
    ck_assert_uint_eq(U.ips[0].day_msgs[0], 1);
    ck_assert_uint_eq(U.ips[0].day_msgs[1], 0);
    store_close(st);
}
END_TEST

/* The usual busiest day: a rolling day's messages, raised only with
 * STORE_OBS_LEARN_VOLUME like the usual hour, never lowered; kept in
 * spare bytes of the first two network slots (a state file of format 7
 * reads 0 there), so it outlives the slots being taken by other
 * networks. */
START_TEST(test_usual_day)
{
    STORE *st = tnew("day", 1000, 16);
    struct store_user_obs o = obs_make("dora", "198.51.100.8");

    o.geo.asn = 64500;
    o.msgs = 1;
    o.flags = STORE_OBS_LEARN;	/* let through, no volume learned */
    ck_assert_int_eq(store_user_update(st, &o, T0, &U), STORE_OK);
    ck_assert_uint_eq(U.usual_day, 0);
    /* 300 messages more over twelve hours: the day is 301 */
    o.msgs = 25;
    o.flags = STORE_OBS_LEARN | STORE_OBS_LEARN_VOLUME;
    for (uint32_t h = 1; h <= 12; h++)
	ck_assert_int_eq(store_user_update(st, &o, T0 + h * HOUR, &U),
			 STORE_OK);
    ck_assert_uint_eq(U.usual_day, 301);
    ck_assert_uint_eq(U.nets[0].key, 64500);
    ck_assert_uint_eq(U.nets[0].days, 1);	/* the slot itself unharmed */
    /* a quieter day does not lower it */
    o.msgs = 2;
    ck_assert_int_eq(store_user_update(st, &o, T0 + 3 * DAY, &U), STORE_OK);
    ck_assert_uint_eq(U.usual_day, 301);
    /* other networks take every slot: the day stays */
    o.flags = STORE_OBS_LEARN;
    for (unsigned i = 0; i < STORE_NETS + 1; i++) {
	o.geo.asn = 64600 + i;
	ck_assert_int_eq(store_user_update(st, &o, T0 + 4 * DAY + i, &U),
			 STORE_OK);
    }
    ck_assert_uint_ne(U.nets[0].key, 64500);
    ck_assert_uint_eq(U.usual_day, 301);
    store_close(st);
}
END_TEST

/* The last message from the login's home place: set only at the end
 * of a message let through (COUNT_ONLY, LEARN and HOME), never moved
 * back; kept in spare bytes of network slots 4-7 (a state file of format
 * 7 reads 0 there: never), beside the usual day, and it outlives the
 * slots being taken by other networks. */
START_TEST(test_home_seen)
{
    STORE *st = tnew("home", 1000, 16);
    struct store_user_obs o = obs_make("hana", "198.51.100.9");

    o.geo.asn = 64500;
    o.msgs = 1;
    o.flags = STORE_OBS_NO_LEARN | STORE_OBS_HOME;	/* at MAIL: no */
    ck_assert_int_eq(store_user_update(st, &o, T0, &U), STORE_OK);
    ck_assert_uint_eq(U.home_seen, 0);
    o.flags = STORE_OBS_COUNT_ONLY | STORE_OBS_HOME;	/* refused: no */
    ck_assert_int_eq(store_user_update(st, &o, T0 + 60, &U), STORE_OK);
    ck_assert_uint_eq(U.home_seen, 0);
    o.flags = STORE_OBS_COUNT_ONLY | STORE_OBS_LEARN | STORE_OBS_LEARN_VOLUME
	| STORE_OBS_HOME;
    ck_assert_int_eq(store_user_update(st, &o, T0 + 120, &U), STORE_OK);
    ck_assert_uint_eq(U.home_seen, T0 + 120);
    ck_assert_uint_eq(U.usual_day, 3);	/* its neighbour unharmed */
    ck_assert_uint_eq(U.nets[0].key, 64500);
    ck_assert_int_eq(store_user_update(st, &o, T0 + 60, &U), STORE_OK);
    ck_assert_uint_eq(U.home_seen, T0 + 120);	/* never back */
    o.flags = STORE_OBS_COUNT_ONLY | STORE_OBS_LEARN;	/* not home */
    ck_assert_int_eq(store_user_update(st, &o, T0 + HOUR, &U), STORE_OK);
    ck_assert_uint_eq(U.home_seen, T0 + 120);
    for (unsigned i = 0; i < STORE_NETS + 1; i++) {
	o.geo.asn = 64600 + i;
	ck_assert_int_eq(store_user_update(st, &o, T0 + DAY + i, &U),
			 STORE_OK);
    }
    ck_assert_uint_ne(U.nets[0].key, 64500);
    ck_assert_uint_eq(U.home_seen, T0 + 120);
    o.flags |= STORE_OBS_HOME;
    ck_assert_int_eq(store_user_update(st, &o, T0 + 2 * DAY, &U), STORE_OK);
    ck_assert_uint_eq(U.home_seen, T0 + 2 * DAY);
    ck_assert_uint_eq(U.usual_day, 4);	/* the last LEARN_VOLUME's */
    /* a clock stepped back by more than a day: the kept time follows it */
    ck_assert_int_eq(store_user_update(st, &o, T0 + 2 * DAY - HOUR, &U),
		     STORE_OK);
    ck_assert_uint_eq(U.home_seen, T0 + 2 * DAY);
    ck_assert_int_eq(store_user_update(st, &o, T0 + DAY - 60, &U), STORE_OK);
    ck_assert_uint_eq(U.home_seen, T0 + DAY - 60);
    store_close(st);
}
END_TEST

/* A message from the home place refused by the login's block notes
 * the owner at home (store_user_home_refused, rules.c note_home): the
 * time moves forward as for one let through, never back, and an
 * unknown login is not created. */
START_TEST(test_home_refused)
{
    STORE *st = tnew("homeref", 1000, 16);
    struct store_user_obs o = obs_make("hana", "198.51.100.9");

    ck_assert_int_eq(store_user_home_refused(st, "hana", 2, T0),
		     STORE_NOTFOUND);
    o.geo.asn = 64500;
    o.msgs = 1;
    o.flags = STORE_OBS_NO_LEARN | STORE_OBS_HOME;	/* at MAIL */
    ck_assert_int_eq(store_user_update(st, &o, T0, &U), STORE_OK);
    ck_assert_uint_eq(U.home_seen, 0);
    ck_assert_int_eq(store_user_home_refused(st, "hana", 2, T0 + 60),
		     STORE_OK);
    ck_assert_int_eq(store_user_get(st, "hana", T0 + 60, &U), STORE_OK);
    ck_assert_uint_eq(U.home_seen, T0 + 60);
    ck_assert_int_eq(store_user_home_refused(st, "hana", 2, T0 + 30),
		     STORE_OK);
    ck_assert_int_eq(store_user_get(st, "hana", T0 + 60, &U), STORE_OK);
    ck_assert_uint_eq(U.home_seen, T0 + 60);	/* never back */
    ck_assert_uint_eq(U.nips, 1);		/* nothing else touched */
    ck_assert_uint_eq(U.ips[0].count, 1);
    store_close(st);
}
END_TEST

/* An address's accuracy radius class and anchor mark, kept in spare
 * bits of its country code: the country still reads as two letters; the
 * radius is the upper end of its class, 0 without a location or a
 * radius; the anchor mark comes only with LEARN and ANCHOR at the end
 * of a message and stays through later observations. An entry as a
 * file written before keeps it (two plain letters) reads as radius
 * unknown and no anchor. */
START_TEST(test_ip_radius_anchor)
{
    STORE *st = tnew("radius", 1000, 16);
    struct store_user_obs o = obs_make("rita", "198.51.100.7");
    static const struct { uint16_t acc; uint32_t top; } cls[] = {
	{1, 10}, {10, 10}, {11, 20}, {20, 20}, {49, 50}, {99, 99}, {100, 200},
	{200, 200}, {201, 500}, {500, 500}, {501, 1000}, {20000, 1000},
	{0, 0},
    };
    struct store_ip old;
    char cc[3];

    memcpy(o.geo.cc, "DE", 3);
    o.geo.asn = 3320, o.geo.has_loc = 1, o.geo.lat_c = 5252;
    o.geo.lon_c = 1340;
    for (size_t i = 0; i < sizeof(cls) / sizeof(cls[0]); i++) {
	o.geo.acc_km = cls[i].acc;
	ck_assert_int_eq(store_user_update(st, &o, T0 + i, &U), STORE_OK);
	ck_assert_uint_eq(store_ip_radius(&U.ips[0]), cls[i].top);
	store_ip_cc(&U.ips[0], cc);
	ck_assert_str_eq(cc, "DE");
	ck_assert(!store_ip_anchor(&U.ips[0]));
    }
    o.geo.acc_km = 20;
    o.flags = STORE_OBS_COUNT_ONLY | STORE_OBS_ANCHOR;	/* no LEARN: none */
    ck_assert_int_eq(store_user_update(st, &o, T0 + 60, &U), STORE_OK);
    ck_assert(!store_ip_anchor(&U.ips[0]));
    o.flags |= STORE_OBS_LEARN;
    ck_assert_int_eq(store_user_update(st, &o, T0 + 61, &U), STORE_OK);
    ck_assert(store_ip_anchor(&U.ips[0]));
    o.flags = STORE_OBS_NO_LEARN, o.geo.has_loc = 0;	/* no place now */
    ck_assert_int_eq(store_user_update(st, &o, T0 + 62, &U), STORE_OK);
    ck_assert(store_ip_anchor(&U.ips[0]));
    ck_assert_uint_eq(store_ip_radius(&U.ips[0]), 0);
    store_ip_cc(&U.ips[0], cc);
    ck_assert_str_eq(cc, "DE");
    o.geo.cc[0] = 0, o.geo.has_loc = 1, o.geo.acc_km = 600;	/* no country */
    ck_assert_int_eq(store_user_update(st, &o, T0 + 63, &U), STORE_OK);
    store_ip_cc(&U.ips[0], cc);
    ck_assert_str_eq(cc, "");
    ck_assert_uint_eq(store_ip_radius(&U.ips[0]), 1000);
    ck_assert(store_ip_anchor(&U.ips[0]));
    memset(&old, 0, sizeof(old));	/* as an older file holds it */
    memcpy(old.cc, "FR", 2);
    store_ip_cc(&old, cc);
    ck_assert_str_eq(cc, "FR");
    ck_assert_uint_eq(store_ip_radius(&old), 0);
    ck_assert(!store_ip_anchor(&old));
    store_close(st);
}
END_TEST

/* The usual coarse hour (store_carrier.c): a new entry reads 0 (as a
 * file written before it does), rises at once while the login learns,
 * afterwards by one a day at most, never falls; kept in spare bytes of
 * network slots 2 and 3, so the usual day and the slots are unharmed. */
START_TEST(test_usual_coarse)
{
    STORE *st = tnew("coarse", 1000, 16);
    struct store_user_obs o = obs_make("cora", "198.51.100.9");

    o.geo.asn = 64500;
    o.msgs = 1;
    o.flags = STORE_OBS_LEARN | STORE_OBS_LEARN_VOLUME;
    ck_assert_int_eq(store_user_update(st, &o, T0, &U), STORE_OK);
    ck_assert_uint_eq(U.usual_coarse, 0);
    ck_assert_int_eq(store_user_coarse_learn(st, "nobody", 3, true, T0),
		     STORE_NOTFOUND);
    ck_assert_int_eq(store_user_coarse_learn(st, "cora", 3, true, T0), STORE_OK);
    ck_assert_int_eq(store_user_coarse_learn(st, "cora", 2, true, T0), STORE_OK);
    ck_assert_int_eq(store_user_get(st, "cora", T0, &U), STORE_OK);
    ck_assert_uint_eq(U.usual_coarse, 3);	/* learning: at once, never down */
    /* past learning: 9 raises it by one, and not again that day */
    ck_assert_int_eq(store_user_coarse_learn(st, "cora", 9, false, T0 + DAY), STORE_OK);
    ck_assert_int_eq(store_user_coarse_learn(st, "cora", 9, false, T0 + DAY + 60), STORE_OK);
    ck_assert_int_eq(store_user_get(st, "cora", T0 + DAY, &U), STORE_OK);
    ck_assert_uint_eq(U.usual_coarse, 4);
    ck_assert_int_eq(store_user_coarse_learn(st, "cora", 9, false, T0 + 2 * DAY), STORE_OK);
    ck_assert_int_eq(store_user_get(st, "cora", T0 + 2 * DAY, &U), STORE_OK);
    ck_assert_uint_eq(U.usual_coarse, 5);
    /* saturates at 255 */
    ck_assert_int_eq(store_user_coarse_learn(st, "cora", 100000, true, T0 + 2 * DAY), STORE_OK);
    ck_assert_int_eq(store_user_get(st, "cora", T0 + 2 * DAY, &U), STORE_OK);
    ck_assert_uint_eq(U.usual_coarse, 255);
    ck_assert_uint_eq(U.nets[0].key, 64500);	/* the slot and day unharmed */
    ck_assert_uint_eq(U.usual_day, 1);
    store_close(st);
}
END_TEST

/* The pool's addresses the list dropped (store_carrier.c, ext[31]): a
 * coarse address (no finer than line_km) the full list drops while last
 * seen within the hour counts in the half hour of the login's last_seen;
 * a fine one, or one last seen over an hour before, does not; the count
 * moves to the half hour before at the next, and is gone after two; a
 * half hour's count saturates at 15. On 3eb61e5 nothing counted them: a
 * heavy phone user's hour stopped at what its 16 addresses held. */
START_TEST(test_coarse_gone)
{
    STORE *st = tnew("gone", 1000, 16);
    struct store_user_obs o = obs_make("gina", "198.51.100.7");
    uint32_t t = T0 + 8 * HOUR, i;
    char ip[32];

    o.line_km = 100;
    obs_geo(&o, "DE", 64500, 5000, 1000, 10);	/* her home line: fine */
    ck_assert_int_eq(store_user_update(st, &o, t, &U), STORE_OK);
    obs_geo(&o, "DE", 64501, 5200, 1300, 200);	/* her carrier's hub */
    for (i = 0; i < 15; i++) {
	snprintf(ip, sizeof(ip), "100.64.0.%u", i + 1);
	o.ip = ip_of(ip);
	ck_assert_int_eq(store_user_update(st, &o, t + 60 * (i + 1), &U),
			 STORE_OK);
    }
    ck_assert_uint_eq(U.nips, 16);
    ck_assert_uint_eq(store_user_coarse_gone(&U, t + 960), 0);
    /* the 16th phone address drops the home line (fine): none counted;
     * the next three drop three of the phone's */
    for (i = 15; i < 19; i++) {
	snprintf(ip, sizeof(ip), "100.64.0.%u", i + 1);
	o.ip = ip_of(ip);
	ck_assert_int_eq(store_user_update(st, &o, t + 60 * (i + 1), &U),
			 STORE_OK);
    }
    ck_assert_uint_eq(store_user_coarse_gone(&U, t + 1140), 3);
    /* the next half hour: still counted (the one before) */
    ck_assert_uint_eq(store_user_coarse_gone(&U, t + 1800 + 60), 3);
    /* two half hours on: over */
    ck_assert_uint_eq(store_user_coarse_gone(&U, t + 3600 + 60), 0);
    /* an observation in the next half hour moves the count along */
    o.ip = ip_of("100.64.1.1");
    ck_assert_int_eq(store_user_update(st, &o, t + 1800 + 60, &U), STORE_OK);
    ck_assert_uint_eq(U.ext[STORE_EXT_COARSE_GONE], 0x31);
    ck_assert_uint_eq(store_user_coarse_gone(&U, t + 1800 + 60), 4);
    /* two hours on, the list drops addresses last seen long before */
    o.ip = ip_of("100.64.2.1");
    ck_assert_int_eq(store_user_update(st, &o, t + 4 * HOUR, &U), STORE_OK);
    ck_assert_uint_eq(store_user_coarse_gone(&U, t + 4 * HOUR), 0);
    /* a half hour's count stops at 15 */
    for (i = 0; i < 40; i++) {
	snprintf(ip, sizeof(ip), "100.64.3.%u", i + 1);
	o.ip = ip_of(ip);
	ck_assert_int_eq(store_user_update(st, &o, t + 5 * HOUR + 30 * i,
					   &U), STORE_OK);
    }
    ck_assert_uint_eq(U.ext[STORE_EXT_COARSE_GONE] & 0x0f, 15);
    store_close(st);
}
END_TEST

/* the carrier note test_coarse_obs's hook returns, and what it saw */
static struct store_coarse_note obs_note;
static bool obs_note_on;
static uint64_t obs_seen_bytes;
static uint32_t obs_calls;

/* coarse_hook - store_user_obs.coarse for test_coarse_obs */
static bool coarse_hook(const struct store_user *u, const void *arg,
			struct store_coarse_note *note)
{
    ck_assert_ptr_eq(arg, &obs_note);
    obs_calls++;
    obs_seen_bytes = store_win_sum(&u->win, STORE_BYTES, T0 + DAY, HOUR);
    *note = obs_note;
    return obs_note_on;
}

/* The end of a message's carrier note in its own update
 * (store_user_obs.coarse, rules_carrier.c): the hook decides on the
 * entry as this observation leaves it (its bytes counted), under the
 * same lock, and its note is in the entry and in the copy the update
 * hands out; a hook that declines changes nothing, and an update
 * without a copy out does not ask it. */
START_TEST(test_coarse_obs)
{
    STORE *st = tnew("coarseobs", 1000, 16);
    struct store_user_obs o = obs_make("cleo", "198.51.100.11");
    struct store_user g;
    uint16_t hub = store_hub_tag(64500, 5000, 1000);

    o.geo.asn = 64500;
    o.msgs = 1;
    o.flags = STORE_OBS_LEARN;
    ck_assert_int_eq(store_user_update(st, &o, T0 + DAY, &U), STORE_OK);
    o.msgs = 0;
    o.bytes = 5 * STORE_BYTES_UNIT;
    o.flags = STORE_OBS_COUNT_ONLY;
    o.coarse = coarse_hook;
    o.coarse_arg = &obs_note;
    obs_note = (struct store_coarse_note) {hub, 6, true};
    obs_note_on = false;
    ck_assert_int_eq(store_user_update(st, &o, T0 + DAY, &U), STORE_OK);
    ck_assert_uint_eq(obs_calls, 1);
    ck_assert_uint_eq(obs_seen_bytes, 5 * STORE_BYTES_UNIT);	/* its own */
    ck_assert_uint_eq(U.usual_coarse, 0);	/* declined: nothing */
    ck_assert(!store_user_hub_known(&U, hub, T0 + 2 * DAY));
    obs_note_on = true;
    ck_assert_int_eq(store_user_update(st, &o, T0 + DAY + 60, &U), STORE_OK);
    ck_assert_uint_eq(obs_calls, 2);
    ck_assert_uint_eq(obs_seen_bytes, 10 * STORE_BYTES_UNIT);
    ck_assert_uint_eq(U.usual_coarse, 6);	/* in the copy handed out */
    ck_assert(store_user_hub_known(&U, hub, T0 + 2 * DAY));
    ck_assert_int_eq(store_user_get(st, "cleo", T0 + DAY + 60, &g), STORE_OK);
    ck_assert_uint_eq(g.usual_coarse, 6);	/* and in the entry */
    ck_assert_mem_eq(g.ext, U.ext, STORE_EXT_LEN);
    ck_assert_int_eq(store_user_update(st, &o, T0 + DAY + 120, NULL),
		     STORE_OK);
    ck_assert_uint_eq(obs_calls, 2);	/* no copy out: not asked */
    store_close(st);
}
END_TEST

/* test_sole_hub - the one hub a login noted on earlier days
 * (store_user_sole_hub, round 17 - carrier2): none before the first
 * day is over, that hub while it is the only earlier one (today's new
 * hubs do not count), none once a second hub is from an earlier day */
START_TEST(test_sole_hub)
{
    STORE *st = tnew("solehub", 1000, 16);
    struct store_user_obs o = obs_make("ines", "198.51.100.12");
    uint16_t a = store_hub_tag(64500, 5000, 1000);
    uint16_t b = store_hub_tag(64500, 5100, 1000);

    o.msgs = 1;
    o.flags = STORE_OBS_LEARN | STORE_OBS_LEARN_VOLUME;
    ck_assert_int_eq(store_user_update(st, &o, T0, &U), STORE_OK);
    ck_assert_uint_eq(store_user_sole_hub(&U, T0), 0);	/* none */
    ck_assert_int_eq(store_user_coarse_note(st, "ines", a, 0, false, T0),
		     STORE_OK);
    ck_assert_int_eq(store_user_get(st, "ines", T0, &U), STORE_OK);
    ck_assert_uint_eq(store_user_sole_hub(&U, T0), 0);	/* today's */
    ck_assert_uint_eq(store_user_sole_hub(&U, T0 + DAY), a);
    /* the next day again, and a new hub today: a is still the only one
     * of an earlier day */
    ck_assert_int_eq(store_user_coarse_note(st, "ines", a, 0, false,
					    T0 + DAY), STORE_OK);
    ck_assert_int_eq(store_user_coarse_note(st, "ines", b, 0, false,
					    T0 + DAY + 60), STORE_OK);
    ck_assert_int_eq(store_user_get(st, "ines", T0 + DAY, &U), STORE_OK);
    ck_assert_uint_eq(store_user_sole_hub(&U, T0 + DAY), a);
    /* a day later both are from earlier days: no sole hub */
    ck_assert_uint_eq(store_user_sole_hub(&U, T0 + 2 * DAY), 0);
    ck_assert_int_eq(store_user_coarse_note(st, "ines", a, 0, false,
					    T0 + 2 * DAY), STORE_OK);
    ck_assert_int_eq(store_user_get(st, "ines", T0 + 2 * DAY, &U), STORE_OK);
    ck_assert_uint_eq(store_user_sole_hub(&U, T0 + 2 * DAY), 0);
    store_close(st);
}
END_TEST

/* test_sole_hub_full - a list that filled is no sole hub: today's new
 * hubs may have pushed the earlier days' ones out */
START_TEST(test_sole_hub_full)
{
    STORE *st = tnew("solefull", 1000, 16);
    struct store_user_obs o = obs_make("olga", "198.51.100.13");
    uint16_t h[STORE_HUBS];

    o.msgs = 1;
    o.flags = STORE_OBS_LEARN | STORE_OBS_LEARN_VOLUME;
    ck_assert_int_eq(store_user_update(st, &o, T0, &U), STORE_OK);
    for (int i = 0; i < STORE_HUBS; i++)
	h[i] = store_hub_tag(64500, (int16_t) (5000 + i), 1000);
    ck_assert_int_eq(store_user_coarse_note(st, "olga", h[0], 0, false, T0),
		     STORE_OK);
    for (int i = 1; i < STORE_HUBS - 1; i++)
	ck_assert_int_eq(store_user_coarse_note(st, "olga", h[i], 0, false,
						T0 + DAY), STORE_OK);
    ck_assert_int_eq(store_user_get(st, "olga", T0 + DAY, &U), STORE_OK);
    ck_assert_uint_eq(store_user_sole_hub(&U, T0 + DAY), h[0]);
    ck_assert_int_eq(store_user_coarse_note(st, "olga", h[STORE_HUBS - 1], 0,
					    false, T0 + DAY), STORE_OK);
    ck_assert_int_eq(store_user_get(st, "olga", T0 + DAY, &U), STORE_OK);
    ck_assert_uint_eq(store_user_sole_hub(&U, T0 + DAY), 0);	/* full */
    store_close(st);
}
END_TEST

/* test_known_hubs - a login's known carrier hubs (format 8, h-judge's
 * ext bytes): known from the day after the first note, the least
 * recent of five falls off, the usual coarse hour is untouched by a
 * note without a count, and the other owners' ext bytes stay zero */
START_TEST(test_known_hubs)
{
    STORE *st = tnew("hubs", 1000, 16);
    struct store_user_obs o = obs_make("hana", "198.51.100.10");
    uint16_t h[5];

    for (int i = 0; i < 5; i++)
	h[i] = store_hub_tag(64500, (int16_t) (5000 + i), 1000);
    ck_assert_uint_ne(h[0], 0);
    ck_assert_uint_ne(h[0], h[1]);
    ck_assert_uint_ne(h[0], store_hub_tag(64501, 5000, 1000));
    o.msgs = 1;
    o.flags = STORE_OBS_LEARN | STORE_OBS_LEARN_VOLUME;
    ck_assert_int_eq(store_user_update(st, &o, T0, &U), STORE_OK);
    ck_assert(!store_user_hub_known(&U, h[0], T0));
    ck_assert_int_eq(store_user_coarse_note(st, "hana", h[0], 0, false, T0),
		     STORE_OK);
    ck_assert_int_eq(store_user_get(st, "hana", T0, &U), STORE_OK);
    ck_assert(!store_user_hub_known(&U, h[0], T0));	/* today's */
    ck_assert(store_user_hub_known(&U, h[0], T0 + DAY));	/* tomorrow */
    ck_assert(!store_user_hub_known(&U, h[1], T0 + DAY));
    ck_assert_uint_eq(U.usual_coarse, 0);	/* count 0: no raise */
    /* the next day: a second hub today, the first stays known */
    ck_assert_int_eq(store_user_coarse_note(st, "hana", h[1], 4, true,
					    T0 + DAY), STORE_OK);
    ck_assert_int_eq(store_user_get(st, "hana", T0 + DAY, &U), STORE_OK);
    ck_assert(store_user_hub_known(&U, h[0], T0 + DAY));
    ck_assert(!store_user_hub_known(&U, h[1], T0 + DAY));
    ck_assert_uint_eq(U.usual_coarse, 4);
    /* five hubs on day 2: the least recent (h[0]) falls off */
    for (int i = 2; i < 5; i++)
	ck_assert_int_eq(store_user_coarse_note(st, "hana", h[i], 0, false,
						T0 + 2 * DAY), STORE_OK);
    ck_assert_int_eq(store_user_get(st, "hana", T0 + 3 * DAY, &U), STORE_OK);
    ck_assert(!store_user_hub_known(&U, h[0], T0 + 3 * DAY));
    for (int i = 1; i < 5; i++)
	ck_assert(store_user_hub_known(&U, h[i], T0 + 3 * DAY));
    /* a hub noted again moves to the front and stays known */
    ck_assert_int_eq(store_user_coarse_note(st, "hana", h[1], 0, false,
					    T0 + 3 * DAY), STORE_OK);
    ck_assert_int_eq(store_user_coarse_note(st, "hana", h[0], 0, false,
					    T0 + 3 * DAY), STORE_OK);
    ck_assert_int_eq(store_user_get(st, "hana", T0 + 3 * DAY, &U), STORE_OK);
    ck_assert(store_user_hub_known(&U, h[1], T0 + 3 * DAY));
    ck_assert(!store_user_hub_known(&U, h[0], T0 + 3 * DAY));
    ck_assert(!store_user_hub_known(&U, h[2], T0 + 3 * DAY));	/* fell off */
    /* the hub notes write h-judge's bytes only: h-judge2's free ones and
     * h-judge3's stay 0 (its prior usual, ext[19..21], moves with the
     * usual hours, as h-vpn's prior day, ext[10..12], does) */
    for (int i = STORE_EXT_JUDGE2; i < STORE_EXT_LEN; i++)
	if ((i < STORE_EXT_PRIOR_RCPTS || i > STORE_EXT_PRIOR_DAY)
	    && i != STORE_EXT_PRIOR_DAY_NO)
	    ck_assert_uint_eq(U.ext[i], 0);
    store_close(st);
}
END_TEST

/* The site's entries in a full client table: a flood of new client
 * addresses (many times the table) evicts plain clients, never the
 * site's networks and places while a plain client can go; a stripe
 * holding nothing else gives up its least recently vouched one, and
 * that is counted apart (site_evictions). */
START_TEST(test_site_eviction)
{
    enum { CAP = 16, NETS = 24, FLOOD = 4 * CAP * STORE_STRIPES };
    STORE *st = tnew("site-evict", CAP * STORE_STRIPES, 4);
    struct store_client c;
    struct store_stats s;
    char ip[32];

    for (unsigned i = 0; i < NETS; i++) {
	snprintf(ip, sizeof(ip), "198.51.%u.7", i);
	struct addr a = ip_of(ip);

	ck_assert_int_eq(store_site_vouch(st, &a, "nora", T0 + i, NULL),
			 STORE_OK);
    }
    ck_assert_int_eq(store_site_place(st, STORE_SITE_AS, 64500, "nora", true,
				      T0, NULL), STORE_OK);
    ck_assert_int_eq(store_site_place(st, STORE_SITE_CC, store_site_cc("DE"),
				      "nora", true, T0, NULL), STORE_OK);
    for (unsigned i = 0; i < FLOOD; i++) {
	struct store_client_obs o = { .msgs = 1 };

	snprintf(ip, sizeof(ip), "10.%u.%u.%u", i >> 16 & 255, i >> 8 & 255,
		 i & 255);
	o.ip = ip_of(ip);
	ck_assert_int_eq(store_client_update(st, &o, T0 + HOUR + i, NULL),
			 STORE_OK);
    }
    store_get_stats(st, &s);
    ck_assert_uint_gt(s.evictions, FLOOD / 2);
    ck_assert_uint_eq(s.site_evictions, 0);
    for (unsigned i = 0; i < NETS; i++) {
	struct addr a;

	snprintf(ip, sizeof(ip), "198.51.%u.7", i);
	a = ip_of(ip);
	ck_assert_msg(store_site_get(st, &a, T0 + DAY, &c) == STORE_OK,
		      "site network %s evicted", ip);
	ck_assert_uint_eq(c.vouched, T0 + i);
    }
    ck_assert_int_eq(store_site_place(st, STORE_SITE_AS, 64500, NULL, false,
				      T0 + DAY, &c), STORE_OK);
    ck_assert_int_eq(store_site_place(st, STORE_SITE_CC, store_site_cc("DE"),
				      NULL, false, T0 + DAY, &c), STORE_OK);
    store_close(st);
}
END_TEST

/* A client table of nothing but the site's networks (4 slots a stripe,
 * far more networks): each new one, and a new client, takes the place
 * of the least recently vouched network of its stripe, never STORE_FULL;
 * every such eviction is counted apart as well. */
START_TEST(test_site_eviction_full)
{
    enum { CAP = 4, NETS = 16 * CAP * STORE_STRIPES };
    STORE *st = tnew("site-full", CAP * STORE_STRIPES, 4);
    struct store_client_obs o = { .ip = ip_of("192.0.2.1"), .msgs = 1 };
    struct store_client c;
    struct store_stats s;
    struct addr a;
    char ip[32];

    for (unsigned i = 0; i < NETS; i++) {
	snprintf(ip, sizeof(ip), "10.%u.%u.1", i >> 8 & 255, i & 255);
	a = ip_of(ip);
	ck_assert_int_eq(store_site_vouch(st, &a, "nora", T0 + i, NULL),
			 STORE_OK);
    }
    store_get_stats(st, &s);
    ck_assert_uint_eq(s.clients, CAP * STORE_STRIPES);
    ck_assert_uint_eq(s.evictions, NETS - CAP * STORE_STRIPES);
    ck_assert_uint_eq(s.site_evictions, s.evictions);
    ck_assert_int_eq(store_site_get(st, &a, T0 + NETS, &c), STORE_OK);
    a = ip_of("10.0.0.1");	/* the first vouched for: gone */
    ck_assert_int_eq(store_site_get(st, &a, T0 + NETS, &c), STORE_NOTFOUND);
    ck_assert_int_eq(store_client_update(st, &o, T0 + NETS, &c), STORE_OK);
    store_get_stats(st, &s);
    ck_assert_uint_eq(s.site_evictions, NETS - CAP * STORE_STRIPES + 1);
    ck_assert_int_eq(store_debug_check_stripe(st, STORE_DEBUG_CLIENTS,
			store_debug_client_stripe(st, &o.ip)), 0);
    store_close(st);
}
END_TEST

/* kept_obs - ute's observation from ip at now, the message let through
 * from it as from a familiar place when anchor (the MAIL observation,
 * then the end of the message, as rules.c records them) */
static void kept_obs(STORE *st, struct store_user_obs *o, const char *ip,
		     uint32_t now, bool anchor)
{
    o->ip = ip_of(ip);
    o->flags = STORE_OBS_NO_LEARN;
    o->msgs = 1;
    ck_assert_int_eq(store_user_update(st, o, now, NULL), STORE_OK);
    if (!anchor)
	return;
    o->flags = STORE_OBS_COUNT_ONLY | STORE_OBS_LEARN | STORE_OBS_ANCHOR;
    o->msgs = 0;
    ck_assert_int_eq(store_user_update(st, o, now + 1, NULL), STORE_OK);
}

/* listed - is ip in the copy's address list? */
static bool listed(const struct store_user *u, const char *ip)
{
    struct addr a = ip_of(ip);

    for (uint32_t i = 0; i < u->nips; i++)
	if (addr_equal(&u->ips[i].ip, &a))
	    return true;
    return false;
}

/* A full address list keeps the login's places (store_user.c ip_victim):
 * a home line (a fine anchor seen on two days, in the country with the
 * most days) stays while a phone's IPv6 /64s, a new one per connection,
 * fill the list; a fine anchor of one day, a fine place never let
 * through, a coarse anchor and a hotel abroad go as before; at most half
 * the list is kept; the new address's own network keeps none of its
 * addresses; with line_km 0 nothing is kept. */
START_TEST(test_kept_places)
{
    STORE *st = tnew("kept", 1000, 16);
    struct store_user_obs o = obs_make("ute", "198.51.100.7");
    char ip[48];

    for (int old = 0; old < 2; old++) {
	o.login = old ? "old" : "ute";
	o.line_km = old ? 0 : 100;
	obs_geo(&o, "DE", 3320, 5252, 1340, 20);	/* the home line */
	kept_obs(st, &o, "198.51.100.7", T0, true);
	kept_obs(st, &o, "198.51.100.7", T0 + DAY, true);
	kept_obs(st, &o, "198.51.100.8", T0 + DAY + 60, true); /* 1 day */
	kept_obs(st, &o, "198.51.100.9", T0 + DAY + 120, false);
	kept_obs(st, &o, "198.51.100.9", T0 + 2 * DAY, false);
	obs_geo(&o, "DE", 3320, 5000, 900, 500);	/* coarse, anchor */
	kept_obs(st, &o, "192.0.2.1", T0, true);
	kept_obs(st, &o, "192.0.2.1", T0 + 2 * DAY + 60, true);
	obs_geo(&o, "FR", 3215, 4886, 235, 20);	/* a hotel: not home */
	kept_obs(st, &o, "198.51.100.30", T0 + DAY + 300, true);
	kept_obs(st, &o, "198.51.100.30", T0 + 2 * DAY + 300, true);
	obs_geo(&o, "CN", 9808, 3990, 11640, 200);	/* the local SIM */
	for (unsigned i = 0; i < 20; i++) {
	    snprintf(ip, sizeof(ip), "2001:db8:0:%x::1", i);
	    kept_obs(st, &o, ip, T0 + 3 * DAY + i * 60, i % 2 == 0);
	}
	ck_assert_int_eq(store_user_get(st, o.login, T0 + 4 * DAY, &U),
			 STORE_OK);
	ck_assert_uint_eq(U.nips, 16);
	snprintf(ip, sizeof(ip), "2001:db8:0:%x::1", 19);
	ck_assert(listed(&U, ip));		/* newest first, as before */
	ck_assert(addr_equal(&U.ips[0].ip, &o.ip));
	ck_assert(listed(&U, "198.51.100.7") == !old);
	ck_assert(!listed(&U, "198.51.100.8"));
	ck_assert(!listed(&U, "198.51.100.9"));
	ck_assert(!listed(&U, "192.0.2.1"));
	ck_assert(!listed(&U, "198.51.100.30"));
	snprintf(ip, sizeof(ip), "2001:db8:0:%x::1", old ? 3 : 4);
	ck_assert(!listed(&U, ip));		/* the oldest /64s went */
	snprintf(ip, sizeof(ip), "2001:db8:0:%x::1", old ? 4 : 5);
	ck_assert(listed(&U, ip));
    }
    /* twelve home lines of two days each: eight (half the list) stay
     * while the phone brings 20 /64s, the eight most recently observed */
    o.login = "many", o.line_km = 100;
    for (unsigned i = 0; i < 12; i++) {
	snprintf(ip, sizeof(ip), "198.51.100.%u", 20 + i);
	obs_geo(&o, "DE", 3320, 5252, 1340, 20);
	kept_obs(st, &o, ip, T0 + i * 60, true);
	kept_obs(st, &o, ip, T0 + DAY + i * 60, true);
    }
    obs_geo(&o, "CN", 9808, 3990, 11640, 200);
    for (unsigned i = 0; i < 20; i++) {
	snprintf(ip, sizeof(ip), "2001:db8:1:%x::1", i);
	kept_obs(st, &o, ip, T0 + 3 * DAY + i * 60, false);
    }
    ck_assert_int_eq(store_user_get(st, "many", T0 + 4 * DAY, &U), STORE_OK);
    ck_assert_uint_eq(U.nips, 16);
    for (unsigned i = 0; i < 12; i++) {
	snprintf(ip, sizeof(ip), "198.51.100.%u", 20 + i);
	ck_assert_msg(listed(&U, ip) == (i >= 4), "%s", ip);
    }
    for (unsigned i = 0; i < 20; i++) {
	snprintf(ip, sizeof(ip), "2001:db8:1:%x::1", i);
	ck_assert_msg(listed(&U, ip) == (i >= 12), "%s", ip);
    }
    /* the home line's own network rotating its IPv6 /64s: one network
     * in use, its addresses come and go as before */
    o.login = "same";
    obs_geo(&o, "DE", 3320, 5252, 1340, 20);
    kept_obs(st, &o, "198.51.100.7", T0, true);
    kept_obs(st, &o, "198.51.100.7", T0 + DAY, true);
    for (unsigned i = 0; i < 16; i++) {
	snprintf(ip, sizeof(ip), "2001:db8:3:%x::1", i);
	kept_obs(st, &o, ip, T0 + 3 * DAY + i * 60, false);
    }
    ck_assert_int_eq(store_user_get(st, "same", T0 + 4 * DAY, &U), STORE_OK);
    ck_assert(!listed(&U, "198.51.100.7"));
    store_close(st);
}
END_TEST

/* places_suite - familiar networks, site networks, addresses by day */
static Suite *places_suite(void)
{
    Suite *s = suite_create("store_places");
    TCase *tc = tcase_create("places");

    tcase_add_unchecked_fixture(tc, tdir_make, tdir_rm);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_familiar_places);
    tcase_add_test(tc, test_site_networks);
    tcase_add_test(tc, test_site_places);
    tcase_add_test(tc, test_shared_egress);
    tcase_add_test(tc, test_site_eviction);
    tcase_add_test(tc, test_site_eviction_full);
    tcase_add_test(tc, test_ip_days);
    tcase_add_test(tc, test_usual_day);
    tcase_add_test(tc, test_usual_coarse);
    tcase_add_test(tc, test_known_hubs);
    tcase_add_test(tc, test_coarse_obs);
    tcase_add_test(tc, test_home_seen);
    tcase_add_test(tc, test_home_refused);
    tcase_add_test(tc, test_ip_radius_anchor);
    tcase_add_test(tc, test_kept_places);
    tcase_add_test(tc, test_coarse_gone);
    tcase_add_test(tc, test_sole_hub);
    tcase_add_test(tc, test_sole_hub_full);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(places_suite());
}
