/*
 * cmd_events - the commands of relayguard-collector about the milter's
 * events: events, incidents, rogue, listen. Each returns a sysexits code
 * and prints its errors on stderr.
 */
#ifndef RG_CMD_EVENTS_H
#define RG_CMD_EVENTS_H

#include "cfg.h"

const char *cmd_who(void);
int cmd_events(const struct cfg *cfg, int argc, char **argv);
int cmd_incidents(const struct cfg *cfg, int argc, char **argv);
int cmd_rogue(const struct cfg *cfg, int argc, char **argv);
int cmd_listen(const struct cfg *cfg, int argc, char **argv);

#endif
