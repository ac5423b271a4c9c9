/*
 * ctl - relayguardctl: the command line, the shared context of its
 * commands, and the helpers they share.
 */
#ifndef RG_CTL_CTL_H
#define RG_CTL_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sysexits.h>

#include "cfg.h"
#include "store.h"

#define CTL_PROG "relayguardctl"

/* Exit codes: part of the interface, scripts depend on them. */
#define CTL_EXIT_OK 0
#define CTL_EXIT_NOTFOUND 1
#define CTL_EXIT_USAGE 2
#define CTL_EXIT_UNAVAILABLE EX_UNAVAILABLE	/* 69: state or MTA tools */
#define CTL_EXIT_CONFIG EX_CONFIG	/* 78: bad configuration */

#define CTL_ARGS_MAX 256	/* positional arguments (replay: log files) */
#define CTL_ERR_MAX 8192	/* configuration errors, one per line */
#define CTL_WALK_TRIES 3	/* a walk that meets a busy stripe restarts */
#define CTL_WALK_RETRY_US 50000	/* ... after this pause */
#define CTL_DEFAULT_WINDOW_S 3600

/* Command options; a command lists the ones it takes. */
enum ctl_opt {
    CTL_OPT_SORT,
    CTL_OPT_LIMIT,
    CTL_OPT_WINDOW,
    CTL_OPT_FOR,
    CTL_OPT_REASON,
    CTL_OPT_ACTION,
    CTL_OPT_PROMETHEUS,
    CTL_OPT_SCAN,
    CTL_OPT_COMPARE,
    CTL_OPT_FROM,
    CTL_OPT_TO,
    CTL_OPT_VERDICTS,
    CTL_OPT_HTML,
    CTL_OPT_ALL,
    CTL_OPT_RULE,
    CTL_OPT_BY,
    CTL_OPT_COUNT
};

enum ctl_mta { CTL_MTA_POSTFIX, CTL_MTA_SENDMAIL };

/* Everything a command sees. Output goes to out, diagnostics to err. */
struct ctl {
    FILE *out, *err;
    uint32_t now;
    const char *cfg_file;
    bool json;
    enum ctl_mta mta;
    const char *mta_dir;	/* -C: Postfix's configuration directory, or
				 * Sendmail's .cf file */
    const char *cmd;
    const char *args[CTL_ARGS_MAX];
    int nargs;
    const char *opt[CTL_OPT_COUNT];	/* NULL: not given; "" for flags */
    struct cfg *cfg;		/* loaded for commands that need it */
    STORE *st;			/* opened for commands that need it */
};

int ctl_main(int argc, char **argv, FILE *out, FILE *err, uint32_t now);

/* Where stats reads the mounts from (store_huge_pages): the process's
 * own by default; tests point it at a made-up file. */
extern const char *ctl_mountinfo;

/* Shared helpers (ctl.c). */
int ctl_error(struct ctl *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int ctl_usage_error(struct ctl *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int ctl_store_error(struct ctl *c, int status, const char *what);
int ctl_opt_uint(struct ctl *c, enum ctl_opt o, uint64_t dflt, uint64_t max,
		 uint64_t *out);
int ctl_opt_window(struct ctl *c, uint32_t *secs);
/* Read-only copies that wait out a busy stripe: a get, or a walk (users
 * with ufn, then clients with cfn; either may be NULL) that starts again,
 * up to CTL_WALK_TRIES times CTL_WALK_RETRY_US apart, after a
 * STORE_TIMEOUT. Before each try of a walk, zero's zero_len bytes are
 * cleared (what the callbacks gathered). Return the store status. */
int ctl_user_get(struct ctl *c, const char *login, struct store_user *u);
int ctl_client_get(struct ctl *c, const struct addr *ip,
		   struct store_client *cl);
int ctl_walk(struct ctl *c, store_user_fn ufn, store_client_fn cfn,
	     void *ctx, void *zero, size_t zero_len);

/* When learning strangers are judged from: the site's first judgement
 * (store_site_start) plus policy.learning_period, as the engine counts
 * it; 0 when nothing was judged yet or policy.learning_strangers is
 * off. */
uint32_t ctl_strangers_from(const struct ctl *c);
const char *ctl_rule_name(const struct ctl *c, unsigned rule, char *buf,
			  size_t len);
void ctl_block_text(const struct ctl *c, const struct store_block *b,
		    char *buf, size_t len);
struct json;
void ctl_block_json(const struct ctl *c, struct json *j, const char *key,
		    const struct store_block *b);
int ctl_json_finish(struct ctl *c, struct json *j);

/* Commands: each returns an exit code. */
int cmd_users(struct ctl *c);
int cmd_clients(struct ctl *c);
int cmd_sites(struct ctl *c);
int cmd_show(struct ctl *c);
int cmd_block(struct ctl *c);
int cmd_unblock(struct ctl *c);
int cmd_unblock_all(struct ctl *c);
int cmd_reset(struct ctl *c);
int cmd_stats(struct ctl *c);
int cmd_quarantine(struct ctl *c);
int cmd_contain(struct ctl *c);
int cmd_replay(struct ctl *c);

/* Argument checks run before the configuration and the state are
 * opened, so a usage error is exit 2 whatever the state's condition. */
int cmd_users_check(struct ctl *c);
int cmd_clients_check(struct ctl *c);
int cmd_sites_check(struct ctl *c);
int cmd_block_check(struct ctl *c);
int cmd_unblock_check(struct ctl *c);
int cmd_reset_check(struct ctl *c);

/* A command's own --help text (help.c); NULL for no such command. */
const char *ctl_help(const char *cmd);

#endif
