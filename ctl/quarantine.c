/*
 * quarantine - review of what the milter quarantined (Postfix hold queue,
 * Sendmail quarantine); contain.c shares the back-end choice from here.
 *
 *   quarantine list            held messages with the relayguard verdict
 *   quarantine show ID         one message: envelope, verdict, the text
 *   quarantine release ID      back into the queue, delivered now
 *   quarantine delete ID       gone
 *
 * Contract: a queue id is validated before anything else (exit 2 if it
 * is not 1..31 letters and digits) and acted on only if the MTA's own
 * listing shows it in the right queue (exit 1 otherwise). Everything the
 * messages carry is untrusted: it is cleaned on the way to a terminal
 * (tables, text_clean_line for message text) and escaped in JSON. The MTA
 * tools failing or missing is exit 69.
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "mta.h"
#include "quarantine.h"
#include "table.h"
#include "text.h"

#define ERR_MAX 512
#define LINE_OUT_MAX 4096	/* one cleaned line of message text */
#define SUSPECT_MARK "FORGED? "

/* quarantine_ops - the back end the command line chose */
const struct mta_ops *quarantine_ops(const struct ctl *c)
{
    return c->mta == CTL_MTA_SENDMAIL ? &mta_sendmail_ops : &mta_postfix_ops;
}

/* quarantine_fail - report a back-end failure; exit 69 */
int quarantine_fail(struct ctl *c, const char *err)
{
    return ctl_error(c, CTL_EXIT_UNAVAILABLE, "%s: %s",
		     quarantine_ops(c)->name, err[0] ? err : "failed");
}

/* login_of - the login to show: the MTA's record, else the header's */
static const char *login_of(const struct mta_msg *m)
{
    return m->login[0] ? m->login : m->rg.user;
}

/* suspect - a header that disagrees with the envelope, or several */
static bool suspect(const struct mta_msg *m)
{
    return m->rg.count > 1 || (m->login[0] && m->rg.user[0]
			       && strcasecmp(m->login, m->rg.user) != 0);
}

/* newest_first - qsort order of held messages */
static int newest_first(const void *pa, const void *pb)
{
    const struct mta_msg *a = pa, *b = pb;

    return a->arrival < b->arrival ? 1 : a->arrival > b->arrival ? -1
	: strcmp(a->id, b->id);
}

/* msg_json - one message as an object */
static void msg_json(struct json *j, const struct mta_msg *m)
{
    json_obj(j);
    json_kstr(j, "queue_id", m->id);
    json_kstr(j, "queue", m->queue);
    json_kint(j, "arrival_time", m->arrival);
    json_kuint(j, "size", m->size);
    json_kstr(j, "sender", m->sender);
    json_kstr(j, "recipient", m->rcpt);
    json_kuint(j, "recipients", m->nrcpt);
    json_kstr(j, "login", m->login);
    json_kstr(j, "client", m->client);
    json_key(j, "relayguard");
    if (m->rg.count == 0) {
	json_null(j);
    } else {
	json_obj(j);
	json_kstr(j, "action", m->rg.action);
	json_kstr(j, "rule", m->rg.rule);
	json_kstr(j, "user", m->rg.user);
	json_kstr(j, "client", m->rg.client);
	json_kstr(j, "country", m->rg.country);
	json_kstr(j, "reason", m->rg.reason);
	json_kuint(j, "headers", (uint64_t) m->rg.count);
	json_obj_end(j);
    }
    json_kbool(j, "suspect", suspect(m));
    json_obj_end(j);
}

/* list_table - the held messages for a person */
static int list_table(struct ctl *c, const struct mta_list *l, size_t n)
{
    static const struct table_col cols[] = {
	{"QUEUE ID", TABLE_LEFT, 0, 0, 0}, {"AGE", TABLE_RIGHT, 0, 0, 0},
	{"LOGIN", TABLE_LEFT, 1, 8, 24}, {"CLIENT", TABLE_LEFT, 1, 11, 0},
	{"CC", TABLE_LEFT, 0, 0, 0}, {"RULE", TABLE_LEFT, 1, 17, 0},
	{"REASON", TABLE_LEFT, 1, 12, 0},
    };
    struct table *t = table_new(cols, sizeof(cols) / sizeof(cols[0]));
    int rc = t == NULL ? -1 : 0;

    for (size_t i = 0; rc == 0 && i < n; i++) {
	const struct mta_msg *m = &l->v[i];
	char age[TEXT_AGE_MAX], reason[MTA_FIELD_MAX + 48];
	const char *cells[] = { m->id, age, login_of(m),
	    m->client[0] ? m->client : m->rg.client, m->rg.country,
	    m->rg.rule, reason };

	text_age(c->now, (uint32_t) m->arrival, age, sizeof(age));
	if (m->rg.count == 0)
	    snprintf(reason, sizeof(reason), "(no %s header) from <%s>",
		     MTA_HEADER_NAME, m->sender);
	else
	    snprintf(reason, sizeof(reason), "%s%s", suspect(m)
		     ? SUSPECT_MARK : "", m->rg.reason);
	rc = table_add(t, cells);
    }
    if (rc == 0)
	rc = table_print(t, c->out, TABLE_WIDTH);
    table_free(t);
    return rc;
}

/* q_list - quarantine list [--limit N] */
static int q_list(struct ctl *c)
{
    const struct mta_ops *ops = quarantine_ops(c);
    struct mta_list l = { NULL, 0, 0 };
    char err[ERR_MAX] = "";
    uint64_t limit;
    int rc;

    if ((rc = ctl_opt_uint(c, CTL_OPT_LIMIT, 0, UINT32_MAX, &limit)) != 0)
	return rc;
    if (ops->list(c, MTA_HELD, &l, err, sizeof(err)) != MTA_OK) {
	rc = quarantine_fail(c, err);
	goto out;
    }
    qsort(l.v, l.n, sizeof(l.v[0]), newest_first);
    if (limit == 0 || limit > l.n)
	limit = l.n;
    for (size_t i = 0; i < limit; i++)	/* gone meanwhile: shown bare */
	ops->details(c, &l.v[i], err, sizeof(err));
    if (c->json) {
	struct json j;

	json_init(&j, c->out);
	json_obj(&j);
	json_kstr(&j, "mta", ops->name);
	json_kuint(&j, "held", l.n);
	json_key(&j, "messages");
	json_arr(&j);
	for (size_t i = 0; i < limit; i++)
	    msg_json(&j, &l.v[i]);
	json_arr_end(&j);
	json_obj_end(&j);
	rc = ctl_json_finish(c, &j);
    } else if (l.n == 0) {
	fprintf(c->out, "no messages on hold\n");
    } else if ((rc = list_table(c, &l, limit)) == 0) {
	fprintf(c->out, "(%llu of %zu messages on hold)\n",
		(unsigned long long) limit, l.n);
    } else {
	rc = ctl_error(c, CTL_EXIT_UNAVAILABLE, "cannot print the table");
    }
  out:
    mta_list_free(&l);
    return rc;
}

/* print_text - message text, line by line, cleaned for a terminal */
static void print_text(FILE *out, const char *text, size_t len)
{
    static char line[LINE_OUT_MAX];
    const char *p = text, *end = text + len;

    while (p < end) {
	const char *nl = memchr(p, '\n', (size_t) (end - p));
	size_t n = nl ? (size_t) (nl - p) : (size_t) (end - p);

	if (n > 0 && p[n - 1] == '\r')
	    n--;
	text_clean_line(p, n, line, sizeof(line));
	fprintf(out, "%s\n", line);
	p = nl ? nl + 1 : end;
    }
}

/* show_summary - the key/value head of "quarantine show" */
static int show_summary(struct ctl *c, const struct mta_msg *m)
{
    static const struct table_col cols[] = {
	{"", TABLE_LEFT, 0, 0, 0}, {"", TABLE_LEFT, 1, 20, 0},
    };
    struct table *t = table_new(cols, 2);
    char at[TEXT_TIME_MAX], size[TEXT_SIZE_MAX], rcpt[MTA_FIELD_MAX + 32];
    const char *rows[][2] = {
	{"queue id", m->id}, {"queue", m->queue}, {"arrived", at},
	{"size", size}, {"sender", m->sender}, {"recipients", rcpt},
	{"login", m->login}, {"client", m->client},
	{"verdict", m->rg.action}, {"rule", m->rg.rule},
	{"header user", m->rg.user}, {"header client", m->rg.client},
	{"country", m->rg.country}, {"reason", m->rg.reason},
    };
    int rc = t == NULL ? -1 : 0;

    if (rc == 0) {
	table_no_heading(t);
	table_wrap(t);
    }
    text_time((uint32_t) m->arrival, at, sizeof(at));
    text_size(m->size, size, sizeof(size));
    snprintf(rcpt, sizeof(rcpt), "%u (%s%s)", m->nrcpt, m->rcpt,
	     m->nrcpt > 1 ? ", ..." : "");
    for (size_t i = 0; rc == 0 && i < sizeof(rows) / sizeof(rows[0]); i++)
	if (rows[i][1][0])
	    rc = table_add(t, rows[i]);
    if (rc == 0 && suspect(m))
	rc = table_add(t, (const char *[]) { "warning",
		       "the X-Relayguard header disagrees with the envelope"
		       " or appears more than once: it may be forged" });
    if (rc == 0)
	rc = table_print(t, c->out, TABLE_WIDTH);
    table_free(t);
    return rc;
}

/* q_show - quarantine show ID */
static int q_show(struct ctl *c, const char *id)
{
    const struct mta_ops *ops = quarantine_ops(c);
    struct mta_list l = { NULL, 0, 0 };
    struct proc_result r = { 0 };
    char err[ERR_MAX] = "";
    struct mta_msg m;
    int rc;

    if (ops->list(c, MTA_ALL, &l, err, sizeof(err)) != MTA_OK) {
	rc = quarantine_fail(c, err);
	goto out;
    }
    if (mta_list_find(&l, id) == NULL) {
	rc = ctl_error(c, CTL_EXIT_NOTFOUND, "%s: not in the queue", id);
	goto out;
    }
    m = *mta_list_find(&l, id);
    if (ops->details(c, &m, err, sizeof(err)) != MTA_OK
	|| ops->show(c, id, &r, err, sizeof(err)) != MTA_OK) {
	rc = quarantine_fail(c, err);
	goto out;
    }
    if (c->json) {
	struct json j;

	json_init(&j, c->out);
	json_obj(&j);
	json_kstr(&j, "mta", ops->name);
	json_key(&j, "message");
	msg_json(&j, &m);
	json_key(&j, "text");
	json_strn(&j, r.out, r.outlen);
	json_kbool(&j, "truncated", r.truncated);
	json_obj_end(&j);
	rc = ctl_json_finish(c, &j);
    } else {
	rc = show_summary(c, &m) ? ctl_error(c, CTL_EXIT_UNAVAILABLE,
					     "cannot write the output") : 0;
	fputc('\n', c->out);
	print_text(c->out, r.out, r.outlen);
	if (r.truncated)
	    fprintf(c->out, "[cut at %u MB]\n", MTA_MSG_OUT_MAX >> 20);
    }
  out:
    proc_result_free(&r);
    mta_list_free(&l);
    return rc;
}

/* q_act - quarantine release|delete ID: only a message on hold */
static int q_act(struct ctl *c, const char *verb, const char *id)
{
    const struct mta_ops *ops = quarantine_ops(c);
    struct mta_list l = { NULL, 0, 0 };
    char err[ERR_MAX] = "";
    int rc, done = 0, release = strcmp(verb, "release") == 0;

    if (ops->list(c, MTA_HELD, &l, err, sizeof(err)) != MTA_OK) {
	rc = quarantine_fail(c, err);
	goto out;
    }
    if (mta_list_find(&l, id) == NULL) {
	rc = ctl_error(c, CTL_EXIT_NOTFOUND, "%s: not on hold", id);
	goto out;
    }
    rc = release ? ops->release(c, id, &done, err, sizeof(err))
	: ops->remove(c, id, &done, err, sizeof(err));
    if (rc != MTA_OK) {
	rc = quarantine_fail(c, err);
	goto out;
    }
    if (!done) {
	rc = ctl_error(c, CTL_EXIT_NOTFOUND, "%s: no longer on hold", id);
	goto out;
    }
    if (c->json) {
	struct json j;

	json_init(&j, c->out);
	json_obj(&j);
	json_kstr(&j, "command", verb);
	json_kstr(&j, "queue_id", id);
	json_kbool(&j, "done", true);
	json_obj_end(&j);
	rc = ctl_json_finish(c, &j);
    } else {
	fprintf(c->out, "%s %s\n", release ? "released" : "deleted", id);
    }
  out:
    mta_list_free(&l);
    return rc;
}

/* cmd_quarantine - quarantine list|show|release|delete */
int cmd_quarantine(struct ctl *c)
{
    const char *sub = c->args[0], *id = c->nargs > 1 ? c->args[1] : NULL;
    int is_list = strcmp(sub, "list") == 0;

    if (!is_list && strcmp(sub, "show") != 0 && strcmp(sub, "release") != 0
	&& strcmp(sub, "delete") != 0)
	return ctl_usage_error(c, "quarantine: list, show, release or"
			       " delete");
    if (is_list && id != NULL)
	return ctl_usage_error(c, "quarantine list takes no queue id");
    if (!is_list && id == NULL)
	return ctl_usage_error(c, "quarantine %s: which queue id?", sub);
    if (!is_list && !mta_qid_valid(id))
	return ctl_usage_error(c, "not a queue id (1..%d letters and"
			       " digits)", MTA_QID_MAX - 1);
    if (!is_list && c->opt[CTL_OPT_LIMIT] != NULL)
	return ctl_usage_error(c, "--limit is for quarantine list");
    if (is_list)
	return q_list(c);
    if (strcmp(sub, "show") == 0)
	return q_show(c, id);
    return q_act(c, sub, id);
}
