/*
 * event_rec - the event record the milter sends the collector per verdict:
 * a schema, not a log line.
 *
 * One datagram = one record followed by its HMAC-SHA256 (32 bytes, over
 * every byte before it, key from collector.key_file). Integers are
 * unsigned, big-endian. Version 1:
 *
 *   off size field
 *     0    4 magic "RGEV"
 *     4    1 version (EVREC_VERSION); another version is refused
 *     5    1 phase: 0 mail, 1 rcpt, 2 eom (enum rules_phase)
 *     6    1 action: 0 accept .. 4 reject (enum cfg_action)
 *     7    1 class: 0 authenticated, 1 internal, 2 external, 3 trusted
 *     8    1 flags: EVREC_F_* (dry run, decided by a block, block set,
 *                   client on the rogue list); other bits must be 0
 *     9    1 reserved, 0
 *    10    2 rule index in the policy file, 0xffff: none
 *    12    8 boot id (random per milter start)
 *    20    8 sequence, from 1 per boot id
 *    28    8 time, milliseconds since the epoch (UTC)
 *    36   16 client address, IPv6 or IPv4-mapped (::ffff:a.b.c.d)
 *    52    4 ASN, 0: unknown
 *    56    2 country, two upper-case ASCII letters, or two zero bytes
 *    58    4 recipients accepted so far
 *    62    8 message bytes (eom), 0 before
 *    70    4 block until (seconds since the epoch), 0: none
 *    74  ... five strings, each a 1-byte length then the bytes (valid
 *            UTF-8, no code point log_hostile() names: no C0/C1
 *            control, DEL, bidi or zero-width character): node (<= 64), rule name
 *            (<= 64, "" none), login (<= 255, "" none), queue id (<= 32,
 *            "" none), reason (<= 255)
 *   end   32 HMAC-SHA256
 *
 * Nothing may follow the MAC. Decoding treats the bytes as hostile: every
 * length is checked against what is left, every enum against its range.
 * The collector rejects, per (node, boot id), a sequence it has seen or
 * one too old for its replay window, and a time outside its clock window.
 *
 * A batch: several sealed records in one datagram (the milter's sender
 * thread sends these: the kernel's cost is per datagram, and a unix
 * socket queues a number of datagrams, not of bytes). Batch version 1:
 *
 *   off size field
 *     0    4 magic "RGEB"
 *     4    1 batch version (EVBATCH_VERSION); another version is refused
 *     5    1 reserved, 0
 *     6    2 records that follow, 1 .. EVBATCH_RECORDS_MAX
 *     8  ... each record: a 2-byte length L (1 .. EVENT_MAX), then L bytes:
 *            one datagram as above ("RGEV", version 1, its own MAC)
 *
 * At most EVBATCH_MAX bytes; nothing may follow the last record. The
 * framing is not signed, each record is: a record is verified, checked
 * against the replay and clock windows, stored or refused (and counted)
 * on its own, so a record cut, moved or copied by someone on the path
 * fails on its own MAC or sequence. Bad framing (a count of 0 or over
 * the limit, a length of 0, over EVENT_MAX or past the end, bytes after
 * the last record, a reserved byte set) refuses the whole datagram,
 * counted once (EVREC_EBATCH). Single-record datagrams stay valid.
 *
 * Contract: pure functions, no I/O, thread-safe.
 */
#ifndef RG_EVENT_REC_H
#define RG_EVENT_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "cfg.h"
#include "rules.h"

#define EVREC_MAGIC "RGEV"
#define EVREC_VERSION 1
#define EVREC_FIXED 74		/* bytes before the strings */
#define EVREC_MAC_LEN 32
#define EVREC_NO_RULE 0xffff
#define EVREC_NODE_MAX 64
#define EVREC_RULE_MAX 64
#define EVREC_LOGIN_MAX 255
#define EVREC_QID_MAX 32
#define EVREC_REASON_MAX 255
#define EVREC_MAX (EVREC_FIXED + 5 + EVREC_NODE_MAX + EVREC_RULE_MAX \
		   + EVREC_LOGIN_MAX + EVREC_QID_MAX + EVREC_REASON_MAX + EVREC_MAC_LEN)

#define EVBATCH_MAGIC "RGEB"
#define EVBATCH_VERSION 1
#define EVBATCH_HEAD 8		/* magic, version, reserved, count */
#define EVBATCH_LEN_SIZE 2	/* a record's length, before it */
#define EVBATCH_RECORDS_MAX 256
#define EVBATCH_MAX 32768	/* a batch datagram's bytes, at most */

#define EVREC_F_DRY_RUN 0x01
#define EVREC_F_FROM_BLOCK 0x02
#define EVREC_F_BLOCK_SET 0x04
#define EVREC_F_ROGUE_LISTED 0x08
#define EVREC_F_ALL 0x0f

struct evrec {
    uint8_t version, phase, action, cls, flags;
    uint16_t rule;
    uint64_t bootid, seq, time_ms;
    struct addr client;
    uint32_t asn;
    char cc[3];			/* "" when unknown */
    uint32_t rcpts;
    uint64_t bytes;
    uint32_t block_until;
    char node[EVREC_NODE_MAX + 1];
    char rule_name[EVREC_RULE_MAX + 1];
    char login[EVREC_LOGIN_MAX + 1];
    char qid[EVREC_QID_MAX + 1];
    char reason[EVREC_REASON_MAX + 1];
};

/* Why a datagram was refused; the collector counts each. */
enum evrec_status {
    EVREC_OK = 0,
    EVREC_ESHORT,		/* shorter than a record and its MAC */
    EVREC_ELONG,		/* longer than EVREC_MAX */
    EVREC_EMAGIC,
    EVREC_EVERSION,
    EVREC_ESIG,			/* the MAC does not match */
    EVREC_EFIELD,		/* an enum, flag or country out of range */
    EVREC_ESTRING,		/* a string too long, cut short or with a bad byte */
    EVREC_ETRAILING,		/* bytes between the last string and the MAC */
    EVREC_EREPLAY,		/* (node, boot id, sequence) seen or too old */
    EVREC_ESTALE,		/* time outside the clock window */
    EVREC_EBATCH,		/* a batch datagram's framing is bad */
    EVREC_NSTATUS
};

const char *evrec_status_name(enum evrec_status s);

/* evrec_from_verdict - the record of one verdict (no boot id, sequence,
 * time or node: the sender stamps those) */
void evrec_from_verdict(const struct cfg *cfg, const struct rules_facts *f,
			const struct rules_verdict *v, bool dry_run, struct evrec *r);
/* What a mail thread keeps of a verdict until the sender thread makes
 * the record of it (evrec_capture, evrec_from_capture): in-process only,
 * never on the wire, so in host byte order. Then the strings login,
 * queue id and reason, each cleaned (as in struct evrec) and followed by
 * a NUL. */
struct evrec_cap {
    uint64_t seq, time_ms, bytes;
    struct addr client;
    uint32_t asn, rcpts, block_until;
    int32_t rule;		/* the policy's rule index, -1: none */
    uint8_t phase, action, cls, flags;
    char cc[2];			/* two zero bytes when unknown */
    uint16_t login_len, qid_len, reason_len;
};

#define EVREC_CAPTURE_MAX (sizeof(struct evrec_cap) + EVREC_LOGIN_MAX + EVREC_QID_MAX \
			   + EVREC_REASON_MAX + 3)

size_t evrec_capture(const struct cfg *cfg, const struct rules_facts *f,
		     const struct rules_verdict *v, bool dry_run, uint64_t seq,
		     uint64_t time_ms, uint8_t *out, size_t cap);
bool evrec_from_capture(const struct cfg *cfg, const uint8_t *in, size_t len, struct evrec *r);
/* evrec_encode - the record's bytes, without MAC; their length, 0 when a
 * string is too long or a field out of range */
size_t evrec_encode(const struct evrec *r, uint8_t *out, size_t outlen);
/* evrec_decode - parse the record part of a datagram (MAC checked apart) */
enum evrec_status evrec_decode(const uint8_t *buf, size_t len, struct evrec *r);

#endif
