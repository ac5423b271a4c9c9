/*
 * metrics_revisit - a place abroad is the login's for the stay, not
 * for ever: a network abroad taken up again after a day or more without
 * it is judged as on a first visit that day.
 *
 * A network is familiar once mail was let through from it on
 * familiar_days days, and stays so. An international student's family
 * line abroad (the country's biggest ISP: one AS for the country) is
 * learned on a visit home; from then on a stranger on any line of that
 * ISP is as familiar as the family's, and sends whatever it likes in the
 * owner's name (tests/sim campus.mix and uni6.mix native-slow and
 * native-slow6: a message every 3 minutes for 8 hours, 160 of 160
 * delivered in 20 of 20 runs whose victim had been home before; probe
 * F6, F17). Volume does not tell it from the owner (an owner's backlog
 * day at the family's line is as busy for an hour or two), nor, mostly,
 * does the owner's own mail meanwhile (the victim at home sends from the
 * local SIM, or nothing, for hours; EFFICACY.md round 10 - native). What
 * does, in some runs, is that the login was not at that place the day
 * before: it had left it (back in Germany, on a trip elsewhere) and
 * came from another country since, and a stranger took it up. An owner
 * who goes back is on a new stay, which the engine judges as it judged
 * the first: more than unfamiliar-volume's 8 messages on the stay's
 * first day are refused (the revisit-volume rule), and from the next
 * day on the place is familiar again.
 *
 * Which networks: a fine place (radius below policy.coarse_km: a line,
 * not a carrier's CGNAT hub nor a VPN's anycast exit), an address no
 * other login came from within a day (a NAT, a VPN exit), in a country
 * that is neither the login's first one (where its account was first
 * used) nor the one it has the most days in (that country's today not
 * counted: a stranger's let-through messages add to it): the home line
 * it comes back to is never "taken up again" abroad, whether the login
 * was first used through a corporate VPN's exit abroad (tests/sim
 * shuffle and stealth seed 6: a home line's first day back refused past
 * 8 with the first country alone; the held-out site showed it too) or
 * began at the family's abroad; on a network it used on familiar_days days before
 * today (a stay, not a day's) and on no more days than that country (a
 * privacy VPN's or a hotel chain's exits are one network in many
 * countries, used on more days than any one of them: privacy VPN users
 * on 6 of the 120 kept sites had 8-27 messages each refused at their
 * exits without it; their other countries' exits fall off the
 * 16-address list behind the phone's). "Taken up again": the network's
 * last day of use is before yesterday while the login came from another
 * country since the start of yesterday (the day's first message from
 * it), or it was so when the day's first message from it was let
 * through (store_revisit.c; the login's address list, which a rotating
 * IPv6 attacker fills within the hour, no longer tells). The owner at
 * the family's home who used only the local SIM for a day (the same
 * country) is no new stay: on the kept campus and uni6 sites that held
 * honest students' backlogs on the line. Nor is a day the owner's own
 * messages there were refused (an address of the network used before
 * today and seen since yesterday began). The revisit-volume rule
 * refuses the 9th message of the day from such a place
 * (revisit_messages, see there).
 *
 * Contract: pure functions of the context, like metrics.c.
 */
#include <stdio.h>
#include <string.h>

#include "metrics.h"

/* days_of - a country's days; of cc (the address's) before today only:
 * today's there may be a stranger's */
static uint32_t days_of(const struct metrics_ctx *c,
			const struct store_country *k, const char *cc)
{
    return k->days - (memcmp(k->cc, cc, 2) == 0
		      && k->last_day == c->now / STORE_DAY_S);
}

/* first_most - the login's first country (where its account was first
 * used) and the one it has the most days in (cc's today not counted; of
 * two with as many days, the one first used); both NULL with none */
static void first_most(const struct metrics_ctx *c, const char *cc,
		       const struct store_country **first,
		       const struct store_country **most)
{
    *first = *most = NULL;
    for (size_t i = 0; i < STORE_COUNTRIES; i++) {
	const struct store_country *k = &c->user->countries[i];

	if (k->cc[0] == 0 || k->days == 0)
	    continue;
	if (*first == NULL || k->first_day < (*first)->first_day)
	    *first = k;
	if (*most == NULL || days_of(c, k, cc) > days_of(c, *most, cc)
	    || (days_of(c, k, cc) == days_of(c, *most, cc)
		&& k->first_day < (*most)->first_day))
	    *most = k;
    }
}

/* metrics_abroad_home - is cc the login's first country (where its
 * account was first used) or the one it has the most days in (cc's today not
 * counted)? A login first used through a VPN exit abroad has its home
 * line's country the most days; a student who spent the first weeks at
 * the family's abroad has the university's country first (of two with
 * as many days, the one first used is the most). Neither is "abroad". */
bool metrics_abroad_home(const struct metrics_ctx *c, const char *cc)
{
    const struct store_country *first, *most;

    first_most(c, cc, &first, &most);
    return first == NULL || memcmp(first->cc, cc, 2) == 0
	|| memcmp(most->cc, cc, 2) == 0;
}

/* metrics_first_country - the login's first country (where its account
 * was first used), NULL with none yet */
const struct store_country *metrics_first_country(const struct metrics_ctx *c)
{
    const struct store_country *first, *most;

    first_most(c, c->f->geo.cc, &first, &most);
    return first;
}

/* seen_lately - did the login come from the network (key) yesterday or
 * earlier today from an address it had used before today (its own mail
 * refused then leaves no day of use on the network, but is no gap)? */
static bool seen_lately(const struct metrics_ctx *c, uint64_t key)
{
    uint32_t today = c->now - c->now % STORE_DAY_S;

    for (uint32_t i = 0; i < c->user->nips && i < STORE_IPS_MAX; i++) {
	const struct store_ip *a = &c->user->ips[i];

	if (a->first_seen < today && a->last_seen >= today - STORE_DAY_S
	    && store_net_key(&a->ip, a->asn) == key)
	    return true;
    }
    return false;
}

/* elsewhere - was the login in another country than cc since the start
 * of yesterday (an address of its list seen then, the client's aside,
 * located as a line: a roaming phone's carrier hub at home is no sign
 * the owner left, store_revisit.c)? */
static bool elsewhere(const struct metrics_ctx *c, const char *cc)
{
    uint32_t since = c->now - c->now % STORE_DAY_S - STORE_DAY_S;

    for (uint32_t i = 0; i < c->user->nips && i < STORE_IPS_MAX; i++) {
	const struct store_ip *a = &c->user->ips[i];
	char acc[3];

	if (a->last_seen < since || addr_equal(&a->ip, &c->f->client))
	    continue;
	store_ip_cc(a, acc);
	if (acc[0] != 0 && memcmp(acc, cc, 2) != 0
	    && metrics_fine_place(c, &a->ip, a))
	    return true;
    }
    return false;
}

/* elsewhere's answers, one a country, kept for one revisit_messages:
 * each is a walk of the address list, and the window's addresses are
 * mostly of one or two countries */
struct away_memo {
    size_t n;
    struct {
	char cc[2];
	bool away;
    } k[STORE_IPS_MAX + 1];	/* the list's countries and the client's */
};

/* away - elsewhere(c, cc), through the memo m (NULL: none) */
static bool away(const struct metrics_ctx *c, struct away_memo *m,
		 const char *cc)
{
    size_t i;

    if (m == NULL)
	return elsewhere(c, cc);
    for (i = 0; i < m->n && memcmp(m->k[i].cc, cc, 2) != 0; i++)
	;
    if (i < m->n)
	return m->k[i].away;
    if (i == sizeof(m->k) / sizeof(m->k[0]))
	return elsewhere(c, cc);
    memcpy(m->k[i].cc, cc, 2);
    m->n++;
    return m->k[i].away = elsewhere(c, cc);
}

/* taken_up_again - was the learned network n's use today begun after
 * a day or more without it, while the login was in another country
 * than cc (elsewhere)? */
static bool taken_up_again(const struct metrics_ctx *c,
			   const struct store_net *n, uint64_t key,
			   const char *cc, struct away_memo *m)
{
    uint32_t today = c->now / STORE_DAY_S;

    if ((uint32_t) n->last_day + 1 < today)	/* the day's first from it */
	return away(c, m, cc);
    return n->last_day == today && store_user_revisited(c->user, key, c->now);
}

/* stayed - was the network used on familiar_days days before today
 * (a place the login stayed at, not one of a day)? */
static bool stayed(const struct metrics_ctx *c, const struct store_net *n)
{
    uint32_t days = n->days - (n->last_day == c->now / STORE_DAY_S);

    return days >= c->cfg->policy.familiar_days;
}

/* one_country - is the network one of the country cc alone: used on no
 * more days than the country (a privacy VPN's or a hotel chain's exits
 * are one network in many countries, used on more days than any one of
 * them; the family's line is used on days its country is)? */
static bool one_country(const struct metrics_ctx *c, const struct store_net *n,
			const char *cc)
{
    const struct store_country *k = metrics_country(c, cc);

    return k != NULL && n->days <= k->days;
}

/* left - is cc the client's country, the login's first, which another
 * country it learned outvotes as the site's (rules_first_left)? */
static bool left(const struct metrics_ctx *c, const char *cc)
{
    return c->first_left && memcmp(cc, c->f->geo.cc, 2) == 0;
}

/* revisit_at - metrics_revisit of an address, self its entry in the
 * login's list (NULL: none, or the client), the tests that walk no
 * list first, the most selective of them first (callgrind on kept
 * sites: most clients are at a learned network in a home country);
 * m (may be NULL) keeps elsewhere's answers */
static bool revisit_at(const struct metrics_ctx *c, const struct addr *ip,
		       uint32_t asn, const struct store_ip *self,
		       struct away_memo *m)
{
    const struct store_net *n = metrics_learned_net(c, ip, asn);
    uint64_t key;
    char cc[3];

    if (n == NULL)
	return false;
    metrics_ip_cc(c, ip, self, cc);
    if (cc[0] == 0 || (metrics_abroad_home(c, cc) && !left(c, cc))
	|| !stayed(c, n)
	|| !metrics_fine_place(c, ip, self) || !one_country(c, n, cc)
	|| metrics_shared_client(c, ip))
	return false;
    key = store_net_key(ip, asn);
    return taken_up_again(c, n, key, cc, m) && !seen_lately(c, key);
}

/* metrics_revisit - is the address a place abroad of a learned network
 * that the login took up again today after a day or more without it
 * (see above)? */
bool metrics_revisit(const struct metrics_ctx *c, const struct addr *ip,
		     uint32_t asn)
{
    if (c->user == NULL)
	return false;
    return revisit_at(c, ip, asn, addr_equal(ip, &c->f->client) ? NULL
		      : metrics_user_ip(c, ip), NULL);
}

/* metrics_revisit_messages - messages in the window (MAIL FROMs, this
 * one included, refused ones too) from the login's addresses on places
 * abroad it took up again today (metrics_revisit), when the client is
 * one; 0 otherwise */
uint64_t metrics_revisit_messages(const struct metrics_ctx *c, uint32_t w,
				  char *ev, size_t evlen)
{
    const struct addr *client = &c->f->client;
    uint64_t n = 0;
    char d[16], net[ADDR_STRLEN + 16];
    struct away_memo m;

    m.n = 0;
    if (c->user == NULL || !revisit_at(c, client, c->f->geo.asn, NULL, &m))
	return 0;
    for (uint32_t i = 0; i < c->user->nips && i < STORE_IPS_MAX; i++) {
	const struct store_ip *ip = &c->user->ips[i];

	if (!metrics_in_window(ip->last_seen, c->now, w))
	    continue;
	/* the client's own entry was answered above (by the client's
	 * AS); the list holds an address once (store_user.c), so ip is
	 * its entry */
	if ((addr_equal(&ip->ip, client) && ip->asn == c->f->geo.asn)
	    || revisit_at(c, &ip->ip, ip->asn, ip, &m))
	    n += store_ip_recent(ip, c->now, w);
    }
    n = (n + STORE_IP_PARTS / 2) / STORE_IP_PARTS;	/* rounded once */
    if (ev != NULL) {
	rules_format_duration(w, d, sizeof(d));
	metrics_net_text(&c->f->client, c->f->geo.asn, c->f->geo.cc, net,
			 sizeof(net));
	snprintf(ev, evlen, "%llu message%s in %s from %s, a place abroad"
		 " the login took up again today after a day or more"
		 " without it", (unsigned long long) n, n == 1 ? "" : "s", d,
		 net);
    }
    return n;
}
