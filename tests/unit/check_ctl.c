/*
 * check_ctl - unit tests of relayguardctl's (ctl/) formatting: table
 * layout, truncation and wrapping, JSON writing (escaping of control bytes
 * and invalid UTF-8) and reading, durations, ages and sizes, and the
 * cleaning of text for a terminal.
 *
 * The commands against a state file are tested by check_ctl_state.c, the
 * MTA parsers, the tool runner and contain by check_ctl_mta.c; the helpers
 * all three use are in ctl_test.h. Nothing here touches a file: no
 * fixture, every test runs forked. Times are fixed (NOW).
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../ctl/jread.h"
#include "../../ctl/json.h"
#include "../../ctl/table.h"
#include "../../ctl/text.h"
#include "check_main.h"
#include "ctl_test.h"

/* ---- formatting ------------------------------------------------------------ */

/* table_text - print a table into a string (caller frees) */
static char *table_text(struct table *t, size_t width)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(table_print(t, f, width), 0);
    fclose(f);
    return buf;
}

START_TEST(test_table_align)
{
    static const struct table_col cols[] = {
	{"NAME", TABLE_LEFT, 1, 4, 0}, {"N", TABLE_RIGHT, 0, 0, 0},
	{"NOTE", TABLE_LEFT, 0, 0, 0},
    };
    struct table *t = table_new(cols, 3);
    const char *r1[] = { "alice", "5", "x" }, *r2[] = { "bob", "12345", "" };
    const char *r3[] = { "J\xc3\xbcrgen", "1", NULL };
    char *s;

    ck_assert_int_eq(table_add(t, r1), 0);
    ck_assert_int_eq(table_add(t, r2), 0);
    s = table_text(t, 80);
    ck_assert_str_eq(s, "NAME       N  NOTE\n" "alice      5  x\n"
		     "bob    12345\n");
    free(s);
    /* a multibyte name takes its columns, not its bytes */
    ck_assert_int_eq(table_add(t, r3), 0);
    s = table_text(t, 80);
    ck_assert_str_eq(s, "NAME        N  NOTE\n" "alice       5  x\n"
		     "bob     12345\n" "J\xc3\xbcrgen      1\n");
    ck_assert_uint_eq(table_rows(t), 3);
    free(s);
    table_free(t);
}
END_TEST

START_TEST(test_table_truncate)
{
    static const struct table_col cols[] = {
	{"USER", TABLE_LEFT, 1, 6, 0}, {"COUNT", TABLE_RIGHT, 0, 0, 0},
	{"REASON", TABLE_LEFT, 1, 6, 0},
    };
    struct table *t = table_new(cols, 3);
    const char *r[] = { "a-very-long-login-name@example.org", "42",
	"a long reason text here" };
    unsigned w[3];
    char *s;

    ck_assert_int_eq(table_add(t, r), 0);
    table_layout(t, 30, w);
    ck_assert_uint_eq(w[1], 5);	/* numbers never shrink */
    ck_assert_uint_eq(w[0] + w[1] + w[2] + 2 * TABLE_GAP, 30);
    ck_assert_uint_le(w[0] > w[2] ? w[0] - w[2] : w[2] - w[0], 1);
    s = table_text(t, 30);
    ck_assert(lines_fit(s, 30));
    ck_assert_ptr_nonnull(strstr(s, "a-very-"));
    ck_assert_ptr_nonnull(strstr(strstr(s, "...") + 3, "..."));
    ck_assert_ptr_nonnull(strstr(s, "   42  a long "));
    free(s);
    /* flexible columns stop at their minimum; then the line is wider */
    table_layout(t, 10, w);
    ck_assert_uint_eq(w[0], 6);
    ck_assert_uint_eq(w[2], 6);
    table_free(t);
}
END_TEST

START_TEST(test_table_hostile)
{
    static const struct table_col cols[] = {
	{"USER", TABLE_LEFT, 1, 6, 0}, {"X", TABLE_LEFT, 0, 0, 0},
    };
    struct table *t = table_new(cols, 2);
    const char *r[] = { "a\r\nb\x1b[31mc\x7f\xc2\x9b" "d\xe2\x80\xae" "e\xff",
	"ok" };
    char *s;

    ck_assert_int_eq(table_add(t, r), 0);
    s = table_text(t, 80);
    ck_assert(no_controls(s));
    ck_assert_ptr_nonnull(strstr(s, "a??b?[31mc??d?e?  ok"));
    free(s);
    table_free(t);
}
END_TEST

START_TEST(test_table_wrap)
{
    static const struct table_col cols[] = {
	{"", TABLE_LEFT, 0, 0, 0}, {"", TABLE_LEFT, 1, 8, 0},
    };
    struct table *t = table_new(cols, 2);
    const char *r[] = { "key", "one two three four five six seven eight" };
    char *s;

    table_no_heading(t);
    table_wrap(t);
    ck_assert_int_eq(table_add(t, r), 0);
    s = table_text(t, 20);
    ck_assert_str_eq(s, "key  one two three\n     four five six\n"
		     "     seven eight\n");
    free(s);
    table_free(t);
}
END_TEST

/* esc - json_escape into a static buffer */
static const char *esc(const char *s, size_t len)
{
    static char buf[512];

    json_escape(s, len, buf, sizeof(buf));
    return buf;
}

START_TEST(test_json_escape)
{
    ck_assert_str_eq(esc("a\"b\\c\n\t\r\b\f", 10),
		     "a\\\"b\\\\c\\n\\t\\r\\b\\f");
    ck_assert_str_eq(esc("\x01\x1b\x7f", 3), "\\u0001\\u001b\\u007f");
    ck_assert_str_eq(esc("a\0b", 3), "a\\u0000b");
    ck_assert_str_eq(esc("J\xc3\xbcrgen \xe6\x97\xa5\xf0\x9f\x93\xa7", 15),
		     "J\xc3\xbcrgen \xe6\x97\xa5\xf0\x9f\x93\xa7");
    ck_assert_str_eq(esc("\xff", 1), "\\ufffd");
    ck_assert_str_eq(esc("a\xc3", 2), "a\\ufffd");
    ck_assert_str_eq(esc("\xc0\xaf", 2), "\\ufffd\\ufffd");
    ck_assert_str_eq(esc("\xed\xa0\x80", 3), "\\ufffd\\ufffd\\ufffd");
    ck_assert_str_eq(esc("\xc2\x9b" "31m", 5), "\\u009b31m");
    ck_assert_str_eq(esc("\xe2\x80\xa8\xe2\x80\xae", 6), "\\u2028\\u202e");
    ck_assert_str_eq(esc("/<>'", 4), "/<>'");
}
END_TEST

/* json_text - run a writer into a string */
struct jbuf {
    char *buf;
    size_t len;
    FILE *f;
    struct json j;
};

static void jbuf_open(struct jbuf *b)
{
    b->f = open_memstream(&b->buf, &b->len);
    json_init(&b->j, b->f);
}

static int jbuf_close(struct jbuf *b)
{
    int rc = json_finish(&b->j);

    fclose(b->f);
    return rc;
}

START_TEST(test_json_writer)
{
    struct jbuf b;
    struct jread_val *v;

    jbuf_open(&b);
    json_obj(&b.j);
    json_key(&b.j, "a");
    json_arr(&b.j);
    json_uint(&b.j, 1);
    json_str(&b.j, "x");
    json_bool(&b.j, true);
    json_null(&b.j);
    json_str(&b.j, NULL);
    json_arr_end(&b.j);
    json_key(&b.j, "b");
    json_obj(&b.j);
    json_kint(&b.j, "c", -5);
    json_kstr(&b.j, "d\n", "e\x01\xff");
    json_obj_end(&b.j);
    json_obj_end(&b.j);
    ck_assert_int_eq(jbuf_close(&b), 0);
    ck_assert_str_eq(b.buf, "{\"a\":[1,\"x\",true,null,null],\"b\":{\"c\":-5,"
		     "\"d\\n\":\"e\\u0001\\ufffd\"}}\n");
    v = jread_parse(b.buf, b.len, NULL, 0);
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(jread_str(jread_get(v, "b"), "d\n"),
		     "e\x01\xef\xbf\xbd");
    jread_free(v);
    free(b.buf);

    /* misuse is reported, not silently written */
    jbuf_open(&b);
    json_key(&b.j, "k");	/* no object */
    ck_assert_int_eq(jbuf_close(&b), -1);
    free(b.buf);
    jbuf_open(&b);
    json_obj(&b.j);		/* never closed */
    ck_assert_int_eq(jbuf_close(&b), -1);
    free(b.buf);
    jbuf_open(&b);
    for (int i = 0; i < JSON_DEPTH_MAX + 2; i++)
	json_arr(&b.j);
    ck_assert_int_eq(jbuf_close(&b), -1);
    free(b.buf);
    jbuf_open(&b);
    json_obj(&b.j);
    json_uint(&b.j, 1);		/* a value without a key */
    json_obj_end(&b.j);
    ck_assert_int_eq(jbuf_close(&b), -1);
    free(b.buf);
}
END_TEST

/* parses - does jread accept the text? */
static int parses(const char *s)
{
    struct jread_val *v = jread_parse(s, strlen(s), NULL, 0);

    jread_free(v);
    return v != NULL;
}

START_TEST(test_jread)
{
    static const char *const bad[] = {
	"", " ", "{", "}", "{\"a\":}", "[1,]", "{\"a\" 1}", "\"abc", "01",
	"1.", "-", ".5", "1e", "tru", "nul", "{} x", "\"\\x\"", "\"a\x01b\"",
	"{\"a\":1,}", "[1 2]", "\"\\u12\"", "{1:2}",
    };
    const char *line = "{\"queue_name\": \"hold\", \"queue_id\": \"4F9D42C0F2\","
	" \"arrival_time\": 1795361532, \"message_size\": 562,"
	" \"forced_expire\": false, \"sender\": \"a\\\"b@x\","
	" \"recipients\": [{\"address\": \"r@y\", \"delay_reason\": \"x\"}]}";
    char deep[100];
    struct jread_val *v;
    char err_[128];
    int64_t n;

    v = jread_parse(line, strlen(line), err_, sizeof(err_));
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(jread_str(v, "queue_id"), "4F9D42C0F2");
    ck_assert_str_eq(jread_str(v, "sender"), "a\"b@x");
    ck_assert_int_eq(jread_int(v, "arrival_time", &n), 0);
    ck_assert_int_eq(n, 1795361532);
    ck_assert_int_eq(jread_int(v, "sender", &n), -1);
    ck_assert_int_eq(jread_int(v, "missing", &n), -1);
    ck_assert_ptr_null(jread_str(v, "arrival_time"));
    ck_assert_int_eq(jread_get(v, "forced_expire")->type, JREAD_BOOL);
    ck_assert_str_eq(jread_str(jread_get(v, "recipients")->child, "address"),
		     "r@y");
    jread_free(v);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	ck_assert_msg(!parses(bad[i]), "accepted: %s", bad[i]);
    memset(deep, '[', sizeof(deep) - 1);
    deep[sizeof(deep) - 1] = '\0';
    v = jread_parse(deep, strlen(deep), err_, sizeof(err_));
    ck_assert_ptr_null(v);
    ck_assert_ptr_nonnull(strstr(err_, "deep"));
    /* escapes: NUL and lone surrogates become U+FFFD, pairs are joined */
    line = "[\"a\\u0000b\", \"\\ud83d\\ude00\", \"\\udc00\","
	" \"\\u00e9\\/\", \"\xff\", 9223372036854775807, 1e3, -0.5]";
    v = jread_parse(line, strlen(line), NULL, 0);
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v->child->str, "a\xef\xbf\xbd" "b");
    ck_assert_str_eq(v->child->next->str, "\xf0\x9f\x98\x80");
    ck_assert_str_eq(v->child->next->next->str, "\xef\xbf\xbd");
    ck_assert_str_eq(v->child->next->next->next->str, "\xc3\xa9/");
    ck_assert_str_eq(v->child->next->next->next->next->str, "\xef\xbf\xbd");
    ck_assert(v->child->next->next->next->next->next->is_int);
    ck_assert(!v->child->next->next->next->next->next->next->is_int);
    ck_assert(v->child->next->next->next->next->next->next->num == 1000.0);
    jread_free(v);
}
END_TEST

START_TEST(test_durations)
{
    char e[128], b[TEXT_AGE_MAX];
    uint32_t s = 0;
    uint64_t u = 0;

    ck_assert_int_eq(text_duration("90s", &s, e, sizeof(e)), 0);
    ck_assert_uint_eq(s, 90);
    ck_assert_int_eq(text_duration("10m", &s, e, sizeof(e)), 0);
    ck_assert_uint_eq(s, 600);
    ck_assert_int_eq(text_duration("1h30m", &s, e, sizeof(e)), 0);
    ck_assert_uint_eq(s, 5400);
    ck_assert_int_eq(text_duration("1d", &s, e, sizeof(e)), 0);
    ck_assert_uint_eq(s, 86400);
    ck_assert_int_eq(text_duration("500ms", &s, e, sizeof(e)), 0);
    ck_assert_uint_eq(s, 1);
    ck_assert_int_eq(text_duration("366d", &s, e, sizeof(e)), 0);
    ck_assert_int_eq(text_duration("367d", &s, e, sizeof(e)), -1);
    ck_assert_int_eq(text_duration("0s", &s, e, sizeof(e)), -1);
    ck_assert_int_eq(text_duration("", &s, e, sizeof(e)), -1);
    ck_assert_int_eq(text_duration("1x", &s, e, sizeof(e)), -1);
    ck_assert_int_eq(text_duration("-1h", &s, e, sizeof(e)), -1);
    ck_assert_int_eq(text_duration("99999999999999999999d", &s, e,
				   sizeof(e)), -1);
    ck_assert_int_eq(text_uint("0", 10, &u), 0);
    ck_assert_int_eq(text_uint("18446744073709551615", UINT64_MAX, &u), 0);
    ck_assert(u == UINT64_MAX);
    ck_assert_int_eq(text_uint("18446744073709551616", UINT64_MAX, &u), -1);
    ck_assert_int_eq(text_uint("5", 4, &u), -1);
    ck_assert_int_eq(text_uint("12a", 100, &u), -1);
    ck_assert_int_eq(text_uint("", 100, &u), -1);
    ck_assert_int_eq(text_uint("-1", 100, &u), -1);
    text_age(NOW, NOW - 45, b, sizeof(b));
    ck_assert_str_eq(b, "45s");
    text_age(NOW, NOW - 600, b, sizeof(b));
    ck_assert_str_eq(b, "10m");
    text_age(NOW, NOW - 3700, b, sizeof(b));
    ck_assert_str_eq(b, "1h1m");
    text_age(NOW, NOW - 7200, b, sizeof(b));
    ck_assert_str_eq(b, "2h");
    text_age(NOW, NOW - 90000, b, sizeof(b));
    ck_assert_str_eq(b, "1d1h");
    text_age(NOW, 0, b, sizeof(b));
    ck_assert_str_eq(b, "-");
    text_age(NOW, NOW + 50, b, sizeof(b));
    ck_assert_str_eq(b, "0s");
    text_size(512, b, sizeof(b));
    ck_assert_str_eq(b, "512");
    text_size(1536, b, sizeof(b));
    ck_assert_str_eq(b, "1.5K");
    text_size(15 * 1024, b, sizeof(b));
    ck_assert_str_eq(b, "15K");
    text_size(10u << 20, b, sizeof(b));
    ck_assert_str_eq(b, "10M");
}
END_TEST

START_TEST(test_text_clean)
{
    char b[64];

    const char *in = "a\"b\r\n\x1b\xc2\x9b\xe2\x80\x8b\xef\xbb\xbfz";

    text_clean(in, strlen(in), b, sizeof(b));
    ck_assert_str_eq(b, "a\\\"b??????z");
    in = "\tkeep tab\x1b[2J\xc2\x85";
    text_clean_line(in, strlen(in), b, sizeof(b));
    ck_assert_str_eq(b, "\tkeep tab?[2J?");
    text_clean_line("abcdef", 6, b, 4);
    ck_assert_str_eq(b, "abc");
    ck_assert_uint_eq(text_width("J\xc3\xbcrgen"), 6);
    ck_assert_uint_eq(text_cut("J\xc3\xbcrgen", 2), 3);
}
END_TEST

/* ctl_suite - the test cases */
static Suite *ctl_suite(void)
{
    Suite *s = suite_create("ctl");
    TCase *tc = tcase_create("format");

    tcase_add_test(tc, test_table_align);
    tcase_add_test(tc, test_table_truncate);
    tcase_add_test(tc, test_table_hostile);
    tcase_add_test(tc, test_table_wrap);
    tcase_add_test(tc, test_json_escape);
    tcase_add_test(tc, test_json_writer);
    tcase_add_test(tc, test_jread);
    tcase_add_test(tc, test_durations);
    tcase_add_test(tc, test_text_clean);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(ctl_suite());
}
