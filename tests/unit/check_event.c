/*
 * check_event - the collector's event datagrams: the record built from a
 * verdict, its round trip, every way a hostile or replayed datagram is
 * refused (and counted by the reason returned), the key file, the MAC,
 * and the batch datagram's framing. (The milter's sending of them, its
 * socket and its queue: check_event_send.c.)
 */
#include <check.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "event.h"
#include "event_test.h"
#include "log.h"

#define NOW_MS 1700000000000LL
#define WINDOW_MS 300000LL

/* sample - a record as the milter would send it */
static void sample(struct evrec *r, uint64_t seq)
{
    memset(r, 0, sizeof(*r));
    r->version = EVREC_VERSION;
    r->phase = RULES_PHASE_MAIL;
    r->action = CFG_ACTION_TEMPFAIL;
    r->cls = RULES_CLASS_AUTHENTICATED;
    r->flags = EVREC_F_ROGUE_LISTED;
    r->rule = 3;
    r->bootid = 0x0123456789abcdefULL;
    r->seq = seq;
    r->time_ms = (uint64_t) NOW_MS;
    ck_assert_int_eq(addr_parse("198.18.4.10", &r->client), 0);
    r->asn = 64500;
    memcpy(r->cc, "IN", 3);
    r->rcpts = 2;
    r->bytes = 12345;
    snprintf(r->node, sizeof(r->node), "mx1.example.org");
    snprintf(r->rule_name, sizeof(r->rule_name), "many-countries");
    snprintf(r->login, sizeof(r->login), "usr1");
    snprintf(r->qid, sizeof(r->qid), "4XyZq1");
    snprintf(r->reason, sizeof(r->reason), "4 countries in 10m: BR,CN,DE,IN (limit 3)");
}

/* dgram - a sealed datagram of r; its length */
static size_t dgram(const struct evrec *r, uint8_t *out, size_t cap)
{
    size_t n = event_seal(&key, out, evrec_encode(r, out, cap), cap);

    ck_assert_uint_gt(n, 0);
    return n;
}

/* reseal - replace the MAC after changing the record's bytes */
static void reseal(uint8_t *buf, size_t n)
{
    ck_assert_uint_eq(event_seal(&key, buf, n - EVREC_MAC_LEN, n), n);
}

START_TEST(test_round_trip)
{
    uint8_t buf[EVENT_MAX];
    struct evrec r, got;
    size_t n;

    sample(&r, 7);
    n = dgram(&r, buf, sizeof(buf));
    ck_assert_uint_eq(n, EVREC_FIXED + 5 + strlen(r.node) + strlen(r.rule_name)
		      + strlen(r.login) + strlen(r.qid) + strlen(r.reason) + EVREC_MAC_LEN);
    ck_assert(memcmp(buf, "RGEV\x01", 5) == 0);
    ck_assert_int_eq(event_open(&key, buf, n, &got), EVREC_OK);
    ck_assert(memcmp(&got, &r, sizeof(r)) == 0);
}
END_TEST

/* The record is the engine's view of the verdict, not the log line. */
START_TEST(test_from_verdict)
{
    struct cfg_rule rules[2] = {{.name = (char *) "a"}, {.name = (char *) "many-countries"}};
    struct cfg cfg = {.policy = {.rules = rules, .nrules = 2}};
    struct rules_facts f = {0};
    struct rules_verdict v;
    struct evrec r;
    uint8_t buf[EVENT_MAX];
    char login[400];

    memset(login, 'x', sizeof(login) - 1);
    login[sizeof(login) - 1] = 0;
    login[2] = '\r', login[3] = '\n';	/* an SMTP-supplied login */
    rules_verdict_init(&v);
    v.action = CFG_ACTION_REJECT, v.rule = 1, v.cls = RULES_CLASS_INTERNAL;
    snprintf(v.reason, sizeof(v.reason), "x");
    f.phase = RULES_PHASE_EOM, f.login = login, f.qid = "Q1", f.rcpts = 5, f.bytes = 9;
    memcpy(f.geo.cc, "DE", 3), f.geo.asn = 3320;
    addr_parse("10.1.2.3", &f.client);
    evrec_from_verdict(&cfg, &f, &v, true, &r);
    ck_assert_str_eq(r.rule_name, "many-countries");
    ck_assert_uint_eq(r.rule, 1);
    ck_assert_uint_eq(r.action, CFG_ACTION_REJECT);
    ck_assert_uint_eq(r.cls, RULES_CLASS_INTERNAL);
    ck_assert_uint_eq(r.flags, EVREC_F_DRY_RUN);
    ck_assert_uint_eq(strlen(r.login), EVREC_LOGIN_MAX);
    ck_assert(strncmp(r.login, "xx??x", 5) == 0);
    ck_assert_str_eq(r.cc, "DE");
    ck_assert_uint_eq(r.asn, 3320);
    ck_assert_uint_eq(r.rcpts, 5);
    ck_assert_uint_gt(evrec_encode(&r, buf, sizeof(buf)), 0);
    f.login = "j\xc3\xb6rg\xff\xc3";	/* valid, invalid, cut short */
    evrec_from_verdict(&cfg, &f, &v, true, &r);
    ck_assert_str_eq(r.login, "j\xc3\xb6rg??");
    f.login = "usr\xe2\x80\xae" "1\xc2\x9b";	/* U+202E override, U+009B CSI */
    evrec_from_verdict(&cfg, &f, &v, true, &r);
    ck_assert_str_eq(r.login, "usr?1?");
    v.rule = -1, v.from_block = true;
    evrec_from_verdict(&cfg, &f, &v, false, &r);
    ck_assert_str_eq(r.rule_name, "block");
    ck_assert_uint_eq(r.rule, EVREC_NO_RULE);
}
END_TEST

/* clean_ref - the sanitiser's rule, code point by code point (the walk
 * copy_clean did before its printable-ASCII shortcut) */
static void clean_ref(char *dst, size_t cap, const char *src)
{
    const unsigned char *s = (const unsigned char *) src;
    size_t i = 0, o = 0, u, len = strlen(src);
    uint32_t cp = 0;

    while (i < len && o + 1 < cap) {
	u = log_utf8_len(s + i, len - i, &cp);
	if (u == 0 || log_hostile(cp)) {
	    dst[o++] = '?';
	    i += u ? u : 1;
	    continue;
	}
	if (o + u >= cap)
	    break;
	memcpy(dst + o, s + i, u);
	o += u, i += u;
    }
    dst[o] = 0;
}

/* ok_ref - may a field hold s (valid UTF-8, nothing hostile)? */
static bool ok_ref(const char *s)
{
    size_t i = 0, u, n = strlen(s);
    uint32_t cp;

    for (; i < n; i += u)
	if ((u = log_utf8_len((const unsigned char *) s + i, n - i, &cp)) == 0 || log_hostile(cp))
	    return false;
    return true;
}

/* The shortcut over printable ASCII changes nothing: random logins of
 * ASCII, controls, DEL, UTF-8 (valid, cut short, invalid, bidi, C1) and
 * every length around the field's limit are cleaned as the code point
 * walk cleans them, and a raw one is refused exactly when the walk
 * refuses it. */
START_TEST(test_clean_shortcut_same)
{
    static const char *const piece[] = {
	"a", "Zz9", " ", "~", "\x7f", "\x1f", "\r\n", "\xc3\xb6", "\xc3", "\xff", "\x80",
	"\xe2\x80\xae", "\xc2\x9b", "\xf0\x9f\x98\x80", "\xe2\x80\x8b", "user@example.org",
    };
    struct cfg cfg = {0};
    struct rules_facts f = {0};
    struct rules_verdict v;
    struct evrec r;
    uint8_t buf[EVENT_MAX];
    char login[600], want[EVREC_LOGIN_MAX + 1];
    unsigned seed = 13, i, k;
    size_t n;

    rules_verdict_init(&v);
    snprintf(v.reason, sizeof(v.reason), "x");
    for (i = 0; i < 4000; i++) {
	login[0] = 0;
	for (n = 0, k = rand_r(&seed) % 90; k > 0; k--) {
	    const char *p = piece[rand_r(&seed) % (sizeof(piece) / sizeof(piece[0]))];

	    if (n + strlen(p) >= sizeof(login))
		break;
	    memcpy(login + n, p, strlen(p) + 1);
	    n += strlen(p);
	}
	f.login = login;
	evrec_from_verdict(&cfg, &f, &v, false, &r);
	clean_ref(want, sizeof(want), login);
	ck_assert_msg(strcmp(r.login, want) == 0, "login %u cleaned differently", i);
	ck_assert_uint_gt(evrec_encode(&r, buf, sizeof(buf)), 0);
	if (n <= EVREC_LOGIN_MAX) {	/* a raw login: refused as the walk says */
	    memcpy(r.login, login, n + 1);
	    ck_assert_msg((evrec_encode(&r, buf, sizeof(buf)) > 0) == ok_ref(login),
			  "raw login %u judged differently", i);
	}
    }
}
END_TEST

/* Any one bit changed anywhere, record or MAC, is refused. */
START_TEST(test_tampered)
{
    uint8_t buf[EVENT_MAX];
    struct evrec r, got;
    size_t n, i;

    sample(&r, 7);
    n = dgram(&r, buf, sizeof(buf));
    for (i = 0; i < n; i++) {
	buf[i] ^= 0x10;
	ck_assert_int_ne(event_open(&key, buf, n, &got), EVREC_OK);
	if (i >= 5)
	    ck_assert_int_eq(event_open(&key, buf, n, &got), EVREC_ESIG);
	buf[i] ^= 0x10;
    }
    ck_assert_int_eq(event_open(&key, buf, n, &got), EVREC_OK);
}
END_TEST

START_TEST(test_truncated_oversized_version)
{
    uint8_t buf[EVENT_MAX + 64];
    struct evrec r, got;
    size_t n, i;

    sample(&r, 7);
    n = dgram(&r, buf, sizeof(buf));
    for (i = 0; i < n; i++)	/* every cut is refused, none crashes */
	ck_assert_int_ne(event_open(&key, buf, i, &got), EVREC_OK);
    ck_assert_int_eq(event_open(&key, buf, 40, &got), EVREC_ESHORT);
    ck_assert_int_eq(event_open(&key, buf, n - 1, &got), EVREC_ESIG);
    ck_assert_int_eq(event_open(&key, buf, EVENT_MAX + 1, &got), EVREC_ELONG);
    buf[4] = 2;
    ck_assert_int_eq(event_open(&key, buf, n, &got), EVREC_EVERSION);
    buf[4] = 1, buf[0] = 'X';
    ck_assert_int_eq(event_open(&key, buf, n, &got), EVREC_EMAGIC);
    /* the old text datagram is another format, not a crash */
    ck_assert_int_eq(event_open(&key, (const uint8_t *) "RG1 0123", 8, &got), EVREC_EMAGIC);
}
END_TEST

/* Signed but malformed records (a sender bug, or a leaked key) are still
 * parsed as hostile: the reason tells which field was wrong. */
START_TEST(test_signed_but_bad)
{
    uint8_t buf[EVENT_MAX + 64];
    struct evrec r, got;
    size_t n, len;

    sample(&r, 7);
    n = dgram(&r, buf, sizeof(buf));
    buf[6] = CFG_ACTION_COUNT, reseal(buf, n);	/* action out of range */
    ck_assert_int_eq(event_open(&key, buf, n, &got), EVREC_EFIELD);
    n = dgram(&r, buf, sizeof(buf));
    buf[8] = 0x80, reseal(buf, n);		/* unknown flag */
    ck_assert_int_eq(event_open(&key, buf, n, &got), EVREC_EFIELD);
    n = dgram(&r, buf, sizeof(buf));
    buf[56] = 'i', reseal(buf, n);		/* country not upper case */
    ck_assert_int_eq(event_open(&key, buf, n, &got), EVREC_EFIELD);
    n = dgram(&r, buf, sizeof(buf));
    buf[EVREC_FIXED + 1] = '\n', reseal(buf, n);	/* control byte in node */
    ck_assert_int_eq(event_open(&key, buf, n, &got), EVREC_ESTRING);
    n = dgram(&r, buf, sizeof(buf));
    buf[EVREC_FIXED] = 200, reseal(buf, n);	/* node longer than 64 */
    ck_assert_int_eq(event_open(&key, buf, n, &got), EVREC_ESTRING);
    n = dgram(&r, buf, sizeof(buf));
    buf[EVREC_FIXED] = 250, reseal(buf, n);	/* past the end */
    ck_assert_int_eq(event_open(&key, buf, n, &got), EVREC_ESTRING);
    n = dgram(&r, buf, sizeof(buf));
    buf[EVREC_FIXED + 1] = 0xff, reseal(buf, n);	/* not UTF-8 */
    ck_assert_int_eq(event_open(&key, buf, n, &got), EVREC_ESTRING);
    n = dgram(&r, buf, sizeof(buf));		/* node "mx1..." -> U+009B */
    buf[EVREC_FIXED + 1] = 0xc2, buf[EVREC_FIXED + 2] = 0x9b, reseal(buf, n);
    ck_assert_int_eq(event_open(&key, buf, n, &got), EVREC_ESTRING);
    len = evrec_encode(&r, buf, sizeof(buf));	/* bytes after the strings */
    buf[len] = 'x';
    n = event_seal(&key, buf, len + 1, sizeof(buf));
    ck_assert_int_eq(event_open(&key, buf, n, &got), EVREC_ETRAILING);
    /* a string of exactly the limit passes; encode refuses one longer */
    memset(r.login, 'a', EVREC_LOGIN_MAX);
    r.login[EVREC_LOGIN_MAX] = 0;
    n = dgram(&r, buf, sizeof(buf));
    ck_assert_int_eq(event_open(&key, buf, n, &got), EVREC_OK);
    ck_assert_str_eq(got.login, r.login);
    r.node[0] = '\t';
    ck_assert_uint_eq(evrec_encode(&r, buf, sizeof(buf)), 0);
}
END_TEST

START_TEST(test_other_key)
{
    static const struct event_key other = {.k = "another-key-0123456789abcdef", .len = 28};
    uint8_t buf[EVENT_MAX];
    struct evrec r, got;
    size_t n;

    sample(&r, 7);
    n = dgram(&r, buf, sizeof(buf));
    ck_assert_int_eq(event_open(&other, buf, n, &got), EVREC_ESIG);
}
END_TEST

START_TEST(test_replay)
{
    struct event_replay w;
    struct evrec r;

    event_replay_init(&w, WINDOW_MS);
    sample(&r, 10);
    ck_assert_int_eq(event_replay_check(&w, &r, NOW_MS), EVREC_OK);
    ck_assert_int_eq(event_replay_check(&w, &r, NOW_MS), EVREC_EREPLAY);
    r.seq = 8;			/* late but not seen: accepted once */
    ck_assert_int_eq(event_replay_check(&w, &r, NOW_MS), EVREC_OK);
    ck_assert_int_eq(event_replay_check(&w, &r, NOW_MS), EVREC_EREPLAY);
    r.seq = 10 + EVENT_REPLAY_BITS;
    ck_assert_int_eq(event_replay_check(&w, &r, NOW_MS), EVREC_OK);
    r.seq = 9;			/* now older than the window */
    ck_assert_int_eq(event_replay_check(&w, &r, NOW_MS), EVREC_EREPLAY);
    r.seq = 0;
    ck_assert_int_eq(event_replay_check(&w, &r, NOW_MS), EVREC_EREPLAY);
    /* a restarted milter (new boot id) and another node start afresh */
    r.seq = 1, r.bootid++;
    ck_assert_int_eq(event_replay_check(&w, &r, NOW_MS), EVREC_OK);
    snprintf(r.node, sizeof(r.node), "mx2");
    ck_assert_int_eq(event_replay_check(&w, &r, NOW_MS), EVREC_OK);
    ck_assert_int_eq(event_replay_check(&w, &r, NOW_MS), EVREC_EREPLAY);
}
END_TEST

START_TEST(test_stale)
{
    struct event_replay w;
    struct evrec r;

    event_replay_init(&w, WINDOW_MS);
    sample(&r, 1);
    r.time_ms = (uint64_t) (NOW_MS - WINDOW_MS - 1);
    ck_assert_int_eq(event_replay_check(&w, &r, NOW_MS), EVREC_ESTALE);
    r.time_ms = (uint64_t) (NOW_MS + WINDOW_MS + 1);
    ck_assert_int_eq(event_replay_check(&w, &r, NOW_MS), EVREC_ESTALE);
    r.time_ms = UINT64_MAX;
    ck_assert_int_eq(event_replay_check(&w, &r, NOW_MS), EVREC_ESTALE);
    r.time_ms = (uint64_t) (NOW_MS - WINDOW_MS);
    ck_assert_int_eq(event_replay_check(&w, &r, NOW_MS), EVREC_OK);
}
END_TEST

/* write_key - a key file with mode m; its path */
static const char *write_key(mode_t m)
{
    static char path[] = "/tmp/check_event_keyXXXXXX";
    int fd;

    strcpy(path + strlen(path) - 6, "XXXXXX");
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "0123456789abcdef0123\n", 21), 21);
    close(fd);
    ck_assert_int_eq(chmod(path, m), 0);
    return path;
}

START_TEST(test_key_mode)
{
    struct event_key k;
    char err[256];
    const char *p;

    p = write_key(0600);
    ck_assert_int_eq(event_key_load(p, &k, err, sizeof(err)), EVENT_OK);
    ck_assert_uint_eq(k.len, 20);
    unlink(p);
    p = write_key(0640);	/* group-readable: refused */
    ck_assert_int_eq(event_key_load(p, &k, err, sizeof(err)), EVENT_EKEY);
    ck_assert_ptr_nonnull(strstr(err, "chmod 0600"));
    ck_assert_ptr_nonnull(strstr(err, "0640"));
    unlink(p);
    p = write_key(0604);
    ck_assert_int_eq(event_key_load(p, &k, err, sizeof(err)), EVENT_EKEY);
    unlink(p);
    p = write_key(0400);
    ck_assert_int_eq(event_key_load(p, &k, err, sizeof(err)), EVENT_OK);
    unlink(p);
}
END_TEST

/* The MAC is HMAC-SHA256 under the key given, also when the keys
 * alternate (each thread keeps a context keyed with the last one). */
START_TEST(test_mac_known)
{
    struct event_key k2 = key;
    const struct event_key *ks[] = {&key, &k2, &key, &k2};
    uint8_t buf[64], want[32];
    unsigned int wl = 0;
    size_t i;

    k2.k[0] ^= 1;
    k2.len = key.len - 1;
    for (i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
	memset(buf, (int) i, 20);
	ck_assert_uint_eq(event_seal(ks[i], buf, 20, sizeof(buf)), 20 + EVREC_MAC_LEN);
	HMAC(EVP_sha256(), ks[i]->k, (int) ks[i]->len, buf, 20, want, &wl);
	ck_assert_uint_eq(wl, EVREC_MAC_LEN);
	ck_assert(memcmp(buf + 20, want, EVREC_MAC_LEN) == 0);
    }
}
END_TEST

/* batch - a batch datagram of the records seqs[0..n) (sample's), each
 * sealed on its own; its length */
static size_t batch(const uint64_t *seqs, size_t n, uint8_t *out, size_t cap)
{
    size_t o = event_batch_head(out, n), l, i;
    struct evrec r;

    ck_assert_uint_eq(o, EVBATCH_HEAD);
    for (i = 0; i < n; i++) {
	sample(&r, seqs[i]);
	l = dgram(&r, out + o + EVBATCH_LEN_SIZE, cap - o - EVBATCH_LEN_SIZE);
	out[o] = (uint8_t) (l >> 8), out[o + 1] = (uint8_t) l;
	o += EVBATCH_LEN_SIZE + l;
    }
    return o;
}

/* split_status - event_batch_split's verdict on buf */
static enum evrec_status split_status(const uint8_t *buf, size_t len)
{
    struct event_span rec[EVBATCH_RECORDS_MAX];
    size_t n = 99;
    enum evrec_status s = event_batch_split(buf, len, rec, EVBATCH_RECORDS_MAX, &n);

    if (s != EVREC_OK)
	ck_assert_uint_eq(n, 0);	/* nothing of a refused batch */
    return s;
}

/* A batch of three records: split into three that each verify, in
 * order; the replay window still judges each record (a batch sent again
 * is three replays), and a record tampered with fails alone. */
START_TEST(test_batch_round_trip)
{
    static uint8_t buf[EVBATCH_MAX];
    const uint64_t seqs[3] = {5, 6, 7};
    struct event_span rec[EVBATCH_RECORDS_MAX];
    struct event_replay w;
    struct evrec r;
    size_t len = batch(seqs, 3, buf, sizeof(buf)), n, i;

    ck_assert(event_is_batch(buf, len));
    ck_assert_int_eq(event_batch_split(buf, len, rec, EVBATCH_RECORDS_MAX, &n), EVREC_OK);
    ck_assert_uint_eq(n, 3);
    event_replay_init(&w, WINDOW_MS);
    for (i = 0; i < n; i++) {
	ck_assert_int_eq(event_open(&key, rec[i].p, rec[i].len, &r), EVREC_OK);
	ck_assert_uint_eq(r.seq, seqs[i]);
	ck_assert_int_eq(event_replay_check(&w, &r, NOW_MS), EVREC_OK);
    }
    for (i = 0; i < n; i++) {		/* the same batch again */
	ck_assert_int_eq(event_open(&key, rec[i].p, rec[i].len, &r), EVREC_OK);
	ck_assert_int_eq(event_replay_check(&w, &r, NOW_MS), EVREC_EREPLAY);
    }
    buf[(size_t) (rec[1].p - buf) + 40] ^= 1;	/* inside the second record */
    ck_assert_int_eq(event_batch_split(buf, len, rec, EVBATCH_RECORDS_MAX, &n), EVREC_OK);
    ck_assert_int_eq(event_open(&key, rec[0].p, rec[0].len, &r), EVREC_OK);
    ck_assert_int_eq(event_open(&key, rec[1].p, rec[1].len, &r), EVREC_ESIG);
    ck_assert_int_eq(event_open(&key, rec[2].p, rec[2].len, &r), EVREC_OK);
    ck_assert_uint_eq(event_batch_head(buf, 0), 0);
    ck_assert_uint_eq(event_batch_head(buf, EVBATCH_RECORDS_MAX + 1), 0);
}
END_TEST

/* Bad framing refuses the whole datagram: truncated anywhere (in a
 * record, in a length, after the header), a count of 0, over the limit
 * or over what follows, a length of 0 or over EVENT_MAX, a byte after
 * the last record, a reserved byte set, oversized; another batch
 * version is "version". A record's own defects are not the framing's. */
START_TEST(test_batch_bad_framing)
{
    static uint8_t buf[EVBATCH_MAX + 16], b2[EVBATCH_MAX + 16];
    const uint64_t seqs[3] = {1, 2, 3};
    struct event_span rec[EVBATCH_RECORDS_MAX];
    size_t len = batch(seqs, 3, buf, sizeof(buf)), cut, n;

    ck_assert_int_eq(split_status(buf, len), EVREC_OK);
    for (cut = 0; cut < len; cut++)	/* every truncation */
	ck_assert_int_eq(split_status(buf, cut), EVREC_EBATCH);
    memcpy(b2, buf, len);
    b2[len] = 0;
    ck_assert_int_eq(split_status(b2, len + 1), EVREC_EBATCH);	/* trailing */
    memcpy(b2, buf, len), b2[7] = 0;
    ck_assert_int_eq(split_status(b2, len), EVREC_EBATCH);	/* count 0 */
    memcpy(b2, buf, len), b2[7] = 4;
    ck_assert_int_eq(split_status(b2, len), EVREC_EBATCH);	/* count > records */
    memcpy(b2, buf, len), b2[7] = 2;
    ck_assert_int_eq(split_status(b2, len), EVREC_EBATCH);	/* count < records */
    memcpy(b2, buf, len), b2[6] = 0xff;
    ck_assert_int_eq(split_status(b2, len), EVREC_EBATCH);	/* over the limit */
    memcpy(b2, buf, len), b2[5] = 1;
    ck_assert_int_eq(split_status(b2, len), EVREC_EBATCH);	/* reserved */
    memcpy(b2, buf, len), b2[EVBATCH_HEAD] = 0, b2[EVBATCH_HEAD + 1] = 0;
    ck_assert_int_eq(split_status(b2, len), EVREC_EBATCH);	/* length 0 */
    memcpy(b2, buf, len), b2[EVBATCH_HEAD] = 0xff;
    ck_assert_int_eq(split_status(b2, len), EVREC_EBATCH);	/* length > EVENT_MAX */
    memcpy(b2, buf, len), b2[4] = 2;
    ck_assert_int_eq(split_status(b2, len), EVREC_EVERSION);
    ck_assert_int_eq(split_status(buf, EVBATCH_MAX + 1), EVREC_EBATCH);	/* oversized */
    ck_assert_int_eq(event_batch_split(buf, len, rec, 2, &n), EVREC_EBATCH);	/* over max */
    memcpy(b2, buf, len), memcpy(b2 + EVBATCH_HEAD + EVBATCH_LEN_SIZE, "RGEB", 4);
    ck_assert_int_eq(split_status(b2, len), EVREC_OK);	/* a record's defect */
    ck_assert_int_eq(event_batch_split(b2, len, rec, EVBATCH_RECORDS_MAX, &n), EVREC_OK);
    ck_assert_int_eq(event_open(&key, rec[0].p, rec[0].len, &(struct evrec) {0}),
		     EVREC_EMAGIC);
    ck_assert_str_eq(evrec_status_name(EVREC_EBATCH), "batch");
}
END_TEST
/* event_suite - every case above */
static Suite *event_suite(void)
{
    Suite *s = suite_create("event");
    TCase *tc = tcase_create("event");

    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_from_verdict);
    tcase_add_test(tc, test_clean_shortcut_same);
    tcase_add_test(tc, test_tampered);
    tcase_add_test(tc, test_truncated_oversized_version);
    tcase_add_test(tc, test_signed_but_bad);
    tcase_add_test(tc, test_other_key);
    tcase_add_test(tc, test_replay);
    tcase_add_test(tc, test_stale);
    tcase_add_test(tc, test_key_mode);
    tcase_add_test(tc, test_batch_round_trip);
    tcase_add_test(tc, test_batch_bad_framing);
    tcase_add_test(tc, test_mac_known);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(event_suite());
}
