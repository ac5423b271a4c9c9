/*
 * store_pages - does the state file get 2 MiB pages? For one log line at
 * start-up: with 4 KiB pages every update also misses the TLB (see
 * etc/systemd/run-relayguard.mount and bench/bench_store.c).
 *
 * Contract: reads a mountinfo file (proc(5) format; /proc/self/mountinfo
 * in the milter, another file in tests) and the file's real path; no
 * store lock, no allocation beyond the stack; thread-safe.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

#define MI_LINE		4096	/* longest mountinfo line read whole */
#define MI_FIELDS	64

/* mi_unescape - mountinfo writes space, tab, newline and backslash in a
 * path as \ooo; undo that in place */
static void mi_unescape(char *s)
{
    char *d = s;

    for (; *s; s++, d++) {
	if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0'
	    && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
	    *d = (char) ((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
	    s += 3;
	} else {
	    *d = *s;
	}
    }
    *d = '\0';
}

/* mi_under - is path at or below mount point mp? */
static int mi_under(const char *path, const char *mp)
{
    size_t n = strlen(mp);

    if (strcmp(mp, "/") == 0)
	return path[0] == '/';
    return strncmp(path, mp, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* mi_huge - do a tmpfs's super options give its files 2 MiB pages
 * (always or within_size; advise too, store_open asks)? */
static int mi_huge(const char *opts)
{
    const char *h = strstr(opts, "huge=");

    while (h != NULL && h != opts && h[-1] != ',')
	h = strstr(h + 1, "huge=");
    return h != NULL && (strncmp(h + 5, "always", 6) == 0
			 || strncmp(h + 5, "within_size", 11) == 0
			 || strncmp(h + 5, "advise", 6) == 0);
}

/* store_huge_pages - 1 if the state file lives on a tmpfs that gives it
 * 2 MiB pages, 0 if not, -1 if that cannot be told */
int store_huge_pages(const STORE *st, const char *mountinfo)
{
    char real[PATH_MAX], line[MI_LINE], best[PATH_MAX] = "";
    int huge = -1;
    FILE *f;

    if (st == NULL || realpath(st->path, real) == NULL
	|| (f = fopen(mountinfo, "re")) == NULL)
	return -1;
    while (fgets(line, sizeof(line), f) != NULL) {
	char *v[MI_FIELDS], *save = NULL;
	int n = 0, dash = -1;

	for (char *t = strtok_r(line, " \n", &save); t != NULL && n < MI_FIELDS;
	     t = strtok_r(NULL, " \n", &save)) {
	    if (dash < 0 && n >= 6 && strcmp(t, "-") == 0)
		dash = n;
	    v[n++] = t;
	}
	if (dash < 0 || n < dash + 4)
	    continue;		/* not a line of the format: skip it */
	mi_unescape(v[4]);
	if (!mi_under(real, v[4]) || strlen(v[4]) < strlen(best))
	    continue;		/* a later mount on the same point wins */
	snprintf(best, sizeof(best), "%s", v[4]);
	huge = strcmp(v[dash + 1], "tmpfs") == 0 && mi_huge(v[dash + 3]);
    }
    fclose(f);
    return huge;
}
