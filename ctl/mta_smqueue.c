/*
 * mta_smqueue - a Sendmail queue file read directly: mailq -qQ cuts the
 * quarantine reason at 60 characters, the queue file keeps all of it.
 *
 * The queue directory is sendmail.cf's QueueDirectory ("O QueueDirectory=
 * DIR" or the old "OQDIR"; a trailing '*' names several queue
 * directories), /var/spool/mqueue when the file does not say. A
 * quarantined message's control file is "hfID" (a queued one "qfID"),
 * in the queue directory or its "qf" subdirectory. Of its lines this
 * reads: q (the quarantine reason the milter gave smfi_quarantine, kept
 * whole), H (headers, with continuation lines: X-Relayguard), S (the
 * sender), R (recipients), T (the queue time), ${auth_authen} (the SASL
 * login) and $_ (the client as "host [address]").
 *
 * Contract: the queue file is untrusted text (the headers are the
 * sender's): fields are bounded copies, never interpreted further. Read
 * size is bounded. Functions return enum mta_status and fill err.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mta.h"

#define SM_CF_MAX (4u << 20)	/* sendmail.cf read at most */
#define SM_QF_MAX (1u << 20)	/* a control file: headers and envelope */
#define SM_QDIR_OPT "QueueDirectory="
#define SM_AUTH_MACRO "${auth_authen}"

/* read_bounded - at most max bytes of a regular file, NUL-ended; NULL
 * on error. A queue file is opened with O_NOFOLLOW: a link planted in the
 * queue directory is not followed. */
static char *read_bounded(const char *path, size_t max, int oflags,
			  size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | oflags);
    struct stat sb;
    char *buf = NULL;
    ssize_t n;
    size_t got = 0;

    if (fd < 0)
	return NULL;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)
	|| (buf = malloc(max + 1)) == NULL)
	goto fail;
    while (got < max && (n = read(fd, buf + got, max - got)) > 0)
	got += (size_t) n;
    if (n < 0)
	goto fail;
    close(fd);
    buf[got] = '\0';
    *len = got;
    return buf;
  fail:
    free(buf);
    close(fd);
    return NULL;
}

/* next_line - the line at *p (without its newline), advancing *p */
static size_t next_line(const char **p, const char *end, const char **line)
{
    const char *nl = memchr(*p, '\n', (size_t) (end - *p));
    size_t n = nl ? (size_t) (nl - *p) : (size_t) (end - *p);

    *line = *p;
    *p += n + (nl != NULL);
    return n;
}

/* mta_sendmail_queue_dir - QueueDirectory of a sendmail.cf text */
void mta_sendmail_queue_dir(const char *cf, size_t len, char *out,
			    size_t outlen)
{
    const char *p = cf, *end = cf + len, *line;
    size_t ol = strlen(SM_QDIR_OPT);

    mta_copy(out, outlen, MTA_SM_QUEUE_DEFAULT, strlen(MTA_SM_QUEUE_DEFAULT));
    while (p < end) {
	size_t n = next_line(&p, end, &line);

	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' '))
	    n--;
	if (n > 2 + ol && strncmp(line, "O " SM_QDIR_OPT, 2 + ol) == 0)
	    mta_copy(out, outlen, line + 2 + ol, n - 2 - ol);
	else if (n > 2 && line[0] == 'O' && line[1] == 'Q' && line[2] == '/')
	    mta_copy(out, outlen, line + 2, n - 2);	/* the old "OQ/dir" */
    }
}

/* header - one H line, continuation lines joined: X-Relayguard into rg */
static void header(const char *h, size_t n, struct mta_msg *m,
		   struct mta_rg *hdr)
{
    size_t name = strlen(MTA_HEADER_NAME);
    char value[MTA_FIELD_MAX * 4];

    if (n > 0 && h[0] == '?') {	/* "?flags?" before the name */
	const char *q = memchr(h + 1, '?', n - 1);

	if (q == NULL)
	    return;
	n -= (size_t) (q + 1 - h);
	h = q + 1;
    }
    if (n <= name || strncasecmp(h, MTA_HEADER_NAME, name) != 0
	|| h[name] != ':')
	return;
    mta_copy(value, sizeof(value), h + name + 1, n - name - 1);
    mta_rg_parse(value, hdr);
    m->rg.count++;
}

/* client_of - the address in "host [address]" */
static void client_of(const char *s, size_t n, struct mta_msg *m)
{
    const char *lb = memchr(s, '[', n), *rb;

    if (lb == NULL || (rb = memchr(lb, ']', (size_t) (s + n - lb))) == NULL)
	return;
    mta_copy(m->client, sizeof(m->client), lb + 1, (size_t) (rb - lb - 1));
    if (strncmp(m->client, "IPv6:", 5) == 0)
	memmove(m->client, m->client + 5, strlen(m->client + 5) + 1);
}

/* addr_of - an address without its angle brackets */
static void addr_of(const char *s, size_t n, char *out, size_t outlen)
{
    if (n >= 2 && s[0] == '<' && s[n - 1] == '>')
	s++, n -= 2;
    mta_copy(out, outlen, s, n);
}

/* envelope - one control line that is not a header */
static void envelope(const char *s, size_t n, struct mta_msg *m,
		     char *reason, size_t rlen)
{
    size_t al = strlen(SM_AUTH_MACRO);

    if (s[0] == 'q')
	mta_copy(reason, rlen, s + 1, n - 1);
    else if (s[0] == 'S')
	addr_of(s + 1, n - 1, m->sender, sizeof(m->sender));
    else if (s[0] == 'R' && memchr(s, ':', n) != NULL) {
	const char *a = (const char *) memchr(s, ':', n) + 1;

	if (m->nrcpt++ == 0)
	    addr_of(a, (size_t) (s + n - a), m->rcpt, sizeof(m->rcpt));
    } else if (s[0] == 'T')
	m->arrival = strtoll(s + 1, NULL, 10);
    else if (n > al && strncmp(s, SM_AUTH_MACRO, al) == 0)
	mta_copy(m->login, sizeof(m->login), s + al, n - al);
    else if (n > 2 && s[0] == '$' && s[1] == '_')
	client_of(s + 2, n - 2, m);
}

/* mta_sendmail_parse_qf - a control file's text into m */
void mta_sendmail_parse_qf(const char *text, size_t len, struct mta_msg *m)
{
    const char *p = text, *end = text + len, *line;
    char reason[MTA_FIELD_MAX], hbuf[MTA_FIELD_MAX * 4];
    struct mta_rg hdr;
    size_t hn = 0;

    memset(&hdr, 0, sizeof(hdr));
    memset(&m->rg, 0, sizeof(m->rg));
    reason[0] = '\0';
    m->nrcpt = 0;
    while (p < end) {
	size_t n = next_line(&p, end, &line);

	if (n > 0 && (line[0] == ' ' || line[0] == '\t')) {
	    if (hn > 0 && hn + n < sizeof(hbuf)) {	/* a folded header */
		memcpy(hbuf + hn, line, n);
		hn += n;
	    }
	    continue;
	}
	if (hn > 0)
	    header(hbuf, hn, m, &hdr);
	hn = 0;
	if (n > 1 && line[0] == 'H') {
	    hn = n - 1 < sizeof(hbuf) ? n - 1 : sizeof(hbuf) - 1;
	    memcpy(hbuf, line + 1, hn);
	} else if (n > 0) {
	    envelope(line, n, m, reason, sizeof(reason));
	}
    }
    if (hn > 0)
	header(hbuf, hn, m, &hdr);
    if (reason[0] != '\0') {	/* the milter's own words: trusted over headers */
	int count = m->rg.count;

	mta_rg_parse(reason, &m->rg);
	if (m->rg.reason[0] == '\0' && m->rg.rule[0] == '\0')
	    mta_copy(m->rg.reason, sizeof(m->rg.reason), reason,
		     strlen(reason));
	m->rg.count = count > 1 ? count : 1;
    } else if (m->rg.count > 0) {
	int count = m->rg.count;

	m->rg = hdr;
	m->rg.count = count;
    }
    m->detailed = true;
}

/* qf_path - the control file of id in one queue directory, or -1: a
 * quarantined one (hf) first, then a queued one (qf); in the directory's
 * "qf" subdirectory or in the directory itself */
static int qf_path(const char *dir, const char *id, char *path, size_t len)
{
    static const char *const subs[] = { "/qf/", "/" };
    static const char *const kinds[] = { "hf", "qf" };
    struct stat sb;

    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
	    snprintf(path, len, "%s%s%s%s", dir, subs[i], kinds[k], id);
	    if (lstat(path, &sb) == 0 && S_ISREG(sb.st_mode))
		return 0;
	}
    return -1;
}

/* find_qf - the control file of id under a QueueDirectory (a pattern
 * when it ends in '*'); -1 if there is none */
static int find_qf(const char *qdir, const char *id, char *path, size_t len)
{
    glob_t g;
    int rc = -1;

    if (strchr(qdir, '*') == NULL)
	return qf_path(qdir, id, path, len);
    if (glob(qdir, GLOB_ONLYDIR, NULL, &g) != 0)
	return -1;
    for (size_t i = 0; rc != 0 && i < g.gl_pathc; i++)
	rc = qf_path(g.gl_pathv[i], id, path, len);
    globfree(&g);
    return rc;
}

/* mta_sendmail_read_qf - details of m from its queue file, found with the
 * sendmail.cf at cf_path */
int mta_sendmail_read_qf(const char *cf_path, struct mta_msg *m, char *err,
			 size_t errlen)
{
    char qdir[PATH_MAX], path[PATH_MAX + MTA_QID_MAX + 8], *text;
    size_t len;

    if (!mta_qid_valid(m->id)) {
	snprintf(err, errlen, "bad queue id");
	return MTA_EPARSE;
    }
    if ((text = read_bounded(cf_path, SM_CF_MAX, 0, &len)) == NULL) {
	snprintf(err, errlen, "%s: %s", cf_path, strerror(errno));
	return MTA_ETOOL;
    }
    mta_sendmail_queue_dir(text, len, qdir, sizeof(qdir));
    free(text);
    if (find_qf(qdir, m->id, path, sizeof(path)) != 0) {
	snprintf(err, errlen, "%s: no queue file in %s", m->id, qdir);
	return MTA_ETOOL;
    }
    if ((text = read_bounded(path, SM_QF_MAX, O_NOFOLLOW, &len)) == NULL) {
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return MTA_ETOOL;
    }
    mta_sendmail_parse_qf(text, len, m);
    free(text);
    return MTA_OK;
}
