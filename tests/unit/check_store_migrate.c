/*
 * check_store_migrate - unit tests of what happens to the entries when a
 * state file is replaced: a resize (more and fewer users) carries them
 * over with blocks first, a file with an invalid header or cut short is
 * salvaged entry by entry, a file of other capacities that another process uses
 * is kept as it is (two processes must not replace each other's file),
 * and a reload in the same process (prev) still resizes. Each case checks
 * what store_open_info reports.
 *
 * Each TCase gets a private temporary directory; every test runs forked
 * and names its own file in it.
 */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store.h"
#include "store_int.h"
#include "check_main.h"
#include "store_test.h"

#define NUSERS	200
#define NBLOCKS	8

/* uname_n - the n-th test login */
static const char *uname_n(int n)
{
    static char buf[32];

    snprintf(buf, sizeof(buf), "mover%03d", n);
    return buf;
}

/* opener - store_open with capacities, flags, a clock and maybe prev */
static int opener(const char *name, uint32_t users, unsigned flags,
		  const STORE *prev, STORE **st, char *err)
{
    struct store_params p = {
	.path = tpath(name), .max_users = users, .max_clients = users,
	.ips_per_user = 4, .lock_timeout_ms = 5000, .flags = flags,
	.mode = 0600, .now = T0, .prev = prev,
    };

    return store_open(&p, st, err, ERRLEN);
}

/* populate - NUSERS users with a country, NBLOCKS of them blocked (the
 * least recently seen, so eviction would take them first), and clients;
 * files of 1024 users or more hold them all (16 a stripe) */
static void populate(STORE *st)
{
    struct store_block b = { .until = T0 + DAY, .action = 3,
	.setby = STORE_BY_ADMIN, .reason = "incident" };

    for (int i = 0; i < NUSERS; i++) {
	struct store_user_obs o = obs_make(uname_n(i), "192.0.2.7");
	struct store_client_obs co = { .ip = ip_of("198.51.100.9"),
	    .login = uname_n(i), .msgs = 1 };

	memcpy(o.geo.cc, "DE", 3);
	o.flags = STORE_OBS_LEARN;
	ck_assert_int_eq(store_user_update(st, &o, T0 - DAY + (uint32_t) i,
					   NULL), STORE_OK);
	if (i < 3) {
	    char ip[32];

	    snprintf(ip, sizeof(ip), "203.0.113.%d", i + 1);
	    co.ip = ip_of(ip);
	}
	ck_assert_int_eq(store_client_update(st, &co, T0 - DAY, NULL),
			 STORE_OK);
    }
    for (int i = 0; i < NBLOCKS; i++)
	ck_assert_int_eq(store_user_block(st, uname_n(i), &b, T0 - DAY),
			 STORE_OK);
    ck_assert_int_eq(store_client_block(st, &(struct addr) {
					    .b = {0xfe, 0x80}}, &b, T0),
		     STORE_OK);
}

/* blocks_held - how many of the NBLOCKS blocks read back, and each
 * kept its reason and the learned country */
static int blocks_held(STORE *st)
{
    int n = 0;

    for (int i = 0; i < NBLOCKS; i++)
	if (store_user_get(st, uname_n(i), T0, &U) == STORE_OK
	    && U.block.until == T0 + DAY) {
	    ck_assert_str_eq(U.block.reason, "incident");
	    ck_assert_str_eq(U.countries[0].cc, "DE");
	    n++;
	}
    return n;
}

START_TEST(test_grow)
{
    struct store_open_info info;
    struct store_stats s;
    char err[ERRLEN] = "";
    STORE *st = NULL;

    ck_assert_int_eq(opener("grow", 1024, STORE_CREATE, NULL, &st, err),
		     STORE_OK);
    populate(st);
    store_close(st);
    ck_assert_int_eq(opener("grow", 4096, STORE_CREATE | STORE_RECREATE,
			    NULL, &st, err), STORE_OK);
    store_open_info(st, &info);
    ck_assert_int_eq(info.how, STORE_OPENED_RESIZED);
    ck_assert_uint_eq(info.old_users, 1024);
    ck_assert_uint_eq(info.users.kept, NUSERS);
    ck_assert_uint_eq(info.users.lost, 0);
    ck_assert_uint_eq(info.users.blocks_kept, NBLOCKS);
    ck_assert_uint_eq(info.clients.kept, 5);
    ck_assert_uint_eq(info.clients.blocks_kept, 1);
    store_get_stats(st, &s);
    ck_assert_uint_ge(s.max_users, 4096);
    ck_assert_uint_eq(s.users, NUSERS);
    ck_assert_uint_eq(s.generation, 2);
    ck_assert_int_eq(blocks_held(st), NBLOCKS);
    for (int i = 0; i < NUSERS; i++) {
	ck_assert_int_eq(store_user_get(st, uname_n(i), T0, &U), STORE_OK);
	ck_assert_uint_eq(U.first_seen, T0 - DAY + (uint32_t) i);
	ck_assert_uint_eq(U.nips, 1);
    }
    ck_assert_int_eq(store_client_get(st, &(struct addr) {.b = {0xfe, 0x80}},
				      T0, &(struct store_client) { 0 }),
		     STORE_OK);
    store_close(st);
}
END_TEST

START_TEST(test_shrink_blocks_first)
{
    struct store_open_info info;
    char err[ERRLEN] = "";
    STORE *st = NULL;

    ck_assert_int_eq(opener("shrink", 1024, STORE_CREATE, NULL, &st, err),
		     STORE_OK);
    populate(st);
    store_close(st);
    /* 256 users: 4 slots a stripe for about 3 users a stripe, so some
     * stripes overflow; the blocked ones were seen longest ago, yet all
     * of them stay (no stripe gets 5 of the 8) */
    ck_assert_int_eq(opener("shrink", 256, STORE_RECREATE, NULL, &st, err),
		     STORE_OK);
    store_open_info(st, &info);
    ck_assert_int_eq(info.how, STORE_OPENED_RESIZED);
    ck_assert_uint_eq(info.users.kept + info.users.lost, NUSERS);
    ck_assert_uint_gt(info.users.lost, 0);
    ck_assert_uint_eq(info.users.blocks_kept, NBLOCKS);
    ck_assert_uint_eq(info.users.blocks_lost, 0);
    ck_assert_int_eq(blocks_held(st), NBLOCKS);
    store_close(st);
}
END_TEST

/* poke - overwrite bytes of a file */
static void poke(const char *path, off_t off, const void *b, size_t n)
{
    int fd = open(path, O_WRONLY);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, b, n, off), (ssize_t) n);
    close(fd);
}

START_TEST(test_salvage)
{
    struct store_open_info info;
    char err[ERRLEN] = "";
    uint64_t bad = 12345;
    STORE *st = NULL;

    ck_assert_int_eq(opener("salvage", 1024, STORE_CREATE, NULL, &st, err),
		     STORE_OK);
    populate(st);
    store_close(st);
    /* the checksum no longer matches: before, an empty file silently */
    poke(tpath("salvage"), offsetof(struct store_hdr, check), &bad,
	 sizeof(bad));
    ck_assert_int_eq(opener("salvage", 1024, STORE_RECREATE, NULL, &st, err),
		     STORE_OK);
    store_open_info(st, &info);
    ck_assert_int_eq(info.how, STORE_OPENED_REPLACED);
    ck_assert_msg(strstr(info.why, "checksum") != NULL, "why: %s",
		  info.why);
    ck_assert_int_eq(info.readable, 1);
    ck_assert_uint_eq(info.users.kept, NUSERS);
    ck_assert_uint_eq(info.users.blocks_kept, NBLOCKS);
    ck_assert_int_eq(blocks_held(st), NBLOCKS);
    store_close(st);
}
END_TEST

START_TEST(test_salvage_noise)
{
    struct store_open_info info;
    unsigned char junk[64 * 1024];
    char err[ERRLEN] = "";
    struct store_hdr h;
    STORE *st = NULL;
    uint32_t x = 2463534242u;
    int fd;

    ck_assert_int_eq(opener("noise", 1024, STORE_CREATE, NULL, &st, err),
		     STORE_OK);
    populate(st);
    store_close(st);
    fd = open(tpath("noise"), O_RDONLY);
    ck_assert_int_eq(pread(fd, &h, sizeof(h), 0), (ssize_t) sizeof(h));
    close(fd);
    for (size_t i = 0; i < sizeof(junk); i++) {
	x ^= x << 13, x ^= x >> 17, x ^= x << 5;
	junk[i] = (unsigned char) x;
    }
    /* the user stripes, the first user slots and the header checksum */
    poke(tpath("noise"), (off_t) h.users.stripes_off, junk, sizeof(junk));
    poke(tpath("noise"), offsetof(struct store_hdr, check), junk, 8);
    ck_assert_int_eq(opener("noise", 1024, STORE_RECREATE, NULL, &st, err),
		     STORE_OK);
    store_open_info(st, &info);
    ck_assert_int_eq(info.how, STORE_OPENED_REPLACED);
    ck_assert_uint_gt(info.users.kept, 0);
    ck_assert_uint_lt(info.users.kept, NUSERS);
    ck_assert_uint_eq(info.clients.kept, 5);
    /* whatever was carried reads back whole */
    for (int i = 0; i < NUSERS; i++)
	if (store_user_get(st, uname_n(i), T0, &U) == STORE_OK)
	    ck_assert_str_eq(U.login, uname_n(i));
    /* an unreadable layout: nothing carried, and it says so */
    store_close(st);
    poke(tpath("noise"), offsetof(struct store_hdr, users), junk, 32);
    ck_assert_int_eq(opener("noise", 1024, STORE_RECREATE, NULL, &st, err),
		     STORE_OK);
    store_open_info(st, &info);
    ck_assert_int_eq(info.how, STORE_OPENED_REPLACED);
    ck_assert_int_eq(info.readable, 0);
    ck_assert_uint_eq(info.users.kept, 0);
    store_close(st);
}
END_TEST

START_TEST(test_salvage_cut_short)
{
    struct store_open_info info;
    char err[ERRLEN] = "";
    struct store_hdr h;
    STORE *st = NULL;
    int fd, found = 0;

    ck_assert_int_eq(opener("cut", 1024, STORE_CREATE, NULL, &st, err),
		     STORE_OK);
    populate(st);
    store_close(st);
    fd = open(tpath("cut"), O_RDONLY);
    ck_assert_int_eq(pread(fd, &h, sizeof(h), 0), (ssize_t) sizeof(h));
    close(fd);
    /* cut in the middle of the user slots: the slots before the cut are
     * read, the clients (after it) are lost */
    ck_assert_int_eq(truncate(tpath("cut"), (off_t) (h.users.slots_off
			      + (h.users.end_off - h.users.slots_off) / 2)),
		     0);
    ck_assert_int_eq(opener("cut", 1024, STORE_RECREATE, NULL, &st, err),
		     STORE_OK);
    store_open_info(st, &info);
    ck_assert_int_eq(info.how, STORE_OPENED_REPLACED);
    ck_assert_msg(strstr(info.why, "bytes") != NULL, "why: %s", info.why);
    ck_assert_int_eq(info.readable, 1);
    ck_assert_uint_gt(info.users.kept, NUSERS / 4);
    ck_assert_uint_lt(info.users.kept, NUSERS);
    ck_assert_uint_eq(info.clients.kept, 0);
    for (int i = 0; i < NUSERS; i++)
	found += store_user_get(st, uname_n(i), T0, &U) == STORE_OK;
    ck_assert_int_eq(found, (int) info.users.kept);
    store_close(st);
}
END_TEST

START_TEST(test_other_capacities_in_use)
{
    struct store_open_info info;
    struct store_stats s;
    char err[ERRLEN] = "";
    STORE *a = NULL, *b = NULL;

    ck_assert_int_eq(opener("twice", 1024, STORE_CREATE | STORE_RECREATE,
			    NULL, &a, err), STORE_OK);
    populate(a);
    /* b is configured bigger; a uses the file: b takes it as it is */
    for (int round = 0; round < 3; round++) {
	ck_assert_int_eq(opener("twice", 4096, STORE_CREATE | STORE_RECREATE,
				NULL, &b, err), STORE_OK);
	store_open_info(b, &info);
	ck_assert_int_eq(info.how, STORE_OPENED_KEPT);
	ck_assert_uint_eq(info.old_users, 1024);
	store_get_stats(b, &s);
	ck_assert_uint_eq(s.generation, 1);
	ck_assert_uint_lt(s.max_users, 4096);
	ck_assert_int_eq(store_stale(a), 0);
	ck_assert_int_eq(blocks_held(b), NBLOCKS);
	store_close(b);
    }
    store_close(a);
}
END_TEST

START_TEST(test_reload_resizes)
{
    struct store_open_info info;
    char err[ERRLEN] = "";
    STORE *old = NULL, *fresh = NULL;

    ck_assert_int_eq(opener("reload", 1024, STORE_CREATE | STORE_RECREATE,
			    NULL, &old, err), STORE_OK);
    populate(old);
    /* the same process raises max_users (SIGUSR1): its own handle does
     * not count as another user */
    ck_assert_int_eq(opener("reload", 4096, STORE_CREATE | STORE_RECREATE,
			    old, &fresh, err), STORE_OK);
    store_open_info(fresh, &info);
    ck_assert_int_eq(info.how, STORE_OPENED_RESIZED);
    ck_assert_uint_eq(info.users.blocks_kept, NBLOCKS);
    ck_assert_int_eq(store_stale(old), 1);
    ck_assert_int_eq(blocks_held(fresh), NBLOCKS);
    store_close(old);
    store_close(fresh);
}
END_TEST

/* learn_spare - a login with every spare value of format 7 learned: the
 * usual day (aux of nets[0..1]), the usual coarse hour and the day it
 * rose (nets[2..3]), the home place's time (nets[4..7]), an address */
static void learn_spare(STORE *st, const char *login)
{
    struct store_user_obs o = obs_make(login, "198.51.100.40");

    o.geo.asn = 64500;
    memcpy(o.geo.cc, "FR", 3);
    o.msgs = 30;
    o.flags = STORE_OBS_LEARN | STORE_OBS_LEARN_VOLUME;
    ck_assert_int_eq(store_user_update(st, &o, T0 - HOUR, NULL), STORE_OK);
    ck_assert_int_eq(store_user_coarse_learn(st, login, 9, true, T0 - HOUR),
		     STORE_OK);
    /* after learning: one up, and the day it rose kept */
    ck_assert_int_eq(store_user_coarse_learn(st, login, 20, false,
					     T0 - HOUR), STORE_OK);
    o.msgs = 1;
    o.flags = STORE_OBS_COUNT_ONLY | STORE_OBS_LEARN | STORE_OBS_HOME;
    ck_assert_int_eq(store_user_update(st, &o, T0 - 60, &U), STORE_OK);
    ck_assert_uint_eq(U.usual_day, 30);
    ck_assert_uint_eq(U.usual_coarse, 10);
    ck_assert_uint_eq(U.coarse_day, (uint8_t) ((T0 - HOUR) / DAY));
    ck_assert_uint_eq(U.home_seen, T0 - 60);
}

/* to_format7 - rewrite a file of this format with 4 IPs a user as the
 * same entries in format 7: every user slot loses its ext bytes (the
 * bytes after them move down, store_int.h), the header says version 7
 * with format 7's ABI word and a new checksum. With 4 IPs a user both
 * formats' slots are 768 bytes, so the geometry stays. */
static void to_format7(const char *path)
{
    static const uint8_t zero_key[STORE_KEY_LEN];
    size_t at = offsetof(struct store_urec, ext);
    unsigned char slot[STORE_SLOT_MAX];
    struct store_hdr h;
    int fd = open(path, O_RDWR);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pread(fd, &h, sizeof(h), 0), (ssize_t) sizeof(h));
    ck_assert_uint_eq(h.version, 8);
    ck_assert_uint_eq(h.users.stride, store_user_stride_of(7, 4));
    for (uint64_t off = h.users.slots_off; off < h.users.end_off;
	 off += h.users.stride) {
	ck_assert_int_eq(pread(fd, slot, h.users.stride, (off_t) off),
			 (ssize_t) h.users.stride);
	memmove(slot + at, slot + at + STORE_EXT_LEN,
		h.users.stride - at - STORE_EXT_LEN);
	memset(slot + h.users.stride - STORE_EXT_LEN, 0, STORE_EXT_LEN);
	ck_assert_int_eq(pwrite(fd, slot, h.users.stride, (off_t) off),
			 (ssize_t) h.users.stride);
    }
    h.version = 7;
    h.abi = store_abi_of(7);
    h.check = store_siphash(zero_key, &h, offsetof(struct store_hdr, check));
    ck_assert_int_eq(pwrite(fd, &h, sizeof(h), 0), (ssize_t) sizeof(h));
    close(fd);
}

/* A state file of format 7 (before ext) is carried into format 8 on
 * open with STORE_RECREATE: every entry, every block, and each login's
 * spare values in the aux bytes of its networks (usual day, usual coarse
 * hour, home place's time), its addresses; ext reads zeros. Format 7's
 * ABI word and slot size are pinned to what a build of e48cf01 (format
 * 7) computes on x86_64 with glibc, so a wrong description of format 7
 * here cannot agree with itself. */
START_TEST(test_from_format7)
{
    struct store_open_info info;
    char err[ERRLEN] = "";
    STORE *st = NULL;
    static const uint8_t zero[STORE_EXT_LEN];

#if defined(__x86_64__) && defined(__GLIBC__)
    ck_assert_uint_eq(store_abi_of(7), 0x81797742u);
    ck_assert_uint_eq(store_user_stride_of(7, 16), 1216);
    ck_assert_uint_eq(store_user_stride_of(7, 4), 768);
#endif
    ck_assert_int_eq(opener("v7", 1024, STORE_CREATE, NULL, &st, err),
		     STORE_OK);
    populate(st);
    learn_spare(st, "carla");
    store_close(st);
    to_format7(tpath("v7"));
    /* without RECREATE: refused, as any other format */
    ck_assert_int_eq(opener("v7", 1024, STORE_CREATE, NULL, &st, err),
		     STORE_EFORMAT);
    ck_assert_msg(strstr(err, "format version 7") != NULL, "err: %s", err);
    ck_assert_int_eq(opener("v7", 1024, STORE_RECREATE, NULL, &st, err),
		     STORE_OK);
    store_open_info(st, &info);
    ck_assert_int_eq(info.how, STORE_OPENED_REPLACED);
    ck_assert_msg(strstr(info.why, "format version 7") != NULL, "why: %s",
		  info.why);
    ck_assert_int_eq(info.readable, 1);
    ck_assert_uint_eq(info.users.kept, NUSERS + 1);
    ck_assert_uint_eq(info.users.lost, 0);
    ck_assert_uint_eq(info.clients.kept, 5);
    ck_assert_uint_eq(info.users.blocks_kept, NBLOCKS);
    ck_assert_int_eq(blocks_held(st), NBLOCKS);
    ck_assert_int_eq(store_user_get(st, "carla", T0, &U), STORE_OK);
    ck_assert_uint_eq(U.usual_day, 30);
    ck_assert_uint_eq(U.usual_coarse, 10);
    ck_assert_uint_eq(U.coarse_day, (uint8_t) ((T0 - HOUR) / DAY));
    ck_assert_uint_eq(U.home_seen, T0 - 60);
    ck_assert_uint_eq(U.usual_msgs, 30);
    ck_assert_uint_eq(U.nets[0].key, 64500);
    ck_assert_str_eq(U.countries[0].cc, "FR");
    ck_assert_uint_eq(U.nips, 1);
    {
	struct addr ip = ip_of("198.51.100.40");

	ck_assert(addr_equal(&U.ips[0].ip, &ip));
    }
    ck_assert_uint_eq(U.ips[0].count, 1);
    ck_assert_uint_eq(U.ips[0].asn, 64500);
    ck_assert_mem_eq(U.ext, zero, STORE_EXT_LEN);
    store_close(st);
    /* the new file is of this format: it attaches as it is */
    ck_assert_int_eq(opener("v7", 1024, 0, NULL, &st, err), STORE_OK);
    store_open_info(st, &info);
    ck_assert_int_eq(info.how, STORE_OPENED_ATTACHED);
    ck_assert_int_eq(store_user_get(st, "carla", T0, &U), STORE_OK);
    ck_assert_uint_eq(U.home_seen, T0 - 60);
    store_close(st);
}
END_TEST

/* store_migrate_suite - resizes, salvages, and who may replace a file */
static Suite *store_migrate_suite(void)
{
    Suite *s = suite_create("store_migrate");
    TCase *tc = tcase_create("replace");

    tcase_add_unchecked_fixture(tc, tdir_make, tdir_rm);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_grow);
    tcase_add_test(tc, test_shrink_blocks_first);
    tcase_add_test(tc, test_salvage);
    tcase_add_test(tc, test_salvage_noise);
    tcase_add_test(tc, test_salvage_cut_short);
    tcase_add_test(tc, test_other_capacities_in_use);
    tcase_add_test(tc, test_reload_resizes);
    tcase_add_test(tc, test_from_format7);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(store_migrate_suite());
}
