/*
 * txn - drive the engine through one transaction as the milter does:
 * MAIL FROM, then each RCPT TO, then end of message, stopping at the
 * first phase whose verdict must be applied at once (tempfail, reject),
 * as the MTA stops the transaction there.
 *
 * Contract: pure like rules_judge (the store is the only I/O), no clock,
 * no logging. The verdict carries the result and its evidence; the return
 * value says where the transaction ended.
 */
#include <string.h>

#include "txn.h"

static const char *const end_phases[] = {"eom", "mail", "rcpt", "mail"};

/* The front ends' phase names (the verdict line's phase=). */
static const struct {
    const char *name;
    enum rules_phase id;
} phase_names[] = {
    {"mail", RULES_PHASE_MAIL},
    {"rcpt", RULES_PHASE_RCPT},
    {"eom", RULES_PHASE_EOM},
};

/* txn_end_phase - the milter's phase name for where a transaction ended */
const char *txn_end_phase(enum txn_end e)
{
    return (unsigned) e < sizeof(end_phases) / sizeof(end_phases[0])
	? end_phases[e] : "?";
}

/* txn_phase_id - the phase of a phase name; MAIL for a name not known */
enum rules_phase txn_phase_id(const char *name)
{
    for (size_t i = 0; i < sizeof(phase_names) / sizeof(phase_names[0]); i++)
	if (strcmp(name, phase_names[i].name) == 0)
	    return phase_names[i].id;
    return RULES_PHASE_MAIL;
}

/* txn_phase_name - the name of a phase; "?" for one not known */
const char *txn_phase_name(enum rules_phase ph)
{
    for (size_t i = 0; i < sizeof(phase_names) / sizeof(phase_names[0]); i++)
	if (phase_names[i].id == ph)
	    return phase_names[i].name;
    return "?";
}

/* txn_subject - who a verdict on t at phase is about: its fields point
 * into t, which must outlive out; no HELO (a front end that knows one
 * sets it) */
void txn_subject(const struct txn *t, const char *phase,
		 struct report_subject *out)
{
    memset(out, 0, sizeof(*out));	/* the event's fields too */
    out->qid = t->qid;
    out->login = t->login;
    out->client = &t->client;
    out->country = t->geo.cc;
    out->helo = NULL;
    out->phase = phase;
    out->phase_id = txn_phase_id(phase);
    out->asn = t->geo.asn;
    out->rcpts = t->rcpts;
    out->bytes = t->bytes;
    out->rogue_listed = t->rogue_listed;
}

/* facts - what the engine is told at MAIL of t: who, from where (an
 * empty login or queue id is none) */
static void facts(const struct txn *t, struct rules_facts *f)
{
    memset(f, 0, sizeof(*f));
    f->login = t->login && *t->login ? t->login : NULL;
    f->sender = t->sender;
    f->client = t->client;
    f->geo = t->geo;
    f->geo_caps = t->geo_caps;
    f->rogue_listed = t->rogue_listed;
    f->phase = RULES_PHASE_MAIL;
}

/* txn_judge - one phase of a live transaction; must it be refused now? */
bool txn_judge(const struct cfg *cfg, STORE *st, const struct txn *t,
	       enum rules_phase ph, uint32_t now, struct rules_verdict *v)
{
    struct rules_facts f;

    facts(t, &f);
    f.phase = ph;
    f.rcpts = t->rcpts;
    f.bytes = t->bytes;
    f.qid = t->qid && *t->qid ? t->qid : NULL;
    rules_judge(cfg, st, &f, now, v);
    return rules_act_now(v, ph) && v->action >= CFG_ACTION_TEMPFAIL;
}

/* phases - MAIL, RCPT per recipient, EOM, up to the first refusal */
static enum txn_end phases(const struct cfg *cfg, STORE *st,
			   const struct txn *t, uint32_t now,
			   struct rules_verdict *v, uint32_t *rcpt)
{
    struct rules_facts f;
    uint32_t i;

    if (rcpt != NULL)
	*rcpt = 0;
    facts(t, &f);
    rules_judge(cfg, st, &f, now, v);
    if (rules_act_now(v, f.phase))
	return TXN_END_MAIL;
    if (t->rcpts == 0)
	return TXN_END_NORCPT;
    f.rogue_listed = false;	/* the milter asks for it at MAIL only */
    for (i = 1; i <= t->rcpts; i++) {
	f.phase = RULES_PHASE_RCPT;
	f.rcpts = i;
	f.qid = t->qid;
	if (rcpt != NULL)
	    *rcpt = i;
	rules_judge(cfg, st, &f, now, v);
	if (rules_act_now(v, f.phase))
	    return TXN_END_RCPT;
    }
    f.phase = RULES_PHASE_EOM;
    f.bytes = t->bytes;
    f.qid = t->qid;
    rules_judge(cfg, st, &f, now, v);
    return TXN_END_EOM;
}

/* txn_run - MAIL, RCPT per recipient, EOM; where it ended, and in *rcpt
 * (when not NULL) the recipient it ended at (0 before any). What a
 * transaction that never reached its end still holds counted is given
 * back, as the milter does when the MTA ends it (message_reset). */
enum txn_end txn_run(const struct cfg *cfg, STORE *st, const struct txn *t,
		     uint32_t now, struct rules_verdict *v, uint32_t *rcpt)
{
    enum txn_end e = phases(cfg, st, t, now, v, rcpt);

    (void) rules_give_back(st, t->login && *t->login ? t->login : NULL,
			   &t->client, now, v);
    return e;
}
