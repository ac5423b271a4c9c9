/*
 * check_rules_block - unit tests of the blocks the policy engine sets and
 * honours (policy/rules.c): dry run records would-be blocks that are
 * never enforced and keeps learning, a block names its rule by
 * identity so a reordered configuration does not relabel it, and a rule
 * with block_window false blocks nothing before its block_after'th.
 *
 * The helpers are rules_test.h's; a second configuration over the same
 * store stands for a reload. Every test runs forked.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "rules.h"
#include "store.h"
#include "check_main.h"
#include "rules_test.h"

/* Two addresses in a minute block the login for a day. */
#define SPREAD_RULE " { name = \"spread\"; applies_to = \"authenticated\"; " \
    "metric = \"distinct_ips\"; window = \"1m\"; limit = 1; " \
    "action = \"tempfail\"; block_for = \"1d\"; }"
#define BUSY_RULE " { name = \"busy\"; applies_to = \"authenticated\"; " \
    "metric = \"messages\"; window = \"1h\"; limit = 100; " \
    "action = \"reject\"; block_for = \"1h\"; }"
#define SPREAD STATE "policy: { rules = (\n" SPREAD_RULE "\n); };\n"
#define DRY "milter: { dry_run = true; };\n"

/* cfg_text - a configuration from text, for a reload over a store */
static struct cfg *cfg_text(const char *text)
{
    char path[] = "/tmp/rg-check-block-cfg-XXXXXX";
    char err[ERR_LEN];
    struct cfg *c;
    FILE *f;
    int fd = mkstemp(path);

    ck_assert_int_ge(fd, 0);
    f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    c = cfg_load(path, err, sizeof(err));
    unlink(path);
    ck_assert_msg(c != NULL, "configuration: %s", err);
    return c;
}

/* reload - the same store under another configuration */
static void reload(struct env *e, const char *text)
{
    cfg_free(e->cfg);
    e->cfg = cfg_text(text);
}

/* geo_tx - one message from a country */
static void geo_tx(const struct env *e, const char *login, const char *ip,
		   const char *cc, uint32_t now, struct rules_verdict *v)
{
    struct tx t = {login, ip, NULL, {"", 0, 0, 0, 0, 0}, ALL_CAPS, 1, 1000};

    snprintf(t.geo.cc, sizeof(t.geo.cc), "%s", cc);
    run_tx(e, &t, now, v);
}

START_TEST(test_dry_run_block_not_enforced)
{
    struct store_user u;
    struct rules_verdict v;
    struct env e;

    env_open(&e, DRY SPREAD);
    simple_tx(&e, "dora", "198.18.3.1", T0, &v);
    simple_tx(&e, "dora", "198.18.4.1", T0 + 1, &v);
    expect(&e, &v, CFG_ACTION_TEMPFAIL, "spread", false);
    /* the block is recorded as a would-be block */
    ck_assert_int_eq(store_user_get(e.st, "dora", T0 + 2, &u), STORE_OK);
    ck_assert_uint_eq(u.block.until, T0 + 1 + DAY);
    ck_assert_uint_eq(u.block.flags & STORE_BLOCK_WOULD, STORE_BLOCK_WOULD);
    /* while dry run lasts, the log says what the block would do */
    simple_tx(&e, "dora", "198.18.3.1", T0 + 2 * MIN, &v);
    expect(&e, &v, CFG_ACTION_TEMPFAIL, "spread", true);
    ck_assert_ptr_nonnull(strstr(v.reason, "would be blocked"));
    /* dry run off: the next message is not refused by it */
    e.cfg->milter.dry_run = false;
    simple_tx(&e, "dora", "198.18.3.1", T0 + 4 * MIN, &v);
    expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    /* and a rule that fires now sets a real block over it */
    simple_tx(&e, "dora", "198.18.4.1", T0 + 4 * MIN + 1, &v);
    expect(&e, &v, CFG_ACTION_TEMPFAIL, "spread", false);
    ck_assert(v.block_set);
    ck_assert_int_eq(store_user_get(e.st, "dora", T0 + 5 * MIN, &u), STORE_OK);
    ck_assert_uint_eq(u.block.flags, 0);
    ck_assert_uint_eq(u.block.until, T0 + 4 * MIN + 1 + DAY);
    simple_tx(&e, "dora", "198.18.3.1", T0 + 10 * MIN, &v);
    expect(&e, &v, CFG_ACTION_TEMPFAIL, "spread", true);
    env_close(&e);
}
END_TEST

START_TEST(test_dry_run_keeps_real_block)
{
    struct store_block b = {.until = T0 + HOUR, .action = CFG_ACTION_REJECT,
	.setby = STORE_BY_ADMIN, .reason = "stolen"};
    struct store_user u;
    struct rules_verdict v;
    struct env e;

    env_open(&e, DRY SPREAD);
    ck_assert_int_eq(store_user_block(e.st, "max", &b, T0), STORE_OK);
    simple_tx(&e, "max", "198.18.3.1", T0 + 1, &v);
    simple_tx(&e, "max", "198.18.4.1", T0 + 2, &v);
    /* the rule fired in dry run: it must not replace the admin's block */
    ck_assert_int_eq(store_user_get(e.st, "max", T0 + 3, &u), STORE_OK);
    ck_assert_uint_eq(u.block.setby, STORE_BY_ADMIN);
    ck_assert_uint_eq(u.block.flags, 0);
    ck_assert_uint_eq(u.block.until, T0 + HOUR);
    e.cfg->milter.dry_run = false;
    simple_tx(&e, "max", "198.18.3.1", T0 + 10 * MIN, &v);
    expect(&e, &v, CFG_ACTION_REJECT, NULL, true);
    env_close(&e);
}
END_TEST

START_TEST(test_dry_run_learns)
{
    struct store_user u;
    struct rules_verdict v;
    struct env e;
    bool de = false;

    /* every message from a second country is quarantined, in dry run */
    env_open(&e, DRY STATE "policy: { rules = (\n"
	     " { name = \"two-countries\"; applies_to = \"authenticated\"; "
	     "metric = \"distinct_countries\"; window = \"1h\"; limit = 1; "
	     "action = \"quarantine\"; }\n); };\n");
    geo_tx(&e, "lea", "198.18.3.1", "FR", T0, &v);
    geo_tx(&e, "lea", "198.18.4.1", "DE", T0 + MIN, &v);
    expect(&e, &v, CFG_ACTION_QUARANTINE, "two-countries", false);
    /* the message went through: its country is learned as if accepted */
    ck_assert_int_eq(store_user_get(e.st, "lea", T0 + 2 * MIN, &u), STORE_OK);
    for (size_t i = 0; i < STORE_COUNTRIES; i++)
	de |= strcmp(u.countries[i].cc, "DE") == 0 && u.countries[i].days > 0;
    ck_assert_msg(de, "DE not learned in dry run");
    env_close(&e);
}
END_TEST

START_TEST(test_block_survives_reorder)
{
    struct store_user u;
    struct rules_verdict v;
    struct env e;

    env_open(&e, STATE "policy: { rules = (\n" BUSY_RULE ",\n" SPREAD_RULE
	     "\n); };\n");
    simple_tx(&e, "ron", "198.18.3.1", T0, &v);
    simple_tx(&e, "ron", "198.18.4.1", T0 + 1, &v);
    expect(&e, &v, CFG_ACTION_TEMPFAIL, "spread", false);
    /* the rules are reordered and a new one is added */
    reload(&e, STATE "policy: { rules = (\n" SPREAD_RULE ",\n" BUSY_RULE ",\n"
	   " { name = \"last\"; applies_to = \"internal\"; metric = \"messages\"; "
	   "window = \"1h\"; limit = 5; action = \"reject\"; }\n); };\n");
    simple_tx(&e, "ron", "198.18.3.1", T0 + 10 * MIN, &v);
    expect(&e, &v, CFG_ACTION_TEMPFAIL, "spread", true);
    ck_assert_str_eq(v.reason, "login blocked for 23h50m1s more by rule: spread");
    ck_assert_int_eq(store_user_get(e.st, "ron", T0 + 10 * MIN, &u), STORE_OK);
    ck_assert_int_eq(cfg_rule_by_id(e.cfg, u.block.rule_id, u.block.reason), 0);
    /* the rule is gone: the block holds, named as it was kept */
    reload(&e, STATE "policy: { rules = (\n" BUSY_RULE "\n); };\n");
    simple_tx(&e, "ron", "198.18.3.1", T0 + 20 * MIN, &v);
    expect(&e, &v, CFG_ACTION_TEMPFAIL, NULL, true);
    ck_assert_str_eq(v.reason, "login blocked for 23h40m1s more by rule: spread");
    env_close(&e);
}
END_TEST

/* The same rule counting its refusals: the third within a day blocks
 * the login for the day, the two before block nothing (block_window). */
#define COUNTED STATE "policy: { rules = (\n" \
    " { name = \"spread\"; applies_to = \"authenticated\"; " \
    "metric = \"distinct_ips\"; window = \"1m\"; limit = 1; " \
    "action = \"tempfail\"; block_for = \"1d\"; block_after = 3; " \
    "block_window = false; }\n); };\n"

START_TEST(test_block_window_off)
{
    struct store_user u;
    struct rules_verdict v;
    struct env e;

    env_open(&e, COUNTED);
    simple_tx(&e, "ida", "198.18.3.1", T0, &v);
    expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    /* the first refusal: no block (with the window's block, the next
     * message would meet it) */
    simple_tx(&e, "ida", "198.18.4.1", T0 + 1, &v);
    expect(&e, &v, CFG_ACTION_TEMPFAIL, "spread", false);
    ck_assert(!v.block_set);
    ck_assert_int_eq(store_user_get(e.st, "ida", T0 + 2, &u), STORE_OK);
    ck_assert_uint_eq(u.block.until, 0);
    /* minutes on, her minute is quiet again: through */
    simple_tx(&e, "ida", "198.18.3.1", T0 + 10 * MIN, &v);
    expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    /* the second refusal blocks nothing either */
    simple_tx(&e, "ida", "198.18.5.1", T0 + 10 * MIN + 1, &v);
    expect(&e, &v, CFG_ACTION_TEMPFAIL, "spread", false);
    ck_assert(!v.block_set);
    /* the third within the day blocks her for the day from it */
    simple_tx(&e, "ida", "198.18.6.1", T0 + HOUR, &v);
    expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    simple_tx(&e, "ida", "198.18.7.1", T0 + HOUR + 1, &v);
    expect(&e, &v, CFG_ACTION_TEMPFAIL, "spread", false);
    ck_assert(v.block_set);
    ck_assert_int_eq(store_user_get(e.st, "ida", T0 + HOUR + 2, &u), STORE_OK);
    ck_assert_uint_gt(u.block.until, T0 + HOUR + 20 * HOUR);
    ck_assert_uint_eq(u.block.flags & STORE_BLOCK_FIRST, 0);
    simple_tx(&e, "ida", "198.18.8.1", T0 + 3 * HOUR, &v);
    expect(&e, &v, CFG_ACTION_TEMPFAIL, "spread", true);
    env_close(&e);
}
END_TEST

START_TEST(test_rule_identity)
{
    struct cfg *c = cfg_text(STATE "policy: { rules = (\n"
			     " { name = \"a-rule-with-a-name-of-32-chars-x\"; "
			     "applies_to = \"any\"; metric = \"messages\"; "
			     "window = \"1h\"; limit = 5; action = \"tag\"; },\n"
			     " { name = \"a-rule-with-a-name-of-32-chars-y\"; "
			     "applies_to = \"any\"; metric = \"messages\"; "
			     "window = \"1h\"; limit = 5; action = \"tag\"; }\n"
			     "); };\n");
    char cut[STORE_REASON_MAX];

    /* names longer than a block keeps differ by their identity */
    snprintf(cut, sizeof(cut), "%s", c->policy.rules[1].name);
    ck_assert_uint_ne(cfg_rule_id(c->policy.rules[0].name),
		      cfg_rule_id(c->policy.rules[1].name));
    ck_assert_int_eq(cfg_rule_by_id(c, cfg_rule_id(c->policy.rules[1].name),
				    cut), 1);
    ck_assert_int_eq(cfg_rule_by_id(c, cfg_rule_id(c->policy.rules[0].name),
				    cut), 0);
    ck_assert_int_eq(cfg_rule_by_id(c, cfg_rule_id("other"), cut), -1);
    ck_assert_int_eq(cfg_rule_by_id(c, cfg_rule_id(c->policy.rules[1].name),
				    "b-"), -1);
    /* fixed across builds: FNV-1a of the bytes */
    ck_assert_uint_eq(cfg_rule_id(""), 2166136261u);
    ck_assert_uint_eq(cfg_rule_id("a"), 0xe40c292cu);
    cfg_free(c);
}
END_TEST

/* rules_block_suite - the test cases */
static Suite *rules_block_suite(void)
{
    const TTest *const dry[] = {
	test_dry_run_block_not_enforced, test_dry_run_keeps_real_block,
	test_dry_run_learns,
    };
    const TTest *const ident[] = {
	test_block_survives_reorder, test_rule_identity,
    };
    const TTest *const counted[] = {
	test_block_window_off,
    };
    Suite *s = suite_create("rules_block");

    add(s, "dry_run", dry, sizeof(dry) / sizeof(dry[0]));
    add(s, "identity", ident, sizeof(ident) / sizeof(ident[0]));
    add(s, "counted", counted, sizeof(counted) / sizeof(counted[0]));
    return s;
}

int main(void)
{
    return check_run(rules_block_suite());
}
