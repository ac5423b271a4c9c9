/*
 * check_output - what the collector writes for others: the rogue list the
 * milter reads (its own parser must take every line), JSON strings.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../collector/output.h"
#include "check_main.h"
#include "roguelist.h"

START_TEST(test_rogue_list_read_by_milter)
{
    struct hist_flag v[3] = {
	{.host = "10.20.1.7", .kind = "rogue_server", .seen_ms = 1794297600000LL},
	{.host = "fd00:20::7", .kind = "rogue_server", .seen_ms = 1794297600000LL,
	 .expires_ms = 1794902400000LL, .reason = "flagged from flows"},
	{.host = "10.20.133.16", .kind = "direct_sender", .seen_ms = 1794299401000LL},
    };
    char dir[] = "/tmp/check_output.XXXXXX", path[256], err[256], tmp[300];
    struct roguelist l;
    struct addr a;
    FILE *fp;
    char line[256];

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/rogue.list", dir);
    ck_assert_int_eq(out_rogue_list(path, v, 3, 1794300000000LL, err, sizeof(err)), 0);
    ck_assert_int_eq(roguelist_load(path, &l, err, sizeof(err)), 0);
    ck_assert_uint_eq(l.nets.n, 3);
    ck_assert_uint_eq(l.bad_lines, 0);
    ck_assert_int_eq(addr_parse("10.20.133.16", &a), 0);
    ck_assert(addr_cidr_list_match(&l.nets, &a));
    roguelist_free(&l);
    fp = fopen(path, "r");
    ck_assert_ptr_nonnull(fp);
    ck_assert_ptr_nonnull(fgets(line, sizeof(line), fp));
    ck_assert_ptr_nonnull(fgets(line, sizeof(line), fp));
    ck_assert_str_eq(line, "10.20.1.7 # rogue_server 2026-11-10T08:00:00Z\n");
    ck_assert_ptr_nonnull(fgets(line, sizeof(line), fp));	/* reason and expiry */
    ck_assert_str_eq(line, "fd00:20::7 # rogue_server 2026-11-10T08:00:00Z"
		     " expires=2026-11-17T08:00:00Z reason=\"flagged from flows\"\n");
    fclose(fp);
    /* replaced, not appended; no temporary file left */
    ck_assert_int_eq(out_rogue_list(path, v, 1, 1794300000000LL, err, sizeof(err)), 0);
    ck_assert_int_eq(roguelist_load(path, &l, err, sizeof(err)), 0);
    ck_assert_uint_eq(l.nets.n, 1);
    roguelist_free(&l);
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long) getpid());
    ck_assert_int_ne(access(tmp, F_OK), 0);
    /* a directory that does not exist: an error, the old list stays */
    snprintf(tmp, sizeof(tmp), "%s/none/rogue.list", dir);
    ck_assert_int_ne(out_rogue_list(tmp, v, 1, 0, err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(strstr(err, "none"));
    unlink(path);
    rmdir(dir);
}
END_TEST

START_TEST(test_json_strings)
{
    struct jb j = {0};

    jb_str(&j, "a\"b\\c\n\x01\xc3\xa9\xff");
    ck_assert(!j.oom);
    /* UTF-8 kept, a stray byte replaced */
    ck_assert_str_eq(j.p, "\"a\\\"b\\\\c\\u000a\\u0001\xc3\xa9\\ufffd\"");
    jb_free(&j);
    jb_time(&j, INT64_MAX);
    ck_assert_str_eq(j.p, "null");
    jb_free(&j);
    jb_time(&j, 1794297600000LL);
    ck_assert_str_eq(j.p, "\"2026-11-10T08:00:00Z\"");
    jb_free(&j);
}
END_TEST

static Suite *output_suite(void)
{
    Suite *s = suite_create("output");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_rogue_list_read_by_milter);
    tcase_add_test(tc, test_json_strings);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(output_suite());
}
