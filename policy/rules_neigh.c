/*
 * rules_neigh - a fresh line in one of the site's networks: the client
 * a fine place (a home line) that no other login came from; and
 * (rules_alone_line, below) a newcomer's line where no neighbourhood of
 * the site's people lives.
 *
 * A /24 (/48) that site_logins logins came from, each from a place of its
 * own, on site_days days, is the site's network, familiar to every
 * login (metrics_site_known): an office's or a campus's NAT, a
 * neighbourhood where several of the site's people live. A residential
 * proxy or a neighbour's line in such a neighbourhood was then familiar
 * to any stolen login, without end: no rule that requires
 * unfamiliar-network judged it (tests/sim probe-neighbour-fine.mix
 * pn-sticky-normal seed 200 and pn-sticky-phone seed 205,
 * probe-neighbour-intl.mix pn-sticky-intl seed 203: a thief on one line
 * in a /24 where four, five and eleven of the site's people live, 100 of
 * 100 messages through each).
 *
 * The site's people share an office's or a campus's address; a line in
 * a neighbourhood is one customer's, and no other login came from it.
 * Such an address is familiar through the site's network only as a
 * first home line is (metrics_neighbour.c): until the login's messages
 * from the /24 (/48) in the rolling day are past its busiest day before
 * today, less yesterday's from there, plus a backlog day
 * (metrics_line_past_day; rules.c rules_judge applies it at MAIL). Then
 * only the login's own places make it familiar. Not withdrawn at once:
 * an owner whose learning week was a trip or the phone comes home to a
 * fresh address in such a /24 (tests/sim travel seed 108, shuffle seeds
 * 108 and 110 of the set T: 65 honest messages held when the address was
 * unfamiliar from its first message).
 */
#include <string.h>

#include "metrics.h"
#include "rules.h"

/* rules_site_stranger - at MAIL, after the client's update (c): is the
 * client, in one of the site's networks (v->site), a fine place that no
 * other login came from within METRICS_SITE_WINDOW_S? */
bool rules_site_stranger(const struct cfg *cfg, const struct rules_facts *f,
			 const struct store_client *c, uint32_t now)
{
    uint32_t k = cfg->policy.coarse_km;

    if (k == 0 || !f->geo.has_loc || f->geo.acc_km == 0 || f->geo.acc_km >= k)
	return false;
    /* more than one: the login itself is one */
    return metrics_client_logins(c, now, METRICS_SITE_WINDOW_S) <= 1;
}

/* other_logins - how many logins other than this one vouched for the
 * network of the site's entry e within METRICS_SITE_WINDOW_S? */
static uint32_t other_logins(STORE *st, const struct store_client *e,
			     const char *login, uint32_t now)
{
    uint32_t self = store_login_hash32(st, login), n = 0;

    for (uint32_t i = 0; i < e->nlogins && i < STORE_CLIENT_LOGINS; i++)
	if (e->logins[i].hash != self
	    && metrics_in_window(e->logins[i].last_seen, now,
				 METRICS_SITE_WINDOW_S))
	    n++;
    return n;
}

/*
 * rules_alone_line - a newcomer's or learning login's line alone.
 *
 * newcomer-recipients counts a newcomer's or learning login's recipients
 * only at a place whose AS number, country and /24 (/48) are none of the
 * site's (rules_site.c). A German home line is on an AS number the
 * site's people use: a thief of a login stolen on the day it joined, on
 * a residential line, sent 40 of 40 messages of 400 recipients
 * (tests/sim/mix/probe-newbulk.mix nb-day0-home, seeds 200-209). Judged
 * by the /24 alone, the class is wide (every learning login on a home
 * line four logins do not share); here it is narrower: a fine place in a
 * /24 (/48) that fewer than METRICS_LINE_OTHERS other logins of the site
 * vouched for within METRICS_SITE_WINDOW_S (no neighbourhood of the
 * site's people). One other is not enough: a login vouches from a far
 * place of a tenured own network too (rules.c site_note, another site of
 * a campus's network), and a residential proxy on the ISP of another
 * stolen login's home line is such a place: its first message vouched
 * for the /24 at MAIL (network-hopping held it), and 3.8 days later the
 * newcomer's thief on another line there was not judged (probe-newbulk
 * seed 208: 40 of 40 through with "no other login"). The thief's own vouches
 * (a learning login's networks are tenured) are not another login's.
 * Such a login's recipients from the address count for
 * newcomer_line_recipients, with its own limit: an honest heavy
 * sender's first newsletter at home in its learning week is there too.
 * Judged only when a rule reads the metric (policy.judges_alone_line).
 * The site's entry is the one site_note read or vouched for (site),
 * else (NULL: a young own place) one store read; a failed read leaves
 * the line not alone.
 */
void rules_alone_line(const struct cfg *cfg, STORE *st,
		      const struct rules_facts *f, uint32_t now,
		      uint32_t site_start, const struct store_user *u,
		      const struct store_client *site,
		      struct rules_verdict *v)
{
    struct metrics_ctx mc;
    struct store_client e;
    uint32_t k = cfg->policy.coarse_km;
    int s;

    v->alone_line = false;
    if (!cfg->policy.judges_alone_line || cfg->policy.site_logins == 0
	|| v->unknown_place || v->site || k == 0 || !f->geo.has_loc
	|| f->geo.acc_km == 0 || f->geo.acc_km >= k)
	return;
    memset(&mc, 0, sizeof(mc));
    mc.cfg = cfg, mc.f = f, mc.now = now, mc.user = u;
    mc.cls = RULES_CLASS_AUTHENTICATED, mc.site_start = site_start;
    if (!metrics_newcomer(&mc) && !metrics_newbulk_learner(&mc))
	return;
    if (site == NULL) {
	if ((s = store_site_get(st, &f->client, now, &e)) == STORE_NOTFOUND)
	    memset(&e, 0, sizeof(e));	/* no entry: no login vouched */
	else if (s != STORE_OK)
	    return;
	site = &e;
    }
    v->alone_line = other_logins(st, site, f->login, now)
	< METRICS_LINE_OTHERS;
}
