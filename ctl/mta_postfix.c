/*
 * mta_postfix - the Postfix back end: the hold queue is relayguard's
 * quarantine (the milter's SMFIF_QUARANTINE puts a message there).
 *
 *   list      postqueue -j         one JSON object per queued message
 *   details   postcat -e -h -q ID  envelope (sasl_username, client_address
 *                                  as Postfix recorded them) and headers
 *                                  (the milter's X-Relayguard)
 *   show      postcat -q ID
 *   release   postsuper -H ID, then postqueue -i ID (deliver it now)
 *   remove    postsuper -d ID hold (only from the hold queue)
 *   hold      postsuper -h ID
 *
 * With -C DIR every tool gets "-c DIR" (a non-default instance). The
 * postsuper tools exit 0 whether or not the id matched; the count on
 * their stderr ("Released from hold: 1 message") says what happened.
 * Needs the rights the tools need (postsuper: root).
 *
 * The login and client shown for a message come from the envelope,
 * where Postfix itself wrote them; the X-Relayguard header is part of
 * the message, so a sender could forge one: its user is shown beside the
 * envelope's, and a message with more than one such header is flagged.
 */
#include <stdlib.h>
#include <string.h>

#include "jread.h"
#include "mta.h"

#define PF_CONF_OPT "-c"	/* -C DIR: the instance's main.cf directory */
#define HEADER_MAX 8192		/* one unfolded header field kept */
#define ENV_PREFIX "named_attribute: "
#define POSTSUPER_HELD "Placed on hold"
#define POSTSUPER_RELEASED "Released from hold"
#define POSTSUPER_DELETED "Deleted"

/* rcpt_info - the first recipient and the count */
static void rcpt_info(const struct jread_val *o, struct mta_msg *m)
{
    const struct jread_val *r = jread_get(o, "recipients");

    if (r == NULL || r->type != JREAD_ARR)
	return;
    for (const struct jread_val *e = r->child; e != NULL; e = e->next) {
	const char *a = jread_str(e, "address");

	if (m->nrcpt++ == 0 && a != NULL)
	    mta_copy(m->rcpt, sizeof(m->rcpt), a, strlen(a));
    }
}

/* parse_record - one postqueue -j object; 1 if taken, 0 if skipped */
static int parse_record(const struct jread_val *o, enum mta_which w,
			struct mta_list *l)
{
    const char *id = jread_str(o, "queue_id");
    const char *q = jread_str(o, "queue_name");
    const char *s = jread_str(o, "sender");
    struct mta_msg *m;
    int64_t v;

    if (!mta_qid_valid(id) || q == NULL || strlen(q) >= MTA_QUEUE_MAX)
	return 0;
    if (w == MTA_HELD && strcmp(q, MTA_HOLD) != 0)
	return 0;
    if ((m = mta_list_add(l)) == NULL)
	return -1;
    mta_copy(m->id, sizeof(m->id), id, strlen(id));
    mta_copy(m->queue, sizeof(m->queue), q, strlen(q));
    if (s != NULL)
	mta_copy(m->sender, sizeof(m->sender), s, strlen(s));
    if (jread_int(o, "arrival_time", &v) == 0 && v > 0)
	m->arrival = v;
    if (jread_int(o, "message_size", &v) == 0 && v > 0)
	m->size = (uint64_t) v;
    rcpt_info(o, m);
    return 1;
}

/* mta_postfix_parse_queue - postqueue -j output into a list */
int mta_postfix_parse_queue(const char *text, size_t len, enum mta_which w,
			    struct mta_list *l, char *err, size_t errlen)
{
    const char *p = text, *end = text + len;
    int bad = 0;

    while (p < end) {
	const char *nl = memchr(p, '\n', (size_t) (end - p));
	size_t n = nl ? (size_t) (nl - p) : (size_t) (end - p);
	struct jread_val *o;

	if (n > 0 && (o = jread_parse(p, n, err, errlen)) != NULL) {
	    int rc = o->type == JREAD_OBJ ? parse_record(o, w, l) : 0;

	    jread_free(o);
	    if (rc < 0)
		return MTA_ENOMEM;
	} else if (n > 0) {
	    bad++;
	}
	p += n + 1;
    }
    if (bad > 0 && l->n == 0) {
	snprintf(err, errlen, "postqueue -j: %d unreadable lines", bad);
	return MTA_EPARSE;
    }
    return MTA_OK;
}

/* header_done - one unfolded header field: is it ours? */
static void header_done(const char *h, size_t n, struct mta_msg *m)
{
    size_t name = strlen(MTA_HEADER_NAME);
    char *value;

    if (n <= name || strncasecmp(h, MTA_HEADER_NAME, name) != 0
	|| h[name] != ':')
	return;
    if ((value = malloc(n - name)) == NULL)
	return;
    mta_copy(value, n - name, h + name + 1, n - name - 1);
    m->rg.count++;
    mta_rg_parse(value, &m->rg);	/* the last one wins */
    free(value);
}

/* envelope_line - a postcat -e record we care about */
static void envelope_line(const char *s, size_t n, struct mta_msg *m)
{
    static const struct {
	const char *attr;
	size_t off, size;
    } attrs[] = {
	{"sasl_username=", offsetof(struct mta_msg, login),
	 sizeof(((struct mta_msg *) 0)->login)},
	{"client_address=", offsetof(struct mta_msg, client),
	 sizeof(((struct mta_msg *) 0)->client)},
    };
    size_t pl = strlen(ENV_PREFIX);

    if (n < pl || strncmp(s, ENV_PREFIX, pl) != 0)
	return;
    s += pl;
    n -= pl;
    for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
	size_t al = strlen(attrs[i].attr);

	if (n >= al && strncmp(s, attrs[i].attr, al) == 0)
	    mta_copy((char *) m + attrs[i].off, attrs[i].size, s + al,
		     n - al);
    }
}

/* Where postcat's output is. */
enum pc_part { PC_NONE, PC_ENVELOPE, PC_HEADER, PC_DONE };

/* mta_postfix_parse_details - postcat -e -h output into a message */
void mta_postfix_parse_details(const char *text, size_t len,
			       struct mta_msg *m)
{
    const char *p = text, *end = text + len;
    enum pc_part part = PC_NONE;
    char *h = malloc(HEADER_MAX);
    size_t hn = 0;

    memset(&m->rg, 0, sizeof(m->rg));
    m->detailed = true;
    while (p < end && part != PC_DONE) {
	const char *nl = memchr(p, '\n', (size_t) (end - p));
	size_t n = nl ? (size_t) (nl - p) : (size_t) (end - p);
	int marker = n >= 4 && strncmp(p, "*** ", 4) == 0;

	if (part == PC_HEADER && h != NULL
	    && (marker || n == 0 || (p[0] != ' ' && p[0] != '\t'))) {
	    header_done(h, hn, m);	/* the field before this line ends */
	    hn = 0;
	}
	if (marker) {
	    part = strstr(p, "*** ENVELOPE RECORDS") == p ? PC_ENVELOPE
		: strstr(p, "*** MESSAGE CONTENTS") == p ? PC_HEADER
		: PC_DONE;
	} else if (part == PC_ENVELOPE) {
	    envelope_line(p, n, m);
	} else if (part == PC_HEADER && n == 0) {
	    part = PC_DONE;	/* end of the header section */
	} else if (part == PC_HEADER && h != NULL) {
	    size_t take = n < HEADER_MAX - 1 - hn ? n : HEADER_MAX - 1 - hn;

	    memcpy(h + hn, p, take);	/* unfold: continuation appended */
	    hn += take;
	}
	p += n + 1;
    }
    if (part == PC_HEADER && h != NULL && hn > 0)
	header_done(h, hn, m);
    free(h);
}

/* mta_postfix_count - the number after "PHRASE: " in postsuper's
 * report, 0 if it is not there */
int mta_postfix_count(const char *text, const char *phrase)
{
    const char *p = strstr(text, phrase);

    if (p == NULL || p[strlen(phrase)] != ':')
	return 0;
    return atoi(p + strlen(phrase) + 1);
}

/* pf_list - postqueue -j */
static int pf_list(const struct ctl *c, enum mta_which w, struct mta_list *l,
		   char *err, size_t errlen)
{
    const char *av[MTA_ARGV_MAX];
    struct proc_result r;
    int rc;

    mta_argv(c, av, PF_CONF_OPT, "postqueue", "-j", NULL, NULL);
    if ((rc = mta_run(av, MTA_LIST_OUT_MAX, &r, err, errlen)) == MTA_OK)
	rc = mta_postfix_parse_queue(r.out, r.outlen, w, l, err, errlen);
    if (rc == MTA_OK && r.truncated) {
	snprintf(err, errlen, "postqueue -j: more than %u MB of output",
		 MTA_LIST_OUT_MAX >> 20);
	rc = MTA_EPARSE;
    }
    proc_result_free(&r);
    return rc;
}

/* pf_details - postcat -e -h -q ID */
static int pf_details(const struct ctl *c, struct mta_msg *m, char *err,
		      size_t errlen)
{
    const char *av[MTA_ARGV_MAX];
    struct proc_result r;
    int rc;

    mta_argv(c, av, PF_CONF_OPT, "postcat", "-eh", "-q", m->id);
    if ((rc = mta_run(av, MTA_MSG_OUT_MAX, &r, err, errlen)) == MTA_OK)
	mta_postfix_parse_details(r.out, r.outlen, m);
    proc_result_free(&r);
    return rc;
}

/* pf_show - postcat -q ID, output left to the caller */
static int pf_show(const struct ctl *c, const char *id,
		   struct proc_result *r, char *err, size_t errlen)
{
    const char *av[MTA_ARGV_MAX];
    int rc;

    mta_argv(c, av, PF_CONF_OPT, "postcat", "-q", id, NULL);
    if ((rc = mta_run(av, MTA_MSG_OUT_MAX, r, err, errlen)) != MTA_OK)
	proc_result_free(r);
    return rc;
}

/* pf_super - postsuper OP ID [QUEUE]; *done = messages it handled */
static int pf_super(const struct ctl *c, const char *op, const char *id,
		    const char *queue, const char *phrase, int *done,
		    char *err, size_t errlen)
{
    const char *av[MTA_ARGV_MAX];
    struct proc_result r;
    int rc;

    *done = 0;
    mta_argv(c, av, PF_CONF_OPT, "postsuper", op, id, queue);
    if ((rc = mta_run(av, MTA_MSG_OUT_MAX, &r, err, errlen)) == MTA_OK)
	*done = mta_postfix_count(r.err, phrase);
    proc_result_free(&r);
    return rc;
}

/* pf_release - out of hold, then deliver now */
static int pf_release(const struct ctl *c, const char *id, int *done,
		      char *err, size_t errlen)
{
    const char *av[MTA_ARGV_MAX];
    struct proc_result r;
    int rc = pf_super(c, "-H", id, NULL, POSTSUPER_RELEASED, done, err,
		      errlen);

    if (rc != MTA_OK || *done == 0)
	return rc;
    /* Without this the message waits for the next queue run. */
    mta_argv(c, av, PF_CONF_OPT, "postqueue", "-i", id, NULL);
    if (mta_run(av, MTA_MSG_OUT_MAX, &r, err, errlen) != MTA_OK)
	err[0] = '\0';		/* released all the same; delivery later */
    proc_result_free(&r);
    return MTA_OK;
}

/* pf_remove - delete from the hold queue only */
static int pf_remove(const struct ctl *c, const char *id, int *done,
		     char *err, size_t errlen)
{
    return pf_super(c, "-d", id, MTA_HOLD, POSTSUPER_DELETED, done, err,
		    errlen);
}

/* pf_hold - put a queued message on hold */
static int pf_hold(const struct ctl *c, const char *id, int *done,
		   char *err, size_t errlen)
{
    return pf_super(c, "-h", id, NULL, POSTSUPER_HELD, done, err, errlen);
}

const struct mta_ops mta_postfix_ops = {
    "postfix", pf_list, pf_details, pf_show, pf_release, pf_remove, pf_hold,
};
