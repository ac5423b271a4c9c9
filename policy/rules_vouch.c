/*
 * rules_vouch - a login's first message from an address at a fine place
 * vouches less (the lead's campus seed 26 of the held-out set H5;
 * tests/sim probe-oneip.mix, golden second_vouch.case, first_vouch.case).
 *
 * A login from a familiar place of its own vouches for the client
 * address (every login finds it familiar for a day) and, tenured, for
 * its /24 (/48) (rules.c own_place, site_note). An own network is known
 * by its AS, so a stolen international student's login whose family's
 * line abroad is of the attacker's ISP, in the very /24 where the
 * family's line has its anchors (new_line, F25, does not apply), finds
 * the attacker's address its own place. In campus seed 26 a bot at one
 * address drove ten stolen logins in turn, a message a minute: the
 * first was held (unfamiliar travel), the second was that student's,
 * accepted, and its vouch made the address familiar to the eight after
 * it, so shared-unfamiliar-ip and one-ip-many-users (which require
 * unfamiliar-network) never fired: 18 of 20 delivered.
 *
 * What separates it: the address was new to the vouching login (its
 * first message from it), at a fine place (radius below coarse_km).
 * Such a first message vouches for the address no longer
 * (rules_vouch_first): the native's login may as well be the bot's
 * first, with nothing before it, and its vouch alone made the nine after
 * it familiar. An honest login's vouch for an address matters to others
 * at a shared exit (an office or campus NAT), where it and the others
 * come again: their later messages keep the address known; a home line's
 * address is one customer's. A coarse place keeps the first message's
 * vouch: a VPN's exits (a country's radius) are given by turns, a login's
 * message often its first at that exit, and the next login there minutes
 * later relies on it (golden shared_exit_volume.case). Its vouch for the
 * /24 (/48) stays too (a site network needs site_logins logins on
 * site_days days anyway), except when another login came from the
 * address within a day before that first message
 * (rules_vouch_after_other: campus seed 26's order): then it vouches for
 * neither, as a new line does not (F25), since a tenured own network's
 * /24 could be made the site's by it. The login itself still finds the
 * place familiar. The client's entry is read as its update copies it
 * out (record_mail judges the /24 after that update: no read of its own);
 * a failure of the update leaves the /24's vouch as before.
 *
 * A vouch is written only for a message let through (rules_vouch_note,
 * at its end). Found at MAIL, before the verdict, it is noted in the
 * verdict (v->vouch); the message itself is judged by copies of the
 * client's and the /24's entries with its vouch in them
 * (store_client_vouch_copy), as when the vouch was written at MAIL: a
 * learning login's phone on a CGNAT address it vouches for is no hop
 * (metrics_hop.c; without the copy, T holdout seed 109 held one honest
 * message more). Written at MAIL, as before, a message then held, refused or
 * aborted had vouched all the same: a stolen login's proxy at a far
 * place of its owner's tenured network, held by network-hopping, made
 * the proxy's /24 a neighbour's line (metrics_neighbour_network) for
 * METRICS_SITE_WINDOW_S, and its address familiar to every login for a
 * day (golden held_vouch.case). Noting at MAIL and writing at the end
 * needs nothing given back: a refusal or an abort never reaches the
 * write, and parallel sessions each carry their own note.
 */
#include <string.h>

#include "metrics.h"
#include "rules.h"

/* rules_vouch_first - at MAIL, after the login's update (u): is this the
 * login's first message from the client address? */
bool rules_vouch_first(const struct cfg *cfg, const struct rules_facts *f,
		       const struct store_user *u)
{
    const struct store_ip *a;

    if (!f->geo.has_loc || f->geo.acc_km >= cfg->policy.coarse_km)
	return false;
    a = store_user_ip(u, &f->client);
    return a != NULL && a->count <= 1;
}

/* rules_vouch_after_other - at MAIL, the client's entry c as its update
 * left it: did another login come from the client address within a day
 * (more than one login: this one is one)? */
bool rules_vouch_after_other(const struct store_client *c, uint32_t now)
{
    return metrics_client_logins(c, now, STORE_DAY_S) > 1;
}

/* rules_vouch_note - at the end of a message let through: write what
 * it vouches for (v->vouch, found at MAIL); the first failure (the rest
 * is still tried) */
int rules_vouch_note(STORE *st, const struct rules_facts *f, uint32_t now,
		     const struct rules_verdict *v)
{
    struct store_client_obs co;
    int s = STORE_OK, t;

    if (v->vouch & RULES_VOUCH_ADDR) {
	memset(&co, 0, sizeof(co));
	co.ip = f->client;
	co.flags = STORE_OBS_VOUCH;
	s = store_client_update(st, &co, now, NULL);
    }
    if ((v->vouch & RULES_VOUCH_NET)
	&& (t = store_site_vouch(st, &f->client, f->login, now, NULL))
	!= STORE_OK && s == STORE_OK)
	s = t;
    if ((v->vouch & RULES_VOUCH_AS)
	&& (t = store_site_place(st, STORE_SITE_AS, f->geo.asn, f->login,
				 true, now, NULL)) != STORE_OK && s == STORE_OK)
	s = t;
    if ((v->vouch & RULES_VOUCH_CC)
	&& (t = store_site_place(st, STORE_SITE_CC, store_site_cc(f->geo.cc),
				 f->login, true, now, NULL)) != STORE_OK
	&& s == STORE_OK)
	s = t;
    return s;
}
