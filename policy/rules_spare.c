/*
 * rules_spare - which places a login's block passes by: under
 * policy.block_unfamiliar_only a rule's block spares the owner's own
 * places (its learned addresses, its carrier's pool while it travels,
 * its home line under a new address after a block its phone set), and
 * never the attacker's. Split from rules.c, which asks rules_spared()
 * when a block is in force.
 */
#include <string.h>

#include "metrics.h"
#include "rules.h"

#define RULES_PHONE_NIGHT_S (6 * 3600u)	/* phone_block_home: the night */

/* rules_block_rule - the rule that set a block, by its identity in this
 * configuration (cfg_rule_by_id); -1 for an admin's block or a rule no
 * longer there */
int rules_block_rule(const struct cfg *cfg, const struct store_block *b)
{
    char kept[STORE_REASON_MAX];

    if (b->setby != STORE_BY_RULE)
	return -1;
    memcpy(kept, b->reason, sizeof(kept));	/* a copy: NUL-ended */
    kept[sizeof(kept) - 1] = 0;
    return cfg_rule_by_id(cfg, b->rule_id, kept);
}

/* rules_coarse_place - is the client located only coarsely (a carrier's
 * CGNAT pool, a VPN exit: geo accuracy radius of policy.coarse_km or
 * more)? */
bool rules_coarse_place(const struct cfg *cfg, const struct rules_facts *f)
{
    uint32_t k = cfg->policy.coarse_km;

    return k != 0 && f->geo.has_loc && f->geo.acc_km >= k;
}

/* unfamiliar_rule - does the rule judge unfamiliar places only (it
 * requires a rule of the unfamiliar_network metric)? Its refusals were
 * never at a place the login knows. */
static bool unfamiliar_rule(const struct cfg *cfg, int rule)
{
    const struct cfg_rule *r;

    if (rule < 0)
	return false;
    r = &cfg->policy.rules[rule];
    for (size_t j = 0; j < cfg->policy.nrules; j++)
	if (cfg_rule_set_has(&r->requires_set, j)
	    && cfg->policy.rules[j].metric == CFG_METRIC_UNFAMILIAR_NETWORK)
	    return true;
    return false;
}

/* line_block - was the login's block set at a fine place (not
 * STORE_BLOCK_COARSE) by a rule (rule: rules_block_rule's) of
 * unfamiliar places (unfamiliar_rule)
 * while every unfamiliar address at home in the last day was one
 * subscriber's line (metrics_stranger_line)? A
 * login's first home line on a busy day, after a learning week on the
 * phone only, is refused past the usual hour + 1 and the login blocked
 * for the day; its owner's own phone, on the pool learned all week,
 * was refused with it (tests/sim T mobile-heavy 105 u102: 5 of its 38
 * messages held). Whoever is on that line, the phone is elsewhere: a
 * thief there stays refused at the line; proxies (many addresses) and a
 * block set at a carrier's pool spare nothing more than before. A block
 * renewed by a refusal at the owner's own coarse network keeps no
 * STORE_BLOCK_COARSE when the block it renews had none (set_block): the
 * rule's kind says the refusal was not there. Only a pool in one of the
 * login's usual countries: the phone the line's block caught is the one
 * at home. A pool abroad the login knows (a local SIM of an old stay:
 * one ASN, any of its customers) is the thief's next stop after its
 * line (golden settled_day_after_stay.case: 6 of 6 let through under
 * the line's block on h-merge29). */
static bool line_block(const struct cfg *cfg, int rule,
		       const struct store_block *b,
		       const struct rules_facts *f,
		       const struct metrics_ctx *mc)
{
    return f->geo.cc[0] != 0 && metrics_usual_country(mc, f->geo.cc)
	&& !(b->flags & STORE_BLOCK_COARSE)
	&& unfamiliar_rule(cfg, rule)
	&& metrics_stranger_line(mc, 86400);
}

/* shared_own_address - is the client's address (of a place the login
 * knows, see spared) a coarse one: a carrier's CGNAT pool or a VPN exit,
 * located only to a hub city or a country (geo accuracy radius of at
 * least policy.coarse_km)? Such a network hands the owner a new address
 * for each connection, so "sent from before the block" never holds for
 * the owner's own phone; a home line keeps its address for a day. Not
 * while the login also came from an unfamiliar network at home in the
 * last day: then the attack is in the owner's country (mobile proxies,
 * some on the owner's own carrier), not at a hotel abroad; unless that
 * stranger was one line alone and the block was set at a fine place
 * (line_block): the block then says where the stranger is, and it is
 * not the owner's phone. */
static bool shared_own_address(const struct cfg *cfg, int rule,
			       const struct store_block *b,
			       const struct rules_facts *f,
			       const struct metrics_ctx *mc)
{
    return rules_coarse_place(cfg, f)
	&& (!metrics_stranger_at_home(mc, 86400) || line_block(cfg, rule, b, f, mc));
}

/* travel_pool - is the client on the login's own carrier pool
 * (metrics_pool_network: anchors in 3 /24s /48s of its network) while
 * the block was set by a travel rule (travel_kmh)? The pool is no place
 * for travel (rules_hub_travel): a roaming phone is routed home, located
 * at its carrier's hub while its owner sits in a hotel abroad, so a
 * block that travel set says nothing about the phone, as it says nothing
 * about a coarse carrier's (shared_own_address). A carrier located finer
 * than coarse_km held the traveller's phone for the hour after the
 * hotel's first message (tests/sim T shuffle 108 u148: 5 roaming
 * messages, u052 2; shuffle 110 u080 1). Not while the login also came
 * from an unfamiliar network at home in the last day, as there. */
static bool travel_pool(const struct cfg *cfg, int rule,
			const struct rules_facts *f,
			const struct metrics_ctx *mc)
{
    struct store_ip here = {.ip = f->client, .asn = f->geo.asn};

    return rule >= 0 && cfg->policy.rules[rule].metric == CFG_METRIC_TRAVEL_KMH
	&& mc->user != NULL && metrics_pool_network(mc, &here)
	&& !metrics_stranger_at_home(mc, 86400);
}

/* block_span - how long a rule's block lasts from its first refusal:
 * the rule's window for a first block (STORE_BLOCK_FIRST), else its
 * block_for; so b->until less this is when it was set */
static uint32_t block_span(const struct cfg *cfg, int rule,
			   const struct store_block *b)
{
    return b->flags & STORE_BLOCK_FIRST ? cfg->policy.rules[rule].window_s
	: cfg->policy.rules[rule].block_for_s;
}

/* phone_block_home - is the client the login's home line under a new
 * address while its block was set at a coarse place only (its phone on
 * a carrier's pool, a VPN exit: STORE_BLOCK_COARSE)? The home place
 * (metrics_home_place: a fine place of a network the login learned as
 * its own, near its places, vouched for) on the AS number of a line the
 * login remembers as an anchor, within that line's radius: the owner's
 * ISP moved the line to another /24 overnight (tests/sim X default,
 * harsh, retry seed 5 u106: the phone, unused while learning, held at
 * its 5th message in an hour and the login blocked for the day; the
 * next morning's home line, a new /24 of the same ISP in the same
 * town, refused 9 times). A thief on a line of the owner's ISP in the
 * owner's town is refused there first, which sets the block at a fine
 * place: that block spares it no more than before. One who was refused
 * at the carrier's pool first gets nothing either: the block's first
 * refusal must be RULES_PHONE_NIGHT_S before (u106: 14.5 hours, the
 * night), and the client the one line of the AS new since it
 * (metrics_home_line_alone: proxies take a new address a connection;
 * golden phone_block_thief.case, h-merge28 let 21 of 21 through).
 * (The phone is the day's unfamiliar network at home:
 * metrics_stranger_at_home, which shared_own_address asks, would always
 * say yes here.) */
static bool phone_block_home(const struct cfg *cfg, int rule,
			     const struct store_block *b,
			     const struct rules_facts *f,
			     const struct metrics_ctx *mc)
{
    uint32_t set;

    if (!(b->flags & STORE_BLOCK_COARSE) || rules_coarse_place(cfg, f)
	|| rule < 0 || mc->user == NULL)
	return false;
    set = b->until - block_span(cfg, rule, b);	/* its first refusal */
    if (b->until < set || mc->now < set + RULES_PHONE_NIGHT_S
	|| !metrics_home_place(mc) || !metrics_home_line_alone(mc, set))
	return false;
    for (uint32_t i = 0; i < mc->user->nips && i < STORE_IPS_MAX; i++) {
	const struct store_ip *a = &mc->user->ips[i];

	if (store_ip_anchor(a) && metrics_ip_fine(mc, a)
	    && a->lat_c != STORE_NO_LOC
	    && metrics_line_near(mc, a, store_ip_radius(a)))
	    return true;
    }
    return false;
}

/* settled_day - was the block set by unusual-volume (messages over the
 * usual hour) on an earlier UTC day, and is the login settled on a stay
 * abroad today (metrics_settled: a stay since an earlier day, nothing
 * from home since, yesterday's unfamiliar messages, refused ones
 * included, all there and within its busiest day)? Then the stay's day
 * is judged as trip_settled judges it, against the usual day: a day's
 * block from the stay's first evening (a backlog past the usual hour)
 * held the next morning's mail too (tests/sim T wide 108 u017, a heavy
 * sender's landing day at the family's in Spain: 14 of its second day's
 * messages refused under the block). A thief sends on after the first
 * refusal (every trip-slow run: 40-200 a day, the busiest honest day
 * much less): yesterday is past the busiest day, nothing is spared. One
 * who stops at the victim's busiest day gains the hours from midnight
 * to the block's end, no more mail a day than it gets by waiting. At
 * the stay's network familiar since, yesterday's unfamiliar messages
 * must have been there too, within the busiest day
 * (metrics_stay_yesterday): familiarity is the network's, one ASN of a
 * carrier or ISP, so without it a block a thief set at home was lifted
 * the next day on every network of an old stay's country, any customer
 * or proxy there (golden settled_day_after_stay.case: 6 of 6 let
 * through on h-merge29). */
static bool settled_day(const struct cfg *cfg, int rule,
			const struct store_block *b,
			const struct rules_verdict *v,
			const struct rules_facts *f,
			const struct metrics_ctx *mc)
{
    uint32_t set;

    if (rule < 0 || mc->user == NULL
	|| cfg->policy.rules[rule].metric != CFG_METRIC_MESSAGES_OVER_USUAL)
	return false;
    set = b->until - block_span(cfg, rule, b);	/* its first refusal */
    if (b->until < set || set / STORE_DAY_S >= mc->now / STORE_DAY_S)
	return false;
    if (v->familiar && f->geo.cc[0] != 0
	&& !metrics_usual_country(mc, f->geo.cc)
	&& !metrics_home_country(mc, f->geo.cc)
	&& metrics_stay_yesterday(mc, f->geo.cc))
	return true;	/* the stay's network, familiar since: no stranger's */
    return metrics_settled(mc);
}

/* rules_spared - does a login's block pass this place by? Only a rule's
 * block, only under policy.block_unfamiliar_only, and only an address
 * the login sent from before the block was set, in its own learned
 * network, a pinned one or the site's: the owner's mail goes on, the
 * attacker's places stay refused, also new addresses of the owner's own
 * ISP or carrier (residential proxies there), but for the home line's
 * new address under a block the phone set (phone_block_home). An
 * admin's block holds everywhere. */
bool rules_spared(const struct cfg *cfg, const struct store_block *b,
		  const struct rules_verdict *v, const struct rules_facts *f,
		  const struct metrics_ctx *mc)
{
    int rule;

    if (!cfg->policy.block_unfamiliar_only || b->setby != STORE_BY_RULE)
	return false;
    rule = rules_block_rule(cfg, b);
    if (settled_day(cfg, rule, b, v, f, mc))
	return true;		/* an unfamiliar place, but the stay's */
    if (!v->known)
	return false;
    /* a newcomer's first place is its own only by its own mail: a block
     * by newcomer-volume spares none (metrics_newcomer.c) */
    if (rule >= 0
	&& cfg->policy.rules[rule].metric == CFG_METRIC_NEWCOMER_MESSAGES)
	return false;
    /* a block by carrier-volume does not spare the pool it was set on:
     * a run of proxies at one hub would slip past the rule's own test;
     * nor an address of it sent from before the block: those are the
     * proxies' own exits, whose messages set it (golden
     * spared_exit.case: six of six through the next night) */
    if (rule >= 0 && cfg->policy.rules[rule].metric
	== CFG_METRIC_COARSE_MESSAGES_OVER_USUAL && rules_coarse_place(cfg, f))
	return false;
    if (shared_own_address(cfg, rule, b, f, mc) || travel_pool(cfg, rule, f, mc)
	|| phone_block_home(cfg, rule, b, f, mc))
	return true;
    if (v->addr_since == 0 || rule < 0)
	return false;
    return (uint64_t) v->addr_since + block_span(cfg, rule, b) < b->until;
}
