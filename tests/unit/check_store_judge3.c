/*
 * check_store_judge3 - unit tests of h-judge3's spare bytes of format 8
 * (ext[22..26]): a login's messages through a trusted relay in the last
 * hour and its busiest relayed hour before today (store_relay.c).
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "store.h"
#include "store_int.h"
#include "store_test.h"

#define HALF 1800u

/* relayed - one relayed message of login at t; the copy in U */
static void relayed(STORE *st, const char *login, uint32_t t)
{
    struct store_user_obs o = obs_make(login, "127.0.0.1");

    o.msgs = 1;
    o.flags = STORE_OBS_COUNT_ONLY | STORE_OBS_RELAYED;
    ck_assert_int_eq(store_user_update(st, &o, t, &U), STORE_OK);
}

/* Relayed messages count by half hour: the current one and the one
 * before make the hour; an older count is gone, and only relayed
 * messages count. */
START_TEST(test_relayed_hour)
{
    STORE *st = tnew("relay", 1000, 16);
    struct store_user_obs o = obs_make("ria", "198.51.100.21");

    o.msgs = 1;
    o.flags = STORE_OBS_NO_LEARN;
    ck_assert_int_eq(store_user_update(st, &o, T0, &U), STORE_OK);
    ck_assert_uint_eq(store_user_relayed_hour(&U, T0), 0);	/* not relayed */
    for (int i = 0; i < 3; i++)
	relayed(st, "ria", T0 + 60 * (uint32_t) i);
    ck_assert_uint_eq(store_user_relayed_hour(&U, T0 + 120), 3);
    relayed(st, "ria", T0 + HALF + 10);
    relayed(st, "ria", T0 + HALF + 20);
    ck_assert_uint_eq(store_user_relayed_hour(&U, T0 + HALF + 20), 5);
    /* read in the next half hour: the last one's two only */
    ck_assert_uint_eq(store_user_relayed_hour(&U, T0 + 2 * HALF), 2);
    ck_assert_uint_eq(store_user_relayed_hour(&U, T0 + 3 * HALF), 0);
    /* a pause of over an hour: both counts start afresh */
    relayed(st, "ria", T0 + 4 * HALF);
    ck_assert_uint_eq(store_user_relayed_hour(&U, T0 + 4 * HALF), 1);
    /* the counter saturates instead of wrapping */
    for (int i = 0; i < 300; i++)
	relayed(st, "ria", T0 + 4 * HALF + 1);
    ck_assert_uint_eq(store_user_relayed_hour(&U, T0 + 4 * HALF + 1), 255);
    /* the bytes are h-judge3's: nothing else of ext moved */
    for (size_t i = 0; i < STORE_EXT_LEN; i++)
	if (i < STORE_EXT_RELAY_SLOT || i > STORE_EXT_RELAY_USUAL)
	    ck_assert_uint_eq(U.ext[i], 0);
    store_close(st);
}
END_TEST

/* relay_end - the end of a relayed message let through at t */
static void relay_end(STORE *st, const char *login, uint32_t t)
{
    struct store_user_obs o = obs_make(login, "127.0.0.1");

    o.flags = STORE_OBS_COUNT_ONLY | STORE_OBS_RELAYED;
    ck_assert_int_eq(store_user_update(st, &o, t, &U), STORE_OK);
}

/* The busiest relayed hour of mail let through becomes the usual on a
 * later day only: today's (an attacker's) does not raise today's, and
 * messages counted but never let through (refused) teach nothing. */
START_TEST(test_relayed_usual)
{
    STORE *st = tnew("relayu", 1000, 16);
    uint32_t t = T0 + 9 * 3600;

    for (int i = 0; i < 6; i++) {
	relayed(st, "rob", t + 60 * (uint32_t) i);
	relay_end(st, "rob", t + 60 * (uint32_t) i + 1);
    }
    for (int i = 0; i < 20; i++)	/* refused: counted, not let through */
	relayed(st, "rob", t + 600 + 60 * (uint32_t) i);
    ck_assert_uint_eq(store_user_relayed_hour(&U, t + 1800), 26);
    ck_assert_uint_eq(store_user_relayed_usual(&U, t + 1800), 0);
    /* read the next day: the day's busiest let-through hour, 6 */
    ck_assert_uint_eq(store_user_relayed_usual(&U, T0 + DAY + 60), 6);
    relayed(st, "rob", T0 + DAY + 60);
    ck_assert_uint_eq(store_user_relayed_usual(&U, T0 + DAY + 60), 6);
    ck_assert_uint_eq(store_user_relayed_hour(&U, T0 + DAY + 60), 1);
    /* a busier day does not raise its own usual, only the next day's */
    for (int i = 0; i < 9; i++) {
	relayed(st, "rob", T0 + DAY + 120 + (uint32_t) i);
	relay_end(st, "rob", T0 + DAY + 120 + (uint32_t) i);
    }
    ck_assert_uint_eq(store_user_relayed_usual(&U, T0 + DAY + 200), 6);
    ck_assert_uint_eq(store_user_relayed_usual(&U, T0 + 3 * DAY), 10);
    store_close(st);
}
END_TEST

/* The half hour is kept by its number's low byte, which comes round
 * every 128 hours (256 half hours): a login back in the webmail 128
 * hours to the half hour after its last relayed mail read that mail as
 * the current half hour's, and half an hour later as the previous one's
 * on what looked like the same day, so the day's busiest hour never
 * became the usual. The counters move on with every observation of the
 * login, and the kept half hour is found from its last one (last_seen),
 * so no count outlives its hour however long the pause. */
START_TEST(test_relayed_wrap)
{
    STORE *st = tnew("relayw", 1000, 16);
    uint32_t t = T0 + 9 * HOUR, wrap = 128 * HOUR;
    struct store_user_obs o = obs_make("ray", "198.51.100.21");

    for (int i = 0; i < 6; i++) {
	relayed(st, "rex", t + 60 * (uint32_t) i);
	relay_end(st, "rex", t + 60 * (uint32_t) i + 1);
    }
    ck_assert_uint_eq(store_user_relayed_hour(&U, t + 400), 6);
    /* read 128 hours on, to the half hour: none of it is current */
    ck_assert_uint_eq(store_user_relayed_hour(&U, t + wrap), 0);
    ck_assert_uint_eq(store_user_relayed_usual(&U, t + wrap), 6);
    /* a message then counts alone, as one half an hour later does */
    relayed(st, "rex", t + wrap);
    ck_assert_uint_eq(store_user_relayed_hour(&U, t + wrap), 1);
    ck_assert_uint_eq(store_user_relayed_usual(&U, t + wrap), 6);
    relayed(st, "rex", t + wrap + HALF);
    ck_assert_uint_eq(store_user_relayed_hour(&U, t + wrap + HALF), 2);
    ck_assert_uint_eq(store_user_relayed_usual(&U, t + wrap + HALF), 6);
    /* mail from elsewhere moves the counters on too: a login that
     * mails from the desk 130 hours after its webmail hour and from the
     * webmail an hour later has that hour as its usual */
    for (int i = 0; i < 6; i++) {
	relayed(st, "ray", t + 60 * (uint32_t) i);
	relay_end(st, "ray", t + 60 * (uint32_t) i + 1);
    }
    o.msgs = 1;
    o.flags = STORE_OBS_NO_LEARN;
    ck_assert_int_eq(store_user_update(st, &o, t + wrap + 2 * HOUR, &U),
		     STORE_OK);
    relayed(st, "ray", t + wrap + 3 * HOUR);
    ck_assert_uint_eq(store_user_relayed_hour(&U, t + wrap + 3 * HOUR), 1);
    ck_assert_uint_eq(store_user_relayed_usual(&U, t + wrap + 3 * HOUR), 6);
    store_close(st);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = { test_relayed_hour, test_relayed_usual,
	test_relayed_wrap, NULL };

    return trun("store_judge3", "ext", 20, tests);
}
