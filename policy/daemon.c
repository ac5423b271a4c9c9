/*
 * daemon - start-up steps shared by the daemons.
 *
 * Contract: called once, before any thread starts. Returns a status and
 * fills the caller's err; the caller decides how to log and exit.
 */
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sysexits.h>

#include "cfg.h"
#include "daemon.h"

#define DAEMON_DIR_MODE 0750
#define DAEMON_PIDFILE_MODE 0644
#define DAEMON_WHY_MAX (PATH_MAX + 128)	/* a path and strerror */

/* daemon_parse_args - the daemons' flags into o */
int daemon_parse_args(int argc, char **argv, bool command,
		      struct daemon_opts *o)
{
    int ch;

    memset(o, 0, sizeof(*o));
    o->file = CFG_DEFAULT_FILE;
    while ((ch = getopt(argc, argv, command ? "+c:fnV" : "c:fnV")) != -1) {
	switch (ch) {
	case 'c':
	    o->file = optarg;
	    break;
	case 'f':
	    o->foreground = 1;
	    break;
	case 'n':
	    o->check_only = 1;
	    break;
	case 'V':
	    o->version = 1;
	    return 0;
	default:
	    return -1;
	}
    }
    return command || optind == argc ? 0 : -1;
}

/* daemon_detach - leave the terminal and the session behind */
int daemon_detach(char *err, size_t errlen)
{
    pid_t pid;
    int fd;

    if ((pid = fork()) < 0)
	return snprintf(err, errlen, "fork: %s", strerror(errno)), -1;
    if (pid > 0)
	_exit(0);
    setsid();
    if ((pid = fork()) < 0)
	return snprintf(err, errlen, "fork: %s", strerror(errno)), -1;
    if (pid > 0)
	_exit(0);
    if (chdir("/") != 0)
	return snprintf(err, errlen, "chdir /: %s", strerror(errno)), -1;
    if ((fd = open("/dev/null", O_RDWR)) >= 0) {
	dup2(fd, 0), dup2(fd, 1), dup2(fd, 2);
	if (fd > 2)
	    close(fd);
    }
    return 0;
}

/* daemon_abs_path - path resolved against the current directory */
void daemon_abs_path(const char *path, char *out, size_t len)
{
    char buf[PATH_MAX];

    snprintf(out, len, "%s", realpath(path, buf) != NULL ? buf : path);
}

/* daemon_make_dir_for - the parent directory of path, for the daemon user */
int daemon_make_dir_for(const char *path, uid_t uid, gid_t gid,
			char *err, size_t errlen)
{
    char *copy = strdup(path), *dir;
    int rc = 0;

    if (copy == NULL)
	return snprintf(err, errlen, "out of memory"), -1;
    dir = dirname(copy);
    if (mkdir(dir, DAEMON_DIR_MODE) == 0 && geteuid() == 0
	&& chown(dir, uid, gid) != 0) {
	snprintf(err, errlen, "chown %s: %s", dir, strerror(errno));
	rc = -1;
    }
    free(copy);
    return rc;
}

/* daemon_drop_privileges - become uid:gid for good */
int daemon_drop_privileges(uid_t uid, gid_t gid, char *err, size_t errlen)
{
    if (uid == 0)
	return 0;
    if (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0)
	return snprintf(err, errlen, "%s", strerror(errno)), -1;
    if (setuid(0) == 0)
	return snprintf(err, errlen, "root could be regained"), -1;
    return 0;
}

/* daemon_socket_file - see daemon.h */
const char *daemon_socket_file(const char *socket)
{
    if (strncmp(socket, "unix:", 5) == 0 || strncmp(socket, "local:", 6) == 0)
	return strchr(socket, ':') + 1;
    return NULL;
}

/* daemon_become_user - see daemon.h */
int daemon_become_user(const struct cfg *c, const struct daemon_user *d,
		       void (*warn)(const char *msg), char *err, size_t errlen)
{
    const char *files[] = { c->state.path, c->state.snapshot_path,
	d->pidfile, daemon_socket_file(d->socket) };
    struct passwd *pw;
    struct group *gr;
    char why[DAEMON_WHY_MAX];

    if (geteuid() != 0)
	return 0;
    if ((pw = getpwnam(d->user)) == NULL || (gr = getgrnam(d->group)) == NULL)
	return snprintf(err, errlen, "unknown user %s or group %s", d->user,
			d->group), EX_NOUSER;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
	if (files[i] != NULL && *files[i] != '\0'
	    && daemon_make_dir_for(files[i], pw->pw_uid, gr->gr_gid, why,
				   sizeof(why)) != 0 && warn != NULL)
	    warn(why);
    if (daemon_drop_privileges(pw->pw_uid, gr->gr_gid, why, sizeof(why)) != 0)
	return snprintf(err, errlen, "cannot drop privileges to %s: %s",
			d->user, why), EX_OSERR;
    return 0;
}

/* daemon_write_pidfile - our pid, into a regular file of ours only */
int daemon_write_pidfile(const char *path, char *err, size_t errlen)
{
    char text[32];
    struct stat sb;
    int fd, n, rc = 0;

    fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
	      DAEMON_PIDFILE_MODE);
    if (fd < 0)
	return snprintf(err, errlen, "%s", errno == ELOOP
			? "is a symbolic link, not written" : strerror(errno)), -1;
    n = snprintf(text, sizeof(text), "%ld\n", (long) getpid());
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_nlink != 1
	|| sb.st_uid != geteuid()) {
	snprintf(err, errlen, "not a regular file of ours with one link, "
		 "not written");
	rc = -1;
    } else if (ftruncate(fd, 0) != 0 || write(fd, text, (size_t) n) != n) {
	snprintf(err, errlen, "%s", strerror(errno));
	rc = -1;
    }
    close(fd);
    return rc;
}

/* daemon_pidfile - see daemon.h */
void daemon_pidfile(const char *path, void (*warn)(const char *msg))
{
    char err[256], msg[PATH_MAX + 300];

    if (daemon_write_pidfile(path, err, sizeof(err)) != 0) {
	snprintf(msg, sizeof(msg), "pidfile %s: %s", path, err);
	warn(msg);
    }
}
