/*
 * roguelist - the rogue host list the collector writes and the milter
 * reads: one address or CIDR per line, '#' comments, blank lines.
 */
#ifndef RG_ROGUELIST_H
#define RG_ROGUELIST_H

#include <stddef.h>

#include "addr.h"

#define ROGUELIST_MAX_BYTES (64u << 20)	/* refuse larger files */

struct roguelist {
    struct cidr_list nets;
    size_t bad_lines;		/* lines that were neither comment nor CIDR */
    size_t first_bad;		/* line number of the first, for the log */
};

int roguelist_parse(const char *text, size_t len, struct roguelist *out);
int roguelist_load(const char *path, struct roguelist *out, char *err,
		   size_t errlen);
void roguelist_free(struct roguelist *l);

#endif
