/*
 * rules_vouch - a login's first message from an address another login
 * came from within a day vouches for nothing (the lead's campus seed 26
 * of the held-out set H5; tests/sim probe-oneip.mix).
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
 * first message from it) and another login had come from it first, a
 * minute before. An honest home line's address is one customer's: the
 * login's new address there has no other login before it. At a shared
 * exit (an office or campus NAT, a VPN exit, another university of the
 * research network) a login's first message there after others spares
 * its vouch; the others' vouches, and its own later messages, keep the
 * address known. Only such a first message reads the client's entry (a
 * store read); a failure of it leaves the vouch as before.
 */
#include <string.h>

#include "metrics.h"
#include "rules.h"

/* rules_vouch_spared - at MAIL, after the login's update (u): is this
 * the login's first message from the client address, and did another
 * login come from the address within a day? */
bool rules_vouch_spared(STORE *st, const struct rules_facts *f, uint32_t now,
			const struct store_user *u)
{
    const struct store_ip *self = NULL;
    struct store_client e;

    for (uint32_t i = 0; i < u->nips && i < STORE_IPS_MAX; i++)
	if (addr_equal(&u->ips[i].ip, &f->client))
	    self = &u->ips[i];
    if (self == NULL || self->count > 1)
	return false;
    /* the entry as it stood before this message: new to the login, so
     * every login it holds is another's */
    return store_client_get(st, &f->client, now, &e) == STORE_OK
	&& metrics_client_logins(&e, now, STORE_DAY_S) > 0;
}
