/*
 * check_detect - the collector's judgement: client and server from ports
 * (never from the record's order), the threshold in either direction,
 * connections counted once, the four flags and their evidence, the
 * controller before bursts, the mail-clients table.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../collector/analysis.h"
#include "../../collector/detect.h"
#include "check_main.h"

#define T0 1794297600000LL	/* 2026-11-10T08:00:00Z */

static struct cidr local_v[2];
static struct cidr_list local = {local_v, 2};
static const struct an_limits lim = {3, 120, 100000};
static const struct det_cfg dc = {85, 50, 60, 10, 1000, 10, 30 * 86400, 10};

/* A - an address or fail */
static struct addr A(const char *s)
{
    struct addr a;

    ck_assert_msg(addr_parse(s, &a) == 0, "parse %s", s);
    return a;
}

/* setup - local networks 10.20.0.0/16 and fd00:20::/32 */
static void setup(void)
{
    char err[64];

    ck_assert_int_eq(addr_cidr_parse("10.20.0.0/16", &local_v[0], err, sizeof(err)), 0);
    ck_assert_int_eq(addr_cidr_parse("fd00:20::/32", &local_v[1], err, sizeof(err)), 0);
}

/* F - a TCP flow */
static struct flow F(int64_t t, const char *sa, unsigned sp, const char *da,
		     unsigned dp, uint64_t pk, uint64_t by, uint64_t rpk, uint64_t rby)
{
    struct flow f;

    memset(&f, 0, sizeof(f));
    f.start_ms = t;
    f.proto = FLOW_TCP;
    f.sa = A(sa), f.da = A(da);
    f.sp = (uint16_t) sp, f.dp = (uint16_t) dp;
    f.ipkt = pk, f.ibyt = by, f.opkt = rpk, f.obyt = rby;
    f.tcp_flags = FLOW_SYN | FLOW_ACK | FLOW_PSH | FLOW_FIN;
    f.nflows = 1;
    return f;
}

/* judge - the flags of one host with empty traits and history */
static size_t judge(struct an *a, const char *host, struct det_flag **flags,
		    const struct det_traits *t, const struct det_hist *hist)
{
    struct addr x = A(host);
    struct an_host *h = an_find(a, &x);
    static const struct det_traits none;
    static const struct det_hist nohist;
    struct det_day *days;
    size_t nd, n = 0;

    *flags = NULL;
    ck_assert_ptr_nonnull(h);
    ck_assert_int_eq(det_days(h, &days, &nd), 0);
    ck_assert_int_eq(det_host(&dc, h, t ? t : &none, hist ? hist : &nohist, days, nd,
			      flags, &n), 0);
    free(days);
    return n;
}

START_TEST(test_roles_from_ports)
{
    struct flow f = F(T0, "10.20.1.7", 25, "192.0.2.5", 40000, 10, 900, 12, 1500);
    const struct addr *cl, *sv;
    struct addr c = A("192.0.2.5");
    bool src_cl;

    /* the record's source is the server: roles follow port 25 */
    ck_assert(an_smtp_roles(&f, &cl, &sv, &src_cl));
    ck_assert(!src_cl);
    ck_assert(addr_equal(cl, &c));
    f.proto = FLOW_UDP;
    ck_assert(!an_smtp_roles(&f, &cl, &sv, &src_cl));
}
END_TEST

START_TEST(test_threshold_either_direction)
{
    struct flow f = F(T0, "10.20.1.7", 40000, "192.0.2.5", 25, 2, 100, 0, 0);

    ck_assert(!an_smtp_passes(&f, &lim));
    f.opkt = 3, f.obyt = 119;
    ck_assert(!an_smtp_passes(&f, &lim));
    f.obyt = 120;		/* a biflow whose out direction qualifies */
    ck_assert(an_smtp_passes(&f, &lim));
    f = F(T0, "10.20.1.7", 40000, "192.0.2.5", 25, 3, 120, 0, 0);
    ck_assert(an_smtp_passes(&f, &lim));
}
END_TEST

START_TEST(test_rogue_server_biflow_swapped)
{
    struct an a;
    struct det_flag *fl;
    struct flow f;
    int i;

    an_init(&a, &local, &lim);
    for (i = 0; i < 5; i++) {
	f = F(T0 + i * 1000, "10.20.1.8", 25, i % 2 ? "192.0.2.5" : "192.0.2.6", 41000 + i,
	      10, 900, 12, 1500);
	ck_assert_int_eq(an_add(&a, &f, AN_SMTP), AN_OK);
    }
    ck_assert_uint_eq(judge(&a, "10.20.1.8", &fl, NULL, NULL), 1);
    ck_assert_int_eq(fl[0].kind, DET_ROGUE_SERVER);
    ck_assert_uint_eq(fl[0].conns, 5);
    ck_assert_uint_eq(fl[0].peers, 2);
    ck_assert_uint_eq(fl[0].bytes_in, 5 * 1500);	/* client to server */
    free(fl);
    an_free(&a);
}
END_TEST

START_TEST(test_reply_is_not_a_connection)
{
    struct an a;
    struct det_flag *fl;
    struct flow f;
    int i;

    an_init(&a, &local, &lim);
    for (i = 0; i < 10; i++) {
	f = F(T0 + i * 1000, "10.20.133.16", 4000 + i, "198.51.100.1", 25, 12, 1300, 0, 0);
	an_add(&a, &f, AN_SMTP);
	f = F(T0 + i * 1000 + 5, "198.51.100.1", 25, "10.20.133.16", 4000 + i, 10, 2400, 0, 0);
	an_add(&a, &f, AN_SMTP);
    }
    ck_assert_uint_eq(judge(&a, "10.20.133.16", &fl, NULL, NULL), 1);
    ck_assert_int_eq(fl[0].kind, DET_DIRECT_SENDER);
    ck_assert_uint_eq(fl[0].conns, 10);
    ck_assert_uint_eq(fl[0].bytes_out, 13000);
    ck_assert_uint_eq(fl[0].bytes_in, 24000);
    free(fl);
    an_free(&a);
}
END_TEST

START_TEST(test_known_server_not_flagged)
{
    struct an a;
    struct det_flag *fl;
    struct det_traits t;
    struct flow f;
    int i;

    an_init(&a, &local, &lim);
    for (i = 0; i < 60; i++) {
	f = F(T0 + i * 500, "10.20.0.25", 5000 + i, "198.51.100.1", 25, 12, 1300, 10, 900);
	f.da.b[15] = (uint8_t) (1 + i);
	an_add(&a, &f, AN_SMTP);
	f = F(T0 + i * 500, "192.0.2.9", 5000 + i, "10.20.0.25", 25, 12, 1300, 10, 900);
	an_add(&a, &f, AN_SMTP);
    }
    memset(&t, 0, sizeof(t));
    t.whitelisted = true;
    ck_assert_uint_eq(judge(&a, "10.20.0.25", &fl, &t, NULL), 0);
    free(fl);
    t.whitelisted = false;	/* the same traffic from an unknown host */
    ck_assert_uint_eq(judge(&a, "10.20.0.25", &fl, &t, NULL), 3);
    ck_assert_int_eq(fl[2].kind, DET_FAN_OUT);
    ck_assert_uint_eq(fl[2].servers, 60);
    free(fl);
    t.is_mx = true;		/* an MX of ours is known too */
    ck_assert_uint_eq(judge(&a, "10.20.0.25", &fl, &t, NULL), 0);
    free(fl);
    an_free(&a);
}
END_TEST

START_TEST(test_fan_out_sliding_window)
{
    struct an a;
    struct det_flag *fl;
    struct flow f;
    size_t n, i;

    /* 50 servers in 40 s that straddle a minute boundary: a fixed
     * per-minute bin would see 25 + 25 */
    an_init(&a, &local, &lim);
    for (i = 0; i < 50; i++) {
	f = F(T0 + 40000 + (int64_t) i * 800, "10.20.3.3", 3000 + i, "198.51.100.1", 25,
	      12, 1300, 10, 900);
	f.da.b[15] = (uint8_t) (1 + i);
	an_add(&a, &f, AN_SMTP);
    }
    n = judge(&a, "10.20.3.3", &fl, NULL, NULL);
    for (i = 0; i < n && fl[i].kind != DET_FAN_OUT; i++)
	;
    ck_assert_msg(i < n, "no fan_out flag");
    ck_assert_uint_eq(fl[i].servers, 50);
    ck_assert_int_eq(fl[i].window_ms, T0 + 40000);
    free(fl);
    an_free(&a);
}
END_TEST

START_TEST(test_volume_jump)
{
    int64_t day = T0 / DET_MS_PER_DAY, hd[6];
    uint64_t hc[6] = {5, 5, 5, 5, 5, 14000}, hb[6] = {100, 100, 100, 100, 600, 0};
    struct det_hist hist = {hd, hc, 5, hb};
    struct det_traits t;
    struct det_flag *fl;
    struct flow f;
    struct an a;
    size_t i, n;

    for (i = 0; i < 6; i++)
	hd[i] = day - 5 + (int64_t) i;
    memset(&t, 0, sizeof(t));
    t.whitelisted = true;	/* a known server may jump too */
    an_init(&a, &local, &lim);
    for (i = 0; i < 1200; i++) {
	f = F(T0 + (int64_t) i * 1000, "198.51.100.7", 3000, "10.20.2.2", 25, 12, 1300, 10, 900);
	an_add(&a, &f, AN_SMTP);
    }
    n = judge(&a, "10.20.2.2", &fl, &t, &hist);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(fl[0].kind, DET_VOLUME_JUMP);
    ck_assert_uint_eq(fl[0].day_conns, 1200);
    ck_assert(fl[0].baseline == 5.0);
    ck_assert_uint_eq(fl[0].baseline_days, 5);
    ck_assert(fl[0].baseline_bytes == 200.0);
    ck_assert_uint_eq(fl[0].day_bytes, 1200 * 2200);
    free(fl);
    hc[4] = 600;		/* mean 124: 1200 is under 10 times that */
    ck_assert_uint_eq(judge(&a, "10.20.2.2", &fl, &t, &hist), 0);
    free(fl);
    hist.n = 0;			/* no history: a new host, no jump */
    ck_assert_uint_eq(judge(&a, "10.20.2.2", &fl, &t, &hist), 0);
    free(fl);
    an_free(&a);
}
END_TEST

START_TEST(test_controller)
{
    struct an a;
    struct det_flag *fl;
    struct flow f;
    int i;

    an_init(&a, &local, &lim);
    for (i = 0; i < 20; i++) {
	int64_t t = T0 + i * 4000;

	f = F(t, "203.0.113.100", 44000 + i, "10.20.133.16", 7629, 6, 419, 0, 0);
	an_add(&a, &f, AN_CTL);
	f = F(t + 2, "10.20.133.16", 7629, "203.0.113.100", 44000 + i, 5, 395, 0, 0);
	an_add(&a, &f, AN_CTL);	/* the reply: not a second connection */
	f = F(t + 1000, "10.20.133.16", 4900 + i, "198.51.100.9", 25, 10, 1330, 12, 2442);
	an_add(&a, &f, AN_SMTP);
	/* a web server's answer to the PC: the PC is the client there */
	f = F(t + 500, "192.0.2.80", 80, "10.20.133.16", 50000 + i, 8, 700, 0, 0);
	an_add(&a, &f, AN_CTL);
    }
    ck_assert_uint_eq(judge(&a, "10.20.133.16", &fl, NULL, NULL), 1);
    det_controller(&dc, an_find(&a, &fl[0].host), &fl[0]);
    ck_assert(fl[0].has_ctl);
    ck_assert_uint_eq(fl[0].ctl_port, 7629);
    ck_assert_uint_eq(fl[0].ctl_conns, 20);
    ck_assert_uint_eq(fl[0].ctl_followed, 20);
    free(fl);
    an_free(&a);
}
END_TEST

START_TEST(test_no_controller)
{
    struct an a;
    struct det_flag *fl;
    struct flow f;
    int i;

    /* sends without any inbound connection: no controller (and no
     * copy from an empty list: the sanitizer build checks that) */
    an_init(&a, &local, &lim);
    for (i = 0; i < 12; i++) {
	f = F(T0 + i * 4000, "10.20.133.17", 4900 + i, "198.51.100.9", 25, 10, 1330, 12, 2442);
	an_add(&a, &f, AN_SMTP);
    }
    ck_assert_uint_eq(judge(&a, "10.20.133.17", &fl, NULL, NULL), 1);
    det_controller(&dc, an_find(&a, &fl[0].host), &fl[0]);
    ck_assert(!fl[0].has_ctl);
    free(fl);
    an_free(&a);
}
END_TEST

START_TEST(test_days_by_start_time)
{
    struct det_day *d;
    struct an a;
    struct flow f;
    size_t n;

    /* three sends before midnight UTC, two after, one reply: days come
     * from each flow's start, never from a file */
    an_init(&a, &local, &lim);
    f = F(T0 + 15 * 3600000LL, "10.20.5.5", 3000, "198.51.100.1", 25, 10, 1000, 0, 0);
    an_add(&a, &f, AN_SMTP);
    f.start_ms += 1000, f.da.b[15] = 2;
    an_add(&a, &f, AN_SMTP);
    f.start_ms += 1000, f.dp = 587;	/* not SMTP */
    an_add(&a, &f, AN_SMTP);
    f.dp = 25;
    an_add(&a, &f, AN_SMTP);
    f = F(T0 + 16 * 3600000LL + 5, "10.20.5.5", 3001, "198.51.100.1", 25, 10, 1000, 0, 0);
    an_add(&a, &f, AN_SMTP);
    f.start_ms += 60000;
    an_add(&a, &f, AN_SMTP);
    f = F(T0 + 16 * 3600000LL + 9, "198.51.100.1", 25, "10.20.5.5", 3001, 8, 500, 0, 0);
    an_add(&a, &f, AN_SMTP);	/* the server's reply: no connection */
    ck_assert_int_eq(det_days(an_find(&a, &f.da), &d, &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(d[0].day, T0 / DET_MS_PER_DAY);
    ck_assert_uint_eq(d[0].conns, 3);
    ck_assert_uint_eq(d[0].sent, 3);
    ck_assert_uint_eq(d[0].peers, 2);
    ck_assert_int_eq(d[1].day, T0 / DET_MS_PER_DAY + 1);
    ck_assert_uint_eq(d[1].conns, 2);
    ck_assert_uint_eq(d[1].bytes, 2500);
    ck_assert_uint_eq(d[1].peers, 1);
    free(d);
    an_free(&a);
}
END_TEST

START_TEST(test_named_mail_and_clients)
{
    struct det_client *c;
    struct an a;
    struct flow f;
    size_t n;

    ck_assert(det_named_mail("mx2.example.edu"));
    ck_assert(det_named_mail("host.smtp-out.example.edu"));
    ck_assert(det_named_mail("MTA1.example.edu"));
    ck_assert(!det_named_mail("d133h16.resnet.example.edu"));
    ck_assert(!det_named_mail("gmailfan.example.edu"));
    an_init(&a, &local, &lim);
    f = F(T0, "10.20.5.1", 3000, "198.51.100.9", 25, 10, 1000, 0, 0);
    an_add(&a, &f, AN_SMTP);
    f = F(T0, "10.20.5.2", 3000, "198.51.100.9", 25, 10, 5000, 10, 100);
    an_add(&a, &f, AN_SMTP);
    f = F(T0, "192.0.2.1", 3000, "10.20.5.3", 25, 10, 90000, 0, 0);	/* a server */
    an_add(&a, &f, AN_SMTP);
    ck_assert_int_eq(det_mail_clients(&a, &c, &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(c[0].bytes_out, 5000);	/* most bytes first */
    ck_assert_uint_eq(c[0].bytes_in, 100);
    ck_assert_uint_eq(c[1].conns, 1);
    free(c);
    an_free(&a);
}
END_TEST

static Suite *detect_suite(void)
{
    Suite *s = suite_create("detect");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_roles_from_ports);
    tcase_add_test(tc, test_threshold_either_direction);
    tcase_add_test(tc, test_rogue_server_biflow_swapped);
    tcase_add_test(tc, test_reply_is_not_a_connection);
    tcase_add_test(tc, test_known_server_not_flagged);
    tcase_add_test(tc, test_fan_out_sliding_window);
    tcase_add_test(tc, test_volume_jump);
    tcase_add_test(tc, test_controller);
    tcase_add_test(tc, test_no_controller);
    tcase_add_test(tc, test_days_by_start_time);
    tcase_add_test(tc, test_named_mail_and_clients);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(detect_suite());
}
