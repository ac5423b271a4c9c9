/*
 * check_rules_fail - unit tests of the policy engine (policy/rules.c)
 * when the store fails under it: a refusal by milter.on_error is no
 * decision of the policy, so it notes nothing a rule's refusal would.
 *
 * The failure is real: a child process holds the client table's stripe
 * of the client address (store_debug_lock_stripe, as check_store_shm.c's
 * holders do) while the parent judges a MAIL, so the login's update
 * succeeds and the client's times out (lock_timeout 10ms), and the
 * engine answers with on_error (tempfail). The child lets go when told
 * and dies with the test. The helpers are rules_test.h's; every test
 * runs forked.
 */
#include <check.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cfg.h"
#include "metrics.h"
#include "rules.h"
#include "store.h"
#include "store_debug.h"
#include "check_main.h"
#include "rules_test.h"

/* A refusal on error, short lock waits, a login that learns for a day
 * (then a network used on one day is not yet familiar: familiar_days 2)
 * and a rule that refuses the second message of an hour (the control:
 * a policy refusal at a stranger's network is noted). */
#define FAIL_CFG "state: { max_users = 1000; max_clients = 1000; " \
    "ips_per_user = 16; lock_timeout = \"10ms\"; };\n" \
    "milter: { on_error = \"tempfail\"; };\n" \
    "policy: { learning_period = \"1d\"; rules = (\n" \
    " { name = \"busy\"; applies_to = \"authenticated\"; " \
    "metric = \"messages\"; window = \"1h\"; limit = 1; " \
    "action = \"tempfail\"; }\n); };\n"

#define HOME_IP "192.0.2.10"
#define HOME_AS 64500u
#define AWAY_IP "198.51.100.7"
#define AWAY_AS 64501u

/* The login's home line (used on its first day only), and a stranger's
 * network; the day after, past the login's learning. */
static const struct tx home = {"max", HOME_IP, NULL,
    {"DE", HOME_AS, 0, 0, 0, 0}, ALL_CAPS, 1, 1000};
static const struct tx away = {"max", AWAY_IP, NULL,
    {"FR", AWAY_AS, 0, 0, 0, 0}, ALL_CAPS, 1, 1000};
#define DAY2 (T0 + DAY + HOUR)

/* struct holder - a child holding one stripe lock of the client table */
struct holder {
    pid_t pid;
    int go;			/* write a byte: unlock and exit */
};

/* hold_key - fork a child that locks the client table's stripe of the
 * key a in the store (the mapping is shared with the parent) until told
 * to let go */
static void hold_key(const struct env *e, const struct addr *a,
		     struct holder *h)
{
    unsigned s;
    int ready[2], go[2];
    char c = 0;

    s = store_debug_client_stripe(e->st, a);
    ck_assert_int_eq(pipe(ready), 0);
    ck_assert_int_eq(pipe(go), 0);
    ck_assert_int_ge(h->pid = fork(), 0);
    if (h->pid == 0) {
	(void) prctl(PR_SET_PDEATHSIG, SIGKILL);	/* never outlive the test */
	close(ready[0]), close(go[1]);
	if (store_debug_lock_stripe(e->st, STORE_DEBUG_CLIENTS, s) != STORE_OK)
	    _exit(2);
	if (write(ready[1], "x", 1) != 1)
	    _exit(3);
	if (read(go[0], &c, 1) != 1)
	    _exit(4);
	store_debug_unlock_stripe(e->st, STORE_DEBUG_CLIENTS, s);
	_exit(0);
    }
    close(ready[1]), close(go[0]);
    ck_assert_int_eq(read(ready[0], &c, 1), 1);
    close(ready[0]);
    h->go = go[1];
}

/* hold_client - hold_key for the client address ip */
static void hold_client(const struct env *e, const char *ip,
			struct holder *h)
{
    struct addr a;

    ck_assert_int_eq(addr_parse(ip, &a), 0);
    hold_key(e, &a, h);
}

/* release - tell the holder to let go and reap it */
static void release(struct holder *h)
{
    int status;

    ck_assert_int_eq(write(h->go, "x", 1), 1);
    close(h->go);
    ck_assert_int_eq(waitpid(h->pid, &status, 0), h->pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* phase_fails - one phase judged while the client's stripe is held: the
 * store's status, the verdict in v */
static int phase_fails(const struct env *e, const struct rules_facts *f,
		       uint32_t now, struct rules_verdict *v)
{
    struct holder h;
    char ip[64];
    int s;

    ck_assert_ptr_nonnull(addr_format(&f->client, ip, sizeof(ip)));
    hold_client(e, ip, &h);
    s = rules_judge(e->cfg, e->st, f, now, v);
    release(&h);
    return s;
}

/* stopped_at - is the login's refusal note at ip's network on day */
static bool stopped_at(const struct env *e, const char *login,
		       const char *ip, uint32_t asn, uint32_t now)
{
    struct store_user u;
    struct addr a;

    ck_assert_int_eq(addr_parse(ip, &a), 0);
    ck_assert_int_eq(store_user_get(e->st, login, now, &u), STORE_OK);
    return store_user_stopped_since(&u, store_net_key(&a, asn),
				    now / STORE_DAY_S);
}

/* fail_on_day2 - the login's first day at its home line, then on the
 * day after a transaction of t whose phase ph (MAIL or RCPT) cannot
 * update the client's entry: refused by on_error (tempfail, no rule) */
static void fail_on_day2(struct env *e, const struct tx *t,
			 enum rules_phase ph, struct rules_verdict *v)
{
    struct rules_facts f;

    env_open(e, FAIL_CFG);
    run_tx(e, &home, T0, v);
    expect(e, v, CFG_ACTION_ACCEPT, NULL, false);
    facts_for(t, &f);
    if (ph == RULES_PHASE_RCPT) {
	ck_assert_int_eq(rules_judge(e->cfg, e->st, &f, DAY2, v), STORE_OK);
	expect(e, v, CFG_ACTION_ACCEPT, NULL, false);
	f.phase = RULES_PHASE_RCPT, f.rcpts = 1;
    }
    ck_assert_int_eq(phase_fails(e, &f, DAY2, v), STORE_TIMEOUT);
    expect(e, v, CFG_ACTION_TEMPFAIL, NULL, false);
    ck_assert_int_eq(v->status, STORE_TIMEOUT);
}

/* A login at its home line on the day after its first (learned, the
 * line not yet familiar: one day of two): the client's entry cannot be
 * updated at MAIL, so on_error refuses it. The refusal is the store's,
 * not the policy's: the home network is not noted as a place the login
 * was stopped at (the note would make the network's day not count,
 * store_stopday.c). A rule's refusal at a stranger's network, the same
 * day, still is. */
START_TEST(test_store_failure_notes_no_stop)
{
    struct env e;
    struct rules_verdict v;

    fail_on_day2(&e, &home, RULES_PHASE_MAIL, &v);
    ck_assert_msg(!stopped_at(&e, "max", HOME_IP, HOME_AS, DAY2),
		  "a store failure noted a stop at the home network");
    /* the control: the rule refuses the stranger's second message */
    run_tx(&e, &away, DAY2 + MIN, &v);
    expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    run_tx(&e, &away, DAY2 + 2 * MIN, &v);
    expect(&e, &v, CFG_ACTION_TEMPFAIL, "busy", false);
    ck_assert(stopped_at(&e, "max", AWAY_IP, AWAY_AS, DAY2 + 2 * MIN));
    ck_assert(!stopped_at(&e, "max", HOME_IP, HOME_AS, DAY2 + 2 * MIN));
    env_close(&e);
}
END_TEST

/* The same at RCPT: the message was let through at MAIL from a
 * stranger's network (unfamiliar: a rule's refusal there is noted); the
 * client's entry cannot count the recipient, on_error refuses it, and
 * nothing is noted. */
START_TEST(test_rcpt_failure_notes_no_stop)
{
    struct env e;
    struct rules_verdict v;

    fail_on_day2(&e, &away, RULES_PHASE_RCPT, &v);
    ck_assert(!v.known);
    ck_assert_msg(!stopped_at(&e, "max", AWAY_IP, AWAY_AS, DAY2),
		  "a store failure at RCPT noted a stop");
    env_close(&e);
}
END_TEST

/* The first country left (rules_site.c rules_first_left): a site place
 * is site_logins logins on site_days days; the login "max" first used
 * in Germany a month ago, three days in France since, now at its fine
 * home line in Germany. */
#define FIRST_CFG "state: { max_users = 1000; max_clients = 1000; " \
    "ips_per_user = 16; lock_timeout = \"10ms\"; };\n" \
    "policy: { site_logins = 2; site_days = 2; coarse_km = 100; " \
    "first_home = true; " \
    "rules = (\n" \
    " { name = \"busy\"; applies_to = \"authenticated\"; " \
    "metric = \"messages\"; window = \"1h\"; limit = 1; " \
    "action = \"tempfail\"; }\n); };\n"
#define FIRST_NOW (T0 + 2 * DAY)

/* vouch_cc - logins (a string of one-letter logins) vouch for the
 * country cc on the two days before FIRST_NOW */
static void vouch_cc(const struct env *e, const char *cc, const char *logins)
{
    for (const char *l = logins; *l != '\0'; l++) {
	char login[2] = {*l, '\0'};

	for (uint32_t d = 0; d < 2; d++)
	    ck_assert_int_eq(store_site_place(e->st, STORE_SITE_CC,
					      store_site_cc(cc), login, true,
					      T0 + d * DAY, NULL), STORE_OK);
    }
}

/* site_rule - a MAIL-time judgement of the site's places (rules_site.c) */
typedef void site_rule(const struct cfg *cfg, STORE *st,
		       const struct metrics_ctx *mc, struct rules_verdict *v);

/* country - the login's i-th country cc: days days, first and last
 * seen that many days before FIRST_NOW's */
static void country(struct store_user *u, size_t i, const char *cc,
		    uint16_t days, uint16_t first_ago, uint16_t last_ago)
{
    uint16_t today = FIRST_NOW / STORE_DAY_S;

    memcpy(u->countries[i].cc, cc, 3);
    u->countries[i].days = days;
    u->countries[i].first_day = today - first_ago;
    u->countries[i].last_day = today - last_ago;
}

/* germany_france - max's record afresh: Germany on 30 days, its first
 * de_ago days before FIRST_NOW's and its last today; France on fr_days,
 * first and last fr_first and fr_last days before */
static void germany_france(struct store_user *u, uint16_t de_ago,
			   uint16_t fr_days, uint16_t fr_first, uint16_t fr_last)
{
    memset(u, 0, sizeof(*u));
    country(u, 0, "DE", 30, de_ago, 0);
    country(u, 1, "FR", fr_days, fr_first, fr_last);
}

/* at_home - rule for max (u) at its fine home line in Germany at
 * FIRST_NOW, into v; with held, while a child holds the stripe of that
 * country's site place (other's, the one the rule reads too, on another
 * stripe) */
static void at_home(const struct env *e, const struct store_user *u,
		    site_rule *rule, const char *held, const char *other,
		    struct rules_verdict *v)
{
    struct rules_facts f;
    struct metrics_ctx mc;
    struct holder h;
    struct addr key, o;

    memset(&f, 0, sizeof(f));
    f.phase = RULES_PHASE_MAIL, f.login = "max";
    ck_assert_int_eq(addr_parse(HOME_IP, &f.client), 0);
    f.geo = (struct store_geo) {"DE", HOME_AS, 5252, 1341, 20, 1};
    f.geo_caps = ALL_CAPS;
    memset(&mc, 0, sizeof(mc));
    mc.cfg = e->cfg, mc.f = &f, mc.now = FIRST_NOW, mc.user = u;
    mc.cls = RULES_CLASS_AUTHENTICATED;
    rules_verdict_init(v);
    if (held != NULL) {
	store_site_place_key(STORE_SITE_CC, store_site_cc(held), &key);
	store_site_place_key(STORE_SITE_CC, store_site_cc(other), &o);
	ck_assert_uint_ne(store_debug_client_stripe(e->st, &key),
			  store_debug_client_stripe(e->st, &o));
	hold_key(e, &key, &h);
    }
    rule(e->cfg, e->st, &mc, v);
    if (held != NULL)
	release(&h);
}

/* env_open_apart - env_open, again until Germany's and France's site
 * places hash to different stripes: the store's hash is keyed afresh
 * for each store file, so one store in the stripe count has them on one
 * stripe, and holding one would hold the other (a test that failed
 * once in about that many runs) */
static void env_open_apart(struct env *e, const char *text)
{
    struct addr de, fr;

    for (int i = 0; i < 100; i++) {
	env_open(e, text);
	store_site_place_key(STORE_SITE_CC, store_site_cc("DE"), &de);
	store_site_place_key(STORE_SITE_CC, store_site_cc("FR"), &fr);
	if (store_debug_client_stripe(e->st, &de)
	    != store_debug_client_stripe(e->st, &fr))
	    return;
	env_close(e);
    }
    ck_abort_msg("Germany and France on one stripe in 100 stores");
}

/* first_left - rules_first_left for max at home in Germany; with hold,
 * while a child holds the stripe of Germany's site place */
static bool first_left(const struct env *e, bool hold)
{
    struct store_user u;
    struct rules_verdict v;

    germany_france(&u, 30, 3, 10, 8);
    at_home(e, &u, rules_first_left, hold ? "DE" : NULL, "FR", &v);
    return v.first_left;
}

/* Germany vouched for by three of the site's people, France by two (a
 * site place too): Germany is the site's, max at home. While Germany's
 * entry cannot be read, the read is no answer: max stays at home. On the
 * merge h-merge27 the failure read as 0 vouchers and France's 2
 * outvoted it (max's home line then judged as a line abroad). With two
 * more for France, France outvotes Germany (the control). */
START_TEST(test_first_left_store_failure)
{
    struct env e;

    env_open_apart(&e, FIRST_CFG);
    vouch_cc(&e, "DE", "abc");
    vouch_cc(&e, "FR", "de");
    ck_assert(!first_left(&e, false));
    ck_assert_msg(!first_left(&e, true),
		  "a store failure made the first country abroad");
    vouch_cc(&e, "FR", "fg");
    ck_assert(first_left(&e, false));
    env_close(&e);
}
END_TEST

/* A site that vouched for few countries: nobody for Germany, one
 * colleague for France, no site place (site_logins 2). France is not the
 * site's: max's first country stays its home (h-merge27: 1 > 0, left).
 * A second colleague makes France a site place (the control). */
START_TEST(test_first_left_few_vouchers)
{
    struct env e;

    env_open(&e, FIRST_CFG);
    vouch_cc(&e, "FR", "d");
    ck_assert_msg(!first_left(&e, false),
		  "one vouch for a country made the first country abroad");
    vouch_cc(&e, "FR", "e");
    ck_assert(first_left(&e, false));
    env_close(&e);
}
END_TEST

/* home_back - rules_home_back for max back home in Germany from France
 * (left 2 days ago): its new fine line first seen a minute ago, its
 * phone (no radius) in Germany before the line and since the stay;
 * with hold, while a child holds the stripe of France's site place */
static bool home_back(const struct env *e, bool hold)
{
    struct store_user u;
    struct rules_verdict v;

    germany_france(&u, 40, 5, 7, 2);
    u.nips = 2;
    ck_assert_int_eq(addr_parse(HOME_IP, &u.ips[0].ip), 0);
    u.ips[0].first_seen = u.ips[0].last_seen = FIRST_NOW - MIN;
    u.ips[0].asn = HOME_AS, u.ips[0].count = 1;
    u.ips[0].lat_c = 5252, u.ips[0].lon_c = 1341;
    memcpy(u.ips[0].cc, "DE", 2);
    ck_assert_int_eq(addr_parse("198.51.100.50", &u.ips[1].ip), 0);
    u.ips[1].first_seen = FIRST_NOW - 20 * DAY;
    u.ips[1].last_seen = FIRST_NOW - HOUR;
    u.ips[1].asn = AWAY_AS, u.ips[1].count = 9;
    u.ips[1].lat_c = STORE_NO_LOC;
    memcpy(u.ips[1].cc, "DE", 2);
    at_home(e, &u, rules_home_back, hold ? "FR" : NULL, "DE", &v);
    return v.home_back;
}

/* The controls: Germany vouched for by two of the site's people, France
 * by one: the line is a first home; by two, which way is home the site
 * does not say (France vetoes it). While France's entry cannot be read,
 * the read is no answer: no first home. On the merge h-merge27 (and main
 * 9593d5a) the failure read as 0 vouchers, vetoed nothing, and the line
 * was a first home. */
START_TEST(test_home_back_store_failure)
{
    struct env e;

    env_open_apart(&e, FIRST_CFG);
    vouch_cc(&e, "DE", "ab");
    vouch_cc(&e, "FR", "c");
    ck_assert(home_back(&e, false));
    vouch_cc(&e, "FR", "d");
    ck_assert(!home_back(&e, false));
    ck_assert_msg(!home_back(&e, true),
		  "a store failure made the line a first home");
    env_close(&e);
}
END_TEST

/* rules_fail_suite - the test cases */
static Suite *rules_fail_suite(void)
{
    const TTest *const fail[] = {
	test_store_failure_notes_no_stop, test_rcpt_failure_notes_no_stop,
	test_first_left_store_failure, test_first_left_few_vouchers,
	test_home_back_store_failure,
    };
    Suite *s = suite_create("rules_fail");

    add(s, "store_failure", fail, sizeof(fail) / sizeof(fail[0]));
    return s;
}

int main(void)
{
    return check_run(rules_fail_suite());
}
