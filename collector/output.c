/*
 * output - JSON, summary and the rogue list (see output.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "output.h"

/* reserve - room for n more bytes and a NUL */
static bool reserve(struct jb *j, size_t n)
{
    size_t nc;
    char *p;

    if (j->oom)
	return false;
    if (j->n + n + 1 <= j->cap)
	return true;
    for (nc = j->cap ? j->cap : 4096; nc < j->n + n + 1; nc *= 2)
	;
    if ((p = realloc(j->p, nc)) == NULL) {
	j->oom = true;
	return false;
    }
    j->p = p;
    j->cap = nc;
    return true;
}

/* jb_raw - text as it is */
void jb_raw(struct jb *j, const char *s)
{
    size_t n = strlen(s);

    if (!reserve(j, n))
	return;
    memcpy(j->p + j->n, s, n + 1);
    j->n += n;
}

/* jb_fmt - printf-formatted text */
void jb_fmt(struct jb *j, const char *fmt, ...)
{
    char buf[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    jb_raw(j, buf);
}

/* jb_str - a JSON string: control bytes escaped, valid UTF-8 kept, any
 * other byte replaced by U+FFFD (the same UTF-8 test as the log's) */
void jb_str(struct jb *j, const char *s)
{
    size_t len = strlen(s), i = 0;

    jb_raw(j, "\"");
    while (i < len) {
	unsigned char c = (unsigned char) s[i];
	size_t u = c >= 0x80 ? log_utf8_len((const unsigned char *) s + i, len - i, NULL) : 1;

	if (c == '"' || c == '\\')
	    jb_fmt(j, "\\%c", c);
	else if (c < 0x20 || c == 0x7f)
	    jb_fmt(j, "\\u%04x", c);
	else if (u == 0)
	    jb_raw(j, "\\ufffd");
	else if (reserve(j, u)) {
	    memcpy(j->p + j->n, s + i, u);
	    j->n += u;
	    j->p[j->n] = 0;
	}
	i += u ? u : 1;
    }
    jb_raw(j, "\"");
}

/* out_time - "YYYY-MM-DDThh:mm:ssZ" */
const char *out_time(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t) (ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000));
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
	snprintf(buf, len, "?");
    return buf;
}

/* jb_time - a time as a JSON string, null when unset */
void jb_time(struct jb *j, int64_t ms)
{
    char buf[32];

    if (ms == INT64_MAX || ms == INT64_MIN)
	jb_raw(j, "null");
    else
	jb_str(j, out_time(ms, buf, sizeof(buf)));
}

/* jb_free - release the buffer */
void jb_free(struct jb *j)
{
    free(j->p);
    memset(j, 0, sizeof(*j));
}

/* jb_addr - an address as a JSON string */
static void jb_addr(struct jb *j, const struct addr *a)
{
    char buf[ADDR_STRLEN];

    jb_str(j, addr_format(a, buf, sizeof(buf)));
}

/* jb_share - a percentage or null */
static void jb_share(struct jb *j, const char *key, int v)
{
    if (v < 0)
	jb_fmt(j, ", \"%s\": null", key);
    else
	jb_fmt(j, ", \"%s\": %d", key, v);
}

/* traits - the mail-server traits common to the host flags */
static void traits(struct jb *j, const struct det_flag *f, const struct det_cfg *c)
{
    jb_raw(j, ", \"name\": ");
    jb_str(j, f->traits.name);
    jb_fmt(j, ", \"named_like_mail\": %s, \"mx\": %s, \"served_days\": %u",
	   f->traits.named_mail ? "true" : "false", f->traits.is_mx ? "true" : "false",
	   f->traits.served_days);
    jb_share(j, "mail_share_flows", f->share_flows);
    jb_share(j, "mail_share_bytes", f->share_bytes);
    jb_fmt(j, ", \"mostly_mail\": %s",
	   f->share_flows >= (int) c->mail_share && f->share_bytes >= (int) c->mail_share
	   ? "true" : "false");
}

/* peers - the first external peers of a role (none without a host) */
static void peers(struct jb *j, const char *key, const struct an_host *h,
		  enum an_role role)
{
    struct addr a[OUT_PEERS_MAX];
    uint64_t conns[OUT_PEERS_MAX];
    size_t n, i;

    if (h == NULL)
	return;
    n = det_peers(h, role, a, conns, OUT_PEERS_MAX);
    jb_fmt(j, ", \"%s\": [", key);
    for (i = 0; i < n && i < OUT_PEERS_MAX; i++) {
	jb_raw(j, i ? ", " : "");
	jb_addr(j, &a[i]);
    }
    jb_raw(j, "]");
}

/* controller - direct_sender's likely controller, or null */
static void controller(struct jb *j, const struct det_flag *f, const struct det_cfg *c)
{
    jb_raw(j, ", \"controller\": ");
    if (!f->has_ctl) {
	jb_raw(j, "null");
	return;
    }
    jb_raw(j, "{\"peer\": ");
    jb_addr(j, &f->ctl_peer);
    jb_fmt(j, ", \"port\": %u, \"connections\": %u, \"followed_by_smtp\": %u, "
	   "\"lead_s\": %u}", f->ctl_port, f->ctl_conns, f->ctl_followed,
	   c->controller_lead_s);
}

/* out_evidence - a flag's evidence object */
void out_evidence(struct jb *j, const struct det_flag *f, const struct an_host *h,
		  const struct det_cfg *c)
{
    char day[32];

    switch (f->kind) {
    case DET_ROGUE_SERVER:
    case DET_DIRECT_SENDER:
	jb_fmt(j, "{\"%s\": %llu, \"connections\": %llu, \"bytes_in\": %llu, "
	       "\"bytes_out\": %llu, \"first\": ",
	       f->kind == DET_ROGUE_SERVER ? "external_clients" : "external_servers",
	       (unsigned long long) f->peers, (unsigned long long) f->conns,
	       (unsigned long long) f->bytes_in, (unsigned long long) f->bytes_out);
	jb_time(j, f->first_ms);
	jb_raw(j, ", \"last\": ");
	jb_time(j, f->last_ms);
	traits(j, f, c);
	if (f->kind == DET_DIRECT_SENDER)
	    controller(j, f, c);
	peers(j, f->kind == DET_ROGUE_SERVER ? "clients" : "servers", h,
	      f->kind == DET_ROGUE_SERVER ? AN_SERVER : AN_CLIENT);
	break;
    case DET_VOLUME_JUMP:
	out_time(f->day * DET_MS_PER_DAY, day, sizeof(day));
	day[10] = 0;
	jb_fmt(j, "{\"day\": \"%s\", \"connections\": %llu, \"baseline\": %.1f, "
	       "\"baseline_days\": %u, \"factor\": %.1f, \"bytes\": %llu, "
	       "\"baseline_bytes\": %.0f", day, (unsigned long long) f->day_conns,
	       f->baseline, f->baseline_days,
	       (double) f->day_conns / (f->baseline < 1 ? 1 : f->baseline),
	       (unsigned long long) f->day_bytes, f->baseline_bytes);
	traits(j, f, c);
	break;
    default:
	jb_fmt(j, "{\"servers\": %u, \"window_s\": %u, \"window_start\": ", f->servers,
	       c->fan_out_window_s);
	jb_time(j, f->window_ms);
	traits(j, f, c);
	break;
    }
    jb_raw(j, "}");
}

/* out_flag - one element of "flags" */
void out_flag(struct jb *j, const struct det_flag *f, const struct an_host *h,
	      const struct det_cfg *c)
{
    jb_raw(j, "{\"host\": ");
    jb_addr(j, &f->host);
    jb_fmt(j, ", \"kind\": \"%s\", \"time\": ", det_kind_name(f->kind));
    jb_time(j, f->t_ms);
    jb_raw(j, ", \"evidence\": ");
    out_evidence(j, f, h, c);
    jb_raw(j, "}");
}

/* out_clients - the "mail_clients" array */
void out_clients(struct jb *j, const struct det_client *v, size_t n)
{
    size_t i;

    jb_raw(j, "[");
    for (i = 0; i < n; i++) {
	jb_raw(j, i ? ",\n    {\"host\": " : "\n    {\"host\": ");
	jb_addr(j, &v[i].host);
	jb_fmt(j, ", \"connections\": %llu, \"bytes_in\": %llu, \"bytes_out\": %llu, "
	       "\"bytes_total\": %llu}", (unsigned long long) v[i].conns,
	       (unsigned long long) v[i].bytes_in, (unsigned long long) v[i].bytes_out,
	       (unsigned long long) (v[i].bytes_in + v[i].bytes_out));
    }
    jb_raw(j, n ? "\n  ]" : "]");
}

/* write_all - the whole buffer */
static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
	ssize_t w = write(fd, p, n);

	if (w < 0 && errno == EINTR)
	    continue;
	if (w <= 0)
	    return -1;
	p += w;
	n -= (size_t) w;
    }
    return 0;
}

/* out_rogue_list - "ADDRESS # kind time [expires=TIME] [reason="..."]"
 * lines, replaced atomically (a temporary file, fsync, rename) */
int out_rogue_list(const char *path, const struct hist_flag *v, size_t n,
		   int64_t now_ms, char *err, size_t errlen)
{
    struct jb j = {0};
    char tmp[4096], t[32];
    size_t i;
    int fd, rc = -1;

    jb_fmt(&j, "# relayguard-collector rogue list, written %s\n",
	   out_time(now_ms, t, sizeof(t)));
    for (i = 0; i < n; i++) {
	jb_fmt(&j, "%s # %s %s", v[i].host, v[i].kind, out_time(v[i].seen_ms, t, sizeof(t)));
	if (v[i].expires_ms)
	    jb_fmt(&j, " expires=%s", out_time(v[i].expires_ms, t, sizeof(t)));
	if (v[i].reason[0])	/* sanitized by the writers: no quote, no newline */
	    jb_fmt(&j, " reason=\"%s\"", v[i].reason);
	jb_raw(&j, "\n");
    }
    if (j.oom || snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long) getpid())
	>= (int) sizeof(tmp)) {
	snprintf(err, errlen, "%s: out of memory or path too long", path);
	jb_free(&j);
	return -1;
    }
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
	snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
    else if (write_all(fd, j.p, j.n) != 0 || fsync(fd) != 0)
	snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
    else {
	int cr = close(fd);

	fd = -1;
	if (cr != 0 || rename(tmp, path) != 0)
	    snprintf(err, errlen, "%s: %s", path, strerror(errno));
	else
	    rc = 0;
    }
    if (rc != 0) {
	if (fd >= 0)
	    close(fd);
	unlink(tmp);
    }
    jb_free(&j);
    return rc;
}

/* out_list_end - close, print and free a listing; its status */
enum hist_status out_list_end(struct sqlite3 *db, struct jb *j, bool json,
			      bool empty, int rc, FILE *out, const char *what,
			      char *err, size_t errlen)
{
    enum hist_status s;

    if (json)
	jb_raw(j, empty ? "]}\n" : "\n]}\n");
    if (rc == SQLITE_DONE && !j->oom && j->p)
	fputs(j->p, out);
    s = rc != SQLITE_DONE ? hist_db_fail(db, what, err, errlen)
	: j->oom ? HIST_NOMEM : HIST_OK;
    jb_free(j);
    return s;
}
