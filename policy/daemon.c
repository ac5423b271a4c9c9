/*
 * daemon - start-up steps shared by the daemons.
 *
 * Contract: called once, before any thread starts. Returns a status and
 * fills the caller's err; the caller decides how to log and exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"

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
