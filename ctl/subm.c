/*
 * subm - join mail log records into submissions.
 *
 * Postfix: a submission starts with smtpd's "QID: client=" line (client,
 * login) and ends with qmgr's first "QID: from=" (sender, size, nrcpt:
 * accepted) or cleanup's "QID: milter-hold|reject|discard" (held or
 * refused at end of message). "NOQUEUE: milter-reject: MAIL|RCPT" is a
 * whole submission refused before it had a queue id (Postfix 3.x logs
 * sasl_username there). Refusals by the MTA's own restrictions are not
 * milter transactions past MAIL FROM and are left out.
 * Sendmail: the session's "AUTH=server" line (by host and pid) gives the
 * login; "QID: from=" ends an accepted submission; "QID: Milter: ...
 * reject=" a refused one (one per queue id).
 *
 * Contract: memory is fixed at subm_new (SUBM_PENDING open transactions,
 * 4-way sets, the oldest of a full set evicted and counted), so a month
 * of log costs what a minute does. Not thread-safe. Never logs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "subm.h"

#define WAYS 4
#define KEY_MAX (MAILLOG_HOST_MAX + MAILLOG_QID_MAX + 16)

enum slot_kind { SLOT_FREE, SLOT_START, SLOT_DONE, SLOT_AUTH };

struct slot {
    enum slot_kind kind;
    uint32_t time;
    uint64_t hash;
    char key[KEY_MAX];
    char login[MAILLOG_LOGIN_MAX];
    struct addr client;
    bool have_client;
};

struct subm_join {
    subm_fn fn;
    void *arg;
    uint32_t sets;
    struct subm_stats st;
    uint32_t used;
    struct slot slots[];	/* sets * WAYS */
};

/* subm_new - an empty join for up to pending open transactions (0:
 * SUBM_PENDING); NULL when out of memory */
SUBM *subm_new(subm_fn fn, void *arg, uint32_t pending)
{
    uint32_t sets = (pending ? pending : SUBM_PENDING) / WAYS;
    SUBM *j;

    sets = sets ? sets : 1;
    if ((j = calloc(1, sizeof(*j) + sizeof(struct slot) * sets * WAYS)) != NULL)
	j->fn = fn, j->arg = arg, j->sets = sets;
    return j;
}

/* subm_free - release a join (NULL is fine) */
void subm_free(SUBM *j)
{
    free(j);
}

/* subm_stats - what the join did so far */
void subm_stats(const SUBM *j, struct subm_stats *out)
{
    *out = j->st;
}

/* subm_pending - open transactions held now */
uint32_t subm_pending(const SUBM *j)
{
    return j->used;
}

/* make_key - "host qid" or "host pid N": transactions of one host */
static uint64_t make_key(const struct maillog_rec *r, bool by_pid, char *key)
{
    uint64_t h = 1469598103934665603ull;	/* FNV-1a */
    int n = by_pid ? snprintf(key, KEY_MAX, "%s pid %u", r->host, r->pid)
	: snprintf(key, KEY_MAX, "%s %s", r->host, r->qid);

    for (int i = 0; i < n && i < KEY_MAX; i++)
	h = (h ^ (unsigned char) key[i]) * 1099511628211ull;
    return h;
}

/* lookup - the slot of key, or NULL */
static struct slot *lookup(SUBM *j, uint64_t h, const char *key)
{
    struct slot *set = &j->slots[(h % j->sets) * WAYS];

    for (int w = 0; w < WAYS; w++)
	if (set[w].kind != SLOT_FREE && set[w].hash == h
	    && strcmp(set[w].key, key) == 0)
	    return &set[w];
    return NULL;
}

/* claim - a slot for key: its own, a free one, or the oldest evicted */
static struct slot *claim(SUBM *j, uint64_t h, const char *key, uint32_t now)
{
    struct slot *set = &j->slots[(h % j->sets) * WAYS], *s = lookup(j, h, key);
    int w, old = 0;

    if (s != NULL)
	return s;
    for (w = 0; w < WAYS && set[w].kind != SLOT_FREE; w++)
	if (set[w].time < set[old].time)
	    old = w;
    if (w == WAYS) {
	if (set[old].kind == SLOT_START)
	    j->st.evicted++;
	j->used--;
	w = old;
    }
    j->used++;
    s = &set[w];
    memset(s, 0, sizeof(*s));
    s->hash = h;
    s->time = now;
    memcpy(s->key, key, KEY_MAX);
    return s;
}

/* drop - forget a slot */
static void drop(SUBM *j, struct slot *s)
{
    s->kind = SLOT_FREE;
    j->used--;
}

/* emit - one submission to the caller */
static int emit(SUBM *j, const struct maillog_rec *r, uint32_t time,
		const char *login, const struct addr *client, uint32_t rcpts)
{
    struct subm s;

    memset(&s, 0, sizeof(s));
    s.time = time;
    memcpy(s.qid, r->qid, sizeof(s.qid));
    snprintf(s.login, sizeof(s.login), "%s", login);
    memcpy(s.sender, r->sender, sizeof(s.sender));
    s.client = *client;
    s.rcpts = rcpts > 0 ? rcpts : 1;
    s.size = r->size;
    s.live = r->live;
    s.live_stage = r->stage;
    j->st.submissions++;
    return j->fn(&s, j->arg);
}

/* pf_end - qmgr's or cleanup's end of a started submission */
static int pf_end(SUBM *j, const struct maillog_rec *r)
{
    char key[KEY_MAX];
    uint64_t h = make_key(r, false, key);
    struct slot *s = lookup(j, h, key);
    struct slot copy;

    if (s == NULL || s->kind != SLOT_START) {
	if (r->kind == MAILLOG_PF_MILTER_END || s == NULL)
	    j->st.unjoined += r->kind == MAILLOG_PF_MILTER_END;
	return 0;		/* a retry, a local submission, or no start */
    }
    copy = *s;
    drop(j, s);
    return emit(j, r, copy.time, copy.login, &copy.client,
		r->kind == MAILLOG_PF_QUEUED ? r->nrcpt : 1);
}

/* pf_refused - smtpd's refusal: a whole submission when the milter did
 * it before the queue id; a refusal later in a started one ends it */
static int pf_refused(SUBM *j, const struct maillog_rec *r)
{
    char key[KEY_MAX];
    struct slot *s;
    uint64_t h;

    if (!r->milter || !r->have_client)
	return 0;
    if (r->qid[0] == 0)
	return emit(j, r, r->time, r->login, &r->client, 1);
    h = make_key(r, false, key);
    if ((s = lookup(j, h, key)) != NULL && s->kind == SLOT_DONE) {
	j->st.duplicates++;
	return 0;
    }
    if (s != NULL)
	drop(j, s);
    s = claim(j, h, key, r->time);
    s->kind = SLOT_DONE;
    return emit(j, r, r->time, r->login, &r->client, 1);
}

/* pf_start - smtpd's "client=": remember the start */
static void pf_start(SUBM *j, const struct maillog_rec *r)
{
    char key[KEY_MAX];
    uint64_t h = make_key(r, false, key);
    struct slot *s = claim(j, h, key, r->time);

    s->kind = SLOT_START;
    s->client = r->client;
    s->have_client = true;
    memcpy(s->login, r->login, sizeof(s->login));
}

/* sm_session - the login of a Sendmail session (AUTH line by pid) */
static const char *sm_session(SUBM *j, const struct maillog_rec *r)
{
    char key[KEY_MAX];
    uint64_t h = make_key(r, true, key);
    struct slot *s = lookup(j, h, key);

    return s != NULL && s->kind == SLOT_AUTH && (!r->have_client
						 || addr_equal(&s->client, &r->client))
	? s->login : "";
}

/* sendmail - AUTH, from= and Milter lines */
static int sendmail(SUBM *j, const struct maillog_rec *r)
{
    char key[KEY_MAX], pkey[KEY_MAX];
    struct slot *s, *a;
    uint64_t h;

    if (r->kind == MAILLOG_SM_AUTH) {
	s = claim(j, make_key(r, true, key), key, r->time);
	s->kind = SLOT_AUTH;
	s->client = r->client;
	memcpy(s->login, r->login, sizeof(s->login));
	return 0;
    }
    h = make_key(r, false, key);
    if ((s = lookup(j, h, key)) != NULL && s->kind == SLOT_DONE) {
	j->st.duplicates++;	/* one submission per queue id */
	return 0;
    }
    if (!r->have_client) {	/* a Milter line: the session's address */
	a = lookup(j, make_key(r, true, pkey), pkey);
	if (a == NULL || a->kind != SLOT_AUTH) {
	    j->st.no_client++;
	    return 0;
	}
	struct slot sess = *a;	/* claim may reuse a's place */

	s = claim(j, h, key, r->time);
	s->kind = SLOT_DONE;
	return emit(j, r, r->time, sess.login, &sess.client, 1);
    }
    char login[MAILLOG_LOGIN_MAX];

    snprintf(login, sizeof(login), "%s", sm_session(j, r));
    s = claim(j, h, key, r->time);
    s->kind = SLOT_DONE;
    return emit(j, r, r->time, login, &r->client,
		r->kind == MAILLOG_SM_FROM ? r->nrcpt : 1);
}

/* subm_add - one record; what the callback returned (0: go on) */
int subm_add(SUBM *j, const struct maillog_rec *r)
{
    switch (r->kind) {
    case MAILLOG_PF_CLIENT:
	if (!r->have_client) {
	    j->st.no_client++;
	    return 0;
	}
	pf_start(j, r);
	return 0;
    case MAILLOG_PF_QUEUED:
    case MAILLOG_PF_MILTER_END:
	return pf_end(j, r);
    case MAILLOG_PF_REFUSED:
	return pf_refused(j, r);
    case MAILLOG_SM_AUTH:
    case MAILLOG_SM_FROM:
    case MAILLOG_SM_MILTER:
	return sendmail(j, r);
    default:
	return 0;
    }
}
