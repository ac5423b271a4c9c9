/*
 * maillog - parse one line of an MTA's log into a record.
 *
 * Headers: classic syslog ("Dec  5 11:49:55 host prog[pid]: "), the same
 * with a zero-padded day or fractional seconds (Postfix's maillog_file),
 * RFC 3339 ("2026-12-05T11:49:55.123+01:00 host ..."), and journalctl's
 * short-iso ("+0100", no colon). Messages: the Postfix and Sendmail lines
 * a submission is rebuilt from (see maillog.h); everything else is a good
 * line of kind MAILLOG_NONE.
 *
 * Contract: log lines are hostile input. The parser never reads past len,
 * bounds every copy, accepts embedded NULs (as '?') and returns
 * MAILLOG_BAD only for lines without a syslog header. Where an attacker
 * could repeat a field inside a value they choose (HELO, sender), the
 * field the MTA writes last is taken. Not thread-safe per clock; no I/O
 * but localtime (via mktime, once per hour of log).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "maillog.h"

#define QID_MIN 5		/* Postfix short ids are 6+ hex; leave room */
#define SECS_PER_DAY 86400
#define MONTHS 12
#define MONTH_FLIP 6		/* a month jump this large is a new year */

static const char *const months[MONTHS] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

static const char *const live_names[] = {
    "accept", "hold", "tempfail", "reject", "discard",
};

/* A bounded view of the message part of a line. */
struct span {
    const char *p;
    size_t n;
};

/* maillog_live_name - what the live MTA did, as text */
const char *maillog_live_name(enum maillog_live l)
{
    return (unsigned) l < sizeof(live_names) / sizeof(live_names[0])
	? live_names[l] : "?";
}

/* maillog_clock_init - year inference anchored at ref */
void maillog_clock_init(struct maillog_clock *ck, uint32_t ref)
{
    memset(ck, 0, sizeof(*ck));
    ck->ref = ref;
    ck->mon = -1;
    ck->c_mon = -1;
}

/* num - n digits at p as an int; -1 if one is not a digit */
static int num(const char *p, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
	if (!isdigit((unsigned char) p[i]))
	    return -1;
	v = v * 10 + (p[i] - '0');
    }
    return v;
}

/* days_from_civil - days since 1970-01-01 of a proleptic Gregorian date */
static int64_t days_from_civil(int y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* to_time - epoch seconds into the record; 0 if out of uint32 range */
static int to_time(int64_t t, uint32_t *out)
{
    if (t <= 0 || t > (int64_t) UINT32_MAX)
	return -1;
    *out = (uint32_t) t;
    return 0;
}

/* hms - "HH:MM:SS" then optional ".digits"; the offset past it */
static int hms(const char *p, size_t n, int *h, int *mi, int *s, size_t *used)
{
    size_t i = 8;

    if (n < 8 || p[2] != ':' || p[5] != ':')
	return -1;
    *h = num(p, 2), *mi = num(p + 3, 2), *s = num(p + 6, 2);
    if (*h < 0 || *h > 23 || *mi < 0 || *mi > 59 || *s < 0 || *s > 60)
	return -1;
    if (i < n && p[i] == '.')
	for (i++; i < n && isdigit((unsigned char) p[i]); i++)
	    ;
    *used = i;
    return 0;
}

/* rfc3339 - "YYYY-MM-DDTHH:MM:SS[.f](Z|+HH:MM|+HHMM)"; bytes used or 0 */
static size_t rfc3339(const char *p, size_t n, uint32_t *out)
{
    int y, mo, d, h, mi, s, oh = 0, om = 0, sign = 0;
    size_t i;

    if (n < 20 || p[4] != '-' || p[7] != '-' || (p[10] != 'T' && p[10] != ' '))
	return 0;
    y = num(p, 4), mo = num(p + 5, 2), d = num(p + 8, 2);
    if (y < 1970 || mo < 1 || mo > MONTHS || d < 1 || d > 31
	|| hms(p + 11, n - 11, &h, &mi, &s, &i) != 0)
	return 0;
    i += 11;
    if (i < n && p[i] == 'Z') {
	i++;
    } else if (i + 5 <= n && (p[i] == '+' || p[i] == '-')) {
	sign = p[i] == '-' ? -1 : 1;
	oh = num(p + i + 1, 2);
	i += 3;
	if (i < n && p[i] == ':')
	    i++;
	if (i + 2 > n || (om = num(p + i, 2)) < 0 || oh < 0 || oh > 23 || om > 59)
	    return 0;
	i += 2;
    } else {
	return 0;
    }
    if (to_time((days_from_civil(y, mo, d) * SECS_PER_DAY + h * 3600 + mi * 60
		 + s) - sign * (oh * 3600 + om * 60), out) != 0)
	return 0;
    return i;
}

/* infer_year - the year of a classic stamp on day d of month mon */
static int infer_year(struct maillog_clock *ck, int mon, int d)
{
    if (ck->mon < 0) {
	time_t r = (time_t) ck->ref;
	struct tm tm;

	if (localtime_r(&r, &tm) == NULL)
	    return -1;
	/* A first line dated after ref (a day of slack) is last year's. */
	ck->year = tm.tm_year + 1900 - (mon > tm.tm_mon + 1
					|| (mon == tm.tm_mon + 1 && d > tm.tm_mday + 1));
    } else if (mon + MONTH_FLIP < ck->mon) {
	ck->year++;		/* December -> January */
    } else if (mon > ck->mon + MONTH_FLIP) {
	ck->year--;		/* a late December line after January's */
    }
    ck->mon = mon;
    return ck->year;
}

/* local_time - a local wall-clock time to epoch seconds (cached hour) */
static int local_time(struct maillog_clock *ck, int y, int mo, int d, int h,
		      int mi, int s, uint32_t *out)
{
    if (ck->c_year != y || ck->c_mon != mo || ck->c_day != d || ck->c_hour != h) {
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d;
	tm.tm_hour = h, tm.tm_isdst = -1;
	ck->c_base = (int64_t) mktime(&tm);
	ck->c_year = y, ck->c_mon = mo, ck->c_day = d, ck->c_hour = h;
    }
    return to_time(ck->c_base + mi * 60 + s, out);
}

/* classic - "Mmm dd HH:MM:SS[.f]"; bytes used or 0 */
static size_t classic(const char *p, size_t n, struct maillog_clock *ck,
		      uint32_t *out)
{
    int mo = 0, d, h, mi, s, y;
    size_t i = 4, used;

    if (n < 15 || p[3] != ' ')
	return 0;
    while (mo < MONTHS && memcmp(p, months[mo], 3) != 0)
	mo++;
    if (mo == MONTHS)
	return 0;
    if (p[i] == ' ')
	i++;
    if (!isdigit((unsigned char) p[i]))
	return 0;
    d = p[i] - '0';
    if (isdigit((unsigned char) p[++i]))
	d = d * 10 + (p[i++] - '0');
    if (d < 1 || d > 31 || p[i++] != ' '
	|| hms(p + i, n - i, &h, &mi, &s, &used) != 0)
	return 0;
    if ((y = infer_year(ck, mo + 1, d)) < 0
	|| local_time(ck, y, mo + 1, d, h, mi, s, out) != 0)
	return 0;
    return i + used;
}

/* header - time, host, program and pid; m gets the message */
static int header(const char *p, size_t n, struct maillog_clock *ck,
		  struct maillog_rec *r, char *prog, size_t plen, struct span *m)
{
    size_t i, k, t;

    if ((i = rfc3339(p, n, &r->time)) == 0 && (i = classic(p, n, ck, &r->time)) == 0)
	return -1;
    if (i >= n || p[i++] != ' ')
	return -1;
    for (k = i; k < n && p[k] != ' '; k++)
	;
    snprintf(r->host, sizeof(r->host), "%.*s", (int) (k - i), p + i);
    for (i = ++k; k < n && p[k] != '[' && p[k] != ':' && p[k] != ' '; k++)
	;
    if (k >= n || k == i)
	return -1;
    snprintf(prog, plen, "%.*s", (int) (k - i), p + i);
    if (p[k] == '[') {
	for (t = ++k; k < n && isdigit((unsigned char) p[k]) && k - t < 10; k++)
	    r->pid = r->pid * 10 + (uint32_t) (p[k] - '0');
	if (k >= n || p[k++] != ']')
	    return -1;
    }
    if (k + 1 >= n || p[k] != ':' || p[k + 1] != ' ')
	return -1;
    m->p = p + k + 2;
    m->n = n - k - 2;
    return 0;
}

/* find - first occurrence of s in m at or after from; offset or -1 */
static long find(const struct span *m, size_t from, const char *s)
{
    size_t sl = strlen(s);

    for (size_t i = from; sl <= m->n && i + sl <= m->n; i++)
	if (m->p[i] == s[0] && memcmp(m->p + i, s, sl) == 0)
	    return (long) i;
    return -1;
}

/* rfind - last occurrence of s in m; offset or -1 */
static long rfind(const struct span *m, const char *s)
{
    size_t sl = strlen(s);

    for (size_t i = m->n; sl <= m->n && i-- > 0;)
	if (i + sl <= m->n && memcmp(m->p + i, s, sl) == 0)
	    return (long) i;
    return -1;
}

/* starts - does m, from offset at, begin with s? */
static bool starts(const struct span *m, size_t at, const char *s)
{
    size_t sl = strlen(s);

    return at + sl <= m->n && memcmp(m->p + at, s, sl) == 0;
}

/* copy - a bounded copy of m[a, b) */
static void copy(const struct span *m, size_t a, size_t b, char *out,
		 size_t len)
{
    if (b > m->n)
	b = m->n;
    if (a > b)
	a = b;
    snprintf(out, len, "%.*s", (int) (b - a), m->p + a);
}

/* number - decimal digits at m[at]; 0 if none */
static uint64_t number(const struct span *m, size_t at)
{
    uint64_t v = 0;

    for (; at < m->n && isdigit((unsigned char) m->p[at]) && v < UINT64_MAX / 10; at++)
	v = v * 10 + (uint64_t) (m->p[at] - '0');
    return v;
}

/* bracket_addr - "host [IP]", "host[IP]:port", "[IPv6:...]" from at */
static bool bracket_addr(const struct span *m, size_t at, size_t end,
			 struct addr *out)
{
    char ip[ADDR_STRLEN + 8];
    size_t a, b;

    for (a = at; a < end && a < m->n && m->p[a] != '['; a++)
	;
    for (b = a; b < end && b < m->n && m->p[b] != ']'; b++)
	;
    if (a >= end || b >= end || b >= m->n)
	return false;
    a++;
    if (b - a > 5 && strncasecmp(m->p + a, "IPv6:", 5) == 0)
	a += 5;
    if (b - a >= sizeof(ip))
	return false;
    copy(m, a, b, ip, sizeof(ip));
    return addr_parse(ip, out) == 0;
}

/* qid_prefix - "QID: " (5-31 letters and digits) or "NOQUEUE: "; its
 * length, 0 when there is none */
static size_t qid_prefix(const struct span *m, struct maillog_rec *r)
{
    size_t i = 0;

    if (starts(m, 0, "NOQUEUE: "))
	return 9;
    while (i < m->n && i < MAILLOG_QID_MAX && isalnum((unsigned char) m->p[i]))
	i++;
    if (i < QID_MIN || i >= MAILLOG_QID_MAX || !starts(m, i, ": "))
	return 0;
    copy(m, 0, i, r->qid, sizeof(r->qid));
    return i + 2;
}

/* code_live - a reply code's first digit as what the MTA did */
static enum maillog_live code_live(const struct span *m, size_t at)
{
    return at < m->n && m->p[at] == '5' ? MAILLOG_LIVE_REJECT
	: MAILLOG_LIVE_TEMPFAIL;
}

/* angle_value - "<value>" at m[at]: the value up to the '>' that ends
 * the field (the one followed by " KEY=" or the end of the line) */
static void angle_value(const struct span *m, size_t at, char *out, size_t len)
{
    size_t b;

    if (!starts(m, at, "<")) {
	copy(m, at, at, out, len);
	return;
    }
    for (b = ++at; b < m->n; b++)
	if (m->p[b] == '>' && (b + 1 == m->n || m->p[b + 1] == ' '
			       || m->p[b + 1] == ','))
	    break;
    copy(m, at, b, out, len);
}

/* last_login - the last " sasl_username=<U>" when the line ends there */
static void last_login(const struct span *m, char *out, size_t len)
{
    long at = rfind(m, " sasl_username=<");

    if (at >= 0 && m->n > 0 && m->p[m->n - 1] == '>')
	copy(m, (size_t) at + 16, m->n - 1, out, len);
}

/* pf_client - "client=H[IP], sasl_method=M, sasl_username=U" */
static void pf_client(const struct span *m, size_t at, struct maillog_rec *r)
{
    long u = find(m, at, ", sasl_username="), e;
    size_t end = m->n;

    r->kind = MAILLOG_PF_CLIENT;
    e = find(m, at, ", ");
    r->have_client = bracket_addr(m, at + 7, e >= 0 ? (size_t) e : m->n,
				  &r->client);
    if (u < 0)
	return;
    if ((e = find(m, (size_t) u + 16, ", sasl_sender=")) >= 0)
	end = (size_t) e;
    copy(m, (size_t) u + 16, end, r->login, sizeof(r->login));
}

/* pf_queued - "from=<S>, size=N, nrcpt=N (queue active)" */
static void pf_queued(const struct span *m, size_t at, struct maillog_rec *r)
{
    long s = rfind(m, ">, size="), n;

    if (s < 0 || (size_t) s < at + 6 || (n = find(m, (size_t) s, ", nrcpt=")) < 0)
	return;
    r->kind = MAILLOG_PF_QUEUED;
    copy(m, at + 6, (size_t) s, r->sender, sizeof(r->sender));
    r->size = number(m, (size_t) s + 8);
    r->nrcpt = (uint32_t) number(m, (size_t) n + 8);
}

/* refusal_tail - "...: CODE text; from=<S> ... sasl_username=<U>" */
static void refusal_tail(const struct span *m, size_t at, struct maillog_rec *r)
{
    long c = find(m, at, "]: "), f;

    if (c < 0)
	c = find(m, at, ": ");
    if (c >= 0)
	r->have_client = bracket_addr(m, at, (size_t) c + 1, &r->client);
    if (c >= 0 && (f = find(m, (size_t) c, "; from=<")) >= 0)
	angle_value(m, (size_t) f + 7, r->sender, sizeof(r->sender));
    last_login(m, r->login, sizeof(r->login));
}

/* pf_milter_end - cleanup's "milter-hold|reject|discard: END-OF-MESSAGE
 * from H[IP]: TEXT; from=<S> to=<R> ..." */
static void pf_milter_end(const struct span *m, size_t at, struct maillog_rec *r)
{
    long c;

    if (starts(m, at, "milter-hold: "))
	r->live = MAILLOG_LIVE_HOLD, at += 13;
    else if (starts(m, at, "milter-discard: "))
	r->live = MAILLOG_LIVE_DISCARD, at += 16;
    else if (starts(m, at, "milter-reject: "))
	at += 15;
    else
	return;
    if (!starts(m, at, "END-OF-MESSAGE from "))
	return;
    r->kind = MAILLOG_PF_MILTER_END;
    r->milter = true;
    r->stage = MAILLOG_STAGE_DATA;
    refusal_tail(m, at + 20, r);
    if (r->live == MAILLOG_LIVE_ACCEPT && (c = find(m, at, "]: ")) >= 0)
	r->live = code_live(m, (size_t) c + 3);
}

/* pf_refused - smtpd's "[milter-]reject: STAGE from H[IP]: CODE ..." */
static void pf_refused(const struct span *m, size_t at, struct maillog_rec *r)
{
    static const struct {
	const char *word;
	enum maillog_stage stage;
    } stages[] = {
	{"MAIL from ", MAILLOG_STAGE_MAIL}, {"RCPT from ", MAILLOG_STAGE_RCPT},
	{"DATA from ", MAILLOG_STAGE_DATA},
	{"END-OF-MESSAGE from ", MAILLOG_STAGE_DATA},
    };
    long c;

    if ((r->milter = starts(m, at, "milter-reject: ")))
	at += 15;
    else if (starts(m, at, "reject: "))
	at += 8;
    else
	return;
    for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
	if (!starts(m, at, stages[i].word))
	    continue;
	r->kind = MAILLOG_PF_REFUSED;
	r->stage = stages[i].stage;
	refusal_tail(m, at + strlen(stages[i].word), r);
	if ((c = find(m, at, "]: ")) >= 0)
	    r->live = code_live(m, (size_t) c + 3);
	return;
    }
}

/* postfix - the lines of smtpd, qmgr and cleanup we need */
static void postfix(const char *daemon, const struct span *m,
		    struct maillog_rec *r)
{
    size_t at = qid_prefix(m, r);

    if (at == 0)
	return;
    if (strcmp(daemon, "smtpd") == 0) {
	if (r->qid[0] && starts(m, at, "client="))
	    pf_client(m, at, r);
	else
	    pf_refused(m, at, r);
    } else if (strcmp(daemon, "qmgr") == 0 && r->qid[0]
	       && starts(m, at, "from=<")) {
	pf_queued(m, at, r);
    } else if (strcmp(daemon, "cleanup") == 0 && r->qid[0]) {
	pf_milter_end(m, at, r);
    }
}

/* sm_relay - ", relay=H [IP]" (the last one) into the client */
static void sm_relay(const struct span *m, struct maillog_rec *r)
{
    long at = rfind(m, "relay=");

    if (at >= 0)
	r->have_client = bracket_addr(m, (size_t) at + 6, m->n, &r->client);
}

/* sm_auth - "AUTH=server, relay=H [IP], authid=U, mech=M, bits=N" */
static void sm_auth(const struct span *m, size_t at, struct maillog_rec *r)
{
    long a = find(m, at, ", authid="), e;

    if (a < 0)
	return;
    r->kind = MAILLOG_SM_AUTH;
    r->have_client = bracket_addr(m, at, (size_t) a, &r->client);
    e = find(m, (size_t) a + 9, ", mech=");
    copy(m, (size_t) a + 9, e >= 0 ? (size_t) e : m->n, r->login,
	 sizeof(r->login));
}

/* sm_from - "from=S, size=N, class=N, nrcpts=N, ..., relay=H [IP]" */
static void sm_from(const struct span *m, size_t at, struct maillog_rec *r)
{
    long s = find(m, at, ", size="), n = find(m, at, ", nrcpts=");

    if (s < 0 || n < 0)
	return;
    r->kind = MAILLOG_SM_FROM;
    copy(m, at + 5, (size_t) s, r->sender, sizeof(r->sender));
    r->size = number(m, (size_t) s + 7);
    r->nrcpt = (uint32_t) number(m, (size_t) n + 9);
    sm_relay(m, r);
}

/* sm_milter - "Milter: from=<S>, reject=CODE" (to=, data, quarantine=) */
static void sm_milter(const struct span *m, size_t at, struct maillog_rec *r)
{
    long rj = find(m, at, "reject="), q = find(m, at, "quarantine=");

    if (rj < 0 && q < 0)
	return;
    r->kind = MAILLOG_SM_MILTER;
    r->milter = true;
    r->stage = starts(m, at, "from=") ? MAILLOG_STAGE_MAIL
	: starts(m, at, "to=") ? MAILLOG_STAGE_RCPT : MAILLOG_STAGE_DATA;
    if (r->stage == MAILLOG_STAGE_MAIL && rj > 0)
	copy(m, at + 5, (size_t) rj - 2, r->sender, sizeof(r->sender));
    r->live = rj >= 0 ? code_live(m, (size_t) rj + 7) : MAILLOG_LIVE_HOLD;
    if (q >= 0)
	r->stage = MAILLOG_STAGE_DATA;
}

/* sendmail - AUTH, from= and Milter lines */
static void sendmail(const struct span *m, struct maillog_rec *r)
{
    size_t at = qid_prefix(m, r);

    if (starts(m, at, "AUTH=server, relay="))
	sm_auth(m, at + 13, r);
    else if (r->qid[0] && starts(m, at, "from="))
	sm_from(m, at, r);
    else if (r->qid[0] && starts(m, at, "Milter: "))
	sm_milter(m, at + 8, r);
    else if (r->qid[0] && starts(m, at, "milter="))
	sm_milter(m, at, r);
}

/* message - dispatch on the program that wrote the line */
static void message(const char *prog, const struct span *m,
		    struct maillog_rec *r)
{
    const char *slash = strrchr(prog, '/');
    const char *daemon = slash ? slash + 1 : prog;

    if (strncmp(prog, "postfix", 7) == 0 && slash != NULL)
	postfix(daemon, m, r);
    else if (strncmp(daemon, "sendmail", 8) == 0 || strncmp(daemon, "sm-mta", 6) == 0)
	sendmail(m, r);
}

/* maillog_parse - one line (without its newline) into r */
int maillog_parse(const char *line, size_t len, struct maillog_clock *ck,
		  struct maillog_rec *r)
{
    char buf[MAILLOG_LINE_MAX + 1], prog[64];
    struct span m;
    size_t i;

    memset(r, 0, sizeof(*r));
    if (len > MAILLOG_LINE_MAX)
	return MAILLOG_BAD;
    for (i = 0; i < len; i++)
	buf[i] = line[i] != 0 ? line[i] : '?';
    while (i > 0 && (buf[i - 1] == '\r' || buf[i - 1] == '\n'))
	i--;
    buf[i] = 0;
    if (i >= 3 && buf[0] == '-' && buf[1] == '-' && buf[2] == ' ')
	return MAILLOG_OK;	/* journalctl's "-- Boot ... --" */
    if (header(buf, i, ck, r, prog, sizeof(prog), &m) != 0)
	return MAILLOG_BAD;
    message(prog, &m, r);
    return MAILLOG_OK;
}
