/*
 * check_store_damage - unit tests of the state file against damage that
 * must never take mail down: noise over the stripe headers (the robust
 * mutexes live there) while nobody uses the file and while another
 * process has it attached, a lock word left "held" by a thread that does
 * not exist, and a lock damaged under a running handle. The slots are
 * out of the noise's reach, so every entry must survive it.
 *
 * Each TCase gets a private temporary directory; every test runs forked
 * and names its own file in it. Helper processes are forked from the
 * (forked) test and reaped by it.
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
#include "store_debug.h"
#include "store_int.h"
#include "check_main.h"
#include "store_test.h"

#define NLOGINS	300		/* enough to touch every stripe */
#define STRIPES_BYTES (STORE_STRIPES * STORE_STRIPE_SIZE)

/* noise - fill n bytes from a seed (xorshift: reproducible) */
static void noise(unsigned char *b, size_t n, uint64_t seed)
{
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;

    for (size_t i = 0; i < n; i++) {
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	b[i] = (unsigned char) (x >> 24);
    }
}

/* scribble - noise over both tables' stripe headers of a file */
static void scribble(const char *path, uint64_t seed)
{
    unsigned char junk[STRIPES_BYTES];
    struct store_hdr h;
    int fd = open(path, O_RDWR);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pread(fd, &h, sizeof(h), 0), (ssize_t) sizeof(h));
    noise(junk, sizeof(junk), seed);
    ck_assert_int_eq(pwrite(fd, junk, sizeof(junk),
			    (off_t) h.users.stripes_off), sizeof(junk));
    noise(junk, sizeof(junk), seed + 1);
    ck_assert_int_eq(pwrite(fd, junk, sizeof(junk),
			    (off_t) h.clients.stripes_off), sizeof(junk));
    close(fd);
}

/* The logins fill() makes: "user%03d" of these numbers. The file's hash
 * key is random, so NLOGINS logins taken in a row can crowd more than a
 * stripe's cap into one stripe (about one file in 2,000 at 1024 users):
 * fill() would then evict some itself, and all_kept blame the damage. So
 * the numbers are picked under the file's key, at most cap a stripe. */
static int login_no[NLOGINS];

/* login_n - the n-th test login */
static const char *login_n(int n)
{
    static char buf[32];

    snprintf(buf, sizeof(buf), "user%03d", login_no[n]);
    return buf;
}

/* pick_logins - NLOGINS login numbers, 0 first, that st's stripes hold
 * without an eviction */
static void pick_logins(const STORE *st)
{
    unsigned per[STORE_STRIPES] = { 0 };
    int no = 0;

    for (int i = 0; i < NLOGINS; no++) {
	char key[STORE_LOGIN_MAX];
	size_t len;

	login_no[i] = no;
	if (++per[store_stripe_of(store_login_ref(st, login_n(i), key, &len))]
	    <= st->users.cap)
	    i++;
    }
}

/* fill - NLOGINS users and as many clients */
static void fill(STORE *st, uint32_t now)
{
    pick_logins(st);
    for (int i = 0; i < NLOGINS; i++) {
	char ip[32];
	struct store_client_obs co;

	snprintf(ip, sizeof(ip), "198.51.%d.%d", i / 250, 1 + i % 250);
	seen(st, login_n(i), ip, now);
	memset(&co, 0, sizeof(co));
	co.ip = ip_of(ip);
	co.msgs = 1;
	ck_assert_int_eq(store_client_update(st, &co, now, NULL), STORE_OK);
    }
}

/* all_kept - every user fill() made is still there, and the block set
 * on the first user. Users only: fill()'s client addresses are not
 * picked to fit the stripes (pick_logins), so fill() itself may evict
 * some of them, as the ordinary eviction does. */
static void all_kept(STORE *st, uint32_t now)
{
    for (int i = 0; i < NLOGINS; i++) {
	ck_assert_int_eq(store_user_get(st, login_n(i), now, &U), STORE_OK);
	ck_assert_uint_eq(U.nips, 1);
    }
    ck_assert_int_eq(store_user_get(st, login_n(0), now, &U), STORE_OK);
    ck_assert_uint_eq(U.block.until, T0 + DAY);
}

/* block_first - an admin block on the first user */
static void block_first(STORE *st)
{
    struct store_block b = { .until = T0 + DAY, .action = 3,
	.setby = STORE_BY_ADMIN, .reason = "kept?" };

    ck_assert_int_eq(store_user_block(st, login_n(0), &b, T0), STORE_OK);
}

/* all_usable - every user and client can be updated and read back */
static void all_usable(STORE *st, uint32_t now)
{
    fill(st, now);
    for (int i = 0; i < NLOGINS; i++)
	ck_assert_int_eq(store_user_get(st, login_n(i), now, &U), STORE_OK);
}

START_TEST(test_noise_at_rest)
{
    struct store_stats s;
    char name[32];
    STORE *st;

    snprintf(name, sizeof(name), "rest%d", _i);
    st = tnew(name, 1024, 4);
    fill(st, T0);
    block_first(st);
    all_kept(st, T0);		/* so what goes missing, the damage took */
    store_close(st);
    scribble(tpath(name), (uint64_t) _i);
    /* no other user: every lock is made new, every stripe checked and
     * rebuilt from its slots, which the noise did not reach */
    st = tnew(name, 1024, 4);
    all_kept(st, T0 + 1);
    all_usable(st, T0 + 1);
    store_get_stats(st, &s);
    ck_assert_uint_gt(s.stripe_resets, 0);
    for (unsigned k = 0; k < STORE_STRIPES; k++) {
	ck_assert_int_eq(store_debug_check_stripe(st, 0, k), 0);
	ck_assert_int_eq(store_debug_check_stripe(st, 1, k), 0);
    }
    store_close(st);
}
END_TEST

/* A key under which user000..user299 put 20 logins in one stripe (cap
 * 16): the numbers in a row would lose four before any damage. */
#define CROWDED_KEY_SEED 28072

START_TEST(test_crowded_key)
{
    STORE *st = tnew("crowded", 1024, 4);

    /* the handle's key only: the file is empty and never reopened */
    noise(st->key, sizeof(st->key), CROWDED_KEY_SEED);
    fill(st, T0);
    block_first(st);
    all_kept(st, T0);
    store_close(st);
}
END_TEST

START_TEST(test_noise_while_attached)
{
    struct store_stats s;
    STORE *st, *other;
    char name[32];
    pid_t pid;

    snprintf(name, sizeof(name), "live%d", _i);
    st = tnew(name, 1024, 4);
    fill(st, T0);
    block_first(st);
    all_kept(st, T0);
    pid = tholder(name, NULL, NULL);
    /* damaged under a running handle: repaired at the next lock; the
     * first operation on a stripe may fail (STORE_EFORMAT) while it is
     * rebuilt, what it held stays */
    scribble(tpath(name), 100 + (uint64_t) _i);
    for (int i = 0; i < NLOGINS; i++)
	(void) store_user_get(st, login_n(i), T0 + 1, &U);
    all_kept(st, T0 + 1);
    all_usable(st, T0 + 1);
    store_get_stats(st, &s);
    ck_assert_uint_gt(s.stripe_resets, 0);
    /* damaged again, then attached while the idler still is: the new
     * handle must not re-make locks others may hold, yet must work */
    scribble(tpath(name), 200 + (uint64_t) _i);
    other = tnew(name, 1024, 4);
    all_usable(other, T0 + 2);
    all_usable(st, T0 + 3);
    store_close(other);
    store_close(st);
    treap(pid);
}
END_TEST

/* lock_word - where a user stripe's mutex is in the file */
static off_t lock_word(const char *path, unsigned s)
{
    struct store_hdr h;
    int fd = open(path, O_RDONLY);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pread(fd, &h, sizeof(h), 0), (ssize_t) sizeof(h));
    close(fd);
    /* the stripes are an array of struct store_stripe from stripes_off */
    return (off_t) (h.users.stripes_off
		    + (uint64_t) s * sizeof(struct store_stripe)
		    + offsetof(struct store_stripe, mu));
}

/* dead_tid - a thread id that no longer exists */
static int dead_tid(void)
{
    pid_t pid = fork();

    if (pid == 0)
	_exit(0);
    ck_assert_int_gt(pid, 0);
    waitpid(pid, NULL, 0);
    return (int) pid;
}

START_TEST(test_stuck_owner)
{
    STORE *st = tnew("stuck", 1024, 4);
    unsigned s = store_debug_user_stripe(st, "victim");
    int tid = dead_tid();
    struct store_stats before, after;
    pid_t pid;
    int fd;

    seen(st, "victim", "192.0.2.1", T0);
    pid = tholder("stuck", NULL, NULL);
    /* the lock word says "held by tid", but no such thread exists and
     * the kernel never marked it dead (its robust list was lost) */
    fd = open(tpath("stuck"), O_RDWR);
    ck_assert_int_eq(pwrite(fd, &tid, sizeof(tid), lock_word(tpath("stuck"),
							      s)),
		     (ssize_t) sizeof(tid));
    close(fd);
    store_get_stats(st, &before);
    seen(st, "victim", "192.0.2.2", T0 + 1);
    ck_assert_int_eq(store_user_get(st, "victim", T0 + 1, &U), STORE_OK);
    store_get_stats(st, &after);
    ck_assert_uint_eq(after.stripe_resets, before.stripe_resets + 1);
    ck_assert_uint_eq(U.nips, 2);	/* the stripe itself was whole */
    store_close(st);
    treap(pid);
}
END_TEST

/* kind_of - the type word of a user stripe's mutex, read from the file */
static int kind_of(const char *path, unsigned s)
{
    int fd = open(path, O_RDONLY), kind = 0;

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pread(fd, &kind, sizeof(kind), lock_word(path, s)
			   + (off_t) offsetof(pthread_mutex_t,
					      __data.__kind)),
		     (ssize_t) sizeof(kind));
    close(fd);
    return kind;
}

START_TEST(test_kind_only)
{
    /* PI without robust, elision on a robust one, no type at all, all
     * bits: what glibc does with each ranges from EINVAL through an
     * assertion to a hardware-transaction instruction (SIGILL) */
    static const int kinds[] = { 0x20, 0x30, 0x190, 0x1334, 0x7f, -1 };
    struct store_stats before, after;
    char name[32];
    STORE *st;
    unsigned s;
    int good, kind = kinds[_i], fd;
    pid_t pid;

    snprintf(name, sizeof(name), "kind%d", _i);
    st = tnew(name, 1024, 4);
    s = store_debug_user_stripe(st, "victim");
    good = kind_of(tpath(name), s);
    seen(st, "victim", "192.0.2.1", T0);
    pid = tholder(name, NULL, NULL);
    fd = open(tpath(name), O_RDWR);
    ck_assert_int_eq(pwrite(fd, &kind, sizeof(kind),
			    lock_word(tpath(name), s)
			    + (off_t) offsetof(pthread_mutex_t,
					       __data.__kind)),
		     (ssize_t) sizeof(kind));
    close(fd);
    store_get_stats(st, &before);
    /* only the lock was hit: it is made new, the stripe's entries stay */
    ck_assert_int_eq(store_user_get(st, "victim", T0 + 1, &U), STORE_OK);
    ck_assert_uint_eq(U.nips, 1);
    seen(st, "victim", "192.0.2.2", T0 + 1);
    ck_assert_int_eq(kind_of(tpath(name), s), good);
    store_get_stats(st, &after);
    ck_assert_uint_eq(after.stripe_resets, before.stripe_resets + 1);
    store_close(st);
    treap(pid);
}
END_TEST

/* store_damage_suite - damaged lock words and stripe headers */
static Suite *store_damage_suite(void)
{
    Suite *s = suite_create("store_damage");
    TCase *tc;

    tc = tcase_create("locks");
    tcase_add_unchecked_fixture(tc, tdir_make, tdir_rm);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_crowded_key);
    tcase_add_loop_test(tc, test_noise_at_rest, 0, 8);
    tcase_add_loop_test(tc, test_noise_while_attached, 0, 8);
    tcase_add_test(tc, test_stuck_owner);
    tcase_add_loop_test(tc, test_kind_only, 0, 6);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(store_damage_suite());
}
