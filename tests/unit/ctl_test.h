/*
 * ctl_test - helpers shared by relayguardctl's Check suites (check_ctl*.c).
 *
 * run() calls ctl_main() with NOW as its clock and captures what it
 * prints in out/err. The command suites' main() calls ctl_fixture() before
 * any test forks (a private directory, the state file's path, a hostile
 * login), adds what only it needs (GeoIP databases, fake MTA tools), then
 * ctl_conf(); ctl_cleanup() removes it all after the last test. Each test
 * that reads state starts from state_make(); a suite that needs nothing
 * more makes its main() ctl_check_run(). Everything here is static,
 * one copy per suite.
 */
#ifndef CTL_TEST_H
#define CTL_TEST_H

#include <check.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../ctl/ctl.h"
#include "../../ctl/jread.h"
#include "../../ctl/text.h"
#include "check_main.h"
#include "stats.h"
#include "store.h"

#define NOW (86400u * 19700u + 12 * 3600u)
#define MIN 60u
#define ARGS_MAX 24
#define PATH_LEN 512
#define LONG_LOGIN 2000
#define TDIR_LEN 64

static char tdir[TDIR_LEN], conf[PATH_LEN], statef[PATH_LEN];
static char *out, *err;
static size_t outlen, errlen;
static char long_login[LONG_LOGIN + 1];
static uint32_t run_now;	/* run's time; 0: NOW */

/* run - ctl_main on a NULL-terminated argument list; out/err captured */
static inline int run(const char *a0, ...)
{
    char *argv[ARGS_MAX];
    int argc = 0, rc;
    FILE *o, *e;
    va_list ap;

    free(out);
    free(err);
    argv[argc++] = "relayguardctl";
    va_start(ap, a0);
    for (const char *a = a0; a != NULL && argc < ARGS_MAX - 1;
	 a = va_arg(ap, const char *))
	argv[argc++] = (char *) (uintptr_t) a;
    va_end(ap);
    argv[argc] = NULL;
    o = open_memstream(&out, &outlen);
    e = open_memstream(&err, &errlen);
    ck_assert(o != NULL && e != NULL);
    rc = ctl_main(argc, argv, o, e, run_now != 0 ? run_now : NOW);
    fclose(o);
    fclose(e);
    return rc;
}

/* lines_fit - no line of s is wider than w columns */
static inline int lines_fit(const char *s, size_t w)
{
    const char *p = s;

    while (*p) {
	const char *nl = strchr(p, '\n');
	size_t n = nl ? (size_t) (nl - p) : strlen(p);
	char *line = strndup(p, n);
	size_t lw = text_width(line);

	free(line);
	if (lw > w)
	    return 0;
	p += n + (nl != NULL);
    }
    return 1;
}

/* no_controls - no byte below 0x20 but LF, no DEL, no C1 or RLO */
static inline int no_controls(const char *s)
{
    for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	if ((*p < 0x20 && *p != '\n') || *p == 0x7f
	    || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
	    || (p[0] == 0xe2 && p[1] == 0x80 && p[2] == 0xae))
	    return 0;
    return 1;
}

/* line_of - the output line that starts with prefix, or NULL (static) */
static inline const char *line_of(const char *s, const char *prefix)
{
    static char line[1024];
    size_t pl = strlen(prefix);

    for (const char *p = s; p && *p; p = strchr(p, '\n') ? strchr(p, '\n')
	 + 1 : NULL)
	if (strncmp(p, prefix, pl) == 0) {
	    size_t n = strcspn(p, "\n");

	    snprintf(line, sizeof(line), "%.*s", (int) n, p);
	    return line;
	}
    return NULL;
}

/* row_of - a table row that starts with prefix, its wrapped lines (those
 * that start with a blank) joined by one space; NULL if none (static) */
static inline const char *row_of(const char *s, const char *prefix)
{
    static char row[2048];
    size_t pl = strlen(prefix), used = 0;
    const char *p = s;

    while (p && *p && strncmp(p, prefix, pl) != 0)
	p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL;
    if (p == NULL || *p == '\0')
	return NULL;
    do {
	size_t n;

	while (used > 0 && *p == ' ')
	    p++;
	n = strcspn(p, "\n");
	used += (size_t) snprintf(row + used, sizeof(row) - used, "%s%.*s",
				  used ? " " : "", (int) n, p);
	p += n;
	p += *p == '\n';
    } while (*p == ' ' && used < sizeof(row) - 1);
    return row;
}

/* parse_out - the captured output as JSON */
static inline struct jread_val *parse_out(void)
{
    char e[128];
    struct jread_val *v = jread_parse(out, outlen, e, sizeof(e));

    ck_assert_msg(v != NULL, "bad JSON (%s): %s", e, out);
    return v;
}

/* ---- state ---------------------------------------------------------------- */

/* obs_flags - one observation of a user and its client address, with
 * the user observation's STORE_OBS_* flags */
static inline void obs_flags(STORE *st, const char *login, const char *ip,
			     const char *cc, uint32_t asn, uint32_t msgs,
			     uint32_t rcpts, const char *qid, unsigned flags,
			     uint32_t when)
{
    struct store_user_obs o;
    struct store_client_obs co;

    memset(&o, 0, sizeof(o));
    o.login = login;
    ck_assert_int_eq(addr_parse(ip, &o.ip), 0);
    snprintf(o.geo.cc, sizeof(o.geo.cc), "%s", cc);
    o.geo.asn = asn;
    o.msgs = msgs;
    o.rcpts = rcpts;
    o.bytes = (uint64_t) msgs * 1000;
    o.qid = qid;
    o.flags = flags;
    ck_assert_int_eq(store_user_update(st, &o, when, NULL), STORE_OK);
    memset(&co, 0, sizeof(co));
    co.ip = o.ip;
    co.login = login;
    co.msgs = msgs;
    co.rcpts = rcpts;
    ck_assert_int_eq(store_client_update(st, &co, when, NULL), STORE_OK);
}

/* obs - one observation of a user, as the milter makes it at MAIL */
static inline void obs(STORE *st, const char *login, const char *ip,
		       const char *cc, uint32_t asn, uint32_t msgs,
		       uint32_t rcpts, const char *qid, uint32_t when)
{
    obs_flags(st, login, ip, cc, asn, msgs, rcpts, qid, 0, when);
}

/* state_make - a fresh state file with alice, bob, a hostile login */
static inline void state_make(void)
{
    struct store_params p = { .path = statef, .max_users = 1000,
	.max_clients = 1000, .ips_per_user = 16, .flags = STORE_CREATE,
	.mode = 0600 };
    struct store_client_obs co;
    char err_[256];
    STORE *st;

    unlink(statef);
    ck_assert_int_eq(store_open(&p, &st, err_, sizeof(err_)), STORE_OK);
    /* alice: a botnet, 5 addresses in 4 countries within 10 minutes */
    obs(st, "alice@example.org", "198.18.1.7", "BR", 64496, 2, 20, "4F9D42C0F2",
	NOW - 9 * MIN);
    obs(st, "alice@example.org", "198.18.2.7", "CN", 64497, 2, 20, NULL,
	NOW - 7 * MIN);
    obs(st, "alice@example.org", "198.18.3.7", "DE", 64498, 2, 20, "AB12CD34",
	NOW - 5 * MIN);
    obs(st, "alice@example.org", "198.18.5.7", "RU", 64500, 2, 20, NULL,
	NOW - 3 * MIN);
    obs(st, "alice@example.org", "198.18.250.9", "", 0, 1, 1, NULL,
	NOW - 2 * MIN);
    /* bob: one place, many messages */
    obs(st, "bob@example.org", "198.18.3.9", "DE", 64498, 90, 95, NULL,
	NOW - MIN);
    /* a login an attacker chose */
    obs(st, long_login, "198.18.251.3", "FR", 64496, 1, 1, NULL, NOW - MIN);
    /* an internal host, no login */
    memset(&co, 0, sizeof(co));
    ck_assert_int_eq(addr_parse("10.1.2.3", &co.ip), 0);
    co.msgs = 500;
    co.rcpts = 900;
    co.bytes = 10u << 20;
    ck_assert_int_eq(store_client_update(st, &co, NOW - MIN, NULL), STORE_OK);
    store_counter_add(st, STATS_VERDICT_BASE + CFG_ACTION_ACCEPT, 1200);
    store_counter_add(st, STATS_VERDICT_BASE + CFG_ACTION_REJECT, 7);
    store_counter_add(st, STATS_WOULD_BASE + CFG_ACTION_TEMPFAIL, 2);
    store_counter_add(st, STATS_EVENTS_SENT, 1209);
    store_counter_add(st, STATS_EVENTS_DROPPED, 3);
    store_counter_add(st, STATS_RULE_BASE + 0, 3);
    store_counter_add(st, STATS_RULE_BASE + 30, 5);	/* no such rule */
    store_counter_add(st, stats_rule_counter(34), 4);	/* past the 32nd */
    store_counter_set(st, STATS_ROGUE_ENTRIES, 100000);
    store_counter_set(st, STATS_ROGUE_WRITTEN, NOW - 150);	/* 2m30s before */
    store_counter_set(st, STATS_ROGUE_EXPIRED, 12);
    store_close(st);
}

/* state_open - the state file, read-write, for checking effects */
static inline STORE *state_open(void)
{
    struct store_params p = { .path = statef };
    char err_[256];
    STORE *st;

    ck_assert_int_eq(store_open(&p, &st, err_, sizeof(err_)), STORE_OK);
    return st;
}

/* ---- fixture ---------------------------------------------------------------- */

/* write_file - a whole file, with a mode */
static inline void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");

    if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0
	|| chmod(path, mode) != 0)
	abort();
}

/* ctl_fixture - before any test forks: directory, paths, hostile login */
static inline void ctl_fixture(void)
{
    snprintf(tdir, sizeof(tdir), "/tmp/check_ctl.XXXXXX");
    if (mkdtemp(tdir) == NULL)
	abort();
    snprintf(statef, sizeof(statef), "%s/state", tdir);
    snprintf(conf, sizeof(conf), "%s/rg.conf", tdir);
    memset(long_login, 'x', LONG_LOGIN);
    memcpy(long_login, "evil\r\nQUEUE: \x1b[31mroot\x1b]0;t\a\xc2\x9b\xe2\x80\xae",
	   29);
    long_login[LONG_LOGIN] = '\0';
}

/* ctl_conf - the configuration the commands read; asn_db "" for none */
static inline void ctl_conf(const char *asn_db)
{
    char text[4096];

    snprintf(text, sizeof(text),
	     "state: { path = \"%s\"; max_users = 1000; max_clients = 1000; };\n"
	     "geoip: { city_db = \"\"; country_db = \"\"; asn_db = \"%s\"; };\n"
	     "networks: { internal = [ \"10.0.0.0/8\" ]; };\n"
	     "policy: { rules = (\n"
	     "  { name = \"many-countries\"; applies_to = \"authenticated\";\n"
	     "    metric = \"distinct_countries\"; window = \"10m\"; limit = 3;\n"
	     "    action = \"tempfail\"; block_for = \"1h\"; },\n"
	     "  { name = \"user-messages\"; applies_to = \"authenticated\";\n"
	     "    metric = \"messages\"; window = \"1h\"; limit = 200;\n"
	     "    action = \"tempfail\"; } ); };\n", statef, asn_db);
    write_file(conf, text, 0600);
}

/* ctl_conf_policy - a copy of the configuration at path with keys
 * (e.g. "learning_strangers = false;") added to its policy group */
static inline void ctl_conf_policy(const char *path, const char *keys)
{
    char text[4096], edited[4600];
    FILE *f = fopen(conf, "r");
    size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
    char *at;

    if (f == NULL)
	abort();
    fclose(f);
    text[n] = '\0';
    if ((at = strstr(text, "policy: { ")) == NULL)
	abort();
    at += strlen("policy: { ");
    snprintf(edited, sizeof(edited), "%.*s%s %s", (int) (at - text), text,
	     keys, at);
    write_file(path, edited, 0600);
}

/* ctl_rm - nftw callback */
static inline int ctl_rm(const char *p, const struct stat *sb, int flag,
			 struct FTW *f)
{
    (void) sb, (void) flag, (void) f;
    return remove(p);
}

/* ctl_cleanup - after the last test: the directory, the captured output */
static inline void ctl_cleanup(void)
{
    nftw(tdir, ctl_rm, 8, FTW_DEPTH | FTW_PHYS);
    free(out);
    free(err);
}

/* ctl_check_run_with - main() of a suite that needs the common fixture,
 * a configuration without GeoIP and what more() adds (NULL: nothing;
 * called once tdir and conf exist, e.g. a ctl_conf_policy variant) */
static inline int ctl_check_run_with(Suite *s, void (*more)(void))
{
    int rc;

    ctl_fixture();
    ctl_conf("");
    if (more != NULL)
	more();
    rc = check_run(s);
    ctl_cleanup();
    return rc;
}

/* ctl_check_run - main() of a suite that needs only the common fixture
 * and a configuration without GeoIP */
static inline int ctl_check_run(Suite *s)
{
    return ctl_check_run_with(s, NULL);
}

#endif /* CTL_TEST_H */
