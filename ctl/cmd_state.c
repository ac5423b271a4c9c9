/*
 * cmd_state - the state tables: "users" (the riskiest logins now) and
 * "clients" (hosts by rate), as aligned tables or JSON.
 *
 * Contract: each walk copies entries out through store_user_each /
 * store_client_each (a read-only handle: no lock, consistent copies
 * under the stripes' write sequence, store_ro.c),
 * reduces every copy to a small row in our own memory and prints only
 * after the walk is over: nothing is held while printing, so a slow
 * terminal never stalls the milter. An entry whose stripe stays busy is
 * skipped and counted (ctl_main notes how many). Distinct
 * counts and rates cover a window (--window, default 1h), counted the way
 * the rules count them: addresses whose last sighting is inside it.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd_state.h"
#include "json.h"
#include "metrics.h"
#include "table.h"
#include "text.h"

#define LIMIT_DEFAULT 25	/* rows in a human table; 0 = all */
#define LIMIT_MAX 100000000u
#define ROWS_INITIAL 256

/* One line of "users". */
struct user_row {
    char login[STORE_LOGIN_MAX];
    struct cmd_distinct d;
    uint64_t msgs, rcpts, bytes;
    uint32_t first_seen, last_seen;
    struct store_block block;
};

/* One line of "clients". */
struct client_row {
    struct addr ip;
    const char *kind;
    uint64_t msgs, rcpts, bytes;
    uint32_t users;
    uint32_t first_seen, last_seen;
    struct store_block block;
};

/* A growing array of rows filled by a walk. */
struct rows {
    void *v;
    size_t n, cap, size;
    uint32_t now, window;
    const struct ctl *c;
    int oom;
};

/* The cells of a row of a human table: their texts, in buffers of
 * CELL_MAX (a block's text is the longest). */
#define CELLS_MAX 8
#define CELL_MAX 96

struct cells {
    char b[CELLS_MAX][CELL_MAX];
    const char *v[CELLS_MAX];
};

/* What "users" and "clients" differ in; list_cmd() does the rest. */
struct listing {
    const char *name;		/* "users", "clients": JSON key and texts */
    int users;			/* walk the users (1) or the clients (0) */
    size_t row_size;
    int sort_lo, sort_hi, sort_dflt;	/* --sort: sort_names[lo..hi] */
    /* qsort_r order; *key is the --sort index minus sort_lo */
    int (*cmp)(const void *a, const void *b, void *key);
    void (*json)(const struct ctl *c, struct json *j, const void *row);
    const struct table_col *cols;	/* the human table's, ncols of them */
    size_t ncols;
    void (*cells)(const struct ctl *c, const void *row, struct cells *out);
};

enum sort_key { SORT_IPS, SORT_COUNTRIES, SORT_MESSAGES, SORT_RECIPIENTS,
    SORT_USERS };

static const char *const sort_names[] = {
    [SORT_IPS] = "ips", [SORT_COUNTRIES] = "countries",
    [SORT_MESSAGES] = "messages", [SORT_RECIPIENTS] = "recipients",
    [SORT_USERS] = "users",
};

/* cc_cmp - qsort order of country codes */
static int cc_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* cmd_state_distinct - distinct IPs, prefixes, countries, ASNs in w */
void cmd_state_distinct(const struct store_user *u, uint32_t now, uint32_t w,
			struct cmd_distinct *d)
{
    struct addr pfx[STORE_IPS_MAX];
    uint32_t asn[STORE_IPS_MAX];

    memset(d, 0, sizeof(*d));
    for (uint32_t i = 0; i < u->nips && i < STORE_IPS_MAX; i++) {
	const struct store_ip *ip = &u->ips[i];
	struct addr p;
	uint32_t k;
	char cc[3];

	if (!metrics_in_window(ip->last_seen, now, w))
	    continue;
	store_ip_cc(ip, cc);
	d->ips++;
	addr_prefix(&ip->ip, &p);
	for (k = 0; k < d->prefixes && !addr_equal(&pfx[k], &p); k++)
	    ;
	if (k == d->prefixes)
	    pfx[d->prefixes++] = p;
	for (k = 0; cc[0] && k < d->countries
	     && memcmp(d->ccs[k], cc, 2) != 0; k++)
	    ;
	if (cc[0] && k == d->countries)
	    memcpy(d->ccs[d->countries++], cc, 3);
	for (k = 0; ip->asn && k < d->asns && asn[k] != ip->asn; k++)
	    ;
	if (ip->asn && k == d->asns)
	    asn[d->asns++] = ip->asn;
    }
    qsort(d->ccs, d->countries, sizeof(d->ccs[0]), cc_cmp);
}

/* rows_push - room for one more row; NULL (and oom) if none */
static void *rows_push(struct rows *r)
{
    if (r->n == r->cap) {
	size_t cap = r->cap ? r->cap * 2 : ROWS_INITIAL;
	void *v;

	if (cap > SIZE_MAX / r->size
	    || (v = realloc(r->v, cap * r->size)) == NULL) {
	    r->oom = 1;
	    return NULL;
	}
	r->v = v;
	r->cap = cap;
    }
    return (char *) r->v + r->n++ * r->size;
}

/* user_cb - reduce one user copy to a row */
static int user_cb(const struct store_user *u, void *ctx)
{
    struct rows *r = ctx;
    struct user_row *row = rows_push(r);

    if (row == NULL)
	return 1;
    memcpy(row->login, u->login, sizeof(row->login));
    row->login[sizeof(row->login) - 1] = '\0';
    cmd_state_distinct(u, r->now, r->window, &row->d);
    row->msgs = store_win_sum(&u->win, STORE_MSGS, r->now, r->window);
    row->rcpts = store_win_sum(&u->win, STORE_RCPTS, r->now, r->window);
    row->bytes = store_win_sum(&u->win, STORE_BYTES, r->now, r->window);
    row->first_seen = u->first_seen;
    row->last_seen = u->last_seen;
    row->block = u->block;
    return 0;
}

/* cmd_state_kind - trusted, internal or external (configured networks) */
const char *cmd_state_kind(const struct ctl *c, const struct addr *ip)
{
    if (addr_cidr_list_match(&c->cfg->networks.trusted, ip))
	return "trusted";
    if (addr_cidr_list_match(&c->cfg->networks.internal, ip))
	return "internal";
    return "external";
}

/* client_cb - reduce one client copy to a row */
static int client_cb(const struct store_client *cl, void *ctx)
{
    struct rows *r = ctx;
    struct client_row *row = rows_push(r);

    if (row == NULL)
	return 1;
    row->ip = cl->ip;
    row->kind = cmd_state_kind(r->c, &cl->ip);
    row->msgs = store_win_sum(&cl->win, STORE_MSGS, r->now, r->window);
    row->rcpts = store_win_sum(&cl->win, STORE_RCPTS, r->now, r->window);
    row->bytes = store_win_sum(&cl->win, STORE_BYTES, r->now, r->window);
    row->users = metrics_client_logins(cl, r->now, r->window);
    row->first_seen = cl->first_seen;
    row->last_seen = cl->last_seen;
    row->block = cl->block;
    return 0;
}

/* walk - fill rows from the users or the clients, retrying busy walks */
static int walk(struct ctl *c, struct rows *r, int users)
{
    int rc = ctl_walk(c, users ? user_cb : NULL, users ? NULL : client_cb,
		      r, &r->n, sizeof(r->n));

    if (rc == STORE_OK && r->oom)
	return ctl_error(c, CTL_EXIT_UNAVAILABLE, "out of memory");
    if (rc != STORE_OK)
	return ctl_store_error(c, rc, users ? "users" : "clients");
    return 0;
}

/* cmp_desc - a descending compare of two counts */
static int cmp_desc(uint64_t a, uint64_t b)
{
    return a > b ? -1 : a < b;
}

/* user_cmp - sort order: the key, then countries, IPs, messages, name */
static int user_cmp(const void *pa, const void *pb, void *key)
{
    const struct user_row *a = pa, *b = pb;
    uint64_t ka[] = { a->d.ips, a->d.countries, a->msgs, a->rcpts };
    uint64_t kb[] = { b->d.ips, b->d.countries, b->msgs, b->rcpts };
    static const int ties[] = { SORT_COUNTRIES, SORT_IPS, SORT_MESSAGES,
	SORT_RECIPIENTS };
    int k = *(const int *) key, r;

    if ((r = cmp_desc(ka[k], kb[k])) != 0)
	return r;
    for (size_t i = 0; i < sizeof(ties) / sizeof(ties[0]); i++)
	if ((r = cmp_desc(ka[ties[i]], kb[ties[i]])) != 0)
	    return r;
    return strcmp(a->login, b->login);
}

/* client_cmp - sort order: the key, then messages, address */
static int client_cmp(const void *pa, const void *pb, void *key)
{
    const struct client_row *a = pa, *b = pb;
    uint64_t ka[] = { a->msgs, a->rcpts, a->users };
    uint64_t kb[] = { b->msgs, b->rcpts, b->users };
    int k = *(const int *) key, r;

    if ((r = cmp_desc(ka[k], kb[k])) != 0)
	return r;
    if ((r = cmp_desc(a->msgs, b->msgs)) != 0)
	return r;
    return memcmp(a->ip.b, b->ip.b, sizeof(a->ip.b));
}

/* parse_sort - --sort among the allowed names; -1 after a usage error */
static int parse_sort(struct ctl *c, int lo, int hi, int dflt)
{
    const char *s = c->opt[CTL_OPT_SORT];

    if (s == NULL)
	return dflt;
    for (int k = lo; k <= hi; k++)
	if (strcmp(s, sort_names[k]) == 0)
	    return k;
    ctl_usage_error(c, "--sort: one of %s", lo == SORT_IPS
		    ? "ips, countries, messages, recipients"
		    : "messages, recipients, users");
    return -1;
}

/* user_json - one user row as an object */
static void user_json(const struct ctl *c, struct json *j, const void *row)
{
    const struct user_row *u = row;

    json_obj(j);
    json_kstr(j, "login", u->login);
    json_kuint(j, "ips", u->d.ips);
    json_kuint(j, "prefixes", u->d.prefixes);
    json_kuint(j, "countries", u->d.countries);
    json_key(j, "country_list");
    json_arr(j);
    for (uint32_t i = 0; i < u->d.countries; i++)
	json_str(j, u->d.ccs[i]);
    json_arr_end(j);
    json_kuint(j, "asns", u->d.asns);
    json_kuint(j, "messages", u->msgs);
    json_kuint(j, "recipients", u->rcpts);
    json_kuint(j, "bytes", u->bytes);
    json_kuint(j, "first_seen", u->first_seen);
    json_kuint(j, "last_seen", u->last_seen);
    ctl_block_json(c, j, "block", &u->block);
    json_obj_end(j);
}

static const struct table_col user_cols[] = {
    {"USER", TABLE_LEFT, 1, 12, 0}, {"IPS", TABLE_RIGHT, 0, 0, 0},
    {"CTRY", TABLE_RIGHT, 0, 0, 0}, {"ASNS", TABLE_RIGHT, 0, 0, 0},
    {"MSGS", TABLE_RIGHT, 0, 0, 0}, {"RCPTS", TABLE_RIGHT, 0, 0, 0},
    {"LAST", TABLE_LEFT, 0, 0, 0}, {"BLOCKED", TABLE_LEFT, 1, 7, 0},
};

/* user_cells - one user row as the cells of user_cols */
static void user_cells(const struct ctl *c, const void *row, struct cells *o)
{
    const struct user_row *u = row;

    o->v[0] = u->login;
    snprintf(o->b[1], CELL_MAX, "%u", u->d.ips);
    snprintf(o->b[2], CELL_MAX, "%u", u->d.countries);
    snprintf(o->b[3], CELL_MAX, "%u", u->d.asns);
    snprintf(o->b[4], CELL_MAX, "%llu", (unsigned long long) u->msgs);
    snprintf(o->b[5], CELL_MAX, "%llu", (unsigned long long) u->rcpts);
    text_age(c->now, u->last_seen, o->b[6], CELL_MAX);
    ctl_block_text(c, &u->block, o->b[7], CELL_MAX);
}

/* client_json - one client row as an object */
static void client_json(const struct ctl *c, struct json *j, const void *row)
{
    const struct client_row *cl = row;
    char ip[ADDR_STRLEN];

    json_obj(j);
    json_kstr(j, "address", addr_format(&cl->ip, ip, sizeof(ip)));
    json_kstr(j, "kind", cl->kind);
    json_kuint(j, "messages", cl->msgs);
    json_kuint(j, "recipients", cl->rcpts);
    json_kuint(j, "bytes", cl->bytes);
    json_kuint(j, "users", cl->users);
    json_kuint(j, "first_seen", cl->first_seen);
    json_kuint(j, "last_seen", cl->last_seen);
    ctl_block_json(c, j, "block", &cl->block);
    json_obj_end(j);
}

static const struct table_col client_cols[] = {
    {"CLIENT", TABLE_LEFT, 1, 15, 0}, {"KIND", TABLE_LEFT, 0, 0, 0},
    {"MSGS", TABLE_RIGHT, 0, 0, 0}, {"RCPTS", TABLE_RIGHT, 0, 0, 0},
    {"BYTES", TABLE_RIGHT, 0, 0, 0}, {"USERS", TABLE_RIGHT, 0, 0, 0},
    {"LAST", TABLE_LEFT, 0, 0, 0}, {"BLOCKED", TABLE_LEFT, 1, 7, 0},
};

/* client_cells - one client row as the cells of client_cols */
static void client_cells(const struct ctl *c, const void *row,
			 struct cells *o)
{
    const struct client_row *cl = row;

    addr_format(&cl->ip, o->b[0], CELL_MAX);
    o->v[1] = cl->kind;
    snprintf(o->b[2], CELL_MAX, "%llu", (unsigned long long) cl->msgs);
    snprintf(o->b[3], CELL_MAX, "%llu", (unsigned long long) cl->rcpts);
    text_size(cl->bytes, o->b[4], CELL_MAX);
    snprintf(o->b[5], CELL_MAX, "%u", cl->users);
    text_age(c->now, cl->last_seen, o->b[6], CELL_MAX);
    ctl_block_text(c, &cl->block, o->b[7], CELL_MAX);
}

/* list_table - the human table of the first n rows */
static int list_table(struct ctl *c, const struct listing *l,
		      const void *rows, size_t n)
{
    struct table *t = table_new(l->cols, l->ncols);
    struct cells cs;
    int rc = 0;

    assert(l->ncols <= CELLS_MAX);
    if (t != NULL)
	table_wrap(t);		/* a block's rule name is never cut */
    for (size_t i = 0; t != NULL && rc == 0 && i < n; i++) {
	for (size_t k = 0; k < l->ncols; k++)
	    cs.v[k] = cs.b[k];	/* a cell of its own, unless cells() says */
	l->cells(c, (const char *) rows + i * l->row_size, &cs);
	rc = table_add(t, cs.v);
    }
    if (t == NULL || rc != 0 || table_print(t, c->out, TABLE_WIDTH) != 0)
	rc = ctl_error(c, CTL_EXIT_UNAVAILABLE, "cannot print the table");
    table_free(t);
    return rc;
}

/* list_cmd - walk, sort and print (the first --limit rows of) a listing */
static int list_cmd(struct ctl *c, const struct listing *l)
{
    struct rows r = { NULL, 0, 0, l->row_size, c->now, 0, c, 0 };
    uint64_t limit;
    uint32_t window;
    char win[TEXT_AGE_MAX];
    int key, k, rc;

    if ((key = parse_sort(c, l->sort_lo, l->sort_hi, l->sort_dflt)) < 0)
	return CTL_EXIT_USAGE;
    if ((rc = ctl_opt_window(c, &window)) != 0
	|| (rc = ctl_opt_uint(c, CTL_OPT_LIMIT, c->json ? 0 : LIMIT_DEFAULT,
			      LIMIT_MAX, &limit)) != 0)
	return rc;
    r.window = window;
    if ((rc = walk(c, &r, l->users)) != 0)
	goto out;
    k = key - l->sort_lo;
    qsort_r(r.v, r.n, r.size, l->cmp, &k);
    if (limit == 0 || limit > r.n)
	limit = r.n;
    text_left(0, window, win, sizeof(win));
    if (c->json) {
	struct json j;

	json_init(&j, c->out);
	json_obj(&j);
	json_kuint(&j, "now", c->now);
	json_kuint(&j, "window", window);
	json_kstr(&j, "sort", sort_names[key]);
	json_kuint(&j, "total", r.n);
	json_key(&j, l->name);
	json_arr(&j);
	for (size_t i = 0; i < limit; i++)
	    l->json(c, &j, (const char *) r.v + i * r.size);
	json_arr_end(&j);
	json_obj_end(&j);
	rc = ctl_json_finish(c, &j);
    } else if (r.n == 0) {
	fprintf(c->out, "no %s in the state\n", l->name);
    } else if ((rc = list_table(c, l, r.v, limit)) == 0) {
	fprintf(c->out, "(%llu of %zu %s, by %s, window %s)\n",
		(unsigned long long) limit, r.n, l->name, sort_names[key],
		win);
    }
  out:
    free(r.v);
    return rc;
}

static const struct listing users_listing = {
    "users", 1, sizeof(struct user_row), SORT_IPS, SORT_RECIPIENTS,
    SORT_COUNTRIES, user_cmp, user_json,
    user_cols, sizeof(user_cols) / sizeof(user_cols[0]), user_cells,
};

static const struct listing clients_listing = {
    "clients", 0, sizeof(struct client_row), SORT_MESSAGES, SORT_USERS,
    SORT_MESSAGES, client_cmp, client_json,
    client_cols, sizeof(client_cols) / sizeof(client_cols[0]), client_cells,
};

/* list_check - --sort, --window and --limit, before the state is opened */
static int list_check(struct ctl *c, const struct listing *l)
{
    uint64_t limit;
    uint32_t window;
    int rc;

    if (parse_sort(c, l->sort_lo, l->sort_hi, l->sort_dflt) < 0)
	return CTL_EXIT_USAGE;
    if ((rc = ctl_opt_window(c, &window)) != 0)
	return rc;
    return ctl_opt_uint(c, CTL_OPT_LIMIT, 0, LIMIT_MAX, &limit);
}

/* cmd_users_check - users' arguments */
int cmd_users_check(struct ctl *c)
{
    return list_check(c, &users_listing);
}

/* cmd_clients_check - clients' arguments */
int cmd_clients_check(struct ctl *c)
{
    return list_check(c, &clients_listing);
}

/* cmd_users - the riskiest logins now */
int cmd_users(struct ctl *c)
{
    return list_cmd(c, &users_listing);
}

/* cmd_clients - client hosts by rate */
int cmd_clients(struct ctl *c)
{
    return list_cmd(c, &clients_listing);
}
