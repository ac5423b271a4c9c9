/*
 * check_rules_strike - unit tests of the policy engine (policy/rules.c)
 * when the store fails on a rule's strike count alone (block_after,
 * store_strikes.c): a failed count is the store's failure, not the
 * block_after'th refusal, so the message gets the rule's action and
 * milter.on_error, whichever is stronger, and the login no block for
 * block_for (it was blocked for block_for at once: one lock timeout at
 * an owner's first carrier-volume hold blocked it for a day).
 *
 * The failure is injected between the engine and the store: the
 * Makefile links this suite with -Wl,--wrap=store_user_strike, so
 * rules.c's call lands in __wrap_store_user_strike below, which fails
 * once when told (strike_fails) and else counts as the store does. No
 * other store call is touched: the message's observation at MAIL, its
 * recipients and its end all succeed. The helpers are rules_test.h's;
 * every test runs forked.
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "rules.h"
#include "store.h"
#include "check_main.h"
#include "rules_test.h"

/* A rule like the shipped carrier-volume: the second message of an
 * hour held, the login blocked for a day at its third hold of the day,
 * the holds before blocking nothing (block_window, BLOCK_WINDOW). */
#define STRIKE_RULE(on_error, window) STATE \
    "milter: { on_error = \"" on_error "\"; };\n" \
    "policy: { rules = (\n" \
    " { name = \"volume\"; applies_to = \"authenticated\"; " \
    "metric = \"messages\"; window = \"1h\"; limit = 1; " \
    "action = \"quarantine\"; block_for = \"1d\"; block_after = 3; " \
    "block_window = " window "; }\n); };\n"

#define LOGIN "ann"
#define HOME "192.0.2.10"
#define AWAY "203.0.113.50"	/* another network */

/* The status the next strike count fails with; STORE_OK: none. */
static int strike_fails = STORE_OK;

int __real_store_user_strike(STORE *st, const char *login, uint32_t rule_id,
			     uint32_t window_s, unsigned after, uint32_t now,
			     unsigned *count, uint32_t *first);
int __wrap_store_user_strike(STORE *st, const char *login, uint32_t rule_id,
			     uint32_t window_s, unsigned after, uint32_t now,
			     unsigned *count, uint32_t *first);

/* __wrap_store_user_strike - the store's count, or strike_fails once */
int __wrap_store_user_strike(STORE *st, const char *login, uint32_t rule_id,
			     uint32_t window_s, unsigned after, uint32_t now,
			     unsigned *count, uint32_t *first)
{
    int s = strike_fails;

    if (s != STORE_OK) {
	strike_fails = STORE_OK;
	return s;
    }
    return __real_store_user_strike(st, login, rule_id, window_s, after,
				    now, count, first);
}

/* blocked_until - the login's block's end, 0 none */
static uint32_t blocked_until(const struct env *e, uint32_t now)
{
    struct store_user u;

    ck_assert_int_eq(store_user_get(e->st, LOGIN, now, &u), STORE_OK);
    return u.block.until;
}

/* first_hold_fails - the login's first message of the hour let through,
 * its second held by the rule while the strike count fails (lock
 * timeout); the verdict in v */
static void first_hold_fails(struct env *e, const char *text,
			     struct rules_verdict *v)
{
    env_open(e, text);
    simple_tx(e, LOGIN, HOME, T0, v);
    expect(e, v, CFG_ACTION_ACCEPT, NULL, false);
    strike_fails = STORE_TIMEOUT;
    simple_tx(e, LOGIN, HOME, T0 + MIN, v);
    ck_assert_int_eq(strike_fails, STORE_OK);	/* the count was tried */
    ck_assert_msg(!v->block_set, "a failed strike count set a block");
    ck_assert_int_eq(v->status, STORE_TIMEOUT);
}

/* block_window false, on_error accept (the default): the hold is the
 * rule's and blocks nothing; the next hour the login is let through
 * (on main it was blocked for the day). The count goes on: three holds
 * counted later block it for the day. */
START_TEST(test_failed_strike_blocks_nothing)
{
    struct env e;
    struct rules_verdict v;

    first_hold_fails(&e, STRIKE_RULE("accept", "false"), &v);
    expect(&e, &v, CFG_ACTION_QUARANTINE, "volume", false);
    ck_assert_uint_eq(blocked_until(&e, T0 + MIN), 0);
    simple_tx(&e, LOGIN, HOME, T0 + 2 * HOUR, &v);
    expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    /* three holds counted: the third blocks for the day */
    for (unsigned k = 1; k <= 3; k++) {
	simple_tx(&e, LOGIN, HOME, T0 + 2 * HOUR + k * MIN, &v);
	expect(&e, &v, CFG_ACTION_QUARANTINE, "volume", false);
	ck_assert(v.block_set == (k == 3));
	ck_assert_int_eq(v.status, STORE_OK);
    }
    ck_assert_uint_gt(blocked_until(&e, T0 + 3 * HOUR),
		      T0 + 2 * HOUR + 23 * HOUR);
    env_close(&e);
}
END_TEST

/* on_error tempfail: the store's failure decides the action (stronger
 * than the hold), the rule stays the verdict's (on main: -1), and still
 * no block */
START_TEST(test_failed_strike_gets_on_error)
{
    struct env e;
    struct rules_verdict v;

    first_hold_fails(&e, STRIKE_RULE("tempfail", "false"), &v);
    expect(&e, &v, CFG_ACTION_TEMPFAIL, "volume", false);
    ck_assert_str_eq(v.reason, store_strerror(STORE_TIMEOUT));
    ck_assert_uint_eq(blocked_until(&e, T0 + MIN), 0);
    simple_tx(&e, LOGIN, HOME, T0 + 2 * HOUR, &v);
    expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    env_close(&e);
}
END_TEST

/* ... and at a place not the login's own (a network new after its
 * learning week), the refusal is one the policy decided: note_stop notes it
 * (store_stopday.c) as it notes the rule's own refusals. On main the
 * verdict had no rule, and nothing was noted. */
START_TEST(test_failed_strike_noted)
{
    struct env e;
    struct rules_verdict v;
    struct store_user u;
    struct addr away;
    uint32_t at = T0 + 8 * DAY;

    env_open(&e, STRIKE_RULE("tempfail", "false"));
    simple_tx(&e, LOGIN, HOME, T0, &v);
    simple_tx(&e, LOGIN, AWAY, at, &v);
    expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    strike_fails = STORE_TIMEOUT;
    simple_tx(&e, LOGIN, AWAY, at + MIN, &v);
    ck_assert_int_eq(strike_fails, STORE_OK);	/* the count was tried */
    ck_assert(v.action == CFG_ACTION_TEMPFAIL && !v.known);
    ck_assert_int_eq(addr_parse(AWAY, &away), 0);
    ck_assert_int_eq(store_user_get(e.st, LOGIN, at + MIN, &u), STORE_OK);
    ck_assert_msg(store_user_stopped_since(&u, store_net_key(&away, 0),
					   (at + MIN) / STORE_DAY_S),
		  "the refusal was not noted (rules.c note_stop)");
    expect(&e, &v, CFG_ACTION_TEMPFAIL, "volume", false);
    env_close(&e);
}
END_TEST

/* carrier-hopping (check_rules_engine.c hop_night's hubs) with a count
 * of its holds (block_after 3, nothing blocked before the third),
 * on_error tempfail */
#define HOP_RULE STATE \
    "milter: { on_error = \"tempfail\"; };\n" \
    "policy: { coarse_km = 100; rules = (\n" \
    " { name = \"carrier-hopping\"; applies_to = \"authenticated\"; " \
    "metric = \"carrier_networks\"; window = \"1h\"; limit = 1; " \
    "action = \"quarantine\"; block_for = \"1d\"; block_after = 3; " \
    "block_window = false; }\n); };\n"

/* pool_tx - one message of the login from client at a carrier's hub
 * (200 km, as MaxMind's CGNAT ranges) of network asn */
static void pool_tx(const struct env *e, const char *client, uint32_t asn,
		    const struct store_place *hub, uint32_t now,
		    struct rules_verdict *v)
{
    struct tx t = {LOGIN, client, NULL, {"DE", asn, hub->lat_c, hub->lon_c,
	hub->acc_km, 1}, ALL_CAPS, 1, 1000};

    run_tx(e, &t, now, v);
}

/* The carrier-hopping note (rules_hop.c) after a failed count: ann's
 * phone on her carrier on Monday; on Tuesday night the second carrier's
 * pool, then hers at two more hubs (held, counted); the second carrier
 * again, held while its count fails: the hold is tempfailed (on_error),
 * and the pool, new to her, is noted as after any hold of the rule. On
 * main the verdict had no rule and nothing was noted. */
START_TEST(test_failed_strike_hop_noted)
{
    static const struct store_place fra = {T0, 5011, 868, 200};
    static const struct store_place muc = {T0, 4814, 1158, 200};
    static const struct store_place ham = {T0, 5355, 999, 200};
    const uint32_t late = T0 + DAY + 15 * HOUR;
    struct env e;
    struct rules_verdict v;
    struct store_user u;
    struct addr a;

    env_open(&e, HOP_RULE);
    ck_assert_int_eq(addr_parse("100.65.0.1", &a), 0);
    pool_tx(&e, "100.64.0.1", 65540, &fra, T0, &v);
    pool_tx(&e, "100.65.0.1", 65548, &ham, late, &v);
    pool_tx(&e, "100.64.0.2", 65540, &fra, late + 5 * MIN, &v);
    ck_assert_int_eq(v.action, CFG_ACTION_ACCEPT);
    pool_tx(&e, "100.64.0.3", 65540, &muc, late + 10 * MIN, &v);
    expect(&e, &v, CFG_ACTION_QUARANTINE, "carrier-hopping", false);
    strike_fails = STORE_TIMEOUT;
    pool_tx(&e, "100.65.0.2", 65548, &ham, late + 15 * MIN, &v);
    ck_assert_int_eq(strike_fails, STORE_OK);	/* the count was tried */
    ck_assert_int_eq(v.action, CFG_ACTION_TEMPFAIL);
    ck_assert_int_eq(store_user_get(e.st, LOGIN, late + 15 * MIN, &u),
		     STORE_OK);
    ck_assert_msg(store_user_stopped_since(&u, store_net_key(&a, 65548),
					   (T0 + DAY) / DAY),
		  "the hold was not noted (rules_hop.c)");
    expect(&e, &v, CFG_ACTION_TEMPFAIL, "carrier-hopping", false);
    ck_assert(!v.block_set);
    env_close(&e);
}
END_TEST

/* block_window true: a hold before the block_after'th blocks for the
 * rule's window only, and so does one whose count failed (not for
 * block_for) */
START_TEST(test_failed_strike_window_block)
{
    struct env e;
    struct rules_verdict v;
    struct store_user u;

    env_open(&e, STRIKE_RULE("accept", "true"));
    simple_tx(&e, LOGIN, HOME, T0, &v);
    strike_fails = STORE_TIMEOUT;
    simple_tx(&e, LOGIN, HOME, T0 + MIN, &v);
    expect(&e, &v, CFG_ACTION_QUARANTINE, "volume", false);
    ck_assert(v.block_set);
    ck_assert_int_eq(store_user_get(e.st, LOGIN, T0 + MIN, &u), STORE_OK);
    ck_assert_uint_le(u.block.until, T0 + MIN + HOUR);
    ck_assert_uint_ne(u.block.flags & STORE_BLOCK_FIRST, 0);
    ck_assert_int_eq(v.status, STORE_TIMEOUT);
    simple_tx(&e, LOGIN, HOME, T0 + 2 * HOUR, &v);
    expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    env_close(&e);
}
END_TEST

/* rules_strike_suite - the test cases */
static Suite *rules_strike_suite(void)
{
    const TTest *const fail[] = {
	test_failed_strike_blocks_nothing, test_failed_strike_gets_on_error,
	test_failed_strike_noted, test_failed_strike_hop_noted,
	test_failed_strike_window_block,
    };
    Suite *s = suite_create("rules_strike");

    add(s, "strike_failure", fail, sizeof(fail) / sizeof(fail[0]));
    return s;
}

int main(void)
{
    return check_run(rules_strike_suite());
}
