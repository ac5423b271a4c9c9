/*
 * metrics_settled - a traveller settled abroad: a busy hour there is
 * judged against the login's usual day.
 *
 * unusual-volume refuses an hour past the login's busiest usual hour
 * from an unfamiliar network, and blocks the login for a day. A person
 * staying abroad (a hotel and a local SIM, the family's line and a local
 * SIM) sends all of its day from unfamiliar networks, and a busy day
 * there (a backlog of 15-40 messages over a few hours) went past the
 * usual hour by one or two: the rest of the day was refused (tests/sim:
 * international students at the family's home, on the second to fourth
 * day of the stay; EFFICACY.md round 9 - judge, shape A). On a trip's
 * first hours nothing separates that person from an attacker rotating
 * over one foreign country's networks at the owner's pace while the
 * victim is silent (stealth.mix trip-slow, seeds 1 and 5: judging every
 * trip's hour against the usual day let 13 and 23 of their messages
 * through instead of 5 and 6). What an attacker does not have is the
 * past of a stay:
 * - the place: the day's unfamiliar addresses all in one country, of
 *   two networks or more with the login's own networks there seen in the
 *   day (the local SIM let through on two days is familiar: the family's
 *   line is then the one unfamiliar network, metrics_away.c). The
 *   country is not one of the login's usual ones, or usual only by the
 *   stay (three days there make it usual, METRICS_USUAL_MIN_DAYS): first
 *   seen after the login's first day, with no home place of the login in
 *   it (metrics_home_country) while it has one elsewhere. One network
 *   abroad alone is never a stay;
 * - the login's first address there was seen on an earlier day (UTC) and
 *   METRICS_SETTLED_AFTER_S ago or more;
 * - since then nothing came from a familiar place in another of the
 *   login's usual countries, fine or coarse (the home line, the office,
 *   the phone: its home-routed roaming is a trip of another shape,
 *   metrics_roam.c), nor from its home place;
 * - the unfamiliar messages of the day before, refused ones included,
 *   were all in that country and within the login's busiest day: an
 *   attacker refused yesterday keeps sending (every trip-slow run of
 *   tests/sim sends 40-200 a day), a person does not.
 * Only the hour's measure moves; unfamiliar-volume still counts the
 * day's unfamiliar messages against its limit and the trip's allowance.
 * Off unless policy.trip_settled.
 *
 * A stay's first hours have one more mark when the stay is at the
 * family's home of an international student: a line of the stay in a
 * /24 (/48) where another of the site's people has a line of its own
 * (rules_site.c rules_family_stay: one of the site's families lives
 * there). A student's first evening there is often a backlog (15-30
 * messages over 1-3 hours, tests/sim campus and uni6: the rest of the
 * day was refused in 9 seeds of 20). The stranger on the family ISP's
 * lines (tests/sim native-slow) has one address, no second network of
 * its own; but when the owner is there too, the owner's local SIM is the
 * stay's second network and the stranger's address can be taken for the
 * family's line (tests/sim uni6 seed 104 of the set T: 160 of 160
 * through on the stay; EFFICACY.md round 18 - native). The
 * stranger rotating over a foreign country's networks (stealth.mix
 * trip-slow) is on lines none of the site's people use. On such a stay
 * (metrics_family_stay, policy.family_stay), nothing from the home
 * country since it began, unusual-volume, unusual-recipients and
 * unfamiliar-volume leave the stay's places alone: the line's /24, a
 * line another login vouched for, a coarse place of the country (the
 * local SIM).
 */
#include <stdio.h>
#include <string.h>

#include "metrics.h"

#define METRICS_SETTLED_AFTER_S (12 * 3600u)	/* a night there at least */

/* by_stay - is a usual country one only by a stay there: no home place
 * of the login in it (no fine anchor on a network that may vouch,
 * metrics_home_country), first seen after the login's first day, while
 * the login has a home place in another of its countries? Three days at
 * the family's home abroad make its country usual, in the learning week
 * too; a login with no home place anywhere (a phone only) has no stay. */
static bool by_stay(const struct metrics_ctx *c, const char cc[3])
{
    uint32_t first = c->user->first_seen / STORE_DAY_S;
    bool later = false, home = false;

    if (metrics_home_country(c, cc))
	return false;
    for (size_t i = 0; i < STORE_COUNTRIES; i++) {
	const struct store_country *k = &c->user->countries[i];

	if (k->cc[0] == 0)
	    continue;
	if (memcmp(k->cc, cc, 2) == 0)
	    later = k->first_day > first;
	else if (!home && metrics_home_country(c, k->cc))
	    home = true;
    }
    return later && home;
}

/* add_key - a network key added to a set of n, once */
static size_t add_key(uint64_t *set, size_t n, uint64_t key)
{
    size_t i;

    for (i = 0; i < n && set[i] != key; i++)
	;
    if (i == n)
	set[n++] = key;
    return n;
}

/* stay_nets - are the day's unfamiliar addresses all in one country cc
 * that is not one of the login's usual countries, or one only by the
 * stay (by_stay)? Their networks and the login's own networks with an
 * address seen there within the day (a local SIM let through on two
 * days is familiar): how many; 0 if not so. Two or more is a stay: one
 * network abroad alone is never one. */
static size_t stay_nets(const struct metrics_ctx *c, char cc[3])
{
    uint64_t set[2 * STORE_IPS_MAX];
    size_t n = 0, i = 0;
    const struct store_ip *ip;
    char k[3];

    cc[0] = 0;
    while ((ip = metrics_unfamiliar_ip(c, STORE_DAY_S, &i)) != NULL) {
	store_ip_cc(ip, k);
	if (k[0] == 0 || (cc[0] != 0 && memcmp(k, cc, 2) != 0))
	    return 0;
	memcpy(cc, k, 3);
	n = add_key(set, n, store_net_key(&ip->ip, ip->asn));
    }
    if (cc[0] == 0 || (metrics_usual_country(c, cc) && !by_stay(c, cc)))
	return 0;
    return metrics_own_nets_in(c, STORE_DAY_S, cc, set, n);
}

/* stay_start - the first sighting of the login's remembered addresses in
 * the country cc (0: none) */
static uint32_t stay_start(const struct metrics_ctx *c, const char cc[3])
{
    uint32_t start = 0;

    for (uint32_t i = 0; i < c->user->nips && i < STORE_IPS_MAX; i++) {
	const struct store_ip *ip = &c->user->ips[i];
	char k[3];

	store_ip_cc(ip, k);
	if (memcmp(k, cc, 2) == 0 && (start == 0 || ip->first_seen < start))
	    start = ip->first_seen;
    }
    return start;
}

/* metrics_home_since - has the login sent from a familiar place in one
 * of its usual countries other than the stay's (cc), or from its home
 * place, since start? */
bool metrics_home_since(const struct metrics_ctx *c, uint32_t start,
			const char cc[3])
{
    if (c->user->home_seen >= start)
	return true;
    for (uint32_t i = 0; i < c->user->nips && i < STORE_IPS_MAX; i++) {
	const struct store_ip *ip = &c->user->ips[i];
	char k[3];

	store_ip_cc(ip, k);
	if (ip->last_seen >= start && k[0] != 0 && memcmp(k, cc, 2) != 0
	    && metrics_usual_country(c, k)
	    && metrics_familiar(c, &ip->ip, ip->asn))
	    return true;
    }
    return false;
}

/* yesterday_within_day - were the login's unfamiliar messages of the
 * day before today all in the stay's country cc, and no more than its
 * busiest day? An address of the last two days with no message the day
 * before (the day before yesterday's: a student's family home abroad,
 * then a trip to a third country) says nothing about yesterday */
static bool yesterday_within_day(const struct metrics_ctx *c,
				 uint32_t today, const char cc[3])
{
    uint64_t before = 0;
    size_t i = 0;
    const struct store_ip *ip;

    while ((ip = metrics_unfamiliar_ip(c, 2 * STORE_DAY_S, &i)) != NULL) {
	uint64_t n = metrics_ip_day_count(ip, today - 1);
	char k[3];

	if (n == 0)
	    continue;		/* none yesterday: the day before's place */
	store_ip_cc(ip, k);
	if (memcmp(k, cc, 2) != 0)
	    return false;	/* elsewhere too: a stranger at home */
	before += n;
    }
    return before <= metrics_login_day(c);
}

/* settled - is the login on a trip abroad since an earlier day, the
 * owner silent at home since it began (see above)? Read only with
 * policy.trip_settled (metrics_settled_usual) */
static bool settled(const struct metrics_ctx *c)
{
    uint32_t today = c->now / STORE_DAY_S, start;
    char cc[3] = "";

    if (c->user == NULL || today == 0 || stay_nets(c, cc) < 2)
	return false;
    start = stay_start(c, cc);
    if (start == 0 || start > c->now
	|| c->now - start < METRICS_SETTLED_AFTER_S
	|| start / STORE_DAY_S >= today)
	return false;
    return !metrics_home_since(c, start, cc) && yesterday_within_day(c, today, cc);
}

/* metrics_settled - settled(), for a block set on the stay's earlier
 * day (rules_spare.c settled_day); false unless policy.trip_settled */
bool metrics_settled(const struct metrics_ctx *c)
{
    return c->cfg->policy.trip_settled && settled(c);
}

/* metrics_stay_yesterday - were the login's unfamiliar messages of
 * yesterday all in cc, and within its busiest day (yesterday_within_day,
 * refused ones included)? For a block an earlier day of a stay there
 * set (rules_spare.c settled_day): a block a stranger elsewhere set, or
 * one sending on past the busiest day, is not the stay's. */
bool metrics_stay_yesterday(const struct metrics_ctx *c, const char cc[3])
{
    uint32_t today = c->now / STORE_DAY_S;

    return c->user != NULL && today != 0 && cc[0] != 0
	&& yesterday_within_day(c, today, cc);
}

/* metrics_settled_usual - the usual hour messages_over_usual judges by:
 * usual, or the login's usual day (metrics_usual_day) when larger and the
 * login is settled abroad; then ", a stay abroad since an earlier day:
 * usual day <= N" is appended to ev */
uint64_t metrics_settled_usual(const struct metrics_ctx *c, uint64_t usual,
			       char *ev, size_t evlen)
{
    uint64_t day;
    size_t used;

    if (!c->cfg->policy.trip_settled
	|| (day = metrics_usual_day(c)) <= usual || !settled(c))
	return usual;
    if (ev != NULL && evlen > 0 && (used = strlen(ev)) < evlen)
	snprintf(ev + used, evlen - used, ", a stay abroad since an earlier"
		 " day: usual day <= %llu", (unsigned long long) day);
    return day;
}

/* family_client - is the client one of a family stay's in cc: in the
 * family's line's /24 (/48), on a line another login vouched for
 * (c->neighbour), or a coarse place there (a local SIM)? A stranger on
 * another line of the country (a hosting network, another ISP) is not. */
static bool family_client(const struct metrics_ctx *c, const char cc[3])
{
    const struct rules_facts *f = c->f;

    if (metrics_same_network(&f->client, &c->family_line) || c->neighbour)
	return true;
    return f->geo.cc[0] != 0 && memcmp(f->geo.cc, cc, 2) == 0
	&& f->geo.has_loc && f->geo.acc_km >= c->cfg->policy.coarse_km;
}

/* metrics_family_stay - is the login on a stay at its family's home
 * abroad (see metrics.h): a stay (stay_nets: two networks or more in a
 * country not usual, or usual only by the stay) in the country of the
 * family's line (c->family, rules_site.c rules_family_stay), nothing
 * from a familiar place in another usual country nor from the home place
 * since the stay began, and the client one of the stay's
 * (family_client)? */
bool metrics_family_stay(const struct metrics_ctx *c)
{
    uint32_t start;
    char cc[3] = "", fam[3] = "";
    const struct store_ip *line;

    if (!c->cfg->policy.family_stay || !c->family || c->user == NULL
	|| (line = metrics_user_ip(c, &c->family_line)) == NULL)
	return false;
    store_ip_cc(line, fam);
    if (stay_nets(c, cc) < 2 || memcmp(cc, fam, 2) != 0
	|| !family_client(c, cc))
	return false;
    start = stay_start(c, cc);
    return start != 0 && start <= c->now && !metrics_home_since(c, start, cc);
}

#define METRICS_LINE_SHARE 4	/* a SIM message in this many the line's */

/* one_line - the window's unfamiliar addresses when they are one fine
 * subscriber's line (one IPv4 address, one IPv6 /64): its first address
 * seen (*line) and their messages (*sent, in parts); false otherwise */
static bool one_line(const struct metrics_ctx *c, uint32_t w,
		     const struct store_ip **line, uint64_t *sent)
{
    size_t i = 0;
    const struct store_ip *ip;

    *line = NULL, *sent = 0;
    while ((ip = metrics_unfamiliar_ip(c, w, &i)) != NULL) {
	if (store_ip_radius(ip) >= c->cfg->policy.coarse_km)
	    return false;	/* a carrier: no line */
	if (*line != NULL && !addr_same_unit(&ip->ip, &(*line)->ip))
	    return false;	/* a second line of the ISP: a stranger's */
	if (*line == NULL || ip->first_seen < (*line)->first_seen)
	    *line = ip;
	*sent += store_ip_recent(ip, c->now, w);
    }
    return *line != NULL;
}

/* stay_before - is the line (one_line; its country into cc) in a
 * country where the login was on an earlier day, neither its first one
 * (where the account began: a home) nor one with a home place of it,
 * with nothing from a familiar place in another usual country nor from
 * its home place since the line's first message (metrics_home_since),
 * and the day before's unfamiliar messages within its busiest day
 * (yesterday_within_day)? stay_nets' "usual only by the stay" is not
 * asked: it wants the login's home place elsewhere among its remembered
 * addresses, and a local SIM's new address each connection turns them
 * over within a backlog (tests/sim T campus 104: the German home line's
 * anchor gone at the family line's tenth message). */
static bool stay_before(const struct metrics_ctx *c,
			const struct store_ip *line, char cc[3])
{
    uint32_t today = c->now / STORE_DAY_S;
    const struct store_country *k, *first = metrics_first_country(c);

    store_ip_cc(line, cc);
    if (today == 0 || cc[0] == 0 || metrics_home_country(c, cc)
	|| (k = metrics_country(c, cc)) == NULL || k->first_day >= today
	|| first == NULL || memcmp(first->cc, cc, 2) == 0)
	return false;
    return !metrics_home_since(c, line->first_seen, cc)
	&& yesterday_within_day(c, today, cc);
}

/* metrics_settled_line - unfamiliar-volume's allowance for a line beside
 * the login's own SIM on a stay abroad since an earlier day
 * (stay_before): the window's unfamiliar addresses are one line
 * (one_line) in the stay's country, and since its first message the
 * login also sent from a familiar coarse place there (the local SIM), at
 * least one message for every METRICS_LINE_SHARE of the line's. Off
 * unless policy.trip_settled.
 *
 * An international student at the family's home mails from the local
 * SIM for a day or two (familiar after two days, and three make the
 * country usual: no trip allowance then, metrics_trip.c), then from the
 * family's line, often a backlog with the SIM in turn: the line was one
 * unfamiliar address and refused past 8 for the rest of the day
 * (tests/sim T campus 104, 109, uni6 108, X campus 4: 3-14 messages each;
 * EFFICACY.md round 22 - fam). A stranger on a line of the family's ISP
 * has no SIM of its own: it gains only while the owner mails from the
 * SIM at a quarter of its pace since it began, and a second line of the
 * ISP beside the owner's (two lines in the window) gets nothing. */
bool metrics_settled_line(const struct metrics_ctx *c, uint32_t w)
{
    uint32_t k = c->cfg->policy.coarse_km;
    const struct store_ip *line;
    uint64_t sent, sim = 0;
    char cc[3];

    if (!c->cfg->policy.trip_settled || k == 0 || c->user == NULL
	|| !one_line(c, w, &line, &sent) || !stay_before(c, line, cc))
	return false;
    for (uint32_t i = 0; i < c->user->nips && i < STORE_IPS_MAX; i++) {
	const struct store_ip *ip = &c->user->ips[i];
	char sc[3];

	store_ip_cc(ip, sc);
	if (ip->last_seen < line->first_seen || store_ip_radius(ip) < k
	    || memcmp(sc, cc, 2) != 0
	    || !metrics_in_window(ip->last_seen, c->now, w)
	    || !metrics_familiar(c, &ip->ip, ip->asn))
	    continue;
	sim += ip->first_seen >= line->first_seen ? ip->count : 1;
    }
    sent = (sent + STORE_IP_PARTS / 2) / STORE_IP_PARTS;	/* rounded once */
    return sim != 0 && sim * METRICS_LINE_SHARE >= sent;
}

/* metrics_settled_line_text - the allowance's evidence */
void metrics_settled_line_text(char *ev, size_t evlen, uint64_t usual)
{
    snprintf(ev, evlen, ", a line beside the login's own SIM on a stay "
	     "abroad since an earlier day: usual day <= %llu",
	     (unsigned long long) usual);
}
