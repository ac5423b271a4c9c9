/*
 * jread - a small, strict JSON reader (RFC 8259) for what the MTA tools
 * print: postqueue -j writes one object per line.
 *
 * Contract: jread_parse takes untrusted bytes and returns a tree owned by
 * the caller (jread_free), or NULL with the reason and offset in err.
 * Nesting is bounded (JREAD_DEPTH_MAX), so is the number of values
 * (JREAD_NODES_MAX); trailing bytes other than white space are an error.
 * Strings are decoded to UTF-8; \u0000, lone surrogates and invalid
 * UTF-8 in the input become U+FFFD, so every string is a C string with
 * no embedded NUL. Never logs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jread.h"
#include "log.h"

#define NUM_TEXT_MAX 64		/* longest number we accept */
#define HEX_DIGITS 4
#define SURR_HI_MIN 0xd800u
#define SURR_LO_MIN 0xdc00u
#define SURR_LO_MAX 0xdfffu
#define REPLACEMENT_CP 0xfffdu

struct parser {
    const char *p, *end, *start;
    int depth;
    size_t nodes;
    const char *err;
};

static struct jread_val *parse_value(struct parser *ps);

/* fail - note the first error */
static struct jread_val *fail(struct parser *ps, const char *what)
{
    if (ps->err == NULL)
	ps->err = what;
    return NULL;
}

/* skip_ws - past JSON white space */
static void skip_ws(struct parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'
			       || *ps->p == '\n' || *ps->p == '\r'))
	ps->p++;
}

/* node - a new value, counted against the bound */
static struct jread_val *node(struct parser *ps, enum jread_type t)
{
    struct jread_val *v;

    if (++ps->nodes > JREAD_NODES_MAX)
	return fail(ps, "too many values");
    if ((v = calloc(1, sizeof(*v))) == NULL)
	return fail(ps, "out of memory");
    v->type = t;
    return v;
}

/* put_utf8 - encode a code point */
static size_t put_utf8(uint32_t cp, char *o)
{
    if (cp < 0x80) {
	o[0] = (char) cp;
	return 1;
    }
    if (cp < 0x800) {
	o[0] = (char) (0xc0 | cp >> 6);
	o[1] = (char) (0x80 | (cp & 0x3f));
	return 2;
    }
    if (cp < 0x10000) {
	o[0] = (char) (0xe0 | cp >> 12);
	o[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
	o[2] = (char) (0x80 | (cp & 0x3f));
	return 3;
    }
    o[0] = (char) (0xf0 | cp >> 18);
    o[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char) (0x80 | (cp & 0x3f));
    return 4;
}

/* hex4 - four hex digits at p; -1 if not */
static long hex4(const char *p, const char *end)
{
    long v = 0;

    if (end - p < HEX_DIGITS)
	return -1;
    for (int i = 0; i < HEX_DIGITS; i++) {
	char c = p[i];
	int d = c >= '0' && c <= '9' ? c - '0'
	    : c >= 'a' && c <= 'f' ? c - 'a' + 10
	    : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

	if (d < 0)
	    return -1;
	v = v * 16 + d;
    }
    return v;
}

/* unicode_escape - after "\u": one code point (pairs joined) */
static uint32_t unicode_escape(struct parser *ps)
{
    long hi = hex4(ps->p, ps->end), lo;

    if (hi < 0) {
	fail(ps, "bad \\u escape");
	return 0;
    }
    ps->p += HEX_DIGITS;
    if (hi == 0 || (hi >= SURR_LO_MIN && hi <= SURR_LO_MAX))
	return REPLACEMENT_CP;
    if (hi < SURR_HI_MIN || hi >= SURR_LO_MIN)
	return (uint32_t) hi;
    if (ps->end - ps->p < 2 + HEX_DIGITS || ps->p[0] != '\\'
	|| ps->p[1] != 'u'
	|| (lo = hex4(ps->p + 2, ps->end)) < (long) SURR_LO_MIN
	|| lo > (long) SURR_LO_MAX)
	return REPLACEMENT_CP;	/* lone high surrogate */
    ps->p += 2 + HEX_DIGITS;
    return 0x10000u + (((uint32_t) hi - SURR_HI_MIN) << 10)
	+ ((uint32_t) lo - SURR_LO_MIN);
}

/* simple_escape - the byte a one-letter escape stands for, or -1 */
static int simple_escape(char c)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *f = c ? strchr(from, c) : NULL;

    return f ? to[f - from] : -1;
}

/* parse_string - after the opening quote; a malloc'd UTF-8 string */
static char *parse_string(struct parser *ps, size_t *outlen)
{
    const char *q = ps->p;
    size_t o = 0;
    char *s;

    while (q < ps->end && *q != '"')
	q += *q == '\\' ? 2 : 1;
    if (q > ps->end)
	q = ps->end;
    /* decoded text is never longer than 3 bytes per input byte */
    s = malloc((size_t) (q - ps->p) * 3 + 1);

    if (s == NULL)
	return fail(ps, "out of memory"), NULL;
    while (ps->p < ps->end && *ps->p != '"') {
	unsigned char c = (unsigned char) *ps->p;
	uint32_t cp;
	size_t n;

	if (c < 0x20)
	    goto bad;
	if (c == '\\') {
	    int e = ps->p + 1 < ps->end ? simple_escape(ps->p[1]) : -1;

	    if (ps->p + 1 < ps->end && ps->p[1] == 'u') {
		ps->p += 2;
		o += put_utf8(unicode_escape(ps), s + o);
		if (ps->err)
		    goto bad;
		continue;
	    }
	    if (e < 0)
		goto bad;
	    s[o++] = (char) e;
	    ps->p += 2;
	    continue;
	}
	n = log_utf8_len((const unsigned char *) ps->p,
			 (size_t) (ps->end - ps->p), &cp);
	if (n == 0) {
	    o += put_utf8(REPLACEMENT_CP, s + o);
	    ps->p++;
	    continue;
	}
	memcpy(s + o, ps->p, n);
	o += n;
	ps->p += n;
    }
    if (ps->p >= ps->end)
	goto bad;
    ps->p++;
    s[o] = '\0';
    *outlen = o;
    return s;
  bad:
    free(s);
    fail(ps, "bad string");
    return NULL;
}

/* parse_number - the JSON number grammar, then strtod/strtoll */
static struct jread_val *parse_number(struct parser *ps)
{
    const char *q = ps->p;
    char text[NUM_TEXT_MAX + 1];
    struct jread_val *v;
    int is_int = 1;
    size_t n;

#define DIGITS(q) while ((q) < ps->end && *(q) >= '0' && *(q) <= '9') (q)++
    if (q < ps->end && *q == '-')
	q++;
    if (q < ps->end && *q == '0')
	q++;
    else if (q < ps->end && *q >= '1' && *q <= '9')
	DIGITS(q);
    else
	return fail(ps, "bad number");
    if (q < ps->end && *q == '.') {
	const char *d = ++q;

	DIGITS(q);
	if (q == d)
	    return fail(ps, "bad number");
	is_int = 0;
    }
    if (q < ps->end && (*q == 'e' || *q == 'E')) {
	const char *d;

	q++;
	if (q < ps->end && (*q == '+' || *q == '-'))
	    q++;
	d = q;
	DIGITS(q);
	if (q == d)
	    return fail(ps, "bad number");
	is_int = 0;
    }
#undef DIGITS
    if ((n = (size_t) (q - ps->p)) > NUM_TEXT_MAX)
	return fail(ps, "number too long");
    memcpy(text, ps->p, n);
    text[n] = '\0';
    ps->p = q;
    if ((v = node(ps, JREAD_NUM)) == NULL)
	return NULL;
    v->num = strtod(text, NULL);
    errno = 0;
    if (is_int) {
	v->inum = strtoll(text, NULL, 10);
	v->is_int = errno == 0;
    }
    return v;
}

/* parse_literal - true, false, null */
static struct jread_val *parse_literal(struct parser *ps)
{
    static const struct {
	const char *text;
	enum jread_type t;
	bool b;
    } lits[] = { {"true", JREAD_BOOL, true}, {"false", JREAD_BOOL, false},
		 {"null", JREAD_NULL, false} };

    for (size_t i = 0; i < sizeof(lits) / sizeof(lits[0]); i++) {
	size_t n = strlen(lits[i].text);
	struct jread_val *v;

	if ((size_t) (ps->end - ps->p) >= n
	    && memcmp(ps->p, lits[i].text, n) == 0) {
	    ps->p += n;
	    if ((v = node(ps, lits[i].t)) != NULL)
		v->b = lits[i].b;
	    return v;
	}
    }
    return fail(ps, "unexpected character");
}

/* parse_members - the inside of an object or array, after its opener */
static struct jread_val *parse_members(struct parser *ps, int obj)
{
    struct jread_val *v = node(ps, obj ? JREAD_OBJ : JREAD_ARR), **tail;
    char closer = obj ? '}' : ']';

    if (v == NULL)
	return NULL;
    tail = &v->child;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == closer) {
	ps->p++;
	return v;
    }
    for (;;) {
	char *key = NULL;
	size_t klen;
	struct jread_val *m;

	skip_ws(ps);
	if (obj) {
	    if (ps->p >= ps->end || *ps->p != '"')
		break;
	    ps->p++;
	    if ((key = parse_string(ps, &klen)) == NULL)
		break;
	    skip_ws(ps);
	    if (ps->p >= ps->end || *ps->p++ != ':') {
		free(key);
		break;
	    }
	}
	if ((m = parse_value(ps)) == NULL) {
	    free(key);
	    break;
	}
	m->key = key;
	*tail = m;
	tail = &m->next;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == ',') {
	    ps->p++;
	    continue;
	}
	if (ps->p < ps->end && *ps->p == closer) {
	    ps->p++;
	    return v;
	}
	break;
    }
    jread_free(v);
    return fail(ps, obj ? "bad object" : "bad array");
}

/* parse_value - any value, white space around it skipped */
static struct jread_val *parse_value(struct parser *ps)
{
    struct jread_val *v;
    char c;

    skip_ws(ps);
    if (ps->p >= ps->end)
	return fail(ps, "unexpected end");
    c = *ps->p;
    if (c == '{' || c == '[') {
	if (++ps->depth > JREAD_DEPTH_MAX)
	    return fail(ps, "nested too deep");
	ps->p++;
	v = parse_members(ps, c == '{');
	ps->depth--;
	return v;
    }
    if (c == '"') {
	if ((v = node(ps, JREAD_STR)) == NULL)
	    return NULL;
	ps->p++;
	if ((v->str = parse_string(ps, &v->len)) == NULL) {
	    free(v);
	    return NULL;
	}
	return v;
    }
    if (c == '-' || (c >= '0' && c <= '9'))
	return parse_number(ps);
    return parse_literal(ps);
}

/* jread_parse - one JSON document; NULL with err on failure */
struct jread_val *jread_parse(const char *text, size_t len, char *err,
			      size_t errlen)
{
    struct parser ps = { text, text + len, text, 0, 0, NULL };
    struct jread_val *v;

    v = parse_value(&ps);
    skip_ws(&ps);
    if (v != NULL && ps.p != ps.end) {
	jread_free(v);
	v = fail(&ps, "trailing characters");
    }
    if (v == NULL && err != NULL && errlen > 0)
	snprintf(err, errlen, "%s at offset %zu",
		 ps.err ? ps.err : "parse error", (size_t) (ps.p - ps.start));
    return v;
}

/* jread_free - release a tree (siblings of the root too) */
void jread_free(struct jread_val *v)
{
    while (v != NULL) {
	struct jread_val *next = v->next;

	jread_free(v->child);
	free(v->key);
	free(v->str);
	free(v);
	v = next;
    }
}

/* jread_get - an object's member by name (the first), or NULL */
const struct jread_val *jread_get(const struct jread_val *obj,
				  const char *key)
{
    if (obj == NULL || obj->type != JREAD_OBJ)
	return NULL;
    for (const struct jread_val *m = obj->child; m != NULL; m = m->next)
	if (strcmp(m->key, key) == 0)
	    return m;
    return NULL;
}

/* jread_str - a member's string value, or NULL */
const char *jread_str(const struct jread_val *obj, const char *key)
{
    const struct jread_val *m = jread_get(obj, key);

    return m != NULL && m->type == JREAD_STR ? m->str : NULL;
}

/* jread_int - a member's integer value; -1 if absent or not an integer */
int jread_int(const struct jread_val *obj, const char *key, int64_t *out)
{
    const struct jread_val *m = jread_get(obj, key);

    if (m == NULL || m->type != JREAD_NUM || !m->is_int)
	return -1;
    *out = m->inum;
    return 0;
}
