/*
 * stats - the shared counters kept in the store header (store_counter_add),
 * written by the milter and read by relayguardctl stats.
 *
 * Counter indices are part of the state file's format: append, never
 * renumber.
 */
#ifndef RG_STATS_H
#define RG_STATS_H

#include "cfg.h"
#include "store.h"

enum stats_counter {
    STATS_VERDICT_BASE = 0,	/* + enum cfg_action: verdicts applied */
    STATS_WOULD_BASE = 5,	/* + enum cfg_action: dry-run verdicts */
    STATS_MESSAGES = 10,	/* transactions judged (end of message) */
    STATS_BLOCKS_SET = 11,	/* blocks started by rules */
    STATS_STATE_ERRORS = 12,	/* on_error applied: store unavailable */
    STATS_EVENTS_SENT = 13,	/* datagrams to the collector */
    STATS_EVENTS_DROPPED = 14,	/* collector away or socket full */
    STATS_GEO_ERRORS = 15,	/* GeoIP answers with invalid data */
    STATS_RELOADS = 16,		/* successful SIGUSR1 reloads */
    STATS_RELOAD_FAILURES = 17,	/* reloads refused (old config kept) */
    STATS_TRUSTED = 18,		/* transactions never judged: trusted */
    STATS_WHITELISTED = 19,	/* ... whitelisted */
    STATS_GIVE_BACK_ERRORS = 23,	/* an unfinished message's units left
					 * counted: the store was unavailable */
    STATS_RULE_BASE = 24,	/* + rule index: times the rule fired */
};

#define STATS_MAX_RULES (STORE_NCOUNTERS - STATS_RULE_BASE)

#endif
