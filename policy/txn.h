/*
 * txn - one whole SMTP transaction through the engine, phase by phase, as
 * an MTA drives the milter: MAIL, one RCPT per recipient, end of message.
 *
 * txn_run is for front ends that know a transaction only once it is over
 * (relayguardctl replay over a mail log, the golden case driver);
 * txn_judge is one phase of a live one (the milter's callbacks, policyd's
 * requests). This is the one place they share, so a change to the phase
 * protocol (counting, give-back on refusal) is made here once; so is who
 * a verdict is about (txn_subject), for report_verdict and report_header.
 */
#ifndef RG_TXN_H
#define RG_TXN_H

#include <stdint.h>

#include "report.h"
#include "rules.h"

struct txn {
    const char *login;		/* SASL login, NULL or "" when none */
    const char *sender;		/* MAIL FROM, may be NULL */
    struct addr client;
    struct store_geo geo;
    unsigned geo_caps;
    bool rogue_listed;
    uint32_t rcpts;		/* recipients the MTA accepted; 0: refused
				 * by the MTA itself after MAIL FROM */
    uint64_t bytes;		/* message size */
    const char *qid;		/* queue id, NULL when unknown */
};

/* Where the transaction ended. */
enum txn_end {
    TXN_END_EOM,		/* reached end of message */
    TXN_END_MAIL,		/* refused (tempfail/reject) at MAIL FROM */
    TXN_END_RCPT,		/* refused at a RCPT TO */
    TXN_END_NORCPT,		/* no recipient: the MTA ended it after MAIL */
};

enum txn_end txn_run(const struct cfg *cfg, STORE *st, const struct txn *t,
		     uint32_t now, struct rules_verdict *v, uint32_t *rcpt);
/* One phase of a live transaction (the milter's callbacks, policyd's
 * requests): t as the front end knows it so far (rcpts accepted up to
 * this one, bytes at the end; t->rcpts and t->bytes are used as they
 * are), through the engine. True when the verdict must be applied now:
 * a tempfail or reject this phase acts on. */
bool txn_judge(const struct cfg *cfg, STORE *st, const struct txn *t,
	       enum rules_phase ph, uint32_t now, struct rules_verdict *v);
const char *txn_end_phase(enum txn_end e);
/* The phase of a phase name ("mail", "rcpt", "eom"); MAIL if unknown. */
enum rules_phase txn_phase_id(const char *name);
/* The name of a phase; "?" for one not known. */
const char *txn_phase_name(enum rules_phase ph);
/* Who a verdict on t at phase is about; out points into t (its client,
 * geo.cc) and has no HELO. */
void txn_subject(const struct txn *t, const char *phase,
		 struct report_subject *out);

#endif
