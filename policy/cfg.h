/*
 * cfg - the relayguard configuration: one libconfig file read once into an
 * immutable typed struct through descriptor tables.
 *
 * Contract: cfg_load() returns a fully validated struct cfg or NULL with
 * every error ("FILE:LINE: KEY: what was expected", one per line) in err.
 * The struct is never modified after load; a reload builds a new one and
 * the caller swaps it in. cfg_free() releases everything.
 */
#ifndef RG_CFG_H
#define RG_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"

#define CFG_DEFAULT_FILE "/etc/relayguard/relayguard.conf"
/* A unix socket only the MTA's group reaches, where Debian's chrooted
 * Postfix finds it (unix:relayguard/milter.sock in main.cf) */
#define CFG_DEFAULT_SOCKET "unix:/var/spool/postfix/relayguard/milter.sock"
#define CFG_NAME_MAX 32		/* rule names */
#define CFG_REPLY_MAX 200	/* SMTP reply texts */

/* The graduated ladder; the order is the strength (strongest wins). */
enum cfg_action {
    CFG_ACTION_ACCEPT = 0,
    CFG_ACTION_TAG,
    CFG_ACTION_QUARANTINE,
    CFG_ACTION_TEMPFAIL,
    CFG_ACTION_REJECT,
    CFG_ACTION_COUNT
};

enum cfg_applies {
    CFG_APPLIES_AUTHENTICATED = 0,
    CFG_APPLIES_INTERNAL,
    CFG_APPLIES_EXTERNAL,
    CFG_APPLIES_ANY,
    CFG_APPLIES_COUNT
};

enum cfg_metric {
    CFG_METRIC_DISTINCT_IPS = 0,
    CFG_METRIC_DISTINCT_PREFIXES,
    CFG_METRIC_DISTINCT_COUNTRIES,
    CFG_METRIC_DISTINCT_ASNS,
    CFG_METRIC_NEW_COUNTRY,
    CFG_METRIC_TRAVEL_KMH,
    CFG_METRIC_MESSAGES,
    CFG_METRIC_RECIPIENTS,
    CFG_METRIC_BYTES,
    CFG_METRIC_USERS_PER_IP,
    CFG_METRIC_ROGUE_LISTED,
    CFG_METRIC_UNFAMILIAR_NETWORK,	/* the client's network is not one of
					 * the login's or the site's */
    CFG_METRIC_UNFAMILIAR_NETWORKS,	/* distinct such networks in a window */
    CFG_METRIC_MESSAGES_OVER_USUAL,	/* messages past the login's busiest hour */
    CFG_METRIC_RECIPIENTS_OVER_USUAL,
    CFG_METRIC_UNFAMILIAR_MESSAGES,	/* messages from unfamiliar addresses */
    CFG_METRIC_NEW_NETWORK,	/* a network the login never sent from */
    CFG_METRIC_UNFAMILIAR_PLACES,	/* unfamiliar networks, those of one
					 * new country counted as one place */
    CFG_METRIC_UNFAMILIAR_MESSAGES_OVER_USUAL,	/* the same, less a usual
						 * day for a trip abroad */
    CFG_METRIC_COARSE_MESSAGES_OVER_USUAL,	/* from the login's own carrier
					 * pool, past its usual hour there */
    CFG_METRIC_NEW_COUNTRIES,	/* distinct countries not usual to it */
    CFG_METRIC_RECIPIENTS_OVER_PRIOR_USUAL,	/* recipients past the usual
					 * hour as it stood before today */
    CFG_METRIC_RELAYED_MESSAGES_OVER_USUAL,	/* through a trusted relay
					 * (webmail) in the last hour, past
					 * the login's busiest hour */
    CFG_METRIC_CARRIER_NETWORKS,	/* carriers' pools of the login's
					 * country in a window (mobile proxies) */
    CFG_METRIC_REVISIT_MESSAGES,	/* from a place abroad taken up again
					 * today after a day without it */
    CFG_METRIC_SHARED_MESSAGES_OVER_USUAL,	/* from the site's shared
					 * exits (VPN, NAT), past the login's
					 * busiest day */
    CFG_METRIC_NEWCOMER_MESSAGES,	/* a login's first day, at no place
					 * the site knows */
    CFG_METRIC_NEWCOMER_RECIPIENTS,	/* ... and its learning week: its
					 * recipients there */
    CFG_METRIC_BULK_MESSAGES,	/* bulk messages in a window, this one
				 * among them (metrics_bulk.c) */
    CFG_METRIC_NEW_EXIT,	/* a shared exit of the site (VPN, NAT)
				 * new to the login today */
    CFG_METRIC_PRIOR_RECIPIENTS_OVER_USUAL,	/* recipients past the usual
					 * hour as it stood before today, a
					 * bulk message's margin and all */
    CFG_METRIC_NEWCOMER_LINE_RECIPIENTS,	/* ... newcomer_recipients on a
					 * line no other login's /24 */
    CFG_METRIC_ABROAD_LINE_MESSAGES_OVER_USUAL,	/* from a line abroad of
					 * the login's own network, past its
					 * busiest day before today */
    CFG_METRIC_COUNT
};

/* coarse_messages_over_usual compares its window's messages with a usual
 * hour learned over this many seconds (rules_carrier.c): the only window
 * a rule of it may have (cfg_check.c) */
#define CFG_COARSE_WINDOW_S 3600u
/* bulk_messages counts the last bulk message let through (its hour is
 * all the login keeps of them, store_bulk.c) and the one being judged:
 * a rule's limit must be below this (cfg_check.c) */
#define CFG_BULK_MESSAGES_MAX 2u
/* relayed_messages_over_usual counts the last hour (store_relay.c): the
 * only window a rule of it may have */
#define CFG_RELAY_WINDOW_S 3600u
/* block_after counts a login's refusals in one byte (store_strikes.c) */
#define CFG_BLOCK_AFTER_MAX 255u

struct cfg_str_list {
    char **v;
    size_t n;
};

/* A set of rule indexes, a bit each, for every rule a configuration may
 * hold (stats.h STATS_MAX_RULES, asserted in cfg_check.c): the rules a
 * rule requires, and the engine's rules that fired or counted a refusal
 * in one transaction (rules.h). One uint64_t held 64: the 65th rule's
 * bit, 1 << 64, was undefined (on x86-64 the first rule's). */
#define CFG_RULE_SET_WORDS 2
#define CFG_RULE_SET_MAX (CFG_RULE_SET_WORDS * 64)
struct cfg_rule_set {
    uint64_t w[CFG_RULE_SET_WORDS];
};

/* cfg_rule_set_add - put rule index i (< CFG_RULE_SET_MAX) in s */
static inline void cfg_rule_set_add(struct cfg_rule_set *s, size_t i)
{
    s->w[i / 64] |= UINT64_C(1) << (i % 64);
}

/* cfg_rule_set_has - is rule index i in s? */
static inline bool cfg_rule_set_has(const struct cfg_rule_set *s, size_t i)
{
    return i < CFG_RULE_SET_MAX && (s->w[i / 64] >> (i % 64) & 1) != 0;
}

/* cfg_rule_set_covers - is every index of sub in s? */
static inline bool cfg_rule_set_covers(const struct cfg_rule_set *s,
				       const struct cfg_rule_set *sub)
{
    for (size_t k = 0; k < CFG_RULE_SET_WORDS; k++)
	if ((s->w[k] & sub->w[k]) != sub->w[k])
	    return false;
    return true;
}

/* cfg_rule_set_empty - no index in s? */
static inline bool cfg_rule_set_empty(const struct cfg_rule_set *s)
{
    for (size_t k = 0; k < CFG_RULE_SET_WORDS; k++)
	if (s->w[k] != 0)
	    return false;
    return true;
}

struct cfg_rule {
    char *name;
    enum cfg_applies applies_to;
    enum cfg_metric metric;
    uint32_t window_s;		/* 0 for metrics without a window */
    uint64_t limit;
    enum cfg_action action;
    uint32_t block_for_s;	/* 0: no block */
    uint32_t block_after;	/* the refusal within block_for the block
				 * starts at; those before block for the
				 * window (store_strikes.c); 1: the first */
    bool block_window;		/* false: those before block_after's
				 * block nothing, only count */
    struct cfg_str_list requires;	/* names of earlier rules */
    struct cfg_rule_set requires_set;	/* their indexes: all must have
					 * fired */
    bool required;		/* another rule requires this one */
    int line;
};

struct cfg_countries {
    char (*v)[3];		/* ISO codes, upper case */
    size_t n;
};

enum cfg_override_kind { CFG_OV_USER, CFG_OV_DOMAIN, CFG_OV_NETWORK };

struct cfg_override {
    enum cfg_override_kind kind;
    char *user;			/* normalised lower case */
    char *domain;		/* lower case, no leading '@' */
    struct cidr network;
    char *rule_name;		/* the rule whose limit is replaced, or NULL */
    int rule;			/* index into rules, -1: none */
    uint64_t limit;		/* valid when rule >= 0 */
    struct cfg_countries countries;	/* usual countries granted */
    int line;
};

struct cfg_milter {
    char *socket;		/* unix:/path | inet:PORT@HOST | inet6:PORT@HOST */
    char *user, *group;
    char *pidfile;
    mode_t umask;
    enum cfg_action on_error;	/* accept | tempfail | reject */
    bool dry_run;
    bool add_header;
    int syslog_facility;	/* LOG_MAIL etc. */
    char *reply_tempfail;	/* text after "451 4.7.1 " */
    char *reply_reject;		/* text after "550 5.7.1 " */
    uint32_t drain_s;		/* graceful stop: wait for sessions */
};

struct cfg_policyd {
    char *socket;		/* unix:/path | inet:PORT@HOST (policy service) */
    uint32_t max_conns;		/* open Postfix connections at most */
    uint32_t instance_s;	/* a transaction not seen again is forgotten */
    bool end_of_data;		/* also asked at END-OF-MESSAGE: an instance
				 * that never got there is given back */
    uint32_t max_instances;	/* open transactions remembered at most */
    uint32_t idle_s;		/* a connection silent this long is closed */
    uint32_t write_s;		/* an answer not taken this long: closed */
    bool strict_attributes;	/* an attribute Postfix never sends: closed */
    /* Absent keys take the milter section's values (cfg_check.c). */
    char *user, *group, *pidfile;
    bool dry_run, add_header;
    char *reply_tempfail, *reply_reject;
    uint32_t drain_s;		/* SIGTERM: requests in flight may finish */
};

struct cfg_state {
    char *path;
    uint32_t max_users, max_clients, ips_per_user;
    uint32_t lock_timeout_ms;
    char *snapshot_path;	/* "" when not configured */
    uint32_t snapshot_interval_s;
};

struct cfg_geoip {
    char *country_db, *asn_db, *city_db;	/* "" when not configured */
};

struct cfg_networks {
    struct cidr_list internal, trusted;
};

/* The window of recipients_over_usual the roaming phone's allowance is
 * for (metrics_roaming_rcpts; an hour: the phone's messages are counted
 * at MAIL over it) */
#define CFG_ROAM_RCPTS_W 3600u

/* policy.site_logins at most: the logins a site network's entry keeps
 * (STORE_CLIENT_LOGINS) */
#define CFG_SITE_LOGINS_MAX 32

struct cfg_policy {
    uint32_t learning_s;	/* new_country stays quiet this long */
    uint32_t familiar_days;	/* days a network is seen before it is familiar */
    uint32_t coarse_km;		/* travel_kmh ignores places this vague; 0: none */
    struct cidr_list familiar_networks;	/* familiar to every login */
    uint32_t site_logins;	/* logins vouching make a /24 the site's; 0: off */
    uint32_t site_days;		/* ... on at least this many days */
    bool block_unfamiliar_only;	/* a rule's login block spares familiar places */
    bool learning_strangers;	/* a learning login's stranger is unfamiliar */
    bool trip_new_day;		/* a trip's place abroad starts each day afresh
				 * (metrics_day.c) */
    bool trip_home;		/* no trip allowance nor new day once the
				 * home place mailed after it (metrics_home.c) */
    bool second_home;		/* a line beside the home place is a stranger
				 * (metrics_home.c) */
    bool trip_roaming;		/* one network abroad with the owner's phone is
				 * a trip (metrics_roam.c) */
    bool trip_settled;		/* a stay abroad since an earlier day: its hour
				 * against the usual day (metrics_settled.c) */
    bool first_home;		/* a login without a home place: a line in a
				 * neighbour's /24 is familiar
				 * (metrics_neighbour.c) */
    bool family_stay;		/* a stay abroad on a line in a neighbour's
				 * /24: no volume limit from unfamiliar
				 * places (metrics_settled.c) */
    bool stray_line;		/* a new /24 of the home line's own ISP in
				 * town is another customer's
				 * (metrics_place.c) */
    bool two_lines;		/* the later of two lines of one ISP in
				 * town in use at once is another
				 * customer's (metrics_place.c) */
    uint32_t learning_msgs;	/* a learning login's usual hour: at least this */
    uint32_t learning_rcpts;	/* ... and at least this many recipients */
    uint32_t second_home_s;	/* second_home: the home place mailed within */
    uint32_t usual_rcpts_margin;	/* percent the usual recipients hour is
					 * widened by (metrics_bulk.c) */
    struct cfg_rule *rules;
    size_t nrules;
    /* Read off the rules once when the configuration loads (cfg_check.c),
     * not at every MAIL (rules.c): */
    bool counts_users_per_ip;	/* a rule's metric is users_per_ip (the
				 * only reader of an IPv6 client's /64) */
    bool roam_rcpts_judged;	/* a recipients_over_usual rule has the
				 * window CFG_ROAM_RCPTS_W (the roaming
				 * phone's allowance, metrics_roam.c) */
    bool judges_alone_line;	/* a rule's metric is
				 * newcomer_line_recipients (the only
				 * reader of v->alone_line, rules_neigh.c) */
    struct cfg_override *overrides;
    size_t noverrides;
    struct cfg_str_list wl_users;	/* normalised lower case */
    struct cidr_list wl_networks;
};

/* collector.flows: where flows are and how SMTP hosts are judged */
struct cfg_flows {
    char *directory;		/* where nfcapd writes */
    struct cidr_list local_networks;
    struct cfg_str_list local_domains;	/* lower case */
    struct cidr_list mail_servers;	/* the configured whitelist */
    char *names_file;		/* "" = DNS; else offline reverse names */
    char *nfdump;		/* the nfdump program */
    uint32_t min_packets, min_bytes;	/* an SMTP flow, one direction */
    uint32_t mail_share;	/* percent of flows and bytes */
    uint32_t fan_out_servers, fan_out_window_s;
    uint32_t volume_jump_factor, volume_jump_min_flows;
    uint32_t direct_min_flows;
    uint32_t history_window_s;	/* the baseline of volume_jump */
    uint32_t controller_lead_s;	/* inbound connection before a burst */
    uint32_t dns_budget_ms;
    uint32_t plot_bin_s;
};

/* collector.alerts: incident mail through the local sendmail */
struct cfg_alerts {
    char *to;			/* "" = no alert mail */
    char *from;			/* envelope sender and From:, "" = sendmail's default */
    char *sendmail;		/* absolute path, run with execv */
    uint32_t max_per_hour;	/* mails an hour; more go into one digest */
    uint32_t timeout_ms;	/* a sendmail run is killed after this long */
    uint32_t retry_ms;		/* first wait after a failed send; doubles, at most an hour */
};

struct cfg_collector {
    char *address;		/* "" | unix:/path | udp:HOST:PORT */
    char *key_file;
    char *database;		/* SQLite history */
    char *report_dir;
    uint32_t retention_s;	/* history kept this long */
    uint32_t list_expiry_s;	/* a flag stays on the rogue list this long */
    uint32_t event_retention_s;	/* milter events kept this long */
    uint32_t event_window_s;	/* accepted clock difference of an event */
    uint32_t incident_quiet_s;	/* an incident closes after this long without evidence */
    uint32_t incident_logins;	/* more distinct logins from one IP: an incident */
    uint32_t incident_window_s;	/* ... within this long */
    char *incidents_file;	/* JSON lines for a SIEM, "" = none */
    uint32_t incident_retention_s;	/* closed incidents kept this long */
    struct cfg_alerts alerts;
    struct cfg_flows flows;
};

struct cfg_rogue {
    char *list_path;		/* "" when not configured */
};

struct cfg {
    char *file;
    struct cfg_milter milter;
    struct cfg_policyd policyd;
    struct cfg_state state;
    struct cfg_geoip geoip;
    struct cfg_networks networks;
    struct cfg_policy policy;
    struct cfg_collector collector;
    struct cfg_rogue rogue;
};

struct cfg *cfg_load(const char *file, char *err, size_t errlen);
void cfg_free(struct cfg *c);

/* Value parsers, shared with the command-line tools. */
int cfg_parse_duration(const char *text, uint64_t *ms, char *err,
		       size_t errlen);
int cfg_parse_size(const char *text, uint64_t *out, char *err, size_t errlen);
int cfg_vocab_lookup(const char *const *names, size_t n, const char *text);

const char *cfg_action_name(enum cfg_action a);
const char *cfg_metric_name(enum cfg_metric m);
const char *cfg_applies_name(enum cfg_applies a);
int cfg_action_parse(const char *text);
int cfg_metric_parse(const char *text);
int cfg_applies_parse(const char *text);
bool cfg_metric_has_window(enum cfg_metric m);
/* a yes-or-no metric (1 or 0): no limit, its evidence alone */
bool cfg_metric_is_signal(enum cfg_metric m);
bool cfg_metric_needs_login(enum cfg_metric m);
int cfg_rule_index(const struct cfg *c, const char *name);
/* A rule's stable identity: a hash of its name (kept in a block). */
uint32_t cfg_rule_id(const char *name);
/* The rule of a block: the rule whose identity is id and whose name
 * starts with the (cut) name the block kept; -1 if none is configured. */
int cfg_rule_by_id(const struct cfg *c, uint32_t id, const char *cut_name);

#endif
