/*
 * store_revisit - the network a login took up again today after a day or
 * more without it (h-native's spare bytes of format 8: the day's low
 * byte in ext[13], a byte of the network's key in ext[14]).
 *
 * A network's entry (store_net) keeps the days it was used on and the
 * last of them; the first message let through today moves the last day
 * to today, so from then on nothing says the day began after a gap. The
 * first message let through on a day from a network whose last day is
 * older than yesterday notes the network here; the later messages of the
 * day read it (metrics_revisit.c: a family's line abroad that the login
 * had left is a new stay, not the old one). One note a login: a second
 * network taken up again the same day replaces the first. A login
 * carried over from format 7 (zeros) reads no note, as does one whose
 * day byte is not today's. The byte names the latest day up to the
 * login's last_seen with that low byte, and every observation rolls it
 * (store_wrap.c): after exactly a multiple of 256 days an old note of
 * the same network read as today's (and a new login's zeros did on a
 * day ...00, for a network whose byte of key is 0).
 *
 * Contract: store_urec_revisit_note is called with the login's stripe
 * locked (store_user.c), like the other urec helpers; the reader works
 * on a copy.
 */
#include "store_int.h"

_Static_assert(STORE_EXT_REVISIT_NET == STORE_EXT_REVISIT_DAY + 1
	       && STORE_EXT_REVISIT_DAY == 13,
	       "h-native's revisit bytes stay in ext[13..14]");

/* A place elsewhere counts only if it is a line, located to better than
 * policy.coarse_km (obs->line_km; metrics_revisit.c's elsewhere reads the
 * same): a traveller's phone roaming home-routed is a carrier hub at
 * home while the owner is still abroad, and the hotel's line taken up
 * again after a day on the phone alone is the same stay (the held-out
 * site hold2 holdout 16, u034: 8 held without it). */

/* store_urec_revisit_note - a message let through at now from the
 * network key (obs), whose last day of use was last_day (before this
 * message): note it when that was before yesterday and the login came
 * from another country since the start of yesterday (an address of its
 * list, not this one, seen then, located as a line) */
void store_urec_revisit_note(const STORE *st, struct store_urec *u,
			     const struct store_user_obs *obs, uint64_t key,
			     uint16_t last_day, uint32_t now)
{
    uint32_t today = now / STORE_DAY_S, since = (today - 1) * STORE_DAY_S;
    uint32_t n = u->l.n < st->ips_per_user ? u->l.n : st->ips_per_user;

    if ((uint32_t) last_day + 1 >= today || obs->geo.cc[0] == '\0')
	return;
    for (uint32_t i = 0; i < n; i++) {
	const struct store_ip *a = &u->ips[i];
	char cc[3];

	store_ip_cc(a, cc);
	if (a->last_seen >= since && cc[0] != 0 && store_ip_radius(a) != 0
	    && store_ip_radius(a) < obs->line_km
	    && memcmp(cc, obs->geo.cc, 2) != 0 && !addr_equal(&a->ip, &obs->ip)) {
	    u->ext[STORE_EXT_REVISIT_DAY] = (uint8_t) (today & 0xff);
	    u->ext[STORE_EXT_REVISIT_NET] = store_net_tag(key);
	    return;
	}
    }
}

/* store_user_revisited - was the network key taken up again today after
 * a day or more without it (noted by its first message let through
 * today)? */
bool store_user_revisited(const struct store_user *u, uint64_t key,
			  uint32_t now)
{
    return store_day_is_today(u->ext[STORE_EXT_REVISIT_DAY], u->last_seen, now)
	&& u->ext[STORE_EXT_REVISIT_NET] == store_net_tag(key);
}
