/*
 * check_store_stopday - unit tests of h-pause's spare bytes of format 8
 * (ext[29..30]): the latest day a login had mail stopped at a place not
 * its own (store_stopday.c), and how it keeps a network's days from
 * counting toward familiarity (store_user.c user_net).
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "store.h"
#include "store_int.h"
#include "check_main.h"
#include "store_test.h"

#define ABROAD "192.0.2.77"	/* a network of its own (no AS: its /24) */
#define OTHER "203.0.113.9"	/* another */

/* let - a message let through from ip at now (the end of a message:
 * LEARN), familiar_days fam; the copy in U */
static void let(STORE *st, const char *login, const char *ip, uint32_t fam,
		uint32_t now)
{
    struct store_user_obs o = obs_make(login, ip);

    ck_assert_int_eq(store_user_update(st, &o, now, NULL), STORE_OK);
    o.flags = STORE_OBS_COUNT_ONLY | STORE_OBS_LEARN;
    o.familiar_days = fam;
    ck_assert_int_eq(store_user_update(st, &o, now, &U), STORE_OK);
}

/* days_of - the days counted on ip's network in U (0: not learned) */
static unsigned days_of(const char *ip)
{
    struct addr a = ip_of(ip);
    uint64_t key = store_net_key(&a, 0);

    for (int i = 0; i < STORE_NETS; i++)
	if (U.nets[i].days != 0 && U.nets[i].key == key)
	    return U.nets[i].days;
    return 0;
}

/* A stop notes the day in ext[29..30], nothing else; an unknown login
 * is not created. */
START_TEST(test_stop_note)
{
    STORE *st = tnew("note", 1000, 16);

    seen(st, "nora", ABROAD, T0);
    ck_assert_int_eq(store_user_get(st, "nora", T0, &U), STORE_OK);
    ck_assert_uint_eq(store_user_stop_day(&U), 0);
    ck_assert_int_eq(store_user_stopped(st, "nora", T0 + 3 * DAY + HOUR),
		     STORE_OK);
    ck_assert_int_eq(store_user_get(st, "nora", T0 + 3 * DAY + HOUR, &U),
		     STORE_OK);
    ck_assert_uint_eq(store_user_stop_day(&U), T0 / DAY + 3);
    ck_assert_uint_eq(store_le16(U.ext + STORE_EXT_STOP_DAY), T0 / DAY + 3);
    for (int i = 0; i < STORE_EXT_LEN; i++)
	if (i != 29 && i != 30)
	    ck_assert_uint_eq(U.ext[i], 0);
    ck_assert_int_eq(store_user_stopped(st, "nobody", T0), STORE_NOTFOUND);
    ck_assert_int_eq(store_user_get(st, "nobody", T0, &U), STORE_NOTFOUND);
    store_close(st);
}
END_TEST

/* A network's day with a stop does not count toward its familiarity:
 * the next day's first message let through takes its place. A clean
 * day counts as before. */
START_TEST(test_stop_day_replaced)
{
    STORE *st = tnew("replaced", 1000, 16);

    let(st, "ada", ABROAD, 2, T0 + 8 * HOUR);	/* day 0: 1 */
    ck_assert_uint_eq(days_of(ABROAD), 1);
    ck_assert_int_eq(store_user_stopped(st, "ada", T0 + 18 * HOUR), STORE_OK);
    let(st, "ada", ABROAD, 2, T0 + DAY + 8 * HOUR);	/* day 1 replaces 0 */
    ck_assert_uint_eq(days_of(ABROAD), 1);
    let(st, "ada", ABROAD, 2, T0 + DAY + 9 * HOUR);	/* the same day */
    ck_assert_uint_eq(days_of(ABROAD), 1);
    let(st, "ada", ABROAD, 2, T0 + 2 * DAY + 8 * HOUR);	/* day 1 was clean */
    ck_assert_uint_eq(days_of(ABROAD), 2);
    /* a familiar network counts every day, stops or not */
    ck_assert_int_eq(store_user_stopped(st, "ada", T0 + 2 * DAY + 9 * HOUR),
		     STORE_OK);
    let(st, "ada", ABROAD, 2, T0 + 3 * DAY + 8 * HOUR);
    ck_assert_uint_eq(days_of(ABROAD), 3);
    store_close(st);
}
END_TEST

/* A stop on a later day than the network's last (an attacker refused
 * all day while its rolling day was full) counts against that day too;
 * familiar_days 0 counts every day (the old way). */
START_TEST(test_stop_since)
{
    STORE *st = tnew("since", 1000, 16);

    let(st, "bo", ABROAD, 2, T0 + 8 * HOUR);	/* day 0 */
    ck_assert_int_eq(store_user_stopped(st, "bo", T0 + DAY + 9 * HOUR),
		     STORE_OK);	/* day 1: all refused */
    let(st, "bo", ABROAD, 2, T0 + 2 * DAY + 8 * HOUR);	/* day 2 */
    ck_assert_uint_eq(days_of(ABROAD), 1);
    /* without familiar_days nothing is replaced */
    let(st, "bo", OTHER, 0, T0 + 2 * DAY + 9 * HOUR);
    ck_assert_int_eq(store_user_stopped(st, "bo", T0 + 2 * DAY + 10 * HOUR),
		     STORE_OK);
    let(st, "bo", OTHER, 0, T0 + 3 * DAY + 8 * HOUR);
    ck_assert_uint_eq(days_of(OTHER), 2);
    /* day 2 had a stop (above): replaced; a stop before a network's
     * last day says nothing of it */
    let(st, "bo", ABROAD, 2, T0 + 4 * DAY + 8 * HOUR);
    ck_assert_uint_eq(days_of(ABROAD), 1);
    let(st, "bo", ABROAD, 2, T0 + 5 * DAY + 8 * HOUR);
    ck_assert_uint_eq(days_of(ABROAD), 2);	/* day 4 was clean */
    store_close(st);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
	test_stop_note, test_stop_day_replaced, test_stop_since, NULL
    };

    return trun("store_stopday", "ext", 20, tests);
}
