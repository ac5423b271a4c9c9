/*
 * check_store_vouch_copy - unit tests of store_client_vouch_copy: what a
 * vouch would make of a copy of an entry, the entry untouched. The
 * engine judges a message with its own vouch at MAIL and writes the
 * vouch only at the end of a message let through (rules_vouch.c), so
 * the copy must come out as the store's own vouch would leave the entry.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "store.h"
#include "store_int.h"
#include "check_main.h"
#include "store_test.h"

/* same_vouch - the parts of two entries a vouch moves agree */
static void same_vouch(const struct store_client *a,
		       const struct store_client *b)
{
    ck_assert_uint_eq(a->vouched, b->vouched);
    ck_assert_uint_eq(a->vouch_days, b->vouch_days);
    ck_assert_uint_eq(a->vouch_day, b->vouch_day);
    ck_assert_uint_eq(a->nlogins, b->nlogins);
    for (uint32_t i = 0; i < a->nlogins && i < STORE_CLIENT_LOGINS; i++) {
	ck_assert_uint_eq(a->logins[i].hash, b->logins[i].hash);
	ck_assert_uint_eq(a->logins[i].last_seen, b->logins[i].last_seen);
    }
}

/* A site network's copy: a login new to it, one already in it, a new
 * day, a full list (the login seen longest ago makes room), and an
 * entry never vouched for (an empty copy) all come out as
 * store_site_vouch leaves the entry; the entry itself is not touched. */
START_TEST(test_site_copy)
{
    STORE *st = tnew("vcopy", 1000, 16);
    struct addr a = ip_of("198.51.100.7");
    struct store_client c, w, r;
    char login[16];
    uint32_t t = T0;

    memset(&c, 0, sizeof(c));	/* never vouched for: an empty copy */
    store_client_vouch_copy(st, "nora", t, &c);
    ck_assert_int_eq(store_site_vouch(st, &a, "nora", t, &w), STORE_OK);
    same_vouch(&c, &w);
    for (unsigned i = 0; i < STORE_CLIENT_LOGINS + 3; i++) {
	snprintf(login, sizeof(login), "u%u", i % (STORE_CLIENT_LOGINS + 1));
	t += i % 3 == 0 ? DAY : HOUR;
	ck_assert_int_eq(store_site_get(st, &a, t, &c), STORE_OK);
	store_client_vouch_copy(st, login, t, &c);
	ck_assert_int_eq(store_site_get(st, &a, t, &r), STORE_OK);
	ck_assert_uint_eq(r.vouched, w.vouched);	/* untouched */
	ck_assert_int_eq(store_site_vouch(st, &a, login, t, &w), STORE_OK);
	same_vouch(&c, &w);
    }
    ck_assert_uint_eq(w.nlogins, STORE_CLIENT_LOGINS);
    store_close(st);
}
END_TEST

/* A client address's copy: no login (the update noted it), the vouched
 * time and the day as STORE_OBS_VOUCH leaves them. */
START_TEST(test_client_copy)
{
    STORE *st = tnew("vcopy2", 1000, 16);
    struct store_client_obs co = { .ip = ip_of("198.51.100.9"),
	.login = "nora" };
    struct store_client c, w;

    ck_assert_int_eq(store_client_update(st, &co, T0, &c), STORE_OK);
    store_client_vouch_copy(st, NULL, T0 + 60, &c);
    co.login = NULL;
    co.flags = STORE_OBS_VOUCH;
    ck_assert_int_eq(store_client_update(st, &co, T0 + 60, &w), STORE_OK);
    same_vouch(&c, &w);
    ck_assert_uint_eq(c.vouch_days, 1);
    store_client_vouch_copy(st, NULL, T0 + DAY, &c);
    ck_assert_int_eq(store_client_update(st, &co, T0 + DAY, &w), STORE_OK);
    same_vouch(&c, &w);
    ck_assert_uint_eq(c.vouch_days, 2);
    store_close(st);
}
END_TEST

/* vouch_copy_suite - a vouch on a copy */
static Suite *vouch_copy_suite(void)
{
    Suite *s = suite_create("store_vouch_copy");
    TCase *tc = tcase_create("copy");

    tcase_add_unchecked_fixture(tc, tdir_make, tdir_rm);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_site_copy);
    tcase_add_test(tc, test_client_copy);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(vouch_copy_suite());
}
