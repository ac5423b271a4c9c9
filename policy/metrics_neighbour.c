/*
 * metrics_neighbour - a login's first home line, in a neighbourhood of
 * the site's people (policy.first_home, probe F30).
 *
 * A login whose learning week went through the phone and the webmail
 * alone (or whose owner was away) has no home place: its owner's home
 * line is new to it on the first busy day at home, and unusual-volume
 * refused it past the usual hour + 1 and blocked it for the day (tests/sim
 * holdout seeds 3, 12, 15, 20, wide 7 and 8: 20-50 messages in 1-4 hours
 * at home, 177 of 276 honest stops of holdout seeds 1-20). Its twins, a
 * stranger on a German home line at the owner's pace (stealth.mix mimic,
 * harsh.mix own-isp and residential low-and-slow, residential proxies),
 * sit on the same ISPs' AS numbers in /24s none of the site's people
 * live in. The owner's line is in a /24 (/48) where another login of the
 * site lives: a familiar place of its own, known since learning or for a
 * learning period, vouched for it (rules.c site_note) within
 * METRICS_SITE_WINDOW_S. One such neighbour is far short of a
 * site network (site_logins of them), so it counts only for a login
 * that has no home place in the line's country (a carrier's pool or a
 * hotel abroad is none there): a fine place in one of its usual
 * countries, the one of its first located mail, not an address another
 * login came from within a day, and not when the login came from another
 * fine place in another /24 (/48) within the hour (hopped), nor once the
 * day's messages from the /24 are past a backlog day
 * (metrics_line_past_day).
 * Learned on familiar_days days, the line is the login's own as any.
 * A traveller whose learning week was the trip comes home to a line with
 * no neighbour either: its first line in the site's country after it
 * left every foreign place stands in for the neighbour's vouch
 * (metrics_back_home; the site's country is rules_site.c's to say).
 */
#include <string.h>

#include "geo.h"
#include "metrics.h"

#define FIRST_HOME_HOP_S 3600	/* hopped: another line within this */
#define FIRST_HOME_DAY_MSGS 50	/* past_day: messages over the usual day */
#define FIRST_HOME_TWIN_S 86400	/* twin_line: the other family's line within */
#define FIRST_HOME_BACK_DAYS 3	/* metrics_back_home: the stay ended within */
#define FIRST_HOME_GAP_DAYS 2	/* ... and a day without it between */

/* metrics_neighbour_network - has another login vouched for the network
 * of the entry s (store_site_get) within METRICS_SITE_WINDOW_S? One day
 * is enough: a vouch needs the voucher's own tenured anchor in that /24
 * (rules.c own_place, F25), a line of its own there, or a far place of
 * a tenured own network (another site of a campus's network: a visit,
 * so a residential proxy on a victim's ISP can vouch), and a message
 * let through: a held or refused one vouches for nothing (rules_vouch.c,
 * golden held_vouch.case). The
 * caller's own vouches count too: a login that vouched there has an
 * anchor of its own there, a home place (home_in_country) while it
 * remembers the address. */
bool metrics_neighbour_network(const struct cfg *cfg,
			       const struct store_client *s, uint32_t now)
{
    if (!cfg->policy.first_home || cfg->policy.site_logins == 0)
	return false;
    return metrics_client_logins(s, now, METRICS_SITE_WINDOW_S) != 0;
}

/* home_in_country - does the login have a home place in the client's
 * country (an anchor it remembers, a fine place on a network that may
 * vouch for it: metrics_home_country's test)? A hotel abroad is none
 * here: a traveller whose learning week was a trip had the hotel for a
 * home place, and its owner's first home line back in Germany was
 * refused as a stranger's (tests/sim holdout seed 110 of the set T;
 * uni6 seed 6, stealth seed 9 of X; EFFICACY.md round 15 - shuffle). A
 * carrier's pool is none, however finely GeoIP locates it
 * (metrics_pool_network): a phone-only login whose carrier's CGNAT hub
 * was located to 50 km had a "home place" in every address of its
 * phone, and its owner's first home line was refused as a stranger's
 * (tests/sim shuffle seeds 102 and 110 of the set T: 35 and 19 messages
 * at home over the usual hour, the rest of the day blocked). The login
 * is judged as one whose carrier is located coarsely. */
static bool home_in_country(const struct metrics_ctx *c)
{
    for (uint32_t i = 0; i < c->user->nips && i < STORE_IPS_MAX; i++) {
	const struct store_ip *a = &c->user->ips[i];
	char cc[3];

	store_ip_cc(a, cc);
	if (memcmp(cc, c->f->geo.cc, 2) == 0
	    && store_ip_anchor(a) && metrics_ip_fine(c, a)
	    && !metrics_pool_network(c, a)
	    && metrics_site_voucher(c, &a->ip, a->asn))
	    return true;
    }
    return false;
}

/* first_country - is cc the country of the login's first located mail?
 * A line in another usual country (an international student's family's
 * abroad) is not a first home: the native country's broadband /24s the
 * site's students' families vouch for are where a stranger posing as the
 * family sits (tests/sim campus, uni6 native-slow). */
static bool first_country(const struct metrics_ctx *c, const char *cc)
{
    const struct store_country *first = metrics_first_country(c);

    return first != NULL && memcmp(first->cc, cc, 2) == 0;
}

/* metrics_line_near - is a on the client's AS number (not 0), located
 * within r km of the client? */
bool metrics_line_near(const struct metrics_ctx *c, const struct store_ip *a,
		       uint32_t r)
{
    const struct store_geo *g = &c->f->geo;

    return a->asn != 0 && a->asn == g->asn
	&& geo_distance_km(a->lat_c / 100.0, a->lon_c / 100.0,
			   g->lat_c / 100.0, g->lon_c / 100.0) <= r;
}

/* other_family - is a (a fine place of radius r) the client's line in
 * the other address family: a dual-stack home's /24 and /48, on one AS
 * number, located within r of each other? */
static bool other_family(const struct metrics_ctx *c, const struct store_ip *a,
			 uint32_t r, const struct addr *ip)
{
    return addr_is_v4(&a->ip) != addr_is_v4(ip) && metrics_line_near(c, a, r);
}

/* fine_line - a fine located address of the login seen within s, not
 * its phone's pool (metrics_pool_network): with twin, an anchor that is
 * the client's line of the other family (other_family); without, a line
 * in another /24 (/48) than the client's and not its other family */
static bool fine_line(const struct metrics_ctx *c, const struct addr *ip,
		      uint32_t s, bool twin)
{
    uint32_t k = c->cfg->policy.coarse_km;

    for (uint32_t i = 0; i < c->user->nips && i < STORE_IPS_MAX; i++) {
	const struct store_ip *a = &c->user->ips[i];
	uint32_t r = store_ip_radius(a);
	bool line;

	if (r == 0 || r >= k || a->lat_c == STORE_NO_LOC
	    || !(a->last_seen + s > c->now))
	    continue;
	line = twin ? store_ip_anchor(a) && other_family(c, a, r, ip)
	    : !metrics_same_network(&a->ip, ip) && !other_family(c, a, r, ip);
	if (line && !metrics_pool_network(c, a))
	    return true;
    }
    return false;
}

/* hopped - has the login come from another fine place, in another /24
 * (/48), within FIRST_HOME_HOP_S? An owner's home line does not move to
 * another network within the hour; a residential proxy's sticky session
 * does, from one line in a neighbourhood of the site's people to the next
 * (tests/sim probe-neighbour.mix pn-stint-phone). The place seen last may
 * be a first home line itself: without this each was one in turn. The
 * line's own address of the other family (its AS, its place) is no hop:
 * a dual-stack home sends over both in turn (Happy Eyeballs). Nor is the
 * login's phone, a carrier's pool located finer than coarse_km
 * (metrics_pool_network): an owner mails from the phone and the home
 * line within the hour, a coarse pool was never a fine place here. */
static bool hopped(const struct metrics_ctx *c, const struct addr *ip)
{
    return fine_line(c, ip, FIRST_HOME_HOP_S, false);
}

/* twin_line - is the client the other family's address of a line the
 * login had mail let through from while familiar (an anchor: a first
 * home in a neighbour's /24) within FIRST_HOME_TWIN_S: a dual-stack
 * home's /48 beside its /24, on one AS number, located within the
 * line's radius (other_family), not the login's phone's pool? A
 * neighbour vouches for the network of the family he mails over: the
 * owner's IPv4 line passed as a first home, its IPv6 /48 (no neighbour
 * mails over IPv6 there) was a second home, counted since first seen
 * and refused past 8 a day (tests/sim shuffle seed 108 of the set T,
 * u052: 39 messages at home on days 9 and 11). The line's own other
 * half vouches for it as the neighbour would; every other condition of
 * a first home holds for it still (hopped, the day's bound). An IPv6
 * client only: a /48 let through as such a twin is an anchor, and as
 * the twin of an IPv4 client it made every /24 of the ISP GeoIP places
 * in the owner's town a first home an hour after the owner's last IPv4
 * message (golden first_home_twin_v4.case). */
static bool twin_line(const struct metrics_ctx *c, const struct addr *ip)
{
    return !addr_is_v4(ip) && fine_line(c, ip, FIRST_HOME_TWIN_S, true);
}

/* line_yesterday - the login's messages of yesterday (UTC) from its
 * remembered addresses in the client's /24 (/48), refused ones too */
static uint64_t line_yesterday(const struct metrics_ctx *c)
{
    uint32_t d = c->now / STORE_DAY_S;
    uint64_t n = 0;

    for (uint32_t i = 0; d != 0 && i < c->user->nips && i < STORE_IPS_MAX;
	 i++) {
	const struct store_ip *a = &c->user->ips[i];

	if (metrics_same_network(&a->ip, &c->f->client))
	    n += metrics_ip_day_count(a, d - 1);
    }
    return n;
}

/* metrics_line_past_day - has the login sent more from the client's /24
 * (/48) within the rolling day (refused messages too, this one
 * included) than its busiest day before today, less what it sent from there yesterday, plus
 * FIRST_HOME_DAY_MSGS? A first home spares an owner's backlog day at
 * home, not a line's whole day: a thief who keeps to one line in a
 * neighbour's /24 (tests/sim probe-neighbour.mix pn-sticky-phone, a
 * message every 3 minutes for 5 hours) sent all 100 of its messages as
 * the owner. Nothing seen at the line's first messages tells the two
 * apart (EFFICACY.md round 12 - home); the day bounds it. The honest
 * first home days of the 120 kept sites came to at most 26 past the
 * busiest day (tests/sim wide seed 8: 39 on the line, a busiest rolling
 * day of 13); 50 is shared-exit-volume's room for a backlog day at a
 * place new to the login. Past it the line is unfamiliar again, and
 * unfamiliar-volume refuses it for the rest of the day (the refused
 * messages keep the day over). The line's own mail of yesterday does
 * not make today's room: let through as a first home, it raised the
 * busiest day, and the same line came back the next day with room for
 * all it had sent and 50 more (the thief over three days: 287 of 300,
 * of which both later days whole); and a line let through on two days
 * is the login's own. A fresh line in one of the site's networks is
 * bounded the same way (rules_neigh.c). */
bool metrics_line_past_day(const struct metrics_ctx *c)
{
    uint64_t day = metrics_prior_day(c), own = line_yesterday(c);

    day = day > own ? day - own : 0;
    return metrics_network_recent(c, STORE_DAY_S, NULL)
	> day + FIRST_HOME_DAY_MSGS;
}

/* line_first - the time (unix s) the login was first seen
 * at the client's /24 (/48), of its remembered addresses there; 0 if
 * none is remembered */
static uint32_t line_first(const struct metrics_ctx *c)
{
    uint32_t first = 0;

    for (uint32_t i = 0; i < c->user->nips && i < STORE_IPS_MAX; i++) {
	const struct store_ip *a = &c->user->ips[i];

	if (metrics_same_network(&a->ip, &c->f->client)
	    && (first == 0 || a->first_seen < first))
	    first = a->first_seen;
    }
    return first;
}

/* readdressed - is a (a fine place of radius r) the client's line
 * under an earlier address: on its AS number, located within r of it,
 * first seen after the day left (the stay abroad's last)? A home ISP
 * moves a line to another /24 overnight (tests/sim T wide 101 u097: its
 * second day at home from a new /24 of its ISP was a second line). */
static bool readdressed(const struct metrics_ctx *c, const struct store_ip *a,
			uint32_t r, uint32_t left)
{
    return a->first_seen / STORE_DAY_S > left && metrics_line_near(c, a, r);
}

/* metrics_back_home - is the client's line the first of a login back
 * from a stay abroad: a fine place (not a carrier's pool), the login has
 * learned another country, every country other than the client's it
 * last had mail let through from before the day it first came from
 * this line (its owner left them all before coming home), one of them
 * within FIRST_HOME_BACK_DAYS of it (the line is where the owner went on
 * coming back: a phone-only login home for a week since a trip is no
 * returning traveller, and its thief on a home line is ph-line's), and
 * it remembers no other fine line in this country (a carrier's pool is
 * none: a roaming phone leaves from its carrier's hub at home; nor is
 * the line itself under the address it had before, readdressed), and
 * the owner showed itself back in the country first: another address
 * of the login there (its phone's carrier: new to a login whose trip
 * had a local SIM) first seen before the line and last seen after the
 * day it left (tests/sim T mobile-heavy 108 u158,
 * wide 101 u097, holdout 110 u148 mailed from their phones at home
 * before or on the line's first day; a thief on a home line while the
 * owner stays silent after the trip, tests/sim/mix/probe-home.mix
 * home-silent and home-isp, took 13-90 of 120 without it)? left:
 * the country left last. Which way is home is the site's to say
 * (rules_site.c rules_home_back): a trip's first hotel abroad is the same
 * shape. */
bool metrics_back_home(const struct metrics_ctx *c, char left[3])
{
    const struct rules_facts *f = c->f;
    const char *cc = f->geo.cc;
    uint32_t k = c->cfg->policy.coarse_km, first, day, last = 0;
    bool came = false;

    left[0] = 0;
    if (c->user == NULL || c->relayed || k == 0 || !f->geo.has_loc
	|| f->geo.acc_km == 0 || f->geo.acc_km >= k || cc[0] == 0
	|| (first = line_first(c)) == 0)
	return false;
    day = first / STORE_DAY_S;
    for (size_t i = 0; i < STORE_COUNTRIES; i++) {
	const struct store_country *o = &c->user->countries[i];

	if (o->cc[0] == 0 || o->days == 0 || memcmp(o->cc, cc, 2) == 0)
	    continue;
	if ((uint32_t) o->last_day + FIRST_HOME_GAP_DAYS > day)
	    return false;
	if ((uint32_t) o->last_day + FIRST_HOME_BACK_DAYS >= day
	    && o->last_day >= last)
	    memcpy(left, o->cc, 2), left[2] = 0, last = o->last_day;
    }
    for (uint32_t i = 0; left[0] != 0 && i < c->user->nips
	 && i < STORE_IPS_MAX; i++) {
	const struct store_ip *a = &c->user->ips[i];
	uint32_t r = store_ip_radius(a);
	char acc[3];

	store_ip_cc(a, acc);
	if (memcmp(acc, cc, 2) != 0 || metrics_same_network(&a->ip, &f->client))
	    continue;
	if (r != 0 && r < k && a->lat_c != STORE_NO_LOC
	    && !metrics_pool_network(c, a) && !readdressed(c, a, r, last))
	    return false;
	if (a->last_seen / STORE_DAY_S > last && a->first_seen < first)
	    came = true;
    }
    return left[0] != 0 && came;
}

/* vouched - is the client's line vouched for as a first home: in a
 * neighbour's network (c->neighbour) or the other family's address of
 * such a line (twin_line), in one of the login's usual countries, the
 * country of its first located mail; or the line of a login back home
 * from abroad (c->home_back)? */
static bool vouched(const struct metrics_ctx *c, const struct addr *ip)
{
    const char *cc = c->f->geo.cc;

    if (metrics_usual_country(c, cc) && first_country(c, cc)
	&& (c->neighbour
	    || (c->cfg->policy.first_home && twin_line(c, ip))))
	return true;
    return c->home_back;
}

/* metrics_first_home - is ip (the client) a first home line: vouched
 * for (vouched), a fine place, no other login's address within a day,
 * for a login without a home place in that country that did not come
 * from another fine place in another /24 (/48) within the hour, nor
 * sent past a backlog day from the /24? */
bool metrics_first_home(const struct metrics_ctx *c, const struct addr *ip)
{
    const struct rules_facts *f = c->f;
    uint32_t k = c->cfg->policy.coarse_km;

    if (c->user == NULL || c->relayed
	|| !addr_equal(ip, &f->client) || k == 0 || !f->geo.has_loc
	|| f->geo.acc_km == 0 || f->geo.acc_km >= k || f->geo.cc[0] == 0
	|| !vouched(c, ip))
	return false;
    return !metrics_shared_client(c, ip) && !home_in_country(c)
	&& !hopped(c, ip) && !metrics_line_past_day(c);
}
