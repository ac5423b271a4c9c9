/*
 * check_store_bulk - unit tests of h-honest-a's spare bytes of format 8
 * (ext[27..28]): the hour of a login's last bulk message let through
 * (store_bulk.c), and whether that hour still counts in a window.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "store.h"
#include "store_int.h"
#include "check_main.h"
#include "store_test.h"

#define HOUR 3600u

/* The end of a message with STORE_OBS_BULK and LEARN notes its hour; a
 * refused one (no LEARN) or a message without the flag does not. */
START_TEST(test_bulk_note)
{
    STORE *st = tnew("bulk", 1000, 16);
    struct store_user_obs o = obs_make("nora", "198.51.100.22");

    seen(st, "nora", "198.51.100.22", T0);
    o.flags = STORE_OBS_COUNT_ONLY | STORE_OBS_BULK;	/* refused: no LEARN */
    o.rcpts = 600;
    ck_assert_int_eq(store_user_update(st, &o, T0 + 60, &U), STORE_OK);
    ck_assert_uint_eq(store_user_bulk_hour(&U), 0);
    o.flags = STORE_OBS_COUNT_ONLY | STORE_OBS_LEARN;	/* no bulk message */
    ck_assert_int_eq(store_user_update(st, &o, T0 + 120, &U), STORE_OK);
    ck_assert_uint_eq(store_user_bulk_hour(&U), 0);
    o.flags = STORE_OBS_COUNT_ONLY | STORE_OBS_LEARN | STORE_OBS_BULK;
    ck_assert_int_eq(store_user_update(st, &o, T0 + 5 * HOUR + 720, &U),
		     STORE_OK);
    ck_assert_uint_eq(store_user_bulk_hour(&U),
		      (uint16_t) ((T0 + 5 * HOUR) / HOUR & 0xffff));
    /* the bytes are h-honest-a's: ext[27..28], nothing else moved */
    ck_assert_uint_eq(store_le16(U.ext + STORE_EXT_BULK_HOUR),
		      store_user_bulk_hour(&U));
    for (int i = 29; i < STORE_EXT_LEN; i++)
	ck_assert_uint_eq(U.ext[i], 0);
    /* a later bulk message moves the note; a small one does not */
    o.flags = STORE_OBS_COUNT_ONLY | STORE_OBS_LEARN;
    ck_assert_int_eq(store_user_update(st, &o, T0 + 9 * HOUR, &U), STORE_OK);
    ck_assert_uint_eq(store_user_bulk_hour(&U),
		      (uint16_t) ((T0 + 5 * HOUR) / HOUR & 0xffff));
    o.flags |= STORE_OBS_BULK;
    ck_assert_int_eq(store_user_update(st, &o, T0 + 9 * HOUR, &U), STORE_OK);
    ck_assert_uint_eq(store_user_bulk_hour(&U),
		      (uint16_t) ((T0 + 9 * HOUR) / HOUR & 0xffff));
    store_close(st);
}
END_TEST

/* The noted hour counts while its bucket is (in part) inside the
 * window: for 1h, the rest of its hour and the next hour; none: never */
START_TEST(test_bulk_within)
{
    uint32_t at = T0 + 5 * HOUR + 720;	/* 12 minutes into an hour */
    uint16_t h = (uint16_t) (at / HOUR & 0xffff);

    ck_assert(!store_bulk_within(0, HOUR, at));
    ck_assert(store_bulk_within(h, HOUR, at));
    ck_assert(store_bulk_within(h, HOUR, T0 + 6 * HOUR - 1));
    ck_assert(store_bulk_within(h, HOUR, T0 + 6 * HOUR));
    ck_assert(store_bulk_within(h, HOUR, T0 + 7 * HOUR - 1));
    ck_assert(!store_bulk_within(h, HOUR, T0 + 7 * HOUR));
    ck_assert(!store_bulk_within(h, HOUR, T0 + 30 * HOUR));
    /* a 2h window: one hour more */
    ck_assert(store_bulk_within(h, 2 * HOUR, T0 + 8 * HOUR - 1));
    ck_assert(!store_bulk_within(h, 2 * HOUR, T0 + 8 * HOUR));
    /* a note from after now (a clock stepped back) is no hour of the
     * window but one 7.5 years ago */
    ck_assert(!store_bulk_within((uint16_t) (h + 1), HOUR, at));
    /* the hour number wraps: the last hour before it still counts */
    ck_assert(store_bulk_within(0xffff, HOUR, 65536u * HOUR + 60));
    ck_assert(!store_bulk_within(0xffff, HOUR, 65537u * HOUR));
}
END_TEST

/* bulk_suite - the last bulk message's hour */
static Suite *bulk_suite(void)
{
    Suite *s = suite_create("store_bulk");
    TCase *tc = tcase_create("ext");

    tcase_add_unchecked_fixture(tc, tdir_make, tdir_rm);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_bulk_note);
    tcase_add_test(tc, test_bulk_within);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(bulk_suite());
}
