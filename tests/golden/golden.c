/*
 * golden - replay a golden case file through the policy engine and
 * compare each verdict with the expected one.
 *
 * usage: golden [-v] GEODB_DIR CASE_FILE...
 *
 * A case file is line oriented ('#' starts a comment):
 *   config FILE [KEY=VALUE...]  configuration, relative to the case file;
 *                               each KEY's one setting line in it set to
 *                               VALUE (a case of the shipped file with one
 *                               key changed; a KEY not on exactly one line
 *                               stops the case)
 *   TIME LOGIN CLIENT RCPTS SIZE EXPECT
 *   repeat N TIME LOGIN CLIENT RCPTS SIZE EXPECT
 *   block LOGIN|IP DURATION     an admin block at the current time
 *   unblock LOGIN|IP
 *   rogue IP                    the client is on the collector's list
 *   sender ADDRESS              MAIL FROM of the following events
 *   parallel N TIME LOGIN CLIENT RCPTS SIZE ACCEPTED EXPECT
 *                               N sessions open at once (every MAIL, the
 *                               recipients round by round, every end of
 *                               message): ACCEPTED get through, the rest
 *                               get EXPECT
 *   count LOGIN messages|recipients|bytes WINDOW N
 *                               the login's counter over WINDOW is N
 *   dry_run on|off              milter.dry_run from here on (a reload)
 * TIME is an offset from the start ("0", "10m") or "+DURATION" from the
 * previous event. LOGIN is "-" for none. "{i}" in LOGIN or CLIENT becomes
 * the repetition number (1..N). EXPECT is ACTION, ACTION/RULE, or
 * ACTION/blocked for a verdict that came from a block in force.
 * Each transaction runs MAIL, one RCPT per recipient, then end of message,
 * stopping at the first tempfail or reject, as an MTA would (txn_run;
 * also in dry run, where only the verdicts and blocks are of interest).
 */
#include <ctype.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "geo.h"
#include "rules.h"
#include "store.h"
#include "txn.h"

#define START_TIME 1767600000u	/* 2026-01-05 08:00:00 UTC, a Monday */
#define LINE_MAX_LEN 1024
#define ERR_LEN 4096
#define PARALLEL_MAX 64	/* sessions of one "parallel" line */

struct run {
    const char *file;
    int line;
    struct cfg *cfg;
    STORE *st;
    GEO *geo;
    char geodir[512];
    char statepath[64];
    uint32_t now;
    char sender[256];
    struct addr rogue[16];
    size_t nrogue;
    int verbose, failures, events;
};

/* die - a broken case file is an error of the test, not of the engine */
static void die(const struct run *r, const char *msg, const char *arg)
{
    fprintf(stderr, "%s:%d: %s%s%s\n", r->file, r->line, msg,
	    arg ? ": " : "", arg ? arg : "");
    exit(2);
}

/* parse_time - absolute offset or +relative, in seconds */
static uint32_t parse_time(struct run *r, const char *t)
{
    char err[128];
    uint64_t ms;
    int rel = t[0] == '+';

    if (strcmp(t, "0") == 0)
	return START_TIME;
    if (cfg_parse_duration(t + rel, &ms, err, sizeof(err)) != 0)
	die(r, "bad time", t);
    return (rel ? r->now : START_TIME) + (uint32_t) (ms / 1000);
}

/* subst - replace "{i}" by n */
static void subst(const char *in, int n, char *out, size_t len)
{
    const char *p = strstr(in, "{i}");

    if (p == NULL)
	snprintf(out, len, "%s", in);
    else
	snprintf(out, len, "%.*s%d%s", (int) (p - in), in, n, p + 3);
}

/* is_rogue - is the client on the case's rogue list? */
static bool is_rogue(const struct run *r, const struct addr *a)
{
    size_t i;

    for (i = 0; i < r->nrogue; i++)
	if (addr_equal(&r->rogue[i], a))
	    return true;
    return false;
}

/* mail_facts - the facts of a transaction's MAIL phase */
static void mail_facts(struct run *r, const char *login, const char *client,
		       struct rules_facts *f)
{
    struct geo_info gi;

    memset(f, 0, sizeof(*f));
    f->login = strcmp(login, "-") == 0 ? NULL : login;
    f->sender = r->sender[0] ? r->sender : NULL;
    if (addr_parse(client, &f->client) != 0)
	die(r, "bad client address", client);
    (void) geo_lookup(r->geo, &f->client, &gi);	/* partial answers count */
    rules_geo_facts(&gi, &f->geo);
    f->geo_caps = geo_caps(r->geo);
    f->rogue_listed = is_rogue(r, &f->client);
    f->phase = RULES_PHASE_MAIL;
}

/* transaction - MAIL, RCPT..., EOM through the engine (txn_run, the
 * driver replay uses too); the final verdict */
static void transaction(struct run *r, const char *login, const char *client,
			unsigned rcpts, unsigned long size, struct rules_verdict *v)
{
    struct txn t;
    struct geo_info gi;

    memset(&t, 0, sizeof(t));
    t.login = strcmp(login, "-") == 0 ? NULL : login;
    t.sender = r->sender[0] ? r->sender : NULL;
    if (addr_parse(client, &t.client) != 0)
	die(r, "bad client address", client);
    (void) geo_lookup(r->geo, &t.client, &gi);	/* partial answers count */
    rules_geo_facts(&gi, &t.geo);
    t.geo_caps = geo_caps(r->geo);
    t.rogue_listed = is_rogue(r, &t.client);
    t.rcpts = rcpts;
    t.bytes = size;
    t.qid = "GOLDENQID";
    (void) txn_run(r->cfg, r->st, &t, r->now, v, NULL);
}

/* verdict_text - "action", "action/rule" or "action/blocked" */
static void verdict_text(const struct run *r, const struct rules_verdict *v,
			 char *buf, size_t len)
{
    if (v->action == CFG_ACTION_ACCEPT)
	snprintf(buf, len, "accept");
    else if (v->from_block)
	snprintf(buf, len, "%s/blocked", cfg_action_name(v->action));
    else if (v->rule >= 0)
	snprintf(buf, len, "%s/%s", cfg_action_name(v->action),
		 r->cfg->policy.rules[v->rule].name);
    else
	snprintf(buf, len, "%s", cfg_action_name(v->action));
}

/* expect_ok - EXPECT "action" matches any rule; "action/x" must match x */
static bool expect_ok(const char *want, const char *got)
{
    size_t n = strlen(want);

    return strcmp(want, got) == 0
	|| (strchr(want, '/') == NULL && strncmp(got, want, n) == 0
	    && (got[n] == 0 || got[n] == '/'));
}

/* event - one transaction line, possibly repeated */
static void event(struct run *r, int n, char **tok)
{
    char login[256], client[128], got[128];
    struct rules_verdict v;

    subst(tok[1], n, login, sizeof(login));
    subst(tok[2], n, client, sizeof(client));
    r->now = parse_time(r, tok[0]);
    transaction(r, login, client, (unsigned) atoi(tok[3]),
		(unsigned long) atol(tok[4]), &v);
    verdict_text(r, &v, got, sizeof(got));
    r->events++;
    if (r->verbose || !expect_ok(tok[5], got))
	printf("%s:%d%s%s: t=+%us %s %s -> %s (%s)%s%s\n", r->file, r->line,
	       n ? " #" : "", n ? tok[6] : "", r->now - START_TIME, login,
	       client, got, v.reason, expect_ok(tok[5], got) ? "" : " EXPECTED ",
	       expect_ok(tok[5], got) ? "" : tok[5]);
    if (!expect_ok(tok[5], got))
	r->failures++;
}

/* One of the sessions of a "parallel" line. */
struct session {
    struct rules_facts f;
    struct rules_verdict v;
    bool over;			/* refused, or through its end of message */
};

/* parallel_phase - one phase of every session still open */
static void parallel_phase(struct run *r, struct session *s, int n,
			   enum rules_phase ph, unsigned long size)
{
    for (int i = 0; i < n; i++) {
	if (s[i].over)
	    continue;
	s[i].f.phase = ph;
	if (ph == RULES_PHASE_RCPT)
	    s[i].f.rcpts++;
	if (ph == RULES_PHASE_EOM) {
	    s[i].f.bytes = size;
	    s[i].f.qid = "GOLDENQID";
	}
	rules_judge(r->cfg, r->st, &s[i].f, r->now, &s[i].v);
	s[i].over = ph == RULES_PHASE_EOM || rules_act_now(&s[i].v, ph);
    }
}

/* parallel - N sessions open at once: every MAIL, then the recipients
 * round by round, then every end of message; ACCEPTED of them must get
 * through and the others get EXPECT (tok: N TIME LOGIN CLIENT RCPTS SIZE
 * ACCEPTED EXPECT) */
static void parallel(struct run *r, char **tok)
{
    static struct session s[PARALLEL_MAX];
    int i, n = atoi(tok[0]), want = atoi(tok[6]), through = 0;
    unsigned k, rcpts = (unsigned) atoi(tok[4]);
    char got[128];

    if (n < 1 || n > PARALLEL_MAX)
	die(r, "parallel: 1 to 64 sessions", tok[0]);
    r->now = parse_time(r, tok[1]);
    for (i = 0; i < n; i++) {
	mail_facts(r, tok[2], tok[3], &s[i].f);
	s[i].over = false;
    }
    parallel_phase(r, s, n, RULES_PHASE_MAIL, 0);
    for (k = 0; k < rcpts; k++)
	parallel_phase(r, s, n, RULES_PHASE_RCPT, 0);
    parallel_phase(r, s, n, RULES_PHASE_EOM, (unsigned long) atol(tok[5]));
    for (i = 0; i < n; i++) {
	verdict_text(r, &s[i].v, got, sizeof(got));
	r->events++;
	if (s[i].v.action < CFG_ACTION_TEMPFAIL)
	    through++;
	else if (!expect_ok(tok[7], got)) {
	    printf("%s:%d: session %d -> %s (%s) EXPECTED %s\n", r->file,
		   r->line, i + 1, got, s[i].v.reason, tok[7]);
	    r->failures++;
	}
    }
    if (r->verbose || through != want)
	printf("%s:%d: %d of %d sessions through%s%s\n", r->file, r->line,
	       through, n, through != want ? " EXPECTED " : "",
	       through != want ? tok[6] : "");
    if (through != want)
	r->failures++;
}

/* count - a login's counter over a window must be N (tok: count LOGIN
 * messages|recipients|bytes WINDOW N) */
static void count(struct run *r, char **tok)
{
    static const char *const names[] = {"messages", "recipients", "bytes"};
    struct store_user u;
    uint64_t ms, got = 0;
    char err[128];
    size_t k;

    for (k = 0; k < 3 && strcmp(tok[2], names[k]) != 0; k++)
	;
    if (k == 3 || cfg_parse_duration(tok[3], &ms, err, sizeof(err)) != 0)
	die(r, "count LOGIN messages|recipients|bytes WINDOW N", tok[2]);
    if (store_user_get(r->st, tok[1], r->now, &u) == STORE_OK)
	got = store_win_sum(&u.win, (enum store_counter) k, r->now,
			    (uint32_t) (ms / 1000));
    r->events++;
    if (r->verbose || got != strtoull(tok[4], NULL, 10))
	printf("%s:%d: %s has %llu %s in %s%s%s\n", r->file, r->line, tok[1],
	       (unsigned long long) got, tok[2], tok[3],
	       got != strtoull(tok[4], NULL, 10) ? " EXPECTED " : "",
	       got != strtoull(tok[4], NULL, 10) ? tok[4] : "");
    if (got != strtoull(tok[4], NULL, 10))
	r->failures++;
}

/* admin_block - block/unblock a login or an address */
static void admin_block(struct run *r, char **tok, int ntok, bool block)
{
    struct store_block b;
    struct addr a;
    uint64_t ms = 0;
    char err[128];
    int is_ip = addr_parse(tok[1], &a) == 0;

    memset(&b, 0, sizeof(b));
    if (block && (ntok < 3 || cfg_parse_duration(tok[2], &ms, err, sizeof(err))))
	die(r, "block needs LOGIN|IP DURATION", NULL);
    b.until = r->now + (uint32_t) (ms / 1000);
    b.action = CFG_ACTION_REJECT;
    b.setby = STORE_BY_ADMIN;
    snprintf(b.reason, sizeof(b.reason), "golden admin");
    if (block && (is_ip ? store_client_block(r->st, &a, &b, r->now)
		  : store_user_block(r->st, tok[1], &b, r->now)) != STORE_OK)
	die(r, "block failed", tok[1]);
    if (!block)
	(void) (is_ip ? store_client_unblock(r->st, &a, r->now)
		: store_user_unblock(r->st, tok[1], r->now));
}

/* CONF_MAX - the largest configuration a case may name, its settings
 * applied (the shipped one is about 64 KiB, mostly comments) */
#define CONF_MAX (1 << 20)

/* set_key - the line of a configuration's text that sets KEY (the only
 * one: a key of two groups is ambiguous) becomes "KEY = VALUE;" */
static void set_key(struct run *r, char *text, size_t cap, const char *set)
{
    const char *eq = strchr(set, '=');
    size_t klen = eq != NULL ? (size_t) (eq - set) : 0;
    char *at = NULL, *end;
    static char rest[CONF_MAX];
    int n = 0;

    if (klen == 0)
	die(r, "config: not KEY=VALUE", set);
    for (char *l = text; l != NULL;
	 l = strchr(l, '\n') != NULL ? strchr(l, '\n') + 1 : NULL) {
	char *s = l + strspn(l, " \t");

	if (strncmp(s, set, klen) == 0 && s[klen] != 0
	    && strchr(" \t=", s[klen]) != NULL)
	    at = s, n++;
    }
    if (n != 1)
	die(r, "config: the key is not set on exactly one line", set);
    end = strchr(at, '\n');
    snprintf(rest, sizeof(rest), "%s", end != NULL ? end : "");
    if ((size_t) snprintf(at, cap - (size_t) (at - text), "%.*s = %s;%s",
			  (int) klen, set, eq + 1, rest)
	>= cap - (size_t) (at - text))
	die(r, "config: too large with the setting", set);
}

/* config_path - FILE, or a copy of it with the case's KEY=VALUE settings
 * (tmp: its name, to be removed; "" for none) */
static void config_path(struct run *r, const char *file, char *const *sets,
			int nset, char *path, size_t len, char *tmp)
{
    static char text[CONF_MAX];
    FILE *f;
    size_t n;
    int fd;

    tmp[0] = 0;
    if (nset == 0)
	return;
    if ((f = fopen(file, "r")) == NULL)
	die(r, "cannot open", file);
    n = fread(text, 1, sizeof(text) - 1, f);
    if (n == sizeof(text) - 1 && fgetc(f) != EOF)
	die(r, "config: larger than the golden runner takes", file);
    fclose(f);
    text[n] = 0;
    for (int i = 0; i < nset; i++)
	set_key(r, text, sizeof(text), sets[i]);
    snprintf(path, len, "/tmp/rg-golden-conf-XXXXXX");
    if ((fd = mkstemp(path)) < 0 || write(fd, text, strlen(text))
	!= (ssize_t) strlen(text))
	die(r, "cannot write", path);
    close(fd);
    snprintf(tmp, len, "%s", path);
}

/* load_config - the case's configuration and a fresh store */
static void load_config(struct run *r, const char *name, char *const *sets,
			int nset)
{
    char path[1024], file[1024], tmp[1024], err[ERR_LEN];
    char *dir = strdup(r->file);
    struct store_params sp;
    int fd;

    snprintf(file, sizeof(file), "%s/%s", dirname(dir), name);
    free(dir);
    snprintf(path, sizeof(path), "%s", file);
    config_path(r, file, sets, nset, path, sizeof(path), tmp);
    r->cfg = cfg_load(path, err, sizeof(err));
    if (tmp[0])
	unlink(tmp);
    if (r->cfg == NULL)
	die(r, "configuration", err);
    snprintf(r->statepath, sizeof(r->statepath), "/tmp/rg-golden-XXXXXX");
    if ((fd = mkstemp(r->statepath)) < 0)
	die(r, "mkstemp", NULL);
    close(fd);
    unlink(r->statepath);
    store_params_from_cfg(&r->cfg->state, STORE_CREATE, 0600, &sp);
    sp.path = r->statepath;
    if (store_open(&sp, &r->st, err, sizeof(err)) != STORE_OK)
	die(r, "store", err);
}

/* open_geo - the test databases generated for this run */
static void open_geo(struct run *r)
{
    char city[600], country[600], asn[600], err[512];
    struct geo_paths p = {city, country, asn};
    unsigned missing = 0;

    snprintf(city, sizeof(city), "%s/GeoLite2-City.mmdb", r->geodir);
    snprintf(country, sizeof(country), "%s/GeoLite2-Country.mmdb", r->geodir);
    snprintf(asn, sizeof(asn), "%s/GeoLite2-ASN.mmdb", r->geodir);
    if (geo_open(&p, &r->geo, &missing, err, sizeof(err)) != GEO_OK || missing)
	die(r, "GeoIP test databases", err);
}

/* run_line - one line of a case file */
static void run_line(struct run *r, char *line)
{
    char *tok[10], *save = NULL, *t, nbuf[16];
    int ntok = 0, i, n;

    if ((t = strchr(line, '#')) != NULL)
	*t = 0;
    for (t = strtok_r(line, " \t\r\n", &save); t && ntok < 10;
	 t = strtok_r(NULL, " \t\r\n", &save))
	tok[ntok++] = t;
    if (ntok == 0)
	return;
    if (strcmp(tok[0], "config") == 0 && ntok >= 2)
	load_config(r, tok[1], tok + 2, ntok - 2);
    else if (r->cfg == NULL)
	die(r, "the first directive must be config", NULL);
    else if (strcmp(tok[0], "dry_run") == 0 && ntok == 2)
	r->cfg->milter.dry_run = strcmp(tok[1], "on") == 0;
    else if (strcmp(tok[0], "trip_roaming") == 0 && ntok == 2)
	r->cfg->policy.trip_roaming = strcmp(tok[1], "on") == 0;
    else if (strcmp(tok[0], "sender") == 0 && ntok == 2)
	snprintf(r->sender, sizeof(r->sender), "%s", tok[1]);
    else if (strcmp(tok[0], "rogue") == 0 && ntok == 2 && r->nrogue < 16) {
	if (addr_parse(tok[1], &r->rogue[r->nrogue++]) != 0)
	    die(r, "bad rogue address", tok[1]);
    } else if (strcmp(tok[0], "block") == 0 || strcmp(tok[0], "unblock") == 0)
	admin_block(r, tok, ntok, tok[0][0] == 'b');
    else if (strcmp(tok[0], "repeat") == 0 && ntok == 8) {
	n = atoi(tok[1]);
	for (i = 1; i <= n; i++) {
	    snprintf(nbuf, sizeof(nbuf), "%d", i);
	    tok[8] = nbuf;
	    event(r, i, tok + 2);
	}
    } else if (strcmp(tok[0], "parallel") == 0 && ntok == 9)
	parallel(r, tok + 1);
    else if (strcmp(tok[0], "count") == 0 && ntok == 5)
	count(r, tok);
    else if (ntok == 6)
	event(r, 0, tok);
    else
	die(r, "cannot parse line", tok[0]);
}

/* run_case - one case file; returns its failures */
static int run_case(const char *geodir, const char *file, int verbose)
{
    struct run r;
    char line[LINE_MAX_LEN];
    FILE *f = fopen(file, "r");

    memset(&r, 0, sizeof(r));
    r.file = file;
    r.verbose = verbose;
    r.now = START_TIME;
    snprintf(r.geodir, sizeof(r.geodir), "%s", geodir);
    if (f == NULL)
	die(&r, "cannot open", file);
    open_geo(&r);
    while (fgets(line, sizeof(line), f) != NULL) {
	r.line++;
	run_line(&r, line);
    }
    fclose(f);
    printf("%s %s (%d events, %d wrong)\n", r.failures ? "not ok -" : "ok -",
	   file, r.events, r.failures);
    if (r.st)
	store_close(r.st);
    unlink(r.statepath);
    cfg_free(r.cfg);
    geo_close(r.geo);
    return r.failures || r.events == 0;
}

int main(int argc, char **argv)
{
    int i = 1, verbose = 0, pass = 0, fail = 0;

    if (argc > 1 && strcmp(argv[1], "-v") == 0)
	verbose = 1, i++;
    if (argc - i < 2) {
	fprintf(stderr, "usage: golden [-v] GEODB_DIR CASE_FILE...\n");
	return 2;
    }
    for (int j = i + 1; j < argc; j++) {
	if (run_case(argv[i], argv[j], verbose))
	    fail++;
	else
	    pass++;
    }
    printf("golden: %d passed, %d failed\n", pass, fail);
    return fail ? 1 : 0;
}
