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
 * through does not carry the baseline up with him.
 */
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

/* store_user_coarse_learn - an accepted message from a coarse address of
 * the login's own network: count (messages from such addresses in the
 * last hour, this one included) may raise its usual coarse hour */
int store_user_coarse_learn(STORE *st, const char *login, uint32_t count,
			    bool learning, uint32_t now)
{
    char key[STORE_LOGIN_MAX];
    size_t len;
    uint64_t h;
    uint32_t idx;
    unsigned s;
    int rc;

    if (st == NULL || login == NULL || (st->flags & STORE_READONLY))
	return STORE_EARG;
    h = store_login_ref(st, login, key, &len);
    if (len == 0)
	return STORE_EARG;
    s = store_stripe_of(h);
    if ((rc = store_entry_lock(st, &st->users, h, key, 0, now, &idx))
	!= STORE_OK)
	return rc;
    coarse_raise(store_slot(&st->users, s, idx), count, learning, now);
    store_unlock(&st->users, s);
    return STORE_OK;
}
