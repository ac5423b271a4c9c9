/*
 * follow - "relayguard-collector run": the daemon that follows the files
 * nfcapd rotates into collector.flows.directory and analyses each new one;
 * when collector.address is set, a second thread receives the milter's
 * events (receive.h).
 *
 * Contract: returns only at SIGTERM/SIGINT (EX_OK) or on a start-up
 * error (a sysexits code). Logs through log.c.
 */
#ifndef RG_FOLLOW_H
#define RG_FOLLOW_H

#include "cfg.h"

int follow_run(const struct cfg *cfg, int foreground);

#endif
