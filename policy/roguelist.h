/*
 * roguelist - the rogue host list the collector writes and the milter
 * reads: one address or CIDR per line, '#' comments, blank lines.
 *
 * Matching: roguelist_parse also builds an index, the entries as
 * address ranges in the 128-bit mapped space (IPv4 is ::ffff:a.b.c.d),
 * sorted by start with overlapping and nested ranges merged, so the
 * ranges are disjoint and a lookup is one binary search: about 17
 * comparisons for 100,000 entries, whatever they overlap.
 *
 * Expiry: an entry whose comment says "expires=YYYY-MM-DDThh:mm:ssZ"
 * (as the collector writes it) is listed until then, not after, even if
 * the file is not rewritten in time. Each range carries the latest
 * expiry of the entries that cover it: CIDR networks are either
 * disjoint or nested, so a network inside another splits it into the
 * outer network's parts (the outer expiry) and its own (the later of
 * the two); parts of one network with the same expiry stay one range.
 * An entry without expiry (or with one that does not parse) never
 * expires. roguelist_expired counts the entries past their expiry.
 */
#ifndef RG_ROGUELIST_H
#define RG_ROGUELIST_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define ROGUELIST_MAX_BYTES (64u << 20)	/* refuse larger files */

#define ROGUELIST_NEVER INT64_MAX	/* the expiry of an entry without one */

/* The index: range i covers starts[i] .. ends[i]; a 128-bit value as two
 * host-order halves. The starts apart, so that the binary search reads
 * 16 bytes a step; the end and expiry are read once, at the range found. */
struct rogue_start {
    uint64_t hi, lo;
};

struct rogue_end {
    uint64_t hi, lo;
    int64_t expires;		/* unix seconds: listed while now < expires */
};

struct roguelist {
    struct cidr_list nets;	/* the entries as parsed, in file order */
    struct rogue_start *starts;	/* the index: disjoint ranges, sorted */
    struct rogue_end *ends;
    size_t nranges;
    int64_t *expiries;		/* the entries' expiries (not NEVER), sorted */
    size_t nexpiring;
    size_t bad_lines;		/* lines that were neither comment nor CIDR */
    size_t first_bad;		/* line number of the first, for the log */
};

int roguelist_parse(const char *text, size_t len, struct roguelist *out);
int roguelist_match(const struct roguelist *l, const struct addr *a, int64_t now_s);
size_t roguelist_expired(const struct roguelist *l, int64_t now_s);
int roguelist_load(const char *path, struct roguelist *out, char *err,
		   size_t errlen);
void roguelist_free(struct roguelist *l);

#endif
