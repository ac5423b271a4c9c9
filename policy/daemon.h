/*
 * daemon - what the daemons (relayguard-milter, relayguard-policyd) share
 * at start-up before they serve; relayguard-collector shares their flags.
 */
#ifndef RG_DAEMON_H
#define RG_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct cfg;

/* The flags every relayguard daemon takes. */
struct daemon_opts {
    const char *file;		/* -c FILE; CFG_DEFAULT_FILE without it */
    int foreground;		/* -f */
    int check_only;		/* -n */
    int version;		/* -V: the caller prints its version, exits */
};

/* Parse -c FILE, -f, -n and -V with getopt (parsing stops at -V). With
 * command, the flags end at the first other argument, which optind then
 * names (a command and its arguments); without, any other argument is an
 * error. Returns 0, or -1 when the caller should print its usage. */
int daemon_parse_args(int argc, char **argv, bool command,
		      struct daemon_opts *o);

/* Detach from the terminal: fork twice around setsid, chdir("/"), the
 * standard descriptors on /dev/null. Returns 0 in the detached process
 * (the others _exit(0)); -1 with err filled when a step fails. */
int daemon_detach(char *err, size_t errlen);

/* The absolute name of path in out (as given when it cannot be resolved),
 * so that a file named relative to the start directory is still found
 * after daemon_detach's chdir("/"), by a reload too. */
void daemon_abs_path(const char *path, char *out, size_t len);

/* Create the parent directory of path (mode 0750) and, as root, give it
 * to uid:gid, so the daemon can still remove its files after dropping
 * root. An existing directory is left as it is. Returns -1 with err
 * filled when the chown fails. */
int daemon_make_dir_for(const char *path, uid_t uid, gid_t gid,
			char *err, size_t errlen);

/* Become uid:gid (nothing for uid 0); -1 with err filled when a step
 * fails or root could be regained. */
int daemon_drop_privileges(uid_t uid, gid_t gid, char *err, size_t errlen);

/* The file of a socket address "unix:PATH" or "local:PATH"; NULL for
 * any other (inet:PORT@HOST). */
const char *daemon_socket_file(const char *socket);

/* What a daemon that starts as root becomes, and its own files. */
struct daemon_user {
    const char *user, *group;	/* milter.user and .group, or policyd's */
    const char *pidfile, *socket;	/* its pidfile and socket address */
};

/* As root: the parent directories of the state file, the snapshot, the
 * pidfile and a unix socket for d's user and group (daemon_make_dir_for;
 * a chown that fails is passed to warn, and the start goes on), then
 * become that user and group for good. Nothing when not root. Returns
 * 0, or the daemon's exit code with err filled: EX_NOUSER when the user
 * or group is unknown, EX_OSERR when the drop fails. */
int daemon_become_user(const struct cfg *c, const struct daemon_user *d,
		       void (*warn)(const char *msg), char *err, size_t errlen);

/* Write our pid into path, after the privilege drop: a symbolic link,
 * another user's file or a second hard link in its place is refused.
 * Returns -1 with err filled when nothing was written. */
int daemon_write_pidfile(const char *path, char *err, size_t errlen);

/* daemon_write_pidfile for a daemon's start: a failure is passed to
 * warn as "pidfile PATH: why" and the start goes on. */
void daemon_pidfile(const char *path, void (*warn)(const char *msg));

#endif
