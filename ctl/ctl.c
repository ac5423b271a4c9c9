/*
 * ctl - relayguardctl's command line: global options, the command table,
 * loading the configuration and attaching to the state, and the helpers
 * the commands share (errors, option values, block descriptions).
 *
 * Contract: ctl_main never exits the process; it returns the exit code
 * (0 ok, 1 not found, 2 usage, 69 state or MTA tools unavailable, 78 bad
 * configuration), so the tests drive it like the shell does. Options may
 * come before or after the command; "--" ends them (for a login that
 * starts with '-'). A command's arguments are checked (cmddef.check)
 * before the configuration and the state are opened, so a usage error is
 * exit 2 whatever their condition; "COMMAND --help" prints help.c's text
 * for that command. Read commands attach with STORE_READONLY: an O_RDONLY
 * descriptor, a PROT_READ mapping, no lock taken (store_ro.c), so a user
 * who may only read the file can run them, and root touches no lock word
 * the milter's user could have rewritten. Only block, unblock and reset
 * modify the state: run as root they first become the state file's owner
 * (its uid, gid and no other groups), for good, and attach read-write as
 * that user; root is kept only by the commands that run the MTA's queue
 * tools (quarantine, contain, which reads the state read-only).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "json.h"
#include "log.h"
#include "mta.h"
#include "text.h"

#define NEED_CFG 1u		/* load the configuration */
#define NEED_STATE 2u		/* attach to the state file */
#define NEED_RW 4u		/* ... and modify it */
#define CTL_LOCK_WAIT_MS 500	/* we are not the milter: we may wait */
#define OPT_BIT(o) (1u << (o))
#define WINDOW_MAX_S 86400	/* the store's windows reach back a day */

struct optdef {
    const char *name;
    enum ctl_opt id;
    bool arg;
};

static const struct optdef optdefs[] = {
    {"sort", CTL_OPT_SORT, true}, {"limit", CTL_OPT_LIMIT, true},
    {"window", CTL_OPT_WINDOW, true}, {"for", CTL_OPT_FOR, true},
    {"reason", CTL_OPT_REASON, true}, {"action", CTL_OPT_ACTION, true},
    {"prometheus", CTL_OPT_PROMETHEUS, false}, {"scan", CTL_OPT_SCAN, false},
    {"compare", CTL_OPT_COMPARE, true}, {"from", CTL_OPT_FROM, true},
    {"to", CTL_OPT_TO, true}, {"verdicts", CTL_OPT_VERDICTS, false},
    {"html", CTL_OPT_HTML, true},
    {"all", CTL_OPT_ALL, false}, {"rule", CTL_OPT_RULE, true},
    {"by", CTL_OPT_BY, true},
};

struct cmddef {
    const char *name;
    int (*fn)(struct ctl *c);
    unsigned opts;		/* OPT_BIT of the options it takes */
    int min, max;		/* positional arguments */
    unsigned need;
    int (*check)(struct ctl *c);	/* its arguments, before any file is
					 * opened; NULL: nothing to check */
};

static int check_show(struct ctl *c);
static int check_stats(struct ctl *c);

static const struct cmddef cmds[] = {
    {"users", cmd_users, OPT_BIT(CTL_OPT_SORT) | OPT_BIT(CTL_OPT_LIMIT)
     | OPT_BIT(CTL_OPT_WINDOW), 0, 0, NEED_CFG | NEED_STATE, cmd_users_check},
    {"clients", cmd_clients, OPT_BIT(CTL_OPT_SORT) | OPT_BIT(CTL_OPT_LIMIT)
     | OPT_BIT(CTL_OPT_WINDOW), 0, 0, NEED_CFG | NEED_STATE,
     cmd_clients_check},
    {"sites", cmd_sites, OPT_BIT(CTL_OPT_LIMIT), 0, 0, NEED_CFG | NEED_STATE,
     cmd_sites_check},
    {"show", cmd_show, OPT_BIT(CTL_OPT_WINDOW), 1, 1, NEED_CFG | NEED_STATE,
     check_show},
    {"block", cmd_block, OPT_BIT(CTL_OPT_FOR) | OPT_BIT(CTL_OPT_REASON)
     | OPT_BIT(CTL_OPT_ACTION), 1, 1, NEED_CFG | NEED_STATE | NEED_RW,
     cmd_block_check},
    {"unblock", cmd_unblock, OPT_BIT(CTL_OPT_ALL) | OPT_BIT(CTL_OPT_RULE)
     | OPT_BIT(CTL_OPT_BY), 0, 1, NEED_CFG | NEED_STATE | NEED_RW,
     cmd_unblock_check},
    {"reset", cmd_reset, 0, 1, 1, NEED_CFG | NEED_STATE | NEED_RW,
     cmd_reset_check},
    {"stats", cmd_stats, OPT_BIT(CTL_OPT_PROMETHEUS), 0, 0,
     NEED_CFG | NEED_STATE, check_stats},
    {"quarantine", cmd_quarantine, OPT_BIT(CTL_OPT_LIMIT), 1, 2, 0, NULL},
    {"contain", cmd_contain, OPT_BIT(CTL_OPT_SCAN), 1, 1,
     NEED_CFG | NEED_STATE, NULL},
    {"replay", cmd_replay, OPT_BIT(CTL_OPT_COMPARE) | OPT_BIT(CTL_OPT_FROM)
     | OPT_BIT(CTL_OPT_TO) | OPT_BIT(CTL_OPT_VERDICTS) | OPT_BIT(CTL_OPT_HTML)
     | OPT_BIT(CTL_OPT_LIMIT), 1, CTL_ARGS_MAX, 0, NULL},
};

static const char usage_text[] =
    "usage: " CTL_PROG " [-c FILE] [--json] COMMAND [ARGS]\n"
    "  users [--sort ips|countries|messages|recipients] [--limit N]"
    " [--window DUR]\n"
    "  clients [--sort messages|recipients|users] [--limit N]"
    " [--window DUR]\n"
    "  sites [--limit N]\n"
    "  show USER|IP [--window DUR]\n"
    "  block USER|IP [--for DUR] [--reason TEXT]\n"
    "        [--action quarantine|tempfail|reject]   (default: 1h, reject)\n"
    "  unblock USER|IP\n"
    "  unblock --all [--rule NAME] [--by rule|admin]\n"
    "  reset USER|IP\n"
    "  stats [--prometheus]\n"
    "  quarantine [-C PATH] [--mta postfix|sendmail] list [--limit N]\n"
    "  quarantine [-C PATH] [--mta postfix|sendmail] show|release|delete ID\n"
    "  contain USER [--scan] [-C PATH] [--mta postfix|sendmail]\n"
    "  replay [--compare FILE2] [--from TIME] [--to TIME] [--limit N]\n"
    "         [--html FILE] [--verdicts] LOG...      (\"-\": standard input)\n"
    "options:\n"
    "  -c FILE   configuration (default " CFG_DEFAULT_FILE ")\n"
    "  --config FILE   the same\n"
    "  --json    one JSON document on standard output\n"
    "  -C PATH   the MTA's configuration: Postfix's directory (a non-default\n"
    "            instance), Sendmail's .cf file (default " MTA_SM_CF_DEFAULT
    ")\n"
    "  -V        version;  -h  this help (COMMAND -h: the command's own);\n"
    "  --        end of options\n"
    "exit: 0 ok, 1 not found, 2 usage, 69 state or MTA tools unavailable,\n"
    "      78 bad configuration\n";

/* ctl_error - print "relayguardctl: ..." on err; return code */
int ctl_error(struct ctl *c, int code, const char *fmt, ...)
{
    va_list ap;

    fprintf(c->err, "%s: ", CTL_PROG);
    va_start(ap, fmt);
    vfprintf(c->err, fmt, ap);
    va_end(ap);
    fputc('\n', c->err);
    return code;
}

/* ctl_usage_error - an error, the synopsis (the command's own once it is
 * known), exit code 2 */
int ctl_usage_error(struct ctl *c, const char *fmt, ...)
{
    const char *h = ctl_help(c->cmd);
    va_list ap;

    fprintf(c->err, "%s: ", CTL_PROG);
    va_start(ap, fmt);
    vfprintf(c->err, fmt, ap);
    va_end(ap);
    fprintf(c->err, "\n%s", h != NULL ? h : usage_text);
    return CTL_EXIT_USAGE;
}

/* ctl_store_error - report a store status; the matching exit code */
int ctl_store_error(struct ctl *c, int status, const char *what)
{
    char clean[LOG_VALUE_MAX + 1];

    text_clean(what, strlen(what), clean, sizeof(clean));
    switch (status) {
    case STORE_NOTFOUND:
	return ctl_error(c, CTL_EXIT_NOTFOUND, "%s: not found", clean);
    case STORE_EARG:
	return ctl_error(c, CTL_EXIT_USAGE, "%s: not a valid login or"
			 " address", clean);
    case STORE_TIMEOUT:
	return ctl_error(c, CTL_EXIT_UNAVAILABLE, "%s: the state is busy"
			 " (lock wait timed out), try again", clean);
    default:
	return ctl_error(c, CTL_EXIT_UNAVAILABLE, "%s: %s", clean,
			 store_strerror(status));
    }
}

/* ctl_opt_uint - a numeric option, or dflt when not given */
int ctl_opt_uint(struct ctl *c, enum ctl_opt o, uint64_t dflt, uint64_t max,
		 uint64_t *out)
{
    if (c->opt[o] == NULL) {
	*out = dflt;
	return 0;
    }
    if (text_uint(c->opt[o], max, out) != 0)
	return ctl_usage_error(c, "--%s: expected a number 0..%llu",
			       optdefs[o].name, (unsigned long long) max);
    return 0;
}

/* ctl_opt_window - --window DUR (default 1h, at most 1d) */
int ctl_opt_window(struct ctl *c, uint32_t *secs)
{
    char err[128];

    *secs = CTL_DEFAULT_WINDOW_S;
    if (c->opt[CTL_OPT_WINDOW] == NULL)
	return 0;
    if (text_duration(c->opt[CTL_OPT_WINDOW], secs, err, sizeof(err)) != 0)
	return ctl_usage_error(c, "--window: %s", err);
    if (*secs > WINDOW_MAX_S)
	return ctl_usage_error(c, "--window: at most 1d (the state keeps"
			       " a day)");
    return 0;
}

/* check_show - show's --window, before the state is opened */
static int check_show(struct ctl *c)
{
    uint32_t secs;

    return ctl_opt_window(c, &secs);
}

/* check_stats - --prometheus and --json exclude each other */
static int check_stats(struct ctl *c)
{
    if (c->opt[CTL_OPT_PROMETHEUS] != NULL && c->json)
	return ctl_usage_error(c, "--prometheus and --json exclude each"
			       " other");
    return 0;
}

/* ctl_user_get - see ctl.h */
int ctl_user_get(struct ctl *c, const char *login, struct store_user *u)
{
    int rc = STORE_TIMEOUT;

    for (int t = 0; rc == STORE_TIMEOUT && t < CTL_WALK_TRIES; t++)
	if ((rc = store_user_get(c->st, login, c->now, u)) == STORE_TIMEOUT)
	    usleep(CTL_WALK_RETRY_US);
    return rc;
}

/* ctl_client_get - see ctl.h */
int ctl_client_get(struct ctl *c, const struct addr *ip,
		   struct store_client *cl)
{
    int rc = STORE_TIMEOUT;

    for (int t = 0; rc == STORE_TIMEOUT && t < CTL_WALK_TRIES; t++)
	if ((rc = store_client_get(c->st, ip, c->now, cl)) == STORE_TIMEOUT)
	    usleep(CTL_WALK_RETRY_US);
    return rc;
}

/* ctl_walk - see ctl.h */
int ctl_walk(struct ctl *c, store_user_fn ufn, store_client_fn cfn,
	     void *ctx, void *zero, size_t zero_len)
{
    int rc = STORE_TIMEOUT;

    for (int t = 0; rc == STORE_TIMEOUT && t < CTL_WALK_TRIES; t++) {
	if (t > 0)
	    usleep(CTL_WALK_RETRY_US);
	memset(zero, 0, zero_len);
	rc = ufn != NULL ? store_user_each(c->st, c->now, ufn, ctx) : STORE_OK;
	if (rc == STORE_OK && cfn != NULL)
	    rc = store_client_each(c->st, c->now, cfn, ctx);
    }
    return rc;
}

/* ctl_strangers_from - see ctl.h */
uint32_t ctl_strangers_from(const struct ctl *c)
{
    uint64_t start = store_site_start(c->st, 0);

    if (start == 0 || !c->cfg->policy.learning_strangers)
	return 0;
    start += c->cfg->policy.learning_s;
    return start > UINT32_MAX ? UINT32_MAX : (uint32_t) start;
}

/* ctl_rule_name - a rule's name from the configuration, or "rule#N" */
const char *ctl_rule_name(const struct ctl *c, unsigned rule, char *buf,
			  size_t len)
{
    if (c->cfg != NULL && rule < c->cfg->policy.nrules)
	return c->cfg->policy.rules[rule].name;
    snprintf(buf, len, "rule#%u", rule);
    return buf;
}

/* action_name - a stored action byte as text */
static const char *action_name(uint8_t a)
{
    return a < CFG_ACTION_COUNT ? cfg_action_name((enum cfg_action) a) : "?";
}

/* block_rule - the name of the rule that set a block, printable: the
 * configured rule of the block's identity, else the name the block kept
 * (cut to its room), marked with '?' */
static const char *block_rule(const struct ctl *c, const struct store_block *b,
			      char *buf, size_t len)
{
    char kept[STORE_REASON_MAX + 1];
    int r;

    memcpy(kept, b->reason, sizeof(b->reason));
    kept[sizeof(b->reason)] = '\0';
    if ((r = cfg_rule_by_id(c->cfg, b->rule_id, kept)) >= 0)
	return c->cfg->policy.rules[r].name;
    text_clean(kept, strlen(kept), buf, len > 1 ? len - 1 : len);
    strncat(buf, "?", len - strlen(buf) - 1);
    return buf;
}

/* ctl_block_text - "reject 58m admin", "tempfail 1h rule NAME", "would
 * tempfail 1h rule NAME (dry run)" for a would-be block; "-" */
void ctl_block_text(const struct ctl *c, const struct store_block *b,
		    char *buf, size_t len)
{
    char left[TEXT_AGE_MAX], rb[LOG_VALUE_MAX + 1];
    const char *would = b->flags & STORE_BLOCK_WOULD ? "would " : "";
    const char *dry = b->flags & STORE_BLOCK_WOULD ? " (dry run)" : "";

    if (b->until == 0) {
	snprintf(buf, len, "-");
	return;
    }
    text_left(c->now, b->until, left, sizeof(left));
    if (b->setby == STORE_BY_RULE)
	snprintf(buf, len, "%s%s %s rule %s%s", would, action_name(b->action),
		 left, block_rule(c, b, rb, sizeof(rb)), dry);
    else if (b->setby == STORE_BY_ADMIN)
	snprintf(buf, len, "%s%s %s admin%s", would, action_name(b->action),
		 left, dry);
    else
	snprintf(buf, len, "%s%s %s%s", would, action_name(b->action), left,
		 dry);
}

/* ctl_block_json - "key": null, or the block as an object */
void ctl_block_json(const struct ctl *c, struct json *j, const char *key,
		    const struct store_block *b)
{
    char rb[LOG_VALUE_MAX + 1];

    json_key(j, key);
    if (b->until == 0) {
	json_null(j);
	return;
    }
    json_obj(j);
    json_kuint(j, "until", b->until);
    json_kuint(j, "seconds_left", b->until > c->now ? b->until - c->now : 0);
    json_kstr(j, "action", action_name(b->action));
    json_kstr(j, "set_by", b->setby == STORE_BY_RULE ? "rule"
	      : b->setby == STORE_BY_ADMIN ? "admin" : "unknown");
    json_kbool(j, "would_be", (b->flags & STORE_BLOCK_WOULD) != 0);
    json_key(j, "rule");
    if (b->setby == STORE_BY_RULE)
	json_str(j, block_rule(c, b, rb, sizeof(rb)));
    else
	json_null(j);
    json_kstr(j, "reason", b->reason);
    json_obj_end(j);
}

/* ctl_json_finish - end a command's document; exit 69 if it is not whole */
int ctl_json_finish(struct ctl *c, struct json *j)
{
    return json_finish(j) ? ctl_error(c, CTL_EXIT_UNAVAILABLE,
				      "cannot write JSON") : 0;
}

/* find_opt - an option definition by name */
static const struct optdef *find_opt(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(optdefs) / sizeof(optdefs[0]); i++)
	if (strlen(optdefs[i].name) == len
	    && strncmp(optdefs[i].name, name, len) == 0)
	    return &optdefs[i];
    return NULL;
}

/* Global flags that end the run early. */
enum early { EARLY_NONE, EARLY_HELP, EARLY_VERSION };

/* long_opt - one "--name[=value]"; *i advances past a separate value */
static int long_opt(struct ctl *c, int argc, char **argv, int *i,
		    enum early *early)
{
    const char *name = argv[*i] + 2, *eq = strchr(name, '=');
    size_t len = eq ? (size_t) (eq - name) : strlen(name);
    const char *val = eq ? eq + 1 : NULL;
    const struct optdef *d;

    if (len == 4 && strncmp(name, "json", 4) == 0 && !eq) {
	c->json = true;
	return 0;
    }
    if (len == 4 && strncmp(name, "help", 4) == 0 && !eq) {
	*early = EARLY_HELP;
	return 0;
    }
    if (len == 7 && strncmp(name, "version", 7) == 0 && !eq) {
	*early = EARLY_VERSION;
	return 0;
    }
    if (len == 6 && strncmp(name, "config", 6) == 0) {
	if (val == NULL && (val = *i + 1 < argc ? argv[++*i] : NULL) == NULL)
	    return ctl_usage_error(c, "--config needs a value");
	c->cfg_file = val;
	return 0;
    }
    if (len == 3 && strncmp(name, "mta", 3) == 0) {
	if (val == NULL && (val = *i + 1 < argc ? argv[++*i] : NULL) == NULL)
	    return ctl_usage_error(c, "--mta needs a value");
	if (strcmp(val, "postfix") != 0 && strcmp(val, "sendmail") != 0)
	    return ctl_usage_error(c, "--mta: postfix or sendmail");
	c->mta = val[0] == 's' ? CTL_MTA_SENDMAIL : CTL_MTA_POSTFIX;
	return 0;
    }
    if ((d = find_opt(name, len)) == NULL)
	return ctl_usage_error(c, "unknown option --%.*s", (int) len, name);
    if (!d->arg && eq)
	return ctl_usage_error(c, "--%s takes no value", d->name);
    if (d->arg && val == NULL && (val = *i + 1 < argc ? argv[++*i] : NULL)
	== NULL)
	return ctl_usage_error(c, "--%s needs a value", d->name);
    c->opt[d->id] = d->arg ? val : "";
    return 0;
}

/* short_opt - "-c FILE", "-cFILE", "-C PATH", "-V", "-h" */
static int short_opt(struct ctl *c, int argc, char **argv, int *i,
		     enum early *early)
{
    char f = argv[*i][1];
    const char *val = argv[*i][2] ? argv[*i] + 2 : NULL;

    if ((f == 'V' || f == 'h') && val == NULL) {
	*early = f == 'V' ? EARLY_VERSION : EARLY_HELP;
	return 0;
    }
    if (f != 'c' && f != 'C')
	return ctl_usage_error(c, "unknown option -%c", f);
    if (val == NULL && (val = *i + 1 < argc ? argv[++*i] : NULL) == NULL)
	return ctl_usage_error(c, "-%c needs a value", f);
    if (f == 'c')
	c->cfg_file = val;
    else
	c->mta_dir = val;
    return 0;
}

/* parse - options anywhere, the first word is the command */
static int parse(struct ctl *c, int argc, char **argv, enum early *early)
{
    bool opts_done = false;
    int rc;

    for (int i = 1; i < argc; i++) {
	const char *a = argv[i];

	if (!opts_done && strcmp(a, "--") == 0) {
	    opts_done = true;
	    continue;
	}
	if (!opts_done && a[0] == '-' && a[1] == '-') {
	    if ((rc = long_opt(c, argc, argv, &i, early)) != 0)
		return rc;
	} else if (!opts_done && a[0] == '-' && a[1] != '\0') {
	    if ((rc = short_opt(c, argc, argv, &i, early)) != 0)
		return rc;
	} else if (c->cmd == NULL) {
	    c->cmd = a;
	} else if (c->nargs < CTL_ARGS_MAX) {
	    c->args[c->nargs++] = a;
	} else {
	    return ctl_usage_error(c, "too many arguments");
	}
    }
    return 0;
}

/* check_cmd - the command exists and got what it takes */
static int check_cmd(struct ctl *c, const struct cmddef **out)
{
    const struct cmddef *d = NULL;

    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
	if (strcmp(cmds[i].name, c->cmd) == 0)
	    d = &cmds[i];
    if (d == NULL) {
	char clean[LOG_VALUE_MAX + 1];

	text_clean(c->cmd, strlen(c->cmd), clean, sizeof(clean));
	return ctl_usage_error(c, "unknown command \"%.40s\"", clean);
    }
    for (int o = 0; o < CTL_OPT_COUNT; o++)
	if (c->opt[o] != NULL && !(d->opts & OPT_BIT(o)))
	    return ctl_usage_error(c, "%s does not take --%s", d->name,
				   optdefs[o].name);
    if (c->nargs < d->min)
	return ctl_usage_error(c, "%s: missing argument", d->name);
    if (c->nargs > d->max)
	return ctl_usage_error(c, "%s: too many arguments", d->name);
    *out = d;
    return 0;
}

/* state_hint - why a state file may not open, where the cause is likely:
 * no file (the milter makes it at start), or no read access to it */
static const char *state_hint(const char *path)
{
    struct stat sb;

    if (lstat(path, &sb) != 0 && errno == ENOENT)
	return " (is relayguard-milter running? it creates the file)";
    if (access(path, R_OK) != 0 && errno == EACCES)
	return " (read access needed: join the file's group, e.g."
	    " relayguard)";
    return "";
}

/* become_owner - root about to modify the state: become the file's owner
 * (nothing to do for a file root owns, or when not root) */
static int become_owner(struct ctl *c, const char *path)
{
    struct stat sb;
    int fd;

    if (geteuid() != 0)
	return CTL_EXIT_OK;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) < 0)
	return ctl_error(c, CTL_EXIT_UNAVAILABLE, "state %s unavailable: %s%s",
			 path, strerror(errno), state_hint(path));
    if (fstat(fd, &sb) != 0) {
	close(fd);
	return ctl_error(c, CTL_EXIT_UNAVAILABLE, "fstat %s: %s", path,
			 strerror(errno));
    }
    close(fd);
    if (!S_ISREG(sb.st_mode))
	return ctl_error(c, CTL_EXIT_UNAVAILABLE, "state %s is not a regular"
			 " file", path);
    if (sb.st_uid == 0)
	return CTL_EXIT_OK;
    if (setgroups(1, &sb.st_gid) != 0 || setgid(sb.st_gid) != 0
	|| setuid(sb.st_uid) != 0 || setuid(0) == 0)
	return ctl_error(c, CTL_EXIT_UNAVAILABLE, "cannot become the owner"
			 " (uid %ld) of %s: %s", (long) sb.st_uid, path,
			 strerror(errno));
    return CTL_EXIT_OK;
}

/* check_mta_conf - -C names what the chosen MTA's tools take: Postfix a
 * configuration directory, Sendmail its .cf file (a path that does not
 * exist is left for the tool to report) */
static int check_mta_conf(struct ctl *c)
{
    char clean[LOG_VALUE_MAX + 1];
    struct stat sb;

    if (c->mta_dir == NULL || stat(c->mta_dir, &sb) != 0)
	return 0;
    text_clean(c->mta_dir, strlen(c->mta_dir), clean, sizeof(clean));
    if (c->mta == CTL_MTA_SENDMAIL && S_ISDIR(sb.st_mode))
	return ctl_usage_error(c, "-C %s: with --mta sendmail, -C names the"
			       " .cf file (as sendmail -C), not a directory",
			       clean);
    if (c->mta == CTL_MTA_POSTFIX && !S_ISDIR(sb.st_mode))
	return ctl_usage_error(c, "-C %s: with Postfix, -C names the"
			       " configuration directory (as postqueue -c)",
			       clean);
    return 0;
}

/* setup - the configuration and the state, as the command needs them */
static int setup(struct ctl *c, unsigned need)
{
    const char *file = c->cfg_file ? c->cfg_file : CFG_DEFAULT_FILE;
    struct store_params p;
    char *err = calloc(1, CTL_ERR_MAX);
    int rc = CTL_EXIT_OK;

    if (err == NULL)
	return ctl_error(c, CTL_EXIT_UNAVAILABLE, "out of memory");
    if ((need & NEED_CFG) && (c->cfg = cfg_load(file, err, CTL_ERR_MAX))
	== NULL) {
	rc = ctl_error(c, CTL_EXIT_CONFIG, "bad configuration %s:\n%s", file,
		       err);
	goto out;
    }
    if (need & NEED_STATE) {
	memset(&p, 0, sizeof(p));
	p.path = c->cfg->state.path;
	p.lock_timeout_ms = c->cfg->state.lock_timeout_ms > CTL_LOCK_WAIT_MS
	    ? c->cfg->state.lock_timeout_ms : CTL_LOCK_WAIT_MS;
	/* read-write: only a file of the user we now are, so a file swapped
	 * in after become_owner looked is refused, not locked as root */
	p.flags = (need & NEED_RW) ? STORE_OWNED : STORE_READONLY;
	if ((need & NEED_RW) && (rc = become_owner(c, p.path)) != 0)
	    goto out;
	if (store_open(&p, &c->st, err, CTL_ERR_MAX) != STORE_OK)
	    rc = ctl_error(c, CTL_EXIT_UNAVAILABLE, "state %s unavailable: %s"
			   "%s", p.path, err, state_hint(p.path));
    }
  out:
    free(err);
    return rc;
}

/* ctl_main - run one command line; the exit code */
int ctl_main(int argc, char **argv, FILE *out, FILE *err, uint32_t now)
{
    struct ctl c;
    const struct cmddef *d = NULL;
    enum early early = EARLY_NONE;
    int rc;

    memset(&c, 0, sizeof(c));
    c.out = out;
    c.err = err;
    c.now = now;
    c.mta = CTL_MTA_POSTFIX;
    if ((rc = parse(&c, argc, argv, &early)) != 0)
	return rc;
    if (early == EARLY_HELP && c.cmd != NULL) {
	const char *h = ctl_help(c.cmd);

	if (h == NULL)
	    return check_cmd(&c, &d);	/* the unknown command's error */
	fputs(h, out);
	return CTL_EXIT_OK;
    }
    if (early == EARLY_HELP) {
	fputs(usage_text, out);
	return CTL_EXIT_OK;
    }
    if (early == EARLY_VERSION) {
	fprintf(out, "%s %s\n", CTL_PROG, RG_VERSION);
	return CTL_EXIT_OK;
    }
    if (c.cmd == NULL)
	return ctl_usage_error(&c, "no command given");
    if ((rc = check_cmd(&c, &d)) != 0 || (rc = check_mta_conf(&c)) != 0
	|| (d->check != NULL && (rc = d->check(&c)) != 0))
	return rc;
    if ((rc = setup(&c, d->need)) == CTL_EXIT_OK)
	rc = d->fn(&c);
    if (store_skipped(c.st) > 0)
	ctl_error(&c, rc, "note: entries left out: %llu (a writer stayed"
		  " inside their part of the state)",
		  (unsigned long long) store_skipped(c.st));
    store_close(c.st);
    cfg_free(c.cfg);
    if (fflush(out) != 0 && rc == CTL_EXIT_OK)
	rc = ctl_error(&c, CTL_EXIT_UNAVAILABLE, "write error: %s",
		       strerror(errno));
    return rc;
}
