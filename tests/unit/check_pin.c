/*
 * check_pin - the rogue list's writers' lock: pin_write_list waits while
 * another writer holds "LIST_PATH.lock" and writes once it is free (so a
 * list built before another process's pin cannot replace the one with
 * it), and gives up with an error when the lock is held too long.
 */
#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../collector/evdb.h"
#include "../../collector/pin.h"
#include "check_main.h"

#define HELD_MS 400		/* how long the test holds the lock */

static char dir[64], list[128], lock[160];
static struct cfg *cfg;
static struct hist *hist;

/* now_ms - the wall clock */
static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* setup - a configuration with a rogue list, the database, one pin */
static void setup(void)
{
    struct pin_change c = {.address = "192.0.2.9", .who = "admin", .reason = "test"};
    char conf[128], err[1024];
    FILE *f;

    snprintf(dir, sizeof(dir), "/tmp/check_pin.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(list, sizeof(list), "%s/rogue.list", dir);
    snprintf(lock, sizeof(lock), "%s.lock", list);
    snprintf(conf, sizeof(conf), "%s/rg.conf", dir);
    ck_assert_ptr_nonnull(f = fopen(conf, "w"));
    fprintf(f, "collector: { database = \"%s/c.db\"; incidents_file = \"\"; };\n"
	    "rogue: { list_path = \"%s\"; };\n", dir, list);
    fclose(f);
    cfg = cfg_load(conf, err, sizeof(err));
    ck_assert_msg(cfg != NULL, "%s", err);
    ck_assert_int_eq(hist_open(cfg->collector.database, &hist, err, sizeof(err)), HIST_OK);
    ck_assert_int_eq(evdb_init(hist, err, sizeof(err)), HIST_OK);
    c.now_ms = now_ms();
    ck_assert_int_eq(pin_add(hist, &c, err, sizeof(err)), HIST_OK);
}

/* teardown - everything setup made */
static void teardown(void)
{
    char cmd[128];

    hist_close(hist);
    cfg_free(cfg);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
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
    int rc;
    char err[512];
};

/* write_list - pin_write_list on a thread */
static void *write_list(void *arg)
{
    struct writer *w = arg;

    w->rc = pin_write_list(hist, cfg, now_ms(), w->err, sizeof(w->err));
    return NULL;
}

/* nap - sleep ms milliseconds */
static void nap(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

START_TEST(test_waits_for_the_lock)
{
    struct writer w = {-2, ""};
    pthread_t tid;
    int fd = hold();

    ck_assert_int_eq(pthread_create(&tid, NULL, write_list, &w), 0);
    nap(HELD_MS);
    ck_assert_msg(access(list, F_OK) != 0, "written while another writer held the lock");
    ck_assert_int_eq(w.rc, -2);
    close(fd);				/* the other writer is done */
    pthread_join(tid, NULL);
    ck_assert_msg(w.rc == 0, "%s", w.err);
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

/* pin_suite - the writers' lock */
static Suite *pin_suite(void)
{
    Suite *s = suite_create("pin");
    TCase *tc = tcase_create("lock");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_waits_for_the_lock);
    tcase_add_test(tc, test_gives_up);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(pin_suite());
}
