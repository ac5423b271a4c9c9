/*
 * check_notify - the alert thread: after a failed mail it wakes by itself
 * when the retry is due (alerts.retry), without waiting for the next kick
 * of the event loop, and it does not spin while it waits.
 */
#include <check.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../collector/alert.h"
#include "../../collector/notify.h"
#include "check_main.h"
#include "collector_test.h"

#define RETRY_MS 1000		/* alerts.retry below */
#define LATE_MS 5000		/* the retry's mail at the latest (old: never, with no kick) */

static atomic_int passes;

/* exists - dir/name is there */
static int exists(const char *name)
{
    char path[128];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

/* setup - alerts on (retry 1 s), a sendmail that fails its first run and
 * keeps the message of the next, one open incident */
static void setup(void)
{
    char text[512];

    ct_setup("check_notify", "incidents_file = \"\"; alerts: { to = \"sec@example.org\";"
	     " from = \"rg@mx.example.org\"; sendmail = \"$D/sendmail\"; max_per_hour = 5;"
	     " timeout = \"5s\"; retry = \"1s\"; };");
    snprintf(text, sizeof(text), "#!/bin/sh\nif [ ! -e %s/failed ]; then cat >/dev/null;"
	     " touch %s/failed; exit 75; fi\ncat >%s/mail\ntouch %s/sent\n", dir, dir, dir, dir);
    ct_put("sendmail", text, 0755);
    snprintf(text, sizeof(text), "INSERT INTO incident VALUES ('INC-000000000020',"
	     " 'login_from_flagged', 'usr1', %lld, %lld, %lld, %lld, 0, 1, '[\"usr1\"]',"
	     " '[\"198.18.9.9\"]', '[\"BR\"]', '[64501]', '[\"rogue_server\"]',"
	     " '[\"rogue-host\"]', '[]')", (long long) now_ms(), (long long) now_ms(),
	     (long long) now_ms(), (long long) now_ms());
    sql(text);
    atomic_store(&passes, 0);
}

/* count - the report of a pass (on the alert thread): counted */
static void count(void *arg, const struct cfg *c, enum hist_status rc,
		  const struct alert_pass *p, const char *err)
{
    (void) arg, (void) c, (void) rc, (void) p, (void) err;
    atomic_fetch_add(&passes, 1);
}

/* One kick: the mail fails, and goes out when alerts.retry is over, with
 * no second kick (old: the thread slept until the next kick, which the
 * event loop gives every 10 s when idle); a few passes, not a spin */
START_TEST(test_retry_when_due)
{
    struct notify *n;
    char err[1024];
    int64_t kicked_at, failed_at;
    int i;

    ck_assert_msg(notify_start(&n, cfg, count, NULL, err, sizeof(err)) == 0, "%s", err);
    ck_assert_ptr_nonnull(n);
    kicked_at = now_ms();
    notify_kick(n);
    for (i = 0; i < 300 && !exists("failed"); i++)
	nap(10);
    ck_assert_msg(exists("failed"), "no first try");
    failed_at = now_ms();
    while (!exists("sent") && now_ms() - failed_at < 2 * LATE_MS)
	nap(10);
    ck_assert_msg(exists("sent"), "the retry did not go out without a kick");
    ck_assert_msg(now_ms() - kicked_at >= RETRY_MS, "retried %lld ms after the kick, before"
		  " alerts.retry", (long long) (now_ms() - kicked_at));
    ck_assert_msg(now_ms() - failed_at <= LATE_MS, "retried %lld ms after the failure",
		  (long long) (now_ms() - failed_at));
    notify_stop(n);
    ck_assert_int_le(atomic_load(&passes), 4);
    ck_assert_int_eq(scalar("SELECT count(*) FROM alert_item WHERE state = 'sent'"), 1);
    ck_assert_int_eq(scalar("SELECT count(*) FROM alert_try"), 0);
}
END_TEST

/* notify_suite - the alert thread */
static Suite *notify_suite(void)
{
    Suite *s = suite_create("notify");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, ct_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_retry_when_due);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(notify_suite());
}
