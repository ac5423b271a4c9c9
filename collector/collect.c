/*
 * collect - one analysis run (see collect.h).
 *
 * Order: (1) the SMTP query (TCP port 25 over the threshold, pushed into
 * nfdump) on every input, in parallel; standard input is parsed whole
 * instead. (2) The history gets the days of the run's files that it has
 * not counted yet; when some were counted before, the new ones are queried
 * again on their own, so that no file is counted twice. (3) Every local
 * SMTP host is judged against its traits and history. (4) Flagged hosts get a second query for all their
 * traffic: totals (the share of mail in their evidence), existence plots
 * and a spam bot's controller. Only SMTP flows and the flagged hosts'
 * flows are ever read: nfdump skips the rest at its own speed.
 * (5) Flags go to the history, the rogue list is rewritten.
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

struct feed {
    struct coll *c;
    struct an *an;		/* where the flows go */
    const char *source;
    unsigned what;
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

/* on_line - one line of nfdump output or standard input */
static void on_line(void *ctx, const char *line, size_t len, uint64_t lineno)
{
    struct feed *fd = ctx;
    struct flow f;

    switch (flow_read_line(&fd->rd, line, len, &f)) {
    case FLOW_OK:
	an_add(fd->an, &f, fd->what);
	break;
    case FLOW_BAD:
	bad_line(fd->c, fd->source, lineno);
	break;
    default:
	break;
    }
}

/* job_warnings - what nfdump said on stderr or by its exit code */
static void job_warnings(struct coll *c, struct nfd_job *j, const char *path)
{
    char *nl;

    if (j->errtext[0]) {
	for (nl = j->errtext; (nl = strchr(nl, '\n')) != NULL;)
	    *nl = nl[1] ? ' ' : 0;	/* one line */
	coll_warn(c, "nfdump %s: %s", path, j->errtext);
    }
    if (j->exit_code != 0)
	coll_warn(c, "nfdump %s: exit code %d", path, j->exit_code);
}

/* query_paths - the SMTP query on every file or directory, in parallel
 * (the filter is pushed into nfdump: only ~2 % of flows come back) */
static enum coll_status query_paths(struct coll *c, struct an *an, char *const *paths,
				    const int *is_dir, size_t n, char *err, size_t errlen)
{
    const struct cfg_flows *fl = &c->cfg->collector.flows;
    struct feed feeds[NFD_JOBS_MAX];
    struct nfd_job jobs[NFD_JOBS_MAX];
    static char smtp[256];
    size_t i;

    if (nfd_smtp_filter(smtp, sizeof(smtp), fl->min_packets, fl->min_bytes) != 0) {
	snprintf(err, errlen, "SMTP filter too long");
	return COLL_INPUT;
    }
    if (an == &c->an)
	c->nfdump_filtered = true;
    for (i = 0; i < n; i++) {
	feeds[i] = (struct feed) {c, an, paths[i], AN_SMTP, {0}};
	flow_reader_init(&feeds[i].rd, FLOW_FMT_NFDUMP);
	nfd_query(&jobs[i], fl->nfdump, paths[i], is_dir[i], FLOW_NFDUMP_FMT, NULL, smtp);
	jobs[i].fn = on_line;
	jobs[i].ctx = &feeds[i];
    }
    if (nfd_run(jobs, n, err, errlen) != NFD_OK)
	return COLL_INPUT;
    for (i = 0; i < n; i++)
	job_warnings(c, &jobs[i], paths[i]);
    return COLL_OK;
}

/* coll_smtp_text - what the SMTP count holds and what it leaves out:
 * flows under the thresholds (counted only when they reached us, i.e.
 * on standard input; nfdump's filter drops them from files) and flows
 * between two outside hosts */
void coll_smtp_text(const struct coll *c, char *buf, size_t len)
{
    const struct an_stats *st = &c->an.st;

    if (c->nfdump_filtered && st->smtp_below == 0)
	snprintf(buf, len, "SMTP flows with a local host %llu (not counted: %llu"
		 " between two outside hosts; those under min_packets/min_bytes"
		 " were left out by nfdump's filter)", (unsigned long long) st->smtp,
		 (unsigned long long) st->transit);
    else
	snprintf(buf, len, "SMTP flows with a local host %llu (not counted: %llu"
		 " under min_packets/min_bytes, %llu between two outside hosts)",
		 (unsigned long long) st->smtp, (unsigned long long) st->smtp_below,
		 (unsigned long long) st->transit);
}

/* read_stdin - nfdump text (fmt, csv or SiLK) on standard input */
static enum coll_status read_stdin(struct coll *c, char *err, size_t errlen)
{
    struct feed fd = {c, &c->an, "-", AN_TOTALS | AN_SMTP | AN_CTL, {0}};
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
	return COLL_CONFIG;
    }
    if (names_init(&c->names, fl->names_file, fl->dns_budget_ms, err, errlen) != NAMES_OK)
	return COLL_CONFIG;
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

/* coll_first_pass - every input: queries (NFD_JOBS_MAX at a time), or
 * standard input */
enum coll_status coll_first_pass(struct coll *c, char *const *paths, size_t n,
				 char *err, size_t errlen)
{
    char *batch[NFD_JOBS_MAX];
    int is_dir[NFD_JOBS_MAX];
    enum coll_status rc = COLL_OK;
    size_t i, nb = 0;

    for (i = 0; i <= n && rc == COLL_OK; i++) {
	struct stat sb;

	if (i < n && strcmp(paths[i], "-") == 0)
	    rc = read_stdin(c, err, errlen);
	else if (i < n && stat(paths[i], &sb) != 0) {
	    snprintf(err, errlen, "%s: %s", paths[i], strerror(errno));
	    rc = COLL_INPUT;
	} else if (i < n) {
	    batch[nb] = paths[i];
	    is_dir[nb++] = S_ISDIR(sb.st_mode);
	}
	if (rc == COLL_OK && nb > 0 && (nb == NFD_JOBS_MAX || i == n)) {
	    rc = query_paths(c, &c->an, batch, is_dir, nb, err, errlen);
	    nb = 0;
	}
    }
    return rc;
}

/* coll_count_files - the SMTP flows of some files into another analysis
 * (the files of a run that the history has not counted yet) */
enum coll_status coll_count_files(struct coll *c, struct an *an, char *const *files,
				  size_t n, char *err, size_t errlen)
{
    int is_dir[NFD_JOBS_MAX] = {0};
    enum coll_status rc = COLL_OK;
    size_t i;

    for (i = 0; i < n && rc == COLL_OK; i += NFD_JOBS_MAX)
	rc = query_paths(c, an, files + i, is_dir, n - i < NFD_JOBS_MAX ? n - i
			 : NFD_JOBS_MAX, err, errlen);
    return rc;
}

/* coll_feed_detail - all traffic of some hosts (a filter) into the
 * analysis: plot points, controller candidates, traffic totals */
void coll_feed_detail(struct coll *c, const char *path, int is_dir,
		      const char *filter, char *err, size_t errlen)
{
    struct feed fd = {c, &c->an, path, AN_DETAIL | AN_TOTALS, {0}};
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
