/*
 * check_store_stopday - unit tests of h-pause's spare bytes of format 8
 * (ext[29..30]): the latest day a login had mail refused at a place not
 * its own, and its network (store_stopday.c), and how it keeps that
 * network's days from counting toward familiarity (store_user.c
 * user_net).
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "store.h"
#include "store_int.h"
#include "check_main.h"
#include "store_test.h"

#define ABROAD "192.0.2.77"	/* a network of its own (no AS: its /24), FR */
#define OTHER "203.0.113.9"	/* another, GB */
#define HOME "198.51.100.20"	/* the owner's home line, DE */
#define ABROAD2 "192.0.3.44"	/* another network in ABROAD's country, FR */
#define PHONE "198.51.100.21"	/* the owner's phone, HOME's network, DE */

/* let - a message let through from ip at now (the end of a message:
 * LEARN; from HOME the home place's, STORE_OBS_HOME, an anchor as the
 * engine's (rules.c record_eom: a home place is familiar), its MAIL two
 * minutes before), familiar_days fam; the copy in U */
static void let(STORE *st, const char *login, const char *ip, uint32_t fam,
		uint32_t now)
{
    struct store_user_obs o = obs_make(login, ip);
    bool home = strcmp(ip, HOME) == 0 || strcmp(ip, PHONE) == 0;

    obs_geo(&o, home ? "DE" : strcmp(ip, ABROAD) == 0
	    || strcmp(ip, ABROAD2) == 0 ? "FR" : "GB", 0, 0, 0, 10);
    /* a home message's MAIL two minutes before its end (home_seen) */
    ck_assert_int_eq(store_user_update(st, &o, home ? now - 120 : now, NULL),
		     STORE_OK);
    o.flags = STORE_OBS_COUNT_ONLY | STORE_OBS_LEARN	/* a home place is */
	| (home ? STORE_OBS_HOME | STORE_OBS_ANCHOR : 0);	/* familiar */
    o.familiar_days = fam;
    ck_assert_int_eq(store_user_update(st, &o, now, &U), STORE_OK);
}

/* home_refused - a message from ip (the home place) refused at its
 * MAIL at now by the login's block (rules.c note_home), familiar_days
 * fam */
static void home_refused(STORE *st, const char *login, const char *ip,
			 uint32_t fam, uint32_t now)
{
    struct store_user_obs o = obs_make(login, ip);

    obs_geo(&o, "DE", 0, 0, 0, 10);
    ck_assert_int_eq(store_user_update(st, &o, now, NULL), STORE_OK);
    ck_assert_int_eq(store_user_home_refused(st, login, fam, now),
		     STORE_OK);
}

/* key_of - ip's network's key (no AS: its /24) */
static uint64_t key_of(const char *ip)
{
    struct addr a = ip_of(ip);

    return store_net_key(&a, 0);
}

/* stop - a message of login refused at ip at now */
static void stop(STORE *st, const char *login, const char *ip, uint32_t now)
{
    ck_assert_int_eq(store_user_stopped(st, login, key_of(ip), now),
		     STORE_OK);
}

/* days_of - the days counted on ip's network in U (0: not learned) */
static unsigned days_of(const char *ip)
{
    uint64_t key = key_of(ip);

    for (int i = 0; i < STORE_NETS; i++)
	if (U.nets[i].days != 0 && U.nets[i].key == key)
	    return U.nets[i].days;
    return 0;
}

/* A refusal notes the day's low byte in ext[29] and the network's tag
 * in ext[30], nothing else; an unknown login is not created. */
START_TEST(test_stop_note)
{
    STORE *st = tnew("note", 1000, 16);
    uint32_t at = T0 + 3 * DAY + HOUR;

    seen(st, "nora", ABROAD, T0);
    ck_assert_int_eq(store_user_get(st, "nora", T0, &U), STORE_OK);
    ck_assert(!store_user_stopped_since(&U, key_of(ABROAD), 0));
    seen(st, "nora", ABROAD, at);	/* the refused message's MAIL */
    stop(st, "nora", ABROAD, at);
    ck_assert_int_eq(store_user_get(st, "nora", at, &U), STORE_OK);
    ck_assert_uint_eq(U.ext[STORE_EXT_STOP_DAY], (at / DAY) & 0xff);
    ck_assert_uint_ne(U.ext[STORE_EXT_STOP_NET], 0);
    for (int i = 0; i < STORE_EXT_LEN; i++)
	if (i != 29 && i != 30)
	    ck_assert_uint_eq(U.ext[i], 0);
    ck_assert(store_user_stopped_since(&U, key_of(ABROAD), at / DAY));
    ck_assert(store_user_stopped_since(&U, key_of(ABROAD), at / DAY - 2));
    ck_assert(!store_user_stopped_since(&U, key_of(ABROAD), at / DAY + 1));
    ck_assert(!store_user_stopped_since(&U, key_of(OTHER), at / DAY));
    ck_assert_int_eq(store_user_stopped(st, "nobody", key_of(ABROAD), T0),
		     STORE_NOTFOUND);
    ck_assert_int_eq(store_user_get(st, "nobody", T0, &U), STORE_NOTFOUND);
    store_close(st);
}
END_TEST

/* One step of a login's days: a message let through ('l') from ip with
 * familiar_days fam, after which ip's network has days days (0: not
 * checked), or one refused ('s') there; at: T0 + day * DAY + hour * HOUR. */
struct step {
    char what;
    const char *ip;
    uint32_t fam, day, hour;
    unsigned days;
};

/* steps - run a login's steps in a fresh store */
static void steps(const char *name, const struct step *s, size_t n)
{
    STORE *st = tnew(name, 1000, 16);

    for (size_t i = 0; i < n; i++) {
	uint32_t at = T0 + s[i].day * DAY + s[i].hour * HOUR;

	if (s[i].what == 's') {
	    stop(st, name, s[i].ip, at);
	    continue;
	}
	if (s[i].what == 'h') {	/* home, refused by the login's block */
	    home_refused(st, name, s[i].ip, s[i].fam, at);
	    continue;
	}
	let(st, name, s[i].ip, s[i].fam, at);
	if (s[i].days != 0)
	    ck_assert_msg(days_of(s[i].ip) == s[i].days,
			  "step %zu: %u days, not %u", i, days_of(s[i].ip),
			  s[i].days);
    }
    store_close(st);
}

/* A network's day with a refusal there does not count toward its
 * familiarity once the owner mailed from home (another country) after
 * the network first appeared: the next day's first message let through
 * takes its place. A clean day counts as before, a refusal at another
 * network says nothing of this one, a familiar network counts every
 * day, and without the owner at home since (a traveller refused at the
 * hotel) the day counts. */
START_TEST(test_stop_day_replaced)
{
    const struct step s[] = {
	{'l', HOME, 2, 0, 7, 1},
	{'l', ABROAD, 2, 0, 8, 1}, {'s', ABROAD, 0, 0, 18, 0},
	{'l', HOME, 2, 0, 19, 1},	/* the owner at home since */
	{'l', ABROAD, 2, 1, 8, 1},	/* day 1 replaces day 0 */
	{'l', ABROAD, 2, 1, 9, 1},	/* the same day */
	{'s', OTHER, 0, 1, 18, 0},	/* elsewhere */
	{'l', ABROAD, 2, 2, 8, 2},	/* day 1 was clean */
	{'s', ABROAD, 0, 2, 9, 0}, {'l', HOME, 2, 2, 10, 0},
	{'l', ABROAD, 2, 3, 8, 3},	/* familiar: counts */
    };
    const struct step t[] = {
	{'l', HOME, 2, 0, 7, 1},
	{'l', OTHER, 2, 0, 8, 1}, {'s', OTHER, 0, 0, 18, 0},
	{'l', OTHER, 2, 1, 8, 2},	/* not at home since: counts */
    };

    steps("ada", s, sizeof(s) / sizeof(s[0]));
    steps("eve", t, sizeof(t) / sizeof(t[0]));
}
END_TEST

/* A refusal on a later day than the network's last (an attacker refused
 * all day while its rolling day was full) counts against that day too;
 * one note a login: a refusal at another network replaces it;
 * familiar_days 0 counts every day (the old way). */
START_TEST(test_stop_since)
{
    const struct step s[] = {
	{'l', ABROAD, 2, 0, 8, 1}, {'s', ABROAD, 0, 1, 9, 0},	/* day 1 */
	{'l', HOME, 2, 1, 10, 1},
	{'l', ABROAD, 2, 2, 8, 1},	/* replaces day 0 */
	{'l', OTHER, 0, 2, 9, 1}, {'s', OTHER, 0, 2, 10, 0},
	{'l', HOME, 2, 2, 11, 0},
	{'l', OTHER, 0, 3, 8, 2},	/* no familiar_days: counts */
	{'l', ABROAD, 2, 4, 8, 2},	/* the note is OTHER's: counts */
    };

    steps("bo", s, sizeof(s) / sizeof(s[0]));
}
END_TEST

/* The home message's address is the home place's, an anchor: another
 * network of the refused one's country, first seen before the home
 * message and used after it (an attacker alternating two networks
 * there), is not taken for it. Before, home_addr took the most recently
 * used address in use at home_seen, found the home message "in the same
 * country", and the refused network's day counted. */
START_TEST(test_stop_home_anchor)
{
    const struct step s[] = {
	{'l', HOME, 2, 0, 6, 1}, {'l', HOME, 2, 1, 6, 2},	/* its own */
	{'l', HOME, 2, 2, 7, 3},
	{'l', ABROAD, 2, 2, 8, 1}, {'l', ABROAD2, 2, 2, 9, 1},
	{'l', HOME, 2, 2, 10, 0},	/* the owner at home since */
	{'l', ABROAD2, 2, 2, 11, 0}, {'s', ABROAD, 0, 2, 18, 0},
	{'l', ABROAD, 2, 3, 8, 1},	/* day 3 replaces day 2 */
    };

    steps("di", s, sizeof(s) / sizeof(s[0]));
}
END_TEST

/* The day byte comes round every 256 days: a note of exactly 256 days
 * before does not read as today's once the login is seen again
 * (store_wrap.c rolls it back a day), and a note of today does. */
START_TEST(test_stop_wrap)
{
    STORE *st = tnew("wrap", 1000, 16);
    uint32_t later = T0 + 256 * DAY + 8 * HOUR;

    ck_assert_int_eq(store_user_stopped(st, "cy", key_of(ABROAD), T0),
		     STORE_NOTFOUND);	/* no such login yet */
    let(st, "cy", ABROAD, 2, T0 + 9 * HOUR);
    stop(st, "cy", ABROAD, T0 + 10 * HOUR);
    seen(st, "cy", OTHER, later);
    ck_assert_int_eq(store_user_get(st, "cy", later, &U), STORE_OK);
    ck_assert(!store_user_stopped_since(&U, key_of(ABROAD), later / DAY));
    stop(st, "cy", ABROAD, later + HOUR);
    ck_assert_int_eq(store_user_get(st, "cy", later + HOUR, &U), STORE_OK);
    ck_assert(store_user_stopped_since(&U, key_of(ABROAD), later / DAY));
    store_close(st);
}
END_TEST

/* A warmed network (round 16 - warm): with no refusal, a day at a
 * network in a country new to the login does not count when the owner
 * mailed from its home anchor, in a country known for a week
 * (WARM_HOME_DAYS) before the network came, on that day or since. A
 * home country younger than that (a learning week abroad: tests/sim
 * travel seed 6 u177), a network of a country known before, or a day
 * after one with no home message counts. */
START_TEST(test_stop_warm)
{
    const struct step s[] = {
	{'l', HOME, 2, 0, 7, 1}, {'l', HOME, 2, 3, 7, 2},
	{'l', ABROAD, 2, 8, 8, 1}, {'l', HOME, 2, 8, 19, 0},
	{'l', ABROAD, 2, 9, 8, 1},	/* day 9 replaces day 8 */
	{'l', ABROAD, 2, 11, 8, 2},	/* no home message on day 9 */
    };
    const struct step t[] = {
	{'l', HOME, 2, 0, 7, 1},
	{'l', ABROAD, 2, 3, 8, 1}, {'l', HOME, 2, 3, 19, 0},
	{'l', ABROAD, 2, 4, 8, 2},	/* home known 3 days: counts */
    };
    const struct step u[] = {
	{'l', HOME, 2, 0, 7, 1}, {'l', ABROAD2, 2, 1, 7, 1},	/* FR */
	{'l', ABROAD, 2, 8, 8, 1}, {'l', HOME, 2, 8, 19, 0},
	{'l', ABROAD, 2, 9, 8, 2},	/* FR known before: counts */
    };

    steps("wa", s, sizeof(s) / sizeof(s[0]));
    steps("wb", t, sizeof(t) / sizeof(t[0]));
    steps("wc", u, sizeof(u) / sizeof(u[0]));
}
END_TEST

/* The warmed network's "owner at home" is a home line: an anchor whose
 * network gave the login two addresses on one day (a phone's carrier, a
 * new address a connection: a hotel guest's roaming phone reports its
 * home country, tests/sim T shuffle seed 102 u029 and u048) says nothing
 * of where the owner is, and the hotel's day counts. */
START_TEST(test_stop_warm_phone)
{
    const struct step s[] = {
	{'l', HOME, 2, 0, 7, 1}, {'l', PHONE, 2, 0, 9, 0},	/* one day */
	{'l', ABROAD, 2, 8, 8, 1}, {'l', PHONE, 2, 8, 19, 0},
	{'l', ABROAD, 2, 9, 8, 2},	/* the roaming phone: counts */
    };
    const struct step t[] = {
	{'l', HOME, 2, 0, 7, 1}, {'l', PHONE, 2, 1, 9, 0},	/* a day each */
	{'l', ABROAD, 2, 8, 8, 1}, {'l', PHONE, 2, 8, 19, 0},
	{'l', ABROAD, 2, 9, 8, 1},	/* a home line's: replaces */
    };

    steps("wp", s, sizeof(s) / sizeof(s[0]));
    steps("wq", t, sizeof(t) / sizeof(t[0]));
}
END_TEST

/* The owner's home message later on the day a warmed network's first
 * message made it familiar takes that day back (store_user.c
 * user_home_nets): the network unfamiliar again at once, and its next
 * day replaces this one (the owner at home on it). Not so for a network
 * familiar before today, nor a day after which the owner was not at
 * home. A home message refused by the login's block (rules.c note_home)
 * does the same ('h': merged in 3374795, it moved home_seen only, and
 * the thief's network stayed familiar). */
START_TEST(test_stop_warm_late)
{
    struct step s[] = {
	{'l', HOME, 2, 0, 7, 1}, {'l', HOME, 2, 3, 7, 2},
	{'l', ABROAD, 2, 8, 8, 1},
	{'l', ABROAD, 2, 9, 8, 2},	/* the thief first: counts */
	{'l', HOME, 2, 9, 12, 0},
	{'l', ABROAD, 2, 9, 14, 1},	/* taken back */
	{'l', ABROAD, 2, 10, 8, 1},	/* replaces day 9 */
	{'l', ABROAD, 2, 12, 8, 2},	/* no home message since */
	{'l', HOME, 2, 13, 12, 0},
	{'l', ABROAD, 2, 13, 14, 3},	/* familiar since day 12: kept */
    };

    steps("wl", s, sizeof(s) / sizeof(s[0]));
    s[4].what = 'h';		/* the owner's home message refused */
    steps("wr", s, sizeof(s) / sizeof(s[0]));
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
	test_stop_note, test_stop_day_replaced, test_stop_since,
	test_stop_wrap, test_stop_home_anchor, test_stop_warm,
	test_stop_warm_phone, test_stop_warm_late, NULL
    };

    return trun("store_stopday", "ext", 20, tests);
}
