/*
 * receive - the event side of "relayguard-collector run" (a thread
 * beside the flow follower) and of "listen" (events only, for tests and
 * for a first look): intake, correlation into incidents, retention, and
 * the counters in the log.
 *
 * Contract: receive_run returns when *stop is set (an atomic: another
 * thread or a signal handler sets it; lock-free, so async-signal-safe), after max_events
 * datagrams or max_seconds (0: no limit), with a sysexits code. It opens
 * its own history handle. Logs through log.c.
 */
#ifndef RG_RECEIVE_H
#define RG_RECEIVE_H

#include <stdatomic.h>

#include "cfg.h"

struct receive_opts {
    unsigned max_events, max_seconds;
};

int receive_run(const struct cfg *cfg, atomic_int *stop,
		const struct receive_opts *o);

#endif
