/*
 * check_store_win - unit tests of the sliding windows (store_win.c): the
 * minute and hour rings, their interpolated edges, saturation, gaps and
 * time that goes backwards. Pure arithmetic on a struct store_win: no
 * file, no lock. The windows of a stored user are check_store.c's.
 */
#include <check.h>
#include <string.h>

#include "store.h"
#include "check_main.h"
#include "store_test.h"

START_TEST(test_win_minutes)
{
    struct store_win w;

    memset(&w, 0, sizeof(w));
    store_win_add(&w, T0 + 10, 5, 7, 0);
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, T0 + 20, 60), 5);
    ck_assert_uint_eq(store_win_sum(&w, STORE_RCPTS, T0 + 20, 60), 7);
    /* 50 of the bucket's 60 s inside: 5 * 50 / 60 = 4.16 */
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, T0 + 70, 60), 4);
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, T0 + 119, 60), 0);
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, T0 + 120, 60), 0);
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, T0 + 120, 90), 2);
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, T0 + 20, 0), 0);
    /* window shorter than the elapsed part of the current minute */
    memset(&w, 0, sizeof(w));
    store_win_add(&w, T0 + 40, 60, 0, 0);
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, T0 + 40, 10), 15);

    memset(&w, 0, sizeof(w));
    for (uint32_t i = 0; i < 20; i++)
	store_win_add(&w, T0 + i * MIN + 30, 1, 2, 0);
    /* 10 whole minutes and half of the 11th (rounded down) */
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, T0 + 19 * MIN + 30,
				    10 * MIN), 10);
    ck_assert_uint_eq(store_win_sum(&w, STORE_RCPTS, T0 + 19 * MIN + 30,
				    10 * MIN), 21);
    /* 15 minutes: the ring's 15 buckets; the 16th, half inside, is gone */
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, T0 + 19 * MIN + 30,
				    15 * MIN), 15);
    /* 16 minutes: the hour ring; its one bucket holds all 20, spread
     * over the 1170 s of the hour gone by: 20 * 960 / 1170 = 16.4 */
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, T0 + 19 * MIN + 30,
				    16 * MIN), 16);
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, T0 + 19 * MIN + 30,
				    HOUR), 20);
    /* saturation */
    store_win_add(&w, T0 + 19 * MIN + 31, 70000, 0, 0);
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, T0 + 19 * MIN + 31, 60),
		      UINT16_MAX);
}
END_TEST

START_TEST(test_win_hours_days)
{
    struct store_win w;
    uint32_t now;

    memset(&w, 0, sizeof(w));
    for (uint32_t h = 0; h < 30; h++)
	store_win_add(&w, T0 + h * HOUR + HOUR / 2, 10, 0, 4096 * 3);
    now = T0 + 29 * HOUR + HOUR / 2;
    /* 24 whole hours and half of the 25th */
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, now, DAY), 245);
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, now, 2 * DAY), 245);
    /* 3 units this hour, half of the previous hour's 3 (rounded down) */
    ck_assert_uint_eq(store_win_sum(&w, STORE_BYTES, now, HOUR),
		      4 * (uint64_t) STORE_BYTES_UNIT);
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, now, 2 * HOUR), 25);
    /* bytes round up per message */
    memset(&w, 0, sizeof(w));
    store_win_add(&w, T0, 1, 1, 1);
    store_win_add(&w, T0, 1, 1, 4097);
    ck_assert_uint_eq(store_win_sum(&w, STORE_BYTES, T0, 60),
		      3 * (uint64_t) STORE_BYTES_UNIT);
    ck_assert_uint_eq(store_win_sum(&w, (enum store_counter) 9, T0, 60), 0);

    /* the last second of a day and the first of the next */
    memset(&w, 0, sizeof(w));
    store_win_add(&w, T0 + DAY - 1, 1, 0, 0);
    store_win_add(&w, T0 + DAY, 1, 0, 0);
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, T0 + DAY, 60), 2);
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, T0 + DAY, 1), 1);
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, T0 + DAY, HOUR), 2);
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, T0 + DAY + HOUR, HOUR),
		      1);
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, T0 + 2 * DAY, DAY), 1);
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, T0 + 3 * DAY, DAY), 0);
    /* a gap longer than both rings clears them */
    store_win_add(&w, T0 + 5 * DAY, 3, 0, 0);
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, T0 + 5 * DAY, DAY), 3);
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, T0 + 5 * DAY, 900), 3);
}
END_TEST

START_TEST(test_win_backwards)
{
    struct store_win w, before;

    memset(&w, 0, sizeof(w));
    store_win_add(&w, T0 + 10 * MIN, 1, 0, 0);
    store_win_add(&w, T0 + 5 * MIN, 1, 0, 0);	/* still in the ring */
    ck_assert_uint_eq(w.min_epoch, (T0 + 10 * MIN) / MIN);
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, T0 + 10 * MIN, 15 * MIN),
		      2);
    /* asked at an earlier now: counted as of the ring's newest bucket */
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, T0, 60), 1);
    before = w;
    store_win_add(&w, T0 - 3 * DAY, 1, 0, 0);	/* too old for both rings */
    ck_assert_int_eq(memcmp(&w, &before, sizeof(w)), 0);
    store_win_add(&w, T0 - 30 * MIN, 1, 0, 0);	/* hour ring only */
    ck_assert_uint_eq(w.min_epoch, before.min_epoch);
    ck_assert_uint_eq(w.hour_epoch, before.hour_epoch);
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, T0 + 10 * MIN, DAY), 3);
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, T0 + 10 * MIN, 15 * MIN),
		      2);
    store_win_add(&w, 0, 1, 0, 0);
    store_win_add(&w, UINT32_MAX, 1, 0, 0);
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, UINT32_MAX, DAY), 1);
}
END_TEST

/* win_suite - the two rings */
static Suite *win_suite(void)
{
    Suite *s = suite_create("store_win");
    TCase *tc = tcase_create("window");

    tcase_add_test(tc, test_win_minutes);
    tcase_add_test(tc, test_win_hours_days);
    tcase_add_test(tc, test_win_backwards);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(win_suite());
}
