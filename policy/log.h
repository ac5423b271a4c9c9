/*
 * log - syslog or stderr logging, key=value lines, and the one sanitiser
 * for strings that came from SMTP (logins, HELO names, queue ids).
 *
 * Contract: log_open() once at start-up (again after a reload to change
 * facility); log_msg() is thread-safe. log_sanitize() is pure.
 *
 * Asked for stderr (-f), a process whose stderr is the systemd journal
 * (JOURNAL_STREAM names it) logs through syslog(3) all the same, so the
 * journal and the syslog daemon get the configured facility and the
 * level of each line; without a syslog socket it prefixes each line with
 * the journal's "<N>" level instead (the facility is then the unit's
 * SyslogFacility=). A plain stderr gets "ident: level: message".
 */
#ifndef RG_LOG_H
#define RG_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

#define LOG_VALUE_MAX 256	/* bound on one sanitised value */
#define LOG_LINE_MAX 2048	/* bound on one key=value line */

struct log_line {
    char buf[LOG_LINE_MAX];
    size_t len;
};

void log_open(const char *ident, int facility, int to_stderr);
/* After a reload: the configured facility from now on. */
void log_set_facility(int facility);
int log_facility(void);

/* Where log_open sent the lines. */
enum log_dest { LOG_DEST_SYSLOG, LOG_DEST_STDERR, LOG_DEST_JOURNAL };
enum log_dest log_destination(void);

/* 1 if env (JOURNAL_STREAM, "DEV:INO") names the file open on fd. */
int log_journal_stream(const char *env, int fd);

/* The journal's level prefix for a priority: "<0>".."<7>" (a stream
 * takes no facility); its length. */
size_t log_journal_prefix(int priority, char *buf, size_t len);

/* The syslog socket whose presence log_open checks; tests point it
 * elsewhere. */
extern const char *log_syslog_socket;
void log_set_level(int max_priority);
void log_msg(int priority, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

int log_facility_parse(const char *name);
const char *log_facility_name(int facility);

size_t log_sanitize(const char *in, size_t inlen, char *out, size_t outlen);

/* The length of the valid UTF-8 sequence at p (at most avail bytes), 0 if
 * it is invalid (overlong, surrogate, past U+10FFFF, cut short); its code
 * point goes to *cp when cp is not NULL. The sanitiser's own test, shared
 * with whoever must agree with it (relayguardctl's cleaner and JSON). */
size_t log_utf8_len(const unsigned char *p, size_t avail, uint32_t *cp);

/* 1 for a code point the sanitiser replaces: controls (C0 with CR/LF, DEL,
 * C1), bidi controls, line/paragraph separators, zero-width characters. */
int log_hostile(uint32_t cp);

void log_line_init(struct log_line *l, const char *head);
void log_kv_str(struct log_line *l, const char *key, const char *value);
void log_kv_raw(struct log_line *l, const char *key, const char *value);
void log_kv_uint(struct log_line *l, const char *key, unsigned long long v);

#endif
