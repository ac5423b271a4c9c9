/*
 * event - the signed datagram the milter sends the collector per verdict.
 *
 * Wire form, one datagram, ASCII:
 *   RG1 BOOTID SEQ TIME HMAC PAYLOAD
 * BOOTID is 16 hex digits chosen at milter start, SEQ counts from 1 per
 * boot, TIME is seconds since the epoch, HMAC is HMAC-SHA256 in hex over
 * "BOOTID SEQ TIME PAYLOAD", PAYLOAD is the verdict's key=value line. The
 * receiver rejects bad signatures and (BOOTID, SEQ) pairs it has seen.
 */
#ifndef RG_EVENT_H
#define RG_EVENT_H

#include <stddef.h>
#include <stdint.h>

#define EVENT_MAX 1400		/* fits one UDP datagram on any link */
#define EVENT_KEY_MIN 16
#define EVENT_KEY_MAX 256
#define EVENT_BOOTID_LEN 16

struct event_key {
    unsigned char k[EVENT_KEY_MAX];
    size_t len;
};

struct event_hdr {
    char bootid[EVENT_BOOTID_LEN + 1];
    uint64_t seq;
    uint32_t time;
};

enum event_status { EVENT_OK = 0, EVENT_EFORMAT, EVENT_ESIG, EVENT_EKEY };

int event_key_load(const char *path, struct event_key *k, char *err,
		   size_t errlen);
size_t event_encode(const struct event_key *k, const char *bootid,
		    uint64_t seq, uint32_t time, const char *payload,
		    char *out, size_t outlen);
int event_verify(const struct event_key *k, const char *msg, size_t len,
		 struct event_hdr *h, const char **payload, size_t *plen);

#endif
