/*
 * rules - the policy engine: facts about one SMTP transaction, the live
 * state and the current time in; a verdict with its evidence out.
 *
 * No libmilter, no clock reads, no logging: every front end (the milter,
 * a future policy-delegation server, the golden test driver) calls
 * rules_judge() once per phase of a transaction with the same verdict
 * struct, which carries what earlier phases found. Actions that need the
 * message (tag, quarantine) are decided early and applied at end of
 * message; tempfail and reject apply at once.
 *
 * Counting holds under parallel sessions of one login: each unit is
 * counted in the shared store the moment it is known (the message at
 * MAIL, a recipient at each RCPT, the size at end of message) and the
 * rule compares the sum after that increment, so of N parallel messages
 * over a limit of L exactly the ones past L see a sum above it and are
 * refused at MAIL or RCPT. A transaction the engine refuses gives its
 * units back at once; one the MTA aborts (or a lost connection) gives
 * them back through rules_give_back(), which the front end calls from
 * its abort and close paths. A refused transaction counts nothing more.
 *
 * An authenticated session from a trusted network (webmail, a relay of
 * the site's own) is judged on the login's rates only (v->relayed): its
 * address, place and logins are the relay's, so the address metrics do
 * not apply, the address is not learned and the relay is not counted.
 */
#ifndef RG_RULES_H
#define RG_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "cfg.h"
#include "store.h"

#define RULES_REASON_MAX 256
#define RULES_SIGNALS_MAX 128	/* evidence of required rules that fired */

enum rules_phase {
    RULES_PHASE_MAIL,		/* MAIL FROM: login and client known */
    RULES_PHASE_RCPT,		/* each RCPT TO */
    RULES_PHASE_EOM,		/* end of message: size and queue id known */
};

enum rules_class {
    RULES_CLASS_AUTHENTICATED,
    RULES_CLASS_INTERNAL,
    RULES_CLASS_EXTERNAL,
    RULES_CLASS_TRUSTED,
};

struct rules_facts {
    enum rules_phase phase;
    const char *login;		/* SASL login, NULL or "" when none */
    const char *sender;		/* MAIL FROM address, may be NULL */
    struct addr client;
    struct store_geo geo;	/* the client's place, from GeoIP */
    unsigned geo_caps;		/* GEO_CAP_* of the databases loaded */
    bool rogue_listed;		/* the client is on the collector's list */
    uint32_t rcpts;		/* recipients accepted so far, this one included */
    uint64_t bytes;		/* message size (EOM) */
    const char *qid;		/* queue id, when known */
};

struct rules_verdict {
    enum rules_class cls;
    enum cfg_action action;	/* strongest so far in this transaction */
    int rule;			/* the rule behind action, -1: none */
    bool from_block;		/* a block in force decided it */
    bool relayed;		/* authenticated, from a trusted network */
    bool whitelisted;		/* never judged */
    bool block_set;		/* this transaction started a block */
    struct cfg_rule_set struck;	/* rules of block_after that counted it */
    uint32_t block_until;
    int status;			/* enum store_status of a state failure */
    char reason[RULES_REASON_MAX];
    /* The blocks in force at MAIL, and what this transaction has counted
     * so far (its message at MAIL, each recipient at RCPT, its size at
     * end of message): given back if it is refused or aborted, kept once
     * the end of message lets it through. */
    struct store_block user_block, client_block;
    struct store_held user_held, client_held;
    /* Corroboration: the rules that fired in this transaction so far (by
     * rule index) and the evidence of those other rules require, so a
     * rule with requires says what agreed. */
    struct cfg_rule_set fired;
    char signals[RULES_SIGNALS_MAX];
    /* Found at MAIL: the client's network is a familiar place of the
     * login (learning the usual volume needs one), and the login's
     * busiest usual hour. */
    bool familiar;
    uint16_t usual_msgs, usual_rcpts;
    bool usual_floor;		/* raised to policy.learning_usual_* */
    uint16_t prior_rcpts;	/* the usual recipients hour before today */
    uint16_t bulk_hour;		/* the hour of its last bulk message let
				 * through, 0 none (store_bulk.c) */
    uint16_t roam_msgs;		/* on a roaming trip, the phone's messages
				 * in the last hour (metrics_roaming_phone);
				 * 0 unless a recipients_over_usual rule
				 * has an hour's window (rules.c) */
    /* Found at MAIL: the client's network is the login's own learned
     * place, pinned or the site's (no learning grace), and when the login
     * first sent from the client address (0: now): a rule's login block
     * spares an address it knew before the block under
     * policy.block_unfamiliar_only. */
    bool known;
    uint32_t addr_since;
    /* Found at MAIL: the client is the login's home place
     * (metrics_home_place); a message let through from it is noted. */
    bool home;
    /* Found at MAIL: the client's /24 (/48) is one of the site's networks
     * (policy.site_logins), familiar to every login. */
    bool site;
    /* Found at MAIL: the client is a fine place in one of the site's
     * networks that no other login came from (rules_neigh.c), and the
     * login's messages from the /24 (/48) today are past a backlog day
     * (metrics_line_past_day): the site's network does not make it
     * familiar. */
    bool site_stranger;
    /* Found at MAIL for a login on its first day (metrics_newcomer): the
     * client's AS number or country is one of the site's places, or its
     * /24 (/48) one of the site's networks (rules_site.c). */
    bool site_place;
    /* Found at MAIL for a newcomer or a learning login
     * (metrics_newbulk.c): the client's AS number, country and /24 (/48)
     * are none of the site's, nor pinned or shared with another login;
     * the recipients of every phase count for newcomer_recipients. */
    bool unknown_place;
    /* Found at MAIL for a newcomer or a learning login not at an unknown
     * place: the client is a fine place in a /24 (/48) no other login of
     * the site came from (rules_neigh.c); the recipients of every phase
     * count for newcomer_line_recipients. */
    bool alone_line;
    /* Found at MAIL: another login vouched for the client's /24 (/48)
     * (policy.first_home, metrics_neighbour_network). */
    bool neighbour;
    /* Found at MAIL: what the message vouches for (RULES_VOUCH_*), a
     * login at a familiar place of its own; written at the end of a
     * message let through, never by one refused, held or aborted
     * (rules_vouch.c). */
    unsigned vouch;
    /* Found at MAIL: the login is on a stay at its family's home abroad
     * and the client is one of the stay's (policy.family_stay,
     * metrics_family_stay); the volume rules of every phase read it. */
    bool family_stay;
    /* Found at MAIL: the client's line is the first of a login back
     * home from a stay abroad (policy.first_home, rules_home_back). */
    bool home_back;
    /* Found at MAIL: the client is in the login's first country and
     * another country it learned is more the site's (rules_first_left). */
    bool first_left;
};

struct rules_reply {
    const char *rcode;		/* "451", "550" */
    const char *xcode;		/* "4.7.1", "5.7.1" */
    const char *text;
};

void rules_verdict_init(struct rules_verdict *v);
int rules_judge(const struct cfg *cfg, STORE *st, const struct rules_facts *f,
		uint32_t now, struct rules_verdict *v);
bool rules_act_now(const struct rules_verdict *v, enum rules_phase phase);
void rules_reply_for(const struct cfg *cfg, const struct rules_verdict *v,
		     struct rules_reply *r);
enum rules_class rules_classify(const struct cfg *cfg, const char *login,
				const struct addr *client);
bool rules_relayed(const struct cfg *cfg, const char *login,
		   const struct addr *client);
int rules_give_back(STORE *st, const char *login, const struct addr *client,
		    uint32_t now, struct rules_verdict *v);
/* The units counted so far stay counted: a later refusal or give-back
 * returns only what is counted after this. */
void rules_keep_units(struct rules_verdict *v);
const char *rules_class_name(enum rules_class c);
uint64_t rules_limit_for(const struct cfg *cfg, size_t rule, const char *login,
			 const char *sender, const struct addr *client);

/* rules_override.c: the overrides selecting a transaction (at most
 * max, in out[]), and a rule's limit among them (its own without one). */
#define RULES_OVERRIDES_MAX 64	/* overrides one transaction can match */
size_t rules_override_select(const struct cfg *cfg, const char *login,
			     const char *sender, const struct addr *client,
			     const struct cfg_override **out, size_t max);
uint64_t rules_override_limit(const struct cfg *cfg, size_t rule,
			      const struct cfg_override *const *sel, size_t n);

/* Helpers shared by the metric functions and the front ends. */
struct geo_info;
void rules_geo_facts(const struct geo_info *gi, struct store_geo *out);
void rules_format_duration(uint32_t s, char *buf, size_t len);
double rules_travel_kmh(const struct store_place *from,
			const struct store_place *to);

/* rules_site.c: at MAIL, a login from a tenured own place (vouch)
 * vouches for the client's AS number and country as the site's places;
 * for a newcomer (metrics_newcomer) v->site_place says whether either
 * (or the client's network) is the site's already; for a newcomer or a
 * learning login (metrics_newbulk_learner) v->unknown_place whether
 * none is. */
void rules_site_places(const struct cfg *cfg, STORE *st,
		       const struct rules_facts *f, uint32_t now,
		       uint32_t site_start, const struct store_user *u,
		       bool vouch, struct rules_verdict *v);

/* rules_site.c: at MAIL, with policy.family_stay: a line of the
 * login's day (a fine place seen within a day) in a country without a
 * home place of the login, in a /24 (/48) another login vouched for
 * within METRICS_SITE_WINDOW_S (mc->family, mc->family_line); then
 * whether the login is on a stay at that family's home (v->family_stay,
 * metrics_family_stay). */
struct metrics_ctx;
void rules_home_back(const struct cfg *cfg, STORE *st,
		     const struct metrics_ctx *mc, struct rules_verdict *v);
void rules_family_stay(const struct cfg *cfg, STORE *st,
		       struct metrics_ctx *mc, struct rules_verdict *v);
/* rules_site.c: at MAIL, is the client in the login's first country
 * while another country the login learned is vouched for by more of the
 * site's people (v->first_left: the account began abroad and its owner
 * lives in the site's country now)? */
void rules_first_left(const struct cfg *cfg, STORE *st,
		      const struct metrics_ctx *mc, struct rules_verdict *v);
/* rules_vouch.c: at MAIL, is this the login's first message from the
 * client address, at a fine place (after the login's update: then it
 * does not vouch for the address), and did another login come from it
 * within a day (the client's entry c after its update: then not for its
 * /24 (/48) either)? */
bool rules_vouch_first(const struct cfg *cfg, const struct rules_facts *f,
		       const struct store_user *u);
bool rules_vouch_after_other(const struct store_client *c, uint32_t now);
/* rules_vouch.c: what a message vouches for, found at MAIL, kept in
 * the verdict and written by rules_vouch_note at the end of a message
 * let through: the client address (familiar to every login for a day),
 * its /24 (/48), its AS number and its country (the site's). */
#define RULES_VOUCH_ADDR 1u
#define RULES_VOUCH_NET 2u
#define RULES_VOUCH_AS 4u
#define RULES_VOUCH_CC 8u
int rules_vouch_note(STORE *st, const struct rules_facts *f, uint32_t now,
		     const struct rules_verdict *v);
/* rules_neigh.c: at MAIL, after the client's update (c): is the client,
 * in one of the site's networks, a fine place no other login came from
 * (v->site_stranger, then bounded by metrics_line_past_day)? */
bool rules_site_stranger(const struct cfg *cfg, const struct rules_facts *f,
			 const struct store_client *c, uint32_t now);
/* rules_neigh.c: at MAIL, after rules_site_places: a newcomer or a
 * learning login at a line no neighbourhood of the site's people
 * (v->alone_line)? site: the client network's site entry as site_note
 * read it, or NULL (then read here). */
void rules_alone_line(const struct cfg *cfg, STORE *st,
		      const struct rules_facts *f, uint32_t now,
		      uint32_t site_start, const struct store_user *u,
		      const struct store_client *site,
		      struct rules_verdict *v);
/* rules_hub.c: the site's shared egresses (a carrier's hub located
 * finer than coarse_km). rules_hub_note: at MAIL after the login's
 * update, a new address at a place where the login has an anchor in
 * another network within the hour notes the place; rules_hub_travel: at
 * MAIL, is the previous located place or the client's one, or the
 * previous address one site_logins logins share (mc->hub)? */
void rules_hub_note(const struct cfg *cfg, STORE *st,
		    const struct rules_facts *f, uint32_t now,
		    const struct store_user *u);
void rules_hub_travel(const struct cfg *cfg, STORE *st, struct metrics_ctx *mc);
/* rules.c: was the verdict's rule (its index in the policy)
 * one of the metric? */
bool rules_decided_by(const struct cfg *cfg, const struct rules_verdict *v,
		      enum cfg_metric metric);
/* rules_spare.c: the rule that set a block (cfg_rule_by_id), -1 for an
 * admin's or a rule no longer configured; whether the client is located
 * only coarsely (policy.coarse_km: a carrier pool, a VPN exit); whether
 * a login's block b passes this place by (policy.block_unfamiliar_only:
 * the owner's own places, never the attacker's). */
int rules_block_rule(const struct cfg *cfg, const struct store_block *b);
bool rules_coarse_place(const struct cfg *cfg, const struct rules_facts *f);
bool rules_spared(const struct cfg *cfg, const struct store_block *b,
		  const struct rules_verdict *v, const struct rules_facts *f,
		  const struct metrics_ctx *mc);

/* rules_hop.c: at the end of MAIL's evaluation, a message held by a
 * carrier_networks rule from a pool not the login's own notes the day
 * and the network (store_user_stopped; metrics_pool_own reads it). */
void rules_hop_note(const struct cfg *cfg, STORE *st,
		    const struct metrics_ctx *mc, const struct rules_verdict *v);

/* rules_carrier.c: at the end of a message let through from a coarse
 * address of a familiar network, the login's update (uo) learns its
 * usual hour there and notes its hub; rc (what the note reads) must
 * outlive the update. */
struct rules_carrier {
    const struct cfg *cfg;
    const struct rules_facts *f;
    uint32_t now, site_start;
};
void rules_carrier_obs(const struct cfg *cfg, const struct rules_facts *f,
		       uint32_t now, uint32_t site_start,
		       const struct rules_verdict *v, struct rules_carrier *rc,
		       struct store_user_obs *uo);

#endif
