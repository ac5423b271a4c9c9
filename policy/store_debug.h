/*
 * store_debug - test-only hooks into the store: hold a stripe lock (to be
 * killed holding it), damage a stripe, find which stripe and home slot a
 * key uses.
 * Never used by the programs.
 */
#ifndef RG_STORE_DEBUG_H
#define RG_STORE_DEBUG_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define STORE_DEBUG_USERS	0
#define STORE_DEBUG_CLIENTS	1

int store_debug_lock_stripe(STORE *st, int table, unsigned stripe);
void store_debug_unlock_stripe(STORE *st, int table, unsigned stripe);
void store_debug_break_stripe(STORE *st, int table, unsigned stripe);
int store_debug_check_stripe(STORE *st, int table, unsigned stripe);
unsigned store_debug_user_stripe(const STORE *st, const char *login);
uint32_t store_debug_user_home(const STORE *st, const char *login);
unsigned store_debug_client_stripe(const STORE *st, const struct addr *ip);
uint64_t store_debug_siphash(const uint8_t key[16], const void *data,
			     size_t len);
uint64_t store_debug_siphash24(const uint8_t key[16], const void *data,
			       size_t len);
uint64_t store_debug_login_ref(const STORE *st, const char *login,
			       char out[STORE_LOGIN_MAX]);
uint64_t store_debug_login_hash(const STORE *st, const char *login,
				char out[STORE_LOGIN_MAX]);

#endif
