/*
 * check_ctl_admin - unit tests of relayguardctl's block bookkeeping:
 * unblock --all with its filters, would-be blocks of dry run shown as
 * such, a rule's block named by the rule's identity whatever the order
 * of the configured rules, and block refusing a network.
 *
 * The fixture is ctl_test.h's (a private directory, a state file from
 * state_make(), a configuration with the rules many-countries and
 * user-messages); every test runs forked.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "ctl_test.h"

#define DAY_SECS 86400u

/* rule_block - a block as the engine sets it for a rule */
static struct store_block rule_block(const char *rule, uint32_t secs,
				     unsigned flags)
{
    struct store_block b;

    memset(&b, 0, sizeof(b));
    b.until = NOW + secs;
    b.action = CFG_ACTION_TEMPFAIL;
    b.setby = STORE_BY_RULE;
    b.flags = (uint8_t) flags;
    b.rule_id = cfg_rule_id(rule);
    snprintf(b.reason, sizeof(b.reason), "%s", rule);
    return b;
}

/* admin_block - a block as relayguardctl block sets it */
static struct store_block admin_block(uint32_t secs)
{
    struct store_block b;

    memset(&b, 0, sizeof(b));
    b.until = NOW + secs;
    b.action = CFG_ACTION_REJECT;
    b.setby = STORE_BY_ADMIN;
    snprintf(b.reason, sizeof(b.reason), "phished");
    return b;
}

/* blocks_make - alice and 10.1.2.3 by many-countries, bob by admin,
 * carol by user-messages, dave by a rule no longer configured, erin by
 * many-countries in dry run */
static STORE *blocks_make(void)
{
    struct store_block b;
    struct addr a;
    STORE *st;

    state_make();
    st = state_open();
    b = rule_block("many-countries", 3600, 0);
    ck_assert_int_eq(store_user_block(st, "alice@example.org", &b, NOW), 0);
    ck_assert_int_eq(addr_parse("10.1.2.3", &a), 0);
    ck_assert_int_eq(store_client_block(st, &a, &b, NOW), 0);
    b = admin_block(7200);
    ck_assert_int_eq(store_user_block(st, "bob@example.org", &b, NOW), 0);
    b = rule_block("user-messages", 600, 0);
    ck_assert_int_eq(store_user_block(st, "carol", &b, NOW), 0);
    b = rule_block("renamed-away", 600, 0);
    ck_assert_int_eq(store_user_block(st, "dave", &b, NOW), 0);
    b = rule_block("many-countries", 600, STORE_BLOCK_WOULD);
    ck_assert_int_eq(store_user_block(st, "erin", &b, NOW), 0);
    return st;
}

/* would_be - the "would_be" member of a block object: 1, 0, -1 absent */
static int would_be(const struct jread_val *b)
{
    const struct jread_val *w = b != NULL ? jread_get(b, "would_be") : NULL;

    return w == NULL || w->type != JREAD_BOOL ? -1 : w->b;
}

/* blocked - is the login blocked now? */
static int blocked(STORE *st, const char *login)
{
    struct store_user u;

    ck_assert_int_eq(store_user_get(st, login, NOW, &u), 0);
    return u.block.until != 0;
}

START_TEST(test_unblock_all_filters)
{
    STORE *st = blocks_make();
    struct store_client cl;
    struct addr a;

    ck_assert_int_eq(addr_parse("10.1.2.3", &a), 0);
    /* by rule name: alice, the address and erin's would-be block */
    ck_assert_int_eq(run("-c", conf, "unblock", "--all", "--rule",
			 "many-countries", NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "unblocked user alice@example.org:"
				 " tempfail 1h rule many-countries\n"));
    ck_assert_ptr_nonnull(strstr(out, "unblocked address 10.1.2.3:"));
    ck_assert_ptr_nonnull(strstr(out, "unblocked user erin: would tempfail"
				 " 10m rule many-countries (dry run)\n"));
    ck_assert_ptr_nonnull(strstr(out, "unblocked 2 users and 1 address\n"));
    ck_assert(!blocked(st, "alice@example.org") && !blocked(st, "erin"));
    ck_assert_int_eq(store_client_get(st, &a, NOW, &cl), 0);
    ck_assert_uint_eq(cl.block.until, 0);
    ck_assert(blocked(st, "bob@example.org") && blocked(st, "carol")
	      && blocked(st, "dave"));
    /* a rule since removed from the configuration: with a warning */
    ck_assert_int_eq(run("-c", conf, "unblock", "--all", "--rule",
			 "renamed-away", NULL), 0);
    ck_assert_ptr_nonnull(strstr(err, "no rule \"renamed-away\""));
    ck_assert(!blocked(st, "dave") && blocked(st, "carol"));
    /* by who set them */
    ck_assert_int_eq(run("-c", conf, "--json", "unblock", "--all", "--by",
			 "admin", NULL), 0);
    {
	struct jread_val *v = parse_out();
	int64_t n;

	ck_assert_int_eq(jread_int(v, "users", &n), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(jread_int(v, "addresses", &n), 0);
	ck_assert_int_eq(n, 0);
	jread_free(v);
    }
    ck_assert(!blocked(st, "bob@example.org") && blocked(st, "carol"));
    ck_assert_int_eq(run("-c", conf, "unblock", "--all", "--by", "rule",
			 NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "unblocked 1 user and 0 addresses\n"));
    ck_assert(!blocked(st, "carol"));
    ck_assert_int_eq(run("-c", conf, "unblock", "--all", NULL), 0);
    ck_assert_str_eq(out, "unblocked 0 users and 0 addresses\n");
    store_close(st);
}
END_TEST

START_TEST(test_unblock_all_everything)
{
    STORE *st = blocks_make();
    struct store_block b = admin_block(60);

    /* a hostile login kept cut and hashed is lifted by its key too */
    ck_assert_int_eq(store_user_block(st, long_login, &b, NOW), 0);
    ck_assert_int_eq(run("-c", conf, "unblock", "--all", NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "unblocked 6 users and 1 address\n"));
    ck_assert(no_controls(out));
    ck_assert(!blocked(st, "alice@example.org") && !blocked(st, "bob@example.org")
	      && !blocked(st, "carol") && !blocked(st, "dave")
	      && !blocked(st, "erin") && !blocked(st, long_login));
    store_close(st);
}
END_TEST

START_TEST(test_unblock_all_usage)
{
    static const char *const cases[][6] = {
	{"unblock", NULL},
	{"unblock", "--all", "alice", NULL},
	{"unblock", "alice", "--rule", "many-countries", NULL},
	{"unblock", "alice", "--by", "admin", NULL},
	{"unblock", "--all", "--by", "root", NULL},
	{"unblock", "--all", "--by", "admin", "--rule", "many-countries"},
	{"unblock", "--all", "--rule", NULL},
	{"block", "alice", "--all", NULL},
    };
    STORE *st = blocks_make();

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	const char *const *a = cases[i];
	int rc = run("-c", conf, a[0], a[1], a[1] ? a[2] : NULL,
		     a[1] && a[2] ? a[3] : NULL, a[1] && a[2] && a[3]
		     ? a[4] : NULL, a[1] && a[2] && a[3] && a[4] ? a[5]
		     : NULL, NULL);

	ck_assert_msg(rc == CTL_EXIT_USAGE, "case %zu: exit %d", i, rc);
    }
    ck_assert(blocked(st, "alice@example.org") && blocked(st, "erin"));
    store_close(st);
}
END_TEST

START_TEST(test_would_block_shown)
{
    STORE *st = blocks_make();
    struct jread_val *v;
    const struct jread_val *b;

    ck_assert_int_eq(run("-c", conf, "show", "erin", NULL), 0);
    ck_assert_ptr_nonnull(strstr(line_of(out, "block "),
				 "would tempfail 10m rule many-countries"
				 " (dry run)"));
    ck_assert_int_eq(run("-c", conf, "--json", "show", "erin", NULL), 0);
    v = parse_out();
    b = jread_get(v, "block");
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(would_be(b), 1);
    ck_assert_str_eq(jread_str(b, "rule"), "many-countries");
    jread_free(v);
    ck_assert_int_eq(run("-c", conf, "--json", "show", "alice@example.org",
			 NULL), 0);
    v = parse_out();
    ck_assert_int_eq(would_be(jread_get(v, "block")), 0);
    jread_free(v);
    ck_assert_int_eq(run("-c", conf, "users", "--limit", "0", NULL), 0);
    ck_assert(lines_fit(out, 80));
    ck_assert_ptr_nonnull(strstr(line_of(out, "erin"), "would"));
    ck_assert_ptr_null(strstr(line_of(out, "carol"), "would"));
    /* not in force: the stats do not count it */
    ck_assert_int_eq(run("-c", conf, "stats", "--prometheus", NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "relayguard_blocked{kind=\"user\"} 4\n"));
    store_close(st);
}
END_TEST

START_TEST(test_block_names_rule)
{
    STORE *st = blocks_make();

    /* carol's rule is the second configured: named by identity */
    ck_assert_int_eq(run("-c", conf, "show", "carol", NULL), 0);
    ck_assert_ptr_nonnull(strstr(line_of(out, "block "),
				 "tempfail 10m rule user-messages"));
    /* dave's rule is no longer configured: the name it kept, marked */
    ck_assert_int_eq(run("-c", conf, "show", "dave", NULL), 0);
    ck_assert_ptr_nonnull(strstr(line_of(out, "block "),
				 "tempfail 10m rule renamed-away?"));
    store_close(st);
}
END_TEST

START_TEST(test_block_network_refused)
{
    static const char *const nets[] = {
	"203.0.113.0/24", "2001:db8::/32", "198.18.3.9/32",
    };
    STORE *st;
    struct store_user u;

    state_make();
    for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++) {
	ck_assert_int_eq(run("-c", conf, "block", nets[i], NULL), CTL_EXIT_USAGE);
	ck_assert_ptr_nonnull(strstr(err, "is a network"));
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(run("-c", conf, "unblock", nets[i], NULL),
			 CTL_EXIT_USAGE);
    }
    st = state_open();
    ck_assert_int_eq(store_user_get(st, "203.0.113.0/24", NOW, &u),
		     STORE_NOTFOUND);
    /* a login that merely holds a slash is still a login */
    ck_assert_int_eq(run("-c", conf, "block", "dept/alice", NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "blocked user dept/alice"));
    store_close(st);
}
END_TEST

START_TEST(test_block_unseen_warns)
{
    state_make();
    ck_assert_int_eq(run("-c", conf, "block", "Newbie@example.org", NULL), 0);
    ck_assert_ptr_nonnull(strstr(err, "warning: user newbie@example.org was"
				 " never seen"));
    ck_assert_ptr_nonnull(strstr(out, "blocked user newbie@example.org"));
    /* show says it has no address yet, rather than an empty table */
    ck_assert_int_eq(run("-c", conf, "show", "newbie@example.org", NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "\nno address remembered\n"));
    ck_assert_ptr_null(strstr(out, "ADDRESS"));
    /* ... and that it was never seen, nor started learning */
    ck_assert_str_eq(row_of(out, "first seen"), "first seen  never (blocked"
		     " before it came)");
    ck_assert_str_eq(row_of(out, "last seen"), "last seen   never");
    ck_assert_ptr_nonnull(strstr(row_of(out, "learning"), "not started: it"
				 " starts with the login's first message"));
    /* known logins and addresses: no warning */
    ck_assert_int_eq(run("-c", conf, "block", "bob@example.org", NULL), 0);
    ck_assert_str_eq(err, "");
    ck_assert_int_eq(run("-c", conf, "block", "192.0.2.77", NULL), 0);
    ck_assert_str_eq(err, "");
}
END_TEST

/* last_of - the LAST cell of a login's row in "users" */
static const char *last_of(const char *login)
{
    static char last[32];
    char user[256];
    const char *l = line_of(out, login);
    unsigned n[5];

    ck_assert_msg(l != NULL, "no %s in:\n%s", login, out);
    ck_assert_int_eq(sscanf(l, "%255s %u %u %u %u %u %31s", user, &n[0],
			    &n[1], &n[2], &n[3], &n[4], last), 7);
    return last;
}

/* learning_until - show LOGIN --json: learning.until, -1 for null */
static int64_t learning_until(const char *login, int64_t *first_seen)
{
    const struct jread_val *l;
    struct jread_val *v;
    int64_t x = -1;

    ck_assert_int_eq(run("-c", conf, "--json", "show", login, NULL), 0);
    v = parse_out();
    ck_assert_int_eq(jread_int(v, "first_seen", first_seen), 0);
    l = jread_get(v, "learning");
    ck_assert_ptr_nonnull(l);
    ck_assert_ptr_nonnull(jread_get(l, "until"));
    if (jread_get(l, "until")->type != JREAD_NULL)
	ck_assert_int_eq(jread_int(l, "until", &x), 0);
    jread_free(v);
    return x;
}

/* A login blocked before it was seen looks unseen (users: no LAST age;
 * show: never seen, learning not started) and starts learning with its
 * first real message, not at the block (the old store stamped the
 * block's time as first and last seen). */
START_TEST(test_block_unseen_learns_later)
{
    int64_t first;
    STORE *st;

    state_make();
    ck_assert_int_eq(run("-c", conf, "block", "newbie@example.org", "--for",
			 "1h", NULL), 0);
    ck_assert_int_eq(run("-c", conf, "users", NULL), 0);
    ck_assert_str_eq(last_of("newbie@example.org"), "-");
    ck_assert_str_ne(last_of("alice@example.org"), "-");
    ck_assert_int_eq(learning_until("newbie@example.org", &first), -1);
    ck_assert_int_eq(first, 0);
    /* the first message, a day later: learning runs from then */
    st = state_open();
    obs(st, "newbie@example.org", "192.0.2.9", "DE", 64500, 1, 1, NULL,
	NOW + DAY_SECS);
    store_close(st);
    ck_assert_int_eq(learning_until("newbie@example.org", &first),
		     NOW + DAY_SECS + 7 * DAY_SECS);
    ck_assert_int_eq(first, NOW + DAY_SECS);
}
END_TEST

/* ctl_admin_suite - the test cases */
static Suite *ctl_admin_suite(void)
{
    Suite *s = suite_create("ctl_admin");
    TCase *tc = tcase_create("blocks");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_unblock_all_filters);
    tcase_add_test(tc, test_unblock_all_everything);
    tcase_add_test(tc, test_unblock_all_usage);
    tcase_add_test(tc, test_would_block_shown);
    tcase_add_test(tc, test_block_names_rule);
    tcase_add_test(tc, test_block_network_refused);
    tcase_add_test(tc, test_block_unseen_warns);
    tcase_add_test(tc, test_block_unseen_learns_later);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ctl_check_run(ctl_admin_suite());
}
