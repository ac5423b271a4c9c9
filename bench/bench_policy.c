/*
 * bench_policy - verdicts per second of the policy engine, single thread.
 *
 * A realistic mix through rules_judge: a store with room for 100k users
 * (16 IPs each), prefilled with MSG_USERS honest users over four days
 * (so their countries are learned), the GeoIP test databases generated
 * by tests/geoip/make-test-db.pl (run from the repository root), and a
 * configuration of eight rules like etc/relayguard.conf's. The replay:
 *   - honest logins from their home, office or mobile address (the same
 *     city), now and then from a hotel abroad;
 *   - a botnet driving stolen logins from many countries (most of it
 *     meets a block after the first minutes);
 *   - internal hosts without a login, one of them infected.
 * Each message is timed whole: geo_lookup once, MAIL, one to three RCPT,
 * end of message, stopping at a tempfail or reject as an MTA does. Prints
 *   policy: N verdicts/s, median M ns
 *   policy reference: N messages/s, median M ns (...)
 * the second for the same replay doing only the GeoIP lookup and one
 * state read, so the engine's own share is visible. Each figure is the
 * best of ROUNDS rounds (the machine may be shared). The verdict mix goes
 * to stderr. Not a test: it never fails on a slow machine.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "geo.h"
#include "rules.h"
#include "store.h"

#define MSG_USERS	10000	/* prefilled honest users */
#define VICTIMS		100	/* of them, logins the botnet holds */
#define INTERNAL_HOSTS	200
#define MSGS		200000	/* messages per round */
#define ROUNDS		3
#define MSGS_PER_S	64	/* the clock moves one second per 64 messages */
#define PREFILL_DAYS	4	/* a country is usual after three days */
#define T_START		1767600000u	/* 2026-01-05 08:00:00 UTC */
#define DAY_S		86400u
#define HOUR_S		3600u
#define LOGIN_LEN	32
#define PATH_LEN	512
#define ERR_LEN		4096
#define NO_LOGIN	UINT32_MAX
#define PCT		100

/* The replay mix, in percent of messages. */
#define PCT_BOTNET	5
#define PCT_INTERNAL	10
#define PCT_INFECTED	30	/* of internal messages, from one host */
#define PERMILLE_HOTEL	5	/* of honest messages, from abroad */

#define V4_EVERY	20	/* honest users with an IPv4 home address */
#define V4_HONEST_HOSTS	150	/* .1 to .150 of a /24; the botnet the rest */
#define BOT_V6_NET	0xb0b0	/* IPv6 networks of the botnet ... */
#define HOTEL_V6_NET	0x4073	/* ... and of a hotel */
#define INFECTED_HOST	66

/* Rows of tests/geoip/plan.tsv: 198.18.N.0/24 and 2001:db8:N::/48. */
#define ROW_DE		3
#define ROW_US		6
#define ROW_FR		8
#define ROW_GB		9
#define ROW_DE_MOBILE	13
#define ROW_NL		0xa2	/* 198.51.100.0/24, 2001:db8:a2::/48 */
#define ROWS_ABROAD	12	/* rows 1..12 are the capitals */

static const char conf_text[] =
    "state: { max_users = 100000; max_clients = 65536; ips_per_user = 16;\n"
    "  lock_timeout = \"50ms\"; };\n"
    "networks: { internal = [ \"10.0.0.0/8\", \"172.16.0.0/12\", \"fd00::/8\" ];\n"
    "  trusted = [ \"127.0.0.0/8\", \"::1/128\" ]; };\n"
    "policy: {\n learning_period = \"7d\";\n rules = (\n"
    "  { name = \"many-countries\"; applies_to = \"authenticated\";\n"
    "    metric = \"distinct_countries\"; window = \"10m\"; limit = 3;\n"
    "    action = \"tempfail\"; block_for = \"1h\"; },\n"
    "  { name = \"many-networks\"; applies_to = \"authenticated\";\n"
    "    metric = \"distinct_prefixes\"; window = \"1h\"; limit = 6;\n"
    "    action = \"quarantine\"; },\n"
    "  { name = \"many-addresses\"; applies_to = \"authenticated\";\n"
    "    metric = \"distinct_ips\"; window = \"1h\"; limit = 10;\n"
    "    action = \"quarantine\"; block_for = \"1h\"; },\n"
    "  { name = \"new-country\"; applies_to = \"authenticated\";\n"
    "    metric = \"new_country\"; action = \"tag\"; },\n"
    "  { name = \"impossible-travel\"; applies_to = \"authenticated\";\n"
    "    metric = \"travel_kmh\"; limit = 1000; action = \"quarantine\"; },\n"
    "  { name = \"user-recipients\"; applies_to = \"authenticated\";\n"
    "    metric = \"recipients\"; window = \"1h\"; limit = 1000;\n"
    "    action = \"tempfail\"; block_for = \"1h\"; },\n"
    "  { name = \"internal-burst\"; applies_to = \"internal\";\n"
    "    metric = \"messages\"; window = \"10m\"; limit = 100;\n"
    "    action = \"tempfail\"; block_for = \"1h\"; },\n"
    "  { name = \"one-ip-many-users\"; applies_to = \"any\";\n"
    "    metric = \"users_per_ip\"; window = \"1h\"; limit = 5;\n"
    "    action = \"reject\"; block_for = \"1d\"; }\n );\n"
    " overrides = (\n"
    "  { user = \"newsletter@example.org\"; rule = \"user-recipients\"; limit = 20000; },\n"
    "  { domain = \"example.org\"; countries = [ \"DE\", \"FR\" ]; },\n"
    "  { network = \"10.20.0.0/16\"; rule = \"internal-burst\"; limit = 1000; }\n );\n"
    " whitelist: { users = [ \"monitor@example.org\" ];\n"
    "  networks = [ \"192.0.2.0/28\" ]; };\n};\n";

/* One message of the replay. */
struct msg {
    uint32_t user;		/* login number, NO_LOGIN for none */
    uint32_t dt;		/* seconds after the start of the round */
    struct addr client;
    uint8_t rcpts;
};

struct bench {
    struct cfg *cfg;
    STORE *st;
    GEO *geo;
    unsigned caps;
    char dir[PATH_LEN];
    struct msg *msgs;
    uint32_t *ns;
    unsigned long verdicts[CFG_ACTION_COUNT], blocked;
};

/* rnd - xorshift64 */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* now_ns - monotonic nanoseconds */
static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* login_for - "user0000042@example.org": made on the spot, as a login
 * fresh from the MTA is */
static void login_for(char *buf, uint32_t u)
{
    memcpy(buf, "user0000000@example.org", sizeof("user0000000@example.org"));
    for (int i = 10; i >= 4; i--, u /= 10)
	buf[i] = (char) ('0' + u % 10);
}

/* ip_in_row - an address in a plan row: IPv4 host h (1..254), or in
 * IPv6 network n of the row's /48, host h */
static void ip_in_row(struct addr *a, unsigned row, unsigned n, unsigned h,
		      int v6)
{
    char text[64];

    if (v6 && row == ROW_NL)
	snprintf(text, sizeof(text), "2001:db8:a2:%x::%x", n, h);
    else if (v6)		/* the row's digits, read as hex */
	snprintf(text, sizeof(text), "2001:db8:%u:%x::%x", row, n, h);
    else if (row == ROW_NL)
	snprintf(text, sizeof(text), "198.51.100.%u", h);
    else
	snprintf(text, sizeof(text), "198.18.%u.%u", row, h);
    if (addr_parse(text, a) != 0)
	abort();
}

/* home_row - where an honest user lives: mostly Germany */
static unsigned home_row(uint32_t u)
{
    static const unsigned rows[10] = {
	ROW_DE, ROW_DE, ROW_DE, ROW_DE, ROW_DE, ROW_DE, ROW_FR, ROW_GB,
	ROW_NL, ROW_US,
    };

    return rows[u % 10];
}

/* honest_ip - home, office or mobile (one city), changing by the hour.
 * Mostly IPv6; one user in V4_EVERY has an IPv4 home address, shared
 * with a few others (the plan has one /24 per country). */
static void honest_ip(struct addr *a, uint32_t u, uint32_t t)
{
    unsigned row = home_row(u), n = u & 0xffff;

    switch ((t / HOUR_S + u) % 3) {
    case 0:
	if (u % V4_EVERY == 0)
	    ip_in_row(a, row, 0, 1 + (u / V4_EVERY) % V4_HONEST_HOSTS, 0);
	else
	    ip_in_row(a, row, n, 1, 1);
	break;
    case 1:
	ip_in_row(a, row, n, 2, 1);
	break;
    default:
	ip_in_row(a, row == ROW_DE ? ROW_DE_MOBILE : row, n, 3, 1);
    }
}

/* make_msg - one message of the mix */
static void make_msg(struct msg *m, uint32_t i, uint64_t *seed)
{
    uint64_t x = rnd(seed);
    unsigned pct = (unsigned) (x % PCT), row, h;

    m->dt = i / MSGS_PER_S;
    m->rcpts = (uint8_t) (1 + (x >> 8) % 3);
    if (pct < PCT_BOTNET) {	/* hosts the honest never use */
	m->user = (uint32_t) ((x >> 16) % VICTIMS);
	row = 1 + (unsigned) ((x >> 32) % ROWS_ABROAD);
	h = (unsigned) (x >> 40);
	if ((x >> 56) & 1)
	    ip_in_row(&m->client, row, BOT_V6_NET, h % 4096 + 1, 1);
	else
	    ip_in_row(&m->client, row, 0, V4_HONEST_HOSTS + 1
		      + h % (254 - V4_HONEST_HOSTS), 0);
    } else if (pct < PCT_BOTNET + PCT_INTERNAL) {
	h = (x >> 16) % PCT < PCT_INFECTED ? INFECTED_HOST
	    : (unsigned) ((x >> 24) % INTERNAL_HOSTS);
	m->user = NO_LOGIN;
	memset(&m->client, 0, sizeof(m->client));
	m->client.b[10] = m->client.b[11] = 0xff;
	m->client.b[12] = 10, m->client.b[13] = 1;
	m->client.b[14] = (uint8_t) (h >> 8), m->client.b[15] = (uint8_t) h;
    } else {
	m->user = VICTIMS + (uint32_t) ((x >> 16) % (MSG_USERS - VICTIMS));
	if ((x >> 40) % 1000 < PERMILLE_HOTEL)	/* a hotel in London */
	    ip_in_row(&m->client, ROW_GB, HOTEL_V6_NET, 1 + m->user % 4096, 1);
	else
	    honest_ip(&m->client, m->user, m->dt);
    }
}

/* transaction - MAIL, RCPT..., EOM as an MTA drives them */
static void transaction(const struct bench *b, struct rules_facts *f,
			unsigned rcpts, uint32_t now, struct rules_verdict *v)
{
    f->phase = RULES_PHASE_MAIL;
    rules_judge(b->cfg, b->st, f, now, v);
    if (rules_act_now(v, f->phase))
	return;
    for (unsigned r = 1; r <= rcpts; r++) {
	f->phase = RULES_PHASE_RCPT;
	f->rcpts = r;
	rules_judge(b->cfg, b->st, f, now, v);
	if (rules_act_now(v, f->phase))
	    return;
    }
    f->phase = RULES_PHASE_EOM;
    f->bytes = 4000u * rcpts;
    f->qid = "4ZbQ1x2Yz3";
    rules_judge(b->cfg, b->st, f, now, v);
}

/* judge_msg - one whole message: lookup and every phase */
static void judge_msg(const struct bench *b, const char *login,
		      const struct msg *m, uint32_t now, struct rules_verdict *v)
{
    struct rules_facts f;
    struct geo_info gi;

    memset(&f, 0, sizeof(f));
    f.login = login;
    f.client = m->client;
    (void) geo_lookup(b->geo, &f.client, &gi);
    rules_geo_facts(&gi, &f.geo);
    f.geo_caps = b->caps;
    transaction(b, &f, m->rcpts, now, v);
}

/* reference_msg - the same message's lookup and one state read only */
static void reference_msg(const struct bench *b, const char *login,
			  const struct msg *m, uint32_t now)
{
    static struct store_user u;
    static struct store_client c;
    struct geo_info gi;
    struct store_geo g;

    (void) geo_lookup(b->geo, &m->client, &gi);
    rules_geo_facts(&gi, &g);
    if (login != NULL)
	(void) store_user_get(b->st, login, now, &u);
    else
	(void) store_client_get(b->st, &m->client, now, &c);
}

/* prefill - every user from each of its addresses on PREFILL_DAYS days */
static void prefill(struct bench *b)
{
    struct rules_verdict v;
    struct msg m;
    char login[LOGIN_LEN];
    uint32_t t0 = T_START - (PREFILL_DAYS + 6) * DAY_S;

    memset(&m, 0, sizeof(m));
    m.rcpts = 1;
    for (uint32_t d = 0; d < PREFILL_DAYS; d++)
	for (uint32_t u = 0; u < MSG_USERS; u++)
	    for (uint32_t k = 0; k < 3; k++) {
		uint32_t t = t0 + d * DAY_S + k * HOUR_S + u % HOUR_S;

		m.user = u;
		honest_ip(&m.client, u, t);
		login_for(login, u);
		judge_msg(b, login, &m, t, &v);
	    }
}

/* cmp_u32 - qsort order */
static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;

    return x < y ? -1 : x > y;
}

/* round_run - one round of the replay: rate and median; reference or not */
static void round_run(struct bench *b, uint32_t t0, int reference,
		      double *rate, uint32_t *median)
{
    struct rules_verdict v;
    char login[LOGIN_LEN];
    uint64_t start = now_ns();

    for (uint32_t i = 0; i < MSGS; i++) {
	const struct msg *m = &b->msgs[i];
	const char *l = m->user == NO_LOGIN ? NULL : login;
	uint64_t a;

	if (l != NULL)
	    login_for(login, m->user);
	a = now_ns();
	if (reference)
	    reference_msg(b, l, m, t0 + m->dt);
	else
	    judge_msg(b, l, m, t0 + m->dt, &v);
	b->ns[i] = (uint32_t) (now_ns() - a);
	if (!reference) {
	    b->verdicts[v.action]++;
	    b->blocked += v.from_block;
	}
    }
    *rate = MSGS / ((double) (now_ns() - start) / 1e9);
    qsort(b->ns, MSGS, sizeof(b->ns[0]), cmp_u32);
    *median = b->ns[MSGS / 2];
}

/* make_geo - the test databases into a fresh directory */
static int make_geo(struct bench *b)
{
    static const char script[] = "tests/geoip/make-test-db.pl";
    char city[PATH_LEN + 32], country[PATH_LEN + 32], asn[PATH_LEN + 32];
    struct geo_paths p = {city, country, asn};
    char err[ERR_LEN];
    unsigned missing = 0;
    int status;
    pid_t pid;

    if (access(script, R_OK) != 0) {
	fprintf(stderr, "bench_policy: %s not found: run from the "
		"repository root\n", script);
	return -1;
    }
    snprintf(b->dir, sizeof(b->dir), "/tmp/bench_policy.XXXXXX");
    if (mkdtemp(b->dir) == NULL || (pid = fork()) < 0)
	return -1;
    if (pid == 0) {
	if (freopen("/dev/null", "w", stdout) == NULL)
	    _exit(127);
	execlp("perl", "perl", script, b->dir, (char *) NULL);
	_exit(127);
    }
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status)
	|| WEXITSTATUS(status) != 0)
	return -1;
    snprintf(city, sizeof(city), "%s/GeoLite2-City.mmdb", b->dir);
    snprintf(country, sizeof(country), "%s/GeoLite2-Country.mmdb", b->dir);
    snprintf(asn, sizeof(asn), "%s/GeoLite2-ASN.mmdb", b->dir);
    if (geo_open(&p, &b->geo, &missing, err, sizeof(err)) != GEO_OK || missing) {
	fprintf(stderr, "bench_policy: GeoIP: %s\n", err);
	return -1;
    }
    b->caps = geo_caps(b->geo);
    unlink(city), unlink(country), unlink(asn);
    return 0;
}

/* make_cfg_store - the configuration and an empty store (on tmpfs) */
static int make_cfg_store(struct bench *b)
{
    char cpath[PATH_LEN + 32], spath[PATH_LEN + 32], err[ERR_LEN];
    struct store_params sp;
    FILE *f;

    snprintf(cpath, sizeof(cpath), "%s/relayguard.conf", b->dir);
    if (access("/dev/shm", W_OK) == 0)
	snprintf(spath, sizeof(spath), "/dev/shm/bench_policy.%ld",
		 (long) getpid());
    else
	snprintf(spath, sizeof(spath), "%s/state", b->dir);
    if ((f = fopen(cpath, "w")) == NULL)
	return -1;
    fputs(conf_text, f);
    fclose(f);
    b->cfg = cfg_load(cpath, err, sizeof(err));
    unlink(cpath);
    if (b->cfg == NULL) {
	fprintf(stderr, "bench_policy: configuration: %s\n", err);
	return -1;
    }
    store_params_from_cfg(&b->cfg->state, STORE_CREATE, 0600, &sp);
    sp.path = spath;
    unlink(spath);
    if (store_open(&sp, &b->st, err, sizeof(err)) != STORE_OK) {
	fprintf(stderr, "bench_policy: store: %s\n", err);
	return -1;
    }
    unlink(spath);
    return 0;
}

/* report_mix - what the replay decided, on stderr */
static void report_mix(const struct bench *b)
{
    unsigned long n = 0;

    for (int a = 0; a < CFG_ACTION_COUNT; a++)
	n += b->verdicts[a];
    fprintf(stderr, "bench_policy: %lu messages:", n);
    for (int a = 0; a < CFG_ACTION_COUNT; a++)
	fprintf(stderr, " %s %.2f%%", cfg_action_name((enum cfg_action) a),
		100.0 * (double) b->verdicts[a] / (double) n);
    fprintf(stderr, "; from blocks %.2f%%\n", 100.0 * (double) b->blocked
	    / (double) n);
}

int main(void)
{
    struct bench b;
    uint64_t seed = 0x9e3779b97f4a7c15u;
    double rate, best = 0, ref_best = 0;
    uint32_t med, best_med = UINT32_MAX, ref_med = UINT32_MAX;
    uint32_t span = MSGS / MSGS_PER_S + 1;

    memset(&b, 0, sizeof(b));
    b.msgs = calloc(MSGS, sizeof(*b.msgs));
    b.ns = calloc(MSGS, sizeof(*b.ns));
    if (b.msgs == NULL || b.ns == NULL || make_geo(&b) != 0
	|| make_cfg_store(&b) != 0) {
	fprintf(stderr, "bench_policy: setup failed\n");
	return 1;
    }
    rmdir(b.dir);
    for (uint32_t i = 0; i < MSGS; i++)
	make_msg(&b.msgs[i], i, &seed);
    prefill(&b);
    round_run(&b, T_START - span, 0, &rate, &med);	/* warm-up */
    memset(b.verdicts, 0, sizeof(b.verdicts));
    b.blocked = 0;
    for (uint32_t r = 0; r < ROUNDS; r++) {
	round_run(&b, T_START + r * span, 0, &rate, &med);
	best = rate > best ? rate : best;
	best_med = med < best_med ? med : best_med;
	round_run(&b, T_START + r * span, 1, &rate, &med);
	ref_best = rate > ref_best ? rate : ref_best;
	ref_med = med < ref_med ? med : ref_med;
    }
    report_mix(&b);
    printf("policy: %.0f verdicts/s, median %u ns\n", best, best_med);
    printf("policy reference: %.0f messages/s, median %u ns (geo_lookup + "
	   "store get only; engine/reference %.1fx)\n", ref_best, ref_med,
	   (double) best_med / (double) ref_med);
    store_close(b.st);
    geo_close(b.geo);
    cfg_free(b.cfg);
    free(b.msgs);
    free(b.ns);
    return 0;
}
