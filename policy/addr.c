/*
 * addr - IP address and CIDR parsing, formatting and matching.
 *
 * Contract: pure functions, no allocation, thread-safe. Parsers reject
 * anything inet_pton rejects, plus prefix lengths out of range and
 * trailing junk; they never read past the NUL of their input.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

#define V4_MAPPED_OFFSET 12	/* IPv4 bytes start here in ::ffff:0:0/96 */
#define V4_MAPPED_PLEN 96

static const uint8_t v4_mapped_head[V4_MAPPED_OFFSET] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* addr_set_v4 - store a network-order IPv4 address in mapped form */
static void addr_set_v4(struct addr *a, const void *v4)
{
    memcpy(a->b, v4_mapped_head, V4_MAPPED_OFFSET);
    memcpy(a->b + V4_MAPPED_OFFSET, v4, 4);
}

/* addr_is_v4 - is this an IPv4-mapped address? */
int addr_is_v4(const struct addr *a)
{
    return memcmp(a->b, v4_mapped_head, V4_MAPPED_OFFSET) == 0;
}

/* addr_parse - text (IPv4 or IPv6, no brackets) to address; 0 or -1 */
int addr_parse(const char *text, struct addr *out)
{
    struct in_addr v4;
    struct in6_addr v6;

    if (text == NULL)
	return -1;
    if (inet_pton(AF_INET, text, &v4) == 1) {
	addr_set_v4(out, &v4);
	return 0;
    }
    if (inet_pton(AF_INET6, text, &v6) == 1) {
	memcpy(out->b, &v6, sizeof(out->b));
	return 0;
    }
    return -1;
}

/* addr_from_sockaddr - address of an AF_INET/AF_INET6 socket address */
int addr_from_sockaddr(const struct sockaddr *sa, struct addr *out)
{
    if (sa == NULL)
	return -1;
    if (sa->sa_family == AF_INET) {
	const struct sockaddr_in *sin = (const struct sockaddr_in *) sa;

	addr_set_v4(out, &sin->sin_addr);
	return 0;
    }
    if (sa->sa_family == AF_INET6) {
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) sa;

	memcpy(out->b, &sin6->sin6_addr, sizeof(out->b));
	return 0;
    }
    return -1;
}

/* addr_format - text form; IPv4-mapped addresses print as IPv4 */
const char *addr_format(const struct addr *a, char *buf, size_t len)
{
    const char *r;

    if (addr_is_v4(a))
	r = inet_ntop(AF_INET, a->b + V4_MAPPED_OFFSET, buf, (socklen_t) len);
    else
	r = inet_ntop(AF_INET6, a->b, buf, (socklen_t) len);
    if (r == NULL && len > 0)
	buf[0] = 0;
    return buf;
}

/* addr_mask - clear the host bits beyond plen (mapped space) */
static void addr_mask(struct addr *a, unsigned plen)
{
    unsigned i;

    for (i = 0; i < sizeof(a->b); i++) {
	unsigned bit = i * 8;

	if (bit >= plen)
	    a->b[i] = 0;
	else if (plen - bit < 8)
	    a->b[i] &= (uint8_t) (0xff << (8 - (plen - bit)));
    }
}

/* addr_prefix - the /24 (IPv4) or /48 (IPv6) network of an address */
void addr_prefix(const struct addr *a, struct addr *out)
{
    *out = *a;
    addr_mask(out, addr_is_v4(a) ? V4_MAPPED_PLEN + ADDR_V4_PREFIX
	      : ADDR_V6_PREFIX);
}

/* addr_cidr_parse - "net/len" or a bare address (a host route) */
int addr_cidr_parse(const char *text, struct cidr *out, char *err,
		    size_t errlen)
{
    char host[ADDR_STRLEN];
    const char *slash;
    size_t hlen;
    long plen;
    unsigned max;
    char *end;

    if (text == NULL || *text == 0) {
	snprintf(err, errlen, "empty network");
	return -1;
    }
    slash = strchr(text, '/');
    hlen = slash ? (size_t) (slash - text) : strlen(text);
    if (hlen == 0 || hlen >= sizeof(host)) {
	snprintf(err, errlen, "bad network address");
	return -1;
    }
    memcpy(host, text, hlen);
    host[hlen] = 0;
    if (addr_parse(host, &out->net) != 0) {
	snprintf(err, errlen, "bad network address \"%s\"", host);
	return -1;
    }
    max = addr_is_v4(&out->net) && strchr(host, ':') == NULL ? 32 : 128;
    if (slash == NULL) {
	plen = max;
    } else {
	if (slash[1] < '0' || slash[1] > '9') {
	    snprintf(err, errlen, "bad prefix length");
	    return -1;
	}
	errno = 0;
	plen = strtol(slash + 1, &end, 10);
	if (errno || *end != 0 || plen < 0 || plen > (long) max) {
	    snprintf(err, errlen, "prefix length must be 0..%u", max);
	    return -1;
	}
    }
    out->plen = (uint8_t) (max == 32 ? V4_MAPPED_PLEN + plen : plen);
    addr_mask(&out->net, out->plen);
    return 0;
}

/* addr_cidr_match - does the network contain the address? */
int addr_cidr_match(const struct cidr *c, const struct addr *a)
{
    unsigned whole = c->plen / 8, rest = c->plen % 8;

    if (memcmp(c->net.b, a->b, whole) != 0)
	return 0;
    return rest == 0
	|| ((a->b[whole] ^ c->net.b[whole]) & (uint8_t) (0xff << (8 - rest))) == 0;
}

/* addr_cidr_format - "net/len" in the family's own prefix length */
const char *addr_cidr_format(const struct cidr *c, char *buf, size_t len)
{
    char host[ADDR_STRLEN];
    unsigned plen = c->plen;

    addr_format(&c->net, host, sizeof(host));
    if (addr_is_v4(&c->net) && plen >= V4_MAPPED_PLEN)
	plen -= V4_MAPPED_PLEN;
    snprintf(buf, len, "%s/%u", host, plen);
    return buf;
}

/* addr_cidr_list_best - the longest matching network, or NULL */
const struct cidr *addr_cidr_list_best(const struct cidr_list *l,
				       const struct addr *a)
{
    const struct cidr *best = NULL;
    size_t i;

    for (i = 0; l != NULL && i < l->n; i++)
	if (addr_cidr_match(&l->v[i], a)
	    && (best == NULL || l->v[i].plen > best->plen))
	    best = &l->v[i];
    return best;
}

/* addr_cidr_list_match - is the address inside any network of the list? */
int addr_cidr_list_match(const struct cidr_list *l, const struct addr *a)
{
    return addr_cidr_list_best(l, a) != NULL;
}
