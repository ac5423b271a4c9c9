/*
 * event - encode and verify the collector's signed event datagrams.
 *
 * Contract: pure functions but event_key_load (reads the key file).
 * Verification treats the datagram as hostile: bounded, exact field
 * syntax, constant-time signature comparison.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event.h"

#define MAGIC "RG1 "
#define MAGIC_LEN 4
#define HMAC_HEX 64
#define SHA256_LEN 32

/* event_key_load - read a key file: 16..256 bytes, not world-readable */
int event_key_load(const char *path, struct event_key *k, char *err,
		   size_t errlen)
{
    struct stat sb;
    ssize_t n;
    int fd, rc = EVENT_EKEY;

    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return EVENT_EKEY;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
	snprintf(err, errlen, "%s: not a regular file", path);
	goto out;
    }
    if (sb.st_mode & S_IROTH) {
	snprintf(err, errlen, "%s: readable by everyone; chmod 0600 or 0640", path);
	goto out;
    }
    n = read(fd, k->k, sizeof(k->k));
    while (n > 0 && (k->k[n - 1] == '\n' || k->k[n - 1] == '\r'))
	n--;
    if (n < EVENT_KEY_MIN || (size_t) sb.st_size > sizeof(k->k) + 2) {
	snprintf(err, errlen, "%s: a key must have %d to %d bytes", path,
		 EVENT_KEY_MIN, EVENT_KEY_MAX);
	goto out;
    }
    k->len = (size_t) n;
    rc = EVENT_OK;
  out:
    close(fd);
    return rc;
}

/* sign - hex HMAC-SHA256 of data */
static void sign(const struct event_key *k, const char *data, size_t len,
		 char hex[HMAC_HEX + 1])
{
    unsigned char mac[SHA256_LEN];
    unsigned int mlen = 0;
    int i;

    HMAC(EVP_sha256(), k->k, (int) k->len, (const unsigned char *) data, len,
	 mac, &mlen);
    for (i = 0; i < SHA256_LEN; i++)
	snprintf(hex + 2 * i, 3, "%02x", mac[i]);
}

/* event_encode - the datagram for one payload; its length, 0 if too big */
size_t event_encode(const struct event_key *k, const char *bootid,
		    uint64_t seq, uint32_t time, const char *payload,
		    char *out, size_t outlen)
{
    char head[64], body[EVENT_MAX], hex[HMAC_HEX + 1];
    int hlen, blen, n;

    hlen = snprintf(head, sizeof(head), "%.16s %llu %u ", bootid,
		    (unsigned long long) seq, time);
    blen = snprintf(body, sizeof(body), "%s%s", head, payload);
    if (hlen < 0 || blen < 0 || (size_t) blen >= sizeof(body))
	return 0;
    sign(k, body, (size_t) blen, hex);
    n = snprintf(out, outlen, "%s%s%s %s", MAGIC, head, hex, payload);
    return n > 0 && (size_t) n < outlen && n <= EVENT_MAX ? (size_t) n : 0;
}

/* field - parse a run of characters from set; NULL on a bad field */
static const char *field(const char *p, const char *end, const char *set,
			 size_t min, size_t max, char *out)
{
    size_t n = 0;

    /* p[n] != 0: strchr would find the set's own terminator, and a NUL
     * would then cut the signed text short (see event_verify) */
    while (p + n < end && p[n] != ' ' && p[n] != 0
	   && strchr(set, p[n]) != NULL && n <= max)
	n++;
    if (n < min || n > max || p + n >= end || p[n] != ' ')
	return NULL;
    memcpy(out, p, n);
    out[n] = 0;
    return p + n + 1;
}

/* event_verify - parse and authenticate one datagram */
int event_verify(const struct event_key *k, const char *msg, size_t len,
		 struct event_hdr *h, const char **payload, size_t *plen)
{
    static const char hexd[] = "0123456789abcdef", dec[] = "0123456789";
    char seq[24], tim[12], mac[HMAC_HEX + 1], want[HMAC_HEX + 1];
    char body[EVENT_MAX + 1];
    const char *end = msg + len, *p = msg, *macpos;
    int blen;

    if (len > EVENT_MAX || len < MAGIC_LEN || memcmp(msg, MAGIC, MAGIC_LEN) != 0)
	return EVENT_EFORMAT;
    p += MAGIC_LEN;
    if ((p = field(p, end, hexd, EVENT_BOOTID_LEN, EVENT_BOOTID_LEN, h->bootid)) == NULL
	|| (p = field(p, end, dec, 1, 20, seq)) == NULL
	|| (p = field(p, end, dec, 1, 10, tim)) == NULL
	|| (macpos = p, p = field(p, end, hexd, HMAC_HEX, HMAC_HEX, mac)) == NULL)
	return EVENT_EFORMAT;
    if (memchr(p, 0, (size_t) (end - p)) != NULL)
	return EVENT_EFORMAT;
    blen = snprintf(body, sizeof(body), "%.*s%.*s", (int) (macpos - msg - MAGIC_LEN),
		    msg + MAGIC_LEN, (int) (end - p), p);
    if (blen < 0 || (size_t) blen >= sizeof(body))
	return EVENT_EFORMAT;
    sign(k, body, (size_t) blen, want);
    if (CRYPTO_memcmp(want, mac, HMAC_HEX) != 0)
	return EVENT_ESIG;
    h->seq = strtoull(seq, NULL, 10);
    h->time = (uint32_t) strtoul(tim, NULL, 10);
    *payload = p;
    *plen = (size_t) (end - p);
    return EVENT_OK;
}
