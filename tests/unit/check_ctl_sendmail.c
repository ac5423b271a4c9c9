/*
 * check_ctl_sendmail - relayguardctl's Sendmail back end against a
 * made-up sendmail.cf and queue directory: the details of a quarantined
 * message come from its queue file (the whole quarantine reason, which
 * mailq -qQ cuts at 60 characters; the login; the client), found through
 * the .cf file's QueueDirectory; -C names that .cf file, not a directory.
 *
 * main() makes the private directory of ctl_test.h; every test runs
 * forked.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../ctl/mta.h"
#include "check_main.h"
#include "ctl_test.h"

#define ID "5AMFWx8S012345"
#define LONG_REASON "action=quarantine rule=impossible-travel user=\"alice\"" \
    " client=[203.0.113.7] country=BR reason=\"8200 km/h from DE: 9911 km" \
    " from the login 1h12m before (limit 1000)\""

static char cf[PATH_LEN], qdir[PATH_LEN];

/* What mailq -qQ prints for the message: the reason cut at 60. */
static const char mailq_out[] =
    "\t\t/var/spool/mqueue (1 request)\n"
    "-----Q-ID----- --Size-- -----Q-Time----- ------------Sender/Recipient"
    "-----------\n"
    ID "     1024 Sun Oct 19 10:16 <sender@example.com>\n"
    "     QUARANTINE: action=quarantine rule=impossible-travel user=\"alice\n"
    "                                         <rcpt@example.net>\n";

/* The control file Sendmail keeps for it (hf: quarantined). */
static const char hf_text[] =
    "V8\n"
    "T1760868960\n"
    "K0\n"
    "N0\n"
    "P30000\n"
    "$_client.example [203.0.113.7]\n"
    "$rESMTPSA\n"
    "${auth_type}LOGIN\n"
    "${auth_authen}alice\n"
    "Ssender@example.com\n"
    "q" LONG_REASON "\n"
    "rRFC822; rcpt@example.net\n"
    "RPFD:<rcpt@example.net>\n"
    "RPFD:<other@example.net>\n"
    "H?P?Return-Path: <g>\n"
    "H??Received: from client.example\n"
    "\tby mx.example\n"
    "H??X-Relayguard: action=tag rule=forged user=\"mallory\"\n"
    "H??Subject: hi\n"
    "H??X-Relayguard: action=quarantine rule=impossible-travel\n"
    "\tuser=\"alice\" client=[203.0.113.7] country=BR reason=\"8200 km/h\"\n"
    ".\n";

/* queue_make - sendmail.cf naming a queue directory with one hf file in
 * its qf subdirectory; subdir "" puts it in the directory itself */
static void queue_make(const char *queue_opt, const char *subdir)
{
    char path[PATH_LEN * 2], text[PATH_LEN * 2];

    snprintf(qdir, sizeof(qdir), "%s/mqueue", tdir);
    mkdir(qdir, 0700);
    snprintf(path, sizeof(path), "%s/hf" ID, qdir);	/* an earlier test's */
    unlink(path);
    snprintf(path, sizeof(path), "%s/qf/hf" ID, qdir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/%s", qdir, subdir);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/%s%shf" ID, qdir, subdir,
	     subdir[0] ? "/" : "");
    write_file(path, hf_text, 0600);
    snprintf(cf, sizeof(cf), "%s/sendmail.cf", tdir);
    snprintf(text, sizeof(text), "# made up\nO QueueDirectory=/nonexistent\n"
	     "O Timeout.queuereturn=5d\n%s\nO DeliveryMode=background\n",
	     queue_opt);
    write_file(cf, text, 0600);
}

/* details - the listing's entry, then the back end's details */
static int details(struct mta_msg *m, char *e, size_t elen)
{
    struct mta_list l = { NULL, 0, 0 };
    struct ctl c;

    ck_assert_int_eq(mta_sendmail_parse_queue(mailq_out, strlen(mailq_out),
					      MTA_HOLD, &l), 1);
    *m = l.v[0];
    mta_list_free(&l);
    memset(&c, 0, sizeof(c));
    c.mta = CTL_MTA_SENDMAIL;
    c.mta_dir = cf;
    return mta_sendmail_ops.details(&c, m, e, elen);
}

START_TEST(test_reason_whole)
{
    char opt[PATH_LEN + 32], e[256] = "";
    struct mta_msg m;

    snprintf(opt, sizeof(opt), "O QueueDirectory=%s/mqueue", tdir);
    queue_make(opt, "qf");
    ck_assert_int_eq(details(&m, e, sizeof(e)), MTA_OK);
    /* mailq cut it at 60; the queue file has all of it */
    ck_assert_str_eq(m.rg.action, "quarantine");
    ck_assert_str_eq(m.rg.rule, "impossible-travel");
    ck_assert_str_eq(m.rg.user, "alice");
    ck_assert_str_eq(m.rg.client, "203.0.113.7");
    ck_assert_str_eq(m.rg.country, "BR");
    ck_assert_str_eq(m.rg.reason, "8200 km/h from DE: 9911 km from the login"
		     " 1h12m before (limit 1000)");
    ck_assert_str_eq(m.login, "alice");
    ck_assert_str_eq(m.client, "203.0.113.7");
    ck_assert_str_eq(m.sender, "sender@example.com");
    ck_assert_str_eq(m.rcpt, "rcpt@example.net");
    ck_assert_uint_eq(m.nrcpt, 2);
    ck_assert_int_eq(m.arrival, 1760868960);
    ck_assert_uint_eq(m.size, 1024);	/* from the listing */
    /* two X-Relayguard headers: one is forged, and it shows */
    ck_assert_int_eq(m.rg.count, 2);
}
END_TEST

START_TEST(test_queue_dir_forms)
{
    char opt[PATH_LEN + 32], e[256] = "", out_dir[PATH_LEN];
    struct mta_msg m;
    const char *t;

    /* the old one-letter form, the file in the directory itself */
    snprintf(opt, sizeof(opt), "OQ%s/mqueue", tdir);
    queue_make(opt, "");
    ck_assert_int_eq(details(&m, e, sizeof(e)), MTA_OK);
    ck_assert_str_eq(m.rg.rule, "impossible-travel");
    /* several queue directories through a pattern */
    snprintf(opt, sizeof(opt), "O QueueDirectory=%s/mq*", tdir);
    queue_make(opt, "qf");
    ck_assert_int_eq(details(&m, e, sizeof(e)), MTA_OK);
    ck_assert_str_eq(m.login, "alice");
    /* parsing alone: the last setting wins, the default without one */
    t = "O QueueDirectory=/a\nO QueueDirectory=/b \r\n";
    mta_sendmail_queue_dir(t, strlen(t), out_dir, sizeof(out_dir));
    ck_assert_str_eq(out_dir, "/b");
    t = "# O QueueDirectory=/c\nOQueueDirectory\n";
    mta_sendmail_queue_dir(t, strlen(t), out_dir, sizeof(out_dir));
    ck_assert_str_eq(out_dir, MTA_SM_QUEUE_DEFAULT);
}
END_TEST

START_TEST(test_no_queue_file)
{
    char opt[PATH_LEN + 32], path[PATH_LEN * 2], e[256] = "";
    struct mta_msg m;

    snprintf(opt, sizeof(opt), "O QueueDirectory=%s/mqueue", tdir);
    queue_make(opt, "qf");
    snprintf(path, sizeof(path), "%s/qf/hf" ID, qdir);
    unlink(path);
    ck_assert_int_eq(details(&m, e, sizeof(e)), MTA_ETOOL);
    ck_assert_ptr_nonnull(strstr(e, ID ": no queue file in"));
    snprintf(cf, sizeof(cf), "%s/missing.cf", tdir);
    ck_assert_int_eq(details(&m, e, sizeof(e)), MTA_ETOOL);
    ck_assert_ptr_nonnull(strstr(e, "missing.cf: No such file"));
}
END_TEST

START_TEST(test_qf_hostile)
{
    static const char text[] =
	"qno key=value here, just words\n"
	"H?x\n"
	"H??X-Relayguard\n"
	"R\n"
	"S\n"
	"$_no brackets\n"
	"\t\tcontinuation without a header\n";
    struct mta_msg m;
    char big[MTA_FIELD_MAX * 3];

    memset(&m, 0, sizeof(m));
    mta_sendmail_parse_qf(text, strlen(text), &m);
    ck_assert_str_eq(m.rg.reason, "no key=value here, just words");
    ck_assert_int_eq(m.rg.count, 1);
    ck_assert_str_eq(m.client, "");
    ck_assert_uint_eq(m.nrcpt, 0);
    /* an overlong line is cut, never overflows */
    memset(big, 'A', sizeof(big) - 1);
    big[0] = 'q';
    big[sizeof(big) - 1] = '\0';
    mta_sendmail_parse_qf(big, strlen(big), &m);
    ck_assert_uint_eq(strlen(m.rg.reason), MTA_FIELD_MAX - 1);
}
END_TEST

START_TEST(test_conf_option)
{
    char opt[PATH_LEN + 32];

    snprintf(opt, sizeof(opt), "O QueueDirectory=%s/mqueue", tdir);
    queue_make(opt, "qf");
    /* Sendmail's -C takes the .cf file: a directory is a usage error */
    ck_assert_int_eq(run("-C", tdir, "--mta", "sendmail", "quarantine",
			 "list", NULL), CTL_EXIT_USAGE);
    ck_assert_ptr_nonnull(strstr(err, "names the .cf file"));
    ck_assert_int_eq(run("-C", cf, "quarantine", "list", NULL),
		     CTL_EXIT_USAGE);
    ck_assert_ptr_nonnull(strstr(err, "configuration directory"));
    ck_assert_int_eq(run("-h", NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "-C PATH"));
    ck_assert_ptr_nonnull(strstr(out, "Sendmail's .cf file"));
    ck_assert_ptr_null(strstr(out, "-C DIR"));
}
END_TEST

/* ctl_sendmail_suite - the test cases */
static Suite *ctl_sendmail_suite(void)
{
    Suite *s = suite_create("ctl_sendmail");
    TCase *tc = tcase_create("queue_files");

    tcase_add_test(tc, test_reason_whole);
    tcase_add_test(tc, test_queue_dir_forms);
    tcase_add_test(tc, test_no_queue_file);
    tcase_add_test(tc, test_qf_hostile);
    tcase_add_test(tc, test_conf_option);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ctl_check_run(ctl_sendmail_suite());
}
