/*
 * replay - relayguardctl replay [--compare FILE2] [--from T] [--to T]
 * [--verdicts] [--html FILE] LOG...: what the rules of a configuration
 * would have done to the mail of a log.
 *
 * Submissions rebuilt from the log (subm) go through the engine with
 * txn_run, the same phase sequence the milter drives, in log time, on a
 * private state file per configuration: created in $TMPDIR with the
 * configuration's sizes and unlinked at once, so the live state is never
 * touched and nothing is left behind. GeoIP and the rogue list are the
 * configured files of today, applied to old addresses. Submissions before
 * --from still run (they fill the windows and blocks) but are not
 * counted; those after --to are skipped.
 *
 * Contract: memory is the states, the join's fixed table and one entry
 * per login and client up to the configuration's max_users + max_clients:
 * bounded by the state size, not the log size. Unparsable lines are
 * counted and sampled, never fatal.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"
#include "logsrc.h"
#include "replay.h"
#include "text.h"
#include "txn.h"

#define WHO_CAP_MAX (1u << 20)	/* logins and clients remembered at most */
#define WHO_FILL_PCT 90		/* the table takes no more past this */
#define ERR_LEN 4096

/* bad_line - count an unparsable line and keep the first few */
static void bad_line(const char *file, uint64_t lineno, const char *line,
		     size_t len, void *arg)
{
    struct replay *r = arg;
    char clean[REPLAY_SAMPLE_LEN / 2];

    r->bad++;
    if (r->nsamples >= REPLAY_SAMPLES)
	return;
    text_clean_line(line, len < sizeof(clean) ? len : sizeof(clean), clean,
		    sizeof(clean));
    snprintf(r->samples[r->nsamples++], REPLAY_SAMPLE_LEN, "%.40s:%llu: %s",
	     file, (unsigned long long) lineno, clean);
}

/* hash - FNV-1a of bytes, seeded */
static uint64_t hash(const void *p, size_t n, uint64_t h)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++)
	h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

/* who_get - the entry of a login (lower-cased) or a client; NULL when
 * the table is full */
static struct replay_who *who_get(struct replay *r, const char *login,
				  const struct addr *client)
{
    char key[REPLAY_LOGIN_KEY] = {0};
    uint64_t h;
    uint32_t i;

    if (login != NULL)
	for (size_t k = 0; k + 1 < sizeof(key) && login[k]; k++)
	    key[k] = (char) (login[k] >= 'A' && login[k] <= 'Z'
			     ? login[k] + 32 : login[k]);
    h = login ? hash(key, sizeof(key), 1469598103934665603ull)
	: hash(client, sizeof(*client), 7809847782465536322ull);
    for (i = (uint32_t) (h % r->cap);; i = (i + 1) % r->cap) {
	struct replay_who *w = &r->who[i];

	if (!w->used)
	    break;
	if (w->hash == h && w->is_client == (login == NULL)
	    && (login ? memcmp(w->key, key, sizeof(key)) == 0
		: addr_equal(&w->client, client)))
	    return w;
    }
    if ((uint64_t) r->nwho * 100 >= (uint64_t) r->cap * WHO_FILL_PCT) {
	r->who_dropped++;
	return NULL;
    }
    r->nwho++;
    r->who[i].used = true;
    r->who[i].is_client = login == NULL;
    r->who[i].hash = h;
    memcpy(r->who[i].key, key, sizeof(key));
    if (client)
	r->who[i].client = *client;
    for (int k = 0; k < REPLAY_RUNS; k++)
	r->who[i].run[k].stop_rule = -1;
    return &r->who[i];
}

/* who_seen - a message of a login: its address and country */
static void who_seen(struct replay_who *w, const struct subm *s,
		     const char *cc)
{
    uint32_t ih = (uint32_t) hash(&s->client, sizeof(s->client), 2166136261u);
    uint32_t i;

    w->msgs++;
    if (w->first == 0)
	w->first = s->time;
    w->last = s->time;
    for (i = 0; i < w->nips && w->ips[i] != ih; i++)
	;
    if (i == w->nips && w->nips < REPLAY_LOGIN_IPS)
	w->ips[w->nips++] = ih;
    else if (i == w->nips)
	w->ips_more = true;
    if (cc[0] == 0)
	return;
    for (i = 0; i < w->nccs && memcmp(w->ccs[i], cc, 2) != 0; i++)
	;
    if (i == w->nccs && w->nccs < REPLAY_LOGIN_CCS)
	memcpy(w->ccs[w->nccs++], cc, 2);
}

/* mark - a verdict on a login's timeline: the last REPLAY_TIMELINE kept */
static void mark(struct replay_who_run *wr, const struct rules_verdict *v,
		 uint32_t t, const char *cc)
{
    struct replay_mark *m = &wr->marks[wr->nmarks++ % REPLAY_TIMELINE];

    m->time = t;
    m->action = (uint8_t) v->action;
    m->rule = (int8_t) (v->rule < REPLAY_RULES ? v->rule : -1);
    snprintf(m->cc, sizeof(m->cc), "%s", cc);
}

/* who_verdict - what run k did to a login or client */
static void who_verdict(struct replay_rule *rr, struct replay_who *w, int k,
			const struct rules_verdict *v, uint32_t t,
			const char *cc, bool login)
{
    struct replay_who_run *wr = &w->run[k];

    /* rr: the verdict's rule, below REPLAY_RULES (account) */
    if (rr != NULL && !cfg_rule_set_has(&wr->rules, (size_t) v->rule)) {
	cfg_rule_set_add(&wr->rules, (size_t) v->rule);
	if (login)
	    rr->logins++;
	else
	    rr->clients++;
    }
    if (v->action == CFG_ACTION_TAG)
	wr->tagged++;
    if (v->action >= CFG_ACTION_QUARANTINE && wr->stopped++ == 0) {
	wr->stop_rule = v->rule;
	wr->stop_action = (uint8_t) v->action;
	wr->stop_time = t;
    }
    mark(wr, v, t, cc);
}

/* account - count one verdict of run k */
static void account(struct replay *r, int k, const struct subm *s,
		    const struct rules_verdict *v, const char *cc,
		    struct replay_who *wl, struct replay_who *wc)
{
    struct replay_run *run = &r->run[k];
    struct replay_rule *rr = NULL;

    run->by_action[v->action]++;
    if (v->status != 0)
	run->errors++;
    if (v->action == CFG_ACTION_ACCEPT) {
	if (wl != NULL)
	    mark(&wl->run[k], v, s->time, cc);
	return;
    }
    if (v->rule >= 0 && v->rule < REPLAY_RULES) {
	rr = &run->rules[v->rule];
	rr->by_action[v->action]++;
	rr->by_block += v->from_block;
	if (rr->first == 0)
	    rr->first = s->time;
	rr->last = s->time;
    }
    if (wl != NULL)
	who_verdict(rr, wl, k, v, s->time, cc, true);
    if (wc != NULL)
	who_verdict(rr, wc, k, v, s->time, cc, false);
}

/* verdict_line - the milter's verdict line for what run 0 decided; the
 * queue id as Postfix gives it to the milter: from the first accepted
 * recipient on */
static void verdict_line(const struct replay *r, const struct subm *s,
			 const struct rules_verdict *v, enum txn_end end,
			 uint32_t rcpt, const char *cc)
{
    const struct cfg *cfg = r->run[0].cfg;
    struct log_line l;
    char head[64], a[ADDR_STRLEN + 2], tmp[ADDR_STRLEN];

    snprintf(head, sizeof(head), "%.40s:", s->qid[0] && (end == TXN_END_EOM
	     || (end == TXN_END_RCPT && rcpt > 1)) ? s->qid : "NOQUEUE");
    log_line_init(&l, head);
    log_kv_raw(&l, "action", cfg_action_name(v->action));
    log_kv_raw(&l, "rule", v->rule >= 0 && (size_t) v->rule < cfg->policy.nrules
	       ? cfg->policy.rules[v->rule].name : v->from_block ? "block" : "-");
    log_kv_str(&l, "user", s->login);
    snprintf(a, sizeof(a), "[%s]", addr_format(&s->client, tmp, sizeof(tmp)));
    log_kv_raw(&l, "client", a);
    log_kv_raw(&l, "country", cc[0] ? cc : "-");
    log_kv_raw(&l, "class", rules_class_name(v->cls));
    log_kv_str(&l, "reason", v->reason);
    log_kv_raw(&l, "phase", txn_end_phase(end));
    fprintf(r->out, "%s\n", l.buf);
}

/* judge - one submission through run k's engine */
static enum txn_end judge(struct replay_run *run, const struct subm *s,
			  struct rules_verdict *v, uint32_t *rcpt, char cc[3])
{
    struct geo_info gi;
    struct txn t;

    memset(&t, 0, sizeof(t));
    if (s->time > run->now)
	run->now = s->time;	/* the engine's time never goes back */
    t.login = s->login;
    t.sender = s->sender;
    t.client = s->client;
    (void) geo_lookup(run->geo, &s->client, &gi);
    rules_geo_facts(&gi, &t.geo);
    memcpy(cc, t.geo.cc, 3);
    t.geo_caps = geo_caps(run->geo);
    t.rogue_listed = run->have_rogue
	&& roguelist_match(&run->rogue, &s->client, (int64_t) run->now);
    t.rcpts = s->rcpts;
    t.bytes = s->size;
    t.qid = s->qid;
    return txn_run(run->cfg, run->st, &t, run->now, v, rcpt);
}

/* on_subm - one rebuilt submission through every run */
static int on_subm(const struct subm *s, void *arg)
{
    struct replay *r = arg;
    struct rules_verdict v[REPLAY_RUNS];
    struct replay_who *wl = NULL, *wc = NULL;
    bool counted = !(r->from && s->time < r->from);
    enum txn_end end = TXN_END_EOM;
    uint32_t rcpt = 0;
    char cc[3] = "";

    if (r->to && s->time > r->to)
	return 0;
    for (int k = r->nruns - 1; k >= 0; k--)
	end = judge(&r->run[k], s, &v[k], &rcpt, cc);	/* run 0 last */
    if (r->verdicts)
	verdict_line(r, s, &v[0], end, rcpt, cc);
    if (!counted) {
	r->warm++;
	return 0;
    }
    r->counted++;
    r->live[s->live <= MAILLOG_LIVE_DISCARD ? s->live : MAILLOG_LIVE_ACCEPT]++;
    if (r->first == 0)
	r->first = s->time;
    r->last = s->time;
    if (s->login[0] && (wl = who_get(r, s->login, NULL)) != NULL)
	who_seen(wl, s, cc);
    if ((wc = who_get(r, NULL, &s->client)) != NULL)
	who_seen(wc, s, cc);
    for (int k = 0; k < r->nruns; k++)
	account(r, k, s, &v[k], cc, wl, wc);
    if (r->nruns == REPLAY_RUNS) {
	bool a = v[0].action >= CFG_ACTION_QUARANTINE;
	bool b = v[1].action >= CFG_ACTION_QUARANTINE;

	r->newly_stopped += !a && b;
	r->newly_passed += a && !b;
	a = v[0].action >= CFG_ACTION_TEMPFAIL;
	b = v[1].action >= CFG_ACTION_TEMPFAIL;
	r->newly_refused += !a && b;
	r->no_longer_refused += a && !b;
    }
    return 0;
}

/* private_state - a fresh state file sized from cfg, unlinked at once */
static int private_state(struct replay_run *run, char *err, size_t errlen)
{
    const char *dir = getenv("TMPDIR");
    char path[1024];
    struct store_params sp;
    int fd, s;

    snprintf(path, sizeof(path), "%s/relayguard-replay-XXXXXX",
	     dir && *dir ? dir : "/tmp");
    if ((fd = mkstemp(path)) < 0) {
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return -1;
    }
    close(fd);
    unlink(path);
    store_params_from_cfg(&run->cfg->state, STORE_CREATE, 0600, &sp);
    sp.path = path;
    s = store_open(&sp, &run->st, err, errlen);
    unlink(path);		/* the mapping is all we need */
    return s == STORE_OK ? 0 : -1;
}

/* run_open - configuration, private state, GeoIP and rogue list */
static int run_open(struct ctl *c, struct replay_run *run, const char *file)
{
    char *err = calloc(1, ERR_LEN);
    struct geo_paths gp;
    int rc = CTL_EXIT_OK;

    if (err == NULL)
	return ctl_error(c, CTL_EXIT_UNAVAILABLE, "out of memory");
    run->file = file;
    if ((run->cfg = cfg_load(file, err, ERR_LEN)) == NULL) {
	rc = ctl_error(c, CTL_EXIT_CONFIG, "bad configuration %s:\n%s", file, err);
	goto out;
    }
    /* as if enforced: the engine would keep dry run's blocks would-be */
    run->dry_run = run->cfg->milter.dry_run;
    run->cfg->milter.dry_run = false;
    if (private_state(run, err, ERR_LEN) != 0) {
	rc = ctl_error(c, CTL_EXIT_UNAVAILABLE, "private state: %s", err);
	goto out;
    }
    gp.city_db = run->cfg->geoip.city_db;
    gp.country_db = run->cfg->geoip.country_db;
    gp.asn_db = run->cfg->geoip.asn_db;
    if (geo_open(&gp, &run->geo, &run->geo_missing, err, ERR_LEN) != GEO_OK) {
	rc = ctl_error(c, CTL_EXIT_UNAVAILABLE, "GeoIP: %s", err);
	goto out;
    }
    if (run->cfg->rogue.list_path && *run->cfg->rogue.list_path)
	run->have_rogue = roguelist_load(run->cfg->rogue.list_path, &run->rogue,
					 err, ERR_LEN) == 0;
  out:
    free(err);
    return rc;
}

/* run_close - release one run (a half-open one too) */
static void run_close(struct replay_run *run)
{
    if (run->have_rogue)
	roguelist_free(&run->rogue);
    geo_close(run->geo);
    store_close(run->st);
    cfg_free(run->cfg);
}

/* parse_when - --from/--to: "YYYY-MM-DD[ HH:MM[:SS]]" (also with 'T'),
 * local time, or "@SECONDS" */
static int parse_when(const char *s, uint32_t *out)
{
    static const char *const fmts[] = {
	"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M",
	"%Y-%m-%d %H:%M", "%Y-%m-%d",
    };
    uint64_t v;
    struct tm tm;
    time_t t;

    if (s[0] == '@')
	return text_uint(s + 1, UINT32_MAX, &v) == 0 ? (*out = (uint32_t) v, 0) : -1;
    for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
	const char *end;

	memset(&tm, 0, sizeof(tm));
	tm.tm_isdst = -1;
	if ((end = strptime(s, fmts[i], &tm)) == NULL || *end != 0)
	    continue;
	if ((t = mktime(&tm)) <= 0 || (uint64_t) t > UINT32_MAX)
	    return -1;
	*out = (uint32_t) t;
	return 0;
    }
    return -1;
}

/* options - --from, --to, --limit, --verdicts */
static int options(struct ctl *c, struct replay *r)
{
    const char *w[2] = {c->opt[CTL_OPT_FROM], c->opt[CTL_OPT_TO]};
    uint32_t *t[2] = {&r->from, &r->to};

    for (int i = 0; i < 2; i++)
	if (w[i] != NULL && parse_when(w[i], t[i]) != 0)
	    return ctl_usage_error(c, "--%s: expected YYYY-MM-DD[ HH:MM[:SS]]"
				   " or @SECONDS", i ? "to" : "from");
    if (r->from && r->to && r->to < r->from)
	return ctl_usage_error(c, "--to is before --from");
    if (ctl_opt_uint(c, CTL_OPT_LIMIT, REPLAY_TOP, UINT32_MAX, &r->top) != 0)
	return CTL_EXIT_USAGE;
    if (r->top == 0)
	r->top = UINT64_MAX;
    r->verdicts = c->opt[CTL_OPT_VERDICTS] != NULL;
    if (r->verdicts && (c->json || c->opt[CTL_OPT_HTML] || c->opt[CTL_OPT_COMPARE]))
	return ctl_usage_error(c, "--verdicts goes alone (no --json, --html,"
			       " --compare)");
    return 0;
}

/* feed - every record of the logs into the join */
static int feed(struct ctl *c, struct replay *r, SUBM *j)
{
    char err[512];
    struct maillog_rec rec;
    LOGSRC *src;
    int s;

    if (logsrc_open(c->args, (size_t) c->nargs, c->now, bad_line, r, &src, err,
		    sizeof(err)) != LOGSRC_OK)
	return ctl_error(c, CTL_EXIT_UNAVAILABLE, "%s", err);
    while ((s = logsrc_next(src, &rec, err, sizeof(err))) == LOGSRC_OK)
	if (subm_add(j, &rec) != 0)
	    break;
    subm_flush(j);
    r->lines = logsrc_lines(src);
    logsrc_close(src);
    if (s == LOGSRC_EIO)
	return ctl_error(c, CTL_EXIT_UNAVAILABLE, "%s", err);
    return 0;
}

/* report - the report in the form asked for */
static int report(struct ctl *c, const struct replay *r)
{
    const char *html = c->opt[CTL_OPT_HTML];
    FILE *f;
    int rc = 0;

    if (r->verdicts)
	return 0;
    if (html != NULL) {
	if ((f = fopen(html, "w")) == NULL)
	    return ctl_error(c, CTL_EXIT_UNAVAILABLE, "%s: %s", html, strerror(errno));
	rc = replay_html(r, f);
	if (fclose(f) != 0 || rc != 0)
	    return ctl_error(c, CTL_EXIT_UNAVAILABLE, "%s: write error", html);
    }
    rc = c->json ? replay_json(r, c->out) : replay_text(r, c->out);
    return rc ? ctl_error(c, CTL_EXIT_UNAVAILABLE, "write error") : 0;
}

/* cmd_replay - the engine over mail logs */
int cmd_replay(struct ctl *c)
{
    struct replay *r = calloc(1, sizeof(*r));
    const char *files[REPLAY_RUNS];
    SUBM *j = NULL;
    int rc;

    if (r == NULL)
	return ctl_error(c, CTL_EXIT_UNAVAILABLE, "out of memory");
    files[0] = c->cfg_file ? c->cfg_file : CFG_DEFAULT_FILE;
    files[1] = c->opt[CTL_OPT_COMPARE];
    r->out = c->out;
    r->files = c->args;
    r->nfiles = c->nargs;
    if ((rc = options(c, r)) != 0)
	goto out;
    for (r->nruns = 0; r->nruns < REPLAY_RUNS && files[r->nruns]; r->nruns++)
	if ((rc = run_open(c, &r->run[r->nruns], files[r->nruns])) != 0) {
	    r->nruns++;
	    goto out;
	}
    r->cap = r->run[0].cfg->state.max_users + r->run[0].cfg->state.max_clients;
    r->cap = r->cap < 1024 ? 1024 : r->cap > WHO_CAP_MAX ? WHO_CAP_MAX : r->cap;
    if ((r->who = calloc(r->cap, sizeof(*r->who))) == NULL
	|| (j = subm_new(on_subm, r, 0)) == NULL) {
	rc = ctl_error(c, CTL_EXIT_UNAVAILABLE, "out of memory");
	goto out;
    }
    if ((rc = feed(c, r, j)) == 0) {
	subm_stats(j, &r->join);
	rc = report(c, r);
    }
  out:
    subm_free(j);
    for (int k = 0; k < r->nruns; k++)
	run_close(&r->run[k]);
    free(r->who);
    free(r);
    return rc;
}
