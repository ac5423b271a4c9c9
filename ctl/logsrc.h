/*
 * logsrc - read mail logs (plain, gzip, standard input) and hand their
 * records out in time order across all files.
 */
#ifndef RG_CTL_LOGSRC_H
#define RG_CTL_LOGSRC_H

#include <stddef.h>
#include <stdint.h>

#include "maillog.h"

#define LOGSRC_STDIN "-"

enum logsrc_status { LOGSRC_OK = 0, LOGSRC_END, LOGSRC_EIO };

/* Called for every line that is not a syslog line (a sample, counted by
 * the caller): the file, its line number, the line's first bytes. */
typedef void (*logsrc_bad_fn)(const char *file, uint64_t lineno,
			      const char *line, size_t len, void *arg);

typedef struct logsrc LOGSRC;	/* opaque */

int logsrc_open(const char *const *paths, size_t n, uint32_t now,
		logsrc_bad_fn bad, void *arg, LOGSRC **out, char *err,
		size_t errlen);
int logsrc_next(LOGSRC *s, struct maillog_rec *r, char *err, size_t errlen);
uint64_t logsrc_lines(const LOGSRC *s);
void logsrc_close(LOGSRC *s);

#endif
