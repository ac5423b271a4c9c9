/*
 * check_daemon - daemon_parse_args, the flags relayguard-milter,
 * relayguard-policyd and relayguard-collector share: -c FILE, -f, -n,
 * -V, and what follows them (nothing for the daemons, a command for the
 * collector); daemon_become_user, the start of the milter and of
 * relayguard-policyd as root (their directories given to the daemon user,
 * then that user), in a child per case, as root; daemon_pidfile, the
 * pidfile both daemons write, a failure passed to their warning.
 */
#include <check.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "cfg.h"
#include "check_main.h"
#include "daemon.h"

#define ARGV_MAX 8

#define ARG_MAX_LEN 64

/* parse - daemon_parse_args over a NULL-ended list (copied: getopt may
 * permute argv); its return value */
static int parse(bool command, struct daemon_opts *o, const char *const *a)
{
    static char args[ARGV_MAX][ARG_MAX_LEN];
    static char *argv[ARGV_MAX + 1];
    int argc = 0;

    for (; a[argc] != NULL && argc < ARGV_MAX; argc++) {
	snprintf(args[argc], ARG_MAX_LEN, "%s", a[argc]);
	argv[argc] = args[argc];
    }
    argv[argc] = NULL;
    optind = 0;			/* glibc: start afresh */
    opterr = 0;
    return daemon_parse_args(argc, argv, command, o);
}

START_TEST(test_flags)
{
    struct daemon_opts o;

    ck_assert_int_eq(parse(false, &o, (const char *[]) {"d", NULL}), 0);
    ck_assert_str_eq(o.file, CFG_DEFAULT_FILE);
    ck_assert(!o.foreground && !o.check_only && !o.version);
    ck_assert_int_eq(parse(false, &o, (const char *[]) {"d", "-f", "-c",
			   "/x.conf", "-n", NULL}), 0);
    ck_assert_str_eq(o.file, "/x.conf");
    ck_assert(o.foreground && o.check_only && !o.version);
    ck_assert_int_eq(parse(false, &o, (const char *[]) {"d", "-fn", NULL}),
		     0);
    ck_assert(o.foreground && o.check_only);
    /* -V ends the parse: what follows is not looked at */
    ck_assert_int_eq(parse(false, &o, (const char *[]) {"d", "-V", "-x",
			   NULL}), 0);
    ck_assert(o.version);
}
END_TEST

START_TEST(test_usage)
{
    struct daemon_opts o;

    ck_assert_int_eq(parse(false, &o, (const char *[]) {"d", "-x", NULL}),
		     -1);
    ck_assert_int_eq(parse(false, &o, (const char *[]) {"d", "-c", NULL}),
		     -1);
    /* a daemon takes no arguments */
    ck_assert_int_eq(parse(false, &o, (const char *[]) {"d", "-f", "run",
			   NULL}), -1);
}
END_TEST

START_TEST(test_command)
{
    struct daemon_opts o;

    /* the flags end at the command; its own flags are left to it */
    ck_assert_int_eq(parse(true, &o, (const char *[]) {"c", "-c", "/y.conf",
			   "analyze", "-f", "--json", NULL}), 0);
    ck_assert_str_eq(o.file, "/y.conf");
    ck_assert(!o.foreground);
    ck_assert_int_eq(optind, 3);
    ck_assert_int_eq(parse(true, &o, (const char *[]) {"c", "-n", NULL}), 0);
    ck_assert(o.check_only);
    ck_assert_int_eq(optind, 2);
}
END_TEST

#define TDIR_LEN 64
#define PATH_LEN 256

/* become - in a child: daemon_become_user for user:group with its files
 * under dir (a unix socket, or inet when unix is false); the child exits
 * with the status, 100 + its status when its euid is not then uid */
static int become(const char *dir, const char *user, const char *group,
		  bool unix_sock, uid_t uid, char *err, size_t errlen)
{
    char state[PATH_LEN], snap[PATH_LEN], pid[PATH_LEN], sock[PATH_LEN];
    struct cfg c;
    int p[2], status;
    pid_t child;

    memset(&c, 0, sizeof(c));
    snprintf(state, sizeof(state), "%s/state/state", dir);
    snprintf(snap, sizeof(snap), "%s/snap/state.snap", dir);
    snprintf(pid, sizeof(pid), "%s/run/d.pid", dir);
    snprintf(sock, sizeof(sock), unix_sock ? "unix:%s/sock/d.sock"
	     : "inet:10025@127.0.0.1", dir);
    c.state.path = state;
    c.state.snapshot_path = snap;
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_ge(child = fork(), 0);
    if (child == 0) {
	const struct daemon_user d = { user, group, pid, sock };
	char e[PATH_LEN * 2] = "";
	int rc = daemon_become_user(&c, &d, NULL, e, sizeof(e));

	if (write(p[1], e, strlen(e) + 1) < 0)
	    _exit(99);
	_exit(geteuid() == uid ? rc : 100 + rc);
    }
    close(p[1]);
    err[0] = '\0';
    ck_assert_int_ge(read(p[0], err, errlen - 1), 0);
    err[errlen - 1] = '\0';
    close(p[0]);
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* owner - "uid:gid" of path, or "none" */
static const char *owner(const char *dir, const char *sub)
{
    static char buf[64];
    char path[PATH_LEN];
    struct stat sb;

    snprintf(path, sizeof(path), "%s/%s", dir, sub);
    if (stat(path, &sb) != 0)
	return "none";
    snprintf(buf, sizeof(buf), "%u:%u", (unsigned) sb.st_uid,
	     (unsigned) sb.st_gid);
    return buf;
}

/* The start as root: the state, snapshot, pidfile and unix socket
 * directories made for the daemon user, then that user for good; an
 * unknown user or group stops before anything is made. */
START_TEST(test_become_user)
{
    struct passwd *pw = getpwnam("nobody");
    struct group *gr = getgrnam("nogroup");
    char dir[TDIR_LEN] = "/tmp/check_daemon.XXXXXX", want[64], err[512];
    char cmd[TDIR_LEN + 32];

    ck_assert_ptr_nonnull(pw);
    ck_assert_ptr_nonnull(gr);
    ck_assert_int_eq(geteuid(), 0);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(want, sizeof(want), "%u:%u", (unsigned) pw->pw_uid,
	     (unsigned) gr->gr_gid);
    ck_assert_int_eq(become(dir, "nobody", "no-such-group-rg", true, 0, err,
			    sizeof(err)), EX_NOUSER);
    ck_assert_str_eq(err, "unknown user nobody or group no-such-group-rg");
    ck_assert_str_eq(owner(dir, "state"), "none");
    ck_assert_int_eq(become(dir, "nobody", "nogroup", true, pw->pw_uid, err,
			    sizeof(err)), 0);
    ck_assert_str_eq(owner(dir, "state"), want);
    ck_assert_str_eq(owner(dir, "snap"), want);
    ck_assert_str_eq(owner(dir, "run"), want);
    ck_assert_str_eq(owner(dir, "sock"), want);
    /* an inet socket has no directory */
    snprintf(cmd, sizeof(cmd), "rm -rf '%s/sock'", dir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(become(dir, "nobody", "nogroup", false, pw->pw_uid, err,
			    sizeof(err)), 0);
    ck_assert_str_eq(owner(dir, "sock"), "none");
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_socket_file)
{
    ck_assert_str_eq(daemon_socket_file("unix:/run/rg/m.sock"),
		     "/run/rg/m.sock");
    ck_assert_str_eq(daemon_socket_file("local:/run/rg/m.sock"),
		     "/run/rg/m.sock");
    ck_assert_ptr_null(daemon_socket_file("inet:10025@127.0.0.1"));
    ck_assert_ptr_null(daemon_socket_file("/run/rg/m.sock"));
}
END_TEST

static char warned[1024];	/* daemon_pidfile's warning, if any */

/* warn_keep - a daemon's warning callback that keeps the message */
static void warn_keep(const char *msg)
{
    snprintf(warned, sizeof(warned), "%s", msg);
}

/* The pidfile: our pid, or a warning naming the file and why (no
 * directory, a symbolic link in its place) while the start goes on. */
START_TEST(test_pidfile)
{
    char dir[TDIR_LEN] = "/tmp/check_daemon.XXXXXX", path[TDIR_LEN + 32];
    char want[TDIR_LEN + 96], text[32] = "", cmd[TDIR_LEN + 32];
    FILE *f;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/rg.pid", dir);
    daemon_pidfile(path, warn_keep);
    ck_assert_str_eq(warned, "");
    ck_assert_ptr_nonnull(f = fopen(path, "r"));
    ck_assert_ptr_nonnull(fgets(text, sizeof(text), f));
    fclose(f);
    ck_assert_int_eq(atol(text), (long) getpid());
    snprintf(path, sizeof(path), "%s/none/rg.pid", dir);
    daemon_pidfile(path, warn_keep);
    snprintf(want, sizeof(want), "pidfile %s: No such file or directory",
	     path);
    ck_assert_str_eq(warned, want);
    snprintf(path, sizeof(path), "%s/link.pid", dir);
    ck_assert_int_eq(symlink("rg.pid", path), 0);
    daemon_pidfile(path, warn_keep);
    snprintf(want, sizeof(want), "pidfile %s: is a symbolic link, not"
	     " written", path);
    ck_assert_str_eq(warned, want);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* daemon_suite - the cases above */
static Suite *daemon_suite(void)
{
    Suite *s = suite_create("daemon");
    TCase *tc = tcase_create("args");

    tcase_add_test(tc, test_flags);
    tcase_add_test(tc, test_usage);
    tcase_add_test(tc, test_command);
    tcase_add_test(tc, test_become_user);
    tcase_add_test(tc, test_socket_file);
    tcase_add_test(tc, test_pidfile);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(daemon_suite());
}
