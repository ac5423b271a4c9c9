/*
 * cmd_sites - "sites": what the engine learned of the site on its own,
 * with no admin input: the site's networks (each /24 or /48 a login came
 * from from a familiar place of its own) and the site's places (the AS
 * numbers and countries such logins use), each with the logins that
 * vouched for it within METRICS_SITE_WINDOW_S, the days they did, when
 * the last did, and whether it counts as the site's now
 * (metrics_site_network: policy.site_logins logins on policy.site_days
 * days). Newcomer-volume judges a login with no history against the
 * places; a login at one of the networks is at a place the site knows.
 *
 * Contract: one walk of the site's entries through store_site_each (a
 * read-only handle, consistent copies, no lock), reduced to rows in our
 * own memory and printed after the walk, as "users" and "clients" do; a
 * walk that meets a busy stripe starts again (CTL_WALK_TRIES). Whether an
 * entry counts is the engine's own answer, never recomputed here.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "json.h"
#include "metrics.h"
#include "table.h"
#include "text.h"

#define SITES_LIMIT_DEFAULT 25	/* rows in each human table; 0 = all */
#define SITES_LIMIT_MAX 100000000u
#define SITES_ROWS_INITIAL 64
#define SITES_CELLS 5
#define SITES_CELL_MAX 64

/* One site network or place. */
struct site_row {
    struct store_site_ref ref;
    uint32_t logins;		/* vouching within METRICS_SITE_WINDOW_S */
    uint32_t days;		/* days vouched on */
    uint32_t vouched;		/* the last vouch */
    bool site;			/* counts as the site's now */
};

/* What the walk gathers. */
struct site_rows {
    struct site_row *v;
    size_t n, cap, nets;
    const struct ctl *c;
    int oom;
};

/* site_cb - reduce one site entry to a row */
static int site_cb(const struct store_client *e, void *ctx)
{
    struct site_rows *r = ctx;
    struct site_row *row;

    if (r->n == r->cap) {
	size_t cap = r->cap ? r->cap * 2 : SITES_ROWS_INITIAL;
	struct site_row *v;

	if (cap > SIZE_MAX / sizeof(*v)
	    || (v = realloc(r->v, cap * sizeof(*v))) == NULL) {
	    r->oom = 1;
	    return 1;
	}
	r->v = v, r->cap = cap;
    }
    row = &r->v[r->n];
    if (store_site_ref(&e->ip, &row->ref) != STORE_OK)
	return 0;
    row->logins = metrics_client_logins(e, r->c->now, METRICS_SITE_WINDOW_S);
    row->days = e->vouch_days;
    row->vouched = e->vouched;
    row->site = metrics_site_network(r->c->cfg, e, r->c->now);
    r->nets += row->ref.net;
    r->n++;
    return 0;
}

/* site_cmp - networks first; the site's first, then by logins, days,
 * then the address or the place */
static int site_cmp(const void *pa, const void *pb)
{
    const struct site_row *a = pa, *b = pb;

    if (a->ref.net != b->ref.net)
	return a->ref.net ? -1 : 1;
    if (a->site != b->site)
	return a->site ? -1 : 1;
    if (a->logins != b->logins)
	return a->logins > b->logins ? -1 : 1;
    if (a->days != b->days)
	return a->days > b->days ? -1 : 1;
    if (a->ref.net)
	return memcmp(a->ref.ip.b, b->ref.ip.b, sizeof(a->ref.ip.b));
    if (a->ref.kind != b->ref.kind)
	return a->ref.kind == STORE_SITE_AS ? -1 : 1;
    return a->ref.id < b->ref.id ? -1 : a->ref.id > b->ref.id;
}

/* site_walk - fill rows from the site's entries, retrying busy walks */
static int site_walk(struct ctl *c, struct site_rows *r)
{
    int rc = STORE_TIMEOUT;

    for (int t = 0; rc == STORE_TIMEOUT && t < CTL_WALK_TRIES; t++) {
	if (t > 0)
	    usleep(CTL_WALK_RETRY_US);
	r->n = r->nets = 0;
	rc = store_site_each(c->st, c->now, site_cb, r);
    }
    if (rc == STORE_OK && r->oom)
	return ctl_error(c, CTL_EXIT_UNAVAILABLE, "out of memory");
    if (rc != STORE_OK)
	return ctl_store_error(c, rc, "sites");
    return 0;
}

/* site_name - a network as ADDR/BITS, a place as ASnnn or its country */
static void site_name(const struct site_row *s, char *buf, size_t len)
{
    char ip[ADDR_STRLEN];

    if (s->ref.net)
	snprintf(buf, len, "%s/%u", addr_format(&s->ref.ip, ip, sizeof(ip)),
		 s->ref.bits);
    else if (s->ref.kind == STORE_SITE_AS)
	snprintf(buf, len, "AS%u", s->ref.id);
    else
	snprintf(buf, len, "%c%c", (char) (s->ref.id >> 8),
		 (char) (s->ref.id & 0xff));
}

/* site_json - one row as an object */
static void site_json(const struct site_row *s, struct json *j)
{
    char name[CIDR_STRLEN];

    site_name(s, name, sizeof(name));
    json_obj(j);
    if (s->ref.net) {
	json_kstr(j, "network", name);
    } else if (s->ref.kind == STORE_SITE_AS) {
	json_kstr(j, "kind", "as");
	json_kuint(j, "asn", s->ref.id);
    } else {
	json_kstr(j, "kind", "country");
	json_kstr(j, "country", name);
    }
    json_kuint(j, "logins", s->logins);
    json_kuint(j, "days", s->days);
    json_kbool(j, "site", s->site);
    json_kuint(j, "vouched", s->vouched);
    json_obj_end(j);
}

/* sites_json - the document: the thresholds, the networks, the places */
static int sites_json(struct ctl *c, const struct site_rows *r,
		      uint64_t limit)
{
    struct json j;
    size_t places = r->n - r->nets;

    json_init(&j, c->out);
    json_obj(&j);
    json_kuint(&j, "now", c->now);
    json_kuint(&j, "window", METRICS_SITE_WINDOW_S);
    json_kuint(&j, "site_logins", c->cfg->policy.site_logins);
    json_kuint(&j, "site_days", c->cfg->policy.site_days);
    json_kuint(&j, "networks_total", r->nets);
    json_key(&j, "networks");
    json_arr(&j);
    for (size_t i = 0; i < r->nets && (limit == 0 || i < limit); i++)
	site_json(&r->v[i], &j);
    json_arr_end(&j);
    json_kuint(&j, "places_total", places);
    json_key(&j, "places");
    json_arr(&j);
    for (size_t i = 0; i < places && (limit == 0 || i < limit); i++)
	site_json(&r->v[r->nets + i], &j);
    json_arr_end(&j);
    json_obj_end(&j);
    return ctl_json_finish(c, &j);
}

/* sites_table - one human table (networks or places) of up to limit rows,
 * and its count line */
static int sites_table(struct ctl *c, const char *head, const char *what,
		       const struct site_row *rows, size_t n, uint64_t limit)
{
    const struct table_col cols[SITES_CELLS] = {
	{head, TABLE_LEFT, 0, 0, 0}, {"LOGINS", TABLE_RIGHT, 0, 0, 0},
	{"DAYS", TABLE_RIGHT, 0, 0, 0}, {"SITE", TABLE_LEFT, 0, 0, 0},
	{"VOUCHED", TABLE_LEFT, 0, 0, 0},
    };
    char b[SITES_CELLS][SITES_CELL_MAX];
    const char *v[SITES_CELLS] = { b[0], b[1], b[2], NULL, b[4] };
    struct table *t;
    size_t shown = limit == 0 || limit > n ? n : (size_t) limit;
    int rc = 0;

    if (n == 0) {
	fprintf(c->out, "no site %s in the state\n", what);
	return 0;
    }
    t = table_new(cols, SITES_CELLS);
    for (size_t i = 0; t != NULL && rc == 0 && i < shown; i++) {
	site_name(&rows[i], b[0], SITES_CELL_MAX);
	snprintf(b[1], SITES_CELL_MAX, "%u", rows[i].logins);
	snprintf(b[2], SITES_CELL_MAX, "%u", rows[i].days);
	v[3] = rows[i].site ? "yes" : "no";
	text_age(c->now, rows[i].vouched, b[4], SITES_CELL_MAX);
	rc = table_add(t, v);
    }
    if (t == NULL || rc != 0 || table_print(t, c->out, TABLE_WIDTH) != 0)
	rc = ctl_error(c, CTL_EXIT_UNAVAILABLE, "cannot print the table");
    else
	fprintf(c->out, "(%zu of %zu site %s)\n", shown, n, what);
    table_free(t);
    return rc;
}

/* sites_human - the thresholds, then the networks' and places' tables */
static int sites_human(struct ctl *c, const struct site_rows *r,
		       uint64_t limit)
{
    const struct cfg_policy *p = &c->cfg->policy;
    char win[TEXT_AGE_MAX];
    int rc;

    if (p->site_logins == 0)
	fprintf(c->out, "site learning is off (policy.site_logins = 0):"
		" nothing counts as the site's\n");
    else {
	text_left(0, METRICS_SITE_WINDOW_S, win, sizeof(win));
	fprintf(c->out, "the site's: %u logins within %s on %u days\n",
		p->site_logins, win, p->site_days);
    }
    if ((rc = sites_table(c, "NETWORK", "networks", r->v, r->nets,
			  limit)) != 0)
	return rc;
    return sites_table(c, "PLACE", "places", r->v + r->nets, r->n - r->nets,
		       limit);
}

/* cmd_sites_check - --limit, before the state is opened */
int cmd_sites_check(struct ctl *c)
{
    uint64_t limit;

    return ctl_opt_uint(c, CTL_OPT_LIMIT, 0, SITES_LIMIT_MAX, &limit);
}

/* cmd_sites - the site's networks and places */
int cmd_sites(struct ctl *c)
{
    struct site_rows r = { NULL, 0, 0, 0, c, 0 };
    uint64_t limit;
    int rc;

    if ((rc = ctl_opt_uint(c, CTL_OPT_LIMIT, c->json ? 0
			   : SITES_LIMIT_DEFAULT, SITES_LIMIT_MAX,
			   &limit)) != 0)
	return rc;
    if ((rc = site_walk(c, &r)) != 0)
	goto out;
    if (r.n > 0)
	qsort(r.v, r.n, sizeof(r.v[0]), site_cmp);
    rc = c->json ? sites_json(c, &r, limit) : sites_human(c, &r, limit);
  out:
    free(r.v);
    return rc;
}
