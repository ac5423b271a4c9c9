/*
 * store_test - helpers shared by the store's Check suites (check_store*.c).
 *
 * Each TCase that touches files gets a private temporary directory (made
 * and removed by unchecked fixtures in the parent); every test runs
 * forked and names its own file in it. Times are fixed numbers: the store
 * reads no clock. tholder() forks a process that keeps a store attached
 * (holding what its callback took) until treap(); trun() runs a suite of
 * one such TCase. Everything here is static, one copy per suite.
 */
#ifndef STORE_TEST_H
#define STORE_TEST_H

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "addr.h"
#include "check_main.h"
#include "store.h"

#define T0	(86400u * 19700u)	/* a midnight: minute, hour, day edge */
#define MIN	60u
#define HOUR	3600u
#define DAY	86400u
#define ERRLEN	256

static char tdir[64];

/* tdir_make - unchecked setup: a private directory for a TCase */
static inline void tdir_make(void)
{
    strcpy(tdir, "/tmp/check_store.XXXXXX");
    if (mkdtemp(tdir) == NULL)
	abort();
}

/* tdir_unlink - nftw callback */
static inline int tdir_unlink(const char *p, const struct stat *sb,
			      int flag, struct FTW *f)
{
    (void) sb;
    (void) flag;
    (void) f;
    return remove(p);
}

/* tdir_rm - unchecked teardown */
static inline void tdir_rm(void)
{
    nftw(tdir, tdir_unlink, 8, FTW_DEPTH | FTW_PHYS);
}

/* tpath - a file name in the TCase directory */
static inline const char *tpath(const char *name)
{
    static char buf[128];

    snprintf(buf, sizeof(buf), "%s/%s", tdir, name);
    return buf;
}

/* topen - open with the usual test sizes */
static inline int topen(const char *name, uint32_t users, uint32_t ips,
			unsigned flags, STORE **st, char *err)
{
    struct store_params p = {
	.path = tpath(name), .max_users = users, .max_clients = users,
	.ips_per_user = ips, .lock_timeout_ms = 5000, .flags = flags,
	.mode = 0600,
    };

    return store_open(&p, st, err, ERRLEN);
}

/* tnew - a fresh store that must open */
static inline STORE *tnew(const char *name, uint32_t users, uint32_t ips)
{
    char err[ERRLEN] = "";
    STORE *st = NULL;
    int rc = topen(name, users, ips, STORE_CREATE, &st, err);

    ck_assert_msg(rc == STORE_OK, "store_open: %s: %s", store_strerror(rc),
		  err);
    return st;
}

/* ip_of - parse an address that must parse */
static inline struct addr ip_of(const char *text)
{
    struct addr a;

    ck_assert_int_eq(addr_parse(text, &a), 0);
    return a;
}

/* obs_make - an observation of login from ip */
static inline struct store_user_obs obs_make(const char *login,
					     const char *ip)
{
    struct store_user_obs o;

    memset(&o, 0, sizeof(o));
    o.login = login;
    o.ip = ip_of(ip);
    return o;
}

/* obs_geo - an observation located: country cc, AS asn, at lat_c,
 * lon_c (centidegrees) to acc_km */
static inline void obs_geo(struct store_user_obs *o, const char *cc,
			   uint32_t asn, int16_t lat_c, int16_t lon_c,
			   uint16_t acc_km)
{
    memcpy(o->geo.cc, cc, 3);
    o->geo.asn = asn;
    o->geo.lat_c = lat_c;
    o->geo.lon_c = lon_c;
    o->geo.acc_km = acc_km;
    o->geo.has_loc = 1;
}

/* seen - observe login from ip at now, must succeed */
static inline void seen(STORE *st, const char *login, const char *ip,
			uint32_t now)
{
    struct store_user_obs o = obs_make(login, ip);

    ck_assert_int_eq(store_user_update(st, &o, now, NULL), STORE_OK);
}

/* tholder - fork a child that opens name read-write, runs fn(st, arg)
 * (none when fn is NULL; a non-zero return makes it give up), then waits
 * to be killed; returns once fn is done, the child still attached */
static inline pid_t tholder(const char *name,
			    int (*fn)(STORE *st, const void *arg),
			    const void *arg)
{
    int p[2];
    char c = 0;
    pid_t pid;

    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_ge(pid = fork(), 0);
    if (pid == 0) {
	char err[ERRLEN];
	STORE *st = NULL;

	close(p[0]);
	if (topen(name, 0, 0, 0, &st, err) != STORE_OK
	    || (fn != NULL && fn(st, arg) != 0))
	    _exit(2);
	if (write(p[1], "x", 1) != 1)
	    _exit(3);
	for (;;)
	    pause();
    }
    close(p[1]);
    ck_assert_int_eq(read(p[0], &c, 1), 1);
    close(p[0]);
    return pid;
}

/* treap - SIGKILL a child and wait for it */
static inline void treap(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* trun - a suite of one TCase whose tests (NULL ended) share the
 * TCase's private directory, timeout_s seconds each; the program's exit
 * status (check_run) */
static inline int trun(const char *suite, const char *tcase, double timeout_s,
		       const TTest *const tests[])
{
    Suite *s = suite_create(suite);
    TCase *tc = tcase_create(tcase);

    tcase_add_unchecked_fixture(tc, tdir_make, tdir_rm);
    tcase_set_timeout(tc, timeout_s);
    for (; *tests != NULL; tests++)
	tcase_add_test(tc, *tests);
    suite_add_tcase(s, tc);
    return check_run(s);
}

/* a copy too big for a test's stack frame taste; check_store_win.c,
 * which only uses the times above, has no use for it */
static struct store_user U __attribute__((unused));

#endif /* STORE_TEST_H */
