/*
 * check_addr - address and CIDR parsing, matching and prefix grouping.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "check_main.h"

/* A - parse or fail the test */
static struct addr A(const char *s)
{
    struct addr a;

    ck_assert_msg(addr_parse(s, &a) == 0, "parse %s", s);
    return a;
}

/* C - parse a CIDR or fail the test */
static struct cidr C(const char *s)
{
    struct cidr c;
    char err[128];

    ck_assert_msg(addr_cidr_parse(s, &c, err, sizeof(err)) == 0, "%s: %s", s, err);
    return c;
}

START_TEST(test_parse_format)
{
    char buf[ADDR_STRLEN];
    struct addr a = A("203.0.113.9"), b = A("2001:db8::1");

    ck_assert(addr_is_v4(&a));
    ck_assert(!addr_is_v4(&b));
    ck_assert_str_eq(addr_format(&a, buf, sizeof(buf)), "203.0.113.9");
    ck_assert_str_eq(addr_format(&b, buf, sizeof(buf)), "2001:db8::1");
    ck_assert_int_eq(addr_parse("203.0.113", &a), -1);
    ck_assert_int_eq(addr_parse("203.0.113.256", &a), -1);
    ck_assert_int_eq(addr_parse("[::1]", &a), -1);
    ck_assert_int_eq(addr_parse("", &a), -1);
    ck_assert_int_eq(addr_parse(NULL, &a), -1);
    ck_assert_int_eq(addr_parse("1.2.3.4 ", &a), -1);
}
END_TEST

START_TEST(test_cidr_edges)
{
    static const struct {
	const char *text;
	int ok;
    } cases[] = {
	{"10.0.0.0/8", 1}, {"10.0.0.0/0", 1}, {"10.0.0.1/32", 1},
	{"10.0.0.1", 1}, {"::/0", 1}, {"2001:db8::/128", 1},
	{"10.0.0.0/33", 0}, {"10.0.0.0/-1", 0}, {"10.0.0.0/", 0},
	{"10.0.0.0/8/8", 0}, {"10.0.0.0/8x", 0}, {"/8", 0}, {"", 0},
	{"2001:db8::/129", 0}, {"10.0.0.0/ 8", 0}, {"10.0.0.0/+8", 0},
	{"10.0.0.0/0008", 1}, {"::ffff:10.0.0.0/104", 1},
    };
    struct cidr c;
    char err[128];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	ck_assert_msg((addr_cidr_parse(cases[i].text, &c, err, sizeof(err)) == 0)
		      == cases[i].ok, "cidr \"%s\"", cases[i].text);
}
END_TEST

START_TEST(test_cidr_match)
{
    struct cidr net = C("10.1.2.3/16"), all4 = C("0.0.0.0/0"), v6 = C("2001:db8::/32");
    struct addr in = A("10.1.255.255"), out = A("10.2.0.0"), x6 = A("2001:db8:ffff::1");
    char buf[CIDR_STRLEN];

    ck_assert(addr_cidr_match(&net, &in));
    ck_assert(!addr_cidr_match(&net, &out));
    ck_assert_str_eq(addr_cidr_format(&net, buf, sizeof(buf)), "10.1.0.0/16");
    ck_assert(addr_cidr_match(&all4, &out));
    ck_assert(!addr_cidr_match(&all4, &x6));	/* IPv4 /0 is not "everything" */
    ck_assert(addr_cidr_match(&v6, &x6));
    ck_assert(!addr_cidr_match(&v6, &in));
    ck_assert_str_eq(addr_cidr_format(&v6, buf, sizeof(buf)), "2001:db8::/32");
}
END_TEST

START_TEST(test_list_best)
{
    struct cidr v[3] = { C("10.0.0.0/8"), C("10.20.0.0/16"), C("10.20.30.0/24") };
    struct cidr_list l = { v, 3 };
    struct addr a = A("10.20.30.40"), b = A("10.20.99.1"), c = A("11.0.0.1");

    ck_assert_ptr_eq(addr_cidr_list_best(&l, &a), &v[2]);
    ck_assert_ptr_eq(addr_cidr_list_best(&l, &b), &v[1]);
    ck_assert_ptr_null(addr_cidr_list_best(&l, &c));
    ck_assert(!addr_cidr_list_match(NULL, &a));
}
END_TEST

START_TEST(test_prefix_grouping)
{
    struct addr a = A("198.51.100.7"), b = A("198.51.100.200"), c = A("198.51.101.7");
    struct addr d = A("2001:db8:1:2::1"), e = A("2001:db8:1:ffff::9"), f = A("2001:db8:2::1");
    struct addr pa, pb, pc, pd, pe, pf;
    char buf[ADDR_STRLEN];

    addr_prefix(&a, &pa), addr_prefix(&b, &pb), addr_prefix(&c, &pc);
    addr_prefix(&d, &pd), addr_prefix(&e, &pe), addr_prefix(&f, &pf);
    ck_assert(addr_equal(&pa, &pb));
    ck_assert(!addr_equal(&pa, &pc));
    ck_assert(addr_equal(&pd, &pe));
    ck_assert(!addr_equal(&pd, &pf));
    ck_assert_str_eq(addr_format(&pa, buf, sizeof(buf)), "198.51.100.0");
    ck_assert_str_eq(addr_format(&pd, buf, sizeof(buf)), "2001:db8:1::");
}
END_TEST

/* addr_suite - every case above */
static Suite *addr_suite(void)
{
    Suite *s = suite_create("addr");
    TCase *tc = tcase_create("addr");

    tcase_add_test(tc, test_parse_format);
    tcase_add_test(tc, test_cidr_edges);
    tcase_add_test(tc, test_cidr_match);
    tcase_add_test(tc, test_list_best);
    tcase_add_test(tc, test_prefix_grouping);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(addr_suite());
}
