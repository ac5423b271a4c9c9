/*
 * metrics_relay - relayed_messages_over_usual: a login's messages
 * through a trusted relay (the site's webmail) in the last hour, less
 * its busiest usual hour (probe F23).
 *
 * A session from a trusted relay is judged on the login's rates only:
 * it has no place, so no rule that requires unfamiliar-network applies,
 * and a stolen password used in the site's webmail met only the
 * site-wide 200 messages and 1000 recipients an hour (tests/sim
 * nearby.mix: a message every 2 minutes for 8 hours, 240 of 240
 * delivered; a spam run of 20 recipients a minute, 107 of 180). What a
 * login sends through the relay is counted apart (store_relay.c): an
 * owner's busy hour at the desk with one webmail message in it is not a
 * busy webmail hour, and the owner's webmail sessions are a few messages
 * each. The scale is the login's own busiest relayed hour of mail let
 * through on the days before today (store_relay.c: an attacker's mail
 * today does not raise it), at least METRICS_RELAY_FLOOR: a webmail
 * session is a few messages (honest relayed hours came to at most 4 past
 * that on 120 simulated sites). While the login learns, its busiest
 * hour from anywhere, at least the learning floor, stands in: a heavy
 * sender's first webmail hours are not yet learned. The login's usual
 * hour alone was no scale: one busy day at the desk in the learning week
 * (44 messages) let an attacker send 30 an hour through the webmail
 * (nearby.mix seed 1).
 *
 * Contract: pure, like metrics.c.
 */
#include <stdio.h>
#include <string.h>

#include "metrics.h"

#define METRICS_RELAY_FLOOR 4	/* relayed messages an hour any login may send */

/* metrics_relayed_usual - what webmail-volume counts past: the login's
 * busiest relayed hour of the days before, at least
 * METRICS_RELAY_FLOOR; while it learns, its busiest hour from anywhere
 * (at least the learning floor) if higher */
uint64_t metrics_relayed_usual(const struct metrics_ctx *c)
{
    uint64_t usual = store_user_relayed_usual(c->user, c->now);
    uint16_t msgs = c->user->usual_msgs, rcpts = c->user->usual_rcpts;
    bool floor = metrics_usual_floor(c, &msgs, &rcpts);	/* learning */

    if (floor || metrics_learning_end(c->cfg, c->user) > c->now) {
	if (msgs > usual)
	    usual = msgs;
    } else if (usual < METRICS_RELAY_FLOOR)
	usual = METRICS_RELAY_FLOOR;
    return usual;
}

/* metrics_relayed_messages_over_usual - see above; 0 for a session that
 * is not relayed. The count covers the current and the previous half
 * hour, so the window is always an hour (cfg_check.c). */
uint64_t metrics_relayed_messages_over_usual(const struct metrics_ctx *c,
					     uint32_t w, char *ev,
					     size_t evlen)
{
    uint64_t v, usual;

    (void) w;
    if (!c->relayed || c->user == NULL || c->cls != RULES_CLASS_AUTHENTICATED)
	return 0;
    v = store_user_relayed_hour(c->user, c->now);
    usual = metrics_relayed_usual(c);
    if (ev != NULL && evlen > 0)
	snprintf(ev, evlen, "%llu message%s through a trusted relay "
		 "(webmail) in 1h, usual <= %llu", (unsigned long long) v,
		 v == 1 ? "" : "s", (unsigned long long) usual);
    return v > usual ? v - usual : 0;
}
