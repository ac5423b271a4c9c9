/*
 * roguelist - parse the collector's rogue list.
 *
 * Contract: roguelist_parse is pure and bounded; a line that is not an
 * address or a CIDR is counted (bad_lines, first_bad) and skipped, never
 * fatal: one broken line must not unlist every rogue host.
 * roguelist_load reads the file whole (at most ROGUELIST_MAX_BYTES).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roguelist.h"

#define LINE_MAX_LEN 128

/* trim - strip comment and surrounding blanks in place */
static char *trim(char *s)
{
    char *e;

    if ((e = strchr(s, '#')) != NULL)
	*e = 0;
    while (*s == ' ' || *s == '\t')
	s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
	*--e = 0;
    return s;
}

/* count_lines - an upper bound on the entries */
static size_t count_lines(const char *text, size_t len)
{
    size_t i, n = 1;

    for (i = 0; i < len; i++)
	n += text[i] == '\n';
    return n;
}

/* roguelist_parse - every line of text; 0, or -1 when out of memory */
int roguelist_parse(const char *text, size_t len, struct roguelist *out)
{
    size_t pos = 0, lineno = 0;
    char line[LINE_MAX_LEN], err[64];

    memset(out, 0, sizeof(*out));
    if ((out->nets.v = calloc(count_lines(text, len), sizeof(struct cidr))) == NULL)
	return -1;
    while (pos < len) {
	const char *nl = memchr(text + pos, '\n', len - pos);
	size_t n = nl ? (size_t) (nl - text - pos) : len - pos;
	char *t;

	lineno++;
	if (n < sizeof(line)) {
	    memcpy(line, text + pos, n);
	    line[n] = 0;
	    t = trim(line);
	    if (*t == 0)
		goto next;
	    if (memchr(text + pos, 0, n) == NULL
		&& addr_cidr_parse(t, &out->nets.v[out->nets.n], err, sizeof(err)) == 0) {
		out->nets.n++;
		goto next;
	    }
	}
	if (out->bad_lines++ == 0)
	    out->first_bad = lineno;
      next:
	pos += n + 1;
    }
    return 0;
}

/* roguelist_load - read and parse a file */
int roguelist_load(const char *path, struct roguelist *out, char *err,
		   size_t errlen)
{
    struct stat sb;
    char *buf = NULL;
    size_t got = 0;
    ssize_t n;
    int fd, rc = -1;

    memset(out, 0, sizeof(*out));
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return -1;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)
	|| (size_t) sb.st_size > ROGUELIST_MAX_BYTES) {
	snprintf(err, errlen, "%s: not a regular file of at most %u bytes", path,
		 ROGUELIST_MAX_BYTES);
	goto out;
    }
    if ((buf = malloc((size_t) sb.st_size + 1)) == NULL) {
	snprintf(err, errlen, "%s: out of memory", path);
	goto out;
    }
    while (got < (size_t) sb.st_size
	   && (n = read(fd, buf + got, (size_t) sb.st_size - got)) > 0)
	got += (size_t) n;
    if (roguelist_parse(buf, got, out) != 0) {
	snprintf(err, errlen, "%s: out of memory", path);
	goto out;
    }
    rc = 0;
  out:
    free(buf);
    close(fd);
    return rc;
}

/* roguelist_free - release a parsed list */
void roguelist_free(struct roguelist *l)
{
    free(l->nets.v);
    memset(l, 0, sizeof(*l));
}
