/*
 * subm - rebuild submissions from mail log records: Postfix's smtpd
 * "client=" line joined with qmgr's "from=" (or cleanup's milter
 * hold/refusal) by queue id; refusals at MAIL and RCPT on their own;
 * Sendmail's "from=" joined with the session's AUTH line by process id.
 */
#ifndef RG_CTL_SUBM_H
#define RG_CTL_SUBM_H

#include <stdint.h>

#include "maillog.h"

#define SUBM_PENDING 32768	/* open transactions remembered at most */
#define SUBM_REORDER_S 120	/* a submission waits this long in log time */
#define SUBM_REORDER_MAX 16384	/* ... among at most this many */

/* One submission, as the milter saw it. */
struct subm {
    uint32_t time;		/* when the client submitted it */
    char qid[MAILLOG_QID_MAX];	/* "" when refused before it had one */
    char login[MAILLOG_LOGIN_MAX];
    char sender[MAILLOG_SENDER_MAX];
    struct addr client;
    uint32_t rcpts;		/* recipients (at least 1) */
    uint64_t size;		/* bytes, 0 when the log does not say */
    enum maillog_live live;	/* what the live system did */
    enum maillog_stage live_stage;	/* ... and when, if it refused */
};

struct subm_stats {
    uint64_t submissions;	/* handed out */
    uint64_t unjoined;		/* ends whose start was not in the log */
    uint64_t evicted;		/* starts dropped from a full table */
    uint64_t no_client;		/* lines without a client address */
    uint64_t duplicates;	/* later refusals of a refused transaction */
};

typedef struct subm_join SUBM;	/* opaque */

/* Called once per rebuilt submission; nonzero stops the run. */
typedef int (*subm_fn)(const struct subm *s, void *arg);

SUBM *subm_new(subm_fn fn, void *arg, uint32_t pending);
void subm_free(SUBM *j);
int subm_add(SUBM *j, const struct maillog_rec *r);
int subm_flush(SUBM *j);
void subm_stats(const SUBM *j, struct subm_stats *out);
uint32_t subm_pending(const SUBM *j);

#endif
