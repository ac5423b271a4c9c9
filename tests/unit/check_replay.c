/*
 * check_replay - the mail log parser (maillog) and the submission join
 * (subm) behind relayguardctl replay: time forms and year inference,
 * Postfix and Sendmail lines, hostile values, and how records become
 * submissions. Times are read in UTC (TZ set before the tests fork).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../ctl/maillog.h"
#include "../../ctl/subm.h"
#include "check_main.h"

#define REF_2026_01_02 1767312000u	/* 2026-01-02 00:00:00 UTC */
#define T_2025_12_31_2359 1767225599u
#define SUBS_MAX 16

static struct subm subs[SUBS_MAX];
static int nsubs;

/* parse - one line with a fresh clock anchored at ref; the status */
static int parse(const char *line, uint32_t ref, struct maillog_rec *r)
{
    struct maillog_clock ck;

    maillog_clock_init(&ck, ref);
    return maillog_parse(line, strlen(line), &ck, r);
}

/* collect - the join's callback: keep the submissions */
static int collect(const struct subm *s, void *arg)
{
    (void) arg;
    if (nsubs < SUBS_MAX)
	subs[nsubs++] = *s;
    return 0;
}

/* feed - lines through a parser and a join; the number of submissions */
static int feed(const char *const *lines, size_t n)
{
    struct maillog_clock ck;
    struct maillog_rec r;
    SUBM *j = subm_new(collect, NULL, 0);

    ck_assert_ptr_nonnull(j);
    nsubs = 0;
    maillog_clock_init(&ck, REF_2026_01_02);
    for (size_t i = 0; i < n; i++) {
	ck_assert_int_eq(maillog_parse(lines[i], strlen(lines[i]), &ck, &r), MAILLOG_OK);
	subm_add(j, &r);
    }
    subm_flush(j);
    subm_free(j);
    return nsubs;
}

/* ip_is - the record's client address is text */
static int ip_is(const struct addr *a, const char *text)
{
    struct addr b;

    return addr_parse(text, &b) == 0 && addr_equal(a, &b);
}

START_TEST(test_time_forms)
{
    struct maillog_rec r;

    ck_assert_int_eq(parse("Dec 31 23:59:59 mx postfix/smtpd[1]: x", REF_2026_01_02, &r), MAILLOG_OK);
    ck_assert_uint_eq(r.time, T_2025_12_31_2359);	/* after ref: last year */
    ck_assert_int_eq(parse("Jan  1 00:00:01 mx postfix/smtpd[1]: x", REF_2026_01_02, &r), MAILLOG_OK);
    ck_assert_uint_eq(r.time, T_2025_12_31_2359 + 2);
    ck_assert_int_eq(parse("Jan 01 00:00:01.123456 mx postfix/smtpd[1]: x", REF_2026_01_02, &r), MAILLOG_OK);
    ck_assert_uint_eq(r.time, T_2025_12_31_2359 + 2);
    ck_assert_int_eq(parse("2025-12-31T23:59:59.5+00:00 mx postfix/qmgr[2]: x", 0, &r), MAILLOG_OK);
    ck_assert_uint_eq(r.time, T_2025_12_31_2359);
    ck_assert_int_eq(parse("2026-01-01T00:59:59+0100 mx postfix/qmgr[2]: x", 0, &r), MAILLOG_OK);
    ck_assert_uint_eq(r.time, T_2025_12_31_2359);	/* journalctl short-iso */
    ck_assert_int_eq(parse("2025-12-31T18:59:59-05:00 mx sm-mta[3]: x", 0, &r), MAILLOG_OK);
    ck_assert_uint_eq(r.time, T_2025_12_31_2359);
    ck_assert_int_eq(parse("2025-12-31T23:59:59Z mx sendmail: x", 0, &r), MAILLOG_OK);
    ck_assert_uint_eq(r.pid, 0);
    ck_assert_str_eq(r.host, "mx");
}
END_TEST

START_TEST(test_new_year_in_one_file)
{
    struct maillog_clock ck;
    struct maillog_rec r;
    const char *l[] = {"Dec 31 23:59:59 mx a[1]: x", "Jan  1 00:00:00 mx a[1]: x",
		       "Dec 31 23:59:58 mx a[1]: late", "Jan  1 00:00:01 mx a[1]: x"};
    uint32_t want[] = {T_2025_12_31_2359, T_2025_12_31_2359 + 1,
		       T_2025_12_31_2359 - 1, T_2025_12_31_2359 + 2};

    maillog_clock_init(&ck, REF_2026_01_02 + 86400 * 30);
    for (size_t i = 0; i < sizeof(l) / sizeof(l[0]); i++) {
	ck_assert_int_eq(maillog_parse(l[i], strlen(l[i]), &ck, &r), MAILLOG_OK);
	ck_assert_uint_eq(r.time, want[i]);
    }
}
END_TEST

START_TEST(test_bad_lines)
{
    static const char *const bad[] = {
	"", "garbage", "Dex 31 23:59:59 mx a[1]: x", "Dec 32 23:59:59 mx a[1]: x",
	"Dec 31 24:00:00 mx a[1]: x", "Dec 31 23:59:59", "Dec 31 23:59:59 mx",
	"Dec 31 23:59:59 mx a[1x]: x", "Dec 31 23:59:59 mx a[1]:x",
	"2026-13-01T00:00:00Z mx a[1]: x", "2026-01-01T00:00:00+2500 mx a[1]: x",
	"2026-01-01T00:00:00 mx a[1]: x", "1969-12-31T23:59:59Z mx a[1]: x",
    };
    struct maillog_rec r;
    char *big = malloc(MAILLOG_LINE_MAX + 100);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	ck_assert_msg(parse(bad[i], REF_2026_01_02, &r) == MAILLOG_BAD, "%s", bad[i]);
    ck_assert_int_eq(parse("-- Boot 0123456789abcdef --", 0, &r), MAILLOG_OK);
    ck_assert_int_eq(r.kind, MAILLOG_NONE);
    memset(big, 'a', MAILLOG_LINE_MAX + 99);
    memcpy(big, "Dec 31 23:59:59 mx a[1]: ", 25);
    big[MAILLOG_LINE_MAX + 99] = 0;
    ck_assert_int_eq(parse(big, REF_2026_01_02, &r), MAILLOG_BAD);
    free(big);
}
END_TEST

START_TEST(test_postfix_lines)
{
    struct maillog_rec r;

    parse("Dec  5 11:51:07 mx postfix/submission/smtpd[8491]: 4B6BFA72318: client=unknown[198.18.1.10]:4711, sasl_method=PLAIN, sasl_username=Usr1@Example.org, sasl_sender=x", REF_2026_01_02, &r);
    ck_assert_int_eq(r.kind, MAILLOG_PF_CLIENT);
    ck_assert_str_eq(r.qid, "4B6BFA72318");
    ck_assert_str_eq(r.login, "Usr1@Example.org");
    ck_assert(ip_is(&r.client, "198.18.1.10"));
    parse("Dec  5 11:51:07 mx postfix/smtpd[1]: 4B6BFA72319: client=h.example[2001:db8:3::5]", REF_2026_01_02, &r);
    ck_assert_int_eq(r.kind, MAILLOG_PF_CLIENT);
    ck_assert_str_eq(r.login, "");
    ck_assert(ip_is(&r.client, "2001:db8:3::5"));
    /* the sender is the client's: the real size and nrcpt come last */
    parse("Dec  5 11:51:07 mx postfix/qmgr[2]: 4B6BFA72318: from=<a>, size=9, nrcpt=99 (x@y>, size=475, nrcpt=3 (queue active)", REF_2026_01_02, &r);
    ck_assert_int_eq(r.kind, MAILLOG_PF_QUEUED);
    ck_assert_uint_eq(r.size, 475);
    ck_assert_uint_eq(r.nrcpt, 3);
    ck_assert_str_eq(r.sender, "a>, size=9, nrcpt=99 (x@y");
    parse("Dec  5 11:51:08 mx postfix/smtpd[8491]: NOQUEUE: milter-reject: MAIL from unknown[198.18.4.10]: 451 4.7.1 Unusual; from=<s@example.org> proto=ESMTP helo=<client.e2e.test> sasl_username=<usr1>", REF_2026_01_02, &r);
    ck_assert_int_eq(r.kind, MAILLOG_PF_REFUSED);
    ck_assert(r.milter);
    ck_assert_int_eq(r.stage, MAILLOG_STAGE_MAIL);
    ck_assert_int_eq(r.live, MAILLOG_LIVE_TEMPFAIL);
    ck_assert_str_eq(r.login, "usr1");
    ck_assert_str_eq(r.sender, "s@example.org");
    ck_assert(ip_is(&r.client, "198.18.4.10"));
    parse("Dec  5 11:51:08 mx postfix/cleanup[9]: 8842DA72092: milter-hold: END-OF-MESSAGE from unknown[198.18.2.10]: milter triggers HOLD action; from=<s@example.org> to=<r@example.net> proto=ESMTP helo=<h>", REF_2026_01_02, &r);
    ck_assert_int_eq(r.kind, MAILLOG_PF_MILTER_END);
    ck_assert_int_eq(r.live, MAILLOG_LIVE_HOLD);
    ck_assert_str_eq(r.sender, "s@example.org");
    parse("Dec  5 11:51:08 mx postfix/cleanup[9]: 8842DA72093: milter-reject: END-OF-MESSAGE from unknown[198.18.2.10]: 5.7.1 no; from=<> to=<r@example.net> proto=ESMTP helo=<h>", REF_2026_01_02, &r);
    ck_assert_int_eq(r.live, MAILLOG_LIVE_REJECT);
    ck_assert_str_eq(r.sender, "");
    parse("Dec  5 11:51:08 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 Relay access denied; from=<a@b> to=<c@d> proto=ESMTP helo=<h>", REF_2026_01_02, &r);
    ck_assert_int_eq(r.kind, MAILLOG_PF_REFUSED);
    ck_assert(!r.milter);
    ck_assert_int_eq(r.live, MAILLOG_LIVE_REJECT);
    parse("Dec  5 11:51:08 mx postfix/smtpd[1]: connect from unknown[192.0.2.1]", REF_2026_01_02, &r);
    ck_assert_int_eq(r.kind, MAILLOG_NONE);
    parse("Dec  5 11:51:08 mx otherd[1]: ABCDEF: client=unknown[192.0.2.1]", REF_2026_01_02, &r);
    ck_assert_int_eq(r.kind, MAILLOG_NONE);	/* not Postfix */
}
END_TEST

START_TEST(test_sendmail_lines)
{
    struct maillog_rec r;

    parse("Dec  5 11:51:07 mx sm-mta[77]: AUTH=server, relay=client.example [IPv6:2001:db8:1::9] (may be forged), authid=usr1, mech=PLAIN, bits=0", REF_2026_01_02, &r);
    ck_assert_int_eq(r.kind, MAILLOG_SM_AUTH);
    ck_assert_str_eq(r.login, "usr1");
    ck_assert(ip_is(&r.client, "2001:db8:1::9"));
    ck_assert_uint_eq(r.pid, 77);
    parse("Dec  5 11:51:08 mx sendmail[77]: 0B5ABcde012345: from=<usr1@example.org>, size=1291, class=0, nrcpts=2, msgid=<m@x>, proto=ESMTPA, daemon=MTA, relay=[198.18.1.2]", REF_2026_01_02, &r);
    ck_assert_int_eq(r.kind, MAILLOG_SM_FROM);
    ck_assert_str_eq(r.qid, "0B5ABcde012345");
    ck_assert_str_eq(r.sender, "<usr1@example.org>");
    ck_assert_uint_eq(r.size, 1291);
    ck_assert_uint_eq(r.nrcpt, 2);
    ck_assert(ip_is(&r.client, "198.18.1.2"));
    parse("Dec  5 11:51:09 mx sm-mta[78]: 0B5ABcde012346: Milter: from=<usr1@example.org>, reject=451 4.7.1 Unusual", REF_2026_01_02, &r);
    ck_assert_int_eq(r.kind, MAILLOG_SM_MILTER);
    ck_assert_int_eq(r.stage, MAILLOG_STAGE_MAIL);
    ck_assert_int_eq(r.live, MAILLOG_LIVE_TEMPFAIL);
    ck_assert_str_eq(r.sender, "<usr1@example.org>");
    parse("Dec  5 11:51:09 mx sm-mta[78]: 0B5ABcde012347: Milter: to=<r@x>, reject=550 5.7.1 no", REF_2026_01_02, &r);
    ck_assert_int_eq(r.stage, MAILLOG_STAGE_RCPT);
    ck_assert_int_eq(r.live, MAILLOG_LIVE_REJECT);
}
END_TEST

START_TEST(test_join_postfix)
{
    static const char *const l[] = {
	"Dec  5 11:51:07 mx postfix/smtpd[1]: 4B6BFA72318: client=unknown[198.18.1.10], sasl_method=PLAIN, sasl_username=usr1",
	"Dec  5 11:51:07 mx postfix/smtpd[1]: 5B6BFA72318: client=unknown[10.1.2.3]",
	"Dec  5 11:51:08 mx postfix/qmgr[2]: 4B6BFA72318: from=<a@b>, size=475, nrcpt=3 (queue active)",
	"Dec  5 11:52:08 mx postfix/qmgr[2]: 4B6BFA72318: from=<a@b>, size=475, nrcpt=3 (queue active)",
	"Dec  5 11:51:09 mx postfix/cleanup[3]: 5B6BFA72318: milter-hold: END-OF-MESSAGE from unknown[10.1.2.3]: milter triggers HOLD action; from=<c@d> to=<e@f> proto=ESMTP helo=<h>",
	"Dec  5 11:51:10 mx postfix/smtpd[1]: NOQUEUE: milter-reject: MAIL from unknown[198.18.4.10]: 451 4.7.1 x; from=<a@b> proto=ESMTP helo=<h> sasl_username=<usr1>",
	"Dec  5 11:51:11 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 Relay access denied; from=<a@b> to=<c@d> proto=ESMTP helo=<h>",
	"Dec  5 11:51:12 mx postfix/qmgr[2]: 7B6BFA72318: from=<local@x>, size=1, nrcpt=1 (queue active)",
	"Dec  5 11:51:13 mx postfix/smtpd[1]: 8B6BFA72318: client=unknown[198.18.2.10], sasl_method=PLAIN, sasl_username=usr1",
	"Dec  5 11:51:13 mx postfix/smtpd[1]: 8B6BFA72318: milter-reject: RCPT from unknown[198.18.2.10]: 451 4.7.1 x; from=<a@b> to=<c@d> proto=ESMTP helo=<h> sasl_username=<usr1>",
	"Dec  5 11:51:13 mx postfix/smtpd[1]: 8B6BFA72318: milter-reject: RCPT from unknown[198.18.2.10]: 451 4.7.1 x; from=<a@b> to=<e@f> proto=ESMTP helo=<h> sasl_username=<usr1>",
    };

    ck_assert_int_eq(feed(l, sizeof(l) / sizeof(l[0])), 4);
    /* accepted: login and time of client=, size and nrcpt of qmgr; once */
    ck_assert_str_eq(subs[0].login, "usr1");
    ck_assert_uint_eq(subs[0].rcpts, 3);
    ck_assert_uint_eq(subs[0].size, 475);
    ck_assert_uint_eq(subs[0].time, subs[1].time);	/* both client= at :07 */
    ck_assert_int_eq(subs[0].live, MAILLOG_LIVE_ACCEPT);
    /* held: an internal host without a login */
    ck_assert_str_eq(subs[1].login, "");
    ck_assert(ip_is(&subs[1].client, "10.1.2.3"));
    ck_assert_int_eq(subs[1].live, MAILLOG_LIVE_HOLD);
    /* refused at MAIL: no queue id, the login from sasl_username */
    ck_assert_str_eq(subs[2].qid, "");
    ck_assert_str_eq(subs[2].login, "usr1");
    ck_assert_int_eq(subs[2].live_stage, MAILLOG_STAGE_MAIL);
    /* refused at RCPT after a queue id: one submission, not two */
    ck_assert_str_eq(subs[3].qid, "8B6BFA72318");
    ck_assert_int_eq(subs[3].live_stage, MAILLOG_STAGE_RCPT);
    ck_assert_uint_eq(subs[3].rcpts, 2);	/* one accepted, then this */
}
END_TEST

START_TEST(test_join_noqueue_rcpts)
{
    static const char *const l[] = {
	"Dec  5 11:51:10 mx postfix/smtpd[1]: NOQUEUE: milter-reject: RCPT from unknown[198.18.3.50]: 451 4.7.1 x; from=<a@b> to=<r1@x> proto=ESMTP helo=<h> sasl_username=<bot>",
	"Dec  5 11:51:10 mx postfix/smtpd[1]: NOQUEUE: milter-reject: RCPT from unknown[198.18.3.50]: 451 4.7.1 x; from=<a@b> to=<r2@x> proto=ESMTP helo=<h> sasl_username=<bot>",
	"Dec  5 11:51:10 mx postfix/smtpd[2]: NOQUEUE: milter-reject: RCPT from unknown[198.18.3.50]: 451 4.7.1 x; from=<a@b> to=<r1@x> proto=ESMTP helo=<h> sasl_username=<bot>",
	"Dec  5 11:51:11 mx postfix/smtpd[1]: NOQUEUE: milter-reject: RCPT from unknown[198.18.3.50]: 451 4.7.1 x; from=<a@b> to=<r3@x> proto=ESMTP helo=<h> sasl_username=<bot>",
	"Dec  5 11:51:12 mx postfix/smtpd[1]: NOQUEUE: milter-reject: MAIL from unknown[198.18.3.50]: 451 4.7.1 x; from=<a@b> proto=ESMTP helo=<h> sasl_username=<bot>",
	"Dec  5 11:51:13 mx postfix/smtpd[1]: NOQUEUE: milter-reject: RCPT from unknown[198.18.3.50]: 451 4.7.1 x; from=<c@d> to=<r1@x> proto=ESMTP helo=<h> sasl_username=<bot>",
    };

    /* smtpd 1: three refused recipients of one MAIL, a refused MAIL, a
     * new sender's refused recipient; smtpd 2: a session of its own */
    ck_assert_int_eq(feed(l, sizeof(l) / sizeof(l[0])), 4);
    ck_assert_int_eq(subs[0].live_stage, MAILLOG_STAGE_RCPT);
    ck_assert_int_eq(subs[2].live_stage, MAILLOG_STAGE_MAIL);
    ck_assert_str_eq(subs[3].sender, "c@d");
}
END_TEST

START_TEST(test_join_sendmail)
{
    static const char *const l[] = {
	"Dec  5 11:51:07 mx sm-mta[77]: AUTH=server, relay=[198.18.1.2], authid=usr1, mech=PLAIN, bits=0",
	"Dec  5 11:51:08 mx sm-mta[77]: 0B5ABcde012345: from=<usr1@example.org>, size=1291, class=0, nrcpts=2, msgid=<m@x>, proto=ESMTPA, daemon=MTA, relay=[198.18.1.2]",
	"Dec  5 11:51:09 mx sm-mta[77]: 0B5ABcde012346: Milter: from=<usr1@example.org>, reject=451 4.7.1 x",
	"Dec  5 11:51:09 mx sm-mta[77]: 0B5ABcde012346: Milter: to=<r@x>, reject=451 4.7.1 x",
	"Dec  5 11:51:10 mx sm-mta[79]: 0B5ABcde012347: from=<h@example.org>, size=5, class=0, nrcpts=1, msgid=<n@x>, proto=ESMTP, daemon=MTA, relay=host.example [10.1.2.3]",
	"Dec  5 11:51:11 mx sm-mta[80]: 0B5ABcde012348: Milter: from=<x@y>, reject=451 4.7.1 x",
    };

    ck_assert_int_eq(feed(l, sizeof(l) / sizeof(l[0])), 3);
    ck_assert_str_eq(subs[0].login, "usr1");
    ck_assert_uint_eq(subs[0].rcpts, 2);
    ck_assert_str_eq(subs[1].login, "usr1");	/* the session's AUTH */
    ck_assert(ip_is(&subs[1].client, "198.18.1.2"));
    ck_assert_int_eq(subs[1].live, MAILLOG_LIVE_TEMPFAIL);
    ck_assert_str_eq(subs[2].login, "");	/* another session, no AUTH */
    ck_assert(ip_is(&subs[2].client, "10.1.2.3"));
}
END_TEST

START_TEST(test_join_start_order)
{
    static const char *const l[] = {
	"Dec  5 11:51:10 mx postfix/smtpd[1]: AAAAAA1: client=unknown[198.18.1.10], sasl_method=PLAIN, sasl_username=slow",
	"Dec  5 11:51:11 mx postfix/smtpd[2]: BBBBBB2: client=unknown[198.18.2.10], sasl_method=PLAIN, sasl_username=fast",
	"Dec  5 11:51:11 mx postfix/qmgr[3]: BBBBBB2: from=<a@b>, size=1, nrcpt=1 (queue active)",
	"Dec  5 11:51:40 mx postfix/qmgr[3]: AAAAAA1: from=<a@b>, size=1, nrcpt=1 (queue active)",
    };

    /* ended in the other order: handed out in the order they started */
    ck_assert_int_eq(feed(l, sizeof(l) / sizeof(l[0])), 2);
    ck_assert_str_eq(subs[0].login, "slow");
    ck_assert_str_eq(subs[1].login, "fast");
    ck_assert_uint_lt(subs[0].time, subs[1].time);
}
END_TEST

START_TEST(test_join_bounded)
{
    struct maillog_rec r;
    struct subm_stats st;
    SUBM *j = subm_new(collect, NULL, 0);

    /* starts that never end: the table stays at its size */
    memset(&r, 0, sizeof(r));
    r.kind = MAILLOG_PF_CLIENT;
    r.have_client = true;
    addr_parse("198.18.1.1", &r.client);
    snprintf(r.host, sizeof(r.host), "mx");
    for (uint32_t i = 0; i < 3 * SUBM_PENDING; i++) {
	snprintf(r.qid, sizeof(r.qid), "Q%08X", i);
	r.time = i;
	subm_add(j, &r);
    }
    subm_stats(j, &st);
    subm_flush(j);
    ck_assert_uint_le(subm_pending(j), SUBM_PENDING);
    ck_assert_uint_ge(st.evicted, 2 * SUBM_PENDING);
    subm_free(j);
}
END_TEST

/* main - the suite, read in UTC */
int main(void)
{
    Suite *s = suite_create("replay");
    TCase *tc = tcase_create("core");

    setenv("TZ", "UTC", 1);
    tzset();
    tcase_add_test(tc, test_time_forms);
    tcase_add_test(tc, test_new_year_in_one_file);
    tcase_add_test(tc, test_bad_lines);
    tcase_add_test(tc, test_postfix_lines);
    tcase_add_test(tc, test_sendmail_lines);
    tcase_add_test(tc, test_join_postfix);
    tcase_add_test(tc, test_join_noqueue_rcpts);
    tcase_add_test(tc, test_join_sendmail);
    tcase_add_test(tc, test_join_start_order);
    tcase_add_test(tc, test_join_bounded);
    suite_add_tcase(s, tc);
    return check_run(s);
}
