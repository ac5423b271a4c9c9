/*
 * cmd_admin - the commands that change the state: block, unblock, reset
 * of a login or a client address (an argument that parses as an IPv4 or
 * IPv6 address is an address, anything else a login).
 *
 * Contract: one store call each, under the store's own stripe lock (block
 * and unblock wait out a writer's short stop in the stripe with ctl's
 * busy-stripe retry, as contain does); the result is read back for the
 * report. A block set here is marked "set by
 * admin" so the milter's log says who decided; it takes effect at the
 * milter's next lookup of that login or address (MAIL FROM). block
 * creates an entry the state did not have (a login can be blocked before
 * it is ever seen, with a warning: a misspelt login blocks nobody);
 * unblock and reset exit 1 for an unknown one. A network (CIDR) is
 * refused: the state keeps single addresses, and the text would
 * otherwise become a login nobody has.
 */
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "json.h"
#include "log.h"
#include "text.h"

#define BLOCK_DEFAULT_S 3600	/* --for */
#define REASON_DEFAULT "blocked by admin"

/* The login or address a command names. */
struct target {
    int is_ip;
    struct addr ip;
    const char *arg;		/* as given: what the store calls take */
    char key[STORE_LOGIN_MAX + ADDR_STRLEN];	/* as the state keeps it */
    const char *kind;
};

/* target_check - a USER or IP argument, not a network */
static int target_check(struct ctl *c, const char *arg)
{
    struct cidr net;

    if (arg[0] == '\0')
	return ctl_usage_error(c, "an empty login names nobody");
    if (strchr(arg, '/') != NULL && addr_cidr_parse(arg, &net, NULL, 0) == 0)
	return ctl_usage_error(c, "%s: %.*s is a network; name one login or"
			       " address (the state keeps no networks)",
			       c->cmd, ADDR_STRLEN + 4, arg);
    return 0;
}

/* target_of - decide login or address; normalise the login */
static int target_of(struct ctl *c, const char *arg, struct target *t)
{
    int rc;

    memset(t, 0, sizeof(*t));
    t->arg = arg;
    if ((rc = target_check(c, arg)) != 0)
	return rc;
    if (addr_parse(arg, &t->ip) == 0) {
	t->is_ip = 1;
	t->kind = "address";
	addr_format(&t->ip, t->key, sizeof(t->key));
	return 0;
    }
    t->kind = "user";
    store_normalize_login(c->st, arg, t->key);
    if (t->key[0] == '\0')
	return ctl_usage_error(c, "an empty login names nobody");
    return 0;
}

/* target_block - the target's current block; store status */
static int target_block(struct ctl *c, const struct target *t,
			struct store_block *b)
{
    struct store_client cl;
    struct store_user u;
    int rc;

    memset(b, 0, sizeof(*b));
    if (t->is_ip) {
	if ((rc = ctl_client_get(c, &t->ip, &cl)) == STORE_OK)
	    *b = cl.block;
    } else if ((rc = ctl_user_get(c, t->arg, &u)) == STORE_OK) {
	*b = u.block;
    }
    return rc;
}

/* target_set - block the target with b, or unblock it (b NULL), waiting
 * out a writer's short stop in its stripe as ctl_user_get does: a try
 * that times out changed nothing, so it is made again */
static int target_set(struct ctl *c, const struct target *t,
		      const struct store_block *b)
{
    int rc = STORE_TIMEOUT;

    for (int i = 0; rc == STORE_TIMEOUT && i < CTL_WALK_TRIES; i++) {
	if (i > 0)
	    usleep(CTL_WALK_RETRY_US);
	if (b != NULL)
	    rc = t->is_ip ? store_client_block(c->st, &t->ip, b, c->now)
		: store_user_block(c->st, t->arg, b, c->now);
	else
	    rc = t->is_ip ? store_client_unblock(c->st, &t->ip, c->now)
		: store_user_unblock(c->st, t->arg, c->now);
    }
    return rc;
}

/* what - "user alice" / "address 192.0.2.1" for messages */
static const char *what(const struct target *t, char *buf, size_t len)
{
    snprintf(buf, len, "%s %s", t->kind, t->key);
    return buf;
}

/* reason_of - --reason: printable, cut to what the state keeps (with a
 * warning unless quiet) */
static int reason_of(struct ctl *c, char *out, size_t len, bool quiet)
{
    const char *r = c->opt[CTL_OPT_REASON];
    size_t n;

    if (r == NULL)
	r = REASON_DEFAULT;
    for (const unsigned char *p = (const unsigned char *) r; *p; p++)
	if (*p < ' ' || *p == 0x7f)
	    return ctl_usage_error(c, "--reason: control characters are not"
				   " allowed");
    n = strlen(r);
    if (n >= len) {
	/* cut at a character boundary */
	n = len - 1;
	while (n > 0 && ((unsigned char) r[n] & 0xc0) == 0x80)
	    n--;
	if (!quiet)
	    ctl_error(c, 0, "warning: reason cut to %zu bytes", n);
    }
    memcpy(out, r, n);
    out[n] = '\0';
    return 0;
}

/* block_of - the block the options ask for; quiet: no warnings */
static int block_of(struct ctl *c, struct store_block *b, bool quiet)
{
    const char *a = c->opt[CTL_OPT_ACTION];
    uint32_t secs = BLOCK_DEFAULT_S;
    char err[160];
    int act = CFG_ACTION_REJECT, rc;

    memset(b, 0, sizeof(*b));
    if (c->opt[CTL_OPT_FOR] != NULL
	&& text_duration(c->opt[CTL_OPT_FOR], &secs, err, sizeof(err)) != 0)
	return ctl_usage_error(c, "--for: %s", err);
    if (a != NULL && ((act = cfg_action_parse(a)) < CFG_ACTION_QUARANTINE))
	return ctl_usage_error(c, "--action: quarantine, tempfail or reject");
    if ((rc = reason_of(c, b->reason, sizeof(b->reason), quiet)) != 0)
	return rc;
    b->until = c->now + secs;
    b->action = (uint8_t) act;
    b->setby = STORE_BY_ADMIN;
    return 0;
}

/* report - the outcome, for a person or as JSON */
static int report(struct ctl *c, const char *verb, const struct target *t,
		  const struct store_block *b, int changed)
{
    char w[STORE_LOGIN_MAX + ADDR_STRLEN + 16], line[256], until[TEXT_TIME_MAX];
    char clean[LOG_VALUE_MAX + 1];

    if (c->json) {
	struct json j;

	json_init(&j, c->out);
	json_obj(&j);
	json_kstr(&j, "command", c->cmd);
	json_kstr(&j, "kind", t->is_ip ? "address" : "user");
	json_kstr(&j, "key", t->key);
	json_kbool(&j, "changed", changed);
	if (b != NULL)
	    ctl_block_json(c, &j, "block", b);
	json_obj_end(&j);
	return ctl_json_finish(c, &j);
    }
    what(t, w, sizeof(w));
    text_clean(w, strlen(w), clean, sizeof(clean));
    if (b != NULL && b->until != 0) {
	ctl_block_text(c, b, line, sizeof(line));
	text_time(b->until, until, sizeof(until));
	fprintf(c->out, "%s %s: %s, until %s", verb, clean, line, until);
	text_clean(b->reason, strlen(b->reason), clean, sizeof(clean));
	fprintf(c->out, "%s%s%s\n", clean[0] ? " (" : "", clean,
		clean[0] ? ")" : "");
    } else {
	fprintf(c->out, "%s %s%s\n", verb, clean, changed ? ""
		: ": it was not blocked");
    }
    return 0;
}

/* cmd_block_check - block's arguments, before the state is opened */
int cmd_block_check(struct ctl *c)
{
    struct store_block b;
    int rc;

    if ((rc = target_check(c, c->args[0])) != 0)
	return rc;
    return block_of(c, &b, true);
}

/* cmd_unblock_check - unblock's arguments: one entry, or --all with its
 * filters */
int cmd_unblock_check(struct ctl *c)
{
    const char *by = c->opt[CTL_OPT_BY];

    if (c->opt[CTL_OPT_ALL] == NULL) {
	if (c->opt[CTL_OPT_RULE] != NULL || by != NULL)
	    return ctl_usage_error(c, "unblock: --rule and --by go with"
				   " --all");
	if (c->nargs != 1)
	    return ctl_usage_error(c, "unblock: name a USER or IP, or give"
				   " --all");
	return target_check(c, c->args[0]);
    }
    if (c->nargs != 0)
	return ctl_usage_error(c, "unblock --all takes no USER or IP");
    if (by != NULL && strcmp(by, "rule") != 0 && strcmp(by, "admin") != 0)
	return ctl_usage_error(c, "--by: rule or admin");
    if (c->opt[CTL_OPT_RULE] != NULL && by != NULL
	&& strcmp(by, "admin") == 0)
	return ctl_usage_error(c, "--rule names a rule: not with --by admin");
    return 0;
}

/* cmd_reset_check - reset's argument */
int cmd_reset_check(struct ctl *c)
{
    return target_check(c, c->args[0]);
}

/* cmd_block - block USER|IP [--for DUR] [--reason TEXT] [--action A] */
int cmd_block(struct ctl *c)
{
    struct store_block b, now_b;
    struct target t;
    char w[STORE_LOGIN_MAX + ADDR_STRLEN + 16];
    int rc;

    if ((rc = target_of(c, c->args[0], &t)) != 0
	|| (rc = block_of(c, &b, false)) != 0)
	return rc;
    if (!t.is_ip && target_block(c, &t, &now_b) == STORE_NOTFOUND) {
	char clean[LOG_VALUE_MAX + 1];

	what(&t, w, sizeof(w));
	text_clean(w, strlen(w), clean, sizeof(clean));
	ctl_error(c, 0, "warning: %s was never seen; blocked in advance"
		  " (is the login spelt as the MTA logs it?)", clean);
    }
    rc = target_set(c, &t, &b);
    if (rc == STORE_OK)
	rc = target_block(c, &t, &now_b);
    if (rc != STORE_OK)
	return ctl_store_error(c, rc, what(&t, w, sizeof(w)));
    return report(c, "blocked", &t, &now_b, 1);
}

/* cmd_unblock - unblock USER|IP, or --all (cmd_unblock_all.c) */
int cmd_unblock(struct ctl *c)
{
    struct store_block b;
    struct target t;
    char w[STORE_LOGIN_MAX + ADDR_STRLEN + 16];
    int rc, was;

    if (c->opt[CTL_OPT_ALL] != NULL)
	return cmd_unblock_all(c);
    if (c->opt[CTL_OPT_RULE] != NULL || c->opt[CTL_OPT_BY] != NULL)
	return ctl_usage_error(c, "unblock: --rule and --by go with --all");
    if (c->nargs != 1)
	return ctl_usage_error(c, "unblock: name a USER or IP, or give --all");
    if ((rc = target_of(c, c->args[0], &t)) != 0)
	return rc;
    if ((rc = target_block(c, &t, &b)) == STORE_OK)
	rc = target_set(c, &t, NULL);
    if (rc != STORE_OK)
	return ctl_store_error(c, rc, what(&t, w, sizeof(w)));
    was = b.until != 0;
    memset(&b, 0, sizeof(b));
    return report(c, "unblocked", &t, c->json ? &b : NULL, was);
}

/* cmd_reset - reset USER|IP: forget the entry (and any block) */
int cmd_reset(struct ctl *c)
{
    struct target t;
    char w[STORE_LOGIN_MAX + ADDR_STRLEN + 16];
    int rc;

    if ((rc = target_of(c, c->args[0], &t)) != 0)
	return rc;
    rc = t.is_ip ? store_client_reset(c->st, &t.ip, c->now)
	: store_user_reset(c->st, t.arg, c->now);
    if (rc != STORE_OK)
	return ctl_store_error(c, rc, what(&t, w, sizeof(w)));
    if (!c->json) {
	char clean[LOG_VALUE_MAX + 1];

	what(&t, w, sizeof(w));
	text_clean(w, strlen(w), clean, sizeof(clean));
	fprintf(c->out, "reset %s: its state is forgotten\n", clean);
	return 0;
    }
    return report(c, "reset", &t, NULL, 1);
}
