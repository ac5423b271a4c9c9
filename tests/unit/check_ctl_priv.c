/*
 * check_ctl_priv - relayguardctl and the privilege boundary: reading
 * commands take no lock (they answer while another process holds every
 * stripe mutex; a writer stopped inside a stripe only hides that stripe's
 * entries, and says so), work for a user with only group read access to the
 * file, and survive a file truncated under them or a FIFO in its place;
 * modifying commands run as root act as the state file's owner.
 *
 * Needs root (it changes users); every test runs forked, and whatever
 * drops privileges does so in a process of its own.
 */
#include <check.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "ctl_test.h"
#include "check_main.h"
#include "store_int.h"

#define NOBODY_UID	65534
#define MONITOR_GID	4242	/* a group only the test's reader is in */
#define CUT_RUNS	300	/* reading runs while the file is cut */
#define APART_TRIES	64	/* fresh files until alice's stripe is hers */

/* as_user - in a child: become uid with the one group gid, run the
 * command, exit with its code (255 if the switch failed) */
static int as_user(uid_t uid, gid_t gid, const char *cmd, const char *arg)
{
    pid_t pid;
    int status;

    ck_assert_int_ge(pid = fork(), 0);
    if (pid == 0) {
	if (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0)
	    _exit(255);
	_exit(run("-c", conf, cmd, arg, NULL));
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status), "signal %d", WTERMSIG(status));
    return WEXITSTATUS(status);
}

/* as_root - in a child: run a command as root, report its code and the
 * effective uid it ended with */
static int as_root(const char *cmd, const char *arg, uid_t *euid)
{
    int p[2], status;
    pid_t pid;

    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_ge(pid = fork(), 0);
    if (pid == 0) {
	int rc = run("-c", conf, cmd, arg, NULL);
	uid_t e = geteuid();

	if (write(p[1], &e, sizeof(e)) != sizeof(e))
	    _exit(254);
	_exit(rc);
    }
    close(p[1]);
    ck_assert_int_eq(read(p[0], euid, sizeof(*euid)), sizeof(*euid));
    close(p[0]);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* holder - fork a process that opens the state file, runs fn(st) and
 * waits to be killed; returns once fn is done (non-zero: it gave up) */
static pid_t holder(int (*fn)(STORE *st))
{
    int p[2];
    pid_t pid;
    char c;

    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_ge(pid = fork(), 0);
    if (pid == 0) {
	if (fn(state_open()) != 0 || write(p[1], "x", 1) != 1)
	    _exit(1);
	for (;;)
	    pause();
    }
    close(p[1]);
    ck_assert_int_eq(read(p[0], &c, 1), 1);
    return pid;
}

/* reap - SIGKILL a child and wait for it */
static void reap(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* hold_mutexes - holder callback: every stripe mutex, bare */
static int hold_mutexes(STORE *st)
{
    for (unsigned s = 0; s < STORE_STRIPES; s++) {
	pthread_mutex_lock(&st->users.stripes[s].mu);
	pthread_mutex_lock(&st->clients.stripes[s].mu);
    }
    return 0;
}

/* hold_alice - holder callback: a writer stopped inside alice's stripe */
static int hold_alice(STORE *st)
{
    char key[STORE_LOGIN_MAX];
    size_t len;
    uint64_t h = store_login_ref(st, "alice@example.org", key, &len);

    return store_lock(st, &st->users, store_stripe_of(h)) != STORE_OK;
}

/* stripe_of - the stripe a login falls in under the file's hash key */
static unsigned stripe_of(STORE *st, const char *login)
{
    char key[STORE_LOGIN_MAX];
    size_t len;

    return store_stripe_of(store_login_ref(st, login, key, &len));
}

/* state_make_apart - state_make until alice has her stripe to herself.
 * The hash key is random per file, so about one file in 32 puts bob or
 * the hostile login in alice's stripe too, and a writer stopped there
 * rightly hides them as well (this test's old flake). */
static void state_make_apart(void)
{
    for (int t = 0; t < APART_TRIES; t++) {
	STORE *st;
	unsigned a;
	int apart;

	state_make();
	st = state_open();
	a = stripe_of(st, "alice@example.org");
	apart = a != stripe_of(st, "bob@example.org")
	    && a != stripe_of(st, long_login);
	store_close(st);
	if (apart)
	    return;
    }
    ck_abort_msg("alice never had a stripe of her own");
}

START_TEST(test_read_lock_held)
{
    pid_t pid;

    state_make();
    pid = holder(hold_mutexes);
    ck_assert_int_eq(run("-c", conf, "users", NULL), CTL_EXIT_OK);
    ck_assert_ptr_nonnull(strstr(out, "alice@example.org"));
    ck_assert_int_eq(run("-c", conf, "show", "bob@example.org", NULL),
		     CTL_EXIT_OK);
    ck_assert_int_eq(run("-c", conf, "clients", NULL), CTL_EXIT_OK);
    ck_assert_ptr_nonnull(strstr(out, "10.1.2.3"));
    ck_assert_int_eq(run("-c", conf, "stats", NULL), CTL_EXIT_OK);
    reap(pid);
}
END_TEST

START_TEST(test_read_busy)
{
    pid_t pid;

    state_make_apart();
    pid = holder(hold_alice);
    /* the walk leaves that stripe out and says so; the rest is there */
    ck_assert_int_eq(run("-c", conf, "users", NULL), CTL_EXIT_OK);
    ck_assert_ptr_null(strstr(out, "alice@example.org"));
    ck_assert_ptr_nonnull(strstr(out, "bob@example.org"));
    ck_assert_ptr_nonnull(strstr(err, "entries left out: 1 "));
    /* the entry itself is busy */
    ck_assert_int_eq(run("-c", conf, "show", "alice@example.org", NULL),
		     CTL_EXIT_UNAVAILABLE);
    ck_assert_ptr_nonnull(strstr(err, "busy"));
    reap(pid);
}
END_TEST

START_TEST(test_read_group_only)
{
    state_make();
    ck_assert_int_eq(chmod(tdir, 0755), 0);
    ck_assert_int_eq(chmod(conf, 0644), 0);
    ck_assert_int_eq(chown(statef, 0, MONITOR_GID), 0);
    ck_assert_int_eq(chmod(statef, 0640), 0);
    ck_assert_int_eq(as_user(NOBODY_UID, MONITOR_GID, "users", NULL),
		     CTL_EXIT_OK);
    ck_assert_int_eq(as_user(NOBODY_UID, MONITOR_GID, "show",
			     "alice@example.org"), CTL_EXIT_OK);
    ck_assert_int_eq(as_user(NOBODY_UID, MONITOR_GID, "stats", NULL),
		     CTL_EXIT_OK);
    /* reading is all such a user may do */
    ck_assert_int_eq(as_user(NOBODY_UID, MONITOR_GID, "block", "bob"),
		     CTL_EXIT_UNAVAILABLE);
    /* without the group: nothing */
    ck_assert_int_eq(as_user(NOBODY_UID, NOBODY_UID, "users", NULL),
		     CTL_EXIT_UNAVAILABLE);
    ck_assert_int_eq(chmod(tdir, 0700), 0);
}
END_TEST

START_TEST(test_modify_as_owner)
{
    struct store_user u;
    uid_t euid = 0;
    STORE *st;

    state_make();
    ck_assert_int_eq(chmod(tdir, 0755), 0);
    ck_assert_int_eq(chmod(conf, 0644), 0);
    ck_assert_int_eq(chown(statef, NOBODY_UID, NOBODY_UID), 0);
    ck_assert_int_eq(as_root("block", "bob@example.org", &euid), 0);
    ck_assert_uint_eq(euid, NOBODY_UID);
    st = state_open();
    ck_assert_int_eq(store_user_get(st, "bob@example.org", NOW, &u),
		     STORE_OK);
    ck_assert_uint_gt(u.block.until, NOW);
    store_close(st);
    /* the owner may not write it: neither may the command, root or not */
    ck_assert_int_eq(chmod(statef, 0400), 0);
    ck_assert_int_eq(as_root("unblock", "bob@example.org", &euid),
		     CTL_EXIT_UNAVAILABLE);
    ck_assert_uint_eq(euid, NOBODY_UID);
    /* a file swapped in after that look is refused, not locked: the
     * read-write attach takes only a file of the user it runs as */
    {
	struct store_params sp = { .path = statef, .flags = STORE_OWNED };
	char e[256] = "";

	ck_assert_int_eq(store_open(&sp, &st, e, sizeof(e)), STORE_EIO);
	ck_assert_ptr_nonnull(strstr(e, "belongs to uid 65534"));
    }
    /* a file root owns: root stays root */
    ck_assert_int_eq(chown(statef, 0, 0), 0);
    ck_assert_int_eq(chmod(statef, 0600), 0);
    ck_assert_int_eq(as_root("unblock", "bob@example.org", &euid), 0);
    ck_assert_uint_eq(euid, 0);
    ck_assert_int_eq(chmod(tdir, 0700), 0);
}
END_TEST

START_TEST(test_read_fifo)
{
    /* the file's owner puts a FIFO in its place: readers do not hang */
    state_make();
    ck_assert_int_eq(unlink(statef), 0);
    ck_assert_int_eq(mkfifo(statef, 0644), 0);
    ck_assert_int_eq(run("-c", conf, "users", NULL), CTL_EXIT_UNAVAILABLE);
    ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
    ck_assert_int_eq(run("-c", conf, "block", "bob", NULL),
		     CTL_EXIT_UNAVAILABLE);
    ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
    ck_assert_int_eq(unlink(statef), 0);
}
END_TEST

/* cutter - rewrite the file whole, then cut it to nothing, again and
 * again, until killed */
static void cutter(const char *path, const char *copy, size_t size)
{
    for (;;) {
	int fd = open(path, O_WRONLY);
	struct timespec pause_ = { 0, 200000 };

	if (fd < 0 || pwrite(fd, copy, size, 0) != (ssize_t) size)
	    _exit(1);
	nanosleep(&pause_, NULL);
	if (ftruncate(fd, 0) != 0)
	    _exit(1);
	close(fd);
    }
}

START_TEST(test_read_truncated)
{
    struct stat sb;
    char *copy;
    unsigned shrank = 0, ok = 0;
    pid_t pid;
    FILE *f;

    state_make();
    ck_assert_int_eq(stat(statef, &sb), 0);
    ck_assert_ptr_nonnull(copy = malloc((size_t) sb.st_size));
    ck_assert_ptr_nonnull(f = fopen(statef, "r"));
    ck_assert_uint_eq(fread(copy, 1, (size_t) sb.st_size, f),
		      (size_t) sb.st_size);
    fclose(f);
    ck_assert_int_ge(pid = fork(), 0);
    if (pid == 0)
	cutter(statef, copy, (size_t) sb.st_size);
    for (int i = 0; i < CUT_RUNS; i++) {
	/* a SIGBUS here would kill the test; show reads the site's start
	 * from the header too, and may meet a file only half written
	 * again (its login not yet there) */
	static const char *const cmds[] = { "users", "stats", "show" };
	const char *cmd = cmds[i % 3];
	int rc = run("-c", conf, cmd, i % 3 == 2 ? "alice@example.org" : NULL,
		     NULL);

	ck_assert_msg(rc == CTL_EXIT_OK || rc == CTL_EXIT_UNAVAILABLE
		      || (i % 3 == 2 && rc == CTL_EXIT_NOTFOUND),
		      "%s: exit %d: %s", cmd, rc, err);
	ok += rc == CTL_EXIT_OK;
	shrank += strstr(err, "shrank while being read") != NULL;
    }
    reap(pid);
    free(copy);
    fprintf(stderr, "truncation: %u whole, %u shrank, of %d\n", ok, shrank,
	    CUT_RUNS);
}
END_TEST

/* ctl_priv_suite - the test cases */
static Suite *ctl_priv_suite(void)
{
    Suite *s = suite_create("ctl_priv");
    TCase *tc = tcase_create("privileges");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_read_lock_held);
    tcase_add_test(tc, test_read_busy);
    tcase_add_test(tc, test_read_group_only);
    tcase_add_test(tc, test_modify_as_owner);
    tcase_add_test(tc, test_read_truncated);
    tcase_add_test(tc, test_read_fifo);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ctl_check_run(ctl_priv_suite());
}
