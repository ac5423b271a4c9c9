/*
 * check_rules_many - unit tests of the policy engine (policy/rules.c)
 * with more rules than a 64-bit word has bits: a configuration holds up
 * to STATS_MAX_RULES (96) since 435281d, and the engine keeps two sets
 * of rule indexes per transaction (the rules that fired, for requires;
 * the rules whose block_after count it already took) and one per rule
 * (the rules it requires). Kept as one uint64_t each, the 65th rule's
 * bit was 1 << 64: undefined, and on x86-64 the first rule's bit, so the
 * 65th firing met a requires of the first, and its count was skipped
 * when the first had counted (and the other way round).
 *
 * Every configuration here is 64 rules that never fire (a filler, index
 * 1..63 or 0..63) around the few that matter. The helpers are
 * rules_test.h's; every test runs forked.
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
#include "stats.h"
#include "store.h"
#include "check_main.h"
#include "rules_test.h"

#define LOGIN "ann"
#define HOME "192.0.2.10"
#define TEXT_MAX 16384

/* A rule that never fires (its limit is far above one message). */
#define FILLER "{ name = \"f%u\"; applies_to = \"authenticated\"; " \
    "metric = \"messages\"; window = \"1h\"; limit = 1000; action = \"tag\"; }"

/* many_rules - STATE, then first, fillers f<from>..f<to>, then last: a
 * configuration in a static buffer */
static const char *many_rules(const char *first, unsigned from, unsigned to,
			      const char *last)
{
    static char text[TEXT_MAX];
    size_t len;

    len = (size_t) snprintf(text, sizeof(text), "%spolicy: { rules = (\n%s",
			    STATE, first);
    for (unsigned i = from; i <= to; i++) {
	len += (size_t) snprintf(text + len, sizeof(text) - len, "%s" FILLER,
				 i == from && *first == 0 ? "" : ",\n", i);
	ck_assert_uint_lt(len, sizeof(text) - 1);
    }
    len += (size_t) snprintf(text + len, sizeof(text) - len, ",\n%s\n); };\n",
			     last);
    ck_assert_uint_lt(len, sizeof(text) - 1);
    return text;
}

/* test_requires_past_64 - rule 64 firing is not rule 0 firing: "c"
 * requires "a" (index 0, never fires) and must stay silent when "b"
 * (index 64) fires; on the old code "b" set a's bit and "c" rejected */
START_TEST(test_requires_past_64)
{
    struct env e;
    struct rules_verdict v;
    const char *text = many_rules(
	"{ name = \"a\"; applies_to = \"authenticated\"; metric = \"messages\";"
	" window = \"1h\"; limit = 1000; action = \"tag\"; }", 1, 63,
	"{ name = \"b\"; applies_to = \"authenticated\"; metric = \"messages\";"
	" window = \"1h\"; limit = 0; action = \"tag\"; },\n"
	"{ name = \"c\"; applies_to = \"authenticated\"; metric = \"messages\";"
	" window = \"1h\"; limit = 0; action = \"reject\";"
	" requires = [ \"a\" ]; }");

    env_open(&e, text);
    ck_assert_uint_eq(e.cfg->policy.nrules, 66);
    ck_assert_int_eq(cfg_rule_index(e.cfg, "b"), 64);
    simple_tx(&e, LOGIN, HOME, T0, &v);
    expect(&e, &v, CFG_ACTION_TAG, "b", false);
    env_close(&e);
}
END_TEST

/* test_requires_rule_64 - a rule may require the 65th (the old check
 * refused it as "no earlier rule", the bit did not exist) and fires
 * with it, not without it */
START_TEST(test_requires_rule_64)
{
    struct env e;
    struct rules_verdict v;
    const char *text = many_rules("", 0, 63,
	"{ name = \"b\"; applies_to = \"authenticated\"; metric = \"messages\";"
	" window = \"1h\"; limit = 1; action = \"tag\"; },\n"
	"{ name = \"c\"; applies_to = \"authenticated\"; metric = \"messages\";"
	" window = \"1h\"; limit = 0; action = \"reject\";"
	" requires = [ \"b\" ]; }");

    env_open(&e, text);
    ck_assert_int_eq(cfg_rule_index(e.cfg, "b"), 64);
    simple_tx(&e, LOGIN, HOME, T0, &v);	/* b silent: c too */
    expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    simple_tx(&e, LOGIN, HOME, T0 + MIN, &v);	/* b fires: c with it */
    expect(&e, &v, CFG_ACTION_REJECT, "c", false);
    env_close(&e);
}
END_TEST

/* test_strike_past_64 - a login's one strike count (store_strikes.c)
 * goes to the last rule with block_after that refused it: "a" (index 0)
 * counts, then "b" (index 64) in the same transaction; on the old code
 * b's bit was a's, b found itself counted already and a kept the count */
START_TEST(test_strike_past_64)
{
    struct env e;
    struct rules_verdict v;
    struct store_user u;
#define STRIKER(n) "{ name = \"" n "\"; applies_to = \"authenticated\";" \
    " metric = \"messages\"; window = \"1h\"; limit = 0;" \
    " action = \"tempfail\"; block_for = \"1d\"; block_after = 3;" \
    " block_window = false; }"
    const char *text = many_rules(STRIKER("a"), 1, 63, STRIKER("b"));
#undef STRIKER

    env_open(&e, text);
    ck_assert_int_eq(cfg_rule_index(e.cfg, "b"), 64);
    simple_tx(&e, LOGIN, HOME, T0, &v);
    expect(&e, &v, CFG_ACTION_TEMPFAIL, "a", false);
    ck_assert_int_eq(store_user_get(e.st, LOGIN, T0, &u), STORE_OK);
    ck_assert_uint_eq(store_user_strikes(&u, cfg_rule_id("b"), DAY, T0), 1);
    ck_assert_uint_eq(store_user_strikes(&u, cfg_rule_id("a"), DAY, T0), 0);
    env_close(&e);
}
END_TEST

/* test_all_96 - the last rule a configuration may hold fires, counts
 * and is required like the first */
START_TEST(test_all_96)
{
    struct env e;
    struct rules_verdict v;
    const char *text = many_rules("", 0, STATS_MAX_RULES - 3,
	"{ name = \"b\"; applies_to = \"authenticated\"; metric = \"messages\";"
	" window = \"1h\"; limit = 0; action = \"tag\"; },\n"
	"{ name = \"c\"; applies_to = \"authenticated\"; metric = \"messages\";"
	" window = \"1h\"; limit = 0; action = \"reject\";"
	" requires = [ \"b\" ]; }");

    env_open(&e, text);
    ck_assert_uint_eq(e.cfg->policy.nrules, STATS_MAX_RULES);
    simple_tx(&e, LOGIN, HOME, T0, &v);
    expect(&e, &v, CFG_ACTION_REJECT, "c", false);
    env_close(&e);
}
END_TEST

/* rules_many_suite - the test cases */
static Suite *rules_many_suite(void)
{
    const TTest *const sets[] = {
	test_requires_past_64, test_requires_rule_64, test_strike_past_64,
	test_all_96,
    };
    Suite *s = suite_create("rules_many");

    add(s, "sets", sets, sizeof(sets) / sizeof(sets[0]));
    return s;
}

int main(void)
{
    return check_run(rules_many_suite());
}
