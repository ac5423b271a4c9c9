/*
 * check_pin - the rogue list's writers' lock: pin_write_list waits while
 * another writer holds "LIST_PATH.lock" and writes once it is free (so a
 * list built before another process's pin cannot replace the one with
 * it), and gives up with an error when the lock is held too long; the
 * same between root (an admin's "rogue add") and the daemon's user
 * (nobody here), each holding the lock for the other; and a writer that
 * may not write in the list's directory says so and leaves the old list
 * as it was; "rogue add" at a held lock says its pin is stored.
 */
#include <check.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../collector/cmd_events.h"
#include "../../collector/pin.h"
#include "check_main.h"
#include "collector_test.h"

#define HELD_MS 400		/* how long the test holds the lock */
#define NOBODY 65534		/* the daemon's user and group here */

static char list[128], lock[160];

/* setup - the fixture with its rogue list, one pin */
static void setup(void)
{
    struct pin_change c = {.address = "192.0.2.9", .who = "admin", .reason = "test"};
    char err[1024];

    ct_setup("check_pin", "incidents_file = \"\";");
    snprintf(list, sizeof(list), "%s/rogue.list", dir);
    snprintf(lock, sizeof(lock), "%s.lock", list);
    c.now_ms = now_ms();
    ck_assert_int_eq(pin_add(hist, &c, err, sizeof(err)), HIST_OK);
}

/* hold - take the writers' lock as another writer would; its descriptor */
static int hold(void)
{
    int fd = open(lock, O_RDWR | O_CREAT, 0600);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(flock(fd, LOCK_EX), 0);
    return fd;
}

struct writer {
    atomic_int rc;		/* read by the test while the thread runs */
    char err[512];
};

/* write_list - pin_write_list on a thread */
static void *write_list(void *arg)
{
    struct writer *w = arg;

    atomic_store(&w->rc, pin_write_list(hist, cfg, now_ms(), w->err, sizeof(w->err)));
    return NULL;
}

START_TEST(test_waits_for_the_lock)
{
    struct writer w = {.err = ""};
    pthread_t tid;
    int fd = hold();

    atomic_store(&w.rc, -2);
    ck_assert_int_eq(pthread_create(&tid, NULL, write_list, &w), 0);
    nap(HELD_MS);
    ck_assert_msg(access(list, F_OK) != 0, "written while another writer held the lock");
    ck_assert_int_eq(atomic_load(&w.rc), -2);
    close(fd);				/* the other writer is done */
    pthread_join(tid, NULL);
    ck_assert_msg(atomic_load(&w.rc) == 0, "%s", w.err);
    ck_assert_int_eq(access(list, F_OK), 0);
}
END_TEST

START_TEST(test_gives_up)
{
    char err[512] = "";
    int64_t t0 = now_ms();
    int fd = hold();

    ck_assert_int_eq(pin_write_list(hist, cfg, now_ms(), err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "held by another writer"));
    ck_assert_int_ge(now_ms() - t0, 4000);	/* it waited */
    ck_assert(access(list, F_OK) != 0);
    close(fd);
    ck_assert_int_eq(pin_write_list(hist, cfg, now_ms(), err, sizeof(err)), 0);
}
END_TEST

/* as_nobody - in a child: become nobody (uid and only group) */
static void as_nobody(void)
{
    gid_t g = NOBODY;

    if (setgroups(1, &g) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0)
	_exit(255);
}

/* give_nobody - the test directory (database included) to nobody, as
 * the daemon's state directory is its user's */
static void give_nobody(void)
{
    char cmd[160];

    snprintf(cmd, sizeof(cmd), "chown -R %d:%d %s", NOBODY, NOBODY, dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* lock_like_writer - open and flock the lock file as pin_write_list
 * does (read-only, created 0644); the descriptor, -1 on failure */
static int lock_like_writer(void)
{
    int fd = open(lock, O_RDONLY | O_CREAT | O_CLOEXEC, 0644);

    if (fd >= 0 && flock(fd, LOCK_EX) != 0) {
	close(fd);
	fd = -1;
    }
    return fd;
}

/* nobody_holds - a child as nobody holding the lock until *release is
 * closed; its pid, once it holds it */
static pid_t nobody_holds(int *release)
{
    int up[2], down[2];
    char c;
    pid_t pid;

    ck_assert_int_eq(pipe(up), 0);
    ck_assert_int_eq(pipe(down), 0);
    ck_assert_int_ge(pid = fork(), 0);
    if (pid == 0) {
	close(up[0]), close(down[1]);
	as_nobody();
	if (lock_like_writer() < 0)
	    _exit(1);
	if (write(up[1], "h", 1) != 1 || read(down[0], &c, 1) < 0)
	    _exit(2);
	_exit(0);
    }
    close(up[1]), close(down[0]);
    ck_assert_msg(read(up[0], &c, 1) == 1, "the child as nobody could not take the lock");
    close(up[0]);
    *release = down[1];
    return pid;
}

/* nobody_writes - a child as nobody runs pin_write_list with its own
 * history handle (after closing held, a lock descriptor of the parent's
 * it must not share, or -1); its pid, and the pipe its result (rc, err)
 * comes on */
static pid_t nobody_writes(int held, int *result)
{
    int p[2];
    pid_t pid;

    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_ge(pid = fork(), 0);
    if (pid == 0) {
	struct writer w = {-3, ""};
	struct hist *h;

	close(p[0]);
	if (held >= 0)
	    close(held);
	as_nobody();
	if (hist_open(cfg->collector.database, &h, w.err, sizeof(w.err)) == HIST_OK)
	    w.rc = pin_write_list(h, cfg, now_ms(), w.err, sizeof(w.err));
	_exit(write(p[1], &w, sizeof(w)) == sizeof(w) ? 0 : 3);
    }
    close(p[1]);
    *result = p[0];
    return pid;
}

/* result_of - what nobody_writes' child reported; it exited normally */
static struct writer result_of(pid_t pid, int fd)
{
    struct writer w;
    int status;

    ck_assert_int_eq(read(fd, &w, sizeof(w)), sizeof(w));
    close(fd);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer status %d", status);
    return w;
}

/* slurp - a file's text (static; "" when missing) */
static const char *slurp(const char *path)
{
    static char buf[4096];
    size_t n = 0;
    FILE *f = fopen(path, "r");

    if (f != NULL) {
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
    }
    buf[n] = 0;
    return buf;
}

/* pin - one more pin, so that a rewrite would change the list */
static void pin(const char *address)
{
    struct pin_change c = {.address = address, .who = "admin", .reason = "more"};
    char err[512];

    c.now_ms = now_ms();
    ck_assert_int_eq(pin_add(hist, &c, err, sizeof(err)), HIST_OK);
}

/* The daemon's user (nobody) holds the lock it created: root's writer
 * waits the 5 s, gives up with an error naming the lock, and the list
 * stays as it was; once nobody lets go, root writes */
START_TEST(test_nobody_holds_root_gives_up)
{
    char err[512] = "", old[4096];
    int64_t t0;
    int release, status;
    pid_t pid;
    struct stat sb;

    ck_assert_msg(pin_write_list(hist, cfg, now_ms(), err, sizeof(err)) == 0, "%s", err);
    snprintf(old, sizeof(old), "%s", slurp(list));
    ck_assert_ptr_nonnull(strstr(old, "192.0.2.9 # pinned"));
    give_nobody();
    unlink(lock);			/* the daemon's own, made by nobody */
    pid = nobody_holds(&release);
    ck_assert_int_eq(stat(lock, &sb), 0);
    ck_assert_int_eq(sb.st_uid, NOBODY);
    pin("192.0.2.10");
    t0 = now_ms();
    ck_assert_int_eq(pin_write_list(hist, cfg, now_ms(), err, sizeof(err)), -1);
    ck_assert_int_ge(now_ms() - t0, 4900);
    ck_assert_msg(strstr(err, lock) && strstr(err, "held by another writer for 5 s; the list"
					      " was not rewritten"), "%s", err);
    ck_assert_str_eq(slurp(list), old);
    close(release);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_int_eq(status, 0);
    ck_assert_msg(pin_write_list(hist, cfg, now_ms(), err, sizeof(err)) == 0, "%s", err);
    ck_assert_ptr_nonnull(strstr(slurp(list), "192.0.2.10 # pinned"));
}
END_TEST

/* Root holds the lock it created (0644): a writer as nobody opens it all
 * the same, waits, and writes once root lets go */
START_TEST(test_root_holds_nobody_waits)
{
    struct pollfd pf;
    struct writer w;
    int fd, result;
    pid_t pid;

    give_nobody();
    ck_assert_int_ge(fd = lock_like_writer(), 0);
    pid = nobody_writes(fd, &result);
    pf.fd = result, pf.events = POLLIN;
    ck_assert_int_eq(poll(&pf, 1, HELD_MS), 0);	/* still waiting */
    ck_assert_msg(access(list, F_OK) != 0, "written while root held the lock");
    close(fd);
    w = result_of(pid, result);
    ck_assert_msg(atomic_load(&w.rc) == 0, "%s", w.err);
    ck_assert_ptr_nonnull(strstr(slurp(list), "192.0.2.9 # pinned"));
}
END_TEST

/* The list's directory is root's (0755) and the writer runs as nobody:
 * with the lock file there, the new list cannot be made; without it, the
 * lock cannot; each time a clear error, no crash, the old list as it
 * was and nothing left beside it */
START_TEST(test_dir_not_writable)
{
    char err[512] = "", old[4096], sub[160], cmd[256];
    struct writer w;
    int result;
    pid_t pid;

    snprintf(sub, sizeof(sub), "%s/lists", dir);
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    free(cfg->rogue.list_path);
    ck_assert_ptr_nonnull(cfg->rogue.list_path = malloc(strlen(sub) + 16));
    sprintf(cfg->rogue.list_path, "%s/rogue.list", sub);
    snprintf(list, sizeof(list), "%s", cfg->rogue.list_path);
    snprintf(lock, sizeof(lock), "%s.lock", list);
    ck_assert_msg(pin_write_list(hist, cfg, now_ms(), err, sizeof(err)) == 0, "%s", err);
    snprintf(old, sizeof(old), "%s", slurp(list));
    give_nobody();
    snprintf(cmd, sizeof(cmd), "chown -R 0:0 %s", sub);
    ck_assert_int_eq(system(cmd), 0);
    pin("192.0.2.10");
    pid = nobody_writes(-1, &result);
    w = result_of(pid, result);
    ck_assert_int_eq(w.rc, -1);
    ck_assert_msg(strstr(w.err, sub) && strstr(w.err, "Permission denied"), "%s", w.err);
    ck_assert_str_eq(slurp(list), old);
    unlink(lock);
    pid = nobody_writes(-1, &result);
    w = result_of(pid, result);
    ck_assert_int_eq(w.rc, -1);
    ck_assert_msg(strstr(w.err, lock) && strstr(w.err, "cannot open the writers' lock:"
						   " Permission denied"), "%s", w.err);
    ck_assert_str_eq(slurp(list), old);
    snprintf(cmd, sizeof(cmd), "test \"$(ls -A %s)\" = rogue.list", sub);
    ck_assert_msg(system(cmd) == 0, "files left beside the list");
}
END_TEST

/* "rogue add" while another writer holds the lock: it says the pin is
 * stored in the database and the list not rewritten (old: only the lock's
 * error, so an admin could not tell whether the pin was kept), exits
 * EX_TEMPFAIL, leaves the list as it was, and the next write carries it */
START_TEST(test_rogue_add_lock_held)
{
    char *argv[] = {(char *) "rogue", (char *) "add", (char *) "192.0.2.77",
	(char *) "--reason", (char *) "held", NULL};
    char err[512] = "", old[4096], path[160], said[4096];
    int fd, out;

    ck_assert_msg(pin_write_list(hist, cfg, now_ms(), err, sizeof(err)) == 0, "%s", err);
    snprintf(old, sizeof(old), "%s", slurp(list));
    fd = hold();
    snprintf(path, sizeof(path), "%s/stderr", dir);
    out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(out, 0);
    ck_assert_int_eq(dup2(out, 2), 2);
    ck_assert_int_eq(cmd_rogue(cfg, 5, argv), EX_TEMPFAIL);
    close(out);
    snprintf(said, sizeof(said), "%s", slurp(path));
    ck_assert_msg(strstr(said, "192.0.2.77: pinned in the database, but the rogue list was"
			 " not rewritten: ") != NULL, "%s", said);
    ck_assert_msg(strstr(said, "held by another writer for 5 s") != NULL, "%s", said);
    ck_assert_msg(strstr(said, "the list takes the change at its next rewrite") != NULL, "%s",
		  said);
    ck_assert_int_eq(scalar("SELECT count(*) FROM rogue_pin WHERE address = '192.0.2.77'"
			    " AND action = 'pin'"), 1);
    ck_assert_str_eq(slurp(list), old);
    close(fd);
    ck_assert_msg(pin_write_list(hist, cfg, now_ms(), err, sizeof(err)) == 0, "%s", err);
    ck_assert_ptr_nonnull(strstr(slurp(list), "192.0.2.77 # pinned"));
}
END_TEST

/* pin_suite - the writers' lock */
static Suite *pin_suite(void)
{
    Suite *s = suite_create("pin");
    TCase *tc = tcase_create("lock");

    tcase_add_checked_fixture(tc, setup, ct_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_waits_for_the_lock);
    tcase_add_test(tc, test_gives_up);
    tcase_add_test(tc, test_nobody_holds_root_gives_up);
    tcase_add_test(tc, test_root_holds_nobody_waits);
    tcase_add_test(tc, test_dir_not_writable);
    tcase_add_test(tc, test_rogue_add_lock_held);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(pin_suite());
}
