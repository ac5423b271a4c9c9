/*
 * metrics_abroad - a day's bound on a line abroad of the login's own
 * network (abroad_line_messages_over_usual).
 *
 * An international student's family line abroad is the country's
 * biggest ISP, one AS: once the login used it on familiar_days days (a
 * visit home) every line of that ISP is the login's own network, and no
 * rule that requires unfamiliar-network judges it. A stranger on another
 * line of the same ISP (tests/sim campus.mix and uni6.mix native-slow:
 * one address, a message every 3 minutes for 8 hours) sent 160 of 160
 * in 30 of the 60 such attacks of the tuning sets X and T (in 27 of
 * them from the login's own network). revisit-volume takes
 * only the day the login came back to the place after leaving it; in
 * most of those runs the owner is at the family's home during the
 * attack (its local SIM, or silent), and nothing the engine sees in an
 * hour tells the stranger from the owner's busy day there (EFFICACY.md
 * rounds 9, 10, 12 and 18 - native). This is a bound, not a detection,
 * as shared-exit-volume is: the day's messages from the client's /24
 * (/48), refused ones too (metrics_network_recent), past the login's
 * busiest day before today (metrics_prior_day: the usual day itself
 * rises with each let-through message).
 *
 * Which places: the client a fine place (a line, radius below
 * coarse_km), no other login came from it within a day (not a NAT or a
 * VPN exit), on a network the login learned as its own, in a country
 * that is not the login's first one (where its account was first used:
 * the home line a student comes back to is not judged). Round 18 also
 * spared the login's most-days country and any country with a home
 * place of the login; round 20 (session 26) dropped both: a visit home
 * makes the family's line a home place and, past a week, the family's
 * country the most-days one, so the stranger on the family ISP's other
 * line went through at 160 of 160 in 12 of the IPv4 attacks of X and T,
 * those whose owner had been there longest or most often (EFFICACY.md
 * round 20 - native).
 *
 * Round 21 (session 27): two more places. A line of a family stay
 * (c->family_stay: not the login's own network, spared every volume
 * rule as the family's line) counts as one of its own network: a
 * stranger in another student's family's /24, the day after its owner
 * landed on a local SIM, made the stay itself and sent 160 of 160
 * (tests/sim T uni6 104). And the first country is judged too once
 * another country the login learned is more the site's (c->first_left,
 * rules_site.c rules_first_left): an account begun at the family's
 * whose owner lives in Germany since (X campus 8).
 *
 * IPv6: a line's host takes a new privacy address per connection (and
 * a stranger may take one per message, uni6.mix native-slow6), so the
 * login's remembered addresses (state.ips_per_user, 16) cannot hold a
 * day there: on an IPv6 line the count is the login's messages of the
 * window from anywhere (its windows; refused ones are given back), the
 * /48's when that is more.
 *
 * Contract: a pure function of the context, like metrics.c.
 */
#include <stdio.h>
#include <string.h>

#include "metrics.h"

/* abroad_line - is the client a line abroad of the login's own network
 * or of its family stay (see above)? The words for the evidence, NULL
 * if not. */
static const char *abroad_line(const struct metrics_ctx *c)
{
    const struct rules_facts *f = c->f;
    const struct store_country *first;
    const char *what;

    if (c->user == NULL || c->cls != RULES_CLASS_AUTHENTICATED || c->relayed
	|| f->geo.cc[0] == 0 || !metrics_fine_place(c, &f->client, NULL))
	return NULL;
    if (metrics_own_network(c, &f->client, f->geo.asn))
	what = "of the login's own network";
    else if (c->family_stay)
	what = "of the login's family stay";
    else
	return NULL;
    if ((first = metrics_first_country(c)) == NULL
	|| (memcmp(first->cc, f->geo.cc, 2) == 0 && !c->first_left)
	|| metrics_shared_client(c, &f->client))
	return NULL;
    return what;
}

/* metrics_abroad_line_messages - see above */
uint64_t metrics_abroad_line_messages(const struct metrics_ctx *c,
				      uint32_t w, char *ev, size_t evlen)
{
    uint64_t n, usual;
    struct addr p;
    char a[ADDR_STRLEN], d[16];
    const char *what = abroad_line(c);

    if (what == NULL)
	return 0;
    n = metrics_network_recent(c, w, NULL);
    if (!addr_is_v4(&c->f->client) && c->win != NULL) {
	uint64_t all = store_win_sum(c->win, STORE_MSGS, c->now, w);

	n = all > n ? all : n;	/* privacy addresses: see above */
    }
    usual = metrics_prior_day(c);
    if (ev != NULL && evlen > 0) {
	addr_prefix(&c->f->client, &p);
	rules_format_duration(w, d, sizeof(d));
	snprintf(ev, evlen, "%llu message%s in %s from %s/%d, a line abroad"
		 " %s (%.2s), usual day <= %llu",
		 (unsigned long long) n, n == 1 ? "" : "s", d,
		 addr_format(&p, a, sizeof(a)), addr_is_v4(&p) ? ADDR_V4_PREFIX : ADDR_V6_PREFIX,
		 what, c->f->geo.cc, (unsigned long long) usual);
    }
    return n > usual ? n - usual : 0;
}
