/*
 * check_request - the policy delegation request parser (policyd/request):
 * whole requests, requests in pieces, unknown attributes, and the bad
 * input that makes relayguard-policyd close the connection.
 */
#include <stdio.h>
#include <string.h>

#include "../../policyd/request.h"
#include "check_main.h"

#define RCPT_REQ "request=smtpd_access_policy\nprotocol_state=RCPT\n" \
    "instance=1a2b.5f3c.1\nsasl_username=alice\nclient_address=192.0.2.7\n" \
    "recipient=bob@example.org\nsize=1234\nrecipient_count=0\n"

/* parse - request_parse on a NUL-terminated text */
static enum request_status parse(const char *text, struct request *r,
				 size_t *used)
{
    char err[128];

    return request_parse(text, strlen(text), r, used, err, sizeof(err));
}

START_TEST(test_whole)
{
    struct request r;
    size_t used;
    const char *two = RCPT_REQ "\n" RCPT_REQ "\n";

    ck_assert_int_eq(parse(two, &r, &used), REQUEST_OK);
    ck_assert_uint_eq(used, strlen(RCPT_REQ) + 1);
    ck_assert_str_eq(r.protocol_state, "RCPT");
    ck_assert_str_eq(r.instance, "1a2b.5f3c.1");
    ck_assert_str_eq(r.sasl_username, "alice");
    ck_assert_str_eq(r.client_address, "192.0.2.7");
    ck_assert_str_eq(r.recipient, "bob@example.org");
    ck_assert_uint_eq(r.size, 1234);
    ck_assert_uint_eq(r.attrs, 8);
    /* the second request follows in the same buffer */
    ck_assert_int_eq(parse(two + used, &r, &used), REQUEST_OK);
    ck_assert_str_eq(r.sasl_username, "alice");
}
END_TEST

START_TEST(test_pieces)
{
    struct request r;
    size_t used = 99, n, full = strlen(RCPT_REQ "\n");
    char err[64];

    for (n = 0; n < full; n++) {
	ck_assert_int_eq(request_parse(RCPT_REQ "\n", n, &r, &used, err,
				       sizeof(err)), REQUEST_MORE);
	ck_assert_uint_eq(used, 0);
    }
    ck_assert_int_eq(request_parse(RCPT_REQ "\n", full, &r, &used, err,
				   sizeof(err)), REQUEST_OK);
    ck_assert_uint_eq(used, full);
}
END_TEST

START_TEST(test_unknown_and_empty)
{
    struct request r;
    size_t used;

    ck_assert_int_eq(parse("future_attr=x=y\nsasl_username=\nccert_subject=\n"
			   "size=12x\n\n", &r, &used), REQUEST_OK);
    ck_assert_str_eq(r.sasl_username, "");
    ck_assert_uint_eq(r.size, 0);	/* not a number */
    ck_assert_uint_eq(r.attrs, 4);
    ck_assert_uint_eq(r.unknown, 1);	/* ccert_subject is Postfix's */
    ck_assert_str_eq(r.unknown_name, "future_attr");
    ck_assert_int_eq(parse(RCPT_REQ "server_port=25\nstress=\n\n", &r, &used),
		     REQUEST_OK);
    ck_assert_uint_eq(r.unknown, 0);
}
END_TEST

/* a request that grows past REQUEST_BYTES_MAX without its empty line is
 * refused before its end (a client that never ends it) */
START_TEST(test_too_big)
{
    static char text[REQUEST_BYTES_MAX + REQUEST_LINE_MAX];
    struct request r;
    size_t used, o = 0;
    char err[64];

    while (o + 1000 < REQUEST_BYTES_MAX) {
	o += (size_t) snprintf(text + o, sizeof(text) - o, "helo_name=");
	memset(text + o, 'h', 989);
	o += 989;
	text[o++] = '\n';
    }
    ck_assert_uint_lt(o, REQUEST_BYTES_MAX);
    ck_assert_int_eq(request_parse(text, o, &r, &used, err, sizeof(err)),
		     REQUEST_MORE);
    memset(text + o, 'x', REQUEST_BYTES_MAX - o);	/* a line reaching it */
    ck_assert_int_eq(request_parse(text, REQUEST_BYTES_MAX, &r, &used, err,
				   sizeof(err)), REQUEST_TOO_BIG);
    ck_assert_uint_eq(used, 0);
    ck_assert_ptr_nonnull(strstr(err, "request too big"));
    text[o] = '\n';		/* under it, with its end: fine */
    ck_assert_int_eq(request_parse(text, o + 1, &r, &used, err, sizeof(err)),
		     REQUEST_OK);
}
END_TEST

START_TEST(test_long_value_cut)
{
    static char text[REQUEST_LINE_MAX + 16];
    struct request r;
    size_t used, n;

    n = (size_t) snprintf(text, sizeof(text), "sasl_username=");
    memset(text + n, 'a', REQUEST_LINE_MAX - n - 1);
    strcpy(text + REQUEST_LINE_MAX - 1, "\n\n");
    ck_assert_int_eq(parse(text, &r, &used), REQUEST_OK);
    ck_assert_uint_eq(strlen(r.sasl_username), REQUEST_VALUE_MAX - 1);
    /* one byte more and the line is over the limit */
    memset(text + n, 'a', REQUEST_LINE_MAX - n);
    strcpy(text + REQUEST_LINE_MAX, "\n\n");
    ck_assert_int_eq(parse(text, &r, &used), REQUEST_LINE_LONG);
}
END_TEST

START_TEST(test_line_long_without_newline)
{
    static char text[REQUEST_LINE_MAX + 2];
    struct request r;
    size_t used;

    memset(text, 'x', REQUEST_LINE_MAX + 1);
    ck_assert_int_eq(parse(text, &r, &used), REQUEST_LINE_LONG);
    text[REQUEST_LINE_MAX] = 0;	/* at the limit: still waiting */
    ck_assert_int_eq(parse(text, &r, &used), REQUEST_MORE);
}
END_TEST

START_TEST(test_too_many)
{
    static char text[(REQUEST_ATTR_MAX + 2) * 8];
    struct request r;
    size_t used, o = 0;
    unsigned i;

    for (i = 0; i < REQUEST_ATTR_MAX; i++)
	o += (size_t) snprintf(text + o, sizeof(text) - o, "a%u=1\n", i % 10);
    strcpy(text + o, "\n");
    ck_assert_int_eq(parse(text, &r, &used), REQUEST_OK);
    strcpy(text + o, "b=1\n\n");
    ck_assert_int_eq(parse(text, &r, &used), REQUEST_TOO_MANY);
}
END_TEST

START_TEST(test_syntax)
{
    struct request r;
    size_t used;
    char err[64];
    static const char nul[] = "size=1\nsasl_user\0name=x\n\n";

    ck_assert_int_eq(parse("size=1\nnoequals\n\n", &r, &used), REQUEST_SYNTAX);
    ck_assert_int_eq(parse("=value\n\n", &r, &used), REQUEST_SYNTAX);
    ck_assert_int_eq(request_parse(nul, sizeof(nul) - 1, &r, &used, err,
				   sizeof(err)), REQUEST_SYNTAX);
    ck_assert_str_eq(err, "line 2: not a name=value line");
}
END_TEST

/* request_suite - the parser's cases */
static Suite *request_suite(void)
{
    Suite *s = suite_create("request");
    TCase *tc = tcase_create("parse");

    tcase_add_test(tc, test_whole);
    tcase_add_test(tc, test_pieces);
    tcase_add_test(tc, test_unknown_and_empty);
    tcase_add_test(tc, test_long_value_cut);
    tcase_add_test(tc, test_line_long_without_newline);
    tcase_add_test(tc, test_too_many);
    tcase_add_test(tc, test_syntax);
    tcase_add_test(tc, test_too_big);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(request_suite());
}
