/*
 * cfg - load the libconfig file into struct cfg through descriptor tables.
 *
 * Each section is a table of descriptors (name, type, default, min, max,
 * offset). One walker binds a group: it rejects keys no descriptor names,
 * applies defaults (parsed by the same code as the file's values) and
 * converts each value. Checks that span keys (rules, overrides) run after
 * binding, in cfg_check.c. Every error is one line "FILE:LINE: KEY: ...";
 * all errors are collected, not only the first.
 *
 * Contract: cfg_load returns NULL on any error; the struct it returns is
 * owned by the caller and freed with cfg_free. Nothing is logged here.
 */
#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cfg_impl.h"

#define MS_PER_S 1000ULL

/* Descriptor tables: the whole configuration surface is here. */

static const struct cfg_desc milter_desc[] = {
    {"socket", CFG_T_SOCKET, CFG_DEFAULT_SOCKET, 0, 0, 0, offsetof(struct cfg_milter, socket), NULL},
    {"user", CFG_T_NAME, "relayguard", 0, 0, 0, offsetof(struct cfg_milter, user), NULL},
    {"group", CFG_T_NAME, "relayguard", 0, 0, 0, offsetof(struct cfg_milter, group), NULL},
    {"pidfile", CFG_T_PATH, "/run/relayguard/relayguard-milter.pid", 0, 0, 0, offsetof(struct cfg_milter, pidfile), NULL},
    {"umask", CFG_T_MODE, "007", 0, 0, 0777, offsetof(struct cfg_milter, umask), NULL},
    {"on_error", CFG_T_ACTION, "accept", 0, 0, 0, offsetof(struct cfg_milter, on_error), NULL},
    {"dry_run", CFG_T_BOOL, "false", 0, 0, 0, offsetof(struct cfg_milter, dry_run), NULL},
    {"add_header", CFG_T_BOOL, "true", 0, 0, 0, offsetof(struct cfg_milter, add_header), NULL},
    {"syslog_facility", CFG_T_FACILITY, "mail", 0, 0, 0, offsetof(struct cfg_milter, syslog_facility), NULL},
    {"reply_tempfail", CFG_T_REPLY, "Unusual sending activity for this account, try again later", 0, 0, 0, offsetof(struct cfg_milter, reply_tempfail), NULL},
    {"reply_reject", CFG_T_REPLY, "Message refused: this account or host is blocked for suspected abuse", 0, 0, 0, offsetof(struct cfg_milter, reply_reject), NULL},
    {"drain_timeout", CFG_T_DURATION_S, "30s", 0, 0, 3600 * MS_PER_S, offsetof(struct cfg_milter, drain_s), NULL},
    {NULL, 0, NULL, 0, 0, 0, 0, NULL},
};

static const struct cfg_desc state_desc[] = {
    {"path", CFG_T_PATH, "/run/relayguard/state", 0, 0, 0, offsetof(struct cfg_state, path), NULL},
    {"max_users", CFG_T_U32, "100000", 0, 16, 10000000, offsetof(struct cfg_state, max_users), NULL},
    {"max_clients", CFG_T_U32, "65536", 0, 16, 10000000, offsetof(struct cfg_state, max_clients), NULL},
    {"ips_per_user", CFG_T_U32, "16", 0, 2, STORE_IPS_MAX, offsetof(struct cfg_state, ips_per_user), NULL},
    {"lock_timeout", CFG_T_DURATION_MS, "50ms", 0, 1, 5000, offsetof(struct cfg_state, lock_timeout_ms), NULL},
    {"snapshot_path", CFG_T_PATH, "", CFG_F_EMPTY_OK, 0, 0, offsetof(struct cfg_state, snapshot_path), NULL},
    {"snapshot_interval", CFG_T_DURATION_S, "5m", 0, 10 * MS_PER_S, 86400 * MS_PER_S, offsetof(struct cfg_state, snapshot_interval_s), NULL},
    {NULL, 0, NULL, 0, 0, 0, 0, NULL},
};

static const struct cfg_desc geoip_desc[] = {
    {"country_db", CFG_T_PATH, "", CFG_F_EMPTY_OK, 0, 0, offsetof(struct cfg_geoip, country_db), NULL},
    {"asn_db", CFG_T_PATH, "", CFG_F_EMPTY_OK, 0, 0, offsetof(struct cfg_geoip, asn_db), NULL},
    {"city_db", CFG_T_PATH, "", CFG_F_EMPTY_OK, 0, 0, offsetof(struct cfg_geoip, city_db), NULL},
    {NULL, 0, NULL, 0, 0, 0, 0, NULL},
};

static const struct cfg_desc networks_desc[] = {
    {"internal", CFG_T_CIDRS, NULL, 0, 0, 0, offsetof(struct cfg_networks, internal), NULL},
    {"trusted", CFG_T_CIDRS, NULL, 0, 0, 0, offsetof(struct cfg_networks, trusted), NULL},
    {NULL, 0, NULL, 0, 0, 0, 0, NULL},
};

static const struct cfg_desc whitelist_desc[] = {
    {"users", CFG_T_USERS, NULL, 0, 0, 0, offsetof(struct cfg_policy, wl_users), NULL},
    {"networks", CFG_T_CIDRS, NULL, 0, 0, 0, offsetof(struct cfg_policy, wl_networks), NULL},
    {NULL, 0, NULL, 0, 0, 0, 0, NULL},
};

const struct cfg_desc cfg_rule_desc[] = {
    {"name", CFG_T_RULENAME, NULL, CFG_F_REQUIRED, 0, 0, offsetof(struct cfg_rule, name), NULL},
    {"applies_to", CFG_T_APPLIES, NULL, CFG_F_REQUIRED, 0, 0, offsetof(struct cfg_rule, applies_to), NULL},
    {"metric", CFG_T_METRIC, NULL, CFG_F_REQUIRED, 0, 0, offsetof(struct cfg_rule, metric), NULL},
    {"window", CFG_T_DURATION_S, NULL, 0, 60 * MS_PER_S, 86400 * MS_PER_S, offsetof(struct cfg_rule, window_s), NULL},
    {"limit", CFG_T_LIMIT, NULL, 0, 0, 0, offsetof(struct cfg_rule, limit), NULL},
    {"action", CFG_T_ACTION, NULL, CFG_F_REQUIRED, 0, 0, offsetof(struct cfg_rule, action), NULL},
    {"block_for", CFG_T_DURATION_S, NULL, 0, 60 * MS_PER_S, 30 * 86400 * MS_PER_S, offsetof(struct cfg_rule, block_for_s), NULL},
    {"block_after", CFG_T_U32, "1", 0, 1, CFG_BLOCK_AFTER_MAX, offsetof(struct cfg_rule, block_after), NULL},
    {"block_window", CFG_T_BOOL, "true", 0, 0, 0, offsetof(struct cfg_rule, block_window), NULL},
    {"requires", CFG_T_RULENAMES, NULL, 0, 0, 0, offsetof(struct cfg_rule, requires), NULL},
    {NULL, 0, NULL, 0, 0, 0, 0, NULL},
};

const struct cfg_desc cfg_override_desc[] = {
    {"user", CFG_T_USER, NULL, 0, 0, 0, offsetof(struct cfg_override, user), NULL},
    {"domain", CFG_T_DOMAIN, NULL, 0, 0, 0, offsetof(struct cfg_override, domain), NULL},
    {"network", CFG_T_CIDR, NULL, 0, 0, 0, offsetof(struct cfg_override, network), NULL},
    {"rule", CFG_T_RULENAME, NULL, 0, 0, 0, offsetof(struct cfg_override, rule_name), NULL},
    {"limit", CFG_T_LIMIT, NULL, 0, 0, 0, offsetof(struct cfg_override, limit), NULL},
    {"countries", CFG_T_COUNTRIES, NULL, 0, 0, 0, offsetof(struct cfg_override, countries), NULL},
    {NULL, 0, NULL, 0, 0, 0, 0, NULL},
};

static const struct cfg_desc policy_desc[] = {
    {"learning_period", CFG_T_DURATION_S, "7d", 0, 0, 365 * 86400 * MS_PER_S, offsetof(struct cfg_policy, learning_s), NULL},
    {"familiar_days", CFG_T_U32, "2", 0, 1, 365, offsetof(struct cfg_policy, familiar_days), NULL},
    {"coarse_km", CFG_T_U32, "0", 0, 0, 20000, offsetof(struct cfg_policy, coarse_km), NULL},
    {"familiar_networks", CFG_T_CIDRS, NULL, 0, 0, 0, offsetof(struct cfg_policy, familiar_networks), NULL},
    {"site_logins", CFG_T_U32, "0", 0, 0, CFG_SITE_LOGINS_MAX, offsetof(struct cfg_policy, site_logins), NULL},
    {"site_days", CFG_T_U32, "2", 0, 1, 365, offsetof(struct cfg_policy, site_days), NULL},
    {"block_unfamiliar_only", CFG_T_BOOL, "false", 0, 0, 0, offsetof(struct cfg_policy, block_unfamiliar_only), NULL},
    {"learning_strangers", CFG_T_BOOL, "true", 0, 0, 0, offsetof(struct cfg_policy, learning_strangers), NULL},
    {"trip_new_day", CFG_T_BOOL, "false", 0, 0, 0, offsetof(struct cfg_policy, trip_new_day), NULL},
    {"trip_home", CFG_T_BOOL, "false", 0, 0, 0, offsetof(struct cfg_policy, trip_home), NULL},
    {"second_home", CFG_T_BOOL, "false", 0, 0, 0, offsetof(struct cfg_policy, second_home), NULL},
    {"trip_roaming", CFG_T_BOOL, "false", 0, 0, 0, offsetof(struct cfg_policy, trip_roaming), NULL},
    {"trip_settled", CFG_T_BOOL, "false", 0, 0, 0, offsetof(struct cfg_policy, trip_settled), NULL},
    {"first_home", CFG_T_BOOL, "false", 0, 0, 0, offsetof(struct cfg_policy, first_home), NULL},
    {"family_stay", CFG_T_BOOL, "false", 0, 0, 0, offsetof(struct cfg_policy, family_stay), NULL},
    {"stray_line", CFG_T_BOOL, "false", 0, 0, 0, offsetof(struct cfg_policy, stray_line), NULL},
    {"two_lines", CFG_T_BOOL, "false", 0, 0, 0, offsetof(struct cfg_policy, two_lines), NULL},
    {"learning_usual_messages", CFG_T_U32, "0", 0, 0, UINT16_MAX, offsetof(struct cfg_policy, learning_msgs), NULL},
    {"learning_usual_recipients", CFG_T_U32, "0", 0, 0, UINT16_MAX, offsetof(struct cfg_policy, learning_rcpts), NULL},
    {"second_home_for", CFG_T_DURATION_S, "1d", 0, 60 * MS_PER_S, 30 * 86400 * MS_PER_S, offsetof(struct cfg_policy, second_home_s), NULL},
    {"usual_recipients_margin", CFG_T_U32, "0", 0, 0, 1000, offsetof(struct cfg_policy, usual_rcpts_margin), NULL},
    {"rules", CFG_T_RULES, NULL, 0, 0, 0, 0, NULL},
    {"overrides", CFG_T_OVERRIDES, NULL, 0, 0, 0, 0, NULL},
    {"whitelist", CFG_T_GROUP, NULL, 0, 0, 0, 0, whitelist_desc},
    {NULL, 0, NULL, 0, 0, 0, 0, NULL},
};

#define FL(f) offsetof(struct cfg_flows, f)
static const struct cfg_desc flows_desc[] = {
    {"directory", CFG_T_PATH, "/var/cache/nfdump", 0, 0, 0, FL(directory), NULL},
    {"local_networks", CFG_T_CIDRS, NULL, 0, 0, 0, FL(local_networks), NULL},
    {"local_domains", CFG_T_DOMAINS, NULL, 0, 0, 0, FL(local_domains), NULL},
    {"mail_servers", CFG_T_CIDRS, NULL, 0, 0, 0, FL(mail_servers), NULL},
    {"names_file", CFG_T_PATH, "", CFG_F_EMPTY_OK, 0, 0, FL(names_file), NULL},
    {"nfdump", CFG_T_PATH, "/usr/bin/nfdump", 0, 0, 0, FL(nfdump), NULL},
    {"min_packets", CFG_T_U32, "3", 0, 1, 1000000, FL(min_packets), NULL},
    {"min_bytes", CFG_T_U32, "120", 0, 1, 1000000000, FL(min_bytes), NULL},
    {"mail_share", CFG_T_U32, "85", 0, 1, 100, FL(mail_share), NULL},
    {"fan_out_servers", CFG_T_U32, "50", 0, 2, 1000000, FL(fan_out_servers), NULL},
    {"fan_out_window", CFG_T_DURATION_S, "1m", 0, 1 * MS_PER_S, 3600 * MS_PER_S, FL(fan_out_window_s), NULL},
    {"volume_jump_factor", CFG_T_U32, "10", 0, 2, 1000000, FL(volume_jump_factor), NULL},
    {"volume_jump_min_flows", CFG_T_U32, "1000", 0, 1, 1000000000, FL(volume_jump_min_flows), NULL},
    {"direct_min_flows", CFG_T_U32, "10", 0, 1, 1000000000, FL(direct_min_flows), NULL},
    {"history_window", CFG_T_DURATION_S, "30d", 0, 86400 * MS_PER_S, 366 * 86400 * MS_PER_S, FL(history_window_s), NULL},
    {"controller_lead", CFG_T_DURATION_S, "10s", 0, 1 * MS_PER_S, 3600 * MS_PER_S, FL(controller_lead_s), NULL},
    {"dns_budget", CFG_T_DURATION_MS, "5s", 0, 0, 600 * MS_PER_S, FL(dns_budget_ms), NULL},
    {"plot_bin", CFG_T_DURATION_S, "1h", 0, 60 * MS_PER_S, 86400 * MS_PER_S, FL(plot_bin_s), NULL},
    {NULL, 0, NULL, 0, 0, 0, 0, NULL},
};
#undef FL

#define AL(f) offsetof(struct cfg_alerts, f)
static const struct cfg_desc alerts_desc[] = {
    {"to", CFG_T_MAILADDR, "", CFG_F_EMPTY_OK, 0, 0, AL(to), NULL},
    {"from", CFG_T_MAILADDR, "", CFG_F_EMPTY_OK, 0, 0, AL(from), NULL},
    {"sendmail", CFG_T_PATH, "/usr/sbin/sendmail", 0, 0, 0, AL(sendmail), NULL},
    {"max_per_hour", CFG_T_U32, "10", 0, 1, 10000, AL(max_per_hour), NULL},
    {"timeout", CFG_T_DURATION_MS, "30s", 0, 100, 600 * MS_PER_S, AL(timeout_ms), NULL},
    {"retry", CFG_T_DURATION_MS, "1m", 0, 1 * MS_PER_S, 3600 * MS_PER_S, AL(retry_ms), NULL},
    {NULL, 0, NULL, 0, 0, 0, 0, NULL},
};
#undef AL

static const struct cfg_desc collector_desc[] = {
    {"address", CFG_T_COLLECTOR, "", CFG_F_EMPTY_OK, 0, 0, offsetof(struct cfg_collector, address), NULL},
    {"key_file", CFG_T_PATH, "", CFG_F_EMPTY_OK, 0, 0, offsetof(struct cfg_collector, key_file), NULL},
    {"database", CFG_T_PATH, "/var/lib/relayguard/collector.db", 0, 0, 0, offsetof(struct cfg_collector, database), NULL},
    {"report_dir", CFG_T_PATH, "/var/lib/relayguard/reports", 0, 0, 0, offsetof(struct cfg_collector, report_dir), NULL},
    {"retention", CFG_T_DURATION_S, "400d", 0, 86400 * MS_PER_S, 3650ULL * 86400 * MS_PER_S, offsetof(struct cfg_collector, retention_s), NULL},
    {"list_expiry", CFG_T_DURATION_S, "7d", 0, 60 * MS_PER_S, 366 * 86400 * MS_PER_S, offsetof(struct cfg_collector, list_expiry_s), NULL},
#define CO(f) offsetof(struct cfg_collector, f)
    {"event_retention", CFG_T_DURATION_S, "30d", 0, 3600 * MS_PER_S, 3650ULL * 86400 * MS_PER_S, CO(event_retention_s), NULL},
    {"event_window", CFG_T_DURATION_S, "5m", 0, 1 * MS_PER_S, 86400 * MS_PER_S, CO(event_window_s), NULL},
    {"incident_quiet", CFG_T_DURATION_S, "1h", 0, 1 * MS_PER_S, 30 * 86400 * MS_PER_S, CO(incident_quiet_s), NULL},
    {"incident_logins", CFG_T_U32, "3", 0, 1, 1000000, CO(incident_logins), NULL},
    {"incident_window", CFG_T_DURATION_S, "1h", 0, 60 * MS_PER_S, 30 * 86400 * MS_PER_S, CO(incident_window_s), NULL},
    {"incidents_file", CFG_T_PATH, "/var/lib/relayguard/incidents.jsonl", CFG_F_EMPTY_OK, 0, 0, CO(incidents_file), NULL},
    {"incident_retention", CFG_T_DURATION_S, "90d", 0, 3600 * MS_PER_S, 3650ULL * 86400 * MS_PER_S, CO(incident_retention_s), NULL},
#undef CO
    {"flows", CFG_T_GROUP, NULL, 0, 0, 0, offsetof(struct cfg_collector, flows), flows_desc},
    {"alerts", CFG_T_GROUP, NULL, 0, 0, 0, offsetof(struct cfg_collector, alerts), alerts_desc},
    {NULL, 0, NULL, 0, 0, 0, 0, NULL},
};

static const struct cfg_desc rogue_desc[] = {
    {"list_path", CFG_T_PATH, "", CFG_F_EMPTY_OK, 0, 0, offsetof(struct cfg_rogue, list_path), NULL},
    {NULL, 0, NULL, 0, 0, 0, 0, NULL},
};

static const struct cfg_desc policyd_desc[] = {
    {"socket", CFG_T_SOCKET, "inet:10040@127.0.0.1", 0, 0, 0, offsetof(struct cfg_policyd, socket), NULL},
    {"max_connections", CFG_T_U32, "256", 0, 1, 65536, offsetof(struct cfg_policyd, max_conns), NULL},
    {"instance_timeout", CFG_T_DURATION_S, "10m", 0, MS_PER_S, 86400 * MS_PER_S, offsetof(struct cfg_policyd, instance_s), NULL},
    {"end_of_data", CFG_T_BOOL, "false", 0, 0, 0, offsetof(struct cfg_policyd, end_of_data), NULL},
#define PD(f) offsetof(struct cfg_policyd, f)
    {"max_instances", CFG_T_U32, "4096", 0, 16, 1000000, PD(max_instances), NULL},
    {"idle_timeout", CFG_T_DURATION_S, "10m", 0, MS_PER_S, 86400 * MS_PER_S, PD(idle_s), NULL},
    {"write_timeout", CFG_T_DURATION_S, "10s", 0, MS_PER_S, 3600 * MS_PER_S, PD(write_s), NULL},
    {"strict_attributes", CFG_T_BOOL, "false", 0, 0, 0, PD(strict_attributes), NULL},
    /* no defaults: absent, they are the milter section's (cfg_check.c) */
    {"user", CFG_T_NAME, NULL, 0, 0, 0, PD(user), NULL},
    {"group", CFG_T_NAME, NULL, 0, 0, 0, PD(group), NULL},
    {"pidfile", CFG_T_PATH, "/run/relayguard/relayguard-policyd.pid", 0, 0, 0, PD(pidfile), NULL},
    {"dry_run", CFG_T_BOOL, NULL, 0, 0, 0, PD(dry_run), NULL},
    {"add_header", CFG_T_BOOL, NULL, 0, 0, 0, PD(add_header), NULL},
    {"reply_tempfail", CFG_T_REPLY, NULL, 0, 0, 0, PD(reply_tempfail), NULL},
    {"reply_reject", CFG_T_REPLY, NULL, 0, 0, 0, PD(reply_reject), NULL},
    {"drain_timeout", CFG_T_DURATION_S, NULL, 0, 0, 3600 * MS_PER_S, PD(drain_s), NULL},
#undef PD
    {NULL, 0, NULL, 0, 0, 0, 0, NULL},
};

static const struct cfg_desc top_desc[] = {
    {"milter", CFG_T_GROUP, NULL, 0, 0, 0, offsetof(struct cfg, milter), milter_desc},
    {"policyd", CFG_T_GROUP, NULL, 0, 0, 0, offsetof(struct cfg, policyd), policyd_desc},
    {"state", CFG_T_GROUP, NULL, 0, 0, 0, offsetof(struct cfg, state), state_desc},
    {"geoip", CFG_T_GROUP, NULL, 0, 0, 0, offsetof(struct cfg, geoip), geoip_desc},
    {"networks", CFG_T_GROUP, NULL, 0, 0, 0, offsetof(struct cfg, networks), networks_desc},
    {"policy", CFG_T_GROUP, NULL, 0, 0, 0, offsetof(struct cfg, policy), policy_desc},
    {"collector", CFG_T_GROUP, NULL, 0, 0, 0, offsetof(struct cfg, collector), collector_desc},
    {"rogue", CFG_T_GROUP, NULL, 0, 0, 0, offsetof(struct cfg, rogue), rogue_desc},
    {NULL, 0, NULL, 0, 0, 0, 0, NULL},
};

/* cfg_error - append one "FILE:LINE: KEY: message" line */
void cfg_error(struct cfg_ctx *x, const config_setting_t *s, const char *key,
	       const char *fmt, ...)
{
    const char *file = s ? config_setting_source_file(s) : NULL;
    int line = s ? (int) config_setting_source_line(s) : 0;
    char msg[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    x->nerr++;
    if (x->errlen == 0 || x->used >= x->errlen - 1)
	return;
    n = snprintf(x->err + x->used, x->errlen - x->used, "%s%s:%d: %s: %s",
		 x->used ? "\n" : "", file ? file : x->file, line, key, msg);
    if (n > 0)
	x->used += (size_t) n < x->errlen - x->used ? (size_t) n
	    : x->errlen - x->used - 1;
}

/* cfg_key_path - "parent.name" for messages */
void cfg_key_path(char *buf, size_t len, const char *parent, const char *name)
{
    if (parent == NULL || *parent == 0)
	snprintf(buf, len, "%s", name);
    else
	snprintf(buf, len, "%s.%s", parent, name);
}

/* desc_find - descriptor of a key in a table, or NULL */
static const struct cfg_desc *desc_find(const struct cfg_desc *t,
					const char *name)
{
    for (; t->name != NULL; t++)
	if (name != NULL && strcmp(t->name, name) == 0)
	    return t;
    return NULL;
}

/* cfg_bind_group - check for unknown keys, then bind every descriptor */
void cfg_bind_group(struct cfg_ctx *x, const config_setting_t *grp,
		    const char *path, const struct cfg_desc *table, void *base)
{
    char key[CFG_KEY_MAX];
    const struct cfg_desc *d;
    int i, n = grp ? config_setting_length(grp) : 0;

    for (i = 0; i < n; i++) {
	const config_setting_t *s = config_setting_get_elem(grp, (unsigned) i);
	const char *name = config_setting_name(s);

	if (desc_find(table, name) == NULL) {
	    cfg_key_path(key, sizeof(key), path, name ? name : "?");
	    cfg_error(x, s, key, "unknown key");
	}
    }
    for (d = table; d->name != NULL; d++) {
	const config_setting_t *s = grp ? config_setting_get_member(grp, d->name) : NULL;

	cfg_key_path(key, sizeof(key), path, d->name);
	if (s == NULL && (d->flags & CFG_F_REQUIRED)) {
	    cfg_error(x, grp, key, "missing; this key is required");
	    continue;
	}
	if (s == NULL && d->def == NULL && d->type != CFG_T_GROUP)
	    continue;
	cfg_convert(x, d, s, grp, key, (char *) base + d->off);
    }
}

/* cfg_io_why - why a file libconfig could not read ("file I/O error"
 * is all it says): what stat says of it, a directory, or the errno of
 * its fopen. Nothing is opened here: a FIFO is read by libconfig alone. */
static const char *cfg_io_why(const char *file, int open_errno)
{
    struct stat sb;

    if (stat(file, &sb) != 0)
	return strerror(errno);
    if (S_ISDIR(sb.st_mode))
	return "it is a directory";
    return strerror(open_errno ? open_errno : EIO);
}

/* cfg_load - read, bind and check one configuration file */
struct cfg *cfg_load(const char *file, char *err, size_t errlen)
{
    struct cfg_ctx x = {file, err, errlen, 0, 0, NULL};
    config_t lc;
    struct cfg *c = NULL;

    if (errlen > 0)
	err[0] = 0;
    config_init(&lc);
    errno = 0;
    if (config_read_file(&lc, file) != CONFIG_TRUE) {
	if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
	    snprintf(err, errlen, "%s: cannot read the configuration file: %s",
		     file, cfg_io_why(file, errno));
	else
	    snprintf(err, errlen, "%s:%d: syntax error: %s",
		     config_error_file(&lc) ? config_error_file(&lc) : file,
		     config_error_line(&lc), config_error_text(&lc));
	goto out;
    }
    if ((c = calloc(1, sizeof(*c))) == NULL || (c->file = strdup(file)) == NULL) {
	snprintf(err, errlen, "%s: out of memory", file);
	goto out;
    }
    x.cfg = c;
    cfg_bind_group(&x, config_root_setting(&lc), "", top_desc, c);
    if (x.nerr == 0)
	cfg_check(&x, c, config_root_setting(&lc));
  out:
    config_destroy(&lc);
    if (c != NULL && (x.nerr > 0 || c->file == NULL)) {
	cfg_free(c);
	c = NULL;
    }
    return c;
}

#define RULE_ID_BASIS UINT32_C(2166136261)	/* FNV-1a 32 */
#define RULE_ID_PRIME UINT32_C(16777619)

/* cfg_rule_id - FNV-1a of a rule's name: fixed across builds and hosts */
uint32_t cfg_rule_id(const char *name)
{
    uint32_t h = RULE_ID_BASIS;

    for (const unsigned char *p = (const unsigned char *) name; *p; p++)
	h = (h ^ *p) * RULE_ID_PRIME;
    return h;
}

/* cfg_rule_by_id - a block's rule by identity and kept name, or -1 */
int cfg_rule_by_id(const struct cfg *c, uint32_t id, const char *cut_name)
{
    size_t i, n = cut_name != NULL ? strlen(cut_name) : 0;

    for (i = 0; c != NULL && i < c->policy.nrules; i++) {
	const char *name = c->policy.rules[i].name;

	if (name && cfg_rule_id(name) == id && strncmp(name, cut_name, n) == 0)
	    return (int) i;
    }
    return -1;
}

/* cfg_rule_index - index of a rule by name, or -1 */
int cfg_rule_index(const struct cfg *c, const char *name)
{
    size_t i;

    for (i = 0; name != NULL && i < c->policy.nrules; i++)
	if (c->policy.rules[i].name && strcmp(c->policy.rules[i].name, name) == 0)
	    return (int) i;
    return -1;
}

/* str_list_free - release a list of strings */
static void str_list_free(struct cfg_str_list *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
	free(l->v[i]);
    free(l->v);
}

/* cfg_free - release a configuration */
void cfg_free(struct cfg *c)
{
    size_t i;

    if (c == NULL)
	return;
    free(c->file);
    free(c->milter.socket);
    free(c->policyd.socket);
    free(c->policyd.user);
    free(c->policyd.group);
    free(c->policyd.pidfile);
    free(c->policyd.reply_tempfail);
    free(c->policyd.reply_reject);
    free(c->milter.user);
    free(c->milter.group);
    free(c->milter.pidfile);
    free(c->milter.reply_tempfail);
    free(c->milter.reply_reject);
    free(c->state.path);
    free(c->state.snapshot_path);
    free(c->geoip.country_db);
    free(c->geoip.asn_db);
    free(c->geoip.city_db);
    free(c->networks.internal.v);
    free(c->networks.trusted.v);
    for (i = 0; i < c->policy.nrules; i++) {
	free(c->policy.rules[i].name);
	str_list_free(&c->policy.rules[i].requires);
    }
    free(c->policy.rules);
    for (i = 0; i < c->policy.noverrides; i++) {
	free(c->policy.overrides[i].user);
	free(c->policy.overrides[i].domain);
	free(c->policy.overrides[i].rule_name);
	free(c->policy.overrides[i].countries.v);
    }
    free(c->policy.overrides);
    str_list_free(&c->policy.wl_users);
    free(c->policy.wl_networks.v);
    free(c->policy.familiar_networks.v);
    free(c->collector.address);
    free(c->collector.key_file);
    free(c->collector.database);
    free(c->collector.report_dir);
    free(c->collector.incidents_file);
    free(c->collector.alerts.to);
    free(c->collector.alerts.from);
    free(c->collector.alerts.sendmail);
    free(c->collector.flows.directory);
    free(c->collector.flows.local_networks.v);
    str_list_free(&c->collector.flows.local_domains);
    free(c->collector.flows.mail_servers.v);
    free(c->collector.flows.names_file);
    free(c->collector.flows.nfdump);
    free(c->rogue.list_path);
    free(c);
}
