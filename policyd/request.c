/*
 * request - the Postfix policy delegation protocol, request side.
 *
 * Contract: request_parse looks at the bytes a connection has buffered
 * and either parses one whole request (up to and including its empty
 * line, *used bytes), asks for more, or says the input is bad; the
 * caller then closes the connection and Postfix applies its
 * smtpd_policy_service_default_action. A request over REQUEST_BYTES_MAX
 * (its empty line included) is bad even before its end arrives, so a
 * client that never sends the empty line cannot make us buffer more.
 * Attributes outside the set Postfix (3.x) sends are counted, the first
 * one's name kept, and otherwise ignored: the caller decides (Postfix
 * adds new ones over time). Known ones are copied, cut to their field.
 * Pure: no I/O, no allocation, no logging; reentrant.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"

#define FIELD(name) {#name, offsetof(struct request, name), sizeof(((struct request *) 0)->name)}

/* Known text attributes: name, where and how big. */
static const struct field {
    const char *name;
    size_t off, len;
} fields[] = {
    FIELD(request), FIELD(protocol_state), FIELD(instance), FIELD(queue_id),
    FIELD(client_address), FIELD(sasl_username), FIELD(sender),
    FIELD(recipient), FIELD(helo_name),
};

/* Every attribute name Postfix's smtpd sends (SMTPD_POLICY_README). */
static const char *const postfix_names[] = {
    "request", "protocol_state", "protocol_name", "helo_name", "queue_id",
    "sender", "recipient", "recipient_count", "client_address",
    "client_name", "reverse_client_name", "instance", "sasl_method",
    "sasl_username", "sasl_sender", "size", "ccert_subject", "ccert_issuer",
    "ccert_fingerprint", "ccert_pubkey_fingerprint", "encryption_protocol",
    "encryption_cipher", "encryption_keysize", "etrn_domain", "stress",
    "client_port", "policy_context", "server_address", "server_port",
    "compatibility_level", "mail_version",
};

/* postfix_name - is name[0..nlen) one Postfix sends? */
static int postfix_name(const char *name, size_t nlen)
{
    size_t i;

    for (i = 0; i < sizeof(postfix_names) / sizeof(postfix_names[0]); i++)
	if (strlen(postfix_names[i]) == nlen
	    && memcmp(postfix_names[i], name, nlen) == 0)
	    return 1;
    return 0;
}

/* note_unknown - count an unknown attribute, keep the first name */
static void note_unknown(struct request *r, const char *name, size_t nlen)
{
    size_t i;

    if (r->unknown++ > 0)
	return;
    for (i = 0; i < nlen && i + 1 < sizeof(r->unknown_name); i++)
	r->unknown_name[i] = name[i] > 0x20 && name[i] < 0x7f ? name[i] : '?';
    r->unknown_name[i] = 0;
}

/* put_number - a decimal attribute; non-numbers and overflows give 0 */
static uint64_t put_number(const char *v, size_t vlen)
{
    uint64_t n = 0;
    size_t i;

    for (i = 0; i < vlen; i++) {
	if (v[i] < '0' || v[i] > '9' || n > (UINT64_MAX - 9) / 10)
	    return 0;
	n = n * 10 + (uint64_t) (v[i] - '0');
    }
    return n;
}

/* store - copy one attribute into its field when it is a known one */
static void store(struct request *r, const char *name, size_t nlen,
		  const char *v, size_t vlen)
{
    size_t i, n;
    char *dst;

    if (!postfix_name(name, nlen)) {
	note_unknown(r, name, nlen);
	return;
    }
    if (nlen == 4 && memcmp(name, "size", 4) == 0) {
	r->size = put_number(v, vlen);
	return;
    }
    if (nlen == 15 && memcmp(name, "recipient_count", 15) == 0) {
	n = (size_t) put_number(v, vlen);
	r->recipient_count = n > UINT32_MAX ? UINT32_MAX : (uint32_t) n;
	return;
    }
    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
	if (strlen(fields[i].name) != nlen || memcmp(fields[i].name, name, nlen))
	    continue;
	dst = (char *) r + fields[i].off;
	n = vlen < fields[i].len - 1 ? vlen : fields[i].len - 1;
	memcpy(dst, v, n);
	dst[n] = 0;
	return;
    }
}

/* fail - a bad request: the status and its detail */
static enum request_status fail(enum request_status s, unsigned line,
				char *err, size_t errlen)
{
    snprintf(err, errlen, "line %u: %s", line, request_status_name(s));
    return s;
}

/* request_parse - one request from buf[0..len); see the module comment */
enum request_status request_parse(const char *buf, size_t len,
				  struct request *r, size_t *used,
				  char *err, size_t errlen)
{
    size_t pos = 0, llen;
    const char *nl, *eq;

    memset(r, 0, sizeof(*r));
    *used = 0;
    for (;;) {
	nl = memchr(buf + pos, '\n', len - pos);
	llen = nl ? (size_t) (nl - (buf + pos)) + 1 : len - pos;
	if (llen > REQUEST_LINE_MAX)
	    return fail(REQUEST_LINE_LONG, r->attrs + 1, err, errlen);
	if (pos + llen >= REQUEST_BYTES_MAX && !(nl && llen == 1))
	    return fail(REQUEST_TOO_BIG, r->attrs + 1, err, errlen);
	if (nl == NULL)
	    return REQUEST_MORE;
	if (llen == 1) {	/* the empty line ends the request */
	    *used = pos + 1;
	    return REQUEST_OK;
	}
	if (++r->attrs > REQUEST_ATTR_MAX)
	    return fail(REQUEST_TOO_MANY, r->attrs, err, errlen);
	eq = memchr(buf + pos, '=', llen - 1);
	if (eq == NULL || eq == buf + pos || memchr(buf + pos, 0, llen - 1))
	    return fail(REQUEST_SYNTAX, r->attrs, err, errlen);
	store(r, buf + pos, (size_t) (eq - (buf + pos)), eq + 1,
	      (size_t) (nl - eq - 1));
	pos += llen;
    }
}

/* request_status_name - what a status means, for the log */
const char *request_status_name(enum request_status s)
{
    static const char *const names[] = {
	[REQUEST_OK] = "ok", [REQUEST_MORE] = "incomplete request",
	[REQUEST_LINE_LONG] = "line too long",
	[REQUEST_TOO_MANY] = "too many attributes",
	[REQUEST_SYNTAX] = "not a name=value line",
	[REQUEST_TOO_BIG] = "request too big",
    };

    return (unsigned) s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}
