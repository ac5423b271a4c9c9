/*
 * store_key - the store's keyed hash (SipHash-1-3) and login normalisation.
 *
 * Contract: pure functions of their arguments and the file's 128-bit key;
 * thread-safe, no allocation. Attackers choose login names and client
 * addresses, so every table index comes from a hash keyed with a secret
 * drawn at file creation (RAND_bytes). The variant is SipHash-1-3 (one
 * round per word, three to finish), the one Rust's and CPython's hash
 * tables use against flooding: half the rounds of SipHash-2-4, whose
 * reference vectors still check the round function (store_siphash24).
 *
 * A login is normalised once, before any lock: surrounding white space
 * trimmed, ASCII lowercased, control bytes replaced with '?'. A login
 * that does not fit STORE_LOGIN_MAX - 1 bytes keeps its first bytes and
 * ends in '~' and 16 hex digits of the keyed hash of the whole normalised
 * login, so two long logins that share a prefix stay two entries.
 * store_login_ref normalises and hashes in one pass over the words.
 */
#include <endian.h>
#include <string.h>

#include "store_int.h"

#define SIP_C0 UINT64_C(0x736f6d6570736575)
#define SIP_C1 UINT64_C(0x646f72616e646f6d)
#define SIP_C2 UINT64_C(0x6c7967656e657261)
#define SIP_C3 UINT64_C(0x7465646279746573)
#define SIP_FINAL 0xff
#define SIP_C 1			/* rounds per message word */
#define SIP_D 3			/* rounds to finish */

#define LOGIN_HASH_HEX 16	/* hex digits of the suffix */
#define LOGIN_PREFIX (STORE_LOGIN_MAX - 1 - 1 - LOGIN_HASH_HEX)
#define LOGIN_TILDE '~'
#define LOGIN_BAD '?'
#define ASCII_DEL 0x7f

/* SipHash state, so long logins can be hashed as they are normalised. */
struct sip {
    uint64_t v0, v1, v2, v3;
    uint64_t m;			/* pending bytes, little-endian */
    unsigned mlen;
    uint64_t total;
};

/* sip_rotl - rotate left */
static inline uint64_t sip_rotl(uint64_t x, unsigned b)
{
    return (x << b) | (x >> (64 - b));
}

/* sip_round - one SipRound */
static inline void sip_round(struct sip *s)
{
    s->v0 += s->v1;
    s->v1 = sip_rotl(s->v1, 13);
    s->v1 ^= s->v0;
    s->v0 = sip_rotl(s->v0, 32);
    s->v2 += s->v3;
    s->v3 = sip_rotl(s->v3, 16);
    s->v3 ^= s->v2;
    s->v0 += s->v3;
    s->v3 = sip_rotl(s->v3, 21);
    s->v3 ^= s->v0;
    s->v2 += s->v1;
    s->v1 = sip_rotl(s->v1, 17);
    s->v1 ^= s->v2;
    s->v2 = sip_rotl(s->v2, 32);
}

/* sip_le64 - read 8 bytes little-endian, whatever the host order */
static inline uint64_t sip_le64(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, sizeof(v));
    return le64toh(v);
}

/* sip_init - start a hash under a 128-bit key */
__attribute__((always_inline))
static inline void sip_init(struct sip *s, const uint8_t key[STORE_KEY_LEN])
{
    uint64_t k0 = sip_le64(key), k1 = sip_le64(key + 8);

    s->v0 = SIP_C0 ^ k0;
    s->v1 = SIP_C1 ^ k1;
    s->v2 = SIP_C2 ^ k0;
    s->v3 = SIP_C3 ^ k1;
    s->m = 0;
    s->mlen = 0;
    s->total = 0;
}

/* sip_rounds - c SipRounds (c a constant after inlining) */
__attribute__((always_inline))
static inline void sip_rounds(struct sip *s, int c)
{
    for (int i = 0; i < c; i++)
	sip_round(s);
}

/* sip_block - compress one 64-bit message word */
__attribute__((always_inline))
static inline void sip_block(struct sip *s, uint64_t m, int c)
{
    s->v3 ^= m;
    sip_rounds(s, c);
    s->v0 ^= m;
}

/* sip_byte - feed one byte */
static void sip_byte(struct sip *s, uint8_t c)
{
    s->m |= (uint64_t) c << (8 * s->mlen);
    s->total++;
    if (++s->mlen == 8) {
	sip_block(s, s->m, SIP_C);
	s->m = 0;
	s->mlen = 0;
    }
}

/* sip_final - finish: the pending bytes and the length byte, d rounds */
__attribute__((always_inline))
static inline uint64_t sip_final(struct sip *s, int c, int d)
{
    sip_block(s, s->m | (s->total << 56), c);
    s->v2 ^= SIP_FINAL;
    sip_rounds(s, d);
    return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

/* sip_hash - SipHash-c-d of a buffer */
__attribute__((always_inline))
static inline uint64_t sip_hash(const uint8_t key[STORE_KEY_LEN],
				const void *data, size_t len, int c, int d)
{
    const uint8_t *p = data;
    struct sip s;
    size_t i;

    sip_init(&s, key);
    for (i = 0; i + 8 <= len; i += 8)
	sip_block(&s, sip_le64(p + i), c);
    if (i < len) {		/* the tail, zero padded */
	uint8_t tail[8] = { 0 };

	memcpy(tail, p + i, len - i);
	s.m = sip_le64(tail);
    }
    s.total = len;
    return sip_final(&s, c, d);
}

/* store_siphash - the store's keyed hash of a buffer (SipHash-1-3) */
uint64_t store_siphash(const uint8_t key[STORE_KEY_LEN], const void *data,
		       size_t len)
{
    return sip_hash(key, data, len, SIP_C, SIP_D);
}

/* store_siphash24 - SipHash-2-4, for its reference vectors only */
uint64_t store_siphash24(const uint8_t key[STORE_KEY_LEN], const void *data,
			 size_t len)
{
    return sip_hash(key, data, len, 2, 4);
}

/* login_is_space - white space trimmed from both ends of a login:
 * space, and \t \n \v \f \r, which are 9 to 13 */
static inline int login_is_space(unsigned char c)
{
    return c == ' ' || (unsigned) (c - '\t') <= '\r' - '\t';
}

/* login_map - the normalised form of one byte (branch-free) */
static inline unsigned char login_map(unsigned char c)
{
    unsigned upper = (unsigned) (c - 'A') < 26u;
    unsigned ctl = c < ' ' || c == ASCII_DEL;

    c = (unsigned char) (c + upper * ('a' - 'A'));
    return ctl ? LOGIN_BAD : c;
}

_Static_assert(STORE_LOGIN_MAX % 8 == 0, "logins are mapped in words");

#define SWAR_ONES UINT64_C(0x0101010101010101)
#define SWAR_HIGH UINT64_C(0x8080808080808080)

/* swar_map - lowercase 8 ASCII bytes at once; flag control bytes */
static inline uint64_t swar_map(uint64_t x, uint64_t *ctl)
{
    uint64_t ascii = ~x & SWAR_HIGH;	/* 0x80 where a byte is < 0x80 */
    uint64_t b7 = x & ~SWAR_HIGH;	/* adding below never carries */
    uint64_t ge_a = b7 + SWAR_ONES * (0x80 - 'A');
    uint64_t gt_z = b7 + SWAR_ONES * (0x80 - 'Z' - 1);
    uint64_t ge_sp = b7 + SWAR_ONES * (0x80 - ' ');
    uint64_t del = b7 + SWAR_ONES;

    *ctl |= ((~ge_sp | del) & ascii) & SWAR_HIGH;
    return x | ((ge_a & ~gt_z & ascii & SWAR_HIGH) >> 2);	/* + 0x20 */
}

/* word_at - the login's bytes w..w+7 as a little-endian word, zero
 * beyond its end n (never reads past it) */
static inline uint64_t word_at(const unsigned char *b, size_t n, size_t w)
{
    uint64_t x = 0;

    if (n >= w + 8) {
	memcpy(&x, b + w, 8);
	return le64toh(x);
    }
    if (n >= 8) {		/* the last 8 bytes, shifted into place */
	memcpy(&x, b + n - 8, 8);
	return le64toh(x) >> (8 * (w + 8 - n));
    }
    for (size_t i = n; i > w; i--)
	x = x << 8 | b[i - 1];
    return x;
}

/* login_trim - the login without surrounding white space: *b its first
 * byte; its length */
static size_t login_trim(const char *login, const unsigned char **b)
{
    const unsigned char *p = (const unsigned char *) login, *e;

    while (login_is_space(*p))
	p++;
    e = p + strlen((const char *) p);
    while (e > p && login_is_space(e[-1]))
	e--;
    *b = p;
    return (size_t) (e - p);
}

/* login_long - the key of a login that does not fit: its first bytes,
 * '~' and 16 hex digits of a hash of all of it. The hash's key is fixed,
 * not the state file's: the name is what a snapshot keeps, and a restore
 * goes into a new file with a new key, so a name keyed with the old one
 * was no longer the login's (it learned again from nothing, and its site
 * vouches counted twice; check_snapshot test_long_login_restore). The
 * table's hash of the name stays keyed (store_login_ref). Two long
 * logins share a record only if their first bytes and 64-bit hashes
 * agree: finding a second login for one given login is 2^64 work, and
 * needs an account under that name. A state file or snapshot from
 * before keeps its long logins under names they no longer map to: they
 * learn again once. */
static void login_long(const unsigned char *b, size_t n,
		       char out[STORE_LOGIN_MAX])
{
    static const uint8_t fixed[STORE_KEY_LEN] = {
	'r', 'e', 'l', 'a', 'y', 'g', 'u', 'a', 'r', 'd', '-', 'l', 'o', 'n',
	'g', '1'
    };
    static const char hex[] = "0123456789abcdef";
    struct sip s;
    uint64_t h;

    out[STORE_LOGIN_MAX - 1] = '\0';
    sip_init(&s, fixed);
    for (size_t i = 0; i < n; i++) {
	unsigned char c = login_map(b[i]);

	if (i < LOGIN_PREFIX)
	    out[i] = (char) c;
	sip_byte(&s, c);
    }
    h = sip_final(&s, SIP_C, SIP_D);
    out[LOGIN_PREFIX] = LOGIN_TILDE;
    for (int i = 0; i < LOGIN_HASH_HEX; i++)
	out[LOGIN_PREFIX + 1 + i] = hex[(h >> (60 - 4 * i)) & 0xf];
}

/* store_login_ref - normalise a login into a NUL-padded key (*len its
 * length, 0 if nothing is left) and return the keyed hash of the key.
 * One pass over the words: each is hashed as it is mapped, so the mapping
 * overlaps the hash's chain of rounds. st may be NULL (an unkeyed hash,
 * for callers that only want the key). */
uint64_t store_login_ref(const STORE *st, const char *login,
			 char out[STORE_LOGIN_MAX], size_t *len)
{
    static const uint8_t zero_key[STORE_KEY_LEN];
    const uint8_t *key = st != NULL ? st->key : zero_key;
    const unsigned char *b;
    uint64_t ctl = 0, x = 0, le;
    struct sip s;
    size_t n, w;

    n = login != NULL ? login_trim(login, &b) : 0;
    if (n == 0 || n >= STORE_LOGIN_MAX) {	/* rare: nothing, or long */
	memset(out, 0, STORE_LOGIN_MAX);
	if (n != 0)
	    login_long(b, n, out);
	*len = n == 0 ? 0 : STORE_LOGIN_MAX - 1;
	return store_siphash(key, out, *len);
    }
    sip_init(&s, key);
    memset(out, 0, STORE_LOGIN_MAX);
    for (w = 0; w + 8 <= n; w += 8) {	/* whole words: read in place */
	memcpy(&x, b + w, 8);
	x = swar_map(le64toh(x), &ctl);
	sip_block(&s, x, SIP_C);
	le = htole64(x);
	memcpy(out + w, &le, 8);
    }
    x = 0;
    if (w < n) {		/* the tail: its own bytes count, zero padded */
	uint64_t c = 0;

	x = swar_map(word_at(b, n, w), &c);
	ctl |= c & ((UINT64_C(1) << (8 * (n - w))) - 1);
	le = htole64(x);
	memcpy(out + w, &le, 8);
    }
    *len = n;
    if (ctl != 0) {		/* rare: control bytes become '?' */
	for (size_t i = 0; i < n; i++)
	    out[i] = (char) login_map((unsigned char) out[i]);
	return store_siphash(key, out, n);
    }
    s.m = x;
    s.total = n;
    return sip_final(&s, SIP_C, SIP_D);
}

/* store_login_key - normalise into a NUL-padded key; return its length */
size_t store_login_key(const STORE *st, const char *login,
		       char out[STORE_LOGIN_MAX])
{
    size_t len;

    (void) store_login_ref(st, login, out, &len);
    return len;
}

/* store_normalize_login - public form of store_login_key */
void store_normalize_login(const STORE *st, const char *login, char *out)
{
    (void) store_login_key(st, login, out);
}

/* store_login_hash32 - the 32-bit login hash kept per client IP */
uint32_t store_login_hash32(const STORE *st, const char *login)
{
    char key[STORE_LOGIN_MAX];
    size_t len;

    if (st == NULL)
	return 0;
    return (uint32_t) (store_login_ref(st, login, key, &len) >> 32);
}

/* store_hash_addr - keyed hash of a client address */
uint64_t store_hash_addr(const STORE *st, const struct addr *a)
{
    return store_siphash(st->key, a->b, sizeof(a->b));
}

/* store_copy_text - bounded copy with control bytes replaced */
void store_copy_text(char *dst, size_t size, const char *src)
{
    size_t i = 0;

    if (size == 0)
	return;
    if (src != NULL)
	for (; i + 1 < size && src[i] != '\0'; i++) {
	    unsigned char c = (unsigned char) src[i];

	    dst[i] = (char) (c < ' ' || c == ASCII_DEL ? LOGIN_BAD : c);
	}
    memset(dst + i, 0, size - i);
}
