/*
 * receive - the event side of "relayguard-collector run" (a thread
 * beside the flow follower) and of "listen" (events only, for tests and
 * for a first look): intake, correlation into incidents, retention, and
 * the counters in the log.
 *
 * Contract: receive_run returns when *stop is set, after max_events
 * datagrams or max_seconds (0: no limit), with a sysexits code. It opens
 * its own history handle. Logs through log.c.
 */
#ifndef RG_RECEIVE_H
#define RG_RECEIVE_H

#include <signal.h>

#include "cfg.h"

struct receive_opts {
    unsigned max_events, max_seconds;
};

int receive_run(const struct cfg *cfg, volatile sig_atomic_t *stop,
		const struct receive_opts *o);

#endif
