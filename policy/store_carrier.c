/*
 * store_carrier - a login's usual hour on its carriers' coarse addresses.
 *
 * A phone on a carrier's CGNAT pool gets a new address each connection,
 * located to a hub city only; mobile proxies on the same carrier look
 * the same, and only their rate tells them apart (tests/sim harsh.mix
 * own-carrier). The login's busiest hour of messages from such addresses
 * (metrics_carrier.c counts them) lives in spare bytes of format 7: the
 * aux byte of nets[STORE_COARSE_HOUR] (the hour, saturating at 255) and
 * of nets[STORE_COARSE_DAY] (the low byte of the day number it last rose
 * on). Files written before read 0 there: not learned yet, the metric's
 * floor stands in. While the login learns the usual hour rises at once;
 * afterwards by one a day at most, so an attacker whose messages are let
 * through does not carry the baseline up with him. The day byte comes
 * round every 256 days: every observation of the login rolls it
 * (store_wrap.c), so a login back after exactly 256 days is not taken to
 * have risen today already (the engine observes the login at MAIL before
 * its carrier note; a note through store_user_coarse_learn on a login
 * not observed today reads the byte as it stands).
 *
 * The hubs it sent from (format 8, h-judge's ext bytes, store_int.h
 * STORE_HUBS_*): the login's address list holds 16 addresses, and a phone
 * busy all day fills it with today's, after which its own hub looked new
 * (tests/sim wide.mix: "16 addresses at a hub it had none at before
 * today"). A few hubs a login used on an earlier day are kept here.
 */
#include <string.h>

#include "store_int.h"


_Static_assert(STORE_COARSE_HOUR < STORE_NETS && STORE_COARSE_DAY < STORE_NETS
	       && STORE_COARSE_HOUR != STORE_USUAL_DAY_LO
	       && STORE_COARSE_HOUR != STORE_USUAL_DAY_HI
	       && STORE_COARSE_DAY != STORE_USUAL_DAY_LO
	       && STORE_COARSE_DAY != STORE_USUAL_DAY_HI
	       && STORE_COARSE_HOUR != STORE_COARSE_DAY, "spare bytes in use");

/* store_urec_coarse_hour - the login's usual coarse hour (0: none yet) */
uint8_t store_urec_coarse_hour(const struct store_urec *u)
{
    return u->nets[STORE_COARSE_HOUR].aux;
}

/* coarse_raise - count raises the usual coarse hour: to count while
 * learning, else by one on a day it has not risen yet */
static void coarse_raise(struct store_urec *u, uint32_t count, bool learning,
			 uint32_t now)
{
    uint8_t *hour = &u->nets[STORE_COARSE_HOUR].aux;
    uint8_t *day = &u->nets[STORE_COARSE_DAY].aux;
    uint8_t today = (uint8_t) (now / STORE_DAY_S & 0xff);

    if (count > UINT8_MAX)
	count = UINT8_MAX;
    if (count <= *hour)
	return;
    if (learning) {
	*hour = (uint8_t) count;
	return;
    }
    if (*day == today && *hour != 0)
	return;
    *hour = (uint8_t) (*hour + 1);
    *day = today;
}

#define HUB_KNOWN 0x8000u	/* an entry's top bit: noted on an earlier day */

/* store_hub_tag - a hub's 15-bit tag (never 0) */
uint16_t store_hub_tag(uint64_t net, int16_t lat_c, int16_t lon_c)
{
    uint64_t h = net * UINT64_C(0x9e3779b97f4a7c15);

    h ^= (uint64_t) (uint16_t) lat_c << 16 | (uint16_t) lon_c;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h = (h >> 33) & 0x7fff;
    return (uint16_t) (h != 0 ? h : 1);
}

/* hub_at - entry i of the known hubs */
static uint16_t hub_at(const uint8_t *ext, unsigned i)
{
    return store_le16(ext + STORE_HUBS_AT + 2 * i);
}

/* hub_put - set entry i */
static void hub_put(uint8_t *ext, unsigned i, uint16_t v)
{
    store_le16_put(ext + STORE_HUBS_AT + 2 * i, v);
}

/* hubs_day - the day of the latest note */
static uint16_t hubs_day(const uint8_t *ext)
{
    return store_le16(ext + STORE_HUBS_DAY);
}

/* store_user_hub_known - noted on a day before now's: marked so, or
 * noted at all when the latest note was on an earlier day */
bool store_user_hub_known(const struct store_user *u, uint16_t hub,
			  uint32_t now)
{
    bool earlier = hubs_day(u->ext) != (uint16_t) (now / STORE_DAY_S);

    for (unsigned i = 0; i < STORE_HUBS; i++) {
	uint16_t e = hub_at(u->ext, i);

	if (e != 0 && (e & ~HUB_KNOWN) == hub)
	    return earlier || (e & HUB_KNOWN) != 0;
    }
    return false;
}

/* store_user_sole_hub - the login's one hub noted on a day before now's,
 * when it has exactly one such and its list never filled (a phone whose
 * carrier egress kept to one hub: a full list may have dropped earlier
 * days' hubs for today's, tests/sim T wide 110 u065); 0 otherwise */
uint16_t store_user_sole_hub(const struct store_user *u, uint32_t now)
{
    bool earlier = hubs_day(u->ext) != (uint16_t) (now / STORE_DAY_S);
    uint16_t sole = 0;

    if (hub_at(u->ext, STORE_HUBS - 1) != 0)
	return 0;	/* full: a hub may have fallen off */
    for (unsigned i = 0; i < STORE_HUBS; i++) {
	uint16_t e = hub_at(u->ext, i);

	if (e == 0 || (!earlier && (e & HUB_KNOWN) == 0))
	    continue;
	if (sole != 0)
	    return 0;
	sole = e & ~HUB_KNOWN;
    }
    return sole;
}

/* hubs_note - note hub, most recent first (the least recent falls off);
 * on a new day every entry becomes one of an earlier day */
static void hubs_note(uint8_t *ext, uint16_t hub, uint32_t now)
{
    uint16_t today = (uint16_t) (now / STORE_DAY_S), e = hub;
    unsigned i, at = STORE_HUBS - 1;

    if (hubs_day(ext) != today) {
	for (i = 0; i < STORE_HUBS; i++)
	    if (hub_at(ext, i) != 0)
		hub_put(ext, i, hub_at(ext, i) | HUB_KNOWN);
	store_le16_put(ext + STORE_HUBS_DAY, today);
    }
    for (i = 0; i < STORE_HUBS; i++)
	if (hub_at(ext, i) != 0 && (hub_at(ext, i) & ~HUB_KNOWN) == hub) {
	    e = hub_at(ext, i), at = i;
	    break;
	}
    for (i = at; i > 0; i--)
	hub_put(ext, i, hub_at(ext, i - 1));
    hub_put(ext, 0, e);
}

/* store_user_coarse_learn - an accepted message from a coarse address of
 * the login's own network: count (messages from such addresses in the
 * last hour, this one included) may raise its usual coarse hour */
int store_user_coarse_learn(STORE *st, const char *login, uint32_t count,
			    bool learning, uint32_t now)
{
    return store_user_coarse_note(st, login, 0, count, learning, now);
}

/* store_urec_coarse_note - a note on a live slot (its stripe locked) */
void store_urec_coarse_note(struct store_urec *u,
			    const struct store_coarse_note *n, uint32_t now)
{
    coarse_raise(u, n->count, n->learning, now);
    if (n->hub != 0)
	hubs_note(u->ext, n->hub, now);
}

/* store_user_coarse_note - store_user_coarse_learn, and note its hub */
int store_user_coarse_note(STORE *st, const char *login, uint16_t hub,
			   uint32_t count, bool learning, uint32_t now)
{
    const struct store_coarse_note n = {hub, count, learning};
    struct store_urec *u;
    unsigned s;
    int rc;

    if ((rc = store_urec_lock(st, login, now, &u, &s)) != STORE_OK)
	return rc;
    store_urec_coarse_note(u, &n, now);
    store_unlock(&st->users, s);
    return STORE_OK;
}

/*
 * The pool's addresses the list dropped (ext[31], STORE_EXT_COARSE_GONE):
 * a phone, or a proxy pool, takes a new address each connection, so a
 * login sending from its carrier's pool faster than its 16-address list
 * turns over kept only the last dozen of its hour, and both its hour
 * and its usual hour stopped there (tests/sim heavy-carrier.mix: heavy
 * phone users' true busiest hours 11-26; proxies adding 20 an hour went
 * under either). An address located no finer than line_km (coarse_km)
 * that the list drops while last seen within the hour is counted here,
 * in the half hour of the login's last_seen; the next half hour moves
 * the count to the one before, a later one clears both. So a reader
 * adds the last 30 to 60 minutes' dropped addresses (an undercount, never
 * more than the hour's). Rolled by every observation before last_seen
 * moves (store_wrap.c), and from a snapshot's last_seen to the entry's
 * on a restore; a login carried over (0) has dropped none.
 */
#define GONE_SLOT_S 1800u	/* half an hour */
#define GONE_MAX 15u		/* four bits a count */

/* store_ext_gone_roll - move the counts of a login last seen at last to
 * now's half hour */
void store_ext_gone_roll(uint8_t *ext, uint32_t last, uint32_t now)
{
    uint32_t from = last / GONE_SLOT_S, to = now / GONE_SLOT_S;

    if (to <= from)
	return;
    ext[STORE_EXT_COARSE_GONE] = to == from + 1
	? (uint8_t) (ext[STORE_EXT_COARSE_GONE] << 4) : 0;
}

/* store_urec_gone_note - the list drops ip (the entry rolled to now) */
void store_urec_gone_note(struct store_urec *u, const struct store_ip *ip,
			  uint32_t line_km, uint32_t now)
{
    uint8_t *g = &u->ext[STORE_EXT_COARSE_GONE];

    if (line_km == 0 || store_ip_radius(ip) < line_km
	|| ip->last_seen > now || now - ip->last_seen >= 3600)
	return;
    if ((*g & 0x0f) < GONE_MAX)
	(*g)++;
}

/* store_user_coarse_gone - the pool's addresses a copy's list dropped in
 * the last 30 to 60 minutes before now */
uint32_t store_user_coarse_gone(const struct store_user *u, uint32_t now)
{
    uint8_t ext[STORE_EXT_LEN];

    memcpy(ext, u->ext, sizeof(ext));
    store_ext_gone_roll(ext, u->last_seen, now);
    return (uint32_t) (ext[STORE_EXT_COARSE_GONE] & 0x0f)
	+ (ext[STORE_EXT_COARSE_GONE] >> 4);
}
