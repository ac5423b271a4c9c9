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
 * Submissions are handed out in the order they started, not ended: each
 * waits in a heap until the log is SUBM_REORDER_S past its start (or the
 * heap is full), so the engine sees overlapping sessions as the milter
 * did, its clock going forward.
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

enum slot_kind { SLOT_FREE, SLOT_START, SLOT_DONE, SLOT_AUTH, SLOT_REFUSED };

#define SAME_TXN_S 60		/* RCPT refusals this close are one MAIL's */

struct slot {
    enum slot_kind kind;
    uint32_t time;
    uint64_t hash;
    char key[KEY_MAX];
    char login[MAILLOG_LOGIN_MAX];
    struct addr client;
    bool have_client;
    uint64_t sender;		/* SLOT_REFUSED: hash of the sender */
};

/* A rebuilt submission waiting for its turn: its place in the slab. */
struct queued {
    uint32_t time;
    uint32_t idx;
    uint64_t seq;		/* ties keep the order they ended in */
};

struct subm_join {
    subm_fn fn;
    void *arg;
    uint32_t sets;
    uint32_t nheap, heap_max;	/* heap[]: submissions by start time */
    uint64_t seq;
    int stop;			/* what the callback returned, once nonzero */
    struct queued *heap;
    struct subm *slab;		/* heap_max waiting submissions */
    uint32_t *free_idx, nfree;	/* their free places */
    struct subm_stats st;
    uint32_t used;
    struct slot slots[];	/* sets * WAYS */
};

/* subm_new - an empty join for up to pending open transactions and as
 * many (at most SUBM_REORDER_MAX) waiting submissions; 0: SUBM_PENDING;
 * NULL when out of memory */
SUBM *subm_new(subm_fn fn, void *arg, uint32_t pending)
{
    uint32_t sets = (pending ? pending : SUBM_PENDING) / WAYS;
    SUBM *j;

    sets = sets ? sets : 1;
    if ((j = calloc(1, sizeof(*j) + sizeof(struct slot) * sets * WAYS)) == NULL)
	return NULL;
    j->heap_max = pending && pending < SUBM_REORDER_MAX ? pending : SUBM_REORDER_MAX;
    j->heap = calloc(j->heap_max, sizeof(*j->heap));
    j->slab = calloc(j->heap_max, sizeof(*j->slab));
    j->free_idx = calloc(j->heap_max, sizeof(*j->free_idx));
    if (j->heap == NULL || j->slab == NULL || j->free_idx == NULL) {
	subm_free(j);
	return NULL;
    }
    for (uint32_t i = 0; i < j->heap_max; i++)
	j->free_idx[j->nfree++] = j->heap_max - 1 - i;
    j->fn = fn, j->arg = arg, j->sets = sets;
    return j;
}

/* subm_free - release a join (NULL is fine); what it still holds is
 * dropped: subm_flush first */
void subm_free(SUBM *j)
{
    if (j != NULL) {
	free(j->heap);
	free(j->slab);
	free(j->free_idx);
    }
    free(j);
}

/* before - does queued a go before b? */
static bool before(const struct queued *a, const struct queued *b)
{
    return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

/* heap_push - one submission into the reorder heap */
static void heap_push(SUBM *j, const struct subm *s)
{
    uint32_t i = j->nheap++;

    j->heap[i].idx = j->free_idx[--j->nfree];
    j->slab[j->heap[i].idx] = *s;
    j->heap[i].time = s->time;
    j->heap[i].seq = j->seq++;
    while (i > 0 && before(&j->heap[i], &j->heap[(i - 1) / 2])) {
	struct queued t = j->heap[i];

	j->heap[i] = j->heap[(i - 1) / 2];
	j->heap[(i - 1) / 2] = t;
	i = (i - 1) / 2;
    }
}

/* heap_pop - hand the earliest submission to the caller */
static void heap_pop(SUBM *j)
{
    struct queued top = j->heap[0];
    uint32_t i = 0, c;

    j->heap[0] = j->heap[--j->nheap];
    while ((c = 2 * i + 1) < j->nheap) {
	if (c + 1 < j->nheap && before(&j->heap[c + 1], &j->heap[c]))
	    c++;
	if (!before(&j->heap[c], &j->heap[i]))
	    break;
	struct queued t = j->heap[i];

	j->heap[i] = j->heap[c];
	j->heap[c] = t;
	i = c;
    }
    if (j->stop == 0)
	j->stop = j->fn(&j->slab[top.idx], j->arg);
    j->free_idx[j->nfree++] = top.idx;
}

/* release - hand out what started more than SUBM_REORDER_S before now */
static int release(SUBM *j, uint32_t now)
{
    while (j->nheap > 0 && (uint64_t) j->heap[0].time + SUBM_REORDER_S <= now)
	heap_pop(j);
    return j->stop;
}

/* subm_flush - hand out every submission still held; the callback's
 * nonzero return, if any */
int subm_flush(SUBM *j)
{
    while (j->nheap > 0)
	heap_pop(j);
    return j->stop;
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
    if (j->nheap == j->heap_max)
	heap_pop(j);		/* full: the earliest goes now */
    heap_push(j, &s);
    return j->stop;
}

/* pf_end - qmgr's or cleanup's end of a started submission */
static int pf_end(SUBM *j, const struct maillog_rec *r)
{
    char key[KEY_MAX];
    uint64_t h = make_key(r, false, key);
    struct slot *s = lookup(j, h, key);
    struct slot copy;

    if (s == NULL || s->kind != SLOT_START) {
	/* qmgr: a retry or a local submission; cleanup: the end of one
	 * refused at RCPT already (DONE), or of a start not in the log */
	j->st.unjoined += s == NULL && r->kind == MAILLOG_PF_MILTER_END;
	return 0;
    }
    copy = *s;
    drop(j, s);
    return emit(j, r, copy.time, copy.login, &copy.client,
		r->kind == MAILLOG_PF_QUEUED ? r->nrcpt : 1);
}

/* pf_noqueue - a refusal before the queue id. Postfix logs one line per
 * refused recipient, and the milter refuses every recipient after the
 * first it refuses: RCPT refusals of one smtpd process with the same
 * client, login and sender within SAME_TXN_S are one transaction. */
static int pf_noqueue(SUBM *j, const struct maillog_rec *r)
{
    char key[KEY_MAX];
    uint64_t h = make_key(r, true, key);
    uint64_t sh = 1469598103934665603ull;
    struct slot *s = lookup(j, h, key);

    for (const char *p = r->sender; *p; p++)
	sh = (sh ^ (unsigned char) *p) * 1099511628211ull;
    if (r->stage != MAILLOG_STAGE_MAIL && s != NULL && s->kind == SLOT_REFUSED
	&& r->time - s->time <= SAME_TXN_S && s->sender == sh
	&& addr_equal(&s->client, &r->client) && strcmp(s->login, r->login) == 0) {
	s->time = r->time;
	j->st.duplicates++;
	return 0;
    }
    if (s != NULL && s->kind == SLOT_REFUSED)
	drop(j, s);
    if (r->stage != MAILLOG_STAGE_MAIL) {
	s = claim(j, h, key, r->time);
	s->kind = SLOT_REFUSED;
	s->client = r->client;
	s->sender = sh;
	memcpy(s->login, r->login, sizeof(s->login));
    }
    return emit(j, r, r->time, r->login, &r->client, 1);
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
	return pf_noqueue(j, r);
    h = make_key(r, false, key);
    if ((s = lookup(j, h, key)) != NULL && s->kind == SLOT_DONE) {
	j->st.duplicates++;
	return 0;
    }
    if (s != NULL)
	drop(j, s);
    s = claim(j, h, key, r->time);
    s->kind = SLOT_DONE;
    /* a queue id: a recipient was accepted before this one was refused */
    return emit(j, r, r->time, r->login, &r->client,
		r->stage == MAILLOG_STAGE_RCPT ? 2 : 1);
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
    if (release(j, r->time) != 0)
	return j->stop;
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
