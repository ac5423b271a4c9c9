/*
 * maillog - one MTA log line to a record: the syslog header (classic or
 * RFC 3339 time, host, program, pid) and the lines of Postfix and
 * Sendmail that describe a submission.
 */
#ifndef RG_CTL_MAILLOG_H
#define RG_CTL_MAILLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define MAILLOG_LINE_MAX 8192	/* longer lines are cut and counted bad */
#define MAILLOG_HOST_MAX 64
#define MAILLOG_QID_MAX 32
#define MAILLOG_LOGIN_MAX 256
#define MAILLOG_SENDER_MAX 256

enum maillog_status { MAILLOG_OK = 0, MAILLOG_BAD };

enum maillog_kind {
    MAILLOG_NONE,		/* a good line that says nothing we need */
    MAILLOG_PF_CLIENT,		/* smtpd QID: client=H[IP], sasl_username=U */
    MAILLOG_PF_QUEUED,		/* qmgr QID: from=<S>, size=N, nrcpt=N */
    MAILLOG_PF_MILTER_END,	/* cleanup QID: milter-hold|reject|discard:
				 * END-OF-MESSAGE */
    MAILLOG_PF_REFUSED,		/* smtpd NOQUEUE|QID: [milter-]reject: STAGE */
    MAILLOG_SM_AUTH,		/* sendmail AUTH=server, relay=, authid= */
    MAILLOG_SM_FROM,		/* sendmail QID: from=, size=, nrcpts=, relay= */
    MAILLOG_SM_MILTER,		/* sendmail QID: Milter: ..., reject= */
};

/* What the live MTA did with a message, as far as the log tells. */
enum maillog_live {
    MAILLOG_LIVE_ACCEPT,
    MAILLOG_LIVE_HOLD,
    MAILLOG_LIVE_TEMPFAIL,
    MAILLOG_LIVE_REJECT,
    MAILLOG_LIVE_DISCARD,
};

enum maillog_stage {
    MAILLOG_STAGE_MAIL,
    MAILLOG_STAGE_RCPT,
    MAILLOG_STAGE_DATA,		/* DATA or end of message */
};

struct maillog_rec {
    enum maillog_kind kind;
    uint32_t time;		/* seconds since the epoch */
    uint32_t pid;
    char host[MAILLOG_HOST_MAX];
    char qid[MAILLOG_QID_MAX];	/* "" for NOQUEUE */
    char login[MAILLOG_LOGIN_MAX];
    char sender[MAILLOG_SENDER_MAX];
    struct addr client;
    bool have_client;
    uint64_t size;
    uint32_t nrcpt;
    enum maillog_stage stage;
    enum maillog_live live;
    bool milter;		/* a refusal or hold by a milter */
};

/* Year inference for classic timestamps: the year of ref (a file's
 * modification time, or now) unless the first line's date lies after
 * ref's (a day of slack); one more year each time the month goes back (December ->
 * January). Local time, converted once per hour of log. */
struct maillog_clock {
    uint32_t ref;
    int year, mon;		/* of the last classic stamp; mon -1: none */
    int c_year, c_mon, c_day, c_hour;	/* cached hour ... */
    int64_t c_base;		/* ... and its epoch seconds */
};

void maillog_clock_init(struct maillog_clock *ck, uint32_t ref);
int maillog_parse(const char *line, size_t len, struct maillog_clock *ck,
		  struct maillog_rec *r);
const char *maillog_live_name(enum maillog_live l);

#endif
