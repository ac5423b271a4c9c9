/*
 * check_event - the collector's signed datagrams: round trip, tampering,
 * and header fields that must not let a signature cover other fields.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "event.h"

#define BOOTID "0123456789abcdef"
#define MAGIC_LEN 4		/* "RG1 " */
#define HEAD_LEN (EVENT_BOOTID_LEN + 14)	/* BOOTID " 7 1700000000 " */
#define HMAC_HEX 64
#define PAYLOAD "4XyZq1: action=tempfail rule=many-countries user=\"usr1\""

static const struct event_key key = {
    .k = "check-event-key-0123456789abcdef", .len = 32,
};

/* encode - a datagram for seq 7 at time 1700000000; its length */
static size_t encode(const char *payload, char *out, size_t outlen)
{
    size_t n = event_encode(&key, BOOTID, 7, 1700000000, payload, out, outlen);

    ck_assert_uint_gt(n, 0);
    return n;
}

START_TEST(test_round_trip)
{
    char msg[EVENT_MAX + 1];
    size_t n = encode(PAYLOAD, msg, sizeof(msg)), plen;
    struct event_hdr h;
    const char *p;

    ck_assert_int_eq(event_verify(&key, msg, n, &h, &p, &plen), EVENT_OK);
    ck_assert_str_eq(h.bootid, BOOTID);
    ck_assert_uint_eq(h.seq, 7);
    ck_assert_uint_eq(h.time, 1700000000);
    ck_assert_uint_eq(plen, strlen(PAYLOAD));
    ck_assert(memcmp(p, PAYLOAD, plen) == 0);
}
END_TEST

START_TEST(test_tampered)
{
    char msg[EVENT_MAX + 1];
    size_t n = encode(PAYLOAD, msg, sizeof(msg)), plen;
    struct event_hdr h;
    const char *p;

    msg[n - 1] ^= 1;		/* payload */
    ck_assert_int_eq(event_verify(&key, msg, n, &h, &p, &plen), EVENT_ESIG);
    msg[n - 1] ^= 1;
    msg[MAGIC_LEN + EVENT_BOOTID_LEN + 1] = '8';	/* seq 7 -> 8 */
    ck_assert_int_eq(event_verify(&key, msg, n, &h, &p, &plen), EVENT_ESIG);
    ck_assert_int_eq(event_verify(&key, msg, 3, &h, &p, &plen), EVENT_EFORMAT);
}
END_TEST

/* A NUL in a header field used to pass as a digit (strchr finds the set's
 * own terminator) and cut the signed text short there: a captured
 * datagram's signed text, sent again as the payload behind a header of
 * NULs, verified with any sequence number the sender liked. */
START_TEST(test_nul_in_header)
{
    char msg[EVENT_MAX + 1], forged[2 * EVENT_MAX];
    size_t n = encode(PAYLOAD, msg, sizeof(msg)), plen, f = 0;
    const char *head = msg + MAGIC_LEN, *mac = head + HEAD_LEN;
    struct event_hdr h;
    const char *p;

    memcpy(forged + f, "RG1 ", MAGIC_LEN), f += MAGIC_LEN;
    memset(forged + f, 0, EVENT_BOOTID_LEN), f += EVENT_BOOTID_LEN;
    memcpy(forged + f, " 99 1 ", 6), f += 6;
    memcpy(forged + f, mac, HMAC_HEX + 1), f += HMAC_HEX + 1;
    memcpy(forged + f, head, HEAD_LEN), f += HEAD_LEN;	/* the signed text */
    memcpy(forged + f, PAYLOAD, strlen(PAYLOAD)), f += strlen(PAYLOAD);
    ck_assert_uint_le(f, EVENT_MAX);
    ck_assert_int_eq(event_verify(&key, forged, f, &h, &p, &plen), EVENT_EFORMAT);
    /* and a NUL inside the sequence number */
    msg[MAGIC_LEN + EVENT_BOOTID_LEN + 1] = '\0';
    ck_assert_int_eq(event_verify(&key, msg, n, &h, &p, &plen), EVENT_EFORMAT);
}
END_TEST

/* event_suite - every case above */
static Suite *event_suite(void)
{
    Suite *s = suite_create("event");
    TCase *tc = tcase_create("event");

    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_tampered);
    tcase_add_test(tc, test_nul_in_header);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(event_suite());
}
