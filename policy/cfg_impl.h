/*
 * cfg_impl - internals shared by the configuration loader's files
 * (cfg.c: tables and walker, cfg_convert.c: value types, cfg_check.c:
 * checks across keys). Not for use outside policy/cfg*.c.
 */
#ifndef RG_CFG_IMPL_H
#define RG_CFG_IMPL_H

#include <libconfig.h>

#include "cfg.h"
#include "store.h"

#define CFG_KEY_MAX 96
#define CFG_STR_MAX 1024	/* bound on any string value */
#define CFG_MAILADDR_MAX 254	/* RFC 5321's path limit, less the brackets */

enum cfg_type {
    CFG_T_GROUP,		/* sub-table */
    CFG_T_STR, CFG_T_NAME, CFG_T_PATH, CFG_T_REPLY,
    CFG_T_BOOL, CFG_T_U32, CFG_T_LIMIT,
    CFG_T_DURATION_S, CFG_T_DURATION_MS, CFG_T_MODE,
    CFG_T_ACTION, CFG_T_APPLIES, CFG_T_METRIC, CFG_T_FACILITY,
    CFG_T_SOCKET, CFG_T_COLLECTOR,
    CFG_T_CIDR, CFG_T_CIDRS, CFG_T_USER, CFG_T_USERS, CFG_T_DOMAIN, CFG_T_DOMAINS,
    CFG_T_COUNTRIES, CFG_T_RULENAME, CFG_T_RULENAMES, CFG_T_RULES,
    CFG_T_OVERRIDES, CFG_T_MAILADDR,
};

#define CFG_F_REQUIRED 1	/* the key must be present */
#define CFG_F_EMPTY_OK 2	/* "" means "not configured" */

struct cfg_desc {
    const char *name;
    enum cfg_type type;
    const char *def;		/* default, parsed like a file value */
    unsigned flags;
    unsigned long long min, max;	/* numbers; durations in ms */
    size_t off;			/* where the value goes in the base struct */
    const struct cfg_desc *sub;	/* CFG_T_GROUP */
};

struct cfg_ctx {
    const char *file;
    char *err;
    size_t errlen;
    size_t used;
    int nerr;
    struct cfg *cfg;
};

extern const struct cfg_desc cfg_rule_desc[];
extern const struct cfg_desc cfg_override_desc[];

void cfg_error(struct cfg_ctx *x, const config_setting_t *s, const char *key,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void cfg_key_path(char *buf, size_t len, const char *parent, const char *name);
void cfg_bind_group(struct cfg_ctx *x, const config_setting_t *grp,
		    const char *path, const struct cfg_desc *table, void *base);
void cfg_convert(struct cfg_ctx *x, const struct cfg_desc *d,
		 const config_setting_t *s, const config_setting_t *parent,
		 const char *key, void *dst);
void cfg_check(struct cfg_ctx *x, struct cfg *c, config_setting_t *root);

#endif
