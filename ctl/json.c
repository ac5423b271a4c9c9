/*
 * json - a tiny streaming JSON writer for relayguardctl --json.
 *
 * Contract: the caller opens and closes containers in order; the writer
 * places commas and colons. Strings are written as valid JSON whatever
 * the input bytes: '"', '\' and control bytes are escaped; DEL, C1
 * controls, U+2028/U+2029 (line breaks to JavaScript), bidi overrides
 * and zero-width characters become \u escapes, and every byte that is not part of valid UTF-8 becomes
 * U+FFFD, so a login of raw bytes still yields a document any parser
 * accepts, and printing it to a terminal is harmless. Misuse (too deep,
 * a key outside an object) marks the writer broken: json_finish then
 * returns -1. Never allocates.
 */
#include <inttypes.h>
#include <string.h>

#include "json.h"
#include "log.h"

#define ESC_MAX 8		/* "\u00ff" and a NUL */

/* Where escaped text goes: a stream, or a bounded buffer. */
struct sink {
    FILE *f;
    char *buf;
    size_t len, cap;		/* cap includes the NUL */
};

/* sink_put - append bytes (a buffer sink stops at its end) */
static void sink_put(struct sink *k, const char *s, size_t n)
{
    if (k->f != NULL) {
	fwrite(s, 1, n, k->f);
	return;
    }
    if (k->cap == 0)
	return;
    if (n > k->cap - 1 - k->len)
	n = k->cap - 1 - k->len;
    memcpy(k->buf + k->len, s, n);
    k->len += n;
    k->buf[k->len] = '\0';
}

/* short_escape - the two-character escape of a byte, or NULL */
static const char *short_escape(unsigned char c)
{
    switch (c) {
    case '"':
	return "\\\"";
    case '\\':
	return "\\\\";
    case '\n':
	return "\\n";
    case '\r':
	return "\\r";
    case '\t':
	return "\\t";
    case '\b':
	return "\\b";
    case '\f':
	return "\\f";
    default:
	return NULL;
    }
}

/* escape_to - the escaped body of a string (no quotes) */
static void escape_to(struct sink *k, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *) s;
    char e[ESC_MAX];
    size_t i = 0;

    while (i < len) {
	uint32_t cp = 0;
	size_t n = log_utf8_len(p + i, len - i, &cp);
	const char *sh = n == 1 ? short_escape(p[i]) : NULL;

	if (n == 0) {
	    sink_put(k, "\\ufffd", 6);
	    i++;
	    continue;
	}
	if (sh != NULL) {
	    sink_put(k, sh, 2);
	} else if (log_hostile(cp)) {	/* as the sanitiser replaces them */
	    snprintf(e, sizeof(e), "\\u%04" PRIx32, cp);
	    sink_put(k, e, 6);
	} else {
	    sink_put(k, s + i, n);
	}
	i += n;
    }
}

/* json_escape - escape into a buffer (for tests and one-off use) */
size_t json_escape(const char *s, size_t len, char *out, size_t outlen)
{
    struct sink k = { NULL, out, 0, outlen };

    if (outlen > 0)
	out[0] = '\0';
    escape_to(&k, s, len);
    return k.len;
}

/* json_init - start writing one document to out */
void json_init(struct json *j, FILE *out)
{
    memset(j, 0, sizeof(*j));
    j->out = out;
}

/* value_start - the comma before a value, unless a key just went out */
static void value_start(struct json *j)
{
    if (j->after_key) {
	j->after_key = false;
	return;
    }
    if (j->depth > 0 && j->is_obj[j->depth])
	j->broken = true;	/* a value in an object needs a key */
    if (j->need_comma[j->depth])
	fputc(',', j->out);
    j->need_comma[j->depth] = true;
}

/* ctr_open - start an object or an array */
static void ctr_open(struct json *j, char c, bool obj)
{
    value_start(j);
    if (j->depth >= JSON_DEPTH_MAX) {
	j->broken = true;
	return;
    }
    fputc(c, j->out);
    j->depth++;
    j->need_comma[j->depth] = false;
    j->is_obj[j->depth] = obj;
}

/* ctr_close - end the innermost container */
static void ctr_close(struct json *j, char c, bool obj)
{
    if (j->depth == 0 || j->is_obj[j->depth] != obj || j->after_key) {
	j->broken = true;
	return;
    }
    fputc(c, j->out);
    j->depth--;
}

/* json_obj - open an object */
void json_obj(struct json *j)
{
    ctr_open(j, '{', true);
}

/* json_obj_end - close the innermost object */
void json_obj_end(struct json *j)
{
    ctr_close(j, '}', true);
}

/* json_arr - open an array */
void json_arr(struct json *j)
{
    ctr_open(j, '[', false);
}

/* json_arr_end - close the innermost array */
void json_arr_end(struct json *j)
{
    ctr_close(j, ']', false);
}

/* json_key - a member name; its value must follow */
void json_key(struct json *j, const char *key)
{
    struct sink k = { j->out, NULL, 0, 0 };

    if (j->depth == 0 || !j->is_obj[j->depth] || j->after_key) {
	j->broken = true;
	return;
    }
    if (j->need_comma[j->depth])
	fputc(',', j->out);
    j->need_comma[j->depth] = true;
    fputc('"', j->out);
    escape_to(&k, key, strlen(key));
    fputs("\":", j->out);
    j->after_key = true;
}

/* json_strn - a string value of len bytes (any bytes) */
void json_strn(struct json *j, const char *s, size_t len)
{
    struct sink k = { j->out, NULL, 0, 0 };

    value_start(j);
    fputc('"', j->out);
    escape_to(&k, s, len);
    fputc('"', j->out);
}

/* json_str - a string value; NULL is written as null */
void json_str(struct json *j, const char *s)
{
    if (s == NULL)
	json_null(j);
    else
	json_strn(j, s, strlen(s));
}

/* json_uint - an unsigned number */
void json_uint(struct json *j, uint64_t v)
{
    value_start(j);
    fprintf(j->out, "%" PRIu64, v);
}

/* json_int - a signed number */
void json_int(struct json *j, int64_t v)
{
    value_start(j);
    fprintf(j->out, "%" PRId64, v);
}

/* json_bool - true or false */
void json_bool(struct json *j, bool v)
{
    value_start(j);
    fputs(v ? "true" : "false", j->out);
}

/* json_null - null */
void json_null(struct json *j)
{
    value_start(j);
    fputs("null", j->out);
}

/* json_kstr - a member with a string value */
void json_kstr(struct json *j, const char *key, const char *s)
{
    json_key(j, key);
    json_str(j, s);
}

/* json_kuint - a member with an unsigned value */
void json_kuint(struct json *j, const char *key, uint64_t v)
{
    json_key(j, key);
    json_uint(j, v);
}

/* json_kint - a member with a signed value */
void json_kint(struct json *j, const char *key, int64_t v)
{
    json_key(j, key);
    json_int(j, v);
}

/* json_kbool - a member with a boolean value */
void json_kbool(struct json *j, const char *key, bool v)
{
    json_key(j, key);
    json_bool(j, v);
}

/* json_finish - end the document with a newline; -1 if it is not whole */
int json_finish(struct json *j)
{
    if (j->depth != 0 || j->after_key)
	j->broken = true;
    fputc('\n', j->out);
    if (fflush(j->out) != 0 || ferror(j->out))
	return -1;
    return j->broken ? -1 : 0;
}
