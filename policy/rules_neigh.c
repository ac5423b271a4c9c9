/*
 * rules_neigh - a fresh address in one of the site's networks: no other
 * login came from it, and the client is a fine place (a home line).
 *
 * A /24 (/48) that site_logins logins came from, each from a place of its
 * own, on site_days days, is the site's network, familiar to every
 * login (metrics_site_known): an office's or a campus's NAT, a
 * neighbourhood where several of the site's people live. A residential
 * proxy or a neighbour's line in such a neighbourhood was then familiar
 * to any stolen login: no rule that requires unfamiliar-network judged
 * it (tests/sim probe-neighbour-fine.mix pn-sticky-normal seed 200, the
 * thief in a /24 four of the site's logins live in: 100 of 100 through;
 * pn-sticky-phone seed 205, five: 100 of 100). The site's people share
 * an office's or a campus's address; a line in a neighbourhood is one
 * customer's, and no other login came from it. Such an address is judged
 * by the login's own places alone (its own network, first_home).
 */
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
