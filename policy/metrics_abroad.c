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
 * that is neither the login's first one nor its most-days one
 * (metrics_abroad_home, revisit-volume's test) and has no home place of
 * the login (metrics_home_country): a family's line or a hotel abroad,
 * never the home line the owner comes back to.
 *
 * Contract: a pure function of the context, like metrics.c.
 */
#include <stdio.h>

#include "metrics.h"

/* abroad_line - is the client a line abroad of the login's own network
 * (see above)? */
static bool abroad_line(const struct metrics_ctx *c)
{
    const struct rules_facts *f = c->f;

    if (c->user == NULL || c->cls != RULES_CLASS_AUTHENTICATED || c->relayed
	|| f->geo.cc[0] == 0 || !metrics_fine_place(c, &f->client, NULL))
	return false;
    return metrics_own_network(c, &f->client, f->geo.asn)
	&& !metrics_abroad_home(c, f->geo.cc)
	&& !metrics_home_country(c, f->geo.cc)
	&& !metrics_shared_client(c, &f->client);
}

/* metrics_abroad_line_messages - see above */
uint64_t metrics_abroad_line_messages(const struct metrics_ctx *c,
				      uint32_t w, char *ev, size_t evlen)
{
    uint64_t n, usual;
    struct addr p;
    char a[ADDR_STRLEN], d[16];

    if (!abroad_line(c))
	return 0;
    n = metrics_network_recent(c, w, NULL);
    usual = metrics_prior_day(c);
    if (ev != NULL && evlen > 0) {
	addr_prefix(&c->f->client, &p);
	rules_format_duration(w, d, sizeof(d));
	snprintf(ev, evlen, "%llu message%s in %s from %s/%d, a line abroad"
		 " of the login's own network (%.2s), usual day <= %llu",
		 (unsigned long long) n, n == 1 ? "" : "s", d,
		 addr_format(&p, a, sizeof(a)), addr_is_v4(&p) ? ADDR_V4_PREFIX : ADDR_V6_PREFIX,
		 c->f->geo.cc, (unsigned long long) usual);
    }
    return n > usual ? n - usual : 0;
}
