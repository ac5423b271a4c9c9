/*
 * store_relay - a login's messages through a trusted relay (the site's
 * webmail), in h-judge3's spare bytes of format 8 (ext[22..26],
 * store_int.h): the last hour's count and the login's busiest relayed
 * hour before today.
 *
 * A session from a trusted relay has no place of its own: the login's
 * windows count it with all its other mail, so a busy hour at the desk
 * with one webmail message in it looks like a busy webmail hour, and
 * the login's usual hour (learned from its familiar places) may be a
 * single day's backlog far above what it ever sent through the webmail.
 * These bytes keep the relay's part apart (relayed_messages_over_usual,
 * metrics_relay.c).
 *
 * The hour is two half-hour counters, the current half hour's and the
 * one before's, so a count covers the last 30 to 60 minutes. Every
 * message the relay submits counts at MAIL, refused ones too: an
 * attacker who keeps sending stays over the limit, where the windows
 * give refused messages back. The end of a message let through folds
 * the hour's count into the day's busiest, and the first message of a
 * later day makes that the usual (the busiest of the days before
 * today): today's mail, an attacker's, does not raise today's usual.
 * Counters saturate at 255. The half hour is kept by its number's low
 * byte, which comes round every 128 hours, so the counters move on with
 * every observation of the login (store_urec_relay_roll, before its
 * last_seen does), and the kept half hour is the latest one up to the
 * login's last_seen with that low byte: the last observation's,
 * however long ago. (Read against now alone, a count came back as the
 * current half hour's 128 hours to the half hour after it, and the
 * day's busiest hour was not made the usual on what looked like the
 * same day.) A snapshot's counters restored into an entry move on from
 * the snapshot's last_seen to the entry's (store_urec_relay_restored),
 * and an entry's own ones before a restore moves its last_seen on. A
 * login carried over from format 7 (zeros) reads 0.
 *
 * Contract: called with the login's stripe locked (store_user.c), like
 * the other urec helpers; the readers work on a copy.
 */
#include "store_int.h"

#define RELAY_SLOT_S 1800	/* half an hour: two of them are the hour */
#define RELAY_SLOTS_DAY (STORE_DAY_S / RELAY_SLOT_S)
#define RELAY_COUNT_MAX 255	/* one byte a counter */

/* relay_kept - the half hour the counters are kept for: the latest one
 * up to last_seen's whose number has the kept low byte */
static uint32_t relay_kept(const uint8_t *ext, uint32_t last_seen)
{
    uint32_t seen = last_seen / RELAY_SLOT_S;
    uint8_t ago = (uint8_t) ((seen & 0xff) - ext[STORE_EXT_RELAY_SLOT]);

    return seen >= ago ? seen - ago : 0;
}

/* relay_back - half hours from the kept one to now's (0 for a now
 * before it: a clock stepped back counts on in the kept half hour), and
 * now's number */
static uint32_t relay_back(const uint8_t *ext, uint32_t last_seen,
			   uint32_t now, uint32_t *slot)
{
    uint32_t kept = relay_kept(ext, last_seen);

    *slot = now / RELAY_SLOT_S;
    return *slot > kept ? *slot - kept : 0;
}

/* relay_sat - a count as kept: at most RELAY_COUNT_MAX */
static uint8_t relay_sat(uint32_t n)
{
    return (uint8_t) (n > RELAY_COUNT_MAX ? RELAY_COUNT_MAX : n);
}

/* relay_roll - move the counters to now's half hour; a new day makes
 * the kept day's busiest hour part of the usual */
static void relay_roll(uint8_t *ext, uint32_t last_seen, uint32_t now)
{
    uint32_t slot, back = relay_back(ext, last_seen, now, &slot);

    if (back == 0)
	return;
    if ((slot - back) / RELAY_SLOTS_DAY != slot / RELAY_SLOTS_DAY) {
	if (ext[STORE_EXT_RELAY_DAY_MAX] > ext[STORE_EXT_RELAY_USUAL])
	    ext[STORE_EXT_RELAY_USUAL] = ext[STORE_EXT_RELAY_DAY_MAX];
	ext[STORE_EXT_RELAY_DAY_MAX] = 0;
    }
    ext[STORE_EXT_RELAY_PREV] = back == 1 ? ext[STORE_EXT_RELAY_NOW] : 0;
    ext[STORE_EXT_RELAY_NOW] = 0;
    ext[STORE_EXT_RELAY_SLOT] = (uint8_t) (slot & 0xff);
}

/* store_urec_relay_roll - any observation of the login at now, before
 * it moves last_seen: the counters to now's half hour (a login that
 * never used the relay keeps its bytes zero) */
void store_urec_relay_roll(struct store_urec *u, uint32_t now)
{
    for (size_t i = STORE_EXT_RELAY_SLOT; i <= STORE_EXT_RELAY_USUAL; i++)
	if (u->ext[i] != 0) {
	    relay_roll(u->ext, u->l.last_seen, now);
	    return;
	}
}

/* store_urec_relay_restored - a snapshot's counters, kept as of its
 * last_seen from_last, put into an entry last seen later (a state file
 * made anew: the restore's time): moved on to that half hour, as an
 * observation would have (store_wrap.c) */
void store_urec_relay_restored(struct store_urec *u, uint32_t from_last)
{
    if (u->l.last_seen > from_last)
	relay_roll(u->ext, from_last, u->l.last_seen);
}

/* store_urec_relay_note - a relayed session at now: n messages counted
 * (at MAIL), or with n 0 a message let through, whose hour may be the
 * day's busiest */
void store_urec_relay_note(struct store_urec *u, uint32_t n, uint32_t now)
{
    uint8_t *ext = u->ext;
    uint8_t hour;

    relay_roll(ext, u->l.last_seen, now);
    ext[STORE_EXT_RELAY_NOW] = relay_sat(ext[STORE_EXT_RELAY_NOW] + n);
    hour = relay_sat((uint32_t) ext[STORE_EXT_RELAY_NOW]
		     + ext[STORE_EXT_RELAY_PREV]);
    if (n == 0 && hour > ext[STORE_EXT_RELAY_DAY_MAX])
	ext[STORE_EXT_RELAY_DAY_MAX] = hour;
}

/* store_user_relayed_hour - the current and the previous half hour's
 * relayed messages at now (what is kept for an earlier half hour moves
 * back one, or is too old) */
uint32_t store_user_relayed_hour(const struct store_user *u, uint32_t now)
{
    uint32_t slot, back = relay_back(u->ext, u->last_seen, now, &slot);

    if (back == 0)
	return (uint32_t) u->ext[STORE_EXT_RELAY_NOW]
	    + u->ext[STORE_EXT_RELAY_PREV];
    return back == 1 ? u->ext[STORE_EXT_RELAY_NOW] : 0;
}

/* store_user_relayed_usual - the busiest relayed hour of mail let
 * through on the days before now's (the kept day's counts too, when
 * that day is over) */
uint32_t store_user_relayed_usual(const struct store_user *u, uint32_t now)
{
    uint32_t slot, back = relay_back(u->ext, u->last_seen, now, &slot);
    uint8_t usual = u->ext[STORE_EXT_RELAY_USUAL];
    uint8_t day = u->ext[STORE_EXT_RELAY_DAY_MAX];

    if ((slot - back) / RELAY_SLOTS_DAY != slot / RELAY_SLOTS_DAY
	&& day > usual)
	return day;
    return usual;
}

/* store_user_relayed_today - the busiest relayed hour of mail let
 * through so far on now's day (0 once the kept day is over) */
uint32_t store_user_relayed_today(const struct store_user *u, uint32_t now)
{
    uint32_t slot, back = relay_back(u->ext, u->last_seen, now, &slot);

    if ((slot - back) / RELAY_SLOTS_DAY != slot / RELAY_SLOTS_DAY)
	return 0;
    return u->ext[STORE_EXT_RELAY_DAY_MAX];
}
