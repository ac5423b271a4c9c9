/*
 * log - syslog/stderr output, key=value line building and the sanitiser.
 *
 * Contract: log_msg() may be called from any thread; stderr lines are
 * written with one write(2) so concurrent lines do not interleave. The
 * sanitiser replaces invalid UTF-8 and every code point log_hostile
 * names (C0 controls with CR and LF, DEL, C1 controls, bidi embeddings,
 * overrides and isolates, line and paragraph separators, zero-width
 * characters) with '?', escapes '"' and '\' with a backslash, bounds
 * the length and marks a cut with "...". It never writes past outlen
 * and always ends the output with a NUL (when outlen > 0). It is the one
 * sanitiser: the log lines, the collector's events and the X-Relayguard
 * header are built with it, and relayguardctl's tables and JSON use it
 * or log_hostile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define CUT_MARK "..."
#define CUT_MARK_LEN 3
#define REPLACEMENT '?'

static const struct {
    const char *name;
    int facility;
} facilities[] = {
    {"mail", LOG_MAIL}, {"daemon", LOG_DAEMON}, {"user", LOG_USER},
    {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
    {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
    {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
};

#define NFACILITIES (sizeof(facilities) / sizeof(facilities[0]))

static const char *const prio_names[] = {
    "emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
};

static enum log_dest log_dest = LOG_DEST_SYSLOG;
static int log_fac = LOG_MAIL;
static int log_max_prio = LOG_INFO;
const char *log_syslog_socket = "/dev/log";
static char log_ident[32] = "relayguard";

/* log_facility_parse - syslog facility by name, or -1 */
int log_facility_parse(const char *name)
{
    size_t i;

    for (i = 0; name != NULL && i < NFACILITIES; i++)
	if (strcmp(facilities[i].name, name) == 0)
	    return facilities[i].facility;
    return -1;
}

/* log_facility_name - name of a syslog facility */
const char *log_facility_name(int facility)
{
    size_t i;

    for (i = 0; i < NFACILITIES; i++)
	if (facilities[i].facility == facility)
	    return facilities[i].name;
    return "?";
}

/* log_journal_stream - is the file on fd the one JOURNAL_STREAM names? */
int log_journal_stream(const char *env, int fd)
{
    unsigned long long dev, ino;
    struct stat sb;
    char tail;

    if (env == NULL || sscanf(env, "%llu:%llu%c", &dev, &ino, &tail) != 2
	|| fstat(fd, &sb) != 0)
	return 0;
    return (unsigned long long) sb.st_dev == dev
	&& (unsigned long long) sb.st_ino == ino;
}

/* log_journal_prefix - "<N>" with N the level of priority */
size_t log_journal_prefix(int priority, char *buf, size_t len)
{
    int n = snprintf(buf, len, "<%d>", LOG_PRI(priority));

    return n < 0 ? 0 : (size_t) n < len ? (size_t) n : len > 0 ? len - 1 : 0;
}

/* have_syslog - is there a syslog socket to send to? */
static int have_syslog(void)
{
    struct stat sb;

    return stat(log_syslog_socket, &sb) == 0 && S_ISSOCK(sb.st_mode);
}

/* log_open - choose syslog (facility), stderr, or the journal's stderr */
void log_open(const char *ident, int facility, int to_stderr)
{
    snprintf(log_ident, sizeof(log_ident), "%s", ident);
    log_dest = to_stderr ? LOG_DEST_STDERR : LOG_DEST_SYSLOG;
    if (to_stderr && log_journal_stream(getenv("JOURNAL_STREAM"),
					STDERR_FILENO))
	log_dest = have_syslog() ? LOG_DEST_SYSLOG : LOG_DEST_JOURNAL;
    log_fac = facility;
    if (log_dest == LOG_DEST_SYSLOG) {
	closelog();
	openlog(log_ident, LOG_PID | LOG_NDELAY, facility);
    }
}

/* log_set_facility - a reload's syslog_facility; the ident stays, and
 * glibc's openlog is safe beside other threads' syslog calls */
void log_set_facility(int facility)
{
    if (facility == log_fac)
	return;
    log_fac = facility;
    if (log_dest == LOG_DEST_SYSLOG)
	openlog(log_ident, LOG_PID | LOG_NDELAY, facility);
}

/* log_facility - the facility lines go out with */
int log_facility(void)
{
    return log_fac;
}

/* log_destination - where the lines go */
enum log_dest log_destination(void)
{
    return log_dest;
}

/* log_set_level - drop messages less urgent than max_priority */
void log_set_level(int max_priority)
{
    log_max_prio = max_priority;
}

/* log_msg - one line to syslog or stderr */
void log_msg(int priority, const char *fmt, ...)
{
    char buf[LOG_LINE_MAX + 64];
    va_list ap;
    int n = 0;

    if (priority > log_max_prio)
	return;
    va_start(ap, fmt);
    if (log_dest == LOG_DEST_SYSLOG) {
	vsyslog(priority, fmt, ap);
	va_end(ap);
	return;
    }
    if (log_dest == LOG_DEST_JOURNAL)
	n = (int) log_journal_prefix(priority, buf, sizeof(buf));
    else if (priority >= 0 && priority < (int) (sizeof(prio_names) / sizeof(prio_names[0])))
	n = snprintf(buf, sizeof(buf), "%s: %s: ", log_ident, prio_names[priority]);
    n += vsnprintf(buf + n, sizeof(buf) - (size_t) n - 1, fmt, ap);
    va_end(ap);
    if (n > (int) sizeof(buf) - 2)
	n = (int) sizeof(buf) - 2;
    buf[n++] = '\n';
    (void) !write(STDERR_FILENO, buf, (size_t) n);
}

/* log_utf8_len - length of a valid UTF-8 sequence at p, or 0 */
size_t log_utf8_len(const unsigned char *p, size_t avail, uint32_t *cp)
{
    size_t len, i;
    uint32_t c;

    if (p[0] < 0x80) {
	if (cp != NULL)
	    *cp = p[0];
	return 1;
    }
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
	len = 2, c = p[0] & 0x1fu;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
	len = 3, c = p[0] & 0x0fu;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
	len = 4, c = p[0] & 0x07u;
    else
	return 0;
    if (len > avail)
	return 0;
    for (i = 1; i < len; i++) {
	if ((p[i] & 0xc0) != 0x80)
	    return 0;
	c = (c << 6) | (p[i] & 0x3fu);
    }
    /* Overlong forms, surrogates and values past U+10FFFF. */
    if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000)
	|| (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
	return 0;
    if (cp != NULL)
	*cp = c;
    return len;
}

/* log_hostile - a code point a terminal or log viewer would act on or
 * that hides or reorders text: never shown raw */
int log_hostile(uint32_t cp)
{
    return cp < 0x20 || cp == 0x7f
	|| (cp >= 0x80 && cp <= 0x9f)		/* C1 controls (CSI ...) */
	|| cp == 0x061c				/* Arabic letter mark */
	|| (cp >= 0x200b && cp <= 0x200f)	/* zero width, LRM, RLM */
	|| (cp >= 0x2028 && cp <= 0x202e)	/* separators, bidi embeds */
	|| (cp >= 0x2060 && cp <= 0x2069)	/* word joiner .. isolates */
	|| cp == 0xfeff;			/* zero-width no-break space */
}

/* sanitize_pass - emit up to limit bytes (out may be NULL); true if all fit */
static int sanitize_pass(const unsigned char *p, size_t inlen, char *out,
			 size_t limit, size_t *olen)
{
    size_t o = 0, i = 0;

    while (i < inlen) {
	uint32_t cp = 0;
	size_t n = log_utf8_len(p + i, inlen - i, &cp);
	int bad = n == 0 || log_hostile(cp);
	int esc = n == 1 && (p[i] == '"' || p[i] == '\\');
	size_t need = bad ? 1 : n + (size_t) esc;

	if (o + need > limit)
	    break;
	if (out != NULL) {
	    if (bad)
		out[o] = REPLACEMENT;
	    else {
		if (esc)
		    out[o] = '\\';
		memcpy(out + o + (size_t) esc, p + i, n);
	    }
	}
	o += need;
	i += n ? n : 1;
    }
    *olen = o;
    return i >= inlen;
}

/* log_sanitize - make an untrusted string safe for one log line */
size_t log_sanitize(const char *in, size_t inlen, char *out, size_t outlen)
{
    const unsigned char *p = (const unsigned char *) in;
    size_t room, o;

    if (outlen == 0)
	return 0;
    if (in == NULL)
	inlen = 0;
    room = outlen - 1 < LOG_VALUE_MAX ? outlen - 1 : LOG_VALUE_MAX;
    if (sanitize_pass(p, inlen, NULL, room, &o)) {
	sanitize_pass(p, inlen, out, room, &o);
    } else if (room >= CUT_MARK_LEN) {
	sanitize_pass(p, inlen, out, room - CUT_MARK_LEN, &o);
	memcpy(out + o, CUT_MARK, CUT_MARK_LEN);
	o += CUT_MARK_LEN;
    } else {
	sanitize_pass(p, inlen, out, room, &o);
    }
    out[o] = 0;
    return o;
}

/* log_line_init - start a line with a head such as "QUEUEID:" */
void log_line_init(struct log_line *l, const char *head)
{
    l->len = 0;
    l->buf[0] = 0;
    if (head != NULL)
	log_kv_raw(l, NULL, head);
}

/* log_append - bounded append; a full line is cut, never overrun */
static void log_append(struct log_line *l, const char *s, size_t n)
{
    size_t room = sizeof(l->buf) - 1 - l->len;

    if (n > room)
	n = room;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
    l->buf[l->len] = 0;
}

/* log_kv_raw - append key=value for values we generated ourselves */
void log_kv_raw(struct log_line *l, const char *key, const char *value)
{
    if (l->len > 0)
	log_append(l, " ", 1);
    if (key != NULL) {
	log_append(l, key, strlen(key));
	log_append(l, "=", 1);
    }
    log_append(l, value, strlen(value));
}

/* log_kv_str - append key="value" with the value sanitised */
void log_kv_str(struct log_line *l, const char *key, const char *value)
{
    char clean[LOG_VALUE_MAX + 1];
    size_t n = log_sanitize(value ? value : "", value ? strlen(value) : 0,
			    clean, sizeof(clean));

    if (l->len > 0)
	log_append(l, " ", 1);
    log_append(l, key, strlen(key));
    log_append(l, "=\"", 2);
    log_append(l, clean, n);
    log_append(l, "\"", 1);
}

/* log_kv_uint - append key=number */
void log_kv_uint(struct log_line *l, const char *key, unsigned long long v)
{
    char num[24];

    snprintf(num, sizeof(num), "%llu", v);
    log_kv_raw(l, key, num);
}
