/*
 * fuzz_roguelist - roguelist_parse on arbitrary file contents.
 *
 * Properties: no more entries than lines; every entry a canonical network
 * (host bits clear) that formats and parses back to itself; first_bad is
 * set exactly when some line was bad, and is a real line number; the
 * index (roguelist_match) answers as the linear scan does, for every
 * entry's first address, its neighbours and its last address, at a time
 * before any expiry (the unit test checks expiries against a scan).
 */
#include "fuzz_common.h"
#include "roguelist.h"

#define ERR_LEN 128
#define BEFORE_ALL INT64_MIN	/* no entry has expired yet */

/* count_lines - lines in the text, as roguelist_parse numbers them */
static size_t count_lines(const uint8_t *data, size_t size)
{
    size_t n = 1;

    for (size_t i = 0; i < size; i++)
	n += data[i] == '\n';
    return n;
}

/* check_entry - one parsed network round-trips through text */
static void check_entry(const struct cidr *c)
{
    char text[CIDR_STRLEN], err[ERR_LEN];
    struct cidr back;

    FUZZ_CHECK(c->plen <= 128, "prefix length");
    FUZZ_CHECK(addr_cidr_match(c, &c->net), "network contains itself");
    addr_cidr_format(c, text, sizeof(text));
    FUZZ_CHECK(addr_cidr_parse(text, &back, err, sizeof(err)) == 0,
	       "formatted network parses");
    FUZZ_CHECK(back.plen == c->plen && addr_equal(&back.net, &c->net),
	       "network round trip");
}

/* check_index - the binary search agrees with the scan around entry c */
static void check_index(const struct roguelist *l, const struct cidr *c)
{
    struct addr a = c->net;
    unsigned i;

    FUZZ_CHECK(roguelist_match(l, &a, BEFORE_ALL), "index finds an entry's network");
    for (i = c->plen; i < 128; i++)	/* the last address: host bits set */
	a.b[i / 8] |= (uint8_t) (0x80 >> (i % 8));
    FUZZ_CHECK(roguelist_match(l, &a, BEFORE_ALL), "index finds an entry's last address");
    for (i = 16; i-- > 0 && ++a.b[i] == 0;)	/* one past the last */
	;
    FUZZ_CHECK(roguelist_match(l, &a, BEFORE_ALL) == addr_cidr_list_match(&l->nets, &a),
	       "index and scan agree after an entry");
    a = c->net;
    for (i = 16; i-- > 0 && a.b[i]-- == 0;)	/* one before the first */
	;
    FUZZ_CHECK(roguelist_match(l, &a, BEFORE_ALL) == addr_cidr_list_match(&l->nets, &a),
	       "index and scan agree before an entry");
}

/* LLVMFuzzerTestOneInput - parse the input as a rogue list */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);	/* exact size: ASan bounds */
    struct roguelist l;
    size_t lines = count_lines(data, size);

    if (text == NULL)
	abort();
    if (size > 0)
	memcpy(text, data, size);
    if (roguelist_parse(text, size, &l) != 0)
	abort();		/* out of memory only */
    FUZZ_CHECK(l.nets.n + l.bad_lines <= lines, "entries and bad lines per line");
    FUZZ_CHECK((l.bad_lines == 0) == (l.first_bad == 0),
	       "first_bad set with bad lines");
    FUZZ_CHECK(l.first_bad <= lines, "first_bad is a line");
    FUZZ_CHECK(l.nranges <= (l.nexpiring ? 2 * l.nets.n : l.nets.n),
	       "no more ranges than entries (twice that with expiries: a network"
	       " split by one inside it)");
    FUZZ_CHECK(l.nexpiring <= l.nets.n, "no more expiries than entries");
    FUZZ_CHECK(roguelist_expired(&l, INT64_MAX) == l.nexpiring, "all expire at the end");
    FUZZ_CHECK(roguelist_expired(&l, BEFORE_ALL) == 0, "none expired before");
    for (size_t i = 0; i < l.nets.n; i++) {
	check_entry(&l.nets.v[i]);
	check_index(&l, &l.nets.v[i]);
    }
    roguelist_free(&l);
    free(text);
    return 0;
}
