/*
 * store_key - the store's keyed hash (SipHash-2-4) and login normalisation.
 *
 * Contract: pure functions of their arguments and the file's 128-bit key;
 * thread-safe, no allocation. Attackers choose login names and client
 * addresses, so every table index comes from a hash keyed with a secret
 * drawn at file creation (RAND_bytes).
 *
 * A login is normalised once, before any lock: surrounding white space
 * trimmed, ASCII lowercased, control bytes replaced with '?'. A login
 * that does not fit STORE_LOGIN_MAX - 1 bytes keeps its first bytes and
 * ends in '~' and 16 hex digits of the keyed hash of the whole normalised
 * login, so two long logins that share a prefix stay two entries.
 */
#include <string.h>

#include "store_int.h"

#define SIP_C0 UINT64_C(0x736f6d6570736575)
#define SIP_C1 UINT64_C(0x646f72616e646f6d)
#define SIP_C2 UINT64_C(0x6c7967656e657261)
#define SIP_C3 UINT64_C(0x7465646279746573)
#define SIP_FINAL 0xff

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
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
	v = (v << 8) | p[i];
    return v;
}

/* sip_init - start a hash under a 128-bit key */
static void sip_init(struct sip *s, const uint8_t key[STORE_KEY_LEN])
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

/* sip_block - compress one 64-bit message word (2 rounds) */
static inline void sip_block(struct sip *s, uint64_t m)
{
    s->v3 ^= m;
    sip_round(s);
    sip_round(s);
    s->v0 ^= m;
}

/* sip_byte - feed one byte */
static void sip_byte(struct sip *s, uint8_t c)
{
    s->m |= (uint64_t) c << (8 * s->mlen);
    s->total++;
    if (++s->mlen == 8) {
	sip_block(s, s->m);
	s->m = 0;
	s->mlen = 0;
    }
}

/* sip_final - finish: length byte, 4 rounds */
static uint64_t sip_final(struct sip *s)
{
    sip_block(s, s->m | (s->total << 56));
    s->v2 ^= SIP_FINAL;
    for (int i = 0; i < 4; i++)
	sip_round(s);
    return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

/* store_siphash - SipHash-2-4 of a buffer */
uint64_t store_siphash(const uint8_t key[STORE_KEY_LEN], const void *data,
		       size_t len)
{
    const uint8_t *p = data;
    struct sip s;
    size_t i;

    sip_init(&s, key);
    for (i = 0; i + 8 <= len; i += 8)
	sip_block(&s, sip_le64(p + i));
    for (; i < len; i++)
	s.m |= (uint64_t) p[i] << (8 * (i & 7));
    s.total = len;
    return sip_final(&s);
}

/* login_is_space - white space trimmed from both ends of a login */
static int login_is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v'
	|| c == '\f';
}

/* login_map - the normalised form of one byte */
static unsigned char login_map(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
	return (unsigned char) (c - 'A' + 'a');
    if (c < ' ' || c == ASCII_DEL)
	return LOGIN_BAD;
    return c;
}

/* store_login_key - normalise into a NUL-padded key; return its length */
size_t store_login_key(const STORE *st, const char *login,
		       char out[STORE_LOGIN_MAX])
{
    static const uint8_t zero_key[STORE_KEY_LEN];
    static const char hex[] = "0123456789abcdef";
    const unsigned char *b, *e;
    struct sip s;
    uint64_t h;
    size_t n;

    memset(out, 0, STORE_LOGIN_MAX);
    if (login == NULL)
	return 0;
    b = (const unsigned char *) login;
    while (login_is_space(*b))
	b++;
    e = b + strlen((const char *) b);
    while (e > b && login_is_space(e[-1]))
	e--;
    n = (size_t) (e - b);
    if (n < STORE_LOGIN_MAX) {
	for (size_t i = 0; i < n; i++)
	    out[i] = (char) login_map(b[i]);
	return n;
    }
    sip_init(&s, st ? st->key : zero_key);
    for (size_t i = 0; i < n; i++) {
	unsigned char c = login_map(b[i]);

	if (i < LOGIN_PREFIX)
	    out[i] = (char) c;
	sip_byte(&s, c);
    }
    h = sip_final(&s);
    out[LOGIN_PREFIX] = LOGIN_TILDE;
    for (int i = 0; i < LOGIN_HASH_HEX; i++)
	out[LOGIN_PREFIX + 1 + i] = hex[(h >> (60 - 4 * i)) & 0xf];
    return STORE_LOGIN_MAX - 1;
}

/* store_normalize_login - public form of store_login_key */
void store_normalize_login(const STORE *st, const char *login, char *out)
{
    (void) store_login_key(st, login, out);
}

/* store_hash_login - keyed hash of a normalised login */
uint64_t store_hash_login(const STORE *st, const char *key, size_t len)
{
    return store_siphash(st->key, key, len);
}

/* store_login_hash32 - the 32-bit login hash kept per client IP */
uint32_t store_login_hash32(const STORE *st, const char *login)
{
    char key[STORE_LOGIN_MAX];
    size_t len;

    if (st == NULL)
	return 0;
    len = store_login_key(st, login, key);
    return (uint32_t) (store_hash_login(st, key, len) >> 32);
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
