/*
 * collector_test - the fixture the collector's Check suites share
 * (check_intake.c, check_incident.c, check_notify.c, check_pin.c,
 * check_receive.c): a private directory dir with an event key (dir/key,
 * mode 0600), a configuration (dir/rg.conf: the events socket
 * dir/ev.sock, the key, the database dir/c.db, the rogue list
 * dir/rogue.list, and the suite's own collector keys) and the database
 * with the event tables; the clock, SQL and signed-event helpers the
 * suites use around it. Everything is static, one copy per suite.
 */
#ifndef COLLECTOR_TEST_H
#define COLLECTOR_TEST_H

#include <check.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../../collector/evdb.h"
#include "event.h"
#include "event_rec.h"

#define CT_KEY "check-collector-key-0123456789abcdef"

static char dir[64], conf[128];
static struct cfg *cfg;
static struct hist *hist;

/* now_ms - the wall clock */
static inline int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* nap - sleep ms milliseconds */
static inline void nap(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* ct_put - dir/name with text, mode */
static inline void ct_put(const char *name, const char *text, mode_t mode)
{
    char path[128];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

/* ct_expand - text with every "$D" replaced by dir */
static inline void ct_expand(const char *text, char *out, size_t cap)
{
    size_t o = 0, dl = strlen(dir);

    for (; *text && o + dl < cap; text++) {
	if (text[0] == '$' && text[1] == 'D') {
	    memcpy(out + o, dir, dl);
	    o += dl;
	    text++;
	} else
	    out[o++] = *text;
    }
    ck_assert_msg(*text == 0, "configuration too long");
    out[o] = 0;
}

/* ct_setup - /tmp/NAME.XXXXXX as dir, the key, the configuration with
 * the suite's collector keys (each "$D" in them is dir), the database */
static inline void ct_setup(const char *name, const char *keys)
{
    char text[2048], more[1536], err[1024];

    snprintf(dir, sizeof(dir), "/tmp/%s.XXXXXX", name);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ct_put("key", CT_KEY "\n", 0600);
    ct_expand(keys, more, sizeof(more));
    snprintf(text, sizeof(text), "collector: { address = \"unix:%s/ev.sock\"; key_file ="
	     " \"%s/key\"; database = \"%s/c.db\"; %s };"
	     " rogue: { list_path = \"%s/rogue.list\"; };\n", dir, dir, dir, more, dir);
    ct_put("rg.conf", text, 0644);
    snprintf(conf, sizeof(conf), "%s/rg.conf", dir);
    cfg = cfg_load(conf, err, sizeof(err));
    ck_assert_msg(cfg != NULL, "%s", err);
    ck_assert_int_eq(hist_open(cfg->collector.database, &hist, err, sizeof(err)), HIST_OK);
    ck_assert_int_eq(evdb_init(hist, err, sizeof(err)), HIST_OK);
}

/* ct_teardown - everything ct_setup made */
static inline void ct_teardown(void)
{
    char cmd[128];

    hist_close(hist);
    cfg_free(cfg);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* scalar - one integer from SQL */
static inline long long scalar(const char *sql)
{
    sqlite3_stmt *st;
    long long v = -1;

    ck_assert_int_eq(sqlite3_prepare_v2(hist_sqlite(hist), sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
	v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* sql - one statement that must succeed */
static inline void sql(const char *s)
{
    ck_assert_int_eq(sqlite3_exec(hist_sqlite(hist), s, NULL, NULL, NULL), SQLITE_OK);
}

/* record - an event of login from client at t_ms (node mx1, boot 77,
 * country BR, AS 64501, queue id Q<seq>) */
static inline void record(struct evrec *r, uint64_t seq, int64_t t_ms, const char *login,
			  const char *client, enum rules_class cls)
{
    memset(r, 0, sizeof(*r));
    r->version = EVREC_VERSION;
    r->action = CFG_ACTION_ACCEPT;
    r->cls = (uint8_t) cls;
    r->rule = EVREC_NO_RULE;
    r->bootid = 77;
    r->seq = seq;
    r->time_ms = (uint64_t) t_ms;
    ck_assert_int_eq(addr_parse(client, &r->client), 0);
    memcpy(r->cc, "BR", 3);
    r->asn = 64501;
    snprintf(r->node, sizeof(r->node), "mx1");
    snprintf(r->login, sizeof(r->login), "%s", login);
    snprintf(r->qid, sizeof(r->qid), "Q%llu", (unsigned long long) seq);
}

/* sealed - r as a datagram signed with the fixture's key; its length */
static inline size_t sealed(const struct evrec *r, uint8_t *buf, size_t cap)
{
    struct event_key k;

    memcpy(k.k, CT_KEY, strlen(CT_KEY));
    k.len = strlen(CT_KEY);
    return event_seal(&k, buf, evrec_encode(r, buf, cap), cap);
}

#endif /* COLLECTOR_TEST_H */
