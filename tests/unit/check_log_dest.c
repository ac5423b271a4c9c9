/*
 * check_log_dest - where log lines go (policy/log.c): a plain stderr gets
 * "ident: level: message"; a stderr that is the systemd journal
 * (JOURNAL_STREAM) goes to syslog(3) when there is a syslog socket, else
 * gets the journal's "<N>" level prefix, so journald files each line
 * under its level instead of all as info.
 *
 * Each test runs forked and points its own stderr at a temporary file.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "check_main.h"

#define OUT_MAX 4096

static char errfile[64];

/* stderr_to_file - a fresh file on fd 2 */
static void stderr_to_file(void)
{
    int fd;

    snprintf(errfile, sizeof(errfile), "/tmp/rg-check-log-XXXXXX");
    fd = mkstemp(errfile);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
    close(fd);
}

/* stream_of - fd's file as JOURNAL_STREAM spells it */
static void stream_of(int fd, char *buf, size_t len)
{
    struct stat sb;

    ck_assert_int_eq(fstat(fd, &sb), 0);
    snprintf(buf, len, "%llu:%llu", (unsigned long long) sb.st_dev,
	     (unsigned long long) sb.st_ino);
}

/* written - what reached the stderr file */
static const char *written(void)
{
    static char buf[OUT_MAX];
    int fd = open(errfile, O_RDONLY);
    ssize_t n;

    ck_assert_int_ge(fd, 0);
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    ck_assert_int_ge(n, 0);
    buf[n] = '\0';
    unlink(errfile);
    return buf;
}

START_TEST(test_journal_prefix)
{
    static const struct {
	int prio;
	const char *want;
    } map[] = {
	{LOG_EMERG, "<0>"}, {LOG_ERR, "<3>"}, {LOG_WARNING, "<4>"},
	{LOG_NOTICE, "<5>"}, {LOG_INFO, "<6>"}, {LOG_DEBUG, "<7>"},
	/* a stream's prefix takes no facility: journald would keep
	 * "<20>" in the text */
	{LOG_MAIL | LOG_WARNING, "<4>"}, {LOG_LOCAL7 | LOG_ERR, "<3>"},
    };
    char buf[8];

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
	ck_assert_uint_eq(log_journal_prefix(map[i].prio, buf, sizeof(buf)), 3);
	ck_assert_str_eq(buf, map[i].want);
    }
    ck_assert_uint_eq(log_journal_prefix(LOG_ERR, buf, 2), 1);
    ck_assert_str_eq(buf, "<");
}
END_TEST

START_TEST(test_journal_stream)
{
    char env[64];
    int other;

    stderr_to_file();
    stream_of(STDERR_FILENO, env, sizeof(env));
    ck_assert_int_eq(log_journal_stream(env, STDERR_FILENO), 1);
    other = open("/dev/null", O_WRONLY);
    ck_assert_int_eq(log_journal_stream(env, other), 0);
    stream_of(other, env, sizeof(env));
    ck_assert_int_eq(log_journal_stream(env, STDERR_FILENO), 0);
    close(other);
    ck_assert_int_eq(log_journal_stream(NULL, STDERR_FILENO), 0);
    ck_assert_int_eq(log_journal_stream("", STDERR_FILENO), 0);
    ck_assert_int_eq(log_journal_stream("12", STDERR_FILENO), 0);
    stream_of(STDERR_FILENO, env, sizeof(env));
    strcat(env, "x");
    ck_assert_int_eq(log_journal_stream(env, STDERR_FILENO), 0);
    ck_assert_int_eq(log_journal_stream("1:2", -1), 0);
    unlink(errfile);
}
END_TEST

START_TEST(test_plain_stderr)
{
    stderr_to_file();
    unsetenv("JOURNAL_STREAM");
    log_open("rg-test", LOG_MAIL, 1);
    ck_assert_int_eq(log_destination(), LOG_DEST_STDERR);
    log_msg(LOG_WARNING, "geoip %d", 7);
    log_msg(LOG_ERR, "bad");
    ck_assert_str_eq(written(), "rg-test: warning: geoip 7\nrg-test: error: bad\n");
}
END_TEST

START_TEST(test_journal_without_syslog)
{
    char env[64];

    stderr_to_file();
    stream_of(STDERR_FILENO, env, sizeof(env));
    setenv("JOURNAL_STREAM", env, 1);
    log_syslog_socket = "/nonexistent/rg-dev-log";
    log_open("rg-test", LOG_MAIL, 1);
    ck_assert_int_eq(log_destination(), LOG_DEST_JOURNAL);
    log_msg(LOG_WARNING, "geoip %d", 7);
    log_msg(LOG_NOTICE, "listening");
    log_msg(LOG_ERR, "bad");
    ck_assert_str_eq(written(), "<4>geoip 7\n<5>listening\n<3>bad\n");
}
END_TEST

START_TEST(test_journal_with_syslog)
{
    char env[64], sock[64];
    struct sockaddr_un sa;
    int s;

    /* a syslog socket of our own stands for /dev/log */
    snprintf(sock, sizeof(sock), "/tmp/rg-check-log-sock-%ld", (long) getpid());
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
    s = socket(AF_UNIX, SOCK_DGRAM, 0);
    ck_assert_int_ge(s, 0);
    unlink(sock);
    ck_assert_int_eq(bind(s, (struct sockaddr *) &sa, sizeof(sa)), 0);
    stderr_to_file();
    stream_of(STDERR_FILENO, env, sizeof(env));
    setenv("JOURNAL_STREAM", env, 1);
    log_syslog_socket = sock;
    log_open("rg-test", LOG_LOCAL3, 1);
    /* -f under systemd: syslog(3), with the facility, not stderr */
    ck_assert_int_eq(log_destination(), LOG_DEST_SYSLOG);
    log_msg(LOG_WARNING, "to syslog");
    ck_assert_str_eq(written(), "");
    ck_assert_int_eq(log_facility(), LOG_LOCAL3);
    log_set_facility(LOG_MAIL);	/* a reload that changed it */
    ck_assert_int_eq(log_facility(), LOG_MAIL);
    close(s);
    unlink(sock);
}
END_TEST

/* log_dest_suite - the test cases */
static Suite *log_dest_suite(void)
{
    Suite *s = suite_create("log_dest");
    TCase *tc = tcase_create("destination");

    tcase_add_test(tc, test_journal_prefix);
    tcase_add_test(tc, test_journal_stream);
    tcase_add_test(tc, test_plain_stderr);
    tcase_add_test(tc, test_journal_without_syslog);
    tcase_add_test(tc, test_journal_with_syslog);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(log_dest_suite());
}
