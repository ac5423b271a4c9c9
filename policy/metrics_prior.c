/*
 * metrics_prior - recipients_over_prior_usual: the window's recipients
 * less the login's usual busiest hour as it stood before today
 * (store_prior.c).
 *
 * user-recipients, the last line against a login whose own baseline is
 * high, was a flat 1000 recipients an hour: heavy senders (73-100
 * messages a workday, a newsletter of 300-800 recipients) went past it
 * in a busy hour from the office, home or webmail, with no other signal
 * (tests/sim wide seeds 1 and 5: 13 and 18 messages, probe F19). On top
 * of the owner's own busiest hour the same 1000 keep their meaning, and
 * the usual of before today does not follow today's mail up, so an
 * attacker on the owner's own network still meets 1000 past it.
 */
#include <stdio.h>
#include <string.h>

#include "metrics.h"

/* metrics_recipients_over_prior_usual - see above (the usual as found
 * at MAIL: rules_verdict); 0 for a session without a login */
uint64_t metrics_recipients_over_prior_usual(const struct metrics_ctx *c,
					     uint32_t w, char *ev,
					     size_t evlen)
{
    uint64_t v = c->win ? store_win_sum(c->win, STORE_RCPTS, c->now, w) : 0;
    uint64_t usual = c->prior_rcpts;
    char d[16];

    if (c->cls != RULES_CLASS_AUTHENTICATED)
	return 0;
    if (ev != NULL && evlen > 0) {
	rules_format_duration(w, d, sizeof(d));
	snprintf(ev, evlen, "%llu recipient%s in %s, usual <= %llu before "
		 "today", (unsigned long long) v, v == 1 ? "" : "s", d,
		 (unsigned long long) usual);
    }
    return v > usual ? v - usual : 0;
}

/* metrics_prior_recipients_bulk - recipients_over_prior_usual with a
 * bulk sender's margin and its first newsletter of an hour judged
 * without its own recipients (metrics_rcpts_slack, metrics_bulk_alone,
 * as recipients_over_usual): new-exit-recipients' metric, where the
 * usual hour of today would follow a thief's own hour at a familiar
 * place (a shared exit), and a heavy sender's newsletter on its first
 * day there is no run */
uint64_t metrics_prior_recipients_bulk(const struct metrics_ctx *c,
				       uint32_t w, char *ev, size_t evlen)
{
    uint64_t v = metrics_recipients_over_prior_usual(c, w, ev, evlen);
    uint64_t usual = c->prior_rcpts, slack;

    if (c->cls != RULES_CLASS_AUTHENTICATED)
	return 0;
    v += usual;			/* the window's recipients */
    slack = metrics_rcpts_slack(c, usual, w);
    if (ev != NULL && evlen > 0)
	metrics_slack_text(slack, ev, evlen);
    v = metrics_bulk_alone(c, v, usual, usual + slack, w);
    return v > usual + slack ? v - usual - slack : 0;
}
