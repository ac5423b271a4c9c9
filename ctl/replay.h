/*
 * replay - relayguardctl replay: the engine over rebuilt submissions in
 * log time, with a private temporary state per configuration, and what
 * it found (replay.c runs and counts, replay_out.c prints).
 */
#ifndef RG_CTL_REPLAY_H
#define RG_CTL_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "cfg.h"
#include "geo.h"
#include "roguelist.h"
#include "store.h"
#include "subm.h"

#define REPLAY_RUNS 2		/* the configuration and --compare's */
#define REPLAY_SAMPLES 5	/* unparsable lines shown */
#define REPLAY_SAMPLE_LEN 120
#define REPLAY_TOP 25		/* logins listed by default */
#define REPLAY_LOGIN_IPS 32	/* distinct addresses counted exactly */
#define REPLAY_LOGIN_CCS 16	/* distinct countries counted exactly */
#define REPLAY_LOGIN_KEY 64	/* logins are told apart by this prefix */
#define REPLAY_RULES CFG_RULE_SET_MAX	/* rules tracked: every one a
					 * configuration may hold */
#define REPLAY_TIMELINE 16	/* last verdicts kept per login (HTML) */

/* What one rule would have done in one run. */
struct replay_rule {
    uint64_t by_action[CFG_ACTION_COUNT];
    uint64_t by_block;		/* ... of them through the block it set */
    uint64_t logins, clients;	/* distinct ones it fired on */
    uint32_t first, last;
};

_Static_assert(REPLAY_RULES <= INT8_MAX + 1, "a mark's rule fits");

/* One verdict of a login, for its timeline. */
struct replay_mark {
    uint32_t time;
    uint8_t action;
    int8_t rule;
    char cc[3];
};

/* What one run did to one login. */
struct replay_who_run {
    struct cfg_rule_set rules;	/* the rules that fired on it */
    uint64_t stopped, tagged;	/* held, tempfailed or rejected; tagged */
    int stop_rule;		/* what stopped it first (-1: none) */
    uint8_t stop_action;
    uint32_t stop_time;
    uint64_t nmarks;		/* verdicts marked; the last ones kept */
    struct replay_mark marks[REPLAY_TIMELINE];	/* a ring */
};

/* A login (or, for clients, an address) seen in the log. */
struct replay_who {
    bool used;
    bool is_client;
    uint64_t hash;
    char key[REPLAY_LOGIN_KEY];
    struct addr client;
    uint64_t msgs;
    uint32_t first, last;
    uint32_t nips, ips[REPLAY_LOGIN_IPS];	/* address hashes */
    bool ips_more;
    uint32_t nccs;
    char ccs[REPLAY_LOGIN_CCS][2];
    struct replay_who_run run[REPLAY_RUNS];
};

/* One configuration's engine. */
struct replay_run {
    const char *file;
    struct cfg *cfg;
    bool dry_run;		/* the file sets it; replayed as enforced */
    STORE *st;
    GEO *geo;
    unsigned geo_missing;
    struct roguelist rogue;
    bool have_rogue;
    uint32_t now;
    uint64_t by_action[CFG_ACTION_COUNT];
    uint64_t errors;		/* state failures (on_error applied) */
    struct replay_rule rules[REPLAY_RULES];
};

struct replay {
    struct replay_run run[REPLAY_RUNS];
    int nruns;
    uint32_t from, to;		/* report window; 0: open */
    bool verdicts;		/* print a verdict line per submission */
    uint64_t top;		/* flagged logins listed (--limit; 0: all) */
    FILE *out;
    const char *const *files;
    int nfiles;
    uint64_t lines, bad, warm, counted;
    uint64_t live[MAILLOG_LIVE_DISCARD + 1];	/* what the log says was done */
    uint32_t first, last;	/* of the submissions counted */
    uint64_t newly_stopped, newly_passed;	/* --compare: held or refused */
    uint64_t newly_refused, no_longer_refused;	/* ... tempfail or reject */
    uint32_t nsamples;
    char samples[REPLAY_SAMPLES][REPLAY_SAMPLE_LEN];
    struct subm_stats join;
    uint32_t cap, nwho;		/* who[]: logins and clients, open hash */
    uint64_t who_dropped;	/* not counted: the table was full */
    struct replay_who *who;
};

/* replay_out.c */
int replay_text(const struct replay *r, FILE *out);
int replay_json(const struct replay *r, FILE *out);
int replay_html(const struct replay *r, FILE *out);
bool replay_who_flagged(const struct replay *r, const struct replay_who *w);
const char *replay_rule_name(const struct replay_run *run, int rule);

#endif
