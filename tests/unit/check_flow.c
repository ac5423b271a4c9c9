/*
 * check_flow - the collector's flow text parsers: nfdump fmt lines, csv
 * with its header and Summary trailer, SiLK rwcut --delimited, TCP flags,
 * malformed lines.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../collector/flow.h"
#include "check_main.h"

/* rd - one line through a reader */
static enum flow_status rd(struct flow_reader *r, const char *line, struct flow *f)
{
    return flow_read_line(r, line, strlen(line), f);
}

/* A - an address or fail */
static struct addr A(const char *s)
{
    struct addr a;

    ck_assert_msg(addr_parse(s, &a) == 0, "parse %s", s);
    return a;
}

START_TEST(test_fmt_line)
{
    const char *l = "1764900000.250            1.500 6      10.1.0.5  40000   "
	"192.0.2.7     25       12     1400       10      900 ...AP.SF     1";
    struct addr sa = A("10.1.0.5"), da = A("192.0.2.7");
    struct flow f;

    ck_assert_int_eq(flow_parse_fmt(l, strlen(l), &f), FLOW_OK);
    ck_assert_int_eq(f.start_ms, 1764900000250LL);
    ck_assert_uint_eq(f.dur_ms, 1500);
    ck_assert_uint_eq(f.proto, FLOW_TCP);
    ck_assert(addr_equal(&f.sa, &sa) && addr_equal(&f.da, &da));
    ck_assert_uint_eq(f.sp, 40000);
    ck_assert_uint_eq(f.dp, 25);
    ck_assert_uint_eq(f.ipkt, 12);
    ck_assert_uint_eq(f.ibyt, 1400);
    ck_assert_uint_eq(f.opkt, 10);
    ck_assert_uint_eq(f.obyt, 900);
    ck_assert_uint_eq(f.tcp_flags, FLOW_ACK | FLOW_PSH | FLOW_SYN | FLOW_FIN);
    ck_assert_uint_eq(f.nflows, 1);
}
END_TEST

START_TEST(test_fmt_v6_and_names)
{
    const char *l = "1764900001 0.000 TCP 2001:db8::1 25 fd00::5 51000 5 400 0 0 ...A..S. 3";
    struct addr sa = A("2001:db8::1");
    struct flow f;

    ck_assert_int_eq(flow_parse_fmt(l, strlen(l), &f), FLOW_OK);
    ck_assert_int_eq(f.start_ms, 1764900001000LL);
    ck_assert_uint_eq(f.proto, FLOW_TCP);
    ck_assert(addr_equal(&f.sa, &sa));
    ck_assert_uint_eq(f.tcp_flags, FLOW_ACK | FLOW_SYN);
    ck_assert_uint_eq(f.nflows, 3);
}
END_TEST

START_TEST(test_fmt_bad)
{
    static const char *const bad[] = {
	"1764900000.000 1.5 6 10.1.0.5 40000 192.0.2.7 25 12 1400 10 900 ...AP.SF",	/* short */
	"1764900000.000 1.5 6 10.1.0.5 70000 192.0.2.7 25 12 1400 10 900 ...AP.SF 1",	/* port */
	"1764900000.000 1.5 6 10.1.0.999 4 192.0.2.7 25 12 1400 10 900 ...AP.SF 1",	/* addr */
	"1764900000.000 1.5 6 10.1.0.5 4 192.0.2.7 25 -12 1400 10 900 ...AP.SF 1",	/* sign */
	"1764900000.0x0 1.5 6 10.1.0.5 4 192.0.2.7 25 12 1400 10 900 ...AP.SF 1",	/* time */
	"1764900000.000 1.5 6 10.1.0.5 4 192.0.2.7 25 12 1400 10 900 ...AP.ZF 1",	/* flag */
	"1764900000.000 1.5 6 10.1.0.5 4 192.0.2.7 25 12 99999999999999999999 10 900 ...AP.SF 1",
	"1764900000.000 1.5 6 10.1.0.5 4 192.0.2.7 25 12 1400 10 900 ...AP.SF 1 extra",
    };
    struct flow f;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	ck_assert_msg(flow_parse_fmt(bad[i], strlen(bad[i]), &f) == FLOW_BAD, "%s", bad[i]);
    ck_assert_int_eq(flow_parse_fmt("No matching flows", 17, &f), FLOW_SKIP);
    ck_assert_int_eq(flow_parse_fmt("   ", 3, &f), FLOW_SKIP);
    /* a line cut short inside a field must not be read past its length */
    ck_assert_int_eq(flow_parse_fmt(bad[0], 20, &f), FLOW_BAD);
}
END_TEST

START_TEST(test_csv)
{
    struct flow_reader r;
    struct flow f;
    struct addr da = A("192.0.2.7");

    flow_reader_init(&r, FLOW_FMT_AUTO);
    ck_assert_int_eq(rd(&r, "ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out", &f),
		     FLOW_SKIP);
    ck_assert_int_eq(r.fmt, FLOW_FMT_CSV);
    ck_assert_int_eq(rd(&r, "2025-12-05 02:00:00.125,2025-12-05 02:00:01,1.500,10.1.0.5,"
			"192.0.2.7,40000,25,TCP,...AP.SF,0,0,12,1400,10,900,0,0", &f), FLOW_OK);
    ck_assert_int_eq(f.start_ms, 1764900000125LL);
    ck_assert(addr_equal(&f.da, &da));
    ck_assert_uint_eq(f.dp, 25);
    ck_assert_uint_eq(f.obyt, 900);
    ck_assert_int_eq(rd(&r, "2025-12-05 02:00:00,x,1.5,10.1.0.5", &f), FLOW_BAD);
    ck_assert_int_eq(rd(&r, "2025-13-05 02:00:00,2025-12-05 02:00:01,1.500,10.1.0.5,"
			"192.0.2.7,40000,25,TCP,...AP.SF,0,0,12,1400,10,900,0,0", &f), FLOW_BAD);
    ck_assert_int_eq(rd(&r, "Summary", &f), FLOW_SKIP);
    ck_assert_int_eq(rd(&r, "flows,bytes,packets,avg_bps,avg_pps,avg_bpp", &f), FLOW_SKIP);
    ck_assert_int_eq(rd(&r, "3,2760,28,10985,13,98", &f), FLOW_SKIP);
}
END_TEST

START_TEST(test_csv_header_order)
{
    struct flow_reader r;
    struct flow f;

    /* columns are mapped by name, not by position */
    flow_reader_init(&r, FLOW_FMT_CSV);
    ck_assert_int_eq(rd(&r, "ts,sa,sp,da,dp,pr,ipkt,ibyt", &f), FLOW_SKIP);
    ck_assert_int_eq(rd(&r, "2025-12-05 02:00:00,10.1.0.5,25,192.0.2.7,4000,6,3,300", &f),
		     FLOW_OK);
    ck_assert_uint_eq(f.sp, 25);
    ck_assert_uint_eq(f.opkt, 0);
    flow_reader_init(&r, FLOW_FMT_CSV);
    ck_assert_int_eq(rd(&r, "ts,sa,da,dp,pr,ipkt,ibyt", &f), FLOW_BAD);	/* no sp */
}
END_TEST

START_TEST(test_silk)
{
    struct flow_reader r;
    struct flow f;

    flow_reader_init(&r, FLOW_FMT_AUTO);
    ck_assert_int_eq(rd(&r, "            sIP|            dIP|sPort|dPort|pro|   packets|"
			"     bytes|   flags|                  sTime| duration|", &f), FLOW_BAD);
    flow_reader_init(&r, FLOW_FMT_AUTO);
    ck_assert_int_eq(rd(&r, "sIP|dIP|sPort|dPort|protocol|packets|bytes|flags|sTime|duration|"
			"eTime|sensor|", &f), FLOW_SKIP);
    ck_assert_int_eq(r.fmt, FLOW_FMT_SILK);
    ck_assert_int_eq(rd(&r, "   10.1.0.5|  192.0.2.7|40000|   25|  6|        12|      1400|"
			"FS PA   |2025/12/05T02:00:00.500|    1.500|2025/12/05T02:00:02.000|S0|", &f),
		     FLOW_OK);
    ck_assert_int_eq(f.start_ms, 1764900000500LL);
    ck_assert_uint_eq(f.dur_ms, 1500);
    ck_assert_uint_eq(f.tcp_flags, FLOW_FIN | FLOW_SYN | FLOW_PSH | FLOW_ACK);
    ck_assert_uint_eq(f.ibyt, 1400);
}
END_TEST

START_TEST(test_flags_forms)
{
    uint8_t v;

    ck_assert_int_eq(flow_parse_tcp_flags("0x1b", 4, &v), 0);
    ck_assert_uint_eq(v, 0x1b);
    ck_assert_int_eq(flow_parse_tcp_flags("........", 8, &v), 0);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(flow_parse_tcp_flags("0x1g", 4, &v), -1);
    ck_assert_int_eq(flow_parse_tcp_flags("0x123", 5, &v), -1);
    ck_assert_int_eq(flow_parse_proto("udp", 3, &v), 0);
    ck_assert_uint_eq(v, FLOW_UDP);
    ck_assert_int_eq(flow_parse_proto("256", 3, &v), -1);
}
END_TEST

static Suite *flow_suite(void)
{
    Suite *s = suite_create("flow");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_fmt_line);
    tcase_add_test(tc, test_fmt_v6_and_names);
    tcase_add_test(tc, test_fmt_bad);
    tcase_add_test(tc, test_csv);
    tcase_add_test(tc, test_csv_header_order);
    tcase_add_test(tc, test_silk);
    tcase_add_test(tc, test_flags_forms);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(flow_suite());
}
