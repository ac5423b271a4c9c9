/*
 * output - what an analysis tells people and programs: the JSON document
 * of "analyze --json", the text summary, each flag's evidence as JSON (also
 * stored in the history) and the rogue list the milter reads.
 *
 * Contract: the JSON writer grows a buffer and remembers running out of
 * memory (jb.oom) instead of failing each call. out_rogue_list replaces
 * the file atomically (write, fsync, rename). Nothing is logged here.
 */
#ifndef RG_OUTPUT_H
#define RG_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "analysis.h"
#include "detect.h"
#include "history.h"

#define OUT_PEERS_MAX 20	/* peers listed in a flag's evidence */

struct jb {
    char *p;
    size_t n, cap;
    bool oom;
};

void jb_raw(struct jb *j, const char *s);
void jb_fmt(struct jb *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void jb_str(struct jb *j, const char *s);
void jb_time(struct jb *j, int64_t ms);
void jb_free(struct jb *j);

/* The end of a listing of rows (what: its name in errors): rc is the last
 * sqlite3_step's result, empty whether no row was printed; closes the
 * JSON array when json, prints j to out only when every row was read and
 * nothing ran out of memory, frees j; the listing's status. */
enum hist_status out_list_end(struct sqlite3 *db, struct jb *j, bool json,
			      bool empty, int rc, FILE *out, const char *what,
			      char *err, size_t errlen);

const char *out_time(int64_t ms, char *buf, size_t len);
/* h: the flagged host's analysis, for its peer lists; NULL leaves them out */
void out_evidence(struct jb *j, const struct det_flag *f, const struct an_host *h,
		  const struct det_cfg *c);
void out_flag(struct jb *j, const struct det_flag *f, const struct an_host *h,
	      const struct det_cfg *c);
void out_clients(struct jb *j, const struct det_client *v, size_t n);

int out_rogue_list(const char *path, const struct hist_flag *v, size_t n,
		   int64_t now_ms, char *err, size_t errlen);

#endif
