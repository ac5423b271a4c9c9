/*
 * bench_roguelist - what the rogue list costs a MAIL: roguelist_match
 * (the milter's index) on lists of 1,000 to 100,000 entries, against
 * the linear scan (addr_cidr_list_match) the milter used before.
 *
 * A list is a mix like the collector writes: IPv4 and IPv6 hosts and
 * some networks. Lookups are addresses from the same spaces, half of
 * them listed. Prints per size
 *   roguelist: N entries (R ranges): index M ns/lookup, scan S ns/lookup
 * each the best of ROUNDS rounds (the machine may be shared); then the
 * same lists with each line's comment as the collector writes it (kind,
 * time, an expires= within a week, one line in 50 already expired),
 * marked "with expires=". Not a test: it never fails on a slow machine.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "roguelist.h"

#define ROUNDS 5
#define LOOKUPS 1000000		/* per round, index */
#define SCAN_BUDGET 200000000ull	/* entries compared per scan round */
#define PROBES 4096		/* distinct addresses, cycled */
#define NS_PER_S 1000000000.0

static const size_t sizes[] = {1000, 10000, 100000};

/* rnd - xorshift64 */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* now_s - a monotonic clock */
static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / NS_PER_S;
}

#define WEEK_S 604800
#define EXPIRED_EVERY 50

static int with_expiry;		/* lines carry the collector's comment */
static int64_t bench_now;	/* the time of every lookup */

/* comment - the collector's comment on a line, or nothing */
static const char *comment(uint64_t r, size_t i, char *buf, size_t len)
{
    time_t t = (time_t) (bench_now + (i % EXPIRED_EVERY ? 1 + (int64_t) (r % WEEK_S) : -60));
    struct tm tm;
    char when[32];

    if (!with_expiry)
	return "";
    gmtime_r(&t, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(buf, len, " # rogue_server 2026-11-10T08:00:00Z expires=%s", when);
    return buf;
}

/* host - the text of entry i (v4 or v6 host, some networks) */
static int host(char *buf, size_t len, uint64_t r, size_t i)
{
    char c[96];

    if (i % 10 == 9)
	return snprintf(buf, len, "10.%u.%u.0/24%s\n", (unsigned) (r >> 8) & 0xff,
			(unsigned) (r >> 16) & 0xff, comment(r, i, c, sizeof(c)));
    if (i % 2)
	return snprintf(buf, len, "2001:db8:%x:%x::%x%s\n", (unsigned) (r >> 8) & 0xffff,
			(unsigned) (r >> 24) & 0xffff, (unsigned) (r >> 40) & 0xff,
			comment(r, i, c, sizeof(c)));
    return snprintf(buf, len, "198.%u.%u.%u%s\n", 18 + (unsigned) (r >> 8) % 2,
		    (unsigned) (r >> 16) & 0xff, (unsigned) (r >> 24) & 0xff,
		    comment(r, i, c, sizeof(c)));
}

/* make_list - n entries; the first PROBES/2 hosts' texts kept as probes */
static int make_list(size_t n, struct roguelist *l, struct addr *probes)
{
    size_t cap = n * 112, used = 0, i;
    char *t = malloc(cap), line[160];
    uint64_t s = 0x9e3779b97f4a7c15ull;
    int rc;

    if (t == NULL)
	return -1;
    for (i = 0; i < n; i++) {
	int k = host(t + used, cap - used, rnd(&s), i);

	used += (size_t) k;
    }
    rc = roguelist_parse(t, used, l);
    free(t);
    for (i = 0; i < PROBES; i++) {	/* even: listed; odd: not */
	if (i % 2 == 0 && l->nets.n) {
	    probes[i] = l->nets.v[(size_t) rnd(&s) % l->nets.n].net;
	    continue;
	}
	host(line, sizeof(line), rnd(&s) ^ 0x5555, i / 2);
	line[strcspn(line, "/ \n")] = 0;
	if (addr_parse(line, &probes[i]) != 0)
	    return -1;
    }
    return rc;
}

/* time_index - best ns per roguelist_match; *hits for the sanity line */
static double time_index(const struct roguelist *l, const struct addr *p, size_t *hits)
{
    double best = 1e30;
    int r;

    for (r = 0; r < ROUNDS; r++) {
	double t0 = now_s(), dt;
	size_t i, h = 0;

	for (i = 0; i < LOOKUPS; i++)
	    h += (size_t) roguelist_match(l, &p[i % PROBES], bench_now);
	dt = now_s() - t0;
	if (dt < best)
	    best = dt;
	*hits = h;
    }
    return best / LOOKUPS * NS_PER_S;
}

/* time_scan - best ns per linear scan (fewer lookups on long lists);
 * *agree: the index gave the same answer for each of them */
static double time_scan(const struct roguelist *l, const struct addr *p, int *agree)
{
    size_t n = (size_t) (SCAN_BUDGET / (l->nets.n + 1)), i, h;
    double best = 1e30;
    int r;

    if (n > LOOKUPS)
	n = LOOKUPS;
    for (r = 0; r < ROUNDS; r++) {
	double t0 = now_s(), dt;

	for (i = 0, h = 0; i < n; i++)
	    h += (size_t) addr_cidr_list_match(&l->nets, &p[i % PROBES]);
	if (h == SIZE_MAX)
	    return 0;		/* keeps the loop from being optimised away */
	dt = now_s() - t0;
	if (dt < best)
	    best = dt;
    }
    for (i = 0, *agree = 1; i < n; i++)
	*agree &= addr_cidr_list_match(&l->nets, &p[i % PROBES])
	    == roguelist_match(l, &p[i % PROBES], bench_now);
    return best / (double) n * NS_PER_S;
}

int main(void)
{
    static struct addr probes[PROBES];
    size_t k;

    bench_now = (int64_t) time(NULL);
    for (with_expiry = 0; with_expiry < 2; with_expiry++)
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
	    struct roguelist l;
	    size_t hi;
	    int agree = 1;
	    double t0 = now_s(), build, ti, ts;

	    if (make_list(sizes[k], &l, probes) != 0) {
		fprintf(stderr, "bench_roguelist: cannot build a list\n");
		return 1;
	    }
	    build = now_s() - t0;
	    ti = time_index(&l, probes, &hi);
	    ts = time_scan(&l, probes, &agree);
	    printf("roguelist: %zu entries (%zu ranges)%s: index %.0f ns/lookup, scan %.0f"
		   " ns/lookup (parse and index %.0f ms; hits %zu/%u)\n", l.nets.n, l.nranges,
		   with_expiry ? " with expires=" : "", ti, ts, build * 1e3, hi, LOOKUPS);
	    if (!agree && !with_expiry)	/* the scan knows no expiry */
		fprintf(stderr, "bench_roguelist: index and scan disagree\n");
	    roguelist_free(&l);
	}
    return 0;
}
