/*
 * collect - one analysis run (see collect.h).
 *
 * Order: (1) per input, three nfdump queries in parallel: the SMTP flows
 * over the threshold, and per-host totals of all traffic as source and as
 * destination over the local networks (for the share of mail); standard
 * input is parsed whole instead. (2) The history gets the run's days
 * unless some input file was counted before. (3) Every local SMTP host is
 * judged against its traits and history. (4) Flagged hosts get a second
 * query for all their traffic: existence plots and a spam bot's
 * controller. (5) Flags go to the history, the rogue list is rewritten.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collect.h"
#include "flow.h"
#include "nfd.h"
#include "output.h"

#define FILTER_MAX 65536
#define MAX_POINTS 2000000	/* plot points kept per host */
#define TOTALS_SRC_FMT "fmt:%sa %fl %ibyt %obyt"
#define TOTALS_DST_FMT "fmt:%da %fl %ibyt %obyt"

struct feed {
    struct coll *c;
    const char *source;
    unsigned what;
    bool totals;		/* "ADDR FLOWS IBYT OBYT" aggregate lines */
    struct flow_reader rd;
};

/* coll_warn - keep a warning for the summary */
void coll_warn(struct coll *c, const char *fmt, ...)
{
    va_list ap;

    if (c->nwarn >= COLL_WARN_KEEP)
	return;
    va_start(ap, fmt);
    vsnprintf(c->warn[c->nwarn++], COLL_WARN_LEN, fmt, ap);
    va_end(ap);
}

/* bad_line - count a malformed line and keep where it was */
static void bad_line(struct coll *c, const char *source, uint64_t lineno)
{
    if (c->bad_lines < COLL_BAD_KEEP) {
	snprintf(c->bad[c->bad_lines].source, sizeof(c->bad[0].source), "%s", source);
	c->bad[c->bad_lines].line = lineno;
    }
    c->bad_lines++;
}

/* parse_totals - "ADDR FLOWS IBYT OBYT" */
static int parse_totals(const char *line, size_t len, struct addr *a,
			uint64_t *flows, uint64_t *bytes)
{
    char buf[256], addr[64];
    unsigned long long fl, ib, ob;
    char extra;

    if (len >= sizeof(buf))
	return -1;
    memcpy(buf, line, len);
    buf[len] = 0;
    if (sscanf(buf, "%63s %llu %llu %llu %c", addr, &fl, &ib, &ob, &extra) != 4
	|| addr_parse(addr, a) != 0)
	return -1;
    *flows = fl;
    *bytes = ib + ob;
    return 0;
}

/* on_line - one line of nfdump output or standard input */
static void on_line(void *ctx, const char *line, size_t len, uint64_t lineno)
{
    struct feed *fd = ctx;
    struct flow f;
    struct addr a;
    uint64_t fl, by;

    if (fd->totals) {
	enum flow_status s = flow_parse_fmt(line, len, &f);

	if (s == FLOW_SKIP && len > 0)	/* "No matching flows" */
	    return;
	if (parse_totals(line, len, &a, &fl, &by) == 0)
	    an_add_totals(&fd->c->an, &a, fl, by);
	else if (len > 0)
	    bad_line(fd->c, fd->source, lineno);
	return;
    }
    switch (flow_read_line(&fd->rd, line, len, &f)) {
    case FLOW_OK:
	an_add(&fd->c->an, &f, fd->what);
	break;
    case FLOW_BAD:
	bad_line(fd->c, fd->source, lineno);
	break;
    default:
	break;
    }
}

/* job_warnings - what nfdump said on stderr or by its exit code */
static void job_warnings(struct coll *c, const struct nfd_job *j, const char *path)
{
    char *nl;

    if (j->errtext[0]) {
	for (nl = (char *) (uintptr_t) j->errtext; (nl = strchr(nl, '\n')) != NULL;)
	    *nl = nl[1] ? ' ' : 0;
	coll_warn(c, "nfdump %s: %s", path, j->errtext);
    }
    if (j->exit_code != 0)
	coll_warn(c, "nfdump %s: exit code %d", path, j->exit_code);
}

/* query_path - the three first-pass queries on one file or directory */
static enum coll_status query_path(struct coll *c, const char *path, int is_dir,
				   char *err, size_t errlen)
{
    const struct cfg_flows *fl = &c->cfg->collector.flows;
    static char smtp[256], src[FILTER_MAX], dst[FILTER_MAX];
    struct feed feeds[3] = {
	{c, path, AN_SMTP, false, {0}}, {c, path, 0, true, {0}}, {c, path, 0, true, {0}},
    };
    struct nfd_job jobs[3];
    size_t i;

    if (nfd_smtp_filter(smtp, sizeof(smtp), fl->min_packets, fl->min_bytes) != 0
	|| nfd_net_filter(src, sizeof(src), "src", &fl->local_networks) != 0
	|| nfd_net_filter(dst, sizeof(dst), "dst", &fl->local_networks) != 0) {
	snprintf(err, errlen, "collector.flows.local_networks: empty or too long a filter");
	return COLL_INPUT;
    }
    flow_reader_init(&feeds[0].rd, FLOW_FMT_NFDUMP);
    nfd_query(&jobs[0], fl->nfdump, path, is_dir, FLOW_NFDUMP_FMT, NULL, smtp);
    nfd_query(&jobs[1], fl->nfdump, path, is_dir, TOTALS_SRC_FMT, "srcip", src);
    nfd_query(&jobs[2], fl->nfdump, path, is_dir, TOTALS_DST_FMT, "dstip", dst);
    for (i = 0; i < 3; i++) {
	jobs[i].fn = on_line;
	jobs[i].ctx = &feeds[i];
    }
    if (nfd_run(jobs, 3, err, errlen) != NFD_OK)
	return COLL_INPUT;
    for (i = 0; i < 3; i++)
	job_warnings(c, &jobs[i], path);
    return COLL_OK;
}

/* read_stdin - nfdump text (fmt, csv or SiLK) on standard input */
static enum coll_status read_stdin(struct coll *c, char *err, size_t errlen)
{
    struct feed fd = {c, "-", AN_TOTALS | AN_SMTP | AN_CTL, false, {0}};
    uint64_t lines;

    flow_reader_init(&fd.rd, FLOW_FMT_AUTO);
    return nfd_read_fd(0, on_line, &fd, &lines, err, errlen) == NFD_OK ? COLL_OK
	: COLL_INPUT;
}

/* coll_whitelisted - configured or learned known mail server */
bool coll_whitelisted(const struct coll *c, const struct addr *a)
{
    return addr_cidr_list_match(&c->cfg->collector.flows.mail_servers, a)
	|| addr_cidr_list_match(&c->learned, a);
}

/* load_learned - the learned whitelist into c->learned */
static enum coll_status load_learned(struct coll *c, char *err, size_t errlen)
{
    struct hist_wl *wl;
    size_t n, i;
    char why[128];

    if (hist_wl_list(c->hist, &wl, &n, err, errlen) != HIST_OK)
	return COLL_DB;
    if ((c->learned.v = calloc(n + 1, sizeof(*c->learned.v))) == NULL) {
	free(wl);
	return COLL_NOMEM;
    }
    for (i = 0; i < n; i++)
	if (addr_cidr_parse(wl[i].network, &c->learned.v[c->learned.n], why, sizeof(why)) == 0)
	    c->learned.n++;
    free(wl);
    return COLL_OK;
}

/* coll_init - configuration, database, names */
enum coll_status coll_init(struct coll *c, const struct cfg *cfg, int64_t now_ms,
			   char *err, size_t errlen)
{
    const struct cfg_flows *fl = &cfg->collector.flows;
    struct an_limits lim = {fl->min_packets, fl->min_bytes, MAX_POINTS};

    memset(c, 0, sizeof(*c));
    c->cfg = cfg;
    c->now_ms = now_ms;
    c->dc = (struct det_cfg) {fl->mail_share, fl->fan_out_servers, fl->fan_out_window_s,
			      fl->volume_jump_factor, fl->volume_jump_min_flows,
			      fl->direct_min_flows, fl->history_window_s,
			      fl->controller_lead_s};
    an_init(&c->an, &fl->local_networks, &lim);
    if (fl->local_networks.n == 0) {
	snprintf(err, errlen, "collector.flows.local_networks is empty: no host is local");
	return COLL_INPUT;
    }
    if (names_init(&c->names, fl->names_file, fl->dns_budget_ms, err, errlen) != NAMES_OK)
	return COLL_INPUT;
    if (hist_open(cfg->collector.database, &c->hist, err, errlen) != HIST_OK)
	return COLL_DB;
    return load_learned(c, err, errlen);
}

/* coll_free - release the run */
void coll_free(struct coll *c)
{
    an_free(&c->an);
    names_free(&c->names);
    hist_close(c->hist);
    free(c->learned.v);
    free(c->flags);
    free(c->clients);
    memset(c, 0, sizeof(*c));
}

/* coll_first_pass - every input: queries, or standard input */
enum coll_status coll_first_pass(struct coll *c, char *const *paths, size_t n,
				 char *err, size_t errlen)
{
    enum coll_status rc;
    size_t i;

    for (i = 0; i < n; i++) {
	struct stat sb;

	if (strcmp(paths[i], "-") == 0)
	    rc = read_stdin(c, err, errlen);
	else if (stat(paths[i], &sb) != 0) {
	    snprintf(err, errlen, "%s: %s", paths[i], strerror(errno));
	    rc = COLL_INPUT;
	} else
	    rc = query_path(c, paths[i], S_ISDIR(sb.st_mode), err, errlen);
	if (rc != COLL_OK)
	    return rc;
    }
    return COLL_OK;
}

/* coll_feed_detail - all traffic of some hosts (a filter) into the analysis */
void coll_feed_detail(struct coll *c, const char *path, int is_dir,
		      const char *filter, char *err, size_t errlen)
{
    struct feed fd = {c, path, AN_DETAIL, false, {0}};
    struct nfd_job j;

    flow_reader_init(&fd.rd, FLOW_FMT_NFDUMP);
    nfd_query(&j, c->cfg->collector.flows.nfdump, path, is_dir, FLOW_NFDUMP_FMT,
	      NULL, filter);
    j.fn = on_line;
    j.ctx = &fd;
    if (nfd_run(&j, 1, err, errlen) != NFD_OK)
	coll_warn(c, "%s", err);
    else
	job_warnings(c, &j, path);
}
