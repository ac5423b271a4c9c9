/*
 * check_alert - incident mail: header fields from hostile strings (CR/LF,
 * non-ASCII, bytes that are no UTF-8, encoded-word look-alikes, very long
 * values), the quoted-printable body, sendmail's argv, failures and
 * timeout; one mail per incident and one per escalation; the hourly
 * limit and the digest. sendmail is a script that keeps each message.
 */
#include <check.h>
#include <errno.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../collector/alert.h"
#include "../../collector/evdb.h"
#include "../../collector/mailout.h"
#include "check_main.h"

#define T0 1800000000000LL
#define MIN_MS 60000LL

static char dir[64];
static struct cfg *cfg;
static struct hist *hist;

/* script - an executable file at dir/name */
static void script(const char *name, const char *body)
{
    char path[128];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "#!/bin/sh\n%s\n", body);
    fclose(f);
    chmod(path, 0755);
}

/* setup - a directory, a sendmail that keeps each message as out/N.msg
 * and its arguments as out/N.args, the configuration and database */
static void setup(void)
{
    char conf[128], body[512], err[1024];
    FILE *f;

    snprintf(dir, sizeof(dir), "/tmp/check_alert.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(body, sizeof(body), "mkdir -p %s/out; n=$(ls %s/out | grep -c msg)\n"
	     "printf '%%s\\n' \"$@\" >%s/out/$n.args; cat >%s/out/$n.msg", dir, dir, dir, dir);
    script("sendmail", body);
    script("fail", "cat >/dev/null; exit 75");
    script("slow", "exec sleep 10");
    script("reader", "cat >/dev/null; exec sleep 10");
    snprintf(conf, sizeof(conf), "%s/rg.conf", dir);
    f = fopen(conf, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "collector: { database = \"%s/c.db\"; incidents_file = \"\";\n"
	    " alerts: { to = \"sec@example.org\"; from = \"rg@mx.example.org\";"
	    " sendmail = \"%s/sendmail\"; max_per_hour = 2; timeout = \"5s\"; }; };\n",
	    dir, dir);
    fclose(f);
    cfg = cfg_load(conf, err, sizeof(err));
    ck_assert_msg(cfg != NULL, "%s", err);
    ck_assert_int_eq(hist_open(cfg->collector.database, &hist, err, sizeof(err)), HIST_OK);
    ck_assert_int_eq(evdb_init(hist, err, sizeof(err)), HIST_OK);
    ck_assert_int_eq(alert_init(hist, err, sizeof(err)), HIST_OK);
}

/* teardown - everything setup made */
static void teardown(void)
{
    char cmd[128];

    hist_close(hist);
    cfg_free(cfg);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* header - mailout_header's text (owned by the caller) */
static char *header(const char *name, const char *value)
{
    struct jb j = {0};

    mailout_header(&j, name, value);
    ck_assert(!j.oom);
    return j.p;
}

/* check_lines - 7-bit, no line over 78, every inner line break folds */
static void check_lines(const char *h)
{
    const char *p, *start = h;

    for (p = h; *p; p++) {
	ck_assert_msg((unsigned char) *p < 0x80 && *p != '\r', "byte %02x in %s",
		      (unsigned char) *p, h);
	if (*p != '\n')
	    continue;
	ck_assert_msg(p - start <= MAILOUT_LINE_MAX, "line of %d: %s", (int) (p - start), h);
	ck_assert_msg(p[1] == 0 || p[1] == ' ', "a line break that does not fold: %s", h);
	start = p + 1;
    }
    ck_assert_msg(p > h && p[-1] == '\n', "no line end: %s", h);
}

/* decoded - the value of a header: unfolded, encoded-words decoded */
static void decoded(const char *h, char *out, size_t cap)
{
    const char *p = strchr(h, ':') + 2;
    size_t o = 0;

    while (*p && *p != '\n') {
	if (strncmp(p, "=?UTF-8?B?", 10) == 0) {
	    const char *e = strstr(p + 10, "?=");
	    unsigned char buf[256];
	    int n;

	    ck_assert_ptr_nonnull(e);
	    n = EVP_DecodeBlock(buf, (const unsigned char *) p + 10, (int) (e - p - 10));
	    for (; n > 0 && e[-1] == '='; e--)
		n--;		/* the padding decodes to zero bytes */
	    ck_assert(o + (size_t) n < cap);
	    memcpy(out + o, buf, (size_t) n);
	    o += (size_t) n;
	    p = strstr(p + 10, "?=") + 2;
	    if (strncmp(p, "\n ", 2) == 0)
		p += 2;		/* folding between words is no text */
	} else
	    out[o++] = *p++;
    }
    out[o] = 0;
}

START_TEST(test_header_plain)
{
    char *h = header("Subject", "[relayguard] INC-0123456789ab opened: usr1");

    ck_assert_str_eq(h, "Subject: [relayguard] INC-0123456789ab opened: usr1\n");
    free(h);
}
END_TEST

/* CR/LF in a login never starts a header of the attacker's */
START_TEST(test_header_crlf)
{
    static const char *const evil[] = {
	"usr1\r\nBcc: victim@example.net", "usr1\nBcc: victim@example.net",
	"usr1\rBcc: victim@example.net", "usr1\r\n\r\nbody text", "a\x85" "b\t\x7f\x1b[31m",
    };
    char out[1024];
    size_t i;

    for (i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
	char *h = header("Subject", evil[i]);

	check_lines(h);
	ck_assert_msg(strstr(h, "\nBcc") == NULL && strstr(h, "\n\n") == NULL, "%s", h);
	decoded(h, out, sizeof(out));
	ck_assert_msg(strpbrk(out, "\r\n\x1b\x7f") == NULL, "%s", out);
	free(h);
    }
    {
	char *h = header("Subject", evil[0]);

	ck_assert_str_eq(h, "Subject: usr1  Bcc: victim@example.net\n");
	free(h);
    }
}
END_TEST

/* Non-ASCII: RFC 2047 words that decode to the login; invalid UTF-8 and
 * a look-alike encoded word are encoded too */
START_TEST(test_header_non_ascii)
{
    char out[1024], *h;

    h = header("Subject", "login j\xc3\xbcrgen.m\xc3\xbcller@\xe4\xbe\x8b\xe3\x81\x88.jp");
    check_lines(h);
    ck_assert_ptr_nonnull(strstr(h, "=?UTF-8?B?"));
    decoded(h, out, sizeof(out));
    ck_assert_str_eq(out, "login j\xc3\xbcrgen.m\xc3\xbcller@\xe4\xbe\x8b\xe3\x81\x88.jp");
    free(h);
    h = header("Subject", "bad \xff\xfe utf8 \xc3");
    check_lines(h);
    decoded(h, out, sizeof(out));
    ck_assert_str_eq(out, "bad ?? utf8 ?");
    free(h);
    h = header("Subject", "=?UTF-8?Q?forged?=");
    ck_assert_msg(strncmp(h, "Subject: =?UTF-8?B?", 19) == 0, "%s", h);
    decoded(h, out, sizeof(out));
    ck_assert_str_eq(out, "=?UTF-8?Q?forged?=");
    free(h);
}
END_TEST

/* A very long value: folded lines, cut at MAILOUT_VALUE_MAX, characters
 * never split across words */
START_TEST(test_header_long)
{
    char v[6000], out[2048], *h;
    size_t i;

    for (i = 0; i + 2 < sizeof(v) - 1; i += 2)
	memcpy(v + i, "\xc3\xa9", 2);	/* e acute, 2 bytes each */
    v[i] = 0;
    v[100] = '\r', v[101] = '\n';
    h = header("Subject", v);
    check_lines(h);
    decoded(h, out, sizeof(out));
    ck_assert_uint_le(strlen(out), MAILOUT_VALUE_MAX + 3);
    ck_assert_str_eq(out + strlen(out) - 3, "...");
    ck_assert_mem_eq(out + 98, "\xc3\xa9  \xc3\xa9", 6);
    free(h);
    memset(v, 'a', 3000);
    v[3000] = 0;
    h = header("Subject", v);
    check_lines(h);
    free(h);
}
END_TEST

START_TEST(test_qp)
{
    struct jb j = {0};
    char long_line[300];
    const char *p, *start;

    memset(long_line, 'x', sizeof(long_line) - 1);
    long_line[sizeof(long_line) - 1] = 0;
    mailout_qp(&j, "subject: j\xc3\xbcrgen a=b trailing \nline\r\n.dot\n");
    ck_assert_str_eq(j.p, "subject: j=C3=BCrgen a=3Db trailing=20\nline=0D\n.dot\n");
    jb_free(&j);
    memset(&j, 0, sizeof(j));
    mailout_qp(&j, long_line);
    for (p = start = j.p; *p; p++)
	if (*p == '\n') {
	    ck_assert_int_le(p - start, 76);
	    start = p + 1;
	}
    ck_assert_ptr_nonnull(strstr(j.p, "=\n"));
    jb_free(&j);
}
END_TEST

/* mailout_send: failures are reported; a slow sendmail is killed and
 * reaped within the timeout */
START_TEST(test_sendmail_fail_timeout)
{
    char path[128], err[256];
    struct timespec a, b;
    int status;

    snprintf(path, sizeof(path), "%s/fail", dir);
    ck_assert_int_eq(mailout_send(path, "", "x@example.org", 2000, "m\n", 2, err,
				  sizeof(err)), MAILOUT_FAILED);
    ck_assert_msg(strstr(err, "exit 75") != NULL, "%s", err);
    snprintf(path, sizeof(path), "%s/missing", dir);
    ck_assert_int_eq(mailout_send(path, "", "x@example.org", 2000, "m\n", 2, err,
				  sizeof(err)), MAILOUT_FAILED);
    ck_assert_msg(strstr(err, "cannot run") != NULL, "%s", err);
    snprintf(path, sizeof(path), "%s/slow", dir);
    clock_gettime(CLOCK_MONOTONIC, &a);
    ck_assert_int_eq(mailout_send(path, "", "x@example.org", 300, "m\n", 2, err,
				  sizeof(err)), MAILOUT_FAILED);
    clock_gettime(CLOCK_MONOTONIC, &b);
    ck_assert_msg(strstr(err, "killed after 300 ms") != NULL, "%s", err);
    ck_assert_int_lt(b.tv_sec - a.tv_sec, 3);
    snprintf(path, sizeof(path), "%s/reader", dir);	/* reads it all, then hangs */
    ck_assert_int_eq(mailout_send(path, "", "x@example.org", 2000, "m\n", 2, err,
				  sizeof(err)), MAILOUT_UNSURE);
    ck_assert_msg(strstr(err, "after it had read the whole message: it may have queued it")
		  != NULL, "%s", err);
    ck_assert_int_eq(waitpid(-1, &status, WNOHANG), -1);	/* no child left */
    ck_assert_int_eq(errno, ECHILD);
}
END_TEST

/* sql - run SQL that must succeed */
static void sql(const char *s)
{
    char *msg = NULL;

    ck_assert_msg(sqlite3_exec(hist_sqlite(hist), s, NULL, NULL, &msg) == SQLITE_OK, "%s: %s",
		  s, msg ? msg : "");
}

/* incident - an open incident of login from host at t */
static void incident(const char *id, const char *login, const char *hosts, int64_t t)
{
    sqlite3_stmt *st;

    ck_assert_int_eq(sqlite3_prepare_v2(hist_sqlite(hist), "INSERT INTO incident VALUES (?1,"
					" 'login_from_flagged', ?2, ?3, ?3, ?3, ?3, 0, 1, json_array(?2),"
					" ?4, '[\"BR\"]', '[64501]', '[\"rogue_server\"]', '[\"rogue-host\"]',"
					" '[\"4XyZ1\"]')", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, login, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, t);
    sqlite3_bind_text(st, 4, hosts, -1, SQLITE_STATIC);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
}

/* run - one alert pass at t */
static struct alert_pass run(int64_t t, struct alert_state *as)
{
    struct alert_pass p;
    char err[1024];

    ck_assert_msg(alert_run(hist, cfg, t, as, &p, err, sizeof(err)) == HIST_OK, "%s", err);
    return p;
}

/* mail - the text of message n (and its argv when args) */
static char *mail(int n, bool args)
{
    static char buf[65536];
    char path[128];
    size_t got;
    FILE *f;

    snprintf(path, sizeof(path), "%s/out/%d.%s", dir, n, args ? "args" : "msg");
    f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s missing", path);
    got = fread(buf, 1, sizeof(buf) - 1, f);
    buf[got] = 0;
    fclose(f);
    return buf;
}

/* mails - how many messages sendmail got */
static int mails(void)
{
    char path[128];
    int n = 0;

    for (;; n++) {
	snprintf(path, sizeof(path), "%s/out/%d.msg", dir, n);
	if (access(path, F_OK) != 0)
	    return n;
    }
}

/* One mail per incident with its evidence; one update when a host is
 * added; nothing more for the same evidence or a second escalation. */
START_TEST(test_one_mail_and_escalation)
{
    struct alert_state as = {0};
    struct alert_pass p;
    char *m;

    sql("INSERT INTO flag VALUES ('198.18.9.9', 'rogue_server', 1, 1, '{\"external_clients\":"
	" 12, \"clients\": [{\"host\": \"203.0.113.1\", \"connections\": 40}]}')");
    incident("INC-00000000000a", "usr1", "[\"198.18.9.9\"]", T0);
    p = run(T0 + 1000, &as);
    ck_assert_uint_eq(p.mails, 1);
    ck_assert_str_eq(mail(0, true), "-i\n-f\nrg@mx.example.org\n--\nsec@example.org\n");
    m = mail(0, false);
    ck_assert_ptr_nonnull(strstr(m, "\nSubject: [relayguard] INC-00000000000a opened:"
				 " login_from_flagged usr1\n"));
    ck_assert_ptr_nonnull(strstr(m, "To: sec@example.org\n"));
    ck_assert_ptr_nonnull(strstr(m, "Message-ID: <INC-00000000000a.opened@mx.example.org>\n"));
    ck_assert_ptr_nonnull(strstr(m, "  hosts: 198.18.9.9\n"));
    ck_assert_ptr_nonnull(strstr(m, "  countries: BR\n"));
    ck_assert_ptr_nonnull(strstr(m, "  ASNs: 64501\n"));
    ck_assert_ptr_nonnull(strstr(m, "  queue ids: 4XyZ1\n"));
    ck_assert_ptr_nonnull(strstr(m, "  rules: rogue-host\n"));
    ck_assert_ptr_nonnull(strstr(m, "    198.18.9.9 rogue_server, flagged"));
    ck_assert_ptr_nonnull(strstr(m, "      clients: 203.0.113.1 40\n"));
    p = run(T0 + 2000, &as);
    ck_assert_uint_eq(p.mails + p.digests, 0);
    sql("UPDATE incident SET events = 5");	/* more of the same: no mail */
    p = run(T0 + 3000, &as);
    ck_assert_uint_eq(p.mails, 0);
    sql("UPDATE incident SET hosts = '[\"198.18.9.9\",\"198.18.8.8\"]'");
    p = run(T0 + 4000, &as);
    ck_assert_uint_eq(p.mails, 1);
    m = mail(1, false);
    ck_assert_ptr_nonnull(strstr(m, "Subject: [relayguard] INC-00000000000a escalated:"));
    ck_assert_ptr_nonnull(strstr(m, "In-Reply-To: <INC-00000000000a.opened@mx.example.org>\n"));
    ck_assert_ptr_nonnull(strstr(m, "  hosts: 198.18.9.9, 198.18.8.8\n"));
    sql("UPDATE incident SET hosts = '[\"198.18.9.9\",\"198.18.8.8\",\"198.18.7.7\"]'");
    p = run(T0 + 5000, &as);
    ck_assert_uint_eq(p.mails, 0);		/* one update only */
    ck_assert_int_eq(mails(), 2);
}
END_TEST

/* max_per_hour = 2: two mails, the rest waits and goes out as one digest
 * once the hour has room; the next incident after that is a mail again */
START_TEST(test_rate_limit_digest)
{
    struct alert_state as = {0};
    struct alert_pass p;
    char id[48], login[16], *m;
    int i;

    for (i = 0; i < 5; i++) {
	snprintf(id, sizeof(id), "INC-00000000010%d", i);
	snprintf(login, sizeof(login), "user%d", i);
	incident(id, login, "[\"198.18.9.9\"]", T0 + i);
    }
    p = run(T0 + 1000, &as);
    ck_assert_uint_eq(p.mails, 2);
    ck_assert_uint_eq(p.deferred, 3);
    incident("INC-000000000105", "user5", "[\"198.18.9.9\"]", T0 + 10 * MIN_MS);
    p = run(T0 + 10 * MIN_MS + 1000, &as);	/* still no room: it waits too */
    ck_assert_uint_eq(p.mails + p.digests, 0);
    ck_assert_uint_eq(p.deferred, 1);
    ck_assert_int_eq(mails(), 2);
    p = run(T0 + 61 * MIN_MS, &as);		/* room: one digest of the four */
    ck_assert_uint_eq(p.digests, 1);
    ck_assert_uint_eq(p.mails, 0);
    ck_assert_int_eq(mails(), 3);
    m = mail(2, false);
    ck_assert_ptr_nonnull(strstr(m, "Subject: [relayguard] digest: 4 incident alerts"
				 " (limit 2 an hour)\n"));
    for (i = 2; i < 6; i++) {
	snprintf(id, sizeof(id), "Incident INC-00000000010%d opened", i);
	ck_assert_msg(strstr(m, id) != NULL, "%s not in the digest", id);
    }
    ck_assert_ptr_null(strstr(m, "INC-000000000100"));
    p = run(T0 + 62 * MIN_MS, &as);		/* nothing left */
    ck_assert_uint_eq(p.mails + p.digests + p.deferred, 0);
    incident("INC-000000000106", "user6", "[\"198.18.9.9\"]", T0 + 63 * MIN_MS);
    p = run(T0 + 63 * MIN_MS, &as);		/* 1 mail (the digest) this hour */
    ck_assert_uint_eq(p.mails, 1);
    incident("INC-000000000107", "user7", "[\"198.18.9.9\"]", T0 + 64 * MIN_MS);
    p = run(T0 + 64 * MIN_MS, &as);
    ck_assert_uint_eq(p.mails, 0);
    ck_assert_uint_eq(p.deferred, 1);
}
END_TEST

/* A failing sendmail: nothing recorded, tried again after ALERT_RETRY_MS */
START_TEST(test_failure_retry)
{
    struct alert_state as = {0};
    struct alert_pass p;

    char *keep = cfg->collector.alerts.sendmail, alt[128];

    snprintf(alt, sizeof(alt), "%s/fail", dir);
    cfg->collector.alerts.sendmail = alt;
    incident("INC-00000000000b", "usr1", "[\"198.18.9.9\"]", T0);
    p = run(T0, &as);
    ck_assert_uint_eq(p.failed, 1);
    ck_assert_ptr_nonnull(strstr(p.error, "exit 75"));
    p = run(T0 + 1000, &as);			/* not before the retry time */
    ck_assert_uint_eq(p.failed + p.mails, 0);
    cfg->collector.alerts.sendmail = keep;
    p = run(T0 + cfg->collector.alerts.retry_ms, &as);
    ck_assert_uint_eq(p.mails, 1);
    alert_state_free(&as);
}
END_TEST

/* use - the script dir/name as sendmail (until the test ends) */
static void use(const char *name)
{
    char path[128];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    free(cfg->collector.alerts.sendmail);
    cfg->collector.alerts.sendmail = strdup(path);
    ck_assert_ptr_nonnull(cfg->collector.alerts.sendmail);
}

/* restart - a new history handle and a new state, as after a restart */
static void restart(struct alert_state *as)
{
    char err[1024];

    alert_state_free(as);
    hist_close(hist);
    ck_assert_int_eq(hist_open(cfg->collector.database, &hist, err, sizeof(err)), HIST_OK);
    ck_assert_int_eq(alert_init(hist, err, sizeof(err)), HIST_OK);
}

/* retry_row - the tries (and next_ms into *next) of the row of "from"
 * (alert_retry, the sender's; alert_try, an item's); 0 without a row */
static long long retry_row(const char *from, long long *next)
{
    sqlite3_stmt *st;
    char q[128];
    long long tries = 0;

    *next = 0;
    snprintf(q, sizeof(q), "SELECT tries, next_ms FROM %s", from);
    ck_assert_int_eq(sqlite3_prepare_v2(hist_sqlite(hist), q, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW) {
	tries = sqlite3_column_int64(st, 0);
	*next = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return tries;
}

/* scalar_try - the tries of incident id's opening (alert_try), 0: none */
static long long scalar_try(const char *id)
{
    sqlite3_stmt *st;
    long long v = 0;

    ck_assert_int_eq(sqlite3_prepare_v2(hist_sqlite(hist), "SELECT tries FROM alert_try"
					" WHERE id = ?1 AND what = 'opened'", -1, &st, NULL),
		     SQLITE_OK);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
	v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Failures in a row wait retry, twice that, four times...; the wait is
 * kept in the database, so a restart does not try at once; it stops
 * growing at ALERT_RETRY_MAX_MS; a success ends it */
START_TEST(test_backoff_across_restart)
{
    struct alert_state as = {0};
    struct alert_pass p;
    int64_t r = cfg->collector.alerts.retry_ms, t = T0;
    long long next;

    use("fail");
    incident("INC-00000000000e", "usr1", "[\"198.18.9.9\"]", T0);
    p = run(t, &as);
    ck_assert_uint_eq(p.failed, 1);
    ck_assert_int_eq(p.retry_in_ms, r);
    restart(&as);
    p = run(t + 1000, &as);			/* restarted: still waits */
    ck_assert_uint_eq(p.failed + p.mails, 0);
    p = run(t + r - 1, &as);
    ck_assert_uint_eq(p.failed + p.mails, 0);
    p = run(t += r, &as);
    ck_assert_uint_eq(p.failed, 1);
    ck_assert_int_eq(p.retry_in_ms, 2 * r);
    p = run(t + 2 * r - 1, &as);
    ck_assert_uint_eq(p.failed, 0);
    p = run(t += 2 * r, &as);
    ck_assert_int_eq(p.retry_in_ms, 4 * r);
    ck_assert_int_eq(retry_row("alert_try", &next), 3);	/* the item's own */
    ck_assert_int_eq(next, t + 4 * r);
    ck_assert_int_eq(retry_row("alert_retry", &next), 0);	/* one mail: no sender wait */
    sql("UPDATE alert_try SET tries = 40, next_ms = 0");	/* bounded */
    p = run(t += 1000, &as);
    ck_assert_uint_eq(p.failed, 1);
    ck_assert_int_eq(p.retry_in_ms, ALERT_RETRY_MAX_MS);
    use("sendmail");
    p = run(t += ALERT_RETRY_MAX_MS, &as);
    ck_assert_uint_eq(p.mails, 1);
    ck_assert_int_eq(retry_row("alert_try", &next), 0);	/* a success ends its failures */
    ck_assert_int_eq(next, 0);
    ck_assert_int_eq(mails(), 1);
    alert_state_free(&as);
}
END_TEST

/* sendmail refuses one incident's mail: the others of the pass go all
 * the same, and so does a new incident meanwhile; the refused one waits
 * on its own, doubling (old: one wait for everything, so a mail that
 * always fails held up every other until its wait, up to an hour) */
START_TEST(test_one_failing_incident_holds_up_no_other)
{
    struct alert_state as = {0};
    struct alert_pass p;
    int64_t r = cfg->collector.alerts.retry_ms, t = T0 + 1000;
    char body[512];

    snprintf(body, sizeof(body), "m=$(cat); case \"$m\" in *INC-000000000030*) exit 75;; esac\n"
	     "printf '%%s\\n' \"$m\" | %s/sendmail \"$@\"", dir);
    script("picky", body);
    use("picky");
    cfg->collector.alerts.max_per_hour = 10;
    incident("INC-000000000030", "usr1", "[\"198.18.9.9\"]", T0);
    incident("INC-000000000031", "usr2", "[\"198.18.9.9\"]", T0 + 1);
    incident("INC-000000000032", "usr3", "[\"198.18.9.9\"]", T0 + 2);
    p = run(t, &as);
    ck_assert_uint_eq(p.failed, 1);
    ck_assert_uint_eq(p.mails, 2);
    ck_assert_int_eq(p.retry_in_ms, r);
    ck_assert_int_eq(p.next_ms, t + r);		/* the refused one's own time */
    incident("INC-000000000033", "usr4", "[\"198.18.9.9\"]", t + 1000);
    p = run(t + 1000, &as);			/* a new incident: mailed at once */
    ck_assert_uint_eq(p.mails, 1);
    ck_assert_uint_eq(p.failed, 0);
    p = run(t + r, &as);			/* the refused one again: its 2nd wait */
    ck_assert_uint_eq(p.failed, 1);
    ck_assert_int_eq(p.retry_in_ms, 2 * r);
    ck_assert_int_eq(p.next_ms, t + 3 * r);
    incident("INC-000000000034", "usr5", "[\"198.18.9.9\"]", t + r + 1000);
    p = run(t + r + 1000, &as);
    ck_assert_uint_eq(p.mails, 1);
    ck_assert_int_eq(mails(), 4);
    ck_assert_ptr_null(strstr(mail(0, false), "INC-000000000030"));
    alert_state_free(&as);
}
END_TEST

/* A sendmail that fails every mail: two tries in a pass, then nothing
 * is tried before the sender's wait; a success ends it */
START_TEST(test_broken_sender_waits)
{
    struct alert_state as = {0};
    struct alert_pass p;
    int64_t r = cfg->collector.alerts.retry_ms, t = T0 + 1000;
    long long next;
    int i;
    char id[32];

    use("fail");
    cfg->collector.alerts.max_per_hour = 10;
    for (i = 0; i < 4; i++) {
	snprintf(id, sizeof(id), "INC-00000000004%d", i);
	incident(id, "usr1", "[\"198.18.9.9\"]", T0 + i);
    }
    p = run(t, &as);
    ck_assert_uint_eq(p.failed, 2);
    ck_assert_int_eq(retry_row("alert_retry", &next), 1);
    ck_assert_int_eq(next, t + r);
    ck_assert_int_eq(p.next_ms, t + r);
    p = run(t + 1000, &as);			/* the 2 not tried wait too */
    ck_assert_uint_eq(p.failed + p.mails, 0);
    ck_assert_int_eq(p.next_ms, t + r);
    p = run(t + r, &as);			/* the two not tried yet come first */
    ck_assert_uint_eq(p.failed, 2);
    ck_assert_int_eq(retry_row("alert_retry", &next), 2);
    ck_assert_int_eq(next, t + 3 * r);
    ck_assert_int_eq(scalar_try("INC-000000000042"), 1);
    ck_assert_int_eq(scalar_try("INC-000000000043"), 1);
    use("sendmail");
    p = run(t + 3 * r, &as);
    ck_assert_uint_eq(p.mails, 4);
    ck_assert_int_eq(retry_row("alert_retry", &next), 0);
    alert_state_free(&as);
}
END_TEST

/* counter - an intake counter's value, 0 when there is none */
static long long counter(const char *name)
{
    sqlite3_stmt *st;
    long long v = 0;

    ck_assert_int_eq(sqlite3_prepare_v2(hist_sqlite(hist), "SELECT value FROM counter WHERE"
					" name = ?1", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
	v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* msgid - the Message-ID field of message n into out */
static void msgid(int n, char *out, size_t cap)
{
    const char *m = strstr(mail(n, false), "\nMessage-ID: ");

    ck_assert_ptr_nonnull(m);
    snprintf(out, cap, "%.*s", (int) strcspn(m + 1, "\n"), m + 1);
}

/* sendmail took the whole message, then hung and was killed at the
 * timeout: the try counts as failed and "perhaps sent" (counted as
 * alerts_maybe_twice); the retry's copy has the same Message-ID */
START_TEST(test_killed_after_reading)
{
    struct alert_state as = {0};
    struct alert_pass p;
    char body[256], id0[128], id1[128];

    snprintf(body, sizeof(body), "%s/sendmail \"$@\"; exec sleep 10", dir);
    script("took_hung", body);
    use("took_hung");
    cfg->collector.alerts.timeout_ms = 2000;	/* room to read it on a loaded machine */
    incident("INC-000000000050", "usr1", "[\"198.18.9.9\"]", T0);
    p = run(T0 + 1000, &as);
    ck_assert_uint_eq(p.failed, 1);
    ck_assert_uint_eq(p.unsure, 1);
    ck_assert_msg(strstr(p.error, "it may have queued it") != NULL, "%s", p.error);
    ck_assert_int_eq(counter(ALERT_MAYBE_TWICE), 1);
    use("sendmail");
    p = run(T0 + 1000 + cfg->collector.alerts.retry_ms, &as);
    ck_assert_uint_eq(p.mails, 1);
    ck_assert_int_eq(mails(), 2);
    msgid(0, id0, sizeof(id0));
    msgid(1, id1, sizeof(id1));
    ck_assert_str_eq(id0, "Message-ID: <INC-000000000050.opened@mx.example.org>");
    ck_assert_str_eq(id1, id0);
    alert_state_free(&as);
}
END_TEST

/* A digest that failed (its copy kept by sendmail) and is tried again has
 * the same Message-ID (old: "digest.<time of the try>", a new one) */
START_TEST(test_digest_retry_same_message_id)
{
    struct alert_state as = {0};
    struct alert_pass p;
    char body[256], id0[128], id1[128];
    int i;

    snprintf(body, sizeof(body), "%s/sendmail \"$@\"; exit 75", dir);
    script("took_failed", body);
    for (i = 0; i < 4; i++) {
	snprintf(id0, sizeof(id0), "INC-00000000006%d", i);
	incident(id0, "usr1", "[\"198.18.9.9\"]", T0 + i);
    }
    p = run(T0 + 1000, &as);
    ck_assert_uint_eq(p.mails, 2);
    ck_assert_uint_eq(p.deferred, 2);
    use("took_failed");
    p = run(T0 + 61 * MIN_MS, &as);
    ck_assert_uint_eq(p.failed, 1);
    use("sendmail");
    p = run(T0 + 61 * MIN_MS + cfg->collector.alerts.retry_ms, &as);
    ck_assert_uint_eq(p.digests, 1);
    ck_assert_int_eq(mails(), 4);
    msgid(2, id0, sizeof(id0));
    msgid(3, id1, sizeof(id1));
    ck_assert_msg(strncmp(id0, "Message-ID: <digest.", 20) == 0, "%s", id0);
    ck_assert_str_eq(id1, id0);
    alert_state_free(&as);
}
END_TEST

/* An item whose mail always fails waits for a digest with three others:
 * the digest fails, once more whole, then halves until the item fails
 * alone and waits on its own; the others go out (old: every digest held
 * it and failed, so none ever went) */
START_TEST(test_digest_escapes_failing_item)
{
    struct alert_state as = {0};
    struct alert_pass p;
    const char *ids[] = {"71", "72", "70", "73", "74"}, *m;
    char id[32], body[512], all[8192] = "";
    int64_t t = T0 + 61 * MIN_MS;
    int i;

    snprintf(body, sizeof(body), "m=$(cat); case \"$m\" in *INC-000000000070*) exit 75;; esac\n"
	     "printf '%%s\\n' \"$m\" | %s/sendmail \"$@\"", dir);
    script("picky", body);
    use("picky");
    for (i = 0; i < 5; i++) {
	snprintf(id, sizeof(id), "INC-0000000000%s", ids[i]);
	incident(id, "usr1", "[\"198.18.9.9\"]", T0 + i);
    }
    p = run(T0 + 1000, &as);			/* 71 and 72 mailed, 3 wait */
    ck_assert_uint_eq(p.deferred, 3);
    for (i = 0; i < 8 && mails() < 4; i++, t = p.next_ms > t ? p.next_ms : t + 1000)
	p = run(t, &as);
    ck_assert_int_eq(mails(), 4);		/* two digests: 73, 74 */
    for (i = 2; i < 4; i++) {
	m = mail(i, false);
	ck_assert_ptr_nonnull(strstr(m, "Subject: [relayguard] digest: 1 incident alerts"));
	snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s", m);
    }
    ck_assert_ptr_nonnull(strstr(all, "INC-000000000073"));
    ck_assert_ptr_nonnull(strstr(all, "INC-000000000074"));
    ck_assert_int_ge(scalar_try("INC-000000000070"), 1);	/* it waits on its own */
    alert_state_free(&as);
}
END_TEST

/* The record of a mail that sendmail took fails (database error): the
 * next pass records it, and does not send it again */
START_TEST(test_record_fails_no_repeat)
{
    struct alert_state as = {0};
    struct alert_pass p;
    char err[1024];

    incident("INC-00000000000f", "usr1", "[\"198.18.9.9\"]", T0);
    sql("CREATE TRIGGER no_record BEFORE INSERT ON alert_item BEGIN"
	" SELECT RAISE(ABORT, 'disk I/O error (test)'); END");
    ck_assert_int_ne(alert_run(hist, cfg, T0 + 1000, &as, &p, err, sizeof(err)), HIST_OK);
    ck_assert_int_eq(mails(), 1);
    ck_assert_ptr_nonnull(strstr(err, "disk I/O error (test)"));
    ck_assert_int_ne(alert_run(hist, cfg, T0 + 2000, &as, &p, err, sizeof(err)), HIST_OK);
    ck_assert_int_eq(mails(), 1);		/* nothing sent while it is not kept */
    sql("DROP TRIGGER no_record");
    p = run(T0 + 3000, &as);
    ck_assert_uint_eq(p.mails + p.digests + p.failed, 0);
    p = run(T0 + 4000, &as);
    ck_assert_uint_eq(p.mails + p.digests + p.failed, 0);
    ck_assert_int_eq(mails(), 1);
    alert_state_free(&as);
}
END_TEST

/* The incident grows while sendmail runs: the opening is recorded with
 * the evidence it named, so the growth is still mailed as the update */
START_TEST(test_escalation_while_sending)
{
    struct alert_state as = {0};
    struct alert_pass p;
    char body[512];

    snprintf(body, sizeof(body), "sqlite3 %s/c.db '.timeout 5000' \"UPDATE incident SET"
	     " hosts = '[\\\"198.18.9.9\\\",\\\"198.18.8.8\\\"]'\" >/dev/null || exit 75\n"
	     "exec %s/sendmail \"$@\"", dir, dir);
    script("grow", body);
    use("grow");
    incident("INC-000000000010", "usr1", "[\"198.18.9.9\"]", T0);
    p = run(T0 + 1000, &as);
    ck_assert_uint_eq(p.mails, 1);
    ck_assert_ptr_nonnull(strstr(mail(0, false), "  hosts: 198.18.9.9\n"));
    use("sendmail");
    p = run(T0 + 2000, &as);
    ck_assert_uint_eq(p.mails, 1);
    ck_assert_ptr_nonnull(strstr(mail(1, false), "INC-000000000010 escalated"));
    ck_assert_ptr_nonnull(strstr(mail(1, false), "  hosts: 198.18.9.9, 198.18.8.8\n"));
    alert_state_free(&as);
}
END_TEST

/* wait_file - the file's first number, within 5 s */
static long wait_file(const char *path)
{
    long v = 0;
    int i;

    for (i = 0; i < 500 && v <= 0; i++) {
	FILE *f = fopen(path, "r");

	if (f != NULL && fscanf(f, "%ld", &v) != 1)
	    v = 0;
	if (f != NULL)
	    fclose(f);
	if (v <= 0)
	    usleep(10000);
    }
    ck_assert_msg(v > 0, "%s not written", path);
    return v;
}

/* A collector killed (SIGKILL, with its sendmail) while sendmail ran:
 * after the restart the mail goes out once, after the retry wait */
START_TEST(test_killed_mid_send)
{
    struct alert_state as = {0};
    struct alert_pass p;
    char body[512], pidf[128];
    long spid;
    pid_t pid;
    int status;

    snprintf(pidf, sizeof(pidf), "%s/hang.pid", dir);
    snprintf(body, sizeof(body), "echo $$ >%s.tmp; mv %s.tmp %s; exec sleep 30", pidf, pidf,
	     pidf);
    script("hang", body);
    incident("INC-000000000011", "usr1", "[\"198.18.9.9\"]", T0);
    if ((pid = fork()) == 0) {
	struct hist *h2;
	char err[1024];

	use("hang");
	if (hist_open(cfg->collector.database, &h2, err, sizeof(err)) == HIST_OK)
	    alert_run(h2, cfg, T0, &as, &p, err, sizeof(err));
	_exit(0);
    }
    ck_assert_int_gt(pid, 0);
    spid = wait_file(pidf);
    kill(pid, SIGKILL);
    kill((pid_t) spid, SIGKILL);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFSIGNALED(status));
    restart(&as);
    p = run(T0 + 1000, &as);			/* the cut-short try waits too */
    ck_assert_uint_eq(p.mails + p.failed, 0);
    ck_assert_int_eq(mails(), 0);
    p = run(T0 + cfg->collector.alerts.retry_ms, &as);
    ck_assert_uint_eq(p.mails, 1);
    p = run(T0 + 2 * cfg->collector.alerts.retry_ms, &as);
    ck_assert_uint_eq(p.mails + p.failed, 0);
    ck_assert_int_eq(mails(), 1);
    ck_assert_ptr_nonnull(strstr(mail(0, false), "INC-000000000011 opened"));
    alert_state_free(&as);
}
END_TEST

/* A hostile login (as stored) makes no header of its own in the mail */
START_TEST(test_hostile_login_mail)
{
    struct alert_state as = {0};
    struct alert_pass p;
    char *m, *body;
    const char *c;

    incident("INC-00000000000c", "evil\r\nBcc: victim@example.net\r\n\r\nj\xc3\xbcrgen",
	     "[\"198.18.9.9\"]", T0);
    p = run(T0 + 1000, &as);
    ck_assert_uint_eq(p.mails, 1);
    m = mail(0, false);
    body = strstr(m, "\n\n");
    ck_assert_ptr_nonnull(body);
    *body = 0;
    ck_assert_msg(strstr(m, "\nBcc") == NULL, "%s", m);
    for (c = m; *c; c++)
	ck_assert((unsigned char) *c < 0x80 && *c != '\r');
    for (c = body + 2; *c; c++)		/* the body too: quoted-printable */
	ck_assert((unsigned char) *c < 0x80 && *c != '\r');
    ck_assert_ptr_nonnull(strstr(body + 2, "j=C3=BCrgen"));
    ck_assert_ptr_nonnull(strstr(m, "Content-Transfer-Encoding: quoted-printable"));
}
END_TEST

/* An alerts section without "to" sends nothing */
START_TEST(test_off)
{
    struct alert_state as = {0};
    struct alert_pass p;

    cfg->collector.alerts.to[0] = 0;
    incident("INC-00000000000d", "usr1", "[\"198.18.9.9\"]", T0);
    p = run(T0, &as);
    ck_assert_uint_eq(p.mails + p.digests + p.deferred, 0);
    ck_assert_int_eq(mails(), 0);
}
END_TEST

/* The addresses are checked when the configuration loads */
START_TEST(test_cfg_addresses)
{
    static const char *const bad[] = {"-oQ/tmp@x", "a b@example.org", "a@b@c", "<a@b>",
	"a@b\\nBcc: c", "a,b@example.org", "@example.org"};
    char conf[128], err[2048];
    struct cfg *c;
    size_t i;
    FILE *f;

    snprintf(conf, sizeof(conf), "%s/bad.conf", dir);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
	f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "collector: { alerts: { to = \"%s\"; }; };\n", bad[i]);
	fclose(f);
	c = cfg_load(conf, err, sizeof(err));
	ck_assert_msg(c == NULL, "%s accepted", bad[i]);
	ck_assert_msg(strstr(err, "collector.alerts.to") != NULL, "%s", err);
    }
    ck_assert_ptr_nonnull(strstr(cfg->collector.alerts.sendmail, "/sendmail"));
    ck_assert_uint_eq(cfg->collector.alerts.max_per_hour, 2);
    ck_assert_uint_eq(cfg->collector.alerts.timeout_ms, 5000);
}
END_TEST

/* alert_suite - every case above */
static Suite *alert_suite(void)
{
    Suite *s = suite_create("alert");
    TCase *tc = tcase_create("alert");

    tcase_add_checked_fixture(tc, setup, teardown);
    /* the cases run sendmail scripts, several a case: 4 s (Check's
     * default) is not enough under ASan on a loaded machine */
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_header_plain);
    tcase_add_test(tc, test_header_crlf);
    tcase_add_test(tc, test_header_non_ascii);
    tcase_add_test(tc, test_header_long);
    tcase_add_test(tc, test_qp);
    tcase_add_test(tc, test_sendmail_fail_timeout);
    tcase_add_test(tc, test_one_mail_and_escalation);
    tcase_add_test(tc, test_rate_limit_digest);
    tcase_add_test(tc, test_failure_retry);
    tcase_add_test(tc, test_backoff_across_restart);
    tcase_add_test(tc, test_one_failing_incident_holds_up_no_other);
    tcase_add_test(tc, test_broken_sender_waits);
    tcase_add_test(tc, test_killed_after_reading);
    tcase_add_test(tc, test_digest_retry_same_message_id);
    tcase_add_test(tc, test_digest_escapes_failing_item);
    tcase_add_test(tc, test_record_fails_no_repeat);
    tcase_add_test(tc, test_escalation_while_sending);
    tcase_add_test(tc, test_killed_mid_send);
    tcase_add_test(tc, test_hostile_login_mail);
    tcase_add_test(tc, test_off);
    tcase_add_test(tc, test_cfg_addresses);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(alert_suite());
}
