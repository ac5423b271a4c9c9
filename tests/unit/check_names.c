/*
 * check_names - reverse names and MX hosts: the offline names file (bad
 * lines counted, the mx mark), the DNS path's time budget and cache.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../collector/names.h"
#include "check_main.h"

/* A - an address or fail */
static struct addr A(const char *s)
{
    struct addr a;

    ck_assert_msg(addr_parse(s, &a) == 0, "parse %s", s);
    return a;
}

START_TEST(test_names_file)
{
    static const char text[] = "10.20.0.25 mail.example.edu\n"
	"# a comment\n\n2001:db8::1 v6.example.edu mx\n"
	"10.20.0.300 bad.example.edu\n10.20.0.26\n10.20.0.27 x.example.edu MX?\n"
	"10.20.2.2 mx2.example.edu mx # ours\n";
    struct cfg_str_list none = {NULL, 0};
    struct names nm;
    struct addr a = A("2001:db8::1"), b = A("10.20.0.25"), c = A("10.20.9.9");

    memset(&nm, 0, sizeof(nm));
    nm.offline = true;
    ck_assert_int_eq(names_parse(&nm, text, sizeof(text) - 1), 0);
    ck_assert_uint_eq(nm.n, 3);
    ck_assert_uint_eq(nm.bad_lines, 3);
    ck_assert_str_eq(names_lookup(&nm, &a), "v6.example.edu");
    ck_assert_str_eq(names_lookup(&nm, &b), "mail.example.edu");
    ck_assert_str_eq(names_lookup(&nm, &c), "");	/* offline: no DNS */
    ck_assert_uint_eq(nm.lookups, 0);
    ck_assert(names_is_mx(&nm, &none, &a));
    ck_assert(!names_is_mx(&nm, &none, &b));
    names_free(&nm);
}
END_TEST

START_TEST(test_missing_file)
{
    struct names nm;
    char err[256];

    ck_assert_int_eq(names_init(&nm, "/nonexistent/names", 100, err, sizeof(err)), NAMES_FILE);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/names"));
    names_free(&nm);
}
END_TEST

START_TEST(test_dns_budget)
{
    struct names nm;
    char err[256];
    struct addr lo = A("127.0.0.1"), other = A("127.0.0.2");

    /* a budget of 0 ms is spent at once: nothing is looked up */
    ck_assert_int_eq(names_init(&nm, "", 0, err, sizeof(err)), NAMES_OK);
    nm.deadline_ms -= 1;
    ck_assert_str_eq(names_lookup(&nm, &lo), "");
    ck_assert_uint_eq(nm.lookups, 0);
    ck_assert_uint_eq(nm.skipped, 1);
    names_free(&nm);
    /* with time left: the resolver (files first: /etc/hosts), then cached */
    ck_assert_int_eq(names_init(&nm, "", 5000, err, sizeof(err)), NAMES_OK);
    ck_assert_str_eq(names_lookup(&nm, &lo), "localhost");
    ck_assert_str_eq(names_lookup(&nm, &lo), "localhost");
    ck_assert_uint_eq(nm.lookups, 1);
    names_lookup(&nm, &other);
    ck_assert_uint_eq(nm.lookups, 2);
    names_free(&nm);
}
END_TEST

static Suite *names_suite(void)
{
    Suite *s = suite_create("names");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_names_file);
    tcase_add_test(tc, test_missing_file);
    tcase_add_test(tc, test_dns_budget);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(names_suite());
}
