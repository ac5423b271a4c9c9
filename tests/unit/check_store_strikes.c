/*
 * check_store_strikes - unit tests of h-block's spare bytes of format 8
 * (ext[15..18]): the refusals a rule with block_after counts for a login
 * before its block (store_strikes.c): the window, another rule, the
 * count starting again at the block, a restart (the state file reopened,
 * a snapshot restored) and concurrent sessions of one login.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "snapshot.h"
#include "store.h"
#include "store_int.h"
#include "check_main.h"
#include "store_test.h"

#define RULE_A 0x5a17c0deu	/* two rules' ids, low bytes apart */
#define RULE_B 0x5a17c0e1u
#define NEVER 1000u		/* a block_after the count never reaches */


static uint32_t First;		/* the first refusal's minute, as returned */

/* strike - one refusal of login by rule at t; the count it returns */
static unsigned strike(STORE *st, const char *login, uint32_t rule,
		       uint32_t window, unsigned after, uint32_t t)
{
    unsigned n = 0;

    ck_assert_int_eq(store_user_strike(st, login, rule, window, after, t, &n,
				       &First), STORE_OK);
    return n;
}

/* kept - the login's count of rule at t, read from a copy */
static unsigned kept(STORE *st, const char *login, uint32_t rule,
		     uint32_t window, uint32_t t)
{
    ck_assert_int_eq(store_user_get(st, login, t, &U), STORE_OK);
    return store_user_strikes(&U, rule, window, t);
}

/* Refusals count within the rule's window of the first one (to the
 * minute); one after it starts again at 1, and so does another rule's. */
START_TEST(test_strike_window)
{
    STORE *st = tnew("window", 1000, 16);
    uint32_t t = T0 + 9 * HOUR + 30;
    unsigned n = 0;

    /* an unknown login has no entry to count in */
    ck_assert_int_eq(store_user_strike(st, "nobody", RULE_A, HOUR, 2, t, &n,
				       &First), STORE_NOTFOUND);
    seen(st, "amy", "198.51.100.7", t);
    ck_assert_uint_eq(kept(st, "amy", RULE_A, HOUR, t), 0);
    ck_assert_uint_eq(strike(st, "amy", RULE_A, HOUR, NEVER, t), 1);
    ck_assert_uint_eq(strike(st, "amy", RULE_A, HOUR, NEVER, t + 5 * MIN), 2);
    ck_assert_uint_eq(kept(st, "amy", RULE_A, HOUR, t + 50 * MIN), 2);
    /* another window reads the same counter by its own length */
    ck_assert_uint_eq(kept(st, "amy", RULE_A, 10 * MIN, t + 50 * MIN), 0);
    /* the first's minute + 59 minutes is still in the hour ... */
    ck_assert_uint_eq(strike(st, "amy", RULE_A, HOUR, NEVER, t + 59 * MIN), 3);
    ck_assert_uint_eq(First, t - t % MIN);	/* the first's minute */
    /* ... the first's minute + 60 is not: a new count from here */
    ck_assert_uint_eq(kept(st, "amy", RULE_A, HOUR, t + 60 * MIN), 0);
    ck_assert_uint_eq(strike(st, "amy", RULE_A, HOUR, NEVER, t + 60 * MIN), 1);
    ck_assert_uint_eq(First, t + 60 * MIN - t % MIN);
    ck_assert_uint_eq(strike(st, "amy", RULE_A, HOUR, NEVER, t + 70 * MIN), 2);
    /* another rule's refusal starts the counter afresh, for it */
    ck_assert_uint_eq(strike(st, "amy", RULE_B, HOUR, NEVER, t + 71 * MIN), 1);
    ck_assert_uint_eq(kept(st, "amy", RULE_A, HOUR, t + 71 * MIN), 0);
    ck_assert_uint_eq(strike(st, "amy", RULE_A, HOUR, NEVER, t + 72 * MIN), 1);
    /* the count saturates at 255 instead of wrapping to "none" */
    for (int i = 0; i < 300; i++)
	(void) strike(st, "amy", RULE_A, HOUR, NEVER, t + 73 * MIN);
    ck_assert_uint_eq(kept(st, "amy", RULE_A, HOUR, t + 73 * MIN), 255);
    /* the bytes are h-block's: nothing else of ext moved */
    for (size_t i = 0; i < STORE_EXT_LEN; i++)
	if (i < STORE_EXT_STRIKE_RULE || i > STORE_EXT_STRIKE_MIN + 1)
	    ck_assert_uint_eq(U.ext[i], 0);
    store_close(st);
}
END_TEST

/* The refusal that reaches block_after is the block's: the count starts
 * again at the next (a block that has ended takes N refusals more). */
/* An admin's unblock starts the owner afresh: the refusals counted
 * before it do not bring the day's block one refusal early. */
START_TEST(test_strike_unblock)
{
    STORE *st = tnew("unblock", 1000, 16);
    uint32_t t = T0 + 9 * HOUR;

    seen(st, "ann", "198.51.100.8", t);
    ck_assert_uint_eq(strike(st, "ann", RULE_A, DAY, 2, t), 1);
    ck_assert_int_eq(store_user_unblock(st, "ann", t + MIN), STORE_OK);
    ck_assert_uint_eq(kept(st, "ann", RULE_A, DAY, t + 2 * MIN), 0);
    ck_assert_uint_eq(strike(st, "ann", RULE_A, DAY, 2, t + 2 * MIN), 1);
    store_close(st);
}
END_TEST

START_TEST(test_strike_block_due)
{
    STORE *st = tnew("due", 1000, 16);
    uint32_t t = T0 + 14 * HOUR;

    seen(st, "bo", "198.51.100.8", t);
    ck_assert_uint_eq(strike(st, "bo", RULE_A, HOUR, 3, t), 1);
    ck_assert_uint_eq(strike(st, "bo", RULE_A, HOUR, 3, t + MIN), 2);
    ck_assert_uint_eq(strike(st, "bo", RULE_A, HOUR, 3, t + 2 * MIN), 3);
    ck_assert_uint_eq(kept(st, "bo", RULE_A, HOUR, t + 2 * MIN), 0);
    ck_assert_uint_eq(strike(st, "bo", RULE_A, HOUR, 3, t + 3 * MIN), 1);
    ck_assert_uint_eq(strike(st, "bo", RULE_A, HOUR, 2, t + 4 * MIN), 2);
    ck_assert_uint_eq(kept(st, "bo", RULE_A, HOUR, t + 4 * MIN), 0);
    store_close(st);
}
END_TEST

/* A restart keeps the count and a first block: the state file
 * reopened, and a fresh state file with the snapshot put back. A login
 * reset forgets the count. */
START_TEST(test_strike_restart)
{
    STORE *st = tnew("restart", 1000, 16), *fresh;
    struct store_block first = { .action = 3, .setby = STORE_BY_RULE,
	.flags = STORE_BLOCK_FIRST, .rule_id = RULE_A, .reason = "a" };
    struct snapshot_counts c;
    char err[ERRLEN] = "", snap[160];
    uint32_t t = T0 + 10 * HOUR;

    seen(st, "cy", "198.51.100.9", t);
    ck_assert_uint_eq(strike(st, "cy", RULE_A, HOUR, NEVER, t), 1);
    ck_assert_uint_eq(strike(st, "cy", RULE_A, HOUR, NEVER, t + MIN), 2);
    store_close(st);
    st = tnew("restart", 1000, 16);
    ck_assert_uint_eq(kept(st, "cy", RULE_A, HOUR, t + 2 * MIN), 2);
    ck_assert_uint_eq(strike(st, "cy", RULE_A, HOUR, NEVER, t + 2 * MIN), 3);
    /* a rule's first block (before its block_after'th refusal) is kept
     * as one; a flag the store does not know is refused */
    first.until = t + HOUR;
    ck_assert_int_eq(store_user_block(st, "cy", &first, t + 2 * MIN),
		     STORE_OK);
    first.flags = 8;
    ck_assert_int_eq(store_user_block(st, "cy", &first, t + 2 * MIN),
		     STORE_EARG);
    snprintf(snap, sizeof(snap), "%s.snap", tpath("restart"));
    ck_assert_msg(snapshot_write(st, snap, t + 3 * MIN, &c, err, sizeof(err))
		  == SNAPSHOT_OK, "write: %s", err);
    store_close(st);
    ck_assert_int_eq(unlink(tpath("restart")), 0);
    fresh = tnew("restart", 1000, 16);
    ck_assert_int_eq(snapshot_restore(fresh, snap, t + 4 * MIN, &c, err,
				      sizeof(err)), SNAPSHOT_OK);
    ck_assert_uint_eq(kept(fresh, "cy", RULE_A, HOUR, t + 4 * MIN), 3);
    ck_assert_uint_eq(U.block.flags, STORE_BLOCK_FIRST);
    ck_assert_uint_eq(U.block.until, t + HOUR);
    ck_assert_uint_eq(strike(fresh, "cy", RULE_A, HOUR, NEVER, t + 5 * MIN), 4);
    ck_assert_int_eq(store_user_reset(fresh, "cy", t + 6 * MIN), STORE_OK);
    seen(fresh, "cy", "198.51.100.9", t + 7 * MIN);
    ck_assert_uint_eq(kept(fresh, "cy", RULE_A, HOUR, t + 7 * MIN), 0);
    store_close(fresh);
}
END_TEST

#define THREADS 8
#define STRIKES 25

struct hammer {
    STORE *st;
    unsigned after;
    unsigned got[STRIKES];
};

/* hammer_run - one session's refusals, as fast as they come */
static void *hammer_run(void *arg)
{
    struct hammer *h = arg;
    uint32_t first;

    for (int i = 0; i < STRIKES; i++)
	if (store_user_strike(h->st, "dee", RULE_A, DAY, h->after,
			      T0 + HOUR, &h->got[i], &first) != STORE_OK)
	    h->got[i] = 0;
    return NULL;
}

/* hammer - THREADS sessions of one login refused at once; how often
 * each count came back */
static void hammer(STORE *st, unsigned after, unsigned seen_n[256])
{
    pthread_t th[THREADS];
    static struct hammer h[THREADS];

    memset(seen_n, 0, 256 * sizeof(*seen_n));
    for (int i = 0; i < THREADS; i++) {
	h[i].st = st, h[i].after = after;
	ck_assert_int_eq(pthread_create(&th[i], NULL, hammer_run, &h[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
	ck_assert_int_eq(pthread_join(th[i], NULL), 0);
	for (int k = 0; k < STRIKES; k++)
	    seen_n[h[i].got[k] & 0xff]++;
    }
}

/* Concurrent sessions of one login: every refusal gets its own count
 * (no two the same, none lost), and with block_after = 2 exactly every
 * second one is the block's. */
START_TEST(test_strike_concurrent)
{
    STORE *st = tnew("conc", 1000, 16);
    unsigned n[256];

    seen(st, "dee", "198.51.100.10", T0);
    hammer(st, NEVER, n);
    ck_assert_uint_eq(n[0], 0);
    for (unsigned k = 1; k <= THREADS * STRIKES; k++)
	ck_assert_msg(n[k] == 1, "count %u came back %u times", k, n[k]);
    ck_assert_uint_eq(kept(st, "dee", RULE_A, DAY, T0 + HOUR),
		      THREADS * STRIKES);
    ck_assert_int_eq(store_user_reset(st, "dee", T0 + HOUR), STORE_OK);
    seen(st, "dee", "198.51.100.10", T0 + HOUR);
    hammer(st, 2, n);
    ck_assert_uint_eq(n[1], THREADS * STRIKES / 2);
    ck_assert_uint_eq(n[2], THREADS * STRIKES / 2);
    store_close(st);
}
END_TEST

/* strikes_suite - a rule's refusals before its block */
static Suite *strikes_suite(void)
{
    Suite *s = suite_create("store_strikes");
    TCase *tc = tcase_create("ext");

    tcase_add_unchecked_fixture(tc, tdir_make, tdir_rm);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_strike_window);
    tcase_add_test(tc, test_strike_unblock);
    tcase_add_test(tc, test_strike_block_due);
    tcase_add_test(tc, test_strike_restart);
    tcase_add_test(tc, test_strike_concurrent);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(strikes_suite());
}
