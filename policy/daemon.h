/*
 * daemon - what the daemons (relayguard-milter, relayguard-policyd) share
 * at start-up before they serve.
 */
#ifndef RG_DAEMON_H
#define RG_DAEMON_H

#include <stddef.h>

/* Detach from the terminal: fork twice around setsid, chdir("/"), the
 * standard descriptors on /dev/null. Returns 0 in the detached process
 * (the others _exit(0)); -1 with err filled when a step fails. */
int daemon_detach(char *err, size_t errlen);

/* The absolute name of path in out (as given when it cannot be resolved),
 * so that a file named relative to the start directory is still found
 * after daemon_detach's chdir("/"), by a reload too. */
void daemon_abs_path(const char *path, char *out, size_t len);

#endif
