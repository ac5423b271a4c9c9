/*
 * session - what relayguard-policyd answers: each Postfix policy request
 * is one phase of a transaction, found by Postfix's "instance" attribute.
 * The first request of an instance runs the MAIL phase and then its RCPT
 * (check_policy_service in smtpd_recipient_restrictions), later ones RCPT
 * only; protocol_state=END-OF-MESSAGE (smtpd_end_of_data_restrictions)
 * runs the end of message with the size, and the transaction is done.
 *
 * Contract: single-threaded (the daemon's event loop owns the table).
 * The table is fixed-size; an instance not seen for policyd.instance_timeout,
 * or the oldest one when the table is full, is forgotten. With
 * policyd.end_of_data it never reached its end of message, so what it
 * counted is given back (rules_give_back), as the milter does on abort.
 * Logs verdicts through report_verdict, nothing else.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geo.h"
#include "report.h"
#include "rules.h"
#include "session.h"
#include "stats.h"

#define DUNNO "action=DUNNO\n\n"

struct slot {
    bool used;
    bool refused;		/* a refusal was logged for this message */
    bool tagged;		/* PREPEND or HOLD already answered */
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
    unsigned n;
    struct slot *slot;
};

/* session_table_new - a table of slots transactions */
struct session_table *session_table_new(unsigned slots)
{
    struct session_table *t = calloc(1, sizeof(*t));

    if (t == NULL || (t->slot = calloc(slots, sizeof(*t->slot))) == NULL) {
	free(t);
	return NULL;
    }
    t->n = slots;
    return t;
}

/* forget - drop a transaction; unfinished ones give back with end_of_data */
static void forget(struct slot *s, struct runtime *rt, uint32_t now)
{
    if (rt->cfg->policyd.end_of_data
	&& rules_give_back(rt->st, s->login, &s->client, now, &s->v) != STORE_OK)
	store_counter_add(rt->st, STATS_GIVE_BACK_ERRORS, 1);
    s->used = false;
}

/* session_table_free - forget every transaction and free the table */
void session_table_free(struct session_table *t, struct runtime *rt,
			uint32_t now)
{
    unsigned i;

    if (t == NULL)
	return;
    for (i = 0; i < t->n; i++)
	if (t->slot[i].used)
	    forget(&t->slot[i], rt, now);
    free(t->slot);
    free(t);
}

/* session_expire - forget transactions idle past the timeout; how many */
unsigned session_expire(struct session_table *t, struct runtime *rt,
			uint32_t now)
{
    unsigned i, n = 0;

    for (i = 0; i < t->n; i++)
	if (t->slot[i].used
	    && now - t->slot[i].seen >= rt->cfg->policyd.instance_s) {
	    forget(&t->slot[i], rt, now);
	    n++;
	}
    return n;
}

/* find - the slot of an instance, or a fresh one (the oldest is forgotten
 * when the table is full); *fresh says which */
static struct slot *find(struct session_table *t, struct runtime *rt,
			 const char *instance, uint32_t now, bool *fresh)
{
    struct slot *free_slot = NULL, *oldest = NULL;
    unsigned i;

    for (i = 0; i < t->n; i++) {
	struct slot *s = &t->slot[i];

	if (!s->used) {
	    if (free_slot == NULL)
		free_slot = s;
	    continue;
	}
	if (strcmp(s->instance, instance) == 0) {
	    *fresh = false;
	    return s;
	}
	if (oldest == NULL || now - s->seen > now - oldest->seen)
	    oldest = s;
    }
    if (free_slot == NULL) {
	forget(oldest, rt, now);
	free_slot = oldest;
    }
    *fresh = true;
    return free_slot;
}

/* subject - who a verdict is about, for the log and the header */
static void subject(const struct slot *s, const char *phase,
		    struct report_subject *out)
{
    out->qid = s->qid;
    out->login = s->login;
    out->client = &s->client;
    out->country = s->geo.cc;
    out->helo = NULL;
    out->phase = phase;
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
 * send Postfix's 450 and wait for the later restrictions to permit) */
static void refusal(struct runtime *rt, const struct slot *s, char *out,
		    size_t len)
{
    struct rules_reply r;
    char text[SESSION_ACTION_MAX / 2];

    rules_reply_for(rt->cfg, &s->v, &r);
    clean_copy(text, sizeof(text), r.text);
    snprintf(out, len, "action=%s %s %s\n\n", r.rcode, r.xcode, text);
}

/* judge - one phase through the engine; true when the answer is a refusal */
static bool judge(struct runtime *rt, struct slot *s, enum rules_phase ph,
		  const char *phase, uint32_t now)
{
    struct rules_facts f;
    struct report_subject rs;

    memset(&f, 0, sizeof(f));
    f.phase = ph;
    f.login = s->login[0] ? s->login : NULL;
    f.sender = s->sender;
    f.client = s->client;
    f.geo = s->geo;
    f.geo_caps = geo_caps(rt->geo);
    f.rcpts = s->rcpts;
    f.bytes = s->bytes;
    f.qid = s->qid[0] ? s->qid : NULL;
    rules_judge(rt->cfg, rt->st, &f, now, &s->v);
    if (!rules_act_now(&s->v, ph) || s->v.action < CFG_ACTION_TEMPFAIL)
	return false;
    if (!s->refused) {		/* one verdict line per message */
	subject(s, phase, &rs);
	report_verdict(rt, &rs, &s->v, rt->cfg->milter.dry_run);
	s->refused = true;
    }
    return !rt->cfg->milter.dry_run;
}

/* mark - PREPEND the header or HOLD the message, once per message */
static void mark(struct runtime *rt, struct slot *s, const char *phase,
		 bool eom, char *out, size_t len)
{
    struct report_subject rs;
    char hdr[SESSION_ACTION_MAX / 2];

    if (s->tagged || s->v.action == CFG_ACTION_ACCEPT
	|| (eom && s->v.action == CFG_ACTION_TAG))	/* too late to PREPEND */
	return;
    s->tagged = true;
    subject(s, phase, &rs);
    report_verdict(rt, &rs, &s->v, rt->cfg->milter.dry_run);
    if (rt->cfg->milter.dry_run)
	return;
    report_header(rt, &rs, &s->v, hdr, sizeof(hdr));
    clean_copy(hdr, sizeof(hdr), hdr);
    if (s->v.action == CFG_ACTION_QUARANTINE)
	snprintf(out, len, "action=HOLD %s\n\n", hdr);
    else if (rt->cfg->milter.add_header)
	snprintf(out, len, "action=PREPEND %s: %s\n\n", REPORT_HEADER, hdr);
}

/* start - a new transaction: its facts, then the MAIL phase */
static bool start(struct runtime *rt, struct slot *s, const struct request *r,
		  uint32_t now)
{
    struct geo_info gi;

    memset(s, 0, sizeof(*s));
    s->used = true;
    snprintf(s->instance, sizeof(s->instance), "%s", r->instance);
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
    s = find(t, rt, r->instance, now, &fresh);
    if (fresh && eom) {		/* a transaction we never saw begin */
	s->used = false;
	return;
    }
    if (fresh)
	no = start(rt, s, r, now);
    else if (s->refused && !rt->cfg->milter.dry_run)
	no = true;		/* refused once: every later recipient too */
    s->seen = now;
    if (r->queue_id[0])
	snprintf(s->qid, sizeof(s->qid), "%s", r->queue_id);
    if (!no && !eom) {
	s->rcpts++;
	no = judge(rt, s, RULES_PHASE_RCPT, "rcpt", now);
    } else if (!no) {
	s->bytes = r->size;
	no = judge(rt, s, RULES_PHASE_EOM, "eom", now);
    }
    if (no)
	refusal(rt, s, out, outlen);
    else
	mark(rt, s, eom ? "eom" : "rcpt", eom, out, outlen);
    if (eom) {
	if (!no)
	    store_counter_add(rt->st, s->v.cls == RULES_CLASS_TRUSTED ? STATS_TRUSTED
			      : s->v.whitelisted ? STATS_WHITELISTED : STATS_MESSAGES, 1);
	s->used = false;	/* done: nothing to give back */
    }
}
