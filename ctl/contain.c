/*
 * contain - "contain USER [--scan]": put a flagged login's mail that is
 * still in the queue on hold, so it can be reviewed (quarantine list)
 * instead of leaving.
 *
 * Contract: the queue ids come from the state: the milter records each
 * login's last STORE_QIDS queue ids, read with ctl's busy-stripe retry
 * (ctl_user_get: a writer's short stop is waited out). Each is checked
 * against the MTA's listing and held only if it is still queued and not
 * already on hold; the report says, per id, what was found and done.
 * With --scan every
 * queued message not on hold is also examined (Postfix: its envelope,
 * one postcat each, where Postfix recorded the SASL login) and held when
 * the login is this one, compared the way the state normalises logins.
 * Exit 1 for a login the state does not know; 69 if the MTA tools fail.
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "quarantine.h"
#include "table.h"
#include "text.h"

#define ERR_MAX 512

/* What happened to one queue id. */
struct contained {
    char id[MTA_QID_MAX];
    char was[MTA_QUEUE_MAX];	/* queue before, "" if not queued */
    const char *result;		/* held, already held, not queued, failed */
    const char *found_by;	/* state, scan */
};

struct report {
    struct contained *v;
    size_t n, cap;
    unsigned held, already, gone, failed;
};

/* report_add - note an outcome; -1 if out of memory */
static int report_add(struct report *r, const char *id, const char *was,
		      const char *result, const char *by)
{
    struct contained *e;

    if (r->n == r->cap) {
	size_t cap = r->cap ? 2 * r->cap : 16;

	if ((e = realloc(r->v, cap * sizeof(*e))) == NULL)
	    return -1;
	r->v = e;
	r->cap = cap;
    }
    e = &r->v[r->n++];
    mta_copy(e->id, sizeof(e->id), id, strlen(id));
    mta_copy(e->was, sizeof(e->was), was, strlen(was));
    e->result = result;
    e->found_by = by;
    return 0;
}

/* reported - has this id been dealt with already? */
static bool reported(const struct report *r, const char *id)
{
    for (size_t i = 0; i < r->n; i++)
	if (strcmp(r->v[i].id, id) == 0)
	    return true;
    return false;
}

/* contain_one - hold one queue id if it is still queued */
static int contain_one(struct ctl *c, const struct mta_list *l,
		       const char *id, const char *by, struct report *r,
		       char *err, size_t errlen)
{
    const struct mta_msg *m = mta_list_find(l, id);
    int done = 0;

    if (m == NULL) {
	r->gone++;
	return report_add(r, id, "", "not queued", by);
    }
    if (strcmp(m->queue, MTA_HOLD) == 0) {
	r->already++;
	return report_add(r, id, m->queue, "already held", by);
    }
    if (quarantine_ops(c)->hold(c, id, &done, err, errlen) != MTA_OK) {
	r->failed++;
	ctl_error(c, 0, "warning: %s: %s", id, err);
	return report_add(r, id, m->queue, "failed", by);
    }
    if (done)
	r->held++;
    else
	r->gone++;
    return report_add(r, id, m->queue, done ? "held" : "not queued", by);
}

/* scan - hold every queued message whose envelope login is this one */
static int scan(struct ctl *c, const char *login, struct mta_list *l,
		struct report *r, char *err, size_t errlen)
{
    char norm[STORE_LOGIN_MAX];

    for (size_t i = 0; i < l->n; i++) {
	struct mta_msg *m = &l->v[i];

	if (strcmp(m->queue, MTA_HOLD) == 0 || reported(r, m->id))
	    continue;
	if (!m->detailed
	    && quarantine_ops(c)->details(c, m, err, errlen) != MTA_OK)
	    continue;		/* delivered meanwhile */
	if (m->login[0] == '\0')
	    continue;
	store_normalize_login(c->st, m->login, norm);
	if (strcmp(norm, login) == 0
	    && contain_one(c, l, m->id, "scan", r, err, errlen) != 0)
	    return -1;
    }
    return 0;
}

/* report_print - the outcome as a table or JSON */
static int report_print(struct ctl *c, const char *login,
			const struct report *r)
{
    static const struct table_col cols[] = {
	{"QUEUE ID", TABLE_LEFT, 0, 0, 0}, {"WAS IN", TABLE_LEFT, 0, 0, 0},
	{"RESULT", TABLE_LEFT, 0, 0, 0}, {"FOUND BY", TABLE_LEFT, 0, 0, 0},
    };
    struct table *t;
    char clean[LOG_VALUE_MAX + 1];
    int rc = 0;

    if (c->json) {
	struct json j;

	json_init(&j, c->out);
	json_obj(&j);
	json_kstr(&j, "login", login);
	json_kstr(&j, "mta", quarantine_ops(c)->name);
	json_kbool(&j, "scan", c->opt[CTL_OPT_SCAN] != NULL);
	json_kuint(&j, "held", r->held);
	json_kuint(&j, "already_held", r->already);
	json_kuint(&j, "not_queued", r->gone);
	json_kuint(&j, "failed", r->failed);
	json_key(&j, "messages");
	json_arr(&j);
	for (size_t i = 0; i < r->n; i++) {
	    json_obj(&j);
	    json_kstr(&j, "queue_id", r->v[i].id);
	    json_kstr(&j, "was_in", r->v[i].was);
	    json_kstr(&j, "result", r->v[i].result);
	    json_kstr(&j, "found_by", r->v[i].found_by);
	    json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	return json_finish(&j);
    }
    text_clean(login, strlen(login), clean, sizeof(clean));
    if (r->n > 0 && (t = table_new(cols, 4)) != NULL) {
	for (size_t i = 0; rc == 0 && i < r->n; i++) {
	    const char *cells[] = { r->v[i].id, r->v[i].was[0] ? r->v[i].was
		: "-", r->v[i].result, r->v[i].found_by };

	    rc = table_add(t, cells);
	}
	if (rc == 0)
	    rc = table_print(t, c->out, TABLE_WIDTH);
	table_free(t);
    } else if (r->n > 0) {
	rc = -1;
    }
    fprintf(c->out, "%s: %u held, %u already held, %u no longer queued%s\n",
	    clean, r->held, r->already, r->gone,
	    r->failed ? ", some failed (see above)" : "");
    return rc;
}

/* cmd_contain - contain USER [--scan] */
int cmd_contain(struct ctl *c)
{
    struct store_user *u = malloc(sizeof(*u));
    struct mta_list l = { NULL, 0, 0 };
    struct report r;
    char err[ERR_MAX] = "";
    int rc;

    memset(&r, 0, sizeof(r));
    if (u == NULL)
	return ctl_error(c, CTL_EXIT_UNAVAILABLE, "out of memory");
    if ((rc = ctl_user_get(c, c->args[0], u)) != STORE_OK) {
	char what[STORE_LOGIN_MAX + 8];

	snprintf(what, sizeof(what), "user %.*s", STORE_LOGIN_MAX,
		 c->args[0]);
	rc = ctl_store_error(c, rc, what);
	goto out;
    }
    if (quarantine_ops(c)->list(c, MTA_ALL, &l, err, sizeof(err)) != MTA_OK) {
	rc = quarantine_fail(c, err);
	goto out;
    }
    for (int i = 0; rc == 0 && i < STORE_QIDS; i++) {
	if (u->qids[i][0] == '\0' || reported(&r, u->qids[i]))
	    continue;
	if (!mta_qid_valid(u->qids[i]))
	    rc = report_add(&r, u->qids[i], "", "invalid id", "state");
	else
	    rc = contain_one(c, &l, u->qids[i], "state", &r, err,
			     sizeof(err));
    }
    if (rc == 0 && c->opt[CTL_OPT_SCAN] != NULL)
	rc = scan(c, u->login, &l, &r, err, sizeof(err));
    if (rc != 0 || report_print(c, u->login, &r) != 0)
	rc = ctl_error(c, CTL_EXIT_UNAVAILABLE, "cannot write the report");
    else if (r.failed > 0)
	rc = CTL_EXIT_UNAVAILABLE;
  out:
    mta_list_free(&l);
    free(r.v);
    free(u);
    return rc;
}
