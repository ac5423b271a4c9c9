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

#endif
