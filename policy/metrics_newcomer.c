/*
 * metrics_newcomer - a login with no history, judged by what the site
 * knows.
 *
 * A login learns its places from its own mail: while it learns, every
 * place is familiar, and a learning login's stranger needs a country it
 * had mail from on an earlier day (metrics_learning_stranger). A login
 * stolen before its owner first used it has none: the thief's address
 * is its first place, familiar at once, and no rule of an unfamiliar
 * network ever looks (tests/sim wide seed 9: the victim joins on day 11,
 * the spam run on day 10 from one address of a Turkish hoster, 147 of
 * 147 delivered; probe F26). On its first day such a login's place is
 * judged by the site's knowledge instead: a place is the site's when its
 * AS number or its country is (store_site_place: policy.site_logins
 * logins on policy.site_days days vouched for it from familiar places of
 * their own, as for the site's networks), or it is a pinned or site
 * network, or an address more than site_logins logins came from within
 * a day (a VPN exit, an office NAT; not "vouched for": the newcomer
 * vouches for its own first place while it learns; not "another login":
 * a thief's second stolen login: metrics_newcomer_place). Elsewhere the login's messages are
 * counted against the rule's limit: the first hour of a newcomer is the
 * site's norm for one, not its own busiest hour, which the thief's mail
 * would make. Measured on the simulated sites: honest newcomers at places
 * the site does not know send at most 9 messages in an hour on their
 * first day (a traveller whose first message ever is from a trip, a
 * student at the family's line abroad); every spam run sends 11 within
 * 3 to 20 minutes.
 * Judged only on a site past its own first learning period (in the
 * site's first week every login is new, and so is every place).
 */
#include <stdio.h>
#include <string.h>

#include "metrics.h"

/* net_before_today - did the login have mail let through from a
 * network it learned on an earlier day? A login whose mail comes from
 * addresses GeoIP does not locate (a small office's LAN, not in
 * familiar_networks; an IPv6 range the country database lacks) learns
 * no country, only its networks (a /24, /48 without an AS number). */
static bool net_before_today(const struct metrics_ctx *c)
{
    uint32_t today = c->now / STORE_DAY_S;

    for (size_t i = 0; i < STORE_NETS; i++)
	if (c->user->nets[i].days != 0 && c->user->nets[i].first_day < today)
	    return true;
    return false;
}

/* refused_here - a newcomer refused at its first network, back there:
 * the login's mail let through before today all came from the client's
 * network, in the client's country, and the login was refused there on
 * that network's first day or since (store_stopday.c's note). A stolen
 * login cut at its first day's limit and blocked for the day had its
 * few messages of that day make it no newcomer when the block ran out,
 * and a learning login's place is its own: nothing judged the thief any
 * more (tests/sim retry.mix seed 109: 180 of 180 of a spam run went
 * through on the retrying thief's second day). */
static bool refused_here(const struct metrics_ctx *c)
{
    uint32_t today = c->now / STORE_DAY_S;
    uint64_t key = store_net_key(&c->f->client, c->f->geo.asn);
    bool here = false;

    for (size_t i = 0; i < STORE_NETS; i++) {
	const struct store_net *n = &c->user->nets[i];

	if (n->days == 0 || n->first_day >= today)
	    continue;
	if (n->key != key
	    || !store_user_stopped_since(c->user, key, n->first_day))
	    return false;
	here = true;
    }
    for (size_t i = 0; here && i < STORE_COUNTRIES; i++) {
	const struct store_country *k = &c->user->countries[i];

	if (k->cc[0] != 0 && k->first_day < today
	    && memcmp(k->cc, c->f->geo.cc, 2) != 0)
	    return false;
    }
    return here;
}

enum newcomer { NOT_NEW, FIRST_DAY, REFUSED_HERE };

/* newcomer - which kind of newcomer the login is, if one */
static enum newcomer newcomer(const struct metrics_ctx *c)
{
    if (c->user == NULL || !metrics_site_learned(c))
	return NOT_NEW;
    if (!metrics_located_before_today(c) && !net_before_today(c))
	return FIRST_DAY;
    return refused_here(c) ? REFUSED_HERE : NOT_NEW;
}

/* metrics_newcomer - is the login on its first day (no mail let through
 * on an earlier day: from a located place, or a network it learned), or
 * refused at its first network and back there (refused_here), on a site
 * past its first learning period? */
bool metrics_newcomer(const struct metrics_ctx *c)
{
    return newcomer(c) != NOT_NEW;
}

/* shared_by_many - did more than site_logins logins (this one
 * included; without site networks, another one) come from the client
 * address within a day (a VPN exit, an office NAT new to the site)? One
 * other login was enough before: a thief's second stolen login lifted
 * the newcomer rules (probe-red3 new-pair, 210-240 of 240). */
static bool shared_by_many(const struct metrics_ctx *c)
{
    uint32_t want = c->cfg->policy.site_logins;

    if (want == 0 || c->client == NULL
	|| !addr_equal(&c->client->ip, &c->f->client))
	return metrics_shared_client(c, &c->f->client);
    return metrics_client_logins(c->client, c->now, STORE_DAY_S) > want;
}

/* metrics_newcomer_place - is the client a place the newcomer rules
 * (newcomer_messages, newcomer_recipients) judge at: neither a pinned
 * network nor an address shared by many (shared_by_many)? */
bool metrics_newcomer_place(const struct metrics_ctx *c)
{
    return !addr_cidr_list_match(&c->cfg->policy.familiar_networks,
				 &c->f->client)
	&& !shared_by_many(c);
}

/* metrics_newcomer_messages - a newcomer's messages in the window (this
 * one included) while its client is at a place the site does not know;
 * 0 otherwise */
uint64_t metrics_newcomer_messages(const struct metrics_ctx *c, uint32_t w,
				   char *ev, size_t evlen)
{
    char net[64], d[16];
    uint64_t n;
    unsigned before;
    enum newcomer kind = newcomer(c);

    if (kind == NOT_NEW || c->site_place || c->site || c->win == NULL
	|| !metrics_newcomer_place(c))
	return 0;
    n = store_win_sum(c->win, STORE_MSGS, c->now, w);
    /* back at the network it was refused at: its busiest day there, the
     * mail let through before the refusal, counts as the same first day */
    before = kind == REFUSED_HERE ? c->user->usual_day : 0;
    if (ev != NULL) {
	metrics_net_text(&c->f->client, c->f->geo.asn, c->f->geo.cc, net,
			 sizeof(net));
	rules_format_duration(w, d, sizeof(d));
	if (before != 0)
	    snprintf(ev, evlen, "%llu message%s in %s and %u on an earlier"
		     " day, where the login was refused, from %s: neither"
		     " network nor country one of the site's",
		     (unsigned long long) n, n == 1 ? "" : "s", d, before, net);
	else
	    snprintf(ev, evlen, "%llu message%s in %s on the login's first"
		     " day, from %s: neither network nor country one of the"
		     " site's", (unsigned long long) n, n == 1 ? "" : "s", d,
		     net);
    }
    return n + before;
}
