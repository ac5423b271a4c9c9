/*
 * rules - judge one transaction phase: classify, record the observation,
 * honour blocks, evaluate every applicable rule (strongest action wins),
 * start blocks.
 *
 * Contract: no I/O but the store; no clock; no logging. A store failure
 * (lock timeout, table full) yields the configured on_error action, with
 * the status in v->status for the caller to log and count. The verdict
 * struct is reset at the MAIL phase and carried through RCPT and EOM;
 * it holds what the transaction counted until the end of message keeps
 * it or a refusal or rules_give_back() returns it (rules.h).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "geo.h"
#include "metrics.h"
#include "rules.h"

#define MIN_TRAVEL_S 60		/* logins closer in time count as a minute */
#define SECONDS_PER_HOUR 3600.0
#define LAT_MAX_C 9000		/* latitude bound in centidegrees */
#define LON_MAX_C 18000		/* longitude bound in centidegrees */
#define RULES_LIMIT_TEXT 32	/* room for " (limit N)" after evidence */

/* What a rule's block falls on. */
enum { HELD_CLIENT, HELD_USER, HELD_COUNT };

static const char *const class_names[] = {
    "authenticated", "internal", "external", "trusted",
};

/* rules_class_name - printable transaction class */
const char *rules_class_name(enum rules_class c)
{
    return (unsigned) c < sizeof(class_names) / sizeof(class_names[0])
	? class_names[c] : "?";
}

/* rules_verdict_init - a fresh verdict: accept, nothing found */
void rules_verdict_init(struct rules_verdict *v)
{
    memset(v, 0, sizeof(*v));
    v->action = CFG_ACTION_ACCEPT;
    v->rule = -1;
}

/* rules_classify - authenticated, trusted, internal or external: a login
 * makes a session authenticated wherever it comes from (see rules_relayed) */
enum rules_class rules_classify(const struct cfg *cfg, const char *login,
				const struct addr *client)
{
    if (login != NULL && *login != 0)
	return RULES_CLASS_AUTHENTICATED;
    if (addr_cidr_list_match(&cfg->networks.trusted, client))
	return RULES_CLASS_TRUSTED;
    if (addr_cidr_list_match(&cfg->networks.internal, client))
	return RULES_CLASS_INTERNAL;
    return RULES_CLASS_EXTERNAL;
}

/* rules_relayed - an authenticated session from a trusted network: the
 * address is the relay's (webmail), so only the login's rates apply */
bool rules_relayed(const struct cfg *cfg, const char *login,
		   const struct addr *client)
{
    return login != NULL && *login != 0
	&& addr_cidr_list_match(&cfg->networks.trusted, client);
}

/* applies - does a rule's applies_to cover this class? */
static bool applies(enum cfg_applies a, enum rules_class c)
{
    switch (a) {
    case CFG_APPLIES_AUTHENTICATED:
	return c == RULES_CLASS_AUTHENTICATED;
    case CFG_APPLIES_INTERNAL:
	return c == RULES_CLASS_INTERNAL;
    case CFG_APPLIES_EXTERNAL:
	return c == RULES_CLASS_EXTERNAL;
    default:
	return c != RULES_CLASS_TRUSTED;
    }
}

/* whitelisted - users and networks that are never judged */
static bool whitelisted(const struct cfg *cfg, const struct rules_facts *f)
{
    size_t i;

    if (addr_cidr_list_match(&cfg->policy.wl_networks, &f->client))
	return true;
    for (i = 0; f->login && i < cfg->policy.wl_users.n; i++)
	if (strcasecmp(cfg->policy.wl_users.v[i], f->login) == 0)
	    return true;
    return false;
}

/* raise - keep the stronger action (the first rule wins a tie) */
static void raise_action(struct rules_verdict *v, enum cfg_action a, int rule,
			 bool from_block, const char *reason)
{
    size_t n;

    if (a < v->action || (a == v->action && v->reason[0] != 0))
	return;
    v->action = a;
    v->rule = rule;
    v->from_block = from_block;
    n = strnlen(reason, sizeof(v->reason) - 1);
    memcpy(v->reason, reason, n);
    v->reason[n] = 0;
}

/* block_in_force - apply a block of the user or the client; a would-be
 * block of dry run only while dry run lasts. A rule's block names its
 * rule by identity: found by that in this configuration, or unnamed. */
static void block_in_force(const struct cfg *cfg, const struct store_block *b,
			   const char *who, uint32_t now, struct rules_verdict *v)
{
    char reason[RULES_REASON_MAX], left[16], kept[STORE_REASON_MAX];
    int rule;

    if (b->until <= now || ((b->flags & STORE_BLOCK_WOULD) && !cfg->milter.dry_run))
	return;
    memcpy(kept, b->reason, sizeof(kept));	/* a copy: NUL-ended */
    rule = rules_block_rule(cfg, b);
    rules_format_duration(b->until - now, left, sizeof(left));
    snprintf(reason, sizeof(reason), "%s %s for %s more by %s: %s", who,
	     b->flags & STORE_BLOCK_WOULD ? "would be blocked" : "blocked",
	     left, b->setby == STORE_BY_ADMIN ? "admin" : "rule",
	     rule >= 0 ? cfg->policy.rules[rule].name : kept);
    raise_action(v, (enum cfg_action) b->action, rule, true, reason);
}

/* own_place - does the login come from a familiar place of its own,
 * learned (not its learning grace, not the site's, not a learning
 * login's stranger)? It vouches for the address, site-wide; *tenured:
 * and for its network, as one known since learning or for a learning
 * period (metrics_site_voucher). A new line of an own network near home
 * (metrics_new_line: a fine place in a /24 without an anchor of the
 * login) vouches for neither (probe F25: a stolen login vouched for its
 * attacker's address on its owner's ISP); a far one keeps the far
 * place's vouch (site_note: another site of a campus's network). */
static bool own_place(const struct cfg *cfg, const struct rules_facts *f,
		      uint32_t now, const struct store_user *u,
		      uint32_t site_start, bool *tenured)
{
    struct metrics_ctx mc;

    memset(&mc, 0, sizeof(mc));
    mc.cfg = cfg, mc.f = f, mc.now = now, mc.user = u;
    mc.site_start = site_start;
    mc.cls = RULES_CLASS_AUTHENTICATED;
    if (metrics_learning_stranger(&mc, &f->client, f->geo.asn, f->geo.cc))
	return *tenured = false;
    *tenured = metrics_site_voucher(&mc, &f->client, f->geo.asn);
    if (metrics_new_line(&mc, &f->client)	/* F25: not its line yet */
	&& !metrics_far_place(&mc, &f->client, f->geo.asn, NULL))
	return *tenured = false;
    return metrics_own_place(&mc, &f->client, f->geo.asn);
}

/* site_note - with site networks on: a login from a familiar place of
 * its own, known since learning or for a learning period (tenured),
 * vouches for the client's network; one from an own place still young
 * does neither (the place is familiar to it anyway); one from a far
 * place of a tenured own network (metrics_far_place: another site of a
 * campus's research network) vouches and learns whether the network is
 * the site's by now; any other learns whether
 * that network is the site's (v->site). The vouch is noted in v and
 * written at the end of the message if it is let through
 * (rules_vouch.c): here the entry is read, and the message is judged
 * by the copy with its own vouch in it, as when the vouch was written
 * here. A failure of the site's entry (a lock timeout) only leaves it
 * unknown: not the site's. Whether the entry was read is returned, the
 * entry in *site (none: an empty one). */
static bool site_note(const struct cfg *cfg, STORE *st,
		      const struct rules_facts *f, uint32_t now, bool own,
		      bool tenured, struct rules_verdict *v,
		      struct store_client *site)
{
    int s;

    if (cfg->policy.site_logins == 0 || (own && !tenured))
	return false;
    if ((s = store_site_get(st, &f->client, now, site)) == STORE_NOTFOUND)
	memset(site, 0, sizeof(*site));
    else if (s != STORE_OK)
	return false;
    if (own || tenured) {	/* judged with its vouch, written at EOM */
	v->vouch |= RULES_VOUCH_NET;
	store_client_vouch_copy(st, f->login, now, site);
    } else {
	v->neighbour = metrics_neighbour_network(cfg, site, now);
    }
    if (!own)
	v->site = metrics_site_network(cfg, site, now);
    return true;
}

/* record_mail - the observation and its message: the address, its place
 * and login, and one message counted for the login and the client (a
 * relayed session counts for the login only); copies out. A login from
 * a familiar place of its own, known since learning or for a learning
 * period (tenured), vouches for the client address and its network
 * (site_note); a fine own place younger than that vouches for neither:
 * a stolen login warmed from one address for two days made it familiar
 * to every other login (probe-red vouch-ip, 20 of 20 through). A coarse
 * one (a carrier's CGNAT pool) still vouches for its address: two
 * students' phones abroad on one address of their family's carrier
 * (tests/sim campus seed 5). The first message from a fine place
 * vouches less again. Each vouch is only noted here (v->vouch) and
 * written at the end of the message if it is let through (rules_vouch.c). */
static int record_mail(const struct cfg *cfg, const struct rules_facts *f,
		       STORE *st, uint32_t now, uint32_t site_start,
		       struct rules_verdict *v, struct store_user *u,
		       struct store_client *c)
{
    bool user = v->cls == RULES_CLASS_AUTHENTICATED, own = false;
    bool tenured = false, first = false, read = false;
    struct store_client site;
    struct store_user_obs uo = {f->login, f->client, f->geo, 1, 0, 0, NULL,
	v->relayed ? STORE_OBS_COUNT_ONLY | STORE_OBS_RELAYED
	: STORE_OBS_NO_LEARN, &v->user_held, NULL, NULL,
	cfg->policy.coarse_km, 0};
    struct store_client_obs co = {f->client, user ? f->login : NULL, 1, 0, 0,
	0, &v->client_held};
    int s = user ? store_user_update(st, &uo, now, u) : STORE_OK, t = s;
    bool judged = s == STORE_OK && user && !v->relayed;

    if (judged) {
	own = own_place(cfg, f, now, u, site_start, &tenured);
	first = own && rules_vouch_first(cfg, f, u);
	if (own && !first && (tenured || rules_coarse_place(cfg, f)))
	    v->vouch |= RULES_VOUCH_ADDR;	/* at its end: rules_vouch.c */
    }
    if (s == STORE_OK && !v->relayed)
	t = store_client_update(st, &co, now, c);
    if (t == STORE_OK && (v->vouch & RULES_VOUCH_ADDR))
	store_client_vouch_copy(st, NULL, now, c);	/* judged with it */
    if (judged) {		/* the site's entries, the client's updated */
	if (first && t == STORE_OK && rules_vouch_after_other(c, now))
	    own = tenured = false;	/* another login came first */
	read = site_note(cfg, st, f, now, own, tenured, v, &site);
	rules_site_places(cfg, st, f, now, site_start, u, own && tenured, v);
	rules_alone_line(cfg, st, f, now, site_start, u, read ? &site : NULL,
			 v);
	rules_hub_note(cfg, st, f, now, u);
    }
    if (judged && t == STORE_OK && v->site)
	v->site_stranger = rules_site_stranger(cfg, f, c, now);
    return s != STORE_OK ? s : t;
}

/* record_rcpt - one recipient counted; the windows to judge by */
static int record_rcpt(const struct rules_facts *f, STORE *st, uint32_t now,
		       struct rules_verdict *v, struct store_win *uw,
		       struct store_win *cw)
{
    const struct store_span one = {now, 0, 1, 0};
    int s = STORE_OK;

    if (v->cls == RULES_CLASS_AUTHENTICATED)
	s = store_user_count(st, f->login, &one, now, &v->user_held, uw);
    if (s == STORE_OK && !v->relayed)
	s = store_client_count(st, &f->client, &one, now, &v->client_held, cw);
    return s;
}

/* teaches - does a message let through (so far) teach the login and
 * the site? Not one held or from a block; in dry run every message
 * does, as every one goes through. */
static bool teaches(const struct cfg *cfg, const struct rules_verdict *v)
{
    return (v->action <= CFG_ACTION_TAG && !v->from_block)
	|| cfg->milter.dry_run;
}

/* record_eom - the size counted, the queue id kept, and a message let
 * through so far (in dry run: every message, as every one goes through)
 * teaches the login its country, from a familiar place makes the
 * address an anchor (metrics_place.c) and, from its carrier's pool, its
 * usual hour there (rules_carrier.c), all in one update; copies out */
static int record_eom(const struct cfg *cfg, const struct rules_facts *f,
		      STORE *st, uint32_t now, uint32_t site_start,
		      struct rules_verdict *v, struct store_user *u,
		      struct store_client *c)
{
    struct store_user_obs uo = {f->login, f->client, f->geo, 0, 0, f->bytes,
	f->qid, STORE_OBS_COUNT_ONLY, &v->user_held, NULL, NULL, 0, 0};
    struct store_client_obs co = {f->client, NULL, 0, 0, f->bytes,
	STORE_OBS_COUNT_ONLY, &v->client_held};
    struct rules_carrier rc;
    int s = STORE_OK;

    if (teaches(cfg, v) && !v->relayed)
	uo.flags |= STORE_OBS_LEARN | (v->familiar ? STORE_OBS_LEARN_VOLUME
				       | STORE_OBS_ANCHOR : 0)
	    | (v->home && metrics_home_note(f->rcpts) ? STORE_OBS_HOME : 0)
	    | (metrics_bulk_note(f->rcpts) ? STORE_OBS_BULK : 0);
    else if (v->relayed && teaches(cfg, v))
	uo.flags |= STORE_OBS_RELAYED;	/* its hour: store_relay.c */
    rules_carrier_obs(cfg, f, now, site_start, v, &rc, &uo);
    uo.line_km = cfg->policy.coarse_km;
    uo.familiar_days = cfg->policy.familiar_days;
    if (v->cls == RULES_CLASS_AUTHENTICATED)
	s = store_user_update(st, &uo, now, u);
    if (s == STORE_OK && !v->relayed)
	s = store_client_update(st, &co, now, c);
    return s;
}

/* block_holds - must a block in force stay? An admin's stays until it
 * expires or is lifted; a rule's block is only ever extended. A real
 * block replaces a would-be one; dry run never touches a real one. */
static bool block_holds(const struct store_block *b, uint32_t until,
			uint32_t now, bool dry_run)
{
    bool would = (b->flags & STORE_BLOCK_WOULD) != 0;

    if (b->until <= now || (would && !dry_run))
	return false;
    if (dry_run && !would)
	return true;
    return b->setby == STORE_BY_ADMIN || b->until >= until;
}

/* state_failed - the store failed (status s): the message gets
 * milter.on_error if that is stronger than what it has, and the status
 * is the caller's to log and count; rule and from_block: what decided
 * the verdict before (-1 and false: the store's failure alone) */
static void state_failed(const struct cfg *cfg, struct rules_verdict *v,
			 int s, int rule, bool from_block)
{
    v->status = s;
    raise_action(v, cfg->milter.on_error, rule, from_block,
		 store_strerror(s));
}

/* block_due - a rule with block_after fired on a login: count this
 * transaction (once) with its earlier ones within block_for
 * (store_strikes.c); is it the one the block starts at? Its span in
 * *span: block_for from the first refusal counted (to the minute after),
 * so it ends when a block at the first would have. A count that fails
 * is not the block_after'th: the store's failure gets milter.on_error,
 * never a block (it blocked for block_for at once: one lock timeout at
 * an owner's first carrier-volume hold, block_window false, blocked the
 * login for a day). The verdict keeps the rule (or block) that fired
 * when on_error is stronger: note_stop and rules_hop_note note as they
 * would without the failure (note_place read the place, unlike after a
 * failure of MAIL's record). */
static bool block_due(const struct cfg *cfg, const struct cfg_rule *r,
		      STORE *st, const struct rules_facts *f, size_t i,
		      uint32_t now, struct rules_verdict *v, uint32_t *span)
{
    uint32_t first = now, end;
    unsigned n;
    int s;

    if (cfg_rule_set_has(&v->struck, i))
	return false;
    cfg_rule_set_add(&v->struck, i);
    if ((s = store_user_strike(st, f->login, cfg_rule_id(r->name),
			       r->block_for_s, r->block_after, now, &n,
			       &first)) != STORE_OK) {
	state_failed(cfg, v, s, v->rule, v->from_block);
	return false;
    }
    if (n < r->block_after)
	return false;
    end = first + STORE_STRIKE_MIN_S + r->block_for_s;
    *span = end > now + r->block_for_s ? r->block_for_s
	: end > now ? end - now : r->block_for_s;
    return true;
}

/* set_block - a rule's block of the login (HELD_USER) or the client for
 * span seconds, into *held; first: a first block (block_after) */
static void set_block(const struct cfg *cfg, STORE *st,
		      const struct rules_facts *f, const struct cfg_rule *r,
		      int on, uint32_t span, bool first, uint32_t now,
		      struct rules_verdict *v, struct store_block *held)
{
    struct store_block b;

    memset(&b, 0, sizeof(b));
    b.until = now + span;
    b.action = (uint8_t) r->action;
    b.setby = STORE_BY_RULE;
    b.flags = (cfg->milter.dry_run ? STORE_BLOCK_WOULD : 0)
	| (first ? STORE_BLOCK_FIRST : 0)
	| (rules_coarse_place(cfg, f)
	   && (first || !v->from_block
	       || (v->user_block.flags & STORE_BLOCK_COARSE))
	   ? STORE_BLOCK_COARSE : 0);
    b.rule_id = cfg_rule_id(r->name);
    snprintf(b.reason, sizeof(b.reason), "%s", r->name);
    if ((on == HELD_USER ? store_user_block(st, f->login, &b, now)
	 : store_client_block(st, &f->client, &b, now)) == STORE_OK) {
	*held = b;
	v->block_set = true;
	if (b.until > v->block_until)
	    v->block_until = b.until;
    }
}

/* escalate - at MAIL, an attempt a rule's first block refused (the
 * login still trying within the rule's window of a refusal) is one more
 * refusal by the rule: at its block_after'th the login is blocked for
 * block_for. Mobile proxies on the owner's own carrier are places the
 * rule does not judge (it requires an unfamiliar network), so only the
 * block holds them: a first block that lapsed with them still trying
 * let them through (EFFICACY.md round 10 - block). */
static void escalate(const struct cfg *cfg, STORE *st,
		     const struct rules_facts *f, uint32_t now,
		     struct rules_verdict *v)
{
    int i = rules_block_rule(cfg, &v->user_block);
    uint32_t span;

    if (!v->from_block || !(v->user_block.flags & STORE_BLOCK_FIRST)
	|| i < 0 || cfg->policy.rules[i].block_after <= 1
	|| !block_due(cfg, &cfg->policy.rules[i], st, f, (size_t) i, now,
		      v, &span))
	return;
    set_block(cfg, st, f, &cfg->policy.rules[i], HELD_USER, span, false,
	      now, v, &v->user_block);
}

/* fire - a rule exceeded its limit: raise the verdict, maybe block; held
 * has the blocks in force on the client and the user (HELD_*). A rule
 * with block_after blocks a login for block_for at its Nth refusal; a
 * refusal before that blocks it for the rule's window only (a first
 * block, STORE_BLOCK_FIRST), or with block_window false not at all. */
static void fire(const struct cfg *cfg, STORE *st, const struct rules_facts *f,
		 size_t i, const char *ev, uint64_t limit, uint32_t now,
		 struct rules_verdict *v, struct store_block held[HELD_COUNT])
{
    const struct cfg_rule *r = &cfg->policy.rules[i];
    char reason[RULES_REASON_MAX];
    uint32_t span = r->block_for_s;
    bool first = false;
    int on = v->cls == RULES_CLASS_AUTHENTICATED
	&& r->metric != CFG_METRIC_USERS_PER_IP
	&& r->metric != CFG_METRIC_ROGUE_LISTED ? HELD_USER : HELD_CLIENT;

    if (cfg_metric_is_signal(r->metric))
	snprintf(reason, sizeof(reason), "%s", ev);
    else
	snprintf(reason, sizeof(reason), "%s (limit %llu)", ev,
		 (unsigned long long) limit);
    raise_action(v, r->action, (int) i, false, reason);
    if (r->block_for_s == 0 || block_holds(&held[on], now + r->block_for_s,
					   now, cfg->milter.dry_run))
	return;
    if (on == HELD_USER && r->block_after > 1
	&& !block_due(cfg, r, st, f, i, now, v, &span)) {
	if (!r->block_window)
	    return;		/* counted; no block before the Nth */
	span = r->window_s < span ? r->window_s : span;
	first = true;
	if (block_holds(&held[on], now + span, now, cfg->milter.dry_run))
	    return;
    }
    set_block(cfg, st, f, r, on, span, first, now, v, &held[on]);
}

/* append - text after buf's own, cut to fit (evidence is bounded) */
static void append(char *buf, size_t size, const char *sep, const char *text)
{
    size_t n = strnlen(buf, size - 1), k;

    if (n != 0)
	for (; *sep && n < size - 1; sep++)
	    buf[n++] = *sep;
    k = strnlen(text, size - 1 - n);
    memcpy(buf + n, text, k);
    buf[n + k] = 0;
}

/* note_fired - remember a rule fired; keep the evidence of one that
 * other rules require, and give one that requires others theirs */
static void note_fired(const struct cfg_rule *r, size_t i, char *ev,
		       size_t evlen, struct rules_verdict *v)
{
    char both[RULES_REASON_MAX];

    cfg_rule_set_add(&v->fired, i);
    if (!cfg_rule_set_empty(&r->requires_set) && v->signals[0] != 0) {
	memcpy(both, v->signals, sizeof(v->signals));
	both[sizeof(v->signals) - 1] = 0;
	if (strstr(both, ev) == NULL)	/* the same metric as a signal */
	    append(both, sizeof(both) < evlen ? sizeof(both) : evlen, ", ", ev);
	memcpy(ev, both, strlen(both) + 1);
    }
    if (r->required)
	append(v->signals, sizeof(v->signals), ", ", ev);
}

/* evaluate - every rule that applies to this class and phase */
static void evaluate(const struct cfg *cfg, STORE *st, const struct metrics_ctx *mc,
		     uint32_t now, struct rules_verdict *v)
{
    char ev[RULES_REASON_MAX - RULES_LIMIT_TEXT];
    struct store_block held[HELD_COUNT];
    size_t i;

    held[HELD_CLIENT] = v->client_block;
    held[HELD_USER] = v->user_block;
    for (i = 0; i < cfg->policy.nrules; i++) {
	const struct cfg_rule *r = &cfg->policy.rules[i];
	uint64_t value, limit;

	if (!applies(r->applies_to, v->cls) || !metrics_phase(r->metric, mc->f->phase)
	    || !cfg_rule_set_covers(&v->fired, &r->requires_set))
	    continue;
	/* The value first; evidence text only for a rule that fires. */
	value = metrics_eval(r->metric, mc, r->window_s, NULL, 0);
	limit = rules_override_limit(cfg, i, mc->ov, mc->nov);
	if (value <= limit)
	    continue;
	metrics_eval(r->metric, mc, r->window_s, ev, sizeof(ev));
	note_fired(r, i, ev, sizeof(ev), v);
	fire(cfg, st, mc->f, i, ev, limit, now, v, held);
    }
}

/* keep_blocks - the blocks in force at MAIL, for the later phases */
static void keep_blocks(struct rules_verdict *v, const struct store_user *u,
			const struct store_client *c)
{
    memset(&v->user_block, 0, sizeof(v->user_block));
    memset(&v->client_block, 0, sizeof(v->client_block));
    if (v->cls == RULES_CLASS_AUTHENTICATED)
	v->user_block = u->block;
    if (!v->relayed)
	v->client_block = c->block;
}

/* refused - will the front end refuse this transaction? (a dry run lets
 * everything through, so its units stay counted) */
static bool refused(const struct cfg *cfg, const struct rules_verdict *v)
{
    return v->action >= CFG_ACTION_TEMPFAIL && !cfg->milter.dry_run;
}

/* rules_give_back - take back what a refused or aborted transaction
 * counted; the first failure (the rest is still tried) */
int rules_give_back(STORE *st, const char *login, const struct addr *client,
		    uint32_t now, struct rules_verdict *v)
{
    int s = STORE_OK, t = STORE_OK;

    if (v->user_held.n != 0)
	s = store_user_give_back(st, login, &v->user_held, now);
    if (v->client_held.n != 0)
	t = store_client_give_back(st, client, &v->client_held, now);
    if (s == STORE_NOTFOUND)
	s = STORE_OK;		/* reset or evicted: nothing left to take */
    if (t == STORE_NOTFOUND)
	t = STORE_OK;
    return s != STORE_OK ? s : t;
}

/* rules_decided_by - was the verdict's rule one of the metric? */
bool rules_decided_by(const struct cfg *cfg, const struct rules_verdict *v,
		      enum cfg_metric metric)
{
    return v->rule >= 0 && (size_t) v->rule < cfg->policy.nrules
	&& cfg->policy.rules[v->rule].metric == metric;
}

/* note_stop - a message refused at a place not the login's own (not its
 * learned network, pinned or the site's): the day and the network are
 * noted, and the network, not yet familiar, does not count its last day
 * (store_stopday.c: an attacker let through a little and refused the
 * rest each day had its network familiar on the second). A newcomer's
 * refusal by a newcomer rule is noted at its own first place too: that
 * place is its own only by its own mail (metrics_newcomer.c
 * refused_here). Only a refusal the policy decided (a rule, a block in
 * force; one whose strike count failed keeps its rule, block_due): one
 * by milter.on_error alone is the store's failure, and at MAIL it comes
 * before note_place could find the place known, so the login's own home
 * network was noted. */
static void note_stop(const struct cfg *cfg, STORE *st,
		      const struct rules_facts *f, uint32_t now,
		      const struct rules_verdict *v)
{
    bool newcomer = rules_decided_by(cfg, v, CFG_METRIC_NEWCOMER_MESSAGES);

    if (!refused(cfg, v) || (v->rule < 0 && !v->from_block)
	|| v->cls != RULES_CLASS_AUTHENTICATED
	|| v->relayed || (v->known && !newcomer))
	return;
    (void) store_user_stopped(st, f->login,
			      store_net_key(&f->client, f->geo.asn), now);
}

/* note_home - a message from the login's home place refused by its
 * block (a new address of the owner's line: spared spares only those
 * used before) says the owner is at home as one let through: the
 * thief's day abroad that set the block does not count for its network
 * (store_stopday.c; probe-red.mix rcpt-hourly). Refused at MAIL, its
 * recipients are never named: a newsletter counts too (metrics_bulk.c) */
static void note_home(const struct cfg *cfg, STORE *st,
		      const struct rules_facts *f, uint32_t now,
		      const struct rules_verdict *v)
{
    if (f->phase == RULES_PHASE_MAIL && v->from_block && v->home
	&& v->cls == RULES_CLASS_AUTHENTICATED && !v->relayed)
	(void) store_user_home_refused(st, f->login,
				       cfg->policy.familiar_days, now);
}

/* rules_keep_units - see rules.h */
void rules_keep_units(struct rules_verdict *v)
{
    memset(&v->user_held, 0, sizeof(v->user_held));
    memset(&v->client_held, 0, sizeof(v->client_held));
}

/* finish - a refused transaction gives its units back (what a failed
 * give-back leaves stays in v, for the front end's rules_give_back at
 * abort or close to try again); one let through at end of message keeps
 * them, and one that teaches writes its vouch (rules_vouch.c: after the
 * rules of end of message, which may still hold it; a failure leaves
 * the vouch unwritten) */
static void finish(const struct cfg *cfg, STORE *st,
		   const struct rules_facts *f, uint32_t now,
		   struct rules_verdict *v)
{
    note_stop(cfg, st, f, now, v);
    note_home(cfg, st, f, now, v);
    if (refused(cfg, v)) {
	(void) rules_give_back(st, f->login, &f->client, now, v);
    } else if (f->phase == RULES_PHASE_EOM) {
	rules_keep_units(v);
	if (v->vouch != 0 && teaches(cfg, v))
	    (void) rules_vouch_note(st, f, now, v);
	v->vouch = 0;
    }
}

/* prefix_note - at MAIL, an authenticated IPv6 client: its login noted
 * on the client's /64 too, which users_per_ip then counts (a failure
 * only leaves the count per address); without such a rule
 * (policy.counts_users_per_ip, read off the rules at load) nothing reads
 * the entry, so the store is spared the update */
static void prefix_note(const struct cfg *cfg, STORE *st,
			const struct rules_facts *f, uint32_t now,
			const struct rules_verdict *v, struct store_client *c64,
			struct metrics_ctx *mc)
{
    mc->client64 = NULL;
    if (v->cls != RULES_CLASS_AUTHENTICATED || v->relayed
	|| addr_is_v4(&f->client) || !cfg->policy.counts_users_per_ip)
	return;
    if (store_prefix_note(st, &f->client, f->login, now, c64) == STORE_OK)
	mc->client64 = c64;
}

/* record - count this phase's units; what to judge by into mc */
static int record(const struct cfg *cfg, const struct rules_facts *f,
		  STORE *st, uint32_t now, struct rules_verdict *v,
		  struct metrics_ctx *mc, struct store_user *u,
		  struct store_client *c, struct store_client *c64)
{
    bool user = v->cls == RULES_CLASS_AUTHENTICATED;
    int s;

    memset(&c->win, 0, sizeof(c->win));
    memset(&u->win, 0, sizeof(u->win));
    if (f->phase == RULES_PHASE_RCPT)
	s = record_rcpt(f, st, now, v, &u->win, &c->win);
    else if (f->phase == RULES_PHASE_EOM)
	s = record_eom(cfg, f, st, now, mc->site_start, v, u, c);
    else if ((s = record_mail(cfg, f, st, now, mc->site_start, v, u, c))
	     == STORE_OK) {
	keep_blocks(v, u, c);
	mc->user = user ? u : NULL;
	mc->client = v->relayed ? NULL : c;
	prefix_note(cfg, st, f, now, v, c64, mc);
    }
    mc->win = user ? &u->win : &c->win;
    mc->client_win = f->phase == RULES_PHASE_RCPT && !v->relayed ? &c->win
	: NULL;
    return s;
}

/* note_usual - at MAIL: the login's usual busiest hour, a learning
 * login's floor if more, into v and mc (not for a relayed session),
 * before the site-stranger bound reads it (metrics_line_past_day: with
 * no busiest day kept, METRICS_TRIP_DAY_HOURS usual hours) */
static void note_usual(struct metrics_ctx *mc, const struct store_user *u,
		       struct rules_verdict *v)
{
    if (mc->user == NULL || v->relayed)
	return;
    v->usual_msgs = u->usual_msgs;
    v->usual_rcpts = u->usual_rcpts;
    v->usual_floor = metrics_usual_floor(mc, &v->usual_msgs, &v->usual_rcpts);
    mc->usual_msgs = v->usual_msgs, mc->usual_rcpts = v->usual_rcpts;
    mc->usual_floor = v->usual_floor;
}

/* note_place - at MAIL: is the client's network familiar to the login
 * (a relayed session's place is the relay's: not familiar, so it
 * teaches no volume) */
static void note_place(const struct metrics_ctx *mc, const struct store_user *u,
		       struct rules_verdict *v)
{
    const struct store_ip *self;

    if (mc->user != NULL) {	/* the login's own, through a relay too */
	v->prior_rcpts = store_user_prior_rcpts(u, mc->now);
	v->bulk_hour = store_user_bulk_hour(u);
    }
    if (mc->user == NULL || v->relayed)
	return;
    v->familiar = metrics_volume_familiar(mc, &mc->f->client, mc->f->geo.asn,
					  mc->f->geo.cc);
    v->known = metrics_known_place(mc, &mc->f->client, mc->f->geo.asn)
	&& v->familiar;
    self = metrics_user_ip(mc, &mc->f->client);
    v->addr_since = self != NULL ? self->first_seen : 0;
    /* the home place's time serves trip_home and second_home alike */
    v->home = (mc->cfg->policy.trip_home || mc->cfg->policy.second_home)
	&& metrics_home_place(mc);
    v->unknown_place = v->unknown_place && metrics_newcomer_place(mc);
    v->alone_line = v->alone_line && metrics_newcomer_place(mc);
}

/* rules_judge - one phase of one transaction */
int rules_judge(const struct cfg *cfg, STORE *st, const struct rules_facts *f,
		uint32_t now, struct rules_verdict *v)
{
    struct store_user u;
    struct store_client c, c64;
    struct metrics_ctx mc;
    struct metrics_memo memo = {0};
    const struct cfg_override *ov[RULES_OVERRIDES_MAX];
    int s;

    if (f->phase == RULES_PHASE_MAIL)
	rules_verdict_init(v);
    else if (refused(cfg, v))
	return STORE_OK;	/* refused already: nothing more counts */
    v->cls = rules_classify(cfg, f->login, &f->client);
    v->relayed = rules_relayed(cfg, f->login, &f->client);
    if (v->cls == RULES_CLASS_TRUSTED)
	return STORE_OK;
    memset(&mc, 0, sizeof(mc));
    mc.site_start = store_site_start(st, now);
    if ((s = record(cfg, f, st, now, v, &mc, &u, &c, &c64))
	!= STORE_OK) {
	state_failed(cfg, v, s, -1, false);
	finish(cfg, st, f, now, v);
	return s;
    }
    mc.cfg = cfg, mc.f = f, mc.now = now, mc.cls = v->cls;
    mc.relayed = v->relayed, mc.site = v->site, mc.site_place = v->site_place;
    if (f->phase == RULES_PHASE_MAIL)
	note_usual(&mc, &u, v);
    if (f->phase == RULES_PHASE_MAIL && v->site_stranger)	/* rules_neigh.c */
	v->site_stranger = mc.user != NULL && metrics_line_past_day(&mc);
    mc.site_stranger = v->site_stranger;
    mc.neighbour = v->neighbour, mc.unknown_place = v->unknown_place;
    mc.alone_line = v->alone_line;
    if (f->phase == RULES_PHASE_MAIL) {
	note_place(&mc, &u, v);
	rules_family_stay(cfg, st, &mc, v);
	rules_home_back(cfg, st, &mc, v);
	rules_first_left(cfg, st, &mc, v);
	rules_hub_travel(cfg, st, &mc);
    }
    mc.family_stay = v->family_stay, mc.home_back = v->home_back;
    mc.first_left = v->first_left;
    mc.usual_msgs = v->usual_msgs, mc.usual_rcpts = v->usual_rcpts;
    mc.usual_floor = v->usual_floor, mc.prior_rcpts = v->prior_rcpts;
    mc.bulk_hour = v->bulk_hour, mc.roam_msgs = v->roam_msgs;
    if (!(v->whitelisted = whitelisted(cfg, f))) {
	if (f->phase == RULES_PHASE_MAIL) {
	    if (!rules_spared(cfg, &v->user_block, v, f, &mc)) {
		block_in_force(cfg, &v->user_block, "login", now, v);
		escalate(cfg, st, f, now, v);
	    }
	    block_in_force(cfg, &v->client_block, "client", now, v);
	}
	mc.ov = ov;
	mc.nov = rules_override_select(cfg, f->login, f->sender, &f->client, ov,
				 RULES_OVERRIDES_MAX);
	memo.ctx = &mc, mc.memo = &memo;	/* mc stays as it is from here */
	/* the phone's messages only when a rule judges recipients over
	 * the roaming phone's hour (policy.roam_rcpts_judged): else
	 * v->roam_msgs is read by nothing */
	if (f->phase == RULES_PHASE_MAIL && mc.user != NULL
	    && cfg->policy.roam_rcpts_judged)
	    v->roam_msgs = (uint16_t)
		metrics_roaming_phone(&mc, METRICS_ROAM_RCPTS_W);
	evaluate(cfg, st, &mc, now, v);
	if (f->phase == RULES_PHASE_MAIL)
	    rules_hop_note(cfg, st, &mc, v);
    }
    finish(cfg, st, f, now, v);
    return STORE_OK;
}

/* rules_act_now - must the front end apply the verdict in this phase? */
bool rules_act_now(const struct rules_verdict *v, enum rules_phase phase)
{
    return v->action >= CFG_ACTION_TEMPFAIL
	|| (phase == RULES_PHASE_EOM && v->action > CFG_ACTION_ACCEPT);
}

/* rules_reply_for - SMTP reply of a tempfail or reject */
void rules_reply_for(const struct cfg *cfg, const struct rules_verdict *v,
		     struct rules_reply *r)
{
    if (v->action == CFG_ACTION_REJECT) {
	r->rcode = "550", r->xcode = "5.7.1", r->text = cfg->milter.reply_reject;
    } else {
	r->rcode = "451", r->xcode = "4.7.1", r->text = cfg->milter.reply_tempfail;
    }
}

/* rules_format_duration - "90s", "10m", "1h", "1d", "1h30m" */
void rules_format_duration(uint32_t s, char *buf, size_t len)
{
    static const struct {
	uint32_t secs;
	char unit;
    } units[] = { {86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'} };
    size_t i, used = 0;

    buf[0] = 0;
    for (i = 0; i < sizeof(units) / sizeof(units[0]) && used < len; i++) {
	if (s < units[i].secs)
	    continue;
	used += (size_t) snprintf(buf + used, len - used, "%u%c",
				  s / units[i].secs, units[i].unit);
	s %= units[i].secs;
    }
    if (used == 0)
	snprintf(buf, len, "0s");
}

/* place_valid - a place's coordinates are on the globe (a stored place
 * comes from a file any writer can damage) */
static bool place_valid(const struct store_place *p)
{
    return p->lat_c >= -LAT_MAX_C && p->lat_c <= LAT_MAX_C
	&& p->lon_c >= -LON_MAX_C && p->lon_c <= LON_MAX_C;
}

/* rules_travel_kmh - speed between two places, accuracy radii forgiven;
 * 0 when either place is not on the globe */
double rules_travel_kmh(const struct store_place *from,
			const struct store_place *to)
{
    double km;
    uint32_t dt = to->time > from->time ? to->time - from->time : 0;

    if (!place_valid(from) || !place_valid(to))
	return 0;
    km = geo_distance_km(from->lat_c / 100.0, from->lon_c / 100.0,
			 to->lat_c / 100.0, to->lon_c / 100.0);
    km -= (double) from->acc_km + (double) to->acc_km;
    if (!(km > 0))		/* NaN too */
	return 0;
    if (dt < MIN_TRAVEL_S)
	dt = MIN_TRAVEL_S;
    return km / (dt / SECONDS_PER_HOUR);
}

/* rules_geo_facts - a GeoIP answer in the store's compact form */
void rules_geo_facts(const struct geo_info *gi, struct store_geo *out)
{
    memset(out, 0, sizeof(*out));
    memcpy(out->cc, gi->cc, sizeof(out->cc));
    out->cc[2] = 0;
    out->asn = gi->asn;
    if (gi->has_loc) {
	out->lat_c = (int16_t) lround(gi->lat * 100.0);
	out->lon_c = (int16_t) lround(gi->lon * 100.0);
	out->acc_km = gi->acc_km;
	out->has_loc = 1;
    }
}
