/*
 * roguelist - the rogue host list the collector writes and the milter
 * reads: one address or CIDR per line, '#' comments, blank lines.
 *
 * Matching: roguelist_parse also builds an index, the entries as
 * address ranges in the 128-bit mapped space (IPv4 is ::ffff:a.b.c.d),
 * sorted by start with overlapping and nested ranges merged, so the
 * ranges are disjoint and a lookup is one binary search: about 17
 * comparisons for 100,000 entries, whatever they overlap.
 */
#ifndef RG_ROGUELIST_H
#define RG_ROGUELIST_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define ROGUELIST_MAX_BYTES (64u << 20)	/* refuse larger files */

/* One merged range; a 128-bit value as two host-order halves. */
struct rogue_range {
    uint64_t lo_hi, lo_lo;	/* first address */
    uint64_t hi_hi, hi_lo;	/* last address */
};

struct roguelist {
    struct cidr_list nets;	/* the entries as parsed, in file order */
    struct rogue_range *ranges;	/* the index: disjoint, sorted */
    size_t nranges;
    size_t bad_lines;		/* lines that were neither comment nor CIDR */
    size_t first_bad;		/* line number of the first, for the log */
};

int roguelist_parse(const char *text, size_t len, struct roguelist *out);
int roguelist_match(const struct roguelist *l, const struct addr *a);
int roguelist_load(const char *path, struct roguelist *out, char *err,
		   size_t errlen);
void roguelist_free(struct roguelist *l);

#endif
