/*
 * store_debug - test-only hooks (store_debug.h): they let the unit tests
 * kill a process that holds a stripe lock, damage a stripe's lists, and
 * aim keys at one stripe. Thread-safe as the store is; never logs.
 */
#include <string.h>

#include "store_debug.h"
#include "store_int.h"

#define BROKEN_LINK UINT32_MAX	/* far outside any stripe */

/* debug_tab - the table a hook names */
static struct store_tab *debug_tab(STORE *st, int table)
{
    return table == STORE_DEBUG_CLIENTS ? &st->clients : &st->users;
}

/* store_debug_lock_stripe - take a stripe lock and keep it */
int store_debug_lock_stripe(STORE *st, int table, unsigned stripe)
{
    return store_lock(st, debug_tab(st, table), stripe % STORE_STRIPES);
}

/* store_debug_unlock_stripe - release a lock taken by the hook above */
void store_debug_unlock_stripe(STORE *st, int table, unsigned stripe)
{
    store_unlock(debug_tab(st, table), stripe % STORE_STRIPES);
}

/* store_debug_break_stripe - point a stripe's links out of range */
void store_debug_break_stripe(STORE *st, int table, unsigned stripe)
{
    struct store_tab *t = debug_tab(st, table);

    stripe %= STORE_STRIPES;
    for (uint32_t i = 1; i <= t->stripes[stripe].high && i <= t->cap; i++)
	((struct store_link *) store_slot(t, stripe, i))->bhead = BROKEN_LINK;
    t->stripes[stripe].hand = BROKEN_LINK;
}

/* store_debug_check_stripe - 0 if a stripe's lists are whole */
int store_debug_check_stripe(STORE *st, int table, unsigned stripe)
{
    struct store_tab *t = debug_tab(st, table);
    int rc;

    stripe %= STORE_STRIPES;
    if ((rc = store_lock(st, t, stripe)) != STORE_OK)
	return rc;
    rc = store_stripe_check(st, t, stripe);
    store_unlock(t, stripe);
    return rc;
}

/* store_debug_user_stripe - the stripe a login lands in */
unsigned store_debug_user_stripe(const STORE *st, const char *login)
{
    char key[STORE_LOGIN_MAX];
    size_t len;

    return store_stripe_of(store_login_ref(st, login, key, &len));
}

/* store_debug_user_home - the home slot of a login in its stripe */
uint32_t store_debug_user_home(const STORE *st, const char *login)
{
    char key[STORE_LOGIN_MAX];
    size_t len;

    return store_home(&st->users, store_login_ref(st, login, key, &len));
}

/* store_debug_client_stripe - the stripe an address lands in */
unsigned store_debug_client_stripe(const STORE *st, const struct addr *ip)
{
    return store_stripe_of(store_hash_addr(st, ip));
}

/* store_debug_siphash - the store's raw keyed hash (SipHash-1-3) */
uint64_t store_debug_siphash(const uint8_t key[16], const void *data,
			     size_t len)
{
    return store_siphash(key, data, len);
}

/* store_debug_siphash24 - SipHash-2-4 on the same rounds, for the
 * reference vectors */
uint64_t store_debug_siphash24(const uint8_t key[16], const void *data,
			       size_t len)
{
    return store_siphash24(key, data, len);
}

/* store_debug_login_ref - the one-pass normalise-and-hash of a login */
uint64_t store_debug_login_ref(const STORE *st, const char *login,
			       char out[STORE_LOGIN_MAX])
{
    size_t len;

    return store_login_ref(st, login, out, &len);
}

/* store_debug_login_hash - the same in two steps, to compare */
uint64_t store_debug_login_hash(const STORE *st, const char *login,
				char out[STORE_LOGIN_MAX])
{
    size_t len = store_login_key(st, login, out);

    return store_siphash(st->key, out, len);
}
