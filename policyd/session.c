/*
 * session - what relayguard-policyd answers: each Postfix policy request
 * is one phase of a transaction, found by Postfix's "instance" attribute.
 * The first request of an instance runs the MAIL phase and then its RCPT
 * (check_policy_service in smtpd_recipient_restrictions), later ones RCPT
 * only; protocol_state=END-OF-MESSAGE (smtpd_end_of_data_restrictions)
 * runs the end of message with the size, and the transaction is done.
 *
 * Contract: single-threaded (the daemon's event loop owns the table).
 * The table holds at most policyd.max_instances transactions (the size
 * given to session_table_new), found through a hash of the instance with
 * a per-process random seed (a client of the socket chooses instances),
 * and kept on a list from least to most recently asked about: expiry
 * looks only at the list's head. An instance not seen for
 * policyd.instance_timeout, or the least recent one when the table is
 * full, is forgotten. With policyd.end_of_data it never reached its end
 * of message, so what it counted is given back (rules_give_back), as the
 * milter does on abort; without it the last request Postfix sends is the
 * last RCPT, a message let through there was most likely sent, and its
 * units stay counted (giving them back would empty every window longer
 * than instance_timeout), and its end of message is judged then (forget).
 * Without it a refusal at a later recipient refuses only that one: the
 * recipients before it get the message and stay counted
 * (rules_keep_units).
 * Logs verdicts through report_verdict, nothing else.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "geo.h"
#include "report.h"
#include "rules.h"
#include "session.h"
#include "stats.h"
#include "txn.h"

#define DUNNO "action=DUNNO\n\n"
#define NIL UINT32_MAX
#define FNV_OFFSET UINT64_C(14695981039346656037)
#define FNV_PRIME UINT64_C(1099511628211)

struct slot {
    bool used;
    bool refused;		/* a refusal was logged for this message */
    bool tagged;		/* PREPEND or HOLD already answered */
    bool stopped;		/* a refusal was answered, not in dry run */
    bool rogue_listed;		/* at MAIL: the client is on the rogue list */
    uint32_t next;		/* hash chain; the free list when unused */
    uint32_t older, newer;	/* the recency list */
    char instance[REQUEST_SHORT_MAX];
    char login[REQUEST_VALUE_MAX];
    char sender[REQUEST_VALUE_MAX];
    char qid[REQUEST_SHORT_MAX];
    struct addr client;
    struct store_geo geo;
    uint32_t rcpts, seen;
    uint64_t bytes;
    struct rules_verdict v;
};

struct session_table {
    uint32_t n, used, mask;	/* slots, slots in use, buckets - 1 */
    uint32_t free_head;
    uint32_t oldest, newest;	/* the recency list's ends */
    uint64_t seed;
    uint32_t *bucket;		/* chain heads */
    struct slot *slot;
};

/* session_table_new - room for slots transactions, NULL without memory */
struct session_table *session_table_new(unsigned slots)
{
    struct session_table *t = calloc(1, sizeof(*t));
    uint32_t i, nb = 1;

    if (t == NULL || slots == 0 || slots > UINT32_MAX / 4)
	goto fail;
    while (nb < 2 * slots)
	nb <<= 1;
    if ((t->slot = calloc(slots, sizeof(*t->slot))) == NULL
	|| (t->bucket = malloc(nb * sizeof(*t->bucket))) == NULL)
	goto fail;
    if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != sizeof(t->seed))
	t->seed = (uint64_t) (uintptr_t) t ^ FNV_PRIME;	/* still per process */
    for (i = 0; i < nb; i++)
	t->bucket[i] = NIL;
    for (i = 0; i < slots; i++)
	t->slot[i].next = i + 1 < slots ? i + 1 : NIL;
    t->n = slots;
    t->mask = nb - 1;
    t->oldest = t->newest = NIL;
    return t;
fail:
    if (t != NULL) {
	free(t->slot);
	free(t);
    }
    return NULL;
}

/* hash - the instance's bucket */
static uint32_t hash(const struct session_table *t, const char *s)
{
    uint64_t h = FNV_OFFSET ^ t->seed;

    for (; *s; s++)
	h = (h ^ (unsigned char) *s) * FNV_PRIME;
    h ^= h >> 29;
    return (uint32_t) h & t->mask;
}

/* session_lookup - the slot of an instance, NULL when unknown */
const void *session_lookup(const struct session_table *t, const char *instance)
{
    uint32_t i;

    for (i = t->bucket[hash(t, instance)]; i != NIL; i = t->slot[i].next)
	if (strcmp(t->slot[i].instance, instance) == 0)
	    return &t->slot[i];
    return NULL;
}

/* list_unlink - take slot i off the recency list */
static void list_unlink(struct session_table *t, uint32_t i)
{
    struct slot *s = &t->slot[i];

    if (s->older != NIL)
	t->slot[s->older].newer = s->newer;
    else
	t->oldest = s->newer;
    if (s->newer != NIL)
	t->slot[s->newer].older = s->older;
    else
	t->newest = s->older;
}

/* list_push - slot i becomes the most recent */
static void list_push(struct session_table *t, uint32_t i)
{
    t->slot[i].older = t->newest;
    t->slot[i].newer = NIL;
    if (t->newest != NIL)
	t->slot[t->newest].newer = i;
    else
	t->oldest = i;
    t->newest = i;
}

/* unhook - slot i leaves its chain and the list and is free again */
static void unhook(struct session_table *t, uint32_t i)
{
    uint32_t *p = &t->bucket[hash(t, t->slot[i].instance)];

    while (*p != i)
	p = &t->slot[*p].next;
    *p = t->slot[i].next;
    list_unlink(t, i);
    t->slot[i].used = false;
    t->slot[i].next = t->free_head;
    t->free_head = i;
    t->used--;
}

/* txn_of - the transaction as the slot knows it so far */
static void txn_of(const struct runtime *rt, const struct slot *s,
		   struct txn *t)
{
    *t = (struct txn) { .login = s->login, .sender = s->sender,
	.client = s->client, .geo = s->geo, .geo_caps = geo_caps(rt->geo),
	.rogue_listed = s->rogue_listed, .rcpts = s->rcpts,
	.bytes = s->bytes, .qid = s->qid };
}

/* forget - drop a transaction that never reached its end of message.
 * With end_of_data it was not sent: what it counted is given back.
 * Without, its last request was its last RCPT and a message let through
 * there was most likely sent: its end of message is judged now, unseen
 * by Postfix, because the engine learns a login's places, usual volume
 * and vouches only from a message let through at its end (rules.c
 * record_eom); asked at RCPT only, nothing was ever learned and every
 * place stayed unfamiliar. One refused (answered so, not in dry run)
 * learns nothing, judged now or not: a reload since may have turned
 * dry_run on, and a dry run's end of message teaches from every
 * message. A rule of end of message refusing it now gives nothing back
 * (rules_keep_units): the message was sent. The verdict of this late phase is
 * not logged, as the message is gone. */
static void forget(struct session_table *t, uint32_t i, struct runtime *rt,
		   uint32_t now)
{
    struct slot *s = &t->slot[i];
    struct txn x;

    if (rt->cfg->policyd.end_of_data) {
	if (rules_give_back(rt->st, s->login[0] ? s->login : NULL,
			    &s->client, now, &s->v) != STORE_OK)
	    store_counter_add(rt->st, STATS_GIVE_BACK_ERRORS, 1);
    } else if (s->rcpts > 0 && !s->stopped) {
	rules_keep_units(&s->v);	/* sent: a refusal now gives nothing back */
	txn_of(rt, s, &x);
	(void) txn_judge(rt->cfg, rt->st, &x, RULES_PHASE_EOM, now, &s->v);
    }
    unhook(t, i);
}

/* session_table_free - forget every transaction and free the table */
void session_table_free(struct session_table *t, struct runtime *rt,
			uint32_t now)
{
    if (t == NULL)
	return;
    while (t->oldest != NIL)
	forget(t, t->oldest, rt, now);
    free(t->bucket);
    free(t->slot);
    free(t);
}

/* session_count - transactions open */
unsigned session_count(const struct session_table *t)
{
    return t->used;
}

/* session_expire - forget transactions idle past the timeout (the oldest
 * first, stopping at the first one still fresh); how many */
unsigned session_expire(struct session_table *t, struct runtime *rt,
			uint32_t now)
{
    unsigned n = 0;

    while (t->oldest != NIL
	   && now - t->slot[t->oldest].seen >= rt->cfg->policyd.instance_s) {
	forget(t, t->oldest, rt, now);
	n++;
    }
    return n;
}

/* find - the slot of an instance (now the most recent), or a fresh one
 * (the least recent is forgotten when the table is full); *fresh says
 * which */
static struct slot *find(struct session_table *t, struct runtime *rt,
			 const char *instance, uint32_t now, bool *fresh)
{
    uint32_t i, b = hash(t, instance);

    for (i = t->bucket[b]; i != NIL; i = t->slot[i].next)
	if (strcmp(t->slot[i].instance, instance) == 0) {
	    list_unlink(t, i);
	    list_push(t, i);
	    *fresh = false;
	    return &t->slot[i];
	}
    if (t->free_head == NIL)
	forget(t, t->oldest, rt, now);
    i = t->free_head;
    t->free_head = t->slot[i].next;
    memset(&t->slot[i], 0, sizeof(t->slot[i]));
    t->slot[i].used = true;
    snprintf(t->slot[i].instance, sizeof(t->slot[i].instance), "%s", instance);
    t->slot[i].next = t->bucket[b];
    t->bucket[b] = i;
    list_push(t, i);
    t->used++;
    *fresh = true;
    return &t->slot[i];
}

/* clean_copy - text for a reply line: control bytes become spaces */
static void clean_copy(char *out, size_t len, const char *in)
{
    size_t i;

    for (i = 0; in[i] && i + 1 < len; i++)
	out[i] = (unsigned char) in[i] < 0x20 || in[i] == 0x7f ? ' ' : in[i];
    out[i] = 0;
}

/* refusal - "451 4.7.1 ..." or "550 5.7.1 ...": the milter's codes, as
 * access(5)'s "4NN text" and "5NN text" actions (DEFER_IF_PERMIT would
 * send Postfix's 450 and wait for the later restrictions to permit), with
 * policyd's own texts */
static void refusal(struct runtime *rt, const struct slot *s, char *out,
		    size_t len)
{
    struct rules_reply r;
    char text[SESSION_ACTION_MAX / 2];

    rules_reply_for(rt->cfg, &s->v, &r);
    clean_copy(text, sizeof(text), s->v.action == CFG_ACTION_REJECT
	       ? rt->cfg->policyd.reply_reject : rt->cfg->policyd.reply_tempfail);
    snprintf(out, len, "action=%s %s %s\n\n", r.rcode, r.xcode, text);
}

/* judge - one phase through the engine; true when the answer is a refusal */
static bool judge(struct runtime *rt, struct slot *s, enum rules_phase ph,
		  const char *phase, uint32_t now)
{
    struct txn t;
    struct report_subject rs;

    if (ph == RULES_PHASE_MAIL)	/* as the milter: looked up once, at MAIL */
	s->rogue_listed = rt_rogue_listed(&s->client);
    txn_of(rt, s, &t);
    t.rogue_listed = ph == RULES_PHASE_MAIL && s->rogue_listed;
    if (!txn_judge(rt->cfg, rt->st, &t, ph, now, &s->v))
	return false;
    if (!s->refused) {		/* one verdict line per message */
	txn_of(rt, s, &t);	/* the event says rogue_listed at every phase */
	txn_subject(&t, phase, &rs);
	report_verdict(rt, &rs, &s->v, rt->cfg->policyd.dry_run);
	s->refused = true;
    }
    return !rt->cfg->policyd.dry_run;
}

/* mark - PREPEND the header or HOLD the message, once per message */
static void mark(struct runtime *rt, struct slot *s, const char *phase,
		 bool eom, char *out, size_t len)
{
    struct report_subject rs;
    struct txn t;
    char hdr[SESSION_ACTION_MAX / 2];

    if (s->tagged || s->v.action == CFG_ACTION_ACCEPT
	|| (eom && s->v.action == CFG_ACTION_TAG))	/* too late to PREPEND */
	return;
    s->tagged = true;
    txn_of(rt, s, &t);
    txn_subject(&t, phase, &rs);
    report_verdict(rt, &rs, &s->v, rt->cfg->policyd.dry_run);
    if (rt->cfg->policyd.dry_run)
	return;
    report_header(rt, &rs, &s->v, hdr, sizeof(hdr));
    clean_copy(hdr, sizeof(hdr), hdr);
    if (s->v.action == CFG_ACTION_QUARANTINE)
	snprintf(out, len, "action=HOLD %s\n\n", hdr);
    else if (rt->cfg->policyd.add_header)
	snprintf(out, len, "action=PREPEND %s: %s\n\n", REPORT_HEADER, hdr);
}

/* start - a new transaction: its facts, then the MAIL phase */
static bool start(struct runtime *rt, struct slot *s, const struct request *r,
		  uint32_t now)
{
    struct geo_info gi;

    snprintf(s->login, sizeof(s->login), "%s", r->sasl_username);
    snprintf(s->sender, sizeof(s->sender), "%s", r->sender);
    snprintf(s->qid, sizeof(s->qid), "%s", r->queue_id);
    addr_parse(r->client_address, &s->client);
    if (geo_lookup(rt->geo, &s->client, &gi) != GEO_OK)
	store_counter_add(rt->st, STATS_GEO_ERRORS, 1);
    rules_geo_facts(&gi, &s->geo);
    rules_verdict_init(&s->v);
    return judge(rt, s, RULES_PHASE_MAIL, "mail", now);
}

/* finish - END-OF-MESSAGE: the size and recipient count, then the end of
 * message; true when the answer is a refusal */
static bool finish(struct runtime *rt, struct slot *s, const struct request *r,
		   uint32_t now)
{
    s->bytes = r->size;
    if (r->recipient_count > 0)	/* what Postfix accepted in the end */
	s->rcpts = r->recipient_count;
    if (judge(rt, s, RULES_PHASE_EOM, "eom", now))
	return true;
    store_counter_add(rt->st, s->v.cls == RULES_CLASS_TRUSTED ? STATS_TRUSTED
		      : s->v.whitelisted ? STATS_WHITELISTED : STATS_MESSAGES, 1);
    return false;
}

/* session_answer - the action line for one request into out */
void session_answer(struct session_table *t, struct runtime *rt,
		    const struct request *r, uint32_t now, char *out,
		    size_t outlen)
{
    struct addr a;
    struct slot *s;
    bool fresh, no = false, eom = strcmp(r->protocol_state, "END-OF-MESSAGE") == 0;

    snprintf(out, outlen, DUNNO);
    if (r->instance[0] == 0 || addr_parse(r->client_address, &a) != 0
	|| (!eom && strcmp(r->protocol_state, "RCPT") != 0))
	return;			/* nothing to judge: a local client, a stage
				 * we do not count at */
    if (eom && session_lookup(t, r->instance) == NULL)
	return;			/* a transaction we never saw begin */
    s = find(t, rt, r->instance, now, &fresh);
    if (fresh)
	no = start(rt, s, r, now);
    else if (s->refused && !rt->cfg->policyd.dry_run)
	no = true;		/* refused once: every later recipient too */
    s->seen = now;
    if (r->queue_id[0])
	snprintf(s->qid, sizeof(s->qid), "%s", r->queue_id);
    if (!no && !eom) {
	/* without end_of_data the recipients let through get the message
	 * (Postfix refuses only the recipient a refusal answers; given
	 * back whole, a thief overshooting the limit with every message
	 * had its delivered recipients uncounted each time) */
	if (s->rcpts > 0 && !rt->cfg->policyd.end_of_data)
	    rules_keep_units(&s->v);
	s->rcpts++;
	no = judge(rt, s, RULES_PHASE_RCPT, "rcpt", now);
    } else if (!no) {
	no = finish(rt, s, r, now);
    }
    if (no) {
	s->stopped = true;
	refusal(rt, s, out, outlen);
    }
    else
	mark(rt, s, eom ? "eom" : "rcpt", eom, out, outlen);
    if (eom)			/* done: nothing to give back */
	unhook(t, (uint32_t) (s - t->slot));
}

/* session_cfg_view - see session.h */
void session_cfg_view(struct cfg *c)
{
    c->milter.dry_run = c->policyd.dry_run;
}
