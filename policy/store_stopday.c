/*
 * store_stopday - the latest day a login had mail refused at a place not
 * its own, and that place's network (h-pause's spare bytes of format 8,
 * session 20: the day's low byte in ext[29], the network's tag,
 * store_net_tag with 0 taken as 1, in ext[30]; 0 there is none).
 *
 * A network becomes the login's own once mail was let through from it
 * on policy.familiar_days days (metrics_net_own). A day counts from its
 * first message let through, so an attacker abroad that sends a little
 * more a day than unfamiliar-volume lets through (its first 8 let
 * through, the rest refused) had its network familiar on its second
 * day, and from then on nothing that requires an unfamiliar network
 * judged it (tests/sim/mix/probe-pause.mix creep: 36-58 of 60
 * delivered). So a day on which the login had a message refused
 * (tempfail or reject, rules.c note_stop) at a place that is not a
 * known one (not its own learned network, pinned or the site's), on or
 * after a network's last counted day, at that network, the network not
 * yet familiar, makes that day not count, when the owner mailed from its
 * home place, in another country, after the network first came
 * (home_elsewhere): the network's next day's first message let through
 * takes its place instead of adding to it (store_user.c user_net,
 * store_urec_stop_replaces). One note a login, the latest refusal: an
 * attacker refused on its address's first day and all the next (its
 * rolling day still full) noted the second, and the first does not
 * count when a third lets it through again.
 *
 * Measured on the 120 kept sites of tests/sim (EFFICACY.md round 12 -
 * pause), each condition spares honest travellers:
 * - every stop (holds too) at any strange place: a traveller held once
 *   by network-hopping (the hotel and the roaming phone's carrier
 *   network, new to it, in one hour) had neither made familiar the next
 *   day, and was refused on for days: 16 runs regressed;
 * - refusals at the refused network only: a traveller whose first day
 *   at a hotel or local SIM went past unfamiliar-volume's 8 had it
 *   familiar a day later, 5 runs regressed (probe F12's traveller, golden
 *   trip_new_day.case's alice with dry_run off);
 * - and the owner at home since: a traveller is away from home. A
 *   newcomer whose home place is its trip's hotel is at home in that
 *   country, which does not count.
 * A hold by carrier-hopping from a pool not the login's own is noted
 * too (rules_hop.c): metrics_pool_own reads the note, so that a pool the
 * learning grace alone made the login's own is not its own pool.
 *
 * A warmed network (EFFICACY.md round 15 - red, 16 - warm;
 * tests/sim/mix/probe-red.mix warm-spam): an attacker abroad that sends
 * 3 a day, under unfamiliar-volume's 8, is never refused, and had its
 * network familiar on its second day while the owner mailed from home
 * (then a spam run: 148-151 of 180 delivered). So a day with no refusal
 * does not count either when the owner mailed from its home place's
 * anchor on that network's last counted day or since, the network's
 * country new to the login with it, the home's country known for
 * WARM_HOME_DAYS (home_elsewhere's warm), the home a line, not a phone's
 * carrier (store_ip_phone: a hotel guest's roaming phone reports its home
 * country, tests/sim T shuffle seed 102). And when the thief's first
 * message of a day came before the owner's home message that day, the
 * home message takes back the day that made the network familiar
 * (store_urec_warm_unseats, called by store_user.c user_home_nets).
 *
 * An attacker against an owner who sends nothing from home meanwhile (a
 * phone-only login, one on vacation) still has its network familiar on
 * its second day let through.
 *
 * The day's byte names the latest day up to the login's last_seen with
 * that low byte, rolled by every observation (store_wrap.c). A note 256
 * days old or more reads as a later day of that byte: it can make one
 * day of a network with the same tag (1 in 255), not yet familiar and
 * last counted since, not count.
 *
 * Contract: store_user_stopped is called after the refused message's
 * own observation (rules.c: at the end of its phase), so the login's
 * last_seen is on the note's day, as for the other day bytes; it locks
 * the login's stripe;
 * store_urec_stop_replaces is called with it locked (store_user.c),
 * like the other urec helpers; the reader works on a copy.
 */
#include <string.h>

#include "store_int.h"

_Static_assert(STORE_EXT_STOP_NET == STORE_EXT_STOP_DAY + 1
	       && STORE_EXT_STOP_DAY == 29,
	       "h-pause's stop bytes stay in ext[29..30]");

/* stop_tag - the network's tag as noted (never 0: none) */
static uint8_t stop_tag(uint64_t key)
{
    uint8_t t = store_net_tag(key);

    return t == 0 ? 1 : t;
}

/* stop_since - does the note in ext (of a login last seen at last) name
 * the network key, on day or later? */
static bool stop_since(const uint8_t *ext, uint32_t last, uint64_t key,
		       uint32_t day)
{
    return ext[STORE_EXT_STOP_NET] != 0
	&& ext[STORE_EXT_STOP_NET] == stop_tag(key)
	&& store_day_of_byte(ext[STORE_EXT_STOP_DAY], last) >= day;
}

/* A home message's time (home_seen) is its end of message; its address
 * was last seen at its MAIL, up to this long before (a slow transfer). */
#define HOME_EOM_S 3600u

/* A warmed network's day (store_urec_stop_replaces, no refusal): the
 * home country known this many days before the network came (a week:
 * the learning week's home place is no owner's home yet). */
#define WARM_HOME_DAYS 7u

/* home_addr_of - home_addr's search, among anchors only when anchor */
static const struct store_ip *home_addr_of(const struct store_ip *ips,
					   uint32_t n, uint64_t key,
					   uint32_t home_seen, bool anchor)
{
    const struct store_ip *best = NULL;

    for (uint32_t i = 0; i < n; i++) {
	const struct store_ip *a = &ips[i];

	if (a->first_seen > home_seen || (anchor && !store_ip_anchor(a))
	    || store_net_key(&a->ip, a->asn) == key)
	    continue;
	if (a->last_seen >= home_seen)
	    return a;
	if (home_seen - a->last_seen <= HOME_EOM_S
	    && (best == NULL || a->last_seen > best->last_seen))
	    best = a;
    }
    return best;
}

/* home_addr - the address of the login's list (not of the network key)
 * the home message at home_seen came from: the one in use then, else
 * the latest one seen within HOME_EOM_S before it; NULL if none. The
 * home place is familiar, so its address is an anchor (the message's
 * end marks it, rules.c record_eom): an anchor so is taken first. Any
 * address so came first before, and another network of the refused
 * one's country, first seen before the home message and used since
 * (an attacker alternating two networks there), was taken for the
 * home's: the owner read as in that country, the day counted. */
static const struct store_ip *home_addr(const struct store_ip *ips,
					uint32_t n, uint64_t key,
					uint32_t home_seen)
{
    const struct store_ip *a = home_addr_of(ips, n, key, home_seen, true);

    return a != NULL ? a : home_addr_of(ips, n, key, home_seen, false);
}

/* home_elsewhere - was the login's latest message from its home place
 * (home_seen) sent after it first came from the network key (as far as
 * its address list remembers; else the end of last_day), from an address
 * in another country: the owner at home while the place abroad was
 * used? A newcomer whose home place is the hotel of its trip is at home
 * there (tests/sim shuffle seed 9 u080). With warm (a day with no
 * refusal), only the home place's anchor is taken, the network's country
 * must be new with it (none of its addresses' country's days before its
 * first) and the home country known WARM_HOME_DAYS before: a login whose
 * learning week was a trip has the hotel for its home place, and its
 * roaming phone's carrier network (its home country's addresses) while
 * there was a network "abroad" while at home (tests/sim travel seed 6
 * u177: 7 held on its return). A home anchor on a phone's carrier is
 * no owner at home (store_ip_phone: its anchors in STORE_POOL_PREFIXES
 * /24s, or two first seen on one day). */
static bool home_elsewhere(const STORE *st, const struct store_urec *u,
			   uint64_t key, uint32_t home_seen, uint16_t last_day,
			   bool warm)
{
    uint32_t n = u->l.n < st->ips_per_user ? u->l.n : st->ips_per_user;
    uint32_t first = ((uint32_t) last_day + 1) * STORE_DAY_S;
    const struct store_ip *home;
    char cc[3] = "", hc[3];

    for (uint32_t i = 0; i < n; i++)
	if (store_net_key(&u->ips[i].ip, u->ips[i].asn) == key) {
	    if (u->ips[i].first_seen < first)
		first = u->ips[i].first_seen;
	    if (cc[0] == 0)
		store_ip_cc(&u->ips[i], cc);
	}
    if (home_seen <= first
	|| (home = warm ? home_addr_of(u->ips, n, key, home_seen, true)
	    : home_addr(u->ips, n, key, home_seen)) == NULL)
	return false;
    store_ip_cc(home, hc);
    if (hc[0] == 0 || memcmp(hc, cc, 2) == 0)
	return false;
    if (warm && store_ip_phone(u->ips, n, home))
	return false;		/* a phone's carrier: roaming, not at home */
    if (warm)
	for (int i = 0; i < STORE_COUNTRIES; i++) {
	    const struct store_fcountry *k = &u->countries[i];

	    if (cc[0] != 0 && memcmp(k->cc, cc, 2) == 0
		&& k->first_day < first / STORE_DAY_S)
		return false;	/* a country the login knew before */
	    if (memcmp(k->cc, hc, 2) == 0
		&& k->first_day + WARM_HOME_DAYS > first / STORE_DAY_S)
		return false;	/* a home country not yet a week old */
	}
    return true;
}

/* store_user_stopped - a message of the login was refused at now at a
 * place not its own, of the network key: note the day and the network */
int store_user_stopped(STORE *st, const char *login, uint64_t key,
		       uint32_t now)
{
    struct store_urec *u;
    unsigned s;
    int rc;

    if ((rc = store_urec_lock(st, login, now, &u, &s)) != STORE_OK)
	return rc;
    u->ext[STORE_EXT_STOP_DAY] = (uint8_t) (now / STORE_DAY_S & 0xff);
    u->ext[STORE_EXT_STOP_NET] = stop_tag(key);
    store_unlock(&st->users, s);
    return STORE_OK;
}

/* store_urec_stop_replaces - a message let through from the login's
 * network key (days days so far, the last last_day) on a later day: does
 * this day take the last one's place instead of counting (the network
 * not yet familiar, familiar_days > 0, and refused at on its last day or
 * since, or warmed: the owner at home on its last day or since)? */
bool store_urec_stop_replaces(const STORE *st, const struct store_urec *u,
			      uint64_t key, uint16_t days, uint16_t last_day,
			      uint32_t home_seen, uint32_t familiar_days)
{
    if (days >= familiar_days)
	return false;
    if (stop_since(u->ext, u->l.last_seen, key, last_day))
	return home_elsewhere(st, u, key, home_seen, last_day, false);
    /* a warmed network: the owner at home on the day to be counted or
     * since (round 16 - warm) */
    return home_seen / STORE_DAY_S >= last_day
	&& home_elsewhere(st, u, key, home_seen, last_day, true);
}

/* store_urec_warm_unseats - the owner's home message at home_seen, on
 * the day (day) the network key's first message let through made it
 * familiar: does that day not count after all (the warmed network, as
 * store_urec_stop_replaces; the thief's first message of the day came
 * before the owner's)? */
bool store_urec_warm_unseats(const STORE *st, const struct store_urec *u,
			     uint64_t key, uint16_t day, uint32_t home_seen)
{
    return home_elsewhere(st, u, key, home_seen, day, true);
}

/* store_user_stopped_since - was the login refused at the network key
 * on day or later (a copy's reading of the note)? */
bool store_user_stopped_since(const struct store_user *u, uint64_t key,
			      uint32_t day)
{
    return stop_since(u->ext, u->last_seen, key, day);
}
