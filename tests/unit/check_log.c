/*
 * check_log - the sanitiser against log-injection inputs, and key=value
 * line building.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
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

/* utf8 - encode one code point (below U+10000) */
static void utf8(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
	out[0] = (char) cp;
	out[1] = 0;
    } else if (cp < 0x800) {
	out[0] = (char) (0xc0 | cp >> 6);
	out[1] = (char) (0x80 | (cp & 0x3f));
	out[2] = 0;
    } else {
	out[0] = (char) (0xe0 | cp >> 12);
	out[1] = (char) (0x80 | (cp >> 6 & 0x3f));
	out[2] = (char) (0x80 | (cp & 0x3f));
	out[3] = 0;
    }
}

START_TEST(test_hostile_code_points)
{
    /* C1 controls, bidi embeddings/overrides/isolates, separators and
     * zero-width characters: a terminal or log viewer obeys or hides them */
    static const uint32_t hostile[] = {
	0x80, 0x85, 0x9b, 0x9f, 0x061c, 0x200b, 0x200e, 0x200f, 0x2028,
	0x2029, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067,
	0x2068, 0x2069, 0xfeff,
    };
    static const uint32_t fine[] = { 0xa0, 0xe9, 0x2010, 0x2030, 0x20ac };
    char in[16], want[16], cp[4];

    for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
	utf8(hostile[i], cp);
	snprintf(in, sizeof(in), "a%sb", cp);
	ck_assert_msg(strcmp(clean(in, 100), "a?b") == 0,
		      "U+%04X passed as \"%s\"", (unsigned) hostile[i],
		      clean(in, 100));
	ck_assert_int_eq(log_hostile(hostile[i]), 1);
    }
    for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
	utf8(fine[i], cp);
	snprintf(in, sizeof(in), "a%sb", cp);
	snprintf(want, sizeof(want), "a%sb", cp);
	ck_assert_str_eq(clean(in, 100), want);
	ck_assert_int_eq(log_hostile(fine[i]), 0);
    }
    /* a C1 byte on its own is not UTF-8 either */
    ck_assert_str_eq(clean("a\x9b" "31mb", 100), "a?31mb");
    /* the reproduction: HELO and login with U+202E and U+009B */
    {
	struct log_line l;

	log_line_init(&l, "NOQUEUE:");
	log_kv_str(&l, "user", "ceo\xe2\x80\xae" "gpj.exe");
	log_kv_str(&l, "helo", "mx\xc2\x9b" "2J");
	ck_assert_str_eq(l.buf, "NOQUEUE: user=\"ceo?gpj.exe\" helo=\"mx?2J\"");
    }
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
    tcase_add_test(tc, test_hostile_code_points);
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
