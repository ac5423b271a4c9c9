/*
 * check_log - the sanitiser against log-injection inputs, and key=value
 * line building.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "check_main.h"

/* clean - sanitise a NUL-terminated string into a static buffer */
static const char *clean(const char *in, size_t outlen)
{
    static char out[LOG_VALUE_MAX + 8];

    ck_assert_uint_le(outlen, sizeof(out));
    log_sanitize(in, strlen(in), out, outlen);
    return out;
}

START_TEST(test_crlf_injection)
{
    const char *s = clean("alice\r\nQUEUE: action=accept user=\"root\"", 200);

    ck_assert_ptr_null(strchr(s, '\r'));
    ck_assert_ptr_null(strchr(s, '\n'));
    ck_assert_str_eq(s, "alice??QUEUE: action=accept user=\\\"root\\\"");
}
END_TEST

START_TEST(test_control_bytes)
{
    ck_assert_str_eq(clean("a\tb\x1b[31mc\x7f" "d", 100), "a?b?[31mc?d");
    ck_assert_str_eq(clean("\x01\x02", 100), "??");
}
END_TEST

START_TEST(test_embedded_nul)
{
    char out[32];
    size_t n = log_sanitize("ab\0cd", 5, out, sizeof(out));

    ck_assert_uint_eq(n, 5);
    ck_assert_str_eq(out, "ab?cd");
}
END_TEST

START_TEST(test_quotes_backslash)
{
    ck_assert_str_eq(clean("a\"b\\c", 100), "a\\\"b\\\\c");
}
END_TEST

START_TEST(test_utf8)
{
    /* Valid multibyte text passes; broken, overlong and surrogate forms don't. */
    ck_assert_str_eq(clean("J\xc3\xbcrgen \xe6\x97\xa5\xf0\x9f\x93\xa7", 100),
		     "J\xc3\xbcrgen \xe6\x97\xa5\xf0\x9f\x93\xa7");
    ck_assert_str_eq(clean("a\xc3", 100), "a?");
    ck_assert_str_eq(clean("\xc0\xaf", 100), "??");
    ck_assert_str_eq(clean("\xed\xa0\x80", 100), "???");
    ck_assert_str_eq(clean("\xf4\x90\x80\x80", 100), "????");
    ck_assert_str_eq(clean("\xff\xfe", 100), "??");
}
END_TEST

START_TEST(test_length_bound)
{
    char big[3000], out[LOG_VALUE_MAX + 8];
    size_t n;

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    n = log_sanitize(big, strlen(big), out, sizeof(out));
    ck_assert_uint_eq(n, LOG_VALUE_MAX);
    ck_assert_uint_eq(strlen(out), LOG_VALUE_MAX);
    ck_assert_str_eq(out + n - 3, "...");
    /* A small buffer is respected exactly. */
    n = log_sanitize(big, strlen(big), out, 10);
    ck_assert_uint_eq(n, 9);
    ck_assert_str_eq(out, "xxxxxx...");
    /* A string that fits exactly is not cut. */
    n = log_sanitize("abcdefghi", 9, out, 10);
    ck_assert_str_eq(out, "abcdefghi");
}
END_TEST

START_TEST(test_escape_at_boundary)
{
    char out[6];

    /* An escape pair never gets split by the bound. */
    log_sanitize("abcd\"efgh", 9, out, sizeof(out));
    ck_assert_str_eq(out, "ab...");
    log_sanitize("\"\"", 2, out, sizeof(out));
    ck_assert_str_eq(out, "\\\"\\\"");
}
END_TEST

START_TEST(test_multibyte_not_split)
{
    char out[8];

    log_sanitize("ab\xe6\x97\xa5\xe6\x97\xa5", 8, out, sizeof(out));
    ck_assert_str_eq(out, "ab...");
}
END_TEST

START_TEST(test_kv_line)
{
    struct log_line l;

    log_line_init(&l, "4F2XyZ:");
    log_kv_raw(&l, "action", "tempfail");
    log_kv_str(&l, "user", "ev\"il\nuser");
    log_kv_uint(&l, "rcpts", 42);
    ck_assert_str_eq(l.buf, "4F2XyZ: action=tempfail user=\"ev\\\"il?user\" rcpts=42");
}
END_TEST

START_TEST(test_kv_line_bounded)
{
    struct log_line l;
    char big[LOG_VALUE_MAX * 2];
    int i;

    memset(big, 'y', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    log_line_init(&l, NULL);
    for (i = 0; i < 40; i++)
	log_kv_str(&l, "k", big);
    ck_assert_uint_eq(l.len, sizeof(l.buf) - 1);
    ck_assert_uint_eq(strlen(l.buf), l.len);
}
END_TEST

START_TEST(test_facilities)
{
    ck_assert_int_eq(log_facility_parse("mail"), LOG_MAIL);
    ck_assert_int_eq(log_facility_parse("local7"), LOG_LOCAL7);
    ck_assert_int_eq(log_facility_parse("kern"), -1);
    ck_assert_str_eq(log_facility_name(LOG_LOCAL3), "local3");
}
END_TEST

/* log_suite - every case above */
static Suite *log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("sanitise");

    tcase_add_test(tc, test_crlf_injection);
    tcase_add_test(tc, test_control_bytes);
    tcase_add_test(tc, test_embedded_nul);
    tcase_add_test(tc, test_quotes_backslash);
    tcase_add_test(tc, test_utf8);
    tcase_add_test(tc, test_length_bound);
    tcase_add_test(tc, test_escape_at_boundary);
    tcase_add_test(tc, test_multibyte_not_split);
    tcase_add_test(tc, test_kv_line);
    tcase_add_test(tc, test_kv_line_bounded);
    tcase_add_test(tc, test_facilities);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(log_suite());
}
