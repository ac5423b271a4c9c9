/*
 * check_roguelist - the rogue list's index (roguelist_match): range
 * boundaries, overlapping and nested entries, IPv4 and IPv6 apart, the
 * empty list, and 100,000 entries checked against the linear scan
 * (addr_cidr_list_match) that the milter used before.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "roguelist.h"

#define BIG_ENTRIES 100000
#define BIG_PROBES 3000	/* each one a linear scan of 100k too */
#define SEED 0x5eedu

/* parse - a list from text; the test fails when it cannot */
static void parse(const char *text, struct roguelist *l)
{
    ck_assert_int_eq(roguelist_parse(text, strlen(text), l), 0);
}

/* hit - does the list match this address text? */
static int hit(const struct roguelist *l, const char *text)
{
    struct addr a;

    ck_assert_msg(addr_parse(text, &a) == 0, "bad test address %s", text);
    return roguelist_match(l, &a);
}

START_TEST(test_empty)
{
    struct roguelist l;

    parse("# nothing listed\n\n", &l);
    ck_assert_uint_eq(l.nets.n, 0);
    ck_assert_uint_eq(l.nranges, 0);
    ck_assert(!hit(&l, "192.0.2.1"));
    ck_assert(!hit(&l, "::"));
    ck_assert(!hit(&l, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
    roguelist_free(&l);
}
END_TEST

START_TEST(test_v4_boundaries)
{
    struct roguelist l;

    parse("198.51.100.0/24 # rogue_server 2026-11-10T08:00:00Z\n"
	  "192.0.2.7\n203.0.113.128/25\n", &l);
    ck_assert_uint_eq(l.nranges, 3);
    ck_assert(!hit(&l, "198.51.99.255"));
    ck_assert(hit(&l, "198.51.100.0"));
    ck_assert(hit(&l, "198.51.100.255"));
    ck_assert(!hit(&l, "198.51.101.0"));
    ck_assert(!hit(&l, "192.0.2.6"));
    ck_assert(hit(&l, "192.0.2.7"));
    ck_assert(!hit(&l, "192.0.2.8"));
    ck_assert(!hit(&l, "203.0.113.127"));
    ck_assert(hit(&l, "203.0.113.128"));
    ck_assert(hit(&l, "203.0.113.255"));
    ck_assert(!hit(&l, "203.0.114.0"));
    ck_assert(!hit(&l, "0.0.0.0"));
    ck_assert(!hit(&l, "255.255.255.255"));
    roguelist_free(&l);
}
END_TEST

START_TEST(test_overlaps)
{
    struct roguelist l;

    /* a host inside a /24 listed before it, a /16 around both and one
     * starting where it starts, a /24 at its end, a /23 right after it
     * (adjacent, kept apart), a duplicate */
    parse("10.1.2.3\n10.1.2.0/24\n10.1.0.0/24\n10.1.0.0/16\n10.1.255.0/24\n"
	  "10.2.0.0/23\n10.9.9.9\n10.9.9.9\n", &l);
    ck_assert_uint_eq(l.nets.n, 8);
    ck_assert_uint_eq(l.nranges, 3);	/* 10.1/16, 10.2.0/23, 10.9.9.9 */
    ck_assert(!hit(&l, "10.0.255.255"));
    ck_assert(hit(&l, "10.1.0.0"));
    ck_assert(hit(&l, "10.1.2.3"));
    ck_assert(hit(&l, "10.1.200.1"));
    ck_assert(hit(&l, "10.1.255.255"));
    ck_assert(hit(&l, "10.2.1.255"));
    ck_assert(!hit(&l, "10.2.2.0"));
    ck_assert(hit(&l, "10.9.9.9"));
    ck_assert(!hit(&l, "10.9.9.10"));
    roguelist_free(&l);
}
END_TEST

START_TEST(test_v4_v6_apart)
{
    struct roguelist l;

    parse("2001:db8:1::/48\n2001:db8:2::5\n192.0.2.0/24\n::/0\n", &l);
    ck_assert(hit(&l, "2001:db8:1::"));
    ck_assert(hit(&l, "2001:db8:1:ffff:ffff:ffff:ffff:ffff"));
    roguelist_free(&l);
    /* without ::/0: an IPv4 entry never covers IPv6 neighbours */
    parse("2001:db8:1::/48\n2001:db8:2::5\n192.0.2.0/24\n0.0.0.0/0\n", &l);
    ck_assert(hit(&l, "2001:db8:1::1"));
    ck_assert(!hit(&l, "2001:db8:0:ffff::1"));
    ck_assert(!hit(&l, "2001:db8:2::4"));
    ck_assert(hit(&l, "2001:db8:2::5"));
    ck_assert(!hit(&l, "2001:db8:2::6"));
    ck_assert(hit(&l, "8.8.8.8"));	/* 0.0.0.0/0: every IPv4 address */
    ck_assert(hit(&l, "255.255.255.255"));
    ck_assert(!hit(&l, "::fffe:ffff:ffff"));	/* just below ::ffff:0:0 */
    ck_assert(!hit(&l, "::1"));
    ck_assert(!hit(&l, "fe80::1"));
    roguelist_free(&l);
}
END_TEST

START_TEST(test_extremes)
{
    struct roguelist l;

    parse("::\nffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\n8000::/1\n", &l);
    ck_assert(hit(&l, "::"));
    ck_assert(!hit(&l, "::1"));
    ck_assert(!hit(&l, "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
    ck_assert(hit(&l, "8000::"));
    ck_assert(hit(&l, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"));
    ck_assert(hit(&l, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
    ck_assert_uint_eq(l.nranges, 2);
    roguelist_free(&l);
    parse("2001:db8::/64\n2001:db8:0:1::/64\n", &l);	/* the /64 split of halves */
    ck_assert(hit(&l, "2001:db8::ffff:ffff:ffff:ffff"));
    ck_assert(hit(&l, "2001:db8:0:1::"));
    ck_assert(!hit(&l, "2001:db8:0:2::"));
    roguelist_free(&l);
}
END_TEST

/* rnd - a small deterministic generator (xorshift64) */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* big_text - n entries: v4 hosts and networks, v6 /48s and hosts, all in
 * narrow spaces so they overlap and probes hit */
static char *big_text(size_t n, uint64_t *s)
{
    size_t cap = n * 48 + 1, used = 0, i;
    char *t = malloc(cap);

    ck_assert_ptr_nonnull(t);
    for (i = 0; i < n; i++) {
	uint64_t r = rnd(s);

	switch (r % 4) {
	case 0:
	    used += (size_t) snprintf(t + used, cap - used, "10.%u.%u.%u\n",
				      (unsigned) (r >> 8) % 16, (unsigned) (r >> 16) % 256,
				      (unsigned) (r >> 24) % 256);
	    break;
	case 1:
	    used += (size_t) snprintf(t + used, cap - used, "10.%u.%u.0/%u\n",
				      (unsigned) (r >> 8) % 16, (unsigned) (r >> 16) % 256,
				      20 + (unsigned) (r >> 24) % 13);
	    break;
	case 2:
	    used += (size_t) snprintf(t + used, cap - used, "2001:db8:%x::/%u\n",
				      (unsigned) (r >> 8) % 4096, 40 + (unsigned) (r >> 24) % 25);
	    break;
	default:
	    used += (size_t) snprintf(t + used, cap - used, "2001:db8:%x::%x\n",
				      (unsigned) (r >> 8) % 4096, (unsigned) (r >> 24) % 8);
	}
    }
    return t;
}

/* probe - a random address near the listed spaces */
static void probe(uint64_t *s, struct addr *a)
{
    uint64_t r = rnd(s);
    char text[ADDR_STRLEN];

    if (r & 1)
	snprintf(text, sizeof(text), "10.%u.%u.%u", (unsigned) (r >> 8) % 17,
		 (unsigned) (r >> 16) % 256, (unsigned) (r >> 24) % 256);
    else
	snprintf(text, sizeof(text), "2001:db8:%x::%x", (unsigned) (r >> 8) % 4200,
		 (unsigned) (r >> 24) % 10);
    ck_assert_int_eq(addr_parse(text, a), 0);
}

START_TEST(test_100k_agrees_with_scan)
{
    uint64_t s = SEED;
    char *text = big_text(BIG_ENTRIES, &s);
    struct roguelist l;
    struct addr a;
    size_t i, hits = 0;

    parse(text, &l);
    ck_assert_uint_eq(l.nets.n, BIG_ENTRIES);
    ck_assert_uint_eq(l.bad_lines, 0);
    for (i = 0; i < l.nets.n; i++)	/* every entry's own network address */
	ck_assert(roguelist_match(&l, &l.nets.v[i].net));
    for (i = 0; i < BIG_PROBES; i++) {
	int want;

	probe(&s, &a);
	want = addr_cidr_list_match(&l.nets, &a);
	ck_assert_int_eq(roguelist_match(&l, &a), want);
	hits += (size_t) want;
    }
    ck_assert_uint_gt(hits, 0);		/* the probes meant something */
    ck_assert_uint_lt(hits, BIG_PROBES);
    roguelist_free(&l);
    free(text);
}
END_TEST

/* roguelist_suite - every case above */
static Suite *roguelist_suite(void)
{
    Suite *s = suite_create("roguelist");
    TCase *tc = tcase_create("match");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_empty);
    tcase_add_test(tc, test_v4_boundaries);
    tcase_add_test(tc, test_overlaps);
    tcase_add_test(tc, test_v4_v6_apart);
    tcase_add_test(tc, test_extremes);
    tcase_add_test(tc, test_100k_agrees_with_scan);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(roguelist_suite());
}
