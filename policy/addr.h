/*
 * addr - IP addresses and CIDR networks, IPv4 and IPv6 in one form.
 *
 * Every address is kept as 16 bytes; IPv4 is stored IPv4-mapped
 * (::ffff:a.b.c.d) so one comparison covers both families. A CIDR on an
 * IPv4 network keeps its prefix length in the mapped space (96 + len).
 */
#ifndef RG_ADDR_H
#define RG_ADDR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#define ADDR_STRLEN 48		/* fits any IPv6 text form and a NUL */
#define CIDR_STRLEN 52		/* address, slash, up to 3 digits */
#define ADDR_V4_PREFIX 24	/* distinct_prefixes groups IPv4 by /24 */
#define ADDR_V6_PREFIX 48	/* ... and IPv6 by /48 */

struct addr {
    uint8_t b[16];
};

struct cidr {
    struct addr net;		/* host bits cleared */
    uint8_t plen;		/* 0..128 in the mapped space */
};

struct cidr_list {
    struct cidr *v;
    size_t n;
};

int addr_parse(const char *text, struct addr *out);
int addr_from_sockaddr(const struct sockaddr *sa, struct addr *out);
int addr_is_v4(const struct addr *a);
const char *addr_format(const struct addr *a, char *buf, size_t len);
/* addr_equal - byte equality, as two word compares (hot: the store's
 * address lists, the distinct counts) */
static inline int addr_equal(const struct addr *a, const struct addr *b)
{
    uint64_t x[2], y[2];

    memcpy(x, a->b, sizeof(x));
    memcpy(y, b->b, sizeof(y));
    return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
}
/* addr_same_unit - one subscriber's address: the same IPv4 address, the
 * same IPv6 /64 (a privacy address changes within it) */
static inline int addr_same_unit(const struct addr *a, const struct addr *b)
{
    if (addr_is_v4(a) || addr_is_v4(b))
	return addr_equal(a, b);
    return memcmp(a->b, b->b, 8) == 0;
}
void addr_prefix(const struct addr *a, struct addr *out);

int addr_cidr_parse(const char *text, struct cidr *out, char *err,
		    size_t errlen);
int addr_cidr_match(const struct cidr *c, const struct addr *a);
const char *addr_cidr_format(const struct cidr *c, char *buf, size_t len);
int addr_cidr_list_match(const struct cidr_list *l, const struct addr *a);
const struct cidr *addr_cidr_list_best(const struct cidr_list *l,
				       const struct addr *a);

#endif
