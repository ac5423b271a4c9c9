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
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "roguelist.h"

#define LINE_MAX_LEN 128	/* an address or CIDR and its blanks */
#define COMMENT_MAX 192	/* of a comment, the part read for expires= */

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

/* An entry to index: its network's first address, prefix length and
 * expiry; 32 bytes, so that qsort moves them directly (glibc sorts
 * larger elements through pointers, much slower). */
struct span {
    uint64_t lo_hi, lo_lo;
    int64_t expires;
    uint32_t plen;
};

/* A network open in the sweep: its range and effective expiry. */
struct nest {
    uint64_t lo_hi, lo_lo, hi_hi, hi_lo;
    int64_t expires;
};

/* host_mask - the host bits of a prefix length, in two halves */
static void host_mask(unsigned p, uint64_t *hm, uint64_t *lm)
{
    p = p > 128 ? 128 : p;
    *hm = p >= 64 ? 0 : UINT64_MAX >> p;
    *lm = p <= 64 ? UINT64_MAX : p == 128 ? 0 : UINT64_MAX >> (p - 64);
}

/* to_span - a network with its expiry, host bits clear */
static void to_span(const struct cidr *c, int64_t exp, struct span *r)
{
    uint64_t hm, lm;

    host_mask(c->plen, &hm, &lm);
    r->lo_hi = half(c->net.b) & ~hm;
    r->lo_lo = half(c->net.b + 8) & ~lm;
    r->plen = c->plen > 128 ? 128 : c->plen;
    r->expires = exp;
}

/* le - a <= b for two 128-bit values given as halves */
static inline int le(uint64_t ah, uint64_t al, uint64_t bh, uint64_t bl)
{
    return ah < bh || (ah == bh && al <= bl);
}

/* by_start - qsort order: start, then the wider network first (so a
 * network comes before the networks inside it) */
static int by_start(const void *x, const void *y)
{
    const struct span *a = x, *b = y;

    if (a->lo_hi != b->lo_hi)
	return a->lo_hi < b->lo_hi ? -1 : 1;
    if (a->lo_lo != b->lo_lo)
	return a->lo_lo < b->lo_lo ? -1 : 1;
    return a->plen < b->plen ? -1 : a->plen > b->plen;
}

/* by_value - qsort order of expiries */
static int by_value(const void *x, const void *y)
{
    int64_t a = *(const int64_t *) x, b = *(const int64_t *) y;

    return a < b ? -1 : a > b;
}

/* The sweep that builds the index: the networks in start order, with a
 * stack of those that contain the current one (at most one per prefix
 * length, since a duplicate only raises the expiry of its twin). */
#define NEST_MAX 130

struct sweep {
    struct rogue_start *starts;
    struct rogue_end *ends;
    size_t n;
    size_t root, out_root;	/* the outermost network, and of range n-1 */
    struct nest nest[NEST_MAX];	/* expires: the effective one */
    size_t depth;
    uint64_t cur_hi, cur_lo;	/* the first address not yet put out */
    int past;			/* put out up to the last address of all */
};

/* emit - the part [cur, hi] with the expiry exp: one range more, or the
 * previous one longer when it is of the same outer network and expiry */
static void emit(struct sweep *w, uint64_t hi_hi, uint64_t hi_lo, int64_t exp)
{
    struct rogue_end *e = w->n ? &w->ends[w->n - 1] : NULL;

    if (w->past || !le(w->cur_hi, w->cur_lo, hi_hi, hi_lo))
	return;			/* nothing left of it */
    if (e && w->out_root == w->root && e->expires == exp) {
	e->hi = hi_hi, e->lo = hi_lo;
    } else {
	w->starts[w->n].hi = w->cur_hi, w->starts[w->n].lo = w->cur_lo;
	e = &w->ends[w->n++];
	e->hi = hi_hi, e->lo = hi_lo;
	e->expires = exp;
	w->out_root = w->root;
    }
    w->past = hi_hi == UINT64_MAX && hi_lo == UINT64_MAX;
    w->cur_lo = hi_lo + 1;
    w->cur_hi = hi_hi + (hi_lo == UINT64_MAX);
}

/* close_until - put out the rest of each open network that ends before
 * the network r starts (all of them with r NULL) */
static void close_until(struct sweep *w, const struct span *r)
{
    while (w->depth > 0) {
	const struct nest *t = &w->nest[w->depth - 1];

	if (r && le(r->lo_hi, r->lo_lo, t->hi_hi, t->hi_lo))
	    break;
	emit(w, t->hi_hi, t->hi_lo, t->expires);
	w->depth--;
    }
}

/* open_one - network r starts: the part of its container before it goes
 * out, r is open with the later of its and its container's expiry */
static void open_one(struct sweep *w, const struct span *r)
{
    struct nest *t = w->depth ? &w->nest[w->depth - 1] : NULL, *o;
    uint64_t hm, lm;

    host_mask(r->plen, &hm, &lm);
    if (t && t->lo_hi == r->lo_hi && t->lo_lo == r->lo_lo && t->hi_hi == (r->lo_hi | hm)
	&& t->hi_lo == (r->lo_lo | lm)) {
	t->expires = r->expires > t->expires ? r->expires : t->expires;
	return;			/* listed twice */
    }
    if (t && (r->lo_hi | r->lo_lo) != 0)	/* t's part up to r's start - 1 */
	emit(w, r->lo_hi - (r->lo_lo == 0), r->lo_lo - 1, t->expires);
    else if (t == NULL)
	w->root++;
    w->cur_hi = r->lo_hi, w->cur_lo = r->lo_lo, w->past = 0;
    assert(w->depth < NEST_MAX);	/* one network a prefix length */
    o = &w->nest[w->depth++];
    o->lo_hi = r->lo_hi, o->lo_lo = r->lo_lo;
    o->hi_hi = r->lo_hi | hm, o->hi_lo = r->lo_lo | lm;
    o->expires = t && t->expires > r->expires ? t->expires : r->expires;
}

/* build_expiries - the sorted expiries of the entries that have one */
static int build_expiries(struct roguelist *l, const int64_t *exp)
{
    size_t i;

    for (i = 0; i < l->nets.n; i++)
	if (exp[i] != ROGUELIST_NEVER)
	    l->nexpiring++;
    if (l->nexpiring == 0)
	return 0;
    if ((l->expiries = malloc(l->nexpiring * sizeof(*l->expiries))) == NULL)
	return -1;
    l->nexpiring = 0;
    for (i = 0; i < l->nets.n; i++)
	if (exp[i] != ROGUELIST_NEVER)
	    l->expiries[l->nexpiring++] = exp[i];
    qsort(l->expiries, l->nexpiring, sizeof(*l->expiries), by_value);
    return 0;
}

/* build_index - the entries as sorted, disjoint ranges, each with its
 * expiry (at most two ranges an entry); -1: no memory */
static int build_index(struct roguelist *l, const int64_t *exp)
{
    struct span *r;
    struct sweep *w;
    size_t i, cap = 2 * l->nets.n;

    if (l->nets.n == 0)
	return 0;
    if (build_expiries(l, exp) != 0)
	return -1;
    r = calloc(l->nets.n, sizeof(*r));
    w = calloc(1, sizeof(*w));
    if (r == NULL || w == NULL || (w->starts = calloc(cap, sizeof(*w->starts))) == NULL
	|| (w->ends = calloc(cap, sizeof(*w->ends))) == NULL) {
	if (w)
	    free(w->starts);
	free(r), free(w);
	return -1;
    }
    for (i = 0; i < l->nets.n; i++)
	to_span(&l->nets.v[i], exp[i], &r[i]);
    qsort(r, l->nets.n, sizeof(*r), by_start);
    for (i = 0; i < l->nets.n; i++) {
	close_until(w, &r[i]);
	open_one(w, &r[i]);
    }
    close_until(w, NULL);
    l->starts = w->starts;
    l->ends = w->ends;
    l->nranges = w->n;
    free(r);
    free(w);
    return 0;
}

/* roguelist_match - is the address inside an entry that has not expired
 * at now_s? (binary search) */
int roguelist_match(const struct roguelist *l, const struct addr *a, int64_t now_s)
{
    uint64_t ah = half(a->b), al = half(a->b + 8);
    size_t lo = 0, hi = l->nranges;
    const struct rogue_end *e;

    while (lo < hi) {		/* the first range starting after a */
	size_t mid = lo + (hi - lo) / 2;
	const struct rogue_start *s = &l->starts[mid];

	if (le(s->hi, s->lo, ah, al))
	    lo = mid + 1;
	else
	    hi = mid;
    }
    if (lo == 0)
	return 0;
    e = &l->ends[lo - 1];
    return le(ah, al, e->hi, e->lo) && now_s < e->expires;
}

/* roguelist_expired - entries whose expiry is at or before now_s */
size_t roguelist_expired(const struct roguelist *l, int64_t now_s)
{
    size_t lo = 0, hi = l->nexpiring;

    while (lo < hi) {
	size_t mid = lo + (hi - lo) / 2;

	if (l->expiries[mid] <= now_s)
	    lo = mid + 1;
	else
	    hi = mid;
    }
    return lo;
}

/* expiry - the time of " expires=YYYY-MM-DDThh:mm:ssZ" in a line's
 * comment (before any reason="...", which is free text); NEVER without
 * one or when it does not parse */
static int64_t expiry(const char *line)
{
    const char *c = strchr(line, '#'), *e, *reason;
    struct tm tm;
    char z = 0;

    if (c == NULL || (e = strstr(c, " expires=")) == NULL)
	return ROGUELIST_NEVER;
    if ((reason = strstr(c, " reason=\"")) != NULL && reason < e)
	return ROGUELIST_NEVER;
    memset(&tm, 0, sizeof(tm));
    if (sscanf(e + strlen(" expires="), "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon,
	       &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &z) != 7 || z != 'Z'
	|| tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31
	|| tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60 || tm.tm_year < 1970)
	return ROGUELIST_NEVER;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t) timegm(&tm);
}

/* parse_line - one line of n bytes: 1 an entry (into c, its expiry into
 * exp), 0 blank or only a comment, -1 bad. Only the address must fit
 * LINE_MAX_LEN: the comment may be longer (an IPv6 host with its
 * incident's reason is), and its first COMMENT_MAX bytes, where the
 * collector puts expires=, are looked at */
static int parse_line(const char *p, size_t n, struct cidr *c, int64_t *exp)
{
    const char *hash = memchr(p, '#', n), *end = p + n;
    size_t an = hash ? (size_t) (hash - p) : n, cn;
    char addr[LINE_MAX_LEN], com[COMMENT_MAX + 1], err[64], *t;

    *exp = ROGUELIST_NEVER;
    if (memchr(p, 0, n) != NULL)
	return -1;
    while (an > 0 && (*p == ' ' || *p == '\t'))
	p++, an--;
    while (an > 0 && (p[an - 1] == ' ' || p[an - 1] == '\t' || p[an - 1] == '\r'))
	an--;
    if (an >= sizeof(addr))
	return -1;
    memcpy(addr, p, an);
    addr[an] = 0;
    if (hash) {
	cn = (size_t) (end - hash);
	cn = cn > COMMENT_MAX ? COMMENT_MAX : cn;
	memcpy(com, hash, cn);
	com[cn] = 0;
	*exp = expiry(com);
    }
    t = trim(addr);
    if (*t == 0)
	return 0;
    return addr_cidr_parse(t, c, err, sizeof(err)) == 0 ? 1 : -1;
}

/* roguelist_parse - every line of text; 0, or -1 when out of memory */
int roguelist_parse(const char *text, size_t len, struct roguelist *out)
{
    size_t pos = 0, lineno = 0, lines = count_lines(text, len);
    int64_t *exp;
    int rc;

    memset(out, 0, sizeof(*out));
    out->nets.v = calloc(lines, sizeof(struct cidr));
    exp = calloc(lines, sizeof(*exp));
    if (out->nets.v == NULL || exp == NULL) {
	free(exp);
	roguelist_free(out);
	return -1;
    }
    while (pos < len) {
	const char *nl = memchr(text + pos, '\n', len - pos);
	size_t n = nl ? (size_t) (nl - text - pos) : len - pos;

	lineno++;
	rc = parse_line(text + pos, n, &out->nets.v[out->nets.n], &exp[out->nets.n]);
	if (rc > 0)
	    out->nets.n++;
	else if (rc < 0 && out->bad_lines++ == 0)
	    out->first_bad = lineno;
	pos += n + 1;
    }
    rc = build_index(out, exp);
    free(exp);
    if (rc != 0)
	roguelist_free(out);
    return rc;
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
    free(l->starts);
    free(l->ends);
    free(l->expiries);
    memset(l, 0, sizeof(*l));
}
