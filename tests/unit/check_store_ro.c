/*
 * check_store_ro - unit tests of read-only handles (store_ro.c): the
 * descriptor and mapping are read-only, no lock is taken (a stripe lock
 * held forever does not stop a reader), a stripe whose writer stays
 * inside is reported busy, copies taken while a writer hammers the same
 * entry are never torn, and a file truncated under a reader gives
 * STORE_ESHRUNK instead of SIGBUS.
 *
 * Helper processes are forked from the (forked) test and killed by it.
 */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "store_int.h"
#include "check_main.h"
#include "store_test.h"

#define RO_TIMEOUT_MS	200	/* a reader's patience in these tests */
#define HAMMER_MS	1500	/* how long the reader copies under fire */
#define HAMMER_MAX_MS	20000	/* ... at most, waiting for the writer */
#define NUSERS		300

/* ro_open - a read-only handle on a test file */
static STORE *ro_open(const char *name, uint32_t timeout_ms)
{
    struct store_params p = {
	.path = tpath(name), .lock_timeout_ms = timeout_ms,
	.flags = STORE_READONLY,
    };
    char err[ERRLEN] = "";
    STORE *st = NULL;
    int rc = store_open(&p, &st, err, ERRLEN);

    ck_assert_msg(rc == STORE_OK, "read-only open: %s: %s",
		  store_strerror(rc), err);
    return st;
}

/* hold_mutexes - take every stripe mutex the way an attacker could: the
 * bare mutex, leaving the write sequence alone */
static int hold_mutexes(STORE *st, const void *arg)
{
    (void) arg;
    for (unsigned s = 0; s < STORE_STRIPES; s++) {
	pthread_mutex_lock(&st->users.stripes[s].mu);
	pthread_mutex_lock(&st->clients.stripes[s].mu);
    }
    return 0;
}

/* hold_writing - take every user stripe as a writer does (store_lock:
 * the sequence goes odd) and stay inside */
static int hold_writing(STORE *st, const void *arg)
{
    (void) arg;
    for (unsigned s = 0; s < STORE_STRIPES; s++)
	if (store_lock(st, &st->users, s) != STORE_OK)
	    return 1;
    return 0;
}

/* count_cb - count the users a walk hands over */
static int count_cb(const struct store_user *u, void *ctx)
{
    (void) u;
    ++*(unsigned *) ctx;
    return 0;
}

#define SITE_AGE (3 * 86400u)	/* the site's start, before T0 */

/* fill - a file with NUSERS users, its site start SITE_AGE before T0 */
static void fill(const char *name)
{
    STORE *st = tnew(name, 4096, 4);	/* room in every stripe */
    char login[32];

    for (unsigned i = 0; i < NUSERS; i++) {
	snprintf(login, sizeof(login), "user%u", i);
	seen(st, login, "192.0.2.1", T0);
    }
    ck_assert_uint_eq(store_site_start(st, T0 - SITE_AGE), T0 - SITE_AGE);
    store_close(st);
}

START_TEST(test_ro_readonly_fd)
{
    char line[512], want[160];
    int found = 0;
    STORE *st;
    FILE *f;

    fill("fd");
    st = ro_open("fd", RO_TIMEOUT_MS);
    ck_assert_int_eq(fcntl(st->fd, F_GETFL) & O_ACCMODE, O_RDONLY);
    snprintf(want, sizeof(want), " %s\n", tpath("fd"));
    ck_assert_ptr_nonnull(f = fopen("/proc/self/maps", "r"));
    while (fgets(line, sizeof(line), f) != NULL) {
	const char *perm = strchr(line, ' ');
	size_t n = strlen(line), w = strlen(want);

	if (n >= w && strcmp(line + n - w, want) == 0) {
	    found = 1;
	    ck_assert_msg(perm != NULL && strncmp(perm + 1, "r--s", 4) == 0,
			  "mapping not read-only: %s", line);
	}
    }
    fclose(f);
    ck_assert_msg(found, "state file not mapped");
    ck_assert_int_eq(store_user_get(st, "user7", T0, &U), STORE_OK);
    store_close(st);
}
END_TEST

START_TEST(test_ro_lock_held)
{
    struct store_stats s;
    unsigned n = 0;
    pid_t pid;
    STORE *st;

    fill("held");
    pid = tholder("held", hold_mutexes, NULL);
    st = ro_open("held", RO_TIMEOUT_MS);
    ck_assert_int_eq(store_user_get(st, "user42", T0, &U), STORE_OK);
    ck_assert_str_eq(U.login, "user42");
    ck_assert_int_eq(store_user_get(st, "nobody", T0, &U), STORE_NOTFOUND);
    ck_assert_int_eq(store_user_each(st, T0, count_cb, &n), STORE_OK);
    ck_assert_uint_eq(n, NUSERS);
    ck_assert_uint_eq(store_skipped(st), 0);
    ck_assert_int_eq(store_get_stats(st, &s), STORE_OK);
    ck_assert_uint_eq(s.users, NUSERS);
    store_close(st);
    treap(pid);
}
END_TEST

START_TEST(test_ro_busy_stripe)
{
    struct timespec t0, t1;
    unsigned n = 0;
    pid_t pid;
    STORE *st;

    fill("busy");
    pid = tholder("busy", hold_writing, NULL);
    st = ro_open("busy", RO_TIMEOUT_MS);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(store_user_get(st, "user42", T0, &U), STORE_TIMEOUT);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 3);
    ck_assert_int_eq(store_user_each(st, T0, count_cb, &n), STORE_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_uint_eq(store_skipped(st), NUSERS);
    store_close(st);
    treap(pid);
    /* the writer died inside: the next holder makes the sequence even */
    st = tnew("busy", 4096, 4);
    seen(st, "user1", "192.0.2.9", T0 + 1);
    for (unsigned s = 0; s < STORE_STRIPES; s++) {
	ck_assert_int_eq(store_lock(st, &st->users, s), STORE_OK);
	store_unlock(&st->users, s);
    }
    store_close(st);
    st = ro_open("busy", RO_TIMEOUT_MS);
    ck_assert_int_eq(store_user_get(st, "user42", T0, &U), STORE_OK);
    store_close(st);
}
END_TEST

/* hammer_ip - the address of the n-th hammer observation */
static struct addr hammer_ip(uint32_t n)
{
    char text[32];

    snprintf(text, sizeof(text), "10.%u.%u.%u", n >> 16 & 255, n >> 8 & 255,
	     n & 255);
    return ip_of(text);
}

/* hammer - one writer: observation n at T0 + n from address n with
 * queue id Qn, so a whole copy has last_seen, ips[0] and qids agree */
static void hammer(void)
{
    char err[ERRLEN], qid[16];
    STORE *st = NULL;

    if (topen("hammer", 0, 0, 0, &st, err) != STORE_OK) {
	fprintf(stderr, "hammer: %s\n", err);
	_exit(1);
    }
    for (uint32_t n = 1;; n++) {
	struct store_user_obs o = obs_make("hot", "192.0.2.1");

	o.ip = hammer_ip(n);
	o.msgs = 1;
	snprintf(qid, sizeof(qid), "Q%u", n);
	o.qid = qid;
	if (store_user_update(st, &o, T0 + n, NULL) != STORE_OK) {
	    fprintf(stderr, "hammer: update failed\n");
	    _exit(1);
	}
    }
}

/* torn - does a copy of "hot" contradict itself? The addresses are
 * those of observations n, n - 1, ... newest first */
static int torn(const struct store_user *u, uint32_t *n)
{
    *n = (uint32_t) strtoul(u->qids[0] + 1, NULL, 10);
    if (u->qids[0][0] != 'Q' || u->last_seen != T0 + *n || u->nips == 0)
	return 1;
    for (uint32_t i = 0; i < u->nips && i < *n; i++) {
	struct addr want = hammer_ip(*n - i);

	if (!addr_equal(&u->ips[i].ip, &want))
	    return 1;
    }
    if (*n > 1) {
	char prev[16];

	snprintf(prev, sizeof(prev), "Q%u", *n - 1);
	return strcmp(u->qids[1], prev) != 0;
    }
    return 0;
}

START_TEST(test_ro_hammer)
{
    struct timespec t0, t1;
    unsigned reads = 0, bad = 0, moved = 0;
    uint32_t n, last = 0;
    long ms = 0;
    pid_t pid;
    STORE *st = tnew("hammer", 512, STORE_IPS_MAX);	/* long copies */

    seen(st, "hot", "192.0.2.1", T0);
    store_close(st);
    ck_assert_int_ge(pid = fork(), 0);
    if (pid == 0)
	hammer();
    st = ro_open("hammer", 5000);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
	int rc = store_user_get(st, "hot", T0, &U);

	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000
	    + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	ck_assert_int_eq(rc, STORE_OK);
	if (U.qids[0][0] == '\0')
	    continue;		/* the writer has not started yet */
	reads++;
	bad += torn(&U, &n);
	moved += n != last;
	last = n;
	/* HAMMER_MS at least, longer while the writer has barely moved
	 * (a loaded machine schedules it seldom), up to HAMMER_MAX_MS */
    } while (ms < HAMMER_MS || (moved <= 10 && ms < HAMMER_MAX_MS));
    treap(pid);
    store_close(st);
    ck_assert_msg(moved > 10, "the writer barely moved (%u)", moved);
    ck_assert_msg(bad == 0, "%u torn copies in %u reads", bad, reads);
}
END_TEST

/* A walk that cuts its own file short after the first entry. */
struct cutter {
    const char *path;
    unsigned seen;
};

/* cut_cb - truncate the file on the first entry */
static int cut_cb(const struct store_user *u, void *ctx)
{
    struct cutter *c = ctx;

    (void) u;
    if (c->seen++ == 0)
	ck_assert_int_eq(truncate(c->path, 0), 0);
    return 0;
}

START_TEST(test_ro_truncated)
{
    struct cutter c = { NULL, 0 };
    struct store_stats s;
    STORE *st;

    fill("cut");
    c.path = tpath("cut");
    st = ro_open("cut", RO_TIMEOUT_MS);
    ck_assert_int_eq(store_user_each(st, T0, cut_cb, &c), STORE_ESHRUNK);
    ck_assert_uint_ge(c.seen, 1);
    ck_assert_uint_lt(c.seen, NUSERS);
    ck_assert_int_eq(store_user_get(st, "user7", T0, &U), STORE_ESHRUNK);
    /* the site's start comes from the header's copy: no fault, no write */
    ck_assert_uint_eq(store_site_start(st, 0), T0 - SITE_AGE);
    ck_assert_uint_eq(store_site_start(st, T0), T0 - SITE_AGE);
    ck_assert_int_eq(store_get_stats(st, &s), STORE_ESHRUNK);
    ck_assert_int_eq(store_user_each(st, T0, count_cb, &c.seen),
		     STORE_ESHRUNK);
    ck_assert_str_eq(store_strerror(STORE_ESHRUNK),
		     "state file shrank while being read (truncated?)");
    store_close(st);
}
END_TEST

#define SETUP_FAILED 3	/* the child could not set the fault up */

START_TEST(test_ro_fault_elsewhere)
{
    int fd, status;
    pid_t pid;
    STORE *st;

    fill("other");
    st = ro_open("other", RO_TIMEOUT_MS);
    ck_assert_int_ge(pid = fork(), 0);
    if (pid == 0) {		/* a fault outside a guard is not swallowed */
	volatile char *p;

	fd = open(tpath("other"), O_RDONLY);
	p = mmap(NULL, STORE_PAGE, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED || truncate(tpath("other"), 0) != 0)
	    _exit(SETUP_FAILED);
	(void) p[0];
	_exit(0);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    /* the default kills by SIGBUS; under ASan its handler reports and
     * exits 1, or aborts with ASAN_OPTIONS=abort_on_error=1 (as CI) */
    ck_assert_msg(!WIFEXITED(status) || WEXITSTATUS(status) != SETUP_FAILED,
		  "the child could not truncate its mapping");
    ck_assert_msg(WIFSIGNALED(status)
		  ? WTERMSIG(status) == SIGBUS || WTERMSIG(status) == SIGABRT
		  : WEXITSTATUS(status) != 0, "the fault was swallowed");
    store_close(st);
}
END_TEST

/* store_ro_suite - read-only handles */
static Suite *store_ro_suite(void)
{
    Suite *s = suite_create("store_ro");
    TCase *tc = tcase_create("readonly");

    tcase_add_unchecked_fixture(tc, tdir_make, tdir_rm);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_ro_readonly_fd);
    tcase_add_test(tc, test_ro_lock_held);
    tcase_add_test(tc, test_ro_busy_stripe);
    tcase_add_test(tc, test_ro_hammer);
    tcase_add_test(tc, test_ro_truncated);
    tcase_add_test(tc, test_ro_fault_elsewhere);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(store_ro_suite());
}
