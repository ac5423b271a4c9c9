/*
 * table - aligned text tables for a terminal, fitted to a width.
 *
 * Contract: a table owns copies of its cells. Every cell is cleaned with
 * text_clean when it is added, whatever its origin, so no caller can
 * print an unsanitised login by forgetting to. Columns take their natural
 * width (widest cell or heading, within max); when the row is wider than
 * the target, flexible columns give up width, the widest first, down to
 * their minimum, and cut cells end in "...". Fixed columns (numbers)
 * never shrink: a table that cannot fit is printed wider rather than
 * wrong. No trailing blanks. Returns -1 on allocation or write failure;
 * never logs.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "table.h"
#include "text.h"

#define FLEX_MIN_DEFAULT 6
#define ROWS_INITIAL 16
#define CELL_MAX (LOG_VALUE_MAX + 1)

struct table {
    struct table_col *cols;
    size_t ncols;
    char **cells;		/* rows x ncols, row-major */
    size_t nrows, cap;
    int heading;
    int wrap;			/* the last column wraps instead of being cut */
};

/* table_new - an empty table with these columns; NULL if out of memory */
struct table *table_new(const struct table_col *cols, size_t ncols)
{
    struct table *t;

    if (ncols == 0 || (t = calloc(1, sizeof(*t))) == NULL)
	return NULL;
    if ((t->cols = calloc(ncols, sizeof(*cols))) == NULL) {
	free(t);
	return NULL;
    }
    memcpy(t->cols, cols, ncols * sizeof(*cols));
    t->ncols = ncols;
    t->heading = 1;
    return t;
}

/* table_free - release a table and its cells */
void table_free(struct table *t)
{
    if (t == NULL)
	return;
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
	free(t->cells[i]);
    free(t->cells);
    free(t->cols);
    free(t);
}

/* table_no_heading - print rows only (key/value listings) */
void table_no_heading(struct table *t)
{
    t->heading = 0;
}

/* table_wrap - wrap the last column onto more lines instead of cutting */
void table_wrap(struct table *t)
{
    t->wrap = 1;
}

/* table_grow - room for one more row */
static int table_grow(struct table *t)
{
    size_t cap = t->cap ? t->cap * 2 : ROWS_INITIAL;
    char **cells;

    if (t->nrows < t->cap)
	return 0;
    if (cap > SIZE_MAX / sizeof(char *) / t->ncols)
	return -1;
    if ((cells = realloc(t->cells, cap * t->ncols * sizeof(char *))) == NULL)
	return -1;
    t->cells = cells;
    t->cap = cap;
    return 0;
}

/* table_add - append a row of ncols cells (NULL reads as ""), cleaned */
int table_add(struct table *t, const char *const *cells)
{
    char clean[CELL_MAX];
    char **row;

    if (table_grow(t) != 0)
	return -1;
    row = t->cells + t->nrows * t->ncols;
    for (size_t c = 0; c < t->ncols; c++) {
	const char *s = cells[c] ? cells[c] : "";

	text_clean(s, strlen(s), clean, sizeof(clean));
	if ((row[c] = strdup(clean)) == NULL) {
	    while (c > 0)
		free(row[--c]);
	    return -1;
	}
    }
    t->nrows++;
    return 0;
}

/* table_rows - rows added so far */
size_t table_rows(const struct table *t)
{
    return t->nrows;
}

/* flex_floor - the narrowest a column may become */
static unsigned flex_floor(const struct table_col *c, unsigned natural)
{
    unsigned m;

    if (!c->flex)
	return natural;
    m = c->min ? c->min : FLEX_MIN_DEFAULT;
    return m < natural ? m : natural;
}

/* table_layout - the width of every column for a target row width */
int table_layout(const struct table *t, size_t width, unsigned *w)
{
    size_t total = TABLE_GAP * (t->ncols - 1);

    for (size_t c = 0; c < t->ncols; c++) {
	size_t n = t->heading ? text_width(t->cols[c].head) : 0;

	for (size_t r = 0; r < t->nrows; r++) {
	    size_t cw = text_width(t->cells[r * t->ncols + c]);

	    n = cw > n ? cw : n;
	}
	if (t->cols[c].max && n > t->cols[c].max)
	    n = t->cols[c].max;
	w[c] = (unsigned) n;
	total += n;
    }
    while (total > width) {
	size_t pick = t->ncols;
	unsigned most = 0;

	for (size_t c = 0; c < t->ncols; c++) {
	    unsigned fl = flex_floor(&t->cols[c], w[c]);

	    if (w[c] - fl > most) {
		most = w[c] - fl;
		pick = c;
	    }
	}
	if (pick == t->ncols)
	    break;		/* nothing left to give: print wider */
	w[pick]--;
	total--;
    }
    return 0;
}

/* put_cell - one cell, cut and padded to its column */
static void put_cell(FILE *out, const char *s, unsigned w,
		     enum table_align align, int last)
{
    size_t sw = text_width(s), len = strlen(s), pad;
    int cut = sw > w;

    if (cut) {
	size_t mark = w > strlen(TABLE_CUT) ? strlen(TABLE_CUT) : 0;

	len = text_cut(s, w - mark);
	sw = text_width(s) - text_width(s + len) + mark;
    }
    pad = w > sw ? w - sw : 0;
    if (align == TABLE_RIGHT)
	fprintf(out, "%*s", (int) pad, "");
    fwrite(s, 1, len, out);
    if (cut && w > strlen(TABLE_CUT))
	fputs(TABLE_CUT, out);
    if (align == TABLE_LEFT && !last)
	fprintf(out, "%*s", (int) pad, "");
}

/* wrap_point - where a line of at most n bytes of s breaks: at its last
 * blank, else after its last '-' (a rule name), else at n */
static size_t wrap_point(const char *s, size_t n)
{
    size_t brk = n;

    if (s[n] == '\0' || n == 0)
	return n;
    while (brk > 0 && s[brk] != ' ')
	brk--;
    if (brk > 0)
	return brk;
    for (brk = n; brk > 0 && s[brk - 1] != '-'; brk--)
	;
    return brk > 0 ? brk : n;
}

/* put_wrapped - a last cell over several lines, broken at blanks */
static void put_wrapped(FILE *out, const char *s, unsigned w, size_t indent)
{
    int first = 1;

    while (*s) {
	size_t n = text_cut(s, w ? w : 1), brk = wrap_point(s, n);

	if (!first)
	    fprintf(out, "\n%*s", (int) indent, "");
	fwrite(s, 1, brk, out);
	s += brk;
	while (*s == ' ')
	    s++;
	first = 0;
    }
}

/* last_visible - the last column with text in it, so no line ends blank */
static size_t last_visible(const struct table *t, const char *const *row)
{
    size_t last = 0;

    for (size_t c = 0; c < t->ncols; c++)
	if (row[c][0] != '\0' || t->cols[c].align == TABLE_RIGHT)
	    last = c;
    return last;
}

/* put_row - one line of the table */
static void put_row(const struct table *t, FILE *out, const char *const *row,
		    const unsigned *w)
{
    size_t last = last_visible(t, row), indent = 0;

    for (size_t c = 0; c <= last; c++) {
	if (c > 0) {
	    fprintf(out, "%*s", TABLE_GAP, "");
	    indent += TABLE_GAP;
	}
	if (t->wrap && c == t->ncols - 1 && t->cols[c].align == TABLE_LEFT
	    && text_width(row[c]) > w[c])
	    put_wrapped(out, row[c], w[c], indent);
	else
	    put_cell(out, row[c], w[c], t->cols[c].align, c == last);
	indent += w[c];
    }
    fputc('\n', out);
}

/* table_print - the heading and every row, fitted to width */
int table_print(const struct table *t, FILE *out, size_t width)
{
    unsigned *w = calloc(t->ncols, sizeof(*w));
    const char **head = calloc(t->ncols, sizeof(*head));
    int rc = -1;

    if (w == NULL || head == NULL)
	goto out;
    table_layout(t, width, w);
    for (size_t c = 0; c < t->ncols; c++)
	head[c] = t->cols[c].head;
    if (t->heading)
	put_row(t, out, head, w);
    for (size_t r = 0; r < t->nrows; r++)
	put_row(t, out, (const char *const *) (t->cells + r * t->ncols), w);
    rc = ferror(out) ? -1 : 0;
  out:
    free(head);
    free(w);
    return rc;
}
