/*
 * metrics_shared - shared_messages_over_usual: a login's messages of the
 * window from the site's shared exits (the corporate VPN's exit
 * addresses, the office's NAT: addresses other logins come from too),
 * past the login's own busiest day (issue 16, tests/sim nearby.mix
 * vpn-slow).
 *
 * A shared exit is familiar to every login of the site (the site knows
 * it: metrics_site_known), so no rule that requires unfamiliar-network
 * applies there, and a login whose password is also the VPN's could send
 * from it without any limit but the site-wide 200 an hour: a message
 * every 3 minutes for 8 hours, 160 of 160 delivered on every seed. Its
 * first hour there is not what separates it: an honest VPN user's first
 * backlog at the VPN (15-40 messages over 1-3 hours in tests/sim, from
 * logins that had used the VPN once or never) is as fast. The day is:
 * on the 120 kept sites and nearby, the messages a login sent from a
 * shared exit on one day after its learning week exceeded its busiest
 * day before by at most 38 (an office backlog; 36 at the VPN), the
 * attacker by 122-153. The limit (etc/relayguard.conf) sits above that.
 *
 * What counts: the login's remembered addresses in the client's /24
 * (/48) seen within the window, by their per-day counts
 * (store_ip_recent: refused messages too, so an attacker stays over the
 * limit for the rest of the day without a block), when the client
 * address is a shared exit: more than site_logins logins came from it
 * within the site window (shared_exit). "Another login within a day"
 * was too short: on nearby seed 3 no other login happened to use the
 * attacker's exit that day, and from 24 hours after the last one the
 * attacker went through again (152 of 160). The VPN's users get its
 * exits of one /24 by turns; an owner's home line, its address used by
 * one customer at a time, does not count.
 * The scale is the login's busiest rolling day as it stood before today
 * (store_prior_day.c: the usual day itself rises with every message let
 * through from a familiar place, the attacker's too). Not while the
 * login learns: its day is not known yet.
 *
 * Contract: pure, like metrics.c.
 */
#include <stdio.h>
#include <string.h>

#include "metrics.h"

/* shared_exit - is the client address one of the site's shared exits:
 * more than policy.site_logins logins (this one included) came from it
 * within METRICS_SITE_WINDOW_S, as a site network needs site_logins
 * logins (without site networks, site_logins 0: another login within a
 * day, metrics_shared_client)? A VPN exit or an office NAT is; a home
 * line's address, which an ISP gives to one customer at a time, is not. */
static bool shared_exit(const struct metrics_ctx *c)
{
    uint32_t want = c->cfg->policy.site_logins;

    if (c->client == NULL || !addr_equal(&c->client->ip, &c->f->client))
	return false;
    if (want == 0)
	return metrics_shared_client(c, &c->f->client);
    return metrics_client_logins(c->client, c->now, METRICS_SITE_WINDOW_S)
	> want;
}

/* metrics_prior_day - the login's busiest day as it stood before today
 * (store_prior_day.c), else as learned or in busiest usual hours
 * (metrics_login_day) */
uint64_t metrics_prior_day(const struct metrics_ctx *c)
{
    uint16_t d = store_user_prior_day(c->user, c->now);

    return d != 0 ? d : metrics_login_day(c);
}

/* metrics_network_recent - the login's messages within w from its
 * remembered addresses in the client's /24 (/48), refused ones too
 * (store_ip_recent, rounded once); the addresses counted in *k (NULL:
 * not wanted) */
uint64_t metrics_network_recent(const struct metrics_ctx *c, uint32_t w,
				size_t *k)
{
    uint64_t n = 0;
    size_t m = 0;

    for (uint32_t i = 0; i < c->user->nips && i < STORE_IPS_MAX; i++) {
	const struct store_ip *ip = &c->user->ips[i];

	if (!metrics_in_window(ip->last_seen, c->now, w)
	    || !metrics_same_network(&ip->ip, &c->f->client))
	    continue;
	n += store_ip_recent(ip, c->now, w);
	m++;
    }
    if (k != NULL)
	*k = m;
    return (n + STORE_IP_PARTS / 2) / STORE_IP_PARTS;	/* rounded once */
}

/* metrics_shared_messages_over_usual - see above */
uint64_t metrics_shared_messages_over_usual(const struct metrics_ctx *c,
					    uint32_t w, char *ev, size_t evlen)
{
    uint64_t n, usual;
    char a[ADDR_STRLEN];
    struct addr p;
    size_t k;

    if (c->user == NULL || c->cls != RULES_CLASS_AUTHENTICATED || c->relayed
	|| metrics_learning_end(c->cfg, c->user) > c->now
	|| !shared_exit(c))
	return 0;
    n = metrics_network_recent(c, w, &k);
    usual = metrics_prior_day(c);
    if (ev != NULL && evlen > 0) {
	char d[16];

	addr_prefix(&c->f->client, &p);
	rules_format_duration(w, d, sizeof(d));
	snprintf(ev, evlen, "%llu message%s in %s from %zu shared address%s"
		 " of %s/%d (other logins' too), usual day <= %llu",
		 (unsigned long long) n, n == 1 ? "" : "s", d, k,
		 k == 1 ? "" : "es", addr_format(&p, a, sizeof(a)),
		 addr_is_v4(&p) ? ADDR_V4_PREFIX : ADDR_V6_PREFIX,
		 (unsigned long long) usual);
    }
    return n > usual ? n - usual : 0;
}

/* new_exit - is the client's network one the login had no mail let
 * through from before today (no learned entry from an earlier day)? */
static bool new_exit(const struct metrics_ctx *c)
{
    const struct store_net *n = metrics_client_net(c);

    return n == NULL || n->first_day >= c->now / STORE_DAY_S;
}

/* metrics_new_exit - see the head */
uint64_t metrics_new_exit(const struct metrics_ctx *c, uint32_t w, char *ev,
			  size_t evlen)
{
    char a[ADDR_STRLEN];

    (void) w;
    if (c->user == NULL || c->cls != RULES_CLASS_AUTHENTICATED || c->relayed
	|| metrics_learning_end(c->cfg, c->user) > c->now
	|| !shared_exit(c) || !new_exit(c))
	return 0;
    if (ev != NULL)
	snprintf(ev, evlen, "shared address %s (other logins' too) of a"
		 " network new to the login today",
		 addr_format(&c->f->client, a, sizeof(a)));
    return 1;
}
