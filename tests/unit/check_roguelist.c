/*
 * check_roguelist - the rogue list's index (roguelist_match): range
 * boundaries, overlapping and nested entries, IPv4 and IPv6 apart, the
 * empty list, and 100,000 entries checked against the linear scan
 * (addr_cidr_list_match) that the milter used before; expires= in an
 * entry's comment (nested networks with other expiries, duplicates, a
 * reason that says "expires=", a time that does not parse), checked
 * against a scan that knows each entry's expiry.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_main.h"
#include "roguelist.h"

#define BIG_ENTRIES 100000
#define BIG_PROBES 3000	/* each one a linear scan of 100k too */
#define SEED 0x5eedu
#define T 1796472000LL		/* 2026-12-05T12:00:00Z */
#define EXP_ENTRIES 5000
#define EXP_TIMES 8		/* distinct expiries in the random list */

/* parse - a list from text; the test fails when it cannot */
static void parse(const char *text, struct roguelist *l)
{
    ck_assert_int_eq(roguelist_parse(text, strlen(text), l), 0);
}

/* hit_at - does the list match this address text at now? */
static int hit_at(const struct roguelist *l, const char *text, int64_t now)
{
    struct addr a;

    ck_assert_msg(addr_parse(text, &a) == 0, "bad test address %s", text);
    return roguelist_match(l, &a, now);
}

/* hit - does the list match this address text (entries without expiry)? */
static int hit(const struct roguelist *l, const char *text)
{
    return hit_at(l, text, T);
}

/* stamp - a time as the collector writes it */
static const char *stamp(int64_t t, char *buf, size_t len)
{
    time_t tt = (time_t) t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
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
    /* the loops' checks call into Check only when they fail (a
     * ck_assert writes its location to the runner at every call: 100,000
     * writes here) */
    for (i = 0; i < l.nets.n; i++)	/* every entry's own network address */
	if (!roguelist_match(&l, &l.nets.v[i].net, T))
	    ck_abort_msg("entry %zu's own network address not matched", i);
    for (i = 0; i < BIG_PROBES; i++) {
	int want;

	probe(&s, &a);
	want = addr_cidr_list_match(&l.nets, &a);
	if (roguelist_match(&l, &a, T) != want)
	    ck_abort_msg("probe %zu: the scan says %d", i, want);
	hits += (size_t) want;
    }
    ck_assert_uint_gt(hits, 0);		/* the probes meant something */
    ck_assert_uint_lt(hits, BIG_PROBES);
    roguelist_free(&l);
    free(text);
}
END_TEST


/* An entry is listed before its expires= and not from then on; a reason
 * that says "expires=" and a time that does not parse change nothing */
START_TEST(test_expiry)
{
    struct roguelist l;

    parse("192.0.2.7 # pinned 2026-12-05T10:00:00Z expires=2026-12-05T12:00:00Z"
	  " reason=\"phish kit\"\n"
	  "192.0.2.8 # rogue_server 2026-12-05T10:00:00Z\n"
	  "192.0.2.9 # pinned 2026-12-05T10:00:00Z reason=\"see expires=2000-01-01T00:00:00Z\"\n"
	  "192.0.2.10 # pinned 2026-12-05T10:00:00Z expires=2026-13-45T99:00:00Z\n", &l);
    ck_assert_uint_eq(l.nets.n, 4);
    ck_assert_uint_eq(l.nexpiring, 1);
    ck_assert(hit_at(&l, "192.0.2.7", T - 1));
    ck_assert(!hit_at(&l, "192.0.2.7", T));
    ck_assert(!hit_at(&l, "192.0.2.7", T + 86400));
    ck_assert(hit_at(&l, "192.0.2.8", T + 86400 * 3650));
    ck_assert(hit_at(&l, "192.0.2.9", T + 86400 * 3650));
    ck_assert(hit_at(&l, "192.0.2.10", T + 86400 * 3650));
    ck_assert_uint_eq(roguelist_expired(&l, T - 1), 0);
    ck_assert_uint_eq(roguelist_expired(&l, T), 1);
    roguelist_free(&l);
}
END_TEST

/* Networks inside networks, each with its own expiry: an address is
 * listed while any entry covering it is; a duplicate without expiry
 * keeps its network for good; adjacent networks stay apart */
START_TEST(test_expiry_nested)
{
    struct roguelist l;
    char text[1024], a[32], b[32], c[32], d[32], e[32];

    snprintf(text, sizeof(text),
	     "10.1.0.0/16 # x 2026-12-05T10:00:00Z expires=%s\n"
	     "10.1.2.0/24 # x 2026-12-05T10:00:00Z expires=%s\n"
	     "10.1.2.3 # x 2026-12-05T10:00:00Z expires=%s\n"
	     "10.1.3.4 # x 2026-12-05T10:00:00Z expires=%s\n"
	     "10.1.9.0/24\n"
	     "10.1.9.0/24 # x 2026-12-05T10:00:00Z expires=%s\n"
	     "10.2.0.0/16 # x 2026-12-05T10:00:00Z expires=%s\n",
	     stamp(T + 100, a, sizeof(a)), stamp(T + 300, b, sizeof(b)),
	     stamp(T + 50, c, sizeof(c)), stamp(T + 200, d, sizeof(d)),
	     stamp(T + 10, e, sizeof(e)), a);
    parse(text, &l);
    /* 10.1.0-1 | 10.1.2/24 | 10.1.3.0-3 | 10.1.3.4 | 10.1.3.5-10.1.8 |
     * 10.1.9/24 | 10.1.10-255 | 10.2/16 */
    ck_assert_uint_eq(l.nranges, 8);
    ck_assert(hit_at(&l, "10.1.0.0", T + 50));
    ck_assert(hit_at(&l, "10.2.255.255", T + 99));
    ck_assert(!hit_at(&l, "10.0.255.255", T));
    ck_assert(!hit_at(&l, "10.3.0.0", T));
    ck_assert(!hit_at(&l, "10.1.0.0", T + 150));
    ck_assert(hit_at(&l, "10.1.2.0", T + 150));
    ck_assert(hit_at(&l, "10.1.2.3", T + 250));	/* its /24 lasts longer */
    ck_assert(hit_at(&l, "10.1.2.255", T + 299));
    ck_assert(!hit_at(&l, "10.1.2.255", T + 300));
    ck_assert(!hit_at(&l, "10.1.3.3", T + 150));
    ck_assert(hit_at(&l, "10.1.3.4", T + 150));
    ck_assert(!hit_at(&l, "10.1.3.4", T + 250));
    ck_assert(!hit_at(&l, "10.1.3.5", T + 150));
    ck_assert(hit_at(&l, "10.1.9.77", T + 86400 * 365));
    ck_assert(!hit_at(&l, "10.1.10.0", T + 150));
    ck_assert(!hit_at(&l, "10.1.255.255", T + 150));
    ck_assert(!hit_at(&l, "10.2.0.0", T + 100));
    ck_assert_uint_eq(roguelist_expired(&l, T + 100), 4);
    roguelist_free(&l);
}
END_TEST

/* exp_text - n random entries (big_text's spaces, narrower) each with
 * one of EXP_TIMES expiries or none; their expiries into exp */
static char *exp_text(size_t n, uint64_t *s, int64_t *exp)
{
    size_t cap = n * 112 + 1, used = 0, i;
    char *t = malloc(cap), when[32], net[64];

    ck_assert_ptr_nonnull(t);
    for (i = 0; i < n; i++) {
	uint64_t r = rnd(s);
	unsigned k = (unsigned) (r >> 40) % (EXP_TIMES + 1);

	if (r % 3 == 0)
	    snprintf(net, sizeof(net), "10.%u.%u.%u", (unsigned) (r >> 8) % 4,
		     (unsigned) (r >> 16) % 256, (unsigned) (r >> 24) % 256);
	else if (r % 3 == 1)
	    snprintf(net, sizeof(net), "10.%u.%u.%u/%u", (unsigned) (r >> 8) % 4,
		     (unsigned) (r >> 16) % 256, (unsigned) (r >> 50) % 256,
		     22 + (unsigned) (r >> 24) % 11);
	else
	    snprintf(net, sizeof(net), "2001:db8:%x:%x::/%u", (unsigned) (r >> 8) % 64,
		     (unsigned) (r >> 16) % 16, 48 + (unsigned) (r >> 24) % 17);
	exp[i] = k == EXP_TIMES ? ROGUELIST_NEVER : T + 100 * (int64_t) k;
	used += (size_t) snprintf(t + used, cap - used, "%s # x 2026-12-05T10:00:00Z%s%s\n",
				  net, k == EXP_TIMES ? "" : " expires=",
				  k == EXP_TIMES ? "" : stamp(exp[i], when, sizeof(when)));
    }
    return t;
}

/* near - a random address in exp_text's spaces */
static void near(uint64_t *s, struct addr *a)
{
    uint64_t r = rnd(s);
    char text[ADDR_STRLEN];

    if (r & 1)
	snprintf(text, sizeof(text), "10.%u.%u.%u", (unsigned) (r >> 8) % 4,
		 (unsigned) (r >> 16) % 256, (unsigned) (r >> 24) % 256);
    else
	snprintf(text, sizeof(text), "2001:db8:%x:%x::%x", (unsigned) (r >> 8) % 64,
		 (unsigned) (r >> 16) % 16, (unsigned) (r >> 24) % 65536);
    ck_assert_int_eq(addr_parse(text, a), 0);
}

/* scan_at - the reference: an entry covers a and has not expired */
static int scan_at(const struct roguelist *l, const int64_t *exp, const struct addr *a,
		   int64_t now)
{
    size_t i;

    for (i = 0; i < l->nets.n; i++)
	if (now < exp[i] && addr_cidr_match(&l->nets.v[i], a))
	    return 1;
    return 0;
}

START_TEST(test_expiry_agrees_with_scan)
{
    static int64_t exp[EXP_ENTRIES];
    uint64_t s = SEED;
    char *text = exp_text(EXP_ENTRIES, &s, exp);
    struct roguelist l;
    struct addr a;
    size_t i, hits = 0, gone = 0, expired;
    int64_t now;

    parse(text, &l);
    ck_assert_uint_eq(l.nets.n, EXP_ENTRIES);
    for (i = 0; i < BIG_PROBES; i++) {
	int want;

	now = T - 1 + 100 * (int64_t) (rnd(&s) % (EXP_TIMES + 1)) + (int64_t) (rnd(&s) % 2);
	if (i % 2)
	    a = l.nets.v[rnd(&s) % l.nets.n].net;	/* a network's first address */
	else
	    near(&s, &a);
	want = scan_at(&l, exp, &a, now);
	gone += !want && addr_cidr_list_match(&l.nets, &a);
	if (roguelist_match(&l, &a, now) != want)
	    ck_abort_msg("probe %zu at T%+lld", i, (long long) (now - T));
	hits += (size_t) want;
    }
    ck_assert_uint_gt(hits, BIG_PROBES / 10);
    ck_assert_uint_gt(gone, BIG_PROBES / 10);	/* listed, but expired: not matched */
    for (now = T - 1; now <= T + 100 * EXP_TIMES; now += 50) {
	for (i = 0, expired = 0; i < l.nets.n; i++)
	    expired += exp[i] <= now;
	ck_assert_uint_eq(roguelist_expired(&l, now), expired);
    }
    roguelist_free(&l);
    free(text);
}
END_TEST


/* A line longer than the address buffer is an entry all the same when
 * its address fits: an IPv6 host with its incident's reason, a pin with
 * a long reason (such lines were skipped as bad before) */
START_TEST(test_long_lines)
{
    struct roguelist l;
    char text[2048], reason[400];

    memset(reason, 'r', sizeof(reason) - 1);
    reason[sizeof(reason) - 1] = 0;
    snprintf(text, sizeof(text),
	     "2001:db8:ffff:ffff:ffff:ffff:ffff:fff1 # incident 2026-12-05T10:00:00Z"
	     " expires=2026-12-05T12:00:00Z reason=\"incident login_from_flagged"
	     " INC-0123456789ab\"\n"
	     "  192.0.2.44/32\t # pinned 2026-12-05T10:00:00Z reason=\"%s\"\n"
	     "192.0.2.45%*s\n", reason, 200, "");
    parse(text, &l);
    ck_assert_uint_eq(l.bad_lines, 0);
    ck_assert_uint_eq(l.nets.n, 3);
    ck_assert(hit_at(&l, "2001:db8:ffff:ffff:ffff:ffff:ffff:fff1", T - 1));
    ck_assert(!hit_at(&l, "2001:db8:ffff:ffff:ffff:ffff:ffff:fff1", T));
    ck_assert(hit_at(&l, "192.0.2.44", T + 86400));
    roguelist_free(&l);
    parse("192.0.2.1111111111111111111111111111111111111111111111111111111111111111111"
	  "1111111111111111111111111111111111111111111111111111111111111111111111\n", &l);
    ck_assert_uint_eq(l.bad_lines, 1);		/* an address that long is none */
    roguelist_free(&l);
}
END_TEST

/* roguelist_suite - every case above */
static Suite *roguelist_suite(void)
{
    Suite *s = suite_create("roguelist");
    TCase *tc = tcase_create("match");

    /* two cases scan 100k entries 3000 times as the reference: about a
     * second alone, much longer under the sanitizers on a loaded machine */
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, test_empty);
    tcase_add_test(tc, test_v4_boundaries);
    tcase_add_test(tc, test_overlaps);
    tcase_add_test(tc, test_v4_v6_apart);
    tcase_add_test(tc, test_extremes);
    tcase_add_test(tc, test_100k_agrees_with_scan);
    tcase_add_test(tc, test_expiry);
    tcase_add_test(tc, test_expiry_nested);
    tcase_add_test(tc, test_expiry_agrees_with_scan);
    tcase_add_test(tc, test_long_lines);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(roguelist_suite());
}
