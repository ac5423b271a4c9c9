/*
 * collect - one analysis run of relayguard-collector: the nfdump queries
 * (or flow text on standard input), the history update, the judgement of
 * every local SMTP host, the second look at flagged hosts, the rogue list.
 *
 * Contract: coll_init/coll_run/coll_free per run, single-threaded. Errors
 * that stop the run come back as COLL_* with err filled; what a run
 * survives (malformed lines, nfdump's complaints, DNS out of budget) is in
 * struct coll's counters and warnings. Nothing is logged here.
 */
#ifndef RG_COLLECT_H
#define RG_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis.h"
#include "cfg.h"
#include "detect.h"
#include "history.h"
#include "names.h"

#define COLL_BAD_KEEP 20	/* malformed lines reported one by one */
#define COLL_WARN_KEEP 16
#define COLL_WARN_LEN 512

struct coll_bad {
    char source[256];
    uint64_t line;
};

struct coll {
    const struct cfg *cfg;
    struct det_cfg dc;
    struct an an;
    struct names names;
    struct hist *hist;
    struct cidr_list learned;	/* the learned whitelist */
    int64_t now_ms;
    /* results */
    struct det_flag *flags;
    size_t nflags;
    struct det_client *clients;
    size_t nclients;
    bool history_updated;
    bool nfdump_filtered;	/* nfdump's SMTP filter dropped the flows
				 * under min_packets/min_bytes: not counted */
    uint64_t bad_lines;
    struct coll_bad bad[COLL_BAD_KEEP];
    char warn[COLL_WARN_KEEP][COLL_WARN_LEN];
    size_t nwarn;
};

enum coll_status { COLL_OK = 0, COLL_INPUT, COLL_DB, COLL_NOMEM, COLL_OUTPUT, COLL_CONFIG };

enum coll_status coll_init(struct coll *c, const struct cfg *cfg, int64_t now_ms,
			   char *err, size_t errlen);
enum coll_status coll_run(struct coll *c, char *const *paths, size_t npaths,
			  char *err, size_t errlen);
void coll_free(struct coll *c);
void coll_warn(struct coll *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
bool coll_whitelisted(const struct coll *c, const struct addr *a);
/* "SMTP flows with a local host N (not counted: ...)" for the summaries */
void coll_smtp_text(const struct coll *c, char *buf, size_t len);

/* Between collect.c and collect_run.c only. */
enum coll_status coll_first_pass(struct coll *c, char *const *paths, size_t n,
				 char *err, size_t errlen);
enum coll_status coll_count_files(struct coll *c, struct an *an, char *const *files,
				  size_t n, char *err, size_t errlen);
void coll_feed_detail(struct coll *c, const char *path, int is_dir,
		      const char *filter, char *err, size_t errlen);

#endif
