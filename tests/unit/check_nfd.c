/*
 * check_nfd - running nfdump and reading its lines: line splitting (no
 * trailing newline, empty lines, a line too long is cut once and the line
 * numbers stay right), parallel jobs with their stderr and exit codes, the
 * filters pushed into nfdump.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../collector/nfd.h"
#include "check_main.h"

#define MAX_SEEN 16

struct seen {
    size_t n;
    size_t len[MAX_SEEN];
    uint64_t lineno[MAX_SEEN];
    char first[MAX_SEEN][16];
};

/* collect - the line callback: remember lengths, numbers, beginnings */
static void collect(void *ctx, const char *line, size_t len, uint64_t lineno)
{
    struct seen *s = ctx;

    ck_assert_uint_lt(s->n, MAX_SEEN);
    s->len[s->n] = len;
    s->lineno[s->n] = lineno;
    snprintf(s->first[s->n], sizeof(s->first[0]), "%.*s", (int) (len < 15 ? len : 15), line);
    s->n++;
}

/* read_text - text through nfd_read_fd (from a temporary file) */
static void read_text(const char *text, size_t len, struct seen *s)
{
    char path[] = "/tmp/check_nfd.XXXXXX", err[128];
    int fd = mkstemp(path);
    uint64_t lines;

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, len), (ssize_t) len);
    lseek(fd, 0, SEEK_SET);
    unlink(path);
    memset(s, 0, sizeof(*s));
    ck_assert_int_eq(nfd_read_fd(fd, collect, s, &lines, err, sizeof(err)), NFD_OK);
    ck_assert_uint_eq(lines, s->n);
    close(fd);
}

START_TEST(test_lines)
{
    struct seen s;

    read_text("a\n\nbc", 5, &s);
    ck_assert_uint_eq(s.n, 3);
    ck_assert_str_eq(s.first[0], "a");
    ck_assert_uint_eq(s.len[1], 0);
    ck_assert_str_eq(s.first[2], "bc");	/* no trailing newline */
    ck_assert_uint_eq(s.lineno[2], 3);
}
END_TEST

START_TEST(test_long_line)
{
    size_t big = NFD_LINE_MAX + 5000, n = big + 12;
    char *t = malloc(n);
    struct seen s;

    memset(t, 'x', big);
    memcpy(t + big, "\nnext\nlast\n", 11);
    read_text(t, n - 1, &s);
    ck_assert_uint_eq(s.n, 3);
    ck_assert_uint_eq(s.len[0], NFD_LINE_MAX);	/* cut once */
    ck_assert_str_eq(s.first[1], "next");
    ck_assert_uint_eq(s.lineno[1], 2);	/* numbering goes on */
    ck_assert_str_eq(s.first[2], "last");
    ck_assert_uint_eq(s.lineno[2], 3);
    free(t);
}
END_TEST

START_TEST(test_jobs)
{
    struct nfd_job j[2];
    struct seen s[2];
    char err[256];

    memset(j, 0, sizeof(j));
    memset(s, 0, sizeof(s));
    j[0].argv[0] = "/bin/sh";
    j[0].argv[1] = "-c";
    j[0].argv[2] = "printf 'one\\ntwo'; echo 'broken file' >&2; echo \"$TZ\" >&2; exit 3";
    j[1].argv[0] = "/nonexistent/nfdump";
    j[0].fn = j[1].fn = collect;
    j[0].ctx = &s[0];
    j[1].ctx = &s[1];
    ck_assert_int_eq(nfd_run(j, 2, err, sizeof(err)), NFD_OK);
    ck_assert_uint_eq(s[0].n, 2);
    ck_assert_str_eq(s[0].first[1], "two");
    ck_assert_int_eq(j[0].exit_code, 3);
    ck_assert_str_eq(j[0].errtext, "broken file\nUTC\n");	/* TZ=UTC for nfdump */
    ck_assert_int_eq(j[1].exit_code, 127);
    ck_assert_ptr_nonnull(strstr(j[1].errtext, "/nonexistent/nfdump"));
}
END_TEST

START_TEST(test_filters)
{
    char buf[512], small[20], err[64];
    struct cidr c[2];
    struct cidr_list l = {c, 2};
    struct addr h[2];

    ck_assert_int_eq(nfd_smtp_filter(buf, sizeof(buf), 3, 120), 0);
    ck_assert_str_eq(buf, "proto tcp and port 25 and ((in packets >= 3 and in bytes >= 120)"
		     " or (out packets >= 3 and out bytes >= 120))");
    ck_assert_int_eq(addr_cidr_parse("10.20.0.0/16", &c[0], err, sizeof(err)), 0);
    ck_assert_int_eq(addr_cidr_parse("fd00:20::/32", &c[1], err, sizeof(err)), 0);
    ck_assert_int_eq(nfd_net_filter(buf, sizeof(buf), "src", &l), 0);
    ck_assert_str_eq(buf, "src net 10.20.0.0/16 or src net fd00:20::/32");
    ck_assert_int_eq(addr_parse("10.20.1.7", &h[0]), 0);
    ck_assert_int_eq(addr_parse("fd00:20::7", &h[1]), 0);
    ck_assert_int_eq(nfd_hosts_filter(buf, sizeof(buf), h, 2), 0);
    ck_assert_str_eq(buf, "ip in [ 10.20.1.7 fd00:20::7 ]");
    ck_assert_int_eq(nfd_hosts_filter(small, sizeof(small), h, 2), -1);	/* too long */
    ck_assert_int_eq(nfd_hosts_filter(buf, sizeof(buf), h, 0), -1);	/* empty */
}
END_TEST

static Suite *nfd_suite(void)
{
    Suite *s = suite_create("nfd");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_lines);
    tcase_add_test(tc, test_long_line);
    tcase_add_test(tc, test_jobs);
    tcase_add_test(tc, test_filters);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(nfd_suite());
}
