/*
 * metrics_newbulk - a newcomer's or learning login's recipients at a
 * place the site does not know (the newcomer_recipients metric).
 *
 * newcomer-volume and newcomer-pace count a newcomer's messages; a
 * thief who sends few messages of many recipients each never reaches
 * them (tests/sim/mix/probe-bulk2.mix seed 203: a heavy sender stolen on
 * the day it joined sent 39 of 40 messages of 400 recipients, one an
 * hour, from one Ukrainian address). From its second day the login is
 * no newcomer, and a learning login's places are its own (the thief's
 * country was used on an earlier day, so it is no learning stranger):
 * nothing but user-recipients (the busiest hour before today + 1000)
 * bounded it. Here a login on its first day (metrics_newcomer) or in
 * its learning period, on a site past its own, at a place whose AS
 * number, country and /24 (/48) are none of the site's (rules_site.c,
 * found at MAIL: v->unknown_place), not a pinned network nor an address
 * more than site_logins logins came from within a day
 * (metrics_newcomer_place, as for newcomer_messages: a thief's second
 * stolen login, one message first, does not lift it; golden
 * newbulk_pair.case), has its recipients in the window counted, as
 * newcomer_messages counts its messages.
 *
 * A home line on one of the site's ISPs is at the site's AS number and
 * country: there newcomer_line_recipients counts the client address's
 * recipients while it is a fine place in a /24 (/48) no neighbourhood of
 * the site's people (rules_neigh.c rules_alone_line; probe-newbulk.mix
 * nb-day0-home: 40 of 40 through before).
 */
#include <stdio.h>

#include "metrics.h"

/* metrics_newbulk_learner - a login in its learning period (its first
 * day included) on a site past its own first learning period */
bool metrics_newbulk_learner(const struct metrics_ctx *c)
{
    return c->user != NULL && metrics_site_learned(c)
	&& c->now < metrics_learning_end(c->cfg, c->user);
}

/* login_recipients - the recipients of the window win (this one
 * included), with the evidence: whose (the login's, or its address's),
 * where, in which of the login's days, and why the place counts */
static uint64_t login_recipients(const struct metrics_ctx *c,
				 const struct store_win *win, uint32_t w,
				 const char *whose, const char *why, char *ev,
				 size_t evlen)
{
    char net[64], d[16], learn[16], when[48];
    uint64_t n;

    n = store_win_sum(win, STORE_RCPTS, c->now, w);
    if (ev != NULL) {
	metrics_net_text(&c->f->client, c->f->geo.asn, c->f->geo.cc, net,
			 sizeof(net));
	rules_format_duration(w, d, sizeof(d));
	/* the login's learning period as configured, not "a week" (the
	 * shipped 7d); one shorter than a day ends within the newcomer's
	 * first day. (At RCPT c->user is not read: a newcomer and a
	 * learning login are told apart only at MAIL.) */
	rules_format_duration(c->cfg->policy.learning_s, learn, sizeof(learn));
	if (c->cfg->policy.learning_s >= STORE_DAY_S)
	    snprintf(when, sizeof(when), "learning period (its first %s)",
		     learn);
	else
	    snprintf(when, sizeof(when), "first day");
	snprintf(ev, evlen, "%llu recipient%s%s in %s in the login's %s, from"
		 " %s: %s", (unsigned long long) n, n == 1 ? "" : "s", whose,
		 d, when, net, why);
    }
    return n;
}

/* metrics_newcomer_recipients - the login's recipients in the window
 * (this one included) while its client is at no place the site knows
 * (c->unknown_place); 0 otherwise */
uint64_t metrics_newcomer_recipients(const struct metrics_ctx *c, uint32_t w,
				     char *ev, size_t evlen)
{
    if (!c->unknown_place || c->win == NULL
	|| c->cls != RULES_CLASS_AUTHENTICATED)
	return 0;
    return login_recipients(c, c->win, w, "", "neither network nor country"
			    " one of the site's", ev, evlen);
}

/* metrics_newcomer_line_recipients - the client address's recipients in
 * the window (this one included) while it is a line in a /24 (/48) no
 * neighbourhood of the site's people (c->alone_line, rules_neigh.c); 0
 * otherwise. The address's, not the login's: the login's every
 * recipient counted a heavy learning sender's phone too (tests/sim wide
 * seed 106 of the set T: 43 honest messages held at 2000 a day) */
uint64_t metrics_newcomer_line_recipients(const struct metrics_ctx *c,
					  uint32_t w, char *ev, size_t evlen)
{
    char why[96];

    if (!c->alone_line || c->client_win == NULL
	|| c->cls != RULES_CLASS_AUTHENTICATED)
	return 0;
    snprintf(why, sizeof(why), "a line in a /24 (/48) fewer than %d other"
	     " logins of the site vouched for in %d days", METRICS_LINE_OTHERS,
	     (int) (METRICS_SITE_WINDOW_S / STORE_DAY_S));
    return login_recipients(c, c->client_win, w, " from the address", why,
			    ev, evlen);
}
