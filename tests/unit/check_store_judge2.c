/*
 * check_store_judge2 - unit tests of h-judge2's spare bytes of format 8
 * (ext[19..21]): a login's usual recipients hour as it stood before today
 * (store_prior.c).
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "store.h"
#include "store_int.h"
#include "store_test.h"

/* The usual recipients hour before today: saved at a day's first raise
 * (with STORE_OBS_LEARN_VOLUME), so today's mail does not move it; the
 * next day reads the hour as it stands. */
START_TEST(test_prior_rcpts)
{
    STORE *st = tnew("prior", 1000, 16);
    struct store_user_obs o = obs_make("pia", "198.51.100.21");

    o.geo.asn = 64500;
    o.msgs = 1;
    o.rcpts = 300;
    o.flags = STORE_OBS_LEARN | STORE_OBS_LEARN_VOLUME;
    ck_assert_int_eq(store_user_update(st, &o, T0, &U), STORE_OK);
    ck_assert_uint_eq(U.usual_rcpts, 300);
    ck_assert_uint_eq(store_user_prior_rcpts(&U, T0), 0);	/* none before */
    ck_assert_int_eq(store_user_update(st, &o, T0 + DAY, &U), STORE_OK);
    ck_assert_int_eq(store_user_update(st, &o, T0 + DAY + 60, &U), STORE_OK);
    ck_assert_uint_eq(U.usual_rcpts, 600);
    ck_assert_uint_eq(store_user_prior_rcpts(&U, T0 + DAY), 300);
    /* the next day, before any raise: the hour as it stands */
    ck_assert_uint_eq(store_user_prior_rcpts(&U, T0 + 2 * DAY), 600);
    o.rcpts = 5000;
    ck_assert_int_eq(store_user_update(st, &o, T0 + 2 * DAY, &U), STORE_OK);
    ck_assert_uint_eq(U.usual_rcpts, 5000);
    ck_assert_uint_eq(store_user_prior_rcpts(&U, T0 + 2 * DAY), 600);
    store_close(st);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = { test_prior_rcpts, NULL };

    return trun("store_judge2", "ext", 20, tests);
}
