/*
 * cfg_check - checks that span several keys: a rule's window and limit
 * against its metric, rule names, overrides against rules, the collector's
 * address against its key. Runs after every value is bound and typed.
 */
#include <string.h>

#include "cfg_impl.h"
#include "stats.h"

_Static_assert(STATS_MAX_RULES <= CFG_RULE_SET_MAX,
	       "a rule set holds every rule a configuration may");

#define TRAVEL_KMH_MAX 100000	/* faster than anything that flies */

/* member - a key of the i-th element of list "path", or the element */
static const config_setting_t *member(config_setting_t *root,
				      const char *path, size_t i,
				      const char *name)
{
    const config_setting_t *l = config_setting_lookup(root, path);
    const config_setting_t *e;

    if (l == NULL || (e = config_setting_get_elem(l, (unsigned) i)) == NULL)
	return NULL;
    if (name == NULL)
	return e;
    return config_setting_get_member(e, name) ? config_setting_get_member(e, name) : e;
}

/* check_rule_limit - the limit a metric needs, and one that can be reached */
static void check_rule_limit(struct cfg_ctx *x, const struct cfg *c,
			     const struct cfg_rule *r, const config_setting_t *rs,
			     const config_setting_t *ls, const char *key)
{
    bool present = ls != NULL && ls != rs;
    enum cfg_metric m = r->metric;

    if (cfg_metric_is_signal(m)) {
	if (present)
	    cfg_error(x, ls, key, "limit does not apply to metric %s",
		      cfg_metric_name(m));
	return;
    }
    if (!present) {
	cfg_error(x, rs, key, "missing; metric %s needs a limit",
		  cfg_metric_name(m));
	return;
    }
    if ((m == CFG_METRIC_DISTINCT_IPS || m == CFG_METRIC_DISTINCT_PREFIXES
	 || m == CFG_METRIC_DISTINCT_COUNTRIES || m == CFG_METRIC_DISTINCT_ASNS
	 || m == CFG_METRIC_UNFAMILIAR_NETWORKS
	 || m == CFG_METRIC_UNFAMILIAR_PLACES || m == CFG_METRIC_NEW_COUNTRIES
	 || m == CFG_METRIC_CARRIER_NETWORKS)
	&& r->limit >= c->state.ips_per_user)
	cfg_error(x, ls, key, "limit %llu can never be exceeded: only "
		  "state.ips_per_user = %u addresses are kept per user",
		  (unsigned long long) r->limit, c->state.ips_per_user);
    if (m == CFG_METRIC_BULK_MESSAGES && r->limit >= CFG_BULK_MESSAGES_MAX)
	cfg_error(x, ls, key, "limit %llu can never be exceeded: bulk_messages "
		  "counts the last bulk message let through and this one",
		  (unsigned long long) r->limit);
    if (m == CFG_METRIC_USERS_PER_IP && r->limit >= STORE_CLIENT_LOGINS)
	cfg_error(x, ls, key, "limit must be below %d (logins kept per client)",
		  STORE_CLIENT_LOGINS);
    if (m == CFG_METRIC_TRAVEL_KMH && (r->limit == 0 || r->limit > TRAVEL_KMH_MAX))
	cfg_error(x, ls, key, "expected a speed from 1 to %d km/h", TRAVEL_KMH_MAX);
}

/* check_requires - a rule's requires name earlier rules: their bits */
static void check_requires(struct cfg_ctx *x, struct cfg *c, size_t i,
			   config_setting_t *root)
{
    struct cfg_rule *r = &c->policy.rules[i];
    char key[CFG_KEY_MAX];

    for (size_t k = 0; k < r->requires.n; k++) {
	int j = cfg_rule_index(c, r->requires.v[k]);

	if (j >= 0 && (size_t) j < i && j < CFG_RULE_SET_MAX) {
	    cfg_rule_set_add(&r->requires_set, (size_t) j);
	    c->policy.rules[j].required = true;
	    continue;
	}
	snprintf(key, sizeof(key), "policy.rules[%zu].requires[%zu]", i, k);
	cfg_error(x, member(root, "policy.rules", i, "requires"), key,
		  "no earlier rule is named \"%s\" (a rule requires rules "
		  "listed before it)", r->requires.v[k]);
    }
}

/* check_block_after - a rule's refusals before its block are a login's
 * (store_strikes.c): only a rule with a block that falls on a login may
 * count them */
static void check_block_after(struct cfg_ctx *x, const struct cfg_rule *r,
			      size_t i, config_setting_t *root)
{
    const config_setting_t *bs = member(root, "policy.rules", i, "block_after");
    char key[CFG_KEY_MAX];

    if (!r->block_window && r->block_after <= 1) {
	snprintf(key, sizeof(key), "policy.rules[%zu].block_window", i);
	cfg_error(x, member(root, "policy.rules", i, "block_window"), key,
		  "block_window = false spares the refusals before "
		  "block_after's block: expected block_after of 2 or more");
    }
    if (r->block_after <= 1)
	return;
    snprintf(key, sizeof(key), "policy.rules[%zu].block_after", i);
    if (r->block_for_s == 0)
	cfg_error(x, bs, key, "block_after counts refusals before the "
		  "rule's block: the rule has no block_for");
    else if (!cfg_metric_has_window(r->metric))
	cfg_error(x, bs, key, "block_after blocks for the rule's window "
		  "before the last refusal: metric %s has none",
		  cfg_metric_name(r->metric));
    else if (r->metric == CFG_METRIC_USERS_PER_IP
	     || r->metric == CFG_METRIC_ROGUE_LISTED)
	cfg_error(x, bs, key, "the block of metric %s falls on the client "
		  "address; block_after counts a login's refusals",
		  cfg_metric_name(r->metric));
    else if (r->applies_to == CFG_APPLIES_INTERNAL
	     || r->applies_to == CFG_APPLIES_EXTERNAL)
	cfg_error(x, bs, key, "a rule for %s mail blocks the client address; "
		  "block_after counts a login's refusals: expected "
		  "authenticated or any", r->applies_to == CFG_APPLIES_INTERNAL
		  ? "internal" : "external");
}

/* check_rule - one rule against its metric */
static void check_rule(struct cfg_ctx *x, const struct cfg *c, size_t i,
		       config_setting_t *root)
{
    const struct cfg_rule *r = &c->policy.rules[i];
    const config_setting_t *rs = member(root, "policy.rules", i, NULL);
    const config_setting_t *ws = member(root, "policy.rules", i, "window");
    char key[CFG_KEY_MAX];
    size_t j;

    for (j = 0; j < i; j++)
	if (strcmp(c->policy.rules[j].name, r->name) == 0) {
	    snprintf(key, sizeof(key), "policy.rules[%zu].name", i);
	    cfg_error(x, member(root, "policy.rules", i, "name"), key,
		      "duplicate rule name \"%s\"", r->name);
	}
    snprintf(key, sizeof(key), "policy.rules[%zu].window", i);
    if (cfg_metric_has_window(r->metric) && ws == rs)
	cfg_error(x, rs, key, "missing; metric %s counts over a window",
		  cfg_metric_name(r->metric));
    if (!cfg_metric_has_window(r->metric) && ws != rs)
	cfg_error(x, ws, key, "window does not apply to metric %s",
		  cfg_metric_name(r->metric));
    if (r->metric == CFG_METRIC_COARSE_MESSAGES_OVER_USUAL && ws != rs
	&& r->window_s != CFG_COARSE_WINDOW_S)
	cfg_error(x, ws, key, "metric %s compares with a usual hour: "
		  "expected \"1h\"", cfg_metric_name(r->metric));
    if (r->metric == CFG_METRIC_RELAYED_MESSAGES_OVER_USUAL && ws != rs
	&& r->window_s != CFG_RELAY_WINDOW_S)
	cfg_error(x, ws, key, "metric %s counts the last hour: expected "
		  "\"1h\"", cfg_metric_name(r->metric));
    snprintf(key, sizeof(key), "policy.rules[%zu].applies_to", i);
    if (cfg_metric_needs_login(r->metric)
	&& r->applies_to != CFG_APPLIES_AUTHENTICATED
	&& r->applies_to != CFG_APPLIES_ANY)
	cfg_error(x, member(root, "policy.rules", i, "applies_to"), key,
		  "metric %s is about SASL logins; expected authenticated or any",
		  cfg_metric_name(r->metric));
    snprintf(key, sizeof(key), "policy.rules[%zu].metric", i);
    if ((r->metric == CFG_METRIC_NEWCOMER_RECIPIENTS
	 || r->metric == CFG_METRIC_NEWCOMER_LINE_RECIPIENTS)
	&& c->policy.site_logins == 0)
	cfg_error(x, member(root, "policy.rules", i, "metric"), key,
		  "metric %s needs policy.site_logins above 0: without the "
		  "site's places and networks it counts nothing",
		  cfg_metric_name(r->metric));
    if ((r->metric == CFG_METRIC_NEWCOMER_LINE_RECIPIENTS
	 || r->metric == CFG_METRIC_REVISIT_MESSAGES
	 || r->metric == CFG_METRIC_ABROAD_LINE_MESSAGES_OVER_USUAL)
	&& c->policy.coarse_km == 0)
	cfg_error(x, member(root, "policy.rules", i, "metric"), key,
		  "metric %s needs policy.coarse_km above 0: it counts at "
		  "lines located finer than it, none with 0",
		  cfg_metric_name(r->metric));
    snprintf(key, sizeof(key), "policy.rules[%zu].limit", i);
    check_rule_limit(x, c, r, rs, member(root, "policy.rules", i, "limit"), key);
    check_block_after(x, r, i, root);
}

/* check_override - one selector, a known rule, something to change */
static void check_override(struct cfg_ctx *x, struct cfg *c, size_t i,
			   config_setting_t *root)
{
    struct cfg_override *o = &c->policy.overrides[i];
    const config_setting_t *os = member(root, "policy.overrides", i, NULL);
    bool has_net = member(root, "policy.overrides", i, "network") != os;
    bool has_limit = member(root, "policy.overrides", i, "limit") != os;
    char key[CFG_KEY_MAX];

    snprintf(key, sizeof(key), "policy.overrides[%zu]", i);
    if ((o->user != NULL) + (o->domain != NULL) + has_net != 1) {
	cfg_error(x, os, key, "expected exactly one of user, domain or network");
	return;
    }
    o->kind = o->user ? CFG_OV_USER : o->domain ? CFG_OV_DOMAIN : CFG_OV_NETWORK;
    if (o->rule_name != NULL && (o->rule = cfg_rule_index(c, o->rule_name)) < 0) {
	snprintf(key, sizeof(key), "policy.overrides[%zu].rule", i);
	cfg_error(x, member(root, "policy.overrides", i, "rule"), key,
		  "no rule is named \"%s\"", o->rule_name);
    }
    if ((o->rule_name != NULL) != has_limit) {
	snprintf(key, sizeof(key), "policy.overrides[%zu].%s", i,
		 has_limit ? "rule" : "limit");
	cfg_error(x, os, key, "rule and limit go together: name the rule whose "
		  "limit this override replaces");
    }
    if (o->rule_name == NULL && o->countries.n == 0)
	cfg_error(x, os, key, "nothing to override: give rule and limit, "
		  "or countries");
}

/* inherit_str - *dst (an absent key's NULL) becomes a copy of src */
static void inherit_str(struct cfg_ctx *x, char **dst, const char *src,
			const char *key)
{
    if (*dst == NULL && src != NULL && (*dst = strdup(src)) == NULL)
	cfg_error(x, NULL, key, "out of memory");
}

/* policyd_inherit - the policyd keys left out take the milter section's
 * values, so a configuration written for the milter alone serves both
 * front ends alike (one dry-run switch, one set of reply texts) */
static void policyd_inherit(struct cfg_ctx *x, struct cfg *c,
			    config_setting_t *root)
{
    struct cfg_policyd *p = &c->policyd;

    inherit_str(x, &p->user, c->milter.user, "policyd.user");
    inherit_str(x, &p->group, c->milter.group, "policyd.group");
    inherit_str(x, &p->reply_tempfail, c->milter.reply_tempfail,
		"policyd.reply_tempfail");
    inherit_str(x, &p->reply_reject, c->milter.reply_reject,
		"policyd.reply_reject");
    if (config_setting_lookup(root, "policyd.dry_run") == NULL)
	p->dry_run = c->milter.dry_run;
    if (config_setting_lookup(root, "policyd.add_header") == NULL)
	p->add_header = c->milter.add_header;
    if (config_setting_lookup(root, "policyd.drain_timeout") == NULL)
	p->drain_s = c->milter.drain_s;
    if (c->policyd.pidfile != NULL && c->milter.pidfile != NULL
	&& strcmp(c->policyd.pidfile, c->milter.pidfile) == 0)
	cfg_error(x, config_setting_lookup(root, "policyd.pidfile"),
		  "policyd.pidfile", "must not be milter.pidfile: both "
		  "daemons may run at once");
}

/* derive - what the engine asks of the rule table at every MAIL, read
 * off it once: is users_per_ip counted (an IPv6 client's /64 noted), is
 * recipients_over_usual judged over the roaming phone's hour (its
 * messages looked for), is a newcomer's line alone looked up */
static void derive(struct cfg *c)
{
    for (size_t i = 0; i < c->policy.nrules; i++) {
	const struct cfg_rule *r = &c->policy.rules[i];

	if (r->metric == CFG_METRIC_USERS_PER_IP)
	    c->policy.counts_users_per_ip = true;
	if (r->metric == CFG_METRIC_RECIPIENTS_OVER_USUAL
	    && r->window_s == CFG_ROAM_RCPTS_W)
	    c->policy.roam_rcpts_judged = true;
	if (r->metric == CFG_METRIC_NEWCOMER_LINE_RECIPIENTS)
	    c->policy.judges_alone_line = true;
    }
}

/* cfg_check - every check across keys */
void cfg_check(struct cfg_ctx *x, struct cfg *c, config_setting_t *root)
{
    size_t i;

    if (c->policy.nrules > STATS_MAX_RULES)
	cfg_error(x, config_setting_lookup(root, "policy.rules"), "policy.rules",
		  "at most %d rules", STATS_MAX_RULES);
    policyd_inherit(x, c, root);
    for (i = 0; i < c->policy.nrules; i++) {
	check_rule(x, c, i, root);
	check_requires(x, c, i, root);
    }
    derive(c);
    for (i = 0; i < c->policy.noverrides; i++)
	check_override(x, c, i, root);
    if (strcmp(c->state.snapshot_path, c->state.path) == 0)
	cfg_error(x, config_setting_lookup(root, "state.snapshot_path"),
		  "state.snapshot_path", "must not be the state file itself");
    if ((*c->collector.address == 0) != (*c->collector.key_file == 0))
	cfg_error(x, config_setting_lookup(root, "collector"),
		  "collector", "address and key_file go together: events are "
		  "signed with the key");
}
