/*
 * html - HTML with inline SVG (see html.h).
 *
 * Existence plot: x is time in bins of collector.flows.plot_bin (widened
 * when the run spans more than HTML_BINS_MAX bins), y is the port. The
 * reserved ports 0-1023 take the lower half of the height so that the
 * services stand out, the rest the upper half; only reserved ports that
 * occur are labelled. A cell's colour is its count against the first and
 * third quartile of the plot's non-empty cells, as on the slides.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "output.h"
#include "html.h"

#define RESERVED 1024
#define HALF (HTML_PLOT_H / 2)
#define LABELS_MAX 16
#define PEERS_SHOWN 50
#define MARGIN_L 60
#define MARGIN_B 24
#define BINS_WANTED 120
#define MIN_BIN_MS 60000LL
#define REPLACEMENT_UTF8 "\xef\xbf\xbd"	/* U+FFFD */

static const char *const band_colour[3] = {"#fdd49e", "#fc8d59", "#b30000"};

static const char css[] =
    "body{font-family:sans-serif;max-width:1240px;margin:1em auto;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #bbb;"
    "padding:2px 6px;text-align:right}th{background:#eee}td.l,th.l{text-align:left}"
    ".plots{display:flex;gap:16px;flex-wrap:wrap}figure{margin:0}.sw{display:inline-block;"
    "width:10px;height:10px;margin:0 2px 0 8px}.host{page-break-inside:avoid;"
    "border-top:2px solid #444;margin-top:1.5em}.peers{columns:3;font-family:monospace}"
    "table.ev{margin:0;font-size:90%}table.ev th{background:#f4f4f4;font-weight:normal}"
    "#incident-list>tbody>tr>td:nth-child(-n+6),.timeline td{white-space:nowrap}tr.open td{background:#fff3f0}tr.v-bad td{background:#fde0dc}h3.login{margin-bottom:0}"
    "@media print{body{max-width:none}.host{page-break-before:always}}";

/* html_esc - text for HTML: valid UTF-8 kept (the page is UTF-8);
 * markup characters as entities; control, bidi and zero-width
 * characters (log_hostile: they would hide or reorder what the admin
 * reads) shown as "[U+XXXX]"; each byte that is no UTF-8 as U+FFFD */
void html_esc(FILE *fp, const char *s)
{
    const unsigned char *p = (const unsigned char *) s;
    size_t len = strlen(s), i = 0, n;
    uint32_t cp;

    while (i < len) {
	n = log_utf8_len(p + i, len - i, &cp);
	if (n == 0) {
	    fputs(REPLACEMENT_UTF8, fp);
	    i++;
	    continue;
	}
	if (log_hostile(cp))
	    fprintf(fp, "[U+%04X]", (unsigned) cp);
	else if (cp == '&' || cp == '<' || cp == '>' || cp == '"')	/* attributes
								 * are quoted with " */
	    fputs(cp == '&' ? "&amp;" : cp == '<' ? "&lt;" : cp == '>' ? "&gt;" : "&quot;", fp);
	else
	    fwrite(p + i, 1, n, fp);
	i += n;
    }
}

/* html_port_row - 0 at the bottom */
int html_port_row(unsigned port)
{
    if (port < RESERVED)
	return (int) (port * HALF / RESERVED);
    return HALF + (int) ((port - RESERVED) * (uint64_t) HALF / (65536 - RESERVED));
}

/* cmp_u32 - counts in order */
static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;

    return x < y ? -1 : x > y;
}

struct grid {
    uint32_t *cell;		/* nbins x HTML_PLOT_H */
    size_t nbins;
    int64_t t0, bin_ms;
    uint32_t q1, q3;
    bool label[RESERVED];
};

/* quartiles - of the non-empty cells */
static void quartiles(struct grid *g)
{
    size_t i, n = 0, total = g->nbins * HTML_PLOT_H;
    uint32_t *v = malloc(total * sizeof(*v) + 1);

    g->q1 = g->q3 = 1;
    if (v == NULL)
	return;
    for (i = 0; i < total; i++)
	if (g->cell[i])
	    v[n++] = g->cell[i];
    if (n > 0) {
	qsort(v, n, sizeof(*v), cmp_u32);
	g->q1 = v[n / 4];
	g->q3 = v[(3 * n) / 4];
    }
    free(v);
}

/* fill_grid - the points of one direction */
static int fill_grid(struct grid *g, const struct an_host *h, enum an_dir d,
		     int64_t first, int64_t last, int64_t bin_ms)
{
    size_t i;

    memset(g, 0, sizeof(*g));
    while ((last - first) / bin_ms + 1 > HTML_BINS_MAX)
	bin_ms *= 2;
    g->t0 = first - first % bin_ms;
    g->bin_ms = bin_ms;
    g->nbins = (size_t) ((last - g->t0) / bin_ms + 1);
    if ((g->cell = calloc(g->nbins * HTML_PLOT_H, sizeof(*g->cell))) == NULL)
	return -1;
    for (i = 0; i < h->pt.n; i++) {
	const struct an_pt *p = &h->pt.v[i];
	int64_t b = (p->t_ms - g->t0) / bin_ms;

	if (p->dir != d || b < 0 || (size_t) b >= g->nbins)
	    continue;
	g->cell[(size_t) b * HTML_PLOT_H + (size_t) html_port_row(p->port)]++;
	if (p->port < RESERVED)
	    g->label[p->port] = true;
    }
    quartiles(g);
    return 0;
}

/* band - the colour band of a count */
static int band(const struct grid *g, uint32_t v)
{
    return v <= g->q1 ? 0 : v <= g->q3 ? 1 : 2;
}

/* svg_labels - axis labels: reserved ports that occur, first/last time */
static void svg_labels(FILE *fp, const struct grid *g, double cw)
{
    char t[32];
    int last_y = 1 << 30, n = 0;
    unsigned p;

    for (p = 0; p < RESERVED && n < LABELS_MAX; p++) {
	int y = HTML_PLOT_H - html_port_row(p);

	if (!g->label[p] || last_y - y < 10)
	    continue;
	fprintf(fp, "<text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"end\">%u</text>",
		MARGIN_L - 4, y, p);
	last_y = y;
	n++;
    }
    fprintf(fp, "<text x=\"%d\" y=\"%d\" font-size=\"10\">%s</text>", MARGIN_L,
	    HTML_PLOT_H + 14, out_time(g->t0, t, sizeof(t)));
    fprintf(fp, "<text x=\"%.0f\" y=\"%d\" font-size=\"10\" text-anchor=\"end\">%s</text>",
	    MARGIN_L + cw * (double) g->nbins, HTML_PLOT_H + 14,
	    out_time(g->t0 + g->bin_ms * (int64_t) g->nbins, t, sizeof(t)));
}

/* swatch - one colour of the legend */
static void swatch(FILE *fp, int band, const char *text)
{
    fprintf(fp, "<span class=\"sw\" style=\"background:%s\"></span>%s",
	    band_colour[band], text);
}

/* legend - the plot's title and its colour bands (counts per cell) */
static void legend(FILE *fp, const struct grid *g, const char *title)
{
    char t[64];

    fprintf(fp, "<figure><figcaption>%s (bins of %lld s)", title,
	    (long long) (g->bin_ms / 1000));
    snprintf(t, sizeof(t), g->q1 > 1 ? "1-%u" : "%u", g->q1);
    swatch(fp, 0, t);
    if (g->q3 > g->q1) {
	snprintf(t, sizeof(t), g->q3 > g->q1 + 1 ? "%u-%u" : "%u", g->q1 + 1, g->q3);
	swatch(fp, 1, t);
    }
    snprintf(t, sizeof(t), "&gt; %u", g->q3);
    swatch(fp, 2, t);
    fputs("</figcaption>", fp);
}

/* svg_plot - one existence plot */
static void svg_plot(FILE *fp, const struct grid *g, const char *title)
{
    double cw = (double) HTML_PLOT_W / (double) g->nbins;
    size_t b;
    int r;

    legend(fp, g, title);
    fprintf(fp, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	    "role=\"img\" aria-label=\"%s\"><rect x=\"%d\" y=\"0\" width=\"%d\" "
	    "height=\"%d\" fill=\"#f7f7f7\" stroke=\"#999\"/><line x1=\"%d\" x2=\"%d\" "
	    "y1=\"%d\" y2=\"%d\" stroke=\"#ccc\"/>", MARGIN_L + HTML_PLOT_W,
	    HTML_PLOT_H + MARGIN_B, title, MARGIN_L, HTML_PLOT_W, HTML_PLOT_H, MARGIN_L,
	    MARGIN_L + HTML_PLOT_W, HALF, HALF);
    for (b = 0; b < g->nbins; b++)
	for (r = 0; r < HTML_PLOT_H; r++) {
	    uint32_t v = g->cell[b * HTML_PLOT_H + (size_t) r];

	    if (v)
		fprintf(fp, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"2\" "
			"fill=\"%s\"/>", MARGIN_L + cw * (double) b, HTML_PLOT_H - r - 2,
			cw < 1 ? 1 : cw, band_colour[band(g, v)]);
	}
    svg_labels(fp, g, cw);
    fputs("</svg></figure>", fp);
}

/* plots - both existence plots of a host */
static void plots(FILE *fp, const struct coll *c, const struct an_host *h)
{
    int64_t first = INT64_MAX, last = INT64_MIN, bin_ms;
    int64_t max_bin = (int64_t) c->cfg->collector.flows.plot_bin_s * 1000;
    struct grid g;
    size_t i;

    for (i = 0; i < h->pt.n; i++) {
	first = h->pt.v[i].t_ms < first ? h->pt.v[i].t_ms : first;
	last = h->pt.v[i].t_ms > last ? h->pt.v[i].t_ms : last;
    }
    if (h->pt.n == 0) {
	fputs("<p>No traffic to plot.</p>", fp);
	return;
    }
    /* plot_bin is the widest bin: a short span gets finer ones */
    bin_ms = (last - first) / BINS_WANTED;
    bin_ms = bin_ms < MIN_BIN_MS ? MIN_BIN_MS : bin_ms > max_bin ? max_bin : bin_ms;
    fputs("<div class=\"plots\">", fp);
    if (fill_grid(&g, h, AN_IN, first, last, bin_ms) == 0)
	svg_plot(fp, &g, "Dport inbound");
    free(g.cell);
    if (fill_grid(&g, h, AN_OUT, first, last, bin_ms) == 0)
	svg_plot(fp, &g, "Sport outbound");
    free(g.cell);
    fputs("</div>", fp);
}

/* peer_list - external clients or servers with their connections */
static void peer_list(FILE *fp, const struct an_host *h, enum an_role role,
		      const char *title)
{
    struct addr a[PEERS_SHOWN];
    uint64_t conns[PEERS_SHOWN];
    size_t n = det_peers(h, role, a, conns, PEERS_SHOWN), i;
    char buf[ADDR_STRLEN];

    fprintf(fp, "<h4>%s: %zu</h4><div class=\"peers\">", title, n);
    for (i = 0; i < n && i < PEERS_SHOWN; i++)
	fprintf(fp, "%s (%llu)<br>", addr_format(&a[i], buf, sizeof(buf)),
		(unsigned long long) conns[i]);
    fprintf(fp, "%s</div>", n > PEERS_SHOWN ? "..." : "");
}

/* history - the host's days from the database */
static void history(FILE *fp, const struct coll *c, const struct an_host *h)
{
    int64_t *day = NULL;
    uint64_t *conns = NULL;
    size_t n = 0, i;
    uint32_t served;
    char err[256], t[32];

    fputs("<h4>History (SMTP connections per day)</h4>", fp);
    if (hist_days(c->hist, &h->a, INT64_MIN, INT64_MAX, INT64_MIN, &day, &conns, NULL, &n, &served,
		  err, sizeof(err)) != HIST_OK || n == 0) {
	fputs("<p>No history.</p>", fp);
	goto out;
    }
    fputs("<table><tr><th class=\"l\">day</th><th>connections</th></tr>", fp);
    for (i = n > 60 ? n - 60 : 0; i < n; i++) {
	out_time(day[i] * DET_MS_PER_DAY, t, sizeof(t));
	t[10] = 0;
	fprintf(fp, "<tr><td class=\"l\">%s</td><td>%llu</td></tr>", t,
		(unsigned long long) conns[i]);
    }
    fputs("</table>", fp);
  out:
    free(day);
    free(conns);
}

/* pair_row - one member of a flag's evidence as a table row */
static void pair_row(void *arg, const char *key, const char *text)
{
    FILE *fp = arg;

    fputs("<tr><th class=\"l\">", fp);
    html_esc(fp, key);
    fputs("</th><td class=\"l\">", fp);
    html_esc(fp, text);
    fputs("</td></tr>", fp);
}

/* evidence_table - a flag's evidence (a JSON object) as a small table */
static void evidence_table(FILE *fp, struct hist *h, const char *json)
{
    char err[256];

    fputs("<table class=\"ev\">", fp);
    if (h == NULL || hist_json_pairs(h, json, pair_row, fp, err, sizeof(err)) != HIST_OK) {
	fputs("<tr><td class=\"l\"><code>", fp);
	html_esc(fp, json);
	fputs("</code></td></tr>", fp);
    }
    fputs("</table>", fp);
}

/* flag_rows - the summary table of flags */
static void flag_rows(FILE *fp, const struct coll *c)
{
    char a[ADDR_STRLEN], t[32];
    size_t i;

    fprintf(fp, "<h2>Flags: %zu</h2>", c->nflags);
    if (c->nflags == 0)
	return;
    fputs("<table><tr><th class=\"l\">kind</th><th class=\"l\">host</th>"
	  "<th class=\"l\">name</th><th class=\"l\">time</th><th class=\"l\">evidence</th></tr>",
	  fp);
    for (i = 0; i < c->nflags; i++) {
	const struct det_flag *f = &c->flags[i];
	struct jb j = {0};

	out_evidence(&j, f, NULL, &c->dc);	/* peers are in the host's section */
	fprintf(fp, "<tr><td class=\"l\">%s</td><td class=\"l\"><a href=\"#h%s\">%s</a></td>"
		"<td class=\"l\">", det_kind_name(f->kind), addr_format(&f->host, a, sizeof(a)), a);
	html_esc(fp, f->traits.name);
	fprintf(fp, "</td><td class=\"l\">%s</td><td class=\"l\">",
		out_time(f->t_ms, t, sizeof(t)));
	evidence_table(fp, c->hist, j.oom ? "" : j.p);
	fputs("</td></tr>", fp);
	jb_free(&j);
    }
    fputs("</table>", fp);
}

/* host_sections - one section per flagged host */
static void host_sections(FILE *fp, const struct coll *c)
{
    char a[ADDR_STRLEN];
    size_t i, k;

    for (i = 0; i < c->nflags; i++) {
	const struct an_host *h = an_find(&c->an, &c->flags[i].host);

	for (k = 0; k < i && !addr_equal(&c->flags[k].host, &c->flags[i].host); k++)
	    ;
	if (k < i || h == NULL)
	    continue;		/* one section per host */
	addr_format(&h->a, a, sizeof(a));
	fprintf(fp, "<section class=\"host\" id=\"h%s\"><h3>%s ", a, a);
	html_esc(fp, c->flags[i].traits.name);
	fputs("</h3><p>Flags:", fp);
	for (k = i; k < c->nflags; k++)
	    if (addr_equal(&c->flags[k].host, &h->a))
		fprintf(fp, " %s", det_kind_name(c->flags[k].kind));
	fputs("</p>", fp);
	plots(fp, c, h);
	peer_list(fp, h, AN_SERVER, "External clients");
	peer_list(fp, h, AN_CLIENT, "External servers");
	history(fp, c, h);
	fputs("</section>", fp);
    }
}

/* clients_table - seed 000's "Local Mail Clients" */
static void clients_table(FILE *fp, const struct coll *c)
{
    char a[ADDR_STRLEN];
    size_t i;

    fputs("<h2>Local mail clients</h2><table id=\"mail-clients\"><tr><th class=\"l\">IP"
	  "</th><th>connections</th><th>incoming (bytes)</th><th>outgoing (bytes)</th>"
	  "<th>total (bytes)</th></tr>", fp);
    for (i = 0; i < c->nclients; i++)
	fprintf(fp, "<tr><td class=\"l\">%s</td><td>%llu</td><td>%llu</td><td>%llu</td>"
		"<td>%llu</td></tr>", addr_format(&c->clients[i].host, a, sizeof(a)),
		(unsigned long long) c->clients[i].conns,
		(unsigned long long) c->clients[i].bytes_in,
		(unsigned long long) c->clients[i].bytes_out,
		(unsigned long long) (c->clients[i].bytes_in + c->clients[i].bytes_out));
    fputs("</table>", fp);
}

/* body - the whole page */
static void body(FILE *fp, const struct coll *c)
{
    char t0[32], t1[32], now[32], smtp[256];

    coll_smtp_text(c, smtp, sizeof(smtp));
    fprintf(fp, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<title>relayguard-collector report</title><style>%s</style></head><body>"
	    "<h1>relayguard-collector report</h1><p>Written %s. From %s to %s: %s; "
	    "flows read %llu; malformed lines %llu.</p>", css,
	    out_time(c->now_ms, now, sizeof(now)), out_time(c->an.st.first_ms, t0, sizeof(t0)),
	    out_time(c->an.st.last_ms, t1, sizeof(t1)), smtp,
	    (unsigned long long) c->an.st.flows, (unsigned long long) c->bad_lines);
    html_incidents(fp, c->hist);
    flag_rows(fp, c);
    clients_table(fp, c);
    host_sections(fp, c);
    fputs("</body></html>\n", fp);
}

/* html_write - the page, written whole then renamed into place */
int html_write(const struct coll *c, const char *path, char *err, size_t errlen)
{
    char tmp[4096];
    FILE *fp;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long) getpid()) >= (int) sizeof(tmp)) {
	snprintf(err, errlen, "%s: path too long", path);
	return -1;
    }
    if ((fp = fopen(tmp, "we")) == NULL) {
	snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
	return -1;
    }
    body(fp, c);
    if (ferror(fp) | (fclose(fp) != 0) || rename(tmp, path) != 0) {
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	unlink(tmp);
	return -1;
    }
    return 0;
}
