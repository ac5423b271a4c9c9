/*
 * history - the collector's SQLite database: per host per day SMTP
 * counts, first/last seen, flags with their evidence, the learned
 * whitelist, and the flow files already counted.
 *
 * Contract: one handle per process, single-threaded. WAL mode, so the
 * admin can read it with sqlite3 while the collector writes. Functions
 * return HIST_OK or HIST_DB with SQLite's message in err. Nothing is
 * logged here.
 */
#ifndef RG_HISTORY_H
#define RG_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "detect.h"

struct hist;

enum hist_status { HIST_OK = 0, HIST_DB, HIST_NOMEM };

struct hist_wl {
    char network[CIDR_STRLEN];
    char who[64];
    int64_t at_ms;
    char reason[256];
};

#define HIST_REASON_MAX 160

/* A host on the rogue list: flagged from flows, or (pin.c) pinned by the
 * admin or named by an incident. */
struct hist_flag {
    char host[ADDR_STRLEN];
    char kind[16];
    int64_t seen_ms;
    int64_t flagged_ms;		/* when the flag was set (flags) */
    int64_t expires_ms;		/* leaves the list then; 0: when removed */
    char reason[HIST_REASON_MAX];	/* "" for none */
};

struct sqlite3;
struct sqlite3_stmt;
struct sqlite3 *hist_sqlite(struct hist *h);
struct sqlite3_stmt *hist_stmt(struct hist *h, const char *sql, char *err, size_t errlen);
enum hist_status hist_db_fail(struct sqlite3 *db, const char *what, char *err,
			      size_t errlen);
const char *hist_col_text(struct sqlite3_stmt *st, int i);
enum hist_status hist_json_pairs(struct hist *h, const char *json,
				 void (*fn)(void *arg, const char *key, const char *text),
				 void *arg, char *err, size_t errlen);
enum hist_status hist_open(const char *path, struct hist **out, char *err,
			   size_t errlen);
void hist_close(struct hist *h);
const char *hist_sqlite_version(void);
enum hist_status hist_begin(struct hist *h, char *err, size_t errlen);
enum hist_status hist_commit(struct hist *h, char *err, size_t errlen);
void hist_rollback(struct hist *h);

enum hist_status hist_file_seen(struct hist *h, const char *path, int64_t size,
				int64_t mtime, bool *seen, char *err, size_t errlen);
enum hist_status hist_file_known(struct hist *h, const char *path, int64_t size,
				 int64_t mtime, bool *known, char *err, size_t errlen);
enum hist_status hist_add_day(struct hist *h, const struct addr *host,
			      const struct det_day *d, char *err, size_t errlen);
enum hist_status hist_touch(struct hist *h, const struct addr *host,
			    int64_t first_ms, int64_t last_ms, char *err,
			    size_t errlen);
enum hist_status hist_days(struct hist *h, const struct addr *host,
			   int64_t from_day, int64_t before_day, int64_t served_before,
			   int64_t **day, uint64_t **conns, uint64_t **bytes, size_t *n,
			   uint32_t *served_days, char *err, size_t errlen);
enum hist_status hist_add_flag(struct hist *h, const struct det_flag *f,
			       int64_t now_ms, const char *evidence, char *err,
			       size_t errlen);
enum hist_status hist_recent_flags(struct hist *h, int64_t since_ms,
				   struct hist_flag **out, size_t *n, char *err,
				   size_t errlen);
enum hist_status hist_expire(struct hist *h, int64_t before_day, char *err,
			     size_t errlen);

enum hist_status hist_wl_add(struct hist *h, const char *network, const char *who,
			     int64_t now_ms, const char *reason, char *err,
			     size_t errlen);
enum hist_status hist_wl_remove(struct hist *h, const char *network, int *removed,
				char *err, size_t errlen);
enum hist_status hist_wl_list(struct hist *h, struct hist_wl **out, size_t *n,
			      char *err, size_t errlen);

#endif
