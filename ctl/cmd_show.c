/*
 * cmd_show - "show USER" and "show IP": everything the state knows about
 * one login or one client address, with the AS organisation of each
 * address from the configured GeoIP databases.
 *
 * Contract: one consistent copy of the entry (store_user_get /
 * store_client_get); for an address, a walk over the users finds the
 * logins that used it (the client entry keeps only keyed hashes of its
 * logins). GeoIP is optional: databases that are missing or broken give
 * a warning and empty organisations, never a failure. Exit 1 when the
 * state knows nothing about the argument.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd_places.h"
#include "cmd_state.h"
#include "geo.h"
#include "json.h"
#include "metrics.h"
#include "table.h"
#include "text.h"

#define LINE_MAX_TEXT 512
#define CENTI 100.0
#define BYTES_MIN_WINDOW 3600	/* bytes are kept per hour only */

/* The windows "show" reports counters over. */
static const struct {
    const char *name;
    uint32_t secs;
} windows[] = { {"10m", 600}, {"1h", 3600}, {"1d", 86400} };

#define NWINDOWS (sizeof(windows) / sizeof(windows[0]))

/* The counters "show" reports for a user or a client, in this order. */
static const struct {
    const char *name;
    enum store_counter k;
} counters[] = {
    {"messages", STORE_MSGS}, {"recipients", STORE_RCPTS},
    {"bytes", STORE_BYTES},
};

#define NCOUNTERS (sizeof(counters) / sizeof(counters[0]))

/* geo_start - open the configured databases, or NULL (with a warning) */
static GEO *geo_start(struct ctl *c)
{
    const struct cfg_geoip *g = &c->cfg->geoip;
    struct geo_paths p = { g->city_db, g->country_db, g->asn_db };
    char err[512];
    unsigned missing = 0;
    GEO *geo = NULL;

    if (!g->city_db[0] && !g->country_db[0] && !g->asn_db[0])
	return NULL;
    if (geo_open(&p, &geo, &missing, err, sizeof(err)) != GEO_OK) {
	ctl_error(c, 0, "warning: GeoIP unavailable: %s", err);
	return NULL;
    }
    return geo;
}

/* org_of - the AS organisation of an address, "" if unknown */
static void org_of(const GEO *geo, const struct addr *a, char *org,
		   size_t len)
{
    struct geo_info gi;

    org[0] = '\0';
    if (geo != NULL && geo_lookup(geo, a, &gi) == GEO_OK)
	snprintf(org, len, "%s", gi.org);
}

/* kv - one key/value line of the summary table */
static int kv(struct table *t, const char *key, const char *value)
{
    const char *cells[] = { key, value };

    return table_add(t, cells);
}

/* kv_table - the two-column summary table */
static struct table *kv_table(void)
{
    static const struct table_col cols[] = {
	{"", TABLE_LEFT, 0, 0, 0}, {"", TABLE_LEFT, 1, 20, 0},
    };
    struct table *t = table_new(cols, 2);

    if (t != NULL) {
	table_no_heading(t);
	table_wrap(t);
    }
    return t;
}

/* when_text - "2026-11-22 15:30 (2m ago)" */
static void when_text(uint32_t now, uint32_t t, char *buf, size_t len)
{
    char at[TEXT_TIME_MAX], ago[TEXT_AGE_MAX];

    text_time(t, at, sizeof(at));
    text_age(now, t, ago, sizeof(ago));
    snprintf(buf, len, "%s (%s ago)", at, ago);
}

/* block_line - the block with its reason, or "none"; a rule's block
 * keeps the rule's name cut short as its reason, and ctl_block_text
 * already names the rule in full, so only an admin's reason follows */
static void block_line(const struct ctl *c, const struct store_block *b,
		       char *buf, size_t len)
{
    char what[128], until[TEXT_TIME_MAX], reason[STORE_REASON_MAX];
    int admin = b->setby != STORE_BY_RULE;

    if (b->until == 0) {
	snprintf(buf, len, "none");
	return;
    }
    ctl_block_text(c, b, what, sizeof(what));
    text_time(b->until, until, sizeof(until));
    memcpy(reason, b->reason, sizeof(reason));
    reason[sizeof(reason) - 1] = '\0';
    snprintf(buf, len, "%s, until %s%s%s", what, until,
	     admin && reason[0] ? ": " : "", admin ? reason : "");
}

/* counters_line - one counter over the standard windows */
static void counters_line(const struct store_win *w, enum store_counter k,
			  uint32_t now, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < NWINDOWS && used < len; i++) {
	uint64_t v = store_win_sum(w, k, now, windows[i].secs);
	char num[TEXT_SIZE_MAX];

	if (k == STORE_BYTES && windows[i].secs < BYTES_MIN_WINDOW)
	    continue;
	if (k == STORE_BYTES)
	    text_size(v, num, sizeof(num));
	else
	    snprintf(num, sizeof(num), "%llu", (unsigned long long) v);
	used += (size_t) snprintf(buf + used, len - used, "%s%s %s",
				  used ? ", " : "", windows[i].name, num);
    }
}

/* counters_json - "key": {"10m": n, "1h": n, "1d": n} */
static void counters_json(struct json *j, const char *key,
			  const struct store_win *w, enum store_counter k,
			  uint32_t now)
{
    json_key(j, key);
    json_obj(j);
    for (size_t i = 0; i < NWINDOWS; i++)
	if (k != STORE_BYTES || windows[i].secs >= BYTES_MIN_WINDOW)
	    json_kuint(j, windows[i].name, store_win_sum(w, k, now,
							 windows[i].secs));
    json_obj_end(j);
}

/* entry_counters_json - every counter of a user or client entry */
static void entry_counters_json(struct json *j, const struct store_win *w,
				uint32_t now)
{
    for (size_t i = 0; i < NCOUNTERS; i++)
	counters_json(j, counters[i].name, w, counters[i].k, now);
}

/* entry_seen_rows - first seen, last seen and block of an entry */
static int entry_seen_rows(const struct ctl *c, struct table *t,
			   uint32_t first, uint32_t last,
			   const struct store_block *b)
{
    char line[LINE_MAX_TEXT];
    int rc = 0;

    if (first == 0) {		/* blocked before it was ever seen */
	rc |= kv(t, "first seen", "never (blocked before it came)");
	rc |= kv(t, "last seen", "never");
    } else {
	when_text(c->now, first, line, sizeof(line));
	rc |= kv(t, "first seen", line);
	when_text(c->now, last, line, sizeof(line));
	rc |= kv(t, "last seen", line);
    }
    block_line(c, b, line, sizeof(line));
    rc |= kv(t, "block", line);
    return rc;
}

/* entry_counter_rows - every counter of an entry over the windows */
static int entry_counter_rows(const struct ctl *c, struct table *t,
			      const struct store_win *w)
{
    char line[LINE_MAX_TEXT];
    int rc = 0;

    for (size_t i = 0; i < NCOUNTERS; i++) {
	counters_line(w, counters[i].k, c->now, line, sizeof(line));
	rc |= kv(t, counters[i].name, line);
    }
    return rc;
}

/* usual - the engine's notion of a usual country (overrides aside) */
static bool usual(const struct ctl *c, const struct store_user *u,
		  const struct store_country *k)
{
    uint64_t learn_end = metrics_learning_end(c->cfg, u) / STORE_DAY_S;

    return k->first_day < learn_end || k->days >= METRICS_USUAL_MIN_DAYS;
}

/* distinct_line - "5 addresses, 5 networks, 4 providers, 4 countries BR,..." */
static void distinct_line(const struct cmd_distinct *d, char *line,
			  size_t len)
{
    size_t used = (size_t) snprintf(line, len, "%u %s, %u %s, %u %s, %u %s",
				    d->ips, text_plural(d->ips, "address",
							"addresses"),
				    d->prefixes, text_plural(d->prefixes,
							     "network",
							     "networks"),
				    d->asns, text_plural(d->asns, "provider",
							 "providers"),
				    d->countries, text_plural(d->countries,
							      "country",
							      "countries"));

    for (uint32_t i = 0; i < d->countries && used < len; i++)
	used += (size_t) snprintf(line + used, len - used, "%s%s",
				  i ? "," : " ", d->ccs[i]);
}

/* countries_line - the baseline: "DE 12 days (usual), BR 1 day" */
static void countries_line(const struct ctl *c, const struct store_user *u,
			   char *line, size_t len)
{
    size_t used = 0;

    snprintf(line, len, "none yet");
    for (int i = 0; i < STORE_COUNTRIES && used < len; i++) {
	const struct store_country *k = &u->countries[i];

	if (k->cc[0])
	    used += (size_t) snprintf(line + used, len - used,
				      "%s%s %u day%s%s", used ? ", " : "",
				      k->cc, k->days, k->days == 1 ? "" : "s",
				      usual(c, u, k) ? " (usual)" : "");
    }
}

/* qids_line - the recent queue ids, newest first */
static void qids_line(const struct store_user *u, char *line, size_t len)
{
    size_t used = 0;

    snprintf(line, len, "none");
    for (int i = 0; i < STORE_QIDS && used < len; i++)
	if (u->qids[i][0])
	    used += (size_t) snprintf(line + used, len - used, "%s%s",
				      used ? " " : "", u->qids[i]);
}

/* user_rows - the key/value lines of "show USER" */
static int user_rows(struct ctl *c, struct table *t,
		     const struct cmd_places *p, uint32_t window)
{
    const struct store_user *u = p->u;
    char line[LINE_MAX_TEXT], win[TEXT_AGE_MAX], key[32];
    struct cmd_distinct d;
    int rc = 0;

    cmd_state_distinct(u, c->now, window, &d);
    text_left(0, window, win, sizeof(win));
    rc |= kv(t, "user", u->login);
    rc |= entry_seen_rows(c, t, u->first_seen, u->last_seen, &u->block);
    distinct_line(&d, line, sizeof(line));
    snprintf(key, sizeof(key), "in %s", win);
    rc |= kv(t, key, line);
    rc |= entry_counter_rows(c, t, &u->win);
    countries_line(c, u, line, sizeof(line));
    rc |= kv(t, "countries", line);
    rc |= cmd_places_rows(p, t);
    qids_line(u, line, sizeof(line));
    rc |= kv(t, "queue ids", line);
    if (u->last_login.time) {
	char ago[TEXT_AGE_MAX];

	text_age(c->now, u->last_login.time, ago, sizeof(ago));
	snprintf(line, sizeof(line), "%.2f,%.2f (+-%u km), %s ago",
		 u->last_login.lat_c / CENTI, u->last_login.lon_c / CENTI,
		 u->last_login.acc_km, ago);
	rc |= kv(t, "last place", line);
    }
    return rc;
}

/* user_summary - the key/value part of "show USER" */
static int user_summary(struct ctl *c, const struct cmd_places *p,
			uint32_t window)
{
    struct table *t = kv_table();
    int rc = t == NULL ? -1 : user_rows(c, t, p, window);

    if (rc == 0)
	rc = table_print(t, c->out, TABLE_WIDTH);
    table_free(t);
    return rc;
}

/* user_ips_table - every remembered address of a user */
static int user_ips_table(struct ctl *c, const struct cmd_places *p,
			  const GEO *geo)
{
    static const struct table_col cols[] = {
	{"ADDRESS", TABLE_LEFT, 1, 15, 0}, {"FIRST", TABLE_RIGHT, 0, 0, 0},
	{"LAST", TABLE_RIGHT, 0, 0, 0}, {"COUNT", TABLE_RIGHT, 0, 0, 0},
	{"CC", TABLE_LEFT, 0, 0, 0}, {"ASN", TABLE_LEFT, 0, 0, 0},
	{"FAMILIAR", TABLE_LEFT, 0, 0, 0},
	{"ORGANISATION", TABLE_LEFT, 1, 12, 0},
    };
    const struct store_user *u = p->u;
    struct table *t = table_new(cols, sizeof(cols) / sizeof(cols[0]));
    int rc = t == NULL ? -1 : 0;

    for (uint32_t i = 0; rc == 0 && i < u->nips && i < STORE_IPS_MAX; i++) {
	const struct store_ip *ip = &u->ips[i];
	char a[ADDR_STRLEN], first[TEXT_AGE_MAX], last[TEXT_AGE_MAX];
	char count[12], asn[16], org[GEO_ORG_MAX], cc[3];
	const char *cells[] = { a, first, last, count, cc, asn,
	    cmd_places_word(cmd_places_why(p, i)), org };

	store_ip_cc(ip, cc);
	addr_format(&ip->ip, a, sizeof(a));
	text_age(c->now, ip->first_seen, first, sizeof(first));
	text_age(c->now, ip->last_seen, last, sizeof(last));
	snprintf(count, sizeof(count), "%u", ip->count);
	if (ip->asn)
	    snprintf(asn, sizeof(asn), "AS%u", ip->asn);
	else
	    snprintf(asn, sizeof(asn), "-");
	org_of(geo, &ip->ip, org, sizeof(org));
	rc = table_add(t, cells);
    }
    if (rc == 0 && table_rows(t) == 0)	/* blocked before it was seen */
	rc = fputs("\nno address remembered\n", c->out) < 0;
    else if (rc == 0) {
	fputc('\n', c->out);
	rc = table_print(t, c->out, TABLE_WIDTH);
    }
    table_free(t);
    return rc;
}

/* distinct_json - "distinct": {...} */
static void distinct_json(struct json *j, const struct cmd_distinct *d)
{
    json_key(j, "distinct");
    json_obj(j);
    json_kuint(j, "ips", d->ips);
    json_kuint(j, "prefixes", d->prefixes);
    json_kuint(j, "asns", d->asns);
    json_kuint(j, "countries", d->countries);
    json_key(j, "country_list");
    json_arr(j);
    for (uint32_t i = 0; i < d->countries; i++)
	json_str(j, d->ccs[i]);
    json_arr_end(j);
    json_obj_end(j);
}

/* baseline_json - "countries", "last_place", "queue_ids" */
static void baseline_json(const struct ctl *c, struct json *j,
			  const struct store_user *u)
{
    json_key(j, "countries");
    json_arr(j);
    for (int i = 0; i < STORE_COUNTRIES; i++) {
	const struct store_country *k = &u->countries[i];

	if (!k->cc[0])
	    continue;
	json_obj(j);
	json_kstr(j, "country", k->cc);
	json_kuint(j, "days", k->days);
	json_kuint(j, "first_day", k->first_day);
	json_kuint(j, "last_day", k->last_day);
	json_kbool(j, "usual", usual(c, u, k));
	json_obj_end(j);
    }
    json_arr_end(j);
    json_key(j, "last_place");
    if (u->last_login.time) {
	json_obj(j);
	json_kuint(j, "time", u->last_login.time);
	json_kint(j, "lat_centideg", u->last_login.lat_c);
	json_kint(j, "lon_centideg", u->last_login.lon_c);
	json_kuint(j, "accuracy_km", u->last_login.acc_km);
	json_obj_end(j);
    } else {
	json_null(j);
    }
    json_key(j, "queue_ids");
    json_arr(j);
    for (int i = 0; i < STORE_QIDS; i++)
	if (u->qids[i][0])
	    json_str(j, u->qids[i]);
    json_arr_end(j);
}

/* ips_json - "ips": every remembered address */
static void ips_json(struct json *j, const struct cmd_places *p,
		     const GEO *geo)
{
    const struct store_user *u = p->u;

    json_key(j, "ips");
    json_arr(j);
    for (uint32_t i = 0; i < u->nips && i < STORE_IPS_MAX; i++) {
	const struct store_ip *ip = &u->ips[i];
	char a[ADDR_STRLEN], org[GEO_ORG_MAX], cc[3];

	store_ip_cc(ip, cc);
	org_of(geo, &ip->ip, org, sizeof(org));
	json_obj(j);
	json_kstr(j, "address", addr_format(&ip->ip, a, sizeof(a)));
	json_kuint(j, "first_seen", ip->first_seen);
	json_kuint(j, "last_seen", ip->last_seen);
	json_kuint(j, "count", ip->count);
	json_kstr(j, "country", cc);
	json_kuint(j, "asn", ip->asn);
	json_kstr(j, "organisation", org);
	json_kstr(j, "familiar", cmd_places_word(cmd_places_why(p, i)));
	json_obj_end(j);
    }
    json_arr_end(j);
}

/* user_json - "show USER" as one document */
static int user_json(struct ctl *c, const struct cmd_places *p,
		     uint32_t window, const GEO *geo)
{
    const struct store_user *u = p->u;
    struct cmd_distinct d;
    struct json j;

    cmd_state_distinct(u, c->now, window, &d);
    json_init(&j, c->out);
    json_obj(&j);
    json_kstr(&j, "kind", "user");
    json_kstr(&j, "login", u->login);
    json_kuint(&j, "first_seen", u->first_seen);
    json_kuint(&j, "last_seen", u->last_seen);
    ctl_block_json(c, &j, "block", &u->block);
    json_kuint(&j, "window", window);
    distinct_json(&j, &d);
    entry_counters_json(&j, &u->win, c->now);
    baseline_json(c, &j, u);
    cmd_places_json(p, &j);
    ips_json(&j, p, geo);
    json_obj_end(&j);
    return json_finish(&j);
}

/* show_user - one login */
static int show_user(struct ctl *c, const char *login, uint32_t window)
{
    struct store_user *u = malloc(sizeof(*u));
    struct cmd_places *p = malloc(sizeof(*p));
    GEO *geo = NULL;
    int rc = STORE_TIMEOUT;

    if (u == NULL || p == NULL) {
	free(u);
	free(p);
	return ctl_error(c, CTL_EXIT_UNAVAILABLE, "out of memory");
    }
    if ((rc = ctl_user_get(c, login, u)) != STORE_OK) {
	char what[STORE_LOGIN_MAX + 8];

	snprintf(what, sizeof(what), "user %.*s", STORE_LOGIN_MAX, login);
	rc = ctl_store_error(c, rc, what);
	goto out;
    }
    if ((rc = cmd_places_load(c, u, p)) != STORE_OK) {
	rc = ctl_store_error(c, rc, "the addresses' entries");
	goto out;
    }
    geo = geo_start(c);
    if (c->json)
	rc = user_json(c, p, window, geo);
    else
	rc = user_summary(c, p, window) || cmd_places_nets_table(p)
	    || user_ips_table(c, p, geo);
    if (rc != 0)
	rc = ctl_error(c, CTL_EXIT_UNAVAILABLE, "cannot write the output");
  out:
    geo_close(geo);
    free(p);
    free(u);
    return rc;
}

/* The logins that used one address, found by a walk over the users. */
struct ip_users {
    struct addr ip;
    struct ip_user {
	char login[STORE_LOGIN_MAX];
	struct store_ip seen;
    } *v;
    size_t n, cap;
    int oom;
};

/* ip_user_cb - note a user whose list has the address */
static int ip_user_cb(const struct store_user *u, void *ctx)
{
    struct ip_users *r = ctx;
    const struct store_ip *seen = store_user_ip(u, &r->ip);

    if (seen == NULL)
	return 0;
    if (r->n == r->cap) {
	size_t cap = r->cap ? 2 * r->cap : 16;
	struct ip_user *v = realloc(r->v, cap * sizeof(*v));

	if (v == NULL) {
	    r->oom = 1;
	    return 1;
	}
	r->v = v;
	r->cap = cap;
    }
    memcpy(r->v[r->n].login, u->login, STORE_LOGIN_MAX);
    r->v[r->n].login[STORE_LOGIN_MAX - 1] = '\0';
    r->v[r->n++].seen = *seen;
    return 0;
}

static int ip_users_find(struct ctl *c, struct ip_users *r)
{
    int rc = ctl_walk(c, ip_user_cb, NULL, r, &r->n, sizeof(r->n));

    return rc == STORE_OK && r->oom ? STORE_EIO : rc;
}

/* ip_json - "show IP" as one document */
static int ip_json(struct ctl *c, const struct store_client *cl, int known,
		   const struct ip_users *r, const struct geo_info *gi,
		   const char *kind)
{
    char a[ADDR_STRLEN];
    struct json j;

    json_init(&j, c->out);
    json_obj(&j);
    json_kstr(&j, "kind", "address");
    json_kstr(&j, "address", addr_format(&r->ip, a, sizeof(a)));
    json_kstr(&j, "network", kind);
    json_kstr(&j, "country", gi->cc);
    json_kuint(&j, "asn", gi->asn);
    json_kstr(&j, "organisation", gi->org);
    json_key(&j, "client");
    if (known) {
	json_obj(&j);
	json_kuint(&j, "first_seen", cl->first_seen);
	json_kuint(&j, "last_seen", cl->last_seen);
	ctl_block_json(c, &j, "block", &cl->block);
	entry_counters_json(&j, &cl->win, c->now);
	json_kuint(&j, "logins_remembered", cl->nlogins);
	json_obj_end(&j);
    } else {
	json_null(&j);
    }
    json_key(&j, "users");
    json_arr(&j);
    for (size_t i = 0; i < r->n; i++) {
	json_obj(&j);
	json_kstr(&j, "login", r->v[i].login);
	json_kuint(&j, "first_seen", r->v[i].seen.first_seen);
	json_kuint(&j, "last_seen", r->v[i].seen.last_seen);
	json_kuint(&j, "count", r->v[i].seen.count);
	json_obj_end(&j);
    }
    json_arr_end(&j);
    json_obj_end(&j);
    return json_finish(&j);
}

/* ip_text - "show IP" for a person */
static int ip_text(struct ctl *c, const struct store_client *cl, int known,
		   const struct ip_users *r, const struct geo_info *gi,
		   const char *kind)
{
    static const struct table_col ucols[] = {
	{"USER", TABLE_LEFT, 1, 12, 0}, {"FIRST", TABLE_RIGHT, 0, 0, 0},
	{"LAST", TABLE_RIGHT, 0, 0, 0}, {"COUNT", TABLE_RIGHT, 0, 0, 0},
    };
    struct table *t = kv_table(), *ut = table_new(ucols, 4);
    char a[ADDR_STRLEN], line[LINE_MAX_TEXT];
    int rc = t == NULL || ut == NULL ? -1 : 0;

    snprintf(line, sizeof(line), "%s (%s)", addr_format(&r->ip, a,
							 sizeof(a)), kind);
    rc |= t ? kv(t, "address", line) : -1;
    snprintf(line, sizeof(line), "%s, AS%u %s", gi->cc[0] ? gi->cc : "--",
	     gi->asn, gi->org);
    rc |= t ? kv(t, "geo", gi->asn || gi->cc[0] ? line : "unknown") : -1;
    if (known && rc == 0) {
	rc |= entry_seen_rows(c, t, cl->first_seen, cl->last_seen,
			      &cl->block);
	rc |= entry_counter_rows(c, t, &cl->win);
	snprintf(line, sizeof(line), "%u remembered", cl->nlogins);
	rc |= kv(t, "logins", line);
    } else if (rc == 0) {
	rc |= kv(t, "client", "no client entry (seen only in user lists)");
    }
    for (size_t i = 0; rc == 0 && i < r->n; i++) {
	char first[TEXT_AGE_MAX], last[TEXT_AGE_MAX], count[12];
	const char *cells[] = { r->v[i].login, first, last, count };

	text_age(c->now, r->v[i].seen.first_seen, first, sizeof(first));
	text_age(c->now, r->v[i].seen.last_seen, last, sizeof(last));
	snprintf(count, sizeof(count), "%u", r->v[i].seen.count);
	rc = table_add(ut, cells);
    }
    if (rc == 0)
	rc = table_print(t, c->out, TABLE_WIDTH);
    if (rc == 0 && r->n > 0) {
	fputc('\n', c->out);
	rc = table_print(ut, c->out, TABLE_WIDTH);
    }
    table_free(t);
    table_free(ut);
    return rc;
}

/* show_ip - one client address */
static int show_ip(struct ctl *c, const struct addr *ip)
{
    struct ip_users r;
    struct store_client *cl = malloc(sizeof(*cl));
    struct geo_info gi;
    const char *kind;
    GEO *geo = NULL;
    int rc = STORE_TIMEOUT, known;

    memset(&r, 0, sizeof(r));
    memset(&gi, 0, sizeof(gi));
    r.ip = *ip;
    if (cl == NULL)
	return ctl_error(c, CTL_EXIT_UNAVAILABLE, "out of memory");
    rc = ctl_client_get(c, ip, cl);
    known = rc == STORE_OK;
    if ((rc == STORE_OK || rc == STORE_NOTFOUND)
	&& (rc = ip_users_find(c, &r)) == STORE_OK && !known && r.n == 0)
	rc = STORE_NOTFOUND;
    if (rc != STORE_OK) {
	char what[ADDR_STRLEN + 8], a[ADDR_STRLEN];

	snprintf(what, sizeof(what), "address %s", addr_format(ip, a,
							       sizeof(a)));
	rc = ctl_store_error(c, rc, what);
	goto out;
    }
    if ((geo = geo_start(c)) != NULL && geo_lookup(geo, ip, &gi) != GEO_OK)
	memset(&gi, 0, sizeof(gi));
    kind = cmd_state_kind(c, ip);
    rc = c->json ? ip_json(c, cl, known, &r, &gi, kind)
	: ip_text(c, cl, known, &r, &gi, kind);
    if (rc != 0)
	rc = ctl_error(c, CTL_EXIT_UNAVAILABLE, "cannot write the output");
  out:
    geo_close(geo);
    free(r.v);
    free(cl);
    return rc;
}

/* cmd_show - show USER|IP */
int cmd_show(struct ctl *c)
{
    struct addr ip;
    uint32_t window;
    int rc;

    if ((rc = ctl_opt_window(c, &window)) != 0)
	return rc;
    if (addr_parse(c->args[0], &ip) == 0)
	return show_ip(c, &ip);
    return show_user(c, c->args[0], window);
}
