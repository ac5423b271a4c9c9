/*
 * text - terminal-safe strings and the small formats of relayguardctl.
 *
 * Contract: pure functions, no allocation; every output is bounded by
 * the caller's buffer and NUL-terminated (when its size is not 0).
 *
 * Anything that came from SMTP (logins, senders, header values, message
 * text) may carry CR/LF, escape sequences, C1 controls or bidirectional
 * overrides meant to rewrite what an admin sees in a terminal. Single
 * values go through log_sanitize (the project's one sanitiser: control
 * bytes, C1 controls, bidi controls, separators, zero-width characters
 * and invalid UTF-8 become '?', quotes are escaped, length bounded).
 * Message text, shown line by line, loses the same code points
 * (log_hostile) but tabs, without quoting or the length bound.
 *
 * Display width counts code points: text of East Asian wide characters
 * takes more columns than counted (alignment suffers, safety does not).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cfg.h"
#include "log.h"
#include "text.h"

#define REPLACEMENT '?'
#define MINUTE_S 60u
#define HOUR_S 3600u
#define DAY_S 86400u
#define MS_PER_S 1000u
#define KIB 1024.0
#define SIZE_DECIMAL_BELOW 10.0	/* "1.5K" but "15K" */

/* clean_pass - copy in to out, hostile or invalid sequences as '?' */
static size_t clean_pass(const unsigned char *in, size_t inlen, char *out,
			 size_t room, int keep_tab)
{
    size_t i = 0, o = 0;

    while (i < inlen) {
	uint32_t cp = 0;
	size_t n = log_utf8_len(in + i, inlen - i, &cp);
	int bad = n == 0 || (log_hostile(cp) && !(keep_tab && cp == '\t'));
	size_t need = bad ? 1 : n;

	if (o + need > room)
	    break;
	if (bad)
	    out[o] = REPLACEMENT;
	else
	    memcpy(out + o, in + i, n);
	o += need;
	i += n ? n : 1;
    }
    return o;
}

/* text_clean - one SMTP-derived value, safe for a terminal and bounded */
size_t text_clean(const char *in, size_t inlen, char *out, size_t outlen)
{
    char tmp[LOG_VALUE_MAX + 1];
    size_t n;

    if (outlen == 0)
	return 0;
    n = log_sanitize(in, inlen, tmp, sizeof(tmp));
    n = clean_pass((const unsigned char *) tmp, n, out, outlen - 1, 0);
    out[n] = '\0';
    return n;
}

/* text_clean_line - one line of message text: tabs kept, no quoting */
size_t text_clean_line(const char *in, size_t inlen, char *out,
		       size_t outlen)
{
    size_t n;

    if (outlen == 0)
	return 0;
    if (in == NULL)
	inlen = 0;
    n = clean_pass((const unsigned char *) in, inlen, out, outlen - 1, 1);
    out[n] = '\0';
    return n;
}

/* text_width - display columns of clean text (code points) */
size_t text_width(const char *s)
{
    size_t w = 0;

    for (; *s; s++)
	if (((unsigned char) *s & 0xc0) != 0x80)
	    w++;
    return w;
}

/* text_cut - bytes of the longest prefix of s that fits cols columns */
size_t text_cut(const char *s, size_t cols)
{
    size_t i = 0, w = 0;

    while (s[i]) {
	size_t j = i + 1;

	while (((unsigned char) s[j] & 0xc0) == 0x80)
	    j++;
	if (w + 1 > cols)
	    break;
	w++;
	i = j;
    }
    return i;
}

/* text_plural - see text.h */
const char *text_plural(uint64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

/* text_time - "2026-11-22 15:32" in local time; "-" for none */
void text_time(uint32_t t, char *buf, size_t len)
{
    time_t tt = (time_t) t;
    struct tm tm;

    if (t == 0 || localtime_r(&tt, &tm) == NULL
	|| strftime(buf, len, "%Y-%m-%d %H:%M", &tm) == 0)
	snprintf(buf, len, "-");
}

/* span - a span of seconds in its two largest units: "3h5m", "2d3h" */
static void span(uint32_t d, char *buf, size_t len)
{
    if (d < MINUTE_S)
	snprintf(buf, len, "%us", d);
    else if (d < HOUR_S)
	snprintf(buf, len, "%um", d / MINUTE_S);
    else if (d < DAY_S && (d % HOUR_S) / MINUTE_S)
	snprintf(buf, len, "%uh%um", d / HOUR_S, (d % HOUR_S) / MINUTE_S);
    else if (d < DAY_S)
	snprintf(buf, len, "%uh", d / HOUR_S);
    else if ((d % DAY_S) / HOUR_S)
	snprintf(buf, len, "%ud%uh", d / DAY_S, (d % DAY_S) / HOUR_S);
    else
	snprintf(buf, len, "%ud", d / DAY_S);
}

/* text_age - how long ago t was; "-" for never */
void text_age(uint32_t now, uint32_t t, char *buf, size_t len)
{
    if (t == 0)
	snprintf(buf, len, "-");
    else
	span(now > t ? now - t : 0, buf, len);
}

/* text_left - how long until 'until' */
void text_left(uint32_t now, uint32_t until, char *buf, size_t len)
{
    span(until > now ? until - now : 0, buf, len);
}

/* text_size - bytes in powers of 1024: "512", "1.5K", "15K", "3.2M" */
void text_size(uint64_t bytes, char *buf, size_t len)
{
    static const char units[] = "KMGTPE";
    double v = (double) bytes;
    size_t u = 0;

    if (bytes < 1024) {
	snprintf(buf, len, "%llu", (unsigned long long) bytes);
	return;
    }
    v /= KIB;
    while (v >= KIB && u + 1 < sizeof(units) - 1) {
	v /= KIB;
	u++;
    }
    if (v < SIZE_DECIMAL_BELOW)
	snprintf(buf, len, "%.1f%c", v, units[u]);
    else
	snprintf(buf, len, "%.0f%c", v, units[u]);
}

/* text_duration - a block length: "90s", "10m", "1h", "1d", "1h30m" */
int text_duration(const char *s, uint32_t *secs, char *err, size_t errlen)
{
    uint64_t ms = 0;

    if (cfg_parse_duration(s, &ms, err, errlen) != 0)
	return -1;
    ms = (ms + MS_PER_S - 1) / MS_PER_S;
    if (ms == 0 || ms > TEXT_DURATION_MAX_S) {
	snprintf(err, errlen, "duration \"%s\" out of range (1s .. 366d)", s);
	return -1;
    }
    *secs = (uint32_t) ms;
    return 0;
}

/* text_uint - a decimal number 0..max, nothing else */
int text_uint(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (s == NULL || *s == '\0')
	return -1;
    for (; *s; s++) {
	unsigned d = (unsigned) (*s - '0');

	if (d > 9 || v > max / 10 || d > max - v * 10)
	    return -1;
	v = v * 10 + d;
    }
    *out = v;
    return 0;
}
