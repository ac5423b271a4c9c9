/*
 * mta_sendmail - the Sendmail back end, best effort: Sendmail keeps a
 * quarantined message in its queue (an "hf" file) with the reason the
 * milter gave to smfi_quarantine.
 *
 *   list      mailq -qQ (quarantined) or mailq (the normal queue)
 *   show      mailq -qQ -qIID (the queue entry; not the message text)
 *   release   sendmail -qQ -Q -qIID (no reason: unquarantine), then
 *             sendmail -qIID (run it now)
 *   hold      sendmail -Q"relayguard: contained" -qIID
 *   remove    not supported: Sendmail has no tool that deletes one queue
 *             entry (use qtool.pl -d, or remove its qf/hf and df files)
 *
 * -qI matches any queue id that contains the text, so an id is acted on
 * only after the listing showed it exactly. With -C FILE the tools get
 * "-C FILE" (Sendmail's configuration file, sendmail.cf). mailq -qQ cuts
 * the quarantine reason at 60 characters, so the details (the whole
 * reason, the login and client) come from the message's queue file, found
 * through the QueueDirectory of that file (mta_smqueue.c).
 * Written against Sendmail 8.13+ documentation, not tested against a
 * running Sendmail.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "mta.h"

#define SM_CONF_OPT "-C"	/* -C FILE: Sendmail's configuration file */
#define QI_MAX (MTA_QID_MAX + 4)	/* "-qI" + id */
#define QUARANTINE_MARK "QUARANTINE:"
#define CONTAIN_REASON "-Qrelayguard: contained"
#define SM_QUEUE "queue"		/* the normal queue */

/* entry_line - "ID[*X-] SIZE Day Mon DD HH:MM <sender>"; 1 if it is one */
static int entry_line(const char *s, size_t n, const char *queue,
		      struct mta_list *l)
{
    char id[MTA_QID_MAX], buf[MTA_FIELD_MAX];
    size_t i = 0, k;
    struct mta_msg *m;
    const char *lt;

    while (i < n && i < MTA_QID_MAX - 1 && isalnum((unsigned char) s[i]))
	i++;
    mta_copy(id, sizeof(id), s, i);
    if (i < n && strchr("*X-", s[i]) != NULL)
	i++;			/* status: running, load too high, too young */
    k = i;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
	i++;
    if (k == i || i >= n || !isdigit((unsigned char) s[i])
	|| !mta_qid_valid(id) || (m = mta_list_add(l)) == NULL)
	return 0;		/* not "ID SIZE ...": a heading or a note */
    memcpy(m->id, id, sizeof(m->id));
    mta_copy(m->queue, sizeof(m->queue), queue, strlen(queue));
    for (k = 0; i < n && isdigit((unsigned char) s[i]); i++)
	if (k + 1 < sizeof(buf))
	    buf[k++] = s[i];
    buf[k] = '\0';
    m->size = strtoull(buf, NULL, 10);
    if ((lt = memchr(s + i, '<', n - i)) != NULL) {
	const char *gt = memchr(lt, '>', (size_t) (s + n - lt));

	if (gt != NULL)
	    mta_copy(m->sender, sizeof(m->sender), lt + 1,
		     (size_t) (gt - lt - 1));
    }
    return 1;
}

/* detail_line - an indented line under an entry */
static void detail_line(const char *s, size_t n, struct mta_msg *m)
{
    size_t ml = strlen(QUARANTINE_MARK);
    char reason[MTA_FIELD_MAX];

    while (n > 0 && (*s == ' ' || *s == '\t'))
	s++, n--;
    if (n > ml && strncmp(s, QUARANTINE_MARK, ml) == 0) {
	s += ml;
	n -= ml;
	while (n > 0 && *s == ' ')
	    s++, n--;
	mta_copy(reason, sizeof(reason), s, n);
	mta_rg_parse(reason, &m->rg);
	if (m->rg.reason[0] == '\0')	/* not key=value: the whole text */
	    mta_copy(m->rg.reason, sizeof(m->rg.reason), s, n);
	m->rg.count = 1;
	mta_copy(m->login, sizeof(m->login), m->rg.user,
		 strlen(m->rg.user));
	mta_copy(m->client, sizeof(m->client), m->rg.client,
		 strlen(m->rg.client));
	m->detailed = true;
    } else if (n > 1 && *s == '<') {
	const char *gt = memchr(s, '>', n);

	if (m->nrcpt++ == 0 && gt != NULL)
	    mta_copy(m->rcpt, sizeof(m->rcpt), s + 1, (size_t) (gt - s - 1));
    }
}

/* mta_sendmail_parse_queue - mailq output into a list */
int mta_sendmail_parse_queue(const char *text, size_t len, const char *queue,
			     struct mta_list *l)
{
    const char *p = text, *end = text + len;
    struct mta_msg *cur = NULL;
    size_t before = l->n;

    while (p < end) {
	const char *nl = memchr(p, '\n', (size_t) (end - p));
	size_t n = nl ? (size_t) (nl - p) : (size_t) (end - p);

	if (n > 0 && (p[0] == ' ' || p[0] == '\t')) {
	    if (cur != NULL)
		detail_line(p, n, cur);	/* "(Deferred: ...)" is ignored */
	} else if (n > 0 && p[0] != '-' && entry_line(p, n, queue, l)) {
	    cur = &l->v[l->n - 1];
	} else {
	    cur = NULL;
	}
	p += n + 1;
    }
    return (int) (l->n - before);
}

/* sm_list - mailq, quarantined or normal */
static int sm_list(const struct ctl *c, enum mta_which w, struct mta_list *l,
		   char *err, size_t errlen)
{
    const char *av[MTA_ARGV_MAX];
    struct proc_result r;
    int rc;

    mta_argv(c, av, SM_CONF_OPT, "mailq", "-qQ", NULL, NULL);
    if ((rc = mta_run(av, MTA_LIST_OUT_MAX, &r, err, errlen)) == MTA_OK)
	mta_sendmail_parse_queue(r.out, r.outlen, MTA_HOLD, l);
    proc_result_free(&r);
    if (rc != MTA_OK || w == MTA_HELD)
	return rc;
    mta_argv(c, av, SM_CONF_OPT, "mailq", NULL, NULL, NULL);
    if ((rc = mta_run(av, MTA_LIST_OUT_MAX, &r, err, errlen)) == MTA_OK)
	mta_sendmail_parse_queue(r.out, r.outlen, SM_QUEUE, l);
    proc_result_free(&r);
    return rc;
}

/* sm_details - the queue file: the whole quarantine reason, the login */
static int sm_details(const struct ctl *c, struct mta_msg *m, char *err,
		      size_t errlen)
{
    return mta_sendmail_read_qf(c->mta_dir ? c->mta_dir : MTA_SM_CF_DEFAULT,
				m, err, errlen);
}

/* sm_show - the queue entry of one quarantined message */
static int sm_show(const struct ctl *c, const char *id,
		   struct proc_result *r, char *err, size_t errlen)
{
    const char *av[MTA_ARGV_MAX];
    char qi[QI_MAX];
    int rc;

    snprintf(qi, sizeof(qi), "-qI%s", id);
    mta_argv(c, av, SM_CONF_OPT, "mailq", "-qQ", qi, NULL);
    if ((rc = mta_run(av, MTA_MSG_OUT_MAX, r, err, errlen)) != MTA_OK)
	proc_result_free(r);
    return rc;
}

/* sm_tool - run sendmail with up to three arguments */
static int sm_tool(const struct ctl *c, const char *a1, const char *a2,
		   const char *a3, char *err, size_t errlen)
{
    const char *av[MTA_ARGV_MAX];
    struct proc_result r;
    int rc;

    mta_argv(c, av, SM_CONF_OPT, "sendmail", a1, a2, a3);
    rc = mta_run(av, MTA_MSG_OUT_MAX, &r, err, errlen);
    proc_result_free(&r);
    return rc;
}

/* sm_release - unquarantine, then run the entry */
static int sm_release(const struct ctl *c, const char *id, int *done,
		      char *err, size_t errlen)
{
    char qi[QI_MAX];
    int rc;

    snprintf(qi, sizeof(qi), "-qI%s", id);
    *done = 0;
    if ((rc = sm_tool(c, "-qQ", "-Q", qi, err, errlen)) != MTA_OK)
	return rc;
    *done = 1;
    if (sm_tool(c, qi, NULL, NULL, err, errlen) != MTA_OK)
	err[0] = '\0';		/* released; the queue runner delivers it */
    return MTA_OK;
}

/* sm_remove - Sendmail has no tool for it */
static int sm_remove(const struct ctl *c, const char *id, int *done,
		     char *err, size_t errlen)
{
    (void) c, (void) id;
    *done = 0;
    snprintf(err, errlen, "delete is not supported with --mta sendmail:"
	     " use qtool.pl -d, or remove the entry's qf/hf and df files");
    return MTA_ENOTSUP;
}

/* sm_hold - quarantine a queued message */
static int sm_hold(const struct ctl *c, const char *id, int *done,
		   char *err, size_t errlen)
{
    char qi[QI_MAX];
    int rc;

    snprintf(qi, sizeof(qi), "-qI%s", id);
    rc = sm_tool(c, CONTAIN_REASON, qi, NULL, err, errlen);
    *done = rc == MTA_OK;
    return rc;
}

const struct mta_ops mta_sendmail_ops = {
    "sendmail", sm_list, sm_details, sm_show, sm_release, sm_remove, sm_hold,
};
