/*
 * check_ctl_usage - unit tests of relayguardctl's command line as an
 * admin meets it: each COMMAND --help is that command's own help, a bad
 * argument is exit 2 before the configuration or the state is opened,
 * the "(is relayguard-milter running?)" hint only where a missing state
 * file makes it likely, and a block's rule shown by its whole name.
 *
 * The fixture is ctl_test.h's; the state file exists only in the tests
 * that make it (state_make), every test runs forked.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "ctl_test.h"

#define LONG_RULE "many-countries-in-ten-minutes-xx"	/* 32 bytes */

static const char *const commands[] = {
    "users", "clients", "sites", "show", "block", "unblock", "reset", "stats",
    "quarantine", "contain", "replay",
};

/* first_line - the first line of s (static) */
static const char *first_line(const char *s)
{
    static char line[512];

    snprintf(line, sizeof(line), "%.*s", (int) strcspn(s, "\n"), s);
    return line;
}

START_TEST(test_command_help)
{
    char global[4096], want[64];

    ck_assert_int_eq(run("--help", NULL), 0);
    snprintf(global, sizeof(global), "%s", out);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
	const char *cmd = commands[i];

	snprintf(want, sizeof(want), "relayguardctl %s", cmd);
	/* --help and -h, before or after the command, need no file */
	ck_assert_int_eq(run("-c", "/nonexistent.conf", cmd, "--help", NULL),
			 0);
	ck_assert_msg(strcmp(out, global) != 0, "%s --help is the global"
		      " usage", cmd);
	ck_assert_msg(strstr(first_line(out), cmd) != NULL, "%s --help: %s",
		      cmd, first_line(out));
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(run("-h", cmd, NULL), 0);
	ck_assert_msg(strstr(first_line(out), cmd) != NULL, "-h %s", cmd);
	ck_assert_msg(lines_fit(out, 80), "%s --help is wider than 80", cmd);
    }
    /* an unknown command's help is a usage error */
    ck_assert_int_eq(run("bogus", "--help", NULL), 2);
    ck_assert_ptr_nonnull(strstr(err, "unknown command"));
    /* a usage error of a command shows that command's synopsis */
    ck_assert_int_eq(run("-c", conf, "users", "--sort", "bogus", NULL), 2);
    ck_assert_ptr_nonnull(strstr(err, "usage: relayguardctl [-c FILE]"
				 " [--json] users"));
    ck_assert_ptr_null(strstr(err, "quarantine"));
}
END_TEST

/* Argument errors that must be exit 2 whatever the files' condition. */
static const char *const bad_args[][8] = {
    {"users", "--sort", "bogus", NULL},
    {"users", "--window", "2d", NULL},
    {"users", "--limit", "many", NULL},
    {"clients", "--sort", "ips", NULL},
    {"show", "alice", "--window", "soon", NULL},
    {"block", "alice", "--for", "a while", NULL},
    {"block", "alice", "--action", "accept", NULL},
    {"block", "alice", "--reason", "two\nlines", NULL},
    {"block", "203.0.113.0/24", NULL},
    {"block", "", NULL},
    {"unblock", "--all", "--by", "nobody", NULL},
    {"unblock", "--all", "alice", NULL},
    {"unblock", "alice", "--rule", "many-countries", NULL},
    {"unblock", "--all", "--rule", "x", "--by", "admin", NULL},
    {"reset", "198.18.0.0/15", NULL},
    {"stats", "--prometheus", "--json", NULL},
};

/* run_bad - one bad_args line with -c cfg; the exit code */
static int run_bad(const char *cfg, size_t i)
{
    const char *const *a = bad_args[i];

    return run("-c", cfg, a[0], a[1], a[2], a[3], a[4], a[5], NULL);
}

START_TEST(test_usage_before_state)
{
    char noconf[PATH_LEN];

    unlink(statef);		/* no state file: the milter never ran */
    snprintf(noconf, sizeof(noconf), "%s/missing.conf", tdir);
    for (size_t i = 0; i < sizeof(bad_args) / sizeof(bad_args[0]); i++) {
	int rc = run_bad(conf, i);

	ck_assert_msg(rc == 2, "%s %s: %d, not 2: %s", bad_args[i][0],
		      bad_args[i][1] ? bad_args[i][1] : "", rc, err);
	ck_assert_ptr_null(strstr(err, "unavailable: "));
	ck_assert_msg(run_bad(noconf, i) == 2, "%s %s without a"
		      " configuration", bad_args[i][0],
		      bad_args[i][1] ? bad_args[i][1] : "");
    }
    /* good arguments still get to the state */
    ck_assert_int_eq(run("-c", conf, "users", "--sort", "ips", NULL), 69);
    ck_assert_int_eq(run("-c", noconf, "users", NULL), 78);
}
END_TEST

START_TEST(test_milter_hint)
{
    /* no file: the milter has not made it yet */
    unlink(statef);
    ck_assert_int_eq(run("-c", conf, "stats", NULL), 69);
    ck_assert_ptr_nonnull(strstr(err, "(is relayguard-milter running?"));
    /* a file that is there but no state: the milter is not the cause */
    write_file(statef, "not a state file, just text\n", 0600);
    ck_assert_int_eq(run("-c", conf, "stats", NULL), 69);
    ck_assert_ptr_null(strstr(err, "relayguard-milter running"));
    ck_assert_int_eq(run("-c", conf, "users", NULL), 69);
    ck_assert_ptr_null(strstr(err, "relayguard-milter running"));
    /* a state file that works: no hint either */
    state_make();
    ck_assert_int_eq(run("-c", conf, "stats", NULL), 0);
    ck_assert_str_eq(err, "");
}
END_TEST

/* long_rule_conf - a configuration whose rule has a 32-byte name */
static void long_rule_conf(char *path, size_t len)
{
    char text[2048];

    snprintf(path, len, "%s/long.conf", tdir);
    snprintf(text, sizeof(text),
	     "state: { path = \"%s\"; max_users = 1000; max_clients = 1000; };\n"
	     "geoip: { city_db = \"\"; country_db = \"\"; asn_db = \"\"; };\n"
	     "policy: { rules = (\n"
	     "  { name = \"" LONG_RULE "\"; applies_to = \"authenticated\";\n"
	     "    metric = \"distinct_countries\"; window = \"10m\"; limit = 3;\n"
	     "    action = \"tempfail\"; block_for = \"1h\"; } ); };\n", statef);
    write_file(path, text, 0600);
}

/* squeezed - s without blanks and line ends (a wrapped cell joined) */
static char *squeezed(const char *s)
{
    char *r = malloc(strlen(s) + 1), *p = r;

    ck_assert_ptr_nonnull(r);
    for (; *s; s++)
	if (*s != ' ' && *s != '\n')
	    *p++ = *s;
    *p = '\0';
    return r;
}

START_TEST(test_block_rule_whole)
{
    struct store_block b;
    char lconf[PATH_LEN];
    const char *line;
    char *sq;
    STORE *st;

    long_rule_conf(lconf, sizeof(lconf));
    state_make();
    st = state_open();
    memset(&b, 0, sizeof(b));
    b.until = NOW + 3600;
    b.action = CFG_ACTION_TEMPFAIL;
    b.setby = STORE_BY_RULE;
    b.rule_id = cfg_rule_id(LONG_RULE);
    memcpy(b.reason, LONG_RULE, sizeof(b.reason) - 1);	/* cut, as the
								 * engine keeps it */
    ck_assert_int_eq(store_user_block(st, "alice@example.org", &b, NOW), 0);
    store_close(st);
    /* users: the BLOCKED cell wraps, it is not cut */
    ck_assert_int_eq(run("-c", lconf, "users", NULL), 0);
    ck_assert_msg(lines_fit(out, 80), "%s", out);
    ck_assert_ptr_null(strstr(line_of(out, "alice@"), "..."));
    sq = squeezed(out);
    ck_assert_msg(strstr(sq, "tempfail1hrule" LONG_RULE) != NULL, "%s", out);
    free(sq);
    /* ... broken after a '-' of the name, not inside a word */
    ck_assert_msg(strstr(out, "many-countries-in-t\n") == NULL, "%s", out);
    ck_assert_msg(strstr(out, "-\n") != NULL, "%s", out);
    /* show: the whole name, not the kept 19 bytes once more */
    ck_assert_int_eq(run("-c", lconf, "show", "alice@example.org", NULL), 0);
    line = line_of(out, "block ");
    ck_assert_ptr_nonnull(line);
    sq = squeezed(out);
    ck_assert_msg(strstr(sq, "rule" LONG_RULE ",until") != NULL, "%s", out);
    free(sq);
    ck_assert_msg(strstr(out, ": many-countries-in-t") == NULL, "%s", out);
    /* an admin's reason is still shown in full */
    ck_assert_int_eq(run("-c", lconf, "block", "bob@example.org", "--reason",
			 "phished via a form", NULL), 0);
    ck_assert_int_eq(run("-c", lconf, "show", "bob@example.org", NULL), 0);
    ck_assert_ptr_nonnull(strstr(line_of(out, "block "),
				 ": phished via a form"));
}
END_TEST

/* ctl_usage_suite - the test cases */
static Suite *ctl_usage_suite(void)
{
    Suite *s = suite_create("ctl_usage");
    TCase *tc = tcase_create("usage");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_command_help);
    tcase_add_test(tc, test_usage_before_state);
    tcase_add_test(tc, test_milter_hint);
    tcase_add_test(tc, test_block_rule_whole);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ctl_check_run(ctl_usage_suite());
}
