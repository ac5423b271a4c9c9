/*
 * rules_site - the site's places: the AS numbers and countries its
 * logins send from (store_site_place), learned as the site's networks
 * are and read for a login on its first day (metrics_newcomer.c) or in
 * its learning period (metrics_newbulk.c).
 *
 * At MAIL a login at a familiar place of its own, known since learning
 * or for a learning period (the same vouch as for the site's networks,
 * rules.c site_note), vouches for the client's AS number and country,
 * once a day each: a place it already had mail let through from today
 * is not vouched for again (a store update spared per message). The
 * vouch is noted in the verdict and written at the end of the message
 * if it is let through (rules_vouch.c); the entries are read as the
 * other logins left them, so a newcomer's own vouch does not make its
 * first place the site's. A store failure (a lock timeout) only leaves
 * a place unknown: not the site's.
 *
 * Before the rules, a login's line abroad is looked up the same way
 * (rules_family_stay): is it where one of the site's people has a line
 * of their own, an international student's family's neighbourhood?
 */
#include <string.h>

#include "metrics.h"
#include "rules.h"

/* place_read - is a site place the site's, as read into e? */
static bool place_read(const struct cfg *cfg, STORE *st,
		       enum store_site_kind kind, uint32_t id, uint32_t now,
		       struct store_client *e)
{
    return id != 0
	&& store_site_place(st, kind, id, NULL, false, now, e) == STORE_OK
	&& metrics_site_network(cfg, e, now);
}

/* place - is a site place the site's, as read? */
static bool place(const struct cfg *cfg, STORE *st, enum store_site_kind kind,
		  uint32_t id, uint32_t now)
{
    struct store_client e;

    return place_read(cfg, st, kind, id, now, &e);
}

/* site_network - is the client's /24 (/48) one of the site's networks?
 * site_note (rules.c) reads it for a login at a place that is not its
 * own; from the second message of a newcomer's first day its place is
 * its own (learned from the first), young, and site_note leaves v->site
 * unread: a new colleague on the office's LAN (no AS number, no country
 * to be a site place by) was judged by newcomer-volume there. */
static bool site_network(const struct cfg *cfg, STORE *st,
			 const struct rules_facts *f, uint32_t now)
{
    struct store_client e;

    return store_site_get(st, &f->client, now, &e) == STORE_OK
	&& metrics_site_network(cfg, &e, now);
}

/* rules_site_places - at MAIL, after the login's update (u): note a
 * vouch for the client's AS number and country in v->vouch (vouch: a
 * tenured own place), and
 * for a newcomer learn whether either, or the client's network, is the
 * site's (v->site_place); for a newcomer or a learning login whether
 * none is (v->unknown_place) */
void rules_site_places(const struct cfg *cfg, STORE *st,
		       const struct rules_facts *f, uint32_t now,
		       uint32_t site_start, const struct store_user *u,
		       bool vouch, struct rules_verdict *v)
{
    struct metrics_ctx mc;
    const struct store_net *n;
    const struct store_country *k;
    bool newcomer, learner, as, cc, net;
    uint32_t asn = f->geo.asn, today = now / STORE_DAY_S;

    if (cfg->policy.site_logins == 0)
	return;
    memset(&mc, 0, sizeof(mc));
    mc.cfg = cfg, mc.f = f, mc.now = now, mc.user = u;
    mc.cls = RULES_CLASS_AUTHENTICATED, mc.site_start = site_start;
    newcomer = metrics_newcomer(&mc);
    learner = newcomer || metrics_newbulk_learner(&mc);
    if (!vouch && !learner)
	return;
    /* a place it already had mail let through from today is not
     * vouched for again */
    n = metrics_learned_net(&mc, &f->client, asn);
    k = f->geo.cc[0] != 0 ? metrics_country(&mc, f->geo.cc) : NULL;
    if (vouch && asn != 0 && !(n != NULL && n->last_day == today))
	v->vouch |= RULES_VOUCH_AS;
    if (vouch && f->geo.cc[0] != 0 && !(k != NULL && k->last_day == today))
	v->vouch |= RULES_VOUCH_CC;
    as = learner && place(cfg, st, STORE_SITE_AS, asn, now);
    cc = learner && f->geo.cc[0] != 0
	&& place(cfg, st, STORE_SITE_CC, store_site_cc(f->geo.cc), now);
    net = learner && !as && !cc && !v->site && site_network(cfg, st, f, now);
    v->site_place = newcomer && (as || cc || net);
    v->unknown_place = learner && !as && !cc && !v->site && !net;
}

/* family_line - with policy.family_stay, find a line of the login's
 * day (a fine, located place seen within a day) in a country where the
 * login has no home place, in a /24 (/48) another login vouched for
 * within METRICS_SITE_WINDOW_S (a line of its own there, rules.c
 * site_note): mc->family and mc->family_line. At most FAMILY_LOOKUPS
 * such lines are looked up (a store read each). A store failure leaves
 * the line no neighbour's. */
#define FAMILY_LOOKUPS 2
static void family_line(STORE *st, struct metrics_ctx *mc)
{
    struct store_client e;
    size_t looked = 0;

    for (uint32_t i = 0; i < mc->user->nips && i < STORE_IPS_MAX
	 && looked < FAMILY_LOOKUPS; i++) {
	const struct store_ip *ip = &mc->user->ips[i];
	char cc[3];

	store_ip_cc(ip, cc);
	if (!metrics_ip_fine(mc, ip) || cc[0] == 0
	    || !metrics_in_window(ip->last_seen, mc->now, STORE_DAY_S)
	    || metrics_home_country(mc, cc))
	    continue;
	looked++;
	if (store_site_get(st, &ip->ip, mc->now, &e) == STORE_OK
	    && metrics_client_logins(&e, mc->now, METRICS_SITE_WINDOW_S) != 0) {
	    mc->family = true, mc->family_line = ip->ip;
	    return;
	}
    }
}

/* rules_family_stay - at MAIL: the family's line (family_line), then
 * whether the login is on a stay there (metrics_family_stay) */
void rules_family_stay(const struct cfg *cfg, STORE *st,
		       struct metrics_ctx *mc, struct rules_verdict *v)
{
    mc->family = false;
    if (!cfg->policy.family_stay || cfg->policy.site_logins == 0
	|| mc->user == NULL || mc->cls != RULES_CLASS_AUTHENTICATED
	|| cfg->policy.coarse_km == 0)
	return;
    family_line(st, mc);
    v->family_stay = mc->family && metrics_family_stay(mc);
}

/* country_read - the site's vouchers for the country cc within
 * METRICS_SITE_WINDOW_S (*n; 0 for a country never vouched for) and
 * whether that makes it a site place (*site, metrics_site_network);
 * false on a store failure (a lock timeout), which is no answer */
static bool country_read(const struct cfg *cfg, STORE *st, const char *cc,
			 uint32_t now, uint32_t *n, bool *site)
{
    struct store_client e;
    int s = store_site_place(st, STORE_SITE_CC, store_site_cc(cc), NULL,
			     false, now, &e);

    *n = 0, *site = false;
    if (s == STORE_NOTFOUND || s == STORE_EARG)
	return true;		/* no place: none vouched for it */
    if (s != STORE_OK)
	return false;
    *n = metrics_client_logins(&e, now, METRICS_SITE_WINDOW_S);
    *site = metrics_site_network(cfg, &e, now);
    return true;
}

/* rules_home_back - at MAIL, with policy.first_home: is the client's line
 * the first of a login back from a stay abroad (metrics_back_home) in
 * the site's own country: one of the site's places, vouched for by more
 * of its people than any other country the login learned? A trip's
 * first hotel line abroad has the shape of a return, the other way
 * round: the site's people say which way is home. Not only the country
 * left: on a campus the students' native countries are the site's
 * places too, and a thief on a line in one of them was a German
 * student's return from a third country (tests/sim T campus 108 and uni6
 * 108, one-ip6: 2 -> 4 and 1 -> 3 of 20 delivered). Store reads only for
 * such a line, one a country. A store failure leaves the line no first
 * home, on any of the reads (one on another country's read as 0
 * vouchers vetoed nothing: review4, check_rules_fail.c). */
void rules_home_back(const struct cfg *cfg, STORE *st,
		     const struct metrics_ctx *mc, struct rules_verdict *v)
{
    const char *cc = mc->f->geo.cc;
    struct store_client e;
    char left[3];
    uint32_t here, n;
    bool site;

    if (!cfg->policy.first_home || cfg->policy.site_logins == 0
	|| mc->cls != RULES_CLASS_AUTHENTICATED
	|| !metrics_back_home(mc, left)
	|| !place_read(cfg, st, STORE_SITE_CC, store_site_cc(cc), mc->now, &e))
	return;
    /* the entry place_read read: its vouchers, no second read */
    here = metrics_client_logins(&e, mc->now, METRICS_SITE_WINDOW_S);
    for (size_t i = 0; i < STORE_COUNTRIES; i++) {
	const struct store_country *o = &mc->user->countries[i];

	if (o->cc[0] == 0 || o->days == 0 || memcmp(o->cc, cc, 2) == 0)
	    continue;
	if (!country_read(cfg, st, o->cc, mc->now, &n, &site) || n >= here)
	    return;
    }
    v->home_back = true;
}

/* rules_first_left - at MAIL: is the client at a fine place in the
 * login's first country (where its account was first used) while another
 * country the login learned is one of the site's places, vouched for by
 * more of the site's people (v->first_left)? The first country is spared
 * as the home the owner comes back to (metrics_abroad.c); an account
 * begun at the family's abroad whose owner then lived in the site's
 * country has its home there, and the family's ISP is abroad again: a
 * stranger on it sent 160 of 160 (tests/sim X campus 8 native-slow).
 * The other country must be a site place (site_logins logins on
 * site_days days), not merely ahead: on a site whose people vouch for
 * few countries, one colleague's vouch for a country a German once
 * visited outnumbered none for Germany, and the German's home line was
 * judged as abroad (review4, check_rules_fail.c). Store reads only at
 * such a place, one a country; a store failure on any of them leaves
 * the country the login's home (it read as 0 vouchers here, and any
 * vouched country then outvoted it). */
void rules_first_left(const struct cfg *cfg, STORE *st,
		      const struct metrics_ctx *mc, struct rules_verdict *v)
{
    const char *cc = mc->f->geo.cc;
    const struct store_country *first;
    uint32_t here = 0, n;
    bool read = false, site;

    if (cfg->policy.site_logins == 0 || mc->user == NULL
	|| mc->cls != RULES_CLASS_AUTHENTICATED || cc[0] == 0
	|| !metrics_fine_place(mc, &mc->f->client, NULL)
	|| (first = metrics_first_country(mc)) == NULL
	|| memcmp(first->cc, cc, 2) != 0)
	return;
    for (size_t i = 0; i < STORE_COUNTRIES; i++) {
	const struct store_country *o = &mc->user->countries[i];

	if (o->cc[0] == 0 || o->days == 0 || memcmp(o->cc, cc, 2) == 0)
	    continue;
	if (!read && !country_read(cfg, st, cc, mc->now, &here, &site))
	    return;		/* a store failure: the home it was */
	read = true;
	if (!country_read(cfg, st, o->cc, mc->now, &n, &site))
	    return;
	if (site && n > here) {
	    v->first_left = true;
	    return;
	}
    }
}
