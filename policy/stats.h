/*
 * stats - the shared counters kept in the store header (store_counter_add),
 * written by the milter and relayguard-policyd, read by relayguardctl stats.
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
    STATS_ROGUE_ENTRIES = 20,	/* gauge: entries of the loaded rogue list */
    STATS_ROGUE_WRITTEN = 21,	/* gauge: its file's mtime (unix s), 0: none */
    STATS_ROGUE_EXPIRED = 22,	/* gauge: its entries past their expires=
				 * (no longer matched; the collector has not
				 * rewritten the list since) */
    STATS_GIVE_BACK_ERRORS = 23,	/* an unfinished message's units left
					 * counted: the store was unavailable */
    STATS_RULE_BASE = 24,	/* + rule index: times the rule fired, for
				 * the first STATS_RULES_FIRST rules */
    /* relayguard-policyd: Postfix connections it closed, by reason. The
     * last eight counters of the header's array, taken from the rule
     * range (which held 40 rules, then 32). */
    STATS_POLICYD_BASE = 56,
    STATS_PD_LINE_LONG = STATS_POLICYD_BASE,	/* a line over the limit */
    STATS_PD_SYNTAX,		/* a line that is not name=value */
    STATS_PD_TOO_BIG,		/* a request over the size or line count */
    STATS_PD_UNFINISHED,	/* closed or idle with no empty line yet */
    STATS_PD_UNKNOWN_ATTR,	/* requests with attributes Postfix never
				 * sends (closed with strict_attributes) */
    STATS_PD_FLOOD,		/* connections over max_connections */
    STATS_PD_IDLE,		/* silent past idle_timeout */
    STATS_PD_WRITE_STALL,	/* an answer not read within write_timeout */
    /* The header page's spare counters (store_int.h STORE_MORE_OFF):
     * + rule index - STATS_RULES_FIRST, the 33rd rule on. Every index
     * below STORE_NCOUNTERS is now taken: a new counter of its own
     * takes the last rule counter (STORE_NCOUNTERS - 1, and
     * STATS_MAX_RULES one lower) or needs more spare bytes; an index
     * moved is a state file misread by the other build. */
    STATS_RULE_MORE_BASE = STORE_HDR_COUNTERS,
};

#define STATS_RULES_FIRST (STATS_POLICYD_BASE - STATS_RULE_BASE)
#define STATS_MAX_RULES \
    (STATS_RULES_FIRST + STORE_NCOUNTERS - STATS_RULE_MORE_BASE)
_Static_assert(STATS_PD_WRITE_STALL < STORE_HDR_COUNTERS, "policyd counters");

/* stats_rule_counter - the counter of rule index r (< STATS_MAX_RULES) */
static inline unsigned stats_rule_counter(unsigned r)
{
    return r < STATS_RULES_FIRST ? STATS_RULE_BASE + r
	: STATS_RULE_MORE_BASE + (r - STATS_RULES_FIRST);
}

#endif
