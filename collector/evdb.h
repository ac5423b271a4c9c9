/*
 * evdb - the milter's events in the collector's database: the event
 * table (one row per verified event, unique per node, boot id and
 * sequence, so a replay the in-memory window forgot is still refused),
 * the intake counters, retention, and the listing of "events". evdb_init
 * also creates the tables of incident.c and pin.c.
 *
 * Contract: works on a history handle (hist_open), in the caller's
 * transaction when there is one; single-threaded per handle. Functions
 * return HIST_OK or HIST_DB/HIST_NOMEM with the detail in err. Nothing
 * is logged here.
 */
#ifndef RG_EVDB_H
#define RG_EVDB_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "event_rec.h"
#include "history.h"

enum hist_status evdb_init(struct hist *h, char *err, size_t errlen);
enum hist_status evdb_add(struct hist *h, const struct evrec *r, int64_t now_ms,
			  bool *dup, char *err, size_t errlen);
enum hist_status evdb_expire(struct hist *h, int64_t before_ms, char *err, size_t errlen);
enum hist_status evdb_count(struct hist *h, const char *name, uint64_t n,
			    char *err, size_t errlen);
enum hist_status evdb_print(struct hist *h, FILE *out, bool json, unsigned limit,
			    char *err, size_t errlen);

#endif
