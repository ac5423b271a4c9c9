/*
 * metrics_unlearned - a login past its learning period with no usual
 * busiest hour (judge, issue 16).
 *
 * The usual hour is learned only from mail let through from a place the
 * login knows (STORE_OBS_LEARN_VOLUME); mail through the site's webmail
 * (a trusted relay: the place is the relay's) and from places the login
 * did not know teach it nothing. A login whose first week was webmail
 * only, or spent where every place was a stranger's, leaves it with a
 * usual hour of 0: not a baseline of no mail, but no baseline. Judged
 * against 0, its owner's first phone session was refused at the second
 * message in an hour and the login blocked for a day (tests/sim shuffle
 * and stealth seed 3, "2 messages in 1h, usual <= 0"). Such a login is
 * still learning its volume: the volume rules count its usual hour as
 * at least the learning floor (policy.learning_usual_messages and
 * _recipients, metrics_usual_floor) until a message from a known place
 * teaches it one.
 *
 * Contract: a pure function of the context, like every metric.
 */
#include "metrics.h"

/* metrics_unlearned - has the login no usual busiest hour at all? */
bool metrics_unlearned(const struct metrics_ctx *c)
{
    return c->user != NULL && c->user->usual_msgs == 0;
}
