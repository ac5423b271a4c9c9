/*
 * quarantine - the quarantine commands, and the back-end choice that
 * contain shares with them.
 */
#ifndef RG_CTL_QUARANTINE_H
#define RG_CTL_QUARANTINE_H

#include "ctl.h"
#include "mta.h"

const struct mta_ops *quarantine_ops(const struct ctl *c);
int quarantine_fail(struct ctl *c, const char *err);

#endif
