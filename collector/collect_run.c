/*
 * collect_run - the steps of one analysis after the first pass (see
 * collect.c): history, judgement, second look, flags and rogue list.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "collect.h"
#include "evdb.h"
#include "pin.h"
#include "nfd.h"
#include "output.h"

#define DIR_DEPTH_MAX 8
#define SECOND_LOOK_MAX 256	/* flagged hosts looked at again */
#define FILTER_MAX 65536

/* The flow files of a run: which ones the history had not counted yet. */
struct fresh {
    char **v;
    size_t n, cap, seen;
};

/* file_seen - one flow file: counted before? (marks it counted) */
static int file_seen(struct coll *c, const char *path, const struct stat *sb,
		     struct fresh *fr, char *err, size_t errlen)
{
    bool seen;
    char real[4096], **p;

    if (realpath(path, real) == NULL)
	snprintf(real, sizeof(real), "%s", path);
    if (hist_file_seen(c->hist, real, sb->st_size, sb->st_mtime, &seen, err, errlen)
	!= HIST_OK)
	return -1;
    if (seen) {
	fr->seen++;
	return 0;
    }
    if (fr->n == fr->cap) {
	fr->cap = fr->cap ? fr->cap * 2 : 64;
	if ((p = realloc(fr->v, fr->cap * sizeof(*p))) == NULL)
	    return -1;
	fr->v = p;
    }
    return (fr->v[fr->n] = strdup(real)) != NULL ? (fr->n++, 0) : -1;
}

/* dir_seen - every nfcapd file under a directory (not nfcapd.current) */
static int dir_seen(struct coll *c, const char *dir, int depth, struct fresh *fr,
		    char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int rc = 0;

    if (d == NULL)
	return 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
	char p[4096];
	struct stat sb;

	if (e->d_name[0] == '.' || strncmp(e->d_name, "nfcapd.current", 14) == 0)
	    continue;
	if (snprintf(p, sizeof(p), "%s/%s", dir, e->d_name) >= (int) sizeof(p)
	    || lstat(p, &sb) != 0)
	    continue;
	if (S_ISDIR(sb.st_mode) && depth < DIR_DEPTH_MAX)
	    rc = dir_seen(c, p, depth + 1, fr, err, errlen);
	else if (S_ISREG(sb.st_mode) && strncmp(e->d_name, "nfcapd.", 7) == 0)
	    rc = file_seen(c, p, &sb, fr, err, errlen);
    }
    closedir(d);
    return rc;
}

/* inputs_seen - sort the run's files into counted before and new */
static int inputs_seen(struct coll *c, char *const *paths, size_t n,
		       struct fresh *fr, char *err, size_t errlen)
{
    size_t i;

    for (i = 0; i < n; i++) {
	struct stat sb;

	if (strcmp(paths[i], "-") == 0 || stat(paths[i], &sb) != 0)
	    continue;
	if ((S_ISDIR(sb.st_mode) ? dir_seen(c, paths[i], 0, fr, err, errlen)
	     : file_seen(c, paths[i], &sb, fr, err, errlen)) != 0)
	    return -1;
    }
    return 0;
}

/* add_history - the days of every SMTP host of an analysis */
static enum coll_status add_history(struct coll *c, const struct an *an, char *err,
				    size_t errlen)
{
    size_t i, k, nd;

    for (i = 0; i < an->n; i++) {
	const struct an_host *h = &an->h[i];
	struct det_day *d;
	int64_t first = INT64_MAX, last = INT64_MIN;

	if (h->ev.n == 0)
	    continue;
	if (det_days(h, &d, &nd) != 0)
	    return COLL_NOMEM;
	for (k = 0; k < nd; k++)
	    if (hist_add_day(c->hist, &h->a, &d[k], err, errlen) != HIST_OK) {
		free(d);
		return COLL_DB;
	    }
	free(d);
	for (k = 0; k < h->ev.n; k++) {
	    first = h->ev.v[k].t_ms < first ? h->ev.v[k].t_ms : first;
	    last = h->ev.v[k].t_ms > last ? h->ev.v[k].t_ms : last;
	}
	if (hist_touch(c->hist, &h->a, first, last, err, errlen) != HIST_OK)
	    return COLL_DB;
    }
    return COLL_OK;
}

/* add_fresh - only the files not counted before: their own SMTP query */
static enum coll_status add_fresh(struct coll *c, const struct fresh *fr, char *err,
				  size_t errlen)
{
    struct an an;
    enum coll_status rc;

    an_init(&an, c->an.local, &c->an.lim);
    rc = coll_count_files(c, &an, fr->v, fr->n, err, errlen);
    if (rc == COLL_OK)
	rc = add_history(c, &an, err, errlen);
    an_free(&an);
    return rc;
}

/* update_history - add the run's files that the history has not counted */
static enum coll_status update_history(struct coll *c, char *const *paths,
				       size_t n, char *err, size_t errlen)
{
    struct fresh fr = {0};
    enum coll_status rc = COLL_OK;
    size_t i;

    if (inputs_seen(c, paths, n, &fr, err, errlen) != 0)
	rc = COLL_DB;
    else if (fr.seen == 0) {
	c->history_updated = true;	/* all new (or standard input) */
	rc = add_history(c, &c->an, err, errlen);
    } else if (fr.n > 0) {
	coll_warn(c, "history: %zu files were counted before; only the %zu new ones "
		  "were added", fr.seen, fr.n);
	c->history_updated = true;
	rc = add_fresh(c, &fr, err, errlen);
    } else
	coll_warn(c, "history: every input file was counted before; history not updated");
    for (i = 0; i < fr.n; i++)
	free(fr.v[i]);
    free(fr.v);
    return rc;
}

/* traits - what makes a host look like a mail server */
static enum coll_status traits(struct coll *c, const struct an_host *h,
			       struct det_traits *t, struct det_hist *hist,
			       int64_t **hd, uint64_t **hc, uint64_t **hb, char *err,
			       size_t errlen)
{
    const struct cfg_flows *fl = &c->cfg->collector.flows;
    int64_t first = INT64_MAX, last = INT64_MIN;
    size_t i;

    memset(t, 0, sizeof(*t));
    snprintf(t->name, sizeof(t->name), "%s", names_lookup(&c->names, &h->a));
    t->named_mail = det_named_mail(t->name);
    t->is_mx = names_is_mx(&c->names, &fl->local_domains, &h->a);
    t->whitelisted = coll_whitelisted(c, &h->a);
    for (i = 0; i < h->ev.n; i++) {
	first = h->ev.v[i].t_ms < first ? h->ev.v[i].t_ms : first;
	last = h->ev.v[i].t_ms > last ? h->ev.v[i].t_ms : last;
    }
    /* history up to the run's last day (det_host takes the window before
     * each day); serving counts only before the run's first day */
    if (hist_days(c->hist, &h->a, INT64_MIN, last / DET_MS_PER_DAY,
		  first / DET_MS_PER_DAY, hd, hc, hb, &hist->n, &t->served_days, err,
		  errlen) != HIST_OK)
	return COLL_DB;
    hist->day = *hd;
    hist->conns = *hc;
    hist->bytes = *hb;
    return COLL_OK;
}

/* judge_host - one host's flags */
static enum coll_status judge_host(struct coll *c, const struct an_host *h,
				   char *err, size_t errlen)
{
    struct det_traits t;
    struct det_hist hist = {0};
    struct det_day *days = NULL;
    int64_t *hd = NULL;
    uint64_t *hc = NULL, *hb = NULL;
    size_t nd;
    enum coll_status rc = traits(c, h, &t, &hist, &hd, &hc, &hb, err, errlen);

    if (rc == COLL_OK && det_days(h, &days, &nd) != 0)
	rc = COLL_NOMEM;
    if (rc == COLL_OK
	&& det_host(&c->dc, h, &t, &hist, days, nd, &c->flags, &c->nflags) != 0)
	rc = COLL_NOMEM;
    free(days);
    free(hd);
    free(hc);
    free(hb);
    return rc;
}

/* cmp_flag_conns - flags with the most connections first */
static int cmp_flag_conns(const void *x, const void *y)
{
    const struct det_flag *a = x, *b = y;
    uint64_t ca = a->conns > a->day_conns ? a->conns : a->day_conns;
    uint64_t cb = b->conns > b->day_conns ? b->conns : b->day_conns;

    return ca > cb ? -1 : ca < cb;
}

/* second_look - all traffic of the flagged hosts (the busiest
 * SECOND_LOOK_MAX of them), from every input file, in one query each */
static void second_look(struct coll *c, char *const *paths, size_t n)
{
    static struct addr hosts[SECOND_LOOK_MAX];
    static char filter[FILTER_MAX];
    char err[512];
    size_t i, k, nh = 0, skipped = 0;

    if (c->nflags > 1)
	qsort(c->flags, c->nflags, sizeof(*c->flags), cmp_flag_conns);
    for (i = 0; i < c->nflags; i++) {
	struct an_host *h = an_find(&c->an, &c->flags[i].host);

	if (h == NULL || h->detailed)
	    continue;
	if (nh == SECOND_LOOK_MAX) {
	    skipped++;
	    continue;
	}
	h->detailed = true;
	h->pt.n = 0;
	hosts[nh++] = h->a;
    }
    if (skipped)
	coll_warn(c, "second look limited to the %d busiest flagged hosts; %zu more have "
		  "no plots or mail share", SECOND_LOOK_MAX, skipped);
    if (nh == 0 || nfd_hosts_filter(filter, sizeof(filter), hosts, nh) != 0)
	return;
    for (k = 0; k < n; k++) {
	struct stat sb;

	if (strcmp(paths[k], "-") != 0 && stat(paths[k], &sb) == 0)
	    coll_feed_detail(c, paths[k], S_ISDIR(sb.st_mode), filter, err, sizeof(err));
    }
}

/* store_flags - flags (with evidence) into the history */
static enum coll_status store_flags(struct coll *c, char *err, size_t errlen)
{
    size_t i;

    for (i = 0; i < c->nflags; i++) {
	struct jb j = {0};
	enum hist_status s;

	out_evidence(&j, &c->flags[i], an_find(&c->an, &c->flags[i].host), &c->dc);
	if (j.oom) {
	    jb_free(&j);
	    return COLL_NOMEM;
	}
	s = hist_add_flag(c->hist, &c->flags[i], c->now_ms, j.p, err, errlen);
	jb_free(&j);
	if (s != HIST_OK)
	    return COLL_DB;
    }
    return COLL_OK;
}

/* rogue_list - rewrite the rogue list (pin_write_list: flags, incidents,
 * pins and drops; the one writer) */
static enum coll_status rogue_list(struct coll *c, char *err, size_t errlen)
{
    if (evdb_init(c->hist, err, errlen) != HIST_OK)
	return COLL_DB;
    return pin_write_list(c->hist, c->cfg, c->now_ms, err, errlen) == 0 ? COLL_OK
	: COLL_OUTPUT;
}

/* decide - judge every SMTP host, look again at the flagged ones */
static enum coll_status decide(struct coll *c, char *const *paths, size_t n,
			       char *err, size_t errlen)
{
    enum coll_status rc = COLL_OK;
    size_t i;

    for (i = 0; i < c->an.n && rc == COLL_OK; i++)
	if (c->an.h[i].ev.n > 0)
	    rc = judge_host(c, &c->an.h[i], err, errlen);
    if (rc != COLL_OK)
	return rc;
    second_look(c, paths, n);
    for (i = 0; i < c->nflags; i++) {
	const struct an_host *h = an_find(&c->an, &c->flags[i].host);

	if (h == NULL)
	    continue;
	det_shares(h, &c->flags[i]);	/* totals are known now */
	if (c->flags[i].kind == DET_DIRECT_SENDER)
	    det_controller(&c->dc, h, &c->flags[i]);
    }
    if (det_mail_clients(&c->an, &c->clients, &c->nclients) != 0)
	return COLL_NOMEM;
    return COLL_OK;
}

/* coll_run - one whole analysis of the inputs */
enum coll_status coll_run(struct coll *c, char *const *paths, size_t n,
			  char *err, size_t errlen)
{
    int64_t keep_from = c->now_ms / DET_MS_PER_DAY
	- (int64_t) (c->cfg->collector.retention_s / 86400);
    enum coll_status rc = coll_first_pass(c, paths, n, err, errlen);

    if (rc != COLL_OK)
	return rc;
    if (hist_begin(c->hist, err, errlen) != HIST_OK)
	return COLL_DB;
    if ((rc = update_history(c, paths, n, err, errlen)) == COLL_OK
	&& (rc = decide(c, paths, n, err, errlen)) == COLL_OK
	&& (rc = store_flags(c, err, errlen)) == COLL_OK)
	rc = hist_expire(c->hist, keep_from, err, errlen) == HIST_OK
	    && hist_commit(c->hist, err, errlen) == HIST_OK ? COLL_OK : COLL_DB;
    if (rc != COLL_OK) {
	hist_rollback(c->hist);
	return rc;
    }
    if (c->names.skipped)
	coll_warn(c, "dns: %llu lookups skipped (dns_budget spent)",
		  (unsigned long long) c->names.skipped);
    return rogue_list(c, err, errlen);
}
