/*
 * check_store_wrap - unit tests of the day bytes across their wrap
 * (store_wrap.c): a login's stored values that keep a day by the low
 * byte of its number (the prior recipients hour, the prior busiest day,
 * the network taken up again, the usual coarse hour's day) and the
 * refusal count's minute. A login seen on day D and again on day D + 256
 * (the same low byte) reads nothing of day D as today's.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "store.h"
#include "store_int.h"
#include "check_main.h"
#include "store_test.h"

#define WRAP (256 * DAY)	/* a day byte comes round */
#define VN_ASN 64502u		/* a family's ISP abroad */
#define DE_ASN 64498u		/* the home line's */

/* at - an observation of login from ip at t with msgs and rcpts and
 * flags; the copy in U */
static void at(STORE *st, const char *login, const char *ip, uint32_t msgs,
	       uint32_t rcpts, unsigned flags, uint32_t t)
{
    struct store_user_obs o = obs_make(login, ip);

    o.geo.asn = 64500;
    o.msgs = msgs;
    o.rcpts = rcpts;
    o.flags = flags;
    ck_assert_int_eq(store_user_update(st, &o, t, &U), STORE_OK);
}

/* learn - a message of rcpts recipients let through from a familiar
 * place at t */
static void learn(STORE *st, const char *login, uint32_t rcpts, uint32_t t)
{
    at(st, login, "198.51.100.22", 1, rcpts,
       STORE_OBS_LEARN | STORE_OBS_LEARN_VOLUME, t);
}

/* The prior recipients hour (store_prior.c): kept on day D (2, before
 * the day raised the hour to 5), the login back on day D + 256 reads its
 * usual hour as it stands (5), not day D's kept one. */
START_TEST(test_prior_rcpts_wrap)
{
    STORE *st = tnew("wprior", 1000, 16);
    uint32_t d = T0 + 3 * DAY;

    learn(st, "ann", 2, d - DAY);
    learn(st, "ann", 5, d);
    ck_assert_uint_eq(U.usual_rcpts, 5);
    ck_assert_uint_eq(store_user_prior_rcpts(&U, d), 2);
    at(st, "ann", "198.51.100.22", 0, 0, 0, d + WRAP);	/* MAIL */
    ck_assert_uint_eq(store_user_prior_rcpts(&U, d + WRAP), 5);
    /* the day's first raise keeps the hour it began with */
    learn(st, "ann", 9, d + WRAP + 60);
    ck_assert_uint_eq(U.usual_rcpts, 9);
    ck_assert_uint_eq(store_user_prior_rcpts(&U, d + WRAP + 60), 5);
    store_close(st);
}
END_TEST

/* Read on a copy taken before the login came back (no observation on
 * day D + 256 yet: relayguardctl show, a session from before midnight):
 * day D's kept hour is not today's either. */
START_TEST(test_prior_rcpts_copy)
{
    STORE *st = tnew("wpriorc", 1000, 16);
    uint32_t d = T0 + 3 * DAY;

    learn(st, "ann", 2, d - DAY);
    learn(st, "ann", 5, d);
    ck_assert_int_eq(store_user_get(st, "ann", d + WRAP, &U), STORE_OK);
    ck_assert_uint_eq(store_user_prior_rcpts(&U, d + WRAP), 5);
    store_close(st);
}
END_TEST

/* The prior busiest day (store_prior_day.c): day D kept 3 and rose to
 * 20; on day D + 256 it stands at 20. */
START_TEST(test_prior_day_wrap)
{
    STORE *st = tnew("wpday", 1000, 16);
    uint32_t d = T0 + 3 * DAY;

    for (int i = 0; i < 3; i++)
	learn(st, "vic", 1, d - 2 * DAY + 60 * i);
    for (int i = 0; i < 20; i++)
	learn(st, "vic", 1, d + 60 * i);
    ck_assert_uint_eq(U.usual_day, 20);
    ck_assert_uint_eq(store_user_prior_day(&U, d + 3600), 3);
    at(st, "vic", "198.51.100.22", 0, 0, 0, d + WRAP);
    ck_assert_uint_eq(store_user_prior_day(&U, d + WRAP), 20);
    store_close(st);
}
END_TEST

/* let_through - a message of lan's from a line (20 km) in cc, AS asn,
 * let through at t */
static void let_through(STORE *st, const char *ip, const char *cc,
			uint32_t asn, uint32_t t)
{
    struct store_user_obs o = obs_make("lan", ip);

    obs_geo(&o, cc, asn, 5000, 1000, 20);
    o.line_km = 100;
    o.msgs = 1;
    o.flags = STORE_OBS_LEARN;
    ck_assert_int_eq(store_user_update(st, &o, t, &U), STORE_OK);
}

/* The network taken up again (store_revisit.c): noted on day D, the
 * same network on day D + 256 with no other country since the day
 * before is no revisit. */
START_TEST(test_revisit_wrap)
{
    STORE *st = tnew("wrevisit", 1000, 16);
    struct addr a = ip_of("198.18.7.90");
    uint64_t vn = store_net_key(&a, VN_ASN);
    uint32_t d = T0 + 6 * DAY;

    let_through(st, "198.18.7.90", "VN", VN_ASN, T0 + 3600);
    let_through(st, "198.18.3.90", "DE", DE_ASN, d + 3600);
    let_through(st, "198.18.7.91", "VN", VN_ASN, d + 7200);
    ck_assert(store_user_revisited(&U, vn, d + 7200));
    let_through(st, "198.18.7.91", "VN", VN_ASN, d + WRAP + 3600);
    ck_assert(!store_user_revisited(&U, vn, d + WRAP + 3600));
    store_close(st);
}
END_TEST

/* The usual coarse hour's day (store_carrier.c): past learning it rises
 * by one a day; it rose on day D, and on day D + 256 it rises again. */
START_TEST(test_coarse_wrap)
{
    STORE *st = tnew("wcoarse", 1000, 16);
    uint32_t d = T0 + 4 * DAY;

    at(st, "cal", "198.51.100.22", 0, 0, 0, T0);
    ck_assert_int_eq(store_user_coarse_learn(st, "cal", 5, true, T0),
		     STORE_OK);
    at(st, "cal", "198.51.100.22", 0, 0, 0, d);
    ck_assert_int_eq(store_user_coarse_learn(st, "cal", 9, false, d),
		     STORE_OK);
    ck_assert_int_eq(store_user_coarse_learn(st, "cal", 9, false, d + 60),
		     STORE_OK);
    ck_assert_int_eq(store_user_get(st, "cal", d + 60, &U), STORE_OK);
    ck_assert_uint_eq(U.usual_coarse, 6);	/* one a day */
    at(st, "cal", "198.51.100.22", 0, 0, 0, d + WRAP);
    ck_assert_int_eq(store_user_coarse_learn(st, "cal", 9, false, d + WRAP),
		     STORE_OK);
    ck_assert_int_eq(store_user_get(st, "cal", d + WRAP, &U), STORE_OK);
    ck_assert_uint_eq(U.usual_coarse, 7);
    store_close(st);
}
END_TEST

/* strike - rule 7 (block_for a day, block_after 3) refused login at t:
 * the count, this refusal included; the first one's minute in *first */
static unsigned strike(STORE *st, const char *login, uint32_t t,
		       uint32_t *first)
{
    uint32_t f;
    unsigned n;

    ck_assert_int_eq(store_user_strike(st, login, 7, DAY, 3, t, &n,
				       first != NULL ? first : &f), STORE_OK);
    return n;
}

/* The refusal count (store_strikes.c) keeps its first refusal's minute
 * by its low 16 bits, which come round every 65536 minutes (45.5 days):
 * two refusals, then the login back exactly that long after, counts
 * afresh. */
START_TEST(test_strikes_wrap)
{
    STORE *st = tnew("wstrike", 1000, 16);
    uint32_t t = T0 + 3 * DAY, back = t + 65536u * STORE_STRIKE_MIN_S, first;

    at(st, "sam", "198.51.100.22", 1, 1, 0, t);
    ck_assert_uint_eq(strike(st, "sam", t, NULL), 1);
    ck_assert_uint_eq(strike(st, "sam", t + 60, NULL), 2);
    at(st, "sam", "198.51.100.22", 1, 1, 0, back);
    ck_assert_uint_eq(store_user_strikes(&U, 7, DAY, back), 0);
    ck_assert_uint_eq(strike(st, "sam", back, &first), 1);
    ck_assert_uint_eq(first, back - back % STORE_STRIKE_MIN_S);
    store_close(st);
}
END_TEST

/* ... and a login that goes on mailing (seen every 20 days, no gap
 * long enough to clear the count by itself): refused once, then again
 * by the same rule exactly 65536 minutes later, counts afresh, not 2
 * (the block of block_after 2 one refusal early). */
START_TEST(test_strikes_wrap_active)
{
    STORE *st = tnew("wstrikea", 1000, 16);
    uint32_t t = T0 + 3 * DAY, back = t + 65536u * STORE_STRIKE_MIN_S;

    at(st, "sal", "198.51.100.22", 1, 1, 0, t);
    ck_assert_uint_eq(strike(st, "sal", t, NULL), 1);
    for (uint32_t s = t + 20 * DAY; s < back; s += 20 * DAY) {
	at(st, "sal", "198.51.100.22", 1, 1, 0, s);
	ck_assert_uint_eq(store_user_strikes(&U, 7, DAY, s), 0);
    }
    at(st, "sal", "198.51.100.22", 1, 1, 0, back);
    ck_assert_uint_eq(store_user_strikes(&U, 7, DAY, back), 0);
    ck_assert_uint_eq(strike(st, "sal", back, NULL), 1);
    store_close(st);
}
END_TEST

/* bulk_back - a bulk message of login let through, the login seen every
 * step seconds after (0: never), then 65536 hours (7.5 years) on: does
 * the bulk message's hour count in that hour's window? */
static bool bulk_back(const char *login, uint32_t step)
{
    STORE *st = tnew(login, 1000, 16);
    uint32_t t = T0 + 3 * DAY + 600, back = t + 65536u * HOUR;
    bool in;

    at(st, login, "198.51.100.22", 1, 40, 0, t);
    at(st, login, "198.51.100.22", 0, 0,
       STORE_OBS_COUNT_ONLY | STORE_OBS_LEARN | STORE_OBS_BULK, t);
    ck_assert(store_bulk_within(store_user_bulk_hour(&U), HOUR, t + 60));
    for (uint32_t s = t + step; step != 0 && s < back; s += step)
	at(st, login, "198.51.100.22", 1, 1, 0, s);
    at(st, login, "198.51.100.22", 1, 1, 0, back);
    in = store_bulk_within(store_user_bulk_hour(&U), HOUR, back);
    store_close(st);
    return in;
}

/* The hour of the last bulk message (store_bulk.c) keeps 16 bits of
 * the hour's number: a login back exactly 65536 hours (7.5 years) later
 * has no bulk hour in its window. */
START_TEST(test_bulk_wrap)
{
    ck_assert(!bulk_back("bea", 0));
}
END_TEST

/* ... and a login that goes on mailing (every 20 hours, no gap long
 * enough to clear the note by itself): its bulk message's hour does not
 * come back into the window 65536 hours later. */
START_TEST(test_bulk_wrap_active)
{
    ck_assert_msg(!bulk_back("bel", 20 * HOUR),
		  "the bulk hour of 65536 hours ago counts again");
}
END_TEST

/* A snapshot restored 256 days after it was written (a state file made
 * anew then: the entry is last seen at the restore): its prior
 * recipients hour, kept on its last day, is not today's. */
START_TEST(test_restore_prior_wrap)
{
    STORE *st = tnew("wrestp", 1000, 16);
    uint32_t d = T0 + 3 * DAY + HOUR;
    struct store_user u;

    memset(&u, 0, sizeof(u));
    strcpy(u.login, "ann");
    u.first_seen = T0;
    u.last_seen = d;
    u.usual_msgs = 2;
    u.usual_rcpts = 5;
    u.ext[STORE_EXT_PRIOR_RCPTS] = 2;
    u.ext[STORE_EXT_PRIOR_DAY] = (uint8_t) (d / DAY & 0xff);
    ck_assert_int_eq(store_user_restore(st, &u, d + WRAP), STORE_OK);
    ck_assert_int_eq(store_user_get(st, "ann", d + WRAP, &U), STORE_OK);
    ck_assert_uint_eq(U.usual_rcpts, 5);
    ck_assert_uint_eq(store_user_prior_rcpts(&U, d + WRAP), 5);
    store_close(st);
}
END_TEST

/* ... and its webmail counters (store_relay.c: the half hour's byte
 * comes round every 128 hours), restored that long after: not the
 * current half hour's, and that day's busiest hour is part of the
 * usual. */
START_TEST(test_restore_relay_wrap)
{
    STORE *st = tnew("wrestr", 1000, 16);
    uint32_t t = T0 + 3 * DAY + HOUR, later = t + 256 * 1800;
    struct store_user u;

    memset(&u, 0, sizeof(u));
    strcpy(u.login, "dan");
    u.first_seen = T0;
    u.last_seen = t;
    u.ext[STORE_EXT_RELAY_SLOT] = (uint8_t) (t / 1800 & 0xff);
    u.ext[STORE_EXT_RELAY_NOW] = 6;
    u.ext[STORE_EXT_RELAY_DAY_MAX] = 6;	/* that day's busiest hour */
    ck_assert_int_eq(store_user_restore(st, &u, later), STORE_OK);
    ck_assert_int_eq(store_user_get(st, "dan", later, &U), STORE_OK);
    ck_assert_uint_eq(store_user_relayed_hour(&U, later), 0);
    ck_assert_uint_eq(store_user_relayed_usual(&U, later), 6);
    store_close(st);
}
END_TEST

/* The pool's addresses a login's list dropped (store_carrier.c, ext[31])
 * are counted by half hour of its last_seen: a snapshot's counts,
 * restored into an entry last seen later, move on from the snapshot's
 * last_seen (the next half hour keeps the current count as the one
 * before; an hour on, none is left), so a restore does not make an old
 * half hour's count the current one's. */
START_TEST(test_restore_gone_wrap)
{
    STORE *st = tnew("wgone", 1000, 16);
    uint32_t t = T0 + 3 * DAY + HOUR + 60;
    struct store_user u;

    memset(&u, 0, sizeof(u));
    strcpy(u.login, "gus");
    u.first_seen = T0;
    u.last_seen = t;
    u.ext[STORE_EXT_COARSE_GONE] = 0x35;	/* 3 the half hour before, 5 now */
    ck_assert_int_eq(store_user_restore(st, &u, t + 1800), STORE_OK);
    ck_assert_int_eq(store_user_get(st, "gus", t + 1800, &U), STORE_OK);
    ck_assert_uint_eq(U.ext[STORE_EXT_COARSE_GONE], 0x50);
    ck_assert_uint_eq(store_user_coarse_gone(&U, t + 1800), 5);
    strcpy(u.login, "gil");
    ck_assert_int_eq(store_user_restore(st, &u, t + HOUR), STORE_OK);
    ck_assert_int_eq(store_user_get(st, "gil", t + HOUR, &U), STORE_OK);
    ck_assert_uint_eq(store_user_coarse_gone(&U, t + HOUR), 0);
    store_close(st);
}
END_TEST

/* tag0_key - the key of ip's network on an AS number (*asn) whose
 * revisit byte (store_revisit.c) is 0, as a new login's zeros read */
static uint64_t tag0_key(const char *ip, uint32_t *asn)
{
    struct addr a = ip_of(ip);

    for (*asn = 64500; *asn < 64500 + 100000; (*asn)++) {
	uint64_t k = store_net_key(&a, *asn), x = k ^ k >> 32;

	x ^= x >> 16;
	if (((x ^ x >> 8) & 0xff) == 0)
	    return k;
    }
    ck_abort_msg("no AS number with a revisit byte 0");
    return 0;
}

/* A login first seen on a day whose low byte is 0 has zeros there:
 * they are not a note of today (a network whose key's byte is 0 read as
 * taken up again). */
START_TEST(test_new_login_day0)
{
    STORE *st = tnew("wday0", 1000, 16);
    uint32_t z = (T0 / DAY + 255) / 256 * 256 * DAY;	/* a day ...00 */
    uint32_t asn;
    uint64_t key = tag0_key("198.18.7.90", &asn);

    let_through(st, "198.18.7.90", "VN", asn, z + 3600);
    ck_assert(!store_user_revisited(&U, key, z + 3600));
    store_close(st);
}
END_TEST

/* ... and so is one made by a count (store_user_count: its entry gone
 * between MAIL and RCPT, evicted or reset), on a day ...00. */
START_TEST(test_count_login_day0)
{
    STORE *st = tnew("wcount0", 1000, 16);
    uint32_t z = (T0 / DAY + 255) / 256 * 256 * DAY + 3600;
    const struct store_span one = {z, 0, 1, 0};
    struct store_held held;
    uint32_t asn;
    uint64_t key = tag0_key("198.18.7.90", &asn);

    memset(&held, 0, sizeof(held));
    ck_assert_int_eq(store_user_count(st, "neo", &one, z, &held, NULL),
		     STORE_OK);
    ck_assert_int_eq(store_user_get(st, "neo", z, &U), STORE_OK);
    ck_assert_uint_eq(U.first_seen, z);
    ck_assert(!store_user_revisited(&U, key, z));
    store_close(st);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
	test_prior_rcpts_wrap, test_prior_rcpts_copy, test_prior_day_wrap,
	test_revisit_wrap, test_coarse_wrap, test_strikes_wrap,
	test_strikes_wrap_active,
	test_bulk_wrap, test_bulk_wrap_active, test_restore_prior_wrap, test_restore_relay_wrap,
	test_restore_gone_wrap, test_new_login_day0, test_count_login_day0, NULL
    };

    return trun("store_wrap", "wrap", 20, tests);
}
