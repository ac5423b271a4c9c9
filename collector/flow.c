/*
 * flow - parsers of flow text: nfdump fmt lines (the collector's field
 * order, FLOW_NFDUMP_FMT), nfdump csv and SiLK rwcut --delimited text.
 *
 * Contract: pure; no allocation, no locale. Numbers are unsigned decimals
 * (csv and SiLK may pad them with blanks); times are UTC. A line that does
 * not hold a whole flow is FLOW_BAD; the caller counts it.
 */
#include <string.h>

#include "flow.h"

#define TOKENS_MAX 64		/* columns considered in a delimited line */
#define TOKEN_MAX 64		/* one field's text */
#define FMT_FIELDS 13
#define MS_PER_S 1000
#define S_PER_DAY 86400LL

struct tok {
    const char *p;
    size_t n;
};

/* is_blank - space, tab or CR */
static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* trim - strip blanks around a token */
static struct tok trim(struct tok t)
{
    while (t.n > 0 && is_blank(*t.p))
	t.p++, t.n--;
    while (t.n > 0 && is_blank(t.p[t.n - 1]))
	t.n--;
    return t;
}

/* parse_u64 - an unsigned decimal filling the token; 0 on success */
static int parse_u64(struct tok t, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;

    t = trim(t);
    if (t.n == 0 || t.n > 20)
	return -1;
    for (i = 0; i < t.n; i++) {
	unsigned d = (unsigned) (t.p[i] - '0');

	if (d > 9 || v > (UINT64_MAX - d) / 10)
	    return -1;
	v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* parse_secs_ms - "SECONDS[.FRACTION]" into milliseconds */
static int parse_secs_ms(struct tok t, int64_t *out)
{
    const char *dot;
    uint64_t s, frac = 0;
    size_t i, fn;

    t = trim(t);
    dot = memchr(t.p, '.', t.n);
    if (parse_u64((struct tok) {t.p, dot ? (size_t) (dot - t.p) : t.n}, &s) != 0
	|| s > (uint64_t) INT64_MAX / MS_PER_S)
	return -1;
    if (dot != NULL) {
	fn = t.n - (size_t) (dot - t.p) - 1;
	for (i = 0; i < fn; i++) {
	    unsigned d = (unsigned) (dot[1 + i] - '0');

	    if (d > 9)
		return -1;
	    if (i < 3)
		frac = frac * 10 + d;
	}
	for (i = fn; i < 3; i++)
	    frac *= 10;
    }
    *out = (int64_t) (s * MS_PER_S + frac);
    return 0;
}

/* days_from_civil - days since 1970-01-01 of a proleptic Gregorian date */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned) (y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t) doe - 719468;
}

/* digits - n decimal digits at p, or -1 */
static int digits(const char *p, int n)
{
    int v = 0;

    while (n-- > 0) {
	if (*p < '0' || *p > '9')
	    return -1;
	v = v * 10 + (*p++ - '0');
    }
    return v;
}

/* parse_datetime - "YYYY-MM-DD hh:mm:ss[.fff]" (or / and T) into UTC ms */
static int parse_datetime(struct tok t, int64_t *out)
{
    int y, mo, d, h, mi, s;
    int64_t ms = 0;
    const char *p;

    t = trim(t);
    if (t.n < 19)
	return -1;
    p = t.p;
    y = digits(p, 4), mo = digits(p + 5, 2), d = digits(p + 8, 2);
    h = digits(p + 11, 2), mi = digits(p + 14, 2), s = digits(p + 17, 2);
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23
	|| mi < 0 || mi > 59 || s < 0 || s > 60
	|| (p[4] != '-' && p[4] != '/') || p[7] != p[4]
	|| (p[10] != ' ' && p[10] != 'T') || p[13] != ':' || p[16] != ':')
	return -1;
    if (t.n > 19) {
	if (p[19] != '.' || parse_secs_ms((struct tok) {p + 18, t.n - 18}, &ms) != 0)
	    return -1;
	ms -= (p[18] - '0') * MS_PER_S;
    }
    *out = ((days_from_civil(y, (unsigned) mo, (unsigned) d) * S_PER_DAY
	     + h * 3600 + mi * 60 + s) * MS_PER_S) + ms;
    return 0;
}

/* parse_addr - an IPv4 or IPv6 address token */
static int parse_addr(struct tok t, struct addr *out)
{
    char buf[ADDR_STRLEN];

    t = trim(t);
    if (t.n == 0 || t.n >= sizeof(buf))
	return -1;
    memcpy(buf, t.p, t.n);
    buf[t.n] = 0;
    return addr_parse(buf, out);
}

/* parse_port - 0..65535 */
static int parse_port(struct tok t, uint16_t *out)
{
    uint64_t v;

    if (parse_u64(t, &v) != 0 || v > 65535)
	return -1;
    *out = (uint16_t) v;
    return 0;
}

/* flow_parse_proto - a protocol number or name (TCP, UDP, ...) */
int flow_parse_proto(const char *t, size_t len, uint8_t *out)
{
    static const struct {
	const char *name;
	uint8_t num;
    } names[] = {
	{"TCP", 6}, {"UDP", 17}, {"ICMP", 1}, {"ICMP6", 58}, {"GRE", 47},
	{"ESP", 50}, {"AH", 51}, {"SCTP", 132}, {"IPv6", 41},
    };
    struct tok k = trim((struct tok) {t, len});
    uint64_t v;
    size_t i;

    if (parse_u64(k, &v) == 0)
	return v > 255 ? -1 : (*out = (uint8_t) v, 0);
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
	if (strlen(names[i].name) == k.n && strncasecmp(names[i].name, k.p, k.n) == 0)
	    return *out = names[i].num, 0;
    if (k.n == 0 || k.n > 16)
	return -1;
    *out = 255;			/* a name we do not know: not TCP */
    return 0;
}

/* flow_parse_tcp_flags - nfdump "...AP.SF", SiLK "FS PA" or "0x1b" */
int flow_parse_tcp_flags(const char *t, size_t len, uint8_t *out)
{
    static const char letters[] = "FSRPAUEC";
    struct tok k = trim((struct tok) {t, len});
    unsigned v = 0;
    size_t i;

    if (k.n > 2 && k.p[0] == '0' && (k.p[1] == 'x' || k.p[1] == 'X')) {
	for (i = 2; i < k.n && i < 4; i++) {
	    char c = k.p[i];
	    unsigned d = c >= '0' && c <= '9' ? (unsigned) (c - '0')
		: c >= 'a' && c <= 'f' ? (unsigned) (c - 'a' + 10)
		: c >= 'A' && c <= 'F' ? (unsigned) (c - 'A' + 10) : 16;

	    if (d == 16)
		return -1;
	    v = v * 16 + d;
	}
	return i == k.n ? (*out = (uint8_t) v, 0) : -1;
    }
    for (i = 0; i < k.n; i++) {
	const char *l = strchr(letters, k.p[i]);

	if (k.p[i] == '.' || k.p[i] == ' ')
	    continue;
	if (l == NULL || k.p[i] == 0)
	    return -1;
	v |= 1u << (l - letters);
    }
    *out = (uint8_t) v;
    return 0;
}

/* split - tokens separated by delim (0: runs of blanks); count */
static int split(const char *line, size_t len, char delim, struct tok *t, int max)
{
    size_t i = 0;
    int n = 0;

    while (i < len && n < max) {
	size_t j;

	if (delim == 0) {
	    while (i < len && is_blank(line[i]))
		i++;
	    if (i == len)
		break;
	}
	for (j = i; j < len && (delim ? line[j] != delim : !is_blank(line[j])); j++)
	    ;
	t[n++] = (struct tok) {line + i, j - i};
	i = j + (j < len && delim);
	if (delim && i == len && line[len - 1] == delim)
	    break;
    }
    return n;
}

/* fill - the flow from tokens in column order col[]; FLOW_OK or FLOW_BAD */
static enum flow_status fill(const struct tok *t, int n, const int *col,
			     int datetime, int fl_col, struct flow *f)
{
    int64_t v;
    uint64_t u;
    int i;

    memset(f, 0, sizeof(*f));
    f->nflows = 1;
    for (i = 0; i < FLOW_COL_COUNT; i++)
	if (col[i] >= n)
	    return FLOW_BAD;
    if ((datetime ? parse_datetime(t[col[FLOW_COL_START]], &f->start_ms)
	 : parse_secs_ms(t[col[FLOW_COL_START]], &f->start_ms)) != 0
	|| (col[FLOW_COL_DUR] >= 0
	    && (parse_secs_ms(t[col[FLOW_COL_DUR]], &v) != 0 || v > UINT32_MAX))
	|| flow_parse_proto(t[col[FLOW_COL_PROTO]].p, t[col[FLOW_COL_PROTO]].n, &f->proto)
	|| parse_addr(t[col[FLOW_COL_SA]], &f->sa) || parse_port(t[col[FLOW_COL_SP]], &f->sp)
	|| parse_addr(t[col[FLOW_COL_DA]], &f->da) || parse_port(t[col[FLOW_COL_DP]], &f->dp)
	|| parse_u64(t[col[FLOW_COL_IPKT]], &f->ipkt) || parse_u64(t[col[FLOW_COL_IBYT]], &f->ibyt))
	return FLOW_BAD;
    f->dur_ms = col[FLOW_COL_DUR] >= 0 ? (uint32_t) v : 0;
    if (col[FLOW_COL_OPKT] >= 0 && parse_u64(t[col[FLOW_COL_OPKT]], &f->opkt))
	return FLOW_BAD;
    if (col[FLOW_COL_OBYT] >= 0 && parse_u64(t[col[FLOW_COL_OBYT]], &f->obyt))
	return FLOW_BAD;
    if (col[FLOW_COL_FLAGS] >= 0
	&& flow_parse_tcp_flags(t[col[FLOW_COL_FLAGS]].p, t[col[FLOW_COL_FLAGS]].n,
				&f->tcp_flags))
	return FLOW_BAD;
    if (fl_col >= 0 && fl_col < n) {
	if (parse_u64(t[fl_col], &u) != 0)
	    return FLOW_BAD;
	f->nflows = u > 0 ? u : 1;
    }
    return FLOW_OK;
}

/* flow_parse_fmt - one line of FLOW_NFDUMP_FMT output */
enum flow_status flow_parse_fmt(const char *line, size_t len, struct flow *f)
{
    static const int col[FLOW_COL_COUNT] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    struct tok t[FMT_FIELDS + 1];
    int n = split(line, len, 0, t, FMT_FIELDS + 1);

    if (n == 0)
	return FLOW_SKIP;
    if (n == 3 && t[0].n == 2 && memcmp(t[0].p, "No", 2) == 0
	&& t[2].n == 5 && memcmp(t[2].p, "flows", 5) == 0)
	return FLOW_SKIP;	/* "No matching flows", even with -q */
    if (n != FMT_FIELDS)
	return FLOW_BAD;
    return fill(t, n, col, 0, FMT_FIELDS - 1, f);
}

/* Header names of the delimited formats, per column. */
static const char *const csv_names[FLOW_COL_COUNT] = {
    "ts", "td", "pr", "sa", "sp", "da", "dp", "ipkt", "ibyt", "opkt", "obyt", "flg",
};
static const char *const silk_names[FLOW_COL_COUNT] = {
    "sTime", "duration", "protocol", "sIP", "sPort", "dIP", "dPort", "packets",
    "bytes", NULL, NULL, "flags",
};

/* map_header - columns by name; 0 when every required column is there */
static int map_header(struct flow_reader *r, const char *line, size_t len,
		      const char *const *names)
{
    struct tok t[TOKENS_MAX];
    int n = split(line, len, r->delim, t, TOKENS_MAX), i, c;

    for (c = 0; c < FLOW_COL_COUNT; c++) {
	r->col[c] = -1;
	for (i = 0; names[c] != NULL && i < n; i++) {
	    struct tok k = trim(t[i]);

	    if (k.n == strlen(names[c]) && memcmp(k.p, names[c], k.n) == 0)
		r->col[c] = i;
	}
	if (r->col[c] < 0 && c != FLOW_COL_DUR && c != FLOW_COL_OPKT
	    && c != FLOW_COL_OBYT && c != FLOW_COL_FLAGS)
	    return -1;
    }
    r->ncols = n;
    return 0;
}

/* flow_reader_init - a reader of the given (or guessed) format */
void flow_reader_init(struct flow_reader *r, enum flow_format fmt)
{
    memset(r, 0, sizeof(*r));
    r->fmt = fmt;
    r->ncols = -1;		/* header not seen yet */
}

/* guess - the format of the first line that is not blank */
static enum flow_format guess(const char *line, size_t len)
{
    if (memchr(line, '|', len) != NULL)
	return FLOW_FMT_SILK;
    if (len >= 3 && memcmp(line, "ts,", 3) == 0)
	return FLOW_FMT_CSV;
    return FLOW_FMT_NFDUMP;
}

/* delimited - a csv or SiLK line: header, trailer or flow */
static enum flow_status delimited(struct flow_reader *r, const char *line,
				  size_t len, struct flow *f)
{
    struct tok t[TOKENS_MAX];
    int n;

    if (r->in_trailer)
	return FLOW_SKIP;
    if (r->ncols < 0) {
	if (map_header(r, line, len, r->fmt == FLOW_FMT_CSV ? csv_names : silk_names) != 0)
	    return FLOW_BAD;
	return FLOW_SKIP;
    }
    if (r->fmt == FLOW_FMT_CSV && len >= 7 && memcmp(line, "Summary", 7) == 0) {
	r->in_trailer = 1;	/* flows,bytes,... totals follow */
	return FLOW_SKIP;
    }
    n = split(line, len, r->delim, t, TOKENS_MAX);
    if (n < r->ncols)
	return FLOW_BAD;
    return fill(t, n, r->col, 1, -1, f);
}

/* flow_read_line - one line of text (without its newline) */
enum flow_status flow_read_line(struct flow_reader *r, const char *line,
				size_t len, struct flow *f)
{
    size_t i;

    for (i = 0; i < len && is_blank(line[i]); i++)
	;
    if (i == len)
	return FLOW_SKIP;
    if (r->fmt == FLOW_FMT_AUTO)
	r->fmt = guess(line, len);
    if (r->fmt == FLOW_FMT_NFDUMP)
	return flow_parse_fmt(line, len, f);
    r->delim = r->fmt == FLOW_FMT_CSV ? ',' : '|';
    return delimited(r, line, len, f);
}
