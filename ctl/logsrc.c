/*
 * logsrc - mail log input: files as given (rotated, .gz through zlib,
 * which reads plain files as they are), "-" for standard input, merged
 * by time: each file keeps one parsed record ahead and the earliest goes
 * first (a tie goes to the file whose first record is older, then to the
 * one named first), so rotated files may come in any order and lines out
 * of order across files are put back in order.
 *
 * Contract: memory is a read buffer and one record per file. Lines are
 * cut at newlines only (a NUL is a byte like any other). Lines that are
 * not syslog lines, or longer than MAILLOG_LINE_MAX, go to the bad-line
 * callback and are skipped; a read error is LOGSRC_EIO with the file
 * named in err. Records of kind MAILLOG_NONE are not handed out.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "logsrc.h"

#define GZ_BUFFER (256u << 10)
#define READ_BUF (256u << 10)	/* > MAILLOG_LINE_MAX: a whole line fits */

struct src {
    const char *name;
    gzFile gz;
    char *buf;			/* READ_BUF bytes read ahead */
    size_t pos, end;
    bool at_eof;		/* nothing more to read into buf */
    bool skipping;		/* inside a line too long, until its newline */
    struct maillog_clock ck;
    uint64_t lineno;
    bool have, eof;
    uint32_t start;		/* time of its first record: ties go to the
				 * file that started first (rotated files) */
    struct maillog_rec rec;
};

struct logsrc {
    logsrc_bad_fn bad;
    void *arg;
    uint64_t lines;
    size_t n;
    struct src v[];
};

/* open_one - a file or standard input; its time for year inference */
static int open_one(struct src *s, const char *path, uint32_t now,
		    char *err, size_t errlen)
{
    struct stat sb;
    int fd = strcmp(path, LOGSRC_STDIN) == 0 ? dup(0) : open(path, O_RDONLY);
    uint32_t ref = now;

    s->name = strcmp(path, LOGSRC_STDIN) == 0 ? "(stdin)" : path;
    if (fd < 0 || fstat(fd, &sb) != 0) {
	snprintf(err, errlen, "%s: %s", s->name, strerror(errno));
	if (fd >= 0)
	    close(fd);
	return LOGSRC_EIO;
    }
    if (S_ISREG(sb.st_mode) && sb.st_mtime > 0 && (uint64_t) sb.st_mtime <= UINT32_MAX)
	ref = (uint32_t) sb.st_mtime;
    if ((s->buf = malloc(READ_BUF)) == NULL || (s->gz = gzdopen(fd, "rb")) == NULL) {
	close(fd);
	free(s->buf);
	s->buf = NULL;
	snprintf(err, errlen, "%s: cannot read", s->name);
	return LOGSRC_EIO;
    }
    gzbuffer(s->gz, GZ_BUFFER);
    maillog_clock_init(&s->ck, ref);
    return LOGSRC_OK;
}

/* logsrc_open - every input, or an error naming the first that fails */
int logsrc_open(const char *const *paths, size_t n, uint32_t now,
		logsrc_bad_fn bad, void *arg, LOGSRC **out, char *err,
		size_t errlen)
{
    LOGSRC *s = calloc(1, sizeof(*s) + n * sizeof(struct src));

    *out = NULL;
    if (s == NULL) {
	snprintf(err, errlen, "out of memory");
	return LOGSRC_EIO;
    }
    s->bad = bad, s->arg = arg;
    for (; s->n < n; s->n++)
	if (open_one(&s->v[s->n], paths[s->n], now, err, errlen) != LOGSRC_OK) {
	    logsrc_close(s);
	    return LOGSRC_EIO;
	}
    *out = s;
    return LOGSRC_OK;
}

/* refill - more bytes behind what is left in the buffer; -1 on error */
static int refill(struct src *f, char *err, size_t errlen)
{
    int n, e;

    memmove(f->buf, f->buf + f->pos, f->end - f->pos);
    f->end -= f->pos;
    f->pos = 0;
    if ((n = gzread(f->gz, f->buf + f->end, (unsigned) (READ_BUF - f->end))) > 0) {
	f->end += (size_t) n;
	return 0;
    }
    f->at_eof = true;
    if (n < 0) {
	const char *msg = gzerror(f->gz, &e);

	if (e != Z_BUF_ERROR) {	/* a cut .gz file ends where it is cut */
	    snprintf(err, errlen, "%s: %s", f->name, msg);
	    return -1;
	}
    }
    return 0;
}

/* read_line - the next line of one file (NULs and all, without its
 * newline) in *line; its length, -1 at the end, -2 on a read error. A
 * line longer than MAILLOG_LINE_MAX is reported bad and skipped whole. */
static long read_line(LOGSRC *s, struct src *f, const char **line, char *err,
		      size_t errlen)
{
    for (;;) {
	char *at = f->buf + f->pos;
	char *nl = memchr(at, '\n', f->end - f->pos);
	size_t len = nl ? (size_t) (nl - at) : f->end - f->pos;

	if (nl != NULL || (f->at_eof && len > 0)) {
	    f->pos += len + (nl != NULL);
	    if (f->skipping) {	/* the tail of a long line */
		f->skipping = false;
		continue;
	    }
	    f->lineno++;
	    s->lines++;
	    *line = at;
	    return (long) len;
	}
	if (f->at_eof)
	    return -1;
	if (len > MAILLOG_LINE_MAX) {
	    if (!f->skipping) {
		f->lineno++;
		s->lines++;
		s->bad(f->name, f->lineno, at, len, s->arg);
	    }
	    f->skipping = true;
	    f->pos = f->end;
	}
	if (refill(f, err, errlen) != 0)
	    return -2;
    }
}

/* fill - the next record of interest of one file into its lookahead */
static int fill(LOGSRC *s, struct src *f, char *err, size_t errlen)
{
    const char *line = NULL;
    long len;

    while (!f->have && !f->eof) {
	if ((len = read_line(s, f, &line, err, errlen)) == -2)
	    return LOGSRC_EIO;
	if (len == -1) {
	    f->eof = true;
	    break;
	}
	if (maillog_parse(line, (size_t) len, &f->ck, &f->rec) != MAILLOG_OK)
	    s->bad(f->name, f->lineno, line, (size_t) len, s->arg);
	else if ((f->have = f->rec.kind != MAILLOG_NONE) && f->start == 0)
	    f->start = f->rec.time;
    }
    return LOGSRC_OK;
}

/* logsrc_next - the earliest record of all files */
int logsrc_next(LOGSRC *s, struct maillog_rec *r, char *err, size_t errlen)
{
    struct src *best = NULL;

    for (size_t i = 0; i < s->n; i++) {
	if (fill(s, &s->v[i], err, errlen) != LOGSRC_OK)
	    return LOGSRC_EIO;
	if (s->v[i].have && (best == NULL || s->v[i].rec.time < best->rec.time
			     || (s->v[i].rec.time == best->rec.time
				 && s->v[i].start < best->start)))
	    best = &s->v[i];
    }
    if (best == NULL)
	return LOGSRC_END;
    *r = best->rec;
    best->have = false;
    return LOGSRC_OK;
}

/* logsrc_lines - lines read so far, all files */
uint64_t logsrc_lines(const LOGSRC *s)
{
    return s->lines;
}

/* logsrc_close - close every file (NULL is fine) */
void logsrc_close(LOGSRC *s)
{
    if (s == NULL)
	return;
    for (size_t i = 0; i < s->n; i++)
	if (s->v[i].gz != NULL)
	    gzclose(s->v[i].gz);
    for (size_t i = 0; i < s->n; i++)
	free(s->v[i].buf);
    free(s);
}
