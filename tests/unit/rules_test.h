/*
 * rules_test - helpers shared by the policy engine's Check suites
 * (check_rules.c, check_rules_engine.c).
 *
 * env_open() loads a small libconfig text written to /tmp and opens a
 * private store there; both files are unlinked as soon as they are open,
 * so a failing (forked) test leaves nothing behind. run_tx() drives one
 * transaction through MAIL, RCPT and EOM the way an MTA does; expect()
 * checks the verdict. Times are fixed numbers: the engine reads no clock.
 * Everything here is static, one copy per suite.
 */
#ifndef RULES_TEST_H
#define RULES_TEST_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "geo.h"
#include "rules.h"
#include "store.h"

#define T0		1767600000u	/* 2026-01-05 08:00:00 UTC */
#define MIN		60u
#define HOUR		3600u
#define DAY		86400u
#define ERR_LEN		4096
#define PATH_LEN	1024
#define ALL_CAPS	(GEO_CAP_COUNTRY | GEO_CAP_ASN | GEO_CAP_LOCATION)

/* The state section every configuration here shares. */
#define STATE "state: { max_users = 1000; max_clients = 1000; " \
    "ips_per_user = 16; lock_timeout = \"1s\"; };\n"

struct env {
    struct cfg *cfg;
    STORE *st;
};

/* One transaction: MAIL, RCPT per recipient, EOM. */
struct tx {
    const char *login;		/* NULL: none */
    const char *client;
    const char *sender;
    struct store_geo geo;
    unsigned caps;
    unsigned rcpts;
    uint64_t bytes;
};

/* Places, in the store's centidegrees (the plan's coordinates). */
static const struct store_place berlin = {T0, 5252, 1341, 20};
static const struct store_place potsdam = {T0, 5239, 1306, 20};
static const struct store_place brasilia = {T0, -1579, -4788, 50};

/* env_open - a configuration from text and a fresh store */
static inline void env_open(struct env *e, const char *text)
{
    char cpath[] = "/tmp/rg-check-rules-cfg-XXXXXX";
    char spath[] = "/tmp/rg-check-rules-st-XXXXXX";
    char err[ERR_LEN];
    struct store_params sp;
    FILE *f;
    int fd;

    fd = mkstemp(cpath);
    ck_assert_int_ge(fd, 0);
    f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    e->cfg = cfg_load(cpath, err, sizeof(err));
    unlink(cpath);
    ck_assert_msg(e->cfg != NULL, "configuration: %s", err);
    fd = mkstemp(spath);
    ck_assert_int_ge(fd, 0);
    close(fd);
    unlink(spath);
    store_params_from_cfg(&e->cfg->state, STORE_CREATE, 0600, &sp);
    sp.path = spath;
    ck_assert_msg(store_open(&sp, &e->st, err, sizeof(err)) == STORE_OK,
		  "store: %s", err);
    unlink(spath);
}

/* env_close - release the configuration and the store */
static inline void env_close(struct env *e)
{
    store_close(e->st);
    cfg_free(e->cfg);
}

/* facts_for - the facts of a transaction's MAIL phase */
static inline void facts_for(const struct tx *t, struct rules_facts *f)
{
    memset(f, 0, sizeof(*f));
    f->phase = RULES_PHASE_MAIL;
    f->login = t->login;
    f->sender = t->sender;
    ck_assert_msg(addr_parse(t->client, &f->client) == 0, "bad address %s",
		  t->client);
    f->geo = t->geo;
    f->geo_caps = t->caps;
}

/* run_tx - a whole transaction as an MTA drives it; the last phase run */
static inline enum rules_phase run_tx(const struct env *e,
				      const struct tx *t, uint32_t now,
				      struct rules_verdict *v)
{
    struct rules_facts f;
    unsigned i;

    facts_for(t, &f);
    ck_assert_int_eq(rules_judge(e->cfg, e->st, &f, now, v), STORE_OK);
    if (rules_act_now(v, f.phase))
	return f.phase;
    for (i = 1; i <= t->rcpts; i++) {
	f.phase = RULES_PHASE_RCPT;
	f.rcpts = i;
	ck_assert_int_eq(rules_judge(e->cfg, e->st, &f, now, v), STORE_OK);
	if (rules_act_now(v, f.phase))
	    return f.phase;
    }
    f.phase = RULES_PHASE_EOM;
    f.bytes = t->bytes;
    f.qid = "CHECKQID";
    ck_assert_int_eq(rules_judge(e->cfg, e->st, &f, now, v), STORE_OK);
    return f.phase;
}

/* simple_tx - one recipient, no geography */
static inline void simple_tx(const struct env *e, const char *login,
			     const char *client, uint32_t now,
			     struct rules_verdict *v)
{
    struct tx t = {login, client, NULL, {"", 0, 0, 0, 0, 0}, ALL_CAPS, 1,
	1000};

    run_tx(e, &t, now, v);
}

/* expect - a verdict's action, deciding rule (or NULL) and origin */
static inline void expect(const struct env *e,
			  const struct rules_verdict *v, enum cfg_action a,
			  const char *rule, bool from_block)
{
    ck_assert_msg(v->action == a, "action %s, expected %s (%s)",
		  cfg_action_name(v->action), cfg_action_name(a), v->reason);
    if (rule == NULL)
	ck_assert_int_eq(v->rule, -1);
    else {
	ck_assert_int_ge(v->rule, 0);
	ck_assert_str_eq(e->cfg->policy.rules[v->rule].name, rule);
    }
    ck_assert_msg(v->from_block == from_block, "from_block %d (%s)",
		  v->from_block, v->reason);
}

/* add - a TCase of tests */
static inline void add(Suite *s, const char *name, const TTest *const *t,
		       size_t n)
{
    TCase *tc = tcase_create(name);
    size_t i;

    for (i = 0; i < n; i++)
	tcase_add_test(tc, t[i]);
    suite_add_tcase(s, tc);
}

#endif /* RULES_TEST_H */
