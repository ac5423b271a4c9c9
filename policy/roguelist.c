/*
 * roguelist - parse the collector's rogue list.
 *
 * Contract: roguelist_parse is pure and bounded; a line that is not an
 * address or a CIDR is counted (bad_lines, first_bad) and skipped, never
 * fatal: one broken line must not unlist every rogue host.
 * roguelist_load reads the file whole (at most ROGUELIST_MAX_BYTES).
 * The index is built once per parse; roguelist_match only reads it, so
 * any number of threads may match against one list.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roguelist.h"

#define LINE_MAX_LEN 128

/* trim - strip comment and surrounding blanks in place */
static char *trim(char *s)
{
    char *e;

    if ((e = strchr(s, '#')) != NULL)
	*e = 0;
    while (*s == ' ' || *s == '\t')
	s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
	*--e = 0;
    return s;
}

/* count_lines - an upper bound on the entries */
static size_t count_lines(const char *text, size_t len)
{
    size_t i, n = 1;

    for (i = 0; i < len; i++)
	n += text[i] == '\n';
    return n;
}

/* half - 8 bytes of an address as a host-order number */
static uint64_t half(const uint8_t *b)
{
    uint64_t v = 0;
    int i;

    for (i = 0; i < 8; i++)
	v = v << 8 | b[i];
    return v;
}

/* to_range - a network as its first and last address */
static void to_range(const struct cidr *c, struct rogue_range *r)
{
    unsigned p = c->plen > 128 ? 128 : c->plen;
    uint64_t hm = p >= 64 ? 0 : UINT64_MAX >> p;	/* host bits, first half */
    uint64_t lm = p <= 64 ? UINT64_MAX : p == 128 ? 0 : UINT64_MAX >> (p - 64);

    r->lo_hi = half(c->net.b) & ~hm;
    r->lo_lo = half(c->net.b + 8) & ~lm;
    r->hi_hi = r->lo_hi | hm;
    r->hi_lo = r->lo_lo | lm;
}

/* le - a <= b for two 128-bit values given as halves */
static inline int le(uint64_t ah, uint64_t al, uint64_t bh, uint64_t bl)
{
    return ah < bh || (ah == bh && al <= bl);
}

/* by_start - qsort order: start, then the wider range first */
static int by_start(const void *x, const void *y)
{
    const struct rogue_range *a = x, *b = y;

    if (a->lo_hi != b->lo_hi)
	return a->lo_hi < b->lo_hi ? -1 : 1;
    if (a->lo_lo != b->lo_lo)
	return a->lo_lo < b->lo_lo ? -1 : 1;
    return le(a->hi_hi, a->hi_lo, b->hi_hi, b->hi_lo) ? 1 : -1;
}

/* build_index - the entries as sorted, disjoint ranges; -1: no memory */
static int build_index(struct roguelist *l)
{
    struct rogue_range *r;
    size_t i, k = 0;

    if (l->nets.n == 0)
	return 0;
    if ((r = calloc(l->nets.n, sizeof(*r))) == NULL)
	return -1;
    for (i = 0; i < l->nets.n; i++)
	to_range(&l->nets.v[i], &r[i]);
    qsort(r, l->nets.n, sizeof(*r), by_start);
    for (i = 1; i < l->nets.n; i++) {
	if (le(r[i].lo_hi, r[i].lo_lo, r[k].hi_hi, r[k].hi_lo)) {	/* overlaps */
	    if (!le(r[i].hi_hi, r[i].hi_lo, r[k].hi_hi, r[k].hi_lo))
		r[k].hi_hi = r[i].hi_hi, r[k].hi_lo = r[i].hi_lo;
	} else
	    r[++k] = r[i];
    }
    l->ranges = r;
    l->nranges = k + 1;
    return 0;
}

/* roguelist_match - is the address inside an entry? (binary search) */
int roguelist_match(const struct roguelist *l, const struct addr *a)
{
    uint64_t ah = half(a->b), al = half(a->b + 8);
    size_t lo = 0, hi = l->nranges;
    const struct rogue_range *r;

    while (lo < hi) {		/* the first range starting after a */
	size_t mid = lo + (hi - lo) / 2;

	r = &l->ranges[mid];
	if (le(r->lo_hi, r->lo_lo, ah, al))
	    lo = mid + 1;
	else
	    hi = mid;
    }
    if (lo == 0)
	return 0;
    r = &l->ranges[lo - 1];
    return le(ah, al, r->hi_hi, r->hi_lo);
}

/* roguelist_parse - every line of text; 0, or -1 when out of memory */
int roguelist_parse(const char *text, size_t len, struct roguelist *out)
{
    size_t pos = 0, lineno = 0;
    char line[LINE_MAX_LEN], err[64];

    memset(out, 0, sizeof(*out));
    if ((out->nets.v = calloc(count_lines(text, len), sizeof(struct cidr))) == NULL)
	return -1;
    while (pos < len) {
	const char *nl = memchr(text + pos, '\n', len - pos);
	size_t n = nl ? (size_t) (nl - text - pos) : len - pos;
	char *t;

	lineno++;
	if (n < sizeof(line)) {
	    memcpy(line, text + pos, n);
	    line[n] = 0;
	    t = trim(line);
	    if (*t == 0)
		goto next;
	    if (memchr(text + pos, 0, n) == NULL
		&& addr_cidr_parse(t, &out->nets.v[out->nets.n], err, sizeof(err)) == 0) {
		out->nets.n++;
		goto next;
	    }
	}
	if (out->bad_lines++ == 0)
	    out->first_bad = lineno;
      next:
	pos += n + 1;
    }
    if (build_index(out) != 0) {
	roguelist_free(out);
	return -1;
    }
    return 0;
}

/* roguelist_load - read and parse a file */
int roguelist_load(const char *path, struct roguelist *out, char *err,
		   size_t errlen)
{
    struct stat sb;
    char *buf = NULL;
    size_t got = 0;
    ssize_t n;
    int fd, rc = -1;

    memset(out, 0, sizeof(*out));
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return -1;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)
	|| (size_t) sb.st_size > ROGUELIST_MAX_BYTES) {
	snprintf(err, errlen, "%s: not a regular file of at most %u bytes", path,
		 ROGUELIST_MAX_BYTES);
	goto out;
    }
    if ((buf = malloc((size_t) sb.st_size + 1)) == NULL) {
	snprintf(err, errlen, "%s: out of memory", path);
	goto out;
    }
    while (got < (size_t) sb.st_size
	   && (n = read(fd, buf + got, (size_t) sb.st_size - got)) > 0)
	got += (size_t) n;
    if (roguelist_parse(buf, got, out) != 0) {
	snprintf(err, errlen, "%s: out of memory", path);
	goto out;
    }
    rc = 0;
  out:
    free(buf);
    close(fd);
    return rc;
}

/* roguelist_free - release a parsed list */
void roguelist_free(struct roguelist *l)
{
    free(l->nets.v);
    free(l->ranges);
    memset(l, 0, sizeof(*l));
}
