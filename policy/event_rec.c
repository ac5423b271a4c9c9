/*
 * event_rec - build, encode and decode the event record (layout in
 * event_rec.h).
 *
 * Contract: pure functions, thread-safe, no I/O. evrec_from_verdict
 * copies SMTP-supplied strings cut to their field's size with control
 * bytes replaced by '?', so evrec_encode of its result always succeeds.
 * evrec_decode checks every length and range before it copies a byte.
 */
#include <stddef.h>
#include <string.h>

#include "event_rec.h"
#include "log.h"

#define MAGIC_LEN 4
#define NSTRINGS 5

/* ascii_run - how many bytes from s on are printable ASCII (0x20..0x7e):
 * never hostile, each its own code point, so the sanitiser's per-code-
 * point walk can skip them (logins, queue ids and rule names are ASCII;
 * the walk cost a message ~1,500 instructions on the mail thread) */
static size_t ascii_run(const uint8_t *s, size_t n)
{
    size_t i = 0;

    while (i < n && s[i] >= 0x20 && s[i] < 0x7f)
	i++;
    return i;
}

/* str_ok - may a string field hold these bytes? Valid UTF-8 without a
 * code point the log's sanitiser calls hostile (controls, bidi and
 * zero-width characters), so every reader (SQL, JSON, a terminal) can
 * take it as it is */
static bool str_ok(const uint8_t *s, size_t n)
{
    size_t i = 0, u;
    uint32_t cp;

    while ((i += ascii_run(s + i, n - i)) < n) {
	if ((u = log_utf8_len(s + i, n - i, &cp)) == 0 || log_hostile(cp))
	    return false;
	i += u;
    }
    return true;
}

/* copy_clean - a bounded copy: invalid UTF-8 and hostile code points
 * become '?' (as in the log, but without its quoting), and a character
 * the limit would cut is left out whole; the length copied */
static size_t copy_clean(char *dst, size_t cap, const char *src)
{
    const unsigned char *s = (const unsigned char *) src;
    size_t i = 0, o = 0, u, len = src ? strlen(src) : 0;
    uint32_t cp = 0;

    while (i < len && o + 1 < cap) {
	if ((u = ascii_run(s + i, len - i)) > 0) {	/* copied as it is */
	    u = u < cap - 1 - o ? u : cap - 1 - o;
	    memcpy(dst + o, s + i, u);
	    o += u, i += u;
	    continue;
	}
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
    return o;
}

/* put_str - a cleaned string at p (its bytes and a NUL, at most max
 * bytes before it); past it */
static uint8_t *put_str(uint8_t *p, uint16_t *len, const char *src, size_t max)
{
    *len = (uint16_t) copy_clean((char *) p, max + 1, src);
    return p + *len + 1;
}

/* evrec_capture - what a mail thread keeps of one verdict for the sender
 * thread: the record's fields as evrec_from_verdict takes them, the
 * strings already cleaned (~150 bytes, where a struct evrec is ~800 and
 * its encoding ~200 more); its length (<= EVREC_CAPTURE_MAX), 0 when cap
 * is too small */
size_t evrec_capture(const struct cfg *cfg, const struct rules_facts *f,
		     const struct rules_verdict *v, bool dry_run, uint64_t seq,
		     uint64_t time_ms, uint8_t *out, size_t cap)
{
    struct evrec_cap c;
    uint8_t *p = out + sizeof(c);

    if (cap < EVREC_CAPTURE_MAX)
	return 0;
    memset(&c, 0, sizeof(c));
    c.seq = seq, c.time_ms = time_ms;
    c.rule = v->rule >= 0 && (size_t) v->rule < cfg->policy.nrules ? v->rule : -1;
    c.phase = (uint8_t) f->phase, c.action = (uint8_t) v->action, c.cls = (uint8_t) v->cls;
    c.flags = (uint8_t) ((dry_run ? EVREC_F_DRY_RUN : 0)
			 | (v->from_block ? EVREC_F_FROM_BLOCK : 0)
			 | (v->block_set ? EVREC_F_BLOCK_SET : 0)
			 | (f->rogue_listed ? EVREC_F_ROGUE_LISTED : 0));
    c.client = f->client;
    c.asn = f->geo.asn;
    if (f->geo.cc[0] >= 'A' && f->geo.cc[0] <= 'Z' && f->geo.cc[1] >= 'A'
	&& f->geo.cc[1] <= 'Z')
	memcpy(c.cc, f->geo.cc, 2);
    c.rcpts = f->rcpts, c.bytes = f->bytes, c.block_until = v->block_until;
    p = put_str(p, &c.login_len, f->login, EVREC_LOGIN_MAX);
    p = put_str(p, &c.qid_len, f->qid, EVREC_QID_MAX);
    p = put_str(p, &c.reason_len, v->reason, EVREC_REASON_MAX);
    memcpy(out, &c, sizeof(c));
    return (size_t) (p - out);
}

/* get_str - a captured string into dst (cap bytes); past it, NULL when
 * it does not fit what is left */
static const uint8_t *get_str(const uint8_t *p, const uint8_t *end, uint16_t len,
			      char *dst, size_t cap)
{
    if (len >= cap || (size_t) (end - p) < (size_t) len + 1)
	return NULL;
    memcpy(dst, p, len);
    dst[len] = 0;
    return p + len + 1;
}

/* evrec_from_capture - the record of a captured verdict (with its
 * sequence and time; no boot id or node), the rule's name from cfg,
 * which must be the configuration it was captured with; false when the
 * capture is cut short */
bool evrec_from_capture(const struct cfg *cfg, const uint8_t *in, size_t len, struct evrec *r)
{
    const uint8_t *p = in + sizeof(struct evrec_cap), *end = in + len;
    struct evrec_cap c;

    memset(r, 0, sizeof(*r));
    if (len < sizeof(c))
	return false;
    memcpy(&c, in, sizeof(c));
    r->version = EVREC_VERSION;
    r->phase = c.phase, r->action = c.action, r->cls = c.cls, r->flags = c.flags;
    r->rule = c.rule >= 0 && c.rule < EVREC_NO_RULE ? (uint16_t) c.rule : EVREC_NO_RULE;
    r->seq = c.seq, r->time_ms = c.time_ms;
    r->client = c.client;
    r->asn = c.asn;
    memcpy(r->cc, c.cc, 2);
    r->rcpts = c.rcpts, r->bytes = c.bytes, r->block_until = c.block_until;
    copy_clean(r->rule_name, sizeof(r->rule_name), c.rule >= 0
	       ? cfg->policy.rules[c.rule].name : (c.flags & EVREC_F_FROM_BLOCK) ? "block" : "");
    return (p = get_str(p, end, c.login_len, r->login, sizeof(r->login))) != NULL
	&& (p = get_str(p, end, c.qid_len, r->qid, sizeof(r->qid))) != NULL
	&& get_str(p, end, c.reason_len, r->reason, sizeof(r->reason)) != NULL;
}

/* evrec_from_verdict - the record of one verdict: its capture, read back */
void evrec_from_verdict(const struct cfg *cfg, const struct rules_facts *f,
			const struct rules_verdict *v, bool dry_run, struct evrec *r)
{
    uint8_t b[EVREC_CAPTURE_MAX];

    evrec_from_capture(cfg, b, evrec_capture(cfg, f, v, dry_run, 0, 0, b, sizeof(b)), r);
}

/* put_be - n bytes of v, big-endian */
static void put_be(uint8_t *p, uint64_t v, int n)
{
    while (n-- > 0) {
	p[n] = (uint8_t) v;
	v >>= 8;
    }
}

/* get_be - n bytes big-endian */
static uint64_t get_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    int i;

    for (i = 0; i < n; i++)
	v = v << 8 | p[i];
    return v;
}

/* The string fields in wire order: where each lives and its limit. */
static const struct {
    size_t off, max;
} str_fields[NSTRINGS] = {
    {offsetof(struct evrec, node), EVREC_NODE_MAX},
    {offsetof(struct evrec, rule_name), EVREC_RULE_MAX},
    {offsetof(struct evrec, login), EVREC_LOGIN_MAX},
    {offsetof(struct evrec, qid), EVREC_QID_MAX},
    {offsetof(struct evrec, reason), EVREC_REASON_MAX},
};

/* fields_ok - enums, flags and country in range */
static bool fields_ok(const struct evrec *r)
{
    bool cc_none = r->cc[0] == 0 && r->cc[1] == 0;
    bool cc_ok = r->cc[0] >= 'A' && r->cc[0] <= 'Z' && r->cc[1] >= 'A' && r->cc[1] <= 'Z';

    return r->phase <= RULES_PHASE_EOM && r->action < CFG_ACTION_COUNT
	&& r->cls <= RULES_CLASS_TRUSTED && (r->flags & ~EVREC_F_ALL) == 0
	&& (cc_none || cc_ok);
}

/* evrec_encode - the record's bytes, without MAC */
size_t evrec_encode(const struct evrec *r, uint8_t *out, size_t outlen)
{
    size_t o = EVREC_FIXED, n;
    const char *s;
    int i;

    if (r->version != EVREC_VERSION || !fields_ok(r) || outlen < EVREC_FIXED)
	return 0;
    memcpy(out, EVREC_MAGIC, MAGIC_LEN);
    out[4] = r->version, out[5] = r->phase, out[6] = r->action;
    out[7] = r->cls, out[8] = r->flags, out[9] = 0;
    put_be(out + 10, r->rule, 2);
    put_be(out + 12, r->bootid, 8);
    put_be(out + 20, r->seq, 8);
    put_be(out + 28, r->time_ms, 8);
    memcpy(out + 36, r->client.b, 16);
    put_be(out + 52, r->asn, 4);
    out[56] = (uint8_t) r->cc[0], out[57] = (uint8_t) r->cc[1];
    put_be(out + 58, r->rcpts, 4);
    put_be(out + 62, r->bytes, 8);
    put_be(out + 70, r->block_until, 4);
    for (i = 0; i < NSTRINGS; i++) {
	s = (const char *) r + str_fields[i].off;
	n = strnlen(s, str_fields[i].max + 1);
	if (n > str_fields[i].max || o + 1 + n > outlen || !str_ok((const uint8_t *) s, n))
	    return 0;
	out[o++] = (uint8_t) n;
	memcpy(out + o, s, n);
	o += n;
    }
    return o;
}

/* decode_fixed - the fixed part; its status */
static enum evrec_status decode_fixed(const uint8_t *b, struct evrec *r)
{
    if (memcmp(b, EVREC_MAGIC, MAGIC_LEN) != 0)
	return EVREC_EMAGIC;
    if (b[4] != EVREC_VERSION)
	return EVREC_EVERSION;
    r->version = b[4], r->phase = b[5], r->action = b[6], r->cls = b[7], r->flags = b[8];
    r->rule = (uint16_t) get_be(b + 10, 2);
    r->bootid = get_be(b + 12, 8);
    r->seq = get_be(b + 20, 8);
    r->time_ms = get_be(b + 28, 8);
    memcpy(r->client.b, b + 36, 16);
    r->asn = (uint32_t) get_be(b + 52, 4);
    r->cc[0] = (char) b[56], r->cc[1] = (char) b[57], r->cc[2] = 0;
    r->rcpts = (uint32_t) get_be(b + 58, 4);
    r->bytes = get_be(b + 62, 8);
    r->block_until = (uint32_t) get_be(b + 70, 4);
    if (b[9] != 0 || !fields_ok(r))
	return EVREC_EFIELD;
    return EVREC_OK;
}

/* evrec_decode - parse the record part of a datagram */
enum evrec_status evrec_decode(const uint8_t *buf, size_t len, struct evrec *r)
{
    size_t o = EVREC_FIXED, n;
    enum evrec_status st;
    char *s;
    int i;

    memset(r, 0, sizeof(*r));
    if (len < EVREC_FIXED)
	return EVREC_ESHORT;
    if (len > EVREC_MAX - EVREC_MAC_LEN)
	return EVREC_ELONG;
    if ((st = decode_fixed(buf, r)) != EVREC_OK)
	return st;
    for (i = 0; i < NSTRINGS; i++) {
	if (o >= len)
	    return EVREC_ESTRING;
	n = buf[o++];
	if (n > str_fields[i].max || n > len - o || !str_ok(buf + o, n))
	    return EVREC_ESTRING;
	s = (char *) r + str_fields[i].off;
	memcpy(s, buf + o, n);
	s[n] = 0;
	o += n;
    }
    if (!r->cc[0])
	r->cc[1] = 0;
    return o == len ? EVREC_OK : EVREC_ETRAILING;
}

/* evrec_status_name - a refusal reason as counted and logged */
const char *evrec_status_name(enum evrec_status s)
{
    static const char *const names[EVREC_NSTATUS] = {
	[EVREC_OK] = "ok", [EVREC_ESHORT] = "short", [EVREC_ELONG] = "long",
	[EVREC_EMAGIC] = "magic", [EVREC_EVERSION] = "version",
	[EVREC_ESIG] = "signature", [EVREC_EFIELD] = "field",
	[EVREC_ESTRING] = "string", [EVREC_ETRAILING] = "trailing",
	[EVREC_EREPLAY] = "replay", [EVREC_ESTALE] = "stale",
	[EVREC_EBATCH] = "batch",
    };

    return (unsigned) s < EVREC_NSTATUS ? names[s] : "?";
}
