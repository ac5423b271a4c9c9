/*
 * check_ctl_mta - unit tests of relayguardctl's (ctl/) side that talks to
 * the MTA: queue-id validation, the X-Relayguard header and the Postfix
 * and Sendmail output parsers, the safe tool runner, and contain (with
 * quarantine's failure path) run against fake Postfix tools put first in
 * PATH.
 *
 * main() makes the private directory of ctl_test.h (configuration, state
 * file) and writes the fake postqueue/postsuper/postcat into it; every
 * test runs forked. Times are fixed: the commands get NOW as their clock.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../ctl/ctl.h"
#include "../../ctl/jread.h"
#include "../../ctl/mta.h"
#include "../../ctl/proc.h"
#include "check_main.h"
#include "ctl_test.h"
#include "store_int.h"

#define BUSY_US 700000	/* a writer's stop in alice's stripe: longer
			 * than ctl's one wait for it (500 ms) */
#define BUSY_LONG_US 1200000	/* longer than two such waits in turn
				 * (block's read, then its write) */

static char fakebin[PATH_LEN], pathbin[PATH_LEN], postconf[PATH_LEN + 16];

/* ---- parsers ------------------------------------------------------------- */

START_TEST(test_qid)
{
    static const char *const good[] = {
	"4F9D42C0F2", "a", "4Xyz2C0F2Bz1w7Zl", "5AMFWx8S012345",
	"0123456789012345678901234567890",
    };
    static const char *const bad[] = {
	"", "ab-c", "a b", "../x", "x;rm", "ID\n", "-h", "*", "ALL",
	"01234567890123456789012345678901", "\xc3\xa9", "$(id)",
    };

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
	ck_assert_msg(mta_qid_valid(good[i]), "refused %s", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	ck_assert_msg(!mta_qid_valid(bad[i]), "accepted %s", bad[i]);
    ck_assert(!mta_qid_valid(NULL));
}
END_TEST

START_TEST(test_rg_parse)
{
    struct mta_rg rg;
    char big[1200];

    memset(&rg, 0, sizeof(rg));
    mta_rg_parse(" action=quarantine rule=many-networks user=\"al\\\"ice\""
		 " client=[203.0.113.7] country=BR reason=\"7 nets, \\\\ 1h\""
		 " junk x=y =z \"q\" extra=1", &rg);
    ck_assert_str_eq(rg.action, "quarantine");
    ck_assert_str_eq(rg.rule, "many-networks");
    ck_assert_str_eq(rg.user, "al\"ice");
    ck_assert_str_eq(rg.client, "203.0.113.7");
    ck_assert_str_eq(rg.country, "BR");
    ck_assert_str_eq(rg.reason, "7 nets, \\ 1h");
    mta_rg_parse("reason=\"unterminated", &rg);
    ck_assert_str_eq(rg.reason, "unterminated");
    ck_assert_str_eq(rg.rule, "");
    memset(big, 'r', sizeof(big) - 1);
    memcpy(big, "rule=", 5);
    big[sizeof(big) - 1] = '\0';
    mta_rg_parse(big, &rg);
    ck_assert_uint_eq(strlen(rg.rule), MTA_FIELD_MAX - 1);
    mta_rg_parse("=== \"\" [] ]] \\", &rg);
    ck_assert_str_eq(rg.rule, "");
}
END_TEST

START_TEST(test_postfix_parse)
{
    const char *q =
	"{\"queue_name\": \"hold\", \"queue_id\": \"4F9D42C0F2\","
	" \"arrival_time\": 100, \"message_size\": 562, \"sender\": \"s@x\","
	" \"recipients\": [{\"address\": \"r1@y\"}, {\"address\": \"r2@y\"}]}\n"
	"{\"queue_name\": \"deferred\", \"queue_id\": \"AB12\","
	" \"sender\": \"\", \"recipients\": []}\n"
	"{\"queue_name\": \"hold\", \"queue_id\": \"../etc\","
	" \"recipients\": []}\n"
	"garbage line\n";
    const char *d =
	"*** ENVELOPE RECORDS hold/4F9D42C0F2 ***\n"
	"named_attribute: log_client_address=192.0.2.1\n"
	"named_attribute: sasl_username=alice\n"
	"sender: s@x\n"
	"named_attribute: client_address=203.0.113.7\n"
	"*** MESSAGE CONTENTS hold/4F9D42C0F2 ***\n"
	"Received: from x\n"
	"\tby y\n"
	"x-relayguard: action=tag rule=first user=\"mallory\"\n"
	"Subject: hi\n"
	"X-Relayguard: action=quarantine rule=many-networks\n"
	"\tuser=\"alice\" client=[203.0.113.7] country=BR reason=\"r\"\n"
	"\n"
	"X-Relayguard: rule=in-the-body\n"
	"*** HEADER EXTRACTED hold/4F9D42C0F2 ***\n";
    struct mta_list l = { NULL, 0, 0 };
    struct mta_msg m;
    char e[128];

    ck_assert_int_eq(mta_postfix_parse_queue(q, strlen(q), MTA_HELD, &l, e,
					     sizeof(e)), MTA_OK);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_str_eq(l.v[0].id, "4F9D42C0F2");
    ck_assert_str_eq(l.v[0].queue, "hold");
    ck_assert_str_eq(l.v[0].sender, "s@x");
    ck_assert_str_eq(l.v[0].rcpt, "r1@y");
    ck_assert_uint_eq(l.v[0].nrcpt, 2);
    ck_assert_int_eq(l.v[0].arrival, 100);
    ck_assert_uint_eq(l.v[0].size, 562);
    mta_list_free(&l);
    ck_assert_int_eq(mta_postfix_parse_queue(q, strlen(q), MTA_ALL, &l, e,
					     sizeof(e)), MTA_OK);
    ck_assert_uint_eq(l.n, 2);
    ck_assert_ptr_nonnull(mta_list_find(&l, "AB12"));
    ck_assert_ptr_null(mta_list_find(&l, "AB1"));
    mta_list_free(&l);
    ck_assert_int_eq(mta_postfix_parse_queue("junk\n", 5, MTA_ALL, &l, e,
					     sizeof(e)), MTA_EPARSE);
    mta_list_free(&l);
    ck_assert_int_eq(mta_postfix_parse_queue("", 0, MTA_ALL, &l, e,
					     sizeof(e)), MTA_OK);

    memset(&m, 0, sizeof(m));
    mta_postfix_parse_details(d, strlen(d), &m);
    ck_assert_str_eq(m.login, "alice");
    ck_assert_str_eq(m.client, "203.0.113.7");
    ck_assert_int_eq(m.rg.count, 2);	/* the body's line is not a header */
    ck_assert_str_eq(m.rg.rule, "many-networks");	/* folded, the last */
    ck_assert_str_eq(m.rg.user, "alice");
    ck_assert_str_eq(m.rg.country, "BR");

    ck_assert_int_eq(mta_postfix_count("postsuper: Placed on hold: 3 messages\n",
				       "Placed on hold"), 3);
    ck_assert_int_eq(mta_postfix_count("postsuper: Deleted: 1 message\n",
				       "Placed on hold"), 0);
}
END_TEST

START_TEST(test_sendmail_parse)
{
    const char *q =
	"\t\t/var/spool/mqueue (2 requests)\n"
	"-----Q-ID----- --Size-- -----Q-Time----- ------------Sender/Recipient"
	"-----------\n"
	"5AMFWx8S012345*     1024 Sun Oct 19 10:16 <sender@example.com>\n"
	"     QUARANTINE: action=quarantine rule=many-countries user=\"alice\""
	" client=[203.0.113.7] country=BR reason=\"4 countries\"\n"
	"                                         <rcpt@example.net>\n"
	"5AMFWy9T012346     2048 Sun Oct 19 10:17 <other@example.com>\n"
	"     QUARANTINE: held by admin\n"
	"                 (Deferred: Connection refused)\n"
	"                                         <a@example.net>\n"
	"                                         <b@example.net>\n"
	"\t\tTotal requests: 2\n";
    struct mta_list l = { NULL, 0, 0 };

    ck_assert_int_eq(mta_sendmail_parse_queue(q, strlen(q), MTA_HOLD, &l), 2);
    ck_assert_str_eq(l.v[0].id, "5AMFWx8S012345");
    ck_assert_uint_eq(l.v[0].size, 1024);
    ck_assert_str_eq(l.v[0].sender, "sender@example.com");
    ck_assert_str_eq(l.v[0].rg.rule, "many-countries");
    ck_assert_str_eq(l.v[0].login, "alice");
    ck_assert_str_eq(l.v[0].rcpt, "rcpt@example.net");
    ck_assert_str_eq(l.v[1].rg.reason, "held by admin");
    ck_assert_uint_eq(l.v[1].nrcpt, 2);
    ck_assert_str_eq(l.v[1].queue, "hold");
    mta_list_free(&l);
    q = "Mail queue is empty\n";
    ck_assert_int_eq(mta_sendmail_parse_queue(q, strlen(q), MTA_HOLD, &l), 0);
    q = "MSP Queue status...\n\t\t/var/spool/clientmqueue is empty\n";
    ck_assert_int_eq(mta_sendmail_parse_queue(q, strlen(q), MTA_HOLD, &l), 0);
    mta_list_free(&l);
}
END_TEST

START_TEST(test_proc)
{
    const char *const lit[] = { "/usr/bin/printf", "%s|%s", "a;b $(id)",
	"`x` *", NULL };
    const char *const slow[] = { "/bin/sleep", "5", NULL };
    const char *const big[] = { "/usr/bin/head", "-c", "100000", "/dev/zero",
	NULL };
    const char *const none[] = { "/no/such-tool-relayguard", NULL };
    const char *const fail[] = { "/bin/sh", "-c", "echo oops >&2; exit 3",
	NULL };
    const char *const bare[] = { "printf", "x", NULL };
    struct proc_result r;
    time_t t0;

    ck_assert_int_eq(proc_run(lit, 5000, 1000, &r), 0);
    ck_assert(proc_ok(&r));
    ck_assert_str_eq(r.out, "a;b $(id)|`x` *");	/* no shell saw it */
    proc_result_free(&r);
    t0 = time(NULL);
    ck_assert_int_eq(proc_run(slow, 200, 1000, &r), 0);
    ck_assert(r.timed_out);
    ck_assert(!proc_ok(&r));
    ck_assert_int_le(time(NULL) - t0, 3);
    proc_result_free(&r);
    ck_assert_int_eq(proc_run(big, 5000, 1000, &r), 0);
    ck_assert(r.truncated);
    ck_assert_uint_eq(r.outlen, 1000);
    ck_assert_int_eq(r.status, 0);
    proc_result_free(&r);
    /* no PATH search: a bare name is refused before anything runs */
    ck_assert_int_eq(proc_run(bare, 5000, 1000, &r), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_int_eq(proc_run(none, 5000, 1000, &r), 0);
    ck_assert_int_eq(r.status, PROC_EXIT_EXEC);
    proc_result_free(&r);
    ck_assert_int_eq(proc_run(fail, 5000, 1000, &r), 0);
    ck_assert_int_eq(r.status, 3);
    ck_assert_str_eq(r.err, "oops\n");
    proc_result_free(&r);
}
END_TEST

/* ---- contain -------------------------------------------------------------- */

/* fake_postqueue - the fake queue listing (test_contain breaks it) */
static void fake_postqueue(void)
{
    char path[PATH_LEN + 32];

    snprintf(path, sizeof(path), "%s/postqueue", fakebin);
    write_file(path, "#!/bin/sh\n"
	       "echo '{\"queue_name\": \"deferred\", \"queue_id\": \"4F9D42C0F2\","
	       " \"arrival_time\": 1, \"message_size\": 10, \"sender\": \"a@x\","
	       " \"recipients\": [{\"address\": \"v@y\"}]}'\n"
	       "echo '{\"queue_name\": \"deferred\", \"queue_id\": \"SCAN1\","
	       " \"arrival_time\": 2, \"message_size\": 10, \"sender\": \"a@x\","
	       " \"recipients\": []}'\n"
	       "echo '{\"queue_name\": \"active\", \"queue_id\": \"OTHER2\","
	       " \"sender\": \"b@x\", \"recipients\": []}'\n"
	       "echo '{\"queue_name\": \"hold\", \"queue_id\": \"AB12CD34\","
	       " \"sender\": \"a@x\", \"recipients\": []}'\n"
	       "echo 'not json at all'\n", 0755);
}

/* fake_tools - postqueue/postsuper/postcat stand-ins for contain */
static void fake_tools(void)
{
    char path[PATH_LEN + 32], text[2048];

    snprintf(fakebin, sizeof(fakebin), "%s/bin", tdir);
    if (mkdir(fakebin, 0700) != 0)
	abort();
    fake_postqueue();
    snprintf(path, sizeof(path), "%s/postsuper", fakebin);
    snprintf(text, sizeof(text), "#!/bin/sh\necho \"$@\" >> %s/postsuper.log\n"
	     "echo 'postsuper: Placed on hold: 1 message' >&2\n", tdir);
    write_file(path, text, 0755);
    /* postconf names the fake bin as Postfix's command_directory */
    snprintf(path, sizeof(path), "%s/postconf", fakebin);
    snprintf(text, sizeof(text), "#!/bin/sh\necho \"$@\" >> %s/postconf.log\n"
	     "echo %s\n", tdir, fakebin);
    write_file(path, text, 0755);
    /* a PATH search would find these first: they must never run */
    snprintf(pathbin, sizeof(pathbin), "%s/pathbin", tdir);
    if (mkdir(pathbin, 0700) != 0)
	abort();
    snprintf(text, sizeof(text), "#!/bin/sh\ntouch %s/pathbin-ran\nexit 1\n",
	     tdir);
    for (int i = 0; i < 3; i++) {
	static const char *const names[] = { "postqueue", "postsuper",
	    "postcat" };

	snprintf(path, sizeof(path), "%s/%s", pathbin, names[i]);
	write_file(path, text, 0755);
    }
    snprintf(path, sizeof(path), "%s/postcat", fakebin);
    write_file(path, "#!/bin/sh\n"
	       "for a; do id=$a; done\n"
	       "echo \"*** ENVELOPE RECORDS deferred/$id ***\"\n"
	       "case $id in SCAN1) u=ALICE@example.org ;; *) u=bob ;; esac\n"
	       "echo \"named_attribute: sasl_username=$u\"\n"
	       "echo \"*** MESSAGE CONTENTS deferred/$id ***\"\n"
	       "echo 'Subject: x'\n", 0755);
}

/* file_has - a log of the fake tools contains s */
static int file_has(const char *name, const char *s)
{
    char path[PATH_LEN + 32], buf[4096] = "";
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "%s/%s", tdir, name);
    if ((f = fopen(path, "r")) == NULL)
	return 0;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return strstr(buf, s) != NULL;
}

/* log_has - the fake postsuper's argument log contains s */
static int log_has(const char *s)
{
    return file_has("postsuper.log", s);
}

START_TEST(test_contain)
{
    char path[PATH_LEN * 2 + 64], log[PATH_LEN + 32];
    struct jread_val *v;
    int64_t n;

    state_make();
    snprintf(log, sizeof(log), "%s/postsuper.log", tdir);
    unlink(log);
    snprintf(path, sizeof(path), "%s:%s", pathbin, getenv("PATH"));
    setenv("PATH", path, 1);
    snprintf(postconf, sizeof(postconf), "%s/postconf", fakebin);
    mta_postconf_path = postconf;
    ck_assert_int_eq(run("-c", conf, "contain", "alice@example.org", NULL), 0);
    ck_assert(file_has("postconf.log", "-h command_directory"));
    snprintf(path, sizeof(path), "%s/pathbin-ran", tdir);
    ck_assert_msg(access(path, F_OK) != 0, "a tool was found through PATH");
    ck_assert_ptr_nonnull(line_of(out, "AB12CD34    hold      already held"));
    ck_assert_ptr_nonnull(line_of(out, "4F9D42C0F2  deferred  held "));
    ck_assert_ptr_nonnull(strstr(out, "1 held, 1 already held, 0 no longer"));
    ck_assert(log_has("-h 4F9D42C0F2"));
    ck_assert(!log_has("AB12CD34"));
    ck_assert(!log_has("SCAN1"));
    /* --scan finds the login in the envelope of another queued message */
    ck_assert_int_eq(run("-c", conf, "--json", "contain", "alice@example.org",
			 "--scan", NULL), 0);
    v = parse_out();
    ck_assert_int_eq(jread_int(v, "held", &n), 0);
    ck_assert_int_eq(n, 2);
    jread_free(v);
    ck_assert(log_has("-h SCAN1"));
    ck_assert(!log_has("OTHER2"));
    ck_assert_int_eq(run("-c", conf, "contain", "nobody@example.org", NULL),
		     1);
    /* the tool failing is exit 69, with its message */
    snprintf(path, sizeof(path), "%s/postqueue", fakebin);
    write_file(path, "#!/bin/sh\necho 'postqueue: fatal: boom' >&2\nexit 1\n",
	       0755);
    ck_assert_int_eq(run("-c", conf, "contain", "alice@example.org", NULL),
		     CTL_EXIT_UNAVAILABLE);
    ck_assert_ptr_nonnull(strstr(err, "postqueue: fatal: boom"));
    ck_assert_int_eq(run("quarantine", "list", NULL), CTL_EXIT_UNAVAILABLE);
    /* -C DIR: that instance's command_directory */
    ck_assert_int_eq(run("-C", "/etc/postfix-other", "quarantine", "list",
			 NULL), CTL_EXIT_UNAVAILABLE);
    ck_assert(file_has("postconf.log",
		       "-c /etc/postfix-other -h command_directory"));
    /* postconf failing (no main.cf): its reason, and what -C is for */
    snprintf(path, sizeof(path), "%s/postconf-broken", fakebin);
    write_file(path, "#!/bin/sh\necho 'postconf: fatal: open /etc/postfix/"
	       "main.cf: No such file or directory' >&2\nexit 1\n", 0755);
    mta_postconf_path = path;
    ck_assert_int_eq(run("quarantine", "list", NULL), CTL_EXIT_UNAVAILABLE);
    ck_assert_msg(strstr(err, "cannot find postqueue: ") != NULL
		  && strstr(err, "postconf-broken -h command_directory failed:"
			    " postconf: fatal: open /etc/postfix/main.cf: No"
			    " such file or directory (-C names another"
			    " instance's directory)") != NULL, "err: %s", err);
    /* no postconf: the tools are not looked for anywhere else */
    mta_postconf_path = "/nonexistent/postconf";
    ck_assert_int_eq(run("quarantine", "list", NULL), CTL_EXIT_UNAVAILABLE);
    ck_assert_ptr_nonnull(strstr(err, "cannot find postqueue"));
    snprintf(path, sizeof(path), "%s/pathbin-ran", tdir);
    ck_assert_msg(access(path, F_OK) != 0, "a tool was found through PATH");
}
END_TEST

/* ctl_mta_suite - the test cases */
/* busy_alice_for - fork a writer that holds alice's stripe for us
 * microseconds, then lets go; returns once it holds it */
static pid_t busy_alice_for(useconds_t us)
{
    char key[STORE_LOGIN_MAX], c;
    size_t len;
    int p[2];
    pid_t pid;

    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_ge(pid = fork(), 0);
    if (pid == 0) {
	STORE *st = state_open();
	unsigned s = store_stripe_of(store_login_ref(st, "alice@example.org",
						     key, &len));

	if (store_lock(st, &st->users, s) != STORE_OK
	    || write(p[1], "x", 1) != 1)
	    _exit(1);
	usleep(us);
	store_unlock(&st->users, s);
	_exit(0);
    }
    close(p[1]);
    ck_assert_int_eq(read(p[0], &c, 1), 1);
    close(p[0]);
    return pid;
}

/* busy_alice - the same for BUSY_US */
static pid_t busy_alice(void)
{
    return busy_alice_for(BUSY_US);
}

/* contain waits out a writer's short stop in the login's stripe with
 * the one busy-stripe retry the rest of ctl uses (ctl_user_get); the
 * old code said "busy" at the first timeout */
START_TEST(test_contain_busy_retry)
{
    char path[PATH_LEN * 2 + 64];
    int status;
    pid_t pid;

    state_make();
    snprintf(path, sizeof(path), "%s:%s", pathbin, getenv("PATH"));
    setenv("PATH", path, 1);
    snprintf(postconf, sizeof(postconf), "%s/postconf", fakebin);
    mta_postconf_path = postconf;
    fake_postqueue();
    pid = busy_alice();
    ck_assert_msg(run("-c", conf, "contain", "alice@example.org", NULL) == 0,
		  "contain: %s", err);
    ck_assert_ptr_nonnull(line_of(out, "4F9D42C0F2  deferred  held "));
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

/* block and unblock wait out a writer's short stop in the login's
 * stripe with the same busy-stripe retry (the old code said "the state
 * is busy", exit 69, at the first timeout; its block read the entry and
 * then wrote it, 500 ms each, so its stop is longer than both) */
START_TEST(test_block_busy_retry)
{
    struct store_user u;
    int status;
    pid_t pid;
    STORE *st;

    state_make();
    pid = busy_alice_for(BUSY_LONG_US);
    ck_assert_msg(run("-c", conf, "block", "alice@example.org", "--for",
		      "1h", NULL) == 0, "block: %s", err);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    st = state_open();
    ck_assert_int_eq(store_user_get(st, "alice@example.org", NOW, &u),
		     STORE_OK);
    ck_assert_int_eq(u.block.setby, STORE_BY_ADMIN);
    store_close(st);
    pid = busy_alice();
    ck_assert_msg(run("-c", conf, "unblock", "alice@example.org", NULL) == 0,
		  "unblock: %s", err);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    st = state_open();
    ck_assert_int_eq(store_user_get(st, "alice@example.org", NOW, &u),
		     STORE_OK);
    ck_assert_uint_eq(u.block.until, 0);
    store_close(st);
}
END_TEST

static Suite *ctl_mta_suite(void)
{
    Suite *s = suite_create("ctl_mta");
    TCase *tc = tcase_create("mta");

    tcase_add_test(tc, test_qid);
    tcase_add_test(tc, test_rg_parse);
    tcase_add_test(tc, test_postfix_parse);
    tcase_add_test(tc, test_sendmail_parse);
    tcase_add_test(tc, test_proc);
    suite_add_tcase(s, tc);
    tc = tcase_create("commands");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_contain);
    tcase_add_test(tc, test_contain_busy_retry);
    tcase_add_test(tc, test_block_busy_retry);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int rc;

    ctl_fixture();
    fake_tools();
    ctl_conf("");
    rc = check_run(ctl_mta_suite());
    ctl_cleanup();
    return rc;
}
