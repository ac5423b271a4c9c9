/*
 * check_store_native - unit tests of h-native's spare bytes of format 8
 * (ext[13..14]): the network a login took up again today after a day or
 * more without it, while it came from another country since the start
 * of yesterday (store_revisit.c).
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "store.h"
#include "store_int.h"
#include "check_main.h"
#include "store_test.h"

#define VN_ASN 64502u		/* a family's ISP abroad */
#define DE_ASN 64498u		/* the home line's */

/* policy.coarse_km as the engine passes it (obs.line_km) */
static uint32_t Line_km = 100;

/* let_through_at - a message of login from ip (country cc, AS asn,
 * located to acc_km) let through at t; the copy in U */
static void let_through_at(STORE *st, const char *login, const char *ip,
			   const char *cc, uint32_t asn, uint16_t acc_km,
			   uint32_t t)
{
    struct store_user_obs o = obs_make(login, ip);

    obs_geo(&o, cc, asn, 5000, 1000, acc_km);
    o.line_km = Line_km;
    o.msgs = 1;
    o.flags = STORE_OBS_LEARN;
    ck_assert_int_eq(store_user_update(st, &o, t, &U), STORE_OK);
}

/* let_through - the same from a line (20 km) */
static void let_through(STORE *st, const char *login, const char *ip,
			const char *cc, uint32_t asn, uint32_t t)
{
    let_through_at(st, login, ip, cc, asn, 20, t);
}

/* key - a network's key */
static uint64_t key(const char *ip, uint32_t asn)
{
    struct addr a = ip_of(ip);

    return store_net_key(&a, asn);
}

/* A network abroad taken up again after a gap is noted only when the
 * login came from another country since yesterday began; the note is
 * the day's, of that network. */
START_TEST(test_revisit_note)
{
    STORE *st = tnew("revisit", 1000, 16);
    uint64_t vn = key("198.18.7.90", VN_ASN), de = key("198.18.3.90", DE_ASN);

    let_through(st, "lan", "198.18.7.90", "VN", VN_ASN, T0 + 3600);
    let_through(st, "lan", "198.18.3.90", "DE", DE_ASN, T0 + DAY + 3600);
    /* day 3: the line abroad again after two days, but nothing from
     * another country since day 2 began: the owner stayed, no note */
    let_through(st, "lan", "198.18.7.91", "VN", VN_ASN, T0 + 3 * DAY + 3600);
    ck_assert(!store_user_revisited(&U, vn, T0 + 3 * DAY + 3600));
    /* day 4: used the day before, no gap */
    let_through(st, "lan", "198.18.3.90", "DE", DE_ASN, T0 + 3 * DAY + 7200);
    let_through(st, "lan", "198.18.7.92", "VN", VN_ASN, T0 + 4 * DAY + 3600);
    ck_assert(!store_user_revisited(&U, vn, T0 + 4 * DAY + 3600));
    /* day 6: home line in the morning, the line abroad in the afternoon,
     * last used on day 4: noted for day 6, for that network only */
    let_through(st, "lan", "198.18.3.90", "DE", DE_ASN, T0 + 6 * DAY + 3600);
    ck_assert(!store_user_revisited(&U, de, T0 + 6 * DAY + 3600));
    let_through(st, "lan", "198.18.7.200", "VN", VN_ASN, T0 + 6 * DAY + 7200);
    ck_assert(store_user_revisited(&U, vn, T0 + 6 * DAY + 7200));
    ck_assert(!store_user_revisited(&U, de, T0 + 6 * DAY + 7200));
    let_through(st, "lan", "198.18.7.200", "VN", VN_ASN, T0 + 6 * DAY + 7300);
    ck_assert(store_user_revisited(&U, vn, T0 + 6 * DAY + 7300));
    ck_assert(!store_user_revisited(&U, vn, T0 + 7 * DAY));	/* the day's */
    /* the bytes are h-native's: nothing else of ext moved */
    for (size_t i = 0; i < STORE_EXT_LEN; i++)
	if (i != STORE_EXT_REVISIT_DAY && i != STORE_EXT_REVISIT_NET)
	    ck_assert_uint_eq(U.ext[i], 0);
    store_close(st);
}
END_TEST

/* A roaming phone's carrier hub at home (coarse) is no sign the owner
 * left the place abroad: only a line elsewhere is. */
START_TEST(test_revisit_roaming)
{
    STORE *st = tnew("revisitm", 1000, 16);
    uint64_t vn = key("198.18.7.94", VN_ASN);

    let_through(st, "tom", "198.18.7.94", "VN", VN_ASN, T0 + 3600);
    let_through(st, "tom", "198.18.7.94", "VN", VN_ASN, T0 + DAY + 3600);
    /* day 2 the phone alone, roaming home-routed (a hub, 200 km) */
    let_through_at(st, "tom", "198.18.20.98", "DE", DE_ASN, 200,
		   T0 + 2 * DAY + 3600);
    let_through(st, "tom", "198.18.7.95", "VN", VN_ASN, T0 + 3 * DAY + 3600);
    ck_assert(!store_user_revisited(&U, vn, T0 + 3 * DAY + 3600));
    /* day 5 after a line at home on day 4: a new stay */
    let_through(st, "tom", "198.18.3.94", "DE", DE_ASN, T0 + 4 * DAY + 3600);
    let_through(st, "tom", "198.18.7.96", "VN", VN_ASN, T0 + 5 * DAY + 3600);
    ck_assert(store_user_revisited(&U, vn, T0 + 5 * DAY + 3600));
    store_close(st);
}
END_TEST

/* The line's edge is the configured coarse_km, not the shipped one: at
 * 40 km a home line of 50 km radius is no line, and says nothing. */
START_TEST(test_revisit_line_km)
{
    STORE *st = tnew("revisitk", 1000, 16);
    uint64_t vn = key("198.18.7.97", VN_ASN);

    let_through(st, "ida", "198.18.7.97", "VN", VN_ASN, T0 + 3600);
    let_through(st, "ida", "198.18.7.97", "VN", VN_ASN, T0 + DAY + 3600);
    let_through_at(st, "ida", "198.18.3.97", "DE", DE_ASN, 50,
		   T0 + 2 * DAY + 3600);
    Line_km = 40;
    let_through(st, "ida", "198.18.7.98", "VN", VN_ASN, T0 + 3 * DAY + 3600);
    ck_assert(!store_user_revisited(&U, vn, T0 + 3 * DAY + 3600));
    Line_km = 100;
    store_close(st);
}
END_TEST

/* Messages counted but not let through teach nothing: no day of use, no
 * note. */
START_TEST(test_revisit_refused)
{
    STORE *st = tnew("revisitr", 1000, 16);
    struct store_user_obs o = obs_make("mai", "198.18.7.93");
    uint64_t vn = key("198.18.7.93", VN_ASN);

    let_through(st, "mai", "198.18.7.93", "VN", VN_ASN, T0 + 3600);
    let_through(st, "mai", "198.18.3.91", "DE", DE_ASN, T0 + 3 * DAY + 3600);
    memcpy(o.geo.cc, "VN", 3);
    o.geo.asn = VN_ASN;
    o.msgs = 1;
    o.flags = STORE_OBS_NO_LEARN;
    ck_assert_int_eq(store_user_update(st, &o, T0 + 3 * DAY + 7200, &U),
		     STORE_OK);
    ck_assert(!store_user_revisited(&U, vn, T0 + 3 * DAY + 7200));
    ck_assert_uint_eq(U.ext[STORE_EXT_REVISIT_DAY], 0);
    store_close(st);
}
END_TEST

/* native_suite - the network taken up again today */
static Suite *native_suite(void)
{
    Suite *s = suite_create("store_native");
    TCase *tc = tcase_create("ext");

    tcase_add_unchecked_fixture(tc, tdir_make, tdir_rm);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_revisit_note);
    tcase_add_test(tc, test_revisit_refused);
    tcase_add_test(tc, test_revisit_roaming);
    tcase_add_test(tc, test_revisit_line_km);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(native_suite());
}
