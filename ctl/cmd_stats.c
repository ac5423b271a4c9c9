/*
 * cmd_stats - the milter's and relayguard-policyd's counters from the state header: verdicts by
 * action (applied and dry-run), rule firings, blocks, events to the
 * collector, errors, reloads; the store's fill, evictions and lock
 * timeouts, the rogue list the milter loaded (entries, and when the
 * collector wrote it: an old list means the collector stopped writing),
 * when the site was first judged (store_site_start: learning strangers
 * are judged a learning period later, ctl_strangers_from),
 * and whether its file is on a tmpfs with 2 MiB pages
 * (store_huge_pages, reading ctl_mountinfo: on 4 KiB pages every message
 * also misses the TLB). As a table, as JSON, or in the Prometheus text
 * exposition format (version 0.0.4) for node_exporter's textfile
 * collector:
 *
 *   relayguardctl stats --prometheus > DIR/relayguard.prom.$$ &&
 *       mv DIR/relayguard.prom.$$ DIR/relayguard.prom
 *
 * Contract: counters are read with atomic loads; the number of blocks in
 * force needs a walk (copies, one stripe at a time). Rule names come
 * from the configuration given with -c: counters of rule indices it does
 * not name are shown as "rule#N" when nonzero. Counters restart with a
 * new state file ("generation" says which one).
 */
#include <string.h>
#include <unistd.h>

#include "cmd_state.h"
#include "json.h"
#include "stats.h"
#include "table.h"
#include "text.h"

#define LABEL_MAX (2 * CFG_NAME_MAX + 16)
#define LINE_MAX_TEXT 256

/* The single counters, in output order. */
static const struct {
    unsigned idx;
    const char *key;		/* JSON and table key */
    const char *metric;		/* Prometheus name, after "relayguard_" */
    const char *help;
} singles[] = {
    {STATS_MESSAGES, "messages", "messages_total",
     "Messages judged and let through at end of message (accepted, tagged"
     " or held; refusals are in verdicts_total)."},
    {STATS_TRUSTED, "trusted", "trusted_total",
     "Transactions from trusted networks, never judged."},
    {STATS_WHITELISTED, "whitelisted", "whitelisted_total",
     "Transactions of whitelisted users or networks, never judged."},
    {STATS_BLOCKS_SET, "blocks_set", "blocks_set_total",
     "Timed blocks started by rules."},
    {STATS_STATE_ERRORS, "state_errors", "state_errors_total",
     "Transactions given the on_error action: state unavailable."},
    {STATS_GIVE_BACK_ERRORS, "give_back_errors", "give_back_errors_total",
     "Unfinished messages whose counts could not be given back."},
    {STATS_EVENTS_SENT, "events_sent", "events_sent_total",
     "Verdict events sent to the collector."},
    {STATS_EVENTS_DROPPED, "events_dropped", "events_dropped_total",
     "Verdict events dropped: collector away or socket full."},
    {STATS_GEO_ERRORS, "geo_errors", "geo_errors_total",
     "GeoIP answers with invalid data."},
    {STATS_RELOADS, "reloads", "reloads_total",
     "Successful configuration reloads."},
    {STATS_RELOAD_FAILURES, "reload_failures", "reload_failures_total",
     "Configuration reloads refused (the old configuration kept)."},
    {STATS_PD_LINE_LONG, "policyd_line_too_long", "policyd_line_too_long_total",
     "Policy connections closed: a request line over the limit."},
    {STATS_PD_SYNTAX, "policyd_syntax", "policyd_syntax_total",
     "Policy connections closed: a line that is not name=value."},
    {STATS_PD_TOO_BIG, "policyd_request_too_big", "policyd_request_too_big_total",
     "Policy connections closed: a request over the size or line limit."},
    {STATS_PD_UNFINISHED, "policyd_unfinished", "policyd_unfinished_total",
     "Policy connections closed with a request never ended by an empty line."},
    {STATS_PD_UNKNOWN_ATTR, "policyd_unknown_attributes", "policyd_unknown_attributes_total",
     "Policy requests with attributes Postfix does not send."},
    {STATS_PD_FLOOD, "policyd_refused_connections", "policyd_refused_connections_total",
     "Policy connections refused: policyd.max_connections open."},
    {STATS_PD_IDLE, "policyd_idle_closed", "policyd_idle_closed_total",
     "Policy connections closed after policyd.idle_timeout of silence."},
    {STATS_PD_WRITE_STALL, "policyd_write_stalled", "policyd_write_stalled_total",
     "Policy connections closed: an answer not read within policyd.write_timeout."},
};

#define NSINGLES (sizeof(singles) / sizeof(singles[0]))

/* Blocks in force, counted by a walk. */
struct blocked {
    uint32_t users, clients;
};

/* blocked_user_cb - count entries with a block */
static int blocked_user_cb(const struct store_user *u, void *ctx)
{
    ((struct blocked *) ctx)->users += u->block.until != 0
	&& !(u->block.flags & STORE_BLOCK_WOULD);
    return 0;
}

/* blocked_client_cb - see blocked_user_cb */
static int blocked_client_cb(const struct store_client *cl, void *ctx)
{
    ((struct blocked *) ctx)->clients += cl->block.until != 0
	&& !(cl->block.flags & STORE_BLOCK_WOULD);
    return 0;
}

/* count_blocked - walk both tables; store status */
static int count_blocked(struct ctl *c, struct blocked *b)
{
    return ctl_walk(c, blocked_user_cb, blocked_client_cb, b, b, sizeof(*b));
}

/* get - a counter, shorter */
static unsigned long long get(const struct ctl *c, unsigned idx)
{
    return (unsigned long long) store_counter_get(c->st, idx);
}

/* rogue_age - seconds since the collector wrote the loaded rogue list */
static unsigned long long rogue_age(const struct ctl *c)
{
    unsigned long long w = get(c, STATS_ROGUE_WRITTEN);

    return c->now > w ? c->now - w : 0;
}

/* rule_shown - a configured rule, or another index that has fired */
static int rule_shown(const struct ctl *c, unsigned r)
{
    return r < c->cfg->policy.nrules
	|| store_counter_get(c->st, stats_rule_counter(r)) != 0;
}

/* prom_escape - a label value: backslash, quote and newline escaped */
static void prom_escape(const char *in, char *out, size_t len)
{
    size_t o = 0;

    for (; *in && o + 3 < len; in++) {
	if (*in == '\\' || *in == '"') {
	    out[o++] = '\\';
	    out[o++] = *in;
	} else if (*in == '\n') {
	    out[o++] = '\\';
	    out[o++] = 'n';
	} else {
	    out[o++] = *in;
	}
    }
    out[o] = '\0';
}

/* prom_head - the HELP and TYPE lines of a metric */
static void prom_head(FILE *f, const char *name, const char *type,
		      const char *help)
{
    fprintf(f, "# HELP relayguard_%s %s\n# TYPE relayguard_%s %s\n", name,
	    help, name, type);
}

/* prom_actions - one labelled series per action */
static void prom_actions(const struct ctl *c, const char *name,
			 const char *help, unsigned base)
{
    prom_head(c->out, name, "counter", help);
    for (int a = 0; a < CFG_ACTION_COUNT; a++)
	fprintf(c->out, "relayguard_%s{action=\"%s\"} %llu\n", name,
		cfg_action_name((enum cfg_action) a), (unsigned long long)
		store_counter_get(c->st, base + (unsigned) a));
}

/* prom_store - the store's own counters and gauges */
static void prom_store(FILE *f, const struct store_stats *s)
{
    const struct {
	const char *name, *type, *help;
	uint64_t v;
    } m[] = {
	{"store_evictions_total", "counter",
	 "State entries evicted to make room.", s->evictions},
	{"store_site_evictions_total", "counter", "Of them the site's learned"
	 " networks and places (only when no client could go).",
	 s->site_evictions},
	{"store_lock_timeouts_total", "counter",
	 "State lock waits that ran out of time.", s->lock_timeouts},
	{"store_owner_dead_total", "counter", "State locks recovered from a"
	 " process that died holding them.", s->owner_dead_recoveries},
	{"store_stripe_resets_total", "counter",
	 "State stripes cleared because they were damaged.",
	 s->stripe_resets},
	{"users", "gauge", "Logins in the state table.", s->users},
	{"users_capacity", "gauge", "Capacity of the login table.",
	 s->max_users},
	{"clients", "gauge", "Client addresses in the state table.",
	 s->clients},
	{"clients_capacity", "gauge", "Capacity of the client table.",
	 s->max_clients},
    };

    for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
	prom_head(f, m[i].name, m[i].type, m[i].help);
	fprintf(f, "relayguard_%s %llu\n", m[i].name,
		(unsigned long long) m[i].v);
    }
}

/* prometheus - the text exposition format */
static int prometheus(struct ctl *c, const struct store_stats *s,
		      const struct blocked *b, int huge)
{
    FILE *f = c->out;
    char rb[LABEL_MAX], esc[LABEL_MAX];

    prom_actions(c, "verdicts_total", "Verdicts applied, by action.",
		 STATS_VERDICT_BASE);
    prom_actions(c, "dry_run_verdicts_total", "Verdicts that dry-run mode"
		 " logged but did not apply, by action.", STATS_WOULD_BASE);
    for (size_t i = 0; i < NSINGLES; i++) {
	prom_head(f, singles[i].metric, "counter", singles[i].help);
	fprintf(f, "relayguard_%s %llu\n", singles[i].metric,
		(unsigned long long) store_counter_get(c->st, singles[i].idx));
    }
    prom_head(f, "rule_firings_total", "counter", "Times each rule fired.");
    for (unsigned r = 0; r < STATS_MAX_RULES; r++) {
	if (!rule_shown(c, r))
	    continue;
	prom_escape(ctl_rule_name(c, r, rb, sizeof(rb)), esc, sizeof(esc));
	fprintf(f, "relayguard_rule_firings_total{rule=\"%s\"} %llu\n", esc,
		(unsigned long long) store_counter_get(c->st,
						       stats_rule_counter(r)));
    }
    prom_store(f, s);
    prom_head(f, "rogue_list_entries", "gauge",
	      "Entries of the rogue list the milter loaded (0: none).");
    fprintf(f, "relayguard_rogue_list_entries %llu\n", get(c, STATS_ROGUE_ENTRIES));
    prom_head(f, "rogue_list_written_seconds", "gauge", "When the collector wrote"
	      " the loaded rogue list, unix time (0: none loaded).");
    fprintf(f, "relayguard_rogue_list_written_seconds %llu\n",
	    get(c, STATS_ROGUE_WRITTEN));
    prom_head(f, "rogue_list_expired_entries", "gauge", "Entries of the loaded rogue"
	      " list past their expiry (not matched; the list was not rewritten).");
    fprintf(f, "relayguard_rogue_list_expired_entries %llu\n", get(c, STATS_ROGUE_EXPIRED));
    prom_head(f, "blocked", "gauge", "Blocks in force, by kind.");
    fprintf(f, "relayguard_blocked{kind=\"user\"} %u\n", b->users);
    fprintf(f, "relayguard_blocked{kind=\"client\"} %u\n", b->clients);
    prom_head(f, "site_start_seconds", "gauge", "When the site's first"
	      " message was judged, unix time (0: none yet).");
    fprintf(f, "relayguard_site_start_seconds %u\n",
	    store_site_start(c->st, 0));
    prom_head(f, "learning_strangers_from_seconds", "gauge", "When learning"
	      " logins' strangers are judged from, unix time (0: nothing judged"
	      " yet, or policy.learning_strangers off).");
    fprintf(f, "relayguard_learning_strangers_from_seconds %u\n",
	    ctl_strangers_from(c));
    prom_head(f, "store_generation", "gauge",
	      "State file generation (counters restart with a new one).");
    fprintf(f, "relayguard_store_generation %llu\n",
	    (unsigned long long) s->generation);
    if (huge >= 0) {
	prom_head(f, "store_huge_pages", "gauge", "1 if the state file is on"
		  " a tmpfs with 2 MiB pages, 0 if not (left out when unknown).");
	fprintf(f, "relayguard_store_huge_pages %d\n", huge);
    }
    return ferror(f) ? -1 : 0;
}

/* json_actions - "key": {"accept": n, ...} */
static void json_actions(const struct ctl *c, struct json *j,
			 const char *key, unsigned base)
{
    json_key(j, key);
    json_obj(j);
    for (int a = 0; a < CFG_ACTION_COUNT; a++)
	json_kuint(j, cfg_action_name((enum cfg_action) a),
		   store_counter_get(c->st, base + (unsigned) a));
    json_obj_end(j);
}

/* json_time - "key": unix time, or null for 0 */
static void json_time(struct json *j, const char *key, uint32_t t)
{
    json_key(j, key);
    if (t == 0)
	json_null(j);
    else
	json_uint(j, t);
}

/* site_json - "site": when it was first judged, when strangers are */
static void site_json(const struct ctl *c, struct json *j)
{
    json_key(j, "site");
    json_obj(j);
    json_time(j, "start", store_site_start(c->st, 0));
    json_kbool(j, "learning_strangers", c->cfg->policy.learning_strangers);
    json_time(j, "strangers_from", ctl_strangers_from(c));
    json_obj_end(j);
}

/* stats_json - one document */
static int stats_json(struct ctl *c, const struct store_stats *s,
		      const struct blocked *b, int huge)
{
    char rb[LABEL_MAX];
    struct json j;

    json_init(&j, c->out);
    json_obj(&j);
    json_kuint(&j, "now", c->now);
    json_actions(c, &j, "verdicts", STATS_VERDICT_BASE);
    json_actions(c, &j, "dry_run_verdicts", STATS_WOULD_BASE);
    for (size_t i = 0; i < NSINGLES; i++)
	json_kuint(&j, singles[i].key, store_counter_get(c->st,
							 singles[i].idx));
    json_key(&j, "rules");
    json_arr(&j);
    for (unsigned r = 0; r < STATS_MAX_RULES; r++) {
	if (!rule_shown(c, r))
	    continue;
	json_obj(&j);
	json_kstr(&j, "name", ctl_rule_name(c, r, rb, sizeof(rb)));
	json_kuint(&j, "fired", store_counter_get(c->st,
						  stats_rule_counter(r)));
	json_obj_end(&j);
    }
    json_arr_end(&j);
    json_key(&j, "rogue_list");
    json_obj(&j);
    json_kuint(&j, "entries", get(c, STATS_ROGUE_ENTRIES));
    json_kuint(&j, "expired", get(c, STATS_ROGUE_EXPIRED));
    json_key(&j, "written");
    if (get(c, STATS_ROGUE_WRITTEN) == 0)
	json_null(&j);
    else
	json_uint(&j, get(c, STATS_ROGUE_WRITTEN));
    json_key(&j, "age");
    if (get(c, STATS_ROGUE_WRITTEN) == 0)
	json_null(&j);
    else
	json_uint(&j, rogue_age(c));
    json_obj_end(&j);
    json_key(&j, "blocked");
    json_obj(&j);
    json_kuint(&j, "users", b->users);
    json_kuint(&j, "clients", b->clients);
    json_obj_end(&j);
    site_json(c, &j);
    json_key(&j, "store");
    json_obj(&j);
    json_kstr(&j, "path", c->cfg->state.path);
    json_kuint(&j, "users", s->users);
    json_kuint(&j, "max_users", s->max_users);
    json_kuint(&j, "clients", s->clients);
    json_kuint(&j, "max_clients", s->max_clients);
    json_kuint(&j, "ips_per_user", s->ips_per_user);
    json_kuint(&j, "evictions", s->evictions);
    json_kuint(&j, "site_evictions", s->site_evictions);
    json_kuint(&j, "lock_timeouts", s->lock_timeouts);
    json_kuint(&j, "owner_dead_recoveries", s->owner_dead_recoveries);
    json_kuint(&j, "stripe_resets", s->stripe_resets);
    json_kuint(&j, "generation", s->generation);
    json_kuint(&j, "file_size", s->file_size);
    json_key(&j, "huge_pages");
    if (huge < 0)
	json_null(&j);
    else
	json_bool(&j, huge == 1);
    json_obj_end(&j);
    json_obj_end(&j);
    return json_finish(&j);
}

/* actions_line - "accept 12, tag 3, ..." */
static void actions_line(const struct ctl *c, unsigned base, char *buf,
			 size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (int a = 0; a < CFG_ACTION_COUNT && used < len; a++)
	used += (size_t) snprintf(buf + used, len - used, "%s%s %llu",
				  a ? ", " : "",
				  cfg_action_name((enum cfg_action) a),
				  get(c, base + (unsigned) a));
}

/* site_line - since when the site is judged, and from when the
 * strangers of learning logins are (its own first learning period) */
static void site_line(const struct ctl *c, char *line, size_t len)
{
    uint32_t start = store_site_start(c->st, 0), from = ctl_strangers_from(c);
    char since[TEXT_TIME_MAX], when[TEXT_TIME_MAX], period[TEXT_AGE_MAX];
    bool on = c->cfg->policy.learning_strangers;

    text_time(start, since, sizeof(since));
    text_time(from, when, sizeof(when));
    text_left(0, c->cfg->policy.learning_s, period, sizeof(period));
    if (start == 0 && on)
	snprintf(line, len, "no message judged yet; learning strangers are"
		 " judged %s after the first", period);
    else if (start == 0)
	snprintf(line, len, "no message judged yet (learning strangers off)");
    else if (!on)
	snprintf(line, len, "judging since %s (learning strangers off)",
		 since);
    else if (c->now < from)
	snprintf(line, len, "judging since %s; learning strangers judged"
		 " from %s (the site's first %s)", since, when, period);
    else
	snprintf(line, len, "judging since %s; learning strangers judged"
		 " since %s", since, when);
}

/* stats_text - the human table */
static int stats_text(struct ctl *c, const struct store_stats *s,
		      const struct blocked *b, int huge)
{
    static const struct table_col cols[] = {
	{"", TABLE_LEFT, 0, 0, 0}, {"", TABLE_LEFT, 1, 20, 0},
    };
    struct table *t = table_new(cols, 2);
    char line[LINE_MAX_TEXT], key[LABEL_MAX], rb[LABEL_MAX];
    char size[TEXT_SIZE_MAX], acts[LINE_MAX_TEXT], expired[TEXT_SIZE_MAX] = "";
    char site[LINE_MAX_TEXT];
    const char *cells[] = { key, line };
    int rc = t == NULL ? -1 : 0;

#define ROW(k, ...) do { snprintf(key, sizeof(key), "%s", k); \
	snprintf(line, sizeof(line), __VA_ARGS__); \
	rc |= rc == 0 ? table_add(t, cells) : 0; } while (0)
    if (rc == 0) {
	table_no_heading(t);
	table_wrap(t);
    }
    actions_line(c, STATS_VERDICT_BASE, acts, sizeof(acts));
    ROW("verdicts", "%s", acts);
    actions_line(c, STATS_WOULD_BASE, acts, sizeof(acts));
    ROW("dry run", "%s", acts);
    ROW("messages", "%llu judged and let through (accepted, tagged or held),"
	" %llu trusted, %llu whitelisted (never judged)",
	get(c, STATS_MESSAGES), get(c, STATS_TRUSTED),
	get(c, STATS_WHITELISTED));
    for (unsigned r = 0; r < STATS_MAX_RULES; r++) {
	if (!rule_shown(c, r))
	    continue;
	char name[LABEL_MAX];

	snprintf(name, sizeof(name), "rule %s",
		 ctl_rule_name(c, r, rb, sizeof(rb)));
	ROW(name, "%llu fired", get(c, stats_rule_counter(r)));
    }
    ROW("blocks", "%llu set by rules; in force now: %u %s, %u %s",
	get(c, STATS_BLOCKS_SET), b->users, text_plural(b->users, "user",
							"users"),
	b->clients, text_plural(b->clients, "client", "clients"));
    ROW("events", "%llu sent, %llu dropped", get(c, STATS_EVENTS_SENT),
	get(c, STATS_EVENTS_DROPPED));
    text_age(c->now, (uint32_t) get(c, STATS_ROGUE_WRITTEN), size, sizeof(size));
    if (get(c, STATS_ROGUE_EXPIRED))
	snprintf(expired, sizeof(expired), " (%llu expired)", get(c, STATS_ROGUE_EXPIRED));
    if (get(c, STATS_ROGUE_WRITTEN) == 0)
	ROW("rogue list", "none loaded");
    else
	ROW("rogue list", "%llu entries%s, written %s ago", get(c, STATS_ROGUE_ENTRIES),
	    expired, size);
    ROW("errors", "%llu state (on_error applied), %llu GeoIP",
	get(c, STATS_STATE_ERRORS), get(c, STATS_GEO_ERRORS));
    ROW("reloads", "%llu, %llu refused", get(c, STATS_RELOADS),
	get(c, STATS_RELOAD_FAILURES));
    site_line(c, site, sizeof(site));
    ROW("site", "%s", site);
    ROW("users", "%u of %u", s->users, s->max_users);
    ROW("clients", "%u of %u", s->clients, s->max_clients);
    ROW("store", "%llu evictions (%llu of the site's), %llu lock timeouts,"
	" %llu owner-dead recoveries, %llu stripe resets",
	(unsigned long long) s->evictions,
	(unsigned long long) s->site_evictions,
	(unsigned long long) s->lock_timeouts,
	(unsigned long long) s->owner_dead_recoveries,
	(unsigned long long) s->stripe_resets);
    text_size(s->file_size, size, sizeof(size));
    ROW("state file", "%s, %s, generation %llu", c->cfg->state.path, size,
	(unsigned long long) s->generation);
    ROW("pages", "%s", huge == 1 ? "2 MiB (a tmpfs with huge pages)"
	: huge == 0 ? "4 KiB (slower: see run-relayguard.mount)"
	: "not known");
#undef ROW
    if (rc == 0)
	rc = table_print(t, c->out, TABLE_WIDTH);
    table_free(t);
    return rc;
}

const char *ctl_mountinfo = "/proc/self/mountinfo";

/* cmd_stats - stats [--prometheus] */
int cmd_stats(struct ctl *c)
{
    struct store_stats s;
    struct blocked b;
    int rc, huge;

    if (c->opt[CTL_OPT_PROMETHEUS] != NULL && c->json)
	return ctl_usage_error(c, "--prometheus and --json exclude each"
			       " other");
    if ((rc = count_blocked(c, &b)) != STORE_OK)
	return ctl_store_error(c, rc, "blocks");
    if ((rc = store_get_stats(c->st, &s)) != STORE_OK)
	return ctl_store_error(c, rc, "stats");
    huge = store_huge_pages(c->st, ctl_mountinfo);
    if (c->opt[CTL_OPT_PROMETHEUS] != NULL)
	rc = prometheus(c, &s, &b, huge);
    else if (c->json)
	rc = stats_json(c, &s, &b, huge);
    else
	rc = stats_text(c, &s, &b, huge);
    if (rc != 0)
	return ctl_error(c, CTL_EXIT_UNAVAILABLE, "cannot write the output");
    return CTL_EXIT_OK;
}
