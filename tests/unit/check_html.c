/*
 * check_html - the report's text escaper (html_esc): UTF-8 logins stay
 * as they are, markup characters become entities, control, bidi and
 * zero-width characters become visible "[U+XXXX]", and only bytes that
 * are no UTF-8 become U+FFFD.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../collector/html.h"
#include "check_main.h"

#define FFFD "\xef\xbf\xbd"

/* esc - html_esc's output for s (owned by the caller) */
static char *esc(const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    ck_assert_ptr_nonnull(f);
    html_esc(f, s);
    fclose(f);
    return buf;
}

/* same - html_esc(in) is want */
static void same(const char *in, const char *want)
{
    char *got = esc(in);

    ck_assert_msg(strcmp(got, want) == 0, "html_esc(\"%s\") = \"%s\", want \"%s\"", in, got,
		  want);
    free(got);
}

START_TEST(test_utf8_kept)
{
    same("José Müller", "José Müller");
    same("пользователь@пример.рф", "пользователь@пример.рф");
    same("山田太郎@例え.jp", "山田太郎@例え.jp");
    same("user😀", "user😀");			/* four bytes */
    same("plain.ascii-user_1", "plain.ascii-user_1");
}
END_TEST

START_TEST(test_markup)
{
    same("<script>alert(\"x\")</script>", "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    same("a&b 'c'", "a&amp;b 'c'");	/* the report quotes attributes with " */
    same("Zoë<b>", "Zoë&lt;b&gt;");
}
END_TEST

START_TEST(test_hidden_characters)
{
    same("invoice\u202Etxt.exe", "invoice[U+202E]txt.exe");	/* right-to-left override */
    same("ad\u200Bmin", "ad[U+200B]min");			/* zero width space */
    same("\u2066x\u2069", "[U+2066]x[U+2069]");		/* isolates */
    same("\xef\xbb\xbf" "bom", "[U+FEFF]bom");
    same("a\x1b[31mred", "a[U+001B][31mred");		/* a terminal escape */
    same("tab\there\nnl", "tab[U+0009]here[U+000A]nl");
    same("c1\xc2\x9b", "c1[U+009B]");			/* C1 CSI */
    same("del\x7f", "del[U+007F]");
}
END_TEST

START_TEST(test_invalid_bytes)
{
    same("a\xff" "b", "a" FFFD "b");
    same("\xc0\xaf", FFFD FFFD);			/* overlong '/' */
    same("\xed\xa0\x80", FFFD FFFD FFFD);		/* a surrogate */
    same("cut\xe6\x97", "cut" FFFD FFFD);		/* a character cut short */
    same("\x80mid", FFFD "mid");			/* a lone continuation byte */
    same("ok\xc3\xa9\xff", "ok\xc3\xa9" FFFD);		/* valid, then not */
}
END_TEST

/* html_suite - the escaper */
static Suite *html_suite(void)
{
    Suite *s = suite_create("html");
    TCase *tc = tcase_create("esc");

    tcase_add_test(tc, test_utf8_kept);
    tcase_add_test(tc, test_markup);
    tcase_add_test(tc, test_hidden_characters);
    tcase_add_test(tc, test_invalid_bytes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(html_suite());
}
