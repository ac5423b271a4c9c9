/*
 * fuzz_event - the collector's event datagrams (event_open, evrec_decode)
 * on hostile bytes, and the encode/seal/open round trip.
 *
 * 1. The input as a datagram: event_open must not crash; what it accepts
 *    is canonical: encoding and sealing the record it returns gives the
 *    input back byte for byte.
 * 2. The input as an unsigned record: evrec_decode must not crash; what
 *    it accepts encodes back to the input, strings hold no control byte.
 * 3. A record made from the input's bytes: evrec_encode succeeds exactly
 *    when its fields are in range; the sealed datagram opens to the same
 *    record, and with one byte changed (position and xor from the input)
 *    never opens.
 * 4. The input as a batch datagram: event_batch_split must not crash;
 *    what it accepts is canonical: its records lie inside the input, in
 *    order, and framing them again gives the input back byte for byte.
 */
#include "fuzz_common.h"
#include "event.h"
#include "log.h"

static const struct event_key key = {
    .k = "relayguard-fuzz-key-0123456789ab", .len = 32,
};

/* strings_clean - every string of an accepted record is valid UTF-8
 * without a code point the log's sanitiser calls hostile */
static void strings_clean(const struct evrec *r)
{
    const char *s[] = {r->node, r->rule_name, r->login, r->qid, r->reason};
    uint32_t cp;
    size_t u;

    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
	for (size_t k = 0, len = strlen(s[i]); k < len; k += u) {
	    u = log_utf8_len((const unsigned char *) s[i] + k, len - k, &cp);
	    FUZZ_CHECK(u > 0 && !log_hostile(cp), "string is clean UTF-8");
	}
}

/* as_datagram - property 1 */
static void as_datagram(const uint8_t *data, size_t size)
{
    uint8_t *msg = malloc(size ? size : 1), again[EVENT_MAX];
    struct evrec r;
    size_t n;

    if (msg == NULL)
	abort();
    if (size)
	memcpy(msg, data, size);
    if (event_open(&key, msg, size, &r) == EVREC_OK) {
	strings_clean(&r);
	n = event_seal(&key, again, evrec_encode(&r, again, sizeof(again)), sizeof(again));
	FUZZ_CHECK(n == size && memcmp(again, msg, size) == 0, "accepted datagram canonical");
    }
    free(msg);
}

/* as_record - property 2 */
static void as_record(const uint8_t *data, size_t size)
{
    uint8_t *msg = malloc(size ? size : 1), again[EVENT_MAX];
    struct evrec r;

    if (msg == NULL)
	abort();
    if (size)
	memcpy(msg, data, size);
    if (evrec_decode(msg, size, &r) == EVREC_OK) {
	strings_clean(&r);
	FUZZ_CHECK(evrec_encode(&r, again, sizeof(again)) == size
		   && memcmp(again, msg, size) == 0, "decoded record encodes back");
    }
    free(msg);
}

/* take - the next n input bytes (zeros past the end) */
static void take(const uint8_t **p, const uint8_t *end, void *out, size_t n)
{
    size_t have = (size_t) (end - *p) < n ? (size_t) (end - *p) : n;

    memset(out, 0, n);
    memcpy(out, *p, have);
    *p += have;
}

/* take_str - a string field from the input: a length byte, then bytes */
static void take_str(const uint8_t **p, const uint8_t *end, char *out, size_t cap)
{
    uint8_t n = 0;

    take(p, end, &n, 1);
    if (n >= cap)
	n = (uint8_t) (cap - 1);
    take(p, end, out, n);
    out[n] = 0;
    n = (uint8_t) strlen(out);	/* a C string: nothing kept past a NUL */
    memset(out + n, 0, cap - n);
}

/* round_trip - property 3 */
static void round_trip(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;
    uint8_t buf[EVENT_MAX];
    struct evrec r, got;
    size_t len, n, pos;

    memset(&r, 0, sizeof(r));
    r.version = EVREC_VERSION;
    take(&p, end, &r.phase, 1), take(&p, end, &r.action, 1);
    take(&p, end, &r.cls, 1), take(&p, end, &r.flags, 1);
    take(&p, end, &r.rule, 2), take(&p, end, &r.bootid, 8);
    take(&p, end, &r.seq, 8), take(&p, end, &r.time_ms, 8);
    take(&p, end, r.client.b, 16), take(&p, end, &r.asn, 4);
    take(&p, end, r.cc, 2), take(&p, end, &r.rcpts, 4);
    take(&p, end, &r.bytes, 8), take(&p, end, &r.block_until, 4);
    if (!r.cc[0])
	r.cc[1] = 0;
    take_str(&p, end, r.node, sizeof(r.node));
    take_str(&p, end, r.rule_name, sizeof(r.rule_name));
    take_str(&p, end, r.login, sizeof(r.login));
    take_str(&p, end, r.qid, sizeof(r.qid));
    take_str(&p, end, r.reason, sizeof(r.reason));
    len = evrec_encode(&r, buf, sizeof(buf));
    if (len == 0)
	return;
    n = event_seal(&key, buf, len, sizeof(buf));
    FUZZ_CHECK(n == len + EVREC_MAC_LEN, "sealed length");
    FUZZ_CHECK(event_open(&key, buf, n, &got) == EVREC_OK, "own datagram opens");
    FUZZ_CHECK(memcmp(&got, &r, sizeof(r)) == 0, "record round trip");
    if (size >= 2) {
	pos = ((size_t) data[size - 2] << 8 | data[size - 1]) % n;
	buf[pos] ^= (uint8_t) (data[size - 1] | 1);
	FUZZ_CHECK(event_open(&key, buf, n, &got) != EVREC_OK, "changed datagram refused");
    }
}

/* as_batch - property 4 */
static void as_batch(const uint8_t *data, size_t size)
{
    static struct event_span rec[EVBATCH_RECORDS_MAX];
    static uint8_t again[EVBATCH_MAX];
    size_t n, i, o;

    if (event_batch_split(data, size, rec, EVBATCH_RECORDS_MAX, &n) != EVREC_OK) {
	FUZZ_CHECK(n == 0, "refused batch yields nothing");
	return;
    }
    FUZZ_CHECK(n >= 1 && event_batch_head(again, n) == EVBATCH_HEAD, "batch count in range");
    o = EVBATCH_HEAD;
    for (i = 0; i < n; i++) {
	FUZZ_CHECK(rec[i].p == data + o + EVBATCH_LEN_SIZE && rec[i].len >= 1
		   && rec[i].len <= EVENT_MAX, "record in place");
	again[o] = (uint8_t) (rec[i].len >> 8), again[o + 1] = (uint8_t) rec[i].len;
	memcpy(again + o + EVBATCH_LEN_SIZE, rec[i].p, rec[i].len);
	o += EVBATCH_LEN_SIZE + rec[i].len;
    }
    FUZZ_CHECK(o == size && memcmp(again, data, size) == 0, "accepted batch canonical");
}

/* LLVMFuzzerTestOneInput - the four properties on one input */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    as_datagram(data, size);
    as_record(data, size);
    round_trip(data, size);
    as_batch(data, size);
    return 0;
}
