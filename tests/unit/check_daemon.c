/*
 * check_daemon - daemon_parse_args, the flags relayguard-milter,
 * relayguard-policyd and relayguard-collector share: -c FILE, -f, -n,
 * -V, and what follows them (nothing for the daemons, a command for the
 * collector).
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include "cfg.h"
#include "check_main.h"
#include "daemon.h"

#define ARGV_MAX 8

#define ARG_MAX_LEN 64

/* parse - daemon_parse_args over a NULL-ended list (copied: getopt may
 * permute argv); its return value */
static int parse(bool command, struct daemon_opts *o, const char *const *a)
{
    static char args[ARGV_MAX][ARG_MAX_LEN];
    static char *argv[ARGV_MAX + 1];
    int argc = 0;

    for (; a[argc] != NULL && argc < ARGV_MAX; argc++) {
	snprintf(args[argc], ARG_MAX_LEN, "%s", a[argc]);
	argv[argc] = args[argc];
    }
    argv[argc] = NULL;
    optind = 0;			/* glibc: start afresh */
    opterr = 0;
    return daemon_parse_args(argc, argv, command, o);
}

START_TEST(test_flags)
{
    struct daemon_opts o;

    ck_assert_int_eq(parse(false, &o, (const char *[]) {"d", NULL}), 0);
    ck_assert_str_eq(o.file, CFG_DEFAULT_FILE);
    ck_assert(!o.foreground && !o.check_only && !o.version);
    ck_assert_int_eq(parse(false, &o, (const char *[]) {"d", "-f", "-c",
			   "/x.conf", "-n", NULL}), 0);
    ck_assert_str_eq(o.file, "/x.conf");
    ck_assert(o.foreground && o.check_only && !o.version);
    ck_assert_int_eq(parse(false, &o, (const char *[]) {"d", "-fn", NULL}),
		     0);
    ck_assert(o.foreground && o.check_only);
    /* -V ends the parse: what follows is not looked at */
    ck_assert_int_eq(parse(false, &o, (const char *[]) {"d", "-V", "-x",
			   NULL}), 0);
    ck_assert(o.version);
}
END_TEST

START_TEST(test_usage)
{
    struct daemon_opts o;

    ck_assert_int_eq(parse(false, &o, (const char *[]) {"d", "-x", NULL}),
		     -1);
    ck_assert_int_eq(parse(false, &o, (const char *[]) {"d", "-c", NULL}),
		     -1);
    /* a daemon takes no arguments */
    ck_assert_int_eq(parse(false, &o, (const char *[]) {"d", "-f", "run",
			   NULL}), -1);
}
END_TEST

START_TEST(test_command)
{
    struct daemon_opts o;

    /* the flags end at the command; its own flags are left to it */
    ck_assert_int_eq(parse(true, &o, (const char *[]) {"c", "-c", "/y.conf",
			   "analyze", "-f", "--json", NULL}), 0);
    ck_assert_str_eq(o.file, "/y.conf");
    ck_assert(!o.foreground);
    ck_assert_int_eq(optind, 3);
    ck_assert_int_eq(parse(true, &o, (const char *[]) {"c", "-n", NULL}), 0);
    ck_assert(o.check_only);
    ck_assert_int_eq(optind, 2);
}
END_TEST

/* daemon_suite - the cases above */
static Suite *daemon_suite(void)
{
    Suite *s = suite_create("daemon");
    TCase *tc = tcase_create("args");

    tcase_add_test(tc, test_flags);
    tcase_add_test(tc, test_usage);
    tcase_add_test(tc, test_command);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(daemon_suite());
}
