/*
 * cmd_unblock_all - unblock --all [--rule NAME] [--by rule|admin]: lift
 * every block of the state that matches the filters, would-be blocks of
 * dry run included.
 *
 * Contract: the state is walked first (copies, one stripe at a time) and
 * the matching blocks are lifted one by one afterwards, each only if it is
 * still the block the walk saw (store_*_unblock_if): a block set or
 * extended in between is left alone and reported. --rule matches a rule's
 * block by the rule's identity (its name), so it works for a rule since
 * renamed away from the configuration too. Exit 0 when the walk worked,
 * whether anything matched or not.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "json.h"
#include "log.h"
#include "text.h"

/* What to lift. */
struct filter {
    int by;			/* enum store_setby; STORE_BY_NONE: any */
    const char *rule;		/* NULL: any */
    uint32_t rule_id;
};

/* One block found by the walk. */
struct found {
    int is_ip;
    struct addr ip;
    char login[STORE_LOGIN_MAX];
    struct store_block block;
};

struct walk {
    const struct filter *f;
    struct found *v;
    size_t n, cap;
    int oom;
};

/* filter_of - --by and --rule; usage errors */
static int filter_of(struct ctl *c, struct filter *f)
{
    const char *by = c->opt[CTL_OPT_BY];

    memset(f, 0, sizeof(*f));
    if (c->nargs != 0)
	return ctl_usage_error(c, "unblock --all takes no USER or IP");
    if (by != NULL && strcmp(by, "rule") == 0)
	f->by = STORE_BY_RULE;
    else if (by != NULL && strcmp(by, "admin") == 0)
	f->by = STORE_BY_ADMIN;
    else if (by != NULL)
	return ctl_usage_error(c, "--by: rule or admin");
    if ((f->rule = c->opt[CTL_OPT_RULE]) != NULL) {
	if (f->by == STORE_BY_ADMIN)
	    return ctl_usage_error(c, "--rule names a rule: not with --by"
				   " admin");
	f->by = STORE_BY_RULE;
	f->rule_id = cfg_rule_id(f->rule);
	if (cfg_rule_index(c->cfg, f->rule) < 0)
	    ctl_error(c, 0, "warning: no rule \"%.*s\" in %s; lifting the"
		      " blocks it set before", CFG_NAME_MAX, f->rule,
		      c->cfg->file);
    }
    return 0;
}

/* matches - does a block pass the filters? */
static int matches(const struct filter *f, const struct store_block *b)
{
    char kept[STORE_REASON_MAX + 1];

    if (b->until == 0 || (f->by != STORE_BY_NONE && b->setby != f->by))
	return 0;
    if (f->rule == NULL)
	return 1;
    memcpy(kept, b->reason, sizeof(b->reason));
    kept[sizeof(b->reason)] = '\0';
    return b->rule_id == f->rule_id
	&& strncmp(f->rule, kept, strlen(kept)) == 0;
}

/* push - room for one more found block, or NULL */
static struct found *push(struct walk *w)
{
    if (w->n == w->cap) {
	size_t cap = w->cap ? w->cap * 2 : 64;
	struct found *v = reallocarray(w->v, cap, sizeof(*v));

	if (v == NULL) {
	    w->oom = 1;
	    return NULL;
	}
	w->v = v, w->cap = cap;
    }
    memset(&w->v[w->n], 0, sizeof(w->v[w->n]));
    return &w->v[w->n++];
}

/* user_cb - a user whose block matches */
static int user_cb(const struct store_user *u, void *ctx)
{
    struct walk *w = ctx;
    struct found *x;

    if (!matches(w->f, &u->block))
	return 0;
    if ((x = push(w)) == NULL)
	return 1;
    memcpy(x->login, u->login, sizeof(x->login));
    x->login[sizeof(x->login) - 1] = '\0';
    x->block = u->block;
    return 0;
}

/* client_cb - a client whose block matches */
static int client_cb(const struct store_client *cl, void *ctx)
{
    struct walk *w = ctx;
    struct found *x;

    if (!matches(w->f, &cl->block))
	return 0;
    if ((x = push(w)) == NULL)
	return 1;
    x->is_ip = 1;
    x->ip = cl->ip;
    x->block = cl->block;
    return 0;
}

/* collect - both tables, a walk that meets a busy stripe starts again */
static int collect(struct ctl *c, struct walk *w)
{
    int rc = ctl_walk(c, user_cb, client_cb, w, &w->n, sizeof(w->n));

    if (rc == STORE_OK && w->oom)
	return ctl_error(c, CTL_EXIT_UNAVAILABLE, "out of memory");
    if (rc != STORE_OK)
	return ctl_store_error(c, rc, "blocks");
    return 0;
}

/* lift - one found block, if it is still the one seen; store status */
static int lift(struct ctl *c, const struct found *x)
{
    return x->is_ip ? store_client_unblock_if(c->st, &x->ip, &x->block, c->now)
	: store_user_unblock_if(c->st, x->login, &x->block, c->now);
}

/* name_of - "user alice" / "address 192.0.2.1", printable */
static void name_of(const struct found *x, char *buf, size_t len)
{
    char raw[STORE_LOGIN_MAX + ADDR_STRLEN + 16], a[ADDR_STRLEN];

    snprintf(raw, sizeof(raw), "%s %s", x->is_ip ? "address" : "user",
	     x->is_ip ? addr_format(&x->ip, a, sizeof(a)) : x->login);
    text_clean(raw, strlen(raw), buf, len);
}

/* lift_one - lift one block and say so; 1 if lifted, 0 if left */
static int lift_one(struct ctl *c, struct json *j, const struct found *x,
		    int *rc)
{
    char who[LOG_VALUE_MAX + 1], line[256], a[ADDR_STRLEN];
    int s = lift(c, x);

    if (s != STORE_OK && s != STORE_NOTFOUND) {
	name_of(x, who, sizeof(who));
	*rc = ctl_store_error(c, s, who);
	return 0;
    }
    if (j != NULL) {
	json_obj(j);
	json_kstr(j, "kind", x->is_ip ? "address" : "user");
	json_kstr(j, "key", x->is_ip ? addr_format(&x->ip, a, sizeof(a))
		  : x->login);
	json_kbool(j, "changed", s == STORE_OK);
	ctl_block_json(c, j, "block", &x->block);
	json_obj_end(j);
	return s == STORE_OK;
    }
    name_of(x, who, sizeof(who));
    ctl_block_text(c, &x->block, line, sizeof(line));
    if (s == STORE_OK)
	fprintf(c->out, "unblocked %s: %s\n", who, line);
    else
	ctl_error(c, 0, "left %s: its block changed since it was read", who);
    return s == STORE_OK;
}

/* cmd_unblock_all - lift every matching block; a summary */
int cmd_unblock_all(struct ctl *c)
{
    struct filter f;
    struct walk w;
    struct json j;
    size_t users = 0, addrs = 0;
    int rc;

    if ((rc = filter_of(c, &f)) != 0)
	return rc;
    memset(&w, 0, sizeof(w));
    w.f = &f;
    if ((rc = collect(c, &w)) != 0)
	goto out;
    if (c->json) {
	json_init(&j, c->out);
	json_obj(&j);
	json_kstr(&j, "command", "unblock");
	json_key(&j, "unblocked");
	json_arr(&j);
    }
    for (size_t i = 0; i < w.n && rc == 0; i++) {
	if (!lift_one(c, c->json ? &j : NULL, &w.v[i], &rc))
	    continue;
	if (w.v[i].is_ip)
	    addrs++;
	else
	    users++;
    }
    if (c->json) {
	json_arr_end(&j);
	json_kuint(&j, "users", users);
	json_kuint(&j, "addresses", addrs);
	json_obj_end(&j);
	rc = rc ? rc : ctl_json_finish(c, &j);
    } else if (rc == 0) {
	fprintf(c->out, "unblocked %zu user%s and %zu address%s\n", users,
		users == 1 ? "" : "s", addrs, addrs == 1 ? "" : "es");
    }
  out:
    free(w.v);
    return rc;
}
