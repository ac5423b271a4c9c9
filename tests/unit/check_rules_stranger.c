/*
 * check_rules_stranger - unit tests of the policy engine (policy/rules.c
 * rules_judge) on the site-stranger bound: a fresh fine address in one
 * of the site's networks, no other login's within 30 days, is the
 * site's only up to the login's busiest day before today, less its
 * messages from the /24 yesterday, plus 50 (metrics_line_past_day,
 * rules_neigh.c). With no busiest day kept, the day is
 * METRICS_TRIP_DAY_HOURS busiest usual hours (metrics_login_day): the
 * usual hour must be in the context when the bound is set, as it is
 * when metrics_first_home sets the same bound. It was not (the bound was
 * set before note_place put it there), so a learning login read a usual
 * hour of 0 where its floor (learning_usual_messages) stands.
 *
 * The only login with no busiest day is one nothing was let through for
 * (the first message let through from a learning login's place sets it),
 * so here every message of the login is refused by an admin's block of
 * the client address. The verdict's site_stranger is the bound's answer.
 * The helpers are rules_test.h's; every test runs forked.
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

/* Site networks as shipped (4 logins on 2 days), a learning login's
 * usual hour at least 8 messages: no busiest day, 3 x 8 = 24 */
#define SITE_CONF STATE \
    "policy: { site_logins = 4; site_days = 2; coarse_km = 100;\n" \
    " learning_usual_messages = 8; learning_usual_recipients = 20;\n" \
    " rules = (\n" \
    " { name = \"volume\"; applies_to = \"authenticated\"; " \
    "metric = \"messages\"; window = \"1h\"; limit = 1000; " \
    "action = \"tempfail\"; }\n); };\n"

#define NEIGHBOURS 4
#define FRESH "198.51.100.200"	/* no other login's address */
#define BOUND_FLOOR (3 * 8 + 50)	/* the floor's day + the backlog */

/* located - a fine place in Berlin on one AS */
static struct tx located(const char *login, const char *client)
{
    struct tx t = {login, client, NULL, {"DE", 64500, 5252, 1341, 5, 1},
	ALL_CAPS, 1, 1000};

    return t;
}

/* site_network - four logins at home in 198.51.100.0/24, each at its own
 * address, every day of a week (the /24 the site's from day 2, as in
 * tests/golden/site_stranger.case) */
static void site_network(struct env *e)
{
    static const char *const ips[NEIGHBOURS] = {
	"198.51.100.81", "198.51.100.82", "198.51.100.83", "198.51.100.84"
    };
    static const char *const logins[NEIGHBOURS] = {"nb1", "nb2", "nb3",
	"nb4"};
    struct rules_verdict v;

    for (uint32_t d = 0; d < 7; d++)
	for (int i = 0; i < NEIGHBOURS; i++) {
	    struct tx t = located(logins[i], ips[i]);

	    run_tx(e, &t, T0 + d * DAY + (uint32_t) i * MIN, &v);
	    expect(e, &v, CFG_ACTION_ACCEPT, NULL, false);
	}
}

/* A login new on day 8, its every message refused by the admin's block of
 * the fresh address: until its messages there pass the floor's day + 50
 * the address stays the site's (main: past 50, the usual hour read as 0) */
START_TEST(test_stranger_bound_floor)
{
    struct env e;
    struct rules_verdict v;
    struct store_block b = {0};
    struct addr fresh;
    uint32_t at = T0 + 8 * DAY;

    env_open(&e, SITE_CONF);
    site_network(&e);
    ck_assert_int_eq(addr_parse(FRESH, &fresh), 0);
    b.until = at + DAY;
    b.action = CFG_ACTION_TEMPFAIL;
    b.setby = STORE_BY_ADMIN;
    snprintf(b.reason, sizeof(b.reason), "admin");
    ck_assert_int_eq(store_client_block(e.st, &fresh, &b, at), STORE_OK);
    for (unsigned k = 1; k <= BOUND_FLOOR + 5; k++) {
	struct tx t = located("new", FRESH);

	run_tx(&e, &t, at + k * MIN, &v);
	ck_assert_msg(v.action == CFG_ACTION_TEMPFAIL && v.from_block,
		      "message %u not refused by the block (%s)", k, v.reason);
	ck_assert_msg(v.site_stranger == (k > BOUND_FLOOR),
		      "message %u: site_stranger %d", k, v.site_stranger);
    }
    env_close(&e);
}
END_TEST

/* rules_stranger_suite - the test cases */
static Suite *rules_stranger_suite(void)
{
    const TTest *const bound[] = { test_stranger_bound_floor };
    Suite *s = suite_create("rules_stranger");

    add(s, "stranger_bound", bound, sizeof(bound) / sizeof(bound[0]));
    return s;
}

int main(void)
{
    return check_run(rules_stranger_suite());
}
