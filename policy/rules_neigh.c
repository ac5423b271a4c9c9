/*
 * rules_neigh - a fresh line in one of the site's networks: the client
 * a fine place (a home line) that no other login came from.
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
