/*
 * check_store_prior_day - unit tests of h-vpn's spare bytes of format 8
 * (ext[10..12]): a login's usual busiest day as it stood before today
 * (store_prior_day.c).
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "store.h"
#include "store_int.h"
#include "check_main.h"
#include "store_test.h"

/* The usual day before today: saved at a day's first raise (with
 * STORE_OBS_LEARN_VOLUME), so today's mail does not move it (an attacker
 * at the site's VPN raised the day with every message); the next day
 * reads the day as it stands. */
START_TEST(test_prior_day)
{
    STORE *st = tnew("priorday", 1000, 16);
    struct store_user_obs o = obs_make("vic", "198.51.100.22");

    o.geo.asn = 64500;
    o.msgs = 1;
    o.rcpts = 1;
    o.flags = STORE_OBS_LEARN | STORE_OBS_LEARN_VOLUME;
    for (int i = 0; i < 3; i++)
	ck_assert_int_eq(store_user_update(st, &o, T0 + 60 * i, &U), STORE_OK);
    ck_assert_uint_eq(U.usual_day, 3);
    ck_assert_uint_eq(store_user_prior_day(&U, T0), 0);	/* none before */
    /* two days on: 20 messages raise the usual day, not the prior one */
    for (int i = 0; i < 20; i++)
	ck_assert_int_eq(store_user_update(st, &o, T0 + 2 * DAY + 60 * i, &U),
			 STORE_OK);
    ck_assert_uint_eq(U.usual_day, 20);
    ck_assert_uint_eq(store_user_prior_day(&U, T0 + 2 * DAY + 3600), 3);
    /* the next day, before any raise: the day as it stands */
    ck_assert_uint_eq(store_user_prior_day(&U, T0 + 3 * DAY), 20);
    ck_assert_int_eq(store_user_update(st, &o, T0 + 3 * DAY, &U), STORE_OK);
    ck_assert_uint_eq(store_user_prior_day(&U, T0 + 3 * DAY), 20);
    /* the bytes are h-vpn's: ext[10..12], nothing else moved them */
    ck_assert_uint_eq(U.ext[STORE_EXT_PRIOR_DAY_MSGS], 20);
    ck_assert_uint_eq(U.ext[STORE_EXT_PRIOR_DAY_NO],
		      (uint8_t) ((T0 + 3 * DAY) / STORE_DAY_S & 0xff));
    store_close(st);
}
END_TEST

/* prior_day_suite - the usual day before today */
static Suite *prior_day_suite(void)
{
    Suite *s = suite_create("store_prior_day");
    TCase *tc = tcase_create("ext");

    tcase_add_unchecked_fixture(tc, tdir_make, tdir_rm);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_prior_day);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(prior_day_suite());
}
