/*
 * check_store_shm - unit tests of the state store's shared file: header
 * validation (damaged, truncated and random headers), recreation,
 * parameters and read-only handles, several writer processes at once,
 * recovery from a lock holder that died (with and without broken lists,
 * which are rebuilt from the slots), bounded lock waits, damage found
 * mid-operation, racing recreations and a file from before a reboot.
 *
 * The tables' behaviour is tested by check_store.c; the helpers both use
 * are in store_test.h. Each TCase gets a private temporary directory;
 * every test runs forked and names its own file in it. Helper processes
 * are forked from the (forked) test and reaped by it.
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
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "store_debug.h"
#include "store_int.h"
#include "check_main.h"
#include "store_test.h"

#define NWRITERS 6
#define NWRITES	3000
#define NKEYS	8

/* make_file - a valid file, closed again; returns its path */
static const char *make_file(const char *name)
{
    STORE *st = tnew(name, 512, 4);

    seen(st, "keeper", "192.0.2.1", T0);
    store_close(st);
    return tpath(name);
}

/* poke - overwrite bytes of a file */
static void poke(const char *path, off_t off, const void *b, size_t n)
{
    int fd = open(path, O_WRONLY);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, b, n, off), (ssize_t) n);
    close(fd);
}

/* expect_bad - opening must fail with EFORMAT and say why */
static void expect_bad(const char *name, const char *why)
{
    char err[ERRLEN] = "";
    STORE *st = NULL;

    ck_assert_int_eq(topen(name, 0, 0, 0, &st, err), STORE_EFORMAT);
    ck_assert_ptr_null(st);
    ck_assert_msg(strstr(err, why) != NULL, "error \"%s\" lacks \"%s\"", err,
		  why);
}

/* Counters past the header's array (a rule past the 32nd) live in the
 * header page's spare bytes: a file written without them reads 0 there
 * and opens as before; they are read back through a read-only handle,
 * and bytes poked there as a build that counted them would leave them
 * change neither the header's check nor the first 64 counters. */
START_TEST(test_counters_spare_bytes)
{
    char err[ERRLEN] = "";
    const char *path = make_file("spare");
    uint64_t v = 41, got;
    STORE *rw, *ro;
    int fd;

    ck_assert_int_eq(topen("spare", 0, 0, 0, &rw, err), STORE_OK);
    ck_assert_uint_eq(store_counter_get(rw, STORE_HDR_COUNTERS), 0);
    ck_assert_uint_eq(store_counter_get(rw, STORE_NCOUNTERS - 1), 0);
    ck_assert_int_eq(store_counter_add(rw, STORE_HDR_COUNTERS - 1, 2),
		     STORE_OK);
    ck_assert_int_eq(store_counter_add(rw, STORE_HDR_COUNTERS, 3), STORE_OK);
    ck_assert_int_eq(store_counter_add(rw, STORE_NCOUNTERS - 1, 5), STORE_OK);
    ck_assert_int_eq(store_counter_add(rw, STORE_NCOUNTERS, 1), STORE_EARG);
    ck_assert_uint_eq(store_counter_get(rw, STORE_HDR_COUNTERS - 1), 2);
    ck_assert_uint_eq(store_counter_get(rw, STORE_HDR_COUNTERS), 3);
    store_close(rw);
    /* in the file: the spare bytes, not the array */
    fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pread(fd, &got, sizeof(got), STORE_MORE_OFF),
		     (ssize_t) sizeof(got));
    ck_assert_uint_eq(got, 3);
    ck_assert_int_eq(pread(fd, &got, sizeof(got), STORE_MORE_OFF
			   + (STORE_NCOUNTERS - STORE_HDR_COUNTERS - 1) * 8),
		     (ssize_t) sizeof(got));
    ck_assert_uint_eq(got, 5);
    close(fd);
    poke(path, STORE_MORE_OFF + 8, &v, sizeof(v));
    ck_assert_int_eq(topen("spare", 0, 0, STORE_READONLY, &ro, err),
		     STORE_OK);
    ck_assert_uint_eq(store_counter_get(ro, STORE_HDR_COUNTERS - 1), 2);
    ck_assert_uint_eq(store_counter_get(ro, STORE_HDR_COUNTERS), 3);
    ck_assert_uint_eq(store_counter_get(ro, STORE_HDR_COUNTERS + 1), 41);
    ck_assert_uint_eq(store_counter_get(ro, STORE_NCOUNTERS - 1), 5);
    ck_assert_uint_eq(store_counter_get(ro, STORE_NCOUNTERS), 0);
    store_close(ro);
    ck_assert_int_eq(topen("spare", 0, 0, 0, &rw, err), STORE_OK);
    ck_assert_uint_eq(store_counter_get(rw, STORE_HDR_COUNTERS + 1), 41);
    store_close(rw);
}
END_TEST

START_TEST(test_header_damage)
{
    const struct {
	const char *name;
	size_t off;
	uint32_t value;
	const char *why;
    } c[] = {
	{"magic", offsetof(struct store_hdr, magic), 0x46464947, "magic"},
	{"version", offsetof(struct store_hdr, version), 99, "version 99"},
	{"abi", offsetof(struct store_hdr, abi), 1, "ABI"},
	{"hdrsize", offsetof(struct store_hdr, hdr_size), 512, "header size"},
	{"users", offsetof(struct store_hdr, max_users), 600, "capacities"},
	{"ips", offsetof(struct store_hdr, ips_per_user), 65, "capacities"},
	{"cap", offsetof(struct store_hdr, users.cap), 9, "capacities"},
	{"off", offsetof(struct store_hdr, clients.slots_off), 4096,
	 "capacities"},
	{"size", offsetof(struct store_hdr, file_size), 4096, "capacities"},
	{"key", offsetof(struct store_hdr, key), 12345, "checksum"},
    };

    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
	const char *p = make_file(c[i].name);

	poke(p, (off_t) c[i].off, &c[i].value, sizeof(c[i].value));
	expect_bad(c[i].name, c[i].why);
    }
}
END_TEST

START_TEST(test_header_truncated)
{
    char err[ERRLEN] = "";
    struct stat sb;
    STORE *st = NULL;
    const char *p = make_file("trunc");

    ck_assert_int_eq(stat(p, &sb), 0);
    ck_assert_int_eq(truncate(p, sb.st_size - STORE_PAGE), 0);
    expect_bad("trunc", "header says");
    ck_assert_int_eq(truncate(p, 100), 0);
    expect_bad("trunc", "truncated");
    ck_assert_int_eq(truncate(p, 0), 0);
    expect_bad("trunc", "truncated");
    /* random bytes of the right size */
    p = make_file("noise");
    {
	unsigned char junk[STORE_HDR_SIZE];

	for (size_t i = 0; i < sizeof(junk); i++)
	    junk[i] = (unsigned char) (i * 7 + 13);
	poke(p, 0, junk, sizeof(junk));
    }
    expect_bad("noise", "magic");
    ck_assert_int_eq(topen("absent", 512, 4, 0, &st, err), STORE_EIO);
    ck_assert_ptr_null(st);
}
END_TEST

START_TEST(test_recreate)
{
    char err[ERRLEN] = "";
    STORE *st = NULL;
    struct store_stats s;
    uint32_t v = STORE_VERSION + 1;	/* a version not ours */
    const char *p = make_file("recreate");

    poke(p, offsetof(struct store_hdr, version), &v, sizeof(v));
    expect_bad("recreate", "version");
    ck_assert_int_eq(topen("recreate", 512, 4, STORE_CREATE | STORE_RECREATE,
			   &st, err), STORE_OK);
    store_get_stats(st, &s);
    ck_assert_uint_eq(s.generation, 2);	/* magic was readable */
    ck_assert_uint_eq(s.users, 0);
    ck_assert_int_eq(store_user_get(st, "keeper", T0, &U), STORE_NOTFOUND);
    seen(st, "newcomer", "192.0.2.1", T0);
    ck_assert_int_eq(store_stale(st), 0);
    store_close(st);
    /* the replacement is valid and keeps its data */
    ck_assert_int_eq(topen("recreate", 0, 0, 0, &st, err), STORE_OK);
    ck_assert_int_eq(store_user_get(st, "newcomer", T0, &U), STORE_OK);
    store_close(st);
    /* other capacities: a mismatch, fixed by RECREATE */
    ck_assert_int_eq(topen("recreate", 1024, 4, STORE_CREATE, &st, err),
		     STORE_EFORMAT);
    ck_assert_ptr_nonnull(strstr(err, "configured"));
    ck_assert_int_eq(topen("recreate", 1024, 4, STORE_RECREATE, &st, err),
		     STORE_OK);
    store_get_stats(st, &s);
    ck_assert_uint_ge(s.max_users, 1024);
    ck_assert_uint_eq(s.generation, 3);
    store_close(st);
    /* a file of zero bytes */
    ck_assert_int_eq(truncate(p, 0), 0);
    ck_assert_int_eq(topen("recreate", 512, 4, STORE_RECREATE, &st, err),
		     STORE_OK);
    store_close(st);
}
END_TEST

START_TEST(test_params_readonly)
{
    char err[ERRLEN] = "";
    struct store_params p = { .path = NULL };
    struct store_user_obs o = obs_make("lee", "192.0.2.1");
    struct store_block b = { .until = T0 + 10 };
    STORE *st = NULL, *rw;

    ck_assert_int_eq(store_open(&p, &st, err, ERRLEN), STORE_EARG);
    ck_assert_int_eq(store_open(NULL, &st, err, ERRLEN), STORE_EARG);
    ck_assert_int_eq(topen("p", 512, 65, STORE_CREATE, &st, err),
		     STORE_EARG);
    ck_assert_int_eq(topen("p", 0, 4, STORE_CREATE, &st, err), STORE_EARG);
    ck_assert_int_eq(topen("p", 512, 4, STORE_CREATE | STORE_READONLY, &st,
			   err), STORE_EARG);
    ck_assert_int_eq(topen("p", 512, 4, 0x100, &st, err), STORE_EARG);
    rw = tnew("p", 512, 4);
    seen(rw, "lee", "192.0.2.1", T0);
    ck_assert_int_eq(store_counter_add(rw, 3, 5), STORE_OK);
    ck_assert_int_eq(store_counter_add(rw, STORE_NCOUNTERS, 1), STORE_EARG);
    ck_assert_int_eq(topen("p", 0, 0, STORE_READONLY, &st, err), STORE_OK);
    ck_assert_int_eq(store_user_get(st, "lee", T0, &U), STORE_OK);
    ck_assert_int_eq(store_user_update(st, &o, T0, NULL), STORE_EARG);
    ck_assert_int_eq(store_user_block(st, "lee", &b, T0), STORE_EARG);
    ck_assert_int_eq(store_user_reset(st, "lee", T0), STORE_EARG);
    ck_assert_int_eq(store_counter_add(st, 3, 1), STORE_EARG);
    ck_assert_uint_eq(store_counter_get(st, 3), 5);
    ck_assert_uint_eq(store_counter_get(st, STORE_NCOUNTERS), 0);
    ck_assert_str_eq(store_strerror(STORE_TIMEOUT),
		     "stripe lock wait timed out");
    ck_assert_str_eq(store_strerror(-1), "unknown store status");
    store_close(st);
    store_close(rw);
}
END_TEST

/* writer - one forked writer: its own handle, NWRITES updates */
static void writer(int id)
{
    char err[ERRLEN], login[16], ip[32];
    struct store_user_obs o;
    struct store_client_obs co;
    STORE *st;
    int bad = 0;

    if (topen("multi", 0, 0, 0, &st, err) != STORE_OK)
	_exit(2);
    for (int i = 0; i < NWRITES; i++) {
	snprintf(login, sizeof(login), "shared%d", i % NKEYS);
	snprintf(ip, sizeof(ip), "10.0.%d.%d", id, i % 5);
	o = obs_make(login, ip);
	o.msgs = 1;
	o.rcpts = 2;
	memset(&co, 0, sizeof(co));
	co.ip = ip_of("192.0.2.200");
	co.login = login;
	co.msgs = 1;
	bad |= store_user_update(st, &o, T0, NULL) != STORE_OK;
	bad |= store_client_update(st, &co, T0, NULL) != STORE_OK;
	bad |= store_counter_add(st, 1, 1) != STORE_OK;
    }
    store_close(st);
    _exit(bad);
}

START_TEST(test_multiprocess)
{
    STORE *st = tnew("multi", 1024, 64);
    uint64_t msgs = 0, rcpts = 0, ipcount = 0;
    struct store_client c;
    struct addr ca = ip_of("192.0.2.200");
    pid_t pid[NWRITERS];
    char login[16];
    int status;

    for (int i = 0; i < NWRITERS; i++)
	if ((pid[i] = fork()) == 0)
	    writer(i);
    for (int i = 0; i < NWRITERS; i++) {
	ck_assert_int_eq(waitpid(pid[i], &status, 0), pid[i]);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "writer %d failed (status %#x)", i, status);
    }
    for (int k = 0; k < NKEYS; k++) {
	snprintf(login, sizeof(login), "shared%d", k);
	ck_assert_int_eq(store_user_get(st, login, T0, &U), STORE_OK);
	msgs += store_win_sum(&U.win, STORE_MSGS, T0, 60);
	rcpts += store_win_sum(&U.win, STORE_RCPTS, T0, DAY);
	for (uint32_t i = 0; i < U.nips; i++)
	    ipcount += U.ips[i].count;
    }
    ck_assert_uint_eq(msgs, NWRITERS * NWRITES);
    ck_assert_uint_eq(rcpts, 2 * NWRITERS * NWRITES);
    ck_assert_uint_eq(ipcount, NWRITERS * NWRITES);
    ck_assert_int_eq(store_client_get(st, &ca, T0, &c), STORE_OK);
    ck_assert_uint_eq(store_win_sum(&c.win, STORE_MSGS, T0, DAY),
		      NWRITERS * NWRITES);
    ck_assert_uint_eq(c.nlogins, NKEYS);
    ck_assert_uint_eq(store_counter_get(st, 1), NWRITERS * NWRITES);
    for (unsigned s = 0; s < STORE_STRIPES; s++)
	ck_assert_int_eq(store_debug_check_stripe(st, 0, s), 0);
    store_close(st);
}
END_TEST

struct lock_arg {
    int table;
    unsigned stripe;
    int brk;
};

/* lock_stripe - tholder callback: take (and maybe break) one stripe lock */
static int lock_stripe(STORE *st, const void *arg)
{
    const struct lock_arg *a = arg;

    if (store_debug_lock_stripe(st, a->table, a->stripe) != STORE_OK)
	return 1;
    if (a->brk)
	store_debug_break_stripe(st, a->table, a->stripe);
    return 0;
}

/* holder - fork a child that takes a stripe lock and waits to be killed */
static pid_t holder(const char *name, int table, unsigned stripe, int brk)
{
    struct lock_arg a = { .table = table, .stripe = stripe, .brk = brk };

    return tholder(name, lock_stripe, &a);
}

/* kill_holder - SIGKILL a holder and reap it */
static void kill_holder(pid_t pid)
{
    int status;

    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFSIGNALED(status));
}

START_TEST(test_crash_recovery)
{
    STORE *st = tnew("crash", 1024, 4);
    unsigned s = store_debug_user_stripe(st, "victim");
    struct store_stats stats;
    struct addr ca = ip_of("198.51.100.1");
    struct store_client_obs co = { .ip = ca, .msgs = 1 };
    unsigned cs = store_debug_client_stripe(st, &ca);

    seen(st, "victim", "192.0.2.1", T0);
    kill_holder(holder("crash", STORE_DEBUG_USERS, s, 0));
    ck_assert_int_eq(store_user_get(st, "victim", T0, &U), STORE_OK);
    store_get_stats(st, &stats);
    ck_assert_uint_eq(stats.owner_dead_recoveries, 1);
    ck_assert_uint_eq(stats.stripe_resets, 0);
    seen(st, "victim", "192.0.2.2", T0 + 1);

    /* dies with the stripe's lists broken: rebuilt from its slots, the
     * entry (whole in its slot) kept, then usable */
    kill_holder(holder("crash", STORE_DEBUG_USERS, s, 1));
    ck_assert_int_eq(store_user_get(st, "victim", T0, &U), STORE_OK);
    ck_assert_uint_eq(U.nips, 2);
    store_get_stats(st, &stats);
    ck_assert_uint_eq(stats.owner_dead_recoveries, 2);
    ck_assert_uint_eq(stats.stripe_resets, 1);
    seen(st, "victim", "192.0.2.3", T0 + 2);
    ck_assert_int_eq(store_user_get(st, "victim", T0 + 2, &U), STORE_OK);
    ck_assert_uint_eq(U.nips, 3);
    ck_assert_int_eq(store_debug_check_stripe(st, 0, s), 0);

    ck_assert_int_eq(store_client_update(st, &co, T0, NULL), STORE_OK);
    kill_holder(holder("crash", STORE_DEBUG_CLIENTS, cs, 0));
    ck_assert_int_eq(store_client_update(st, &co, T0, NULL), STORE_OK);
    store_get_stats(st, &stats);
    ck_assert_uint_eq(stats.owner_dead_recoveries, 3);
    store_close(st);
}
END_TEST

START_TEST(test_lock_timeout)
{
    char err[ERRLEN] = "";
    struct store_params p = { .path = tpath("timeout"), .lock_timeout_ms = 50 };
    STORE *st = tnew("timeout", 1024, 4), *fast;
    unsigned s = store_debug_user_stripe(st, "stuck");
    struct store_user_obs o = obs_make("stuck", "192.0.2.1");
    struct store_stats stats;
    struct timespec a, b;
    pid_t pid;
    long ms;

    ck_assert_int_eq(store_open(&p, &fast, err, ERRLEN), STORE_OK);
    pid = holder("timeout", STORE_DEBUG_USERS, s, 0);
    clock_gettime(CLOCK_MONOTONIC, &a);
    ck_assert_int_eq(store_user_update(fast, &o, T0, NULL), STORE_TIMEOUT);
    clock_gettime(CLOCK_MONOTONIC, &b);
    ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    ck_assert_int_ge(ms, 45);
    ck_assert_int_lt(ms, 2000);
    for (int i = 0; i < 64; i++) {	/* other stripes are not held */
	char name[16];

	snprintf(name, sizeof(name), "free%d", i);
	if (store_debug_user_stripe(st, name) != s)
	    seen(fast, name, "192.0.2.1", T0);
    }
    store_get_stats(st, &stats);
    ck_assert_uint_eq(stats.lock_timeouts, 1);
    kill_holder(pid);
    ck_assert_int_eq(store_user_update(fast, &o, T0, NULL), STORE_OK);
    store_close(fast);
    store_close(st);
}
END_TEST

START_TEST(test_damage_midop)
{
    STORE *st = tnew("midop", 1024, 4);
    unsigned s = store_debug_user_stripe(st, "mo");
    struct store_stats stats;

    seen(st, "mo", "192.0.2.1", T0);
    seen(st, "mo2", "192.0.2.1", T0);
    ck_assert_int_eq(store_debug_lock_stripe(st, 0, s), STORE_OK);
    store_debug_break_stripe(st, 0, s);
    store_debug_unlock_stripe(st, 0, s);
    ck_assert_int_ne(store_debug_check_stripe(st, 0, s), 0);
    {
	struct store_user_obs o = obs_make("mo", "192.0.2.1");

	/* the bucket links are out of range: noticed, the stripe rebuilt
	 * from its slots, which are whole: the entry is there again */
	ck_assert_int_eq(store_user_get(st, "mo", T0, &U), STORE_EFORMAT);
	ck_assert_int_eq(store_user_get(st, "mo", T0, &U), STORE_OK);
	ck_assert_uint_eq(U.nips, 1);
	ck_assert_int_eq(store_user_update(st, &o, T0, NULL), STORE_OK);
    }
    store_get_stats(st, &stats);
    ck_assert_uint_eq(stats.stripe_resets, 1);
    ck_assert_int_eq(store_debug_check_stripe(st, 0, s), 0);
    store_close(st);
}
END_TEST

/* racer - open a damaged file with RECREATE and leave a mark */
static void racer(int id)
{
    char err[ERRLEN], login[16];
    STORE *st;

    snprintf(login, sizeof(login), "racer%d", id);
    if (topen("race", 512, 4, STORE_CREATE | STORE_RECREATE, &st, err))
	_exit(2);
    {
	struct store_user_obs o = obs_make(login, "192.0.2.1");

	if (store_user_update(st, &o, T0, NULL) != STORE_OK)
	    _exit(3);
    }
    store_close(st);
    _exit(0);
}

START_TEST(test_recreate_race)
{
    const char *p = make_file("race");
    uint64_t zero = 0;
    pid_t pid[NWRITERS];
    char login[16];
    STORE *st;
    int status;

    poke(p, 0, &zero, sizeof(zero));
    for (int i = 0; i < NWRITERS; i++)
	if ((pid[i] = fork()) == 0)
	    racer(i);
    for (int i = 0; i < NWRITERS; i++) {
	ck_assert_int_eq(waitpid(pid[i], &status, 0), pid[i]);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    st = tnew("race", 512, 4);
    for (int i = 0; i < NWRITERS; i++) {	/* nobody wrote to an orphan */
	snprintf(login, sizeof(login), "racer%d", i);
	ck_assert_int_eq(store_user_get(st, login, T0, &U), STORE_OK);
    }
    ck_assert_int_eq(store_stale(st), 0);
    store_close(st);
}
END_TEST

/* Garbage past a stripe's high mark (a damaged file: what a file made
 * here has there is zeros) never becomes a link: keys whose homes lie
 * past the mark go in, the stripe stays whole, every key is found. */
START_TEST(test_garbage_past_high)
{
    STORE *st = tnew("past", 64 * 64, 2);	/* 64 slots per stripe */
    struct store_tab *t = &st->users;
    char l[24][16];
    unsigned s = 0;
    int n = 0;

    for (int k = 0; n < 24; k++) {	/* 24 logins of one stripe */
	snprintf(l[n], sizeof(l[n]), "g%d", k);
	if (n == 0)
	    s = store_debug_user_stripe(st, l[0]);
	if (store_debug_user_stripe(st, l[n]) == s)
	    n++;
    }
    ck_assert_uint_eq(t->stripes[s].high, 0);
    for (uint32_t i = 1; i <= t->cap; i++) {	/* heads full of junk */
	struct store_link *lk = store_slot(t, s, i);

	memset(lk, 0xa5, sizeof(*lk));
	lk->flags = STORE_F_USED | (i % 2 ? 0 : STORE_F_LISTED);
    }
    for (int i = 0; i < n; i++)
	seen(st, l[i], "192.0.2.9", T0 + (uint32_t) i);
    for (int i = 0; i < n; i++)
	ck_assert_int_eq(store_user_get(st, l[i], T0 + 30, &U), STORE_OK);
    ck_assert_int_eq(store_debug_check_stripe(st, 0, s), 0);
    ck_assert_uint_eq(store_stripe_count(t, s), (uint32_t) n);
    store_close(st);
}
END_TEST

/* The table against a model, for stripes of 1 to 17 slots: random
 * inserts, touches, removals and blocks on keys half of which share one
 * home, through the table's own calls under the stripe lock. After every
 * step the stripe passes its check, every key is found exactly when the
 * model has it, an insert into a full stripe evicts exactly one unblocked
 * key, and STORE_FULL comes only when every key held is blocked. */
enum { MODEL_KEYS = 36, MODEL_STEPS = 3000 };

/* MODEL_EQ - a check of the model's loop, a and b as long long: it calls
 * into Check only when it fails. Check's ck_assert_* (fork mode) writes
 * its location to the runner at every call: the model's 27,000 steps
 * made 806,160 writes, 1.2 s of system time, 8.7 s on a machine of load
 * 17 against the TCase's 30 s (past it under ASan). */
#define MODEL_EQ(a, b) do { \
	long long a_ = (long long) (a), b_ = (long long) (b); \
	if (a_ != b_) \
	    ck_abort_msg("line %d: %s == %s: %lld != %lld", __LINE__, #a, \
			 #b, a_, b_); \
    } while (0)

struct model {
    STORE *st;
    struct store_tab *t;
    uint8_t key[MODEL_KEYS][16];
    uint64_t h[MODEL_KEYS];
    int in[MODEL_KEYS], blocked[MODEL_KEYS], n;
};

/* model_keys - n keys of stripe 0, the even ones with home 1 */
static void model_keys(struct model *m, int n)
{
    m->n = n;
    for (int i = 0; i < n; i++)
	for (uint64_t k = 0;; k++) {
	    memset(m->key[i], 0, sizeof(m->key[i]));
	    memcpy(m->key[i], &k, sizeof(k));
	    m->key[i][8] = (uint8_t) i;
	    m->h[i] = store_siphash(m->st->key, m->key[i], 16);
	    if (store_stripe_of(m->h[i]) == 0
		&& (i % 2 || store_home(m->t, m->h[i]) == 1))
		break;
	}
}

/* model_find - the slot of key i, 0 if absent */
static uint32_t model_find(struct model *m, int i)
{
    uint32_t idx = 1;

    MODEL_EQ(store_find(m->st, m->t, 0, m->h[i], m->key[i], &idx),
		     STORE_OK);
    return idx;
}

/* model_insert - key i is absent: insert it, check what went */
static void model_insert(struct model *m, int i, uint32_t now)
{
    int live = 0, free_to_go = 0, gone = 0;
    uint32_t idx;
    int rc;

    for (int j = 0; j < m->n; j++) {
	live += m->in[j];
	free_to_go += m->in[j] && !m->blocked[j];
    }
    rc = store_insert(m->st, m->t, 0, m->h[i], m->key[i], now, &idx);
    if (live == (int) m->t->cap && free_to_go == 0) {
	MODEL_EQ(rc, STORE_FULL);
	return;
    }
    MODEL_EQ(rc, STORE_OK);
    m->in[i] = 1;
    m->blocked[i] = 0;
    if (live < (int) m->t->cap)
	return;
    for (int j = 0; j < m->n; j++)	/* full: exactly one went */
	if (j != i && m->in[j] && model_find(m, j) == 0) {
	    MODEL_EQ(m->blocked[j], 0);	/* a blocked key was evicted */
	    m->in[j] = 0;
	    gone++;
	}
    MODEL_EQ(gone, 1);
}

/* model_step - one random operation on one random key */
static void model_step(struct model *m, uint64_t r, uint32_t now)
{
    int i = (int) (r % (uint64_t) m->n), op = (int) (r >> 32) % 10;
    uint32_t idx = model_find(m, i);
    struct store_block *b;

    MODEL_EQ(idx != 0, m->in[i]);
    if (op < 5 && idx != 0) {
	MODEL_EQ(store_touch(m->st, m->t, 0, idx), STORE_OK);
    } else if (op < 5) {
	model_insert(m, i, now);
    } else if (op < 8 && idx != 0) {
	MODEL_EQ(store_remove(m->st, m->t, 0, idx), STORE_OK);
	m->in[i] = m->blocked[i] = 0;
    } else if (op >= 8 && idx != 0) {	/* block or lift the block */
	b = (void *) ((unsigned char *) store_slot(m->t, 0, idx)
		      + m->t->block_off);
	memset(b, 0, sizeof(*b));
	m->blocked[i] = !m->blocked[i] && (r >> 40) % 3 == 0;
	if (m->blocked[i])
	    b->until = now + 1000000;
    }
}

START_TEST(test_table_model)
{
    static const uint32_t caps[] = { 1, 2, 3, 4, 5, 7, 9, 16, 17 };
    uint64_t r = 88172645463325252u;

    for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
	struct model *m = calloc(1, sizeof(*m));
	char name[32];
	int live;

	snprintf(name, sizeof(name), "model%u", caps[c]);
	ck_assert_ptr_nonnull(m);
	m->st = tnew(name, caps[c] * STORE_STRIPES, 2);
	m->t = &m->st->clients;
	MODEL_EQ(m->t->cap, caps[c]);
	model_keys(m, (int) caps[c] * 2 + 2);
	for (uint32_t step = 0; step < MODEL_STEPS; step++) {
	    r ^= r << 13;
	    r ^= r >> 7;
	    r ^= r << 17;
	    MODEL_EQ(store_lock(m->st, m->t, 0), STORE_OK);
	    model_step(m, r, T0 + step);
	    MODEL_EQ(store_stripe_check(m->st, m->t, 0), 0);
	    live = 0;
	    for (int j = 0; j < m->n; j++) {
		MODEL_EQ(model_find(m, j) != 0, m->in[j]);
		live += m->in[j];
	    }
	    MODEL_EQ(m->t->stripes[0].count, (uint32_t) live);
	    store_unlock(m->t, 0);
	}
	MODEL_EQ(m->st->hdr->stripe_resets, 0);
	store_close(m->st);
	free(m);
    }
}
END_TEST

START_TEST(test_boot_change)
{
    STORE *st = tnew("boot", 512, 4), *again;
    unsigned s = store_debug_user_stripe(st, "booted");
    uint8_t other[STORE_BOOT_LEN];
    pid_t pid;

    seen(st, "booted", "192.0.2.1", T0);
    store_close(st);
    /* a lock left held "before the reboot" by a process still alive */
    pid = holder("boot", STORE_DEBUG_USERS, s, 0);
    memset(other, 0x5a, sizeof(other));
    poke(tpath("boot"), offsetof(struct store_hdr, boot_id), other,
	 sizeof(other));
    again = tnew("boot", 512, 4);
    ck_assert_int_eq(store_user_get(again, "booted", T0, &U), STORE_OK);
    treap(pid);
    store_close(again);
}
END_TEST

/* store_shm_suite - the file, its header and the processes sharing it */
static Suite *store_shm_suite(void)
{
    Suite *s = suite_create("store_shm");
    TCase *tc;

    tc = tcase_create("file");
    tcase_add_unchecked_fixture(tc, tdir_make, tdir_rm);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_counters_spare_bytes);
    tcase_add_test(tc, test_header_damage);
    tcase_add_test(tc, test_header_truncated);
    tcase_add_test(tc, test_recreate);
    tcase_add_test(tc, test_params_readonly);
    tcase_add_test(tc, test_recreate_race);
    suite_add_tcase(s, tc);

    tc = tcase_create("processes");
    tcase_add_unchecked_fixture(tc, tdir_make, tdir_rm);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_multiprocess);
    tcase_add_test(tc, test_crash_recovery);
    tcase_add_test(tc, test_lock_timeout);
    tcase_add_test(tc, test_damage_midop);
    tcase_add_test(tc, test_boot_change);
    tcase_add_test(tc, test_garbage_past_high);
    tcase_add_test(tc, test_table_model);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(store_shm_suite());
}
