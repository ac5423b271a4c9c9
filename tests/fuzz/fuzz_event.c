/*
 * fuzz_event - event_verify on hostile datagrams, and the encode/verify
 * round trip.
 *
 * 1. The input as a datagram: event_verify must not crash, and whatever
 *    it accepts must have a well-formed header and a payload inside the
 *    datagram.
 * 2. A payload, boot id, sequence and time derived from the input are
 *    encoded; an encoding exists exactly when the datagram fits
 *    EVENT_MAX, verifies, and gives back the same header and payload.
 * 3. The good datagram with one byte changed (position and xor from the
 *    input) must never verify; spliced (a span replaced by input bytes),
 *    it may verify only if it is still the canonical encoding of what
 *    event_verify returns, byte for byte.
 * 4. Its signed text resent as the payload behind a header of NULs must
 *    not verify (a NUL used to cut the signed text short).
 */
#include <inttypes.h>

#include "fuzz_common.h"
#include "event.h"

#define HEAD_BYTES 12		/* seq (8) and time (4) taken from the input */
#define HMAC_HEX 64
#define MAGIC_LEN 4		/* "RG1 " */
#define DEC_MAX 24
#define SPLICE_MAX 40		/* bytes deleted or inserted by a splice */

static const struct event_key key = {
    .k = "relayguard-fuzz-key-0123456789ab", .len = 32,
};

/* check_verified - what event_verify returns for an accepted datagram */
static void check_verified(const char *msg, size_t len,
			   const struct event_hdr *h, const char *payload,
			   size_t plen)
{
    FUZZ_CHECK(strlen(h->bootid) == EVENT_BOOTID_LEN, "boot id length");
    FUZZ_CHECK(strspn(h->bootid, "0123456789abcdef") == EVENT_BOOTID_LEN,
	       "boot id hex");
    FUZZ_CHECK(payload >= msg && payload + plen == msg + len, "payload in datagram");
    FUZZ_CHECK(memchr(payload, 0, plen) == NULL, "payload without NUL");
}

/* derive - boot id, sequence and time from the input's first bytes */
static void derive(const uint8_t *data, size_t size, char bootid[EVENT_BOOTID_LEN + 1],
		   uint64_t *seq, uint32_t *time)
{
    uint8_t b[HEAD_BYTES] = { 0 };

    memcpy(b, data, size < sizeof(b) ? size : sizeof(b));
    memcpy(seq, b, sizeof(*seq));
    memcpy(time, b + sizeof(*seq), sizeof(*time));
    for (int i = 0; i < EVENT_BOOTID_LEN; i++)
	bootid[i] = "0123456789abcdef"[(b[i % HEAD_BYTES] >> (i & 4)) & 0xf];
    bootid[EVENT_BOOTID_LEN] = 0;
}

/* canonical - an accepted datagram is the encoding of what it says */
static void canonical(const char *msg, size_t len)
{
    char again[EVENT_MAX + 1], *payload;
    const char *p;
    struct event_hdr h;
    size_t plen, n;

    if (event_verify(&key, msg, len, &h, &p, &plen) != EVENT_OK)
	return;
    check_verified(msg, len, &h, p, plen);
    payload = fuzz_strndup((const uint8_t *) p, plen);
    n = event_encode(&key, h.bootid, h.seq, h.time, payload, again, sizeof(again));
    FUZZ_CHECK(n == len && memcmp(again, msg, len) == 0,
	       "accepted datagram is canonical");
    free(payload);
}

/* splice - replace a span of a good datagram with input bytes */
static void splice(const char *good, size_t n, const uint8_t *data, size_t size)
{
    char buf[2 * EVENT_MAX];
    size_t pos = ((size_t) data[size - 2] << 8 | data[size - 1]) % (n + 1);
    size_t del = data[size - 3] % SPLICE_MAX, ins = data[size - 4] % SPLICE_MAX;
    size_t len = 0;

    if (del > n - pos)
	del = n - pos;
    if (ins > size)
	ins = size;
    memcpy(buf, good, pos), len += pos;
    memcpy(buf + len, data, ins), len += ins;
    memcpy(buf + len, good + pos + del, n - pos - del), len += n - pos - del;
    canonical(buf, len);
}

/* nul_header - the signed text as payload behind a header of NULs */
static void nul_header(const char *good, size_t n, const char *seqs,
		       const char *times)
{
    size_t hlen = EVENT_BOOTID_LEN + 1 + strlen(seqs) + 1 + strlen(times) + 1;
    const char *mac = good + MAGIC_LEN + hlen, *payload = mac + HMAC_HEX + 1;
    char buf[2 * EVENT_MAX];
    struct event_hdr h;
    const char *p;
    size_t len = 0, plen;

    memcpy(buf, good, MAGIC_LEN), len += MAGIC_LEN;
    memset(buf + len, 0, EVENT_BOOTID_LEN), len += EVENT_BOOTID_LEN;
    len += (size_t) sprintf(buf + len, " %s %s ", seqs, times);
    memcpy(buf + len, mac, HMAC_HEX + 1), len += HMAC_HEX + 1;
    memcpy(buf + len, good + MAGIC_LEN, hlen), len += hlen;	/* signed text */
    memcpy(buf + len, payload, (size_t) (good + n - payload));
    len += (size_t) (good + n - payload);
    if (len <= EVENT_MAX)
	FUZZ_CHECK(event_verify(&key, buf, len, &h, &p, &plen) != EVENT_OK,
		   "NUL header with a replayed signature rejected");
}

/* round_trip - encode a derived event, verify it, then a damaged copy */
static void round_trip(const uint8_t *data, size_t size)
{
    char bootid[EVENT_BOOTID_LEN + 1], out[EVENT_MAX + 1], *payload, *bad;
    char seqs[DEC_MAX], times[DEC_MAX];
    const char *got;
    struct event_hdr h;
    uint64_t seq;
    uint32_t time;
    size_t n, plen, want, pos;

    derive(data, size, bootid, &seq, &time);
    payload = fuzz_strndup(data + (size < HEAD_BYTES ? size : HEAD_BYTES),
			   size < HEAD_BYTES ? 0 : size - HEAD_BYTES);
    plen = strlen(payload);	/* up to the first NUL, as a C string */
    want = (size_t) snprintf(seqs, sizeof(seqs), "%" PRIu64, seq);
    want += (size_t) snprintf(times, sizeof(times), "%" PRIu32, time);
    want += MAGIC_LEN + EVENT_BOOTID_LEN + 1 + 1 + 1 + HMAC_HEX + 1 + plen;
    n = event_encode(&key, bootid, seq, time, payload, out, sizeof(out));
    FUZZ_CHECK(n == (want <= EVENT_MAX ? want : 0), "encoded length");
    if (n > 0) {
	FUZZ_CHECK(event_verify(&key, out, n, &h, &got, &plen) == EVENT_OK,
		   "own datagram verifies");
	check_verified(out, n, &h, got, plen);
	FUZZ_CHECK(strcmp(h.bootid, bootid) == 0 && h.seq == seq && h.time == time,
		   "header round trip");
	FUZZ_CHECK(plen == strlen(payload) && memcmp(got, payload, plen) == 0,
		   "payload round trip");
	nul_header(out, n, seqs, times);
	if (size >= 4)
	    splice(out, n, data, size);
	if (size >= 2) {
	    bad = fuzz_strndup((const uint8_t *) out, n);
	    pos = ((size_t) data[size - 2] << 8 | data[size - 1]) % n;
	    bad[pos] ^= (char) (data[size - 1] | 1);
	    FUZZ_CHECK(event_verify(&key, bad, n, &h, &got, &plen) != EVENT_OK,
		       "changed datagram rejected");
	    free(bad);
	}
    }
    free(payload);
}

/* LLVMFuzzerTestOneInput - the input as a datagram, then the round trip */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *msg = malloc(size ? size : 1);	/* exact size: ASan bounds */
    struct event_hdr h;
    const char *payload;
    size_t plen;

    if (msg == NULL)
	abort();
    if (size > 0)
	memcpy(msg, data, size);
    if (event_verify(&key, msg, size, &h, &payload, &plen) == EVENT_OK)
	check_verified(msg, size, &h, payload, plen);
    free(msg);
    round_trip(data, size);
    return 0;
}
